//! The task set: every thread group and thread of the sandbox and the
//! process tree, under one lock (gVisor's `TaskSet` and its single PID
//! namespace).
//!
//! Thread IDs and process IDs come from one counter, as Linux's do: a
//! group's ID is its first thread's. A group stays in the tree after its
//! last thread exits, as a zombie, until its parent reaps it with
//! `wait4`/`waitid` (or at once when the parent ignores `SIGCHLD` or set
//! `SA_NOCLDWAIT`); its children go to the init process (PID 1), whose
//! exit ends every other process. The sandbox's exit status is the init
//! process's.
//!
//! # Lock order
//!
//! `TaskSet::tree` → `ThreadGroup::state` → `SignalHandlers::actions` →
//! the kill switches' locks; `TaskSet::processes` is a leaf.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use abi_linux::{Errno, SaFlags};

use super::signals::{NSIG, SIG_IGN, SIGCHLD, SignalHandlers};
use super::thread_group::{ProcessInfo, ThreadGroup};
use super::{ChildEvent, ExitStatus};
use crate::wait::{KillSwitch, sender_info};

/// The default limit on tasks (threads of live processes, and zombies)
/// in one sandbox.
pub const DEFAULT_MAX_PROCESSES: usize = 1024;

/// What a wait asks to be told of (`WEXITED`, `WUNTRACED`/`WSTOPPED`,
/// `WCONTINUED`) and how (`WNOHANG`, `WNOWAIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitEvents {
    /// Exits.
    pub exited: bool,
    /// Group stops.
    pub stopped: bool,
    /// Continuations after a stop.
    pub continued: bool,
    /// Return at once when nothing is there (`WNOHANG`).
    pub no_hang: bool,
    /// Leave what is reported to be reported again (`WNOWAIT`).
    pub keep: bool,
}

/// A process in the tree.
#[derive(Debug)]
struct Node {
    /// The parent's process ID (0 for the init process).
    ppid: i32,
    /// The signal sent to the parent at exit (`SIGCHLD`, or the one
    /// `clone` named; 0 for none).
    exit_signal: i32,
    /// Set when the process has exited (a zombie until reaped).
    exit: Option<ExitStatus>,
    /// The thread group.
    group: Arc<ThreadGroup>,
    /// The process group.
    pgid: i32,
    /// The session.
    sid: i32,
    /// Whether the process has called `execve` (a parent may no longer
    /// move it to another process group).
    execed: bool,
}

/// The process tree.
#[derive(Debug)]
struct Tree {
    nodes: BTreeMap<i32, Node>,
    /// Live threads: thread ID to thread-group ID.
    tids: BTreeMap<i32, i32>,
    next_pid: i32,
    /// Task threads that have not finished yet.
    threads: usize,
    max_tasks: usize,
    /// The init process's exit status, once it has exited.
    init_exit: Option<ExitStatus>,
}

impl Default for Tree {
    fn default() -> Self {
        Self {
            nodes: BTreeMap::new(),
            tids: BTreeMap::new(),
            next_pid: 1,
            threads: 0,
            max_tasks: DEFAULT_MAX_PROCESSES,
            init_exit: None,
        }
    }
}

impl Tree {
    /// Whether `member` of group `pgid` has its parent in another group
    /// of its session. The sandbox's first process (parent 0) counts as
    /// started from a shell outside, which is such a parent, as natively.
    fn links_to_session(&self, member: &Node, pgid: i32) -> bool {
        match self.nodes.get(&member.ppid) {
            Some(p) => p.pgid != pgid && p.sid == member.sid,
            None => member.ppid == 0,
        }
    }

    /// Whether process group `pgid` has a stopped member and, leaving
    /// out `ignore`, no member whose parent is in another group of the
    /// same session (Linux's `will_become_orphaned_pgrp` and
    /// `has_stopped_jobs`).
    fn orphaned_with_stopped_jobs(&self, pgid: i32, ignore: Option<i32>) -> bool {
        let mut stopped = false;
        for (&pid, m) in &self.nodes {
            if m.pgid != pgid || m.exit.is_some() || Some(pid) == ignore {
                continue;
            }
            if self.links_to_session(m, pgid) {
                return false;
            }
            stopped |= m.group.is_stopped();
        }
        stopped
    }

    /// Allocates an ID no live thread or unreaped group uses; `EAGAIN` at
    /// the task limit.
    fn allocate_id(&mut self) -> Result<i32, Errno> {
        let zombies = self.nodes.values().filter(|n| n.exit.is_some()).count();
        if self.tids.len() + zombies >= self.max_tasks {
            return Err(Errno::EAGAIN);
        }
        loop {
            let id = self.next_pid;
            self.next_pid = if id >= PID_MAX { 2 } else { id + 1 };
            if !self.tids.contains_key(&id) && !self.nodes.contains_key(&id) {
                return Ok(id);
            }
        }
    }
}

/// The largest ID before allocation wraps (Linux's default `pid_max`).
pub const PID_MAX: i32 = 4_194_304;

/// Which children `wait4`/`waitid` wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitTarget {
    /// Any child.
    Any,
    /// The child with this process ID.
    Pid(i32),
    /// Any child in this process group.
    Pgid(i32),
}

/// Which children a wait considers, by their exit signal (`__WCLONE`,
/// `__WALL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitKind {
    /// Children that signal `SIGCHLD` at exit (the default).
    Normal,
    /// Children that signal anything else (`__WCLONE`).
    Clone,
    /// All children (`__WALL`).
    All,
}

/// The live thread groups by process ID and the process tree.
#[derive(Debug, Default)]
pub struct TaskSet {
    processes: Mutex<BTreeMap<i32, Arc<ProcessInfo>>>,
    tree: Mutex<Tree>,
    changed: Condvar,
    /// Notified with `changed` for tasks parked in [`Self::wait_child`]
    /// (a task parks on its own waker, which signals also wake).
    exits: vfs_core::waiter::WaiterQueue,
}

impl TaskSet {
    /// Wakes whoever waits for the tree to change.
    fn notify_changed(&self) {
        self.changed.notify_all();
        self.exits.notify(vfs_core::waiter::EventMask::IN);
    }

    fn processes(&self) -> MutexGuard<'_, BTreeMap<i32, Arc<ProcessInfo>>> {
        self.processes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds or replaces a thread group's `/proc` view.
    pub fn insert(&self, info: Arc<ProcessInfo>) {
        self.processes().insert(info.tgid, info);
    }

    /// Removes a thread group's `/proc` view.
    pub fn remove(&self, tgid: i32) {
        self.processes().remove(&tgid);
    }

    /// The thread group `tgid`'s `/proc` view.
    pub fn get(&self, tgid: i32) -> Option<Arc<ProcessInfo>> {
        self.processes().get(&tgid).cloned()
    }

    /// The memory the live processes use: their present pages (an address
    /// space shared by several processes counts once per process).
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

    /// How many live tasks (threads) run with real user ID `uid`, as
    /// Linux counts them for `RLIMIT_NPROC`.
    pub fn tasks_of_user(&self, uid: u32) -> usize {
        let groups: Vec<Arc<ThreadGroup>> = self
            .tree()
            .nodes
            .values()
            .filter(|n| n.exit.is_none())
            .map(|n| n.group.clone())
            .collect();
        groups
            .iter()
            .filter(|g| g.credentials().real_uid == uid)
            .map(|g| g.thread_count())
            .sum()
    }

    /// Limits the tasks (threads and zombies) the sandbox may have; a
    /// `clone` beyond it fails with `EAGAIN` (as `RLIMIT_NPROC` does).
    pub fn set_max_processes(&self, max: usize) {
        self.tree().max_tasks = max;
    }

    /// The most tasks the sandbox may have (`kernel.threads-max`).
    pub fn max_processes(&self) -> usize {
        self.tree().max_tasks
    }

    /// Enters a new process with parent `ppid` (0 for the init process)
    /// that signals `exit_signal` at exit, acting on signals by
    /// `handlers`; returns its group and its first thread's kill switch.
    /// The thread counts as running until [`Self::thread_done`]. `EAGAIN`
    /// at the task limit.
    /// The new process joins the process group and session of `creator`
    /// (its creating process; the init process, without one, leads its own).
    pub fn new_process(
        &self,
        ppid: i32,
        creator: i32,
        exit_signal: i32,
        handlers: Arc<SignalHandlers>,
        limits: Arc<super::Limits>,
    ) -> Result<(Arc<ThreadGroup>, Arc<KillSwitch>), Errno> {
        let mut tree = self.tree();
        let pid = tree.allocate_id()?;
        let (pgid, sid) = tree
            .nodes
            .get(&creator)
            .map_or((pid, pid), |n| (n.pgid, n.sid));
        let group = ThreadGroup::new(pid, handlers, limits);
        let switch = group.new_switch(pid);
        group.add_thread(switch.clone())?;
        tree.nodes.insert(
            pid,
            Node {
                ppid,
                exit_signal,
                exit: None,
                group: group.clone(),
                pgid,
                sid,
                execed: false,
            },
        );
        tree.tids.insert(pid, pid);
        tree.threads += 1;
        Ok((group, switch))
    }

    /// Enters a new thread of `group`; returns its kill switch (the thread
    /// ID is [`KillSwitch::tid`]). `EAGAIN` at the task limit, `EINTR`
    /// when the group is exiting.
    pub fn new_thread(&self, group: &Arc<ThreadGroup>) -> Result<Arc<KillSwitch>, Errno> {
        let mut tree = self.tree();
        let tid = tree.allocate_id()?;
        let switch = group.new_switch(tid);
        group.add_thread(switch.clone())?;
        tree.tids.insert(tid, group.tgid());
        tree.threads += 1;
        Ok(switch)
    }

    /// Forgets the live thread `tid` (it has exited).
    pub fn thread_exited(&self, tid: i32) {
        self.tree().tids.remove(&tid);
    }

    /// Moves thread `tid` to the ID `leader` (an `execve` from a
    /// non-leader thread takes its group leader's ID, as Linux's
    /// `de_thread` does).
    pub(crate) fn take_leader_id(&self, switch: &KillSwitch, leader: i32) {
        let mut tree = self.tree();
        if let Some(tgid) = tree.tids.remove(&switch.tid()) {
            tree.tids.insert(leader, tgid);
        }
        switch.set_tid(leader);
    }

    /// The thread group of the live thread `tid`.
    pub fn group_of_thread(&self, tid: i32) -> Option<Arc<ThreadGroup>> {
        let tree = self.tree();
        let tgid = *tree.tids.get(&tid)?;
        tree.nodes.get(&tgid).map(|n| n.group.clone())
    }

    /// The process `pid` (live or a zombie) for a pidfd: `EINVAL` when
    /// `pid` is a thread that does not lead its group, `ESRCH` when there
    /// is no such process.
    pub fn process(&self, pid: i32) -> Result<Arc<ThreadGroup>, Errno> {
        let tree = self.tree();
        if let Some(node) = tree.nodes.get(&pid) {
            return Ok(node.group.clone());
        }
        if tree.tids.contains_key(&pid) {
            return Err(Errno::EINVAL);
        }
        Err(Errno::ESRCH)
    }

    /// The process group of `pid` (`getpgid`); `ESRCH` for no such
    /// process.
    pub fn pgid(&self, pid: i32) -> Result<i32, Errno> {
        self.tree()
            .nodes
            .get(&pid)
            .map(|n| n.pgid)
            .ok_or(Errno::ESRCH)
    }

    /// The session of `pid` (`getsid`); `ESRCH` for no such process.
    pub fn sid(&self, pid: i32) -> Result<i32, Errno> {
        self.tree()
            .nodes
            .get(&pid)
            .map(|n| n.sid)
            .ok_or(Errno::ESRCH)
    }

    /// `setsid`: makes `caller` the leader of a new session and process
    /// group; `EPERM` when a process group with its ID exists already.
    pub fn setsid(&self, caller: i32) -> Result<i32, Errno> {
        let mut tree = self.tree();
        if tree.nodes.values().any(|n| n.pgid == caller) {
            return Err(Errno::EPERM);
        }
        let node = tree.nodes.get_mut(&caller).ok_or(Errno::ESRCH)?;
        node.pgid = caller;
        node.sid = caller;
        Ok(caller)
    }

    /// `setpgid` from `caller` (Linux's rules): `pid` (0: the caller) must
    /// be the caller or a child of it (`ESRCH`) in the caller's session
    /// (`EPERM`) that has not called `execve` (`EACCES`) and does not lead
    /// a session (`EPERM`); `pgid` (0: `pid`) must be `pid` or an existing
    /// group of that session (`EPERM`); negative is `EINVAL`.
    pub fn setpgid(&self, caller: i32, pid: i32, pgid: i32) -> Result<(), Errno> {
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let pid = if pid == 0 { caller } else { pid };
        let pgid = if pgid == 0 { pid } else { pgid };
        let mut tree = self.tree();
        let caller_sid = tree.nodes.get(&caller).ok_or(Errno::ESRCH)?.sid;
        let target = tree
            .nodes
            .get(&pid)
            .filter(|n| n.exit.is_none())
            .ok_or(Errno::ESRCH)?;
        if pid != caller {
            if target.ppid != caller {
                return Err(Errno::ESRCH);
            }
            if target.sid != caller_sid {
                return Err(Errno::EPERM);
            }
            if target.execed {
                return Err(Errno::EACCES);
            }
        }
        if target.sid == pid {
            return Err(Errno::EPERM);
        }
        if pgid != pid
            && !tree
                .nodes
                .values()
                .any(|n| n.pgid == pgid && n.sid == caller_sid)
        {
            return Err(Errno::EPERM);
        }
        if let Some(node) = tree.nodes.get_mut(&pid) {
            node.pgid = pgid;
        }
        Ok(())
    }

    /// Records that `tgid` called `execve`.
    pub fn mark_exec(&self, tgid: i32) {
        if let Some(node) = self.tree().nodes.get_mut(&tgid) {
            node.execed = true;
        }
    }

    /// Whether `tid` is a live thread.
    pub fn thread_alive(&self, tid: i32) -> bool {
        self.tree().tids.contains_key(&tid)
    }

    /// The parent of `tgid` (0 for the init process or an unknown one).
    pub fn ppid(&self, tgid: i32) -> i32 {
        self.tree().nodes.get(&tgid).map_or(0, |n| n.ppid)
    }

    /// Records that the last thread of `tgid` exited with `status`: the
    /// process becomes a zombie for its parent (or is reaped at once when
    /// the parent ignores `SIGCHLD` or set `SA_NOCLDWAIT`, or has no
    /// parent), its children go to the init process, and when it is the
    /// init process every other process is killed.
    pub fn exited(&self, tgid: i32, status: ExitStatus) {
        let mut tree = self.tree();
        let Some((ppid, exit_signal)) = tree.nodes.get(&tgid).map(|n| (n.ppid, n.exit_signal))
        else {
            return;
        };
        // Linux's kill_orphaned_pgrp for the exiting process's own group:
        // it may have been the group's only link to the session.
        let mut orphaned = Vec::new();
        if let Some(me) = tree.nodes.get(&tgid)
            && let Some(parent) = tree.nodes.get(&ppid)
            && parent.pgid != me.pgid
            && parent.sid == me.sid
            && tree.orphaned_with_stopped_jobs(me.pgid, Some(tgid))
        {
            orphaned.push(me.pgid);
        }
        let (my_pgid, my_sid) = tree.nodes.get(&tgid).map_or((0, 0), |n| (n.pgid, n.sid));
        let auto_reap = match tree.nodes.get(&ppid) {
            None => true,
            Some(parent) => {
                let handlers = parent.group.handlers();
                if exit_signal > 0 && exit_signal as usize <= NSIG {
                    // A standard signal cannot be refused.
                    let _ = parent.group.send(exit_signal, status.child_info(tgid));
                }
                let action = handlers.action(SIGCHLD);
                exit_signal == SIGCHLD
                    && (action.handler == SIG_IGN
                        || SaFlags::from_bits_retain(action.flags).contains(SaFlags::NOCLDWAIT))
            }
        };
        if auto_reap {
            tree.nodes.remove(&tgid);
        } else if let Some(node) = tree.nodes.get_mut(&tgid) {
            node.exit = Some(status);
        }
        // Orphans go to the nearest living ancestor that is a child
        // subreaper (PR_SET_CHILD_SUBREAPER), else to the init process.
        let mut reaper = ppid;
        while let Some(n) = tree.nodes.get(&reaper) {
            if n.exit.is_none() && n.group.attrs().child_subreaper {
                break;
            }
            reaper = n.ppid;
        }
        if !tree.nodes.contains_key(&reaper) {
            reaper = 1;
        }
        let former_children: Vec<i32> = tree
            .nodes
            .iter()
            .filter(|(_, n)| n.ppid == tgid)
            .map(|(&p, _)| p)
            .collect();
        for node in tree.nodes.values_mut() {
            if node.ppid == tgid {
                node.ppid = reaper;
                // PR_SET_PDEATHSIG: the child learns its parent died.
                let signal = node.group.attrs().pdeathsig;
                if signal > 0 && node.exit.is_none() {
                    let info = sender_info(abi_linux::signal::SI_USER, tgid, 0);
                    let _ = node.group.send(signal, info);
                }
            }
            if tgid == 1 && node.exit.is_none() {
                node.group.exit_group(ExitStatus::Signaled(libc::SIGKILL));
            }
        }
        // And for each child's group, which its reparenting may orphan.
        let children: Vec<(i32, i32)> = former_children
            .iter()
            .filter_map(|c| tree.nodes.get(c))
            .filter(|n| n.exit.is_none())
            .map(|n| (n.pgid, n.sid))
            .collect();
        for (pgid, sid) in children {
            if pgid != my_pgid
                && sid == my_sid
                && !orphaned.contains(&pgid)
                && tree.orphaned_with_stopped_jobs(pgid, Some(tgid))
            {
                orphaned.push(pgid);
            }
        }
        if tgid == 1 {
            tree.init_exit = Some(status);
            // Zombies nobody will reap any more.
            tree.nodes.retain(|_, n| n.exit.is_none());
        }
        drop(tree);
        // A newly orphaned group with stopped members would stay stopped
        // for ever: Linux sends it SIGHUP, then SIGCONT.
        for pgid in orphaned {
            self.signal_process_group(pgid, libc::SIGHUP);
            self.signal_process_group(pgid, libc::SIGCONT);
        }
        self.notify_changed();
    }

    /// Tells the parent of `tgid` that the process stopped or continued
    /// (Linux's `do_notify_parent_cldstop`): `SIGCHLD` with `CLD_STOPPED`
    /// or `CLD_CONTINUED`, unless the parent asked not to be told
    /// (`SA_NOCLDSTOP`); its waits look again either way.
    pub fn child_stop_changed(&self, tgid: i32, event: ChildEvent) {
        let parent = {
            let tree = self.tree();
            tree.nodes
                .get(&tgid)
                .and_then(|n| tree.nodes.get(&n.ppid))
                .map(|p| p.group.clone())
        };
        if let Some(parent) = parent {
            let action = parent.handlers().action(SIGCHLD);
            if !SaFlags::from_bits_retain(action.flags).contains(SaFlags::NOCLDSTOP) {
                // A standard signal cannot be refused.
                let _ = parent.send(SIGCHLD, event.child_info(tgid));
            }
        }
        self.notify_changed();
    }

    /// Records that a task's thread has finished (after dropping its
    /// task).
    pub fn thread_done(&self) {
        let mut tree = self.tree();
        tree.threads = tree.threads.saturating_sub(1);
        self.notify_changed();
    }

    /// Waits until every task thread has finished.
    pub fn wait_threads(&self) {
        let mut tree = self.tree();
        while tree.threads > 0 {
            tree = self.changed.wait(tree).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The init process's exit status once it has exited.
    pub fn init_exit(&self) -> Option<ExitStatus> {
        self.tree().init_exit
    }

    /// Waits for a child of `parent` matching `target` and `kind` to have
    /// something to report among `wanted` (gVisor's `Task.Wait`): an exit
    /// (the child is reaped unless `wanted.keep`), a stop or a
    /// continuation (forgotten unless `wanted.keep`); `Ok(None)` with
    /// `wanted.no_hang` when there is nothing yet. `ECHILD` when no child matches; `ERESTARTSYS` when
    /// `interrupted` says so (checked whenever the tree changes or `kill`
    /// is thrown).
    pub fn wait_child(
        &self,
        parent: i32,
        target: WaitTarget,
        kind: WaitKind,
        wanted: WaitEvents,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<Option<(i32, ChildEvent, super::Usage)>, Errno> {
        let WaitEvents { no_hang, keep, .. } = wanted;
        let waker = crate::wait::TaskWaker::new();
        let id = self
            .exits
            .register(waker.clone(), vfs_core::waiter::EventMask::IN);
        let result = loop {
            let mut tree = self.tree();
            let mut any = false;
            let mut found = None;
            for (&pid, node) in &tree.nodes {
                let is_clone = node.exit_signal != SIGCHLD;
                let kind_matches = match kind {
                    WaitKind::All => true,
                    WaitKind::Normal => !is_clone,
                    WaitKind::Clone => is_clone,
                };
                let target_matches = match target {
                    WaitTarget::Any => true,
                    WaitTarget::Pid(p) => p == pid,
                    WaitTarget::Pgid(g) => g == node.pgid,
                };
                if node.ppid != parent || !kind_matches || !target_matches {
                    continue;
                }
                any = true;
                if let Some(status) = node.exit {
                    if wanted.exited {
                        found = Some((pid, ChildEvent::Exited(status)));
                        break;
                    }
                    continue;
                }
                if let Some(event) = node
                    .group
                    .take_report(wanted.stopped, wanted.continued, keep)
                {
                    found = Some((pid, event));
                    break;
                }
            }
            if let Some((pid, event)) = found {
                // What `wait4`'s rusage reports: the child's own and its
                // children's, as Linux's wait_task_zombie sums them.
                let usage = tree
                    .nodes
                    .get(&pid)
                    .map_or_else(super::Usage::default, |n| {
                        n.group.self_usage().plus(n.group.children_usage())
                    });
                if !keep && matches!(event, ChildEvent::Exited(_)) {
                    // Reaping hands the child's usage to its parent.
                    let io = tree.nodes.remove(&pid).map(|n| n.group.io().counts());
                    if let Some(p) = tree.nodes.get(&parent) {
                        p.group.add_child(usage, io.unwrap_or_default());
                    }
                }
                break Ok(Some((pid, event, usage)));
            }
            if !any {
                break Err(Errno::ECHILD);
            }
            if no_hang {
                break Ok(None);
            }
            drop(tree);
            if interrupted() {
                break Err(Errno::ERESTARTSYS);
            }
            waker.wait(None);
        };
        self.exits.unregister(id);
        result
    }

    /// Sends `signal` to process `pid` (`kill(2)`; `-1`: every process but
    /// the init process and `sender`; 0 or negative: a process group) from
    /// process `sender` with credentials `creds`. Signal 0 checks
    /// existence and permission. `EINVAL` for a bad signal, `ESRCH` for
    /// no such process, `EPERM` when [`may_signal`] refuses every target
    /// (for `-1`, refusals are skipped as Linux skips them).
    pub fn kill(
        &self,
        sender: i32,
        creds: &vfs_core::Credentials,
        pid: i32,
        signal: i32,
    ) -> Result<(), Errno> {
        if !(0..=NSIG as i32).contains(&signal) {
            return Err(Errno::EINVAL);
        }
        let tree = self.tree();
        let sender_sid = tree.nodes.get(&sender).map_or(0, |n| n.sid);
        let allowed = |tgid: i32, n: &Node| {
            tgid == sender
                || may_signal(creds, &n.group.credentials())
                || (signal == abi_linux::Signal::SIGCONT.0 && n.sid == sender_sid)
        };
        let targets: Vec<Arc<ThreadGroup>> = if pid > 0 {
            let node = tree.nodes.get(&pid).ok_or(Errno::ESRCH)?;
            if !allowed(pid, node) {
                return Err(Errno::EPERM);
            }
            vec![node.group.clone()]
        } else if pid == -1 {
            tree.nodes
                .iter()
                .filter(|&(&p, n)| p != 1 && p != sender && n.exit.is_none() && allowed(p, n))
                .map(|(_, n)| n.group.clone())
                .collect()
        } else {
            // A process group: the sender's (0) or -pid.
            let pgid = if pid == 0 {
                tree.nodes.get(&sender).map_or(0, |n| n.pgid)
            } else {
                pid.checked_neg().ok_or(Errno::ESRCH)?
            };
            let members: Vec<(i32, &Node)> = tree
                .nodes
                .iter()
                .filter(|(_, n)| n.pgid == pgid && n.exit.is_none())
                .map(|(&p, n)| (p, n))
                .collect();
            if members.is_empty() {
                return Err(Errno::ESRCH);
            }
            let permitted: Vec<Arc<ThreadGroup>> = members
                .iter()
                .filter(|(p, n)| allowed(*p, n))
                .map(|(_, n)| n.group.clone())
                .collect();
            if permitted.is_empty() {
                return Err(Errno::EPERM);
            }
            permitted
        };
        drop(tree);
        if signal == 0 {
            return Ok(());
        }
        let info = sender_info(abi_linux::signal::SI_USER, sender, creds.real_uid);
        for group in targets {
            if group.thread_count() > 0 {
                // `kill`'s real-time signals lose their `siginfo` rather
                // than fail past the queue limit.
                let _ = group.send(signal, info);
            }
        }
        self.notify_changed();
        Ok(())
    }

    /// Whether process `sender` (credentials `creds`) may send `signal`
    /// to `target`: [`may_signal`], its own group, or `SIGCONT` within
    /// its session.
    pub fn may_send(
        &self,
        sender: i32,
        creds: &vfs_core::Credentials,
        target: &ThreadGroup,
        signal: i32,
    ) -> bool {
        if target.tgid() == sender || may_signal(creds, &target.credentials()) {
            return true;
        }
        signal == abi_linux::Signal::SIGCONT.0
            && self
                .sid(sender)
                .is_ok_and(|s| self.sid(target.tgid()) == Ok(s))
    }

    /// Whether the process group of `pid` is orphaned (Linux's
    /// `will_become_orphaned_pgrp`): no live member has a parent in
    /// another group of the same session (see `Tree::links_to_session`
    /// for the sandbox's first process).
    pub fn pgrp_orphaned(&self, pid: i32) -> bool {
        let tree = self.tree();
        let Some(pgid) = tree.nodes.get(&pid).map(|n| n.pgid) else {
            return false;
        };
        !tree
            .nodes
            .values()
            .filter(|n| n.pgid == pgid && n.exit.is_none())
            .any(|n| tree.links_to_session(n, pgid))
    }

    /// The session of process group `pgid`, if it has a live member.
    pub fn process_group_session(&self, pgid: i32) -> Option<i32> {
        self.tree()
            .nodes
            .values()
            .find(|n| n.pgid == pgid && n.exit.is_none())
            .map(|n| n.sid)
    }

    /// Sends `signal` from the kernel (`SI_KERNEL`: a terminal's signal
    /// characters, hang-ups, `SIGWINCH`) to every live process of group
    /// `pgid`; a group with no members gets nothing.
    pub fn signal_process_group(&self, pgid: i32, signal: i32) {
        let members: Vec<Arc<ThreadGroup>> = self
            .tree()
            .nodes
            .values()
            .filter(|n| n.pgid == pgid && n.exit.is_none())
            .map(|n| n.group.clone())
            .collect();
        self.send_from_kernel(members, signal);
    }

    /// Sends `signal` from the kernel to process `pid`, if it lives.
    pub fn signal_process(&self, pid: i32, signal: i32) {
        let target: Vec<Arc<ThreadGroup>> = self
            .tree()
            .nodes
            .get(&pid)
            .filter(|n| n.exit.is_none())
            .map(|n| n.group.clone())
            .into_iter()
            .collect();
        self.send_from_kernel(target, signal);
    }

    /// Sends `signal` to process `pid` from outside the sandbox (a
    /// container runtime's `kill`), as Linux sends a signal from an
    /// ancestor PID namespace: the init process gets only the signals it
    /// has a handler for, and `SIGKILL` and `SIGSTOP`.
    pub fn signal_from_outside(&self, pid: i32, signal: i32) {
        let unkillable = pid == 1
            && signal != libc::SIGKILL
            && signal != libc::SIGSTOP
            && self.process(pid).is_ok_and(|group| {
                group.handlers().action(signal).handler == abi_linux::signal::SIG_DFL
            });
        if !unkillable {
            self.signal_process(pid, signal);
        }
    }

    fn send_from_kernel(&self, groups: Vec<Arc<ThreadGroup>>, signal: i32) {
        let info = abi_linux::SigInfo {
            code: abi_linux::signal::SI_KERNEL,
            ..abi_linux::SigInfo::default()
        };
        for group in groups {
            if group.thread_count() > 0 {
                let _ = group.send(signal, info);
            }
        }
        self.notify_changed();
    }

    /// Sends `signal` to thread `tid` (`tkill(2)`, or `tgkill(2)` when
    /// `tgid` names the group it must be in). `EINVAL` for a bad signal,
    /// `ESRCH` for no such thread.
    pub fn kill_thread(
        &self,
        sender: i32,
        creds: &vfs_core::Credentials,
        tgid: Option<i32>,
        tid: i32,
        signal: i32,
    ) -> Result<(), Errno> {
        if !(0..=NSIG as i32).contains(&signal) {
            return Err(Errno::EINVAL);
        }
        let group = self.group_of_thread(tid).ok_or(Errno::ESRCH)?;
        if tgid.is_some_and(|g| g != group.tgid()) {
            return Err(Errno::ESRCH);
        }
        if !self.may_send(sender, creds, &group, signal) {
            return Err(Errno::EPERM);
        }
        if signal == 0 {
            return Ok(());
        }
        let info = sender_info(abi_linux::signal::SI_TKILL, sender, creds.real_uid);
        group.send_to_thread(tid, signal, info)?;
        self.notify_changed();
        Ok(())
    }
}

/// Whether credentials `sender` may signal a process with credentials
/// `target` (Linux's `kill_ok_by_cred`): the sender's real or effective
/// user ID is the target's real or saved one, or it has `CAP_KILL`.
pub fn may_signal(sender: &vfs_core::Credentials, target: &vfs_core::Credentials) -> bool {
    let ids = [target.real_uid, target.saved_uid];
    ids.contains(&sender.effective_uid)
        || ids.contains(&sender.real_uid)
        || sender.has_capability(abi_linux::Capability::KILL)
}

/// Linux's `__ptrace_may_access` with real credentials, from a thread
/// of `caller` with credentials `c`: its own process always; another
/// with `CAP_SYS_PTRACE`, or when the caller's real user and group IDs
/// equal all three of the target's and the target is dumpable.
pub fn may_ptrace(caller: &ThreadGroup, c: &vfs_core::Credentials, target: &ThreadGroup) -> bool {
    if std::ptr::eq(caller, target) || c.has_capability(abi_linux::Capability::SYS_PTRACE) {
        return true;
    }
    let tc = target.credentials();
    let uids = [tc.real_uid, tc.effective_uid, tc.saved_uid];
    let gids = [tc.real_gid, tc.effective_gid, tc.saved_gid];
    uids.iter().all(|&u| u == c.real_uid)
        && gids.iter().all(|&g| g == c.real_gid)
        && target.attrs().dumpable
}
