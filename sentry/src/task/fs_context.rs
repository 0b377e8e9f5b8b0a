//! What a task's file-system calls run with: the fs context (root,
//! working directory, umask; Linux's `fs_struct`, shared by `CLONE_FS`)
//! and the [`TaskContext`] vfs-core calls receive (credentials, lock
//! owner, blocking hook).
//!
//! # Reference model
//!
//! An [`FsContext`] holds one reference on its root and working
//! directory, given back when the last task using it exits.
//!
//! # Lock order
//!
//! `FsContext::state` is a leaf.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{Errno, Rlimit, RlimitResource, Timespec};
use vfs_core::{Context, Credentials, ProcessLockOwner, VirtualDentry};

use crate::wait::TaskBlocker;

/// Root, working directory and umask (`struct fs_struct`).
#[derive(Debug)]
pub struct FsContext {
    state: Mutex<FsState>,
    /// The tasks using the context (`CLONE_FS` shares it).
    users: AtomicUsize,
}

#[derive(Debug)]
struct FsState {
    root: Option<VirtualDentry>,
    cwd: Option<VirtualDentry>,
    umask: u32,
}

impl FsContext {
    /// A context rooted at `root` with working directory `cwd`.
    pub fn new(root: VirtualDentry, cwd: VirtualDentry) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(FsState {
                root: Some(root),
                cwd: Some(cwd),
                umask: 0o022,
            }),
            users: AtomicUsize::new(1),
        })
    }

    fn state(&self) -> MutexGuard<'_, FsState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// New references to the root and working directory; `ESRCH` after
    /// the context was released.
    pub fn root_and_cwd(&self) -> Result<(VirtualDentry, VirtualDentry), Errno> {
        let st = self.state();
        match (&st.root, &st.cwd) {
            (Some(r), Some(c)) => Ok((r.clone(), c.clone())),
            _ => Err(Errno::ESRCH),
        }
    }

    /// Replaces the working directory, returning the old one to release.
    pub fn set_cwd(&self, cwd: VirtualDentry) -> Option<VirtualDentry> {
        self.state().cwd.replace(cwd)
    }

    /// Replaces the root (`chroot`), returning the old one to release.
    pub fn set_root(&self, root: VirtualDentry) -> Option<VirtualDentry> {
        self.state().root.replace(root)
    }

    /// The umask.
    pub fn umask(&self) -> u32 {
        self.state().umask
    }

    /// Sets the umask, returning the old one.
    pub fn swap_umask(&self, mask: u32) -> u32 {
        std::mem::replace(&mut self.state().umask, mask & 0o777)
    }

    /// A copy for a new process (`fork`): new references to the same root
    /// and working directory, the same umask. `ESRCH` after the context
    /// was released.
    pub fn fork(&self) -> Result<Arc<Self>, Errno> {
        let (root, cwd) = self.root_and_cwd()?;
        let copy = Self::new(root, cwd);
        copy.swap_umask(self.umask());
        Ok(copy)
    }

    /// Whether more than one task uses the context.
    pub fn is_shared(&self) -> bool {
        self.users.load(Ordering::SeqCst) > 1
    }

    /// The context for one more task (`CLONE_FS`).
    pub fn share(self: &Arc<Self>) -> Arc<Self> {
        self.users.fetch_add(1, Ordering::SeqCst);
        self.clone()
    }

    /// A task stops using the context; the last user releases the root
    /// and working directory with `ctx`.
    pub fn release_user(&self, ctx: &dyn Context) {
        if self.users.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.release(ctx);
        }
    }

    /// Releases the root and working directory.
    pub fn release(&self, ctx: &dyn Context) {
        let (root, cwd) = {
            let mut st = self.state();
            (st.root.take(), st.cwd.take())
        };
        for vd in [root, cwd].into_iter().flatten() {
            vd.release(ctx);
        }
    }
}

/// The identity and limits a task's VFS operations run with.
#[derive(Clone, Debug)]
pub struct TaskContext {
    /// The credentials.
    pub credentials: Credentials,
    /// The thread-group ID, the owner of POSIX locks.
    pub tgid: i32,
    /// The thread group's resource limits.
    pub limits: Arc<super::Limits>,
}

impl Context for TaskContext {
    fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    fn now(&self) -> Timespec {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timespec {
            tv_sec: d.as_secs() as i64,
            tv_nsec: i64::from(d.subsec_nanos()),
        }
    }

    fn rlimit(&self, resource: RlimitResource) -> Rlimit {
        self.limits.get(resource)
    }

    fn lock_owner(&self) -> Option<ProcessLockOwner> {
        Some(ProcessLockOwner {
            id: self.tgid as u64,
            pid: self.tgid,
        })
    }

    fn blocker(&self) -> Option<&dyn vfs_core::lock::Blocker> {
        static BLOCKER: TaskBlocker = TaskBlocker;
        Some(&BLOCKER)
    }
}
