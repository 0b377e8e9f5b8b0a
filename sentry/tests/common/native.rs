//! Running one program natively and in the sentry on every platform the
//! host allows, and comparing what each printed and how it exited. C
//! programs from `tests/programs/` are built with the host's gcc under
//! `/var/tmp`, which a sandbox started with `--rootfs /` sees at the same
//! path (its `/tmp` is its own).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{ptrace_available, run_limited};

/// The platforms the host lets the sentry use here.
pub fn platforms() -> Vec<&'static str> {
    let mut out = Vec::new();
    let mf = || std::sync::Arc::new(platform::MemoryFile::new().unwrap());
    if platform::SystrapPlatform::new(mf()).is_ok() {
        out.push("seccomp");
    }
    if ptrace_available() {
        out.push("ptrace");
    }
    if out.is_empty() {
        eprintln!("skipped: the host allows neither seccomp-trap nor ptrace");
    }
    out
}

/// Reports a missing tool: a skip, or a failure in CI when `.ci/run`
/// installs it.
pub fn missing(tool: &str, installed_by_ci: bool) {
    assert!(
        !(installed_by_ci && std::env::var("CI").as_deref() == Ok("true")),
        "{tool} is missing, but .ci/run installs it"
    );
    eprintln!("skipped: {tool} is missing");
}

/// The directory the test programs are built in: under `/var/tmp`, which
/// the sandbox sees at the same path (its `/tmp`, where a checkout's
/// target directory may live, is its own memory). Each test process uses
/// its own and removes those of earlier processes that are gone (a static
/// is never dropped).
pub fn work_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new("/var/tmp");
        const PREFIX: &str = "sentry-tests-";
        if let Ok(entries) = std::fs::read_dir(base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let gone = name
                    .strip_prefix(PREFIX)
                    .and_then(|pid| pid.parse::<u32>().ok())
                    .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
                if gone {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("{PREFIX}{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// Builds `tests/programs/NAME.c` (once per test binary); `None` without
/// gcc.
pub fn build(name: &str) -> Option<PathBuf> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/programs/{name}.c"));
    let out = work_dir().join(format!("{name}-{}", std::process::id()));
    if out.exists() {
        return Some(out);
    }
    let built = Command::new("gcc")
        .args(["-O2", "-pthread", "-o"])
        .arg(&out)
        .arg(&src)
        .status();
    match built {
        Ok(s) if s.success() => Some(out),
        Ok(s) => panic!("gcc failed on {}: {s}", src.display()),
        Err(_) => {
            missing("gcc", true);
            None
        }
    }
}

/// What a run produced: exit code and standard output.
pub type Outcome = (Option<i32>, String);

/// The exit code and standard output of `out`.
pub fn outcome(out: &std::process::Output) -> Outcome {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs `argv` natively and in the sentry on every platform, with `env`
/// added, and requires the same exit code and standard output.
pub fn same_as_native(argv: &[&str], env: &[(&str, &str)]) {
    same_as_native_with(argv, env, &[]);
}

/// As [`same_as_native`], with `sentry_args` added to `sentry run`.
pub fn same_as_native_with(argv: &[&str], env: &[(&str, &str)], sentry_args: &[&str]) {
    let mut native = Command::new(argv[0]);
    native.args(&argv[1..]);
    compare(native, argv, env, sentry_args);
}

/// As [`same_as_native`], with the native run in a new network namespace
/// whose only interface is `lo`, up: the network the sandbox's default
/// `--network=none` gives. The native run's ports are its own, so the
/// program may use fixed ones. Skips (with a message) without `unshare`
/// and `ip`.
pub fn same_as_loopback_only(argv: &[&str], env: &[(&str, &str)]) {
    for tool in ["/usr/bin/unshare", "/usr/sbin/ip"] {
        if !Path::new(tool).exists() {
            missing(tool, true);
            return;
        }
    }
    same_as_native_under(
        &[
            "-n",
            "/bin/sh",
            "-c",
            "/usr/sbin/ip link set lo up && exec \"$@\"",
            "sh",
        ],
        argv,
        env,
    );
}

/// As [`same_as_native`], with the native run under `unshare UNSHARE
/// ARGV` (namespaces of its own: `-u` for the host name, `-mi` for a
/// private mqueue). Skips without `unshare`.
pub fn same_as_native_under(unshare: &[&str], argv: &[&str], env: &[(&str, &str)]) {
    if !Path::new("/usr/bin/unshare").exists() {
        missing("/usr/bin/unshare", true);
        return;
    }
    let mut native = Command::new("/usr/bin/unshare");
    native.args(unshare).args(argv);
    compare(native, argv, env, &[]);
}

/// As [`same_as_native`] with the sandbox's default root, an overlay over
/// the host's `/`, and the native run `chroot`ed into the kernel's own
/// overlayfs over `/` (its upper layer on a tmpfs of a private mount
/// namespace, with `proc`, the host's `/dev` and a fresh `/tmp`, as the
/// sandbox has): what the program changes stays in each overlay.
pub fn same_as_native_overlay(argv: &[&str], env: &[(&str, &str)]) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = work_dir().join(format!("overlay-{n}"));
    std::fs::create_dir_all(&scratch).unwrap();
    let s = scratch.display();
    // Absolute paths: the shell gets the program's environment.
    let setup = format!(
        "/usr/bin/mount -t tmpfs tmpfs {s} && /usr/bin/mkdir {s}/upper {s}/work {s}/merged && \
         /usr/bin/mount -t overlay overlay -o lowerdir=/,upperdir={s}/upper,workdir={s}/work \
         {s}/merged && /usr/bin/mount -t proc proc {s}/merged/proc && \
         /usr/bin/mount --rbind /dev {s}/merged/dev && \
         /usr/bin/mount -t tmpfs tmpfs {s}/merged/tmp && exec /usr/sbin/chroot {s}/merged \"$@\""
    );
    same_as_native_under(&["-m", "/bin/sh", "-c", &setup, "sh"], argv, env);
    let _ = std::fs::remove_dir(&scratch);
}

fn compare(mut native: Command, argv: &[&str], env: &[(&str, &str)], sentry_args: &[&str]) {
    // Both runs get exactly `env`: the sandbox starts with an empty
    // environment, so the native run must too.
    let native = run_limited(native.env_clear().envs(env.iter().copied()));
    let native = outcome(&native);
    assert!(!native.1.is_empty(), "{argv:?} printed nothing natively");
    for platform in platforms() {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sentry"));
        cmd.args(["run", "--platform", platform, "--rootfs", "/"]);
        cmd.args(sentry_args);
        for (k, v) in env {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        cmd.arg("--").args(argv);
        let out = run_limited(&mut cmd);
        assert_eq!(
            outcome(&out),
            native,
            "{argv:?} on {platform}; sandbox stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs the C program `name` natively and in the sentry.
pub fn c_program(name: &str) {
    if let Some(exe) = build(name) {
        same_as_native(&[exe.to_str().unwrap()], &[]);
    }
}

/// Builds the Go program `tests/programs/NAME.go` with the host's `go`
/// (its caches under the work directory); `None`, with a message, without
/// Go.
pub fn go_build(name: &str) -> Option<PathBuf> {
    let Ok(version) = Command::new("go").arg("version").output() else {
        missing("go (Debian's golang-go)", true);
        return None;
    };
    assert!(version.status.success());
    let dir = work_dir().join(format!("go-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/programs/{name}.go"));
    let exe = dir.join(name);
    let built = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .env("HOME", &dir)
        .env("GOCACHE", dir.join("cache"))
        .env("GOPATH", dir.join("gopath"))
        .env("GO111MODULE", "off")
        .status()
        .unwrap();
    assert!(built.success(), "go build of {name} failed");
    Some(exe)
}
