//! Per-object reference logs: each inc/dec of a logged object is recorded,
//! with a backtrace under the `std` feature, and shown in leak reports.
//!
//! An object is logged while it is registered (leak checking on) and either
//! its [`CheckedObject::log_refs`] is true or [`set_log_all_refs`] is on. The
//! log is bounded to [`REF_LOG_CAPACITY`] events; older events are dropped
//! and counted.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::checked::{CheckedObject, object_addr};
use crate::mode::leak_check_enabled;
use crate::registry;

/// How many events a reference log keeps (the most recent ones).
pub const REF_LOG_CAPACITY: usize = 64;

static LOG_ALL: AtomicBool = AtomicBool::new(false);

/// Turns reference logging on or off for every registered object, whatever
/// its [`CheckedObject::log_refs`] says. Very slow with `std` (one backtrace
/// per operation); meant for debugging a leak.
pub fn set_log_all_refs(on: bool) {
    LOG_ALL.store(on, Ordering::Relaxed);
}

/// Returns whether [`set_log_all_refs`] is on.
#[must_use]
pub fn log_all_refs() -> bool {
    LOG_ALL.load(Ordering::Relaxed)
}

/// A reference operation recorded in a reference log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefOp {
    /// The object was registered with the leak checker.
    Register,
    /// `inc_ref` (including `Ref::clone`).
    Inc,
    /// A successful `try_inc_ref` (through `Ref::try_get`).
    TryInc,
    /// `dec_ref` (including dropping or releasing a `Ref`).
    Dec,
}

impl fmt::Display for RefOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Register => "registered",
            Self::Inc => "IncRef",
            Self::TryInc => "TryIncRef",
            Self::Dec => "DecRef",
        })
    }
}

/// One recorded reference operation: what happened, the count it left, and
/// (with `std`) where it happened.
#[derive(Clone)]
pub struct RefEvent {
    op: RefOp,
    count: i64,
    #[cfg(feature = "std")]
    backtrace: alloc::sync::Arc<std::backtrace::Backtrace>,
}

impl RefEvent {
    fn capture(op: RefOp, count: i64) -> Self {
        Self {
            op,
            count,
            #[cfg(feature = "std")]
            backtrace: alloc::sync::Arc::new(std::backtrace::Backtrace::force_capture()),
        }
    }

    /// The operation.
    #[must_use]
    pub fn op(&self) -> RefOp {
        self.op
    }

    /// The reference count the operation left.
    #[must_use]
    pub fn count(&self) -> i64 {
        self.count
    }

    /// Where the operation happened.
    #[cfg(feature = "std")]
    pub fn backtrace(&self) -> &std::backtrace::Backtrace {
        &self.backtrace
    }
}

impl fmt::Debug for RefEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefEvent")
            .field("op", &self.op)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for RefEvent {
    /// `"IncRef to 2"`, followed by the backtrace on the next lines with `std`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == RefOp::Register {
            write!(f, "{} with count {}", self.op, self.count)?;
        } else {
            write!(f, "{} to {}", self.op, self.count)?;
        }
        #[cfg(feature = "std")]
        write!(f, "\n{}", self.backtrace)?;
        Ok(())
    }
}

/// The bounded log of one object.
#[derive(Clone, Default)]
pub(crate) struct RefLog {
    events: VecDeque<RefEvent>,
    dropped: u64,
}

impl RefLog {
    pub(crate) fn push(&mut self, event: RefEvent) {
        if self.events.len() == REF_LOG_CAPACITY {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(event);
    }

    pub(crate) fn events(&self) -> Vec<RefEvent> {
        self.events.iter().cloned().collect()
    }
}

impl fmt::Display for RefLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reference log")?;
        if self.dropped > 0 {
            write!(f, " ({} earlier events dropped)", self.dropped)?;
        }
        f.write_str(":")?;
        for event in &self.events {
            write!(f, "\n  {event}")?;
        }
        Ok(())
    }
}

/// Whether operations on `obj` are logged right now.
pub(crate) fn wants_log(obj: &dyn CheckedObject) -> bool {
    leak_check_enabled() && (log_all_refs() || obj.log_refs())
}

/// Creates the first event of a newly registered object's log if `logged`.
pub(crate) fn registration_log(logged: bool, count: i64) -> Option<RefLog> {
    logged.then(|| {
        let mut log = RefLog::default();
        log.push(RefEvent::capture(RefOp::Register, count));
        log
    })
}

/// Records `op` (which left the count at `count`) in `obj`'s log if `obj` is
/// logged and registered.
pub(crate) fn record(obj: &dyn CheckedObject, op: RefOp, count: i64) {
    if wants_log(obj) {
        registry::push_event(object_addr(obj), RefEvent::capture(op, count));
    }
}

/// Returns the recorded reference events of `obj`, oldest first; empty if
/// `obj` is not registered or not logged.
#[must_use]
pub fn ref_events(obj: &dyn CheckedObject) -> Vec<RefEvent> {
    registry::events_of(object_addr(obj))
}
