//! Thread and process creation and ending (gVisor's `sys_thread.go`,
//! `sys_signal.go` for `kill`): `clone`, `clone3` (every published size of
//! `struct clone_args`), `fork`, `vfork`, `execve`/`execveat`,
//! `wait4`/`waitid`, `kill`/`tkill`/`tgkill`, `rt_sigreturn`,
//! `rt_sigsuspend` and `pause`. The arguments are decoded here; the
//! mechanics live in [`crate::task`] (`clone.rs`, `exec.rs`).
//!
//! # Reference model
//!
//! The new task holds its own references (one per descriptor, on the root
//! and working directory, on the memory-file pages it maps); the task set
//! records the child as its parent's until it is reaped.

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{AtFlags, CloneFlags, Errno, OpenFlags, WaitOptions};
use zerocopy::FromBytes;

use super::{AT_FDCWD, Fd, PathAddr, SysResult, SyscallTable, UserAddr, read_path};
use crate::loader;
use crate::mm::MemoryManager;
use crate::task::{CloneArgs, NewImage, Task, WaitEvents, WaitKind, WaitTarget};

/// `SIGCHLD`.
const SIGCHLD: i32 = abi_linux::Signal::SIGCHLD.0;

use abi_linux::process::MAX_ARG_STRLEN;
/// The most bytes of arguments and environment together (the loader's
/// limit on the initial stack's strings).
const MAX_ARG_BYTES: usize = 2 << 20;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::CLONE, sys_clone);
    table.typed(nr::CLONE3, sys_clone3);
    table.typed(nr::FORK, sys_fork);
    table.typed(nr::VFORK, sys_vfork);
    table.typed(nr::EXECVE, sys_execve);
    table.typed(nr::EXECVEAT, exec);
    table.typed(nr::WAIT4, sys_wait4);
    table.typed(nr::WAITID, sys_waitid);
    table.typed(nr::KILL, sys_kill);
    table.typed(nr::SETSID, sys_setsid);
    table.typed(nr::GETSID, sys_getsid);
    table.typed(nr::SETPGID, sys_setpgid);
    table.typed(nr::GETPGID, sys_getpgid);
    table.typed(nr::GETPGRP, sys_getpgrp);
    table.typed(nr::PIDFD_OPEN, sys_pidfd_open);
    table.typed(nr::PIDFD_GETFD, sys_pidfd_getfd);
    table.typed(nr::UNSHARE, sys_unshare);
    table.partial(
        nr::UNSHARE,
        "CLONE_FILES, CLONE_FS and CLONE_SYSVSEM; the namespace flags are EPERM, as for \
         clone, since the sandbox offers no nested namespaces",
    );
    table.typed(nr::PIDFD_SEND_SIGNAL, sys_pidfd_send_signal);
    table.typed(nr::TKILL, sys_tkill);
    table.typed(nr::TGKILL, sys_tgkill);
    table.typed(nr::RT_SIGRETURN, sys_rt_sigreturn);
    table.typed(nr::RT_SIGSUSPEND, sys_rt_sigsuspend);
    table.typed(nr::PAUSE, sys_pause);
    table.partial(
        nr::CLONE,
        "namespaces (CLONE_NEW*) are EPERM; CLONE_INTO_CGROUP and thread pidfds are EINVAL",
    );
    table.partial(
        nr::CLONE3,
        "namespaces are EPERM; CLONE_INTO_CGROUP and thread pidfds are EINVAL; set_tid is EPERM",
    );
    table.partial(
        nr::WAIT4,
        "rusage has times and maxrss only; user time is wall time in \
        application code",
    );
    table.partial(nr::WAITID, "as wait4's rusage");
    table.partial(
        nr::PIDFD_SEND_SIGNAL,
        "the siginfo argument must be NULL (else EINVAL)",
    );
    table.partial(nr::PIDFD_OPEN, "PIDFD_THREAD is EINVAL");
}

fn sys_fork(t: &mut Task) -> SysResult {
    let args = CloneArgs {
        exit_signal: SIGCHLD,
        ..CloneArgs::default()
    };
    t.clone_task(&args).map(|tid| tid as u64)
}

fn sys_vfork(t: &mut Task) -> SysResult {
    let args = CloneArgs {
        flags: CloneFlags::VM | CloneFlags::VFORK,
        exit_signal: SIGCHLD,
        ..CloneArgs::default()
    };
    t.clone_task(&args).map(|tid| tid as u64)
}

/// `clone(flags, stack, parent_tid, child_tid, tls)` (x86_64 order).
fn sys_clone(
    t: &mut Task,
    raw_flags: u64,
    stack: UserAddr,
    parent_tid: UserAddr,
    child_tid: UserAddr,
    tls: u64,
) -> SysResult {
    let flags = CloneFlags::from_bits_retain(raw_flags & !abi_linux::process::CSIGNAL);
    // clone(2) stores the pidfd where CLONE_PARENT_SETTID stores the TID.
    if flags.contains(CloneFlags::PIDFD | CloneFlags::PARENT_SETTID) {
        return Err(Errno::EINVAL);
    }
    // The legacy call ignores the flags only clone3 knows.
    let flags = flags & !(CloneFlags::CLEAR_SIGHAND | CloneFlags::INTO_CGROUP);
    let args = CloneArgs {
        flags,
        exit_signal: (raw_flags & abi_linux::process::CSIGNAL) as i32,
        stack: stack.get(),
        parent_tid: parent_tid.get(),
        child_tid: child_tid.get(),
        tls,
        pidfd: parent_tid.get(),
    };
    t.clone_task(&args).map(|tid| tid as u64)
}

/// `clone3(args, size)`.
fn sys_clone3(t: &mut Task, addr: UserAddr, size: u64) -> SysResult {
    use abi_linux::process::{CLONE_ARGS_SIZE_VER0, CLONE_ARGS_SIZE_VER2};
    let addr = addr.get();
    let size = usize::try_from(size).map_err(|_| Errno::E2BIG)?;
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > crate::elf::PAGE_SIZE as usize {
        return Err(Errno::E2BIG);
    }
    let mut raw = vec![0u8; size];
    t.mm.copy_in_exact(addr, &mut raw)?;
    // A larger structure than this kernel knows is accepted only when the
    // extra bytes are zero (`copy_struct_from_user`).
    if raw.len() > CLONE_ARGS_SIZE_VER2 && raw[CLONE_ARGS_SIZE_VER2..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let mut known = [0u8; CLONE_ARGS_SIZE_VER2];
    let n = raw.len().min(CLONE_ARGS_SIZE_VER2);
    known[..n].copy_from_slice(&raw[..n]);
    let ca = abi_linux::CloneArgs::read_from_bytes(&known).map_err(|_| Errno::EINVAL)?;
    let flags = CloneFlags::from_bits(ca.flags).ok_or(Errno::EINVAL)?;
    if flags.contains(CloneFlags::DETACHED)
        || ca.exit_signal > 64
        || ca.flags & abi_linux::process::CSIGNAL != 0
    {
        return Err(Errno::EINVAL);
    }
    if (ca.stack == 0) != (ca.stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    if ca.set_tid_size > 0 || ca.set_tid != 0 {
        // Choosing the child's TID needs CAP_CHECKPOINT_RESTORE over the
        // PID namespace, which the sandbox's tasks do not have.
        return Err(Errno::EPERM);
    }
    let args = CloneArgs {
        flags,
        exit_signal: ca.exit_signal as i32,
        stack: if ca.stack == 0 {
            0
        } else {
            ca.stack.checked_add(ca.stack_size).ok_or(Errno::EINVAL)?
        },
        parent_tid: ca.parent_tid,
        child_tid: ca.child_tid,
        tls: ca.tls,
        pidfd: ca.pidfd,
    };
    t.clone_task(&args).map(|tid| tid as u64)
}

/// `execve(path, argv, envp)`.
fn sys_execve(t: &mut Task, path: PathAddr, argv: UserAddr, envp: UserAddr) -> SysResult {
    exec(t, Fd(AT_FDCWD), path, argv, envp, AtFlags::empty())
}

/// Reads a NULL-terminated array of string pointers (`argv`, `envp`),
/// adding to `total`; `E2BIG` past the limits, `EFAULT`.
fn read_strings(t: &Task, addr: UserAddr, total: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr.is_null() {
        return Ok(out);
    }
    for i in 0u64.. {
        let at = i
            .checked_mul(8)
            .and_then(|o| addr.get().checked_add(o))
            .ok_or(Errno::EFAULT)?;
        let ptr: u64 = t.mm.read_obj(at)?;
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

/// `execveat(dirfd, path, argv, envp, flags)`, and `execve` with the
/// working directory and no flags: replaces the program of `t` (gVisor's
/// `Task.Exec`): loads it into a new
/// memory manager, and only when that succeeded closes the close-on-exec
/// descriptors, resets caught signals and starts the new image; a failed
/// load leaves the caller as it was.
fn exec(
    t: &mut Task,
    dirfd: Fd,
    path: PathAddr,
    argv: UserAddr,
    envp: UserAddr,
    flags: AtFlags,
) -> SysResult {
    if !(AtFlags::SYMLINK_NOFOLLOW | AtFlags::EMPTY_PATH).contains(flags) {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    if path.is_empty() && !flags.contains(AtFlags::EMPTY_PATH) {
        return Err(Errno::ENOENT);
    }
    // Relative to a descriptor, the program is named `/dev/fd/N[/path]`
    // (Linux's `alloc_bprm`); with the descriptor close-on-exec that name
    // will not exist for a script's interpreter.
    let relative_to_fd = dirfd.0 != AT_FDCWD && path.first() != Some(&b'/');
    let (filename, filename_inaccessible) = if relative_to_fd {
        let entry = t.fds.entry(dirfd.0)?;
        let cloexec = entry.cloexec;
        entry.file.release(&t.ctx);
        let mut name = format!("/dev/fd/{}", dirfd.0).into_bytes();
        if !path.is_empty() {
            name.push(b'/');
            name.extend_from_slice(&path);
        }
        (name, cloexec)
    } else {
        (path.clone(), false)
    };
    let mut total = 0;
    let argv = read_strings(t, argv, &mut total)?;
    let envp = read_strings(t, envp, &mut total)?;
    let kernel = t.kernel.clone();
    let (root, cwd) = t.fs.root_and_cwd()?;
    let start = if path.first() == Some(&b'/') || dirfd.0 == AT_FDCWD {
        Ok(cwd.clone())
    } else {
        t.fds.get(dirfd.0).map(|file| {
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
        let req = loader::LoadRequest {
            vfs: &kernel.vfs,
            root: &root,
            cwd: &start,
            path: &path,
            filename: &filename,
            filename_inaccessible,
            nofollow: flags.contains(AtFlags::SYMLINK_NOFOLLOW),
            argv,
            envp: envp.clone(),
            creds: &t.ctx.credentials,
            no_new_privs: t.group.attrs().no_new_privs,
            stack_limit: t.ctx.limits.cur(abi_linux::RlimitResource::STACK),
        };
        let loaded = loader::load(&t.ctx, &mm, req);
        start.release(&t.ctx);
        loaded.map(|l| (mm, l))
    });
    root.release(&t.ctx);
    cwd.release(&t.ctx);
    let (mm, loaded) = loaded?;
    // The point of no return.
    // A program run by descriptor alone is named by its file (Linux's
    // `comm_from_dentry`), else by the last component it was run by.
    let comm = if path.is_empty() {
        crate::comm_of(&loaded.exe)
    } else {
        crate::comm_of(&filename)
    };
    t.commit_exec(NewImage {
        mm,
        regs: loaded.regs,
        argv: loaded.argv,
        envp,
        exe: loaded.exe,
        auxv: loaded.auxv,
        comm,
        creds: loaded.creds,
        secure: loaded.secure,
    })?;
    Ok(0)
}

/// Which children a wait considers (`__WALL`, `__WCLONE`).
fn wait_kind(options: WaitOptions) -> WaitKind {
    if options.contains(WaitOptions::ALL) {
        WaitKind::All
    } else if options.contains(WaitOptions::CLONE) {
        WaitKind::Clone
    } else {
        WaitKind::Normal
    }
}

/// `wait4(pid, status, options, rusage)`.
fn sys_wait4(
    t: &mut Task,
    pid: i32,
    status_addr: UserAddr,
    options: WaitOptions,
    rusage: UserAddr,
) -> SysResult {
    let (status_addr, rusage) = (status_addr.get(), rusage.get());
    let allowed = WaitOptions::NOHANG
        | WaitOptions::UNTRACED
        | WaitOptions::CONTINUED
        | WaitOptions::NOTHREAD
        | WaitOptions::ALL
        | WaitOptions::CLONE;
    if !allowed.contains(options) {
        return Err(Errno::EINVAL);
    }
    let target = match pid {
        -1 => WaitTarget::Any,
        0 => WaitTarget::Pgid(t.kernel.tasks.pgid(t.tgid)?),
        p if p > 0 => WaitTarget::Pid(p),
        // -INT_MIN has no positive counterpart: Linux answers ESRCH.
        p => WaitTarget::Pgid(p.checked_neg().ok_or(Errno::ESRCH)?),
    };
    let kill = t.kill.clone();
    let interrupted = || kill.signal().is_some() || kill.has_pending(kill.mask());
    let wanted = WaitEvents {
        exited: true,
        stopped: options.contains(WaitOptions::UNTRACED),
        continued: options.contains(WaitOptions::CONTINUED),
        no_hang: options.contains(WaitOptions::NOHANG),
        keep: false,
    };
    let Some((child, event, usage)) =
        t.kernel
            .tasks
            .wait_child(t.tgid, target, wait_kind(options), wanted, &interrupted)?
    else {
        return Ok(0);
    };
    if status_addr != 0 {
        t.mm.write_obj(status_addr, &event.wait_status())?;
    }
    if rusage != 0 {
        t.mm.write_obj(rusage, &super::rlimit::rusage_of(usage))?;
    }
    Ok(child as u64)
}

/// `waitid(idtype, id, infop, options, rusage)`.
fn sys_waitid(
    t: &mut Task,
    idtype: i32,
    id: i32,
    infop: UserAddr,
    options: WaitOptions,
    rusage: UserAddr,
) -> SysResult {
    use abi_linux::process::{P_ALL, P_PGID, P_PID, P_PIDFD};
    let (infop, rusage) = (infop.get(), rusage.get());
    let reported = WaitOptions::UNTRACED | WaitOptions::EXITED | WaitOptions::CONTINUED;
    if !(reported
        | WaitOptions::NOHANG
        | WaitOptions::NOWAIT
        | WaitOptions::NOTHREAD
        | WaitOptions::ALL
        | WaitOptions::CLONE)
        .contains(options)
        || !options.intersects(reported)
    {
        return Err(Errno::EINVAL);
    }
    let target = match idtype {
        P_ALL => WaitTarget::Any,
        P_PGID if id == 0 => WaitTarget::Pgid(t.kernel.tasks.pgid(t.tgid)?),
        P_PGID if id > 0 => WaitTarget::Pgid(id),
        P_PID if id > 0 => WaitTarget::Pid(id),
        P_PIDFD => {
            let file = t.fds.get(id)?;
            let group = crate::pidfd::group_of(&file);
            file.release(&t.ctx);
            WaitTarget::Pid(group.ok_or(Errno::EBADF)?.tgid())
        }
        _ => return Err(Errno::EINVAL),
    };
    let wanted = WaitEvents {
        exited: options.contains(WaitOptions::EXITED),
        stopped: options.contains(WaitOptions::UNTRACED),
        continued: options.contains(WaitOptions::CONTINUED),
        no_hang: options.contains(WaitOptions::NOHANG),
        keep: options.contains(WaitOptions::NOWAIT),
    };
    let kill = t.kill.clone();
    let interrupted = || kill.signal().is_some() || kill.has_pending(kill.mask());
    let found =
        t.kernel
            .tasks
            .wait_child(t.tgid, target, wait_kind(options), wanted, &interrupted)?;
    if infop != 0 {
        // All zero when nothing was waited for.
        let info = found.map_or(abi_linux::SigInfo::default(), |(pid, event, _)| {
            event.child_info(pid)
        });
        t.mm.write_obj(infop, &info)?;
    }
    if rusage != 0 {
        let usage = found.map_or_else(Default::default, |(_, _, usage)| usage);
        t.mm.write_obj(rusage, &super::rlimit::rusage_of(usage))?;
    }
    Ok(0)
}

fn sys_kill(t: &mut Task, pid: i32, signal: i32) -> SysResult {
    t.kernel
        .tasks
        .kill(t.tgid, &t.ctx.credentials, pid, signal)
        .map(|()| 0)
}

fn sys_setsid(t: &mut Task) -> SysResult {
    t.kernel.tasks.setsid(t.tgid).map(|sid| sid as u64)
}

/// The process `pid` names for the group and session calls (0: the
/// caller); negative is `ESRCH`.
fn process_arg(t: &Task, pid: i32) -> Result<i32, Errno> {
    match pid {
        0 => Ok(t.tgid),
        p if p > 0 => Ok(p),
        _ => Err(Errno::ESRCH),
    }
}

fn sys_getsid(t: &mut Task, pid: i32) -> SysResult {
    let pid = process_arg(t, pid)?;
    t.kernel.tasks.sid(pid).map(|sid| sid as u64)
}

fn sys_setpgid(t: &mut Task, pid: i32, pgid: i32) -> SysResult {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    t.kernel.tasks.setpgid(t.tgid, pid, pgid).map(|()| 0)
}

fn sys_getpgid(t: &mut Task, pid: i32) -> SysResult {
    let pid = process_arg(t, pid)?;
    t.kernel.tasks.pgid(pid).map(|pgid| pgid as u64)
}

fn sys_getpgrp(t: &mut Task) -> SysResult {
    t.kernel.tasks.pgid(t.tgid).map(|pgid| pgid as u64)
}

fn sys_pidfd_open(t: &mut Task, pid: i32, flags: u32) -> SysResult {
    use abi_linux::process::PIDFD_NONBLOCK;
    if flags & !PIDFD_NONBLOCK != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    let group = t.kernel.tasks.process(pid)?;
    let flags = OpenFlags::from_bits_truncate(flags);
    let file = crate::pidfd::new_pidfd(&t.kernel.anon_mount, Some(group), flags);
    t.fds.add(file, true, 0, t.fd_limit()).map(|fd| fd as u64)
}

/// `pidfd_send_signal(pidfd, sig, info, flags)`.
fn sys_pidfd_send_signal(
    t: &mut Task,
    fd: Fd,
    signal: i32,
    info: UserAddr,
    flags: u32,
) -> SysResult {
    use abi_linux::process::PIDFD_SIGNAL_THREAD;
    let (fd, info) = (fd.0, info.get());
    // PIDFD_SIGNAL_THREAD, PIDFD_SIGNAL_THREAD_GROUP and
    // PIDFD_SIGNAL_PROCESS_GROUP: at most one. The last acts as the
    // second.
    if flags & !7 != 0 || flags.count_ones() > 1 {
        return Err(Errno::EINVAL);
    }
    let file = t.fds.get(fd)?;
    let group = crate::pidfd::group_of(&file);
    file.release(&t.ctx);
    let group = group.ok_or(Errno::EBADF)?;
    if !(0..=64).contains(&signal) {
        return Err(Errno::EINVAL);
    }
    if info != 0 {
        // A caller-built siginfo is not offered.
        return Err(Errno::EINVAL);
    }
    if group.thread_count() == 0 {
        return Err(Errno::ESRCH);
    }
    if !t
        .kernel
        .tasks
        .may_send(t.tgid, &t.ctx.credentials, &group, signal)
    {
        return Err(Errno::EPERM);
    }
    if signal != 0 {
        let info = crate::wait::sender_info(
            abi_linux::signal::SI_USER,
            t.tgid,
            t.ctx.credentials.real_uid,
        );
        if flags == PIDFD_SIGNAL_THREAD {
            group.send_to_thread(group.tgid(), signal, info)?;
        } else {
            group.send(signal, info)?;
        }
    }
    Ok(0)
}

fn sys_tkill(t: &mut Task, tid: i32, signal: i32) -> SysResult {
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    t.kernel
        .tasks
        .kill_thread(t.tgid, &t.ctx.credentials, None, tid, signal)
        .map(|()| 0)
}

fn sys_tgkill(t: &mut Task, tgid: i32, tid: i32, signal: i32) -> SysResult {
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    t.kernel
        .tasks
        .kill_thread(t.tgid, &t.ctx.credentials, Some(tgid), tid, signal)
        .map(|()| 0)
}

fn sys_rt_sigreturn(t: &mut Task) -> SysResult {
    t.sigreturn()
}

/// Parks until a signal the mask lets through is posted, or the task is
/// killed; always `EINTR`.
fn wait_for_signal() -> SysResult {
    let waker = crate::wait::TaskWaker::new();
    while !crate::wait::interrupted() {
        waker.wait(None);
    }
    Err(Errno::EINTR)
}

/// `rt_sigsuspend(mask, sigsetsize)`.
fn sys_rt_sigsuspend(t: &mut Task, mask: UserAddr, size: usize) -> SysResult {
    if size != std::mem::size_of::<abi_linux::SignalSet>() {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = t.mm.read_obj(mask.get())?;
    t.saved_mask = Some(t.signal_mask());
    t.set_signal_mask(mask);
    wait_for_signal()
}

fn sys_pause(_: &mut Task) -> SysResult {
    wait_for_signal()
}

/// `pidfd_getfd(2)`: a duplicate, close-on-exec, of descriptor `target`
/// of the process `pidfd` names; `EINVAL` for flags, `EBADF` for a
/// descriptor that is not a pidfd or a target descriptor that is not
/// open, `ESRCH` once the process is gone, `EPERM` without ptrace-attach
/// access to it.
fn sys_pidfd_getfd(t: &mut Task, pidfd: Fd, target: i32, flags: u32) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let file = t.fds.get(pidfd.0)?;
    let group = crate::pidfd::group_of(&file);
    file.release(&t.ctx);
    let group = group.ok_or(Errno::EBADF)?;
    let process = t.kernel.tasks.get(group.tgid()).ok_or(Errno::ESRCH)?;
    if group.thread_count() == 0 {
        return Err(Errno::ESRCH);
    }
    if !crate::task::may_ptrace(&t.group, &t.ctx.credentials, &group) {
        return Err(Errno::EPERM);
    }
    let dup = process.fds.get(target)?;
    t.fds.add(dup, true, 0, t.fd_limit()).map(|fd| fd as u64)
}

/// `unshare(2)`: the caller stops sharing its descriptor table
/// (`CLONE_FILES`) or root, working directory and umask (`CLONE_FS`)
/// with other tasks. `CLONE_SYSVSEM` changes nothing (undo adjustments
/// are the process's already); `CLONE_THREAD`, `CLONE_SIGHAND` and
/// `CLONE_VM` (and `CLONE_NEWUSER`, which implies the first) are
/// accepted only by a single-threaded process (`EINVAL`), where they
/// change nothing; the other namespace flags are `EPERM`.
fn sys_unshare(t: &mut Task, flags: u64) -> SysResult {
    use abi_linux::CloneFlags as F;
    let flags = F::from_bits_retain(flags);
    let known = F::THREAD
        | F::FS
        | F::NEWNS
        | F::SIGHAND
        | F::VM
        | F::FILES
        | F::SYSVSEM
        | F::NEWUTS
        | F::NEWIPC
        | F::NEWNET
        | F::NEWUSER
        | F::NEWPID
        | F::NEWCGROUP
        | F::NEWTIME;
    if !known.contains(flags) {
        return Err(Errno::EINVAL);
    }
    if flags.intersects(F::THREAD | F::SIGHAND | F::VM | F::NEWUSER) && t.group.thread_count() > 1 {
        return Err(Errno::EINVAL);
    }
    if flags.intersects(
        F::NEWNS
            | F::NEWUTS
            | F::NEWIPC
            | F::NEWNET
            | F::NEWUSER
            | F::NEWPID
            | F::NEWCGROUP
            | F::NEWTIME,
    ) {
        return Err(Errno::EPERM);
    }
    if flags.contains(F::FS) && t.fs.is_shared() {
        let own = t.fs.fork()?;
        t.fs.release_user(&t.ctx);
        t.fs = own;
    }
    if flags.contains(F::FILES) && t.fds.is_shared() {
        let own = std::sync::Arc::new(t.fds.fork());
        t.fds.release_user(&t.ctx);
        t.fds = own;
    }
    Ok(0)
}
