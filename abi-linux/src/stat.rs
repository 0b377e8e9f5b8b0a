//! File status: `statx(2)` ([`Statx`], [`StatxMask`], [`StatxAttributes`]),
//! `stat(2)` ([`Stat`], per architecture) and `statfs(2)` ([`Statfs`]).

use bitflags::bitflags;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

bitflags! {
    /// The `STATX_*` mask bits: which fields of [`Statx`] are requested
    /// (`statx(2)`'s `mask` argument) or were filled in (`stx_mask`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct StatxMask: u32 {
        /// `STATX_TYPE`: the type bits of `stx_mode`.
        const TYPE = 0x0001;
        /// `STATX_MODE`: the permission bits of `stx_mode`.
        const MODE = 0x0002;
        /// `STATX_NLINK`: `stx_nlink`.
        const NLINK = 0x0004;
        /// `STATX_UID`: `stx_uid`.
        const UID = 0x0008;
        /// `STATX_GID`: `stx_gid`.
        const GID = 0x0010;
        /// `STATX_ATIME`: `stx_atime`.
        const ATIME = 0x0020;
        /// `STATX_MTIME`: `stx_mtime`.
        const MTIME = 0x0040;
        /// `STATX_CTIME`: `stx_ctime`.
        const CTIME = 0x0080;
        /// `STATX_INO`: `stx_ino`.
        const INO = 0x0100;
        /// `STATX_SIZE`: `stx_size`.
        const SIZE = 0x0200;
        /// `STATX_BLOCKS`: `stx_blocks`.
        const BLOCKS = 0x0400;
        /// `STATX_BASIC_STATS`: everything `stat(2)` returns.
        const BASIC_STATS = 0x07ff;
        /// `STATX_BTIME`: `stx_btime`.
        const BTIME = 0x0800;
        /// `STATX_ALL`: the basic stats and the birth time (deprecated).
        const ALL = 0x0fff;
        /// `STATX_MNT_ID`: `stx_mnt_id`.
        const MNT_ID = 0x1000;
        /// `STATX_DIOALIGN`: `stx_dio_mem_align` and `stx_dio_offset_align`.
        const DIOALIGN = 0x2000;
        /// `STATX_MNT_ID_UNIQUE`: the unique 64-bit mount id in `stx_mnt_id`.
        const MNT_ID_UNIQUE = 0x4000;
        /// `STATX_SUBVOL`: `stx_subvol`.
        const SUBVOL = 0x8000;
        /// `STATX_WRITE_ATOMIC`: the `stx_atomic_write_*` fields.
        const WRITE_ATOMIC = 0x10000;
        /// `STATX_DIO_READ_ALIGN`: `stx_dio_read_offset_align`.
        const DIO_READ_ALIGN = 0x20000;
        /// `STATX__RESERVED`: reserved for extending the structure; a
        /// request with it fails with `EINVAL`.
        const RESERVED = 0x8000_0000;
    }
}

bitflags! {
    /// The `STATX_ATTR_*` bits of `stx_attributes` and
    /// `stx_attributes_mask`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct StatxAttributes: u64 {
        /// `STATX_ATTR_COMPRESSED`: the file is compressed by the filesystem.
        const COMPRESSED = 0x0000_0004;
        /// `STATX_ATTR_IMMUTABLE`: the file cannot be modified.
        const IMMUTABLE = 0x0000_0010;
        /// `STATX_ATTR_APPEND`: the file can only be appended to.
        const APPEND = 0x0000_0020;
        /// `STATX_ATTR_NODUMP`: the file is not a backup candidate.
        const NODUMP = 0x0000_0040;
        /// `STATX_ATTR_ENCRYPTED`: the file needs a key to be read.
        const ENCRYPTED = 0x0000_0800;
        /// `STATX_ATTR_AUTOMOUNT`: the directory is an automount trigger.
        const AUTOMOUNT = 0x0000_1000;
        /// `STATX_ATTR_MOUNT_ROOT`: the file is the root of a mount.
        const MOUNT_ROOT = 0x0000_2000;
        /// `STATX_ATTR_VERITY`: the file has fs-verity enabled.
        const VERITY = 0x0010_0000;
        /// `STATX_ATTR_DAX`: the file is in the DAX state.
        const DAX = 0x0020_0000;
        /// `STATX_ATTR_WRITE_ATOMIC`: the file supports untorn writes.
        const WRITE_ATOMIC = 0x0040_0000;
    }
}

/// `struct statx_timestamp`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct StatxTimestamp {
    /// Seconds since the Epoch.
    pub tv_sec: i64,
    /// Nanoseconds (0 to 999 999 999).
    pub tv_nsec: u32,
    /// Reserved, zero.
    pub _reserved: i32,
}

/// `struct statx`, the result of `statx(2)` (256 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Statx {
    /// The fields filled in ([`StatxMask`] bits).
    pub stx_mask: u32,
    /// The preferred I/O block size.
    pub stx_blksize: u32,
    /// File attributes ([`StatxAttributes`] bits).
    pub stx_attributes: u64,
    /// The number of hard links.
    pub stx_nlink: u32,
    /// The owner's user id.
    pub stx_uid: u32,
    /// The owner's group id.
    pub stx_gid: u32,
    /// The file type and permissions.
    pub stx_mode: u16,
    /// Padding, zero.
    pub _spare0: u16,
    /// The inode number.
    pub stx_ino: u64,
    /// The size in bytes.
    pub stx_size: u64,
    /// The number of 512-byte blocks allocated.
    pub stx_blocks: u64,
    /// The attributes the filesystem supports.
    pub stx_attributes_mask: u64,
    /// The last access time.
    pub stx_atime: StatxTimestamp,
    /// The creation time.
    pub stx_btime: StatxTimestamp,
    /// The last status change time.
    pub stx_ctime: StatxTimestamp,
    /// The last modification time.
    pub stx_mtime: StatxTimestamp,
    /// The major number of the device this file represents.
    pub stx_rdev_major: u32,
    /// The minor number of the device this file represents.
    pub stx_rdev_minor: u32,
    /// The major number of the device the file lives on.
    pub stx_dev_major: u32,
    /// The minor number of the device the file lives on.
    pub stx_dev_minor: u32,
    /// The mount id.
    pub stx_mnt_id: u64,
    /// The memory alignment direct I/O requires.
    pub stx_dio_mem_align: u32,
    /// The file-offset alignment direct I/O requires.
    pub stx_dio_offset_align: u32,
    /// The subvolume id.
    pub stx_subvol: u64,
    /// The minimum size of an untorn write.
    pub stx_atomic_write_unit_min: u32,
    /// The maximum size of an untorn write.
    pub stx_atomic_write_unit_max: u32,
    /// The maximum number of segments of an untorn write.
    pub stx_atomic_write_segments_max: u32,
    /// The file-offset alignment direct-I/O reads require.
    pub stx_dio_read_offset_align: u32,
    /// The optimised maximum size of an untorn write.
    pub stx_atomic_write_unit_max_opt: u32,
    /// Reserved, zero.
    pub _spare2: u32,
    /// Reserved, zero.
    pub _spare3: [u64; 8],
}

/// `struct stat` as x86_64 Linux lays it out for `stat(2)` (144 bytes).
pub mod x86_64 {
    use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

    /// `struct stat` of x86_64 (`arch/x86/include/uapi/asm/stat.h`).
    #[derive(
        Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
    )]
    #[repr(C)]
    pub struct Stat {
        /// The device the file lives on.
        pub st_dev: u64,
        /// The inode number.
        pub st_ino: u64,
        /// The number of hard links.
        pub st_nlink: u64,
        /// The file type and permissions.
        pub st_mode: u32,
        /// The owner's user id.
        pub st_uid: u32,
        /// The owner's group id.
        pub st_gid: u32,
        /// Padding, zero.
        pub _pad0: u32,
        /// The device this file represents.
        pub st_rdev: u64,
        /// The size in bytes.
        pub st_size: i64,
        /// The preferred I/O block size.
        pub st_blksize: i64,
        /// The number of 512-byte blocks allocated.
        pub st_blocks: i64,
        /// The last access time, seconds.
        pub st_atime: i64,
        /// The last access time, nanoseconds.
        pub st_atime_nsec: i64,
        /// The last modification time, seconds.
        pub st_mtime: i64,
        /// The last modification time, nanoseconds.
        pub st_mtime_nsec: i64,
        /// The last status change time, seconds.
        pub st_ctime: i64,
        /// The last status change time, nanoseconds.
        pub st_ctime_nsec: i64,
        /// Reserved, zero.
        pub _unused: [i64; 3],
    }
}

/// `struct stat` as aarch64 Linux lays it out for `stat(2)` (128 bytes).
pub mod aarch64 {
    use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

    /// `struct stat` of aarch64 (`include/uapi/asm-generic/stat.h`).
    #[derive(
        Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
    )]
    #[repr(C)]
    pub struct Stat {
        /// The device the file lives on.
        pub st_dev: u64,
        /// The inode number.
        pub st_ino: u64,
        /// The file type and permissions.
        pub st_mode: u32,
        /// The number of hard links.
        pub st_nlink: u32,
        /// The owner's user id.
        pub st_uid: u32,
        /// The owner's group id.
        pub st_gid: u32,
        /// The device this file represents.
        pub st_rdev: u64,
        /// Padding, zero.
        pub _pad1: u64,
        /// The size in bytes.
        pub st_size: i64,
        /// The preferred I/O block size.
        pub st_blksize: i32,
        /// Padding, zero.
        pub _pad2: i32,
        /// The number of 512-byte blocks allocated.
        pub st_blocks: i64,
        /// The last access time, seconds.
        pub st_atime: i64,
        /// The last access time, nanoseconds.
        pub st_atime_nsec: u64,
        /// The last modification time, seconds.
        pub st_mtime: i64,
        /// The last modification time, nanoseconds.
        pub st_mtime_nsec: u64,
        /// The last status change time, seconds.
        pub st_ctime: i64,
        /// The last status change time, nanoseconds.
        pub st_ctime_nsec: u64,
        /// Reserved, zero.
        pub _unused4: u32,
        /// Reserved, zero.
        pub _unused5: u32,
    }
}

#[cfg(target_arch = "aarch64")]
pub use self::aarch64::Stat;
#[cfg(not(target_arch = "aarch64"))]
pub use self::x86_64::Stat;

/// `struct statfs` of the 64-bit ABIs, the result of `statfs(2)` (120
/// bytes; x86_64 and aarch64 agree).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Statfs {
    /// The filesystem magic number.
    pub f_type: i64,
    /// The optimal transfer block size.
    pub f_bsize: i64,
    /// The total number of blocks, in units of `f_frsize`.
    pub f_blocks: u64,
    /// The number of free blocks.
    pub f_bfree: u64,
    /// The number of blocks free to unprivileged users.
    pub f_bavail: u64,
    /// The total number of inodes.
    pub f_files: u64,
    /// The number of free inodes.
    pub f_ffree: u64,
    /// The filesystem id.
    pub f_fsid: [i32; 2],
    /// The maximum length of a file name.
    pub f_namelen: i64,
    /// The fragment size.
    pub f_frsize: i64,
    /// The mount flags (`ST_*`).
    pub f_flags: i64,
    /// Reserved, zero.
    pub f_spare: [i64; 4],
}
