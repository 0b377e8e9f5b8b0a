//! The [`memmap::File`](vfs_core::memmap::File) of an imported regular
//! file: its pages are the host file's, so translations point at the host
//! descriptor and the platform maps it directly (gVisor's
//! `fsutil.MmapCachedFile` without the internal mapping cache).
//!
//! The sentry's own accesses (`read_at`/`write_at`) are `pread`/`pwrite`
//! on the descriptor, straight into the caller's buffer.
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
use vfs_core::range_set::is_page_aligned;

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

/// The host file offset `done` bytes past `offset`, as `pread` takes it.
fn file_offset(offset: u64, done: usize) -> Result<i64, Errno> {
    offset
        .checked_add(done as u64)
        .and_then(|at| i64::try_from(at).ok())
        .ok_or(Errno::EOVERFLOW)
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

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        if dst.is_empty() {
            return Ok(0);
        }
        let mut done = 0usize;
        while done < dst.len() {
            let off = file_offset(offset, done)?;
            match nix::sys::uio::pread(self.host.borrow(), &mut dst[done..], off) {
                // Past the end of the file there is nothing to map.
                Ok(0) => break,
                Ok(n) => done += n,
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return partial(done, host_errno(e)),
            }
        }
        partial(done, Errno::EFAULT)
    }

    fn write_at(&self, offset: u64, src: &[u8]) -> Result<usize, Errno> {
        if src.is_empty() {
            return Ok(0);
        }
        let mut done = 0usize;
        while done < src.len() {
            let off = file_offset(offset, done)?;
            match nix::sys::uio::pwrite(self.host.borrow(), &src[done..], off) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return partial(done, host_errno(e)),
            }
        }
        partial(done, Errno::EFAULT)
    }

    fn host_fd(&self) -> Option<i32> {
        Some(self.host.raw())
    }
}
