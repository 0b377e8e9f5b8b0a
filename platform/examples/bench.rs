//! Measures, in one run, the round trip of a trapped `getppid` under each
//! backend next to the native system call and the floor of each mechanism:
//! a bare `PTRACE_SYSEMU` tracer and a bare `SIGSYS` handler.
//!
//! `cargo run --release -p platform --example bench [ITERATIONS]`

use std::sync::Arc;
use std::time::Instant;

use platform::{
    Access, AddressSpace, Context, MemoryFile, Platform, PtracePlatform, Registers,
    SystrapPlatform, Trap, UsageKind,
};

/// `loop: mov eax, SYS_getppid; syscall; jmp loop`.
const LOOP: [u8; 9] = [
    0xb8,
    libc::SYS_getppid as u8,
    0,
    0,
    0,
    0x0f,
    0x05,
    0xeb,
    0xf7,
];
const CODE: u64 = 0x40_0000;

fn main() {
    let iterations: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    // The floors fork helpers; do it while this process has one thread.
    let sigsys_floor = measure_sigsys_floor(iterations);
    let sysemu_floor = measure_sysemu_floor(iterations);
    let native = measure_native(iterations * 10);

    let mf = Arc::new(MemoryFile::new().expect("memfd"));
    let ptrace = PtracePlatform::new(mf.clone())
        .map_err(|e| println!("ptrace backend unavailable: {e}"))
        .ok()
        .map(|p| measure_backend(&p, &mf, iterations));
    let systrap = SystrapPlatform::new(mf.clone())
        .map_err(|e| println!("seccomp-trap backend unavailable: {e}"))
        .ok()
        .map(|p| measure_backend(&p, &mf, iterations));

    println!("platform bench: {iterations} trapped getppid round trips per measurement");
    let row = |name: &str, ns: Option<f64>| match ns {
        Some(ns) => println!(
            "  {name:<34} {ns:>10.0} ns/op  ({:>6.1}x native)",
            ns / native
        ),
        None => println!("  {name:<34} {:>10}", "n/a"),
    };
    row("native getppid", Some(native));
    row("floor: bare PTRACE_SYSEMU tracer", sysemu_floor);
    row("floor: bare SIGSYS handler", sigsys_floor);
    row("ptrace backend", ptrace);
    row("seccomp-trap backend", systrap);
    let ratio = |name: &str, a: Option<f64>, b: Option<f64>, target: &str| {
        if let (Some(a), Some(b)) = (a, b) {
            println!("  {name:<48} {:>6.2}x  (target {target})", a / b);
        }
    };
    ratio(
        "ptrace backend / bare PTRACE_SYSEMU floor",
        ptrace,
        sysemu_floor,
        "<= 1.5x",
    );
    ratio(
        "seccomp-trap backend / bare SIGSYS floor",
        systrap,
        sigsys_floor,
        "<= 3x",
    );
    ratio(
        "seccomp-trap backend / ptrace backend",
        systrap,
        ptrace,
        "< 1x",
    );
}

fn per_op(start: Instant, n: u64) -> f64 {
    start.elapsed().as_nanos() as f64 / n as f64
}

fn measure_native(n: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: `getppid` takes no arguments.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    per_op(start, n)
}

fn measure_backend(p: &dyn Platform, mf: &MemoryFile, n: u64) -> f64 {
    let mm: Box<dyn AddressSpace> = p.new_address_space().expect("address space");
    let code = mf.allocate(4096, UsageKind::Anonymous).expect("allocate");
    mf.map_internal(code)
        .expect("map")
        .write(0, &LOOP)
        .expect("write");
    mm.map_file(CODE, mf, code, Access::READ_EXECUTE, true)
        .expect("map_file");
    let mut ctx: Box<dyn Context> = p.new_context().expect("context");
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    // Warm up: the first switch creates the context's stub.
    assert_eq!(ctx.switch(&*mm, &mut regs).expect("switch"), Trap::Syscall);
    let start = Instant::now();
    for _ in 0..n {
        regs.set_syscall_return(1);
        let trap = ctx.switch(&*mm, &mut regs).expect("switch");
        debug_assert_eq!(trap, Trap::Syscall);
    }
    let ns = per_op(start, n);
    drop(ctx);
    drop(mm);
    mf.dec_ref(code).expect("dec_ref");
    ns
}

/// A child that stops for its tracer, then makes `getppid` forever.
fn traced_getppid_child() -> ! {
    // SAFETY: raw system calls only, in a freshly forked child.
    unsafe {
        libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
        libc::raise(libc::SIGSTOP);
        loop {
            libc::syscall(libc::SYS_getppid);
        }
    }
}

/// The bare ptrace floor: `PTRACE_SYSEMU`, `waitpid`, `PTRACE_GETREGS`,
/// `PTRACE_SETREGS` (the least a tracer must do to serve a system call).
fn measure_sysemu_floor(n: u64) -> Option<f64> {
    // SAFETY: the process is single-threaded here; the child runs only
    // `traced_getppid_child`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        traced_getppid_child();
    }
    let mut status = 0;
    // SAFETY: `status` is a live int; `pid` is our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if !libc::WIFSTOPPED(status) {
        println!("bare ptrace floor unavailable");
        return None;
    }
    // SAFETY: `regs` is a live user_regs_struct.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    let mut start = Instant::now();
    for i in 0..=n {
        if i == 1 {
            start = Instant::now();
        }
        // SAFETY: ptrace requests on our stopped tracee, with live buffers.
        unsafe {
            libc::ptrace(libc::PTRACE_SYSEMU, pid, 0, 0);
            libc::waitpid(pid, &mut status, 0);
            libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs);
            regs.rax = 1;
            libc::ptrace(libc::PTRACE_SETREGS, pid, 0, &regs);
        }
    }
    let ns = per_op(start, n);
    // SAFETY: killing and reaping our child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, &mut status, 0);
    }
    Some(ns)
}

extern "C" fn sigsys_handler(_sig: i32, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
    let uc = unsafe { &mut *ctx.cast::<libc::ucontext_t>() };
    uc.uc_mcontext.gregs[libc::REG_RAX as usize] = 1;
}

/// The bare seccomp-trap floor: a filter that traps `getppid` and a
/// `SIGSYS` handler that returns 1, measured in a child process (the filter
/// cannot be removed).
fn measure_sigsys_floor(n: u64) -> Option<f64> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    unsafe { libc::pipe(fds.as_mut_ptr()) };
    // SAFETY: the process is single-threaded here.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let ns = sigsys_child(n).unwrap_or(-1.0);
        // SAFETY: writing a local to our pipe, then leaving without
        // running the parent's destructors.
        unsafe {
            libc::write(fds[1], (&raw const ns).cast(), 8);
            libc::_exit(0);
        }
    }
    let mut ns = -1.0f64;
    // SAFETY: reading into a local; reaping our child.
    unsafe {
        libc::read(fds[0], (&raw mut ns).cast(), 8);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    if ns < 0.0 {
        println!("bare SIGSYS floor unavailable");
        return None;
    }
    Some(ns)
}

fn sigsys_child(n: u64) -> Option<f64> {
    // SAFETY: installing a handler with a valid sigaction.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = sigsys_handler as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
    }
    let filter = [
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: libc::SYS_getppid as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_TRAP,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points to a valid filter that outlives the call.
    let ok = unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
            && libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &prog) == 0
    };
    if !ok {
        return None;
    }
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: `getppid` takes no arguments; the filter traps it.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    Some(per_op(start, n))
}
