//! eventfd (gVisor's `fsimpl/eventfd`, Linux's `fs/eventfd.c`): a 64-bit
//! counter that `write` adds to and `read` takes, as a file with
//! readiness.
//!
//! A read of a zero counter and a write that would push the counter past
//! [`EVENTFD_MAX`] return `EAGAIN`; the task then waits through
//! [`crate::wait::retry_blocking`] unless the file is `O_NONBLOCK`. With
//! `EFD_SEMAPHORE` a read takes 1 instead of the whole count.
//!
//! # Lock order
//!
//! `EventFd::count` is a leaf: waiters are notified after it is dropped.

use std::sync::Mutex;

use abi_linux::eventfd::EVENTFD_MAX;
use abi_linux::{EfdFlags, Errno, OpenFlags, Statx};
use vfs_core::file_description_util::{anon_inode_stat, new_anon_file};
use vfs_core::io::{IoDest, IoSource};
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileRef, MountRef, ReadOptions, StatOptions,
    WriteOptions,
};

/// The counter and its waiters.
struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    queue: WaiterQueue,
}

impl EventFd {
    fn count(&self) -> std::sync::MutexGuard<'_, u64> {
        self.count.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FileDescriptionImpl for EventFd {
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
        let value = {
            let mut count = self.count();
            if *count == 0 {
                return Err(Errno::EAGAIN);
            }
            let value = if self.semaphore { 1 } else { *count };
            *count -= value;
            value
        };
        self.queue.notify(WRITABLE_EVENTS);
        // As in Linux's `eventfd_read`, the value is taken before the copy:
        // a fault loses it.
        if vfs_core::io::copy_out(dst, &value.to_ne_bytes())? < 8 {
            return Err(Errno::EFAULT);
        }
        Ok(8)
    }

    fn write(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        if src.remaining() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut raw = [0u8; 8];
        if vfs_core::io::copy_in(src, &mut raw)? < 8 {
            return Err(Errno::EFAULT);
        }
        let value = u64::from_ne_bytes(raw);
        if value == u64::MAX {
            return Err(Errno::EINVAL);
        }
        {
            let mut count = self.count();
            if EVENTFD_MAX - *count < value {
                return Err(Errno::EAGAIN);
            }
            *count += value;
        }
        if value > 0 {
            self.queue.notify(READABLE_EVENTS);
        }
        Ok(8)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        let count = *self.count();
        let mut ready = EventMask::empty();
        if count > 0 {
            ready |= READABLE_EVENTS;
        }
        if count < EVENTFD_MAX {
            ready |= WRITABLE_EVENTS;
        }
        ready & mask
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.queue)
    }

    fn synthetic_name(&self) -> Option<String> {
        Some("anon_inode:[eventfd]".into())
    }
}

/// Creates an eventfd description on `mount` (the kernel's anonymous
/// mount) with counter `initial`; `flags` may hold `EFD_SEMAPHORE` and
/// `EFD_NONBLOCK` (`EFD_CLOEXEC` is the caller's business).
pub fn new_eventfd(mount: &MountRef, initial: u32, flags: EfdFlags) -> FileRef {
    let mut open = OpenFlags::RDWR;
    if flags.contains(EfdFlags::NONBLOCK) {
        open |= OpenFlags::NONBLOCK;
    }
    new_anon_file(
        open,
        mount,
        Box::new(EventFd {
            count: Mutex::new(u64::from(initial)),
            semaphore: flags.contains(EfdFlags::SEMAPHORE),
            queue: WaiterQueue::new(),
        }),
    )
}
