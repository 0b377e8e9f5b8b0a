//! `cargo xtask rootfs`: the demo's root image.
//!
//! An ext4 image made with `mkfs.ext4 -d` from a tree holding Debian's
//! static busybox (with its applets as symlinks in `/bin`) when the host
//! has it, otherwise the host's own shell and core utilities; dynamically
//! linked programs copied from the host with their shared libraries
//! (`/bin/ls`, and `/usr/bin/python3` with its standard library when
//! the host has Python); a few configuration files, and `/data` with 100
//! small files for checksum tests. Empty `/tmp`, `/proc` and `/dev` are
//! mount points. Without `mkfs.ext4` only the tree is made (the demo then
//! serves it through a gofer). `CONTENTS` beside the image says what went
//! in. `XTASK_ROOTFS_WITHOUT=busybox,python,mkfs` (any of them) builds as
//! on a host that lacks those, to check the fresh-machine path here.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::crates::workspace_root;

/// The host programs copied into the image with their libraries, when
/// the host has them.
const DYNAMIC_PROGRAMS: &[&str] = &["/bin/ls", "/usr/bin/python3"];

/// The host programs that stand in for busybox when it is missing: a
/// shell and the utilities the demo's commands use.
const HOST_UTILITIES: &[&str] = &[
    "/bin/sh",
    "/bin/cat",
    "/bin/echo",
    "/bin/grep",
    "/bin/uname",
    "/usr/bin/id",
    "/usr/bin/md5sum",
    "/usr/bin/sha256sum",
    "/usr/bin/wc",
];

/// Where Debian's static busybox is.
const BUSYBOX: &str = "/bin/busybox";

/// The tools `XTASK_ROOTFS_WITHOUT` says to build as if missing.
fn without_from_env() -> Vec<String> {
    std::env::var("XTASK_ROOTFS_WITHOUT")
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// What a built tree holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// Busybox and its applets (else the host's [`HOST_UTILITIES`]).
    pub busybox: bool,
    /// Python with its standard library.
    pub python: bool,
    /// An ext4 image was made (else only the tree).
    pub image: bool,
}

impl Contents {
    /// The `CONTENTS` file's text.
    fn to_text(&self) -> String {
        format!(
            "busybox={}\npython={}\nimage={}\n",
            self.busybox, self.python, self.image
        )
    }

    fn from_text(text: &str) -> Option<Contents> {
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(|v| v == "true")
        };
        Some(Contents {
            busybox: get("busybox")?,
            python: get("python")?,
            image: get("image")?,
        })
    }

    /// One line for a person: what the root was built from.
    pub fn describe(&self) -> String {
        let mut parts = vec![if self.busybox {
            "Debian's static busybox".to_string()
        } else {
            "the host's /bin/sh and core utilities (busybox-static is not installed)".to_string()
        }];
        parts.push("the host's ls with its libraries".into());
        parts.push(if self.python {
            "the host's python3 with its standard library".into()
        } else {
            "no Python (the host has no /usr/bin/python3)".into()
        });
        format!(
            "demo root: {}; {}",
            parts.join(", "),
            if self.image {
                "as an ext4 image"
            } else {
                "as a directory only (mkfs.ext4 is missing)"
            }
        )
    }
}

/// The `CONTENTS` file beside `image`.
fn contents_file(image: &Path) -> PathBuf {
    image.parent().unwrap_or(Path::new(".")).join("CONTENTS")
}

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

/// Builds the root at `image` (and its tree) unless it was built before
/// and `force` is false; returns what it holds.
pub fn build(image: &Path, force: bool) -> Result<Contents, String> {
    build_without(image, force, &without_from_env())
}

/// [`build`] as on a host that lacks the tools in `without` (`busybox`,
/// `python`, `mkfs`).
fn build_without(image: &Path, force: bool, without: &[String]) -> Result<Contents, String> {
    let missing = |tool: &str| without.iter().any(|t| t == tool);
    let recorded = fs::read_to_string(contents_file(image))
        .ok()
        .and_then(|t| Contents::from_text(&t));
    if let Some(contents) = recorded
        && !force
        && (image.exists() || !contents.image)
        && tree_dir(image).is_dir()
    {
        println!(
            "rootfs: {} was built before (use --force to rebuild)",
            image.display()
        );
        return Ok(contents);
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
    let busybox = !missing("busybox") && Path::new(BUSYBOX).exists();
    let python = !missing("python") && Path::new("/usr/bin/python3").exists();
    let mut programs: Vec<&str> = DYNAMIC_PROGRAMS
        .iter()
        .copied()
        .filter(|p| *p != "/usr/bin/python3" || python)
        .collect();
    if busybox {
        println!("rootfs: busybox from {BUSYBOX}");
        install_busybox(&tree)?;
    } else {
        println!(
            "rootfs: no {BUSYBOX} (the busybox-static package): using the host's shell and \
             utilities"
        );
        programs.extend(HOST_UTILITIES.iter().filter(|p| Path::new(p).exists()));
    }
    let mut libraries = BTreeSet::new();
    for program in programs {
        println!("rootfs: {program} and its libraries");
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
    if python {
        println!("rootfs: the Python standard library");
        libraries.extend(install_python_stdlib(&tree)?);
    }
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
    let has_mkfs = !missing("mkfs") && { Command::new("mkfs.ext4").arg("-V").output().is_ok() };
    if has_mkfs {
        make_image(&tree, image)?;
        println!("rootfs: wrote {}", image.display());
    } else {
        println!("rootfs: no mkfs.ext4 (the e2fsprogs package): made only the tree");
    }
    let contents = Contents {
        busybox,
        python,
        image: has_mkfs,
    };
    fs::write(contents_file(image), contents.to_text())
        .map_err(|e| format!("cannot write {}: {e}", contents_file(image).display()))?;
    Ok(contents)
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
    let busybox = Path::new(BUSYBOX);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_round_trip_through_their_file() {
        for (busybox, python, image) in [
            (true, true, true),
            (false, true, false),
            (false, false, true),
        ] {
            let c = Contents {
                busybox,
                python,
                image,
            };
            assert_eq!(Contents::from_text(&c.to_text()), Some(c.clone()));
            assert!(
                c.describe()
                    .contains(if busybox { "busybox" } else { "core utilities" })
            );
        }
        assert_eq!(Contents::from_text("busybox=true\n"), None);
    }

    /// The fresh-machine path: no busybox, no Python, no mkfs.ext4. The
    /// tree still has a shell, the utilities with their libraries and the
    /// loader, and says what it holds.
    #[test]
    fn a_host_without_busybox_python_or_mkfs_still_gets_a_demo_root() {
        struct Cleanup(PathBuf);
        impl Drop for Cleanup {
            fn drop(&mut self) {
                let _ = fs::remove_dir_all(&self.0);
            }
        }
        let dir = std::env::temp_dir().join(format!("xtask-rootfs-{}", std::process::id()));
        let _cleanup = Cleanup(dir.clone());
        let image = dir.join("rootfs.ext4");
        let without = ["busybox", "python", "mkfs"].map(String::from);
        let contents = build_without(&image, true, &without).unwrap();
        let tree = tree_dir(&image);
        assert_eq!(
            contents,
            Contents {
                busybox: false,
                python: false,
                image: false
            }
        );
        assert!(!image.exists());
        // The programs are copied where the host keeps them (the names
        // programs are run by are links to those paths).
        for program in ["/bin/sh", "/bin/ls", "/usr/bin/md5sum"] {
            let real = fs::canonicalize(program).unwrap();
            let inside = tree.join(real.strip_prefix("/").unwrap());
            assert!(inside.is_file(), "{} is missing", inside.display());
            assert!(
                tree.join(&program[1..]).symlink_metadata().is_ok(),
                "{program}"
            );
        }
        assert!(tree.join("data/file-099").is_file());
        assert!(!tree.join("bin/busybox").exists());
        // The dynamic loader of the host's shell came along.
        let sh = fs::canonicalize("/bin/sh").unwrap();
        for lib in shared_libraries(&sh).unwrap() {
            let inside = tree.join(lib.strip_prefix("/").unwrap());
            assert!(inside.exists(), "{} is missing", inside.display());
        }
        let recorded = fs::read_to_string(contents_file(&image)).unwrap();
        assert_eq!(Contents::from_text(&recorded), Some(contents.clone()));
    }
}
