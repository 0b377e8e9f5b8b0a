//! Per-object reference logs.

use std::backtrace::BacktraceStatus;
use std::sync::Arc;

use refs::{LeakCheckScope, REF_LOG_CAPACITY, Ref, RefOp, ref_events, set_log_all_refs};

use crate::common::Probe;

fn ops(obj: &Probe) -> Vec<(RefOp, i64)> {
    ref_events(obj)
        .iter()
        .map(|e| (e.op(), e.count()))
        .collect()
}

#[test]
fn logged_object_records_each_operation_with_a_backtrace() {
    let scope = LeakCheckScope::new();
    let a = Ref::new(Probe::new("logging::Probe", "a").logged());
    let b = a.clone();
    let c = Ref::try_get(Ref::as_arc(&a)).expect("live");
    drop(b);
    drop(c);
    assert_eq!(
        ops(&a),
        [
            (RefOp::Register, 1),
            (RefOp::Inc, 2),
            (RefOp::TryInc, 3),
            (RefOp::Dec, 2),
            (RefOp::Dec, 1)
        ]
    );
    for event in ref_events(&*a) {
        assert_eq!(event.backtrace().status(), BacktraceStatus::Captured);
    }
    let clone_event = &ref_events(&*a)[1];
    assert!(
        clone_event
            .backtrace()
            .to_string()
            .contains("logged_object_records_each_operation_with_a_backtrace"),
        "{clone_event}"
    );
    drop(a);
    scope.assert_clean();
}

#[test]
fn unlogged_object_records_nothing() {
    let scope = LeakCheckScope::new();
    let a = Ref::new(Probe::new("logging::Quiet", "q"));
    let b = a.clone();
    drop(b);
    assert!(ref_events(&*a).is_empty());
    drop(a);
    scope.assert_clean();
}

#[test]
fn log_all_refs_logs_every_object() {
    let scope = LeakCheckScope::new();
    set_log_all_refs(true);
    let a = Ref::new(Probe::new("logging::All", "all"));
    drop(a.clone());
    set_log_all_refs(false);
    assert_eq!(
        ops(&a),
        [(RefOp::Register, 1), (RefOp::Inc, 2), (RefOp::Dec, 1)]
    );
    drop(a);
    scope.assert_clean();
}

#[test]
fn log_keeps_only_the_most_recent_events() {
    let scope = LeakCheckScope::new();
    let a = Ref::new(Probe::new("logging::Busy", "busy").logged());
    for _ in 0..REF_LOG_CAPACITY {
        drop(a.clone());
    }
    let events = ref_events(&*a);
    assert_eq!(events.len(), REF_LOG_CAPACITY);
    // Register plus 2 * capacity operations were recorded; the last one left
    // is the final decrement to 1.
    assert_eq!(
        events.last().map(|e| (e.op(), e.count())),
        Some((RefOp::Dec, 1))
    );
    let report = scope.report();
    assert!(
        report.messages[0].contains(&format!(
            "reference log ({} earlier events dropped):",
            REF_LOG_CAPACITY + 1
        )),
        "{}",
        report.messages[0]
    );
    drop(a);
    scope.assert_clean();
}

#[test]
fn leak_report_shows_the_reference_log() {
    let scope = LeakCheckScope::new();
    let a = Ref::new(Probe::new("logging::Leaky", "l").logged());
    let arc = Arc::clone(Ref::as_arc(&a));
    let leaked = a.clone().into_raw_arc();
    drop(a);
    let report = scope.check().expect_err("a reference leaked");
    let message = &report.messages[0];
    assert!(
        message
            .starts_with("[logging::Leaky l] refs=1\nreference log:\n  registered with count 1\n"),
        "{message}"
    );
    assert!(message.contains("\n  IncRef to 2\n"), "{message}");
    assert!(message.contains("\n  DecRef to 1\n"), "{message}");
    drop(Ref::from_counted_arc(leaked));
    assert_eq!(arc.destroyed(), 1);
}

#[test]
fn destroyed_object_log_is_gone() {
    let scope = LeakCheckScope::new();
    let a = Ref::new(Probe::new("logging::Gone", "g").logged());
    let arc = Arc::clone(Ref::as_arc(&a));
    drop(a);
    assert!(ref_events(&*arc).is_empty());
    scope.assert_clean();
}
