//! The [`memmap::File`](vfs_core::memmap::File) of an imported regular
//! file: its pages are the host file's, so translations point at the host
//! descriptor and the platform maps it directly (gVisor's
//! `fsutil.MmapCachedFile` without the internal mapping cache).
//!
//! The sentry's own accesses (`map_internal_*`) go through `pread`/`pwrite`
//! on the descriptor, block by block through a bounce buffer.
//!
//! # Reference model
//!
//! The file holds an `Arc` on the [`HostFd`], so the descriptor stays open
//! while any translation to it exists. Page references
//! ([`File::inc_ref`]/[`File::dec_ref`]) need no bookkeeping: the pages
//! belong to the host file, not to an allocator.

use std::ops::Range;
use std::sync::Arc;

use abi_linux::Errno;
use vfs_core::memmap::File;
use vfs_core::range_set::{PAGE_SIZE, is_page_aligned};

use crate::host_fd::{HostFd, host_errno};

/// The host descriptor of an imported regular file as mappable memory.
#[derive(Debug)]
pub struct HostMmapFile {
    host: Arc<HostFd>,
}

impl HostMmapFile {
    pub(crate) fn new(host: Arc<HostFd>) -> HostMmapFile {
        HostMmapFile { host }
    }
}

fn check_aligned(range: &Range<u64>) -> Result<(), Errno> {
    if range.start < range.end && is_page_aligned(range.start) && is_page_aligned(range.end) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// Returns `Ok(done)` if some bytes moved, else `Err(e)`.
fn partial(done: usize, e: Errno) -> Result<usize, Errno> {
    if done > 0 { Ok(done) } else { Err(e) }
}

impl File for HostMmapFile {
    fn inc_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        check_aligned(&range)
    }

    fn dec_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        check_aligned(&range)
    }

    fn map_internal_read(
        &self,
        range: Range<u64>,
        f: &mut dyn FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if range.start > range.end {
            return Err(Errno::EINVAL);
        }
        let mut bounce = vec![0u8; PAGE_SIZE as usize];
        let mut done = 0usize;
        let mut cursor = range.start;
        while cursor < range.end {
            let len = (range.end - cursor).min(PAGE_SIZE) as usize;
            let off = i64::try_from(cursor).map_err(|_| Errno::EOVERFLOW)?;
            let got = match nix::sys::uio::pread(self.host.borrow(), &mut bounce[..len], off) {
                // Past the end of the file there is nothing to map.
                Ok(0) => return partial(done, Errno::EFAULT),
                Ok(n) => n,
                Err(e) => return partial(done, host_errno(e)),
            };
            let n = match f(&bounce[..got]) {
                Ok(n) => n.min(got),
                Err(e) => return partial(done, e),
            };
            done += n;
            if n < len {
                break;
            }
            cursor += len as u64;
        }
        Ok(done)
    }

    fn map_internal_write(
        &self,
        range: Range<u64>,
        f: &mut dyn FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if range.start > range.end {
            return Err(Errno::EINVAL);
        }
        let mut bounce = vec![0u8; PAGE_SIZE as usize];
        let mut done = 0usize;
        let mut cursor = range.start;
        while cursor < range.end {
            let len = (range.end - cursor).min(PAGE_SIZE) as usize;
            let off = i64::try_from(cursor).map_err(|_| Errno::EOVERFLOW)?;
            // Load the current bytes so that a partial write by `f` keeps
            // the rest of the block.
            let got = match nix::sys::uio::pread(self.host.borrow(), &mut bounce[..len], off) {
                Ok(n) => n,
                Err(e) => return partial(done, host_errno(e)),
            };
            if got < len {
                return partial(done, Errno::EFAULT);
            }
            let n = match f(&mut bounce[..len]) {
                Ok(n) => n.min(len),
                Err(e) => return partial(done, e),
            };
            if n > 0 {
                match nix::sys::uio::pwrite(self.host.borrow(), &bounce[..n], off) {
                    Ok(w) if w == n => {}
                    Ok(w) => return Ok(done + w),
                    Err(e) => return partial(done, host_errno(e)),
                }
            }
            done += n;
            if n < len {
                break;
            }
            cursor += len as u64;
        }
        Ok(done)
    }

    fn host_fd(&self) -> Option<i32> {
        Some(self.host.raw())
    }
}
