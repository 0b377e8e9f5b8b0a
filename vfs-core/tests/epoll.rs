//! epoll instances over a toy file whose readiness the test sets: level
//! and edge triggering, one-shot, nesting and loops, and interests that go
//! away with the last reference to the watched file. Ends with a leak
//! check.

pub mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use abi_linux::{EpollEvent, Errno, OpenFlags, Statx};
use common::{Env, errno};
use vfs_core::epoll::EpollFile;
use vfs_core::waiter::{EventMask, WaiterQueue};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileDescriptionOptions, FileRef, StatOptions,
};

/// A file whose readiness is whatever the test stored.
struct Toggle {
    ready: Arc<AtomicU32>,
    queue: Arc<WaiterQueue>,
}

impl FileDescriptionImpl for Toggle {
    fn stat(&self, _: &dyn Context, _: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(Statx::default())
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        EventMask::from_bits_retain(self.ready.load(Ordering::SeqCst)) & mask
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.queue)
    }
}

struct Source {
    ready: Arc<AtomicU32>,
    queue: Arc<WaiterQueue>,
}

impl Source {
    fn set(&self, events: EventMask) {
        self.ready.store(events.bits(), Ordering::SeqCst);
        self.queue.notify(events);
    }
}

fn file(env: &Env, imp: Box<dyn FileDescriptionImpl>) -> FileRef {
    FileDescription::new(
        OpenFlags::RDWR,
        &env.root.mount,
        &env.root.dentry,
        FileDescriptionOptions::default(),
        imp,
    )
}

fn toggle(env: &Env) -> (FileRef, Source) {
    let ready = Arc::new(AtomicU32::new(0));
    let queue = Arc::new(WaiterQueue::new());
    let f = file(
        env,
        Box::new(Toggle {
            ready: ready.clone(),
            queue: queue.clone(),
        }),
    );
    (f, Source { ready, queue })
}

fn events(epoll: &FileRef) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    epoll
        .downcast::<EpollFile>()
        .unwrap()
        .instance()
        .read_events(16, &mut out);
    out.iter()
        .map(|e: &EpollEvent| {
            let EpollEvent { events, data, .. } = *e;
            (events, data)
        })
        .collect()
}

#[test]
fn level_edge_and_oneshot_interests_report_as_linux() {
    let env = Env::new();
    let ep = file(&env, EpollFile::new_boxed());
    let instance = ep.downcast::<EpollFile>().unwrap().instance().clone();
    let (f, src) = toggle(&env);
    let inn = EventMask::IN.bits();
    instance.add(f.as_arc(), 3, EventMask::IN, 7).unwrap();
    assert_eq!(
        errno(instance.add(f.as_arc(), 3, EventMask::IN, 7)),
        Errno::EEXIST
    );
    assert_eq!(events(&ep), vec![]);
    src.set(EventMask::IN);
    assert_eq!(ep.readiness(EventMask::IN), EventMask::IN);
    assert_eq!(events(&ep), vec![(inn, 7)]);
    assert_eq!(events(&ep), vec![(inn, 7)], "level-triggered stays ready");
    instance
        .modify(f.as_arc(), 3, EventMask::IN | EventMask::ET, 8)
        .unwrap();
    assert_eq!(events(&ep), vec![(inn, 8)]);
    assert_eq!(events(&ep), vec![], "edge-triggered waits for a new event");
    src.set(EventMask::IN);
    assert_eq!(events(&ep), vec![(inn, 8)]);
    instance
        .modify(f.as_arc(), 3, EventMask::IN | EventMask::ONESHOT, 9)
        .unwrap();
    assert_eq!(events(&ep), vec![(inn, 9)]);
    src.set(EventMask::IN);
    assert_eq!(events(&ep), vec![], "a fired one-shot interest is disarmed");
    // Errors and hang-ups are always reported.
    instance.modify(f.as_arc(), 3, EventMask::OUT, 10).unwrap();
    src.set(EventMask::HUP);
    assert_eq!(events(&ep), vec![(EventMask::HUP.bits(), 10)]);
    instance.delete(f.as_arc(), 3).unwrap();
    assert_eq!(errno(instance.delete(f.as_arc(), 3)), Errno::ENOENT);
    assert_eq!(events(&ep), vec![]);
    f.release(&env.ctx);
    ep.release(&env.ctx);
    env.finish();
}

#[test]
fn interests_end_with_the_last_reference_to_the_file() {
    let env = Env::new();
    let ep = file(&env, EpollFile::new_boxed());
    let instance = ep.downcast::<EpollFile>().unwrap().instance().clone();
    let (f, src) = toggle(&env);
    instance.add(f.as_arc(), 4, EventMask::IN, 1).unwrap();
    let dup = f.clone();
    f.release(&env.ctx);
    assert_eq!(instance.len(), 1, "a second reference keeps the interest");
    dup.release(&env.ctx);
    assert_eq!(instance.len(), 0);
    assert!(src.queue.is_empty(), "the waiter left the file's queue");
    ep.release(&env.ctx);
    env.finish();
}

#[test]
fn nested_instances_propagate_readiness_and_refuse_loops() {
    let env = Env::new();
    let outer = file(&env, EpollFile::new_boxed());
    let inner = file(&env, EpollFile::new_boxed());
    let outer_i = outer.downcast::<EpollFile>().unwrap().instance().clone();
    let inner_i = inner.downcast::<EpollFile>().unwrap().instance().clone();
    let (f, src) = toggle(&env);
    inner_i.add(f.as_arc(), 5, EventMask::IN, 1).unwrap();
    outer_i.add(inner.as_arc(), 6, EventMask::IN, 2).unwrap();
    assert_eq!(
        errno(inner_i.add(outer.as_arc(), 7, EventMask::IN, 3)),
        Errno::ELOOP
    );
    assert_eq!(
        errno(inner_i.add(inner.as_arc(), 8, EventMask::IN, 3)),
        Errno::EINVAL
    );
    assert_eq!(events(&outer), vec![]);
    src.set(EventMask::IN);
    assert_eq!(events(&outer), vec![(EventMask::IN.bits(), 2)]);
    // A chain deeper than MAX_NESTS is refused.
    let mut chain = vec![inner.clone()];
    let mut refused = None;
    for depth in 0..8 {
        let next = file(&env, EpollFile::new_boxed());
        let result = next.downcast::<EpollFile>().unwrap().instance().add(
            chain.last().unwrap().as_arc(),
            9,
            EventMask::IN,
            0,
        );
        chain.push(next);
        if let Err(e) = result {
            refused = Some((depth, e));
            break;
        }
    }
    assert_eq!(refused.map(|(_, e)| e), Some(Errno::ELOOP));
    for f in chain {
        f.release(&env.ctx);
    }
    f.release(&env.ctx);
    inner.release(&env.ctx);
    outer.release(&env.ctx);
    env.finish();
}
