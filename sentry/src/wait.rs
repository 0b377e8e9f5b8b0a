//! How a task blocks (gVisor's `Task.Block` and `waiter.Entry` use): a
//! [`TaskWaker`] registered with a file's waiter queue parks the task's
//! thread until the file signals an event, then the operation is retried.
//!
//! The sentry has no signal delivery yet, so a wait ends only when the
//! awaited event (or a deadline) arrives; `EINTR` is never produced.
//!
//! # Reference model
//!
//! A waiter queue holds an `Arc` on each registered [`TaskWaker`] until the
//! waiting code unregisters it, which every path here does before
//! returning.
//!
//! # Lock order
//!
//! `TaskWaker::woken` is a leaf: it is taken by notifiers with no queue
//! lock held (vfs-core's contract) and by the waiting thread alone.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use abi_linux::{Errno, OpenFlags};
use vfs_core::lock::Blocker;
use vfs_core::waiter::{EventMask, WaitEntryId, Waiter, WaiterQueue};
use vfs_core::{FileRef, file_description::FileDescription};

/// A waiter that wakes the one thread parked on it.
#[derive(Debug, Default)]
pub struct TaskWaker {
    woken: Mutex<bool>,
    cond: Condvar,
}

impl TaskWaker {
    /// A waker with no pending wake-up.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Parks until notified (or `deadline` passes) and consumes the
    /// notification; returns `false` on a deadline with no notification.
    pub fn wait(&self, deadline: Option<Instant>) -> bool {
        let mut woken = self.woken.lock().unwrap_or_else(|e| e.into_inner());
        while !*woken {
            match deadline {
                None => woken = self.cond.wait(woken).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    woken = self
                        .cond
                        .wait_timeout(woken, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        *woken = false;
        true
    }
}

impl Waiter for TaskWaker {
    fn notify(&self, _mask: EventMask) {
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cond.notify_all();
    }
}

/// The sentry's lock-wait hook ([`vfs_core::Context::blocker`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskBlocker;

impl Blocker for TaskBlocker {
    fn block(&self, queue: &WaiterQueue, ready: &dyn Fn() -> bool) -> Result<(), Errno> {
        let waker = TaskWaker::new();
        let id = queue.register(waker.clone(), EventMask::IN);
        while !ready() {
            waker.wait(None);
        }
        queue.unregister(id);
        Ok(())
    }
}

/// A registration of a waker with a file, removed on drop.
pub struct FileWait<'a> {
    file: &'a FileDescription,
    id: Option<WaitEntryId>,
}

impl<'a> FileWait<'a> {
    /// Registers `waker` with `file` for `mask`; `None` when the file
    /// cannot be waited for.
    pub fn register(
        file: &'a FileDescription,
        waker: &Arc<TaskWaker>,
        mask: EventMask,
    ) -> Result<Option<Self>, Errno> {
        let id = file.imp().event_register(waker.clone(), mask)?;
        Ok(id.map(|id| Self { file, id: Some(id) }))
    }
}

impl Drop for FileWait<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.file.imp().event_unregister(id);
        }
    }
}

/// Runs `attempt` until it does not fail with `EAGAIN`, waiting for `mask`
/// on `file` between attempts, unless `file` is `O_NONBLOCK` (then
/// `EAGAIN` is returned) or cannot be waited for.
pub fn retry_blocking<T>(
    file: &FileRef,
    mask: EventMask,
    mut attempt: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    let first = attempt();
    if !matches!(first, Err(Errno::EAGAIN)) || file.status_flags().contains(OpenFlags::NONBLOCK) {
        return first;
    }
    let waker = TaskWaker::new();
    // A hang-up or error ends the wait too (a pipe whose writers are gone
    // reports only `HUP`).
    let mask = vfs_core::waiter::with_always_reported(mask);
    let Some(_registration) = FileWait::register(file, &waker, mask)? else {
        return first;
    };
    loop {
        match attempt() {
            Err(Errno::EAGAIN) => {
                waker.wait(None);
            }
            r => return r,
        }
    }
}
