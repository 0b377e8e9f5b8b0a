//! `mmap(2)` of files of an image.
//!
//! A file's page is translated to one of two places:
//!
//! - the image itself ([`ImageFile`]), when the image is in memory (a
//!   memory-mapped file or a byte buffer) and the page is one whole page of
//!   a single initialized extent, page-aligned in the image (blocks of at
//!   least 4 KiB) and wholly inside the file: the platform maps the
//!   image's own pages through the image file's host descriptor, and the
//!   sentry reads them in place;
//! - otherwise the inode's [`PageCache`]: a page of the filesystem's
//!   [`MemoryFile`] filled from the image (holes, uninitialized extents,
//!   inline data, small blocks and the partial last page, whose tail reads
//!   as zeros).
//!
//! The image never changes, so translations never go stale: mappings need
//! no bookkeeping, and cached pages live as long as their inode.
//! Translations never allow writes; a private mapping copies on write and
//! a shared writable mapping cannot exist (files open read-only).
//!
//! # Reference model
//!
//! A [`Translation`] holds an `Arc` on the [`ImageFile`] or the
//! [`MemoryFile`]. The page cache holds one page reference on each cached
//! page and gives it back when the inode is dropped; address spaces take
//! their own references through [`File::inc_ref`].
//!
//! # Lock order
//!
//! The page cache's mutex is a leaf (the memory file's own lock comes
//! after it).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use abi_linux::Errno;
use vfs_core::memmap::{
    AccessType, AllocKind, File, Mappable, MappableRange, MappingIdentity, MappingSpace,
    MemoryFile, Translation,
};
use vfs_core::range_set::{FileRangeSet, PAGE_SIZE, is_page_aligned, page_round_up};

use super::dentry::ExtInode;
use crate::fs::{BlockBuf, Ext4, Run};
use crate::inode::FileType;

/// How many pages past the faulting range one translation covers at most.
const READAHEAD_PAGES: u64 = 64;

/// The image as a [`File`] whose offsets are the image's.
pub struct ImageFile {
    ext4: Arc<Ext4>,
}

fn check_pages(range: &Range<u64>) -> Result<(), Errno> {
    if range.start >= range.end || !is_page_aligned(range.start) || !is_page_aligned(range.end) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

impl File for ImageFile {
    fn inc_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        // The image's pages live as long as the image: nothing to count.
        check_pages(&range)
    }

    fn dec_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        check_pages(&range)
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        if dst.is_empty() {
            return Ok(0);
        }
        let image = self.ext4.source.as_slice().ok_or(Errno::EFAULT)?;
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|start| image.get(start..))
            .filter(|rest| !rest.is_empty())
            .ok_or(Errno::EFAULT)?;
        let n = dst.len().min(rest.len());
        dst[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }

    /// The image is read-only: it has no writable pages.
    fn write_at(&self, _offset: u64, _src: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EFAULT)
    }

    fn host_fd(&self) -> Option<i32> {
        self.ext4.source.host_fd()
    }
}

/// The image and the memory that mmap pages come from, shared by a
/// filesystem and its inodes.
pub(super) struct Backing {
    pub(super) ext4: Arc<Ext4>,
    /// Where page-cache pages are allocated.
    memory: Arc<dyn MemoryFile>,
    /// The image's own pages, when the image is in memory.
    image: Option<Arc<ImageFile>>,
}

impl Backing {
    pub(super) fn new(ext4: Arc<Ext4>, memory: Arc<dyn MemoryFile>) -> Self {
        let image = ext4.source.as_slice().is_some().then(|| {
            Arc::new(ImageFile {
                ext4: Arc::clone(&ext4),
            })
        });
        Backing {
            ext4,
            memory,
            image,
        }
    }
}

/// The pages of one file copied out of the image.
pub(super) struct PageCache {
    backing: Arc<Backing>,
    pages: spin::Mutex<FileRangeSet>,
}

impl PageCache {
    pub(super) fn new(backing: Arc<Backing>) -> Self {
        PageCache {
            backing,
            pages: spin::Mutex::new(FileRangeSet::new()),
        }
    }

    /// The memory-file offset of the cached page at file offset `page`,
    /// filling it from the image first if needed.
    fn page(&self, inode: &crate::Inode, page: u64) -> Result<u64, Errno> {
        let mut pages = self.pages.lock();
        if let Some(offset) = pages.memory_offset(page) {
            return Ok(offset);
        }
        let memory = &self.backing.memory;
        let mem = memory.allocate(PAGE_SIZE, AllocKind::PageCache)?;
        let mut buf = [0u8; PAGE_SIZE as usize];
        let filled = self
            .backing
            .ext4
            .read_at(inode, page, &mut buf)
            .map_err(|e| e.errno());
        let stored = filled.and_then(|_| memory.write_at(mem.start, &buf).map(|_| ()));
        if let Err(e) = stored.and_then(|()| pages.insert(page..page + PAGE_SIZE, mem.start)) {
            let _ = memory.dec_ref(mem);
            return Err(e);
        }
        Ok(mem.start)
    }
}

impl Drop for PageCache {
    fn drop(&mut self) {
        let pages = self.pages.get_mut();
        for (range, offset) in pages.iter() {
            let _ = self
                .backing
                .memory
                .dec_ref(offset..offset + (range.end - range.start));
        }
    }
}

/// Where one page of a file comes from.
enum PageSource {
    /// The image at this byte offset.
    Image(u64),
    /// The page cache.
    Cache,
}

impl ExtInode {
    /// Where the page at file offset `page` comes from.
    fn page_source(&self, page: u64, meta: &mut BlockBuf) -> Result<PageSource, Errno> {
        let backing = &self.cache.backing;
        let ext4 = &backing.ext4;
        let raw = &self.raw;
        let bits = ext4.sb.block_size_bits;
        let direct = backing.image.is_some()
            && u64::from(ext4.sb.block_size) >= PAGE_SIZE
            && !raw.has_inline_data()
            && !raw.is_encrypted()
            && page
                .checked_add(PAGE_SIZE)
                .is_some_and(|end| end <= raw.size);
        if !direct {
            return Ok(PageSource::Cache);
        }
        let mask = u64::from(ext4.sb.block_size) - 1;
        match ext4.map_block(raw, page >> bits, meta) {
            Ok(Run::Mapped {
                phys,
                uninit: false,
                ..
            }) => Ok(phys
                .checked_shl(bits)
                .filter(|b| b >> bits == phys)
                .and_then(|b| b.checked_add(page & mask))
                .filter(|at| {
                    at.checked_add(PAGE_SIZE)
                        .is_some_and(|end| end <= ext4.source.size())
                })
                .map_or(PageSource::Cache, PageSource::Image)),
            Ok(_) => Ok(PageSource::Cache),
            Err(e) => Err(e.errno()),
        }
    }

    /// Translates `range` (page-aligned, inside the file's pages).
    fn translate_range(&self, range: Range<u64>) -> Result<Vec<Translation>, Errno> {
        let mut out: Vec<Translation> = Vec::new();
        let mut meta = BlockBuf::default();
        let perms = AccessType::READ_EXECUTE;
        let mut page = range.start;
        while page < range.end {
            let (file, offset): (Arc<dyn File>, u64) = match self.page_source(page, &mut meta)? {
                PageSource::Image(at) => match &self.cache.backing.image {
                    Some(image) => (Arc::clone(image) as Arc<dyn File>, at),
                    None => unreachable!("direct pages need an in-memory image"),
                },
                PageSource::Cache => (
                    Arc::clone(&self.cache.backing.memory) as Arc<dyn File>,
                    self.cache.page(&self.raw, page)?,
                ),
            };
            let end = page + PAGE_SIZE;
            match out.last_mut() {
                Some(last)
                    if Arc::ptr_eq(&last.file, &file)
                        && last.source.end == page
                        && last.offset + (last.source.end - last.source.start) == offset =>
                {
                    last.source.end = end;
                }
                _ => out.push(Translation {
                    source: page..end,
                    file,
                    offset,
                    perms,
                }),
            }
            page = end;
        }
        Ok(out)
    }
}

impl Mappable for ExtInode {
    fn add_mapping(
        &self,
        _space: &Arc<dyn MappingSpace>,
        _app_range: Range<u64>,
        _offset: u64,
        _writable: bool,
    ) -> Result<(), Errno> {
        // The image never changes, so no translation is ever invalidated
        // and mappings need no bookkeeping.
        Ok(())
    }

    fn remove_mapping(
        &self,
        _space: &Arc<dyn MappingSpace>,
        _app_range: Range<u64>,
        _offset: u64,
        _writable: bool,
    ) {
    }

    fn translate(
        &self,
        required: MappableRange,
        optional: MappableRange,
        at: AccessType,
    ) -> Result<Vec<Translation>, Errno> {
        // Writes never reach the image: a private mapping copies the
        // translated pages, and a shared writable mapping of a file open
        // read-only cannot exist, so `at` needs nothing beyond the
        // read-and-execute permissions every translation has.
        let _ = at;
        if self.file_type() != Some(FileType::Regular) {
            return Err(Errno::EFAULT);
        }
        let eof = page_round_up(self.raw.size).ok_or(Errno::EFBIG)?;
        if required.end > eof {
            return Err(Errno::EFAULT);
        }
        let window_end = required
            .end
            .saturating_add(READAHEAD_PAGES * PAGE_SIZE)
            .min(optional.end)
            .min(eof)
            .max(required.end);
        self.translate_range(required.start..window_end)
    }

    fn invalidate_unsavable(&self) -> Result<(), Errno> {
        Ok(())
    }
}

/// What `/proc/[pid]/maps` shows for a mapping of a file of the image.
pub(super) struct MappedFile {
    pub(super) name: String,
    pub(super) dev: u64,
    pub(super) ino: u64,
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

    fn msync(&self, _range: MappableRange) -> Result<(), Errno> {
        Ok(())
    }
}
