//! [`HostFile`]: the file description of an imported host descriptor
//! (gVisor's `fileDescription` and `TTYFileDescription`).
//!
//! A description shares its file offset with the host: reads, writes and
//! seeks on a seekable file use the host descriptor's own offset
//! (`read`/`write`/`lseek`), so the host open file description moves as
//! the sandbox's I/O happens, exactly as two processes sharing a
//! description after `dup` or `fork` see it. A shell that starts the
//! sandbox with its output on a file and writes after it continues where
//! the sandbox stopped, whether the program closed the descriptor, exited
//! or was killed. `O_APPEND` set by the host is honoured by the host's
//! `write`; `O_APPEND` set only inside the sandbox moves the host offset
//! to the end before each write.
//! Host descriptors that can block are non-blocking: `EAGAIN` with nothing
//! transferred means "would block", and the caller waits for readiness
//! through [`FileDescriptionImpl::event_register`] before retrying (or
//! returns `EAGAIN` for an `O_NONBLOCK` description). A partial transfer
//! returns what was transferred.
//!
//! # Locking
//!
//! The offset mutex (which guards no value: the offset is the host's) is
//! held across the host calls of a seekable read, write or seek, so
//! concurrent sequential I/O on one description is serialized as on
//! Linux. It is a leaf except for those host calls.

use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{Errno, FallocFlags, FileType, OpenFlags, Statx, Whence};
use vfs_core::file_description::IoctlMemory;
use vfs_core::io::{IoDest, IoSource, Limited};
use vfs_core::lock::FileLocks;
use vfs_core::memmap::{
    Mappable, MappableRange, MappingIdentity, MmapFileAccess, MmapOpts, generic_configure_mmap,
};
use vfs_core::permissions::check_limit;
use vfs_core::waiter::{EventMask, WaitEntryId, Waiter};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, ReadOptions, SetStatOptions, StatOptions,
    WriteOptions,
};
use zerocopy::IntoBytes;

use crate::host_fd::host_errno;
use crate::inode::HostInode;

/// The description of an imported host descriptor.
pub struct HostFile {
    inode: Arc<HostInode>,
    /// Serializes sequential I/O and seeks on the host offset.
    offset: Mutex<()>,
}

impl HostFile {
    pub(crate) fn new(inode: Arc<HostInode>) -> HostFile {
        HostFile {
            inode,
            offset: Mutex::new(()),
        }
    }

    /// The inode (and through it the host descriptor).
    pub fn inode(&self) -> &Arc<HostInode> {
        &self.inode
    }

    /// The host descriptor number, for the platform and for tests.
    pub fn host_fd(&self) -> i32 {
        self.inode.host_fd().raw()
    }

    /// `fdatasync(2)`: writes back the data of the host file.
    pub fn sync_data(&self) -> Result<(), Errno> {
        if self.inode.is_readonly() {
            return Err(Errno::EPERM);
        }
        nix::unistd::fdatasync(self.inode.host_fd().borrow()).map_err(host_errno)
    }

    fn offset(&self) -> MutexGuard<'_, ()> {
        self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The host descriptor's offset.
    ///
    /// # Preconditions
    ///
    /// The offset mutex is held.
    fn host_offset(&self) -> Result<i64, Errno> {
        nix::unistd::lseek(
            self.inode.host_fd().borrow(),
            0,
            nix::unistd::Whence::SeekCur,
        )
        .map_err(host_errno)
    }

    /// Reads at the host descriptor's offset (moving it), or from the
    /// stream.
    fn read_inner(&self, dst: &mut dyn IoDest) -> Result<usize, Errno> {
        let host = self.inode.host_fd();
        if !self.inode.is_seekable() {
            return host.read_into(dst, None);
        }
        let _serial = self.offset();
        host.read_into(dst, None)
    }

    /// Writes at the host descriptor's offset (moving it; the end of the
    /// file with `O_APPEND`), or to the stream.
    fn write_inner(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
    ) -> Result<usize, Errno> {
        if self.inode.is_readonly() {
            return Err(Errno::EPERM);
        }
        let host = self.inode.host_fd();
        let n = if !self.inode.is_seekable() {
            host.write_from(src, None)?
        } else {
            let _serial = self.offset();
            let host_append = nix::fcntl::fcntl(host.borrow(), nix::fcntl::FcntlArg::F_GETFL)
                .map_err(host_errno)?
                & libc::O_APPEND
                != 0;
            let offset = if fd.status_flags().contains(OpenFlags::APPEND) && !host_append {
                // Appending only in the sandbox's view: another host
                // process may grow the file between the seek and the
                // write, a race the host gives no way to close.
                nix::unistd::lseek(host.borrow(), 0, nix::unistd::Whence::SeekEnd)
                    .map_err(host_errno)?
            } else if host_append {
                i64::try_from(self.inode.size()?).map_err(|_| Errno::EFBIG)?
            } else {
                self.host_offset()?
            };
            self.write_limited(ctx, src, offset as u64, None)?
        };
        self.sync_after_write(fd, n)?;
        Ok(n)
    }

    /// Writes within `RLIMIT_FSIZE` for regular files, whose write
    /// starts at `offset`: with `pwrite` at `at`, or with `write` at the
    /// host offset when `at` is `None`.
    fn write_limited(
        &self,
        ctx: &dyn Context,
        src: &mut dyn IoSource,
        offset: u64,
        at: Option<u64>,
    ) -> Result<usize, Errno> {
        let host = self.inode.host_fd();
        if self.inode.file_type() != FileType::Regular {
            return host.write_from(src, at);
        }
        let allowed = check_limit(ctx, offset, src.remaining() as u64)?;
        let mut limited = Limited::new(src, usize::try_from(allowed).unwrap_or(usize::MAX));
        host.write_from(&mut limited, at)
    }

    /// `O_SYNC`/`O_DSYNC`: writes back after a write that did something.
    fn sync_after_write(&self, fd: &FileDescription, n: usize) -> Result<(), Errno> {
        if n == 0 {
            return Ok(());
        }
        let flags = fd.status_flags();
        let host = self.inode.host_fd().borrow();
        if flags.contains(OpenFlags::SYNC) {
            nix::unistd::fsync(host).map_err(host_errno)
        } else if flags.contains(OpenFlags::DSYNC) {
            nix::unistd::fdatasync(host).map_err(host_errno)
        } else {
            Ok(())
        }
    }
}

/// What `/proc/[pid]/maps` shows for a mapping of an imported file; it
/// keeps the inode (and the host descriptor) alive while mapped.
struct MappedHostFile {
    inode: Arc<HostInode>,
    dev: u64,
}

impl MappingIdentity for MappedHostFile {
    fn mapped_name(&self) -> String {
        format!("host:[{}]", self.inode.ino())
    }

    fn device_id(&self) -> u64 {
        self.dev
    }

    fn inode_id(&self) -> u64 {
        self.inode.ino()
    }

    fn msync(&self, _: MappableRange) -> Result<(), Errno> {
        nix::unistd::fsync(self.inode.host_fd().borrow()).map_err(host_errno)
    }
}

impl FileDescriptionImpl for HostFile {
    fn stat(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        self.inode.stat_host(opts)
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        self.inode.set_stat_host(ctx, opts)
    }

    fn allocate(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        mode: FallocFlags,
        offset: u64,
        len: u64,
    ) -> Result<(), Errno> {
        if self.inode.is_readonly() {
            return Err(Errno::EPERM);
        }
        let mode =
            nix::fcntl::FallocateFlags::from_bits(mode.bits() as i32).ok_or(Errno::EOPNOTSUPP)?;
        let offset = i64::try_from(offset).map_err(|_| Errno::EFBIG)?;
        let len = i64::try_from(len).map_err(|_| Errno::EFBIG)?;
        nix::fcntl::fallocate(self.inode.host_fd().borrow(), mode, offset, len).map_err(host_errno)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        self.inode.host_fd().poll_now(mask)
    }

    fn event_register(
        &self,
        waiter: Arc<dyn Waiter>,
        mask: EventMask,
    ) -> Result<Option<WaitEntryId>, Errno> {
        self.inode.event_register(waiter, mask)
    }

    fn event_unregister(&self, id: WaitEntryId) {
        self.inode.event_unregister(id);
    }

    fn pread(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        if !self.inode.is_seekable() {
            return Err(Errno::ESPIPE);
        }
        if let Some(tty) = &self.inode.tty {
            tty.check_read(ctx)?;
        }
        self.inode.host_fd().read_into(dst, Some(offset))
    }

    fn read(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        if let Some(tty) = &self.inode.tty {
            tty.check_read(ctx)?;
        }
        self.read_inner(dst)
    }

    fn pwrite(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        offset: u64,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        if !self.inode.is_seekable() {
            return Err(Errno::ESPIPE);
        }
        if self.inode.is_readonly() {
            return Err(Errno::EPERM);
        }
        let mut write = move || -> Result<usize, Errno> {
            let n = self.write_limited(ctx, src, offset, Some(offset))?;
            self.sync_after_write(fd, n)?;
            Ok(n)
        };
        match &self.inode.tty {
            Some(tty) => tty.checked_write(ctx, write),
            None => write(),
        }
    }

    fn write(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        match &self.inode.tty {
            Some(tty) => tty.checked_write(ctx, || self.write_inner(ctx, fd, src)),
            None => self.write_inner(ctx, fd, src),
        }
    }

    /// `lseek` on the host descriptor's offset, which the host computes
    /// with Linux's rules for every `whence`.
    fn seek(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        if !self.inode.is_seekable() {
            return Err(Errno::ESPIPE);
        }
        let host_whence = match whence {
            Whence::Set => nix::unistd::Whence::SeekSet,
            Whence::Cur => nix::unistd::Whence::SeekCur,
            Whence::End => nix::unistd::Whence::SeekEnd,
            Whence::Data => nix::unistd::Whence::SeekData,
            Whence::Hole => nix::unistd::Whence::SeekHole,
        };
        let _serial = self.offset();
        nix::unistd::lseek(self.inode.host_fd().borrow(), offset, host_whence).map_err(host_errno)
    }

    fn sync(&self, _: &dyn Context, _: &FileDescription) -> Result<(), Errno> {
        if self.inode.is_readonly() {
            return Err(Errno::EPERM);
        }
        nix::unistd::fsync(self.inode.host_fd().borrow()).map_err(host_errno)
    }

    fn ioctl(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        if let Some(tty) = &self.inode.tty {
            return tty.ioctl(
                self.inode.host_fd(),
                ctx,
                fd.is_readable(),
                cmd,
                arg,
                memory,
            );
        }
        if cmd != abi_linux::tty::FIONREAD {
            return Err(Errno::ENOTTY);
        }
        let n: i32 = if self.inode.file_type() == FileType::Regular {
            // Linux answers the bytes between the offset and the end.
            let offset = {
                let _serial = self.offset();
                u64::try_from(self.host_offset()?).unwrap_or(0)
            };
            let left = self.inode.size()?.saturating_sub(offset);
            i32::try_from(left).unwrap_or(i32::MAX)
        } else {
            let mut n: libc::c_int = 0;
            // SAFETY: `FIONREAD` writes one `int` through its argument.
            unsafe {
                self.inode
                    .host_fd()
                    .ioctl_ptr(abi_linux::tty::FIONREAD, &mut n)?
            };
            n
        };
        memory.copy_out(arg, n.as_bytes())?;
        Ok(0)
    }

    /// Regular files only (`ENODEV` otherwise): the mapping translates to
    /// the host descriptor itself.
    fn configure_mmap(
        &self,
        _: &dyn Context,
        fd: &FileDescription,
        opts: &mut MmapOpts,
    ) -> Result<(), Errno> {
        if self.inode.file_type() != FileType::Regular {
            return Err(Errno::ENODEV);
        }
        let access = MmapFileAccess {
            readable: fd.is_readable(),
            writable: fd.is_writable(),
            append: fd.status_flags().contains(OpenFlags::APPEND),
        };
        let identity = Arc::new(MappedHostFile {
            inode: Arc::clone(&self.inode),
            dev: fd.mount().filesystem().dev(),
        });
        generic_configure_mmap(
            opts,
            access,
            Arc::clone(&self.inode) as Arc<dyn Mappable>,
            identity,
        )
    }

    fn file_locks(&self) -> Option<&FileLocks> {
        Some(kernfs::Inode::attrs(&*self.inode).locks())
    }

    fn synthetic_name(&self) -> Option<String> {
        Some(format!("host:[{}]", self.inode.ino()))
    }
}
