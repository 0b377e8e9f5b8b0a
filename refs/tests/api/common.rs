//! A checked, refcounted test object shared by the integration tests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use refs::{CheckedObject, Ref, RefCount, RefCounted};

/// A refcounted object that counts its destructions and remembers the
/// contexts it was destroyed with.
pub struct Probe {
    pub refs: RefCount,
    pub ref_type: &'static str,
    pub name: &'static str,
    pub log: bool,
    pub destroyed: AtomicUsize,
    pub contexts: Mutex<Vec<Option<u32>>>,
}

impl Probe {
    pub fn new(ref_type: &'static str, name: &'static str) -> Self {
        Self {
            refs: RefCount::new(),
            ref_type,
            name,
            log: false,
            destroyed: AtomicUsize::new(0),
            contexts: Mutex::new(Vec::new()),
        }
    }

    pub fn logged(mut self) -> Self {
        self.log = true;
        self
    }

    pub fn destroyed(&self) -> usize {
        self.destroyed.load(Ordering::SeqCst)
    }

    pub fn contexts(&self) -> Vec<Option<u32>> {
        self.contexts.lock().unwrap().clone()
    }
}

impl CheckedObject for Probe {
    fn ref_type(&self) -> &'static str {
        self.ref_type
    }

    fn leak_message(&self) -> String {
        format!(
            "[{} {}] refs={}",
            self.ref_type,
            self.name,
            self.refs.count()
        )
    }

    fn log_refs(&self) -> bool {
        self.log
    }
}

impl RefCounted for Probe {
    type Context = u32;

    fn ref_count(&self) -> &RefCount {
        &self.refs
    }

    fn destroy(&self, ctx: Option<&u32>) {
        self.destroyed.fetch_add(1, Ordering::SeqCst);
        self.contexts.lock().unwrap().push(ctx.copied());
    }
}

/// Creates a probe behind a `Ref`.
pub fn probe(ref_type: &'static str, name: &'static str) -> Ref<Probe> {
    Ref::new(Probe::new(ref_type, name))
}
