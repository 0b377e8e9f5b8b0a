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
//!   and robust-list pointers, saved signal-handler frames.
//!
//! `fork` copies all four (see `syscalls::process`); each process is one
//! task. The [`TaskSet`] holds the process tree: parent links, zombies
//! until `wait4` reaps them, orphans reparented to the init process (PID
//! 1), whose exit kills every other process; the sandbox's exit status is
//! the init process's.
//!
//! Signals: `kill` of a process whose action is the default one ends it
//! with that signal (stop signals and default-ignored ones have no
//! effect); a caught signal, and `SIGCHLD` to a parent that catches it, is
//! posted and its handler runs when the task next enters application code
//! (a frame with `sa_restorer` as return address; `rt_sigreturn` restores
//! the registers and mask saved in the sentry). A posted signal does not
//! interrupt a blocking system call other than `rt_sigsuspend` and
//! `pause`; there is no `SA_ONSTACK` (the alternate stack is recorded
//! only), no `siginfo` beyond the signal number, and no core dumps.
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
//! (no path takes two of them at once today); `TaskSet::tree` →
//! `SignalHandlers::actions` → the kill switches' locks → `TaskSet::processes`.

use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{Errno, Rlimit, RlimitResource, Timespec};
use platform::{Registers, Trap};
use vfs_core::{Context, Credentials, ProcessLockOwner, VirtualDentry};

use crate::fd_table::FdTable;
use crate::kernel::Kernel;
use crate::mm::MemoryManager;
use crate::wait::{KillSwitch, TaskBlocker};

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

    /// A copy for a new process (`fork`): new references to the same root
    /// and working directory, the same umask. `ESRCH` after the context
    /// was released.
    pub fn fork(&self) -> Result<Arc<Self>, Errno> {
        let (root, cwd) = self.root_and_cwd()?;
        let copy = Self::new(root, cwd);
        copy.swap_umask(self.umask());
        Ok(copy)
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

impl SignalHandlers {
    fn actions(&self) -> MutexGuard<'_, [SigAction; NSIG]> {
        self.actions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the table for a new process (`fork`).
    pub fn copy(&self) -> Arc<Self> {
        Arc::new(Self {
            actions: Mutex::new(*self.actions()),
        })
    }

    /// Resets caught signals to their default action, keeping ignored
    /// ones ignored (`execve`).
    pub fn reset_for_exec(&self) {
        for action in self.actions().iter_mut() {
            let handler = if action.handler == SIG_IGN {
                SIG_IGN
            } else {
                0
            };
            *action = SigAction {
                handler,
                ..SigAction::default()
            };
        }
    }
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
    /// How other tasks kill this one.
    pub kill: Arc<KillSwitch>,
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
    /// The registers and signal masks that signal-handler frames saved,
    /// innermost last (`rt_sigreturn` restores them).
    pub signal_frames: Vec<(Registers, u64)>,
    /// The mask `rt_sigsuspend` replaced, restored once a handler ran.
    pub saved_mask: Option<u64>,
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
        let result = self.run_loop();
        KillSwitch::uninstall();
        // A task whose application code could not run ends as if killed.
        self.release(result.unwrap_or(ExitStatus::Signaled(libc::SIGKILL)));
        result
    }

    fn run_loop(&mut self) -> Result<ExitStatus, Errno> {
        let mut context = self.kernel.platform.new_context()?;
        self.kill.install(context.interrupter());
        let status = loop {
            if let Some(signal) = self.kill.signal() {
                break ExitStatus::Signaled(signal);
            }
            if let Some(status) = self.deliver_signal() {
                break status;
            }
            if let Some(mask) = self.saved_mask.take() {
                self.signal_mask = mask;
            }
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
        Ok(status)
    }

    /// Runs the handler of the lowest posted signal the mask lets through
    /// (gVisor's `Task.deliverSignal` for a caught signal): pushes a frame
    /// (return address `sa_restorer`, a zeroed `ucontext` with the old
    /// mask, a `siginfo` with the signal number) below the red zone of the
    /// current stack, saves the registers and mask for `rt_sigreturn` and
    /// enters the handler. A signal whose action became the default one
    /// since it was posted takes that action; returns the status when it
    /// ends the task.
    fn deliver_signal(&mut self) -> Option<ExitStatus> {
        let signal = self.kill.take_pending(self.signal_mask)?;
        let index = signal as usize - 1;
        let action = self.signal_handlers.actions()[index];
        if action.handler <= SIG_IGN {
            let default_ignored = matches!(signal, 17..=23 | 28);
            return (action.handler == 0 && !default_ignored)
                .then_some(ExitStatus::Signaled(signal));
        }
        if action.flags & SA_RESTORER == 0 {
            // Without a restorer the handler would return to nowhere.
            return Some(ExitStatus::Signaled(libc::SIGSEGV));
        }
        let old_mask = self.saved_mask.take().unwrap_or(self.signal_mask);
        let below = self.regs.stack_pointer().wrapping_sub(RED_ZONE);
        // At a function's entry the stack is 8 bytes off 16-byte alignment.
        let frame = (below.wrapping_sub(SIGNAL_FRAME_SIZE) & !15).wrapping_sub(8);
        let uc = frame + 8;
        let info = uc + UCONTEXT_SIZE;
        let mut bytes = vec![0u8; SIGNAL_FRAME_SIZE as usize];
        bytes[..8].copy_from_slice(&action.restorer.to_le_bytes());
        let mask_at = 8 + UC_SIGMASK_OFFSET as usize;
        bytes[mask_at..mask_at + 8].copy_from_slice(&old_mask.to_le_bytes());
        let info_at = (info - frame) as usize;
        bytes[info_at..info_at + 4].copy_from_slice(&signal.to_le_bytes());
        if self.mm.copy_out_exact(frame, &bytes).is_err() {
            return Some(ExitStatus::Signaled(libc::SIGSEGV));
        }
        if self.signal_frames.len() >= MAX_SIGNAL_FRAMES {
            // A handler that left by `longjmp` never returns through its
            // frame; forget the oldest.
            self.signal_frames.remove(0);
        }
        self.signal_frames.push((self.regs.clone(), old_mask));
        let g = &mut self.regs.general;
        g.rip = action.handler;
        g.rsp = frame;
        g.rdi = signal as u64;
        g.rsi = info;
        g.rdx = uc;
        g.rax = 0;
        let mut mask = old_mask | action.mask;
        if action.flags & SA_NODEFER == 0 {
            mask |= 1 << index;
        }
        self.signal_mask = mask & !UNBLOCKABLE;
        if action.flags & SA_RESETHAND != 0 {
            self.signal_handlers.actions()[index] = SigAction::default();
        }
        None
    }

    /// Ends a task that never ran (its thread is gone) as if killed.
    pub(crate) fn abandon(mut self) {
        self.release(ExitStatus::Signaled(libc::SIGKILL));
        let tasks = self.kernel.tasks.clone();
        drop(self);
        tasks.thread_done();
    }

    /// Gives back what the task holds in the VFS, leaves `/proc` and
    /// becomes a zombie for its parent to reap.
    fn release(&mut self, status: ExitStatus) {
        self.kernel.tasks.remove(self.tgid);
        if self.clear_child_tid != 0 {
            // Nobody else shares the address space to wake; the write is
            // what `CLONE_CHILD_CLEARTID` promises.
            let _ = self.mm.copy_out(self.clear_child_tid, &0u32.to_le_bytes());
        }
        self.fds.close_all(&self.ctx);
        self.fs.release(&self.ctx);
        self.kernel.tasks.exited(self.tgid, status);
    }
}

/// What `/proc/PID` shows of a thread group: identity, command line and
/// the shared state of its tasks.
#[derive(Debug)]
pub struct ProcessInfo {
    /// The thread-group ID.
    pub tgid: i32,
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

/// The bytes below the stack pointer a signal frame leaves alone.
const RED_ZONE: u64 = 128;
/// `sizeof(struct ucontext)` on x86_64.
const UCONTEXT_SIZE: u64 = 936;
/// The offset of `uc_sigmask` in `struct ucontext`.
const UC_SIGMASK_OFFSET: u64 = 296;
/// The return address, the `ucontext` and a 128-byte `siginfo`.
const SIGNAL_FRAME_SIZE: u64 = 8 + UCONTEXT_SIZE + 128;
/// How many handler frames are remembered at most.
const MAX_SIGNAL_FRAMES: usize = 64;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_NODEFER: u64 = 0x4000_0000;
const SA_RESETHAND: u64 = 0x8000_0000;
/// `SIGKILL` and `SIGSTOP`, which no mask blocks.
pub const UNBLOCKABLE: u64 = (1 << 8) | (1 << 18);

/// The default limit on processes (live and zombie) in one sandbox.
pub const DEFAULT_MAX_PROCESSES: usize = 1024;

/// `SIGCHLD`.
const SIGCHLD: i32 = 17;
/// `SIG_IGN` as `rt_sigaction` records it.
const SIG_IGN: u64 = 1;
/// `SA_NOCLDWAIT`.
const SA_NOCLDWAIT: u64 = 2;

/// A process in the tree.
#[derive(Debug)]
struct Node {
    /// The parent's process ID (0 for the init process).
    ppid: i32,
    /// Set when the process has exited (a zombie until reaped).
    exit: Option<ExitStatus>,
    /// How to kill it.
    kill: Arc<KillSwitch>,
    /// Its signal actions (whether it ignores a signal, or `SIGCHLD`).
    handlers: Arc<SignalHandlers>,
}

/// The process tree (gVisor's `TaskSet.mu` side).
#[derive(Debug)]
struct Tree {
    nodes: std::collections::BTreeMap<i32, Node>,
    next_pid: i32,
    /// Task threads that have not finished yet.
    threads: usize,
    max_processes: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Self {
            nodes: std::collections::BTreeMap::new(),
            next_pid: 1,
            threads: 0,
            max_processes: DEFAULT_MAX_PROCESSES,
        }
    }
}

/// Which children `wait4`/`waitid` wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitTarget {
    /// Any child.
    Any,
    /// The child with this process ID.
    Pid(i32),
}

/// The live thread groups by process ID and the process tree (gVisor's
/// `TaskSet` and PID namespace, flattened: one namespace).
///
/// # Lock order
///
/// `TaskSet::tree` → `SignalHandlers::actions`, the kill switches' locks
/// and `TaskSet::processes`, a leaf.
#[derive(Debug, Default)]
pub struct TaskSet {
    processes: Mutex<std::collections::BTreeMap<i32, Arc<ProcessInfo>>>,
    tree: Mutex<Tree>,
    changed: std::sync::Condvar,
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

    fn tree(&self) -> MutexGuard<'_, Tree> {
        self.tree.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Limits the processes (live and zombie) the sandbox may have; a
    /// `fork` beyond it fails with `EAGAIN` (as `RLIMIT_NPROC` does).
    pub fn set_max_processes(&self, max: usize) {
        self.tree().max_processes = max;
    }

    /// Enters a new process with parent `ppid` (0 for the init process)
    /// into the tree and returns its process ID; its thread counts as
    /// running until [`Self::thread_done`]. `EAGAIN` at the process limit.
    pub fn new_process(
        &self,
        ppid: i32,
        kill: Arc<KillSwitch>,
        handlers: Arc<SignalHandlers>,
    ) -> Result<i32, Errno> {
        let mut tree = self.tree();
        if tree.nodes.len() >= tree.max_processes {
            return Err(Errno::EAGAIN);
        }
        let pid = tree.next_pid;
        tree.next_pid = pid.checked_add(1).ok_or(Errno::EAGAIN)?;
        tree.nodes.insert(
            pid,
            Node {
                ppid,
                exit: None,
                kill,
                handlers,
            },
        );
        tree.threads += 1;
        Ok(pid)
    }

    /// The parent of `tgid` (0 for the init process or an unknown one).
    pub fn ppid(&self, tgid: i32) -> i32 {
        self.tree().nodes.get(&tgid).map_or(0, |n| n.ppid)
    }

    /// Records that `tgid` exited with `status`: it becomes a zombie for
    /// its parent (or is reaped at once when the parent ignores `SIGCHLD`
    /// or has no parent), its children go to the init process, and when
    /// it is the init process every other process is killed.
    pub fn exited(&self, tgid: i32, status: ExitStatus) {
        let mut tree = self.tree();
        let Some(ppid) = tree.nodes.get(&tgid).map(|n| n.ppid) else {
            return;
        };
        let auto_reap = match tree.nodes.get(&ppid) {
            None => true,
            Some(parent) => {
                let action = parent
                    .handlers
                    .actions
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())[SIGCHLD as usize - 1];
                if action.handler > SIG_IGN {
                    parent.kill.post(SIGCHLD);
                }
                action.handler == SIG_IGN || action.flags & SA_NOCLDWAIT != 0
            }
        };
        if auto_reap {
            tree.nodes.remove(&tgid);
        } else if let Some(node) = tree.nodes.get_mut(&tgid) {
            node.exit = Some(status);
        }
        for node in tree.nodes.values_mut() {
            if node.ppid == tgid {
                node.ppid = 1;
            }
            if tgid == 1 && node.exit.is_none() {
                node.kill.kill(libc::SIGKILL);
            }
        }
        if tgid == 1 {
            // Zombies nobody will reap any more.
            tree.nodes.retain(|_, n| n.exit.is_none());
        }
        self.changed.notify_all();
    }

    /// Records that a task's thread has finished (after dropping its
    /// task).
    pub fn thread_done(&self) {
        let mut tree = self.tree();
        tree.threads = tree.threads.saturating_sub(1);
        self.changed.notify_all();
    }

    /// Waits until every task thread has finished.
    pub fn wait_threads(&self) {
        let mut tree = self.tree();
        while tree.threads > 0 {
            tree = self.changed.wait(tree).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits for a child of `parent` matching `target` to exit (gVisor's
    /// `Task.Wait`) and reaps it unless `keep`; `Ok(None)` with `no_hang`
    /// when none has exited yet. `ECHILD` when no child matches; `EINTR`
    /// when `kill` is thrown meanwhile.
    pub fn wait_child(
        &self,
        parent: i32,
        target: WaitTarget,
        no_hang: bool,
        keep: bool,
        kill: &KillSwitch,
    ) -> Result<Option<(i32, ExitStatus)>, Errno> {
        let mut tree = self.tree();
        loop {
            let mut any = false;
            let mut found = None;
            for (&pid, node) in &tree.nodes {
                if node.ppid != parent
                    || (target != WaitTarget::Any && target != WaitTarget::Pid(pid))
                {
                    continue;
                }
                any = true;
                if let Some(status) = node.exit {
                    found = Some((pid, status));
                    break;
                }
            }
            if let Some((pid, status)) = found {
                if !keep {
                    tree.nodes.remove(&pid);
                }
                return Ok(Some((pid, status)));
            }
            if !any {
                return Err(Errno::ECHILD);
            }
            if no_hang {
                return Ok(None);
            }
            if kill.signal().is_some() {
                return Err(Errno::EINTR);
            }
            tree = self.changed.wait(tree).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Sends `signal` to process `pid` (`kill(2)`; `-1`: every process but
    /// the init process and `sender`). Signal 0 checks existence. A signal
    /// the target catches is posted for its handler; `SIGKILL`, and any
    /// signal left at a default action that terminates, kills the target;
    /// ignored, default-ignored and stop signals have no effect. `EINVAL`
    /// for a bad signal, `ESRCH` for no such process.
    pub fn kill(&self, sender: i32, pid: i32, signal: i32) -> Result<(), Errno> {
        if !(0..=NSIG as i32).contains(&signal) {
            return Err(Errno::EINVAL);
        }
        let tree = self.tree();
        let targets: Vec<&Node> = if pid > 0 {
            vec![tree.nodes.get(&pid).ok_or(Errno::ESRCH)?]
        } else if pid == -1 {
            tree.nodes
                .iter()
                .filter(|&(&p, _)| p != 1 && p != sender)
                .map(|(_, n)| n)
                .collect()
        } else {
            // Process groups are not modelled: everything is in the init
            // process's group.
            return Err(Errno::ESRCH);
        };
        if signal == 0 {
            return Ok(());
        }
        // SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG,
        // SIGWINCH: ignored by default, or stopping (not modelled).
        let default_ignored = matches!(signal, 17..=23 | 28);
        for node in targets {
            let handler = node
                .handlers
                .actions
                .lock()
                .unwrap_or_else(|e| e.into_inner())[signal as usize - 1]
                .handler;
            if node.exit.is_some() {
                continue;
            }
            if signal == libc::SIGKILL {
                node.kill.kill(signal);
            } else if handler > SIG_IGN {
                node.kill.post(signal);
            } else if !default_ignored && handler != SIG_IGN {
                node.kill.kill(signal);
            }
        }
        self.changed.notify_all();
        Ok(())
    }
}
