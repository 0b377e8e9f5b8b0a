//! inotify (gVisor's `vfs/inotify.go`, Linux's `fs/notify/inotify`): an
//! [`Inotify`] instance queues the events of the watches it placed on
//! files; the VFS raises events for every filesystem as operations
//! succeed.
//!
//! A watch belongs to a dentry of a filesystem ([`Watches`], one table per
//! [`crate::Filesystem`]) and holds a reference on it, so the dentry, and
//! the file it names, stay the watched object for the watch's life. An
//! event on a file goes to the watches on the file (without a name) and
//! to those on its parent directory (with the file's name), as Linux's
//! `fsnotify_parent` does. A watch on a file that is deleted gets
//! `IN_DELETE_SELF` and `IN_IGNORED` and goes.
//!
//! The tables cost operations nothing while empty: a filesystem's table
//! keeps a count read before anything else, and the VFS counts the
//! watches of all its filesystems for the path operations.
//!
//! # Lock order
//!
//! [`Watches`]' table → an instance's state. Dentry references are given
//! back, and waiters notified, with neither held.
//!
//! # Reference model
//!
//! A filesystem's table holds one reference on each watched dentry and a
//! weak reference to each watching instance; an instance holds a weak
//! reference to the filesystems its watches are on. Removing the last
//! watch of a dentry (`inotify_rm_watch`, closing the instance,
//! `IN_ONESHOT`, deletion) gives its reference back.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use abi_linux::{Errno, InotifyMask, Statx};

use crate::context::Context;
use crate::dentry::{DentryImpl, DentryRef};
use crate::file_description::{FileDescription, FileDescriptionImpl, IoctlMemory};
use crate::filesystem::Filesystem;
use crate::io::IoDest;
use crate::mount::{MountRef, VirtualDentry};
use crate::options::{ReadOptions, StatOptions};
use crate::waiter::{EventMask, READABLE_EVENTS, WaiterQueue};

/// The most events an instance queues (`fs.inotify.max_queued_events`).
pub const MAX_QUEUED_EVENTS: usize = 16384;
/// The most watches of one instance (`fs.inotify.max_user_watches`, as a
/// per-instance bound).
pub const MAX_WATCHES: usize = 65536;
/// The size of `struct inotify_event` without its name.
pub const EVENT_HEADER_SIZE: usize = 16;

/// The cookie linking the two halves of a rename.
static NEXT_COOKIE: AtomicU32 = AtomicU32::new(1);

/// How many dentries are watched, over every VFS of the process: the path
/// operations' hint that an event may have a listener (a stale count only
/// costs a lookup).
static WATCHED: AtomicUsize = AtomicUsize::new(0);

/// Whether any dentry is watched anywhere.
pub fn any_watches() -> bool {
    WATCHED.load(Ordering::Acquire) != 0
}

/// A new rename cookie.
pub fn new_cookie() -> u32 {
    NEXT_COOKIE.fetch_add(1, Ordering::Relaxed)
}

fn key(dentry: &dyn DentryImpl) -> usize {
    dentry as *const dyn DentryImpl as *const () as usize
}

/// One watch: an instance's interest in a dentry.
struct Watch {
    owner: Weak<Inotify>,
    wd: i32,
    mask: InotifyMask,
}

struct Watched {
    dentry: DentryRef,
    watches: Vec<Watch>,
}

/// The watches on one filesystem's dentries.
#[derive(Default)]
pub struct Watches {
    count: AtomicUsize,
    table: spin::Mutex<BTreeMap<usize, Watched>>,
}

impl Watches {
    /// Whether no dentry of the filesystem is watched (one atomic load).
    pub fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    /// Queues `mask` (with `cookie` and `name`) to every watch on
    /// `dentry` that asked for it; `IN_ONESHOT` watches go after their
    /// event. Returns the dentry references to give back.
    fn deliver(
        &self,
        dentry: &dyn DentryImpl,
        mask: InotifyMask,
        cookie: u32,
        name: &[u8],
    ) -> Vec<DentryRef> {
        let mut released = Vec::new();
        let mut wake = Vec::new();
        {
            let mut table = self.table.lock();
            let k = key(dentry);
            let Some(watched) = table.get_mut(&k) else {
                return released;
            };
            let event_bits = mask & InotifyMask::ALL_EVENTS;
            watched.watches.retain(|w| {
                let always = mask.intersects(InotifyMask::IGNORED | InotifyMask::Q_OVERFLOW);
                if !always && !w.mask.intersects(event_bits) {
                    return true;
                }
                let Some(owner) = w.owner.upgrade() else {
                    return false;
                };
                owner.queue(w.wd, mask, cookie, name);
                let oneshot = w.mask.contains(InotifyMask::ONESHOT);
                if oneshot {
                    owner.queue(w.wd, InotifyMask::IGNORED, 0, &[]);
                    owner.forget(w.wd);
                }
                wake.push(owner);
                !oneshot
            });
            if watched.watches.is_empty()
                && let Some(gone) = table.remove(&k)
            {
                self.count.fetch_sub(1, Ordering::AcqRel);
                WATCHED.fetch_sub(1, Ordering::AcqRel);
                released.push(gone.dentry);
            }
        }
        for owner in wake {
            owner.waiters.notify(READABLE_EVENTS);
        }
        released
    }

    /// Removes every watch on `dentry`, queuing `IN_IGNORED` (after
    /// `IN_DELETE_SELF` when `deleted`).
    fn remove_all(&self, dentry: &dyn DentryImpl, deleted: bool) -> Option<DentryRef> {
        let gone = {
            let mut table = self.table.lock();
            let gone = table.remove(&key(dentry))?;
            self.count.fetch_sub(1, Ordering::AcqRel);
            WATCHED.fetch_sub(1, Ordering::AcqRel);
            gone
        };
        for w in &gone.watches {
            if let Some(owner) = w.owner.upgrade() {
                if deleted && w.mask.contains(InotifyMask::DELETE_SELF) {
                    owner.queue(w.wd, InotifyMask::DELETE_SELF, 0, &[]);
                }
                owner.queue(w.wd, InotifyMask::IGNORED, 0, &[]);
                owner.forget(w.wd);
                owner.waiters.notify(READABLE_EVENTS);
            }
        }
        Some(gone.dentry)
    }

    /// Removes instance `owner`'s watch `wd` from `dentry_key`.
    fn remove_one(&self, dentry_key: usize, owner: &Inotify, wd: i32) -> Option<DentryRef> {
        let mut table = self.table.lock();
        let watched = table.get_mut(&dentry_key)?;
        watched
            .watches
            .retain(|w| !(w.wd == wd && core::ptr::eq(w.owner.as_ptr(), owner)));
        if !watched.watches.is_empty() {
            return None;
        }
        let gone = table.remove(&dentry_key)?;
        self.count.fetch_sub(1, Ordering::AcqRel);
        WATCHED.fetch_sub(1, Ordering::AcqRel);
        Some(gone.dentry)
    }
}

/// What an instance's lock guards.
#[derive(Default)]
struct State {
    events: VecDeque<Event>,
    /// The bytes the queued events take when read.
    bytes: usize,
    /// Its watches: the filesystem and dentry each is on.
    watches: BTreeMap<i32, (Weak<Filesystem>, usize)>,
    next_wd: i32,
}

#[derive(Clone, PartialEq, Eq)]
struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Vec<u8>,
}

impl Event {
    /// The name's length with its NUL padding to a multiple of the
    /// header size, as Linux pads it.
    fn name_len(&self) -> usize {
        if self.name.is_empty() {
            0
        } else {
            (self.name.len() + 1).next_multiple_of(EVENT_HEADER_SIZE)
        }
    }

    fn size(&self) -> usize {
        EVENT_HEADER_SIZE + self.name_len()
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.wd.to_ne_bytes());
        out.extend_from_slice(&self.mask.to_ne_bytes());
        out.extend_from_slice(&self.cookie.to_ne_bytes());
        out.extend_from_slice(&(self.name_len() as u32).to_ne_bytes());
        out.extend_from_slice(&self.name);
        out.resize(out.len() + self.name_len() - self.name.len(), 0);
    }
}

/// An inotify instance.
pub struct Inotify {
    state: spin::Mutex<State>,
    waiters: WaiterQueue,
}

impl Inotify {
    fn queue(&self, wd: i32, mask: InotifyMask, cookie: u32, name: &[u8]) {
        let event = Event {
            wd,
            mask: mask.bits(),
            cookie,
            name: name.to_vec(),
        };
        let mut st = self.state.lock();
        // Linux merges an event identical to the last one queued.
        if st.events.back() == Some(&event) {
            return;
        }
        if st.events.len() >= MAX_QUEUED_EVENTS {
            let overflow = Event {
                wd: -1,
                mask: InotifyMask::Q_OVERFLOW.bits(),
                cookie: 0,
                name: Vec::new(),
            };
            if st.events.back() != Some(&overflow) {
                st.bytes += overflow.size();
                st.events.push_back(overflow);
            }
            return;
        }
        st.bytes += event.size();
        st.events.push_back(event);
    }

    fn forget(&self, wd: i32) {
        self.state.lock().watches.remove(&wd);
    }

    /// Adds (or changes) the watch on `target` for `mask`, as
    /// `inotify_add_watch(2)`; returns its descriptor.
    ///
    /// Errors: `EINVAL` for a mask with no event or with both
    /// `IN_MASK_ADD` and `IN_MASK_CREATE`; `ENOTDIR` with `IN_ONLYDIR` on a
    /// non-directory; `EEXIST` with `IN_MASK_CREATE` on a watched file;
    /// `ENOSPC` past [`MAX_WATCHES`].
    pub fn add_watch(
        self: &Arc<Self>,
        target: &VirtualDentry,
        mask: InotifyMask,
    ) -> Result<i32, Errno> {
        if !mask.intersects(InotifyMask::ALL_EVENTS)
            || mask.contains(InotifyMask::MASK_ADD | InotifyMask::MASK_CREATE)
        {
            return Err(Errno::EINVAL);
        }
        if mask.contains(InotifyMask::ONLYDIR) && !target.dentry.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let fs = target.mount.filesystem();
        let watches = fs.watches();
        let k = key(&*target.dentry);
        let kept = InotifyMask::ALL_EVENTS | InotifyMask::ONESHOT | InotifyMask::EXCL_UNLINK;
        let mut table = watches.table.lock();
        if let Some(watched) = table.get_mut(&k)
            && let Some(w) = watched
                .watches
                .iter_mut()
                .find(|w| core::ptr::eq(w.owner.as_ptr(), Arc::as_ptr(self)))
        {
            if mask.contains(InotifyMask::MASK_CREATE) {
                return Err(Errno::EEXIST);
            }
            if mask.contains(InotifyMask::MASK_ADD) {
                w.mask |= mask & kept;
            } else {
                w.mask = mask & kept;
            }
            return Ok(w.wd);
        }
        let wd = {
            let mut st = self.state.lock();
            if st.watches.len() >= MAX_WATCHES {
                return Err(Errno::ENOSPC);
            }
            st.next_wd = st.next_wd.checked_add(1).ok_or(Errno::ENOSPC)?;
            let wd = st.next_wd;
            st.watches.insert(wd, (Arc::downgrade(fs), k));
            wd
        };
        let watch = Watch {
            owner: Arc::downgrade(self),
            wd,
            mask: mask & kept,
        };
        match table.get_mut(&k) {
            Some(watched) => watched.watches.push(watch),
            None => {
                table.insert(
                    k,
                    Watched {
                        dentry: target.dentry.clone(),
                        watches: alloc::vec![watch],
                    },
                );
                watches.count.fetch_add(1, Ordering::AcqRel);
                WATCHED.fetch_add(1, Ordering::AcqRel);
            }
        }
        Ok(wd)
    }

    /// `inotify_rm_watch(2)`: removes watch `wd`, queuing `IN_IGNORED`.
    ///
    /// Errors: `EINVAL` for an unknown `wd`.
    pub fn rm_watch(&self, ctx: &dyn Context, wd: i32) -> Result<(), Errno> {
        let (fs, k) = self.state.lock().watches.remove(&wd).ok_or(Errno::EINVAL)?;
        if let Some(fs) = fs.upgrade()
            && let Some(dentry) = fs.watches().remove_one(k, self, wd)
        {
            dentry.release(ctx);
        }
        self.queue(wd, InotifyMask::IGNORED, 0, &[]);
        self.waiters.notify(READABLE_EVENTS);
        Ok(())
    }

    /// The bytes a read could take now (`FIONREAD`).
    pub fn pending_bytes(&self) -> usize {
        self.state.lock().bytes
    }
}

/// The description of an instance.
pub struct InotifyFile(Arc<Inotify>);

impl InotifyFile {
    /// The instance.
    pub fn inotify(&self) -> &Arc<Inotify> {
        &self.0
    }
}

impl FileDescriptionImpl for InotifyFile {
    fn release(&self, ctx: &dyn Context) {
        let watches = core::mem::take(&mut self.0.state.lock().watches);
        for (wd, (fs, k)) in watches {
            if let Some(fs) = fs.upgrade()
                && let Some(dentry) = fs.watches().remove_one(k, &self.0, wd)
            {
                dentry.release(ctx);
            }
        }
    }

    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(crate::file_description_util::anon_inode_stat(fd))
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        let room = dst.remaining();
        let mut out = Vec::new();
        {
            let mut st = self.0.state.lock();
            let Some(first) = st.events.front() else {
                return Err(Errno::EAGAIN);
            };
            if first.size() > room {
                return Err(Errno::EINVAL);
            }
            while let Some(e) = st.events.front() {
                if out.len() + e.size() > room {
                    break;
                }
                e.encode(&mut out);
                st.bytes -= e.size();
                st.events.pop_front();
            }
        }
        crate::io::copy_out(dst, &out)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        if self.0.state.lock().events.is_empty() {
            EventMask::empty()
        } else {
            READABLE_EVENTS & mask
        }
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.0.waiters)
    }

    fn ioctl(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        if cmd == abi_linux::tty::FIONREAD {
            let n = self.0.pending_bytes() as i32;
            memory.copy_out(arg, &n.to_ne_bytes())?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn synthetic_name(&self) -> Option<alloc::string::String> {
        Some("anon_inode:inotify".into())
    }
}

/// Creates an instance's description on `mount` (the embedder's
/// anonymous mount), opened with `flags` (`O_NONBLOCK` or not).
pub fn new_inotify(mount: &MountRef, flags: abi_linux::OpenFlags) -> crate::FileRef {
    let inotify = Arc::new(Inotify {
        state: spin::Mutex::new(State::default()),
        waiters: WaiterQueue::new(),
    });
    crate::file_description_util::new_anon_file(
        flags & abi_linux::OpenFlags::NONBLOCK,
        mount,
        alloc::boxed::Box::new(InotifyFile(inotify)),
    )
}

fn isdir(dentry: &dyn DentryImpl) -> InotifyMask {
    if dentry.is_dir() {
        InotifyMask::ISDIR
    } else {
        InotifyMask::empty()
    }
}

fn release_all(ctx: &dyn Context, refs: Vec<DentryRef>) {
    for r in refs {
        r.release(ctx);
    }
}

impl Filesystem {
    /// Raises `mask` on `dentry` (a file of this filesystem): to its own
    /// watches, and to its parent's with its name.
    pub fn notify(
        &self,
        ctx: &dyn Context,
        dentry: &dyn DentryImpl,
        mask: InotifyMask,
        cookie: u32,
    ) {
        let watches = self.watches();
        if watches.is_empty() {
            return;
        }
        let mask = mask | isdir(dentry);
        // The directory hears first, as from Linux's fsnotify_parent.
        if let Some((parent, name)) = self.imp().parent_and_name(dentry) {
            release_all(ctx, watches.deliver(&*parent, mask, cookie, &name));
            parent.release(ctx);
        }
        release_all(ctx, watches.deliver(dentry, mask, cookie, &[]));
    }

    /// Raises `mask` on directory `parent` for its entry `name` whose
    /// file is `child` (if known, for `IN_ISDIR`).
    pub fn notify_entry(
        &self,
        ctx: &dyn Context,
        parent: &dyn DentryImpl,
        name: &[u8],
        mask: InotifyMask,
        cookie: u32,
        child_is_dir: bool,
    ) {
        let watches = self.watches();
        if watches.is_empty() {
            return;
        }
        let mask = if child_is_dir {
            mask | InotifyMask::ISDIR
        } else {
            mask
        };
        release_all(ctx, watches.deliver(parent, mask, cookie, name));
    }

    /// Raises `mask` on `dentry`'s own watches only.
    pub fn notify_self(&self, ctx: &dyn Context, dentry: &dyn DentryImpl, mask: InotifyMask) {
        let watches = self.watches();
        if watches.is_empty() {
            return;
        }
        release_all(ctx, watches.deliver(dentry, mask | isdir(dentry), 0, &[]));
    }

    /// `dentry`'s file was deleted: its watches get `IN_DELETE_SELF` and
    /// `IN_IGNORED`, and go.
    pub fn notify_deleted(&self, ctx: &dyn Context, dentry: &dyn DentryImpl) {
        let watches = self.watches();
        if watches.is_empty() {
            return;
        }
        if let Some(r) = watches.remove_all(dentry, true) {
            r.release(ctx);
        }
    }
}

/// The events of a change of the attributes in `stx_mask` (`StatxMask`
/// bits), as Linux's `fsnotify_change` maps them: a size change is
/// `IN_MODIFY`; owner, group and mode `IN_ATTRIB`; both times
/// `IN_ATTRIB`, the access time alone `IN_ACCESS`, the modification time
/// alone `IN_MODIFY`.
pub fn set_stat_events(stx_mask: u32) -> InotifyMask {
    use abi_linux::StatxMask as M;
    let m = M::from_bits_retain(stx_mask);
    let mut events = InotifyMask::empty();
    if m.intersects(M::UID | M::GID | M::MODE) {
        events |= InotifyMask::ATTRIB;
    }
    if m.contains(M::SIZE) {
        events |= InotifyMask::MODIFY;
    }
    if m.contains(M::ATIME | M::MTIME) {
        events |= InotifyMask::ATTRIB;
    } else if m.contains(M::ATIME) {
        events |= InotifyMask::ACCESS;
    } else if m.contains(M::MTIME) {
        events |= InotifyMask::MODIFY;
    }
    events
}
