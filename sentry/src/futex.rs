//! Futexes (gVisor's `kernel/futex`, Linux's `kernel/futex`): queues of
//! waiting threads keyed by the futex word's identity, with the value
//! check done atomically on application memory while the queues' lock is
//! held, so a wake between the check and the sleep is never lost.
//!
//! A key is private (an address space and an address: `FUTEX_PRIVATE_FLAG`
//! or private memory) or shared (the shared-memory object or the mapped
//! file and the offset in it), so futexes work between processes that
//! share memory after `fork` or through a shared file mapping.
//!
//! Priority-inheritance futexes (`FUTEX_LOCK_PI` and friends) keep Linux's
//! word protocol (owner TID, `FUTEX_WAITERS`, `FUTEX_OWNER_DIED`) and hand
//! the lock to the first waiter on unlock; the sentry has no priorities to
//! boost, so inheritance itself has no effect.
//!
//! # Lock order
//!
//! `Futexes::state` → the memory manager's locks (the value check) → a
//! waiter's waker lock.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use abi_linux::Errno;
use abi_linux::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};

use crate::mm::MemoryManager;
use crate::wait::TaskWaker;

/// The identity of a futex word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FutexKey {
    /// A word in private memory: the memory manager and the address.
    Private {
        /// [`MemoryManager::id`].
        mm: u64,
        /// The word's address.
        addr: u64,
    },
    /// A word in shared anonymous memory: the object and the offset.
    Anonymous {
        /// The shared-memory object's id.
        object: u64,
        /// The word's offset in it.
        offset: u64,
    },
    /// A word in a shared file mapping: the file and the offset.
    File {
        /// The file's device.
        dev: u64,
        /// The file's inode number.
        ino: u64,
        /// The word's offset in the file.
        offset: u64,
    },
}

/// `woken` of a waiter that was handed a PI lock.
const GRANTED: u64 = 1 << 63;

/// A waiting thread.
#[derive(Debug)]
struct Waiter {
    id: u64,
    waker: Arc<TaskWaker>,
    bitset: u32,
    /// The waiting thread's ID (the new owner when a PI lock is handed
    /// over).
    tid: i32,
    /// 0 while waiting; the index of the key that woke it plus one
    /// (`futex_waitv`), with [`GRANTED`] when it was given a PI lock.
    woken: Arc<AtomicU64>,
    /// The waiter's index among the keys it waits on (`futex_waitv`).
    index: u64,
    /// A `FUTEX_WAIT_REQUEUE_PI` waiter: the PI futex it may be moved to.
    requeue_pi: Option<FutexKey>,
    /// Waiting for a PI lock (not a plain wake).
    pi: bool,
}

#[derive(Debug, Default)]
struct State {
    queues: HashMap<FutexKey, VecDeque<Waiter>>,
    next_id: u64,
}

impl State {
    /// Removes and wakes up to `n` waiters of `key` whose bitset meets
    /// `bitset`; returns how many.
    fn wake(&mut self, key: FutexKey, n: usize, bitset: u32) -> usize {
        let Some(queue) = self.queues.get_mut(&key) else {
            return 0;
        };
        let mut woken = 0;
        let mut i = 0;
        while i < queue.len() && woken < n {
            if queue[i].bitset & bitset != 0 && !queue[i].pi {
                if let Some(w) = queue.remove(i) {
                    w.woken.store(w.index + 1, Ordering::SeqCst);
                    w.waker.notify_one();
                    woken += 1;
                }
            } else {
                i += 1;
            }
        }
        if queue.is_empty() {
            self.queues.remove(&key);
        }
        woken
    }

    /// Removes the waiter `id` from `keys`' queues; returns whether it was
    /// still queued.
    fn remove(&mut self, keys: &[FutexKey], id: u64) -> bool {
        let mut found = false;
        for key in keys {
            if let Some(queue) = self.queues.get_mut(key) {
                let before = queue.len();
                queue.retain(|w| w.id != id);
                found |= queue.len() != before;
                if queue.is_empty() {
                    self.queues.remove(key);
                }
            }
        }
        found
    }

    /// Removes the waiter `id` wherever a requeue moved it.
    fn remove_anywhere(&mut self, id: u64) -> bool {
        let keys: Vec<FutexKey> = self
            .queues
            .iter()
            .filter(|(_, q)| q.iter().any(|w| w.id == id))
            .map(|(k, _)| *k)
            .collect();
        self.remove(&keys, id)
    }

    fn push(&mut self, key: FutexKey, waiter: Waiter) {
        self.queues.entry(key).or_default().push_back(waiter);
    }

    /// Removes the first PI waiter of `key`; returns it and whether other
    /// PI waiters remain.
    fn take_pi_waiter(&mut self, key: FutexKey) -> (Option<Waiter>, bool) {
        let next = self
            .queues
            .get_mut(&key)
            .and_then(|q| q.iter().position(|w| w.pi).and_then(|i| q.remove(i)));
        let more = self
            .queues
            .get(&key)
            .is_some_and(|q| q.iter().any(|w| w.pi));
        if self.queues.get(&key).is_some_and(|q| q.is_empty()) {
            self.queues.remove(&key);
        }
        (next, more)
    }

    /// Queues a waiter for the calling thread on each of `keys` (the
    /// index of each is its position), sharing `woken`; returns its id.
    fn enqueue(
        &mut self,
        keys: &[FutexKey],
        waker: &Arc<TaskWaker>,
        woken: &Arc<AtomicU64>,
        how: WaitHow,
    ) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        for (i, &key) in keys.iter().enumerate() {
            self.push(
                key,
                Waiter {
                    id,
                    waker: waker.clone(),
                    bitset: how.bitset,
                    tid: how.tid,
                    woken: woken.clone(),
                    index: i as u64,
                    requeue_pi: how.requeue_pi,
                    pi: how.pi,
                },
            );
        }
        id
    }

    fn has_waiters(&self, key: FutexKey) -> bool {
        self.queues.get(&key).is_some_and(|q| !q.is_empty())
    }
}

/// What kind of waiter [`State::enqueue`] queues.
#[derive(Clone, Copy, Debug)]
struct WaitHow {
    tid: i32,
    bitset: u32,
    requeue_pi: Option<FutexKey>,
    pi: bool,
}

/// How a wait ended when it did not end with a wake: `ETIMEDOUT`, or,
/// interrupted, a restart unless a handler without `SA_RESTART` runs
/// (no timeout) or unless any handler runs (a timeout), as Linux's
/// `futex_wait` answers.
fn timed_out_or_interrupted(deadline: Option<Instant>) -> Errno {
    match deadline {
        Some(d) if Instant::now() >= d => Errno::ETIMEDOUT,
        Some(_) => Errno::ERESTARTNOHAND,
        None => Errno::ERESTARTSYS,
    }
}

/// One word of a `futex_waitv` vector.
#[derive(Clone, Copy, Debug)]
pub struct WaitvEntry {
    /// The key of the word.
    pub key: FutexKey,
    /// The word's address.
    pub addr: u64,
    /// The value expected there.
    pub val: u32,
}

/// The sandbox's futex queues.
#[derive(Debug, Default)]
pub struct Futexes {
    state: Mutex<State>,
}

/// What a waiting thread needs besides the word: who it is and when to
/// stop waiting.
pub struct WaitContext<'a> {
    /// The waiting thread's ID.
    pub tid: i32,
    /// When the wait times out (`ETIMEDOUT`), if ever.
    pub deadline: Option<Instant>,
    /// Whether the thread must stop waiting (killed, or a signal for a
    /// handler is pending): the wait ends with `EINTR`.
    pub interrupted: &'a dyn Fn() -> bool,
}

impl Futexes {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Parks until `woken` is set, the deadline passes or the thread is
    /// interrupted; returns the final `woken` value, or the errno of the
    /// end of the wait after removing the waiter from every queue.
    fn sleep(
        &self,
        waker: &TaskWaker,
        woken: &AtomicU64,
        id: u64,
        cx: &WaitContext<'_>,
    ) -> Result<u64, Errno> {
        loop {
            let w = woken.load(Ordering::SeqCst);
            if w != 0 {
                return Ok(w);
            }
            let expired = cx.deadline.is_some_and(|d| Instant::now() >= d);
            if expired || (cx.interrupted)() {
                let mut st = self.state();
                let w = woken.load(Ordering::SeqCst);
                if w != 0 {
                    return Ok(w);
                }
                st.remove_anywhere(id);
                return Err(timed_out_or_interrupted(cx.deadline));
            }
            waker.wait(cx.deadline);
        }
    }

    /// `FUTEX_WAIT`/`FUTEX_WAIT_BITSET`: sleeps on `key` if the word at
    /// `addr` still holds `val` (else `EAGAIN`) until a wake whose bitset
    /// meets `bitset`.
    pub fn wait(
        &self,
        mm: &MemoryManager,
        key: FutexKey,
        addr: u64,
        val: u32,
        bitset: u32,
        cx: &WaitContext<'_>,
    ) -> Result<(), Errno> {
        self.wait_inner(mm, key, addr, val, bitset, None, cx)
            .map(drop)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the futex(2) arguments, decoded once by the caller"
    )]
    fn wait_inner(
        &self,
        mm: &MemoryManager,
        key: FutexKey,
        addr: u64,
        val: u32,
        bitset: u32,
        requeue_pi: Option<FutexKey>,
        cx: &WaitContext<'_>,
    ) -> Result<u64, Errno> {
        let waker = TaskWaker::new();
        let woken = Arc::new(AtomicU64::new(0));
        let id = {
            let mut st = self.state();
            if mm.atomic_u32(addr, false, |w| w.load(Ordering::SeqCst))? != val {
                return Err(Errno::EAGAIN);
            }
            let how = WaitHow {
                tid: cx.tid,
                bitset,
                requeue_pi,
                pi: false,
            };
            st.enqueue(&[key], &waker, &woken, how)
        };
        self.sleep(&waker, &woken, id, cx)
    }

    /// `futex_waitv`: sleeps on every word of `entries` if each still
    /// holds its value (else `EAGAIN`); returns the index of the one
    /// woken.
    pub fn waitv(
        &self,
        mm: &MemoryManager,
        entries: &[WaitvEntry],
        cx: &WaitContext<'_>,
    ) -> Result<usize, Errno> {
        let waker = TaskWaker::new();
        let woken = Arc::new(AtomicU64::new(0));
        let keys: Vec<FutexKey> = entries.iter().map(|e| e.key).collect();
        let id = {
            let mut st = self.state();
            for e in entries {
                if mm.atomic_u32(e.addr, false, |w| w.load(Ordering::SeqCst))? != e.val {
                    return Err(Errno::EAGAIN);
                }
            }
            let how = WaitHow {
                tid: cx.tid,
                bitset: u32::MAX,
                requeue_pi: None,
                pi: false,
            };
            st.enqueue(&keys, &waker, &woken, how)
        };
        let w = self.sleep(&waker, &woken, id, cx)?;
        // The other words' entries are still queued.
        self.state().remove(&keys, id);
        Ok(((w & !GRANTED) - 1) as usize)
    }

    /// `FUTEX_WAKE`/`FUTEX_WAKE_BITSET`: wakes up to `n` waiters of `key`
    /// whose bitset meets `bitset`; returns how many.
    pub fn wake(&self, key: FutexKey, n: usize, bitset: u32) -> usize {
        self.state().wake(key, n, bitset)
    }

    /// `FUTEX_REQUEUE`/`FUTEX_CMP_REQUEUE` (with `expected`): wakes up to
    /// `n_wake` waiters of `key`, moves up to `n_requeue` of the rest to
    /// `key2`; returns how many were woken and moved. `EAGAIN` when the
    /// word at `addr` does not hold `expected`.
    #[expect(
        clippy::too_many_arguments,
        reason = "the futex(2) arguments, decoded once by the caller"
    )]
    pub fn requeue(
        &self,
        mm: &MemoryManager,
        key: FutexKey,
        addr: u64,
        key2: FutexKey,
        n_wake: usize,
        n_requeue: usize,
        expected: Option<u32>,
    ) -> Result<usize, Errno> {
        let mut st = self.state();
        if let Some(v) = expected
            && mm.atomic_u32(addr, false, |w| w.load(Ordering::SeqCst))? != v
        {
            return Err(Errno::EAGAIN);
        }
        let woken = st.wake(key, n_wake, u32::MAX);
        let moved = Self::move_waiters(&mut st, key, key2, n_requeue);
        Ok(woken + moved)
    }

    fn move_waiters(st: &mut State, key: FutexKey, key2: FutexKey, n: usize) -> usize {
        if key == key2 || n == 0 {
            return 0;
        }
        let mut moved = Vec::new();
        if let Some(queue) = st.queues.get_mut(&key) {
            while moved.len() < n {
                let Some(w) = queue.pop_front() else { break };
                moved.push(w);
            }
            if queue.is_empty() {
                st.queues.remove(&key);
            }
        }
        let count = moved.len();
        for w in moved {
            st.push(key2, w);
        }
        count
    }

    /// `FUTEX_WAKE_OP`: applies the encoded operation to the word at
    /// `addr2` atomically, wakes up to `n` waiters of `key` and, when the
    /// encoded comparison holds for the word's old value, up to `n2` of
    /// `key2`; returns how many. `ENOSYS` for an unknown operation or
    /// comparison.
    pub fn wake_op(
        &self,
        mm: &MemoryManager,
        key: FutexKey,
        key2: FutexKey,
        addr2: u64,
        counts: (usize, usize),
        encoded: u32,
    ) -> Result<usize, Errno> {
        const FUTEX_OP_OPARG_SHIFT: u32 = 8;
        let op = (encoded >> 28) & 0xf;
        let cmp = (encoded >> 24) & 0xf;
        let mut oparg = (encoded >> 12) & 0xfff;
        let cmparg = encoded & 0xfff;
        if op & FUTEX_OP_OPARG_SHIFT != 0 {
            // Linux masks the shift to 0..31.
            oparg = 1u32 << (oparg & 31);
        }
        let apply = |old: u32| -> Option<u32> {
            Some(match op & !FUTEX_OP_OPARG_SHIFT {
                0 => oparg,
                1 => old.wrapping_add(oparg),
                2 => old | oparg,
                3 => old & !oparg,
                4 => old ^ oparg,
                _ => return None,
            })
        };
        if apply(0).is_none() {
            return Err(Errno::ENOSYS);
        }
        // The comparison is signed, of the old value with the
        // sign-extended 12-bit argument.
        let cmparg = ((cmparg as i32) << 20) >> 20;
        let compare = |old: u32| -> Option<bool> {
            let old = old as i32;
            Some(match cmp {
                0 => old == cmparg,
                1 => old != cmparg,
                2 => old < cmparg,
                3 => old <= cmparg,
                4 => old > cmparg,
                5 => old >= cmparg,
                _ => return None,
            })
        };
        if compare(0).is_none() {
            return Err(Errno::ENOSYS);
        }
        let mut st = self.state();
        let old = mm.atomic_u32(addr2, true, |w| {
            let mut cur = w.load(Ordering::SeqCst);
            loop {
                let new = apply(cur).unwrap_or(cur);
                match w.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => return cur,
                    Err(now) => cur = now,
                }
            }
        })?;
        let mut woken = st.wake(key, counts.0, u32::MAX);
        if compare(old).unwrap_or(false) {
            woken += st.wake(key2, counts.1, u32::MAX);
        }
        Ok(woken)
    }

    /// Tries to take the PI lock at `addr` for `tid` without waiting:
    /// `Ok(true)` when taken, `Ok(false)` when another thread owns it
    /// (the waiters bit is then set when `mark_waiters`), `EDEADLK` when
    /// `tid` owns it already, `ESRCH` when the owner is gone.
    fn try_lock_pi(
        mm: &MemoryManager,
        addr: u64,
        tid: i32,
        mark_waiters: bool,
        alive: &dyn Fn(i32) -> bool,
    ) -> Result<bool, Errno> {
        let tid = tid as u32;
        mm.atomic_u32(addr, true, |w: &AtomicU32| {
            let mut cur = w.load(Ordering::SeqCst);
            loop {
                let owner = cur & FUTEX_TID_MASK;
                if owner == tid {
                    return Err(Errno::EDEADLK);
                }
                let (new, taken) = if owner == 0 {
                    // Free (perhaps after its owner died): take it,
                    // keeping the owner-died bit for the new owner to see.
                    (tid | (cur & (FUTEX_OWNER_DIED | FUTEX_WAITERS)), true)
                } else if !alive(owner as i32) && cur & FUTEX_OWNER_DIED == 0 {
                    return Err(Errno::ESRCH);
                } else if mark_waiters {
                    (cur | FUTEX_WAITERS, false)
                } else {
                    return Ok(false);
                };
                match w.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => return Ok(taken),
                    Err(now) => cur = now,
                }
            }
        })?
    }

    /// `FUTEX_TRYLOCK_PI`: `EAGAIN` when another thread owns the lock.
    pub fn trylock_pi(
        &self,
        mm: &MemoryManager,
        addr: u64,
        tid: i32,
        alive: &dyn Fn(i32) -> bool,
    ) -> Result<(), Errno> {
        let _st = self.state();
        match Self::try_lock_pi(mm, addr, tid, false, alive)? {
            true => Ok(()),
            false => Err(Errno::EAGAIN),
        }
    }

    /// `FUTEX_LOCK_PI`: takes the PI lock at `addr` for the caller,
    /// waiting behind its owner; the unlocking owner hands it over.
    pub fn lock_pi(
        &self,
        mm: &MemoryManager,
        key: FutexKey,
        addr: u64,
        alive: &dyn Fn(i32) -> bool,
        cx: &WaitContext<'_>,
    ) -> Result<(), Errno> {
        let waker = TaskWaker::new();
        let woken = Arc::new(AtomicU64::new(0));
        let id = {
            let mut st = self.state();
            if Self::try_lock_pi(mm, addr, cx.tid, true, alive)? {
                return Ok(());
            }
            let how = WaitHow {
                tid: cx.tid,
                bitset: u32::MAX,
                requeue_pi: None,
                pi: true,
            };
            st.enqueue(&[key], &waker, &woken, how)
        };
        self.sleep(&waker, &woken, id, cx).map(drop)
    }

    /// `FUTEX_UNLOCK_PI`: releases the PI lock at `addr`, which `tid` must
    /// own (else `EPERM`), handing it to the first waiter.
    pub fn unlock_pi(
        &self,
        mm: &MemoryManager,
        key: FutexKey,
        addr: u64,
        tid: i32,
    ) -> Result<(), Errno> {
        let mut st = self.state();
        let (next, more) = st.take_pi_waiter(key);
        let new_owner = next.as_ref().map_or(0, |w| w.tid as u32);
        let result = mm.atomic_u32(addr, true, |w| {
            let mut cur = w.load(Ordering::SeqCst);
            loop {
                if cur & FUTEX_TID_MASK != tid as u32 {
                    return Err(Errno::EPERM);
                }
                let new = if new_owner != 0 {
                    new_owner | if more { FUTEX_WAITERS } else { 0 }
                } else {
                    0
                };
                match w.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => return Ok(()),
                    Err(now) => cur = now,
                }
            }
        });
        match (result, next) {
            (Ok(Ok(())), Some(w)) => {
                w.woken.store(GRANTED | 1, Ordering::SeqCst);
                w.waker.notify_one();
                Ok(())
            }
            (Ok(Ok(())), None) => Ok(()),
            (r, next) => {
                // Put the waiter back where it was: nothing changed.
                if let Some(w) = next {
                    st.queues.entry(key).or_default().push_front(w);
                }
                r.and_then(|inner| inner)
            }
        }
    }

    /// `FUTEX_WAIT_REQUEUE_PI`: waits on the plain futex `key` (as
    /// [`Self::wait`]) until `FUTEX_CMP_REQUEUE_PI` hands the caller the
    /// PI lock at `key2`, directly or after moving it to that lock's
    /// waiters. `EINVAL` when both words are the same.
    pub fn wait_requeue_pi(
        &self,
        mm: &MemoryManager,
        key: FutexKey,
        addr: u64,
        val: u32,
        key2: FutexKey,
        cx: &WaitContext<'_>,
    ) -> Result<(), Errno> {
        if key == key2 {
            return Err(Errno::EINVAL);
        }
        let w = self.wait_inner(mm, key, addr, val, u32::MAX, Some(key2), cx)?;
        if w & GRANTED != 0 {
            Ok(())
        } else {
            // Woken by a plain wake, not by a requeue: Linux answers
            // EAGAIN and the caller retries.
            Err(Errno::EAGAIN)
        }
    }

    /// `FUTEX_CMP_REQUEUE_PI`: when the word at `addr` holds `expected`
    /// (else `EAGAIN`), tries to take the PI lock at `addr2` for the first
    /// waiter of `key` (which then wakes owning it) and moves up to
    /// `n_requeue` other waiters to the lock's waiters; returns how many
    /// were woken and moved. Only `FUTEX_WAIT_REQUEUE_PI` waiters naming
    /// `key2` may be moved (else `EINVAL`).
    #[expect(
        clippy::too_many_arguments,
        reason = "the futex(2) arguments, decoded once by the caller"
    )]
    pub fn cmp_requeue_pi(
        &self,
        mm: &MemoryManager,
        key: FutexKey,
        addr: u64,
        key2: FutexKey,
        addr2: u64,
        n_requeue: usize,
        expected: u32,
        alive: &dyn Fn(i32) -> bool,
    ) -> Result<usize, Errno> {
        let mut st = self.state();
        if mm.atomic_u32(addr, false, |w| w.load(Ordering::SeqCst))? != expected {
            return Err(Errno::EAGAIN);
        }
        let Some(queue) = st.queues.get_mut(&key) else {
            return Ok(0);
        };
        if queue.iter().any(|w| w.requeue_pi != Some(key2)) {
            return Err(Errno::EINVAL);
        }
        let mut count = 0;
        if let Some(first) = queue.front()
            && Self::try_lock_pi(mm, addr2, first.tid, true, alive)?
            && let Some(w) = queue.pop_front()
        {
            w.woken.store(GRANTED | 1, Ordering::SeqCst);
            w.waker.notify_one();
            count += 1;
        }
        let mut moved = Vec::new();
        if let Some(queue) = st.queues.get_mut(&key) {
            while moved.len() < n_requeue {
                let Some(mut w) = queue.pop_front() else {
                    break;
                };
                w.pi = true;
                moved.push(w);
            }
            if queue.is_empty() {
                st.queues.remove(&key);
            }
        }
        if !moved.is_empty() {
            // The lock has waiters now.
            mm.atomic_u32(addr2, true, |w| w.fetch_or(FUTEX_WAITERS, Ordering::SeqCst))?;
        }
        count += moved.len();
        for w in moved {
            st.push(key2, w);
        }
        Ok(count)
    }

    /// Whether any thread waits on `key` (for tests and `/proc`).
    pub fn has_waiters(&self, key: FutexKey) -> bool {
        self.state().has_waiters(key)
    }
}

impl Futexes {
    /// The robust-futex cleanup of one word at thread exit (Linux's
    /// `handle_futex_death`): when the word at `addr` names `tid` as its
    /// owner, marks it `FUTEX_OWNER_DIED` and lets a waiter in (a PI
    /// waiter is handed the lock, a plain one is woken to take it).
    pub fn owner_died(
        &self,
        mm: &MemoryManager,
        key: FutexKey,
        addr: u64,
        tid: i32,
        pi: bool,
    ) -> Result<(), Errno> {
        let mut st = self.state();
        let (next, more) = if pi {
            st.take_pi_waiter(key)
        } else {
            (None, false)
        };
        let handed = next.as_ref().map(|w| w.tid as u32);
        let owned = mm.atomic_u32(addr, true, |w| {
            let mut cur = w.load(Ordering::SeqCst);
            loop {
                if cur & FUTEX_TID_MASK != tid as u32 {
                    return None;
                }
                let new = match handed {
                    Some(t) => t | FUTEX_OWNER_DIED | if more { FUTEX_WAITERS } else { 0 },
                    None => (cur & FUTEX_WAITERS) | FUTEX_OWNER_DIED,
                };
                match w.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => return Some(cur),
                    Err(now) => cur = now,
                }
            }
        })?;
        match (owned, next) {
            (Some(_), Some(w)) => {
                w.woken.store(GRANTED | 1, Ordering::SeqCst);
                w.waker.notify_one();
            }
            (Some(old), None) => {
                if old & FUTEX_WAITERS != 0 {
                    st.wake(key, 1, u32::MAX);
                }
            }
            (None, Some(w)) => st.queues.entry(key).or_default().push_front(w),
            (None, None) => {}
        }
        Ok(())
    }
}
