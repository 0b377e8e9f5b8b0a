//! Helpers shared by the integration tests: scratch directories and
//! servers (diod and ours) on socketpairs.

use goferfs::{Client, ClientOptions, Server, ServerConfig, Stream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "goferfs-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Serializes spawning children that inherit an fd, so no other child
/// inherits it by accident.
static SPAWN: Mutex<()> = Mutex::new(());

/// A diod process serving one socketpair end.
pub struct Diod {
    pub child: Child,
}

impl Drop for Diod {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const DIOD: &str = "/usr/sbin/diod";

/// Starts diod exporting `dir` on a socketpair and connects our client.
pub fn diod_client(dir: &Path, opts: &ClientOptions) -> (Diod, Client) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let child = {
        let _g = SPAWN.lock().unwrap();
        let fd = theirs.as_raw_fd();
        nix::fcntl::fcntl(
            &theirs,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        )
        .unwrap();
        let child = Command::new(DIOD)
            .args(["-f", "-n", "-N", "-c", "/dev/null", "-L", "stderr"])
            .args(["-r", &fd.to_string(), "-w", &fd.to_string()])
            .arg("-e")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("DIOD_DEBUG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap();
        drop(theirs);
        child
    };
    let client = Client::from_unix_stream(ours, opts).unwrap();
    (Diod { child }, client)
}

/// Starts our server on `dir` on a socketpair and connects our client.
pub fn our_client(dir: &Path, read_only: bool, opts: &ClientOptions) -> (Server, Client) {
    let mut config = ServerConfig::new(dir);
    config.read_only = read_only;
    let server = Server::new(config).unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    drop(server.spawn_connection(Stream::Unix(b)));
    let client = Client::from_unix_stream(a, opts).unwrap();
    (server, client)
}

/// Waits (bounded) until the server reports no open fids.
pub fn wait_no_fids(server: &Server) -> usize {
    for _ in 0..500 {
        if server.open_fids() == 0 {
            return 0;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    server.open_fids()
}
