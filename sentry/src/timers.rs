//! Interval timers (gVisor's `kernel/time` and `kernel/posixtimer.go`):
//! the POSIX timers of `timer_create` and the interval timers of
//! `setitimer` and `alarm`, which signal a thread group (or one thread,
//! `SIGEV_THREAD_ID`) when they expire; and the `RLIMIT_CPU` check.
//!
//! One service thread per kernel sleeps until the earliest deadline of
//! the timers on wall clocks. Timers on CPU-time clocks (`ITIMER_VIRTUAL`,
//! `ITIMER_PROF`, the process and thread CPU clocks) and groups with a
//! finite `RLIMIT_CPU` are checked by a second thread every
//! [`CPU_TICK`] while any exists, as Linux checks them on its scheduler
//! tick; their deadlines are kept as instants [`cpu_instant`] maps CPU
//! time to, so both kinds share the expiry and overrun rules. A
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

/// How often CPU-time timers and `RLIMIT_CPU` are checked (Linux's
/// `HZ` of 100).
pub const CPU_TICK: Duration = Duration::from_millis(10);

/// A CPU-time clock: a process's or a thread's user and system time
/// (`CLOCK_PROCESS_CPUTIME_ID`, `ITIMER_PROF`, the `CPUCLOCK_SCHED` and
/// `CPUCLOCK_PROF` clocks), or its user time only (`ITIMER_VIRTUAL`,
/// `CPUCLOCK_VIRT`).
#[derive(Clone, Debug)]
pub struct CpuClock {
    /// Whose time.
    pub source: CpuSource,
    /// Only user time.
    pub user_only: bool,
}

/// Whose CPU time a [`CpuClock`] reads.
#[derive(Clone, Debug)]
pub enum CpuSource {
    /// A process's: its live and exited threads'.
    Group(Weak<ThreadGroup>),
    /// One thread's.
    Thread(Weak<KillSwitch>),
}

impl CpuClock {
    /// The clock's reading in nanoseconds; 0 once its owner is gone.
    pub fn read_ns(&self) -> u64 {
        let (user, sys) = match &self.source {
            CpuSource::Group(group) => group.upgrade().map_or((0, 0), |g| {
                let u = g.self_usage();
                (u.user_ns, u.sys_ns)
            }),
            CpuSource::Thread(thread) => thread.upgrade().map_or((0, 0), |k| k.cpu_times()),
        };
        if self.user_only { user } else { user + sys }
    }
}

/// The instant that stands for `ns` of CPU time on the deadlines of
/// CPU-clock timers.
fn cpu_instant(ns: u64) -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now) + Duration::from_nanos(ns)
}

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
    /// The CPU time it counts, for a CPU-clock timer.
    cpu: Option<CpuClock>,
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
        Self::build(group, (id, clock), value, notify, real, None)
    }

    /// As [`Timer::new`], for a timer that counts the CPU time of `cpu`.
    pub fn on_cpu_clock(
        group: &Arc<ThreadGroup>,
        (id, clock): (i32, i32),
        value: u64,
        notify: Notify,
        real: bool,
        cpu: CpuClock,
    ) -> Arc<Self> {
        Self::build(group, (id, clock), value, notify, real, Some(cpu))
    }

    fn build(
        group: &Arc<ThreadGroup>,
        (id, clock): (i32, i32),
        value: u64,
        notify: Notify,
        real: bool,
        cpu: Option<CpuClock>,
    ) -> Arc<Self> {
        Arc::new(Self {
            id,
            clock,
            cpu,
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
            cpu: None,
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

    /// The time now on the timer's clock (CPU time as [`cpu_instant`]).
    fn now(&self) -> Instant {
        match &self.cpu {
            None => Instant::now(),
            Some(cpu) => cpu_instant(cpu.read_ns()),
        }
    }

    /// The time left and the period (`timer_gettime`, `getitimer`).
    pub fn get(&self) -> (Duration, Duration) {
        let now = self.now();
        let st = self.state();
        let left = st
            .deadline
            .map_or(Duration::ZERO, |d| d.saturating_duration_since(now));
        (left, st.interval)
    }

    /// The clock the timer's absolute times are on.
    pub fn clock(&self) -> i32 {
        self.clock
    }

    /// The CPU-time clock the timer counts, if it is a CPU-clock timer.
    pub fn cpu_clock(&self) -> Option<&CpuClock> {
        self.cpu.as_ref()
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
            // Still pending where this timer sends it (a thread's own
            // queue, or the group's): an overrun.
            let pending = match &self.notify {
                Notify::Thread { thread, .. } => thread.own_pending(signal),
                _ => group.signal_pending(signal),
            };
            if pending {
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
    cpu: Mutex<CpuWatch>,
    cpu_changed: Condvar,
}

/// What the CPU tick checks.
#[derive(Debug, Default)]
struct CpuWatch {
    /// Armed CPU-clock timers (dropped when disarmed or gone).
    timers: Vec<Weak<Timer>>,
    /// Groups with a finite `RLIMIT_CPU` (dropped when it becomes
    /// infinite or the group ends).
    limited: Vec<Weak<ThreadGroup>>,
    started: bool,
    shutdown: bool,
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
        if timer.cpu.is_some() {
            let now = timer.now();
            let mut watch = self.cpu_watch();
            let mut st = timer.state();
            st.generation += 1;
            st.interval = interval;
            st.overrun = 0;
            st.deadline = (!value.is_zero()).then(|| now + value);
            if st.deadline.is_some() {
                watch.timers.push(Arc::downgrade(timer));
                drop(st);
                self.start_cpu_tick(&mut watch);
            }
            return old;
        }
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

    fn cpu_watch(&self) -> MutexGuard<'_, CpuWatch> {
        self.shared.cpu.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Has the CPU tick check `group`'s `RLIMIT_CPU` (after a change of
    /// the limit, or a fork that copied a finite one).
    pub fn watch_cpu_limit(&self, group: &Arc<ThreadGroup>) {
        if group.limits().cur(abi_linux::RlimitResource::CPU) == abi_linux::RLIM_INFINITY {
            return;
        }
        let mut watch = self.cpu_watch();
        if !watch
            .limited
            .iter()
            .any(|g| std::ptr::eq(g.as_ptr(), Arc::as_ptr(group)))
        {
            watch.limited.push(Arc::downgrade(group));
        }
        self.start_cpu_tick(&mut watch);
    }

    fn start_cpu_tick(&self, watch: &mut CpuWatch) {
        self.shared.cpu_changed.notify_all();
        if watch.started {
            return;
        }
        watch.started = true;
        let shared = self.shared.clone();
        // As for the wall-clock service: without its thread, CPU timers
        // never fire.
        let _ = std::thread::Builder::new()
            .name("cpu-timers".into())
            .spawn(move || cpu_tick(&shared));
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
        self.cpu_watch().shutdown = true;
        self.shared.cpu_changed.notify_all();
    }
}

/// The CPU tick's thread: every [`CPU_TICK`] while anything is watched,
/// expires the CPU-clock timers due and checks `RLIMIT_CPU`; sleeps
/// while nothing is.
fn cpu_tick(shared: &Shared) {
    let lock = || shared.cpu.lock().unwrap_or_else(|e| e.into_inner());
    let mut watch = lock();
    loop {
        if watch.shutdown {
            return;
        }
        if watch.timers.is_empty() && watch.limited.is_empty() {
            watch = shared
                .cpu_changed
                .wait(watch)
                .unwrap_or_else(|e| e.into_inner());
            continue;
        }
        drop(watch);
        std::thread::sleep(CPU_TICK);
        let (timers, limited) = {
            let mut w = lock();
            (
                std::mem::take(&mut w.timers),
                std::mem::take(&mut w.limited),
            )
        };
        let timers: Vec<Weak<Timer>> = timers
            .into_iter()
            .filter(|weak| weak.upgrade().is_some_and(|t| t.cpu_tick()))
            .collect();
        let limited: Vec<Weak<ThreadGroup>> = limited
            .into_iter()
            .filter(|weak| weak.upgrade().is_some_and(|g| check_cpu_limit(&g)))
            .collect();
        watch = lock();
        // Timers armed and groups limited meanwhile were pushed to the
        // emptied lists; a timer re-armed meanwhile may now be listed
        // twice, which only costs a second look.
        watch.timers.extend(timers);
        watch.limited.extend(limited);
    }
}

impl Timer {
    /// One CPU tick for a CPU-clock timer: expires it when due. Returns
    /// whether it stays armed.
    fn cpu_tick(&self) -> bool {
        let (generation, deadline) = {
            let st = self.state();
            (st.generation, st.deadline)
        };
        let Some(deadline) = deadline else {
            return false;
        };
        let now = self.now();
        if now >= deadline {
            return self.expire(generation, now).is_some();
        }
        true
    }
}

/// Linux's `RLIMIT_CPU` check (`check_process_timers`): at the hard
/// limit the process gets `SIGKILL`; at the soft limit `SIGXCPU`, and
/// the soft limit grows by a second so the next comes a second later.
/// Only a finite soft limit is checked, as on Linux. Returns whether the
/// group stays watched.
fn check_cpu_limit(group: &Arc<ThreadGroup>) -> bool {
    use abi_linux::{RLIM_INFINITY, Rlimit, RlimitResource};
    if group.thread_count() == 0 {
        return false;
    }
    let limits = group.limits();
    let Rlimit { cur, max } = limits.get(RlimitResource::CPU);
    if cur == RLIM_INFINITY {
        return false;
    }
    let usage = group.self_usage();
    let used = usage.user_ns + usage.sys_ns;
    let ns = |secs: u64| secs.saturating_mul(1_000_000_000);
    let info = abi_linux::SigInfo {
        code: abi_linux::signal::SI_KERNEL,
        ..abi_linux::SigInfo::default()
    };
    if max != RLIM_INFINITY && used >= ns(max) {
        let _ = group.send(abi_linux::Signal::SIGKILL.0, info);
        return false;
    }
    if used >= ns(cur) {
        limits.raise_cpu_soft_limit();
        let _ = group.send(abi_linux::Signal::SIGXCPU.0, info);
    }
    true
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
