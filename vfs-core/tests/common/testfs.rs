//! `testfs`: a small, correct in-memory filesystem that vfs-core's tests and
//! its stat benchmark mount through the VFS. It is not public API; kernfs's
//! `memfs` is the production in-memory filesystem.
//!
//! It follows Linux's rules (checked against the host kernel by the
//! `errno_matches_host_kernel` test) and gVisor's tmpfs for how a filesystem
//! drives a [`ResolvingPath`].
//!
//! # Reference model
//!
//! - Dentries form a tree: a directory's `children` map holds one `Arc` and
//!   one counted reference (the "tree reference") on each child; a child
//!   points back at its parent with a `Weak`.
//! - Each dentry points at an [`Inode`] (`Arc`), shared by hard links; the
//!   inode's `nlink` counts the names.
//! - Removing a name drops the tree reference; the dentry is destroyed (and
//!   unregistered from the leak checker) when the last [`DentryRef`] goes.
//!   Releasing the filesystem drops the tree references of every dentry
//!   still in the tree.
//! - Magic links take their target from [`TestFs`]'s table, which holds a
//!   [`VirtualDentry`]; tests clear it with [`TestFs::clear_magic_links`]
//!   before tearing down, since a target on the same filesystem would keep
//!   it alive.
//!
//! # Lock order
//!
//! `TestFs::lock` (read for lookups, write for changes to the tree) → a
//! dentry's `links` → an inode's `state`. Dentry reference operations take
//! no lock of this module, so references can be dropped anywhere.

use std::collections::BTreeMap;
use std::string::String;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{
    Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak,
};
use std::vec::Vec;

use abi_linux::{
    Errno, FileMode, FileType, OpenFlags, RenameFlags, Statfs, Statx, StatxMask, StatxTimestamp,
    Timespec, Whence, XattrFlags,
};
use vfs_core::file_description::{DirentSink, FileDescriptionOptions};
use vfs_core::io::{IoDest, IoSource};
use vfs_core::lock::{FileLocks, LockTable};
use vfs_core::options::{UTIME_NOW, UTIME_OMIT};
use vfs_core::path::{NAME_MAX, is_dot_or_dotdot};
use vfs_core::permissions::{
    check_delete_sticky, check_limit, check_set_stat, check_xattr_permissions, clear_suid_and_sgid,
    generic_permission, may_link,
};
use vfs_core::{
    AccessTypes, Context, Credentials, DeleteGuard, Dentry, DentryImpl, DentryRef, DeviceKind,
    Dirent, FileDescription, FileDescriptionImpl, FileOwner, FileRef, Filesystem, FilesystemImpl,
    FilesystemRef, FilesystemType, GetDentryOptions, GetFilesystemOptions, GetXattrOptions,
    MkdirOptions, MknodOptions, OpenOptions, PathResult, ReadOptions, RenameGuard, RenameOptions,
    ResolvingPath, SetStatOptions, SetXattrOptions, StatOptions, VirtualDentry, VirtualFilesystem,
    WriteOptions,
};

/// The `f_type` testfs reports in `statfs` (the bytes "test").
pub const TESTFS_MAGIC: i64 = 0x7465_7374;

/// Locks `mutex`, ignoring poisoning: a test that panicked must not wedge
/// the others.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn to_statx_time(ts: Timespec) -> StatxTimestamp {
    StatxTimestamp {
        tv_sec: ts.tv_sec,
        tv_nsec: u32::try_from(ts.tv_nsec).unwrap_or(0),
        _reserved: 0,
    }
}

fn from_statx_time(ts: StatxTimestamp) -> Timespec {
    Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: i64::from(ts.tv_nsec),
    }
}

/// The `testfs` filesystem type. Its mount data accepts `mode=OCTAL` for
/// the root directory's permissions (default `0755`).
pub struct TestFsType;

impl FilesystemType for TestFsType {
    fn name(&self) -> &str {
        "testfs"
    }

    fn get_filesystem(
        &self,
        ctx: &dyn Context,
        vfs: &Arc<VirtualFilesystem>,
        _source: &[u8],
        opts: &GetFilesystemOptions,
    ) -> Result<(FilesystemRef, DentryRef), Errno> {
        let mut root_mode = 0o755;
        for option in opts.data.split(',').filter(|o| !o.is_empty()) {
            match option.split_once('=') {
                Some(("mode", value)) => {
                    root_mode = u32::from_str_radix(value, 8).map_err(|_| Errno::EINVAL)? & 0o7777;
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        let minor = vfs.get_anonymous_block_dev_minor()?;
        let creds = ctx.credentials();
        let next_ino = AtomicU64::new(1);
        let root_inode = Inode::new(
            &next_ino,
            FileType::Directory.mode_bits() | root_mode,
            creds.fs_uid,
            creds.fs_gid,
            ctx.now(),
            Content::Directory,
        );
        let fs = Arc::new(TestFs {
            vfs: Arc::downgrade(vfs),
            minor,
            next_ino,
            lock: RwLock::new(()),
            root: TestDentry::new(root_inode, Weak::new(), Vec::new(), 0),
            magic_targets: Mutex::new(BTreeMap::new()),
        });
        let root = fs.root.new_ref();
        let fs_ref = Filesystem::new(vfs, "testfs", abi_linux::make_dev(0, minor), fs);
        Ok((fs_ref, root))
    }
}

/// What an inode holds besides its metadata.
enum Content {
    Regular(Vec<u8>),
    Directory,
    Symlink(Vec<u8>),
    Device(DeviceKind, u32, u32),
    /// A FIFO or a socket: testfs keeps the node but cannot open it.
    Special,
    /// A `/proc/self/fd`-style link whose target is in [`TestFs`]'s table.
    MagicLink,
}

struct InodeState {
    /// Type and permission bits.
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    btime: Timespec,
    content: Content,
    xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// A file: what hard links share.
pub struct Inode {
    ino: u64,
    state: Mutex<InodeState>,
    locks: FileLocks,
}

/// The deadlock-detection registry shared by every testfs inode's locks.
static LOCK_TABLE: std::sync::LazyLock<Arc<LockTable>> =
    std::sync::LazyLock::new(|| Arc::new(LockTable::new()));

impl Inode {
    fn new(
        next_ino: &AtomicU64,
        mode: u32,
        uid: u32,
        gid: u32,
        now: Timespec,
        content: Content,
    ) -> Arc<Self> {
        let nlink = if matches!(content, Content::Directory) {
            2
        } else {
            1
        };
        Arc::new(Self {
            ino: next_ino.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(InodeState {
                mode,
                uid,
                gid,
                nlink,
                atime: now,
                mtime: now,
                ctime: now,
                btime: now,
                content,
                xattrs: BTreeMap::new(),
            }),
            locks: FileLocks::new(Arc::clone(&LOCK_TABLE)),
        })
    }

    fn owner(&self) -> FileOwner {
        let state = lock(&self.state);
        FileOwner {
            mode: FileMode(state.mode),
            uid: state.uid,
            gid: state.gid,
        }
    }

    fn file_type(&self) -> Option<FileType> {
        FileMode(lock(&self.state).mode).file_type()
    }

    fn check(&self, creds: &Credentials, access: AccessTypes) -> Result<(), Errno> {
        generic_permission(creds, access, self.owner())
    }

    fn statx(&self, dev: u64, mnt_id: u64) -> Statx {
        let state = lock(&self.state);
        let (rdev_major, rdev_minor) = match state.content {
            Content::Device(_, major, minor) => (major, minor),
            _ => (0, 0),
        };
        let size = match &state.content {
            Content::Regular(data) => data.len() as u64,
            Content::Symlink(target) => target.len() as u64,
            Content::Directory => 4096,
            _ => 0,
        };
        Statx {
            stx_mask: (StatxMask::BASIC_STATS | StatxMask::BTIME | StatxMask::MNT_ID).bits(),
            stx_blksize: 4096,
            stx_nlink: state.nlink,
            stx_uid: state.uid,
            stx_gid: state.gid,
            stx_mode: state.mode as u16,
            stx_ino: self.ino,
            stx_size: size,
            stx_blocks: size.div_ceil(512),
            stx_atime: to_statx_time(state.atime),
            stx_btime: to_statx_time(state.btime),
            stx_ctime: to_statx_time(state.ctime),
            stx_mtime: to_statx_time(state.mtime),
            stx_rdev_major: rdev_major,
            stx_rdev_minor: rdev_minor,
            stx_dev_major: abi_linux::dev_major(dev),
            stx_dev_minor: abi_linux::dev_minor(dev),
            stx_mnt_id: mnt_id,
            ..Statx::default()
        }
    }

    /// Applies a checked `set_stat`.
    /// `truncate` applies to regular files only: `EISDIR` for a directory,
    /// `EINVAL` for the others.
    fn check_truncatable(&self, opts: &SetStatOptions) -> Result<(), Errno> {
        if !StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::SIZE) {
            return Ok(());
        }
        match self.file_type() {
            Some(FileType::Directory) => Err(Errno::EISDIR),
            Some(FileType::Regular) => Ok(()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Applies a `set_stat` after [`Self::check_truncatable`] and the
    /// caller's `EROFS` check.
    fn set_stat(&self, ctx: &dyn Context, mut opts: SetStatOptions) -> Result<(), Errno> {
        let mask = StatxMask::from_bits_retain(opts.stat.stx_mask);
        check_set_stat(ctx, &mut opts, self.owner())?;
        let stat = opts.stat;
        let now = ctx.now();
        let mut state = lock(&self.state);
        if mask.contains(StatxMask::SIZE) {
            if let Content::Regular(data) = &mut state.content {
                let size = usize::try_from(stat.stx_size).map_err(|_| Errno::EFBIG)?;
                data.resize(size, 0);
            }
            state.mtime = now;
        }
        if mask.contains(StatxMask::MODE) {
            state.mode = (state.mode & abi_linux::S_IFMT) | (u32::from(stat.stx_mode) & 0o7777);
        }
        if mask.intersects(StatxMask::UID | StatxMask::GID) {
            if mask.contains(StatxMask::UID) {
                state.uid = stat.stx_uid;
            }
            if mask.contains(StatxMask::GID) {
                state.gid = stat.stx_gid;
            }
            state.mode = clear_suid_and_sgid(state.mode);
        }
        let new_time = |field: StatxMask, value: StatxTimestamp, old: Timespec| {
            if !mask.contains(field) || value.tv_nsec == UTIME_OMIT {
                old
            } else if value.tv_nsec == UTIME_NOW {
                now
            } else {
                from_statx_time(value)
            }
        };
        state.atime = new_time(StatxMask::ATIME, stat.stx_atime, state.atime);
        state.mtime = new_time(StatxMask::MTIME, stat.stx_mtime, state.mtime);
        state.ctime = now;
        Ok(())
    }
}

/// The tree links of a dentry, protected by the filesystem's lock for
/// writing (the mutex only makes them shareable).
struct Links {
    parent: Weak<TestDentry>,
    name: Vec<u8>,
    /// The dentry's position in its parent's listing (stable offsets).
    pos: u64,
    children: BTreeMap<Vec<u8>, Arc<TestDentry>>,
    next_pos: u64,
}

/// A testfs dentry.
pub struct TestDentry {
    vfs_dentry: Dentry,
    me: Weak<TestDentry>,
    refs: refs::RefCount,
    registration: Mutex<Option<refs::Registration>>,
    inode: Arc<Inode>,
    links: Mutex<Links>,
}

/// The first directory offset of a child; 0 and 1 are `.` and `..`.
const FIRST_CHILD_POS: u64 = 2;

impl TestDentry {
    /// A dentry holding its tree reference (its count starts at 1).
    fn new(inode: Arc<Inode>, parent: Weak<TestDentry>, name: Vec<u8>, pos: u64) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            vfs_dentry: Dentry::new(),
            me: me.clone(),
            refs: refs::RefCount::new(),
            registration: Mutex::new(Some(refs::Registration::new_cyclic(me, "testfs::Dentry"))),
            inode,
            links: Mutex::new(Links {
                parent,
                name,
                pos,
                children: BTreeMap::new(),
                next_pos: FIRST_CHILD_POS,
            }),
        })
    }

    fn arc(&self) -> Arc<TestDentry> {
        match self.me.upgrade() {
            Some(arc) => arc,
            None => unreachable!("a dentry in use is alive"),
        }
    }

    /// A new counted reference.
    ///
    /// # Preconditions
    ///
    /// The dentry is in the tree or the caller holds a reference.
    fn new_ref(&self) -> DentryRef {
        let arc: Arc<dyn DentryImpl> = self.arc();
        DentryRef::new_ref(&arc)
    }

    /// The inode.
    pub fn inode(&self) -> &Arc<Inode> {
        &self.inode
    }

    fn child(&self, name: &[u8]) -> Option<Arc<TestDentry>> {
        lock(&self.links).children.get(name).cloned()
    }

    fn parent(&self) -> Option<Arc<TestDentry>> {
        lock(&self.links).parent.upgrade()
    }

    fn is_symlink_like(&self) -> bool {
        matches!(
            lock(&self.inode.state).content,
            Content::Symlink(_) | Content::MagicLink
        )
    }

    fn has_children(&self) -> bool {
        !lock(&self.links).children.is_empty()
    }

    /// Whether `self` is `other` or one of its ancestors.
    fn is_ancestor_of(&self, other: &Arc<TestDentry>) -> bool {
        let mut cursor = Some(Arc::clone(other));
        while let Some(d) = cursor {
            if std::ptr::eq(&*d, self) {
                return true;
            }
            cursor = d.parent();
        }
        false
    }

    /// Links `child` under `name`.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held for writing; `name` is free.
    fn insert(&self, name: &[u8], child: &Arc<TestDentry>) {
        let mut links = lock(&self.links);
        let pos = links.next_pos;
        links.next_pos += 1;
        {
            let mut child_links = lock(&child.links);
            child_links.parent = Arc::downgrade(&self.arc());
            child_links.name = name.to_vec();
            child_links.pos = pos;
        }
        links.children.insert(name.to_vec(), Arc::clone(child));
    }

    /// Unlinks `name`, returning the child with its tree reference.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held for writing.
    fn remove(&self, name: &[u8]) -> Option<Arc<TestDentry>> {
        let child = lock(&self.links).children.remove(name)?;
        lock(&child.links).parent = Weak::new();
        Some(child)
    }

    fn touch_dir(&self, now: Timespec) {
        let mut state = lock(&self.inode.state);
        state.mtime = now;
        state.ctime = now;
    }

    fn add_nlink(&self, delta: i32) {
        let mut state = lock(&self.inode.state);
        state.nlink = state.nlink.saturating_add_signed(delta);
    }

    /// Drops the tree references of this dentry and everything below it.
    fn release_tree(&self, ctx: &dyn Context) {
        let children = std::mem::take(&mut lock(&self.links).children);
        for child in children.into_values() {
            child.release_tree(ctx);
        }
        DentryImpl::dec_ref(self, ctx);
    }
}

impl DentryImpl for TestDentry {
    fn vfs_dentry(&self) -> &Dentry {
        &self.vfs_dentry
    }

    fn is_dir(&self) -> bool {
        self.inode.file_type() == Some(FileType::Directory)
    }

    fn inc_ref(&self) {
        self.refs.inc_ref(self);
    }

    fn try_inc_ref(&self) -> bool {
        self.refs.try_inc_ref()
    }

    fn dec_ref(&self, _ctx: &dyn Context) {
        self.refs.dec_ref(self, || {
            lock(&self.registration).take();
        });
    }

    fn describe(&self) -> String {
        let name = String::from_utf8_lossy(&lock(&self.links).name).into_owned();
        format!("testfs:{name} ino={}", self.inode.ino)
    }
}

impl refs::CheckedObject for TestDentry {
    fn ref_type(&self) -> &'static str {
        "testfs::Dentry"
    }

    fn leak_message(&self) -> String {
        format!(
            "[testfs::Dentry] {} refs={}",
            self.describe(),
            self.refs.count()
        )
    }
}

/// What a new file inherits from its directory.
#[derive(Clone, Copy)]
struct ParentInfo {
    mode: u32,
    gid: u32,
}

impl ParentInfo {
    fn of(inode: &Inode) -> Self {
        let state = lock(&inode.state);
        Self {
            mode: state.mode,
            gid: state.gid,
        }
    }
}

/// A testfs filesystem instance.
pub struct TestFs {
    vfs: Weak<VirtualFilesystem>,
    minor: u32,
    next_ino: AtomicU64,
    lock: RwLock<()>,
    root: Arc<TestDentry>,
    magic_targets: Mutex<BTreeMap<u64, VirtualDentry>>,
}

/// Downcasts a dentry of this filesystem.
fn ours(dentry: &dyn DentryImpl) -> Result<Arc<TestDentry>, Errno> {
    let any: &dyn std::any::Any = dentry;
    any.downcast_ref::<TestDentry>()
        .map(TestDentry::arc)
        .ok_or(Errno::EXDEV)
}

impl TestFs {
    fn read(&self) -> RwLockReadGuard<'_, ()> {
        self.lock.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, ()> {
        self.lock.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn dev(&self) -> u64 {
        abi_linux::make_dev(0, self.minor)
    }

    /// Adds a magic link `name` in directory `dir` whose target is `target`
    /// (what `/proc/self/fd/N` is to Linux).
    pub fn add_magic_link(
        &self,
        ctx: &dyn Context,
        dir: &DentryRef,
        name: &[u8],
        target: VirtualDentry,
    ) -> Result<(), Errno> {
        let _guard = self.write();
        let dir = ours(&**dir)?;
        if dir.child(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let creds = ctx.credentials();
        let inode = Inode::new(
            &self.next_ino,
            FileType::Symlink.mode_bits() | 0o777,
            creds.fs_uid,
            creds.fs_gid,
            ctx.now(),
            Content::MagicLink,
        );
        lock(&self.magic_targets).insert(inode.ino, target);
        let child = TestDentry::new(inode, Weak::new(), Vec::new(), 0);
        dir.insert(name, &child);
        Ok(())
    }

    /// Gives back the references magic links hold on their targets; magic
    /// links followed afterwards are `ENOENT`.
    pub fn clear_magic_links(&self, ctx: &dyn Context) {
        let targets = std::mem::take(&mut *lock(&self.magic_targets));
        for target in targets.into_values() {
            target.release(ctx);
        }
    }

    /// Takes one step of the walk from directory `dir` at `rp`'s current
    /// component and returns where the walk is now: `dir` itself after `.`
    /// or a followed symlink, the parent after `..`, else the child.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held; `!rp.done()`.
    fn step(
        &self,
        rp: &mut ResolvingPath<'_>,
        dir: &Arc<TestDentry>,
    ) -> PathResult<Arc<TestDentry>> {
        if !dir.is_dir() {
            return Err(Errno::ENOTDIR.into());
        }
        dir.inode.check(rp.credentials(), AccessTypes::EXEC)?;
        let name = rp.component();
        if name == b"." {
            rp.advance();
            return Ok(Arc::clone(dir));
        }
        if name == b".." {
            if rp.check_root(&**dir)? {
                rp.advance();
                return Ok(Arc::clone(dir));
            }
            let parent = dir.parent().unwrap_or_else(|| Arc::clone(dir));
            rp.check_mount(&*parent)?;
            rp.advance();
            return Ok(parent);
        }
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG.into());
        }
        let child = dir.child(name).ok_or(Errno::ENOENT)?;
        rp.check_mount(&*child)?;
        if child.is_symlink_like() && rp.should_follow_symlink() {
            self.follow(rp, &child)?;
            return Ok(Arc::clone(dir));
        }
        rp.advance();
        Ok(child)
    }

    /// Follows the symlink or magic link `link` at `rp`'s current component.
    fn follow(&self, rp: &mut ResolvingPath<'_>, link: &TestDentry) -> PathResult<()> {
        let target = match &lock(&link.inode.state).content {
            Content::Symlink(target) => Some(target.clone()),
            _ => None,
        };
        match target {
            Some(target) => rp.handle_symlink(&target),
            None => {
                let jump = lock(&self.magic_targets).get(&link.inode.ino).cloned();
                rp.handle_jump(jump.ok_or(Errno::ENOENT)?)
            }
        }
    }

    /// Walks every component of `rp` from `from`.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held.
    fn walk_from(
        &self,
        rp: &mut ResolvingPath<'_>,
        from: Arc<TestDentry>,
    ) -> PathResult<Arc<TestDentry>> {
        let mut dentry = from;
        while !rp.done() {
            dentry = self.step(rp, &dentry)?;
        }
        if rp.must_be_dir() && !dentry.is_dir() {
            return Err(Errno::ENOTDIR.into());
        }
        Ok(dentry)
    }

    fn walk(&self, rp: &mut ResolvingPath<'_>) -> PathResult<Arc<TestDentry>> {
        let start = ours(&**rp.start())?;
        self.walk_from(rp, start)
    }

    /// Walks all but the final component from `from` and returns the
    /// directory that should contain it, leaving it unconsumed.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held.
    fn walk_parent_from(
        &self,
        rp: &mut ResolvingPath<'_>,
        from: Arc<TestDentry>,
    ) -> PathResult<Arc<TestDentry>> {
        let mut dentry = from;
        while !rp.done() && !rp.is_final() {
            dentry = self.step(rp, &dentry)?;
        }
        if !dentry.is_dir() {
            return Err(Errno::ENOTDIR.into());
        }
        Ok(dentry)
    }

    /// [`Self::walk_parent_from`] the start, then the checks every
    /// operation on the final name makes: search permission on the parent.
    fn walk_parent(&self, rp: &mut ResolvingPath<'_>) -> PathResult<Arc<TestDentry>> {
        let start = ours(&**rp.start())?;
        let parent = self.walk_parent_from(rp, start)?;
        parent.inode.check(rp.credentials(), AccessTypes::EXEC)?;
        Ok(parent)
    }

    /// Creates a file named by `rp`'s final component with Linux's errno
    /// order: `EEXIST`, then `EROFS`, then `EACCES` on the parent.
    fn create_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        is_dir: bool,
        link_from: Option<&vfs_core::MountRef>,
        make: impl FnOnce(&Self, ParentInfo) -> PathResult<Arc<Inode>>,
    ) -> PathResult<()> {
        let _guard = self.write();
        let parent = self.walk_parent(rp)?;
        let name = rp.component().to_vec();
        if is_dot_or_dotdot(&name) {
            return Err(Errno::EEXIST.into());
        }
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG.into());
        }
        if parent.child(&name).is_some() {
            return Err(Errno::EEXIST.into());
        }
        if (rp.must_be_dir() && !is_dir) || parent.vfs_dentry.is_dead() {
            return Err(Errno::ENOENT.into());
        }
        rp.mount().check_writable()?;
        // A hard link's target must be seen through the mount the new name
        // is on (Linux checks after the name and write access, before the
        // directory's permissions).
        if link_from.is_some_and(|mount| !vfs_core::MountRef::ptr_eq(mount, rp.mount())) {
            return Err(Errno::EXDEV.into());
        }
        parent
            .inode
            .check(rp.credentials(), AccessTypes::WRITE | AccessTypes::EXEC)?;
        let inode = make(self, ParentInfo::of(&parent.inode))?;
        let child = TestDentry::new(inode, Weak::new(), Vec::new(), 0);
        parent.insert(&name, &child);
        if is_dir {
            parent.add_nlink(1);
        }
        parent.touch_dir(ctx.now());
        Ok(())
    }

    /// A new inode owned by the caller, with the group of a set-group-ID
    /// parent (and, for directories, its set-group-ID bit).
    fn new_inode(
        &self,
        ctx: &dyn Context,
        parent: ParentInfo,
        mode: u32,
        content: Content,
    ) -> Arc<Inode> {
        let creds = ctx.credentials();
        let mut mode = mode;
        let gid = if parent.mode & abi_linux::S_ISGID != 0 {
            if matches!(content, Content::Directory) {
                mode |= abi_linux::S_ISGID;
            }
            parent.gid
        } else {
            creds.fs_gid
        };
        Inode::new(&self.next_ino, mode, creds.fs_uid, gid, ctx.now(), content)
    }

    /// Opens an existing file for `rp` with Linux's `may_open` rules.
    fn open_existing(
        &self,
        ctx: &dyn Context,
        rp: &ResolvingPath<'_>,
        dentry: &Arc<TestDentry>,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        let flags = opts.flags;
        let writes = flags.access_mode() != abi_linux::AccessMode::ReadOnly
            || flags.contains(OpenFlags::TRUNC);
        let file_type = dentry.inode.file_type();
        if flags.contains(OpenFlags::DIRECTORY) && file_type != Some(FileType::Directory) {
            return Err(Errno::ENOTDIR.into());
        }
        match file_type {
            Some(FileType::Symlink) => return Err(Errno::ELOOP.into()),
            Some(FileType::Directory) if writes => return Err(Errno::EISDIR.into()),
            _ => {}
        }
        dentry.inode.check(
            rp.credentials(),
            AccessTypes::for_open_flags(flags, opts.file_exec),
        )?;
        if writes
            && matches!(
                file_type,
                Some(FileType::Regular) | Some(FileType::Directory)
            )
        {
            rp.mount().check_writable()?;
        }
        let device = match lock(&dentry.inode.state).content {
            Content::Device(kind, major, minor) => Some((kind, major, minor)),
            Content::Special => return Err(Errno::ENXIO.into()),
            _ => None,
        };
        let dentry_ref = dentry.new_ref();
        if let Some((kind, major, minor)) = device {
            let result = rp.vfs().open_device_special_file(
                ctx,
                rp.mount(),
                &dentry_ref,
                kind,
                major,
                minor,
                opts,
            );
            dentry_ref.release(ctx);
            return result.map_err(Into::into);
        }
        if file_type == Some(FileType::Regular) && flags.contains(OpenFlags::TRUNC) {
            let mut state = lock(&dentry.inode.state);
            if let Content::Regular(data) = &mut state.content
                && !data.is_empty()
            {
                data.clear();
                state.mtime = ctx.now();
                state.ctime = state.mtime;
            }
        }
        let imp: Box<dyn FileDescriptionImpl> = if file_type == Some(FileType::Directory) {
            Box::new(DirectoryFile {
                dentry: Arc::clone(dentry),
                offset: Mutex::new(0),
            })
        } else {
            Box::new(RegularFile {
                dentry: Arc::clone(dentry),
                offset: Mutex::new(0),
            })
        };
        let file = FileDescription::new(
            flags,
            rp.mount(),
            &dentry_ref,
            FileDescriptionOptions::default(),
            imp,
        );
        dentry_ref.release(ctx);
        Ok(file)
    }

    /// The `O_CREAT` path of `open`: walks to the parent, follows a final
    /// symlink unless `O_EXCL` (creating a dangling symlink's target, as
    /// Linux does), creates the file if it is missing.
    fn open_create(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        let _guard = self.write();
        let mut dir = ours(&**rp.start())?;
        loop {
            dir = self.walk_parent_from(rp, dir)?;
            if rp.done() {
                // The path named a directory ("/", or a symlink to "/").
                return Err(Errno::EISDIR.into());
            }
            dir.inode.check(rp.credentials(), AccessTypes::EXEC)?;
            let name = rp.component().to_vec();
            if is_dot_or_dotdot(&name) || rp.must_be_dir() {
                return Err(Errno::EISDIR.into());
            }
            if name.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG.into());
            }
            match dir.child(&name) {
                Some(child) => {
                    if opts.flags.contains(OpenFlags::EXCL) {
                        return Err(Errno::EEXIST.into());
                    }
                    rp.check_mount(&*child)?;
                    if child.is_symlink_like() && rp.should_follow_symlink() {
                        self.follow(rp, &child)?;
                        continue;
                    }
                    rp.advance();
                    return self.open_existing(ctx, rp, &child, opts);
                }
                None => {
                    if dir.vfs_dentry.is_dead() {
                        return Err(Errno::ENOENT.into());
                    }
                    rp.mount().check_writable()?;
                    dir.inode
                        .check(rp.credentials(), AccessTypes::WRITE | AccessTypes::EXEC)?;
                    let mode = FileType::Regular.mode_bits() | (opts.mode & 0o7777);
                    let inode = self.new_inode(
                        ctx,
                        ParentInfo::of(&dir.inode),
                        mode,
                        Content::Regular(Vec::new()),
                    );
                    let child = TestDentry::new(inode, Weak::new(), Vec::new(), 0);
                    dir.insert(&name, &child);
                    dir.touch_dir(ctx.now());
                    rp.advance();
                    // A new file is opened without checking its mode.
                    let dentry_ref = child.new_ref();
                    let imp = Box::new(RegularFile {
                        dentry: child,
                        offset: Mutex::new(0),
                    });
                    let file = FileDescription::new(
                        opts.flags,
                        rp.mount(),
                        &dentry_ref,
                        FileDescriptionOptions::default(),
                        imp,
                    );
                    dentry_ref.release(ctx);
                    return Ok(file);
                }
            }
        }
    }

    /// Linux `may_delete` for removing `child` from `parent`.
    fn may_delete(
        creds: &Credentials,
        parent: &TestDentry,
        child: &TestDentry,
        is_dir: bool,
    ) -> Result<(), Errno> {
        parent
            .inode
            .check(creds, AccessTypes::WRITE | AccessTypes::EXEC)?;
        let owner = child.inode.owner();
        check_delete_sticky(creds, parent.inode.owner(), owner.uid, owner.gid)?;
        match (is_dir, child.is_dir()) {
            (true, false) => Err(Errno::ENOTDIR),
            (false, true) => Err(Errno::EISDIR),
            _ => Ok(()),
        }
    }

    /// Drops a removed child's name: its inode loses a link (a directory
    /// all of them), and the parent loses the child's `..` link.
    fn drop_name(parent: &TestDentry, child: &TestDentry, now: Timespec) {
        let mut state = lock(&child.inode.state);
        if matches!(state.content, Content::Directory) {
            state.nlink = 0;
            drop(state);
            parent.add_nlink(-1);
        } else {
            state.nlink = state.nlink.saturating_sub(1);
            state.ctime = now;
        }
    }

    fn statfs(&self) -> Statfs {
        Statfs {
            f_type: TESTFS_MAGIC,
            f_bsize: 4096,
            f_namelen: NAME_MAX as i64,
            f_frsize: 4096,
            f_fsid: [self.minor as i32, 0],
            ..Statfs::default()
        }
    }
}

impl FilesystemImpl for TestFs {
    fn release(&self, ctx: &dyn Context) {
        self.clear_magic_links(ctx);
        let guard = self.write();
        self.root.release_tree(ctx);
        drop(guard);
        if let Some(vfs) = self.vfs.upgrade() {
            vfs.put_anonymous_block_dev_minor(self.minor);
        }
    }

    fn access_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        access: AccessTypes,
    ) -> PathResult<()> {
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        if access.contains(AccessTypes::WRITE)
            && matches!(
                dentry.inode.file_type(),
                Some(FileType::Regular | FileType::Directory | FileType::Symlink)
            )
        {
            rp.mount().check_writable()?;
        }
        dentry.inode.check(rp.credentials(), access)?;
        Ok(())
    }

    fn get_dentry_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: GetDentryOptions,
    ) -> PathResult<DentryRef> {
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        if opts.check_searchable {
            if !dentry.is_dir() {
                return Err(Errno::ENOTDIR.into());
            }
            dentry.inode.check(rp.credentials(), AccessTypes::EXEC)?;
        }
        Ok(dentry.new_ref())
    }

    fn get_parent_dentry_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<DentryRef> {
        let _guard = self.read();
        let parent = self.walk_parent(rp)?;
        Ok(parent.new_ref())
    }

    fn link_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        target: &VirtualDentry,
    ) -> PathResult<()> {
        let target_mount = &target.mount;
        let target = ours(&*target.dentry)?;
        let creds = ctx.credentials();
        self.create_at(ctx, rp, false, Some(target_mount), |_, _| {
            if target.is_dir() {
                return Err(Errno::EPERM.into());
            }
            may_link(creds, target.inode.owner())?;
            let mut state = lock(&target.inode.state);
            if state.nlink == 0 {
                return Err(Errno::ENOENT.into());
            }
            state.nlink += 1;
            state.ctime = ctx.now();
            Ok(Arc::clone(&target.inode))
        })
    }

    fn mkdir_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: MkdirOptions,
    ) -> PathResult<()> {
        self.create_at(ctx, rp, true, None, |fs, parent| {
            let mode = FileType::Directory.mode_bits() | (opts.mode & 0o1777);
            Ok(fs.new_inode(ctx, parent, mode, Content::Directory))
        })
    }

    fn mknod_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: MknodOptions,
    ) -> PathResult<()> {
        let file_type = match opts.mode & abi_linux::S_IFMT {
            0 => FileType::Regular,
            abi_linux::S_IFDIR => return Err(Errno::EPERM.into()),
            bits => FileType::from_mode_bits(bits).ok_or(Errno::EINVAL)?,
        };
        let creds = ctx.credentials();
        self.create_at(ctx, rp, false, None, |fs, parent| {
            let content = match file_type {
                FileType::Regular => Content::Regular(Vec::new()),
                FileType::CharDevice | FileType::BlockDevice => {
                    if !creds.has_capability(abi_linux::Capability::MKNOD) {
                        return Err(Errno::EPERM.into());
                    }
                    let kind = if file_type == FileType::CharDevice {
                        DeviceKind::Char
                    } else {
                        DeviceKind::Block
                    };
                    Content::Device(kind, opts.dev_major, opts.dev_minor)
                }
                FileType::Fifo | FileType::Socket => Content::Special,
                FileType::Directory | FileType::Symlink => return Err(Errno::EINVAL.into()),
            };
            let mode = file_type.mode_bits() | (opts.mode & 0o7777);
            Ok(fs.new_inode(ctx, parent, mode, content))
        })
    }

    fn open_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        if opts.flags.contains(OpenFlags::CREAT) {
            return self.open_create(ctx, rp, opts);
        }
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        self.open_existing(ctx, rp, &dentry, opts)
    }

    fn readlink_at(&self, _ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Vec<u8>> {
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        let state = lock(&dentry.inode.state);
        match &state.content {
            Content::Symlink(target) => Ok(target.clone()),
            Content::MagicLink => Ok(format!("magic:[{}]", dentry.inode.ino).into_bytes()),
            _ => Err(Errno::EINVAL.into()),
        }
    }

    fn rename_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        old_parent: &VirtualDentry,
        old_name: &[u8],
        opts: RenameOptions,
    ) -> PathResult<()> {
        let _guard = self.write();
        let new_parent = self.walk_parent(rp)?;
        vfs_core::check_rename_names(rp, old_parent, old_name, opts)?;
        let new_name = rp.component().to_vec();
        let creds = rp.credentials();
        let old_parent = ours(&*old_parent.dentry)?;
        old_parent.inode.check(creds, AccessTypes::EXEC)?;
        let old = old_parent.child(old_name).ok_or(Errno::ENOENT)?;
        let new = new_parent.child(&new_name);
        let exchange = opts.flags.contains(RenameFlags::EXCHANGE);
        if opts.flags.contains(RenameFlags::NOREPLACE) && new.is_some() {
            return Err(Errno::EEXIST.into());
        }
        if exchange && new.is_none() {
            return Err(Errno::ENOENT.into());
        }
        if !exchange && !old.is_dir() && (opts.must_be_dir || rp.must_be_dir()) {
            return Err(Errno::ENOTDIR.into());
        }
        if old.is_ancestor_of(&new_parent) {
            return Err(Errno::EINVAL.into());
        }
        if let Some(new) = &new {
            if new.is_ancestor_of(&old_parent) {
                let errno = if exchange {
                    Errno::EINVAL
                } else {
                    Errno::ENOTEMPTY
                };
                return Err(errno.into());
            }
            if Arc::ptr_eq(&old.inode, &new.inode) {
                // Linux: renaming a file over another link to it does nothing.
                return Ok(());
            }
        }
        Self::may_delete(creds, &old_parent, &old, old.is_dir())?;
        match &new {
            None => new_parent
                .inode
                .check(creds, AccessTypes::WRITE | AccessTypes::EXEC)?,
            Some(new) => {
                let as_dir = if exchange { new.is_dir() } else { old.is_dir() };
                Self::may_delete(creds, &new_parent, new, as_dir)?;
            }
        }
        let moves_parent = !Arc::ptr_eq(&old_parent, &new_parent);
        if moves_parent {
            if old.is_dir() {
                old.inode.check(creds, AccessTypes::WRITE)?;
            }
            if let Some(new) = new.as_ref().filter(|n| exchange && n.is_dir()) {
                new.inode.check(creds, AccessTypes::WRITE)?;
            }
        }
        let new_vfs_dentry = new.as_ref().map(|n| &n.vfs_dentry);
        let guard = RenameGuard::prepare(&old.vfs_dentry, new_vfs_dentry)?;
        if new.as_ref().is_some_and(|n| !exchange && n.has_children()) {
            drop(guard);
            return Err(Errno::ENOTEMPTY.into());
        }
        let now = ctx.now();
        old_parent.remove(old_name);
        if exchange {
            let Some(new) = &new else {
                unreachable!("RENAME_EXCHANGE checked the target exists")
            };
            new_parent.remove(&new_name);
            new_parent.insert(&new_name, &old);
            old_parent.insert(old_name, new);
            if moves_parent && old.is_dir() != new.is_dir() {
                let delta = if old.is_dir() { 1 } else { -1 };
                new_parent.add_nlink(delta);
                old_parent.add_nlink(-delta);
            }
            guard.commit_exchange();
        } else {
            let replaced = new_parent.remove(&new_name);
            if let Some(replaced) = &replaced {
                Self::drop_name(&new_parent, replaced, now);
            }
            new_parent.insert(&new_name, &old);
            if moves_parent && old.is_dir() {
                new_parent.add_nlink(1);
                old_parent.add_nlink(-1);
            }
            guard.commit_replace();
            if let Some(replaced) = replaced {
                DentryImpl::dec_ref(&*replaced, ctx);
            }
        }
        lock(&old.inode.state).ctime = now;
        old_parent.touch_dir(now);
        new_parent.touch_dir(now);
        Ok(())
    }

    fn rmdir_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        let _guard = self.write();
        let parent = self.walk_parent(rp)?;
        let name = rp.component().to_vec();
        match &name[..] {
            b"." => return Err(Errno::EINVAL.into()),
            b".." => return Err(Errno::ENOTEMPTY.into()),
            _ => {}
        }
        rp.mount().check_writable()?;
        let child = parent.child(&name).ok_or(Errno::ENOENT)?;
        Self::may_delete(rp.credentials(), &parent, &child, true)?;
        let guard = DeleteGuard::prepare(&child.vfs_dentry)?;
        if child.has_children() {
            drop(guard);
            return Err(Errno::ENOTEMPTY.into());
        }
        parent.remove(&name);
        Self::drop_name(&parent, &child, ctx.now());
        parent.touch_dir(ctx.now());
        guard.commit();
        DentryImpl::dec_ref(&*child, ctx);
        Ok(())
    }

    fn set_stat_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: SetStatOptions,
    ) -> PathResult<()> {
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        dentry.inode.check_truncatable(&opts)?;
        rp.mount().check_writable()?;
        dentry.inode.set_stat(ctx, opts)?;
        Ok(())
    }

    fn stat_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        _opts: StatOptions,
    ) -> PathResult<Statx> {
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        Ok(dentry.inode.statx(self.dev(), rp.mount().id()))
    }

    fn statfs_at(&self, _ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Statfs> {
        let _guard = self.read();
        self.walk(rp)?;
        Ok(self.statfs())
    }

    fn symlink_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        target: &[u8],
    ) -> PathResult<()> {
        self.create_at(ctx, rp, false, None, |fs, parent| {
            let mode = FileType::Symlink.mode_bits() | 0o777;
            Ok(fs.new_inode(ctx, parent, mode, Content::Symlink(target.to_vec())))
        })
    }

    fn unlink_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        let _guard = self.write();
        let parent = self.walk_parent(rp)?;
        let name = rp.component().to_vec();
        if is_dot_or_dotdot(&name) {
            return Err(Errno::EISDIR.into());
        }
        rp.mount().check_writable()?;
        let child = parent.child(&name).ok_or(Errno::ENOENT)?;
        if rp.must_be_dir() {
            let errno = if child.is_dir() {
                Errno::EISDIR
            } else {
                Errno::ENOTDIR
            };
            return Err(errno.into());
        }
        Self::may_delete(rp.credentials(), &parent, &child, false)?;
        let guard = DeleteGuard::prepare(&child.vfs_dentry)?;
        parent.remove(&name);
        Self::drop_name(&parent, &child, ctx.now());
        parent.touch_dir(ctx.now());
        guard.commit();
        DentryImpl::dec_ref(&*child, ctx);
        Ok(())
    }

    fn list_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<Vec<Vec<u8>>> {
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        let names = lock(&dentry.inode.state).xattrs.keys().cloned().collect();
        Ok(names)
    }

    fn get_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: &GetXattrOptions,
    ) -> PathResult<Vec<u8>> {
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        check_xattr_namespace(&opts.name)?;
        check_xattr_permissions(
            rp.credentials(),
            AccessTypes::READ,
            dentry.inode.owner(),
            &opts.name,
        )?;
        let state = lock(&dentry.inode.state);
        Ok(state
            .xattrs
            .get(&opts.name)
            .cloned()
            .ok_or(Errno::ENODATA)?)
    }

    fn set_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: &SetXattrOptions,
    ) -> PathResult<()> {
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        rp.mount().check_writable()?;
        check_xattr_namespace(&opts.name)?;
        check_xattr_permissions(
            rp.credentials(),
            AccessTypes::WRITE,
            dentry.inode.owner(),
            &opts.name,
        )?;
        let mut state = lock(&dentry.inode.state);
        let exists = state.xattrs.contains_key(&opts.name);
        if opts.flags.contains(XattrFlags::CREATE) && exists {
            return Err(Errno::EEXIST.into());
        }
        if opts.flags.contains(XattrFlags::REPLACE) && !exists {
            return Err(Errno::ENODATA.into());
        }
        state.xattrs.insert(opts.name.clone(), opts.value.clone());
        state.ctime = ctx.now();
        Ok(())
    }

    fn remove_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        name: &[u8],
    ) -> PathResult<()> {
        let _guard = self.read();
        let dentry = self.walk(rp)?;
        rp.mount().check_writable()?;
        check_xattr_namespace(name)?;
        check_xattr_permissions(
            rp.credentials(),
            AccessTypes::WRITE,
            dentry.inode.owner(),
            name,
        )?;
        let mut state = lock(&dentry.inode.state);
        state.xattrs.remove(name).ok_or(Errno::ENODATA)?;
        state.ctime = ctx.now();
        Ok(())
    }

    fn parent_and_name(&self, dentry: &dyn DentryImpl) -> Option<(DentryRef, Vec<u8>)> {
        let _guard = self.read();
        let dentry = ours(dentry).ok()?;
        let links = lock(&dentry.links);
        let parent = links.parent.upgrade()?;
        Some((parent.new_ref(), links.name.clone()))
    }
}

/// testfs keeps the `user.` and `trusted.` namespaces, as tmpfs does
/// without security modules.
fn check_xattr_namespace(name: &[u8]) -> Result<(), Errno> {
    if name.starts_with(b"user.") || name.starts_with(b"trusted.") {
        Ok(())
    } else {
        Err(Errno::EOPNOTSUPP)
    }
}

fn dev_of(fd: &FileDescription) -> u64 {
    fd.mount().filesystem().dev()
}

/// `ftruncate` needs a description open for writing (`EINVAL` otherwise);
/// the other changes are the inode's.
fn set_stat_by_fd(
    ctx: &dyn Context,
    fd: &FileDescription,
    inode: &Inode,
    opts: SetStatOptions,
) -> Result<(), Errno> {
    if StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::SIZE)
        && !fd.is_writable()
    {
        return Err(Errno::EINVAL);
    }
    inode.check_truncatable(&opts)?;
    inode.set_stat(ctx, opts)
}

/// An open regular file (or any non-directory testfs can open).
pub struct RegularFile {
    dentry: Arc<TestDentry>,
    offset: Mutex<u64>,
}

impl RegularFile {
    fn read_at(&self, dst: &mut dyn IoDest, offset: u64) -> Result<usize, Errno> {
        let state = lock(&self.dentry.inode.state);
        let Content::Regular(data) = &state.content else {
            return Err(Errno::EINVAL);
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        dst.write_bytes(&data[start..])
    }

    fn write_at(
        &self,
        ctx: &dyn Context,
        src: &mut dyn IoSource,
        offset: u64,
    ) -> Result<usize, Errno> {
        let wanted = src.remaining() as u64;
        if wanted == 0 {
            return Ok(0);
        }
        let allowed = check_limit(ctx, offset, wanted)?;
        let start = usize::try_from(offset).map_err(|_| Errno::EFBIG)?;
        let len = usize::try_from(allowed).map_err(|_| Errno::EFBIG)?;
        let end = start.checked_add(len).ok_or(Errno::EFBIG)?;
        let mut buf = vec![0; len];
        let got = src.read_bytes(&mut buf)?;
        let mut state = lock(&self.dentry.inode.state);
        let Content::Regular(data) = &mut state.content else {
            return Err(Errno::EINVAL);
        };
        let end = end - (len - got);
        if data.len() < end {
            data.resize(end, 0);
        }
        data[start..end].copy_from_slice(&buf[..got]);
        if !ctx
            .credentials()
            .has_capability(abi_linux::Capability::FSETID)
        {
            state.mode = clear_suid_and_sgid(state.mode);
        }
        state.mtime = ctx.now();
        state.ctime = state.mtime;
        Ok(got)
    }

    fn size(&self) -> u64 {
        match &lock(&self.dentry.inode.state).content {
            Content::Regular(data) => data.len() as u64,
            _ => 0,
        }
    }
}

impl FileDescriptionImpl for RegularFile {
    fn file_locks(&self) -> Option<&FileLocks> {
        Some(&self.dentry.inode.locks)
    }

    fn stat(
        &self,
        _ctx: &dyn Context,
        fd: &FileDescription,
        _opts: StatOptions,
    ) -> Result<Statx, Errno> {
        Ok(self.dentry.inode.statx(dev_of(fd), fd.mount().id()))
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        set_stat_by_fd(ctx, fd, &self.dentry.inode, opts)
    }

    fn statfs(&self, _ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        let fs = fd
            .mount()
            .filesystem()
            .downcast::<TestFs>()
            .ok_or(Errno::EXDEV)?;
        Ok(fs.statfs())
    }

    fn pread(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
        _opts: ReadOptions,
    ) -> Result<usize, Errno> {
        self.read_at(dst, offset)
    }

    fn read(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        dst: &mut dyn IoDest,
        _opts: ReadOptions,
    ) -> Result<usize, Errno> {
        let mut offset = lock(&self.offset);
        let n = self.read_at(dst, *offset)?;
        *offset += n as u64;
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
        // Linux appends a pwrite on an O_APPEND file.
        let offset = if fd.status_flags().contains(OpenFlags::APPEND) {
            self.size()
        } else {
            offset
        };
        self.write_at(ctx, src, offset)
    }

    fn write(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        src: &mut dyn IoSource,
        _opts: WriteOptions,
    ) -> Result<usize, Errno> {
        let mut offset = lock(&self.offset);
        if fd.status_flags().contains(OpenFlags::APPEND) {
            *offset = self.size();
        }
        let n = self.write_at(ctx, src, *offset)?;
        *offset += n as u64;
        Ok(n)
    }

    fn seek(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let mut current = lock(&self.offset);
        let size = i64::try_from(self.size()).map_err(|_| Errno::EOVERFLOW)?;
        let base = match whence {
            Whence::Set => 0,
            Whence::Cur => i64::try_from(*current).map_err(|_| Errno::EOVERFLOW)?,
            Whence::End => size,
            // The whole file is data: the next data is at the offset, the
            // only hole is the end.
            Whence::Data | Whence::Hole => {
                if offset < 0 || offset >= size {
                    return Err(Errno::ENXIO);
                }
                let target = if whence == Whence::Data { offset } else { size };
                *current = target as u64;
                return Ok(target);
            }
        };
        let target = base.checked_add(offset).ok_or(Errno::EINVAL)?;
        if target < 0 {
            return Err(Errno::EINVAL);
        }
        *current = target as u64;
        Ok(target)
    }

    fn sync(&self, _ctx: &dyn Context, _fd: &FileDescription) -> Result<(), Errno> {
        Ok(())
    }
}

/// An open directory.
pub struct DirectoryFile {
    dentry: Arc<TestDentry>,
    offset: Mutex<i64>,
}

impl FileDescriptionImpl for DirectoryFile {
    fn stat(
        &self,
        _ctx: &dyn Context,
        fd: &FileDescription,
        _opts: StatOptions,
    ) -> Result<Statx, Errno> {
        Ok(self.dentry.inode.statx(dev_of(fd), fd.mount().id()))
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        set_stat_by_fd(ctx, fd, &self.dentry.inode, opts)
    }

    fn statfs(&self, _ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        let fs = fd
            .mount()
            .filesystem()
            .downcast::<TestFs>()
            .ok_or(Errno::EXDEV)?;
        Ok(fs.statfs())
    }

    fn read(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        _dst: &mut dyn IoDest,
        _opts: ReadOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn pread(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        _dst: &mut dyn IoDest,
        _offset: u64,
        _opts: ReadOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    /// Lists `.` (offset 0), `..` (offset 1), then the children in the
    /// order they were linked, each at the position it got then, so an
    /// offset stays valid while entries come and go.
    fn iter_dirents(
        &self,
        _ctx: &dyn Context,
        fd: &FileDescription,
        sink: &mut dyn DirentSink,
    ) -> Result<(), Errno> {
        let fs = fd
            .mount()
            .filesystem()
            .downcast::<TestFs>()
            .ok_or(Errno::EXDEV)?;
        let _guard = fs.read();
        let mut offset = lock(&self.offset);
        let me = &self.dentry;
        if *offset == 0 {
            let dirent = Dirent {
                name: b".",
                ino: me.inode.ino,
                dtype: abi_linux::DT_DIR,
                next_offset: 1,
            };
            if !sink.add(&dirent) {
                return Ok(());
            }
            *offset = 1;
        }
        if *offset == 1 {
            let parent_ino = me.parent().map_or(me.inode.ino, |p| p.inode.ino);
            let dirent = Dirent {
                name: b"..",
                ino: parent_ino,
                dtype: abi_linux::DT_DIR,
                next_offset: 2,
            };
            if !sink.add(&dirent) {
                return Ok(());
            }
            *offset = 2;
        }
        let mut children: Vec<(u64, Vec<u8>, u64, u8)> = lock(&me.links)
            .children
            .iter()
            .map(|(name, child)| {
                let pos = lock(&child.links).pos;
                let dtype = child
                    .inode
                    .file_type()
                    .map_or(abi_linux::DT_UNKNOWN, FileType::dirent_type);
                (pos, name.clone(), child.inode.ino, dtype)
            })
            .collect();
        children.sort_unstable_by_key(|entry| entry.0);
        for (pos, name, ino, dtype) in children {
            let Ok(pos) = i64::try_from(pos) else { break };
            if pos < *offset {
                continue;
            }
            if !sink.add(&Dirent {
                name: &name,
                ino,
                dtype,
                next_offset: pos + 1,
            }) {
                return Ok(());
            }
            *offset = pos + 1;
        }
        Ok(())
    }

    fn seek(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let mut current = lock(&self.offset);
        let target = match whence {
            Whence::Set => offset,
            Whence::Cur => current.checked_add(offset).ok_or(Errno::EINVAL)?,
            _ => return Err(Errno::EINVAL),
        };
        if target < 0 {
            return Err(Errno::EINVAL);
        }
        *current = target;
        Ok(target)
    }

    fn sync(&self, _ctx: &dyn Context, _fd: &FileDescription) -> Result<(), Errno> {
        Ok(())
    }
}
