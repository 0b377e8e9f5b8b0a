//! Directories: entry parsing, iteration with resumable cookies, and
//! name lookup (through the htree index when there is one).
//!
//! A cookie is the byte offset of an entry in the directory's data, so it
//! is stable for as long as the image is: iteration resumed from the cookie
//! of an entry continues right after it (as `getdents64` does with
//! `d_off`). Resuming at an offset that is not an entry boundary rescans its
//! block from the start and continues at the first entry at or past it.
//! Inline directories have synthetic `.` and `..` entries at cookies 0 and 1.
//!
//! Like Linux's `readdir`, iteration skips the rest of a block after a
//! damaged entry (and holes in the directory), so one bad block does not
//! hide the rest of the directory; an inline directory ends at its first
//! damaged entry, as it does in Linux.

use crate::bytes::{byte, le16, le32};
use crate::checksum::crc32c;
use crate::error::{Corruption, Error, Result, Structure};
use crate::fs::{BlockBuf, Ext4, Run};
use crate::inode::{FileType, Inode, InodeNumber};

/// Size of the checksum tail of a directory leaf block.
const TAIL_SIZE: usize = 12;
/// The smallest possible directory entry.
const MIN_REC_LEN: usize = 12;
/// Size of the parent pointer that starts an inline directory.
const INLINE_PARENT: u64 = 4;

/// One directory entry.
#[derive(Clone)]
pub struct DirEntry {
    /// The inode the entry names.
    pub ino: InodeNumber,
    name: [u8; 255],
    name_len: u8,
    /// The file type recorded in the entry, when the filesystem records one.
    pub file_type: Option<FileType>,
    /// The cookie to resume iteration right after this entry.
    pub next_cookie: u64,
}

impl DirEntry {
    /// The entry's name (raw bytes, not NUL-terminated).
    pub fn name(&self) -> &[u8] {
        &self.name[..usize::from(self.name_len)]
    }

    fn new(ino: InodeNumber, name: &[u8], file_type: Option<FileType>, next_cookie: u64) -> Self {
        let mut buf = [0u8; 255];
        let len = name.len().min(255);
        buf[..len].copy_from_slice(&name[..len]);
        DirEntry {
            ino,
            name: buf,
            // len is at most 255.
            name_len: u8::try_from(len).unwrap_or(u8::MAX),
            file_type,
            next_cookie,
        }
    }
}

impl core::fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DirEntry")
            .field("ino", &self.ino)
            .field("name", &alloc::string::String::from_utf8_lossy(self.name()))
            .field("file_type", &self.file_type)
            .field("next_cookie", &self.next_cookie)
            .finish()
    }
}

/// A raw entry parsed from a directory block.
pub(crate) struct RawEntry<'a> {
    pub ino: u32,
    pub rec_len: usize,
    pub name: &'a [u8],
    pub file_type: u8,
}

/// Parses and validates the entry at `at` of a directory region.
pub(crate) fn parse_entry<'a>(
    fs: &Ext4,
    dir: u32,
    region: &'a [u8],
    at: usize,
) -> Result<RawEntry<'a>> {
    let bad = |what| Error::Corrupt(Corruption::Directory { ino: dir, what });
    let head = region
        .get(at..at + 8)
        .ok_or(bad("entry header past the block"))?;
    let ino = le32(head, 0);
    let rec_len = match le16(head, 4) {
        // 64 KiB blocks encode a whole-block record length specially.
        0 | 65535 if fs.sb.block_size == 65536 => 65536,
        r if fs.sb.block_size == 65536 => usize::from(r & 65532) | (usize::from(r & 3) << 16),
        r => usize::from(r),
    };
    let name_len = usize::from(byte(head, 6));
    if rec_len < MIN_REC_LEN || rec_len % 4 != 0 {
        return Err(bad("bad record length"));
    }
    if rec_len < (8 + name_len + 3) & !3 {
        return Err(bad("record length shorter than the name"));
    }
    let next = at + rec_len;
    if next > region.len() {
        return Err(bad("entry crosses the block end"));
    }
    if next != region.len() && next + MIN_REC_LEN > region.len() {
        return Err(bad("entry too close to the block end"));
    }
    if ino > fs.sb.inodes_count {
        return Err(bad("inode number out of range"));
    }
    Ok(RawEntry {
        ino,
        rec_len,
        name: &region[at + 8..at + 8 + name_len],
        file_type: byte(head, 7),
    })
}

/// Whether a leaf block ends in a checksum tail.
fn has_tail(block: &[u8]) -> bool {
    let Some(t) = block
        .len()
        .checked_sub(TAIL_SIZE)
        .and_then(|s| block.get(s..))
    else {
        return false;
    };
    le32(t, 0) == 0 && usize::from(le16(t, 4)) == TAIL_SIZE && byte(t, 6) == 0 && byte(t, 7) == 0xDE
}

impl Ext4 {
    /// Whether `dir` is searched and iterated through its htree index.
    pub(crate) fn is_htree(&self, dir: &Inode) -> bool {
        self.sb.has_dir_index()
            && dir.flags & crate::inode::FLAG_INDEX != 0
            && !dir.has_inline_data()
    }

    /// Loads logical block `lblk` of directory `dir` into `buf` and verifies
    /// its checksum; returns `Ok(Some(hole_len))` if the block is a hole.
    pub(crate) fn load_dir_block(
        &self,
        dir: &Inode,
        lblk: u64,
        buf: &mut BlockBuf,
        meta: &mut BlockBuf,
    ) -> Result<Option<u64>> {
        match self.map_block(dir, lblk, meta)? {
            Run::Hole { len } => return Ok(Some(len)),
            // Linux reads directory blocks through the buffer cache, which
            // ignores the uninitialized flag of an extent.
            Run::Mapped { phys, .. } => buf.load(self, phys)?,
        }
        if self.verify_csum() {
            let block = buf.bytes(self);
            // Index blocks first: an htree root made from a linear block may
            // still hold the old leaf's tail pattern under its `dx_tail`.
            if self.is_htree(dir) && crate::htree::is_index_block(block, lblk) {
                crate::htree::verify_node(dir, block, lblk)?;
            } else if has_tail(block) {
                let split = block.len() - TAIL_SIZE;
                if crc32c(dir.csum_seed, &block[..split]) != le32(block, split + 8) {
                    return Err(Error::Corrupt(Corruption::Checksum {
                        structure: Structure::DirectoryBlock,
                        ino: dir.ino,
                        location: lblk,
                    }));
                }
            } else {
                return Err(Error::Corrupt(Corruption::Checksum {
                    structure: Structure::DirectoryBlock,
                    ino: dir.ino,
                    location: lblk,
                }));
            }
        }
        Ok(None)
    }

    /// Starts iterating over directory `dir` from the beginning.
    pub fn read_dir<'a>(&'a self, dir: &'a Inode) -> Result<ReadDir<'a>> {
        self.read_dir_at(dir, 0)
    }

    /// Starts iterating over directory `dir` at `cookie` (0 for the start,
    /// or a [`DirEntry::next_cookie`]).
    pub fn read_dir_at<'a>(&'a self, dir: &'a Inode, cookie: u64) -> Result<ReadDir<'a>> {
        if !dir.is_dir() {
            return Err(Error::NotADirectory);
        }
        Ok(ReadDir {
            fs: self,
            dir,
            pos: cookie,
            buf: BlockBuf::default(),
            meta: BlockBuf::default(),
            loaded: None,
            resync: true,
            done: false,
            inline: alloc::vec::Vec::new(),
        })
    }

    /// Looks up `name` in directory `dir`; `Ok(None)` if it is absent.
    ///
    /// Uses the htree index when the directory has one; a damaged index
    /// falls back to a linear scan, as Linux does.
    pub fn lookup_in(&self, dir: &Inode, name: &[u8]) -> Result<Option<InodeNumber>> {
        if !dir.is_dir() {
            return Err(Error::NotADirectory);
        }
        if name.len() > 255 {
            return Err(Error::NameTooLong);
        }
        if name.is_empty() {
            return Ok(None);
        }
        // `.` and `..` are the first entries of block 0, outside the index.
        let dots = name == b"." || name == b"..";
        if !dots
            && self.is_htree(dir)
            && dir.flags & crate::inode::FLAG_CASEFOLD == 0
            && let Some(found) = crate::htree::lookup(self, dir, name)?
        {
            return Ok(found);
        }
        for entry in self.read_dir(dir)? {
            let entry = entry?;
            if entry.name() == name {
                return Ok(Some(entry.ino));
            }
        }
        Ok(None)
    }
}

/// An iterator over the entries of a directory (including `.` and `..`).
pub struct ReadDir<'a> {
    fs: &'a Ext4,
    dir: &'a Inode,
    pos: u64,
    buf: BlockBuf,
    meta: BlockBuf,
    loaded: Option<u64>,
    resync: bool,
    done: bool,
    /// The contents of an inline directory, read on first use.
    inline: alloc::vec::Vec<u8>,
}

impl core::fmt::Debug for ReadDir<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReadDir")
            .field("dir", &self.dir.ino)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl ReadDir<'_> {
    /// The cookie of the next entry to be returned.
    pub fn cookie(&self) -> u64 {
        self.pos
    }

    fn file_type(&self, t: u8) -> Option<FileType> {
        if self.fs.sb.has_filetype() {
            FileType::from_dirent(t)
        } else {
            None
        }
    }

    fn next_inline(&mut self) -> Result<Option<DirEntry>> {
        let dir = self.dir;
        match self.pos {
            0 => {
                self.pos = 1;
                return Ok(Some(DirEntry::new(
                    dir.ino,
                    b".",
                    Some(FileType::Directory),
                    1,
                )));
            }
            1..INLINE_PARENT => {
                self.pos = INLINE_PARENT;
                let parent = le32(&dir.block, 0);
                return Ok(Some(DirEntry::new(
                    parent,
                    b"..",
                    Some(FileType::Directory),
                    INLINE_PARENT,
                )));
            }
            _ => {}
        }
        if self.inline.is_empty() {
            // Like Linux, treat the block area and the `system.data` value
            // as one buffer whose entries start after the parent pointer.
            let tail = crate::xattr::inline_data_tail(dir)?;
            self.inline.reserve_exact(60 + tail.len());
            self.inline.extend_from_slice(&dir.block);
            self.inline.extend_from_slice(tail);
        }
        let region = &self.inline[..];
        loop {
            let Ok(mut at) = usize::try_from(self.pos) else {
                return Ok(None);
            };
            if self.resync {
                self.resync = false;
                // Linux ends an inline directory at its first damaged entry.
                let Ok(found) = resync_from(self.fs, dir.ino, region, 4, at) else {
                    return Ok(None);
                };
                at = found;
                self.pos = at as u64;
            }
            if at >= region.len() {
                return Ok(None);
            }
            let Ok(e) = parse_entry(self.fs, dir.ino, region, at) else {
                return Ok(None);
            };
            self.pos += e.rec_len as u64;
            if e.ino != 0 && !e.name.is_empty() {
                return Ok(Some(DirEntry::new(
                    e.ino,
                    e.name,
                    self.file_type(e.file_type),
                    self.pos,
                )));
            }
        }
    }

    fn next_block_entry(&mut self) -> Result<Option<DirEntry>> {
        let fs = self.fs;
        let bits = fs.sb.block_size_bits;
        let mask = u64::from(fs.sb.block_size) - 1;
        loop {
            if self.pos >= self.dir.size {
                return Ok(None);
            }
            let lblk = self.pos >> bits;
            if self.loaded != Some(lblk) {
                if let Some(hole) =
                    fs.load_dir_block(self.dir, lblk, &mut self.buf, &mut self.meta)?
                {
                    self.pos = block_start(lblk.saturating_add(hole), bits);
                    self.resync = false;
                    continue;
                }
                self.loaded = Some(lblk);
            }
            let block = self.buf.bytes(fs);
            // The offset within a block is below the block size.
            let mut at = usize::try_from(self.pos & mask).map_err(|_| Error::InvalidArgument)?;
            if self.resync {
                at = resync(fs, self.dir.ino, block, at).unwrap_or(block.len());
                self.resync = false;
                self.pos = (lblk << bits) + at as u64;
                if at >= block.len() {
                    continue;
                }
            }
            let Ok(e) = parse_entry(fs, self.dir.ino, block, at) else {
                // Linux skips the rest of a block with a damaged entry.
                self.pos = block_start(lblk.saturating_add(1), bits);
                continue;
            };
            self.pos += e.rec_len as u64;
            if e.ino != 0 && !e.name.is_empty() {
                let ft = self.file_type(e.file_type);
                return Ok(Some(DirEntry::new(e.ino, e.name, ft, self.pos)));
            }
        }
    }
}

/// The byte offset of logical block `lblk`, saturating at `u64::MAX`.
fn block_start(lblk: u64, bits: u32) -> u64 {
    lblk.checked_shl(bits)
        .filter(|p| p >> bits == lblk)
        .unwrap_or(u64::MAX)
}

/// Returns the offset of the first entry at or after `target` in `region`.
fn resync(fs: &Ext4, dir: u32, region: &[u8], target: usize) -> Result<usize> {
    resync_from(fs, dir, region, 0, target)
}

/// Like [`resync`], for a region whose first entry is at `first`.
fn resync_from(fs: &Ext4, dir: u32, region: &[u8], first: usize, target: usize) -> Result<usize> {
    let mut at = first;
    while at < target && at < region.len() {
        at += parse_entry(fs, dir, region, at)?.rec_len;
    }
    Ok(at)
}

impl Iterator for ReadDir<'_> {
    type Item = Result<DirEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = if self.dir.has_inline_data() {
            self.next_inline()
        } else {
            self.next_block_entry()
        };
        match r {
            // Names in an encrypted directory are ciphertext; without the
            // key only `.` and `..` can be listed.
            Ok(Some(e)) if self.dir.is_encrypted() && e.name() != b"." && e.name() != b".." => {
                self.done = true;
                Some(Err(Error::NotSupported))
            }
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
