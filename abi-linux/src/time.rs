//! Time: [`Timespec`], [`Timeval`], [`Itimerspec`], [`Timezone`] and the
//! [`ClockId`] values.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Nanoseconds in a second.
const NANOS_PER_SEC: i64 = 1_000_000_000;

/// `struct timespec` of the 64-bit ABIs.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    FromBytes,
    IntoBytes,
    Immutable,
    KnownLayout,
)]
#[repr(C)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds; 0 to 999 999 999 in a valid value.
    pub tv_nsec: i64,
}

impl Timespec {
    /// `UTIME_NOW`: in `utimensat(2)`'s `tv_nsec`, set the time to now.
    pub const UTIME_NOW: i64 = (1 << 30) - 1;
    /// `UTIME_OMIT`: in `utimensat(2)`'s `tv_nsec`, leave the time as is.
    pub const UTIME_OMIT: i64 = (1 << 30) - 2;

    /// Returns the normalized timespec of `nanos` nanoseconds (negative
    /// values have a negative `tv_sec` and a non-negative `tv_nsec`).
    ///
    /// # Examples
    ///
    /// ```
    /// use abi_linux::Timespec;
    ///
    /// let t = Timespec::from_nanos(-1);
    /// assert_eq!((t.tv_sec, t.tv_nsec), (-1, 999_999_999));
    /// assert_eq!(t.to_nanos(), Some(-1));
    /// ```
    pub const fn from_nanos(nanos: i64) -> Timespec {
        Timespec {
            tv_sec: nanos.div_euclid(NANOS_PER_SEC),
            tv_nsec: nanos.rem_euclid(NANOS_PER_SEC),
        }
    }

    /// Reports whether `tv_nsec` is in 0..=999 999 999, which Linux
    /// requires of a time argument (`EINVAL` otherwise).
    pub const fn is_valid(self) -> bool {
        self.tv_nsec >= 0 && self.tv_nsec < NANOS_PER_SEC
    }

    /// Returns the time in nanoseconds, or `None` if it is not valid or
    /// does not fit in an `i64`.
    pub const fn to_nanos(self) -> Option<i64> {
        if !self.is_valid() {
            return None;
        }
        // A negative time with a positive `tv_nsec` is computed from the
        // next second down so that `i64::MIN` nanoseconds is reachable.
        let (sec, nsec) = if self.tv_sec < 0 && self.tv_nsec > 0 {
            (self.tv_sec + 1, self.tv_nsec - NANOS_PER_SEC)
        } else {
            (self.tv_sec, self.tv_nsec)
        };
        match sec.checked_mul(NANOS_PER_SEC) {
            Some(s) => s.checked_add(nsec),
            None => None,
        }
    }
}

/// `struct timeval` of the 64-bit ABIs.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    FromBytes,
    IntoBytes,
    Immutable,
    KnownLayout,
)]
#[repr(C)]
pub struct Timeval {
    /// Seconds.
    pub tv_sec: i64,
    /// Microseconds; 0 to 999 999 in a valid value.
    pub tv_usec: i64,
}

/// `struct itimerspec`, an interval timer setting.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Itimerspec {
    /// The period; zero for a one-shot timer.
    pub it_interval: Timespec,
    /// The time to the next expiration; zero disarms.
    pub it_value: Timespec,
}

/// `struct timezone` of `gettimeofday(2)` (obsolete; Linux keeps the
/// values `settimeofday(2)` stored).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Timezone {
    /// Minutes west of Greenwich.
    pub tz_minuteswest: i32,
    /// The type of daylight-saving correction.
    pub tz_dsttime: i32,
}

/// A clock id of `clock_gettime(2)` and related calls.
///
/// Negative ids encode CPU-time clocks of other processes and threads and
/// file-descriptor clocks; they are not listed here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct ClockId(pub i32);

impl ClockId {
    /// `CLOCK_REALTIME`: wall-clock time.
    pub const REALTIME: ClockId = ClockId(0);
    /// `CLOCK_MONOTONIC`: time since an unspecified start, not counting
    /// suspend.
    pub const MONOTONIC: ClockId = ClockId(1);
    /// `CLOCK_PROCESS_CPUTIME_ID`: CPU time of the calling process.
    pub const PROCESS_CPUTIME_ID: ClockId = ClockId(2);
    /// `CLOCK_THREAD_CPUTIME_ID`: CPU time of the calling thread.
    pub const THREAD_CPUTIME_ID: ClockId = ClockId(3);
    /// `CLOCK_MONOTONIC_RAW`: monotonic time without NTP adjustment.
    pub const MONOTONIC_RAW: ClockId = ClockId(4);
    /// `CLOCK_REALTIME_COARSE`: fast, low-resolution wall-clock time.
    pub const REALTIME_COARSE: ClockId = ClockId(5);
    /// `CLOCK_MONOTONIC_COARSE`: fast, low-resolution monotonic time.
    pub const MONOTONIC_COARSE: ClockId = ClockId(6);
    /// `CLOCK_BOOTTIME`: monotonic time including suspend.
    pub const BOOTTIME: ClockId = ClockId(7);
    /// `CLOCK_REALTIME_ALARM`: wall-clock time that wakes the system.
    pub const REALTIME_ALARM: ClockId = ClockId(8);
    /// `CLOCK_BOOTTIME_ALARM`: boot time that wakes the system.
    pub const BOOTTIME_ALARM: ClockId = ClockId(9);
    /// `CLOCK_TAI`: International Atomic Time.
    pub const TAI: ClockId = ClockId(11);
}

/// `TIMER_ABSTIME`: the time of `clock_nanosleep(2)` or
/// `timer_settime(2)` is absolute.
pub const TIMER_ABSTIME: i32 = 1;

/// `ITIMER_REAL`: `setitimer(2)`'s wall-clock timer (`SIGALRM`).
pub const ITIMER_REAL: i32 = 0;
/// `ITIMER_VIRTUAL`: `setitimer(2)`'s user-CPU timer (`SIGVTALRM`).
pub const ITIMER_VIRTUAL: i32 = 1;
/// `ITIMER_PROF`: `setitimer(2)`'s CPU timer (`SIGPROF`).
pub const ITIMER_PROF: i32 = 2;

/// `SIGEV_SIGNAL`: a timer expiry sends a signal to the process.
pub const SIGEV_SIGNAL: i32 = 0;
/// `SIGEV_NONE`: a timer expiry notifies nobody.
pub const SIGEV_NONE: i32 = 1;
/// `SIGEV_THREAD`: a libc-level notification (a new thread); the kernel
/// never sees it.
pub const SIGEV_THREAD: i32 = 2;
/// `SIGEV_THREAD_ID`: a timer expiry sends a signal to one thread.
pub const SIGEV_THREAD_ID: i32 = 4;

/// `struct tms` of `times(2)`, in clock ticks.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Tms {
    /// User CPU time of the process.
    pub tms_utime: i64,
    /// System CPU time of the process.
    pub tms_stime: i64,
    /// User CPU time of the waited-for children.
    pub tms_cutime: i64,
    /// System CPU time of the waited-for children.
    pub tms_cstime: i64,
}

/// `USER_HZ`: the clock ticks per second of `times(2)` and `/proc`.
pub const USER_HZ: i64 = 100;

/// `TFD_TIMER_ABSTIME`: `timerfd_settime(2)`'s value is an absolute time.
pub const TFD_TIMER_ABSTIME: i32 = 1;
/// `TFD_TIMER_CANCEL_ON_SET`: an absolute `CLOCK_REALTIME` timerfd
/// reports `ECANCELED` when the clock is set.
pub const TFD_TIMER_CANCEL_ON_SET: i32 = 2;
/// `TFD_NONBLOCK`: `timerfd_create(2)` makes an `O_NONBLOCK` description.
pub const TFD_NONBLOCK: i32 = 0o4000;
/// `TFD_CLOEXEC`: `timerfd_create(2)` makes a close-on-exec descriptor.
pub const TFD_CLOEXEC: i32 = 0o2000000;

#[cfg(test)]
mod tests {
    use super::Timespec;

    #[test]
    fn to_nanos_refuses_invalid_and_overflowing_values() {
        assert_eq!(
            Timespec {
                tv_sec: 0,
                tv_nsec: -1
            }
            .to_nanos(),
            None
        );
        assert_eq!(
            Timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000_000
            }
            .to_nanos(),
            None
        );
        assert_eq!(
            Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0
            }
            .to_nanos(),
            None
        );
    }

    #[test]
    fn from_nanos_round_trips_at_the_extremes() {
        for n in [i64::MIN, -1_000_000_001, -1, 0, 1, 999_999_999, i64::MAX] {
            let t = Timespec::from_nanos(n);
            assert!(t.is_valid());
            assert_eq!(t.to_nanos(), Some(n));
        }
    }
}
