//! Resolve-and-stat benchmark (the shape of gVisor's ext stat benchmark):
//! `vfs.stat_at` on testfs through vfs-core next to the host kernel's
//! `stat(2)` on a tmpfs path of the same depth, measured in the same run,
//! reported as a ratio. Not a test: nothing is asserted about time.
//!
//! Run with `cargo run --release -p vfs-core --example bench_stat`.

#[path = "../tests/common/testfs.rs"]
pub mod testfs;

use std::ffi::CString;
use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use vfs_core::{
    MkdirOptions, MountOptions, PathOperation, SimpleContext, StatOptions, VirtualFilesystem,
};

const DEPTHS: [usize; 6] = [1, 2, 3, 8, 64, 100];
const ROUNDS: usize = 7;
const ITERATIONS: u32 = 20_000;

/// `/d/d/.../d` with `depth` components; the host path uses the same
/// component names below `base`.
fn chain(depth: usize) -> String {
    "/d".repeat(depth)
}

/// A tmpfs directory for the host side: `/dev/shm` when it is a tmpfs, else
/// the system temporary directory.
fn host_base() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    let base = if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    };
    base.join(format!("vfs-core-bench-{}", std::process::id()))
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let ctx = SimpleContext::root();
    let vfs = VirtualFilesystem::new();
    vfs.register_filesystem_type(Arc::new(testfs::TestFsType))
        .expect("testfs registers");
    let ns = vfs
        .new_mount_namespace(&ctx, b"", "testfs", &MountOptions::default())
        .expect("testfs mounts");
    let root = ns.root();
    let host_root = host_base();

    // Build the deepest chain once on each side; shallower paths are its
    // prefixes.
    let max_depth = DEPTHS[DEPTHS.len() - 1];
    let mut path = String::new();
    for _ in 0..max_depth {
        path.push_str("/d");
        let pop = PathOperation::new(&root, &root, path.as_bytes());
        let opts = MkdirOptions {
            mode: 0o755,
            ..MkdirOptions::default()
        };
        vfs.mkdir_at(&ctx, &pop, opts).expect("mkdir on testfs");
    }
    std::fs::create_dir_all(host_root.join(&chain(max_depth)[1..])).expect("host directory chain");

    println!("depth  vfs-core ns/op  kernel ns/op  ratio");
    for depth in DEPTHS {
        let path = chain(depth);
        let host_path =
            CString::new(host_root.join(&path[1..]).as_os_str().as_bytes()).expect("no NUL");
        let pop = PathOperation::new(&root, &root, path.as_bytes());
        let mut ours = Vec::with_capacity(ROUNDS);
        let mut kernel = Vec::with_capacity(ROUNDS);
        // Interleave the two sides round by round so drift affects both.
        for _ in 0..ROUNDS {
            let start = Instant::now();
            for _ in 0..ITERATIONS {
                black_box(
                    vfs.stat_at(&ctx, black_box(&pop), StatOptions::default())
                        .expect("stat on testfs"),
                );
            }
            ours.push(start.elapsed().as_nanos() as f64 / f64::from(ITERATIONS));

            let start = Instant::now();
            for _ in 0..ITERATIONS {
                // SAFETY: `host_path` is a valid NUL-terminated string and
                // `st` a valid, writable `stat` buffer for the call.
                let ret = unsafe {
                    let mut st: libc::stat = std::mem::zeroed();
                    libc::stat(black_box(host_path.as_ptr()), &mut st)
                };
                assert_eq!(ret, 0, "host stat failed");
            }
            kernel.push(start.elapsed().as_nanos() as f64 / f64::from(ITERATIONS));
        }
        let ours = median(&mut ours);
        let kernel = median(&mut kernel);
        println!(
            "{depth:>5}  {ours:>14.0}  {kernel:>12.0}  {:>5.2}",
            ours / kernel
        );
    }

    let _ = std::fs::remove_dir_all(&host_root);
    root.release(&ctx);
    vfs.release_mount_namespace(&ns);
}
