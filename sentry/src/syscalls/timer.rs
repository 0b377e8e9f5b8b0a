//! Interval timers (gVisor's `sys_timer.go` and `sys_timerfd.go`):
//! `alarm`, `getitimer`/`setitimer` (`ITIMER_REAL`, `ITIMER_VIRTUAL`,
//! `ITIMER_PROF`), the POSIX timers `timer_create`, `timer_settime`,
//! `timer_gettime`, `timer_getoverrun` and `timer_delete` on the wall
//! clocks and the CPU-time clocks with `SIGEV_SIGNAL`, `SIGEV_NONE` and
//! `SIGEV_THREAD_ID`, and timerfds ([`crate::timers`],
//! [`crate::timerfd`]).
//!
//! CPU time is the wall time a thread's application code ran plus the
//! sentry's CPU time serving it; CPU-clock timers fire on the next
//! [`crate::timers::CPU_TICK`] after their time.

use std::time::Duration;

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{ClockId, Errno, Itimerspec, Timespec, Timeval};

use super::{SysResult, SyscallTable, UserAddr};
use crate::task::Task;
use crate::timers::{CpuClock, CpuSource, Notify, Timer};

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::ALARM, sys_alarm);
    table.typed(nr::GETITIMER, sys_getitimer);
    table.typed(nr::SETITIMER, sys_setitimer);
    table.typed(nr::TIMER_CREATE, sys_timer_create);
    table.typed(nr::TIMER_SETTIME, sys_timer_settime);
    table.typed(nr::TIMER_GETTIME, sys_timer_gettime);
    table.typed(nr::TIMER_GETOVERRUN, sys_timer_getoverrun);
    table.typed(nr::TIMER_DELETE, sys_timer_delete);
    table.typed(nr::TIMERFD_CREATE, sys_timerfd_create);
    table.typed(nr::TIMERFD_SETTIME, sys_timerfd_settime);
    table.typed(nr::TIMERFD_GETTIME, sys_timerfd_gettime);
    table.partial(
        nr::TIMERFD_SETTIME,
        "TFD_TIMER_CANCEL_ON_SET is accepted; the sandbox's clock is never set, so reads \
         never report ECANCELED",
    );
    table.partial(
        nr::SETITIMER,
        "ITIMER_VIRTUAL and ITIMER_PROF count wall time in application code (plus the \
         sentry's CPU time for PROF) and fire on a 10 ms tick",
    );
    table.partial(
        nr::TIMER_CREATE,
        "CPU-time clocks count wall time in application code plus the sentry's CPU time and \
         fire on a 10 ms tick; SIGEV_THREAD is EINVAL (libc implements it over \
         SIGEV_THREAD_ID)",
    );
}

use abi_linux::time::{
    ITIMER_PROF, ITIMER_REAL, ITIMER_VIRTUAL, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD_ID,
    TIMER_ABSTIME,
};

const SIGALRM: i32 = abi_linux::Signal::SIGALRM.0;
/// The most timers one process may have (Linux bounds them by
/// `RLIMIT_SIGPENDING`; this is its usual value).
const MAX_TIMERS: usize = 4096;

/// A `struct timeval` as a duration; `EINVAL` when negative or out of
/// range.
fn from_timeval(tv: Timeval) -> Result<Duration, Errno> {
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
}

/// A `struct timespec` as a duration; `EINVAL` when negative or out of
/// range.
fn from_timespec(ts: Timespec) -> Result<Duration, Errno> {
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// A timer's time as a `struct timeval`, rounded up to a whole
/// microsecond as Linux rounds it (so a running timer never reads as
/// disarmed).
fn to_timeval(d: Duration) -> Timeval {
    let mut sec = d.as_secs() as i64;
    let mut usec = i64::from(d.subsec_nanos().div_ceil(1000));
    if usec == 1_000_000 {
        sec += 1;
        usec = 0;
    }
    Timeval {
        tv_sec: sec,
        tv_usec: usec,
    }
}

/// A duration as a `struct timespec`.
fn to_timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: d.as_secs() as i64,
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}

/// The group's `ITIMER_REAL`, made on first use.
fn real_timer(t: &Task) -> std::sync::Arc<Timer> {
    let mut timers = t.group.timers();
    timers
        .real
        .get_or_insert_with(|| {
            Timer::new(
                &t.group,
                (-1, 0),
                0,
                Notify::Group { signal: SIGALRM },
                true,
            )
        })
        .clone()
}

fn sys_alarm(t: &mut Task, seconds: u32) -> SysResult {
    let timer = real_timer(t);
    let (left, _) = t.kernel.timers.set(
        &timer,
        Duration::from_secs(u64::from(seconds)),
        Duration::ZERO,
    );
    // Linux rounds the seconds left to the nearest, and never reports a
    // running timer as 0.
    let mut secs = left.as_secs();
    if left.subsec_micros() >= 500_000 || (secs == 0 && !left.is_zero()) {
        secs += 1;
    }
    Ok(secs)
}

/// The group's `ITIMER_REAL`, `ITIMER_VIRTUAL` or `ITIMER_PROF`, made on
/// first use; `EINVAL` for another `which`.
fn itimer(t: &Task, which: i32) -> Result<std::sync::Arc<Timer>, Errno> {
    let (user_only, signal) = match which {
        ITIMER_REAL => return Ok(real_timer(t)),
        ITIMER_VIRTUAL => (true, abi_linux::Signal::SIGVTALRM.0),
        ITIMER_PROF => (false, abi_linux::Signal::SIGPROF.0),
        _ => return Err(Errno::EINVAL),
    };
    let mut timers = t.group.timers();
    let slot = if user_only {
        &mut timers.virt
    } else {
        &mut timers.prof
    };
    Ok(slot
        .get_or_insert_with(|| {
            let cpu = CpuClock {
                source: CpuSource::Group(std::sync::Arc::downgrade(&t.group)),
                user_only,
            };
            Timer::on_cpu_clock(&t.group, (-1, 0), 0, Notify::Group { signal }, true, cpu)
        })
        .clone())
}

fn sys_getitimer(t: &mut Task, which: i32, value: UserAddr) -> SysResult {
    let (left, interval) = itimer(t, which)?.get();
    // struct itimerval: it_interval, it_value.
    t.mm.write_obj(value.get(), &[to_timeval(interval), to_timeval(left)])
        .map(|()| 0)
}

fn sys_setitimer(t: &mut Task, which: i32, new: UserAddr, old: UserAddr) -> SysResult {
    let timer = itimer(t, which)?;
    let (interval, value) = if new.is_null() {
        (Duration::ZERO, Duration::ZERO)
    } else {
        let [interval, value] = t.mm.read_obj::<[Timeval; 2]>(new.get())?;
        (from_timeval(interval)?, from_timeval(value)?)
    };
    let (left, old_interval) = t.kernel.timers.set(&timer, value, interval);
    if !old.is_null() {
        t.mm.write_obj(old.get(), &[to_timeval(old_interval), to_timeval(left)])?;
    }
    Ok(0)
}

/// The clock of a new POSIX timer: `CLOCK_REALTIME`,
/// `CLOCK_MONOTONIC`, `CLOCK_BOOTTIME`, `CLOCK_REALTIME_ALARM`,
/// `CLOCK_BOOTTIME_ALARM`, or a CPU-time clock (returned).
fn timer_clock(t: &Task, clock: i32) -> Result<Option<CpuClock>, Errno> {
    if let Some(cpu) = super::time::cpu_clock(t, ClockId(clock), true)? {
        return Ok(Some(cpu));
    }
    match clock {
        0 | 1 | 7 | 8 | 9 => Ok(None),
        _ => Err(Errno::EINVAL),
    }
}

/// `timer_create(clockid, sevp, timerid)`.
fn sys_timer_create(t: &mut Task, clock: i32, sevp: UserAddr, timerid: UserAddr) -> SysResult {
    let cpu = timer_clock(t, clock)?;
    // struct sigevent: sigev_value, sigev_signo, sigev_notify, then
    // sigev_notify_thread_id for SIGEV_THREAD_ID.
    let (value, signo, how, tid) = if sevp.is_null() {
        (None, SIGALRM, SIGEV_SIGNAL, 0)
    } else {
        let mut raw = [0u8; 20];
        t.mm.copy_in_exact(sevp.get(), &mut raw)?;
        let value = u64::from_le_bytes(raw[..8].try_into().unwrap_or([0; 8]));
        let int = |i: usize| i32::from_le_bytes(raw[i..i + 4].try_into().unwrap_or([0; 4]));
        (Some(value), int(8), int(12), int(16))
    };
    let valid_signal = (1..=64).contains(&signo);
    let notify = match how {
        SIGEV_NONE => Notify::None,
        SIGEV_SIGNAL if valid_signal => Notify::Group { signal: signo },
        SIGEV_THREAD_ID if valid_signal => {
            let group = t.kernel.tasks.group_of_thread(tid);
            if group.is_none_or(|g| g.tgid() != t.tgid) {
                return Err(Errno::EINVAL);
            }
            let thread = t.group.thread_switch(tid).ok_or(Errno::EINVAL)?;
            Notify::Thread {
                signal: signo,
                thread,
            }
        }
        _ => return Err(Errno::EINVAL),
    };
    let mut timers = t.group.timers();
    if timers.posix.len() >= MAX_TIMERS {
        return Err(Errno::EAGAIN);
    }
    let id = (0..).find(|i| !timers.posix.contains_key(i)).unwrap_or(0);
    // Without a sigevent, the value is the timer ID.
    let value = value.unwrap_or(id as u64);
    let timer = match cpu {
        None => Timer::new(&t.group, (id, clock), value, notify, false),
        Some(cpu) => Timer::on_cpu_clock(&t.group, (id, clock), value, notify, false, cpu),
    };
    t.mm.copy_out_exact(timerid.get(), &id.to_le_bytes())?;
    timers.posix.insert(id, timer);
    Ok(0)
}

/// A `struct itimerspec` of a period and the time left.
fn itimerspec(interval: Duration, left: Duration) -> Itimerspec {
    Itimerspec {
        it_interval: to_timespec(interval),
        it_value: to_timespec(left),
    }
}

fn posix_timer(t: &Task, id: i32) -> Result<std::sync::Arc<Timer>, Errno> {
    t.group
        .timers()
        .posix
        .get(&id)
        .cloned()
        .ok_or(Errno::EINVAL)
}

/// `timer_settime(timerid, flags, new, old)`.
fn sys_timer_settime(t: &mut Task, id: i32, flags: i32, new: UserAddr, old: UserAddr) -> SysResult {
    // Linux looks at TIMER_ABSTIME only and ignores other flag bits.
    let timer = posix_timer(t, id)?;
    let spec = t.mm.read_obj::<Itimerspec>(new.get())?;
    let interval = from_timespec(spec.it_interval)?;
    let mut value = from_timespec(spec.it_value)?;
    if flags & TIMER_ABSTIME != 0 && !value.is_zero() {
        // An absolute time on the timer's clock: the time left until it;
        // at or before now, expire at once (a nanosecond from now).
        let left = match timer.cpu_clock() {
            Some(cpu) => value.saturating_sub(Duration::from_nanos(cpu.read_ns())),
            None => super::time::time_until(value, abi_linux::ClockId(timer.clock()))?,
        };
        value = left.max(Duration::from_nanos(1));
    }
    let (left, old_interval) = t.kernel.timers.set(&timer, value, interval);
    if !old.is_null() {
        t.mm.write_obj(old.get(), &itimerspec(old_interval, left))?;
    }
    Ok(0)
}

fn sys_timer_gettime(t: &mut Task, id: i32, value: UserAddr) -> SysResult {
    let (left, interval) = posix_timer(t, id)?.get();
    t.mm.write_obj(value.get(), &itimerspec(interval, left))
        .map(|()| 0)
}

fn sys_timer_getoverrun(t: &mut Task, id: i32) -> SysResult {
    Ok(posix_timer(t, id)?.reported_overrun() as u64)
}

fn sys_timer_delete(t: &mut Task, id: i32) -> SysResult {
    let timer = t.group.timers().posix.remove(&id).ok_or(Errno::EINVAL)?;
    t.kernel.timers.cancel(&timer);
    Ok(0)
}

fn sys_timerfd_create(t: &mut Task, clock: i32, flags: i32) -> SysResult {
    use abi_linux::time::{TFD_CLOEXEC, TFD_NONBLOCK};
    if flags & !(TFD_CLOEXEC | TFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let alarm = [ClockId::REALTIME_ALARM, ClockId::BOOTTIME_ALARM].contains(&ClockId(clock));
    if !alarm
        && ![ClockId::REALTIME, ClockId::MONOTONIC, ClockId::BOOTTIME].contains(&ClockId(clock))
    {
        return Err(Errno::EINVAL);
    }
    if alarm
        && !t
            .ctx
            .credentials
            .has_capability(abi_linux::Capability::WAKE_ALARM)
    {
        return Err(Errno::EPERM);
    }
    let file = crate::timerfd::new_timerfd(&t.kernel.anon_mount, clock, flags & TFD_NONBLOCK != 0);
    t.fds
        .add(file, flags & TFD_CLOEXEC != 0, 0, t.fd_limit())
        .map(|fd| fd as u64)
}

/// The timer of timerfd `fd`; `EINVAL` for another file.
fn timerfd_timer(t: &Task, fd: super::Fd) -> Result<std::sync::Arc<Timer>, Errno> {
    super::with_file(t, fd.0, |f| {
        f.downcast::<crate::timerfd::TimerFd>()
            .map(|tfd| tfd.timer().clone())
            .ok_or(Errno::EINVAL)
    })
}

fn sys_timerfd_settime(
    t: &mut Task,
    fd: super::Fd,
    flags: i32,
    new: UserAddr,
    old: UserAddr,
) -> SysResult {
    use abi_linux::time::{TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET};
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL);
    }
    let spec = t.mm.read_obj::<Itimerspec>(new.get())?;
    let interval = from_timespec(spec.it_interval)?;
    let mut value = from_timespec(spec.it_value)?;
    let timer = timerfd_timer(t, fd)?;
    if flags & TFD_TIMER_ABSTIME != 0 && !value.is_zero() {
        // At or before now: expire at once.
        value =
            super::time::time_until(value, ClockId(timer.clock()))?.max(Duration::from_nanos(1));
    }
    let (left, old_interval) = t.kernel.timers.set(&timer, value, interval);
    if !old.is_null() {
        t.mm.write_obj(old.get(), &itimerspec(old_interval, left))?;
    }
    Ok(0)
}

fn sys_timerfd_gettime(t: &mut Task, fd: super::Fd, value: UserAddr) -> SysResult {
    let (left, interval) = timerfd_timer(t, fd)?.get();
    t.mm.write_obj(value.get(), &itimerspec(interval, left))
        .map(|()| 0)
}
