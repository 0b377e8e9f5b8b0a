//! `hostfs`: host file descriptors imported as [`vfs_core`] file
//! descriptions, after gVisor's `fsimpl/host`. This is how a sandbox's
//! standard input, output and error, and the sockets, pipes and files
//! donated to it, become files the sandboxed program can use.
//!
//! [`HostFilesystem::new_mount`] creates the filesystem (a kernfs filesystem with
//! an anonymous device number) and its disconnected mount; [`import_fd`]
//! wraps one host descriptor in an inode on it and opens a description.
//!
//! - Allowed host types: regular files (which must be seekable), FIFOs,
//!   character devices and Unix domain sockets; anything else is `EPERM`.
//! - Descriptors the host can poll are made non-blocking and added to one
//!   process-wide epoll notifier thread, which feeds the
//!   inodes' waiter queues; `EAGAIN` means "would block".
//! - Seekable files share the host descriptor's offset (`read`/`write`/
//!   `lseek` on the host, `pread`/`pwrite` at explicit offsets); `stat` uses `statx` (falling back to `fstat`) with the
//!   sandbox's inode and device numbers; `set_stat` changes mode, size and
//!   times only.
//! - Regular files can be memory-mapped: translations point at the host
//!   descriptor ([`HostMmapFile`]).
//! - Terminals answer the termios, window-size and job-control `ioctl`s
//!   ([`tty`]), job control going through a [`JobControl`] hook.
//! - Locks are kept in the sandbox (kernfs's per-inode lock state), never
//!   forwarded to the host.
//!
//! # Reference model
//!
//! A description holds the disconnected mount (which holds the
//! filesystem) and its dentry, which holds the [`HostInode`]; the inode
//! holds the [`HostFd`], which closes the host descriptor exactly once
//! when the last holder (inode, memory-map file, notifier registration)
//! is gone. Inodes, dentries, descriptions and host descriptors all
//! register with the `refs` leak checker.
//!
//! # Lock order
//!
//! description offset mutex → host system call; terminal termios mutex →
//! job-control hook; inode mappings mutex → address-space invalidation;
//! notifier table mutex (leaf; queues are notified after it is released);
//! waiter queue locks (leaves).

#![deny(missing_docs)]

mod file;
mod filesystem;
mod host_fd;
mod inode;
mod mmap;
mod notifier;
pub mod tty;

pub use file::HostFile;
pub use filesystem::{FS_TYPE, HostFilesystem, ImportOptions, import_fd};
pub use host_fd::HostFd;
pub use inode::{HostInode, SUPPORTED_FLAGS};
pub use mmap::HostMmapFile;
pub use notifier::HostWatch;
pub use tty::JobControl;
