//! [`HostInode`]: the kernfs inode of one imported host descriptor, and
//! its [`Mappable`] side for `mmap` of regular files.
//!
//! Metadata comes from the host (`statx`, falling back to `fstat`), with
//! the sandbox's own inode number and device number, never the host's; an
//! optional virtual owner replaces the host's owner and mode.
//!
//! # Reference model
//!
//! The inode is held (`Arc`) by its kernfs dentry, which every open file
//! description of it holds, and by those descriptions directly. It holds
//! the [`HostFd`] (shared with its [`HostMmapFile`] and its notifier
//! registration), so the host descriptor is closed once the inode, the
//! translations to it and the notifier registration are all gone.
//!
//! # Lock order
//!
//! mappings mutex → (address space invalidation); virtual owner mutex
//! (leaf); the waiter queue lock is a leaf.

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{Errno, FileMode, FileType, OpenFlags, Statx, StatxMask};
use kernfs::{Inode, InodeAttrs};
use vfs_core::memmap::{
    AccessType, Mappable, MappableRange, MappingSet, MappingSpace, Translation,
};
use vfs_core::permissions::{self, AccessTypes, FileOwner};
use vfs_core::range_set::page_round_up;
use vfs_core::waiter::{EventMask, WaitEntryId, Waiter, WaiterQueue};
use vfs_core::{
    Context, Credentials, DentryRef, FileDescription, FileDescriptionOptions, FileRef, Gid,
    MountRef, OpenOptions, SetStatOptions, StatOptions, Uid, VirtualDentry,
};

use crate::file::HostFile;
use crate::host_fd::{HostFd, host_errno};
use crate::mmap::HostMmapFile;
use crate::notifier::NotifierRegistration;
use crate::tty::TtyState;

/// The status flags an imported description keeps (gVisor's
/// `supportedOpenFlags`, with `O_DIRECT`).
pub const SUPPORTED_FLAGS: OpenFlags = OpenFlags::ACCMODE
    .union(OpenFlags::NONBLOCK)
    .union(OpenFlags::DSYNC)
    .union(OpenFlags::SYNC)
    .union(OpenFlags::APPEND)
    .union(OpenFlags::DIRECT);

/// The owner and mode the sandbox sees instead of the host's.
#[derive(Clone, Copy, Debug)]
struct VirtualOwner {
    uid: Uid,
    gid: Gid,
    mode: u32,
}

/// The fixed properties of an imported descriptor.
pub(crate) struct HostInodeOptions {
    pub(crate) file_type: FileType,
    pub(crate) seekable: bool,
    pub(crate) readonly: bool,
    pub(crate) dev_minor: u32,
    pub(crate) virtual_owner: Option<(Uid, Gid, u32)>,
    pub(crate) tty: Option<TtyState>,
}

/// The inode of an imported host descriptor.
pub struct HostInode {
    attrs: InodeAttrs,
    host: Arc<HostFd>,
    file_type: FileType,
    seekable: bool,
    readonly: bool,
    dev_minor: u32,
    virtual_owner: Option<Mutex<VirtualOwner>>,
    queue: Arc<WaiterQueue>,
    /// Present when the host descriptor can be polled (and was therefore
    /// made non-blocking).
    notifier: Option<NotifierRegistration>,
    mappings: Mutex<MappingSet>,
    mmap_file: Arc<HostMmapFile>,
    pub(crate) tty: Option<TtyState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl HostInode {
    /// Wraps `host` numbered `ino`. A descriptor the host can poll is
    /// added to the notifier and switched to non-blocking mode.
    pub(crate) fn new(
        ino: u64,
        host: Arc<HostFd>,
        initial_mode: u32,
        opts: HostInodeOptions,
    ) -> Result<Arc<HostInode>, Errno> {
        let queue = Arc::new(WaiterQueue::new());
        let notifier = match NotifierRegistration::add(&host, &queue) {
            Ok(registration) => Some(registration),
            Err(Errno::EPERM) => None,
            Err(e) => return Err(e),
        };
        if notifier.is_some() {
            set_nonblocking(&host)?;
        }
        let (uid, gid) = match opts.virtual_owner {
            Some((uid, gid, _)) => (uid, gid),
            None => (0, 0),
        };
        Ok(Arc::new(HostInode {
            attrs: InodeAttrs::new(ino, uid, gid, FileMode(initial_mode), Default::default()),
            mmap_file: Arc::new(HostMmapFile::new(Arc::clone(&host))),
            host,
            file_type: opts.file_type,
            seekable: opts.seekable,
            readonly: opts.readonly,
            dev_minor: opts.dev_minor,
            virtual_owner: opts
                .virtual_owner
                .map(|(uid, gid, mode)| Mutex::new(VirtualOwner { uid, gid, mode })),
            queue,
            notifier,
            mappings: Mutex::new(MappingSet::new()),
            tty: opts.tty,
        }))
    }

    /// The host descriptor.
    pub fn host_fd(&self) -> &Arc<HostFd> {
        &self.host
    }

    /// The sandbox's inode number.
    pub fn ino(&self) -> u64 {
        self.attrs.ino()
    }

    /// The file type, fixed at import.
    pub fn file_type(&self) -> FileType {
        self.file_type
    }

    /// Whether the sandbox keeps a file offset (the host `lseek` works).
    pub fn is_seekable(&self) -> bool {
        self.seekable
    }

    /// Whether operations that could change the host file are refused.
    pub fn is_readonly(&self) -> bool {
        self.readonly
    }

    /// Whether the host descriptor is polled by the notifier (and so in
    /// non-blocking mode).
    pub fn is_epollable(&self) -> bool {
        self.notifier.is_some()
    }

    /// Whether the file was imported as a terminal.
    pub fn is_tty(&self) -> bool {
        self.tty.is_some()
    }

    /// Owner and mode as the sandbox sees them: the host's, or the virtual
    /// owner's.
    fn owner(&self) -> Result<FileOwner, Errno> {
        let st = self.host.fstat()?;
        Ok(match &self.virtual_owner {
            Some(v) => {
                let v = lock(v);
                FileOwner {
                    mode: FileMode(v.mode),
                    uid: v.uid,
                    gid: v.gid,
                }
            }
            None => FileOwner {
                mode: FileMode(st.st_mode),
                uid: st.st_uid,
                gid: st.st_gid,
            },
        })
    }

    /// `statx` of the host file with the sandbox's identity numbers.
    pub(crate) fn stat_host(&self, opts: StatOptions) -> Result<Statx, Errno> {
        if opts.mask.contains(StatxMask::RESERVED) {
            return Err(Errno::EINVAL);
        }
        let sync_type = abi_linux::AtFlags::STATX_SYNC_TYPE.bits();
        if opts.sync & sync_type == sync_type {
            return Err(Errno::EINVAL);
        }
        let mask = opts.mask & StatxMask::ALL;
        let host = match self.host.statx(mask, opts.sync & sync_type) {
            Err(Errno::ENOSYS) => return self.stat_from_fstat(),
            other => other?,
        };
        let got = StatxMask::from_bits_truncate(host.stx_mask) & StatxMask::ALL;
        let virtual_owner = self.virtual_owner.as_ref().map(|v| *lock(v));
        let mut out = Statx {
            stx_mask: (StatxMask::INO | got).bits(),
            stx_blksize: host.stx_blksize,
            stx_attributes: host.stx_attributes,
            stx_attributes_mask: host.stx_attributes_mask,
            stx_ino: self.ino(),
            stx_dev_major: 0,
            stx_dev_minor: self.dev_minor,
            ..Statx::default()
        };
        let ifmt = abi_linux::S_IFMT as u16;
        if got.contains(StatxMask::TYPE) {
            out.stx_mode |= match virtual_owner {
                Some(v) => v.mode as u16 & ifmt,
                None => host.stx_mode & ifmt,
            };
        }
        if got.contains(StatxMask::MODE) {
            out.stx_mode |= match virtual_owner {
                Some(v) => v.mode as u16 & !ifmt,
                None => host.stx_mode & !ifmt,
            };
        }
        if got.contains(StatxMask::NLINK) {
            out.stx_nlink = host.stx_nlink;
        }
        if got.contains(StatxMask::UID) {
            out.stx_uid = virtual_owner.map_or(host.stx_uid, |v| v.uid);
        }
        if got.contains(StatxMask::GID) {
            out.stx_gid = virtual_owner.map_or(host.stx_gid, |v| v.gid);
        }
        if got.contains(StatxMask::ATIME) {
            out.stx_atime = host.stx_atime;
        }
        if got.contains(StatxMask::BTIME) {
            out.stx_btime = host.stx_btime;
        }
        if got.contains(StatxMask::CTIME) {
            out.stx_ctime = host.stx_ctime;
        }
        if got.contains(StatxMask::MTIME) {
            out.stx_mtime = host.stx_mtime;
        }
        if got.contains(StatxMask::SIZE) {
            out.stx_size = host.stx_size;
        }
        if got.contains(StatxMask::BLOCKS) {
            out.stx_blocks = host.stx_blocks;
        }
        Ok(out)
    }

    /// The `fstat` fallback for hosts without `statx`: the basic fields,
    /// whatever the mask asked.
    fn stat_from_fstat(&self) -> Result<Statx, Errno> {
        let st = self.host.fstat()?;
        let owner = self.owner()?;
        let ts = |sec: i64, nsec: i64| abi_linux::StatxTimestamp {
            tv_sec: sec,
            tv_nsec: u32::try_from(nsec).unwrap_or(0),
            _reserved: 0,
        };
        Ok(Statx {
            stx_mask: StatxMask::BASIC_STATS.bits(),
            stx_blksize: u32::try_from(st.st_blksize).unwrap_or(0),
            stx_nlink: u32::try_from(st.st_nlink).unwrap_or(u32::MAX),
            stx_uid: owner.uid,
            stx_gid: owner.gid,
            stx_mode: owner.mode.0 as u16,
            stx_ino: self.ino(),
            stx_size: u64::try_from(st.st_size).unwrap_or(0),
            stx_blocks: u64::try_from(st.st_blocks).unwrap_or(0),
            stx_atime: ts(st.st_atime, st.st_atime_nsec),
            stx_ctime: ts(st.st_ctime, st.st_ctime_nsec),
            stx_mtime: ts(st.st_mtime, st.st_mtime_nsec),
            stx_dev_major: 0,
            stx_dev_minor: self.dev_minor,
            ..Statx::default()
        })
    }

    /// `set_stat` on the host file: mode, size, access and modification
    /// times, and the owner when a virtual owner is kept; anything else is
    /// `EPERM`, as is any change of a read-only import.
    pub(crate) fn set_stat_host(
        &self,
        ctx: &dyn Context,
        mut opts: SetStatOptions,
    ) -> Result<(), Errno> {
        if self.readonly {
            return Err(Errno::EPERM);
        }
        let mask = StatxMask::from_bits_retain(opts.stat.stx_mask);
        if mask.is_empty() {
            return Ok(());
        }
        let mut supported = StatxMask::MODE | StatxMask::SIZE | StatxMask::ATIME | StatxMask::MTIME;
        if self.virtual_owner.is_some() {
            supported |= StatxMask::UID | StatxMask::GID;
        }
        if !(mask - supported).is_empty() {
            return Err(Errno::EPERM);
        }
        let owner = self.owner()?;
        permissions::check_set_stat(ctx, &mut opts, owner)?;
        let stat = &opts.stat;
        if mask.contains(StatxMask::MODE) {
            match &self.virtual_owner {
                Some(v) => {
                    let mut v = lock(v);
                    v.mode = (v.mode & abi_linux::S_IFMT) | (u32::from(stat.stx_mode) & 0o7777);
                }
                None => {
                    // The sandbox never makes a host file set-user-ID or
                    // set-group-ID: its root is not the host's. The bits
                    // are dropped (a directory keeps set-group-ID, which
                    // only passes its group on).
                    let is_dir = self.host.fstat()?.st_mode & libc::S_IFMT == libc::S_IFDIR;
                    let mut bits = u32::from(stat.stx_mode) & 0o7777 & !abi_linux::S_ISUID;
                    if !is_dir {
                        bits &= !abi_linux::S_ISGID;
                    }
                    let mode = nix::sys::stat::Mode::from_bits_truncate(bits);
                    nix::sys::stat::fchmod(self.host.borrow(), mode).map_err(host_errno)?;
                }
            }
        }
        if mask.contains(StatxMask::SIZE) {
            self.truncate(stat.stx_size)?;
        }
        if mask.intersects(StatxMask::ATIME | StatxMask::MTIME) {
            let ts = |field: StatxMask, t: abi_linux::StatxTimestamp| {
                if mask.contains(field) {
                    nix::sys::time::TimeSpec::new(t.tv_sec, i64::from(t.tv_nsec))
                } else {
                    nix::sys::time::TimeSpec::UTIME_OMIT
                }
            };
            nix::sys::stat::futimens(
                self.host.borrow(),
                &ts(StatxMask::ATIME, stat.stx_atime),
                &ts(StatxMask::MTIME, stat.stx_mtime),
            )
            .map_err(host_errno)?;
        }
        if let Some(v) = &self.virtual_owner {
            let mut v = lock(v);
            if mask.contains(StatxMask::UID) {
                v.uid = stat.stx_uid;
            }
            if mask.contains(StatxMask::GID) {
                v.gid = stat.stx_gid;
            }
        }
        Ok(())
    }

    /// `ftruncate` of the host file, invalidating the mappings of pages
    /// past the new end (private copies included, as Linux's
    /// `truncate_pagecache` does).
    fn truncate(&self, size: u64) -> Result<(), Errno> {
        if self.file_type != FileType::Regular {
            return Err(Errno::EINVAL);
        }
        let new_len = i64::try_from(size).map_err(|_| Errno::EINVAL)?;
        let old = u64::try_from(self.host.fstat()?.st_size).unwrap_or(0);
        nix::unistd::ftruncate(self.host.borrow(), new_len).map_err(host_errno)?;
        if size < old {
            let old_end = page_round_up(old).unwrap_or(u64::MAX);
            let new_end = page_round_up(size).unwrap_or(u64::MAX);
            if new_end < old_end {
                lock(&self.mappings).invalidate(new_end..old_end, true);
            }
        }
        Ok(())
    }

    /// The host file's size.
    pub(crate) fn size(&self) -> Result<u64, Errno> {
        Ok(u64::try_from(self.host.fstat()?.st_size).unwrap_or(0))
    }

    /// Registers `waiter` on the inode's queue and re-arms the notifier
    /// with the queue's new interest set.
    pub(crate) fn event_register(
        &self,
        waiter: Arc<dyn Waiter>,
        mask: EventMask,
    ) -> Result<Option<WaitEntryId>, Errno> {
        let Some(notifier) = &self.notifier else {
            return Ok(None);
        };
        let id = self.queue.register(waiter, mask);
        if let Err(e) = notifier.update(self.queue.events()) {
            self.queue.unregister(id);
            return Err(e);
        }
        Ok(Some(id))
    }

    /// Removes a registration and narrows the notifier's interest set.
    pub(crate) fn event_unregister(&self, id: WaitEntryId) {
        self.queue.unregister(id);
        if let Some(notifier) = &self.notifier {
            // The descriptor stays in the epoll set for the inode's life,
            // so the update cannot fail for a missing registration.
            let _ = notifier.update(self.queue.events());
        }
    }

    /// A new description of this inode at `mount` and `dentry`.
    pub(crate) fn new_file(
        self: &Arc<Self>,
        mount: &MountRef,
        dentry: &DentryRef,
        flags: OpenFlags,
    ) -> FileRef {
        FileDescription::new(
            flags & SUPPORTED_FLAGS,
            mount,
            dentry,
            FileDescriptionOptions {
                allow_direct_io: true,
                deny_pread: !self.seekable,
                deny_pwrite: !self.seekable,
            },
            Box::new(HostFile::new(Arc::clone(self))),
        )
    }

    /// The translation target of the inode's mappings.
    pub fn mmap_file(&self) -> &Arc<HostMmapFile> {
        &self.mmap_file
    }
}

/// Sets `O_NONBLOCK` on the host descriptor's open file description.
fn set_nonblocking(host: &HostFd) -> Result<(), Errno> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags = fcntl(host.borrow(), FcntlArg::F_GETFL).map_err(host_errno)?;
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
    fcntl(host.borrow(), FcntlArg::F_SETFL(flags)).map_err(host_errno)?;
    Ok(())
}

impl Inode for HostInode {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn mode(&self) -> FileMode {
        self.owner()
            .map_or_else(|_| self.attrs.mode(), |owner| owner.mode)
    }

    fn stat(
        &self,
        _: &dyn Context,
        _: &kernfs::Filesystem,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        self.stat_host(opts)
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        _: &kernfs::Filesystem,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        self.set_stat_host(ctx, opts)
    }

    fn check_permission(&self, creds: &Credentials, access: AccessTypes) -> Result<(), Errno> {
        permissions::generic_permission(creds, access, self.owner()?)
    }

    /// Imported descriptors are never looked up by name: their dentries
    /// are not cached.
    fn keep(&self) -> bool {
        false
    }

    /// Reopening through a path (`/proc/self/fd/N`): a new description of
    /// the same host descriptor, except for sockets (`ENXIO`, as Linux
    /// answers for opening a socket).
    fn open(
        &self,
        _: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        if self.file_type == FileType::Socket {
            return Err(Errno::ENXIO);
        }
        let dentry = kernfs::Dentry::from_vfs(&*vd.dentry).ok_or(Errno::ENXIO)?;
        let inode = kernfs::downcast_inode::<HostInode>(dentry.inode()).ok_or(Errno::ENXIO)?;
        Ok(inode.new_file(&vd.mount, &vd.dentry, opts.flags))
    }
}

impl Mappable for HostInode {
    fn add_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) -> Result<(), Errno> {
        lock(&self.mappings)
            .add_mapping(space, app_range, offset, writable)
            .map(drop)
    }

    fn remove_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) {
        // A mismatched removal is a caller bug that leaves the set as it
        // was; there is nothing to undo.
        let _ = lock(&self.mappings).remove_mapping(space, app_range, offset, writable);
    }

    /// Pages of the host file up to its page-rounded end translate to
    /// themselves in the host descriptor; a required range past the end is
    /// `EFAULT` (`SIGBUS`).
    fn translate(
        &self,
        required: MappableRange,
        optional: MappableRange,
        _at: AccessType,
    ) -> Result<Vec<Translation>, Errno> {
        let end = page_round_up(self.size()?).unwrap_or(u64::MAX);
        if required.end > end {
            return Err(Errno::EFAULT);
        }
        let source = optional.start..optional.end.min(end);
        Ok(vec![Translation {
            offset: source.start,
            source,
            file: Arc::clone(&self.mmap_file) as Arc<dyn vfs_core::memmap::File>,
            perms: AccessType::ANY,
        }])
    }

    fn invalidate_unsavable(&self) -> Result<(), Errno> {
        Ok(())
    }
}
