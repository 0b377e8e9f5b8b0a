//! The overhead of I/O through an imported descriptor, as a ratio to the
//! same host system calls made directly, measured in one run: reads and
//! writes of 4 KiB and 64 KiB on a pipe and on a regular file.
//!
//! `cargo run --release -p hostfs --example bench [-- ITERATIONS]`

use std::hint::black_box;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use hostfs::{HostFilesystem, ImportOptions, import_fd};
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::{FileRef, MountRef, ReadOptions, SimpleContext, VirtualFilesystem, WriteOptions};

/// How many rounds of each measurement; the fastest round counts.
const ROUNDS: usize = 5;

/// One benchmarked operation pair: the direct host calls and the same
/// work through hostfs.
struct Case {
    name: String,
    direct: Box<dyn FnMut()>,
    hostfs: Box<dyn FnMut()>,
}

fn time(iterations: u32, op: &mut dyn FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        op();
    }
    start.elapsed()
}

fn import(ctx: &SimpleContext, mount: &MountRef, fd: OwnedFd) -> FileRef {
    import_fd(ctx, mount, fd, &ImportOptions::default()).expect("import")
}

fn pipe_case(ctx: &'static SimpleContext, mount: &MountRef, size: usize) -> Case {
    let (r, w) = nix::unistd::pipe().expect("pipe");
    let mut buf = vec![1u8; size];
    let direct = Box::new(move || {
        let n = nix::unistd::write(&w, &buf).expect("write");
        let mut got = 0;
        while got < n {
            got += nix::unistd::read(&r, &mut buf[got..n]).expect("read");
        }
        black_box(&buf);
    });
    let (r, w) = nix::unistd::pipe().expect("pipe");
    let (r, w) = (import(ctx, mount, r), import(ctx, mount, w));
    let mut buf = vec![1u8; size];
    let hostfs = Box::new(move || {
        let n = w
            .write(ctx, &mut SliceSource::new(&buf), WriteOptions::default())
            .expect("write");
        let mut got = 0;
        while got < n {
            got += r
                .read(
                    ctx,
                    &mut SliceDest::new(&mut buf[got..n]),
                    ReadOptions::default(),
                )
                .expect("read");
        }
        black_box(&buf);
    });
    Case {
        name: format!("pipe write+read {} KiB", size / 1024),
        direct,
        hostfs,
    }
}

/// A regular file of `FILE_SIZE` bytes in the temporary directory.
fn temp_file(tag: &str) -> OwnedFd {
    let path = std::env::temp_dir().join(format!("hostfs-bench-{}-{tag}", std::process::id()));
    let fd = nix::fcntl::open(
        &path,
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CREAT | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .expect("open");
    std::fs::remove_file(&path).expect("unlink");
    nix::unistd::ftruncate(&fd, FILE_SIZE as i64).expect("ftruncate");
    fd
}

const FILE_SIZE: usize = 1 << 20;

fn file_case(ctx: &'static SimpleContext, mount: &MountRef, size: usize, write: bool) -> Case {
    let fd = temp_file(&format!("direct-{size}-{write}"));
    let mut buf = vec![2u8; size];
    let mut offset = 0usize;
    let direct = Box::new(move || {
        let off = offset as i64;
        if write {
            nix::sys::uio::pwrite(&fd, &buf, off).expect("pwrite");
        } else {
            nix::sys::uio::pread(&fd, &mut buf, off).expect("pread");
        }
        offset = (offset + size) % FILE_SIZE;
        black_box(&buf);
    });
    let file = import(ctx, mount, temp_file(&format!("hostfs-{size}-{write}")));
    let mut buf = vec![2u8; size];
    let mut offset = 0usize;
    let hostfs = Box::new(move || {
        let off = offset as i64;
        if write {
            file.pwrite(
                ctx,
                &mut SliceSource::new(&buf),
                off,
                WriteOptions::default(),
            )
            .expect("pwrite");
        } else {
            file.pread(
                ctx,
                &mut SliceDest::new(&mut buf),
                off,
                ReadOptions::default(),
            )
            .expect("pread");
        }
        offset = (offset + size) % FILE_SIZE;
        black_box(&buf);
    });
    let op = if write { "pwrite" } else { "pread" };
    Case {
        name: format!("file {op} {} KiB", size / 1024),
        direct,
        hostfs,
    }
}

fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("ITERATIONS is a number"))
        .unwrap_or(20_000);
    let ctx: &'static SimpleContext = Box::leak(Box::new(SimpleContext::root()));
    let vfs = VirtualFilesystem::new();
    let mount = HostFilesystem::new_mount(&vfs).expect("hostfs mount");

    let mut cases = Vec::new();
    for size in [4096, 65536] {
        cases.push(pipe_case(ctx, &mount, size));
        cases.push(file_case(ctx, &mount, size, false));
        cases.push(file_case(ctx, &mount, size, true));
    }

    println!(
        "hostfs I/O overhead vs direct host syscalls ({iterations} ops per round, best of {ROUNDS})"
    );
    println!(
        "{:<26} {:>12} {:>12} {:>8}",
        "case", "direct ns/op", "hostfs ns/op", "ratio"
    );
    for case in &mut cases {
        // Warm up both paths (page cache, notifier thread).
        time(iterations / 10 + 1, &mut case.direct);
        time(iterations / 10 + 1, &mut case.hostfs);
        let mut direct = Duration::MAX;
        let mut hostfs = Duration::MAX;
        for _ in 0..ROUNDS {
            direct = direct.min(time(iterations, &mut case.direct));
            hostfs = hostfs.min(time(iterations, &mut case.hostfs));
        }
        let per_op = |d: Duration| d.as_nanos() as f64 / f64::from(iterations);
        println!(
            "{:<26} {:>12.0} {:>12.0} {:>8.2}",
            case.name,
            per_op(direct),
            per_op(hostfs),
            hostfs.as_secs_f64() / direct.as_secs_f64()
        );
    }
    drop(cases);
    mount.release(ctx);
}
