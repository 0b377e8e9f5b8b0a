//! Runs real programs in the sentry (the built `sentry` binary) and
//! compares their output and exit status with the same program run
//! natively, `chroot`ed into the same host tree (the oracle: the Linux
//! kernel).
//!
//! Each test skips with a message when busybox is missing, the host
//! refuses ptrace, or `chroot` is not permitted (the native run needs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod common;
use common::{BUSYBOX, busybox_runs_here};

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

fn setup(name: &str) -> Option<Tree> {
    if !busybox_runs_here() {
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
    // own over both, and `proc` on `/proc`.
    std::fs::create_dir_all(tree.dir.join("tmp")).ok()?;
    std::fs::create_dir_all(tree.dir.join("proc")).ok()?;
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
    // The sentry mounts its own `/dev`, `/proc` and `/tmp`, whose roots
    // differ from the host directories; every other line must match.
    let keep = |out: &Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| ![" dev", " proc", " tmp"].iter().any(|s| l.ends_with(s)))
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

/// Runs `args` with a standard input that is a host pipe whose writer
/// sends `chunks` with pauses in between (so the program's reads find the
/// pipe empty and must wait), and returns the output.
fn with_slow_stdin(mut cmd: Command, chunks: &[&[u8]]) -> Output {
    use std::io::Write;
    use std::process::Stdio;

    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning");
    let mut stdin = child.stdin.take().expect("stdin");
    for chunk in chunks {
        std::thread::sleep(std::time::Duration::from_millis(150));
        stdin.write_all(chunk).expect("writing stdin");
        stdin.flush().expect("flushing stdin");
    }
    drop(stdin);
    child.wait_with_output().expect("waiting")
}

#[test]
fn program_reading_a_slow_pipe_on_stdin_waits_for_data() {
    let Some(tree) = setup("stdinpipe") else {
        return;
    };
    let chunks: [&[u8]; 3] = [b"one\n", b"two two\n", b"three\n"];
    let args = ["/bin/busybox", "wc"];
    let mut native_cmd = Command::new("chroot");
    native_cmd.arg(&tree.dir).args(args);
    let want = with_slow_stdin(native_cmd, &chunks);
    let mut sentry_cmd = Command::new(env!("CARGO_BIN_EXE_sentry"));
    sentry_cmd
        .args(["run", "--rootfs"])
        .arg(&tree.dir)
        .arg("--")
        .args(args);
    let got = with_slow_stdin(sentry_cmd, &chunks);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout),
        "sentry stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(got.status.code(), want.status.code());
}

/// A `proc` mounted in the test tree for the native runs, unmounted on
/// drop (declare it after the tree so it goes first).
struct NativeProc(PathBuf);

impl Drop for NativeProc {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn mount_native_proc(tree: &Tree) -> Option<NativeProc> {
    let dir = tree.dir.join("proc");
    std::fs::create_dir_all(&dir).ok()?;
    let ok = Command::new("mount")
        .args(["-t", "proc", "proc"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: mounting proc for the native run is not permitted");
        return None;
    }
    Some(NativeProc(dir))
}

#[test]
fn readlink_proc_self_exe_matches_native() {
    let Some(tree) = setup("procexe") else { return };
    let Some(_proc) = mount_native_proc(&tree) else {
        return;
    };
    assert_same(&tree, &["/bin/busybox", "readlink", "/proc/self/exe"]);
}

#[test]
fn ls_l_proc_self_fd_shows_native_names_and_modes() {
    let Some(tree) = setup("procfd") else { return };
    let Some(_proc) = mount_native_proc(&tree) else {
        return;
    };
    // Link targets name host files, so compare each line's mode and name.
    let shape = |out: &Output| -> Vec<(String, String)> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                let arrow = fields.iter().position(|&f| f == "->");
                let name = match arrow {
                    Some(i) => fields.get(i.checked_sub(1)?)?,
                    None => fields.last()?,
                };
                Some((fields.first()?.to_string(), name.to_string()))
            })
            // Descriptors the test harness leaks into the native run are
            // not the program's.
            .filter(|(_, name)| ["total", "0", "1", "2", "3"].contains(&name.as_str()))
            .collect()
    };
    let args = ["/bin/busybox", "ls", "-l", "/proc/self/fd"];
    let want = native(&tree, &args);
    let got = sandboxed(&tree, &args);
    assert_eq!(shape(&got), shape(&want));
    assert_eq!(got.status.code(), want.status.code());
}

#[test]
fn proc_self_maps_has_the_native_mappings_and_format() {
    let Some(tree) = setup("procmaps") else {
        return;
    };
    let Some(_proc) = mount_native_proc(&tree) else {
        return;
    };
    // The sentry has no vDSO; every other named mapping must be there,
    // and every line must have Linux's layout.
    let names = |out: &Output| -> Vec<String> {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut names: Vec<String> = text
            .lines()
            .map(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                assert!(fields.len() >= 5, "short maps line {l:?}");
                let (range, perms) = (fields[0], fields[1]);
                let (lo, hi) = range.split_once('-').expect("range");
                assert!(
                    u64::from_str_radix(lo, 16).unwrap() < u64::from_str_radix(hi, 16).unwrap()
                );
                assert_eq!(perms.len(), 4, "{l:?}");
                if fields.len() > 5 {
                    assert_eq!(l.find(fields[5]), Some(73), "name column of {l:?}");
                }
                fields.get(5).map(|s| s.to_string()).unwrap_or_default()
            })
            .filter(|n| {
                !n.is_empty() && !n.starts_with("[vvar") && n != "[vdso]" && n != "[vsyscall]"
            })
            .collect();
        names.dedup();
        names
    };
    let args = ["/bin/busybox", "cat", "/proc/self/maps"];
    let want = native(&tree, &args);
    let got = sandboxed(&tree, &args);
    assert_eq!(names(&got), names(&want));
    assert_eq!(got.status.code(), want.status.code());
}

#[test]
fn proc_cpuinfo_is_the_hosts() {
    let Some(tree) = setup("proccpu") else { return };
    let Some(_proc) = mount_native_proc(&tree) else {
        return;
    };
    // The clock speed changes from one read to the next.
    let stable = |out: &Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("cpu MHz"))
            .map(str::to_owned)
            .collect()
    };
    let args = ["/bin/busybox", "cat", "/proc/cpuinfo"];
    let want = native(&tree, &args);
    let got = sandboxed(&tree, &args);
    assert!(!stable(&want).is_empty());
    assert_eq!(stable(&got), stable(&want));
}

#[test]
fn shell_read_with_timeout_polls_a_slow_stdin_pipe() {
    let Some(tree) = setup("pollstdin") else {
        return;
    };
    // `read -t` polls standard input before reading.
    let chunks: [&[u8]; 1] = [b"polled line\n"];
    let args = [
        "/bin/busybox",
        "sh",
        "-c",
        "read -t 10 line; echo \"got $line\"",
    ];
    let mut native_cmd = Command::new("chroot");
    native_cmd.arg(&tree.dir).args(args);
    let want = with_slow_stdin(native_cmd, &chunks);
    let mut sentry_cmd = Command::new(env!("CARGO_BIN_EXE_sentry"));
    sentry_cmd
        .args(["run", "--rootfs"])
        .arg(&tree.dir)
        .arg("--")
        .args(args);
    let got = with_slow_stdin(sentry_cmd, &chunks);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout),
        "sentry stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(got.status.code(), want.status.code());
}

#[test]
fn flock_of_stdin_matches_native() {
    let Some(tree) = setup("flock") else { return };
    for args in [
        ["/bin/busybox", "flock", "-x", "0"],
        ["/bin/busybox", "flock", "-s", "0"],
        ["/bin/busybox", "flock", "-u", "0"],
    ] {
        let file = || std::fs::File::open(tree.dir.join("etc/passwd")).expect("opening passwd");
        let want = Command::new("chroot")
            .arg(&tree.dir)
            .args(args)
            .stdin(file())
            .output()
            .expect("chroot");
        let got = Command::new(env!("CARGO_BIN_EXE_sentry"))
            .args(["run", "--rootfs"])
            .arg(&tree.dir)
            .arg("--")
            .args(args)
            .stdin(file())
            .output()
            .expect("sentry");
        assert_eq!(
            got.status.code(),
            want.status.code(),
            "{args:?}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
    }
}
