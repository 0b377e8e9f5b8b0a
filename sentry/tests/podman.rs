//! podman with the sentry as its OCI runtime (`podman --runtime
//! SENTRY`), next to podman with runc, the reference: the same image (a
//! busybox root imported with `podman import`; no registry is reached),
//! the same commands, the same output and exit statuses. podman and runc
//! are installed by `.ci/run`; without them the tests skip with a message.
//!
//! On this kind of machine podman's default limits exceed the VM's hard
//! ones, so every run passes `--ulimit nofile=1024:1024 --ulimit
//! nproc=1024:1024`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub mod common;
use common::native::{missing, work_dir};
use common::{busybox_runs_here, run_limited};

const ULIMITS: [&str; 6] = [
    "--network",
    "none",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
];

/// The test image's name, once imported; `None` (after a message) when
/// podman or runc is missing.
fn image() -> Option<&'static str> {
    static IMAGE: OnceLock<Option<String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            if !busybox_runs_here() {
                return None;
            }
            for tool in ["/usr/bin/podman", "/usr/sbin/runc"] {
                if !Path::new(tool).exists() {
                    missing(tool, true);
                    return None;
                }
            }
            let tar = work_dir().join("podman-root.tar");
            common::busybox_tarball(&tar);
            // One tag, replaced by each run, so runs leave one image.
            let name = "localhost/sentry-test:busybox".to_string();
            let imported = run_limited(
                Command::new("podman")
                    .arg("import")
                    .arg(&tar)
                    .arg(&name)
                    .stdin(Stdio::null()),
            );
            assert!(
                imported.status.success(),
                "podman import: {}",
                String::from_utf8_lossy(&imported.stderr)
            );
            Some(name)
        })
        .as_deref()
}

/// `podman --runtime RUNTIME ARGS`.
fn podman(runtime: &str, args: &[&str]) -> Output {
    run_limited(
        Command::new("podman")
            .args(["--runtime", runtime])
            .args(args)
            .stdin(Stdio::null()),
    )
}

const SENTRY: &str = env!("CARGO_BIN_EXE_sentry");
const RUNC: &str = "/usr/sbin/runc";

fn outcome(out: &Output) -> (Option<i32>, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `podman run --rm` of a script, with both runtimes.
fn same_run(extra: &[&str], script: &str) {
    let Some(image) = image() else { return };
    let run = |runtime| {
        let mut args = vec!["run", "--rm", "--hostname", "box"];
        args.extend(ULIMITS);
        args.extend(extra);
        args.extend([image, "sh", "-c", script]);
        podman(runtime, &args)
    };
    let want = run(RUNC);
    let got = run(SENTRY);
    assert_eq!(
        outcome(&got),
        outcome(&want),
        "podman with the sentry; its stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
}

#[test]
fn podman_run_prints_and_exits_as_with_runc() {
    same_run(
        &[],
        "echo hi; hostname; ls /; echo x > /written && cat /written; \
         test -t 0 || echo no terminal; exit 3",
    );
}

/// `--user` with `--group-add`, `-v` (a host directory), `--tmpfs`,
/// `--workdir`, `-e`, `--hostname`: the process's identity, capabilities,
/// limits and mounts as runc gives them.
#[test]
fn podman_run_options_as_with_runc() {
    let volume = work_dir().join("podman-volume");
    std::fs::create_dir_all(&volume).unwrap();
    std::fs::write(volume.join("f"), "from the host\n").unwrap();
    let spec = format!("{}:/data", volume.display());
    same_run(
        &[
            "--user",
            "1000:1000",
            "--group-add",
            "5",
            "-v",
            &spec,
            "--tmpfs",
            "/scratch",
            "--workdir",
            "/data",
            "-e",
            "FOO=bar",
        ],
        "id; pwd; cat f; echo $FOO; hostname; cat /etc/hostname; \
         touch /scratch/x && echo scratch ok; grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status; \
         ulimit -n; echo y > /data/g; echo $?",
    );
}

#[test]
fn podman_run_with_a_terminal_as_with_runc() {
    same_run(
        &["-t"],
        "test -t 0 && test -t 1 && echo on a terminal; exit 4",
    );
}

/// `podman run -d`, `podman exec` (output and status) and `podman stop`
/// (SIGTERM, which the container's init ignores as Linux's does, then
/// SIGKILL: exit 137).
#[test]
fn podman_exec_and_stop_as_with_runc() {
    let Some(image) = image() else { return };
    let mut seen = Vec::new();
    for (runtime, name) in [(RUNC, "runc"), (SENTRY, "sentry")] {
        let container = format!("sentry-test-{}-{name}", std::process::id());
        let mut args = vec!["run", "-d", "--name", &container];
        args.extend(ULIMITS);
        args.extend([image, "sh", "-c", "while true; do sleep 0.05; done"]);
        let started = podman(runtime, &args);
        assert!(
            started.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        let exec = podman(
            runtime,
            &["exec", &container, "sh", "-c", "echo from exec; exit 5"],
        );
        let stop = podman(runtime, &["stop", "-t", "1", &container]);
        let code = podman(
            runtime,
            &["inspect", "-f", "{{.State.ExitCode}}", &container],
        );
        let _ = podman(runtime, &["rm", "-f", &container]);
        seen.push((
            outcome(&exec),
            stop.status.code(),
            String::from_utf8_lossy(&code.stdout).trim().to_string(),
        ));
    }
    assert_eq!(seen[0].2, "137", "runc: {seen:?}");
    assert_eq!(seen[1], seen[0], "the sentry differs from runc");
}

/// `podman run -it` of busybox's shell, driven on a terminal: the session
/// (prompts, echo, a foreground `sleep` interrupted by ^C, `$?` 130,
/// `exit 7`) as with runc.
#[test]
fn podman_interactive_shell_as_with_runc() {
    let Some(image) = image() else { return };
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/programs/interactive_shell.py"
    );
    let session = |runtime: &str| {
        let mut command = Command::new("python3");
        command
            .arg(src)
            .args(["podman", "--runtime", runtime, "run", "--rm", "-it"])
            .args(ULIMITS)
            .args([image, "sh"]);
        run_limited(command.stdin(Stdio::null()))
    };
    let want = session(RUNC);
    let got = session(SENTRY);
    assert!(
        String::from_utf8_lossy(&want.stdout).contains("after 130"),
        "runc: {}",
        String::from_utf8_lossy(&want.stdout)
    );
    assert_eq!(outcome(&got), outcome(&want));
}
