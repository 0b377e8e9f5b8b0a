//! Host directories in the sandbox, served by a gofer (gVisor's `runsc
//! gofer`): a 9P2000.L server ([`goferfs::Server`]) that exports one host
//! directory over a socketpair, and the client end that a `9p` mount of
//! [`goferfs::fs`] uses.
//!
//! The `sentry` binary runs each gofer as a process of its own (`sentry
//! gofer`, see [`serve_fd`]), so the sentry itself opens no host path
//! after start-up; an embedder that has no such binary can serve from a
//! thread of its own process instead ([`GoferLaunch::InProcess`]).
//!
//! # Reference model
//!
//! A [`Gofer`] owns the server's process (or thread) and is owned by the
//! kernel; the [`goferfs::Client`] it hands out is owned by the mount's
//! filesystem. The server ends when the client's connection closes, that
//! is when the filesystem is released with the mount namespace.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use goferfs::{Client, ClientOptions, Server, ServerConfig, Stream};

/// Where a gofer runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GoferLaunch {
    /// A process running `EXE gofer --fd N --root DIR [--read-only]`
    /// (the `sentry` binary's hidden subcommand).
    Process(PathBuf),
    /// A thread of the calling process.
    InProcess,
}

/// A running gofer for one exported directory.
#[derive(Debug)]
pub struct Gofer {
    /// The gofer process, reaped on drop.
    child: Option<Child>,
    /// The exported host directory, for the message if it must be killed.
    root: PathBuf,
}

impl Gofer {
    /// Starts a gofer exporting `root` (read-only if `read_only`) and
    /// connects a client to it. Host fds are donated over the socket, so
    /// file reads, writes and mappings go straight to the host file.
    pub fn start(
        launch: &GoferLaunch,
        root: &Path,
        read_only: bool,
    ) -> Result<(Gofer, Client), String> {
        let what = |e: &dyn std::fmt::Display| format!("gofer for {}: {e}", root.display());
        let meta = std::fs::metadata(root).map_err(|e| what(&e))?;
        if !meta.is_dir() {
            return Err(what(&"not a directory"));
        }
        let (ours, theirs) = UnixStream::pair().map_err(|e| what(&e))?;
        let child = match launch {
            GoferLaunch::InProcess => {
                let server = Server::new(config(root, read_only)).map_err(|e| what(&e))?;
                // The thread ends when the connection closes.
                drop(server.spawn_connection(Stream::Unix(theirs)));
                None
            }
            GoferLaunch::Process(exe) => {
                // Above the standard streams, which the child's set-up
                // replaces (the sentry may have been started without them).
                let theirs: OwnedFd =
                    nix::fcntl::fcntl(&theirs, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3))
                        .map(|fd| {
                            // SAFETY: fcntl(F_DUPFD_CLOEXEC) returned a new fd
                            // that nothing else owns.
                            unsafe { OwnedFd::from_raw_fd(fd) }
                        })
                        .map_err(|e| what(&e))?;
                let fd = theirs.as_raw_fd();
                let mut command = Command::new(exe);
                command
                    .arg("gofer")
                    .args(["--fd", &fd.to_string(), "--root"])
                    .arg(root)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null());
                if read_only {
                    command.arg("--read-only");
                }
                inherit_fd(&mut command, fd);
                let child = command.spawn().map_err(|e| what(&e))?;
                drop(theirs);
                Some(child)
            }
        };
        let options = ClientOptions {
            fd_donation: true,
            ..ClientOptions::default()
        };
        let client = Client::from_unix_stream(ours, &options).map_err(|e| what(&e))?;
        Ok((
            Gofer {
                child,
                root: root.to_path_buf(),
            },
            client,
        ))
    }
}

impl Drop for Gofer {
    /// Reaps the gofer process. Its connection is closed by then (the
    /// kernel releases its mounts first), so it has ended or is ending;
    /// a gofer still serving (a client kept elsewhere) is killed.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        for _ in 0..100 {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        eprintln!(
            "sentry: the gofer for {} outlived its connection; killing it",
            self.root.display()
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn config(root: &Path, read_only: bool) -> ServerConfig {
    let mut config = ServerConfig::new(root);
    config.read_only = read_only;
    config
}

/// Keeps `fd` open across the exec of `command` (it is close-on-exec in
/// the parent, so no other child inherits it).
fn inherit_fd(command: &mut Command, fd: RawFd) {
    use std::os::unix::process::CommandExt;
    // SAFETY: The closure runs in the forked child before exec and only
    // calls fcntl(2), which is async-signal-safe; `fd` is open in the
    // child because fork copied the parent's table and the parent keeps it
    // open until `spawn` returns.
    unsafe {
        command.pre_exec(move || {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The body of `sentry gofer`: serves the directory `root` on the
/// inherited socket `fd` until the client closes it.
pub fn serve_fd(fd: RawFd, root: &Path, read_only: bool) -> Result<(), String> {
    let server = Server::new(config(root, read_only))
        .map_err(|e| format!("cannot export {}: {e}", root.display()))?;
    // SAFETY: `fd` is the socket the sentry passed on the command line,
    // open in this process and owned by nothing else here.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let kind = nix::sys::socket::getsockopt(&socket, nix::sys::socket::sockopt::SockType);
    if kind != Ok(nix::sys::socket::SockType::Stream) {
        return Err(format!("--fd {fd} is not a stream socket"));
    }
    server
        .serve_connection(Stream::Unix(UnixStream::from(socket)))
        .map_err(|e| format!("serving {}: {e}", root.display()))
}
