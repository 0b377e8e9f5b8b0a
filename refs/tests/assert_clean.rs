//! `LeakCheckScope::assert_clean` panics with the report.
//!
//! A binary of its own: the panic ends the scope (and releases the test
//! lock) while the leaked object is still alive, so in the shared `api`
//! binary a test checking the whole registry could see it.

use refs::{CheckedObject, LeakCheckScope, Ref, RefCount, RefCounted};

struct Kept(RefCount);

impl CheckedObject for Kept {
    fn ref_type(&self) -> &'static str {
        "assert_clean::Kept"
    }

    fn leak_message(&self) -> String {
        format!("[assert_clean::Kept] refs={}", self.0.count())
    }
}

impl RefCounted for Kept {
    type Context = ();

    fn ref_count(&self) -> &RefCount {
        &self.0
    }

    fn destroy(&self, _ctx: Option<&()>) {}
}

#[test]
#[should_panic(expected = "[assert_clean::Kept] refs=1")]
fn assert_clean_panics_with_the_report() {
    let scope = LeakCheckScope::new();
    let kept = Ref::new(Kept(RefCount::new()));
    scope.assert_clean();
    drop(kept);
}
