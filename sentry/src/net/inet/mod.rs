//! Internet sockets over the sandbox's loopback interface (`--network=none`,
//! runsc's default): `AF_INET` and `AF_INET6` TCP and UDP between tasks of
//! the sandbox, on `lo` with 127.0.0.1/8 and ::1.
//!
//! # Why a direct path and not a TCP/IP stack
//!
//! Loopback traffic never leaves the sentry, so nothing on the other side
//! needs segments, checksums or windows: a connected TCP socket here is a
//! pair of byte queues, as Linux's own loopback delivers them, and a UDP
//! send appends one datagram to the receiving socket's queue. What
//! programs observe is kept: the connection states (`listen` backlogs,
//! `ECONNREFUSED` on a closed port, half-close, a reset when a socket is
//! closed with unread data, `EPIPE` after the peer is gone, `TIME_WAIT`
//! holding a port against a rebind without `SO_REUSEADDR`), ephemeral
//! ports from `ip_local_port_range`, bind conflicts with `SO_REUSEADDR`
//! and `SO_REUSEPORT`, IPv4-mapped IPv6 and `IPV6_V6ONLY`, datagram
//! boundaries, `TCP_INFO` counters. A real state machine (smoltcp) would
//! add a segmentation and reassembly pass, timers and a copy per packet
//! to every byte for nothing a program can see on loopback; gVisor's
//! netstack pays that cost, which is one reason runsc's loopback is slow.
//! The `--network=host` mode is where a real network appears, and there
//! the host's stack does that work.
//!
//! Addresses are kept canonical inside: an IPv4 address, or an
//! IPv4-mapped IPv6 one, is an [`IpAddr::V4`]; an `AF_INET6` socket shows
//! it mapped again.

pub mod procnet;
pub mod tcp;
pub mod udp;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use abi_linux::Errno;
use abi_linux::inet::{
    ARPHRD_LOOPBACK, IFF_LOOPBACK, IFF_LOWER_UP, IFF_RUNNING, IFF_UP, IFNAMSIZ,
    IP_LOCAL_PORT_RANGE, IfConf, IfReq, SIN6_LEN_RFC2133, SIOCGIFADDR, SIOCGIFBRDADDR, SIOCGIFCONF,
    SIOCGIFFLAGS, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFMETRIC, SIOCGIFMTU, SIOCGIFNAME,
    SIOCGIFNETMASK, SIOCGIFTXQLEN, SockaddrIn, SockaddrIn6,
};
use abi_linux::socket::{AF_INET, AF_INET6, AF_UNSPEC};
use vfs_core::file_description::IoctlMemory;
use vfs_core::waiter::WaiterQueue;
use zerocopy::{FromBytes, IntoBytes};

/// How long a port stays in `TIME_WAIT` after an active close
/// (`TCP_TIMEWAIT_LEN`).
pub const TIME_WAIT: Duration = Duration::from_secs(60);
/// The loopback interface's MTU.
pub const LOOPBACK_MTU: u32 = 65536;
/// The loopback interface's index.
pub const LOOPBACK_INDEX: i32 = 1;

/// An address family of internet sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `AF_INET`.
    V4,
    /// `AF_INET6`.
    V6,
}

impl Family {
    /// The family of `AF_*` value `domain`, or `None`.
    pub fn from_domain(domain: i32) -> Option<Family> {
        match domain {
            AF_INET => Some(Family::V4),
            AF_INET6 => Some(Family::V6),
            _ => None,
        }
    }

    /// The `AF_*` value.
    pub fn domain(self) -> i32 {
        match self {
            Family::V4 => AF_INET,
            Family::V6 => AF_INET6,
        }
    }

    /// The wildcard address.
    pub fn any(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
}

/// An address as given to `bind`, `connect` or `sendto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `AF_UNSPEC` (a disconnect for `connect`).
    Unspec,
    /// An address, canonical.
    Addr(SocketAddr),
}

/// Folds an IPv4-mapped IPv6 address into its IPv4 form.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Parses a `sockaddr` for a socket of `family` (Linux's checks in
/// `inet_bind`/`inet6_bind` and the connects): `EINVAL` for a short
/// address, `EAFNOSUPPORT` for another family; `AF_UNSPEC` is
/// [`Target::Unspec`]. An `AF_INET6` socket given a mapped address while
/// `v6only` is `EINVAL` from bind and `ENETUNREACH` from connect, which
/// the caller decides.
pub fn parse_sockaddr(family: Family, bytes: &[u8]) -> Result<Target, Errno> {
    if bytes.len() < 2 {
        return Err(Errno::EINVAL);
    }
    let fam = i32::from(u16::from_ne_bytes([bytes[0], bytes[1]]));
    match family {
        Family::V4 => {
            if bytes.len() < size_of::<SockaddrIn>() {
                return Err(Errno::EINVAL);
            }
            let (sin, _) = SockaddrIn::read_from_prefix(bytes).map_err(|_| Errno::EINVAL)?;
            let addr = SocketAddr::new(
                IpAddr::V4(Ipv4Addr::from(sin.addr)),
                u16::from_be_bytes(sin.port),
            );
            match fam {
                AF_INET => Ok(Target::Addr(addr)),
                // Linux takes AF_UNSPEC with INADDR_ANY as AF_INET, for
                // old programs; the caller tells a disconnect apart.
                AF_UNSPEC => Ok(Target::Unspec),
                _ => Err(Errno::EAFNOSUPPORT),
            }
        }
        Family::V6 => {
            if fam == AF_UNSPEC {
                return Ok(Target::Unspec);
            }
            if bytes.len() < SIN6_LEN_RFC2133 {
                return Err(Errno::EINVAL);
            }
            if fam != AF_INET6 {
                return Err(Errno::EAFNOSUPPORT);
            }
            let mut full = [0u8; size_of::<SockaddrIn6>()];
            let n = bytes.len().min(full.len());
            full[..n].copy_from_slice(&bytes[..n]);
            let sin6 = SockaddrIn6::read_from_bytes(&full).map_err(|_| Errno::EINVAL)?;
            let ip = canonical(IpAddr::V6(Ipv6Addr::from(sin6.addr)));
            Ok(Target::Addr(SocketAddr::new(
                ip,
                u16::from_be_bytes(sin6.port),
            )))
        }
    }
}

/// The `sockaddr` bytes of `addr` as a socket of `family` reports it.
pub fn sockaddr_bytes(family: Family, addr: SocketAddr) -> Vec<u8> {
    match family {
        Family::V4 => {
            let ip = match addr.ip() {
                IpAddr::V4(v4) => v4,
                IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
            };
            SockaddrIn {
                family: AF_INET as u16,
                port: addr.port().to_be_bytes(),
                addr: ip.octets(),
                zero: [0; 8],
            }
            .as_bytes()
            .to_vec()
        }
        Family::V6 => {
            let ip = match addr.ip() {
                IpAddr::V4(v4) if v4.is_unspecified() => Ipv6Addr::UNSPECIFIED,
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            SockaddrIn6 {
                family: AF_INET6 as u16,
                port: addr.port().to_be_bytes(),
                flowinfo: [0; 4],
                addr: ip.octets(),
                scope_id: 0,
            }
            .as_bytes()
            .to_vec()
        }
    }
}

/// Whether `ip` (canonical) is an address of the sandbox's `lo`.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

/// Checks that a socket of `family` (with `v6only`) may bind `ip`:
/// `EINVAL` for a mapped address on a v6-only socket, `EADDRNOTAVAIL`
/// for an address `lo` does not have.
pub fn check_bind_addr(family: Family, v6only: bool, ip: IpAddr) -> Result<(), Errno> {
    if family == Family::V6 && v6only && ip.is_ipv4() {
        return Err(Errno::EINVAL);
    }
    if ip.is_unspecified() || is_local(ip) {
        Ok(())
    } else {
        Err(Errno::EADDRNOTAVAIL)
    }
}

/// Routes a destination from a socket of `family`: the wildcard means
/// this host; an address off `lo` is unreachable (`ENETUNREACH`), as is a
/// mapped address from a v6-only socket.
pub fn route(family: Family, v6only: bool, dst: SocketAddr) -> Result<SocketAddr, Errno> {
    let ip = match dst.ip() {
        IpAddr::V4(_) if family == Family::V6 && v6only => return Err(Errno::ENETUNREACH),
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    if !is_local(ip) {
        return Err(Errno::ENETUNREACH);
    }
    Ok(SocketAddr::new(ip, dst.port()))
}

/// The source address `lo` gives a packet to `dst` from a socket bound
/// to `bound` (the wildcard picks the loopback address of `dst`'s kind).
pub fn source_for(bound: IpAddr, dst: IpAddr) -> IpAddr {
    if !bound.is_unspecified() {
        return bound;
    }
    match dst {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

/// One socket's claim on a port.
struct Binding<S> {
    sock: Weak<S>,
    /// The bound address (canonical; the wildcard of its family).
    ip: IpAddr,
    /// An `AF_INET6` wildcard that also takes IPv4 (not `IPV6_V6ONLY`).
    dual: bool,
    reuseaddr: bool,
    reuseport: bool,
    uid: u32,
    listening: bool,
    /// A port held after an active close, until this instant.
    time_wait_until: Option<Instant>,
}

impl<S> Binding<S> {
    fn live(&self, now: Instant) -> bool {
        match self.time_wait_until {
            Some(until) => now < until,
            None => self.sock.strong_count() > 0,
        }
    }

    /// Whether the binding receives traffic for `ip`.
    fn covers(&self, ip: IpAddr) -> bool {
        if self.ip == ip {
            return true;
        }
        match self.ip {
            IpAddr::V4(v4) => v4.is_unspecified() && ip.is_ipv4(),
            IpAddr::V6(v6) => v6.is_unspecified() && (ip.is_ipv6() || self.dual),
        }
    }

    fn overlaps(&self, other: &Binding<S>) -> bool {
        self.covers(other.ip) || other.covers(self.ip)
    }
}

/// What a socket asks for when it binds.
#[derive(Clone, Copy, Debug)]
pub struct BindRequest {
    /// The address (canonical); the port is 0 for an ephemeral one.
    pub addr: SocketAddr,
    /// The socket is `AF_INET6` without `IPV6_V6ONLY`.
    pub dual: bool,
    /// `SO_REUSEADDR`.
    pub reuseaddr: bool,
    /// `SO_REUSEPORT`.
    pub reuseport: bool,
    /// The binder's effective user ID (`SO_REUSEPORT` groups share one).
    pub uid: u32,
}

/// The ports of one protocol: who is bound where.
pub struct PortTable<S> {
    /// Whether two sockets bound with `SO_REUSEADDR` may share a port
    /// while one listens (never, for TCP) .
    stream: bool,
    ports: BTreeMap<u16, Vec<Binding<S>>>,
    next_ephemeral: u16,
}

impl<S> PortTable<S> {
    fn new(stream: bool) -> PortTable<S> {
        PortTable {
            stream,
            ports: BTreeMap::new(),
            next_ephemeral: IP_LOCAL_PORT_RANGE.0,
        }
    }

    /// Whether `new` may join the bindings of its port (Linux's
    /// `inet_csk_bind_conflict` and `udp_lib_lport_inuse`, without
    /// `SO_BINDTODEVICE`).
    fn conflicts(&self, port: u16, new: &Binding<S>, now: Instant) -> bool {
        let Some(list) = self.ports.get(&port) else {
            return false;
        };
        list.iter().any(|b| {
            if !b.live(now) || !b.overlaps(new) {
                return false;
            }
            if b.time_wait_until.is_some() {
                // The closed socket's own SO_REUSEADDR counts too.
                return !(new.reuseaddr && b.reuseaddr);
            }
            let shared_addr = new.reuseaddr && b.reuseaddr && !(self.stream && b.listening);
            let shared_port = new.reuseport && b.reuseport && new.uid == b.uid;
            !(shared_addr || shared_port)
        })
    }

    /// Binds `sock` as `req` says; returns the port (chosen from the
    /// ephemeral range when `req`'s is 0).
    ///
    /// Errors: `EADDRINUSE`; `EADDRNOTAVAIL` when no ephemeral port is
    /// free.
    pub fn bind(&mut self, sock: &Arc<S>, req: BindRequest) -> Result<u16, Errno> {
        let now = Instant::now();
        let binding = Binding {
            sock: Arc::downgrade(sock),
            ip: req.addr.ip(),
            dual: req.dual,
            reuseaddr: req.reuseaddr,
            reuseport: req.reuseport,
            uid: req.uid,
            listening: false,
            time_wait_until: None,
        };
        let port = if req.addr.port() != 0 {
            if self.conflicts(req.addr.port(), &binding, now) {
                return Err(Errno::EADDRINUSE);
            }
            req.addr.port()
        } else {
            let (low, high) = IP_LOCAL_PORT_RANGE;
            let span = u32::from(high - low) + 1;
            let mut found = None;
            for _ in 0..span {
                let candidate = self.next_ephemeral;
                self.next_ephemeral = if candidate >= high {
                    low
                } else {
                    candidate + 1
                };
                // An ephemeral port is one nobody holds at all.
                let free = self
                    .ports
                    .get(&candidate)
                    .is_none_or(|list| list.iter().all(|b| !b.live(now)));
                if free {
                    found = Some(candidate);
                    break;
                }
            }
            found.ok_or(Errno::EADDRNOTAVAIL)?
        };
        let list = self.ports.entry(port).or_default();
        list.retain(|b| b.live(now));
        list.push(binding);
        Ok(port)
    }

    /// Marks `sock`'s binding on `port` as listening; `EADDRINUSE` if
    /// another listener overlaps it without `SO_REUSEPORT` on both
    /// (Linux checks again in `inet_csk_listen_start`).
    pub fn listen(&mut self, sock: &Arc<S>, port: u16) -> Result<(), Errno> {
        let now = Instant::now();
        let Some(list) = self.ports.get_mut(&port) else {
            return Err(Errno::EINVAL);
        };
        let me = Arc::as_ptr(sock);
        let Some(mine) = list.iter().position(|b| std::ptr::eq(b.sock.as_ptr(), me)) else {
            return Err(Errno::EINVAL);
        };
        let clash = list.iter().enumerate().any(|(i, b)| {
            i != mine
                && b.live(now)
                && b.listening
                && b.overlaps(&list[mine])
                && !(b.reuseport && list[mine].reuseport && b.uid == list[mine].uid)
        });
        if clash {
            return Err(Errno::EADDRINUSE);
        }
        list[mine].listening = true;
        Ok(())
    }

    /// Adds a binding for a socket `accept` created, sharing its
    /// listener's port.
    pub fn add_accepted(&mut self, sock: &Arc<S>, local: SocketAddr, reuseaddr: bool, uid: u32) {
        self.ports.entry(local.port()).or_default().push(Binding {
            sock: Arc::downgrade(sock),
            ip: local.ip(),
            dual: false,
            reuseaddr,
            reuseport: false,
            uid,
            listening: false,
            time_wait_until: None,
        });
    }

    /// Drops `sock`'s binding on `port`; with `time_wait`, the port stays
    /// held (for binds without `SO_REUSEADDR`) until then.
    pub fn unbind(&mut self, sock: &S, port: u16, time_wait: Option<Instant>) {
        let now = Instant::now();
        if let Some(list) = self.ports.get_mut(&port) {
            for b in list.iter_mut() {
                if std::ptr::eq(b.sock.as_ptr(), sock) {
                    match time_wait {
                        Some(until) => {
                            b.time_wait_until = Some(until);
                            b.listening = false;
                        }
                        None => b.sock = Weak::new(),
                    }
                }
            }
            list.retain(|b| b.live(now));
            if list.is_empty() {
                self.ports.remove(&port);
            }
        }
    }

    /// Every live socket with a binding, once each, by port.
    pub fn sockets(&self) -> Vec<Arc<S>> {
        let mut out: Vec<Arc<S>> = Vec::new();
        for list in self.ports.values() {
            for b in list {
                if let Some(sock) = b.sock.upgrade()
                    && !out.iter().any(|o| Arc::ptr_eq(o, &sock))
                {
                    out.push(sock);
                }
            }
        }
        out
    }

    /// The socket that receives traffic for `dst`: a binding of exactly
    /// its address before a wildcard, and among a `SO_REUSEPORT` group
    /// the one `hash` picks; `want` filters candidates (a listener, a
    /// datagram socket accepting this source).
    pub fn lookup(
        &self,
        dst: SocketAddr,
        hash: u64,
        want: impl Fn(&Arc<S>) -> bool,
    ) -> Option<Arc<S>> {
        let now = Instant::now();
        let list = self.ports.get(&dst.port())?;
        let pick = |exact: bool| -> Option<Arc<S>> {
            let group: Vec<Arc<S>> = list
                .iter()
                .filter(|b| b.live(now) && b.time_wait_until.is_none())
                .filter(|b| {
                    if exact {
                        b.ip == dst.ip()
                    } else {
                        b.covers(dst.ip())
                    }
                })
                .filter_map(|b| b.sock.upgrade())
                .filter(|s| want(s))
                .collect();
            if group.is_empty() {
                return None;
            }
            let index = (hash % group.len() as u64) as usize;
            group.into_iter().nth(index)
        };
        pick(true).or_else(|| pick(false))
    }
}

/// The sandbox's network: the loopback interface and the TCP and UDP
/// port tables (one network namespace).
pub struct InetStack {
    tcp: Mutex<PortTable<tcp::TcpSocket>>,
    udp: Mutex<PortTable<udp::UdpSocket>>,
    /// The echo identifiers of ICMP echo sockets.
    icmp: Mutex<PortTable<udp::UdpSocket>>,
    /// `net.ipv4.ping_group_range`: the groups that may open ICMP echo
    /// sockets (none, by default).
    ping_group_range: Mutex<(u32, u32)>,
    next_hash: std::sync::atomic::AtomicU64,
}

impl Default for InetStack {
    fn default() -> InetStack {
        InetStack {
            tcp: Mutex::new(PortTable::new(true)),
            udp: Mutex::new(PortTable::new(false)),
            icmp: Mutex::new(PortTable::new(false)),
            ping_group_range: Mutex::new((1, 0)),
            next_hash: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl std::fmt::Debug for InetStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InetStack").finish_non_exhaustive()
    }
}

impl InetStack {
    /// The TCP port table.
    pub fn tcp(&self) -> MutexGuard<'_, PortTable<tcp::TcpSocket>> {
        self.tcp.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The UDP port table.
    pub fn udp(&self) -> MutexGuard<'_, PortTable<udp::UdpSocket>> {
        self.udp.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The ICMP echo identifier table.
    pub fn icmp(&self) -> MutexGuard<'_, PortTable<udp::UdpSocket>> {
        self.icmp.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `net.ipv4.ping_group_range`.
    pub fn ping_group_range(&self) -> (u32, u32) {
        *self
            .ping_group_range
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Sets `net.ipv4.ping_group_range`; a range whose end is below its
    /// start closes it again (`1 0`), as Linux's handler does.
    pub fn set_ping_group_range(&self, low: u32, high: u32) {
        let range = if high < low { (1, 0) } else { (low, high) };
        *self
            .ping_group_range
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = range;
    }

    /// Whether a caller in groups `gids` may open an ICMP echo socket.
    pub fn ping_allowed(&self, gids: impl IntoIterator<Item = u32>) -> bool {
        let (low, high) = self.ping_group_range();
        gids.into_iter().any(|g| (low..=high).contains(&g))
    }

    /// A value that spreads connections over a `SO_REUSEPORT` group.
    pub fn next_hash(&self) -> u64 {
        self.next_hash
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Options a socket keeps as set, by `(level, name)`, for the ones whose
/// only effect is what `getsockopt` reads back.
#[derive(Clone, Default)]
pub struct Options {
    values: HashMap<(i32, i32), Vec<u8>>,
}

impl Options {
    /// The value last set.
    pub fn get(&self, level: i32, name: i32) -> Option<Vec<u8>> {
        self.values.get(&(level, name)).cloned()
    }

    /// Keeps `value`.
    pub fn set(&mut self, level: i32, name: i32, value: Vec<u8>) {
        self.values.insert((level, name), value);
    }

    /// An `int` option as a flag (false when never set).
    pub fn flag(&self, level: i32, name: i32) -> bool {
        self.values
            .get(&(level, name))
            .and_then(|v| v.get(..4))
            .is_some_and(|v| v != [0, 0, 0, 0])
    }
}

/// What every internet socket keeps of its options: the generic ones by
/// name, the buffer sizes and `IPV6_V6ONLY`.
#[derive(Clone)]
pub struct Settings {
    /// Options kept as set.
    pub options: Options,
    /// `SO_SNDBUF` as `getsockopt` reports it.
    pub sndbuf: usize,
    /// `SO_RCVBUF` as `getsockopt` reports it.
    pub rcvbuf: usize,
    /// `SO_SNDBUF` or `SO_RCVBUF` was set.
    pub buffers_set: bool,
    /// `IPV6_V6ONLY`.
    pub v6only: bool,
}

impl Settings {
    /// The settings of a new socket with buffers of these sizes.
    pub fn new(sndbuf: usize, rcvbuf: usize) -> Settings {
        Settings {
            options: Options::default(),
            sndbuf,
            rcvbuf,
            buffers_set: false,
            v6only: false,
        }
    }

    /// `IPV6_V6ONLY`; `EINVAL` once the socket is `bound`, as Linux.
    pub fn set_v6only(&mut self, on: bool, bound: bool) -> Result<(), Errno> {
        if bound {
            return Err(Errno::EINVAL);
        }
        self.v6only = on;
        Ok(())
    }

    /// Sets `SO_SNDBUF` (`send`) or `SO_RCVBUF` to `value` (already
    /// doubled and clamped by the caller).
    pub fn set_buffer(&mut self, send: bool, value: usize) {
        if send {
            self.sndbuf = value;
        } else {
            self.rcvbuf = value;
        }
        self.buffers_set = true;
    }
}

/// An internet socket.
#[derive(Clone)]
pub enum InetSocket {
    /// `SOCK_STREAM`.
    Tcp(Arc<tcp::TcpSocket>),
    /// `SOCK_DGRAM`.
    Udp(Arc<udp::UdpSocket>),
}

impl InetSocket {
    /// The socket's waiter queue.
    pub fn waiters(&self) -> &WaiterQueue {
        match self {
            InetSocket::Tcp(s) => s.waiters(),
            InetSocket::Udp(s) => s.waiters(),
        }
    }

    /// The socket's family.
    pub fn family(&self) -> Family {
        match self {
            InetSocket::Tcp(s) => s.family(),
            InetSocket::Udp(s) => s.family(),
        }
    }

    /// Runs `f` on the socket's settings, with whether it is bound; a
    /// change of the buffers may let a blocked writer go on, so writers
    /// are told.
    pub fn with_settings<T>(&self, f: impl FnOnce(&mut Settings, bool) -> T) -> T {
        let out = match self {
            InetSocket::Tcp(s) => s.with_settings(f),
            InetSocket::Udp(s) => s.with_settings(f),
        };
        self.waiters().notify(vfs_core::waiter::WRITABLE_EVENTS);
        out
    }

    /// The inode number `fstat` shows.
    pub fn ino(&self) -> u64 {
        match self {
            InetSocket::Tcp(s) => s.ino(),
            InetSocket::Udp(s) => s.ino(),
        }
    }
}

/// The interface `SIOCGIF*` asks about, by the name in its `ifreq`:
/// `ENODEV` for any but `lo`.
fn named_loopback(req: &IfReq) -> Result<(), Errno> {
    let end = req.name.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
    if &req.name[..end] == b"lo" {
        Ok(())
    } else {
        Err(Errno::ENODEV)
    }
}

/// The `ifreq` of `lo` carrying `value`.
fn loopback_ifreq(value: &[u8]) -> IfReq {
    let mut req = IfReq::default();
    req.name[..2].copy_from_slice(b"lo");
    req.value[..value.len()].copy_from_slice(value);
    req
}

fn sockaddr_in(ip: Ipv4Addr) -> Vec<u8> {
    sockaddr_bytes(Family::V4, SocketAddr::new(IpAddr::V4(ip), 0))
}

/// The interface ioctls every socket answers (Linux's `dev_ioctl` and
/// `devinet_ioctl`) about the sandbox's one interface, `lo`; `None` for
/// another command.
pub fn interface_ioctl(
    cmd: u32,
    arg: u64,
    memory: &mut dyn IoctlMemory,
) -> Option<Result<i64, Errno>> {
    is_interface_ioctl(cmd).then(|| interface_ioctl_known(cmd, arg, memory))
}

/// Whether `cmd` is one of the interface ioctls (`SIOCGIF*`) sockets
/// answer.
pub fn is_interface_ioctl(cmd: u32) -> bool {
    matches!(
        cmd,
        SIOCGIFNAME
            | SIOCGIFCONF
            | SIOCGIFFLAGS
            | SIOCGIFADDR
            | SIOCGIFBRDADDR
            | SIOCGIFNETMASK
            | SIOCGIFMETRIC
            | SIOCGIFMTU
            | SIOCGIFHWADDR
            | SIOCGIFINDEX
            | SIOCGIFTXQLEN
    )
}

fn interface_ioctl_known(cmd: u32, arg: u64, memory: &mut dyn IoctlMemory) -> Result<i64, Errno> {
    if cmd == SIOCGIFCONF {
        let mut conf = IfConf::default();
        memory.copy_in(arg, conf.as_mut_bytes())?;
        let entry = loopback_ifreq(&sockaddr_in(Ipv4Addr::LOCALHOST));
        let size = size_of::<IfReq>() as i32;
        if conf.buf == 0 {
            conf.len = size;
        } else {
            conf.len = if conf.len >= size {
                memory.copy_out(conf.buf, entry.as_bytes())?;
                size
            } else {
                0
            };
        }
        memory.copy_out(arg, conf.as_bytes())?;
        return Ok(0);
    }
    let mut req = IfReq::default();
    memory.copy_in(arg, req.as_mut_bytes())?;
    let out = match cmd {
        SIOCGIFNAME => {
            let index =
                i32::from_ne_bytes([req.value[0], req.value[1], req.value[2], req.value[3]]);
            if index != LOOPBACK_INDEX {
                return Err(Errno::ENODEV);
            }
            loopback_ifreq(&req.value[..4])
        }
        _ => {
            named_loopback(&req)?;
            let int = |v: u32| v.to_ne_bytes().to_vec();
            let value = match cmd {
                SIOCGIFFLAGS => {
                    int(IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP)[..2].to_vec()
                }
                SIOCGIFADDR => sockaddr_in(Ipv4Addr::LOCALHOST),
                SIOCGIFNETMASK => sockaddr_in(Ipv4Addr::new(255, 0, 0, 0)),
                // `lo` has no broadcast address: Linux reports the
                // wildcard.
                SIOCGIFBRDADDR => sockaddr_in(Ipv4Addr::UNSPECIFIED),
                SIOCGIFMETRIC => int(0),
                SIOCGIFMTU => int(LOOPBACK_MTU),
                SIOCGIFHWADDR => {
                    let mut hw = ARPHRD_LOOPBACK.to_ne_bytes().to_vec();
                    hw.resize(16, 0);
                    hw
                }
                SIOCGIFINDEX => int(LOOPBACK_INDEX as u32),
                SIOCGIFTXQLEN => int(1000),
                _ => return Err(Errno::ENOTTY),
            };
            loopback_ifreq(&value)
        }
    };
    memory.copy_out(arg, out.as_bytes())?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_in_both_families() {
        let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 8080);
        let bytes = sockaddr_bytes(Family::V4, v4);
        assert_eq!(parse_sockaddr(Family::V4, &bytes), Ok(Target::Addr(v4)));
        // Seen from an AF_INET6 socket the same address is mapped, and
        // parses back to its canonical IPv4 form.
        let mapped = sockaddr_bytes(Family::V6, v4);
        assert_eq!(mapped.len(), 28);
        assert_eq!(parse_sockaddr(Family::V6, &mapped), Ok(Target::Addr(v4)));
        assert_eq!(parse_sockaddr(Family::V4, &bytes[..15]), Err(Errno::EINVAL));
        assert_eq!(
            parse_sockaddr(Family::V4, &mapped),
            Err(Errno::EAFNOSUPPORT)
        );
        assert_eq!(
            parse_sockaddr(Family::V6, &mapped[..23]),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn only_loopback_routes() {
        let to = |ip: IpAddr| SocketAddr::new(ip, 1);
        assert_eq!(
            route(Family::V4, false, to(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
            Ok(to(IpAddr::V4(Ipv4Addr::LOCALHOST)))
        );
        assert_eq!(
            route(
                Family::V4,
                false,
                to(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
            ),
            Err(Errno::ENETUNREACH)
        );
        assert_eq!(
            route(Family::V6, true, to(IpAddr::V4(Ipv4Addr::LOCALHOST))),
            Err(Errno::ENETUNREACH)
        );
    }

    #[test]
    fn arbitrary_sockaddr_bytes_parse_or_fail_cleanly() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..64usize {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        seed as u8
                    })
                    .collect();
                for family in [Family::V4, Family::V6] {
                    if let Ok(Target::Addr(a)) = parse_sockaddr(family, &bytes) {
                        // What parses reports back in the same family.
                        let back = sockaddr_bytes(family, a);
                        assert_eq!(parse_sockaddr(family, &back), Ok(Target::Addr(a)));
                    }
                }
            }
        }
    }
}
