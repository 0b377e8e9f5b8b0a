//! Dynamically linked programs in the sentry: the host's `ls` and
//! `python3` with the shared libraries `ldd` lists (and the dynamic
//! loader at its `PT_INTERP` path), run in the built binary and compared
//! with the same program run natively, `chroot`ed into the same tree.
//!
//! The tree is built once per test binary; every run is killed after a
//! time limit so a hang fails the test instead of stalling the suite.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub mod common;
use common::{ptrace_available, try_run_limited};

/// The test root, on a host tmpfs, named after the test process. A static
/// is never dropped, so each run removes the trees of earlier runs whose
/// process is gone.
struct Tree {
    dir: PathBuf,
    /// Whether python3 and its standard library were copied.
    python: bool,
}

/// The libraries `ldd` lists for `binary`, the loader included.
fn libraries(binary: &Path) -> Option<Vec<PathBuf>> {
    let out = Command::new("ldd").arg(binary).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut libs = Vec::new();
    for line in text.lines() {
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            libs.push(PathBuf::from(p));
        }
    }
    Some(libs)
}

/// Copies the host file `from` to the same path under `root`, following
/// symbolic links (the copy is a regular file).
fn copy_to(root: &Path, from: &Path) -> Option<()> {
    let to = root.join(from.strip_prefix("/").ok()?);
    std::fs::create_dir_all(to.parent()?).ok()?;
    std::fs::copy(from, &to).ok()?;
    Some(())
}

/// Copies `dir` (the Python standard library) without compiled caches,
/// tests and the modules no test imports.
fn copy_stdlib(root: &Path, dir: &Path, libs: &mut BTreeSet<PathBuf>) -> Option<()> {
    const SKIP: [&str; 12] = [
        "__pycache__",
        "test",
        "tests",
        "idlelib",
        "tkinter",
        "lib2to3",
        "ensurepip",
        "turtledemo",
        "pydoc_data",
        "distutils",
        "site-packages",
        "dist-packages",
    ];
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name();
        if SKIP.iter().any(|s| name == *s) || name.to_string_lossy().starts_with("config-") {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().ok()?;
        if kind.is_dir() {
            copy_stdlib(root, &path, libs)?;
        } else if kind.is_file() {
            copy_to(root, &path)?;
            if name.to_string_lossy().ends_with(".so") {
                libs.extend(libraries(&path).unwrap_or_default());
            }
        }
    }
    Some(())
}

fn build_tree() -> Option<Tree> {
    if !ptrace_available() {
        eprintln!("skipped: the host refuses ptrace");
        return None;
    }
    let ls = Path::new("/usr/bin/ls");
    let Some(ls_libs) = libraries(ls) else {
        eprintln!("skipped: /usr/bin/ls or ldd is missing");
        return None;
    };
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    remove_stale_trees(&base);
    let dir = base.join(format!("sentry-dynamic-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).ok()?;
    let mut libs: BTreeSet<PathBuf> = ls_libs.into_iter().collect();
    copy_to(&dir, ls)?;
    std::fs::create_dir_all(dir.join("bin")).ok()?;
    std::fs::copy(ls, dir.join("bin/ls")).ok()?;
    let python = std::fs::canonicalize("/usr/bin/python3").ok();
    let stdlib = python.as_ref().and_then(|p| {
        let name = p.file_name()?.to_string_lossy().into_owned();
        Some(Path::new("/usr/lib").join(name)).filter(|d| d.is_dir())
    });
    let python = match (python, stdlib) {
        (Some(bin), Some(stdlib)) => {
            libs.extend(libraries(&bin).unwrap_or_default());
            copy_to(&dir, &bin)?;
            std::fs::copy(&bin, dir.join("usr/bin/python3")).ok()?;
            copy_stdlib(&dir, &stdlib, &mut libs)?;
            true
        }
        _ => false,
    };
    for lib in &libs {
        copy_to(&dir, lib)?;
        // The canonical path too, for loaders that resolve it.
        if let Ok(real) = std::fs::canonicalize(lib) {
            copy_to(&dir, &real)?;
        }
    }
    std::fs::create_dir_all(dir.join("tmp")).ok()?;
    std::fs::create_dir_all(dir.join("dev")).ok()?;
    std::fs::create_dir_all(dir.join("proc")).ok()?;
    let probe = try_run_limited(Command::new("chroot").arg(&dir).args(["/bin/ls", "/"]));
    if !probe.is_some_and(|o| o.status.success()) {
        eprintln!("skipped: chroot is not permitted, so there is no native run to compare with");
        let _ = std::fs::remove_dir_all(&dir);
        return None;
    }
    Some(Tree { dir, python })
}

/// Removes `sentry-dynamic-PID` trees under `base` whose process has
/// exited.
fn remove_stale_trees(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("sentry-dynamic-") else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn tree() -> Option<&'static Tree> {
    static TREE: OnceLock<Option<Tree>> = OnceLock::new();
    TREE.get_or_init(build_tree).as_ref()
}

fn native(tree: &Tree, args: &[&str]) -> Output {
    try_run_limited(Command::new("chroot").arg(&tree.dir).args(args)).expect("running chroot")
}

fn sandboxed(tree: &Tree, platform: &str, args: &[&str]) -> Output {
    try_run_limited(
        Command::new(env!("CARGO_BIN_EXE_sentry"))
            .args(["run", "--platform", platform, "--rootfs"])
            .arg(&tree.dir)
            .arg("--")
            .args(args),
    )
    .expect("running sentry")
}

fn assert_same(tree: &Tree, platform: &str, args: &[&str]) {
    let want = native(tree, args);
    let got = sandboxed(tree, platform, args);
    assert!(
        want.status.success(),
        "native run of {args:?} failed: {want:?}"
    );
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout),
        "stdout of {args:?}; sentry stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(got.status.code(), want.status.code(), "status of {args:?}");
}

#[test]
fn dynamic_ls_la_of_the_library_directory_matches_native() {
    let Some(tree) = tree() else { return };
    assert_same(
        tree,
        "ptrace",
        &[
            "/bin/ls",
            "-la",
            "--time-style=+%s",
            "/lib/x86_64-linux-gnu",
        ],
    );
}

#[test]
fn dynamic_ls_runs_on_the_seccomp_platform() {
    let Some(tree) = tree() else { return };
    assert_same(
        tree,
        "seccomp",
        &["/bin/ls", "-la", "--time-style=+%s", "/usr/bin"],
    );
}

#[test]
fn python_imports_json_hashlib_os_and_lists_a_directory() {
    let Some(tree) = tree() else { return };
    if !tree.python {
        eprintln!("skipped: no python3 with its standard library on the host");
        return;
    }
    let script = "import json, hashlib, os; \
                  print(len(os.listdir('/usr/lib')), json.dumps({'a': [1, 2]}), \
                  hashlib.sha256(b'sentry').hexdigest())";
    assert_same(tree, "ptrace", &["/usr/bin/python3", "-c", script]);
}

#[test]
fn python_file_mmap_select_and_openat2_match_native() {
    let Some(tree) = tree() else { return };
    if !tree.python {
        eprintln!("skipped: no python3 with its standard library on the host");
        return;
    }
    let script = r#"
import ctypes, mmap, os, select, struct
with open('/usr/bin/python3', 'rb') as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    print(m[:4], len(m) == os.fstat(f.fileno()).st_size)
    p = mmap.mmap(f.fileno(), 8192, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    p[0:4] = b'priv'
    print(p[:4], m[:4])
with open('/tmp/shared', 'w+b') as f:
    f.write(b'.' * 10000)
    f.flush()
    s = mmap.mmap(f.fileno(), 10000)
    s[4096:4101] = b'hello'
    s.flush()
    s.resize(12288)
    s[12000:12003] = b'end'
    s.close()
with open('/tmp/shared', 'rb') as f:
    data = f.read()
print(len(data), data[4096:4101], data[12000:12003])
with open('/tmp/self', 'wb') as f:
    f.write(b'a' * 4096 + b'b' * 4096)
fd = os.open('/tmp/self', os.O_RDWR)
m = mmap.mmap(fd, 8192)
print(os.preadv(fd, [memoryview(m)[0:4096]], 4096), m[0:2], os.pwrite(fd, memoryview(m)[4096:8192], 0))
m.close()
os.close(fd)
print(select.select([0], [1], [], 0))
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def openat2(path, resolve):
    how = ctypes.create_string_buffer(struct.pack('QQQ', os.O_RDONLY, 0, resolve))
    fd = libc.syscall(437, -100, path, how, 24)
    return 'fd' if fd >= 0 else -ctypes.get_errno()
print(openat2(b'/usr/bin', 8), openat2(b'usr/bin', 8), openat2(b'usr/../..', 8), openat2(b'/usr/../../usr', 0x10))
"#;
    assert_same(tree, "ptrace", &["/usr/bin/python3", "-c", script]);
}

#[test]
fn python_sendfile_with_and_without_offset_matches_native() {
    let Some(tree) = tree() else { return };
    if !tree.python {
        eprintln!("skipped: no python3 with its standard library on the host");
        return;
    }
    let script = "import os\n\
                  open('/tmp/src', 'w').write('root:x:0:0:root:/root:/bin/sh\\n')\n\
                  fd = os.open('/tmp/src', os.O_RDONLY)\n\
                  r, w = os.pipe()\n\
                  n = os.sendfile(w, fd, 5, 20)\n\
                  print(n, os.read(r, 100), os.lseek(fd, 0, os.SEEK_CUR))\n\
                  n = os.sendfile(w, fd, None, 4)\n\
                  print(n, os.read(r, 100), os.lseek(fd, 0, os.SEEK_CUR))\n\
                  out = os.open('/tmp/copy', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)\n\
                  try:\n    os.sendfile(out, fd, None, 4)\nexcept OSError as e:\n    print('append', e.errno)\n";
    assert_same(tree, "ptrace", &["/usr/bin/python3", "-c", script]);
}
