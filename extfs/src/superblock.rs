//! The ext2/3/4 superblock: geometry, features and the checksum seed.
//!
//! The superblock lives at byte 1024 of the image and is 1024 bytes long.
//! [`Superblock::parse`] validates every field later arithmetic depends on,
//! so the rest of the crate can trust the geometry it reports.

use crate::bytes::{byte, le16, le32};
use crate::checksum::crc32c;
use crate::error::{Corruption, Error, Result, Structure};

/// Byte offset of the superblock in the image.
pub const SUPERBLOCK_OFFSET: u64 = 1024;
/// Size of the on-disk superblock.
pub const SUPERBLOCK_SIZE: usize = 1024;

const MAGIC: u16 = 0xEF53;

/// `COMPAT` feature: the filesystem has a journal.
pub const COMPAT_HAS_JOURNAL: u32 = 0x4;
/// `COMPAT` feature: the filesystem has a directory index.
pub const COMPAT_DIR_INDEX: u32 = 0x20;
/// `COMPAT` feature: `s_backup_bgs` names the only superblock backups.
pub const COMPAT_SPARSE_SUPER2: u32 = 0x200;

/// `RO_COMPAT` feature: superblock backups only in groups 0, 1 and powers of 3, 5, 7.
pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
/// `RO_COMPAT` feature: `i_blocks` may be in filesystem blocks.
pub const RO_COMPAT_HUGE_FILE: u32 = 0x8;
/// `RO_COMPAT` feature: group descriptors carry a CRC16.
pub const RO_COMPAT_GDT_CSUM: u32 = 0x10;
/// `RO_COMPAT` feature: blocks are allocated in clusters.
pub const RO_COMPAT_BIGALLOC: u32 = 0x200;
/// `RO_COMPAT` feature: metadata carries CRC32C checksums.
pub const RO_COMPAT_METADATA_CSUM: u32 = 0x400;

/// `INCOMPAT` feature: directory entries record the file type.
pub const INCOMPAT_FILETYPE: u32 = 0x2;
/// `INCOMPAT` feature: group descriptors are spread over meta block groups.
pub const INCOMPAT_META_BG: u32 = 0x10;
/// `INCOMPAT` feature: files map their blocks with extent trees.
pub const INCOMPAT_EXTENTS: u32 = 0x40;
/// `INCOMPAT` feature: 64-bit block numbers and larger group descriptors.
pub const INCOMPAT_64BIT: u32 = 0x80;
/// `INCOMPAT` feature: large xattr values live in their own inodes.
pub const INCOMPAT_EA_INODE: u32 = 0x400;
/// `INCOMPAT` feature: the checksum seed is stored in the superblock.
pub const INCOMPAT_CSUM_SEED: u32 = 0x2000;
/// `INCOMPAT` feature: htree directories may have three levels.
pub const INCOMPAT_LARGEDIR: u32 = 0x4000;
/// `INCOMPAT` feature: small files and directories live in the inode.
pub const INCOMPAT_INLINE_DATA: u32 = 0x8000;

/// `INCOMPAT` features this crate reads, with their names.
const INCOMPAT_SUPPORTED: &[(u32, &str)] = &[
    (INCOMPAT_FILETYPE, "filetype"),
    (0x4, "needs_recovery"),
    (INCOMPAT_META_BG, "meta_bg"),
    (INCOMPAT_EXTENTS, "extent"),
    (INCOMPAT_64BIT, "64bit"),
    (0x100, "mmp"),
    (0x200, "flex_bg"),
    (INCOMPAT_EA_INODE, "ea_inode"),
    (INCOMPAT_CSUM_SEED, "metadata_csum_seed"),
    (INCOMPAT_LARGEDIR, "large_dir"),
    (INCOMPAT_INLINE_DATA, "inline_data"),
    (0x10000, "encrypt"),
    (0x20000, "casefold"),
];

/// `INCOMPAT` features this crate refuses, with their names.
const INCOMPAT_REFUSED: &[(u32, &str)] = &[
    (0x1, "compression"),
    (0x8, "journal_dev"),
    (0x1000, "dirdata"),
];

/// The parsed, validated superblock.
#[derive(Clone, Debug)]
pub struct Superblock {
    /// Total number of inodes.
    pub inodes_count: u32,
    /// Total number of blocks.
    pub blocks_count: u64,
    /// Blocks reserved for the superuser.
    pub reserved_blocks_count: u64,
    /// Free blocks as the superblock records them.
    pub free_blocks_count: u64,
    /// Free inodes as the superblock records them.
    pub free_inodes_count: u32,
    /// The block holding the superblock (1 with 1 KiB blocks, else 0).
    pub first_data_block: u32,
    /// Block size in bytes (1 KiB to 64 KiB).
    pub block_size: u32,
    /// log2 of the block size.
    pub block_size_bits: u32,
    /// Blocks per group.
    pub blocks_per_group: u32,
    /// Inodes per group.
    pub inodes_per_group: u32,
    /// log2 of blocks per cluster (`bigalloc`; 0 otherwise).
    pub cluster_bits: u32,
    /// Revision level (0 old, 1 dynamic).
    pub rev_level: u32,
    /// First non-reserved inode number.
    pub first_ino: u32,
    /// Size of an inode record in bytes.
    pub inode_size: u16,
    /// `COMPAT` feature bits.
    pub feature_compat: u32,
    /// `INCOMPAT` feature bits.
    pub feature_incompat: u32,
    /// `RO_COMPAT` feature bits.
    pub feature_ro_compat: u32,
    /// Filesystem UUID.
    pub uuid: [u8; 16],
    /// Volume label (NUL padded).
    pub volume_name: [u8; 16],
    /// Htree hash seed.
    pub hash_seed: [u32; 4],
    /// Default htree hash version.
    pub def_hash_version: u8,
    /// Group descriptor size in bytes (32 without `64bit`).
    pub desc_size: u16,
    /// First meta block group (with `meta_bg`).
    pub first_meta_bg: u32,
    /// Miscellaneous flags (signed/unsigned hash).
    pub flags: u32,
    /// log2 of groups per flex group.
    pub log_groups_per_flex: u8,
    /// Backup superblock groups with `sparse_super2`.
    pub backup_bgs: [u32; 2],
    /// Descriptor blocks reserved for online growth (`resize_inode`).
    pub reserved_gdt_blocks: u16,
    /// The journal's inode (0 with an external journal or none).
    pub journal_inum: u32,
    /// Metadata clusters as `mke2fs` recorded them (0 if not recorded).
    pub overhead_clusters: u32,
    /// The seed of all metadata checksums.
    pub csum_seed: u32,
    /// Number of block groups.
    pub groups_count: u32,
}

impl Superblock {
    /// Parses and validates the 1024 superblock bytes.
    ///
    /// Refuses incompatible features with [`Error::Incompatible`]; verifies
    /// the superblock checksum when `verify` and `metadata_csum` are set.
    pub fn parse(raw: &[u8], verify: bool) -> Result<Self> {
        let bad = |what| Error::Corrupt(Corruption::Superblock(what));
        if raw.len() < SUPERBLOCK_SIZE {
            return Err(bad("short superblock"));
        }
        if le16(raw, 0x38) != MAGIC {
            return Err(bad("bad magic"));
        }
        let rev_level = le32(raw, 0x4C);
        let dynamic = rev_level >= 1;
        let (feature_compat, feature_incompat, feature_ro_compat) = if dynamic {
            (le32(raw, 0x5C), le32(raw, 0x60), le32(raw, 0x64))
        } else {
            (0, 0, 0)
        };
        for &(bit, name) in INCOMPAT_REFUSED {
            if feature_incompat & bit != 0 {
                return Err(Error::Incompatible(name));
            }
        }
        let known = INCOMPAT_SUPPORTED
            .iter()
            .fold(0, |acc, &(bit, _)| acc | bit);
        if feature_incompat & !known != 0 {
            return Err(Error::Incompatible("unknown incompat feature"));
        }
        let metadata_csum = feature_ro_compat & RO_COMPAT_METADATA_CSUM != 0;
        if metadata_csum {
            if byte(raw, 0x175) != 1 {
                return Err(bad("unknown checksum type"));
            }
            if verify {
                let stored = le32(raw, 0x3FC);
                if crc32c(!0, &raw[..0x3FC]) != stored {
                    return Err(Error::Corrupt(Corruption::Checksum {
                        structure: Structure::Superblock,
                        ino: 0,
                        location: 0,
                    }));
                }
            }
        }

        let log_block_size = le32(raw, 0x18);
        if log_block_size > 6 {
            return Err(bad("block size above 64 KiB"));
        }
        let block_size_bits = 10 + log_block_size;
        let block_size = 1u32 << block_size_bits;
        let is_64bit = feature_incompat & INCOMPAT_64BIT != 0;
        let hi = |off| {
            if is_64bit {
                u64::from(le32(raw, off)) << 32
            } else {
                0
            }
        };
        let blocks_count = u64::from(le32(raw, 0x4)) | hi(0x150);
        let reserved_blocks_count = u64::from(le32(raw, 0x8)) | hi(0x154);
        let free_blocks_count = u64::from(le32(raw, 0xC)) | hi(0x158);
        let inodes_count = le32(raw, 0x0);
        let first_data_block = le32(raw, 0x14);
        let blocks_per_group = le32(raw, 0x20);
        let inodes_per_group = le32(raw, 0x28);
        let per_group_max = block_size.saturating_mul(8);
        let cluster_bits = if feature_ro_compat & RO_COMPAT_BIGALLOC != 0 {
            let log_cluster_size = le32(raw, 0x1C);
            if log_cluster_size < log_block_size || log_cluster_size - log_block_size > 16 {
                return Err(bad("bad cluster size"));
            }
            log_cluster_size - log_block_size
        } else {
            0
        };
        let clusters_per_group = if cluster_bits == 0 {
            blocks_per_group
        } else {
            le32(raw, 0x24)
        };
        if blocks_per_group == 0
            || clusters_per_group == 0
            || clusters_per_group > per_group_max
            || u64::from(clusters_per_group) << cluster_bits != u64::from(blocks_per_group)
        {
            return Err(bad("bad blocks per group"));
        }
        if inodes_per_group == 0 || inodes_per_group > per_group_max {
            return Err(bad("bad inodes per group"));
        }
        if u64::from(first_data_block) >= blocks_count {
            return Err(bad("first data block beyond the end"));
        }
        let groups =
            (blocks_count - u64::from(first_data_block)).div_ceil(u64::from(blocks_per_group));
        let groups_count = u32::try_from(groups).map_err(|_| bad("too many groups"))?;
        if u64::from(groups_count) * u64::from(inodes_per_group) < u64::from(inodes_count) {
            return Err(bad("inode count exceeds the groups' capacity"));
        }
        let (first_ino, inode_size) = if dynamic {
            (le32(raw, 0x54), le16(raw, 0x58))
        } else {
            (11, 128)
        };
        if inode_size < 128 || !inode_size.is_power_of_two() || u32::from(inode_size) > block_size {
            return Err(bad("bad inode size"));
        }
        if first_ino < 11 && dynamic {
            return Err(bad("bad first inode"));
        }
        let desc_size = if is_64bit {
            let d = le16(raw, 0xFE);
            if d < 64 || !d.is_power_of_two() || u32::from(d) > block_size.min(1024) {
                return Err(bad("bad group descriptor size"));
            }
            d
        } else {
            32
        };
        let uuid: [u8; 16] = raw[0x68..0x78].try_into().map_err(|_| bad("short uuid"))?;
        let volume_name: [u8; 16] = raw[0x78..0x88].try_into().map_err(|_| bad("short label"))?;
        let hash_seed = [
            le32(raw, 0xEC),
            le32(raw, 0xF0),
            le32(raw, 0xF4),
            le32(raw, 0xF8),
        ];
        let csum_seed = if feature_incompat & INCOMPAT_CSUM_SEED != 0 {
            le32(raw, 0x270)
        } else {
            crc32c(!0, &uuid)
        };
        Ok(Superblock {
            inodes_count,
            blocks_count,
            reserved_blocks_count,
            free_blocks_count,
            free_inodes_count: le32(raw, 0x10),
            first_data_block,
            block_size,
            block_size_bits,
            blocks_per_group,
            inodes_per_group,
            cluster_bits,
            rev_level,
            first_ino,
            inode_size,
            feature_compat,
            feature_incompat,
            feature_ro_compat,
            uuid,
            volume_name,
            hash_seed,
            def_hash_version: byte(raw, 0xFC),
            desc_size,
            first_meta_bg: le32(raw, 0x104),
            flags: le32(raw, 0x160),
            log_groups_per_flex: byte(raw, 0x174),
            backup_bgs: [le32(raw, 0x24C), le32(raw, 0x250)],
            reserved_gdt_blocks: le16(raw, 0xCE),
            journal_inum: le32(raw, 0xE0),
            overhead_clusters: le32(raw, 0x248),
            csum_seed,
            groups_count,
        })
    }

    /// Whether `metadata_csum` is enabled.
    pub fn has_metadata_csum(&self) -> bool {
        self.feature_ro_compat & RO_COMPAT_METADATA_CSUM != 0
    }

    /// Whether group descriptors carry a checksum (`gdt_csum` or `metadata_csum`).
    pub fn has_group_desc_csum(&self) -> bool {
        self.feature_ro_compat & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM) != 0
    }

    /// Whether directory entries record the file type.
    pub fn has_filetype(&self) -> bool {
        self.feature_incompat & INCOMPAT_FILETYPE != 0
    }

    /// Whether htree directories are honoured.
    pub fn has_dir_index(&self) -> bool {
        self.feature_compat & COMPAT_DIR_INDEX != 0
    }

    /// Whether `64bit` is enabled.
    pub fn is_64bit(&self) -> bool {
        self.feature_incompat & INCOMPAT_64BIT != 0
    }

    /// Whether htree hashes use the unsigned-char variants.
    ///
    /// The signed flag wins; with neither flag set, Linux on x86 uses the
    /// signed variants, as C's `char` is signed there.
    pub fn unsigned_hash(&self) -> bool {
        self.flags & 0x1 == 0 && self.flags & 0x2 != 0
    }

    /// The blocks of group `group` that hold a superblock and group
    /// descriptors (reserved ones included), as Linux counts them.
    pub fn group_base_meta_blocks(&self, group: u32) -> u64 {
        let mut blocks = u64::from(self.group_has_super(group));
        let per_block = u64::from(self.block_size / u32::from(self.desc_size.max(1)));
        let meta_bg = self.feature_incompat & INCOMPAT_META_BG != 0;
        if !meta_bg || u64::from(group) < u64::from(self.first_meta_bg) * per_block {
            if blocks != 0 {
                let table_blocks = if meta_bg {
                    u64::from(self.first_meta_bg)
                } else {
                    u64::from(self.groups_count).div_ceil(per_block.max(1))
                };
                blocks += table_blocks + u64::from(self.reserved_gdt_blocks);
            }
        } else {
            // A meta group's descriptor block and its two backups.
            let first = u64::from(group) / per_block * per_block;
            let last = first + per_block - 1;
            let group = u64::from(group);
            if group == first || group == first + 1 || group == last {
                blocks += 1;
            }
        }
        blocks
    }

    /// Whether block group `group` holds a superblock backup.
    pub fn group_has_super(&self, group: u32) -> bool {
        if group == 0 {
            return true;
        }
        if self.feature_compat & COMPAT_SPARSE_SUPER2 != 0 {
            return group == self.backup_bgs[0] || group == self.backup_bgs[1];
        }
        if group <= 1 || self.feature_ro_compat & RO_COMPAT_SPARSE_SUPER == 0 {
            return true;
        }
        if group & 1 == 0 {
            return false;
        }
        [3u32, 5, 7].iter().any(|&base| {
            let mut n = base;
            while n < group {
                n = match n.checked_mul(base) {
                    Some(v) => v,
                    None => return false,
                };
            }
            n == group
        })
    }
}
