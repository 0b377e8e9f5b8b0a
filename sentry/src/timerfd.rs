//! timerfd (gVisor's `fsimpl/timerfd`, Linux's `fs/timerfd.c`): a timer
//! whose expirations are read as a count from a file.
//!
//! The timer is one of the kernel's interval timers ([`crate::timers`])
//! in its counting form: each expiration adds to the count and wakes the
//! file's waiters; `read` takes the count (`EAGAIN` at zero, so a blocking
//! read waits through [`crate::wait::retry_blocking`]). Setting the timer
//! clears the count.
//!
//! # Reference model
//!
//! The file holds the timer and its waiter queue (`Arc`s); the timer
//! service holds the timer weakly and the queue weakly, so a closed timerfd
//! stops firing.
//!
//! # Lock order
//!
//! The timer's state is taken alone; waiters are notified without it.

use std::sync::Arc;

use abi_linux::{Errno, OpenFlags, Statx};
use vfs_core::file_description_util::{anon_inode_stat, new_anon_file};
use vfs_core::io::IoDest;
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WaiterQueue};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileRef, MountRef, ReadOptions, StatOptions,
};

use crate::timers::Timer;

/// A timerfd's file description implementation.
pub struct TimerFd {
    timer: Arc<Timer>,
    waiters: Arc<WaiterQueue>,
}

impl TimerFd {
    /// The timer, to set and read.
    pub fn timer(&self) -> &Arc<Timer> {
        &self.timer
    }
}

impl FileDescriptionImpl for TimerFd {
    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(anon_inode_stat(fd))
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        if dst.remaining() < 8 {
            return Err(Errno::EINVAL);
        }
        let count = self.timer.take_expirations();
        if count == 0 {
            return Err(Errno::EAGAIN);
        }
        // As Linux's `timerfd_read`, the count is taken before the copy: a
        // fault loses it.
        if vfs_core::io::copy_out(dst, &count.to_ne_bytes())? < 8 {
            return Err(Errno::EFAULT);
        }
        Ok(8)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        if self.timer.has_expired() {
            mask & READABLE_EVENTS
        } else {
            EventMask::empty()
        }
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.waiters)
    }

    fn synthetic_name(&self) -> Option<String> {
        Some("anon_inode:[timerfd]".into())
    }
}

/// Creates a disarmed timerfd on `clock` on `mount` (the kernel's
/// anonymous mount), `O_NONBLOCK` when `nonblock`.
pub fn new_timerfd(mount: &MountRef, clock: i32, nonblock: bool) -> FileRef {
    let waiters = Arc::new(WaiterQueue::new());
    let timer = Timer::waking(clock, Arc::downgrade(&waiters));
    let flags = if nonblock {
        OpenFlags::NONBLOCK
    } else {
        OpenFlags::empty()
    };
    new_anon_file(flags, mount, Box::new(TimerFd { timer, waiters }))
}
