//! The socket calls on internet sockets ([`crate::net::inet`]): the glue
//! between the application's memory and the loopback stack, reached from
//! [`super::socket`]'s calls when the descriptor is an `AF_INET` or
//! `AF_INET6` socket.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use abi_linux::inet::{
    ICMP6_FILTER, IP_ADD_MEMBERSHIP, IP_BIND_ADDRESS_NO_PORT, IP_FREEBIND, IP_HDRINCL, IP_MTU,
    IP_MTU_DISCOVER, IP_MULTICAST_IF, IP_MULTICAST_LOOP, IP_MULTICAST_TTL, IP_OPTIONS, IP_PKTINFO,
    IP_RECVERR, IP_RECVOPTS, IP_RECVTOS, IP_RECVTTL, IP_TOS, IP_TTL, IPPROTO_ICMP, IPPROTO_ICMPV6,
    IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP, IPV6_HOPLIMIT, IPV6_MULTICAST_HOPS,
    IPV6_MULTICAST_IF, IPV6_MULTICAST_LOOP, IPV6_PKTINFO, IPV6_RECVERR, IPV6_RECVHOPLIMIT,
    IPV6_RECVPKTINFO, IPV6_RECVTCLASS, IPV6_TCLASS, IPV6_UNICAST_HOPS, IPV6_V6ONLY, In6Pktinfo,
    InPktinfo, SO_BINDTODEVICE, SO_MARK, SO_PRIORITY, SO_TIMESTAMP, TCP_CONGESTION, TCP_CORK,
    TCP_DEFER_ACCEPT, TCP_FASTOPEN, TCP_INFO, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL,
    TCP_LINGER2, TCP_MAXSEG, TCP_NODELAY, TCP_NOTSENT_LOWAT, TCP_QUICKACK, TCP_SYNCNT,
    TCP_USER_TIMEOUT, TCP_WINDOW_CLAMP,
};
use abi_linux::socket::{
    SO_ACCEPTCONN, SO_BROADCAST, SO_DEBUG, SO_DOMAIN, SO_DONTROUTE, SO_ERROR, SO_KEEPALIVE,
    SO_LINGER, SO_OOBINLINE, SO_PASSCRED, SO_PEERCRED, SO_PROTOCOL, SO_RCVBUF, SO_RCVBUFFORCE,
    SO_RCVLOWAT, SO_RCVTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDBUFFORCE, SO_SNDLOWAT,
    SO_SNDTIMEO, SO_TYPE, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW, SOCK_STREAM,
    SOCK_TYPE_MASK, SOL_SOCKET,
};
use abi_linux::{Capability, Errno, Linger, MsgFlags, MsgHdr, OpenFlags, Timeval, Ucred};
use vfs_core::FileRef;
use vfs_core::waiter::{READABLE_EVENTS, WRITABLE_EVENTS};

use super::socket::{
    anon_socket_file, block, buffer_value, next_ino, push_cmsg_at, send_stream, timeout_value,
    write_sockaddr,
};
use super::time::deadline_after;
use super::{SysResult, UserAddr};
use super::{hostinet, netlink};
use crate::mm::io::{UserDest, UserSource, read_iovecs};
use crate::net::inet::tcp::TcpSocket;
use crate::net::inet::udp::{Proto, UdpSocket};
use crate::net::inet::{Family, InetSocket, Target, parse_sockaddr, sockaddr_bytes};
use crate::net::unix::timeout_of;
use crate::net::{NetFile, NetSocket};
use crate::task::Task;

/// A file description for `sock`.
pub(super) fn new_file(t: &Task, sock: NetSocket, nonblock: bool) -> FileRef {
    anon_socket_file(t, Box::new(NetFile::new(sock)), nonblock)
}

// The entry points from the socket calls: internet sockets here, netlink
// sockets in `super::netlink`.

pub(super) fn bind(t: &Task, sock: &NetSocket, bytes: &[u8]) -> Result<(), Errno> {
    match sock {
        NetSocket::Inet(s) => inet_bind(t, s, bytes),
        NetSocket::Netlink(s) => netlink::bind(t, s, bytes),
        NetSocket::Host(s) => s.bind(bytes),
    }
}

pub(super) fn listen(sock: &NetSocket, backlog: i32) -> Result<(), Errno> {
    match sock {
        NetSocket::Inet(s) => inet_listen(s, backlog),
        NetSocket::Netlink(_) => Err(Errno::EOPNOTSUPP),
        NetSocket::Host(s) => s.listen(backlog),
    }
}

pub(super) fn accept(
    t: &Task,
    file: &FileRef,
    sock: &NetSocket,
    addr: UserAddr,
    len_addr: UserAddr,
    flags: i32,
) -> SysResult {
    match sock {
        NetSocket::Inet(s) => inet_accept(t, file, s, addr, len_addr, flags),
        NetSocket::Netlink(_) => Err(Errno::EOPNOTSUPP),
        NetSocket::Host(s) => hostinet::accept(t, file, s, addr, len_addr, flags),
    }
}

pub(super) fn connect(t: &Task, file: &FileRef, sock: &NetSocket, bytes: &[u8]) -> SysResult {
    match sock {
        NetSocket::Inet(s) => inet_connect(t, file, s, bytes),
        NetSocket::Netlink(s) => netlink::connect(t, s, bytes).map(|()| 0),
        NetSocket::Host(s) => hostinet::connect(file, s, bytes),
    }
}

pub(super) fn local_addr(t: &Task, sock: &NetSocket) -> Result<Vec<u8>, Errno> {
    match sock {
        NetSocket::Inet(s) => Ok(inet_local_addr(s)),
        NetSocket::Netlink(s) => netlink::local_addr(t, s),
        NetSocket::Host(s) => s.local_addr(),
    }
}

pub(super) fn peer_addr(sock: &NetSocket) -> Result<Vec<u8>, Errno> {
    match sock {
        NetSocket::Inet(s) => inet_peer_addr(s),
        NetSocket::Netlink(_) => Ok(netlink::kernel_addr()),
        NetSocket::Host(s) => s.peer_addr(),
    }
}

pub(super) fn shutdown(sock: &NetSocket, rd: bool, wr: bool) -> Result<(), Errno> {
    match sock {
        NetSocket::Inet(s) => inet_shutdown(s, rd, wr),
        // Linux's netlink shutdown is `sock_no_shutdown`.
        NetSocket::Netlink(_) => Err(Errno::EOPNOTSUPP),
        NetSocket::Host(s) => s.shutdown(match (rd, wr) {
            (true, false) => libc::SHUT_RD,
            (false, true) => libc::SHUT_WR,
            _ => libc::SHUT_RDWR,
        }),
    }
}

/// `sendto`'s work: the bytes of `iovs` to `to` (an address's bytes).
pub(super) fn send(
    t: &Task,
    file: &FileRef,
    sock: &NetSocket,
    iovs: Vec<(u64, usize)>,
    flags: MsgFlags,
    to: Option<&[u8]>,
) -> Result<usize, Errno> {
    match sock {
        NetSocket::Inet(s) => inet_send(t, file, s, iovs, flags, to),
        NetSocket::Netlink(s) => netlink::send(t, s, iovs, to),
        NetSocket::Host(s) => hostinet::send(t, file, s, iovs, flags, to),
    }
}

/// `recvfrom`'s work: (bytes, the sender's address bytes).
pub(super) fn recv(
    t: &Task,
    file: &FileRef,
    sock: &NetSocket,
    iovs: Vec<(u64, usize)>,
    flags: MsgFlags,
) -> Result<(usize, Vec<u8>), Errno> {
    let r = match sock {
        NetSocket::Inet(s) => inet_recv(t, file, s, iovs, flags)?,
        NetSocket::Netlink(s) => netlink::recv(t, file, s, iovs, flags)?,
        NetSocket::Host(s) => hostinet::recv(t, file, s, iovs, flags)?,
    };
    Ok((r.len, r.from.unwrap_or_default()))
}

pub(super) fn sendmsg(
    t: &Task,
    file: &FileRef,
    sock: &NetSocket,
    hdr: &MsgHdr,
    flags: MsgFlags,
) -> Result<usize, Errno> {
    let iovs = read_iovecs(&t.mm, hdr.iov, hdr.iovlen)?;
    let name = if hdr.name != 0 && hdr.namelen > 0 {
        if hdr.namelen > 128 {
            return Err(Errno::EINVAL);
        }
        let mut bytes = vec![0u8; hdr.namelen as usize];
        t.mm.copy_in_exact(hdr.name, &mut bytes)?;
        Some(bytes)
    } else {
        None
    };
    check_control(t, hdr.control, hdr.controllen)?;
    send(t, file, sock, iovs, flags, name.as_deref())
}

/// `recvmsg` into the header at `msg`, writing back its name, control
/// length (no control messages are produced) and flags.
pub(super) fn recvmsg(
    t: &Task,
    file: &FileRef,
    sock: &NetSocket,
    msg: u64,
    flags: MsgFlags,
) -> Result<usize, Errno> {
    let mut hdr: MsgHdr = t.mm.read_obj(msg)?;
    let iovs = read_iovecs(&t.mm, hdr.iov, hdr.iovlen)?;
    let r = match sock {
        NetSocket::Inet(s) => inet_recv(t, file, s, iovs, flags)?,
        NetSocket::Netlink(s) => netlink::recv(t, file, s, iovs, flags)?,
        NetSocket::Host(s) => hostinet::recv(t, file, s, iovs, flags)?,
    };
    if hdr.name != 0 {
        let from = r.from.unwrap_or_default();
        let n = (hdr.namelen as usize).min(from.len());
        t.mm.copy_out_exact(hdr.name, &from[..n])?;
        hdr.namelen = from.len() as u32;
    }
    let mut flags = r.flags;
    let mut control = Vec::new();
    let limit = usize::try_from(hdr.controllen).unwrap_or(usize::MAX);
    for (level, kind, data) in &r.control {
        push_cmsg_at(&mut control, limit, *level, *kind, data, &mut flags);
    }
    if !control.is_empty() {
        t.mm.copy_out_exact(hdr.control, &control)?;
    }
    hdr.controllen = control.len() as u64;
    hdr.flags = flags.bits();
    t.mm.write_obj(msg, &hdr)?;
    Ok(r.len)
}

pub(super) fn setsockopt(
    t: &Task,
    sock: &NetSocket,
    level: i32,
    name: i32,
    val: UserAddr,
    len: u32,
) -> Result<(), Errno> {
    match sock {
        NetSocket::Inet(s) => inet_setsockopt(t, s, level, name, val, len),
        NetSocket::Netlink(s) => netlink::setsockopt(t, s, level, name, val, len),
        NetSocket::Host(s) => hostinet::setsockopt(t, s, level, name, val, len),
    }
}

pub(super) fn getsockopt(sock: &NetSocket, level: i32, name: i32) -> Result<Vec<u8>, Errno> {
    match sock {
        NetSocket::Inet(s) => inet_getsockopt(s, level, name),
        NetSocket::Netlink(s) => netlink::getsockopt(s, level, name),
        NetSocket::Host(s) => hostinet::getsockopt(s, level, name),
    }
}

/// `socket(AF_INET or AF_INET6, ty, protocol)` (Linux's `inet_create`):
/// TCP, UDP, and ICMP echo sockets for the groups `ping_group_range`
/// allows (`EACCES` for others); raw sockets are refused as to an
/// unprivileged user (`EPERM`).
pub(super) fn create(t: &Task, family: Family, ty: i32, protocol: i32) -> SysResult {
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let (nonblock, cloexec) = (flags & SOCK_NONBLOCK != 0, flags & SOCK_CLOEXEC != 0);
    let uid = t.ctx.credentials.effective_uid;
    let stack = t.kernel.inet.clone();
    let icmp = match family {
        Family::V4 => IPPROTO_ICMP,
        Family::V6 => IPPROTO_ICMPV6,
    };
    let host = t.kernel.network == crate::kernel::Network::Host;
    let sock = match ty & SOCK_TYPE_MASK {
        SOCK_STREAM | SOCK_DGRAM
            if host && (protocol == 0 || protocol == IPPROTO_TCP || protocol == IPPROTO_UDP) =>
        {
            let stream = ty & SOCK_TYPE_MASK == SOCK_STREAM;
            return hostinet::create(t, family, stream, protocol, nonblock, cloexec);
        }
        SOCK_STREAM if protocol == 0 || protocol == IPPROTO_TCP => {
            InetSocket::Tcp(TcpSocket::new(family, next_ino(t), uid, stack))
        }
        SOCK_DGRAM if protocol == 0 || protocol == IPPROTO_UDP => {
            InetSocket::Udp(UdpSocket::new(family, Proto::Udp, next_ino(t), uid, stack))
        }
        SOCK_DGRAM if protocol == icmp => {
            let c = &t.ctx.credentials;
            let groups = std::iter::once(c.effective_gid).chain(c.extra_gids.iter().copied());
            if !stack.ping_allowed(groups) {
                return Err(Errno::EACCES);
            }
            InetSocket::Udp(UdpSocket::new(family, Proto::Icmp, next_ino(t), uid, stack))
        }
        SOCK_STREAM | SOCK_DGRAM => return Err(Errno::EPROTONOSUPPORT),
        SOCK_RAW => return Err(Errno::EPERM),
        0..=10 => return Err(Errno::ESOCKTNOSUPPORT),
        _ => return Err(Errno::EINVAL),
    };
    let file = new_file(t, NetSocket::Inet(sock), nonblock);
    t.fds
        .add(file, cloexec, 0, t.fd_limit())
        .map(|fd| fd as u64)
}

/// The address of `bytes` for `bind`: `AF_UNSPEC` is accepted from an
/// `AF_INET` socket only with the wildcard address, as Linux allows old
/// programs.
fn bind_target(family: Family, bytes: &[u8]) -> Result<SocketAddr, Errno> {
    match parse_sockaddr(family, bytes)? {
        Target::Addr(a) => Ok(a),
        Target::Unspec if family == Family::V4 && bytes.len() >= 8 && bytes[4..8] == [0; 4] => {
            let port = u16::from_be_bytes([bytes[2], bytes[3]]);
            Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port))
        }
        Target::Unspec => Err(Errno::EAFNOSUPPORT),
    }
}

fn inet_bind(t: &Task, sock: &InetSocket, bytes: &[u8]) -> Result<(), Errno> {
    let addr = bind_target(sock.family(), bytes)?;
    let privileged = t
        .ctx
        .credentials
        .has_capability(Capability::NET_BIND_SERVICE);
    match sock {
        InetSocket::Tcp(s) => s.bind(addr, privileged),
        InetSocket::Udp(s) => s.bind(addr, privileged),
    }
}

fn inet_listen(sock: &InetSocket, backlog: i32) -> Result<(), Errno> {
    match sock {
        InetSocket::Tcp(s) => s.listen(backlog),
        InetSocket::Udp(_) => Err(Errno::EOPNOTSUPP),
    }
}

fn inet_accept(
    t: &Task,
    file: &FileRef,
    sock: &InetSocket,
    addr: UserAddr,
    len_addr: UserAddr,
    flags: i32,
) -> SysResult {
    let InetSocket::Tcp(s) = sock else {
        return Err(Errno::EOPNOTSUPP);
    };
    let nonblock = file.status_flags().contains(OpenFlags::NONBLOCK);
    let accepted = block(s.waiters(), READABLE_EVENTS, nonblock, None, || s.accept())?;
    let peer = accepted.peer_addr().ok();
    let family = accepted.family();
    let new = new_file(
        t,
        NetSocket::Inet(InetSocket::Tcp(accepted)),
        flags & SOCK_NONBLOCK != 0,
    );
    let newfd = t.fds.add(new, flags & SOCK_CLOEXEC != 0, 0, t.fd_limit())?;
    if let Some(peer) = peer
        && let Err(e) = write_sockaddr(t, addr, len_addr, &sockaddr_bytes(family, peer))
    {
        if let Ok(f) = t.fds.remove(newfd) {
            f.release(&t.ctx);
        }
        return Err(e);
    }
    Ok(newfd as u64)
}

/// `connect`. A TCP connect on loopback completes at once; as Linux, a
/// non-blocking one still answers `EINPROGRESS` and reports the outcome
/// through `SO_ERROR` and writability. A listener whose backlog is full
/// makes a blocking connect wait for room (Linux retransmits the SYN
/// until then) and takes a non-blocking one beyond its backlog.
fn inet_connect(t: &Task, file: &FileRef, sock: &InetSocket, bytes: &[u8]) -> SysResult {
    let target = parse_sockaddr(sock.family(), bytes)?;
    match sock {
        InetSocket::Udp(s) => match target {
            Target::Unspec => s.connect(None),
            Target::Addr(a) => s.connect(Some(a)),
        }
        .map(|()| 0),
        InetSocket::Tcp(s) => {
            let dst = match target {
                Target::Unspec => return s.disconnect().map(|()| 0),
                Target::Addr(a) => a,
            };
            let nonblock = file.status_flags().contains(OpenFlags::NONBLOCK);
            let ino = next_ino(t);
            let outcome = loop {
                match s.connect(dst, ino, nonblock) {
                    Err((Errno::EAGAIN, Some(listener))) => {
                        // Wait for the backlog to drain, then try again.
                        match block(listener.waiters(), WRITABLE_EVENTS, false, None, || {
                            if listener.backlog_full() {
                                Err(Errno::EAGAIN)
                            } else {
                                Ok(())
                            }
                        }) {
                            Ok(()) => continue,
                            Err(e) => break Err(e),
                        }
                    }
                    Err((e, _)) => break Err(e),
                    Ok(fresh) => break Ok(fresh),
                }
            };
            match outcome {
                Ok(true) if nonblock => {
                    s.set_in_progress(None);
                    Err(Errno::EINPROGRESS)
                }
                Err(Errno::ECONNREFUSED) if nonblock => {
                    s.set_in_progress(Some(Errno::ECONNREFUSED));
                    Err(Errno::EINPROGRESS)
                }
                r => r.map(|_| 0),
            }
        }
    }
}

fn inet_local_addr(sock: &InetSocket) -> Vec<u8> {
    let addr = match sock {
        InetSocket::Tcp(s) => s.local_addr(),
        InetSocket::Udp(s) => s.local_addr(),
    };
    sockaddr_bytes(sock.family(), addr)
}

fn inet_peer_addr(sock: &InetSocket) -> Result<Vec<u8>, Errno> {
    let addr = match sock {
        InetSocket::Tcp(s) => s.peer_addr()?,
        InetSocket::Udp(s) => s.peer_addr()?,
    };
    Ok(sockaddr_bytes(sock.family(), addr))
}

fn inet_shutdown(sock: &InetSocket, rd: bool, wr: bool) -> Result<(), Errno> {
    match sock {
        InetSocket::Tcp(s) => s.shutdown(rd, wr),
        InetSocket::Udp(s) => s.shutdown(rd, wr),
    }
}

fn option(sock: &InetSocket, level: i32, name: i32) -> Option<Vec<u8>> {
    sock.with_settings(|s, _| s.options.get(level, name))
}

fn set_option(sock: &InetSocket, level: i32, name: i32, value: Vec<u8>) {
    sock.with_settings(|s, _| s.options.set(level, name, value));
}

pub(super) fn nonblocking(file: &FileRef, flags: MsgFlags) -> bool {
    flags.contains(MsgFlags::DONTWAIT) || file.status_flags().contains(OpenFlags::NONBLOCK)
}

/// Checks `sendmsg` control data on an internet socket: `SOL_SOCKET`
/// messages (descriptors, credentials) are `EINVAL`, as Linux's
/// `__sock_cmsg_send` answers them; IP-level ones are accepted and have no
/// effect on loopback.
fn check_control(t: &Task, addr: u64, len: u64) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    if len > 131_072 {
        return Err(Errno::ENOBUFS);
    }
    let mut raw = vec![0u8; len as usize];
    t.mm.copy_in_exact(addr, &mut raw)?;
    let header = size_of::<abi_linux::CmsgHdr>();
    let mut at = 0usize;
    while at + header <= raw.len() {
        let (hdr, _) = <abi_linux::CmsgHdr as zerocopy::FromBytes>::read_from_prefix(&raw[at..])
            .map_err(|_| Errno::EINVAL)?;
        let clen = usize::try_from(hdr.len).map_err(|_| Errno::EINVAL)?;
        if clen < header || clen > raw.len() - at {
            return Err(Errno::EINVAL);
        }
        if hdr.level == SOL_SOCKET {
            return Err(Errno::EINVAL);
        }
        at += abi_linux::socket::cmsg_align(clen);
    }
    Ok(())
}

/// Sends the bytes of `iovs` (to `to`, for UDP). TCP ignores an address,
/// as Linux's `tcp_sendmsg` does, and sends in pieces; `EPIPE` raises
/// `SIGPIPE` unless `MSG_NOSIGNAL`.
fn inet_send(
    t: &Task,
    file: &FileRef,
    sock: &InetSocket,
    iovs: Vec<(u64, usize)>,
    flags: MsgFlags,
    to: Option<&[u8]>,
) -> Result<usize, Errno> {
    if flags.contains(MsgFlags::OOB) {
        return Err(Errno::EOPNOTSUPP);
    }
    let total: usize = iovs.iter().map(|&(_, len)| len).sum();
    let nonblock = nonblocking(file, flags);
    let deadline = timeout_of(option(sock, SOL_SOCKET, SO_SNDTIMEO)).map(deadline_after);
    let mut src = UserSource::new(&t.mm, iovs);
    let result = match sock {
        InetSocket::Tcp(s) => {
            if total == 0 {
                s.send_nothing()
            } else {
                send_stream(
                    &mut src,
                    total,
                    1 << 20,
                    s.waiters(),
                    nonblock,
                    deadline,
                    |piece| s.send(piece),
                )
            }
        }
        InetSocket::Udp(s) => {
            let to = match to {
                Some(bytes) => match parse_sockaddr(s.family(), bytes)? {
                    Target::Addr(a) => Some(a),
                    Target::Unspec => None,
                },
                None => None,
            };
            if total > crate::net::inet::udp::MAX_PAYLOAD_V6 {
                return Err(Errno::EMSGSIZE);
            }
            let mut data = vec![0u8; total];
            let n = vfs_core::io::copy_in(&mut src, &mut data)?;
            data.truncate(n);
            s.send(&data, to)
        }
    };
    if result == Err(Errno::EPIPE)
        && matches!(sock, InetSocket::Tcp(_))
        && !flags.contains(MsgFlags::NOSIGNAL)
    {
        super::raise_error_signal(t, libc::SIGPIPE);
    }
    result
}

/// What a receive reports beyond the bytes.
pub(super) struct Received {
    pub len: usize,
    pub flags: MsgFlags,
    /// The sender's address (UDP).
    pub from: Option<Vec<u8>>,
    /// The control messages the socket's options ask for: (level, type,
    /// data).
    pub control: Vec<(i32, i32, Vec<u8>)>,
}

/// Receives into `iovs`: TCP gathers up to the buffer (all of it under
/// `MSG_WAITALL`), UDP one datagram.
fn inet_recv(
    t: &Task,
    file: &FileRef,
    sock: &InetSocket,
    iovs: Vec<(u64, usize)>,
    flags: MsgFlags,
) -> Result<Received, Errno> {
    if flags.contains(MsgFlags::ERRQUEUE) {
        return Err(Errno::EAGAIN);
    }
    let nonblock = nonblocking(file, flags);
    let deadline = timeout_of(option(sock, SOL_SOCKET, SO_RCVTIMEO)).map(deadline_after);
    let peek = flags.contains(MsgFlags::PEEK);
    let total: usize = iovs.iter().map(|&(_, len)| len).sum();
    let mut dst = UserDest::new(&t.mm, iovs);
    match sock {
        InetSocket::Tcp(s) => {
            if flags.contains(MsgFlags::OOB) {
                // No urgent data is ever queued.
                return Err(Errno::EINVAL);
            }
            let discard = flags.contains(MsgFlags::TRUNC);
            if total == 0 {
                return Ok(Received {
                    len: 0,
                    flags: MsgFlags::empty(),
                    from: None,
                    control: Vec::new(),
                });
            }
            let min = if nonblock { 1 } else { s.receive_target(total) };
            let mut len = block(s.waiters(), READABLE_EVENTS, nonblock, deadline, || {
                s.recv(&mut dst, peek, discard, min)
            })?;
            if flags.contains(MsgFlags::WAITALL) && !peek {
                while len > 0 && len < total {
                    match block(s.waiters(), READABLE_EVENTS, nonblock, deadline, || {
                        s.recv(&mut dst, false, discard, 1)
                    }) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => len += n,
                    }
                }
            }
            Ok(Received {
                len,
                flags: MsgFlags::empty(),
                from: None,
                control: Vec::new(),
            })
        }
        InetSocket::Udp(s) => {
            let got = block(s.waiters(), READABLE_EVENTS, nonblock, deadline, || {
                s.recv(&mut dst, peek)
            })?;
            let mut out = MsgFlags::empty();
            let mut len = got.len;
            if got.full_len > got.len {
                out |= MsgFlags::TRUNC;
                if flags.contains(MsgFlags::TRUNC) {
                    len = got.full_len;
                }
            }
            Ok(Received {
                len,
                flags: out,
                from: got.from.map(|a| sockaddr_bytes(s.family(), a)),
                control: got.to.map(|to| datagram_control(s, to)).unwrap_or_default(),
            })
        }
    }
}

/// The IP-level control messages a datagram socket's options ask for, in
/// Linux's order (`ip_cmsg_recv_offset`, `ip6_datagram_recv_ctl`), for a
/// datagram sent to `to` on `lo`: packet information, then the hop limit
/// (64, what `lo` delivers with) and the traffic class (0). An IPv4
/// datagram on an `AF_INET6` socket gets the IPv4 ones.
fn datagram_control(s: &UdpSocket, to: SocketAddr) -> Vec<(i32, i32, Vec<u8>)> {
    let flag = |level, name| s.with_settings(|st, _| st.options.flag(level, name));
    let int = |v: i32| v.to_ne_bytes().to_vec();
    let mut out = Vec::new();
    match to.ip() {
        IpAddr::V4(v4) => {
            if flag(IPPROTO_IP, IP_PKTINFO) {
                let info = InPktinfo {
                    ifindex: crate::net::inet::LOOPBACK_INDEX,
                    spec_dst: v4.octets(),
                    addr: v4.octets(),
                };
                out.push((
                    IPPROTO_IP,
                    IP_PKTINFO,
                    zerocopy::IntoBytes::as_bytes(&info).to_vec(),
                ));
            }
            if flag(IPPROTO_IP, IP_RECVTTL) {
                out.push((IPPROTO_IP, IP_TTL, int(64)));
            }
            if flag(IPPROTO_IP, IP_RECVTOS) {
                out.push((IPPROTO_IP, IP_TOS, vec![0]));
            }
        }
        IpAddr::V6(v6) => {
            if flag(IPPROTO_IPV6, IPV6_RECVPKTINFO) {
                let info = In6Pktinfo {
                    addr: v6.octets(),
                    ifindex: crate::net::inet::LOOPBACK_INDEX as u32,
                };
                out.push((
                    IPPROTO_IPV6,
                    IPV6_PKTINFO,
                    zerocopy::IntoBytes::as_bytes(&info).to_vec(),
                ));
            }
            if flag(IPPROTO_IPV6, IPV6_RECVHOPLIMIT) {
                out.push((IPPROTO_IPV6, IPV6_HOPLIMIT, int(64)));
            }
            if flag(IPPROTO_IPV6, IPV6_RECVTCLASS) {
                out.push((IPPROTO_IPV6, IPV6_TCLASS, int(0)));
            }
        }
    }
    out
}

/// Reads an `int` option value (Linux accepts a shorter one for some
/// options, reading what is there; an empty one is `EINVAL`).
pub(super) fn int_value(t: &Task, val: UserAddr, len: u32) -> Result<i32, Errno> {
    match len {
        0 => Err(Errno::EINVAL),
        1..=3 => {
            let b: u8 = t.mm.read_obj(val.get())?;
            Ok(i32::from(b))
        }
        _ => t.mm.read_obj(val.get()),
    }
}

fn read_value(t: &Task, val: UserAddr, len: u32, want: usize) -> Result<Vec<u8>, Errno> {
    if (len as usize) < want {
        return Err(Errno::EINVAL);
    }
    let mut v = vec![0u8; want];
    t.mm.copy_in_exact(val.get(), &mut v)?;
    Ok(v)
}

/// `setsockopt` on an internet socket.
fn inet_setsockopt(
    t: &Task,
    sock: &InetSocket,
    level: i32,
    name: i32,
    val: UserAddr,
    len: u32,
) -> Result<(), Errno> {
    let is_tcp = matches!(sock, InetSocket::Tcp(_));
    let bool_int = |v: i32| i32::from(v != 0).to_ne_bytes().to_vec();
    match (level, name) {
        (SOL_SOCKET, SO_SNDBUF | SO_RCVBUF | SO_SNDBUFFORCE | SO_RCVBUFFORCE) => {
            let (send, v) = buffer_value(t, name, val, len)?;
            sock.with_settings(|s, _| s.set_buffer(send, v));
        }
        (SOL_SOCKET, SO_RCVTIMEO | SO_SNDTIMEO) => {
            set_option(sock, level, name, timeout_value(t, val, len)?);
        }
        (SOL_SOCKET, SO_LINGER) => {
            let raw = read_value(t, val, len, size_of::<Linger>())?;
            set_option(sock, level, name, raw);
        }
        (SOL_SOCKET, SO_BINDTODEVICE) => {
            if !t.ctx.credentials.has_capability(Capability::NET_RAW) {
                return Err(Errno::EPERM);
            }
            let raw = read_value(t, val, len.min(16), len.min(16) as usize)?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            if !(raw[..end].is_empty() || &raw[..end] == b"lo") {
                return Err(Errno::ENODEV);
            }
            set_option(sock, level, name, raw[..end].to_vec());
        }
        (SOL_SOCKET, SO_MARK) => {
            if !t.ctx.credentials.has_capability(Capability::NET_ADMIN) {
                return Err(Errno::EPERM);
            }
            let v = int_value(t, val, len)?;
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (SOL_SOCKET, SO_PRIORITY) => {
            let v = int_value(t, val, len)?;
            if !(0..=6).contains(&v) && !t.ctx.credentials.has_capability(Capability::NET_ADMIN) {
                return Err(Errno::EPERM);
            }
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (
            SOL_SOCKET,
            SO_REUSEADDR | SO_REUSEPORT | SO_KEEPALIVE | SO_BROADCAST | SO_DEBUG | SO_DONTROUTE
            | SO_OOBINLINE | SO_TIMESTAMP | SO_PASSCRED,
        ) => {
            let v = int_value(t, val, len)?;
            set_option(sock, level, name, bool_int(v));
        }
        (SOL_SOCKET, SO_RCVLOWAT | SO_SNDLOWAT) => {
            let v = int_value(t, val, len)?.max(1);
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (SOL_SOCKET, _) => return Err(Errno::ENOPROTOOPT),
        (IPPROTO_TCP, _) if !is_tcp => return Err(Errno::ENOPROTOOPT),
        (IPPROTO_TCP, TCP_NODELAY | TCP_CORK | TCP_QUICKACK) => {
            let v = int_value(t, val, len)?;
            set_option(sock, level, name, bool_int(v));
        }
        (IPPROTO_TCP, TCP_KEEPIDLE | TCP_KEEPINTVL) => {
            let v = int_value(t, val, len)?;
            if !(1..=32767).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (IPPROTO_TCP, TCP_KEEPCNT | TCP_SYNCNT) => {
            let v = int_value(t, val, len)?;
            if !(1..=127).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (IPPROTO_TCP, TCP_MAXSEG) => {
            let v = int_value(t, val, len)?;
            if v != 0 && !(88..=32767).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (
            IPPROTO_TCP,
            TCP_USER_TIMEOUT | TCP_LINGER2 | TCP_DEFER_ACCEPT | TCP_WINDOW_CLAMP | TCP_FASTOPEN
            | TCP_NOTSENT_LOWAT,
        ) => {
            let v = int_value(t, val, len)?;
            if v < 0 && name == TCP_USER_TIMEOUT {
                return Err(Errno::EINVAL);
            }
            set_option(sock, level, name, v.max(0).to_ne_bytes().to_vec());
        }
        (IPPROTO_TCP, TCP_CONGESTION) => {
            let raw = read_value(t, val, len.min(16), len.min(16) as usize)?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            if &raw[..end] != b"cubic" && &raw[..end] != b"reno" {
                return Err(Errno::ENOENT);
            }
            set_option(sock, level, name, raw[..end].to_vec());
        }
        (IPPROTO_TCP, _) => return Err(Errno::ENOPROTOOPT),
        (IPPROTO_IP, _) if sock.family() == Family::V6 && name == IP_TOS => {
            // An AF_INET6 socket takes IPv4 options for its mapped traffic.
            let v = int_value(t, val, len)?;
            set_option(sock, level, name, (v & 0xff).to_ne_bytes().to_vec());
        }
        (IPPROTO_IP, IP_TOS) => {
            let v = int_value(t, val, len)?;
            set_option(sock, level, name, (v & 0xff).to_ne_bytes().to_vec());
        }
        (IPPROTO_IP, IP_TTL) => {
            let v = int_value(t, val, len)?;
            if v != -1 && !(1..=255).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (IPPROTO_IP, IP_MTU_DISCOVER) => {
            let v = int_value(t, val, len)?;
            if !(0..=5).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (
            IPPROTO_IP,
            IP_PKTINFO
            | IP_RECVERR
            | IP_RECVTTL
            | IP_RECVTOS
            | IP_RECVOPTS
            | IP_FREEBIND
            | IP_BIND_ADDRESS_NO_PORT
            | IP_MULTICAST_LOOP
            | IP_HDRINCL,
        ) => {
            if name == IP_HDRINCL {
                // Raw sockets only.
                return Err(Errno::ENOPROTOOPT);
            }
            let v = int_value(t, val, len)?;
            set_option(sock, level, name, bool_int(v));
        }
        (IPPROTO_IP, IP_MULTICAST_TTL) => {
            let v = int_value(t, val, len)?;
            if !(-1..=255).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (IPPROTO_IP, IP_OPTIONS | IP_MULTICAST_IF | IP_ADD_MEMBERSHIP) => {
            // Joining a group or choosing a multicast interface needs one
            // with multicast; `lo` has none.
            return Err(if name == IP_OPTIONS {
                Errno::EINVAL
            } else {
                Errno::ENODEV
            });
        }
        (IPPROTO_IP, _) => return Err(Errno::ENOPROTOOPT),
        (IPPROTO_IPV6, _) if sock.family() == Family::V4 => return Err(Errno::ENOPROTOOPT),
        (IPPROTO_IPV6, IPV6_V6ONLY) => {
            let v = int_value(t, val, len)? != 0;
            sock.with_settings(|s, bound| s.set_v6only(v, bound))?;
        }
        (IPPROTO_IPV6, IPV6_UNICAST_HOPS | IPV6_MULTICAST_HOPS | IPV6_TCLASS) => {
            let v = int_value(t, val, len)?;
            if !(-1..=255).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set_option(sock, level, name, v.to_ne_bytes().to_vec());
        }
        (IPPROTO_ICMPV6, ICMP6_FILTER) => {
            // Which ICMPv6 types reach the socket: only echo replies ever
            // arrive, so the filter is kept for getsockopt.
            let raw = read_value(t, val, len.min(32), len.min(32) as usize)?;
            set_option(sock, level, name, raw);
        }
        (
            IPPROTO_IPV6,
            IPV6_RECVPKTINFO | IPV6_RECVERR | IPV6_MULTICAST_LOOP | IPV6_RECVHOPLIMIT
            | IPV6_RECVTCLASS,
        ) => {
            let v = int_value(t, val, len)?;
            set_option(sock, level, name, bool_int(v));
        }
        (IPPROTO_IPV6, IPV6_MULTICAST_IF) => return Err(Errno::ENODEV),
        (IPPROTO_IPV6, _) => return Err(Errno::ENOPROTOOPT),
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(())
}

/// `getsockopt` on an internet socket: the value's bytes.
fn inet_getsockopt(sock: &InetSocket, level: i32, name: i32) -> Result<Vec<u8>, Errno> {
    let int = |v: i32| v.to_ne_bytes().to_vec();
    let stored = |default: i32| option(sock, level, name).unwrap_or_else(|| int(default));
    let is_tcp = matches!(sock, InetSocket::Tcp(_));
    // A level the protocol does not have falls to the IP layer, which
    // answers `EOPNOTSUPP` for IPv4 (`ip_getsockopt`) and `ENOPROTOOPT`
    // for IPv6.
    let wrong_level = match sock.family() {
        Family::V4 => Errno::EOPNOTSUPP,
        Family::V6 => Errno::ENOPROTOOPT,
    };
    Ok(match (level, name) {
        (SOL_SOCKET, SO_TYPE) => int(if is_tcp { SOCK_STREAM } else { SOCK_DGRAM }),
        (SOL_SOCKET, SO_DOMAIN) => int(sock.family().domain()),
        (SOL_SOCKET, SO_PROTOCOL) => int(if is_tcp { IPPROTO_TCP } else { IPPROTO_UDP }),
        (SOL_SOCKET, SO_ERROR) => {
            let e = match sock {
                InetSocket::Tcp(s) => s.take_error(),
                InetSocket::Udp(s) => s.take_error(),
            };
            int(e.map_or(0, i32::from))
        }
        (SOL_SOCKET, SO_ACCEPTCONN) => int(match sock {
            InetSocket::Tcp(s) => i32::from(s.is_listening()),
            InetSocket::Udp(_) => 0,
        }),
        (SOL_SOCKET, SO_SNDBUF | SO_RCVBUF) => {
            let (snd, rcv) = sock.with_settings(|s, _| (s.sndbuf, s.rcvbuf));
            int(if name == SO_SNDBUF { snd } else { rcv } as i32)
        }
        (SOL_SOCKET, SO_RCVTIMEO | SO_SNDTIMEO) => option(sock, level, name)
            .unwrap_or_else(|| zerocopy::IntoBytes::as_bytes(&Timeval::default()).to_vec()),
        (SOL_SOCKET, SO_LINGER) => option(sock, level, name)
            .unwrap_or_else(|| zerocopy::IntoBytes::as_bytes(&Linger::default()).to_vec()),
        (SOL_SOCKET, SO_PEERCRED) => zerocopy::IntoBytes::as_bytes(&Ucred {
            pid: 0,
            uid: u32::MAX,
            gid: u32::MAX,
        })
        .to_vec(),
        (SOL_SOCKET, SO_BINDTODEVICE) => option(sock, level, name).unwrap_or_default(),
        (
            SOL_SOCKET,
            SO_REUSEADDR | SO_REUSEPORT | SO_KEEPALIVE | SO_BROADCAST | SO_DEBUG | SO_DONTROUTE
            | SO_OOBINLINE | SO_TIMESTAMP | SO_PASSCRED | SO_PRIORITY | SO_MARK,
        ) => stored(0),
        (SOL_SOCKET, SO_RCVLOWAT | SO_SNDLOWAT) => stored(1),
        (SOL_SOCKET, _) => return Err(Errno::ENOPROTOOPT),
        (IPPROTO_TCP, _) if !is_tcp => return Err(wrong_level),
        (IPPROTO_TCP, TCP_INFO) => {
            let InetSocket::Tcp(s) = sock else {
                return Err(Errno::ENOPROTOOPT);
            };
            zerocopy::IntoBytes::as_bytes(&s.info()).to_vec()
        }
        (
            IPPROTO_TCP,
            TCP_NODELAY | TCP_CORK | TCP_LINGER2 | TCP_DEFER_ACCEPT | TCP_USER_TIMEOUT
            | TCP_FASTOPEN | TCP_NOTSENT_LOWAT | TCP_WINDOW_CLAMP,
        ) => stored(0),
        (IPPROTO_TCP, TCP_QUICKACK) => stored(1),
        (IPPROTO_TCP, TCP_KEEPIDLE) => stored(7200),
        (IPPROTO_TCP, TCP_KEEPINTVL) => stored(75),
        (IPPROTO_TCP, TCP_KEEPCNT) => stored(9),
        (IPPROTO_TCP, TCP_SYNCNT) => stored(6),
        (IPPROTO_TCP, TCP_MAXSEG) => {
            let InetSocket::Tcp(s) = sock else {
                return Err(Errno::ENOPROTOOPT);
            };
            let mss = s.info().snd_mss as i32;
            match option(sock, level, name) {
                Some(v) if v != int(0) && s.peer_addr().is_err() => v,
                _ => int(mss),
            }
        }
        (IPPROTO_TCP, TCP_CONGESTION) => {
            let mut name = option(sock, level, name).unwrap_or_else(|| b"cubic".to_vec());
            name.resize(16, 0);
            name
        }
        (IPPROTO_TCP, _) => return Err(Errno::ENOPROTOOPT),
        (IPPROTO_IP, IP_TTL) => match option(sock, level, name) {
            Some(v) if v != int(-1) => v,
            _ => int(64),
        },
        (IPPROTO_IP, IP_MTU) => {
            inet_peer_addr(sock).map_err(|_| Errno::ENOTCONN)?;
            int(crate::net::inet::LOOPBACK_MTU as i32)
        }
        (IPPROTO_IP, IP_MTU_DISCOVER) => stored(1),
        (IPPROTO_IP, IP_MULTICAST_TTL | IP_MULTICAST_LOOP) => stored(1),
        (
            IPPROTO_IP,
            IP_TOS
            | IP_PKTINFO
            | IP_RECVERR
            | IP_RECVTTL
            | IP_RECVTOS
            | IP_RECVOPTS
            | IP_FREEBIND
            | IP_BIND_ADDRESS_NO_PORT,
        ) => stored(0),
        (IPPROTO_IP, _) => return Err(Errno::ENOPROTOOPT),
        (IPPROTO_IPV6, _) if sock.family() == Family::V4 => return Err(wrong_level),
        (IPPROTO_IPV6, IPV6_V6ONLY) => int(i32::from(sock.with_settings(|s, _| s.v6only))),
        (IPPROTO_IPV6, IPV6_UNICAST_HOPS | IPV6_MULTICAST_HOPS) => {
            match option(sock, level, name) {
                Some(v) if v != int(-1) => v,
                _ => int(if name == IPV6_UNICAST_HOPS { 64 } else { 1 }),
            }
        }
        (IPPROTO_IPV6, IPV6_TCLASS) => match option(sock, level, name) {
            Some(v) if v != int(-1) => v,
            _ => int(0),
        },
        (IPPROTO_IPV6, IPV6_RECVPKTINFO | IPV6_RECVERR | IPV6_RECVHOPLIMIT | IPV6_RECVTCLASS) => {
            stored(0)
        }
        (IPPROTO_ICMPV6, ICMP6_FILTER) => option(sock, level, name).unwrap_or_else(|| vec![0; 32]),
        (IPPROTO_IPV6, IPV6_MULTICAST_LOOP) => stored(1),
        (IPPROTO_IPV6, _) => return Err(Errno::ENOPROTOOPT),
        _ => return Err(wrong_level),
    })
}
