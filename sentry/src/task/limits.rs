//! Resource limits (Linux's `signal_struct.rlim`, gVisor's
//! `limits.LimitSet`): one set per thread group, shared by its threads,
//! copied by `fork` and kept across `execve`.

use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{Errno, RLIM_INFINITY, Rlimit, RlimitResource};

/// The largest descriptor table (Linux's default `fs.nr_open`): the
/// ceiling of `RLIMIT_NOFILE`.
pub const NR_OPEN: u64 = 1 << 20;

/// A thread group's resource limits.
#[derive(Debug)]
pub struct Limits(Mutex<[Rlimit; RlimitResource::COUNT]>);

impl Limits {
    /// The limits Linux gives init (`INIT_RLIMITS`), with the process
    /// and signal counts of a small machine.
    pub fn linux_defaults() -> Arc<Self> {
        let inf = Rlimit {
            cur: RLIM_INFINITY,
            max: RLIM_INFINITY,
        };
        let both = |v| Rlimit { cur: v, max: v };
        let mut set = [inf; RlimitResource::COUNT];
        set[RlimitResource::STACK as usize] = Rlimit {
            cur: 8 << 20,
            max: RLIM_INFINITY,
        };
        set[RlimitResource::CORE as usize] = Rlimit {
            cur: 0,
            max: RLIM_INFINITY,
        };
        set[RlimitResource::NPROC as usize] = both(63_448);
        set[RlimitResource::NOFILE as usize] = Rlimit {
            cur: 1024,
            max: 4096,
        };
        set[RlimitResource::MEMLOCK as usize] = both(8 << 20);
        set[RlimitResource::SIGPENDING as usize] = both(63_448);
        set[RlimitResource::MSGQUEUE as usize] = both(819_200);
        set[RlimitResource::NICE as usize] = both(0);
        set[RlimitResource::RTPRIO as usize] = both(0);
        Arc::new(Self(Mutex::new(set)))
    }

    fn set(&self) -> MutexGuard<'_, [Rlimit; RlimitResource::COUNT]> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy for a new process (`fork`).
    pub fn fork(&self) -> Arc<Self> {
        Arc::new(Self(Mutex::new(*self.set())))
    }

    /// The limit on `resource`.
    pub fn get(&self, resource: RlimitResource) -> Rlimit {
        self.set()[resource as usize]
    }

    /// Every limit, by resource number.
    pub fn all(&self) -> [Rlimit; RlimitResource::COUNT] {
        *self.set()
    }

    /// The soft limit on `resource`.
    pub fn cur(&self, resource: RlimitResource) -> u64 {
        self.get(resource).cur
    }

    /// Replaces the limit on `resource` as `setrlimit(2)` does and returns
    /// the old one: `EINVAL` when the soft limit exceeds the hard one,
    /// `EPERM` when the hard limit rises without `privileged`
    /// (`CAP_SYS_RESOURCE`) or `RLIMIT_NOFILE` passes [`NR_OPEN`].
    pub fn replace(
        &self,
        resource: RlimitResource,
        new: Rlimit,
        privileged: bool,
    ) -> Result<Rlimit, Errno> {
        if new.cur > new.max {
            return Err(Errno::EINVAL);
        }
        let mut set = self.set();
        let old = set[resource as usize];
        if new.max > old.max && !privileged {
            return Err(Errno::EPERM);
        }
        if resource == RlimitResource::NOFILE && new.max > NR_OPEN {
            return Err(Errno::EPERM);
        }
        set[resource as usize] = new;
        Ok(old)
    }

    /// Raises the soft `RLIMIT_CPU` by a second after a `SIGXCPU`, as
    /// Linux does so that the next comes a second later.
    pub fn raise_cpu_soft_limit(&self) {
        let mut set = self.set();
        let l = &mut set[RlimitResource::CPU as usize];
        l.cur = l.cur.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_the_hard_limit_needs_privilege() {
        let l = Limits::linux_defaults();
        let up = Rlimit { cur: 10, max: 8192 };
        assert_eq!(
            l.replace(RlimitResource::NOFILE, up, false),
            Err(Errno::EPERM)
        );
        assert!(l.replace(RlimitResource::NOFILE, up, true).is_ok());
        assert_eq!(l.get(RlimitResource::NOFILE), up);
    }

    #[test]
    fn soft_above_hard_is_einval() {
        let l = Limits::linux_defaults();
        let bad = Rlimit { cur: 5, max: 4 };
        assert_eq!(
            l.replace(RlimitResource::CPU, bad, true),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn nofile_stops_at_nr_open_even_when_privileged() {
        let l = Limits::linux_defaults();
        let big = Rlimit {
            cur: NR_OPEN + 1,
            max: NR_OPEN + 1,
        };
        assert_eq!(
            l.replace(RlimitResource::NOFILE, big, true),
            Err(Errno::EPERM)
        );
    }

    #[test]
    fn fork_copies_rather_than_shares() {
        let l = Limits::linux_defaults();
        let child = l.fork();
        let low = Rlimit { cur: 1, max: 1 };
        child.replace(RlimitResource::CORE, low, false).unwrap();
        assert_eq!(l.cur(RlimitResource::CORE), 0);
        assert_eq!(child.get(RlimitResource::CORE), low);
    }
}
