//! The registry of live checked objects.
//!
//! While leak checking is on (see [`set_leak_mode`](crate::set_leak_mode)),
//! every checked object is registered when it is created and unregistered
//! when it is destroyed; whatever is still registered when nothing should be
//! alive is a leak. The registry holds a `Weak` pointer to each object (never
//! a counted reference), its type name, and optionally its registration
//! backtrace and reference log.
//!
//! Ids come from one process-wide counter, so they increase monotonically;
//! [`LeakCheckScope`](crate::LeakCheckScope) uses that to look only at
//! objects registered since it began.
//!
//! # Locks
//!
//! `REGISTRY` (a spin mutex) is a leaf lock. No object code runs while it is
//! held: leak messages are built, and objects and entries are dropped, after
//! it is released, so an object's `leak_message` or `Drop` may itself call
//! into this crate.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use spin::Mutex;

use crate::checked::{CheckedObject, object_addr};
use crate::mode::leak_check_enabled;
use crate::ref_log::{self, RefEvent, RefLog};

/// The registry's name for one registered object.
///
/// Ids increase monotonically over the life of the process.
/// [`ObjectId::UNREGISTERED`] is what registration returns while leak
/// checking is disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(u64);

impl ObjectId {
    /// The id of an object that was not registered (leak checking was off).
    /// Unregistering it is a no-op.
    pub const UNREGISTERED: Self = Self(0);

    /// Returns false for [`ObjectId::UNREGISTERED`].
    #[must_use]
    pub const fn is_registered(self) -> bool {
        self.0 != 0
    }

    /// The numeric id (0 for [`ObjectId::UNREGISTERED`]).
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(feature = "std")]
type Trace = Arc<std::backtrace::Backtrace>;

/// What the registry keeps about one object.
struct Entry {
    weak: Weak<dyn CheckedObject>,
    ref_type: &'static str,
    addr: usize,
    #[cfg(feature = "std")]
    trace: Option<Trace>,
    log: Option<RefLog>,
}

struct Registry {
    by_id: BTreeMap<u64, Entry>,
    by_addr: BTreeMap<usize, u64>,
}

impl Registry {
    fn remove_id(&mut self, id: u64) -> Option<Entry> {
        let entry = self.by_id.remove(&id)?;
        self.by_addr.remove(&entry.addr);
        LIVE.fetch_sub(1, Ordering::Relaxed);
        Some(entry)
    }
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    by_id: BTreeMap::new(),
    by_addr: BTreeMap::new(),
});

/// The next id to hand out; 0 is [`ObjectId::UNREGISTERED`].
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How many objects are registered; lets destruction skip the lock when the
/// registry is empty (the common case with leak checking off).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Registers `obj` with the leak checker and returns its id, or
/// [`ObjectId::UNREGISTERED`] (without taking any lock) while leak checking
/// is disabled.
///
/// The registry keeps only a `Weak` pointer. Pair each registration with one
/// [`unregister`] when the object is destroyed; [`Registration`] does that on
/// drop, and [`Ref`](crate::Ref) does it by itself.
///
/// # Panics
///
/// Panics if `obj` is already registered.
pub fn register<T: CheckedObject + 'static>(obj: &Arc<T>) -> ObjectId {
    if !leak_check_enabled() {
        return ObjectId::UNREGISTERED;
    }
    let weak: Weak<T> = Arc::downgrade(obj);
    let logged = ref_log::wants_log(&**obj);
    insert(weak, object_addr(&**obj), obj.ref_type(), logged)
}

/// Registers an object still under construction in `Arc::new_cyclic`.
fn register_cyclic<T: CheckedObject + 'static>(weak: &Weak<T>, ref_type: &'static str) -> ObjectId {
    if !leak_check_enabled() {
        return ObjectId::UNREGISTERED;
    }
    let addr = weak.as_ptr().cast::<()>().addr();
    let weak: Weak<dyn CheckedObject> = weak.clone();
    insert(weak, addr, ref_type, ref_log::log_all_refs())
}

fn insert(
    weak: Weak<dyn CheckedObject>,
    addr: usize,
    ref_type: &'static str,
    logged: bool,
) -> ObjectId {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    #[cfg(feature = "std")]
    let trace = (crate::leak_mode() == crate::LeakMode::LogTraces)
        .then(|| Arc::new(std::backtrace::Backtrace::force_capture()));
    let entry = Entry {
        weak,
        ref_type,
        addr,
        #[cfg(feature = "std")]
        trace,
        log: ref_log::registration_log(logged, 1),
    };
    let mut registry = REGISTRY.lock();
    if registry.by_addr.contains_key(&addr) {
        drop(registry);
        panic!("refs: object [{ref_type} {addr:#x}] registered twice");
    }
    registry.by_addr.insert(addr, id);
    registry.by_id.insert(id, entry);
    LIVE.fetch_add(1, Ordering::Relaxed);
    ObjectId(id)
}

/// Removes the object `id` from the registry. A no-op for
/// [`ObjectId::UNREGISTERED`], whatever the current mode.
///
/// # Panics
///
/// Panics if `id` is not registered (it was unregistered twice).
pub fn unregister(id: ObjectId) {
    if !id.is_registered() {
        return;
    }
    let removed = REGISTRY.lock().remove_id(id.0);
    // The entry (its weak pointer and log) is dropped here, without the lock.
    if removed.is_none() {
        panic!("refs: unregistering object {id}, which is not registered");
    }
}

/// Removes the object at `addr` if it is registered. Used on destruction by
/// owners that do not keep their id ([`Ref`](crate::Ref)).
pub(crate) fn unregister_addr(addr: usize) {
    if LIVE.load(Ordering::Relaxed) == 0 {
        return;
    }
    let removed = {
        let mut registry = REGISTRY.lock();
        match registry.by_addr.get(&addr) {
            Some(&id) => registry.remove_id(id),
            None => None,
        }
    };
    drop(removed);
}

/// Appends `event` to the log of the object at `addr`, if registered.
pub(crate) fn push_event(addr: usize, event: RefEvent) {
    if LIVE.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut registry = REGISTRY.lock();
    if let Some(&id) = registry.by_addr.get(&addr)
        && let Some(entry) = registry.by_id.get_mut(&id)
    {
        entry.log.get_or_insert_with(RefLog::default).push(event);
    }
}

/// The logged events of the object at `addr`.
pub(crate) fn events_of(addr: usize) -> Vec<RefEvent> {
    let registry = REGISTRY.lock();
    registry
        .by_addr
        .get(&addr)
        .and_then(|id| registry.by_id.get(id))
        .and_then(|entry| entry.log.as_ref())
        .map(RefLog::events)
        .unwrap_or_default()
}

/// Returns how many objects are registered right now.
#[must_use]
pub fn registered_objects() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The id with the numeric value `raw`.
pub(crate) const fn id_from_raw(raw: u64) -> ObjectId {
    ObjectId(raw)
}

/// The id the next registration will get.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.load(Ordering::Relaxed)
}

/// A copy of one registry entry, taken so that reports are built without
/// the lock.
pub(crate) struct Snapshot {
    pub(crate) id: ObjectId,
    pub(crate) weak: Weak<dyn CheckedObject>,
    pub(crate) ref_type: &'static str,
    #[cfg(feature = "std")]
    pub(crate) trace: Option<Trace>,
    pub(crate) log: Option<RefLog>,
}

/// Copies every entry with an id of at least `min_id`, in id order.
pub(crate) fn snapshot(min_id: u64) -> Vec<Snapshot> {
    let registry = REGISTRY.lock();
    registry
        .by_id
        .range(min_id..)
        .map(|(&id, entry)| Snapshot {
            id: ObjectId(id),
            weak: entry.weak.clone(),
            ref_type: entry.ref_type,
            #[cfg(feature = "std")]
            trace: entry.trace.clone(),
            log: entry.log.clone(),
        })
        .collect()
}

/// A registration that is undone when dropped, for objects that manage their
/// reference count by hand instead of through [`Ref`](crate::Ref).
///
/// Drop it (or call [`unregister`](Self::unregister)) when the object is
/// destroyed; an object may also keep it as a field, in which case it is
/// unregistered when its memory is released.
#[must_use = "dropping a Registration unregisters the object"]
#[derive(Debug)]
pub struct Registration {
    id: ObjectId,
}

impl Registration {
    /// Registers `obj` (see [`register`]).
    ///
    /// # Panics
    ///
    /// Panics if `obj` is already registered.
    pub fn new<T: CheckedObject + 'static>(obj: &Arc<T>) -> Self {
        Self { id: register(obj) }
    }

    /// Registers an object from inside `Arc::new_cyclic`, before it exists;
    /// `ref_type` stands in for its [`CheckedObject::ref_type`].
    ///
    /// # Panics
    ///
    /// Panics if the object is already registered.
    pub fn new_cyclic<T: CheckedObject + 'static>(weak: &Weak<T>, ref_type: &'static str) -> Self {
        Self {
            id: register_cyclic(weak, ref_type),
        }
    }

    /// The registry id ([`ObjectId::UNREGISTERED`] if leak checking was off).
    #[must_use]
    pub fn id(&self) -> ObjectId {
        self.id
    }

    /// Unregisters the object now.
    pub fn unregister(self) {
        drop(self);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        unregister(self.id);
    }
}
