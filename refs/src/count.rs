//! The atomic reference counter.

use core::fmt;
use core::sync::atomic::{AtomicI64, Ordering};

use crate::checked::CheckedObject;
use crate::ref_log::{self, RefOp};

/// The value stored once an object is destroyed.
///
/// It is far from both zero and `i64::MIN`, so the transient increments of
/// failing `try_inc_ref` calls (each backed out again) can never bring it
/// near a live value.
const DEAD: i64 = i64::MIN / 2;

/// Counts above this are refused as an overflow (a reference leak in a loop).
const MAX_REFS: i64 = i64::MAX / 2;

/// The atomic reference counter.
///
/// It starts at 1 (the creator's reference). When [`dec_ref`](Self::dec_ref)
/// drops the last reference, the counter is marked destroyed (`-1` from
/// [`count`](Self::count)) and the destructor runs exactly once.
///
/// Callers that keep an object in an `Arc` should use [`Ref`](crate::Ref)
/// rather than this type directly.
///
/// # Encoding
///
/// A [`RefCount`] is one `AtomicI64` whose value `v` means:
///
/// | value | state |
/// |---|---|
/// | `v >= 1` | live, with `v` references |
/// | `v == 0` | the last reference was just dropped; the dropping thread is deciding whether to destroy (transient) |
/// | `v < 0` (around `DEAD` = `i64::MIN / 2`) | destroyed (or being destroyed); [`count`](Self::count) reports `-1` |
///
/// Every operation is a single atomic read-modify-write on its common path:
///
/// - `inc_ref` is one `fetch_add(1)`; finding `old <= 0` is a caller bug and
///   panics.
/// - `try_inc_ref` is one `fetch_add(1)`. With `old >= 0` it succeeds. With
///   `old < 0` the object is destroyed: the increment is backed out with a
///   `fetch_sub(1)` (the value stays deep in the negative zone, so no reader
///   ever mistakes it for a live count) and it fails.
/// - `dec_ref` is one `fetch_sub(1)`. The thread that takes the count from 1
///   to 0 then tries to commit the destruction with `compare_exchange(0,
///   DEAD)`. Only the winner of that exchange runs the destructor.
///
/// A `try_inc_ref` that lands in the window between the final `fetch_sub` and
/// the `compare_exchange` sees `old == 0` and succeeds: it takes the count to
/// 1, so the exchange fails and that `dec_ref` does not destroy. The object
/// simply lives on, exactly as if the `try_inc_ref` had come first, and the
/// new holder's own final `dec_ref` destroys it later. This is the same
/// linearization gVisor's speculative references give, without their flaw: in
/// gVisor's template a speculative reference that fails (it saw zero real
/// references) is still counted by a concurrent `DecRef`'s zero test, so that
/// `DecRef` can skip the destructor while nobody else will run it. Here a
/// failed `try_inc_ref` only ever touches a value that is already destroyed,
/// and the destroyed zone is never left, so:
///
/// - the destructor runs at most once (one successful exchange into
///   `DEAD`, whose zone is never left);
/// - it is never skipped (every `dec_ref` that reaches 0 attempts the
///   exchange, and the exchange only fails when the value is not 0, i.e.
///   someone else holds a reference whose release will reach 0 again, or the
///   object is already destroyed);
/// - `try_inc_ref` never succeeds once destruction is committed (the value is
///   negative from then on).
///
/// # Memory ordering
///
/// Decrements are `Release` and the committing exchange is `Acquire`, so the
/// destructor sees every write made by any holder before its `dec_ref` (all
/// modifications of the counter are read-modify-writes, so every decrement
/// heads a release sequence that the exchange reads from). A successful
/// `try_inc_ref` is `Acquire`. Plain increments are `Relaxed`, like
/// `Arc::clone`: the caller already holds a reference.
pub struct RefCount {
    value: AtomicI64,
}

impl RefCount {
    /// Creates a counter holding the creator's reference (count 1).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            value: AtomicI64::new(1),
        }
    }

    /// Returns the current logical count.
    ///
    /// `n >= 1` while live, `0` only in the instant between the last
    /// `dec_ref` and the commit of the destruction, and `-1` once destroyed.
    /// The value is inherently racy unless the caller synchronizes otherwise.
    #[must_use]
    pub fn count(&self) -> i64 {
        let v = self.value.load(Ordering::Relaxed);
        if v < 0 { -1 } else { v }
    }

    /// Returns true if the counter is destroyed (or being destroyed).
    #[must_use]
    pub fn is_destroyed(&self) -> bool {
        self.value.load(Ordering::Acquire) < 0
    }

    /// Takes one more reference.
    ///
    /// `obj` is the object this counter belongs to; it names the object in
    /// the panic message and in the reference log.
    ///
    /// # Preconditions
    ///
    /// The caller holds a reference, so the count is at least 1.
    ///
    /// # Panics
    ///
    /// Panics with `obj`'s leak message if the count was not positive (the
    /// object is dead or dying, so the caller's reference was not real), or
    /// on overflow.
    pub fn inc_ref(&self, obj: &dyn CheckedObject) {
        let old = self.value.fetch_add(1, Ordering::Relaxed);
        if old <= 0 || old >= MAX_REFS {
            self.inc_failed(obj, old);
        }
        ref_log::record(obj, RefOp::Inc, old + 1);
    }

    #[cold]
    #[inline(never)]
    fn inc_failed(&self, obj: &dyn CheckedObject, old: i64) -> ! {
        if old >= MAX_REFS {
            self.value.fetch_sub(1, Ordering::Relaxed);
            panic!("refs: reference count overflow: {}", obj.leak_message());
        }
        panic!(
            "refs: incrementing non-positive reference count {}: {}",
            if old < 0 { -1 } else { old },
            obj.leak_message()
        );
    }

    /// Takes one more reference if the object is not destroyed.
    ///
    /// Returns false once the destruction is committed; never resurrects a
    /// destroyed object. A call racing with the final [`dec_ref`](Self::dec_ref)
    /// may win, in which case that `dec_ref` does not destroy and this
    /// reference keeps the object alive (see the type documentation).
    ///
    /// # Panics
    ///
    /// Panics on overflow.
    #[must_use = "a successful try_inc_ref takes a reference that must be released"]
    pub fn try_inc_ref(&self) -> bool {
        let old = self.value.fetch_add(1, Ordering::Acquire);
        if old >= 0 {
            if old >= MAX_REFS {
                self.value.fetch_sub(1, Ordering::Relaxed);
                panic!("refs: reference count overflow in try_inc_ref");
            }
            return true;
        }
        // Destroyed: back out. The value stays in the destroyed zone.
        self.value.fetch_sub(1, Ordering::Relaxed);
        false
    }

    /// Drops one reference; if it was the last one, marks the counter
    /// destroyed and calls `destroy` (exactly once over the object's life).
    ///
    /// # Preconditions
    ///
    /// The caller holds the reference it drops.
    ///
    /// # Panics
    ///
    /// Panics with `obj`'s leak message if the count was not positive
    /// (a decrement below zero or on a destroyed object).
    pub fn dec_ref(&self, obj: &dyn CheckedObject, destroy: impl FnOnce()) {
        let old = self.value.fetch_sub(1, Ordering::Release);
        if old > 1 {
            ref_log::record(obj, RefOp::Dec, old - 1);
            return;
        }
        if old < 1 {
            self.dec_failed(obj, old);
        }
        ref_log::record(obj, RefOp::Dec, 0);
        if self
            .value
            .compare_exchange(0, DEAD, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            destroy();
        }
    }

    #[cold]
    #[inline(never)]
    fn dec_failed(&self, obj: &dyn CheckedObject, old: i64) -> ! {
        if old < 0 {
            panic!(
                "refs: decrementing the reference count of a destroyed object: {}",
                obj.leak_message()
            );
        }
        panic!(
            "refs: decrementing reference count below zero: {}",
            obj.leak_message()
        );
    }
}

impl Default for RefCount {
    /// Same as [`RefCount::new`]: count 1.
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RefCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RefCount").field(&self.count()).finish()
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::string::String;
    use core::sync::atomic::{AtomicUsize, Ordering};

    use super::RefCount;
    use crate::CheckedObject;

    /// A counter with a name for panic messages.
    struct Counted {
        refs: RefCount,
        destroyed: AtomicUsize,
    }

    impl Counted {
        fn new() -> Self {
            Self {
                refs: RefCount::new(),
                destroyed: AtomicUsize::new(0),
            }
        }

        fn dec(&self) {
            self.refs.dec_ref(self, || {
                self.destroyed.fetch_add(1, Ordering::Relaxed);
            });
        }

        fn destroyed(&self) -> usize {
            self.destroyed.load(Ordering::Relaxed)
        }
    }

    impl CheckedObject for Counted {
        fn ref_type(&self) -> &'static str {
            "refs::count::tests::Counted"
        }

        fn leak_message(&self) -> String {
            format!("[Counted] refs={}", self.refs.count())
        }
    }

    #[test]
    fn new_counter_holds_one_reference() {
        assert_eq!(RefCount::new().count(), 1);
        assert_eq!(RefCount::default().count(), 1);
    }

    #[test]
    fn inc_then_dec_returns_to_previous_count() {
        let obj = Counted::new();
        obj.refs.inc_ref(&obj);
        assert_eq!(obj.refs.count(), 2);
        obj.dec();
        assert_eq!(obj.refs.count(), 1);
        assert_eq!(obj.destroyed(), 0);
    }

    #[test]
    fn last_dec_destroys_once_and_marks_destroyed() {
        let obj = Counted::new();
        obj.refs.inc_ref(&obj);
        obj.dec();
        obj.dec();
        assert_eq!(obj.destroyed(), 1);
        assert_eq!(obj.refs.count(), -1);
        assert!(obj.refs.is_destroyed());
    }

    #[test]
    fn counter_reads_destroyed_inside_destructor() {
        let obj = Counted::new();
        let mut seen = None;
        obj.refs.dec_ref(&obj, || {
            seen = Some((obj.refs.count(), obj.refs.try_inc_ref()));
        });
        assert_eq!(seen, Some((-1, false)));
    }

    #[test]
    #[should_panic(expected = "destroyed object: [Counted] refs=-1")]
    fn dec_below_zero_panics_with_leak_message() {
        let obj = Counted::new();
        obj.dec();
        obj.dec();
    }

    #[test]
    #[should_panic(expected = "incrementing non-positive reference count -1: [Counted]")]
    fn inc_on_destroyed_panics_with_leak_message() {
        let obj = Counted::new();
        obj.dec();
        obj.refs.inc_ref(&obj);
    }

    #[test]
    fn try_inc_on_live_counter_succeeds() {
        let obj = Counted::new();
        assert!(obj.refs.try_inc_ref());
        assert_eq!(obj.refs.count(), 2);
        obj.dec();
        obj.dec();
        assert_eq!(obj.destroyed(), 1);
    }

    #[test]
    fn try_inc_after_destruction_fails_and_never_revives() {
        let obj = Counted::new();
        obj.dec();
        for _ in 0..3 {
            assert!(!obj.refs.try_inc_ref());
        }
        assert_eq!(obj.refs.count(), -1);
        assert_eq!(obj.destroyed(), 1);
    }

    #[test]
    fn debug_shows_count() {
        let refs = RefCount::new();
        assert_eq!(format!("{refs:?}"), "RefCount(1)");
    }
}
