//! The memory manager: an application's virtual memory (gVisor's
//! `pkg/sentry/mm`).
//!
//! A [`MemoryManager`] owns a platform [`AddressSpace`] and describes it with
//! *VMAs* (a sorted map of non-overlapping address ranges with permissions
//! and a backing) and *present pages* (the application pages that have
//! memory behind them and are mapped into the address space). Pages are
//! allocated lazily from the platform's [`MemoryFile`] when the application
//! faults on them or the sentry copies to or from them; an access outside
//! any VMA, or one the VMA's permissions refuse, is `EFAULT` (the task turns
//! a fault into `SIGSEGV`).
//!
//! The sentry copies to and from application memory through the memory
//! file's internal mapping ([`MemoryFile::map_internal`]): no system call
//! per copy. [`io`] implements vfs-core's `IoDest`/`IoSource` over
//! application iovecs.
//!
//! File-backed mappings go through vfs-core's memmap contracts: a VMA
//! holds the file's [`Mappable`], the memory manager registers with it
//! (`add_mapping`, as a [`MappingSpace`]) and a fault asks it to
//! [`Mappable::translate`] the file offset to pages. Pages of the platform's
//! own memory file (memfs contents, see [`crate::memory`]) are mapped as
//! they are; pages of any other memory are copied into a fresh page. A
//! private mapping maps file pages read-only and copies a page on the first
//! write (copy-on-write); a shared one maps them with the VMA's
//! permissions, so writes land in the file.
//!
//! # Reference model
//!
//! Each present page holds one reference on its memory-file page, dropped
//! when the page is unmapped. Private pages are allocated for one memory
//! manager; pages of a shared anonymous mapping belong to a
//! [`SharedMemory`] object (which holds its own reference on each page), and
//! each memory manager that maps one takes a further reference; a file
//! page holds a reference taken on the file's pages. A file VMA holds its
//! [`Mappable`] and [`MappingIdentity`]; the Mappable holds the memory
//! manager's [`Active`] part (as its [`MappingSpace`]) until the mapping is
//! removed, which unmapping and dropping the memory manager do.
//! [`MemoryManager::fork`] copies the VMAs (registering the copy with each
//! file's Mappable) and shares private pages copy-on-write: each side holds
//! its own reference on a shared page and maps it read-only; the first
//! write on either side copies it and drops that side's reference.
//!
//! # Lock order
//!
//! `MemoryManager::state` → `SharedMemory::pages` and each Mappable's locks
//! → `Active::pages` → the memory file's allocator lock (inside
//! `MemoryFile`) and the address space's locks (inside `AddressSpace`).
//! A Mappable invalidates with its own lock held, so [`Active`] takes only
//! its page lock there.

pub mod io;

use std::collections::BTreeMap;
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{Errno, Result};
use platform::{Access, AddressSpace, FileRange, MemoryFile, UsageKind};
use vfs_core::memmap::{AccessType, Mappable, MappingIdentity, MappingSpace};

use crate::elf::{PAGE_SIZE, page_down, page_up};
use crate::futex::FutexKey;

/// How many pages a fault on private memory populates at most (faults are
/// expensive under ptrace; neighbours are likely to be touched next).
const FAULT_AROUND_PAGES: u64 = 16;

/// The room left above the top-down mmap area for the stack (Linux's
/// minimum gap between `mmap_base` and the top of the address space).
pub const MMAP_GAP: u64 = 128 << 20;

/// The most VMAs an address space may have (Linux's default
/// `vm.max_map_count`): each costs the sentry memory, so a program that
/// fragments its mappings gets `ENOMEM` past it, as on Linux.
pub const MAX_MAP_COUNT: usize = 65530;

/// The largest brk heap (Linux limits it by `RLIMIT_DATA`).
const MAX_BRK_SIZE: u64 = 1 << 34;

/// Where the ids of memory managers and shared-memory objects come from
/// (futex keys name them; an id is never reused).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Anonymous memory shared between mappings (`MAP_SHARED|MAP_ANONYMOUS`).
#[derive(Debug)]
pub struct SharedMemory {
    /// A unique id (shared futex keys).
    id: u64,
    mf: Arc<MemoryFile>,
    /// Offset in the object → memory-file offset of the page.
    pages: Mutex<BTreeMap<u64, u64>>,
}

impl SharedMemory {
    fn new(mf: Arc<MemoryFile>) -> Arc<Self> {
        Arc::new(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            mf,
            pages: Mutex::new(BTreeMap::new()),
        })
    }

    /// Returns the memory-file offset of the page at `offset`, allocating
    /// it, with one new reference for the caller.
    fn page_ref(&self, offset: u64) -> Result<u64> {
        let mut pages = lock(&self.pages);
        let off = match pages.get(&offset) {
            Some(&off) => off,
            None => {
                let range = self.mf.allocate(PAGE_SIZE, UsageKind::Anonymous)?;
                pages.insert(offset, range.start);
                range.start
            }
        };
        self.mf.inc_ref(FileRange::new(off, off + PAGE_SIZE))?;
        Ok(off)
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        let pages = std::mem::take(&mut *lock(&self.pages));
        for off in pages.into_values() {
            // The object holds one reference per page; failure would mean
            // the count is already broken, which nothing here can repair.
            let _ = self.mf.dec_ref(FileRange::new(off, off + PAGE_SIZE));
        }
    }
}

/// A file mapped by a VMA.
#[derive(Clone)]
pub struct FileMapping {
    /// What translates file offsets to pages.
    pub mappable: Arc<dyn Mappable>,
    /// What `/proc/PID/maps` shows and what `msync` writes back.
    pub identity: Arc<dyn MappingIdentity>,
    /// The file offset of the VMA's first page.
    pub offset: u64,
    /// `MAP_PRIVATE`: writes go to private copies of the pages.
    pub private: bool,
    /// The permissions `mprotect` may grant.
    pub max_perms: Access,
}

impl FileMapping {
    /// Whether the Mappable was told the mapping is writable (a shared
    /// mapping that may be made writable).
    fn writable(&self) -> bool {
        !self.private && self.max_perms.write
    }
}

impl std::fmt::Debug for FileMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileMapping")
            .field("name", &self.identity.mapped_name())
            .field("offset", &self.offset)
            .field("private", &self.private)
            .finish_non_exhaustive()
    }
}

/// What backs a VMA.
#[derive(Clone, Debug)]
pub enum Backing {
    /// Private anonymous memory (also ELF segments, copied in at load).
    Private,
    /// Shared anonymous memory: pages come from the object, at `offset`
    /// plus the distance from the VMA's start.
    Shared {
        /// The shared pages.
        memory: Arc<SharedMemory>,
        /// The object offset of the VMA's first page.
        offset: u64,
    },
    /// A file, through its Mappable.
    File(FileMapping),
}

/// A virtual memory area: one mapping's range, permissions and backing.
#[derive(Clone, Debug)]
pub struct Vma {
    /// The end of the range (the start is its key in the map).
    pub end: u64,
    /// The current permissions.
    pub perms: Access,
    /// The backing memory.
    pub backing: Backing,
    /// The name `/proc/self/maps` shows (`[heap]`, `[stack]`, a path).
    pub name: Option<String>,
    /// The NUMA policy `mbind` set on the range, if any.
    pub policy: Option<MemPolicy>,
}

/// A NUMA memory policy (`set_mempolicy`, `mbind`) over the sandbox's one
/// node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemPolicy {
    /// The mode (`MPOL_*`) with its mode flags.
    pub mode: u16,
    /// The nodes it uses, as a mask of the first 64.
    pub nodes: u64,
    /// The nodes as the caller gave them (reported for
    /// `MPOL_F_STATIC_NODES` and `MPOL_F_RELATIVE_NODES`).
    pub user_nodes: u64,
}

impl Vma {
    /// The backing shifted to start `delta` bytes into this VMA.
    fn backing_at(&self, delta: u64) -> Backing {
        match &self.backing {
            Backing::Private => Backing::Private,
            Backing::Shared { memory, offset } => Backing::Shared {
                memory: memory.clone(),
                offset: offset + delta,
            },
            Backing::File(f) => Backing::File(FileMapping {
                offset: f.offset + delta,
                ..f.clone()
            }),
        }
    }

    /// Whether the VMA is shared (`s` in `/proc/PID/maps`).
    pub fn is_shared(&self) -> bool {
        match &self.backing {
            Backing::Private => false,
            Backing::Shared { .. } => true,
            Backing::File(f) => !f.private,
        }
    }

    /// Whether the VMA counts as data (`RLIMIT_DATA`): private and
    /// writable, and not the stack.
    pub fn is_data(&self) -> bool {
        self.perms.write && !self.is_shared() && self.name.as_deref() != Some("[stack]")
    }

    /// The file offset of the VMA's start (0 for anonymous memory).
    pub fn file_offset(&self) -> u64 {
        match &self.backing {
            Backing::File(f) => f.offset,
            _ => 0,
        }
    }
}

/// A present page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Page {
    /// The memory-file offset of the page (one reference held).
    off: u64,
    /// The page is the file's own (or a copy of it standing in for it):
    /// an invalidation drops it, and a private mapping maps it read-only
    /// and copies it on write.
    from_file: bool,
    /// The page is shared with another memory manager since a `fork`: it
    /// is mapped read-only and the first write copies it.
    cow: bool,
}

/// The mapping-independent state of a memory manager.
#[derive(Debug, Default)]
struct State {
    /// VMAs keyed by start address; they never overlap.
    vmas: BTreeMap<u64, Vma>,
    /// The start of the heap.
    brk_start: u64,
    /// The current program break.
    brk: u64,
}

/// The pages of a memory manager that are present in its address space
/// (gVisor's `mm.activeMu` side); the Mappables of mapped files hold it as
/// their [`MappingSpace`].
pub struct Active {
    mf: Arc<MemoryFile>,
    address_space: Box<dyn AddressSpace>,
    /// Application page address → page. Each is mapped in the address
    /// space and holds one memory-file reference.
    pages: Mutex<BTreeMap<u64, Page>>,
}

impl std::fmt::Debug for Active {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Active").finish_non_exhaustive()
    }
}

impl Active {
    /// Unmaps and releases the present pages in `start..end` for which
    /// `which` holds.
    fn drop_pages(&self, start: u64, end: u64, which: impl Fn(&Page) -> bool) -> Result<()> {
        let mut pages = lock(&self.pages);
        let gone: Vec<(u64, Page)> = pages
            .range(start..end)
            .filter(|(_, p)| which(p))
            .map(|(&a, &p)| (a, p))
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        if gone.len() as u64 == (end - start) / PAGE_SIZE {
            self.address_space.unmap(start, end - start)?;
        } else {
            for &(addr, _) in &gone {
                self.address_space.unmap(addr, PAGE_SIZE)?;
            }
        }
        for (addr, page) in gone {
            pages.remove(&addr);
            self.mf
                .dec_ref(FileRange::new(page.off, page.off + PAGE_SIZE))?;
        }
        Ok(())
    }

    /// Maps `page` at `addr` with `perms` and records it; the caller's
    /// reference on the page moves to the address space. A page already
    /// present there is released.
    fn install(&self, addr: u64, page: Page, perms: Access) -> Result<()> {
        let mut pages = lock(&self.pages);
        let range = FileRange::new(page.off, page.off + PAGE_SIZE);
        self.address_space
            .map_file(addr, &self.mf, range, perms, false)?;
        if let Some(old) = pages.insert(addr, page) {
            self.mf
                .dec_ref(FileRange::new(old.off, old.off + PAGE_SIZE))?;
        }
        Ok(())
    }
}

impl MappingSpace for Active {
    fn invalidate(&self, app_range: Range<u64>, invalidate_private: bool) {
        // An error means the stub process is gone; the pages are released
        // with the memory manager then.
        let _ = self.drop_pages(app_range.start, app_range.end, |p| {
            p.from_file || invalidate_private
        });
    }
}

/// An application's address space and what is mapped in it.
pub struct MemoryManager {
    /// A unique id (private futex keys).
    id: u64,
    mf: Arc<MemoryFile>,
    active: Arc<Active>,
    min_addr: u64,
    max_addr: u64,
    state: Mutex<State>,
    /// `membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)` was called
    /// on this address space.
    membarrier_private: AtomicBool,
}

impl std::fmt::Debug for MemoryManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryManager")
            .field("min_addr", &self.min_addr)
            .field("max_addr", &self.max_addr)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update completes before the lock is released, so a panic while
    // holding it leaves consistent state.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Appends the page `addr` (memory-file offset `off`) to `runs`, extending
/// the last run when both the addresses and the offsets continue it with
/// the same permissions.
fn push_run(runs: &mut Vec<(u64, u64, u64, Access)>, addr: u64, off: u64, perms: Access) {
    if let Some(last) = runs.last_mut()
        && last.0 + last.2 == addr
        && last.1 + last.2 == off
        && last.3 == perms
    {
        last.2 += PAGE_SIZE;
        return;
    }
    runs.push((addr, off, PAGE_SIZE, perms));
}

/// Reports whether `have` permits `want` (on x86_64 a writable or
/// executable page is also readable).
fn permits(have: Access, want: Access) -> bool {
    (!want.read || have.read || have.write || have.execute)
        && (!want.write || have.write)
        && (!want.execute || have.execute)
}

/// The permissions a present page is mapped with: file pages of a private
/// mapping are read-only until copied.
fn page_perms(vma: &Vma, page: &Page) -> Access {
    match &vma.backing {
        Backing::File(f) if f.private && page.from_file => Access {
            write: false,
            ..vma.perms
        },
        _ if page.cow => Access {
            write: false,
            ..vma.perms
        },
        _ => vma.perms,
    }
}

/// vfs-core's access type for platform permissions.
fn access_type(a: Access) -> AccessType {
    AccessType::new(a.read, a.write, a.execute)
}

impl MemoryManager {
    /// Creates an empty memory manager over `address_space`, whose pages
    /// come from `mf`; applications may map `min_addr..max_addr`.
    pub fn new(
        mf: Arc<MemoryFile>,
        address_space: Box<dyn AddressSpace>,
        min_addr: u64,
        max_addr: u64,
    ) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            active: Arc::new(Active {
                mf: mf.clone(),
                address_space,
                pages: Mutex::new(BTreeMap::new()),
            }),
            mf,
            min_addr,
            max_addr,
            state: Mutex::new(State::default()),
            membarrier_private: AtomicBool::new(false),
        }
    }

    /// Records that the address space registered for private expedited
    /// memory barriers.
    pub fn register_private_membarrier(&self) {
        self.membarrier_private.store(true, Ordering::Release);
    }

    /// Whether the address space registered for private expedited memory
    /// barriers.
    pub fn private_membarrier_registered(&self) -> bool {
        self.membarrier_private.load(Ordering::Acquire)
    }

    /// Whether a VMA covers `addr`.
    pub fn is_mapped(&self, addr: u64) -> bool {
        let st = lock(&self.state);
        st.vmas
            .range(..=addr)
            .next_back()
            .is_some_and(|(_, v)| addr < v.end)
    }

    /// The memory manager's unique id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The futex key of the word at `addr` (gVisor's `mm.GetSharedFutexKey`):
    /// private (this memory manager and the address) with `private`
    /// (`FUTEX_PRIVATE_FLAG`) or in private memory; otherwise the shared
    /// object or file and the offset in it, which other memory managers
    /// mapping the same memory compute alike. `EFAULT` when nothing is
    /// mapped there.
    pub fn futex_key(&self, addr: u64, private: bool) -> Result<FutexKey> {
        if private {
            return Ok(FutexKey::Private { mm: self.id, addr });
        }
        let st = lock(&self.state);
        let (&start, vma) = st.vmas.range(..=addr).next_back().ok_or(Errno::EFAULT)?;
        if vma.end <= addr {
            return Err(Errno::EFAULT);
        }
        Ok(match &vma.backing {
            Backing::Shared { memory, offset } => FutexKey::Anonymous {
                object: memory.id,
                offset: offset + (addr - start),
            },
            Backing::File(f) if !f.private => FutexKey::File {
                dev: f.identity.device_id(),
                ino: f.identity.inode_id(),
                offset: f.offset + (addr - start),
            },
            _ => FutexKey::Private { mm: self.id, addr },
        })
    }

    /// Runs `f` on the aligned 32-bit word of application memory at
    /// `addr` as an atomic, populating its page for reading (or writing
    /// when `write`, breaking copy-on-write); the futex operations' atomic
    /// access. `EINVAL` for a misaligned address, `EFAULT` when the word
    /// is not accessible.
    pub fn atomic_u32<R>(
        &self,
        addr: u64,
        write: bool,
        f: impl FnOnce(&AtomicU32) -> R,
    ) -> Result<R> {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        let want = if write {
            Access::READ_WRITE
        } else {
            Access::READ
        };
        let page = page_down(addr);
        let off = {
            let mut st = lock(&self.state);
            let off = self.populate(&mut st, page, want, false)?;
            // A reference of its own keeps the page while `f` runs.
            self.mf.inc_ref(FileRange::new(off, off + PAGE_SIZE))?;
            off
        };
        let range = FileRange::new(off, off + PAGE_SIZE);
        let result = self.mf.map_internal(range).map(|map| {
            // SAFETY: `addr` is 4-byte aligned, so the word lies within
            // the page, which stays mapped in the sentry (the memory file's
            // internal mapping lives as long as the file) and allocated
            // (the reference taken above) while `f` runs. Application
            // threads and other processes access the word concurrently;
            // every sentry access to it goes through this atomic.
            let word =
                unsafe { AtomicU32::from_ptr(map.as_ptr().add((addr - page) as usize).cast()) };
            f(word)
        });
        self.mf.dec_ref(range)?;
        result
    }

    /// The memory manager as the mapping space file Mappables invalidate.
    fn space(&self) -> Arc<dyn MappingSpace> {
        self.active.clone()
    }

    /// The platform address space, for [`platform::Context::switch`].
    pub fn address_space(&self) -> &dyn AddressSpace {
        &*self.active.address_space
    }

    /// The lowest mappable address.
    pub fn min_addr(&self) -> u64 {
        self.min_addr
    }

    /// The address above the highest mappable one.
    pub fn max_addr(&self) -> u64 {
        self.max_addr
    }

    /// Where the top-down search for free space starts: below the stack.
    fn mmap_top(&self) -> u64 {
        self.max_addr.saturating_sub(MMAP_GAP).max(self.min_addr)
    }

    fn check_range(&self, addr: u64, len: u64) -> Result<u64> {
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(Errno::EINVAL);
        }
        let end = page_up(len)
            .and_then(|l| addr.checked_add(l))
            .ok_or(Errno::ENOMEM)?;
        if addr < self.min_addr || end > self.max_addr {
            return Err(Errno::ENOMEM);
        }
        Ok(end)
    }

    /// Finds a free range of `len` bytes, the highest below `below` (Linux's
    /// top-down mmap layout).
    fn find_free(st: &State, len: u64, below: u64, min_addr: u64) -> Result<u64> {
        let mut top = below;
        for (&start, vma) in st.vmas.range(..below).rev() {
            if vma.end <= top && top - vma.end >= len {
                return Ok(top - len);
            }
            top = top.min(start);
        }
        if top >= min_addr && top - min_addr >= len {
            return Ok(top - len);
        }
        Err(Errno::ENOMEM)
    }

    /// Chooses where a new mapping of `len` (page-aligned) bytes goes: at
    /// `addr` exactly with `fixed`, else at `addr` if free, else wherever
    /// fits.
    fn place(&self, st: &State, addr: u64, len: u64, fixed: bool) -> Result<u64> {
        if fixed {
            self.check_range(addr, len)?;
            return Ok(addr);
        }
        let hint = page_down(addr);
        let hint_ok = hint >= self.min_addr
            && hint
                .checked_add(len)
                .is_some_and(|e| e <= self.max_addr && Self::is_free(st, hint, e));
        if hint != 0 && hint_ok {
            Ok(hint)
        } else {
            Self::find_free(st, len, self.mmap_top(), self.min_addr)
        }
    }

    /// Maps `len` bytes of anonymous memory (`mmap(2)`), at `addr` exactly
    /// with `fixed`, else at `addr` if free, else wherever fits; returns the
    /// address. `EINVAL` for a zero length or a misaligned fixed address,
    /// `ENOMEM` if nothing fits.
    pub fn map_anonymous(
        &self,
        addr: u64,
        len: u64,
        perms: Access,
        shared: bool,
        fixed: bool,
        name: Option<String>,
    ) -> Result<u64> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        let mut st = lock(&self.state);
        let start = self.place(&st, addr, len, fixed)?;
        let end = start + len;
        Self::room_for(&st, 1)?;
        self.unmap_locked(&mut st, start, end)?;
        let backing = if shared {
            Backing::Shared {
                memory: SharedMemory::new(self.mf.clone()),
                offset: 0,
            }
        } else {
            Backing::Private
        };
        st.vmas.insert(
            start,
            Vma {
                end,
                perms,
                backing,
                name,
                policy: None,
            },
        );
        Ok(start)
    }

    /// Maps `len` bytes of a file (`mmap(2)` of a file the description
    /// configured into `file`), placed as [`Self::map_anonymous`]; the
    /// Mappable learns of the mapping. Pages are translated on fault.
    ///
    /// Errors: `EINVAL` for a zero length, a misaligned fixed address or
    /// file offset; `EACCES` if `perms` exceed `file.max_perms`; `ENOMEM`
    /// if nothing fits; the Mappable's `add_mapping` errors.
    pub fn map_file(
        &self,
        addr: u64,
        len: u64,
        perms: Access,
        fixed: bool,
        file: FileMapping,
        name: Option<String>,
    ) -> Result<u64> {
        if len == 0 || !file.offset.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        if !permits(file.max_perms, perms) {
            return Err(Errno::EACCES);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        file.offset.checked_add(len).ok_or(Errno::EOVERFLOW)?;
        let mut st = lock(&self.state);
        let start = self.place(&st, addr, len, fixed)?;
        let end = start + len;
        Self::room_for(&st, 1)?;
        self.unmap_locked(&mut st, start, end)?;
        file.mappable
            .add_mapping(&self.space(), start..end, file.offset, file.writable())?;
        st.vmas.insert(
            start,
            Vma {
                end,
                perms,
                backing: Backing::File(file),
                name,
                policy: None,
            },
        );
        Ok(start)
    }

    fn is_free(st: &State, start: u64, end: u64) -> bool {
        Self::overlapping(st, start, end).is_empty()
    }

    /// The start addresses of the VMAs overlapping `start..end`.
    fn overlapping(st: &State, start: u64, end: u64) -> Vec<u64> {
        let mut keys = Vec::new();
        if let Some((&k, v)) = st.vmas.range(..start).next_back()
            && v.end > start
        {
            keys.push(k);
        }
        keys.extend(st.vmas.range(start..end).map(|(&k, _)| k));
        keys
    }

    /// `ENOMEM` if `more` VMAs would pass [`MAX_MAP_COUNT`].
    fn room_for(st: &State, more: usize) -> Result<()> {
        if st.vmas.len() + more > MAX_MAP_COUNT {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// Splits the VMA containing `addr` (if any) so that a VMA starts there.
    fn split_at(st: &mut State, addr: u64) {
        let Some((&start, vma)) = st.vmas.range(..addr).next_back() else {
            return;
        };
        if vma.end <= addr {
            return;
        }
        let mut tail = vma.clone();
        tail.backing = vma.backing_at(addr - start);
        if let Some(v) = st.vmas.get_mut(&start) {
            v.end = addr;
        }
        st.vmas.insert(addr, tail);
    }

    /// Removes the VMAs in `start..end` (telling file Mappables) and their
    /// present pages.
    fn unmap_locked(&self, st: &mut State, start: u64, end: u64) -> Result<()> {
        // A hole inside one VMA leaves two where there was one.
        if st
            .vmas
            .range(..start)
            .next_back()
            .is_some_and(|(_, v)| v.end > end)
        {
            Self::room_for(st, 1)?;
        }
        Self::split_at(st, start);
        Self::split_at(st, end);
        let keys: Vec<u64> = st.vmas.range(start..end).map(|(&k, _)| k).collect();
        for k in keys {
            if let Some(vma) = st.vmas.remove(&k)
                && let Backing::File(f) = &vma.backing
            {
                f.mappable
                    .remove_mapping(&self.space(), k..vma.end, f.offset, f.writable());
            }
        }
        self.active.drop_pages(start, end, |_| true)
    }

    /// `munmap(2)`.
    pub fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        let end = self.check_range(addr, len).map_err(|_| Errno::EINVAL)?;
        let mut st = lock(&self.state);
        self.unmap_locked(&mut st, addr, end)
    }

    /// Maps the present pages of `vmas` again with the permissions their
    /// VMA gives them now.
    fn remap_present(&self, st: &State, start: u64, end: u64) -> Result<()> {
        let pages = lock(&self.active.pages);
        for (&vstart, vma) in st.vmas.range(start..end) {
            for (&addr, page) in pages.range(vstart..vma.end) {
                self.active.address_space.map_file(
                    addr,
                    &self.mf,
                    FileRange::new(page.off, page.off + PAGE_SIZE),
                    page_perms(vma, page),
                    false,
                )?;
            }
        }
        Ok(())
    }

    /// `mprotect(2)`: `ENOMEM` if part of the range is not mapped, `EACCES`
    /// if a file mapping may not get `perms` (a shared mapping of a file
    /// not open for writing made writable).
    pub fn protect(&self, addr: u64, len: u64, perms: Access) -> Result<()> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        let end = self.check_range(addr, len)?;
        let mut st = lock(&self.state);
        let mut cursor = addr;
        for k in Self::overlapping(&st, addr, end) {
            let vma = &st.vmas[&k];
            if k > cursor || vma.end <= cursor {
                return Err(Errno::ENOMEM);
            }
            if let Backing::File(f) = &vma.backing
                && !permits(f.max_perms, perms)
            {
                return Err(Errno::EACCES);
            }
            cursor = vma.end;
        }
        if cursor < end {
            return Err(Errno::ENOMEM);
        }
        // Each end inside a VMA splits it.
        let inside = |a: u64| {
            st.vmas
                .range(..a)
                .next_back()
                .is_some_and(|(&k, v)| k < a && v.end > a)
        };
        Self::room_for(&st, usize::from(inside(addr)) + usize::from(inside(end)))?;
        Self::split_at(&mut st, addr);
        Self::split_at(&mut st, end);
        for (_, vma) in st.vmas.range_mut(addr..end) {
            vma.perms = perms;
        }
        self.remap_present(&st, addr, end)
    }

    /// `mbind(2)`'s change: `policy` (none for `MPOL_DEFAULT`) on the
    /// VMAs of `start..end` (page-aligned), split at its ends. `EFAULT`,
    /// with nothing changed, when part of the range is unmapped.
    pub fn set_policy(&self, start: u64, end: u64, policy: Option<MemPolicy>) -> Result<()> {
        let mut st = lock(&self.state);
        if !Self::covered(&st, start, end) {
            return Err(Errno::EFAULT);
        }
        Self::split_at(&mut st, start);
        Self::split_at(&mut st, end);
        for (_, vma) in st.vmas.range_mut(start..end) {
            vma.policy = policy;
        }
        Ok(())
    }

    /// The policy `mbind` set at `addr`, if any; `EFAULT` when nothing is
    /// mapped there.
    pub fn policy_at(&self, addr: u64) -> Result<Option<MemPolicy>> {
        let st = lock(&self.state);
        match st.vmas.range(..=addr).next_back() {
            Some((_, v)) if addr < v.end => Ok(v.policy),
            _ => Err(Errno::EFAULT),
        }
    }

    /// `madvise(MADV_DONTNEED)`: private pages read as zeros (or the
    /// file's contents) afterwards; shared pages are refetched from their
    /// object.
    pub fn discard(&self, addr: u64, len: u64) -> Result<()> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        let end = self.check_range(addr, len)?;
        let _st = lock(&self.state);
        self.active.drop_pages(addr, end, |_| true)
    }

    /// `msync(2)`: writes back the shared file mappings in the range when
    /// `sync`. `EINVAL` for a misaligned address, `ENOMEM` if part of the
    /// range is not mapped.
    pub fn sync(&self, addr: u64, len: u64, sync: bool) -> Result<()> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        let mut work = Vec::new();
        let mut cursor = addr;
        let mut hole = false;
        {
            let st = lock(&self.state);
            for k in Self::overlapping(&st, addr, end) {
                let vma = &st.vmas[&k];
                hole |= k > cursor;
                if let Backing::File(f) = &vma.backing
                    && !f.private
                    && sync
                {
                    let from = k.max(addr);
                    let to = vma.end.min(end);
                    let file_start = f.offset + (from - k);
                    work.push((f.identity.clone(), file_start..file_start + (to - from)));
                }
                cursor = vma.end;
            }
        }
        for (identity, range) in work {
            identity.msync(range)?;
        }
        if hole || cursor < end {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// `mremap(2)` without `MREMAP_FIXED`: shrinks in place, grows in place
    /// if the following range is free, else moves when `may_move`.
    pub fn remap(&self, old: u64, old_len: u64, new_len: u64, may_move: bool) -> Result<u64> {
        if !old.is_multiple_of(PAGE_SIZE) || new_len == 0 {
            return Err(Errno::EINVAL);
        }
        let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
        let new_len = page_up(new_len).ok_or(Errno::ENOMEM)?;
        let old_end = old.checked_add(old_len).ok_or(Errno::EINVAL)?;
        let mut st = lock(&self.state);
        let (&vstart, vma) = st.vmas.range(..=old).next_back().ok_or(Errno::EFAULT)?;
        if vma.end < old_end || vma.end <= old || old_len == 0 {
            return Err(Errno::EFAULT);
        }
        let vma = vma.clone();
        if new_len <= old_len {
            self.unmap_locked(&mut st, old + new_len, old_end)?;
            return Ok(old);
        }
        let new_end = old.checked_add(new_len).ok_or(Errno::ENOMEM)?;
        if vma.end == old_end && new_end <= self.max_addr && Self::is_free(&st, old_end, new_end) {
            if let Backing::File(f) = &vma.backing {
                f.mappable.add_mapping(
                    &self.space(),
                    old_end..new_end,
                    f.offset + (old_end - vstart),
                    f.writable(),
                )?;
            }
            if let Some(v) = st.vmas.get_mut(&vstart) {
                v.end = new_end;
            }
            return Ok(old);
        }
        if !may_move {
            return Err(Errno::ENOMEM);
        }
        let dest = Self::find_free(&st, new_len, self.mmap_top(), self.min_addr)?;
        // Moving part of a VMA may leave pieces on both sides.
        Self::room_for(&st, 2)?;
        Self::split_at(&mut st, old);
        Self::split_at(&mut st, old_end);
        let mut moved_vma = st.vmas.remove(&old).ok_or(Errno::EFAULT)?;
        if let Backing::File(f) = &moved_vma.backing {
            let space = self.space();
            if let Err(e) = f.mappable.copy_mapping(
                &space,
                old..old_end,
                dest..dest + new_len,
                f.offset,
                f.writable(),
            ) {
                st.vmas.insert(old, moved_vma);
                return Err(e);
            }
            f.mappable
                .remove_mapping(&space, old..old_end, f.offset, f.writable());
        }
        {
            let mut pages = lock(&self.active.pages);
            let moved: Vec<(u64, Page)> =
                pages.range(old..old_end).map(|(&a, &p)| (a, p)).collect();
            for &(addr, page) in &moved {
                pages.remove(&addr);
                let to = dest + (addr - old);
                self.active.address_space.map_file(
                    to,
                    &self.mf,
                    FileRange::new(page.off, page.off + PAGE_SIZE),
                    page_perms(&moved_vma, &page),
                    false,
                )?;
                pages.insert(to, page);
            }
            if !moved.is_empty() {
                self.active.address_space.unmap(old, old_len)?;
            }
        }
        moved_vma.end = dest + new_len;
        st.vmas.insert(dest, moved_vma);
        Ok(dest)
    }

    /// A copy of this memory manager over `address_space` for a new
    /// process (`fork(2)`, gVisor's `MemoryManager.Fork`): the same VMAs
    /// and heap; shared mappings stay shared (their pages come back from
    /// the shared object or file on the child's faults); private pages are
    /// shared copy-on-write: both sides map them read-only and the first
    /// write on either side copies the page.
    ///
    /// Errors: a Mappable's `add_mapping` errors and the address space's
    /// (the partly built copy is dropped, releasing what it took).
    pub fn fork(&self, address_space: Box<dyn AddressSpace>) -> Result<MemoryManager> {
        let child =
            MemoryManager::new(self.mf.clone(), address_space, self.min_addr, self.max_addr);
        let st = lock(&self.state);
        {
            let mut cst = lock(&child.state);
            cst.brk_start = st.brk_start;
            cst.brk = st.brk;
            for (&start, vma) in &st.vmas {
                if let Backing::File(f) = &vma.backing {
                    f.mappable.add_mapping(
                        &child.space(),
                        start..vma.end,
                        f.offset,
                        f.writable(),
                    )?;
                }
                cst.vmas.insert(start, vma.clone());
            }
        }
        let mut pages = lock(&self.active.pages);
        let mut child_pages = lock(&child.active.pages);
        // Runs of (address, memory-file offset, length, permissions) to map
        // in the child, and runs of the parent's pages to map read-only.
        let mut child_runs: Vec<(u64, u64, u64, Access)> = Vec::new();
        let mut parent_runs: Vec<(u64, u64, u64, Access)> = Vec::new();
        for (&vstart, vma) in &st.vmas {
            let private = match &vma.backing {
                Backing::Private => true,
                Backing::File(f) => f.private,
                Backing::Shared { .. } => false,
            };
            if !private {
                continue;
            }
            for (&addr, page) in pages.range_mut(vstart..vma.end) {
                if !page.from_file && !page.cow {
                    page.cow = true;
                    if vma.perms.write {
                        push_run(&mut parent_runs, addr, page.off, page_perms(vma, page));
                    }
                }
                self.mf
                    .inc_ref(FileRange::new(page.off, page.off + PAGE_SIZE))?;
                child_pages.insert(addr, *page);
                push_run(&mut child_runs, addr, page.off, page_perms(vma, page));
            }
        }
        for (addr, off, len, perms) in parent_runs {
            self.active.address_space.map_file(
                addr,
                &self.mf,
                FileRange::new(off, off + len),
                perms,
                false,
            )?;
        }
        for (addr, off, len, perms) in child_runs {
            child.active.address_space.map_file(
                addr,
                &self.mf,
                FileRange::new(off, off + len),
                perms,
                false,
            )?;
        }
        drop(child_pages);
        Ok(child)
    }

    /// Sets up the heap to start at `start` (after loading an executable).
    pub fn set_brk_start(&self, start: u64) {
        let mut st = lock(&self.state);
        st.brk_start = start;
        st.brk = start;
    }

    /// `brk(2)`: moves the program break to `addr` if possible and returns
    /// the (new or unchanged) break.
    pub fn brk(&self, addr: u64) -> u64 {
        let mut st = lock(&self.state);
        let (start, cur) = (st.brk_start, st.brk);
        if addr < start || addr - start > MAX_BRK_SIZE {
            return cur;
        }
        let (Some(old_top), Some(new_top)) = (page_up(cur), page_up(addr)) else {
            return cur;
        };
        if new_top > old_top {
            if new_top > self.max_addr || !Self::is_free(&st, old_top, new_top) {
                return cur;
            }
            // Extend the heap VMA when it ends at the old top, else start
            // one (if the address space may have another).
            let room = Self::room_for(&st, 1).is_ok();
            let heap = st
                .vmas
                .range_mut(..old_top)
                .next_back()
                .filter(|(_, v)| v.end == old_top && v.name.as_deref() == Some("[heap]"));
            match heap {
                Some((_, v)) => v.end = new_top,
                None if !room => return cur,
                None => {
                    st.vmas.insert(
                        old_top,
                        Vma {
                            end: new_top,
                            perms: Access::READ_WRITE,
                            backing: Backing::Private,
                            name: Some("[heap]".into()),
                            policy: None,
                        },
                    );
                }
            }
        } else if new_top < old_top && self.unmap_locked(&mut st, new_top, old_top).is_err() {
            return cur;
        }
        st.brk = addr;
        addr
    }

    /// Replaces the file page `page` at `addr` of a private mapping by a
    /// private copy mapped with the VMA's permissions; returns the copy's
    /// memory-file offset.
    fn copy_on_write(&self, vma: &Vma, addr: u64, page: Page) -> Result<u64> {
        let copy = self.mf.allocate(PAGE_SIZE, UsageKind::Anonymous)?;
        let copied = self
            .mf
            .map_internal(FileRange::new(page.off, page.off + PAGE_SIZE))
            .and_then(|src| Ok((src, self.mf.map_internal(copy)?)))
            .map(|(src, dst)| {
                // SAFETY: both are whole pages of the memory file's
                // mapping, distinct allocations (the copy is new), each
                // referenced by this memory manager.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        src.as_ptr().cast_const(),
                        dst.as_ptr(),
                        PAGE_SIZE as usize,
                    )
                }
            });
        let page = Page {
            off: copy.start,
            from_file: false,
            cow: false,
        };
        if let Err(e) = copied.and_then(|()| self.active.install(addr, page, vma.perms)) {
            self.mf.dec_ref(copy)?;
            return Err(e);
        }
        Ok(copy.start)
    }

    /// Translates the file page at `page` of the file VMA `vstart..vma.end`
    /// and maps it, with up to [`FAULT_AROUND_PAGES`] following pages that
    /// are not present; returns the memory-file offset of `page`. Pages of
    /// another memory than the platform's are copied into a fresh page.
    /// `EFAULT` past the end of the file.
    fn fault_file(&self, vstart: u64, vma: &Vma, file: &FileMapping, page: u64) -> Result<u64> {
        let foff = file.offset + (page - vstart);
        let window = FAULT_AROUND_PAGES * PAGE_SIZE;
        let mut app_end = (page - page % window + window).min(vma.end);
        if let Some((&next, _)) = lock(&self.active.pages).range(page + 1..app_end).next() {
            app_end = next;
        }
        let optional = foff..foff + (app_end - page);
        let at = if file.private {
            AccessType::READ
        } else {
            access_type(vma.perms)
        };
        let translations = file
            .mappable
            .translate(foff..foff + PAGE_SIZE, optional.clone(), at)?;
        let ours = self.mf.fd().as_raw_fd();
        let mut first = None;
        for t in translations {
            let mut src = t.source.start.max(optional.start);
            while src < t.source.end.min(optional.end) {
                let addr = page + (src - foff);
                let file_off = t.offset + (src - t.source.start);
                let off = if t.file.host_fd() == Some(ours) {
                    self.mf
                        .inc_ref(FileRange::new(file_off, file_off + PAGE_SIZE))?;
                    file_off
                } else {
                    self.copy_foreign_page(&*t.file, file_off)?
                };
                let p = Page {
                    off,
                    from_file: true,
                    cow: false,
                };
                if let Err(e) = self.active.install(addr, p, page_perms(vma, &p)) {
                    self.mf.dec_ref(FileRange::new(off, off + PAGE_SIZE))?;
                    return Err(e);
                }
                if addr == page {
                    first = Some(off);
                }
                src += PAGE_SIZE;
            }
        }
        first.ok_or(Errno::EFAULT)
    }

    /// Copies the page at `offset` of `file` (memory the platform cannot
    /// map) into a new page; returns its offset, with one reference.
    fn copy_foreign_page(&self, file: &dyn vfs_core::memmap::File, offset: u64) -> Result<u64> {
        let range = self.mf.allocate(PAGE_SIZE, UsageKind::PageCache)?;
        let copied = self.mf.map_internal(range).and_then(|map| {
            // SAFETY: a whole page of the memory file's mapping, just
            // allocated: nothing else refers to it.
            let dst = unsafe { std::slice::from_raw_parts_mut(map.as_ptr(), PAGE_SIZE as usize) };
            file.read_at(offset, dst)
        });
        match copied {
            Ok(_) => Ok(range.start),
            Err(e) => {
                self.mf.dec_ref(range)?;
                Err(e)
            }
        }
    }

    /// Makes the page at `page` present, checking `want` against the VMA
    /// unless `force`; populates up to [`FAULT_AROUND_PAGES`] pages around
    /// it; a write to a private file page copies it. Returns the
    /// memory-file offset of `page`.
    fn populate(&self, st: &mut State, page: u64, want: Access, force: bool) -> Result<u64> {
        let (&vstart, vma) = st.vmas.range(..=page).next_back().ok_or(Errno::EFAULT)?;
        if vma.end <= page || (!force && !permits(vma.perms, want)) {
            return Err(Errno::EFAULT);
        }
        let present = lock(&self.active.pages).get(&page).copied();
        match (&vma.backing, present) {
            (Backing::File(f), Some(p)) if f.private && p.from_file && want.write => {
                self.copy_on_write(vma, page, p)
            }
            (_, Some(p)) if p.cow && want.write => self.copy_on_write(vma, page, p),
            (_, Some(p)) => Ok(p.off),
            (Backing::File(f), None) => {
                let off = self.fault_file(vstart, vma, f, page)?;
                if f.private && want.write {
                    let p = Page {
                        off,
                        from_file: true,
                        cow: false,
                    };
                    return self.copy_on_write(vma, page, p);
                }
                Ok(off)
            }
            (Backing::Shared { memory, offset }, None) => {
                let off = memory.page_ref(offset + (page - vstart))?;
                let p = Page {
                    off,
                    from_file: false,
                    cow: false,
                };
                if let Err(e) = self.active.install(page, p, vma.perms) {
                    self.mf.dec_ref(FileRange::new(off, off + PAGE_SIZE))?;
                    return Err(e);
                }
                Ok(off)
            }
            (Backing::Private, None) => {
                let mut pages = lock(&self.active.pages);
                let window = FAULT_AROUND_PAGES * PAGE_SIZE;
                let mut end = (page - page % window + window).min(vma.end);
                if let Some((&next, _)) = pages.range(page..end).next() {
                    end = next;
                }
                let range = self.mf.allocate(end - page, UsageKind::Anonymous)?;
                if let Err(e) = self
                    .active
                    .address_space
                    .map_file(page, &self.mf, range, vma.perms, false)
                {
                    self.mf.dec_ref(range)?;
                    return Err(e);
                }
                for (i, addr) in (page..end).step_by(PAGE_SIZE as usize).enumerate() {
                    let p = Page {
                        off: range.start + i as u64 * PAGE_SIZE,
                        from_file: false,
                        cow: false,
                    };
                    pages.insert(addr, p);
                }
                Ok(range.start)
            }
        }
    }

    /// Serves an application page fault at `addr`: `Ok` when the page is
    /// now mapped, `EFAULT` where Linux raises `SIGSEGV`.
    pub fn handle_fault(&self, addr: u64, access: Access) -> Result<()> {
        let page = page_down(addr);
        let mut st = lock(&self.state);
        let present = lock(&self.active.pages).get(&page).copied();
        let Some(p) = present else {
            return self.populate(&mut st, page, access, false).map(drop);
        };
        // Mapped already: a write to a private file page, or an access the
        // platform reported differently from what it was (the ptrace
        // backend reports some writes as reads).
        let (_, vma) = st.vmas.range(..=page).next_back().ok_or(Errno::EFAULT)?;
        if vma.end <= page || !permits(vma.perms, access) {
            return Err(Errno::EFAULT);
        }
        let private_file = matches!(&vma.backing, Backing::File(f) if f.private && p.from_file);
        if (private_file || p.cow) && vma.perms.write {
            return self.copy_on_write(vma, page, p).map(drop);
        }
        self.active.address_space.map_file(
            page,
            &self.mf,
            FileRange::new(p.off, p.off + PAGE_SIZE),
            page_perms(vma, &p),
            false,
        )
    }

    /// Runs `f` on each page-sized piece of `addr..addr + len` as a pointer
    /// into the sentry's mapping of its memory plus a length, in order.
    /// Stops at the first page that is unmapped or lacks `want` (unless
    /// `force`); returns how many bytes were visited, or `EFAULT` if none.
    fn for_each_block(
        &self,
        addr: u64,
        len: usize,
        want: Access,
        force: bool,
        f: &mut dyn FnMut(*mut u8, usize) -> Result<usize>,
    ) -> Result<usize> {
        let mut done = 0usize;
        while done < len {
            let cur = match addr.checked_add(done as u64) {
                Some(c) => c,
                None => break,
            };
            let page = page_down(cur);
            // The page is resolved with the lock held, and used without
            // it: `f` may take filesystem locks, which a fault's
            // `translate` takes after this lock.
            // A reference of its own, taken with the lock held, keeps the
            // page alive while `f` runs, even if another thread unmaps it
            // or a file truncation invalidates the mapping meanwhile.
            let range = {
                let mut st = lock(&self.state);
                let off = match self.populate(&mut st, page, want, force) {
                    Ok(off) => off,
                    Err(e) if done == 0 => return Err(e),
                    Err(_) => break,
                };
                let range = FileRange::new(off, off + PAGE_SIZE);
                self.mf.inc_ref(range)?;
                range
            };
            let moved = self.visit_page(range, cur - page, len - done, f);
            self.mf.dec_ref(range)?;
            let (moved, n) = match moved {
                Ok(r) => r,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            done += moved;
            if moved < n {
                break;
            }
        }
        Ok(done)
    }

    /// Runs `f` on the bytes of the page `range` from `in_page`, at most
    /// `left`; returns what `f` consumed and what it was offered.
    fn visit_page(
        &self,
        range: FileRange,
        in_page: u64,
        left: usize,
        f: &mut dyn FnMut(*mut u8, usize) -> Result<usize>,
    ) -> Result<(usize, usize)> {
        let map = self.mf.map_internal(range)?;
        let n = ((PAGE_SIZE - in_page) as usize).min(left);
        // SAFETY: `in_page + n <= PAGE_SIZE`, the length of `map`.
        let ptr = unsafe { map.as_ptr().add(in_page as usize) };
        Ok((f(ptr, n)?, n))
    }

    /// Copies `buf` to application memory at `addr`; returns how many
    /// bytes were copied (short at a fault), `EFAULT` if none.
    pub fn copy_out(&self, addr: u64, buf: &[u8]) -> Result<usize> {
        self.copy_out_inner(addr, buf, false)
    }

    /// As [`Self::copy_out`], ignoring the VMA's permissions (the loader
    /// filling read-only segments).
    pub fn copy_out_force(&self, addr: u64, buf: &[u8]) -> Result<usize> {
        self.copy_out_inner(addr, buf, true)
    }

    fn copy_out_inner(&self, addr: u64, buf: &[u8], force: bool) -> Result<usize> {
        let mut pos = 0;
        self.for_each_block(addr, buf.len(), Access::WRITE, force, &mut |ptr, n| {
            // SAFETY: `ptr..ptr + n` lies in one present page of the memory
            // file mapping, which lives as long as the memory file; `buf`
            // is sentry memory and cannot overlap it.
            unsafe { std::ptr::copy_nonoverlapping(buf[pos..pos + n].as_ptr(), ptr, n) };
            pos += n;
            Ok(n)
        })
    }

    /// Copies application memory at `addr` into `buf`; returns how many
    /// bytes were copied (short at a fault), `EFAULT` if none.
    pub fn copy_in(&self, addr: u64, buf: &mut [u8]) -> Result<usize> {
        let mut pos = 0;
        self.for_each_block(addr, buf.len(), Access::READ, false, &mut |ptr, n| {
            // SAFETY: as in `copy_out_inner`, with the copy reversed.
            unsafe { std::ptr::copy_nonoverlapping(ptr, buf[pos..pos + n].as_mut_ptr(), n) };
            pos += n;
            Ok(n)
        })
    }

    /// Copies exactly `buf.len()` bytes in; `EFAULT` if any is missing.
    pub fn copy_in_exact(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        match self.copy_in(addr, buf)? {
            n if n == buf.len() => Ok(()),
            _ => Err(Errno::EFAULT),
        }
    }

    /// Reads a `T` (an ABI structure) from application memory at `addr`
    /// with a raw copy; `EFAULT` if any byte is missing.
    pub fn read_obj<T: zerocopy::FromBytes + zerocopy::IntoBytes>(&self, addr: u64) -> Result<T> {
        let mut obj = T::new_zeroed();
        self.copy_in_exact(addr, obj.as_mut_bytes())?;
        Ok(obj)
    }

    /// Writes `obj` (an ABI structure) to application memory at `addr`
    /// with a raw copy; `EFAULT` if it does not all fit.
    pub fn write_obj<T: zerocopy::IntoBytes + zerocopy::Immutable>(
        &self,
        addr: u64,
        obj: &T,
    ) -> Result<()> {
        self.copy_out_exact(addr, obj.as_bytes())
    }

    /// Copies exactly `buf` out; `EFAULT` if it does not all fit.
    pub fn copy_out_exact(&self, addr: u64, buf: &[u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        match self.copy_out(addr, buf)? {
            n if n == buf.len() => Ok(()),
            _ => Err(Errno::EFAULT),
        }
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the
    /// NUL); `ENAMETOOLONG` if longer, `EFAULT` if unreadable.
    pub fn copy_in_string(&self, addr: u64, max: usize) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut found = false;
        self.for_each_block(addr, max + 1, Access::READ, false, &mut |ptr, n| {
            let mut chunk = vec![0u8; n];
            // SAFETY: as in `copy_in`.
            unsafe { std::ptr::copy_nonoverlapping(ptr, chunk.as_mut_ptr(), n) };
            match chunk.iter().position(|&b| b == 0) {
                Some(i) => {
                    out.extend_from_slice(&chunk[..i]);
                    found = true;
                    Ok(0)
                }
                None => {
                    out.extend_from_slice(&chunk);
                    Ok(n)
                }
            }
        })?;
        match found {
            true => Ok(out),
            false if out.len() > max => Err(Errno::ENAMETOOLONG),
            false => Err(Errno::EFAULT),
        }
    }

    /// The bytes of address space mapped (`VmSize`).
    pub fn mapped_bytes(&self) -> u64 {
        lock(&self.state)
            .vmas
            .iter()
            .map(|(&start, v)| v.end - start)
            .sum()
    }

    /// The bytes of private writable mappings other than the stack
    /// (Linux's `data_vm`, which `RLIMIT_DATA` bounds).
    pub fn data_bytes(&self) -> u64 {
        lock(&self.state)
            .vmas
            .iter()
            .filter(|(_, v)| v.is_data())
            .map(|(&start, v)| v.end - start)
            .sum()
    }

    /// Whether every byte of `start..end` is mapped (by one or more
    /// adjacent mappings): what `mlock` and `munlock` require.
    pub fn is_range_mapped(&self, start: u64, end: u64) -> bool {
        Self::covered(&lock(&self.state), start, end)
    }

    /// Whether the VMAs cover every byte of `start..end`.
    fn covered(st: &State, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match st.vmas.range(..=at).next_back() {
                Some((_, v)) if at < v.end => at = v.end,
                _ => return false,
            }
        }
        true
    }

    /// `mincore`'s answer for the pages of `start..end` (page-aligned):
    /// one byte per page, 1 when it is resident. Pages present in this
    /// address space are, and so are file pages (a file's pages are held
    /// by its own cache, which the sentry never writes to swap); a private
    /// or shared anonymous page not yet populated here (by a fault on it or
    /// on a neighbour, see [`FAULT_AROUND_PAGES`]) is not. `ENOMEM` when
    /// part of the range is unmapped.
    pub fn residency(&self, start: u64, end: u64) -> Result<Vec<u8>> {
        let st = lock(&self.state);
        let pages = lock(&self.active.pages);
        let mut out = Vec::with_capacity(((end - start) / PAGE_SIZE) as usize);
        let mut at = start;
        while at < end {
            let Some((_, v)) = st.vmas.range(..=at).next_back().filter(|(_, v)| at < v.end) else {
                return Err(Errno::ENOMEM);
            };
            let file = matches!(v.backing, Backing::File(_));
            while at < v.end.min(end) {
                out.push(u8::from(file || pages.contains_key(&at)));
                at += PAGE_SIZE;
            }
        }
        Ok(out)
    }

    /// The VMAs, for `/proc/self/maps` and tests: `(start, vma)`.
    pub fn vmas(&self) -> Vec<(u64, Vma)> {
        lock(&self.state)
            .vmas
            .iter()
            .map(|(&k, v)| (k, v.clone()))
            .collect()
    }

    /// The addresses of the pages of `start..end` present in this address
    /// space, in order (as many as the memory really holds, whatever the
    /// range's size).
    pub fn present_in(&self, start: u64, end: u64) -> Vec<u64> {
        lock(&self.active.pages)
            .range(start..end)
            .map(|(&addr, _)| addr)
            .collect()
    }

    /// The pages of `start..end` present in this address space, by kind:
    /// `[anonymous, anonymous shared since a fork, file, file shared
    /// since a fork]` (what `/proc/PID/smaps` reports).
    pub fn present_kinds(&self, start: u64, end: u64) -> [u64; 4] {
        let mut kinds = [0u64; 4];
        for page in lock(&self.active.pages).range(start..end).map(|(_, p)| p) {
            kinds[usize::from(page.from_file) * 2 + usize::from(page.cow)] += 1;
        }
        kinds
    }

    /// How many pages are present.
    pub fn present_pages(&self) -> usize {
        lock(&self.active.pages).len()
    }

    /// Runs `f` with each block of application memory `addr..addr + len`
    /// for reading or writing; used by [`io`].
    pub(crate) fn blocks(
        &self,
        addr: u64,
        len: usize,
        want: Access,
        f: &mut dyn FnMut(*mut u8, usize) -> Result<usize>,
    ) -> Result<usize> {
        self.for_each_block(addr, len, want, false, f)
    }
}

impl Drop for MemoryManager {
    fn drop(&mut self) {
        let st = std::mem::take(&mut *lock(&self.state));
        let space = self.space();
        for (start, vma) in st.vmas {
            if let Backing::File(f) = &vma.backing {
                f.mappable
                    .remove_mapping(&space, start..vma.end, f.offset, f.writable());
            }
        }
        let pages = std::mem::take(&mut *lock(&self.active.pages));
        for page in pages.into_values() {
            // The address space goes away with `self`; only the memory-file
            // references remain to give back.
            let _ = self
                .mf
                .dec_ref(FileRange::new(page.off, page.off + PAGE_SIZE));
        }
    }
}

#[cfg(test)]
mod tests;
