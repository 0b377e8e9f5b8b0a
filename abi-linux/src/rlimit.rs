//! Resource limits: [`RlimitResource`], [`Rlimit`] and [`RLIM_INFINITY`].

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `RLIM_INFINITY`: no limit.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// A resource of `getrlimit(2)`/`setrlimit(2)`/`prlimit(2)`, named as
/// Linux names it without `RLIMIT_`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum RlimitResource {
    /// `RLIMIT_CPU`: CPU time in seconds.
    CPU = 0,
    /// `RLIMIT_FSIZE`: the largest file size a process may create.
    FSIZE = 1,
    /// `RLIMIT_DATA`: the size of the data segment.
    DATA = 2,
    /// `RLIMIT_STACK`: the size of the main thread's stack.
    STACK = 3,
    /// `RLIMIT_CORE`: the size of a core dump.
    CORE = 4,
    /// `RLIMIT_RSS`: the resident set size (no effect on Linux).
    RSS = 5,
    /// `RLIMIT_NPROC`: the number of processes of the real user.
    NPROC = 6,
    /// `RLIMIT_NOFILE`: one more than the largest descriptor number.
    NOFILE = 7,
    /// `RLIMIT_MEMLOCK`: the bytes of locked memory.
    MEMLOCK = 8,
    /// `RLIMIT_AS`: the size of the address space.
    AS = 9,
    /// `RLIMIT_LOCKS`: the number of file locks (no effect on Linux).
    LOCKS = 10,
    /// `RLIMIT_SIGPENDING`: the number of queued signals.
    SIGPENDING = 11,
    /// `RLIMIT_MSGQUEUE`: the bytes of POSIX message queues.
    MSGQUEUE = 12,
    /// `RLIMIT_NICE`: the ceiling of the nice value (as 20 - nice).
    NICE = 13,
    /// `RLIMIT_RTPRIO`: the ceiling of the real-time priority.
    RTPRIO = 14,
    /// `RLIMIT_RTTIME`: microseconds of real-time CPU time without
    /// blocking.
    RTTIME = 15,
}

impl RlimitResource {
    /// The number of resources (`RLIM_NLIMITS`).
    pub const COUNT: usize = 16;

    /// Returns the resource numbered `v`, or `None` (which the calls
    /// report as `EINVAL`).
    pub const fn from_raw(v: u32) -> Option<RlimitResource> {
        Some(match v {
            0 => RlimitResource::CPU,
            1 => RlimitResource::FSIZE,
            2 => RlimitResource::DATA,
            3 => RlimitResource::STACK,
            4 => RlimitResource::CORE,
            5 => RlimitResource::RSS,
            6 => RlimitResource::NPROC,
            7 => RlimitResource::NOFILE,
            8 => RlimitResource::MEMLOCK,
            9 => RlimitResource::AS,
            10 => RlimitResource::LOCKS,
            11 => RlimitResource::SIGPENDING,
            12 => RlimitResource::MSGQUEUE,
            13 => RlimitResource::NICE,
            14 => RlimitResource::RTPRIO,
            15 => RlimitResource::RTTIME,
            _ => return None,
        })
    }
}

/// `struct rlimit` (and `struct rlimit64`) of the 64-bit ABIs.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Rlimit {
    /// The soft limit (`rlim_cur`).
    pub cur: u64,
    /// The hard limit (`rlim_max`).
    pub max: u64,
}

#[cfg(test)]
mod tests {
    use super::RlimitResource;

    #[test]
    fn from_raw_covers_exactly_the_resources() {
        for v in 0..RlimitResource::COUNT as u32 {
            assert_eq!(RlimitResource::from_raw(v).map(|r| r as u32), Some(v));
        }
        assert_eq!(RlimitResource::from_raw(RlimitResource::COUNT as u32), None);
    }
}
