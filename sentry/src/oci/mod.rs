//! The OCI runtime: runc's and runsc's command line over the sentry, so
//! that podman, Docker and containerd can run containers in it.
//!
//! # How a container lives
//!
//! `create` starts the sandbox process (`sentry boot`, hidden): it reads
//! the bundle, builds the kernel (root through a gofer with an overlay,
//! mounts, host name), binds the container's control socket and reports
//! back over a pipe; `create` then writes the container's state under
//! `--root` and the sandbox's host PID to `--pid-file` and exits. The
//! sandbox process is the container's PID as the caller sees it (runsc's
//! sandbox is too): it waits for `start`, runs the process, and exits with
//! its status (128 + the signal that killed it), which conmon or the
//! shell collects. `start`, `kill`, `ps` and `exec` talk to it over the
//! control socket (a `SOCK_SEQPACKET` socket, mode 0600 in the state
//! directory); `state` and `list` read the state and look at the host
//! process; `delete` removes the state, killing the sandbox with
//! `--force`.
//!
//! Container states: `created` until `start`, `running` until the
//! sandbox process has exited, then `stopped`.

pub mod spec;

use std::collections::BTreeMap;
use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::sys::socket::{
    AddressFamily, Backlog, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType,
    UnixAddr, accept, bind, connect, listen, recvmsg, sendmsg, socket,
};
use serde::{Deserialize, Serialize};

use crate::kernel::{Kernel, KernelConfig, Overlay, PlatformKind, RootSource};
use crate::{ProgramSpec, Stdio};
pub use spec::Spec;

/// The OCI spec version this runtime implements.
pub const OCI_VERSION: &str = "1.0.2";

/// The state directory when `--root` is not given.
pub const DEFAULT_ROOT: &str = "/run/sentry";

/// The options every command takes (runc's global flags).
#[derive(Clone, Debug)]
pub struct Global {
    /// Where container states live.
    pub root: PathBuf,
    /// Where errors are logged, besides standard error.
    pub log: Option<PathBuf>,
    /// Log lines as JSON objects (`--log-format json`), as conmon reads
    /// them.
    pub log_json: bool,
    /// The platform for new sandboxes; seccomp-trap when the host allows
    /// it, else ptrace, when `None`.
    pub platform: Option<PlatformKind>,
}

impl Global {
    /// Records `message` as an error in the log, if there is one.
    pub fn log_error(&self, message: &str) {
        self.log_line("error", message);
    }

    fn log_line(&self, level: &str, message: &str) {
        let Some(path) = &self.log else { return };
        let line = if self.log_json {
            serde_json::json!({"level": level, "msg": message, "time": rfc3339_now()}).to_string()
        } else {
            format!("{level}: {message}")
        };
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{line}");
        }
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }
}

/// A container's recorded state (`state.json` in its directory); its
/// status is worked out when asked ([`State::status`]), never stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// The spec version.
    pub oci_version: String,
    /// The container ID.
    pub id: String,
    /// The sandbox process's host PID.
    pub pid: i32,
    /// The bundle's absolute path.
    pub bundle: String,
    /// The spec's annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When it was created (RFC 3339, UTC).
    pub created: String,
    /// Whether `start` ran.
    #[serde(default)]
    pub started: bool,
    /// The sandbox process's start time (`/proc/PID/stat` field 22), so
    /// that a reused PID does not pass for it.
    #[serde(default)]
    pub start_time: u64,
}

impl State {
    fn load(global: &Global, id: &str) -> Result<State, String> {
        check_id(id)?;
        let path = global.dir(id).join("state.json");
        let text = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("container {id} does not exist"),
            _ => format!("reading {}: {e}", path.display()),
        })?;
        serde_json::from_slice(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
    }

    fn save(&self, global: &Global) -> Result<(), String> {
        let dir = global.dir(&self.id);
        let tmp = dir.join("state.json.tmp");
        let text = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, dir.join("state.json")))
            .map_err(|e| format!("writing the state of {}: {e}", self.id))
    }

    /// `created`, `running`, or `stopped` once the sandbox process is
    /// gone.
    pub fn status(&self) -> &'static str {
        if process_start_time(self.pid) != Some(self.start_time) {
            "stopped"
        } else if self.started {
            "running"
        } else {
            "created"
        }
    }
}

/// The start time of live host process `pid` (`None` when it is gone or a
/// zombie).
fn process_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z" | &"X")) {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Container IDs are names in the state directory: letters, digits, `_`,
/// `-` and `.`, as runc allows.
fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid container ID {id:?}"))
    }
}

/// Now as RFC 3339 (UTC, nanoseconds).
fn rfc3339_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_nanos()
    )
}

// ---- The control socket ----------------------------------------------------

/// The control socket's path. A path too long for `sun_path` is reached
/// through the directory's descriptor (`/proc/self/fd/N/control`).
fn control_addr(dir: &Path) -> Result<(UnixAddr, Option<std::fs::File>), String> {
    let path = dir.join("control");
    if path.as_os_str().len() < 100 {
        let addr = UnixAddr::new(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok((addr, None));
    }
    let handle = std::fs::File::open(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let short = format!("/proc/self/fd/{}/control", handle.as_raw_fd());
    let addr = UnixAddr::new(short.as_str()).map_err(|e| format!("{short}: {e}"))?;
    Ok((addr, Some(handle)))
}

fn seqpacket() -> Result<OwnedFd, String> {
    socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))
}

/// Sends one request (with descriptors) to the container's sandbox and
/// returns its first reply.
fn request(global: &Global, id: &str, message: &str, fds: &[RawFd]) -> Result<Connection, String> {
    let dir = global.dir(id);
    let (addr, _handle) = control_addr(&dir)?;
    let sock = seqpacket()?;
    connect(sock.as_raw_fd(), &addr).map_err(|e| format!("container {id} is not running ({e})"))?;
    let conn = Connection(sock);
    conn.send(message, fds)?;
    Ok(conn)
}

/// One connection to a control socket.
struct Connection(OwnedFd);

impl Connection {
    fn send(&self, message: &str, fds: &[RawFd]) -> Result<(), String> {
        let rights = [ControlMessage::ScmRights(fds)];
        let cmsgs: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &rights };
        sendmsg::<()>(
            self.0.as_raw_fd(),
            &[IoSlice::new(message.as_bytes())],
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        )
        .map(|_| ())
        .map_err(|e| format!("control socket: {e}"))
    }

    /// The next message and the descriptors that came with it; `None` at
    /// the end.
    fn receive(&self) -> Result<Option<(String, Vec<OwnedFd>)>, String> {
        let mut buf = vec![0u8; 1 << 16];
        let mut space = nix::cmsg_space!([RawFd; 3]);
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            self.0.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(|e| format!("control socket: {e}"))?;
        let mut fds = Vec::new();
        for cmsg in msg.cmsgs().map_err(|e| format!("control socket: {e}"))? {
            if let ControlMessageOwned::ScmRights(received) = cmsg {
                // SAFETY: SCM_RIGHTS gave this process new descriptors
                // that nothing else owns.
                fds.extend(
                    received
                        .into_iter()
                        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                );
            }
        }
        let len = msg.bytes;
        if len == 0 {
            return Ok(None);
        }
        Ok(Some((
            String::from_utf8_lossy(&buf[..len]).into_owned(),
            fds,
        )))
    }

    /// Waits for the reply: `Ok` with its text after `ok`/`exit`/`pids`,
    /// the sandbox's error otherwise.
    fn reply(&self) -> Result<String, String> {
        match self.receive()? {
            None => Err("the sandbox closed the control socket".into()),
            Some((text, _)) => match text.split_once(' ') {
                Some(("error", why)) => Err(why.to_string()),
                _ => Ok(text),
            },
        }
    }
}

// ---- Commands ----------------------------------------------------------------

/// Options of `create` (and `run`).
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// The bundle directory.
    pub bundle: PathBuf,
    /// Where the sandbox's host PID is written.
    pub pid_file: Option<PathBuf>,
    /// The socket the terminal's master is sent to, for a process with
    /// `terminal: true`.
    pub console_socket: Option<PathBuf>,
}

/// `create`: starts the sandbox process and records the container as
/// `created`. Returns the sandbox's host PID.
pub fn create(global: &Global, id: &str, opts: &CreateOptions) -> Result<i32, String> {
    check_id(id)?;
    let bundle = std::fs::canonicalize(&opts.bundle)
        .map_err(|e| format!("bundle {}: {e}", opts.bundle.display()))?;
    let spec = Spec::load(&bundle)?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o711)
        .create(&global.root)
        .map_err(|e| format!("--root {}: {e}", global.root.display()))?;
    let dir = global.dir(id);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!("container {id} already exists"),
            _ => format!("{}: {e}", dir.display()),
        })?;
    let created = spawn_sandbox(global, id, &bundle, &spec, opts);
    let (pid, start_time) = match created {
        Ok(created) => created,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    let state = State {
        oci_version: OCI_VERSION.into(),
        id: id.into(),
        pid,
        bundle: bundle.display().to_string(),
        annotations: spec.annotations.clone(),
        created: rfc3339_now(),
        started: false,
        start_time,
    };
    state.save(global)?;
    if let Some(pid_file) = &opts.pid_file {
        std::fs::write(pid_file, pid.to_string())
            .map_err(|e| format!("--pid-file {}: {e}", pid_file.display()))?;
    }
    Ok(pid)
}

/// Starts `sentry boot` for the container and waits until it has built
/// its kernel (or failed). Returns its PID and start time.
fn spawn_sandbox(
    global: &Global,
    id: &str,
    bundle: &Path,
    spec: &Spec,
    opts: &CreateOptions,
) -> Result<(i32, u64), String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding the sentry binary: {e}"))?;
    let (sync_read, sync_write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let mut command = std::process::Command::new(exe);
    command
        .arg("boot")
        .arg("--root")
        .arg(&global.root)
        .arg("--bundle")
        .arg(bundle)
        .args(["--sync-fd", "3"]);
    if let Some(log) = &global.log {
        command.arg("--log").arg(log);
        if global.log_json {
            command.args(["--log-format", "json"]);
        }
    }
    if let Some(platform) = global.platform {
        command.args([
            "--platform",
            match platform {
                PlatformKind::Ptrace => "ptrace",
                PlatformKind::Seccomp => "seccomp",
            },
        ]);
    }
    command.arg(id);
    let terminal = spec.process.as_ref().is_some_and(|p| p.terminal);
    let console = if terminal {
        let socket = opts
            .console_socket
            .as_ref()
            .ok_or("process.terminal is set but no --console-socket was given")?;
        let slave = send_new_terminal(socket)?;
        command
            .stdin(slave.try_clone().map_err(|e| e.to_string())?)
            .stdout(slave.try_clone().map_err(|e| e.to_string())?)
            .stderr(slave.try_clone().map_err(|e| e.to_string())?);
        Some(slave)
    } else {
        None
    };
    let sync_fd = sync_write.as_raw_fd();
    // SAFETY: between fork and exec the closure makes only
    // async-signal-safe calls (dup2, setsid, ioctl) on descriptors this
    // process owns.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(sync_fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if terminal {
                // The terminal becomes the sandbox's controlling one, as
                // runc's init makes it the container's.
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
            }
            Ok(())
        });
    }
    let child = command
        .spawn()
        .map_err(|e| format!("starting the sandbox: {e}"))?;
    drop(sync_write);
    drop(console);
    let mut report = String::new();
    let _ = std::fs::File::from(sync_read).read_to_string(&mut report);
    let pid = child.id() as i32;
    if report.trim() != "ok" {
        // SAFETY: kill with a PID this process started and has not
        // reaped.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let mut child = child;
        let _ = child.wait();
        let report = report.trim();
        return Err(if report.is_empty() {
            "the sandbox failed to start".into()
        } else {
            report.to_string()
        });
    }
    let start_time = process_start_time(pid).ok_or("the sandbox exited at once")?;
    // The sandbox outlives this process: whoever started `create` (conmon,
    // a subreaper) or init reaps it.
    std::mem::forget(child);
    Ok((pid, start_time))
}

/// Opens a new pseudo-terminal, sends its master to the console socket
/// (as runc does: one `SCM_RIGHTS` message) and returns its slave.
fn send_new_terminal(socket_path: &Path) -> Result<OwnedFd, String> {
    let pty = nix::pty::openpty(None, None).map_err(|e| format!("openpty: {e}"))?;
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))?;
    let addr = UnixAddr::new(socket_path).map_err(|e| format!("--console-socket: {e}"))?;
    connect(sock.as_raw_fd(), &addr)
        .map_err(|e| format!("--console-socket {}: {e}", socket_path.display()))?;
    let fds = [pty.master.as_raw_fd()];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &[IoSlice::new(b"/dev/ptmx")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map_err(|e| format!("--console-socket: {e}"))?;
    Ok(pty.slave)
}

/// `start`: runs the created container's process.
pub fn start(global: &Global, id: &str) -> Result<(), String> {
    let mut state = State::load(global, id)?;
    let status = state.status();
    if status != "created" {
        return Err(format!("cannot start a container that is {status}"));
    }
    request(global, id, "start", &[])?.reply()?;
    state.started = true;
    state.save(global)
}

/// `state`: the container's state as JSON.
pub fn state(global: &Global, id: &str) -> Result<String, String> {
    let state = State::load(global, id)?;
    serde_json::to_string_pretty(&state_json(&state)).map_err(|e| e.to_string())
}

/// The runtime spec's state object (with runc's `created`).
fn state_json(state: &State) -> serde_json::Value {
    let status = state.status();
    serde_json::json!({
        "ociVersion": state.oci_version,
        "id": state.id,
        "status": status,
        "pid": if status == "stopped" { 0 } else { state.pid },
        "bundle": state.bundle,
        "annotations": state.annotations,
        "created": state.created,
    })
}

/// A signal from a name (`TERM`, `SIGTERM`) or number.
pub fn parse_signal(text: &str) -> Result<i32, String> {
    use abi_linux::Signal;
    let max = Signal::SIGRTMAX.0;
    let number = match text.parse::<i32>() {
        Ok(n) => Some(n),
        Err(_) => {
            let upper = text.to_ascii_uppercase();
            let name = format!("SIG{}", upper.strip_prefix("SIG").unwrap_or(&upper));
            (1..=max).find(|&n| Signal(n).name() == Some(name.as_str()))
        }
    };
    number
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("invalid signal {text}"))
}

/// `kill`: sends `signal` to the container's process (with `all`, to
/// every process in it).
pub fn kill(global: &Global, id: &str, signal: i32, all: bool) -> Result<(), String> {
    let state = State::load(global, id)?;
    if state.status() == "stopped" {
        return Err(format!("container {id} is not running"));
    }
    let message = format!("kill {signal} {}", if all { "all" } else { "init" });
    match request(global, id, &message, &[]).and_then(|c| c.reply()) {
        Ok(_) => Ok(()),
        // A sandbox that cannot answer still dies by SIGKILL.
        Err(_) if signal == libc::SIGKILL => {
            // SAFETY: kill with integer arguments; the PID's start time
            // was checked just now.
            unsafe { libc::kill(state.pid, libc::SIGKILL) };
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `delete`: forgets a stopped container; with `force`, kills a running
/// one first. A missing container is an error unless `force`.
pub fn delete(global: &Global, id: &str, force: bool) -> Result<(), String> {
    let state = match State::load(global, id) {
        Ok(state) => state,
        Err(_) if force && check_id(id).is_ok() => {
            let _ = std::fs::remove_dir_all(global.dir(id));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let status = state.status();
    if status != "stopped" {
        if !force {
            return Err(format!(
                "cannot delete container {id} that is not stopped: {status}"
            ));
        }
        // SAFETY: kill with integer arguments.
        unsafe { libc::kill(state.pid, libc::SIGKILL) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while process_start_time(state.pid) == Some(state.start_time)
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    std::fs::remove_dir_all(global.dir(id)).map_err(|e| format!("deleting {id}: {e}"))
}

/// `list`: the containers under `--root`, as runc's table or as JSON.
pub fn list(global: &Global, quiet: bool, json: bool) -> Result<String, String> {
    let mut states = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&global.root) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok(state) = State::load(global, &name) {
                states.push(state);
            }
        }
    }
    states.sort_by(|a, b| a.id.cmp(&b.id));
    if json {
        let all: Vec<serde_json::Value> = states.iter().map(state_json).collect();
        return serde_json::to_string(&all).map_err(|e| e.to_string());
    }
    let mut out = String::new();
    if quiet {
        for s in &states {
            out.push_str(&s.id);
            out.push('\n');
        }
        return Ok(out);
    }
    out.push_str("ID\tPID\tSTATUS\tBUNDLE\tCREATED\n");
    for s in &states {
        let status = s.status();
        let pid = if status == "stopped" { 0 } else { s.pid };
        out.push_str(&format!(
            "{}\t{pid}\t{status}\t{}\t{}\n",
            s.id, s.bundle, s.created
        ));
    }
    Ok(out)
}

/// `ps`: the container's processes (PIDs inside the sandbox) as a table
/// of PID and command, or as a JSON array of PIDs.
pub fn ps(global: &Global, id: &str, json: bool) -> Result<String, String> {
    let state = State::load(global, id)?;
    if state.status() == "stopped" {
        return Err(format!("container {id} is not running"));
    }
    let reply = request(global, id, "ps", &[])?.reply()?;
    let listing = reply.strip_prefix("pids ").unwrap_or("[]");
    let processes: Vec<(i32, String)> =
        serde_json::from_str(listing).map_err(|e| format!("ps: {e}"))?;
    if json {
        let pids: Vec<i32> = processes.iter().map(|(pid, _)| *pid).collect();
        return serde_json::to_string(&pids).map_err(|e| e.to_string());
    }
    let mut out = String::from("PID\tCMD\n");
    for (pid, cmd) in processes {
        out.push_str(&format!("{pid}\t{cmd}\n"));
    }
    Ok(out)
}

/// `exec`: runs `process` in the running container with this process's
/// standard descriptors (or a new terminal sent to `console_socket`) and
/// returns its exit status.
pub fn exec(
    global: &Global,
    id: &str,
    process: &spec::Process,
    console_socket: Option<&Path>,
) -> Result<i32, String> {
    let state = State::load(global, id)?;
    let status = state.status();
    if status != "running" {
        return Err(format!("cannot exec in a container that is {status}"));
    }
    spec::program_of(process)?;
    let terminal = if process.terminal {
        let socket = console_socket.ok_or("--tty needs --console-socket")?;
        Some(send_new_terminal(socket)?)
    } else {
        None
    };
    let fds: Vec<RawFd> = match &terminal {
        Some(slave) => vec![slave.as_raw_fd(); 3],
        None => vec![0, 1, 2],
    };
    let message = format!(
        "exec {}",
        serde_json::to_string(process).map_err(|e| e.to_string())?
    );
    let conn = request(global, id, &message, &fds)?;
    drop(terminal);
    let reply = conn.reply()?;
    reply
        .strip_prefix("exit ")
        .and_then(|code| code.trim().parse().ok())
        .ok_or_else(|| format!("unexpected reply {reply:?}"))
}

/// `spec`: writes an example `config.json` into `bundle`.
pub fn write_spec(bundle: &Path) -> Result<(), String> {
    let path = bundle.join("config.json");
    if path.exists() {
        return Err(format!("{} already exists", path.display()));
    }
    let text = serde_json::to_string_pretty(&Spec::example()).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

// ---- The sandbox process -------------------------------------------------------

/// What `sentry boot` is told.
#[derive(Clone, Debug)]
pub struct BootOptions {
    /// The container ID.
    pub id: String,
    /// The bundle (absolute).
    pub bundle: PathBuf,
    /// Where `create` waits for the outcome.
    pub sync_fd: RawFd,
}

/// What the control thread tells the main one before `start`.
enum Event {
    Start,
    Kill(i32),
}

/// The sandbox process: builds the kernel, reports to `create`, waits for
/// `start`, runs the container's process; returns its exit status.
pub fn boot(global: &Global, opts: &BootOptions) -> Result<i32, String> {
    // SAFETY: `create` passed this descriptor for this process alone.
    let mut sync = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(opts.sync_fd) });
    let prepared = prepare(global, opts);
    let (kernel, program, listener, terminal) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            let _ = sync.write_all(e.as_bytes());
            return Err(e);
        }
    };
    let _ = sync.write_all(b"ok");
    drop(sync);
    let (events, next) = std::sync::mpsc::channel();
    let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let kernel = kernel.clone();
        let started = started.clone();
        std::thread::Builder::new()
            .name("oci-control".into())
            .spawn(move || serve(&listener, &kernel, &events, &started))
            .map_err(|e| format!("control thread: {e}"))?;
    }
    match next.recv() {
        Ok(Event::Start) => {}
        Ok(Event::Kill(signal)) => return Ok(128 + signal),
        Err(_) => return Err("the control thread ended".into()),
    }
    // On a terminal, the process gets one of the sandbox's own, relayed
    // to the host's (see `pty::host`).
    let relay = if terminal && nix::unistd::isatty(std::io::stdin()).unwrap_or(false) {
        let (master, replica) = kernel
            .open_terminal()
            .map_err(|e| format!("opening a terminal: {}", e.name()))?;
        let host = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| e.to_string())?;
        let relay = crate::pty::host::Relay::start(&kernel, master, host)?;
        Some((relay, replica))
    } else {
        None
    };
    let status = match relay {
        Some((relay, replica)) => {
            let status = crate::run_with(&kernel, program, Stdio::Terminal(replica));
            relay.finish();
            status?
        }
        None => crate::run(&kernel, program)?,
    };
    Ok(status.shell_code())
}

/// Builds the container's kernel from its bundle and binds its control
/// socket.
fn prepare(
    global: &Global,
    opts: &BootOptions,
) -> Result<(Arc<Kernel>, ProgramSpec, OwnedFd, bool), String> {
    let spec = Spec::load(&opts.bundle)?;
    let root_path = spec.root_path(&opts.bundle)?;
    let read_only = spec.root.as_ref().is_some_and(|r| r.readonly);
    let mounts = spec.mounts()?;
    let exe = std::env::current_exe().map_err(|e| format!("finding the sentry binary: {e}"))?;
    let platform = match global.platform {
        Some(platform) => platform,
        None => {
            let probe = std::sync::Arc::new(
                platform::MemoryFile::new().map_err(|e| format!("memory file: {e:?}"))?,
            );
            if platform::SystrapPlatform::new(probe).is_ok() {
                PlatformKind::Seccomp
            } else {
                PlatformKind::Ptrace
            }
        }
    };
    let config = KernelConfig {
        platform,
        mounts: mounts.directories.clone(),
        gofer: crate::gofer::GoferLaunch::Process(exe),
        // Changes go to an overlay, as with runsc's default root:memory;
        // a read-only root gets one too, for the mount points and files
        // the runtime adds, and is made read-only once they are in.
        overlay: Overlay::Memory,
        hostname: spec.hostname.clone(),
        // runsc's rule: the sandbox's own /tmp only over an empty one.
        mount_tmp: !mounts.own.iter().any(|(dir, _)| dir == b"/tmp")
            && std::fs::read_dir(root_path.join("tmp")).is_ok_and(|mut d| d.next().is_none()),
        ..KernelConfig::new(RootSource::HostDir {
            path: root_path,
            writable: false,
        })
    };
    let kernel = Kernel::new(&config)?;
    for (dir, fs_type) in &mounts.own {
        kernel.mount_fs(dir, fs_type).map_err(|e| {
            format!(
                "{fs_type} on {}: {}",
                String::from_utf8_lossy(dir),
                e.name()
            )
        })?;
    }
    for (path, contents) in &mounts.files {
        let target = path.as_os_str().as_encoded_bytes();
        if let Err(e) = kernel.install_file(target, contents) {
            // A read-only root cannot take them; neither can a missing
            // parent directory. The process runs without.
            global.log_line(
                "warning",
                &format!("mount {}: {}", path.display(), e.name()),
            );
        }
    }
    for (destination, why) in &mounts.skipped {
        global.log_line("warning", &format!("mount {destination}: {why}: left out"));
        // The mount point is there all the same, as runc makes it.
        let _ = kernel.make_directories(destination.as_bytes());
    }
    if read_only {
        let root = kernel.mounts.root_mount();
        root.set_flags(root.flags() | vfs_core::MountOptionFlags::READ_ONLY);
    }
    let mut program = spec.program()?;
    kernel.resolve_program(&mut program);
    let listener = listen_control(&global.dir(&opts.id))?;
    let terminal = spec.process.as_ref().is_some_and(|p| p.terminal);
    Ok((kernel, program, listener, terminal))
}

fn listen_control(dir: &Path) -> Result<OwnedFd, String> {
    let (addr, _handle) = control_addr(dir)?;
    let sock = seqpacket()?;
    bind(sock.as_raw_fd(), &addr).map_err(|e| format!("binding the control socket: {e}"))?;
    let path = dir.join("control");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    listen(&sock, Backlog::new(16).map_err(|e| e.to_string())?)
        .map_err(|e| format!("listen: {e}"))?;
    Ok(sock)
}

/// Serves the control socket for as long as the sandbox lives.
fn serve(
    listener: &OwnedFd,
    kernel: &Arc<Kernel>,
    events: &std::sync::mpsc::Sender<Event>,
    started: &Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering;
    loop {
        let Ok(fd) = accept(listener.as_raw_fd()) else {
            continue;
        };
        // SAFETY: accept returned a new descriptor nothing else owns.
        let conn = Connection(unsafe { OwnedFd::from_raw_fd(fd) });
        let Ok(Some((message, fds))) = conn.receive() else {
            continue;
        };
        let (verb, rest) = message.split_once(' ').unwrap_or((&message, ""));
        let reply = match verb {
            "start" if !started.swap(true, Ordering::SeqCst) => {
                let _ = events.send(Event::Start);
                "ok".to_string()
            }
            "start" => "error the container was already started".into(),
            "kill" => {
                let mut parts = rest.split(' ');
                let signal: i32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                let all = parts.next() == Some("all");
                if !started.load(Ordering::SeqCst) {
                    let _ = events.send(Event::Kill(signal));
                } else if all {
                    for pid in kernel.tasks.pids() {
                        kernel.tasks.signal_from_outside(pid, signal);
                    }
                } else {
                    kernel.tasks.signal_from_outside(1, signal);
                }
                "ok".into()
            }
            "ps" => {
                let processes: Vec<(i32, String)> = kernel
                    .tasks
                    .pids()
                    .into_iter()
                    .filter_map(|pid| {
                        let info = kernel.tasks.get(pid)?;
                        let argv: Vec<String> = info
                            .argv
                            .iter()
                            .map(|a| String::from_utf8_lossy(a).into_owned())
                            .collect();
                        Some((pid, argv.join(" ")))
                    })
                    .collect();
                format!(
                    "pids {}",
                    serde_json::to_string(&processes).unwrap_or_default()
                )
            }
            "exec" => {
                let kernel = kernel.clone();
                let rest = rest.to_string();
                std::thread::spawn(move || exec_in_sandbox(&kernel, conn, &rest, fds));
                continue;
            }
            _ => format!("error unknown request {verb:?}"),
        };
        let _ = conn.send(&reply, &[]);
    }
}

/// Runs an `exec` request's process with the descriptors that came with
/// it and answers with its exit status.
fn exec_in_sandbox(kernel: &Arc<Kernel>, conn: Connection, process: &str, fds: Vec<OwnedFd>) {
    let reply = (|| {
        let process: spec::Process =
            serde_json::from_str(process).map_err(|e| format!("exec: {e}"))?;
        let mut program = spec::program_of(&process)?;
        kernel.resolve_program(&mut program);
        let mut fds = fds.into_iter();
        let stdio = [fds.next(), fds.next(), fds.next()];
        crate::spawn(kernel, program, Stdio::Host(stdio))
    })();
    let message = match reply {
        Ok(status) => format!("exit {}", status.shell_code()),
        Err(e) => format!("error {e}"),
    };
    let _ = conn.send(&message, &[]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_name_in_any_case_or_number() {
        assert_eq!(parse_signal("TERM"), Ok(15));
        assert_eq!(parse_signal("SIGKILL"), Ok(9));
        assert_eq!(parse_signal("sigusr1"), Ok(10));
        assert_eq!(parse_signal("hup"), Ok(1));
        assert_eq!(parse_signal("34"), Ok(34));
        for bad in ["0", "65", "-1", "SIGFOO", ""] {
            assert!(parse_signal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn container_ids_are_single_names() {
        assert!(check_id("c-1_a.b").is_ok());
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }
}
