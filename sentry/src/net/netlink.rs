//! `AF_NETLINK` sockets of the route family (gVisor's `socket/netlink`
//! and `netlink/route`, Linux's `rtnetlink`), read-only: enough for `ip
//! addr`, `ip link`, `ip route`, glibc's `getifaddrs` and
//! `if_nameindex`. Requests are answered as Linux answers them for a
//! network namespace whose only interface is `lo` (up, with 127.0.0.1/8
//! and ::1/128, and the kernel's local routes for them). Changes
//! (`RTM_NEW*`, `RTM_DEL*`, `RTM_SET*`) are refused with `EPERM`, as in
//! a namespace whose network the caller does not administer; nothing is
//! ever multicast, so group subscriptions are kept and stay silent.
//!
//! Each request's answer is queued as one datagram; a dump ends with
//! `NLMSG_DONE`.
//!
//! With `--network=host` ([`HostRoute`]) the read-only requests (gets
//! and dumps of links, addresses, routes, neighbours, rules and netconf)
//! go to the host's route netlink instead, and its answers come back
//! datagram by datagram with the sandbox's port in them; changes are
//! still refused.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::Errno;
use abi_linux::inet::{ARPHRD_LOOPBACK, IFF_LOOPBACK, IFF_LOWER_UP, IFF_RUNNING, IFF_UP};
use abi_linux::netlink::{
    IFA_ADDRESS, IFA_CACHEINFO, IFA_F_PERMANENT, IFA_FLAGS, IFA_LABEL, IFA_LOCAL, IFLA_ADDRESS,
    IFLA_BROADCAST, IFLA_CARRIER, IFLA_GROUP, IFLA_IFNAME, IFLA_LINKMODE, IFLA_MAX_MTU,
    IFLA_MIN_MTU, IFLA_MTU, IFLA_NUM_RX_QUEUES, IFLA_NUM_TX_QUEUES, IFLA_OPERSTATE,
    IFLA_PROMISCUITY, IFLA_QDISC, IFLA_STATS, IFLA_STATS64, IFLA_TXQLEN, IfAddrMsg, IfInfoMsg,
    NETLINK_CAP_ACK, NLM_F_ACK, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE,
    NLMSG_ERROR, NLMSG_NOOP, NlMsgHdr, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE,
    RT_TABLE_LOCAL, RTA_DST, RTA_OIF, RTA_PREF, RTA_PREFSRC, RTA_PRIORITY, RTA_TABLE, RTM_GETADDR,
    RTM_GETLINK, RTM_GETNEIGH, RTM_GETNETCONF, RTM_GETROUTE, RTM_GETRULE, RTM_NEWADDR, RTM_NEWLINK,
    RTM_NEWROUTE, RTN_BROADCAST, RTN_LOCAL, RTPROT_KERNEL, RtAttr, RtMsg, SOL_NETLINK, SockaddrNl,
    nlmsg_align,
};
use abi_linux::socket::{AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNSPEC};
use vfs_core::io::IoDest;
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};
use zerocopy::{FromBytes, IntoBytes};

use super::inet::{LOOPBACK_INDEX, LOOPBACK_MTU, Options};

/// `SO_SNDBUF` and `SO_RCVBUF` of a new socket.
pub const DEFAULT_BUFFER: usize = 212_992;
/// The length of the longest run of whole messages at the start of
/// `datagram` that fits in `room` bytes; `None` when not even the first
/// does.
fn whole_messages_within(datagram: &[u8], room: usize) -> Option<usize> {
    let mut end = 0usize;
    while let Ok((hdr, _)) = NlMsgHdr::read_from_prefix(&datagram[end..]) {
        let len = hdr.len as usize;
        if len < size_of::<NlMsgHdr>() {
            break;
        }
        let next = (end + nlmsg_align(len)).min(datagram.len());
        if end + len > room || next > datagram.len() {
            break;
        }
        end = next;
        if end >= datagram.len() {
            break;
        }
    }
    (end > 0).then_some(end)
}

/// The most bytes of answers a socket queues before further requests
/// fail with `ENOBUFS` (bounds what a looping requester can make the
/// sentry hold).
const MAX_QUEUED: usize = 1 << 20;
/// The most bytes one request may carry.
pub const MAX_REQUEST: usize = 65536;

struct State {
    /// The bound port ID (0 until bound).
    port: u32,
    groups: u32,
    recv: VecDeque<Vec<u8>>,
    recv_bytes: usize,
    sndbuf: usize,
    rcvbuf: usize,
    options: Options,
}

/// A `NETLINK_ROUTE` socket.
pub struct NetlinkSocket {
    ino: u64,
    ports: Arc<NetlinkPorts>,
    host: Option<HostRoute>,
    state: Mutex<State>,
    waiters: WaiterQueue,
    _registration: refs::Registration,
}

/// The port IDs in use, one per bound socket (Linux's `nl_table`).
#[derive(Default)]
pub struct NetlinkPorts {
    used: Mutex<std::collections::HashSet<u32>>,
    next: Mutex<u32>,
}

impl NetlinkPorts {
    fn used(&self) -> MutexGuard<'_, std::collections::HashSet<u32>> {
        self.used.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims `want`, or (for 0) the process ID if free, else a fresh
    /// negative-looking ID as Linux's autobind picks one.
    fn claim(&self, want: u32, tgid: u32) -> Result<u32, Errno> {
        let mut used = self.used();
        if want != 0 {
            if !used.insert(want) {
                return Err(Errno::EADDRINUSE);
            }
            return Ok(want);
        }
        if tgid != 0 && used.insert(tgid) {
            return Ok(tgid);
        }
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            *next = next.wrapping_add(1);
            let id = 0x8000_0000u32 | (*next & 0x7fff_ffff);
            if used.insert(id) {
                return Ok(id);
            }
        }
    }

    fn release(&self, port: u32) {
        self.used().remove(&port);
    }
}

impl NetlinkSocket {
    /// A new socket; with `host`, read-only requests go to the host.
    pub fn new(ino: u64, ports: Arc<NetlinkPorts>, host: Option<HostRoute>) -> Arc<NetlinkSocket> {
        Arc::new_cyclic(|weak| NetlinkSocket {
            _registration: refs::Registration::new_cyclic(weak, "net::NetlinkSocket"),
            ino,
            ports,
            host,
            state: Mutex::new(State {
                port: 0,
                groups: 0,
                recv: VecDeque::new(),
                recv_bytes: 0,
                sndbuf: DEFAULT_BUFFER,
                rcvbuf: DEFAULT_BUFFER,
                options: Options::default(),
            }),
            waiters: WaiterQueue::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The inode number `fstat` shows.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The queue whose waiters learn of this socket's readiness.
    pub fn waiters(&self) -> &WaiterQueue {
        &self.waiters
    }

    /// Runs `f` on the options.
    pub fn with_options<T>(&self, f: impl FnOnce(&mut Options) -> T) -> T {
        f(&mut self.state().options)
    }

    /// `SO_SNDBUF` and `SO_RCVBUF`.
    pub fn buffers(&self) -> (usize, usize) {
        let st = self.state();
        (st.sndbuf, st.rcvbuf)
    }

    /// Sets `SO_SNDBUF` (`send`) or `SO_RCVBUF` (doubled and clamped by
    /// the caller).
    pub fn set_buffer(&self, send: bool, value: usize) {
        let mut st = self.state();
        if send {
            st.sndbuf = value;
        } else {
            st.rcvbuf = value;
        }
    }

    /// Parses a `sockaddr_nl`: `EINVAL` if short or of another family.
    pub fn parse_addr(bytes: &[u8]) -> Result<SockaddrNl, Errno> {
        let (addr, _) = SockaddrNl::read_from_prefix(bytes).map_err(|_| Errno::EINVAL)?;
        if i32::from(addr.family) != AF_NETLINK {
            return Err(Errno::EINVAL);
        }
        Ok(addr)
    }

    /// `bind`: takes port `addr.pid` (0: autobind) and subscribes to
    /// `addr.groups`. Binding again to the same port only changes groups;
    /// to another, `EINVAL`.
    pub fn bind(&self, addr: SockaddrNl, tgid: u32) -> Result<(), Errno> {
        let mut st = self.state();
        if st.port != 0 {
            if addr.pid != 0 && addr.pid != st.port {
                return Err(Errno::EINVAL);
            }
        } else {
            st.port = self.ports.claim(addr.pid, tgid)?;
        }
        st.groups = addr.groups;
        Ok(())
    }

    /// The bound port, binding one first (a send or `getsockname` of an
    /// unbound socket autobinds).
    pub fn port(&self, tgid: u32) -> Result<u32, Errno> {
        let mut st = self.state();
        if st.port == 0 {
            st.port = self.ports.claim(0, tgid)?;
        }
        Ok(st.port)
    }

    /// `getsockname`'s address.
    pub fn local_addr(&self) -> SockaddrNl {
        let st = self.state();
        SockaddrNl {
            family: AF_NETLINK as u16,
            pad: 0,
            pid: st.port,
            groups: st.groups,
        }
    }

    /// Handles the requests in `data` (one or more messages), queueing the
    /// answers. Returns the bytes consumed (all of `data`).
    ///
    /// Errors: `ENOBUFS` when too many answers are queued unread.
    pub fn send(&self, tgid: u32, data: &[u8]) -> Result<usize, Errno> {
        let port = self.port(tgid)?;
        let capped = self.with_options(|o| o.flag(SOL_NETLINK, NETLINK_CAP_ACK));
        let mut at = 0usize;
        let mut answers = Vec::new();
        while data.len() - at >= size_of::<NlMsgHdr>() {
            let (hdr, _) = NlMsgHdr::read_from_prefix(&data[at..]).map_err(|_| Errno::EINVAL)?;
            let len = hdr.len as usize;
            if len < size_of::<NlMsgHdr>() || len > data.len() - at {
                break;
            }
            let msg = &data[at..at + len];
            if let Some(host) = &self.host
                && hdr.flags & NLM_F_REQUEST != 0
                && HOST_READS.contains(&hdr.kind)
            {
                answers.extend(host.ask(msg, &hdr, port)?);
            } else if hdr.flags & NLM_F_REQUEST != 0 {
                answers.push(answer(
                    &hdr,
                    &msg[size_of::<NlMsgHdr>()..],
                    msg,
                    port,
                    capped,
                ));
            }
            at += nlmsg_align(len).min(data.len() - at);
        }
        {
            let mut st = self.state();
            for a in answers.into_iter().filter(|a| !a.is_empty()) {
                if st.recv_bytes + a.len() > MAX_QUEUED {
                    return Err(Errno::ENOBUFS);
                }
                st.recv_bytes += a.len();
                st.recv.push_back(a);
            }
        }
        self.waiters.notify(READABLE_EVENTS);
        Ok(data.len())
    }

    /// Receives the next answer into `dst`, truncated to fit; with `peek`
    /// it stays queued. Returns (bytes copied, full length).
    ///
    /// Errors: `EAGAIN` with nothing queued.
    ///
    /// An answer of several messages larger than `dst` gives the messages
    /// that fit and keeps the rest queued, as Linux sizes a dump's
    /// datagrams to the reader's buffer (a host's dump comes in datagrams
    /// sized for the sentry's).
    pub fn recv(&self, dst: &mut dyn IoDest, peek: bool) -> Result<(usize, usize), Errno> {
        let mut st = self.state();
        let Some(front) = st.recv.front() else {
            return Err(Errno::EAGAIN);
        };
        let room = dst.remaining();
        let full = if front.len() > room {
            whole_messages_within(front, room).unwrap_or(front.len())
        } else {
            front.len()
        };
        let n = room.min(full);
        let copied = vfs_core::io::copy_out(dst, &front[..n])?;
        if !peek {
            if full < front.len() {
                if let Some(front) = st.recv.front_mut() {
                    front.drain(..full);
                }
            } else {
                st.recv.pop_front();
            }
            st.recv_bytes -= full;
        }
        Ok((copied, full))
    }

    /// The length of the next answer (`SIOCINQ`).
    pub fn next_len(&self) -> usize {
        self.state().recv.front().map_or(0, Vec::len)
    }

    /// Readable with an answer queued; always writable.
    pub fn readiness(&self, mask: EventMask) -> EventMask {
        let mut ready = WRITABLE_EVENTS;
        if !self.state().recv.is_empty() {
            ready |= READABLE_EVENTS;
        }
        ready & mask
    }

    /// Releases the port as the last description goes.
    pub fn close(&self) {
        let port = {
            let mut st = self.state();
            st.recv.clear();
            std::mem::take(&mut st.port)
        };
        if port != 0 {
            self.ports.release(port);
        }
    }
}

impl refs::CheckedObject for NetlinkSocket {
    fn ref_type(&self) -> &'static str {
        "net::NetlinkSocket"
    }

    fn leak_message(&self) -> String {
        format!("[net::NetlinkSocket] inode {}", self.ino)
    }
}

/// The request types `--network=host` passes to the host: gets and dumps
/// only.
const HOST_READS: [u16; 6] = [
    RTM_GETLINK,
    RTM_GETADDR,
    RTM_GETROUTE,
    RTM_GETNEIGH,
    RTM_GETRULE,
    RTM_GETNETCONF,
];

/// A host `NETLINK_ROUTE` socket of the sentry's own, for the read-only
/// requests of a sandbox on the host's network.
pub struct HostRoute {
    fd: std::os::fd::OwnedFd,
}

impl HostRoute {
    /// Opens one; its receives time out after two seconds, so a request
    /// the host never answers cannot hold the caller forever.
    pub fn open() -> Result<HostRoute, Errno> {
        use std::os::fd::FromRawFd;
        // SAFETY: plain integer arguments; a new descriptor or -1.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(crate::kernel::last_host_errno());
        }
        // SAFETY: `fd` was just returned by the host and nothing else owns it.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        let timeout = libc::timeval {
            tv_sec: 2,
            tv_usec: 0,
        };
        // SAFETY: `timeout` is a live `timeval` of the size given.
        unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                size_of::<libc::timeval>() as u32,
            )
        };
        Ok(HostRoute { fd })
    }

    /// Sends request `msg` (header `hdr`) to the host and returns its
    /// answer's datagrams, each message's port rewritten to `port`: up to
    /// `NLMSG_DONE` or `NLMSG_ERROR` for the request, or the one reply of
    /// a get; at most [`MAX_QUEUED`] bytes.
    fn ask(&self, msg: &[u8], hdr: &NlMsgHdr, port: u32) -> Result<Vec<Vec<u8>>, Errno> {
        use std::os::fd::AsRawFd;
        let fd = self.fd.as_raw_fd();
        let kernel = SockaddrNl {
            family: AF_NETLINK as u16,
            ..SockaddrNl::default()
        };
        // SAFETY: `msg` and `kernel` are live for the lengths given.
        let sent = unsafe {
            libc::sendto(
                fd,
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&raw const kernel).cast(),
                size_of::<SockaddrNl>() as u32,
            )
        };
        if sent < 0 {
            return Err(crate::kernel::last_host_errno());
        }
        let waits_for_end = hdr.flags & (NLM_F_DUMP | NLM_F_ACK) != 0;
        let mut out = Vec::new();
        let mut total = 0usize;
        let mut buf = vec![0u8; 64 << 10];
        loop {
            // SAFETY: `buf` has `len` writable bytes.
            let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                // A timeout or error ends the answer with what came.
                break;
            }
            let mut datagram = buf[..n as usize].to_vec();
            let mut at = 0;
            let mut ended = !waits_for_end;
            while datagram.len() - at >= size_of::<NlMsgHdr>() {
                let Ok((mut m, _)) = NlMsgHdr::read_from_prefix(&datagram[at..]) else {
                    break;
                };
                let len = m.len as usize;
                if len < size_of::<NlMsgHdr>() || len > datagram.len() - at {
                    break;
                }
                if m.seq == hdr.seq && (m.kind == NLMSG_DONE || m.kind == NLMSG_ERROR) {
                    ended = true;
                }
                m.pid = port;
                datagram[at..at + size_of::<NlMsgHdr>()].copy_from_slice(m.as_bytes());
                at += nlmsg_align(len).min(datagram.len() - at);
            }
            total += datagram.len();
            if total > MAX_QUEUED {
                return Err(Errno::ENOBUFS);
            }
            out.push(datagram);
            if ended {
                break;
            }
        }
        Ok(out)
    }
}

/// Builds netlink messages for one answer.
struct Writer<'a> {
    out: Vec<u8>,
    req: &'a NlMsgHdr,
    port: u32,
}

impl Writer<'_> {
    /// Starts a message of `kind` with fixed header `body`; returns its
    /// offset for [`Writer::end`].
    fn begin(&mut self, kind: u16, flags: u16, body: &[u8]) -> usize {
        let start = self.out.len();
        let hdr = NlMsgHdr {
            len: 0,
            kind,
            flags,
            seq: self.req.seq,
            pid: self.port,
        };
        self.out.extend_from_slice(hdr.as_bytes());
        self.out.extend_from_slice(body);
        self.pad();
        start
    }

    fn attr(&mut self, kind: u16, data: &[u8]) {
        let hdr = RtAttr {
            len: (size_of::<RtAttr>() + data.len()) as u16,
            kind,
        };
        self.out.extend_from_slice(hdr.as_bytes());
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        let len = nlmsg_align(self.out.len());
        self.out.resize(len, 0);
    }

    fn end(&mut self, start: usize) {
        let len = (self.out.len() - start) as u32;
        self.out[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    }

    /// An `NLMSG_ERROR` for `errno` (0: an acknowledgement) carrying the
    /// request (its header alone for an acknowledgement or when capped).
    fn error(&mut self, errno: i32, request: &[u8], capped: bool) {
        let whole = errno != 0 && !capped;
        let flags = if whole { 0 } else { NLM_F_CAPPED };
        let start = self.begin(NLMSG_ERROR, flags, &(-errno).to_ne_bytes());
        let echoed = if whole {
            request
        } else {
            &request[..size_of::<NlMsgHdr>()]
        };
        self.out.extend_from_slice(echoed);
        self.pad();
        self.end(start);
    }
}

/// The answer to one request: a dump's messages and `NLMSG_DONE`, one
/// object, or an error; an acknowledgement follows when asked for.
fn answer(hdr: &NlMsgHdr, body: &[u8], request: &[u8], port: u32, capped: bool) -> Vec<u8> {
    let mut w = Writer {
        out: Vec::new(),
        req: hdr,
        port,
    };
    let family = body.first().map_or(AF_UNSPEC, |&f| i32::from(f));
    let dump = hdr.flags & NLM_F_DUMP == NLM_F_DUMP;
    let result: Result<(), Errno> = match hdr.kind {
        NLMSG_NOOP => Ok(()),
        RTM_GETLINK if dump => {
            if family == AF_UNSPEC || family == AF_PACKET {
                link(&mut w, NLM_F_MULTI);
            }
            done(&mut w);
            Ok(())
        }
        RTM_GETLINK => get_link(body).map(|()| link(&mut w, 0)),
        RTM_GETADDR if dump => {
            if family == AF_UNSPEC || family == AF_INET {
                address(&mut w, IpAddr::V4(Ipv4Addr::LOCALHOST), 8);
            }
            if family == AF_UNSPEC || family == AF_INET6 {
                address(&mut w, IpAddr::V6(Ipv6Addr::LOCALHOST), 128);
            }
            done(&mut w);
            Ok(())
        }
        RTM_GETROUTE if dump => {
            if family == AF_UNSPEC || family == AF_INET {
                let lo = Ipv4Addr::LOCALHOST;
                route(
                    &mut w,
                    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
                    8,
                    RTN_LOCAL,
                    Some(lo),
                );
                route(&mut w, IpAddr::V4(lo), 32, RTN_LOCAL, Some(lo));
                let bcast = Ipv4Addr::new(127, 255, 255, 255);
                route(&mut w, IpAddr::V4(bcast), 32, RTN_BROADCAST, Some(lo));
            }
            if family == AF_UNSPEC || family == AF_INET6 {
                route(
                    &mut w,
                    IpAddr::V6(Ipv6Addr::LOCALHOST),
                    128,
                    RTN_LOCAL,
                    None,
                );
            }
            done(&mut w);
            Ok(())
        }
        // A single route lookup (`ip route get`) is not answered.
        RTM_GETROUTE | RTM_GETADDR => Err(Errno::EOPNOTSUPP),
        // Changes need CAP_NET_ADMIN over the namespace's network.
        kind if (RTM_NEWLINK..=127).contains(&kind) => Err(Errno::EPERM),
        _ => Err(Errno::EOPNOTSUPP),
    };
    match result {
        Err(e) => w.error(i32::from(e), request, capped),
        Ok(()) if hdr.flags & NLM_F_ACK != 0 => w.error(0, request, capped),
        Ok(()) => {}
    }
    w.out
}

/// Checks a single `RTM_GETLINK` names `lo` (by index or `IFLA_IFNAME`):
/// `ENODEV` otherwise.
fn get_link(body: &[u8]) -> Result<(), Errno> {
    let (info, _) = IfInfoMsg::read_from_prefix(body).map_err(|_| Errno::EINVAL)?;
    if info.index == LOOPBACK_INDEX {
        return Ok(());
    }
    if info.index != 0 {
        return Err(Errno::ENODEV);
    }
    let mut at = size_of::<IfInfoMsg>();
    while body.len().saturating_sub(at) >= size_of::<RtAttr>() {
        let (attr, _) = RtAttr::read_from_prefix(&body[at..]).map_err(|_| Errno::EINVAL)?;
        let len = usize::from(attr.len);
        if len < size_of::<RtAttr>() || len > body.len() - at {
            return Err(Errno::EINVAL);
        }
        if attr.kind == IFLA_IFNAME {
            let name = &body[at + size_of::<RtAttr>()..at + len];
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            return if &name[..end] == b"lo" {
                Ok(())
            } else {
                Err(Errno::ENODEV)
            };
        }
        at += nlmsg_align(len);
    }
    Err(Errno::EINVAL)
}

fn done(w: &mut Writer<'_>) {
    let start = w.begin(NLMSG_DONE, NLM_F_MULTI, &0i32.to_ne_bytes());
    w.end(start);
}

/// `lo` as `RTM_NEWLINK`.
fn link(w: &mut Writer<'_>, flags: u16) {
    let info = IfInfoMsg {
        family: AF_UNSPEC as u8,
        pad: 0,
        kind: ARPHRD_LOOPBACK,
        index: LOOPBACK_INDEX,
        flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP,
        change: 0,
    };
    let start = w.begin(RTM_NEWLINK, flags, info.as_bytes());
    w.attr(IFLA_IFNAME, b"lo\0");
    w.attr(IFLA_TXQLEN, &1000u32.to_ne_bytes());
    // IF_OPER_UNKNOWN, as a loopback device reports.
    w.attr(IFLA_OPERSTATE, &[0]);
    w.attr(IFLA_LINKMODE, &[0]);
    w.attr(IFLA_MTU, &LOOPBACK_MTU.to_ne_bytes());
    w.attr(IFLA_MIN_MTU, &0u32.to_ne_bytes());
    w.attr(IFLA_MAX_MTU, &0u32.to_ne_bytes());
    w.attr(IFLA_GROUP, &0u32.to_ne_bytes());
    w.attr(IFLA_PROMISCUITY, &0u32.to_ne_bytes());
    w.attr(IFLA_NUM_TX_QUEUES, &1u32.to_ne_bytes());
    w.attr(IFLA_NUM_RX_QUEUES, &1u32.to_ne_bytes());
    w.attr(IFLA_CARRIER, &[1]);
    w.attr(IFLA_QDISC, b"noqueue\0");
    // `struct rtnl_link_stats` (24 counters of 32 bits) and
    // `rtnl_link_stats64` (24 of 64 bits): no traffic is counted.
    w.attr(IFLA_STATS, &[0u8; 24 * 4]);
    w.attr(IFLA_STATS64, &[0u8; 24 * 8]);
    w.attr(IFLA_ADDRESS, &[0u8; 6]);
    w.attr(IFLA_BROADCAST, &[0u8; 6]);
    w.end(start);
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// An address of `lo` as `RTM_NEWADDR`.
fn address(w: &mut Writer<'_>, ip: IpAddr, prefixlen: u8) {
    let msg = IfAddrMsg {
        family: if ip.is_ipv4() { AF_INET } else { AF_INET6 } as u8,
        prefixlen,
        flags: IFA_F_PERMANENT as u8,
        scope: RT_SCOPE_HOST,
        index: LOOPBACK_INDEX as u32,
    };
    let start = w.begin(RTM_NEWADDR, NLM_F_MULTI, msg.as_bytes());
    w.attr(IFA_ADDRESS, &ip_bytes(ip));
    if ip.is_ipv4() {
        w.attr(IFA_LOCAL, &ip_bytes(ip));
        w.attr(IFA_LABEL, b"lo\0");
    }
    w.attr(IFA_FLAGS, &IFA_F_PERMANENT.to_ne_bytes());
    // `struct ifa_cacheinfo`: preferred and valid forever, then the
    // creation and update stamps.
    let mut cache = Vec::new();
    for v in [u32::MAX, u32::MAX, 0, 0] {
        cache.extend_from_slice(&v.to_ne_bytes());
    }
    w.attr(IFA_CACHEINFO, &cache);
    w.end(start);
}

/// A route of the local table as `RTM_NEWROUTE`.
fn route(w: &mut Writer<'_>, dst: IpAddr, dst_len: u8, kind: u8, prefsrc: Option<Ipv4Addr>) {
    let v4 = dst.is_ipv4();
    let msg = RtMsg {
        family: if v4 { AF_INET } else { AF_INET6 } as u8,
        dst_len,
        src_len: 0,
        tos: 0,
        table: RT_TABLE_LOCAL,
        protocol: RTPROT_KERNEL,
        scope: match (v4, kind) {
            (false, _) => RT_SCOPE_UNIVERSE,
            (true, RTN_BROADCAST) => RT_SCOPE_LINK,
            (true, _) => RT_SCOPE_HOST,
        },
        kind,
        flags: 0,
    };
    let start = w.begin(RTM_NEWROUTE, NLM_F_MULTI, msg.as_bytes());
    w.attr(RTA_TABLE, &u32::from(RT_TABLE_LOCAL).to_ne_bytes());
    w.attr(RTA_DST, &ip_bytes(dst));
    if let Some(src) = prefsrc {
        w.attr(RTA_PREFSRC, &src.octets());
    }
    if !v4 {
        w.attr(RTA_PRIORITY, &0u32.to_ne_bytes());
    }
    w.attr(RTA_OIF, &(LOOPBACK_INDEX as u32).to_ne_bytes());
    if !v4 {
        // ICMPV6_ROUTER_PREF_MEDIUM.
        w.attr(RTA_PREF, &[0]);
    }
    w.end(start);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: u16, flags: u16, body: &[u8]) -> Vec<u8> {
        let mut msg = NlMsgHdr {
            len: (size_of::<NlMsgHdr>() + body.len()) as u32,
            kind,
            flags,
            seq: 7,
            pid: 0,
        }
        .as_bytes()
        .to_vec();
        msg.extend_from_slice(body);
        msg
    }

    #[test]
    fn a_dump_ends_with_done_and_changes_are_refused() {
        let req = request(
            RTM_GETADDR,
            NLM_F_REQUEST | NLM_F_DUMP,
            &[AF_INET as u8, 0, 0, 0],
        );
        let (hdr, _) = NlMsgHdr::read_from_prefix(&req).unwrap();
        let out = answer(&hdr, &req[16..], &req, 42, false);
        let (first, _) = NlMsgHdr::read_from_prefix(&out).unwrap();
        assert_eq!((first.kind, first.seq, first.pid), (RTM_NEWADDR, 7, 42));
        let (last, _) = NlMsgHdr::read_from_prefix(&out[first.len as usize..]).unwrap();
        assert_eq!(last.kind, NLMSG_DONE);
        assert_eq!(first.len as usize + last.len as usize, out.len());

        let req = request(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &[0; 16]);
        let (hdr, _) = NlMsgHdr::read_from_prefix(&req).unwrap();
        let out = answer(&hdr, &req[16..], &req, 42, false);
        let (err, _) = NlMsgHdr::read_from_prefix(&out).unwrap();
        assert_eq!(err.kind, NLMSG_ERROR);
        assert_eq!(&out[16..20], &(-i32::from(Errno::EPERM)).to_ne_bytes());
    }

    /// A xorshift generator: the same mutations on every run.
    fn rng(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn mutated_requests_never_panic_and_answers_stay_well_formed_and_bounded() {
        let sock = NetlinkSocket::new(1, Arc::new(NetlinkPorts::default()), None);
        let mut by_name = IfInfoMsg::default().as_bytes().to_vec();
        by_name.extend_from_slice(
            RtAttr {
                len: 7,
                kind: IFLA_IFNAME,
            }
            .as_bytes(),
        );
        by_name.extend_from_slice(b"lo\0\0");
        let seeds = [
            request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &[0; 16]),
            request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, &[0; 8]),
            request(
                RTM_GETROUTE,
                NLM_F_REQUEST | NLM_F_DUMP,
                &[AF_INET6 as u8; 12],
            ),
            request(RTM_GETLINK, NLM_F_REQUEST, &by_name),
        ];
        let mut next = rng(0x9e37_79b9_7f4a_7c15);
        for i in 0..20_000 {
            let mut msg = seeds[i % seeds.len()].clone();
            if i % 3 == 1 {
                // Two messages in one send.
                msg.extend_from_slice(&seeds[(i + 1) % seeds.len()]);
            }
            for _ in 0..next() % 6 {
                let at = (next() as usize) % msg.len();
                msg[at] = next() as u8;
            }
            match next() % 4 {
                0 => msg.truncate((next() as usize) % (msg.len() + 1)),
                1 => msg.extend((0..next() % 64).map(|_| next() as u8)),
                _ => {}
            }
            let sent = sock.send(7, &msg);
            let mut st = sock.state();
            assert!(st.recv_bytes <= MAX_QUEUED);
            assert!(sent.is_ok() || sent == Err(Errno::ENOBUFS) || sent == Err(Errno::EINVAL));
            for answer in &st.recv {
                let mut at = 0;
                while at < answer.len() {
                    let (hdr, _) = NlMsgHdr::read_from_prefix(&answer[at..]).unwrap();
                    assert!(hdr.len as usize >= size_of::<NlMsgHdr>());
                    assert!(at + hdr.len as usize <= answer.len());
                    at += nlmsg_align(hdr.len as usize);
                }
            }
            if i % 64 == 0 {
                st.recv.clear();
                st.recv_bytes = 0;
            }
        }
    }
}
