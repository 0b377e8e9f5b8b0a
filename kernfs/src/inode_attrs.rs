//! [`InodeAttrs`]: the metadata every inode keeps (gVisor kernfs's
//! `InodeAttrs`), with Linux's `setattr` checks and timestamp rules.
//!
//! # Locking
//!
//! The attributes sit behind one spin mutex, a leaf lock: nothing else is
//! taken while it is held.

use alloc::string::String;
use alloc::sync::Arc;

use abi_linux::{
    Capability, Errno, FileMode, FileType, Statx, StatxMask, StatxTimestamp, Timespec,
};
use vfs_core::lock::FileLocks;
use vfs_core::permissions::{self, FileOwner};
use vfs_core::{Context, Credentials, Gid, SetStatOptions, UTIME_NOW, UTIME_OMIT, Uid};

/// The mutable part of an inode's metadata.
#[derive(Clone, Copy, Debug)]
struct AttrState {
    mode: u32,
    uid: Uid,
    gid: Gid,
    nlink: u32,
    rdev: (u32, u32),
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    btime: Timespec,
}

/// The leak checker's record of one inode: registered when the inode's
/// attributes are created, unregistered when they are dropped with it.
struct InodeTracker {
    ino: u64,
    mode: u32,
}

impl refs::CheckedObject for InodeTracker {
    fn ref_type(&self) -> &'static str {
        "kernfs::Inode"
    }

    fn leak_message(&self) -> String {
        alloc::format!("[kernfs::Inode {}] mode={:o}", self.ino, self.mode)
    }
}

/// Inode number, owner, mode, link count and timestamps of one inode.
///
/// Every inode embeds one and returns it from [`crate::Inode::attrs`]; the
/// trait's metadata defaults (`stat`, `set_stat`, `check_permission`) are
/// built on it. Creating one registers the inode with the `refs` leak
/// checker until it is dropped.
pub struct InodeAttrs {
    ino: u64,
    state: spin::Mutex<AttrState>,
    locks: FileLocks,
    // Keeps the tracker registered for as long as the inode lives.
    _tracker: Arc<InodeTracker>,
    _registration: refs::Registration,
}

impl InodeAttrs {
    /// Attributes for a new inode numbered `ino` of mode `mode` owned by
    /// `uid`:`gid`, with every timestamp set to `now` and one link (two
    /// for a directory: its name and its `.`).
    pub fn new(ino: u64, uid: Uid, gid: Gid, mode: FileMode, now: Timespec) -> Self {
        let tracker = Arc::new(InodeTracker { ino, mode: mode.0 });
        let registration = refs::Registration::new(&tracker);
        Self {
            ino,
            state: spin::Mutex::new(AttrState {
                mode: mode.0,
                uid,
                gid,
                nlink: if mode.is_dir() { 2 } else { 1 },
                rdev: (0, 0),
                atime: now,
                mtime: now,
                ctime: now,
                btime: now,
            }),
            locks: FileLocks::default(),
            _tracker: tracker,
            _registration: registration,
        }
    }

    /// Attributes copied from another filesystem's `stat`: inode number,
    /// mode, owner, link count, device number and all four timestamps (an
    /// overlay presenting a lower file).
    pub fn from_stat(stat: &Statx) -> Self {
        let attrs = Self::new(
            stat.stx_ino,
            stat.stx_uid,
            stat.stx_gid,
            FileMode(u32::from(stat.stx_mode)),
            Timespec::default(),
        );
        {
            let mut state = attrs.state.lock();
            state.nlink = stat.stx_nlink;
            state.rdev = (stat.stx_rdev_major, stat.stx_rdev_minor);
            state.atime = timespec(stat.stx_atime);
            state.mtime = timespec(stat.stx_mtime);
            state.ctime = timespec(stat.stx_ctime);
            state.btime = timespec(stat.stx_btime);
        }
        attrs
    }

    /// The inode's `flock` and record locks.
    pub fn locks(&self) -> &FileLocks {
        &self.locks
    }

    /// Attributes for a file that `creds` creates in a directory owned as
    /// `parent`, following Linux `inode_init_owner`: the new file's group
    /// is the directory's when the directory is set-group-ID (and a new
    /// directory inherits the bit), and a set-group-ID bit the creator may
    /// not set is dropped.
    pub fn new_child(
        ino: u64,
        creds: &Credentials,
        parent: FileOwner,
        mode: FileMode,
        now: Timespec,
    ) -> Self {
        let mut mode = mode.0;
        let gid = if parent.mode.0 & abi_linux::S_ISGID != 0 {
            if mode & abi_linux::S_IFMT == abi_linux::S_IFDIR {
                mode |= abi_linux::S_ISGID;
            }
            parent.gid
        } else {
            creds.fs_gid
        };
        if mode & abi_linux::S_IFMT != abi_linux::S_IFDIR
            && mode & abi_linux::S_ISGID != 0
            && !creds.in_group(gid)
            && !creds.has_capability(Capability::FSETID)
        {
            mode &= !abi_linux::S_ISGID;
        }
        Self::new(ino, creds.fs_uid, gid, FileMode(mode), now)
    }

    /// The inode number.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The mode, file type included.
    pub fn mode(&self) -> FileMode {
        FileMode(self.state.lock().mode)
    }

    /// The file type.
    pub fn file_type(&self) -> Option<FileType> {
        self.mode().file_type()
    }

    /// The owning user.
    pub fn uid(&self) -> Uid {
        self.state.lock().uid
    }

    /// The owning group.
    pub fn gid(&self) -> Gid {
        self.state.lock().gid
    }

    /// Mode and owner, as permission checks need them.
    pub fn owner(&self) -> FileOwner {
        let state = self.state.lock();
        FileOwner {
            mode: FileMode(state.mode),
            uid: state.uid,
            gid: state.gid,
        }
    }

    /// The number of hard links.
    pub fn nlink(&self) -> u32 {
        self.state.lock().nlink
    }

    /// Adds a hard link (or a subdirectory's `..`).
    pub fn inc_links(&self) {
        let mut state = self.state.lock();
        state.nlink = state.nlink.saturating_add(1);
    }

    /// Removes a hard link.
    pub fn dec_links(&self) {
        let mut state = self.state.lock();
        state.nlink = state.nlink.saturating_sub(1);
    }

    /// Sets the link count (zero for a removed directory).
    pub fn set_links(&self, nlink: u32) {
        self.state.lock().nlink = nlink;
    }

    /// The device a device special file represents, as `(major, minor)`.
    pub fn rdev(&self) -> (u32, u32) {
        self.state.lock().rdev
    }

    /// Sets the device number of a device special file.
    pub fn set_rdev(&self, major: u32, minor: u32) {
        self.state.lock().rdev = (major, minor);
    }

    /// Access, modification, change and birth times, in that order.
    pub fn times(&self) -> [Timespec; 4] {
        let state = self.state.lock();
        [state.atime, state.mtime, state.ctime, state.btime]
    }

    /// The file was read: updates the access time with `relatime` rules
    /// (only when it is not newer than the modification or change time, or
    /// is a day old), as Linux does by default.
    pub fn touch_atime(&self, now: Timespec) {
        let mut state = self.state.lock();
        let stale = state.atime.tv_sec.saturating_add(24 * 3600) <= now.tv_sec;
        if ts_le(state.atime, state.mtime) || ts_le(state.atime, state.ctime) || stale {
            state.atime = now;
        }
    }

    /// The contents changed: modification and change times become `now`.
    pub fn touch_mtime_ctime(&self, now: Timespec) {
        let mut state = self.state.lock();
        state.mtime = now;
        state.ctime = now;
    }

    /// The metadata changed: the change time becomes `now`.
    pub fn touch_ctime(&self, now: Timespec) {
        self.state.lock().ctime = now;
    }

    /// Clears the set-user-ID and set-group-ID bits after a write by a
    /// caller without `CAP_FSETID` (Linux `file_remove_privs`).
    pub fn remove_privs_after_write(&self, creds: &Credentials) {
        let mut state = self.state.lock();
        if state.mode & (abi_linux::S_ISUID | abi_linux::S_ISGID) != 0
            && !creds.has_capability(Capability::FSETID)
        {
            state.mode = permissions::clear_suid_and_sgid(state.mode);
        }
    }

    /// A `statx` result with the fields these attributes know; `size` and
    /// `blocks` (512-byte units) come from the inode's contents, `dev` is
    /// the filesystem's device number.
    pub fn stat(&self, dev: u64, size: u64, blocks: u64) -> Statx {
        let state = *self.state.lock();
        Statx {
            stx_mask: (StatxMask::BASIC_STATS | StatxMask::BTIME).bits(),
            stx_blksize: 4096,
            stx_nlink: state.nlink,
            stx_uid: state.uid,
            stx_gid: state.gid,
            stx_mode: state.mode as u16,
            stx_ino: self.ino,
            stx_size: size,
            stx_blocks: blocks,
            stx_atime: statx_ts(state.atime),
            stx_btime: statx_ts(state.btime),
            stx_ctime: statx_ts(state.ctime),
            stx_mtime: statx_ts(state.mtime),
            stx_rdev_major: state.rdev.0,
            stx_rdev_minor: state.rdev.1,
            stx_dev_major: abi_linux::dev_major(dev),
            stx_dev_minor: abi_linux::dev_minor(dev),
            ..Statx::default()
        }
    }

    /// Checks a `set_stat` (Linux `setattr_prepare`) without applying it;
    /// may clear a set-group-ID bit the caller may not set from the
    /// requested mode. Masks with fields other than mode, owner, size and
    /// timestamps are `EPERM`.
    pub fn check_set_stat(
        &self,
        ctx: &dyn Context,
        opts: &mut SetStatOptions,
    ) -> Result<(), Errno> {
        let supported = StatxMask::MODE
            | StatxMask::UID
            | StatxMask::GID
            | StatxMask::ATIME
            | StatxMask::MTIME
            | StatxMask::CTIME
            | StatxMask::SIZE;
        let mask = StatxMask::from_bits_retain(opts.stat.stx_mask);
        if !(mask - supported).is_empty() {
            return Err(Errno::EPERM);
        }
        permissions::check_set_stat(ctx, opts, self.owner())
    }

    /// Applies a checked `set_stat` of mode, owner and timestamps (Linux
    /// `setattr_copy`). A size change is the caller's: this only counts it
    /// as a change. Any change sets the change time.
    pub fn apply_set_stat(&self, ctx: &dyn Context, opts: &SetStatOptions) {
        let mask = StatxMask::from_bits_retain(opts.stat.stx_mask);
        let now = ctx.now();
        let stat = &opts.stat;
        let mut state = self.state.lock();
        if mask.contains(StatxMask::MODE) {
            state.mode = (state.mode & abi_linux::S_IFMT) | (u32::from(stat.stx_mode) & 0o7777);
        }
        let chown = (mask.contains(StatxMask::UID) && stat.stx_uid != state.uid)
            || (mask.contains(StatxMask::GID) && stat.stx_gid != state.gid);
        if mask.contains(StatxMask::UID) {
            state.uid = stat.stx_uid;
        }
        if mask.contains(StatxMask::GID) {
            state.gid = stat.stx_gid;
        }
        if chown {
            state.mode = permissions::clear_suid_and_sgid(state.mode);
        }
        if mask.contains(StatxMask::ATIME)
            && let Some(t) = resolve_time(stat.stx_atime, now)
        {
            state.atime = t;
        }
        if mask.contains(StatxMask::MTIME)
            && let Some(t) = resolve_time(stat.stx_mtime, now)
        {
            state.mtime = t;
        }
        if mask.contains(StatxMask::CTIME) {
            if let Some(t) = resolve_time(stat.stx_ctime, now) {
                state.ctime = t;
            }
        } else if !mask.is_empty() {
            state.ctime = now;
        }
    }

    /// [`Self::check_set_stat`] then [`Self::apply_set_stat`], refusing a
    /// size change as Linux does for files without contents to truncate:
    /// `EISDIR` for a directory, `EINVAL` for special files, `EPERM` for a
    /// regular file.
    pub fn set_stat(&self, ctx: &dyn Context, mut opts: SetStatOptions) -> Result<(), Errno> {
        if StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::SIZE) {
            return Err(match self.file_type() {
                Some(FileType::Directory) => Errno::EISDIR,
                Some(FileType::Regular) => Errno::EPERM,
                _ => Errno::EINVAL,
            });
        }
        self.check_set_stat(ctx, &mut opts)?;
        self.apply_set_stat(ctx, &opts);
        Ok(())
    }
}

/// The time a `set_stat` timestamp asks for, or `None` for `UTIME_OMIT`.
fn resolve_time(ts: StatxTimestamp, now: Timespec) -> Option<Timespec> {
    match ts.tv_nsec {
        UTIME_OMIT => None,
        UTIME_NOW => Some(now),
        nsec => Some(Timespec {
            tv_sec: ts.tv_sec,
            tv_nsec: i64::from(nsec),
        }),
    }
}

fn ts_le(a: Timespec, b: Timespec) -> bool {
    (a.tv_sec, a.tv_nsec) <= (b.tv_sec, b.tv_nsec)
}

/// A `statx` timestamp as a `Timespec`.
fn timespec(ts: StatxTimestamp) -> Timespec {
    Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: i64::from(ts.tv_nsec),
    }
}

/// Converts a timestamp to the `statx` layout.
pub fn statx_ts(ts: Timespec) -> StatxTimestamp {
    StatxTimestamp {
        tv_sec: ts.tv_sec,
        tv_nsec: u32::try_from(ts.tv_nsec).unwrap_or(0),
        _reserved: 0,
    }
}
