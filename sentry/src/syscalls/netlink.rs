//! The socket calls on `AF_NETLINK` sockets ([`crate::net::netlink`]),
//! reached through [`super::inet`]'s entry points.

use std::sync::Arc;

use abi_linux::netlink::{
    NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_DROP_MEMBERSHIP, NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK, NETLINK_NO_ENOBUFS, NETLINK_PKTINFO, NETLINK_ROUTE, SOL_NETLINK,
    SockaddrNl,
};
use abi_linux::socket::{
    AF_NETLINK, AF_UNSPEC, SO_DOMAIN, SO_PASSCRED, SO_PROTOCOL, SO_RCVBUF, SO_RCVBUFFORCE,
    SO_RCVTIMEO, SO_SNDBUF, SO_SNDBUFFORCE, SO_TYPE, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK,
    SOCK_RAW, SOCK_TYPE_MASK, SOL_SOCKET,
};
use abi_linux::{Errno, MsgFlags};
use vfs_core::FileRef;
use vfs_core::waiter::READABLE_EVENTS;
use zerocopy::IntoBytes;

use super::inet::{Received, int_value, new_file, nonblocking};
use super::socket::block;
use super::socket::{buffer_value, next_ino};
use super::time::deadline_after;
use super::{SysResult, UserAddr};
use crate::mm::io::{UserDest, UserSource};
use crate::net::NetSocket;
use crate::net::netlink::{HostRoute, MAX_REQUEST, NetlinkSocket};
use crate::net::unix::timeout_of;
use crate::task::Task;

/// `socket(AF_NETLINK, ty, protocol)`: raw or datagram sockets of
/// `NETLINK_ROUTE`; other netlink protocols are `EPROTONOSUPPORT`.
pub(super) fn create(t: &Task, ty: i32, protocol: i32) -> SysResult {
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    match ty & SOCK_TYPE_MASK {
        SOCK_RAW | SOCK_DGRAM => {}
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    }
    if protocol != NETLINK_ROUTE {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let host = if t.kernel.network == crate::kernel::Network::Host {
        Some(HostRoute::open()?)
    } else {
        None
    };
    let sock = NetlinkSocket::new(next_ino(t), t.kernel.netlink_ports.clone(), host);
    let file = new_file(t, NetSocket::Netlink(sock), flags & SOCK_NONBLOCK != 0);
    t.fds
        .add(file, flags & SOCK_CLOEXEC != 0, 0, t.fd_limit())
        .map(|fd| fd as u64)
}

pub(super) fn bind(t: &Task, s: &Arc<NetlinkSocket>, bytes: &[u8]) -> Result<(), Errno> {
    let addr = NetlinkSocket::parse_addr(bytes)?;
    s.bind(addr, t.tgid as u32)
}

/// `connect`: only the kernel (port 0) answers; `AF_UNSPEC` disconnects.
pub(super) fn connect(t: &Task, s: &Arc<NetlinkSocket>, bytes: &[u8]) -> Result<(), Errno> {
    if bytes.len() >= 2 && i32::from(u16::from_ne_bytes([bytes[0], bytes[1]])) == AF_UNSPEC {
        return Ok(());
    }
    let addr = NetlinkSocket::parse_addr(bytes)?;
    if addr.pid != 0 {
        return Err(Errno::ECONNREFUSED);
    }
    s.port(t.tgid as u32).map(|_| ())
}

pub(super) fn local_addr(_: &Task, s: &Arc<NetlinkSocket>) -> Result<Vec<u8>, Errno> {
    Ok(s.local_addr().as_bytes().to_vec())
}

/// The kernel's address: the source of every answer.
pub(super) fn kernel_addr() -> Vec<u8> {
    SockaddrNl {
        family: AF_NETLINK as u16,
        ..SockaddrNl::default()
    }
    .as_bytes()
    .to_vec()
}

/// Sends a request to the kernel (or `ECONNREFUSED` to another port).
pub(super) fn send(
    t: &Task,
    s: &Arc<NetlinkSocket>,
    iovs: Vec<(u64, usize)>,
    to: Option<&[u8]>,
) -> Result<usize, Errno> {
    if let Some(bytes) = to
        && NetlinkSocket::parse_addr(bytes)?.pid != 0
    {
        return Err(Errno::ECONNREFUSED);
    }
    let total: usize = iovs.iter().map(|&(_, len)| len).sum();
    if total > MAX_REQUEST {
        return Err(Errno::EMSGSIZE);
    }
    let mut data = vec![0u8; total];
    let n = vfs_core::io::copy_in(&mut UserSource::new(&t.mm, iovs), &mut data)?;
    data.truncate(n);
    s.send(t.tgid as u32, &data)
}

/// Receives one answer; `MSG_TRUNC` reports its full length (glibc sizes
/// its buffer with `MSG_PEEK | MSG_TRUNC`).
pub(super) fn recv(
    t: &Task,
    file: &FileRef,
    s: &Arc<NetlinkSocket>,
    iovs: Vec<(u64, usize)>,
    flags: MsgFlags,
) -> Result<Received, Errno> {
    let nonblock = nonblocking(file, flags);
    let deadline =
        timeout_of(s.with_options(|o| o.get(SOL_SOCKET, SO_RCVTIMEO))).map(deadline_after);
    let peek = flags.contains(MsgFlags::PEEK);
    let mut dst = UserDest::new(&t.mm, iovs);
    let (len, full) = block(s.waiters(), READABLE_EVENTS, nonblock, deadline, || {
        s.recv(&mut dst, peek)
    })?;
    let mut out = MsgFlags::empty();
    let mut reported = len;
    if full > len {
        out |= MsgFlags::TRUNC;
        if flags.contains(MsgFlags::TRUNC) {
            reported = full;
        }
    }
    Ok(Received {
        len: reported,
        flags: out,
        from: Some(kernel_addr()),
        control: Vec::new(),
    })
}

pub(super) fn setsockopt(
    t: &Task,
    s: &Arc<NetlinkSocket>,
    level: i32,
    name: i32,
    val: UserAddr,
    len: u32,
) -> Result<(), Errno> {
    match (level, name) {
        (SOL_SOCKET, SO_SNDBUF | SO_RCVBUF | SO_SNDBUFFORCE | SO_RCVBUFFORCE) => {
            let (send, v) = buffer_value(t, name, val, len)?;
            s.set_buffer(send, v);
        }
        (SOL_SOCKET, SO_RCVTIMEO) => {
            let value = super::socket::timeout_value(t, val, len)?;
            s.with_options(|o| o.set(level, name, value));
        }
        (SOL_SOCKET, SO_PASSCRED) => {
            let v = i32::from(int_value(t, val, len)? != 0);
            s.with_options(|o| o.set(level, name, v.to_ne_bytes().to_vec()));
        }
        (SOL_SOCKET, _) => return Err(Errno::ENOPROTOOPT),
        (
            SOL_NETLINK,
            NETLINK_ADD_MEMBERSHIP
            | NETLINK_DROP_MEMBERSHIP
            | NETLINK_PKTINFO
            | NETLINK_NO_ENOBUFS
            | NETLINK_CAP_ACK
            | NETLINK_EXT_ACK
            | NETLINK_GET_STRICT_CHK,
        ) => {
            let v = int_value(t, val, len)?;
            let keep = if name == NETLINK_ADD_MEMBERSHIP || name == NETLINK_DROP_MEMBERSHIP {
                // Groups are accepted; nothing is ever multicast.
                v
            } else {
                i32::from(v != 0)
            };
            s.with_options(|o| o.set(level, name, keep.to_ne_bytes().to_vec()));
        }
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(())
}

pub(super) fn getsockopt(s: &Arc<NetlinkSocket>, level: i32, name: i32) -> Result<Vec<u8>, Errno> {
    let int = |v: i32| v.to_ne_bytes().to_vec();
    Ok(match (level, name) {
        (SOL_SOCKET, SO_TYPE) => int(SOCK_RAW),
        (SOL_SOCKET, SO_DOMAIN) => int(AF_NETLINK),
        (SOL_SOCKET, SO_PROTOCOL) => int(NETLINK_ROUTE),
        (SOL_SOCKET, SO_SNDBUF) => int(s.buffers().0 as i32),
        (SOL_SOCKET, SO_RCVBUF) => int(s.buffers().1 as i32),
        (SOL_SOCKET, SO_PASSCRED) => s
            .with_options(|o| o.get(level, name))
            .unwrap_or_else(|| int(0)),
        (SOL_SOCKET, _) => return Err(Errno::ENOPROTOOPT),
        (
            SOL_NETLINK,
            NETLINK_PKTINFO
            | NETLINK_NO_ENOBUFS
            | NETLINK_CAP_ACK
            | NETLINK_EXT_ACK
            | NETLINK_GET_STRICT_CHK,
        ) => int(i32::from(s.with_options(|o| o.flag(level, name)))),
        _ => return Err(Errno::ENOPROTOOPT),
    })
}
