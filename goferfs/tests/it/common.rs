//! Helpers shared by the integration tests: scratch directories and
//! servers (diod and ours on socketpairs, unpfs on a Unix socket).

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

/// An unpfs process (rs9p's 9P2000.L server) listening on a Unix socket in
/// its own scratch directory; killed on drop.
pub struct Unpfs {
    child: Child,
    _sock_dir: TempDir,
}

impl Drop for Unpfs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the `unpfs` binary is: on `PATH`, else in Cargo's bin directory.
pub fn unpfs_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("unpfs"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .map(|c| c.join("bin/unpfs"));
    on_path.chain(cargo_home).find(|p| p.is_file())
}

/// Starts unpfs exporting `dir` and connects our client, or prints why the
/// test is skipped and returns `None` when unpfs is not installed.
pub fn unpfs_client(dir: &Path, opts: &ClientOptions) -> Option<(Unpfs, Client)> {
    let Some(bin) = unpfs_binary() else {
        eprintln!("skipping: unpfs is not installed (cargo install --locked unpfs)");
        return None;
    };
    let sock_dir = TempDir::new("unpfs-sock");
    let sock = sock_dir.path().join("9p");
    let child = {
        let _g = SPAWN.lock().unwrap();
        Command::new(bin)
            .arg(format!("unix!{}!0", sock.display()))
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("UNPFS_DEBUG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap()
    };
    let mut server = Unpfs {
        child,
        _sock_dir: sock_dir,
    };
    // unpfs joins address and port with a colon: it binds `PATH:0`.
    let bound = sock.with_file_name("9p:0");
    for _ in 0..1000 {
        // The socket exists between bind and listen too: retry refusals.
        if bound.exists()
            && let Ok(client) = Client::connect_unix(&bound, opts)
        {
            return Some((server, client));
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("unpfs exited early: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("unpfs did not create its socket {}", bound.display());
}
