//! `Ref`: the owning handle.

use std::sync::Arc;

use crate::common::{Probe, probe};
use refs::{LeakCheckScope, Ref};

#[test]
fn new_ref_holds_the_initial_reference() {
    let scope = LeakCheckScope::new();
    let r = probe("handle::Probe", "a");
    assert_eq!(r.refs.count(), 1);
    drop(r);
    scope.assert_clean();
}

#[test]
fn clone_takes_a_reference_and_drop_releases_it() {
    let scope = LeakCheckScope::new();
    let a = probe("handle::Probe", "a");
    let b = a.clone();
    assert_eq!(a.refs.count(), 2);
    assert!(Ref::ptr_eq(&a, &b));
    drop(b);
    assert_eq!(a.refs.count(), 1);
    assert_eq!(a.destroyed(), 0);
    drop(a);
    scope.assert_clean();
}

#[test]
fn dropping_the_last_reference_destroys_without_context() {
    let scope = LeakCheckScope::new();
    let a = probe("handle::Probe", "a");
    let arc = Arc::clone(Ref::as_arc(&a));
    let b = a.clone();
    drop(a);
    drop(b);
    assert_eq!(arc.destroyed(), 1);
    assert_eq!(arc.contexts(), [None]);
    assert_eq!(arc.refs.count(), -1);
    scope.assert_clean();
}

#[test]
fn releasing_the_last_reference_passes_the_context() {
    let scope = LeakCheckScope::new();
    let a = probe("handle::Probe", "a");
    let arc = Arc::clone(Ref::as_arc(&a));
    let b = a.clone();
    b.release(&7);
    assert_eq!(arc.destroyed(), 0);
    a.release(&9);
    assert_eq!(arc.destroyed(), 1);
    assert_eq!(arc.contexts(), [Some(9)]);
    scope.assert_clean();
}

#[test]
fn try_get_succeeds_while_live_and_fails_after_destruction() {
    let scope = LeakCheckScope::new();
    let a = probe("handle::Probe", "a");
    let arc = Arc::clone(Ref::as_arc(&a));
    let b = Ref::try_get(&arc).expect("live object");
    assert_eq!(arc.refs.count(), 2);
    drop(a);
    drop(b);
    assert!(Ref::try_get(&arc).is_none());
    assert_eq!(arc.destroyed(), 1);
    scope.assert_clean();
}

#[test]
fn adopt_takes_over_the_initial_reference() {
    let scope = LeakCheckScope::new();
    let arc = Arc::new(Probe::new("handle::Probe", "adopted"));
    let r = Ref::adopt(Arc::clone(&arc));
    assert_eq!(scope.report().per_type.get("handle::Probe"), Some(&1));
    drop(r);
    assert_eq!(arc.destroyed(), 1);
    scope.assert_clean();
}

#[test]
fn raw_arc_round_trip_keeps_the_count() {
    let scope = LeakCheckScope::new();
    let a = probe("handle::Probe", "a");
    let b = a.clone();
    let raw = b.into_raw_arc();
    assert_eq!(a.refs.count(), 2);
    let b = Ref::from_counted_arc(raw);
    drop(a);
    assert_eq!(b.destroyed(), 0);
    let arc = Arc::clone(Ref::as_arc(&b));
    drop(b);
    assert_eq!(arc.destroyed(), 1);
    scope.assert_clean();
}

#[test]
#[should_panic(expected = "destroyed object: [handle::Probe a] refs=-1")]
fn from_counted_arc_without_a_reference_panics_on_release() {
    let scope = LeakCheckScope::new();
    let a = probe("handle::Probe", "a");
    let arc = Arc::clone(Ref::as_arc(&a));
    drop(a);
    drop(Ref::from_counted_arc(arc));
    drop(scope);
}

#[test]
fn dropping_a_raw_arc_leaks_the_reference() {
    let scope = LeakCheckScope::new();
    let a = probe("handle::Leaky", "a");
    drop(a.clone().into_raw_arc());
    let arc = Arc::clone(Ref::as_arc(&a));
    drop(a);
    let report = scope.check().expect_err("one reference was leaked");
    assert_eq!(report.messages, ["[handle::Leaky a] refs=1"]);
    // Give the leaked reference back so the registry is clean again.
    drop(Ref::from_counted_arc(arc));
}

#[test]
fn debug_names_type_and_count() {
    let scope = LeakCheckScope::new();
    let a = probe("handle::Probe", "a");
    let text = format!("{a:?}");
    assert!(
        text.starts_with("Ref { type: \"handle::Probe\", addr: 0x"),
        "{text}"
    );
    assert!(text.ends_with("refs: 1 }"), "{text}");
    drop(a);
    scope.assert_clean();
}

#[test]
fn new_with_leak_checking_disabled_registers_nothing() {
    let scope = LeakCheckScope::new();
    refs::set_leak_mode(refs::LeakMode::Disabled);
    let a = probe("handle::Unregistered", "a");
    assert!(scope.report().is_clean());
    drop(a);
    scope.assert_clean();
}

#[test]
fn object_registered_while_enabled_is_unregistered_after_disabling() {
    let scope = LeakCheckScope::new();
    let a = probe("handle::Probe", "a");
    refs::set_leak_mode(refs::LeakMode::Disabled);
    let before = refs::registered_objects();
    drop(a);
    assert_eq!(refs::registered_objects(), before - 1);
    scope.assert_clean();
}
