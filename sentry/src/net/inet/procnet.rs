//! The files of `/proc/net` about the sandbox's network, in Linux's
//! formats (`net/ipv4/tcp_ipv4.c`, `udp.c`, `net/ipv6/*`,
//! `net/core/net-procfs.c`, `net/ipv6/addrconf.c`, `route.c`): the `lo`
//! interface, its routes, and the TCP and UDP sockets. Traffic counters
//! are zero (the loopback here has no packets to count), and sockets
//! holding a port in `TIME_WAIT` are not listed.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::{Family, InetStack};

/// The files, by name.
pub const FILES: [&str; 8] = [
    "dev",
    "if_inet6",
    "ipv6_route",
    "route",
    "tcp",
    "tcp6",
    "udp",
    "udp6",
];

/// One socket as the tables show it.
pub struct Entry {
    /// The local address.
    pub local: SocketAddr,
    /// The remote address (the wildcard when unconnected).
    pub remote: SocketAddr,
    /// Its `TCP_*` state number.
    pub state: u8,
    /// Bytes queued to send.
    pub tx_queue: usize,
    /// Bytes queued to read (a listener's accept queue length).
    pub rx_queue: usize,
    /// The owner's user ID.
    pub uid: u32,
    /// The socket's inode number.
    pub ino: u64,
}

/// An IPv4 address as the tables print it: the network-order word read
/// as a native integer.
fn hex4(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{:08X}", u32::from_ne_bytes(v4.octets())),
        IpAddr::V6(_) => "00000000".into(),
    }
}

/// An IPv6 address as the tables print it: four native words.
fn hex6(ip: IpAddr) -> String {
    let octets = match ip {
        IpAddr::V6(v6) => v6.octets(),
        IpAddr::V4(v4) if v4.is_unspecified() => [0; 16],
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
    };
    octets
        .chunks(4)
        .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
        .collect()
}

/// `line` padded with spaces to `width` columns and ended.
fn padded(out: &mut String, line: &str, width: usize) {
    let _ = writeln!(out, "{line:<width$}");
}

fn socket_lines(out: &mut String, entries: &[Entry], v6: bool, tcp: bool) {
    for (i, e) in entries.iter().enumerate() {
        let addr = |a: SocketAddr| {
            let ip = if v6 { hex6(a.ip()) } else { hex4(a.ip()) };
            format!("{ip}:{:04X}", a.port())
        };
        let sl = if tcp { 4 } else { 5 };
        let head = format!(
            "{i:sl$}: {} {} {:02X} {:08X}:{:08X} 00:00000000 00000000 {:5} {:8} {} ",
            addr(e.local),
            addr(e.remote),
            e.state,
            e.tx_queue,
            e.rx_queue,
            e.uid,
            0,
            e.ino
        );
        let tail = if tcp {
            // refcount, pointer, rto, ato, quick/pingpong, cwnd, ssthresh.
            "1 0000000000000000 20 4 30 10 -1"
        } else {
            // refcount, pointer, drops.
            "2 0000000000000000 0"
        };
        let line = format!("{head}{tail}");
        match (v6, tcp) {
            (false, true) => padded(out, &line, 149),
            (false, false) => padded(out, &line, 127),
            _ => {
                let _ = writeln!(out, "{line}");
            }
        }
    }
}

/// The text of `/proc/net/NAME`, or `None` for a file there is not.
pub fn generate(stack: &InetStack, name: &str) -> Option<String> {
    let mut out = String::new();
    match name {
        "dev" => {
            out.push_str(
                "Inter-|   Receive                                                |  Transmit\n \
                 face |bytes    packets errs drop fifo frame compressed multicast|bytes    \
                 packets errs drop fifo colls carrier compressed\n",
            );
            let _ = writeln!(
                out,
                "{:>6}:{:>8} {:>7} {:>4} {:>4} {:>4} {:>5} {:>10} {:>9} {:>8} {:>7} {:>4} {:>4} \
                 {:>4} {:>5} {:>7} {:>10}",
                "lo", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            );
        }
        // Address, index, prefix length, scope (host), flags
        // (permanent), name.
        "if_inet6" => out.push_str("00000000000000000000000000000001 01 80 10 80       lo\n"),
        "ipv6_route" => {
            let zero = "00000000000000000000000000000000";
            let unreachable = format!(
                "{zero} 00 {zero} 00 {zero} ffffffff 00000001 00000000 00200200       lo\n"
            );
            out.push_str(&unreachable);
            let _ = writeln!(
                out,
                "{}1 80 {zero} 00 {zero} 00000000 00000002 00000000 80200001       lo",
                &zero[1..]
            );
            out.push_str(&unreachable);
        }
        "route" => padded(
            &mut out,
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
            127,
        ),
        "tcp" | "tcp6" | "udp" | "udp6" => {
            let v6 = name.ends_with('6');
            let tcp = name.starts_with("tcp");
            let family = if v6 { Family::V6 } else { Family::V4 };
            let entries: Vec<Entry> = if tcp {
                let sockets = stack.tcp().sockets();
                sockets
                    .iter()
                    .filter(|s| s.family() == family)
                    .filter_map(|s| s.proc_entry())
                    .collect()
            } else {
                let sockets = stack.udp().sockets();
                sockets
                    .iter()
                    .filter(|s| s.family() == family)
                    .filter_map(|s| s.proc_entry())
                    .collect()
            };
            let header = "st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
            let udp_tail = if tcp { "" } else { " ref pointer drops" };
            if v6 {
                let _ = writeln!(
                    out,
                    "  sl  local_address                         remote_address                        \
                     {header}{udp_tail}"
                );
            } else {
                let sl = if tcp { "  sl" } else { "   sl" };
                let line = format!("{sl}  local_address rem_address   {header}{udp_tail}");
                padded(&mut out, &line, if tcp { 149 } else { 127 });
            }
            socket_lines(&mut out, &entries, v6, tcp);
        }
        _ => return None,
    }
    Some(out)
}
