//! Teardown after processes: a kernel that ran a shell which forked
//! (a pipeline, a command substitution, a killed background job; a web
//! server and its clients on the loopback) and is dropped leaves no live
//! VFS object or socket (the `refs` leak checker) and no allocated page
//! in the platform's memory file.

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

#[test]
fn network_servers_and_clients_leak_nothing() {
    if !busybox_runs_here() {
        return;
    }
    std::thread::spawn(|| {
        std::thread::sleep(TIME_LIMIT);
        eprintln!("the network run did not finish within {TIME_LIMIT:?}");
        std::process::abort();
    });
    let tree = Tree(std::env::temp_dir().join(format!("sentry-net-leak-{}", std::process::id())));
    std::fs::create_dir_all(tree.0.join("bin")).unwrap();
    std::fs::create_dir_all(tree.0.join("www")).unwrap();
    std::fs::copy(BUSYBOX, tree.0.join("bin/busybox")).unwrap();
    std::fs::write(tree.0.join("www/f"), b"hello\n").unwrap();

    let scope = refs::LeakCheckScope::new();
    let config = KernelConfig::new(RootSource::HostTreeCopy(tree.0.clone()));
    let kernel = Kernel::new(&config).unwrap();
    // An HTTP server (a child per connection) fetched with wget; a TCP
    // listener left with a connection nobody accepted and a client left
    // connected when the shell exits; netlink through `ip`.
    let script = "busybox httpd -f -p 127.0.0.1:8080 -h /www & \
                  i=0; until busybox wget -q -O /tmp/got http://127.0.0.1:8080/f; do \
                    i=$((i+1)); test $i -lt 500 || exit 9; busybox sleep 0.01; done; \
                  kill $!; wait; \
                  busybox nc -l -p 9000 > /dev/null & \
                  i=0; until echo data | busybox nc 127.0.0.1 9000; do \
                    i=$((i+1)); test $i -lt 500 || exit 8; busybox sleep 0.01; done; \
                  wait; \
                  busybox ip addr > /tmp/ip; \
                  busybox nc -l -p 9001 > /dev/null & \
                  busybox sleep 0.1; \
                  busybox nc 127.0.0.1 9001 < /dev/zero & \
                  busybox sleep 0.1; \
                  read got < /tmp/got; test \"$got\" = hello";
    let status = sentry::run(&kernel, shell(script)).unwrap();
    assert_eq!(status.shell_code(), 0);
    assert!(scope.report().leaked() > 0);
    drop(kernel);
    scope.assert_clean();
}
