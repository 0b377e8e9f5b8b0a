//! Memory-mapping contracts between file systems and address spaces (gVisor
//! `pkg/sentry/memmap`).
//!
//! - A [`Mappable`] is what `mmap(2)` of a file maps: it is told about
//!   mappings ([`Mappable::add_mapping`], [`Mappable::remove_mapping`]) and
//!   translates its offsets to pages of a [`File`] on page faults
//!   ([`Mappable::translate`]).
//! - A [`MappingSpace`] is an address space that maps Mappables; a Mappable
//!   calls [`MappingSpace::invalidate`] when translations it handed out go
//!   stale (truncation, page-cache eviction).
//! - A [`File`] is memory whose pages can be mapped: reference-counted by
//!   range, readable and writable by the sentry through safe internal
//!   accessors, optionally backed by a host file descriptor that the platform
//!   maps into application address spaces.
//! - A [`MemoryFile`] is a [`File`] that allocates pages; [`HeapMemoryFile`]
//!   is an implementation on the heap for tests and embedders.
//! - [`MappingSet`] is the bookkeeping most Mappables need to find the
//!   application ranges to invalidate.
//! - [`MmapOpts`] and [`generic_configure_mmap`] are the file description's
//!   side of `mmap(2)`.
//!
//! # Reference model
//!
//! A [`Translation`] holds an `Arc` on its [`File`]; the address space that
//! installs a translation takes page references with [`File::inc_ref`] and
//! drops them with [`File::dec_ref`]. A [`MappingSet`] holds an `Arc` on each
//! [`MappingSpace`] that maps the Mappable until the mapping is removed.
//! [`MmapOpts`] holds the Mappable and its [`MappingIdentity`] (the file
//! description, which keeps the file alive while it is mapped).
//!
//! # Lock order
//!
//! address space (mm) lock → Mappable's mapping lock → [`HeapMemoryFile`]'s
//! internal lock. [`MappingSpace::invalidate`] is called with the Mappable's
//! mapping lock held and must not take locks that precede it.
//! [`HeapMemoryFile`] never holds its lock while calling a caller's closure.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use abi_linux::Errno;
use spin::Mutex;

use crate::range_set::{
    FrameRefSet, PAGE_SIZE, RangeSet, SegmentValue, is_page_aligned, page_round_up,
};

/// A range of offsets in a [`Mappable`], page-aligned at both ends where a
/// method says so.
pub type MappableRange = Range<u64>;

/// A set of memory access types: the permissions of a mapping or the access
/// that caused a fault (gVisor `hostarch.AccessType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AccessType {
    /// Read access.
    pub read: bool,
    /// Write access.
    pub write: bool,
    /// Instruction fetch.
    pub execute: bool,
}

impl AccessType {
    /// No access.
    pub const NONE: AccessType = AccessType::new(false, false, false);
    /// Read only.
    pub const READ: AccessType = AccessType::new(true, false, false);
    /// Write only.
    pub const WRITE: AccessType = AccessType::new(false, true, false);
    /// Execute only.
    pub const EXECUTE: AccessType = AccessType::new(false, false, true);
    /// Read and write.
    pub const READ_WRITE: AccessType = AccessType::new(true, true, false);
    /// Read and execute.
    pub const READ_EXECUTE: AccessType = AccessType::new(true, false, true);
    /// Read, write and execute.
    pub const ANY: AccessType = AccessType::new(true, true, true);

    /// Creates an access type from its three bits.
    pub const fn new(read: bool, write: bool, execute: bool) -> AccessType {
        AccessType {
            read,
            write,
            execute,
        }
    }

    /// Converts `PROT_READ | PROT_WRITE | PROT_EXEC` bits (1, 2, 4); other
    /// bits are ignored.
    pub const fn from_prot(prot: u32) -> AccessType {
        AccessType::new(prot & 1 != 0, prot & 2 != 0, prot & 4 != 0)
    }

    /// Returns the `PROT_*` bits of this access type.
    pub const fn to_prot(self) -> u32 {
        (self.read as u32) | ((self.write as u32) << 1) | ((self.execute as u32) << 2)
    }

    /// Returns `true` if any access is allowed.
    pub const fn any(self) -> bool {
        self.read || self.write || self.execute
    }

    /// Returns the access the hardware actually grants for these
    /// permissions: on x86_64 and aarch64, write and execute imply read.
    pub const fn effective(self) -> AccessType {
        AccessType::new(
            self.read || self.write || self.execute,
            self.write,
            self.execute,
        )
    }

    /// Returns `true` if every access in `other` is also in `self`.
    pub const fn is_superset_of(self, other: AccessType) -> bool {
        (self.read || !other.read)
            && (self.write || !other.write)
            && (self.execute || !other.execute)
    }

    /// Returns the accesses in both.
    pub const fn intersect(self, other: AccessType) -> AccessType {
        AccessType::new(
            self.read && other.read,
            self.write && other.write,
            self.execute && other.execute,
        )
    }

    /// Returns the accesses in either.
    pub const fn union(self, other: AccessType) -> AccessType {
        AccessType::new(
            self.read || other.read,
            self.write || other.write,
            self.execute || other.execute,
        )
    }
}

/// An address space that maps [`Mappable`]s (gVisor `memmap.MappingSpace`).
pub trait MappingSpace: Send + Sync {
    /// Tells the address space that translations of the application
    /// addresses `app_range` are stale: it must unmap them and translate
    /// again on the next fault. If `invalidate_private` is `true`, private
    /// copies of the pages (copy-on-write) are discarded too, losing their
    /// data (as truncation does to pages past the new end of file).
    ///
    /// # Preconditions
    ///
    /// `app_range` is non-empty and page-aligned. Called with the Mappable's
    /// mapping lock held.
    fn invalidate(&self, app_range: Range<u64>, invalidate_private: bool);
}

/// What `/proc/[pid]/maps` shows for a mapping, and who keeps the mapped
/// object alive (gVisor `memmap.MappingIdentity`); usually the file
/// description.
pub trait MappingIdentity: Send + Sync {
    /// Returns the name shown in `/proc/[pid]/maps` (usually the path).
    fn mapped_name(&self) -> String;
    /// Returns the device number shown in `/proc/[pid]/maps`.
    fn device_id(&self) -> u64;
    /// Returns the inode number shown in `/proc/[pid]/maps`.
    fn inode_id(&self) -> u64;
    /// Writes back the mapped range `range` for `msync(2)`.
    fn msync(&self, range: MappableRange) -> Result<(), Errno>;
}

/// One piece of a [`Mappable`] translated to pages of a [`File`].
#[derive(Clone)]
pub struct Translation {
    /// The translated offsets in the Mappable.
    pub source: MappableRange,
    /// The file holding the pages.
    pub file: Arc<dyn File>,
    /// The offset in `file` of the first byte of `source`.
    pub offset: u64,
    /// The accesses the address space may allow through this translation.
    pub perms: AccessType,
}

impl Translation {
    /// Returns the range of `file` this translation covers.
    pub fn file_range(&self) -> Range<u64> {
        let len = self.source.end.saturating_sub(self.source.start);
        self.offset..self.offset.saturating_add(len)
    }
}

/// An object that `mmap(2)` can map (gVisor `memmap.Mappable`).
pub trait Mappable: Send + Sync {
    /// Records that `space` maps application addresses `app_range` to
    /// offsets `offset..offset + len(app_range)` of this object. `writable`
    /// is `true` for a shared writable mapping (writes reach the object) and
    /// stays fixed for the mapping's lifetime.
    ///
    /// # Preconditions
    ///
    /// `app_range` and `offset` are page-aligned and `offset +
    /// len(app_range)` does not overflow.
    fn add_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) -> Result<(), Errno>;

    /// Records the removal of a mapping added by [`Mappable::add_mapping`]
    /// with the same arguments.
    ///
    /// # Preconditions
    ///
    /// The mapping exists and `writable` matches the `add_mapping` call.
    fn remove_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    );

    /// Records that `space` copies the mapping at `src_app_range` to
    /// `dst_app_range` (`mremap(2)`). The default adds the destination,
    /// which is all a mappable that tracks mappings by range needs.
    ///
    /// # Preconditions
    ///
    /// The source mapping exists; the lengths may differ.
    fn copy_mapping(
        &self,
        space: &Arc<dyn MappingSpace>,
        src_app_range: Range<u64>,
        dst_app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) -> Result<(), Errno> {
        let _ = src_app_range;
        self.add_mapping(space, dst_app_range, offset, writable)
    }

    /// Returns translations covering at least `required` and at most
    /// `optional`, usable for the accesses in `at`.
    ///
    /// Errors: `EFAULT` if part of `required` lies past the end of the
    /// object (the faulting task gets `SIGBUS`), `ENOMEM` if pages cannot
    /// be allocated.
    ///
    /// # Preconditions
    ///
    /// `required` is non-empty, `optional` contains it, both are
    /// page-aligned, and the offsets are mapped through
    /// [`Mappable::add_mapping`].
    fn translate(
        &self,
        required: MappableRange,
        optional: MappableRange,
        at: AccessType,
    ) -> Result<Vec<Translation>, Errno>;

    /// Invalidates translations that cannot survive a checkpoint (those to
    /// host memory that is not saved).
    fn invalidate_unsavable(&self) -> Result<(), Errno>;
}

/// Memory whose pages can be mapped (gVisor `memmap.File`).
///
/// The sentry and filesystems reach the bytes only by copying them
/// ([`File::read_at`], [`File::write_at`], [`File::zero`]), never through a
/// Rust reference: an application thread that maps the pages may write
/// them at any moment, and a `&[u8]` over bytes another thread writes is
/// undefined behaviour. An implementation with its own mapping of the
/// memory (the platform's memfd-backed file) copies straight between that
/// mapping and the caller's buffer, so a byte moves once.
pub trait File: Send + Sync {
    /// Takes a reference on the pages of `range`.
    ///
    /// Errors: `EINVAL` if `range` is not page-aligned or not allocated.
    fn inc_ref(&self, range: Range<u64>) -> Result<(), Errno>;

    /// Drops a reference on the pages of `range`; pages whose count reaches
    /// zero are freed.
    ///
    /// Errors: `EINVAL` if `range` is not page-aligned or not referenced.
    fn dec_ref(&self, range: Range<u64>) -> Result<(), Errno>;

    /// Copies the bytes at `offset` into `dst`, in order, stopping at the
    /// first byte that is not allocated (or past the end of a file-backed
    /// memory). Returns the count copied; `EFAULT` if that is none.
    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<usize, Errno>;

    /// Copies `src` to the bytes at `offset`, in order, stopping like
    /// [`File::read_at`]. Returns the count copied; `EFAULT` if that is none
    /// (or if the memory is read-only).
    fn write_at(&self, offset: u64, src: &[u8]) -> Result<usize, Errno>;

    /// Returns a host file descriptor whose offsets are this file's, so the
    /// platform can map its pages into application address spaces; `None`
    /// if the file has no host backing.
    fn host_fd(&self) -> Option<i32> {
        None
    }

    /// Sets the bytes of `range` to zero; `EFAULT` unless all of them were
    /// set.
    fn zero(&self, range: Range<u64>) -> Result<(), Errno> {
        static ZEROS: [u8; PAGE_SIZE as usize] = [0; PAGE_SIZE as usize];
        let mut at = range.start;
        while at < range.end {
            let len = (range.end - at).min(PAGE_SIZE) as usize;
            if self.write_at(at, &ZEROS[..len])? < len {
                return Err(Errno::EFAULT);
            }
            at += len as u64;
        }
        Ok(())
    }
}

/// Returns `offset + len` or `EOVERFLOW`.
fn offset_end(offset: u64, len: usize) -> Result<u64, Errno> {
    u64::try_from(len)
        .ok()
        .and_then(|len| offset.checked_add(len))
        .ok_or(Errno::EOVERFLOW)
}

/// What an allocation of a [`MemoryFile`] is for, for usage accounting (as
/// in `/proc/meminfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AllocKind {
    /// The sentry's own data.
    System,
    /// Anonymous application memory.
    Anonymous,
    /// The page cache of a file backed elsewhere.
    PageCache,
    /// The contents of an in-memory file system (tmpfs/memfs).
    Tmpfs,
}

impl AllocKind {
    /// Every kind, in accounting order.
    pub const ALL: [AllocKind; 4] = [
        AllocKind::System,
        AllocKind::Anonymous,
        AllocKind::PageCache,
        AllocKind::Tmpfs,
    ];

    /// Returns the accounting slot of this kind.
    const fn index(self) -> usize {
        match self {
            AllocKind::System => 0,
            AllocKind::Anonymous => 1,
            AllocKind::PageCache => 2,
            AllocKind::Tmpfs => 3,
        }
    }
}

impl SegmentValue for AllocKind {
    fn merge(&self, _range: Range<u64>, next: &Self, _next_range: Range<u64>) -> Option<Self> {
        (self == next).then_some(*self)
    }

    fn split(&self, _range: Range<u64>, _at: u64) -> (Self, Self) {
        (*self, *self)
    }
}

/// A page allocator whose pages are a [`File`] (gVisor
/// `pgalloc.MemoryFile`).
pub trait MemoryFile: File {
    /// Allocates `len` bytes (rounded up to whole pages), zero-filled, with
    /// one reference; [`File::dec_ref`] to zero frees them.
    ///
    /// Errors: `EINVAL` if `len` is zero, `ENOMEM` if the file is full.
    fn allocate(&self, len: u64, kind: AllocKind) -> Result<Range<u64>, Errno>;

    /// Returns the allocated bytes of `kind`.
    fn usage(&self, kind: AllocKind) -> u64;

    /// Returns the allocated bytes of all kinds.
    fn total_usage(&self) -> u64 {
        AllocKind::ALL.iter().map(|k| self.usage(*k)).sum()
    }
}

/// The state of a [`HeapMemoryFile`].
struct HeapState {
    /// Committed pages by page index; an allocated page with no entry
    /// reads as zeros.
    pages: BTreeMap<u64, Box<[u8]>>,
    /// Reference counts of the allocated ranges.
    refs: FrameRefSet,
    /// Accounting kind of the allocated ranges.
    kinds: RangeSet<AllocKind>,
    /// Allocated bytes per kind.
    usage: [u64; 4],
}

/// A [`MemoryFile`] on the heap: pages are committed on first write and
/// given back when freed; the file never grows past a fixed limit.
///
/// Closures passed to the `map_internal_*` accessors run without the file's
/// lock held (the bytes go through a page-sized bounce buffer), so they may
/// access this file themselves.
///
/// # Examples
///
/// ```
/// use vfs_core::memmap::{AllocKind, File, HeapMemoryFile, MemoryFile};
///
/// let mf = HeapMemoryFile::new(1 << 20);
/// let pages = mf.allocate(8192, AllocKind::Anonymous).unwrap();
/// mf.write_at(pages.start + 100, b"hello").unwrap();
/// let mut buf = [0u8; 5];
/// mf.read_at(pages.start + 100, &mut buf).unwrap();
/// assert_eq!(&buf, b"hello");
/// mf.dec_ref(pages).unwrap();
/// assert_eq!(mf.total_usage(), 0);
/// ```
pub struct HeapMemoryFile {
    limit: u64,
    state: Mutex<HeapState>,
}

/// A copy step of [`HeapMemoryFile`]: `(page, offset in the page, offset
/// in the caller's buffer, length)`.
type PageCopy<'a> = dyn FnMut(Option<&mut [u8]>, usize, usize, usize) + 'a;

impl HeapMemoryFile {
    /// Creates an empty file that holds at most `limit` bytes (rounded down
    /// to whole pages).
    pub fn new(limit: u64) -> HeapMemoryFile {
        HeapMemoryFile {
            limit: limit & !(PAGE_SIZE - 1),
            state: Mutex::new(HeapState {
                pages: BTreeMap::new(),
                refs: FrameRefSet::new(),
                kinds: RangeSet::new(),
                usage: [0; 4],
            }),
        }
    }

    /// Returns the size limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Returns the number of committed pages (pages that were written).
    pub fn committed_pages(&self) -> usize {
        self.state.lock().pages.len()
    }

    /// Returns the reference count of the page containing `offset`.
    pub fn ref_count(&self, offset: u64) -> u64 {
        self.state.lock().refs.ref_count(offset)
    }

    /// Checks that `range` is page-aligned and non-empty.
    fn check_aligned(range: &Range<u64>) -> Result<(), Errno> {
        if range.start < range.end && is_page_aligned(range.start) && is_page_aligned(range.end) {
            Ok(())
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// Copies between the file at `offset` and `len` bytes of the caller's
    /// buffer, a page at a time under the lock: `copy(page, in_page, at,
    /// n)` moves `n` bytes between `page` (created if `create`) at
    /// `in_page` and the buffer at `at`. Stops at the first page that is
    /// not allocated.
    fn copy(
        &self,
        offset: u64,
        len: usize,
        create: bool,
        copy: &mut PageCopy<'_>,
    ) -> Result<usize, Errno> {
        let end = offset_end(offset, len)?;
        let mut state = self.state.lock();
        let mut cursor = offset;
        while cursor < end {
            let page = cursor / PAGE_SIZE;
            let in_page = (cursor % PAGE_SIZE) as usize;
            let chunk_end = end.min((page + 1).saturating_mul(PAGE_SIZE));
            if !state.refs.as_set().covers(cursor..chunk_end) {
                break;
            }
            let n = (chunk_end - cursor) as usize;
            let at = (cursor - offset) as usize;
            let bytes = if create {
                Some(
                    &mut **state
                        .pages
                        .entry(page)
                        .or_insert_with(|| vec![0u8; PAGE_SIZE as usize].into_boxed_slice()),
                )
            } else {
                state.pages.get_mut(&page).map(|b| &mut **b)
            };
            copy(bytes, in_page, at, n);
            cursor = chunk_end;
        }
        let done = (cursor - offset) as usize;
        if done > 0 || len == 0 {
            Ok(done)
        } else {
            Err(Errno::EFAULT)
        }
    }
}

impl File for HeapMemoryFile {
    fn inc_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        HeapMemoryFile::check_aligned(&range)?;
        let mut state = self.state.lock();
        if !state.refs.as_set().covers(range.clone()) {
            return Err(Errno::EINVAL);
        }
        state.refs.inc_ref(range)
    }

    fn dec_ref(&self, range: Range<u64>) -> Result<(), Errno> {
        HeapMemoryFile::check_aligned(&range)?;
        let mut state = self.state.lock();
        let freed = state.refs.dec_ref(range)?;
        for r in freed {
            for (piece, kind) in state.kinds.remove(r.clone()) {
                let slot = &mut state.usage[kind.index()];
                *slot = slot.saturating_sub(piece.end - piece.start);
            }
            let mut doomed = state.pages.split_off(&(r.start / PAGE_SIZE));
            let mut kept = doomed.split_off(&(r.end / PAGE_SIZE));
            state.pages.append(&mut kept);
        }
        Ok(())
    }

    fn read_at(&self, offset: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        self.copy(offset, dst.len(), false, &mut |page, in_page, at, n| {
            let out = &mut dst[at..at + n];
            match page {
                Some(bytes) => out.copy_from_slice(&bytes[in_page..in_page + n]),
                // A page never written reads as zeros.
                None => out.fill(0),
            }
        })
    }

    fn write_at(&self, offset: u64, src: &[u8]) -> Result<usize, Errno> {
        self.copy(offset, src.len(), true, &mut |page, in_page, at, n| {
            if let Some(bytes) = page {
                bytes[in_page..in_page + n].copy_from_slice(&src[at..at + n]);
            }
        })
    }
}

impl MemoryFile for HeapMemoryFile {
    fn allocate(&self, len: u64, kind: AllocKind) -> Result<Range<u64>, Errno> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_round_up(len).ok_or(Errno::ENOMEM)?;
        let mut state = self.state.lock();
        let start = state
            .refs
            .as_set()
            .gaps(0..self.limit)
            .find(|gap| gap.end - gap.start >= len)
            .ok_or(Errno::ENOMEM)?
            .start;
        let range = start..start + len;
        state.refs.inc_ref(range.clone())?;
        state.kinds.insert(range.clone(), kind)?;
        state.usage[kind.index()] += len;
        Ok(range)
    }

    fn usage(&self, kind: AllocKind) -> u64 {
        self.state.lock().usage[kind.index()]
    }
}

/// One mapping of a file range: which address space maps it, where, and
/// whether writes reach the file.
#[derive(Clone)]
pub struct MappingOfRange {
    /// The address space.
    pub space: Arc<dyn MappingSpace>,
    /// The application addresses that map the segment's file range.
    pub app_range: Range<u64>,
    /// `true` for a shared writable mapping.
    pub writable: bool,
}

impl MappingOfRange {
    /// Returns `true` if both describe the same mapping of the same space.
    fn same(&self, other: &MappingOfRange) -> bool {
        Arc::ptr_eq(&self.space, &other.space)
            && self.app_range == other.app_range
            && self.writable == other.writable
    }
}

/// The mappings of one segment of a [`MappingSet`].
#[derive(Clone, Default)]
pub struct MappingsOfRange(Vec<MappingOfRange>);

impl MappingsOfRange {
    /// Iterates over the mappings.
    pub fn iter(&self) -> impl Iterator<Item = &MappingOfRange> {
        self.0.iter()
    }
}

impl SegmentValue for MappingsOfRange {
    fn merge(&self, _range: Range<u64>, next: &Self, next_range: Range<u64>) -> Option<Self> {
        if self.0.len() != next.0.len() {
            return None;
        }
        let next_len = next_range.end - next_range.start;
        let mut merged = Vec::with_capacity(self.0.len());
        for m in &self.0 {
            let continuation = MappingOfRange {
                space: Arc::clone(&m.space),
                app_range: m.app_range.end..m.app_range.end.checked_add(next_len)?,
                writable: m.writable,
            };
            if !next.0.iter().any(|n| n.same(&continuation)) {
                return None;
            }
            merged.push(MappingOfRange {
                space: Arc::clone(&m.space),
                app_range: m.app_range.start..continuation.app_range.end,
                writable: m.writable,
            });
        }
        Some(MappingsOfRange(merged))
    }

    fn split(&self, range: Range<u64>, at: u64) -> (Self, Self) {
        let offset = at - range.start;
        let (left, right) = self
            .0
            .iter()
            .map(|m| {
                let mid = m.app_range.start + offset;
                (
                    MappingOfRange {
                        space: Arc::clone(&m.space),
                        app_range: m.app_range.start..mid,
                        writable: m.writable,
                    },
                    MappingOfRange {
                        space: Arc::clone(&m.space),
                        app_range: mid..m.app_range.end,
                        writable: m.writable,
                    },
                )
            })
            .unzip();
        (MappingsOfRange(left), MappingsOfRange(right))
    }
}

/// Returns the mapping of `sub` (a part of `whole`) by a space that maps
/// `whole` starting at application address `app_start`.
fn sub_mapping(
    whole: &Range<u64>,
    sub: &Range<u64>,
    space: &Arc<dyn MappingSpace>,
    app_start: u64,
    writable: bool,
) -> MappingOfRange {
    let start = app_start + (sub.start - whole.start);
    MappingOfRange {
        space: Arc::clone(space),
        app_range: start..start + (sub.end - sub.start),
        writable,
    }
}

/// For a [`Mappable`], which address spaces map which of its offsets, and
/// where (gVisor `memmap.MappingSet`).
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use vfs_core::memmap::{MappingSet, MappingSpace};
///
/// struct Recorder(Mutex<Vec<std::ops::Range<u64>>>);
/// impl MappingSpace for Recorder {
///     fn invalidate(&self, app_range: std::ops::Range<u64>, _private: bool) {
///         self.0.lock().unwrap().push(app_range);
///     }
/// }
///
/// let rec = Arc::new(Recorder(Mutex::new(Vec::new())));
/// let space: Arc<dyn MappingSpace> = rec.clone();
/// let mut set = MappingSet::new();
/// // Application addresses 0x10000.. map file offsets 0x2000..0x6000.
/// set.add_mapping(&space, 0x10000..0x14000, 0x2000, false).unwrap();
/// // Truncating the file to 0x4000 invalidates the last two pages.
/// set.invalidate(0x4000..u64::MAX, true);
/// assert_eq!(*rec.0.lock().unwrap(), vec![0x12000..0x14000]);
/// ```
#[derive(Clone, Default)]
pub struct MappingSet {
    set: RangeSet<MappingsOfRange>,
    writable_bytes: u64,
}

/// Checks the arguments of a mapping and returns the file range it maps.
fn mapped_file_range(app_range: &Range<u64>, offset: u64) -> Result<Range<u64>, Errno> {
    if app_range.start >= app_range.end
        || !is_page_aligned(app_range.start)
        || !is_page_aligned(app_range.end)
        || !is_page_aligned(offset)
    {
        return Err(Errno::EINVAL);
    }
    let end = offset
        .checked_add(app_range.end - app_range.start)
        .ok_or(Errno::EOVERFLOW)?;
    Ok(offset..end)
}

impl MappingSet {
    /// Creates a set with no mappings.
    pub const fn new() -> MappingSet {
        MappingSet {
            set: RangeSet::new(),
            writable_bytes: 0,
        }
    }

    /// Records that `space` maps `app_range` to the file offsets starting at
    /// `offset`, and returns the file ranges that had no mapping before.
    ///
    /// Errors: `EINVAL` for an empty or unaligned range, `EOVERFLOW` if the
    /// file range passes `u64::MAX`; the set is unchanged then.
    pub fn add_mapping(
        &mut self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) -> Result<Vec<Range<u64>>, Errno> {
        let file_range = mapped_file_range(&app_range, offset)?;
        let newly_mapped: Vec<Range<u64>> = self.set.gaps(file_range.clone()).collect();
        for gap in &newly_mapped {
            self.set.insert(gap.clone(), MappingsOfRange::default())?;
        }
        self.set.update(file_range.clone(), |seg, mappings| {
            mappings.0.push(sub_mapping(
                &file_range,
                &seg,
                space,
                app_range.start,
                writable,
            ));
        });
        if writable {
            self.writable_bytes = self
                .writable_bytes
                .saturating_add(file_range.end - file_range.start);
        }
        Ok(newly_mapped)
    }

    /// Removes a mapping added by [`MappingSet::add_mapping`] with the same
    /// arguments and returns the file ranges that no longer have any
    /// mapping.
    ///
    /// Errors: those of `add_mapping`, and `EINVAL` if the mapping is not in
    /// the set; the set is unchanged then.
    pub fn remove_mapping(
        &mut self,
        space: &Arc<dyn MappingSpace>,
        app_range: Range<u64>,
        offset: u64,
        writable: bool,
    ) -> Result<Vec<Range<u64>>, Errno> {
        let file_range = mapped_file_range(&app_range, offset)?;
        if !self.set.covers(file_range.clone()) {
            return Err(Errno::EINVAL);
        }
        let present = self
            .set
            .segments(file_range.clone())
            .all(|(seg, mappings)| {
                let part = seg.start.max(file_range.start)..seg.end.min(file_range.end);
                let wanted = sub_mapping(&file_range, &part, space, app_range.start, writable);
                mappings.iter().any(|m| {
                    Arc::ptr_eq(&m.space, &wanted.space)
                        && m.writable == writable
                        && m.app_range.start <= wanted.app_range.start
                        && m.app_range.end >= wanted.app_range.end
                        && wanted.app_range.start - m.app_range.start == part.start - seg.start
                })
            });
        if !present {
            return Err(Errno::EINVAL);
        }
        self.set.update(file_range.clone(), |seg, mappings| {
            let wanted = sub_mapping(&file_range, &seg, space, app_range.start, writable);
            if let Some(i) = mappings.0.iter().position(|m| m.same(&wanted)) {
                mappings.0.swap_remove(i);
            }
        });
        let unmapped: Vec<Range<u64>> = self
            .set
            .segments(file_range.clone())
            .filter(|(_, mappings)| mappings.0.is_empty())
            .map(|(seg, _)| seg)
            .collect();
        for seg in &unmapped {
            self.set.remove(seg.clone());
        }
        if writable {
            self.writable_bytes = self
                .writable_bytes
                .saturating_sub(file_range.end - file_range.start);
        }
        Ok(unmapped)
    }

    /// Calls [`MappingSpace::invalidate`] for every application range that
    /// maps part of `file_range`.
    pub fn invalidate(&self, file_range: Range<u64>, invalidate_private: bool) {
        for (seg, mappings) in self.set.segments(file_range.clone()) {
            let part = seg.start.max(file_range.start)..seg.end.min(file_range.end);
            for m in mappings.iter() {
                let region = sub_mapping(&seg, &part, &m.space, m.app_range.start, m.writable);
                m.space.invalidate(region.app_range, invalidate_private);
            }
        }
    }

    /// Calls [`MappingSpace::invalidate`] for every mapping in the set.
    pub fn invalidate_all(&self, invalidate_private: bool) {
        self.invalidate(0..u64::MAX, invalidate_private);
    }

    /// Returns `true` if some part of `file_range` is mapped.
    pub fn is_mapped(&self, file_range: Range<u64>) -> bool {
        self.set.segments(file_range).next().is_some()
    }

    /// Returns the total length of the shared writable mappings (counting a
    /// file page once per mapping of it); non-zero means a write seal
    /// (`F_SEAL_WRITE`) must be refused with `EBUSY`.
    pub fn writable_mapped_bytes(&self) -> u64 {
        self.writable_bytes
    }

    /// Iterates over the segments: file range and its mappings.
    pub fn iter(&self) -> impl Iterator<Item = (Range<u64>, &MappingsOfRange)> {
        self.set.iter()
    }
}

/// The arguments of one `mmap(2)` as the file description sees them (gVisor
/// `memmap.MMapOpts`, the parts a file system reads or sets).
#[derive(Clone, Default)]
pub struct MmapOpts {
    /// The length of the mapping in bytes (non-zero).
    pub length: u64,
    /// The file offset of the mapping.
    pub offset: u64,
    /// The requested address (a hint unless `fixed`).
    pub addr: u64,
    /// `MAP_FIXED`: map exactly at `addr`.
    pub fixed: bool,
    /// The initial permissions (`PROT_*`).
    pub perms: AccessType,
    /// The permissions `mprotect(2)` may grant later.
    pub max_perms: AccessType,
    /// `MAP_PRIVATE` (copy on write) rather than `MAP_SHARED`.
    pub private: bool,
    /// `MAP_GROWSDOWN`.
    pub grows_down: bool,
    /// What is mapped; `None` for anonymous memory.
    pub mappable: Option<Arc<dyn Mappable>>,
    /// What `/proc/[pid]/maps` shows, and what keeps the file open.
    pub mapping_identity: Option<Arc<dyn MappingIdentity>>,
}

/// How the file description being mapped was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmapFileAccess {
    /// Opened for reading (`O_RDONLY` or `O_RDWR`).
    pub readable: bool,
    /// Opened for writing (`O_WRONLY` or `O_RDWR`).
    pub writable: bool,
    /// Opened with `O_APPEND`.
    pub append: bool,
}

/// The usual `configure_mmap` of a file description (gVisor
/// `vfs.GenericConfigureMMap` with the checks of Linux's `do_mmap`): checks
/// `opts` against how the file was opened, then sets the mappable and
/// identity.
///
/// Errors, as Linux: `EINVAL` for a zero length or an unaligned offset;
/// `EOVERFLOW` if the end offset passes `i64::MAX`; `EACCES` if the file is
/// not readable, or for a shared writable mapping of a file not open for
/// writing or open for appending. A shared mapping of a file not open for
/// writing loses write from `max_perms`.
pub fn generic_configure_mmap(
    opts: &mut MmapOpts,
    access: MmapFileAccess,
    mappable: Arc<dyn Mappable>,
    identity: Arc<dyn MappingIdentity>,
) -> Result<(), Errno> {
    if opts.length == 0 || !is_page_aligned(opts.offset) {
        return Err(Errno::EINVAL);
    }
    let end = page_round_up(opts.length)
        .and_then(|len| opts.offset.checked_add(len))
        .ok_or(Errno::EOVERFLOW)?;
    if end > i64::MAX as u64 {
        return Err(Errno::EOVERFLOW);
    }
    if !access.readable {
        return Err(Errno::EACCES);
    }
    if !opts.private {
        if opts.perms.write && (!access.writable || access.append) {
            return Err(Errno::EACCES);
        }
        if !access.writable {
            opts.max_perms.write = false;
        }
    }
    opts.mappable = Some(mappable);
    opts.mapping_identity = Some(identity);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range_set::FileRangeSet;
    use std::sync::Mutex as StdMutex;

    /// A mapping space that records its invalidations.
    #[derive(Default)]
    struct Recorder(StdMutex<Vec<(Range<u64>, bool)>>);

    impl MappingSpace for Recorder {
        fn invalidate(&self, app_range: Range<u64>, invalidate_private: bool) {
            self.0.lock().unwrap().push((app_range, invalidate_private));
        }
    }

    impl Recorder {
        fn calls(&self) -> Vec<(Range<u64>, bool)> {
            let mut calls = self.0.lock().unwrap().clone();
            calls.sort_by_key(|(r, _)| r.start);
            calls
        }
    }

    fn space() -> (Arc<Recorder>, Arc<dyn MappingSpace>) {
        let rec = Arc::new(Recorder::default());
        let space: Arc<dyn MappingSpace> = rec.clone();
        (rec, space)
    }

    const P: u64 = PAGE_SIZE;

    #[test]
    fn access_type_prot_round_trip_and_effective() {
        for prot in 0..8 {
            assert_eq!(AccessType::from_prot(prot).to_prot(), prot);
        }
        assert_eq!(AccessType::WRITE.effective(), AccessType::READ_WRITE);
        assert!(AccessType::ANY.is_superset_of(AccessType::READ_EXECUTE));
        assert!(!AccessType::READ.is_superset_of(AccessType::WRITE));
        assert_eq!(
            AccessType::READ_WRITE.intersect(AccessType::READ_EXECUTE),
            AccessType::READ
        );
        assert_eq!(
            AccessType::READ.union(AccessType::EXECUTE),
            AccessType::READ_EXECUTE
        );
        assert!(!AccessType::NONE.any());
    }

    #[test]
    fn access_type_prot_bits_match_libc() {
        assert_eq!(AccessType::READ.to_prot(), libc::PROT_READ as u32);
        assert_eq!(AccessType::WRITE.to_prot(), libc::PROT_WRITE as u32);
        assert_eq!(AccessType::EXECUTE.to_prot(), libc::PROT_EXEC as u32);
    }

    #[test]
    fn mapping_set_invalidates_partial_overlap_at_right_addresses() {
        let (rec, space) = space();
        let mut set = MappingSet::new();
        set.add_mapping(&space, 0x10000..0x10000 + 4 * P, 2 * P, false)
            .unwrap();

        set.invalidate(3 * P..5 * P, false);

        assert_eq!(rec.calls(), vec![(0x10000 + P..0x10000 + 3 * P, false)]);
    }

    #[test]
    fn mapping_set_invalidates_every_space_mapping_a_range() {
        let (rec_a, a) = space();
        let (rec_b, b) = space();
        let mut set = MappingSet::new();
        set.add_mapping(&a, 0x10000..0x10000 + 2 * P, 0, false)
            .unwrap();
        set.add_mapping(&b, 0x80000..0x80000 + 2 * P, P, true)
            .unwrap();

        set.invalidate(P..2 * P, true);

        assert_eq!(rec_a.calls(), vec![(0x10000 + P..0x10000 + 2 * P, true)]);
        assert_eq!(rec_b.calls(), vec![(0x80000..0x80000 + P, true)]);
    }

    #[test]
    fn mapping_set_add_reports_newly_mapped_ranges() {
        let (_, space) = space();
        let mut set = MappingSet::new();
        assert_eq!(
            set.add_mapping(&space, 0..2 * P, P, false).unwrap(),
            vec![P..3 * P]
        );
        assert_eq!(
            set.add_mapping(&space, 0x100000..0x100000 + 4 * P, 0, false)
                .unwrap(),
            vec![0..P, 3 * P..4 * P]
        );
    }

    #[test]
    fn mapping_set_remove_reports_unmapped_ranges_and_merges_back() {
        let (_, space) = space();
        let mut set = MappingSet::new();
        set.add_mapping(&space, 0..4 * P, 0, false).unwrap();
        set.add_mapping(&space, 0x100000..0x100000 + 2 * P, P, false)
            .unwrap();
        assert_eq!(set.iter().count(), 3);

        let unmapped = set.remove_mapping(&space, 0..4 * P, 0, false).unwrap();

        assert_eq!(unmapped, vec![0..P, 3 * P..4 * P]);
        let segs: Vec<_> = set.iter().map(|(r, m)| (r, m.iter().count())).collect();
        assert_eq!(segs, vec![(P..3 * P, 1)]);
        assert!(set.is_mapped(2 * P..3 * P) && !set.is_mapped(0..P));
    }

    #[test]
    fn mapping_set_adjacent_mappings_of_same_space_merge() {
        let (_, space) = space();
        let mut set = MappingSet::new();
        set.add_mapping(&space, 0x10000..0x10000 + P, 0, false)
            .unwrap();
        set.add_mapping(&space, 0x10000 + P..0x10000 + 2 * P, P, false)
            .unwrap();
        assert_eq!(set.iter().count(), 1);
        // The merged mapping can be removed in one piece.
        assert_eq!(
            set.remove_mapping(&space, 0x10000..0x10000 + 2 * P, 0, false)
                .unwrap(),
            vec![0..2 * P]
        );
    }

    #[test]
    fn mapping_set_remove_of_absent_mapping_is_einval() {
        let (_, a) = space();
        let (_, b) = space();
        let mut set = MappingSet::new();
        set.add_mapping(&a, 0..2 * P, 0, false).unwrap();
        assert_eq!(
            set.remove_mapping(&b, 0..2 * P, 0, false),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            set.remove_mapping(&a, 0..2 * P, 0, true),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            set.remove_mapping(&a, P..3 * P, 0, false),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            set.remove_mapping(&a, 0..3 * P, 0, false),
            Err(Errno::EINVAL)
        );
        assert!(set.is_mapped(0..2 * P));
    }

    #[test]
    fn mapping_set_rejects_unaligned_and_overflowing_mappings() {
        let (_, space) = space();
        let mut set = MappingSet::new();
        assert_eq!(set.add_mapping(&space, 1..P, 0, false), Err(Errno::EINVAL));
        assert_eq!(set.add_mapping(&space, 0..P, 1, false), Err(Errno::EINVAL));
        assert_eq!(set.add_mapping(&space, 0..0, 0, false), Err(Errno::EINVAL));
        assert_eq!(
            set.add_mapping(&space, 0..2 * P, u64::MAX - P + 1, false),
            Err(Errno::EOVERFLOW)
        );
    }

    #[test]
    fn mapping_set_counts_writable_mappings() {
        let (_, space) = space();
        let mut set = MappingSet::new();
        set.add_mapping(&space, 0..2 * P, 0, true).unwrap();
        set.add_mapping(&space, 0x10000..0x10000 + P, 0, false)
            .unwrap();
        assert_eq!(set.writable_mapped_bytes(), 2 * P);
        set.remove_mapping(&space, 0..2 * P, 0, true).unwrap();
        assert_eq!(set.writable_mapped_bytes(), 0);
    }

    #[test]
    fn heap_memory_file_allocates_zeroed_pages_with_one_reference() {
        let mf = HeapMemoryFile::new(16 * P);
        let r = mf.allocate(100, AllocKind::Anonymous).unwrap();
        assert_eq!(r.end - r.start, P);
        assert_eq!(mf.ref_count(r.start), 1);
        let mut buf = [0xffu8; 16];
        assert_eq!(mf.read_at(r.start + 8, &mut buf), Ok(16));
        assert_eq!(buf, [0; 16]);
        assert_eq!(mf.usage(AllocKind::Anonymous), P);
        assert_eq!(mf.committed_pages(), 0);
    }

    #[test]
    fn heap_memory_file_frees_at_zero_and_reuses_zeroed() {
        let mf = HeapMemoryFile::new(P);
        let r = mf.allocate(P, AllocKind::PageCache).unwrap();
        mf.write_at(r.start, b"secret").unwrap();
        mf.inc_ref(r.clone()).unwrap();
        mf.dec_ref(r.clone()).unwrap();
        assert_eq!(mf.usage(AllocKind::PageCache), P);
        mf.dec_ref(r.clone()).unwrap();
        assert_eq!(mf.total_usage(), 0);
        assert_eq!(mf.committed_pages(), 0);

        let again = mf.allocate(P, AllocKind::Anonymous).unwrap();
        let mut buf = [0xffu8; 6];
        mf.read_at(again.start, &mut buf).unwrap();
        assert_eq!(buf, [0; 6]);
    }

    #[test]
    fn heap_memory_file_exhaustion_is_enomem() {
        let mf = HeapMemoryFile::new(4 * P);
        mf.allocate(3 * P, AllocKind::Tmpfs).unwrap();
        assert_eq!(mf.allocate(2 * P, AllocKind::Tmpfs), Err(Errno::ENOMEM));
        assert_eq!(mf.allocate(u64::MAX, AllocKind::Tmpfs), Err(Errno::ENOMEM));
        assert_eq!(mf.allocate(0, AllocKind::Tmpfs), Err(Errno::EINVAL));
        assert!(mf.allocate(P, AllocKind::Tmpfs).is_ok());
    }

    #[test]
    fn heap_memory_file_refcount_errors_are_einval() {
        let mf = HeapMemoryFile::new(4 * P);
        let r = mf.allocate(P, AllocKind::System).unwrap();
        assert_eq!(mf.inc_ref(r.start..r.start + 10), Err(Errno::EINVAL));
        assert_eq!(mf.inc_ref(r.end..r.end + P), Err(Errno::EINVAL));
        mf.dec_ref(r.clone()).unwrap();
        assert_eq!(mf.dec_ref(r), Err(Errno::EINVAL));
    }

    #[test]
    fn heap_memory_file_access_outside_allocation_is_efault() {
        let mf = HeapMemoryFile::new(4 * P);
        let r = mf.allocate(P, AllocKind::System).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(mf.read_at(r.end, &mut buf), Err(Errno::EFAULT));
        // A read straddling the end copies the allocated part.
        assert_eq!(mf.read_at(r.end - 4, &mut buf), Ok(4));
        assert_eq!(mf.write_at(u64::MAX - 2, &buf), Err(Errno::EOVERFLOW));
    }

    #[test]
    fn heap_memory_file_write_across_pages_and_zero() {
        let mf = HeapMemoryFile::new(4 * P);
        let r = mf.allocate(2 * P, AllocKind::Anonymous).unwrap();
        let data: Vec<u8> = (0..200u8).collect();
        mf.write_at(r.start + P - 100, &data).unwrap();
        let mut back = vec![0u8; 200];
        mf.read_at(r.start + P - 100, &mut back).unwrap();
        assert_eq!(back, data);
        mf.zero(r.start + P - 50..r.start + P + 50).unwrap();
        mf.read_at(r.start + P - 100, &mut back).unwrap();
        assert_eq!(&back[..50], &data[..50]);
        assert!(back[50..150].iter().all(|b| *b == 0));
        assert_eq!(&back[150..], &data[150..]);
    }

    #[test]
    fn heap_memory_file_copies_stop_at_the_first_unallocated_page() {
        let mf = HeapMemoryFile::new(4 * P);
        let a = mf.allocate(P, AllocKind::Anonymous).unwrap();
        assert_eq!(a, 0..P);
        // The page after `a` is not allocated: a copy that runs into it is
        // short, one that starts there faults.
        assert_eq!(mf.write_at(P - 10, &[7u8; 30]), Ok(10));
        let mut buf = [0u8; 30];
        assert_eq!(mf.read_at(P - 10, &mut buf), Ok(10));
        assert_eq!(&buf[..10], &[7u8; 10]);
        assert_eq!(mf.read_at(P, &mut buf), Err(Errno::EFAULT));
        assert_eq!(mf.write_at(P, &buf), Err(Errno::EFAULT));
        assert_eq!(mf.zero(P - 10..P + 10), Err(Errno::EFAULT));
        assert_eq!(mf.read_at(0, &mut []), Ok(0));
        assert_eq!(mf.read_at(u64::MAX - 3, &mut buf), Err(Errno::EOVERFLOW));
    }

    /// A toy file-backed Mappable: a file of `size` bytes whose pages are
    /// allocated in a memory file on first translation.
    struct ToyMappable {
        mf: Arc<HeapMemoryFile>,
        size: u64,
        inner: StdMutex<(FileRangeSet, MappingSet)>,
    }

    impl Mappable for ToyMappable {
        fn add_mapping(
            &self,
            space: &Arc<dyn MappingSpace>,
            app_range: Range<u64>,
            offset: u64,
            writable: bool,
        ) -> Result<(), Errno> {
            let mut inner = self.inner.lock().unwrap();
            inner.1.add_mapping(space, app_range, offset, writable)?;
            Ok(())
        }

        fn remove_mapping(
            &self,
            space: &Arc<dyn MappingSpace>,
            app_range: Range<u64>,
            offset: u64,
            writable: bool,
        ) {
            let mut inner = self.inner.lock().unwrap();
            inner
                .1
                .remove_mapping(space, app_range, offset, writable)
                .unwrap();
        }

        fn translate(
            &self,
            required: MappableRange,
            optional: MappableRange,
            at: AccessType,
        ) -> Result<Vec<Translation>, Errno> {
            let eof = page_round_up(self.size).ok_or(Errno::EOVERFLOW)?;
            if required.end > eof {
                return Err(Errno::EFAULT);
            }
            let want = optional.start..optional.end.min(eof);
            let mut inner = self.inner.lock().unwrap();
            let gaps: Vec<_> = inner.0.gaps(want.clone()).collect();
            for gap in gaps {
                let mem = self
                    .mf
                    .allocate(gap.end - gap.start, AllocKind::PageCache)?;
                inner.0.insert(gap, mem.start)?;
            }
            let file: Arc<dyn File> = self.mf.clone();
            Ok(inner
                .0
                .translate(want)
                .map(|(source, mem)| Translation {
                    source,
                    file: Arc::clone(&file),
                    offset: mem.start,
                    perms: at.union(AccessType::READ),
                })
                .collect())
        }

        fn invalidate_unsavable(&self) -> Result<(), Errno> {
            Ok(())
        }
    }

    fn toy(size: u64) -> ToyMappable {
        ToyMappable {
            mf: Arc::new(HeapMemoryFile::new(64 * P)),
            size,
            inner: StdMutex::new((FileRangeSet::new(), MappingSet::new())),
        }
    }

    #[test]
    fn translate_covers_required_within_optional() {
        let m = toy(10 * P);
        let (_, space) = space();
        m.add_mapping(&space, 0x40000..0x40000 + 10 * P, 0, false)
            .unwrap();
        let ts = m
            .translate(2 * P..3 * P, 0..4 * P, AccessType::READ)
            .unwrap();
        let covered: u64 = ts.iter().map(|t| t.source.end - t.source.start).sum();
        assert!(ts.iter().all(|t| t.source.end <= 4 * P));
        assert!(
            ts.iter()
                .any(|t| t.source.start <= 2 * P && t.source.end >= 3 * P)
        );
        assert_eq!(covered, 4 * P);
        assert!(ts.iter().all(|t| t.perms.is_superset_of(AccessType::READ)));
    }

    #[test]
    fn translate_reaches_same_bytes_as_file_write() {
        let m = toy(4 * P);
        let ts = m
            .translate(P..2 * P, P..2 * P, AccessType::READ_WRITE)
            .unwrap();
        let t = &ts[0];
        t.file.write_at(t.offset + 5, b"xyz").unwrap();
        let again = m.translate(P..2 * P, P..2 * P, AccessType::READ).unwrap();
        let mut buf = [0u8; 3];
        again[0]
            .file
            .read_at(again[0].offset + 5, &mut buf)
            .unwrap();
        assert_eq!(&buf, b"xyz");
        assert_eq!(again[0].file_range(), t.file_range());
    }

    #[test]
    fn translate_past_eof_is_efault() {
        let m = toy(2 * P + 1);
        assert!(
            m.translate(2 * P..3 * P, 0..3 * P, AccessType::READ)
                .is_ok()
        );
        assert_eq!(
            m.translate(3 * P..4 * P, 3 * P..4 * P, AccessType::READ)
                .err(),
            Some(Errno::EFAULT)
        );
    }

    /// A mapping identity for the configure tests.
    struct Identity;

    impl MappingIdentity for Identity {
        fn mapped_name(&self) -> String {
            String::from("/toy")
        }
        fn device_id(&self) -> u64 {
            0
        }
        fn inode_id(&self) -> u64 {
            1
        }
        fn msync(&self, _range: MappableRange) -> Result<(), Errno> {
            Ok(())
        }
    }

    fn opts(perms: AccessType, private: bool) -> MmapOpts {
        MmapOpts {
            length: P,
            perms,
            max_perms: AccessType::ANY,
            private,
            ..MmapOpts::default()
        }
    }

    fn configure(opts: &mut MmapOpts, access: MmapFileAccess) -> Result<(), Errno> {
        generic_configure_mmap(opts, access, Arc::new(toy(P)), Arc::new(Identity))
    }

    const RDONLY: MmapFileAccess = MmapFileAccess {
        readable: true,
        writable: false,
        append: false,
    };

    #[test]
    fn configure_mmap_sets_mappable_and_identity() {
        let mut o = opts(AccessType::READ, true);
        configure(&mut o, RDONLY).unwrap();
        assert!(o.mappable.is_some());
        assert_eq!(o.mapping_identity.unwrap().mapped_name(), "/toy");
        assert!(o.max_perms.write, "a private mapping may become writable");
    }

    #[test]
    fn configure_mmap_shared_write_of_readonly_file_is_eacces() {
        let mut o = opts(AccessType::READ_WRITE, false);
        assert_eq!(configure(&mut o, RDONLY), Err(Errno::EACCES));
        assert!(o.mappable.is_none());
    }

    #[test]
    fn configure_mmap_shared_read_of_readonly_file_drops_max_write() {
        let mut o = opts(AccessType::READ, false);
        configure(&mut o, RDONLY).unwrap();
        assert!(!o.max_perms.write);
    }

    #[test]
    fn configure_mmap_of_writeonly_file_is_eacces() {
        let mut o = opts(AccessType::WRITE, true);
        let wronly = MmapFileAccess {
            readable: false,
            writable: true,
            append: false,
        };
        assert_eq!(configure(&mut o, wronly), Err(Errno::EACCES));
    }

    #[test]
    fn configure_mmap_shared_write_of_append_file_is_eacces() {
        let mut o = opts(AccessType::READ_WRITE, false);
        let append = MmapFileAccess {
            readable: true,
            writable: true,
            append: true,
        };
        assert_eq!(configure(&mut o, append), Err(Errno::EACCES));
    }

    #[test]
    fn configure_mmap_bad_offset_and_length() {
        let mut o = opts(AccessType::READ, true);
        o.offset = 1;
        assert_eq!(configure(&mut o, RDONLY), Err(Errno::EINVAL));
        o.offset = 0;
        o.length = 0;
        assert_eq!(configure(&mut o, RDONLY), Err(Errno::EINVAL));
        o.length = P;
        o.offset = i64::MAX as u64 & !(P - 1);
        assert_eq!(configure(&mut o, RDONLY), Err(Errno::EOVERFLOW));
    }
}
