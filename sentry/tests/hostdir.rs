//! Host directories in the sandbox, served by gofer processes: a
//! host-directory root (read-only, or writable with `--writable-root`) and
//! `--mount SRC:DST[:ro]`. The oracles are the kernel (the same program run
//! natively, `chroot`ed into the same tree, read-only through a read-only
//! bind mount in a private mount namespace) and the host directory itself.
//!
//! Each test skips with a message when busybox is missing, the host
//! refuses ptrace, or `chroot`/`unshare` are not permitted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod common;
use common::{BUSYBOX, busybox_runs_here, in_private_namespace, native_overlay, run_limited};

/// A scratch host tree with `bin/busybox`, `data/` and the directories the
/// sentry mounts over; removed on drop.
struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Tree {
    fn path(&self) -> &Path {
        &self.0
    }
}

fn setup(name: &str) -> Option<Tree> {
    if !busybox_runs_here() {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("sentry-hostdir-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tree = Tree(dir);
    for sub in ["bin", "data/sub", "tmp", "dev", "proc", "mnt"] {
        std::fs::create_dir_all(tree.path().join(sub)).ok()?;
    }
    std::fs::copy(BUSYBOX, tree.path().join("bin/busybox")).ok()?;
    std::os::unix::fs::symlink("busybox", tree.path().join("bin/sh")).ok()?;
    for i in 0..20 {
        let body: Vec<u8> = (0..i * 311).map(|n| (n * 7 + i) as u8).collect();
        std::fs::write(tree.path().join(format!("data/f{i:02}")), body).ok()?;
    }
    std::os::unix::fs::symlink("f03", tree.path().join("data/link")).ok()?;
    std::fs::hard_link(
        tree.path().join("data/f04"),
        tree.path().join("data/sub/hard"),
    )
    .ok()?;
    Some(tree)
}

fn sentry(tree: &Tree, options: &[&str], script: &str) -> Output {
    run_limited(
        Command::new(env!("CARGO_BIN_EXE_sentry"))
            .args(["run", "--rootfs"])
            .arg(tree.path())
            .args(options)
            .args(["--", "/bin/busybox", "sh", "-c", script]),
    )
}

/// Runs `script` natively in `tree` with `proc` on `/proc`, in a private
/// mount namespace; the tree is a read-only bind mount there when
/// `read_only`. `None` when the host does not permit it.
fn native(tree: &Tree, read_only: bool, script: &str) -> Option<Output> {
    let root = tree.path().display().to_string();
    let remount = if read_only {
        format!("mount --bind {root} {root} && mount -o remount,bind,ro {root} && ")
    } else {
        String::new()
    };
    in_private_namespace(
        &format!("{remount}mount -t proc proc {root}/proc && "),
        &root,
        script,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_same_as_native(got: &Output, want: &Output) {
    assert_eq!(
        text(&got.stdout),
        text(&want.stdout),
        "sentry stderr: {}",
        text(&got.stderr)
    );
    assert_eq!(text(&got.stderr), text(&want.stderr));
    assert_eq!(got.status.code(), want.status.code());
}

#[test]
fn read_only_root_lists_reads_and_refuses_writes_as_a_read_only_bind_mount() {
    let Some(tree) = setup("ro") else {
        return;
    };
    // The sentry mounts its own /tmp, /dev and /proc, so stay in /data.
    let script = "ls -lan /data /data/sub; md5sum /data/f*; cat /data/link | wc -c; \
                  echo x > /data/new; mkdir /data/d; rm /data/f01; \
                  ln -s f02 /data/l2; mv /data/f02 /data/g; touch /data/f03; \
                  echo status $?";
    let Some(want) = native(&tree, true, script) else {
        return;
    };
    let got = sentry(&tree, &["--overlay", "none"], script);
    assert_same_as_native(&got, &want);
    assert!(tree.path().join("data/f01").exists());
    assert!(!tree.path().join("data/new").exists());
}

/// The default root is an overlay: what the sandbox writes, removes or
/// renames behaves as in the kernel's overlayfs over the same tree, with
/// the upper layer in memory or in a host file, and the tree never
/// changes.
#[test]
fn overlay_root_takes_changes_as_the_kernels_overlayfs_and_keeps_the_tree() {
    let Some(tree) = setup("overlay") else {
        return;
    };
    std::fs::create_dir_all(tree.path().join("data/dir2/deeper")).unwrap();
    std::fs::write(tree.path().join("data/dir2/deeper/y"), b"y\n").unwrap();
    let listing = |tree: &Tree| -> Vec<String> {
        let out = Command::new("find").arg(tree.path()).output().unwrap();
        let mut lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
        lines.sort();
        lines
    };
    let before = listing(&tree);
    // Renaming a lower directory is EXDEV on a kernel overlayfs without
    // redirect_dir, and mv copies instead: the outcome is the same.
    let script = "cd /data && echo more >> f01 && echo new > new && rm f02 && \
                  mkdir -p d/e && echo deep > d/e/x && mv dir2 moved && ln -s f03 l2 && \
                  chmod 600 f05 && touch -d @1000000000 f06 && truncate -s 10 f07 && \
                  rm f08 && echo again > f08 && mkdir /newtop && echo top > /newtop/t; \
                  rmdir moved; echo rmdir $?; rm -r moved/deeper && rmdir moved && \
                  find /data /newtop | sort && \
                  for f in $(find . /newtop -type f -o -type l | sort); do \
                  stat -c \"%n %s %a %h %F\" $f; done && \
                  md5sum $(find . -type f | sort) && stat -c %Y f06 && cat f01 /newtop/t";
    let Some(want) = native_overlay(tree.path(), script) else {
        return;
    };
    assert_eq!(want.status.code(), Some(0), "{}", text(&want.stderr));
    // The file medium's memory file is unnamed (O_TMPFILE): the
    // directory has no entry of the sandbox's after each run.
    let medium = tree.path().with_extension("medium");
    std::fs::create_dir_all(&medium).unwrap();
    let file_medium = format!("file:{}", medium.display());
    for options in [
        &[][..],
        &["--overlay", "memory"],
        &["--overlay", &file_medium],
    ] {
        let got = sentry(&tree, options, script);
        assert_same_as_native(&got, &want);
        assert_eq!(std::fs::read_dir(&medium).unwrap().count(), 0);
    }
    // A host directory mounts on a path the tree does not have.
    let spec = format!("{}:/brand/new:ro", tree.path().join("data").display());
    let got = sentry(&tree, &["--mount", &spec], "wc -c < /brand/new/f03");
    assert_eq!(text(&got.stdout), "933\n", "{}", text(&got.stderr));
    assert_eq!(listing(&tree), before);
    assert_eq!(
        std::fs::read(tree.path().join("data/f01")).unwrap().len(),
        311
    );
    let _ = std::fs::remove_dir(&medium);
}

#[test]
fn writable_root_changes_reach_the_host_as_native_ones_do() {
    let Some(tree) = setup("rw") else {
        return;
    };
    let script = "echo hello > /data/new && mkdir /data/d && mv /data/new /data/d/moved && \
                  ln /data/d/moved /data/d/again && ln -s moved /data/d/sym && \
                  rm /data/f01 && chmod 600 /data/f02 && ls -lan /data/d && \
                  cat /data/d/sym";
    let got = sentry(&tree, &["--writable-root"], script);
    let host_after_sentry = listing(tree.path());
    assert_eq!(
        std::fs::read(tree.path().join("data/d/moved")).ok(),
        Some(b"hello\n".to_vec())
    );
    // The same script natively on a fresh copy of the tree gives the same
    // output and leaves the same tree.
    drop(tree);
    let Some(fresh) = setup("rw") else {
        return;
    };
    let Some(want) = native(&fresh, false, script) else {
        return;
    };
    assert_same_as_native(&got, &want);
    assert_eq!(host_after_sentry, listing(fresh.path()));
}

/// Names, types, modes, sizes and link counts of every file below `dir`.
fn listing(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let size = if meta.is_dir() { 0 } else { meta.size() };
            out.push(format!("{name} {:o} {size} {}", meta.mode(), meta.nlink()));
            if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn host_mounts_are_read_write_or_read_only_and_listed_in_mount_order() {
    let Some(tree) = setup("mounts") else {
        return;
    };
    let shared = Tree(tree.path().with_extension("shared"));
    let _ = std::fs::remove_dir_all(shared.path());
    std::fs::create_dir_all(shared.path()).unwrap();
    std::fs::write(shared.path().join("greeting"), b"from the host\n").unwrap();
    let source = shared.path().display().to_string();
    let script = "cat /mnt/greeting; echo written > /mnt/out; cat /tmp/ro/out; \
                  echo no > /tmp/ro/x; echo status $?; grep ' 9p ' /proc/mounts";
    let got = sentry(
        &tree,
        &[
            "--mount",
            &format!("{source}:/mnt"),
            "--mount",
            &format!("{source}:/tmp/ro:ro"),
        ],
        script,
    );
    assert_eq!(
        text(&got.stdout),
        format!(
            "from the host\nwritten\nstatus 1\n\
             {source} /mnt 9p rw,trans=fd,cache=remote_revalidating 0 0\n\
             {source} /tmp/ro 9p ro,trans=fd,cache=remote_revalidating 0 0\n"
        ),
        "sentry stderr: {}",
        text(&got.stderr)
    );
    // busybox's message for EROFS, as in the read-only root test.
    assert_eq!(
        text(&got.stderr),
        "sh: can't create /tmp/ro/x: Read-only file system\n"
    );
    assert_eq!(
        std::fs::read(shared.path().join("out")).ok(),
        Some(b"written\n".to_vec())
    );
    assert!(!shared.path().join("x").exists());
}

#[test]
fn bad_mount_specs_and_missing_sources_are_sentry_errors() {
    let Some(tree) = setup("bad") else {
        return;
    };
    for (spec, message) in [
        ("relative", "expected SRC:DST[:ro]"),
        ("/x:rel", "absolute DST"),
        ("/x:/mnt:rx", "unknown mount option"),
    ] {
        let got = sentry(&tree, &["--mount", spec], "true");
        assert_eq!(got.status.code(), Some(2), "{spec}: {}", text(&got.stderr));
        assert!(
            text(&got.stderr).contains(message),
            "{spec}: {}",
            text(&got.stderr)
        );
    }
    let missing = tree.path().join("no-such-dir").display().to_string();
    let got = sentry(&tree, &["--mount", &format!("{missing}:/mnt")], "true");
    assert_eq!(got.status.code(), Some(125));
    assert!(
        text(&got.stderr).starts_with("sentry: gofer for "),
        "{}",
        text(&got.stderr)
    );
}

/// The gofer processes serving `marker` (a host path) now.
fn gofers_serving(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(" gofer --fd ") && c.contains(marker))
        .count()
}

/// Each gofer is a process of its own, and none outlives the sentry.
#[test]
fn gofer_processes_run_beside_the_sentry_and_end_with_it() {
    let Some(tree) = setup("procs") else {
        return;
    };
    let marker = tree.path().display().to_string();
    // The sandboxed program cannot see host processes: it waits (in a
    // shared-mode mount, which sees host changes) for a file that a host
    // thread creates once it has seen both gofers, or given up.
    let go = tree.path().join("data/go");
    let counter = {
        let marker = marker.clone();
        std::thread::spawn(move || {
            let mut seen = 0;
            for _ in 0..600 {
                seen = gofers_serving(&marker);
                if seen >= 2 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            std::fs::write(&go, b"").unwrap();
            seen
        })
    };
    let got = sentry(
        &tree,
        &["--mount", &format!("{marker}/data:/mnt:ro")],
        "while [ ! -e /mnt/go ]; do sleep 0.05; done; echo seen",
    );
    assert_eq!(
        counter.join().unwrap(),
        2,
        "sentry stderr: {}",
        text(&got.stderr)
    );
    assert_eq!(text(&got.stdout), "seen\n");
    assert_eq!(gofers_serving(&marker), 0);
}

/// Escape test: the sandbox's root cannot plant a set-user-ID or
/// set-group-ID program on the host, neither through a writable root or a
/// `--mount` (the gofer) nor through a host file imported as standard
/// output (hostfs). Inside, the calls succeed and the bits are simply not
/// there, as on a filesystem that cannot store them.
#[test]
fn no_setuid_program_is_planted_on_the_host() {
    use std::os::unix::fs::PermissionsExt;
    let Some(tree) = setup("setuid") else {
        return;
    };
    let out_dir = tree.path().join("mnt");
    let stdout_file = tree.path().join("stdout");
    std::fs::write(&stdout_file, b"").unwrap();
    let script = "busybox cp /bin/busybox /data/root-shell; \
                  busybox chmod 4755 /data/root-shell; busybox chmod u+s,g+s /data/root-shell; \
                  busybox cp /bin/busybox /mnt/shell; busybox chmod 6755 /mnt/shell; \
                  busybox mkdir /mnt/d; busybox chmod 2775 /mnt/d; \
                  busybox chmod 6755 /proc/self/fd/1; \
                  busybox stat -c '%a %n' /data/root-shell /mnt/shell /mnt/d";
    let mount = format!("{}:/mnt", out_dir.display());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sentry"));
    cmd.arg("run")
        .arg("--rootfs")
        .arg(tree.path())
        .args([
            "--writable-root",
            "--mount",
            &mount,
            "--platform",
            "seccomp",
            "--",
        ])
        .args(["/bin/busybox", "sh", "-c", script])
        .stdout(std::fs::File::create(&stdout_file).unwrap());
    let status = cmd.status().unwrap();
    assert!(status.success());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let inside = std::fs::read_to_string(&stdout_file).unwrap();
    assert_eq!(
        inside, "755 /data/root-shell\n755 /mnt/shell\n2775 /mnt/d\n",
        "what the sandbox sees"
    );
    assert_eq!(mode(&tree.path().join("data/root-shell")), 0o755);
    assert_eq!(mode(&out_dir.join("shell")), 0o755);
    assert_eq!(mode(&out_dir.join("d")), 0o2775);
    assert_eq!(mode(&stdout_file), 0o755);
}

/// Escape test: a descriptor the sentry's parent left open (here a host
/// file on descriptor 9, not close-on-exec) reaches neither the sentry's
/// own table nor its gofers'.
#[test]
fn inherited_descriptors_reach_neither_the_sentry_nor_its_gofers() {
    use std::os::unix::process::CommandExt;
    let Some(tree) = setup("inherit") else {
        return;
    };
    let marker = tree.path().display().to_string();
    let secret = tree.path().join("inherited-secret");
    std::fs::write(&secret, b"host").unwrap();
    let file = std::fs::File::open(&secret).unwrap();
    let go = tree.path().join("data/go");
    let holders = move |pid_filter: &dyn Fn(&str) -> bool| -> usize {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                pid_filter(&String::from_utf8_lossy(&cmd).replace('\0', " "))
            })
            .flat_map(|e| {
                std::fs::read_dir(e.path().join("fd"))
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == secret))
            .count()
    };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&file);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sentry"));
    cmd.args(["run", "--rootfs"])
        .arg(tree.path())
        .args(["--mount", &format!("{marker}/data:/mnt:ro"), "--"])
        .args(["/bin/busybox", "sh", "-c"])
        .arg("while [ ! -e /mnt/go ]; do sleep 0.05; done; echo done");
    // SAFETY: dup2 is async-signal-safe; the child gets the file on 9
    // without close-on-exec, as a careless parent would leave it.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(raw, 9) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let checker = {
        let marker = marker.clone();
        std::thread::spawn(move || {
            // Wait (bounded) for both the sentry and its gofer.
            for _ in 0..600 {
                if gofers_serving(&marker) >= 2 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let sentry = holders(&|c: &str| c.contains(" run --rootfs ") && c.contains(&marker));
            let gofers = holders(&|c: &str| c.contains(" gofer --fd ") && c.contains(&marker));
            let privileged = no_new_privs_unset(&marker);
            std::fs::write(&go, b"").unwrap();
            (sentry, gofers, privileged)
        })
    };
    let got = run_limited(&mut cmd);
    drop(file);
    let (sentry_held, gofers_held, privileged) = checker.join().unwrap();
    assert_eq!(text(&got.stdout), "done\n", "{}", text(&got.stderr));
    assert_eq!(sentry_held, 0, "the sentry kept the inherited descriptor");
    assert_eq!(gofers_held, 0, "a gofer inherited the descriptor");
    assert_eq!(
        privileged, 0,
        "a sentry or gofer process may gain privileges by exec"
    );
}

/// How many of the sentry and gofer processes for `marker` lack
/// `NoNewPrivs` (none should: no exec of theirs may gain privileges).
fn no_new_privs_unset(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            (cmd.contains(" run --rootfs ") || cmd.contains(" gofer --fd ")) && cmd.contains(marker)
        })
        .filter(|e| {
            let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
            !status.lines().any(|l| l == "NoNewPrivs:\t1")
        })
        .count()
}
