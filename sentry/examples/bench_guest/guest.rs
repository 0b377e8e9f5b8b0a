//! The system-call microbenchmark run natively, in the sentry and in
//! runsc: a static program without libc (built by `examples/bench.rs`
//! with `rustc`), so every case is exactly the system calls it names.
//!
//! Usage: `guest BASE`, where `BASE` is the directory holding `bench/`
//! (`/` inside a chroot or sandbox). Prints one line per case:
//! `NAME NANOSECONDS_PER_OP`.

#![no_std]
#![no_main]

use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicU32, Ordering};

const SYS_READ: u64 = 0;
const SYS_WRITE: u64 = 1;
const SYS_OPEN: u64 = 2;
const SYS_CLOSE: u64 = 3;
const SYS_STAT: u64 = 4;
const SYS_PREAD64: u64 = 17;
const SYS_PWRITE64: u64 = 18;
const SYS_LSEEK: u64 = 8;
const SYS_GETPPID: u64 = 110;
const SYS_GETDENTS64: u64 = 217;
const SYS_CLOCK_GETTIME: u64 = 228;
const SYS_EXIT_GROUP: u64 = 231;
const SYS_FUTEX: u64 = 202;
const SYS_SOCKETPAIR: u64 = 53;
const SYS_EPOLL_WAIT: u64 = 232;
const SYS_EPOLL_CTL: u64 = 233;
const SYS_EVENTFD2: u64 = 290;
const SYS_EPOLL_CREATE1: u64 = 291;
const SYS_PIPE2: u64 = 293;
const SYS_RT_SIGACTION: u64 = 13;
const SYS_GETPID: u64 = 39;
const SYS_GETTID: u64 = 186;
const SYS_TGKILL: u64 = 234;
const SIGUSR1: u64 = 10;
/// `SA_RESTORER`: the action carries its own return trampoline.
const SA_RESTORER: u64 = 0x0400_0000;
const AF_UNIX: u64 = 1;
const AF_INET: u64 = 2;
const SYS_SOCKET: u64 = 41;
const SYS_CONNECT: u64 = 42;
const SYS_ACCEPT: u64 = 43;
const SYS_BIND: u64 = 49;
const SYS_LISTEN: u64 = 50;
const SYS_GETSOCKNAME: u64 = 51;
const SOCK_STREAM: u64 = 1;
const EPOLL_CTL_ADD: u64 = 1;
const EPOLLIN: u32 = 1;

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
/// `CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
/// CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID`: a thread
/// as glibc's `pthread_create` makes one (without TLS).
const THREAD_FLAGS: u64 = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x100000 | 0x200000;

const O_RDONLY: u64 = 0;
const O_RDWR: u64 = 2;
const O_CREAT: u64 = 0o100;
const O_DIRECTORY: u64 = 0o200000;

global_asm!(
    // The signal handler returns here (`sa_restorer`).
    ".globl sig_restorer",
    "sig_restorer:",
    "mov eax, 15",
    "syscall",
    "ud2",
    ".globl _start",
    "_start:",
    "mov rdi, rsp",
    "and rsp, -16",
    "call guest_main",
    "ud2",
    // raw_clone(flags, stack, parent_tid, child_tid) -> tid: the child
    // starts on `stack`, which holds the function and its argument, calls
    // the function and exits its thread.
    ".globl raw_clone",
    "raw_clone:",
    "mov r10, rcx",
    "xor r8d, r8d",
    "mov eax, 56",
    "syscall",
    "test rax, rax",
    "jnz 2f",
    "pop rax",
    "pop rdi",
    "and rsp, -16",
    "call rax",
    "xor edi, edi",
    "mov eax, 60",
    "syscall",
    "ud2",
    "2:",
    "ret",
);

unsafe extern "C" {
    fn sig_restorer();
    fn raw_clone(flags: u64, stack: u64, parent_tid: u64, child_tid: u64) -> i64;
}

/// The stack of the benchmark's second thread.
static mut THREAD_STACK: [u64; 8192] = [0; 8192];

/// Starts a thread running `f(arg)`; `tid_word` gets its TID and is
/// cleared (and futex-woken) when it exits.
fn spawn(f: extern "C" fn(u64), arg: u64, tid_word: &AtomicU32) {
    // SAFETY: one thread at a time uses the stack: the caller joins each
    // thread before starting the next.
    let stack = unsafe { &mut *core::ptr::addr_of_mut!(THREAD_STACK) };
    let top = stack.len() - 2;
    stack[top] = f as usize as u64;
    stack[top + 1] = arg;
    let word = tid_word.as_ptr() as u64;
    let sp = core::ptr::addr_of!(stack[top]) as u64;
    // SAFETY: the flags make a thread in this address space; the stack
    // holds what `raw_clone`'s child pops; the TID word outlives it.
    check(unsafe { raw_clone(THREAD_FLAGS, sp, word, word) });
}

/// Waits until the thread whose TID `tid_word` holds has exited.
fn join(tid_word: &AtomicU32) {
    loop {
        let v = tid_word.load(Ordering::SeqCst);
        if v == 0 {
            return;
        }
        futex(tid_word, FUTEX_WAIT, v);
    }
}

fn futex(word: &AtomicU32, op: u64, val: u32) -> i64 {
    // SAFETY: `word` is a live, aligned futex word.
    unsafe { syscall(SYS_FUTEX, word.as_ptr() as u64, op, u64::from(val), 0) }
}

extern "C" fn nothing(_: u64) {}

/// The ping-pong word: 1 while the main thread waits for the reply, 0
/// while the other thread waits for the next ping, 2 to stop.
static PING: AtomicU32 = AtomicU32::new(0);

extern "C" fn ponger(_: u64) {
    loop {
        match PING.load(Ordering::SeqCst) {
            0 => {
                futex(&PING, FUTEX_WAIT, 0);
            }
            1 => {
                PING.store(0, Ordering::SeqCst);
                futex(&PING, FUTEX_WAKE, 1);
            }
            _ => return,
        }
    }
}

/// Signals handled by [`on_signal`].
static HANDLED: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_signal(_: i32) {
    HANDLED.fetch_add(1, Ordering::Relaxed);
}

/// The other thread's buffer for the socket and pipe cases.
static mut PEER_BUF: [u8; 65536] = [0; 65536];

/// Reads exactly `len` bytes from `fd` into `buf`; false at end of file.
fn read_exact(fd: u64, buf: u64, len: u64) -> bool {
    let mut got = 0;
    while got < len {
        // SAFETY: `buf` points to at least `len` writable bytes.
        let n = unsafe { syscall(SYS_READ, fd, buf + got, len - got, 0) };
        if n <= 0 {
            return false;
        }
        got += n as u64;
    }
    true
}

/// Writes all of `len` bytes at `buf` to `fd`.
fn write_exact(fd: u64, buf: u64, len: u64) {
    let mut put = 0;
    while put < len {
        // SAFETY: `buf` points to at least `len` readable bytes.
        put += check(unsafe { syscall(SYS_WRITE, fd, buf + put, len - put, 0) });
    }
}

/// Echoes 64-byte messages on socket `fd` until its peer closes.
extern "C" fn echo(fd: u64) {
    // Only this thread uses `PEER_BUF` while it runs.
    let buf = core::ptr::addr_of_mut!(PEER_BUF) as u64;
    while read_exact(fd, buf, 64) {
        write_exact(fd, buf, 64);
    }
}

/// Echoes single bytes on socket `fd` until its peer closes.
extern "C" fn echo_byte(fd: u64) {
    // Only this thread uses `PEER_BUF` while it runs.
    let buf = core::ptr::addr_of_mut!(PEER_BUF) as u64;
    while read_exact(fd, buf, 1) {
        write_exact(fd, buf, 1);
    }
}

/// A TCP listener on 127.0.0.1 and an ephemeral port: its descriptor
/// and its `sockaddr_in`.
fn tcp_listener() -> (u64, [u8; 16]) {
    let mut addr = [0u8; 16];
    addr[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
    addr[4..8].copy_from_slice(&[127, 0, 0, 1]);
    // SAFETY: plain integer arguments.
    let fd = check(unsafe { syscall(SYS_SOCKET, AF_INET, SOCK_STREAM, 0, 0) });
    // SAFETY: `addr` is a `sockaddr_in` of 16 bytes.
    check(unsafe { syscall(SYS_BIND, fd, addr.as_ptr() as u64, 16, 0) });
    // SAFETY: plain integer arguments.
    check(unsafe { syscall(SYS_LISTEN, fd, 128, 0, 0) });
    let mut len = 16u32;
    // SAFETY: `addr` has room for 16 bytes, `len` says so.
    check(unsafe {
        syscall(SYS_GETSOCKNAME, fd, addr.as_mut_ptr() as u64, &mut len as *mut u32 as u64, 0)
    });
    (fd, addr)
}

/// A connected pair through `listener` at `addr`: (client, server).
fn tcp_pair(listener: u64, addr: &[u8; 16]) -> (u64, u64) {
    // SAFETY: plain integer arguments.
    let client = check(unsafe { syscall(SYS_SOCKET, AF_INET, SOCK_STREAM, 0, 0) });
    // SAFETY: `addr` is a `sockaddr_in` of 16 bytes.
    check(unsafe { syscall(SYS_CONNECT, client, addr.as_ptr() as u64, 16, 0) });
    // SAFETY: no address is asked for.
    let server = check(unsafe { syscall(SYS_ACCEPT, listener, 0, 0, 0) });
    (client, server)
}

/// Reads and discards from `fd` until its writer closes.
extern "C" fn drain(fd: u64) {
    // Only this thread uses `PEER_BUF` while it runs.
    let buf = core::ptr::addr_of_mut!(PEER_BUF) as u64;
    // SAFETY: `buf` holds 65536 writable bytes.
    while unsafe { syscall(SYS_READ, fd, buf, 65536, 0) } > 0 {}
}

unsafe fn syscall(n: u64, a: u64, b: u64, c: u64, d: u64) -> i64 {
    let ret: i64;
    // SAFETY: the caller passes arguments valid for system call `n`.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n as i64 => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

fn exit(code: u64) -> ! {
    // SAFETY: `exit_group` takes an integer and does not return.
    unsafe { syscall(SYS_EXIT_GROUP, code, 0, 0, 0) };
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    exit(101)
}

fn now_ns() -> u64 {
    let mut ts = [0i64; 2];
    // SAFETY: `ts` is a `struct timespec` to write.
    unsafe { syscall(SYS_CLOCK_GETTIME, 1, ts.as_mut_ptr() as u64, 0, 0) };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

fn write_all(bytes: &[u8]) {
    // SAFETY: `bytes` is readable for its length.
    unsafe { syscall(SYS_WRITE, 1, bytes.as_ptr() as u64, bytes.len() as u64, 0) };
}

/// A path: `BASE` + `rest` + NUL, in a fixed buffer.
struct Path {
    buf: [u8; 256],
}

impl Path {
    fn new(base: &[u8], rest: &[u8]) -> Path {
        let mut buf = [0u8; 256];
        let mut n = 0;
        for &b in base.iter().chain(rest) {
            if n + 1 >= buf.len() {
                exit(102);
            }
            buf[n] = b;
            n += 1;
        }
        Path { buf }
    }

    fn ptr(&self) -> u64 {
        self.buf.as_ptr() as u64
    }
}

fn check(ret: i64) -> u64 {
    if ret < 0 {
        exit(103);
    }
    ret as u64
}

fn report(name: &[u8], iterations: u64, start: u64) {
    let per_op = (now_ns() - start) / iterations;
    let mut line = [0u8; 64];
    let mut n = 0;
    for &b in name {
        line[n] = b;
        n += 1;
    }
    line[n] = b' ';
    n += 1;
    let mut digits = [0u8; 20];
    let mut d = 0;
    let mut v = per_op;
    loop {
        digits[d] = b'0' + (v % 10) as u8;
        d += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    while d > 0 {
        d -= 1;
        line[n] = digits[d];
        n += 1;
    }
    line[n] = b'\n';
    write_all(&line[..n + 1]);
}

static mut BUF: [u8; 65536] = [0; 65536];

#[no_mangle]
extern "C" fn guest_main(sp: *const u64) -> ! {
    // SAFETY: the kernel put `argc` at `sp` and `argv` after it.
    let (argc, argv) = unsafe { (*sp, sp.add(1) as *const *const u8) };
    if argc < 3 {
        exit(2);
    }
    // SAFETY: `argv[1]` is a NUL-terminated string.
    let base = unsafe { cstr(*argv.add(1)) };
    // SAFETY: as above; `argv[2]` is the iteration scale in percent.
    let scale = parse(unsafe { cstr(*argv.add(2)) });
    let n = |base_count: u64| (base_count * scale / 100).max(1);
    // SAFETY: the only access to `BUF`, from this single thread.
    let buf = unsafe { &mut *core::ptr::addr_of_mut!(BUF) };
    let buf_ptr = buf.as_mut_ptr() as u64;

    let iters = n(20000);
    let start = now_ns();
    for _ in 0..iters {
        // SAFETY: `getppid` takes no arguments.
        unsafe { syscall(SYS_GETPPID, 0, 0, 0, 0) };
    }
    report(b"getppid", iters, start);

    let file = Path::new(base, b"bench/f0\0");
    let deep = Path::new(base, b"bench/d1/d2/d3/d4/d5/d6/d7/d8/f\0");
    let big = Path::new(base, b"bench/big\0");
    let dir = Path::new(base, b"bench/dir1000\0");
    let out = Path::new(base, b"tmp/bench-out\0");
    let mut st = [0u8; 144];
    for (name, path) in [(&b"stat"[..], &file), (b"stat-depth8", &deep)] {
        let iters = n(5000);
        let start = now_ns();
        for _ in 0..iters {
            // SAFETY: a path and a `struct stat` buffer.
            check(unsafe { syscall(SYS_STAT, path.ptr(), st.as_mut_ptr() as u64, 0, 0) });
        }
        report(name, iters, start);
    }

    let iters = n(5000);
    let start = now_ns();
    for _ in 0..iters {
        // SAFETY: a path, flags and mode; then the descriptor returned.
        let fd = check(unsafe { syscall(SYS_OPEN, file.ptr(), O_RDONLY, 0, 0) });
        // SAFETY: closing the descriptor just opened.
        unsafe { syscall(SYS_CLOSE, fd, 0, 0, 0) };
    }
    report(b"open+close", iters, start);

    // SAFETY: a path, flags and mode.
    let fd = check(unsafe { syscall(SYS_OPEN, big.ptr(), O_RDONLY, 0, 0) });
    for (name, len, count) in [(&b"pread-4k"[..], 4096, 5000), (b"pread-64k", 65536, 2000)] {
        let iters = n(count);
        let start = now_ns();
        for _ in 0..iters {
            // SAFETY: `buf` holds `len` bytes.
            check(unsafe { syscall(SYS_PREAD64, fd, buf_ptr, len, 0) });
        }
        report(name, iters, start);
    }
    // SAFETY: closing the descriptor opened above.
    unsafe { syscall(SYS_CLOSE, fd, 0, 0, 0) };

    // SAFETY: a path, flags and mode.
    let fd = check(unsafe { syscall(SYS_OPEN, out.ptr(), O_RDWR | O_CREAT, 0o644, 0) });
    let iters = n(5000);
    let start = now_ns();
    for _ in 0..iters {
        // SAFETY: `buf` holds 4096 bytes.
        check(unsafe { syscall(SYS_PWRITE64, fd, buf_ptr, 4096, 0) });
    }
    report(b"pwrite-4k", iters, start);
    // SAFETY: closing the descriptor opened above.
    unsafe { syscall(SYS_CLOSE, fd, 0, 0, 0) };

    let iters = n(3000);
    let start = now_ns();
    for _ in 0..iters {
        // SAFETY: a NUL-terminated path, flags and mode.
        let fd = check(unsafe { syscall(SYS_OPEN, file.ptr(), O_RDONLY, 0, 0) });
        // SAFETY: `buf_ptr` points to at least 4096 writable bytes of `buf`.
        check(unsafe { syscall(SYS_READ, fd, buf_ptr, 4096, 0) });
        // SAFETY: closes the descriptor just opened; no memory is passed.
        unsafe { syscall(SYS_CLOSE, fd, 0, 0, 0) };
    }
    report(b"open+read+close", iters, start);

    // SAFETY: a path, flags and mode.
    let fd = check(unsafe { syscall(SYS_OPEN, dir.ptr(), O_RDONLY | O_DIRECTORY, 0, 0) });
    let iters = n(200);
    let start = now_ns();
    for _ in 0..iters {
        // SAFETY: rewinds the directory; no memory is passed.
        check(unsafe { syscall(SYS_LSEEK, fd, 0, 0, 0) });
        // SAFETY: `buf_ptr` points to at least 32768 writable bytes of `buf`.
        while check(unsafe { syscall(SYS_GETDENTS64, fd, buf_ptr, 32768, 0) }) > 0 {}
    }
    report(b"getdents-1000", iters, start);

    let tid = AtomicU32::new(0);
    let iters = n(300);
    let start = now_ns();
    for _ in 0..iters {
        spawn(nothing, 0, &tid);
        join(&tid);
    }
    report(b"thread-create+join", iters, start);

    spawn(ponger, 0, &tid);
    let iters = n(5000);
    let start = now_ns();
    for _ in 0..iters {
        PING.store(1, Ordering::SeqCst);
        futex(&PING, FUTEX_WAKE, 1);
        while PING.load(Ordering::SeqCst) == 1 {
            futex(&PING, FUTEX_WAIT, 1);
        }
    }
    report(b"futex-pingpong", iters, start);
    PING.store(2, Ordering::SeqCst);
    futex(&PING, FUTEX_WAKE, 1);
    join(&tid);

    let mut pair = [0i32; 2];
    // SAFETY: `pair` receives two descriptors.
    check(unsafe { syscall(SYS_SOCKETPAIR, AF_UNIX, SOCK_STREAM, 0, pair.as_mut_ptr() as u64) });
    spawn(echo, pair[1] as u64, &tid);
    let iters = n(5000);
    let start = now_ns();
    for _ in 0..iters {
        write_exact(pair[0] as u64, buf_ptr, 64);
        read_exact(pair[0] as u64, buf_ptr, 64);
    }
    report(b"unix-pingpong-64", iters, start);
    // SAFETY: closing this end ends the echo thread.
    unsafe { syscall(SYS_CLOSE, pair[0] as u64, 0, 0, 0) };
    join(&tid);
    // SAFETY: closing the other end.
    unsafe { syscall(SYS_CLOSE, pair[1] as u64, 0, 0, 0) };

    for (name, pipe) in [(&b"unix-stream-64k"[..], false), (b"pipe-64k", true)] {
        let mut ends = [0i32; 2];
        // SAFETY: `ends` receives two descriptors.
        check(unsafe {
            if pipe {
                syscall(SYS_PIPE2, ends.as_mut_ptr() as u64, 0, 0, 0)
            } else {
                syscall(SYS_SOCKETPAIR, AF_UNIX, SOCK_STREAM, 0, ends.as_mut_ptr() as u64)
            }
        });
        let (reader, writer) = if pipe { (ends[0], ends[1]) } else { (ends[1], ends[0]) };
        spawn(drain, reader as u64, &tid);
        let iters = n(2000);
        let start = now_ns();
        for _ in 0..iters {
            write_exact(writer as u64, buf_ptr, 65536);
        }
        // SAFETY: closing the writer ends the drain thread, whose reads
        // complete the transfer.
        unsafe { syscall(SYS_CLOSE, writer as u64, 0, 0, 0) };
        join(&tid);
        report(name, iters, start);
        // SAFETY: closing the reader.
        unsafe { syscall(SYS_CLOSE, reader as u64, 0, 0, 0) };
    }

    let (listener, addr) = tcp_listener();
    let (client, server) = tcp_pair(listener, &addr);
    spawn(echo_byte, server, &tid);
    let iters = n(5000);
    let start = now_ns();
    for _ in 0..iters {
        write_exact(client, buf_ptr, 1);
        read_exact(client, buf_ptr, 1);
    }
    report(b"tcp-pingpong-1", iters, start);
    // SAFETY: closing the client ends the echo thread.
    unsafe { syscall(SYS_CLOSE, client, 0, 0, 0) };
    join(&tid);
    // SAFETY: closing the server side.
    unsafe { syscall(SYS_CLOSE, server, 0, 0, 0) };

    let (client, server) = tcp_pair(listener, &addr);
    spawn(drain, server, &tid);
    let iters = n(2000);
    let start = now_ns();
    for _ in 0..iters {
        write_exact(client, buf_ptr, 65536);
    }
    // SAFETY: closing the writer ends the drain thread.
    unsafe { syscall(SYS_CLOSE, client, 0, 0, 0) };
    join(&tid);
    report(b"tcp-stream-64k", iters, start);
    // SAFETY: closing the reader.
    unsafe { syscall(SYS_CLOSE, server, 0, 0, 0) };

    let iters = n(1000);
    let start = now_ns();
    for _ in 0..iters {
        let (client, server) = tcp_pair(listener, &addr);
        // SAFETY: closing both ends just made.
        unsafe {
            syscall(SYS_CLOSE, client, 0, 0, 0);
            syscall(SYS_CLOSE, server, 0, 0, 0);
        }
    }
    report(b"tcp-connect+accept+close", iters, start);
    // SAFETY: closing the listener.
    unsafe { syscall(SYS_CLOSE, listener, 0, 0, 0) };

    // SAFETY: an eventfd with a count of 1 and no flags.
    let efd = check(unsafe { syscall(SYS_EVENTFD2, 1, 0, 0, 0) });
    // SAFETY: no flags.
    let ep = check(unsafe { syscall(SYS_EPOLL_CREATE1, 0, 0, 0, 0) });
    let mut event = [0u8; 12];
    event[..4].copy_from_slice(&EPOLLIN.to_ne_bytes());
    // SAFETY: `event` is a packed `struct epoll_event`.
    check(unsafe { syscall(SYS_EPOLL_CTL, ep, EPOLL_CTL_ADD, efd, event.as_ptr() as u64) });
    let iters = n(20000);
    let start = now_ns();
    for _ in 0..iters {
        // SAFETY: `event` has room for one event; no timeout.
        check(unsafe { syscall(SYS_EPOLL_WAIT, ep, event.as_mut_ptr() as u64, 1, 0) });
    }
    report(b"epoll-ready-eventfd", iters, start);

    // A signal round trip: tgkill to this thread, the handler, and
    // rt_sigreturn through the restorer.
    let action: [u64; 4] = [
        on_signal as *const () as u64,
        SA_RESTORER,
        sig_restorer as *const () as u64,
        0,
    ];
    // SAFETY: `action` is a `struct sigaction` as the kernel reads it.
    check(unsafe { syscall(SYS_RT_SIGACTION, SIGUSR1, action.as_ptr() as u64, 0, 8) });
    // SAFETY: plain integer calls.
    let (pid, tid) = unsafe { (syscall(SYS_GETPID, 0, 0, 0, 0), syscall(SYS_GETTID, 0, 0, 0, 0)) };
    let iters = n(5000);
    let start = now_ns();
    for _ in 0..iters {
        // SAFETY: signals this thread; its handler returns normally.
        check(unsafe { syscall(SYS_TGKILL, pid as u64, tid as u64, SIGUSR1, 0) });
    }
    report(b"signal-roundtrip", iters, start);
    if u64::from(HANDLED.load(Ordering::Relaxed)) != iters {
        exit(3);
    }
    exit(0)
}

/// The bytes of a NUL-terminated string.
///
/// # Safety
///
/// `p` points at a NUL-terminated string that lives for the program.
unsafe fn cstr(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated, so every byte up to the NUL
    // is readable.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: the `n` bytes before the NUL are readable.
    unsafe { core::slice::from_raw_parts(p, n) }
}

fn parse(s: &[u8]) -> u64 {
    s.iter()
        .filter(|b| b.is_ascii_digit())
        .fold(0, |v, &b| v * 10 + u64::from(b - b'0'))
}
