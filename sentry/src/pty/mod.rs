//! Pseudo-terminals (gVisor's `fsimpl/devpts`, Linux's `drivers/tty/pty.c`
//! and `n_tty.c`): `/dev/ptmx` opens a new master ([`MasterFile`]); the
//! `devpts` filesystem on `/dev/pts` lists one node per terminal, whose
//! opens make replicas ([`ReplicaFile`]). Bytes between the two sides go
//! through the [`ldisc::LineDiscipline`].
//!
//! A terminal may be the controlling terminal of one session: a session
//! leader takes it with `TIOCSCTTY` or by opening the replica without
//! `O_NOCTTY`. Its foreground process group receives the signals of
//! `ISIG` characters, `TIOCSIG` and `SIGWINCH` on a size change; closing
//! the master hangs the terminal up (`SIGHUP` and `SIGCONT` to the
//! foreground group, reads give end-of-file, writes `EIO`), and a
//! session leader's exit frees it the same way. A process's controlling
//! terminal is its session's (Linux tracks it per process, which differs
//! only after `TIOCNOTTY` by a non-leader). `/dev/tty` opens the
//! caller's session's terminal.
//!
//! # Reference model
//!
//! The master and replica descriptions hold the [`Terminal`] (`Arc`); the
//! registry and the devpts node hold it weakly, so a terminal and its
//! `/dev/pts/N` entry go when the last description closes.
//!
//! # Lock order
//!
//! `Ptys::terminals` → `Terminal::state`, a leaf otherwise: waiters are
//! notified and signals sent after it is released.

pub mod host;
pub mod ldisc;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use abi_linux::tty::*;
use abi_linux::{Errno, FileMode, FileType, OpenFlags, Statx};
use kernfs::{DirectoryGenerator, DynamicDirectory, Inode, InodeAttrs};
use vfs_core::file_description::IoctlMemory;
use vfs_core::io::{IoDest, IoSource, copy_out};
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};
use vfs_core::{
    Context, Credentials, DentryRef, Device, FileDescription, FileDescriptionImpl,
    FileDescriptionOptions, FileRef, FilesystemRef, FilesystemType, GetFilesystemOptions, MountRef,
    OpenOptions, ReadOptions, StatOptions, VirtualDentry, VirtualFilesystem, WriteOptions,
};
use zerocopy::{FromBytes, IntoBytes};

use crate::task::TaskSet;
use ldisc::{Effects, LineDiscipline};

/// The major number of the replicas (`UNIX98_PTY_SLAVE_MAJOR`).
pub const REPLICA_MAJOR: u32 = 136;
/// `/dev/ptmx`'s major and minor numbers.
pub const PTMX_DEVICE: (u32, u32) = (5, 2);
/// The most terminals (`kernel.pty.max`).
pub const MAX_PTYS: u32 = 4096;
/// `DEVPTS_SUPER_MAGIC`.
pub const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
/// The most bytes written by the replica that wait for the master.
const MAX_OUTPUT: usize = 65536;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The terminals of the sandbox.
pub struct Ptys {
    terminals: Mutex<BTreeMap<u32, Weak<Terminal>>>,
    tasks: Arc<TaskSet>,
    /// The devpts filesystem, for the replicas' device number.
    fs: Mutex<Weak<kernfs::Filesystem>>,
    /// What `/dev/ptmx` reports to `stat`.
    ptmx_stat: Mutex<Statx>,
}

impl std::fmt::Debug for Ptys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ptys")
            .field("terminals", &lock(&self.terminals).len())
            .finish_non_exhaustive()
    }
}

/// What a terminal's lock guards.
struct State {
    ld: LineDiscipline,
    /// Output of the replica (and echo), for the master to read.
    to_master: VecDeque<u8>,
    column: usize,
    /// The master's own settings (Linux keeps them apart from the
    /// replica's; nothing processes through them).
    master_termios: Termios,
    winsize: Winsize,
    locked: bool,
    packet: bool,
    packet_status: u8,
    exclusive: bool,
    master_open: bool,
    replicas: usize,
    replica_opened: bool,
    /// The session it controls, and that session's foreground group.
    session: Option<i32>,
    foreground: i32,
}

/// One pseudo-terminal.
pub struct Terminal {
    index: u32,
    node: Arc<PtsNode>,
    state: Mutex<State>,
    /// Readers and writers of the master.
    master_waiters: WaiterQueue,
    /// Readers and writers of the replicas.
    replica_waiters: WaiterQueue,
    ptys: Weak<Ptys>,
}

impl Terminal {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `/dev/pts/N`'s number.
    pub fn index(&self) -> u32 {
        self.index
    }

    fn tasks(&self) -> Option<Arc<TaskSet>> {
        self.ptys.upgrade().map(|p| p.tasks.clone())
    }

    /// Sends `signal` to the foreground process group, if the terminal
    /// controls a session.
    fn signal_foreground(&self, signal: i32) {
        let fg = {
            let st = self.state();
            st.session.map(|_| st.foreground)
        };
        if let (Some(pgid), Some(tasks)) = (fg, self.tasks()) {
            tasks.signal_process_group(pgid, signal);
        }
    }

    /// Hangs up: the controlled session's foreground group (and leader)
    /// get `SIGHUP` and `SIGCONT`, and the terminal controls nothing.
    fn hang_up(&self) {
        let controlled = {
            let mut st = self.state();
            let s = st.session.take().map(|sid| (sid, st.foreground));
            st.foreground = 0;
            s
        };
        if let (Some((sid, pgid)), Some(tasks)) = (controlled, self.tasks()) {
            for signal in [abi_linux::Signal::SIGHUP.0, abi_linux::Signal::SIGCONT.0] {
                tasks.signal_process_group(pgid, signal);
                if let Ok(leader) = tasks.pgid(sid)
                    && leader != pgid
                {
                    tasks.signal_process(sid, signal);
                }
            }
        }
    }

    /// Applies what master input produced: echo to the master, signals
    /// to the foreground group.
    fn apply(&self, fx: Effects) {
        for signal in fx.signals {
            self.signal_foreground(signal);
        }
    }

    /// Feeds `data` to the line discipline as if typed.
    fn input(&self, data: &[u8]) -> usize {
        let (taken, fx) = {
            let mut st = self.state();
            let mut fx = Effects::default();
            let taken = st.ld.input(data, &mut fx);
            let State {
                ld,
                to_master,
                column,
                ..
            } = &mut *st;
            ld.output(&fx.echo, column, to_master);
            (taken, fx)
        };
        self.replica_waiters.notify(READABLE_EVENTS);
        if !fx.echo.is_empty() {
            self.master_waiters.notify(READABLE_EVENTS);
        }
        self.apply(fx);
        taken
    }

    /// Serves the terminal ioctls both sides share; `None` for others.
    fn common_ioctl(
        &self,
        master: bool,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Option<Result<i64, Errno>> {
        let r = match cmd {
            TCGETS => {
                let t = {
                    let st = self.state();
                    if master {
                        st.master_termios
                    } else {
                        st.ld.termios()
                    }
                };
                memory.copy_out(arg, t.as_bytes()).map(|()| 0)
            }
            TCSETS | TCSETSW | TCSETSF => (|| {
                let mut raw = [0u8; std::mem::size_of::<Termios>()];
                memory.copy_in(arg, &mut raw)?;
                let t = Termios::read_from_bytes(&raw).map_err(|_| Errno::EFAULT)?;
                {
                    let mut st = self.state();
                    if master {
                        st.master_termios = t;
                    } else {
                        if cmd == TCSETSF {
                            st.ld.flush_input();
                        }
                        st.ld.set_termios(t);
                    }
                }
                // A mode change may make input readable.
                self.replica_waiters.notify(READABLE_EVENTS);
                Ok(0)
            })(),
            TIOCGWINSZ => {
                let ws = self.state().winsize;
                memory.copy_out(arg, ws.as_bytes()).map(|()| 0)
            }
            TIOCSWINSZ => (|| {
                let mut raw = [0u8; std::mem::size_of::<Winsize>()];
                memory.copy_in(arg, &mut raw)?;
                let ws = Winsize::read_from_bytes(&raw).map_err(|_| Errno::EFAULT)?;
                let changed = std::mem::replace(&mut self.state().winsize, ws) != ws;
                if changed {
                    self.signal_foreground(abi_linux::Signal::SIGWINCH.0);
                }
                Ok(0)
            })(),
            FIONREAD => {
                let n = {
                    let st = self.state();
                    if master {
                        st.to_master.len()
                    } else {
                        st.ld.readable_len()
                    }
                };
                memory.copy_out(arg, &(n as i32).to_ne_bytes()).map(|()| 0)
            }
            TIOCOUTQ => {
                let n = if master {
                    0
                } else {
                    self.state().to_master.len()
                };
                memory.copy_out(arg, &(n as i32).to_ne_bytes()).map(|()| 0)
            }
            TCFLSH => {
                if arg > TCIOFLUSH {
                    return Some(Err(Errno::EINVAL));
                }
                {
                    let mut st = self.state();
                    // Each side's input is what it reads.
                    let (input, output) = (arg != TCOFLUSH, arg != TCIFLUSH);
                    let (flush_master_queue, flush_ld) = if master {
                        (input, output)
                    } else {
                        (output, input)
                    };
                    if flush_master_queue {
                        st.to_master.clear();
                    }
                    if flush_ld {
                        st.ld.flush_input();
                    }
                    if st.packet {
                        if flush_master_queue {
                            st.packet_status |= TIOCPKT_FLUSHWRITE;
                        }
                        if flush_ld {
                            st.packet_status |= TIOCPKT_FLUSHREAD;
                        }
                    }
                }
                self.master_waiters
                    .notify(READABLE_EVENTS | WRITABLE_EVENTS);
                self.replica_waiters
                    .notify(READABLE_EVENTS | WRITABLE_EVENTS);
                Ok(0)
            }
            // Breaks, flow control and draining mean nothing here: output
            // is in the master's queue as soon as it is written.
            TCSBRK | TCXONC => Ok(0),
            TIOCEXCL | TIOCNXCL => {
                self.state().exclusive = cmd == TIOCEXCL;
                Ok(0)
            }
            TIOCGEXCL => {
                let on = i32::from(self.state().exclusive);
                memory.copy_out(arg, &on.to_ne_bytes()).map(|()| 0)
            }
            _ => return None,
        };
        Some(r)
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Some(ptys) = self.ptys.upgrade() {
            let mut terminals = lock(&ptys.terminals);
            if terminals
                .get(&self.index)
                .is_some_and(|w| w.strong_count() == 0)
            {
                terminals.remove(&self.index);
            }
        }
    }
}

impl Ptys {
    /// The terminals of a sandbox whose processes are `tasks`.
    pub fn new(tasks: Arc<TaskSet>) -> Arc<Self> {
        Arc::new(Self {
            terminals: Mutex::new(BTreeMap::new()),
            tasks,
            fs: Mutex::new(Weak::new()),
            ptmx_stat: Mutex::new(Statx::default()),
        })
    }

    fn get(&self, index: u32) -> Option<Arc<Terminal>> {
        lock(&self.terminals).get(&index).and_then(Weak::upgrade)
    }

    fn live(&self) -> Vec<Arc<Terminal>> {
        lock(&self.terminals)
            .values()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// The terminal controlling session `sid`.
    pub fn controlling(&self, sid: i32) -> Option<Arc<Terminal>> {
        self.live()
            .into_iter()
            .find(|t| t.state().session == Some(sid))
    }

    /// Session `sid`'s leader exited: its terminal hangs up and controls
    /// nothing.
    pub fn session_ended(&self, sid: i32) {
        if let Some(t) = self.controlling(sid) {
            t.hang_up();
        }
    }

    /// Opens a new master on `mount`/`dentry` (`/dev/ptmx` or
    /// `/dev/pts/ptmx`), its replica locked.
    ///
    /// Errors: `ENOSPC` past [`MAX_PTYS`].
    pub fn open_master(
        self: &Arc<Self>,
        mount: &MountRef,
        dentry: &DentryRef,
        flags: OpenFlags,
        creds: &Credentials,
    ) -> Result<FileRef, Errno> {
        let terminal = {
            let mut terminals = lock(&self.terminals);
            terminals.retain(|_, w| w.strong_count() > 0);
            let index = (0..MAX_PTYS)
                .find(|i| !terminals.contains_key(i))
                .ok_or(Errno::ENOSPC)?;
            let node = Arc::new(PtsNode {
                attrs: InodeAttrs::new(
                    u64::from(index) + 3,
                    creds.fs_uid,
                    creds.fs_gid,
                    FileMode::new(FileType::CharDevice, 0o600),
                    Default::default(),
                ),
                terminal: Mutex::new(Weak::new()),
                ptys: Arc::downgrade(self),
            });
            node.attrs.set_rdev(REPLICA_MAJOR, index);
            let terminal = Arc::new(Terminal {
                index,
                node: node.clone(),
                state: Mutex::new(State {
                    ld: LineDiscipline::default(),
                    to_master: VecDeque::new(),
                    column: 0,
                    master_termios: Termios {
                        c_iflag: 0,
                        c_oflag: 0,
                        c_lflag: 0,
                        ..Termios::default_pty()
                    },
                    winsize: Winsize::default(),
                    locked: true,
                    packet: false,
                    packet_status: 0,
                    exclusive: false,
                    master_open: true,
                    replicas: 0,
                    replica_opened: false,
                    session: None,
                    foreground: 0,
                }),
                master_waiters: WaiterQueue::new(),
                replica_waiters: WaiterQueue::new(),
                ptys: Arc::downgrade(self),
            });
            *lock(&node.terminal) = Arc::downgrade(&terminal);
            terminals.insert(index, Arc::downgrade(&terminal));
            terminal
        };
        let master = MasterFile {
            terminal,
            stat: *lock(&self.ptmx_stat),
        };
        Ok(terminal_file(flags, mount, dentry, Box::new(master)))
    }

    /// Opens a replica of `terminal` on `vd` (its devpts node, or
    /// `/dev/tty`), for the process `ctx` names; without `O_NOCTTY` a
    /// session leader with no terminal takes this one.
    ///
    /// Errors: `EIO` while the terminal is locked or hung up, `EBUSY` in
    /// exclusive mode without `CAP_SYS_ADMIN`.
    fn open_replica(
        &self,
        ctx: &dyn Context,
        terminal: Arc<Terminal>,
        mount: &MountRef,
        dentry: &DentryRef,
        flags: OpenFlags,
    ) -> Result<FileRef, Errno> {
        {
            let mut st = terminal.state();
            if st.locked || !st.master_open {
                return Err(Errno::EIO);
            }
            if st.exclusive
                && !ctx
                    .credentials()
                    .has_capability(abi_linux::Capability::SYS_ADMIN)
            {
                return Err(Errno::EBUSY);
            }
            st.replicas += 1;
            st.replica_opened = true;
        }
        if !flags.contains(OpenFlags::NOCTTY)
            && let Some(owner) = ctx.lock_owner()
        {
            self.take_as_controlling(&terminal, owner.pid, false);
        }
        Ok(terminal_file(
            flags,
            mount,
            dentry,
            Box::new(ReplicaFile { terminal }),
        ))
    }

    /// Makes `terminal` the controlling terminal of `pid`'s session if
    /// `pid` leads it, the session has none and the terminal controls no
    /// other session (or `steal`). Returns whether it now controls the
    /// session.
    fn take_as_controlling(&self, terminal: &Arc<Terminal>, pid: i32, steal: bool) -> bool {
        let (Ok(sid), Ok(pgid)) = (self.tasks.sid(pid), self.tasks.pgid(pid)) else {
            return false;
        };
        if sid != pid {
            return false;
        }
        if let Some(current) = self.controlling(sid) {
            return Arc::ptr_eq(&current, terminal);
        }
        let mut st = terminal.state();
        if st.session.is_some() && !steal {
            return false;
        }
        st.session = Some(sid);
        st.foreground = pgid;
        true
    }
}

impl Ptys {
    /// Makes the terminal of `replica` the controlling terminal of
    /// session leader `pid`'s session, as its `TIOCSCTTY` would (for a
    /// process the sentry starts on a terminal).
    pub fn make_controlling(&self, replica: &FileDescription, pid: i32) -> bool {
        match terminal_of(replica) {
            Some((terminal, false)) => self.take_as_controlling(&terminal, pid, false),
            _ => false,
        }
    }
}

/// Unlocks the replica of the master `file` (`TIOCSPTLCK` 0) and returns
/// its number (`TIOCGPTN`); `None` for another file.
pub fn unlock(file: &FileDescription) -> Option<u32> {
    let master = file.downcast::<MasterFile>()?;
    master.terminal.state().locked = false;
    Some(master.terminal.index)
}

/// Sets the window size of the terminal of `file` (`TIOCSWINSZ`),
/// signalling `SIGWINCH` to its foreground group when it changed.
pub fn set_window_size(file: &FileDescription, rows: u16, cols: u16) {
    let Some((terminal, _)) = terminal_of(file) else {
        return;
    };
    let ws = Winsize {
        ws_row: rows,
        ws_col: cols,
        ..Winsize::default()
    };
    let changed = std::mem::replace(&mut terminal.state().winsize, ws) != ws;
    if changed {
        terminal.signal_foreground(abi_linux::Signal::SIGWINCH.0);
    }
}

/// A description of a terminal side on `mount`/`dentry`, with the access
/// mode and `O_NONBLOCK` of `flags`; like Linux's ttys, without
/// `pread`/`pwrite` (`ESPIPE`).
fn terminal_file(
    flags: OpenFlags,
    mount: &MountRef,
    dentry: &DentryRef,
    imp: Box<dyn FileDescriptionImpl>,
) -> FileRef {
    let access = OpenFlags::from_bits_retain(flags.bits() & 0o3);
    FileDescription::new(
        access | (flags & OpenFlags::NONBLOCK),
        mount,
        dentry,
        FileDescriptionOptions {
            allow_direct_io: false,
            deny_pread: true,
            deny_pwrite: true,
        },
        imp,
    )
}

/// Whether `file` is a terminal of this module, and which side.
fn terminal_of(file: &FileDescription) -> Option<(Arc<Terminal>, bool)> {
    if let Some(m) = file.downcast::<MasterFile>() {
        return Some((m.terminal.clone(), true));
    }
    file.downcast::<ReplicaFile>()
        .map(|r| (r.terminal.clone(), false))
}

/// Linux's `__tty_check_change` for a pseudo-terminal replica: when
/// `file` is the caller's controlling terminal and its process group is
/// not the foreground one, the group gets `signal` (`SIGTTIN` for reads,
/// `SIGTTOU` for writes under `TOSTOP` and for changes of the terminal)
/// and the call `ERESTARTSYS`, so it runs again once the group is
/// continued. An ignored or blocked signal lets a change through but
/// fails a read with `EIO`; an orphaned group gets `EIO`. `Ok` for every
/// other file.
pub fn job_control(
    t: &crate::task::Task,
    file: &FileDescription,
    signal: i32,
) -> Result<(), Errno> {
    let Some((terminal, false)) = terminal_of(file) else {
        return Ok(());
    };
    let (session, foreground, tostop) = {
        let st = terminal.state();
        (
            st.session,
            st.foreground,
            st.ld.termios().c_lflag & TOSTOP != 0,
        )
    };
    let tasks = &t.kernel.tasks;
    if session.is_none() || session != tasks.sid(t.tgid).ok() {
        return Ok(());
    }
    if signal == abi_linux::Signal::SIGTTOU.0 && !tostop {
        return Ok(());
    }
    job_control_change(t, foreground, signal)
}

/// [`job_control`] for an ioctl that changes the terminal, which checks
/// regardless of `TOSTOP`.
fn job_control_change(t: &crate::task::Task, foreground: i32, signal: i32) -> Result<(), Errno> {
    let tasks = &t.kernel.tasks;
    let pgid = tasks.pgid(t.tgid)?;
    if foreground == 0 || foreground == pgid {
        return Ok(());
    }
    let ignored = t.signal_mask() & (1 << (signal - 1)) != 0
        || t.signal_handlers.action(signal).handler == abi_linux::signal::SIG_IGN;
    if ignored {
        return if signal == abi_linux::Signal::SIGTTIN.0 {
            Err(Errno::EIO)
        } else {
            Ok(())
        };
    }
    if tasks.pgrp_orphaned(t.tgid) {
        return Err(Errno::EIO);
    }
    tasks.signal_process_group(pgid, signal);
    Err(Errno::ERESTARTSYS)
}

/// The ioctls that need the caller's process: job control
/// (`TIOCSCTTY`, `TIOCNOTTY`, `TIOCGPGRP`, `TIOCSPGRP`, `TIOCGSID`),
/// `TIOCSTI` and `TIOCGPTPEER` (which makes a descriptor). `None` when
/// `file` is not a pseudo-terminal or `cmd` none of these.
pub fn task_ioctl(
    t: &crate::task::Task,
    file: &FileRef,
    cmd: u32,
    arg: u64,
) -> Option<Result<u64, Errno>> {
    let changes = matches!(
        cmd,
        TCSETS | TCSETSW | TCSETSF | TCFLSH | TCXONC | TCSBRK | TIOCSPGRP
    );
    if !changes
        && !matches!(
            cmd,
            TIOCSCTTY | TIOCNOTTY | TIOCGPGRP | TIOCGSID | TIOCSTI | TIOCGPTPEER
        )
    {
        // Every other ioctl of every descriptor passes here: no lock.
        return None;
    }
    let (terminal, master) = terminal_of(file)?;
    let ptys = &t.kernel.ptys;
    let tasks = &t.kernel.tasks;
    let sid = tasks.sid(t.tgid).unwrap_or(0);
    let is_ctty = || terminal.state().session == Some(sid);
    if changes && !master && is_ctty() {
        let foreground = terminal.state().foreground;
        match job_control_change(t, foreground, abi_linux::Signal::SIGTTOU.0) {
            // A background group that cannot be stopped may not take the
            // terminal: Linux's `tiocspgrp` turns `EIO` into `ENOTTY`.
            Err(Errno::EIO) if cmd == TIOCSPGRP => return Some(Err(Errno::ENOTTY)),
            Err(e) => return Some(Err(e)),
            Ok(()) => {}
        }
    }
    if cmd != TIOCSPGRP && changes {
        // The terminal's own handler does the change.
        return None;
    }
    let r = match cmd {
        TIOCSCTTY => {
            if master {
                // A master is never a controlling terminal.
                return Some(Err(Errno::ENOTTY));
            }
            if sid != t.tgid {
                return Some(Err(Errno::EPERM));
            }
            let steal = arg == 1
                && t.ctx
                    .credentials
                    .has_capability(abi_linux::Capability::SYS_ADMIN);
            if ptys.take_as_controlling(&terminal, t.tgid, steal) {
                Ok(0)
            } else {
                Err(Errno::EPERM)
            }
        }
        TIOCNOTTY => {
            if master || !is_ctty() {
                Err(Errno::ENOTTY)
            } else {
                if sid == t.tgid {
                    terminal.hang_up();
                }
                Ok(0)
            }
        }
        TIOCGPGRP => {
            if !master && !is_ctty() {
                Err(Errno::ENOTTY)
            } else {
                let fg = terminal.state().foreground;
                t.mm.write_obj(arg, &fg).map(|()| 0)
            }
        }
        TIOCSPGRP => (|| {
            let pgid: i32 = t.mm.read_obj(arg)?;
            if pgid < 0 {
                return Err(Errno::EINVAL);
            }
            if !is_ctty() {
                return Err(Errno::ENOTTY);
            }
            match tasks.process_group_session(pgid) {
                None => Err(Errno::ESRCH),
                Some(s) if s != sid => Err(Errno::EPERM),
                Some(_) => {
                    terminal.state().foreground = pgid;
                    Ok(0)
                }
            }
        })(),
        TIOCGSID => {
            let session = terminal.state().session;
            match session {
                Some(s) if master || s == sid => t.mm.write_obj(arg, &s).map(|()| 0),
                _ => Err(Errno::ENOTTY),
            }
        }
        TIOCSTI => (|| {
            if !is_ctty()
                && !t
                    .ctx
                    .credentials
                    .has_capability(abi_linux::Capability::SYS_ADMIN)
            {
                return Err(Errno::EPERM);
            }
            let c: u8 = t.mm.read_obj(arg)?;
            terminal.input(&[c]);
            Ok(0)
        })(),
        TIOCGPTPEER => (|| {
            if !master {
                return Err(Errno::ENOTTY);
            }
            // Linux opens the peer with whatever flags are given.
            let flags = OpenFlags::from_bits_retain(arg as u32);
            let replica = open_peer(t, &terminal, flags)?;
            t.fds
                .add(replica, flags.contains(OpenFlags::CLOEXEC), 0, t.fd_limit())
                .map(|fd| fd as u64)
        })(),
        _ => return None,
    };
    Some(r)
}

/// Opens `terminal`'s replica through the devpts mount at `/dev/pts`
/// (`TIOCGPTPEER`); `EIO` if that path is not this terminal's.
fn open_peer(
    t: &crate::task::Task,
    terminal: &Arc<Terminal>,
    flags: OpenFlags,
) -> Result<FileRef, Errno> {
    let (root, cwd) = t.fs.root_and_cwd()?;
    cwd.release(&t.ctx);
    let path = format!("/dev/pts/{}", terminal.index);
    let pop = vfs_core::PathOperation::new(&root, &root, path.as_bytes());
    let opened = t.kernel.vfs.open_at(
        &t.ctx,
        &pop,
        OpenOptions {
            flags: flags & !OpenFlags::CLOEXEC,
            ..Default::default()
        },
    );
    root.release(&t.ctx);
    let file = opened?;
    let same = file
        .downcast::<ReplicaFile>()
        .is_some_and(|r| Arc::ptr_eq(&r.terminal, terminal));
    if !same {
        file.release(&t.ctx);
        return Err(Errno::EIO);
    }
    Ok(file)
}

/// An open master.
pub struct MasterFile {
    terminal: Arc<Terminal>,
    stat: Statx,
}

impl FileDescriptionImpl for MasterFile {
    fn release(&self, _: &dyn Context) {
        self.terminal.state().master_open = false;
        self.terminal.hang_up();
        self.terminal
            .replica_waiters
            .notify(READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP);
    }

    fn stat(&self, _: &dyn Context, _: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(self.stat)
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        let term = &self.terminal;
        let data = {
            let mut st = term.state();
            if st.packet && st.packet_status != 0 {
                vec![std::mem::take(&mut st.packet_status)]
            } else if st.to_master.is_empty() {
                if st.replica_opened && st.replicas == 0 {
                    return Err(Errno::EIO);
                }
                return Err(Errno::EAGAIN);
            } else {
                let room = dst.remaining().saturating_sub(usize::from(st.packet));
                if room == 0 {
                    return Ok(0);
                }
                let n = st.to_master.len().min(room);
                let mut data = Vec::with_capacity(n + 1);
                if st.packet {
                    data.push(TIOCPKT_DATA);
                }
                data.extend(st.to_master.drain(..n));
                data
            }
        };
        term.replica_waiters.notify(WRITABLE_EVENTS);
        copy_out(dst, &data)
    }

    fn write(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        let mut data = vec![0u8; src.remaining().min(MAX_OUTPUT)];
        let n = vfs_core::io::copy_in(src, &mut data)?;
        if n == 0 {
            return Ok(0);
        }
        let taken = self.terminal.input(&data[..n]);
        if taken == 0 {
            return Err(Errno::EAGAIN);
        }
        Ok(taken)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        let st = self.terminal.state();
        let mut ready = EventMask::empty();
        if !st.to_master.is_empty() || (st.packet && st.packet_status != 0) {
            ready |= READABLE_EVENTS;
        }
        if st.replica_opened && st.replicas == 0 {
            ready |= EventMask::HUP;
        }
        if st.ld.has_room() {
            ready |= WRITABLE_EVENTS;
        }
        ready & vfs_core::waiter::with_always_reported(mask)
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.terminal.master_waiters)
    }

    fn ioctl(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        let term = &self.terminal;
        if let Some(r) = term.common_ioctl(true, cmd, arg, memory) {
            return r;
        }
        match cmd {
            TIOCGPTN => memory.copy_out(arg, &term.index.to_ne_bytes()).map(|()| 0),
            TIOCSPTLCK => {
                let mut raw = [0u8; 4];
                memory.copy_in(arg, &mut raw)?;
                term.state().locked = i32::from_ne_bytes(raw) != 0;
                Ok(0)
            }
            TIOCGPTLCK => {
                let locked = i32::from(term.state().locked);
                memory.copy_out(arg, &locked.to_ne_bytes()).map(|()| 0)
            }
            TIOCPKT => {
                let mut raw = [0u8; 4];
                memory.copy_in(arg, &mut raw)?;
                let mut st = term.state();
                st.packet = i32::from_ne_bytes(raw) != 0;
                st.packet_status = 0;
                Ok(0)
            }
            TIOCGPKT => {
                let on = i32::from(term.state().packet);
                memory.copy_out(arg, &on.to_ne_bytes()).map(|()| 0)
            }
            TIOCSIG => {
                let signal = arg as i32;
                if !(1..=64).contains(&signal) {
                    return Err(Errno::EINVAL);
                }
                term.signal_foreground(signal);
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }
}

/// An open replica (`/dev/pts/N`, or `/dev/tty` of a session it
/// controls).
pub struct ReplicaFile {
    terminal: Arc<Terminal>,
}

impl FileDescriptionImpl for ReplicaFile {
    fn release(&self, _: &dyn Context) {
        {
            let mut st = self.terminal.state();
            st.replicas = st.replicas.saturating_sub(1);
        }
        self.terminal
            .master_waiters
            .notify(READABLE_EVENTS | EventMask::HUP);
    }

    fn stat(&self, ctx: &dyn Context, _: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        let dev = self
            .terminal
            .ptys
            .upgrade()
            .and_then(|p| lock(&p.fs).upgrade())
            .map_or(0, |fs| fs.dev());
        let _ = ctx;
        Ok(self.terminal.node.attrs.stat(dev, 0, 0))
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        let term = &self.terminal;
        let data = {
            let mut st = term.state();
            if !st.master_open {
                // A hung-up terminal reads as end of file.
                return Ok(0);
            }
            match st.ld.read(dst.remaining()) {
                Some(data) => data,
                None => return Err(Errno::EAGAIN),
            }
        };
        term.master_waiters.notify(WRITABLE_EVENTS);
        copy_out(dst, &data)
    }

    fn write(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        let term = &self.terminal;
        let mut data = vec![0u8; src.remaining().min(MAX_OUTPUT)];
        let n = vfs_core::io::copy_in(src, &mut data)?;
        let written = {
            let mut st = term.state();
            if !st.master_open {
                return Err(Errno::EIO);
            }
            let State {
                ld,
                to_master,
                column,
                ..
            } = &mut *st;
            let mut written = 0;
            // Byte by byte, so a translation never splits past the limit.
            while written < n && to_master.len() < MAX_OUTPUT {
                ld.output(&data[written..written + 1], column, to_master);
                written += 1;
            }
            written
        };
        if n > 0 && written == 0 {
            return Err(Errno::EAGAIN);
        }
        term.master_waiters.notify(READABLE_EVENTS);
        Ok(written)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        let st = self.terminal.state();
        if !st.master_open {
            return (READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP | EventMask::ERR)
                & vfs_core::waiter::with_always_reported(mask);
        }
        let mut ready = EventMask::empty();
        if st.ld.readable() {
            ready |= READABLE_EVENTS;
        }
        if st.to_master.len() < MAX_OUTPUT {
            ready |= WRITABLE_EVENTS;
        }
        ready & mask
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.terminal.replica_waiters)
    }

    fn ioctl(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        // The master's own ioctls (TIOCGPTN, TIOCPKT, ...) are ENOTTY here.
        self.terminal
            .common_ioctl(false, cmd, arg, memory)
            .unwrap_or(Err(Errno::ENOTTY))
    }
}

/// `/dev/pts/N`: opens replicas of its terminal.
pub struct PtsNode {
    attrs: InodeAttrs,
    terminal: Mutex<Weak<Terminal>>,
    ptys: Weak<Ptys>,
}

impl PtsNode {
    fn terminal(&self) -> Option<Arc<Terminal>> {
        lock(&self.terminal).upgrade()
    }
}

impl Inode for PtsNode {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn open(
        &self,
        ctx: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        let (Some(terminal), Some(ptys)) = (self.terminal(), self.ptys.upgrade()) else {
            return Err(Errno::EIO);
        };
        ptys.open_replica(ctx, terminal, &vd.mount, &vd.dentry, opts.flags)
    }
}

/// `/dev/pts/ptmx`: opens masters, like `/dev/ptmx`.
struct PtmxNode {
    attrs: InodeAttrs,
    ptys: Weak<Ptys>,
}

impl Inode for PtmxNode {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn open(
        &self,
        ctx: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        let ptys = self.ptys.upgrade().ok_or(Errno::ENXIO)?;
        ptys.open_master(&vd.mount, &vd.dentry, opts.flags, ctx.credentials())
    }
}

/// The devpts root: `ptmx` and one node per terminal.
struct DevptsRoot {
    ptys: Weak<Ptys>,
    ptmx: Arc<PtmxNode>,
}

impl DirectoryGenerator for DevptsRoot {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        let mut names = vec![b"ptmx".to_vec()];
        if let Some(ptys) = self.ptys.upgrade() {
            names.extend(ptys.live().iter().map(|t| t.index.to_string().into_bytes()));
        }
        Ok(names)
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if name == b"ptmx" {
            return Ok(self.ptmx.clone());
        }
        let index: u32 = std::str::from_utf8(name)
            .ok()
            .filter(|s| !s.starts_with('0') || s.len() == 1)
            .and_then(|s| s.parse().ok())
            .ok_or(Errno::ENOENT)?;
        let ptys = self.ptys.upgrade().ok_or(Errno::ENOENT)?;
        let terminal = ptys.get(index).ok_or(Errno::ENOENT)?;
        Ok(terminal.node.clone())
    }
}

/// The `devpts` filesystem type: every mount shows the sandbox's
/// terminals (Linux's single instance, without `newinstance`).
pub struct DevptsType(pub Arc<Ptys>);

impl FilesystemType for DevptsType {
    fn name(&self) -> &str {
        "devpts"
    }

    fn get_filesystem(
        &self,
        _: &dyn Context,
        vfs: &Arc<VirtualFilesystem>,
        _: &[u8],
        _: &GetFilesystemOptions,
    ) -> Result<(FilesystemRef, DentryRef), Errno> {
        let fs = kernfs::Filesystem::new(
            vfs,
            kernfs::FilesystemOptions {
                max_cached_dentries: 0,
                magic: DEVPTS_SUPER_MAGIC,
                mount_options: "mode=600,ptmxmode=000".into(),
            },
        )?;
        *lock(&self.0.fs) = Arc::downgrade(&fs);
        let ptmx = Arc::new(PtmxNode {
            attrs: InodeAttrs::new(
                2,
                0,
                0,
                FileMode::new(FileType::CharDevice, 0),
                Default::default(),
            ),
            ptys: Arc::downgrade(&self.0),
        });
        ptmx.attrs.set_rdev(PTMX_DEVICE.0, PTMX_DEVICE.1);
        let root = DynamicDirectory::new(
            &fs,
            &Credentials::root(),
            0o755,
            DevptsRoot {
                ptys: Arc::downgrade(&self.0),
                ptmx,
            },
        );
        Ok(fs.into_vfs(vfs, "devpts", root))
    }
}

/// `/dev/ptmx`'s driver.
struct PtmxDevice(Arc<Ptys>);

impl Device for PtmxDevice {
    fn open(
        &self,
        ctx: &dyn Context,
        mount: &MountRef,
        dentry: &DentryRef,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        self.0
            .open_master(mount, dentry, opts.flags, ctx.credentials())
    }
}

/// Registers `/dev/ptmx`'s driver (whose node reports `stat`) and the
/// devpts filesystem type with `vfs`.
pub fn register(vfs: &VirtualFilesystem, ptys: &Arc<Ptys>, stat: Statx) -> Result<(), Errno> {
    *lock(&ptys.ptmx_stat) = stat;
    vfs.register_device(
        vfs_core::DeviceKind::Char,
        PTMX_DEVICE.0,
        PTMX_DEVICE.1,
        Arc::new(PtmxDevice(ptys.clone())),
    )
}

/// Opens a replica of the terminal controlling the session of the
/// process `ctx` names, on `mount`/`dentry` (`/dev/tty`); `None` when it
/// has none.
pub fn open_controlling(
    ptys: &Ptys,
    ctx: &dyn Context,
    mount: &MountRef,
    dentry: &DentryRef,
    flags: OpenFlags,
) -> Option<Result<FileRef, Errno>> {
    let pid = ctx.lock_owner()?.pid;
    let sid = ptys.tasks.sid(pid).ok()?;
    let terminal = ptys.controlling(sid)?;
    Some(ptys.open_replica(ctx, terminal, mount, dentry, flags | OpenFlags::NOCTTY))
}
