//! Clients nobody here wrote against our server: diod's `diodls` and
//! `diodcat`, and the `p9fs` Python package (skipped with a message when
//! it is not installed).

use crate::common::TempDir;
use goferfs::{Server, ServerConfig, Stream};
use std::process::Command;

/// Serves `dir` on a loopback TCP port (one thread per connection, for as
/// long as the test process lives) and returns the port.
fn serve_tcp(dir: &std::path::Path) -> (Server, u16) {
    let server = Server::new(ServerConfig::new(dir)).unwrap();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let s = server.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { break };
            drop(s.spawn_connection(Stream::Tcp(conn)));
        }
    });
    (server, port)
}

#[test]
fn diodcat_reads_a_served_file() {
    let dir = TempDir::new("diodcat");
    std::fs::write(dir.path().join("greeting"), b"hello from the gofer\n").unwrap();
    let (_s, port) = serve_tcp(dir.path());
    let out = Command::new("/usr/sbin/diodcat")
        .args([
            "-s",
            &format!("127.0.0.1:{port}"),
            "-a",
            "/",
            "-t",
            "10",
            "greeting",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"hello from the gofer\n");
}

#[test]
fn diodls_lists_a_served_directory() {
    let dir = TempDir::new("diodls");
    for n in ["alpha", "beta", "gamma"] {
        std::fs::write(dir.path().join(n), n).unwrap();
    }
    let (_s, port) = serve_tcp(dir.path());
    let out = Command::new("/usr/sbin/diodls")
        .args(["-s", &format!("127.0.0.1:{port}"), "-a", "/", "-t", "10"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut names: Vec<&str> = text
        .split_whitespace()
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
}

const P9FS_SCRIPT: &str = r#"
import sys
from p9fs import P9FileSystem
fs = P9FileSystem(host="127.0.0.1", port=int(sys.argv[1]), username="root")
fs.mkdir("made")
with fs.open("made/written", "wb") as f:
    f.write(b"written by p9fs")
print(fs.cat("served").decode())
print(sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls("", detail=False)))
fs.rm("gone")
"#;

#[test]
fn p9fs_lists_reads_writes_mkdirs_and_removes() {
    let have = Command::new("python3")
        .args(["-c", "import p9fs"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("skipping: the p9fs Python package is not installed (pip install p9fs)");
        return;
    }
    let dir = TempDir::new("p9fs");
    std::fs::write(dir.path().join("served"), b"served file").unwrap();
    std::fs::write(dir.path().join("gone"), b"x").unwrap();
    let (_s, port) = serve_tcp(dir.path());
    let out = Command::new("python3")
        .args(["-c", P9FS_SCRIPT, &port.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("served file"));
    assert_eq!(lines.next(), Some("['gone', 'made', 'served']"));
    assert!(dir.path().join("made").is_dir());
    assert_eq!(
        std::fs::read(dir.path().join("made/written")).unwrap(),
        b"written by p9fs"
    );
    assert!(!dir.path().join("gone").exists());
}
