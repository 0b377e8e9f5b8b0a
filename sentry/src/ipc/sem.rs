//! System V semaphores (gVisor's `kernel/semaphore`, Linux's
//! `ipc/sem.c`).
//!
//! A `semop` applies all of its operations or none: when one would block
//! (a decrement below zero, or a wait for zero on a non-zero value) the
//! set is left as it was, the caller counts in that semaphore's
//! `semncnt`/`semzcnt` and waits on the set's queue, which every change
//! notifies. `SEM_UNDO` adjustments are kept per process and applied when
//! it exits; `SETVAL` and `SETALL` clear them, as Linux does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use abi_linux::Errno;
use abi_linux::ipc::{
    IPC_NOWAIT, SEM_UNDO, SEMAEM, SEMMNI, SEMMNS, SEMMSL, SEMOPM, SEMUSZ, SEMVMX, SemBuf, SemInfo,
    SemidDs,
};
use vfs_core::Credentials;
use vfs_core::waiter::{EventMask, WaitEntryId, WaiterQueue};

use super::{Caller, Object, Registry, lock, now};

/// One semaphore.
#[derive(Clone, Copy, Debug, Default)]
struct Sem {
    val: i32,
    pid: i32,
    ncnt: u32,
    zcnt: u32,
}

/// One semaphore set.
#[derive(Debug)]
pub struct Set {
    sems: Vec<Sem>,
    otime: i64,
    waiters: Arc<WaiterQueue>,
    /// The `SEM_UNDO` adjustments, by process.
    undo: HashMap<i32, Vec<i32>>,
}

/// The namespace's semaphore sets.
#[derive(Debug)]
pub struct Semaphores {
    registry: Mutex<Registry<Set>>,
}

impl Default for Semaphores {
    fn default() -> Self {
        Self {
            registry: Mutex::new(Registry::new(SEMMNI as usize)),
        }
    }
}

/// A `semop` that must wait: the waiter is registered with the set's
/// queue (under the registry's lock, so no change is missed) and counted
/// in the semaphore it waits on until [`Semaphores::stop_waiting`].
pub struct Blocked {
    queue: Arc<WaiterQueue>,
    entry: WaitEntryId,
    sem: usize,
    zero: bool,
}

/// What one `semop` attempt did.
pub enum Attempt {
    /// Every operation was applied.
    Done,
    /// An operation would block.
    Blocked(Blocked),
}

impl Semaphores {
    /// `semget(2)`: the set of `key`, made with `nsems` semaphores when
    /// new.
    ///
    /// Errors: those of [`Registry::get_or_create`]; `EINVAL` for
    /// `nsems` out of `0..=SEMMSL`, zero on creation or past an existing
    /// set's; `ENOSPC` past `SEMMNS` semaphores in all.
    pub fn get(&self, key: i32, nsems: i32, flags: i32, creds: &Credentials) -> Result<i32, Errno> {
        if !(0..=SEMMSL).contains(&nsems) {
            return Err(Errno::EINVAL);
        }
        let n = nsems as usize;
        let fits = |o: &Object<Set>| {
            if o.data.sems.len() < n {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            }
        };
        let create = |reg: &Registry<Set>| {
            if n == 0 {
                return Err(Errno::EINVAL);
            }
            let total: usize = reg.iter().map(|(_, o)| o.data.sems.len()).sum();
            if total + n > SEMMNS as usize {
                return Err(Errno::ENOSPC);
            }
            Ok(Set {
                sems: vec![Sem::default(); n],
                otime: 0,
                waiters: Arc::new(WaiterQueue::new()),
                undo: HashMap::new(),
            })
        };
        lock(&self.registry).get_or_create(key, flags, creds, fits, create)
    }

    /// One attempt at `semop(2)`'s `ops` on set `id` for `caller`'s
    /// process: applies them all, or none and registers its waiter.
    ///
    /// Errors: `EINVAL` for no such set (`EIDRM` when `retry`: it was
    /// removed while the caller waited), `EFBIG` for a semaphore index
    /// past the set, `EACCES`, `ERANGE` past `SEMVMX` or `SEMAEM`,
    /// `EAGAIN` where an operation with `IPC_NOWAIT` would block.
    pub fn attempt(&self, id: i32, ops: &[SemBuf], caller: &Caller) -> Result<Attempt, Errno> {
        let (creds, tgid) = (caller.creds, caller.tgid);
        let mut reg = lock(&self.registry);
        let o = reg
            .get(id)
            .map_err(|e| if caller.retry { Errno::EIDRM } else { e })?;
        let max = ops
            .iter()
            .map(|op| usize::from(op.sem_num))
            .max()
            .unwrap_or(0);
        if max >= o.data.sems.len() {
            return Err(Errno::EFBIG);
        }
        let alters = ops.iter().any(|op| op.sem_op != 0);
        o.perm.check(creds, if alters { 0o222 } else { 0o444 })?;
        let set = &mut o.data;
        let mut vals: Vec<i32> = set.sems.iter().map(|s| s.val).collect();
        let mut undo = set.undo.get(&tgid).cloned();
        for op in ops {
            let n = usize::from(op.sem_num);
            let delta = i32::from(op.sem_op);
            let result = vals[n] + delta;
            if (delta == 0 && vals[n] != 0) || result < 0 {
                if i32::from(op.sem_flg) & IPC_NOWAIT != 0 {
                    return Err(Errno::EAGAIN);
                }
                let zero = delta == 0;
                let sem = &mut set.sems[n];
                if zero {
                    sem.zcnt += 1;
                } else {
                    sem.ncnt += 1;
                }
                let entry = set.waiters.register(caller.waiter.clone(), EventMask::IN);
                return Ok(Attempt::Blocked(Blocked {
                    queue: set.waiters.clone(),
                    entry,
                    sem: n,
                    zero,
                }));
            }
            if result > SEMVMX {
                return Err(Errno::ERANGE);
            }
            if op.sem_flg & SEM_UNDO != 0 {
                let adj = undo.get_or_insert_with(|| vec![0; set.sems.len()]);
                let new = adj[n] - delta;
                if !(-(SEMAEM + 1)..=SEMAEM).contains(&new) {
                    return Err(Errno::ERANGE);
                }
                adj[n] = new;
            }
            vals[n] = result;
        }
        for op in ops {
            let n = usize::from(op.sem_num);
            set.sems[n].val = vals[n];
            set.sems[n].pid = tgid;
        }
        if let Some(undo) = undo {
            set.undo.insert(tgid, undo);
        }
        set.otime = now();
        if alters {
            set.waiters.notify(EventMask::IN);
        }
        Ok(Attempt::Done)
    }

    /// Ends a wait [`Self::attempt`] began: unregisters the waiter and
    /// takes it out of its semaphore's count (if the set still exists).
    pub fn stop_waiting(&self, id: i32, blocked: Blocked) {
        blocked.queue.unregister(blocked.entry);
        let mut reg = lock(&self.registry);
        if let Ok(o) = reg.get(id)
            && let Some(sem) = o.data.sems.get_mut(blocked.sem)
        {
            let count = if blocked.zero {
                &mut sem.zcnt
            } else {
                &mut sem.ncnt
            };
            *count = count.saturating_sub(1);
        }
    }

    fn with_set<R>(
        &self,
        id: i32,
        creds: &Credentials,
        want: u32,
        f: impl FnOnce(&mut Object<Set>) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let mut reg = lock(&self.registry);
        let o = reg.get(id)?;
        o.perm.check(creds, want)?;
        f(o)
    }

    /// `GETVAL`, `GETPID`, `GETNCNT`, `GETZCNT` (`cmd`) of semaphore
    /// `num`.
    ///
    /// Errors: `EINVAL` for no such set or semaphore, `EACCES`.
    pub fn get_one(&self, id: i32, num: i32, cmd: i32, creds: &Credentials) -> Result<u64, Errno> {
        use abi_linux::ipc::{GETNCNT, GETPID, GETVAL, GETZCNT};
        self.with_set(id, creds, 0o444, |o| {
            let sem = usize::try_from(num)
                .ok()
                .and_then(|n| o.data.sems.get(n))
                .ok_or(Errno::EINVAL)?;
            Ok(match cmd {
                GETVAL => sem.val as u64,
                GETPID => sem.pid as u64,
                GETNCNT => u64::from(sem.ncnt),
                GETZCNT => u64::from(sem.zcnt),
                _ => return Err(Errno::EINVAL),
            })
        })
    }

    /// `GETALL`: every value.
    ///
    /// Errors: `EINVAL`, `EACCES`.
    pub fn get_all(&self, id: i32, creds: &Credentials) -> Result<Vec<u16>, Errno> {
        self.with_set(id, creds, 0o444, |o| {
            Ok(o.data.sems.iter().map(|s| s.val as u16).collect())
        })
    }

    /// The number of semaphores in set `id`, which the caller may alter
    /// (what `SETALL` reads).
    ///
    /// Errors: `EINVAL`, `EACCES`.
    pub fn len(&self, id: i32, creds: &Credentials) -> Result<usize, Errno> {
        self.with_set(id, creds, 0o222, |o| Ok(o.data.sems.len()))
    }

    /// `SETVAL` (`num` is `Some`) or `SETALL`: sets values by process
    /// `tgid`, clears the affected `SEM_UNDO` adjustments of every
    /// process and wakes the waiters.
    ///
    /// Errors: `EINVAL` for no such set or semaphore (or a `SETALL` whose
    /// count no longer matches), `EACCES`, `ERANGE` for a value past
    /// `SEMVMX`.
    pub fn set_values(
        &self,
        id: i32,
        num: Option<i32>,
        values: &[i32],
        creds: &Credentials,
        tgid: i32,
    ) -> Result<(), Errno> {
        self.with_set(id, creds, 0o222, |o| {
            let len = o.data.sems.len();
            let first = match num {
                Some(n) => usize::try_from(n)
                    .ok()
                    .filter(|&n| n < len)
                    .ok_or(Errno::EINVAL)?,
                None if values.len() == len => 0,
                None => return Err(Errno::EINVAL),
            };
            if values.iter().any(|v| !(0..=SEMVMX).contains(v)) {
                return Err(Errno::ERANGE);
            }
            for (i, &v) in values.iter().enumerate() {
                let sem = &mut o.data.sems[first + i];
                sem.val = v;
                sem.pid = tgid;
            }
            for adj in o.data.undo.values_mut() {
                adj[first..first + values.len()].fill(0);
            }
            o.ctime = now();
            o.data.waiters.notify(EventMask::IN);
            Ok(())
        })
    }

    /// `IPC_STAT`, `SEM_STAT` (`by_index`) and `SEM_STAT_ANY` (without
    /// `check`).
    ///
    /// Errors: `EINVAL`, `EACCES`.
    pub fn stat(
        &self,
        id: i32,
        by_index: bool,
        check: bool,
        creds: &Credentials,
    ) -> Result<(i32, SemidDs), Errno> {
        let mut reg = lock(&self.registry);
        let (id, o) = reg.stat_target(id, by_index, check, creds)?;
        Ok((id, Self::ds(o)))
    }

    fn ds(o: &Object<Set>) -> SemidDs {
        SemidDs {
            sem_perm: o.perm.to_abi(),
            sem_otime: o.data.otime,
            sem_ctime: o.ctime,
            sem_nsems: o.data.sems.len() as u64,
            ..SemidDs::default()
        }
    }

    /// `IPC_SET`.
    ///
    /// Errors: `EINVAL`, `EPERM` unless the caller owns or made the set or
    /// has `CAP_SYS_ADMIN`.
    pub fn set(&self, id: i32, new: &SemidDs, creds: &Credentials) -> Result<(), Errno> {
        lock(&self.registry)
            .set_perm(id, &new.sem_perm, creds)
            .map(|_| ())
    }

    /// `IPC_RMID`: removes the set; its waiters fail with `EIDRM`.
    ///
    /// Errors: `EINVAL`, `EPERM` as [`Self::set`].
    pub fn remove(&self, id: i32, creds: &Credentials) -> Result<(), Errno> {
        let gone = lock(&self.registry).remove_owned(id, creds)?;
        gone.data.waiters.notify(EventMask::IN);
        Ok(())
    }

    /// `IPC_INFO` (or `SEM_INFO` with `usage`): the limits, and the
    /// highest slot in use.
    pub fn info(&self, usage: bool) -> (SemInfo, u64) {
        let reg = lock(&self.registry);
        let mut info = SemInfo {
            semmap: SEMMNS,
            semmni: SEMMNI,
            semmns: SEMMNS,
            semmnu: SEMMNS,
            semmsl: SEMMSL,
            semopm: SEMOPM,
            semume: SEMOPM,
            semusz: SEMUSZ,
            semvmx: SEMVMX,
            semaem: SEMAEM,
        };
        if usage {
            info.semusz = reg.len() as i32;
            info.semaem = reg.iter().map(|(_, o)| o.data.sems.len() as i32).sum();
        }
        (info, reg.max_index())
    }

    /// The sets, as `/proc/sysvipc/sem` lists them.
    pub fn list(&self) -> Vec<(i32, SemidDs)> {
        let reg = lock(&self.registry);
        reg.iter().map(|(id, o)| (id, Self::ds(o))).collect()
    }

    /// Applies the `SEM_UNDO` adjustments of process `tgid` (values kept
    /// within `0..=SEMVMX`), as its exit does.
    pub fn undo_exit(&self, tgid: i32) {
        let mut reg = lock(&self.registry);
        let ids: Vec<i32> = reg
            .iter()
            .filter(|(_, o)| o.data.undo.contains_key(&tgid))
            .map(|(id, _)| id)
            .collect();
        for id in ids {
            let Ok(o) = reg.get(id) else { continue };
            let Some(adj) = o.data.undo.remove(&tgid) else {
                continue;
            };
            for (sem, a) in o.data.sems.iter_mut().zip(adj) {
                if a != 0 {
                    sem.val = (sem.val + a).clamp(0, SEMVMX);
                    sem.pid = tgid;
                }
            }
            o.data.waiters.notify(EventMask::IN);
        }
    }
}

/// The most operations one `semop(2)` takes.
pub const MAX_OPS: usize = SEMOPM as usize;
