//! Docker with the sentry registered as a runtime (`dockerd
//! --add-runtime sentry=PATH`, as gVisor's install registers runsc),
//! next to Docker's default runtime, runc: a private daemon of this test
//! (its own data root, socket and managed containerd; no bridge, no
//! iptables), a busybox image made with `docker import` (no registry is
//! reached), the same commands with `--runtime=sentry` and without,
//! the same output and exit statuses. Debian's docker.io is installed by
//! `.ci/run`; without `dockerd` the test skips with a message.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod common;
use common::native::{missing, work_dir};
use common::{busybox_runs_here, run_limited};

/// The private daemon; stopped, and its directory removed, on drop.
struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM lets it stop its containerd and unmount its layers.
        // SAFETY: kill with the PID of a child this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Daemon {
    fn start() -> Option<Daemon> {
        if !Path::new("/usr/sbin/dockerd").exists() {
            missing("dockerd (Debian's docker.io)", true);
            return None;
        }
        let dir = work_dir().join("docker");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("daemon.json"), "{}").unwrap();
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let child = Command::new("/usr/sbin/dockerd")
            .arg("--add-runtime")
            .arg(format!("sentry={}", env!("CARGO_BIN_EXE_sentry")))
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("-H")
            .arg(format!("unix://{}", dir.join("sock").display()))
            .arg("--pidfile")
            .arg(dir.join("pid"))
            .arg("--config-file")
            .arg(dir.join("daemon.json"))
            .args(["--bridge=none", "--iptables=false", "--ip6tables=false"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let daemon = Daemon { child, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !daemon.docker(&["info"]).status.success() {
            if Instant::now() > deadline {
                // Installed, but the machine does not let the daemon run
                // (the "where the daemon can start"): a skip, in
                // CI too, with the daemon's own account of why.
                let log = std::fs::read_to_string(daemon.dir.join("log")).unwrap_or_default();
                eprintln!("skipped: dockerd did not start here:\n{log}");
                return None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(daemon)
    }

    fn docker(&self, args: &[&str]) -> Output {
        run_limited(
            Command::new("docker")
                .arg("-H")
                .arg(format!("unix://{}", self.dir.join("sock").display()))
                .args(args)
                .stdin(Stdio::null()),
        )
    }
}

fn outcome(out: &Output) -> (Option<i32>, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `docker run --rm`, `docker run -d` + `exec` + `stop`, with runc and
/// with the sentry.
#[test]
fn docker_runs_containers_in_the_sentry_as_with_runc() {
    if !busybox_runs_here() {
        return;
    }
    let Some(daemon) = Daemon::start() else {
        return;
    };
    let tar = work_dir().join("docker-root.tar");
    common::busybox_tarball(&tar);
    let imported = daemon.docker(&["import", tar.to_str().unwrap(), "sentry-test:busybox"]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let script = "echo hi; hostname; ls /; echo x > /written && cat /written; exit 3";
    let mut seen = Vec::new();
    for runtime in ["runc", "sentry"] {
        let runtime_arg = format!("--runtime={runtime}");
        let run = daemon.docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--hostname",
            "box",
            &runtime_arg,
            "sentry-test:busybox",
            "sh",
            "-c",
            script,
        ]);
        let name = format!("sentry-test-{runtime}");
        let started = daemon.docker(&[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            &name,
            &runtime_arg,
            "sentry-test:busybox",
            "sh",
            "-c",
            "while true; do sleep 0.05; done",
        ]);
        assert!(
            started.status.success(),
            "{runtime}: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        let exec = daemon.docker(&["exec", &name, "sh", "-c", "echo from exec; exit 5"]);
        let stop = daemon.docker(&["stop", "-t", "1", &name]);
        let code = daemon.docker(&["inspect", "-f", "{{.State.ExitCode}}", &name]);
        let _ = daemon.docker(&["rm", "-f", &name]);
        seen.push((
            outcome(&run),
            outcome(&exec),
            stop.status.code(),
            String::from_utf8_lossy(&code.stdout).trim().to_string(),
        ));
    }
    assert_eq!(seen[0].0.0, Some(3), "runc: {seen:?}");
    assert_eq!(seen[1], seen[0], "the sentry differs from runc");
    let _ = std::fs::remove_file(&tar);
}
