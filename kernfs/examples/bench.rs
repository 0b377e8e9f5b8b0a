//! `cargo xtask bench kernfs`: file creation, path lookup (cached and
//! uncached) and stat at depth 8 on memfs, side by side with the host
//! kernel on a tmpfs directory (`/dev/shm`), printed as ratios
//! (memfs time / host time; below 1 means memfs is faster). Not a test.

use std::ffi::CString;
use std::sync::Arc;
use std::time::{Duration, Instant};

use abi_linux::OpenFlags;
use kernfs::memfs::{self, MemfsOptions};
use vfs_core::{
    MkdirOptions, MountNamespace, MountOptionFlags, OpenOptions, PathOperation, SimpleContext,
    StatOptions, VirtualFilesystem,
};

const DEPTH: usize = 8;
const N: usize = 20_000;

fn deep_dir() -> String {
    "/a".repeat(DEPTH)
}

fn memfs_ns(
    ctx: &SimpleContext,
    max_cached_dentries: usize,
) -> (Arc<VirtualFilesystem>, Arc<MountNamespace>) {
    let vfs = VirtualFilesystem::new();
    let opts = MemfsOptions {
        max_cached_dentries,
        ..MemfsOptions::default()
    };
    let (fs, root) = memfs::new_filesystem(ctx, &vfs, "tmpfs", &opts, None).unwrap();
    let mount = vfs.new_disconnected_mount(fs, root, MountOptionFlags::empty());
    let ns = vfs.new_mount_namespace_from(mount);
    let top = ns.root();
    let mut path = String::new();
    for _ in 0..DEPTH {
        path.push_str("/a");
        let pop = PathOperation::new(&top, &top, path.as_bytes());
        vfs.mkdir_at(
            ctx,
            &pop,
            MkdirOptions {
                mode: 0o755,
                ..Default::default()
            },
        )
        .unwrap();
    }
    (vfs, ns)
}

fn time(mut op: impl FnMut(usize)) -> Duration {
    let start = Instant::now();
    for i in 0..N {
        op(i);
    }
    start.elapsed()
}

fn c(path: &str) -> CString {
    CString::new(path).unwrap()
}

fn main() {
    let ctx = SimpleContext::root();
    let host_base = format!("/dev/shm/kernfs-bench-{}", std::process::id());
    std::fs::create_dir_all(format!("{host_base}{}", deep_dir())).unwrap();
    let host = |rel: &str| c(&format!("{host_base}{rel}"));
    let creat = OpenOptions {
        flags: OpenFlags::CREAT | OpenFlags::WRONLY,
        mode: 0o644,
        ..Default::default()
    };
    let mut rows: Vec<(&str, Duration, Duration)> = Vec::new();

    let (vfs, ns) = memfs_ns(&ctx, 100_000);
    let top = ns.root();
    let dir = deep_dir();
    let ours = time(|i| {
        let path = format!("{dir}/f{i}");
        let pop = PathOperation::new(&top, &top, path.as_bytes());
        vfs.open_at(&ctx, &pop, creat).unwrap().release(&ctx);
    });
    let theirs = time(|i| {
        let path = host(&format!("{dir}/f{i}"));
        // SAFETY: a NUL-terminated path; the descriptor is closed at once.
        unsafe {
            libc::close(libc::open(
                path.as_ptr(),
                libc::O_CREAT | libc::O_WRONLY,
                0o644,
            ))
        };
    });
    rows.push(("create at depth 8", ours, theirs));

    let target = format!("{dir}/f1");
    let host_target = host(&target);
    let ours = time(|_| {
        let pop = PathOperation::new(&top, &top, target.as_bytes());
        vfs.stat_at(&ctx, &pop, StatOptions::default()).unwrap();
    });
    let theirs = time(|_| {
        // SAFETY: a NUL-terminated path and a stat buffer of the right type.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            libc::stat(host_target.as_ptr(), &mut st);
        }
    });
    rows.push(("cached lookup+stat", ours, theirs));

    let pop = PathOperation::new(&top, &top, target.as_bytes());
    let fd = vfs.open_at(&ctx, &pop, OpenOptions::default()).unwrap();
    let ours = time(|_| {
        fd.stat(&ctx, StatOptions::default()).unwrap();
    });
    let host_fd = std::fs::File::open(format!("{host_base}{target}")).unwrap();
    let theirs = time(|_| {
        // SAFETY: an open descriptor and a stat buffer of the right type.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            libc::fstat(std::os::fd::AsRawFd::as_raw_fd(&host_fd), &mut st);
        }
    });
    rows.push(("fstat", ours, theirs));
    fd.release(&ctx);

    // Without a dentry cache every component is looked up in its
    // directory again; the host's tmpfs cannot drop its dentries, so the
    // peer is its (cached) stat.
    let (vfs0, ns0) = memfs_ns(&ctx, 0);
    let top0 = ns0.root();
    let file = format!("{dir}/f");
    let pop0 = PathOperation::new(&top0, &top0, file.as_bytes());
    vfs0.open_at(&ctx, &pop0, creat).unwrap().release(&ctx);
    let ours = time(|_| {
        vfs0.stat_at(&ctx, &pop0, StatOptions::default()).unwrap();
    });
    rows.push((
        "uncached lookup+stat (peer: cached)",
        ours,
        theirs_stat(&host_target),
    ));

    println!(
        "{:<38} {:>12} {:>12} {:>8}",
        "operation (x20000)", "memfs", "host tmpfs", "ratio"
    );
    for (name, ours, theirs) in rows {
        let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
        println!("{name:<38} {ours:>12.2?} {theirs:>12.2?} {ratio:>8.2}");
    }
    drop((top, top0));
    vfs.release_mount_namespace(&ns);
    vfs0.release_mount_namespace(&ns0);
    let _ = std::fs::remove_dir_all(&host_base);
}

fn theirs_stat(path: &CString) -> Duration {
    time(|_| {
        // SAFETY: a NUL-terminated path and a stat buffer of the right type.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            libc::stat(path.as_ptr(), &mut st);
        }
    })
}
