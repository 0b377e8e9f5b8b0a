//! The [`Inode`] trait family: what a kernfs filesystem implements per
//! file (gVisor kernfs's `Inode` interface and its parts).
//!
//! One trait with groups of methods, each with a default that returns the
//! errno Linux returns when the file does not support the operation:
//!
//! - metadata: [`Inode::attrs`], [`Inode::stat`], [`Inode::set_stat`],
//!   [`Inode::check_permission`], [`Inode::statfs`];
//! - caching: [`Inode::keep`], [`Inode::valid`];
//! - directories: [`Inode::lookup`], [`Inode::iter_dirents`],
//!   [`Inode::has_children`], [`Inode::new_file`], [`Inode::new_dir`],
//!   [`Inode::new_link`], [`Inode::new_symlink`], [`Inode::new_node`],
//!   [`Inode::unlink`], [`Inode::rmdir`], [`Inode::rename`];
//! - symlinks: [`Inode::readlink`], [`Inode::getlink`];
//! - files: [`Inode::open`];
//! - extended attributes.
//!
//! A plain file overrides `attrs` and `open`; the helpers of this crate
//! ([`crate::StaticDirectory`], [`crate::DynamicDirectory`],
//! [`crate::DynamicBytesFile`], [`crate::Symlink`]) cover the rest.
//!
//! # Reference model
//!
//! Inodes live in `Arc`s: a dentry holds its inode, a directory inode
//! holds its children's inodes, an open file holds its inode through its
//! dentry. An inode therefore outlives every dentry naming it as long as a
//! directory still links it (hard links), and is dropped (freeing its
//! contents) when the last name and the last open file are gone.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use abi_linux::{Errno, FileMode, Statfs, Statx};
use vfs_core::permissions::{self, AccessTypes};
use vfs_core::{
    Context, Credentials, DirentSink, FileRef, GetXattrOptions, MkdirOptions, MknodOptions,
    MountRef, OpenOptions, SetStatOptions, SetXattrOptions, StatOptions, VirtualDentry,
};

use crate::filesystem::Filesystem;
use crate::inode_attrs::InodeAttrs;

/// What a symbolic link resolves to.
pub enum LinkTarget {
    /// A path, resolved like any symlink target.
    Path(Vec<u8>),
    /// A location reached directly (a `/proc/self/fd/N` magic link).
    Jump(VirtualDentry),
    /// An open description (a `/proc/self/fd/N` magic link to a pipe or
    /// socket): walked through as a jump to its location, and reopened
    /// when opened ([`vfs_core::FileDescriptionImpl::reopen`]).
    File(vfs_core::FileRef),
}

/// Where a rename moves an entry; see [`Inode::rename`].
pub struct RenameTarget<'a> {
    /// The destination directory.
    pub new_dir: &'a Arc<dyn Inode>,
    /// The entry's new name.
    pub new_name: &'a [u8],
    /// The inode currently at the destination, if any: replaced, or
    /// exchanged with the moved one when `exchange` is set.
    pub replaced: Option<&'a Arc<dyn Inode>>,
    /// `RENAME_EXCHANGE`.
    pub exchange: bool,
}

/// A file in a kernfs filesystem. See the [module documentation](self).
pub trait Inode: Any + Send + Sync {
    /// The inode's metadata.
    fn attrs(&self) -> &InodeAttrs;

    /// The mode, file type included.
    fn mode(&self) -> FileMode {
        self.attrs().mode()
    }

    /// Whether the inode is a directory.
    fn is_dir(&self) -> bool {
        self.mode().is_dir()
    }

    /// `statx`. The default reports the attributes with size 0.
    fn stat(&self, ctx: &dyn Context, fs: &Filesystem, opts: StatOptions) -> Result<Statx, Errno> {
        let _ = (ctx, opts);
        Ok(self.attrs().stat(fs.dev(), 0, 0))
    }

    /// `chmod`, `chown`, `utimes`, `truncate`. The default changes mode,
    /// owner and times with Linux's checks and refuses a size change.
    fn set_stat(
        &self,
        ctx: &dyn Context,
        fs: &Filesystem,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        let _ = fs;
        self.attrs().set_stat(ctx, opts)
    }

    /// Checks `access` for `creds` (Linux `generic_permission` by default).
    fn check_permission(&self, creds: &Credentials, access: AccessTypes) -> Result<(), Errno> {
        permissions::generic_permission(creds, access, self.attrs().owner())
    }

    /// `statfs` of the filesystem through this file. The default describes
    /// a pseudo filesystem with no blocks.
    fn statfs(&self, ctx: &dyn Context, fs: &Filesystem) -> Result<Statfs, Errno> {
        let _ = ctx;
        Ok(fs.generic_statfs())
    }

    /// Whether a dentry for this inode stays cached once unreferenced.
    /// `false` for generated files (a process directory) whose dentries
    /// should go at the end of the operation that looked them up.
    fn keep(&self) -> bool {
        true
    }

    /// Whether a cached dentry for this inode, named `name`, is still
    /// valid. `false` drops the dentry and forces a new lookup.
    fn valid(&self, ctx: &dyn Context, name: &[u8]) -> bool {
        let _ = (ctx, name);
        true
    }

    /// Finds the child `name` (never `.` or `..`).
    fn lookup(&self, ctx: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let _ = (ctx, name);
        Err(if self.is_dir() {
            Errno::ENOENT
        } else {
            Errno::ENOTDIR
        })
    }

    /// Emits the directory's entries other than `.` and `..`, starting
    /// with the one at absolute offset `offset` (`rel_offset` counts from
    /// the first entry after `..`, so it is `offset - 2`). Each entry's
    /// `next_offset` is the absolute offset to resume after it. Returns the
    /// absolute offset after the last entry accepted.
    fn iter_dirents(
        &self,
        ctx: &dyn Context,
        sink: &mut dyn DirentSink,
        offset: i64,
        rel_offset: i64,
    ) -> Result<i64, Errno> {
        let _ = (ctx, sink, rel_offset);
        if self.is_dir() {
            Ok(offset)
        } else {
            Err(Errno::ENOTDIR)
        }
    }

    /// Whether the directory has entries (other than `.` and `..`).
    fn has_children(&self, ctx: &dyn Context) -> bool {
        let _ = ctx;
        false
    }

    /// Creates a regular file `name` (`open` with `O_CREAT`).
    fn new_file(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        opts: &OpenOptions,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let _ = (ctx, name, opts);
        Err(Errno::EPERM)
    }

    /// Creates a directory `name`.
    fn new_dir(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        opts: MkdirOptions,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let _ = (ctx, name, opts);
        Err(Errno::EPERM)
    }

    /// Adds `target` as `name` (a hard link).
    fn new_link(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        target: &Arc<dyn Inode>,
    ) -> Result<(), Errno> {
        let _ = (ctx, name, target);
        Err(Errno::EPERM)
    }

    /// Creates a symbolic link `name` to `target`.
    fn new_symlink(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        target: &[u8],
    ) -> Result<Arc<dyn Inode>, Errno> {
        let _ = (ctx, name, target);
        Err(Errno::EPERM)
    }

    /// Creates a device node, FIFO or socket `name`.
    fn new_node(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        opts: MknodOptions,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let _ = (ctx, name, opts);
        Err(Errno::EPERM)
    }

    /// Removes the non-directory `child` named `name`.
    fn unlink(&self, ctx: &dyn Context, name: &[u8], child: &Arc<dyn Inode>) -> Result<(), Errno> {
        let _ = (ctx, name, child);
        Err(Errno::EPERM)
    }

    /// Removes the empty directory `child` named `name`.
    fn rmdir(&self, ctx: &dyn Context, name: &[u8], child: &Arc<dyn Inode>) -> Result<(), Errno> {
        let _ = (ctx, name, child);
        Err(Errno::EPERM)
    }

    /// Moves `child`, named `old_name` in this directory, as described by
    /// `to`. Called on the source directory; kernfs has checked
    /// permissions, emptiness and types.
    fn rename(
        &self,
        ctx: &dyn Context,
        old_name: &[u8],
        child: &Arc<dyn Inode>,
        to: RenameTarget<'_>,
    ) -> Result<(), Errno> {
        let _ = (ctx, old_name, child, to);
        Err(Errno::EPERM)
    }

    /// The target of a symbolic link (`readlink`).
    fn readlink(&self, ctx: &dyn Context) -> Result<Vec<u8>, Errno> {
        let _ = ctx;
        Err(Errno::EINVAL)
    }

    /// Where a symbolic link leads when followed through `mount`.
    fn getlink(&self, ctx: &dyn Context, mount: &MountRef) -> Result<LinkTarget, Errno> {
        let _ = mount;
        self.readlink(ctx).map(LinkTarget::Path)
    }

    /// Opens the file at `vd` (whose dentry is this inode's). kernfs has
    /// checked the permissions `opts.flags` need.
    fn open(
        &self,
        ctx: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno>;

    /// `listxattr`.
    fn list_xattr(&self, ctx: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        let _ = ctx;
        Err(Errno::EOPNOTSUPP)
    }

    /// `getxattr`.
    fn get_xattr(&self, ctx: &dyn Context, opts: &GetXattrOptions) -> Result<Vec<u8>, Errno> {
        let _ = (ctx, opts);
        Err(Errno::EOPNOTSUPP)
    }

    /// `setxattr`.
    fn set_xattr(&self, ctx: &dyn Context, opts: &SetXattrOptions) -> Result<(), Errno> {
        let _ = (ctx, opts);
        Err(Errno::EOPNOTSUPP)
    }

    /// `removexattr`.
    fn remove_xattr(&self, ctx: &dyn Context, name: &[u8]) -> Result<(), Errno> {
        let _ = (ctx, name);
        Err(Errno::EOPNOTSUPP)
    }
}

/// Downcasts an inode to its concrete type.
pub fn downcast_inode<T: Inode>(inode: &Arc<dyn Inode>) -> Option<Arc<T>> {
    let any: Arc<dyn Any + Send + Sync> = Arc::clone(inode) as Arc<dyn Any + Send + Sync>;
    any.downcast::<T>().ok()
}
