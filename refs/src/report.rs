//! Leak checks and their reports.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::mode::{LeakMode, leak_check_enabled, leak_mode};
use crate::registry;
use crate::sink::log_message;

/// The objects a leak check found alive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeakReport {
    /// How many leaked objects of each [`ref_type`](crate::CheckedObject::ref_type).
    pub per_type: BTreeMap<&'static str, usize>,
    /// One message per leaked object, in registration order: its
    /// [`leak_message`](crate::CheckedObject::leak_message), followed by its
    /// registration backtrace and reference log when those were recorded.
    pub messages: Vec<String>,
}

impl LeakReport {
    /// Returns true if nothing leaked.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.messages.is_empty()
    }

    /// The number of leaked objects.
    #[must_use]
    pub fn leaked(&self) -> usize {
        self.messages.len()
    }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return f.write_str("leak checking found no leaked objects");
        }
        write!(
            f,
            "leak checking detected {} leaked objects:",
            self.leaked()
        )?;
        for message in &self.messages {
            write!(f, "\n{message}")?;
        }
        Ok(())
    }
}

/// Builds the report of every registered object with an id of at least
/// `min_id`.
pub(crate) fn build_report(min_id: u64) -> LeakReport {
    let mut report = LeakReport::default();
    // Leak messages are built outside the registry lock (see registry.rs).
    for snapshot in registry::snapshot(min_id) {
        let mut message = match snapshot.weak.upgrade() {
            Some(obj) => obj.leak_message(),
            None => format!(
                "[{} {}] freed while still registered",
                snapshot.ref_type, snapshot.id
            ),
        };
        #[cfg(feature = "std")]
        if let Some(trace) = &snapshot.trace {
            // Writing to a String cannot fail.
            let _ = write!(message, "\nregistered at:\n{trace}");
        }
        if let Some(log) = &snapshot.log {
            let _ = write!(message, "\n{log}");
        }
        *report.per_type.entry(snapshot.ref_type).or_default() += 1;
        report.messages.push(message);
    }
    report
}

/// Acts on a report as the mode asks: panics in [`LeakMode::Panic`], logs in
/// the log modes.
fn act_on(report: &LeakReport) {
    if report.is_clean() {
        return;
    }
    match leak_mode() {
        LeakMode::Disabled => {}
        LeakMode::LogNames | LeakMode::LogTraces => log_message(&report.to_string()),
        LeakMode::Panic => panic!("{report}"),
    }
}

/// Reports every registered object as leaked; call it when no checked object
/// should be alive any more.
///
/// Returns an empty report while leak checking is disabled. Otherwise, when
/// something leaked, logs the report through the log sink (see
/// [`set_log_sink`](crate::set_log_sink)) in the log modes, or panics with it
/// in [`LeakMode::Panic`].
///
/// Unlike gVisor's `DoLeakCheck` it may be called any number of times.
#[must_use = "the report says what leaked"]
pub fn leak_check() -> LeakReport {
    if !leak_check_enabled() {
        return LeakReport::default();
    }
    let report = build_report(0);
    act_on(&report);
    report
}

/// Like [`leak_check`], but while objects are still registered or
/// [`CleanupToken`]s are outstanding it calls `wait(retry)` and checks again,
/// up to `retries` times, before acting on the report. This gives dec-refs
/// deferred to other threads time to finish (gVisor's
/// `DoRepeatedLeakCheck` with `CleanupSync`).
///
/// `wait` is the caller's sleep or yield; with `std`, `backoff_sleep` is a
/// ready-made one.
#[must_use = "the report says what leaked"]
pub fn repeated_leak_check(retries: u32, wait: impl FnMut(u32)) -> LeakReport {
    if !leak_check_enabled() {
        return LeakReport::default();
    }
    let report = settled_report(0, retries, wait);
    act_on(&report);
    report
}

/// Builds the report for objects with ids from `min_id`, retrying as
/// [`repeated_leak_check`] describes.
pub(crate) fn settled_report(min_id: u64, retries: u32, mut wait: impl FnMut(u32)) -> LeakReport {
    let mut retry = 0;
    loop {
        let settled = pending_cleanups() == 0;
        let report = build_report(min_id);
        if (settled && report.is_clean()) || retry >= retries {
            return report;
        }
        wait(retry);
        retry += 1;
    }
}

/// Sleeps between leak-check retries: 1 ms for the first retry, doubling up
/// to 128 ms.
#[cfg(feature = "std")]
pub fn backoff_sleep(retry: u32) {
    let millis = 1u64 << retry.min(7);
    std::thread::sleep(core::time::Duration::from_millis(millis));
}

static PENDING_CLEANUPS: AtomicUsize = AtomicUsize::new(0);

/// Marks an asynchronous cleanup (such as dec-refs deferred to another
/// thread) as in flight until it is dropped; repeated leak checks wait for
/// all of them.
#[must_use = "the cleanup counts as finished as soon as the token is dropped"]
#[derive(Debug)]
pub struct CleanupToken {
    _private: (),
}

impl CleanupToken {
    /// Marks a cleanup as in flight.
    pub fn begin() -> Self {
        PENDING_CLEANUPS.fetch_add(1, Ordering::Relaxed);
        Self { _private: () }
    }
}

impl Drop for CleanupToken {
    fn drop(&mut self) {
        PENDING_CLEANUPS.fetch_sub(1, Ordering::Release);
    }
}

/// Returns how many [`CleanupToken`]s are outstanding.
#[must_use]
pub fn pending_cleanups() -> usize {
    PENDING_CLEANUPS.load(Ordering::Acquire)
}
