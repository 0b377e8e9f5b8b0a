//! Stub processes: the stub page, the seccomp filter, and the ptrace
//! primitives that create stubs and run system calls inside them.
//!
//! The stub page is mapped once in the sentry at a fixed address above the
//! application range and holds the stub code (`arch`), the seccomp filter
//! and the signal action of the seccomp-trap handler. A stub process starts
//! as a `clone(2)` of the sentry (a copy of its address space), so the page
//! is at the same address there; the tracer then unmaps everything else.
//!
//! A stub process shares nothing with the sentry except the memory file's
//! descriptor (every other descriptor is closed) and the memory file's
//! pages that the sentry maps into it.

use std::os::fd::RawFd;
use std::sync::OnceLock;

use abi_linux::{Errno, Result};

use crate::arch::{self, GeneralRegisters};
use crate::sys::{PAGE_SIZE, check, last_errno};

/// The lowest address applications may map.
pub(crate) const MIN_USER_ADDRESS: u64 = 0x1_0000;
/// The address above the highest applications may map; the stub page and
/// the message slots live above it.
pub(crate) const MAX_USER_ADDRESS: u64 = 0x7e00_0000_0000;
/// The top of the host's user address space (47-bit virtual addresses).
const TASK_TOP: u64 = 0x7fff_ffff_f000;
/// The offset of the first message slot from the stub page.
const SLOTS_OFFSET: u64 = 1 << 20;
/// How many message slots (one per context using an address space) an
/// address space has.
pub(crate) const MAX_SLOTS: usize = 1024;

/// Offsets in the stub page of the data that follows the code.
const FPROG_OFFSET: usize = 2048;
const HANDLER_FPROG_OFFSET: usize = 2064;
const SIGACTION_OFFSET: usize = 2080;
const FILTER_OFFSET: usize = 2112;
/// Eight zero bytes: an empty signal set.
const EMPTY_SIGSET_OFFSET: usize = 4088;

/// The stub page and the addresses of its parts.
#[derive(Debug)]
pub(crate) struct StubPage {
    /// The page's address.
    pub(crate) base: u64,
    /// `syscall; int3`.
    pub(crate) syscall: u64,
    /// The injected `clone` sequence.
    pub(crate) clone: u64,
    /// The first-trap breakpoint of the seccomp-trap backend.
    pub(crate) entry: u64,
    /// The `struct sock_fprog` of the stub filter.
    pub(crate) fprog: u64,
    /// The `struct sock_fprog` of the filter a seccomp-trap stub adds once
    /// set up, which narrows what the stub code may call to what the
    /// handler needs.
    pub(crate) handler_fprog: u64,
    /// The kernel `struct sigaction` of the seccomp-trap handler.
    pub(crate) sigaction: u64,
    /// An empty signal set.
    empty_sigset: u64,
}

impl StubPage {
    /// Returns the address of message slot `index`.
    pub(crate) fn slot_address(&self, index: usize) -> u64 {
        self.base + SLOTS_OFFSET + index as u64 * arch::slot::SIZE
    }
}

static STUB_PAGE: OnceLock<std::result::Result<StubPage, Errno>> = OnceLock::new();

/// Returns the stub page, mapping it on first use.
pub(crate) fn stub_page() -> Result<&'static StubPage> {
    STUB_PAGE
        .get_or_init(map_stub_page)
        .as_ref()
        .map_err(|e| *e)
}

fn map_stub_page() -> Result<StubPage> {
    let code = arch::stub_code();
    if code.bytes.len() > FPROG_OFFSET {
        return Err(Errno::ENOMEM);
    }
    // Candidates from the top of the address space down, 64 GiB apart; the
    // first one free of sentry mappings wins.
    let mut base = None;
    for i in 0..16u64 {
        let addr = 0x7ff0_0000_0000 - i * 0x10_0000_0000;
        // SAFETY: `MAP_FIXED_NOREPLACE` never replaces an existing mapping,
        // so no memory the program uses is affected.
        let got = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                PAGE_SIZE as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if got == libc::MAP_FAILED {
            continue;
        }
        if got as u64 == addr {
            base = Some(addr);
            break;
        }
        // An old kernel treated the address as a hint: give the page back.
        // SAFETY: `got` is the page this call just mapped, used by nothing.
        unsafe { libc::munmap(got, PAGE_SIZE as usize) };
    }
    let base = base.ok_or(Errno::ENOMEM)?;
    let page = StubPage {
        base,
        syscall: base + code.syscall as u64,
        clone: base + code.clone as u64,
        entry: base + code.entry as u64,
        fprog: base + FPROG_OFFSET as u64,
        handler_fprog: base + HANDLER_FPROG_OFFSET as u64,
        sigaction: base + SIGACTION_OFFSET as u64,
        empty_sigset: base + EMPTY_SIGSET_OFFSET as u64,
    };
    let code_end = base + code.bytes.len() as u64;
    // SAFETY: the page at `base` was just mapped read-write and is
    // `PAGE_SIZE` bytes long; nothing else refers to it yet.
    let mem = unsafe { std::slice::from_raw_parts_mut(base as *mut u8, PAGE_SIZE as usize) };
    mem[..code.bytes.len()].copy_from_slice(code.bytes);
    let filter = stub_filter(base, code_end, &STUB_SYSCALLS);
    let handler_filter = stub_filter(base, code_end, &HANDLER_SYSCALLS);
    let handler_filter_offset = FILTER_OFFSET + filter.len() * 8;
    write_filter(mem, base, FPROG_OFFSET, FILTER_OFFSET, &filter)?;
    write_filter(
        mem,
        base,
        HANDLER_FPROG_OFFSET,
        handler_filter_offset,
        &handler_filter,
    )?;
    // The kernel's struct sigaction: handler, flags, restorer, mask.
    let flags = (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64 | SA_RESTORER;
    let words = [
        base + code.handler as u64,
        flags,
        base + code.restorer as u64,
        u64::MAX,
    ];
    for (i, w) in words.iter().enumerate() {
        let o = SIGACTION_OFFSET + i * 8;
        mem[o..o + 8].copy_from_slice(&w.to_ne_bytes());
    }
    // SAFETY: the page is ours (mapped above); making it read-only and
    // executable affects only it.
    let ret = unsafe {
        libc::mprotect(
            base as *mut libc::c_void,
            PAGE_SIZE as usize,
            libc::PROT_READ | libc::PROT_EXEC,
        )
    };
    check(ret.into())?;
    Ok(page)
}

/// Writes `filter` at `offset` of the stub page `mem` (at `base`) and its
/// `struct sock_fprog` at `fprog_offset`.
fn write_filter(
    mem: &mut [u8],
    base: u64,
    fprog_offset: usize,
    offset: usize,
    filter: &[libc::sock_filter],
) -> Result<()> {
    if offset + filter.len() * 8 > EMPTY_SIGSET_OFFSET {
        return Err(Errno::ENOMEM);
    }
    for (i, f) in filter.iter().enumerate() {
        let o = offset + i * 8;
        mem[o..o + 2].copy_from_slice(&f.code.to_ne_bytes());
        mem[o + 2] = f.jt;
        mem[o + 3] = f.jf;
        mem[o + 4..o + 8].copy_from_slice(&f.k.to_ne_bytes());
    }
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    let len = u16::try_from(filter.len()).map_err(|_| Errno::ENOMEM)?;
    mem[fprog_offset..fprog_offset + 2].copy_from_slice(&len.to_ne_bytes());
    mem[fprog_offset + 8..fprog_offset + 16].copy_from_slice(&(base + offset as u64).to_ne_bytes());
    Ok(())
}

/// `SA_RESTORER`: the action names its own `rt_sigreturn` trampoline.
const SA_RESTORER: u64 = 0x0400_0000;

/// The system calls stub code makes (itself or injected by a tracer); the
/// stub filter allows them when made from the stub code and traps every
/// other system call.
const STUB_SYSCALLS: [Allowed; 16] = [
    Allowed::any(libc::SYS_seccomp),
    Allowed::any(libc::SYS_mmap),
    Allowed::any(libc::SYS_munmap),
    Allowed::any(libc::SYS_mprotect),
    Allowed::any(libc::SYS_clone),
    Allowed::any(libc::SYS_prctl),
    Allowed::any(libc::SYS_kill),
    Allowed::any(libc::SYS_getpid),
    Allowed::any(libc::SYS_futex),
    Allowed::any(libc::SYS_rt_sigreturn),
    Allowed::any(libc::SYS_rt_sigaction),
    Allowed::any(libc::SYS_sigaltstack),
    Allowed::any(libc::SYS_arch_prctl),
    Allowed::any(libc::SYS_exit),
    Allowed::any(libc::SYS_exit_group),
    Allowed::any(libc::SYS_sched_yield),
];

/// A system call a stub filter allows from the stub code: any call of
/// the number, or only those whose argument `arg` (its low 32 bits: the
/// kernel reads these arguments as `int`) is one of `values`.
#[derive(Clone, Copy)]
struct Allowed {
    nr: i64,
    arg: Option<(usize, &'static [u32])>,
}

impl Allowed {
    const fn any(nr: i64) -> Allowed {
        Allowed { nr, arg: None }
    }

    const fn with(nr: i64, arg: usize, values: &'static [u32]) -> Allowed {
        Allowed {
            nr,
            arg: Some((arg, values)),
        }
    }
}

/// The system calls the seccomp-trap handler makes. A set-up seccomp-trap
/// stub adds a filter allowing only these from the stub code, so that an
/// application jumping into the stub code cannot make the others (`kill`,
/// `mmap` of the memory file, ...) on the host: they trap like any other.
/// Each is allowed only with the arguments the handler passes: `futex`
/// with `FUTEX_WAIT` or `FUTEX_WAKE` (not `FUTEX_LOCK_PI`, whose owner
/// field would carry the host thread ID), `arch_prctl` with the four
/// FS/GS operations (not `ARCH_MAP_VDSO_64`, which would map the host's
/// vDSO behind the sentry's back).
const HANDLER_SYSCALLS: [Allowed; 4] = [
    Allowed::with(
        libc::SYS_futex,
        1,
        &[libc::FUTEX_WAIT as u32, libc::FUTEX_WAKE as u32],
    ),
    Allowed::any(libc::SYS_rt_sigreturn),
    Allowed::with(libc::SYS_arch_prctl, 0, &arch::FS_GS_OPERATIONS),
    Allowed::any(libc::SYS_sched_yield),
];

const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// Builds a stub filter: a system call from the stub code (`code_start..code_end`) in `allowed` (with an
/// allowed argument, where it says) is allowed; everything else traps
/// (`SIGSYS`). Under `PTRACE_SYSEMU` the filter never sees application
/// calls; it guards the stub when it is not traced, and is the trap
/// mechanism of the seccomp-trap backend.
fn stub_filter(code_start: u64, code_end: u64, allowed: &[Allowed]) -> Vec<libc::sock_filter> {
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    const HEADER: usize = 8;
    // Each allowed call is a block: compare the number (else skip the
    // block), then either allow, or load the argument, compare it with
    // each value (allow on a match) and trap.
    let blocks: Vec<Vec<libc::sock_filter>> = allowed
        .iter()
        .map(|a| {
            let mut b = vec![ins(BPF_JEQ_K, 0, 0, a.nr as u32)];
            match a.arg {
                None => b.push(ins(BPF_RET_K, 0, 0, libc::SECCOMP_RET_ALLOW)),
                Some((arg, values)) => {
                    b.push(ins(BPF_LD_W_ABS, 0, 0, (16 + 8 * arg) as u32));
                    let m = values.len();
                    for (j, v) in values.iter().enumerate() {
                        b.push(ins(BPF_JEQ_K, (m - j) as u8, 0, *v));
                    }
                    b.push(ins(BPF_RET_K, 0, 0, libc::SECCOMP_RET_TRAP));
                    b.push(ins(BPF_RET_K, 0, 0, libc::SECCOMP_RET_ALLOW));
                }
            }
            b[0].jf = (b.len() - 1) as u8;
            b
        })
        .collect();
    let body: usize = blocks.iter().map(Vec::len).sum();
    // The instruction index of the final return.
    let trap = HEADER + body;
    let to = |from: usize, target: usize| (target - from - 1) as u8;
    // The address of the instruction after `syscall` is what seccomp sees.
    let lo_start = code_start as u32;
    let lo_end = (code_end + 1) as u32;
    let mut f = vec![
        ins(BPF_LD_W_ABS, 0, 0, 4),
        // A foreign architecture (a 32-bit `int 0x80`) traps too: the
        // sentry answers it (with SIGSEGV), the stub is not killed.
        ins(BPF_JEQ_K, 0, to(1, trap), arch::AUDIT_ARCH),
        ins(BPF_LD_W_ABS, 0, 0, 12),
        ins(BPF_JEQ_K, 0, to(3, trap), (code_start >> 32) as u32),
        ins(BPF_LD_W_ABS, 0, 0, 8),
        ins(BPF_JGE_K, 0, to(5, trap), lo_start),
        ins(BPF_JGE_K, to(6, trap), 0, lo_end),
        ins(BPF_LD_W_ABS, 0, 0, 0),
    ];
    for block in blocks {
        f.extend(block);
    }
    f.push(ins(BPF_RET_K, 0, 0, libc::SECCOMP_RET_TRAP));
    f
}

/// Makes a ptrace request.
pub(crate) fn ptrace(
    request: libc::c_uint,
    pid: i32,
    addr: u64,
    data: u64,
) -> Result<libc::c_long> {
    // SAFETY: every caller passes, for requests that take pointers, a
    // pointer to a live buffer of the size the request writes or reads.
    check(unsafe {
        libc::ptrace(
            request,
            pid,
            addr as *mut libc::c_void,
            data as *mut libc::c_void,
        )
    })
}

/// Waits for a state change of `pid` and returns the wait status.
pub(crate) fn wait(pid: i32, flags: i32) -> Result<i32> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a live `int`.
        let ret = unsafe { libc::waitpid(pid, &mut status, flags | libc::__WALL) };
        if ret == pid {
            return Ok(status);
        }
        let e = last_errno();
        if e != Errno::EINTR {
            return Err(e);
        }
    }
}

/// Kills `pid` and reaps it.
pub(crate) fn kill_and_reap(pid: i32) {
    // SAFETY: `kill` takes no pointers; `pid` is a stub that has not been
    // reaped (callers remove pids from their lists before reaping).
    unsafe { libc::kill(pid, libc::SIGKILL) };
    // The stub may already have been reaped by its other owner (ECHILD),
    // which is fine.
    let _ = wait(pid, 0);
}

/// Reads the general registers of a stopped tracee.
pub(crate) fn get_regs(pid: i32) -> Result<GeneralRegisters> {
    let mut regs = GeneralRegisters::default();
    ptrace(libc::PTRACE_GETREGS, pid, 0, &raw mut regs as u64)?;
    Ok(regs)
}

/// Writes the general registers of a stopped tracee.
pub(crate) fn set_regs(pid: i32, regs: &GeneralRegisters) -> Result<()> {
    ptrace(
        libc::PTRACE_SETREGS,
        pid,
        0,
        regs as *const GeneralRegisters as u64,
    )
    .map(drop)
}

/// `NT_X86_XSTATE`, the XSAVE register set.
const NT_X86_XSTATE: u64 = 0x202;

/// Reads the XSAVE image of a stopped tracee into `buf` (which should hold
/// `arch::FP_MAX` bytes) and returns its length.
pub(crate) fn get_fp(pid: i32, buf: &mut [u8]) -> Result<usize> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    ptrace(
        libc::PTRACE_GETREGSET,
        pid,
        NT_X86_XSTATE,
        &raw mut iov as u64,
    )?;
    Ok(iov.iov_len.min(buf.len()))
}

/// Loads an XSAVE image into a stopped tracee.
pub(crate) fn set_fp(pid: i32, image: &[u8]) -> Result<()> {
    let mut iov = libc::iovec {
        iov_base: image.as_ptr() as *mut libc::c_void,
        iov_len: image.len(),
    };
    ptrace(
        libc::PTRACE_SETREGSET,
        pid,
        NT_X86_XSTATE,
        &raw mut iov as u64,
    )
    .map(drop)
}

/// Runs system call `nr` in the stopped tracee `pid`, from the stub's
/// `syscall; int3` at `rip`, with the other registers from `base`; returns
/// the result (a negative result is an error).
///
/// # Preconditions
///
/// The calling thread traces `pid`, which is in a ptrace stop.
pub(crate) fn inject(
    pid: i32,
    base: &GeneralRegisters,
    rip: u64,
    nr: i64,
    args: [u64; 6],
) -> Result<u64> {
    let mut regs = *base;
    arch::set_syscall(&mut regs, rip, nr, args);
    set_regs(pid, &regs)?;
    ptrace(libc::PTRACE_CONT, pid, 0, 0)?;
    loop {
        let status = wait(pid, 0)?;
        if !libc::WIFSTOPPED(status) {
            return Err(Errno::ESRCH);
        }
        if libc::WSTOPSIG(status) == libc::SIGTRAP && status >> 16 == 0 {
            break;
        }
        // A group stop, a stray SIGCONT or an interrupt: suppress it.
        ptrace(libc::PTRACE_CONT, pid, 0, 0)?;
    }
    let ret = get_regs(pid)?.rax as i64;
    if (-4095..0).contains(&ret) {
        return Err(Errno::from_raw(-ret as i32).unwrap_or(Errno::EIO));
    }
    Ok(ret as u64)
}

/// A stopped, traced stub: its pid and the registers it stopped with.
pub(crate) struct Tracee {
    /// The stub's process id.
    pub(crate) pid: i32,
    /// Registers with valid segment selectors, the base of injected calls.
    pub(crate) base: GeneralRegisters,
}

impl Tracee {
    /// Runs system call `nr` in the stub; see [`inject`].
    pub(crate) fn syscall(&self, nr: i64, args: [u64; 6]) -> Result<u64> {
        inject(self.pid, &self.base, stub_page()?.syscall, nr, args)
    }
}

/// Creates the first stub process of an address space, traced by the
/// calling thread, with only the stub page and `memfd` left and the stub
/// filter installed.
///
/// The stub dies with the calling thread (`PR_SET_PDEATHSIG`) and with the
/// tracer (`PTRACE_O_EXITKILL`).
pub(crate) fn spawn_stub(memfd: RawFd) -> Result<Tracee> {
    let page = stub_page()?;
    // SAFETY: `getpid` has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: a fork-like `clone` (no shared memory, no new stack). The child
    // runs only `stub_child`, which makes raw system calls and never returns,
    // so it touches no state of other threads that the copy left
    // inconsistent (locks, allocator).
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::SIGCHLD as u64,
            0u64,
            0u64,
            0u64,
            0u64,
        )
    };
    if pid == 0 {
        stub_child(parent, memfd);
    }
    let pid = check(pid)? as i32;
    let status = wait(pid, 0)?;
    if !libc::WIFSTOPPED(status) || libc::WSTOPSIG(status) != libc::SIGSTOP {
        // The child could not make itself traceable (exit status 10: the
        // host refused PTRACE_TRACEME).
        let _ = wait(pid, libc::WNOHANG);
        return Err(Errno::EPERM);
    }
    let tracee = match ptrace(
        libc::PTRACE_SETOPTIONS,
        pid,
        0,
        (libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD) as u64,
    )
    .and_then(|_| get_regs(pid))
    {
        Ok(base) => Tracee { pid, base },
        Err(e) => {
            kill_and_reap(pid);
            return Err(e);
        }
    };
    if let Err(e) = setup_stub(&tracee, page) {
        kill_and_reap(pid);
        return Err(e);
    }
    Ok(tracee)
}

/// Empties the stub's address space but for the stub page, unblocks every
/// signal and installs the stub filter.
fn setup_stub(t: &Tracee, page: &StubPage) -> Result<()> {
    unregister_rseq(t)?;
    t.syscall(libc::SYS_munmap, [0, page.base, 0, 0, 0, 0])?;
    let above = page.base + PAGE_SIZE;
    t.syscall(libc::SYS_munmap, [above, TASK_TOP - above, 0, 0, 0, 0])?;
    // The stub inherited the signal mask of the thread that created it;
    // the interrupt signal, at least, must get through.
    t.syscall(
        libc::SYS_rt_sigprocmask,
        [libc::SIG_SETMASK as u64, page.empty_sigset, 0, 8, 0, 0],
    )?;
    t.syscall(
        libc::SYS_prctl,
        [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0],
    )?;
    t.syscall(
        libc::SYS_seccomp,
        [libc::SECCOMP_SET_MODE_FILTER as u64, 0, page.fprog, 0, 0, 0],
    )?;
    Ok(())
}

/// `PTRACE_GET_RSEQ_CONFIGURATION`.
const PTRACE_GET_RSEQ_CONFIGURATION: libc::c_uint = 0x420f;
/// `RSEQ_FLAG_UNREGISTER`.
const RSEQ_FLAG_UNREGISTER: u64 = 1;

/// `struct ptrace_rseq_configuration`.
#[repr(C)]
#[derive(Default)]
struct RseqConfiguration {
    rseq_abi_pointer: u64,
    rseq_abi_size: u32,
    signature: u32,
    flags: u32,
    pad: u32,
}

/// Unregisters the restartable-sequence area the stub inherited from the
/// sentry thread (the C library registers one per thread): once the
/// sentry's memory is unmapped the kernel could no longer update it and
/// would kill the stub with `SIGSEGV`.
fn unregister_rseq(t: &Tracee) -> Result<()> {
    let mut conf = RseqConfiguration::default();
    let size = size_of::<RseqConfiguration>() as u64;
    match ptrace(
        PTRACE_GET_RSEQ_CONFIGURATION,
        t.pid,
        size,
        &raw mut conf as u64,
    ) {
        Ok(_) => {}
        // Kernels before 5.13 cannot report it, and have no rseq to speak of
        // for most C libraries of their time.
        Err(Errno::EIO | Errno::EINVAL) => return Ok(()),
        Err(e) => return Err(e),
    }
    if conf.rseq_abi_pointer == 0 {
        return Ok(());
    }
    t.syscall(
        libc::SYS_rseq,
        [
            conf.rseq_abi_pointer,
            conf.rseq_abi_size.into(),
            RSEQ_FLAG_UNREGISTER,
            conf.signature.into(),
            0,
            0,
        ],
    )?;
    Ok(())
}

/// The child side of [`spawn_stub`]: becomes traceable, drops every
/// descriptor but `memfd`, and stops.
fn stub_child(parent: i32, memfd: RawFd) -> ! {
    // Only raw system calls from here: this is a copy of a multi-threaded
    // process.
    // SAFETY: these calls take no pointers.
    unsafe {
        if libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
            libc::syscall(libc::SYS_exit_group, 10);
        }
        libc::syscall(libc::SYS_prctl, libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::syscall(libc::SYS_getppid) != i64::from(parent) {
            libc::syscall(libc::SYS_exit_group, 11);
        }
        let memfd = memfd as u32;
        if memfd > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, memfd - 1, 0u32);
        }
        libc::syscall(libc::SYS_close_range, memfd + 1, u32::MAX, 0u32);
        libc::syscall(
            libc::SYS_kill,
            libc::syscall(libc::SYS_getpid),
            libc::SIGSTOP,
        );
    }
    // The tracer never resumes the child here; if it does, leave.
    loop {
        // SAFETY: `exit_group` takes no pointers.
        unsafe { libc::syscall(libc::SYS_exit_group, 12) };
    }
}

/// Creates another stub process sharing the address space of `master`
/// (`clone(CLONE_VM | CLONE_PARENT)`), stopped and not traced, and returns
/// its pid.
///
/// # Preconditions
///
/// The calling thread traces `master`, which is in a ptrace stop.
pub(crate) fn clone_stub(master: &Tracee) -> Result<i32> {
    let page = stub_page()?;
    let flags = (libc::CLONE_VM | libc::CLONE_PARENT) as u64;
    let pid = inject(
        master.pid,
        &master.base,
        page.clone,
        libc::SYS_clone,
        [flags, 0, 0, 0, 0, 0],
    )? as i32;
    // The child is our child (CLONE_PARENT): wait for it to stop itself.
    let status = wait(pid, libc::WUNTRACED)?;
    if !libc::WIFSTOPPED(status) {
        return Err(Errno::ESRCH);
    }
    Ok(pid)
}

/// Attaches the calling thread to the stopped stub `pid` as its tracer and
/// waits for the attach stop.
pub(crate) fn seize(pid: i32) -> Result<Tracee> {
    let opts = (libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD) as u64;
    ptrace(libc::PTRACE_SEIZE, pid, 0, opts)?;
    // Clear the group stop so that a later detach does not stop the stub
    // again; the SIGCONT this queues is suppressed by the next resume.
    // SAFETY: `kill` takes no pointers; `pid` is our stopped stub.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let status = wait(pid, 0)?;
    if !libc::WIFSTOPPED(status) {
        return Err(Errno::ESRCH);
    }
    let base = get_regs(pid)?;
    Ok(Tracee { pid, base })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_jumps_land_on_returns() {
        for allowed in [&STUB_SYSCALLS[..], &HANDLER_SYSCALLS[..]] {
            let f = stub_filter(0x7ff0_0000_0000, 0x7ff0_0000_0200, allowed);
            for (i, ins) in f.iter().enumerate() {
                if ins.code == BPF_JEQ_K || ins.code == BPF_JGE_K {
                    for off in [ins.jt, ins.jf] {
                        assert!(i + 1 + (off as usize) < f.len());
                    }
                }
            }
            assert_eq!(f.last().unwrap().k, libc::SECCOMP_RET_TRAP);
        }
    }

    /// Runs classic BPF `f` over a `struct seccomp_data` with
    /// abi-linux's checked interpreter (which also checks the filter as
    /// the kernel would before attaching it).
    fn run(f: &[libc::sock_filter], nr: i64, arch: u32, ip: u64, args: [u64; 6]) -> u32 {
        use abi_linux::seccomp::{SeccompData, SeccompFilter, SockFilter};
        let insns: Vec<SockFilter> = f
            .iter()
            .map(|i| SockFilter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect();
        let filter = SeccompFilter::new(&insns).expect("the kernel would accept the filter");
        filter.run(&SeccompData {
            nr: nr as i32,
            arch,
            instruction_pointer: ip,
            args,
        })
    }

    /// Escape test at the filter level: an application that jumps into
    /// the stub's own `syscall` instruction gets only the handler's calls
    /// with the handler's arguments; anything else traps to the sentry.
    #[test]
    fn handler_filter_allows_only_the_handlers_arguments() {
        let (start, end) = (0x7ff0_0000_0000u64, 0x7ff0_0000_0200u64);
        let f = stub_filter(start, end, &HANDLER_SYSCALLS);
        let in_stub = start + 0x40;
        let arch = arch::AUDIT_ARCH;
        let call = |nr, args| run(&f, nr, arch, in_stub, args);
        let allow = libc::SECCOMP_RET_ALLOW;
        let trap = libc::SECCOMP_RET_TRAP;
        let futex = |op: i32| call(libc::SYS_futex, [0x1000, op as u64, 1, 0, 0, 0]);
        assert_eq!(futex(libc::FUTEX_WAIT), allow);
        assert_eq!(futex(libc::FUTEX_WAKE), allow);
        assert_eq!(futex(libc::FUTEX_LOCK_PI), trap);
        assert_eq!(futex(libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG), trap);
        let arch_prctl = |code: u64| call(libc::SYS_arch_prctl, [code, 0, 0, 0, 0, 0]);
        for code in arch::FS_GS_OPERATIONS {
            assert_eq!(arch_prctl(u64::from(code)), allow);
        }
        // ARCH_MAP_VDSO_64.
        assert_eq!(arch_prctl(0x2003), trap);
        assert_eq!(call(libc::SYS_sched_yield, [0; 6]), allow);
        assert_eq!(call(libc::SYS_rt_sigreturn, [0; 6]), allow);
        assert_eq!(call(libc::SYS_mmap, [0; 6]), trap);
        assert_eq!(call(libc::SYS_kill, [0; 6]), trap);
        // The handler's own calls, made from application code, trap too.
        assert_eq!(run(&f, libc::SYS_futex, arch, 0x4000_0000, [0; 6]), trap);
        assert_eq!(run(&f, libc::SYS_futex, arch, end + 0x100, [0; 6]), trap);
        // A 32-bit call traps whatever its number, from anywhere.
        assert_eq!(run(&f, libc::SYS_futex, 0x4000_0003, in_stub, [0; 6]), trap);
    }
}
