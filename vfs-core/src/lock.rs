//! File locks: BSD `flock(2)` locks, POSIX record locks and open file
//! description (OFD) record locks (gVisor `pkg/sentry/fsimpl/lock`, Linux
//! `fs/locks.c`).
//!
//! Every inode that supports locking owns a [`FileLocks`]; all of them share
//! one [`LockTable`], the registry of blocked POSIX lock requests that
//! deadlock detection walks (Linux's global `blocked_hash`).
//!
//! - **flock locks** belong to an open file description, are shared or
//!   exclusive over the whole file, and are released on the description's
//!   last close ([`FileLocks::flock_release`]). Converting a lock is not
//!   atomic: the old lock is dropped before the new one is tried, so a
//!   failed or interrupted conversion leaves no lock.
//! - **POSIX record locks** belong to a process (its file table,
//!   [`LockOwner::Posix`]) and cover byte ranges; `F_GETLK` reports the
//!   holder's pid. Closing *any* descriptor of the inode releases all of
//!   the process's locks on it ([`FileLocks::unlock_all`]).
//! - **OFD record locks** belong to an open file description
//!   ([`LockOwner::Ofd`]); `F_OFD_GETLK` reports pid -1. They conflict with
//!   POSIX locks of other owners.
//!
//! Record locks of one owner never overlap: a new lock replaces the owner's
//! overlapping ranges (changing their type in place, splitting the ones it
//! covers partly) and merges with the owner's overlapping or adjacent locks
//! of the same type. Locks of different owners conflict when they overlap
//! and one of them is a write lock.
//!
//! # Blocking
//!
//! A blocking request that conflicts calls [`Blocker::block`], which waits
//! until the set changes (the set notifies its [`WaiterQueue`] whenever a
//! lock is released or changed) and then the request is retried. A blocker
//! that returns an error (`EINTR` for a signal) ends the request with that
//! error. A kernel without threads implements [`Blocker`] by running other
//! tasks until the readiness predicate holds.
//!
//! # Reference model
//!
//! A [`FileLocks`] holds an `Arc` on its [`LockTable`]. Locks hold nothing:
//! owners are plain identifiers, and the VFS removes an owner's locks when
//! the owner goes away.
//!
//! # Lock order
//!
//! [`FileLocks`] state lock → [`LockTable`] lock. Neither is held while a
//! [`Blocker`] runs or while waiters are notified.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use abi_linux::{Errno, Flock, LockType, Whence};
use spin::Mutex;

use crate::waiter::{EventMask, WaiterQueue};

/// The last byte of a lock that extends to the end of the file, however
/// large the file grows.
pub const LOCK_EOF: u64 = u64::MAX;

/// How many blocked owners deadlock detection follows before giving up, as
/// Linux's `MAX_DEADLK_ITERATIONS`.
const MAX_DEADLOCK_ITERATIONS: usize = 10;

/// The type of a record lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockKind {
    /// `F_RDLCK`: a shared (read) lock.
    Read,
    /// `F_WRLCK`: an exclusive (write) lock.
    Write,
}

impl LockKind {
    /// Returns the `F_RDLCK`/`F_WRLCK` type of this kind.
    pub const fn to_lock_type(self) -> LockType {
        match self {
            LockKind::Read => LockType::RDLCK,
            LockKind::Write => LockType::WRLCK,
        }
    }

    /// Returns the kind of a lock type, or `None` for `F_UNLCK`.
    pub const fn from_lock_type(t: LockType) -> Option<LockKind> {
        match t {
            LockType::RDLCK => Some(LockKind::Read),
            LockType::WRLCK => Some(LockKind::Write),
            LockType::UNLCK => None,
        }
    }
}

/// The owner of a record lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockOwner {
    /// A POSIX lock's owner: the identifier of the file table of the
    /// process (threads and `CLONE_FILES` children share it).
    Posix(u64),
    /// An OFD lock's owner: the identifier of the open file description.
    Ofd(u64),
}

/// The bytes `start..=end` of a file; `end == LOCK_EOF` means "to the end
/// of the file, however large".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LockRange {
    /// The first byte.
    pub start: u64,
    /// The last byte (inclusive).
    pub end: u64,
}

impl LockRange {
    /// Returns the range from `start` to the end of the file.
    pub const fn to_eof(start: u64) -> LockRange {
        LockRange {
            start,
            end: LOCK_EOF,
        }
    }

    /// Returns `true` if the two ranges share a byte.
    pub const fn overlaps(&self, other: &LockRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Returns `true` if the two ranges share a byte or touch.
    const fn overlaps_or_touches(&self, other: &LockRange) -> bool {
        self.start <= other.end.saturating_add(1) && other.start <= self.end.saturating_add(1)
    }

    /// Returns the `l_start` and `l_len` fields `F_GETLK` reports for this
    /// range (`l_len` 0 for "to end of file").
    pub fn to_flock_fields(&self) -> (i64, i64) {
        let start = i64::try_from(self.start).unwrap_or(i64::MAX);
        let len = if self.end == LOCK_EOF {
            0
        } else {
            i64::try_from(self.end - self.start + 1).unwrap_or(i64::MAX)
        };
        (start, len)
    }
}

/// Computes the byte range of a `struct flock` as Linux's
/// `flock_to_posix_lock` does: `l_start` is relative to `whence` (the file
/// description's `offset` or the file's `size` for `SEEK_CUR`/`SEEK_END`);
/// `len > 0` covers `len` bytes from there, `len == 0` extends to the end
/// of the file, `len < 0` covers the `-len` bytes before it.
///
/// Errors: `EOVERFLOW` if the range passes the largest file offset,
/// `EINVAL` if it starts before byte 0 or `whence` is `SEEK_DATA` or
/// `SEEK_HOLE`.
pub fn compute_range(
    whence: Whence,
    start: i64,
    len: i64,
    offset: u64,
    size: u64,
) -> Result<LockRange, Errno> {
    let base = match whence {
        Whence::Set => 0,
        Whence::Cur => offset,
        Whence::End => size,
        Whence::Data | Whence::Hole => return Err(Errno::EINVAL),
    };
    let base = i64::try_from(base).map_err(|_| Errno::EOVERFLOW)?;
    let first = base.checked_add(start).ok_or(Errno::EOVERFLOW)?;
    if first < 0 {
        return Err(Errno::EINVAL);
    }
    let (first, last) = match len {
        0 => return Ok(LockRange::to_eof(first as u64)),
        len if len > 0 => (first, first.checked_add(len - 1).ok_or(Errno::EOVERFLOW)?),
        len => {
            // `first >= 0` and `len < 0`, so neither can overflow.
            let new_first = first + len;
            if new_first < 0 {
                return Err(Errno::EINVAL);
            }
            (new_first, first - 1)
        }
    };
    Ok(LockRange {
        start: first as u64,
        end: last as u64,
    })
}

/// A record lock as `F_GETLK` reports it: the first lock that conflicts
/// with a tested request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLock {
    /// Who holds it.
    pub owner: LockOwner,
    /// Its type.
    pub kind: LockKind,
    /// Its bytes.
    pub range: LockRange,
    /// The pid `F_GETLK` reports: the holder's for a POSIX lock, -1 for an
    /// OFD lock.
    pub pid: i32,
}

impl RecordLock {
    /// Returns the `struct flock` that `F_GETLK` writes back for this
    /// conflicting lock (`l_whence` is `SEEK_SET`).
    pub fn to_flock(&self) -> Flock {
        let (l_start, l_len) = self.range.to_flock_fields();
        Flock {
            l_type: self.kind.to_lock_type() as i16,
            l_whence: Whence::Set as i16,
            l_start,
            l_len,
            l_pid: self.pid,
            ..Flock::default()
        }
    }

    /// Returns the `struct flock` that `F_GETLK` writes back when nothing
    /// conflicts: the request with `l_type` set to `F_UNLCK`.
    pub fn unlocked(request: &Flock) -> Flock {
        Flock {
            l_type: LockType::UNLCK as i16,
            ..*request
        }
    }
}

/// The type of a flock lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlockKind {
    /// `LOCK_SH`.
    Shared,
    /// `LOCK_EX`.
    Exclusive,
}

/// How a blocking lock request waits (the task's blocking hook).
pub trait Blocker {
    /// Blocks until `ready()` returns `true`, re-checking it whenever
    /// `queue` is notified with [`EventMask::IN`]. To not miss a
    /// notification, register with `queue` before the first check.
    ///
    /// Returns `Ok(())` once `ready()` held, or an error (`EINTR` when a
    /// signal interrupts the wait) that the lock request then returns.
    fn block(&self, queue: &WaiterQueue, ready: &dyn Fn() -> bool) -> Result<(), Errno>;
}

/// One edge of the waits-for graph: a blocked POSIX request.
struct WaitEdge {
    token: u64,
    waiter: LockOwner,
    holder: LockOwner,
}

/// The registry shared by the lock sets of all inodes: which POSIX owner
/// waits for which (Linux's `blocked_hash`), for deadlock detection.
#[derive(Default)]
pub struct LockTable {
    edges: Mutex<Vec<WaitEdge>>,
    next_token: AtomicU64,
}

impl LockTable {
    /// Creates an empty registry.
    pub const fn new() -> LockTable {
        LockTable {
            edges: Mutex::new(Vec::new()),
            next_token: AtomicU64::new(0),
        }
    }

    /// Returns `true` if `owner` has a blocked POSIX lock request.
    pub fn is_blocked(&self, owner: LockOwner) -> bool {
        self.edges.lock().iter().any(|e| e.waiter == owner)
    }

    /// Returns `true` if `waiter` blocking on a lock of `holder` would close
    /// a cycle: following what each owner waits for from `holder` reaches
    /// `waiter`.
    fn would_deadlock(edges: &[WaitEdge], waiter: LockOwner, holder: LockOwner) -> bool {
        let mut current = holder;
        for _ in 0..MAX_DEADLOCK_ITERATIONS {
            match edges.iter().find(|e| e.waiter == current) {
                Some(edge) if edge.holder == waiter => return true,
                Some(edge) => current = edge.holder,
                None => return false,
            }
        }
        false
    }

    /// Records (or updates) that request `token` of `waiter` waits for
    /// `holder`, unless that deadlocks.
    fn wait_for(&self, token: u64, waiter: LockOwner, holder: LockOwner) -> Result<(), Errno> {
        let mut edges = self.edges.lock();
        edges.retain(|e| e.token != token);
        if LockTable::would_deadlock(&edges, waiter, holder) {
            return Err(Errno::EDEADLK);
        }
        edges.push(WaitEdge {
            token,
            waiter,
            holder,
        });
        Ok(())
    }

    /// Forgets request `token`.
    fn done_waiting(&self, token: u64) {
        self.edges.lock().retain(|e| e.token != token);
    }
}

/// One record lock held.
#[derive(Clone, Copy, Debug)]
struct Held {
    owner: LockOwner,
    kind: LockKind,
    range: LockRange,
    pid: i32,
}

/// One flock lock held.
#[derive(Clone, Copy, Debug)]
struct HeldFlock {
    owner: u64,
    kind: FlockKind,
}

/// The locks of an inode.
#[derive(Default)]
struct LockState {
    /// Record locks, in insertion order (conflicts report the first).
    records: Vec<Held>,
    /// flock locks.
    flocks: Vec<HeldFlock>,
}

impl LockState {
    /// Returns the first record lock of another owner that conflicts with
    /// `kind` over `range`.
    fn record_conflict(&self, owner: LockOwner, kind: LockKind, range: LockRange) -> Option<&Held> {
        self.records.iter().find(|h| {
            h.owner != owner
                && h.range.overlaps(&range)
                && (kind == LockKind::Write || h.kind == LockKind::Write)
        })
    }

    /// Removes `owner`'s record locks over `range`, keeping the parts
    /// outside it. Returns `true` if anything changed.
    fn record_unlock(&mut self, owner: LockOwner, range: LockRange) -> bool {
        let mut changed = false;
        let mut kept = Vec::with_capacity(self.records.len() + 1);
        for h in self.records.drain(..) {
            if h.owner != owner || !h.range.overlaps(&range) {
                kept.push(h);
                continue;
            }
            changed = true;
            if h.range.start < range.start {
                kept.push(Held {
                    range: LockRange {
                        start: h.range.start,
                        end: range.start - 1,
                    },
                    ..h
                });
            }
            if h.range.end > range.end {
                kept.push(Held {
                    range: LockRange {
                        start: range.end + 1,
                        end: h.range.end,
                    },
                    ..h
                });
            }
        }
        self.records = kept;
        changed
    }

    /// Gives `owner` a `kind` lock over `range`: replaces its overlapping
    /// locks and merges with its overlapping or adjacent locks of the same
    /// kind.
    ///
    /// # Preconditions
    ///
    /// No other owner's lock conflicts.
    fn record_lock(&mut self, owner: LockOwner, pid: i32, kind: LockKind, range: LockRange) {
        let mut merged = range;
        for h in &self.records {
            if h.owner == owner && h.kind == kind && h.range.overlaps_or_touches(&merged) {
                merged.start = merged.start.min(h.range.start);
                merged.end = merged.end.max(h.range.end);
            }
        }
        // Removing the merged span also removes the same-kind locks that
        // were absorbed, since they lie inside it.
        self.record_unlock(owner, merged);
        self.records.push(Held {
            owner,
            kind,
            range: merged,
            pid,
        });
    }

    /// Returns the owner of a flock lock conflicting with `kind` for
    /// `owner`.
    fn flock_conflict(&self, owner: u64, kind: FlockKind) -> bool {
        self.flocks.iter().any(|f| {
            f.owner != owner && (kind == FlockKind::Exclusive || f.kind == FlockKind::Exclusive)
        })
    }
}

/// The locks of one inode.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use vfs_core::lock::{FileLocks, LockKind, LockOwner, LockRange, LockTable};
///
/// let locks = FileLocks::new(Arc::new(LockTable::new()));
/// let (a, b) = (LockOwner::Posix(1), LockOwner::Posix(2));
/// locks.set_lock(a, 100, LockKind::Write, LockRange { start: 0, end: 9 }, None).unwrap();
/// let held = locks.test_lock(b, LockKind::Read, LockRange::to_eof(5)).unwrap();
/// assert_eq!((held.pid, held.range.to_flock_fields()), (100, (0, 10)));
/// ```
pub struct FileLocks {
    table: Arc<LockTable>,
    state: Mutex<LockState>,
    /// Blocked requests wait here.
    queue: WaiterQueue,
    /// Incremented on every change, so blocked requests know when to retry.
    generation: AtomicU64,
}

/// The waits-for registry shared by every lock set made with
/// [`FileLocks::default`]: deadlocks between POSIX owners span inodes, so
/// one registry serves a whole kernel, as Linux's `blocked_hash` does.
static GLOBAL_LOCK_TABLE: spin::LazyLock<Arc<LockTable>> =
    spin::LazyLock::new(|| Arc::new(LockTable::new()));

impl Default for FileLocks {
    /// An empty lock set using the process-wide waits-for registry.
    fn default() -> Self {
        FileLocks::new(Arc::clone(&GLOBAL_LOCK_TABLE))
    }
}

impl FileLocks {
    /// Creates an inode's empty lock set registered with `table`.
    pub fn new(table: Arc<LockTable>) -> FileLocks {
        FileLocks {
            table,
            state: Mutex::new(LockState::default()),
            queue: WaiterQueue::new(),
            generation: AtomicU64::new(0),
        }
    }

    /// Wakes blocked requests after a change.
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.queue.notify(EventMask::IN);
    }

    /// Returns `true` if some request is blocked on this inode's locks.
    pub fn has_waiters(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Waits for a change of the set, as `block` does.
    fn wait(&self, block: &dyn Blocker, seen: u64) -> Result<(), Errno> {
        block.block(&self.queue, &|| {
            self.generation.load(Ordering::Acquire) != seen
        })
    }

    /// `F_GETLK`/`F_OFD_GETLK`: returns the first lock of another owner that
    /// would conflict with `owner` taking a `kind` lock over `range`, or
    /// `None` (`F_UNLCK`).
    pub fn test_lock(
        &self,
        owner: LockOwner,
        kind: LockKind,
        range: LockRange,
    ) -> Option<RecordLock> {
        let state = self.state.lock();
        state
            .record_conflict(owner, kind, range)
            .map(|h| RecordLock {
                owner: h.owner,
                kind: h.kind,
                range: h.range,
                pid: match h.owner {
                    LockOwner::Posix(_) => h.pid,
                    LockOwner::Ofd(_) => -1,
                },
            })
    }

    /// `F_SETLK`/`F_SETLKW`/`F_OFD_SETLK`/`F_OFD_SETLKW` with `F_RDLCK` or
    /// `F_WRLCK`: gives `owner` (process `pid`) a `kind` lock over `range`.
    ///
    /// Without `block`, a conflict is `EAGAIN`. With it, the request waits
    /// for the conflicting locks to go; a POSIX request whose wait would
    /// close a cycle of POSIX owners waiting for each other fails with
    /// `EDEADLK`; an error from the blocker (`EINTR`) is returned.
    pub fn set_lock(
        &self,
        owner: LockOwner,
        pid: i32,
        kind: LockKind,
        range: LockRange,
        block: Option<&dyn Blocker>,
    ) -> Result<(), Errno> {
        if range.start > range.end {
            return Err(Errno::EINVAL);
        }
        let token = self.table.next_token.fetch_add(1, Ordering::Relaxed);
        let result = loop {
            let seen = {
                let mut state = self.state.lock();
                let Some(holder) = state.record_conflict(owner, kind, range).map(|h| h.owner)
                else {
                    state.record_lock(owner, pid, kind, range);
                    break Ok(());
                };
                let Some(_) = block else {
                    break Err(Errno::EAGAIN);
                };
                if let LockOwner::Posix(_) = owner
                    && let Err(e) = self.table.wait_for(token, owner, holder)
                {
                    break Err(e);
                }
                self.generation.load(Ordering::Acquire)
            };
            if let Some(block) = block
                && let Err(e) = self.wait(block, seen)
            {
                break Err(e);
            }
        };
        self.table.done_waiting(token);
        if result.is_ok() {
            self.changed();
        }
        result
    }

    /// `F_UNLCK`: releases `owner`'s record locks over `range` (splitting
    /// locks that extend past it). Unlocking what is not locked succeeds.
    pub fn unlock(&self, owner: LockOwner, range: LockRange) {
        let changed = self.state.lock().record_unlock(owner, range);
        if changed {
            self.changed();
        }
    }

    /// Releases all of `owner`'s record locks: for a POSIX owner when the
    /// process closes any descriptor of the inode, for an OFD owner on the
    /// description's last close.
    pub fn unlock_all(&self, owner: LockOwner) {
        self.unlock(owner, LockRange::to_eof(0));
    }

    /// `flock(2)` with `LOCK_SH` or `LOCK_EX`: gives the open file
    /// description `owner` a `kind` lock on the whole file.
    ///
    /// An existing lock of `owner` of the other kind is dropped first (the
    /// conversion is not atomic). Without `block` (`LOCK_NB`) a conflict is
    /// `EWOULDBLOCK`; with it, the request waits, and a blocker error
    /// (`EINTR`) is returned.
    pub fn flock(
        &self,
        owner: u64,
        kind: FlockKind,
        block: Option<&dyn Blocker>,
    ) -> Result<(), Errno> {
        loop {
            let mut dropped = false;
            let acquired = {
                let mut state = self.state.lock();
                if let Some(i) = state.flocks.iter().position(|f| f.owner == owner) {
                    if state.flocks[i].kind == kind {
                        return Ok(());
                    }
                    state.flocks.remove(i);
                    dropped = true;
                }
                let free = !state.flock_conflict(owner, kind);
                if free {
                    state.flocks.push(HeldFlock { owner, kind });
                }
                free
            };
            // The generation is read after any change this request made, so
            // that only later changes end the wait. A change by others
            // between the check above and this read ends the wait at once
            // and the request retries, which is harmless.
            if dropped || acquired {
                self.changed();
            }
            let seen = self.generation.load(Ordering::Acquire);
            if acquired {
                return Ok(());
            }
            match block {
                Some(block) => self.wait(block, seen)?,
                None => return Err(Errno::EWOULDBLOCK),
            }
        }
    }

    /// `flock(2)` with `LOCK_UN`, and the release on the last close of the
    /// open file description `owner`: drops its flock lock, if any.
    pub fn flock_release(&self, owner: u64) {
        let removed = {
            let mut state = self.state.lock();
            let before = state.flocks.len();
            state.flocks.retain(|f| f.owner != owner);
            state.flocks.len() != before
        };
        if removed {
            self.changed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use std::sync::{Condvar, Mutex as StdMutex};
    use std::thread;

    use crate::waiter::Waiter;

    const A: LockOwner = LockOwner::Posix(1);
    const B: LockOwner = LockOwner::Posix(2);

    fn locks() -> FileLocks {
        FileLocks::new(Arc::new(LockTable::new()))
    }

    fn r(start: u64, end: u64) -> LockRange {
        LockRange { start, end }
    }

    /// Returns `owner`'s locks, sorted, as (kind, range).
    fn held(locks: &FileLocks, owner: LockOwner) -> Vec<(LockKind, LockRange)> {
        let mut v: Vec<_> = locks
            .state
            .lock()
            .records
            .iter()
            .filter(|h| h.owner == owner)
            .map(|h| (h.kind, h.range))
            .collect();
        v.sort_by_key(|(_, range)| range.start);
        v
    }

    /// A blocker that parks the thread on a condition variable.
    struct ThreadBlocker;

    /// The waiter of a [`ThreadBlocker`].
    #[derive(Default)]
    struct Wakeup {
        woken: StdMutex<bool>,
        cv: Condvar,
    }

    impl Waiter for Wakeup {
        fn notify(&self, _mask: EventMask) {
            *self.woken.lock().unwrap() = true;
            self.cv.notify_all();
        }
    }

    impl Blocker for ThreadBlocker {
        fn block(&self, queue: &WaiterQueue, ready: &dyn Fn() -> bool) -> Result<(), Errno> {
            let wakeup = Arc::new(Wakeup::default());
            let id = queue.register(wakeup.clone(), EventMask::IN);
            while !ready() {
                let mut woken = wakeup.woken.lock().unwrap();
                while !*woken {
                    woken = wakeup.cv.wait(woken).unwrap();
                }
                *woken = false;
            }
            queue.unregister(id);
            Ok(())
        }
    }

    /// A blocker interrupted by a signal at once.
    struct InterruptedBlocker;

    impl Blocker for InterruptedBlocker {
        fn block(&self, _queue: &WaiterQueue, _ready: &dyn Fn() -> bool) -> Result<(), Errno> {
            Err(Errno::EINTR)
        }
    }

    /// Spins until `cond` holds; the other thread makes progress meanwhile.
    fn wait_until(cond: impl Fn() -> bool) {
        while !cond() {
            thread::yield_now();
        }
    }

    #[test]
    fn posix_lock_merges_adjacent_ranges_same_owner() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Read, r(0, 9), None).unwrap();
        l.set_lock(A, 1, LockKind::Read, r(10, 19), None).unwrap();
        l.set_lock(A, 1, LockKind::Read, r(15, 29), None).unwrap();
        assert_eq!(held(&l, A), vec![(LockKind::Read, r(0, 29))]);
    }

    #[test]
    fn posix_adjacent_ranges_of_different_types_stay_apart() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Read, r(0, 9), None).unwrap();
        l.set_lock(A, 1, LockKind::Write, r(10, 19), None).unwrap();
        assert_eq!(
            held(&l, A),
            vec![(LockKind::Read, r(0, 9)), (LockKind::Write, r(10, 19))]
        );
    }

    #[test]
    fn posix_unlock_middle_splits_range() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Write, r(0, 99), None).unwrap();
        l.unlock(A, r(40, 59));
        assert_eq!(
            held(&l, A),
            vec![(LockKind::Write, r(0, 39)), (LockKind::Write, r(60, 99))]
        );
    }

    #[test]
    fn posix_type_change_inside_range_splits_in_three() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Write, r(0, 99), None).unwrap();
        l.set_lock(A, 1, LockKind::Read, r(40, 59), None).unwrap();
        assert_eq!(
            held(&l, A),
            vec![
                (LockKind::Write, r(0, 39)),
                (LockKind::Read, r(40, 59)),
                (LockKind::Write, r(60, 99)),
            ]
        );
        // Another owner can now read-lock the middle only.
        assert!(l.set_lock(B, 2, LockKind::Read, r(45, 50), None).is_ok());
        assert_eq!(
            l.set_lock(B, 2, LockKind::Read, r(30, 50), None),
            Err(Errno::EAGAIN)
        );
    }

    #[test]
    fn posix_upgrade_in_place_when_no_other_reader() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Read, r(0, 9), None).unwrap();
        l.set_lock(A, 1, LockKind::Write, r(0, 9), None).unwrap();
        assert_eq!(held(&l, A), vec![(LockKind::Write, r(0, 9))]);
    }

    #[test]
    fn posix_upgrade_with_other_reader_is_eagain_and_keeps_read_lock() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Read, r(0, 9), None).unwrap();
        l.set_lock(B, 2, LockKind::Read, r(5, 9), None).unwrap();
        assert_eq!(
            l.set_lock(A, 1, LockKind::Write, r(0, 9), None),
            Err(Errno::EAGAIN)
        );
        assert_eq!(held(&l, A), vec![(LockKind::Read, r(0, 9))]);
    }

    #[test]
    fn posix_conflict_between_owners_is_eagain() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Write, r(10, 19), None).unwrap();
        assert_eq!(
            l.set_lock(B, 2, LockKind::Read, r(19, 30), None),
            Err(Errno::EAGAIN)
        );
        assert!(l.set_lock(B, 2, LockKind::Write, r(20, 30), None).is_ok());
    }

    #[test]
    fn posix_readers_share() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Read, r(0, 9), None).unwrap();
        assert!(l.set_lock(B, 2, LockKind::Read, r(0, 9), None).is_ok());
    }

    #[test]
    fn getlk_reports_conflicting_lock() {
        let l = locks();
        l.set_lock(A, 1234, LockKind::Read, r(100, 199), None)
            .unwrap();
        let c = l.test_lock(B, LockKind::Write, r(150, 150)).unwrap();
        assert_eq!(
            (c.kind, c.range.to_flock_fields(), c.pid),
            (LockKind::Read, (100, 100), 1234)
        );
        assert_eq!(l.test_lock(B, LockKind::Read, r(150, 150)), None);
        assert_eq!(l.test_lock(A, LockKind::Write, r(150, 150)), None);
    }

    #[test]
    fn getlk_reports_len_zero_for_lock_to_eof() {
        let l = locks();
        l.set_lock(A, 7, LockKind::Write, LockRange::to_eof(4096), None)
            .unwrap();
        let c = l.test_lock(B, LockKind::Read, r(1 << 40, 1 << 40)).unwrap();
        assert_eq!(c.range.to_flock_fields(), (4096, 0));
    }

    #[test]
    fn ofd_getlk_reports_pid_minus_one() {
        let l = locks();
        l.set_lock(LockOwner::Ofd(9), 1234, LockKind::Write, r(0, 9), None)
            .unwrap();
        let c = l.test_lock(A, LockKind::Read, r(0, 0)).unwrap();
        assert_eq!((c.pid, c.owner), (-1, LockOwner::Ofd(9)));
    }

    #[test]
    fn ofd_and_posix_locks_conflict() {
        let l = locks();
        l.set_lock(LockOwner::Ofd(1), 5, LockKind::Write, r(0, 9), None)
            .unwrap();
        assert_eq!(
            l.set_lock(LockOwner::Posix(1), 5, LockKind::Write, r(0, 9), None),
            Err(Errno::EAGAIN)
        );
    }

    #[test]
    fn unlock_all_releases_every_range_of_owner_only() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Write, r(0, 9), None).unwrap();
        l.set_lock(A, 1, LockKind::Read, r(50, 59), None).unwrap();
        l.set_lock(B, 2, LockKind::Read, r(100, 109), None).unwrap();
        l.unlock_all(A);
        assert!(held(&l, A).is_empty());
        assert_eq!(held(&l, B), vec![(LockKind::Read, r(100, 109))]);
    }

    #[test]
    fn negative_len_locks_before_start() {
        assert_eq!(compute_range(Whence::Set, 100, -10, 0, 0), Ok(r(90, 99)));
        assert_eq!(compute_range(Whence::Set, 5, -10, 0, 0), Err(Errno::EINVAL));
    }

    #[test]
    fn zero_len_locks_to_eof() {
        assert_eq!(
            compute_range(Whence::Cur, 10, 0, 90, 0),
            Ok(LockRange::to_eof(100))
        );
    }

    #[test]
    fn whence_end_is_relative_to_size() {
        assert_eq!(compute_range(Whence::End, -4, 4, 0, 10), Ok(r(6, 9)));
        assert_eq!(
            compute_range(Whence::End, -11, 1, 0, 10),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn start_beyond_i64_is_eoverflow() {
        assert_eq!(
            compute_range(Whence::Cur, i64::MAX, 1, 1, 0),
            Err(Errno::EOVERFLOW)
        );
        assert_eq!(
            compute_range(Whence::Set, i64::MAX, 2, 0, 0),
            Err(Errno::EOVERFLOW)
        );
        assert_eq!(
            compute_range(Whence::Set, i64::MAX, 1, 0, 0),
            Ok(r(i64::MAX as u64, i64::MAX as u64))
        );
        assert_eq!(
            compute_range(Whence::End, 0, 1, 0, u64::MAX),
            Err(Errno::EOVERFLOW)
        );
    }

    #[test]
    fn seek_data_and_hole_whence_are_einval() {
        assert_eq!(compute_range(Whence::Data, 0, 1, 0, 0), Err(Errno::EINVAL));
        assert_eq!(compute_range(Whence::Hole, 0, 1, 0, 0), Err(Errno::EINVAL));
    }

    #[test]
    fn getlk_flock_carries_type_range_and_pid() {
        let l = locks();
        l.set_lock(A, 77, LockKind::Write, r(10, 19), None).unwrap();
        let fl = l.test_lock(B, LockKind::Read, r(0, 99)).unwrap().to_flock();
        assert_eq!(
            (fl.l_type, fl.l_whence, fl.l_start, fl.l_len, fl.l_pid),
            (libc::F_WRLCK as i16, libc::SEEK_SET as i16, 10, 10, 77)
        );
        let request = Flock {
            l_type: LockType::RDLCK as i16,
            l_len: 5,
            ..Flock::default()
        };
        assert_eq!(RecordLock::unlocked(&request).l_type, libc::F_UNLCK as i16);
    }

    #[test]
    fn flock_shared_then_exclusive_conflict() {
        let l = locks();
        l.flock(1, FlockKind::Shared, None).unwrap();
        l.flock(2, FlockKind::Shared, None).unwrap();
        assert_eq!(
            l.flock(3, FlockKind::Exclusive, None),
            Err(Errno::EWOULDBLOCK)
        );
    }

    #[test]
    fn flock_failed_conversion_drops_old_lock() {
        let l = locks();
        l.flock(1, FlockKind::Shared, None).unwrap();
        l.flock(2, FlockKind::Shared, None).unwrap();
        assert_eq!(
            l.flock(1, FlockKind::Exclusive, None),
            Err(Errno::EWOULDBLOCK)
        );
        // Owner 1 holds nothing now, so owner 2 can upgrade.
        assert!(l.flock(2, FlockKind::Exclusive, None).is_ok());
    }

    #[test]
    fn flock_release_lets_others_lock() {
        let l = locks();
        l.flock(1, FlockKind::Exclusive, None).unwrap();
        l.flock(1, FlockKind::Exclusive, None).unwrap();
        l.flock_release(1);
        assert!(l.flock(2, FlockKind::Exclusive, None).is_ok());
    }

    #[test]
    fn flock_and_record_locks_do_not_interact() {
        let l = locks();
        l.flock(1, FlockKind::Exclusive, None).unwrap();
        assert!(l.set_lock(B, 2, LockKind::Write, r(0, 9), None).is_ok());
    }

    #[test]
    fn interrupted_blocking_lock_is_eintr_and_leaves_no_waiter() {
        let l = locks();
        l.set_lock(A, 1, LockKind::Write, r(0, 9), None).unwrap();
        assert_eq!(
            l.set_lock(B, 2, LockKind::Read, r(0, 0), Some(&InterruptedBlocker)),
            Err(Errno::EINTR)
        );
        assert!(!l.table.is_blocked(B));
        assert!(held(&l, B).is_empty());
    }

    #[test]
    fn blocked_lock_proceeds_when_other_thread_unlocks() {
        let l = Arc::new(locks());
        l.set_lock(A, 1, LockKind::Write, r(0, 99), None).unwrap();
        let waiter = {
            let l = l.clone();
            thread::spawn(move || {
                l.set_lock(B, 2, LockKind::Write, r(50, 50), Some(&ThreadBlocker))
            })
        };
        wait_until(|| l.table.is_blocked(B));

        l.unlock(A, r(0, 99));

        assert_eq!(waiter.join().unwrap(), Ok(()));
        assert_eq!(held(&l, B), vec![(LockKind::Write, r(50, 50))]);
        assert!(!l.table.is_blocked(B));
    }

    #[test]
    fn blocked_flock_proceeds_when_other_description_releases() {
        let l = Arc::new(locks());
        l.flock(1, FlockKind::Exclusive, None).unwrap();
        let waiter = {
            let l = l.clone();
            thread::spawn(move || l.flock(2, FlockKind::Shared, Some(&ThreadBlocker)))
        };
        wait_until(|| l.has_waiters());

        l.flock_release(1);

        assert_eq!(waiter.join().unwrap(), Ok(()));
        assert_eq!(
            l.flock(3, FlockKind::Exclusive, None),
            Err(Errno::EWOULDBLOCK)
        );
    }

    #[test]
    fn deadlock_between_two_owners_is_edeadlk() {
        let l = Arc::new(locks());
        l.set_lock(A, 1, LockKind::Write, r(0, 9), None).unwrap();
        l.set_lock(B, 2, LockKind::Write, r(10, 19), None).unwrap();
        let a_waits = {
            let l = l.clone();
            thread::spawn(move || {
                l.set_lock(A, 1, LockKind::Write, r(10, 19), Some(&ThreadBlocker))
            })
        };
        wait_until(|| l.table.is_blocked(A));

        assert_eq!(
            l.set_lock(B, 2, LockKind::Write, r(0, 9), Some(&ThreadBlocker)),
            Err(Errno::EDEADLK)
        );

        l.unlock(B, r(10, 19));
        assert_eq!(a_waits.join().unwrap(), Ok(()));
    }

    #[test]
    fn deadlock_across_inodes_through_shared_table() {
        let table = Arc::new(LockTable::new());
        let f1 = Arc::new(FileLocks::new(table.clone()));
        let f2 = FileLocks::new(table.clone());
        f1.set_lock(A, 1, LockKind::Write, r(0, 0), None).unwrap();
        f2.set_lock(B, 2, LockKind::Write, r(0, 0), None).unwrap();
        let b_waits = {
            let f1 = f1.clone();
            thread::spawn(move || f1.set_lock(B, 2, LockKind::Write, r(0, 0), Some(&ThreadBlocker)))
        };
        wait_until(|| table.is_blocked(B));

        assert_eq!(
            f2.set_lock(A, 1, LockKind::Write, r(0, 0), Some(&ThreadBlocker)),
            Err(Errno::EDEADLK)
        );

        f1.unlock_all(A);
        assert_eq!(b_waits.join().unwrap(), Ok(()));
    }

    #[test]
    fn ofd_blocking_requests_skip_deadlock_detection() {
        let (x, y) = (LockOwner::Ofd(1), LockOwner::Ofd(2));
        let l = Arc::new(locks());
        l.set_lock(x, 1, LockKind::Write, r(0, 9), None).unwrap();
        l.set_lock(y, 1, LockKind::Write, r(10, 19), None).unwrap();
        let x_waits = {
            let l = l.clone();
            thread::spawn(move || {
                l.set_lock(x, 1, LockKind::Write, r(10, 19), Some(&ThreadBlocker))
            })
        };
        wait_until(|| l.has_waiters());
        // An OFD request is never refused with EDEADLK: it would block, so
        // the interrupted blocker reports EINTR instead.
        assert_eq!(
            l.set_lock(y, 1, LockKind::Write, r(0, 9), Some(&InterruptedBlocker)),
            Err(Errno::EINTR)
        );
        l.unlock_all(y);
        assert_eq!(x_waits.join().unwrap(), Ok(()));
    }

    /// The same scenarios run against the Linux kernel's own locks on a
    /// temporary file, with one open file description per owner.
    mod kernel_oracle {
        use super::*;
        use nix::fcntl::{FcntlArg, Flock, FlockArg, fcntl};
        use std::fs::{File, OpenOptions};
        use std::io::{Seek, SeekFrom};
        use std::path::PathBuf;

        /// A temporary file, removed on drop.
        struct TempFile(PathBuf);

        impl TempFile {
            fn new(name: &str) -> TempFile {
                let path = std::env::temp_dir()
                    .join(std::format!("vfs-leaf-lock-{}-{name}", std::process::id()));
                File::create(&path).unwrap();
                TempFile(path)
            }

            fn open(&self) -> File {
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&self.0)
                    .unwrap()
            }
        }

        impl Drop for TempFile {
            fn drop(&mut self) {
                // Best effort: a leftover file in the temp dir is harmless.
                let _ = std::fs::remove_file(&self.0);
            }
        }

        fn flock_struct(kind: libc::c_short, whence: i16, start: i64, len: i64) -> libc::flock {
            libc::flock {
                l_type: kind,
                l_whence: whence,
                l_start: start,
                l_len: len,
                l_pid: 0,
            }
        }

        fn raw_kind(kind: Option<LockKind>) -> libc::c_short {
            (match kind {
                None => libc::F_UNLCK,
                Some(LockKind::Read) => libc::F_RDLCK,
                Some(LockKind::Write) => libc::F_WRLCK,
            }) as libc::c_short
        }

        /// F_OFD_SETLK on the kernel; returns the errno.
        fn kernel_set(f: &File, kind: Option<LockKind>, start: i64, len: i64) -> Result<(), Errno> {
            let fl = flock_struct(raw_kind(kind), libc::SEEK_SET as i16, start, len);
            fcntl(f, FcntlArg::F_OFD_SETLK(&fl))
                .map(|_| ())
                .map_err(|e| Errno::from_raw(e as i32).unwrap())
        }

        /// F_OFD_GETLK on the kernel: (type, start, len) of the conflict.
        fn kernel_get(
            f: &File,
            kind: LockKind,
            start: i64,
            len: i64,
        ) -> Option<(LockKind, i64, i64)> {
            let mut fl = flock_struct(raw_kind(Some(kind)), libc::SEEK_SET as i16, start, len);
            fcntl(f, FcntlArg::F_OFD_GETLK(&mut fl)).unwrap();
            match fl.l_type as libc::c_int {
                libc::F_UNLCK => None,
                libc::F_RDLCK => Some((LockKind::Read, fl.l_start, fl.l_len)),
                _ => Some((LockKind::Write, fl.l_start, fl.l_len)),
            }
        }

        #[test]
        fn flock_conversion_matches_kernel() {
            let tmp = TempFile::new("flock");
            let k1 = Flock::lock(tmp.open(), FlockArg::LockSharedNonblock).unwrap();
            let k2 = Flock::lock(tmp.open(), FlockArg::LockSharedNonblock).unwrap();
            let kernel_upgrade_1 = k1.relock(FlockArg::LockExclusiveNonblock).is_ok();
            let kernel_upgrade_2 = k2.relock(FlockArg::LockExclusiveNonblock).is_ok();

            let l = locks();
            l.flock(1, FlockKind::Shared, None).unwrap();
            l.flock(2, FlockKind::Shared, None).unwrap();
            let ours_1 = l.flock(1, FlockKind::Exclusive, None).is_ok();
            let ours_2 = l.flock(2, FlockKind::Exclusive, None).is_ok();

            assert_eq!((ours_1, ours_2), (kernel_upgrade_1, kernel_upgrade_2));
        }

        #[test]
        fn compute_range_matches_kernel() {
            let tmp = TempFile::new("range");
            let mut holder = tmp.open();
            let probe = tmp.open();
            holder.set_len(1000).unwrap();
            holder.seek(SeekFrom::Start(300)).unwrap();
            let cases: [(i16, i64, i64); 10] = [
                (0, 100, 10),
                (0, 100, -10),
                (0, 5, -10),
                (0, 100, 0),
                (1, -50, 20),
                (1, 10, -310),
                (2, -4, 4),
                (2, -1001, 1),
                (0, i64::MAX, 2),
                (1, i64::MAX, 1),
            ];
            for (whence, start, len) in cases {
                let fl = flock_struct(libc::F_WRLCK as libc::c_short, whence, start, len);
                let kernel = fcntl(&holder, FcntlArg::F_OFD_SETLK(&fl))
                    .map_err(|e| Errno::from_raw(e as i32).unwrap())
                    .map(|_| kernel_get(&probe, LockKind::Read, 0, 0).unwrap());
                let ours = compute_range(
                    Whence::from_raw(i32::from(whence)).unwrap(),
                    start,
                    len,
                    300,
                    1000,
                )
                .map(|range| {
                    let (s, l) = range.to_flock_fields();
                    (LockKind::Write, s, l)
                });
                assert_eq!(ours, kernel, "whence {whence} start {start} len {len}");
                kernel_set(&holder, None, 0, 0).unwrap();
            }
        }

        /// Random OFD lock operations by three owners, compared with the
        /// kernel after every step through write-lock conflicts (unique per
        /// byte, so the kernel's report is exact) and read-lock presence.
        #[test]
        fn ofd_lock_sequence_matches_kernel() {
            const SPAN: u64 = 48;
            let tmp = TempFile::new("ofd");
            let files: Vec<File> = (0..3).map(|_| tmp.open()).collect();
            let probe = tmp.open();
            let l = locks();
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            let mut next = |n: u64| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed % n
            };
            for step in 0..600 {
                let who = next(3) as usize;
                let owner = LockOwner::Ofd(who as u64);
                let start = next(SPAN);
                let len = next(12);
                let kind = match next(3) {
                    0 => None,
                    1 => Some(LockKind::Read),
                    _ => Some(LockKind::Write),
                };
                let range = if len == 0 {
                    LockRange::to_eof(start)
                } else {
                    LockRange {
                        start,
                        end: start + len - 1,
                    }
                };
                let kernel = kernel_set(&files[who], kind, start as i64, len as i64);
                let ours = match kind {
                    None => {
                        l.unlock(owner, range);
                        Ok(())
                    }
                    Some(k) => l.set_lock(owner, 0, k, range, None),
                };
                assert_eq!(ours, kernel, "step {step}");
                for byte in 0..SPAN + 2 {
                    let probe_owner = LockOwner::Ofd(99);
                    let kernel_w = kernel_get(&probe, LockKind::Read, byte as i64, 1);
                    let ours_w = l
                        .test_lock(
                            probe_owner,
                            LockKind::Read,
                            LockRange {
                                start: byte,
                                end: byte,
                            },
                        )
                        .map(|c| {
                            let (s, len) = c.range.to_flock_fields();
                            (c.kind, s, len)
                        });
                    assert_eq!(ours_w, kernel_w, "step {step} byte {byte}");
                    let kernel_any = kernel_get(&probe, LockKind::Write, byte as i64, 1).is_some();
                    let ours_any = l
                        .test_lock(
                            probe_owner,
                            LockKind::Write,
                            LockRange {
                                start: byte,
                                end: byte,
                            },
                        )
                        .is_some();
                    assert_eq!(ours_any, kernel_any, "step {step} byte {byte}");
                }
            }
        }
    }
}
