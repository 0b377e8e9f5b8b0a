//! Clocks and sleeps (gVisor's `sys_time.go`): `clock_gettime`,
//! `clock_getres`, `gettimeofday`, `time`, `nanosleep`,
//! `clock_nanosleep`, and the time arithmetic the futex and timer calls
//! share.

use std::time::{Duration, Instant};

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::time::TIMER_ABSTIME;
use abi_linux::{ClockId, Errno, Timespec, Timeval};

use super::{SysResult, SyscallTable, UserAddr};
use crate::task::Task;
use crate::timers::{CpuClock, CpuSource};

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::CLOCK_GETTIME, sys_clock_gettime);
    table.typed(nr::CLOCK_GETRES, sys_clock_getres);
    table.typed(nr::GETTIMEOFDAY, sys_gettimeofday);
    table.typed(nr::TIME, sys_time);
    table.typed(nr::NANOSLEEP, sys_nanosleep);
    table.typed(nr::CLOCK_NANOSLEEP, sys_clock_nanosleep);
    table.partial(
        nr::CLOCK_GETTIME,
        "the CPU-time clocks (the caller's, its threads', any process's) count wall time \
         in application code plus the sentry's CPU time for the task; clock devices \
         (CLOCKFD) are EINVAL",
    );
    table.partial(nr::CLOCK_GETRES, "the CPU-time clocks are the sentry's");
}

/// Reads a host clock (the clocks of the sandbox are the host's); `EINVAL`
/// for ids Linux does not know (negative ids, the CPU-time clocks of
/// other processes, are not offered).
pub(super) fn host_clock(id: ClockId, res: bool) -> Result<Timespec, Errno> {
    if !(0..=ClockId::BOOTTIME_ALARM.0).contains(&id.0) && id != ClockId::TAI {
        return Err(Errno::EINVAL);
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid `timespec` to write.
    let r = unsafe {
        if res {
            libc::clock_getres(id.0, &mut ts)
        } else {
            libc::clock_gettime(id.0, &mut ts)
        }
    };
    if r != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    })
}

/// A duration as a `timespec`.
pub(super) fn to_timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: d.as_secs() as i64,
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}

/// Reads a relative `timespec`; `EINVAL` if negative or out of range.
pub(super) fn read_timespec(t: &Task, addr: UserAddr) -> Result<Duration, Errno> {
    let ts: Timespec = t.mm.read_obj(addr.get())?;
    if ts.tv_sec < 0 || !ts.is_valid() {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// How long from now until the absolute time `at` on the host clock
/// `clock` (zero when it has passed): what `TIMER_ABSTIME` and the
/// absolute futex timeouts wait for.
pub(super) fn time_until(at: Duration, clock: ClockId) -> Result<Duration, Errno> {
    let now = host_clock(clock, false)?;
    let now = Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec as u32);
    Ok(at.saturating_sub(now))
}

/// The instant `d` from now (far in the future when that overflows).
pub(super) fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(1 << 32))
}

/// The CPU-time clock `clock` names, `None` for the other clocks
/// (Linux's `posix_cpu_clock_*` decoding): `CLOCK_PROCESS_CPUTIME_ID`
/// and `CLOCK_THREAD_CPUTIME_ID`, or a negative id that encodes a
/// process (`clock_getcpuclockid`; 0 is the caller's) or one of the
/// caller's threads (`pthread_getcpuclockid`) and which time to count
/// (`CPUCLOCK_PROF`, `CPUCLOCK_VIRT` or `CPUCLOCK_SCHED`). A timer
/// (`for_timer`, also a sleep) needs a process's leader; reading does
/// not. `EINVAL` for a missing process or thread.
pub(super) fn cpu_clock(
    t: &Task,
    clock: ClockId,
    for_timer: bool,
) -> Result<Option<CpuClock>, Errno> {
    use std::sync::Arc;
    let (pid, thread, which) = match clock {
        ClockId::PROCESS_CPUTIME_ID => (0, false, CPUCLOCK_SCHED),
        ClockId::THREAD_CPUTIME_ID => (0, true, CPUCLOCK_SCHED),
        // A negative id with the low bits 3 names a clock device by
        // descriptor (`CLOCKFD`): the sandbox has none, and such clocks
        // have no timers or sleeps.
        ClockId(c) if c < 0 && c & 7 == CLOCKFD => {
            return Err(if for_timer {
                Errno::EOPNOTSUPP
            } else {
                Errno::EINVAL
            });
        }
        ClockId(c) if c < 0 => (!(c >> 3), c & CPUCLOCK_PERTHREAD != 0, c & 3),
        _ => return Ok(None),
    };
    if which > CPUCLOCK_SCHED {
        return Err(Errno::EINVAL);
    }
    let source = match (pid, thread) {
        (0, false) => CpuSource::Group(Arc::downgrade(&t.group)),
        (0, true) => CpuSource::Thread(Arc::downgrade(&t.kill)),
        (tid, true) => {
            // Only the caller's own threads.
            let switch = t.group.thread_switch(tid).ok_or(Errno::EINVAL)?;
            CpuSource::Thread(Arc::downgrade(&switch))
        }
        (pid, false) => {
            let group = t.kernel.tasks.group_of_thread(pid).ok_or(Errno::EINVAL)?;
            if for_timer && group.tgid() != pid {
                return Err(Errno::EINVAL);
            }
            CpuSource::Group(Arc::downgrade(&group))
        }
    };
    Ok(Some(CpuClock {
        source,
        user_only: which == CPUCLOCK_VIRT,
    }))
}

/// `CPUCLOCK_PERTHREAD_MASK` and the `CPUCLOCK_WHICH` values of a
/// CPU-clock id.
const CPUCLOCK_PERTHREAD: i32 = 4;
const CLOCKFD: i32 = 3;
const CPUCLOCK_VIRT: i32 = 1;
const CPUCLOCK_SCHED: i32 = 2;

fn sys_clock_gettime(t: &mut Task, clock: ClockId, tp: UserAddr) -> SysResult {
    // The CPU-time clocks count the process's and threads' own time.
    let ts = match cpu_clock(t, clock, false)? {
        Some(cpu) => to_timespec(Duration::from_nanos(cpu.read_ns())),
        None => host_clock(clock, false)?,
    };
    t.mm.write_obj(tp.get(), &ts).map(|()| 0)
}

fn sys_clock_getres(t: &mut Task, clock: ClockId, res: UserAddr) -> SysResult {
    let ts = match cpu_clock(t, clock, false)? {
        // What the clocks resolve; timers on them fire on the CPU tick.
        Some(_) => Timespec {
            tv_sec: 0,
            tv_nsec: 1,
        },
        None => host_clock(clock, true)?,
    };
    if res.is_null() {
        return Ok(0);
    }
    t.mm.write_obj(res.get(), &ts).map(|()| 0)
}

fn sys_gettimeofday(t: &mut Task, tv: UserAddr, tz: UserAddr) -> SysResult {
    if !tv.is_null() {
        let now = host_clock(ClockId::REALTIME, false)?;
        let now = Timeval {
            tv_sec: now.tv_sec,
            tv_usec: now.tv_nsec / 1000,
        };
        t.mm.write_obj(tv.get(), &now)?;
    }
    if !tz.is_null() {
        // The sandbox runs in UTC without daylight-saving correction.
        t.mm.write_obj(tz.get(), &abi_linux::Timezone::default())?;
    }
    Ok(0)
}

fn sys_time(t: &mut Task, tloc: UserAddr) -> SysResult {
    let now = host_clock(ClockId::REALTIME, false)?;
    if !tloc.is_null() {
        t.mm.write_obj(tloc.get(), &now.tv_sec)?;
    }
    Ok(now.tv_sec as u64)
}

fn sys_nanosleep(t: &mut Task, req: UserAddr, rem: UserAddr) -> SysResult {
    let d = read_timespec(t, req)?;
    sleep_reporting_rest(t, deadline_after(d), rem)
}

/// Sleeps until `deadline`; when a signal interrupts the sleep, writes
/// the time left to `rest` (if not null), as `nanosleep` does.
fn sleep_reporting_rest(t: &Task, deadline: Instant, rest: UserAddr) -> SysResult {
    match crate::wait::sleep_until(deadline) {
        Ok(()) => Ok(0),
        Err(e) => {
            if !rest.is_null() {
                let left = deadline.saturating_duration_since(Instant::now());
                t.mm.write_obj(rest.get(), &to_timespec(left))?;
            }
            Err(e)
        }
    }
}

fn sys_clock_nanosleep(
    t: &mut Task,
    clock: ClockId,
    flags: i32,
    req: UserAddr,
    rem: UserAddr,
) -> SysResult {
    if let Some(cpu) = cpu_clock(t, clock, true)? {
        return cpu_clock_sleep(t, cpu, flags, req, rem);
    }
    host_clock(clock, true)?;
    let d = read_timespec(t, req)?;
    if flags & TIMER_ABSTIME != 0 {
        // An absolute sleep reports no remaining time.
        crate::wait::sleep_until(deadline_after(time_until(d, clock)?)).map(|()| 0)
    } else {
        sleep_reporting_rest(t, deadline_after(d), rem)
    }
}

/// `clock_nanosleep` on a process's CPU-time clock (a thread's is
/// `EINVAL`, as on Linux): waits, a CPU tick at a time, until the
/// process has used the time asked for. A signal ends the wait as it
/// ends other sleeps (with the CPU time still to go in `rem` for a
/// relative sleep).
fn cpu_clock_sleep(t: &Task, cpu: CpuClock, flags: i32, req: UserAddr, rem: UserAddr) -> SysResult {
    if matches!(cpu.source, CpuSource::Thread(_)) {
        return Err(Errno::EINVAL);
    }
    let d = read_timespec(t, req)?;
    let absolute = flags & TIMER_ABSTIME != 0;
    let target = if absolute {
        d.as_nanos() as u64
    } else {
        cpu.read_ns().saturating_add(d.as_nanos() as u64)
    };
    loop {
        let now = cpu.read_ns();
        if now >= target {
            return Ok(0);
        }
        if let Err(e) = crate::wait::sleep_until(deadline_after(crate::timers::CPU_TICK)) {
            if !absolute && !rem.is_null() {
                let left = Duration::from_nanos(target.saturating_sub(cpu.read_ns()));
                t.mm.write_obj(rem.get(), &to_timespec(left))?;
            }
            return Err(e);
        }
    }
}
