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
    /// task is interrupted: killed, or a signal for a handler pending) and
    /// consumes the notification; returns `false` on a deadline or
    /// interruption with no notification.
    pub fn wait(&self, deadline: Option<Instant>) -> bool {
        let mut woken = self.woken.lock().unwrap_or_else(|e| e.into_inner());
        while !*woken {
            if interrupted() {
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

impl TaskWaker {
    /// Wakes the thread parked on the waker (or its next wait).
    pub fn notify_one(&self) {
        self.notify(EventMask::IN);
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
            if interrupted() {
                result = Err(Errno::ERESTARTSYS);
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
            Err(Errno::EAGAIN) if interrupted() => return Err(Errno::ERESTARTSYS),
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

/// Where a pending signal came from: `si_code` and `si_pid` of the
/// `siginfo` its handler receives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignalOrigin {
    /// `si_code` (`SI_USER`, `SI_TKILL`, `SI_KERNEL`, `CLD_*`, ...).
    pub code: i32,
    /// `si_pid`: the sender (or the child, for `SIGCHLD`).
    pub pid: i32,
    /// `si_addr` of a fault signal (`SIGSEGV`, `SIGBUS`, `SIGILL`,
    /// `SIGFPE`, `SIGTRAP`), which takes the place of `si_pid`.
    pub addr: Option<u64>,
    /// `si_timerid`, `si_overrun` and `si_value` of a timer's signal
    /// (`SI_TIMER`), which take the place of `si_pid` and `si_uid`.
    pub timer: Option<(i32, i32, u64)>,
}

/// A set of pending standard signals with each one's origin. A signal
/// already pending is not queued again (its first origin stays), as
/// Linux does for signals below `SIGRTMIN`.
#[derive(Debug)]
pub struct PendingSignals {
    /// Bit `n - 1` for signal `n`; read without the lock.
    bits: AtomicU64,
    origins: Mutex<[SignalOrigin; 64]>,
}

impl Default for PendingSignals {
    fn default() -> Self {
        Self {
            bits: AtomicU64::new(0),
            origins: Mutex::new([SignalOrigin::default(); 64]),
        }
    }
}

impl PendingSignals {
    /// Makes `signal` pending from `origin` unless it is already.
    ///
    /// # Preconditions
    ///
    /// `1 <= signal <= 64`.
    pub fn post(&self, signal: i32, origin: SignalOrigin) {
        let mut origins = lock(&self.origins);
        let bit = 1u64 << (signal - 1);
        if self.bits.load(Ordering::SeqCst) & bit == 0 {
            origins[signal as usize - 1] = origin;
            self.bits.fetch_or(bit, Ordering::SeqCst);
        }
    }

    /// The lowest pending signal `mask` does not block.
    pub fn peek(&self, mask: u64) -> Option<i32> {
        let deliverable = self.bits() & !mask;
        (deliverable != 0).then(|| deliverable.trailing_zeros() as i32 + 1)
    }

    /// The pending signals.
    pub fn bits(&self) -> u64 {
        self.bits.load(Ordering::SeqCst)
    }

    /// Takes the lowest pending signal `mask` does not block, with its
    /// origin; several threads may race for one group signal, and one
    /// wins.
    pub fn take(&self, mask: u64) -> Option<(i32, SignalOrigin)> {
        let origins = lock(&self.origins);
        let deliverable = self.bits.load(Ordering::SeqCst) & !mask;
        if deliverable == 0 {
            return None;
        }
        let bit = deliverable & deliverable.wrapping_neg();
        self.bits.fetch_and(!bit, Ordering::SeqCst);
        let signal = bit.trailing_zeros() as i32 + 1;
        Some((signal, origins[signal as usize - 1]))
    }
}

/// One task's (thread's) face to other threads (gVisor's
/// `Task.interrupt` and the sending side of `Task.sendSignal`): whether it
/// must exit, its blocked-signal mask (so senders choose a thread that
/// can take a group signal), its thread-directed pending signals, the
/// platform interrupter that stops its application code, and the waker
/// its thread parks on. Group-directed pending signals live in the
/// thread group and are shared here for [`Self::has_pending`].
#[derive(Debug)]
pub struct KillSwitch {
    /// The thread ID.
    tid: AtomicI32,
    /// Non-zero once the thread must exit (the group exits, or an
    /// `execve` in another thread ends it).
    signal: AtomicI32,
    /// Thread-directed pending signals.
    pending: PendingSignals,
    /// The group's pending signals.
    group_pending: Arc<PendingSignals>,
    /// The blocked-signal mask.
    mask: AtomicU64,
    interrupter: Mutex<Option<Interrupter>>,
    parked: Mutex<Weak<TaskWaker>>,
}

impl KillSwitch {
    /// A switch for thread `tid` of a group whose pending signals are
    /// `group_pending`.
    pub fn new(tid: i32, group_pending: Arc<PendingSignals>) -> Arc<Self> {
        Arc::new(Self {
            tid: AtomicI32::new(tid),
            signal: AtomicI32::new(0),
            pending: PendingSignals::default(),
            group_pending,
            mask: AtomicU64::new(0),
            interrupter: Mutex::new(None),
            parked: Mutex::new(Weak::new()),
        })
    }

    /// The thread ID.
    pub fn tid(&self) -> i32 {
        self.tid.load(Ordering::SeqCst)
    }

    /// Changes the thread ID (an `execve` from a non-leader thread takes
    /// the leader's).
    pub(crate) fn set_tid(&self, tid: i32) {
        self.tid.store(tid, Ordering::SeqCst);
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

    /// Stops the thread's application code and wakes its wait, so that it
    /// looks at its state again.
    pub(crate) fn notify(&self) {
        if let Some(i) = &*lock(&self.interrupter) {
            i.interrupt();
        }
        if let Some(waker) = lock(&self.parked).upgrade() {
            waker.notify(EventMask::IN);
        }
    }

    /// Makes the thread exit (the first signal recorded wins; what the
    /// group's exit status is, the thread group decides).
    pub fn kill(&self, signal: i32) {
        let _ = self
            .signal
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        self.notify();
    }

    /// Posts the thread-directed `signal` for its handler to run.
    ///
    /// # Preconditions
    ///
    /// `1 <= signal <= 64`.
    pub fn post(&self, signal: i32, origin: SignalOrigin) {
        self.pending.post(signal, origin);
        self.notify();
    }

    /// The blocked-signal mask.
    pub fn mask(&self) -> u64 {
        self.mask.load(Ordering::SeqCst)
    }

    /// Records the blocked-signal mask.
    pub(crate) fn set_mask(&self, mask: u64) {
        self.mask.store(mask, Ordering::SeqCst);
    }

    /// Whether a thread- or group-directed pending signal is not blocked
    /// by `mask`.
    pub fn has_pending(&self, mask: u64) -> bool {
        (self.pending.bits() | self.group_pending.bits()) & !mask != 0
    }

    /// The signal [`Self::take_pending`] would take.
    pub fn peek_pending(&self, mask: u64) -> Option<i32> {
        self.pending
            .peek(mask)
            .or_else(|| self.group_pending.peek(mask))
    }

    /// Takes the lowest pending signal that `mask` does not block, with
    /// its origin, thread-directed ones first (as Linux's
    /// `dequeue_signal`).
    pub fn take_pending(&self, mask: u64) -> Option<(i32, SignalOrigin)> {
        self.pending
            .take(mask)
            .or_else(|| self.group_pending.take(mask))
    }

    /// The signal the thread was told to exit with, if any.
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

/// Whether the task running on the calling thread must stop waiting: it
/// was killed, or a signal its mask lets through is pending (the wait
/// ends with `EINTR` so the handler can run).
pub fn interrupted() -> bool {
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|s| s.signal().is_some() || s.has_pending(s.mask()))
    })
}

/// Sleeps until `deadline` unless the calling thread's task is
/// interrupted first (then `ERESTARTNOHAND`: `EINTR` when a handler runs,
/// a restart otherwise).
pub fn sleep_until(deadline: Instant) -> Result<(), Errno> {
    let waker = TaskWaker::new();
    while Instant::now() < deadline {
        if interrupted() {
            return Err(Errno::ERESTARTNOHAND);
        }
        waker.wait(Some(deadline));
    }
    Ok(())
}
