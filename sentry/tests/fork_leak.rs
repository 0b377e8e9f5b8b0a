//! Teardown after processes: a kernel that ran a shell which forked
//! (a pipeline, a command substitution, a killed background job) and is
//! dropped leaves no live VFS object (the `refs` leak checker) and no
//! allocated page in the platform's memory file.

use std::path::PathBuf;

use sentry::kernel::{Kernel, KernelConfig, RootSource};

pub mod common;
use common::{BUSYBOX, TIME_LIMIT, busybox_runs_here, shell};

/// Removes the tree on drop.
struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn forking_shell_and_dropping_the_kernel_leaks_nothing() {
    if !busybox_runs_here() {
        return;
    }
    // The run is in this process: a hang aborts the whole test binary.
    std::thread::spawn(|| {
        std::thread::sleep(TIME_LIMIT);
        eprintln!("the forking run did not finish within {TIME_LIMIT:?}");
        std::process::abort();
    });
    let tree = Tree(std::env::temp_dir().join(format!("sentry-fork-leak-{}", std::process::id())));
    std::fs::create_dir_all(tree.0.join("bin")).unwrap();
    std::fs::create_dir_all(tree.0.join("data")).unwrap();
    std::fs::copy(BUSYBOX, tree.0.join("bin/busybox")).unwrap();
    std::fs::write(tree.0.join("data/f"), b"hello\n").unwrap();

    let scope = refs::LeakCheckScope::new();
    let config = KernelConfig::new(RootSource::HostTreeCopy(tree.0.clone()));
    let kernel = Kernel::new(&config).unwrap();
    let mf = kernel.platform.memory_file().clone();
    // A background job still running when the shell exits is killed with
    // it.
    let script = "n=$(busybox cat /data/f | busybox wc -l); \
                  busybox sleep 30 & kill $!; wait; \
                  busybox dd if=/dev/zero of=/tmp/x bs=64k count=4 2>/dev/null; \
                  busybox sleep 30 & \
                  test \"$n\" = 1";
    let status = sentry::run(&kernel, shell(script)).unwrap();
    assert_eq!(status.shell_code(), 0);
    assert!(mf.usage().allocated > 0);
    assert!(scope.report().leaked() > 0);
    drop(kernel);
    scope.assert_clean();
    assert_eq!(mf.usage().allocated, 0, "memory-file pages left allocated");
}
