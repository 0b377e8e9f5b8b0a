//! The vfs-core filesystem over a 9P2000.L [`Client`] (gVisor's
//! `fsimpl/gofer`): a dentry cache with an LRU of unreferenced dentries and
//! negative entries, inodes shared by hard links, metadata and page caches
//! whose policy follows the [`InteropMode`], and regular files, directories
//! and symlinks.
//!
//! Permission checks are made locally with the cached metadata
//! ([`vfs_core::permissions`]), as gVisor does; for everything else the
//! server's answer is trusted.
//!
//! # Reference model
//!
//! - A [`vfs_core::Filesystem`] holds the [`GoferFilesystem`], which holds
//!   the shared state ([`Shared`]: the client, the LRU, the inode table)
//!   and one count on the root dentry, given back at release.
//! - Dentries hold the shared state, their inode, their walked fid and a
//!   count on their parent (see [`dentry`]). The LRU holds `Arc`s of the
//!   unreferenced dentries; release drains it.
//! - Open files hold their dentry through the VFS (`FileDescription`) and
//!   use the inode's shared handles.
//!
//! # Lock order
//!
//! `GoferFilesystem::rename_lock` (read for every path operation, write for
//! rename) → directory `children` (held across the RPC that changes the
//! directory) → dentry `links` → inode `data` → inode `meta` → inode
//! `handles`. The LRU and the inode table are leaves.

pub mod dentry;
pub mod directory;
pub mod inode;
pub mod mmap;
pub mod regular_file;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use abi_linux::{
    Capability, Errno, FileType, OpenFlags, RenameFlags, Statfs, Statx, StatxMask, XattrFlags,
};
use vfs_core::file_description::FileDescriptionOptions;
use vfs_core::lock::LockTable;
use vfs_core::memmap::{HeapMemoryFile, MemoryFile};
use vfs_core::options::{UTIME_NOW, UTIME_OMIT};
use vfs_core::path::{NAME_MAX, is_dot_or_dotdot};
use vfs_core::permissions::{
    check_delete_sticky, check_set_stat, check_xattr_permissions, generic_permission, may_link,
};
use vfs_core::{
    AccessTypes, Context, Credentials, DeleteGuard, DentryImpl, DentryRef, DeviceKind,
    FileDescription, FileRef, Filesystem, FilesystemImpl, FilesystemRef, FilesystemType,
    GetDentryOptions, GetFilesystemOptions, GetXattrOptions, MkdirOptions, MknodOptions, MountRef,
    OpenOptions, PathResult, RenameGuard, RenameOptions, ResolvingPath, SetStatOptions,
    SetXattrOptions, StatOptions, VirtualDentry, VirtualFilesystem,
};

use crate::client::{Client, XATTR_CREATE, XATTR_REPLACE};
use crate::message::{Attr, SetAttr, getattr, setattr};
use dentry::{GoferDentry, Held};
use directory::open as open_directory;
use inode::{Inode, Metadata, lock};
use regular_file::RegularFile;

/// `f_type` of a 9P filesystem (Linux's `V9FS_MAGIC`).
pub const V9FS_MAGIC: i64 = 0x0102_1997;

/// Who else uses the remote filesystem, which decides what may be cached
/// (gVisor's `InteropMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InteropMode {
    /// Nobody else: metadata and pages are cached, dirty pages are written
    /// back on `fsync`, close and eviction.
    #[default]
    Exclusive,
    /// Others only read: as `Exclusive`, but writes are written through
    /// to the server before they return.
    Writethrough,
    /// Others may change the files: every walk revalidates the cached
    /// dentries and metadata with the server, and file data is not cached
    /// (reads and writes go to the server or a donated fd).
    Shared,
}

/// Options of a gofer filesystem.
#[derive(Clone)]
pub struct GoferOptions {
    /// The interop mode.
    pub interop: InteropMode,
    /// Unreferenced dentries kept cached beyond which the least recently
    /// used are evicted.
    pub max_cached_dentries: usize,
    /// The user name sent in Tattach.
    pub uname: Vec<u8>,
    /// Where the page cache lives; `None` for a [`HeapMemoryFile`].
    pub memory_file: Option<Arc<dyn MemoryFile>>,
}

impl Default for GoferOptions {
    fn default() -> Self {
        Self {
            interop: InteropMode::Exclusive,
            max_cached_dentries: 1000,
            uname: b"root".to_vec(),
            memory_file: None,
        }
    }
}

impl std::fmt::Debug for GoferOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoferOptions")
            .field("interop", &self.interop)
            .field("max_cached_dentries", &self.max_cached_dentries)
            .finish()
    }
}

/// What a mount of type `"9p"` receives in
/// [`GetFilesystemOptions::internal_data`].
#[derive(Clone, Debug)]
pub struct GoferMountData {
    /// The connection.
    pub client: Client,
    /// The tree to attach (Tattach's aname).
    pub aname: Vec<u8>,
    /// The filesystem options.
    pub options: GoferOptions,
}

/// Counters of a filesystem, after gVisor's `fsmetric`.
#[derive(Debug, Default)]
pub struct GoferStats {
    /// Files opened.
    pub opens: AtomicU64,
    /// Opens whose I/O goes over 9P.
    pub opens_9p: AtomicU64,
    /// Opens whose I/O goes through a donated host fd.
    pub opens_host: AtomicU64,
    /// Reads of regular files.
    pub reads: AtomicU64,
    /// Reads served over 9P or from the page cache.
    pub reads_9p: AtomicU64,
    /// Reads served by a donated host fd.
    pub reads_host: AtomicU64,
    /// Nanoseconds spent in reads over 9P or the page cache.
    pub read_wait_9p_ns: AtomicU64,
    /// Nanoseconds spent in reads through a donated host fd.
    pub read_wait_host_ns: AtomicU64,
    /// Dentries evicted from the cache.
    pub evictions: AtomicU64,
}

/// State shared by the filesystem and its dentries.
pub struct Shared {
    client: Client,
    opts: GoferOptions,
    mf: Arc<dyn MemoryFile>,
    stats: Arc<GoferStats>,
    lru: Mutex<VecDeque<Arc<GoferDentry>>>,
    inodes: Mutex<HashMap<u64, Weak<Inode>>>,
    lock_table: Arc<LockTable>,
    released: AtomicBool,
}

impl Shared {
    fn is_released(&self) -> bool {
        self.released.load(Ordering::Acquire)
    }

    fn lru_push(&self, d: &GoferDentry) {
        d.queue_in(&mut lock(&self.lru));
    }

    /// Evicts unreferenced dentries beyond the limit (all of them once the
    /// filesystem is released).
    ///
    /// # Preconditions
    ///
    /// No lock of this filesystem is held.
    fn evict_excess(&self) {
        loop {
            let victim = {
                let mut lru = lock(&self.lru);
                let limit = if self.is_released() {
                    0
                } else {
                    self.opts.max_cached_dentries
                };
                if lru.len() <= limit {
                    return;
                }
                lru.pop_front()
            };
            if let Some(v) = victim {
                self.stats.evictions.fetch_add(1, Ordering::Relaxed);
                v.try_evict();
            }
        }
    }

    /// The inode of the file `attr` describes: the cached one when another
    /// link already has it (refreshed in shared mode), else a new one.
    fn inode_for(&self, attr: &Attr) -> Arc<Inode> {
        let mut inodes = lock(&self.inodes);
        if let Some(inode) = inodes.get(&attr.qid.path).and_then(Weak::upgrade) {
            if self.opts.interop == InteropMode::Shared {
                inode.update_from_attr(attr);
            }
            return inode;
        }
        if inodes.len() >= 64 && inodes.len().is_power_of_two() {
            inodes.retain(|_, w| w.strong_count() > 0);
        }
        let inode = Arc::new(Inode::new(
            attr,
            Arc::clone(&self.mf),
            Arc::clone(&self.lock_table),
        ));
        inodes.insert(attr.qid.path, Arc::downgrade(&inode));
        inode
    }

    fn is_shared(&self) -> bool {
        self.opts.interop == InteropMode::Shared
    }

    fn live_inodes(&self) -> Vec<Arc<Inode>> {
        lock(&self.inodes)
            .values()
            .filter_map(Weak::upgrade)
            .collect()
    }
}

/// The `"9p"` filesystem type. Mounting needs a [`GoferMountData`] in
/// `internal_data`.
#[derive(Debug, Default)]
pub struct GoferFilesystemType;

impl FilesystemType for GoferFilesystemType {
    fn name(&self) -> &str {
        "9p"
    }

    fn get_filesystem(
        &self,
        _ctx: &dyn Context,
        vfs: &Arc<VirtualFilesystem>,
        _source: &[u8],
        opts: &GetFilesystemOptions,
    ) -> Result<(FilesystemRef, DentryRef), Errno> {
        let data = opts
            .internal_data
            .as_ref()
            .and_then(|d| d.downcast_ref::<GoferMountData>())
            .ok_or(Errno::EINVAL)?;
        GoferFilesystem::new(vfs, data.client.clone(), &data.aname, data.options.clone())
    }
}

/// A gofer filesystem instance.
pub struct GoferFilesystem {
    shared: Arc<Shared>,
    root: Mutex<Option<Arc<GoferDentry>>>,
    rename_lock: RwLock<()>,
    vfs: Weak<VirtualFilesystem>,
    minor: u32,
}

/// Downcasts a dentry of this filesystem.
fn ours(d: &dyn DentryImpl) -> Result<&GoferDentry, Errno> {
    let any: &dyn std::any::Any = d;
    any.downcast_ref::<GoferDentry>().ok_or(Errno::EXDEV)
}

/// The group a new file gets: the directory's when it is set-group-ID.
fn new_gid(creds: &Credentials, parent: &Metadata) -> u32 {
    if parent.mode & abi_linux::S_ISGID != 0 {
        parent.gid
    } else {
        creds.fs_gid
    }
}

impl GoferFilesystem {
    /// Attaches to `aname` through `client` and creates the filesystem;
    /// returns it (as the VFS's [`Filesystem`]) and its root dentry, one
    /// reference each.
    ///
    /// # Examples
    ///
    /// ```
    /// use goferfs::fs::{GoferFilesystem, GoferOptions};
    /// use goferfs::{Client, ClientOptions, Server, ServerConfig, Stream};
    /// use vfs_core::{MountOptionFlags, PathOperation, SimpleContext, StatOptions, VirtualDentry, VirtualFilesystem};
    ///
    /// let dir = std::env::temp_dir().join(format!("goferfs-fsdoc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("f"), b"abc").unwrap();
    /// let server = Server::new(ServerConfig::new(&dir))?;
    /// let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// drop(server.spawn_connection(Stream::Unix(b)));
    /// let client = Client::from_unix_stream(a, &ClientOptions::default())?;
    ///
    /// let vfs = VirtualFilesystem::new();
    /// let ctx = SimpleContext::root();
    /// let (fs, root) = GoferFilesystem::new(&vfs, client, b"", GoferOptions::default())?;
    /// let mount = vfs.new_disconnected_mount(fs, root.clone(), MountOptionFlags::empty());
    /// let vd = VirtualDentry::new(mount, root);
    /// let st = vfs.stat_at(&ctx, &PathOperation::new(&vd, &vd, b"f"), StatOptions::default())?;
    /// assert_eq!(st.stx_size, 3);
    /// vd.release(&ctx);
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), abi_linux::Errno>(())
    /// ```
    #[expect(
        clippy::new_ret_no_self,
        reason = "the VFS owns the filesystem object; callers get counted references to it"
    )]
    pub fn new(
        vfs: &Arc<VirtualFilesystem>,
        client: Client,
        aname: &[u8],
        opts: GoferOptions,
    ) -> Result<(FilesystemRef, DentryRef), Errno> {
        let fid = client.attach(&opts.uname, aname)?;
        let attr = fid.getattr(getattr::ALL)?;
        if attr.mode & abi_linux::S_IFMT != abi_linux::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        let minor = vfs.get_anonymous_block_dev_minor()?;
        let mf = opts
            .memory_file
            .clone()
            .unwrap_or_else(|| Arc::new(HeapMemoryFile::new(1 << 40)));
        let shared = Arc::new(Shared {
            client,
            opts,
            mf,
            stats: Arc::new(GoferStats::default()),
            lru: Mutex::new(VecDeque::new()),
            inodes: Mutex::new(HashMap::new()),
            lock_table: Arc::new(LockTable::new()),
            released: AtomicBool::new(false),
        });
        let inode = shared.inode_for(&attr);
        let root = GoferDentry::create(&shared, fid, inode, None, b"");
        let root_ref = root.clone().into_dentry_ref();
        let fs = Arc::new(Self {
            shared,
            root: Mutex::new(Some(root.into_arc())),
            rename_lock: RwLock::new(()),
            vfs: Arc::downgrade(vfs),
            minor,
        });
        let fs_ref = Filesystem::new(vfs, "9p", abi_linux::make_dev(0, minor), fs);
        Ok((fs_ref, root_ref))
    }

    /// The filesystem's counters.
    pub fn stats(&self) -> &Arc<GoferStats> {
        &self.shared.stats
    }

    /// The connection (its [`crate::ClientStats`] count the requests).
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// The options.
    pub fn options(&self) -> &GoferOptions {
        &self.shared.opts
    }

    /// The number of unreferenced dentries cached.
    pub fn cached_dentries(&self) -> usize {
        lock(&self.shared.lru).len()
    }

    fn dev(&self) -> u64 {
        abi_linux::make_dev(0, self.minor)
    }

    fn read_lock(&self) -> RwLockReadGuard<'_, ()> {
        self.rename_lock
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_lock(&self) -> RwLockWriteGuard<'_, ()> {
        self.rename_lock
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `op`, then evicts what the operation left beyond the cache's
    /// limit (with no lock held).
    fn op<T>(&self, op: impl FnOnce() -> T) -> T {
        let r = op();
        self.shared.evict_excess();
        r
    }

    /// Finds `name` in `dir`: the cached entry (revalidated with the server
    /// in shared mode), else a Twalk. `None` when it does not exist.
    ///
    /// # Preconditions
    ///
    /// `children` is `dir`'s locked map; `dir` is a directory.
    fn lookup_locked(
        &self,
        dir: &GoferDentry,
        children: &mut dentry::Children,
        name: &[u8],
    ) -> Result<Option<Held>, Errno> {
        let shared = self.shared.is_shared();
        match children.map.get(name) {
            Some(Some(child)) if !shared => return Ok(Some(child.revive())),
            Some(None) if !shared => return Ok(None),
            _ => {}
        }
        let fid = match dir.fid().walk(&[name]) {
            Ok(fid) => fid,
            Err(Errno::ENOENT) => {
                if let Some(old) = children.remove(name) {
                    old.vfs_dentry().mark_dead();
                    old.detach();
                }
                children.insert_negative(name, true);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let attr = fid.getattr(getattr::ALL)?;
        if let Some(Some(child)) = children.map.get(name) {
            if child.inode().ino() == attr.qid.path {
                child.inode().update_from_attr(&attr);
                return Ok(Some(child.revive()));
            }
            // Replaced behind our back: the old dentry names a file that is
            // no longer here.
            if let Some(old) = children.remove(name) {
                old.detach();
            }
        }
        let inode = self.shared.inode_for(&attr);
        let child = GoferDentry::create(&self.shared, fid, inode, Some(dir.held()), name);
        children.insert(name, Arc::clone(child.arc()));
        Ok(Some(child))
    }

    fn lookup(&self, dir: &GoferDentry, name: &[u8]) -> Result<Option<Held>, Errno> {
        let mut children = lock(&dir.children);
        self.lookup_locked(dir, &mut children, name)
    }

    /// The target of symlink `d` (cached outside shared mode).
    fn read_link(&self, d: &GoferDentry) -> Result<Vec<u8>, Errno> {
        if let Some(t) = d
            .inode()
            .cached_target()
            .filter(|_| !self.shared.is_shared())
        {
            return Ok(t);
        }
        let target = d.fid().readlink()?;
        d.inode().cache_target(&target);
        Ok(target)
    }

    /// One step of the walk from `dir` at `rp`'s current component: `dir`
    /// after `.` or a followed relative symlink, the parent after `..`,
    /// else the child.
    ///
    /// # Preconditions
    ///
    /// `rename_lock` is held; `!rp.done()`.
    fn step(&self, rp: &mut ResolvingPath<'_>, dir: &Held) -> PathResult<Held> {
        if !dir.is_dir() {
            return Err(Errno::ENOTDIR.into());
        }
        generic_permission(
            rp.credentials(),
            AccessTypes::EXEC,
            dir.inode().metadata().owner(),
        )?;
        let name = rp.component();
        if name == b"." {
            rp.advance();
            return Ok(dir.clone());
        }
        if name == b".." {
            if rp.check_root(&**dir.arc())? {
                rp.advance();
                return Ok(dir.clone());
            }
            let parent = match dir.parent() {
                Some(p) => p.held(),
                None => dir.clone(),
            };
            rp.check_mount(&**parent.arc())?;
            rp.advance();
            return Ok(parent);
        }
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG.into());
        }
        let name = name.to_vec();
        let child = self.lookup(dir, &name)?.ok_or(Errno::ENOENT)?;
        rp.check_mount(&**child.arc())?;
        if child.is_symlink() && rp.should_follow_symlink() {
            let target = self.read_link(&child)?;
            rp.handle_symlink(&target)?;
            return Ok(dir.clone());
        }
        rp.advance();
        Ok(child)
    }

    fn start(&self, rp: &ResolvingPath<'_>) -> Result<Held, Errno> {
        Ok(ours(&**rp.start())?.held())
    }

    /// Walks every component of `rp`.
    fn walk(&self, rp: &mut ResolvingPath<'_>) -> PathResult<Held> {
        let mut d = self.start(rp)?;
        while !rp.done() {
            d = self.step(rp, &d)?;
        }
        if rp.must_be_dir() && !d.is_dir() {
            return Err(Errno::ENOTDIR.into());
        }
        Ok(d)
    }

    /// Walks all but the final component from `from` and returns the
    /// directory that should contain it.
    fn walk_parent_from(&self, rp: &mut ResolvingPath<'_>, from: Held) -> PathResult<Held> {
        let mut d = from;
        while !rp.done() && !rp.is_final() {
            d = self.step(rp, &d)?;
        }
        if !d.is_dir() {
            return Err(Errno::ENOTDIR.into());
        }
        Ok(d)
    }

    /// [`Self::walk_parent_from`] the start, then search permission on the
    /// parent.
    fn walk_parent(&self, rp: &mut ResolvingPath<'_>) -> PathResult<Held> {
        let start = self.start(rp)?;
        let parent = self.walk_parent_from(rp, start)?;
        generic_permission(
            rp.credentials(),
            AccessTypes::EXEC,
            parent.inode().metadata().owner(),
        )?;
        Ok(parent)
    }

    /// Refreshes `d`'s metadata in shared mode.
    fn revalidate(&self, d: &GoferDentry) -> Result<(), Errno> {
        if self.shared.is_shared() {
            let attr = d.fid().getattr(getattr::ALL)?;
            d.inode().update_from_attr(&attr);
        }
        Ok(())
    }

    /// Creates the final component of `rp` with Linux's errno order
    /// (`EEXIST`, then `ENOENT` for a dead directory, `EROFS`, `EACCES`);
    /// `make` issues the RPC given the parent, the name and the group.
    fn create_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        is_dir: bool,
        link_from: Option<&MountRef>,
        make: impl FnOnce(&GoferDentry, &[u8], u32) -> Result<(), Errno>,
    ) -> PathResult<()> {
        let _guard = self.read_lock();
        let parent = self.walk_parent(rp)?;
        let name = rp.component().to_vec();
        if is_dot_or_dotdot(&name) {
            return Err(Errno::EEXIST.into());
        }
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG.into());
        }
        let mut children = lock(&parent.children);
        if self.lookup_locked(&parent, &mut children, &name)?.is_some() {
            return Err(Errno::EEXIST.into());
        }
        if (rp.must_be_dir() && !is_dir) || parent.vfs_dentry().is_dead() {
            return Err(Errno::ENOENT.into());
        }
        rp.mount().check_writable()?;
        // A hard link's target must be seen through the mount the new name
        // is on, known only now that the walk has reached the parent.
        if link_from.is_some_and(|mount| !MountRef::ptr_eq(mount, rp.mount())) {
            return Err(Errno::EXDEV.into());
        }
        let pmeta = parent.inode().metadata();
        generic_permission(
            rp.credentials(),
            AccessTypes::WRITE | AccessTypes::EXEC,
            pmeta.owner(),
        )?;
        make(&parent, &name, new_gid(rp.credentials(), &pmeta))?;
        children.remove(&name);
        drop(children);
        self.touch_dir(ctx, &parent, if is_dir { 1 } else { 0 });
        Ok(())
    }

    /// Records a change of directory `d` outside shared mode: new c/mtime
    /// and `nlink_delta` more subdirectories.
    fn touch_dir(&self, ctx: &dyn Context, d: &GoferDentry, nlink_delta: i64) {
        if self.shared.is_shared() {
            return;
        }
        lock(&d.listing).invalidate();
        let now = ctx.now();
        d.inode().update(|m| {
            m.mtime = now;
            m.ctime = now;
            m.nlink = m.nlink.saturating_add_signed(nlink_delta);
        });
    }

    /// Linux `may_delete` for removing `child` from `parent`.
    fn may_delete(
        creds: &Credentials,
        parent: &GoferDentry,
        child: &GoferDentry,
        is_dir: bool,
    ) -> Result<(), Errno> {
        let p = parent.inode().metadata();
        generic_permission(creds, AccessTypes::WRITE | AccessTypes::EXEC, p.owner())?;
        let c = child.inode().metadata();
        check_delete_sticky(creds, p.owner(), c.uid, c.gid)?;
        match (is_dir, child.is_dir()) {
            (true, false) => Err(Errno::ENOTDIR),
            (false, true) => Err(Errno::EISDIR),
            _ => Ok(()),
        }
    }

    /// `unlink` and `rmdir`.
    fn remove_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        dir: bool,
    ) -> PathResult<()> {
        let _guard = self.read_lock();
        let parent = self.walk_parent(rp)?;
        let name = rp.component().to_vec();
        match (&name[..], dir) {
            (b".", true) => return Err(Errno::EINVAL.into()),
            (b"..", true) => return Err(Errno::ENOTEMPTY.into()),
            (n, false) if is_dot_or_dotdot(n) => return Err(Errno::EISDIR.into()),
            _ => {}
        }
        rp.mount().check_writable()?;
        let mut children = lock(&parent.children);
        let child = self
            .lookup_locked(&parent, &mut children, &name)?
            .ok_or(Errno::ENOENT)?;
        if !dir && rp.must_be_dir() {
            return Err(if child.is_dir() {
                Errno::EISDIR
            } else {
                Errno::ENOTDIR
            }
            .into());
        }
        Self::may_delete(rp.credentials(), &parent, &child, dir)?;
        let guard = DeleteGuard::prepare(child.vfs_dentry())?;
        let flags = if dir { libc::AT_REMOVEDIR as u32 } else { 0 };
        parent.fid().unlinkat(&name, flags)?;
        children.remove(&name);
        children.insert_negative(&name, true);
        child.detach();
        guard.commit();
        drop(children);
        if !dir && !self.shared.is_shared() {
            let now = ctx.now();
            child.inode().update(|m| {
                m.nlink = m.nlink.saturating_sub(1);
                m.ctime = now;
            });
        }
        self.touch_dir(ctx, &parent, if dir { -1 } else { 0 });
        Ok(())
    }

    /// Opens an existing file with Linux's `may_open` rules.
    fn open_existing(
        &self,
        ctx: &dyn Context,
        rp: &ResolvingPath<'_>,
        d: &Held,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        let flags = opts.flags;
        let writes = flags.access_mode() != abi_linux::AccessMode::ReadOnly
            || flags.contains(OpenFlags::TRUNC);
        let ty = d.file_type();
        if flags.contains(OpenFlags::DIRECTORY) && ty != Some(FileType::Directory) {
            return Err(Errno::ENOTDIR.into());
        }
        match ty {
            Some(FileType::Symlink) => return Err(Errno::ELOOP.into()),
            Some(FileType::Directory) if writes => return Err(Errno::EISDIR.into()),
            _ => {}
        }
        if writes && matches!(ty, Some(FileType::Regular | FileType::Directory)) {
            rp.mount().check_writable()?;
        }
        generic_permission(
            rp.credentials(),
            AccessTypes::for_open_flags(flags, opts.file_exec),
            d.inode().metadata().owner(),
        )?;
        match ty {
            Some(FileType::Directory) => {
                self.shared.stats.opens.fetch_add(1, Ordering::Relaxed);
                let dref = d.clone().into_dentry_ref();
                let imp = Box::new(open_directory(Arc::clone(d.arc())));
                let file = FileDescription::new(
                    flags,
                    rp.mount(),
                    &dref,
                    FileDescriptionOptions::default(),
                    imp,
                );
                dref.release(ctx);
                Ok(file)
            }
            Some(FileType::Regular) => {
                let read = flags.access_mode() != abi_linux::AccessMode::WriteOnly;
                let write = flags.access_mode() != abi_linux::AccessMode::ReadOnly;
                d.inode().ensure_handles(
                    &d.fid(),
                    read,
                    write || flags.contains(OpenFlags::TRUNC),
                )?;
                if flags.contains(OpenFlags::TRUNC) {
                    self.truncate(ctx, d, 0)?;
                }
                Ok(self.new_regular_file(ctx, rp.mount(), d, flags))
            }
            Some(ft @ (FileType::CharDevice | FileType::BlockDevice)) => {
                let kind = if ft == FileType::CharDevice {
                    DeviceKind::Char
                } else {
                    DeviceKind::Block
                };
                let rdev = d.inode().metadata().rdev;
                let dref = d.clone().into_dentry_ref();
                let r = rp.vfs().open_device_special_file(
                    ctx,
                    rp.mount(),
                    &dref,
                    kind,
                    abi_linux::dev_major(rdev),
                    abi_linux::dev_minor(rdev),
                    opts,
                );
                dref.release(ctx);
                r.map_err(Into::into)
            }
            // FIFOs and sockets need the sentry's pipes and sockets.
            _ => Err(Errno::ENXIO.into()),
        }
    }

    fn new_regular_file(
        &self,
        ctx: &dyn Context,
        mount: &MountRef,
        d: &Held,
        flags: OpenFlags,
    ) -> FileRef {
        let stats = &self.shared.stats;
        stats.opens.fetch_add(1, Ordering::Relaxed);
        if d.inode().has_host_fd() {
            stats.opens_host.fetch_add(1, Ordering::Relaxed);
        } else {
            stats.opens_9p.fetch_add(1, Ordering::Relaxed);
        }
        let dref = d.clone().into_dentry_ref();
        let imp = Box::new(RegularFile::new(Arc::clone(d.arc())));
        let opts = FileDescriptionOptions {
            allow_direct_io: true,
            ..FileDescriptionOptions::default()
        };
        let file = FileDescription::new(flags, mount, &dref, opts, imp);
        dref.release(ctx);
        file
    }

    /// Truncates `d` on the server and in the caches.
    fn truncate(&self, ctx: &dyn Context, d: &GoferDentry, size: u64) -> Result<(), Errno> {
        d.fid().setattr(&SetAttr {
            valid: setattr::SIZE | setattr::MTIME | setattr::CTIME,
            size,
            ..SetAttr::default()
        })?;
        d.inode().truncate_cache(size)?;
        if self.shared.is_shared() {
            self.revalidate(d)?;
        } else {
            let now = ctx.now();
            d.inode().update(|m| {
                m.mtime = now;
                m.ctime = now;
            });
        }
        Ok(())
    }

    /// The `O_CREAT` path of `open`: follows a final symlink unless
    /// `O_EXCL`, creates the file with Tlcreate if it is missing.
    fn open_create(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        let _guard = self.read_lock();
        let mut dir = self.start(rp)?;
        loop {
            dir = self.walk_parent_from(rp, dir)?;
            if rp.done() {
                return Err(Errno::EISDIR.into());
            }
            generic_permission(
                rp.credentials(),
                AccessTypes::EXEC,
                dir.inode().metadata().owner(),
            )?;
            let name = rp.component().to_vec();
            if is_dot_or_dotdot(&name) || rp.must_be_dir() {
                return Err(Errno::EISDIR.into());
            }
            if name.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG.into());
            }
            let mut children = lock(&dir.children);
            match self.lookup_locked(&dir, &mut children, &name)? {
                Some(child) => {
                    drop(children);
                    if opts.flags.contains(OpenFlags::EXCL) {
                        return Err(Errno::EEXIST.into());
                    }
                    rp.check_mount(&**child.arc())?;
                    if child.is_symlink() && rp.should_follow_symlink() {
                        let target = self.read_link(&child)?;
                        rp.handle_symlink(&target)?;
                        continue;
                    }
                    rp.advance();
                    return self.open_existing(ctx, rp, &child, opts);
                }
                None => {
                    if dir.vfs_dentry().is_dead() {
                        return Err(Errno::ENOENT.into());
                    }
                    rp.mount().check_writable()?;
                    let pmeta = dir.inode().metadata();
                    let creds = rp.credentials();
                    generic_permission(
                        creds,
                        AccessTypes::WRITE | AccessTypes::EXEC,
                        pmeta.owner(),
                    )?;
                    let read = opts.flags.access_mode() != abi_linux::AccessMode::WriteOnly;
                    let write = opts.flags.access_mode() != abi_linux::AccessMode::ReadOnly;
                    let mut handle = dir.fid().walk::<&[u8]>(&[])?;
                    let create_flags = opts.flags & (OpenFlags::ACCMODE | OpenFlags::EXCL);
                    handle.lcreate(
                        &name,
                        create_flags.bits(),
                        opts.mode & 0o7777,
                        new_gid(creds, &pmeta),
                    )?;
                    let fid = dir.fid().walk(&[&name[..]])?;
                    let attr = fid.getattr(getattr::ALL)?;
                    let inode = self.shared.inode_for(&attr);
                    inode.adopt_handle(handle, read, write);
                    let child =
                        GoferDentry::create(&self.shared, fid, inode, Some(dir.clone()), &name);
                    children.insert(&name, Arc::clone(child.arc()));
                    drop(children);
                    self.touch_dir(ctx, &dir, 0);
                    rp.advance();
                    if read || write {
                        child.inode().ensure_handles(&child.fid(), read, write)?;
                    }
                    return Ok(self.new_regular_file(ctx, rp.mount(), &child, opts.flags));
                }
            }
        }
    }

    /// `set_stat` of `d`, by path or by file.
    fn set_stat_dentry(
        &self,
        ctx: &dyn Context,
        d: &GoferDentry,
        mut opts: SetStatOptions,
    ) -> Result<(), Errno> {
        let mask = StatxMask::from_bits_retain(opts.stat.stx_mask);
        if mask.contains(StatxMask::SIZE) {
            match d.file_type() {
                Some(FileType::Directory) => return Err(Errno::EISDIR),
                Some(FileType::Regular) => {}
                _ => return Err(Errno::EINVAL),
            }
        }
        check_set_stat(ctx, &mut opts, d.inode().metadata().owner())?;
        let st = opts.stat;
        let mut sa = SetAttr::default();
        if mask.contains(StatxMask::MODE) {
            sa.valid |= setattr::MODE;
            sa.mode = u32::from(st.stx_mode) & 0o7777;
        }
        if mask.contains(StatxMask::UID) {
            sa.valid |= setattr::UID;
            sa.uid = st.stx_uid;
        }
        if mask.contains(StatxMask::GID) {
            sa.valid |= setattr::GID;
            sa.gid = st.stx_gid;
        }
        if mask.contains(StatxMask::SIZE) {
            sa.valid |= setattr::SIZE | setattr::MTIME;
            sa.size = st.stx_size;
            // Dirty pages past the new size must not resurrect bytes later.
            d.inode()
                .truncate_cache(d.inode().metadata().size.min(st.stx_size))?;
        }
        let mut time = |field: StatxMask,
                        ts: abi_linux::StatxTimestamp,
                        now_bit: u32,
                        set_bit: u32|
         -> (u64, u64) {
            if mask.contains(field) && ts.tv_nsec != UTIME_OMIT {
                sa.valid |= now_bit;
                if ts.tv_nsec != UTIME_NOW {
                    sa.valid |= set_bit;
                    return (u64::try_from(ts.tv_sec).unwrap_or(0), u64::from(ts.tv_nsec));
                }
            }
            (0, 0)
        };
        let (asec, ansec) = time(
            StatxMask::ATIME,
            st.stx_atime,
            setattr::ATIME,
            setattr::ATIME_SET,
        );
        let (msec, mnsec) = time(
            StatxMask::MTIME,
            st.stx_mtime,
            setattr::MTIME,
            setattr::MTIME_SET,
        );
        sa.atime = crate::message::Timespec {
            sec: asec,
            nsec: ansec,
        };
        sa.mtime = crate::message::Timespec {
            sec: msec,
            nsec: mnsec,
        };
        if sa.valid == 0 {
            return Ok(());
        }
        sa.valid |= setattr::CTIME;
        d.fid().setattr(&sa)?;
        if mask.contains(StatxMask::SIZE) {
            d.inode().truncate_cache(st.stx_size)?;
        }
        // The server applied the change (and Linux's side effects, such as
        // chown clearing set-user-ID): take its view of the result.
        let attr = d.fid().getattr(getattr::ALL)?;
        d.inode().update_from_attr(&attr);
        Ok(())
    }

    fn stat_dentry(&self, d: &GoferDentry, mnt_id: u64) -> Result<Statx, Errno> {
        if self.shared.is_shared() {
            // A full Rgetattr, block count included.
            self.revalidate(d)?;
        } else {
            d.inode().refresh_blocks(&d.fid())?;
        }
        Ok(d.inode().statx(self.dev(), mnt_id))
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        let root = lock(&self.root).clone().ok_or(Errno::EIO)?;
        let s = root.fid().statfs()?;
        Ok(Statfs {
            f_type: V9FS_MAGIC,
            f_bsize: i64::from(s.bsize),
            f_blocks: s.blocks,
            f_bfree: s.bfree,
            f_bavail: s.bavail,
            f_files: s.files,
            f_ffree: s.ffree,
            f_fsid: [(s.fsid & 0xffff_ffff) as i32, (s.fsid >> 32) as i32],
            f_namelen: i64::from(s.namelen),
            f_frsize: i64::from(s.bsize),
            ..Statfs::default()
        })
    }

    /// Writes back every cached dirty page and asks the server to sync.
    fn sync_all(&self) -> Result<(), Errno> {
        let mut result = Ok(());
        for inode in self.shared.live_inodes() {
            let Some(h) = inode.any_handle().filter(|_| inode.has_dirty()) else {
                continue;
            };
            if let Err(e) = inode.writeback(0..u64::MAX, &h) {
                result = Err(e);
            }
        }
        result
    }
}

impl FilesystemImpl for GoferFilesystem {
    fn release(&self, _ctx: &dyn Context) {
        // Write back what is dirty while the handles still exist.
        let _ = self.sync_all();
        self.shared.released.store(true, Ordering::Release);
        self.shared.evict_excess();
        if let Some(root) = lock(&self.root).take() {
            DentryImpl::dec_ref(&*root, vfs_core::context::background());
        }
        self.shared.evict_excess();
        if let Some(vfs) = self.vfs.upgrade() {
            vfs.put_anonymous_block_dev_minor(self.minor);
        }
    }

    fn sync(&self, _ctx: &dyn Context) -> Result<(), Errno> {
        self.sync_all()
    }

    fn access_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        access: AccessTypes,
    ) -> PathResult<()> {
        self.op(|| {
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            if access.contains(AccessTypes::WRITE)
                && matches!(
                    d.file_type(),
                    Some(FileType::Regular | FileType::Directory | FileType::Symlink)
                )
            {
                rp.mount().check_writable()?;
            }
            generic_permission(rp.credentials(), access, d.inode().metadata().owner())?;
            Ok(())
        })
    }

    fn get_dentry_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: GetDentryOptions,
    ) -> PathResult<DentryRef> {
        self.op(|| {
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            if opts.check_searchable {
                if !d.is_dir() {
                    return Err(Errno::ENOTDIR.into());
                }
                generic_permission(
                    rp.credentials(),
                    AccessTypes::EXEC,
                    d.inode().metadata().owner(),
                )?;
            }
            Ok(d.into_dentry_ref())
        })
    }

    fn get_parent_dentry_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<DentryRef> {
        self.op(|| {
            let _g = self.read_lock();
            Ok(self.walk_parent(rp)?.into_dentry_ref())
        })
    }

    fn link_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        target: &VirtualDentry,
    ) -> PathResult<()> {
        self.op(|| {
            let target_mount = &target.mount;
            let target_dentry = &target.dentry;
            let creds = ctx.credentials();
            // The walk comes first: the new name may lie on another mount,
            // whose filesystem then answers (a target of another
            // filesystem is `EXDEV` only once the walk stays here).
            self.create_at(ctx, rp, false, Some(target_mount), |parent, name, _gid| {
                let target = ours(&**target_dentry)?.held();
                if target.is_dir() {
                    return Err(Errno::EPERM);
                }
                let meta = target.inode().metadata();
                may_link(creds, meta.owner())?;
                if meta.nlink == 0 {
                    return Err(Errno::ENOENT);
                }
                parent.fid().link(&target.fid(), name)?;
                if !self.shared.is_shared() {
                    let now = ctx.now();
                    target.inode().update(|m| {
                        m.nlink += 1;
                        m.ctime = now;
                    });
                }
                Ok(())
            })
        })
    }

    fn mkdir_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: MkdirOptions,
    ) -> PathResult<()> {
        self.op(|| {
            self.create_at(ctx, rp, true, None, |parent, name, gid| {
                parent.fid().mkdir(name, opts.mode & 0o1777, gid).map(drop)
            })
        })
    }

    fn mknod_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: MknodOptions,
    ) -> PathResult<()> {
        self.op(|| {
            let ft = match opts.mode & abi_linux::S_IFMT {
                0 => FileType::Regular,
                abi_linux::S_IFDIR => return Err(Errno::EPERM.into()),
                bits => FileType::from_mode_bits(bits).ok_or(Errno::EINVAL)?,
            };
            if ft == FileType::Symlink {
                return Err(Errno::EINVAL.into());
            }
            let creds = ctx.credentials();
            self.create_at(ctx, rp, false, None, |parent, name, gid| {
                if matches!(ft, FileType::CharDevice | FileType::BlockDevice)
                    && !creds.has_capability(Capability::MKNOD)
                {
                    return Err(Errno::EPERM);
                }
                let mode = ft.mode_bits() | (opts.mode & 0o7777);
                parent
                    .fid()
                    .mknod(name, mode, opts.dev_major, opts.dev_minor, gid)
                    .map(drop)
            })
        })
    }

    fn open_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        self.op(|| {
            if opts.flags.contains(OpenFlags::CREAT) {
                return self.open_create(ctx, rp, opts);
            }
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            self.open_existing(ctx, rp, &d, opts)
        })
    }

    fn readlink_at(&self, _ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Vec<u8>> {
        self.op(|| {
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            if !d.is_symlink() {
                return Err(Errno::EINVAL.into());
            }
            Ok(self.read_link(&d)?)
        })
    }

    fn rename_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        old_parent: &VirtualDentry,
        old_name: &[u8],
        opts: RenameOptions,
    ) -> PathResult<()> {
        self.op(|| {
            // 9P has no exchange (gVisor refuses it on gofer mounts too).
            if !(opts.flags - RenameFlags::NOREPLACE).is_empty() {
                return Err(Errno::EINVAL.into());
            }
            let _g = self.write_lock();
            let new_parent = self.walk_parent(rp)?;
            vfs_core::check_rename_names(rp, old_parent, old_name, opts)?;
            let new_name = rp.component().to_vec();
            let creds = rp.credentials();
            let old_parent = ours(&*old_parent.dentry)?.held();
            generic_permission(
                creds,
                AccessTypes::EXEC,
                old_parent.inode().metadata().owner(),
            )?;
            let old = self.lookup(&old_parent, old_name)?.ok_or(Errno::ENOENT)?;
            let new = self.lookup(&new_parent, &new_name)?;
            if opts.flags.contains(RenameFlags::NOREPLACE) && new.is_some() {
                return Err(Errno::EEXIST.into());
            }
            if !old.is_dir() && (opts.must_be_dir || rp.must_be_dir()) {
                return Err(Errno::ENOTDIR.into());
            }
            if old.is_ancestor_of(new_parent.arc()) {
                return Err(Errno::EINVAL.into());
            }
            if let Some(new) = &new {
                if new.is_ancestor_of(old_parent.arc()) {
                    return Err(Errno::ENOTEMPTY.into());
                }
                if Arc::ptr_eq(old.inode(), new.inode()) {
                    return Ok(());
                }
            }
            Self::may_delete(creds, &old_parent, &old, old.is_dir())?;
            match &new {
                None => generic_permission(
                    creds,
                    AccessTypes::WRITE | AccessTypes::EXEC,
                    new_parent.inode().metadata().owner(),
                )?,
                Some(new) => Self::may_delete(creds, &new_parent, new, old.is_dir())?,
            }
            let moves = !Arc::ptr_eq(old_parent.arc(), new_parent.arc());
            if moves && old.is_dir() {
                generic_permission(creds, AccessTypes::WRITE, old.inode().metadata().owner())?;
            }
            let guard =
                RenameGuard::prepare(old.vfs_dentry(), new.as_ref().map(|n| n.vfs_dentry()))?;
            // Trename on the moved file's own fid keeps that fid naming it
            // on servers that track fids by path (diod); Trenameat is the
            // fallback for servers without Trename.
            match old.fid().rename(&new_parent.fid(), &new_name) {
                Err(Errno::EOPNOTSUPP | Errno::ENOSYS) => {
                    old_parent
                        .fid()
                        .renameat(old_name, &new_parent.fid(), &new_name)?;
                    // A server that names fids by path and has no Trename
                    // (unpfs) leaves the moved file's fid on the old path:
                    // walk it again. The rename is done either way, so a
                    // failed walk keeps the old fid rather than failing.
                    if let Ok(f) = new_parent.fid().walk(&[&new_name[..]]) {
                        old.replace_fid(f);
                    }
                }
                r => r?,
            }
            if old.is_dir() {
                // Its `..` changes.
                lock(&old.listing).invalidate();
                // Fids below a moved directory may still name the old path
                // on such servers: walk them again.
                let mut oc = lock(&old.children);
                let names: Vec<Vec<u8>> = oc.map.keys().cloned().collect();
                for name in names {
                    if let Some(child) = oc.remove(&name) {
                        child.detach();
                    }
                }
            }
            // Move the cached entries (the write side of rename_lock keeps
            // every walk out, so taking both maps one at a time is safe).
            lock(&old_parent.children).remove(old_name);
            lock(&old_parent.children).insert_negative(old_name, true);
            {
                let mut nc = lock(&new_parent.children);
                if let Some(replaced) = nc.remove(&new_name) {
                    replaced.detach();
                }
                nc.insert(&new_name, Arc::clone(old.arc()));
            }
            let prev_parent = {
                let mut links = lock(&old.links);
                links.name = new_name.clone();
                links.parent.replace(Arc::clone(new_parent.arc()))
            };
            // The moved dentry now counts its new parent instead of the old.
            new_parent.inc_count();
            if let Some(p) = prev_parent {
                p.dec_count();
            }
            guard.commit_replace();
            if let Some(new) = new
                .as_ref()
                .filter(|n| !n.is_dir() && !self.shared.is_shared())
            {
                new.inode().update(|m| m.nlink = m.nlink.saturating_sub(1));
            }
            let dir_delta = i64::from(old.is_dir() && moves);
            let replaced_dir = i64::from(new.as_ref().is_some_and(|n| n.is_dir()));
            self.touch_dir(ctx, &old_parent, -dir_delta);
            self.touch_dir(ctx, &new_parent, dir_delta - replaced_dir);
            if !self.shared.is_shared() {
                let now = ctx.now();
                old.inode().update(|m| m.ctime = now);
            }
            Ok(())
        })
    }

    fn rmdir_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        self.op(|| self.remove_at(ctx, rp, true))
    }

    fn set_stat_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: SetStatOptions,
    ) -> PathResult<()> {
        self.op(|| {
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            if StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::SIZE)
                && d.is_dir()
            {
                return Err(Errno::EISDIR.into());
            }
            rp.mount().check_writable()?;
            self.set_stat_dentry(ctx, &d, opts)?;
            Ok(())
        })
    }

    fn stat_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        _opts: StatOptions,
    ) -> PathResult<Statx> {
        self.op(|| {
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            Ok(self.stat_dentry(&d, rp.mount().id())?)
        })
    }

    fn statfs_at(&self, _ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Statfs> {
        self.op(|| {
            let _g = self.read_lock();
            self.walk(rp)?;
            Ok(self.statfs()?)
        })
    }

    fn symlink_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        target: &[u8],
    ) -> PathResult<()> {
        self.op(|| {
            self.create_at(ctx, rp, false, None, |parent, name, gid| {
                parent.fid().symlink(name, target, gid).map(drop)
            })
        })
    }

    fn unlink_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        self.op(|| self.remove_at(ctx, rp, false))
    }

    fn list_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<Vec<Vec<u8>>> {
        self.op(|| {
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            Ok(d.fid().list_xattr()?)
        })
    }

    fn get_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: &GetXattrOptions,
    ) -> PathResult<Vec<u8>> {
        self.op(|| {
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            check_xattr_permissions(
                rp.credentials(),
                AccessTypes::READ,
                d.inode().metadata().owner(),
                &opts.name,
            )?;
            Ok(d.fid().get_xattr(&opts.name)?)
        })
    }

    fn set_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: &SetXattrOptions,
    ) -> PathResult<()> {
        self.op(|| {
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            rp.mount().check_writable()?;
            check_xattr_permissions(
                rp.credentials(),
                AccessTypes::WRITE,
                d.inode().metadata().owner(),
                &opts.name,
            )?;
            let mut flags = 0;
            if opts.flags.contains(XattrFlags::CREATE) {
                flags |= XATTR_CREATE;
            }
            if opts.flags.contains(XattrFlags::REPLACE) {
                flags |= XATTR_REPLACE;
            }
            d.fid().set_xattr(&opts.name, &opts.value, flags)?;
            Ok(())
        })
    }

    fn remove_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        name: &[u8],
    ) -> PathResult<()> {
        self.op(|| {
            let _g = self.read_lock();
            let d = self.walk(rp)?;
            rp.mount().check_writable()?;
            check_xattr_permissions(
                rp.credentials(),
                AccessTypes::WRITE,
                d.inode().metadata().owner(),
                name,
            )?;
            d.fid().remove_xattr(name)?;
            Ok(())
        })
    }

    fn parent_and_name(&self, dentry: &dyn DentryImpl) -> Option<(DentryRef, Vec<u8>)> {
        let d = ours(dentry).ok()?;
        let links = lock(&d.links);
        let parent = links.parent.as_ref()?;
        Some((parent.held().into_dentry_ref(), links.name.clone()))
    }

    fn mount_options(&self) -> String {
        let cache = match self.shared.opts.interop {
            InteropMode::Exclusive => "fscache",
            InteropMode::Writethrough => "fscache_writethrough",
            InteropMode::Shared => "remote_revalidating",
        };
        format!("trans=fd,cache={cache}")
    }
}

/// The filesystem of an open file.
pub(crate) fn fs_of(fd: &FileDescription) -> Result<&GoferFilesystem, Errno> {
    fd.mount()
        .filesystem()
        .downcast::<GoferFilesystem>()
        .ok_or(Errno::EXDEV)
}

impl GoferFilesystem {
    /// `fstat` (shared with the file implementations).
    pub(crate) fn stat_file(&self, d: &GoferDentry, fd: &FileDescription) -> Result<Statx, Errno> {
        self.stat_dentry(d, fd.mount().id())
    }

    /// `fchmod`/`fchown`/`futimens`/`ftruncate`.
    pub(crate) fn set_stat_file(
        &self,
        ctx: &dyn Context,
        d: &GoferDentry,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        if StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::SIZE)
            && !fd.is_writable()
        {
            return Err(Errno::EINVAL);
        }
        self.set_stat_dentry(ctx, d, opts)
    }

    /// `fstatfs`.
    pub(crate) fn statfs_file(&self) -> Result<Statfs, Errno> {
        self.statfs()
    }

    /// The shared state.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}
