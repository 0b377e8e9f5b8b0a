//! [`Filesystem`]: the state kernfs keeps per filesystem instance: the
//! filesystem lock, the LRU of unreferenced dentries, the deferred
//! dec-refs, inode numbers and the device number.
//!
//! # Locking
//!
//! The filesystem lock (`lock`) is a reader-writer lock. Path walks,
//! lookups, `stat`, `open` without `O_CREAT` and the like hold it for
//! reading; operations that change the tree (create, link, unlink, rename,
//! cache eviction, destruction of dentries) hold it for writing. The LRU
//! lives inside it, so it is only changed by writers.
//!
//! A dentry whose count reaches zero is pushed onto `deferred` (a leaf
//! mutex) and examined by [`Filesystem::process_deferred_dec_refs`], which
//! takes the lock for writing only if it is free; every operation calls it
//! after releasing the lock, so entries queued while the lock was held are
//! processed by whoever held it.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use abi_linux::{Errno, Statfs};
use vfs_core::{Context, DentryRef, FilesystemRef, VirtualFilesystem, path::NAME_MAX};

use crate::dentry::Dentry;
use crate::inode::Inode;

/// Options of a kernfs filesystem.
#[derive(Clone, Debug)]
pub struct FilesystemOptions {
    /// How many unreferenced dentries stay cached; 0 disables caching.
    pub max_cached_dentries: usize,
    /// The magic number `statfs` reports (`PROC_SUPER_MAGIC`, ...).
    pub magic: i64,
    /// The options shown in `/proc/self/mounts`.
    pub mount_options: String,
}

impl Default for FilesystemOptions {
    fn default() -> Self {
        Self {
            max_cached_dentries: 1000,
            magic: 0,
            mount_options: String::new(),
        }
    }
}

/// The state guarded by the filesystem lock.
pub(crate) struct Cache {
    /// Unreferenced dentries, least recently used first.
    lru: BTreeMap<u64, Arc<Dentry>>,
    next_stamp: u64,
}

/// A kernfs filesystem instance. It implements
/// [`vfs_core::FilesystemImpl`] for every filesystem built on kernfs.
pub struct Filesystem {
    vfs: Weak<VirtualFilesystem>,
    dev_minor: u32,
    pub(crate) lock: spin::RwLock<Cache>,
    deferred: spin::Mutex<Vec<Arc<Dentry>>>,
    next_ino: AtomicU64,
    opts: FilesystemOptions,
}

impl Filesystem {
    /// A new filesystem with an anonymous device number from `vfs`.
    pub fn new(vfs: &Arc<VirtualFilesystem>, opts: FilesystemOptions) -> Result<Arc<Self>, Errno> {
        let dev_minor = vfs.get_anonymous_block_dev_minor()?;
        Ok(Arc::new(Self {
            vfs: Arc::downgrade(vfs),
            dev_minor,
            lock: spin::RwLock::new(Cache {
                lru: BTreeMap::new(),
                next_stamp: 1,
            }),
            deferred: spin::Mutex::new(Vec::new()),
            next_ino: AtomicU64::new(1),
            opts,
        }))
    }

    /// Wraps the filesystem in a VFS filesystem of type `fs_type` and
    /// creates its root dentry for `root`: what
    /// [`vfs_core::FilesystemType::get_filesystem`] returns.
    pub fn into_vfs(
        self: &Arc<Self>,
        vfs: &Arc<VirtualFilesystem>,
        fs_type: &str,
        root: Arc<dyn Inode>,
    ) -> (FilesystemRef, DentryRef) {
        let vfs_fs = vfs_core::Filesystem::new(vfs, fs_type, self.dev(), Arc::clone(self) as _);
        let root = self.new_root(root);
        (vfs_fs, root)
    }

    /// A root dentry for `inode`, with one reference: the root of a
    /// filesystem, or of a tree to be filled and walked with
    /// [`Self::walk_dentry_tree`] before it is mounted.
    pub fn new_root(self: &Arc<Self>, inode: Arc<dyn Inode>) -> DentryRef {
        DentryRef::adopt(Dentry::new(self, inode, None, b""))
    }

    /// A fresh inode number.
    pub fn next_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }

    /// The device number files report.
    pub fn dev(&self) -> u64 {
        abi_linux::make_dev(0, self.dev_minor)
    }

    /// The options the filesystem was created with.
    pub fn options(&self) -> &FilesystemOptions {
        &self.opts
    }

    /// The VFS, while it exists.
    pub fn vfs(&self) -> Option<Arc<VirtualFilesystem>> {
        self.vfs.upgrade()
    }

    /// `statfs` for a filesystem without blocks (gVisor's `GenericStatFS`).
    pub fn generic_statfs(&self) -> Statfs {
        Statfs {
            f_type: self.opts.magic,
            f_bsize: 4096,
            f_frsize: 4096,
            f_namelen: NAME_MAX as i64,
            f_fsid: [self.dev_minor as i32, 0],
            ..Statfs::default()
        }
    }

    /// The number of dentries in the LRU.
    pub fn cached_dentries(&self) -> usize {
        self.lock.read().lru.len()
    }

    // ---- Deferred dec-refs and the LRU -------------------------------------

    /// Queues `dentry`, whose count just reached zero, and processes the
    /// queue if the filesystem lock is free.
    pub(crate) fn defer_zero_ref(&self, ctx: &dyn Context, dentry: Arc<Dentry>) {
        self.deferred.lock().push(dentry);
        self.process_deferred_dec_refs(ctx);
    }

    /// Examines every queued dentry under the filesystem lock held for
    /// writing (gVisor's `processDeferredDecRefs`). Returns without doing
    /// anything when the lock is held: its holder calls this after
    /// releasing it.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is not held by the caller, or the caller calls
    /// this again after releasing it.
    pub fn process_deferred_dec_refs(&self, ctx: &dyn Context) {
        loop {
            if self.deferred.lock().is_empty() {
                return;
            }
            let Some(mut cache) = self.lock.try_write() else {
                return;
            };
            let pending = core::mem::take(&mut *self.deferred.lock());
            for dentry in pending {
                self.cache_locked(&mut cache, ctx, dentry);
            }
        }
    }

    /// Runs `op` with the filesystem lock held for reading, then processes
    /// the dec-refs it deferred.
    pub(crate) fn with_read<R>(&self, ctx: &dyn Context, op: impl FnOnce() -> R) -> R {
        let result = {
            let _guard = self.lock.read();
            op()
        };
        self.process_deferred_dec_refs(ctx);
        result
    }

    /// Runs `op` with the filesystem lock held for writing, then processes
    /// the dec-refs it deferred.
    pub(crate) fn with_write<R>(&self, ctx: &dyn Context, op: impl FnOnce(&mut Cache) -> R) -> R {
        let result = {
            let mut guard = self.lock.write();
            op(&mut guard)
        };
        self.process_deferred_dec_refs(ctx);
        result
    }

    /// Decides the fate of a dentry whose count reached zero (gVisor's
    /// `cacheLocked`): nothing if it was revived or destroyed meanwhile;
    /// destruction if it is dead, parentless, not to be kept or caching is
    /// off; otherwise it goes to the back of the LRU, evicting from the
    /// front while the LRU is over its bound.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held for writing (`cache` is its content).
    fn cache_locked(&self, cache: &mut Cache, ctx: &dyn Context, dentry: Arc<Dentry>) {
        let _ = ctx;
        self.settle_locked(cache, alloc::vec![dentry]);
    }

    /// [`Self::cache_locked`] for every dentry in `work` and for the
    /// parents whose count destruction brings to zero.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held for writing.
    fn settle_locked(&self, cache: &mut Cache, mut work: Vec<Arc<Dentry>>) {
        while let Some(dentry) = work.pop() {
            if dentry.raw_refs() != 0 {
                continue;
            }
            let parentless = dentry.tree.lock().parent.is_none();
            if dentry.vfs().is_dead()
                || parentless
                || !dentry.inode().keep()
                || self.opts.max_cached_dentries == 0
            {
                self.destroy_locked(cache, dentry, &mut work);
                continue;
            }
            let old = dentry.lru_stamp.load(Ordering::Acquire);
            if old != 0 {
                cache.lru.remove(&old);
            }
            let stamp = cache.next_stamp;
            cache.next_stamp += 1;
            dentry.lru_stamp.store(stamp, Ordering::Release);
            cache.lru.insert(stamp, dentry);
            while cache.lru.len() > self.opts.max_cached_dentries {
                let Some((_, victim)) = cache.lru.pop_first() else {
                    break;
                };
                victim.lru_stamp.store(0, Ordering::Release);
                // A victim revived by a lookup just leaves the LRU.
                if victim.raw_refs() == 0 {
                    // Invalidate it as the VFS does an evicted dentry.
                    victim.vfs().mark_dead();
                    self.destroy_locked(cache, victim, &mut work);
                }
            }
        }
    }

    /// Destroys an unreferenced dentry: takes it out of the LRU and of its
    /// parent's children and gives back its reference on the parent, which
    /// `work` then examines.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held for writing.
    fn destroy_locked(&self, cache: &mut Cache, dentry: Arc<Dentry>, work: &mut Vec<Arc<Dentry>>) {
        if !dentry.try_mark_destroyed() {
            return;
        }
        let stamp = dentry.lru_stamp.swap(0, Ordering::AcqRel);
        if stamp != 0 {
            cache.lru.remove(&stamp);
        }
        let (parent, name) = {
            let mut links = dentry.tree.lock();
            (links.parent.take(), core::mem::take(&mut links.name))
        };
        dentry.unregister();
        if let Some(parent) = parent {
            {
                let mut links = parent.tree.lock();
                if links
                    .children
                    .get(&name)
                    .is_some_and(|c| Arc::ptr_eq(c, &dentry))
                {
                    links.children.remove(&name);
                }
            }
            if parent.dec_ref_locked() {
                work.push(parent);
            }
        }
    }

    /// Evicts every unreferenced cached dentry, and the parents left
    /// unreferenced by their eviction (on release, under memory pressure,
    /// in tests).
    pub fn evict_all_cached(&self, ctx: &dyn Context) {
        self.with_write(ctx, |cache| {
            while let Some((_, victim)) = cache.lru.pop_first() {
                victim.lru_stamp.store(0, Ordering::Release);
                if victim.raw_refs() == 0 {
                    victim.vfs().mark_dead();
                    let mut work = Vec::new();
                    self.destroy_locked(cache, victim, &mut work);
                    self.settle_locked(cache, work);
                }
            }
        });
    }

    // ---- Tree access under the lock ---------------------------------------

    /// The child `name` of `parent`: the cached dentry if its inode says
    /// it is still valid, else a new dentry from the inode's lookup
    /// (gVisor's `revalidateChildLocked`). A new dentry's creation
    /// reference is dropped at once; the lock keeps it alive for the rest
    /// of the operation, after which it is cached or (if its inode is not
    /// to be kept) destroyed.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held (either way); `parent` is a directory;
    /// `name` is neither `.` nor `..`.
    pub(crate) fn child_locked(
        self: &Arc<Self>,
        ctx: &dyn Context,
        parent: &Arc<Dentry>,
        name: &[u8],
    ) -> Result<Arc<Dentry>, Errno> {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let cached = parent.tree.lock().children.get(name).cloned();
        if let Some(child) = cached {
            if child.inode().valid(ctx, name) {
                return Ok(child);
            }
            self.invalidate_child_locked(ctx, parent, name, &child);
        }
        if parent.vfs().is_dead() {
            return Err(Errno::ENOENT);
        }
        let inode = parent.inode().lookup(ctx, name)?;
        Ok(self.insert_child_locked(ctx, parent, name, inode))
    }

    /// Takes `child` out of the tree and marks it dead, because its file
    /// vanished or changed behind kernfs's back.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held (either way).
    fn invalidate_child_locked(
        &self,
        ctx: &dyn Context,
        parent: &Arc<Dentry>,
        name: &[u8],
        child: &Arc<Dentry>,
    ) {
        {
            let mut links = parent.tree.lock();
            if links
                .children
                .get(name)
                .is_some_and(|c| Arc::ptr_eq(c, child))
            {
                links.children.remove(name);
            }
        }
        child.vfs().mark_dead();
        // Revive and drop it so that an unreferenced one is examined (and,
        // being dead, destroyed) once the lock is free.
        child.inc_ref_internal();
        vfs_core::DentryImpl::dec_ref(&**child, ctx);
    }

    /// Inserts a new dentry for `inode` as `parent`'s child `name`, or
    /// returns the one a concurrent lookup inserted first.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held (either way).
    pub(crate) fn insert_child_locked(
        self: &Arc<Self>,
        ctx: &dyn Context,
        parent: &Arc<Dentry>,
        name: &[u8],
        inode: Arc<dyn Inode>,
    ) -> Arc<Dentry> {
        let child = Dentry::new(self, inode, Some(parent), name);
        let winner = {
            let mut links = parent.tree.lock();
            match links.children.get(name) {
                Some(existing) => Arc::clone(existing),
                None => {
                    links.children.insert(name.to_vec(), Arc::clone(&child));
                    Arc::clone(&child)
                }
            }
        };
        // The creation reference: examined after the operation.
        vfs_core::DentryImpl::dec_ref(&*child, ctx);
        winner
    }

    /// Removes `child` from `parent`'s children.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held for writing.
    pub(crate) fn remove_child_locked(parent: &Arc<Dentry>, name: &[u8], child: &Arc<Dentry>) {
        let mut links = parent.tree.lock();
        if links
            .children
            .get(name)
            .is_some_and(|c| Arc::ptr_eq(c, child))
        {
            links.children.remove(name);
        }
    }

    /// Walks `path` (components separated by `/`, no symlinks followed,
    /// no `..`) from `root` without a mount: for filling or inspecting a
    /// tree before it is mounted (gVisor's `WalkDentryTree`).
    pub fn walk_dentry_tree(
        self: &Arc<Self>,
        ctx: &dyn Context,
        root: &DentryRef,
        path: &[u8],
    ) -> Result<DentryRef, Errno> {
        let start = Dentry::from_vfs(&**root).ok_or(Errno::EXDEV)?.arc();
        self.with_read(ctx, || {
            let mut d = start;
            for name in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
                if name == b"." {
                    continue;
                }
                if name == b".." {
                    return Err(Errno::EINVAL);
                }
                if !d.inode().is_dir() {
                    return Err(Errno::ENOTDIR);
                }
                d = self.child_locked(ctx, &d, name)?;
            }
            d.inc_ref_internal();
            Ok(DentryRef::adopt(d))
        })
    }
}
