//! memfs regular files: sparse page-granular contents (holes read as
//! zeros) kept in the filesystem's [`MemoryFile`], truncate, fallocate,
//! `SEEK_DATA`/`SEEK_HOLE`, and `mmap` through vfs-core's memmap
//! contracts ([`Mappable`]).
//!
//! # Locking
//!
//! A file's write lock, then (through the I/O destination or source,
//! which may take an address space's locks to resolve application
//! memory and fault in mappings of any file, this one included) its
//! contents lock, then its mappings lock (truncation invalidates mappings
//! with both held; address spaces are called with the mappings lock held,
//! as the contract says). Reads and writes take the contents lock only
//! inside the copy callbacks of [`IoDest`] and [`IoSource`], never across
//! a call into them, so an address space's fault path (which translates
//! with the contents lock) and a read or write into memory mapped from
//! the same file cannot deadlock.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, btree_map};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use abi_linux::{
    AccessMode, Errno, FallocFlags, OpenFlags, SealFlags, Statfs, Statx, StatxMask, Whence,
};
use core::sync::atomic::{AtomicU32, Ordering};
use vfs_core::io::{IoDest, IoSource};
use vfs_core::lock::FileLocks;
use vfs_core::memmap::{
    AccessType, AllocKind, Mappable, MappableRange, MappingIdentity, MappingSet, MappingSpace,
    MemoryFile, MmapFileAccess, MmapOpts, Translation, generic_configure_mmap,
};
use vfs_core::permissions;
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileDescriptionOptions, FileRef,
    GetXattrOptions, OpenOptions, ReadOptions, SetStatOptions, SetXattrOptions, StatOptions,
    VirtualDentry, WriteOptions,
};

use super::lower::{self, Lower, LowerPath};
use super::{MemfsState, PAGE_SIZE, Xattrs};
use crate::dentry::Dentry;
use crate::directory::file_dentry;
use crate::filesystem::Filesystem;
use crate::inode::{Inode, downcast_inode};
use crate::inode_attrs::InodeAttrs;

/// Zeros that holes read as.
static ZERO_PAGE: [u8; PAGE_SIZE as usize] = [0; PAGE_SIZE as usize];

/// The largest file size (Linux `MAX_LFS_FILESIZE` on 64-bit).
const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// The contents of a file.
struct Contents {
    size: u64,
    /// Offsets in the memory file of the allocated pages, by page index;
    /// absent pages are holes.
    pages: BTreeMap<u64, u64>,
}

/// A memfs regular file.
pub struct RegularFile {
    attrs: InodeAttrs,
    /// Serializes writes (Linux's inode lock for writes); never taken by
    /// `translate`.
    writer: spin::Mutex<()>,
    contents: spin::Mutex<Contents>,
    mappings: spin::Mutex<MappingSet>,
    state: Arc<MemfsState>,
    xattrs: Xattrs,
    /// The `F_SEAL_*` seals (`SealFlags` bits): `F_SEAL_SEAL` for a file
    /// made by `open`, as Linux's shmem files have; a memfd made for
    /// sealing starts with none ([`RegularFile::allow_sealing`]).
    seals: AtomicU32,
    /// For an overlay file, the lower file until the copy-up (its
    /// contents are the lower file's, the pages hold nothing); `None` for
    /// every other file, which never takes the lock.
    lower: Option<spin::Mutex<Option<LowerData>>>,
}

/// The lower file under a file of an overlay.
#[derive(Clone)]
struct LowerData {
    path: LowerPath,
    /// Its `st_blocks`, which `stat` reports until the copy-up.
    blocks: u64,
}

impl RegularFile {
    pub(super) fn new(attrs: InodeAttrs, state: Arc<MemfsState>) -> Arc<Self> {
        Arc::new(Self {
            attrs,
            writer: spin::Mutex::new(()),
            contents: spin::Mutex::new(Contents {
                size: 0,
                pages: BTreeMap::new(),
            }),
            mappings: spin::Mutex::new(MappingSet::new()),
            state,
            xattrs: Xattrs::default(),
            seals: AtomicU32::new(SealFlags::SEAL.bits()),
            lower: None,
        })
    }

    /// The overlay file for the lower file at `path`, whose `stat` is
    /// `stat`.
    pub(super) fn new_lower(stat: &Statx, state: Arc<MemfsState>, path: LowerPath) -> Arc<Self> {
        Arc::new(Self {
            attrs: InodeAttrs::from_stat(stat),
            writer: spin::Mutex::new(()),
            contents: spin::Mutex::new(Contents {
                size: stat.stx_size,
                pages: BTreeMap::new(),
            }),
            mappings: spin::Mutex::new(MappingSet::new()),
            state,
            xattrs: Xattrs::from_lower(Arc::clone(&path)),
            seals: AtomicU32::new(SealFlags::SEAL.bits()),
            lower: Some(spin::Mutex::new(Some(LowerData {
                path,
                blocks: stat.stx_blocks,
            }))),
        })
    }

    /// Validates an `mmap` of the file through `fd` and provides the
    /// file's pages as its mappable.
    fn configure_mmap(
        self: &Arc<Self>,
        fd: &FileDescription,
        opts: &mut MmapOpts,
    ) -> Result<(), Errno> {
        // memfd_check_seals_mmap: no shared writable mapping of a
        // write-sealed file; a future-write seal also keeps a shared
        // read-only mapping from becoming writable.
        let seals = self.seals();
        if !opts.private && seals.intersects(SealFlags::WRITE | SealFlags::FUTURE_WRITE) {
            if opts.perms.write {
                return Err(Errno::EPERM);
            }
            opts.max_perms.write = false;
        }
        let dentry = file_dentry(fd)?;
        let access = MmapFileAccess {
            readable: fd.is_readable(),
            writable: fd.is_writable(),
            append: fd.status_flags().contains(OpenFlags::APPEND),
        };
        let identity = Arc::new(MappedFile {
            name: String::from_utf8_lossy(&dentry.name()).into_owned(),
            dev: dentry.filesystem().dev(),
            ino: self.attrs.ino(),
        });
        generic_configure_mmap(
            opts,
            access,
            Arc::clone(self) as Arc<dyn Mappable>,
            identity,
        )
    }

    /// Whether the file's contents are still the lower file's.
    pub fn is_lower(&self) -> bool {
        self.lower_data().is_some()
    }

    /// The lower file while the contents are still its.
    fn lower_data(&self) -> Option<LowerData> {
        self.lower.as_ref().and_then(|lower| lower.lock().clone())
    }

    /// Copies the first `keep` bytes of the lower file (its whole contents
    /// when `keep` is at least its size) into the file's pages, after
    /// which the file no longer reads the lower layer; nothing to do for a
    /// file that is not an overlay's or is already copied up. Pages of
    /// zeros stay holes.
    fn copy_up(&self, ctx: &dyn Context, keep: u64) -> Result<(), Errno> {
        if !self.is_lower() {
            return Ok(());
        }
        let _writer = self.writer.lock();
        let Some(data) = self.lower_data() else {
            return Ok(());
        };
        let len = self.contents.lock().size.min(keep);
        if len > 0 {
            let layer = self.state.lower()?;
            let file = layer.open(ctx, &data.path)?;
            let copied = self.copy_from(ctx, layer, &file, len);
            file.release(ctx);
            let pages = copied?;
            self.contents.lock().pages = pages;
        }
        if let Some(lower) = &self.lower {
            *lower.lock() = None;
        }
        Ok(())
    }

    /// Reads the first `len` bytes of the lower `file` into new pages.
    fn copy_from(
        &self,
        ctx: &dyn Context,
        layer: &Lower,
        file: &FileRef,
        len: u64,
    ) -> Result<BTreeMap<u64, u64>, Errno> {
        let mut pages = BTreeMap::new();
        let mut buf = alloc::vec![0u8; lower::COPY_CHUNK];
        let mut offset = 0u64;
        let result = (|| {
            while offset < len {
                let want = (len - offset).min(buf.len() as u64) as usize;
                let mut filled = 0;
                while filled < want {
                    let n =
                        layer.read(ctx, file, &mut buf[filled..want], offset + filled as u64)?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                for (i, chunk) in buf[..filled].chunks(PAGE_SIZE as usize).enumerate() {
                    if chunk.iter().all(|&b| b == 0) {
                        continue;
                    }
                    let page = self.allocate_page()?;
                    pages.insert(offset / PAGE_SIZE + i as u64, page);
                    self.memory().write_at(page, chunk)?;
                }
                if filled < want {
                    // The lower file is shorter than it was: the rest
                    // reads as a hole.
                    break;
                }
                offset += filled as u64;
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(pages),
            Err(errno) => {
                for &page in pages.values() {
                    self.free_page(page);
                }
                Err(errno)
            }
        }
    }

    /// The file's seals (`F_GET_SEALS`).
    pub fn seals(&self) -> SealFlags {
        SealFlags::from_bits_retain(self.seals.load(Ordering::SeqCst))
    }

    /// Lets seals be added (`memfd_create` with `MFD_ALLOW_SEALING`), with
    /// `initial` set (`F_SEAL_EXEC` for `MFD_NOEXEC_SEAL`).
    pub fn allow_sealing(&self, initial: SealFlags) {
        self.seals.store(initial.bits(), Ordering::SeqCst);
    }

    /// `F_ADD_SEALS` through a description (`writable`: opened for
    /// writing), as Linux's `memfd_add_seals`.
    ///
    /// Errors: `EPERM` without write access or once `F_SEAL_SEAL` is set;
    /// `EINVAL` for unknown bits; `EBUSY` for `F_SEAL_WRITE` while a shared
    /// writable mapping exists.
    pub fn add_seals(&self, seals: SealFlags, writable: bool) -> Result<(), Errno> {
        if !writable {
            return Err(Errno::EPERM);
        }
        if seals.bits() & !SealFlags::all().bits() != 0 {
            return Err(Errno::EINVAL);
        }
        // The writer lock keeps writes out while a write seal is checked
        // and set.
        let _writer = self.writer.lock();
        let current = self.seals();
        if current.contains(SealFlags::SEAL) {
            return Err(Errno::EPERM);
        }
        if seals.contains(SealFlags::WRITE)
            && !current.contains(SealFlags::WRITE)
            && self.mappings.lock().writable_mapped_bytes() > 0
        {
            return Err(Errno::EBUSY);
        }
        self.seals.fetch_or(seals.bits(), Ordering::SeqCst);
        Ok(())
    }

    /// Whether a seal forbids changing the size from `old` to `new`.
    fn size_sealed(&self, old: u64, new: u64) -> bool {
        let seals = self.seals();
        (new < old && seals.contains(SealFlags::SHRINK))
            || (new > old && seals.contains(SealFlags::GROW))
    }

    /// Whether a seal forbids writing.
    fn write_sealed(&self) -> bool {
        self.seals()
            .intersects(SealFlags::WRITE | SealFlags::FUTURE_WRITE)
    }

    fn memory(&self) -> &Arc<dyn MemoryFile> {
        &self.state.memory
    }

    /// A new zeroed page from the budget and the memory file.
    fn allocate_page(&self) -> Result<u64, Errno> {
        self.state.reserve_pages(1)?;
        match self.memory().allocate(PAGE_SIZE, AllocKind::Tmpfs) {
            Ok(range) => {
                if let Err(errno) = self.memory().zero(range.clone()) {
                    self.free_page(range.start);
                    return Err(errno);
                }
                Ok(range.start)
            }
            Err(_) => {
                self.state.release_pages(1);
                Err(Errno::ENOSPC)
            }
        }
    }

    /// Gives a page back to the memory file (mappings keep their own
    /// references) and to the budget.
    fn free_page(&self, offset: u64) {
        // The range was allocated here with one reference: giving it back
        // cannot fail.
        let _ = self.memory().dec_ref(offset..offset + PAGE_SIZE);
        self.state.release_pages(1);
    }

    /// The file size.
    pub fn size(&self) -> u64 {
        self.contents.lock().size
    }

    /// The number of pages allocated to the file.
    pub fn allocated_pages(&self) -> u64 {
        self.contents.lock().pages.len() as u64
    }

    /// Reads into `dst` from `offset`: at most up to the end of file.
    ///
    /// The contents lock is taken for each block of `dst` inside the copy
    /// callback, after the destination resolved its memory (which may
    /// fault in a mapping of this very file): see the module's locking
    /// notes.
    pub fn read_at(
        &self,
        ctx: &dyn Context,
        dst: &mut dyn IoDest,
        offset: u64,
    ) -> Result<usize, Errno> {
        let mut pos = offset;
        let done = dst.copy_from_reader(&mut |block| {
            let contents = self.contents.lock();
            let end = contents.size.min(pos.saturating_add(block.len() as u64));
            let mut filled = 0usize;
            while pos < end {
                let index = pos / PAGE_SIZE;
                let in_page = (pos % PAGE_SIZE) as usize;
                let len = ((PAGE_SIZE - pos % PAGE_SIZE).min(end - pos)) as usize;
                let out = &mut block[filled..filled + len];
                match contents.pages.get(&index) {
                    Some(&page) => {
                        self.memory().read_at(page + in_page as u64, out)?;
                    }
                    None => out.copy_from_slice(&ZERO_PAGE[in_page..in_page + len]),
                }
                filled += len;
                pos += len as u64;
            }
            Ok(filled)
        })?;
        self.attrs.touch_atime(ctx.now());
        Ok(done)
    }

    /// Writes `src` at `offset` (at the end of file when `append`),
    /// allocating pages from the filesystem's budget. Returns the bytes
    /// written and the offset after them.
    ///
    /// The write lock serializes writers (so an append is atomic) and is
    /// never taken by `translate`; the contents lock is taken for each
    /// block inside the copy callback, after the source resolved its
    /// memory.
    pub fn write_at(
        &self,
        ctx: &dyn Context,
        src: &mut dyn IoSource,
        offset: u64,
        append: bool,
    ) -> Result<(usize, u64), Errno> {
        let _writer = self.writer.lock();
        let size = self.contents.lock().size;
        let offset = if append { size } else { offset };
        if src.remaining() == 0 {
            return Ok((0, offset));
        }
        // Linux's shmem_write_begin: a write seal refuses every write, a
        // grow seal one that would extend the file.
        if self.write_sealed()
            || (self.seals().contains(SealFlags::GROW)
                && offset.saturating_add(src.remaining() as u64) > size)
        {
            return Err(Errno::EPERM);
        }
        let wanted = (src.remaining() as u64).min(MAX_FILE_SIZE.saturating_sub(offset));
        if wanted == 0 {
            return Err(Errno::EFBIG);
        }
        let len = permissions::check_limit(ctx, offset, wanted)?;
        let end = offset + len;
        let mut pos = offset;
        let mut limited = vfs_core::io::Limited::new(src, len as usize);
        let copied = limited.copy_to_writer(&mut |block| {
            let mut contents = self.contents.lock();
            let block_end = end.min(pos + block.len() as u64);
            let mut used = 0usize;
            while pos < block_end {
                let index = pos / PAGE_SIZE;
                let in_page = (pos % PAGE_SIZE) as usize;
                let chunk = ((PAGE_SIZE - pos % PAGE_SIZE).min(block_end - pos)) as usize;
                let page = match contents.pages.entry(index) {
                    btree_map::Entry::Occupied(entry) => *entry.get(),
                    btree_map::Entry::Vacant(entry) => match self.allocate_page() {
                        Ok(page) => *entry.insert(page),
                        Err(errno) if used == 0 => return Err(errno),
                        Err(_) => break,
                    },
                };
                self.memory()
                    .write_at(page + in_page as u64, &block[used..used + chunk])?;
                used += chunk;
                pos += chunk as u64;
                contents.size = contents.size.max(pos);
            }
            Ok(used)
        });
        let written = pos - offset;
        if written > 0 {
            self.attrs.touch_mtime_ctime(ctx.now());
            self.attrs.remove_privs_after_write(ctx.credentials());
            return Ok((written as usize, pos));
        }
        copied.map(|_| (0, offset))
    }

    /// Changes the size: pages past the new end are freed and the tail of
    /// a partial last page zeroed; growing leaves a hole.
    fn truncate_locked(&self, contents: &mut Contents, size: u64) {
        if size < contents.size {
            let first_gone = size.div_ceil(PAGE_SIZE);
            // Mappings of the pages past the end lose them, private copies
            // included (Linux's truncate_pagecache).
            let old_end = contents.size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
            if first_gone * PAGE_SIZE < old_end {
                self.mappings
                    .lock()
                    .invalidate(first_gone * PAGE_SIZE..old_end, true);
            }
            let gone = contents.pages.split_off(&first_gone);
            for &page in gone.values() {
                self.free_page(page);
            }
            if !size.is_multiple_of(PAGE_SIZE)
                && let Some(&page) = contents.pages.get(&(size / PAGE_SIZE))
            {
                let _ = self
                    .memory()
                    .zero(page + size % PAGE_SIZE..page + PAGE_SIZE);
            }
        }
        contents.size = size;
    }

    /// Truncates to `size` and sets the modification and change times, as
    /// `truncate(2)` and `O_TRUNC` do.
    ///
    /// Errors: `EPERM` if a seal forbids the change of size.
    pub fn truncate(&self, ctx: &dyn Context, size: u64) -> Result<(), Errno> {
        let mut contents = self.contents.lock();
        if self.size_sealed(contents.size, size) {
            return Err(Errno::EPERM);
        }
        self.truncate_locked(&mut contents, size);
        drop(contents);
        self.attrs.touch_mtime_ctime(ctx.now());
        Ok(())
    }

    /// `fallocate(2)`: mode 0 and `FALLOC_FL_KEEP_SIZE` allocate (all or
    /// nothing against the budget, `ENOSPC`), `FALLOC_FL_PUNCH_HOLE` (with
    /// `KEEP_SIZE`) frees whole pages and zeroes partial ones. Other modes
    /// are `EOPNOTSUPP`, as on tmpfs.
    pub fn allocate(
        &self,
        ctx: &dyn Context,
        mode: FallocFlags,
        offset: u64,
        len: u64,
    ) -> Result<(), Errno> {
        if !(mode - (FallocFlags::KEEP_SIZE | FallocFlags::PUNCH_HOLE)).is_empty() {
            return Err(Errno::EOPNOTSUPP);
        }
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        if end > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let mut contents = self.contents.lock();
        if mode.contains(FallocFlags::PUNCH_HOLE) {
            if !mode.contains(FallocFlags::KEEP_SIZE) {
                return Err(Errno::EOPNOTSUPP);
            }
            if self.write_sealed() {
                return Err(Errno::EPERM);
            }
            let end = end.min(contents.size);
            let mut pos = offset;
            while pos < end {
                let index = pos / PAGE_SIZE;
                let in_page = pos % PAGE_SIZE;
                let chunk = (PAGE_SIZE - in_page).min(end - pos);
                if chunk == PAGE_SIZE {
                    if let Some(page) = contents.pages.remove(&index) {
                        self.mappings
                            .lock()
                            .invalidate(index * PAGE_SIZE..(index + 1) * PAGE_SIZE, true);
                        self.free_page(page);
                    }
                } else if let Some(&page) = contents.pages.get(&index) {
                    let _ = self.memory().zero(page + in_page..page + in_page + chunk);
                }
                pos += chunk;
            }
            drop(contents);
            self.attrs.touch_mtime_ctime(ctx.now());
            return Ok(());
        }
        if !mode.contains(FallocFlags::KEEP_SIZE) && self.size_sealed(contents.size, end) {
            return Err(Errno::EPERM);
        }
        if !mode.contains(FallocFlags::KEEP_SIZE) && end > contents.size {
            permissions::check_limit(ctx, 0, end).and_then(|allowed| {
                if allowed < end {
                    ctx.file_size_limit_exceeded();
                    Err(Errno::EFBIG)
                } else {
                    Ok(())
                }
            })?;
        }
        let first = offset / PAGE_SIZE;
        let last = end.div_ceil(PAGE_SIZE);
        let missing: Vec<u64> = (first..last)
            .filter(|i| !contents.pages.contains_key(i))
            .collect();
        // All or nothing against the budget.
        self.state.reserve_pages(missing.len() as u64)?;
        self.state.release_pages(missing.len() as u64);
        for index in missing {
            let page = self.allocate_page()?;
            contents.pages.insert(index, page);
        }
        if !mode.contains(FallocFlags::KEEP_SIZE) && end > contents.size {
            contents.size = end;
            drop(contents);
            self.attrs.touch_mtime_ctime(ctx.now());
        }
        Ok(())
    }

    /// `SEEK_DATA` (`hole == false`) or `SEEK_HOLE` from `offset`:
    /// allocated pages are data. `ENXIO` at or past the end of file.
    pub fn seek_data_or_hole(&self, offset: u64, hole: bool) -> Result<u64, Errno> {
        let contents = self.contents.lock();
        if offset >= contents.size {
            return Err(Errno::ENXIO);
        }
        let mut index = offset / PAGE_SIZE;
        if hole {
            while contents.pages.contains_key(&index) {
                index += 1;
            }
            Ok((index * PAGE_SIZE).max(offset).min(contents.size))
        } else {
            match contents.pages.range(index..).next() {
                Some((&found, _)) if found * PAGE_SIZE < contents.size => {
                    Ok((found * PAGE_SIZE).max(offset))
                }
                _ => Err(Errno::ENXIO),
            }
        }
    }
}

impl Drop for RegularFile {
    fn drop(&mut self) {
        let pages = core::mem::take(&mut self.contents.get_mut().pages);
        for page in pages.into_values() {
            self.free_page(page);
        }
    }
}

impl Mappable for RegularFile {
    fn add_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) -> Result<(), Errno> {
        self.mappings
            .lock()
            .add_mapping(space, app_range, offset, writable)
            .map(|_| ())
    }

    fn remove_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) {
        // The precondition says the mapping exists; a mismatch is the
        // caller's bug and leaves the set unchanged.
        let _ = self
            .mappings
            .lock()
            .remove_mapping(space, app_range, offset, writable);
    }

    /// Translates to the file's pages, allocating the holes in `optional`
    /// below the end of file. Past the end of file is `EFAULT` (`SIGBUS`).
    fn translate(
        &self,
        required: MappableRange,
        optional: MappableRange,
        at: AccessType,
    ) -> Result<Vec<Translation>, Errno> {
        let _ = at;
        let mut contents = self.contents.lock();
        let end = contents.size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        if required.start >= end {
            return Err(Errno::EFAULT);
        }
        let required_end = required.end.min(end);
        let optional = optional.start..optional.end.min(end);
        let mut translations: Vec<Translation> = Vec::new();
        let mut pos = optional.start;
        while pos < optional.end {
            let index = pos / PAGE_SIZE;
            let page = match contents.pages.get(&index) {
                Some(&page) => page,
                None => match self.allocate_page() {
                    Ok(page) => {
                        contents.pages.insert(index, page);
                        page
                    }
                    Err(_) if pos >= required_end => break,
                    Err(_) => return Err(Errno::ENOMEM),
                },
            };
            match translations.last_mut() {
                Some(last)
                    if last.source.end == pos
                        && last.offset + (pos - last.source.start) == page =>
                {
                    last.source.end = pos + PAGE_SIZE;
                }
                _ => translations.push(Translation {
                    source: pos..pos + PAGE_SIZE,
                    file: Arc::clone(self.memory()) as Arc<dyn vfs_core::memmap::File>,
                    offset: page,
                    perms: AccessType::ANY,
                }),
            }
            pos += PAGE_SIZE;
        }
        Ok(translations)
    }

    fn invalidate_unsavable(&self) -> Result<(), Errno> {
        Ok(())
    }
}

/// What `/proc/[pid]/maps` shows for a memfs mapping.
struct MappedFile {
    name: String,
    dev: u64,
    ino: u64,
}

impl MappingIdentity for MappedFile {
    fn mapped_name(&self) -> String {
        self.name.clone()
    }

    fn device_id(&self) -> u64 {
        self.dev
    }

    fn inode_id(&self) -> u64 {
        self.ino
    }

    fn msync(&self, _: MappableRange) -> Result<(), Errno> {
        Ok(())
    }
}

impl Inode for RegularFile {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn stat(&self, _: &dyn Context, fs: &Filesystem, _: StatOptions) -> Result<Statx, Errno> {
        let (size, pages) = {
            let contents = self.contents.lock();
            (contents.size, contents.pages.len() as u64)
        };
        let lower_blocks = self
            .lower
            .as_ref()
            .and_then(|lower| lower.lock().as_ref().map(|data| data.blocks));
        let blocks = lower_blocks.unwrap_or(pages * (PAGE_SIZE / 512));
        Ok(self.attrs.stat(fs.dev(), size, blocks))
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        _: &Filesystem,
        mut opts: SetStatOptions,
    ) -> Result<(), Errno> {
        self.attrs.check_set_stat(ctx, &mut opts)?;
        if StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::MODE)
            && self.seals().contains(SealFlags::EXEC)
            && (u32::from(opts.stat.stx_mode) ^ self.attrs.mode().permissions()) & 0o111 != 0
        {
            // F_SEAL_EXEC: the execute bits stay as they are.
            return Err(Errno::EPERM);
        }
        if StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::SIZE) {
            if opts.stat.stx_size > MAX_FILE_SIZE {
                return Err(Errno::EFBIG);
            }
            self.copy_up(ctx, opts.stat.stx_size)?;
            self.truncate(ctx, opts.stat.stx_size)?;
        }
        self.attrs.apply_set_stat(ctx, &opts);
        Ok(())
    }

    fn statfs(&self, _: &dyn Context, _: &Filesystem) -> Result<Statfs, Errno> {
        Ok(self.state.statfs())
    }

    fn open(
        &self,
        ctx: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        let dentry = Dentry::from_vfs(&*vd.dentry).ok_or(Errno::EBADF)?;
        let inode = downcast_inode::<Self>(dentry.inode()).ok_or(Errno::EBADF)?;
        if !opts.flags.contains(OpenFlags::PATH) && self.is_lower() {
            // Linux's overlayfs: an open for writing copies the file up
            // (nothing to copy when it truncates); a read-only open reads
            // the lower file, and keeps reading it after a later copy-up.
            if opts.flags.contains(OpenFlags::TRUNC) {
                self.copy_up(ctx, 0)?;
            } else if opts.flags.access_mode() != AccessMode::ReadOnly {
                self.copy_up(ctx, u64::MAX)?;
            } else if let Some(data) = self.lower_data() {
                let lower = self.state.lower()?.open(ctx, &data.path)?;
                return Ok(FileDescription::new(
                    opts.flags,
                    &vd.mount,
                    &vd.dentry,
                    FileDescriptionOptions::default(),
                    Box::new(RegularFileFd {
                        inode,
                        offset: spin::Mutex::new(0),
                        lower: Some(lower),
                    }),
                ));
            }
        }
        if opts.flags.contains(OpenFlags::TRUNC) && !opts.flags.contains(OpenFlags::PATH) {
            self.truncate(ctx, 0)?;
        }
        Ok(FileDescription::new(
            opts.flags,
            &vd.mount,
            &vd.dentry,
            FileDescriptionOptions {
                allow_direct_io: true,
                ..FileDescriptionOptions::default()
            },
            Box::new(RegularFileFd {
                inode,
                offset: spin::Mutex::new(0),
                lower: None,
            }),
        ))
    }

    fn list_xattr(&self, ctx: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        self.xattrs.load(ctx, &self.state)?;
        Ok(self.xattrs.list(ctx.credentials()))
    }

    fn get_xattr(&self, ctx: &dyn Context, opts: &GetXattrOptions) -> Result<Vec<u8>, Errno> {
        self.xattrs.load(ctx, &self.state)?;
        self.xattrs.get(ctx.credentials(), self.attrs.owner(), opts)
    }

    fn set_xattr(&self, ctx: &dyn Context, opts: &SetXattrOptions) -> Result<(), Errno> {
        self.xattrs.load(ctx, &self.state)?;
        self.xattrs
            .set(ctx.credentials(), self.attrs.owner(), opts)?;
        self.attrs.touch_ctime(ctx.now());
        Ok(())
    }

    fn remove_xattr(&self, ctx: &dyn Context, name: &[u8]) -> Result<(), Errno> {
        self.xattrs.load(ctx, &self.state)?;
        self.xattrs
            .remove(ctx.credentials(), self.attrs.owner(), name)?;
        self.attrs.touch_ctime(ctx.now());
        Ok(())
    }
}

/// An open memfs regular file.
///
/// A read-only open of an overlay file that was not copied up yet holds
/// the lower file too: it reads the lower file until a copy-up and the
/// file's own pages after it, as Linux's overlayfs does, and a mapping
/// made before the copy-up keeps the lower file's pages.
pub struct RegularFileFd {
    inode: Arc<RegularFile>,
    offset: spin::Mutex<u64>,
    lower: Option<FileRef>,
}

impl RegularFileFd {
    /// The file.
    pub fn inode(&self) -> &Arc<RegularFile> {
        &self.inode
    }

    /// The lower file while the contents are still its.
    fn lower(&self) -> Option<&FileRef> {
        self.lower.as_ref().filter(|_| self.inode.is_lower())
    }

    fn read_at(
        &self,
        ctx: &dyn Context,
        dst: &mut dyn IoDest,
        offset: u64,
        opts: ReadOptions,
    ) -> Result<usize, Errno> {
        let Some(lower) = self.lower() else {
            return self.inode.read_at(ctx, dst, offset);
        };
        let n = lower.imp().pread(ctx, lower, dst, offset, opts)?;
        self.inode.attrs.touch_atime(ctx.now());
        Ok(n)
    }
}

impl FileDescriptionImpl for RegularFileFd {
    fn file_locks(&self) -> Option<&FileLocks> {
        Some(self.inode.attrs().locks())
    }

    fn stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        self.inode.stat(ctx, file_dentry(fd)?.filesystem(), opts)
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        if StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::SIZE)
            && !fd.is_writable()
        {
            return Err(Errno::EINVAL);
        }
        self.inode
            .set_stat(ctx, file_dentry(fd)?.filesystem(), opts)
    }

    fn statfs(&self, _: &dyn Context, _: &FileDescription) -> Result<Statfs, Errno> {
        Ok(self.inode.state.statfs())
    }

    fn allocate(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        mode: FallocFlags,
        offset: u64,
        len: u64,
    ) -> Result<(), Errno> {
        self.inode.allocate(ctx, mode, offset, len)
    }

    fn pread(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
        opts: ReadOptions,
    ) -> Result<usize, Errno> {
        self.read_at(ctx, dst, offset, opts)
    }

    fn read(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        opts: ReadOptions,
    ) -> Result<usize, Errno> {
        let mut offset = self.offset.lock();
        let n = self.read_at(ctx, dst, *offset, opts)?;
        *offset += n as u64;
        Ok(n)
    }

    fn pwrite(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        offset: u64,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        let append = fd.status_flags().contains(OpenFlags::APPEND);
        self.inode
            .write_at(ctx, src, offset, append)
            .map(|(n, _)| n)
    }

    fn write(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        let append = fd.status_flags().contains(OpenFlags::APPEND);
        let mut offset = self.offset.lock();
        let (n, end) = self.inode.write_at(ctx, src, *offset, append)?;
        *offset = end;
        Ok(n)
    }

    fn seek(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let mut current = self.offset.lock();
        let new = match whence {
            Whence::Set => offset,
            Whence::Cur => (*current as i64)
                .checked_add(offset)
                .ok_or(Errno::EOVERFLOW)?,
            Whence::End => (self.inode.size() as i64)
                .checked_add(offset)
                .ok_or(Errno::EOVERFLOW)?,
            Whence::Data | Whence::Hole => {
                let from = u64::try_from(offset).map_err(|_| Errno::ENXIO)?;
                let hole = whence == Whence::Hole;
                if self.lower().is_some() {
                    // The lower file counts as data throughout, as
                    // Linux's generic SEEK_DATA/SEEK_HOLE does.
                    let size = self.inode.size();
                    if from >= size {
                        return Err(Errno::ENXIO);
                    }
                    (if hole { size } else { from }) as i64
                } else {
                    self.inode.seek_data_or_hole(from, hole)? as i64
                }
            }
        };
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        *current = new as u64;
        Ok(new)
    }

    fn sync(&self, _: &dyn Context, _: &FileDescription) -> Result<(), Errno> {
        Ok(())
    }

    fn configure_mmap(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: &mut MmapOpts,
    ) -> Result<(), Errno> {
        match self.lower() {
            Some(lower) => lower.imp().configure_mmap(ctx, lower, opts),
            None => self.inode.configure_mmap(fd, opts),
        }
    }
}
