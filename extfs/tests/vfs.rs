//! The vfs-core filesystem against the Linux kernel: the same image is
//! mounted through vfs-core and loop-mounted read-only, and every answer
//! (listings, stat, contents, links, xattrs, statfs, errnos of mutations,
//! lseek) must be the kernel's. Loop mounts need root; without it the
//! comparisons are skipped with a message. Each test ends with a leak
//! check.

#[path = "support/common.rs"]
mod common;
#[path = "support/kernel.rs"]
#[expect(
    dead_code,
    reason = "these tests compare with the mount, not the manifest"
)]
mod kernel;
#[path = "../examples/extfs/manifest.rs"]
#[expect(dead_code, reason = "the kernel support module uses a part of it")]
mod manifest;
#[path = "support/xorshift.rs"]
mod xorshift;

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use abi_linux::{Errno, OpenFlags, StatxMask, Whence};
use common::{TempDir, run};
use extfs::vfs::{ExtFilesystemType, ExtImage, ExtMountData};
use extfs::{BlockSource, FileSource, MmapSource};
use vfs_core::io::SliceDest;
use vfs_core::memmap::{AccessType, MmapOpts};
use vfs_core::{
    AccessTypes, DirentVec, FileRef, GetXattrOptions, MkdirOptions, MknodOptions, MountNamespace,
    MountOptions, OpenOptions, PathOperation, ReadOptions, RenameOptions, SetStatOptions,
    SetXattrOptions, SimpleContext, StatOptions, VirtualDentry, VirtualFilesystem,
};
use xorshift::XorShift;

/// Builds an image of a tree with every kind of file, or `None` when the
/// tools are missing.
fn build_image(tmp: &TempDir, mkfs_args: &[&str]) -> Option<std::path::PathBuf> {
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("dir/sub/deeper")).ok()?;
    fs::write(src.join("hello.txt"), b"hello, world\n").ok()?;
    fs::write(src.join("empty"), b"").ok()?;
    let mut data = vec![0u8; 300_000];
    XorShift(7).fill(&mut data);
    fs::write(src.join("random"), &data).ok()?;
    fs::write(src.join("dir/sub/deeper/leaf"), b"leaf\n").ok()?;
    let holes = fs::File::create(src.join("holes")).ok()?;
    holes.write_all_at(b"middle", 1 << 20).ok()?;
    holes.write_all_at(b"later", (3 << 20) + 13).ok()?;
    holes.set_len(4 << 20).ok()?;
    std::os::unix::fs::symlink("hello.txt", src.join("fast-link")).ok()?;
    std::os::unix::fs::symlink("x".repeat(200), src.join("slow-link")).ok()?;
    std::os::unix::fs::symlink("dir/sub", src.join("dir-link")).ok()?;
    std::os::unix::fs::symlink("../../hello.txt", src.join("dir/sub/up")).ok()?;
    fs::hard_link(src.join("hello.txt"), src.join("dir/hard")).ok()?;
    for i in 0..300 {
        fs::write(src.join("dir").join(format!("entry-{i:03}")), b"").ok()?;
    }
    // Names on both sides of the dentry's inline name storage, and the
    // longest name; one is a directory to walk through.
    for len in [29, 30, 31, 255] {
        fs::write(src.join("n".repeat(len)), len.to_string()).ok()?;
    }
    fs::create_dir_all(src.join("d".repeat(31)).join("e".repeat(255))).ok()?;
    let _ = run(Command::new("mkfifo").arg(src.join("fifo")));
    let _ = run(Command::new("mknod")
        .arg(src.join("null"))
        .args(["c", "1", "3"]));
    let _ = run(Command::new("setfattr")
        .args(["-n", "user.comment", "-v", "a comment"])
        .arg(src.join("hello.txt")));
    let _ = run(Command::new("setfattr")
        .args(["-n", "trusted.secret", "-v", "0x0102"])
        .arg(src.join("hello.txt")));
    let image = tmp.path().join("image");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F"])
        .args(mkfs_args)
        .arg("-d")
        .arg(&src)
        .arg(&image)
        .arg("32M"))
    .map_err(|e| eprintln!("skipping: {e}"))
    .ok()?;
    Some(image)
}

/// A VFS with the image mounted at its root.
struct Env {
    vfs: Arc<VirtualFilesystem>,
    ns: Arc<MountNamespace>,
    root: VirtualDentry,
    ctx: SimpleContext,
    scope: refs::LeakCheckScope,
}

impl Env {
    fn new(source: Arc<dyn BlockSource>) -> Result<Env, Errno> {
        Env::with_cache(source, extfs::vfs::DEFAULT_MAX_CACHED_DENTRIES)
    }

    /// A mount that keeps at most `max_cached` unreferenced dentries.
    fn with_cache(source: Arc<dyn BlockSource>, max_cached: usize) -> Result<Env, Errno> {
        let scope = refs::LeakCheckScope::new();
        let vfs = VirtualFilesystem::new();
        let ctx = SimpleContext::root();
        for fs_type in ExtFilesystemType::all() {
            vfs.register_filesystem_type(fs_type)?;
        }
        let mut opts = MountOptions::default();
        let mut data = ExtMountData::new(ExtImage::Source(source));
        data.max_cached_dentries = max_cached;
        opts.get_filesystem.internal_data = Some(Arc::new(data));
        let ns = vfs.new_mount_namespace(&ctx, b"image", "ext4", &opts)?;
        let root = ns.root();
        Ok(Env {
            vfs,
            ns,
            root,
            ctx,
            scope,
        })
    }

    fn mmap(image: &Path) -> Env {
        let file = fs::File::open(image).expect("open image");
        // SAFETY: The test's image file is not modified while mounted.
        let source = unsafe { MmapSource::new(&file) }.expect("map image");
        Env::new(Arc::new(source)).expect("mount image")
    }

    fn pread(image: &Path) -> Env {
        let file = fs::File::open(image).expect("open image");
        Env::new(Arc::new(FileSource::new(file).expect("size image"))).expect("mount image")
    }

    fn finish(self) {
        let Env {
            vfs,
            ns,
            root,
            ctx,
            scope,
        } = self;
        root.release(&ctx);
        vfs.release_mount_namespace(&ns);
        drop(ns);
        drop(vfs);
        scope.assert_clean();
    }

    fn pop<'a>(&'a self, path: &'a [u8]) -> PathOperation<'a> {
        PathOperation::new(&self.root, &self.root, path)
    }

    fn lstat(&self, path: &[u8]) -> Result<abi_linux::Statx, Errno> {
        self.vfs.stat_at(
            &self.ctx,
            &self.pop(path).follow_final(false),
            StatOptions::default(),
        )
    }

    fn open(&self, path: &[u8], flags: OpenFlags) -> Result<FileRef, Errno> {
        self.vfs.open_at(
            &self.ctx,
            &self.pop(path),
            OpenOptions {
                flags,
                mode: 0o644,
                file_exec: false,
            },
        )
    }

    fn read_all(&self, file: &FileRef) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 70_000];
        loop {
            let n = file
                .read(
                    &self.ctx,
                    &mut SliceDest::new(&mut buf),
                    ReadOptions::default(),
                )
                .expect("read");
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// Lists a directory with getdents into small batches.
    fn list(&self, path: &[u8]) -> Vec<(Vec<u8>, u64, u8, i64)> {
        let dir = self.open(path, OpenFlags::DIRECTORY).expect("open dir");
        let mut all = Vec::new();
        loop {
            let mut batch = BatchSink::new(7);
            dir.iter_dirents(&self.ctx, &mut batch).expect("getdents");
            if batch.entries.is_empty() {
                break;
            }
            all.extend(batch.entries);
        }
        dir.release(&self.ctx);
        all
    }
}

/// Accepts at most `limit` entries per call, like a small getdents buffer.
struct BatchSink {
    limit: usize,
    entries: Vec<(Vec<u8>, u64, u8, i64)>,
}

impl BatchSink {
    fn new(limit: usize) -> Self {
        BatchSink {
            limit,
            entries: Vec::new(),
        }
    }
}

impl vfs_core::DirentSink for BatchSink {
    fn add(&mut self, d: &vfs_core::Dirent<'_>) -> bool {
        if self.entries.len() == self.limit {
            return false;
        }
        self.entries
            .push((d.name.to_vec(), d.ino, d.dtype, d.next_offset));
        true
    }
}

fn errno_of(r: i64) -> Option<Errno> {
    (r < 0).then(|| {
        let raw = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        Errno::from_raw(raw).expect("known errno")
    })
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// Mounts `image` with the kernel, or explains why not.
fn kernel_mount(image: &Path) -> Option<kernel::Mount> {
    if !kernel::is_root() {
        eprintln!("skipping the kernel comparison: loop mounts need root");
        return None;
    }
    kernel::Mount::new(image, false)
        .map_err(|e| eprintln!("skipping the kernel comparison: {e}"))
        .ok()
}

/// Walks the tree through vfs-core and checks each entry's listing,
/// metadata, contents and link target against the kernel's mount.
fn compare_tree(env: &Env, mnt: &Path) -> usize {
    let mut checked = 0;
    let mut stack = vec![b"/".to_vec()];
    while let Some(dir) = stack.pop() {
        let listing = env.list(&dir);
        let host_dir = mnt.join(std::ffi::OsStr::from_bytes(&dir[1..]));
        let mut kernel_names: Vec<Vec<u8>> = fs::read_dir(&host_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().as_bytes().to_vec())
            .collect();
        kernel_names.sort();
        let mut names: Vec<Vec<u8>> = listing
            .iter()
            .map(|e| e.0.clone())
            .filter(|n| n != b"." && n != b"..")
            .collect();
        names.sort();
        assert_eq!(names, kernel_names, "listing of {}", host_dir.display());
        for (name, ino, _, _) in listing {
            if name == b"." || name == b".." {
                continue;
            }
            let mut path = dir.clone();
            if path.len() > 1 {
                path.push(b'/');
            }
            path.extend_from_slice(&name);
            let host = mnt.join(std::ffi::OsStr::from_bytes(&path[1..]));
            let md = fs::symlink_metadata(&host).unwrap();
            let st = env.lstat(&path).unwrap();
            let what = host.display();
            assert_eq!(st.stx_ino, md.ino(), "ino of {what}");
            assert_eq!(ino, md.ino(), "dirent ino of {what}");
            assert_eq!(u32::from(st.stx_mode), md.mode(), "mode of {what}");
            assert_eq!(u64::from(st.stx_nlink), md.nlink(), "nlink of {what}");
            assert_eq!(
                (st.stx_uid, st.stx_gid),
                (md.uid(), md.gid()),
                "ids of {what}"
            );
            assert_eq!(st.stx_size, md.size(), "size of {what}");
            assert_eq!(st.stx_blocks, md.blocks(), "blocks of {what}");
            assert_eq!(
                (st.stx_mtime.tv_sec, i64::from(st.stx_mtime.tv_nsec)),
                (md.mtime(), md.mtime_nsec()),
                "mtime of {what}"
            );
            assert_eq!(
                (st.stx_ctime.tv_sec, i64::from(st.stx_ctime.tv_nsec)),
                (md.ctime(), md.ctime_nsec()),
                "ctime of {what}"
            );
            assert_eq!(
                (st.stx_atime.tv_sec, i64::from(st.stx_atime.tv_nsec)),
                (md.atime(), md.atime_nsec()),
                "atime of {what}"
            );
            if let Ok(created) = md.created() {
                let since = created.duration_since(std::time::UNIX_EPOCH).unwrap();
                assert_ne!(st.stx_mask & StatxMask::BTIME.bits(), 0, "btime of {what}");
                assert_eq!(
                    (st.stx_btime.tv_sec as u64, st.stx_btime.tv_nsec),
                    (since.as_secs(), since.subsec_nanos()),
                    "btime of {what}"
                );
            }
            let rdev = abi_linux::make_dev(st.stx_rdev_major, st.stx_rdev_minor);
            assert_eq!(rdev, md.rdev(), "rdev of {what}");
            let ft = md.file_type();
            if ft.is_dir() {
                stack.push(path.clone());
            } else if ft.is_file() {
                let file = env.open(&path, OpenFlags::empty()).unwrap();
                assert_eq!(env.read_all(&file), fs::read(&host).unwrap(), "{what}");
                file.release(&env.ctx);
            } else if ft.is_symlink() {
                let target = env.vfs.readlink_at(&env.ctx, &env.pop(&path)).unwrap();
                assert_eq!(target, fs::read_link(&host).unwrap().as_os_str().as_bytes());
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn walk_stat_and_read_match_kernel_mount() {
    let tmp = TempDir::new("vfs-walk");
    let Some(image) = build_image(&tmp, &["-b", "4096"]) else {
        return;
    };
    let Some(mnt) = kernel_mount(&image) else {
        return;
    };
    for make in [Env::mmap, Env::pread] {
        let env = make(&image);
        assert!(compare_tree(&env, mnt.path()) > 300);
        // Through the symlinks, as stat(2) follows them.
        let st = env
            .vfs
            .stat_at(
                &env.ctx,
                &env.pop(b"/dir-link/deeper/leaf"),
                StatOptions::default(),
            )
            .unwrap();
        let md = fs::metadata(mnt.path().join("dir-link/deeper/leaf")).unwrap();
        assert_eq!(st.stx_ino, md.ino());
        let st = env
            .vfs
            .stat_at(&env.ctx, &env.pop(b"dir/sub/up"), StatOptions::default())
            .unwrap();
        assert_eq!(
            st.stx_ino,
            fs::metadata(mnt.path().join("hello.txt")).unwrap().ino()
        );
        env.finish();
    }
}

#[test]
fn tiny_dentry_cache_under_concurrent_walks_matches_kernel_mount() {
    let tmp = TempDir::new("vfs-evict");
    let Some(image) = build_image(&tmp, &["-b", "4096"]) else {
        return;
    };
    let Some(mnt) = kernel_mount(&image) else {
        return;
    };
    let file = fs::File::open(&image).expect("open image");
    let source = FileSource::new(file).expect("size image");
    // Four unreferenced dentries at most: walks keep evicting what other
    // walks looked up a moment before.
    let env = Env::with_cache(Arc::new(source), 4).expect("mount image");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert!(compare_tree(&env, mnt.path()) > 300));
        }
    });
    assert!(compare_tree(&env, mnt.path()) > 300);
    env.finish();
}

#[test]
fn ext2_image_without_extents_matches_kernel_mount() {
    let tmp = TempDir::new("vfs-ext2");
    let Some(image) = build_image(&tmp, &["-t", "ext2", "-b", "1024"]) else {
        return;
    };
    let Some(mnt) = kernel_mount(&image) else {
        return;
    };
    let env = Env::mmap(&image);
    assert!(compare_tree(&env, mnt.path()) > 300);
    env.finish();
}

/// One mutation, run through vfs-core and as the system call on the
/// kernel's mount.
type Mutation = (
    &'static str,
    Box<dyn Fn(&Env) -> Result<(), Errno>>,
    Box<dyn Fn(&Path) -> i64>,
);

fn mutations() -> Vec<Mutation> {
    fn p(mnt: &Path, rel: &str) -> CString {
        cpath(&mnt.join(rel))
    }
    let mkdir = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| {
                env.vfs.mkdir_at(
                    &env.ctx,
                    &env.pop(rel.as_bytes()),
                    MkdirOptions {
                        mode: 0o755,
                        ..MkdirOptions::default()
                    },
                )
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: A valid NUL-terminated path.
                i64::from(unsafe { libc::mkdir(p(mnt, rel).as_ptr(), 0o755) })
            }),
        )
    };
    let unlink = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| env.vfs.unlink_at(&env.ctx, &env.pop(rel.as_bytes()))),
            // SAFETY: A valid NUL-terminated path.
            Box::new(move |mnt: &Path| i64::from(unsafe { libc::unlink(p(mnt, rel).as_ptr()) })),
        )
    };
    let rmdir = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| env.vfs.rmdir_at(&env.ctx, &env.pop(rel.as_bytes()))),
            // SAFETY: A valid NUL-terminated path.
            Box::new(move |mnt: &Path| i64::from(unsafe { libc::rmdir(p(mnt, rel).as_ptr()) })),
        )
    };
    let creat = |rel: &'static str, excl: bool| -> Mutation {
        let flags = if excl {
            OpenFlags::EXCL
        } else {
            OpenFlags::empty()
        };
        let raw = if excl { libc::O_EXCL } else { 0 };
        (
            rel,
            Box::new(move |env: &Env| {
                env.open(rel.as_bytes(), OpenFlags::CREAT | OpenFlags::WRONLY | flags)
                    .map(|f| f.release(&env.ctx))
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: A valid NUL-terminated path.
                let fd = unsafe {
                    libc::open(
                        p(mnt, rel).as_ptr(),
                        libc::O_CREAT | libc::O_WRONLY | raw,
                        0o644,
                    )
                };
                if fd >= 0 {
                    // SAFETY: The descriptor was just opened.
                    unsafe { libc::close(fd) };
                }
                i64::from(fd)
            }),
        )
    };
    let open_rw = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| {
                env.open(rel.as_bytes(), OpenFlags::RDWR)
                    .map(|f| f.release(&env.ctx))
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: A valid NUL-terminated path.
                let fd = unsafe { libc::open(p(mnt, rel).as_ptr(), libc::O_RDWR) };
                if fd >= 0 {
                    // SAFETY: The descriptor was just opened.
                    unsafe { libc::close(fd) };
                }
                i64::from(fd)
            }),
        )
    };
    let symlink = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| env.vfs.symlink_at(&env.ctx, &env.pop(rel.as_bytes()), b"t")),
            Box::new(move |mnt: &Path| {
                // SAFETY: Valid NUL-terminated paths.
                i64::from(unsafe { libc::symlink(c"t".as_ptr(), p(mnt, rel).as_ptr()) })
            }),
        )
    };
    let link = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| {
                env.vfs
                    .link_at(&env.ctx, &env.pop(b"hello.txt"), &env.pop(rel.as_bytes()))
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: Valid NUL-terminated paths.
                i64::from(unsafe { libc::link(p(mnt, "hello.txt").as_ptr(), p(mnt, rel).as_ptr()) })
            }),
        )
    };
    let rename = |from: &'static str, to: &'static str| -> Mutation {
        (
            to,
            Box::new(move |env: &Env| {
                env.vfs.rename_at(
                    &env.ctx,
                    &env.pop(from.as_bytes()),
                    &env.pop(to.as_bytes()),
                    RenameOptions::default(),
                )
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: Valid NUL-terminated paths.
                i64::from(unsafe { libc::rename(p(mnt, from).as_ptr(), p(mnt, to).as_ptr()) })
            }),
        )
    };
    let mknod = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| {
                env.vfs.mknod_at(
                    &env.ctx,
                    &env.pop(rel.as_bytes()),
                    MknodOptions {
                        mode: abi_linux::S_IFIFO | 0o644,
                        ..MknodOptions::default()
                    },
                )
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: A valid NUL-terminated path.
                i64::from(unsafe { libc::mknod(p(mnt, rel).as_ptr(), libc::S_IFIFO | 0o644, 0) })
            }),
        )
    };
    let truncate = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| {
                let mut opts = SetStatOptions::default();
                opts.stat.stx_mask = StatxMask::SIZE.bits();
                env.vfs
                    .set_stat_at(&env.ctx, &env.pop(rel.as_bytes()), opts)
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: A valid NUL-terminated path.
                i64::from(unsafe { libc::truncate(p(mnt, rel).as_ptr(), 0) })
            }),
        )
    };
    let chmod = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| {
                let mut opts = SetStatOptions::default();
                opts.stat.stx_mask = StatxMask::MODE.bits();
                opts.stat.stx_mode = 0o600;
                env.vfs
                    .set_stat_at(&env.ctx, &env.pop(rel.as_bytes()), opts)
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: A valid NUL-terminated path.
                i64::from(unsafe { libc::chmod(p(mnt, rel).as_ptr(), 0o600) })
            }),
        )
    };
    let setxattr = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| {
                env.vfs.set_xattr_at(
                    &env.ctx,
                    &env.pop(rel.as_bytes()),
                    &SetXattrOptions {
                        name: b"user.new".to_vec(),
                        value: b"v".to_vec(),
                        ..SetXattrOptions::default()
                    },
                )
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: Valid NUL-terminated strings and a 1-byte value.
                i64::from(unsafe {
                    libc::setxattr(
                        p(mnt, rel).as_ptr(),
                        c"user.new".as_ptr(),
                        c"v".as_ptr().cast(),
                        1,
                        0,
                    )
                })
            }),
        )
    };
    let access_w = |rel: &'static str| -> Mutation {
        (
            rel,
            Box::new(move |env: &Env| {
                env.vfs
                    .access_at(&env.ctx, &env.pop(rel.as_bytes()), AccessTypes::WRITE)
            }),
            Box::new(move |mnt: &Path| {
                // SAFETY: A valid NUL-terminated path.
                i64::from(unsafe { libc::access(p(mnt, rel).as_ptr(), libc::W_OK) })
            }),
        )
    };
    vec![
        mkdir("new-dir"),
        mkdir("dir"),
        mkdir("hello.txt"),
        mkdir("missing/new"),
        mkdir("hello.txt/new"),
        mkdir("."),
        unlink("hello.txt"),
        unlink("missing"),
        unlink("missing/x"),
        unlink("dir"),
        unlink("hello.txt/x"),
        rmdir("dir"),
        rmdir("dir/."),
        rmdir("dir/.."),
        rmdir("missing"),
        rmdir("hello.txt/x"),
        creat("new-file", false),
        creat("hello.txt", true),
        creat("hello.txt", false),
        creat("dir", false),
        creat("missing/x", false),
        open_rw("hello.txt"),
        open_rw("dir"),
        symlink("new-link"),
        symlink("fast-link"),
        symlink("missing/l"),
        link("new-hard"),
        link("dir/hard"),
        rename("hello.txt", "renamed"),
        rename("hello.txt", "dir/sub"),
        rename("hello.txt", "missing/x"),
        mknod("new-fifo"),
        mknod("fifo"),
        truncate("hello.txt"),
        truncate("dir"),
        truncate("missing"),
        chmod("hello.txt"),
        chmod("missing"),
        setxattr("hello.txt"),
        setxattr("missing"),
        access_w("hello.txt"),
        access_w("null"),
        access_w("missing"),
    ]
}

#[test]
fn mutations_fail_with_the_kernels_errno() {
    let tmp = TempDir::new("vfs-erofs");
    let Some(image) = build_image(&tmp, &["-b", "4096"]) else {
        return;
    };
    let Some(mnt) = kernel_mount(&image) else {
        return;
    };
    let env = Env::mmap(&image);
    for (name, ours, kernels) in mutations() {
        let expected = errno_of(kernels(mnt.path()));
        let got = ours(&env).err();
        assert_eq!(got, expected, "{name}: extfs {got:?}, kernel {expected:?}");
    }
    env.finish();
}

#[test]
fn getdents_resumes_at_every_lseek_offset() {
    let tmp = TempDir::new("vfs-getdents");
    let Some(image) = build_image(&tmp, &["-b", "4096"]) else {
        return;
    };
    let env = Env::mmap(&image);
    let full = env.list(b"/dir");
    assert!(full.len() > 300);
    for (i, entry) in full.iter().enumerate().step_by(13) {
        let dir = env.open(b"/dir", OpenFlags::DIRECTORY).unwrap();
        assert_eq!(dir.seek(&env.ctx, entry.3, Whence::Set), Ok(entry.3));
        let mut rest = DirentVec::default();
        dir.iter_dirents(&env.ctx, &mut rest).unwrap();
        let names: Vec<&[u8]> = rest.entries.iter().map(|e| e.0.as_slice()).collect();
        let expected: Vec<&[u8]> = full[i + 1..].iter().map(|e| e.0.as_slice()).collect();
        assert_eq!(names, expected, "resuming after entry {i}");
        dir.release(&env.ctx);
    }
    env.finish();
}

#[test]
fn seek_data_and_hole_match_kernel() {
    let tmp = TempDir::new("vfs-seek");
    let Some(image) = build_image(&tmp, &["-b", "4096"]) else {
        return;
    };
    let Some(mnt) = kernel_mount(&image) else {
        return;
    };
    let env = Env::mmap(&image);
    let file = env.open(b"holes", OpenFlags::empty()).unwrap();
    let host = fs::File::open(mnt.path().join("holes")).unwrap();
    use std::os::fd::AsRawFd;
    for offset in [
        0i64,
        4096,
        (1 << 20) + 3,
        2 << 20,
        (3 << 20) + 100,
        (4 << 20) - 1,
        4 << 20,
    ] {
        for (whence, raw) in [
            (Whence::Data, libc::SEEK_DATA),
            (Whence::Hole, libc::SEEK_HOLE),
        ] {
            // SAFETY: A valid descriptor.
            let kernel = unsafe { libc::lseek(host.as_raw_fd(), offset, raw) };
            let expected = match errno_of(kernel) {
                Some(e) => Err(e),
                None => Ok(kernel),
            };
            let got = file.seek(&env.ctx, offset, whence);
            assert_eq!(got, expected, "{whence:?} at {offset}");
        }
    }
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn statfs_and_xattrs_match_kernel() {
    let tmp = TempDir::new("vfs-statfs");
    let Some(image) = build_image(&tmp, &["-b", "4096"]) else {
        return;
    };
    let Some(mnt) = kernel_mount(&image) else {
        return;
    };
    let env = Env::mmap(&image);
    let ours = env.vfs.statfs_at(&env.ctx, &env.pop(b"/dir")).unwrap();
    // SAFETY: All-zero bytes are a valid `statfs`.
    let mut theirs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: A valid path and an out-parameter of the right type.
    let r = unsafe { libc::statfs(cpath(mnt.path()).as_ptr(), &mut theirs) };
    assert_eq!(r, 0);
    assert_eq!(ours.f_type, theirs.f_type);
    assert_eq!(ours.f_bsize, theirs.f_bsize);
    assert_eq!(ours.f_blocks, theirs.f_blocks, "f_blocks");
    assert_eq!(ours.f_bfree, theirs.f_bfree, "f_bfree");
    assert_eq!(ours.f_bavail, theirs.f_bavail, "f_bavail");
    assert_eq!(ours.f_files, theirs.f_files);
    assert_eq!(ours.f_ffree, theirs.f_ffree);
    assert_eq!(ours.f_namelen, theirs.f_namelen);

    let host = mnt.path().join("hello.txt");
    let mut names = env
        .vfs
        .list_xattr_at(&env.ctx, &env.pop(b"hello.txt"))
        .unwrap();
    names.sort();
    let mut kernel_names: Vec<Vec<u8>> = Vec::new();
    let mut buf = vec![0u8; 4096];
    // SAFETY: A valid path and a buffer of the given size.
    let n = unsafe { libc::llistxattr(cpath(&host).as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    for name in buf[..usize::try_from(n).unwrap()]
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
    {
        kernel_names.push(name.to_vec());
    }
    kernel_names.sort();
    assert_eq!(names, kernel_names);
    for name in &names {
        let value = env
            .vfs
            .get_xattr_at(
                &env.ctx,
                &env.pop(b"hello.txt"),
                &GetXattrOptions {
                    name: name.clone(),
                    size: 0,
                },
            )
            .unwrap();
        let cname = CString::new(name.clone()).unwrap();
        // SAFETY: Valid strings and a buffer of the given size.
        let n = unsafe {
            libc::lgetxattr(
                cpath(&host).as_ptr(),
                cname.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        assert_eq!(value, &buf[..usize::try_from(n).unwrap()]);
    }
    let missing = env.vfs.get_xattr_at(
        &env.ctx,
        &env.pop(b"hello.txt"),
        &GetXattrOptions {
            name: b"user.missing".to_vec(),
            size: 0,
        },
    );
    assert_eq!(missing, Err(Errno::ENODATA));
    env.finish();
}

/// Maps all of `path` privately and reads every page through its
/// translations; returns the bytes and how many pages came straight from
/// the image file.
fn read_through_mmap(env: &Env, path: &[u8], len: u64) -> (Vec<u8>, usize) {
    let file = env.open(path, OpenFlags::empty()).unwrap();
    let mut opts = MmapOpts {
        length: len,
        perms: AccessType::READ,
        max_perms: AccessType::ANY,
        private: true,
        ..MmapOpts::default()
    };
    file.configure_mmap(&env.ctx, &mut opts).unwrap();
    let mappable = opts.mappable.take().unwrap();
    let pages = len.div_ceil(4096) * 4096;
    let mut out = vec![0u8; usize::try_from(pages).unwrap()];
    let mut direct = 0;
    let mut at = 0;
    while at < pages {
        let ts = mappable
            .translate(at..at + 4096, at..pages, AccessType::READ)
            .unwrap();
        for t in ts {
            let start = usize::try_from(t.source.start).unwrap();
            let end = usize::try_from(t.source.end).unwrap();
            assert_eq!(
                t.file.read_at(t.offset, &mut out[start..end]),
                Ok(end - start)
            );
            if t.file.host_fd().is_some() {
                direct += (end - start) / 4096;
            }
            at = at.max(t.source.end);
        }
    }
    assert_eq!(
        mappable
            .translate(pages..pages + 4096, pages..pages + 4096, AccessType::READ)
            .err(),
        Some(Errno::EFAULT),
        "a page past the end is SIGBUS"
    );
    drop(opts);
    file.release(&env.ctx);
    // Past the end of the file the last page reads as zeros.
    assert!(out[usize::try_from(len).unwrap()..].iter().all(|&b| b == 0));
    out.truncate(usize::try_from(len).unwrap());
    (out, direct)
}

#[test]
fn mmap_translations_show_the_kernels_bytes() {
    let tmp = TempDir::new("vfs-mmap");
    let Some(image) = build_image(&tmp, &["-b", "4096"]) else {
        return;
    };
    let Some(mnt) = kernel_mount(&image) else {
        return;
    };
    for (make, mapped) in [(Env::mmap as fn(&Path) -> Env, true), (Env::pread, false)] {
        let env = make(&image);
        for name in ["random", "holes", "hello.txt"] {
            let expected = fs::read(mnt.path().join(name)).unwrap();
            let len = expected.len() as u64;
            let (bytes, direct) = read_through_mmap(&env, name.as_bytes(), len);
            assert!(bytes == expected, "{name} through mmap");
            if name == "random" {
                // All but the partial last page come from the image.
                assert_eq!(direct > 0, mapped, "{name}: {direct} direct pages");
            }
        }
        env.finish();
    }
}

#[test]
fn incompatible_image_is_refused_with_einval() {
    let tmp = TempDir::new("vfs-incompat");
    let Some(image) = build_image(&tmp, &["-O", "^metadata_csum"]) else {
        return;
    };
    let mut bytes = fs::read(&image).unwrap();
    // An INCOMPAT bit no kernel knows.
    bytes[1024 + 0x60 + 3] |= 0x80;
    let scope = refs::LeakCheckScope::new();
    let vfs = VirtualFilesystem::new();
    let ctx = SimpleContext::root();
    vfs.register_filesystem_type(Arc::new(ExtFilesystemType::EXT2))
        .unwrap();
    let mut opts = MountOptions::default();
    let source: Arc<dyn BlockSource> = Arc::new(bytes);
    opts.get_filesystem.internal_data = Some(Arc::new(source));
    let err = vfs.new_mount_namespace(&ctx, b"image", "ext2", &opts).err();
    assert_eq!(err, Some(Errno::EINVAL));
    let mut bad_data = MountOptions::default();
    bad_data.get_filesystem.data = "errors=panic-now".into();
    assert_eq!(
        vfs.new_mount_namespace(&ctx, b"image", "ext2", &bad_data)
            .err(),
        Some(Errno::EINVAL)
    );
    drop(vfs);
    scope.assert_clean();
}

#[test]
fn locks_and_parent_names_work_through_the_vfs() {
    let tmp = TempDir::new("vfs-locks");
    let Some(image) = build_image(&tmp, &["-b", "4096"]) else {
        return;
    };
    let env = Env::mmap(&image);
    let a = env
        .open(b"dir/sub/deeper/leaf", OpenFlags::empty())
        .unwrap();
    let b = env
        .open(b"/dir/sub/deeper/leaf", OpenFlags::empty())
        .unwrap();
    assert_eq!(
        a.lock_bsd(&env.ctx, abi_linux::FlockOp::EX | abi_linux::FlockOp::NB),
        Ok(())
    );
    assert_eq!(
        b.lock_bsd(&env.ctx, abi_linux::FlockOp::SH | abi_linux::FlockOp::NB),
        Err(Errno::EWOULDBLOCK)
    );
    let vd = a.virtual_dentry();
    let path = env.vfs.path_name(&env.root, &vd).unwrap();
    assert_eq!(path, b"/dir/sub/deeper/leaf");
    vd.release(&env.ctx);
    a.release(&env.ctx);
    b.release(&env.ctx);
    env.finish();
}
