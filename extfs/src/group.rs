//! Block group descriptors: where each group's inode table lives.
//!
//! All descriptors are read and validated once when the filesystem is
//! opened and cached in a vector (bounded by the image size, since each
//! descriptor occupies at least 32 bytes of it).

use alloc::vec::Vec;

use crate::bytes::{le16, le32};
use crate::checksum::{crc16, crc32c};
use crate::error::{Corruption, Error, Result, Structure};
use crate::superblock::{INCOMPAT_META_BG, Superblock};

/// The fields of a group descriptor this crate uses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GroupDesc {
    /// First block of the inode table.
    pub inode_table: u64,
    /// Free blocks in the group.
    pub free_blocks: u32,
    /// Free inodes in the group.
    pub free_inodes: u32,
}

/// Returns the block holding descriptor block `nr` of the table.
fn descriptor_block(sb: &Superblock, nr: u32) -> u64 {
    // The block holding the superblock's byte 1024 (not s_first_data_block,
    // which is 0 for bigalloc filesystems with 1 KiB blocks).
    let sb_block = u64::from(sb.block_size == 1024);
    if sb.feature_incompat & INCOMPAT_META_BG == 0 || nr < sb.first_meta_bg {
        return sb_block + u64::from(nr) + 1;
    }
    let per_block = sb.block_size / u32::from(sb.desc_size);
    let group = u64::from(nr) * u64::from(per_block);
    let mut has_super = u64::from(u32::try_from(group).is_ok_and(|g| sb.group_has_super(g)));
    if sb.block_size == 1024 && nr == 0 && sb.first_data_block == 0 {
        has_super += 1;
    }
    group * u64::from(sb.blocks_per_group) + u64::from(sb.first_data_block) + has_super
}

/// Verifies one descriptor's checksum.
fn verify(sb: &Superblock, group: u32, raw: &[u8]) -> Result<()> {
    let stored = le16(raw, 0x1E);
    let le_group = group.to_le_bytes();
    let computed = if sb.has_metadata_csum() {
        let mut c = crc32c(sb.csum_seed, &le_group);
        c = crc32c(c, &raw[..0x1E]);
        c = crc32c(c, &[0, 0]);
        c = crc32c(c, &raw[0x20..]);
        // The descriptor stores the low 16 bits of the CRC32C.
        u16::try_from(c & 0xFFFF).unwrap_or(0)
    } else {
        let mut c = crc16(!0, &sb.uuid);
        c = crc16(c, &le_group);
        c = crc16(c, &raw[..0x1E]);
        if sb.is_64bit() {
            c = crc16(c, &raw[0x20..]);
        }
        c
    };
    if computed == stored {
        Ok(())
    } else {
        Err(Error::Corrupt(Corruption::Checksum {
            structure: Structure::GroupDescriptor,
            ino: 0,
            location: u64::from(group),
        }))
    }
}

/// Reads every group descriptor.
///
/// `read_block` reads one filesystem block into the buffer it is given.
/// Returns the descriptors and the groups whose checksums failed: like
/// Linux on a read-only mount, a descriptor checksum mismatch does not stop
/// the filesystem from being used.
pub(crate) fn read_descriptors(
    sb: &Superblock,
    image_size: u64,
    verify_checksums: bool,
    mut read_block: impl FnMut(u64, &mut [u8]) -> Result<()>,
) -> Result<(Vec<GroupDesc>, Vec<u32>)> {
    let desc_size = usize::from(sb.desc_size);
    let table_bytes = u64::from(sb.groups_count) * u64::from(sb.desc_size);
    if table_bytes > image_size {
        return Err(Error::Corrupt(Corruption::Superblock(
            "group descriptor table larger than the image",
        )));
    }
    let block_size = usize::try_from(sb.block_size).map_err(|_| Error::InvalidArgument)?;
    let per_block = block_size / desc_size;
    let groups = usize::try_from(sb.groups_count).map_err(|_| Error::InvalidArgument)?;
    let mut out = Vec::with_capacity(groups);
    let mut bad_checksums = Vec::new();
    let mut buf = alloc::vec![0u8; block_size];
    let check = verify_checksums && sb.has_group_desc_csum();
    let is_64 = sb.is_64bit();
    for nr in 0..groups.div_ceil(per_block) {
        let nr32 = u32::try_from(nr).map_err(|_| Error::InvalidArgument)?;
        let block = descriptor_block(sb, nr32);
        if block >= sb.blocks_count {
            return Err(Error::Corrupt(Corruption::OutOfBounds { at: block }));
        }
        read_block(block, &mut buf)?;
        for (i, raw) in buf.chunks_exact(desc_size).enumerate() {
            let g = nr * per_block + i;
            if g >= groups {
                break;
            }
            let group = u32::try_from(g).map_err(|_| Error::InvalidArgument)?;
            if check && verify(sb, group, raw).is_err() {
                bad_checksums.push(group);
            }
            let hi32 = |off| {
                if is_64 {
                    u64::from(le32(raw, off)) << 32
                } else {
                    0
                }
            };
            let hi16 = |off| {
                if is_64 {
                    u32::from(le16(raw, off)) << 16
                } else {
                    0
                }
            };
            out.push(GroupDesc {
                inode_table: u64::from(le32(raw, 0x8)) | hi32(0x28),
                free_blocks: u32::from(le16(raw, 0xC)) | hi16(0x2C),
                free_inodes: u32::from(le16(raw, 0xE)) | hi16(0x2E),
            });
        }
    }
    Ok((out, bad_checksums))
}
