//! The server's fids: what each one refers to and what it is doing.
//!
//! # Reference model
//!
//! The fid table owns an `Arc<FidEntry>` per fid; a request in progress
//! holds another, so a Tclunk racing with a Tread never closes an fd under
//! the read. A `FidEntry` owns its fds; dropping it closes them and lowers
//! the server's open-fid counter.
//!
//! # Lock order
//!
//! `FidTable::map`, then at most one `FidEntry::state` or
//! `FidEntry::parent` (never two entries' locks at once).

use crate::message::{Dirent, Qid};
use abi_linux::Errno;
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The directory a fid's file was reached from, and its name there.
#[derive(Clone)]
pub(crate) struct Parent {
    pub(crate) dir: Arc<OwnedFd>,
    pub(crate) name: Vec<u8>,
}

/// What a fid is being used for.
pub(crate) enum FidState {
    /// Walked to, not opened.
    Path,
    /// Opened for I/O.
    Open {
        /// The open file.
        file: OwnedFd,
        /// The `open(2)` access mode (`O_RDONLY`, ...).
        access: i32,
        /// A directory's entries, listed when Treaddir asked for offset 0.
        listing: Option<Vec<Dirent>>,
    },
    /// Reading an extended attribute's value (or the name list).
    XattrRead(Vec<u8>),
    /// Collecting an extended attribute's value, set on clunk.
    XattrWrite {
        /// Attribute name.
        name: Vec<u8>,
        /// Announced size.
        size: u64,
        /// `XATTR_CREATE`/`XATTR_REPLACE`.
        flags: u32,
        /// Bytes written so far.
        data: Vec<u8>,
    },
}

/// One fid.
pub(crate) struct FidEntry {
    /// An `O_PATH` (or opened) fd for the file; shared by clones.
    pub(crate) path: Arc<OwnedFd>,
    /// The file's qid.
    pub(crate) qid: Qid,
    /// The host file type (`st_mode & S_IFMT`) found by the walk.
    pub(crate) kind: u32,
    /// Where the file was reached from; `None` for the export root.
    pub(crate) parent: Mutex<Option<Parent>>,
    /// The uid the client attached as (owner of files it creates).
    pub(crate) uid: u32,
    /// What the fid is doing.
    pub(crate) state: Mutex<FidState>,
    counter: Arc<AtomicUsize>,
}

impl FidEntry {
    pub(crate) fn new(
        counter: &Arc<AtomicUsize>,
        path: Arc<OwnedFd>,
        (qid, kind): (Qid, u32),
        parent: Option<Parent>,
        uid: u32,
        state: FidState,
    ) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self {
            path,
            qid,
            kind,
            parent: Mutex::new(parent),
            uid,
            state: Mutex::new(state),
            counter: counter.clone(),
        }
    }

    /// Returns the parent directory and name, or `EBUSY` for the root (as
    /// Linux refuses to rename or remove a mount root).
    pub(crate) fn parent(&self) -> Result<Parent, Errno> {
        lock(&self.parent).clone().ok_or(Errno::EBUSY)
    }
}

impl Drop for FidEntry {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The fids of one connection.
#[derive(Default)]
pub(crate) struct FidTable {
    map: Mutex<HashMap<u32, Arc<FidEntry>>>,
}

impl FidTable {
    /// Returns fid `fid`, or `EBADF`.
    pub(crate) fn get(&self, fid: u32) -> Result<Arc<FidEntry>, Errno> {
        lock(&self.map).get(&fid).cloned().ok_or(Errno::EBADF)
    }

    /// Adds `fid`; an fid already in use is `EBADF` unless `replace`.
    pub(crate) fn insert(&self, fid: u32, e: FidEntry, replace: bool) -> Result<(), Errno> {
        let mut m = lock(&self.map);
        if !replace && m.contains_key(&fid) {
            return Err(Errno::EBADF);
        }
        m.insert(fid, Arc::new(e));
        Ok(())
    }

    /// Returns true if `fid` is in use.
    pub(crate) fn contains(&self, fid: u32) -> bool {
        lock(&self.map).contains_key(&fid)
    }

    /// Removes `fid` and returns it, or `EBADF`.
    pub(crate) fn remove(&self, fid: u32) -> Result<Arc<FidEntry>, Errno> {
        lock(&self.map).remove(&fid).ok_or(Errno::EBADF)
    }

    /// Forgets every fid (connection end or a new Tversion).
    pub(crate) fn clear(&self) {
        let old = std::mem::take(&mut *lock(&self.map));
        drop(old);
    }
}
