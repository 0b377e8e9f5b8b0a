//! `cargo xtask bench goferfs`: our 9P client against our gofer server and
//! against diod exporting the same directory, and sequential I/O through
//! the client (over 9P and through a donated fd) next to the host's own
//! I/O of the same file. Prints a table of rates and ratios measured in
//! this one run; it asserts nothing.
//!
//! Usage: `cargo run --release -p goferfs --example bench [-- --small N
//! --big-mib M --rounds R --only small --wait-clunk]`; `--only small` runs
//! only the small-file comparison (for profiling); `--wait-clunk` makes
//! the clients (both) wait for Rclunk when a fid is dropped.

use goferfs::{Client, ClientOptions, Server, ServerConfig, Stream};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const DIOD: &str = "/usr/sbin/diod";
const CHUNK: usize = 1 << 20;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Diod(Child);

impl Drop for Diod {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The options of every client in this run, ours and diod's alike:
/// dropped fids are clunked without waiting unless `--wait-clunk` is given.
fn client_options() -> ClientOptions {
    ClientOptions {
        clunk_without_waiting: !std::env::args().any(|a| a == "--wait-clunk"),
        ..ClientOptions::default()
    }
}

fn ours(dir: &Path, donation: bool) -> (Server, Client) {
    let server = Server::new(ServerConfig::new(dir)).expect("gofer server");
    let (a, b) = UnixStream::pair().expect("socketpair");
    drop(server.spawn_connection(Stream::Unix(b)));
    let opts = ClientOptions {
        fd_donation: donation,
        ..client_options()
    };
    (server, Client::from_unix_stream(a, &opts).expect("client"))
}

fn diod(dir: &Path) -> Option<(Diod, Client)> {
    if !Path::new(DIOD).exists() {
        return None;
    }
    let (a, b) = UnixStream::pair().ok()?;
    nix::fcntl::fcntl(
        &b,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .ok()?;
    let fd = b.as_raw_fd().to_string();
    let child = Command::new(DIOD)
        .args([
            "-f",
            "-n",
            "-N",
            "-c",
            "/dev/null",
            "-L",
            "stderr",
            "-r",
            &fd,
            "-w",
            &fd,
            "-e",
        ])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    drop(b);
    let client = Client::from_unix_stream(a, &client_options()).ok()?;
    Some((Diod(child), client))
}

/// One timed pass: operations per second of wall time, and microseconds
/// of CPU time per operation spent by the client and the server together.
#[derive(Clone, Copy)]
struct Pass {
    rate: f64,
    cpu_us: f64,
}

/// Returns the CPU time in nanoseconds used so far by every thread of
/// process `pid` (the first field of each task's `schedstat`).
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Runs `body` over `n` operations, timing it; the CPU time is that of
/// this process (client and, for ours, server) and of `peer` (diod).
fn timed(n: usize, peer: Option<u32>, body: impl FnOnce()) -> Pass {
    let cpu = || cpu_ns(std::process::id()) + peer.map_or(0, cpu_ns);
    let cpu0 = cpu();
    let start = Instant::now();
    body();
    let wall = start.elapsed().as_secs_f64();
    let cpu_us = cpu().saturating_sub(cpu0) as f64 / 1e3 / n as f64;
    Pass {
        rate: n as f64 / wall,
        cpu_us,
    }
}

/// Walk + Tgetattr + Tclunk of each small file.
fn stat_pass(c: &Client, aname: &[u8], names: &[String], peer: Option<u32>) -> Pass {
    let root = c.attach(b"root", aname).expect("attach");
    let dir = root.walk(&["small"]).expect("walk small");
    timed(names.len(), peer, || {
        for n in names {
            let f = dir.walk(&[n.as_str()]).expect("walk");
            f.getattr(goferfs::getattr::BASIC).expect("getattr");
        }
    })
}

/// Walk + Tlopen + Tread + Tclunk of each small file.
fn open_read_pass(c: &Client, aname: &[u8], names: &[String], peer: Option<u32>) -> Pass {
    let root = c.attach(b"root", aname).expect("attach");
    let dir = root.walk(&["small"]).expect("walk small");
    let mut buf = vec![0u8; 8192];
    timed(names.len(), peer, || {
        for n in names {
            let mut f = dir.walk(&[n.as_str()]).expect("walk");
            f.lopen(libc::O_RDONLY as u32).expect("lopen");
            f.read_at(&mut buf, 0).expect("read");
        }
    })
}

/// Prints one comparison row: median rate and median CPU per operation
/// of each side.
fn small_row(what: &str, ours: &[Pass], peer: &[Pass]) {
    let (or, pr) = (
        median(ours.iter().map(|p| p.rate)),
        median(peer.iter().map(|p| p.rate)),
    );
    let (oc, pc) = (
        median(ours.iter().map(|p| p.cpu_us)),
        median(peer.iter().map(|p| p.cpu_us)),
    );
    println!("{what:<34} {or:>10.0}/s {pr:>10.0}/s {:>10.2}", or / pr);
    println!(
        "{:<34} {oc:>8.1} us/op {pc:>7.1} us/op {:>10.2}",
        "  CPU per op (client+server; peer/ours)",
        pc / oc
    );
}

/// Sequential write then read of `big` through the client; returns MB/s.
fn client_seq(c: &Client, aname: &[u8], size: usize) -> (f64, f64) {
    let root = c.attach(b"root", aname).expect("attach");
    let data = vec![0x5au8; CHUNK];
    let mut f = root.walk(&["big"]).expect("walk big");
    f.lopen((libc::O_WRONLY | libc::O_TRUNC) as u32)
        .expect("lopen");
    let start = Instant::now();
    for off in (0..size).step_by(CHUNK) {
        f.write_at(&data, off as u64).expect("write");
    }
    f.fsync(true).expect("fsync");
    let write = mb_per_s(size, start);
    drop(f);
    let mut f = root.walk(&["big"]).expect("walk big");
    f.lopen(libc::O_RDONLY as u32).expect("lopen");
    let mut buf = vec![0u8; CHUNK];
    let start = Instant::now();
    for off in (0..size).step_by(CHUNK) {
        f.read_at(&mut buf, off as u64).expect("read");
    }
    (mb_per_s(size, start), write)
}

fn host_seq(path: &Path, size: usize) -> (f64, f64) {
    let data = vec![0x5au8; CHUNK];
    let mut f = std::fs::File::create(path).expect("create");
    let start = Instant::now();
    for _ in (0..size).step_by(CHUNK) {
        f.write_all(&data).expect("write");
    }
    f.sync_data().expect("fdatasync");
    let write = mb_per_s(size, start);
    let mut f = std::fs::File::open(path).expect("open");
    let mut buf = vec![0u8; CHUNK];
    let start = Instant::now();
    for _ in (0..size).step_by(CHUNK) {
        f.read_exact(&mut buf).expect("read");
    }
    (mb_per_s(size, start), write)
}

fn mb_per_s(bytes: usize, start: Instant) -> f64 {
    bytes as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64()
}

fn median(v: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = v.collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn only_small() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2).any(|w| w[0] == "--only" && w[1] == "small")
}

fn main() {
    let small = arg("--small", 2000);
    let big_mib = arg("--big-mib", 256);
    let dir = TempDir(std::env::temp_dir().join(format!("goferfs-bench-{}", std::process::id())));
    std::fs::create_dir_all(dir.0.join("small")).expect("mkdir");
    let names: Vec<String> = (0..small).map(|i| format!("f{i:05}")).collect();
    for n in &names {
        std::fs::write(dir.0.join("small").join(n), vec![b'x'; 4096]).expect("write small");
    }
    let size = big_mib << 20;
    std::fs::write(dir.0.join("big"), b"").expect("create big");
    let aname_diod = dir.0.as_os_str().as_bytes().to_vec();

    println!("goferfs bench: {small} small files of 4 KiB, {big_mib} MiB sequential file");
    println!(
        "(one client for both servers; clunk_without_waiting: {})",
        client_options().clunk_without_waiting
    );
    println!(
        "{:<34} {:>12} {:>12} {:>10}",
        "operation", "ours", "peer", "ours/peer"
    );

    let (server, c) = ours(&dir.0, false);
    let rounds = arg("--rounds", 5).max(1);
    match diod(&dir.0) {
        Some((d, dc)) => {
            // Rounds alternate between the servers so that neither gets a
            // warmer host cache or a quieter machine; each figure is the
            // median of its rounds.
            let peer = Some(d.0.id());
            let (mut os, mut or, mut ds, mut dr) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..rounds {
                os.push(stat_pass(&c, b"", &names, None));
                ds.push(stat_pass(&dc, &aname_diod, &names, peer));
                or.push(open_read_pass(&c, b"", &names, None));
                dr.push(open_read_pass(&dc, &aname_diod, &names, peer));
            }
            small_row("small stat (walk+getattr), vs diod", &os, &ds);
            small_row("small open+read+close, vs diod", &or, &dr);
        }
        None => println!("diod not found at {DIOD}: server comparison skipped"),
    }
    if only_small() {
        return;
    }

    let (host_read, host_write) = host_seq(&dir.0.join("big"), size);
    let (r9p, w9p) = client_seq(&c, b"", size);
    drop(c);
    drop(server);
    let (server, c) = ours(&dir.0, true);
    let (rfd, wfd) = client_seq(&c, b"", size);
    let donated = c
        .stats()
        .host_fd_io
        .load(std::sync::atomic::Ordering::Relaxed);
    drop(c);
    drop(server);
    let row = |what: &str, ours: f64, host: f64| {
        println!(
            "{:<34} {:>8.0} MB/s {:>7.0} MB/s {:>10.2}",
            what,
            ours,
            host,
            ours / host
        );
    };
    row("seq write 9P, vs host", w9p, host_write);
    row("seq read 9P, vs host", r9p, host_read);
    row("seq write donated fd, vs host", wfd, host_write);
    row("seq read donated fd, vs host", rfd, host_read);
    if donated == 0 {
        println!("(the server did not donate fds: the donated rows went over 9P)");
    }
}
