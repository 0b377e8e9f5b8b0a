//! x86_64 specifics: the register file, the system-call convention, the
//! XSAVE area and the stub code that runs in stub processes.
//!
//! The stub code is written in assembly below and copied, as bytes, into a
//! page mapped at the same address in the sentry and in every stub process
//! (see `stub.rs`). It is position independent, uses no stack of its own
//! except the signal stack the kernel provides, and calls no library.

use core::arch::global_asm;

/// The general registers, laid out as Linux's `struct user_regs_struct`
/// (what `PTRACE_GETREGS` reads), including the `fs`/`gs` bases.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, zerocopy::IntoBytes, zerocopy::Immutable)]
#[expect(
    missing_docs,
    reason = "the fields are the x86_64 registers of the same name"
)]
pub struct GeneralRegisters {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    /// The system-call number at a system-call stop; `u64::MAX` otherwise.
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}

/// The user code segment selector of 64-bit processes.
const USER_CS: u64 = 0x33;
/// The user data/stack segment selector.
const USER_DS: u64 = 0x2b;
/// `eflags` of a new thread: interrupts enabled and the reserved bit 1.
const INITIAL_EFLAGS: u64 = 0x202;

impl GeneralRegisters {
    /// Returns the registers of a new 64-bit user thread: all zero except
    /// the segment selectors and `eflags`.
    pub fn new_user() -> Self {
        Self {
            cs: USER_CS,
            ss: USER_DS,
            ds: 0,
            es: 0,
            eflags: INITIAL_EFLAGS,
            orig_rax: u64::MAX,
            ..Self::default()
        }
    }
}

/// The `ucontext_t` offset of `uc_mcontext.gregs`.
pub(crate) const UC_GREGS: usize = 40;
/// The `ucontext_t` offset of `uc_mcontext.fpregs`.
pub(crate) const UC_FPREGS: usize = 224;
/// The `ucontext_t` offset of `uc_sigmask`.
pub(crate) const UC_SIGMASK: usize = 296;
/// The number of entries of `mcontext_t.gregs`.
pub(crate) const NGREG: usize = 23;

/// Indexes into `mcontext_t.gregs` (`REG_*` in `<sys/ucontext.h>`).
pub(crate) mod greg {
    pub(crate) const R8: usize = 0;
    pub(crate) const R9: usize = 1;
    pub(crate) const R10: usize = 2;
    pub(crate) const R11: usize = 3;
    pub(crate) const R12: usize = 4;
    pub(crate) const R13: usize = 5;
    pub(crate) const R14: usize = 6;
    pub(crate) const R15: usize = 7;
    pub(crate) const RDI: usize = 8;
    pub(crate) const RSI: usize = 9;
    pub(crate) const RBP: usize = 10;
    pub(crate) const RBX: usize = 11;
    pub(crate) const RDX: usize = 12;
    pub(crate) const RAX: usize = 13;
    pub(crate) const RCX: usize = 14;
    pub(crate) const RSP: usize = 15;
    pub(crate) const RIP: usize = 16;
    pub(crate) const EFL: usize = 17;
    pub(crate) const ERR: usize = 19;
}

/// Copies the registers a signal frame holds from `gregs` into `regs`.
pub(crate) fn regs_from_gregs(regs: &mut GeneralRegisters, g: &[u64; NGREG]) {
    regs.r8 = g[greg::R8];
    regs.r9 = g[greg::R9];
    regs.r10 = g[greg::R10];
    regs.r11 = g[greg::R11];
    regs.r12 = g[greg::R12];
    regs.r13 = g[greg::R13];
    regs.r14 = g[greg::R14];
    regs.r15 = g[greg::R15];
    regs.rdi = g[greg::RDI];
    regs.rsi = g[greg::RSI];
    regs.rbp = g[greg::RBP];
    regs.rbx = g[greg::RBX];
    regs.rdx = g[greg::RDX];
    regs.rax = g[greg::RAX];
    regs.rcx = g[greg::RCX];
    regs.rsp = g[greg::RSP];
    regs.rip = g[greg::RIP];
    regs.eflags = g[greg::EFL];
    regs.cs = USER_CS;
    regs.ss = USER_DS;
}

/// Copies the registers a signal frame restores from `regs` into `gregs`,
/// leaving the segment, error and trap words as the kernel wrote them.
pub(crate) fn regs_to_gregs(regs: &GeneralRegisters, g: &mut [u64; NGREG]) {
    g[greg::R8] = regs.r8;
    g[greg::R9] = regs.r9;
    g[greg::R10] = regs.r10;
    g[greg::R11] = regs.r11;
    g[greg::R12] = regs.r12;
    g[greg::R13] = regs.r13;
    g[greg::R14] = regs.r14;
    g[greg::R15] = regs.r15;
    g[greg::RDI] = regs.rdi;
    g[greg::RSI] = regs.rsi;
    g[greg::RBP] = regs.rbp;
    g[greg::RBX] = regs.rbx;
    g[greg::RDX] = regs.rdx;
    g[greg::RAX] = regs.rax;
    g[greg::RCX] = regs.rcx;
    g[greg::RSP] = regs.rsp;
    g[greg::RIP] = regs.rip;
    g[greg::EFL] = regs.eflags;
}

/// Bits of the x86 page-fault error code (`gregs[REG_ERR]`).
pub(crate) const PF_WRITE: u64 = 1 << 1;
/// The fault was an instruction fetch.
pub(crate) const PF_INSTR: u64 = 1 << 4;

/// `HWCAP2_FSGSBASE`: the kernel lets user code use `rdfsbase` and friends.
const HWCAP2_FSGSBASE: u64 = 1 << 1;

/// Reports whether user code may use the FSGSBASE instructions.
pub(crate) fn has_fsgsbase() -> bool {
    // SAFETY: `getauxval` has no preconditions.
    unsafe { libc::getauxval(libc::AT_HWCAP2) & HWCAP2_FSGSBASE != 0 }
}

/// Returns the time-stamp counter.
pub(crate) fn tsc() -> u64 {
    // SAFETY: `rdtsc` reads a counter every x86_64 processor has; the
    // kernel lets user code read it unless a process opts out
    // (`PR_SET_TSC`), which the sentry does not.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Returns how many time-stamp-counter ticks `d` lasts, from a rate
/// measured once against the monotonic clock (over 200 µs).
pub(crate) fn tsc_ticks(d: std::time::Duration) -> u64 {
    static TICKS_PER_MS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let per_ms = *TICKS_PER_MS.get_or_init(|| {
        let start = std::time::Instant::now();
        let first = tsc();
        while start.elapsed() < std::time::Duration::from_micros(200) {
            std::hint::spin_loop();
        }
        let ticks = tsc().saturating_sub(first);
        let ns = start.elapsed().as_nanos().max(1);
        u64::try_from(u128::from(ticks) * 1_000_000 / ns).unwrap_or(u64::MAX)
    });
    u64::try_from(u128::from(per_ms) * d.as_nanos() / 1_000_000).unwrap_or(u64::MAX)
}

/// `AUDIT_ARCH_X86_64`, the architecture word seccomp filters check.
pub(crate) const AUDIT_ARCH: u32 = 0xc000_003e;

/// What a 32-bit system call (`int 0x80`, the only way to make one from
/// 64-bit code) raises, since the sandbox's kernel has no 32-bit ABI: the
/// `SIGSEGV` (`SI_KERNEL`) of a kernel built without IA32 emulation, at
/// the instruction (which is moved back to).
pub(crate) fn foreign_syscall_fault(regs: &mut GeneralRegisters) -> crate::SignalInfo {
    regs.rip = regs.rip.wrapping_sub(2);
    let mut raw = [0u8; 128];
    raw[0..4].copy_from_slice(&libc::SIGSEGV.to_ne_bytes());
    // SI_KERNEL.
    raw[8..12].copy_from_slice(&0x80i32.to_ne_bytes());
    crate::SignalInfo::from_raw(raw)
}

/// The size of the legacy (FXSAVE) part of the XSAVE area.
pub(crate) const FXSAVE_SIZE: usize = 512;
/// The offset of the XSAVE header (`xstate_bv`).
const XSAVE_HEADER: usize = 512;
/// The offset of the software-reserved bytes of the legacy area, where
/// signal frames put `struct _fpx_sw_bytes`.
pub(crate) const FPX_SW_BYTES: usize = abi_linux::signal::FPX_SW_BYTES_OFFSET;
/// `FP_XSTATE_MAGIC1`: signal frames with an XSAVE area carry it in
/// `_fpx_sw_bytes.magic1`.
pub(crate) const FP_XSTATE_MAGIC1: u32 = abi_linux::signal::FP_XSTATE_MAGIC1;
/// The largest XSAVE image the platform keeps.
pub(crate) const FP_MAX: usize = 16384;

/// Returns the size of the XSAVE area for the features the host enabled.
pub(crate) fn xsave_size() -> usize {
    // CPUID leaf 0xd, sub-leaf 0, reports in EBX the size of the XSAVE area
    // for the features enabled in XCR0.
    let leaf = core::arch::x86_64::__cpuid_count(0xd, 0);
    (leaf.ebx as usize).clamp(FXSAVE_SIZE + 64, FP_MAX)
}

/// The offset of `mxcsr` in the legacy area.
const MXCSR: usize = 24;
/// The offset of `mxcsr_mask` in the legacy area.
const MXCSR_MASK: usize = 28;
/// The end of the XSAVE header: `xstate_bv`, `xcomp_bv` and 48 reserved
/// bytes.
const XSAVE_HEADER_END: usize = XSAVE_HEADER + 64;
/// The x87 and SSE feature bits of `xstate_bv`.
const XFEATURES_FP_SSE: u64 = 0b11;

/// Returns the XSAVE features the host kernel enabled (`XCR0`).
pub(crate) fn xfeatures() -> u64 {
    static XCR0: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *XCR0.get_or_init(|| {
        let (lo, hi): (u32, u32);
        // SAFETY: `xgetbv` with ECX = 0 reads XCR0; every x86-64 CPU the
        // platform runs on has XSAVE (the stubs use XSAVE frames), and the
        // instruction touches no memory.
        unsafe {
            core::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi,
                options(nomem, nostack, preserves_flags));
        }
        (u64::from(hi) << 32) | u64::from(lo)
    })
}

/// Returns the MXCSR bits the CPU implements (FXSAVE's `mxcsr_mask`, or
/// the architectural default when the CPU reports none).
pub(crate) fn mxcsr_mask() -> u32 {
    static MASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MASK.get_or_init(|| {
        #[repr(C, align(16))]
        struct Area([u8; FXSAVE_SIZE]);
        let mut area = Area([0; FXSAVE_SIZE]);
        // SAFETY: `fxsave64` writes 512 bytes to a 16-byte aligned buffer,
        // which `area` is.
        unsafe {
            core::arch::asm!("fxsave64 [{}]", in(reg) area.0.as_mut_ptr(),
                options(nostack, preserves_flags));
        }
        let mask = u32::from_le_bytes(
            area.0[MXCSR_MASK..MXCSR_MASK + 4]
                .try_into()
                .unwrap_or([0; 4]),
        );
        if mask == 0 { 0xffbf } else { mask }
    })
}

/// Whether `image`, an XSAVE image an application supplied (a signal
/// frame's), is one `XRSTOR` loads in standard form: MXCSR has no bit the
/// CPU reserves, `xstate_bv` names only features the host enabled, and
/// `xcomp_bv` and the reserved header word are zero. Linux kills a thread
/// whose frame fails these checks (`SIGSEGV`), because the restore faults.
pub(crate) fn fp_image_is_valid(image: &[u8]) -> bool {
    let word = |at: usize, n: usize| -> u64 {
        image.get(at..at + n).map_or(u64::MAX, |b| {
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(b);
            u64::from_le_bytes(w)
        })
    };
    let mxcsr_ok = word(MXCSR, 4) & !u64::from(mxcsr_mask()) == 0;
    if image.len() < XSAVE_HEADER_END {
        return mxcsr_ok && image.len() >= FXSAVE_SIZE;
    }
    mxcsr_ok
        && word(XSAVE_HEADER, 8) & !xfeatures() == 0
        && word(XSAVE_HEADER + 8, 8) == 0
        && word(XSAVE_HEADER + 16, 8) == 0
}

/// Returns the image of a thread whose state is `legacy` (an FXSAVE area)
/// for x87 and SSE and the initial state for every other component, sized
/// like `current`: what a signal frame without an XSAVE image restores.
pub(crate) fn fp_from_legacy(current: &[u8], legacy: &[u8]) -> Vec<u8> {
    let mut image = initial_fp_state();
    image.resize(current.len().max(XSAVE_HEADER_END), 0);
    let n = legacy.len().min(FXSAVE_SIZE);
    image[..n].copy_from_slice(&legacy[..n]);
    image[XSAVE_HEADER..XSAVE_HEADER_END].fill(0);
    image[XSAVE_HEADER..XSAVE_HEADER + 8].copy_from_slice(&XFEATURES_FP_SSE.to_le_bytes());
    image
}

/// Returns the XSAVE image of a new thread: x87 and SSE in their reset
/// state (`fcw` 0x37f, `mxcsr` 0x1f80, registers zero), every other
/// component in its initial state.
pub(crate) fn initial_fp_state() -> Vec<u8> {
    let mut fp = vec![0u8; xsave_size()];
    fp[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
    fp[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
    fp[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
    // `xstate_bv`: x87 and SSE are taken from the image, the rest is reset.
    fp[XSAVE_HEADER..XSAVE_HEADER + 8].copy_from_slice(&3u64.to_le_bytes());
    fp
}

/// Sets up `regs` to make system call `nr` with `args` at `rip`.
pub(crate) fn set_syscall(regs: &mut GeneralRegisters, rip: u64, nr: i64, args: [u64; 6]) {
    regs.rip = rip;
    regs.rax = nr as u64;
    regs.orig_rax = u64::MAX;
    regs.rdi = args[0];
    regs.rsi = args[1];
    regs.rdx = args[2];
    regs.r10 = args[3];
    regs.r8 = args[4];
    regs.r9 = args[5];
}

/// The layout of a platform message slot, shared between the seccomp-trap
/// stub's signal handler and the sentry (offsets from the slot's base; the
/// slot is `SLOT_SIZE` bytes, aligned to its size, and holds the signal
/// stack above `SLOT_STACK`).
pub(crate) mod slot {
    /// The size and alignment of a slot.
    pub(crate) const SIZE: u64 = 64 * 1024;

    // The first cache line holds only the hand-off words, which the waiting
    // side polls: the other side's writes to the rest of the message do
    // not disturb the poll.

    /// `u32`: [`RUNNING`] or [`TRAPPED`]; the futex word.
    pub(crate) const STATE: usize = 0;
    /// `u32`: nonzero while the stub sleeps on the futex.
    pub(crate) const STUB_SLEEPING: usize = 4;
    /// `u32`: nonzero while the sentry sleeps on the futex.
    pub(crate) const SENTRY_SLEEPING: usize = 8;
    /// `u32`: the processor the stub posted its last trap from.
    pub(crate) const STUB_CPU: usize = 24;
    /// `u32`: the processor the sentry last resumed the stub from.
    pub(crate) const SENTRY_CPU: usize = 28;
    /// `siginfo_t` (128 bytes).
    pub(crate) const SIGINFO: usize = 64;
    /// `mcontext_t.gregs` (23 words).
    pub(crate) const GREGS: usize = 192;
    /// `u64`: the `fs` base.
    pub(crate) const FS_BASE: usize = 376;
    /// `u64`: the `gs` base.
    pub(crate) const GS_BASE: usize = 384;
    /// `u64`: the `fs` base at the trap, to skip restoring it unchanged.
    pub(crate) const FS_ORIG: usize = 400;
    /// `u64`: the `gs` base at the trap.
    pub(crate) const GS_ORIG: usize = 408;
    /// `stack_t` the sentry writes for `sigaltstack`.
    pub(crate) const ALTSTACK: usize = 416;
    /// `u32`: the size of the XSAVE image at [`FP`].
    pub(crate) const FP_SIZE: usize = 448;
    /// `u32`: the signal number of the trap.
    pub(crate) const SIGNO: usize = 452;
    /// `u32`: nonzero if the stub may use the FSGSBASE instructions
    /// (written once by the sentry).
    pub(crate) const FSGSBASE: usize = 456;
    /// `u64`: how long a waiting stub polls with `pause` (while the sentry
    /// last ran on another processor), in time-stamp-counter ticks
    /// (written once by the sentry).
    pub(crate) const SPIN_TICKS: usize = 464;
    /// The XSAVE image (up to `FP_MAX` bytes).
    pub(crate) const FP: usize = 1024;
    /// The bottom of the signal stack.
    pub(crate) const STACK: usize = 20 * 1024;
    /// The application owns the thread.
    pub(crate) const RUNNING: u32 = 0;
    /// The stub has posted a trap and waits for the sentry.
    pub(crate) const TRAPPED: u32 = 1;
}

/// `arch_prctl` codes (`<asm/prctl.h>`).
const ARCH_SET_GS: u32 = 0x1001;
const ARCH_SET_FS: u32 = 0x1002;
const ARCH_GET_FS: u32 = 0x1003;
const ARCH_GET_GS: u32 = 0x1004;

/// The `arch_prctl` operations the stub's signal handler makes.
pub(crate) const FS_GS_OPERATIONS: [u32; 4] = [ARCH_SET_GS, ARCH_SET_FS, ARCH_GET_FS, ARCH_GET_GS];

/// How many times the stub yields its processor before sleeping.
const STUB_YIELD_SPIN: u32 = 10;
/// The segment selector whose limit holds the processor and node numbers
/// (`__CPUNODE_SEG`, what the vDSO's `getcpu` reads with `lsl`).
const CPUNODE_SEGMENT: u32 = 15 * 8 + 3;
/// The processor-number bits of the `__CPUNODE_SEG` limit.
const CPU_MASK: u32 = 0xfff;

// The stub code. Entry points:
// - `platform_stub_syscall`: a system call then a breakpoint, for the
//   tracer to run one injected call.
// - `platform_stub_clone`: an injected `clone` whose child sets its
//   parent-death signal and stops itself, waiting for a tracer.
// - `platform_stub_entry`: a breakpoint that enters the trap handler for the
//   first time (seccomp-trap).
// - `platform_stub_handler`: the seccomp-trap signal handler; it saves the
//   interrupted state into the slot that holds its signal stack, posts the
//   trap, waits for the sentry, and loads the state back.
// - `platform_stub_restorer`: `rt_sigreturn`.
global_asm!(
    ".pushsection .rodata.platform_stub,\"a\"",
    ".balign 64",
    ".globl platform_stub_start",
    "platform_stub_start:",
    ".globl platform_stub_syscall",
    "platform_stub_syscall:",
    "syscall",
    "int3",
    ".globl platform_stub_clone",
    "platform_stub_clone:",
    "syscall",
    "test rax, rax",
    "jz 2f",
    "int3",
    "2:",
    "mov eax, {nr_prctl}",
    "mov edi, {pr_set_pdeathsig}",
    "mov esi, {sigkill}",
    "syscall",
    "3:",
    "mov eax, {nr_getpid}",
    "syscall",
    "mov edi, eax",
    "mov esi, {sigstop}",
    "mov eax, {nr_kill}",
    "syscall",
    "jmp 3b",
    ".globl platform_stub_entry",
    "platform_stub_entry:",
    "int3",
    "jmp platform_stub_entry",
    ".globl platform_stub_handler",
    "platform_stub_handler:",
    // r8: the slot; r9: the ucontext.
    "mov r8, rsp",
    "and r8, {slot_mask}",
    "mov dword ptr [r8 + {signo}], edi",
    "mov r9, rdx",
    "lea rdi, [r8 + {siginfo}]",
    "mov ecx, 16",
    "rep movsq",
    "lea rsi, [r9 + {uc_gregs}]",
    "lea rdi, [r8 + {gregs}]",
    "mov ecx, {ngreg}",
    "rep movsq",
    // The XSAVE image: its size is in the frame's `_fpx_sw_bytes`.
    "mov r10, qword ptr [r9 + {uc_fpregs}]",
    "xor ecx, ecx",
    "test r10, r10",
    "jz 4f",
    "mov ecx, {fxsave_size}",
    "cmp dword ptr [r10 + {sw_bytes}], {fp_magic1}",
    "jne 4f",
    "mov ecx, dword ptr [r10 + {sw_bytes} + 16]",
    "cmp ecx, {fp_max}",
    "jbe 4f",
    "mov ecx, {fp_max}",
    "4:",
    "mov dword ptr [r8 + {fp_size}], ecx",
    "mov rsi, r10",
    "lea rdi, [r8 + {fp}]",
    "rep movsb",
    // The fs/gs bases: with FSGSBASE, read directly; else ask the kernel.
    "cmp dword ptr [r8 + {fsgsbase}], 0",
    "je 15f",
    "rdfsbase rax",
    "mov qword ptr [r8 + {fs_base}], rax",
    "rdgsbase rax",
    "mov qword ptr [r8 + {gs_base}], rax",
    "jmp 16f",
    "15:",
    "mov eax, {nr_arch_prctl}",
    "mov edi, {arch_get_fs}",
    "lea rsi, [r8 + {fs_base}]",
    "syscall",
    "mov eax, {nr_arch_prctl}",
    "mov edi, {arch_get_gs}",
    "lea rsi, [r8 + {gs_base}]",
    "syscall",
    "16:",
    "mov rax, qword ptr [r8 + {fs_base}]",
    "mov qword ptr [r8 + {fs_orig}], rax",
    "mov rax, qword ptr [r8 + {gs_base}]",
    "mov qword ptr [r8 + {gs_orig}], rax",
    // Post the trap and the processor it was taken on; wake the sentry if
    // it sleeps.
    "mov eax, {cpunode_segment}",
    "lsl eax, ax",
    "and eax, {cpu_mask}",
    "mov dword ptr [r8 + {stub_cpu}], eax",
    "mov eax, {trapped}",
    "xchg dword ptr [r8 + {state}], eax",
    "cmp dword ptr [r8 + {sentry_sleeping}], 0",
    "je 5f",
    "mov eax, {nr_futex}",
    "lea rdi, [r8 + {state}]",
    "mov esi, {futex_wake}",
    "mov edx, 1",
    "syscall",
    "5:",
    // Poll (unless the sentry last ran on this processor), then yield, then
    // sleep, until the sentry hands the thread back. rsi: the polling
    // deadline in time-stamp-counter ticks.
    "mov eax, dword ptr [r8 + {stub_cpu}]",
    "cmp eax, dword ptr [r8 + {sentry_cpu}]",
    "je 10f",
    "rdtsc",
    "shl rdx, 32",
    "or rax, rdx",
    "mov rsi, rax",
    "add rsi, qword ptr [r8 + {spin_ticks}]",
    "6:",
    "cmp dword ptr [r8 + {state}], {trapped}",
    "jne 9f",
    "pause",
    "rdtsc",
    "shl rdx, 32",
    "or rax, rdx",
    "cmp rax, rsi",
    "jb 6b",
    "10:",
    "mov esi, {yield_spin}",
    "11:",
    "cmp dword ptr [r8 + {state}], {trapped}",
    "jne 9f",
    "mov eax, {nr_sched_yield}",
    "syscall",
    "dec esi",
    "jnz 11b",
    "mov eax, 1",
    "xchg dword ptr [r8 + {stub_sleeping}], eax",
    "7:",
    "cmp dword ptr [r8 + {state}], {trapped}",
    "jne 8f",
    "mov eax, {nr_futex}",
    "lea rdi, [r8 + {state}]",
    "mov esi, {futex_wait}",
    "mov edx, {trapped}",
    "xor r10d, r10d",
    "syscall",
    "jmp 7b",
    "8:",
    "mov dword ptr [r8 + {stub_sleeping}], 0",
    "9:",
    // Load the state back into the frame.
    "lea rsi, [r8 + {gregs}]",
    "lea rdi, [r9 + {uc_gregs}]",
    "mov ecx, {ngreg}",
    "rep movsq",
    "mov qword ptr [r9 + {uc_sigmask}], 0",
    "mov r10, qword ptr [r9 + {uc_fpregs}]",
    "test r10, r10",
    "jz 12f",
    "mov ecx, dword ptr [r8 + {fp_size}]",
    "cmp ecx, {fxsave_size}",
    "jb 12f",
    // Keep the frame's `_fpx_sw_bytes`, which the kernel checks.
    "lea rsi, [r8 + {fp}]",
    "mov rdi, r10",
    "mov ecx, {sw_bytes}",
    "rep movsb",
    "mov ecx, dword ptr [r8 + {fp_size}]",
    "sub ecx, {fxsave_size}",
    "lea rsi, [r8 + {fp} + {fxsave_size}]",
    "lea rdi, [r10 + {fxsave_size}]",
    "rep movsb",
    "12:",
    "mov rsi, qword ptr [r8 + {fs_base}]",
    "cmp rsi, qword ptr [r8 + {fs_orig}]",
    "je 13f",
    "cmp dword ptr [r8 + {fsgsbase}], 0",
    "je 17f",
    "wrfsbase rsi",
    "jmp 13f",
    "17:",
    "mov eax, {nr_arch_prctl}",
    "mov edi, {arch_set_fs}",
    "syscall",
    "13:",
    "mov rsi, qword ptr [r8 + {gs_base}]",
    "cmp rsi, qword ptr [r8 + {gs_orig}]",
    "je 14f",
    "cmp dword ptr [r8 + {fsgsbase}], 0",
    "je 18f",
    "wrgsbase rsi",
    "jmp 14f",
    "18:",
    "mov eax, {nr_arch_prctl}",
    "mov edi, {arch_set_gs}",
    "syscall",
    "14:",
    "ret",
    ".globl platform_stub_restorer",
    "platform_stub_restorer:",
    "mov eax, {nr_rt_sigreturn}",
    "syscall",
    ".globl platform_stub_end",
    "platform_stub_end:",
    ".popsection",
    nr_prctl = const libc::SYS_prctl,
    nr_getpid = const libc::SYS_getpid,
    nr_kill = const libc::SYS_kill,
    nr_arch_prctl = const libc::SYS_arch_prctl,
    nr_futex = const libc::SYS_futex,
    nr_rt_sigreturn = const libc::SYS_rt_sigreturn,
    nr_sched_yield = const libc::SYS_sched_yield,
    pr_set_pdeathsig = const libc::PR_SET_PDEATHSIG,
    sigkill = const libc::SIGKILL,
    sigstop = const libc::SIGSTOP,
    slot_mask = const -(slot::SIZE as i64),
    signo = const slot::SIGNO,
    siginfo = const slot::SIGINFO,
    gregs = const slot::GREGS,
    uc_gregs = const UC_GREGS,
    uc_fpregs = const UC_FPREGS,
    uc_sigmask = const UC_SIGMASK,
    ngreg = const NGREG,
    fxsave_size = const FXSAVE_SIZE,
    sw_bytes = const FPX_SW_BYTES,
    fp_magic1 = const FP_XSTATE_MAGIC1,
    fp_max = const FP_MAX,
    fp_size = const slot::FP_SIZE,
    fp = const slot::FP,
    arch_get_fs = const ARCH_GET_FS,
    arch_get_gs = const ARCH_GET_GS,
    arch_set_fs = const ARCH_SET_FS,
    arch_set_gs = const ARCH_SET_GS,
    fs_base = const slot::FS_BASE,
    gs_base = const slot::GS_BASE,
    fs_orig = const slot::FS_ORIG,
    gs_orig = const slot::GS_ORIG,
    trapped = const slot::TRAPPED,
    state = const slot::STATE,
    stub_sleeping = const slot::STUB_SLEEPING,
    sentry_sleeping = const slot::SENTRY_SLEEPING,
    futex_wake = const libc::FUTEX_WAKE,
    futex_wait = const libc::FUTEX_WAIT,
    spin_ticks = const slot::SPIN_TICKS,
    yield_spin = const STUB_YIELD_SPIN,
    stub_cpu = const slot::STUB_CPU,
    sentry_cpu = const slot::SENTRY_CPU,
    cpunode_segment = const CPUNODE_SEGMENT,
    cpu_mask = const CPU_MASK,
    fsgsbase = const slot::FSGSBASE,
);

unsafe extern "C" {
    static platform_stub_start: u8;
    static platform_stub_syscall: u8;
    static platform_stub_clone: u8;
    static platform_stub_entry: u8;
    static platform_stub_handler: u8;
    static platform_stub_restorer: u8;
    static platform_stub_end: u8;
}

/// The stub code and the offsets of its entry points.
pub(crate) struct StubCode {
    /// The machine code.
    pub(crate) bytes: &'static [u8],
    /// The offset of the injected-syscall sequence.
    pub(crate) syscall: usize,
    /// The offset of the injected-clone sequence.
    pub(crate) clone: usize,
    /// The offset of the first-trap breakpoint.
    pub(crate) entry: usize,
    /// The offset of the signal handler.
    pub(crate) handler: usize,
    /// The offset of the signal restorer.
    pub(crate) restorer: usize,
}

/// Returns the stub code.
pub(crate) fn stub_code() -> StubCode {
    let start = &raw const platform_stub_start as usize;
    let off = |p: *const u8| p as usize - start;
    let len = off(&raw const platform_stub_end);
    // SAFETY: `platform_stub_start..platform_stub_end` is one contiguous,
    // read-only, allocated block of the `.rodata.platform_stub` section
    // emitted above.
    let bytes = unsafe { core::slice::from_raw_parts(start as *const u8, len) };
    StubCode {
        bytes,
        syscall: off(&raw const platform_stub_syscall),
        clone: off(&raw const platform_stub_clone),
        entry: off(&raw const platform_stub_entry),
        handler: off(&raw const platform_stub_handler),
        restorer: off(&raw const platform_stub_restorer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn general_registers_match_user_regs_struct() {
        assert_eq!(
            size_of::<GeneralRegisters>(),
            size_of::<libc::user_regs_struct>()
        );
        assert_eq!(
            offset_of!(GeneralRegisters, orig_rax),
            offset_of!(libc::user_regs_struct, orig_rax)
        );
        assert_eq!(
            offset_of!(GeneralRegisters, fs_base),
            offset_of!(libc::user_regs_struct, fs_base)
        );
        assert_eq!(
            offset_of!(GeneralRegisters, gs),
            offset_of!(libc::user_regs_struct, gs)
        );
    }

    #[test]
    fn ucontext_offsets_match_libc() {
        assert_eq!(offset_of!(libc::ucontext_t, uc_mcontext), UC_GREGS);
        assert_eq!(UC_GREGS + offset_of!(libc::mcontext_t, fpregs), UC_FPREGS);
        assert_eq!(offset_of!(libc::ucontext_t, uc_sigmask), UC_SIGMASK);
        assert_eq!(
            size_of::<libc::greg_t>() * NGREG,
            offset_of!(libc::mcontext_t, fpregs)
        );
        assert_eq!(libc::REG_RIP as usize, greg::RIP);
        assert_eq!(libc::REG_ERR as usize, greg::ERR);
        assert_eq!(libc::REG_R8 as usize, greg::R8);
        assert_eq!(libc::REG_RSP as usize, greg::RSP);
    }

    #[test]
    fn stub_code_fits_in_half_a_page() {
        let code = stub_code();
        assert!(code.bytes.len() <= 2048);
        assert_eq!(
            &code.bytes[code.syscall..code.syscall + 3],
            &[0x0f, 0x05, 0xcc]
        );
    }
}
