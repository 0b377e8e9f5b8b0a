//! Internet sockets: protocol numbers, `sockaddr_in`/`sockaddr_in6`, the
//! IP, IPv6 and TCP option names, `struct tcp_info`, and the interface
//! ioctls (`SIOCGIF*`, `struct ifreq`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `IPPROTO_IP`: the IPv4 option level (and "any protocol").
pub const IPPROTO_IP: i32 = 0;
/// `IPPROTO_ICMP`.
pub const IPPROTO_ICMP: i32 = 1;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: i32 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: i32 = 17;
/// `IPPROTO_IPV6`: the IPv6 option level.
pub const IPPROTO_IPV6: i32 = 41;
/// `IPPROTO_ICMPV6`.
pub const IPPROTO_ICMPV6: i32 = 58;
/// `IPPROTO_RAW`.
pub const IPPROTO_RAW: i32 = 255;

/// `IP_TOS`.
pub const IP_TOS: i32 = 1;
/// `IP_TTL`.
pub const IP_TTL: i32 = 2;
/// `IP_HDRINCL`.
pub const IP_HDRINCL: i32 = 3;
/// `IP_OPTIONS`.
pub const IP_OPTIONS: i32 = 4;
/// `IP_RECVOPTS`.
pub const IP_RECVOPTS: i32 = 6;
/// `IP_PKTINFO`.
pub const IP_PKTINFO: i32 = 8;
/// `IP_MTU_DISCOVER`.
pub const IP_MTU_DISCOVER: i32 = 10;
/// `IP_RECVERR`.
pub const IP_RECVERR: i32 = 11;
/// `IP_RECVTTL`.
pub const IP_RECVTTL: i32 = 12;
/// `IP_RECVTOS`.
pub const IP_RECVTOS: i32 = 13;
/// `IP_MTU`: the path MTU of a connected socket (read-only).
pub const IP_MTU: i32 = 14;
/// `IP_FREEBIND`.
pub const IP_FREEBIND: i32 = 15;
/// `IP_MULTICAST_IF`.
pub const IP_MULTICAST_IF: i32 = 32;
/// `IP_MULTICAST_TTL`.
pub const IP_MULTICAST_TTL: i32 = 33;
/// `IP_MULTICAST_LOOP`.
pub const IP_MULTICAST_LOOP: i32 = 34;
/// `IP_ADD_MEMBERSHIP`.
pub const IP_ADD_MEMBERSHIP: i32 = 35;
/// `IP_BIND_ADDRESS_NO_PORT`.
pub const IP_BIND_ADDRESS_NO_PORT: i32 = 24;

/// `IPV6_UNICAST_HOPS`.
pub const IPV6_UNICAST_HOPS: i32 = 16;
/// `IPV6_MULTICAST_IF`.
pub const IPV6_MULTICAST_IF: i32 = 17;
/// `IPV6_MULTICAST_HOPS`.
pub const IPV6_MULTICAST_HOPS: i32 = 18;
/// `IPV6_MULTICAST_LOOP`.
pub const IPV6_MULTICAST_LOOP: i32 = 19;
/// `IPV6_RECVERR`.
pub const IPV6_RECVERR: i32 = 25;
/// `IPV6_V6ONLY`: an `AF_INET6` socket refuses IPv4-mapped peers.
pub const IPV6_V6ONLY: i32 = 26;
/// `IPV6_RECVPKTINFO`.
pub const IPV6_RECVPKTINFO: i32 = 49;
/// `IPV6_PKTINFO`: the control message `IPV6_RECVPKTINFO` asks for.
pub const IPV6_PKTINFO: i32 = 50;
/// `IPV6_RECVHOPLIMIT`.
pub const IPV6_RECVHOPLIMIT: i32 = 51;
/// `IPV6_HOPLIMIT`: the control message `IPV6_RECVHOPLIMIT` asks for.
pub const IPV6_HOPLIMIT: i32 = 52;
/// `IPV6_RECVTCLASS`.
pub const IPV6_RECVTCLASS: i32 = 66;
/// `IPV6_TCLASS`.
pub const IPV6_TCLASS: i32 = 67;

/// `TCP_NODELAY`.
pub const TCP_NODELAY: i32 = 1;
/// `TCP_MAXSEG`.
pub const TCP_MAXSEG: i32 = 2;
/// `TCP_CORK`.
pub const TCP_CORK: i32 = 3;
/// `TCP_KEEPIDLE`.
pub const TCP_KEEPIDLE: i32 = 4;
/// `TCP_KEEPINTVL`.
pub const TCP_KEEPINTVL: i32 = 5;
/// `TCP_KEEPCNT`.
pub const TCP_KEEPCNT: i32 = 6;
/// `TCP_SYNCNT`.
pub const TCP_SYNCNT: i32 = 7;
/// `TCP_LINGER2`.
pub const TCP_LINGER2: i32 = 8;
/// `TCP_DEFER_ACCEPT`.
pub const TCP_DEFER_ACCEPT: i32 = 9;
/// `TCP_WINDOW_CLAMP`.
pub const TCP_WINDOW_CLAMP: i32 = 10;
/// `TCP_INFO`: a `struct tcp_info` (read-only).
pub const TCP_INFO: i32 = 11;
/// `TCP_QUICKACK`.
pub const TCP_QUICKACK: i32 = 12;
/// `TCP_CONGESTION`: the congestion control algorithm's name.
pub const TCP_CONGESTION: i32 = 13;
/// `TCP_USER_TIMEOUT`.
pub const TCP_USER_TIMEOUT: i32 = 18;
/// `TCP_FASTOPEN`.
pub const TCP_FASTOPEN: i32 = 23;
/// `TCP_NOTSENT_LOWAT`.
pub const TCP_NOTSENT_LOWAT: i32 = 25;

/// `ICMP6_FILTER` (level `IPPROTO_ICMPV6`): which ICMPv6 types a socket
/// receives.
pub const ICMP6_FILTER: i32 = 1;
/// ICMP echo request.
pub const ICMP_ECHO: u8 = 8;
/// ICMP echo reply.
pub const ICMP_ECHOREPLY: u8 = 0;
/// ICMPv6 echo request.
pub const ICMPV6_ECHO_REQUEST: u8 = 128;
/// ICMPv6 echo reply.
pub const ICMPV6_ECHO_REPLY: u8 = 129;

/// `struct in_pktinfo`: the `IP_PKTINFO` control message.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C, align(4))]
pub struct InPktinfo {
    /// The interface the packet came in on.
    pub ifindex: i32,
    /// The local address that would answer (`ipi_spec_dst`).
    pub spec_dst: [u8; 4],
    /// The packet's destination address.
    pub addr: [u8; 4],
}

/// `struct in6_pktinfo`: the `IPV6_PKTINFO` control message.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C, align(4))]
pub struct In6Pktinfo {
    /// The packet's destination address.
    pub addr: [u8; 16],
    /// The interface the packet came in on.
    pub ifindex: u32,
}

/// `SO_BINDTODEVICE` (level `SOL_SOCKET`).
pub const SO_BINDTODEVICE: i32 = 25;
/// `SO_PRIORITY` (level `SOL_SOCKET`).
pub const SO_PRIORITY: i32 = 12;
/// `SO_TIMESTAMP` (level `SOL_SOCKET`).
pub const SO_TIMESTAMP: i32 = 29;
/// `SO_MARK` (level `SOL_SOCKET`).
pub const SO_MARK: i32 = 36;

/// The first port an unprivileged process may bind
/// (`net.ipv4.ip_unprivileged_port_start`).
pub const IP_UNPRIVILEGED_PORT_START: u16 = 1024;
/// The ephemeral port range (`net.ipv4.ip_local_port_range`).
pub const IP_LOCAL_PORT_RANGE: (u16, u16) = (32768, 60999);

/// `struct sockaddr_in`: the port and address are in network byte order.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C, align(4))]
pub struct SockaddrIn {
    /// `AF_INET`.
    pub family: u16,
    /// The port, big-endian.
    pub port: [u8; 2],
    /// The address, big-endian.
    pub addr: [u8; 4],
    /// Padding (`sin_zero`).
    pub zero: [u8; 8],
}

/// `struct sockaddr_in6`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C, align(4))]
pub struct SockaddrIn6 {
    /// `AF_INET6`.
    pub family: u16,
    /// The port, big-endian.
    pub port: [u8; 2],
    /// The flow information, big-endian.
    pub flowinfo: [u8; 4],
    /// The address.
    pub addr: [u8; 16],
    /// The scope (interface index) of a link-local address.
    pub scope_id: u32,
}

/// The shortest `sockaddr_in6` Linux accepts (`SIN6_LEN_RFC2133`: no
/// scope ID).
pub const SIN6_LEN_RFC2133: usize = 24;

/// The `tcpi_state` values (`TCP_ESTABLISHED`...).
pub mod tcp_state {
    /// Connected.
    pub const ESTABLISHED: u8 = 1;
    /// Connecting.
    pub const SYN_SENT: u8 = 2;
    /// This side sent its FIN; not yet acknowledged.
    pub const FIN_WAIT1: u8 = 4;
    /// This side sent its FIN, acknowledged; the peer's has not come.
    pub const FIN_WAIT2: u8 = 5;
    /// Waiting out stray segments after an active close.
    pub const TIME_WAIT: u8 = 6;
    /// Closed or never connected.
    pub const CLOSE: u8 = 7;
    /// The peer closed; the local side has not.
    pub const CLOSE_WAIT: u8 = 8;
    /// Both sent their FIN, the peer's first; waiting for the last
    /// acknowledgement.
    pub const LAST_ACK: u8 = 9;
    /// Listening.
    pub const LISTEN: u8 = 10;
}

/// `struct tcp_info` up to `tcpi_data_segs_out` (Linux 4.6's size; a
/// caller asking for more gets this much, as from an older kernel).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct TcpInfo {
    /// `TCP_ESTABLISHED`...
    pub state: u8,
    /// The congestion-avoidance state.
    pub ca_state: u8,
    /// Retransmissions of the current segment.
    pub retransmits: u8,
    /// Unanswered zero-window probes.
    pub probes: u8,
    /// The exponential backoff.
    pub backoff: u8,
    /// `TCPI_OPT_*`.
    pub options: u8,
    /// The send (low nibble) and receive window scales.
    pub wscale: u8,
    /// Delivery-rate and fast-open bit fields.
    pub app_limited: u8,
    /// The retransmission timeout, in microseconds.
    pub rto: u32,
    /// The delayed-ACK timeout, in microseconds.
    pub ato: u32,
    /// The send MSS.
    pub snd_mss: u32,
    /// The receive MSS estimate.
    pub rcv_mss: u32,
    /// Segments sent and not acknowledged.
    pub unacked: u32,
    /// Segments selectively acknowledged.
    pub sacked: u32,
    /// Segments lost.
    pub lost: u32,
    /// Segments being retransmitted.
    pub retrans: u32,
    /// Unused.
    pub fackets: u32,
    /// Milliseconds since data was last sent.
    pub last_data_sent: u32,
    /// Unused.
    pub last_ack_sent: u32,
    /// Milliseconds since data was last received.
    pub last_data_recv: u32,
    /// Milliseconds since an ACK was last received.
    pub last_ack_recv: u32,
    /// The path MTU.
    pub pmtu: u32,
    /// The receive slow-start threshold.
    pub rcv_ssthresh: u32,
    /// The smoothed round-trip time, in microseconds.
    pub rtt: u32,
    /// Its variance.
    pub rttvar: u32,
    /// The send slow-start threshold.
    pub snd_ssthresh: u32,
    /// The congestion window, in segments.
    pub snd_cwnd: u32,
    /// The advertised MSS.
    pub advmss: u32,
    /// The reordering metric.
    pub reordering: u32,
    /// The receiver's round-trip estimate.
    pub rcv_rtt: u32,
    /// The receive space.
    pub rcv_space: u32,
    /// All retransmissions.
    pub total_retrans: u32,
    /// The pacing rate, bytes per second.
    pub pacing_rate: u64,
    /// The largest pacing rate.
    pub max_pacing_rate: u64,
    /// Bytes the peer acknowledged.
    pub bytes_acked: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Segments sent.
    pub segs_out: u32,
    /// Segments received.
    pub segs_in: u32,
    /// Bytes queued and not yet sent.
    pub notsent_bytes: u32,
    /// The smallest round-trip time seen.
    pub min_rtt: u32,
    /// Data segments received.
    pub data_segs_in: u32,
    /// Data segments sent.
    pub data_segs_out: u32,
}

/// `IFNAMSIZ`: the bytes of an interface name, with its NUL.
pub const IFNAMSIZ: usize = 16;

/// `struct ifreq`: an interface name and one value (a `sockaddr`, flags,
/// an index, an MTU...) in its 24-byte union.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C, align(8))]
pub struct IfReq {
    /// The interface name (`ifr_name`).
    pub name: [u8; IFNAMSIZ],
    /// The value (`ifr_ifru`).
    pub value: [u8; 24],
}

/// `struct ifconf`: a buffer `SIOCGIFCONF` fills with `ifreq`s.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct IfConf {
    /// The buffer's length in bytes; the bytes filled on return.
    pub len: i32,
    /// Padding.
    pub _pad: u32,
    /// The buffer (`ifc_buf`); null asks for the length needed.
    pub buf: u64,
}

/// `SIOCGIFNAME`: the name of an interface index.
pub const SIOCGIFNAME: u32 = 0x8910;
/// `SIOCGIFCONF`: the interfaces with an IPv4 address.
pub const SIOCGIFCONF: u32 = 0x8912;
/// `SIOCGIFFLAGS`: an interface's `IFF_*` flags.
pub const SIOCGIFFLAGS: u32 = 0x8913;
/// `SIOCGIFADDR`: an interface's IPv4 address.
pub const SIOCGIFADDR: u32 = 0x8915;
/// `SIOCGIFBRDADDR`: its broadcast address.
pub const SIOCGIFBRDADDR: u32 = 0x8919;
/// `SIOCGIFNETMASK`: its netmask.
pub const SIOCGIFNETMASK: u32 = 0x891b;
/// `SIOCGIFMETRIC`: its metric.
pub const SIOCGIFMETRIC: u32 = 0x891d;
/// `SIOCGIFMTU`: its MTU.
pub const SIOCGIFMTU: u32 = 0x8921;
/// `SIOCGIFHWADDR`: its hardware address.
pub const SIOCGIFHWADDR: u32 = 0x8927;
/// `SIOCGIFINDEX`: the index of a named interface.
pub const SIOCGIFINDEX: u32 = 0x8933;
/// `SIOCGIFTXQLEN`: its transmit queue length.
pub const SIOCGIFTXQLEN: u32 = 0x8942;
/// `SIOCINQ` (`FIONREAD`): bytes ready to read.
pub const SIOCINQ: u32 = 0x541b;
/// `SIOCOUTQ` (`TIOCOUTQ`): bytes not yet acknowledged.
pub const SIOCOUTQ: u32 = 0x5411;

/// `IFF_UP`.
pub const IFF_UP: u32 = 0x1;
/// `IFF_LOOPBACK`.
pub const IFF_LOOPBACK: u32 = 0x8;
/// `IFF_RUNNING`.
pub const IFF_RUNNING: u32 = 0x40;
/// `IFF_LOWER_UP`.
pub const IFF_LOWER_UP: u32 = 0x10000;
/// `ARPHRD_LOOPBACK`: the hardware type of a loopback device.
pub const ARPHRD_LOOPBACK: u16 = 772;
