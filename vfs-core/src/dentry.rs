//! Dentries: the generic part of a filesystem's directory entries.
//!
//! # Reference model
//!
//! A filesystem owns its dentries and decides how they are counted (kernfs
//! keeps zero-reference dentries in an LRU; a simple filesystem may free
//! them at once). Each filesystem dentry embeds a [`Dentry`] with the state
//! the VFS needs (the number of mounts on it, whether it is dead) and
//! implements [`DentryImpl`]. Callers hold dentries through
//! [`DentryRef`], one counted reference each: cloning takes a reference,
//! [`DentryRef::release`] (or drop) gives it back. Dentries do not hold
//! their filesystem; mounts and file descriptions hold both.
//!
//! # Deletion and mounts
//!
//! Mounting on a dentry and deleting or renaming it exclude each other
//! through one atomic state word instead of a lock held across the
//! filesystem's operation: [`DeleteGuard`] and [`RenameGuard`] refuse
//! mount points with `EBUSY`, and a mount waits out a deletion in
//! progress and refuses dead dentries with `ENOENT`.

use core::any::Any;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use abi_linux::Errno;

use crate::context::Context;
use crate::handle::{Handle, RefCounted};

/// The VFS's state for one dentry, embedded in each filesystem's dentry.
///
/// One atomic word holds the number of mounts on the dentry, whether a
/// deletion or rename of it is in progress and whether it is dead, so that
/// mounting on a dentry and deleting it exclude each other without a lock
/// held across the filesystem's operation.
#[derive(Default)]
pub struct Dentry {
    state: AtomicU64,
}

const MOUNTS_MASK: u64 = 0xffff_ffff;
const BUSY: u64 = 1 << 32;
const DEAD: u64 = 1 << 33;

impl Dentry {
    /// A live dentry with nothing mounted on it.
    pub const fn new() -> Self {
        Self {
            state: AtomicU64::new(0),
        }
    }

    /// Whether the file this dentry named has been deleted or the dentry
    /// was invalidated.
    pub fn is_dead(&self) -> bool {
        self.state.load(Ordering::Acquire) & DEAD != 0
    }

    /// Whether anything is mounted on this dentry. Checked before every
    /// mount-table lookup so unmounted dentries cost one atomic load.
    pub fn is_mounted(&self) -> bool {
        self.mount_count() != 0
    }

    /// The number of mounts whose mount point is this dentry.
    pub fn mount_count(&self) -> u32 {
        (self.state.load(Ordering::Acquire) & MOUNTS_MASK) as u32
    }

    /// Marks the dentry dead without the prepare/commit protocol: for
    /// filesystems invalidating dentries whose files vanished behind their
    /// back (a remote deletion, an evicted cache entry).
    pub fn mark_dead(&self) {
        self.state.fetch_or(DEAD, Ordering::AcqRel);
    }

    /// Counts a new mount on the dentry unless it is dead (`ENOENT`).
    /// Waits out a deletion or rename in progress.
    pub(crate) fn add_mount(&self) -> Result<(), Errno> {
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            if current & DEAD != 0 {
                return Err(Errno::ENOENT);
            }
            if current & BUSY != 0 {
                core::hint::spin_loop();
                current = self.state.load(Ordering::Acquire);
                continue;
            }
            match self.state.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(observed) => current = observed,
            }
        }
    }

    pub(crate) fn remove_mount(&self) {
        self.state.fetch_sub(1, Ordering::AcqRel);
    }

    /// Starts a deletion or rename: `EBUSY` when something is mounted on
    /// the dentry.
    ///
    /// # Preconditions
    ///
    /// The filesystem serializes operations on the dentry's name (it holds
    /// the parent directory's lock), so no other deletion or rename of the
    /// same dentry is in progress.
    pub(crate) fn begin_delete(&self) -> Result<(), Errno> {
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            if current & MOUNTS_MASK != 0 {
                return Err(Errno::EBUSY);
            }
            match self.state.compare_exchange_weak(
                current,
                current | BUSY,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(observed) => current = observed,
            }
        }
    }

    /// Ends a deletion or rename started with [`Self::begin_delete`];
    /// `dead` says whether the dentry no longer names a file.
    pub(crate) fn end_delete(&self, dead: bool) {
        if dead {
            self.state.fetch_or(DEAD, Ordering::AcqRel);
        }
        self.state.fetch_and(!BUSY, Ordering::AcqRel);
    }
}

impl fmt::Debug for Dentry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dentry")
            .field("dead", &self.is_dead())
            .field("mounts", &self.mount_count())
            .finish()
    }
}

/// A deletion in progress (gVisor's `PrepareDeleteDentry`): commit it once
/// the filesystem has removed the file; dropping it aborts.
#[must_use = "dropping the guard aborts the deletion"]
pub struct DeleteGuard<'a> {
    dentry: &'a Dentry,
}

impl<'a> DeleteGuard<'a> {
    /// Starts deleting `dentry`: `EBUSY` when it is a mount point.
    ///
    /// # Preconditions
    ///
    /// As [`Dentry::begin_delete`]: the caller holds the lock that
    /// serializes changes to the dentry's parent directory.
    pub fn prepare(dentry: &'a Dentry) -> Result<Self, Errno> {
        dentry.begin_delete()?;
        Ok(Self { dentry })
    }

    /// The deletion happened: the dentry is dead.
    pub fn commit(self) {
        let this = core::mem::ManuallyDrop::new(self);
        this.dentry.end_delete(true);
    }
}

impl Drop for DeleteGuard<'_> {
    fn drop(&mut self) {
        self.dentry.end_delete(false);
    }
}

/// A rename in progress (gVisor's `PrepareRenameDentry`): both the moved
/// dentry and the one it replaces must not be mount points.
#[must_use = "dropping the guard aborts the rename"]
pub struct RenameGuard<'a> {
    from: &'a Dentry,
    to: Option<&'a Dentry>,
}

impl<'a> RenameGuard<'a> {
    /// Starts renaming `from` over `to` (if the destination exists).
    ///
    /// # Preconditions
    ///
    /// The caller holds the locks that serialize changes to both parent
    /// directories, and `from` and `to` are different dentries.
    pub fn prepare(from: &'a Dentry, to: Option<&'a Dentry>) -> Result<Self, Errno> {
        from.begin_delete()?;
        if let Some(to) = to
            && let Err(errno) = to.begin_delete()
        {
            from.end_delete(false);
            return Err(errno);
        }
        Ok(Self { from, to })
    }

    /// The rename replaced `to`, which is now dead.
    pub fn commit_replace(self) {
        let this = core::mem::ManuallyDrop::new(self);
        this.from.end_delete(false);
        if let Some(to) = this.to {
            to.end_delete(true);
        }
    }

    /// The rename exchanged the two; both stay alive.
    pub fn commit_exchange(self) {
        drop(self);
    }
}

impl Drop for RenameGuard<'_> {
    fn drop(&mut self) {
        self.from.end_delete(false);
        if let Some(to) = self.to {
            to.end_delete(false);
        }
    }
}

/// What a filesystem implements for its dentries.
pub trait DentryImpl: Any + Send + Sync {
    /// The embedded VFS state.
    fn vfs_dentry(&self) -> &Dentry;

    /// Whether the dentry is a directory (mounts require a directory to be
    /// mounted on a directory).
    fn is_dir(&self) -> bool;

    /// Takes a reference.
    ///
    /// # Preconditions
    ///
    /// The caller already holds a reference (or the filesystem's lock that
    /// keeps the dentry alive).
    fn inc_ref(&self);

    /// Takes a reference unless the dentry is being destroyed.
    fn try_inc_ref(&self) -> bool;

    /// Gives back a reference; the filesystem decides what happens at zero.
    fn dec_ref(&self, ctx: &dyn Context);

    /// A short description for leak reports and debugging (name, inode).
    fn describe(&self) -> alloc::string::String {
        alloc::string::String::from("dentry")
    }
}

/// One counted reference to a dentry.
pub type DentryRef = Handle<dyn DentryImpl>;

impl RefCounted for dyn DentryImpl {
    fn inc_ref(&self) {
        DentryImpl::inc_ref(self);
    }

    fn try_inc_ref(&self) -> bool {
        DentryImpl::try_inc_ref(self)
    }

    fn dec_ref(&self, ctx: &dyn Context) {
        DentryImpl::dec_ref(self, ctx);
    }
}

impl Handle<dyn DentryImpl> {
    /// Downcasts to the filesystem's own dentry type.
    pub fn downcast<T: DentryImpl>(&self) -> Option<&T> {
        let any: &dyn Any = &**self;
        any.downcast_ref()
    }

    /// Whether two references name the same dentry.
    pub fn same(&self, other: &DentryRef) -> bool {
        same_dentry(&**self, &**other)
    }
}

/// Whether two dentries are the same object.
pub fn same_dentry(a: &dyn DentryImpl, b: &dyn DentryImpl) -> bool {
    core::ptr::addr_eq(a as *const dyn DentryImpl, b as *const dyn DentryImpl)
}

impl fmt::Debug for dyn DentryImpl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dentry({})", self.describe())
    }
}
