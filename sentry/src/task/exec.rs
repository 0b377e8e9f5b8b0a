//! The point of no return of `execve` (gVisor's `task_exec.go`, Linux's
//! `begin_new_exec`): the other threads of the group are ended and the
//! caller takes the leader's thread ID (`de_thread`), the descriptor table
//! and signal actions stop being shared with other processes, the
//! close-on-exec descriptors are closed, caught signals reset, and the new
//! image's memory manager and registers installed.

use std::sync::Arc;

use abi_linux::Errno;
use platform::Registers;

use super::{ProcessInfo, Task};
use crate::mm::MemoryManager;

/// What a successful load produced.
#[derive(Debug)]
pub struct NewImage {
    /// The new address space, loaded.
    pub mm: MemoryManager,
    /// The registers to start with.
    pub regs: Registers,
    /// The argument vector as the program sees it.
    pub argv: Vec<Vec<u8>>,
    /// The environment.
    pub envp: Vec<Vec<u8>>,
    /// The absolute path of the executable.
    pub exe: Vec<u8>,
    /// The auxiliary vector.
    pub auxv: Vec<(u64, u64)>,
    /// The thread name.
    pub comm: Vec<u8>,
    /// The credentials the program runs with.
    pub creds: vfs_core::Credentials,
    /// Whether the exec changed identity or gained capabilities.
    pub secure: bool,
}

impl Task {
    /// Makes `image` the task's program. `EINTR` when the task is killed
    /// while the other threads of its group end (it exits then).
    pub fn commit_exec(&mut self, image: NewImage) -> Result<(), Errno> {
        if self.group.thread_count() > 1 {
            self.group.kill_others_and_wait(&self.kill)?;
        }
        if self.tid != self.tgid {
            self.kernel.tasks.take_leader_id(&self.kill, self.tgid);
            self.tid = self.tgid;
        }
        if self.fds.is_shared() {
            let own = Arc::new(self.fds.fork());
            self.fds.release_user(&self.ctx);
            self.fds = own;
        }
        // POSIX timers do not survive exec; ITIMER_REAL does.
        let posix = std::mem::take(&mut self.group.timers().posix);
        for t in posix.values() {
            self.kernel.timers.cancel(t);
        }
        let handlers = self.signal_handlers.copy();
        handlers.reset_for_exec();
        self.group.set_handlers(handlers.clone());
        self.signal_handlers = handlers;
        let mm = Arc::new(image.mm);
        self.mm = mm.clone();
        self.fds.close_on_exec(&self.ctx);
        self.alt_stack = super::signals::NO_ALT_STACK;
        self.robust_list = (0, 0);
        self.kill.set_robust_head(0);
        self.clear_child_tid = 0;
        self.regs = image.regs;
        // Linux's `begin_new_exec`: the process is dumpable again unless
        // it now runs with other effective than real ids; a secure exec
        // also drops the parent-death signal.
        {
            let c = &image.creds;
            let mut attrs = self.group.attrs();
            attrs.dumpable = c.effective_uid == c.real_uid && c.effective_gid == c.real_gid;
            if image.secure {
                attrs.pdeathsig = 0;
            }
        }
        self.ctx.credentials = image.creds;
        self.group.set_credentials(self.ctx.credentials.clone());
        let process = Arc::new(ProcessInfo {
            tgid: self.tgid,
            argv: image.argv,
            envp: image.envp,
            exe: image.exe,
            auxv: image.auxv,
            comm: std::sync::Mutex::new(image.comm),
            mm,
            fds: self.fds.clone(),
            fs: self.fs.clone(),
            start: self.process.start,
            group: self.group.clone(),
        });
        self.kernel.tasks.insert(process.clone());
        self.kernel.tasks.mark_exec(self.tgid);
        self.process = process;
        if let Some(done) = self.vfork_done.take() {
            done.complete();
        }
        Ok(())
    }
}
