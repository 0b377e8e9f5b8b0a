//! The filesystem handle: opening an image, reading inodes and file data.
//!
//! [`Ext4`] is immutable after [`Ext4::open`]: it owns the block source,
//! the parsed superblock and the cached group descriptors, and needs no
//! locks, so it is `Send + Sync` and every method takes `&self`.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::Range;

use crate::error::{Corruption, Error, Result};
use crate::group::{GroupDesc, read_descriptors};
use crate::inode::{FileType, Inode, InodeNumber};
use crate::source::{BlockSource, slice_at};
use crate::superblock::{
    COMPAT_HAS_JOURNAL, INCOMPAT_EA_INODE, INCOMPAT_EXTENTS, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE,
    Superblock,
};

/// The magic number opening a jbd2 journal's superblock (big-endian).
const JBD2_MAGIC: [u8; 4] = [0xC0, 0x3B, 0x39, 0x98];

/// Options for [`Ext4::open`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct MountOptions {
    /// Verify metadata checksums (`metadata_csum`, `gdt_csum`) and report a
    /// mismatch as [`Corruption::Checksum`]. On by default.
    pub verify_checksums: bool,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            verify_checksums: true,
        }
    }
}

/// Filesystem-wide figures, as `statfs(2)` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatFs {
    /// Block size in bytes.
    pub block_size: u32,
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks (summed over the group descriptors).
    pub free_blocks: u64,
    /// Free blocks available to unprivileged users.
    pub available_blocks: u64,
    /// Total inodes.
    pub inodes: u64,
    /// Free inodes (summed over the group descriptors).
    pub free_inodes: u64,
    /// Maximum name length (255).
    pub name_max: u32,
    /// Filesystem id, folded from the UUID as Linux does.
    pub fsid: [u32; 2],
}

/// A read-only ext2, ext3 or ext4 filesystem image.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use extfs::{Ext4, FileSource, MountOptions};
/// let file = std::fs::File::open("disk.img")?;
/// let fs = Ext4::open(FileSource::new(file)?, MountOptions::default())?;
/// let ino = fs.resolve(b"/etc/hostname")?;
/// let inode = fs.inode(ino)?;
/// let mut buf = vec![0; inode.size as usize];
/// let n = fs.read_at(&inode, 0, &mut buf)?;
/// println!("{}", String::from_utf8_lossy(&buf[..n]));
/// # Ok(())
/// # }
/// ```
pub struct Ext4 {
    pub(crate) source: Box<dyn BlockSource>,
    pub(crate) sb: Superblock,
    groups: Vec<GroupDesc>,
    bad_group_checksums: Vec<u32>,
    pub(crate) verify: bool,
    /// Blocks Linux counts as metadata (not in `statfs`'s `f_blocks`).
    overhead_blocks: u64,
}

impl core::fmt::Debug for Ext4 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ext4")
            .field("superblock", &self.sb)
            .field("verify", &self.verify)
            .finish_non_exhaustive()
    }
}

/// A metadata block: borrowed from the image when the source is in memory,
/// otherwise copied into a reusable buffer.
#[derive(Default)]
pub(crate) struct BlockBuf {
    buf: Vec<u8>,
    image: Option<Range<usize>>,
}

impl BlockBuf {
    /// Makes `block` the current block.
    pub(crate) fn load(&mut self, fs: &Ext4, block: u64) -> Result<()> {
        let bs = fs.block_size_usize();
        if block >= fs.sb.blocks_count {
            return Err(Error::Corrupt(Corruption::OutOfBounds { at: block }));
        }
        let offset = block << fs.sb.block_size_bits;
        if let Some(image) = fs.source.as_slice() {
            slice_at(image, offset, bs)?;
            // The range was just checked against the slice, so it fits usize.
            let start = usize::try_from(offset).map_err(|_| Error::InvalidArgument)?;
            self.image = Some(start..start + bs);
        } else {
            self.image = None;
            self.buf.resize(bs, 0);
            fs.source.read_exact_at(offset, &mut self.buf)?;
        }
        Ok(())
    }

    /// The current block's bytes.
    ///
    /// # Preconditions
    ///
    /// `fs` is the filesystem passed to the last [`load`](Self::load).
    pub(crate) fn bytes<'a>(&'a self, fs: &'a Ext4) -> &'a [u8] {
        match (&self.image, fs.source.as_slice()) {
            (Some(r), Some(image)) => image.get(r.clone()).unwrap_or(&[]),
            _ => &self.buf,
        }
    }
}

/// A run of consecutive logical blocks with the same kind of mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Run {
    /// `len` blocks stored from physical block `phys`; `uninit` ones read as zeros.
    Mapped {
        /// First physical block.
        phys: u64,
        /// Number of blocks.
        len: u64,
        /// Whether the extent is uninitialized.
        uninit: bool,
    },
    /// `len` blocks with no storage, reading as zeros.
    Hole {
        /// Number of blocks (at least 1).
        len: u64,
    },
}

impl Ext4 {
    /// Opens an image, validating the superblock and group descriptors.
    ///
    /// Fails with [`Error::Incompatible`] when the image needs a feature
    /// this crate cannot read.
    pub fn open(source: impl BlockSource + 'static, options: MountOptions) -> Result<Ext4> {
        let source: Box<dyn BlockSource> = Box::new(source);
        let mut raw = [0u8; SUPERBLOCK_SIZE];
        source.read_exact_at(SUPERBLOCK_OFFSET, &mut raw)?;
        let sb = Superblock::parse(&raw, options.verify_checksums)?;
        let bits = sb.block_size_bits;
        let (groups, bad_group_checksums) = read_descriptors(
            &sb,
            source.size(),
            options.verify_checksums,
            |block, buf| source.read_exact_at(block << bits, buf),
        )?;
        let mut fs = Ext4 {
            source,
            sb,
            groups,
            bad_group_checksums,
            verify: options.verify_checksums,
            overhead_blocks: 0,
        };
        fs.overhead_blocks = fs.overhead_blocks();
        Ok(fs)
    }

    /// The blocks Linux's ext4 counts as overhead at mount
    /// (`ext4_calculate_overhead`): the blocks before the first group, each
    /// group's superblock and descriptor copies, bitmaps and inode table,
    /// and an internal journal. With `bigalloc` the count mke2fs recorded
    /// is used, as Linux does.
    fn overhead_blocks(&self) -> u64 {
        let sb = &self.sb;
        if sb.cluster_bits != 0
            && sb.overhead_clusters != 0
            && u64::from(sb.overhead_clusters) <= sb.blocks_count
        {
            return u64::from(sb.overhead_clusters) << sb.cluster_bits;
        }
        let per_table_block = u64::from(sb.block_size / u32::from(sb.inode_size.max(1))).max(1);
        let table_blocks = u64::from(sb.inodes_per_group).div_ceil(per_table_block);
        let per_group = table_blocks + 2;
        let groups: u64 = (0..sb.groups_count)
            .map(|g| sb.group_base_meta_blocks(g) + per_group)
            .sum();
        u64::from(sb.first_data_block) + groups + self.journal_blocks()
    }

    /// The length of an internal journal in blocks, as jbd2 takes it: the
    /// journal inode's size, capped by its superblock's `s_maxlen`; 0 when
    /// there is none or it cannot be read.
    fn journal_blocks(&self) -> u64 {
        let sb = &self.sb;
        if sb.feature_compat & COMPAT_HAS_JOURNAL == 0 || sb.journal_inum == 0 {
            return 0;
        }
        let Ok(inode) = self.inode(sb.journal_inum) else {
            return 0;
        };
        let blocks = inode.size >> sb.block_size_bits;
        let mut header = [0u8; 20];
        match self.read_at(&inode, 0, &mut header) {
            Ok(20) if header[..4] == JBD2_MAGIC => {
                let max_len = u32::from_be_bytes([header[16], header[17], header[18], header[19]]);
                blocks.min(u64::from(max_len))
            }
            _ => blocks,
        }
    }

    /// Returns the parsed superblock.
    pub fn superblock(&self) -> &Superblock {
        &self.sb
    }

    /// Returns the block groups whose descriptor checksums did not match.
    ///
    /// As Linux does for a read-only mount, such groups are still used;
    /// Linux logs them, this crate reports them here.
    pub fn bad_group_checksums(&self) -> &[u32] {
        &self.bad_group_checksums
    }

    /// Returns the block size in bytes.
    pub fn block_size(&self) -> u32 {
        self.sb.block_size
    }

    pub(crate) fn block_size_usize(&self) -> usize {
        // Block sizes are at most 64 KiB.
        usize::try_from(self.sb.block_size).unwrap_or(65536)
    }

    /// Whether metadata checksums are verified on this image.
    pub(crate) fn verify_csum(&self) -> bool {
        self.verify && self.sb.has_metadata_csum()
    }

    /// Returns `statfs(2)` figures, computed as Linux's ext4 does for a
    /// read-only mount of the image: `blocks` net of the metadata overhead,
    /// `available_blocks` net of the superuser's reserve and of the pool
    /// ext4 keeps back on extent filesystems (2% of the blocks, at most
    /// 4096 clusters).
    pub fn statfs(&self) -> StatFs {
        let sb = &self.sb;
        let free_clusters: u64 = self.groups.iter().map(|g| u64::from(g.free_blocks)).sum();
        let free_blocks = free_clusters << sb.cluster_bits;
        let free_inodes: u64 = self.groups.iter().map(|g| u64::from(g.free_inodes)).sum();
        let pool_clusters = if sb.feature_incompat & INCOMPAT_EXTENTS != 0 {
            ((sb.blocks_count >> sb.cluster_bits) / 50).min(4096)
        } else {
            0
        };
        let kept_back = sb.reserved_blocks_count + (pool_clusters << sb.cluster_bits);
        let u = &sb.uuid;
        let word = |i: usize| u32::from_le_bytes([u[i], u[i + 1], u[i + 2], u[i + 3]]);
        StatFs {
            block_size: sb.block_size,
            blocks: sb.blocks_count.saturating_sub(self.overhead_blocks),
            free_blocks,
            available_blocks: free_blocks.saturating_sub(kept_back),
            inodes: u64::from(sb.inodes_count),
            free_inodes,
            name_max: 255,
            fsid: [word(0) ^ word(8), word(4) ^ word(12)],
        }
    }

    /// Reads and parses inode `ino`.
    pub fn inode(&self, ino: InodeNumber) -> Result<Inode> {
        if ino == 0 || ino > self.sb.inodes_count {
            return Err(Error::NotFound);
        }
        let index = ino - 1;
        let group = index / self.sb.inodes_per_group;
        let slot = index % self.sb.inodes_per_group;
        let desc = usize::try_from(group)
            .ok()
            .and_then(|g| self.groups.get(g))
            .ok_or(Error::Corrupt(Corruption::Inode {
                ino,
                what: "group out of range",
            }))?;
        let inode_size = usize::from(self.sb.inode_size);
        let offset = desc
            .inode_table
            .checked_mul(u64::from(self.sb.block_size))
            .and_then(|t| t.checked_add(u64::from(slot) * u64::from(self.sb.inode_size)))
            .ok_or(Error::Corrupt(Corruption::GroupDescriptor {
                group,
                what: "inode table out of range",
            }))?;
        let verify = self.verify_csum();
        if let Some(image) = self.source.as_slice() {
            let raw = slice_at(image, offset, inode_size)?;
            Inode::parse(ino, raw, &self.sb, verify)
        } else {
            let mut raw = [0u8; 1024];
            let buf = if inode_size <= raw.len() {
                &mut raw[..inode_size]
            } else {
                return self.inode_large(ino, offset, inode_size);
            };
            self.source.read_exact_at(offset, buf)?;
            Inode::parse(ino, buf, &self.sb, verify)
        }
    }

    /// Reads an inode record larger than 1 KiB through a heap buffer.
    fn inode_large(&self, ino: InodeNumber, offset: u64, size: usize) -> Result<Inode> {
        let mut buf = alloc::vec![0u8; size];
        self.source.read_exact_at(offset, &mut buf)?;
        Inode::parse(ino, &buf, &self.sb, self.verify_csum())
    }

    /// Maps logical block `lblk` of `inode` to a run.
    ///
    /// # Preconditions
    ///
    /// The inode does not keep its data inline.
    pub(crate) fn map_block(&self, inode: &Inode, lblk: u64, buf: &mut BlockBuf) -> Result<Run> {
        if inode.has_extents() {
            crate::extent::map(self, inode, lblk, buf)
        } else {
            crate::blockmap::map(self, inode, lblk, buf)
        }
    }

    /// Reads file data at `offset` into `buf`; returns the number of bytes
    /// read, 0 at or past the end of the file.
    ///
    /// Holes and uninitialized extents read as zeros. Only regular files
    /// can be read: a directory is [`Error::IsADirectory`], any other type
    /// [`Error::InvalidArgument`] (read [`read_link`](Self::read_link) for
    /// symlinks).
    ///
    /// An encrypted file cannot be read without its key, which this crate
    /// does not handle: [`Error::NotSupported`].
    pub fn read_at(&self, inode: &Inode, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if inode.is_encrypted() {
            return Err(Error::NotSupported);
        }
        match inode.file_type() {
            Some(FileType::Regular) => self.read_data(inode, offset, buf),
            Some(FileType::Directory) => Err(Error::IsADirectory),
            _ => Err(Error::InvalidArgument),
        }
    }

    /// Reads the data of any inode, directories included.
    pub(crate) fn read_data(&self, inode: &Inode, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if offset >= inode.size || buf.is_empty() {
            return Ok(0);
        }
        let avail = inode.size - offset;
        let n = usize::try_from(avail).map_or(buf.len(), |a| a.min(buf.len()));
        let buf = &mut buf[..n];
        if inode.has_inline_data() {
            return self.read_inline(inode, offset, buf);
        }
        let bits = self.sb.block_size_bits;
        let mask = u64::from(self.sb.block_size) - 1;
        let mut meta = BlockBuf::default();
        let mut done = 0usize;
        while done < n {
            let pos = offset + done as u64;
            let lblk = pos >> bits;
            let within = pos & mask;
            let run = self.map_block(inode, lblk, &mut meta)?;
            let (len, phys) = match run {
                Run::Mapped { phys, len, uninit } => (len, (!uninit).then_some(phys)),
                Run::Hole { len } => (len, None),
            };
            let run_bytes = len
                .checked_shl(bits)
                .filter(|b| b >> bits == len)
                .unwrap_or(u64::MAX)
                .saturating_sub(within);
            let chunk = usize::try_from(run_bytes).map_or(n - done, |r| r.min(n - done));
            let dst = &mut buf[done..done + chunk];
            match phys {
                Some(phys) => {
                    let at = phys
                        .checked_shl(bits)
                        .filter(|b| b >> bits == phys)
                        .and_then(|b| b.checked_add(within))
                        .ok_or(Error::Corrupt(Corruption::OutOfBounds { at: phys }))?;
                    self.source.read_exact_at(at, dst)?;
                }
                None => dst.fill(0),
            }
            done += chunk;
        }
        Ok(n)
    }

    /// `lseek(SEEK_DATA)`: the first offset at or after `offset` that holds
    /// data, or `None` when only holes remain before the end of the file.
    ///
    /// Holes and uninitialized extents are holes, as Linux reports them
    /// for pages that are not in its page cache; inline data and files of
    /// other types are all data.
    pub fn seek_data(&self, inode: &Inode, offset: u64) -> Result<Option<u64>> {
        self.seek_run(inode, offset, true)
    }

    /// `lseek(SEEK_HOLE)`: the first offset at or after `offset` inside a
    /// hole, the end of the file counting as one; `None` when `offset` is at
    /// or past the end.
    pub fn seek_hole(&self, inode: &Inode, offset: u64) -> Result<Option<u64>> {
        if offset >= inode.size {
            return Ok(None);
        }
        Ok(Some(
            self.seek_run(inode, offset, false)?.unwrap_or(inode.size),
        ))
    }

    /// The first offset at or after `offset` (below the size) whose block
    /// holds data (`data`) or is a hole (`!data`).
    fn seek_run(&self, inode: &Inode, offset: u64, data: bool) -> Result<Option<u64>> {
        if offset >= inode.size {
            return Ok(None);
        }
        let mapped = matches!(
            inode.file_type(),
            Some(FileType::Regular | FileType::Directory)
        ) && !inode.has_inline_data();
        if !mapped {
            return Ok(data.then_some(offset));
        }
        let bits = self.sb.block_size_bits;
        let mut meta = BlockBuf::default();
        let mut lblk = offset >> bits;
        loop {
            let start = lblk.checked_shl(bits).filter(|b| b >> bits == lblk);
            let pos = match start {
                Some(b) => b.max(offset),
                None => return Ok(None),
            };
            if pos >= inode.size {
                return Ok(None);
            }
            let (len, is_data) = match self.map_block(inode, lblk, &mut meta)? {
                Run::Mapped { len, uninit, .. } => (len, !uninit),
                Run::Hole { len } => (len, false),
            };
            if is_data == data {
                return Ok(Some(pos));
            }
            lblk = match lblk.checked_add(len.max(1)) {
                Some(next) => next,
                None => return Ok(None),
            };
        }
    }

    /// Reads inline data: the 60-byte block area, then the `system.data`
    /// attribute; bytes past both (up to the file size) read as zeros, as
    /// Linux fills the rest of an inline file's page.
    fn read_inline(&self, inode: &Inode, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let tail = crate::xattr::inline_data_tail(inode)?;
        let mut done = 0usize;
        // An offset past usize::MAX is past any inline data.
        let mut pos = usize::try_from(offset).unwrap_or(usize::MAX);
        while done < buf.len() {
            let avail = if pos < inode.block.len() {
                &inode.block[pos..]
            } else {
                tail.get(pos - inode.block.len()..).unwrap_or(&[])
            };
            if avail.is_empty() {
                buf[done..].fill(0);
                break;
            }
            let k = avail.len().min(buf.len() - done);
            buf[done..done + k].copy_from_slice(&avail[..k]);
            done += k;
            pos += k;
        }
        Ok(buf.len())
    }

    /// Reads the target of a symbolic link.
    pub fn read_link(&self, inode: &Inode) -> Result<Vec<u8>> {
        if inode.file_type() != Some(FileType::Symlink) {
            return Err(Error::NotASymlink);
        }
        if inode.is_encrypted() {
            return Err(Error::NotSupported);
        }
        let size = usize::try_from(inode.size).map_err(|_| link_bad(inode))?;
        if size > self.block_size_usize().max(4096) {
            return Err(link_bad(inode));
        }
        let mut target = if self.is_fast_symlink(inode) {
            inode
                .block
                .get(..size)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| link_bad(inode))?
        } else {
            let mut out = alloc::vec![0u8; size];
            let n = self.read_data(inode, 0, &mut out)?;
            out.truncate(n);
            out
        };
        // Linux returns the target up to its first NUL byte.
        if let Some(nul) = target.iter().position(|&b| b == 0) {
            target.truncate(nul);
        }
        Ok(target)
    }

    /// Whether a symlink keeps its target in the inode's block area, by
    /// Linux's rule: with `ea_inode` (where `i_blocks` also counts xattr
    /// value inodes), a target shorter than the block area; otherwise no
    /// blocks besides an xattr block.
    fn is_fast_symlink(&self, inode: &Inode) -> bool {
        if inode.has_inline_data() {
            return false;
        }
        if self.sb.feature_incompat & INCOMPAT_EA_INODE != 0 {
            return inode.size != 0 && inode.size < 60;
        }
        let xattr_blocks = if inode.file_acl != 0 {
            u64::from(self.sb.block_size >> 9) << self.sb.cluster_bits
        } else {
            0
        };
        inode.blocks.checked_sub(xattr_blocks) == Some(0)
    }
}

fn link_bad(inode: &Inode) -> Error {
    Error::Corrupt(Corruption::Inode {
        ino: inode.ino,
        what: "bad symlink size",
    })
}
