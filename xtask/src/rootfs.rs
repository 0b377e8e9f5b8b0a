//! `cargo xtask rootfs`: the sandbox's test root image.
//!
//! An ext4 image made with `mkfs.ext4 -d` from a tree holding Debian's
//! static busybox (with its applets as symlinks in `/bin`), dynamically
//! linked programs copied from the host with their shared libraries
//! (`/bin/ls`, `/usr/bin/python3` and the Python standard library), a few
//! configuration files, and `/data` with 100 small files for checksum
//! tests. Empty `/tmp`, `/proc` and `/dev` are mount points.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::crates::workspace_root;

/// The host programs copied into the image with their libraries.
const DYNAMIC_PROGRAMS: &[&str] = &["/bin/ls", "/usr/bin/python3"];

/// Where `cargo xtask rootfs` puts its output.
pub fn default_image() -> PathBuf {
    workspace_root()
        .join("target")
        .join("rootfs")
        .join("rootfs.ext4")
}

/// The directory the image at `image` is made from (kept beside it).
pub fn tree_dir(image: &Path) -> PathBuf {
    image.parent().unwrap_or(Path::new(".")).join("tree")
}

/// Builds the root image at `image` unless it exists and `force` is false.
pub fn build(image: &Path, force: bool) -> Result<(), String> {
    if image.exists() && !force {
        println!(
            "rootfs: {} exists (use --force to rebuild)",
            image.display()
        );
        return Ok(());
    }
    let tree = tree_dir(image);
    if tree.exists() {
        fs::remove_dir_all(&tree).map_err(|e| format!("cannot clear {}: {e}", tree.display()))?;
    }
    for sub in [
        "bin", "etc", "tmp", "proc", "dev", "data", "root", "usr/bin", "usr/lib",
    ] {
        mkdir(&tree.join(sub))?;
    }
    install_busybox(&tree)?;
    let mut libraries = BTreeSet::new();
    for program in DYNAMIC_PROGRAMS {
        let real = fs::canonicalize(program).map_err(|e| format!("{program}: {e}"))?;
        copy_file(&real, &tree.join(real.strip_prefix("/").unwrap_or(&real)))?;
        if real != Path::new(program) {
            // Keep the name programs are run by (python3 -> python3.11).
            let link = tree.join(program.trim_start_matches('/'));
            if !link.exists() {
                symlink(&real, &link).map_err(|e| format!("{}: {e}", link.display()))?;
            }
        }
        libraries.extend(shared_libraries(&real)?);
    }
    libraries.extend(install_python_stdlib(&tree)?);
    for library in &libraries {
        let real = fs::canonicalize(library).map_err(|e| format!("{}: {e}", library.display()))?;
        // Libraries are installed under the path the loader asks for
        // (through /lib64 and /lib symlinks on merged-/usr hosts).
        copy_file(
            &real,
            &tree.join(library.strip_prefix("/").unwrap_or(library)),
        )?;
    }
    write_config(&tree)?;
    write_data(&tree)?;
    make_image(&tree, image)?;
    println!("rootfs: wrote {}", image.display());
    Ok(())
}

fn mkdir(path: &Path) -> Result<(), String> {
    fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        mkdir(parent)?;
    }
    if to.exists() {
        return Ok(());
    }
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// Debian's static busybox as /bin/busybox, with a symlink per applet
/// (except `ls`, which is the host's dynamic one).
fn install_busybox(tree: &Path) -> Result<(), String> {
    let busybox = Path::new("/bin/busybox");
    copy_file(busybox, &tree.join("bin/busybox"))?;
    let output = Command::new(busybox)
        .arg("--list")
        .output()
        .map_err(|e| format!("cannot run busybox (install busybox-static): {e}"))?;
    for applet in String::from_utf8_lossy(&output.stdout).lines() {
        if applet.is_empty() || applet == "ls" || applet.contains('/') {
            continue;
        }
        let link = tree.join("bin").join(applet);
        if !link.exists() {
            symlink("busybox", &link).map_err(|e| format!("{}: {e}", link.display()))?;
        }
    }
    Ok(())
}

/// The shared libraries `ldd` lists for `binary`, the dynamic loader
/// included, as the paths the loader opens.
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, String> {
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| format!("cannot run ldd: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut libraries = Vec::new();
    for line in text.lines() {
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line
                .split_whitespace()
                .next()
                .filter(|word| word.starts_with('/')),
        };
        if let Some(path) = path.filter(|path| path.starts_with('/')) {
            libraries.push(PathBuf::from(path));
        }
    }
    Ok(libraries)
}

/// The Python standard library of the host's python3, and the libraries
/// its extension modules need.
fn install_python_stdlib(tree: &Path) -> Result<Vec<PathBuf>, String> {
    let output = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .map_err(|e| format!("cannot run /usr/bin/python3: {e}"))?;
    let stdlib = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !stdlib.is_dir() {
        return Err(format!(
            "python's stdlib {} is not a directory",
            stdlib.display()
        ));
    }
    let dest = tree.join(stdlib.strip_prefix("/").unwrap_or(&stdlib));
    mkdir(dest.parent().ok_or("stdlib path has no parent")?)?;
    let status = Command::new("cp")
        .arg("-a")
        .arg(&stdlib)
        .arg(&dest)
        .status()
        .map_err(|e| format!("cannot run cp: {e}"))?;
    if !status.success() {
        return Err(format!("copying {} failed", stdlib.display()));
    }
    let mut libraries = Vec::new();
    let dynload = stdlib.join("lib-dynload");
    if let Ok(entries) = fs::read_dir(&dynload) {
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|ext| ext == "so") {
                libraries.extend(shared_libraries(&entry.path())?);
            }
        }
    }
    Ok(libraries)
}

fn write_config(tree: &Path) -> Result<(), String> {
    let files = [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
        ("etc/hostname", "sentry\n"),
        ("etc/hosts", "127.0.0.1 localhost\n"),
    ];
    for (path, contents) in files {
        fs::write(tree.join(path), contents).map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    Ok(())
}

/// 100 files with deterministic contents of varied sizes.
fn write_data(tree: &Path) -> Result<(), String> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for index in 0..100 {
        let len = 1 + (index * 997) % 20_000;
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.push(state as u8);
        }
        let path = tree.join(format!("data/file-{index:03}"));
        fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Runs mkfs.ext4 -d with room to spare over the tree's size.
fn make_image(tree: &Path, image: &Path) -> Result<(), String> {
    let output = Command::new("du")
        .args(["-sk"])
        .arg(tree)
        .output()
        .map_err(|e| format!("cannot run du: {e}"))?;
    let kib: u64 = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .ok_or("cannot read du's output")?;
    let size = format!("{}k", kib + kib / 2 + 32 * 1024);
    let _ = fs::remove_file(image);
    let status = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", "rootfs", "-d"])
        .arg(tree)
        .arg(image)
        .arg(&size)
        .status()
        .map_err(|e| format!("cannot run mkfs.ext4 (install e2fsprogs): {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("mkfs.ext4 failed: {status}"))
    }
}
