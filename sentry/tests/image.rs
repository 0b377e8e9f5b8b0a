//! `--rootfs IMAGE`: busybox run from an ext4 image (made with
//! `mkfs.ext4 -d`) mounted by extfs, compared with the same command run
//! natively, `chroot`ed into the kernel's read-only loop mount of the same
//! image (the oracle: the Linux kernel's ext4). Every run is killed after
//! a time limit.
//!
//! Tests skip with a message without busybox, ptrace, mkfs.ext4, loop
//! mounts or chroot.

use std::path::PathBuf;
use std::process::{Command, Output};

pub mod common;
use common::native::platforms;
use common::{BUSYBOX, busybox_runs_here, run_limited};

/// The image, its source tree, and where the kernel mounts it; each test
/// builds its own and unmounts it when done.
struct Image {
    dir: PathBuf,
    image: PathBuf,
    mount: PathBuf,
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mount).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Builds the tree (busybox, `/etc/passwd`, 100 data files, mount points),
/// the image, and mounts it; `None` (with a message) when the host lacks
/// something.
fn build(name: &str) -> Option<Image> {
    if !busybox_runs_here() {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("sentry-image-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let image = Image {
        image: dir.join("root.ext4"),
        mount: dir.join("mnt"),
        dir,
    };
    let tree = image.dir.join("tree");
    for sub in ["bin", "etc", "data", "tmp", "proc", "dev"] {
        std::fs::create_dir_all(tree.join(sub)).ok()?;
    }
    std::fs::create_dir_all(&image.mount).ok()?;
    std::fs::copy(BUSYBOX, tree.join("bin/busybox")).ok()?;
    let passwd =
        std::fs::read("/etc/passwd").unwrap_or_else(|_| b"root:x:0:0::/:/bin/sh\n".to_vec());
    std::fs::write(tree.join("etc/passwd"), passwd).ok()?;
    let mut state: u32 = 777;
    for i in 0..100 {
        let len = (i * 1013) % 30_000;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 16) as u8
            })
            .collect();
        std::fs::write(tree.join(format!("data/f{i:03}")), bytes).ok()?;
    }
    std::os::unix::fs::symlink("busybox", tree.join("bin/sh")).ok()?;
    let made = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-d"])
        .arg(&tree)
        .arg(&image.image)
        .arg("32M")
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: mkfs.ext4 -d is not available");
        return None;
    }
    let mounted = Command::new("mount")
        .args(["-o", "loop,ro", "-t", "ext4"])
        .arg(&image.image)
        .arg(&image.mount)
        .output();
    if !mounted.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: loop mounts are not permitted, so there is no native run");
        return None;
    }
    let probe = run_limited(
        Command::new("chroot")
            .arg(&image.mount)
            .args(["/bin/busybox", "true"]),
    );
    if !probe.status.success() {
        eprintln!("skipped: chroot is not permitted, so there is no native run");
        return None;
    }
    Some(image)
}

fn native(image: &Image, args: &[&str]) -> Output {
    run_limited(Command::new("chroot").arg(&image.mount).args(args))
}

fn sandboxed(image: &Image, platform: &str, args: &[&str]) -> Output {
    sandboxed_with(image, platform, &[], args)
}

fn sandboxed_with(image: &Image, platform: &str, options: &[&str], args: &[&str]) -> Output {
    run_limited(
        Command::new(env!("CARGO_BIN_EXE_sentry"))
            .args(["run", "--platform", platform, "--rootfs"])
            .arg(&image.image)
            .args(options)
            .arg("--")
            .args(args),
    )
}

fn assert_same(image: &Image, platform: &str, args: &[&str]) {
    let want = native(image, args);
    let got = sandboxed(image, platform, args);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout),
        "stdout of {args:?}; sentry stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(got.status.code(), want.status.code(), "status of {args:?}");
}

#[test]
fn ls_la_of_image_directories_matches_the_kernels_ext4() {
    let Some(image) = build("ls") else { return };
    let image = &image;
    assert_same(
        image,
        "ptrace",
        &[
            "/bin/busybox",
            "ls",
            "-la",
            "--full-time",
            "/data",
            "/etc",
            "/bin",
        ],
    );
}

#[test]
fn wc_l_of_passwd_from_the_image_matches_native() {
    let Some(image) = build("wc") else { return };
    let image = &image;
    assert_same(
        image,
        "ptrace",
        &["/bin/busybox", "wc", "-l", "/etc/passwd"],
    );
}

#[test]
fn md5sum_of_100_files_from_the_image_matches_native() {
    let Some(image) = build("md5") else { return };
    let image = &image;
    let names: Vec<String> = (0..100).map(|i| format!("/data/f{i:03}")).collect();
    let mut args = vec!["/bin/busybox", "md5sum"];
    args.extend(names.iter().map(String::as_str));
    args.push("/bin/busybox");
    assert_same(image, "seccomp", &args);
}

#[test]
fn find_xdev_lists_the_images_files_as_native() {
    let Some(image) = build("find") else { return };
    let image = &image;
    let args = ["/bin/busybox", "find", "/", "-xdev", "-type", "f"];
    let sorted = |o: &Output| {
        let mut lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    let want = native(image, &args);
    let got = sandboxed(image, "ptrace", &args);
    assert_eq!(
        sorted(&got),
        sorted(&want),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(got.status.code(), want.status.code());
}

#[test]
fn writes_to_the_read_only_image_fail_as_native_and_tmp_is_writable() {
    let Some(image) = build("rofs") else { return };
    let image = &image;
    let touch = ["/bin/busybox", "touch", "/data/new"];
    let want = native(image, &touch);
    let got = sandboxed_with(image, "ptrace", &["--overlay", "none"], &touch);
    assert_eq!(got.status.code(), want.status.code());
    let dd = [
        "/bin/busybox",
        "dd",
        "if=/dev/zero",
        "of=/tmp/x",
        "bs=1M",
        "count=64",
    ];
    let got = sandboxed(image, "ptrace", &dd);
    assert_eq!(
        got.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
}

/// The default overlay over an image takes writes, removals and renames
/// as the kernel's overlayfs over the image's read-only loop mount does,
/// and the image never changes.
#[test]
fn overlay_over_the_image_takes_changes_as_the_kernels_overlayfs() {
    let Some(image) = build("overlay") else {
        return;
    };
    let script = "cd /data && echo more >> f001 && rm f002 f003 && mkdir -p new/deep && \
                  echo x > new/deep/x && mv f004 new/ && cp f005 /etc/ && chmod 700 f006 && \
                  stat -c \"%n %a %s %h %F\" new new/deep new/deep/x new/f004 && md5sum f001 new/f004 /etc/f005 && \
                  ls /data | wc -l && stat -c \"%a %s\" f006 && rm -r /data && ls / && \
                  echo hi > /tmp/t && cat /tmp/t";
    let Some(want) = common::native_overlay(&image.mount, script) else {
        return;
    };
    assert_eq!(
        want.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&want.stderr)
    );
    let hash = |path: &std::path::Path| {
        Command::new("md5sum")
            .arg(path)
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default()
    };
    let before = hash(&image.image);
    for platform in platforms() {
        let got = sandboxed(&image, platform, &["/bin/busybox", "sh", "-c", script]);
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout),
            "on {platform}; sentry stderr: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert_eq!(got.status.code(), Some(0));
    }
    assert_eq!(hash(&image.image), before, "the image never changes");
}
