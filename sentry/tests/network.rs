//! The sandbox's network (`--network=none`: loopback only). Each program
//! runs natively in a new network namespace whose only interface is `lo`
//! (the same network, from the kernel) and in the sentry on both
//! platforms; output and exit status must match: a C program covering
//! TCP and UDP calls and their errors, `python3 -m http.server` fetched
//! with curl and wget, an asyncio echo server with 50 clients, Go's and
//! node's HTTP servers with concurrent clients, `ip addr`, `ip link`,
//! `ip route`, `getent`, glibc's interface lookups, `ping`, `/proc/net`,
//! and redis and nc. With `--network=host`, a server on the host's loopback
//! is reached from the sandbox and one in the sandbox from the host, and
//! the asyncio echo runs as natively (on 127.0.0.1 only: no test reaches
//! beyond the loopback).

pub mod common;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use common::native::{
    build, go_build, missing, platforms, same_as_loopback_only, same_as_native_with, work_dir,
};

const PATH: (&str, &str) = ("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");

/// Writes `body` as an executable shell script in the work directory.
fn script(name: &str, body: &str) -> String {
    let path = work_dir().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&path, perms).unwrap();
    path.to_str().unwrap().to_owned()
}

fn have(tool: &str, installed_by_ci: bool) -> bool {
    let found = ["/usr/bin", "/usr/sbin", "/bin"]
        .iter()
        .any(|d| std::path::Path::new(d).join(tool).exists());
    if !found {
        missing(tool, installed_by_ci);
    }
    found
}

#[test]
fn tcp_and_udp_behave_as_linux_loopback() {
    if let Some(exe) = build("inet_sockets") {
        same_as_loopback_only(&[exe.to_str().unwrap()], &[]);
    }
}

#[test]
fn http_server_serves_curl_and_wget() {
    if !(have("curl", true) && have("wget", true) && have("python3", true)) {
        return;
    }
    let www = work_dir().join("www");
    std::fs::create_dir_all(www.join("sub")).unwrap();
    std::fs::write(www.join("hello.txt"), "hello over loopback\n").unwrap();
    std::fs::write(www.join("sub/deep.txt"), "deeper\n").unwrap();
    let body = format!(
        r#"cd {www}
python3 -m http.server --bind 127.0.0.1 8000 >/dev/null 2>&1 &
server=$!
for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:8000/ && break; sleep 0.05; done
curl -s http://127.0.0.1:8000/hello.txt
curl -s http://127.0.0.1:8000/ | grep -o 'href="[^"]*"'
curl -s -o /dev/null -w '%{{http_code}}\n' http://127.0.0.1:8000/missing
wget -q -O - http://127.0.0.1:8000/sub/deep.txt
wget -q -O - http://localhost:8000/hello.txt
kill $server
wait $server
echo "server exit $?"
"#,
        www = www.display()
    );
    let sh = script("http.sh", &body);
    same_as_loopback_only(&[&sh], &[PATH]);
}

#[test]
fn asyncio_echo_server_takes_fifty_clients() {
    if !have("python3", true) {
        return;
    }
    same_as_loopback_only(&["/usr/bin/python3", "-c", ASYNCIO_ECHO], &[]);
}

#[test]
fn ip_and_name_lookups_see_the_loopback() {
    if !have("ip", true) || !have("python3", true) {
        return;
    }
    let sh = script(
        "ip.sh",
        r#"ip addr
ip link
ip route
ip -6 route
ip route show table all
ip link show lo
ip -4 addr show dev lo
ip link show nosuch0
echo "status $?"
python3 -c 'import socket; print(socket.if_nameindex(), socket.if_nametoindex("lo"))'
getent hosts localhost
getent ahosts 127.0.0.1
"#,
    );
    same_as_loopback_only(&[&sh], &[PATH]);
}

#[test]
fn proc_net_lists_the_interface_routes_and_sockets() {
    if !have("python3", true) {
        return;
    }
    // Ephemeral ports and inode numbers are the kernel's choice; the
    // rest of each row must match.
    let code = r#"
import re, socket, time
for name in ("dev", "if_inet6", "route", "ipv6_route"):
    print("==", name); print(open("/proc/net/" + name).read(), end="")
s = socket.socket(); s.bind(("127.0.0.1", 8080)); s.listen(3)
c = socket.create_connection(("127.0.0.1", 8080)); a, _ = s.accept(); c.send(b"abc")
time.sleep(0.05)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 5353))
v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); v.bind(("127.0.0.1", 5354))
v.connect(("127.0.0.1", 9))
t6 = socket.socket(socket.AF_INET6); t6.bind(("::", 8081)); t6.listen(1)
def port(m):
    return ":EPH" if int(m.group(1), 16) >= 32768 else m.group(0)
for name in ("tcp", "tcp6", "udp", "udp6"):
    lines = open("/proc/net/" + name).read().splitlines()
    print("==", name, lines[0].rstrip())
    if not name.endswith("6"):
        print("padded to", sorted({len(l) for l in lines}))
    cols = 6 if name.startswith("tcp") else 5
    for row in sorted(" ".join(l.split()[1:cols]) for l in lines[1:]):
        print(re.sub(r":([0-9A-F]{4})\b", port, row))
"#;
    same_as_loopback_only(&["/usr/bin/python3", "-c", code], &[]);
}

#[test]
fn ping_answers_once_ping_group_range_allows_it() {
    if !have("ping", true) {
        return;
    }
    // Round-trip times differ between runs; everything else must not.
    let sh = script(
        "ping.sh",
        r#"mask() { sed -E 's/time=[0-9.]+ ms/time=T/; s/time [0-9]+ms/time T/; /^rtt/d'; }
echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range
ping -c 3 -i 0.2 127.0.0.1 | mask
echo "status $?"
ping -c 2 -i 0.2 -s 1000 ::1 | mask
ping -c 1 -W 1 192.0.2.1 2>&1 | mask
"#,
    );
    same_as_loopback_only(&[&sh], &[PATH]);
}

#[test]
fn redis_and_nc_round_trips() {
    if !(have("nc", true) && have("redis-server", true) && have("redis-cli", true)) {
        return;
    }
    let sh = script(
        "redis.sh",
        r#"out=$(mktemp -d)
redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --logfile /dev/null &
for i in $(seq 200); do redis-cli -p 6390 ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p 6390 ping
redis-cli -p 6390 set greeting hello
redis-cli -p 6390 get greeting
redis-cli -p 6390 incr counter
redis-cli -p 6390 lpush list a b c
redis-cli -p 6390 lrange list 0 -1
redis-cli -p 6390 shutdown nosave 2>/dev/null
wait
printf 'reply over nc\n' | nc -l 127.0.0.1 6391 > "$out/nc" &
# Until the listener is up, a connection is refused: try again.
for i in $(seq 200); do
    echo request-over-nc | nc -N 127.0.0.1 6391 2>/dev/null && break
    sleep 0.05
done
wait
cat "$out/nc"
rm -r "$out"
"#,
    );
    same_as_loopback_only(&[&sh], &[PATH]);
}

const ASYNCIO_ECHO: &str = r#"
import asyncio
async def handle(r, w):
    data = await r.read()
    w.write(data[::-1]); await w.drain()
    w.close(); await w.wait_closed()
async def client(port, i):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    msg = f"client-{i:03d};".encode() * (i + 1) * 40
    w.write(msg); await w.drain(); w.write_eof()
    got = await r.read()
    w.close(); await w.wait_closed()
    return got == msg[::-1]
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    results = await asyncio.gather(*(client(port, i) for i in range(50)))
    print(sum(results), "of", len(results), "echoed")
    srv.close(); await srv.wait_closed()
asyncio.run(main())
"#;

#[test]
fn host_network_runs_asyncio_as_natively() {
    if !have("python3", true) {
        return;
    }
    same_as_native_with(
        &["/usr/bin/python3", "-c", ASYNCIO_ECHO],
        &[],
        &["--network", "host"],
    );
}

fn sentry_on_host_network(platform: &str, argv: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sentry"));
    cmd.args([
        "run",
        "--network",
        "host",
        "--platform",
        platform,
        "--rootfs",
        "/",
        "--",
    ])
    .args(argv);
    cmd
}

#[test]
fn host_server_is_reached_from_the_sandbox() {
    if !have("python3", true) {
        return;
    }
    let client = "import socket, sys\n\
        c = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n\
        c.sendall(b'hello from the sandbox')\n\
        print(c.recv(100).decode(), c.getpeername()[1] == int(sys.argv[1]))\n";
    for platform in platforms() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 100];
            let n = conn.read(&mut buf).unwrap();
            conn.write_all(&buf[..n].to_ascii_uppercase()).unwrap();
        });
        let out = common::run_limited(&mut sentry_on_host_network(
            platform,
            &["/usr/bin/python3", "-c", client, &port],
        ));
        server.join().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "HELLO FROM THE SANDBOX True\n",
            "{platform}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success());
    }
}

#[test]
fn sandbox_server_is_reached_from_the_host() {
    if !have("python3", true) {
        return;
    }
    let server = "import socket, sys\n\
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
        s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(1)\n\
        c, peer = s.accept()\n\
        c.sendall(c.recv(100)[::-1]); c.close()\n\
        print('served', peer[0])\n";
    for platform in platforms() {
        // A port free now; the sandbox's server takes it on the host.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = sentry_on_host_network(
            platform,
            &["/usr/bin/python3", "-c", server, &port.to_string()],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        // Until the server listens, connections are refused: retry for a
        // bounded while (a bound against hanging, not a timing check).
        let mut conn = None;
        for _ in 0..600 {
            if let Ok(c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                conn = Some(c);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let Some(mut conn) = conn else {
            let _ = child.kill();
            panic!("{platform}: the sandbox's server never listened on the host");
        };
        conn.write_all(b"from the host").unwrap();
        let mut reply = String::new();
        conn.read_to_string(&mut reply).unwrap();
        assert_eq!(reply, "tsoh eht morf", "{platform}");
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "served 127.0.0.1\n",
            "{platform}"
        );
        assert!(out.status.success(), "{platform}");
    }
}

/// Escape test: under `--network=host` the application holds no host
/// descriptor. Every descriptor it can use is one the sandbox gave it
/// (0-2 and the sockets it made), whatever number the sentry's own host
/// sockets have, and its sockets are the sentry's inodes, not the host's.
#[test]
fn host_sockets_never_reach_the_application() {
    let probe = r#"
import os, socket, stat
socks = [socket.socket() for _ in range(8)] + [socket.socket(socket.AF_INET, socket.SOCK_DGRAM)]
for s in socks[:4]:
    s.bind(("127.0.0.1", 0)); s.listen(1)
mine = {0, 1, 2} | {s.fileno() for s in socks}
usable = set()
for fd in range(0, 4096):
    try:
        os.fstat(fd)
        usable.add(fd)
    except OSError:
        pass
print("only its own descriptors:", usable == mine)
print("links:", sorted({os.readlink(f"/proc/self/fd/{s.fileno()}").split(":")[0] for s in socks}))
print("sandbox inodes:", all(os.fstat(s.fileno()).st_ino < 1 << 20 for s in socks))
"#;
    if !have("python3", true) {
        return;
    }
    for platform in platforms() {
        let out = common::run_limited(&mut sentry_on_host_network(
            platform,
            &["/usr/bin/python3", "-c", probe],
        ));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "only its own descriptors: True\nlinks: ['socket']\nsandbox inodes: True\n",
            "{platform}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn go_http_server_and_clients() {
    let Some(exe) = go_build("go_http") else {
        return;
    };
    same_as_loopback_only(&[exe.to_str().unwrap()], &[]);
}

#[test]
fn node_http_udp_and_refusal() {
    if !have("node", true) {
        return;
    }
    let code = r#"
const http = require('http'), net = require('net'), dgram = require('dgram');
const srv = http.createServer((req, res) => res.end('node says ' + req.url));
srv.listen(0, '127.0.0.1', async () => {
  const port = srv.address().port;
  const get = (p) => new Promise((ok, bad) => http.get({host: '127.0.0.1', port, path: p}, (r) => {
    let b = ''; r.on('data', (d) => b += d); r.on('end', () => ok(b)); }).on('error', bad));
  const out = await Promise.all([1, 2, 3, 4, 5].map((i) => get('/x' + i)));
  console.log(out.join('|'));
  srv.close();
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1', () => {
    const c = dgram.createSocket('udp4');
    s.on('message', (m, r) => {
      console.log('udp', m.toString(), r.address); s.close(); c.close();
      const sock = net.connect(1, '127.0.0.1');
      sock.on('error', (e) => console.log('refused', e.code));
    });
    c.send('hi', s.address().port, '127.0.0.1');
  });
});
"#;
    same_as_loopback_only(&["/usr/bin/node", "-e", code], &[]);
}

#[test]
fn host_network_lists_the_hosts_interfaces() {
    if !have("ip", true) || !have("python3", true) {
        return;
    }
    // Brief forms: address lifetimes count down between runs.
    let sh = script(
        "hostip.sh",
        r#"ip -br addr
ip -br link
ip route
ip link show lo
python3 -c 'import socket; print(socket.if_nameindex(), socket.if_nametoindex("lo"))'
"#,
    );
    same_as_native_with(&[&sh], &[PATH], &["--network", "host"]);
}

/// A write with an absurd count (16 TiB from a 16-byte buffer) to each
/// kind of socket is answered (a short count, `EFAULT` or `EMSGSIZE`)
/// without the sentry trying to buffer the whole count, and the program
/// goes on.
#[test]
fn absurd_write_counts_to_sockets_are_answered() {
    if !have("python3", true) {
        return;
    }
    let code = r#"
import ctypes, errno, socket
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(16)
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
tcp = socket.create_connection(l.getsockname()); peer, _ = l.accept()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.connect(("127.0.0.1", 9))
us, us_peer = socket.socketpair()
ud, ud_peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
for name, s in (("tcp", tcp), ("udp", udp), ("unix stream", us), ("unix dgram", ud)):
    s.setblocking(False)
    r = libc.write(s.fileno(), buf, ctypes.c_size_t(1 << 44))
    e = ctypes.get_errno()
    print(name, "answered", r >= 0 or e in (errno.EFAULT, errno.EMSGSIZE, errno.EAGAIN))
print("alive")
"#;
    for platform in platforms() {
        let out = common::run_limited(
            Command::new(env!("CARGO_BIN_EXE_sentry"))
                .args(["run", "--platform", platform, "--rootfs", "/", "--"])
                .args(["/usr/bin/python3", "-c", code]),
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "tcp answered True\nudp answered True\nunix stream answered True\n\
             unix dgram answered True\nalive\n",
            "{platform}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
