//! Waiter queues and readiness: how a blocking task or an epoll instance
//! learns that a file became readable or writable (gVisor `pkg/waiter`).
//!
//! An object that can become ready (a pipe, a socket, an eventfd, a file
//! description) owns a [`WaiterQueue`] and implements [`Waitable`]. An
//! interested party registers a [`Waiter`] callback with an [`EventMask`];
//! when the object's state changes it calls [`WaiterQueue::notify`] with the
//! events that may have become true, and every waiter whose mask intersects
//! them is called with the intersection. A notification is a hint: the
//! waiter re-checks [`Waitable::readiness`] before acting.
//!
//! # Reference model
//!
//! A queue holds an `Arc` on each registered waiter until it is
//! unregistered. Waiters hold nothing on the queue; the party that registers
//! is responsible for unregistering (with the [`WaitEntryId`] it got back)
//! before it goes away, otherwise the waiter lives as long as the queue.
//!
//! # Lock order
//!
//! The queue's internal lock is a leaf: it is never held while a waiter is
//! called, so [`Waiter::notify`] may register, unregister or notify on any
//! queue, including the one that is calling it.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use abi_linux::Errno;
use spin::Mutex;

/// A set of readiness events: Linux's `EPOLL*` (and `POLL*`) bits.
pub type EventMask = abi_linux::EpollEvents;

/// The events that mean "readable": `IN | RDNORM`.
pub const READABLE_EVENTS: EventMask = EventMask::IN.union(EventMask::RDNORM);

/// The events that mean "writable": `OUT | WRNORM`.
pub const WRITABLE_EVENTS: EventMask = EventMask::OUT.union(EventMask::WRNORM);

/// Returns the events `poll(2)` and `epoll(7)` actually watch for a
/// requested `mask`: the request plus `ERR | HUP`, which are always
/// reported.
pub const fn with_always_reported(mask: EventMask) -> EventMask {
    mask.union(EventMask::ERR).union(EventMask::HUP)
}

/// A party to notify when events happen on a [`WaiterQueue`]: an epoll
/// instance, the wakeup of a blocked task, a test probe.
pub trait Waiter: Send + Sync {
    /// Called with the events that happened, already restricted to the
    /// waiter's registered mask (never empty).
    ///
    /// # Preconditions
    ///
    /// Called without any [`WaiterQueue`] lock held; implementations may
    /// call back into the queue.
    fn notify(&self, mask: EventMask);
}

/// The handle of one registration in one [`WaiterQueue`], used to
/// unregister it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaitEntryId(u64);

/// One registration: the waiter and the events it wants.
struct Entry {
    id: WaitEntryId,
    mask: EventMask,
    waiter: Arc<dyn Waiter>,
}

/// The registrations of a queue and the next id to hand out.
#[derive(Default)]
struct QueueState {
    entries: Vec<Entry>,
    next_id: u64,
}

/// A queue of waiters interested in the events of one object.
#[derive(Default)]
pub struct WaiterQueue {
    state: Mutex<QueueState>,
}

impl core::fmt::Debug for WaiterQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WaiterQueue").finish_non_exhaustive()
    }
}

impl WaiterQueue {
    /// Creates an empty queue.
    pub const fn new() -> WaiterQueue {
        WaiterQueue {
            state: Mutex::new(QueueState {
                entries: Vec::new(),
                next_id: 0,
            }),
        }
    }

    /// Registers `waiter` for the events in `mask` and returns the handle
    /// that unregisters it. Registration order is notification order.
    pub fn register(&self, waiter: Arc<dyn Waiter>, mask: EventMask) -> WaitEntryId {
        let mut state = self.state.lock();
        let id = WaitEntryId(state.next_id);
        // A u64 counter incremented once per registration cannot wrap in
        // practice; wrapping keeps the operation total anyway.
        state.next_id = state.next_id.wrapping_add(1);
        state.entries.push(Entry { id, mask, waiter });
        id
    }

    /// Removes the registration `id` and returns its waiter, or `None` if it
    /// was not registered (already removed, or from another queue).
    pub fn unregister(&self, id: WaitEntryId) -> Option<Arc<dyn Waiter>> {
        let mut state = self.state.lock();
        let index = state.entries.iter().position(|e| e.id == id)?;
        Some(state.entries.remove(index).waiter)
    }

    /// Changes the mask of registration `id`; returns `false` if it is not
    /// registered.
    pub fn update_mask(&self, id: WaitEntryId, mask: EventMask) -> bool {
        let mut state = self.state.lock();
        match state.entries.iter_mut().find(|e| e.id == id) {
            Some(entry) => {
                entry.mask = mask;
                true
            }
            None => false,
        }
    }

    /// Calls every waiter whose mask intersects `mask`, with the
    /// intersection.
    ///
    /// The set of waiters is taken when the call starts: a waiter registered
    /// by a callback during this call is not called, one unregistered during
    /// this call may still be called once.
    pub fn notify(&self, mask: EventMask) {
        if mask.is_empty() {
            return;
        }
        let targets: Vec<(Arc<dyn Waiter>, EventMask)> = {
            let state = self.state.lock();
            state
                .entries
                .iter()
                .filter_map(|e| {
                    let m = e.mask & mask;
                    (!m.is_empty()).then(|| (Arc::clone(&e.waiter), m))
                })
                .collect()
        };
        for (waiter, m) in targets {
            waiter.notify(m);
        }
    }

    /// Returns the union of the masks of all registrations.
    pub fn events(&self) -> EventMask {
        self.state
            .lock()
            .entries
            .iter()
            .fold(EventMask::empty(), |acc, e| acc | e.mask)
    }

    /// Returns `true` if nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.state.lock().entries.is_empty()
    }
}

/// The contract of an object whose readiness can be polled and waited for
/// (gVisor `waiter.Waitable`), implemented by file descriptions.
pub trait Waitable {
    /// Returns the events of `mask` that are true now. Never blocks.
    fn readiness(&self, mask: EventMask) -> EventMask;

    /// Registers `waiter` to be notified of the events in `mask`.
    ///
    /// Objects that cannot be waited for (regular files on most file
    /// systems) return `EPERM`, which `epoll_ctl(2)` reports.
    fn event_register(
        &self,
        waiter: Arc<dyn Waiter>,
        mask: EventMask,
    ) -> Result<WaitEntryId, Errno>;

    /// Removes a registration made by [`Waitable::event_register`]; an
    /// unknown id is ignored.
    fn event_unregister(&self, id: WaitEntryId);
}

/// A [`Waiter`] that accumulates the events it is notified of, for callers
/// that poll instead of being called back (a kernel without threads, a
/// test).
#[derive(Debug, Default)]
pub struct EventLatch {
    pending: AtomicU32,
}

impl EventLatch {
    /// Creates a latch with no pending events.
    pub const fn new() -> EventLatch {
        EventLatch {
            pending: AtomicU32::new(0),
        }
    }

    /// Returns the events notified since the last call, and clears them.
    pub fn take(&self) -> EventMask {
        EventMask::from_bits_retain(self.pending.swap(0, Ordering::AcqRel))
    }

    /// Returns the events notified since the last [`EventLatch::take`],
    /// without clearing them.
    pub fn peek(&self) -> EventMask {
        EventMask::from_bits_retain(self.pending.load(Ordering::Acquire))
    }
}

impl Waiter for EventLatch {
    fn notify(&self, mask: EventMask) {
        self.pending.fetch_or(mask.bits(), Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread;

    /// A waiter that forwards every notification to a channel.
    struct ChannelWaiter(std::sync::Mutex<mpsc::Sender<EventMask>>);

    impl Waiter for ChannelWaiter {
        fn notify(&self, mask: EventMask) {
            // The receiver outlives every notification in these tests.
            self.0.lock().unwrap().send(mask).unwrap();
        }
    }

    /// Converts one of the libc crate's `EPOLL*` constants (a `c_int`).
    fn libc_bit(v: libc::c_int) -> u32 {
        u32::try_from(v).unwrap()
    }

    #[test]
    fn event_bits_match_linux_epoll() {
        assert_eq!(EventMask::IN.bits(), libc_bit(libc::EPOLLIN));
        assert_eq!(EventMask::PRI.bits(), libc_bit(libc::EPOLLPRI));
        assert_eq!(EventMask::OUT.bits(), libc_bit(libc::EPOLLOUT));
        assert_eq!(EventMask::ERR.bits(), libc_bit(libc::EPOLLERR));
        assert_eq!(EventMask::HUP.bits(), libc_bit(libc::EPOLLHUP));
        assert_eq!(EventMask::RDNORM.bits(), libc_bit(libc::EPOLLRDNORM));
        assert_eq!(EventMask::RDBAND.bits(), libc_bit(libc::EPOLLRDBAND));
        assert_eq!(EventMask::WRNORM.bits(), libc_bit(libc::EPOLLWRNORM));
        assert_eq!(EventMask::WRBAND.bits(), libc_bit(libc::EPOLLWRBAND));
        assert_eq!(EventMask::MSG.bits(), libc_bit(libc::EPOLLMSG));
        assert_eq!(EventMask::RDHUP.bits(), libc_bit(libc::EPOLLRDHUP));
    }

    #[test]
    fn notify_calls_only_intersecting_waiters_with_intersection() {
        let q = WaiterQueue::new();
        let reader = Arc::new(EventLatch::new());
        let writer = Arc::new(EventLatch::new());
        q.register(reader.clone(), READABLE_EVENTS);
        q.register(writer.clone(), WRITABLE_EVENTS);

        q.notify(EventMask::IN | EventMask::HUP);

        assert_eq!(reader.take(), EventMask::IN);
        assert_eq!(writer.take(), EventMask::empty());
    }

    #[test]
    fn unregistered_waiter_is_not_notified() {
        let q = WaiterQueue::new();
        let latch = Arc::new(EventLatch::new());
        let id = q.register(latch.clone(), EventMask::IN);

        assert!(q.unregister(id).is_some());
        q.notify(EventMask::IN);

        assert_eq!(latch.take(), EventMask::empty());
        assert!(q.is_empty());
        assert!(q.unregister(id).is_none());
    }

    #[test]
    fn events_is_union_of_registered_masks() {
        let q = WaiterQueue::new();
        let a = q.register(Arc::new(EventLatch::new()), EventMask::IN);
        q.register(Arc::new(EventLatch::new()), EventMask::OUT | EventMask::PRI);
        assert_eq!(q.events(), EventMask::IN | EventMask::OUT | EventMask::PRI);

        q.unregister(a);
        assert_eq!(q.events(), EventMask::OUT | EventMask::PRI);
    }

    #[test]
    fn update_mask_changes_what_is_delivered() {
        let q = WaiterQueue::new();
        let latch = Arc::new(EventLatch::new());
        let id = q.register(latch.clone(), EventMask::IN);

        assert!(q.update_mask(id, EventMask::OUT));
        q.notify(EventMask::IN | EventMask::OUT);

        assert_eq!(latch.take(), EventMask::OUT);
    }

    #[test]
    fn empty_notification_calls_nobody() {
        let q = WaiterQueue::new();
        let latch = Arc::new(EventLatch::new());
        q.register(latch.clone(), EventMask::all());
        q.notify(EventMask::empty());
        assert_eq!(latch.peek(), EventMask::empty());
    }

    /// A waiter that unregisters itself from its queue when notified, which
    /// deadlocks if the queue lock were held during the call.
    struct SelfRemovingWaiter {
        queue: Arc<WaiterQueue>,
        id: Mutex<Option<WaitEntryId>>,
        calls: AtomicU32,
    }

    impl Waiter for SelfRemovingWaiter {
        fn notify(&self, _mask: EventMask) {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(id) = self.id.lock().take() {
                self.queue.unregister(id);
            }
        }
    }

    #[test]
    fn waiter_may_unregister_itself_during_notify() {
        let q = Arc::new(WaiterQueue::new());
        let w = Arc::new(SelfRemovingWaiter {
            queue: q.clone(),
            id: Mutex::new(None),
            calls: AtomicU32::new(0),
        });
        let id = q.register(w.clone(), EventMask::IN);
        *w.id.lock() = Some(id);

        q.notify(EventMask::IN);
        q.notify(EventMask::IN);

        assert_eq!(w.calls.load(Ordering::SeqCst), 1);
        assert!(q.is_empty());
    }

    #[test]
    fn notify_from_another_thread_wakes_blocked_waiter() {
        let q = Arc::new(WaiterQueue::new());
        let (tx, rx) = mpsc::channel();
        q.register(
            Arc::new(ChannelWaiter(std::sync::Mutex::new(tx))),
            EventMask::IN,
        );

        let notifier = {
            let q = q.clone();
            thread::spawn(move || q.notify(EventMask::IN | EventMask::OUT))
        };

        // Blocks until the other thread's notification arrives.
        assert_eq!(rx.recv().unwrap(), EventMask::IN);
        notifier.join().unwrap();
    }

    #[test]
    fn always_reported_adds_err_and_hup() {
        assert_eq!(
            with_always_reported(EventMask::IN),
            EventMask::IN | EventMask::ERR | EventMask::HUP
        );
    }
}
