//! The host epoll notifier (gVisor `pkg/fdnotifier`): one thread per
//! process that waits on a host epoll instance holding every imported
//! descriptor that can block, and turns host readiness into notifications
//! of the inodes' [`WaiterQueue`]s.
//!
//! Descriptors are registered edge-triggered with the union of the events
//! their queue's waiters want ([`NotifierRegistration::update`]); changing
//! the interest set re-arms the descriptor, so an event that is already
//! pending when a waiter registers is delivered at once.
//!
//! # Reference model
//!
//! The notifier holds only `Weak` pointers to queues, keyed by a
//! registration id carried in the epoll event's data (never the descriptor
//! number, which the host may reuse). A [`NotifierRegistration`] removes
//! its descriptor from the epoll set when dropped; its owner drops it
//! before closing the descriptor.
//!
//! # Lock order
//!
//! The notifier's table mutex is a leaf; queues are notified after it is
//! released.

use std::collections::HashMap;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use abi_linux::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use vfs_core::waiter::{EventMask, WaiterQueue};

use crate::host_fd::{HostFd, host_errno};

/// The process-wide notifier.
struct Notifier {
    epoll: Epoll,
    queues: Mutex<HashMap<u64, Weak<WaiterQueue>>>,
    next_id: AtomicU64,
}

static NOTIFIER: OnceLock<Result<Arc<Notifier>, Errno>> = OnceLock::new();

/// Returns the notifier, starting its thread on first use.
fn notifier() -> Result<Arc<Notifier>, Errno> {
    NOTIFIER
        .get_or_init(|| {
            let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(host_errno)?;
            let notifier = Arc::new(Notifier {
                epoll,
                queues: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
            });
            let worker = Arc::clone(&notifier);
            std::thread::Builder::new()
                .name("hostfs-notifier".into())
                .spawn(move || worker.run())
                .map_err(|_| Errno::EAGAIN)?;
            Ok(notifier)
        })
        .clone()
}

impl Notifier {
    /// Waits for host events forever and delivers them.
    fn run(&self) {
        let mut events = [EpollEvent::empty(); 64];
        loop {
            let n = match self.epoll.wait(&mut events, EpollTimeout::NONE) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    eprintln!("hostfs: epoll_wait of the notifier failed: {e}");
                    return;
                }
            };
            let ready: Vec<(Arc<WaiterQueue>, EventMask)> = {
                let queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
                events[..n]
                    .iter()
                    .filter_map(|ev| {
                        let queue = queues.get(&ev.data())?.upgrade()?;
                        let mask = EventMask::from_bits_truncate(ev.events().bits() as u32);
                        Some((queue, mask))
                    })
                    .collect()
            };
            for (queue, mask) in ready {
                queue.notify(mask);
            }
        }
    }
}

/// Epoll flags for an interest set: the events plus edge triggering.
fn epoll_flags(mask: EventMask) -> EpollFlags {
    EpollFlags::from_bits_truncate(mask.bits() as i32) | EpollFlags::EPOLLET
}

/// One descriptor in the notifier's epoll set, delivering to one queue.
pub(crate) struct NotifierRegistration {
    notifier: Arc<Notifier>,
    id: u64,
    host: Arc<HostFd>,
}

impl NotifierRegistration {
    /// Adds `host` to the epoll set with an empty interest set, delivering
    /// to `queue`. `EPERM` means the descriptor cannot be polled (a regular
    /// file, most character devices); such descriptors never block.
    pub(crate) fn add(
        host: &Arc<HostFd>,
        queue: &Arc<WaiterQueue>,
    ) -> Result<NotifierRegistration, Errno> {
        let notifier = notifier()?;
        let id = notifier.next_id.fetch_add(1, Ordering::Relaxed);
        notifier
            .queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Arc::downgrade(queue));
        let event = EpollEvent::new(epoll_flags(queue.events()), id);
        if let Err(e) = notifier.epoll.add(host.borrow(), event) {
            notifier
                .queues
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            return Err(host_errno(e));
        }
        Ok(NotifierRegistration {
            notifier,
            id,
            host: Arc::clone(host),
        })
    }

    /// Sets the interest set to `mask` (the union of the queue's waiters'
    /// masks), re-arming the edge trigger.
    pub(crate) fn update(&self, mask: EventMask) -> Result<(), Errno> {
        let mut event = EpollEvent::new(epoll_flags(mask), self.id);
        self.notifier
            .epoll
            .modify(self.host.borrow(), &mut event)
            .map_err(host_errno)
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.host.borrow()
    }
}

impl Drop for NotifierRegistration {
    fn drop(&mut self) {
        // The descriptor is still open (this registration holds it), so the
        // removal only fails if it was never added, which `add` rules out.
        let _ = self.notifier.epoll.delete(self.fd());
        self.notifier
            .queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// A host descriptor the notifier watches for another owner (the
/// sentry's host sockets): every readiness edge among a fixed set of
/// events notifies a queue. Waiters re-check readiness after registering,
/// so a fixed interest set loses nothing; it only wakes the notifier for
/// edges nobody waits on.
pub struct HostWatch {
    _registration: NotifierRegistration,
}

impl HostWatch {
    /// Watches `host` for `mask`, notifying `queue`.
    ///
    /// Errors: the host's (`EPERM` for a descriptor epoll cannot watch).
    pub fn new(
        host: &Arc<HostFd>,
        queue: &Arc<WaiterQueue>,
        mask: EventMask,
    ) -> Result<HostWatch, Errno> {
        let registration = NotifierRegistration::add(host, queue)?;
        registration.update(mask)?;
        Ok(HostWatch {
            _registration: registration,
        })
    }
}
