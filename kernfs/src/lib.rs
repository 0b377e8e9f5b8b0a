//! `kernfs`: a framework for inode-based filesystems, after gVisor's
//! `fsimpl/kernfs`, and [`memfs`], a writable in-memory filesystem with
//! tmpfs semantics built on it.
//!
//! `no_std` + `alloc`; no unsafe code.
//!
//! A kernfs filesystem is a tree of [`Inode`]s. kernfs provides the rest:
//! the [`vfs_core::FilesystemImpl`] (path walks with every rule of
//! [`vfs_core::ResolvingPath`], creation, deletion, rename, permission
//! checks), a cache of [`Dentry`]s over the inodes, and helpers that make a
//! pseudo file a few lines: [`InodeAttrs`] for metadata,
//! [`StaticDirectory`], [`OrderedChildren`], [`DynamicDirectory`],
//! [`DynamicBytesFile`], [`Symlink`] and [`GenericDirectoryFd`].
//!
//! # Reference model
//!
//! - kernfs owns the dentry tree. A child dentry holds a counted reference
//!   on its parent; a dentry holds its inode (`Arc`); inodes may outlive
//!   dentries (hard links; a directory inode holds its children's inodes);
//!   open file descriptions hold their dentry.
//! - A dentry's count may go to zero and back. Unreferenced dentries stay
//!   reachable in the filesystem's LRU, bounded by
//!   [`FilesystemOptions::max_cached_dentries`] (0 disables caching); dead
//!   or parentless unreferenced dentries, and those whose inode says
//!   [`Inode::keep`] is false, are destroyed at once; eviction victims are
//!   invalidated (marked dead) as the VFS would.
//! - A cached dentry whose inode says [`Inode::valid`] is false is dropped
//!   from the tree and looked up again.
//! - Every dentry and inode registers with the `refs` leak checker.
//!
//! # Lock order
//!
//! 1. The filesystem lock ([`Filesystem`]), a reader-writer lock: read for
//!    walks and operations that do not change the tree, write for those
//!    that do and for destroying dentries.
//! 2. A dentry's tree mutex (its children map; at most one at a time).
//! 3. Inode locks: directory entries ([`OrderedChildren`]), then file
//!    contents, then a file's mappings, then attributes
//!    ([`InodeAttrs`]), then extended attributes.
//! 4. The deferred dec-ref queue (a leaf).
//!
//! Dropping a dentry reference never waits for the filesystem lock: a
//! dentry whose count reaches zero is queued and examined by whoever next
//! holds the lock free, and every operation processes the queue after
//! releasing the lock (gVisor's deferred dec-refs, `SafeDecRef`).
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use kernfs::memfs::MemfsType;
//! use vfs_core::{MountOptions, PathOperation, SimpleContext, StatOptions, VirtualFilesystem};
//!
//! let ctx = SimpleContext::root();
//! let vfs = VirtualFilesystem::new();
//! vfs.register_filesystem_type(Arc::new(MemfsType)).unwrap();
//! let ns = vfs.new_mount_namespace(&ctx, b"", "tmpfs", &MountOptions::default()).unwrap();
//! let root = ns.root();
//! let pop = PathOperation::new(&root, &root, b"/dir");
//! vfs.mkdir_at(&ctx, &pop, vfs_core::MkdirOptions { mode: 0o755, ..Default::default() }).unwrap();
//! let stat = vfs.stat_at(&ctx, &pop, StatOptions::default()).unwrap();
//! assert_eq!(u32::from(stat.stx_mode), 0o40755);
//! drop(root);
//! vfs.release_mount_namespace(&ns);
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod dentry;
pub mod directory;
pub mod dynamic_bytes_file;
pub mod filesystem;
pub mod inode;
pub mod inode_attrs;
pub mod memfs;
pub mod ordered_children;
pub mod symlink;
mod walk;

pub use dentry::Dentry;
pub use directory::{DirectoryGenerator, DynamicDirectory, GenericDirectoryFd, StaticDirectory};
pub use dynamic_bytes_file::{BytesSource, DynamicBytesFile};
pub use filesystem::{Filesystem, FilesystemOptions};
pub use inode::{Inode, LinkTarget, RenameTarget, downcast_inode};
pub use inode_attrs::InodeAttrs;
pub use ordered_children::OrderedChildren;
pub use symlink::Symlink;
