//! [`TaskBuilder`]: the one way a [`Task`] is made (the first task of the
//! sandbox, `clone`, `fork`).

use std::sync::Arc;

use platform::Registers;

use super::{ProcessInfo, Task, TaskContext, ThreadGroup, VforkDone};
use crate::kernel::Kernel;
use crate::wait::KillSwitch;

/// Builds a [`Task`]: the thread's identity (its group, kill switch and
/// the `/proc` view whose memory manager, descriptor table and fs context
/// it uses) and registers, then the optional per-thread state.
#[derive(Debug)]
pub struct TaskBuilder {
    kernel: Arc<Kernel>,
    group: Arc<ThreadGroup>,
    kill: Arc<KillSwitch>,
    process: Arc<ProcessInfo>,
    ctx: TaskContext,
    regs: Registers,
    signal_mask: u64,
    alt_stack: abi_linux::SignalStack,
    clear_child_tid: u64,
    vfork_done: Option<Arc<VforkDone>>,
}

impl TaskBuilder {
    /// A task of `group` whose thread is `kill` (the thread ID is the
    /// switch's), using `process`'s memory manager, descriptor table and
    /// fs context, running with `ctx` from `regs`.
    pub fn new(
        kernel: Arc<Kernel>,
        group: Arc<ThreadGroup>,
        kill: Arc<KillSwitch>,
        process: Arc<ProcessInfo>,
        ctx: TaskContext,
        regs: Registers,
    ) -> Self {
        Self {
            kernel,
            group,
            kill,
            process,
            ctx,
            regs,
            signal_mask: 0,
            alt_stack: super::signals::NO_ALT_STACK,
            clear_child_tid: 0,
            vfork_done: None,
        }
    }

    /// The blocked-signal mask (inherited by `clone`).
    pub fn signal_mask(mut self, mask: u64) -> Self {
        self.signal_mask = mask;
        self
    }

    /// The alternate signal stack `(ss_sp, ss_flags, ss_size)`.
    pub fn alt_stack(mut self, stack: abi_linux::SignalStack) -> Self {
        self.alt_stack = stack;
        self
    }

    /// The address `CLONE_CHILD_CLEARTID` clears at exit.
    pub fn clear_child_tid(mut self, addr: u64) -> Self {
        self.clear_child_tid = addr;
        self
    }

    /// The completion a `vfork` parent waits on.
    pub fn vfork_done(mut self, done: Arc<VforkDone>) -> Self {
        self.vfork_done = Some(done);
        self
    }

    /// The task.
    pub fn build(self) -> Task {
        let mut task = Task {
            mm: self.process.mm.clone(),
            fds: self.process.fds.clone(),
            fs: self.process.fs.clone(),
            signal_handlers: self.group.handlers(),
            tid: self.kill.tid(),
            tgid: self.group.tgid(),
            kernel: self.kernel,
            group: self.group,
            ctx: self.ctx,
            kill: self.kill,
            regs: self.regs,
            signal_mask: 0,
            alt_stack: self.alt_stack,
            clear_child_tid: self.clear_child_tid,
            robust_list: (0, 0),
            saved_mask: None,
            process: self.process,
            exit: None,
            vfork_done: self.vfork_done,
        };
        task.set_signal_mask(self.signal_mask);
        task
    }
}
