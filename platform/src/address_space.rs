//! The address space both backends use: a stub process (the *master*)
//! whose memory is the application's, served by a dedicated sentry thread.
//!
//! ptrace requests must come from the tracer thread, and an address space is
//! shared by the contexts of many sentry threads, so each address space has
//! one *service thread* that traces the master and runs, on request,
//! `mmap`/`munmap` in it and `clone(CLONE_VM)` to make a stub process for a
//! new context. Contexts then attach to their own stub (see `ptrace.rs`,
//! `systrap.rs`).
//!
//! # Reference model
//!
//! [`StubAddressSpace`] owns the service thread; the thread owns the master.
//! `AsShared` (held strongly by the address space, weakly by contexts)
//! lists the context stubs; whoever removes a pid from the list kills and
//! reaps it: the context (or the idle stub it left) when it is dropped,
//! the service thread when the address space is dropped. A backend may
//! park a dropped context's set-up stub in `AsShared` for the next
//! context of the address space (creating and setting up a stub costs
//! far more than a thread's whole life in some programs).
//!
//! # Lock order
//!
//! `StubAddressSpace::mappings` (held while the service thread runs a
//! call), then `AsShared::stubs`, then `AsShared::slots`; all are leaves
//! with respect to the memory file's lock.

use std::any::Any;
use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use abi_linux::{Errno, Result};

use crate::memory_file::{FileRange, MemoryFile};
use crate::platform::{Access, AddressSpace};
use crate::stub::{self, MAX_SLOTS, MAX_USER_ADDRESS, MIN_USER_ADDRESS, Tracee};
use crate::sys::PAGE_SIZE;

/// State shared between an address space and the contexts using it.
#[derive(Debug)]
pub(crate) struct AsShared {
    /// A unique id, for contexts to find their stub.
    pub(crate) id: u64,
    /// Context stub pids not yet reaped.
    stubs: Mutex<Vec<i32>>,
    /// Which message slots are in use.
    slots: Mutex<Vec<bool>>,
    /// Set-up stubs of contexts that were dropped, kept for the next
    /// context (a backend's own type; dropping one releases it).
    idle: Mutex<Vec<Box<dyn Any + Send>>>,
}

/// How many idle stubs an address space keeps at most.
const MAX_IDLE_STUBS: usize = 64;

impl AsShared {
    /// Removes `pid` from the stub list; returns whether it was there (and
    /// so the caller must kill and reap it).
    pub(crate) fn forget_stub(&self, pid: i32) -> bool {
        let mut stubs = self.stubs.lock().unwrap_or_else(|e| e.into_inner());
        match stubs.iter().position(|&p| p == pid) {
            Some(i) => {
                stubs.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Takes a free message slot.
    pub(crate) fn take_slot(&self) -> Result<usize> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let i = slots.iter().position(|used| !used).ok_or(Errno::EAGAIN)?;
        slots[i] = true;
        Ok(i)
    }

    /// Keeps a dropped context's set-up stub for the next context; gives
    /// it back when the address space keeps enough already.
    pub(crate) fn park_idle(
        &self,
        stub: Box<dyn Any + Send>,
    ) -> std::result::Result<(), Box<dyn Any + Send>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() >= MAX_IDLE_STUBS {
            return Err(stub);
        }
        idle.push(stub);
        Ok(())
    }

    /// Takes an idle stub, if any.
    pub(crate) fn take_idle(&self) -> Option<Box<dyn Any + Send>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    /// Returns a message slot.
    pub(crate) fn release_slot(&self, index: usize) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = slots.get_mut(index) {
            *s = false;
        }
    }
}

enum Request {
    Syscall {
        nr: i64,
        args: [u64; 6],
        reply: mpsc::SyncSender<Result<u64>>,
    },
    NewStub {
        reply: mpsc::SyncSender<Result<i32>>,
    },
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// An address space backed by a master stub process.
pub(crate) struct StubAddressSpace {
    pub(crate) shared: Arc<AsShared>,
    memory_file: Arc<MemoryFile>,
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    master_pid: i32,
    /// The permissions of what is mapped: start to (end, permissions),
    /// non-overlapping. Held across the system call that changes the
    /// mappings, so that the table follows the order of the calls.
    mappings: Mutex<BTreeMap<u64, (u64, Access)>>,
}

impl std::fmt::Debug for StubAddressSpace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StubAddressSpace")
            .field("id", &self.shared.id)
            .field("master", &self.master_pid)
            .finish()
    }
}

impl StubAddressSpace {
    /// Creates the address space: starts the service thread, which spawns
    /// the master.
    pub(crate) fn new(memory_file: Arc<MemoryFile>) -> Result<Self> {
        let shared = Arc::new(AsShared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            stubs: Mutex::new(Vec::new()),
            slots: Mutex::new(vec![false; MAX_SLOTS]),
            idle: Mutex::new(Vec::new()),
        });
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let memfd = memory_file.fd().as_raw_fd();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("platform-as-{}", shared.id))
            .spawn(move || serve(memfd, &thread_shared, &ready_tx, &rx))
            .map_err(|_| Errno::EAGAIN)?;
        let master_pid = match ready_rx.recv() {
            Ok(Ok(pid)) => pid,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(Errno::EIO);
            }
        };
        Ok(Self {
            shared,
            memory_file,
            requests: Some(tx),
            thread: Some(thread),
            master_pid,
            mappings: Mutex::new(BTreeMap::new()),
        })
    }

    /// Returns the permissions of the mapping holding `addr`, if any.
    pub(crate) fn permissions_at(&self, addr: u64) -> Option<Access> {
        let mappings = self.mappings.lock().unwrap_or_else(|e| e.into_inner());
        let (_, &(end, perms)) = mappings.range(..=addr).next_back()?;
        (addr < end).then_some(perms)
    }

    /// Removes `start..end` from the mapping table, splitting the entries
    /// that straddle its ends.
    fn forget_range(mappings: &mut BTreeMap<u64, (u64, Access)>, start: u64, end: u64) {
        if let Some((&s, &(e, p))) = mappings.range(..start).next_back()
            && e > start
        {
            mappings.insert(s, (start, p));
            if e > end {
                mappings.insert(end, (e, p));
            }
        }
        let inside: Vec<u64> = mappings.range(start..end).map(|(&s, _)| s).collect();
        for s in inside {
            if let Some((e, p)) = mappings.remove(&s)
                && e > end
            {
                mappings.insert(end, (e, p));
            }
        }
    }

    fn call<T>(&self, make: impl FnOnce(mpsc::SyncSender<Result<T>>) -> Request) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let requests = self.requests.as_ref().ok_or(Errno::ESRCH)?;
        requests.send(make(tx)).map_err(|_| Errno::ESRCH)?;
        rx.recv().map_err(|_| Errno::ESRCH)?
    }

    /// Runs system call `nr` in the master.
    pub(crate) fn syscall(&self, nr: i64, args: [u64; 6]) -> Result<u64> {
        self.call(|reply| Request::Syscall { nr, args, reply })
    }

    /// Creates a stub process for a context: it shares this address space,
    /// is stopped and untraced, and is listed for cleanup.
    pub(crate) fn new_stub(&self) -> Result<i32> {
        self.call(|reply| Request::NewStub { reply })
    }

    fn check_range(addr: u64, len: u64) -> Result<()> {
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if !addr.is_multiple_of(PAGE_SIZE) || !len.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(Errno::EINVAL);
        }
        if addr < MIN_USER_ADDRESS || end > MAX_USER_ADDRESS {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

/// The service thread: spawns the master, then serves requests until the
/// address space drops its sender, then kills and reaps every stub.
fn serve(
    memfd: i32,
    shared: &AsShared,
    ready: &mpsc::SyncSender<Result<i32>>,
    requests: &mpsc::Receiver<Request>,
) {
    let master = match stub::spawn_stub(memfd) {
        Ok(t) => t,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if ready.send(Ok(master.pid)).is_err() {
        stub::kill_and_reap(master.pid);
        return;
    }
    for req in requests {
        match req {
            Request::Syscall { nr, args, reply } => {
                let _ = reply.send(master.syscall(nr, args));
            }
            Request::NewStub { reply } => {
                let _ = reply.send(new_stub(&master, shared));
            }
        }
    }
    let stubs = std::mem::take(&mut *shared.stubs.lock().unwrap_or_else(|e| e.into_inner()));
    for pid in stubs {
        stub::kill_and_reap(pid);
    }
    stub::kill_and_reap(master.pid);
}

fn new_stub(master: &Tracee, shared: &AsShared) -> Result<i32> {
    let pid = stub::clone_stub(master)?;
    shared
        .stubs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(pid);
    Ok(pid)
}

impl AddressSpace for StubAddressSpace {
    fn map_file(
        &self,
        addr: u64,
        file: &MemoryFile,
        file_range: FileRange,
        perms: Access,
        precommit: bool,
    ) -> Result<()> {
        if !std::ptr::eq(file, &*self.memory_file) || !file_range.start.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        Self::check_range(addr, file_range.len())?;
        let mut flags = libc::MAP_SHARED | libc::MAP_FIXED;
        if precommit {
            flags |= libc::MAP_POPULATE;
        }
        let fd = file.fd().as_raw_fd() as u64;
        let mut mappings = self.mappings.lock().unwrap_or_else(|e| e.into_inner());
        let got = self.syscall(
            libc::SYS_mmap,
            [
                addr,
                file_range.len(),
                perms.to_prot() as u64,
                flags as u64,
                fd,
                file_range.start,
            ],
        )?;
        if got != addr {
            return Err(Errno::ENOMEM);
        }
        let end = addr + file_range.len();
        Self::forget_range(&mut mappings, addr, end);
        mappings.insert(addr, (end, perms));
        Ok(())
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        Self::check_range(addr, len)?;
        let mut mappings = self.mappings.lock().unwrap_or_else(|e| e.into_inner());
        self.syscall(libc::SYS_munmap, [addr, len, 0, 0, 0, 0])?;
        Self::forget_range(&mut mappings, addr, addr + len);
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for StubAddressSpace {
    fn drop(&mut self) {
        // Idle stubs release their slots and memory; closing the channel
        // then ends the service thread, which kills and reaps the stubs.
        let idle = std::mem::take(&mut *self.shared.idle.lock().unwrap_or_else(|e| e.into_inner()));
        drop(idle);
        self.requests = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgetting_the_middle_of_a_mapping_splits_it() {
        let mut m = BTreeMap::new();
        m.insert(0x1000, (0x4000, Access::READ_WRITE));
        m.insert(0x4000, (0x5000, Access::READ));
        StubAddressSpace::forget_range(&mut m, 0x2000, 0x4800);
        let entries: Vec<_> = m.into_iter().collect();
        assert_eq!(
            entries,
            [
                (0x1000, (0x2000, Access::READ_WRITE)),
                (0x4800, (0x5000, Access::READ))
            ]
        );
    }

    #[test]
    fn forgetting_inside_one_mapping_keeps_both_ends() {
        let mut m = BTreeMap::new();
        m.insert(0x1000, (0x9000, Access::ALL));
        StubAddressSpace::forget_range(&mut m, 0x3000, 0x4000);
        let entries: Vec<_> = m.into_iter().collect();
        assert_eq!(
            entries,
            [
                (0x1000, (0x3000, Access::ALL)),
                (0x4000, (0x9000, Access::ALL))
            ]
        );
    }
}
