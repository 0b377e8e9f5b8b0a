//! Dentries of the gofer filesystem and their cache (gVisor gofer's
//! `dentry` and `cachedDentries`).
//!
//! # Reference model
//!
//! - A dentry's count holds one reference per [`vfs_core::DentryRef`] and
//!   per [`Held`] guard, plus one from each positive child cached in its
//!   `children` map (a child holds its parent), plus one from the
//!   filesystem on the root.
//! - A dentry whose count reaches zero stays in its parent's map (the map
//!   holds the `Arc`, not a count) and is queued on the filesystem's LRU;
//!   a walk that finds it again takes a count from zero under the parent's
//!   `children` lock. Eviction, run at the end of each operation with no
//!   lock held, removes the least recently released ones beyond
//!   `max_cached_dentries` from their parent under the same lock, which is
//!   what makes reviving and evicting exclude each other.
//! - A dentry removed from the tree (unlinked, renamed over, replaced
//!   behind our back, evicted) is `detached`; at zero it is destroyed at
//!   once: its fid is clunked, it leaves the leak checker and it gives back
//!   its count on its parent.
//! - Negative entries (`None` in a `children` map) cache names the server
//!   said do not exist; they count nothing.
//!
//! # Lock order
//!
//! Filesystem `rename_lock` → a directory's `children` → its child's
//! `children` (only under the write side of `rename_lock`) → `links` →
//! the inode's locks. The LRU lock is a leaf. Dropping a count takes only
//! the LRU lock (or, for a detached dentry, clunks a fid), so a count can
//! be dropped anywhere.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use abi_linux::FileType;
use vfs_core::{Context, Dentry, DentryImpl, DentryRef};

use super::Shared;
use super::inode::{Inode, lock};
use crate::client::Fid;

/// Negative entries one directory keeps before forgetting them all.
pub const MAX_NEGATIVE_CHILDREN: usize = 1000;

/// The cached children of a directory.
#[derive(Default)]
pub(crate) struct Children {
    /// `Some` for a positive entry, `None` for a name known not to exist.
    pub(crate) map: HashMap<Vec<u8>, Option<Arc<GoferDentry>>>,
    pub(crate) negatives: usize,
}

impl Children {
    /// Records that `name` does not exist.
    pub(crate) fn insert_negative(&mut self, name: &[u8], cache: bool) {
        if !cache {
            self.map.remove(name);
            return;
        }
        if self.negatives >= MAX_NEGATIVE_CHILDREN {
            self.map.retain(|_, c| c.is_some());
            self.negatives = 0;
        }
        if self
            .map
            .insert(name.to_vec(), None)
            .is_none_or(|old| old.is_some())
        {
            self.negatives += 1;
        }
    }

    /// Forgets `name`, positive or negative, and returns the positive
    /// entry that was there.
    pub(crate) fn remove(&mut self, name: &[u8]) -> Option<Arc<GoferDentry>> {
        match self.map.remove(name) {
            Some(Some(d)) => Some(d),
            Some(None) => {
                self.negatives = self.negatives.saturating_sub(1);
                None
            }
            None => None,
        }
    }

    /// Caches `child` as `name`.
    pub(crate) fn insert(&mut self, name: &[u8], child: Arc<GoferDentry>) {
        if let Some(None) = self.map.insert(name.to_vec(), Some(child)) {
            self.negatives = self.negatives.saturating_sub(1);
        }
    }
}

/// Where a dentry sits in the tree.
pub(crate) struct Links {
    /// The parent, on which this dentry holds a count while attached.
    pub(crate) parent: Option<Arc<GoferDentry>>,
    /// The name in the parent.
    pub(crate) name: Vec<u8>,
}

/// A gofer dentry: a name in the remote tree, its walked fid and its inode.
pub struct GoferDentry {
    vfs_dentry: Dentry,
    me: Weak<GoferDentry>,
    pub(crate) shared: Arc<Shared>,
    refs: AtomicI64,
    registration: Mutex<Option<refs::Registration>>,
    inode: Arc<Inode>,
    /// The walked (unopened) fid naming the file; `None` once destroyed.
    fid: Mutex<Option<Arc<Fid>>>,
    pub(crate) links: Mutex<Links>,
    pub(crate) children: Mutex<Children>,
    /// A directory's cached listing (cached modes only).
    pub(crate) listing: Mutex<super::directory::ListingCache>,
    in_lru: AtomicBool,
    detached: AtomicBool,
}

impl GoferDentry {
    /// A new dentry with one count, holding `parent` (whose count the
    /// caller passes on).
    pub(crate) fn create(
        shared: &Arc<Shared>,
        fid: Fid,
        inode: Arc<Inode>,
        parent: Option<Held>,
        name: &[u8],
    ) -> Held {
        let d = Arc::new_cyclic(|me| Self {
            vfs_dentry: Dentry::new(),
            me: me.clone(),
            shared: Arc::clone(shared),
            refs: AtomicI64::new(1),
            registration: Mutex::new(Some(refs::Registration::new_cyclic(me, "goferfs::Dentry"))),
            inode,
            fid: Mutex::new(Some(Arc::new(fid))),
            links: Mutex::new(Links {
                parent: parent.map(Held::into_arc),
                name: name.to_vec(),
            }),
            children: Mutex::new(Children::default()),
            listing: Mutex::new(super::directory::ListingCache::default()),
            in_lru: AtomicBool::new(false),
            detached: AtomicBool::new(false),
        });
        Held(d, true)
    }

    /// The inode.
    pub fn inode(&self) -> &Arc<Inode> {
        &self.inode
    }

    /// The walked fid.
    ///
    /// # Preconditions
    ///
    /// The caller holds a count, so the dentry is not destroyed.
    pub(crate) fn fid(&self) -> Arc<Fid> {
        match lock(&self.fid).as_ref() {
            Some(f) => Arc::clone(f),
            None => unreachable!("a counted dentry has its fid"),
        }
    }

    /// Makes `fid` the dentry's walked fid; the previous one is clunked once
    /// its last user drops it.
    ///
    /// # Preconditions
    ///
    /// `fid` names the same file as the dentry, and the caller holds a
    /// count on the dentry.
    pub(crate) fn replace_fid(&self, fid: Fid) {
        let old = lock(&self.fid).replace(Arc::new(fid));
        drop(old);
    }

    /// The file type from the cached mode.
    pub fn file_type(&self) -> Option<FileType> {
        self.inode.metadata().file_type()
    }

    /// Whether the dentry is a symlink.
    pub(crate) fn is_symlink(&self) -> bool {
        self.file_type() == Some(FileType::Symlink)
    }

    /// The parent, if attached.
    pub(crate) fn parent(&self) -> Option<Arc<GoferDentry>> {
        lock(&self.links).parent.clone()
    }

    /// The name in the parent.
    pub(crate) fn name(&self) -> Vec<u8> {
        lock(&self.links).name.clone()
    }

    /// Whether `self` is `other` or one of its ancestors.
    pub(crate) fn is_ancestor_of(&self, other: &Arc<GoferDentry>) -> bool {
        let mut cursor = Some(Arc::clone(other));
        while let Some(d) = cursor {
            if std::ptr::eq(&*d, self) {
                return true;
            }
            cursor = d.parent();
        }
        false
    }

    fn arc(&self) -> Arc<GoferDentry> {
        match self.me.upgrade() {
            Some(a) => a,
            None => unreachable!("a dentry in use is alive"),
        }
    }

    /// A new count.
    ///
    /// # Preconditions
    ///
    /// The caller holds a count.
    pub(crate) fn held(&self) -> Held {
        self.inc();
        Held(self.arc(), true)
    }

    /// Takes a count kept outside a guard (a child's on its parent).
    ///
    /// # Preconditions
    ///
    /// The caller holds a count.
    pub(crate) fn inc_count(&self) {
        self.inc();
    }

    /// Gives back a count taken with [`Self::inc_count`].
    pub(crate) fn dec_count(&self) {
        self.dec();
    }

    fn inc(&self) {
        let old = self.refs.fetch_add(1, Ordering::Relaxed);
        debug_assert!(old > 0, "inc_ref of an uncounted gofer dentry");
    }

    /// Takes a count on a child found in its parent's map, possibly from
    /// zero.
    ///
    /// # Preconditions
    ///
    /// The parent's `children` lock is held and `self` is in its map.
    pub(crate) fn revive(&self) -> Held {
        self.refs.fetch_add(1, Ordering::AcqRel);
        Held(self.arc(), true)
    }

    /// Marks the dentry as removed from the tree; at zero it is destroyed.
    ///
    /// # Preconditions
    ///
    /// The parent's `children` lock is held and the dentry was just removed
    /// from its map.
    pub(crate) fn detach(&self) {
        self.detached.store(true, Ordering::Release);
        if self
            .refs
            .compare_exchange(0, -1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.destroy();
        }
    }

    /// Evicts the dentry if it is still unreferenced and cached.
    ///
    /// # Preconditions
    ///
    /// No lock of this filesystem is held.
    pub(crate) fn try_evict(&self) {
        self.in_lru.store(false, Ordering::Release);
        let Some(parent) = self.parent() else {
            // The root is never evicted; it goes at release.
            if self.shared.is_released()
                && self
                    .refs
                    .compare_exchange(0, -1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                self.destroy();
            }
            return;
        };
        let name = self.name();
        let mut children = lock(&parent.children);
        let ours = matches!(children.map.get(&name), Some(Some(c)) if std::ptr::eq(&**c, self));
        if !ours {
            return;
        }
        if self
            .refs
            .compare_exchange(0, -1, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        children.remove(&name);
        self.detached.store(true, Ordering::Release);
        drop(children);
        self.destroy();
    }

    /// Clunks the fid, leaves the leak checker and gives back the count on
    /// the parent.
    ///
    /// # Preconditions
    ///
    /// The count went from 0 to -1 (this runs once).
    fn destroy(&self) {
        drop(lock(&self.fid).take());
        lock(&self.registration).take();
        let parent = lock(&self.links).parent.take();
        if let Some(parent) = parent {
            parent.dec();
        }
    }

    fn dec(&self) {
        let old = self.refs.fetch_sub(1, Ordering::AcqRel);
        if old > 1 {
            return;
        }
        debug_assert_eq!(old, 1, "dec_ref of an uncounted gofer dentry");
        if self.detached.load(Ordering::Acquire) || self.shared.is_released() {
            if self.parent().is_some() && !self.detached.load(Ordering::Acquire) {
                // Still in the tree at release: the release drain evicts it.
                self.shared.lru_push(self);
                return;
            }
            if self
                .refs
                .compare_exchange(0, -1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                self.destroy();
            }
            return;
        }
        self.shared.lru_push(self);
    }

    /// Queues the dentry on the LRU unless it is already there.
    ///
    /// # Preconditions
    ///
    /// The LRU lock is held.
    pub(crate) fn queue_in(&self, lru: &mut VecDeque<Arc<GoferDentry>>) {
        if !self.in_lru.swap(true, Ordering::AcqRel) {
            lru.push_back(self.arc());
        }
    }

    /// The current count, for tests.
    pub fn ref_count(&self) -> i64 {
        self.refs.load(Ordering::Relaxed)
    }
}

impl DentryImpl for GoferDentry {
    fn vfs_dentry(&self) -> &Dentry {
        &self.vfs_dentry
    }

    fn is_dir(&self) -> bool {
        self.file_type() == Some(FileType::Directory)
    }

    fn inc_ref(&self) {
        self.inc();
    }

    fn try_inc_ref(&self) -> bool {
        let mut cur = self.refs.load(Ordering::Acquire);
        loop {
            if cur <= 0 {
                return false;
            }
            match self
                .refs
                .compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(c) => cur = c,
            }
        }
    }

    fn dec_ref(&self, _ctx: &dyn Context) {
        self.dec();
    }

    fn describe(&self) -> String {
        format!(
            "goferfs:{} ino={}",
            String::from_utf8_lossy(&self.name()),
            self.inode.ino()
        )
    }
}

impl refs::CheckedObject for GoferDentry {
    fn ref_type(&self) -> &'static str {
        "goferfs::Dentry"
    }

    fn leak_message(&self) -> String {
        format!(
            "[goferfs::Dentry] {} refs={}",
            self.describe(),
            self.ref_count()
        )
    }
}

/// One count on a gofer dentry, given back on drop.
pub struct Held(Arc<GoferDentry>, bool);

impl Held {
    /// Gives up the guard without giving back the count.
    pub(crate) fn into_arc(mut self) -> Arc<GoferDentry> {
        self.1 = false;
        Arc::clone(&self.0)
    }

    /// Turns the count into a VFS dentry reference.
    pub(crate) fn into_dentry_ref(self) -> DentryRef {
        let arc: Arc<dyn DentryImpl> = self.into_arc();
        DentryRef::adopt(arc)
    }

    /// The dentry.
    pub fn arc(&self) -> &Arc<GoferDentry> {
        &self.0
    }
}

impl Clone for Held {
    fn clone(&self) -> Self {
        self.0.held()
    }
}

impl std::ops::Deref for Held {
    type Target = GoferDentry;

    fn deref(&self) -> &GoferDentry {
        &self.0
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.1 {
            self.0.dec();
        }
    }
}
