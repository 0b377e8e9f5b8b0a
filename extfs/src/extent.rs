//! Extent trees: mapping logical blocks through `ext4_extent` nodes.
//!
//! The root node sits in the inode's block area; deeper nodes are whole
//! blocks loaded lazily, one per level, while searching. Each node is
//! searched by binary search. The depth recorded in every node must be
//! exactly one less than its parent's, so a cycle cannot recur forever.

use crate::bytes::{le16, le32};
use crate::checksum::crc32c;
use crate::error::{Corruption, Error, Result, Structure};
use crate::fs::{BlockBuf, Ext4, Run};
use crate::inode::Inode;

const MAGIC: u16 = 0xF30A;
/// Linux refuses deeper trees.
const MAX_DEPTH: u16 = 5;
/// Extents longer than this are uninitialized.
const INIT_MAX_LEN: u16 = 32768;
/// The first block number past the 32-bit logical space.
const LOGICAL_END: u64 = 1 << 32;

/// A validated extent node header.
struct Header {
    entries: usize,
    depth: u16,
}

/// Validates a node's header against the node's size and the depth its
/// parent implies.
fn header(node: &[u8], ino: u32, expect_depth: Option<u16>) -> Result<Header> {
    let bad = |what| Error::Corrupt(Corruption::ExtentTree { ino, what });
    if node.len() < 12 || le16(node, 0) != MAGIC {
        return Err(bad("bad magic"));
    }
    let entries = usize::from(le16(node, 2));
    let max = usize::from(le16(node, 4));
    let depth = le16(node, 6);
    let capacity = (node.len() - 12) / 12;
    if max > capacity || entries > max {
        return Err(bad("entry count exceeds the node"));
    }
    if depth > MAX_DEPTH {
        return Err(bad("tree too deep"));
    }
    if expect_depth.is_some_and(|d| d != depth) {
        return Err(bad("child depth does not match its parent"));
    }
    Ok(Header { entries, depth })
}

/// Verifies the checksum tail of a non-root extent node.
fn verify_block(inode: &Inode, node: &[u8], block: u64) -> Result<()> {
    let max = usize::from(le16(node, 4));
    let tail = 12 + 12 * max;
    let ok = node
        .get(tail..tail + 4)
        .is_some_and(|t| crc32c(inode.csum_seed, &node[..tail]) == le32(t, 0));
    if ok {
        Ok(())
    } else {
        Err(Error::Corrupt(Corruption::Checksum {
            structure: Structure::ExtentBlock,
            ino: inode.ino,
            location: block,
        }))
    }
}

/// Maps logical block `lblk` of an extent-mapped inode.
pub(crate) fn map(fs: &Ext4, inode: &Inode, lblk: u64, buf: &mut BlockBuf) -> Result<Run> {
    if lblk >= LOGICAL_END {
        return Ok(Run::Hole {
            len: u64::MAX - lblk,
        });
    }
    let ino = inode.ino;
    let bad = |what| Error::Corrupt(Corruption::ExtentTree { ino, what });
    let mut in_root = true;
    let mut expect = None;
    // The first logical block past the current subtree.
    let mut upper = LOGICAL_END;
    loop {
        let node: &[u8] = if in_root { &inode.block } else { buf.bytes(fs) };
        let h = header(node, ino, expect)?;
        let entries = &node[12..12 + 12 * h.entries];
        let start_of = |i: usize| u64::from(le32(entries, 12 * i));
        // The number of entries starting at or before lblk.
        let idx = partition_point(h.entries, |i| start_of(i) <= lblk);
        let next_start = if idx < h.entries {
            start_of(idx).min(upper)
        } else {
            upper
        };
        if idx == 0 {
            return Ok(Run::Hole {
                len: next_start.saturating_sub(lblk).max(1),
            });
        }
        let e = &entries[12 * (idx - 1)..12 * idx];
        let first = start_of(idx - 1);
        if h.depth == 0 {
            let raw_len = le16(e, 4);
            let (len, uninit) = if raw_len > INIT_MAX_LEN {
                (u64::from(raw_len - INIT_MAX_LEN), true)
            } else {
                (u64::from(raw_len), false)
            };
            let phys = (u64::from(le16(e, 6)) << 32) | u64::from(le32(e, 8));
            let end = first + len;
            if lblk < end {
                let off = lblk - first;
                let last = phys.checked_add(len).ok_or(bad("extent past the end"))?;
                if last > fs.sb.blocks_count {
                    return Err(bad("extent past the end of the filesystem"));
                }
                let len = (end.min(upper)) - lblk;
                return Ok(Run::Mapped {
                    phys: phys + off,
                    len: len.max(1),
                    uninit,
                });
            }
            return Ok(Run::Hole {
                len: next_start.saturating_sub(lblk).max(1),
            });
        }
        let child = u64::from(le32(e, 4)) | (u64::from(le16(e, 8)) << 32);
        upper = next_start;
        let depth = h.depth;
        buf.load(fs, child)?;
        in_root = false;
        expect = Some(depth - 1);
        if fs.verify_csum() {
            verify_block(inode, buf.bytes(fs), child)?;
        }
    }
}

/// Returns the first index in `0..n` for which `pred` is false, assuming
/// `pred` is true then false (as for sorted entries).
fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
