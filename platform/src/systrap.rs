//! The seccomp-trap backend (gVisor's `platform/systrap`): application
//! threads run in untraced stub processes whose seccomp filter turns every
//! application system call into `SIGSYS` (`SECCOMP_RET_TRAP`). A signal
//! handler in the stub code saves the thread's state into a *message slot*
//! shared with the sentry, posts the trap and waits; the sentry reads the
//! state, handles the trap, writes the state back and hands the thread
//! back, and the stub returns from the handler into the application. No
//! ptrace stop and no scheduler round trip through a tracer is on the path,
//! which is what makes it faster than ptrace.
//!
//! # Hand-off
//!
//! Both sides wait the same way, after gVisor's systrap fast path: each
//! records in the slot the processor it ran on when it handed over, and
//! the waiting side
//!
//! 1. polls the state word with `pause` for [`SPIN_TIME`] (measured with
//!    the time-stamp counter), but only if the peer last ran on another
//!    processor (polling the processor the peer needs only delays it);
//! 2. then polls it around `sched_yield`, which on a shared processor runs
//!    the runnable peer directly: no futex wake, no wake-up of an idle
//!    processor;
//! 3. then sleeps on the state word (`FUTEX_WAIT`), having said so in its
//!    *sleeping* word, which the handing-over side checks (after its
//!    sequentially consistent exchange of the state) to decide whether it
//!    must `FUTEX_WAKE`.
//!
//! In a tight trap loop neither side normally sleeps, so a round trip costs the
//! trap, the signal delivery and `rt_sigreturn`, plus either two processor
//! switches (one processor) or two cache-line hand-offs (two processors).
//!
//! Faults (`SIGSEGV`, `SIGBUS`), other synchronous signals and the
//! interrupt signal take the same path. A slot is 64 KiB of the memory file
//! mapped above the user range: the message at its base and the handler's
//! signal stack above, so the handler finds its slot from its stack pointer.
//!
//! A context's stub is set up with ptrace (created by the address space's
//! service thread, attached by the context's thread, which installs the
//! slot, the signal stack and the handlers by injected system calls) and
//! then detached.
//!
//! # Reference model
//!
//! A context owns its stubs, their slots (an index in the address space's
//! slot table and a memory-file range holding one reference) and weak
//! references to the address spaces.

use std::marker::PhantomData;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use abi_linux::{Errno, Result};

use crate::address_space::{AsShared, StubAddressSpace};
use crate::arch::{self, NGREG, slot};
use crate::memory_file::{FileRange, MemoryFile, UsageKind};
use crate::platform::{
    Access, AddressSpace, Context, INTERRUPT_SIGNAL, Interrupter, Platform, SignalInfo, Trap,
};
use crate::registers::Registers;
use crate::stub::{self, MAX_USER_ADDRESS, MIN_USER_ADDRESS};

/// The signals the stub handler catches.
const HANDLED_SIGNALS: [i32; 7] = [
    libc::SIGSYS,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGTRAP,
    INTERRUPT_SIGNAL,
];

/// `si_code` of a `SIGSYS` raised by a seccomp filter.
const SYS_SECCOMP: i32 = 1;

/// How long either side polls the slot with `pause` while the peer last ran
/// on another processor: longer than an idle processor takes to wake up
/// (tens of microseconds in a virtual machine), so that once both sides
/// poll on two processors neither sleeps while the trap loop is tight.
const SPIN_TIME: Duration = Duration::from_micros(50);
/// How many times the sentry yields its processor before sleeping.
const SENTRY_YIELD_SPIN: u32 = 10;

/// How long the sentry sleeps before checking that the stub is alive.
const LIVENESS_PERIOD: libc::timespec = libc::timespec {
    tv_sec: 0,
    tv_nsec: 50_000_000,
};

/// The seccomp-trap platform.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use platform::{MemoryFile, Platform, SystrapPlatform};
///
/// let mf = Arc::new(MemoryFile::new().unwrap());
/// match SystrapPlatform::new(mf) {
///     Ok(p) => assert_eq!(p.name(), "seccomp-trap"),
///     Err(e) => println!("seccomp-trap unavailable: {e}"),
/// }
/// ```
#[derive(Debug)]
pub struct SystrapPlatform {
    memory_file: Arc<MemoryFile>,
}

impl SystrapPlatform {
    /// Creates the platform, checking that the host has seccomp filters
    /// (`EINVAL` if not) and lets it create, trace and set up a stub
    /// (`EPERM` if not).
    pub fn new(memory_file: Arc<MemoryFile>) -> Result<Self> {
        // SAFETY: `PR_GET_SECCOMP` takes no pointers.
        if unsafe { libc::prctl(libc::PR_GET_SECCOMP) } < 0 {
            return Err(crate::sys::last_errno());
        }
        let probe_space = StubAddressSpace::new(memory_file.clone())?;
        let mut probe = SystrapContext::new(memory_file.clone());
        probe.stub_for(&probe_space)?;
        drop(probe);
        drop(probe_space);
        Ok(Self { memory_file })
    }
}

impl Platform for SystrapPlatform {
    fn name(&self) -> &'static str {
        "seccomp-trap"
    }

    fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.memory_file
    }

    fn new_address_space(&self) -> Result<Box<dyn AddressSpace>> {
        Ok(Box::new(StubAddressSpace::new(self.memory_file.clone())?))
    }

    fn new_context(&self) -> Result<Box<dyn Context>> {
        Ok(Box::new(SystrapContext::new(self.memory_file.clone())))
    }

    fn min_user_address(&self) -> u64 {
        MIN_USER_ADDRESS
    }

    fn max_user_address(&self) -> u64 {
        MAX_USER_ADDRESS
    }

    fn supports_address_space_io(&self) -> bool {
        false
    }
}

/// The sentry's view of a message slot.
struct Slot {
    /// The slot's memory in the sentry's mapping of the memory file.
    ptr: *mut u8,
    /// [`SPIN_TIME`] in time-stamp-counter ticks.
    spin_ticks: u64,
}

impl Slot {
    fn word(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: `offset` is one of the 4-byte-aligned `u32` fields of the
        // slot layout, inside the slot, which stays mapped while the
        // context holds its memory-file reference; the stub accesses the
        // word only atomically (`xchg`, aligned loads and stores).
        unsafe { &*self.ptr.add(offset).cast::<AtomicU32>() }
    }

    fn read<const N: usize>(&self, offset: usize) -> [u8; N] {
        let mut b = [0u8; N];
        self.read_into(offset, &mut b);
        b
    }

    fn read_into(&self, offset: usize, buf: &mut [u8]) {
        // SAFETY: callers pass ranges inside the slot's message area; the
        // stub does not write them while the trap is posted.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(offset), buf.as_mut_ptr(), buf.len()) };
    }

    fn write(&self, offset: usize, buf: &[u8]) {
        // SAFETY: as for `read_into`; the stub reads these bytes only after
        // the sentry hands the thread back.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), self.ptr.add(offset), buf.len()) };
    }

    fn read_u64(&self, offset: usize) -> u64 {
        u64::from_ne_bytes(self.read(offset))
    }

    fn write_u64(&self, offset: usize, v: u64) {
        self.write(offset, &v.to_ne_bytes());
    }

    fn gregs(&self) -> [u64; NGREG] {
        let mut g = [0u64; NGREG];
        for (i, w) in g.iter_mut().enumerate() {
            *w = self.read_u64(slot::GREGS + i * 8);
        }
        g
    }

    fn set_gregs(&self, g: &[u64; NGREG]) {
        for (i, w) in g.iter().enumerate() {
            self.write_u64(slot::GREGS + i * 8, *w);
        }
    }

    /// Hands the thread back to the stub.
    fn resume(&self) {
        self.word(slot::SENTRY_CPU)
            .store(current_cpu(), Ordering::Relaxed);
        self.word(slot::STATE).swap(slot::RUNNING, Ordering::SeqCst);
        if self.word(slot::STUB_SLEEPING).load(Ordering::SeqCst) != 0 {
            // Waking cannot fail on a valid futex word.
            let _ = futex(self.word(slot::STATE), libc::FUTEX_WAKE, 1, None);
        }
    }

    /// Waits for the stub `pid` to post a trap.
    fn wait_trap(&self, pid: i32) -> Result<()> {
        let state = self.word(slot::STATE);
        if self.word(slot::STUB_CPU).load(Ordering::Relaxed) != current_cpu() {
            let deadline = arch::tsc().saturating_add(self.spin_ticks);
            while arch::tsc() < deadline {
                if state.load(Ordering::Acquire) == slot::TRAPPED {
                    return Ok(());
                }
                std::hint::spin_loop();
            }
        }
        for _ in 0..SENTRY_YIELD_SPIN {
            if state.load(Ordering::Acquire) == slot::TRAPPED {
                return Ok(());
            }
            // SAFETY: `sched_yield` takes no arguments.
            unsafe { libc::sched_yield() };
        }
        let sleeping = self.word(slot::SENTRY_SLEEPING);
        sleeping.swap(1, Ordering::SeqCst);
        let result = loop {
            if state.load(Ordering::SeqCst) == slot::TRAPPED {
                break Ok(());
            }
            if futex(
                state,
                libc::FUTEX_WAIT,
                slot::RUNNING,
                Some(&LIVENESS_PERIOD),
            ) == Err(Errno::ETIMEDOUT)
                && !alive(pid)
            {
                break Err(Errno::ESRCH);
            }
        };
        sleeping.store(0, Ordering::SeqCst);
        result
    }
}

/// Calls `futex(2)` on a word shared with another process.
fn futex(word: &AtomicU32, op: i32, val: u32, timeout: Option<&libc::timespec>) -> Result<()> {
    let timeout = timeout.map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned futex word; `timeout` is null or a
    // live timespec.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            op,
            val,
            timeout,
            0usize,
            0u32,
        )
    };
    crate::sys::check(ret).map(drop)
}

/// Returns the processor the calling thread runs on.
fn current_cpu() -> u32 {
    // SAFETY: `sched_getcpu` has no preconditions.
    u32::try_from(unsafe { libc::sched_getcpu() }).unwrap_or(u32::MAX)
}

/// Reports whether the stub `pid` has not exited, without reaping it.
fn alive(pid: i32) -> bool {
    // SAFETY: `info` is a live siginfo_t.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `waitid` writes only `info`.
    let ret = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT | libc::__WALL,
        )
    };
    // SAFETY: `si_pid` is valid for the `waitid` result (0 when nothing
    // changed).
    ret == 0 && unsafe { info.si_pid() } == 0
}

/// A context's stub in one address space.
///
/// A stub is moved between contexts (and their threads) through the
/// address space's idle list.
struct SysStub {
    address_space: Weak<AsShared>,
    id: u64,
    pid: i32,
    slot_index: usize,
    slot_range: FileRange,
    slot: Slot,
}

// SAFETY: the slot pointer is into the memory file's sentry mapping,
// which every thread may use; the stub is used by one context at a time.
unsafe impl Send for SysStub {}

/// A dropped context's stub, set up and waiting in its slot, parked for
/// the next context of its address space. Dropping it releases it.
struct IdleStub {
    stub: Option<SysStub>,
    memory_file: Arc<MemoryFile>,
}

impl Drop for IdleStub {
    fn drop(&mut self) {
        if let Some(s) = self.stub.take() {
            release_stub(&self.memory_file, s);
        }
    }
}

/// Kills a stub and frees its slot.
fn release_stub(memory_file: &MemoryFile, s: SysStub) {
    if let Some(shared) = s.address_space.upgrade() {
        if shared.forget_stub(s.pid) {
            stub::kill_and_reap(s.pid);
        }
        shared.release_slot(s.slot_index);
    }
    let _ = memory_file.dec_ref(s.slot_range);
}

/// A seccomp-trap context; bound to its creating thread.
pub(crate) struct SystrapContext {
    memory_file: Arc<MemoryFile>,
    stubs: Vec<SysStub>,
    interrupter: Interrupter,
    /// Makes the context `!Send`, as the [`Context`] contract says.
    _bound: PhantomData<*const ()>,
}

impl SystrapContext {
    fn new(memory_file: Arc<MemoryFile>) -> Self {
        Self {
            memory_file,
            stubs: Vec::new(),
            interrupter: Interrupter::new(),
            _bound: PhantomData,
        }
    }

    /// Returns the index of this context's stub in `a`, creating it on first
    /// use.
    fn stub_for(&mut self, a: &StubAddressSpace) -> Result<usize> {
        if self
            .stubs
            .iter()
            .any(|s| s.address_space.strong_count() == 0)
        {
            let (live, dead): (Vec<SysStub>, Vec<SysStub>) = std::mem::take(&mut self.stubs)
                .into_iter()
                .partition(|s| s.address_space.strong_count() > 0);
            self.stubs = live;
            for s in dead {
                self.release(s);
            }
        }
        if let Some(i) = self.stubs.iter().position(|s| s.id == a.shared.id) {
            return Ok(i);
        }
        while let Some(idle) = a.shared.take_idle() {
            let Ok(mut idle) = idle.downcast::<IdleStub>() else {
                continue;
            };
            if let Some(s) = idle.stub.take() {
                if alive(s.pid) {
                    self.stubs.push(s);
                    return Ok(self.stubs.len() - 1);
                }
                self.release(s);
            }
        }
        let pid = a.new_stub()?;
        let slot_index = match a.shared.take_slot() {
            Ok(i) => i,
            Err(e) => {
                if a.shared.forget_stub(pid) {
                    stub::kill_and_reap(pid);
                }
                return Err(e);
            }
        };
        let slot_range = match self.memory_file.allocate(slot::SIZE, UsageKind::System) {
            Ok(r) => r,
            Err(e) => {
                a.shared.release_slot(slot_index);
                if a.shared.forget_stub(pid) {
                    stub::kill_and_reap(pid);
                }
                return Err(e);
            }
        };
        let ptr = match self.memory_file.map_internal(slot_range) {
            Ok(m) => m.as_ptr(),
            Err(e) => {
                a.shared.release_slot(slot_index);
                let _ = self.memory_file.dec_ref(slot_range);
                if a.shared.forget_stub(pid) {
                    stub::kill_and_reap(pid);
                }
                return Err(e);
            }
        };
        let s = SysStub {
            address_space: Arc::downgrade(&a.shared),
            id: a.shared.id,
            pid,
            slot_index,
            slot_range,
            slot: Slot {
                ptr,
                spin_ticks: arch::tsc_ticks(SPIN_TIME),
            },
        };
        if let Err(e) = self.setup(&s) {
            self.release(s);
            return Err(e);
        }
        self.stubs.push(s);
        Ok(self.stubs.len() - 1)
    }

    /// Installs the slot, the signal stack and the handlers in the stub,
    /// detaches it and waits for its first trap.
    fn setup(&self, s: &SysStub) -> Result<()> {
        let page = stub::stub_page()?;
        let t = stub::seize(s.pid)?;
        let slot_va = page.slot_address(s.slot_index);
        // stack_t { void *ss_sp; int ss_flags; size_t ss_size; }
        s.slot
            .write_u64(slot::ALTSTACK, slot_va + slot::STACK as u64);
        s.slot.write_u64(slot::ALTSTACK + 8, 0);
        s.slot
            .write_u64(slot::ALTSTACK + 16, slot::SIZE - slot::STACK as u64);
        s.slot
            .word(slot::FSGSBASE)
            .store(u32::from(arch::has_fsgsbase()), Ordering::Relaxed);
        s.slot.write_u64(slot::SPIN_TICKS, s.slot.spin_ticks);
        let memfd = self.memory_file.fd().as_raw_fd() as u64;
        let prot = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        t.syscall(
            libc::SYS_mmap,
            [slot_va, slot::SIZE, prot, flags, memfd, s.slot_range.start],
        )?;
        t.syscall(
            libc::SYS_sigaltstack,
            [slot_va + slot::ALTSTACK as u64, 0, 0, 0, 0, 0],
        )?;
        for sig in HANDLED_SIGNALS {
            t.syscall(
                libc::SYS_rt_sigaction,
                [sig as u64, page.sigaction, 0, 8, 0, 0],
            )?;
        }
        t.syscall(
            libc::SYS_seccomp,
            [
                libc::SECCOMP_SET_MODE_FILTER as u64,
                0,
                page.handler_fprog,
                0,
                0,
                0,
            ],
        )?;
        let mut regs = t.base;
        regs.rip = page.entry;
        regs.orig_rax = u64::MAX;
        stub::set_regs(s.pid, &regs)?;
        stub::ptrace(libc::PTRACE_DETACH, s.pid, 0, 0)?;
        s.slot.wait_trap(s.pid)
    }

    /// Kills a stub and frees its slot.
    fn release(&self, s: SysStub) {
        release_stub(&self.memory_file, s);
    }

    fn run(&self, s: &SysStub, regs: &mut Registers) -> Result<Trap> {
        let slot = &s.slot;
        let mut g = slot.gregs();
        arch::regs_to_gregs(&regs.general, &mut g);
        slot.set_gregs(&g);
        slot.write_u64(slot::FS_BASE, regs.general.fs_base);
        slot.write_u64(slot::GS_BASE, regs.general.gs_base);
        let fp_size = u32::from_ne_bytes(slot.read(slot::FP_SIZE)) as usize;
        let n = fp_size.min(regs.fp().len());
        slot.write(slot::FP, &regs.fp()[..n]);
        loop {
            slot.resume();
            slot.wait_trap(s.pid)?;
            let signo = u32::from_ne_bytes(slot.read(slot::SIGNO)) as i32;
            if signo == INTERRUPT_SIGNAL && !self.interrupter.take() {
                // A late kick for an earlier switch: the state is unchanged.
                continue;
            }
            let g = slot.gregs();
            arch::regs_from_gregs(&mut regs.general, &g);
            regs.general.fs_base = slot.read_u64(slot::FS_BASE);
            regs.general.gs_base = slot.read_u64(slot::GS_BASE);
            regs.general.orig_rax = u64::MAX;
            let fp_size = (u32::from_ne_bytes(slot.read(slot::FP_SIZE)) as usize).min(arch::FP_MAX);
            slot.read_into(slot::FP, regs.fp_buffer(fp_size));
            if signo == INTERRUPT_SIGNAL {
                return Ok(Trap::Interrupted);
            }
            let info = SignalInfo::from_raw(slot.read(slot::SIGINFO));
            if signo == libc::SIGSYS && info.code == SYS_SECCOMP {
                // `si_arch`: a 32-bit call (`int 0x80`) is not a system
                // call of this kernel.
                let arch =
                    u32::from_ne_bytes([info.raw[28], info.raw[29], info.raw[30], info.raw[31]]);
                if arch != arch::AUDIT_ARCH {
                    return Ok(Trap::Signal(arch::foreign_syscall_fault(&mut regs.general)));
                }
                regs.general.orig_rax = regs.general.rax;
                return Ok(Trap::Syscall);
            }
            if signo == libc::SIGSEGV || signo == libc::SIGBUS {
                let err = g[arch::greg::ERR];
                let access = if err & arch::PF_INSTR != 0 {
                    Access::EXECUTE
                } else if err & arch::PF_WRITE != 0 {
                    Access::WRITE
                } else {
                    Access::READ
                };
                return Ok(Trap::PageFault {
                    addr: info.addr,
                    access,
                    info,
                });
            }
            return Ok(Trap::Signal(info));
        }
    }
}

impl Context for SystrapContext {
    fn switch(&mut self, address_space: &dyn AddressSpace, regs: &mut Registers) -> Result<Trap> {
        let a = address_space
            .as_any()
            .downcast_ref::<StubAddressSpace>()
            .ok_or(Errno::EINVAL)?;
        let i = self.stub_for(a)?;
        let s = &self.stubs[i];
        if self.interrupter.enter(s.pid) {
            return Ok(Trap::Interrupted);
        }
        let result = self.run(s, regs);
        self.interrupter.leave();
        result
    }

    fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }
}

impl Drop for SystrapContext {
    /// Parks each stub, waiting in its slot after its last trap, for the
    /// next context of its address space (the interrupter is this
    /// context's, so a late interrupt cannot reach the next one); a stub
    /// whose address space is gone, or that is not waiting, is released.
    fn drop(&mut self) {
        for s in std::mem::take(&mut self.stubs) {
            let waiting = s.slot.word(slot::STATE).load(Ordering::SeqCst) == slot::TRAPPED;
            match s.address_space.upgrade() {
                Some(shared) if waiting => {
                    let idle = IdleStub {
                        stub: Some(s),
                        memory_file: self.memory_file.clone(),
                    };
                    // A stub the address space does not keep is released
                    // by the box's drop.
                    let _ = shared.park_idle(Box::new(idle));
                }
                _ => self.release(s),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory file and an address space with `syscall; syscall` at
    /// 0x40_0000; `None` (with a message) where the host refuses
    /// seccomp-trap.
    fn space_with_two_syscalls() -> Option<(Arc<MemoryFile>, StubAddressSpace)> {
        let mf = Arc::new(MemoryFile::new().unwrap());
        if let Err(e) = SystrapPlatform::new(mf.clone()) {
            println!("skipped: the host refuses the seccomp-trap platform: {e}");
            return None;
        }
        let space = StubAddressSpace::new(mf.clone()).unwrap();
        let code = mf.allocate(4096, UsageKind::Anonymous).unwrap();
        mf.map_internal(code)
            .unwrap()
            .write(0, &[0x0f, 0x05, 0x0f, 0x05])
            .unwrap();
        space
            .map_file(0x40_0000, &mf, code, Access::READ_EXECUTE, false)
            .unwrap();
        Some((mf, space))
    }

    /// The handler's `arch_prctl` path for the fs/gs bases, which hosts
    /// with FSGSBASE never take otherwise.
    #[test]
    fn fs_and_gs_bases_round_trip_without_fsgsbase() {
        let Some((mf, space)) = space_with_two_syscalls() else {
            return;
        };
        let mut ctx = SystrapContext::new(mf.clone());
        let i = ctx.stub_for(&space).unwrap();
        ctx.stubs[i]
            .slot
            .word(slot::FSGSBASE)
            .store(0, Ordering::SeqCst);

        let mut regs = Registers::new();
        regs.set_instruction_pointer(0x40_0000);
        regs.general.fs_base = 0x1234_5000;
        regs.general.gs_base = 0x6789_0000;
        assert_eq!(ctx.switch(&space, &mut regs).unwrap(), Trap::Syscall);
        assert_eq!(
            (regs.general.fs_base, regs.general.gs_base),
            (0x1234_5000, 0x6789_0000)
        );
        regs.general.fs_base = 0x2222_0000;
        assert_eq!(ctx.switch(&space, &mut regs).unwrap(), Trap::Syscall);
        assert_eq!(
            (regs.general.fs_base, regs.general.gs_base),
            (0x2222_0000, 0x6789_0000)
        );
    }

    /// Runs one switch of a new context on a new thread, with `rdi` and
    /// the thread pointer `fs`; returns the stub's pid and the registers
    /// the trap reported.
    fn run_once(
        space: &Arc<StubAddressSpace>,
        mf: &Arc<MemoryFile>,
        rdi: u64,
        fs: u64,
    ) -> (i32, u64, u64) {
        let (space, mf) = (space.clone(), mf.clone());
        std::thread::spawn(move || {
            let mut ctx = SystrapContext::new(mf);
            let mut regs = Registers::new();
            regs.set_instruction_pointer(0x40_0000);
            regs.general.rdi = rdi;
            regs.general.fs_base = fs;
            assert_eq!(ctx.switch(&*space, &mut regs).unwrap(), Trap::Syscall);
            (ctx.stubs[0].pid, regs.general.rdi, regs.general.fs_base)
        })
        .join()
        .unwrap()
    }

    /// A dropped context's stub serves the next context of the same
    /// address space, on another thread, with that context's registers
    /// and thread pointer, and never a context of another address space
    /// (another process), which gets a stub of its own.
    #[test]
    fn a_dropped_contexts_stub_is_reused_only_in_its_address_space() {
        let Some((mf, space)) = space_with_two_syscalls() else {
            return;
        };
        let space = Arc::new(space);
        let (first, rdi, fs) = run_once(&space, &mf, 7, 0x1000_0000);
        assert_eq!((rdi, fs), (7, 0x1000_0000));
        let (second, rdi, fs) = run_once(&space, &mf, 9, 0x2000_0000);
        assert_eq!((rdi, fs), (9, 0x2000_0000));
        assert_eq!(first, second, "the second context made a stub of its own");

        let other = StubAddressSpace::new(mf.clone()).unwrap();
        let code = mf.allocate(4096, UsageKind::Anonymous).unwrap();
        mf.map_internal(code)
            .unwrap()
            .write(0, &[0x0f, 0x05])
            .unwrap();
        other
            .map_file(0x40_0000, &mf, code, Access::READ_EXECUTE, false)
            .unwrap();
        let (third, rdi, _) = run_once(&Arc::new(other), &mf, 11, 0);
        assert_eq!(rdi, 11);
        assert_ne!(third, first, "another address space ran on this one's stub");

        drop(space);
        assert!(!alive(first), "the idle stub outlived its address space");
    }
}
