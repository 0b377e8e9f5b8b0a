//! How a task blocks (gVisor's `Task.Block` and `waiter.Entry` use): a
//! [`TaskWaker`] registered with a file's waiter queue parks the task's
//! thread until the file signals an event, then the operation is retried.
//!
//! A wait ends when the awaited event (or a deadline) arrives, when the
//! task must exit, or when a signal its mask lets through is pending
//! ([`KillSwitch`], [`PendingSignals`]); then it fails with one of the
//! `ERESTART*` codes, which the dispatcher turns into `EINTR` or a
//! restart once it knows whether a handler runs.
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
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Instant;

use platform::Interrupter;

use abi_linux::{Errno, OpenFlags, SigInfo};
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
        self.wait_unless(deadline, interrupted)
    }

    /// [`Self::wait`] that only the task's exit interrupts, not a pending
    /// signal (Linux's `TASK_KILLABLE` sleeps: `vfork`, `de_thread`).
    pub fn wait_killable(&self, deadline: Option<Instant>) -> bool {
        self.wait_unless(deadline, killed)
    }

    fn wait_unless(&self, deadline: Option<Instant>, stop: fn() -> bool) -> bool {
        let mut woken = self.woken.lock().unwrap_or_else(|e| e.into_inner());
        while !*woken {
            if stop() {
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

/// The `siginfo` of a signal sent by a process (`kill`, `tkill`,
/// `sigqueue`): `si_code`, `si_pid` and `si_uid`.
pub fn sender_info(code: i32, pid: i32, uid: u32) -> SigInfo {
    let mut info = SigInfo {
        code,
        ..SigInfo::default()
    };
    info.set_pid(pid);
    info.set_uid(uid);
    info
}

/// The `siginfo` of a synchronous fault (`SIGSEGV`, `SIGBUS`, `SIGILL`,
/// `SIGFPE`, `SIGTRAP`): `si_code` and `si_addr`.
pub fn fault_info(code: i32, addr: u64) -> SigInfo {
    let mut info = SigInfo {
        code,
        ..SigInfo::default()
    };
    info.set_addr(addr);
    info
}

/// The first real-time signal (`SIGRTMIN` as the kernel numbers it).
const SIGRTMIN: i32 = abi_linux::Signal::SIGRTMIN.0;

/// What [`PendingSignals`]' lock guards: each signal's queued `siginfo`s
/// and their total.
#[derive(Debug)]
struct Queues {
    infos: [VecDeque<SigInfo>; 64],
    queued: u64,
}

/// Pending signals with their `siginfo`, as Linux keeps them: a standard
/// signal already pending is not queued again (its first `siginfo`
/// stays); real-time signals queue, in order, each with its own, up to a
/// limit (`RLIMIT_SIGPENDING`, counted here per set rather than per
/// user).
#[derive(Debug)]
pub struct PendingSignals {
    /// Bit `n - 1` for signal `n`; read without the lock.
    bits: AtomicU64,
    queues: Mutex<Queues>,
    /// Told of every signal posted here (a group's: and to any of its
    /// threads), for signalfds.
    waiters: WaiterQueue,
}

impl Default for PendingSignals {
    fn default() -> Self {
        Self {
            bits: AtomicU64::new(0),
            queues: Mutex::new(Queues {
                infos: std::array::from_fn(|_| VecDeque::new()),
                queued: 0,
            }),
            waiters: WaiterQueue::new(),
        }
    }
}

impl PendingSignals {
    /// Makes `signal` pending with `info` (whose `si_signo` is set here).
    /// Past `limit` queued `siginfo`s a real-time signal sent other than
    /// by `kill` is refused with `EAGAIN`; any other signal is still made
    /// pending, without its `siginfo` (Linux's `__send_signal`).
    ///
    /// # Preconditions
    ///
    /// `1 <= signal <= 64`.
    pub fn post(&self, signal: i32, info: SigInfo, limit: u64) -> Result<(), Errno> {
        self.enqueue(signal, info, limit)?;
        self.waiters.notify(EventMask::IN);
        Ok(())
    }

    /// The queue signalfds wait on: notified of every signal posted here
    /// (for a group's pending set, also of those posted to its threads).
    pub fn waiters(&self) -> &WaiterQueue {
        &self.waiters
    }

    fn enqueue(&self, signal: i32, mut info: SigInfo, limit: u64) -> Result<(), Errno> {
        let mut q = lock(&self.queues);
        let bit = 1u64 << (signal - 1);
        let pending = self.bits.load(Ordering::SeqCst) & bit != 0;
        if signal < SIGRTMIN && pending {
            return Ok(());
        }
        info.signo = signal;
        if q.queued < limit {
            q.infos[signal as usize - 1].push_back(info);
            q.queued += 1;
        } else if signal >= SIGRTMIN && info.code != abi_linux::signal::SI_USER {
            return Err(Errno::EAGAIN);
        }
        self.bits.fetch_or(bit, Ordering::SeqCst);
        Ok(())
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
    /// `siginfo` (the first queued one; `SI_USER` from nobody when it was
    /// lost to the limit); several threads may race for one group signal,
    /// and one wins.
    pub fn take(&self, mask: u64) -> Option<SigInfo> {
        let mut q = lock(&self.queues);
        let deliverable = self.bits.load(Ordering::SeqCst) & !mask;
        if deliverable == 0 {
            return None;
        }
        let bit = deliverable & deliverable.wrapping_neg();
        let signal = bit.trailing_zeros() as i32 + 1;
        let queue = &mut q.infos[signal as usize - 1];
        let info = queue.pop_front();
        let more = !queue.is_empty();
        if info.is_some() {
            q.queued -= 1;
        }
        if !more {
            self.bits.fetch_and(!bit, Ordering::SeqCst);
        }
        Some(info.unwrap_or(SigInfo {
            signo: signal,
            ..SigInfo::default()
        }))
    }

    /// Forgets the pending signals of `set` (a stop signal cancels a
    /// pending `SIGCONT` and the other way round, as Linux's
    /// `prepare_signal` does).
    pub fn discard(&self, set: u64) {
        let mut q = lock(&self.queues);
        let gone = self.bits.fetch_and(!set, Ordering::SeqCst) & set;
        for signal in 1..=64usize {
            if gone & (1 << (signal - 1)) != 0 {
                let n = q.infos[signal - 1].len() as u64;
                q.infos[signal - 1].clear();
                q.queued -= n;
            }
        }
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
    /// The signals `rt_sigtimedwait` is waiting for: let through the mask
    /// to wake the thread, but not taking their default action (Linux's
    /// `real_blocked`).
    awaited: AtomicU64,
    interrupter: Mutex<Option<Interrupter>>,
    parked: Mutex<Weak<TaskWaker>>,
    /// Nanoseconds the thread's application code has run.
    user_ns: AtomicU64,
    /// When the application code last started running ([`elapsed_ns`]
    /// plus one; 0 while the sentry serves the thread), so readers see
    /// the time of a run in progress.
    running_since: AtomicU64,
    /// The host CPU clock of the sentry thread serving the task, and its
    /// reading when the task started there (0 clock: not running).
    sys_clock: AtomicI32,
    sys_base_ns: AtomicU64,
    /// The `set_robust_list` head, for `get_robust_list` from any thread.
    robust_head: AtomicU64,
    /// The thread's seccomp mode and filters (here so that
    /// `SECCOMP_FILTER_FLAG_TSYNC` can set other threads'), and whether
    /// it is other than disabled, read before every call.
    seccomp: Mutex<crate::seccomp::Mode>,
    seccomp_on: AtomicBool,
}

/// Nanoseconds since the first call: a monotonic time that fits an
/// atomic.
pub fn elapsed_ns() -> u64 {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    EPOCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// Reads a host CPU-time clock in nanoseconds (0 if it cannot be read).
fn cpu_clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid `timespec` to write.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl KillSwitch {
    /// Starts accounting system time to the calling (sentry) thread's CPU
    /// clock; called on the thread that serves the task.
    pub(crate) fn start_cpu_accounting(&self) {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: `clock` is a valid place for the calling thread's clock.
        if unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) } == 0 {
            self.sys_base_ns
                .store(cpu_clock_ns(clock), Ordering::SeqCst);
            self.sys_clock.store(clock, Ordering::SeqCst);
        }
    }

    /// Notes that the application code starts running.
    pub(crate) fn enter_application(&self) {
        self.running_since.store(elapsed_ns() + 1, Ordering::SeqCst);
    }

    /// Notes that the application code stopped running and adds the time
    /// it ran.
    pub(crate) fn leave_application(&self) {
        let since = self.running_since.swap(0, Ordering::SeqCst);
        if since != 0 {
            let ran = (elapsed_ns() + 1).saturating_sub(since);
            self.user_ns.fetch_add(ran, Ordering::SeqCst);
        }
    }

    /// The thread's (user, system) CPU time in nanoseconds: its
    /// application code's running time (including a run in progress),
    /// and the sentry's time serving it.
    pub fn cpu_times(&self) -> (u64, u64) {
        let since = self.running_since.load(Ordering::SeqCst);
        let mut user = self.user_ns.load(Ordering::SeqCst);
        if since != 0 {
            user += (elapsed_ns() + 1).saturating_sub(since);
        }
        let clock = self.sys_clock.load(Ordering::SeqCst);
        let sys = if clock == 0 {
            0
        } else {
            cpu_clock_ns(clock).saturating_sub(self.sys_base_ns.load(Ordering::SeqCst))
        };
        (user, sys)
    }

    /// A switch for thread `tid` of a group whose pending signals are
    /// `group_pending`.
    pub fn new(tid: i32, group_pending: Arc<PendingSignals>) -> Arc<Self> {
        Arc::new(Self {
            tid: AtomicI32::new(tid),
            signal: AtomicI32::new(0),
            pending: PendingSignals::default(),
            group_pending,
            mask: AtomicU64::new(0),
            awaited: AtomicU64::new(0),
            interrupter: Mutex::new(None),
            parked: Mutex::new(Weak::new()),
            user_ns: AtomicU64::new(0),
            running_since: AtomicU64::new(0),
            sys_clock: AtomicI32::new(0),
            sys_base_ns: AtomicU64::new(0),
            robust_head: AtomicU64::new(0),
            seccomp: Mutex::new(crate::seccomp::Mode::Disabled),
            seccomp_on: AtomicBool::new(false),
        })
    }

    /// The thread's robust-list head (`get_robust_list`).
    pub fn robust_head(&self) -> u64 {
        self.robust_head.load(Ordering::SeqCst)
    }

    /// Records the thread's robust-list head (`set_robust_list`, cleared
    /// by `execve`).
    pub(crate) fn set_robust_head(&self, head: u64) {
        self.robust_head.store(head, Ordering::SeqCst);
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
    /// group's exit status is, the thread group decides). Application
    /// code that does not stop for the interrupt has its stub killed
    /// ([`platform::Interrupter::interrupt_fatal`]).
    pub fn kill(&self, signal: i32) {
        let _ = self
            .signal
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        if let Some(i) = &*lock(&self.interrupter) {
            i.interrupt_fatal();
        }
        self.notify();
    }

    /// Posts the thread-directed `signal` with `info` for its handler to
    /// run; `EAGAIN` past `limit` queued real-time signals (see
    /// [`PendingSignals::post`]).
    ///
    /// # Preconditions
    ///
    /// `1 <= signal <= 64`.
    pub fn post(&self, signal: i32, info: SigInfo, limit: u64) -> Result<(), Errno> {
        self.pending.post(signal, info, limit)?;
        self.group_pending.waiters.notify(EventMask::IN);
        self.notify();
        Ok(())
    }

    /// The thread's seccomp mode; `None` (cheaply) when disabled.
    pub fn seccomp(&self) -> Option<crate::seccomp::Mode> {
        if !self.seccomp_on.load(Ordering::Acquire) {
            return None;
        }
        Some(lock(&self.seccomp).clone())
    }

    /// Sets the thread's seccomp mode.
    pub fn set_seccomp(&self, mode: crate::seccomp::Mode) {
        let on = !matches!(mode, crate::seccomp::Mode::Disabled);
        *lock(&self.seccomp) = mode;
        self.seccomp_on.store(on, Ordering::Release);
    }

    /// Whether `signal` is pending for this thread itself (not its
    /// group).
    pub fn own_pending(&self, signal: i32) -> bool {
        self.pending.bits() & (1 << (signal - 1)) != 0
    }

    /// The signals pending for this thread or its group.
    pub fn pending_bits(&self) -> u64 {
        self.pending.bits() | self.group_pending.bits()
    }

    /// The blocked-signal mask.
    pub fn mask(&self) -> u64 {
        self.mask.load(Ordering::SeqCst)
    }

    /// Records the blocked-signal mask.
    pub(crate) fn set_mask(&self, mask: u64) {
        self.mask.store(mask, Ordering::SeqCst);
    }

    /// Records the signals `rt_sigtimedwait` waits for (none: 0).
    pub(crate) fn set_awaited(&self, set: u64) {
        self.awaited.store(set, Ordering::SeqCst);
    }

    /// Whether `signal`'s default action may act on the thread now: it is
    /// neither blocked nor awaited.
    ///
    /// # Preconditions
    ///
    /// `1 <= signal <= 64`.
    pub fn takes_default_action(&self, signal: i32) -> bool {
        let bit = 1u64 << (signal - 1);
        (self.mask() | self.awaited.load(Ordering::SeqCst)) & bit == 0
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
    /// its `siginfo`, thread-directed ones first (as Linux's
    /// `dequeue_signal`).
    pub fn take_pending(&self, mask: u64) -> Option<SigInfo> {
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

/// The kill switch of the task running on the calling thread (a signalfd
/// reads its signals).
pub fn current() -> Option<Arc<KillSwitch>> {
    CURRENT.with(|c| c.borrow().clone())
}

impl KillSwitch {
    /// The group's pending set, whose waiters learn of every signal for
    /// the thread or its group.
    pub fn group_pending(&self) -> &Arc<PendingSignals> {
        &self.group_pending
    }

    /// Forgets the thread-directed pending signals of `set`.
    pub(crate) fn discard_pending(&self, set: u64) {
        self.pending.discard(set);
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
