//! Many threads race `try_inc_ref`, `inc_ref` and `dec_ref` against the final
//! `dec_ref` of a stream of objects: every object must be destroyed exactly
//! once, and no `try_inc_ref` may succeed once its destruction has begun.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::thread;

use refs::{CheckedObject, LeakCheckScope, Ref, RefCount, RefCounted};

const THREADS: usize = 8;
const OPS_PER_THREAD: usize = 100_000;

struct Victim {
    refs: RefCount,
    destroyed: AtomicUsize,
    /// Set by the destructor: a reference taken after this is a resurrection.
    dying: AtomicBool,
    /// The count the destructor saw (must read destroyed).
    count_in_destroy: AtomicI64,
}

impl Victim {
    fn new() -> Self {
        Self {
            refs: RefCount::new(),
            destroyed: AtomicUsize::new(0),
            dying: AtomicBool::new(false),
            count_in_destroy: AtomicI64::new(0),
        }
    }

    fn on_destroy(&self) {
        self.dying.store(true, Ordering::SeqCst);
        self.count_in_destroy
            .store(self.refs.count(), Ordering::SeqCst);
        self.destroyed.fetch_add(1, Ordering::SeqCst);
    }

    fn dec(&self) {
        self.refs.dec_ref(self, || self.on_destroy());
    }
}

impl CheckedObject for Victim {
    fn ref_type(&self) -> &'static str {
        "stress::Victim"
    }

    fn leak_message(&self) -> String {
        format!("[stress::Victim] refs={}", self.refs.count())
    }
}

impl RefCounted for Victim {
    type Context = ();

    fn ref_count(&self) -> &RefCount {
        &self.refs
    }

    fn destroy(&self, _ctx: Option<&()>) {
        self.on_destroy();
    }
}

/// Outcome counters shared by the workers.
#[derive(Default)]
struct Tally {
    successes: AtomicUsize,
    failures: AtomicUsize,
    resurrections: AtomicUsize,
}

/// How many worker operations the owner waits for before it moves on to the
/// next object, so that every object sees a few racing operations.
const OPS_PER_OBJECT: usize = 4;

/// Counts a worker out of the running ones when it returns or panics.
struct Running<'a>(&'a AtomicUsize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs the workers against a stream of objects: the owner publishes object
/// `i + 1` and at once drops its initial reference on object `i`, while
/// workers may still be taking references on `i`.
///
/// `create` makes an object and the owner's initial reference on it, `take`
/// tries to get a reference (a guard that releases it on drop), `extra` takes
/// and drops one more reference through a held one, and `retire` releases
/// the owner's initial reference.
fn race<O, G>(
    create: impl Fn() -> (Arc<Victim>, O),
    take: impl Fn(&Arc<Victim>) -> Option<G> + Sync,
    extra: impl Fn(&G) + Sync,
    retire: impl Fn(O),
) -> (Vec<Arc<Victim>>, Tally) {
    let objects = THREADS * OPS_PER_THREAD / OPS_PER_OBJECT + 1;
    let (all, initials): (Vec<_>, Vec<_>) = (0..objects).map(|_| create()).unzip();
    let current = AtomicUsize::new(0);
    let ops_done = AtomicUsize::new(0);
    let running = AtomicUsize::new(THREADS);
    let tally = Tally::default();
    let mut initials = initials.into_iter();
    thread::scope(|s| {
        for worker in 0..THREADS {
            let (all, current, ops_done, running, tally, take, extra) =
                (&all, &current, &ops_done, &running, &tally, &take, &extra);
            s.spawn(move || {
                let _running = Running(running);
                let mut target = &all[0];
                for op in 0..OPS_PER_THREAD {
                    // Stay on one object for a few operations, so that some
                    // land after the owner retired it.
                    if op.is_multiple_of(4) {
                        target = &all[current.load(Ordering::Acquire)];
                    }
                    match take(target) {
                        Some(guard) => {
                            tally.successes.fetch_add(1, Ordering::Relaxed);
                            if (op + worker).is_multiple_of(3) {
                                extra(&guard);
                            }
                            if target.dying.load(Ordering::SeqCst) {
                                tally.resurrections.fetch_add(1, Ordering::Relaxed);
                            }
                            drop(guard);
                        }
                        None => {
                            tally.failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    ops_done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let mut next_step = OPS_PER_OBJECT;
        for index in 1..objects {
            // Wait for the workers to make progress on the current object;
            // stop waiting once they are all gone (finished or panicked).
            while ops_done.load(Ordering::Relaxed) < next_step
                && running.load(Ordering::Acquire) > 0
            {
                thread::yield_now();
            }
            next_step += OPS_PER_OBJECT;
            current.store(index, Ordering::Release);
            retire(initials.next().expect("one initial reference per object"));
        }
    });
    initials.for_each(retire);
    (all, tally)
}

fn assert_each_destroyed_once(all: &[Arc<Victim>], tally: &Tally) {
    assert_eq!(tally.resurrections.load(Ordering::Relaxed), 0);
    assert_eq!(
        tally.successes.load(Ordering::Relaxed) + tally.failures.load(Ordering::Relaxed),
        THREADS * OPS_PER_THREAD
    );
    for victim in all {
        assert_eq!(victim.destroyed.load(Ordering::SeqCst), 1);
        assert_eq!(victim.refs.count(), -1);
        assert_eq!(victim.count_in_destroy.load(Ordering::SeqCst), -1);
    }
    // Both the owner and the workers made progress.
    assert!(all.len() > 1);
    assert!(tally.successes.load(Ordering::Relaxed) > 0);
}

/// Releases one counted reference of a raw `RefCount` on drop.
struct Held(Arc<Victim>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[test]
fn counter_destroys_each_object_exactly_once_under_races() {
    let (all, tally) = race(
        || {
            let victim = Arc::new(Victim::new());
            (Arc::clone(&victim), Held(victim))
        },
        |victim| victim.refs.try_inc_ref().then(|| Held(Arc::clone(victim))),
        |held| {
            held.0.refs.inc_ref(&*held.0);
            held.0.dec();
        },
        drop,
    );
    assert_each_destroyed_once(&all, &tally);
}

#[test]
fn handles_destroy_each_object_exactly_once_under_races_and_leave_no_leak() {
    let scope = LeakCheckScope::new();
    let (all, tally) = race(
        || {
            let initial = Ref::new(Victim::new());
            (Arc::clone(Ref::as_arc(&initial)), initial)
        },
        Ref::try_get,
        |r| drop(r.clone()),
        |initial| initial.release(&()),
    );
    assert_each_destroyed_once(&all, &tally);
    scope.assert_clean();
}

/// Spins until `flag` reaches `value`, yielding now and then so that a
/// descheduled partner can run.
fn wait_for(flag: &AtomicUsize, value: usize) {
    let mut spins = 0u32;
    while flag.load(Ordering::Acquire) < value {
        std::hint::spin_loop();
        spins += 1;
        if spins.is_multiple_of(64) {
            thread::yield_now();
        }
    }
}

#[test]
fn try_inc_racing_the_final_dec_never_revives_or_loses_the_destruction() {
    const ROUNDS: usize = 50_000;
    let victims: Vec<Victim> = (0..ROUNDS).map(|_| Victim::new()).collect();
    let ready = AtomicUsize::new(0);
    let go = AtomicUsize::new(0);
    thread::scope(|s| {
        let (victims, ready, go) = (&victims, &ready, &go);
        // The racer calls try_inc_ref just as the main thread drops the last
        // reference; either may win.
        s.spawn(move || {
            for (round, victim) in victims.iter().enumerate() {
                ready.store(round + 1, Ordering::Release);
                wait_for(go, round + 1);
                if victim.refs.try_inc_ref() {
                    assert!(
                        !victim.dying.load(Ordering::SeqCst),
                        "try_inc_ref succeeded after destruction began (round {round})"
                    );
                    victim.dec();
                }
            }
        });
        for (round, victim) in victims.iter().enumerate() {
            wait_for(ready, round + 1);
            go.store(round + 1, Ordering::Release);
            victim.dec();
        }
    });
    for victim in &victims {
        assert_eq!(victim.destroyed.load(Ordering::SeqCst), 1);
        assert_eq!(victim.refs.count(), -1);
    }
}
