//! epoll instances (gVisor `vfs/epoll.go`, Linux `fs/eventpoll.c`): an
//! interest list of (file description, descriptor number) pairs, each with
//! the events it watches, and a ready list the waiting side drains.
//!
//! An [`EpollInstance`] registers one waiter per interest with the watched
//! file ([`FileDescriptionImpl::event_register`]). A notification from the
//! file puts the interest on the ready list and wakes the instance's own
//! [`WaiterQueue`], which is what a blocked `epoll_wait` (or an enclosing
//! epoll instance) waits on. [`EpollInstance::read_events`] re-checks each
//! ready interest's readiness before reporting it, as Linux does, so a
//! notification is only a hint: level-triggered interests stay on the list
//! while they are ready, edge-triggered ones leave it until the next
//! notification, one-shot ones are disarmed until `EPOLL_CTL_MOD`.
//!
//! Blocking is the embedder's business: it registers with
//! [`EpollInstance::queue`] and calls `read_events` again when woken.
//!
//! # Reference model
//!
//! An interest holds only a weak pointer to the watched description, as
//! Linux's epoll holds no reference on the files it watches: when the
//! description's last reference goes, [`FileDescription`] removes its
//! interests from every instance that watches it (the description keeps a
//! weak list of them). The instance is owned by its epoll file description
//! ([`EpollFile`]); releasing that removes every interest.
//!
//! # Lock order
//!
//! `EpollInstance::state` comes before the watched files' own locks
//! (readiness is checked under it) and before the state of an epoll
//! instance it watches (nesting is acyclic: `EPOLL_CTL_ADD` refuses loops).
//! A description's list of watching instances is a leaf. Waiter queues are
//! never locked while a waiter runs, so notifications take `state` with no
//! file lock held.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use abi_linux::{EpollEvent, Errno, Statx};
use spin::Mutex;

use crate::context::Context;
use crate::file_description::{FileDescription, FileDescriptionImpl};
use crate::file_description_util::anon_inode_stat;
use crate::options::StatOptions;
use crate::waiter::{EventMask, WaitEntryId, Waiter, WaiterQueue};

/// How deep epoll instances may watch each other (Linux's `EP_MAX_NESTS`).
pub const MAX_NESTS: usize = 4;

/// The flags of an interest's event mask that are not readiness events.
const CONTROL_FLAGS: EventMask = EventMask::ET
    .union(EventMask::ONESHOT)
    .union(EventMask::WAKEUP)
    .union(EventMask::EXCLUSIVE);

/// The events an `EPOLLEXCLUSIVE` interest may watch
/// (`EPOLLEXCLUSIVE_OK_BITS`).
const EXCLUSIVE_OK: EventMask = EventMask::IN
    .union(EventMask::OUT)
    .union(EventMask::ERR)
    .union(EventMask::HUP)
    .union(EventMask::WAKEUP)
    .union(EventMask::ET)
    .union(EventMask::EXCLUSIVE);

/// What identifies an interest: the description (by its address) and the
/// descriptor number it was added under.
type Key = (usize, i32);

fn key_of(file: &Arc<FileDescription>, fd: i32) -> Key {
    (Arc::as_ptr(file) as usize, fd)
}

/// One watched (description, descriptor) pair.
struct Interest {
    key: Key,
    file: Weak<FileDescription>,
    epoll: Weak<EpollInstance>,
    state: Mutex<InterestState>,
}

struct InterestState {
    /// The watched events and control flags, as `epoll_ctl` set them (with
    /// `EPOLLERR | EPOLLHUP`); a fired one-shot interest keeps only its
    /// control flags.
    events: EventMask,
    data: u64,
    /// On the instance's ready list.
    ready: bool,
    /// Removed from the instance: late notifications are ignored.
    gone: bool,
    /// The registration with the watched file.
    registration: Option<WaitEntryId>,
}

impl Interest {
    fn watched(&self) -> EventMask {
        self.state.lock().events - CONTROL_FLAGS
    }
}

impl Waiter for Interest {
    fn notify(&self, mask: EventMask) {
        if (mask & self.watched()).is_empty() {
            return;
        }
        if let Some(epoll) = self.epoll.upgrade() {
            epoll.mark_ready(self.key);
        }
    }
}

#[derive(Default)]
struct State {
    interests: BTreeMap<Key, Arc<Interest>>,
    ready: VecDeque<Arc<Interest>>,
}

/// An epoll instance: the object behind an epoll file description.
pub struct EpollInstance {
    state: Mutex<State>,
    queue: WaiterQueue,
    this: Weak<EpollInstance>,
}

impl core::fmt::Debug for EpollInstance {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EpollInstance")
            .field("interests", &self.state.lock().interests.len())
            .finish_non_exhaustive()
    }
}

impl EpollInstance {
    /// Creates an instance with nothing watched.
    pub fn new() -> Arc<EpollInstance> {
        Arc::new_cyclic(|this| EpollInstance {
            state: Mutex::new(State::default()),
            queue: WaiterQueue::new(),
            this: this.clone(),
        })
    }

    /// The queue notified (with `EPOLLIN`) when an interest may have become
    /// ready: what a blocked `epoll_wait` registers with.
    pub fn queue(&self) -> &WaiterQueue {
        &self.queue
    }

    /// Returns how many interests are registered.
    pub fn len(&self) -> usize {
        self.state.lock().interests.len()
    }

    /// Returns `true` if nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `EPOLL_CTL_ADD`: watches `file` (open as descriptor `fd`) for
    /// `events`, reporting `data` with them.
    ///
    /// Errors: `EINVAL` for the instance itself or a misused
    /// `EPOLLEXCLUSIVE`; `ELOOP` if watching an epoll instance would close
    /// a loop or nest deeper than [`MAX_NESTS`]; `EEXIST` if the pair is
    /// watched already; `EPERM` if the file cannot be waited for (its
    /// implementation registers no waiters).
    pub fn add(
        &self,
        file: &Arc<FileDescription>,
        fd: i32,
        events: EventMask,
        data: u64,
    ) -> Result<(), Errno> {
        let target = file.downcast::<EpollFile>().map(|f| &f.instance);
        if self.is_instance_of(file) {
            return Err(Errno::EINVAL);
        }
        if events.contains(EventMask::EXCLUSIVE)
            && (target.is_some() || !(events - EXCLUSIVE_OK).is_empty())
        {
            return Err(Errno::EINVAL);
        }
        if let Some(inner) = target {
            self.check_nesting(inner)?;
        }
        let key = key_of(file, fd);
        let events = (events - EventMask::WAKEUP) | EventMask::ERR | EventMask::HUP;
        let interest = Arc::new(Interest {
            key,
            file: Arc::downgrade(file),
            epoll: self.this.clone(),
            state: Mutex::new(InterestState {
                events,
                data,
                ready: false,
                gone: false,
                registration: None,
            }),
        });
        {
            let mut state = self.state.lock();
            if state.interests.contains_key(&key) {
                return Err(Errno::EEXIST);
            }
            state.interests.insert(key, interest.clone());
        }
        file.add_epoll(self.this.clone());
        let registration = file
            .imp()
            .event_register(interest.clone(), events - CONTROL_FLAGS);
        match registration {
            Ok(Some(id)) => interest.state.lock().registration = Some(id),
            // A file that cannot be waited for (a regular file) cannot be
            // watched.
            Ok(None) => {
                self.remove_interest(key);
                return Err(Errno::EPERM);
            }
            Err(e) => {
                self.remove_interest(key);
                return Err(e);
            }
        }
        // Readiness that predates the registration.
        if !file.readiness(events - CONTROL_FLAGS).is_empty() {
            self.mark_ready(key);
        }
        Ok(())
    }

    /// `EPOLL_CTL_MOD`: replaces the events and data of a watched pair,
    /// re-arming a fired one-shot interest.
    ///
    /// Errors: `EINVAL` for the instance itself and for `EPOLLEXCLUSIVE` in
    /// `events` or on the interest; `ENOENT` if the pair is not watched.
    pub fn modify(
        &self,
        file: &Arc<FileDescription>,
        fd: i32,
        events: EventMask,
        data: u64,
    ) -> Result<(), Errno> {
        if self.is_instance_of(file) || events.contains(EventMask::EXCLUSIVE) {
            return Err(Errno::EINVAL);
        }
        let key = key_of(file, fd);
        let interest = self
            .state
            .lock()
            .interests
            .get(&key)
            .cloned()
            .ok_or(Errno::ENOENT)?;
        let events = (events - EventMask::WAKEUP) | EventMask::ERR | EventMask::HUP;
        let registration = {
            let mut st = interest.state.lock();
            if st.events.contains(EventMask::EXCLUSIVE) {
                return Err(Errno::EINVAL);
            }
            st.events = events;
            st.data = data;
            st.registration
        };
        if let Some(id) = registration {
            file.imp().event_unregister(id);
            let id = file
                .imp()
                .event_register(interest.clone(), events - CONTROL_FLAGS)?;
            interest.state.lock().registration = id;
        }
        if !file.readiness(events - CONTROL_FLAGS).is_empty() {
            self.mark_ready(key);
        }
        Ok(())
    }

    /// `EPOLL_CTL_DEL`: stops watching a pair.
    ///
    /// Errors: `EINVAL` for the instance itself; `ENOENT` if the pair is
    /// not watched.
    pub fn delete(&self, file: &Arc<FileDescription>, fd: i32) -> Result<(), Errno> {
        if self.is_instance_of(file) {
            return Err(Errno::EINVAL);
        }
        let key = key_of(file, fd);
        if !self.state.lock().interests.contains_key(&key) {
            return Err(Errno::ENOENT);
        }
        self.remove_interest(key);
        Ok(())
    }

    /// Moves up to `max` ready events into `out`, in the order the
    /// interests became ready; returns how many. Never blocks.
    pub fn read_events(&self, max: usize, out: &mut Vec<EpollEvent>) -> usize {
        let mut state = self.state.lock();
        let mut found = 0;
        let mut requeue = Vec::new();
        let mut budget = state.ready.len();
        while found < max && budget > 0 {
            budget -= 1;
            let Some(interest) = state.ready.pop_front() else {
                break;
            };
            let (watched, flags, data) = {
                let st = interest.state.lock();
                if st.gone {
                    continue;
                }
                (
                    st.events - CONTROL_FLAGS,
                    st.events & CONTROL_FLAGS,
                    st.data,
                )
            };
            let ready = match interest.file.upgrade() {
                Some(file) if !watched.is_empty() => file.readiness(watched),
                _ => EventMask::empty(),
            };
            if ready.is_empty() {
                interest.state.lock().ready = false;
                continue;
            }
            out.push(EpollEvent {
                events: ready.bits(),
                data,
            });
            found += 1;
            if flags.contains(EventMask::ONESHOT) {
                let mut st = interest.state.lock();
                st.events = flags;
                st.ready = false;
            } else if flags.contains(EventMask::ET) {
                interest.state.lock().ready = false;
            } else {
                // Level-triggered: reported again while it stays ready,
                // after the others.
                requeue.push(interest);
            }
        }
        state.ready.extend(requeue);
        found
    }

    /// The events of `mask` true of the instance itself: `EPOLLIN` while
    /// an interest is ready.
    pub fn readiness(&self, mask: EventMask) -> EventMask {
        if !mask.intersects(EventMask::IN | EventMask::RDNORM) {
            return EventMask::empty();
        }
        let state = self.state.lock();
        let any = state.ready.iter().any(|interest| {
            let watched = interest.watched();
            !watched.is_empty()
                && !interest.state.lock().gone
                && interest
                    .file
                    .upgrade()
                    .is_some_and(|f| !f.readiness(watched).is_empty())
        });
        if any {
            mask & (EventMask::IN | EventMask::RDNORM)
        } else {
            EventMask::empty()
        }
    }

    fn is_instance_of(&self, file: &FileDescription) -> bool {
        file.downcast::<EpollFile>()
            .is_some_and(|f| core::ptr::eq(Arc::as_ptr(&f.instance), self))
    }

    /// `ELOOP` if watching `inner` would let this instance reach itself or
    /// nest more than [`MAX_NESTS`] deep.
    fn check_nesting(&self, inner: &Arc<EpollInstance>) -> Result<(), Errno> {
        // Depth below `inner`, and whether this instance is among them.
        fn walk(ep: &EpollInstance, me: *const EpollInstance, depth: usize) -> Result<(), Errno> {
            if core::ptr::eq(ep, me) || depth > MAX_NESTS {
                return Err(Errno::ELOOP);
            }
            let children: Vec<Arc<EpollInstance>> = ep
                .state
                .lock()
                .interests
                .values()
                .filter_map(|i| i.file.upgrade())
                .filter_map(|f| f.downcast::<EpollFile>().map(|e| e.instance.clone()))
                .collect();
            for child in children {
                walk(&child, me, depth + 1)?;
            }
            Ok(())
        }
        walk(inner, self, 1)?;
        // How deep this instance itself sits inside others is not tracked
        // (Linux checks upward paths too); the downward walk bounds what a
        // wait can recurse through.
        Ok(())
    }

    /// Puts the interest `key` on the ready list and wakes waiters.
    fn mark_ready(&self, key: Key) {
        {
            let mut state = self.state.lock();
            let Some(interest) = state.interests.get(&key).cloned() else {
                return;
            };
            let mut st = interest.state.lock();
            if st.ready || st.gone {
                return;
            }
            st.ready = true;
            drop(st);
            state.ready.push_back(interest);
        }
        self.queue.notify(EventMask::IN | EventMask::RDNORM);
    }

    /// Removes the interest `key`: unregisters it from its file and forgets
    /// it.
    fn remove_interest(&self, key: Key) {
        let Some(interest) = self.state.lock().interests.remove(&key) else {
            return;
        };
        let registration = {
            let mut st = interest.state.lock();
            st.gone = true;
            st.registration.take()
        };
        if let Some(file) = interest.file.upgrade() {
            if let Some(id) = registration {
                file.imp().event_unregister(id);
            }
            if !self.watches(key.0) {
                file.remove_epoll(self);
            }
        }
    }

    /// Whether an interest of the description at `file` remains.
    fn watches(&self, file: usize) -> bool {
        self.state
            .lock()
            .interests
            .range((file, i32::MIN)..=(file, i32::MAX))
            .next()
            .is_some()
    }

    /// Forgets every interest of `file`, whose last reference is going.
    pub(crate) fn file_released(&self, file: &FileDescription) {
        let at = file as *const FileDescription as usize;
        let keys: Vec<Key> = self
            .state
            .lock()
            .interests
            .range((at, i32::MIN)..=(at, i32::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            let Some(interest) = self.state.lock().interests.remove(&key) else {
                continue;
            };
            let registration = {
                let mut st = interest.state.lock();
                st.gone = true;
                st.registration.take()
            };
            if let Some(id) = registration {
                file.imp().event_unregister(id);
            }
        }
    }

    /// Forgets every interest, as the instance's file goes away.
    fn close(&self) {
        let keys: Vec<Key> = self.state.lock().interests.keys().copied().collect();
        for key in keys {
            self.remove_interest(key);
        }
        self.state.lock().ready.clear();
    }
}

/// The file description implementation of an epoll instance
/// (`anon_inode:[eventpoll]`).
pub struct EpollFile {
    instance: Arc<EpollInstance>,
}

impl EpollFile {
    /// Wraps a new instance, for [`FileDescription::new`].
    pub fn new_boxed() -> Box<dyn FileDescriptionImpl> {
        Box::new(EpollFile {
            instance: EpollInstance::new(),
        })
    }

    /// The instance.
    pub fn instance(&self) -> &Arc<EpollInstance> {
        &self.instance
    }
}

impl FileDescriptionImpl for EpollFile {
    fn stat(
        &self,
        _ctx: &dyn Context,
        fd: &FileDescription,
        _opts: StatOptions,
    ) -> Result<Statx, Errno> {
        Ok(anon_inode_stat(fd))
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        self.instance.readiness(mask)
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.instance.queue)
    }

    fn release(&self, _ctx: &dyn Context) {
        self.instance.close();
    }

    fn synthetic_name(&self) -> Option<alloc::string::String> {
        Some("anon_inode:[eventpoll]".into())
    }
}
