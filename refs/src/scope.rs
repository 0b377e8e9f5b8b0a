//! Leak-checked test scopes.
//!
//! cargo runs the tests of one binary on parallel threads, while the leak
//! mode and the registry are process-wide: a plain [`leak_check`] in one test
//! would see the objects of the others. A [`LeakCheckScope`] serializes the
//! tests that take one (a global test lock) and checks only the objects
//! registered since it began, which ids make possible because they increase
//! monotonically.
//!
//! [`leak_check`]: crate::leak_check
//!
//! # Locks
//!
//! The test lock is the outermost lock of this crate: it is held for the
//! whole scope, around everything the test does.

use crate::mode::{LeakMode, leak_mode, set_leak_mode};
use crate::registry::{self, ObjectId};
use crate::report::{LeakReport, build_report, settled_report};

#[cfg(feature = "std")]
static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
#[cfg(feature = "std")]
type TestLockGuard = std::sync::MutexGuard<'static, ()>;

#[cfg(not(feature = "std"))]
static TEST_LOCK: spin::Mutex<()> = spin::Mutex::new(());
#[cfg(not(feature = "std"))]
type TestLockGuard = spin::MutexGuard<'static, ()>;

fn lock_tests() -> TestLockGuard {
    #[cfg(feature = "std")]
    {
        // A test that panicked inside its scope poisons the lock; the next
        // test must still run.
        TEST_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    #[cfg(not(feature = "std"))]
    {
        TEST_LOCK.lock()
    }
}

/// A leak-checked test scope: serializes leak-checked tests in one process
/// and checks at the end that every object registered since the scope began
/// has been unregistered.
///
/// While the scope lives, the leak mode is at least [`LeakMode::LogNames`]
/// (a mode already set, such as [`LeakMode::Panic`], is kept); the previous
/// mode comes back when the scope ends. Tests in the same binary that create
/// checked objects without a scope may show up in a concurrent scope's
/// report, so every such test should take one.
///
/// # Examples
///
/// ```
/// let scope = refs::LeakCheckScope::new();
/// // ... create and release checked objects ...
/// scope.assert_clean();
/// ```
#[must_use = "a scope checks nothing unless it is kept until the end of the test"]
#[derive(Debug)]
pub struct LeakCheckScope {
    first_id: u64,
    previous_mode: LeakMode,
    _lock: TestLockGuard,
}

impl LeakCheckScope {
    /// Begins a scope: waits for the test lock, turns leak checking on and
    /// records where the scope's ids begin.
    #[expect(
        clippy::new_without_default,
        reason = "taking a process-wide lock is not a default value"
    )]
    pub fn new() -> Self {
        let lock = lock_tests();
        let previous_mode = leak_mode();
        if previous_mode == LeakMode::Disabled {
            set_leak_mode(LeakMode::LogNames);
        }
        Self {
            first_id: registry::next_id(),
            previous_mode,
            _lock: lock,
        }
    }

    /// The id of the first object this scope can see.
    #[must_use]
    pub fn first_id(&self) -> ObjectId {
        registry::id_from_raw(self.first_id)
    }

    /// The objects registered since the scope began that are still
    /// registered, without ending the scope.
    #[must_use]
    pub fn report(&self) -> LeakReport {
        build_report(self.first_id)
    }

    /// Ends the scope; `Err` with the report if any object registered since
    /// it began is still registered.
    pub fn check(self) -> Result<(), LeakReport> {
        let report = self.report();
        if report.is_clean() {
            Ok(())
        } else {
            Err(report)
        }
    }

    /// Like [`check`](Self::check), but first retries as
    /// [`repeated_leak_check`](crate::repeated_leak_check) does, calling
    /// `wait(retry)` up to `retries` times while objects remain or cleanups
    /// are pending.
    pub fn check_repeated(self, retries: u32, wait: impl FnMut(u32)) -> Result<(), LeakReport> {
        let report = settled_report(self.first_id, retries, wait);
        if report.is_clean() {
            Ok(())
        } else {
            Err(report)
        }
    }

    /// Ends the scope, panicking with the report if anything leaked.
    ///
    /// # Panics
    ///
    /// Panics if an object registered since the scope began is still
    /// registered.
    pub fn assert_clean(self) {
        if let Err(report) = self.check() {
            panic!("{report}");
        }
    }
}

impl Drop for LeakCheckScope {
    fn drop(&mut self) {
        // Runs before the lock field is dropped, so the next scope sees the
        // restored mode.
        set_leak_mode(self.previous_mode);
    }
}

#[cfg(test)]
mod tests {
    use super::LeakCheckScope;
    use crate::mode::{LeakMode, leak_mode, set_leak_mode};

    /// The only test of this binary that touches the leak mode or takes a
    /// scope, so it can observe the mode outside a scope.
    #[test]
    fn scope_raises_the_mode_and_restores_it() {
        assert_eq!(leak_mode(), LeakMode::Disabled);
        let scope = LeakCheckScope::new();
        assert_eq!(leak_mode(), LeakMode::LogNames);
        set_leak_mode(LeakMode::LogTraces);
        drop(scope);
        assert_eq!(leak_mode(), LeakMode::Disabled);

        set_leak_mode(LeakMode::Panic);
        let scope = LeakCheckScope::new();
        assert_eq!(leak_mode(), LeakMode::Panic);
        assert_eq!(scope.check(), Ok(()));
        assert_eq!(leak_mode(), LeakMode::Panic);
        set_leak_mode(LeakMode::Disabled);
    }
}
