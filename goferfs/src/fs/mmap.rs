//! Memory mappings of remote regular files (gVisor gofer's `dentry`
//! implementation of `memmap.Mappable` in `regular_file.go`).
//!
//! An [`Inode`] is the [`Mappable`] of its file. Its pages come from one of
//! two places:
//!
//! - the page cache (exclusive and writethrough modes without a donated
//!   fd): translation fills missing pages from the server with the same
//!   64 KiB window as reads, and a writable translation keeps its pages
//!   dirty until the last writable mapping of them goes, so `fsync`, close
//!   and eviction write back what was stored through the mapping;
//! - a donated host fd ([`HostFile`]), which `configure_mmap` requires in
//!   shared mode (`ENODEV` otherwise, as gVisor): the pages are the host
//!   file's own, so the server's file and the mapping never diverge.
//!
//! Mappings are recorded in a [`MappingSet`] so truncation (with private
//! copies) and `O_DIRECT` writes (without) invalidate the translations of
//! the pages they drop.
//!
//! # Lock order
//!
//! The inode's `maps` → `data` → `meta` → `handles` (see [`super::inode`]);
//! [`MappingSpace::invalidate`] is called with `maps` held.

use std::ops::Range;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;

use abi_linux::Errno;
use vfs_core::memmap::{
    AccessType, File, Mappable, MappableRange, MappingIdentity, MappingSpace, Translation,
};
use vfs_core::range_set::page_round_up;

use super::inode::{Inode, READAHEAD, lock};
use crate::client::Fid;
use crate::error::from_nix;

/// The pages of a donated host fd, as a [`File`] whose offsets are the
/// file's own. Holds duplicates of the donated fds, so it outlives the fids.
#[derive(Debug)]
pub struct HostFile {
    /// Used for reads; opened for reading.
    read: OwnedFd,
    /// Used for writes; `None` if no handle was opened for writing.
    write: Option<OwnedFd>,
}

impl HostFile {
    /// Duplicates the donated fds of `read` (required) and `write`; `None`
    /// if `read` has none.
    pub(crate) fn from_handles(read: &Fid, write: Option<&Fid>) -> Result<Option<Self>, Errno> {
        let dup = |fd: std::os::fd::BorrowedFd<'_>| {
            fd.try_clone_to_owned()
                .map_err(|e| crate::error::from_io(&e))
        };
        let Some(r) = read.host_fd() else {
            return Ok(None);
        };
        let write = match write.and_then(Fid::host_fd) {
            Some(w) => Some(dup(w)?),
            None => None,
        };
        Ok(Some(Self {
            read: dup(r)?,
            write,
        }))
    }
}

/// The host file offset `done` bytes past `offset`, as `pread` takes it.
fn file_offset(offset: u64, done: usize) -> Result<i64, Errno> {
    offset
        .checked_add(done as u64)
        .and_then(|at| i64::try_from(at).ok())
        .ok_or(Errno::EOVERFLOW)
}

impl File for HostFile {
    fn inc_ref(&self, _range: Range<u64>) -> Result<(), Errno> {
        // The host file owns its pages; there is nothing to count.
        Ok(())
    }

    fn dec_ref(&self, _range: Range<u64>) -> Result<(), Errno> {
        Ok(())
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        if dst.is_empty() {
            return Ok(0);
        }
        let mut done = 0usize;
        while done < dst.len() {
            let off = file_offset(offset, done)?;
            match nix::sys::uio::pread(&self.read, &mut dst[done..], off) {
                // Past the host file's end there are no pages (SIGBUS).
                Ok(0) => break,
                Ok(n) => done += n,
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) if done == 0 => return Err(from_nix(e)),
                Err(_) => break,
            }
        }
        if done == 0 {
            Err(Errno::EFAULT)
        } else {
            Ok(done)
        }
    }

    fn write_at(&self, offset: u64, src: &[u8]) -> Result<usize, Errno> {
        let fd = self.write.as_ref().ok_or(Errno::EACCES)?;
        if src.is_empty() {
            return Ok(0);
        }
        let mut done = 0usize;
        while done < src.len() {
            let off = file_offset(offset, done)?;
            match nix::sys::uio::pwrite(fd, &src[done..], off) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) if done == 0 => return Err(from_nix(e)),
                Err(_) => break,
            }
        }
        if done == 0 {
            Err(Errno::EFAULT)
        } else {
            Ok(done)
        }
    }

    fn host_fd(&self) -> Option<i32> {
        Some(
            self.write
                .as_ref()
                .unwrap_or(&self.read)
                .as_fd()
                .as_raw_fd(),
        )
    }
}

/// What `/proc/[pid]/maps` shows for a mapping of a gofer file; `msync`
/// writes the range's dirty pages back.
pub(crate) struct MappedFile {
    pub(crate) name: String,
    pub(crate) dev: u64,
    pub(crate) inode: Arc<Inode>,
}

impl MappingIdentity for MappedFile {
    fn mapped_name(&self) -> String {
        self.name.clone()
    }

    fn device_id(&self) -> u64 {
        self.dev
    }

    fn inode_id(&self) -> u64 {
        self.inode.ino()
    }

    fn msync(&self, range: MappableRange) -> Result<(), Errno> {
        match self.inode.any_handle() {
            Some(h) if self.inode.has_dirty() => self.inode.writeback(range, &h),
            _ => Ok(()),
        }
    }
}

/// The part of `optional` around `required` to fill in one translation:
/// `required` alone if it is at least the readahead window, else up to a
/// window starting at `required.start` (gVisor's `maxFillRange`).
fn fill_range(required: &Range<u64>, optional: &Range<u64>) -> Range<u64> {
    if required.end - required.start >= READAHEAD {
        return required.clone();
    }
    if optional.end - optional.start <= READAHEAD {
        return optional.clone();
    }
    let start = required
        .start
        .saturating_sub(READAHEAD / 2)
        .max(optional.start);
    let end = start.saturating_add(READAHEAD).min(optional.end);
    start..end.max(required.end)
}

impl Mappable for Inode {
    fn add_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) -> Result<(), Errno> {
        lock(&self.maps).add_mapping(space, app_range, offset, writable)?;
        Ok(())
    }

    fn remove_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) {
        let mut maps = lock(&self.maps);
        // The caller removes only mappings it added; a mismatch leaves the
        // set as it was, which is all that can be done without a caller to
        // report to.
        let Ok(unmapped) = maps.remove_mapping(space, app_range, offset, writable) else {
            return;
        };
        // Pages no longer mapped can only be dirtied by writes that mark
        // them, so writeback may now clean them (metadata and pages are
        // authoritative in every mode with a page cache).
        let mut data = lock(&self.data);
        for r in unmapped {
            data.dirty.allow_clean(r);
        }
    }

    fn translate(
        &self,
        required: MappableRange,
        optional: MappableRange,
        at: AccessType,
    ) -> Result<Vec<Translation>, Errno> {
        if let Some(host) = lock(&self.host_file).clone() {
            let file: Arc<dyn File> = host;
            return Ok(vec![Translation {
                offset: optional.start,
                source: optional,
                file,
                perms: AccessType::ANY,
            }]);
        }
        let mut data = lock(&self.data);
        let size = self.metadata().size;
        let eof = page_round_up(size).ok_or(Errno::EFBIG)?;
        if required.end > eof {
            return Err(Errno::EFAULT);
        }
        let optional = optional.start..optional.end.min(eof);
        let fill = fill_range(&required, &optional);
        let gaps: Vec<Range<u64>> = data.cache.gaps(fill.clone()).collect();
        if !gaps.is_empty() {
            let h = self.read_handle().ok_or(Errno::EIO)?;
            for gap in gaps {
                if let Err(e) = self.fill(&mut data, gap.clone(), &h) {
                    // Errors outside `required` only shorten the result.
                    if gap.start < required.end && gap.end > required.start {
                        return Err(e);
                    }
                }
            }
        }
        let mut out = Vec::new();
        let mut covered = required.start;
        let pieces: Vec<(Range<u64>, Range<u64>)> = data.cache.translate(fill).collect();
        for (source, mem) in pieces {
            if source.start > covered && covered < required.end {
                break;
            }
            covered = covered.max(source.end);
            if at.write {
                // Writes through the mapping are invisible to us from now
                // on: keep the pages dirty while it exists.
                data.dirty.keep_dirty(source.clone());
            }
            out.push(Translation {
                source,
                file: Arc::clone(&self.mf) as Arc<dyn File>,
                offset: mem.start,
                perms: at,
            });
        }
        if covered < required.end {
            // The server had fewer bytes than the cached size says.
            return Err(Errno::EFAULT);
        }
        Ok(out)
    }

    fn invalidate_unsavable(&self) -> Result<(), Errno> {
        let maps = lock(&self.maps);
        // Which file the pages come from may change across a restore.
        maps.invalidate_all(false);
        let write = self.any_handle();
        let mut data = lock(&self.data);
        if let Some(h) = write {
            let size = self.metadata().size;
            self.writeback_locked(&mut data, 0..u64::MAX, size, &h)?;
        }
        data.dirty.allow_clean(0..u64::MAX);
        data.dirty.mark_clean(0..u64::MAX);
        for mem in data.cache.remove(0..u64::MAX) {
            self.mf.dec_ref(mem)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_range_keeps_large_requests_and_windows_small_ones() {
        let w = READAHEAD;
        assert_eq!(fill_range(&(0..2 * w), &(0..8 * w)), 0..2 * w);
        assert_eq!(fill_range(&(0..4096), &(0..8192)), 0..8192);
        let r = fill_range(&(4 * w..4 * w + 4096), &(0..8 * w));
        assert!(r.start <= 4 * w && r.end >= 4 * w + 4096);
        assert_eq!(r.end - r.start, w);
    }
}
