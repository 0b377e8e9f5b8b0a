//! UNIX domain sockets and the event loops built on them: a C program
//! covering each call and its errors, Python's asyncio (socketpairs, a
//! UNIX server, subprocess pipes, timers) and node (timers, fs.promises,
//! child processes) run natively and in the sentry on both platforms;
//! output and exit status must match.

pub mod common;
use common::native::{c_program, same_as_native};

#[test]
fn unix_sockets_behave_as_linux() {
    c_program("unix_sockets");
}

#[test]
fn python_asyncio_runs_over_unix_sockets_and_pipes() {
    let script = r#"
import asyncio, os, socket, sys

async def echo_pair():
    a, b = socket.socketpair()
    r1, w1 = await asyncio.open_connection(sock=a)
    r2, w2 = await asyncio.open_connection(sock=b)
    w1.write(b"ping\n")
    await w1.drain()
    w2.write((await r2.readline()).upper())
    await w2.drain()
    print("echo:", (await r1.readline()).decode().strip())
    w1.close(); w2.close()

async def subprocess_round_trip():
    p = await asyncio.create_subprocess_exec(
        "/bin/sh", "-c", "read x; echo got $x; exit 3",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate(b"hello\n")
    print("child:", out.decode().strip(), "status", p.returncode)

# 100 ms apart: the order must not depend on how long a loaded
# machine takes between the calls that set them.
async def timers():
    order = []
    async def later(d, tag):
        await asyncio.sleep(d)
        order.append(tag)
    await asyncio.gather(later(0.3, "c"), later(0.1, "a"), later(0.2, "b"))
    print("timers:", "".join(order))

async def unix_server(path):
    async def handle(r, w):
        w.write((await r.read(100))[::-1]); await w.drain(); w.close()
    srv = await asyncio.start_unix_server(handle, path)
    r, w = await asyncio.open_unix_connection(path)
    w.write(b"abcdef"); await w.drain(); w.write_eof()
    print("unix server:", (await r.read()).decode())
    w.close()
    srv.close(); await srv.wait_closed()
    os.unlink(path)

async def main():
    await echo_pair()
    await subprocess_round_trip()
    await timers()
    await unix_server(sys.argv[1])

asyncio.run(main())
"#;
    let path = format!("/tmp/sentry-asyncio-{}.sock", std::process::id());
    same_as_native(&["/usr/bin/python3", "-c", script, &path], &[]);
}

#[test]
fn node_runs_timers_files_and_child_processes() {
    let node = "/usr/bin/node";
    if !std::path::Path::new(node).exists() {
        common::native::missing("node", true);
        return;
    }
    // The timers are 100 ms apart: their order must not depend on how
    // long a loaded machine takes between the calls that set them.
    let script = "const fs = require('fs'), cp = require('child_process');\n\
        (async () => {\n\
          const order = [];\n\
          await Promise.all([300, 100, 200].map(d => new Promise(r => \
            setTimeout(() => { order.push(d); r(); }, d))));\n\
          console.log('timers', order.join(','));\n\
          const p = '/tmp/sentry-node-' + process.pid;\n\
          await fs.promises.writeFile(p, 'abc');\n\
          console.log('read', await fs.promises.readFile(p, 'utf8'));\n\
          await fs.promises.unlink(p);\n\
          console.log(cp.execFileSync('/bin/sh', ['-c', 'echo child $((6*7))']).toString().trim());\n\
          const c = cp.spawn('/bin/cat');\n\
          let got = '';\n\
          c.stdout.on('data', d => got += d);\n\
          c.on('close', code => console.log('spawn', got.trim(), code));\n\
          c.stdin.end('piped');\n\
        })();\n";
    same_as_native(&[node, "-e", script], &[]);
}

/// One blocking write of 4 MiB to a pipe, a UNIX stream socket and a
/// loopback TCP connection returns every byte, as on Linux (not what
/// fitted in the buffer).
#[test]
fn a_blocking_write_to_a_stream_queues_every_byte() {
    common::native::c_program("big_writes");
}
