//! The socket calls (gVisor's `sys_socket.go`) over the sentry's UNIX
//! domain sockets ([`crate::net::unix`]); internet and netlink sockets
//! are handed to [`super::inet`]. Other address families are
//! `EAFNOSUPPORT`, as on a Linux built without them, so programs fall back
//! quietly.

use std::sync::Arc;
use std::time::Instant;

use abi_linux::socket::{
    AF_UNIX, AF_UNSPEC, SCM_CREDENTIALS, SCM_MAX_FD, SCM_RIGHTS, SHUT_RD, SHUT_RDWR, SHUT_WR,
    SO_ACCEPTCONN, SO_BROADCAST, SO_DEBUG, SO_DOMAIN, SO_DONTROUTE, SO_ERROR, SO_KEEPALIVE,
    SO_LINGER, SO_OOBINLINE, SO_PASSCRED, SO_PEERCRED, SO_PROTOCOL, SO_RCVBUF, SO_RCVBUFFORCE,
    SO_RCVLOWAT, SO_RCVTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDBUFFORCE, SO_SNDLOWAT,
    SO_SNDTIMEO, SO_TYPE, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOCK_TYPE_MASK, SOL_SOCKET,
    cmsg_align, cmsg_len, cmsg_space,
};
use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{
    Capability, CmsgHdr, Errno, Linger, MMsgHdr, MsgFlags, MsgHdr, OpenFlags, Timeval, Ucred,
};
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};
use vfs_core::{AccessTypes, FileRef, MknodOptions, StatOptions};

use super::inet;
use super::time::{deadline_after, read_timespec};
use super::{Fd, SysResult, SyscallTable, UserAddr, with_file, with_path};
use crate::mm::io::{UserDest, UserSource, read_iovecs};
use crate::net::inet::Family;
use crate::net::unix::{
    Creds, Endpoint, Kind, MAX_BUFFER, MIN_RCVBUF, MIN_SNDBUF, NameKey, SocketFile, UnixAddr,
    timeout_of,
};
use crate::net::{NetFile, NetSocket};
use crate::task::Task;
use crate::wait::{TaskWaker, interrupted};

/// The largest address `bind`, `connect` and `sendto` accept
/// (`sizeof(struct sockaddr_storage)`).
const MAX_ADDR_LEN: u32 = 128;
/// The most control data `sendmsg` accepts (`net.core.optmem_max`).
const MAX_CONTROL_LEN: u64 = 131_072;
/// The most messages one `sendmmsg`/`recvmmsg` moves (`UIO_MAXIOV`).
const MAX_MMSG: u32 = 1024;
/// The credentials of a message sent without any (`SO_PASSCRED` set on
/// the receiver only): no process, the overflow user and group.
const NOBODY: Ucred = Ucred {
    pid: 0,
    uid: 65534,
    gid: 65534,
};

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::SOCKET, sys_socket);
    table.typed(nr::SOCKETPAIR, sys_socketpair);
    table.typed(nr::BIND, sys_bind);
    table.typed(nr::LISTEN, sys_listen);
    table.typed(nr::ACCEPT, sys_accept);
    table.typed(nr::ACCEPT4, sys_accept4);
    table.typed(nr::CONNECT, sys_connect);
    table.typed(nr::GETSOCKNAME, sys_getsockname);
    table.typed(nr::GETPEERNAME, sys_getpeername);
    table.typed(nr::SENDTO, sys_sendto);
    table.typed(nr::RECVFROM, sys_recvfrom);
    table.typed(nr::SENDMSG, sys_sendmsg);
    table.typed(nr::RECVMSG, sys_recvmsg);
    table.typed(nr::SENDMMSG, sys_sendmmsg);
    table.typed(nr::RECVMMSG, sys_recvmmsg);
    table.typed(nr::SHUTDOWN, sys_shutdown);
    table.typed(nr::SETSOCKOPT, sys_setsockopt);
    table.typed(nr::GETSOCKOPT, sys_getsockopt);
    table.partial(
        nr::SOCKET,
        "AF_UNIX; AF_INET/AF_INET6 TCP, UDP and ICMP echo (per ping_group_range) on the \
         loopback, or on the host with --network=host; AF_NETLINK NETLINK_ROUTE, read-only; \
         raw sockets refused (EPERM); other families EAFNOSUPPORT",
    );
    table.partial(
        nr::SENDMSG,
        "SCM_RIGHTS cycles (a socket sent over itself) are never collected; \
         TCP urgent data (MSG_OOB) is EOPNOTSUPP",
    );
    table.partial(nr::SENDTO, "TCP urgent data (MSG_OOB) is EOPNOTSUPP");
    table.partial(
        nr::RECVMSG,
        "datagrams carry IP_PKTINFO, IP_TTL, IP_TOS, IPV6_PKTINFO and IPV6_HOPLIMIT; \
         no timestamps (SO_TIMESTAMP) or error queue (MSG_ERRQUEUE is EAGAIN)",
    );
}

/// The `SO_PEERCRED` credentials of the calling task: process ID,
/// effective user and group.
fn peer_cred_of(t: &Task) -> Ucred {
    let c = &t.ctx.credentials;
    Ucred {
        pid: t.tgid,
        uid: c.effective_uid,
        gid: c.effective_gid,
    }
}

/// The `SCM_CREDENTIALS` a task's messages carry by default: process ID,
/// real user and group.
fn sender_cred_of(t: &Task) -> Ucred {
    let c = &t.ctx.credentials;
    Ucred {
        pid: t.tgid,
        uid: c.real_uid,
        gid: c.real_gid,
    }
}

/// The endpoint of socket file `file`, or `ENOTSOCK`.
fn endpoint_of(file: &FileRef) -> Result<Arc<Endpoint>, Errno> {
    file.downcast::<SocketFile>()
        .map(|s| s.endpoint().clone())
        .ok_or(Errno::ENOTSOCK)
}

/// Runs `inet` on the internet socket at `fd`, or `unix` on the UNIX
/// socket there; `ENOTSOCK` for another file.
fn with_socket<T>(
    t: &Task,
    fd: Fd,
    inet: impl FnOnce(&FileRef, &NetSocket) -> Result<T, Errno>,
    unix: impl FnOnce(&FileRef, &Arc<Endpoint>) -> Result<T, Errno>,
) -> Result<T, Errno> {
    with_file(t, fd.0, |file| match file.downcast::<NetFile>() {
        Some(f) => inet(file, f.socket()),
        None => unix(file, &endpoint_of(file)?),
    })
}

/// `write`/`writev` on a socket: a `send` with no flags (Linux's
/// `sock_write_iter`), so a blocking write to a stream waits until every
/// byte is queued rather than stopping when the peer's buffer fills.
/// `None` for a file that is not a socket.
pub(super) fn write_socket(
    t: &Task,
    file: &FileRef,
    iovs: Vec<(u64, usize)>,
) -> Option<Result<usize, Errno>> {
    if let Some(f) = file.downcast::<NetFile>() {
        return Some(inet::send(
            t,
            file,
            f.socket(),
            iovs,
            MsgFlags::empty(),
            None,
        ));
    }
    let ep = file.downcast::<SocketFile>()?.endpoint().clone();
    Some(autobind_for_passcred(t, &ep).and_then(|()| {
        send(
            t,
            file,
            &ep,
            iovs,
            MsgFlags::empty(),
            None,
            Ancillary::default(),
        )
    }))
}

/// A socket file description of `imp` on the anonymous mount.
pub(super) fn anon_socket_file(
    t: &Task,
    imp: Box<dyn vfs_core::FileDescriptionImpl>,
    nonblock: bool,
) -> FileRef {
    let flags = if nonblock {
        OpenFlags::RDWR | OpenFlags::NONBLOCK
    } else {
        OpenFlags::RDWR
    };
    vfs_core::file_description_util::new_anon_file(flags, &t.kernel.anon_mount, imp)
}

/// A socket file description for `endpoint` on the anonymous mount.
fn socket_file(t: &Task, endpoint: Arc<Endpoint>, nonblock: bool) -> FileRef {
    let imp = SocketFile::new(endpoint, t.kernel.unix_names.clone());
    anon_socket_file(t, Box::new(imp), nonblock)
}

/// A new inode number for a socket.
pub(super) fn next_ino(t: &Task) -> u64 {
    t.kernel
        .next_anon_ino
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Splits a `socket(2)` type argument into the kind and the
/// `SOCK_NONBLOCK`/`SOCK_CLOEXEC` flags; `EINVAL` for other flags,
/// `ESOCKTNOSUPPORT` for other kinds (`SOCK_RAW` is a datagram socket, as
/// Linux's `unix_create` makes it).
fn parse_type(ty: i32) -> Result<(Kind, bool, bool), Errno> {
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let base = ty & SOCK_TYPE_MASK;
    let kind = if base == SOCK_RAW {
        Kind::Dgram
    } else {
        Kind::from_type(base).ok_or(Errno::ESOCKTNOSUPPORT)?
    };
    Ok((kind, flags & SOCK_NONBLOCK != 0, flags & SOCK_CLOEXEC != 0))
}

fn check_family_and_protocol(domain: i32, protocol: i32) -> Result<(), Errno> {
    if domain != AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    if protocol != 0 && protocol != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    Ok(())
}

fn sys_socket(t: &mut Task, domain: i32, ty: i32, protocol: i32) -> SysResult {
    if let Some(family) = Family::from_domain(domain) {
        return inet::create(t, family, ty, protocol);
    }
    if domain == abi_linux::socket::AF_NETLINK {
        return super::netlink::create(t, ty, protocol);
    }
    check_family_and_protocol(domain, protocol)?;
    let (kind, nonblock, cloexec) = parse_type(ty)?;
    let endpoint = Endpoint::new(kind, next_ino(t), peer_cred_of(t));
    let file = socket_file(t, endpoint, nonblock);
    t.fds
        .add(file, cloexec, 0, t.fd_limit())
        .map(|fd| fd as u64)
}

fn sys_socketpair(t: &mut Task, domain: i32, ty: i32, protocol: i32, sv: UserAddr) -> SysResult {
    if Family::from_domain(domain).is_some() {
        // Linux's `sock_no_socketpair`.
        return Err(Errno::EOPNOTSUPP);
    }
    check_family_and_protocol(domain, protocol)?;
    let (kind, nonblock, cloexec) = parse_type(ty)?;
    let (a, b) = Endpoint::pair(kind, (next_ino(t), next_ino(t)), peer_cred_of(t));
    let fa = t
        .fds
        .add(socket_file(t, a, nonblock), cloexec, 0, t.fd_limit())?;
    let fb = match t
        .fds
        .add(socket_file(t, b, nonblock), cloexec, 0, t.fd_limit())
    {
        Ok(fd) => fd,
        Err(e) => {
            close_fd(t, fa);
            return Err(e);
        }
    };
    if let Err(e) = t.mm.write_obj(sv.get(), &[fa, fb]) {
        close_fd(t, fa);
        close_fd(t, fb);
        return Err(e);
    }
    Ok(0)
}

fn close_fd(t: &Task, fd: i32) {
    if let Ok(f) = t.fds.remove(fd) {
        f.release(&t.ctx);
    }
}

/// Reads the `sockaddr` of `len` bytes at `addr`.
fn read_sockaddr(t: &Task, addr: UserAddr, len: u32) -> Result<Vec<u8>, Errno> {
    if len > MAX_ADDR_LEN {
        return Err(Errno::EINVAL);
    }
    let mut bytes = vec![0u8; len as usize];
    t.mm.copy_in_exact(addr.get(), &mut bytes)?;
    Ok(bytes)
}

/// Writes `bytes` (an address) to `addr`, cut to the length at `len_addr`,
/// and stores the full length there (`move_addr_to_user`).
pub(super) fn write_sockaddr(
    t: &Task,
    addr: UserAddr,
    len_addr: UserAddr,
    bytes: &[u8],
) -> Result<(), Errno> {
    if addr.is_null() || len_addr.is_null() {
        return Ok(());
    }
    let room: i32 = t.mm.read_obj(len_addr.get())?;
    let room = usize::try_from(room).map_err(|_| Errno::EINVAL)?;
    let n = room.min(bytes.len());
    t.mm.copy_out_exact(addr.get(), &bytes[..n])?;
    t.mm.write_obj(len_addr.get(), &(bytes.len() as i32))
}

/// The bytes of an address as `recvfrom`/`recvmsg`/`accept` report it:
/// nothing for an unnamed socket.
fn reported_addr(addr: &UnixAddr) -> Vec<u8> {
    match addr {
        UnixAddr::Unnamed => Vec::new(),
        a => a.to_sockaddr(),
    }
}

/// The endpoint bound to `addr`: an abstract name, or the socket inode a
/// path names, which the caller must be allowed to write (Linux's
/// `unix_find_other`).
///
/// Errors: the path's own (`ENOENT`, `EACCES`, `ENOTDIR`...);
/// `ECONNREFUSED` when nothing listens there.
fn find_endpoint(t: &Task, addr: &UnixAddr) -> Result<Arc<Endpoint>, Errno> {
    let names = &t.kernel.unix_names;
    let key = match addr {
        UnixAddr::Unnamed => return Err(Errno::EINVAL),
        UnixAddr::Abstract(name) => NameKey::Abstract(name.clone()),
        UnixAddr::Path(path) => {
            let st = with_path(t, abi_linux::AT_FDCWD, path, true, false, |pop| {
                t.kernel.vfs.access_at(&t.ctx, pop, AccessTypes::WRITE)?;
                t.kernel.vfs.stat_at(&t.ctx, pop, StatOptions::default())
            })?;
            if u32::from(st.stx_mode) & abi_linux::S_IFMT != abi_linux::S_IFSOCK {
                return Err(Errno::ECONNREFUSED);
            }
            NameKey::Inode(
                abi_linux::make_dev(st.stx_dev_major, st.stx_dev_minor),
                st.stx_ino,
            )
        }
    };
    names.lookup(&key).ok_or(Errno::ECONNREFUSED)
}

fn sys_bind(t: &mut Task, fd: Fd, addr: UserAddr, len: u32) -> SysResult {
    let bytes = read_sockaddr(t, addr, len)?;
    with_socket(
        t,
        fd,
        |_, s| inet::bind(t, s, &bytes),
        |_, ep| {
            let addr = UnixAddr::parse(&bytes)?;
            let names = &t.kernel.unix_names;
            match addr {
                // Linux creates the inode first: a taken path is EADDRINUSE
                // even for a socket that is bound already.
                Some(UnixAddr::Path(path)) => {
                    let key = create_socket_inode(t, &path)?;
                    let bound = ep.bind(names, UnixAddr::Path(path.clone()), Some(key));
                    if bound.is_err() {
                        let _ = with_path(t, abi_linux::AT_FDCWD, &path, false, false, |pop| {
                            t.kernel.vfs.unlink_at(&t.ctx, pop)
                        });
                    }
                    bound
                }
                _ if ep.is_bound() => Err(Errno::EINVAL),
                None => ep.bind(names, UnixAddr::Unnamed, None),
                Some(UnixAddr::Abstract(name)) => ep.bind(
                    names,
                    UnixAddr::Abstract(name.clone()),
                    Some(NameKey::Abstract(name)),
                ),
                Some(UnixAddr::Unnamed) => Err(Errno::EINVAL),
            }
        },
    )
    .map(|()| 0)
}

/// Creates the socket inode a path-bound socket is found by; `EADDRINUSE`
/// if the path exists.
fn create_socket_inode(t: &Task, path: &[u8]) -> Result<NameKey, Errno> {
    let mode = abi_linux::S_IFSOCK | (0o777 & !t.fs.umask());
    with_path(t, abi_linux::AT_FDCWD, path, false, false, |pop| {
        t.kernel.vfs.mknod_at(
            &t.ctx,
            pop,
            MknodOptions {
                mode,
                dev_major: 0,
                dev_minor: 0,
            },
        )
    })
    .map_err(|e| {
        if e == Errno::EEXIST {
            Errno::EADDRINUSE
        } else {
            e
        }
    })?;
    let st = with_path(t, abi_linux::AT_FDCWD, path, false, false, |pop| {
        t.kernel.vfs.stat_at(&t.ctx, pop, StatOptions::default())
    })?;
    Ok(NameKey::Inode(
        abi_linux::make_dev(st.stx_dev_major, st.stx_dev_minor),
        st.stx_ino,
    ))
}

fn sys_listen(t: &mut Task, fd: Fd, backlog: i32) -> SysResult {
    with_socket(
        t,
        fd,
        |_, s| inet::listen(s, backlog),
        |_, ep| ep.listen(backlog, peer_cred_of(t)),
    )
    .map(|()| 0)
}

/// Waits on `queue`'s owner for `mask` until `attempt` stops returning
/// `EAGAIN`: `EAGAIN` at once when `nonblock`, at `deadline` otherwise; a
/// handled signal ends the wait with `ERESTARTSYS`, or `EINTR` when a
/// timeout was set (Linux's `sock_intr_errno`).
pub(super) fn block<T>(
    waiters: &WaiterQueue,
    mask: EventMask,
    nonblock: bool,
    deadline: Option<Instant>,
    mut attempt: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    let first = attempt();
    if nonblock || !matches!(first, Err(Errno::EAGAIN)) {
        return first;
    }
    let waker = TaskWaker::new();
    let mask = vfs_core::waiter::with_always_reported(mask);
    let id = waiters.register(waker.clone(), mask);
    let result = loop {
        match attempt() {
            Err(Errno::EAGAIN) => {}
            r => break r,
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break Err(Errno::EAGAIN);
        }
        if interrupted() {
            break Err(if deadline.is_some() {
                Errno::EINTR
            } else {
                Errno::ERESTARTSYS
            });
        }
        waker.wait(deadline);
    };
    waiters.unregister(id);
    result
}

fn nonblocking(file: &FileRef, flags: MsgFlags) -> bool {
    flags.contains(MsgFlags::DONTWAIT) || file.status_flags().contains(OpenFlags::NONBLOCK)
}

fn accept(t: &Task, fd: Fd, addr: UserAddr, len_addr: UserAddr, flags: i32) -> SysResult {
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let inet = |file: &FileRef, s: &NetSocket| inet::accept(t, file, s, addr, len_addr, flags);
    with_socket(t, fd, inet, |file, ep| {
        if ep.kind() == Kind::Dgram {
            return Err(Errno::EOPNOTSUPP);
        }
        let nonblock = file.status_flags().contains(OpenFlags::NONBLOCK);
        let accepted = block(ep.waiters(), READABLE_EVENTS, nonblock, None, || {
            ep.accept()
        })?;
        let peer = reported_addr(&accepted.peer_addr().unwrap_or_default());
        let new = socket_file(t, accepted, flags & SOCK_NONBLOCK != 0);
        let newfd = t.fds.add(new, flags & SOCK_CLOEXEC != 0, 0, t.fd_limit())?;
        let peer = if peer.is_empty() {
            (AF_UNIX as u16).to_ne_bytes().to_vec()
        } else {
            peer
        };
        if let Err(e) = write_sockaddr(t, addr, len_addr, &peer) {
            close_fd(t, newfd);
            return Err(e);
        }
        Ok(newfd as u64)
    })
}

fn sys_accept(t: &mut Task, fd: Fd, addr: UserAddr, len_addr: UserAddr) -> SysResult {
    accept(t, fd, addr, len_addr, 0)
}

fn sys_accept4(t: &mut Task, fd: Fd, addr: UserAddr, len_addr: UserAddr, flags: i32) -> SysResult {
    accept(t, fd, addr, len_addr, flags)
}

fn sys_connect(t: &mut Task, fd: Fd, addr: UserAddr, len: u32) -> SysResult {
    let bytes = read_sockaddr(t, addr, len)?;
    let inet = |file: &FileRef, s: &NetSocket| inet::connect(t, file, s, &bytes).map(|_| ());
    with_socket(t, fd, inet, |file, ep| {
        if ep.kind() == Kind::Dgram {
            if bytes.len() >= 2 && i32::from(u16::from_ne_bytes([bytes[0], bytes[1]])) == AF_UNSPEC
            {
                return ep.connect_dgram(None, peer_cred_of(t));
            }
            let addr = UnixAddr::parse(&bytes)?.ok_or(Errno::EINVAL)?;
            let peer = find_endpoint(t, &addr)?;
            autobind_for_passcred(t, ep)?;
            return ep.connect_dgram(Some(peer), peer_cred_of(t));
        }
        let addr = UnixAddr::parse(&bytes)?.ok_or(Errno::EINVAL)?;
        let server = find_endpoint(t, &addr)?;
        autobind_for_passcred(t, ep)?;
        let nonblock = file.status_flags().contains(OpenFlags::NONBLOCK);
        let cred = peer_cred_of(t);
        let ino = next_ino(t);
        block(server.waiters(), WRITABLE_EVENTS, nonblock, None, || {
            ep.connect(&server, cred, ino)
        })
    })
    .map(|()| 0)
}

/// A socket with `SO_PASSCRED` gets an address when it connects or sends
/// (Linux's autobind), so its peer can tell who wrote.
fn autobind_for_passcred(t: &Task, ep: &Arc<Endpoint>) -> Result<(), Errno> {
    if ep.passcred() && !ep.is_bound() {
        ep.bind(&t.kernel.unix_names, UnixAddr::Unnamed, None)?;
    }
    Ok(())
}

fn sys_getsockname(t: &mut Task, fd: Fd, addr: UserAddr, len_addr: UserAddr) -> SysResult {
    let local = with_socket(
        t,
        fd,
        |_, s| inet::local_addr(t, s),
        |_, ep| Ok(ep.local_addr().to_sockaddr()),
    )?;
    write_sockaddr(t, addr, len_addr, &local)?;
    Ok(0)
}

fn sys_getpeername(t: &mut Task, fd: Fd, addr: UserAddr, len_addr: UserAddr) -> SysResult {
    let peer = with_socket(
        t,
        fd,
        |_, s| inet::peer_addr(s),
        |_, ep| ep.peer_addr().map(|a| a.to_sockaddr()),
    )?;
    write_sockaddr(t, addr, len_addr, &peer)?;
    Ok(0)
}

fn sys_shutdown(t: &mut Task, fd: Fd, how: i32) -> SysResult {
    let (rd, wr) = match how {
        SHUT_RD => (true, false),
        SHUT_WR => (false, true),
        SHUT_RDWR => (true, true),
        _ => return Err(Errno::EINVAL),
    };
    with_socket(
        t,
        fd,
        |_, s| inet::shutdown(s, rd, wr),
        |_, ep| ep.shutdown(rd, wr),
    )
    .map(|()| 0)
}

/// What one send carries besides its bytes.
#[derive(Default)]
struct Ancillary {
    rights: Vec<FileRef>,
    cred: Option<Ucred>,
}

/// Parses `sendmsg` control data (Linux's `__scm_send`): `SCM_RIGHTS`
/// (descriptors taken from the caller's table) and `SCM_CREDENTIALS`
/// (checked against the caller's credentials); other levels are ignored.
fn parse_control(t: &Task, addr: u64, len: u64) -> Result<Ancillary, Errno> {
    let mut anc = Ancillary::default();
    if len == 0 {
        return Ok(anc);
    }
    if len > MAX_CONTROL_LEN {
        return Err(Errno::ENOBUFS);
    }
    let mut raw = vec![0u8; len as usize];
    t.mm.copy_in_exact(addr, &mut raw)?;
    let header = size_of::<CmsgHdr>();
    let mut at = 0usize;
    let result = (|| {
        while at + header <= raw.len() {
            let (hdr, _) = <CmsgHdr as zerocopy::FromBytes>::read_from_prefix(&raw[at..])
                .map_err(|_| Errno::EINVAL)?;
            let clen = usize::try_from(hdr.len).map_err(|_| Errno::EINVAL)?;
            if clen < header || clen > raw.len() - at {
                return Err(Errno::EINVAL);
            }
            let data = &raw[at + cmsg_align(header)..at + clen.max(cmsg_align(header))];
            if hdr.level == SOL_SOCKET {
                match hdr.kind {
                    SCM_RIGHTS => {
                        let n = data.len() / 4;
                        if !anc.rights.is_empty() || n > SCM_MAX_FD {
                            return Err(Errno::EINVAL);
                        }
                        for fd in data.chunks_exact(4) {
                            let fd = i32::from_ne_bytes([fd[0], fd[1], fd[2], fd[3]]);
                            anc.rights.push(t.fds.get(fd)?);
                        }
                    }
                    SCM_CREDENTIALS => {
                        if clen != cmsg_len(size_of::<Ucred>()) {
                            return Err(Errno::EINVAL);
                        }
                        let (cred, _) = <Ucred as zerocopy::FromBytes>::read_from_prefix(data)
                            .map_err(|_| Errno::EINVAL)?;
                        check_creds(t, &cred)?;
                        anc.cred = Some(cred);
                    }
                    _ => return Err(Errno::EINVAL),
                }
            }
            at += cmsg_align(clen);
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(anc),
        Err(e) => {
            for f in anc.rights {
                f.release(&t.ctx);
            }
            Err(e)
        }
    }
}

/// Linux's `scm_check_creds`: a process may claim only its own PID (unless
/// `CAP_SYS_ADMIN`) and one of its own user and group IDs (unless
/// `CAP_SETUID`/`CAP_SETGID`).
fn check_creds(t: &Task, cred: &Ucred) -> Result<(), Errno> {
    let c = &t.ctx.credentials;
    let pid_ok = cred.pid == t.tgid || c.has_capability(Capability::SYS_ADMIN);
    let uid_ok = [c.real_uid, c.effective_uid, c.saved_uid].contains(&cred.uid)
        || c.has_capability(Capability::SETUID);
    let gid_ok = [c.real_gid, c.effective_gid, c.saved_gid].contains(&cred.gid)
        || c.has_capability(Capability::SETGID);
    if pid_ok && uid_ok && gid_ok {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// Sends the bytes of `iovs` with `anc` to the peer or `to`, blocking as
/// the socket and `flags` say. A stream sends in pieces no larger than
/// the send buffer and returns a short count when interrupted or
/// non-blocking after some bytes went; other kinds send one message.
fn send(
    t: &Task,
    file: &FileRef,
    ep: &Arc<Endpoint>,
    iovs: Vec<(u64, usize)>,
    flags: MsgFlags,
    to: Option<&Arc<Endpoint>>,
    mut anc: Ancillary,
) -> Result<usize, Errno> {
    let total: usize = iovs.iter().map(|&(_, len)| len).sum();
    let nonblock = nonblocking(file, flags);
    let deadline = timeout_of(ep.option(SO_SNDTIMEO)).map(deadline_after);
    let (sndbuf, _) = ep.buffers();
    let creds = Creds {
        explicit: anc.cred,
        sender: Some(sender_cred_of(t)),
    };
    let target = ep.send_target(to).unwrap_or_else(|| ep.clone());
    let mut src = UserSource::new(&t.mm, iovs);
    let result = if ep.kind() != Kind::Stream {
        if total > sndbuf {
            Err(Errno::EMSGSIZE)
        } else {
            let mut data = vec![0u8; total];
            let n = vfs_core::io::copy_in(&mut src, &mut data)?;
            data.truncate(n);
            block(
                target.waiters(),
                WRITABLE_EVENTS,
                nonblock,
                deadline,
                || ep.send(&data, &mut anc.rights, creds, to),
            )
        }
    } else if total == 0 {
        // Nothing to queue, but the socket must be connected.
        if ep.send_target(None).is_none() {
            Err(Errno::ENOTCONN)
        } else {
            Ok(0)
        }
    } else {
        let rights = &mut anc.rights;
        send_stream(
            &mut src,
            total,
            sndbuf,
            target.waiters(),
            nonblock,
            deadline,
            |piece| ep.send(piece, rights, creds, to),
        )
    };
    for f in anc.rights {
        f.release(&t.ctx);
    }
    if result == Err(Errno::EPIPE)
        && ep.kind() != Kind::Dgram
        && !flags.contains(MsgFlags::NOSIGNAL)
    {
        super::raise_error_signal(t, libc::SIGPIPE);
    }
    result
}

/// Sends the `total` bytes of `src` over a stream in pieces of at most
/// `chunk` bytes through `attempt` (which queues some of a piece, or
/// fails with `EAGAIN` when there is no room: the wait is on `queue`).
/// Returns a short count when interrupted, timed out, non-blocking or
/// faulting after some bytes went.
pub(super) fn send_stream(
    src: &mut UserSource<'_>,
    total: usize,
    chunk: usize,
    queue: &WaiterQueue,
    nonblock: bool,
    deadline: Option<Instant>,
    mut attempt: impl FnMut(&[u8]) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let mut sent = 0usize;
    let mut piece = Vec::new();
    loop {
        if sent == total {
            return Ok(sent);
        }
        let want = (total - sent).min(chunk.max(1));
        piece.resize(want, 0);
        let n = match vfs_core::io::copy_in(src, &mut piece) {
            Ok(n) if n > 0 => n,
            Ok(_) if sent > 0 => return Ok(sent),
            Ok(_) => return Err(Errno::EFAULT),
            Err(_) if sent > 0 => return Ok(sent),
            Err(e) => return Err(e),
        };
        piece.truncate(n);
        let mut offset = 0;
        while offset < piece.len() {
            match block(queue, WRITABLE_EVENTS, nonblock, deadline, || {
                attempt(&piece[offset..])
            }) {
                Ok(k) => {
                    offset += k;
                    sent += k;
                }
                Err(_) if sent > 0 => return Ok(sent),
                Err(e) => return Err(e),
            }
        }
        if n < want {
            // The caller's memory ended in a fault.
            return Ok(sent);
        }
    }
}

/// What `recvmsg` reports beyond the bytes.
struct RecvResult {
    len: usize,
    flags: MsgFlags,
    from: UnixAddr,
    control: Vec<u8>,
}

/// Receives into `iovs` (Linux's `unix_*_recvmsg`): waits unless
/// non-blocking, gathers a stream until the buffer is full under
/// `MSG_WAITALL`, and builds the control messages (`SCM_CREDENTIALS`
/// when `SO_PASSCRED` is set, then `SCM_RIGHTS`, installing the
/// descriptors) within `control_len` bytes.
fn recv(
    t: &Task,
    file: &FileRef,
    ep: &Arc<Endpoint>,
    iovs: Vec<(u64, usize)>,
    flags: MsgFlags,
    control_len: usize,
) -> Result<RecvResult, Errno> {
    if flags.contains(MsgFlags::OOB) {
        return Err(Errno::EOPNOTSUPP);
    }
    if flags.contains(MsgFlags::ERRQUEUE) {
        return Err(Errno::EAGAIN);
    }
    let nonblock = nonblocking(file, flags);
    let deadline = timeout_of(ep.option(SO_RCVTIMEO)).map(deadline_after);
    let peek = flags.contains(MsgFlags::PEEK);
    let total: usize = iovs.iter().map(|&(_, len)| len).sum();
    let mut dst = UserDest::new(&t.mm, iovs);
    let mut got = block(ep.waiters(), READABLE_EVENTS, nonblock, deadline, || {
        ep.recv(&mut dst, peek)
    })?;
    if ep.kind() == Kind::Stream && flags.contains(MsgFlags::WAITALL) && !peek {
        // Keep reading (without descriptors) until the buffer is full, the
        // stream ends, or a signal or timeout stops the wait.
        while got.len < total && got.rights.is_empty() {
            match block(ep.waiters(), READABLE_EVENTS, nonblock, deadline, || {
                ep.recv(&mut dst, false)
            }) {
                Ok(more) if more.len == 0 => break,
                Ok(mut more) => {
                    got.len += more.len;
                    got.full_len = got.len;
                    got.rights.append(&mut more.rights);
                }
                Err(_) => break,
            }
        }
    }
    // Linux echoes MSG_CMSG_CLOEXEC in `msg_flags`.
    let mut out_flags = flags & MsgFlags::CMSG_CLOEXEC;
    let mut len = got.len;
    if ep.kind() != Kind::Stream && got.full_len > got.len {
        out_flags |= MsgFlags::TRUNC;
        if flags.contains(MsgFlags::TRUNC) {
            len = got.full_len;
        }
    }
    let mut control = Vec::new();
    if ep.passcred() {
        let cred = got.cred.unwrap_or(NOBODY);
        push_cmsg(
            &mut control,
            control_len,
            SCM_CREDENTIALS,
            zerocopy::IntoBytes::as_bytes(&cred),
            &mut out_flags,
        );
    }
    if !got.rights.is_empty() {
        let room = control_len.saturating_sub(control.len());
        let fit = room.saturating_sub(cmsg_len(0)) / 4;
        let cloexec = flags.contains(MsgFlags::CMSG_CLOEXEC);
        let mut fds: Vec<u8> = Vec::new();
        for (i, f) in got.rights.drain(..).enumerate() {
            if i >= fit {
                out_flags |= MsgFlags::CTRUNC;
                f.release(&t.ctx);
                continue;
            }
            match t.fds.add(f, cloexec, 0, t.fd_limit()) {
                Ok(fd) => fds.extend_from_slice(&fd.to_ne_bytes()),
                Err(_) => out_flags |= MsgFlags::CTRUNC,
            }
        }
        if !fds.is_empty() {
            push_cmsg(&mut control, control_len, SCM_RIGHTS, &fds, &mut out_flags);
        } else if fit == 0 {
            out_flags |= MsgFlags::CTRUNC;
        }
    }
    Ok(RecvResult {
        len,
        flags: out_flags,
        from: got.from,
        control,
    })
}

/// Appends a `SOL_SOCKET` control message of `data` to `control`, within
/// `limit` bytes in all (see [`push_cmsg_at`]).
fn push_cmsg(control: &mut Vec<u8>, limit: usize, kind: i32, data: &[u8], flags: &mut MsgFlags) {
    push_cmsg_at(control, limit, SOL_SOCKET, kind, data, flags);
}

/// Appends a control message of `level` and `kind` carrying `data` to
/// `control`, within `limit` bytes in all, as Linux's `put_cmsg` does:
/// a message that does not fit is cut to the room left (its `cmsg_len`
/// says so) and `MSG_CTRUNC` is set; with no room for a header, only the
/// flag.
pub(super) fn push_cmsg_at(
    control: &mut Vec<u8>,
    limit: usize,
    level: i32,
    kind: i32,
    data: &[u8],
    flags: &mut MsgFlags,
) {
    let room = limit.saturating_sub(control.len());
    if room < size_of::<CmsgHdr>() {
        *flags |= MsgFlags::CTRUNC;
        return;
    }
    let mut len = cmsg_len(data.len());
    if len > room {
        *flags |= MsgFlags::CTRUNC;
        len = room;
    }
    let hdr = CmsgHdr {
        len: len as u64,
        level,
        kind,
    };
    let start = control.len();
    control.extend_from_slice(zerocopy::IntoBytes::as_bytes(&hdr));
    let header = cmsg_len(0);
    control.resize(start + header, 0);
    control.extend_from_slice(&data[..len - header]);
    let space = cmsg_space(data.len()).min(room);
    control.resize(start + space, 0);
}

/// A stream send with an address: `EISCONN` when connected, else
/// `EOPNOTSUPP` (sequenced-packet sockets ignore the address).
fn stream_address_error(ep: &Endpoint) -> Errno {
    if ep.peer_addr().is_ok() {
        Errno::EISCONN
    } else {
        Errno::EOPNOTSUPP
    }
}

/// Resolves the destination of `sendto`/`sendmsg`: none for a null or
/// empty address.
fn destination(t: &Task, addr: UserAddr, len: u32) -> Result<Option<Arc<Endpoint>>, Errno> {
    if addr.is_null() || len == 0 {
        return Ok(None);
    }
    let bytes = read_sockaddr(t, addr, len)?;
    let addr = UnixAddr::parse(&bytes)?.ok_or(Errno::EINVAL)?;
    find_endpoint(t, &addr).map(Some)
}

fn sys_sendto(
    t: &mut Task,
    fd: Fd,
    buf: UserAddr,
    len: usize,
    flags: u32,
    addr: UserAddr,
    addrlen: u32,
) -> SysResult {
    let flags = MsgFlags::from_bits_retain(flags);
    let inet = |file: &FileRef, s: &NetSocket| {
        let to = if addr.is_null() || addrlen == 0 {
            None
        } else {
            Some(read_sockaddr(t, addr, addrlen)?)
        };
        inet::send(t, file, s, vec![(buf.get(), len)], flags, to.as_deref())
    };
    with_socket(t, fd, inet, |file, ep| {
        let to = match ep.kind() {
            Kind::Dgram => destination(t, addr, addrlen)?,
            Kind::Stream if !addr.is_null() && addrlen > 0 => return Err(stream_address_error(ep)),
            _ => None,
        };
        autobind_for_passcred(t, ep)?;
        send(
            t,
            file,
            ep,
            vec![(buf.get(), len)],
            flags,
            to.as_ref(),
            Ancillary::default(),
        )
    })
    .map(|n| n as u64)
}

fn sys_recvfrom(
    t: &mut Task,
    fd: Fd,
    buf: UserAddr,
    len: usize,
    flags: u32,
    addr: UserAddr,
    len_addr: UserAddr,
) -> SysResult {
    let flags = MsgFlags::from_bits_retain(flags);
    let iovs = vec![(buf.get(), len)];
    let (len, from) = with_socket(
        t,
        fd,
        |file, s| inet::recv(t, file, s, iovs.clone(), flags),
        |file, ep| {
            let r = recv(t, file, ep, iovs.clone(), flags, 0)?;
            Ok((r.len, reported_addr(&r.from)))
        },
    )?;
    write_sockaddr(t, addr, len_addr, &from)?;
    Ok(len as u64)
}

fn sendmsg(
    t: &Task,
    file: &FileRef,
    ep: &Arc<Endpoint>,
    hdr: &MsgHdr,
    flags: MsgFlags,
) -> Result<usize, Errno> {
    let iovs = read_iovecs(&t.mm, hdr.iov, hdr.iovlen)?;
    let to = match ep.kind() {
        Kind::Dgram => destination(t, UserAddr(hdr.name), hdr.namelen)?,
        Kind::Stream if hdr.name != 0 && hdr.namelen > 0 => return Err(stream_address_error(ep)),
        _ => None,
    };
    let anc = parse_control(t, hdr.control, hdr.controllen)?;
    autobind_for_passcred(t, ep)?;
    send(t, file, ep, iovs, flags, to.as_ref(), anc)
}

fn sys_sendmsg(t: &mut Task, fd: Fd, msg: UserAddr, flags: u32) -> SysResult {
    let hdr: MsgHdr = t.mm.read_obj(msg.get())?;
    let flags = MsgFlags::from_bits_retain(flags);
    with_socket(
        t,
        fd,
        |file, s| inet::sendmsg(t, file, s, &hdr, flags),
        |file, ep| sendmsg(t, file, ep, &hdr, flags),
    )
    .map(|n| n as u64)
}

/// Receives one message into `hdr` and writes back its name, control and
/// flags.
fn recvmsg(
    t: &Task,
    file: &FileRef,
    ep: &Arc<Endpoint>,
    msg: u64,
    flags: MsgFlags,
) -> Result<usize, Errno> {
    let mut hdr: MsgHdr = t.mm.read_obj(msg)?;
    let iovs = read_iovecs(&t.mm, hdr.iov, hdr.iovlen)?;
    let control_len = usize::try_from(hdr.controllen).unwrap_or(usize::MAX);
    let r = recv(t, file, ep, iovs, flags, control_len)?;
    if hdr.name != 0 {
        let from = reported_addr(&r.from);
        let n = (hdr.namelen as usize).min(from.len());
        t.mm.copy_out_exact(hdr.name, &from[..n])?;
        hdr.namelen = from.len() as u32;
    }
    if !r.control.is_empty() {
        t.mm.copy_out_exact(hdr.control, &r.control)?;
    }
    hdr.controllen = r.control.len() as u64;
    hdr.flags = r.flags.bits();
    t.mm.write_obj(msg, &hdr)?;
    Ok(r.len)
}

fn sys_recvmsg(t: &mut Task, fd: Fd, msg: UserAddr, flags: u32) -> SysResult {
    let flags = MsgFlags::from_bits_retain(flags);
    with_socket(
        t,
        fd,
        |file, s| inet::recvmsg(t, file, s, msg.get(), flags),
        |file, ep| recvmsg(t, file, ep, msg.get(), flags),
    )
    .map(|n| n as u64)
}

fn sys_sendmmsg(t: &mut Task, fd: Fd, vec: UserAddr, vlen: u32, flags: u32) -> SysResult {
    let flags = MsgFlags::from_bits_retain(flags);
    let vlen = vlen.min(MAX_MMSG) as u64;
    let each = |one: &dyn Fn(&MsgHdr) -> Result<usize, Errno>| {
        let mut done = 0u64;
        let size = size_of::<MMsgHdr>() as u64;
        while done < vlen {
            let at = vec.get() + done * size;
            let mut m: MMsgHdr = t.mm.read_obj(at)?;
            match one(&m.hdr) {
                Ok(n) => {
                    m.len = n as u32;
                    t.mm.write_obj(at, &m)?;
                    done += 1;
                }
                Err(_) if done > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    };
    with_socket(
        t,
        fd,
        |file, s| each(&|hdr| inet::sendmsg(t, file, s, hdr, flags)),
        |file, ep| each(&|hdr| sendmsg(t, file, ep, hdr, flags)),
    )
}

fn sys_recvmmsg(
    t: &mut Task,
    fd: Fd,
    vec: UserAddr,
    vlen: u32,
    flags: u32,
    timeout: UserAddr,
) -> SysResult {
    let flags = MsgFlags::from_bits_retain(flags);
    let vlen = vlen.min(MAX_MMSG) as u64;
    let deadline = if timeout.is_null() {
        None
    } else {
        Some(deadline_after(read_timespec(t, timeout)?))
    };
    let each = |one: &dyn Fn(u64, MsgFlags) -> Result<usize, Errno>| {
        let mut flags = flags;
        let mut done = 0u64;
        let size = size_of::<MMsgHdr>() as u64;
        while done < vlen {
            let at = vec.get() + done * size;
            match one(at, flags) {
                Ok(n) => {
                    t.mm.write_obj(at + size_of::<MsgHdr>() as u64, &(n as u32))?;
                    done += 1;
                }
                Err(_) if done > 0 => break,
                Err(e) => return Err(e),
            }
            if flags.contains(MsgFlags::WAITFORONE) {
                flags |= MsgFlags::DONTWAIT;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        Ok(done)
    };
    with_socket(
        t,
        fd,
        |file, s| each(&|at, flags| inet::recvmsg(t, file, s, at, flags)),
        |file, ep| each(&|at, flags| recvmsg(t, file, ep, at, flags)),
    )
}

/// The bytes an `SO_RCVTIMEO`/`SO_SNDTIMEO` value is kept as: a
/// `timeval` (`EINVAL` if shorter, `EDOM` for microseconds out of range; a
/// negative time is none).
pub(super) fn timeout_value(t: &Task, val: UserAddr, len: u32) -> Result<Vec<u8>, Errno> {
    if (len as usize) < size_of::<Timeval>() {
        return Err(Errno::EINVAL);
    }
    let tv: Timeval = t.mm.read_obj(val.get())?;
    if !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EDOM);
    }
    let tv = if tv.tv_sec < 0 {
        Timeval::default()
    } else {
        tv
    };
    Ok(zerocopy::IntoBytes::as_bytes(&tv).to_vec())
}

/// The buffer an `SO_SNDBUF`/`SO_RCVBUF` (or `*FORCE`, which needs
/// `CAP_NET_ADMIN`) sets, and its size as Linux keeps it: doubled, within
/// `wmem_max`/`rmem_max` unless forced, at least the minimum.
pub(super) fn buffer_value(
    t: &Task,
    name: i32,
    val: UserAddr,
    len: u32,
) -> Result<(bool, usize), Errno> {
    let v = int_value(t, val, len)?.max(0) as usize;
    let forced = name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE;
    if forced && !t.ctx.credentials.has_capability(Capability::NET_ADMIN) {
        return Err(Errno::EPERM);
    }
    let v = if forced { v } else { v.min(MAX_BUFFER) };
    let send = name == SO_SNDBUF || name == SO_SNDBUFFORCE;
    let min = if send { MIN_SNDBUF } else { MIN_RCVBUF };
    Ok((send, v.saturating_mul(2).clamp(min, i32::MAX as usize)))
}

/// Reads an `int` option value; `EINVAL` if shorter.
fn int_value(t: &Task, val: UserAddr, len: u32) -> Result<i32, Errno> {
    if (len as usize) < size_of::<i32>() {
        return Err(Errno::EINVAL);
    }
    t.mm.read_obj(val.get())
}

fn sys_setsockopt(
    t: &mut Task,
    fd: Fd,
    level: i32,
    name: i32,
    val: UserAddr,
    len: u32,
) -> SysResult {
    let inet =
        |_: &FileRef, s: &NetSocket| inet::setsockopt(t, s, level, name, val, len).map(|()| 0);
    with_socket(t, fd, inet, |_, ep| {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        match name {
            SO_PASSCRED => ep.set_passcred(int_value(t, val, len)? != 0),
            SO_SNDBUF | SO_RCVBUF | SO_SNDBUFFORCE | SO_RCVBUFFORCE => {
                let (send, v) = buffer_value(t, name, val, len)?;
                ep.set_buffer(send, v);
            }
            SO_RCVTIMEO | SO_SNDTIMEO => ep.set_option(name, timeout_value(t, val, len)?),
            SO_LINGER => {
                if (len as usize) < size_of::<Linger>() {
                    return Err(Errno::EINVAL);
                }
                let l: Linger = t.mm.read_obj(val.get())?;
                ep.set_option(name, zerocopy::IntoBytes::as_bytes(&l).to_vec());
            }
            SO_REUSEADDR | SO_REUSEPORT | SO_KEEPALIVE | SO_BROADCAST | SO_DEBUG | SO_DONTROUTE
            | SO_OOBINLINE => {
                let v = i32::from(int_value(t, val, len)? != 0);
                ep.set_option(name, v.to_ne_bytes().to_vec());
            }
            SO_RCVLOWAT | SO_SNDLOWAT => {
                let v = int_value(t, val, len)?.max(1);
                ep.set_option(name, v.to_ne_bytes().to_vec());
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(0)
    })
}

fn sys_getsockopt(
    t: &mut Task,
    fd: Fd,
    level: i32,
    name: i32,
    val: UserAddr,
    len_addr: UserAddr,
) -> SysResult {
    let room: i32 = t.mm.read_obj(len_addr.get())?;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let inet = |_: &FileRef, s: &NetSocket| inet::getsockopt(s, level, name);
    let value: Vec<u8> = with_socket(t, fd, inet, |_, ep| {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        let int = |v: i32| v.to_ne_bytes().to_vec();
        Ok(match name {
            SO_TYPE => int(ep.kind().to_type()),
            SO_DOMAIN => int(AF_UNIX),
            SO_PROTOCOL => int(0),
            SO_ERROR => int(ep.take_error().map_or(0, i32::from)),
            SO_PASSCRED => int(i32::from(ep.passcred())),
            SO_ACCEPTCONN => int(i32::from(ep.is_listening())),
            SO_PEERCRED => {
                let cred = ep.peer_cred().unwrap_or(Ucred {
                    pid: 0,
                    uid: u32::MAX,
                    gid: u32::MAX,
                });
                zerocopy::IntoBytes::as_bytes(&cred).to_vec()
            }
            SO_SNDBUF => int(ep.buffers().0 as i32),
            SO_RCVBUF => int(ep.buffers().1 as i32),
            SO_RCVTIMEO | SO_SNDTIMEO => ep
                .option(name)
                .unwrap_or_else(|| zerocopy::IntoBytes::as_bytes(&Timeval::default()).to_vec()),
            SO_LINGER => ep
                .option(name)
                .unwrap_or_else(|| zerocopy::IntoBytes::as_bytes(&Linger::default()).to_vec()),
            SO_REUSEADDR | SO_REUSEPORT | SO_KEEPALIVE | SO_BROADCAST | SO_DEBUG | SO_DONTROUTE
            | SO_OOBINLINE => ep.option(name).unwrap_or_else(|| int(0)),
            SO_RCVLOWAT | SO_SNDLOWAT => ep.option(name).unwrap_or_else(|| int(1)),
            _ => return Err(Errno::ENOPROTOOPT),
        })
    })?;
    let n = (room as usize).min(value.len());
    t.mm.copy_out_exact(val.get(), &value[..n])?;
    t.mm.write_obj(len_addr.get(), &(n as i32))?;
    Ok(0)
}
