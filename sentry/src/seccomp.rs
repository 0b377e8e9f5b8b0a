//! The application's own seccomp filters (gVisor's `kernel/seccomp.go`,
//! Linux's `kernel/seccomp.c`): strict mode and chains of classic BPF
//! filters a thread installs with `seccomp(2)` or `PR_SET_SECCOMP`,
//! inherited by the threads and processes it creates and kept across
//! `execve`. The sentry runs them before serving each of the thread's
//! calls; they are the program's confinement, not the sandbox's (the
//! platform's own filters are separate).
//!
//! # Reference model
//!
//! A chain is immutable: installing a filter makes a new link that
//! points at the previous one, so threads that share a prefix share its
//! links (`Arc`), and `SECCOMP_FILTER_FLAG_TSYNC` can tell whether
//! another thread's chain is an ancestor of the caller's.

use std::sync::Arc;

use abi_linux::seccomp::{MAX_INSNS_PER_PATH, SECCOMP_RET_ACTION_FULL, SeccompData, SeccompFilter};

/// One filter of a chain and the filters installed before it.
#[derive(Debug)]
pub struct Chain {
    filter: SeccompFilter,
    previous: Option<Arc<Chain>>,
    /// The instructions of this link and its ancestors, each filter
    /// counted with 4 more (Linux's path length).
    path_len: usize,
    /// The number of filters up to this one.
    depth: usize,
}

impl Chain {
    /// A chain of `filter` after `previous`; `ENOMEM` when the path grows
    /// past [`MAX_INSNS_PER_PATH`].
    pub fn push(
        previous: Option<Arc<Chain>>,
        filter: SeccompFilter,
    ) -> Result<Arc<Chain>, abi_linux::Errno> {
        let before = previous.as_ref().map_or(0, |p| p.path_len);
        let path_len = before + filter.len() + 4;
        if path_len > MAX_INSNS_PER_PATH {
            return Err(abi_linux::Errno::ENOMEM);
        }
        let depth = previous.as_ref().map_or(0, |p| p.depth) + 1;
        Ok(Arc::new(Chain {
            filter,
            previous,
            path_len,
            depth,
        }))
    }

    /// The number of filters in the chain (`Seccomp_filters` in
    /// `/proc/PID/status`).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Whether `other` is this chain or one of its ancestors.
    pub fn descends_from(self: &Arc<Self>, other: &Arc<Chain>) -> bool {
        let mut link = Some(self);
        while let Some(l) = link {
            if Arc::ptr_eq(l, other) {
                return true;
            }
            link = l.previous.as_ref();
        }
        false
    }

    /// Runs every filter of the chain, newest first, and returns the
    /// verdict of highest precedence: the smallest action taken as a
    /// signed number, as Linux's `seccomp_run_filters` picks it
    /// (`KILL_PROCESS` before `KILL_THREAD`, `TRAP`, `ERRNO`,
    /// `USER_NOTIF`, `TRACE`, `LOG`, `ALLOW`), the first filter's among
    /// equal actions.
    pub fn run(&self, data: &SeccompData) -> u32 {
        let mut verdict = abi_linux::seccomp::SECCOMP_RET_ALLOW;
        let mut link = Some(self);
        while let Some(l) = link {
            let ret = l.filter.run(data);
            if ((ret & SECCOMP_RET_ACTION_FULL) as i32)
                < ((verdict & SECCOMP_RET_ACTION_FULL) as i32)
            {
                verdict = ret;
            }
            link = l.previous.as_deref();
        }
        verdict
    }
}

/// A thread's seccomp state.
#[derive(Clone, Debug, Default)]
pub enum Mode {
    /// No filtering.
    #[default]
    Disabled,
    /// `SECCOMP_MODE_STRICT`: `read`, `write`, `exit` and `rt_sigreturn`
    /// only; any other call kills the thread.
    Strict,
    /// `SECCOMP_MODE_FILTER` with this chain.
    Filter(Arc<Chain>),
}

impl Mode {
    /// The mode number (`PR_GET_SECCOMP`, `/proc/PID/status`).
    pub fn number(&self) -> u32 {
        use abi_linux::seccomp::{SECCOMP_MODE_DISABLED, SECCOMP_MODE_FILTER, SECCOMP_MODE_STRICT};
        match self {
            Mode::Disabled => SECCOMP_MODE_DISABLED,
            Mode::Strict => SECCOMP_MODE_STRICT,
            Mode::Filter(_) => SECCOMP_MODE_FILTER,
        }
    }

    /// The number of filters installed.
    pub fn filters(&self) -> usize {
        match self {
            Mode::Filter(chain) => chain.depth(),
            _ => 0,
        }
    }
}

/// What the sentry does with a call after the filters ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it (`ALLOW`, `LOG`).
    Allow,
    /// Fail it with this errno (`ERRNO`; `TRACE` and `USER_NOTIF` with no
    /// tracer or listener fail with `ENOSYS`).
    Fail(u16),
    /// Skip it and send `SIGSYS` with this `si_errno` (`TRAP`).
    Trap(u16),
    /// End the thread with `SIGSYS` (the process if it is the last one).
    KillThread,
    /// End the process with `SIGSYS`; also every unknown action.
    KillProcess,
    /// End the thread with `SIGKILL` (strict mode).
    StrictKill,
}

/// Decides call `data` for a thread in mode `mode`.
pub fn decide(mode: &Mode, data: &SeccompData) -> Verdict {
    use abi_linux::seccomp::*;
    let chain = match mode {
        Mode::Disabled => return Verdict::Allow,
        Mode::Strict => {
            use abi_linux::syscalls::x86_64 as nr;
            let allowed = [nr::READ, nr::WRITE, nr::EXIT, nr::RT_SIGRETURN];
            return if data.arch == AUDIT_ARCH_X86_64 && allowed.contains(&(data.nr as u32)) {
                Verdict::Allow
            } else {
                Verdict::StrictKill
            };
        }
        Mode::Filter(chain) => chain,
    };
    let ret = chain.run(data);
    let value = (ret & SECCOMP_RET_DATA) as u16;
    match ret & SECCOMP_RET_ACTION_FULL {
        SECCOMP_RET_ALLOW | SECCOMP_RET_LOG => Verdict::Allow,
        // Linux caps the errno at MAX_ERRNO.
        SECCOMP_RET_ERRNO => Verdict::Fail(value.min(4095)),
        SECCOMP_RET_TRACE | SECCOMP_RET_USER_NOTIF => {
            Verdict::Fail(abi_linux::Errno::ENOSYS.raw() as u16)
        }
        SECCOMP_RET_TRAP => Verdict::Trap(value),
        SECCOMP_RET_KILL_THREAD => Verdict::KillThread,
        _ => Verdict::KillProcess,
    }
}
