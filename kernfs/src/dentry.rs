//! [`Dentry`]: kernfs's directory entries (gVisor kernfs's `Dentry`).
//!
//! # Reference model
//!
//! - kernfs owns the dentry tree: a directory dentry's `children` map
//!   holds its cached children (memory only, no counted reference).
//! - A child holds one counted reference on its parent for as long as it
//!   exists, so a dentry with children never reaches zero references.
//! - A dentry holds its inode (an `Arc`); inodes may outlive dentries.
//! - Open file descriptions, mounts and path operations hold counted
//!   references ([`vfs_core::DentryRef`]).
//!
//! Unlike most counted objects, a kernfs dentry's count may go to zero and
//! back: a zero-reference dentry stays in the tree, reachable by lookups,
//! while it sits in its filesystem's LRU (see [`crate::Filesystem`]). It
//! is destroyed (counter set to a negative value that never comes back)
//! only under the filesystem lock held for writing: when it is evicted,
//! dead, parentless or not to be kept. Dropping a reference never takes the
//! filesystem lock while another operation holds it: a dentry reaching zero
//! is queued as a deferred dec-ref and examined when the lock is free.
//!
//! # Locking
//!
//! `parent` and `name` change only under the filesystem lock held for
//! writing and are read under it held either way. `children` is guarded by
//! the dentry's own mutex, taken under the filesystem lock (for reading,
//! lookups insert children concurrently); no two dentry mutexes are ever
//! held at once.

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use hashbrown::HashMap;
use vfs_core::{Context, Dentry as VfsDentry, DentryImpl, FileDescription};

use crate::filesystem::Filesystem;
use crate::inode::Inode;

/// The value of a destroyed dentry's counter: far below zero, so racing
/// `try_inc_ref` attempts (each backed out) never make it look alive.
const DESTROYED: i64 = i64::MIN / 2;

/// A dentry's place in the tree.
pub(crate) struct TreeLinks {
    pub(crate) parent: Option<Arc<Dentry>>,
    pub(crate) name: Vec<u8>,
    pub(crate) children: HashMap<Vec<u8>, Arc<Dentry>>,
}

/// A kernfs directory entry. See the [module documentation](self).
pub struct Dentry {
    vfsd: VfsDentry,
    refs: AtomicI64,
    fs: Arc<Filesystem>,
    inode: Arc<dyn Inode>,
    this: Weak<Dentry>,
    /// The dentry's key in the filesystem's LRU, 0 when not cached.
    /// Changed only under the filesystem lock held for writing.
    pub(crate) lru_stamp: AtomicU64,
    pub(crate) tree: spin::Mutex<TreeLinks>,
    registration: spin::Mutex<Option<refs::Registration>>,
}

impl Dentry {
    /// A new dentry with one reference, holding a reference on `parent`.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held (either way) when `parent` is given;
    /// the caller inserts the dentry into `parent`'s children.
    pub(crate) fn new(
        fs: &Arc<Filesystem>,
        inode: Arc<dyn Inode>,
        parent: Option<&Arc<Dentry>>,
        name: &[u8],
    ) -> Arc<Self> {
        if let Some(parent) = parent {
            parent.inc_ref_internal();
        }
        Arc::new_cyclic(|this| Self {
            vfsd: VfsDentry::new(),
            refs: AtomicI64::new(1),
            fs: Arc::clone(fs),
            inode,
            this: this.clone(),
            lru_stamp: AtomicU64::new(0),
            tree: spin::Mutex::new(TreeLinks {
                parent: parent.cloned(),
                name: name.to_vec(),
                children: HashMap::new(),
            }),
            registration: spin::Mutex::new(Some(refs::Registration::new_cyclic(
                this,
                "kernfs::Dentry",
            ))),
        })
    }

    /// The kernfs dentry behind a VFS dentry, if it is one.
    pub fn from_vfs(dentry: &dyn DentryImpl) -> Option<&Dentry> {
        let any: &dyn core::any::Any = dentry;
        any.downcast_ref()
    }

    /// The kernfs dentry of an open file, if it is one.
    pub fn of_file(fd: &FileDescription) -> Option<&Dentry> {
        Self::from_vfs(&**fd.dentry())
    }

    /// The dentry's inode.
    pub fn inode(&self) -> &Arc<dyn Inode> {
        &self.inode
    }

    /// The filesystem the dentry belongs to.
    pub fn filesystem(&self) -> &Arc<Filesystem> {
        &self.fs
    }

    /// The dentry's current name (empty for a root).
    pub fn name(&self) -> Vec<u8> {
        self.tree.lock().name.clone()
    }

    /// The dentry's current parent, `None` for a root.
    pub fn parent(&self) -> Option<Arc<Dentry>> {
        self.tree.lock().parent.clone()
    }

    /// The current reference count: `-1` once destroyed. Racy; for tests
    /// and debugging.
    pub fn ref_count(&self) -> i64 {
        let v = self.refs.load(Ordering::Acquire);
        if v < 0 { -1 } else { v }
    }

    /// Whether the dentry sits in its filesystem's LRU.
    pub fn is_cached(&self) -> bool {
        self.lru_stamp.load(Ordering::Acquire) != 0
    }

    /// Whether the dentry has been destroyed.
    pub fn is_destroyed(&self) -> bool {
        self.refs.load(Ordering::Acquire) < 0
    }

    /// The embedded VFS state.
    pub fn vfs(&self) -> &VfsDentry {
        &self.vfsd
    }

    /// A new `Arc` to this dentry (not a counted reference).
    pub(crate) fn arc(&self) -> Arc<Dentry> {
        match self.this.upgrade() {
            Some(arc) => arc,
            None => unreachable!("a dentry in use is alive"),
        }
    }

    /// Takes a reference, reviving a zero-reference cached dentry.
    ///
    /// # Preconditions
    ///
    /// The caller holds a reference or the filesystem lock (either way),
    /// so the dentry is not destroyed.
    pub(crate) fn inc_ref_internal(&self) {
        let old = self.refs.fetch_add(1, Ordering::Relaxed);
        if old < 0 {
            panic!(
                "kernfs: reference taken on destroyed dentry {}",
                self.describe()
            );
        }
    }

    /// The current raw count (0 while unreferenced, negative once
    /// destroyed).
    pub(crate) fn raw_refs(&self) -> i64 {
        self.refs.load(Ordering::Acquire)
    }

    /// Commits the destruction of an unreferenced dentry: false when it was
    /// revived or is already destroyed.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held for writing.
    pub(crate) fn try_mark_destroyed(&self) -> bool {
        self.refs
            .compare_exchange(0, DESTROYED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Gives back a reference under the filesystem lock held for writing;
    /// true when the count reached zero and the caller must examine the
    /// dentry.
    ///
    /// # Preconditions
    ///
    /// The filesystem lock is held for writing.
    pub(crate) fn dec_ref_locked(&self) -> bool {
        let old = self.refs.fetch_sub(1, Ordering::AcqRel);
        if old < 1 {
            panic!(
                "kernfs: dentry reference count below zero: {}",
                self.describe()
            );
        }
        old == 1
    }

    /// Unregisters the dentry from the leak checker once destroyed.
    pub(crate) fn unregister(&self) {
        self.registration.lock().take();
    }
}

impl DentryImpl for Dentry {
    fn vfs_dentry(&self) -> &VfsDentry {
        &self.vfsd
    }

    fn is_dir(&self) -> bool {
        self.inode.is_dir()
    }

    fn inc_ref(&self) {
        self.inc_ref_internal();
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
                Ok(_) => return true,
                Err(observed) => current = observed,
            }
        }
    }

    fn dec_ref(&self, ctx: &dyn Context) {
        let old = self.refs.fetch_sub(1, Ordering::AcqRel);
        if old == 1 {
            // Never wait for the filesystem lock here: the caller may be an
            // operation holding it. The dentry is examined when the lock is
            // free (gVisor's deferred dec-refs).
            self.fs.defer_zero_ref(ctx, self.arc());
        } else if old < 1 {
            panic!(
                "kernfs: dentry reference count below zero: {}",
                self.describe()
            );
        }
    }

    fn describe(&self) -> String {
        let name = self.tree.lock().name.clone();
        alloc::format!(
            "kernfs {:?} ino={}",
            String::from_utf8_lossy(&name),
            self.inode.attrs().ino()
        )
    }
}

impl refs::CheckedObject for Dentry {
    fn ref_type(&self) -> &'static str {
        "kernfs::Dentry"
    }

    fn leak_message(&self) -> String {
        alloc::format!(
            "[kernfs::Dentry] {} refs={}",
            self.describe(),
            self.ref_count()
        )
    }
}

impl fmt::Debug for Dentry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dentry({})", self.describe())
    }
}
