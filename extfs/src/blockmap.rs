//! Indirect block maps of ext2/ext3 inodes: twelve direct pointers, then
//! single, double and triple indirect blocks.
//!
//! The depth of the walk is fixed by the logical block number, so a
//! pointer cycle cannot make it loop. A zero pointer is a hole covering
//! the whole subtree below it, which lets callers skip large holes in one
//! step.

use crate::bytes::le32;
use crate::error::{Corruption, Error, Result};
use crate::fs::{BlockBuf, Ext4, Run};
use crate::inode::Inode;

const DIRECT: u64 = 12;

/// Counts how many entries from `idx` on continue the run that starts with
/// the pointer at `idx` (contiguous blocks, or zeros for a hole).
fn run_length(ptrs: &[u8], idx: usize, count: usize) -> u64 {
    let first = le32(ptrs, 4 * idx);
    let mut n = 1u64;
    for i in idx + 1..count {
        let p = le32(ptrs, 4 * i);
        let contiguous = if first == 0 {
            p == 0
        } else {
            u64::from(p) == u64::from(first) + n
        };
        if !contiguous {
            break;
        }
        n += 1;
    }
    n
}

fn check_block(fs: &Ext4, inode: &Inode, block: u32) -> Result<u64> {
    let b = u64::from(block);
    if b >= fs.sb.blocks_count {
        return Err(Error::Corrupt(Corruption::BlockMap {
            ino: inode.ino,
            what: "block pointer past the end of the filesystem",
        }));
    }
    Ok(b)
}

/// Maps logical block `lblk` of a block-mapped inode.
pub(crate) fn map(fs: &Ext4, inode: &Inode, lblk: u64, buf: &mut BlockBuf) -> Result<Run> {
    if lblk < DIRECT {
        let idx = usize::try_from(lblk).map_err(|_| Error::InvalidArgument)?;
        let len = run_length(&inode.block, idx, 12);
        let ptr = le32(&inode.block, 4 * idx);
        return Ok(if ptr == 0 {
            Run::Hole { len }
        } else {
            let phys = check_block(fs, inode, ptr)?;
            Run::Mapped {
                phys,
                len,
                uninit: false,
            }
        });
    }
    let per = u64::from(fs.sb.block_size / 4);
    let mut rel = lblk - DIRECT;
    let mut levels = 0u32;
    let mut span = 1u64;
    // Find which indirection level covers rel, and rel's offset within it.
    loop {
        levels += 1;
        span *= per;
        if rel < span {
            break;
        }
        rel -= span;
        if levels == 3 {
            return Ok(Run::Hole {
                len: u64::MAX - lblk,
            });
        }
    }
    let root_slot = 11 + usize::try_from(levels).map_err(|_| Error::InvalidArgument)?;
    let mut ptr = le32(&inode.block, 4 * root_slot);
    let mut sub_span = span;
    for _ in 0..levels {
        if ptr == 0 {
            return Ok(Run::Hole {
                len: sub_span - rel % sub_span,
            });
        }
        let block = check_block(fs, inode, ptr)?;
        buf.load(fs, block)?;
        sub_span /= per;
        let idx = usize::try_from((rel / sub_span) % per).map_err(|_| Error::InvalidArgument)?;
        let ptrs = buf.bytes(fs);
        if sub_span == 1 {
            let count = usize::try_from(per).map_err(|_| Error::InvalidArgument)?;
            let len = run_length(ptrs, idx, count);
            let leaf = le32(ptrs, 4 * idx);
            return Ok(if leaf == 0 {
                Run::Hole { len }
            } else {
                let phys = check_block(fs, inode, leaf)?;
                let end = phys + len;
                if end > fs.sb.blocks_count {
                    return Err(Error::Corrupt(Corruption::BlockMap {
                        ino: inode.ino,
                        what: "block run past the end of the filesystem",
                    }));
                }
                Run::Mapped {
                    phys,
                    len,
                    uninit: false,
                }
            });
        }
        ptr = le32(ptrs, 4 * idx);
    }
    Err(Error::Corrupt(Corruption::BlockMap {
        ino: inode.ino,
        what: "indirection deeper than three levels",
    }))
}
