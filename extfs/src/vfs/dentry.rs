//! The dentry cache of a mounted image: [`ExtDentry`], the shared
//! [`ExtInode`] of hard links, and the LRU of unreferenced dentries.
//!
//! # Reference model
//!
//! - The mount's [`Tree`] (a hash table keyed by parent and name, like
//!   Linux's dcache hash) holds an `Arc` (memory only, no counted
//!   reference) on each cached dentry but the root; a child holds an `Arc`
//!   on its parent, so a cached path always reaches the root. A walk holds
//!   the tree lock for reading and borrows the dentries it passes from the
//!   table, as gVisor walks under its filesystem lock: a cached step takes
//!   no reference and no other lock.
//! - A dentry looked up while the tree lock is only read-held goes into
//!   [`Shared`]'s pending table (under its own mutex) and moves into the
//!   tree the next time someone takes the tree lock for writing.
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
//! [`Shared::tree`] (read for walks, write for eviction, merging pending
//! dentries and teardown) → [`Shared::pending`] → [`Shared::lru`] →
//! [`Shared::inodes`]. Reference operations take only the LRU lock, so
//! references can be dropped with the tree lock held; reviving a
//! zero-reference dentry requires the tree lock (read), which excludes
//! eviction.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::hash::{BuildHasher, Hasher};
use core::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

use abi_linux::{Errno, FileMode};
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
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
            locks: FileLocks::default(),
            target: spin::Once::new(),
            cache: PageCache::new(Arc::clone(backing)),
            raw,
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

/// Cached dentries, found by their parent's [`ExtDentry::id`] and their
/// name (each dentry keeps the hash of that key).
#[derive(Default)]
struct Children(HashTable<Arc<ExtDentry>>);

impl Children {
    /// The dentry named `name` in the directory of id `parent`, whose key
    /// hashes to `hash`.
    fn get(&self, hash: u64, parent: u64, name: &[u8]) -> Option<&Arc<ExtDentry>> {
        self.0.find(hash, |d| d.is_named(parent, name))
    }

    /// Adds `dentry`, whose key no dentry of the table has.
    fn insert(&mut self, dentry: Arc<ExtDentry>) {
        self.0
            .insert_unique(dentry.key_hash, dentry, |d| d.key_hash);
    }

    /// Removes `dentry` itself (not another of the same key).
    fn remove(&mut self, dentry: &ExtDentry) {
        if let Ok(entry) = self
            .0
            .find_entry(dentry.key_hash, |d| core::ptr::eq(&**d, dentry))
        {
            entry.remove();
        }
    }
}

/// The dentry tree of a mount, behind [`Shared::tree`]: every cached
/// dentry but the root, in one hash table keyed by parent and name (as
/// Linux's dcache hash), so that a walk's step is one probe and borrows
/// the child.
pub(super) struct Tree {
    children: Children,
    /// Hashes a dentry's key for `children` and [`Shared::pending`].
    hasher: DefaultHashBuilder,
}

impl Tree {
    /// The hash of the key of a child `name` of `dir`.
    pub(super) fn key_hash(&self, dir: &ExtDentry, name: &[u8]) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        hasher.write_u64(dir.id);
        hasher.write(name);
        hasher.finish()
    }

    /// The cached child `name` of `dir` (whose key hashes to `hash`),
    /// borrowed for as long as the tree lock is held; `None` when it is not
    /// cached or still pending (see [`Shared::pending_child`]).
    pub(super) fn child(&self, hash: u64, dir: &ExtDentry, name: &[u8]) -> Option<&Arc<ExtDentry>> {
        self.children.get(hash, dir.id, name)
    }
}

/// State shared by a filesystem and its dentries.
pub(super) struct Shared {
    /// The image and where mmap pages come from.
    pub(super) backing: Arc<Backing>,
    /// Read for walks, write for eviction, merging and teardown.
    pub(super) tree: spin::RwLock<Tree>,
    /// Dentries looked up under the tree's read lock, not yet in it.
    pending: spin::Mutex<Children>,
    /// How many dentries `pending` holds (read without its lock).
    pending_len: AtomicUsize,
    /// The next [`ExtDentry::id`].
    next_id: AtomicU64,
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
            tree: spin::RwLock::new(Tree {
                children: Children::default(),
                hasher: DefaultHashBuilder::default(),
            }),
            pending: spin::Mutex::new(Children::default()),
            pending_len: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
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

    /// The child `name` of `dir` (whose key hashes to `hash`, see
    /// [`Tree::key_hash`]) from the pending table, or else a new dentry of
    /// `inode` (with `dir` as parent) put there.
    ///
    /// # Preconditions
    ///
    /// [`Self::tree`] is held for reading and the tree has no child
    /// `name` of `dir`.
    pub(super) fn pending_child(
        self: &Arc<Self>,
        hash: u64,
        dir: &ExtDentry,
        name: &[u8],
        inode: impl FnOnce() -> Result<Arc<ExtInode>, Errno>,
    ) -> Result<Arc<ExtDentry>, Errno> {
        if let Some(child) = self.pending.lock().get(hash, dir.id, name) {
            return Ok(Arc::clone(child));
        }
        let inode = inode()?;
        let mut pending = self.pending.lock();
        if let Some(child) = pending.get(hash, dir.id, name) {
            return Ok(Arc::clone(child));
        }
        let child = ExtDentry::new(self, Some((dir.arc(), hash)), name, inode, 0);
        dir.cached_children.fetch_add(1, Ordering::AcqRel);
        pending.insert(Arc::clone(&child));
        self.pending_len.store(pending.0.len(), Ordering::Release);
        Ok(child)
    }

    /// Moves the pending dentries into the tree.
    ///
    /// # Preconditions
    ///
    /// [`Self::tree`] is held for writing (`tree` is its content).
    fn merge_pending(&self, tree: &mut Tree) {
        let mut pending = self.pending.lock();
        for dentry in pending.0.drain() {
            tree.children.insert(dentry);
        }
        self.pending_len.store(0, Ordering::Release);
    }

    /// Moves pending dentries into the tree and evicts the oldest
    /// unreferenced leaf dentries while the LRU holds more than its limit.
    ///
    /// # Preconditions
    ///
    /// The caller does not hold [`Self::tree`] (it is taken for writing;
    /// when another thread holds it, this waits for a later call).
    pub(super) fn trim(&self) {
        if self.lru_len.load(Ordering::Acquire) <= self.max_cached
            && self.pending_len.load(Ordering::Acquire) == 0
        {
            return;
        }
        let Some(mut tree) = self.tree.try_write() else {
            return;
        };
        self.merge_pending(&mut tree);
        if self.lru_len.load(Ordering::Acquire) <= self.max_cached {
            return;
        }
        loop {
            let victims: Vec<Arc<ExtDentry>> = {
                let mut lru = self.lru.lock();
                let excess = lru.entries.len().saturating_sub(self.max_cached);
                let stamps: Vec<u64> = lru
                    .entries
                    .iter()
                    .filter(|(_, d)| d.cached_children.load(Ordering::Acquire) == 0)
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
                    victim.detach(&mut tree);
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
    /// [`Self::tree`] is held for writing (`tree` is its content).
    pub(super) fn teardown(&self, tree: &mut Tree, root: &Arc<ExtDentry>) {
        self.merge_pending(tree);
        {
            let mut lru = self.lru.lock();
            for dentry in lru.entries.values() {
                dentry.lru_stamp.store(0, Ordering::Release);
            }
            lru.entries.clear();
            self.lru_len.store(0, Ordering::Release);
        }
        let cached = core::mem::take(&mut tree.children.0).into_iter();
        for dentry in core::iter::once(Arc::clone(root)).chain(cached) {
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

/// The longest name a dentry stores inline.
const INLINE_NAME: usize = 30;

/// A dentry's name, inline when short (as most are, like Linux's
/// `d_iname`) so that comparing it reads the dentry's own cache line.
enum DentryName {
    Inline { len: u8, bytes: [u8; INLINE_NAME] },
    Heap(Box<[u8]>),
}

impl DentryName {
    fn new(name: &[u8]) -> Self {
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE_NAME => {
                let mut bytes = [0; INLINE_NAME];
                bytes[..name.len()].copy_from_slice(name);
                DentryName::Inline { len, bytes }
            }
            _ => DentryName::Heap(name.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            DentryName::Inline { len, bytes } => &bytes[..usize::from(*len)],
            DentryName::Heap(name) => name,
        }
    }
}

/// A dentry of a mounted image.
///
/// The fields a walk reads at each step come first and share one cache
/// line (the type's alignment).
#[repr(C, align(64))]
pub struct ExtDentry {
    /// The parent's `id` (0 for the root).
    parent_id: u64,
    /// The dentry's key as a parent in [`Tree`], unique in its mount.
    id: u64,
    vfsd: Dentry,
    /// The name in the parent (empty for the root).
    name: DentryName,
    /// The inode's file type (`None` for an invalid mode), kept here for
    /// walks.
    file_type: Option<FileType>,
    /// Whether the owner, group and other classes all have the execute
    /// bit, so that anyone may search the directory and a walk needs no
    /// look at the credentials.
    searchable_by_all: bool,
    me: Weak<ExtDentry>,
    /// The hash of the dentry's key in [`Tree`] (0 for the root).
    key_hash: u64,
    shared: Arc<Shared>,
    /// The parent directory; `None` for the root.
    parent: Option<Arc<ExtDentry>>,
    pub(super) inode: Arc<ExtInode>,
    /// Counted references; -1 once destroyed.
    refs: AtomicI64,
    /// The dentry's key in the LRU, 0 when not in it.
    lru_stamp: AtomicU64,
    /// How many children are cached (in the tree or pending); only a
    /// dentry without any is evicted.
    cached_children: AtomicUsize,
    registration: spin::Mutex<Option<refs::Registration>>,
}

impl ExtDentry {
    /// A new dentry with `refs` counted references (0 puts it in the LRU),
    /// with its parent and the hash of its key in the tree (`None` for the
    /// root).
    pub(super) fn new(
        shared: &Arc<Shared>,
        parent: Option<(Arc<ExtDentry>, u64)>,
        name: &[u8],
        inode: Arc<ExtInode>,
        refs: i64,
    ) -> Arc<Self> {
        let (parent, parent_id, key_hash) = match parent {
            Some((parent, hash)) => {
                let id = parent.id;
                (Some(parent), id, hash)
            }
            None => (None, 0, 0),
        };
        let dentry = Arc::new_cyclic(|me| ExtDentry {
            vfsd: Dentry::new(),
            me: me.clone(),
            id: shared.next_id.fetch_add(1, Ordering::Relaxed),
            parent_id,
            key_hash,
            file_type: inode.file_type(),
            searchable_by_all: inode.raw.mode & 0o111 == 0o111,
            shared: Arc::clone(shared),
            parent,
            name: DentryName::new(name),
            inode,
            refs: AtomicI64::new(refs),
            lru_stamp: AtomicU64::new(0),
            cached_children: AtomicUsize::new(0),
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
        self.name.as_bytes()
    }

    /// Whether the dentry is the child `name` of the directory of id
    /// `parent`.
    fn is_named(&self, parent: u64, name: &[u8]) -> bool {
        // Names are short: a byte loop beats a call to `memcmp`.
        let own = self.name.as_bytes();
        self.parent_id == parent
            && own.len() == name.len()
            && own.iter().zip(name).all(|(a, b)| a == b)
    }

    /// The inode's file type (`None` for an invalid mode).
    pub(super) fn file_type(&self) -> Option<FileType> {
        self.file_type
    }

    /// Whether anyone may search the directory (every class has the
    /// execute bit), so a walk need not check the credentials.
    pub(super) fn searchable_by_all(&self) -> bool {
        self.searchable_by_all
    }

    /// Removes an evicted dentry from the tree and the leak checker.
    ///
    /// # Preconditions
    ///
    /// [`Shared::tree`] is held for writing (`tree` is its content).
    fn detach(&self, tree: &mut Tree) {
        if let Some(parent) = &self.parent {
            tree.children.remove(self);
            parent.cached_children.fetch_sub(1, Ordering::AcqRel);
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
            String::from_utf8_lossy(self.name.as_bytes()),
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
