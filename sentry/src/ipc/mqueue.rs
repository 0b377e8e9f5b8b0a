//! POSIX message queues (gVisor's `fsimpl/mqfs` and `kernel/mq`, Linux's
//! `ipc/mqueue.c`).
//!
//! Queues are named in the IPC namespace's flat table; `mq_open` returns
//! a description ([`MqFile`]) that reads as Linux's status line
//! (`QSIZE:.. NOTIFY:.. SIGNO:.. NOTIFY_PID:..`) and is ready for reading
//! while messages are queued and for writing while there is room, so
//! `poll`, `select` and `epoll` work on it. Messages leave in priority
//! order, oldest first within a priority. An unlinked queue lives until
//! its last description closes. Each queue's memory is charged to its
//! creator's `RLIMIT_MSGQUEUE` with Linux's formula.
//!
//! # Lock order
//!
//! `MessageQueues::names` → `MQueue::state`; waiters are notified and
//! notification signals sent after `state` is released.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};

use abi_linux::ipc::{
    MQ_HARD_MSGMAX, MQ_HARD_MSGSIZEMAX, MQ_MSG_DEFAULT, MQ_MSG_MAX, MQ_MSGSIZE_DEFAULT,
    MQ_MSGSIZE_MAX, MQ_PRIO_MAX, MQ_QUEUES_MAX, MqAttr,
};
use abi_linux::time::SIGEV_SIGNAL;
use abi_linux::{Capability, Errno, OpenFlags, SigInfo, Statx, Whence};
use vfs_core::file_description_util::anon_inode_stat;
use vfs_core::io::{IoDest, copy_out};
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};
use vfs_core::{
    Context, Credentials, FileDescription, FileDescriptionImpl, ReadOptions, StatOptions,
};

use super::lock;
use crate::task::ThreadGroup;

/// Linux's per-message and per-priority bookkeeping that a queue's
/// `RLIMIT_MSGQUEUE` charge counts (`sizeof(struct msg_msg)` and
/// `sizeof(struct posix_msg_tree_node)` on x86_64).
const MSG_OVERHEAD: u64 = 48;
const PRIO_NODE_OVERHEAD: u64 = 48;

/// A registered `mq_notify(2)`.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The registering process.
    pub tgid: i32,
    /// Its thread group, to signal.
    pub group: Weak<ThreadGroup>,
    /// `SIGEV_NONE` or `SIGEV_SIGNAL`.
    pub how: i32,
    /// The signal of `SIGEV_SIGNAL`.
    pub signo: i32,
    /// `sigev_value`.
    pub value: u64,
}

#[derive(Debug, Default)]
struct State {
    /// By (inverted priority, arrival): the next message first.
    messages: BTreeMap<(u32, u64), Vec<u8>>,
    arrivals: u64,
    bytes: u64,
    /// Tasks blocked in `mq_timedreceive`.
    receivers: usize,
    notify: Option<Notification>,
}

/// One queue.
#[derive(Debug)]
pub struct MQueue {
    name: Vec<u8>,
    uid: u32,
    gid: u32,
    mode: u32,
    max_messages: i64,
    message_size: i64,
    state: Mutex<State>,
    waiters: WaiterQueue,
    /// Held for its `Drop`, which returns the charge.
    _charge: Charge,
}

/// A queue's `RLIMIT_MSGQUEUE` charge, returned when the queue goes.
#[derive(Debug)]
struct Charge {
    table: Arc<Mutex<HashMap<u32, u64>>>,
    uid: u32,
    bytes: u64,
}

impl Drop for Charge {
    fn drop(&mut self) {
        let mut table = lock(&self.table);
        if let Some(total) = table.get_mut(&self.uid) {
            *total = total.saturating_sub(self.bytes);
        }
    }
}

/// The namespace's queues, by name.
#[derive(Debug, Default)]
pub struct MessageQueues {
    names: Mutex<HashMap<Vec<u8>, Arc<MQueue>>>,
    /// Bytes charged to each user's `RLIMIT_MSGQUEUE`.
    charged: Arc<Mutex<HashMap<u32, u64>>>,
}

/// Checks a queue name as Linux's `getname` and `lookup_one_len` do:
/// `ENOENT` for an empty name, `EACCES` for `.`, `..` or a slash,
/// `ENAMETOOLONG` past 255 bytes.
pub fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    if name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Errno::EACCES);
    }
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

/// What `mq_open(2)` asks for.
pub struct OpenRequest<'a> {
    /// The queue's name (checked by [`check_name`]).
    pub name: &'a [u8],
    /// `O_CREAT`, `O_EXCL` and the access mode.
    pub flags: OpenFlags,
    /// The new queue's mode, the umask applied.
    pub mode: u32,
    /// The new queue's attributes (`None`: the defaults).
    pub attr: Option<MqAttr>,
    /// The caller's credentials.
    pub creds: &'a Credentials,
    /// The caller's `RLIMIT_MSGQUEUE`.
    pub limit: u64,
}

impl MessageQueues {
    /// `mq_open(2)`: the queue `r.name`, made when absent with `O_CREAT`.
    ///
    /// Errors: `ENOENT` without `O_CREAT`, `EEXIST` with `O_CREAT |
    /// O_EXCL`, `EINVAL` for an access mode of 3 on an existing queue or
    /// attributes out of range, `EACCES` when the mode refuses the access,
    /// `ENOSPC` past `queues_max` without `CAP_SYS_RESOURCE`, `EOVERFLOW`,
    /// `EMFILE` past the creator's `RLIMIT_MSGQUEUE`.
    pub fn open(&self, r: &OpenRequest) -> Result<Arc<MQueue>, Errno> {
        let mut names = lock(&self.names);
        if let Some(q) = names.get(r.name) {
            if r.flags.contains(OpenFlags::CREAT | OpenFlags::EXCL) {
                return Err(Errno::EEXIST);
            }
            let want = match r.flags.bits() & 0o3 {
                0 => 0o4,
                1 => 0o2,
                2 => 0o6,
                _ => return Err(Errno::EINVAL),
            };
            q.check_access(r.creds, want)?;
            return Ok(q.clone());
        }
        if !r.flags.contains(OpenFlags::CREAT) {
            return Err(Errno::ENOENT);
        }
        let resource = r.creds.has_capability(Capability::SYS_RESOURCE);
        if names.len() >= MQ_QUEUES_MAX && !resource {
            return Err(Errno::ENOSPC);
        }
        let (max_messages, message_size) = match r.attr {
            None => (MQ_MSG_DEFAULT, MQ_MSGSIZE_DEFAULT),
            Some(a) => (a.mq_maxmsg, a.mq_msgsize),
        };
        if max_messages <= 0 || message_size <= 0 {
            return Err(Errno::EINVAL);
        }
        let (max_n, max_size) = if resource {
            (MQ_HARD_MSGMAX, MQ_HARD_MSGSIZEMAX)
        } else {
            (MQ_MSG_MAX, MQ_MSGSIZE_MAX)
        };
        if max_messages > max_n || message_size > max_size {
            return Err(Errno::EINVAL);
        }
        let (n, size) = (max_messages as u64, message_size as u64);
        let bytes =
            n * size + n * MSG_OVERHEAD + n.min(u64::from(MQ_PRIO_MAX)) * PRIO_NODE_OVERHEAD;
        // Linux charges the real user; the queue belongs to the
        // filesystem ids, as a new file would.
        let uid = r.creds.real_uid;
        {
            let mut charged = lock(&self.charged);
            let total = charged.entry(uid).or_insert(0);
            if total.saturating_add(bytes) > r.limit {
                return Err(Errno::EMFILE);
            }
            *total += bytes;
        }
        let queue = Arc::new(MQueue {
            name: r.name.to_vec(),
            uid: r.creds.fs_uid,
            gid: r.creds.fs_gid,
            mode: r.mode & 0o7777,
            max_messages,
            message_size,
            state: Mutex::new(State::default()),
            waiters: WaiterQueue::new(),
            _charge: Charge {
                table: self.charged.clone(),
                uid,
                bytes,
            },
        });
        names.insert(r.name.to_vec(), queue.clone());
        Ok(queue)
    }

    /// `mq_unlink(2)`: removes the name; open descriptions keep the
    /// queue.
    ///
    /// Errors: `ENOENT`; `EPERM` unless the caller owns the queue or has
    /// `CAP_FOWNER` (the queue directory is sticky and root's).
    pub fn unlink(&self, name: &[u8], creds: &Credentials) -> Result<(), Errno> {
        let mut names = lock(&self.names);
        let q = names.get(name).ok_or(Errno::ENOENT)?;
        let fsuid = creds.fs_uid;
        if fsuid != q.uid && fsuid != 0 && !creds.has_capability(Capability::FOWNER) {
            return Err(Errno::EPERM);
        }
        names.remove(name);
        Ok(())
    }
}

impl MessageQueues {
    /// The queues, by name, for the `mqueue` filesystem's listing.
    pub fn list(&self) -> Vec<(Vec<u8>, Arc<MQueue>)> {
        let mut all: Vec<_> = lock(&self.names)
            .iter()
            .map(|(name, q)| (name.clone(), q.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The queue named `name`.
    pub fn get(&self, name: &[u8]) -> Option<Arc<MQueue>> {
        lock(&self.names).get(name).cloned()
    }
}

impl MQueue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The owner and mode of the queue's file.
    pub fn owner(&self) -> (u32, u32, u32) {
        (self.uid, self.gid, self.mode)
    }

    /// What reading the queue's file gives, as Linux's `mqueue_read_file`
    /// formats it: the bytes queued and the notification.
    pub fn describe(&self) -> String {
        let st = self.state();
        let (notify, signo, pid) = match &st.notify {
            Some(n) if n.how == SIGEV_SIGNAL => (n.how, n.signo, n.tgid),
            Some(n) => (n.how, 0, n.tgid),
            None => (0, 0, 0),
        };
        format!(
            "QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n",
            st.bytes, notify, signo, pid
        )
    }

    /// Checks `want` (`0o4` read, `0o2` write) against the mode as an
    /// inode permission check does; `EACCES` when refused.
    fn check_access(&self, creds: &Credentials, want: u32) -> Result<(), Errno> {
        let bits = if creds.fs_uid == self.uid {
            self.mode >> 6
        } else if creds.in_group(self.gid) {
            self.mode >> 3
        } else {
            self.mode
        } & 0o7;
        if want & !bits == 0 || creds.has_capability(Capability::DAC_OVERRIDE) {
            Ok(())
        } else {
            Err(Errno::EACCES)
        }
    }

    /// The largest message.
    pub fn message_size(&self) -> i64 {
        self.message_size
    }

    /// The attributes `mq_getsetattr(2)` reports (`mq_flags` is the
    /// description's).
    pub fn attr(&self) -> MqAttr {
        MqAttr {
            mq_maxmsg: self.max_messages,
            mq_msgsize: self.message_size,
            mq_curmsgs: self.state().messages.len() as i64,
            ..MqAttr::default()
        }
    }

    /// Queues `data` at `priority` from process `pid` of user `uid`;
    /// `EAGAIN` when full. A message that makes an empty queue non-empty
    /// while nobody waits to receive fires the registered notification
    /// (and ends the registration).
    ///
    /// # Preconditions
    ///
    /// `data` is at most [`Self::message_size`] bytes, `priority` below
    /// `MQ_PRIO_MAX`.
    pub fn send(&self, data: &[u8], priority: u32, pid: i32, uid: u32) -> Result<(), Errno> {
        let fire = {
            let mut st = self.state();
            if st.messages.len() as i64 >= self.max_messages {
                return Err(Errno::EAGAIN);
            }
            let was_empty = st.messages.is_empty();
            let arrival = st.arrivals;
            st.arrivals += 1;
            st.bytes += data.len() as u64;
            st.messages
                .insert((u32::MAX - priority, arrival), data.to_vec());
            if was_empty && st.receivers == 0 {
                st.notify.take()
            } else {
                None
            }
        };
        self.waiters.notify(READABLE_EVENTS);
        if let Some(n) = fire
            && n.how == SIGEV_SIGNAL
            && n.signo != 0
            && let Some(group) = n.group.upgrade()
        {
            let mut info = SigInfo {
                code: abi_linux::signal::SI_MESGQ,
                ..SigInfo::default()
            };
            info.set_pid(pid);
            info.set_uid(uid);
            info.set_value(n.value);
            // A process that is exiting misses it, as on Linux.
            let _ = group.send(n.signo, info);
        }
        Ok(())
    }

    /// Takes the next message and its priority; `EAGAIN` when empty.
    pub fn receive(&self) -> Result<(Vec<u8>, u32), Errno> {
        let taken = {
            let mut st = self.state();
            let Some(((inverted, _), data)) = st.messages.pop_first() else {
                return Err(Errno::EAGAIN);
            };
            st.bytes -= data.len() as u64;
            (data, u32::MAX - inverted)
        };
        self.waiters.notify(WRITABLE_EVENTS);
        Ok(taken)
    }

    /// Counts a receiver in or out of the wait (so a send to a queue
    /// someone waits on fires no notification).
    pub fn set_receiving(&self, waiting: bool) {
        let mut st = self.state();
        if waiting {
            st.receivers += 1;
        } else {
            st.receivers = st.receivers.saturating_sub(1);
        }
    }

    /// The queue's waiters (senders and receivers wait here too).
    pub fn waiters(&self) -> &WaiterQueue {
        &self.waiters
    }

    /// `mq_notify(2)` by process `tgid`: registers `n`, or with `None`
    /// removes the caller's registration.
    ///
    /// Errors: `EBUSY` when a registration exists.
    pub fn set_notification(&self, tgid: i32, n: Option<Notification>) -> Result<(), Errno> {
        let mut st = self.state();
        match n {
            None => {
                if st.notify.as_ref().is_some_and(|c| c.tgid == tgid) {
                    st.notify = None;
                }
                Ok(())
            }
            Some(_) if st.notify.is_some() => Err(Errno::EBUSY),
            Some(n) => {
                st.notify = Some(n);
                Ok(())
            }
        }
    }

    /// The status line a read returns.
    fn status(&self) -> String {
        let st = self.state();
        let (how, signo, pid) = match &st.notify {
            Some(n) => (
                n.how,
                if n.how == SIGEV_SIGNAL { n.signo } else { 0 },
                n.tgid,
            ),
            None => (0, 0, 0),
        };
        format!(
            "QSIZE:{:<10} NOTIFY:{how:<5} SIGNO:{signo:<5} NOTIFY_PID:{pid:<6}\n",
            st.bytes
        )
    }
}

/// A description of a queue: read, `pread` and `lseek` see the status
/// line as a file, as on Linux.
pub struct MqFile {
    queue: Arc<MQueue>,
    offset: Mutex<u64>,
}

impl MqFile {
    /// A description of `queue`.
    pub fn new(queue: Arc<MQueue>) -> Self {
        Self {
            queue,
            offset: Mutex::new(0),
        }
    }

    /// The queue.
    pub fn queue(&self) -> &Arc<MQueue> {
        &self.queue
    }
}

impl FileDescriptionImpl for MqFile {
    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        let q = &self.queue;
        Ok(Statx {
            stx_mode: (abi_linux::S_IFREG | q.mode) as u16,
            stx_uid: q.uid,
            stx_gid: q.gid,
            stx_size: q.state().bytes,
            ..anon_inode_stat(fd)
        })
    }

    fn read(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        opts: ReadOptions,
    ) -> Result<usize, Errno> {
        let mut offset = lock(&self.offset);
        let n = self.pread(ctx, fd, dst, *offset, opts)?;
        *offset += n as u64;
        Ok(n)
    }

    fn pread(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        let status = self.queue.status();
        let start = usize::try_from(offset).map_or(status.len(), |o| o.min(status.len()));
        copy_out(dst, &status.as_bytes()[start..])
    }

    fn seek(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let mut current = lock(&self.offset);
        let base = match whence {
            Whence::Set => 0,
            Whence::Cur => *current as i64,
            // Linux's queue inodes are FILENT_SIZE (80) bytes long.
            Whence::End => 80,
            _ => return Err(Errno::EINVAL),
        };
        let new = base
            .checked_add(offset)
            .filter(|n| *n >= 0)
            .ok_or(Errno::EINVAL)?;
        *current = new as u64;
        Ok(new)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        let st = self.queue.state();
        let mut ready = EventMask::empty();
        if !st.messages.is_empty() {
            ready |= READABLE_EVENTS;
        }
        if (st.messages.len() as i64) < self.queue.max_messages {
            ready |= WRITABLE_EVENTS;
        }
        ready & mask
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.queue.waiters)
    }

    fn synthetic_name(&self) -> Option<String> {
        Some(format!("/{}", String::from_utf8_lossy(&self.queue.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(
        qs: &MessageQueues,
        name: &[u8],
        flags: OpenFlags,
        limit: u64,
    ) -> Result<Arc<MQueue>, Errno> {
        qs.open(&OpenRequest {
            name,
            flags,
            mode: 0o600,
            attr: None,
            creds: &Credentials::user(5, 5),
            limit,
        })
    }

    #[test]
    fn messages_leave_by_priority_then_age() {
        let qs = MessageQueues::default();
        let q = open(&qs, b"q", OpenFlags::CREAT | OpenFlags::RDWR, 1 << 20).unwrap();
        for (text, prio) in [("a", 1), ("b", 5), ("c", 1), ("d", 5)] {
            q.send(text.as_bytes(), prio, 1, 0).unwrap();
        }
        let order: Vec<(Vec<u8>, u32)> = (0..4).map(|_| q.receive().unwrap()).collect();
        let want: Vec<(Vec<u8>, u32)> = [("b", 5), ("d", 5), ("a", 1), ("c", 1)]
            .iter()
            .map(|(t, p)| (t.as_bytes().to_vec(), *p))
            .collect();
        assert_eq!(order, want);
        assert_eq!(q.receive().err(), Some(Errno::EAGAIN));
        for i in 0..MQ_MSG_DEFAULT {
            q.send(&[i as u8], 0, 1, 0).unwrap();
        }
        assert_eq!(q.send(&[0], 0, 1, 0).err(), Some(Errno::EAGAIN));
    }

    #[test]
    fn the_creators_rlimit_msgqueue_is_charged_until_the_queue_goes() {
        let qs = MessageQueues::default();
        // One default queue is 10 * (8192 + 48 + 48) bytes.
        let one = 10 * (8192 + 48 + 48);
        let a = open(&qs, b"a", OpenFlags::CREAT, one).unwrap();
        assert_eq!(
            open(&qs, b"b", OpenFlags::CREAT, one).err(),
            Some(Errno::EMFILE)
        );
        qs.unlink(b"a", &Credentials::user(5, 5)).unwrap();
        assert!(open(&qs, b"b", OpenFlags::CREAT, one).is_err());
        drop(a);
        assert!(open(&qs, b"b", OpenFlags::CREAT, one).is_ok());
        assert_eq!(
            qs.unlink(b"b", &Credentials::user(6, 6)).err(),
            Some(Errno::EPERM)
        );
    }

    #[test]
    fn names_are_checked_as_linux_looks_them_up() {
        assert_eq!(check_name(b""), Err(Errno::ENOENT));
        assert_eq!(check_name(b".."), Err(Errno::EACCES));
        assert_eq!(check_name(b"a/b"), Err(Errno::EACCES));
        assert_eq!(check_name(&[b'x'; 256]), Err(Errno::ENAMETOOLONG));
        assert_eq!(check_name(&[b'x'; 255]), Ok(()));
    }
}

/// The `mqueue` filesystem (`mount -t mqueue`, usually on `/dev/mqueue`):
/// a sticky root-owned directory listing the sandbox's queues, each a
/// file with the queue's owner and mode that reads as Linux's
/// (`QSIZE:... NOTIFY:... SIGNO:... NOTIFY_PID:...`). Queues are made
/// and removed with `mq_open` and `mq_unlink`; the directory itself is
/// read-only here.
#[derive(Debug)]
pub struct MqueueType(pub Arc<crate::ipc::Ipc>);

/// Lists the queues.
struct QueueDir(Arc<crate::ipc::Ipc>);

/// One queue's file.
struct QueueText(Arc<MQueue>);

impl kernfs::BytesSource for QueueText {
    fn generate(&self, _: &dyn vfs_core::Context, buf: &mut Vec<u8>) -> Result<(), Errno> {
        buf.extend_from_slice(self.0.describe().as_bytes());
        Ok(())
    }
}

impl kernfs::DirectoryGenerator for QueueDir {
    fn names(&self, _: &dyn vfs_core::Context) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(self.0.mq.list().into_iter().map(|(name, _)| name).collect())
    }

    fn lookup(
        &self,
        _: &dyn vfs_core::Context,
        name: &[u8],
    ) -> Result<Arc<dyn kernfs::Inode>, Errno> {
        let queue = self.0.mq.get(name).ok_or(Errno::ENOENT)?;
        let (uid, gid, mode) = queue.owner();
        let ino = Arc::as_ptr(&queue) as u64 >> 4;
        Ok(kernfs::DynamicBytesFile::with_ino(
            ino,
            &Credentials::user(uid, gid),
            mode & 0o777,
            QueueText(queue),
        ))
    }
}

impl vfs_core::FilesystemType for MqueueType {
    fn name(&self) -> &str {
        "mqueue"
    }

    fn get_filesystem(
        &self,
        _ctx: &dyn vfs_core::Context,
        vfs: &Arc<vfs_core::VirtualFilesystem>,
        _source: &[u8],
        _opts: &vfs_core::GetFilesystemOptions,
    ) -> Result<(vfs_core::FilesystemRef, vfs_core::DentryRef), Errno> {
        let fs = kernfs::Filesystem::new(
            vfs,
            kernfs::FilesystemOptions {
                max_cached_dentries: 0,
                magic: MQUEUE_MAGIC,
                mount_options: String::new(),
            },
        )?;
        let root = kernfs::DynamicDirectory::new(
            &fs,
            &Credentials::root(),
            0o1777,
            QueueDir(self.0.clone()),
        );
        Ok(fs.into_vfs(vfs, "mqueue", root))
    }
}

/// `MQUEUE_MAGIC`.
pub const MQUEUE_MAGIC: i64 = 0x1980_0202;
