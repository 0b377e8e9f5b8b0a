//! How a task blocks (gVisor's `Task.Block` and `waiter.Entry` use): a
//! [`TaskWaker`] registered with a file's waiter queue parks the task's
//! thread until the file signals an event, then the operation is retried.
//!
//! The sentry has no signal delivery yet: a wait ends when the awaited
//! event (or a deadline) arrives, or when the task is killed
//! ([`KillSwitch`]), in which case it fails with `EINTR` and the task
//! exits before returning to application code.
//!
//! # Reference model
//!
//! A waiter queue holds an `Arc` on each registered [`TaskWaker`] until the
//! waiting code unregisters it, which every path here does before
//! returning. A task's thread holds its [`KillSwitch`] in a thread-local
//! while it runs; the switch holds a weak reference to the waker the
//! thread parks on.
//!
//! # Lock order
//!
//! `KillSwitch::parked` → `TaskWaker::woken`, a leaf: it is taken by
//! notifiers with no queue lock held (vfs-core's contract) and by the
//! waiting thread.

use std::cell::RefCell;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Instant;

use platform::Interrupter;

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
    /// A waker with no pending wake-up; killing the calling thread's task
    /// wakes it.
    pub fn new() -> Arc<Self> {
        let waker = Arc::new(Self::default());
        CURRENT.with(|c| {
            if let Some(switch) = &*c.borrow() {
                *lock(&switch.parked) = Arc::downgrade(&waker);
            }
        });
        waker
    }

    /// Parks until notified (or `deadline` passes, or the calling thread's
    /// task is killed) and consumes the notification; returns `false` on a
    /// deadline or kill with no notification.
    pub fn wait(&self, deadline: Option<Instant>) -> bool {
        let mut woken = self.woken.lock().unwrap_or_else(|e| e.into_inner());
        while !*woken {
            if killed() {
                return false;
            }
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
        let mut result = Ok(());
        while !ready() {
            if killed() {
                result = Err(Errno::EINTR);
                break;
            }
            waker.wait(None);
        }
        queue.unregister(id);
        result
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
            Err(Errno::EAGAIN) if killed() => return Err(Errno::EINTR),
            Err(Errno::EAGAIN) => {
                waker.wait(None);
            }
            r => return r,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// The kill switch of the task running on this thread.
    static CURRENT: RefCell<Option<Arc<KillSwitch>>> = const { RefCell::new(None) };
}

/// How another thread ends a task (gVisor's `Task.interrupt` for a
/// group-exit kill): the signal that kills it, the platform interrupter
/// that stops its application code, and the waker its thread parks on.
/// It also carries the signals posted to a task whose handler is to run
/// ([`KillSwitch::post`]).
#[derive(Debug, Default)]
pub struct KillSwitch {
    signal: AtomicI32,
    /// Posted signals, bit `n - 1` for signal `n`.
    pending: AtomicU64,
    interrupter: Mutex<Option<Interrupter>>,
    parked: Mutex<Weak<TaskWaker>>,
}

impl KillSwitch {
    /// A switch that has not been thrown.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Makes `self` the calling thread's switch and records how to stop
    /// its application code.
    pub fn install(self: &Arc<Self>, interrupter: Interrupter) {
        *lock(&self.interrupter) = Some(interrupter);
        CURRENT.with(|c| *c.borrow_mut() = Some(self.clone()));
    }

    /// Forgets the calling thread's switch (the task has ended).
    pub fn uninstall() {
        CURRENT.with(|c| *c.borrow_mut() = None);
    }

    /// Kills the task with `signal` (the first kill wins): stops its
    /// application code and wakes its wait.
    pub fn kill(&self, signal: i32) {
        let _ = self
            .signal
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        if let Some(i) = &*lock(&self.interrupter) {
            i.interrupt();
        }
        if let Some(waker) = lock(&self.parked).upgrade() {
            waker.notify(EventMask::IN);
        }
    }

    /// Posts `signal` for its handler to run: the task's application code
    /// is stopped and a wait for signals (`rt_sigsuspend`) ends.
    ///
    /// # Preconditions
    ///
    /// `1 <= signal <= 64`.
    pub fn post(&self, signal: i32) {
        self.pending.fetch_or(1 << (signal - 1), Ordering::SeqCst);
        if let Some(i) = &*lock(&self.interrupter) {
            i.interrupt();
        }
        if let Some(waker) = lock(&self.parked).upgrade() {
            waker.notify(EventMask::IN);
        }
    }

    /// Whether a posted signal is not blocked by `mask`.
    pub fn has_pending(&self, mask: u64) -> bool {
        self.pending.load(Ordering::SeqCst) & !mask != 0
    }

    /// Takes the lowest posted signal that `mask` does not block.
    pub fn take_pending(&self, mask: u64) -> Option<i32> {
        let deliverable = self.pending.load(Ordering::SeqCst) & !mask;
        if deliverable == 0 {
            return None;
        }
        let bit = deliverable.trailing_zeros();
        self.pending.fetch_and(!(1 << bit), Ordering::SeqCst);
        Some(bit as i32 + 1)
    }

    /// The signal that killed the task, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }
}

/// Whether the task running on the calling thread has been killed.
pub fn killed() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(|s| s.signal().is_some()))
}

/// Sleeps until `deadline` unless the calling thread's task is killed
/// first (then `EINTR`).
pub fn sleep_until(deadline: Instant) -> Result<(), Errno> {
    let waker = TaskWaker::new();
    while Instant::now() < deadline {
        if killed() {
            return Err(Errno::EINTR);
        }
        waker.wait(Some(deadline));
    }
    Ok(())
}
