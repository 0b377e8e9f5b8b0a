//! The kernel's view of an image: a read-only loop mount and the manifest
//! of the mounted tree.

use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::common::{TempDir, run};
use crate::manifest;

/// Whether the tests run as root (needed for mknod and loop mounts).
pub fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A read-only loop mount of an image, unmounted on drop.
pub struct Mount {
    dir: TempDir,
}

impl Mount {
    /// Mounts `image` read-only without journal replay, or read-write
    /// when `writable`; an error (with the reason) when the kernel refuses.
    pub fn new(image: &Path, writable: bool) -> Result<Mount, String> {
        let dir = TempDir::new("mnt");
        let attempt = |opts: &str| {
            run(Command::new("mount")
                .args(["-t", "ext4", "-o", opts])
                .arg(image)
                .arg(dir.path()))
        };
        if writable {
            attempt("loop")?;
        } else {
            attempt("ro,loop,noload").or_else(|_| attempt("ro,loop"))?;
        }
        Ok(Mount { dir })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // A child process another test thread is forking can hold a file of
        // the mount open for a moment (until its exec closes it), making
        // the mount briefly busy: retry, then detach it lazily.
        for _ in 0..20 {
            let done = Command::new("umount").arg(self.dir.path()).output();
            if done.is_ok_and(|o| o.status.success()) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .output();
    }
}

fn sha256_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut f = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(manifest::hex(&hasher.finalize()))
}

/// The manifest of a mounted tree as the kernel shows it.
pub fn kernel_manifest(root: &Path) -> std::io::Result<Vec<u8>> {
    let mut lines = Vec::new();
    let mut stack = vec![(b"/".to_vec(), root.to_path_buf())];
    while let Some((rel, path)) = stack.pop() {
        let md = fs::symlink_metadata(&path)?;
        let ft = md.file_type();
        let (t, content) = if ft.is_file() {
            ('f', sha256_file(&path)?)
        } else if ft.is_dir() {
            ('d', b"-".to_vec())
        } else if ft.is_symlink() {
            ('l', fs::read_link(&path)?.as_os_str().as_bytes().to_vec())
        } else if ft.is_char_device() || ft.is_block_device() {
            let rdev = md.rdev();
            let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
            let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
            let t = if ft.is_char_device() { 'c' } else { 'b' };
            (t, format!("{major},{minor}").into_bytes())
        } else if ft.is_fifo() {
            ('p', b"-".to_vec())
        } else {
            ('s', b"-".to_vec())
        };
        lines.push(manifest::line(
            &rel,
            t,
            md.mode(),
            md.uid(),
            md.gid(),
            md.size(),
            md.nlink(),
            &content,
        ));
        if ft.is_dir() {
            for e in fs::read_dir(&path)? {
                let e = e?;
                let mut child = rel.clone();
                if child.len() > 1 {
                    child.push(b'/');
                }
                child.extend_from_slice(e.file_name().as_bytes());
                stack.push((child, e.path()));
            }
        }
    }
    lines.sort_by(|a, b| {
        let pa = a.split(|&c| c == b'\t').next().unwrap_or(&[]);
        let pb = b.split(|&c| c == b'\t').next().unwrap_or(&[]);
        pa.cmp(pb)
    });
    Ok(lines.concat())
}

/// Describes the first differing line of two manifests.
pub fn first_difference(a: &[u8], b: &[u8]) -> String {
    let la: Vec<&[u8]> = a.split(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    for i in 0..la.len().max(lb.len()) {
        let x = la.get(i).copied().unwrap_or(b"<none>");
        let y = lb.get(i).copied().unwrap_or(b"<none>");
        if x != y {
            return format!(
                "line {i}:\n  extfs:  {}\n  kernel: {}",
                String::from_utf8_lossy(x),
                String::from_utf8_lossy(y)
            );
        }
    }
    String::from("identical")
}
