//! System V shared memory (gVisor's `kernel/shm`, Linux's `ipc/shm.c`).
//!
//! A segment's memory is a memfs file on the kernel's anonymous mount
//! ([`kernfs::memfs::RegularFile`]), mapped shared by every attach through
//! one [`Attached`], which counts the attaches as Linux does: each
//! mapping the memory manager reports (`shmat`, `fork`'s copies, the
//! pieces a partial `munmap` leaves) is one. A segment removed with
//! `IPC_RMID` while attached is marked `SHM_DEST`, loses its key, and
//! leaves the registry when its last attach goes.

use std::ops::Range;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Weak};

use abi_linux::Errno;
use abi_linux::ipc::{
    IPC_CREAT, IPC_PRIVATE, SHM_DEST, SHM_LOCKED, SHMALL, SHMMAX, SHMMIN, SHMMNI, ShmInfo,
    ShmParams, ShmidDs,
};
use kernfs::memfs::RegularFile;
use vfs_core::Credentials;
use vfs_core::memmap::{
    AccessType, Mappable, MappableRange, MappingIdentity, MappingSpace, Translation,
};

use super::{Object, Registry, lock, now};

const PAGE_SIZE: u64 = 4096;

/// One shared-memory segment.
pub struct Segment {
    /// The size `shmget` asked for.
    pub size: u64,
    memory: Arc<RegularFile>,
    dev: u64,
    ino: u64,
    attached: Arc<Attached>,
    atime: i64,
    dtime: i64,
    cpid: i32,
    lpid: i32,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("size", &self.size)
            .field("attached", &self.attached)
            .finish_non_exhaustive()
    }
}

/// The namespace's segments.
#[derive(Debug)]
pub struct Segments {
    registry: Arc<Mutex<Registry<Segment>>>,
}

impl Default for Segments {
    fn default() -> Self {
        Self {
            registry: Arc::new(Mutex::new(Registry::new(SHMMNI as usize))),
        }
    }
}

/// What `shmat` maps: the segment's shared Mappable and identity.
pub struct Attach {
    /// The Mappable every attach of the segment shares.
    pub mappable: Arc<dyn Mappable>,
    /// What `/proc/PID/maps` shows.
    pub identity: Arc<dyn MappingIdentity>,
    /// The segment's size.
    pub size: u64,
    /// Its key, for the name `/proc/PID/maps` shows.
    pub key: i32,
}

/// A new segment's memory, made before the registry is locked.
pub struct Memory {
    /// The unlinked memfs file.
    pub file: Arc<RegularFile>,
    /// Its device number.
    pub dev: u64,
    /// Its inode number.
    pub ino: u64,
}

/// [`Segments::get`]'s `memory` argument.
pub type NewMemory = Result<Memory, Errno>;

/// Whether a new segment of `size` bytes would be within the size limits
/// (the caller makes its memory only then).
pub fn valid_size(size: u64) -> bool {
    (SHMMIN..=SHMMAX).contains(&size)
}

fn pages(size: u64) -> u64 {
    size.div_ceil(PAGE_SIZE)
}

impl Segments {
    /// `shmget(2)`: the segment of `key`, made of `memory` when new.
    ///
    /// Errors: those of [`Registry::get_or_create`]; `EINVAL` for a size
    /// out of `SHMMIN..=SHMMAX` on creation or past an existing
    /// segment's; `ENOSPC` past `SHMALL` pages in all.
    pub fn get(
        &self,
        key: i32,
        size: u64,
        flags: i32,
        creds: &Credentials,
        pid: i32,
        memory: Option<NewMemory>,
    ) -> Result<i32, Errno> {
        let mut reg = lock(&self.registry);
        let weak = Arc::downgrade(&self.registry);
        let fits = |o: &Object<Segment>| {
            if o.data.size < size {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            }
        };
        let create = |reg: &Registry<Segment>| {
            if !valid_size(size) {
                return Err(Errno::EINVAL);
            }
            let total: u64 = reg.iter().map(|(_, o)| pages(o.data.size)).sum();
            if total.saturating_add(pages(size)) > SHMALL {
                return Err(Errno::ENOSPC);
            }
            let memory = memory.unwrap_or(Err(Errno::ENOMEM))?;
            let attached = Arc::new(Attached {
                inner: memory.file.clone(),
                maps: Mutex::new(Vec::new()),
                registry: weak,
                id: AtomicI32::new(-1),
            });
            Ok(Segment {
                size,
                memory: memory.file,
                dev: memory.dev,
                ino: memory.ino,
                attached,
                atime: 0,
                dtime: 0,
                cpid: pid,
                lpid: 0,
            })
        };
        let id = reg.get_or_create(key, flags, creds, fits, create)?;
        reg.get(id)?.data.attached.id.store(id, Ordering::Relaxed);
        Ok(id)
    }

    /// Whether `shmget(key, .., flags)` may make a segment, so the caller
    /// should prepare its memory.
    pub fn may_create(key: i32, flags: i32) -> bool {
        key == IPC_PRIVATE || flags & IPC_CREAT != 0
    }

    /// The first half of `shmat(2)`: checks `want` access (`0o444`,
    /// `0o666`, with `0o111` for `SHM_EXEC`) and records the attach time
    /// and process; the caller maps what is returned.
    ///
    /// Errors: `EINVAL` for an unknown `id`, `EACCES`.
    pub fn attach(
        &self,
        id: i32,
        creds: &Credentials,
        want: u32,
        pid: i32,
    ) -> Result<Attach, Errno> {
        let mut reg = lock(&self.registry);
        let o = reg.get(id)?;
        o.perm.check(creds, want)?;
        o.data.atime = now();
        o.data.lpid = pid;
        Ok(Attach {
            mappable: o.data.attached.clone(),
            identity: Arc::new(ShmIdentity {
                dev: o.data.dev,
                ino: o.data.ino,
            }),
            size: o.data.size,
            key: o.perm.key,
        })
    }

    /// The segment whose attaches map through `mappable`, and its size:
    /// how `shmdt(2)` recognises a segment's mapping.
    pub fn attached_by(&self, mappable: &Arc<dyn Mappable>) -> Option<(i32, u64)> {
        let reg = lock(&self.registry);
        let target = Arc::as_ptr(mappable) as *const ();
        reg.iter()
            .find(|(_, o)| Arc::as_ptr(&o.data.attached) as *const () == target)
            .map(|(id, o)| (id, o.data.size))
    }

    /// Records a detach by process `pid` (`shmdt(2)`).
    pub fn detached(&self, id: i32, pid: i32) {
        if let Ok(o) = lock(&self.registry).get(id) {
            o.data.lpid = pid;
            o.data.dtime = now();
        }
    }

    /// `IPC_STAT`, `SHM_STAT` (`by_index`) and `SHM_STAT_ANY` (without
    /// `check`): the segment's `shmid64_ds` and its identifier.
    ///
    /// Errors: `EINVAL` for no such segment, `EACCES` without read access.
    pub fn stat(
        &self,
        id: i32,
        by_index: bool,
        check: bool,
        creds: &Credentials,
    ) -> Result<(i32, ShmidDs), Errno> {
        let mut reg = lock(&self.registry);
        let (id, o) = reg.stat_target(id, by_index, check, creds)?;
        Ok((id, Self::ds(o)))
    }

    fn ds(o: &Object<Segment>) -> ShmidDs {
        let d = &o.data;
        ShmidDs {
            shm_perm: o.perm.to_abi(),
            shm_segsz: d.size,
            shm_atime: d.atime,
            shm_dtime: d.dtime,
            shm_ctime: o.ctime,
            shm_cpid: d.cpid,
            shm_lpid: d.lpid,
            shm_nattch: d.attached.count() as u64,
            ..ShmidDs::default()
        }
    }

    /// `IPC_SET`: the owner, group and permission bits of `new`.
    ///
    /// Errors: `EINVAL`, `EPERM` unless the caller owns or made the
    /// segment or has `CAP_SYS_ADMIN`.
    pub fn set(&self, id: i32, new: &ShmidDs, creds: &Credentials) -> Result<(), Errno> {
        lock(&self.registry)
            .set_perm(id, &new.shm_perm, creds)
            .map(|_| ())
    }

    /// `IPC_RMID`: removes the segment now if nothing is attached, else
    /// marks it `SHM_DEST` and frees its key.
    ///
    /// Errors: `EINVAL`, `EPERM` as [`Self::set`].
    pub fn remove(&self, id: i32, creds: &Credentials) -> Result<(), Errno> {
        let mut reg = lock(&self.registry);
        let o = reg.get(id)?;
        o.perm.check_owner(creds)?;
        o.perm.mode |= SHM_DEST;
        if o.data.attached.count() == 0 {
            reg.remove(id);
        } else {
            reg.forget_key(id);
        }
        Ok(())
    }

    /// `SHM_LOCK` and `SHM_UNLOCK`: sets or clears `SHM_LOCKED` (the
    /// sentry never swaps, so the flag is all a lock changes). Without
    /// `CAP_IPC_LOCK` the caller must own or have made the segment, and
    /// may lock only with a non-zero `RLIMIT_MEMLOCK`.
    ///
    /// Errors: `EINVAL`, `EPERM`.
    pub fn set_locked(
        &self,
        id: i32,
        locked: bool,
        creds: &Credentials,
        memlock_limit: u64,
    ) -> Result<(), Errno> {
        let mut reg = lock(&self.registry);
        let o = reg.get(id)?;
        if !creds.has_capability(abi_linux::Capability::IPC_LOCK) {
            let euid = creds.effective_uid;
            if euid != o.perm.uid && euid != o.perm.cuid {
                return Err(Errno::EPERM);
            }
            if locked && memlock_limit == 0 {
                return Err(Errno::EPERM);
            }
        }
        if locked {
            o.perm.mode |= SHM_LOCKED;
        } else {
            o.perm.mode &= !SHM_LOCKED;
        }
        Ok(())
    }

    /// `IPC_INFO`: the limits, and the highest slot in use.
    pub fn params(&self) -> (ShmParams, u64) {
        let params = ShmParams {
            shmmax: SHMMAX,
            shmmin: SHMMIN,
            shmmni: SHMMNI,
            shmseg: SHMMNI,
            shmall: SHMALL,
            ..ShmParams::default()
        };
        (params, lock(&self.registry).max_index())
    }

    /// `SHM_INFO`: the segments' usage, and the highest slot in use.
    pub fn usage(&self) -> (ShmInfo, u64) {
        let reg = lock(&self.registry);
        let info = ShmInfo {
            used_ids: reg.len() as i32,
            shm_tot: reg.iter().map(|(_, o)| pages(o.data.size)).sum(),
            shm_rss: reg
                .iter()
                .map(|(_, o)| o.data.memory.allocated_pages())
                .sum(),
            ..ShmInfo::default()
        };
        (info, reg.max_index())
    }

    /// The segments, as `/proc/sysvipc/shm` lists them.
    pub fn list(&self) -> Vec<(i32, ShmidDs, u64)> {
        let reg = lock(&self.registry);
        reg.iter()
            .map(|(id, o)| (id, Self::ds(o), o.data.memory.allocated_pages() * PAGE_SIZE))
            .collect()
    }

    /// Called when the last attach of segment `id` went: removes it if
    /// `IPC_RMID` marked it.
    fn last_detach(registry: &Mutex<Registry<Segment>>, id: i32) {
        let mut reg = lock(registry);
        let Ok(o) = reg.get(id) else { return };
        o.data.dtime = now();
        if o.perm.mode & SHM_DEST != 0 && o.data.attached.count() == 0 {
            reg.remove(id);
        }
    }
}

/// The Mappable every attach of one segment maps: the segment's memfs
/// file, with the attaches counted.
pub struct Attached {
    inner: Arc<RegularFile>,
    /// The mapped ranges, by address space: one per attach.
    maps: Mutex<Vec<(usize, Range<u64>)>>,
    registry: Weak<Mutex<Registry<Segment>>>,
    id: AtomicI32,
}

impl std::fmt::Debug for Attached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attached")
            .field("id", &self.id)
            .field("attaches", &self.count())
            .finish_non_exhaustive()
    }
}

fn space_key(space: &Arc<dyn MappingSpace>) -> usize {
    Arc::as_ptr(space) as *const () as usize
}

impl Attached {
    /// The number of attaches (`shm_nattch`).
    pub fn count(&self) -> usize {
        lock(&self.maps).len()
    }
}

impl Mappable for Attached {
    fn add_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) -> Result<(), Errno> {
        self.inner
            .add_mapping(space, app_range.clone(), offset, writable)?;
        lock(&self.maps).push((space_key(space), app_range));
        Ok(())
    }

    fn remove_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) {
        self.inner
            .remove_mapping(space, app_range.clone(), offset, writable);
        let key = space_key(space);
        let now_empty = {
            let mut maps = lock(&self.maps);
            let mut kept = Vec::with_capacity(maps.len() + 1);
            for (k, r) in maps.drain(..) {
                if k != key || r.end <= app_range.start || r.start >= app_range.end {
                    kept.push((k, r));
                    continue;
                }
                // What the removal leaves of an attach stays attached, as
                // the VMAs a partial munmap leaves do.
                if r.start < app_range.start {
                    kept.push((k, r.start..app_range.start));
                }
                if r.end > app_range.end {
                    kept.push((k, app_range.end..r.end));
                }
            }
            *maps = kept;
            maps.is_empty()
        };
        if let Some(registry) = self.registry.upgrade() {
            let id = self.id.load(Ordering::Relaxed);
            if now_empty {
                Segments::last_detach(&registry, id);
            } else if let Ok(o) = lock(&registry).get(id) {
                o.data.dtime = now();
            }
        }
    }

    fn translate(
        &self,
        required: MappableRange,
        optional: MappableRange,
        at: AccessType,
    ) -> Result<Vec<Translation>, Errno> {
        self.inner.translate(required, optional, at)
    }

    fn invalidate_unsavable(&self) -> Result<(), Errno> {
        self.inner.invalidate_unsavable()
    }
}

/// An attach's identity: its memfs file's device and inode numbers (the
/// shared futex key and what `/proc/PID/maps` shows, where Linux shows
/// its internal mount's device and the segment's identifier); the name
/// comes with the mapping (`/SYSV<key> (deleted)`).
struct ShmIdentity {
    dev: u64,
    ino: u64,
}

impl MappingIdentity for ShmIdentity {
    fn mapped_name(&self) -> String {
        String::new()
    }

    fn device_id(&self) -> u64 {
        self.dev
    }

    fn inode_id(&self) -> u64 {
        self.ino
    }

    fn msync(&self, _: MappableRange) -> Result<(), Errno> {
        Ok(())
    }
}
