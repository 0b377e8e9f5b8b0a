//! The platform's memory file as vfs-core's [`memmap::MemoryFile`]
//! (gVisor's `pgalloc.MemoryFile` seen through `memmap.File`).
//!
//! Filesystems that keep pages (memfs contents, extfs's page cache) are
//! given a [`PlatformMemory`], so the pages a file's
//! [`memmap::Mappable::translate`] returns are pages of the platform's
//! memory file: the memory manager maps them into application address
//! spaces as they are, and `MAP_SHARED` writes reach the file directly.
//! [`memmap::File::host_fd`] is the memfd; the memory manager recognises
//! its own memory file by it.
//!
//! # Reference model
//!
//! References are the platform memory file's page references; this type
//! only forwards them.

use std::ops::Range;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use abi_linux::Errno;
use platform::{FileRange, MemoryFile, UsageKind};
use vfs_core::memmap::{self, AllocKind};

use crate::elf::PAGE_SIZE;

/// The platform's memory file, as a vfs-core memory file.
#[derive(Debug, Clone)]
pub struct PlatformMemory(pub Arc<MemoryFile>);

impl PlatformMemory {
    /// Calls `f` on the sentry's mapping of each page-sized piece of
    /// `range`, in order, until `f` consumes less than a piece.
    fn walk(
        &self,
        range: Range<u64>,
        f: &mut dyn FnMut(*mut u8, usize) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut done = 0usize;
        let mut cur = range.start;
        while cur < range.end {
            let page = cur - cur % PAGE_SIZE;
            let map = match self.0.map_internal(FileRange::new(page, page + PAGE_SIZE)) {
                Ok(map) => map,
                Err(_) if done > 0 => break,
                Err(_) => return Err(Errno::EFAULT),
            };
            let in_page = (cur - page) as usize;
            let n = (PAGE_SIZE - (cur - page)).min(range.end - cur) as usize;
            // SAFETY: `in_page + n <= PAGE_SIZE`, the length of `map`.
            let ptr = unsafe { map.as_ptr().add(in_page) };
            let moved = match f(ptr, n) {
                Ok(moved) => moved,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            done += moved;
            if moved < n {
                break;
            }
            cur += n as u64;
        }
        Ok(done)
    }
}

/// The platform's accounting kind for a vfs-core one.
fn usage_kind(kind: AllocKind) -> UsageKind {
    match kind {
        AllocKind::Anonymous => UsageKind::Anonymous,
        AllocKind::PageCache => UsageKind::PageCache,
        AllocKind::Tmpfs => UsageKind::Tmpfs,
        _ => UsageKind::System,
    }
}

fn file_range(range: &Range<u64>) -> FileRange {
    FileRange::new(range.start, range.end)
}

impl memmap::File for PlatformMemory {
    fn inc_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        self.0.inc_ref(file_range(&range))
    }

    fn dec_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        self.0.dec_ref(file_range(&range))
    }

    fn map_internal_read(
        &self,
        range: Range<u64>,
        f: &mut dyn FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        self.walk(range, &mut |ptr, n| {
            // SAFETY: `ptr..ptr + n` lies in one allocated page of the
            // memory file's sentry mapping, which lives as long as the
            // memory file; the caller holds a reference on the page, as
            // the `memmap::File` contract requires.
            f(unsafe { std::slice::from_raw_parts(ptr.cast_const(), n) })
        })
    }

    fn map_internal_write(
        &self,
        range: Range<u64>,
        f: &mut dyn FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        self.walk(range, &mut |ptr, n| {
            // SAFETY: as in `map_internal_read`; the owner of the pages
            // (the filesystem or memory manager that allocated them)
            // serialises writers with its own lock.
            f(unsafe { std::slice::from_raw_parts_mut(ptr, n) })
        })
    }

    fn host_fd(&self) -> Option<i32> {
        Some(self.0.fd().as_raw_fd())
    }
}

impl memmap::MemoryFile for PlatformMemory {
    fn allocate(&self, len: u64, kind: AllocKind) -> Result<Range<u64>, Errno> {
        self.0
            .allocate(len, usage_kind(kind))
            .map(|r| r.start..r.end)
    }

    fn usage(&self, kind: AllocKind) -> u64 {
        self.0.usage().allocated_for(usage_kind(kind))
    }
}
