//! A read-only reader of ext2, ext3 and ext4 filesystem images.
//!
//! Open an image from any [`BlockSource`] (a byte vector, a file read with
//! `pread`, or a memory-mapped file), then look up paths, read inodes, file
//! data, directories, symlinks and extended attributes:
//!
//! ```
//! # fn demo(image: Vec<u8>) -> extfs::Result<()> {
//! use extfs::{Ext4, MountOptions};
//! let fs = Ext4::open(image, MountOptions::default())?;
//! let root = fs.inode(fs.lookup(b"/")?)?;
//! for entry in fs.read_dir(&root)? {
//!     let entry = entry?;
//!     let inode = fs.inode(entry.ino)?;
//!     let _ = (entry.name(), inode.size);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Reference model
//!
//! [`Ext4`] owns its source, the parsed superblock and the group
//! descriptors; it is immutable after opening and holds no reference-counted
//! objects. [`Inode`] values are owned copies of inode records, and
//! iterators such as [`ReadDir`] borrow the filesystem and the directory
//! inode.
//!
//! # Lock order
//!
//! There are no locks: all state is read-only after [`Ext4::open`], so the
//! filesystem is `Send + Sync` and may be shared freely between threads.
//!
//! # Untrusted images
//!
//! Every field read from the image is validated before use: arithmetic is
//! checked, slices are bounds-checked, allocations are bounded by the image
//! size or by fixed limits, and every walk (extent trees, indirect blocks,
//! htree levels, symlink chains) has a depth limit, so a corrupt image yields
//! an [`Error`] rather than a panic or a hang.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod blockmap;
mod bytes;
pub mod checksum;
mod dir;
mod error;
mod extent;
mod fs;
mod group;
pub mod hash;
mod htree;
mod inode;
#[cfg(feature = "std")]
#[expect(
    unsafe_code,
    reason = "mapping a file is unsafe; this is the crate's one unsafe module"
)]
mod mmap;
mod path;
mod source;
mod superblock;
pub mod vfs;
mod xattr;

pub use dir::{DirEntry, ReadDir};
pub use error::{Corruption, Error, Result, Structure};
pub use fs::{Ext4, MountOptions, StatFs};
pub use inode::{FileType, Inode, InodeNumber, ROOT_INO, Timestamp};
#[cfg(feature = "std")]
pub use mmap::MmapSource;
pub use source::BlockSource;
#[cfg(feature = "std")]
pub use source::FileSource;
pub use superblock::Superblock;
