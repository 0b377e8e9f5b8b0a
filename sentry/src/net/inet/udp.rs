//! UDP over the loopback interface (Linux's `net/ipv4/udp.c` as a program
//! sees it): a send appends one datagram, with its source address, to the
//! receive queue of the socket bound to the destination.
//!
//! ICMP echo sockets (Linux's `net/ipv4/ping.c`: `SOCK_DGRAM` with
//! `IPPROTO_ICMP` or `IPPROTO_ICMPV6`, for `ping` without privileges) are
//! the same sockets with [`Proto::Icmp`]: their "port" is the echo
//! identifier, a send must be an echo request, and `lo` answers it at
//! once with the echo reply, queued to the sender.
//!
//! A datagram nobody is bound to receive is dropped; a connected sender
//! then learns of it as Linux's ICMP port-unreachable tells it: its next
//! call fails with `ECONNREFUSED`. A receiver whose queue holds
//! `SO_RCVBUF` bytes drops what arrives, as Linux does.
//!
//! # Lock order
//!
//! A socket's state lock is never held while another socket's or the port
//! table's is taken. Waiters are notified with no lock held.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::Errno;
use abi_linux::inet::{ICMP_ECHO, ICMP_ECHOREPLY, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST};
use abi_linux::socket::{SO_REUSEADDR, SO_REUSEPORT, SOL_SOCKET};
use vfs_core::io::IoDest;
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};

use super::{
    BindRequest, Family, InetStack, PortTable, Settings, check_bind_addr, route, source_for,
};

/// `SO_SNDBUF` and `SO_RCVBUF` of a new socket (`net.core.wmem_default`).
pub const DEFAULT_BUFFER: usize = 212_992;
/// The largest IPv4 UDP payload (65535 less the IP and UDP headers).
pub const MAX_PAYLOAD_V4: usize = 65507;
/// The largest IPv6 UDP payload (65535 less the UDP header).
pub const MAX_PAYLOAD_V6: usize = 65527;

/// What a datagram socket carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// UDP.
    Udp,
    /// ICMP echo (`ping` sockets).
    Icmp,
}

struct Datagram {
    data: Vec<u8>,
    from: SocketAddr,
    /// The address it was sent to (for `IP_PKTINFO`).
    to: SocketAddr,
}

struct State {
    local: Option<SocketAddr>,
    /// The address `bind` gave (the wildcard when bound by a send or
    /// connect); `connect` fills in a wildcard and a disconnect restores it.
    bound_ip: Option<IpAddr>,
    /// The port was bound by a send or connect, not by `bind`.
    autobound: bool,
    remote: Option<SocketAddr>,
    recv: VecDeque<Datagram>,
    recv_bytes: usize,
    rd_shut: bool,
    wr_shut: bool,
    error: Option<Errno>,
    settings: Settings,
    closed: bool,
}

/// What a receive returned.
pub struct Received {
    /// The bytes copied.
    pub len: usize,
    /// The datagram's full length (for `MSG_TRUNC`).
    pub full_len: usize,
    /// The sender's address (`None` for the end-of-file of a socket shut
    /// for reading).
    pub from: Option<SocketAddr>,
    /// The address the datagram was sent to.
    pub to: Option<SocketAddr>,
}

/// A UDP socket.
pub struct UdpSocket {
    family: Family,
    proto: Proto,
    ino: u64,
    uid: u32,
    stack: Arc<InetStack>,
    state: Mutex<State>,
    waiters: WaiterQueue,
    _registration: refs::Registration,
}

impl UdpSocket {
    /// A new socket of `family` carrying `proto`.
    pub fn new(
        family: Family,
        proto: Proto,
        ino: u64,
        uid: u32,
        stack: Arc<InetStack>,
    ) -> Arc<UdpSocket> {
        Arc::new_cyclic(|weak| UdpSocket {
            proto,
            _registration: refs::Registration::new_cyclic(weak, "net::UdpSocket"),
            family,
            ino,
            uid,
            stack,
            state: Mutex::new(State {
                local: None,
                bound_ip: None,
                autobound: false,
                remote: None,
                recv: VecDeque::new(),
                recv_bytes: 0,
                rd_shut: false,
                wr_shut: false,
                error: None,
                settings: Settings::new(DEFAULT_BUFFER, DEFAULT_BUFFER),
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

    /// What the socket carries.
    pub fn proto(&self) -> Proto {
        self.proto
    }

    /// The table of this socket's ports (or echo identifiers).
    fn table(&self) -> MutexGuard<'_, PortTable<UdpSocket>> {
        match self.proto {
            Proto::Udp => self.stack.udp(),
            Proto::Icmp => self.stack.icmp(),
        }
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

    /// `getpeername`; `ENOTCONN` unless connected.
    pub fn peer_addr(&self) -> Result<SocketAddr, Errno> {
        self.state().remote.ok_or(Errno::ENOTCONN)
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

    /// `bind` to `addr` (canonical; port 0 for an ephemeral one).
    ///
    /// Errors: `EINVAL` if bound already; `EACCES` for a privileged port
    /// without `privileged`; `EADDRNOTAVAIL`, `EADDRINUSE`.
    pub fn bind(self: &Arc<Self>, addr: SocketAddr, privileged: bool) -> Result<(), Errno> {
        self.bind_as(addr, privileged, false)
    }

    fn bind_as(
        self: &Arc<Self>,
        addr: SocketAddr,
        privileged: bool,
        auto: bool,
    ) -> Result<(), Errno> {
        let req = {
            let st = self.state();
            if st.local.is_some() {
                return Err(Errno::EINVAL);
            }
            check_bind_addr(self.family, st.settings.v6only, addr.ip())?;
            BindRequest {
                addr,
                dual: self.family == Family::V6
                    && !st.settings.v6only
                    && addr.ip().is_unspecified(),
                reuseaddr: st.settings.options.flag(SOL_SOCKET, SO_REUSEADDR),
                reuseport: st.settings.options.flag(SOL_SOCKET, SO_REUSEPORT),
                uid: self.uid,
            }
        };
        if self.proto == Proto::Udp
            && addr.port() != 0
            && addr.port() < abi_linux::inet::IP_UNPRIVILEGED_PORT_START
            && !privileged
        {
            return Err(Errno::EACCES);
        }
        let port = self.table().bind(self, req)?;
        let mut st = self.state();
        if st.local.is_some() {
            drop(st);
            self.table().unbind(self, port, None);
            return Err(Errno::EINVAL);
        }
        st.local = Some(SocketAddr::new(addr.ip(), port));
        st.bound_ip = Some(addr.ip());
        st.autobound = auto;
        Ok(())
    }

    /// The local address, binding an ephemeral port first if unbound.
    fn ensure_bound(self: &Arc<Self>) -> Result<SocketAddr, Errno> {
        if let Some(local) = self.state().local {
            return Ok(local);
        }
        match self.bind_as(SocketAddr::new(self.family.any(), 0), true, true) {
            Ok(()) | Err(Errno::EINVAL) => Ok(self.local_addr()),
            Err(e) => Err(e),
        }
    }

    /// `connect`: sets the default destination (and the only source
    /// accepted), binding first if needed. `None` dissolves it.
    pub fn connect(self: &Arc<Self>, dst: Option<SocketAddr>) -> Result<(), Errno> {
        let Some(dst) = dst else {
            let release = {
                let mut st = self.state();
                st.remote = None;
                if let (Some(local), Some(ip)) = (st.local, st.bound_ip) {
                    st.local = Some(SocketAddr::new(ip, local.port()));
                }
                if st.autobound {
                    st.autobound = false;
                    st.bound_ip = None;
                    st.local.take()
                } else {
                    None
                }
            };
            if let Some(local) = release {
                self.table().unbind(self, local.port(), None);
            }
            return Ok(());
        };
        let v6only = self.state().settings.v6only;
        let dst = route(self.family, v6only, dst)?;
        let local = self.ensure_bound()?;
        let mut st = self.state();
        // Linux's `ip4_datagram_connect` fixes the source address.
        st.local = Some(SocketAddr::new(
            source_for(local.ip(), dst.ip()),
            local.port(),
        ));
        st.remote = Some(dst);
        Ok(())
    }

    /// `shutdown`: the flags are set either way; `ENOTCONN` when not
    /// connected, as Linux's `inet_shutdown` reports for a `CLOSE` socket.
    pub fn shutdown(&self, rd: bool, wr: bool) -> Result<(), Errno> {
        let connected = {
            let mut st = self.state();
            st.rd_shut |= rd;
            st.wr_shut |= wr;
            st.remote.is_some()
        };
        self.waiters
            .notify(READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP | EventMask::RDHUP);
        if connected {
            Ok(())
        } else {
            Err(Errno::ENOTCONN)
        }
    }

    /// Sends one datagram of `data` to `to` or the connected peer.
    ///
    /// Errors: `EDESTADDRREQ` without a destination, `EINVAL` for port
    /// 0, `EMSGSIZE`, `ENETUNREACH` off `lo` (broadcast included: `lo`
    /// has no broadcast route), then a pending error (`ECONNREFUSED`) or
    /// `EPIPE` after `SHUT_WR`.
    pub fn send(self: &Arc<Self>, data: &[u8], to: Option<SocketAddr>) -> Result<usize, Errno> {
        if self.proto == Proto::Icmp {
            return self.send_echo(data, to);
        }
        // Linux's order: the address, the size, the route; then the
        // pending error and the shutdown when the buffer is taken.
        let (dst, v6only, connected) = {
            let st = self.state();
            let dst = to.or(st.remote).ok_or(Errno::EDESTADDRREQ)?;
            (dst, st.settings.v6only, st.remote.is_some())
        };
        if dst.port() == 0 {
            return Err(Errno::EINVAL);
        }
        let limit = if dst.is_ipv4() {
            MAX_PAYLOAD_V4
        } else {
            MAX_PAYLOAD_V6
        };
        if data.len() > limit {
            return Err(Errno::EMSGSIZE);
        }
        let dst = route(self.family, v6only, dst)?;
        {
            let mut st = self.state();
            if let Some(e) = st.error.take() {
                return Err(e);
            }
            if st.wr_shut {
                return Err(Errno::EPIPE);
            }
        }
        let local = self.ensure_bound()?;
        let from = SocketAddr::new(source_for(local.ip(), dst.ip()), local.port());
        let hash = self.stack.next_hash();
        let receiver = self.table().lookup(dst, hash, |s| s.accepts_from(from));
        match receiver {
            Some(r) => r.deliver(data, from, dst),
            None if connected && to.is_none() => {
                // Port unreachable: a connected sender hears of it.
                self.state().error = Some(Errno::ECONNREFUSED);
                self.waiters.notify(EventMask::ERR);
            }
            None => {}
        }
        Ok(data.len())
    }

    /// Sends the echo request `data` to `to` or the connected peer: `lo`
    /// answers, and the reply (the same message as an echo reply, with
    /// this socket's identifier) is queued for the socket bound to that
    /// identifier: this one.
    ///
    /// Errors: `EDESTADDRREQ`, `EINVAL` for a message that is not an echo
    /// request (or an IPv4 address on an `AF_INET6` socket), `EMSGSIZE`,
    /// `ENETUNREACH` off `lo`, a pending error.
    fn send_echo(self: &Arc<Self>, data: &[u8], to: Option<SocketAddr>) -> Result<usize, Errno> {
        let dst = {
            let st = self.state();
            to.or(st.remote).ok_or(Errno::EDESTADDRREQ)?
        };
        let (request, reply_type) = match self.family {
            Family::V4 => (ICMP_ECHO, ICMP_ECHOREPLY),
            Family::V6 => (ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY),
        };
        if data.len() < 8 || data[0] != request || data[1] != 0 {
            return Err(Errno::EINVAL);
        }
        if self.family == Family::V6 && dst.is_ipv4() {
            return Err(Errno::EINVAL);
        }
        if data.len() > MAX_PAYLOAD_V4 {
            return Err(Errno::EMSGSIZE);
        }
        let dst = route(self.family, true, SocketAddr::new(dst.ip(), 0))?;
        if let Some(e) = self.state().error.take() {
            return Err(e);
        }
        let local = self.ensure_bound()?;
        let src = source_for(local.ip(), dst.ip());
        let mut reply = data.to_vec();
        reply[0] = reply_type;
        reply[2..4].copy_from_slice(&[0, 0]);
        reply[4..6].copy_from_slice(&local.port().to_be_bytes());
        let sum = match (dst.ip(), src) {
            (IpAddr::V6(from), IpAddr::V6(to)) => {
                let mut pseudo = Vec::with_capacity(40 + reply.len());
                pseudo.extend_from_slice(&from.octets());
                pseudo.extend_from_slice(&to.octets());
                pseudo.extend_from_slice(&(reply.len() as u32).to_be_bytes());
                pseudo.extend_from_slice(&[0, 0, 0, abi_linux::inet::IPPROTO_ICMPV6 as u8]);
                pseudo.extend_from_slice(&reply);
                internet_checksum(&pseudo)
            }
            _ => internet_checksum(&reply),
        };
        reply[2..4].copy_from_slice(&sum.to_be_bytes());
        let from = SocketAddr::new(dst.ip(), 0);
        let me = SocketAddr::new(src, local.port());
        let hash = self.stack.next_hash();
        let receiver = self.table().lookup(me, hash, |s| s.accepts_from(from));
        if let Some(r) = receiver {
            r.deliver(&reply, from, me);
        }
        Ok(data.len())
    }

    fn accepts_from(&self, from: SocketAddr) -> bool {
        let st = self.state();
        // An echo socket's peer is an address; its replies have no port.
        let icmp = self.proto == Proto::Icmp;
        !st.closed
            && st
                .remote
                .is_none_or(|r| r.ip() == from.ip() && (icmp || r.port() == from.port()))
    }

    fn deliver(&self, data: &[u8], from: SocketAddr, to: SocketAddr) {
        {
            let mut st = self.state();
            // Linux's `__udp_enqueue_schedule_skb`: a queue already over
            // the receive buffer drops the datagram.
            if st.recv_bytes > 0 && st.recv_bytes + data.len() > st.settings.rcvbuf {
                return;
            }
            st.recv_bytes += data.len();
            st.recv.push_back(Datagram {
                data: data.to_vec(),
                from,
                to,
            });
        }
        self.waiters.notify(READABLE_EVENTS);
    }

    /// Receives one datagram into `dst`, truncated to fit; with `peek` it
    /// stays queued.
    ///
    /// Errors: `EAGAIN` with nothing queued (the caller waits on this
    /// socket's waiters); a pending error.
    pub fn recv(&self, dst: &mut dyn IoDest, peek: bool) -> Result<Received, Errno> {
        let mut st = self.state();
        let Some(front) = st.recv.front() else {
            if let Some(e) = st.error.take() {
                return Err(e);
            }
            if st.rd_shut {
                return Ok(Received {
                    len: 0,
                    full_len: 0,
                    from: None,
                    to: None,
                });
            }
            return Err(Errno::EAGAIN);
        };
        let n = dst.remaining().min(front.data.len());
        let len = vfs_core::io::copy_out(dst, &front.data[..n])?;
        let got = Received {
            len,
            full_len: front.data.len(),
            from: Some(front.from),
            to: Some(front.to),
        };
        if !peek {
            st.recv.pop_front();
            st.recv_bytes -= got.full_len;
        }
        Ok(got)
    }

    /// What `/proc/net/udp` shows of the socket; `None` for an echo
    /// socket or once closed.
    pub fn proc_entry(&self) -> Option<super::procnet::Entry> {
        let st = self.state();
        if st.closed || self.proto != Proto::Udp {
            return None;
        }
        let any = SocketAddr::new(self.family.any(), 0);
        Some(super::procnet::Entry {
            local: st.local.unwrap_or(any),
            remote: st.remote.unwrap_or(any),
            state: if st.remote.is_some() {
                abi_linux::inet::tcp_state::ESTABLISHED
            } else {
                abi_linux::inet::tcp_state::CLOSE
            },
            tx_queue: 0,
            rx_queue: st.recv_bytes,
            uid: self.uid,
            ino: self.ino,
        })
    }

    /// The length of the next datagram (`SIOCINQ`).
    pub fn next_datagram_len(&self) -> usize {
        self.state().recv.front().map_or(0, |d| d.data.len())
    }

    /// The readiness Linux's `udp_poll` reports.
    pub fn readiness(&self, mask: EventMask) -> EventMask {
        let st = self.state();
        let mut ready = WRITABLE_EVENTS | EventMask::WRBAND;
        if !st.recv.is_empty() {
            ready |= READABLE_EVENTS;
        }
        if st.error.is_some() {
            ready |= EventMask::ERR;
        }
        if st.rd_shut {
            ready |= READABLE_EVENTS | EventMask::RDHUP;
        }
        if st.rd_shut && st.wr_shut {
            ready |= EventMask::HUP;
        }
        ready & mask
    }

    /// Releases the port as the last description goes.
    pub fn close(&self) {
        let local = {
            let mut st = self.state();
            st.closed = true;
            st.recv.clear();
            st.recv_bytes = 0;
            st.local.take()
        };
        if let Some(local) = local {
            self.table().unbind(self, local.port(), None);
        }
    }
}

impl refs::CheckedObject for UdpSocket {
    fn ref_type(&self) -> &'static str {
        "net::UdpSocket"
    }

    fn leak_message(&self) -> String {
        format!(
            "[net::UdpSocket] inode {} at {}",
            self.ino,
            self.local_addr()
        )
    }
}

/// The Internet checksum (RFC 1071) of `data`.
fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .fold(0u32, |a, b| a.wrapping_add(b));
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
