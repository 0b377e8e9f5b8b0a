//! TCP over the loopback interface (Linux's `net/ipv4/tcp*.c` as a program
//! sees it): a connection is two sockets, each with a receive queue the
//! other appends to.
//!
//! States, as `TCP_INFO` names them: a new socket is `CLOSE`; `listen`
//! makes it `LISTEN`; `connect` to a listener creates the server side at
//! once on the listener's accept queue (a loopback handshake completes
//! before `connect` returns) and both sides are `ESTABLISHED`. Closing a
//! side sends a FIN (the peer reads end-of-file after the data, and its
//! next write is answered with a reset: that write succeeds and later ones
//! fail with `EPIPE`), or a reset when it had unread data or lingers with
//! a zero timeout (the peer's calls fail with `ECONNRESET`). The side that
//! closes first holds its port in `TIME_WAIT`.
//!
//! Flow control: a sender may have the peer's receive window of bytes
//! unread: `SO_RCVBUF` plus the sender's `SO_SNDBUF` when either was set,
//! otherwise [`AUTOTUNED_WINDOW`] (Linux grows a loopback connection's
//! buffers to megabytes).
//!
//! # Reference model
//!
//! A socket's file description owns it (`Arc`). Connected sockets hold
//! `Arc`s on each other, and a listener on its pending connections, until
//! a close or reset breaks the link; the port table holds only `Weak`s
//! (and keeps a `TIME_WAIT` port with no socket at all).
//!
//! # Lock order
//!
//! A socket's state lock is never held while another socket's is taken,
//! except a listener's before a new server-side socket's (which no one
//! else can see yet); the port table is taken with no socket lock held.
//! Waiters are notified with no lock held.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use abi_linux::inet::{TcpInfo, tcp_state};
use abi_linux::socket::{
    SO_LINGER, SO_RCVLOWAT, SO_REUSEADDR, SO_REUSEPORT, SOL_SOCKET, SOMAXCONN,
};
use abi_linux::{Errno, Linger};
use vfs_core::io::IoDest;
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};

use super::{
    BindRequest, Family, InetStack, LOOPBACK_MTU, Settings, TIME_WAIT, check_bind_addr, route,
    source_for,
};

/// The receive window of a connection whose buffers were never set.
pub const AUTOTUNED_WINDOW: usize = 4 << 20;
/// `SO_SNDBUF` of a new socket (`net.ipv4.tcp_wmem`'s default).
pub const DEFAULT_SNDBUF: usize = 16384;
/// `SO_RCVBUF` of a new socket (`net.ipv4.tcp_rmem`'s default).
pub const DEFAULT_RCVBUF: usize = 131_072;
/// The MSS of a loopback connection (MTU less IP and TCP headers and
/// timestamps).
pub const LOOPBACK_MSS: u32 = 65483;

/// A socket's connection.
enum Phase {
    /// New, or failed to connect.
    Closed,
    /// Listening, with connections not yet accepted.
    Listening {
        pending: VecDeque<Arc<TcpSocket>>,
        backlog: usize,
    },
    /// Connected; `None` once the peer closed (`CLOSE_WAIT`, or both
    /// closed).
    Connected(Option<Arc<TcpSocket>>),
    /// Was connected; reset (`CLOSE`).
    Reset,
}

#[derive(Default, Clone, Copy)]
struct Counters {
    bytes_sent: u64,
    bytes_received: u64,
    segs_out: u32,
    segs_in: u32,
    last_sent: Option<Instant>,
    last_received: Option<Instant>,
}

struct State {
    phase: Phase,
    /// The bound address (its port is registered in the TCP table).
    local: Option<SocketAddr>,
    /// The peer's address, once connected.
    remote: Option<SocketAddr>,
    recv: VecDeque<u8>,
    /// The peer sent its FIN.
    fin_received: bool,
    /// `SHUT_RD`.
    rd_shut: bool,
    /// This side sent its FIN (`SHUT_WR` or close).
    fin_sent: bool,
    /// This side's FIN went before the peer's (an active close).
    fin_first: bool,
    /// A non-blocking connect answered `EINPROGRESS` and no later
    /// `connect` has reported its outcome.
    in_progress: bool,
    /// The pending error `SO_ERROR` and the next call report.
    error: Option<Errno>,
    settings: Settings,
    counters: Counters,
    closed: bool,
}

/// A TCP socket.
pub struct TcpSocket {
    family: Family,
    ino: u64,
    /// The creator's effective user ID (for `SO_REUSEPORT` groups).
    uid: u32,
    stack: Arc<InetStack>,
    state: Mutex<State>,
    waiters: WaiterQueue,
    _registration: refs::Registration,
}

impl TcpSocket {
    /// A new socket of `family`.
    pub fn new(family: Family, ino: u64, uid: u32, stack: Arc<InetStack>) -> Arc<TcpSocket> {
        Arc::new_cyclic(|weak| TcpSocket {
            _registration: refs::Registration::new_cyclic(weak, "net::TcpSocket"),
            family,
            ino,
            uid,
            stack,
            state: Mutex::new(State {
                phase: Phase::Closed,
                local: None,
                remote: None,
                recv: VecDeque::new(),
                fin_received: false,
                rd_shut: false,
                fin_sent: false,
                fin_first: false,
                in_progress: false,
                error: None,
                settings: Settings::new(DEFAULT_SNDBUF, DEFAULT_RCVBUF),
                counters: Counters::default(),
                closed: false,
            }),
            waiters: WaiterQueue::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The socket's family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The inode number `fstat` shows.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The queue whose waiters learn of this socket's readiness.
    pub fn waiters(&self) -> &WaiterQueue {
        &self.waiters
    }

    /// `getsockname`: the bound address, or the family's wildcard.
    pub fn local_addr(&self) -> SocketAddr {
        self.state()
            .local
            .unwrap_or(SocketAddr::new(self.family.any(), 0))
    }

    /// `getpeername`; `ENOTCONN` unless connected (a reset socket is
    /// not).
    pub fn peer_addr(&self) -> Result<SocketAddr, Errno> {
        let st = self.state();
        match st.phase {
            Phase::Connected(_) => st.remote.ok_or(Errno::ENOTCONN),
            _ => Err(Errno::ENOTCONN),
        }
    }

    /// Whether the socket listens.
    pub fn is_listening(&self) -> bool {
        matches!(self.state().phase, Phase::Listening { .. })
    }

    /// Runs `f` on the settings, with whether the socket is bound.
    pub fn with_settings<T>(&self, f: impl FnOnce(&mut Settings, bool) -> T) -> T {
        let mut st = self.state();
        let bound = st.local.is_some();
        f(&mut st.settings, bound)
    }

    /// Takes the pending error (`SO_ERROR`).
    pub fn take_error(&self) -> Option<Errno> {
        self.state().error.take()
    }

    fn bind_request(st: &State, addr: SocketAddr, uid: u32, family: Family) -> BindRequest {
        BindRequest {
            addr,
            dual: family == Family::V6 && !st.settings.v6only && addr.ip().is_unspecified(),
            reuseaddr: st.settings.options.flag(SOL_SOCKET, SO_REUSEADDR),
            reuseport: st.settings.options.flag(SOL_SOCKET, SO_REUSEPORT),
            uid,
        }
    }

    /// `bind` to `addr` (canonical; port 0 for an ephemeral one), by a
    /// caller that may (`privileged`) bind ports below 1024.
    ///
    /// Errors: `EINVAL` if bound already; `EACCES` for a privileged port;
    /// the address's (`EADDRNOTAVAIL`) and the table's (`EADDRINUSE`).
    pub fn bind(self: &Arc<Self>, addr: SocketAddr, privileged: bool) -> Result<(), Errno> {
        let req = {
            let st = self.state();
            if st.local.is_some() || !matches!(st.phase, Phase::Closed) {
                return Err(Errno::EINVAL);
            }
            check_bind_addr(self.family, st.settings.v6only, addr.ip())?;
            Self::bind_request(&st, addr, self.uid, self.family)
        };
        if addr.port() != 0
            && addr.port() < abi_linux::inet::IP_UNPRIVILEGED_PORT_START
            && !privileged
        {
            return Err(Errno::EACCES);
        }
        let port = self.stack.tcp().bind(self, req)?;
        let mut st = self.state();
        if st.local.is_some() {
            drop(st);
            self.stack.tcp().unbind(self, port, None);
            return Err(Errno::EINVAL);
        }
        st.local = Some(SocketAddr::new(addr.ip(), port));
        Ok(())
    }

    /// `listen`, binding an ephemeral port first when unbound.
    ///
    /// Errors: `EINVAL` when connected; `EADDRINUSE` when another socket
    /// listens on the port.
    pub fn listen(self: &Arc<Self>, backlog: i32) -> Result<(), Errno> {
        // Linux compares as unsigned: a negative backlog is the maximum.
        let backlog = usize::try_from(backlog)
            .unwrap_or(usize::MAX)
            .min(SOMAXCONN as usize);
        {
            let mut st = self.state();
            match &mut st.phase {
                Phase::Listening { backlog: b, .. } => {
                    *b = backlog;
                    return Ok(());
                }
                Phase::Closed => {}
                _ => return Err(Errno::EINVAL),
            }
        }
        if self.state().local.is_none() {
            self.bind(SocketAddr::new(self.family.any(), 0), true)?;
        }
        let port = self.local_addr().port();
        self.stack.tcp().listen(self, port)?;
        let mut st = self.state();
        if matches!(st.phase, Phase::Closed) {
            st.phase = Phase::Listening {
                pending: VecDeque::new(),
                backlog,
            };
        }
        Ok(())
    }

    /// Connects to `dst` (canonical): finds the listener, queues the new
    /// server-side socket (inode `new_ino`) on its backlog, and becomes
    /// `ESTABLISHED` (true). After a non-blocking connect answered
    /// `EINPROGRESS`, reports that connect's outcome once instead (false).
    ///
    /// Errors: `EISCONN` (connected or listening), `ENETUNREACH` (off
    /// `lo`), `ECONNREFUSED` (no listener: also left as the pending
    /// error), `EAGAIN` (the backlog is full: the caller waits on the
    /// listener's waiters, given as the second value; `beyond_backlog`
    /// queues the connection anyway).
    pub fn connect(
        self: &Arc<Self>,
        dst: SocketAddr,
        new_ino: u64,
        beyond_backlog: bool,
    ) -> Result<bool, (Errno, Option<Arc<TcpSocket>>)> {
        let (v6only, local) = {
            let mut st = self.state();
            if std::mem::take(&mut st.in_progress) {
                // Linux's `__inet_stream_connect` for a socket still
                // `SS_CONNECTING`: the outcome, once.
                return match st.phase {
                    Phase::Connected(_) => Ok(false),
                    _ => Err((st.error.take().unwrap_or(Errno::ECONNABORTED), None)),
                };
            }
            match st.phase {
                Phase::Closed => {}
                _ => return Err((Errno::EISCONN, None)),
            }
            (st.settings.v6only, st.local)
        };
        let dst = route(self.family, v6only, dst).map_err(|e| (e, None))?;
        let local = match local {
            Some(l) => l,
            None => {
                let src = source_for(self.family.any(), dst.ip());
                self.bind(SocketAddr::new(src, 0), true)
                    .map_err(|e| (e, None))?;
                self.local_addr()
            }
        };
        let local = SocketAddr::new(source_for(local.ip(), dst.ip()), local.port());
        let hash = self.stack.next_hash();
        let listener = self.stack.tcp().lookup(dst, hash, |s| s.is_listening());
        let Some(listener) = listener else {
            self.state().error = None;
            return Err((Errno::ECONNREFUSED, None));
        };
        let server = listener
            .enqueue(self, local, dst, new_ino, beyond_backlog)
            .map_err(|e| (e, Some(listener.clone())))?;
        {
            let mut st = self.state();
            st.local = Some(local);
            st.remote = Some(dst);
            st.phase = Phase::Connected(Some(server));
        }
        listener.waiters.notify(READABLE_EVENTS);
        self.waiters.notify(WRITABLE_EVENTS);
        Ok(true)
    }

    /// Creates the server side of a connection from `client` (at
    /// `client_addr`, to `local`) on this listener's accept queue;
    /// `EAGAIN` when the queue is full, `ECONNREFUSED` when not listening.
    fn enqueue(
        self: &Arc<Self>,
        client: &Arc<TcpSocket>,
        client_addr: SocketAddr,
        local: SocketAddr,
        ino: u64,
        beyond_backlog: bool,
    ) -> Result<Arc<TcpSocket>, Errno> {
        let server = TcpSocket::new(self.family, ino, self.uid, self.stack.clone());
        let reuseaddr;
        {
            let mut st = self.state();
            // An accepted socket inherits the listener's options.
            let settings = st.settings.clone();
            reuseaddr = st.settings.options.flag(SOL_SOCKET, SO_REUSEADDR);
            let Phase::Listening { pending, backlog } = &mut st.phase else {
                return Err(Errno::ECONNREFUSED);
            };
            // Linux's `sk_acceptq_is_full`: one more than the backlog fits.
            if pending.len() > *backlog && !beyond_backlog {
                return Err(Errno::EAGAIN);
            }
            {
                let mut sst = server.state();
                sst.local = Some(local);
                sst.remote = Some(client_addr);
                sst.phase = Phase::Connected(Some(client.clone()));
                sst.settings = settings;
            }
            pending.push_back(server.clone());
        }
        self.stack
            .tcp()
            .add_accepted(&server, local, reuseaddr, self.uid);
        Ok(server)
    }

    /// Whether the accept queue is full (false when not listening: a
    /// connect then finds no listener).
    pub fn backlog_full(&self) -> bool {
        match &self.state().phase {
            Phase::Listening { pending, backlog } => pending.len() > *backlog,
            _ => false,
        }
    }

    /// Marks a non-blocking connect as reported `EINPROGRESS`, with its
    /// outcome's error if it failed.
    pub fn set_in_progress(&self, error: Option<Errno>) {
        {
            let mut st = self.state();
            st.in_progress = true;
            st.error = error;
        }
        self.waiters
            .notify(EventMask::ERR | WRITABLE_EVENTS | EventMask::HUP);
    }

    /// A send of no bytes: 0 when connected, else the error a send
    /// reports.
    pub fn send_nothing(&self) -> Result<usize, Errno> {
        let mut st = self.state();
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        match st.phase {
            Phase::Connected(_) if !st.fin_sent => Ok(0),
            _ => Err(Errno::EPIPE),
        }
    }

    /// Takes a connection from the accept queue; `EINVAL` unless
    /// listening, `EAGAIN` when none is pending.
    pub fn accept(&self) -> Result<Arc<TcpSocket>, Errno> {
        let accepted = {
            let mut st = self.state();
            match &mut st.phase {
                Phase::Listening { pending, .. } => pending.pop_front().ok_or(Errno::EAGAIN)?,
                _ => return Err(Errno::EINVAL),
            }
        };
        // Connectors waiting for room on the backlog.
        self.waiters.notify(WRITABLE_EVENTS);
        Ok(accepted)
    }

    /// `connect` with `AF_UNSPEC`: drops the connection with a reset, or
    /// stops listening.
    pub fn disconnect(&self) -> Result<(), Errno> {
        let old = {
            let mut st = self.state();
            let old = std::mem::replace(&mut st.phase, Phase::Closed);
            st.remote = None;
            st.recv.clear();
            st.fin_received = false;
            st.fin_sent = false;
            st.rd_shut = false;
            old
        };
        self.tear_down(old, true);
        Ok(())
    }

    /// `shutdown`: `ENOTCONN` unless connected or listening.
    pub fn shutdown(&self, rd: bool, wr: bool) -> Result<(), Errno> {
        let peer = {
            let mut st = self.state();
            match &st.phase {
                Phase::Connected(_) => {}
                Phase::Listening { .. } => {
                    drop(st);
                    if rd {
                        // Linux disconnects a listener shut for reading:
                        // pending connections are reset, accept fails.
                        self.disconnect()?;
                    }
                    return Ok(());
                }
                _ => return Err(Errno::ENOTCONN),
            }
            st.rd_shut |= rd;
            let send_fin = wr && !st.fin_sent;
            st.fin_sent |= wr;
            if send_fin && !st.fin_received {
                st.fin_first = true;
            }
            match &st.phase {
                Phase::Connected(Some(p)) if send_fin => Some(p.clone()),
                _ => None,
            }
        };
        if let Some(peer) = &peer {
            peer.receive_fin(self, false);
        }
        self.waiters
            .notify(READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP | EventMask::RDHUP);
        Ok(())
    }

    /// The peer `from` sent its FIN; with `gone`, it closed and will
    /// answer further data with a reset.
    fn receive_fin(&self, from: &TcpSocket, gone: bool) {
        {
            let mut st = self.state();
            st.fin_received = true;
            if gone
                && let Phase::Connected(Some(p)) = &st.phase
                && std::ptr::eq(Arc::as_ptr(p), from)
            {
                st.phase = Phase::Connected(None);
            }
        }
        self.waiters
            .notify(READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP | EventMask::RDHUP);
    }

    /// The peer reset the connection: calls fail with `errno` once, then
    /// see a closed socket.
    fn receive_reset(&self, errno: Errno) {
        {
            let mut st = self.state();
            if matches!(st.phase, Phase::Connected(_)) {
                st.phase = Phase::Reset;
                st.error = Some(errno);
                st.fin_received = true;
                st.fin_sent = true;
            }
        }
        self.waiters.notify(
            READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP | EventMask::RDHUP | EventMask::ERR,
        );
    }

    /// The receive window a sender to this socket may fill.
    fn window(st: &State, sender_sndbuf: usize, sender_set: bool) -> usize {
        if st.settings.buffers_set || sender_set {
            st.settings.rcvbuf + sender_sndbuf
        } else {
            AUTOTUNED_WINDOW
        }
    }

    /// Queues `data` for the peer; returns the bytes queued (at least one,
    /// maybe fewer than all).
    ///
    /// Errors: a pending error (`ECONNRESET` after a reset), `EPIPE` when
    /// shut down, reset or never connected (the caller raises `SIGPIPE`
    /// unless `MSG_NOSIGNAL`), `EAGAIN` when the window is full (the
    /// caller waits on this socket's waiters).
    pub fn send(&self, data: &[u8]) -> Result<usize, Errno> {
        let (peer, sndbuf, set) = {
            let mut st = self.state();
            if let Some(e) = st.error.take() {
                return Err(e);
            }
            if st.fin_sent {
                return Err(Errno::EPIPE);
            }
            match &st.phase {
                Phase::Connected(Some(p)) => {
                    (p.clone(), st.settings.sndbuf, st.settings.buffers_set)
                }
                Phase::Connected(None) => {
                    // The peer closed: this data is answered with a reset,
                    // which the next call reports (Linux's `tcp_reset` in
                    // `CLOSE_WAIT`).
                    st.phase = Phase::Reset;
                    st.error = Some(Errno::EPIPE);
                    st.fin_sent = true;
                    st.counters.segs_out += 1;
                    return Ok(data.len());
                }
                _ => return Err(Errno::EPIPE),
            }
        };
        let n = {
            let mut pst = peer.state();
            if pst.closed {
                return Err(Errno::EPIPE);
            }
            let room = Self::window(&pst, sndbuf, set).saturating_sub(pst.recv.len());
            if room == 0 {
                return Err(Errno::EAGAIN);
            }
            let n = data.len().min(room);
            pst.recv.extend(&data[..n]);
            pst.counters.bytes_received += n as u64;
            pst.counters.segs_in += 1;
            pst.counters.last_received = Some(Instant::now());
            n
        };
        peer.waiters.notify(READABLE_EVENTS);
        let mut st = self.state();
        st.counters.bytes_sent += n as u64;
        st.counters.segs_out += 1;
        st.counters.last_sent = Some(Instant::now());
        Ok(n)
    }

    /// `SO_RCVLOWAT`: the bytes a blocking receive waits for and
    /// readability needs (at least 1).
    fn rcvlowat(st: &State) -> usize {
        st.settings
            .options
            .get(SOL_SOCKET, SO_RCVLOWAT)
            .and_then(|v| {
                v.get(..4)
                    .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            })
            .map_or(1, |v| v.max(1) as usize)
    }

    /// The bytes a blocking receive of `len` waits for before returning
    /// (Linux's `sock_rcvlowat`): `SO_RCVLOWAT`, at most `len`.
    pub fn receive_target(&self, len: usize) -> usize {
        Self::rcvlowat(&self.state()).min(len).max(1)
    }

    /// Receives into `dst` (`discard`: drops the bytes, for `MSG_TRUNC`);
    /// with `peek` nothing is consumed. Returns 0 at end of stream. Fewer
    /// than `min` bytes queued (and the stream open) is `EAGAIN`.
    ///
    /// Errors: `EAGAIN` with nothing (or less than `min`) to read (the
    /// caller waits on this socket's waiters), `ENOTCONN` when never
    /// connected or listening, a pending error.
    pub fn recv(
        &self,
        dst: &mut dyn IoDest,
        peek: bool,
        discard: bool,
        min: usize,
    ) -> Result<usize, Errno> {
        let (n, peer) = {
            let mut st = self.state();
            let open = !st.fin_received && !st.rd_shut && st.error.is_none();
            if open && !st.recv.is_empty() && st.recv.len() < min {
                return Err(Errno::EAGAIN);
            }
            if st.recv.is_empty() {
                if let Some(e) = st.error.take() {
                    return Err(e);
                }
                if st.fin_received || st.rd_shut {
                    return Ok(0);
                }
                return match st.phase {
                    Phase::Connected(_) => Err(Errno::EAGAIN),
                    Phase::Reset => Ok(0),
                    _ => Err(Errno::ENOTCONN),
                };
            }
            let want = dst.remaining().min(st.recv.len());
            let n = if discard {
                want
            } else {
                let (a, b) = st.recv.as_slices();
                let first = want.min(a.len());
                let mut n = vfs_core::io::copy_out(dst, &a[..first])?;
                if n == first && first < want {
                    n += vfs_core::io::copy_out(dst, &b[..want - first])?;
                }
                n
            };
            if peek {
                return Ok(n);
            }
            st.recv.drain(..n);
            let peer = match &st.phase {
                Phase::Connected(Some(p)) => Some(p.clone()),
                _ => None,
            };
            (n, peer)
        };
        // Room was made in the window the peer sends into.
        if let Some(peer) = peer {
            peer.waiters.notify(WRITABLE_EVENTS);
        }
        Ok(n)
    }

    /// The bytes `SIOCINQ` reports; `EINVAL` on a listener.
    pub fn readable_bytes(&self) -> Result<usize, Errno> {
        let st = self.state();
        match st.phase {
            Phase::Listening { .. } => Err(Errno::EINVAL),
            _ => Ok(st.recv.len()),
        }
    }

    /// The bytes `SIOCOUTQ` reports: none, since loopback delivers (and
    /// acknowledges) at once; `EINVAL` on a listener.
    pub fn unsent_bytes(&self) -> Result<usize, Errno> {
        match self.state().phase {
            Phase::Listening { .. } => Err(Errno::EINVAL),
            _ => Ok(0),
        }
    }

    /// What `/proc/net/tcp` shows of the socket: (local, remote, state,
    /// send queue, receive queue, owner, inode); `None` once closed.
    pub fn proc_entry(&self) -> Option<super::procnet::Entry> {
        let info = self.info();
        let st = self.state();
        if st.closed {
            return None;
        }
        let (tx, rx) = match &st.phase {
            Phase::Listening { pending, .. } => (0, pending.len()),
            _ => (0, st.recv.len()),
        };
        Some(super::procnet::Entry {
            local: st.local.unwrap_or(SocketAddr::new(self.family.any(), 0)),
            remote: st.remote.unwrap_or(SocketAddr::new(self.family.any(), 0)),
            state: info.state,
            tx_queue: tx,
            rx_queue: rx,
            uid: self.uid,
            ino: self.ino,
        })
    }

    /// The readiness Linux's `tcp_poll` reports.
    pub fn readiness(&self, mask: EventMask) -> EventMask {
        let (mut ready, peer, sndbuf, set) = {
            let st = self.state();
            let mut ready = EventMask::empty();
            if st.error.is_some() {
                ready |= EventMask::ERR;
            }
            match &st.phase {
                Phase::Listening { pending, .. } => {
                    if !pending.is_empty() {
                        ready |= READABLE_EVENTS;
                    }
                    return ready & mask;
                }
                Phase::Closed => {
                    return (ready | EventMask::HUP | WRITABLE_EVENTS) & mask;
                }
                _ => {}
            }
            let rd_closed = st.fin_received || st.rd_shut;
            if rd_closed {
                ready |= READABLE_EVENTS | EventMask::RDHUP;
            }
            if !st.recv.is_empty() && st.recv.len() >= Self::rcvlowat(&st) {
                ready |= READABLE_EVENTS;
            }
            if (rd_closed && st.fin_sent) || matches!(st.phase, Phase::Reset) {
                ready |= EventMask::HUP;
            }
            let peer = match &st.phase {
                Phase::Connected(Some(p)) if !st.fin_sent => Some(p.clone()),
                _ => {
                    ready |= WRITABLE_EVENTS;
                    None
                }
            };
            (ready, peer, st.settings.sndbuf, st.settings.buffers_set)
        };
        if let Some(p) = peer {
            let pst = p.state();
            if pst.recv.len() < Self::window(&pst, sndbuf, set) {
                ready |= WRITABLE_EVENTS | EventMask::WRBAND;
            }
        }
        ready & mask
    }

    /// `TCP_INFO`.
    pub fn info(&self) -> TcpInfo {
        let st = self.state();
        // Loopback acknowledges at once: a FIN is never left unanswered.
        let state = match (&st.phase, st.fin_sent, st.fin_received) {
            (Phase::Closed | Phase::Reset, _, _) => tcp_state::CLOSE,
            (Phase::Listening { .. }, _, _) => tcp_state::LISTEN,
            (Phase::Connected(_), false, false) => tcp_state::ESTABLISHED,
            (Phase::Connected(_), true, false) => tcp_state::FIN_WAIT2,
            (Phase::Connected(_), false, true) => tcp_state::CLOSE_WAIT,
            (Phase::Connected(_), true, true) if st.fin_first => tcp_state::TIME_WAIT,
            (Phase::Connected(_), true, true) => tcp_state::CLOSE,
        };
        let ms_since = |t: Option<Instant>| {
            t.map_or(0, |t| {
                t.elapsed().as_millis().min(u128::from(u32::MAX)) as u32
            })
        };
        let c = st.counters;
        let connected = matches!(st.phase, Phase::Connected(_));
        TcpInfo {
            state,
            rto: if connected { 200_000 } else { 1_000_000 },
            ato: if connected { 40_000 } else { 0 },
            snd_mss: if connected { LOOPBACK_MSS } else { 536 },
            rcv_mss: if connected { LOOPBACK_MSS } else { 536 },
            last_data_sent: ms_since(c.last_sent),
            last_data_recv: ms_since(c.last_received),
            last_ack_recv: ms_since(c.last_sent),
            pmtu: LOOPBACK_MTU,
            rcv_ssthresh: st.settings.rcvbuf as u32,
            snd_ssthresh: i32::MAX as u32,
            snd_cwnd: 10,
            advmss: LOOPBACK_MSS,
            reordering: 3,
            rcv_space: st.settings.rcvbuf as u32,
            bytes_acked: c.bytes_sent,
            bytes_received: c.bytes_received,
            segs_out: c.segs_out,
            segs_in: c.segs_in,
            data_segs_in: c.segs_in,
            data_segs_out: c.segs_out,
            ..TcpInfo::default()
        }
    }

    /// Ends the connection `old` as this socket leaves it: a listener's
    /// pending connections are reset; a connected peer gets a FIN, or a
    /// reset when `abort`.
    fn tear_down(&self, old: Phase, abort: bool) {
        match old {
            Phase::Listening { pending, .. } => {
                for embryo in pending {
                    embryo.close_with(true);
                }
            }
            Phase::Connected(Some(peer)) => {
                if abort {
                    peer.receive_reset(Errno::ECONNRESET);
                } else {
                    peer.receive_fin(self, true);
                }
            }
            _ => {}
        }
    }

    /// Tears the socket down as its last description goes.
    pub fn close(&self) {
        let linger0 = {
            let st = self.state();
            st.settings
                .options
                .get(SOL_SOCKET, SO_LINGER)
                .and_then(|v| <Linger as zerocopy::FromBytes>::read_from_bytes(&v).ok())
                .is_some_and(|l| l.onoff != 0 && l.linger == 0)
        };
        self.close_with(linger0);
    }

    fn close_with(&self, abort: bool) {
        let (old, local, time_wait) = {
            let mut st = self.state();
            st.closed = true;
            let abort = abort || !st.recv.is_empty();
            st.recv.clear();
            let old = std::mem::replace(&mut st.phase, Phase::Closed);
            // The side that sends the first FIN waits out stray segments.
            let connected = matches!(old, Phase::Connected(_));
            let active = matches!(old, Phase::Connected(Some(_))) && !st.fin_received;
            let time_wait = connected && (active || st.fin_first) && !abort;
            (old, st.local.take(), (time_wait, abort))
        };
        let (time_wait, abort) = time_wait;
        self.tear_down(old, abort);
        if let Some(local) = local {
            let until = time_wait.then(|| Instant::now() + TIME_WAIT);
            self.stack.tcp().unbind(self, local.port(), until);
        }
        self.waiters
            .notify(READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP);
    }
}

impl refs::CheckedObject for TcpSocket {
    fn ref_type(&self) -> &'static str {
        "net::TcpSocket"
    }

    fn leak_message(&self) -> String {
        format!(
            "[net::TcpSocket] inode {} at {}",
            self.ino,
            self.local_addr()
        )
    }
}
