//! Process creation and ending (gVisor's `sys_thread.go`, `task_clone.go`,
//! `task_exec.go`, `task_exit.go`, `sys_signal.go` for `kill`):
//! `clone`/`fork`/`vfork` of a new process, `execve`/`execveat`,
//! `wait4`/`waitid`, and `kill`/`tkill`/`tgkill` with default actions.
//!
//! A new process gets a copy of the memory manager (private pages shared
//! copy-on-write, see [`crate::mm::MemoryManager::fork`]), of the
//! descriptor table, fs context and signal actions, and its own task on a
//! new thread (the platform binds contexts to the thread that creates
//! them). `vfork` is a `fork`: the parent does not wait for the child to
//! exec or exit, and a child that writes to memory before its `execve`
//! writes to its own copy (as after `fork`). Threads (`CLONE_VM` without
//! `CLONE_VFORK`, `CLONE_THREAD`) and the sharing flags (`CLONE_FILES`,
//! `CLONE_FS`, `CLONE_SIGHAND`), namespaces and pidfds are `ENOSYS`.
//!
//! # Reference model
//!
//! The new task holds its own references (one per descriptor, on the root
//! and working directory, on the memory-file pages it maps); the task set
//! records the child as its parent's until it is reaped.

use std::sync::Arc;

use abi_linux::Errno;
use abi_linux::syscalls::x86_64 as nr;

use super::{AT_FDCWD, Add, Arg, SysResult, read_path};
use crate::loader;
use crate::mm::MemoryManager;
use crate::task::{ExitStatus, ProcessInfo, Task, UNBLOCKABLE, WaitTarget};
use crate::wait::KillSwitch;

use Arg::{Fd, Hex, Int, Path};

const CSIGNAL: u64 = 0xff;
const CLONE_VM: u64 = 0x100;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_SYSVSEM: u64 = 0x40000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
const CLONE_DETACHED: u64 = 0x40_0000;
const CLONE_UNTRACED: u64 = 0x80_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;
const CLONE_IO: u64 = 0x8000_0000;
/// The flags a new process may be created with.
const CLONE_SUPPORTED: u64 = CSIGNAL
    | CLONE_VM
    | CLONE_VFORK
    | CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_DETACHED
    | CLONE_UNTRACED
    | CLONE_CHILD_SETTID
    | CLONE_IO;
/// `SIGCHLD`.
const SIGCHLD: u64 = 17;

const WNOHANG: u64 = 1;
const WUNTRACED: u64 = 2;
const WEXITED: u64 = 4;
const WCONTINUED: u64 = 8;
const WNOWAIT: u64 = 0x0100_0000;
const WNOTHREAD: u64 = 0x2000_0000;
const WALL: u64 = 0x4000_0000;
const WCLONE: u64 = 0x8000_0000;
const P_ALL: u64 = 0;
const P_PID: u64 = 1;
const P_PGID: u64 = 2;
/// `CLD_EXITED` and `CLD_KILLED` (`si_code` of `SIGCHLD`).
const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;
/// `sizeof(struct rusage)`.
const RUSAGE_SIZE: usize = 144;

const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_EMPTY_PATH: u64 = 0x1000;
/// The longest single argument or environment string (`MAX_ARG_STRLEN`).
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// The most bytes of arguments and environment together (the loader's
/// limit on the initial stack's strings).
const MAX_ARG_BYTES: usize = 2 << 20;

pub(super) fn register(add: &mut Add<'_>) {
    add(nr::CLONE, sys_clone, &[Hex, Hex, Hex, Hex, Hex]);
    add(nr::FORK, sys_fork, &[]);
    add(nr::VFORK, sys_fork, &[]);
    add(nr::EXECVE, sys_execve, &[Path, Hex, Hex]);
    add(nr::EXECVEAT, sys_execveat, &[Fd, Path, Hex, Hex, Hex]);
    add(nr::WAIT4, sys_wait4, &[Int, Hex, Hex, Hex]);
    add(nr::WAITID, sys_waitid, &[Int, Int, Hex, Hex, Hex]);
    add(nr::KILL, sys_kill, &[Int, Int]);
    add(nr::TKILL, sys_tkill, &[Int, Int]);
    add(nr::TGKILL, sys_tgkill, &[Int, Int, Int]);
    add(nr::RT_SIGRETURN, sys_rt_sigreturn, &[]);
    add(nr::RT_SIGSUSPEND, sys_rt_sigsuspend, &[Hex, Int]);
    add(nr::PAUSE, sys_pause, &[]);
}

fn sys_fork(t: &mut Task, _: [u64; 6]) -> SysResult {
    fork(t, SIGCHLD, 0, 0, 0, 0)
}

fn sys_clone(t: &mut Task, a: [u64; 6]) -> SysResult {
    // x86_64 order: flags, stack, parent_tid, child_tid, tls.
    fork(t, a[0], a[1], a[2], a[3], a[4])
}

/// Creates a new process running a copy of `t` (gVisor's `Task.Clone`
/// without shared state); returns the child's process ID.
fn fork(
    t: &mut Task,
    flags: u64,
    stack: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
) -> SysResult {
    if flags & !CLONE_SUPPORTED != 0 || (flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0) {
        return Err(Errno::ENOSYS);
    }
    let kernel = t.kernel.clone();
    // The thread first: if it cannot be had, nothing else was taken.
    let (tx, rx) = std::sync::mpsc::channel::<Task>();
    std::thread::Builder::new()
        .name("task".into())
        .spawn(move || run_child(rx))
        .map_err(|_| Errno::EAGAIN)?;
    let address_space = kernel.platform.new_address_space()?;
    let mm = Arc::new(t.mm.fork(address_space)?);
    let fs = t.fs.fork()?;
    let fds = Arc::new(t.fds.fork());
    let handlers = t.signal_handlers.copy();
    let kill = KillSwitch::new();
    let ctx_for_release = t.ctx.clone();
    let pid = match kernel
        .tasks
        .new_process(t.tgid, kill.clone(), handlers.clone())
    {
        Ok(pid) => pid,
        Err(e) => {
            fds.close_all(&ctx_for_release);
            fs.release(&ctx_for_release);
            return Err(e);
        }
    };
    let mut regs = t.regs.clone();
    regs.set_syscall_return(0);
    if stack != 0 {
        regs.set_stack_pointer(stack);
    }
    if flags & CLONE_SETTLS != 0 {
        regs.set_thread_pointer(tls);
    }
    let tid_bytes = (pid as u32).to_le_bytes();
    if flags & CLONE_CHILD_SETTID != 0 {
        // Linux ignores a failed write here too.
        let _ = mm.copy_out(child_tid, &tid_bytes);
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = t.mm.copy_out(parent_tid, &tid_bytes);
    }
    let process = Arc::new(ProcessInfo {
        tgid: pid,
        argv: t.process.argv.clone(),
        envp: t.process.envp.clone(),
        exe: t.process.exe.clone(),
        comm: std::sync::Mutex::new(t.process.comm()),
        mm: mm.clone(),
        fds: fds.clone(),
        fs: fs.clone(),
        start: std::time::Instant::now(),
    });
    kernel.tasks.insert(process.clone());
    let mut ctx = t.ctx.clone();
    ctx.tgid = pid;
    let child = Task {
        kernel,
        mm,
        fds,
        fs,
        signal_handlers: handlers,
        ctx,
        tid: pid,
        tgid: pid,
        kill,
        regs,
        signal_mask: t.signal_mask,
        alt_stack: t.alt_stack,
        clear_child_tid: if flags & CLONE_CHILD_CLEARTID != 0 {
            child_tid
        } else {
            0
        },
        robust_list: (0, 0),
        signal_frames: Vec::new(),
        saved_mask: None,
        process,
        exit: None,
    };
    if let Err(std::sync::mpsc::SendError(child)) = tx.send(child) {
        // The thread is gone already: end the child as if killed.
        child.abandon();
    }
    Ok(pid as u64)
}

/// The body of a child task's thread: runs the task sent to it, then
/// reports the thread done once the task (and what it holds) is dropped.
fn run_child(rx: std::sync::mpsc::Receiver<Task>) {
    let Ok(mut task) = rx.recv() else { return };
    // The status is the parent's to collect through `wait4`; a platform
    // error was recorded as a kill.
    let _ = task.run();
    let tasks = task.kernel.tasks.clone();
    drop(task);
    tasks.thread_done();
}

fn sys_execve(t: &mut Task, a: [u64; 6]) -> SysResult {
    exec(t, AT_FDCWD, a[0], a[1], a[2], 0)
}

fn sys_execveat(t: &mut Task, a: [u64; 6]) -> SysResult {
    exec(t, a[0] as i32, a[1], a[2], a[3], a[4])
}

/// Reads a NULL-terminated array of string pointers (`argv`, `envp`),
/// adding to `total`; `E2BIG` past the limits, `EFAULT`.
fn read_strings(t: &Task, addr: u64, total: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    for i in 0u64.. {
        let at = i
            .checked_mul(8)
            .and_then(|o| addr.checked_add(o))
            .ok_or(Errno::EFAULT)?;
        let mut raw = [0u8; 8];
        t.mm.copy_in_exact(at, &mut raw)?;
        let ptr = u64::from_le_bytes(raw);
        if ptr == 0 {
            break;
        }
        let s = match t.mm.copy_in_string(ptr, MAX_ARG_STRLEN - 1) {
            Err(Errno::ENAMETOOLONG) => return Err(Errno::E2BIG),
            r => r?,
        };
        *total += s.len() + 1 + 8;
        if *total > MAX_ARG_BYTES {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
    Ok(out)
}

/// Replaces the program of `t` (gVisor's `Task.Exec`): loads it into a new
/// memory manager, and only when that succeeded closes the close-on-exec
/// descriptors, resets caught signals and starts the new image; a failed
/// load leaves the caller as it was.
fn exec(t: &mut Task, dirfd: i32, path: u64, argv: u64, envp: u64, flags: u64) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags != 0 {
        // Executing a descriptor (`fexecve`) or refusing a symbolic link
        // is not offered yet.
        return Err(Errno::ENOSYS);
    }
    let path = read_path(t, path)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let mut total = 0;
    let argv = read_strings(t, argv, &mut total)?;
    let envp = read_strings(t, envp, &mut total)?;
    let kernel = t.kernel.clone();
    let (root, cwd) = t.fs.root_and_cwd()?;
    let start = if path.first() == Some(&b'/') || dirfd == AT_FDCWD {
        Ok(cwd.clone())
    } else {
        t.fds.get(dirfd).map(|file| {
            let vd = file.virtual_dentry();
            file.release(&t.ctx);
            vd
        })
    };
    let loaded = start.and_then(|start| {
        let address_space = kernel.platform.new_address_space()?;
        let mm = MemoryManager::new(
            kernel.platform.memory_file().clone(),
            address_space,
            kernel.platform.min_user_address(),
            kernel.platform.max_user_address(),
        );
        let creds = &t.ctx.credentials;
        let req = loader::LoadRequest {
            vfs: &kernel.vfs,
            root: &root,
            cwd: &start,
            path: &path,
            argv,
            envp: envp.clone(),
            ids: [
                creds.real_uid,
                creds.effective_uid,
                creds.real_gid,
                creds.effective_gid,
            ],
        };
        let loaded = loader::load(&t.ctx, &mm, req);
        start.release(&t.ctx);
        loaded.map(|l| (mm, l))
    });
    root.release(&t.ctx);
    cwd.release(&t.ctx);
    let (mm, loaded) = loaded?;
    // The point of no return.
    let mm = Arc::new(mm);
    t.mm = mm.clone();
    t.fds.close_on_exec(&t.ctx);
    t.signal_handlers.reset_for_exec();
    t.alt_stack = (0, 2, 0);
    t.robust_list = (0, 0);
    t.clear_child_tid = 0;
    t.signal_frames.clear();
    t.regs = loaded.regs;
    let process = Arc::new(ProcessInfo {
        tgid: t.tgid,
        argv: loaded.argv,
        envp,
        exe: loaded.exe,
        comm: std::sync::Mutex::new(crate::comm_of(&path)),
        mm,
        fds: t.fds.clone(),
        fs: t.fs.clone(),
        start: t.process.start,
    });
    kernel.tasks.insert(process.clone());
    t.process = process;
    Ok(0)
}

/// The `wait4` status word of `status`.
fn wait_status(status: ExitStatus) -> u32 {
    match status {
        ExitStatus::Exited(code) => ((code & 0xff) as u32) << 8,
        ExitStatus::Signaled(signal) => (signal & 0x7f) as u32,
    }
}

fn sys_wait4(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, status_addr, options, rusage) = (a[0] as i32, a[1], a[2], a[3]);
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return Err(Errno::EINVAL);
    }
    // Process groups are not modelled: `0` and `-pgid` mean any child.
    let target = if pid > 0 {
        WaitTarget::Pid(pid)
    } else {
        WaitTarget::Any
    };
    let Some((child, status)) =
        t.kernel
            .tasks
            .wait_child(t.tgid, target, options & WNOHANG != 0, false, &t.kill)?
    else {
        return Ok(0);
    };
    if status_addr != 0 {
        t.mm.copy_out_exact(status_addr, &wait_status(status).to_le_bytes())?;
    }
    if rusage != 0 {
        t.mm.copy_out_exact(rusage, &[0u8; RUSAGE_SIZE])?;
    }
    Ok(child as u64)
}

fn sys_waitid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (idtype, id, infop, options, rusage) = (a[0], a[1] as i32, a[2], a[3], a[4]);
    if options & !(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE)
        != 0
        || options & (WUNTRACED | WEXITED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    let target = match idtype {
        P_ALL | P_PGID => WaitTarget::Any,
        P_PID if id > 0 => WaitTarget::Pid(id),
        _ => return Err(Errno::EINVAL),
    };
    // Stopped and continued children are not modelled: only exits are
    // reported, whatever else was asked for.
    let found = t.kernel.tasks.wait_child(
        t.tgid,
        target,
        options & WNOHANG != 0,
        options & WNOWAIT != 0,
        &t.kill,
    )?;
    if infop != 0 {
        // `si_signo`, `si_errno`, `si_code`, padding, `si_pid`, `si_uid`,
        // `si_status`: all zero when nothing was waited for.
        let mut info = [0u8; 28];
        if let Some((pid, status)) = found {
            let (code, value) = match status {
                ExitStatus::Exited(c) => (CLD_EXITED, c & 0xff),
                ExitStatus::Signaled(s) => (CLD_KILLED, s),
            };
            info[0..4].copy_from_slice(&(SIGCHLD as i32).to_le_bytes());
            info[8..12].copy_from_slice(&code.to_le_bytes());
            info[16..20].copy_from_slice(&pid.to_le_bytes());
            info[24..28].copy_from_slice(&value.to_le_bytes());
        }
        t.mm.copy_out_exact(infop, &info)?;
    }
    if rusage != 0 {
        t.mm.copy_out_exact(rusage, &[0u8; RUSAGE_SIZE])?;
    }
    Ok(0)
}

fn sys_kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.kernel
        .tasks
        .kill(t.tgid, a[0] as i32, a[1] as i32)
        .map(|()| 0)
}

fn sys_tkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tid = a[0] as i32;
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    t.kernel.tasks.kill(t.tgid, tid, a[1] as i32).map(|()| 0)
}

fn sys_tgkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    // Every process has one thread, whose ID is the process ID.
    if tid != tgid {
        return Err(Errno::ESRCH);
    }
    t.kernel.tasks.kill(t.tgid, tid, a[2] as i32).map(|()| 0)
}

fn sys_rt_sigreturn(t: &mut Task, _: [u64; 6]) -> SysResult {
    let Some((regs, mask)) = t.signal_frames.pop() else {
        // No frame to return through: Linux would find garbage and kill
        // the task with `SIGSEGV`.
        t.kill.kill(libc::SIGSEGV);
        return Err(Errno::EFAULT);
    };
    let rax = regs.general.rax;
    t.regs = regs;
    t.signal_mask = mask & !UNBLOCKABLE;
    Ok(rax)
}

/// Parks until a signal the mask lets through is posted, or the task is
/// killed; always `EINTR`.
fn wait_for_signal(t: &Task) -> SysResult {
    let waker = crate::wait::TaskWaker::new();
    while !crate::wait::killed() && !t.kill.has_pending(t.signal_mask) {
        waker.wait(None);
    }
    Err(Errno::EINTR)
}

fn sys_rt_sigsuspend(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != 8 {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; 8];
    t.mm.copy_in_exact(a[0], &mut raw)?;
    t.saved_mask = Some(t.signal_mask);
    t.signal_mask = u64::from_le_bytes(raw) & !UNBLOCKABLE;
    wait_for_signal(t)
}

fn sys_pause(t: &mut Task, _: [u64; 6]) -> SysResult {
    wait_for_signal(t)
}
