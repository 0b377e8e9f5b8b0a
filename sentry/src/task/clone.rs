//! `clone`: new threads and processes (gVisor's `task_clone.go`, Linux's
//! `copy_process`).
//!
//! The flags are checked in Linux's order and with its errors; each piece
//! of state is then shared or copied as the flags say (see the module
//! documentation of [`crate::task`]). The new task runs on a host thread
//! of its own (an idle one that ran a finished task, or a new one), which
//! is had first so that a failure there takes nothing.
//! Namespaces (`CLONE_NEW*`) are refused with `EPERM`, as for a caller
//! without `CAP_SYS_ADMIN`; `CLONE_INTO_CGROUP` with `EINVAL`, and
//! `CLONE_PIDFD` together with `CLONE_THREAD` (thread pidfds are not
//! offered).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abi_linux::{CloneFlags, Errno, OpenFlags};

use super::{ProcessInfo, Task, TaskBuilder, VforkDone};

/// A decoded `clone`/`clone3` request.
#[derive(Clone, Copy, Debug, Default)]
pub struct CloneArgs {
    /// The flags, without the exit signal.
    pub flags: CloneFlags,
    /// The signal sent to the parent at exit.
    pub exit_signal: i32,
    /// The new stack pointer (0: the parent's).
    pub stack: u64,
    /// Where `CLONE_PARENT_SETTID` writes.
    pub parent_tid: u64,
    /// Where `CLONE_CHILD_SETTID` writes and `CLONE_CHILD_CLEARTID`
    /// clears.
    pub child_tid: u64,
    /// The thread pointer with `CLONE_SETTLS`.
    pub tls: u64,
    /// Where `CLONE_PIDFD` stores the new pidfd.
    pub pidfd: u64,
}

/// The namespace flags.
const NAMESPACES: CloneFlags = CloneFlags::NEWNS
    .union(CloneFlags::NEWCGROUP)
    .union(CloneFlags::NEWUTS)
    .union(CloneFlags::NEWIPC)
    .union(CloneFlags::NEWUSER)
    .union(CloneFlags::NEWPID)
    .union(CloneFlags::NEWNET)
    .union(CloneFlags::NEWTIME);

/// Checks `flags` as Linux's `copy_process` does.
fn check_flags(t: &Task, flags: CloneFlags) -> Result<(), Errno> {
    if flags.contains(CloneFlags::NEWNS | CloneFlags::FS)
        || flags.contains(CloneFlags::NEWUSER | CloneFlags::FS)
    {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::THREAD) && !flags.contains(CloneFlags::SIGHAND) {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::SIGHAND) && !flags.contains(CloneFlags::VM) {
        return Err(Errno::EINVAL);
    }
    // The init process may not make siblings (they would have no parent
    // to reap them).
    if flags.contains(CloneFlags::PARENT) && t.tgid == 1 {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::THREAD)
        && flags.intersects(CloneFlags::NEWUSER | CloneFlags::NEWPID)
    {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::SIGHAND | CloneFlags::CLEAR_SIGHAND) {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::PIDFD) && flags.contains(CloneFlags::DETACHED) {
        return Err(Errno::EINVAL);
    }
    if flags.intersects(NAMESPACES) {
        return Err(Errno::EPERM);
    }
    if flags.contains(CloneFlags::PIDFD) && flags.contains(CloneFlags::THREAD) {
        // A pidfd names a process (PIDFD_THREAD is not offered).
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::INTO_CGROUP) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

impl Task {
    /// `RLIMIT_NPROC` as Linux's `copy_process` applies it: `EAGAIN` when
    /// the caller's real user already has as many tasks (threads) as its
    /// soft limit; root and holders of `CAP_SYS_RESOURCE` or
    /// `CAP_SYS_ADMIN` are exempt.
    fn check_nproc(&self) -> Result<(), Errno> {
        use abi_linux::Capability;
        let limit = self.ctx.limits.cur(abi_linux::RlimitResource::NPROC);
        let c = &self.ctx.credentials;
        if limit == abi_linux::RLIM_INFINITY
            || c.real_uid == 0
            || c.has_capability(Capability::SYS_RESOURCE)
            || c.has_capability(Capability::SYS_ADMIN)
        {
            return Ok(());
        }
        if self.kernel.tasks.tasks_of_user(c.real_uid) as u64 >= limit {
            return Err(Errno::EAGAIN);
        }
        Ok(())
    }

    /// Creates a thread or process as `args` says (gVisor's `Task.Clone`);
    /// returns its thread ID. `EAGAIN` when no host thread or task slot
    /// can be had.
    pub fn clone_task(&mut self, args: &CloneArgs) -> Result<i32, Errno> {
        let flags = args.flags;
        check_flags(self, flags)?;
        if !(0..=super::NSIG as i32).contains(&args.exit_signal) {
            return Err(Errno::EINVAL);
        }
        let kernel = self.kernel.clone();
        self.check_nproc()?;
        // The thread first: if it cannot be had, nothing else was taken.
        let tx = task_thread()?;
        let thread = flags.contains(CloneFlags::THREAD);
        let mm = if flags.contains(CloneFlags::VM) {
            self.mm.clone()
        } else {
            let address_space = kernel.platform.new_address_space()?;
            Arc::new(self.mm.fork(address_space)?)
        };
        let fs = if flags.contains(CloneFlags::FS) {
            self.fs.share()
        } else {
            self.fs.fork()?
        };
        let fds = if flags.contains(CloneFlags::FILES) {
            self.fds.share()
        } else {
            Arc::new(self.fds.fork())
        };
        let release = |ctx: &super::TaskContext| {
            fds.release_user(ctx);
            fs.release_user(ctx);
        };
        // The pidfd first, so that a full descriptor table fails the call
        // before the child exists; it is named once the child is.
        let pidfd = if flags.contains(CloneFlags::PIDFD) {
            let file = crate::pidfd::new_pidfd(&kernel.anon_mount, None, OpenFlags::empty());
            let fd = match self.fds.add(file, true, 0, self.fd_limit()) {
                Ok(fd) => fd,
                Err(e) => {
                    release(&self.ctx);
                    return Err(e);
                }
            };
            if let Err(e) = self.mm.write_obj(args.pidfd, &fd) {
                if let Ok(f) = self.fds.remove(fd) {
                    f.release(&self.ctx);
                }
                release(&self.ctx);
                return Err(e);
            }
            Some(fd)
        } else {
            None
        };
        let created = if thread {
            kernel
                .tasks
                .new_thread(&self.group)
                .map(|kill| (self.group.clone(), kill))
        } else {
            let handlers = if flags.contains(CloneFlags::SIGHAND) {
                self.signal_handlers.clone()
            } else {
                let copy = self.signal_handlers.copy();
                if flags.contains(CloneFlags::CLEAR_SIGHAND) {
                    copy.reset_for_exec();
                }
                copy
            };
            let parent = if flags.contains(CloneFlags::PARENT) {
                kernel.tasks.ppid(self.tgid)
            } else {
                self.tgid
            };
            kernel.tasks.new_process(
                parent,
                self.tgid,
                args.exit_signal,
                handlers,
                self.group.limits().fork(),
            )
        };
        let (group, kill) = match created {
            Ok(c) => {
                if !Arc::ptr_eq(&c.0, &self.group) {
                    *c.0.attrs() = self.group.attrs().for_child();
                    c.0.set_credentials(self.ctx.credentials.clone());
                    // A finite RLIMIT_CPU is inherited and checked.
                    kernel.timers.watch_cpu_limit(&c.0);
                }
                c
            }
            Err(e) => {
                if let Some(fd) = pidfd
                    && let Ok(f) = self.fds.remove(fd)
                {
                    f.release(&self.ctx);
                }
                release(&self.ctx);
                return Err(e);
            }
        };
        if let Some(fd) = pidfd
            && let Ok(f) = self.fds.get(fd)
        {
            // Another thread may have closed or replaced it meanwhile.
            if let Some(p) = f.downcast::<crate::pidfd::PidFd>() {
                p.bind(group.clone());
            }
            f.release(&self.ctx);
        }
        // Seccomp filters are inherited by threads and processes alike.
        if let Some(mode) = self.kill.seccomp() {
            kill.set_seccomp(mode);
        }
        let tid = kill.tid();
        let mut regs = self.regs.clone();
        regs.set_syscall_return(0);
        if args.stack != 0 {
            regs.set_stack_pointer(args.stack);
        }
        if flags.contains(CloneFlags::SETTLS) {
            regs.set_thread_pointer(args.tls);
        }
        let tid_bytes = (tid as u32).to_le_bytes();
        if flags.contains(CloneFlags::CHILD_SETTID) {
            // Linux ignores a failed write here too.
            let _ = mm.copy_out(args.child_tid, &tid_bytes);
        }
        if flags.contains(CloneFlags::PARENT_SETTID) {
            let _ = self.mm.copy_out(args.parent_tid, &tid_bytes);
        }
        let process = if thread {
            self.process.clone()
        } else {
            let info = Arc::new(ProcessInfo {
                tgid: tid,
                argv: self.process.argv.clone(),
                envp: self.process.envp.clone(),
                exe: self.process.exe.clone(),
                auxv: self.process.auxv.clone(),
                comm: std::sync::Mutex::new(self.process.comm()),
                mm: mm.clone(),
                fds: fds.clone(),
                fs: fs.clone(),
                start: std::time::Instant::now(),
                group: group.clone(),
            });
            kernel.tasks.insert(info.clone());
            info
        };
        let mut ctx = self.ctx.clone();
        ctx.tgid = group.tgid();
        ctx.limits = group.limits().clone();
        // A thread on a new stack in the same memory must not share the
        // parent's alternate signal stack (Linux clears it).
        let alt_stack = if flags.contains(CloneFlags::VM) && !flags.contains(CloneFlags::VFORK) {
            super::signals::NO_ALT_STACK
        } else {
            self.alt_stack
        };
        let mut builder = TaskBuilder::new(kernel, group, kill, process, ctx, regs)
            .signal_mask(self.signal_mask())
            .alt_stack(alt_stack);
        if flags.contains(CloneFlags::CHILD_CLEARTID) {
            builder = builder.clear_child_tid(args.child_tid);
        }
        let vfork = flags
            .contains(CloneFlags::VFORK)
            .then(|| Arc::new(VforkDone::default()));
        if let Some(done) = &vfork {
            builder = builder.vfork_done(done.clone());
        }
        let child = builder.build();
        if let Err(std::sync::mpsc::SendError(child)) = tx.send(child) {
            // The thread is gone already: end the child as if killed.
            child.abandon();
        }
        if let Some(done) = vfork {
            let kill = self.kill.clone();
            done.wait(&|| kill.signal().is_some());
        }
        Ok(tid)
    }
}

/// Host threads that finished a task and wait for the next, each by the
/// sender of its channel and an id (a new task thread costs as much as
/// the rest of a short-lived thread's creation).
static IDLE_THREADS: Mutex<Vec<(u64, Sender<Task>)>> = Mutex::new(Vec::new());

/// How long an idle task thread waits for work before it ends.
const IDLE_THREAD_LINGER: Duration = Duration::from_secs(5);

/// How many idle task threads wait at most.
const MAX_IDLE_THREADS: usize = 64;

/// A host thread to run a new task on: an idle one, or a new one.
/// `EAGAIN` when no thread can be had.
fn task_thread() -> Result<Sender<Task>, Errno> {
    if let Some((_, tx)) = IDLE_THREADS.lock().unwrap_or_else(|e| e.into_inner()).pop() {
        return Ok(tx);
    }
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = std::sync::mpsc::channel::<Task>();
    let back = tx.clone();
    std::thread::Builder::new()
        .name("task".into())
        .spawn(move || run_tasks(id, &back, &rx))
        .map_err(|_| Errno::EAGAIN)?;
    Ok(tx)
}

/// The body of a task thread: runs each task sent to it, reports the
/// thread done once the task (and what it holds) is dropped, then waits
/// idle for the next until [`IDLE_THREAD_LINGER`] passes.
fn run_tasks(id: u64, me: &Sender<Task>, rx: &Receiver<Task>) {
    let Ok(mut task) = rx.recv() else { return };
    loop {
        // The status is the parent's to collect through `wait4`; a
        // platform error was recorded as a kill.
        let _ = task.run();
        let tasks = task.kernel.tasks.clone();
        drop(task);
        tasks.thread_done();
        {
            let mut idle = IDLE_THREADS.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() >= MAX_IDLE_THREADS {
                return;
            }
            idle.push((id, me.clone()));
        }
        task = match rx.recv_timeout(IDLE_THREAD_LINGER) {
            Ok(t) => t,
            Err(_) => {
                let mut idle = IDLE_THREADS.lock().unwrap_or_else(|e| e.into_inner());
                match idle.iter().position(|(i, _)| *i == id) {
                    Some(at) => {
                        idle.swap_remove(at);
                        return;
                    }
                    // Taken meanwhile: a task is on its way.
                    None => {
                        drop(idle);
                        match rx.recv() {
                            Ok(t) => t,
                            Err(_) => return,
                        }
                    }
                }
            }
        };
    }
}
