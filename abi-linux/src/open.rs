//! Flags of `open(2)`, `openat2(2)` and the other `*at` path calls:
//! [`OpenFlags`], [`AtFlags`], [`ResolveFlags`] with [`OpenHow`],
//! [`RenameFlags`], [`XattrFlags`].

use bitflags::bitflags;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

bitflags! {
    /// The `O_*` flags of `open(2)`, with their x86_64 values.
    ///
    /// aarch64 numbers four of them differently (`O_DIRECTORY`,
    /// `O_NOFOLLOW`, `O_DIRECT`, `O_LARGEFILE`); these are the numbers the
    /// sentry, which runs x86_64 programs, sees. `O_RDONLY` is zero and so
    /// is not a flag: read the access mode with [`OpenFlags::access_mode`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct OpenFlags: u32 {
        /// `O_WRONLY`: open for writing only.
        const WRONLY = 0o1;
        /// `O_RDWR`: open for reading and writing.
        const RDWR = 0o2;
        /// `O_ACCMODE`: the mask of the access mode bits.
        const ACCMODE = 0o3;
        /// `O_CREAT`: create the file if it does not exist.
        const CREAT = 0o100;
        /// `O_EXCL`: with `O_CREAT`, fail with `EEXIST` if the file exists.
        const EXCL = 0o200;
        /// `O_NOCTTY`: do not make a terminal the controlling terminal.
        const NOCTTY = 0o400;
        /// `O_TRUNC`: truncate a regular file to length zero.
        const TRUNC = 0o1000;
        /// `O_APPEND`: every write appends.
        const APPEND = 0o2000;
        /// `O_NONBLOCK`: non-blocking I/O.
        const NONBLOCK = 0o4000;
        /// `O_DSYNC`: writes complete as synchronized data integrity I/O.
        const DSYNC = 0o10000;
        /// `O_ASYNC` (`FASYNC`): signal-driven I/O.
        const ASYNC = 0o20000;
        /// `O_DIRECT`: bypass the page cache.
        const DIRECT = 0o40000;
        /// `O_LARGEFILE`: allow 64-bit offsets (always set on 64-bit).
        const LARGEFILE = 0o100000;
        /// `O_DIRECTORY`: fail with `ENOTDIR` unless the path is a directory.
        const DIRECTORY = 0o200000;
        /// `O_NOFOLLOW`: fail with `ELOOP` if the last component is a symlink.
        const NOFOLLOW = 0o400000;
        /// `O_NOATIME`: do not update the access time.
        const NOATIME = 0o1000000;
        /// `O_CLOEXEC`: close the descriptor on `execve(2)`.
        const CLOEXEC = 0o2000000;
        /// `O_SYNC` (`__O_SYNC | O_DSYNC`): writes complete as synchronized
        /// file integrity I/O.
        const SYNC = 0o4010000;
        /// `O_PATH`: a descriptor usable only to name a location.
        const PATH = 0o10000000;
        /// `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`): create an unnamed
        /// file in the given directory.
        const TMPFILE = 0o20200000;
    }
}

/// The access mode of an open file, the `O_ACCMODE` bits of its flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessMode {
    /// `O_RDONLY`.
    ReadOnly,
    /// `O_WRONLY`.
    WriteOnly,
    /// `O_RDWR`.
    ReadWrite,
}

impl OpenFlags {
    /// Returns the access mode.
    ///
    /// The access-mode value 3 (`O_ACCMODE` itself) is reported as
    /// [`AccessMode::ReadWrite`]: Linux checks read and write permission
    /// for it at open, but the file is then neither readable nor
    /// writable, which [`OpenFlags::may_read`] and
    /// [`OpenFlags::may_write`] report.
    pub const fn access_mode(self) -> AccessMode {
        match self.bits() & Self::ACCMODE.bits() {
            0 => AccessMode::ReadOnly,
            1 => AccessMode::WriteOnly,
            _ => AccessMode::ReadWrite,
        }
    }

    /// Reports whether a file opened with these flags may be read
    /// (`O_RDONLY` or `O_RDWR`).
    pub const fn may_read(self) -> bool {
        matches!(self.bits() & Self::ACCMODE.bits(), 0 | 2)
    }

    /// Reports whether a file opened with these flags may be written
    /// (`O_WRONLY` or `O_RDWR`).
    pub const fn may_write(self) -> bool {
        matches!(self.bits() & Self::ACCMODE.bits(), 1 | 2)
    }
}

/// `AT_FDCWD`: the directory descriptor that means the current directory.
pub const AT_FDCWD: i32 = -100;

/// `PATH_MAX`: the longest path a system call accepts, NUL included.
pub const PATH_MAX: usize = 4096;

/// `XATTR_NAME_MAX`: the longest extended-attribute name.
pub const XATTR_NAME_MAX: usize = 255;

/// `XATTR_SIZE_MAX`: the largest extended-attribute value or list.
pub const XATTR_SIZE_MAX: u64 = 65536;

bitflags! {
    /// The `AT_*` flags of the `*at(2)` calls and `statx(2)`.
    ///
    /// Some values are shared by flags of different calls (`AT_EACCESS`,
    /// `AT_REMOVEDIR`); the call decides which is meant.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct AtFlags: u32 {
        /// `AT_SYMLINK_NOFOLLOW`: do not follow a trailing symlink.
        const SYMLINK_NOFOLLOW = 0x100;
        /// `AT_EACCESS`: `faccessat(2)` checks with the effective ids.
        const EACCESS = 0x200;
        /// `AT_REMOVEDIR`: `unlinkat(2)` removes a directory.
        const REMOVEDIR = 0x200;
        /// `AT_SYMLINK_FOLLOW`: `linkat(2)` follows a trailing symlink.
        const SYMLINK_FOLLOW = 0x400;
        /// `AT_NO_AUTOMOUNT`: do not trigger an automount.
        const NO_AUTOMOUNT = 0x800;
        /// `AT_EMPTY_PATH`: an empty path names the directory descriptor.
        const EMPTY_PATH = 0x1000;
        /// `AT_STATX_SYNC_TYPE`: the mask of the `statx(2)` sync type.
        const STATX_SYNC_TYPE = 0x6000;
        /// `AT_STATX_FORCE_SYNC`: `statx(2)` synchronizes with the server.
        const STATX_FORCE_SYNC = 0x2000;
        /// `AT_STATX_DONT_SYNC`: `statx(2)` uses cached attributes.
        const STATX_DONT_SYNC = 0x4000;
        /// `AT_RECURSIVE`: apply to the whole subtree (`open_tree(2)`).
        const RECURSIVE = 0x8000;
    }
}

bitflags! {
    /// The `RESOLVE_*` flags of `openat2(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct ResolveFlags: u64 {
        /// `RESOLVE_NO_XDEV`: do not cross a mount point.
        const NO_XDEV = 0x01;
        /// `RESOLVE_NO_MAGICLINKS`: do not follow magic links.
        const NO_MAGICLINKS = 0x02;
        /// `RESOLVE_NO_SYMLINKS`: do not follow any symlink.
        const NO_SYMLINKS = 0x04;
        /// `RESOLVE_BENEATH`: fail with `EXDEV` on leaving the start
        /// directory.
        const BENEATH = 0x08;
        /// `RESOLVE_IN_ROOT`: treat the start directory as the root.
        const IN_ROOT = 0x10;
        /// `RESOLVE_CACHED`: fail with `EAGAIN` unless the lookup can be
        /// served from cache.
        const CACHED = 0x20;
    }
}

/// `struct open_how`, the argument of `openat2(2)`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct OpenHow {
    /// The `O_*` flags (see [`OpenFlags`]).
    pub flags: u64,
    /// The mode of a created file.
    pub mode: u64,
    /// The `RESOLVE_*` flags (see [`ResolveFlags`]).
    pub resolve: u64,
}

bitflags! {
    /// The `RENAME_*` flags of `renameat2(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct RenameFlags: u32 {
        /// `RENAME_NOREPLACE`: fail with `EEXIST` if the target exists.
        const NOREPLACE = 1;
        /// `RENAME_EXCHANGE`: atomically exchange source and target.
        const EXCHANGE = 2;
        /// `RENAME_WHITEOUT`: leave a whiteout at the source.
        const WHITEOUT = 4;
    }
}

bitflags! {
    /// The flags of `setxattr(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct XattrFlags: u32 {
        /// `XATTR_CREATE`: fail with `EEXIST` if the attribute exists.
        const CREATE = 1;
        /// `XATTR_REPLACE`: fail with `ENODATA` unless the attribute exists.
        const REPLACE = 2;
    }
}

#[cfg(test)]
mod tests {
    use super::{AccessMode, OpenFlags};

    #[test]
    fn access_mode_reads_the_low_bits() {
        assert_eq!(OpenFlags::empty().access_mode(), AccessMode::ReadOnly);
        assert_eq!(
            (OpenFlags::WRONLY | OpenFlags::CREAT).access_mode(),
            AccessMode::WriteOnly
        );
        assert_eq!(OpenFlags::RDWR.access_mode(), AccessMode::ReadWrite);
    }

    #[test]
    fn access_mode_three_is_neither_readable_nor_writable() {
        let f = OpenFlags::ACCMODE;
        assert!(!f.may_read());
        assert!(!f.may_write());
        assert!(OpenFlags::RDWR.may_read() && OpenFlags::RDWR.may_write());
    }
}
