//! A memory-mapped image file.
//!
//! This is the crate's only module with unsafe code: mapping a file is
//! unsafe because another process could truncate or rewrite it while it is
//! mapped, which the type system cannot rule out.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

use memmap2::Mmap;

use crate::error::Result;
use crate::source::BlockSource;

/// An image file mapped read-only into memory.
///
/// Reads are plain memory copies, and metadata is parsed in place.
#[derive(Debug)]
pub struct MmapSource {
    map: Mmap,
    /// A duplicate of the mapped file's descriptor, lent to `mmap(2)` of
    /// the image's files through [`BlockSource::host_fd`].
    file: File,
}

impl MmapSource {
    /// Maps `file` read-only.
    ///
    /// # Safety
    ///
    /// The caller guarantees that the file is neither truncated nor
    /// rewritten (by this or any other process) while the returned source or
    /// any filesystem built on it is alive; otherwise reads could observe
    /// changing bytes or fault with `SIGBUS`.
    pub unsafe fn new(file: &File) -> io::Result<Self> {
        // SAFETY: The caller upholds that the file is not truncated or
        // modified while mapped, which is what memmap2 requires.
        let map = unsafe { Mmap::map(file)? };
        Ok(MmapSource {
            map,
            file: file.try_clone()?,
        })
    }
}

impl BlockSource for MmapSource {
    fn size(&self) -> u64 {
        <[u8] as BlockSource>::size(&self.map)
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        <[u8] as BlockSource>::read_exact_at(&self.map, offset, buf)
    }

    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.map)
    }

    fn host_fd(&self) -> Option<i32> {
        Some(self.file.as_raw_fd())
    }
}
