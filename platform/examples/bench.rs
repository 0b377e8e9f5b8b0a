//! Measures, in one run, the round trip of a trapped `getppid` under each
//! backend next to the native system call and the floor of each mechanism:
//! a bare `PTRACE_SYSEMU` tracer and a bare `SIGSYS` handler.
//!
//! Every row runs the same workload. The rows are measured in interleaved
//! rounds (one round of each row, then the next round) and each row reports
//! the median of its rounds, so that a burst of load from other processes
//! on the machine falls on every row alike rather than on one of them.
//!
//! `cargo run --release -p platform --example bench [ITERATIONS [ROUNDS]]`

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

/// The default number of interleaved rounds.
const DEFAULT_ROUNDS: usize = 7;

fn main() {
    let iterations: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(DEFAULT_ROUNDS);
    // The floors fork helpers; do it while this process has one thread.
    let mut sigsys_floor = SigsysFloor::start();
    let mut sysemu_floor = SysemuFloor::start();

    let mf = Arc::new(MemoryFile::new().expect("memfd"));
    let ptrace_platform = PtracePlatform::new(mf.clone())
        .map_err(|e| println!("ptrace backend unavailable: {e}"))
        .ok();
    let systrap_platform = SystrapPlatform::new(mf.clone())
        .map_err(|e| println!("seccomp-trap backend unavailable: {e}"))
        .ok();
    let mut ptrace = ptrace_platform.as_ref().map(|p| BackendLoop::new(p, &mf));
    let mut systrap = systrap_platform.as_ref().map(|p| BackendLoop::new(p, &mf));

    let mut samples: [Vec<f64>; 5] = Default::default();
    for _ in 0..rounds {
        samples[0].push(measure_native(iterations * 10));
        if let Some(f) = sysemu_floor.as_mut() {
            samples[1].push(f.round(iterations));
        }
        if let Some(ns) = sigsys_floor.as_mut().and_then(|f| f.round(iterations)) {
            samples[2].push(ns);
        }
        if let Some(b) = ptrace.as_mut() {
            samples[3].push(b.round(iterations));
        }
        if let Some(b) = systrap.as_mut() {
            samples[4].push(b.round(iterations));
        }
    }
    for backend in [ptrace, systrap].into_iter().flatten() {
        backend.finish();
    }
    drop(sysemu_floor);
    drop(sigsys_floor);
    let [native, sysemu_floor, sigsys_floor, ptrace, systrap] = samples.map(median);
    let native = native.expect("native rounds");

    println!(
        "platform bench: {iterations} trapped getppid round trips per round, \
         median of {rounds} interleaved rounds"
    );
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

/// Returns the median of `samples`, `None` if there are none.
fn median(mut samples: Vec<f64>) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    Some(if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2.0
    })
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

/// The `getppid` loop running under one backend, kept across rounds.
struct BackendLoop<'a> {
    mf: &'a MemoryFile,
    code: platform::FileRange,
    ctx: Box<dyn Context>,
    mm: Box<dyn AddressSpace>,
    regs: Registers,
}

impl<'a> BackendLoop<'a> {
    fn new(p: &dyn Platform, mf: &'a MemoryFile) -> Self {
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
        Self {
            mf,
            code,
            ctx,
            mm,
            regs,
        }
    }

    fn round(&mut self, n: u64) -> f64 {
        let start = Instant::now();
        for _ in 0..n {
            self.regs.set_syscall_return(1);
            let trap = self.ctx.switch(&*self.mm, &mut self.regs).expect("switch");
            debug_assert_eq!(trap, Trap::Syscall);
        }
        per_op(start, n)
    }

    /// Drops the context and the address space, then frees the code.
    fn finish(self) {
        let Self {
            mf, code, ctx, mm, ..
        } = self;
        drop(ctx);
        drop(mm);
        mf.dec_ref(code).expect("dec_ref");
    }
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
/// `PTRACE_SETREGS` (the least a tracer must do to serve a system call),
/// with a traced child kept across rounds.
struct SysemuFloor {
    pid: libc::pid_t,
}

impl SysemuFloor {
    fn start() -> Option<Self> {
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
        Some(Self { pid })
    }

    fn round(&mut self, n: u64) -> f64 {
        let mut status = 0;
        // SAFETY: `regs` is a live user_regs_struct.
        let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        let mut start = Instant::now();
        for i in 0..=n {
            if i == 1 {
                start = Instant::now();
            }
            // SAFETY: ptrace requests on our stopped tracee, with live
            // buffers.
            unsafe {
                libc::ptrace(libc::PTRACE_SYSEMU, self.pid, 0, 0);
                libc::waitpid(self.pid, &mut status, 0);
                libc::ptrace(libc::PTRACE_GETREGS, self.pid, 0, &mut regs);
                regs.rax = 1;
                libc::ptrace(libc::PTRACE_SETREGS, self.pid, 0, &regs);
            }
        }
        per_op(start, n)
    }
}

impl Drop for SysemuFloor {
    fn drop(&mut self) {
        // SAFETY: killing and reaping our child.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

extern "C" fn sigsys_handler(_sig: i32, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
    let uc = unsafe { &mut *ctx.cast::<libc::ucontext_t>() };
    uc.uc_mcontext.gregs[libc::REG_RAX as usize] = 1;
}

/// The bare seccomp-trap floor: a filter that traps `getppid` and a
/// `SIGSYS` handler that returns 1, in a child process (the filter cannot
/// be removed) that runs a round of `n` calls for each `n` it reads from
/// its command pipe and writes back the time per call (negative if it
/// could not install the filter).
struct SigsysFloor {
    pid: libc::pid_t,
    command: libc::c_int,
    result: libc::c_int,
}

impl SigsysFloor {
    fn start() -> Option<Self> {
        let mut command = [0; 2];
        let mut result = [0; 2];
        // SAFETY: each array has room for two descriptors.
        unsafe {
            libc::pipe(command.as_mut_ptr());
            libc::pipe(result.as_mut_ptr());
        }
        // SAFETY: the process is single-threaded here.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: closing the parent's ends of the pipes, so that the
            // command pipe reads end of file once the parent closes its end.
            unsafe {
                libc::close(command[1]);
                libc::close(result[0]);
            }
            let installed = install_sigsys_filter();
            loop {
                let mut n = 0u64;
                // SAFETY: reading into a local from our pipe.
                let got = unsafe { libc::read(command[0], (&raw mut n).cast(), 8) };
                if got != 8 || n == 0 {
                    break;
                }
                let ns = if installed { sigsys_round(n) } else { -1.0 };
                // SAFETY: writing a local to our pipe.
                unsafe { libc::write(result[1], (&raw const ns).cast(), 8) };
            }
            // SAFETY: leaving without running the parent's destructors.
            unsafe { libc::_exit(0) };
        }
        // SAFETY: closing the child's ends of the pipes.
        unsafe {
            libc::close(command[0]);
            libc::close(result[1]);
        }
        let mut floor = Self {
            pid,
            command: command[1],
            result: result[0],
        };
        if floor.round(1).is_none() {
            println!("bare SIGSYS floor unavailable");
            return None;
        }
        Some(floor)
    }

    fn round(&mut self, n: u64) -> Option<f64> {
        let mut ns = -1.0f64;
        // SAFETY: writing and reading locals through our pipes.
        let ok = unsafe {
            libc::write(self.command, (&raw const n).cast(), 8) == 8
                && libc::read(self.result, (&raw mut ns).cast(), 8) == 8
        };
        (ok && ns >= 0.0).then_some(ns)
    }
}

impl Drop for SigsysFloor {
    fn drop(&mut self) {
        // SAFETY: closing our pipe ends makes the child exit; then reaping
        // it.
        unsafe {
            libc::close(self.command);
            libc::close(self.result);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

/// Installs, in the calling (child) process, a `SIGSYS` handler and a
/// filter that traps `getppid`.
fn install_sigsys_filter() -> bool {
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
    unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
            && libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &prog) == 0
    }
}

/// Makes `n` trapped `getppid` calls and returns the time per call.
fn sigsys_round(n: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: `getppid` takes no arguments; the filter traps it.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    per_op(start, n)
}
