//! Inodes: what the hard links of one remote file share (gVisor gofer's
//! `inode`): cached metadata, the page cache, the open I/O handles and the
//! file's locks.
//!
//! # Reference model
//!
//! Dentries hold their inode (`Arc`); the filesystem's inode table holds
//! only `Weak`s, keyed by the qid path (the server's inode number), so two
//! dentries naming the same file share one inode. When the last dentry
//! goes, dropping the inode writes its dirty pages back, frees them in the
//! memory file and clunks its handles.
//!
//! # Lock order
//!
//! `writer` → (the I/O source or destination: an address space's locks,
//! which fault in mappings through `translate`) → `maps` (memory
//! mappings) → `data` (page cache) → `meta` → `handles`.
//! `symlink_target` and `host_file` are leaves. Cached reads and writes
//! take `data` only inside the copy callbacks of the destination or
//! source, so a read into memory mapped from the same file cannot
//! deadlock with its own fault.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use abi_linux::{Errno, FileMode, FileType, OpenFlags, Statx, StatxMask, StatxTimestamp, Timespec};
use vfs_core::io::{IoDest, IoSource};
use vfs_core::lock::{FileLocks, LockTable};
use vfs_core::memmap::{AllocKind, MappingSet, MemoryFile};
use vfs_core::range_set::{DirtySet, FileRangeSet, page_round_down, page_round_up};
use vfs_core::{FileOwner, Gid, Uid};

use super::mmap::HostFile;
use crate::client::Fid;
use crate::message::{Attr, getattr};

/// The readahead window of a page-cache fill.
pub const READAHEAD: u64 = 64 * 1024;

/// The largest buffer one server transfer of the page cache uses.
const CHUNK: u64 = 1 << 20;

/// The read and write handles of an inode, when asked for.
pub(crate) type HandlePair = (Option<Arc<Fid>>, Option<Arc<Fid>>);

/// Locks `m`, ignoring poisoning.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Converts a 9P timestamp (unsigned on the wire) to a Linux one.
pub(crate) fn from_wire_time(t: crate::message::Timespec) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(t.sec).unwrap_or(i64::MAX),
        tv_nsec: i64::try_from(t.nsec.min(999_999_999)).unwrap_or(0),
    }
}

fn to_statx_time(t: Timespec) -> StatxTimestamp {
    StatxTimestamp {
        tv_sec: t.tv_sec,
        tv_nsec: u32::try_from(t.tv_nsec).unwrap_or(0),
        _reserved: 0,
    }
}

/// Cached metadata of a file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Metadata {
    /// Type and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: Uid,
    /// Group.
    pub gid: Gid,
    /// Hard links.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    /// Preferred I/O size.
    pub blksize: u64,
    /// Device number of a device node.
    pub rdev: u64,
    /// Last access.
    pub atime: Timespec,
    /// Last modification.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
    /// Creation.
    pub btime: Timespec,
}

impl Metadata {
    /// The metadata of a Rgetattr; fields the server left out keep the
    /// values of `old`.
    pub fn from_attr(attr: &Attr, old: Metadata) -> Self {
        let v = attr.valid;
        let pick = |bit: u64, new: u64, old: u64| if v & bit != 0 { new } else { old };
        let time = |bit: u64, new, old| {
            if v & bit != 0 {
                from_wire_time(new)
            } else {
                old
            }
        };
        Self {
            mode: if v & getattr::MODE != 0 {
                attr.mode
            } else {
                old.mode
            },
            uid: if v & getattr::UID != 0 {
                attr.uid
            } else {
                old.uid
            },
            gid: if v & getattr::GID != 0 {
                attr.gid
            } else {
                old.gid
            },
            nlink: pick(getattr::NLINK, attr.nlink, old.nlink),
            size: pick(getattr::SIZE, attr.size, old.size),
            blocks: pick(getattr::BLOCKS, attr.blocks, old.blocks),
            blksize: if attr.blksize != 0 {
                attr.blksize
            } else {
                old.blksize.max(4096)
            },
            rdev: pick(getattr::RDEV, attr.rdev, old.rdev),
            atime: time(getattr::ATIME, attr.atime, old.atime),
            mtime: time(getattr::MTIME, attr.mtime, old.mtime),
            ctime: time(getattr::CTIME, attr.ctime, old.ctime),
            btime: time(getattr::BTIME, attr.btime, old.btime),
        }
    }

    /// The file type.
    pub fn file_type(&self) -> Option<FileType> {
        FileMode(self.mode).file_type()
    }

    /// The owner and mode, for permission checks.
    pub fn owner(&self) -> FileOwner {
        FileOwner {
            mode: FileMode(self.mode),
            uid: self.uid,
            gid: self.gid,
        }
    }
}

/// The page cache of a regular file: which file ranges are cached where in
/// the memory file, and which of them differ from the server's copy.
#[derive(Default)]
pub struct PageCache {
    pub(super) cache: FileRangeSet,
    pub(super) dirty: DirtySet,
}

impl PageCache {
    /// The cached segment that starts at `range.start`, clipped to
    /// `range`: its file range and the memory range holding it; `None`
    /// when `range.start` is not cached.
    fn cached_at(&self, range: Range<u64>) -> Option<(Range<u64>, Range<u64>)> {
        let start = range.start;
        self.cache
            .translate(range)
            .next()
            .filter(|(fr, _)| fr.start == start)
    }
}

/// The opened fids of an inode (gVisor's read and write handles), shared
/// by every file description of the file.
#[derive(Default)]
struct Handles {
    read: Option<Arc<Fid>>,
    write: Option<Arc<Fid>>,
}

/// A remote file.
pub struct Inode {
    ino: u64,
    /// The memory mappings of the file (see [`super::mmap`]).
    pub(super) maps: Mutex<MappingSet>,
    meta: Mutex<Metadata>,
    /// Serializes cached writes (Linux's inode lock for writes); never
    /// taken by a mapping's translation.
    writer: Mutex<()>,
    pub(super) data: Mutex<PageCache>,
    handles: Mutex<Handles>,
    /// The donated fds mappings translate to, once a mapping used them.
    pub(super) host_file: Mutex<Option<Arc<HostFile>>>,
    locks: FileLocks,
    symlink_target: Mutex<Option<Vec<u8>>>,
    pub(super) mf: Arc<dyn MemoryFile>,
    /// Whether the file's data changed on the server since its block count
    /// was last fetched (the count is the server's to know).
    blocks_stale: AtomicBool,
}

impl std::fmt::Debug for Inode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inode").field("ino", &self.ino).finish()
    }
}

impl Inode {
    /// A new inode for the file `attr` describes.
    pub(crate) fn new(attr: &Attr, mf: Arc<dyn MemoryFile>, lock_table: Arc<LockTable>) -> Self {
        Self {
            ino: attr.qid.path,
            maps: Mutex::new(MappingSet::new()),
            host_file: Mutex::new(None),
            meta: Mutex::new(Metadata::from_attr(attr, Metadata::default())),
            writer: Mutex::new(()),
            data: Mutex::new(PageCache::default()),
            handles: Mutex::new(Handles::default()),
            locks: FileLocks::new(lock_table),
            symlink_target: Mutex::new(None),
            mf,
            blocks_stale: AtomicBool::new(false),
        }
    }

    /// The inode number (the server's qid path).
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// A copy of the cached metadata.
    pub fn metadata(&self) -> Metadata {
        *lock(&self.meta)
    }

    /// Replaces the cached metadata with a fresh Rgetattr.
    pub(crate) fn update_from_attr(&self, attr: &Attr) {
        let mut meta = lock(&self.meta);
        *meta = Metadata::from_attr(attr, *meta);
    }

    /// Changes the cached metadata.
    pub(crate) fn update(&self, f: impl FnOnce(&mut Metadata)) {
        f(&mut lock(&self.meta));
    }

    /// Notes that the file's data on the server changed, so its cached
    /// block count is out of date.
    pub(crate) fn mark_data_changed(&self) {
        self.blocks_stale.store(true, Ordering::Release);
    }

    /// Fetches the block count again if the data changed since it was
    /// fetched, as a stat on Linux sees the allocation its writes made.
    pub(crate) fn refresh_blocks(&self, fid: &Fid) -> Result<(), Errno> {
        if !self.blocks_stale.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        match fid.getattr(getattr::BLOCKS) {
            Ok(attr) if attr.valid & getattr::BLOCKS != 0 => {
                lock(&self.meta).blocks = attr.blocks;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                self.mark_data_changed();
                Err(e)
            }
        }
    }

    /// The file's lock state.
    pub(crate) fn locks(&self) -> &FileLocks {
        &self.locks
    }

    /// The cached symlink target.
    pub(crate) fn cached_target(&self) -> Option<Vec<u8>> {
        lock(&self.symlink_target).clone()
    }

    /// Caches the symlink target.
    pub(crate) fn cache_target(&self, target: &[u8]) {
        *lock(&self.symlink_target) = Some(target.to_vec());
    }

    /// Builds the `statx` of the file.
    pub(crate) fn statx(&self, dev: u64, mnt_id: u64) -> Statx {
        let m = self.metadata();
        Statx {
            stx_mask: (StatxMask::BASIC_STATS | StatxMask::BTIME | StatxMask::MNT_ID).bits(),
            stx_blksize: u32::try_from(m.blksize).unwrap_or(4096),
            stx_nlink: u32::try_from(m.nlink).unwrap_or(u32::MAX),
            stx_uid: m.uid,
            stx_gid: m.gid,
            stx_mode: (m.mode & 0xffff) as u16,
            stx_ino: self.ino,
            stx_size: m.size,
            stx_blocks: m.blocks,
            stx_atime: to_statx_time(m.atime),
            stx_btime: to_statx_time(m.btime),
            stx_ctime: to_statx_time(m.ctime),
            stx_mtime: to_statx_time(m.mtime),
            stx_rdev_major: abi_linux::dev_major(m.rdev),
            stx_rdev_minor: abi_linux::dev_minor(m.rdev),
            stx_dev_major: abi_linux::dev_major(dev),
            stx_dev_minor: abi_linux::dev_minor(dev),
            stx_mnt_id: mnt_id,
            ..Statx::default()
        }
    }

    /// Returns the handles for reading and writing, opening those missing
    /// by walking a clone of `source` and opening it.
    pub(crate) fn ensure_handles(
        &self,
        source: &Fid,
        read: bool,
        write: bool,
    ) -> Result<HandlePair, Errno> {
        let mut h = lock(&self.handles);
        let need_read = read && h.read.is_none();
        let need_write = write && h.write.is_none();
        if need_read || need_write {
            let flags = match (need_read, need_write) {
                (true, true) => OpenFlags::RDWR,
                (true, false) => OpenFlags::empty(),
                _ => OpenFlags::WRONLY,
            };
            let mut fid = source.walk::<&[u8]>(&[])?;
            fid.lopen(flags.bits())?;
            let fid = Arc::new(fid);
            if need_read {
                h.read = Some(Arc::clone(&fid));
            }
            if need_write {
                h.write = Some(fid);
            }
        }
        Ok((
            if read { h.read.clone() } else { None },
            if write { h.write.clone() } else { None },
        ))
    }

    /// Adopts a handle Tlcreate opened.
    pub(crate) fn adopt_handle(&self, fid: Fid, read: bool, write: bool) {
        let fid = Arc::new(fid);
        let mut h = lock(&self.handles);
        if read && h.read.is_none() {
            h.read = Some(Arc::clone(&fid));
        }
        if write && h.write.is_none() {
            h.write = Some(fid);
        }
    }

    /// The read handle, if one was opened.
    pub(super) fn read_handle(&self) -> Option<Arc<Fid>> {
        lock(&self.handles).read.clone()
    }

    /// Makes later translations use the donated fds of the handles, if
    /// the server donated them; returns whether it did. Once used, the
    /// host fds stay (mappings already refer to their pages).
    pub(crate) fn use_host_mapping(&self) -> Result<bool, Errno> {
        let mut host = lock(&self.host_file);
        if host.is_some() {
            return Ok(true);
        }
        let (read, write) = {
            let h = lock(&self.handles);
            (h.read.clone(), h.write.clone())
        };
        let Some(read) = read else {
            return Ok(false);
        };
        let file = HostFile::from_handles(&read, write.as_deref())?;
        let found = file.is_some();
        *host = file.map(Arc::new);
        Ok(found)
    }

    /// Any open handle (for Tfsync), preferring the write handle.
    pub(crate) fn any_handle(&self) -> Option<Arc<Fid>> {
        let h = lock(&self.handles);
        h.write.clone().or_else(|| h.read.clone())
    }

    /// Whether the read handle has a donated host fd (I/O then bypasses
    /// the page cache, as gVisor does with a host fd).
    pub(crate) fn has_host_fd(&self) -> bool {
        let h = lock(&self.handles);
        h.read
            .as_ref()
            .or(h.write.as_ref())
            .is_some_and(|f| f.host_fd().is_some())
    }

    /// Reads at `offset` through the page cache, filling gaps from `h` with
    /// a readahead window. Stops at the cached size.
    ///
    /// The page-cache lock is taken for each block of `dst` inside its
    /// copy callback, never across a call into `dst` (which may fault in a
    /// mapping of this file, whose translation takes the same lock).
    pub(crate) fn read_cached(
        &self,
        dst: &mut dyn IoDest,
        offset: u64,
        h: &Fid,
    ) -> Result<usize, Errno> {
        let size = lock(&self.meta).size;
        if offset >= size {
            return Ok(0);
        }
        let end = offset.saturating_add(dst.remaining() as u64).min(size);
        let mut off = offset;
        dst.copy_from_reader(&mut |block| {
            let mut data = lock(&self.data);
            let block_end = end.min(off.saturating_add(block.len() as u64));
            let mut filled = 0usize;
            while off < block_end {
                match data.cached_at(off..block_end) {
                    Some((fr, mr)) => {
                        let want = (fr.end - fr.start) as usize;
                        let out = &mut block[filled..filled + want];
                        let copied = self.mf.read_at(mr.start, out);
                        let n = match copied {
                            Ok(n) => n,
                            Err(e) if filled == 0 => return Err(e),
                            Err(_) => break,
                        };
                        filled += n;
                        off += n as u64;
                        if n < want {
                            break;
                        }
                    }
                    None => {
                        let gap_end = data
                            .cache
                            .gaps(off..u64::MAX)
                            .next()
                            .map_or(u64::MAX, |g| g.end);
                        let start = page_round_down(off);
                        let size_end = page_round_up(size).ok_or(Errno::EFBIG)?;
                        let want_end = page_round_up(end)
                            .ok_or(Errno::EFBIG)?
                            .max(start.saturating_add(READAHEAD));
                        let fill_end = gap_end.min(size_end).min(want_end);
                        if fill_end <= start {
                            break;
                        }
                        if let Err(e) = self.fill(&mut data, start..fill_end, h) {
                            if filled == 0 {
                                return Err(e);
                            }
                            break;
                        }
                        if data.cache.memory_offset(off).is_none() {
                            // The server had less than the cached size says.
                            break;
                        }
                    }
                }
            }
            Ok(filled)
        })
    }

    /// Reads `range` (page-aligned, uncached) from the server into newly
    /// allocated cache pages; caches only the pages the server returned
    /// bytes for.
    pub(super) fn fill(
        &self,
        data: &mut PageCache,
        range: Range<u64>,
        h: &Fid,
    ) -> Result<(), Errno> {
        let len = range.end - range.start;
        let mem = self.mf.allocate(len, AllocKind::PageCache)?;
        let mut got = 0u64;
        let result = (|| {
            let mut buf = vec![0u8; usize::try_from(len.min(CHUNK)).map_err(|_| Errno::ENOMEM)?];
            while got < len {
                let want = (len - got).min(CHUNK) as usize;
                let n = h.read_at(&mut buf[..want], range.start + got)?;
                self.mf.write_at(mem.start + got, &buf[..n])?;
                got += n as u64;
                if n < want {
                    break;
                }
            }
            Ok::<(), Errno>(())
        })();
        let cached = page_round_up(got).unwrap_or(len).min(len);
        if cached < len {
            self.mf.dec_ref(mem.start + cached..mem.end)?;
        }
        if cached > 0 {
            data.cache
                .insert(range.start..range.start + cached, mem.start)?;
        }
        result
    }

    /// Writes at `offset`: into cached pages (marking them dirty), and
    /// straight to the server through `h` where nothing is cached. With
    /// `writethrough`, the dirtied pages are written back before returning.
    /// Updates the cached size.
    ///
    /// As in [`Self::read_cached`], the page-cache lock is taken inside
    /// the source's copy callback only; the write lock serializes
    /// writers.
    pub(crate) fn write_cached(
        &self,
        src: &mut dyn IoSource,
        offset: u64,
        h: &Fid,
        writethrough: bool,
    ) -> Result<usize, Errno> {
        let _writer = lock(&self.writer);
        let end = offset
            .checked_add(src.remaining() as u64)
            .ok_or(Errno::EFBIG)?;
        let mut off = offset;
        let result = src.copy_to_writer(&mut |block| {
            let mut data = lock(&self.data);
            let block_end = end.min(off.saturating_add(block.len() as u64));
            let mut used = 0usize;
            while off < block_end {
                match data.cached_at(off..block_end) {
                    Some((fr, mr)) => {
                        let want = (fr.end - fr.start) as usize;
                        let input = &block[used..used + want];
                        let copied = self.mf.write_at(mr.start, input);
                        let n = match copied {
                            Ok(n) => n,
                            Err(e) if used == 0 => return Err(e),
                            Err(_) => break,
                        };
                        data.dirty.mark_dirty(off..off + n as u64);
                        used += n;
                        off += n as u64;
                        if n < want {
                            break;
                        }
                    }
                    None => {
                        let gap_end = data
                            .cache
                            .gaps(off..block_end)
                            .next()
                            .map_or(block_end, |g| g.end.min(block_end));
                        let want = ((gap_end - off).min(CHUNK)) as usize;
                        let n = match h.write_at(&block[used..used + want], off) {
                            Ok(n) => n,
                            Err(e) if used == 0 => return Err(e),
                            Err(_) => break,
                        };
                        used += n;
                        off += n as u64;
                        if n < want {
                            break;
                        }
                    }
                }
            }
            Ok(used)
        });
        let written = off - offset;
        {
            let mut meta = lock(&self.meta);
            if off > meta.size {
                meta.size = off;
            }
        }
        self.mark_data_changed();
        if writethrough && written > 0 {
            let size = lock(&self.meta).size;
            let mut data = lock(&self.data);
            self.writeback_locked(&mut data, offset..off, size, h)?;
        }
        if written == 0 {
            result?;
        }
        Ok(written as usize)
    }

    /// Writes the dirty cached pages of `range` back through `h`.
    pub(crate) fn writeback(&self, range: Range<u64>, h: &Fid) -> Result<(), Errno> {
        let mut data = lock(&self.data);
        let size = lock(&self.meta).size;
        self.writeback_locked(&mut data, range, size, h)
    }

    /// Whether any cached page is dirty.
    pub(crate) fn has_dirty(&self) -> bool {
        !lock(&self.data).dirty.as_set().is_empty()
    }

    pub(super) fn writeback_locked(
        &self,
        data: &mut PageCache,
        range: Range<u64>,
        size: u64,
        h: &Fid,
    ) -> Result<(), Errno> {
        let end = range.end.min(size);
        if range.start >= end {
            return Ok(());
        }
        let dirty: Vec<Range<u64>> = data.dirty.dirty_ranges(range.start..end).collect();
        for r in dirty {
            let pieces: Vec<(Range<u64>, Range<u64>)> = data.cache.translate(r.clone()).collect();
            for (fr, mr) in pieces {
                let mut pos = 0;
                let len = fr.end - fr.start;
                while pos < len {
                    let n = (len - pos).min(CHUNK);
                    let mut buf = vec![0u8; n as usize];
                    self.mf.read_at(mr.start + pos, &mut buf)?;
                    let w = h.write_at(&buf, fr.start + pos)?;
                    if (w as u64) < n {
                        return Err(Errno::EIO);
                    }
                    pos += n;
                }
            }
            data.dirty.mark_clean(r);
            self.mark_data_changed();
        }
        Ok(())
    }

    /// Forgets the cached pages of `range` (after writing them back): what
    /// `O_DIRECT` I/O does so later cached reads see the server's bytes.
    pub(crate) fn drop_cached(&self, range: Range<u64>, h: Option<&Fid>) -> Result<(), Errno> {
        if let Some(h) = h {
            self.writeback(range.clone(), h)?;
        }
        let start = page_round_down(range.start);
        let end = page_round_up(range.end).unwrap_or(u64::MAX);
        let maps = lock(&self.maps);
        let mut data = lock(&self.data);
        // Mappings must fault again and see the server's bytes; private
        // copies stay, as Linux keeps them across direct I/O.
        maps.invalidate(start..end, false);
        data.dirty.allow_clean(start..end);
        data.dirty.mark_clean(start..end);
        for mem in data.cache.remove(start..end) {
            self.mf.dec_ref(mem)?;
        }
        Ok(())
    }

    /// Truncates the page cache to `new_size` and records the size: pages
    /// past it are freed and the rest of the last page is zeroed.
    pub(crate) fn truncate_cache(&self, new_size: u64) -> Result<(), Errno> {
        let keep_end = page_round_up(new_size).unwrap_or(u64::MAX);
        let maps = lock(&self.maps);
        let old_size = lock(&self.meta).size;
        let old_end = page_round_up(old_size).unwrap_or(u64::MAX);
        if old_end > keep_end {
            // As Linux's truncate_pagecache: mappings of the dropped pages
            // go, private copies included.
            maps.invalidate(keep_end..old_end, true);
        }
        let mut data = lock(&self.data);
        for mem in data.cache.truncate(new_size) {
            self.mf.dec_ref(mem)?;
        }
        if new_size < keep_end {
            let pieces: Vec<_> = data.cache.translate(new_size..keep_end).collect();
            for (_, mr) in pieces {
                self.mf.zero(mr)?;
            }
        }
        data.dirty.allow_clean(keep_end..u64::MAX);
        data.dirty.mark_clean(new_size..u64::MAX);
        lock(&self.meta).size = new_size;
        self.mark_data_changed();
        Ok(())
    }

    /// Bytes of the file cached in the memory file.
    pub fn cached_bytes(&self) -> u64 {
        lock(&self.data).cache.as_set().span()
    }
}

impl Drop for Inode {
    fn drop(&mut self) {
        let write = lock(&self.handles).write.clone();
        let data = self.data.get_mut().unwrap_or_else(PoisonError::into_inner);
        let size = self
            .meta
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .size;
        if let Some(h) = write {
            // Eviction has no caller to report to: the bytes are lost if the
            // server refuses them, as when Linux fails a writeback.
            let dirty: Vec<Range<u64>> = data.dirty.dirty_ranges(0..size).collect();
            for r in dirty {
                let pieces: Vec<(Range<u64>, Range<u64>)> = data.cache.translate(r).collect();
                for (fr, mr) in pieces {
                    let mut buf = vec![0u8; (fr.end - fr.start) as usize];
                    if self.mf.read_at(mr.start, &mut buf).is_ok() {
                        let _ = h.write_at(&buf, fr.start);
                    }
                }
            }
        }
        for mem in data.cache.remove(0..u64::MAX) {
            // The ranges were allocated by this inode and are freed once.
            let _ = self.mf.dec_ref(mem);
        }
    }
}
