//! Signal actions, masks, the alternate stack, queued signals and
//! synchronous waits (gVisor's `sys_signal.go`): `rt_sigaction`,
//! `rt_sigprocmask`, `sigaltstack`, `rt_sigpending`, `rt_sigtimedwait`,
//! `rt_sigqueueinfo` and `rt_tgsigqueueinfo`. `kill`, `tkill`, `tgkill`,
//! `rt_sigsuspend` and `pause` are in `process.rs`.

use abi_linux::signal::{SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK};
use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, SigAction, SigInfo, Signal, SignalSet, SignalStack};

use super::time::{deadline_after, read_timespec};
use super::{SysResult, SyscallTable, UserAddr};
use crate::task::{NSIG, Task};

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::RT_SIGACTION, sys_rt_sigaction);
    table.typed(nr::RT_SIGPROCMASK, sys_rt_sigprocmask);
    table.typed(nr::SIGALTSTACK, sys_sigaltstack);
    table.typed(nr::RT_SIGPENDING, sys_rt_sigpending);
    table.typed(nr::RT_SIGTIMEDWAIT, sys_rt_sigtimedwait);
    table.typed(nr::RT_SIGQUEUEINFO, sys_rt_sigqueueinfo);
    table.typed(nr::RT_TGSIGQUEUEINFO, sys_rt_tgsigqueueinfo);
    table.typed(nr::SIGNALFD, sys_signalfd);
    table.typed(nr::SIGNALFD4, sys_signalfd4);
}

/// The size of the kernel's `sigset_t`, which the signal calls require.
const SIGSET_SIZE: usize = std::mem::size_of::<SignalSet>();

fn sys_rt_sigaction(
    t: &mut Task,
    signal: i32,
    act: UserAddr,
    oldact: UserAddr,
    sigsetsize: usize,
) -> SysResult {
    if sigsetsize != SIGSET_SIZE || !(1..=NSIG as i32).contains(&signal) {
        return Err(Errno::EINVAL);
    }
    let new = if act.is_null() {
        None
    } else {
        if signal == Signal::SIGKILL.0 || signal == Signal::SIGSTOP.0 {
            return Err(Errno::EINVAL);
        }
        Some(t.mm.read_obj::<SigAction>(act.get())?)
    };
    let old = {
        let mut actions = t
            .signal_handlers
            .actions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let slot = &mut actions[signal as usize - 1];
        let old = *slot;
        if let Some(new) = new {
            *slot = new;
        }
        old
    };
    if !oldact.is_null() {
        t.mm.write_obj(oldact.get(), &old)?;
    }
    Ok(0)
}

fn sys_rt_sigprocmask(
    t: &mut Task,
    how: i32,
    set: UserAddr,
    oldset: UserAddr,
    sigsetsize: usize,
) -> SysResult {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = t.signal_mask();
    if !set.is_null() {
        let set: u64 = t.mm.read_obj(set.get())?;
        let mask = match how {
            SIG_BLOCK => old | set,
            SIG_UNBLOCK => old & !set,
            SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        } & !SignalSet::UNBLOCKABLE.0;
        t.set_signal_mask(mask);
    }
    if !oldset.is_null() {
        t.mm.write_obj(oldset.get(), &old)?;
    }
    Ok(0)
}

fn sys_sigaltstack(t: &mut Task, ss: UserAddr, old_ss: UserAddr) -> SysResult {
    let sp = t.regs.stack_pointer();
    let old = t.alt_stack_seen_from(sp);
    if !ss.is_null() {
        let new: SignalStack = t.mm.read_obj(ss.get())?;
        t.set_alt_stack(new, sp)?;
    }
    if !old_ss.is_null() {
        t.mm.write_obj(old_ss.get(), &old)?;
    }
    Ok(0)
}

fn sys_rt_sigpending(t: &mut Task, set: UserAddr, sigsetsize: usize) -> SysResult {
    if sigsetsize > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    // The pending signals the mask holds back (Linux's `do_sigpending`).
    let pending = t.kill.pending_bits() & t.signal_mask();
    t.mm.copy_out_exact(set.get(), &pending.to_ne_bytes()[..sigsetsize])?;
    Ok(0)
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: takes a pending
/// signal of `set` (blocked or not), waiting for one until the timeout
/// (`EAGAIN`); another signal's handler interrupts it (`EINTR`, never
/// restarted, as on Linux).
fn sys_rt_sigtimedwait(
    t: &mut Task,
    set: UserAddr,
    info: UserAddr,
    timeout: UserAddr,
    sigsetsize: usize,
) -> SysResult {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let wanted = t.mm.read_obj::<u64>(set.get())? & !SignalSet::UNBLOCKABLE.0;
    let deadline = if timeout.is_null() {
        None
    } else {
        Some(deadline_after(read_timespec(t, timeout)?))
    };
    loop {
        if let Some(taken) = t.kill.take_pending(!wanted) {
            if !info.is_null() {
                t.mm.write_obj(info.get(), &taken)?;
            }
            return Ok(taken.signo as u64);
        }
        let until = match deadline {
            Some(d) if std::time::Instant::now() >= d => return Err(Errno::EAGAIN),
            Some(d) => d,
            None => deadline_after(std::time::Duration::from_secs(1 << 32)),
        };
        // While waiting, the awaited signals are let through so that
        // their arrival wakes the thread (Linux's `real_blocked`).
        let mask = t.signal_mask();
        t.kill.set_awaited(wanted);
        t.set_signal_mask(mask & !wanted);
        let slept = crate::wait::sleep_until(until);
        t.set_signal_mask(mask);
        t.kill.set_awaited(0);
        if slept.is_err() && t.kill.peek_pending(!wanted).is_none() {
            return Err(Errno::EINTR);
        }
    }
}

/// Reads a caller-built `siginfo` for `signal`: a sender may not pose as
/// the kernel or as `kill`/`tkill` to another process (`EPERM`).
fn queued_info(t: &Task, signal: i32, addr: UserAddr, to_self: bool) -> Result<SigInfo, Errno> {
    let mut info: SigInfo = t.mm.read_obj(addr.get())?;
    if (info.code >= 0 || info.code == abi_linux::signal::SI_TKILL) && !to_self {
        return Err(Errno::EPERM);
    }
    if !(0..=NSIG as i32).contains(&signal) {
        return Err(Errno::EINVAL);
    }
    info.signo = signal;
    Ok(info)
}

fn sys_rt_sigqueueinfo(t: &mut Task, tgid: i32, signal: i32, uinfo: UserAddr) -> SysResult {
    let info = queued_info(t, signal, uinfo, tgid == t.tgid)?;
    let group = t.kernel.tasks.process(tgid)?;
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
        group.send(signal, info)?;
    }
    Ok(0)
}

fn sys_rt_tgsigqueueinfo(
    t: &mut Task,
    tgid: i32,
    tid: i32,
    signal: i32,
    uinfo: UserAddr,
) -> SysResult {
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let info = queued_info(t, signal, uinfo, tid == t.tid)?;
    let group = t
        .kernel
        .tasks
        .group_of_thread(tid)
        .filter(|g| g.tgid() == tgid)
        .ok_or(Errno::ESRCH)?;
    if !t
        .kernel
        .tasks
        .may_send(t.tgid, &t.ctx.credentials, &group, signal)
    {
        return Err(Errno::EPERM);
    }
    if signal != 0 {
        group.send_to_thread(tid, signal, info)?;
    }
    Ok(0)
}

/// `signalfd4(2)`: a new signalfd reading the signals of the set at
/// `mask` (`fd == -1`), or a new set for the signalfd `fd`.
fn signalfd(t: &Task, fd: i32, mask: UserAddr, size: u64, flags: i32) -> SysResult {
    use abi_linux::signal::{SFD_CLOEXEC, SFD_NONBLOCK};
    if flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 || size != SIGSET_SIZE as u64 {
        return Err(Errno::EINVAL);
    }
    let set: u64 = t.mm.read_obj(mask.get())?;
    let set = set & !abi_linux::SignalSet::UNBLOCKABLE.0;
    if fd != -1 {
        return super::with_file(t, fd, |f| {
            let sfd = f
                .downcast::<crate::signalfd::SignalFd>()
                .ok_or(Errno::EINVAL)?;
            sfd.set_mask(set);
            Ok(fd as u64)
        });
    }
    let file = crate::signalfd::new_signalfd(&t.kernel.anon_mount, set, flags & SFD_NONBLOCK != 0)?;
    t.fds
        .add(file, flags & SFD_CLOEXEC != 0, 0, t.fd_limit())
        .map(|fd| fd as u64)
}

fn sys_signalfd(t: &mut Task, fd: i32, mask: UserAddr, size: u64) -> SysResult {
    signalfd(t, fd, mask, size, 0)
}

fn sys_signalfd4(t: &mut Task, fd: i32, mask: UserAddr, size: u64, flags: i32) -> SysResult {
    signalfd(t, fd, mask, size, flags)
}
