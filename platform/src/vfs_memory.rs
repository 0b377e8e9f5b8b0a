//! [`MemoryFile`] as vfs-core's `memmap::MemoryFile`, so page caches
//! (memfs, goferfs, extfs) and application memory share one allocator whose
//! pages the platform can map into address spaces.
//!
//! The pages of a `MemoryFile` may be written at any time by application
//! threads that map them, so no Rust reference into them may exist:
//! `read_at` and `write_at` copy between the caller's buffer and the
//! sentry's mapping of the pages through
//! [`crate::memory_file::InternalMapping`], one page at a time.

use std::ops::Range;
use std::os::fd::AsRawFd;

use abi_linux::Errno;
use vfs_core::memmap::{self, AllocKind};

use crate::memory_file::{CHUNK_SIZE, FileRange, MemoryFile, UsageKind};
use crate::sys::PAGE_SIZE;

fn usage_kind(kind: AllocKind) -> UsageKind {
    match kind {
        AllocKind::System => UsageKind::System,
        AllocKind::Anonymous => UsageKind::Anonymous,
        AllocKind::PageCache => UsageKind::PageCache,
        AllocKind::Tmpfs => UsageKind::Tmpfs,
        // Kinds vfs-core adds later are accounted as the sentry's own until
        // the platform learns them.
        _ => UsageKind::System,
    }
}

/// The end of the piece of `range` that starts at `offset` and stays within
/// one page (and so within one chunk of the file).
fn piece_end(offset: u64, end: u64) -> u64 {
    let page_end = (offset / PAGE_SIZE + 1) * PAGE_SIZE;
    page_end.min(end)
}

/// Returns `offset + len` or `EOVERFLOW`.
fn offset_end(offset: u64, len: usize) -> Result<u64, Errno> {
    u64::try_from(len)
        .ok()
        .and_then(|len| offset.checked_add(len))
        .ok_or(Errno::EOVERFLOW)
}

impl MemoryFile {
    /// Walks `range` a page at a time through the internal mapping.
    fn for_each_piece(
        &self,
        range: Range<u64>,
        mut f: impl FnMut(
            &crate::memory_file::InternalMapping<'_>,
            usize,
            usize,
        ) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if range.start > range.end {
            return Err(Errno::EINVAL);
        }
        let mut done = 0usize;
        let mut offset = range.start;
        while offset < range.end {
            let end = piece_end(offset, range.end);
            let page = offset / PAGE_SIZE * PAGE_SIZE;
            debug_assert!(page / CHUNK_SIZE == (end - 1) / CHUNK_SIZE);
            let result = self
                .map_internal(FileRange::from(page..page + PAGE_SIZE))
                .map_err(|_| Errno::EFAULT)
                .and_then(|mapping| {
                    let start = usize::try_from(offset - page).map_err(|_| Errno::EFAULT)?;
                    let len = usize::try_from(end - offset).map_err(|_| Errno::EFAULT)?;
                    f(&mapping, start, len)
                });
            match result {
                Ok(n) => {
                    done += n;
                    if u64::try_from(n) != Ok(end - offset) {
                        break;
                    }
                }
                Err(errno) if done == 0 => return Err(errno),
                Err(_) => break,
            }
            offset = end;
        }
        Ok(done)
    }
}

impl memmap::File for MemoryFile {
    fn inc_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        MemoryFile::inc_ref(self, FileRange::from(range))
    }

    fn dec_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        MemoryFile::dec_ref(self, FileRange::from(range))
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        let end = offset_end(offset, dst.len())?;
        let mut at = 0;
        self.for_each_piece(offset..end, |mapping, start, len| {
            mapping
                .read(start, &mut dst[at..at + len])
                .map_err(|_| Errno::EFAULT)?;
            at += len;
            Ok(len)
        })
    }

    fn write_at(&self, offset: u64, src: &[u8]) -> Result<usize, Errno> {
        let end = offset_end(offset, src.len())?;
        let mut at = 0;
        self.for_each_piece(offset..end, |mapping, start, len| {
            mapping
                .write(start, &src[at..at + len])
                .map_err(|_| Errno::EFAULT)?;
            at += len;
            Ok(len)
        })
    }

    fn host_fd(&self) -> Option<i32> {
        Some(self.fd().as_raw_fd())
    }
}

impl memmap::MemoryFile for MemoryFile {
    fn allocate(&self, len: u64, kind: AllocKind) -> Result<Range<u64>, Errno> {
        MemoryFile::allocate(self, len, usage_kind(kind)).map(Range::from)
    }

    fn usage(&self, kind: AllocKind) -> u64 {
        MemoryFile::usage(self).allocated_for(usage_kind(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs_core::memmap::{File as _, MemoryFile as _};

    #[test]
    fn writes_through_vfs_contract_are_read_back_across_pages() {
        let mf = MemoryFile::new().unwrap();
        let range = memmap::MemoryFile::allocate(&mf, 3 * PAGE_SIZE, AllocKind::PageCache).unwrap();
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let at = range.start + PAGE_SIZE - 100;
        assert_eq!(mf.write_at(at, &data).unwrap(), data.len());
        let mut back = vec![0u8; data.len()];
        assert_eq!(mf.read_at(at, &mut back).unwrap(), data.len());
        assert_eq!(back, data);
        assert_eq!(
            memmap::MemoryFile::usage(&mf, AllocKind::PageCache),
            3 * PAGE_SIZE
        );
        memmap::File::dec_ref(&mf, range).unwrap();
        assert_eq!(mf.total_usage(), 0);
    }

    #[test]
    fn reading_unallocated_pages_is_efault() {
        let mf = MemoryFile::new().unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(mf.read_at(0, &mut buf), Err(Errno::EFAULT));
    }

    #[test]
    fn copies_stop_at_the_end_of_the_allocation() {
        let mf = MemoryFile::new().unwrap();
        let range = memmap::MemoryFile::allocate(&mf, PAGE_SIZE, AllocKind::Anonymous).unwrap();
        let near_end = range.end - 8;
        assert_eq!(mf.write_at(near_end, &[7u8; 16]), Ok(8));
        let mut back = [0u8; 16];
        assert_eq!(mf.read_at(near_end, &mut back), Ok(8));
        assert_eq!(back[..8], [7u8; 8]);
        assert_eq!(mf.zero(near_end..range.end), Ok(()));
        assert_eq!(mf.read_at(near_end, &mut back[..8]), Ok(8));
        assert_eq!(back[..8], [0u8; 8]);
        memmap::File::dec_ref(&mf, range).unwrap();
    }

    #[test]
    fn host_fd_is_the_memfd() {
        let mf = MemoryFile::new().unwrap();
        assert_eq!(memmap::File::host_fd(&mf), Some(mf.fd().as_raw_fd()));
    }
}
