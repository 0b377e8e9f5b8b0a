//! Teardown: a kernel that ran a program and is dropped leaves no live
//! VFS object (the `refs` leak checker) and no allocated page in the
//! platform's memory file.

use std::path::PathBuf;

use sentry::kernel::{Kernel, KernelConfig, RootSource};

pub mod common;
use common::{BUSYBOX, busybox_runs_here, shell};

/// Removes the tree on drop.
struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A scratch root with `bin/busybox`, `data/f` ("hello") and the
/// directories `dirs`.
fn tree(name: &str, dirs: &[&str]) -> Tree {
    let tree =
        Tree(std::env::temp_dir().join(format!("sentry-leak-{name}-{}", std::process::id())));
    for dir in ["bin", "data"].iter().chain(dirs) {
        std::fs::create_dir_all(tree.0.join(dir)).unwrap();
    }
    std::fs::copy(BUSYBOX, tree.0.join("bin/busybox")).unwrap();
    std::fs::write(tree.0.join("data/f"), b"hello\n").unwrap();
    tree
}

#[test]
fn running_a_program_and_dropping_the_kernel_leaks_nothing() {
    if !busybox_runs_here() {
        return;
    }
    let tree = tree("copy", &[]);

    let scope = refs::LeakCheckScope::new();
    let config = KernelConfig::new(RootSource::HostTreeCopy(tree.0.clone()));
    let kernel = Kernel::new(&config).unwrap();
    let mf = kernel.platform.memory_file().clone();
    // Builtins only (no fork): open a data file, /proc/self/maps and a
    // file in /tmp, pipe-free.
    let script = "read x < /data/f; read y < /proc/self/maps; \
                  echo kept > /tmp/out; read z < /tmp/out; \
                  test \"$x\" = hello && test \"$z\" = kept";
    let status = sentry::run(&kernel, shell(script)).unwrap();
    assert_eq!(status.shell_code(), 0);
    assert!(mf.usage().allocated > 0);
    // The kernel's mounts, dentries and files are live and checked.
    assert!(scope.report().leaked() > 0);
    drop(kernel);
    scope.assert_clean();
    assert_eq!(mf.usage().allocated, 0, "memory-file pages left allocated");
}

/// The same with a writable host-directory root and a host mount, both
/// served by gofers (threads here): the gofer filesystems, their dentries
/// and page cache go with the kernel, and the program's writes are on the
/// host.
#[test]
fn gofer_root_and_host_mount_leak_nothing() {
    if !busybox_runs_here() {
        return;
    }
    let tree = tree("gofer", &["tmp", "dev", "proc", "mnt"]);
    let shared = Tree(tree.0.with_extension("shared"));
    std::fs::create_dir_all(&shared.0).unwrap();

    let scope = refs::LeakCheckScope::new();
    let mut config = KernelConfig::new(RootSource::HostDir {
        path: tree.0.clone(),
        writable: true,
    });
    config.mounts.push(sentry::kernel::HostMount {
        source: shared.0.clone(),
        target: b"/mnt".to_vec(),
        read_only: false,
    });
    let kernel = Kernel::new(&config).unwrap();
    let mf = kernel.platform.memory_file().clone();
    let script = "read x < /data/f; echo \"$x\" > /data/copy; echo kept > /mnt/out; \
                  read z < /mnt/out; test \"$x\" = hello && test \"$z\" = kept";
    let status = sentry::run(&kernel, shell(script)).unwrap();
    assert_eq!(status.shell_code(), 0);
    assert!(scope.report().leaked() > 0);
    drop(kernel);
    scope.assert_clean();
    assert_eq!(mf.usage().allocated, 0, "memory-file pages left allocated");
    assert_eq!(std::fs::read(tree.0.join("data/copy")).unwrap(), b"hello\n");
    assert_eq!(std::fs::read(shared.0.join("out")).unwrap(), b"kept\n");
}

/// An overlay over a read-only gofer root (the `sentry run` default):
/// the overlay's inodes, the copied-up pages and the lower gofer mount it
/// holds all go with the kernel, and the host tree never changed.
#[test]
fn overlay_root_leaks_nothing() {
    if !busybox_runs_here() {
        return;
    }
    let tree = tree("overlay", &[]);

    let scope = refs::LeakCheckScope::new();
    let mut config = KernelConfig::new(RootSource::HostDir {
        path: tree.0.clone(),
        writable: false,
    });
    config.overlay = sentry::kernel::Overlay::Memory;
    let kernel = Kernel::new(&config).unwrap();
    let mf = kernel.platform.memory_file().clone();
    // Reads a lower file, appends to it (a copy-up) and makes a file at
    // the root, which has no /tmp, /dev or /proc of its own: the
    // overlay made them.
    let script = "read x < /data/f; echo more >> /data/f; echo \"$x\" > /copy; \
                  read y < /copy; test \"$x\" = hello && test \"$y\" = hello";
    let status = sentry::run(&kernel, shell(script)).unwrap();
    assert_eq!(status.shell_code(), 0);
    assert!(scope.report().leaked() > 0);
    drop(kernel);
    scope.assert_clean();
    assert_eq!(mf.usage().allocated, 0, "memory-file pages left allocated");
    assert_eq!(std::fs::read(tree.0.join("data/f")).unwrap(), b"hello\n");
    assert!(!tree.0.join("copy").exists());
}
