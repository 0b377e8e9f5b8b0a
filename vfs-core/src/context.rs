//! `Context`: what every VFS operation may need from its caller (gVisor's
//! `context.Context` as the VFS uses it).
//!
//! The VFS is a library: it does not know about tasks, clocks or signals.
//! Whoever calls into it (the sentry, a hobby kernel, a test) passes a
//! `Context` that answers for them. Release paths take one too (`release`,
//! `dec_ref`), so a filesystem can write back or log with the right
//! identity; handles dropped without an explicit release use
//! [`background`].

use alloc::sync::Arc;

use abi_linux::{Rlimit, RlimitResource, Timespec};

use crate::credentials::Credentials;
use crate::lock::Blocker;

/// A lock owner as POSIX record locks see it: the thread group (process)
/// whose locks go away when any of its descriptors for the file is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessLockOwner {
    /// An identifier unique among live owners (the thread-group ID in the
    /// sentry).
    pub id: u64,
    /// The process ID reported by `F_GETLK`.
    pub pid: i32,
}

/// What the caller of a VFS operation provides.
pub trait Context: Send + Sync {
    /// The credentials permission checks use.
    fn credentials(&self) -> &Credentials;

    /// The current real-time clock, used for timestamps.
    fn now(&self) -> Timespec {
        Timespec::default()
    }

    /// The caller's limit for `resource`; unlimited by default.
    fn rlimit(&self, resource: RlimitResource) -> Rlimit {
        let _ = resource;
        Rlimit {
            cur: abi_linux::RLIM_INFINITY,
            max: abi_linux::RLIM_INFINITY,
        }
    }

    /// Called when a write would exceed `RLIMIT_FSIZE`: the sentry sends
    /// `SIGXFSZ` to the task. The default does nothing.
    fn file_size_limit_exceeded(&self) {}

    /// The owner of POSIX record locks taken through this context, or
    /// `None` when the caller has no process identity (then record locks
    /// are refused with `ENOLCK`).
    fn lock_owner(&self) -> Option<ProcessLockOwner> {
        None
    }

    /// How the caller blocks: `None` when it cannot (blocking requests
    /// then fail as their non-blocking forms do, with `EAGAIN`). The sentry
    /// parks the task and returns `EINTR` when a signal arrives.
    fn blocker(&self) -> Option<&dyn Blocker> {
        None
    }
}

/// A context with fixed credentials and no clock, for library users and
/// tests.
#[derive(Clone, Debug)]
pub struct SimpleContext {
    /// The credentials returned by [`Context::credentials`].
    pub credentials: Credentials,
    /// The time returned by [`Context::now`].
    pub now: Timespec,
    /// The `RLIMIT_FSIZE` limit, in bytes.
    pub file_size_limit: u64,
    /// The POSIX lock owner.
    pub lock_owner: Option<ProcessLockOwner>,
}

impl SimpleContext {
    /// A context for `credentials` with no limits.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            now: Timespec::default(),
            file_size_limit: abi_linux::RLIM_INFINITY,
            lock_owner: None,
        }
    }

    /// A root context with every capability.
    pub fn root() -> Self {
        Self::new(Credentials::root())
    }
}

impl Context for SimpleContext {
    fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    fn now(&self) -> Timespec {
        self.now
    }

    fn rlimit(&self, resource: RlimitResource) -> Rlimit {
        match resource {
            RlimitResource::FSIZE => Rlimit {
                cur: self.file_size_limit,
                max: self.file_size_limit,
            },
            _ => Rlimit {
                cur: abi_linux::RLIM_INFINITY,
                max: abi_linux::RLIM_INFINITY,
            },
        }
    }

    fn lock_owner(&self) -> Option<ProcessLockOwner> {
        self.lock_owner
    }
}

/// The context used when a reference is dropped instead of released: root
/// credentials, no clock, no limits.
pub fn background() -> &'static dyn Context {
    static BACKGROUND: spin::LazyLock<SimpleContext> = spin::LazyLock::new(SimpleContext::root);
    &*BACKGROUND
}

/// A shareable context.
pub type ContextRef = Arc<dyn Context>;
