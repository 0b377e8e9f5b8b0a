//! [`MemoryFile`] as vfs-core's `memmap::MemoryFile`, so page caches
//! (memfs, goferfs, extfs) and application memory share one allocator whose
//! pages the platform can map into address spaces.
//!
//! vfs-core hands filesystems byte slices of a file's pages. The pages of a
//! `MemoryFile` may be written at any time by application threads that map
//! them, so no Rust reference into them may exist; the blocks handed out
//! here are copies made through [`crate::memory_file::InternalMapping`]
//! (one page at a time), and writes are copied back.

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

    fn map_internal_read(
        &self,
        range: Range<u64>,
        f: &mut dyn FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut buf = [0u8; PAGE_SIZE as usize];
        self.for_each_piece(range, |mapping, start, len| {
            mapping
                .read(start, &mut buf[..len])
                .map_err(|_| Errno::EFAULT)?;
            f(&buf[..len])
        })
    }

    fn map_internal_write(
        &self,
        range: Range<u64>,
        f: &mut dyn FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut buf = [0u8; PAGE_SIZE as usize];
        self.for_each_piece(range, |mapping, start, len| {
            // Filesystems may write only part of a block: start from the
            // current contents so the rest is preserved.
            mapping
                .read(start, &mut buf[..len])
                .map_err(|_| Errno::EFAULT)?;
            let written = f(&mut buf[..len])?.min(len);
            mapping
                .write(start, &buf[..written])
                .map_err(|_| Errno::EFAULT)?;
            Ok(written)
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
    fn partial_writer_keeps_the_rest_of_the_block() {
        let mf = MemoryFile::new().unwrap();
        let range = memmap::MemoryFile::allocate(&mf, PAGE_SIZE, AllocKind::Anonymous).unwrap();
        mf.write_at(range.start, &[7u8; 8]).unwrap();
        let n = mf
            .map_internal_write(range.start..range.start + 8, &mut |block| {
                block[0] = 1;
                Ok(1)
            })
            .unwrap();
        assert_eq!(n, 1);
        let mut back = [0u8; 8];
        mf.read_at(range.start, &mut back).unwrap();
        assert_eq!(back, [1, 7, 7, 7, 7, 7, 7, 7]);
    }

    #[test]
    fn host_fd_is_the_memfd() {
        let mf = MemoryFile::new().unwrap();
        assert_eq!(memmap::File::host_fd(&mf), Some(mf.fd().as_raw_fd()));
    }
}
