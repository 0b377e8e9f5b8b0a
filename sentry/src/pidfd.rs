//! Process file descriptors (Linux's `pidfd`, gVisor's `fsimpl/pidfd`): a
//! description that names a thread group, made by `clone(CLONE_PIDFD)` and
//! `pidfd_open`, readable (`POLLIN`) once the process has exited, and used
//! by `pidfd_send_signal` and `waitid(P_PIDFD)`.
//!
//! # Reference model
//!
//! A pidfd holds its thread group (`Arc`), so the group's identity outlives
//! the process; the group's exit queue holds the pidfd's pollers.

use std::sync::{Arc, OnceLock};

use abi_linux::{Errno, OpenFlags, Statx};
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WaitEntryId, Waiter};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileDescriptionOptions, FileRef, StatOptions,
};

use crate::task::ThreadGroup;

/// A pidfd's file description.
#[derive(Debug, Default)]
pub struct PidFd {
    /// The process; set once (`clone` makes the descriptor before the
    /// process exists).
    group: OnceLock<Arc<ThreadGroup>>,
}

impl PidFd {
    /// The process the descriptor names.
    pub fn group(&self) -> Option<&Arc<ThreadGroup>> {
        self.group.get()
    }

    /// Names `group` (once).
    pub fn bind(&self, group: Arc<ThreadGroup>) {
        let _ = self.group.set(group);
    }
}

impl FileDescriptionImpl for PidFd {
    /// An anonymous inode, as Linux's: mode 0600 without a file type.
    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(vfs_core::file_description_util::anon_inode_stat(fd))
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        match self.group.get() {
            Some(g) if g.thread_count() == 0 => mask & READABLE_EVENTS,
            _ => EventMask::empty(),
        }
    }

    fn event_register(
        &self,
        waiter: Arc<dyn Waiter>,
        mask: EventMask,
    ) -> Result<Option<WaitEntryId>, Errno> {
        Ok(self
            .group
            .get()
            .map(|g| g.exit_queue().register(waiter, mask)))
    }

    fn event_unregister(&self, id: WaitEntryId) {
        if let Some(g) = self.group.get() {
            g.exit_queue().unregister(id);
        }
    }

    fn release(&self, _: &dyn Context) {}

    fn synthetic_name(&self) -> Option<String> {
        Some("anon_inode:[pidfd]".into())
    }
}

/// A new pidfd on the kernel's anonymous mount, naming `group` when given
/// (else [`PidFd::bind`] names it later); `flags` may hold `O_NONBLOCK`.
pub fn new_pidfd(
    mount: &vfs_core::MountRef,
    group: Option<Arc<ThreadGroup>>,
    flags: OpenFlags,
) -> FileRef {
    let pidfd = PidFd::default();
    if let Some(g) = group {
        pidfd.bind(g);
    }
    let root = mount.root_ref();
    let opts = FileDescriptionOptions {
        allow_direct_io: false,
        deny_pread: true,
        deny_pwrite: true,
    };
    let file = FileDescription::new(
        flags & OpenFlags::NONBLOCK,
        mount,
        &root,
        opts,
        Box::new(pidfd),
    );
    drop(root);
    file
}

/// The process a descriptor names, if it is a pidfd.
pub fn group_of(file: &FileDescription) -> Option<Arc<ThreadGroup>> {
    file.downcast::<PidFd>()?.group().cloned()
}
