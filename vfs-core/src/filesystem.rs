//! Filesystems: the generic [`Filesystem`] object, the
//! [`FilesystemImpl`] trait every filesystem implements, and filesystem
//! types.
//!
//! # Reference model
//!
//! A [`Filesystem`] is counted: each mount of it holds a reference, and so
//! does whoever created it until the first mount takes over. When the last
//! reference goes, [`FilesystemImpl::release`] runs with the releasing
//! context. Dentries do not hold their filesystem.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use abi_linux::{Errno, RenameFlags, Statfs, Statx};

use crate::context::Context;
use crate::dentry::{DentryImpl, DentryRef};
use crate::file_description::FileRef;
use crate::handle::{Handle, RefCounted};
use crate::mount::{MountRef, VirtualDentry};
use crate::options::{
    GetDentryOptions, GetXattrOptions, MkdirOptions, MknodOptions, OpenOptions, RenameOptions,
    SetStatOptions, SetXattrOptions, StatOptions,
};
use crate::path::{NAME_MAX, is_dot_or_dotdot};
use crate::permissions::AccessTypes;
use crate::resolving_path::{PathResult, ResolvingPath};
use crate::vfs::VirtualFilesystem;

/// What a filesystem implements. Path operations receive a
/// [`ResolvingPath`] positioned at the filesystem's part of the path and
/// walk it with the path's rules; when the walk leaves the filesystem
/// (a mount point, `..` above the mount root, an absolute symlink, a magic
/// link) the resolving path's methods return [`crate::PathError::Restart`]
/// and the filesystem returns it unchanged.
///
/// Every method has a default that returns the errno Linux returns when a
/// filesystem does not support the operation.
pub trait FilesystemImpl: Any + Send + Sync {
    /// Called once when the last reference to the filesystem goes.
    fn release(&self, ctx: &dyn Context) {
        let _ = ctx;
    }

    /// Writes back everything cached (`syncfs`).
    fn sync(&self, ctx: &dyn Context) -> Result<(), Errno> {
        let _ = ctx;
        Ok(())
    }

    /// Checks `access` on the file at `rp` (`faccessat`).
    fn access_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        access: AccessTypes,
    ) -> PathResult<()>;

    /// Returns the dentry at `rp`.
    fn get_dentry_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: GetDentryOptions,
    ) -> PathResult<DentryRef>;

    /// Returns the parent directory of the final component of `rp`,
    /// leaving the final component unconsumed.
    fn get_parent_dentry_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<DentryRef>;

    /// Creates a hard link at `rp` to `target`; `EXDEV` when `target.mount`
    /// is not the mount the walk of `rp` ends on (see [`Self::rename_at`]).
    fn link_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        target: &VirtualDentry,
    ) -> PathResult<()> {
        let _ = (ctx, rp, target);
        Err(Errno::EPERM.into())
    }

    /// Creates a directory at `rp`.
    fn mkdir_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: MkdirOptions,
    ) -> PathResult<()> {
        let _ = (ctx, rp, opts);
        Err(Errno::EPERM.into())
    }

    /// Creates a file node at `rp`.
    fn mknod_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: MknodOptions,
    ) -> PathResult<()> {
        let _ = (ctx, rp, opts);
        Err(Errno::EPERM.into())
    }

    /// Opens (and maybe creates) the file at `rp`.
    fn open_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: OpenOptions,
    ) -> PathResult<FileRef>;

    /// Reads the symbolic link at `rp`.
    fn readlink_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Vec<u8>> {
        let _ = (ctx, rp);
        Err(Errno::EINVAL.into())
    }

    /// Renames `old_name` in `old_parent` to `rp`.
    ///
    /// Only the filesystem knows where the walk of `rp` ends: once it has
    /// walked to the new parent, it calls [`check_rename_names`] (`EXDEV`,
    /// `.` and `..`, name length, read-only mount, in Linux's order) before
    /// looking either entry up.
    fn rename_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        old_parent: &VirtualDentry,
        old_name: &[u8],
        opts: RenameOptions,
    ) -> PathResult<()> {
        let _ = (ctx, rp, old_parent, old_name, opts);
        Err(Errno::EPERM.into())
    }

    /// Removes the directory at `rp`.
    fn rmdir_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        let _ = (ctx, rp);
        Err(Errno::EPERM.into())
    }

    /// Changes the metadata of the file at `rp`.
    fn set_stat_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: SetStatOptions,
    ) -> PathResult<()> {
        let _ = (ctx, rp, opts);
        Err(Errno::EPERM.into())
    }

    /// Returns the metadata of the file at `rp`.
    fn stat_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: StatOptions,
    ) -> PathResult<Statx>;

    /// Returns filesystem statistics for the filesystem containing `rp`.
    fn statfs_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Statfs> {
        let _ = (ctx, rp);
        Err(Errno::ENOSYS.into())
    }

    /// Creates a symbolic link at `rp` pointing to `target`.
    fn symlink_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        target: &[u8],
    ) -> PathResult<()> {
        let _ = (ctx, rp, target);
        Err(Errno::EPERM.into())
    }

    /// Removes the non-directory at `rp`.
    fn unlink_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        let _ = (ctx, rp);
        Err(Errno::EPERM.into())
    }

    /// Lists extended attribute names of the file at `rp`.
    fn list_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<Vec<Vec<u8>>> {
        let _ = (ctx, rp);
        Err(Errno::EOPNOTSUPP.into())
    }

    /// Reads an extended attribute of the file at `rp`.
    fn get_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: &GetXattrOptions,
    ) -> PathResult<Vec<u8>> {
        let _ = (ctx, rp, opts);
        Err(Errno::EOPNOTSUPP.into())
    }

    /// Sets an extended attribute of the file at `rp`.
    fn set_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: &SetXattrOptions,
    ) -> PathResult<()> {
        let _ = (ctx, rp, opts);
        Err(Errno::EOPNOTSUPP.into())
    }

    /// Removes an extended attribute of the file at `rp`.
    fn remove_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        name: &[u8],
    ) -> PathResult<()> {
        let _ = (ctx, rp, name);
        Err(Errno::EOPNOTSUPP.into())
    }

    /// The parent and name of `dentry` within this filesystem, or `None`
    /// for the filesystem's root and for dentries with no name (anonymous
    /// files). The VFS builds pathnames (`getcwd`, `/proc/self/fd`) from
    /// this.
    fn parent_and_name(&self, dentry: &dyn DentryImpl) -> Option<(DentryRef, Vec<u8>)> {
        let _ = dentry;
        None
    }

    /// The mount options shown in `/proc/self/mounts`, without the generic
    /// `rw`/`ro` flags.
    fn mount_options(&self) -> String {
        String::new()
    }
}

/// The checks Linux's `renameat2` makes once both parents are known, in
/// its order: `EXDEV` when they are on different mounts; `EBUSY` for `.` or
/// `..` as the old name, then as the new one (`EEXIST` under
/// `RENAME_NOREPLACE`); `ENAMETOOLONG` for a new name over `NAME_MAX`;
/// `EROFS` on a read-only mount.
///
/// # Preconditions
///
/// The walk of `rp` stopped at the new parent: the new name, if any, is
/// `rp`'s current component.
pub fn check_rename_names(
    rp: &ResolvingPath<'_>,
    old_parent: &VirtualDentry,
    old_name: &[u8],
    opts: RenameOptions,
) -> Result<(), Errno> {
    if !MountRef::ptr_eq(&old_parent.mount, rp.mount()) {
        return Err(Errno::EXDEV);
    }
    if is_dot_or_dotdot(old_name) {
        return Err(Errno::EBUSY);
    }
    if rp.done() || is_dot_or_dotdot(rp.component()) {
        return Err(if opts.flags.contains(RenameFlags::NOREPLACE) {
            Errno::EEXIST
        } else {
            Errno::EBUSY
        });
    }
    if rp.component().len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    rp.mount().check_writable()
}

/// The VFS's object for one filesystem instance.
pub struct Filesystem {
    id: u64,
    fs_type: String,
    dev: u64,
    imp: Arc<dyn FilesystemImpl>,
    watches: crate::inotify::Watches,
    refs: refs::RefCount,
    registration: spin::Mutex<Option<refs::Registration>>,
}

/// One counted reference to a filesystem.
pub type FilesystemRef = Handle<Filesystem>;

impl Filesystem {
    /// A new filesystem of type `fs_type` with device number `dev`; the
    /// caller holds its initial reference.
    pub fn new(
        vfs: &VirtualFilesystem,
        fs_type: &str,
        dev: u64,
        imp: Arc<dyn FilesystemImpl>,
    ) -> FilesystemRef {
        let fs = Arc::new_cyclic(|weak| Self {
            id: vfs.next_id(),
            fs_type: String::from(fs_type),
            dev,
            imp,
            watches: crate::inotify::Watches::default(),
            refs: refs::RefCount::new(),
            registration: spin::Mutex::new(Some(refs::Registration::new_cyclic(
                weak,
                "vfs::Filesystem",
            ))),
        });
        Handle::adopt(fs)
    }

    /// A unique identifier.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The filesystem type's name (`"tmpfs"`, `"ext4"`).
    pub fn fs_type(&self) -> &str {
        &self.fs_type
    }

    /// The device number `stat` reports for its files.
    pub fn dev(&self) -> u64 {
        self.dev
    }

    /// The inotify watches on its dentries.
    pub fn watches(&self) -> &crate::inotify::Watches {
        &self.watches
    }

    /// The implementation.
    pub fn imp(&self) -> &Arc<dyn FilesystemImpl> {
        &self.imp
    }

    /// Downcasts the implementation to `T`.
    pub fn downcast<T: FilesystemImpl>(&self) -> Option<&T> {
        let any: &dyn Any = &*self.imp;
        any.downcast_ref()
    }

    /// The current reference count, for tests and debugging.
    pub fn ref_count(&self) -> i64 {
        self.refs.count()
    }
}

impl RefCounted for Filesystem {
    fn inc_ref(&self) {
        self.refs.inc_ref(self);
    }

    fn try_inc_ref(&self) -> bool {
        self.refs.try_inc_ref()
    }

    fn dec_ref(&self, ctx: &dyn Context) {
        self.refs.dec_ref(self, || {
            self.imp.release(ctx);
            self.registration.lock().take();
        });
    }
}

impl refs::CheckedObject for Filesystem {
    fn ref_type(&self) -> &'static str {
        "vfs::Filesystem"
    }

    fn leak_message(&self) -> String {
        alloc::format!(
            "[vfs::Filesystem {}] type={} refs={}",
            self.id,
            self.fs_type,
            self.refs.count()
        )
    }
}

impl fmt::Debug for Filesystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filesystem")
            .field("id", &self.id)
            .field("type", &self.fs_type)
            .finish()
    }
}

bitflags::bitflags! {
    /// Properties of a filesystem type.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct FilesystemTypeFlags: u32 {
        /// The filesystem needs a source device (shown without `nodev` in
        /// `/proc/filesystems`).
        const REQUIRES_DEVICE = 1;
        /// Users without `CAP_SYS_ADMIN` may mount it in their own user
        /// namespace.
        const ALLOW_USER_MOUNT = 2;
        /// The type is internal: it cannot be mounted by name.
        const INTERNAL = 4;
    }
}

/// Options for creating a filesystem instance.
#[derive(Clone, Debug, Default)]
pub struct GetFilesystemOptions {
    /// The mount's `data` string (`"size=1m,mode=0755"`).
    pub data: String,
    /// Whether the mount is read-only.
    pub read_only: bool,
    /// An object passed by the embedder (an image source, a 9P client),
    /// which filesystem types downcast.
    pub internal_data: Option<Arc<dyn Any + Send + Sync>>,
}

/// A kind of filesystem that can be mounted by name.
pub trait FilesystemType: Send + Sync {
    /// The name used in `mount(2)` and `/proc/filesystems`.
    fn name(&self) -> &str;

    /// Properties of the type.
    fn flags(&self) -> FilesystemTypeFlags {
        FilesystemTypeFlags::empty()
    }

    /// Creates (or finds) a filesystem for `source` and returns it with its
    /// root dentry, one reference each.
    fn get_filesystem(
        &self,
        ctx: &dyn Context,
        vfs: &Arc<VirtualFilesystem>,
        source: &[u8],
        opts: &GetFilesystemOptions,
    ) -> Result<(FilesystemRef, DentryRef), Errno>;
}

/// Identifiers shared by every object the VFS numbers.
pub(crate) struct IdAllocator(AtomicU64);

impl IdAllocator {
    pub(crate) const fn new() -> Self {
        Self(AtomicU64::new(1))
    }

    pub(crate) fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}
