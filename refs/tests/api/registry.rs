//! The registry, leak checks and their reports.

use std::sync::{Arc, Mutex};

use refs::{
    CheckedObject, LeakCheckScope, LeakMode, ObjectId, Ref, Registration, leak_check, register,
    set_leak_mode, unregister,
};

use crate::common::{Probe, probe};

#[test]
fn register_and_unregister_track_live_objects() {
    let scope = LeakCheckScope::new();
    let obj = Arc::new(Probe::new("registry::Manual", "m"));
    let id = register(&obj);
    assert!(id.is_registered());
    assert_eq!(scope.report().per_type.get("registry::Manual"), Some(&1));
    unregister(id);
    assert!(scope.report().is_clean());
    scope.assert_clean();
}

#[test]
fn ids_increase_monotonically() {
    let scope = LeakCheckScope::new();
    let a = Registration::new(&Arc::new(Probe::new("registry::Manual", "a")));
    let b = Registration::new(&Arc::new(Probe::new("registry::Manual", "b")));
    assert!(a.id() >= scope.first_id());
    assert!(b.id() > a.id());
    drop((a, b));
    scope.assert_clean();
}

#[test]
fn registration_is_a_no_op_while_disabled() {
    let scope = LeakCheckScope::new();
    set_leak_mode(LeakMode::Disabled);
    let obj = Arc::new(Probe::new("registry::Manual", "m"));
    let id = register(&obj);
    assert_eq!(id, ObjectId::UNREGISTERED);
    unregister(id);
    assert!(leak_check().is_clean());
    scope.assert_clean();
}

#[test]
#[should_panic(expected = "registered twice")]
fn registering_twice_panics() {
    let scope = LeakCheckScope::new();
    let obj = Arc::new(Probe::new("registry::Manual", "m"));
    let _first = Registration::new(&obj);
    let _second = Registration::new(&obj);
    drop(scope);
}

#[test]
#[should_panic(expected = "which is not registered")]
fn unregistering_twice_panics() {
    let scope = LeakCheckScope::new();
    let obj = Arc::new(Probe::new("registry::Manual", "m"));
    let id = register(&obj);
    unregister(id);
    unregister(id);
    drop(scope);
}

#[test]
fn registration_guard_unregisters_on_drop() {
    let scope = LeakCheckScope::new();
    let obj = Arc::new(Probe::new("registry::Manual", "m"));
    let registration = Registration::new(&obj);
    assert_eq!(scope.report().leaked(), 1);
    registration.unregister();
    scope.assert_clean();
}

/// An object that registers itself while being built by `Arc::new_cyclic`
/// and stays registered for as long as its memory lives.
struct SelfRegistered {
    _registration: Registration,
}

impl CheckedObject for SelfRegistered {
    fn ref_type(&self) -> &'static str {
        "registry::SelfRegistered"
    }

    fn leak_message(&self) -> String {
        "[registry::SelfRegistered]".into()
    }
}

#[test]
fn cyclic_registration_lives_with_the_object() {
    let scope = LeakCheckScope::new();
    let obj = Arc::new_cyclic(|weak| SelfRegistered {
        _registration: Registration::new_cyclic(weak, "registry::SelfRegistered"),
    });
    let report = scope.report();
    assert_eq!(report.per_type.get("registry::SelfRegistered"), Some(&1));
    assert_eq!(report.messages, ["[registry::SelfRegistered]"]);
    drop(obj);
    scope.assert_clean();
}

#[test]
fn leak_check_counts_per_type_and_lists_messages() {
    let scope = LeakCheckScope::new();
    let a1 = probe("registry::A", "a1");
    let a2 = probe("registry::A", "a2");
    let b = probe("registry::B", "b");
    let extra = b.clone();
    let released = probe("registry::C", "c");
    drop(released);

    let report = leak_check();
    assert_eq!(report.per_type.get("registry::A"), Some(&2));
    assert_eq!(report.per_type.get("registry::B"), Some(&1));
    assert_eq!(report.per_type.get("registry::C"), None);
    for expected in [
        "[registry::A a1] refs=1",
        "[registry::A a2] refs=1",
        "[registry::B b] refs=2",
    ] {
        assert!(report.messages.iter().any(|m| m == expected), "{report}");
    }
    let text = report.to_string();
    assert!(text.starts_with(&format!(
        "leak checking detected {} leaked objects:",
        report.leaked()
    )));

    drop((a1, a2, b, extra));
    assert!(leak_check().is_clean());
    scope.assert_clean();
}

#[test]
fn object_freed_while_registered_is_reported() {
    let scope = LeakCheckScope::new();
    let obj = Arc::new(Probe::new("registry::Freed", "f"));
    let id = register(&obj);
    // The object goes away without ever being unregistered.
    drop(obj);
    let report = scope.report();
    assert_eq!(report.per_type.get("registry::Freed"), Some(&1));
    assert_eq!(
        report.messages,
        [format!(
            "[registry::Freed {id}] freed while still registered"
        )]
    );
    unregister(id);
    scope.assert_clean();
}

static SINK: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn capture(message: &str) {
    SINK.lock().unwrap().push(message.to_owned());
}

#[test]
fn log_mode_sends_the_report_to_the_sink() {
    let scope = LeakCheckScope::new();
    set_leak_mode(LeakMode::LogNames);
    refs::set_log_sink(capture);
    let a = probe("registry::Logged", "l");
    let report = leak_check();
    refs::reset_log_sink();
    let logged = std::mem::take(&mut *SINK.lock().unwrap());
    assert_eq!(logged, [report.to_string()]);
    assert!(logged[0].contains("[registry::Logged l] refs=1"));
    drop(a);
    scope.assert_clean();
}

#[test]
fn clean_leak_check_logs_nothing() {
    let scope = LeakCheckScope::new();
    refs::set_log_sink(capture);
    let report = leak_check();
    refs::reset_log_sink();
    assert!(report.is_clean(), "{report}");
    assert!(SINK.lock().unwrap().is_empty());
    scope.assert_clean();
}

#[test]
#[should_panic(expected = "leak checking detected 1 leaked objects:\n[registry::Panicky p] refs=1")]
fn panic_mode_panics_on_a_leak() {
    let _scope = LeakCheckScope::new();
    set_leak_mode(LeakMode::Panic);
    let _p = probe("registry::Panicky", "p");
    let _ = leak_check();
}

#[test]
fn disabled_leak_check_reports_nothing() {
    let scope = LeakCheckScope::new();
    let a = probe("registry::Hidden", "h");
    set_leak_mode(LeakMode::Disabled);
    assert!(leak_check().is_clean());
    set_leak_mode(LeakMode::LogNames);
    assert_eq!(leak_check().leaked(), 1);
    drop(a);
    scope.assert_clean();
}

#[test]
fn log_traces_mode_records_where_objects_were_registered() {
    let scope = LeakCheckScope::new();
    set_leak_mode(LeakMode::LogTraces);
    let a = probe("registry::Traced", "t");
    let report = scope.report();
    let message = &report.messages[0];
    assert!(
        message.starts_with("[registry::Traced t] refs=1\nregistered at:\n"),
        "{message}"
    );
    assert!(
        message.contains("log_traces_mode_records_where_objects_were_registered"),
        "{message}"
    );
    drop(a);
    scope.assert_clean();
}

#[test]
fn ref_new_registers_and_destruction_unregisters() {
    let scope = LeakCheckScope::new();
    let a = Ref::new(Probe::new("registry::Ref", "r"));
    assert_eq!(scope.report().per_type.get("registry::Ref"), Some(&1));
    drop(a);
    assert!(scope.report().is_clean());
    scope.assert_clean();
}
