//! Processes: [`CloneFlags`], [`WaitOptions`], the `waitid(2)` id types,
//! [`Rusage`], the `arch_prctl(2)` codes and some `prctl(2)` options.

use crate::time::Timeval;
use bitflags::bitflags;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `CSIGNAL`: the mask of the exit signal in `clone(2)`'s flags.
pub const CSIGNAL: u64 = 0xff;

bitflags! {
    /// The `CLONE_*` flags of `clone(2)`, `clone3(2)` and `unshare(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct CloneFlags: u64 {
        /// `CLONE_NEWTIME`: new time namespace (shares a bit with
        /// `CSIGNAL`, so only `clone3(2)` and `unshare(2)` take it).
        const NEWTIME = 0x0000_0080;
        /// `CLONE_VM`: share the address space.
        const VM = 0x0000_0100;
        /// `CLONE_FS`: share the root, current directory and umask.
        const FS = 0x0000_0200;
        /// `CLONE_FILES`: share the descriptor table.
        const FILES = 0x0000_0400;
        /// `CLONE_SIGHAND`: share signal handlers.
        const SIGHAND = 0x0000_0800;
        /// `CLONE_PIDFD`: return a pidfd of the child.
        const PIDFD = 0x0000_1000;
        /// `CLONE_PTRACE`: the child is traced too.
        const PTRACE = 0x0000_2000;
        /// `CLONE_VFORK`: suspend the parent until the child execs or exits.
        const VFORK = 0x0000_4000;
        /// `CLONE_PARENT`: the child's parent is the caller's parent.
        const PARENT = 0x0000_8000;
        /// `CLONE_THREAD`: the child is a thread of the caller's group.
        const THREAD = 0x0001_0000;
        /// `CLONE_NEWNS`: new mount namespace.
        const NEWNS = 0x0002_0000;
        /// `CLONE_SYSVSEM`: share System V semaphore undo lists.
        const SYSVSEM = 0x0004_0000;
        /// `CLONE_SETTLS`: set the thread-local storage pointer.
        const SETTLS = 0x0008_0000;
        /// `CLONE_PARENT_SETTID`: store the child's tid in the parent.
        const PARENT_SETTID = 0x0010_0000;
        /// `CLONE_CHILD_CLEARTID`: clear the tid in the child on exit and
        /// wake a futex there.
        const CHILD_CLEARTID = 0x0020_0000;
        /// `CLONE_DETACHED`: ignored.
        const DETACHED = 0x0040_0000;
        /// `CLONE_UNTRACED`: the tracer cannot force `CLONE_PTRACE`.
        const UNTRACED = 0x0080_0000;
        /// `CLONE_CHILD_SETTID`: store the child's tid in the child.
        const CHILD_SETTID = 0x0100_0000;
        /// `CLONE_NEWCGROUP`: new cgroup namespace.
        const NEWCGROUP = 0x0200_0000;
        /// `CLONE_NEWUTS`: new UTS namespace.
        const NEWUTS = 0x0400_0000;
        /// `CLONE_NEWIPC`: new IPC namespace.
        const NEWIPC = 0x0800_0000;
        /// `CLONE_NEWUSER`: new user namespace.
        const NEWUSER = 0x1000_0000;
        /// `CLONE_NEWPID`: new PID namespace.
        const NEWPID = 0x2000_0000;
        /// `CLONE_NEWNET`: new network namespace.
        const NEWNET = 0x4000_0000;
        /// `CLONE_IO`: share the I/O context.
        const IO = 0x8000_0000;
        /// `CLONE_CLEAR_SIGHAND`: reset the child's handlers (`clone3(2)`).
        const CLEAR_SIGHAND = 0x1_0000_0000;
        /// `CLONE_INTO_CGROUP`: start the child in a cgroup (`clone3(2)`).
        const INTO_CGROUP = 0x2_0000_0000;
    }
}

/// `struct clone_args` of `clone3(2)`, in its largest published size
/// ([`CLONE_ARGS_SIZE_VER2`]); a caller may pass any of the published
/// sizes, the fields past its size reading as zero.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct CloneArgs {
    /// The [`CloneFlags`] bits.
    pub flags: u64,
    /// Where `CLONE_PIDFD` stores the pidfd (an `int *`).
    pub pidfd: u64,
    /// Where `CLONE_CHILD_SETTID` stores, and `CLONE_CHILD_CLEARTID`
    /// clears, the child's thread ID.
    pub child_tid: u64,
    /// Where `CLONE_PARENT_SETTID` stores the child's thread ID.
    pub parent_tid: u64,
    /// The signal sent to the parent when the child exits.
    pub exit_signal: u64,
    /// The lowest address of the child's stack.
    pub stack: u64,
    /// The size of the child's stack.
    pub stack_size: u64,
    /// The thread pointer with `CLONE_SETTLS`.
    pub tls: u64,
    /// An array of thread IDs to give the child, one per PID namespace
    /// level (`CLONE_ARGS_SIZE_VER1`).
    pub set_tid: u64,
    /// The length of `set_tid`.
    pub set_tid_size: u64,
    /// The cgroup descriptor of `CLONE_INTO_CGROUP`
    /// (`CLONE_ARGS_SIZE_VER2`).
    pub cgroup: u64,
}

/// The size of the first `struct clone_args`.
pub const CLONE_ARGS_SIZE_VER0: usize = 64;
/// The size with `set_tid` and `set_tid_size`.
pub const CLONE_ARGS_SIZE_VER1: usize = 80;
/// The size with `cgroup`.
pub const CLONE_ARGS_SIZE_VER2: usize = 88;

bitflags! {
    /// The options of `wait4(2)` and `waitid(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct WaitOptions: u32 {
        /// `WNOHANG`: return at once if no child is ready.
        const NOHANG = 0x0000_0001;
        /// `WUNTRACED` (`WSTOPPED`): report stopped children.
        const UNTRACED = 0x0000_0002;
        /// `WEXITED`: report terminated children (`waitid(2)`).
        const EXITED = 0x0000_0004;
        /// `WCONTINUED`: report continued children.
        const CONTINUED = 0x0000_0008;
        /// `WNOWAIT`: leave the child waitable (`waitid(2)`).
        const NOWAIT = 0x0100_0000;
        /// `__WNOTHREAD`: only the caller's own children.
        const NOTHREAD = 0x2000_0000;
        /// `__WALL`: all children, clone or not.
        const ALL = 0x4000_0000;
        /// `__WCLONE`: only clone children.
        const CLONE = 0x8000_0000;
    }
}

impl WaitOptions {
    /// `WSTOPPED`: alias of [`WaitOptions::UNTRACED`].
    pub const STOPPED: WaitOptions = WaitOptions::UNTRACED;
}

/// `P_ALL`: `waitid(2)` waits for any child.
pub const P_ALL: i32 = 0;
/// `P_PID`: `waitid(2)` waits for the child with the given pid.
pub const P_PID: i32 = 1;
/// `P_PGID`: `waitid(2)` waits for a child in the given process group.
pub const P_PGID: i32 = 2;
/// `P_PIDFD`: `waitid(2)` waits for the child the pidfd refers to.
pub const P_PIDFD: i32 = 3;

/// `RUSAGE_SELF`: the calling process.
pub const RUSAGE_SELF: i32 = 0;
/// `RUSAGE_CHILDREN`: the waited-for children.
pub const RUSAGE_CHILDREN: i32 = -1;
/// `RUSAGE_THREAD`: the calling thread.
pub const RUSAGE_THREAD: i32 = 1;

/// `struct rusage` of the 64-bit ABIs.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Rusage {
    /// User CPU time.
    pub ru_utime: Timeval,
    /// System CPU time.
    pub ru_stime: Timeval,
    /// Maximum resident set size in KiB.
    pub ru_maxrss: i64,
    /// Integral shared memory size (unused by Linux).
    pub ru_ixrss: i64,
    /// Integral unshared data size (unused by Linux).
    pub ru_idrss: i64,
    /// Integral unshared stack size (unused by Linux).
    pub ru_isrss: i64,
    /// Minor page faults.
    pub ru_minflt: i64,
    /// Major page faults.
    pub ru_majflt: i64,
    /// Swaps (unused by Linux).
    pub ru_nswap: i64,
    /// Block input operations.
    pub ru_inblock: i64,
    /// Block output operations.
    pub ru_oublock: i64,
    /// IPC messages sent (unused by Linux).
    pub ru_msgsnd: i64,
    /// IPC messages received (unused by Linux).
    pub ru_msgrcv: i64,
    /// Signals received (unused by Linux).
    pub ru_nsignals: i64,
    /// Voluntary context switches.
    pub ru_nvcsw: i64,
    /// Involuntary context switches.
    pub ru_nivcsw: i64,
}

/// `ARCH_SET_GS`: `arch_prctl(2)` sets the GS base.
pub const ARCH_SET_GS: i32 = 0x1001;
/// `ARCH_SET_FS`: `arch_prctl(2)` sets the FS base.
pub const ARCH_SET_FS: i32 = 0x1002;
/// `ARCH_GET_FS`: `arch_prctl(2)` stores the FS base.
pub const ARCH_GET_FS: i32 = 0x1003;
/// `ARCH_GET_GS`: `arch_prctl(2)` stores the GS base.
pub const ARCH_GET_GS: i32 = 0x1004;
/// `ARCH_GET_CPUID`: `arch_prctl(2)` reports whether `cpuid` is allowed.
pub const ARCH_GET_CPUID: i32 = 0x1011;
/// `ARCH_SET_CPUID`: `arch_prctl(2)` allows or faults `cpuid`.
pub const ARCH_SET_CPUID: i32 = 0x1012;

/// `PR_SET_PDEATHSIG`: signal on parent death.
pub const PR_SET_PDEATHSIG: i32 = 1;
/// `PR_GET_PDEATHSIG`: read the parent-death signal.
pub const PR_GET_PDEATHSIG: i32 = 2;
/// `PR_GET_DUMPABLE`: read the dumpable attribute.
pub const PR_GET_DUMPABLE: i32 = 3;
/// `PR_SET_DUMPABLE`: set the dumpable attribute.
pub const PR_SET_DUMPABLE: i32 = 4;
/// `PR_GET_KEEPCAPS`: read the keep-capabilities flag.
pub const PR_GET_KEEPCAPS: i32 = 7;
/// `PR_SET_KEEPCAPS`: set the keep-capabilities flag.
pub const PR_SET_KEEPCAPS: i32 = 8;
/// `PR_GET_TIMING`: read the timing method.
pub const PR_GET_TIMING: i32 = 13;
/// `PR_SET_NAME`: set the thread name (16 bytes with NUL).
pub const PR_SET_NAME: i32 = 15;
/// `PR_GET_NAME`: read the thread name.
pub const PR_GET_NAME: i32 = 16;
/// `PR_GET_SECCOMP`: read the seccomp mode.
pub const PR_GET_SECCOMP: i32 = 21;
/// `PR_SET_SECCOMP`: set the seccomp mode.
pub const PR_SET_SECCOMP: i32 = 22;
/// `PR_CAPBSET_READ`: test the bounding set.
pub const PR_CAPBSET_READ: i32 = 23;
/// `PR_CAPBSET_DROP`: drop from the bounding set.
pub const PR_CAPBSET_DROP: i32 = 24;
/// `PR_GET_SECUREBITS`: read the securebits.
pub const PR_GET_SECUREBITS: i32 = 27;
/// `PR_SET_SECUREBITS`: set the securebits.
pub const PR_SET_SECUREBITS: i32 = 28;
/// `PR_SET_TIMERSLACK`: set the timer slack.
pub const PR_SET_TIMERSLACK: i32 = 29;
/// `PR_GET_TIMERSLACK`: read the timer slack.
pub const PR_GET_TIMERSLACK: i32 = 30;
/// `PR_SET_MM`: change the memory-map descriptors.
pub const PR_SET_MM: i32 = 35;
/// `PR_SET_CHILD_SUBREAPER`: become a subreaper.
pub const PR_SET_CHILD_SUBREAPER: i32 = 36;
/// `PR_GET_CHILD_SUBREAPER`: read the subreaper flag.
pub const PR_GET_CHILD_SUBREAPER: i32 = 37;
/// `PR_SET_NO_NEW_PRIVS`: set the no-new-privileges flag.
pub const PR_SET_NO_NEW_PRIVS: i32 = 38;
/// `PR_GET_NO_NEW_PRIVS`: read the no-new-privileges flag.
pub const PR_GET_NO_NEW_PRIVS: i32 = 39;
/// `PR_GET_TID_ADDRESS`: read the clear-child-tid address.
pub const PR_GET_TID_ADDRESS: i32 = 40;
/// `PR_SET_THP_DISABLE`: disable transparent huge pages.
pub const PR_SET_THP_DISABLE: i32 = 41;
/// `PR_GET_THP_DISABLE`: read the THP-disable flag.
pub const PR_GET_THP_DISABLE: i32 = 42;
/// `PR_CAP_AMBIENT`: read or change the ambient set.
pub const PR_CAP_AMBIENT: i32 = 47;
/// `PR_SET_VMA`: name an anonymous mapping.
pub const PR_SET_VMA: i32 = 0x5356_4d41;
/// `PR_SET_PTRACER`: allow a process to trace the caller.
pub const PR_SET_PTRACER: i32 = 0x5961_6d61;

/// `PIDFD_NONBLOCK`: `pidfd_open(2)` makes a non-blocking descriptor.
pub const PIDFD_NONBLOCK: u32 = 0o4000;
/// `PIDFD_SIGNAL_THREAD`: `pidfd_send_signal(2)` signals the thread.
pub const PIDFD_SIGNAL_THREAD: u32 = 1;
/// `NGROUPS_MAX`: the most supplementary groups.
pub const NGROUPS_MAX: usize = 65536;
/// `MAX_ARG_STRLEN`: the longest single argument or environment string
/// `execve(2)` takes, NUL included.
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// `TASK_COMM_LEN`: a thread's name's size, NUL included.
pub const TASK_COMM_LEN: usize = 16;
/// `GRND_NONBLOCK`: `getrandom(2)` fails with `EAGAIN` rather than block.
pub const GRND_NONBLOCK: u32 = 1;
/// `GRND_RANDOM`: `getrandom(2)` draws from the blocking pool.
pub const GRND_RANDOM: u32 = 2;
/// `GRND_INSECURE`: `getrandom(2)` may return unseeded bytes.
pub const GRND_INSECURE: u32 = 4;

/// `PRIO_PROCESS`: `getpriority(2)`'s `who` is a process.
pub const PRIO_PROCESS: i32 = 0;
/// `PRIO_PGRP`: `who` is a process group.
pub const PRIO_PGRP: i32 = 1;
/// `PRIO_USER`: `who` is a user.
pub const PRIO_USER: i32 = 2;

/// `IOPRIO_WHO_PROCESS` (`ioprio_get`/`ioprio_set`): `who` is a thread.
pub const IOPRIO_WHO_PROCESS: i32 = 1;
/// `IOPRIO_WHO_PGRP`: `who` is a process group.
pub const IOPRIO_WHO_PGRP: i32 = 2;
/// `IOPRIO_WHO_USER`: `who` is a user.
pub const IOPRIO_WHO_USER: i32 = 3;
/// The bit offset of an I/O priority's class.
pub const IOPRIO_CLASS_SHIFT: u32 = 13;
/// `IOPRIO_CLASS_NONE`: no priority set; derived from the nice value.
pub const IOPRIO_CLASS_NONE: u16 = 0;
/// `IOPRIO_CLASS_RT`: real-time I/O.
pub const IOPRIO_CLASS_RT: u16 = 1;
/// `IOPRIO_CLASS_BE`: best effort, the default class.
pub const IOPRIO_CLASS_BE: u16 = 2;
/// `IOPRIO_CLASS_IDLE`: I/O only when nobody else wants the disk.
pub const IOPRIO_CLASS_IDLE: u16 = 3;
/// The levels of the RT and BE classes (0 highest).
pub const IOPRIO_NR_LEVELS: u16 = 8;
/// `IOPRIO_BE_NORM`: the best-effort level a class-less task counts as.
pub const IOPRIO_BE_NORM: u16 = 4;

/// `SCHED_OTHER`: the default time-sharing policy.
pub const SCHED_OTHER: i32 = 0;
/// `SCHED_FIFO`: real-time, first in first out.
pub const SCHED_FIFO: i32 = 1;
/// `SCHED_RR`: real-time, round robin.
pub const SCHED_RR: i32 = 2;
/// `SCHED_BATCH`: batch time-sharing.
pub const SCHED_BATCH: i32 = 3;
/// `SCHED_IDLE`: the lowest priority.
pub const SCHED_IDLE: i32 = 5;
/// `SCHED_DEADLINE`: deadline scheduling.
pub const SCHED_DEADLINE: i32 = 6;
/// `SCHED_RESET_ON_FORK`: or-ed into a policy, children get `SCHED_OTHER`.
pub const SCHED_RESET_ON_FORK: i32 = 0x4000_0000;
