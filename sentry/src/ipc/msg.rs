//! System V message queues (gVisor's `kernel/msgqueue`, Linux's
//! `ipc/msg.c`).
//!
//! A queue holds typed messages in arrival order up to `msg_qbytes`
//! bytes (and as many messages); a full queue blocks senders, an empty
//! one (or one with no message of the asked type) blocks receivers, on
//! the queue's waiter queue, which every send, receive, `IPC_SET` and
//! removal notifies.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use abi_linux::Errno;
use abi_linux::ipc::{MSGMAX, MSGMNB, MSGMNI, MSGPOOL, MSGSEG, MSGSSZ, MsgInfo, MsqidDs};
use vfs_core::Credentials;
use vfs_core::waiter::{EventMask, WaitEntryId, WaiterQueue};

use super::{Caller, Object, Registry, lock, now};

#[derive(Debug)]
struct Message {
    mtype: i64,
    text: Vec<u8>,
}

/// One message queue.
#[derive(Debug)]
pub struct Queue {
    messages: VecDeque<Message>,
    bytes: u64,
    max_bytes: u64,
    stime: i64,
    rtime: i64,
    lspid: i32,
    lrpid: i32,
    waiters: Arc<WaiterQueue>,
}

/// The namespace's message queues.
#[derive(Debug)]
pub struct Queues {
    registry: Mutex<Registry<Queue>>,
}

impl Default for Queues {
    fn default() -> Self {
        Self {
            registry: Mutex::new(Registry::new(MSGMNI as usize)),
        }
    }
}

/// Which message `msgrcv(2)` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    /// The first (`msgtyp` 0).
    First,
    /// The first of this type.
    Type(i64),
    /// The first not of this type (`MSG_EXCEPT`).
    Except(i64),
    /// The first of the lowest type at most this (a negative `msgtyp`).
    AtMost(i64),
    /// A copy of the one at this position, left queued (`MSG_COPY`).
    Copy(i64),
}

/// A send or receive that must wait: registered with the queue's waiter
/// queue under the registry's lock, so no change is missed.
pub struct Blocked {
    queue: Arc<WaiterQueue>,
    entry: WaitEntryId,
}

impl Blocked {
    /// Ends the wait.
    pub fn stop(self) {
        self.queue.unregister(self.entry);
    }
}

/// A received message: its type and (possibly truncated) text.
pub type Received = (i64, Vec<u8>);

impl Queues {
    /// `msgget(2)`.
    ///
    /// Errors: those of [`Registry::get_or_create`].
    pub fn get(&self, key: i32, flags: i32, creds: &Credentials) -> Result<i32, Errno> {
        let create = |_: &Registry<Queue>| {
            Ok(Queue {
                messages: VecDeque::new(),
                bytes: 0,
                max_bytes: MSGMNB as u64,
                stime: 0,
                rtime: 0,
                lspid: 0,
                lrpid: 0,
                waiters: Arc::new(WaiterQueue::new()),
            })
        };
        lock(&self.registry).get_or_create(key, flags, creds, |_| Ok(()), create)
    }

    fn lookup<'a>(
        reg: &'a mut Registry<Queue>,
        id: i32,
        caller: &Caller,
        want: u32,
    ) -> Result<&'a mut Object<Queue>, Errno> {
        let o = reg
            .get(id)
            .map_err(|e| if caller.retry { Errno::EIDRM } else { e })?;
        o.perm.check(caller.creds, want)?;
        Ok(o)
    }

    /// One attempt at `msgsnd(2)` by `caller`: queues the message, or
    /// (the queue being full) registers its waiter unless `nowait`.
    ///
    /// Errors: `EINVAL` for no such queue (`EIDRM` on a retry),
    /// `EACCES`, `EAGAIN` for a full queue with `nowait`.
    pub fn send(
        &self,
        id: i32,
        mtype: i64,
        text: &[u8],
        nowait: bool,
        caller: &Caller,
    ) -> Result<Option<Blocked>, Errno> {
        let mut reg = lock(&self.registry);
        let o = Self::lookup(&mut reg, id, caller, 0o222)?;
        let q = &mut o.data;
        let len = text.len() as u64;
        if q.bytes.saturating_add(len) > q.max_bytes || q.messages.len() as u64 + 1 > q.max_bytes {
            if nowait {
                return Err(Errno::EAGAIN);
            }
            let entry = q.waiters.register(caller.waiter.clone(), EventMask::IN);
            return Ok(Some(Blocked {
                queue: q.waiters.clone(),
                entry,
            }));
        }
        q.messages.push_back(Message {
            mtype,
            text: text.to_vec(),
        });
        q.bytes += len;
        q.stime = now();
        q.lspid = caller.tgid;
        q.waiters.notify(EventMask::IN);
        Ok(None)
    }

    /// One attempt at `msgrcv(2)` by `caller` into a buffer of `max`
    /// bytes: takes (or copies) the message `which` selects, or (none
    /// being queued) registers its waiter unless `nowait`.
    ///
    /// Errors: `EINVAL` for no such queue (`EIDRM` on a retry), or a
    /// `MSG_COPY` of a message longer than `max`; `EACCES`; `E2BIG` for a
    /// message longer than `max` without `truncate`; `ENOMSG` for no
    /// such message with `nowait`.
    pub fn receive(
        &self,
        id: i32,
        which: Selector,
        (max, truncate): (usize, bool),
        nowait: bool,
        caller: &Caller,
    ) -> Result<Result<Received, Blocked>, Errno> {
        let mut reg = lock(&self.registry);
        let o = Self::lookup(&mut reg, id, caller, 0o444)?;
        let q = &mut o.data;
        let Some(at) = Self::select(&q.messages, which) else {
            if nowait {
                return Err(Errno::ENOMSG);
            }
            let entry = q.waiters.register(caller.waiter.clone(), EventMask::IN);
            return Ok(Err(Blocked {
                queue: q.waiters.clone(),
                entry,
            }));
        };
        let len = q.messages[at].text.len();
        if len > max && !truncate {
            return Err(Errno::E2BIG);
        }
        if let Selector::Copy(_) = which {
            if len > max {
                return Err(Errno::EINVAL);
            }
            let m = &q.messages[at];
            return Ok(Ok((m.mtype, m.text.clone())));
        }
        let Some(mut m) = q.messages.remove(at) else {
            return Err(Errno::ENOMSG);
        };
        q.bytes -= m.text.len() as u64;
        q.rtime = now();
        q.lrpid = caller.tgid;
        q.waiters.notify(EventMask::IN);
        m.text.truncate(max);
        Ok(Ok((m.mtype, m.text)))
    }

    fn select(messages: &VecDeque<Message>, which: Selector) -> Option<usize> {
        let mut found = messages.iter().enumerate();
        match which {
            Selector::First => (!messages.is_empty()).then_some(0),
            Selector::Type(t) => found.find(|(_, m)| m.mtype == t).map(|(i, _)| i),
            Selector::Except(t) => found.find(|(_, m)| m.mtype != t).map(|(i, _)| i),
            Selector::AtMost(t) => found
                .filter(|(_, m)| m.mtype <= t)
                .min_by_key(|&(i, m)| (m.mtype, i))
                .map(|(i, _)| i),
            Selector::Copy(n) => usize::try_from(n).ok().filter(|&n| n < messages.len()),
        }
    }

    /// `IPC_STAT`, `MSG_STAT` (`by_index`) and `MSG_STAT_ANY` (without
    /// `check`).
    ///
    /// Errors: `EINVAL`, `EACCES`.
    pub fn stat(
        &self,
        id: i32,
        by_index: bool,
        check: bool,
        creds: &Credentials,
    ) -> Result<(i32, MsqidDs), Errno> {
        let mut reg = lock(&self.registry);
        let (id, o) = reg.stat_target(id, by_index, check, creds)?;
        Ok((id, Self::ds(o)))
    }

    fn ds(o: &Object<Queue>) -> MsqidDs {
        let q = &o.data;
        MsqidDs {
            msg_perm: o.perm.to_abi(),
            msg_stime: q.stime,
            msg_rtime: q.rtime,
            msg_ctime: o.ctime,
            msg_cbytes: q.bytes,
            msg_qnum: q.messages.len() as u64,
            msg_qbytes: q.max_bytes,
            msg_lspid: q.lspid,
            msg_lrpid: q.lrpid,
            ..MsqidDs::default()
        }
    }

    /// `IPC_SET`: owner, group, permission bits and `msg_qbytes` (past
    /// `MSGMNB` only with `CAP_SYS_RESOURCE`); wakes blocked senders.
    ///
    /// Errors: `EINVAL`, `EPERM`.
    pub fn set(&self, id: i32, new: &MsqidDs, creds: &Credentials) -> Result<(), Errno> {
        let mut reg = lock(&self.registry);
        reg.get(id)?.perm.check_owner(creds)?;
        if new.msg_qbytes > MSGMNB as u64
            && !creds.has_capability(abi_linux::Capability::SYS_RESOURCE)
        {
            return Err(Errno::EPERM);
        }
        let o = reg.set_perm(id, &new.msg_perm, creds)?;
        o.data.max_bytes = new.msg_qbytes;
        o.data.waiters.notify(EventMask::IN);
        Ok(())
    }

    /// `IPC_RMID`: removes the queue and its messages; its waiters fail
    /// with `EIDRM`.
    ///
    /// Errors: `EINVAL`, `EPERM`.
    pub fn remove(&self, id: i32, creds: &Credentials) -> Result<(), Errno> {
        let gone = lock(&self.registry).remove_owned(id, creds)?;
        gone.data.waiters.notify(EventMask::IN);
        Ok(())
    }

    /// `IPC_INFO` (or `MSG_INFO` with `usage`): the limits, and the
    /// highest slot in use.
    pub fn info(&self, usage: bool) -> (MsgInfo, u64) {
        let reg = lock(&self.registry);
        let mut info = MsgInfo {
            msgpool: MSGPOOL,
            msgmap: MSGMNB,
            msgmax: MSGMAX,
            msgmnb: MSGMNB,
            msgmni: MSGMNI,
            msgssz: MSGSSZ,
            msgtql: MSGMNB,
            msgseg: MSGSEG as u16,
            pad: 0,
        };
        if usage {
            info.msgpool = reg.len() as i32;
            info.msgmap = reg.iter().map(|(_, o)| o.data.messages.len() as i32).sum();
            info.msgtql = reg.iter().map(|(_, o)| o.data.bytes as i32).sum();
        }
        (info, reg.max_index())
    }

    /// The queues, as `/proc/sysvipc/msg` lists them.
    pub fn list(&self) -> Vec<(i32, MsqidDs)> {
        let reg = lock(&self.registry);
        reg.iter().map(|(id, o)| (id, Self::ds(o))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(types: &[i64]) -> VecDeque<Message> {
        types
            .iter()
            .map(|&mtype| Message {
                mtype,
                text: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn selection_follows_msgrcv_types() {
        let q = queue(&[5, 3, 7, 3, 1]);
        assert_eq!(Queues::select(&q, Selector::First), Some(0));
        assert_eq!(Queues::select(&q, Selector::Type(3)), Some(1));
        assert_eq!(Queues::select(&q, Selector::Type(9)), None);
        assert_eq!(Queues::select(&q, Selector::Except(5)), Some(1));
        assert_eq!(Queues::select(&q, Selector::AtMost(4)), Some(4));
        assert_eq!(
            Queues::select(&queue(&[5, 3, 7, 3]), Selector::AtMost(4)),
            Some(1)
        );
        assert_eq!(Queues::select(&q, Selector::AtMost(0)), None);
        assert_eq!(Queues::select(&q, Selector::Copy(2)), Some(2));
        assert_eq!(Queues::select(&q, Selector::Copy(5)), None);
        assert_eq!(Queues::select(&q, Selector::Copy(-1)), None);
    }
}
