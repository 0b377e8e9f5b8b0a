//! The socket calls on host sockets (`--network=host`,
//! [`crate::net::hostinet`]), reached through [`super::inet`]'s entry
//! points: blocking is the sentry's (the host descriptor never blocks),
//! flags and options pass to the host only from an allowlist.

use std::sync::Arc;

use abi_linux::inet::{
    IP_MTU, IP_MTU_DISCOVER, IP_TOS, IP_TTL, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPV6_TCLASS,
    IPV6_UNICAST_HOPS, IPV6_V6ONLY, TCP_CONGESTION, TCP_CORK, TCP_DEFER_ACCEPT, TCP_INFO,
    TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_LINGER2, TCP_MAXSEG, TCP_NODELAY,
    TCP_NOTSENT_LOWAT, TCP_QUICKACK, TCP_SYNCNT, TCP_USER_TIMEOUT, TCP_WINDOW_CLAMP, TcpInfo,
};
use abi_linux::socket::{
    SO_ACCEPTCONN, SO_BROADCAST, SO_DOMAIN, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_OOBINLINE,
    SO_PROTOCOL, SO_RCVBUF, SO_RCVLOWAT, SO_RCVTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF,
    SO_SNDTIMEO, SO_TYPE, SOCK_CLOEXEC, SOCK_NONBLOCK, SOL_SOCKET,
};
use abi_linux::{Errno, Linger, MsgFlags, OpenFlags, Timeval};
use vfs_core::FileRef;
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS};

use super::inet::{Received, new_file, nonblocking};
use super::socket::next_ino;
use super::socket::{block, send_stream, write_sockaddr};
use super::time::deadline_after;
use super::{SysResult, UserAddr};
use crate::mm::io::{UserDest, UserSource};
use crate::net::NetSocket;
use crate::net::hostinet::{HostSocket, MAX_TRANSFER};
use crate::net::inet::Family;
use crate::net::unix::timeout_of;
use crate::task::Task;

/// `socket(2)` of a TCP or UDP socket on the host's network.
pub(super) fn create(
    t: &Task,
    family: Family,
    stream: bool,
    protocol: i32,
    nonblock: bool,
    cloexec: bool,
) -> SysResult {
    let sock = HostSocket::create(family, stream, protocol, next_ino(t))?;
    let file = new_file(t, NetSocket::Host(sock), nonblock);
    t.fds
        .add(file, cloexec, 0, t.fd_limit())
        .map(|fd| fd as u64)
}

pub(super) fn accept(
    t: &Task,
    file: &FileRef,
    s: &Arc<HostSocket>,
    addr: UserAddr,
    len_addr: UserAddr,
    flags: i32,
) -> SysResult {
    let nonblock = file.status_flags().contains(OpenFlags::NONBLOCK);
    let ino = next_ino(t);
    let (sock, peer) = block(s.waiters(), READABLE_EVENTS, nonblock, None, || {
        s.accept(ino)
    })?;
    let new = new_file(t, NetSocket::Host(sock), flags & SOCK_NONBLOCK != 0);
    let newfd = t.fds.add(new, flags & SOCK_CLOEXEC != 0, 0, t.fd_limit())?;
    if let Err(e) = write_sockaddr(t, addr, len_addr, &peer) {
        if let Ok(f) = t.fds.remove(newfd) {
            f.release(&t.ctx);
        }
        return Err(e);
    }
    Ok(newfd as u64)
}

/// `connect`: a blocking caller waits for the host to finish and gets its
/// outcome (`SO_ERROR`); a non-blocking one gets `EINPROGRESS`.
pub(super) fn connect(file: &FileRef, s: &Arc<HostSocket>, bytes: &[u8]) -> SysResult {
    match s.connect(bytes) {
        Err(Errno::EINPROGRESS) if !file.status_flags().contains(OpenFlags::NONBLOCK) => {
            let mask = WRITABLE_EVENTS | EventMask::ERR | EventMask::HUP;
            block(s.waiters(), mask, false, None, || {
                if s.readiness(mask).is_empty() {
                    Err(Errno::EAGAIN)
                } else {
                    Ok(())
                }
            })?;
            let err = s.getsockopt(SOL_SOCKET, SO_ERROR, 4)?;
            match i32::from_ne_bytes(err[..4].try_into().map_err(|_| Errno::EIO)?) {
                0 => Ok(0),
                e => Err(Errno::from_raw(e).unwrap_or(Errno::EIO)),
            }
        }
        r => r.map(|()| 0),
    }
}

/// Keeps only the `MSG_*` flags passed to the host; the sentry does the
/// waiting, so `MSG_DONTWAIT` and `MSG_WAITALL` never go.
fn host_flags(flags: MsgFlags, sending: bool) -> i32 {
    let allowed = if sending {
        MsgFlags::OOB | MsgFlags::DONTROUTE | MsgFlags::EOR | MsgFlags::MORE | MsgFlags::CONFIRM
    } else {
        MsgFlags::OOB | MsgFlags::PEEK | MsgFlags::TRUNC
    };
    (flags & allowed).bits() as i32
}

pub(super) fn send(
    t: &Task,
    file: &FileRef,
    s: &Arc<HostSocket>,
    iovs: Vec<(u64, usize)>,
    flags: MsgFlags,
    to: Option<&[u8]>,
) -> Result<usize, Errno> {
    let total: usize = iovs.iter().map(|&(_, len)| len).sum();
    let nonblock = nonblocking(file, flags);
    let deadline = timeout_of(s.options().get(SOL_SOCKET, SO_SNDTIMEO)).map(deadline_after);
    let hflags = host_flags(flags, true);
    let mut src = UserSource::new(&t.mm, iovs);
    let result = if s.is_stream() && total > 0 {
        send_stream(
            &mut src,
            total,
            MAX_TRANSFER,
            s.waiters(),
            nonblock,
            deadline,
            |piece| s.send(piece, hflags, to),
        )
    } else {
        if total > MAX_TRANSFER {
            return Err(Errno::EMSGSIZE);
        }
        let mut data = vec![0u8; total];
        let n = vfs_core::io::copy_in(&mut src, &mut data)?;
        data.truncate(n);
        block(s.waiters(), WRITABLE_EVENTS, nonblock, deadline, || {
            s.send(&data, hflags, to)
        })
    };
    if result == Err(Errno::EPIPE) && s.is_stream() && !flags.contains(MsgFlags::NOSIGNAL) {
        super::raise_error_signal(t, libc::SIGPIPE);
    }
    result
}

pub(super) fn recv(
    t: &Task,
    file: &FileRef,
    s: &Arc<HostSocket>,
    iovs: Vec<(u64, usize)>,
    flags: MsgFlags,
) -> Result<Received, Errno> {
    if flags.contains(MsgFlags::ERRQUEUE) {
        return Err(Errno::EAGAIN);
    }
    let nonblock = nonblocking(file, flags);
    let deadline = timeout_of(s.options().get(SOL_SOCKET, SO_RCVTIMEO)).map(deadline_after);
    let total: usize = iovs.iter().map(|&(_, len)| len).sum();
    let hflags = host_flags(flags, false);
    let mut buf = vec![0u8; total.min(MAX_TRANSFER)];
    let mut dst = UserDest::new(&t.mm, iovs);
    let (mut len, from, out) = block(s.waiters(), READABLE_EVENTS, nonblock, deadline, || {
        s.recv(&mut buf, hflags)
    })?;
    let mut copied = vfs_core::io::copy_out(&mut dst, &buf[..len.min(buf.len())])?;
    let waitall =
        flags.contains(MsgFlags::WAITALL) && s.is_stream() && !flags.contains(MsgFlags::PEEK);
    while waitall && len > 0 && copied < total {
        let want = (total - copied).min(MAX_TRANSFER);
        match block(s.waiters(), READABLE_EVENTS, nonblock, deadline, || {
            s.recv(&mut buf[..want], 0)
        }) {
            Ok((0, _, _)) | Err(_) => break,
            Ok((n, _, _)) => {
                copied += vfs_core::io::copy_out(&mut dst, &buf[..n])?;
                len = copied;
            }
        }
    }
    Ok(Received {
        len,
        flags: MsgFlags::from_bits_truncate(out as u32) & (MsgFlags::TRUNC | MsgFlags::CTRUNC),
        from: (!s.is_stream()).then_some(from),
        control: Vec::new(),
    })
}

/// The size of an option's value when it is on the allowlist of options
/// passed to the host (gVisor's hostinet allows a similar set).
fn allowed_option(level: i32, name: i32) -> Option<usize> {
    let int = size_of::<i32>();
    match (level, name) {
        (
            SOL_SOCKET,
            SO_REUSEADDR | SO_REUSEPORT | SO_KEEPALIVE | SO_BROADCAST | SO_OOBINLINE | SO_RCVBUF
            | SO_SNDBUF | SO_RCVLOWAT | SO_ERROR | SO_TYPE | SO_DOMAIN | SO_PROTOCOL
            | SO_ACCEPTCONN,
        ) => Some(int),
        (SOL_SOCKET, SO_LINGER) => Some(size_of::<Linger>()),
        (
            IPPROTO_TCP,
            TCP_NODELAY | TCP_CORK | TCP_KEEPIDLE | TCP_KEEPINTVL | TCP_KEEPCNT | TCP_SYNCNT
            | TCP_LINGER2 | TCP_DEFER_ACCEPT | TCP_WINDOW_CLAMP | TCP_QUICKACK | TCP_USER_TIMEOUT
            | TCP_NOTSENT_LOWAT | TCP_MAXSEG,
        ) => Some(int),
        (IPPROTO_TCP, TCP_INFO) => Some(size_of::<TcpInfo>()),
        (IPPROTO_TCP, TCP_CONGESTION) => Some(16),
        (IPPROTO_IP, IP_TOS | IP_TTL | IP_MTU_DISCOVER | IP_MTU) => Some(int),
        (IPPROTO_IPV6, IPV6_V6ONLY | IPV6_UNICAST_HOPS | IPV6_TCLASS) => Some(int),
        _ => None,
    }
}

pub(super) fn setsockopt(
    t: &Task,
    s: &Arc<HostSocket>,
    level: i32,
    name: i32,
    val: UserAddr,
    len: u32,
) -> Result<(), Errno> {
    if level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
        let value = super::socket::timeout_value(t, val, len)?;
        s.options().set(level, name, value);
        return Ok(());
    }
    let size = allowed_option(level, name).ok_or(Errno::ENOPROTOOPT)?;
    let mut value = vec![0u8; (len as usize).min(size)];
    t.mm.copy_in_exact(val.get(), &mut value)?;
    s.setsockopt(level, name, &value)
}

pub(super) fn getsockopt(s: &Arc<HostSocket>, level: i32, name: i32) -> Result<Vec<u8>, Errno> {
    if level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
        return Ok(s
            .options()
            .get(level, name)
            .unwrap_or_else(|| zerocopy::IntoBytes::as_bytes(&Timeval::default()).to_vec()));
    }
    let size = allowed_option(level, name).ok_or(Errno::ENOPROTOOPT)?;
    s.getsockopt(level, name, size)
}
