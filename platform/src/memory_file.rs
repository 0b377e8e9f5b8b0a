//! `MemoryFile`: a memfd-backed page allocator shared by application memory
//! and page caches (gVisor's `pgalloc.MemoryFile`).
//!
//! The file is a `memfd` that grows in chunks of [`CHUNK_SIZE`] bytes; each
//! chunk is mapped once into the sentry (a shared `memmap2` mapping that
//! lives as long as the file), so the sentry reads and writes any page
//! without a system call. Stub processes inherit the file descriptor and map
//! ranges of the same file into application address spaces.
//!
//! # Reference model
//!
//! Every allocated page carries a reference count. [`MemoryFile::allocate`]
//! returns pages holding one reference; [`MemoryFile::inc_ref`] and
//! [`MemoryFile::dec_ref`] add and drop references page by page. A page
//! whose count reaches zero is freed: its storage is released with
//! `fallocate(PUNCH_HOLE)` and the page may be allocated again. Internal
//! mappings ([`InternalMapping`]) do not hold references; callers keep a
//! reference on a range while they use its mapping.
//!
//! # Lock order
//!
//! One mutex (`state`) guards the allocator; it is a leaf lock.

use std::collections::BTreeMap;
use std::fs::File;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd};
use std::sync::{Mutex, MutexGuard, OnceLock};

use abi_linux::{Errno, Result};

use crate::sys::{PAGE_SIZE, check_int, from_io};

/// The size of the unit in which the file grows and is mapped into the
/// sentry; no allocation is larger or crosses a chunk boundary.
pub const CHUNK_SIZE: u64 = 1 << 30;

/// The largest file size, in chunks (1 TiB).
const MAX_CHUNKS: usize = 1024;

const PAGES_PER_CHUNK: u64 = CHUNK_SIZE / PAGE_SIZE;

/// A range of offsets in a [`MemoryFile`], `start..end`, page-aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileRange {
    /// The first byte of the range.
    pub start: u64,
    /// The byte after the range.
    pub end: u64,
}

impl FileRange {
    /// Returns the range `start..end`.
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    /// Returns the length of the range in bytes.
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Reports whether the range is empty.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

impl From<std::ops::Range<u64>> for FileRange {
    fn from(r: std::ops::Range<u64>) -> Self {
        Self::new(r.start, r.end)
    }
}

impl From<FileRange> for std::ops::Range<u64> {
    fn from(r: FileRange) -> Self {
        r.start..r.end
    }
}

/// What an allocation is for, for [`MemoryFile::usage`] accounting
/// (gVisor's `usage.MemoryKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UsageKind {
    /// Memory the sentry itself uses (for example the platform's shared
    /// message pages).
    System,
    /// Anonymous application memory.
    Anonymous,
    /// Page-cache pages of a file system.
    PageCache,
    /// Pages of an in-memory file system (tmpfs, memfd).
    Tmpfs,
}

impl UsageKind {
    const ALL: [UsageKind; 4] = [Self::System, Self::Anonymous, Self::PageCache, Self::Tmpfs];

    fn index(self) -> usize {
        match self {
            Self::System => 0,
            Self::Anonymous => 1,
            Self::PageCache => 2,
            Self::Tmpfs => 3,
        }
    }
}

/// A snapshot of a [`MemoryFile`]'s usage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Allocated bytes, per [`UsageKind`] (in the order `System`,
    /// `Anonymous`, `PageCache`, `Tmpfs`).
    pub allocated_by_kind: [u64; 4],
    /// All allocated bytes.
    pub allocated: u64,
    /// Bytes the host has committed to the file (pages touched and not
    /// released), from `fstat`'s block count.
    pub committed: u64,
    /// The file's size: the address space reserved for allocations.
    pub file_size: u64,
}

impl MemoryUsage {
    /// Returns the bytes allocated for `kind`.
    pub fn allocated_for(&self, kind: UsageKind) -> u64 {
        self.allocated_by_kind[kind.index()]
    }
}

/// The allocator state behind [`MemoryFile`]'s mutex.
struct State {
    /// Reference counts of the pages below the high-water mark.
    refs: Vec<u32>,
    /// The [`UsageKind`] index of each allocated page.
    kinds: Vec<u8>,
    /// Free extents below the high-water mark: first page to page count.
    free: BTreeMap<u64, u64>,
    /// Chunks the file currently covers.
    chunks: u64,
    /// Allocated bytes per kind.
    allocated: [u64; 4],
}

/// A memfd-backed page allocator; see the module documentation.
///
/// # Examples
///
/// ```
/// use platform::{MemoryFile, UsageKind};
///
/// let mf = MemoryFile::new().unwrap();
/// let range = mf.allocate(8192, UsageKind::Anonymous).unwrap();
/// let map = mf.map_internal(range).unwrap();
/// map.write(100, b"hello").unwrap();
/// let mut buf = [0; 5];
/// map.read(100, &mut buf).unwrap();
/// assert_eq!(&buf, b"hello");
/// mf.dec_ref(range).unwrap();
/// assert_eq!(mf.usage().allocated, 0);
/// ```
pub struct MemoryFile {
    file: File,
    state: Mutex<State>,
    /// The sentry's mapping of each chunk, created when the file first
    /// grows over it and kept until the file is dropped.
    mappings: Box<[OnceLock<memmap2::MmapRaw>]>,
    /// The most bytes allocated at once (`u64::MAX`: no limit).
    limit: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for MemoryFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryFile")
            .field("fd", &self.file.as_raw_fd())
            .finish_non_exhaustive()
    }
}

impl MemoryFile {
    /// Creates an empty memory file backed by a new `memfd`.
    ///
    /// The descriptor is close-on-exec; stub processes, which are created
    /// with `clone(2)` and never exec, inherit it.
    pub fn new() -> Result<Self> {
        let name = c"platform-memory-file";
        // SAFETY: `name` is a valid NUL-terminated string.
        let fd = check_int(unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) })?;
        // SAFETY: `memfd_create` returned a new descriptor that nothing else owns.
        Ok(Self::with_file(unsafe { File::from_raw_fd(fd) }))
    }

    /// Creates an empty memory file backed by an unnamed file in the host
    /// directory `dir` (`O_TMPFILE`): its pages live in that filesystem
    /// (written back to disk under memory pressure) instead of RAM, and
    /// the file disappears with its last descriptor.
    ///
    /// Errors: `open`'s, e.g. `ENOENT` for a missing directory,
    /// `EOPNOTSUPP` where the filesystem has no `O_TMPFILE`.
    pub fn new_in(dir: &std::path::Path) -> Result<Self> {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
        // SAFETY: `path` is a valid NUL-terminated string.
        let fd = check_int(unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
                0o600,
            )
        })?;
        // SAFETY: `open` returned a new descriptor that nothing else owns.
        Ok(Self::with_file(unsafe { File::from_raw_fd(fd) }))
    }

    fn with_file(file: File) -> Self {
        Self {
            file,
            state: Mutex::new(State {
                refs: Vec::new(),
                kinds: Vec::new(),
                free: BTreeMap::new(),
                chunks: 0,
                allocated: [0; 4],
            }),
            mappings: (0..MAX_CHUNKS).map(|_| OnceLock::new()).collect(),
            limit: std::sync::atomic::AtomicU64::new(u64::MAX),
        }
    }

    /// Caps the bytes allocated at once (all kinds together) at `bytes`:
    /// an allocation past it fails with `ENOMEM`.
    pub fn set_limit(&self, bytes: u64) {
        self.limit
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Returns the file descriptor, for mapping the file into other address
    /// spaces.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the counts consistent
        // (every update is completed before the lock is released), so a
        // poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Allocates `len` bytes (rounded up to whole pages) of zeroed memory,
    /// each page holding one reference.
    ///
    /// Returns `EINVAL` for a zero length and `ENOMEM` for a length above
    /// [`CHUNK_SIZE`], past the limit ([`MemoryFile::set_limit`]) or when
    /// the file cannot grow.
    pub fn allocate(&self, len: u64, kind: UsageKind) -> Result<FileRange> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        if len > CHUNK_SIZE {
            return Err(Errno::ENOMEM);
        }
        let pages = len.div_ceil(PAGE_SIZE);
        let mut st = self.lock();
        let in_use: u64 = st.allocated.iter().sum();
        let limit = self.limit.load(std::sync::atomic::Ordering::Relaxed);
        if in_use.saturating_add(pages * PAGE_SIZE) > limit {
            return Err(Errno::ENOMEM);
        }
        let first = match Self::take_free(&mut st, pages) {
            Some(first) => first,
            None => self.grow(&mut st, pages)?,
        };
        for p in first..first + pages {
            let i = usize::try_from(p).map_err(|_| Errno::ENOMEM)?;
            st.refs[i] = 1;
            st.kinds[i] = kind.index() as u8;
        }
        st.allocated[kind.index()] += pages * PAGE_SIZE;
        Ok(FileRange::new(
            first * PAGE_SIZE,
            (first + pages) * PAGE_SIZE,
        ))
    }

    /// Takes `pages` pages from the first free extent that holds them
    /// without crossing a chunk boundary.
    fn take_free(st: &mut State, pages: u64) -> Option<u64> {
        let (ext_start, ext_len, first) = st.free.iter().find_map(|(&start, &len)| {
            let end = start + len;
            let mut first = start;
            if first / PAGES_PER_CHUNK != (first + pages - 1) / PAGES_PER_CHUNK {
                first = (first / PAGES_PER_CHUNK + 1) * PAGES_PER_CHUNK;
            }
            (first + pages <= end).then_some((start, len, first))
        })?;
        st.free.remove(&ext_start);
        if first > ext_start {
            st.free.insert(ext_start, first - ext_start);
        }
        let tail = first + pages;
        if tail < ext_start + ext_len {
            st.free.insert(tail, ext_start + ext_len - tail);
        }
        Some(first)
    }

    /// Extends the allocated region by `pages` pages (starting a new chunk
    /// if they would cross a boundary) and returns the first.
    fn grow(&self, st: &mut State, pages: u64) -> Result<u64> {
        let mut first = st.refs.len() as u64;
        if first / PAGES_PER_CHUNK != (first + pages - 1) / PAGES_PER_CHUNK {
            let next = (first / PAGES_PER_CHUNK + 1) * PAGES_PER_CHUNK;
            Self::insert_free(st, first, next - first);
            first = next;
        }
        let end = first + pages;
        let chunks_needed = end.div_ceil(PAGES_PER_CHUNK);
        if chunks_needed > MAX_CHUNKS as u64 {
            return Err(Errno::ENOMEM);
        }
        if chunks_needed > st.chunks {
            self.file
                .set_len(chunks_needed * CHUNK_SIZE)
                .map_err(|e| from_io(&e))?;
            for c in st.chunks..chunks_needed {
                let map = memmap2::MmapOptions::new()
                    .offset(c * CHUNK_SIZE)
                    .len(CHUNK_SIZE as usize)
                    .map_raw(&self.file)
                    .map_err(|e| from_io(&e))?;
                // The chunk index is new (below `chunks_needed`, at or above
                // `st.chunks`), so the cell is empty.
                let _ = self.mappings[c as usize].set(map);
            }
            st.chunks = chunks_needed;
        }
        let new_len = usize::try_from(end).map_err(|_| Errno::ENOMEM)?;
        st.refs.resize(new_len, 0);
        st.kinds.resize(new_len, 0);
        Ok(first)
    }

    /// Adds a free extent, merging it with its neighbours.
    fn insert_free(st: &mut State, mut start: u64, mut len: u64) {
        if len == 0 {
            return;
        }
        if let Some((&prev, &plen)) = st.free.range(..start).next_back()
            && prev + plen == start
        {
            st.free.remove(&prev);
            start = prev;
            len += plen;
        }
        if let Some(&nlen) = st.free.get(&(start + len)) {
            st.free.remove(&(start + len));
            len += nlen;
        }
        st.free.insert(start, len);
    }

    /// Validates `range` and returns its page indexes.
    fn pages_of(st: &State, range: FileRange) -> Result<std::ops::Range<usize>> {
        if !range.start.is_multiple_of(PAGE_SIZE)
            || !range.end.is_multiple_of(PAGE_SIZE)
            || range.is_empty()
        {
            return Err(Errno::EINVAL);
        }
        let first = usize::try_from(range.start / PAGE_SIZE).map_err(|_| Errno::EINVAL)?;
        let end = usize::try_from(range.end / PAGE_SIZE).map_err(|_| Errno::EINVAL)?;
        if end > st.refs.len() || st.refs[first..end].contains(&0) {
            return Err(Errno::EINVAL);
        }
        Ok(first..end)
    }

    /// Takes one more reference on every page of `range`.
    ///
    /// # Preconditions
    ///
    /// Every page of `range` is allocated (else `EINVAL`, and nothing
    /// changes).
    pub fn inc_ref(&self, range: FileRange) -> Result<()> {
        let mut st = self.lock();
        let pages = Self::pages_of(&st, range)?;
        if st.refs[pages.clone()].contains(&u32::MAX) {
            return Err(Errno::EOVERFLOW);
        }
        for r in &mut st.refs[pages] {
            *r += 1;
        }
        Ok(())
    }

    /// Drops one reference on every page of `range`, freeing (and releasing
    /// the storage of) the pages whose count reaches zero.
    ///
    /// # Preconditions
    ///
    /// Every page of `range` is allocated (else `EINVAL`, and nothing
    /// changes).
    pub fn dec_ref(&self, range: FileRange) -> Result<()> {
        let mut st = self.lock();
        let pages = Self::pages_of(&st, range)?;
        let mut run: Option<(u64, u64)> = None;
        let mut runs = Vec::new();
        for p in pages {
            st.refs[p] -= 1;
            if st.refs[p] != 0 {
                continue;
            }
            let kind = usize::from(st.kinds[p]);
            st.allocated[kind] -= PAGE_SIZE;
            let p = p as u64;
            run = match run {
                Some((s, n)) if s + n == p => Some((s, n + 1)),
                Some(done) => {
                    runs.push(done);
                    Some((p, 1))
                }
                None => Some((p, 1)),
            };
        }
        runs.extend(run);
        for (start, len) in runs {
            self.punch_hole(start * PAGE_SIZE, len * PAGE_SIZE)?;
            Self::insert_free(&mut st, start, len);
        }
        Ok(())
    }

    /// Releases the storage behind `len` bytes at `offset`; reads return
    /// zeros afterwards.
    fn punch_hole(&self, offset: u64, len: u64) -> Result<()> {
        let off = libc::off_t::try_from(offset).map_err(|_| Errno::EINVAL)?;
        let len = libc::off_t::try_from(len).map_err(|_| Errno::EINVAL)?;
        // SAFETY: `fallocate` on a descriptor this object owns; no memory is
        // passed.
        let ret = unsafe {
            libc::fallocate(
                self.file.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                off,
                len,
            )
        };
        check_int(ret).map(drop)
    }

    /// Returns the sentry's mapping of `range`, for reading and writing the
    /// pages without system calls.
    ///
    /// Returns `EINVAL` if the range is not page-aligned, not allocated, or
    /// crosses a chunk boundary (no single allocation does).
    ///
    /// # Preconditions
    ///
    /// The caller holds a reference on `range` for as long as it uses the
    /// mapping; after the pages are freed the mapping stays valid but reads
    /// zeros and writes to it are lost or land in a later allocation.
    pub fn map_internal(&self, range: FileRange) -> Result<InternalMapping<'_>> {
        let st = self.lock();
        Self::pages_of(&st, range)?;
        drop(st);
        let chunk = range.start / CHUNK_SIZE;
        if (range.end - 1) / CHUNK_SIZE != chunk {
            return Err(Errno::EINVAL);
        }
        let map = self.mappings[chunk as usize].get().ok_or(Errno::EINVAL)?;
        let offset = (range.start - chunk * CHUNK_SIZE) as usize;
        // SAFETY: `offset + len` is within the chunk (checked above), and the
        // chunk mapping is `CHUNK_SIZE` bytes long.
        let ptr = unsafe { map.as_mut_ptr().add(offset) };
        Ok(InternalMapping {
            ptr,
            len: range.len() as usize,
            _file: PhantomData,
        })
    }

    /// Returns the current usage.
    pub fn usage(&self) -> MemoryUsage {
        let st = self.lock();
        let allocated_by_kind = st.allocated;
        let file_size = st.chunks * CHUNK_SIZE;
        drop(st);
        let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `stat` points to writable memory of the right size.
        let committed = if unsafe { libc::fstat(self.file.as_raw_fd(), stat.as_mut_ptr()) } == 0 {
            // SAFETY: `fstat` succeeded and initialised `stat`.
            let stat = unsafe { stat.assume_init() };
            u64::try_from(stat.st_blocks).unwrap_or(0) * 512
        } else {
            0
        };
        MemoryUsage {
            allocated_by_kind,
            allocated: UsageKind::ALL
                .iter()
                .map(|k| allocated_by_kind[k.index()])
                .sum(),
            committed,
            file_size,
        }
    }
}

/// The sentry's view of a range of a [`MemoryFile`].
///
/// The memory is shared with application address spaces that map the same
/// range and may change at any time; it is therefore accessed by copying,
/// never through Rust references.
#[derive(Debug)]
pub struct InternalMapping<'a> {
    ptr: *mut u8,
    len: usize,
    _file: PhantomData<&'a MemoryFile>,
}

// SAFETY: the mapping is plain shared memory that lives as long as the
// `MemoryFile` it borrows; access goes through copies, which any thread may
// make.
unsafe impl Send for InternalMapping<'_> {}
// SAFETY: as for `Send`; no method hands out references into the memory.
unsafe impl Sync for InternalMapping<'_> {}

impl InternalMapping<'_> {
    /// Returns the length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Reports whether the mapping is empty (it never is).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the address of the first byte, for code that copies with
    /// its own routines (for example volatile or atomic accesses).
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    fn check(&self, offset: usize, len: usize) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(Errno::EFAULT),
        }
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`; `EFAULT` if they
    /// are not all inside the mapping.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        self.check(offset, buf.len())?;
        // SAFETY: the source range is inside the live mapping (checked), and
        // `buf` is a distinct, writable Rust buffer.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(offset), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies `buf` to `offset`; `EFAULT` if the bytes are not all inside
    /// the mapping.
    pub fn write(&self, offset: usize, buf: &[u8]) -> Result<()> {
        self.check(offset, buf.len())?;
        // SAFETY: the destination range is inside the live, writable shared
        // mapping (checked), and `buf` is a distinct Rust buffer.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), self.ptr.add(offset), buf.len()) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_do_not_overlap_and_are_zeroed() {
        let mf = MemoryFile::new().unwrap();
        let a = mf.allocate(3 * PAGE_SIZE, UsageKind::Anonymous).unwrap();
        let b = mf.allocate(1, UsageKind::PageCache).unwrap();
        assert!(a.end <= b.start || b.end <= a.start);
        assert_eq!(b.len(), PAGE_SIZE);
        let m = mf.map_internal(a).unwrap();
        let mut buf = vec![1u8; a.len() as usize];
        m.read(0, &mut buf).unwrap();
        assert!(buf.iter().all(|&x| x == 0));
    }

    #[test]
    fn the_limit_counts_every_kind_and_frees_make_room() {
        let mf = MemoryFile::new().unwrap();
        mf.set_limit(4 * PAGE_SIZE);
        let a = mf.allocate(3 * PAGE_SIZE, UsageKind::Anonymous).unwrap();
        let b = mf.allocate(PAGE_SIZE, UsageKind::PageCache).unwrap();
        assert_eq!(
            mf.allocate(PAGE_SIZE, UsageKind::Anonymous),
            Err(Errno::ENOMEM)
        );
        mf.dec_ref(b).unwrap();
        let c = mf.allocate(PAGE_SIZE, UsageKind::Anonymous).unwrap();
        mf.dec_ref(a).unwrap();
        mf.dec_ref(c).unwrap();
    }

    #[test]
    fn freed_pages_are_reused_and_read_as_zero() {
        let mf = MemoryFile::new().unwrap();
        let a = mf.allocate(PAGE_SIZE, UsageKind::Anonymous).unwrap();
        mf.map_internal(a).unwrap().write(0, &[0xaa; 64]).unwrap();
        mf.dec_ref(a).unwrap();
        let b = mf.allocate(PAGE_SIZE, UsageKind::Anonymous).unwrap();
        assert_eq!(a, b);
        let mut buf = [1u8; 64];
        mf.map_internal(b).unwrap().read(0, &mut buf).unwrap();
        assert_eq!(buf, [0; 64]);
    }

    #[test]
    fn pages_stay_allocated_until_the_last_reference_drops() {
        let mf = MemoryFile::new().unwrap();
        let a = mf.allocate(2 * PAGE_SIZE, UsageKind::Tmpfs).unwrap();
        let second = FileRange::new(a.start + PAGE_SIZE, a.end);
        mf.inc_ref(second).unwrap();
        mf.dec_ref(a).unwrap();
        assert_eq!(mf.usage().allocated_for(UsageKind::Tmpfs), PAGE_SIZE);
        assert_eq!(mf.dec_ref(a), Err(Errno::EINVAL));
        mf.dec_ref(second).unwrap();
        assert_eq!(mf.usage().allocated, 0);
    }

    #[test]
    fn unaligned_or_unallocated_ranges_are_einval() {
        let mf = MemoryFile::new().unwrap();
        let a = mf.allocate(PAGE_SIZE, UsageKind::System).unwrap();
        assert_eq!(
            mf.inc_ref(FileRange::new(a.start + 1, a.end)),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            mf.inc_ref(FileRange::new(a.end, a.end + PAGE_SIZE)),
            Err(Errno::EINVAL)
        );
        assert!(
            mf.map_internal(FileRange::new(a.end, a.end + PAGE_SIZE))
                .is_err()
        );
        assert_eq!(mf.allocate(0, UsageKind::System), Err(Errno::EINVAL));
        assert_eq!(
            mf.allocate(CHUNK_SIZE + 1, UsageKind::System),
            Err(Errno::ENOMEM)
        );
    }

    #[test]
    fn committed_usage_follows_touched_pages_and_punch_hole() {
        let mf = MemoryFile::new().unwrap();
        let a = mf.allocate(16 * PAGE_SIZE, UsageKind::Anonymous).unwrap();
        assert_eq!(mf.usage().committed, 0);
        mf.map_internal(a)
            .unwrap()
            .write(0, &vec![7u8; 16 * PAGE_SIZE as usize])
            .unwrap();
        // The host may back the file with larger pages, never smaller.
        let touched = mf.usage().committed;
        assert!(touched >= 16 * PAGE_SIZE, "{touched}");
        mf.dec_ref(a).unwrap();
        assert!(mf.usage().committed < touched);
    }

    #[test]
    fn internal_mapping_bounds_are_efault() {
        let mf = MemoryFile::new().unwrap();
        let a = mf.allocate(PAGE_SIZE, UsageKind::Anonymous).unwrap();
        let m = mf.map_internal(a).unwrap();
        assert_eq!(m.write(PAGE_SIZE as usize - 1, &[1, 2]), Err(Errno::EFAULT));
        assert_eq!(m.read(usize::MAX, &mut [0]), Err(Errno::EFAULT));
    }
}
