//! Runs real programs in the sentry (the built `sentry` binary) and
//! compares their output and exit status with the same program run
//! natively, `chroot`ed into the same host tree (the oracle: the Linux
//! kernel).
//!
//! Each test skips with a message when busybox is missing, the host
//! refuses ptrace, or `chroot` is not permitted (the native run needs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

const BUSYBOX: &str = "/usr/bin/busybox";

/// A test root: `bin/busybox`, `etc/passwd` (the host's), and `data/`
/// with 100 files of deterministic contents, on a host tmpfs so directory
/// sizes follow the same rules as the sentry's in-memory root.
struct Tree {
    dir: PathBuf,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ptrace_available() -> bool {
    let Ok(mf) = platform::MemoryFile::new() else {
        return false;
    };
    platform::PtracePlatform::new(Arc::new(mf)).is_ok()
}

fn setup(name: &str) -> Option<Tree> {
    if !Path::new(BUSYBOX).exists() {
        eprintln!("skipped: {BUSYBOX} is missing (install busybox-static)");
        return None;
    }
    if !ptrace_available() {
        eprintln!("skipped: the host refuses ptrace");
        return None;
    }
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("sentry-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tree = Tree { dir };
    std::fs::create_dir_all(tree.dir.join("bin")).ok()?;
    std::fs::create_dir_all(tree.dir.join("etc")).ok()?;
    std::fs::create_dir_all(tree.dir.join("data")).ok()?;
    std::fs::copy(BUSYBOX, tree.dir.join("bin/busybox")).ok()?;
    let passwd =
        std::fs::read("/etc/passwd").unwrap_or_else(|_| b"root:x:0:0::/:/bin/sh\n".to_vec());
    std::fs::write(tree.dir.join("etc/passwd"), passwd).ok()?;
    let mut state: u32 = 12345;
    for i in 0..100 {
        let len = (i * 997) % 20_000;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 16) as u8
            })
            .collect();
        std::fs::write(tree.dir.join(format!("data/f{i:03}")), bytes).ok()?;
    }
    std::os::unix::fs::symlink("busybox", tree.dir.join("bin/sh")).ok()?;
    // The native run needs `/dev/zero` and `/tmp`; the sentry mounts its
    // own over both.
    std::fs::create_dir_all(tree.dir.join("tmp")).ok()?;
    std::fs::create_dir_all(tree.dir.join("dev")).ok()?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            tree.dir.join("tmp"),
            std::fs::Permissions::from_mode(0o1777),
        )
        .ok()?;
    }
    for (node, minor) in [("null", "3"), ("zero", "5")] {
        let made = Command::new("mknod")
            .arg(tree.dir.join("dev").join(node))
            .args(["c", "1", minor])
            .status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mknod is not permitted");
            return None;
        }
    }
    let probe = Command::new("chroot")
        .arg(&tree.dir)
        .args(["/bin/busybox", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: chroot is not permitted, so there is no native run to compare with");
        return None;
    }
    Some(tree)
}

fn native(tree: &Tree, args: &[&str]) -> Output {
    Command::new("chroot")
        .arg(&tree.dir)
        .args(args)
        .output()
        .expect("running chroot")
}

fn sandboxed_on(tree: &Tree, platform: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sentry"))
        .args(["run", "--platform", platform, "--rootfs"])
        .arg(&tree.dir)
        .arg("--")
        .args(args)
        .output()
        .expect("running sentry")
}

fn sandboxed(tree: &Tree, args: &[&str]) -> Output {
    sandboxed_on(tree, "ptrace", args)
}

fn assert_same(tree: &Tree, args: &[&str]) {
    let want = native(tree, args);
    let got = sandboxed(tree, args);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout),
        "stdout of {args:?}; sentry stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(got.status.code(), want.status.code(), "status of {args:?}");
}

#[test]
fn echo_matches_native() {
    let Some(tree) = setup("echo") else { return };
    assert_same(
        &tree,
        &["/bin/busybox", "echo", "hello", "sandboxed", "world"],
    );
}

#[test]
fn ls_la_of_directories_matches_native() {
    let Some(tree) = setup("ls") else { return };
    assert_same(
        &tree,
        &["/bin/busybox", "ls", "-la", "/bin", "/etc", "/data"],
    );
}

#[test]
fn ls_la_root_matches_native_apart_from_the_sentry_mounts() {
    let Some(tree) = setup("lsroot") else { return };
    // The sentry mounts its own `/dev` and `/tmp`, whose roots differ from
    // the host directories; every other line must match.
    let keep = |out: &Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| ![" dev", " tmp"].iter().any(|s| l.ends_with(s)))
            .map(str::to_owned)
            .collect()
    };
    let args = ["/bin/busybox", "ls", "-la", "/"];
    let want = native(&tree, &args);
    let got = sandboxed(&tree, &args);
    assert_eq!(keep(&got), keep(&want));
    assert_eq!(got.status.code(), want.status.code());
}

#[test]
fn wc_l_of_passwd_matches_native() {
    let Some(tree) = setup("wc") else { return };
    assert_same(&tree, &["/bin/busybox", "wc", "-l", "/etc/passwd"]);
}

#[test]
fn md5sum_of_100_files_matches_native() {
    let Some(tree) = setup("md5") else { return };
    let names: Vec<String> = (0..100).map(|i| format!("/data/f{i:03}")).collect();
    let mut args = vec!["/bin/busybox", "md5sum"];
    args.extend(names.iter().map(String::as_str));
    args.push("/bin/busybox");
    assert_same(&tree, &args);
}

#[test]
fn dd_from_dev_zero_to_tmp_matches_native() {
    let Some(tree) = setup("dd") else { return };
    assert_same(
        &tree,
        &[
            "/bin/busybox",
            "dd",
            "if=/dev/zero",
            "of=/tmp/x",
            "bs=1M",
            "count=8",
        ],
    );
}

#[test]
fn dd_from_dev_zero_to_stdout_gives_native_bytes() {
    let Some(tree) = setup("ddout") else { return };
    let args = ["/bin/busybox", "dd", "if=/dev/zero", "bs=1M", "count=8"];
    let want = native(&tree, &args);
    let got = sandboxed(&tree, &args);
    assert_eq!(got.stdout.len(), want.stdout.len());
    assert!(got.stdout == want.stdout, "the bytes differ");
    assert_eq!(got.status.code(), want.status.code());
}

#[test]
fn seccomp_platform_md5sum_matches_native() {
    let Some(tree) = setup("seccomp") else { return };
    let args = ["/bin/busybox", "md5sum", "/bin/busybox", "/etc/passwd"];
    let want = native(&tree, &args);
    let got = sandboxed_on(&tree, "seccomp", &args);
    if got.status.code() == Some(125) {
        eprintln!("skipped: {}", String::from_utf8_lossy(&got.stderr).trim());
        return;
    }
    assert_eq!(got.stdout, want.stdout);
    assert_eq!(got.status.code(), want.status.code());
}

#[test]
fn exit_status_of_the_program_is_the_sentrys() {
    let Some(tree) = setup("status") else { return };
    assert_same(&tree, &["/bin/busybox", "false"]);
    assert_same(&tree, &["/bin/busybox", "sh", "-c", "exit 7"]);
}

#[test]
fn missing_program_is_a_sentry_error_125() {
    let Some(tree) = setup("missing") else { return };
    let got = sandboxed(&tree, &["/bin/no-such-program"]);
    assert_eq!(got.status.code(), Some(125));
    let err = String::from_utf8_lossy(&got.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ENOENT"), "{err}");
}

#[test]
fn shebang_script_runs_through_its_interpreter() {
    let Some(tree) = setup("script") else { return };
    std::fs::write(
        tree.dir.join("bin/hello"),
        "#!/bin/busybox sh\necho from script $0\nexit 4\n",
    )
    .ok();
    let mut perms = std::fs::metadata(tree.dir.join("bin/hello"))
        .map(|m| m.permissions())
        .ok();
    if let Some(p) = perms.as_mut() {
        use std::os::unix::fs::PermissionsExt;
        p.set_mode(0o755);
        std::fs::set_permissions(tree.dir.join("bin/hello"), p.clone()).ok();
    }
    assert_same(&tree, &["/bin/hello"]);
}

#[test]
fn strace_prints_calls_with_decoded_arguments() {
    let Some(tree) = setup("strace") else { return };
    let got = Command::new(env!("CARGO_BIN_EXE_sentry"))
        .args(["run", "--strace", "--rootfs"])
        .arg(&tree.dir)
        .args(["--", "/bin/busybox", "wc", "-l", "/etc/passwd"])
        .output()
        .expect("running sentry");
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(err.contains("\"/etc/passwd\""), "{err}");
    assert!(err.contains("exit_group(0)"), "{err}");
}
