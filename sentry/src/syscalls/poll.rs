//! `pipe`, `pipe2`, `poll`, `ppoll`, `select` and `pselect6` (gVisor's
//! `sys_pipe.go`, `sys_poll.go`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, OpenFlags};
use vfs_core::FileRef;
use vfs_core::waiter::{EventMask, with_always_reported};

use super::{Arg, SysResult, SyscallTable};
use crate::pipe::new_pipe;
use crate::task::Task;
use crate::wait::{FileWait, TaskWaker};

use Arg::{Hex, Int};

/// `POLLNVAL`: the descriptor is not open.
const POLLNVAL: u16 = 0x20;

/// The most descriptors one `poll` takes (`RLIMIT_NOFILE`).
const MAX_POLL_FDS: u64 = crate::fd_table::NR_OPEN as u64;

pub(super) fn register(table: &mut SyscallTable) {
    table.add(nr::PIPE, sys_pipe, &[Hex]);
    table.add(nr::PIPE2, sys_pipe2, &[Hex, Hex]);
    table.add(nr::POLL, sys_poll, &[Hex, Int, Int]);
    table.add(nr::PPOLL, sys_ppoll, &[Hex, Int, Hex, Hex, Int]);
    table.add(nr::SELECT, sys_select, &[Int, Hex, Hex, Hex, Hex]);
    table.add(nr::PSELECT6, sys_pselect6, &[Int, Hex, Hex, Hex, Hex, Hex]);
}

fn pipe2(t: &Task, addr: u64, flags: u64) -> SysResult {
    let allowed = (OpenFlags::CLOEXEC | OpenFlags::NONBLOCK | OpenFlags::DIRECT).bits();
    if flags & !u64::from(allowed) != 0 {
        return Err(Errno::EINVAL);
    }
    let flags = OpenFlags::from_bits_truncate(flags as u32);
    let ino = t.kernel.next_anon_ino.fetch_add(1, Ordering::Relaxed);
    let (r, w) = new_pipe(&t.kernel.anon_mount, ino, flags);
    let cloexec = flags.contains(OpenFlags::CLOEXEC);
    let rfd = match t.fds.add(r, cloexec, 0) {
        Ok(fd) => fd,
        Err(e) => {
            w.release(&t.ctx);
            return Err(e);
        }
    };
    let wfd = match t.fds.add(w, cloexec, 0) {
        Ok(fd) => fd,
        Err(e) => {
            if let Ok(r) = t.fds.remove(rfd) {
                r.release(&t.ctx);
            }
            return Err(e);
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&rfd.to_ne_bytes());
    out[4..].copy_from_slice(&wfd.to_ne_bytes());
    if let Err(e) = t.mm.copy_out_exact(addr, &out) {
        for fd in [rfd, wfd] {
            if let Ok(f) = t.fds.remove(fd) {
                f.release(&t.ctx);
            }
        }
        return Err(e);
    }
    Ok(0)
}

fn sys_pipe(t: &mut Task, a: [u64; 6]) -> SysResult {
    pipe2(t, a[0], 0)
}

fn sys_pipe2(t: &mut Task, a: [u64; 6]) -> SysResult {
    pipe2(t, a[0], a[1])
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
fn do_poll(t: &Task, addr: u64, nfds: u64, deadline: Option<Instant>) -> SysResult {
    if nfds > MAX_POLL_FDS {
        return Err(Errno::EINVAL);
    }
    let len = nfds as usize * 8;
    let mut raw = vec![0u8; len];
    t.mm.copy_in_exact(addr, &mut raw)?;
    let entries: Vec<(i32, EventMask)> = raw
        .chunks_exact(8)
        .map(|c| {
            let fd = i32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
            let events = u16::from_ne_bytes([c[4], c[5]]);
            (fd, EventMask::from_bits_truncate(u32::from(events)))
        })
        .collect();
    let revents = poll_files(t, &entries, deadline)?;
    for (chunk, r) in raw.chunks_exact_mut(8).zip(&revents) {
        chunk[6..8].copy_from_slice(&r.to_ne_bytes());
    }
    t.mm.copy_out_exact(addr, &raw)?;
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
fn do_select(t: &Task, nfds: u64, sets: [u64; 3], deadline: Option<Instant>) -> SysResult {
    let nfds = nfds as i32;
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    let nfds = (nfds as usize).min(crate::fd_table::NR_OPEN as usize);
    let bytes = nfds.div_ceil(64) * 8;
    let mut bits = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    for (set, &addr) in bits.iter_mut().zip(&sets) {
        if addr != 0 {
            t.mm.copy_in_exact(addr, set)?;
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
        if addr != 0 {
            t.mm.copy_out_exact(addr, set)?;
        }
    }
    Ok(count)
}

/// Writes the time left until `deadline` back to a `timeval` (`micros`)
/// or `timespec`, as Linux does for `select` and `pselect6`.
fn write_remaining(
    t: &Task,
    addr: u64,
    deadline: Option<Instant>,
    micros: bool,
) -> Result<(), Errno> {
    let Some(deadline) = deadline else {
        return Ok(());
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let frac = if micros {
        i64::from(left.subsec_micros())
    } else {
        i64::from(left.subsec_nanos())
    };
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&(left.as_secs() as i64).to_ne_bytes());
    raw[8..].copy_from_slice(&frac.to_ne_bytes());
    t.mm.copy_out_exact(addr, &raw)
}

/// Reads a `timeval` (`micros`) or `timespec` timeout into a deadline;
/// `EINVAL` if negative or out of range.
fn read_deadline(t: &Task, addr: u64, micros: bool) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let mut raw = [0u8; 16];
    t.mm.copy_in_exact(addr, &mut raw)?;
    let sec = i64::from_ne_bytes(raw[..8].try_into().map_err(|_| Errno::EFAULT)?);
    let frac = i64::from_ne_bytes(raw[8..].try_into().map_err(|_| Errno::EFAULT)?);
    let limit = if micros { 1_000_000 } else { 1_000_000_000 };
    if sec < 0 || !(0..limit).contains(&frac) {
        return Err(Errno::EINVAL);
    }
    let nanos = if micros { frac * 1000 } else { frac };
    Ok(Some(
        Instant::now() + Duration::new(sec as u64, nanos as u32),
    ))
}

fn sys_select(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = read_deadline(t, a[4], true)?;
    let n = do_select(t, a[0], [a[1], a[2], a[3]], deadline)?;
    if a[4] != 0 {
        write_remaining(t, a[4], deadline, true)?;
    }
    Ok(n)
}

/// Applies the temporary signal mask of `ppoll`/`pselect6` at `addr` (8
/// bytes; `size` must be 8): the old mask comes back once the call
/// returns, after a handler the new mask let in has run (as
/// `rt_sigsuspend` does).
fn apply_wait_mask(t: &mut Task, addr: u64, size: u64) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; 8];
    t.mm.copy_in_exact(addr, &mut raw)?;
    t.saved_mask = Some(t.signal_mask());
    t.set_signal_mask(u64::from_le_bytes(raw));
    Ok(())
}

fn sys_pselect6(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = read_deadline(t, a[4], false)?;
    // The sixth argument points at `{ const sigset_t *ss; size_t ss_len; }`.
    if a[5] != 0 {
        let mut raw = [0u8; 16];
        t.mm.copy_in_exact(a[5], &mut raw)?;
        let set = u64::from_le_bytes(raw[..8].try_into().map_err(|_| Errno::EFAULT)?);
        let len = u64::from_le_bytes(raw[8..].try_into().map_err(|_| Errno::EFAULT)?);
        apply_wait_mask(t, set, len)?;
    }
    let n = do_select(t, a[0], [a[1], a[2], a[3]], deadline)?;
    if a[4] != 0 {
        write_remaining(t, a[4], deadline, false)?;
    }
    Ok(n)
}

fn sys_poll(t: &mut Task, a: [u64; 6]) -> SysResult {
    let timeout = a[2] as i32;
    let deadline = (timeout >= 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
    do_poll(t, a[0], a[1], deadline)
}

fn sys_ppoll(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = if a[2] == 0 {
        None
    } else {
        let mut ts = [0u8; 16];
        t.mm.copy_in_exact(a[2], &mut ts)?;
        let sec = i64::from_ne_bytes(ts[..8].try_into().map_err(|_| Errno::EFAULT)?);
        let nsec = i64::from_ne_bytes(ts[8..].try_into().map_err(|_| Errno::EFAULT)?);
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(Errno::EINVAL);
        }
        Some(Instant::now() + Duration::new(sec as u64, nsec as u32))
    };
    apply_wait_mask(t, a[3], a[4])?;
    do_poll(t, a[0], a[1], deadline)
}
