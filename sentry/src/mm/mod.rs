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
//! # Reference model
//!
//! Each present page holds one reference on its memory-file page, dropped
//! when the page is unmapped. Private pages are allocated for one memory
//! manager; pages of a shared anonymous mapping belong to a
//! [`SharedMemory`] object (which holds its own reference on each page), and
//! each memory manager that maps one takes a further reference. `fork`
//! will copy VMAs and present pages (copy-on-write needs a reference per
//! sharer, which this layout already has).
//!
//! # Lock order
//!
//! `MemoryManager::state` → `SharedMemory::pages` → the memory file's
//! allocator lock (inside `MemoryFile`) and the address space's locks
//! (inside `AddressSpace`).

pub mod io;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{Errno, Result};
use platform::{Access, AddressSpace, FileRange, MemoryFile, UsageKind};

use crate::elf::{PAGE_SIZE, page_down, page_up};

/// How many pages a fault on private memory populates at most (faults are
/// expensive under ptrace; neighbours are likely to be touched next).
const FAULT_AROUND_PAGES: u64 = 16;

/// The largest brk heap (Linux limits it by `RLIMIT_DATA`).
const MAX_BRK_SIZE: u64 = 1 << 34;

/// Anonymous memory shared between mappings (`MAP_SHARED|MAP_ANONYMOUS`).
#[derive(Debug)]
pub struct SharedMemory {
    mf: Arc<MemoryFile>,
    /// Offset in the object → memory-file offset of the page.
    pages: Mutex<BTreeMap<u64, u64>>,
}

impl SharedMemory {
    fn new(mf: Arc<MemoryFile>) -> Arc<Self> {
        Arc::new(Self {
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
        }
    }
}

/// The mutable state of a memory manager.
#[derive(Debug, Default)]
struct State {
    /// VMAs keyed by start address; they never overlap.
    vmas: BTreeMap<u64, Vma>,
    /// Present pages: application page address → memory-file offset. Each
    /// holds one reference and is mapped in the address space.
    pages: BTreeMap<u64, u64>,
    /// The start of the heap.
    brk_start: u64,
    /// The current program break.
    brk: u64,
}

/// An application's address space and what is mapped in it.
pub struct MemoryManager {
    mf: Arc<MemoryFile>,
    address_space: Box<dyn AddressSpace>,
    min_addr: u64,
    max_addr: u64,
    state: Mutex<State>,
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

/// Reports whether `have` permits `want` (on x86_64 a writable or
/// executable page is also readable).
fn permits(have: Access, want: Access) -> bool {
    (!want.read || have.read || have.write || have.execute)
        && (!want.write || have.write)
        && (!want.execute || have.execute)
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
            mf,
            address_space,
            min_addr,
            max_addr,
            state: Mutex::new(State::default()),
        }
    }

    /// The platform address space, for [`platform::Context::switch`].
    pub fn address_space(&self) -> &dyn AddressSpace {
        &*self.address_space
    }

    /// The lowest mappable address.
    pub fn min_addr(&self) -> u64 {
        self.min_addr
    }

    /// The address above the highest mappable one.
    pub fn max_addr(&self) -> u64 {
        self.max_addr
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
        let start = if fixed {
            self.check_range(addr, len)?;
            addr
        } else {
            let hint = page_down(addr);
            let hint_ok = hint >= self.min_addr
                && hint
                    .checked_add(len)
                    .is_some_and(|e| e <= self.max_addr && Self::is_free(&st, hint, e));
            if hint != 0 && hint_ok {
                hint
            } else {
                Self::find_free(&st, len, self.max_addr, self.min_addr)?
            }
        };
        let end = start + len;
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

    /// Drops the present pages in `start..end` from the address space and
    /// the memory file.
    fn drop_pages(&self, st: &mut State, start: u64, end: u64) -> Result<()> {
        let gone: Vec<(u64, u64)> = st.pages.range(start..end).map(|(&a, &o)| (a, o)).collect();
        if gone.is_empty() {
            return Ok(());
        }
        self.address_space.unmap(start, end - start)?;
        for (addr, off) in gone {
            st.pages.remove(&addr);
            self.mf.dec_ref(FileRange::new(off, off + PAGE_SIZE))?;
        }
        Ok(())
    }

    fn unmap_locked(&self, st: &mut State, start: u64, end: u64) -> Result<()> {
        Self::split_at(st, start);
        Self::split_at(st, end);
        for k in st
            .vmas
            .range(start..end)
            .map(|(&k, _)| k)
            .collect::<Vec<_>>()
        {
            st.vmas.remove(&k);
        }
        self.drop_pages(st, start, end)
    }

    /// `munmap(2)`.
    pub fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        let end = self.check_range(addr, len).map_err(|_| Errno::EINVAL)?;
        let mut st = lock(&self.state);
        self.unmap_locked(&mut st, addr, end)
    }

    /// `mprotect(2)`: `ENOMEM` if part of the range is not mapped.
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
            if k > cursor || st.vmas[&k].end <= cursor {
                return Err(Errno::ENOMEM);
            }
            cursor = st.vmas[&k].end;
        }
        if cursor < end {
            return Err(Errno::ENOMEM);
        }
        Self::split_at(&mut st, addr);
        Self::split_at(&mut st, end);
        for (_, vma) in st.vmas.range_mut(addr..end) {
            vma.perms = perms;
        }
        let present: Vec<(u64, u64)> = st.pages.range(addr..end).map(|(&a, &o)| (a, o)).collect();
        for (page, off) in present {
            self.address_space.map_file(
                page,
                &self.mf,
                FileRange::new(off, off + PAGE_SIZE),
                perms,
                false,
            )?;
        }
        Ok(())
    }

    /// `madvise(MADV_DONTNEED)`: private pages read as zeros afterwards;
    /// shared pages are refetched from their object.
    pub fn discard(&self, addr: u64, len: u64) -> Result<()> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        let end = self.check_range(addr, len)?;
        let mut st = lock(&self.state);
        self.drop_pages(&mut st, addr, end)
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
            if let Some(v) = st.vmas.get_mut(&vstart) {
                v.end = new_end;
            }
            return Ok(old);
        }
        if !may_move {
            return Err(Errno::ENOMEM);
        }
        let dest = Self::find_free(&st, new_len, self.max_addr, self.min_addr)?;
        let moved: Vec<(u64, u64)> = st
            .pages
            .range(old..old_end)
            .map(|(&a, &o)| (a, o))
            .collect();
        for &(page, off) in &moved {
            st.pages.remove(&page);
            let to = dest + (page - old);
            self.address_space.map_file(
                to,
                &self.mf,
                FileRange::new(off, off + PAGE_SIZE),
                vma.perms,
                false,
            )?;
            st.pages.insert(to, off);
        }
        if !moved.is_empty() {
            self.address_space.unmap(old, old_len)?;
        }
        Self::split_at(&mut st, old);
        Self::split_at(&mut st, old_end);
        let mut moved_vma = st.vmas.remove(&old).ok_or(Errno::EFAULT)?;
        moved_vma.end = dest + new_len;
        st.vmas.insert(dest, moved_vma);
        Ok(dest)
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
            // one.
            let heap = st
                .vmas
                .range_mut(..old_top)
                .next_back()
                .filter(|(_, v)| v.end == old_top && v.name.as_deref() == Some("[heap]"));
            match heap {
                Some((_, v)) => v.end = new_top,
                None => {
                    st.vmas.insert(
                        old_top,
                        Vma {
                            end: new_top,
                            perms: Access::READ_WRITE,
                            backing: Backing::Private,
                            name: Some("[heap]".into()),
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

    /// Makes the page at `page` present, checking `want` against the VMA
    /// unless `force`; populates up to [`FAULT_AROUND_PAGES`] private pages
    /// around it. Returns the memory-file offset of `page`.
    fn populate(&self, st: &mut State, page: u64, want: Access, force: bool) -> Result<u64> {
        let (&vstart, vma) = st.vmas.range(..=page).next_back().ok_or(Errno::EFAULT)?;
        if vma.end <= page || (!force && !permits(vma.perms, want)) {
            return Err(Errno::EFAULT);
        }
        if let Some(&off) = st.pages.get(&page) {
            return Ok(off);
        }
        let perms = vma.perms;
        match vma.backing.clone() {
            Backing::Shared { memory, offset } => {
                let off = memory.page_ref(offset + (page - vstart))?;
                self.address_space.map_file(
                    page,
                    &self.mf,
                    FileRange::new(off, off + PAGE_SIZE),
                    perms,
                    false,
                )?;
                st.pages.insert(page, off);
                Ok(off)
            }
            Backing::Private => {
                let window = FAULT_AROUND_PAGES * PAGE_SIZE;
                let mut end = (page - page % window + window).min(vma.end);
                if let Some((&next, _)) = st.pages.range(page..end).next() {
                    end = next;
                }
                let range = self.mf.allocate(end - page, UsageKind::Anonymous)?;
                if let Err(e) = self
                    .address_space
                    .map_file(page, &self.mf, range, perms, false)
                {
                    self.mf.dec_ref(range)?;
                    return Err(e);
                }
                for (i, addr) in (page..end).step_by(PAGE_SIZE as usize).enumerate() {
                    st.pages.insert(addr, range.start + i as u64 * PAGE_SIZE);
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
        let present = st.pages.get(&page).copied();
        let off = self.populate(&mut st, page, access, false)?;
        if present.is_some() {
            // Mapped already: the platform saw an access the mapping
            // refused that the VMA allows (the ptrace backend reports some
            // writes as reads); map it again with the VMA's permissions.
            let (_, vma) = st.vmas.range(..=page).next_back().ok_or(Errno::EFAULT)?;
            self.address_space.map_file(
                page,
                &self.mf,
                FileRange::new(off, off + PAGE_SIZE),
                vma.perms,
                false,
            )?;
        }
        Ok(())
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
        let mut st = lock(&self.state);
        let mut done = 0usize;
        while done < len {
            let cur = match addr.checked_add(done as u64) {
                Some(c) => c,
                None => break,
            };
            let page = page_down(cur);
            let off = match self.populate(&mut st, page, want, force) {
                Ok(off) => off,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            let map = self.mf.map_internal(FileRange::new(off, off + PAGE_SIZE))?;
            let in_page = (cur - page) as usize;
            let n = (PAGE_SIZE as usize - in_page).min(len - done);
            // SAFETY: `in_page + n <= PAGE_SIZE`, the length of `map`.
            let ptr = unsafe { map.as_ptr().add(in_page) };
            let moved = match f(ptr, n) {
                Ok(moved) => moved,
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

    /// The VMAs, for `/proc/self/maps` and tests: `(start, vma)`.
    pub fn vmas(&self) -> Vec<(u64, Vma)> {
        lock(&self.state)
            .vmas
            .iter()
            .map(|(&k, v)| (k, v.clone()))
            .collect()
    }

    /// How many pages are present.
    pub fn present_pages(&self) -> usize {
        lock(&self.state).pages.len()
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
        for off in st.pages.into_values() {
            // The address space goes away with `self`; only the memory-file
            // references remain to give back.
            let _ = self.mf.dec_ref(FileRange::new(off, off + PAGE_SIZE));
        }
    }
}

#[cfg(test)]
mod tests;
