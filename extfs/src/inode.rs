//! Inode records: file type, ownership, size, timestamps and where the data
//! lives.
//!
//! [`Inode`] is a parsed copy of one on-disk inode record; it owns the
//! 60-byte block area (extent root, block map or inline data) and the
//! in-inode extended attribute area, so reading a file needs no second look
//! at the inode table.

use alloc::vec::Vec;

use crate::bytes::{le16, le32};
use crate::checksum::crc32c;
use crate::error::{Corruption, Error, Result, Structure};
use crate::superblock::{INCOMPAT_LARGEDIR, RO_COMPAT_HUGE_FILE, Superblock};

/// An inode number (1-based; 2 is the root directory).
pub type InodeNumber = u32;

/// The root directory's inode number.
pub const ROOT_INO: InodeNumber = 2;

/// Inode flag: the contents (or names, for a directory) are encrypted.
pub const FLAG_ENCRYPT: u32 = 0x0000_0800;
/// Inode flag: the data is mapped by an extent tree.
pub const FLAG_EXTENTS: u32 = 0x0008_0000;
/// Inode flag: the directory is hash-indexed.
pub const FLAG_INDEX: u32 = 0x0000_1000;
/// Inode flag: `i_blocks` counts filesystem blocks, not 512-byte sectors.
pub const FLAG_HUGE_FILE: u32 = 0x0004_0000;
/// Inode flag: the inode stores a large extended attribute value.
pub const FLAG_EA_INODE: u32 = 0x0020_0000;
/// Inode flag: the data lives in the inode.
pub const FLAG_INLINE_DATA: u32 = 0x1000_0000;
/// Inode flag: the directory's names are case-folded.
pub const FLAG_CASEFOLD: u32 = 0x4000_0000;

/// The type of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A Unix domain socket.
    Socket,
}

impl FileType {
    /// Decodes the `S_IFMT` bits of a mode.
    pub fn from_mode(mode: u16) -> Option<Self> {
        Some(match mode & 0o170000 {
            0o100000 => FileType::Regular,
            0o040000 => FileType::Directory,
            0o120000 => FileType::Symlink,
            0o020000 => FileType::CharDevice,
            0o060000 => FileType::BlockDevice,
            0o010000 => FileType::Fifo,
            0o140000 => FileType::Socket,
            _ => return None,
        })
    }

    /// Decodes a directory entry's file type byte.
    pub fn from_dirent(t: u8) -> Option<Self> {
        Some(match t {
            1 => FileType::Regular,
            2 => FileType::Directory,
            3 => FileType::CharDevice,
            4 => FileType::BlockDevice,
            5 => FileType::Fifo,
            6 => FileType::Socket,
            7 => FileType::Symlink,
            _ => return None,
        })
    }

    /// Returns the `DT_*` value Linux reports in `getdents64`.
    pub fn dt(self) -> u8 {
        match self {
            FileType::Fifo => 1,
            FileType::CharDevice => 2,
            FileType::Directory => 4,
            FileType::BlockDevice => 6,
            FileType::Regular => 8,
            FileType::Symlink => 10,
            FileType::Socket => 12,
        }
    }
}

/// A timestamp with nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub sec: i64,
    /// Nanoseconds within the second.
    pub nsec: u32,
}

/// A parsed inode.
#[derive(Clone, Debug)]
pub struct Inode {
    /// The inode number.
    pub ino: InodeNumber,
    /// The mode: type and permission bits.
    pub mode: u16,
    /// The owner (32 bits, with the high half).
    pub uid: u32,
    /// The group (32 bits, with the high half).
    pub gid: u32,
    /// The size in bytes.
    pub size: u64,
    /// The hard link count.
    pub nlink: u16,
    /// Last access time.
    pub atime: Timestamp,
    /// Last modification time.
    pub mtime: Timestamp,
    /// Last status change time.
    pub ctime: Timestamp,
    /// Creation time, when the inode is large enough to record it.
    pub crtime: Option<Timestamp>,
    /// Inode flags (`EXT4_*_FL`).
    pub flags: u32,
    /// Generation number (for NFS file handles).
    pub generation: u32,
    /// Allocated space in 512-byte units.
    pub blocks: u64,
    /// The extended attribute block, or 0.
    pub file_acl: u64,
    /// The 60-byte block area: extent root, block map or inline data.
    pub block: [u8; 60],
    /// The in-inode extended attribute area (after `i_extra_isize`).
    pub(crate) xattr_area: Vec<u8>,
    /// The checksum seed of this inode's metadata (extent, directory blocks).
    pub(crate) csum_seed: u32,
}

impl Inode {
    /// Parses an on-disk inode record of `raw.len()` bytes (the
    /// superblock's inode size).
    ///
    /// `fs_seed` is the filesystem's checksum seed and `verify` asks for
    /// the inode checksum to be checked.
    pub(crate) fn parse(
        ino: InodeNumber,
        raw: &[u8],
        sb: &Superblock,
        verify: bool,
    ) -> Result<Inode> {
        let block_size = sb.block_size;
        let huge_file = sb.feature_ro_compat & RO_COMPAT_HUGE_FILE != 0;
        let fs_seed = sb.csum_seed;
        let bad = |what| Error::Corrupt(Corruption::Inode { ino, what });
        if raw.len() < 128 {
            return Err(bad("short inode record"));
        }
        let extra_isize = if raw.len() > 128 {
            let e = usize::from(le16(raw, 0x80));
            if 128 + e > raw.len() || e % 4 != 0 {
                return Err(bad("bad i_extra_isize"));
            }
            e
        } else {
            0
        };
        let fits = |off: usize, len: usize| 128 + extra_isize >= off + len;
        let generation = le32(raw, 0x64);
        let csum_seed = crc32c(
            crc32c(fs_seed, &ino.to_le_bytes()),
            &generation.to_le_bytes(),
        );
        if verify {
            let lo = u32::from(le16(raw, 0x7C));
            let has_hi = fits(0x82, 2);
            let stored = if has_hi {
                lo | (u32::from(le16(raw, 0x82)) << 16)
            } else {
                lo
            };
            let mut c = crc32c(csum_seed, &raw[..0x7C]);
            c = crc32c(c, &[0, 0]);
            if has_hi {
                c = crc32c(c, &raw[0x7E..0x82]);
                c = crc32c(c, &[0, 0]);
                c = crc32c(c, &raw[0x84..]);
            } else {
                c = crc32c(c, &raw[0x7E..]);
            }
            let computed = if has_hi { c } else { c & 0xFFFF };
            if computed != stored {
                return Err(Error::Corrupt(Corruption::Checksum {
                    structure: Structure::Inode,
                    ino,
                    location: u64::from(ino),
                }));
            }
        }
        let flags = le32(raw, 0x20);
        let time = |base: usize, extra: usize| {
            let sec = i64::from(le32(raw, base).cast_signed());
            if fits(extra, 4) {
                let e = le32(raw, extra);
                Timestamp {
                    sec: sec + (i64::from(e & 3) << 32),
                    nsec: e >> 2,
                }
            } else {
                Timestamp { sec, nsec: 0 }
            }
        };
        let crtime = fits(0x90, 4).then(|| time(0x90, 0x94));
        let blocks_raw = u64::from(le32(raw, 0x1C))
            | if huge_file {
                u64::from(le16(raw, 0x74)) << 32
            } else {
                0
            };
        let blocks = if huge_file && flags & FLAG_HUGE_FILE != 0 {
            blocks_raw.saturating_mul(u64::from(block_size / 512))
        } else {
            blocks_raw
        };
        let mode = le16(raw, 0x0);
        // The high size word was the directory ACL in old revisions; Linux
        // uses it only for regular files, or everywhere with `large_dir`.
        let size_hi = if mode & 0o170000 == 0o100000 || sb.feature_incompat & INCOMPAT_LARGEDIR != 0
        {
            u64::from(le32(raw, 0x6C)) << 32
        } else {
            0
        };
        let mut block = [0u8; 60];
        block.copy_from_slice(&raw[0x28..0x64]);
        Ok(Inode {
            ino,
            mode,
            uid: u32::from(le16(raw, 0x2)) | (u32::from(le16(raw, 0x78)) << 16),
            gid: u32::from(le16(raw, 0x18)) | (u32::from(le16(raw, 0x7A)) << 16),
            size: u64::from(le32(raw, 0x4)) | size_hi,
            nlink: le16(raw, 0x1A),
            atime: time(0x8, 0x8C),
            ctime: time(0xC, 0x84),
            mtime: time(0x10, 0x88),
            crtime,
            flags,
            generation,
            blocks,
            file_acl: u64::from(le32(raw, 0x68)) | (u64::from(le16(raw, 0x76)) << 32),
            block,
            xattr_area: raw[128 + extra_isize..].to_vec(),
            csum_seed,
        })
    }

    /// Returns the file type, or `None` for an invalid mode.
    pub fn file_type(&self) -> Option<FileType> {
        FileType::from_mode(self.mode)
    }

    /// Whether this inode is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == Some(FileType::Directory)
    }

    /// Whether the data lives inside the inode (`inline_data`).
    pub fn has_inline_data(&self) -> bool {
        self.flags & FLAG_INLINE_DATA != 0
    }

    /// Whether the contents or names are encrypted (`fscrypt`).
    pub fn is_encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPT != 0
    }

    /// Whether the data is mapped by an extent tree.
    pub fn has_extents(&self) -> bool {
        self.flags & FLAG_EXTENTS != 0
    }

    /// The device number of a character or block device, as
    /// `(major, minor)`, in either the old or the new encoding.
    pub fn rdev(&self) -> Option<(u32, u32)> {
        match self.file_type()? {
            FileType::CharDevice | FileType::BlockDevice => {}
            _ => return None,
        }
        let old = le32(&self.block, 0);
        if old != 0 {
            Some(((old >> 8) & 0xFF, old & 0xFF))
        } else {
            let new = le32(&self.block, 4);
            Some(((new & 0xFFF00) >> 8, (new & 0xFF) | ((new >> 12) & 0xFFF00)))
        }
    }
}
