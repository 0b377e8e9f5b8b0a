//! The file-descriptor table (gVisor's `kernel.FDTable`): descriptor
//! numbers mapped to open file descriptions with per-descriptor flags
//! (`FD_CLOEXEC`).
//!
//! # Reference model
//!
//! Each slot holds one reference on its description; closing a descriptor
//! gives it back with the closing task's context. `fork` copies the
//! table (a new reference per slot); tasks created with `CLONE_FILES`
//! share it (`Arc` plus a count of the tasks using it, [`FdTable::share`]):
//! the descriptors are closed when the last of them exits.
//!
//! # Lock order
//!
//! `FdTable::slots` is a leaf: descriptions are released after it is
//! dropped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use abi_linux::Errno;
use vfs_core::{Context, FileRef};

/// An open descriptor: the description and the close-on-exec flag.
#[derive(Clone, Debug)]
pub struct FdEntry {
    /// The description.
    pub file: FileRef,
    /// `FD_CLOEXEC`.
    pub cloexec: bool,
}

/// A task's descriptor table.
#[derive(Debug)]
pub struct FdTable {
    slots: Mutex<BTreeMap<i32, FdEntry>>,
    /// The tasks using the table.
    users: AtomicUsize,
}

impl Default for FdTable {
    fn default() -> Self {
        Self {
            slots: Mutex::new(BTreeMap::new()),
            users: AtomicUsize::new(1),
        }
    }
}

impl FdTable {
    /// An empty table with one user.
    pub fn new() -> Self {
        Self::default()
    }

    /// The table for one more task (`CLONE_FILES`).
    pub fn share(self: &Arc<Self>) -> Arc<Self> {
        self.users.fetch_add(1, Ordering::SeqCst);
        self.clone()
    }

    /// A task stops using the table (it exits, or `execve` gives it a
    /// copy); the last user closes every descriptor, releasing with
    /// `ctx`.
    pub fn release_user(&self, ctx: &dyn Context) {
        if self.users.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.close_all(ctx);
        }
    }

    /// Whether tasks other than the caller use the table.
    pub fn is_shared(&self) -> bool {
        self.users.load(Ordering::SeqCst) > 1
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, BTreeMap<i32, FdEntry>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns a new reference to the description at `fd`; `EBADF` if none.
    pub fn get(&self, fd: i32) -> Result<FileRef, Errno> {
        self.slots()
            .get(&fd)
            .map(|e| e.file.clone())
            .ok_or(Errno::EBADF)
    }

    /// Returns the entry at `fd`; `EBADF` if none.
    pub fn entry(&self, fd: i32) -> Result<FdEntry, Errno> {
        self.slots().get(&fd).cloned().ok_or(Errno::EBADF)
    }

    /// Sets the close-on-exec flag of `fd`.
    pub fn set_cloexec(&self, fd: i32, cloexec: bool) -> Result<(), Errno> {
        let mut slots = self.slots();
        let entry = slots.get_mut(&fd).ok_or(Errno::EBADF)?;
        entry.cloexec = cloexec;
        Ok(())
    }

    /// Installs `file` at the lowest free descriptor at or above `min`;
    /// `EMFILE` when none is below `limit` (the caller's `RLIMIT_NOFILE`;
    /// the reference is then dropped).
    pub fn add(&self, file: FileRef, cloexec: bool, min: i32, limit: u64) -> Result<i32, Errno> {
        let mut slots = self.slots();
        let mut fd = min.max(0);
        for &used in slots.range(fd..).map(|(k, _)| k) {
            if used != fd {
                break;
            }
            fd += 1;
        }
        if u64::try_from(fd).map_or(true, |fd| fd >= limit) {
            return Err(Errno::EMFILE);
        }
        slots.insert(fd, FdEntry { file, cloexec });
        Ok(fd)
    }

    /// Installs `file` at exactly `fd` (`dup2`), returning the description
    /// it replaces for the caller to release; `EBADF` at or past `limit`
    /// (the caller's `RLIMIT_NOFILE`).
    pub fn set(
        &self,
        fd: i32,
        file: FileRef,
        cloexec: bool,
        limit: u64,
    ) -> Result<Option<FileRef>, Errno> {
        if u64::try_from(fd).map_or(true, |fd| fd >= limit) {
            return Err(Errno::EBADF);
        }
        Ok(self
            .slots()
            .insert(fd, FdEntry { file, cloexec })
            .map(|e| e.file))
    }

    /// Removes `fd`, returning its description; `EBADF` if none.
    pub fn remove(&self, fd: i32) -> Result<FileRef, Errno> {
        self.slots().remove(&fd).map(|e| e.file).ok_or(Errno::EBADF)
    }

    /// The open descriptor numbers, ascending.
    pub fn fds(&self) -> Vec<i32> {
        self.slots().keys().copied().collect()
    }

    /// A copy for a new process (`fork`): every descriptor refers to the
    /// same description (one new reference each), with the same flags.
    pub fn fork(&self) -> FdTable {
        FdTable {
            slots: Mutex::new(self.slots().clone()),
            users: AtomicUsize::new(1),
        }
    }

    /// Closes the descriptors marked close-on-exec (`execve`), releasing
    /// with `ctx`.
    pub fn close_on_exec(&self, ctx: &dyn Context) {
        let closed: Vec<FdEntry> = {
            let mut slots = self.slots();
            let fds: Vec<i32> = slots
                .iter()
                .filter(|(_, e)| e.cloexec)
                .map(|(&fd, _)| fd)
                .collect();
            fds.iter().filter_map(|fd| slots.remove(fd)).collect()
        };
        for entry in closed {
            // As at exit, a close hook's error reaches nobody.
            let _ = entry.file.on_close(ctx);
            entry.file.release(ctx);
        }
    }

    /// Closes every descriptor (at exit), releasing with `ctx`.
    pub fn close_all(&self, ctx: &dyn Context) {
        let slots = std::mem::take(&mut *self.slots());
        for entry in slots.into_values() {
            // An error from the file's close hook cannot reach anyone at
            // exit; Linux ignores it too.
            let _ = entry.file.on_close(ctx);
            entry.file.release(ctx);
        }
    }
}
