//! Tasks: application threads, the thread groups they form and the
//! process tree (gVisor's `kernel.Task`, `ThreadGroup`, `TaskSet`,
//! `task_run.go`, `task_clone.go`, `task_exec.go`, `task_exit.go`).
//!
//! A [`Task`] is one thread. It runs on its own host thread (platform
//! contexts are bound to the thread that creates them, and threads of one
//! process run in parallel on host threads) in a loop: switch into
//! application code, then serve the system call, fault or signal that
//! stopped it. Its state is split by what `clone(2)` can share:
//!
//! - [`MemoryManager`] (`Arc`): shared by `CLONE_VM`, copied by `fork`.
//! - [`FdTable`] (`Arc`): shared by `CLONE_FILES`.
//! - [`FsContext`] (`Arc`): root, working directory and umask, shared by
//!   `CLONE_FS`.
//! - [`SignalHandlers`] (`Arc`): the `rt_sigaction` table, shared by
//!   `CLONE_SIGHAND`.
//! - [`ThreadGroup`] (`Arc`): group-directed pending signals, the live
//!   threads and the group's exit, shared by `CLONE_THREAD`.
//! - Private to the task: registers, signal mask, alternate stack,
//!   `set_tid_address` and robust-list pointers, saved signal-handler
//!   frames.
//!
//! The [`TaskSet`] holds the groups, the live threads and the process
//! tree under one lock; see `task_set.rs`. Tasks are made by one
//! constructor, [`TaskBuilder`].
//!
//! # Reference model
//!
//! A task holds the kernel, its memory manager, descriptor table, fs
//! context, signal handlers and thread group (`Arc`s). The descriptor
//! table and fs context count the tasks using them; the last to exit
//! closes the descriptors and releases the root and working directory.
//!
//! # Lock order
//!
//! `TaskSet::tree` → `ThreadGroup::state` → `SignalHandlers::actions` →
//! the kill switches' locks; `FsContext::state`, `FdTable::slots` and the
//! memory manager's locks are taken with none of those held.

mod builder;
mod clone;
mod exec;
mod exit;
mod fs_context;
mod limits;
mod signals;
mod task_set;
mod thread_group;

use std::sync::Arc;

use abi_linux::Errno;
use platform::{Registers, Trap};

use crate::fd_table::FdTable;
use crate::kernel::Kernel;
use crate::mm::MemoryManager;
use crate::wait::KillSwitch;

pub use builder::TaskBuilder;
pub use clone::CloneArgs;
pub use exec::NewImage;
pub use fs_context::{FsContext, TaskContext};
pub use limits::{Limits, NR_OPEN};
pub use signals::{NSIG, SignalHandlers};
pub use task_set::{
    DEFAULT_MAX_PROCESSES, PID_MAX, TaskSet, WaitEvents, WaitKind, WaitTarget, may_ptrace,
    may_signal,
};
pub use thread_group::{ProcessAttrs, ProcessInfo, ThreadGroup, Usage};

/// What serves a task's system calls: the kernel holds one (the sentry's
/// is [`crate::syscalls::SyscallTable::linux`]), and the task loop calls
/// it for every system-call trap.
pub trait SyscallDispatch: Send + Sync + std::fmt::Debug {
    /// Serves the system call `task` stopped at and stores its result in
    /// the task's registers (or ends the task).
    fn dispatch(&self, task: &mut Task);
}

use abi_linux::signal::{SEGV_ACCERR, SEGV_MAPERR};

/// How a task group ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// `exit`/`exit_group` with this status (low 8 bits meaningful).
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Killed by this signal, which wrote a core file (the core bit of
    /// the wait status, `CLD_DUMPED`).
    CoreDumped(i32),
}

impl ExitStatus {
    /// The `siginfo` that reports this end of process `pid` to its parent
    /// (`SIGCHLD`, `waitid`): `CLD_EXITED` with the exit code or
    /// `CLD_KILLED` with the signal.
    pub fn child_info(self, pid: i32) -> abi_linux::SigInfo {
        use abi_linux::signal::{CLD_DUMPED, CLD_EXITED, CLD_KILLED};
        let (code, value) = match self {
            ExitStatus::Exited(code) => (CLD_EXITED, code & 0xff),
            ExitStatus::Signaled(signal) => (CLD_KILLED, signal),
            ExitStatus::CoreDumped(signal) => (CLD_DUMPED, signal),
        };
        let mut info = crate::wait::sender_info(code, pid, 0);
        info.signo = abi_linux::Signal::SIGCHLD.0;
        info.set_status(value);
        info
    }

    /// The status a shell reports: the exit code, or 128 plus the signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code & 0xff,
            ExitStatus::Signaled(sig) | ExitStatus::CoreDumped(sig) => 128 + sig,
        }
    }
}

/// What a wait reports of a child: its end, a group stop, or a
/// continuation after one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEvent {
    /// The process ended.
    Exited(ExitStatus),
    /// The process stopped on this signal (`WUNTRACED`, `WSTOPPED`).
    Stopped(i32),
    /// The stopped process was continued by `SIGCONT` (`WCONTINUED`).
    Continued,
}

impl ChildEvent {
    /// The `wait4` status word.
    pub fn wait_status(self) -> u32 {
        match self {
            ChildEvent::Exited(ExitStatus::Exited(code)) => ((code & 0xff) as u32) << 8,
            ChildEvent::Exited(ExitStatus::Signaled(signal)) => (signal & 0x7f) as u32,
            ChildEvent::Exited(ExitStatus::CoreDumped(signal)) => (signal & 0x7f) as u32 | 0x80,
            ChildEvent::Stopped(signal) => (((signal & 0xff) as u32) << 8) | 0x7f,
            ChildEvent::Continued => 0xffff,
        }
    }

    /// The `siginfo` that reports it of process `pid` (`SIGCHLD`,
    /// `waitid`): `CLD_EXITED`/`CLD_KILLED`, `CLD_STOPPED` with the
    /// signal, `CLD_CONTINUED` with `SIGCONT`.
    pub fn child_info(self, pid: i32) -> abi_linux::SigInfo {
        use abi_linux::signal::{CLD_CONTINUED, CLD_STOPPED};
        let (code, value) = match self {
            ChildEvent::Exited(status) => return status.child_info(pid),
            ChildEvent::Stopped(signal) => (CLD_STOPPED, signal),
            ChildEvent::Continued => (CLD_CONTINUED, libc::SIGCONT),
        };
        let mut info = crate::wait::sender_info(code, pid, 0);
        info.signo = abi_linux::Signal::SIGCHLD.0;
        info.set_status(value);
        info
    }
}

/// How a system call asked the task to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskExit {
    /// `exit`: this thread only.
    Thread(ExitStatus),
    /// `exit_group`: every thread of the group.
    Group(ExitStatus),
}

/// A completion the parent of a `CLONE_VFORK` child waits on: set when
/// the child execs or exits (Linux's `vfork_done`).
#[derive(Debug, Default)]
pub struct VforkDone {
    done: std::sync::atomic::AtomicBool,
    parent: vfs_core::waiter::WaiterQueue,
}

impl VforkDone {
    /// Marks the completion and wakes the parent.
    pub fn complete(&self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        self.parent.notify(vfs_core::waiter::EventMask::IN);
    }

    /// Parks the calling (parent) task until completed or `killed` says
    /// to stop; a pending signal does not end the wait, as on Linux.
    pub fn wait(&self, killed: &dyn Fn() -> bool) {
        let waker = crate::wait::TaskWaker::new();
        let id = self
            .parent
            .register(waker.clone(), vfs_core::waiter::EventMask::IN);
        while !self.done.load(std::sync::atomic::Ordering::SeqCst) && !killed() {
            waker.wait_killable(None);
        }
        self.parent.unregister(id);
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
    /// The thread group.
    pub group: Arc<ThreadGroup>,
    /// Credentials and lock owner for VFS calls.
    pub ctx: TaskContext,
    /// The thread ID.
    pub tid: i32,
    /// The thread-group (process) ID.
    pub tgid: i32,
    /// How other tasks signal and stop this one.
    pub kill: Arc<KillSwitch>,
    /// The registers while the task is stopped.
    pub regs: Registers,
    /// The blocked-signal mask (mirrored in the kill switch).
    signal_mask: u64,
    /// `sigaltstack`: the alternate signal stack, its `ss_flags` holding
    /// `SS_DISABLE` and `SS_AUTODISARM` as set.
    pub alt_stack: abi_linux::SignalStack,
    /// `set_tid_address`.
    pub clear_child_tid: u64,
    /// `set_robust_list`: `(head, len)`.
    pub robust_list: (u64, u64),
    /// The mask `rt_sigsuspend` replaced, restored once a handler ran.
    pub saved_mask: Option<u64>,
    /// What `/proc/PID` shows of the task's thread group.
    pub process: Arc<ProcessInfo>,
    /// Set when a system call ends the task.
    pub exit: Option<TaskExit>,
    /// The completion a `vfork` parent waits on.
    pub vfork_done: Option<Arc<VforkDone>>,
}

impl Task {
    /// One more than the largest descriptor the task may open
    /// (`RLIMIT_NOFILE`, which [`Limits`] keeps within [`NR_OPEN`]).
    pub fn fd_limit(&self) -> u64 {
        self.ctx.limits.cur(abi_linux::RlimitResource::NOFILE)
    }

    /// The blocked-signal mask.
    pub fn signal_mask(&self) -> u64 {
        self.signal_mask
    }

    /// Sets the blocked-signal mask (`SIGKILL` and `SIGSTOP` stay
    /// unblocked).
    pub fn set_signal_mask(&mut self, mask: u64) {
        self.signal_mask = mask & !abi_linux::SignalSet::UNBLOCKABLE.0;
        self.kill.set_mask(self.signal_mask);
    }

    /// Runs the task until it exits; must be called on the thread that
    /// owns it (the platform context is created here). Returns this
    /// thread's exit status, or the platform's error if application code
    /// could not run at all (the group then ends as if killed).
    pub fn run(&mut self) -> Result<ExitStatus, Errno> {
        let result = self.run_loop();
        KillSwitch::uninstall();
        let status = match result {
            Ok(TaskExit::Thread(status)) => status,
            Ok(TaskExit::Group(status)) => {
                self.group.exit_group(status);
                // The signal that ended the group dumps core (the other
                // threads were told to stop first, as Linux's
                // `coredump_wait` does); the status records it.
                match status {
                    ExitStatus::Signaled(signal)
                        if crate::coredump::dumps_core(signal)
                            && self.group.final_status(status) == status
                            && crate::coredump::dump(self, signal) =>
                    {
                        self.group.mark_core_dumped();
                        ExitStatus::CoreDumped(signal)
                    }
                    _ => status,
                }
            }
            Err(_) => {
                self.group.exit_group(ExitStatus::Signaled(libc::SIGKILL));
                ExitStatus::Signaled(libc::SIGKILL)
            }
        };
        let status = self.exit_thread(status);
        result.map(|_| status)
    }

    fn run_loop(&mut self) -> Result<TaskExit, Errno> {
        let mut context = self.kernel.platform.new_context()?;
        self.kill.install(context.interrupter());
        self.kill.start_cpu_accounting();
        self.kill.set_mask(self.signal_mask);
        loop {
            if let Some(signal) = self.kill.signal() {
                // The group exits (its status is recorded there), or an
                // `execve` in another thread ends this one.
                return Ok(TaskExit::Thread(ExitStatus::Signaled(signal)));
            }
            if self.group.is_stopped() {
                self.wait_while_stopped();
                continue;
            }
            if let Some(status) = self.deliver_signal() {
                return Ok(TaskExit::Group(status));
            }
            if let Some(mask) = self.saved_mask.take() {
                self.set_signal_mask(mask);
            }
            self.kill.enter_application();
            let trap = context.switch(self.mm.address_space(), &mut self.regs);
            self.kill.leave_application();
            let trap = trap?;
            match trap {
                Trap::Syscall => {
                    let table = self.kernel.syscalls;
                    table.dispatch(self);
                    if let Some(exit) = self.exit {
                        return Ok(exit);
                    }
                }
                Trap::PageFault { addr, access, info } => {
                    let handled = self.mm.handle_fault(addr, access);
                    if let Err(Errno::ENOMEM) = handled {
                        // The sandbox's memory is used up (--memory): as
                        // Linux's OOM killer would, the process that needs
                        // a page it cannot have is killed.
                        self.kernel.diagnostic(&format!(
                            "out of memory: killing process {} (fault at {addr:#x})",
                            self.tgid
                        ));
                        let kill = crate::wait::sender_info(abi_linux::signal::SI_KERNEL, 0, 0);
                        if let Some(status) = self.force_signal(libc::SIGKILL, kill) {
                            return Ok(TaskExit::Group(status));
                        }
                    } else if let Err(e) = handled {
                        self.kernel.diagnostic(&format!(
                            "[{:>5}] fault at {addr:#x} ({access:?}, ip {:#x}): {}, signal {}",
                            self.tid,
                            self.regs.instruction_pointer(),
                            e.name(),
                            info.signo
                        ));
                        // SIGSEGV (or the host's SIGBUS) for the program's
                        // handler, with Linux's si_code: SEGV_ACCERR where a
                        // mapping refused the access, SEGV_MAPERR where
                        // nothing is mapped.
                        let code = if info.signo == libc::SIGSEGV {
                            if self.mm.is_mapped(addr) {
                                SEGV_ACCERR
                            } else {
                                SEGV_MAPERR
                            }
                        } else {
                            info.code
                        };
                        let fault = crate::wait::fault_info(code, addr);
                        if let Some(status) = self.force_signal(info.signo, fault) {
                            return Ok(TaskExit::Group(status));
                        }
                    }
                }
                Trap::Signal(info) => {
                    self.kernel.diagnostic(&format!(
                        "[{:>5}] signal {} at ip {:#x}",
                        self.tid,
                        info.signo,
                        self.regs.instruction_pointer()
                    ));
                    let fault = crate::wait::fault_info(info.code, info.addr);
                    if let Some(status) = self.force_signal(info.signo, fault) {
                        return Ok(TaskExit::Group(status));
                    }
                }
                Trap::Interrupted => {}
                other => {
                    self.kernel
                        .diagnostic(&format!("[{:>5}] unexpected trap {other:?}", self.tid));
                    return Ok(TaskExit::Group(ExitStatus::Signaled(libc::SIGKILL)));
                }
            }
        }
    }

    /// Parks the thread while its group is stopped, until `SIGCONT` or a
    /// kill; the first thread to resume tells the parent of the
    /// continuation.
    fn wait_while_stopped(&mut self) {
        let waker = crate::wait::TaskWaker::new();
        let id = self
            .group
            .stop_queue()
            .register(waker.clone(), vfs_core::waiter::EventMask::IN);
        while self.group.is_stopped() && self.kill.signal().is_none() {
            waker.wait_killable(None);
        }
        self.group.stop_queue().unregister(id);
        if self.group.take_continue_notice() {
            self.kernel
                .tasks
                .child_stop_changed(self.tgid, ChildEvent::Continued);
        }
    }

    /// Ends a task that never ran (its thread is gone) as if killed.
    pub(crate) fn abandon(mut self) {
        self.group.exit_group(ExitStatus::Signaled(libc::SIGKILL));
        self.exit_thread(ExitStatus::Signaled(libc::SIGKILL));
        let tasks = self.kernel.tasks.clone();
        drop(self);
        tasks.thread_done();
    }
}
