//! The OCI runtime command line (`create`, `start`, `state`, `exec`,
//! `kill`, `delete`, `run`, `list`, `ps`, `spec`) against runc, the
//! reference runtime: the same bundle (made by `runc spec` over a busybox
//! root) and the same commands, with what each printed, how each exited
//! and the states each reported compared. runc is installed by `.ci/run`;
//! without it the tests skip with a message.

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod common;
use common::native::{missing, platforms, work_dir};
use common::{busybox_runs_here, run_limited};

const RUNC: &str = "/usr/sbin/runc";

/// A bundle made by `runc spec` over a busybox root, with `args` and no
/// terminal; removed on drop.
struct Bundle(PathBuf);

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bundle(name: &str, args: &[&str], terminal: bool) -> Option<Bundle> {
    if !busybox_runs_here() {
        return None;
    }
    if !Path::new(RUNC).exists() {
        missing("runc", true);
        return None;
    }
    let dir = work_dir().join(format!("oci-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let bundle = Bundle(dir);
    common::busybox_root(&bundle.0.join("rootfs"));
    let made = Command::new(RUNC)
        .args(["spec", "--bundle"])
        .arg(&bundle.0)
        .status()
        .unwrap();
    assert!(made.success());
    let path = bundle.0.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    config["process"]["terminal"] = terminal.into();
    config["process"]["args"] = args.iter().map(|a| a.to_string()).collect();
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    Some(bundle)
}

/// A runtime: runc, or the sentry on a platform; each with its own state
/// directory.
#[derive(Clone)]
struct Runtime {
    name: String,
    argv: Vec<String>,
}

impl Runtime {
    fn runc(test: &str) -> Runtime {
        let root = work_dir().join(format!("runc-state-{test}"));
        Runtime {
            name: "runc".into(),
            argv: vec![RUNC.into(), "--root".into(), root.display().to_string()],
        }
    }

    fn sentry(test: &str, platform: &str) -> Runtime {
        let root = work_dir().join(format!("sentry-state-{test}-{platform}"));
        Runtime {
            name: format!("sentry ({platform})"),
            argv: vec![
                env!("CARGO_BIN_EXE_sentry").into(),
                "--root".into(),
                root.display().to_string(),
                "--oci-platform".into(),
                platform.into(),
            ],
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.argv[0]);
        command.args(&self.argv[1..]).args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        run_limited(&mut self.command(args))
    }

    fn status_of(&self, id: &str) -> String {
        let out = self.run(&["state", id]);
        if !out.status.success() {
            return "absent".into();
        }
        let state: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        state["status"].as_str().unwrap_or("?").to_string()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn runtimes(test: &str) -> Vec<Runtime> {
    let mut all = vec![Runtime::runc(test)];
    all.extend(platforms().into_iter().map(|p| Runtime::sentry(test, p)));
    all
}

/// `run` of a bundle made by `runc spec` (read-only root, runc's mounts,
/// the sandbox's own sysfs where runc mounts the host's, host name): the
/// same output and exit status as runc's. (The sentry,
/// as runsc, mounts a tmpfs on an empty `/tmp`, where runc leaves the
/// read-only directory: the script does not write there.)
#[test]
fn run_of_a_runc_spec_bundle_matches_runc() {
    let script = "echo hello; id; hostname; ls /; ls /tmp; cat /proc/self/comm; \
                  ls /sys; cat /sys/devices/system/cpu/online; \
                  echo y > /f; echo status $?; exit 6";
    let Some(bundle) = bundle("run", &["sh", "-c", script], false) else {
        return;
    };
    let mut outcomes = Vec::new();
    for runtime in runtimes("run") {
        let out = run_limited(
            runtime
                .command(&["run", "--bundle", bundle.0.to_str().unwrap(), "c-run"])
                .stdin(Stdio::null()),
        );
        outcomes.push((runtime.name.clone(), out.status.code(), text(&out.stdout)));
    }
    let (_, want_code, want_out) = outcomes[0].clone();
    assert_eq!(want_code, Some(6), "runc: {want_out}");
    for (name, code, out) in &outcomes[1..] {
        assert_eq!(
            (code, out),
            (&want_code, &want_out),
            "{name} differs from runc"
        );
    }
}

/// One container taken through its life cycle, what the runtime said at
/// each step written down.
fn life_cycle(runtime: &Runtime, bundle: &Bundle, id: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let log = bundle.0.join(format!("{id}.out"));
    let output = std::fs::File::create(&log).unwrap();
    let pid_file = bundle.0.join(format!("{id}.pid"));
    let created = runtime
        .command(&[
            "create",
            "--bundle",
            bundle.0.to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            id,
        ])
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .status()
        .unwrap();
    seen.push(format!("create {}", created.code().unwrap_or(-1)));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    seen.push(format!(
        "pid file names a live process: {}",
        Path::new(&format!("/proc/{pid}")).exists()
    ));
    seen.push(format!("after create: {}", runtime.status_of(id)));
    let again = runtime.run(&["create", "--bundle", bundle.0.to_str().unwrap(), id]);
    seen.push(format!("create again: {:?}", again.status.code()));
    let start = runtime.run(&["start", id]);
    seen.push(format!("start: {:?}", start.status.code()));
    seen.push(format!("after start: {}", runtime.status_of(id)));
    let start = runtime.run(&["start", id]);
    seen.push(format!("start again fails: {}", !start.status.success()));
    let exec = runtime.run(&["exec", id, "sh", "-c", "echo from exec; exit 4"]);
    seen.push(format!(
        "exec: {:?} {}",
        exec.status.code(),
        text(&exec.stdout).trim()
    ));
    let ps = runtime.run(&["ps", "--format", "json", id]);
    let pids: Vec<i32> = serde_json::from_slice(&ps.stdout).unwrap_or_default();
    seen.push(format!(
        "ps: {:?} lists something: {}",
        ps.status.code(),
        !pids.is_empty()
    ));
    let list = runtime.run(&["list", "-q"]);
    seen.push(format!("list: {}", text(&list.stdout).trim()));
    let delete = runtime.run(&["delete", id]);
    seen.push(format!(
        "delete while running fails: {}",
        !delete.status.success()
    ));
    let kill = runtime.run(&["kill", id, "TERM"]);
    seen.push(format!("kill: {:?}", kill.status.code()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while runtime.status_of(id) != "stopped" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    seen.push(format!("after kill: {}", runtime.status_of(id)));
    let delete = runtime.run(&["delete", id]);
    seen.push(format!("delete: {:?}", delete.status.code()));
    seen.push(format!("after delete: {}", runtime.status_of(id)));
    let delete = runtime.run(&["delete", id]);
    seen.push(format!("delete again fails: {}", !delete.status.success()));
    let delete = runtime.run(&["delete", "--force", id]);
    seen.push(format!(
        "delete --force of nothing: {:?}",
        delete.status.code()
    ));
    seen.push(format!(
        "output: {}",
        std::fs::read_to_string(&log).unwrap().trim()
    ));
    seen
}

/// create, state, start, exec, ps, list, kill (a trapped SIGTERM), delete
/// and their errors, step by step as runc takes them.
#[test]
fn life_cycle_matches_runc() {
    let script = "trap 'echo got TERM; exit 3' TERM; echo started; \
                  while true; do sleep 0.05; done";
    let Some(bundle) = bundle("life", &["sh", "-c", script], false) else {
        return;
    };
    let all = runtimes("life");
    let want = life_cycle(&all[0], &bundle, "c-life");
    assert!(
        want.contains(&"after start: running".to_string()),
        "{want:#?}"
    );
    for runtime in &all[1..] {
        let got = life_cycle(runtime, &bundle, "c-life");
        assert_eq!(got, want, "{} differs from runc", runtime.name);
    }
}

/// A process with `terminal: true` gets a terminal whose master goes to
/// the console socket, as runc sends it: `/dev/pts/0` inside (the
/// sandbox's own, relayed to the host's), its controlling terminal.
#[test]
fn terminal_goes_to_the_console_socket_as_runcs() {
    let script = "test -t 0 && test -t 1 && echo on a terminal; tty; \
                  : > /dev/tty && echo controlling";
    let Some(bundle) = bundle("tty", &["sh", "-c", script], true) else {
        return;
    };
    let mut outcomes = Vec::new();
    for runtime in runtimes("tty") {
        let socket = bundle.0.join("console.sock");
        let _ = std::fs::remove_file(&socket);
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        listener.set_nonblocking(true).unwrap();
        // runc takes a console socket only from `create` (or a detached
        // `run`).
        let created = runtime.run(&[
            "create",
            "--bundle",
            bundle.0.to_str().unwrap(),
            "--console-socket",
            socket.to_str().unwrap(),
            "c-tty",
        ]);
        assert!(
            created.status.success(),
            "{}: {}",
            runtime.name,
            text(&created.stderr)
        );
        let (conn, _) = listener
            .accept()
            .expect("the master was sent during create");
        conn.set_nonblocking(false).unwrap();
        let master = receive_fd(&conn);
        assert!(runtime.run(&["start", "c-tty"]).status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while runtime.status_of("c-tty") != "stopped" && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut out = Vec::new();
        let _ = nix::fcntl::fcntl(
            &master,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        );
        let mut buf = [0u8; 4096];
        while let Ok(n) = nix::unistd::read(&master, &mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert!(runtime.run(&["delete", "c-tty"]).status.success());
        outcomes.push((runtime.name.clone(), text(&out)));
    }
    let want = outcomes[0].clone();
    assert_eq!(
        want.1, "on a terminal\r\n/dev/pts/0\r\ncontrolling\r\n",
        "runc"
    );
    for got in &outcomes[1..] {
        assert_eq!(got.1, want.1, "{} differs from runc", got.0);
    }
}

/// The descriptor of one `SCM_RIGHTS` message.
fn receive_fd(conn: &std::os::unix::net::UnixStream) -> OwnedFd {
    let mut buf = [0u8; 64];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = nix::sys::socket::recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        nix::sys::socket::MsgFlags::empty(),
    )
    .unwrap();
    for cmsg in msg.cmsgs().unwrap() {
        if let nix::sys::socket::ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: SCM_RIGHTS gave this process a new descriptor.
            return unsafe { OwnedFd::from_raw_fd(fds[0]) };
        }
    }
    panic!("no descriptor on the console socket");
}

/// `spec` writes a config.json that `run` takes, and refuses to overwrite
/// it; bad IDs and missing containers are errors (exit 1).
#[test]
fn spec_and_errors() {
    if !busybox_runs_here() {
        return;
    }
    let sentry = Runtime::sentry("errors", "ptrace");
    let dir = work_dir().join("oci-spec");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = Bundle(dir);
    let out = sentry.run(&["spec", "--bundle", bundle.0.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.0.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["root"]["path"], "rootfs");
    assert_eq!(config["process"]["args"][0], "sh");
    let out = sentry.run(&["spec", "--bundle", bundle.0.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    for args in [
        &["state", "nope"][..],
        &["start", "nope"],
        &["kill", "nope"],
        &["delete", "nope"],
        &["state", "../etc"],
        &["create", "--bundle", "/nonexistent", "x"],
    ] {
        let out = sentry.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?} says why");
    }
}

/// Escape attempts from a container: overwriting the image's own busybox,
/// planting a set-user-ID file in the root, writing through `/proc/1/root`
/// and looking for host processes. The root is the bundle's directory on
/// the host, so each would show there; none may.
#[test]
fn a_container_cannot_change_its_bundle_or_see_the_host() {
    let script = "echo evil > /bin/busybox.new; cat /bin/busybox > /planted; \
                  chmod 4755 /planted; echo gone > /bin/busybox; \
                  echo x > /proc/1/root/escaped; echo /proc/[0-9]*";
    let Some(bundle) = bundle("escape", &["/bin/busybox", "sh", "-c", script], false) else {
        return;
    };
    // The root must be writable for the attempts to get anywhere.
    let path = bundle.0.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    config["root"]["readonly"] = false.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    let busybox = std::fs::read(bundle.0.join("rootfs/bin/busybox")).unwrap();
    for platform in platforms() {
        let runtime = Runtime::sentry("escape", platform);
        let out = run_limited(
            runtime
                .command(&["run", "--bundle", bundle.0.to_str().unwrap(), "c-escape"])
                .stdin(Stdio::null()),
        );
        // One process inside, the shell (its children are gone by then).
        assert_eq!(text(&out.stdout).trim(), "/proc/1", "{}", text(&out.stderr));
        let rootfs = bundle.0.join("rootfs");
        assert_eq!(std::fs::read(rootfs.join("bin/busybox")).unwrap(), busybox);
        for name in ["planted", "escaped", "bin/busybox.new"] {
            assert!(!rootfs.join(name).exists(), "{name} reached the host");
        }
    }
}
