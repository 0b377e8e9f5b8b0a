//! Interval timers (gVisor's `kernel/time` and `kernel/posixtimer.go`):
//! the POSIX timers of `timer_create` and the real-time interval timer of
//! `setitimer(ITIMER_REAL)` and `alarm`, which signal a thread group (or
//! one thread, `SIGEV_THREAD_ID`) when they expire.
//!
//! One service thread per kernel sleeps until the earliest deadline. A
//! timer whose signal is still pending when it expires again counts an
//! overrun instead (`timer_getoverrun`, `si_overrun`), as Linux does.
//! Deadlines on `CLOCK_REALTIME` are converted to the monotonic clock
//! when the timer is set (a later change of the host's clock does not
//! move them).
//!
//! # Reference model
//!
//! A thread group holds its timers (`Arc`); the service's queue holds
//! weak references, so a deleted timer, or one of an exited group, is
//! dropped from the queue when its deadline comes.
//!
//! # Lock order
//!
//! `Service::queue` → `Timer::state` → the thread group's and kill
//! switches' locks.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::task::ThreadGroup;
use crate::wait::KillSwitch;

/// `SI_TIMER`: the `si_code` of a POSIX timer's signal.
use abi_linux::signal::SI_TIMER;

/// How an expiring timer notifies (`sigev_notify`).
#[derive(Clone, Debug)]
pub enum Notify {
    /// `SIGEV_NONE`: nothing; the timer can only be read.
    None,
    /// `SIGEV_SIGNAL`: `signal` to the thread group.
    Group {
        /// The signal.
        signal: i32,
    },
    /// `SIGEV_THREAD_ID`: `signal` to one thread.
    Thread {
        /// The signal.
        signal: i32,
        /// The thread.
        thread: Arc<KillSwitch>,
    },
    /// A timerfd: count the expirations and wake the file's waiters.
    Wake(Weak<vfs_core::waiter::WaiterQueue>),
}

#[derive(Debug)]
struct TimerState {
    /// When the timer next expires; `None` when disarmed.
    deadline: Option<Instant>,
    /// The period; zero for a one-shot timer.
    interval: Duration,
    /// Expirations not signalled because the signal was still pending.
    overrun: i32,
    /// The overrun count as of the last signal (`timer_getoverrun`).
    reported_overrun: i32,
    /// Incremented on every set, so queue entries of an earlier setting
    /// are ignored.
    generation: u64,
    /// Expirations not yet read (a timerfd's count).
    expirations: u64,
}

/// One timer.
#[derive(Debug)]
pub struct Timer {
    /// The timer ID (`timer_create`'s result); -1 for `ITIMER_REAL`.
    id: i32,
    /// The clock its absolute times are on.
    clock: i32,
    /// `sigev_value`.
    value: u64,
    notify: Notify,
    /// `si_code` of its signal (`SI_TIMER`, or `SI_KERNEL` for
    /// `ITIMER_REAL`).
    code: i32,
    group: Weak<ThreadGroup>,
    state: Mutex<TimerState>,
}

impl Timer {
    /// A disarmed timer of `group` with `id` on `clock`, notifying as
    /// `notify` with `sigev_value` `value`; `real` for `ITIMER_REAL`
    /// (`SI_KERNEL`).
    pub fn new(
        group: &Arc<ThreadGroup>,
        (id, clock): (i32, i32),
        value: u64,
        notify: Notify,
        real: bool,
    ) -> Arc<Self> {
        Arc::new(Self {
            id,
            clock,
            value,
            notify,
            code: if real {
                abi_linux::signal::SI_KERNEL
            } else {
                SI_TIMER
            },
            group: Arc::downgrade(group),
            state: Mutex::new(TimerState {
                deadline: None,
                interval: Duration::ZERO,
                overrun: 0,
                reported_overrun: 0,
                generation: 0,
                expirations: 0,
            }),
        })
    }

    /// A disarmed timer on `clock` that counts its expirations and wakes
    /// `waiters` (a timerfd's), belonging to no thread group.
    pub fn waking(clock: i32, waiters: Weak<vfs_core::waiter::WaiterQueue>) -> Arc<Self> {
        Arc::new(Self {
            id: -1,
            clock,
            value: 0,
            notify: Notify::Wake(waiters),
            code: 0,
            group: Weak::new(),
            state: Mutex::new(TimerState {
                deadline: None,
                interval: Duration::ZERO,
                overrun: 0,
                reported_overrun: 0,
                generation: 0,
                expirations: 0,
            }),
        })
    }

    /// Takes the expirations counted since the last call (a timerfd's
    /// `read`).
    pub fn take_expirations(&self) -> u64 {
        std::mem::take(&mut self.state().expirations)
    }

    /// Whether expirations wait to be taken.
    pub fn has_expired(&self) -> bool {
        self.state().expirations > 0
    }

    fn state(&self) -> MutexGuard<'_, TimerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The time left and the period (`timer_gettime`, `getitimer`).
    pub fn get(&self) -> (Duration, Duration) {
        let st = self.state();
        let left = st.deadline.map_or(Duration::ZERO, |d| {
            d.saturating_duration_since(Instant::now())
        });
        (left, st.interval)
    }

    /// The clock the timer's absolute times are on.
    pub fn clock(&self) -> i32 {
        self.clock
    }

    /// The overruns as of the last signal (`timer_getoverrun`).
    pub fn reported_overrun(&self) -> i32 {
        self.state().reported_overrun
    }

    /// Expires the timer: signals (or counts an overrun) and re-arms a
    /// periodic timer; returns the next deadline.
    fn expire(&self, generation: u64, now: Instant) -> Option<Instant> {
        let mut st = self.state();
        if st.generation != generation {
            return None;
        }
        let deadline = st.deadline?;
        // Periods that passed while the service was late are overruns.
        let mut next = None;
        if !st.interval.is_zero() {
            // Computed, not stepped: a tiny period must not make the
            // service loop once per missed period.
            let missed =
                now.saturating_duration_since(deadline).as_nanos() / st.interval.as_nanos();
            let missed32 = i32::try_from(missed).unwrap_or(i32::MAX);
            st.overrun = st.overrun.saturating_add(missed32);
            let steps = u32::try_from(missed + 1).unwrap_or(u32::MAX);
            next = st
                .interval
                .checked_mul(steps)
                .and_then(|d| deadline.checked_add(d))
                .or_else(|| now.checked_add(st.interval));
        }
        st.deadline = next;
        if let Notify::Wake(waiters) = &self.notify {
            // This expiration and the periods the service was late for.
            let passed = 1 + std::mem::take(&mut st.overrun);
            st.expirations = st.expirations.saturating_add(passed as u64);
            // The waiters' callbacks (epoll) may take locks that come
            // before this timer's.
            drop(st);
            if let Some(waiters) = waiters.upgrade() {
                waiters.notify(vfs_core::waiter::READABLE_EVENTS);
            }
            return next;
        }
        let signal = match &self.notify {
            Notify::None | Notify::Wake(_) => None,
            Notify::Group { signal } | Notify::Thread { signal, .. } => Some(*signal),
        };
        if let (Some(signal), Some(group)) = (signal, self.group.upgrade())
            && group.thread_count() > 0
        {
            if group.signal_pending(signal) {
                st.overrun = st.overrun.saturating_add(1);
            } else {
                st.reported_overrun = st.overrun;
                st.overrun = 0;
                let mut info = abi_linux::SigInfo {
                    code: self.code,
                    ..abi_linux::SigInfo::default()
                };
                if self.code == SI_TIMER {
                    info.set_timer(self.id, st.reported_overrun);
                    info.set_value(self.value);
                }
                // Timer signals are never refused: their queue entry
                // belongs to the timer, as on Linux.
                let _ = match &self.notify {
                    Notify::Thread { thread, .. } => thread.post(signal, info, u64::MAX),
                    _ => group.send(signal, info),
                };
            }
        }
        next
    }
}

#[derive(Debug, Default)]
struct Queue {
    /// Deadline and sequence number to the timer and its generation.
    entries: BTreeMap<(Instant, u64), (Weak<Timer>, u64)>,
    next_seq: u64,
    shutdown: bool,
    started: bool,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

/// The kernel's timer service: its thread sleeps until the earliest
/// deadline and expires the timers due.
#[derive(Debug, Default)]
pub struct TimerService {
    shared: Arc<Shared>,
}

impl TimerService {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.shared.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms `timer` to expire after `value` (disarms it when zero), then
    /// every `interval`; returns the time that was left and the old
    /// period.
    pub fn set(
        &self,
        timer: &Arc<Timer>,
        value: Duration,
        interval: Duration,
    ) -> (Duration, Duration) {
        let old = timer.get();
        let mut queue = self.queue();
        let generation = {
            let mut st = timer.state();
            st.generation += 1;
            st.interval = interval;
            st.overrun = 0;
            st.expirations = 0;
            st.deadline = (!value.is_zero()).then(|| Instant::now() + value);
            st.deadline.map(|d| (d, st.generation))
        };
        if let Some((deadline, generation)) = generation {
            queue.next_seq += 1;
            let key = (deadline, queue.next_seq);
            queue
                .entries
                .insert(key, (Arc::downgrade(timer), generation));
            if !queue.started {
                queue.started = true;
                self.start();
            }
            self.shared.changed.notify_all();
        }
        old
    }

    /// Disarms `timer` (`timer_delete`, the group's exit).
    pub fn cancel(&self, timer: &Timer) {
        let _queue = self.queue();
        let mut st = timer.state();
        st.generation += 1;
        st.deadline = None;
    }

    fn start(&self) {
        let shared = self.shared.clone();
        // A timer that cannot get its thread never fires; nothing else
        // can be done about it.
        let _ = std::thread::Builder::new()
            .name("timers".into())
            .spawn(move || serve(&shared));
    }
}

impl Drop for TimerService {
    fn drop(&mut self) {
        self.queue().shutdown = true;
        self.shared.changed.notify_all();
    }
}

/// The service thread: expires due timers, re-queues periodic ones, and
/// sleeps until the next deadline or a change.
fn serve(shared: &Shared) {
    let mut queue = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if queue.shutdown {
            return;
        }
        let now = Instant::now();
        let due: Vec<(Instant, u64)> = queue
            .entries
            .range(..=(now, u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            let Some((timer, generation)) = queue.entries.remove(&key) else {
                continue;
            };
            let Some(timer) = timer.upgrade() else {
                continue;
            };
            if let Some(next) = timer.expire(generation, now) {
                queue.next_seq += 1;
                let seq = queue.next_seq;
                queue
                    .entries
                    .insert((next, seq), (Arc::downgrade(&timer), generation));
            }
        }
        queue = match queue.entries.keys().next() {
            Some(&(deadline, _)) => {
                let wait = deadline.saturating_duration_since(Instant::now());
                shared
                    .changed
                    .wait_timeout(queue, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => shared
                .changed
                .wait(queue)
                .unwrap_or_else(|e| e.into_inner()),
        };
    }
}
