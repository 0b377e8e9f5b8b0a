//! File descriptions: the generic [`FileDescription`] (one `open(2)`'s
//! state) and the [`FileDescriptionImpl`] trait filesystems implement.
//!
//! # Reference model
//!
//! A file description holds one reference on its mount and one on its
//! dentry for its whole life. File-descriptor tables, epoll instances and
//! memory mappings hold [`FileRef`]s. When the last reference goes, the
//! implementation's [`FileDescriptionImpl::release`] runs, then the mount
//! and dentry references are given back, all with the releasing context.
//!
//! # Locking
//!
//! Status flags are atomic. Implementations keep their own locks (an
//! offset mutex, a page cache lock); the VFS holds none while calling them.

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

use abi_linux::{Errno, FallocFlags, OpenFlags, RwfFlags, Statfs, Statx, Whence};

use crate::context::Context;
use crate::dentry::{DentryImpl, DentryRef};
use crate::epoll::EpollInstance;
use crate::handle::{Handle, RefCounted};
use crate::io::{IoDest, IoSource};
use crate::lock::{
    FileLocks, FlockKind, LockKind, LockOwner, LockRange, RecordLock, compute_range,
};
use crate::memmap::MmapOpts;
use crate::mount::{Mount, MountRef, VirtualDentry};
use crate::options::{ReadOptions, SetStatOptions, StatOptions, WriteOptions};
use crate::waiter::{EventMask, WaitEntryId, Waiter, WaiterQueue};

/// One directory entry handed to a [`DirentSink`].
#[derive(Clone, Copy, Debug)]
pub struct Dirent<'a> {
    /// The entry's name.
    pub name: &'a [u8],
    /// Its inode number.
    pub ino: u64,
    /// Its type as a `DT_*` value.
    pub dtype: u8,
    /// The directory offset of the entry after this one: what `lseek`
    /// must be given to resume after it.
    pub next_offset: i64,
}

/// Where [`FileDescriptionImpl::iter_dirents`] puts entries.
pub trait DirentSink {
    /// Accepts `dirent`, or returns false when it does not fit; the
    /// filesystem then stops without consuming the entry, so the next
    /// call starts with it.
    fn add(&mut self, dirent: &Dirent<'_>) -> bool;
}

/// Serialises entries as `linux_dirent64` records into a buffer, as
/// `getdents64(2)` returns them.
pub struct Getdents64Buffer<'a> {
    buf: &'a mut [u8],
    len: usize,
    rejected: bool,
}

impl<'a> Getdents64Buffer<'a> {
    /// An empty record buffer over `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            len: 0,
            rejected: false,
        }
    }

    /// The bytes written so far, or `EINVAL` when the buffer was too small
    /// for even the first entry (Linux's result for a too-small buffer).
    pub fn finish(self) -> Result<usize, Errno> {
        if self.len == 0 && self.rejected {
            Err(Errno::EINVAL)
        } else {
            Ok(self.len)
        }
    }
}

impl DirentSink for Getdents64Buffer<'_> {
    fn add(&mut self, dirent: &Dirent<'_>) -> bool {
        let rest = &mut self.buf[self.len..];
        match abi_linux::write_dirent64(
            rest,
            dirent.ino,
            dirent.next_offset,
            dirent.dtype,
            dirent.name,
        ) {
            Some(written) => {
                self.len += written;
                true
            }
            None => {
                self.rejected = true;
                false
            }
        }
    }
}

/// Collects entries into a vector (for library users and tests).
#[derive(Debug, Default)]
pub struct DirentVec {
    /// `(name, ino, dtype, next_offset)` for each entry.
    pub entries: Vec<(Vec<u8>, u64, u8, i64)>,
}

impl DirentSink for DirentVec {
    fn add(&mut self, dirent: &Dirent<'_>) -> bool {
        self.entries.push((
            dirent.name.to_vec(),
            dirent.ino,
            dirent.dtype,
            dirent.next_offset,
        ));
        true
    }
}

/// Options fixed when a description is created.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileDescriptionOptions {
    /// `O_DIRECT` may be set on this file.
    pub allow_direct_io: bool,
    /// `pread` family calls fail with `ESPIPE` (pipes, sockets).
    pub deny_pread: bool,
    /// `pwrite` family calls fail with `ESPIPE`.
    pub deny_pwrite: bool,
}

/// An `O_ASYNC` handler: told when the file becomes ready so it can send
/// `SIGIO` to the owner.
pub trait FileAsync: Send + Sync {
    /// Called with the events that became ready.
    fn notify(&self, events: EventMask);
}

/// What a filesystem implements for its open files. Defaults return the
/// errno Linux returns for a file that does not support the operation.
pub trait FileDescriptionImpl: Any + Send + Sync {
    /// Called once when the last reference to the description goes.
    fn release(&self, ctx: &dyn Context) {
        let _ = ctx;
    }

    /// Called on each `close(2)` of a file descriptor for this description.
    fn on_close(&self, ctx: &dyn Context, fd: &FileDescription) -> Result<(), Errno> {
        let _ = (ctx, fd);
        Ok(())
    }

    /// Returns the file's metadata.
    fn stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: StatOptions,
    ) -> Result<Statx, Errno>;

    /// Changes the file's metadata.
    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        let _ = (ctx, fd, opts);
        Err(Errno::EPERM)
    }

    /// Returns statistics of the file's filesystem.
    fn statfs(&self, ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        let _ = (ctx, fd);
        Err(Errno::ENOSYS)
    }

    /// `fallocate(2)`.
    fn allocate(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        mode: FallocFlags,
        offset: u64,
        len: u64,
    ) -> Result<(), Errno> {
        let _ = (ctx, fd, mode, offset, len);
        Err(Errno::ENODEV)
    }

    /// The subset of `mask` that is ready now. Files that never block are
    /// always readable and writable.
    fn readiness(&self, mask: EventMask) -> EventMask {
        mask & (EventMask::IN | EventMask::OUT | EventMask::RDNORM | EventMask::WRNORM)
    }

    /// The queue notified when [`Self::readiness`] changes, for files
    /// with one; the default [`Self::event_register`] and
    /// [`Self::event_unregister`] use it.
    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        None
    }

    /// Registers `waiter` for the events in `mask`: on
    /// [`Self::waiter_queue`], or nowhere (`None`) for a file that never
    /// blocks.
    fn event_register(
        &self,
        waiter: Arc<dyn Waiter>,
        mask: EventMask,
    ) -> Result<Option<WaitEntryId>, Errno> {
        Ok(self.waiter_queue().map(|q| q.register(waiter, mask)))
    }

    /// Removes a registration made by [`Self::event_register`].
    fn event_unregister(&self, id: WaitEntryId) {
        if let Some(q) = self.waiter_queue() {
            q.unregister(id);
        }
    }

    /// Reads at `offset` without changing the file offset.
    fn pread(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
        opts: ReadOptions,
    ) -> Result<usize, Errno> {
        let _ = (ctx, fd, dst, offset, opts);
        Err(Errno::ESPIPE)
    }

    /// Reads at the file offset and advances it.
    fn read(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        opts: ReadOptions,
    ) -> Result<usize, Errno> {
        let _ = (ctx, fd, dst, opts);
        Err(Errno::EINVAL)
    }

    /// Writes at `offset` without changing the file offset.
    fn pwrite(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        offset: u64,
        opts: WriteOptions,
    ) -> Result<usize, Errno> {
        let _ = (ctx, fd, src, offset, opts);
        Err(Errno::ESPIPE)
    }

    /// Writes at the file offset (or the end, with `O_APPEND`) and
    /// advances it.
    fn write(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        opts: WriteOptions,
    ) -> Result<usize, Errno> {
        let _ = (ctx, fd, src, opts);
        Err(Errno::EINVAL)
    }

    /// Emits directory entries from the current directory offset,
    /// advancing it past each accepted entry.
    fn iter_dirents(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        sink: &mut dyn DirentSink,
    ) -> Result<(), Errno> {
        let _ = (ctx, fd, sink);
        Err(Errno::ENOTDIR)
    }

    /// Changes the file offset.
    fn seek(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let _ = (ctx, fd, offset, whence);
        Err(Errno::ESPIPE)
    }

    /// `fsync(2)`.
    fn sync(&self, ctx: &dyn Context, fd: &FileDescription) -> Result<(), Errno> {
        let _ = (ctx, fd);
        Err(Errno::EINVAL)
    }

    /// `ioctl(2)`. `memory` copies structures to and from the caller.
    fn ioctl(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        let _ = (ctx, fd, cmd, arg, memory);
        Err(Errno::ENOTTY)
    }

    /// Validates an `mmap` of the file and provides its mappable.
    fn configure_mmap(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: &mut MmapOpts,
    ) -> Result<(), Errno> {
        let _ = (ctx, fd, opts);
        Err(Errno::ENODEV)
    }

    /// Opens the description again with `flags`, when it is reached
    /// through a magic link (`/proc/PID/fd/N`, `/dev/stdin`) and has no
    /// location of its own to open: a pipe gives a new description of the
    /// same pipe, a socket `ENXIO`. `None` (the default) opens the
    /// description's location as any path would.
    fn reopen(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        flags: OpenFlags,
    ) -> Option<Result<FileRef, Errno>> {
        let _ = (ctx, fd, flags);
        None
    }

    /// The per-inode lock state, for `flock` and record locks. `None`
    /// means the file does not support locking (`ENOLCK`... or, as for
    /// most Linux filesystems, locks are kept per inode: implement this).
    fn file_locks(&self) -> Option<&FileLocks> {
        None
    }

    /// The target of `/proc/self/fd/N` for files without a path
    /// (`"pipe:[5]"`, `"anon_inode:[eventfd]"`); `None` for files that
    /// have one.
    fn synthetic_name(&self) -> Option<String> {
        None
    }
}

/// Copies `ioctl` argument structures in and out of the caller's memory.
pub trait IoctlMemory {
    /// Reads `buf.len()` bytes at `addr`.
    fn copy_in(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno>;
    /// Writes `buf` at `addr`.
    fn copy_out(&mut self, addr: u64, buf: &[u8]) -> Result<(), Errno>;
}

/// The status flags `F_SETFL` may change.
pub const SETTABLE_STATUS_FLAGS: OpenFlags = OpenFlags::APPEND
    .union(OpenFlags::ASYNC)
    .union(OpenFlags::DIRECT)
    .union(OpenFlags::NOATIME)
    .union(OpenFlags::NONBLOCK);

/// An open file description.
pub struct FileDescription {
    id: u64,
    refs: refs::RefCount,
    registration: spin::Mutex<Option<refs::Registration>>,
    // The description's own counted references, given back at release.
    mount: Arc<Mount>,
    dentry: Arc<dyn DentryImpl>,
    status_flags: AtomicU32,
    readable: bool,
    writable: bool,
    opts: FileDescriptionOptions,
    async_handler: spin::Mutex<Option<Arc<dyn FileAsync>>>,
    /// The epoll instances that watch this description.
    epolls: spin::Mutex<Vec<Weak<EpollInstance>>>,
    imp: Box<dyn FileDescriptionImpl>,
}

use alloc::boxed::Box;

/// One counted reference to a file description.
pub type FileRef = Handle<FileDescription>;

impl FileDescription {
    /// Creates a description for `vd` opened with `flags`, taking new
    /// references on the mount and dentry.
    pub fn new(
        flags: OpenFlags,
        mount: &MountRef,
        dentry: &DentryRef,
        opts: FileDescriptionOptions,
        imp: Box<dyn FileDescriptionImpl>,
    ) -> FileRef {
        let vfs_id = mount.vfs.upgrade().map_or(0, |vfs| vfs.next_id());
        let access = flags.access_mode();
        let path_only = flags.contains(OpenFlags::PATH);
        let fd = Arc::new_cyclic(|weak| Self {
            id: vfs_id,
            refs: refs::RefCount::new(),
            registration: spin::Mutex::new(Some(refs::Registration::new_cyclic(
                weak,
                "vfs::FileDescription",
            ))),
            mount: mount.clone().into_counted_arc(),
            dentry: dentry.clone().into_counted_arc(),
            status_flags: AtomicU32::new(
                (flags
                    & !(OpenFlags::CREAT
                        | OpenFlags::EXCL
                        | OpenFlags::NOCTTY
                        | OpenFlags::TRUNC
                        | OpenFlags::CLOEXEC))
                    .bits(),
            ),
            readable: !path_only && access != abi_linux::AccessMode::WriteOnly,
            writable: !path_only && access != abi_linux::AccessMode::ReadOnly,
            opts,
            async_handler: spin::Mutex::new(None),
            epolls: spin::Mutex::new(Vec::new()),
            imp,
        });
        Handle::adopt(fd)
    }

    /// A unique identifier, also the owner of `flock` and OFD locks.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The implementation.
    pub fn imp(&self) -> &dyn FileDescriptionImpl {
        &*self.imp
    }

    /// Downcasts the implementation to `T`.
    pub fn downcast<T: FileDescriptionImpl>(&self) -> Option<&T> {
        let any: &dyn Any = &*self.imp;
        any.downcast_ref()
    }

    /// The mount the file was opened through.
    pub fn mount(&self) -> &Arc<Mount> {
        &self.mount
    }

    /// The file's dentry.
    pub fn dentry(&self) -> &Arc<dyn DentryImpl> {
        &self.dentry
    }

    /// A new reference to the file's location.
    pub fn virtual_dentry(&self) -> VirtualDentry {
        VirtualDentry::new(
            MountRef::new_ref(&self.mount),
            DentryRef::new_ref(&self.dentry),
        )
    }

    /// The status flags (`F_GETFL`), access mode included.
    pub fn status_flags(&self) -> OpenFlags {
        OpenFlags::from_bits_retain(self.status_flags.load(Ordering::Acquire))
    }

    /// `F_SETFL`: changes the settable flags, leaving the others. Setting
    /// `O_DIRECT` on a file that does not support it is `EINVAL`.
    pub fn set_status_flags(&self, flags: OpenFlags) -> Result<(), Errno> {
        if flags.contains(OpenFlags::DIRECT) && !self.opts.allow_direct_io {
            return Err(Errno::EINVAL);
        }
        let mut current = self.status_flags.load(Ordering::Acquire);
        loop {
            let new =
                (current & !SETTABLE_STATUS_FLAGS.bits()) | (flags & SETTABLE_STATUS_FLAGS).bits();
            match self.status_flags.compare_exchange_weak(
                current,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(observed) => current = observed,
            }
        }
    }

    /// Whether the description was opened for reading.
    pub fn is_readable(&self) -> bool {
        self.readable
    }

    /// Whether the description was opened for writing.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The options fixed at creation.
    pub fn options(&self) -> FileDescriptionOptions {
        self.opts
    }

    /// Sets or clears the `O_ASYNC` handler.
    pub fn set_async_handler(&self, handler: Option<Arc<dyn FileAsync>>) {
        *self.async_handler.lock() = handler;
    }

    /// The `O_ASYNC` handler, when `O_ASYNC` is set.
    pub fn async_handler(&self) -> Option<Arc<dyn FileAsync>> {
        if self.status_flags().contains(OpenFlags::ASYNC) {
            self.async_handler.lock().clone()
        } else {
            None
        }
    }

    /// `fstat`.
    pub fn stat(&self, ctx: &dyn Context, opts: StatOptions) -> Result<Statx, Errno> {
        self.imp.stat(ctx, self, opts)
    }

    /// `fchmod`, `fchown`, `futimens`, `ftruncate`.
    pub fn set_stat(&self, ctx: &dyn Context, opts: SetStatOptions) -> Result<(), Errno> {
        self.mount.check_writable()?;
        let events = crate::inotify::set_stat_events(opts.stat.stx_mask);
        self.imp.set_stat(ctx, self, opts)?;
        self.notify(ctx, events);
        Ok(())
    }

    /// Raises inotify `events` on the file, when its filesystem has
    /// watches.
    pub fn notify(&self, ctx: &dyn Context, events: abi_linux::InotifyMask) {
        let fs = self.mount.filesystem();
        if !events.is_empty() && !fs.watches().is_empty() {
            fs.notify(ctx, &*self.dentry, events, 0);
        }
    }

    fn notify_moved(&self, ctx: &dyn Context, n: usize, events: abi_linux::InotifyMask) -> usize {
        if n > 0 {
            self.notify(ctx, events);
        }
        n
    }

    /// `fstatfs`.
    pub fn statfs(&self, ctx: &dyn Context) -> Result<Statfs, Errno> {
        self.imp.statfs(ctx, self)
    }

    /// `read(2)`.
    pub fn read(
        &self,
        ctx: &dyn Context,
        dst: &mut dyn IoDest,
        opts: ReadOptions,
    ) -> Result<usize, Errno> {
        if !self.readable {
            return Err(Errno::EBADF);
        }
        check_rw_flags(opts.flags)?;
        let n = self.imp.read(ctx, self, dst, opts)?;
        Ok(self.notify_moved(ctx, n, abi_linux::InotifyMask::ACCESS))
    }

    /// `pread64(2)`: a negative offset is `EINVAL`.
    pub fn pread(
        &self,
        ctx: &dyn Context,
        dst: &mut dyn IoDest,
        offset: i64,
        opts: ReadOptions,
    ) -> Result<usize, Errno> {
        if !self.readable {
            return Err(Errno::EBADF);
        }
        if self.opts.deny_pread {
            return Err(Errno::ESPIPE);
        }
        let offset = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
        check_rw_flags(opts.flags)?;
        let n = self.imp.pread(ctx, self, dst, offset, opts)?;
        Ok(self.notify_moved(ctx, n, abi_linux::InotifyMask::ACCESS))
    }

    /// `write(2)`.
    pub fn write(
        &self,
        ctx: &dyn Context,
        src: &mut dyn IoSource,
        opts: WriteOptions,
    ) -> Result<usize, Errno> {
        if !self.writable {
            return Err(Errno::EBADF);
        }
        check_rw_flags(opts.flags)?;
        let n = self.imp.write(ctx, self, src, opts)?;
        Ok(self.notify_moved(ctx, n, abi_linux::InotifyMask::MODIFY))
    }

    /// `pwrite64(2)`: a negative offset is `EINVAL`.
    pub fn pwrite(
        &self,
        ctx: &dyn Context,
        src: &mut dyn IoSource,
        offset: i64,
        opts: WriteOptions,
    ) -> Result<usize, Errno> {
        if !self.writable {
            return Err(Errno::EBADF);
        }
        if self.opts.deny_pwrite {
            return Err(Errno::ESPIPE);
        }
        let offset = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
        check_rw_flags(opts.flags)?;
        let n = self.imp.pwrite(ctx, self, src, offset, opts)?;
        Ok(self.notify_moved(ctx, n, abi_linux::InotifyMask::MODIFY))
    }

    /// `getdents64(2)` and friends.
    pub fn iter_dirents(&self, ctx: &dyn Context, sink: &mut dyn DirentSink) -> Result<(), Errno> {
        self.imp.iter_dirents(ctx, self, sink)?;
        self.notify(ctx, abi_linux::InotifyMask::ACCESS);
        Ok(())
    }

    /// `lseek(2)`.
    pub fn seek(&self, ctx: &dyn Context, offset: i64, whence: Whence) -> Result<i64, Errno> {
        self.imp.seek(ctx, self, offset, whence)
    }

    /// `fsync(2)`.
    pub fn sync(&self, ctx: &dyn Context) -> Result<(), Errno> {
        self.imp.sync(ctx, self)
    }

    /// `fallocate(2)`: needs a writable description on a writable mount.
    pub fn allocate(
        &self,
        ctx: &dyn Context,
        mode: FallocFlags,
        offset: i64,
        len: i64,
    ) -> Result<(), Errno> {
        if offset < 0 || len <= 0 {
            return Err(Errno::EINVAL);
        }
        if !self.writable {
            return Err(Errno::EBADF);
        }
        if offset.checked_add(len).is_none() {
            return Err(Errno::EFBIG);
        }
        self.mount.check_writable()?;
        self.imp
            .allocate(ctx, self, mode, offset as u64, len as u64)
    }

    /// `ioctl(2)`.
    pub fn ioctl(
        &self,
        ctx: &dyn Context,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        self.imp.ioctl(ctx, self, cmd, arg, memory)
    }

    /// Validates an `mmap` of the file.
    pub fn configure_mmap(&self, ctx: &dyn Context, opts: &mut MmapOpts) -> Result<(), Errno> {
        self.imp.configure_mmap(ctx, self, opts)
    }

    /// The ready subset of `mask`.
    pub fn readiness(&self, mask: EventMask) -> EventMask {
        self.imp.readiness(mask)
    }

    /// Called on each `close(2)`; releases POSIX record locks `ctx`'s
    /// process holds on the file, as Linux does.
    pub fn on_close(&self, ctx: &dyn Context) -> Result<(), Errno> {
        if let (Some(locks), Some(owner)) = (self.imp.file_locks(), ctx.lock_owner()) {
            locks.unlock_all(LockOwner::Posix(owner.id));
        }
        self.imp.on_close(ctx, self)
    }

    /// `flock(2)`: `LOCK_SH`, `LOCK_EX` or `LOCK_UN`, with `LOCK_NB` for
    /// a non-blocking request. The lock belongs to this description.
    pub fn lock_bsd(&self, ctx: &dyn Context, operation: abi_linux::FlockOp) -> Result<(), Errno> {
        use abi_linux::FlockOp;
        let locks = self.imp.file_locks().ok_or(Errno::ENOLCK)?;
        let nonblocking = operation.contains(FlockOp::NB);
        let kind = match operation - FlockOp::NB {
            op if op == FlockOp::SH => FlockKind::Shared,
            op if op == FlockOp::EX => FlockKind::Exclusive,
            op if op == FlockOp::UN => {
                locks.flock_release(self.id);
                return Ok(());
            }
            _ => return Err(Errno::EINVAL),
        };
        let blocker = if nonblocking { None } else { ctx.blocker() };
        locks.flock(self.id, kind, blocker)
    }

    /// `F_SETLK`/`F_SETLKW` (`ofd` false, locks owned by the calling
    /// process) and `F_OFD_SETLK`/`F_OFD_SETLKW` (`ofd` true, owned by this
    /// description). A read lock needs a readable description and a write
    /// lock a writable one (`EBADF`).
    pub fn lock_posix(
        &self,
        ctx: &dyn Context,
        ofd: bool,
        wait: bool,
        request: &abi_linux::Flock,
    ) -> Result<(), Errno> {
        let locks = self.imp.file_locks().ok_or(Errno::ENOLCK)?;
        let (owner, pid) = self.record_lock_owner(ctx, ofd)?;
        if ofd && request.l_pid != 0 {
            return Err(Errno::EINVAL);
        }
        let range = self.lock_range(ctx, request)?;
        let lock_type = lock_type_from_raw(request.l_type)?;
        let Some(kind) = LockKind::from_lock_type(lock_type) else {
            locks.unlock(owner, range);
            return Ok(());
        };
        match kind {
            LockKind::Read if !self.readable => return Err(Errno::EBADF),
            LockKind::Write if !self.writable => return Err(Errno::EBADF),
            _ => {}
        }
        let blocker = if wait { ctx.blocker() } else { None };
        locks.set_lock(owner, pid, kind, range, blocker)
    }

    /// `F_GETLK` and `F_OFD_GETLK`: the first lock that would conflict with
    /// `request`, or `request` with `l_type` set to `F_UNLCK`.
    pub fn test_posix(
        &self,
        ctx: &dyn Context,
        ofd: bool,
        request: &abi_linux::Flock,
    ) -> Result<abi_linux::Flock, Errno> {
        let locks = self.imp.file_locks().ok_or(Errno::ENOLCK)?;
        let (owner, _) = self.record_lock_owner(ctx, ofd)?;
        if ofd && request.l_pid != 0 {
            return Err(Errno::EINVAL);
        }
        let lock_type = lock_type_from_raw(request.l_type)?;
        let kind = LockKind::from_lock_type(lock_type).ok_or(Errno::EINVAL)?;
        let range = self.lock_range(ctx, request)?;
        Ok(match locks.test_lock(owner, kind, range) {
            Some(conflict) => conflict.to_flock(),
            None => RecordLock::unlocked(request),
        })
    }

    fn record_lock_owner(&self, ctx: &dyn Context, ofd: bool) -> Result<(LockOwner, i32), Errno> {
        if ofd {
            return Ok((LockOwner::Ofd(self.id), -1));
        }
        let owner = ctx.lock_owner().ok_or(Errno::ENOLCK)?;
        Ok((LockOwner::Posix(owner.id), owner.pid))
    }

    /// The byte range `request` names, relative to the file offset for
    /// `SEEK_CUR` and to the file size for `SEEK_END`.
    fn lock_range(
        &self,
        ctx: &dyn Context,
        request: &abi_linux::Flock,
    ) -> Result<LockRange, Errno> {
        let whence = Whence::from_raw(i32::from(request.l_whence)).ok_or(Errno::EINVAL)?;
        let offset = match whence {
            Whence::Cur => {
                u64::try_from(self.seek(ctx, 0, Whence::Cur)?).map_err(|_| Errno::EINVAL)?
            }
            _ => 0,
        };
        let size = match whence {
            Whence::End => self.stat(ctx, StatOptions::default())?.stx_size,
            _ => 0,
        };
        compute_range(whence, request.l_start, request.l_len, offset, size)
    }

    /// Whether waiters can be registered with this description (Linux's
    /// `file_can_poll`): what `epoll_ctl` requires of a target.
    pub fn can_wait(&self) -> bool {
        struct Probe;
        impl Waiter for Probe {
            fn notify(&self, _mask: EventMask) {}
        }
        match self.imp.event_register(Arc::new(Probe), EventMask::empty()) {
            Ok(Some(id)) => {
                self.imp.event_unregister(id);
                true
            }
            _ => false,
        }
    }

    /// Records that `epoll` watches this description.
    pub(crate) fn add_epoll(&self, epoll: Weak<EpollInstance>) {
        let mut epolls = self.epolls.lock();
        if !epolls.iter().any(|e| e.ptr_eq(&epoll)) {
            epolls.push(epoll);
        }
    }

    /// Records that `epoll` no longer watches this description.
    pub(crate) fn remove_epoll(&self, epoll: &EpollInstance) {
        self.epolls
            .lock()
            .retain(|e| !core::ptr::eq(e.as_ptr(), epoll) && e.strong_count() > 0);
    }

    /// The current reference count, for tests and debugging.
    pub fn ref_count(&self) -> i64 {
        self.refs.count()
    }
}

fn lock_type_from_raw(raw: i16) -> Result<abi_linux::LockType, Errno> {
    abi_linux::LockType::from_raw(raw).ok_or(Errno::EINVAL)
}

/// `RWF_HIPRI` is a hint every file accepts; other `preadv2`/`pwritev2`
/// flags need support the files here do not have.
fn check_rw_flags(flags: RwfFlags) -> Result<(), Errno> {
    if (flags - RwfFlags::HIPRI).is_empty() {
        Ok(())
    } else {
        Err(Errno::EOPNOTSUPP)
    }
}

impl RefCounted for FileDescription {
    fn inc_ref(&self) {
        self.refs.inc_ref(self);
    }

    fn try_inc_ref(&self) -> bool {
        self.refs.try_inc_ref()
    }

    fn dec_ref(&self, ctx: &dyn Context) {
        self.refs.dec_ref(self, || {
            if let Some(locks) = self.imp.file_locks() {
                locks.flock_release(self.id);
                locks.unlock_all(LockOwner::Ofd(self.id));
            }
            // Linux's `eventpoll_release`: no instance watches a file
            // that is gone.
            let epolls = core::mem::take(&mut *self.epolls.lock());
            for epoll in epolls.iter().filter_map(Weak::upgrade) {
                epoll.file_released(self);
            }
            if self.readable || self.writable {
                self.notify(
                    ctx,
                    if self.writable {
                        abi_linux::InotifyMask::CLOSE_WRITE
                    } else {
                        abi_linux::InotifyMask::CLOSE_NOWRITE
                    },
                );
            }
            self.imp.release(ctx);
            self.dentry.dec_ref(ctx);
            self.mount.dec_ref(ctx);
            self.registration.lock().take();
        });
    }
}

impl refs::CheckedObject for FileDescription {
    fn ref_type(&self) -> &'static str {
        "vfs::FileDescription"
    }

    fn leak_message(&self) -> String {
        alloc::format!(
            "[vfs::FileDescription {}] dentry={} refs={}",
            self.id,
            self.dentry.describe(),
            self.refs.count()
        )
    }
}

impl fmt::Debug for FileDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileDescription")
            .field("id", &self.id)
            .field("flags", &self.status_flags())
            .finish()
    }
}
