//! Thread groups: what the threads of one process share (Linux's
//! `signal_struct`, gVisor's `kernel.ThreadGroup`): the group's pending
//! signals, its signal actions, its live threads and how it exits.
//!
//! A group exits when its last thread does. `exit_group`, a fatal signal
//! or a fault nobody handles makes it exit as a whole
//! ([`ThreadGroup::exit_group`]): the first status recorded is the
//! group's, and every thread is told to stop. When the threads all leave
//! by `exit` instead, the group's status is its leader's (as Linux's
//! `wait` reports the leader's exit code).
//!
//! # Reference model
//!
//! The task set's tree holds each group (`Arc`) until it is reaped; each
//! task holds its group. A group holds its threads' kill switches while
//! they live.
//!
//! # Lock order
//!
//! `ThreadGroup::state` → `SignalHandlers::actions` → the kill switches'
//! locks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::Errno;

use super::fs_context::FsContext;
use super::signals::{SIG_IGN, STOP_SIGNALS, SignalHandlers, stops, terminates};
use super::{ChildEvent, ExitStatus};
use crate::fd_table::FdTable;
use crate::mm::MemoryManager;
use crate::wait::{KillSwitch, PendingSignals};
use abi_linux::SigInfo;

/// What a group's lock guards.
#[derive(Debug, Default)]
struct GroupState {
    /// The live threads: thread ID and kill switch.
    threads: Vec<Arc<KillSwitch>>,
    /// Set once the group exits as a whole.
    exit: Option<ExitStatus>,
    /// The status the leader thread exited with, if it did.
    leader_exit: Option<ExitStatus>,
    /// Group stop (Linux's `SIGNAL_STOP_STOPPED`).
    stopped: bool,
    /// What the parent's `wait` has not yet been told: a stop or a
    /// continuation (Linux's `group_exit_code` with `SIGNAL_STOP_*`).
    report: Option<ChildEvent>,
    /// Set when `SIGCONT` ended a stop: the first thread to resume tells
    /// the parent.
    continue_notice: bool,
}

/// A thread group (a process).
pub struct ThreadGroup {
    tgid: i32,
    /// Group-directed pending signals, shared with the threads' kill
    /// switches.
    pending: Arc<PendingSignals>,
    handlers: Mutex<Arc<SignalHandlers>>,
    state: Mutex<GroupState>,
    /// Notified when a thread leaves.
    left: vfs_core::waiter::WaiterQueue,
    /// Notified when the last thread has left (pidfd readiness).
    exit_queue: vfs_core::waiter::WaiterQueue,
    /// Notified when a group stop ends.
    stop_queue: vfs_core::waiter::WaiterQueue,
    /// The group's timers.
    timers: Mutex<GroupTimers>,
    /// The resource limits.
    limits: Arc<super::Limits>,
    /// The credentials other processes see (permission checks of `kill`,
    /// `/proc/PID`): its threads publish theirs when they change.
    creds: Mutex<vfs_core::Credentials>,
    /// The `prctl` attributes.
    attrs: Mutex<ProcessAttrs>,
    usage: Mutex<GroupUsage>,
    io: IoUsage,
}

/// The `prctl(2)` attributes of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessAttrs {
    /// `PR_SET_DUMPABLE`.
    pub dumpable: bool,
    /// `PR_SET_PDEATHSIG`: the signal sent when the parent exits (0:
    /// none).
    pub pdeathsig: i32,
    /// `PR_SET_CHILD_SUBREAPER`: orphaned descendants come here instead
    /// of the init process.
    pub child_subreaper: bool,
    /// `PR_SET_NO_NEW_PRIVS`.
    pub no_new_privs: bool,
    /// `PR_SET_KEEPCAPS`.
    pub keep_caps: bool,
    /// `PR_SET_TIMERSLACK`, in nanoseconds.
    pub timer_slack: u64,
    /// `PR_SET_THP_DISABLE`.
    pub thp_disable: bool,
    /// The nice value (`setpriority`), -20 to 19.
    pub nice: i32,
    /// The scheduling policy (`sched_setscheduler`), with
    /// `SCHED_RESET_ON_FORK` when set.
    pub policy: i32,
    /// The real-time priority of `SCHED_FIFO`/`SCHED_RR`.
    pub rt_priority: i32,
    /// The execution domain and flags of `personality(2)`.
    pub personality: u32,
    /// The I/O priority (`ioprio_set`): class and level, 0 until set.
    pub ioprio: u16,
    /// The NUMA policy `set_mempolicy` set; none means `MPOL_DEFAULT`.
    pub mempolicy: Option<crate::mm::MemPolicy>,
    /// `/proc/PID/oom_score_adj`, -1000 to 1000.
    pub oom_score_adj: i32,
    /// The lowest `oom_score_adj` the process may return to without
    /// `CAP_SYS_RESOURCE` (Linux's `oom_score_adj_min`).
    pub oom_score_adj_min: i32,
}

impl Default for ProcessAttrs {
    fn default() -> Self {
        Self {
            dumpable: true,
            pdeathsig: 0,
            child_subreaper: false,
            no_new_privs: false,
            keep_caps: false,
            timer_slack: 50_000,
            thp_disable: false,
            nice: 0,
            policy: 0,
            rt_priority: 0,
            personality: 0,
            ioprio: 0,
            mempolicy: None,
            oom_score_adj: 0,
            oom_score_adj_min: 0,
        }
    }
}

impl ProcessAttrs {
    /// What a child made by `fork` starts with (Linux's `copy_process`
    /// and `sched_fork`): everything but the parent-death signal and the
    /// subreaper mark; under `SCHED_RESET_ON_FORK` no real-time policy and
    /// a nice value no lower than 0.
    pub fn for_child(self) -> Self {
        let mut child = Self {
            pdeathsig: 0,
            child_subreaper: false,
            ..self
        };
        let reset = abi_linux::process::SCHED_RESET_ON_FORK;
        if self.policy & reset != 0 {
            // Linux's sched_fork: real-time policies become the default
            // one, a negative nice becomes 0, and the flag is not passed on.
            let base = self.policy & !reset;
            if base == abi_linux::process::SCHED_FIFO || base == abi_linux::process::SCHED_RR {
                child.policy = abi_linux::process::SCHED_OTHER;
                child.rt_priority = 0;
            } else {
                child.policy = base;
            }
            child.nice = child.nice.max(0);
        }
        child
    }
}

/// CPU time and memory use, as `getrusage` reports them, in nanoseconds
/// and KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// User CPU time.
    pub user_ns: u64,
    /// System CPU time.
    pub sys_ns: u64,
    /// The largest resident set, in KiB.
    pub maxrss_kb: u64,
}

impl Usage {
    /// The sum of two usages (the larger resident set).
    pub fn plus(self, other: Usage) -> Usage {
        Usage {
            user_ns: self.user_ns + other.user_ns,
            sys_ns: self.sys_ns + other.sys_ns,
            maxrss_kb: self.maxrss_kb.max(other.maxrss_kb),
        }
    }
}

/// The character I/O a process did (Linux's `task_io_accounting`, as
/// `/proc/PID/io` shows it): bytes and calls of the read and write
/// families, its own and its reaped children's.
#[derive(Debug, Default)]
pub struct IoUsage {
    rchar: AtomicU64,
    wchar: AtomicU64,
    syscr: AtomicU64,
    syscw: AtomicU64,
}

impl IoUsage {
    /// Counts a read call that moved `bytes`.
    pub fn read(&self, bytes: u64) {
        self.rchar.fetch_add(bytes, Ordering::Relaxed);
        self.syscr.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a write call that moved `bytes`.
    pub fn write(&self, bytes: u64) {
        self.wchar.fetch_add(bytes, Ordering::Relaxed);
        self.syscw.fetch_add(1, Ordering::Relaxed);
    }

    /// `rchar`, `wchar`, `syscr` and `syscw`.
    pub fn counts(&self) -> [u64; 4] {
        [&self.rchar, &self.wchar, &self.syscr, &self.syscw].map(|c| c.load(Ordering::Relaxed))
    }

    /// Adds a reaped child's counts.
    fn absorb(&self, child: [u64; 4]) {
        for (c, v) in [&self.rchar, &self.wchar, &self.syscr, &self.syscw]
            .into_iter()
            .zip(child)
        {
            c.fetch_add(v, Ordering::Relaxed);
        }
    }
}

/// What a group has used besides its live threads: its exited threads',
/// and its waited-for children's (Linux's `signal_struct` totals).
#[derive(Clone, Copy, Debug, Default)]
struct GroupUsage {
    exited: Usage,
    children: Usage,
}

/// The timers of a thread group.
#[derive(Debug, Default)]
pub struct GroupTimers {
    /// `timer_create`'s timers by ID.
    pub posix: std::collections::BTreeMap<i32, Arc<crate::timers::Timer>>,
    /// `ITIMER_REAL` (`setitimer`, `alarm`), made on first use.
    pub real: Option<Arc<crate::timers::Timer>>,
    /// `ITIMER_VIRTUAL`, made on first use.
    pub virt: Option<Arc<crate::timers::Timer>>,
    /// `ITIMER_PROF`, made on first use.
    pub prof: Option<Arc<crate::timers::Timer>>,
}

impl std::fmt::Debug for ThreadGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadGroup")
            .field("tgid", &self.tgid)
            .finish_non_exhaustive()
    }
}

impl ThreadGroup {
    /// A group with no thread yet, acting on signals by `handlers`.
    pub(crate) fn new(
        tgid: i32,
        handlers: Arc<SignalHandlers>,
        limits: Arc<super::Limits>,
    ) -> Arc<Self> {
        Arc::new(Self {
            tgid,
            pending: Arc::new(PendingSignals::default()),
            handlers: Mutex::new(handlers),
            state: Mutex::new(GroupState::default()),
            left: vfs_core::waiter::WaiterQueue::new(),
            exit_queue: vfs_core::waiter::WaiterQueue::new(),
            stop_queue: vfs_core::waiter::WaiterQueue::new(),
            timers: Mutex::new(GroupTimers::default()),
            limits,
            creds: Mutex::new(vfs_core::Credentials::root()),
            attrs: Mutex::new(ProcessAttrs::default()),
            usage: Mutex::new(GroupUsage::default()),
            io: IoUsage::default(),
        })
    }

    fn usage_state(&self) -> MutexGuard<'_, GroupUsage> {
        self.usage.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an exiting thread's CPU time to the group's.
    pub(crate) fn add_exited_thread(&self, user_ns: u64, sys_ns: u64) {
        let mut u = self.usage_state();
        u.exited.user_ns += user_ns;
        u.exited.sys_ns += sys_ns;
    }

    /// Records a peak resident set (KiB).
    pub(crate) fn note_rss(&self, kb: u64) {
        let mut u = self.usage_state();
        u.exited.maxrss_kb = u.exited.maxrss_kb.max(kb);
    }

    /// Adds a reaped child's own and children's usage (`wait`), and its
    /// I/O counts (which its own reaped children's are in already).
    pub(crate) fn add_child(&self, child: Usage, io: [u64; 4]) {
        let mut u = self.usage_state();
        u.children = u.children.plus(child);
        self.io.absorb(io);
    }

    /// The process's character I/O counts (`/proc/PID/io`).
    pub fn io(&self) -> &IoUsage {
        &self.io
    }

    /// The group's own usage: its live threads' and its exited threads'
    /// (`RUSAGE_SELF`).
    pub fn self_usage(&self) -> Usage {
        let live = self
            .state()
            .threads
            .iter()
            .map(|s| s.cpu_times())
            .fold((0, 0), |(u, s), (a, b)| (u + a, s + b));
        let exited = self.usage_state().exited;
        Usage {
            user_ns: exited.user_ns + live.0,
            sys_ns: exited.sys_ns + live.1,
            maxrss_kb: exited.maxrss_kb,
        }
    }

    /// The waited-for children's usage (`RUSAGE_CHILDREN`).
    pub fn children_usage(&self) -> Usage {
        self.usage_state().children
    }

    /// The `prctl` attributes, locked.
    pub fn attrs(&self) -> MutexGuard<'_, ProcessAttrs> {
        self.attrs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The resource limits.
    pub fn limits(&self) -> &Arc<super::Limits> {
        &self.limits
    }

    fn state(&self) -> MutexGuard<'_, GroupState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The thread-group ID.
    pub fn tgid(&self) -> i32 {
        self.tgid
    }

    /// A new kill switch for thread `tid` of this group.
    pub(crate) fn new_switch(&self, tid: i32) -> Arc<KillSwitch> {
        KillSwitch::new(tid, self.pending.clone())
    }

    /// The credentials the process shows others.
    pub fn credentials(&self) -> vfs_core::Credentials {
        self.creds.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Publishes a thread's new credentials (`setuid` and friends,
    /// `capset`, a new process).
    pub fn set_credentials(&self, creds: vfs_core::Credentials) {
        *self.creds.lock().unwrap_or_else(|e| e.into_inner()) = creds;
    }

    /// The signal actions.
    pub fn handlers(&self) -> Arc<SignalHandlers> {
        self.handlers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the signal actions (`execve` gives the group its own).
    pub(crate) fn set_handlers(&self, handlers: Arc<SignalHandlers>) {
        *self.handlers.lock().unwrap_or_else(|e| e.into_inner()) = handlers;
    }

    /// Adds a live thread; `EINTR` when the group is exiting (the
    /// creating thread is about to stop too).
    pub(crate) fn add_thread(&self, switch: Arc<KillSwitch>) -> Result<(), Errno> {
        let mut st = self.state();
        if st.exit.is_some() {
            return Err(Errno::EINTR);
        }
        st.threads.push(switch);
        Ok(())
    }

    /// Removes the thread `tid` (it has exited) and returns how many
    /// remain; `leader` records its status as the leader's.
    pub(crate) fn remove_thread(&self, tid: i32, status: ExitStatus, leader: bool) -> usize {
        let remaining = {
            let mut st = self.state();
            st.threads.retain(|s| s.tid() != tid);
            if leader {
                st.leader_exit = Some(status);
            }
            st.threads.len()
        };
        self.left.notify(vfs_core::waiter::EventMask::IN);
        if remaining == 0 {
            self.exit_queue.notify(vfs_core::waiter::READABLE_EVENTS);
        }
        remaining
    }

    /// The group's timers, locked.
    pub fn timers(&self) -> MutexGuard<'_, GroupTimers> {
        self.timers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `signal` is pending for the group.
    pub(crate) fn signal_pending(&self, signal: i32) -> bool {
        self.pending.bits() & (1 << (signal - 1)) != 0
    }

    /// The queue pidfds wait on for the group's exit.
    pub(crate) fn exit_queue(&self) -> &vfs_core::waiter::WaiterQueue {
        &self.exit_queue
    }

    /// The kill switches of the live threads.
    pub(crate) fn thread_switches(&self) -> Vec<Arc<KillSwitch>> {
        self.state().threads.clone()
    }

    /// The kill switch of the live thread `tid`.
    pub(crate) fn thread_switch(&self, tid: i32) -> Option<Arc<KillSwitch>> {
        self.state()
            .threads
            .iter()
            .find(|s| s.tid() == tid)
            .cloned()
    }

    /// The live thread IDs, in creation order.
    pub fn thread_ids(&self) -> Vec<i32> {
        self.state().threads.iter().map(|s| s.tid()).collect()
    }

    /// How many threads live.
    pub fn thread_count(&self) -> usize {
        self.state().threads.len()
    }

    /// The group's exit status once every thread has gone: the status of
    /// a group exit, else the leader's, else `last`.
    pub(crate) fn final_status(&self, last: ExitStatus) -> ExitStatus {
        let st = self.state();
        st.exit.or(st.leader_exit).unwrap_or(last)
    }

    /// Records that the signal the group exits by wrote a core file.
    pub(crate) fn mark_core_dumped(&self) {
        let mut st = self.state();
        if let Some(ExitStatus::Signaled(signal)) = st.exit {
            st.exit = Some(ExitStatus::CoreDumped(signal));
        }
    }

    /// Whether the group is exiting as a whole.
    pub fn is_exiting(&self) -> bool {
        self.state().exit.is_some()
    }

    /// Makes the whole group exit with `status` (`exit_group`, a fatal
    /// signal): the first status wins; every thread is told to stop.
    pub fn exit_group(&self, status: ExitStatus) {
        let mut st = self.state();
        if st.exit.is_none() {
            st.exit = Some(status);
        }
        let signal = match status {
            ExitStatus::Signaled(s) | ExitStatus::CoreDumped(s) => s,
            ExitStatus::Exited(_) => libc::SIGKILL,
        };
        for s in &st.threads {
            s.kill(signal);
        }
    }

    /// Starts a group stop on `signal` (a thread took a stop signal at its
    /// default action, Linux's `do_signal_stop`): every thread is told to
    /// stop before it next runs application code. Returns whether the
    /// group was running (the parent is then told).
    pub(crate) fn begin_stop(&self, signal: i32) -> bool {
        let mut st = self.state();
        if st.stopped || st.exit.is_some() {
            return false;
        }
        st.stopped = true;
        st.report = Some(ChildEvent::Stopped(signal));
        st.continue_notice = false;
        for s in &st.threads {
            s.notify();
        }
        true
    }

    /// Whether the group is stopped.
    pub fn is_stopped(&self) -> bool {
        self.state().stopped
    }

    /// The queue a stopped thread waits on until the group is continued.
    pub(crate) fn stop_queue(&self) -> &vfs_core::waiter::WaiterQueue {
        &self.stop_queue
    }

    /// Whether this thread is the one to tell the parent that a stop
    /// ended (once per continuation).
    pub(crate) fn take_continue_notice(&self) -> bool {
        std::mem::take(&mut self.state().continue_notice)
    }

    /// The stop or continuation a `wait` with `stopped`/`continued` asked
    /// for reports, forgotten unless `keep` (`WNOWAIT`).
    pub(crate) fn take_report(
        &self,
        stopped: bool,
        continued: bool,
        keep: bool,
    ) -> Option<ChildEvent> {
        let mut st = self.state();
        let wanted = match st.report {
            Some(ChildEvent::Stopped(_)) => stopped && st.stopped,
            Some(ChildEvent::Continued) => continued,
            _ => false,
        };
        if !wanted {
            return None;
        }
        if keep { st.report } else { st.report.take() }
    }

    /// What sending `signal` does before it is queued (Linux's
    /// `prepare_signal`): `SIGCONT` discards pending stop signals and ends
    /// a group stop; a stop signal discards a pending `SIGCONT`.
    fn prepare(&self, signal: i32) {
        let cont = 1u64 << (libc::SIGCONT - 1);
        if signal == libc::SIGCONT {
            self.pending.discard(STOP_SIGNALS);
            let mut st = self.state();
            for s in &st.threads {
                s.discard_pending(STOP_SIGNALS);
            }
            if st.stopped {
                st.stopped = false;
                st.report = Some(ChildEvent::Continued);
                st.continue_notice = true;
                drop(st);
                self.stop_queue.notify(vfs_core::waiter::EventMask::IN);
            }
        } else if STOP_SIGNALS & (1 << (signal - 1)) != 0 {
            self.pending.discard(cont);
            for s in &self.state().threads {
                s.discard_pending(cont);
            }
        }
    }

    /// Sends the group-directed `signal` (`kill(2)`), acting as Linux's
    /// `complete_signal`: a caught signal is made pending for the group
    /// and one thread that does not block it is woken to take it;
    /// `SIGKILL`, and a signal whose default action terminates without a
    /// core dump, ends the group; an ignored one is dropped. `EAGAIN` when a queued real-time
    /// signal passes the queue limit.
    ///
    /// # Preconditions
    ///
    /// `1 <= signal <= 64`.
    pub fn send(&self, signal: i32, info: SigInfo) -> Result<(), Errno> {
        self.prepare(signal);
        let handler = self.handlers().action(signal).handler;
        // A fatal signal ends the group at once when some thread would
        // take it; blocked everywhere, it waits pending like any other.
        let st = self.state();
        // The thread that will take it: one that neither blocks nor
        // awaits it (Linux's `wants_signal`).
        let taker = st.threads.iter().find(|s| s.takes_default_action(signal));
        let held_back = st.threads.iter().any(|s| !s.takes_default_action(signal));
        // Signals that dump core are taken by a thread instead, which
        // writes the core (Linux's `complete_signal` leaves them out too).
        if terminates(signal, handler)
            && !crate::coredump::dumps_core(signal)
            && (taker.is_some() || signal == libc::SIGKILL)
        {
            drop(st);
            self.exit_group(ExitStatus::Signaled(signal));
            return Ok(());
        }
        if handler <= SIG_IGN
            && !terminates(signal, handler)
            && !stops(signal, handler)
            && !held_back
        {
            // Ignored, explicitly or by default, and no thread holds it
            // back to wait for it (Linux's `sig_ignored`).
            return Ok(());
        }
        self.pending.post(signal, info, self.queue_limit(&info))?;
        if let Some(s) = taker.or(st.threads.first()) {
            s.notify();
        }
        Ok(())
    }

    /// How many `siginfo`s may be queued before `info`'s signal is refused
    /// or loses its information: `RLIMIT_SIGPENDING`, except for timer
    /// signals, whose queue entry Linux allocates with the timer.
    fn queue_limit(&self, info: &SigInfo) -> u64 {
        if info.code == abi_linux::signal::SI_TIMER {
            u64::MAX
        } else {
            self.limits.cur(abi_linux::RlimitResource::SIGPENDING)
        }
    }

    /// Sends the thread-directed `signal` to thread `tid` (`tgkill(2)`);
    /// default actions still act on the whole group. `ESRCH` when the
    /// thread is not in the group.
    ///
    /// # Preconditions
    ///
    /// `1 <= signal <= 64`.
    pub fn send_to_thread(&self, tid: i32, signal: i32, info: SigInfo) -> Result<(), Errno> {
        self.prepare(signal);
        let switch = self
            .state()
            .threads
            .iter()
            .find(|s| s.tid() == tid)
            .cloned()
            .ok_or(Errno::ESRCH)?;
        let handler = self.handlers().action(signal).handler;
        let taken_now = signal == libc::SIGKILL || switch.takes_default_action(signal);
        let fatal = terminates(signal, handler) && taken_now;
        if fatal && !crate::coredump::dumps_core(signal) {
            self.exit_group(ExitStatus::Signaled(signal));
        } else if handler > SIG_IGN || !taken_now || stops(signal, handler) || fatal {
            // Caught, held back by the mask, stopping the group, or
            // fatal with a core dump the thread writes: pending.
            switch.post(signal, info, self.queue_limit(&info))?;
        }
        Ok(())
    }

    /// Tells every thread but `keep` to stop without ending the group
    /// (`execve`'s `de_thread`), then waits until they have gone.
    /// `EINTR` when `keep` itself is told to stop meanwhile.
    pub(crate) fn kill_others_and_wait(&self, keep: &KillSwitch) -> Result<(), Errno> {
        let waker = crate::wait::TaskWaker::new();
        let id = self
            .left
            .register(waker.clone(), vfs_core::waiter::EventMask::IN);
        for s in &self.state().threads {
            if !std::ptr::eq(&**s, keep) {
                s.kill(libc::SIGKILL);
            }
        }
        let result = loop {
            {
                let mut st = self.state();
                if st.threads.len() <= 1 {
                    st.leader_exit = None;
                    break Ok(());
                }
            }
            if keep.signal().is_some() {
                break Err(Errno::EINTR);
            }
            waker.wait_killable(None);
        };
        self.left.unregister(id);
        result
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
    /// The auxiliary vector the program started with (`/proc/PID/auxv`).
    pub auxv: Vec<(u64, u64)>,
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
    /// The thread group.
    pub group: Arc<ThreadGroup>,
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
