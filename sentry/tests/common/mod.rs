//! Helpers the sentry's integration tests share: the host facts they skip
//! on, and running a program with a hard time limit so a hung sandbox
//! fails its test instead of hanging the suite.

pub mod native;

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Debian's static busybox (package busybox-static).
pub const BUSYBOX: &str = "/usr/bin/busybox";

/// How long one program may run before the test kills it and fails.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Whether the host lets the platform trace stub processes.
pub fn ptrace_available() -> bool {
    let Ok(mf) = platform::MemoryFile::new() else {
        return false;
    };
    platform::PtracePlatform::new(Arc::new(mf)).is_ok()
}

/// Whether busybox can run in the sentry here; prints why the test is
/// skipped when not.
pub fn busybox_runs_here() -> bool {
    if !std::path::Path::new(BUSYBOX).exists() {
        eprintln!("skipped: {BUSYBOX} is missing (install busybox-static)");
        return false;
    }
    if !ptrace_available() {
        eprintln!("skipped: the host refuses ptrace");
        return false;
    }
    true
}

/// `busybox sh -c SCRIPT` in `/`, with an empty environment.
pub fn shell(script: &str) -> sentry::ProgramSpec {
    sentry::ProgramSpec {
        argv: vec![
            b"/bin/busybox".to_vec(),
            b"sh".to_vec(),
            b"-c".to_vec(),
            script.into(),
        ],
        cwd: b"/".to_vec(),
        ..Default::default()
    }
}

/// Runs `cmd` with stdin from /dev/null, collecting its output, and kills
/// it (failing the test) after [`TIME_LIMIT`]; `None` if it could not be
/// started.
pub fn try_run_limited(cmd: &mut Command) -> Option<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let start = Instant::now();
    let mut stdout = child.stdout.take()?;
    let mut stderr = child.stderr.take()?;
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().ok()? {
            break status;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Some(Output {
        status,
        stdout: out.join().ok()?,
        stderr: err.join().ok()?,
    })
}

/// [`try_run_limited`] for commands that must start.
pub fn run_limited(cmd: &mut Command) -> Output {
    try_run_limited(cmd).unwrap_or_else(|| panic!("cannot run {cmd:?}"))
}

/// Runs `setup` (shell commands ending in `&&`), then `script` with
/// busybox's shell `chroot`ed into `root`, in a private mount namespace.
/// `None`, with a message, when the host does not permit it.
pub fn in_private_namespace(setup: &str, root: &str, script: &str) -> Option<Output> {
    let quoted = script.replace('\'', r"'\''");
    // busybox's shell runs its applets through /proc/self/exe.
    let outer = format!("{setup}exec chroot {root} /bin/busybox sh -c '{quoted}'");
    let out = run_limited(Command::new("unshare").args(["-m", "sh", "-c", &outer]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("unshare failed")
        || stderr.contains("chroot: cannot change root")
        || stderr.contains("mount: ")
    {
        eprintln!("skipped: no native run to compare with: {stderr}");
        return None;
    }
    Some(out)
}

/// Runs `script` with busybox's shell in the kernel's own overlayfs over
/// the directory `lower`, its upper layer on a tmpfs of a private mount
/// namespace, with `proc` on `/proc`. `None` when the host does not
/// permit it.
pub fn native_overlay(lower: &std::path::Path, script: &str) -> Option<Output> {
    let scratch = lower.with_extension("overlay");
    std::fs::create_dir_all(&scratch).ok()?;
    let s = scratch.display();
    let setup = format!(
        "mount -t tmpfs tmpfs {s} && mkdir {s}/upper {s}/work {s}/merged && \
         mount -t overlay overlay -o lowerdir={},upperdir={s}/upper,workdir={s}/work \
         {s}/merged && mount -t proc proc {s}/merged/proc && ",
        lower.display()
    );
    let out = in_private_namespace(&setup, &format!("{s}/merged"), script);
    let _ = std::fs::remove_dir(&scratch);
    out
}

/// Applets the container tests' busybox roots link.
pub const APPLETS: &[&str] = &[
    "sh", "echo", "cat", "ls", "sleep", "id", "hostname", "test", "tty", "cut", "grep", "true",
    "pwd", "touch",
];

/// Makes `dir` (anew) a root with busybox, its [`APPLETS`] and an empty
/// `/tmp`: a container image's tree.
pub fn busybox_root(dir: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::copy(BUSYBOX, dir.join("bin/busybox")).unwrap();
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", dir.join(format!("bin/{applet}"))).unwrap();
    }
}

/// A busybox root ([`busybox_root`]) packed into the tarball `tar`, for
/// `podman import` and `docker import`.
pub fn busybox_tarball(tar: &std::path::Path) {
    let tree = tar.with_extension("tree");
    busybox_root(&tree);
    let packed = Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .arg("-cf")
        .arg(tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(packed.success());
    let _ = std::fs::remove_dir_all(&tree);
}
