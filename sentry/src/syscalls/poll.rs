//! `pipe`, `pipe2`, `poll` and `ppoll` (gVisor's `sys_pipe.go`,
//! `sys_poll.go`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, OpenFlags};
use vfs_core::FileRef;
use vfs_core::waiter::{EventMask, with_always_reported};

use super::{Add, Arg, SysResult};
use crate::pipe::new_pipe;
use crate::task::Task;
use crate::wait::{FileWait, TaskWaker};

use Arg::{Hex, Int};

/// `POLLNVAL`: the descriptor is not open.
const POLLNVAL: u16 = 0x20;

/// The most descriptors one `poll` takes (`RLIMIT_NOFILE`).
const MAX_POLL_FDS: u64 = crate::fd_table::NR_OPEN as u64;

pub(super) fn register(add: &mut Add<'_>) {
    add(nr::PIPE, sys_pipe, &[Hex]);
    add(nr::PIPE2, sys_pipe2, &[Hex, Hex]);
    add(nr::POLL, sys_poll, &[Hex, Int, Int]);
    add(nr::PPOLL, sys_ppoll, &[Hex, Int, Hex, Hex, Int]);
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

/// One `struct pollfd`'s descriptor and requested events.
struct PollFd {
    fd: i32,
    events: EventMask,
    file: Option<FileRef>,
}

/// Polls `nfds` entries at `addr` until one is ready or `deadline`
/// (`None`: forever) passes; writes `revents` back.
fn do_poll(t: &Task, addr: u64, nfds: u64, deadline: Option<Instant>) -> SysResult {
    if nfds > MAX_POLL_FDS {
        return Err(Errno::EINVAL);
    }
    let len = nfds as usize * 8;
    let mut raw = vec![0u8; len];
    t.mm.copy_in_exact(addr, &mut raw)?;
    let mut fds: Vec<PollFd> = raw
        .chunks_exact(8)
        .map(|c| {
            let fd = i32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
            let events = u16::from_ne_bytes([c[4], c[5]]);
            PollFd {
                fd,
                events: with_always_reported(EventMask::from_bits_truncate(u32::from(events))),
                file: if fd >= 0 { t.fds.get(fd).ok() } else { None },
            }
        })
        .collect();
    let check = |fds: &[PollFd], out: &mut [u8]| -> u64 {
        let mut ready = 0;
        for (p, chunk) in fds.iter().zip(out.chunks_exact_mut(8)) {
            let revents: u16 = match &p.file {
                None if p.fd < 0 => 0,
                None => POLLNVAL,
                Some(f) => f.readiness(p.events).bits() as u16,
            };
            chunk[6..8].copy_from_slice(&revents.to_ne_bytes());
            if revents != 0 {
                ready += 1;
            }
        }
        ready
    };
    let waker = TaskWaker::new();
    let mut registrations = Vec::new();
    let result: Result<u64, Errno> = 'poll: loop {
        let ready = check(&fds, &mut raw);
        if ready > 0 || deadline.is_some_and(|d| Instant::now() >= d) {
            break Ok(ready);
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
        waker.wait(deadline);
    };
    drop(registrations);
    for p in fds.iter_mut() {
        if let Some(f) = p.file.take() {
            f.release(&t.ctx);
        }
    }
    let ready = result?;
    t.mm.copy_out_exact(addr, &raw)?;
    Ok(ready)
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
    // The signal mask is ignored: no signal is delivered yet.
    do_poll(t, a[0], a[1], deadline)
}
