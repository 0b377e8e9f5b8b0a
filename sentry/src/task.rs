//! Tasks: application threads and what they share (gVisor's
//! `kernel.Task`, `task_run.go`, `task_syscall.go`).
//!
//! A [`Task`] runs on its own OS thread (platform contexts are bound to the
//! thread that creates them) in a loop: switch into application code, then
//! serve the system call, fault or signal that stopped it. Its state is
//! split by what `clone(2)` can share, so threads and `fork` can follow:
//!
//! - [`MemoryManager`] (`Arc`): shared by `CLONE_VM`, copied by `fork`.
//! - [`FdTable`] (`Arc`): shared by `CLONE_FILES`.
//! - [`FsContext`] (`Arc`): root, working directory and umask, shared by
//!   `CLONE_FS`.
//! - [`SignalHandlers`] (`Arc`): the `rt_sigaction` table, shared by
//!   `CLONE_SIGHAND`.
//! - Per thread: registers, signal mask, alternate stack, `set_tid_address`
//!   and robust-list pointers.
//!
//! # Reference model
//!
//! A task holds the kernel, its memory manager, descriptor table, fs
//! context and signal handlers (`Arc`s). The fs context holds one
//! reference on the root and working-directory locations, released when
//! the last task using it exits.
//!
//! # Lock order
//!
//! `FsContext::state` → `FdTable::slots` → `MemoryManager::state`
//! (no path takes two of them at once today).

use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{Errno, Rlimit, RlimitResource, Timespec};
use platform::{Registers, Trap};
use vfs_core::{Context, Credentials, ProcessLockOwner, VirtualDentry};

use crate::fd_table::FdTable;
use crate::kernel::Kernel;
use crate::mm::MemoryManager;
use crate::wait::TaskBlocker;

/// How a task group ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// `exit`/`exit_group` with this status (low 8 bits meaningful).
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

impl ExitStatus {
    /// The status a shell reports: the exit code, or 128 plus the signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code & 0xff,
            ExitStatus::Signaled(sig) => 128 + sig,
        }
    }
}

/// Root, working directory and umask (`struct fs_struct`).
#[derive(Debug)]
pub struct FsContext {
    state: Mutex<FsState>,
}

#[derive(Debug)]
struct FsState {
    root: Option<VirtualDentry>,
    cwd: Option<VirtualDentry>,
    umask: u32,
}

impl FsContext {
    /// A context rooted at `root` with working directory `cwd`.
    pub fn new(root: VirtualDentry, cwd: VirtualDentry) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(FsState {
                root: Some(root),
                cwd: Some(cwd),
                umask: 0o022,
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, FsState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// New references to the root and working directory; `ESRCH` after
    /// the context was released.
    pub fn root_and_cwd(&self) -> Result<(VirtualDentry, VirtualDentry), Errno> {
        let st = self.state();
        match (&st.root, &st.cwd) {
            (Some(r), Some(c)) => Ok((r.clone(), c.clone())),
            _ => Err(Errno::ESRCH),
        }
    }

    /// Replaces the working directory, returning the old one to release.
    pub fn set_cwd(&self, cwd: VirtualDentry) -> Option<VirtualDentry> {
        self.state().cwd.replace(cwd)
    }

    /// The umask.
    pub fn umask(&self) -> u32 {
        self.state().umask
    }

    /// Sets the umask, returning the old one.
    pub fn swap_umask(&self, mask: u32) -> u32 {
        std::mem::replace(&mut self.state().umask, mask & 0o777)
    }

    /// Releases the root and working directory.
    pub fn release(&self, ctx: &dyn Context) {
        let (root, cwd) = {
            let mut st = self.state();
            (st.root.take(), st.cwd.take())
        };
        for vd in [root, cwd].into_iter().flatten() {
            vd.release(ctx);
        }
    }
}

/// A signal action as `rt_sigaction` records it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    /// `sa_handler`.
    pub handler: u64,
    /// `sa_flags`.
    pub flags: u64,
    /// `sa_restorer`.
    pub restorer: u64,
    /// `sa_mask`.
    pub mask: u64,
}

/// The number of signals.
pub const NSIG: usize = 64;

/// The signal-action table (`struct sighand_struct`).
#[derive(Debug)]
pub struct SignalHandlers {
    /// Actions indexed by signal number minus one.
    pub actions: Mutex<[SigAction; NSIG]>,
}

impl Default for SignalHandlers {
    fn default() -> Self {
        Self {
            actions: Mutex::new([SigAction::default(); NSIG]),
        }
    }
}

/// The identity and limits a task's VFS operations run with.
#[derive(Clone, Debug)]
pub struct TaskContext {
    /// The credentials.
    pub credentials: Credentials,
    /// The thread-group ID, the owner of POSIX locks.
    pub tgid: i32,
}

impl Context for TaskContext {
    fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    fn now(&self) -> Timespec {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timespec {
            tv_sec: d.as_secs() as i64,
            tv_nsec: i64::from(d.subsec_nanos()),
        }
    }

    fn rlimit(&self, resource: RlimitResource) -> Rlimit {
        let _ = resource;
        Rlimit {
            cur: abi_linux::RLIM_INFINITY,
            max: abi_linux::RLIM_INFINITY,
        }
    }

    fn lock_owner(&self) -> Option<ProcessLockOwner> {
        Some(ProcessLockOwner {
            id: self.tgid as u64,
            pid: self.tgid,
        })
    }

    fn blocker(&self) -> Option<&dyn vfs_core::lock::Blocker> {
        static BLOCKER: TaskBlocker = TaskBlocker;
        Some(&BLOCKER)
    }
}

/// An application thread.
#[derive(Debug)]
pub struct Task {
    /// The kernel.
    pub kernel: Arc<Kernel>,
    /// The address space.
    pub mm: Arc<MemoryManager>,
    /// The descriptor table.
    pub fds: Arc<FdTable>,
    /// Root, working directory, umask.
    pub fs: Arc<FsContext>,
    /// Signal actions.
    pub signal_handlers: Arc<SignalHandlers>,
    /// Credentials and lock owner for VFS calls.
    pub ctx: TaskContext,
    /// The thread ID.
    pub tid: i32,
    /// The thread-group (process) ID.
    pub tgid: i32,
    /// The parent's process ID.
    pub ppid: i32,
    /// The registers while the task is stopped.
    pub regs: Registers,
    /// The blocked-signal mask.
    pub signal_mask: u64,
    /// `sigaltstack`: `(ss_sp, ss_flags, ss_size)`.
    pub alt_stack: (u64, i32, u64),
    /// `set_tid_address`.
    pub clear_child_tid: u64,
    /// `set_robust_list`: `(head, len)`.
    pub robust_list: (u64, u64),
    /// What `/proc/PID` shows of the task's thread group.
    pub process: Arc<ProcessInfo>,
    /// Set when the task group exits.
    pub exit: Option<ExitStatus>,
}

impl Task {
    /// Runs the task until its group exits; must be called on the thread
    /// that owns it (the platform context is created here).
    ///
    /// Returns the exit status, or the platform's error if application
    /// code could not run at all.
    pub fn run(&mut self) -> Result<ExitStatus, Errno> {
        let mut context = self.kernel.platform.new_context()?;
        let status = loop {
            let trap = context.switch(self.mm.address_space(), &mut self.regs)?;
            match trap {
                Trap::Syscall => {
                    crate::syscalls::dispatch(self);
                    if let Some(status) = self.exit {
                        break status;
                    }
                }
                Trap::PageFault { addr, access, info } => {
                    if let Err(e) = self.mm.handle_fault(addr, access) {
                        if self.kernel.strace {
                            eprintln!(
                                "[{:>5}] fault at {addr:#x} ({access:?}, ip {:#x}): {}, signal {}",
                                self.tid,
                                self.regs.instruction_pointer(),
                                e.name(),
                                info.signo
                            );
                        }
                        // No signal delivery yet: a fault Linux turns into
                        // SIGSEGV (or SIGBUS) kills the task group, as it
                        // does when the signal is not caught.
                        break ExitStatus::Signaled(info.signo);
                    }
                }
                Trap::Signal(info) => {
                    if self.kernel.strace {
                        eprintln!(
                            "[{:>5}] signal {} at ip {:#x}",
                            self.tid,
                            info.signo,
                            self.regs.instruction_pointer()
                        );
                    }
                    break ExitStatus::Signaled(info.signo);
                }
                Trap::Interrupted => {}
                _ => break ExitStatus::Signaled(libc::SIGKILL),
            }
        };
        self.release();
        Ok(status)
    }

    /// Gives back what the task holds in the VFS and leaves the task set.
    fn release(&mut self) {
        self.kernel.tasks.remove(self.tgid);
        self.kernel.sync_host_stdio_offsets(&self.ctx, &self.fds);
        self.fds.close_all(&self.ctx);
        self.fs.release(&self.ctx);
    }
}

/// What `/proc/PID` shows of a thread group: identity, command line and
/// the shared state of its tasks.
#[derive(Debug)]
pub struct ProcessInfo {
    /// The thread-group ID.
    pub tgid: i32,
    /// The parent's process ID.
    pub ppid: i32,
    /// The argument vector (`/proc/PID/cmdline`).
    pub argv: Vec<Vec<u8>>,
    /// The environment (`/proc/PID/environ`).
    pub envp: Vec<Vec<u8>>,
    /// The absolute path of the executable (`/proc/PID/exe`).
    pub exe: Vec<u8>,
    /// The thread name (`comm`, at most 15 bytes).
    pub comm: Mutex<Vec<u8>>,
    /// The address space.
    pub mm: Arc<MemoryManager>,
    /// The descriptor table.
    pub fds: Arc<FdTable>,
    /// Root, working directory, umask.
    pub fs: Arc<FsContext>,
    /// When the process started.
    pub start: std::time::Instant,
}

impl ProcessInfo {
    /// The thread name.
    pub fn comm(&self) -> Vec<u8> {
        self.comm.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sets the thread name.
    pub fn set_comm(&self, name: &[u8]) {
        *self.comm.lock().unwrap_or_else(|e| e.into_inner()) = name.to_vec();
    }
}

/// The live thread groups by process ID (gVisor's `TaskSet` and PID
/// namespace, flattened: one namespace).
///
/// # Lock order
///
/// `TaskSet::processes` is a leaf.
#[derive(Debug, Default)]
pub struct TaskSet {
    processes: Mutex<std::collections::BTreeMap<i32, Arc<ProcessInfo>>>,
}

impl TaskSet {
    fn processes(&self) -> MutexGuard<'_, std::collections::BTreeMap<i32, Arc<ProcessInfo>>> {
        self.processes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a thread group.
    pub fn insert(&self, info: Arc<ProcessInfo>) {
        self.processes().insert(info.tgid, info);
    }

    /// Removes a thread group.
    pub fn remove(&self, tgid: i32) {
        self.processes().remove(&tgid);
    }

    /// The thread group `tgid`.
    pub fn get(&self, tgid: i32) -> Option<Arc<ProcessInfo>> {
        self.processes().get(&tgid).cloned()
    }

    /// The memory the live processes use: their present pages.
    pub fn memory_used(&self) -> u64 {
        let processes: Vec<Arc<ProcessInfo>> = self.processes().values().cloned().collect();
        processes
            .iter()
            .map(|p| p.mm.present_pages() as u64 * crate::elf::PAGE_SIZE)
            .sum()
    }

    /// The live process IDs, ascending.
    pub fn pids(&self) -> Vec<i32> {
        self.processes().keys().copied().collect()
    }
}
