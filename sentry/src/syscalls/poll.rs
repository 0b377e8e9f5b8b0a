//! `pipe`, `pipe2`, `poll`, `ppoll`, `select` and `pselect6` (gVisor's
//! `sys_pipe.go`, `sys_poll.go`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, OpenFlags, PollEvents, Pollfd, SignalSet, Timeval};
use vfs_core::FileRef;
use vfs_core::waiter::{EventMask, with_always_reported};

use super::time::{deadline_after, read_timespec, to_timespec};
use super::{SysResult, SyscallTable, UserAddr};
use crate::pipe::new_pipe;
use crate::task::Task;
use crate::wait::{FileWait, TaskWaker};

/// `POLLNVAL` as `poll_files` reports it.
const POLLNVAL: u16 = PollEvents::NVAL.bits() as u16;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::PIPE, sys_pipe);
    table.typed(nr::PIPE2, sys_pipe2);
    table.typed(nr::POLL, sys_poll);
    table.typed(nr::PPOLL, sys_ppoll);
    table.typed(nr::SELECT, sys_select);
    table.typed(nr::PSELECT6, sys_pselect6);
}

fn pipe2(t: &Task, addr: UserAddr, flags: OpenFlags) -> SysResult {
    if !(OpenFlags::CLOEXEC | OpenFlags::NONBLOCK | OpenFlags::DIRECT).contains(flags) {
        return Err(Errno::EINVAL);
    }
    let ino = t.kernel.next_anon_ino.fetch_add(1, Ordering::Relaxed);
    let (r, w) = new_pipe(&t.kernel.anon_mount, ino, flags);
    let cloexec = flags.contains(OpenFlags::CLOEXEC);
    let rfd = match t.fds.add(r, cloexec, 0, t.fd_limit()) {
        Ok(fd) => fd,
        Err(e) => {
            w.release(&t.ctx);
            return Err(e);
        }
    };
    let wfd = match t.fds.add(w, cloexec, 0, t.fd_limit()) {
        Ok(fd) => fd,
        Err(e) => {
            if let Ok(r) = t.fds.remove(rfd) {
                r.release(&t.ctx);
            }
            return Err(e);
        }
    };
    if let Err(e) = t.mm.write_obj(addr.get(), &[rfd, wfd]) {
        for fd in [rfd, wfd] {
            if let Ok(f) = t.fds.remove(fd) {
                f.release(&t.ctx);
            }
        }
        return Err(e);
    }
    Ok(0)
}

fn sys_pipe(t: &mut Task, fds: UserAddr) -> SysResult {
    pipe2(t, fds, OpenFlags::empty())
}

fn sys_pipe2(t: &mut Task, fds: UserAddr, flags: OpenFlags) -> SysResult {
    pipe2(t, fds, flags)
}

/// One polled descriptor and its requested events.
struct PollFd {
    fd: i32,
    events: EventMask,
    file: Option<FileRef>,
}

/// Waits until one of `entries` (descriptor, requested events) is ready
/// or `deadline` (`None`: forever) passes; returns each entry's returned
/// events (`POLLNVAL` for a descriptor that is not open, nothing for a
/// negative one).
fn poll_files(
    t: &Task,
    entries: &[(i32, EventMask)],
    deadline: Option<Instant>,
) -> Result<Vec<u16>, Errno> {
    let mut fds: Vec<PollFd> = entries
        .iter()
        .map(|&(fd, events)| PollFd {
            fd,
            events: with_always_reported(events),
            file: if fd >= 0 { t.fds.get(fd).ok() } else { None },
        })
        .collect();
    let check = |fds: &[PollFd]| -> Vec<u16> {
        fds.iter()
            .map(|p| match &p.file {
                None if p.fd < 0 => 0,
                None => POLLNVAL,
                Some(f) => f.readiness(p.events).bits() as u16,
            })
            .collect()
    };
    let waker = TaskWaker::new();
    let mut registrations = Vec::new();
    let result: Result<Vec<u16>, Errno> = 'poll: loop {
        let revents = check(&fds);
        if revents.iter().any(|&r| r != 0) || deadline.is_some_and(|d| Instant::now() >= d) {
            break Ok(revents);
        }
        if registrations.is_empty() {
            for p in &fds {
                if let Some(f) = &p.file {
                    match FileWait::register(f, &waker, p.events) {
                        Ok(Some(w)) => registrations.push(w),
                        Ok(None) => {}
                        Err(e) => break 'poll Err(e),
                    }
                }
            }
            // Readiness may have changed before the registration.
            continue;
        }
        if crate::wait::interrupted() {
            break Err(Errno::ERESTARTNOHAND);
        }
        waker.wait(deadline);
    };
    drop(registrations);
    for p in fds.iter_mut() {
        if let Some(f) = p.file.take() {
            f.release(&t.ctx);
        }
    }
    result
}

/// Polls `nfds` `struct pollfd`s at `addr` until one is ready or
/// `deadline` passes; writes `revents` back.
fn do_poll(t: &Task, addr: UserAddr, nfds: u64, deadline: Option<Instant>) -> SysResult {
    use zerocopy::IntoBytes;

    // Linux refuses more entries than `RLIMIT_NOFILE` allows descriptors.
    if nfds > t.fd_limit() {
        return Err(Errno::EINVAL);
    }
    let mut pollfds = vec![Pollfd::default(); nfds as usize];
    t.mm.copy_in_exact(addr.get(), pollfds.as_mut_bytes())?;
    let entries: Vec<(i32, EventMask)> = pollfds
        .iter()
        .map(|p| {
            let events = u32::from(p.events as u16);
            (p.fd, EventMask::from_bits_truncate(events))
        })
        .collect();
    let revents = poll_files(t, &entries, deadline)?;
    for (p, &r) in pollfds.iter_mut().zip(&revents) {
        p.revents = r as i16;
    }
    t.mm.copy_out_exact(addr.get(), pollfds.as_bytes())?;
    Ok(revents.iter().filter(|&&r| r != 0).count() as u64)
}

/// The events `select` waits for in each set and reports a descriptor
/// ready for (Linux's `POLLIN_SET`, `POLLOUT_SET`, `POLLEX_SET`).
const SELECT_SETS: [(EventMask, EventMask); 3] = [
    (
        EventMask::IN
            .union(EventMask::RDNORM)
            .union(EventMask::RDBAND),
        EventMask::IN
            .union(EventMask::RDNORM)
            .union(EventMask::RDBAND)
            .union(EventMask::HUP)
            .union(EventMask::ERR),
    ),
    (
        EventMask::OUT
            .union(EventMask::WRNORM)
            .union(EventMask::WRBAND),
        EventMask::OUT
            .union(EventMask::WRNORM)
            .union(EventMask::WRBAND)
            .union(EventMask::ERR),
    ),
    (EventMask::PRI, EventMask::PRI),
];

/// `select`/`pselect6`: `sets` are the read, write and except `fd_set`
/// addresses (0 for none). `EBADF` if a set names a closed descriptor.
fn do_select(t: &Task, nfds: i32, sets: [UserAddr; 3], deadline: Option<Instant>) -> SysResult {
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    let nfds = (nfds as u64).min(t.fd_limit()) as usize;
    let bytes = nfds.div_ceil(64) * 8;
    let mut bits = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    for (set, &addr) in bits.iter_mut().zip(&sets) {
        if !addr.is_null() {
            t.mm.copy_in_exact(addr.get(), set)?;
        }
    }
    let is_set = |set: &[u8], fd: usize| set[fd / 8] & (1 << (fd % 8)) != 0;
    let mut entries = Vec::new();
    for fd in 0..nfds {
        let mut events = EventMask::empty();
        for (set, (wanted, _)) in bits.iter().zip(SELECT_SETS) {
            if is_set(set, fd) {
                events |= wanted;
            }
        }
        if !events.is_empty() {
            entries.push((fd as i32, events));
        }
    }
    let revents = poll_files(t, &entries, deadline)?;
    if revents.contains(&POLLNVAL) {
        return Err(Errno::EBADF);
    }
    let mut out = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    let mut count = 0;
    for (&(fd, _), &r) in entries.iter().zip(&revents) {
        let fd = fd as usize;
        let r = EventMask::from_bits_truncate(u32::from(r));
        for ((set, result), (_, reported)) in bits.iter().zip(out.iter_mut()).zip(SELECT_SETS) {
            if is_set(set, fd) && r.intersects(reported) {
                result[fd / 8] |= 1 << (fd % 8);
                count += 1;
            }
        }
    }
    for (set, &addr) in out.iter().zip(&sets) {
        if !addr.is_null() {
            t.mm.copy_out_exact(addr.get(), set)?;
        }
    }
    Ok(count)
}

/// The time left until `deadline`.
fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Reads a `timespec` timeout into a deadline; `EINVAL` if negative or
/// out of range.
fn read_timespec_deadline(t: &Task, addr: UserAddr) -> Result<Option<Instant>, Errno> {
    if addr.is_null() {
        return Ok(None);
    }
    Ok(Some(deadline_after(read_timespec(t, addr)?)))
}

fn sys_select(
    t: &mut Task,
    nfds: i32,
    readfds: UserAddr,
    writefds: UserAddr,
    exceptfds: UserAddr,
    timeout: UserAddr,
) -> SysResult {
    let deadline = if timeout.is_null() {
        None
    } else {
        let tv: Timeval = t.mm.read_obj(timeout.get())?;
        if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
            return Err(Errno::EINVAL);
        }
        let d = Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
        Some(deadline_after(d))
    };
    let n = do_select(t, nfds, [readfds, writefds, exceptfds], deadline)?;
    if let Some(deadline) = deadline {
        // Linux writes the time left back to the `timeval`.
        let left = remaining(deadline);
        let tv = Timeval {
            tv_sec: left.as_secs() as i64,
            tv_usec: i64::from(left.subsec_micros()),
        };
        t.mm.write_obj(timeout.get(), &tv)?;
    }
    Ok(n)
}

/// Applies the temporary signal mask of `ppoll`/`pselect6` at `addr`
/// (`size` must be 8): the old mask comes back once the call returns,
/// after a handler the new mask let in has run (as `rt_sigsuspend` does).
pub(super) fn apply_wait_mask(t: &mut Task, addr: UserAddr, size: u64) -> Result<(), Errno> {
    if addr.is_null() {
        return Ok(());
    }
    if size != std::mem::size_of::<SignalSet>() as u64 {
        return Err(Errno::EINVAL);
    }
    let set: u64 = t.mm.read_obj(addr.get())?;
    t.saved_mask = Some(t.signal_mask());
    t.set_signal_mask(set);
    Ok(())
}

fn sys_pselect6(
    t: &mut Task,
    nfds: i32,
    readfds: UserAddr,
    writefds: UserAddr,
    exceptfds: UserAddr,
    timeout: UserAddr,
    sigmask: UserAddr,
) -> SysResult {
    let deadline = read_timespec_deadline(t, timeout)?;
    // The sixth argument points at `{ const sigset_t *ss; size_t ss_len; }`.
    if !sigmask.is_null() {
        let [set, len]: [u64; 2] = t.mm.read_obj(sigmask.get())?;
        apply_wait_mask(t, UserAddr(set), len)?;
    }
    let n = do_select(t, nfds, [readfds, writefds, exceptfds], deadline)?;
    if let Some(deadline) = deadline {
        t.mm.write_obj(timeout.get(), &to_timespec(remaining(deadline)))?;
    }
    Ok(n)
}

fn sys_poll(t: &mut Task, fds: UserAddr, nfds: u64, timeout_ms: i32) -> SysResult {
    let deadline =
        (timeout_ms >= 0).then(|| deadline_after(Duration::from_millis(timeout_ms as u64)));
    do_poll(t, fds, nfds, deadline)
}

fn sys_ppoll(
    t: &mut Task,
    fds: UserAddr,
    nfds: u64,
    timeout: UserAddr,
    sigmask: UserAddr,
    sigsetsize: u64,
) -> SysResult {
    let deadline = read_timespec_deadline(t, timeout)?;
    apply_wait_mask(t, sigmask, sigsetsize)?;
    do_poll(t, fds, nfds, deadline)
}
