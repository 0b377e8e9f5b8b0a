//! `epoll_create`, `epoll_create1`, `epoll_ctl`, `epoll_wait`,
//! `epoll_pwait`, `epoll_pwait2`, `eventfd` and `eventfd2` (gVisor's
//! `sys_epoll.go` and `sys_eventfd.go`). The instances are vfs-core's
//! [`EpollInstance`]; waiting for one is the task's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use abi_linux::epoll::EPOLL_CLOEXEC;
use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{
    EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EfdFlags, EpollEvent, Errno, OpenFlags,
};
use vfs_core::FileRef;
use vfs_core::epoll::{EpollFile, EpollInstance};
use vfs_core::waiter::EventMask;

use super::poll::apply_wait_mask;
use super::time::{deadline_after, read_timespec};
use super::{Fd, SysResult, SyscallTable, UserAddr, with_file};
use crate::eventfd::new_eventfd;
use crate::task::Task;
use crate::wait::{TaskWaker, interrupted};

/// The most events one `epoll_wait` may ask for (Linux's `EP_MAX_EVENTS`).
const MAX_EVENTS: i32 = (i32::MAX as usize / size_of::<EpollEvent>()) as i32;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::EPOLL_CREATE, sys_epoll_create);
    table.typed(nr::EPOLL_CREATE1, sys_epoll_create1);
    table.typed(nr::EPOLL_CTL, sys_epoll_ctl);
    table.typed(nr::EPOLL_WAIT, sys_epoll_wait);
    table.typed(nr::EPOLL_PWAIT, sys_epoll_pwait);
    table.typed(nr::EPOLL_PWAIT2, sys_epoll_pwait2);
    table.typed(nr::EVENTFD, sys_eventfd);
    table.typed(nr::EVENTFD2, sys_eventfd2);
    table.partial(
        nr::EPOLL_CTL,
        "EPOLLEXCLUSIVE wakes every waiter, not one; EPOLLWAKEUP is dropped",
    );
}

/// Installs `file` at the lowest free descriptor.
fn install(t: &Task, file: FileRef, cloexec: bool) -> SysResult {
    t.fds
        .add(file, cloexec, 0, t.fd_limit())
        .map(|fd| fd as u64)
}

fn create(t: &Task, cloexec: bool) -> SysResult {
    let file = vfs_core::file_description_util::new_anon_file(
        OpenFlags::RDWR,
        &t.kernel.anon_mount,
        EpollFile::new_boxed(),
    );
    install(t, file, cloexec)
}

fn sys_epoll_create(t: &mut Task, size: i32) -> SysResult {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    create(t, false)
}

fn sys_epoll_create1(t: &mut Task, flags: u32) -> SysResult {
    if flags & !EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    create(t, flags & EPOLL_CLOEXEC != 0)
}

/// The instance behind an epoll file, or `EINVAL`.
fn instance_of(file: &FileRef) -> Result<Arc<EpollInstance>, Errno> {
    file.downcast::<EpollFile>()
        .map(|f| f.instance().clone())
        .ok_or(Errno::EINVAL)
}

fn sys_epoll_ctl(t: &mut Task, epfd: Fd, op: i32, fd: Fd, event: UserAddr) -> SysResult {
    // Linux's order: the event, both descriptors, whether the target can
    // be waited for, then what the instance says.
    let event: EpollEvent = if op == EPOLL_CTL_DEL {
        EpollEvent::default()
    } else {
        t.mm.read_obj(event.get())?
    };
    with_file(t, epfd.0, |epoll| {
        with_file(t, fd.0, |target| {
            if !target.can_wait() {
                return Err(Errno::EPERM);
            }
            let instance = instance_of(epoll)?;
            let events = EventMask::from_bits_retain(event.events);
            let target = target.as_arc();
            match op {
                EPOLL_CTL_ADD => instance.add(target, fd.0, events, event.data),
                EPOLL_CTL_MOD => instance.modify(target, fd.0, events, event.data),
                EPOLL_CTL_DEL => instance.delete(target, fd.0),
                _ => Err(Errno::EINVAL),
            }
        })
    })
    .map(|()| 0)
}

/// Waits until `epfd` has events or `deadline` passes, and copies up to
/// `max` of them to `events`. A handled signal ends the wait with `EINTR`
/// (epoll waits are never restarted).
fn wait(t: &Task, epfd: Fd, events: UserAddr, max: i32, deadline: Option<Instant>) -> SysResult {
    if max <= 0 || max > MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let instance = with_file(t, epfd.0, instance_of)?;
    let mut ready = Vec::new();
    let copy_out = |ready: &[EpollEvent]| {
        let bytes = zerocopy::IntoBytes::as_bytes(ready);
        t.mm.copy_out_exact(events.get(), bytes)
            .map(|()| ready.len() as u64)
    };
    // The common case of a busy loop: events are ready, nothing to wait on.
    if instance.read_events(max as usize, &mut ready) > 0 {
        return copy_out(&ready);
    }
    let waker = TaskWaker::new();
    let mut registration = None;
    let result = loop {
        if instance.read_events(max as usize, &mut ready) > 0 {
            break copy_out(&ready);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break Ok(0);
        }
        if registration.is_none() {
            registration = Some(instance.queue().register(waker.clone(), EventMask::IN));
            // Events may have arrived before the registration.
            continue;
        }
        if interrupted() {
            break Err(Errno::EINTR);
        }
        waker.wait(deadline);
    };
    if let Some(id) = registration {
        instance.queue().unregister(id);
    }
    result
}

/// The deadline of a millisecond timeout (negative: none).
fn deadline_ms(timeout: i32) -> Option<Instant> {
    (timeout >= 0).then(|| deadline_after(Duration::from_millis(timeout as u64)))
}

fn sys_epoll_wait(t: &mut Task, epfd: Fd, events: UserAddr, max: i32, timeout: i32) -> SysResult {
    wait(t, epfd, events, max, deadline_ms(timeout))
}

fn sys_epoll_pwait(
    t: &mut Task,
    epfd: Fd,
    events: UserAddr,
    max: i32,
    timeout: i32,
    sigmask: UserAddr,
    sigsetsize: u64,
) -> SysResult {
    apply_wait_mask(t, sigmask, sigsetsize)?;
    wait(t, epfd, events, max, deadline_ms(timeout))
}

fn sys_epoll_pwait2(
    t: &mut Task,
    epfd: Fd,
    events: UserAddr,
    max: i32,
    timeout: UserAddr,
    sigmask: UserAddr,
    sigsetsize: u64,
) -> SysResult {
    let deadline = if timeout.is_null() {
        None
    } else {
        Some(deadline_after(read_timespec(t, timeout)?))
    };
    apply_wait_mask(t, sigmask, sigsetsize)?;
    wait(t, epfd, events, max, deadline)
}

fn eventfd(t: &Task, initial: u32, flags: u32) -> SysResult {
    let flags = EfdFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    let file = new_eventfd(&t.kernel.anon_mount, initial, flags);
    install(t, file, flags.contains(EfdFlags::CLOEXEC))
}

fn sys_eventfd(t: &mut Task, initial: u32) -> SysResult {
    eventfd(t, initial, 0)
}

fn sys_eventfd2(t: &mut Task, initial: u32, flags: u32) -> SysResult {
    eventfd(t, initial, flags)
}
