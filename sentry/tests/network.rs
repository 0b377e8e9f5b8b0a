//! The sandbox's network (`--network=none`: loopback only). Each program
//! runs natively in a new network namespace whose only interface is `lo`
//! (the same network, from the kernel) and in the sentry on both
//! platforms; output and exit status must match: a C program covering
//! TCP and UDP calls and their errors, `python3 -m http.server` fetched
//! with curl and wget, an asyncio echo server with 50 clients, `ip addr`,
//! `ip link`, `ip route`, `getent`, glibc's interface lookups, and
//! redis and nc where installed.

pub mod common;
use common::native::{build, missing, same_as_loopback_only, work_dir};

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
    let code = r#"
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
    same_as_loopback_only(&["/usr/bin/python3", "-c", code], &[]);
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
