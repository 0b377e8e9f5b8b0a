//! Process creation in the sentry: `fork`, `execve`, `wait4`, `kill`
//! through busybox `sh` (pipelines, subshells, command substitution,
//! background jobs), compared with the same commands run natively,
//! `chroot`ed into the same host tree with a real `proc` mounted (busybox
//! runs its applets through `/proc/self/exe`). Every run is killed after
//! [`common::TIME_LIMIT`].
//!
//! Each test skips with a message when busybox is missing, the host
//! refuses ptrace, or `chroot`, `mknod` or mounting `proc` is not
//! permitted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod common;
use common::{BUSYBOX, busybox_runs_here, run_limited};

/// A test root with busybox, `/etc/passwd`, `/dev/{null,zero}`, `/tmp`
/// and a native `proc` on `/proc` (unmounted, then removed, on drop).
struct Tree {
    dir: PathBuf,
    proc_mounted: bool,
}

impl Drop for Tree {
    fn drop(&mut self) {
        if self.proc_mounted {
            let _ = Command::new("umount").arg(self.dir.join("proc")).status();
        }
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
    let dir = base.join(format!("sentry-proc-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut tree = Tree {
        dir,
        proc_mounted: false,
    };
    for sub in ["bin", "etc", "tmp", "dev", "proc", "data"] {
        std::fs::create_dir_all(tree.dir.join(sub)).ok()?;
    }
    std::fs::copy(BUSYBOX, tree.dir.join("bin/busybox")).ok()?;
    std::os::unix::fs::symlink("busybox", tree.dir.join("bin/sh")).ok()?;
    let passwd =
        std::fs::read("/etc/passwd").unwrap_or_else(|_| b"root:x:0:0::/:/bin/sh\n".to_vec());
    std::fs::write(tree.dir.join("etc/passwd"), passwd).ok()?;
    // A file that is not executable.
    std::fs::write(tree.dir.join("data/plain"), b"not a program\n").ok()?;
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
    let mounted = Command::new("mount")
        .args(["-t", "proc", "proc"])
        .arg(tree.dir.join("proc"))
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: mounting proc for the native run is not permitted");
        return None;
    }
    tree.proc_mounted = true;
    Some(tree)
}

fn native(tree: &Tree, script: &str) -> Output {
    run_limited(
        Command::new("chroot")
            .arg(&tree.dir)
            .args(["/bin/busybox", "sh", "-c", script]),
    )
}

fn sandboxed(tree: &Tree, platform: &str, extra: &[&str], script: &str) -> Output {
    run_limited(
        Command::new(env!("CARGO_BIN_EXE_sentry"))
            .args(["run", "--platform", platform])
            .args(extra)
            .arg("--rootfs")
            .arg(&tree.dir)
            .args(["--", "/bin/busybox", "sh", "-c", script]),
    )
}

/// Runs `script` in `busybox sh -c` natively and in the sentry on
/// `platform` and compares stdout and exit status.
fn assert_same_on(tree: &Tree, platform: &str, script: &str) {
    let want = native(tree, script);
    let got = sandboxed(tree, platform, &[], script);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout),
        "stdout of {script:?}; sentry stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(
        got.status.code(),
        want.status.code(),
        "status of {script:?}; sentry stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
}

fn assert_same(tree: &Tree, script: &str) {
    assert_same_on(tree, "ptrace", script);
}

#[test]
fn dd_then_md5sum_in_one_sandbox_matches_native() {
    let Some(tree) = setup("ddmd5") else { return };
    assert_same(
        &tree,
        "dd if=/dev/zero of=/tmp/x bs=1M count=64 2>/dev/null && md5sum /tmp/x",
    );
}

#[test]
fn pipeline_cat_into_wc_matches_native() {
    let Some(tree) = setup("pipe") else { return };
    assert_same(&tree, "cat /etc/passwd | wc -l");
}

#[test]
fn loop_output_piped_into_wc_matches_native() {
    let Some(tree) = setup("loop") else { return };
    assert_same(&tree, "for i in 1 2 3; do echo $i; done | wc -l");
}

#[test]
fn seccomp_platform_pipeline_matches_native() {
    let Some(tree) = setup("seccomp") else { return };
    assert_same_on(
        &tree,
        "seccomp",
        "cat /etc/passwd | wc -l; for i in 1 2 3; do echo $i; done | wc -l",
    );
}

#[test]
fn exit_status_of_a_child_reaches_the_parent_through_wait() {
    let Some(tree) = setup("exit") else { return };
    assert_same(
        &tree,
        "busybox sh -c 'exit 3'; s=$?; echo $s; (exit 5); echo $?; exit $s",
    );
}

#[test]
fn child_killed_by_a_signal_reports_it_through_wait() {
    let Some(tree) = setup("killed") else { return };
    assert_same(
        &tree,
        "busybox sh -c 'kill -9 $$'; echo $?; busybox sh -c 'kill -TERM $$'; echo $?",
    );
}

#[test]
fn kill_terminates_a_sleeping_background_job() {
    let Some(tree) = setup("bgkill") else { return };
    assert_same(&tree, "sleep 30 & kill $!; wait $!; echo $?");
}

#[test]
fn command_substitution_and_subshells_match_native() {
    let Some(tree) = setup("subst") else { return };
    assert_same(
        &tree,
        "x=$(echo sub; echo stitution); echo $x; (echo a; echo b) | wc -l; \
         echo $(cat /etc/passwd | wc -l)",
    );
}

#[test]
fn getppid_of_a_child_is_its_parent() {
    let Some(tree) = setup("ppid") else { return };
    assert_same(
        &tree,
        "echo $$ > /tmp/p; busybox sh -c 'test $PPID = $(cat /tmp/p) && echo parent-ok'; true",
    );
}

#[test]
fn failed_exec_leaves_the_shell_running() {
    let Some(tree) = setup("execfail") else {
        return;
    };
    assert_same(
        &tree,
        "/data/plain 2>/dev/null; echo $?; /nonexistent 2>/dev/null; echo $?; \
         /bin/busybox echo still here",
    );
}

#[test]
fn fork_beyond_the_process_limit_fails_with_eagain() {
    let Some(tree) = setup("bomb") else { return };
    // The shell and two sleepers fill the limit of three; the third
    // background job cannot be forked. The sleepers are killed when the
    // shell (the init process) exits.
    let got = sandboxed(
        &tree,
        "ptrace",
        &["--max-processes", "3"],
        "sleep 30 & sleep 30 & sleep 30 & echo all started",
    );
    let stderr = String::from_utf8_lossy(&got.stderr);
    let eagain = std::io::Error::from_raw_os_error(libc::EAGAIN).to_string();
    let eagain = eagain.split(" (os error").next().unwrap_or(&eagain);
    assert!(
        stderr.contains(eagain),
        "stderr {stderr:?} lacks {eagain:?}"
    );
    assert!(!String::from_utf8_lossy(&got.stdout).contains("all started"));
    assert_ne!(got.status.code(), Some(0));
}

#[test]
fn trapped_signal_runs_the_shells_handler() {
    let Some(tree) = setup("trap") else { return };
    assert_same(
        &tree,
        "trap 'echo got usr1' USR1; kill -USR1 $$; echo after; \
         sleep 0 & wait; echo waited $?",
    );
}

/// `mount -t tmpfs`, a bind mount, a read-only remount and `umount`, as a
/// privileged shell inside the sandbox does them, against the same script
/// run natively (which really mounts under the test tree's /tmp).
#[test]
fn mount_bind_remount_and_umount_match_native() {
    let Some(tree) = setup("mount") else {
        return;
    };
    let script = "mkdir -p /tmp/m /tmp/b && mount -t tmpfs -o size=1m tmpfs /tmp/m \
                  && echo hi > /tmp/m/x && cat /tmp/m/x \
                  && mount -o bind /tmp/m /tmp/b && cat /tmp/b/x && umount /tmp/b \
                  && mount -o remount,ro /tmp/m; touch /tmp/m/y 2>/dev/null; echo touch $?; \
                  umount /tmp/m && ls /tmp/m; echo done $?";
    let want = native(&tree, script);
    // Whatever the native run left mounted must not outlive the test.
    for dir in ["tmp/b", "tmp/m"] {
        let _ = Command::new("umount").arg(tree.dir.join(dir)).status();
    }
    let got = sandboxed(&tree, "ptrace", &[], script);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout),
        "sentry stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(got.status.code(), want.status.code());
}

/// Runs `args` in a new session, with no controlling terminal.
fn in_new_session(args: &[&std::ffi::OsStr]) -> Output {
    run_limited(Command::new("setsid").arg("-w").args(args))
}

/// Runs `command` (a shell command line) under `script`, which gives it a
/// pseudo-terminal as stdio and controlling terminal; returns what the
/// terminal showed.
fn on_a_terminal(command: &str) -> Output {
    run_limited(Command::new("script").args(["-qec", command, "/dev/null"]))
}

fn mknod_tty(tree: &Tree) {
    let status = Command::new("mknod")
        .arg(tree.dir.join("dev/tty"))
        .args(["c", "5", "0"])
        .status()
        .expect("mknod");
    assert!(status.success());
}

#[test]
fn dev_tty_without_a_controlling_terminal_is_enxio() {
    let Some(tree) = setup("notty") else {
        return;
    };
    mknod_tty(&tree);
    let script = "echo x > /dev/tty; echo status $?";
    let sentry = std::ffi::OsStr::new(env!("CARGO_BIN_EXE_sentry"));
    let want = in_new_session(&[
        "chroot".as_ref(),
        tree.dir.as_os_str(),
        "/bin/busybox".as_ref(),
        "sh".as_ref(),
        "-c".as_ref(),
        script.as_ref(),
    ]);
    let got = in_new_session(&[
        sentry,
        "run".as_ref(),
        "--rootfs".as_ref(),
        tree.dir.as_os_str(),
        "--".as_ref(),
        "/bin/busybox".as_ref(),
        "sh".as_ref(),
        "-c".as_ref(),
        script.as_ref(),
    ]);
    assert_eq!(String::from_utf8_lossy(&want.stdout), "status 1\n");
    assert_eq!(got.stdout, want.stdout);
    assert_eq!(got.stderr, want.stderr);
}

#[test]
fn dev_tty_reaches_the_terminal_stdio_came_from() {
    let Some(tree) = setup("tty") else {
        return;
    };
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: script (util-linux) is missing");
        return;
    }
    mknod_tty(&tree);
    let script = "echo via-tty > /dev/tty; echo status $?";
    let dir = tree.dir.display();
    let want = on_a_terminal(&format!("chroot {dir} /bin/busybox sh -c '{script}'"));
    let got = on_a_terminal(&format!(
        "{} run --rootfs {dir} -- /bin/busybox sh -c '{script}'",
        env!("CARGO_BIN_EXE_sentry")
    ));
    assert!(String::from_utf8_lossy(&want.stdout).contains("via-tty"));
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout)
    );
}

/// `--memory`: a process that needs a page past the sandbox's limit is
/// killed (SIGKILL, as by Linux's OOM killer, exit status 137 from the
/// sentry); one that fits runs; the sentry exits cleanly either way.
#[test]
fn memory_limit_kills_the_process_that_needs_more() {
    let python = "/usr/bin/python3";
    if !std::path::Path::new(python).exists() {
        common::native::missing("python3", true);
        return;
    }
    for platform in common::native::platforms() {
        let run = |code: &str| {
            common::run_limited(
                std::process::Command::new(env!("CARGO_BIN_EXE_sentry"))
                    .args(["run", "--memory", "64M", "--platform", platform])
                    .args(["--rootfs", "/", "--", python, "-c", code]),
            )
        };
        let over = run("print('start', flush=True); x = b'a' * (200 << 20); print('survived')");
        assert_eq!(
            String::from_utf8_lossy(&over.stdout),
            "start\n",
            "{platform}"
        );
        assert_eq!(over.status.code(), Some(137), "{platform}");
        let under = run("x = b'a' * (20 << 20); print('fits', len(x))");
        assert_eq!(
            String::from_utf8_lossy(&under.stdout),
            "fits 20971520\n",
            "{platform}"
        );
        assert!(under.status.success(), "{platform}");
    }
}

/// `fexecve` and `execveat`: by file, `O_PATH` and memfd descriptor,
/// relative to a directory descriptor, `AT_SYMLINK_NOFOLLOW`, scripts
/// named `/dev/fd/N` (and `ENOENT` when that is close-on-exec), and the
/// name the program gets.
#[test]
fn programs_run_by_descriptor() {
    common::native::same_as_native(
        &[common::native::build("fexecve").unwrap().to_str().unwrap()],
        &[("PATH", "/usr/bin:/bin")],
    );
}

/// `/proc/self/io` counts the read and write families' calls and bytes
/// as Linux does, and a reaped child's join its parent's.
#[test]
fn proc_io_counts_reads_and_writes() {
    common::native::c_program("io_accounting");
}

/// `vm.max_map_count`: fragmenting the address space stops with ENOMEM
/// at the limit, as on Linux, so mappings cannot grow the sentry's own
/// memory without bound.
#[test]
fn the_number_of_mappings_is_bounded_as_on_linux() {
    common::native::c_program("map_count");
}

/// `sethostname`/`setdomainname` change what `uname` and
/// `/proc/sys/kernel/{hostname,domainname}` report, and refuse an
/// unprivileged user (`EPERM`) and a name over 64 bytes (`EINVAL`): as
/// Linux in a UTS namespace of its own.
#[test]
fn host_and_domain_names_change_as_in_a_uts_namespace() {
    let script = "import os, socket, subprocess\n\
socket.sethostname('box-1'); print(os.uname().nodename, open('/proc/sys/kernel/hostname').read().strip())\n\
import ctypes; libc = ctypes.CDLL(None, use_errno=True)\n\
print(libc.setdomainname(b'example', 7), open('/proc/sys/kernel/domainname').read().strip())\n\
print(libc.sethostname(b'x' * 65, 65), ctypes.get_errno())\n\
r = subprocess.run(['/usr/bin/setpriv', '--reuid=1000', '--clear-groups', '/usr/bin/python3', '-c',\n\
    'import ctypes; l = ctypes.CDLL(None, use_errno=True); print(l.sethostname(b\"y\", 1), ctypes.get_errno())'],\n\
    capture_output=True, text=True); print(r.stdout.strip())\n\
print(subprocess.run(['/usr/bin/hostname'], capture_output=True, text=True).stdout.strip())\n";
    common::native::same_as_native_under(&["-u"], &["/usr/bin/python3", "-c", script], &[]);
}

/// The sandbox's own sysfs on `/sys` (with `--rootfs /`): its top-level
/// directories and CPUs as Python's `os.cpu_count`/`sysconf` and
/// coreutils' `nproc --all` (which counts `cpuN` directories) read them,
/// natively and in the sentry.
#[test]
fn sysfs_cpus_read_as_on_linux() {
    common::native::same_as_native(
        &[
            "/usr/bin/python3",
            "-c",
            "import os, subprocess\n\
print(os.cpu_count(), os.sysconf('SC_NPROCESSORS_ONLN'), os.sysconf('SC_NPROCESSORS_CONF'))\n\
print(sorted(os.listdir('/sys')))\n\
print(open('/sys/devices/system/cpu/online').read().strip())\n\
print(subprocess.run(['/usr/bin/nproc', '--all'], capture_output=True, text=True).stdout.strip())\n",
        ],
        &[],
    );
}
