//! System V IPC (gVisor's `pkg/sentry/kernel/ipc`, `shm`, `semaphore` and
//! `msgqueue`; Linux's `ipc/`): the sandbox's one IPC namespace holds
//! three [`Registry`]s, of shared-memory segments ([`shm`]), semaphore
//! sets ([`sem`]) and message queues ([`msg`]), and the POSIX message
//! queues ([`mqueue`]).
//!
//! An object is found by key (`*get`) or by identifier (every other call).
//! An identifier is the object's slot index plus a sequence number times
//! [`SEQ_MULTIPLIER`], as Linux numbers them: slots are taken in turn
//! after the last one taken, and the sequence number grows each time the
//! turn wraps, so a stale identifier of a removed object does not name
//! its slot's next tenant.
//!
//! # Reference model
//!
//! A registry owns its objects. A segment's memory is a memfs file held
//! only through its Mappable, which the mappings of every attach share
//! ([`shm::Attached`]); a removed segment whose attaches remain lives on in
//! those mappings until the last goes. Blocked `semop`s and `msgsnd`s or
//! `msgrcv`s hold an `Arc` on their object's waiter queue, not on the
//! object, and find a removed object gone (`EIDRM`) when they retry.
//!
//! # Lock order
//!
//! The memory manager's locks → an [`shm::Attached`]'s attach list; its
//! attach list is released before the shm registry is taken, and the
//! registries are taken with no memory-manager lock held except by that
//! path. Waiter queues are notified with a registry locked; their waiters
//! take no registry lock.

pub mod mqueue;
pub mod msg;
pub mod sem;
pub mod shm;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::ipc::{IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IpcPerm};
use abi_linux::{Capability, Errno};
use vfs_core::Credentials;
use vfs_core::waiter::Waiter;

/// What a slot's sequence number is multiplied by in an identifier
/// (Linux's `IPCMNI`, without `ipcmni_extend`).
pub const SEQ_MULTIPLIER: u32 = 32768;

/// The largest sequence number before it wraps (Linux's `IPCID_SEQ_MAX`).
const SEQ_MAX: u32 = (i32::MAX as u32) / SEQ_MULTIPLIER;

/// The sandbox's IPC namespace.
#[derive(Debug, Default)]
pub struct Ipc {
    /// Shared-memory segments.
    pub shm: shm::Segments,
    /// Semaphore sets.
    pub sem: sem::Semaphores,
    /// Message queues.
    pub msg: msg::Queues,
    /// POSIX message queues.
    pub mq: mqueue::MessageQueues,
}

impl Ipc {
    /// Applies and forgets the `SEM_UNDO` adjustments of process `tgid`,
    /// which has exited.
    pub fn process_exited(&self, tgid: i32) {
        self.sem.undo_exit(tgid);
    }
}

/// Who makes a blocking call (`semop`, `msgsnd`, `msgrcv`) and how it
/// waits.
pub struct Caller<'a> {
    /// The caller's credentials.
    pub creds: &'a Credentials,
    /// The caller's process.
    pub tgid: i32,
    /// What a blocked attempt registers.
    pub waiter: &'a Arc<dyn Waiter>,
    /// Whether an earlier attempt blocked: an object gone by now was
    /// removed during the wait (`EIDRM`, not `EINVAL`).
    pub retry: bool,
}

/// An object's owner, creator, mode and key (`struct kern_ipc_perm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perm {
    /// The key it was made with ([`IPC_PRIVATE`] once removed).
    pub key: i32,
    /// The owner.
    pub uid: u32,
    /// The owner's group.
    pub gid: u32,
    /// The creator.
    pub cuid: u32,
    /// The creator's group.
    pub cgid: u32,
    /// The permission bits, with a segment's `SHM_DEST`/`SHM_LOCKED`.
    pub mode: u32,
    /// The slot's sequence number.
    pub seq: u16,
}

impl Perm {
    /// The `ipc64_perm` `IPC_STAT` reports.
    pub fn to_abi(self) -> IpcPerm {
        IpcPerm {
            key: self.key,
            uid: self.uid,
            gid: self.gid,
            cuid: self.cuid,
            cgid: self.cgid,
            mode: self.mode,
            seq: self.seq,
            ..IpcPerm::default()
        }
    }

    /// Checks an access for `want` (bits of `0o777`: the `0o444` read and
    /// `0o222` write masks, or a `*get` call's requested mode) as Linux's
    /// `ipcperms`: the owner's or creator's bits, else the group's, else
    /// the others'; `CAP_IPC_OWNER` overrides. `EACCES` when refused.
    pub fn check(&self, creds: &Credentials, want: u32) -> Result<(), Errno> {
        let requested = (want >> 6 | want >> 3 | want) & 0o7;
        let granted = if creds.effective_uid == self.uid || creds.effective_uid == self.cuid {
            self.mode >> 6
        } else if creds.in_effective_group(self.gid) || creds.in_effective_group(self.cgid) {
            self.mode >> 3
        } else {
            self.mode
        };
        if requested & !granted & 0o7 != 0 && !creds.has_capability(Capability::IPC_OWNER) {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    /// Checks that the caller may change or remove the object
    /// (`IPC_SET`, `IPC_RMID`): its owner or creator, or `CAP_SYS_ADMIN`;
    /// `EPERM` otherwise.
    pub fn check_owner(&self, creds: &Credentials) -> Result<(), Errno> {
        let euid = creds.effective_uid;
        if euid == self.uid || euid == self.cuid || creds.has_capability(Capability::SYS_ADMIN) {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// Applies `IPC_SET`'s owner, group and permission bits.
    pub fn set(&mut self, new: &IpcPerm) {
        self.uid = new.uid;
        self.gid = new.gid;
        self.mode = (self.mode & !0o777) | (new.mode & 0o777);
    }
}

/// One object of a registry.
#[derive(Debug)]
pub struct Object<T> {
    /// Its owner, creator and mode.
    pub perm: Perm,
    /// When it was made or last changed (`IPC_SET`, `SETVAL`), in seconds.
    pub ctime: i64,
    /// What the object is.
    pub data: T,
}

/// The objects of one kind, by slot and by key.
#[derive(Debug)]
pub struct Registry<T> {
    objects: BTreeMap<u32, Object<T>>,
    keys: HashMap<i32, u32>,
    seq: u32,
    last_index: Option<u32>,
    max_objects: usize,
}

impl<T> Registry<T> {
    /// An empty registry of at most `max_objects`.
    pub fn new(max_objects: usize) -> Self {
        Self {
            objects: BTreeMap::new(),
            keys: HashMap::new(),
            seq: 0,
            last_index: None,
            max_objects,
        }
    }

    /// The identifier of the object a `*get` call names, made by
    /// `create` when the key has none and `flags` has `IPC_CREAT` (or the
    /// key is `IPC_PRIVATE`). An existing object is checked by `fits`
    /// (the size or count asked for, `EINVAL`) and then for the access
    /// `flags`' permission bits ask.
    ///
    /// Errors: `EEXIST` with `IPC_CREAT | IPC_EXCL` on an existing key,
    /// `ENOENT` without `IPC_CREAT` on a missing one, `ENOSPC` when the
    /// registry is full, and those of `fits`, the permission check and
    /// `create`.
    pub fn get_or_create(
        &mut self,
        key: i32,
        flags: i32,
        creds: &Credentials,
        fits: impl FnOnce(&Object<T>) -> Result<(), Errno>,
        create: impl FnOnce(&Self) -> Result<T, Errno>,
    ) -> Result<i32, Errno> {
        if key != IPC_PRIVATE
            && let Some(&index) = self.keys.get(&key)
        {
            if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            let object = &self.objects[&index];
            fits(object)?;
            object.perm.check(creds, flags as u32 & 0o777)?;
            return Ok(Self::id(index, object.perm.seq));
        }
        if key != IPC_PRIVATE && flags & IPC_CREAT == 0 {
            return Err(Errno::ENOENT);
        }
        // Linux checks the new object's own limits before the count.
        let data = create(self)?;
        if self.objects.len() >= self.max_objects {
            return Err(Errno::ENOSPC);
        }
        // The first free slot after the last one taken (there is one:
        // `max_objects` is below `SEQ_MULTIPLIER`).
        let start = self.last_index.map_or(0, |l| l + 1);
        let index = (start..SEQ_MULTIPLIER)
            .chain(0..start)
            .find(|i| !self.objects.contains_key(i))
            .ok_or(Errno::ENOSPC)?;
        if self.last_index.is_some_and(|last| index <= last) {
            self.seq = if self.seq >= SEQ_MAX { 0 } else { self.seq + 1 };
        }
        self.last_index = Some(index);
        let seq = self.seq as u16;
        let perm = Perm {
            key,
            uid: creds.effective_uid,
            gid: creds.effective_gid,
            cuid: creds.effective_uid,
            cgid: creds.effective_gid,
            mode: flags as u32 & 0o777,
            seq,
        };
        self.objects.insert(
            index,
            Object {
                perm,
                ctime: now(),
                data,
            },
        );
        if key != IPC_PRIVATE {
            self.keys.insert(key, index);
        }
        Ok(Self::id(index, seq))
    }

    fn id(index: u32, seq: u16) -> i32 {
        (u32::from(seq) * SEQ_MULTIPLIER + index) as i32
    }

    /// The object `id` names; `EINVAL` if none.
    pub fn get(&mut self, id: i32) -> Result<&mut Object<T>, Errno> {
        let id = u32::try_from(id).map_err(|_| Errno::EINVAL)?;
        let (index, seq) = (id % SEQ_MULTIPLIER, id / SEQ_MULTIPLIER);
        match self.objects.get_mut(&index) {
            Some(o) if u32::from(o.perm.seq) == seq => Ok(o),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The object in slot `index` and its identifier (the `*_STAT`
    /// commands); `EINVAL` if the slot is empty.
    pub fn by_index(&mut self, index: i32) -> Result<(i32, &mut Object<T>), Errno> {
        let index = u32::try_from(index).map_err(|_| Errno::EINVAL)?;
        let object = self.objects.get_mut(&index).ok_or(Errno::EINVAL)?;
        Ok((Self::id(index, object.perm.seq), object))
    }

    /// The object of a `*_STAT` command: `id` itself, or the slot `id`
    /// for `SHM_STAT`-style commands (`by_index`, whose identifier is
    /// returned), read-checked unless `check` is false (`*_STAT_ANY`).
    ///
    /// Errors: `EINVAL` for no such object, `EACCES`.
    pub fn stat_target(
        &mut self,
        id: i32,
        by_index: bool,
        check: bool,
        creds: &Credentials,
    ) -> Result<(i32, &mut Object<T>), Errno> {
        let (id, o) = if by_index {
            self.by_index(id)?
        } else {
            (id, self.get(id)?)
        };
        if check {
            o.perm.check(creds, 0o444)?;
        }
        Ok((id, o))
    }

    /// `IPC_SET`'s common part: owner, group and permission bits from
    /// `new`, and the change time; returns the object for the rest.
    ///
    /// Errors: `EINVAL`, `EPERM` unless the caller owns or made the
    /// object or has `CAP_SYS_ADMIN`.
    pub fn set_perm(
        &mut self,
        id: i32,
        new: &IpcPerm,
        creds: &Credentials,
    ) -> Result<&mut Object<T>, Errno> {
        let o = self.get(id)?;
        o.perm.check_owner(creds)?;
        o.perm.set(new);
        o.ctime = now();
        Ok(o)
    }

    /// `IPC_RMID` of an object removed at once: checks ownership as
    /// [`Self::set_perm`] and returns the removed object.
    pub fn remove_owned(&mut self, id: i32, creds: &Credentials) -> Result<Object<T>, Errno> {
        self.get(id)?.perm.check_owner(creds)?;
        self.remove(id).ok_or(Errno::EINVAL)
    }

    /// Removes the object `id` names (which exists) and returns it.
    pub fn remove(&mut self, id: i32) -> Option<Object<T>> {
        self.get(id).ok()?;
        let index = id as u32 % SEQ_MULTIPLIER;
        let object = self.objects.remove(&index)?;
        if self.keys.get(&object.perm.key) == Some(&index) {
            self.keys.remove(&object.perm.key);
        }
        Some(object)
    }

    /// Makes the object `id` names unreachable by its key (a segment
    /// removed while attached: later `shmget`s of the key make a new one).
    pub fn forget_key(&mut self, id: i32) {
        if let Ok(object) = self.get(id) {
            let key = std::mem::replace(&mut object.perm.key, IPC_PRIVATE);
            self.keys.remove(&key);
        }
    }

    /// The highest slot in use, 0 when none (what the `*_INFO` commands
    /// return).
    pub fn max_index(&self) -> u64 {
        self.objects.keys().next_back().map_or(0, |&i| u64::from(i))
    }

    /// The objects, by slot.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &Object<T>)> {
        self.objects
            .iter()
            .map(|(&i, o)| (Self::id(i, o.perm.seq), o))
    }

    /// How many objects there are.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// The wall-clock time in seconds, as the `*_time` fields hold it.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: u32, gid: u32) -> Credentials {
        Credentials::user(uid, gid)
    }

    #[test]
    fn identifiers_carry_the_slot_sequence() {
        let mut r: Registry<()> = Registry::new(8);
        let c = user(1, 1);
        let a = r
            .get_or_create(IPC_PRIVATE, 0o600, &c, |_| Ok(()), |_| Ok(()))
            .unwrap();
        let b = r
            .get_or_create(IPC_PRIVATE, 0o600, &c, |_| Ok(()), |_| Ok(()))
            .unwrap();
        assert_eq!((a, b), (0, 1));
        r.remove(a).unwrap();
        // Slots are taken in turn: slot 0 is free, but 2 comes first.
        let c2 = r
            .get_or_create(IPC_PRIVATE, 0o600, &c, |_| Ok(()), |_| Ok(()))
            .unwrap();
        assert_eq!(c2, 2);
        for _ in 3..SEQ_MULTIPLIER {
            let id = r
                .get_or_create(IPC_PRIVATE, 0o600, &c, |_| Ok(()), |_| Ok(()))
                .unwrap();
            r.remove(id).unwrap();
        }
        // The turn wraps to slot 0 with the next sequence number.
        let again = r
            .get_or_create(IPC_PRIVATE, 0o600, &c, |_| Ok(()), |_| Ok(()))
            .unwrap();
        assert_eq!(again, SEQ_MULTIPLIER as i32);
        assert_eq!(r.get(a).err(), Some(Errno::EINVAL));
        assert!(r.get(again).is_ok());
        assert_eq!(r.get(-1).err(), Some(Errno::EINVAL));
    }

    #[test]
    fn keys_find_existing_objects_with_linux_errors() {
        let mut r: Registry<u32> = Registry::new(1);
        let c = user(1, 1);
        assert_eq!(
            r.get_or_create(7, 0o600, &c, |_| Ok(()), |_| Ok(5)).err(),
            Some(Errno::ENOENT)
        );
        let id = r
            .get_or_create(7, IPC_CREAT | 0o600, &c, |_| Ok(()), |_| Ok(5))
            .unwrap();
        assert_eq!(
            r.get_or_create(7, IPC_CREAT | IPC_EXCL, &c, |_| Ok(()), |_| Ok(5))
                .err(),
            Some(Errno::EEXIST)
        );
        let too_big = |o: &Object<u32>| {
            if o.data < 9 {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            }
        };
        assert_eq!(
            r.get_or_create(7, 0, &c, too_big, |_| Ok(5)).err(),
            Some(Errno::EINVAL)
        );
        assert_eq!(r.get_or_create(7, 0o600, &c, |_| Ok(()), |_| Ok(5)), Ok(id));
        // Another user may not ask for bits the mode does not give.
        assert_eq!(
            r.get_or_create(7, 0o400, &user(2, 2), |_| Ok(()), |_| Ok(5))
                .err(),
            Some(Errno::EACCES)
        );
        assert_eq!(
            r.get_or_create(8, IPC_CREAT, &c, |_| Ok(()), |_| Ok(5))
                .err(),
            Some(Errno::ENOSPC)
        );
        r.forget_key(id);
        assert_eq!(
            r.get_or_create(7, 0o600, &c, |_| Ok(()), |_| Ok(5)).err(),
            Some(Errno::ENOENT)
        );
    }

    #[test]
    fn permissions_follow_owner_group_other_and_capabilities() {
        let perm = Perm {
            key: 1,
            uid: 10,
            gid: 20,
            cuid: 11,
            cgid: 21,
            mode: 0o640,
            seq: 0,
        };
        assert!(perm.check(&user(10, 99), 0o666).is_ok());
        assert!(perm.check(&user(11, 99), 0o600).is_ok());
        assert!(perm.check(&user(12, 21), 0o444).is_ok());
        assert_eq!(perm.check(&user(12, 21), 0o222), Err(Errno::EACCES));
        assert_eq!(perm.check(&user(12, 30), 0o444), Err(Errno::EACCES));
        assert!(perm.check(&Credentials::root(), 0o666).is_ok());
        assert_eq!(perm.check_owner(&user(12, 20)), Err(Errno::EPERM));
        assert!(perm.check_owner(&user(11, 0)).is_ok());
        let mut changed = perm;
        changed.mode |= abi_linux::ipc::SHM_DEST;
        changed.set(&IpcPerm {
            uid: 3,
            gid: 4,
            mode: 0o7777,
            ..IpcPerm::default()
        });
        assert_eq!(
            (changed.uid, changed.gid, changed.mode),
            (3, 4, abi_linux::ipc::SHM_DEST | 0o777)
        );
    }
}
