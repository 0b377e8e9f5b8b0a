//! `vfs-core`: a virtual filesystem with the semantics of gVisor's VFS2,
//! for the sentry and for anyone who needs Linux file semantics without a
//! kernel (a hobby kernel, a WASI runtime, a test harness).
//!
//! `no_std` + `alloc`; no unsafe code.
//!
//! # Architecture
//!
//! [`VirtualFilesystem`] owns the filesystem-type and device registries and
//! the mount table, and offers the syscall-level operations (`open_at`,
//! `mkdir_at`, `rename_at`, `stat_at`, `mount`, `umount`, ...). Each takes a
//! [`Context`] (credentials, clock, limits, blocking) and a
//! [`PathOperation`] (root, starting point, path, whether to follow a final
//! symlink, openat2 restrictions).
//!
//! Filesystems plug in through three traits, each with defaults that return
//! the errno Linux returns for an unsupported operation:
//! [`FilesystemImpl`] (path operations on a [`ResolvingPath`]),
//! [`DentryImpl`] (reference counting of the filesystem's dentries) and
//! [`FileDescriptionImpl`] (operations on an open file). The generic
//! objects, [`Filesystem`], [`Dentry`], [`Mount`], [`VirtualDentry`] and
//! [`FileDescription`], carry the state every filesystem shares.
//!
//! Path resolution is performed by the filesystems, driven by
//! [`ResolvingPath`], which enforces `..`, mount crossing, the symlink
//! limit, magic links, trailing slashes and the openat2 `RESOLVE_*` rules
//! for all of them and restarts the walk in another filesystem when it
//! leaves one.
//!
//! # Reference model
//!
//! - A [`Mount`] holds its [`Filesystem`] and root dentry; while attached
//!   it holds its parent mount and mount-point dentry, and its parent holds
//!   a tree reference on it.
//! - A [`FileDescription`] holds its mount and its dentry.
//! - Dentries do not hold their filesystem; how a filesystem counts its
//!   dentries is its own business ([`DentryImpl`]).
//! - Every counted object is held through a [`Handle`] (`FilesystemRef`,
//!   `MountRef`, `DentryRef`, `FileRef`): clone takes a reference,
//!   [`Handle::release`] gives it back with a context, drop gives it back
//!   with [`context::background`].
//! - Filesystems, mounts and file descriptions register with the `refs`
//!   crate's leak checker.
//!
//! # Lock order
//!
//! VFS mount lock → mount state → mount table → dentry state word (atomic)
//! → filesystem locks (taken by filesystems inside their operations) →
//! file-lock tables → waiter queues. See [`vfs`] and [`dentry`].
//!
//! # Examples
//!
//! The crate's tests contain a complete in-memory filesystem; kernfs's
//! `memfs` is the production one. Resolving a path with a mounted
//! filesystem looks like this:
//!
//! ```ignore
//! let vfs = VirtualFilesystem::new();
//! vfs.register_filesystem_type(Arc::new(MyFsType))?;
//! let ns = vfs.new_mount_namespace(&ctx, b"", "myfs", &MountOptions::default())?;
//! let root = ns.root();
//! let pop = PathOperation::new(&root, &root, b"/etc/passwd");
//! let stat = vfs.stat_at(&ctx, &pop, StatOptions::default())?;
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod context;
pub mod credentials;
pub mod dentry;
pub mod device;
pub mod epoll;
pub mod file_description;
pub mod file_description_util;
pub mod filesystem;
pub mod handle;
pub mod inotify;
pub mod io;
pub mod lock;
pub mod memmap;
pub mod mount;
pub mod opath;
pub mod options;
pub mod path;
pub mod permissions;
pub mod range_set;
pub mod resolving_path;
pub mod vfs;
pub mod waiter;

pub use context::{Context, ProcessLockOwner, SimpleContext};
pub use credentials::{Credentials, Gid, Uid};
pub use dentry::{DeleteGuard, Dentry, DentryImpl, DentryRef, RenameGuard};
pub use device::{Device, DeviceKind};
pub use file_description::{
    Dirent, DirentSink, DirentVec, FileDescription, FileDescriptionImpl, FileDescriptionOptions,
    FileRef, Getdents64Buffer,
};
pub use filesystem::{
    Filesystem, FilesystemImpl, FilesystemRef, FilesystemType, FilesystemTypeFlags,
    GetFilesystemOptions, check_rename_names,
};
pub use handle::{Handle, RefCounted};
pub use mount::{Mount, MountNamespace, MountOptionFlags, MountRef, VirtualDentry};
pub use options::*;
pub use path::Path;
pub use permissions::{AccessTypes, FileOwner};
pub use resolving_path::{PathError, PathOperation, PathResult, ResolvingPath};
pub use vfs::{MountOptions, PathNameError, VirtualFilesystem};
