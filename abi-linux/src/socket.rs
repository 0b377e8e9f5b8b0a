//! Sockets: address families, socket types, `MSG_*` flags, socket options,
//! control messages and the structures `sendmsg(2)`/`recvmsg(2)` use.

use bitflags::bitflags;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `AF_UNSPEC`.
pub const AF_UNSPEC: i32 = 0;
/// `AF_UNIX`: local sockets.
pub const AF_UNIX: i32 = 1;
/// `AF_INET`: IPv4.
pub const AF_INET: i32 = 2;
/// `AF_INET6`: IPv6.
pub const AF_INET6: i32 = 10;
/// `AF_NETLINK`: kernel messaging.
pub const AF_NETLINK: i32 = 16;
/// `AF_PACKET`: raw link-level packets.
pub const AF_PACKET: i32 = 17;
/// `AF_MAX`: one past the largest address family.
pub const AF_MAX: i32 = 46;

/// `SOCK_STREAM`: a connected byte stream.
pub const SOCK_STREAM: i32 = 1;
/// `SOCK_DGRAM`: datagrams.
pub const SOCK_DGRAM: i32 = 2;
/// `SOCK_RAW`: raw protocol access.
pub const SOCK_RAW: i32 = 3;
/// `SOCK_RDM`: reliably delivered messages.
pub const SOCK_RDM: i32 = 4;
/// `SOCK_SEQPACKET`: a connected sequence of records.
pub const SOCK_SEQPACKET: i32 = 5;
/// The bits of a `socket(2)` type argument that give the type.
pub const SOCK_TYPE_MASK: i32 = 0xf;
/// `SOCK_NONBLOCK`: the new description is `O_NONBLOCK`.
pub const SOCK_NONBLOCK: i32 = 0o4000;
/// `SOCK_CLOEXEC`: the new descriptor is close-on-exec.
pub const SOCK_CLOEXEC: i32 = 0o2000000;

/// `SOL_SOCKET`: the level of socket-wide options and control messages.
pub const SOL_SOCKET: i32 = 1;

/// `SO_DEBUG`.
pub const SO_DEBUG: i32 = 1;
/// `SO_REUSEADDR`.
pub const SO_REUSEADDR: i32 = 2;
/// `SO_TYPE`: the socket type (read-only).
pub const SO_TYPE: i32 = 3;
/// `SO_ERROR`: the pending error, cleared when read.
pub const SO_ERROR: i32 = 4;
/// `SO_DONTROUTE`.
pub const SO_DONTROUTE: i32 = 5;
/// `SO_BROADCAST`.
pub const SO_BROADCAST: i32 = 6;
/// `SO_SNDBUF`: the send buffer size.
pub const SO_SNDBUF: i32 = 7;
/// `SO_RCVBUF`: the receive buffer size.
pub const SO_RCVBUF: i32 = 8;
/// `SO_KEEPALIVE`.
pub const SO_KEEPALIVE: i32 = 9;
/// `SO_OOBINLINE`.
pub const SO_OOBINLINE: i32 = 10;
/// `SO_LINGER`.
pub const SO_LINGER: i32 = 13;
/// `SO_REUSEPORT`.
pub const SO_REUSEPORT: i32 = 15;
/// `SO_PASSCRED`: receive `SCM_CREDENTIALS` with every message.
pub const SO_PASSCRED: i32 = 16;
/// `SO_PEERCRED`: the credentials of the peer at connection time.
pub const SO_PEERCRED: i32 = 17;
/// `SO_RCVLOWAT`.
pub const SO_RCVLOWAT: i32 = 18;
/// `SO_SNDLOWAT`.
pub const SO_SNDLOWAT: i32 = 19;
/// `SO_RCVTIMEO` (`SO_RCVTIMEO_OLD`): the receive timeout.
pub const SO_RCVTIMEO: i32 = 20;
/// `SO_SNDTIMEO` (`SO_SNDTIMEO_OLD`): the send timeout.
pub const SO_SNDTIMEO: i32 = 21;
/// `SO_ACCEPTCONN`: whether the socket listens (read-only).
pub const SO_ACCEPTCONN: i32 = 30;
/// `SO_PEERSEC`.
pub const SO_PEERSEC: i32 = 31;
/// `SO_SNDBUFFORCE`: `SO_SNDBUF` past the limit, with `CAP_NET_ADMIN`.
pub const SO_SNDBUFFORCE: i32 = 32;
/// `SO_RCVBUFFORCE`: `SO_RCVBUF` past the limit, with `CAP_NET_ADMIN`.
pub const SO_RCVBUFFORCE: i32 = 33;
/// `SO_PASSSEC`.
pub const SO_PASSSEC: i32 = 34;
/// `SO_PROTOCOL`: the protocol (read-only).
pub const SO_PROTOCOL: i32 = 38;
/// `SO_DOMAIN`: the address family (read-only).
pub const SO_DOMAIN: i32 = 39;
/// `SO_PEEK_OFF`.
pub const SO_PEEK_OFF: i32 = 42;
/// `SO_PEERGROUPS`: the supplementary groups of the peer.
pub const SO_PEERGROUPS: i32 = 59;

/// `SCM_RIGHTS`: a control message carrying file descriptors.
pub const SCM_RIGHTS: i32 = 1;
/// `SCM_CREDENTIALS`: a control message carrying a [`Ucred`].
pub const SCM_CREDENTIALS: i32 = 2;
/// `SCM_MAX_FD`: the most descriptors one `SCM_RIGHTS` message carries.
pub const SCM_MAX_FD: usize = 253;

/// `SHUT_RD`.
pub const SHUT_RD: i32 = 0;
/// `SHUT_WR`.
pub const SHUT_WR: i32 = 1;
/// `SHUT_RDWR`.
pub const SHUT_RDWR: i32 = 2;

/// `SOMAXCONN`: the largest `listen(2)` backlog (`net.core.somaxconn`).
pub const SOMAXCONN: i32 = 4096;

/// `UNIX_PATH_MAX`: the bytes of `sun_path`.
pub const UNIX_PATH_MAX: usize = 108;

bitflags! {
    /// The `MSG_*` flags of `send(2)` and `recv(2)`, and `msg_flags`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MsgFlags: u32 {
        /// `MSG_OOB`.
        const OOB = 0x1;
        /// `MSG_PEEK`: leave the data queued.
        const PEEK = 0x2;
        /// `MSG_DONTROUTE`.
        const DONTROUTE = 0x4;
        /// `MSG_CTRUNC`: control data was cut short.
        const CTRUNC = 0x8;
        /// `MSG_TRUNC`: the datagram was longer than the buffer.
        const TRUNC = 0x20;
        /// `MSG_DONTWAIT`: do not block.
        const DONTWAIT = 0x40;
        /// `MSG_EOR`: end of record.
        const EOR = 0x80;
        /// `MSG_WAITALL`: wait for the whole buffer.
        const WAITALL = 0x100;
        /// `MSG_CONFIRM`.
        const CONFIRM = 0x800;
        /// `MSG_ERRQUEUE`.
        const ERRQUEUE = 0x2000;
        /// `MSG_NOSIGNAL`: no `SIGPIPE` on a broken connection.
        const NOSIGNAL = 0x4000;
        /// `MSG_MORE`.
        const MORE = 0x8000;
        /// `MSG_WAITFORONE`: `recvmmsg` waits for the first message only.
        const WAITFORONE = 0x10000;
        /// `MSG_BATCH`.
        const BATCH = 0x40000;
        /// `MSG_ZEROCOPY`.
        const ZEROCOPY = 0x4000000;
        /// `MSG_FASTOPEN`.
        const FASTOPEN = 0x20000000;
        /// `MSG_CMSG_CLOEXEC`: descriptors received are close-on-exec.
        const CMSG_CLOEXEC = 0x40000000;
    }
}

/// `struct ucred`: a process's credentials in `SCM_CREDENTIALS` and
/// `SO_PEERCRED`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Ucred {
    /// The process ID.
    pub pid: i32,
    /// The user ID.
    pub uid: u32,
    /// The group ID.
    pub gid: u32,
}

/// `struct msghdr` (64-bit).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct MsgHdr {
    /// The address (`msg_name`).
    pub name: u64,
    /// Its length (`msg_namelen`).
    pub namelen: u32,
    /// Padding.
    pub _pad0: u32,
    /// The `iovec` array (`msg_iov`).
    pub iov: u64,
    /// Its length (`msg_iovlen`).
    pub iovlen: u64,
    /// The control data (`msg_control`).
    pub control: u64,
    /// Its length (`msg_controllen`).
    pub controllen: u64,
    /// `MSG_*` flags of a received message (`msg_flags`).
    pub flags: u32,
    /// Padding.
    pub _pad1: u32,
}

/// `struct mmsghdr`: one message of `sendmmsg(2)`/`recvmmsg(2)`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct MMsgHdr {
    /// The message.
    pub hdr: MsgHdr,
    /// The bytes sent or received (`msg_len`).
    pub len: u32,
    /// Padding.
    pub _pad: u32,
}

/// `struct cmsghdr` (64-bit): the header of one control message.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct CmsgHdr {
    /// The length of header and data (`cmsg_len`).
    pub len: u64,
    /// The protocol level (`cmsg_level`).
    pub level: i32,
    /// The message type (`cmsg_type`).
    pub kind: i32,
}

/// `CMSG_ALIGN`: control messages are aligned to 8 bytes.
pub const fn cmsg_align(len: usize) -> usize {
    (len + 7) & !7
}

/// `CMSG_LEN`: the `cmsg_len` of a message with `data` bytes.
pub const fn cmsg_len(data: usize) -> usize {
    cmsg_align(core::mem::size_of::<CmsgHdr>()) + data
}

/// `CMSG_SPACE`: the bytes a message with `data` bytes takes in a buffer.
pub const fn cmsg_space(data: usize) -> usize {
    cmsg_align(core::mem::size_of::<CmsgHdr>()) + cmsg_align(data)
}

/// `struct linger`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Linger {
    /// Whether lingering is on (`l_onoff`).
    pub onoff: i32,
    /// The linger time in seconds (`l_linger`).
    pub linger: i32,
}
