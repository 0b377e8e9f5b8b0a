//! `cargo xtask bench extfs`: extfs against the Linux kernel and the
//! `ext4-view` crate on a real directory tree.
//!
//! Builds a corpus (about 1 GiB and 50,000 files copied from `/usr`; a
//! smaller one with `--small`) into an image with `mkfs.ext4 -d`, mounts it
//! read-only through a loop device, and times, in one run, walking the
//! tree, stat-ing every entry and reading every byte with:
//!
//! - extfs's standalone API and extfs through vfs-core (in-process);
//! - the kernel (`std::fs` on the loop mount, page cache warm);
//! - `ext4-view`.
//!
//! Then stat at depths 1 to 100 through vfs-core against the kernel's
//! `stat(2)`. Prints the ratios to the kernel. Needs root (loop mounts).
//! `--depth-only` skips the corpus and the walk and times stat at depth
//! with 50 times more iterations (for profiling the path walk);
//! `--no-ext4-view` leaves out `ext4-view`, the slowest reader.
//! The mount, loop device and temporary files are removed at the end, also
//! after a failure.

use std::ffi::{CString, OsStr};
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use abi_linux::OpenFlags;
use extfs::vfs::{ExtFilesystemType, ExtImage, ExtMountData};
use extfs::{Ext4, FileType, MmapSource, MountOptions as ExtOptions, ROOT_INO};
use vfs_core::io::SliceDest;
use vfs_core::{
    DirentVec, MountOptions, OpenOptions, PathOperation, ReadOptions, SimpleContext, StatOptions,
    VirtualDentry, VirtualFilesystem,
};

/// Depths at which stat is timed.
const DEPTHS: [usize; 6] = [1, 2, 3, 8, 64, 100];

/// Rounds of stat at each depth, of which the fastest counts.
const DEPTH_ROUNDS: usize = 5;

/// What one walk saw: entries, regular files, bytes read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Totals {
    entries: u64,
    files: u64,
    bytes: u64,
}

/// Removes the temporary directory and unmounts on drop.
struct Cleanup {
    dir: PathBuf,
    mount: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(mnt) = self.mount.take() {
            // `umount` of a loop mount also detaches its loop device.
            let done = Command::new("umount").arg(&mnt).status();
            if !done.is_ok_and(|s| s.success()) {
                let _ = Command::new("umount").arg("-l").arg(&mnt).status();
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Copies regular files, directories and symlinks from `sources` into
/// `dst` until `max_bytes` or `max_files` is reached.
fn build_corpus(dst: &Path, max_bytes: u64, max_files: u64) -> (u64, u64) {
    let mut bytes = 0u64;
    let mut files = 0u64;
    let sources = ["/usr/share", "/usr/include", "/usr/lib", "/usr/bin"];
    let mut stack: Vec<(PathBuf, PathBuf)> = sources
        .iter()
        .map(|s| {
            (
                PathBuf::from(s),
                dst.join(s.trim_start_matches('/').replace('/', "-")),
            )
        })
        .rev()
        .collect();
    while let Some((src, to)) = stack.pop() {
        if bytes >= max_bytes || files >= max_files {
            break;
        }
        let Ok(md) = fs::symlink_metadata(&src) else {
            continue;
        };
        let ft = md.file_type();
        if ft.is_dir() {
            if fs::create_dir_all(&to).is_err() {
                continue;
            }
            let Ok(entries) = fs::read_dir(&src) else {
                continue;
            };
            let mut children: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name())
                .collect();
            children.sort();
            for name in children.into_iter().rev() {
                stack.push((src.join(&name), to.join(&name)));
            }
        } else if ft.is_symlink() {
            if let Ok(target) = fs::read_link(&src) {
                let _ = std::os::unix::fs::symlink(target, &to);
                files += 1;
            }
        } else if ft.is_file() && fs::copy(&src, &to).is_ok() {
            bytes += md.len();
            files += 1;
        }
    }
    // A chain of directories for stat at depth: `d/d/.../a` at each depth.
    let mut dir = dst.to_path_buf();
    for _ in 0..DEPTHS[DEPTHS.len() - 1] {
        fs::write(dir.join("a"), b"leaf").expect("write depth leaf");
        dir = dir.join("d");
        fs::create_dir(&dir).expect("create depth dir");
    }
    (bytes, files)
}

/// The path with `depth` components used by the stat-at-depth timing.
fn depth_path(depth: usize) -> String {
    let mut p = String::from("/");
    for _ in 1..depth {
        p.push_str("d/");
    }
    p.push('a');
    p
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run tool");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// extfs's standalone API.
fn walk_extfs(fs: &Ext4, buf: &mut [u8]) -> Totals {
    let mut t = Totals::default();
    let mut stack = vec![ROOT_INO];
    while let Some(dir_ino) = stack.pop() {
        let dir = fs.inode(dir_ino).expect("dir inode");
        for entry in fs.read_dir(&dir).expect("read dir") {
            let entry = entry.expect("entry");
            if entry.name() == b"." || entry.name() == b".." {
                continue;
            }
            t.entries += 1;
            let inode = fs.inode(entry.ino).expect("inode");
            match inode.file_type() {
                Some(FileType::Directory) => stack.push(entry.ino),
                Some(FileType::Regular) => {
                    t.files += 1;
                    let mut off = 0;
                    loop {
                        let n = fs.read_at(&inode, off, buf).expect("read");
                        if n == 0 {
                            break;
                        }
                        off += n as u64;
                    }
                    t.bytes += off;
                }
                _ => {}
            }
        }
    }
    t
}

/// The kernel through `std::fs` on the loop mount.
fn walk_kernel(root: &Path, buf: &mut [u8]) -> Totals {
    let mut t = Totals::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            t.entries += 1;
            let md = fs::symlink_metadata(&path).expect("lstat");
            if md.is_dir() {
                stack.push(path);
            } else if md.is_file() {
                t.files += 1;
                let mut f = fs::File::open(&path).expect("open");
                loop {
                    let n = f.read(buf).expect("read");
                    if n == 0 {
                        break;
                    }
                    t.bytes += n as u64;
                }
            }
        }
    }
    t
}

/// The `ext4-view` crate.
fn walk_ext4_view(fs: &ext4_view::Ext4, buf: &mut [u8]) -> Totals {
    let mut t = Totals::default();
    let mut stack = vec![ext4_view::PathBuf::new("/")];
    while let Some(dir) = stack.pop() {
        for entry in fs.read_dir(&dir).expect("read dir") {
            let entry = entry.expect("entry");
            let name = entry.file_name();
            if name.as_ref() == b"." || name.as_ref() == b".." {
                continue;
            }
            t.entries += 1;
            let path = entry.path();
            let md = fs.symlink_metadata(&path).expect("lstat");
            if md.is_dir() {
                stack.push(path);
            } else if md.file_type().is_regular_file() {
                t.files += 1;
                let mut f = fs.open(&path).expect("open");
                loop {
                    let n = f.read_bytes(buf).expect("read");
                    if n == 0 {
                        break;
                    }
                    t.bytes += n as u64;
                }
            }
        }
    }
    t
}

/// extfs through vfs-core: getdents, lstat by path, open and read.
struct VfsEnv {
    vfs: Arc<VirtualFilesystem>,
    root: VirtualDentry,
    ctx: SimpleContext,
}

impl VfsEnv {
    fn new(image: &Path) -> VfsEnv {
        let file = fs::File::open(image).expect("open image");
        // SAFETY: The bench's image is not modified while it runs.
        let source = unsafe { MmapSource::new(&file) }.expect("map image");
        let vfs = VirtualFilesystem::new();
        let ctx = SimpleContext::root();
        for t in ExtFilesystemType::all() {
            vfs.register_filesystem_type(t).expect("register");
        }
        let mut opts = MountOptions::default();
        opts.get_filesystem.internal_data = Some(Arc::new(ExtMountData::new(ExtImage::Source(
            Arc::new(source),
        ))));
        let ns = vfs
            .new_mount_namespace(&ctx, b"image", "ext4", &opts)
            .expect("mount");
        let root = ns.root();
        VfsEnv { vfs, root, ctx }
    }

    fn pop<'a>(&'a self, path: &'a [u8]) -> PathOperation<'a> {
        PathOperation::new(&self.root, &self.root, path)
    }

    fn walk(&self, buf: &mut [u8]) -> Totals {
        let mut t = Totals::default();
        let mut stack = vec![b"/".to_vec()];
        while let Some(dir) = stack.pop() {
            let fd = self
                .vfs
                .open_at(
                    &self.ctx,
                    &self.pop(&dir),
                    OpenOptions {
                        flags: OpenFlags::DIRECTORY,
                        ..OpenOptions::default()
                    },
                )
                .expect("open dir");
            let mut entries = DirentVec::default();
            fd.iter_dirents(&self.ctx, &mut entries).expect("getdents");
            fd.release(&self.ctx);
            for (name, _, _, _) in entries.entries {
                if name == b"." || name == b".." {
                    continue;
                }
                t.entries += 1;
                let mut path = dir.clone();
                if path.len() > 1 {
                    path.push(b'/');
                }
                path.extend_from_slice(&name);
                let st = self
                    .vfs
                    .stat_at(
                        &self.ctx,
                        &self.pop(&path).follow_final(false),
                        StatOptions::default(),
                    )
                    .expect("lstat");
                match u32::from(st.stx_mode) & abi_linux::S_IFMT {
                    abi_linux::S_IFDIR => stack.push(path),
                    abi_linux::S_IFREG => {
                        t.files += 1;
                        let f = self
                            .vfs
                            .open_at(&self.ctx, &self.pop(&path), OpenOptions::default())
                            .expect("open");
                        loop {
                            let n = f
                                .read(&self.ctx, &mut SliceDest::new(buf), ReadOptions::default())
                                .expect("read");
                            if n == 0 {
                                break;
                            }
                            t.bytes += n as u64;
                        }
                        f.release(&self.ctx);
                    }
                    _ => {}
                }
            }
        }
        t
    }
}

/// The best of `runs` timings of `f`, and its result.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..runs {
        let start = Instant::now();
        let r = f();
        let d = start.elapsed();
        if best.as_ref().is_none_or(|(b, _)| d < *b) {
            best = Some((d, r));
        }
    }
    best.expect("at least one run")
}

fn main() {
    let small = std::env::args().any(|a| a == "--small");
    let depth_only = std::env::args().any(|a| a == "--depth-only");
    let with_view = !std::env::args().any(|a| a == "--no-ext4-view");
    let (max_bytes, max_files) = if depth_only {
        (0, 0)
    } else if small {
        (64 << 20, 5_000)
    } else {
        (1 << 30, 50_000)
    };
    let tmp = std::env::temp_dir().join(format!("extfs-bench-{}", std::process::id()));
    let mut cleanup = Cleanup {
        dir: tmp.clone(),
        mount: None,
    };
    let corpus = tmp.join("corpus");
    fs::create_dir_all(&corpus).expect("create temp dir");
    eprintln!("copying the corpus from /usr ...");
    let (bytes, files) = build_corpus(&corpus, max_bytes, max_files);
    let image = tmp.join("corpus.img");
    let size_mb = (bytes * 13 / 10 + files * 8192) / (1 << 20) + 256;
    eprintln!("building a {size_mb} MiB image of {files} files, {bytes} bytes ...");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-b", "4096", "-N"])
        .arg((files * 2 + 4096).to_string())
        .arg("-d")
        .arg(&corpus)
        .arg(&image)
        .arg(format!("{size_mb}M")));
    fs::remove_dir_all(&corpus).expect("remove corpus copy");
    let mnt = tmp.join("mnt");
    fs::create_dir_all(&mnt).expect("create mount point");
    run(Command::new("mount")
        .args(["-t", "ext4", "-o", "ro,loop,noload"])
        .arg(&image)
        .arg(&mnt));
    cleanup.mount = Some(mnt.clone());

    let env = VfsEnv::new(&image);
    if !depth_only {
        walk_all(&mnt, &image, &env, with_view);
    }
    stat_at_depths(&mnt, &env, if depth_only { 50 } else { 1 });
    let VfsEnv { vfs, root, ctx } = env;
    root.release(&ctx);
    drop(vfs);
    drop(cleanup);
}

/// Times walk + stat + read of the whole image with every reader.
fn walk_all(mnt: &Path, image: &Path, env: &VfsEnv, with_view: bool) {
    let mut buf = vec![0u8; 1 << 20];
    let runs = 2;
    // Warm the kernel's page cache, then time it.
    walk_kernel(mnt, &mut buf);
    let (kernel_time, kernel) = best(runs, || walk_kernel(mnt, &mut buf));

    let file = fs::File::open(image).expect("open image");
    // SAFETY: The bench's image is not modified while it runs.
    let source = unsafe { MmapSource::new(&file) }.expect("map image");
    let ext4 = Ext4::open(source, ExtOptions::default()).expect("open image");
    let (extfs_time, extfs) = best(runs, || walk_extfs(&ext4, &mut buf));

    let (vfs_time, vfs) = best(runs, || env.walk(&mut buf));

    let view = with_view.then(|| {
        let view = ext4_view::Ext4::load(Box::new(fs::read(image).expect("read image")))
            .expect("ext4-view loads the image");
        best(1, || walk_ext4_view(&view, &mut buf))
    });

    println!(
        "walk + stat every entry + read every byte ({} entries, {} files, {} bytes):",
        kernel.entries, kernel.files, kernel.bytes
    );
    println!("  {:<28} {:>12} {:>10}", "reader", "time", "vs kernel");
    let secs = |d: Duration| d.as_secs_f64();
    let readers = [
        ("kernel (loop mount, warm)", Some((kernel_time, kernel))),
        ("extfs standalone", Some((extfs_time, extfs))),
        ("extfs through vfs-core", Some((vfs_time, vfs))),
        ("ext4-view", view),
    ];
    for (name, (d, t)) in readers
        .into_iter()
        .filter_map(|(name, run)| Some((name, run?)))
    {
        let note = if t == kernel {
            ""
        } else {
            "  (saw different totals!)"
        };
        println!(
            "  {:<28} {:>10.3} s {:>9.2}x{note}",
            name,
            secs(d),
            secs(d) / secs(kernel_time)
        );
    }
}

/// Times `stat` at each of [`DEPTHS`] through vfs-core and the kernel,
/// `scale` times the default iterations, best of [`DEPTH_ROUNDS`].
fn stat_at_depths(mnt: &Path, env: &VfsEnv, scale: usize) {
    println!("stat at depth (ns/op):");
    println!(
        "  {:>5} {:>12} {:>12} {:>10}",
        "depth", "vfs-core", "kernel", "ratio"
    );
    for depth in DEPTHS {
        let path = depth_path(depth);
        let iters = 200_000 / depth.max(4) * scale;
        let pop = env.pop(path.as_bytes());
        let host = CString::new(mnt.join(&path[1..]).as_os_str().as_bytes()).expect("path");
        // SAFETY: All-zero bytes are a valid `stat`.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // The best of a few alternating rounds: other work on the machine
        // only ever adds time.
        let (mut ours, mut kernel) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..DEPTH_ROUNDS {
            let start = Instant::now();
            for _ in 0..iters {
                let st = env.vfs.stat_at(&env.ctx, &pop, StatOptions::default());
                assert!(st.is_ok(), "{path}: {st:?}");
            }
            ours = ours.min(start.elapsed().as_nanos() as f64 / iters as f64);
            let start = Instant::now();
            for _ in 0..iters {
                // SAFETY: A valid NUL-terminated path and an out-parameter.
                let r = unsafe { libc::stat(host.as_ptr(), &mut st) };
                assert_eq!(
                    r,
                    0,
                    "stat {}",
                    OsStr::from_bytes(host.as_bytes()).to_string_lossy()
                );
            }
            kernel = kernel.min(start.elapsed().as_nanos() as f64 / iters as f64);
        }
        println!(
            "  {depth:>5} {ours:>12.0} {kernel:>12.0} {:>9.2}x",
            ours / kernel
        );
    }
}
