//! vfs-core's `IoDest`/`IoSource` over application memory (gVisor's
//! `usermem.IOSequence`): a read fills, and a write drains, a list of
//! application iovecs, page by page through the memory file's internal
//! mapping.
//!
//! Other threads and processes may change application memory at any
//! moment, so no Rust reference to it is ever formed: a filesystem's
//! block callback gets a page-sized buffer of the sentry's own, and the
//! bytes move between it and the application's page with raw copies (as
//! rust-vmm's `VolatileSlice` and Asterinas's `VmReader`/`VmWriter` do).
//! The memory manager's lock is held only while a page is resolved, not
//! while the filesystem's callback runs.

use std::collections::VecDeque;

use abi_linux::{Errno, Result};
use platform::Access;
use vfs_core::io::{IoDest, IoSource};

use super::MemoryManager;

/// The most bytes one read or write transfers (Linux's `MAX_RW_COUNT`).
pub const MAX_RW_COUNT: usize = 0x7fff_f000;

/// The most iovecs one `readv`/`writev` takes (`UIO_MAXIOV`).
pub const UIO_MAXIOV: usize = 1024;

/// The size of the buffer filesystems fill or drain: one page, the most
/// a block of application memory spans.
const BOUNCE_SIZE: usize = crate::elf::PAGE_SIZE as usize;

/// That buffer, inline in the destination or source (no allocation per
/// system call).
type Bounce = [u8; BOUNCE_SIZE];

/// A list of application buffers consumed front to back.
#[derive(Debug)]
struct IoVecs {
    iovs: VecDeque<(u64, usize)>,
    remaining: usize,
}

impl IoVecs {
    /// Truncates the list to [`MAX_RW_COUNT`] bytes in total.
    fn new(iovs: impl IntoIterator<Item = (u64, usize)>) -> Self {
        let mut remaining = 0usize;
        let mut list = VecDeque::new();
        for (addr, len) in iovs {
            let len = len.min(MAX_RW_COUNT - remaining);
            if len > 0 {
                list.push_back((addr, len));
                remaining += len;
            }
        }
        Self {
            iovs: list,
            remaining,
        }
    }

    /// Walks the buffers with `f` on blocks of application memory; see
    /// `IoDest::copy_from_reader`.
    fn walk(
        &mut self,
        mm: &MemoryManager,
        want: Access,
        f: &mut dyn FnMut(*mut u8, usize) -> Result<usize>,
    ) -> Result<usize> {
        let mut done = 0usize;
        while let Some(&(addr, len)) = self.iovs.front() {
            let n = match mm.blocks(addr, len, want, f) {
                Ok(n) => n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            done += n;
            self.remaining -= n;
            if n == len {
                self.iovs.pop_front();
            } else {
                if let Some(front) = self.iovs.front_mut() {
                    *front = (addr + n as u64, len - n);
                }
                break;
            }
        }
        Ok(done)
    }
}

/// The destination of a read: application iovecs.
#[derive(Debug)]
pub struct UserDest<'a> {
    mm: &'a MemoryManager,
    iovs: IoVecs,
    /// The page-sized buffer filesystems fill.
    bounce: Bounce,
}

impl<'a> UserDest<'a> {
    /// A destination over `(address, length)` buffers.
    pub fn new(mm: &'a MemoryManager, iovs: impl IntoIterator<Item = (u64, usize)>) -> Self {
        Self {
            mm,
            iovs: IoVecs::new(iovs),
            bounce: [0; BOUNCE_SIZE],
        }
    }
}

impl IoDest for UserDest<'_> {
    fn remaining(&self) -> usize {
        self.iovs.remaining
    }

    fn copy_from_reader(&mut self, f: &mut dyn FnMut(&mut [u8]) -> Result<usize>) -> Result<usize> {
        let bounce = &mut self.bounce;
        self.iovs.walk(self.mm, Access::WRITE, &mut |ptr, n| {
            let block = &mut bounce[..n];
            let got = f(block)?.min(n);
            // SAFETY: `ptr..ptr + n` is one present page's bytes in the
            // memory file's sentry mapping, kept allocated by the memory
            // manager's reference while this runs (see
            // `MemoryManager::blocks`); `block` is the sentry's own buffer,
            // so the two cannot overlap. The copy is raw: application
            // threads may access the page concurrently, and no reference
            // to it is formed.
            unsafe { std::ptr::copy_nonoverlapping(block.as_ptr(), ptr, got) };
            Ok(got)
        })
    }
}

/// The source of a write: application iovecs.
#[derive(Debug)]
pub struct UserSource<'a> {
    mm: &'a MemoryManager,
    iovs: IoVecs,
    /// The page-sized buffer filesystems drain.
    bounce: Bounce,
}

impl<'a> UserSource<'a> {
    /// A source over `(address, length)` buffers.
    pub fn new(mm: &'a MemoryManager, iovs: impl IntoIterator<Item = (u64, usize)>) -> Self {
        Self {
            mm,
            iovs: IoVecs::new(iovs),
            bounce: [0; BOUNCE_SIZE],
        }
    }
}

impl IoSource for UserSource<'_> {
    fn remaining(&self) -> usize {
        self.iovs.remaining
    }

    fn copy_to_writer(&mut self, f: &mut dyn FnMut(&[u8]) -> Result<usize>) -> Result<usize> {
        let bounce = &mut self.bounce;
        self.iovs.walk(self.mm, Access::READ, &mut |ptr, n| {
            let block = &mut bounce[..n];
            // SAFETY: as in `UserDest::copy_from_reader`, with the copy
            // reversed: from the application's page into the buffer.
            unsafe { std::ptr::copy_nonoverlapping(ptr.cast_const(), block.as_mut_ptr(), n) };
            Ok(f(block)?.min(n))
        })
    }
}

/// Reads `count` iovecs (`struct iovec`) at `addr`: `EINVAL` for more than
/// [`UIO_MAXIOV`] or a length that does not fit `ssize_t`.
pub fn read_iovecs(mm: &MemoryManager, addr: u64, count: u64) -> Result<Vec<(u64, usize)>> {
    let count = usize::try_from(count).map_err(|_| Errno::EINVAL)?;
    if count > UIO_MAXIOV {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; count * 16];
    mm.copy_in_exact(addr, &mut raw)?;
    let mut out = Vec::with_capacity(count);
    let mut total = 0u64;
    for iov in raw.chunks_exact(16) {
        let base = u64::from_le_bytes(iov[..8].try_into().map_err(|_| Errno::EFAULT)?);
        let len = u64::from_le_bytes(iov[8..].try_into().map_err(|_| Errno::EFAULT)?);
        if len > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        total = total.checked_add(len).ok_or(Errno::EINVAL)?;
        if total > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        out.push((base, usize::try_from(len).map_err(|_| Errno::EINVAL)?));
    }
    Ok(out)
}
