//! The dentry cache of a mounted image: [`ExtDentry`], the shared
//! [`ExtInode`] of hard links, and the LRU of unreferenced dentries.
//!
//! # Reference model
//!
//! - A directory's `children` map holds an `Arc` (memory only, no counted
//!   reference) on each cached child; a child holds an `Arc` on its parent,
//!   so a cached path always reaches the root.
//! - The VFS's counted references ([`DentryRef`]) are the dentry's `refs`.
//!   A dentry whose count drops to zero stays in the tree and enters the
//!   filesystem's LRU (which holds an `Arc`); taking a reference again takes
//!   it out. Only a zero-reference dentry without cached children is ever
//!   evicted, so the parent of a referenced dentry is never evicted and a
//!   path never has two dentries.
//! - Dentries of the same inode number share one [`ExtInode`] (its lock
//!   state and page cache) through a table of weak references.
//! - An evicted dentry's count is set to -1 (destroyed) and it leaves the
//!   leak checker.
//!
//! # Lock order
//!
//! [`Shared::tree`] (read for walks, write for eviction and teardown) →
//! a dentry's `children` → [`Shared::lru`] → [`Shared::inodes`]. Reference
//! operations take only the LRU lock, so references can be dropped with the
//! tree lock held; reviving a zero-reference dentry requires the tree lock
//! (read), which excludes eviction.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

use abi_linux::{Errno, FileMode};
use hashbrown::HashMap;
use vfs_core::lock::FileLocks;
use vfs_core::permissions::FileOwner;
use vfs_core::{Context, Dentry, DentryImpl, DentryRef};

use super::mmap::{Backing, PageCache};
use crate::fs::Ext4;
use crate::inode::{FileType, Inode, InodeNumber};

/// A file of the image, shared by its hard links.
pub struct ExtInode {
    /// The parsed inode record.
    pub(super) raw: Inode,
    /// `flock` and record locks.
    pub(super) locks: FileLocks,
    /// A symlink's target, read on first use.
    target: spin::Once<Result<Vec<u8>, Errno>>,
    /// Pages of the file copied out of the image for `mmap`, when the
    /// image's own pages cannot be mapped.
    pub(super) cache: PageCache,
}

impl ExtInode {
    fn new(raw: Inode, backing: &Arc<Backing>) -> Self {
        ExtInode {
            raw,
            locks: FileLocks::default(),
            target: spin::Once::new(),
            cache: PageCache::new(Arc::clone(backing)),
        }
    }

    /// The inode number.
    pub fn ino(&self) -> InodeNumber {
        self.raw.ino
    }

    /// The file type, `None` for an invalid mode.
    pub(super) fn file_type(&self) -> Option<FileType> {
        self.raw.file_type()
    }

    /// Owner and mode, for permission checks.
    pub(super) fn owner(&self) -> FileOwner {
        FileOwner {
            mode: FileMode(u32::from(self.raw.mode)),
            uid: self.raw.uid,
            gid: self.raw.gid,
        }
    }

    /// A symlink's target (cached after the first read).
    pub(super) fn target(&self, ext4: &Ext4) -> Result<&[u8], Errno> {
        self.target
            .call_once(|| ext4.read_link(&self.raw).map_err(|e| e.errno()))
            .as_deref()
            .map_err(|e| *e)
    }
}

/// Unreferenced dentries, oldest release first.
#[derive(Default)]
struct Lru {
    entries: BTreeMap<u64, Arc<ExtDentry>>,
    next_stamp: u64,
}

/// State shared by a filesystem and its dentries.
pub(super) struct Shared {
    /// The image and where mmap pages come from.
    pub(super) backing: Arc<Backing>,
    /// Read for walks, write for eviction and teardown.
    pub(super) tree: spin::RwLock<()>,
    lru: spin::Mutex<Lru>,
    /// How many dentries the LRU holds (read without its lock).
    lru_len: AtomicUsize,
    /// Unreferenced dentries kept beyond which the oldest are evicted.
    max_cached: usize,
    inodes: spin::Mutex<HashMap<InodeNumber, Weak<ExtInode>>>,
}

impl Shared {
    pub(super) fn new(backing: Arc<Backing>, max_cached: usize) -> Self {
        Shared {
            backing,
            tree: spin::RwLock::new(()),
            lru: spin::Mutex::new(Lru::default()),
            lru_len: AtomicUsize::new(0),
            max_cached,
            inodes: spin::Mutex::new(HashMap::new()),
        }
    }

    /// The image.
    pub(super) fn ext4(&self) -> &Ext4 {
        &self.backing.ext4
    }

    /// The shared inode `ino`, read from the image unless a dentry of it
    /// is cached.
    pub(super) fn inode(&self, ino: InodeNumber) -> Result<Arc<ExtInode>, Errno> {
        if let Some(inode) = self.inodes.lock().get(&ino).and_then(Weak::upgrade) {
            return Ok(inode);
        }
        let raw = self.ext4().inode(ino).map_err(|e| e.errno())?;
        let fresh = Arc::new(ExtInode::new(raw, &self.backing));
        let mut inodes = self.inodes.lock();
        if let Some(inode) = inodes.get(&ino).and_then(Weak::upgrade) {
            return Ok(inode);
        }
        inodes.insert(ino, Arc::downgrade(&fresh));
        Ok(fresh)
    }

    /// Puts a zero-reference dentry at the young end of the LRU.
    fn lru_insert(&self, dentry: &ExtDentry) {
        let mut lru = self.lru.lock();
        if dentry.refs.load(Ordering::Acquire) != 0 || dentry.lru_stamp.load(Ordering::Acquire) != 0
        {
            return;
        }
        lru.next_stamp += 1;
        let stamp = lru.next_stamp;
        dentry.lru_stamp.store(stamp, Ordering::Release);
        lru.entries.insert(stamp, dentry.arc());
        self.lru_len.store(lru.entries.len(), Ordering::Release);
    }

    /// Takes a revived dentry out of the LRU.
    fn lru_remove(&self, dentry: &ExtDentry) {
        let mut lru = self.lru.lock();
        if dentry.refs.load(Ordering::Acquire) <= 0 {
            return;
        }
        let stamp = dentry.lru_stamp.swap(0, Ordering::AcqRel);
        if stamp != 0 {
            lru.entries.remove(&stamp);
            self.lru_len.store(lru.entries.len(), Ordering::Release);
        }
    }

    /// Evicts the oldest unreferenced leaf dentries while the LRU holds
    /// more than its limit.
    ///
    /// # Preconditions
    ///
    /// The caller does not hold [`Self::tree`] (it is taken for writing;
    /// when another thread holds it, eviction waits for a later call).
    pub(super) fn trim(&self) {
        if self.lru_len.load(Ordering::Acquire) <= self.max_cached {
            return;
        }
        let Some(_tree) = self.tree.try_write() else {
            return;
        };
        loop {
            let victims: Vec<Arc<ExtDentry>> = {
                let mut lru = self.lru.lock();
                let excess = lru.entries.len().saturating_sub(self.max_cached);
                let stamps: Vec<u64> = lru
                    .entries
                    .iter()
                    .filter(|(_, d)| d.children.read().is_empty())
                    .take(excess)
                    .map(|(stamp, _)| *stamp)
                    .collect();
                let mut victims = Vec::with_capacity(stamps.len());
                for stamp in stamps {
                    if let Some(d) = lru.entries.remove(&stamp) {
                        d.lru_stamp.store(0, Ordering::Release);
                        victims.push(d);
                    }
                }
                self.lru_len.store(lru.entries.len(), Ordering::Release);
                victims
            };
            if victims.is_empty() {
                return;
            }
            for victim in victims {
                // The tree lock excludes revival, so a zero count stays zero.
                if victim
                    .refs
                    .compare_exchange(0, -1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    victim.detach();
                    self.forget_inode(&victim);
                }
            }
            if self.lru_len.load(Ordering::Acquire) <= self.max_cached {
                return;
            }
        }
    }

    /// Drops the inode table's entry of an evicted dentry's inode when no
    /// other dentry uses it.
    fn forget_inode(&self, dentry: &ExtDentry) {
        let ino = dentry.inode.ino();
        let mut inodes = self.inodes.lock();
        // The victim's own `Arc` is the last strong one when no other
        // dentry shares the inode.
        if Arc::strong_count(&dentry.inode) <= 1 {
            inodes.remove(&ino);
        }
    }

    /// Destroys every cached dentry below and including `root` (on
    /// unmount); dentries still referenced (leaks) keep their registration
    /// so the leak checker reports them.
    ///
    /// # Preconditions
    ///
    /// [`Self::tree`] is held for writing.
    pub(super) fn teardown(&self, root: &Arc<ExtDentry>) {
        {
            let mut lru = self.lru.lock();
            for dentry in lru.entries.values() {
                dentry.lru_stamp.store(0, Ordering::Release);
            }
            lru.entries.clear();
            self.lru_len.store(0, Ordering::Release);
        }
        let mut stack = alloc::vec![Arc::clone(root)];
        while let Some(dentry) = stack.pop() {
            stack.extend(core::mem::take(&mut *dentry.children.write()).into_values());
            if dentry
                .refs
                .compare_exchange(0, -1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                dentry.registration.lock().take();
            }
        }
        self.inodes.lock().clear();
    }
}

/// A dentry of a mounted image.
pub struct ExtDentry {
    vfsd: Dentry,
    me: Weak<ExtDentry>,
    shared: Arc<Shared>,
    /// The parent directory; `None` for the root.
    parent: Option<Arc<ExtDentry>>,
    /// The name in the parent (empty for the root).
    name: Box<[u8]>,
    pub(super) inode: Arc<ExtInode>,
    /// Counted references; -1 once destroyed.
    refs: AtomicI64,
    /// The dentry's key in the LRU, 0 when not in it.
    lru_stamp: AtomicU64,
    /// Cached children by name.
    children: spin::RwLock<HashMap<Box<[u8]>, Arc<ExtDentry>>>,
    registration: spin::Mutex<Option<refs::Registration>>,
}

impl ExtDentry {
    /// A new dentry with `refs` counted references (0 puts it in the LRU).
    pub(super) fn new(
        shared: &Arc<Shared>,
        parent: Option<Arc<ExtDentry>>,
        name: &[u8],
        inode: Arc<ExtInode>,
        refs: i64,
    ) -> Arc<Self> {
        let dentry = Arc::new_cyclic(|me| ExtDentry {
            vfsd: Dentry::new(),
            me: me.clone(),
            shared: Arc::clone(shared),
            parent,
            name: name.into(),
            inode,
            refs: AtomicI64::new(refs),
            lru_stamp: AtomicU64::new(0),
            children: spin::RwLock::new(HashMap::new()),
            registration: spin::Mutex::new(Some(refs::Registration::new_cyclic(
                me,
                "extfs::Dentry",
            ))),
        });
        if refs == 0 {
            shared.lru_insert(&dentry);
        }
        dentry
    }

    /// An `Arc` on this dentry (memory only, no counted reference).
    pub(super) fn arc(&self) -> Arc<ExtDentry> {
        match self.me.upgrade() {
            Some(arc) => arc,
            None => unreachable!("a dentry in use is alive"),
        }
    }

    /// A new counted reference.
    ///
    /// # Preconditions
    ///
    /// The caller holds a reference or [`Shared::tree`] (read), which
    /// keeps a cached dentry from being evicted.
    pub(super) fn new_ref(&self) -> DentryRef {
        let arc: Arc<dyn DentryImpl> = self.arc();
        DentryRef::new_ref(&arc)
    }

    /// The parent directory (`None` for the root).
    pub(super) fn parent(&self) -> Option<&Arc<ExtDentry>> {
        self.parent.as_ref()
    }

    /// The name in the parent.
    pub(super) fn name(&self) -> &[u8] {
        &self.name
    }

    /// The cached child `name`.
    pub(super) fn cached_child(&self, name: &[u8]) -> Option<Arc<ExtDentry>> {
        self.children.read().get(name).cloned()
    }

    /// Caches `child` under `name` unless another thread cached one
    /// first; returns the cached one.
    ///
    /// # Preconditions
    ///
    /// [`Shared::tree`] is held for reading.
    pub(super) fn cache_child(&self, name: &[u8], inode: Arc<ExtInode>) -> Arc<ExtDentry> {
        let mut children = self.children.write();
        if let Some(existing) = children.get(name) {
            return Arc::clone(existing);
        }
        let child = ExtDentry::new(&self.shared, Some(self.arc()), name, inode, 0);
        children.insert(name.into(), Arc::clone(&child));
        child
    }

    /// Removes an evicted dentry from its parent and the leak checker.
    fn detach(&self) {
        if let Some(parent) = &self.parent {
            parent.children.write().remove(&*self.name);
        }
        self.registration.lock().take();
    }

    /// The current reference count, for tests.
    pub fn ref_count(&self) -> i64 {
        self.refs.load(Ordering::Acquire)
    }
}

impl DentryImpl for ExtDentry {
    fn vfs_dentry(&self) -> &Dentry {
        &self.vfsd
    }

    fn is_dir(&self) -> bool {
        self.inode.raw.is_dir()
    }

    fn inc_ref(&self) {
        if self.refs.fetch_add(1, Ordering::AcqRel) == 0 {
            self.shared.lru_remove(self);
        }
    }

    fn try_inc_ref(&self) -> bool {
        let mut current = self.refs.load(Ordering::Acquire);
        loop {
            if current < 0 {
                return false;
            }
            match self.refs.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if current == 0 {
                        self.shared.lru_remove(self);
                    }
                    return true;
                }
                Err(observed) => current = observed,
            }
        }
    }

    fn dec_ref(&self, _ctx: &dyn Context) {
        let old = self.refs.fetch_sub(1, Ordering::AcqRel);
        if old == 1 {
            self.shared.lru_insert(self);
            self.shared.trim();
        } else if old < 1 {
            panic!(
                "extfs: dentry reference count below zero: {}",
                self.describe()
            );
        }
    }

    fn describe(&self) -> String {
        alloc::format!(
            "extfs:{} ino={}",
            String::from_utf8_lossy(&self.name),
            self.inode.ino()
        )
    }
}

impl refs::CheckedObject for ExtDentry {
    fn ref_type(&self) -> &'static str {
        "extfs::Dentry"
    }

    fn leak_message(&self) -> String {
        alloc::format!(
            "[extfs::Dentry] {} refs={}",
            self.describe(),
            self.refs.load(Ordering::Acquire)
        )
    }
}
