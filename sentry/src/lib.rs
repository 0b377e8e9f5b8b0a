//! `sentry`: a user-space kernel that runs unmodified Linux x86_64
//! programs, serving their system calls from the project's crates (gVisor's
//! `pkg/sentry`).
//!
//! - [`elf`] and [`loader`]: validate ELF64 executables, load static,
//!   static-PIE and dynamic programs (with their interpreter from the
//!   sandbox's filesystem) and `#!` scripts, and build the initial stack.
//! - [`mm`]: the memory manager: VMAs over a [`platform::AddressSpace`],
//!   pages from the platform's [`platform::MemoryFile`] allocated on fault,
//!   copy-in/copy-out through the memory file's internal mapping; file
//!   mappings through vfs-core's memmap contracts, with copy-on-write;
//!   memfs and extfs keep their pages in the platform's memory file (a
//!   vfs-core memory file itself), so they are mapped into applications as
//!   they are.
//! - [`task`]: threads (a task per thread, each on a host thread driving
//!   [`platform::Context`]), thread groups, the process tree (`clone`,
//!   `execve`, `exit`, `wait4`, signals); [`futex`]: the futex queues;
//!   [`syscalls`]: the system-call table with its support notes;
//!   [`fd_table`]: descriptors.
//! - [`kernel`]: the VFS with the root filesystem, `/tmp` and `/dev`;
//!   [`devices`]: the memory devices; standard I/O is the sentry's own
//!   descriptors imported through hostfs.
//! - [`wait`]: how a task blocks on a file's waiter queue; [`pipe`]:
//!   anonymous pipes; [`procfs`]: `/proc` on kernfs; [`pty`]:
//!   pseudo-terminals and devpts; [`ipc`]: System V
//!   shared memory, semaphores and message queues, and POSIX message
//!   queues.
//! - [`run`]: start a program and wait for its exit status.
//!
//! # Reference model
//!
//! The kernel owns the VFS and mount namespace; tasks hold the kernel, and
//! share their memory manager, descriptor table and fs context through
//! `Arc`s (see [`task`]). Descriptors hold file-description references;
//! the fs context holds root and working-directory references; both are
//! released when the task exits. Present application pages hold
//! memory-file references (see [`mm`]).
//!
//! # Lock order
//!
//! `TaskSet::tree` → `ThreadGroup::state` → `SignalHandlers::actions` →
//! kill switches (see [`task`]); `Futexes::state` → the memory manager's
//! locks. `FsContext` → `FdTable` → `MemoryManager` → `SharedMemory` →
//! the memory file's and address space's internal locks.
//!
//! Between the memory manager and filesystems the order is gVisor's: the
//! memory manager first. A page fault translates file pages with the
//! memory manager's lock held, which takes the file's lock; a read or
//! write resolves each block of application memory with the memory
//! manager's lock held and only then, inside the copy callback, takes the
//! file's lock (memfs's contents, goferfs's page cache). No filesystem
//! holds a lock that `translate` takes across a call into an I/O
//! destination or source, so a read into memory mapped from the same
//! file, or two threads faulting and reading at once, cannot deadlock,
//! and nothing is prefaulted.
//!
//! # Examples
//!
//! ```no_run
//! use sentry::kernel::{KernelConfig, PlatformKind, RootSource};
//!
//! let root = RootSource::HostDir { path: "/srv/root".into(), writable: false };
//! let config = KernelConfig {
//!     platform: PlatformKind::Seccomp,
//!     ..KernelConfig::new(root)
//! };
//! let kernel = sentry::kernel::Kernel::new(&config).unwrap();
//! let spec = sentry::ProgramSpec {
//!     argv: vec![b"/bin/busybox".to_vec(), b"true".to_vec()],
//!     cwd: b"/".to_vec(),
//!     ..Default::default()
//! };
//! let status = sentry::run(&kernel, spec).unwrap();
//! assert_eq!(status.shell_code(), 0);
//! ```

pub mod coredump;
pub mod devices;
pub mod elf;
pub mod eventfd;
pub mod fd_table;
pub mod futex;
pub mod gofer;
pub mod ipc;
pub mod kernel;
pub mod loader;
pub mod mm;
pub mod net;
pub mod oci;
pub mod pidfd;
pub mod pipe;
pub mod procfs;
pub mod pty;
pub mod seccomp;
pub mod signalfd;
pub mod syscalls;
pub mod sysfs;
pub mod task;
pub mod timerfd;
pub mod timers;
pub mod wait;

use std::sync::Arc;

use vfs_core::{Credentials, PathOperation};

use crate::fd_table::FdTable;
use crate::kernel::Kernel;
use crate::mm::MemoryManager;
use crate::task::{ExitStatus, FsContext, ProcessInfo, SignalHandlers, TaskBuilder, TaskContext};

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct ProgramSpec {
    /// The argument vector; `argv[0]` is the path of the program.
    pub argv: Vec<Vec<u8>>,
    /// The environment (`KEY=VALUE`).
    pub envp: Vec<Vec<u8>>,
    /// The initial working directory.
    pub cwd: Vec<u8>,
    /// Whom it runs as; root with every capability when `None`.
    pub user: Option<ProgramUser>,
    /// Resource limits it starts with instead of Linux's defaults.
    pub rlimits: Vec<(abi_linux::RlimitResource, abi_linux::Rlimit)>,
    /// Starts it with `PR_SET_NO_NEW_PRIVS` set.
    pub no_new_privs: bool,
    /// Its capability sets (effective, permitted, inheritable, bounding,
    /// ambient), instead of those its user gets.
    pub capabilities: Option<[abi_linux::CapabilitySet; 5]>,
}

/// The identity a program starts with (an OCI `process.user`).
#[derive(Clone, Debug, Default)]
pub struct ProgramUser {
    /// Its user ID (real, effective, saved and filesystem).
    pub uid: u32,
    /// Its group ID.
    pub gid: u32,
    /// Its supplementary groups.
    pub groups: Vec<u32>,
}

impl ProgramSpec {
    /// The credentials it starts with: root's, or `user`'s (a non-root
    /// user has no capabilities, as after Linux's `setuid`).
    fn credentials(&self) -> Credentials {
        let default_user = ProgramUser::default();
        let user = self.user.as_ref().unwrap_or(&default_user);
        let mut creds = if user.uid == 0 {
            let mut creds = Credentials::root();
            creds.real_gid = user.gid;
            creds.effective_gid = user.gid;
            creds.saved_gid = user.gid;
            creds.fs_gid = user.gid;
            creds
        } else {
            Credentials::user(user.uid, user.gid)
        };
        // Sorted, as Linux's setgroups keeps them.
        creds.extra_gids = user.groups.clone();
        creds.extra_gids.sort_unstable();
        if let Some([effective, permitted, inheritable, bounding, ambient]) = self.capabilities {
            creds.effective_caps = effective;
            creds.permitted_caps = permitted;
            creds.inheritable_caps = inheritable;
            creds.bounding_caps = bounding;
            creds.ambient_caps = ambient;
        }
        creds
    }
}

/// Where a program's standard descriptors come from.
#[derive(Debug, Default)]
pub enum Stdio {
    /// The sentry's own 0, 1 and 2.
    #[default]
    Inherit,
    /// These host descriptors (a closed one where `None`).
    Host([Option<std::os::fd::OwnedFd>; 3]),
    /// This replica of a sandbox terminal on all three, which becomes the
    /// process's controlling terminal (it leads its own session).
    Terminal(vfs_core::FileRef),
}

/// Runs `spec` as the first task (PID 1) of `kernel` on a new thread and
/// returns its exit status; an error (one line) when the program cannot be
/// started. Returns once every process it created has ended too (its exit
/// kills them).
///
/// hostfs puts the imported standard descriptors in non-blocking mode,
/// which changes the host's open file descriptions (shared with the
/// sentry's parent, a shell's terminal); their status flags are restored
/// when the program ends.
pub fn run(kernel: &Arc<Kernel>, spec: ProgramSpec) -> Result<ExitStatus, String> {
    run_with(kernel, spec, Stdio::Inherit)
}

/// [`run`] with `stdio`.
pub fn run_with(
    kernel: &Arc<Kernel>,
    spec: ProgramSpec,
    stdio: Stdio,
) -> Result<ExitStatus, String> {
    let saved = HostStdioFlags::save();
    let kernel_tasks = kernel.tasks.clone();
    let kernel = kernel.clone();
    let thread = std::thread::Builder::new()
        .name("task-1".into())
        .spawn(move || start(kernel, spec, stdio))
        .map_err(|e| format!("spawning the task thread: {e}"));
    let result = thread.and_then(|t| {
        t.join()
            .map_err(|_| "the task thread panicked".to_string())?
    });
    // The init process's exit killed every other process; their threads
    // give back what they hold before the kernel may go.
    kernel_tasks.wait_threads();
    let result = result.map(|status| kernel_tasks.init_exit().unwrap_or(status));
    saved.restore();
    result
}

/// The host status flags of descriptors 0, 1 and 2 (`-1` when closed).
struct HostStdioFlags([i32; 3]);

impl HostStdioFlags {
    fn save() -> Self {
        // SAFETY: `F_GETFL` takes no pointer argument; a closed descriptor
        // makes it fail with `EBADF`, recorded as -1.
        Self([0, 1, 2].map(|fd| unsafe { libc::fcntl(fd, libc::F_GETFL) }))
    }

    fn restore(&self) {
        for (fd, &flags) in self.0.iter().enumerate() {
            if flags >= 0 {
                // SAFETY: `F_SETFL` takes an integer argument; it changes
                // only the status flags the sentry saved for this
                // descriptor. A failure leaves the flags as they are,
                // which is all that can be done.
                unsafe { libc::fcntl(fd as i32, libc::F_SETFL, flags) };
            }
        }
    }
}

/// Runs `spec` as a new process of `kernel`, beside its init process
/// (as `runsc exec` does; its parent is no process), with `stdio`, on
/// this thread; returns its exit status once it ends. An error (one
/// line) when it cannot start.
pub fn spawn(kernel: &Arc<Kernel>, spec: ProgramSpec, stdio: Stdio) -> Result<ExitStatus, String> {
    start(kernel.clone(), spec, stdio)
}

fn start(kernel: Arc<Kernel>, spec: ProgramSpec, stdio: Stdio) -> Result<ExitStatus, String> {
    let path = spec.argv.first().cloned().ok_or("no program given")?;
    let shown = String::from_utf8_lossy(&path).into_owned();
    let limits = crate::task::Limits::linux_defaults();
    for &(resource, limit) in &spec.rlimits {
        limits
            .replace(resource, limit, true)
            .map_err(|e| format!("rlimit {resource:?}: {}", e.name()))?;
    }
    let mut ctx = TaskContext {
        credentials: spec.credentials(),
        tgid: 0,
        limits: limits.clone(),
    };
    let root = kernel.mounts.root();
    let cwd = {
        let pop = PathOperation::new(&root, &root, &spec.cwd);
        kernel
            .vfs
            .get_dentry_at(
                &ctx,
                &pop,
                vfs_core::GetDentryOptions {
                    check_searchable: true,
                },
            )
            .map_err(|e| {
                format!(
                    "working directory {}: {}",
                    String::from_utf8_lossy(&spec.cwd),
                    e.name()
                )
            })?
    };
    let fs = FsContext::new(root, cwd);
    let address_space = kernel
        .platform
        .new_address_space()
        .map_err(|e| format!("creating an address space: {}", e.name()))?;
    let mm = Arc::new(MemoryManager::new(
        kernel.platform.memory_file().clone(),
        address_space,
        kernel.platform.min_user_address(),
        kernel.platform.max_user_address(),
    ));
    let loaded = {
        let (root, cwd) = fs.root_and_cwd().map_err(|e| e.name().to_string())?;
        let req = loader::LoadRequest {
            vfs: &kernel.vfs,
            root: &root,
            cwd: &cwd,
            path: &path,
            filename: &path,
            filename_inaccessible: false,
            nofollow: false,
            argv: spec.argv.clone(),
            envp: spec.envp.clone(),
            creds: &ctx.credentials,
            no_new_privs: spec.no_new_privs,
            stack_limit: limits.cur(abi_linux::RlimitResource::STACK),
        };
        let loaded = loader::load(&ctx, &mm, req);
        root.release(&ctx);
        cwd.release(&ctx);
        loaded
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            fs.release(&ctx);
            return Err(format!("cannot run {shown}: {}", e.name()));
        }
    };
    ctx.credentials = loaded.creds.clone();
    let fds = Arc::new(FdTable::new());
    let (stdio, terminal) = match stdio {
        Stdio::Inherit => (kernel::host_stdio(), None),
        Stdio::Host(fds) => (Ok(fds), None),
        Stdio::Terminal(replica) => {
            for fd in 0..3 {
                if let Ok(Some(old)) = fds.set(fd, replica.clone(), false, crate::task::NR_OPEN) {
                    old.release(&ctx);
                }
            }
            (Ok([None, None, None]), Some(replica))
        }
    };
    if let Err(e) = stdio.and_then(|stdio| kernel.import_stdio(&ctx, &fds, stdio)) {
        fds.close_all(&ctx);
        fs.release(&ctx);
        return Err(e);
    }
    let handlers = Arc::new(SignalHandlers::default());
    let (group, kill) = match kernel.tasks.new_process(0, 0, 0, handlers, limits) {
        Ok(created) => created,
        Err(e) => {
            fds.close_all(&ctx);
            fs.release(&ctx);
            return Err(format!("cannot run {shown}: {}", e.name()));
        }
    };
    group.set_credentials(ctx.credentials.clone());
    if spec.no_new_privs {
        group.attrs().no_new_privs = true;
    }
    ctx.tgid = group.tgid();
    let process = Arc::new(ProcessInfo {
        tgid: ctx.tgid,
        argv: loaded.argv.clone(),
        envp: spec.envp.clone(),
        exe: loaded.exe.clone(),
        auxv: loaded.auxv.clone(),
        comm: std::sync::Mutex::new(comm_of(&path)),
        mm,
        fds,
        fs,
        start: std::time::Instant::now(),
        group: group.clone(),
    });
    kernel.tasks.insert(process.clone());
    if let Some(replica) = terminal {
        kernel.ptys.make_controlling(&replica, ctx.tgid);
        replica.release(&ctx);
    }
    let mut task = TaskBuilder::new(kernel.clone(), group, kill, process, ctx, loaded.regs).build();
    let result = task
        .run()
        .map_err(|e| format!("running {shown}: {}", e.name()));
    let tasks = kernel.tasks.clone();
    drop(task);
    drop(kernel);
    tasks.thread_done();
    result
}

/// The `comm` of a program: the last component of its path, truncated to
/// 15 bytes as Linux does.
pub(crate) fn comm_of(path: &[u8]) -> Vec<u8> {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    name[..name.len().min(15)].to_vec()
}
