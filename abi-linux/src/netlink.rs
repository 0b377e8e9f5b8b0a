//! Netlink: `sockaddr_nl`, message headers, and the route family's
//! (`rtnetlink`) messages and attributes for links, addresses and routes.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `NETLINK_ROUTE`: routing and link information.
pub const NETLINK_ROUTE: i32 = 0;
/// `SOL_NETLINK`: the level of netlink socket options.
pub const SOL_NETLINK: i32 = 270;
/// `NETLINK_ADD_MEMBERSHIP`.
pub const NETLINK_ADD_MEMBERSHIP: i32 = 1;
/// `NETLINK_DROP_MEMBERSHIP`.
pub const NETLINK_DROP_MEMBERSHIP: i32 = 2;
/// `NETLINK_PKTINFO`.
pub const NETLINK_PKTINFO: i32 = 3;
/// `NETLINK_NO_ENOBUFS`.
pub const NETLINK_NO_ENOBUFS: i32 = 5;
/// `NETLINK_CAP_ACK`: acknowledgements carry the request's header only.
pub const NETLINK_CAP_ACK: i32 = 10;
/// `NETLINK_EXT_ACK`: extended acknowledgements.
pub const NETLINK_EXT_ACK: i32 = 11;
/// `NETLINK_GET_STRICT_CHK`: strict checking of dump requests.
pub const NETLINK_GET_STRICT_CHK: i32 = 12;

/// `struct sockaddr_nl`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SockaddrNl {
    /// `AF_NETLINK`.
    pub family: u16,
    /// Padding.
    pub pad: u16,
    /// The port ID (0 is the kernel).
    pub pid: u32,
    /// The multicast groups.
    pub groups: u32,
}

/// `struct nlmsghdr`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct NlMsgHdr {
    /// The length of the message with its header.
    pub len: u32,
    /// The message type.
    pub kind: u16,
    /// `NLM_F_*`.
    pub flags: u16,
    /// The sequence number.
    pub seq: u32,
    /// The sender's port ID.
    pub pid: u32,
}

/// `NLMSG_ALIGN`: messages are aligned to 4 bytes.
pub const fn nlmsg_align(len: usize) -> usize {
    (len + 3) & !3
}

/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_MULTI`: one part of a multipart answer.
pub const NLM_F_MULTI: u16 = 0x2;
/// `NLM_F_ACK`: acknowledge the request.
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub const NLM_F_DUMP: u16 = 0x300;
/// `NLM_F_CAPPED`: an acknowledgement with the request's header only.
pub const NLM_F_CAPPED: u16 = 0x100;

/// `NLMSG_NOOP`.
pub const NLMSG_NOOP: u16 = 0x1;
/// `NLMSG_ERROR`: an error or an acknowledgement.
pub const NLMSG_ERROR: u16 = 0x2;
/// `NLMSG_DONE`: the end of a multipart answer.
pub const NLMSG_DONE: u16 = 0x3;

/// `RTM_NEWLINK`.
pub const RTM_NEWLINK: u16 = 16;
/// `RTM_GETLINK`.
pub const RTM_GETLINK: u16 = 18;
/// `RTM_NEWADDR`.
pub const RTM_NEWADDR: u16 = 20;
/// `RTM_GETADDR`.
pub const RTM_GETADDR: u16 = 22;
/// `RTM_NEWROUTE`.
pub const RTM_NEWROUTE: u16 = 24;
/// `RTM_GETROUTE`.
pub const RTM_GETROUTE: u16 = 26;
/// `RTM_GETNEIGH`.
pub const RTM_GETNEIGH: u16 = 30;
/// `RTM_GETRULE`.
pub const RTM_GETRULE: u16 = 34;
/// `RTM_GETNETCONF`.
pub const RTM_GETNETCONF: u16 = 82;

/// `struct ifinfomsg`: a link.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct IfInfoMsg {
    /// `AF_UNSPEC`.
    pub family: u8,
    /// Padding.
    pub pad: u8,
    /// The hardware type (`ARPHRD_*`).
    pub kind: u16,
    /// The interface index.
    pub index: i32,
    /// `IFF_*`.
    pub flags: u32,
    /// The flags being changed.
    pub change: u32,
}

/// `struct ifaddrmsg`: an address.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct IfAddrMsg {
    /// `AF_INET` or `AF_INET6`.
    pub family: u8,
    /// The prefix length.
    pub prefixlen: u8,
    /// `IFA_F_*` (the low eight bits).
    pub flags: u8,
    /// `RT_SCOPE_*`.
    pub scope: u8,
    /// The interface index.
    pub index: u32,
}

/// `struct rtmsg`: a route.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct RtMsg {
    /// `AF_INET` or `AF_INET6`.
    pub family: u8,
    /// The destination prefix length.
    pub dst_len: u8,
    /// The source prefix length.
    pub src_len: u8,
    /// The type of service.
    pub tos: u8,
    /// `RT_TABLE_*`.
    pub table: u8,
    /// `RTPROT_*`.
    pub protocol: u8,
    /// `RT_SCOPE_*`.
    pub scope: u8,
    /// `RTN_*`.
    pub kind: u8,
    /// `RTM_F_*`.
    pub flags: u32,
}

/// `struct rtattr`: an attribute's header.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct RtAttr {
    /// The length of header and data.
    pub len: u16,
    /// The attribute type.
    pub kind: u16,
}

/// `IFLA_ADDRESS`.
pub const IFLA_ADDRESS: u16 = 1;
/// `IFLA_BROADCAST`.
pub const IFLA_BROADCAST: u16 = 2;
/// `IFLA_IFNAME`.
pub const IFLA_IFNAME: u16 = 3;
/// `IFLA_MTU`.
pub const IFLA_MTU: u16 = 4;
/// `IFLA_QDISC`.
pub const IFLA_QDISC: u16 = 6;
/// `IFLA_STATS`: `struct rtnl_link_stats`.
pub const IFLA_STATS: u16 = 7;
/// `IFLA_TXQLEN`.
pub const IFLA_TXQLEN: u16 = 13;
/// `IFLA_OPERSTATE`.
pub const IFLA_OPERSTATE: u16 = 16;
/// `IFLA_LINKMODE`.
pub const IFLA_LINKMODE: u16 = 17;
/// `IFLA_STATS64`: `struct rtnl_link_stats64`.
pub const IFLA_STATS64: u16 = 23;
/// `IFLA_GROUP`.
pub const IFLA_GROUP: u16 = 27;
/// `IFLA_PROMISCUITY`.
pub const IFLA_PROMISCUITY: u16 = 30;
/// `IFLA_NUM_TX_QUEUES`.
pub const IFLA_NUM_TX_QUEUES: u16 = 31;
/// `IFLA_NUM_RX_QUEUES`.
pub const IFLA_NUM_RX_QUEUES: u16 = 32;
/// `IFLA_CARRIER`.
pub const IFLA_CARRIER: u16 = 33;
/// `IFLA_MIN_MTU`.
pub const IFLA_MIN_MTU: u16 = 50;
/// `IFLA_MAX_MTU`.
pub const IFLA_MAX_MTU: u16 = 51;

/// `IFA_ADDRESS`.
pub const IFA_ADDRESS: u16 = 1;
/// `IFA_LOCAL`.
pub const IFA_LOCAL: u16 = 2;
/// `IFA_LABEL`.
pub const IFA_LABEL: u16 = 3;
/// `IFA_CACHEINFO`: `struct ifa_cacheinfo`.
pub const IFA_CACHEINFO: u16 = 6;
/// `IFA_FLAGS`: all the `IFA_F_*` flags.
pub const IFA_FLAGS: u16 = 8;
/// `IFA_F_PERMANENT`.
pub const IFA_F_PERMANENT: u32 = 0x80;

/// `RTA_DST`.
pub const RTA_DST: u16 = 1;
/// `RTA_OIF`.
pub const RTA_OIF: u16 = 4;
/// `RTA_PRIORITY`.
pub const RTA_PRIORITY: u16 = 6;
/// `RTA_PREFSRC`.
pub const RTA_PREFSRC: u16 = 7;
/// `RTA_TABLE`.
pub const RTA_TABLE: u16 = 15;
/// `RTA_PREF`.
pub const RTA_PREF: u16 = 20;

/// `RT_TABLE_LOCAL`.
pub const RT_TABLE_LOCAL: u8 = 255;
/// `RTPROT_KERNEL`.
pub const RTPROT_KERNEL: u8 = 2;
/// `RT_SCOPE_UNIVERSE`.
pub const RT_SCOPE_UNIVERSE: u8 = 0;
/// `RT_SCOPE_LINK`.
pub const RT_SCOPE_LINK: u8 = 253;
/// `RT_SCOPE_HOST`.
pub const RT_SCOPE_HOST: u8 = 254;
/// `RTN_LOCAL`.
pub const RTN_LOCAL: u8 = 2;
/// `RTN_BROADCAST`.
pub const RTN_BROADCAST: u8 = 3;
