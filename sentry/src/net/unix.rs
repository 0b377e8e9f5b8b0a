//! UNIX domain sockets (gVisor's `socket/unix` and `transport`, Linux's
//! `net/unix/af_unix.c`): stream, datagram and sequenced-packet sockets
//! between tasks of the sandbox, connected in pairs or through a name.
//!
//! Every socket is an [`Endpoint`] with its own receive queue of
//! [`Message`]s. Sending appends to the receiving endpoint's queue (the
//! connected peer's, or a datagram's destination) and notifies that
//! endpoint's waiters; receiving takes from the endpoint's own queue and
//! notifies the sender side that room was made. A stream keeps the bytes
//! of consecutive messages together but never merges across a message that
//! carries descriptors or different credentials, as Linux does.
//!
//! Names: an abstract name (`sun_path[0] == 0`) lives in [`UnixNames`]; a
//! filesystem name is a socket inode created by `bind` in the VFS (memfs,
//! a gofer-served directory, any filesystem with `mknod`), registered in
//! [`UnixNames`] under the inode's device and number, so `connect` by path
//! finds the endpoint whatever the filesystem; the host never sees a
//! usable socket.
//!
//! Flow control: a stream or sequenced-packet sender may have `SO_SNDBUF`
//! bytes unread at its peer; a datagram receiver queues at most
//! [`MAX_DGRAM_QLEN`] datagrams. Descriptors in flight are counted per
//! message ([`abi_linux::socket::SCM_MAX_FD`]).
//!
//! # Reference model
//!
//! A socket file description owns its endpoint (`Arc`); connected peers and
//! pending connections hold `Arc`s on each other until one side is
//! released, which breaks the link. Queued messages hold [`FileRef`]s of
//! the descriptors they carry; they are released with the queue. A socket
//! sent over itself keeps itself alive (Linux's garbage collector for such
//! cycles is not implemented).
//!
//! # Lock order
//!
//! An endpoint's state lock is never held while another endpoint's is
//! taken, except the listener's before a new server endpoint's (which no
//! one else can see yet); [`UnixNames`] is a leaf. Waiters are notified
//! with no lock held.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use abi_linux::socket::{AF_UNIX, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, UNIX_PATH_MAX};
use abi_linux::{Errno, Statx, Ucred};
use vfs_core::file_description::IoctlMemory;
use vfs_core::io::{IoDest, IoSource};
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileRef, ReadOptions, StatOptions, WriteOptions,
};

/// The default `SO_SNDBUF` and `SO_RCVBUF` (`net.core.wmem_default`).
pub const DEFAULT_BUFFER: usize = 212_992;
/// The largest `SO_SNDBUF`/`SO_RCVBUF` a caller without `CAP_NET_ADMIN`
/// may ask for, before Linux's doubling (`net.core.wmem_max`).
pub const MAX_BUFFER: usize = 212_992;
/// The smallest send buffer (`SOCK_MIN_SNDBUF`).
pub const MIN_SNDBUF: usize = 4608;
/// The smallest receive buffer (`SOCK_MIN_RCVBUF`).
pub const MIN_RCVBUF: usize = 2304;
/// A receiver whose queue holds more datagrams than this is full
/// (`net.unix.max_dgram_qlen`).
pub const MAX_DGRAM_QLEN: usize = 10;
/// Bytes of a datagram's buffer Linux keeps for its header.
const DGRAM_OVERHEAD: usize = 32;

/// The kind of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `SOCK_STREAM`.
    Stream,
    /// `SOCK_DGRAM`.
    Dgram,
    /// `SOCK_SEQPACKET`.
    SeqPacket,
}

impl Kind {
    /// The kind of `SOCK_*` value `ty`, or `None`.
    pub fn from_type(ty: i32) -> Option<Kind> {
        match ty {
            SOCK_STREAM => Some(Kind::Stream),
            SOCK_DGRAM => Some(Kind::Dgram),
            SOCK_SEQPACKET => Some(Kind::SeqPacket),
            _ => None,
        }
    }

    /// The `SOCK_*` value.
    pub fn to_type(self) -> i32 {
        match self {
            Kind::Stream => SOCK_STREAM,
            Kind::Dgram => SOCK_DGRAM,
            Kind::SeqPacket => SOCK_SEQPACKET,
        }
    }

    fn connection_oriented(self) -> bool {
        self != Kind::Dgram
    }
}

/// An `AF_UNIX` address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum UnixAddr {
    /// No name.
    #[default]
    Unnamed,
    /// A filesystem path (without its terminating NUL).
    Path(Vec<u8>),
    /// An abstract name (without the leading NUL).
    Abstract(Vec<u8>),
}

impl UnixAddr {
    /// Parses a `sockaddr_un` of `bytes` (Linux's `unix_validate_addr`
    /// and `unix_mkname`): `None` for an address with the family alone
    /// (autobind).
    ///
    /// Errors: `EINVAL` for a short or long address or another family.
    pub fn parse(bytes: &[u8]) -> Result<Option<UnixAddr>, Errno> {
        if bytes.len() < 2 || bytes.len() > 2 + UNIX_PATH_MAX {
            return Err(Errno::EINVAL);
        }
        if i32::from(u16::from_ne_bytes([bytes[0], bytes[1]])) != AF_UNIX {
            return Err(Errno::EINVAL);
        }
        let path = &bytes[2..];
        match path.first() {
            None => Ok(None),
            Some(0) => Ok(Some(UnixAddr::Abstract(path[1..].to_vec()))),
            Some(_) => {
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                Ok(Some(UnixAddr::Path(path[..end].to_vec())))
            }
        }
    }

    /// The `sockaddr_un` bytes `getsockname` reports: the family, then the
    /// path with its NUL or the abstract name after its NUL.
    pub fn to_sockaddr(&self) -> Vec<u8> {
        let mut out = (AF_UNIX as u16).to_ne_bytes().to_vec();
        match self {
            UnixAddr::Unnamed => {}
            UnixAddr::Path(p) => {
                out.extend_from_slice(p);
                out.push(0);
            }
            UnixAddr::Abstract(n) => {
                out.push(0);
                out.extend_from_slice(n);
            }
        }
        out
    }
}

/// Where a bound endpoint is found.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NameKey {
    /// An abstract name.
    Abstract(Vec<u8>),
    /// The socket inode `(device, inode number)` a path names.
    Inode(u64, u64),
}

/// The names endpoints are bound to, for `connect` and `sendto` to find
/// them: one per kernel (Linux's `unix_socket_table` for one network
/// namespace).
#[derive(Default)]
pub struct UnixNames {
    map: Mutex<HashMap<NameKey, Weak<Endpoint>>>,
    next_auto: Mutex<u32>,
    /// The interface ioctls describe the host's interfaces
    /// (`--network=host`), not the sandbox's `lo`.
    host_interfaces: bool,
}

impl UnixNames {
    /// The names of a kernel whose sockets' interface ioctls answer for
    /// the host's interfaces when `host_interfaces`.
    pub fn new(host_interfaces: bool) -> UnixNames {
        UnixNames {
            host_interfaces,
            ..UnixNames::default()
        }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<NameKey, Weak<Endpoint>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The endpoint bound to `key`, if it is alive.
    pub fn lookup(&self, key: &NameKey) -> Option<Arc<Endpoint>> {
        self.map().get(key).and_then(Weak::upgrade)
    }

    /// Binds `key` to `ep`; `EADDRINUSE` if a live endpoint has it.
    fn insert(&self, key: NameKey, ep: &Arc<Endpoint>) -> Result<(), Errno> {
        let mut map = self.map();
        if map.get(&key).is_some_and(|w| w.strong_count() > 0) {
            return Err(Errno::EADDRINUSE);
        }
        map.insert(key, Arc::downgrade(ep));
        Ok(())
    }

    fn remove(&self, key: &NameKey, ep: &Endpoint) {
        let mut map = self.map();
        if map
            .get(key)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), ep) || w.strong_count() == 0)
        {
            map.remove(key);
        }
    }

    /// A fresh abstract name for autobind: five hex digits, as Linux's.
    fn auto_name(&self, ep: &Arc<Endpoint>) -> Result<Vec<u8>, Errno> {
        for _ in 0..0x100000 {
            let n = {
                let mut next = self.next_auto.lock().unwrap_or_else(|e| e.into_inner());
                *next = (*next + 1) & 0xfffff;
                *next
            };
            let name = format!("{n:05x}").into_bytes();
            if self.insert(NameKey::Abstract(name.clone()), ep).is_ok() {
                return Ok(name);
            }
        }
        Err(Errno::ENOSPC)
    }
}

/// One queued message.
pub struct Message {
    data: Vec<u8>,
    /// Bytes of `data` already read (streams only).
    offset: usize,
    rights: Vec<FileRef>,
    cred: Option<Ucred>,
    from: UnixAddr,
}

impl Message {
    fn remaining(&self) -> usize {
        self.data.len() - self.offset
    }
}

/// The credentials a sent message may carry.
#[derive(Clone, Copy, Debug, Default)]
pub struct Creds {
    /// `SCM_CREDENTIALS` the sender passed (already checked).
    pub explicit: Option<Ucred>,
    /// The sending process's own (`pid`, real `uid`, real `gid`), attached
    /// when either side set `SO_PASSCRED`; the socket's creator's when
    /// unknown.
    pub sender: Option<Ucred>,
}

/// What a receive returned.
#[derive(Default)]
pub struct Received {
    /// The bytes copied.
    pub len: usize,
    /// The datagram's full length (for `MSG_TRUNC`).
    pub full_len: usize,
    /// The descriptors carried.
    pub rights: Vec<FileRef>,
    /// The sender's credentials, when passed.
    pub cred: Option<Ucred>,
    /// The sender's address.
    pub from: UnixAddr,
}

/// The connection state.
enum Conn {
    /// Never connected (or a datagram socket).
    Unconnected,
    /// Listening, with connections not yet accepted.
    Listening {
        pending: VecDeque<Arc<Endpoint>>,
        backlog: usize,
    },
    /// Connected (or a datagram socket's default destination).
    Connected(Arc<Endpoint>),
    /// Was connected; the peer is gone.
    Disconnected,
}

struct State {
    recv: VecDeque<Message>,
    recv_bytes: usize,
    conn: Conn,
    local: UnixAddr,
    name: Option<NameKey>,
    /// No more data will arrive (`RCV_SHUTDOWN`).
    rd_shut: bool,
    /// No more data may be sent (`SEND_SHUTDOWN`).
    wr_shut: bool,
    /// The pending error `SO_ERROR` reports.
    error: Option<Errno>,
    sndbuf: usize,
    rcvbuf: usize,
    passcred: bool,
    /// The credentials `SO_PEERCRED` reports on the other side: the
    /// creator's at `socketpair`, `connect` or `listen`.
    own_cred: Ucred,
    peer_cred: Option<Ucred>,
    /// Generic options kept as set (`SO_REUSEADDR`, `SO_KEEPALIVE`...).
    options: HashMap<i32, Vec<u8>>,
    closed: bool,
}

/// A UNIX socket.
pub struct Endpoint {
    kind: Kind,
    ino: u64,
    state: Mutex<State>,
    waiters: WaiterQueue,
    _registration: refs::Registration,
}

impl Endpoint {
    /// A new unconnected endpoint created by a task with `cred`.
    pub fn new(kind: Kind, ino: u64, cred: Ucred) -> Arc<Endpoint> {
        Arc::new_cyclic(|weak| Endpoint {
            _registration: refs::Registration::new_cyclic(weak, "net::unix::Endpoint"),
            kind,
            ino,
            state: Mutex::new(State {
                recv: VecDeque::new(),
                recv_bytes: 0,
                conn: Conn::Unconnected,
                local: UnixAddr::Unnamed,
                name: None,
                rd_shut: false,
                wr_shut: false,
                error: None,
                sndbuf: DEFAULT_BUFFER,
                rcvbuf: DEFAULT_BUFFER,
                passcred: false,
                own_cred: cred,
                peer_cred: None,
                options: HashMap::new(),
                closed: false,
            }),
            waiters: WaiterQueue::new(),
        })
    }

    /// A connected pair (`socketpair`).
    pub fn pair(kind: Kind, ino: (u64, u64), cred: Ucred) -> (Arc<Endpoint>, Arc<Endpoint>) {
        let a = Endpoint::new(kind, ino.0, cred);
        let b = Endpoint::new(kind, ino.1, cred);
        a.connect_to(&b, cred);
        b.connect_to(&a, cred);
        (a, b)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn connect_to(&self, peer: &Arc<Endpoint>, peer_cred: Ucred) {
        let mut st = self.state();
        st.conn = Conn::Connected(peer.clone());
        st.peer_cred = Some(peer_cred);
    }

    /// The socket's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The inode number `fstat` and `/proc/PID/fd` show.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The queue whose waiters learn of this endpoint's readiness.
    pub fn waiters(&self) -> &WaiterQueue {
        &self.waiters
    }

    /// The connected peer (or a datagram socket's default destination).
    fn peer(&self) -> Option<Arc<Endpoint>> {
        match &self.state().conn {
            Conn::Connected(p) => Some(p.clone()),
            _ => None,
        }
    }

    /// `getsockname`: the bound address.
    pub fn local_addr(&self) -> UnixAddr {
        self.state().local.clone()
    }

    /// `getpeername`: the peer's address; `ENOTCONN` without a peer.
    pub fn peer_addr(&self) -> Result<UnixAddr, Errno> {
        self.peer().map(|p| p.local_addr()).ok_or(Errno::ENOTCONN)
    }

    /// Whether the endpoint has a local name.
    pub fn is_bound(&self) -> bool {
        self.state().local != UnixAddr::Unnamed
    }

    /// Binds `addr`, registered under `key` (`None`: autobind).
    ///
    /// Errors: `EINVAL` if already bound; `EADDRINUSE` if the name is
    /// taken.
    pub fn bind(
        self: &Arc<Self>,
        names: &UnixNames,
        addr: UnixAddr,
        key: Option<NameKey>,
    ) -> Result<(), Errno> {
        if self.is_bound() {
            return Err(Errno::EINVAL);
        }
        let (addr, key) = match key {
            Some(key) => {
                names.insert(key.clone(), self)?;
                (addr, key)
            }
            None => {
                let name = names.auto_name(self)?;
                (UnixAddr::Abstract(name.clone()), NameKey::Abstract(name))
            }
        };
        let mut st = self.state();
        st.local = addr;
        st.name = Some(key);
        Ok(())
    }

    /// `listen`: `EOPNOTSUPP` for datagram sockets; `EINVAL` unless bound
    /// and unconnected.
    pub fn listen(&self, backlog: i32, cred: Ucred) -> Result<(), Errno> {
        if !self.kind.connection_oriented() {
            return Err(Errno::EOPNOTSUPP);
        }
        // Linux compares as unsigned: a negative backlog is the maximum.
        let backlog = usize::try_from(backlog)
            .unwrap_or(usize::MAX)
            .min(abi_linux::socket::SOMAXCONN as usize);
        let mut st = self.state();
        if st.local == UnixAddr::Unnamed {
            return Err(Errno::EINVAL);
        }
        match &mut st.conn {
            Conn::Unconnected => {
                st.conn = Conn::Listening {
                    pending: VecDeque::new(),
                    backlog,
                };
            }
            Conn::Listening { backlog: b, .. } => *b = backlog,
            _ => return Err(Errno::EINVAL),
        }
        st.own_cred = cred;
        drop(st);
        // Writers blocked on a full backlog may now fit.
        self.waiters.notify(WRITABLE_EVENTS);
        Ok(())
    }

    /// Connects a stream or sequenced-packet socket to `server` (a
    /// listening endpoint), queueing a new server-side endpoint on its
    /// backlog (Linux's `unix_stream_connect`).
    ///
    /// Errors: `EISCONN`, `EINVAL` (listening), `EPROTOTYPE` (another
    /// kind), `ECONNREFUSED` (not listening), `EAGAIN` (backlog full; the
    /// caller waits on the server's waiters).
    pub fn connect(
        self: &Arc<Self>,
        server: &Arc<Endpoint>,
        cred: Ucred,
        new_ino: u64,
    ) -> Result<(), Errno> {
        {
            let st = self.state();
            match st.conn {
                Conn::Connected(_) => return Err(Errno::EISCONN),
                Conn::Listening { .. } => return Err(Errno::EINVAL),
                _ => {}
            }
        }
        if server.kind != self.kind {
            return Err(Errno::EPROTOTYPE);
        }
        let accepted = Endpoint::new(self.kind, new_ino, cred);
        {
            let mut sst = server.state();
            let server_cred = sst.own_cred;
            let local = sst.local.clone();
            let passcred = sst.passcred;
            let Conn::Listening { pending, backlog } = &mut sst.conn else {
                return Err(Errno::ECONNREFUSED);
            };
            if pending.len() > *backlog {
                return Err(Errno::EAGAIN);
            }
            {
                let mut ast = accepted.state();
                ast.conn = Conn::Connected(self.clone());
                ast.peer_cred = Some(cred);
                ast.local = local;
                ast.own_cred = server_cred;
                ast.passcred = passcred;
            }
            pending.push_back(accepted.clone());
            drop(sst);
            self.connect_to(&accepted, server_cred);
        }
        server.waiters.notify(READABLE_EVENTS);
        self.waiters.notify(WRITABLE_EVENTS);
        Ok(())
    }

    /// Sets (or with `None`, clears) a datagram socket's default
    /// destination. `EPROTOTYPE` for another kind of peer.
    pub fn connect_dgram(
        &self,
        peer: Option<Arc<Endpoint>>,
        peer_cred: Ucred,
    ) -> Result<(), Errno> {
        let mut st = self.state();
        match peer {
            Some(p) => {
                if p.kind != self.kind {
                    return Err(Errno::EPROTOTYPE);
                }
                st.conn = Conn::Connected(p);
                st.peer_cred = Some(peer_cred);
            }
            None => {
                st.conn = Conn::Unconnected;
                st.peer_cred = None;
            }
        }
        Ok(())
    }

    /// Takes a pending connection; `EINVAL` unless listening, `EAGAIN`
    /// when none is pending.
    pub fn accept(&self) -> Result<Arc<Endpoint>, Errno> {
        let accepted = {
            let mut st = self.state();
            match &mut st.conn {
                Conn::Listening { pending, .. } => pending.pop_front().ok_or(Errno::EAGAIN)?,
                _ => return Err(Errno::EINVAL),
            }
        };
        // Connectors waiting for backlog room.
        self.waiters.notify(WRITABLE_EVENTS);
        Ok(accepted)
    }

    /// Whether `accept` would find a connection.
    pub fn is_listening(&self) -> bool {
        matches!(self.state().conn, Conn::Listening { .. })
    }

    /// `shutdown`: `how` is `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
    ///
    /// Errors: `ENOTCONN` for a connection-oriented socket without a
    /// connection.
    pub fn shutdown(&self, rd: bool, wr: bool) -> Result<(), Errno> {
        let peer = {
            let mut st = self.state();
            if self.kind.connection_oriented() && !matches!(st.conn, Conn::Connected(_)) {
                return Err(Errno::ENOTCONN);
            }
            st.rd_shut |= rd;
            st.wr_shut |= wr;
            match &st.conn {
                Conn::Connected(p) if self.kind.connection_oriented() => Some(p.clone()),
                _ => None,
            }
        };
        if let Some(peer) = &peer {
            let mut pst = peer.state();
            pst.rd_shut |= wr;
            pst.wr_shut |= rd;
        }
        let all = READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP | EventMask::RDHUP;
        self.waiters.notify(all);
        if let Some(peer) = peer {
            peer.waiters.notify(all);
        }
        Ok(())
    }

    /// Queues `data` with `rights` for the receiver: the connected peer,
    /// or `to` for a datagram. Returns the bytes queued; a stream may
    /// queue part of `data` (at least one byte).
    ///
    /// Errors: `EPIPE` (shut down or peer gone: the caller raises
    /// `SIGPIPE` unless `MSG_NOSIGNAL`), `ENOTCONN`, `EISCONN` (a
    /// destination on a connected stream), `ECONNREFUSED` (a datagram
    /// receiver that is gone), `EPERM` (a datagram receiver connected to
    /// another socket), `EMSGSIZE`, `EAGAIN` when there is no room (the
    /// caller waits on [`Endpoint::send_target`]'s waiters).
    pub fn send(
        self: &Arc<Self>,
        data: &[u8],
        rights: &mut Vec<FileRef>,
        creds: Creds,
        to: Option<&Arc<Endpoint>>,
    ) -> Result<usize, Errno> {
        let (receiver, from, sender_passcred, own_cred, sndbuf) = {
            let st = self.state();
            if st.wr_shut {
                return Err(Errno::EPIPE);
            }
            let connected = match &st.conn {
                Conn::Connected(p) => Some(p.clone()),
                _ => None,
            };
            let receiver = match (self.kind, to, connected) {
                (Kind::Dgram, Some(to), _) => to.clone(),
                (Kind::Dgram, None, Some(p)) => p,
                (Kind::Dgram, None, None) => return Err(Errno::ENOTCONN),
                (_, Some(_), Some(_)) => return Err(Errno::EISCONN),
                (_, _, Some(p)) => p,
                (_, _, None) => {
                    return Err(if matches!(st.conn, Conn::Disconnected) {
                        Errno::EPIPE
                    } else {
                        Errno::ENOTCONN
                    });
                }
            };
            (
                receiver,
                st.local.clone(),
                st.passcred,
                st.own_cred,
                st.sndbuf,
            )
        };
        let n = {
            let mut rst = receiver.state();
            if rst.closed {
                return Err(if self.kind == Kind::Dgram {
                    Errno::ECONNREFUSED
                } else {
                    Errno::EPIPE
                });
            }
            if self.kind == Kind::Dgram {
                if let Conn::Connected(p) = &rst.conn
                    && !Arc::ptr_eq(p, self)
                {
                    return Err(Errno::EPERM);
                }
                if rst.rd_shut {
                    return Err(Errno::EPIPE);
                }
            }
            let cred = creds.explicit.or_else(|| {
                (sender_passcred || rst.passcred).then_some(creds.sender.unwrap_or(own_cred))
            });
            let n = match self.kind {
                Kind::Stream => {
                    let room = sndbuf.saturating_sub(rst.recv_bytes);
                    if room == 0 {
                        return Err(Errno::EAGAIN);
                    }
                    data.len().min(room)
                }
                Kind::SeqPacket | Kind::Dgram => {
                    if data.len() > sndbuf.saturating_sub(DGRAM_OVERHEAD) {
                        return Err(Errno::EMSGSIZE);
                    }
                    let full = if self.kind == Kind::Dgram {
                        rst.recv.len() > MAX_DGRAM_QLEN
                    } else {
                        rst.recv_bytes > 0 && rst.recv_bytes + data.len() > sndbuf
                    };
                    if full {
                        return Err(Errno::EAGAIN);
                    }
                    data.len()
                }
            };
            rst.recv_bytes += n;
            rst.recv.push_back(Message {
                data: data[..n].to_vec(),
                offset: 0,
                rights: std::mem::take(rights),
                cred,
                from,
            });
            n
        };
        receiver.waiters.notify(READABLE_EVENTS);
        Ok(n)
    }

    /// The endpoint whose waiters learn that a blocked send to `to` (or to
    /// the peer) may now fit.
    pub fn send_target(&self, to: Option<&Arc<Endpoint>>) -> Option<Arc<Endpoint>> {
        to.cloned().or_else(|| self.peer())
    }

    /// Receives into `dst`: for a stream, bytes of consecutive messages
    /// up to `dst`'s length; otherwise one message, truncated to fit.
    /// With `peek` nothing is consumed (descriptors are duplicated).
    ///
    /// Errors: `EAGAIN` with nothing to read (the caller waits on this
    /// endpoint's waiters), `EINVAL` for a stream that was never
    /// connected, a pending `ECONNRESET`.
    pub fn recv(&self, dst: &mut dyn IoDest, peek: bool) -> Result<Received, Errno> {
        let mut got = Received::default();
        let notify_peer;
        {
            let mut st = self.state();
            if st.recv.is_empty() {
                if let Some(e) = st.error.take() {
                    return Err(e);
                }
                if st.rd_shut {
                    return Ok(got);
                }
                if self.kind.connection_oriented() {
                    match st.conn {
                        Conn::Unconnected | Conn::Listening { .. } => return Err(Errno::EINVAL),
                        Conn::Disconnected => return Ok(got),
                        Conn::Connected(_) => {}
                    }
                }
                return Err(Errno::EAGAIN);
            }
            if self.kind == Kind::Stream {
                let want = dst.remaining();
                let mut index = 0;
                while got.len < want && index < st.recv.len() {
                    let msg = &st.recv[index];
                    if index > 0 && (!msg.rights.is_empty() || msg.cred != got.cred) {
                        break;
                    }
                    if index == 0 {
                        got.cred = msg.cred;
                        got.from = msg.from.clone();
                        got.rights = msg.rights.clone();
                    }
                    let n = (want - got.len).min(msg.remaining());
                    let copied =
                        vfs_core::io::copy_out(dst, &msg.data[msg.offset..msg.offset + n])?;
                    got.len += copied;
                    if copied < n {
                        break;
                    }
                    let has_rights = !msg.rights.is_empty();
                    index += 1;
                    if has_rights {
                        break;
                    }
                }
                got.full_len = got.len;
                if !peek {
                    let mut left = got.len;
                    while left > 0 {
                        let Some(front) = st.recv.front_mut() else {
                            break;
                        };
                        let n = left.min(front.remaining());
                        front.offset += n;
                        left -= n;
                        if !front.rights.is_empty() {
                            // The descriptors went with the first byte.
                            front.rights.clear();
                        }
                        if front.remaining() == 0 {
                            st.recv.pop_front();
                        }
                    }
                    st.recv_bytes -= got.len;
                }
            } else {
                let Some(msg) = st.recv.front() else {
                    return Err(Errno::EAGAIN);
                };
                let n = dst.remaining().min(msg.data.len());
                got.len = vfs_core::io::copy_out(dst, &msg.data[..n])?;
                got.full_len = msg.data.len();
                got.cred = msg.cred;
                got.from = msg.from.clone();
                got.rights = msg.rights.clone();
                if !peek {
                    let msg = st.recv.pop_front();
                    st.recv_bytes -= got.full_len;
                    // The message's own references go with it; the caller
                    // got clones.
                    drop(msg);
                }
            }
            notify_peer = match &st.conn {
                Conn::Connected(p) if !peek => Some(p.clone()),
                _ => None,
            };
        }
        if !peek {
            // Room was made: senders wait on the receiver's waiters, and
            // the peer's own writability changed.
            self.waiters.notify(WRITABLE_EVENTS);
            if let Some(peer) = notify_peer {
                peer.waiters.notify(WRITABLE_EVENTS);
            }
        }
        Ok(got)
    }

    /// The bytes `FIONREAD` reports: all queued bytes of a stream, the
    /// next datagram's length otherwise.
    pub fn readable_bytes(&self) -> usize {
        let st = self.state();
        match self.kind {
            Kind::Stream => st.recv_bytes,
            _ => st.recv.front().map_or(0, |m| m.data.len()),
        }
    }

    /// The bytes sent and not yet read by the peer (`TIOCOUTQ`).
    pub fn unread_by_peer(&self) -> usize {
        match self.peer() {
            Some(p) if self.kind == Kind::Stream => p.state().recv_bytes,
            _ => 0,
        }
    }

    /// The readiness Linux's `unix_poll`/`unix_dgram_poll` report.
    pub fn readiness(&self, mask: EventMask) -> EventMask {
        let (mut ready, peer, sndbuf) = {
            let st = self.state();
            let mut ready = EventMask::empty();
            if st.error.is_some() {
                ready |= EventMask::ERR;
            }
            if st.rd_shut && st.wr_shut {
                ready |= EventMask::HUP;
            }
            if st.rd_shut {
                ready |= EventMask::RDHUP | READABLE_EVENTS;
            }
            if !st.recv.is_empty() {
                ready |= READABLE_EVENTS;
            }
            let peer = match &st.conn {
                Conn::Listening { pending, .. } => {
                    if !pending.is_empty() {
                        ready |= READABLE_EVENTS;
                    }
                    return ready & mask;
                }
                Conn::Connected(p) => Some(p.clone()),
                Conn::Unconnected | Conn::Disconnected => {
                    if self.kind.connection_oriented() {
                        ready |= EventMask::HUP;
                    }
                    None
                }
            };
            (ready, peer, st.sndbuf)
        };
        let writable = match (&peer, self.kind) {
            (Some(p), Kind::Dgram) => p.state().recv.len() <= MAX_DGRAM_QLEN,
            (Some(p), _) => p.state().recv_bytes * 4 <= sndbuf,
            (None, _) => true,
        };
        // As Linux's `unix_writable`, a shut-down socket still polls
        // writable: the write itself reports `EPIPE`.
        if writable {
            ready |= WRITABLE_EVENTS | EventMask::WRBAND;
        }
        ready & mask
    }

    /// `SO_PASSCRED`.
    pub fn set_passcred(&self, on: bool) {
        self.state().passcred = on;
    }

    /// `SO_PASSCRED` as set.
    pub fn passcred(&self) -> bool {
        self.state().passcred
    }

    /// `SO_PEERCRED`: the peer's credentials at connection time.
    pub fn peer_cred(&self) -> Option<Ucred> {
        self.state().peer_cred
    }

    /// Takes the pending error (`SO_ERROR`).
    pub fn take_error(&self) -> Option<Errno> {
        self.state().error.take()
    }

    /// `SO_SNDBUF` and `SO_RCVBUF` as `getsockopt` reports them.
    pub fn buffers(&self) -> (usize, usize) {
        let st = self.state();
        (st.sndbuf, st.rcvbuf)
    }

    /// Sets `SO_SNDBUF` (`send`) or `SO_RCVBUF` to `value` (already
    /// doubled and clamped by the caller).
    pub fn set_buffer(&self, send: bool, value: usize) {
        let mut st = self.state();
        if send {
            st.sndbuf = value;
        } else {
            st.rcvbuf = value;
        }
        drop(st);
        self.waiters.notify(WRITABLE_EVENTS);
    }

    /// A generic option's value as last set.
    pub fn option(&self, name: i32) -> Option<Vec<u8>> {
        self.state().options.get(&name).cloned()
    }

    /// Keeps a generic option's value.
    pub fn set_option(&self, name: i32, value: Vec<u8>) {
        self.state().options.insert(name, value);
    }

    /// Tears the endpoint down as its last description goes: the name is
    /// released, pending connections and the peer are told, queued
    /// descriptors are released.
    pub fn close(&self, names: &UnixNames, ctx: &dyn Context) {
        let (peer, pending, queued, name, unread) = {
            let mut st = self.state();
            st.closed = true;
            st.rd_shut = true;
            st.wr_shut = true;
            let conn = std::mem::replace(&mut st.conn, Conn::Disconnected);
            let (peer, pending) = match conn {
                Conn::Connected(p) => (Some(p), VecDeque::new()),
                Conn::Listening { pending, .. } => (None, pending),
                _ => (None, VecDeque::new()),
            };
            let unread = !st.recv.is_empty();
            st.recv_bytes = 0;
            (
                peer,
                pending,
                std::mem::take(&mut st.recv),
                st.name.take(),
                unread,
            )
        };
        if let Some(name) = name {
            names.remove(&name, self);
        }
        for msg in queued {
            for file in msg.rights {
                file.release(ctx);
            }
        }
        for embryo in pending {
            embryo.close(names, ctx);
        }
        if let Some(peer) = peer
            && self.kind.connection_oriented()
        {
            {
                let mut pst = peer.state();
                if let Conn::Connected(p) = &pst.conn
                    && std::ptr::eq(Arc::as_ptr(p), self)
                {
                    pst.conn = Conn::Disconnected;
                }
                pst.rd_shut = true;
                pst.wr_shut = true;
                if unread {
                    pst.error = Some(Errno::ECONNRESET);
                }
            }
            peer.waiters.notify(
                READABLE_EVENTS
                    | WRITABLE_EVENTS
                    | EventMask::HUP
                    | EventMask::RDHUP
                    | EventMask::ERR,
            );
        }
        self.waiters
            .notify(READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP);
    }
}

impl refs::CheckedObject for Endpoint {
    fn ref_type(&self) -> &'static str {
        "net::unix::Endpoint"
    }

    fn leak_message(&self) -> String {
        format!("[net::unix::Endpoint] inode {} {:?}", self.ino, self.kind)
    }
}

/// A socket file description.
pub struct SocketFile {
    endpoint: Arc<Endpoint>,
    names: Arc<UnixNames>,
}

impl SocketFile {
    /// Wraps `endpoint`, registered (when bound) in `names`.
    pub fn new(endpoint: Arc<Endpoint>, names: Arc<UnixNames>) -> SocketFile {
        SocketFile { endpoint, names }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Arc<Endpoint> {
        &self.endpoint
    }
}

impl FileDescriptionImpl for SocketFile {
    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(Statx {
            stx_blksize: 4096,
            stx_mode: (abi_linux::S_IFSOCK | 0o777) as u16,
            stx_ino: self.endpoint.ino,
            ..vfs_core::file_description_util::anon_inode_stat(fd)
        })
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        if dst.remaining() == 0 && self.endpoint.kind == Kind::Stream {
            return Ok(0);
        }
        let got = self.endpoint.recv(dst, false)?;
        // `read` has nowhere to put descriptors: they are dropped.
        drop(got.rights);
        Ok(got.len)
    }

    fn write(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        let ep = &self.endpoint;
        let send = |data: &[u8]| ep.send(data, &mut Vec::new(), Creds::default(), None);
        let (sndbuf, _) = ep.buffers();
        if ep.kind == Kind::Stream {
            if src.remaining() == 0 {
                return Ok(0);
            }
            return super::write_stream(src, sndbuf, send);
        }
        let data = super::read_datagram(src, sndbuf.saturating_sub(DGRAM_OVERHEAD))?;
        send(&data)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        self.endpoint.readiness(mask)
    }

    fn ioctl(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        let value = match cmd {
            abi_linux::tty::FIONREAD => self.endpoint.readable_bytes(),
            abi_linux::tty::TIOCOUTQ => self.endpoint.unread_by_peer(),
            // Interface ioctls work on a socket of any family.
            _ => {
                let answer = if self.names.host_interfaces {
                    crate::net::hostinet::interface_ioctl(cmd, arg, memory)
                } else {
                    crate::net::inet::interface_ioctl(cmd, arg, memory)
                };
                return answer.unwrap_or(Err(Errno::ENOTTY));
            }
        };
        let value = i32::try_from(value).unwrap_or(i32::MAX);
        memory.copy_out(arg, &value.to_ne_bytes())?;
        Ok(0)
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.endpoint.waiters)
    }

    fn release(&self, ctx: &dyn Context) {
        self.endpoint.close(&self.names, ctx);
    }

    /// A socket cannot be opened through `/proc/PID/fd/N` (Linux: `ENXIO`).
    fn reopen(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: abi_linux::OpenFlags,
    ) -> Option<Result<FileRef, Errno>> {
        Some(Err(Errno::ENXIO))
    }

    fn synthetic_name(&self) -> Option<String> {
        Some(format!("socket:[{}]", self.endpoint.ino))
    }
}

/// A receive deadline from `SO_RCVTIMEO`/`SO_SNDTIMEO` bytes (a
/// `timeval`); zero means none.
pub fn timeout_of(option: Option<Vec<u8>>) -> Option<Duration> {
    let raw = option?;
    let tv: abi_linux::Timeval = zerocopy::FromBytes::read_from_bytes(&raw[..]).ok()?;
    let d = Duration::new(tv.tv_sec.max(0) as u64, (tv.tv_usec.max(0) as u32) * 1000);
    (!d.is_zero()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_linux_reads_them() {
        let fam = (AF_UNIX as u16).to_ne_bytes();
        assert_eq!(UnixAddr::parse(&fam), Ok(None));
        assert_eq!(UnixAddr::parse(&fam[..1]), Err(Errno::EINVAL));
        let mut path = fam.to_vec();
        path.extend_from_slice(b"/tmp/s\0junk");
        assert_eq!(
            UnixAddr::parse(&path),
            Ok(Some(UnixAddr::Path(b"/tmp/s".to_vec())))
        );
        let mut abs = fam.to_vec();
        abs.extend_from_slice(b"\0name");
        let parsed = UnixAddr::parse(&abs).unwrap().unwrap();
        assert_eq!(parsed, UnixAddr::Abstract(b"name".to_vec()));
        assert_eq!(parsed.to_sockaddr(), abs);
        let inet = 2u16.to_ne_bytes();
        assert_eq!(UnixAddr::parse(&inet), Err(Errno::EINVAL));
        assert_eq!(UnixAddr::parse(&[0u8; 111]), Err(Errno::EINVAL));
    }
}
