//! Hash-indexed (htree) directory lookup.
//!
//! Block 0 of an indexed directory holds the index root after the `.` and
//! `..` entries; up to two (three with `large_dir`) levels of index nodes
//! lead, by binary search on name hashes, to the leaf block that holds a
//! name. Names whose hashes collide may continue in the next leaf, marked by
//! the low bit of the next index entry's hash.
//!
//! A structurally damaged index makes [`lookup`] return `Ok(None)` so the
//! caller falls back to a linear scan, as Linux does; a checksum mismatch
//! is an error.

use crate::bytes::{byte, le16, le32};
use crate::checksum::crc32c;
use crate::dir::parse_entry;
use crate::error::{Corruption, Error, Result, Structure};
use crate::fs::{BlockBuf, Ext4};
use crate::hash::{HashVersion, name_hash};
use crate::inode::{Inode, InodeNumber};
use crate::superblock::INCOMPAT_LARGEDIR;

/// Offset of the count/limit header in the root block.
const ROOT_COUNT_OFFSET: usize = 0x20;
/// Offset of the count/limit header in an index node.
const NODE_COUNT_OFFSET: usize = 8;
/// Size of an index entry.
const ENTRY: usize = 8;

/// The index positions from the root down: (logical block, entry index,
/// entry count) per level.
#[derive(Default)]
struct Path {
    levels: [(u64, usize, usize); 4],
    len: usize,
}

/// Whether a directory block is an htree index block (the root, or a node
/// whose single fake entry spans the block).
pub(crate) fn is_index_block(block: &[u8], lblk: u64) -> bool {
    lblk == 0
        || (le32(block, 0) == 0 && usize::from(le16(block, 4)) == block.len())
        || (block.len() == 65536 && le32(block, 0) == 0 && matches!(le16(block, 4), 0 | 65535))
}

/// Verifies the `dx_tail` checksum of an index block.
pub(crate) fn verify_node(dir: &Inode, block: &[u8], lblk: u64) -> Result<()> {
    let fail = || {
        Error::Corrupt(Corruption::Checksum {
            structure: Structure::HtreeNode,
            ino: dir.ino,
            location: lblk,
        })
    };
    let off = if lblk == 0 {
        ROOT_COUNT_OFFSET
    } else {
        NODE_COUNT_OFFSET
    };
    let limit = usize::from(le16(block, off));
    let count = usize::from(le16(block, off + 2));
    let tail = off + limit * ENTRY;
    if count > limit || tail + 8 > block.len() {
        return Err(fail());
    }
    let mut c = crc32c(dir.csum_seed, &block[..off + count * ENTRY]);
    c = crc32c(c, &block[tail..tail + 4]);
    c = crc32c(c, &[0; 4]);
    if c == le32(block, tail + 4) {
        Ok(())
    } else {
        Err(fail())
    }
}

/// Validates the count/limit header at `off`; returns the entry count.
fn entries(block: &[u8], off: usize, fs: &Ext4) -> Option<usize> {
    let csum = if fs.sb.has_metadata_csum() { 8 } else { 0 };
    let limit = usize::from(le16(block, off));
    let count = usize::from(le16(block, off + 2));
    let expected = (block.len().checked_sub(off + csum)?) / ENTRY;
    (limit == expected && count >= 1 && count <= limit).then_some(count)
}

/// Finds the entry to follow for `hash` among `count` entries at `off`.
fn search(block: &[u8], off: usize, count: usize, hash: u32) -> usize {
    let (mut lo, mut hi) = (1usize, count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if le32(block, off + mid * ENTRY) > hash {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo - 1
}

fn entry_block(block: &[u8], off: usize, i: usize) -> u64 {
    u64::from(le32(block, off + i * ENTRY + 4) & 0x0FFF_FFFF)
}

/// Looks `name` up through the index of `dir`.
///
/// Returns `Ok(Some(found))` when the index answered, `Ok(None)` when it is
/// unusable and the caller must scan linearly.
pub(crate) fn lookup(fs: &Ext4, dir: &Inode, name: &[u8]) -> Result<Option<Option<InodeNumber>>> {
    let mut buf = BlockBuf::default();
    let mut meta = BlockBuf::default();
    let nblocks = dir.size >> fs.sb.block_size_bits;
    if fs.load_dir_block(dir, 0, &mut buf, &mut meta)?.is_some() {
        return Ok(None);
    }
    let root = buf.bytes(fs);
    if le32(root, 0x18) != 0 || byte(root, 0x1D) != 8 || byte(root, 0x1F) & 1 != 0 {
        return Ok(None);
    }
    let mut version = byte(root, 0x1C);
    if version <= 2 && fs.sb.unsigned_hash() {
        version += 3;
    }
    let (hv, signed) = match version {
        0 => (HashVersion::Legacy, true),
        1 => (HashVersion::HalfMd4, true),
        2 => (HashVersion::Tea, true),
        3 => (HashVersion::Legacy, false),
        4 => (HashVersion::HalfMd4, false),
        5 => (HashVersion::Tea, false),
        _ => return Ok(None),
    };
    let levels = usize::from(byte(root, 0x1E));
    let max_levels = if fs.sb.feature_incompat & INCOMPAT_LARGEDIR != 0 {
        3
    } else {
        2
    };
    if levels >= max_levels {
        return Ok(None);
    }
    let hash = name_hash(name, hv, fs.sb.hash_seed, signed).major;

    // Descend from the root to the leaf, remembering the path.
    let mut path = Path::default();
    let mut lblk = 0u64;
    let mut off = ROOT_COUNT_OFFSET;
    let leaf = loop {
        let block = buf.bytes(fs);
        let Some(count) = entries(block, off, fs) else {
            return Ok(None);
        };
        let at = search(block, off, count, hash);
        let next = entry_block(block, off, at);
        path.levels[path.len] = (lblk, at, count);
        path.len += 1;
        if next >= nblocks {
            return Ok(None);
        }
        if path.len > levels {
            break next;
        }
        if fs.load_dir_block(dir, next, &mut buf, &mut meta)?.is_some() {
            return Ok(None);
        }
        lblk = next;
        off = NODE_COUNT_OFFSET;
    };

    // Search the leaf, then any continuation leaves of colliding hashes.
    let mut leaf = leaf;
    for _ in 0..nblocks {
        if fs.load_dir_block(dir, leaf, &mut buf, &mut meta)?.is_some() {
            return Ok(None);
        }
        let block = buf.bytes(fs);
        let mut at = 0;
        while at < block.len() {
            let e = parse_entry(fs, dir.ino, block, at)?;
            if e.ino != 0 && e.name == name {
                return Ok(Some(Some(e.ino)));
            }
            at += e.rec_len;
        }
        match next_leaf(fs, dir, &mut path, &mut buf, &mut meta, hash, nblocks)? {
            Some(next) => leaf = next,
            None => return Ok(Some(None)),
        }
    }
    Ok(None)
}

/// Advances `path` to the next leaf if its hash continues `hash`.
fn next_leaf(
    fs: &Ext4,
    dir: &Inode,
    path: &mut Path,
    buf: &mut BlockBuf,
    meta: &mut BlockBuf,
    hash: u32,
    nblocks: u64,
) -> Result<Option<u64>> {
    // Find the deepest level with a next entry.
    let mut level = path.len;
    loop {
        if level == 0 {
            return Ok(None);
        }
        level -= 1;
        let (_, at, count) = path.levels[level];
        if at + 1 < count {
            break;
        }
    }
    let (lblk, at, count) = path.levels[level];
    path.levels[level] = (lblk, at + 1, count);
    if fs.load_dir_block(dir, lblk, buf, meta)?.is_some() {
        return Ok(None);
    }
    let off = if lblk == 0 {
        ROOT_COUNT_OFFSET
    } else {
        NODE_COUNT_OFFSET
    };
    let block = buf.bytes(fs);
    let next_hash = le32(block, off + (at + 1) * ENTRY);
    if next_hash & 1 == 0 || next_hash & !1 != hash {
        return Ok(None);
    }
    let mut next = entry_block(block, off, at + 1);
    // Walk down the leftmost entries of the lower levels.
    for l in level + 1..path.len {
        if next >= nblocks || fs.load_dir_block(dir, next, buf, meta)?.is_some() {
            return Ok(None);
        }
        let block = buf.bytes(fs);
        let Some(count) = entries(block, NODE_COUNT_OFFSET, fs) else {
            return Ok(None);
        };
        path.levels[l] = (next, 0, count);
        next = entry_block(block, NODE_COUNT_OFFSET, 0);
    }
    Ok((next < nblocks).then_some(next))
}
