//! Open regular files (gVisor gofer's `regularFileFD`).
//!
//! Reads and writes go through the inode's page cache outside shared mode
//! and when no host fd was donated; `O_DIRECT`, shared mode and donated
//! fds go to the server (or the fd) directly. `O_APPEND` takes the size
//! from the cache when it is authoritative and from the server otherwise;
//! `O_SYNC`/`O_DSYNC` write back and send Tfsync before returning.
//!
//! # Lock order
//!
//! `offset` → the inode's locks (see [`super::inode`]).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use abi_linux::{Capability, Errno, OpenFlags, Statfs, Statx, Whence};
use vfs_core::io::{IoDest, IoSource, Limited};
use vfs_core::lock::FileLocks;
use vfs_core::memmap::{Mappable, MmapFileAccess, MmapOpts, generic_configure_mmap};
use vfs_core::permissions::{check_limit, clear_suid_and_sgid};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, ReadOptions, SetStatOptions, StatOptions,
    WriteOptions,
};

use super::dentry::GoferDentry;
use super::inode::lock;
use super::mmap::MappedFile;
use super::{InteropMode, fs_of};
use crate::client::Fid;
use crate::message::{SetAttr, getattr, setattr};

/// The largest buffer a direct transfer uses.
const CHUNK: usize = 1 << 20;

/// An open regular file.
pub struct RegularFile {
    d: Arc<GoferDentry>,
    offset: Mutex<u64>,
}

impl RegularFile {
    pub(crate) fn new(d: Arc<GoferDentry>) -> Self {
        Self {
            d,
            offset: Mutex::new(0),
        }
    }

    fn handle(&self, write: bool) -> Result<Arc<Fid>, Errno> {
        let (r, w) = self
            .d
            .inode()
            .ensure_handles(&self.d.fid(), !write, write)?;
        if write { w } else { r }.ok_or(Errno::EBADF)
    }

    fn read_direct(dst: &mut dyn IoDest, offset: u64, h: &Fid) -> Result<usize, Errno> {
        let mut done = 0usize;
        let mut buf = vec![0u8; dst.remaining().min(CHUNK)];
        while dst.remaining() > 0 {
            let want = dst.remaining().min(buf.len());
            let off = offset.checked_add(done as u64).ok_or(Errno::EOVERFLOW)?;
            let n = match h.read_at(&mut buf[..want], off) {
                Ok(n) => n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            let copied = dst.write_bytes(&buf[..n])?;
            done += copied;
            if n < want || copied < n {
                break;
            }
        }
        Ok(done)
    }

    fn write_direct(&self, src: &mut dyn IoSource, offset: u64, h: &Fid) -> Result<usize, Errno> {
        let mut done = 0usize;
        let mut buf = vec![0u8; src.remaining().min(CHUNK)];
        while src.remaining() > 0 {
            let got = src.read_bytes(&mut buf)?;
            if got == 0 {
                break;
            }
            let off = offset.checked_add(done as u64).ok_or(Errno::EFBIG)?;
            let n = match h.write_at(&buf[..got], off) {
                Ok(n) => n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            done += n;
            if n < got {
                break;
            }
        }
        let end = offset + done as u64;
        let inode = self.d.inode();
        inode.update(|m| m.size = m.size.max(end));
        inode.mark_data_changed();
        Ok(done)
    }

    fn read_at(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
    ) -> Result<usize, Errno> {
        let _ = ctx;
        let fs = fs_of(fd)?;
        let shared = fs.shared();
        let inode = self.d.inode();
        let start = Instant::now();
        let host = inode.has_host_fd();
        let result = (|| {
            if !shared.is_shared() && offset >= inode.metadata().size {
                return Ok(0);
            }
            let h = self.handle(false)?;
            if fd.status_flags().contains(OpenFlags::DIRECT) {
                if let Some(w) = inode.any_handle().filter(|_| inode.has_dirty()) {
                    let end = offset.saturating_add(dst.remaining() as u64);
                    inode.writeback(offset..end, &w)?;
                }
                return Self::read_direct(dst, offset, &h);
            }
            if shared.is_shared() || h.host_fd().is_some() {
                return Self::read_direct(dst, offset, &h);
            }
            inode.read_cached(dst, offset, &h)
        })();
        let stats = &shared.stats;
        let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        stats
            .reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if host {
            stats
                .reads_host
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            stats
                .read_wait_host_ns
                .fetch_add(ns, std::sync::atomic::Ordering::Relaxed);
        } else {
            stats
                .reads_9p
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            stats
                .read_wait_9p_ns
                .fetch_add(ns, std::sync::atomic::Ordering::Relaxed);
        }
        result
    }

    /// Writes at `offset` (the end with `O_APPEND`); returns the count and
    /// the offset after the write.
    fn write_at(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        offset: u64,
    ) -> Result<(usize, u64), Errno> {
        let fs = fs_of(fd)?;
        let shared = fs.shared();
        let inode = self.d.inode();
        let flags = fd.status_flags();
        let mut offset = offset;
        if flags.contains(OpenFlags::APPEND) {
            if shared.is_shared() {
                let attr = self.d.fid().getattr(getattr::SIZE)?;
                inode.update(|m| m.size = attr.size);
            }
            offset = inode.metadata().size;
        }
        if src.remaining() == 0 {
            return Ok((0, offset));
        }
        let limit = check_limit(ctx, offset, src.remaining() as u64)?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut src = Limited::new(src, limit);
        if !shared.is_shared() {
            let now = ctx.now();
            inode.update(|m| {
                m.mtime = now;
                m.ctime = now;
            });
        }
        let h = self.handle(true)?;
        let n = if flags.contains(OpenFlags::DIRECT) {
            let end = offset.saturating_add(src.remaining() as u64);
            inode.drop_cached(offset..end, Some(&h))?;
            self.write_direct(&mut src, offset, &h)?
        } else if shared.is_shared() || h.host_fd().is_some() {
            self.write_direct(&mut src, offset, &h)?
        } else {
            let writethrough = shared.opts.interop == InteropMode::Writethrough;
            inode.write_cached(&mut src, offset, &h, writethrough)?
        };
        if n > 0 && flags.intersects(OpenFlags::DSYNC | OpenFlags::SYNC) {
            inode.writeback(offset..offset + n as u64, &h)?;
            let data_only = !flags.contains(OpenFlags::SYNC);
            h.fsync(data_only)?;
        }
        if n > 0 && !ctx.credentials().has_capability(Capability::FSETID) {
            let mode = inode.metadata().mode;
            let cleared = clear_suid_and_sgid(mode);
            if cleared != mode {
                self.d.fid().setattr(&SetAttr {
                    valid: setattr::MODE,
                    mode: cleared & 0o7777,
                    ..SetAttr::default()
                })?;
                inode.update(|m| m.mode = cleared);
            }
        }
        Ok((n, offset + n as u64))
    }

    /// Writes back every dirty page.
    fn flush(&self) -> Result<(), Errno> {
        let inode = self.d.inode();
        if !inode.has_dirty() {
            return Ok(());
        }
        match inode.any_handle() {
            Some(h) => inode.writeback(0..u64::MAX, &h),
            None => Ok(()),
        }
    }
}

impl FileDescriptionImpl for RegularFile {
    fn on_close(&self, _ctx: &dyn Context, fd: &FileDescription) -> Result<(), Errno> {
        if fd.is_writable() {
            self.flush()?;
        }
        Ok(())
    }

    fn stat(
        &self,
        _ctx: &dyn Context,
        fd: &FileDescription,
        _opts: StatOptions,
    ) -> Result<Statx, Errno> {
        fs_of(fd)?.stat_file(&self.d, fd)
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        fs_of(fd)?.set_stat_file(ctx, &self.d, fd, opts)
    }

    fn statfs(&self, _ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        fs_of(fd)?.statfs_file()
    }

    fn pread(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
        _opts: ReadOptions,
    ) -> Result<usize, Errno> {
        self.read_at(ctx, fd, dst, offset)
    }

    fn read(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        _opts: ReadOptions,
    ) -> Result<usize, Errno> {
        let mut off = lock(&self.offset);
        let n = self.read_at(ctx, fd, dst, *off)?;
        *off += n as u64;
        Ok(n)
    }

    fn pwrite(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        offset: u64,
        _opts: WriteOptions,
    ) -> Result<usize, Errno> {
        self.write_at(ctx, fd, src, offset).map(|(n, _)| n)
    }

    fn write(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        _opts: WriteOptions,
    ) -> Result<usize, Errno> {
        let mut off = lock(&self.offset);
        let (n, end) = self.write_at(ctx, fd, src, *off)?;
        *off = end;
        Ok(n)
    }

    fn seek(
        &self,
        _ctx: &dyn Context,
        fd: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let mut cur = lock(&self.offset);
        let size = || -> Result<i64, Errno> {
            let fs = fs_of(fd)?;
            if fs.shared().is_shared() {
                let attr = self.d.fid().getattr(getattr::SIZE)?;
                self.d.inode().update(|m| m.size = attr.size);
            }
            i64::try_from(self.d.inode().metadata().size).map_err(|_| Errno::EOVERFLOW)
        };
        let target = match whence {
            Whence::Set => offset,
            Whence::Cur => i64::try_from(*cur)
                .map_err(|_| Errno::EOVERFLOW)?
                .checked_add(offset)
                .ok_or(Errno::EINVAL)?,
            Whence::End => size()?.checked_add(offset).ok_or(Errno::EINVAL)?,
            // The file is one extent of data: the only hole is its end.
            Whence::Data | Whence::Hole => {
                let size = size()?;
                if offset < 0 || offset >= size {
                    return Err(Errno::ENXIO);
                }
                if whence == Whence::Data { offset } else { size }
            }
        };
        if target < 0 {
            return Err(Errno::EINVAL);
        }
        *cur = target as u64;
        Ok(target)
    }

    fn sync(&self, _ctx: &dyn Context, _fd: &FileDescription) -> Result<(), Errno> {
        self.flush()?;
        match self.d.inode().any_handle() {
            Some(h) => h.fsync(false),
            None => Ok(()),
        }
    }

    fn file_locks(&self) -> Option<&FileLocks> {
        Some(self.d.inode().locks())
    }

    fn configure_mmap(
        &self,
        _ctx: &dyn Context,
        fd: &FileDescription,
        opts: &mut MmapOpts,
    ) -> Result<(), Errno> {
        let fs = fs_of(fd)?;
        let inode = self.d.inode();
        let access = MmapFileAccess {
            readable: fd.is_readable(),
            writable: fd.is_writable(),
            append: fd.status_flags().contains(OpenFlags::APPEND),
        };
        let identity = Arc::new(MappedFile {
            name: String::from_utf8_lossy(&self.d.name()).into_owned(),
            dev: fs.dev(),
            inode: Arc::clone(inode),
        });
        let mut checked = opts.clone();
        generic_configure_mmap(
            &mut checked,
            access,
            Arc::clone(inode) as Arc<dyn Mappable>,
            identity,
        )?;
        // Translation reads through the read handle and writes back through
        // the write handle; open them now, while there is a file to open.
        inode.ensure_handles(&self.d.fid(), true, access.writable)?;
        let host = inode.use_host_mapping()?;
        if fs.shared().is_shared() && !host {
            // Without a host fd the pages would be a private copy that
            // other users of the remote file never see.
            return Err(Errno::ENODEV);
        }
        *opts = checked;
        Ok(())
    }
}
