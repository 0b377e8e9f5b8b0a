//! The behaviours both backends must show, as one test per behaviour,
//! instantiated per backend by `backend_tests!`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use platform::{Access, Registers, Trap, UsageKind};

use crate::common::{Asm, Backend, CODE, DATA, Harness, UNMAPPED};

/// `si_code` values of `SIGSEGV` (`<asm-generic/siginfo.h>`).
const SEGV_MAPERR: i32 = 1;
const SEGV_ACCERR: i32 = 2;

/// Syscall numbers arrive in the registers, the sentry's return value
/// arrives in the program, and what the program stores is visible to the
/// sentry through the memory file.
pub fn syscall_arguments_and_return_value(backend: Backend) {
    let prog = Asm::default()
        .mov_imm("rdi", 0x1111_2222_3333_4444)
        .mov_imm("rsi", 2)
        .mov_imm("rdx", 3)
        .mov_imm("r10", 4)
        .mov_imm("r8", 5)
        .mov_imm("r9", u64::MAX)
        .sys(libc::SYS_getppid)
        .mov_imm("rbx", DATA)
        .store_rax_at_rbx()
        .sys(libc::SYS_exit);
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);

    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
    assert_eq!(regs.syscall_number(), libc::SYS_getppid as u64);
    assert_eq!(
        regs.syscall_args(),
        [0x1111_2222_3333_4444, 2, 3, 4, 5, u64::MAX]
    );
    // The trap leaves the instruction pointer after `syscall` (which ends
    // 2 bytes after the `mov rax, imm64` that precedes it).
    let after_syscall = CODE + prog.0.len() as u64 - 10 - 3 - 12;
    assert_eq!(regs.instruction_pointer(), after_syscall);
    regs.set_syscall_return(0xdead_beef);
    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
    assert_eq!(regs.syscall_number(), libc::SYS_exit as u64);
    assert_eq!(h.data_word(0), 0xdead_beef);
}

/// A sentry that takes its time to answer (long enough for a waiting stub
/// to stop polling and sleep) still hands the thread back, with its answer.
pub fn slow_sentry_answer_reaches_the_program(backend: Backend) {
    let prog = Asm::default()
        .sys(libc::SYS_getppid)
        .mov_imm("rbx", DATA)
        .store_rax_at_rbx()
        .sys(libc::SYS_getppid)
        .mov_imm("rbx", DATA + 8)
        .store_rax_at_rbx()
        .sys(libc::SYS_exit);
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);

    for answer in [0x51_0e, 0xca_11] {
        assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
        assert_eq!(regs.syscall_number(), libc::SYS_getppid as u64);
        std::thread::sleep(Duration::from_millis(100));
        regs.set_syscall_return(answer);
    }
    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
    assert_eq!(regs.syscall_number(), libc::SYS_exit as u64);
    assert_eq!((h.data_word(0), h.data_word(8)), (0x51_0e, 0xca_11));
}

/// What the sentry writes through its mapping, the program reads.
pub fn sentry_writes_are_visible_to_the_program(backend: Backend) {
    let prog = Asm::default()
        .mov_imm("rbx", DATA + 8)
        .load_rax_from_rbx()
        .mov_rdi_rax()
        .sys(libc::SYS_exit);
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    h.mf.map_internal(h.data)
        .unwrap()
        .write(8, &0x5eed_f00d_u64.to_le_bytes())
        .unwrap();
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
    assert_eq!(regs.syscall_args()[0], 0x5eed_f00d);
}

/// A load from unmapped memory is a page fault at that address; after the
/// sentry maps a page there, the program continues.
pub fn fault_on_unmapped_memory_reports_the_address(backend: Backend) {
    let prog = Asm::default()
        .mov_imm("rbx", UNMAPPED + 0x18)
        .load_rax_from_rbx()
        .mov_rdi_rax()
        .sys(libc::SYS_exit);
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    let Trap::PageFault { addr, access, info } = ctx.switch(&*h.mm, &mut regs).unwrap() else {
        panic!("expected a page fault");
    };
    assert_eq!(addr, UNMAPPED + 0x18);
    assert_eq!(access, Access::READ);
    assert_eq!(info.signo, libc::SIGSEGV);
    assert_eq!(info.code, SEGV_MAPERR);
    assert_eq!(regs.instruction_pointer(), CODE + 10);

    let page = h.mf.allocate(4096, UsageKind::Anonymous).unwrap();
    h.mf.map_internal(page)
        .unwrap()
        .write(0x18, &77u64.to_le_bytes())
        .unwrap();
    h.mm.map_file(UNMAPPED, &h.mf, page, Access::READ, false)
        .unwrap();
    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
    assert_eq!(regs.syscall_args()[0], 77);
}

/// A store to a read-only page is a write fault.
pub fn write_to_read_only_page_faults(backend: Backend) {
    let prog = Asm::default()
        .mov_imm("rbx", CODE + 0x800)
        .store_rax_at_rbx()
        .sys(libc::SYS_exit);
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    let Trap::PageFault { addr, access, info } = ctx.switch(&*h.mm, &mut regs).unwrap() else {
        panic!("expected a page fault");
    };
    assert_eq!(addr, CODE + 0x800);
    assert_eq!(info.code, SEGV_ACCERR);
    assert_eq!(access, Access::WRITE);
}

/// Mapping a page read-only in the middle of a writable range makes stores
/// there write faults, and leaves its neighbours writable.
pub fn remapping_part_of_a_range_changes_its_permissions(backend: Backend) {
    let prog = Asm::default()
        .mov_imm("rax", 5)
        .mov_imm("rbx", UNMAPPED + 2 * 4096 + 8)
        .store_rax_at_rbx()
        .mov_imm("rbx", UNMAPPED + 4096 + 8)
        .store_rax_at_rbx()
        .sys(libc::SYS_exit);
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let range = h.mf.allocate(3 * 4096, UsageKind::Anonymous).unwrap();
    h.mm.map_file(UNMAPPED, &h.mf, range, Access::READ_WRITE, false)
        .unwrap();
    let middle = platform::FileRange::new(range.start + 4096, range.start + 2 * 4096);
    h.mm.map_file(UNMAPPED + 4096, &h.mf, middle, Access::READ, false)
        .unwrap();
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    let Trap::PageFault { addr, access, .. } = ctx.switch(&*h.mm, &mut regs).unwrap() else {
        panic!("expected a page fault");
    };
    assert_eq!((addr, access), (UNMAPPED + 4096 + 8, Access::WRITE));
    let mut b = [0; 8];
    h.mf.map_internal(range)
        .unwrap()
        .read(2 * 4096 + 8, &mut b)
        .unwrap();
    assert_eq!(u64::from_le_bytes(b), 5);
}

/// After `unmap`, the program faults where it used to read.
pub fn unmap_removes_the_mapping(backend: Backend) {
    let prog = Asm::default()
        .mov_imm("rbx", DATA)
        .load_rax_from_rbx()
        .sys(libc::SYS_exit);
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    h.mm.unmap(DATA, 4096).unwrap();
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    assert!(matches!(
        ctx.switch(&*h.mm, &mut regs).unwrap(),
        Trap::PageFault { addr: DATA, .. }
    ));
}

/// An invalid instruction is a signal, not a fault.
pub fn invalid_instruction_is_sigill(backend: Backend) {
    let prog = Asm::default().ud2();
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    let Trap::Signal(info) = ctx.switch(&*h.mm, &mut regs).unwrap() else {
        panic!("expected a signal")
    };
    assert_eq!(info.signo, libc::SIGILL);
    assert_eq!(regs.instruction_pointer(), CODE);
}

/// General registers, the thread pointer and vector registers set by the
/// sentry reach the program and come back unchanged.
pub fn register_state_round_trips(backend: Backend) {
    let prog = Asm::default().syscall().syscall();
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    regs.general.rax = 39;
    regs.general.rbx = 0xb0b0;
    regs.general.r12 = 0x1212;
    regs.general.r15 = 0x1515;
    regs.general.rbp = 0xbbbb;
    regs.set_stack_pointer(0x7000_0000);
    regs.set_thread_pointer(0x1234_5000);
    regs.general.gs_base = 0x6789_0000;
    // xmm0 lives at offset 160 of the FXSAVE area.
    regs.fp_mut()[160..176].copy_from_slice(&[0xa5; 16]);
    let sent = regs.clone();
    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
    assert_eq!(regs.general.rbx, 0xb0b0);
    assert_eq!(regs.general.r12, 0x1212);
    assert_eq!(regs.general.r15, 0x1515);
    assert_eq!(regs.general.rbp, 0xbbbb);
    assert_eq!(regs.stack_pointer(), 0x7000_0000);
    assert_eq!(regs.thread_pointer(), 0x1234_5000);
    assert_eq!(regs.general.gs_base, 0x6789_0000);
    assert_eq!(&regs.fp()[160..176], &sent.fp()[160..176]);
    // The sentry changes a vector register; the program keeps it.
    regs.fp_mut()[176..192].copy_from_slice(&[0x3c; 16]);
    regs.set_thread_pointer(0x2222_0000);
    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
    assert_eq!(&regs.fp()[176..192], &[0x3c; 16]);
    assert_eq!(regs.thread_pointer(), 0x2222_0000);
}

/// `interrupt` from another thread stops a busy loop.
pub fn interrupt_stops_a_busy_loop(backend: Backend) {
    let Some(h) = Harness::new(backend, &Asm::default().spin()) else {
        return;
    };
    let mut ctx = h.platform.new_context().unwrap();
    let interrupter = ctx.interrupter();
    let done = Arc::new(AtomicBool::new(false));
    let kicker = {
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
                interrupter.interrupt();
            }
        })
    };
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    let trap = ctx.switch(&*h.mm, &mut regs).unwrap();
    done.store(true, Ordering::SeqCst);
    kicker.join().unwrap();
    assert_eq!(trap, Trap::Interrupted);
    assert_eq!(regs.instruction_pointer(), CODE);
}

/// `interrupt` works even when the sentry's threads block every signal (as
/// a sentry that handles signals with `signalfd` does): stubs do not keep
/// the mask of the thread that created them.
pub fn interrupt_works_when_the_sentry_blocks_signals(backend: Backend) {
    std::thread::spawn(move || {
        // SAFETY: `set` is a live sigset_t; blocking signals in this thread
        // only affects this thread and those it creates.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut set);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        interrupt_stops_a_busy_loop(backend);
    })
    .join()
    .unwrap();
}

/// An interrupt that arrives between switches makes the next switch return
/// at once.
pub fn interrupt_before_switch_is_not_lost(backend: Backend) {
    let Some(h) = Harness::new(backend, &Asm::default().spin()) else {
        return;
    };
    let mut ctx = h.platform.new_context().unwrap();
    ctx.interrupter().interrupt();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Interrupted);
}

/// Many address spaces and contexts, on several threads, live at once; a
/// context runs in several address spaces.
pub fn many_address_spaces_and_contexts(backend: Backend) {
    let prog = Asm::default()
        .sys(libc::SYS_getppid)
        .mov_imm("rbx", DATA)
        .store_rax_at_rbx()
        .sys(libc::SYS_exit);
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let h = Arc::new(h);
    let spaces: Arc<Vec<_>> = Arc::new(
        (0..4)
            .map(|_| {
                let mm = h.platform.new_address_space().unwrap();
                let data = h.mf.allocate(4096, UsageKind::Anonymous).unwrap();
                mm.map_file(CODE, &h.mf, h.code, Access::READ_EXECUTE, false)
                    .unwrap();
                mm.map_file(DATA, &h.mf, data, Access::READ_WRITE, false)
                    .unwrap();
                (mm, data)
            })
            .collect(),
    );
    let threads: Vec<_> = (0..3u64)
        .map(|t| {
            let h = h.clone();
            let spaces = spaces.clone();
            std::thread::spawn(move || {
                let mut ctx = h.platform.new_context().unwrap();
                for round in 0..3u64 {
                    for (i, (mm, _)) in spaces.iter().enumerate() {
                        let mut regs = Registers::new();
                        regs.set_instruction_pointer(CODE);
                        assert_eq!(ctx.switch(&**mm, &mut regs).unwrap(), Trap::Syscall);
                        regs.set_syscall_return((t * 100 + round * 10 + i as u64) as i64);
                        assert_eq!(ctx.switch(&**mm, &mut regs).unwrap(), Trap::Syscall);
                        assert_eq!(regs.syscall_number(), libc::SYS_exit as u64);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Every space's data page holds a value some thread returned there.
    for (i, (_, data)) in spaces.iter().enumerate() {
        let mut b = [0; 8];
        h.mf.map_internal(*data).unwrap().read(0, &mut b).unwrap();
        assert_eq!(u64::from_le_bytes(b) % 10, i as u64);
    }
}

/// An address space from nowhere else is refused.
pub fn mapping_outside_the_user_range_is_einval(backend: Backend) {
    let Some(h) = Harness::new(backend, &Asm::default().spin()) else {
        return;
    };
    let max = h.platform.max_user_address();
    let r = h.mm.map_file(max, &h.mf, h.data, Access::READ, false);
    assert_eq!(r, Err(abi_linux::Errno::EINVAL));
    let r = h.mm.map_file(DATA + 1, &h.mf, h.data, Access::READ, false);
    assert_eq!(r, Err(abi_linux::Errno::EINVAL));
}

/// Mapping with `precommit` makes the host commit the pages at once (the
/// kernel's block count of the memory file says so).
pub fn precommit_populates_the_pages(backend: Backend) {
    let Some(h) = Harness::new(backend, &Asm::default().spin()) else {
        return;
    };
    let range = h.mf.allocate(16 * 4096, UsageKind::Anonymous).unwrap();
    let before = h.mf.usage().committed;
    h.mm.map_file(UNMAPPED, &h.mf, range, Access::READ_WRITE, true)
        .unwrap();
    assert!(h.mf.usage().committed >= before + 16 * 4096);
    h.mm.unmap(UNMAPPED, 16 * 4096).unwrap();
    h.mf.dec_ref(range).unwrap();
}

/// Returns the address of the stub page, which the platform maps at the
/// same address in the sentry (this process) and in every stub: the only
/// anonymous `r-xp` page above the user range.
fn stub_page_address(max_user: u64) -> u64 {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (range, perms) = (f.next()?, f.next()?);
            let (start, end) = range.split_once('-')?;
            let start = u64::from_str_radix(start, 16).ok()?;
            let end = u64::from_str_radix(end, 16).ok()?;
            (perms == "r-xp" && start >= max_user && end - start == 4096 && f.nth(3).is_none())
                .then_some(start)
        })
        .next()
        .expect("the stub page is mapped in the sentry")
}

/// A system call the application makes by jumping to a `syscall`
/// instruction of the stub code traps like any other; it does not run on the
/// host.
pub fn syscall_from_the_stub_page_is_trapped(backend: Backend) {
    let Some(probe) = Harness::new(backend, &Asm::default().spin()) else {
        return;
    };
    let stub = stub_page_address(probe.platform.max_user_address());
    drop(probe);
    let mut prog = Asm::default()
        .mov_imm("rbx", stub)
        .mov_imm("rdi", 1)
        .sys(libc::SYS_kill);
    // Replace the final `syscall` by `jmp rbx` to the stub's `syscall`.
    prog.0.truncate(prog.0.len() - 2);
    prog.0.extend([0xff, 0xe3]);
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
    assert_eq!(regs.syscall_number(), libc::SYS_kill as u64);
    assert_eq!(regs.instruction_pointer(), stub + 2);
}

/// Instantiates every scenario for one backend.
macro_rules! backend_tests {
    ($backend:expr) => {
        #[test]
        fn syscall_arguments_and_return_value() {
            scenarios::syscall_arguments_and_return_value($backend);
        }
        #[test]
        fn slow_sentry_answer_reaches_the_program() {
            scenarios::slow_sentry_answer_reaches_the_program($backend);
        }
        #[test]
        fn sentry_writes_are_visible_to_the_program() {
            scenarios::sentry_writes_are_visible_to_the_program($backend);
        }
        #[test]
        fn fault_on_unmapped_memory_reports_the_address() {
            scenarios::fault_on_unmapped_memory_reports_the_address($backend);
        }
        #[test]
        fn write_to_read_only_page_faults() {
            scenarios::write_to_read_only_page_faults($backend);
        }
        #[test]
        fn remapping_part_of_a_range_changes_its_permissions() {
            scenarios::remapping_part_of_a_range_changes_its_permissions($backend);
        }
        #[test]
        fn unmap_removes_the_mapping() {
            scenarios::unmap_removes_the_mapping($backend);
        }
        #[test]
        fn invalid_instruction_is_sigill() {
            scenarios::invalid_instruction_is_sigill($backend);
        }
        #[test]
        fn register_state_round_trips() {
            scenarios::register_state_round_trips($backend);
        }
        #[test]
        fn interrupt_stops_a_busy_loop() {
            scenarios::interrupt_stops_a_busy_loop($backend);
        }
        #[test]
        fn interrupt_works_when_the_sentry_blocks_signals() {
            scenarios::interrupt_works_when_the_sentry_blocks_signals($backend);
        }
        #[test]
        fn interrupt_before_switch_is_not_lost() {
            scenarios::interrupt_before_switch_is_not_lost($backend);
        }
        #[test]
        fn many_address_spaces_and_contexts() {
            scenarios::many_address_spaces_and_contexts($backend);
        }
        #[test]
        fn syscall_from_the_stub_page_is_trapped() {
            scenarios::syscall_from_the_stub_page_is_trapped($backend);
        }
        #[test]
        fn precommit_populates_the_pages() {
            scenarios::precommit_populates_the_pages($backend);
        }
        #[test]
        fn mapping_outside_the_user_range_is_einval() {
            scenarios::mapping_outside_the_user_range_is_einval($backend);
        }
    };
}
pub(crate) use backend_tests;
