//! Errors reported by the ext filesystem reader.
//!
//! An [`Error`] says what went wrong in terms a caller can act on: the image
//! is corrupt (and where), it uses a feature this crate cannot read, the
//! underlying source failed, or the request itself names something that does
//! not exist or is of the wrong type. [`Error::errno`] gives the Linux errno a
//! VFS adapter returns for each kind.

use core::fmt;

use abi_linux::Errno;

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// The on-disk structure a checksum protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Structure {
    /// The superblock.
    Superblock,
    /// A block group descriptor.
    GroupDescriptor,
    /// An inode record.
    Inode,
    /// An extent tree node block.
    ExtentBlock,
    /// A directory leaf block (its dirent tail).
    DirectoryBlock,
    /// An htree index block.
    HtreeNode,
    /// An extended attribute block.
    XattrBlock,
}

/// What was found corrupt in an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Corruption {
    /// A superblock field is invalid.
    Superblock(&'static str),
    /// A group descriptor field is invalid.
    GroupDescriptor {
        /// The block group.
        group: u32,
        /// The problem.
        what: &'static str,
    },
    /// An inode record is invalid.
    Inode {
        /// The inode number.
        ino: u32,
        /// The problem.
        what: &'static str,
    },
    /// An extent tree is invalid.
    ExtentTree {
        /// The inode that owns the tree.
        ino: u32,
        /// The problem.
        what: &'static str,
    },
    /// An indirect block map is invalid.
    BlockMap {
        /// The inode that owns the map.
        ino: u32,
        /// The problem.
        what: &'static str,
    },
    /// A directory is invalid.
    Directory {
        /// The directory inode.
        ino: u32,
        /// The problem.
        what: &'static str,
    },
    /// Extended attributes are invalid.
    Xattr {
        /// The inode that owns them.
        ino: u32,
        /// The problem.
        what: &'static str,
    },
    /// A metadata checksum does not match.
    Checksum {
        /// The structure whose checksum failed.
        structure: Structure,
        /// The inode it belongs to, or 0 for filesystem-wide structures.
        ino: u32,
        /// The block number or group number it lives at.
        location: u64,
    },
    /// A block number or byte offset lies outside the image.
    OutOfBounds {
        /// The offending byte offset or block number.
        at: u64,
    },
}

/// An error of the ext filesystem reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The image is corrupt.
    Corrupt(Corruption),
    /// The image uses a feature this crate cannot read (its name).
    Incompatible(&'static str),
    /// The block source failed with this Linux errno.
    Io(Errno),
    /// A path component or inode does not exist.
    NotFound,
    /// A path component used as a directory is not one.
    NotADirectory,
    /// The operation needs a non-directory but got a directory.
    IsADirectory,
    /// The inode is not a symbolic link.
    NotASymlink,
    /// A name is longer than 255 bytes or a path longer than 4096.
    NameTooLong,
    /// Too many symbolic links were followed while resolving a path.
    SymlinkLoop,
    /// An argument is invalid (for example inode number 0).
    InvalidArgument,
    /// The requested extended attribute does not exist.
    NoData,
    /// The extended attribute namespace is not supported.
    NotSupported,
}

impl Error {
    /// Returns the Linux errno a VFS returns for this error.
    ///
    /// Corruption of any kind, including a checksum mismatch, is `EIO`;
    /// an incompatible feature is `EINVAL` (as a mount of such an image
    /// fails); a read of a symlink that is not one is `EINVAL` as
    /// readlink(2) returns.
    pub fn errno(self) -> Errno {
        match self {
            Error::Corrupt(_) => Errno::EIO,
            Error::Incompatible(_) | Error::InvalidArgument | Error::NotASymlink => Errno::EINVAL,
            Error::Io(e) => e,
            Error::NotFound => Errno::ENOENT,
            Error::NotADirectory => Errno::ENOTDIR,
            Error::IsADirectory => Errno::EISDIR,
            Error::NameTooLong => Errno::ENAMETOOLONG,
            Error::SymlinkLoop => Errno::ELOOP,
            Error::NoData => Errno::ENODATA,
            Error::NotSupported => Errno::EOPNOTSUPP,
        }
    }
}

impl From<Error> for Errno {
    fn from(e: Error) -> Errno {
        e.errno()
    }
}

impl From<Corruption> for Error {
    fn from(c: Corruption) -> Self {
        Error::Corrupt(c)
    }
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Structure::Superblock => "superblock",
            Structure::GroupDescriptor => "group descriptor",
            Structure::Inode => "inode",
            Structure::ExtentBlock => "extent block",
            Structure::DirectoryBlock => "directory block",
            Structure::HtreeNode => "htree node",
            Structure::XattrBlock => "xattr block",
        })
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Corruption::Superblock(what) => write!(f, "superblock: {what}"),
            Corruption::GroupDescriptor { group, what } => {
                write!(f, "group descriptor {group}: {what}")
            }
            Corruption::Inode { ino, what } => write!(f, "inode {ino}: {what}"),
            Corruption::ExtentTree { ino, what } => write!(f, "extent tree of inode {ino}: {what}"),
            Corruption::BlockMap { ino, what } => write!(f, "block map of inode {ino}: {what}"),
            Corruption::Directory { ino, what } => write!(f, "directory {ino}: {what}"),
            Corruption::Xattr { ino, what } => write!(f, "xattrs of inode {ino}: {what}"),
            Corruption::Checksum {
                structure,
                ino,
                location,
            } => write!(
                f,
                "{structure} checksum mismatch (inode {ino}, location {location})"
            ),
            Corruption::OutOfBounds { at } => write!(f, "reference outside the image: {at}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Corrupt(c) => write!(f, "corrupt image: {c}"),
            Error::Incompatible(feature) => write!(f, "unsupported feature: {feature}"),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::NotFound => f.write_str("no such file or directory"),
            Error::NotADirectory => f.write_str("not a directory"),
            Error::IsADirectory => f.write_str("is a directory"),
            Error::NotASymlink => f.write_str("not a symbolic link"),
            Error::NameTooLong => f.write_str("file name too long"),
            Error::SymlinkLoop => f.write_str("too many levels of symbolic links"),
            Error::InvalidArgument => f.write_str("invalid argument"),
            Error::NoData => f.write_str("no such attribute"),
            Error::NotSupported => f.write_str("operation not supported"),
        }
    }
}

impl core::error::Error for Error {}
