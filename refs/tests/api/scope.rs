//! `LeakCheckScope` and repeated leak checks.

use std::sync::mpsc;
use std::thread;

use refs::{CleanupToken, LeakCheckScope, LeakMode, leak_mode, repeated_leak_check};

use crate::common::probe;

#[test]
fn scope_passes_when_everything_is_released() {
    let scope = LeakCheckScope::new();
    let a = probe("scope::Probe", "a");
    let b = a.clone();
    drop((a, b));
    assert_eq!(scope.check(), Ok(()));
}

#[test]
fn scope_detects_a_leak() {
    let scope = LeakCheckScope::new();
    let kept = probe("scope::Leaked", "kept");
    let extra = kept.clone();
    let report = scope.check().expect_err("an object is alive");
    assert_eq!(report.per_type.get("scope::Leaked"), Some(&1));
    assert_eq!(report.messages, ["[scope::Leaked kept] refs=2"]);
    drop((kept, extra));
}

#[test]
fn scope_ignores_objects_registered_before_it() {
    let earlier_scope = LeakCheckScope::new();
    let older = probe("scope::Older", "o");
    drop(earlier_scope);

    let scope = LeakCheckScope::new();
    let newer = probe("scope::Newer", "n");
    drop(newer);
    assert_eq!(scope.check(), Ok(()));
    drop(older);
}

#[test]
fn repeated_check_succeeds_once_another_thread_releases() {
    let scope = LeakCheckScope::new();
    let held = probe("scope::Deferred", "d");
    let (release, released) = mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        released.recv().unwrap();
        drop(held);
    });
    let mut waits = Vec::new();
    let mut worker = Some(worker);
    let report = repeated_leak_check(5, |retry| {
        waits.push(retry);
        if let Some(worker) = worker.take() {
            release.send(()).unwrap();
            worker.join().unwrap();
        }
    });
    assert!(report.is_clean(), "{report}");
    assert_eq!(waits, [0]);
    scope.assert_clean();
}

#[test]
fn repeated_check_gives_up_after_its_retries() {
    let scope = LeakCheckScope::new();
    let held = probe("scope::Stuck", "s");
    let mut waits = 0;
    let report = repeated_leak_check(3, |_| waits += 1);
    assert_eq!(waits, 3);
    assert_eq!(report.per_type.get("scope::Stuck"), Some(&1));
    drop(held);
    scope.assert_clean();
}

#[test]
fn repeated_check_waits_for_pending_cleanups() {
    let scope = LeakCheckScope::new();
    let mut token = Some(CleanupToken::begin());
    assert_eq!(refs::pending_cleanups(), 1);
    let mut waits = 0;
    let result = scope.check_repeated(5, |_| {
        waits += 1;
        token = None;
    });
    assert_eq!(result, Ok(()));
    assert_eq!(waits, 1);
    assert_eq!(refs::pending_cleanups(), 0);
}

#[test]
fn repeated_check_with_backoff_sleep_settles() {
    let scope = LeakCheckScope::new();
    let held = probe("scope::Sleepy", "s");
    let worker = thread::spawn(move || drop(held));
    let result = scope.check_repeated(20, refs::backoff_sleep);
    worker.join().unwrap();
    assert_eq!(result, Ok(()));
}

#[test]
fn mode_inside_scope_is_at_least_log_names() {
    let scope = LeakCheckScope::new();
    assert_ne!(leak_mode(), LeakMode::Disabled);
    drop(scope);
}
