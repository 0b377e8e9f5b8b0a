//! Images built with mkfs.ext4 from a varied directory tree, read through
//! extfs and through the Linux kernel (read-only loop mount); the two views
//! must be identical.
//!
//! The tests need root (for mknod and loop mounts); without it, or where
//! the kernel refuses a loop mount, they print why and skip.

#[path = "support/common.rs"]
mod common;
#[path = "support/kernel.rs"]
mod kernel;
#[path = "../examples/extfs/manifest.rs"]
mod manifest;
#[path = "support/xorshift.rs"]
mod xorshift;

use std::fs::{self, File};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::{TempDir, run};
use extfs::{Ext4, FileSource, FileType, MmapSource, MountOptions};
use kernel::{Mount, first_difference, is_root, kernel_manifest};
use xorshift::XorShift;

/// What to put in the source tree besides the basic files.
#[derive(Clone, Copy, Default)]
struct Extras {
    /// Entries of a big directory indexed as an htree (0 for none).
    htree: usize,
    /// A file of 1,500 separate extents (a deep extent tree).
    fragmented: bool,
    /// The htree hash algorithm of new directories.
    hash_alg: Option<&'static str>,
    /// Also compare the in-memory and memory-mapped sources.
    all_sources: bool,
    /// Mark the superblock's htree hashes as unsigned-char ones.
    unsigned_hash: bool,
    /// The index depth (`indirect_levels`) debugfs must report.
    index_levels: u8,
}

fn write_random(path: &Path, len: usize, seed: u64) {
    let mut data = vec![0u8; len];
    XorShift(seed).fill(&mut data);
    fs::write(path, data).expect("write file");
}

/// Fills `dir` with files of every type and shape the tests cover.
fn populate(dir: &Path, extras: Extras) {
    fs::write(dir.join("hello.txt"), b"hello, world\n").unwrap();
    fs::write(dir.join("empty"), b"").unwrap();
    fs::write(dir.join("tiny"), b"x").unwrap();
    write_random(&dir.join("random-1m"), 1 << 20, 1);
    write_random(&dir.join("odd-size"), 4096 * 3 + 17, 2);
    write_random(&dir.join("inline-59"), 59, 3);
    write_random(&dir.join("inline-100"), 100, 4);

    // Holes at the start, in the middle and at the end.
    let f = File::create(dir.join("holes")).unwrap();
    f.write_all_at(b"middle", 2 << 20).unwrap();
    f.write_all_at(b"later", (5 << 20) + 13).unwrap();
    f.set_len(6 << 20).unwrap();

    if extras.fragmented {
        let f = File::create(dir.join("fragmented")).unwrap();
        let mut block = vec![0u8; 4096];
        let mut rng = XorShift(5);
        for i in 0..1500u64 {
            rng.fill(&mut block);
            f.write_all_at(&block, i * 8192).unwrap();
        }
    }

    let sub = dir.join("dir/sub/deeper/deepest");
    fs::create_dir_all(&sub).unwrap();
    fs::write(sub.join("leaf"), b"deep leaf\n").unwrap();
    fs::write(dir.join("dir/sub/file"), b"in sub\n").unwrap();
    let empty_dir = dir.join("empty-dir");
    fs::create_dir(&empty_dir).unwrap();

    // Symlinks: fast, at the 59/60-byte fast/slow boundary, slow, dangling,
    // to a directory, and a chain.
    let link = |target: &[u8], name: &str| {
        use std::os::unix::ffi::OsStrExt;
        std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), dir.join(name)).unwrap();
    };
    link(b"hello.txt", "fast-link");
    link(&[b'a'; 59], "link-59");
    link(&[b'b'; 60], "link-60");
    link(&[b'c'; 300], "slow-link");
    link(b"/nowhere/at/all", "dangling");
    link(b"dir/sub", "dir-link");
    link(b"fast-link", "chain");
    link(b"loop-b", "loop-a");
    link(b"loop-a", "loop-b");
    link(b"../../hello.txt", "dir/sub/up-link");

    fs::hard_link(dir.join("hello.txt"), dir.join("hard-link")).unwrap();
    fs::hard_link(dir.join("hello.txt"), dir.join("dir/hard-link-2")).unwrap();

    // Odd names: non-UTF-8 bytes and a 255-byte name.
    {
        use std::os::unix::ffi::OsStrExt;
        fs::write(
            dir.join(std::ffi::OsStr::from_bytes(b"bytes-\xff\xfe")),
            b"raw",
        )
        .unwrap();
    }
    fs::write(dir.join("n".repeat(255)), b"long name").unwrap();

    // Permissions and ownership, including 32-bit ids.
    let perm =
        |p: &Path, mode: u32| fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    fs::write(dir.join("setuid"), b"#!/bin/sh\n").unwrap();
    perm(&dir.join("setuid"), 0o4755);
    fs::create_dir(dir.join("sticky")).unwrap();
    perm(&dir.join("sticky"), 0o1777);
    fs::write(dir.join("owned"), b"owned").unwrap();
    std::os::unix::fs::chown(dir.join("owned"), Some(70000), Some(123_456)).unwrap();

    // Special files.
    run(Command::new("mkfifo").arg(dir.join("fifo"))).unwrap();
    run(Command::new("mknod")
        .arg(dir.join("null"))
        .args(["c", "1", "3"]))
    .unwrap();
    run(Command::new("mknod")
        .arg(dir.join("big-dev"))
        .args(["b", "259", "70000"]))
    .unwrap();
    let sock = std::os::unix::net::UnixListener::bind(dir.join("socket")).unwrap();
    drop(sock);

    // Extended attributes: small ones in the inode, a large one in a block.
    let setfattr = |name: &str, value: &str, file: &str| {
        run(Command::new("setfattr")
            .args(["-n", name, "-v", value])
            .arg(dir.join(file)))
        .unwrap();
    };
    setfattr("user.comment", "a comment", "hello.txt");
    setfattr("trusted.secret", "0x0001020304", "hello.txt");
    setfattr("user.big", &"v".repeat(400), "random-1m");
    setfattr("user.on-dir", "dir value", "dir");
}

/// Creates a directory of `count` entries through the kernel (on a
/// read-write loop mount of `image`), which indexes it as an htree with the
/// superblock's default hash.
fn fill_big_dir(image: &Path, count: usize) {
    let mount = Mount::new(image, true).unwrap();
    let big = mount.path().join("big-dir");
    fs::create_dir(&big).unwrap();
    for i in 0..count {
        File::create(big.join(format!("entry-{i:05}-with-a-longer-name"))).unwrap();
    }
    // Names whose bytes differ between signed and unsigned hashing.
    for i in 0..200u8 {
        use std::os::unix::ffi::OsStrExt;
        let name = [
            b'h',
            b'i',
            b'-',
            0x80 | (i % 100),
            0xC0 | (i / 2),
            b'0' + i % 10,
        ];
        File::create(big.join(std::ffi::OsStr::from_bytes(&name))).unwrap();
    }
}

/// The extended attributes of a file as getfattr shows them through the
/// kernel, one `name=0xhex` line each, sorted.
fn kernel_xattrs(path: &Path) -> Vec<String> {
    let out = run(Command::new("getfattr")
        .args(["-h", "-d", "-m", "-", "-e", "hex", "--absolute-names"])
        .arg(path))
    .unwrap_or_default();
    let mut lines: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| l.contains('=') && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// The same view through extfs.
fn extfs_xattrs(fs: &Ext4, path: &[u8]) -> Vec<String> {
    let inode = fs.inode(fs.lookup(path).unwrap()).unwrap();
    let mut lines: Vec<String> = fs
        .list_xattrs(&inode)
        .unwrap()
        .into_iter()
        .map(|name| {
            let value = fs.get_xattr(&inode, &name).unwrap();
            format!(
                "{}=0x{}",
                String::from_utf8_lossy(&name),
                String::from_utf8_lossy(&manifest::hex(&value))
            )
        })
        .collect();
    lines.sort();
    lines
}

/// Iteration resumed at any entry's cookie continues with exactly the
/// entries that followed it (checked at up to 50 cookies per directory).
fn check_resume(fs: &Ext4, dir: &extfs::Inode, tag: &str) {
    let all: Vec<(Vec<u8>, u64)> = fs
        .read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.name().to_vec(), e.next_cookie)
        })
        .collect();
    let step = (all.len() / 50).max(1);
    for k in (0..all.len()).step_by(step) {
        let rest: Vec<Vec<u8>> = fs
            .read_dir_at(dir, all[k].1)
            .unwrap()
            .map(|e| e.unwrap().name().to_vec())
            .collect();
        let expected: Vec<Vec<u8>> = all[k + 1..].iter().map(|(n, _)| n.clone()).collect();
        assert!(
            rest == expected,
            "{tag}: resuming directory {} after entry {k}",
            dir.ino
        );
    }
}

/// Builds an image with `mkfs_args` from a populated tree and compares
/// extfs's view of it with the kernel's.
fn check_image(tag: &str, mkfs_args: &[&str], size: &str, extras: Extras) {
    if !is_root() {
        eprintln!("skipping {tag}: loop mounts and mknod need root");
        return;
    }
    let tmp = TempDir::new(tag);
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    populate(&src, extras);
    let image = tmp.path().join("image");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F"])
        .args(mkfs_args)
        .arg("-d")
        .arg(&src)
        .arg(&image)
        .arg(size))
    .unwrap();
    if extras.htree > 0 {
        // The kernel indexes big directories as it creates them, with the
        // hash algorithm and signedness the superblock asks for.
        if extras.unsigned_hash {
            run(Command::new("debugfs")
                .args(["-w", "-R", "ssv flags 2"])
                .arg(&image))
            .unwrap();
        }
        if let Some(alg) = extras.hash_alg {
            run(Command::new("tune2fs")
                .args(["-E", &format!("hash_alg={alg}")])
                .arg(&image))
            .unwrap();
        }
        fill_big_dir(&image, extras.htree);
        let dump = run(Command::new("debugfs")
            .env("DEBUGFS_PAGER", "__none__")
            .args(["-R", "htree_dump /big-dir"])
            .arg(&image))
        .unwrap();
        let levels = format!("Indirect levels: {}", extras.index_levels);
        assert!(
            String::from_utf8_lossy(&dump).contains(&levels),
            "{tag}: big-dir is not indexed with {levels}: {}",
            String::from_utf8_lossy(&dump[..dump.len().min(300)])
        );
    }

    let fs = Ext4::open(
        FileSource::new(File::open(&image).unwrap()).unwrap(),
        MountOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{tag}: open: {e}"));
    let ours = manifest::library_manifest(&fs).unwrap_or_else(|e| panic!("{tag}: manifest: {e}"));

    if extras.all_sources {
        // The in-memory and mapped sources give the same view.
        let bytes = fs::read(&image).unwrap();
        let in_memory = Ext4::open(bytes, MountOptions::default()).unwrap();
        assert!(
            manifest::library_manifest(&in_memory).unwrap() == ours,
            "{tag}: Vec source differs"
        );
        // SAFETY: The image is private to this test and not modified while mapped.
        let mapped = unsafe { MmapSource::new(&File::open(&image).unwrap()) }.unwrap();
        let mapped = Ext4::open(mapped, MountOptions::default()).unwrap();
        assert!(
            manifest::library_manifest(&mapped).unwrap() == ours,
            "{tag}: mmap source differs"
        );
    }

    // Every path resolves by lookup (hash-indexed in big directories).
    for line in ours.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        let path = line.split(|&c| c == b'\t').next().unwrap();
        fs.lookup(path)
            .unwrap_or_else(|e| panic!("{tag}: lookup {}: {e}", String::from_utf8_lossy(path)));
    }
    for dir in ["/", "/dir", "/empty-dir", "/big-dir"] {
        if let Ok(ino) = fs.lookup(dir.as_bytes()) {
            check_resume(&fs, &fs.inode(ino).unwrap(), tag);
        }
    }
    if extras.htree > 0 {
        let dir = fs.inode(fs.lookup(b"/big-dir").unwrap()).unwrap();
        // EXT4_INDEX_FL: the directory really is hash-indexed.
        assert_ne!(
            dir.flags & 0x1000,
            0,
            "{tag}: big-dir is not an htree directory"
        );
        assert_eq!(
            fs.lookup_in(&dir, b"entry-12345-with-a-longer-nam")
                .unwrap(),
            None
        );
    }

    let mount = match Mount::new(&image, false) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("skipping kernel comparison of {tag}: {e}");
            return;
        }
    };
    let theirs = kernel_manifest(mount.path()).unwrap();
    assert!(
        ours == theirs,
        "{tag}: manifests differ at {}",
        first_difference(&ours, &theirs)
    );
    // Every statfs figure, as the kernel computes it for this image.
    let st = fs.statfs();
    let kernel = run(Command::new("stat")
        .args(["-f", "-c", "%S %b %f %a %c %d %l %i"])
        .arg(mount.path()))
    .unwrap();
    // stat(1) prints f_fsid.val[0] as the high half.
    let fsid = (u64::from(st.fsid[0]) << 32) | u64::from(st.fsid[1]);
    assert_eq!(
        String::from_utf8_lossy(&kernel).trim(),
        format!(
            "{} {} {} {} {} {} {} {fsid:x}",
            st.block_size,
            st.blocks,
            st.free_blocks,
            st.available_blocks,
            st.inodes,
            st.free_inodes,
            st.name_max
        ),
        "{tag}: statfs"
    );

    // Path resolution, symlinks followed or not, agrees with the kernel's
    // stat and lstat, errors included.
    for path in [
        "/chain",
        "/dir-link/file",
        "/dir-link/up-link",
        "/dir/sub/up-link",
        "/loop-a",
        "/dangling",
        "/hello.txt/",
        "/dir-link/",
        "/dir/../dir/./sub",
        "/missing/x",
        "/hello.txt/x",
        "/link-60",
        "/sticky/..",
    ] {
        use std::os::unix::fs::MetadataExt;
        let on_mount = mount.path().join(&path[1..]);
        for (follow, kernel) in [
            (true, fs::metadata(&on_mount)),
            (false, fs::symlink_metadata(&on_mount)),
        ] {
            let ours = if follow {
                fs.resolve(path.as_bytes())
            } else {
                fs.lookup(path.as_bytes())
            };
            match (ours, kernel) {
                (Ok(ino), Ok(md)) => {
                    assert_eq!(u64::from(ino), md.ino(), "{tag}: {path} (follow {follow})")
                }
                (Err(e), Err(k)) => assert_eq!(
                    Some(abi_linux::Errno::from(e).raw()),
                    k.raw_os_error(),
                    "{tag}: {path} (follow {follow})"
                ),
                (ours, kernel) => {
                    panic!("{tag}: {path} (follow {follow}): extfs {ours:?}, kernel {kernel:?}")
                }
            }
        }
    }
    for path in ["/hello.txt", "/random-1m", "/dir", "/fast-link"] {
        let kernel = kernel_xattrs(&mount.path().join(&path[1..]));
        assert_eq!(
            extfs_xattrs(&fs, path.as_bytes()),
            kernel,
            "{tag}: xattrs of {path}"
        );
    }
}

#[test]
fn ext2_without_extents_matches_kernel() {
    check_image(
        "ext2",
        &["-t", "ext2", "-b", "4096"],
        "64M",
        Extras::default(),
    );
}

#[test]
fn ext2_with_1k_blocks_matches_kernel() {
    check_image(
        "ext2-1k",
        &["-t", "ext2", "-b", "1024"],
        "64M",
        Extras {
            fragmented: true,
            ..Extras::default()
        },
    );
}

#[test]
fn ext3_matches_kernel() {
    check_image(
        "ext3",
        &["-t", "ext3", "-b", "4096"],
        "64M",
        Extras::default(),
    );
}

#[test]
fn ext4_default_matches_kernel() {
    check_image(
        "ext4",
        &["-t", "ext4", "-b", "4096"],
        "128M",
        Extras {
            htree: 20_000,
            fragmented: true,
            all_sources: true,
            ..Extras::default()
        },
    );
}

#[test]
fn ext4_without_64bit_and_metadata_csum_matches_kernel() {
    check_image(
        "ext4-32",
        &["-t", "ext4", "-b", "4096", "-O", "^64bit,^metadata_csum"],
        "64M",
        Extras::default(),
    );
}

#[test]
fn ext4_inline_data_matches_kernel() {
    check_image(
        "inline",
        &["-t", "ext4", "-b", "4096", "-O", "inline_data"],
        "64M",
        Extras::default(),
    );
}

#[test]
fn ext4_with_2k_blocks_and_128_byte_inodes_matches_kernel() {
    check_image(
        "i128",
        &["-t", "ext4", "-b", "2048", "-I", "128"],
        "64M",
        Extras::default(),
    );
}

#[test]
fn ext4_with_1k_blocks_deep_extents_and_two_level_htree_matches_kernel() {
    // 6,000 entries in 1 KiB blocks need a two-level index.
    check_image(
        "ext4-1k",
        &["-t", "ext4", "-b", "1024"],
        "64M",
        Extras {
            fragmented: true,
            htree: 6000,
            index_levels: 1,
            ..Extras::default()
        },
    );
}

#[test]
fn ext4_meta_bg_matches_kernel() {
    check_image(
        "meta-bg",
        &["-t", "ext4", "-b", "1024", "-O", "meta_bg,^resize_inode"],
        "64M",
        Extras::default(),
    );
}

#[test]
fn ext4_bigalloc_matches_kernel() {
    // 16 KiB clusters of 4 KiB blocks: statfs's free counts are clusters.
    check_image(
        "bigalloc",
        &["-t", "ext4", "-b", "4096", "-C", "16384", "-O", "bigalloc"],
        "128M",
        Extras::default(),
    );
}

#[test]
fn ext4_sparse_super2_matches_kernel() {
    check_image(
        "sparse-super2",
        &["-t", "ext4", "-b", "1024", "-O", "sparse_super2"],
        "64M",
        Extras::default(),
    );
}

#[test]
fn ext4_unsigned_half_md4_htree_matches_kernel() {
    check_image(
        "md4-unsigned",
        &["-t", "ext4", "-b", "1024", "-O", "^metadata_csum"],
        "128M",
        Extras {
            htree: 3000,
            index_levels: 1,
            hash_alg: Some("half_md4"),
            unsigned_hash: true,
            ..Extras::default()
        },
    );
}

#[test]
fn ext4_tea_hash_htree_matches_kernel() {
    check_image(
        "tea",
        &["-t", "ext4", "-b", "1024"],
        "128M",
        Extras {
            htree: 3000,
            index_levels: 1,
            hash_alg: Some("tea"),
            ..Extras::default()
        },
    );
}

#[test]
fn ext3_legacy_hash_htree_matches_kernel() {
    check_image(
        "legacy",
        &["-t", "ext3", "-b", "1024"],
        "128M",
        Extras {
            htree: 3000,
            index_levels: 1,
            hash_alg: Some("legacy"),
            ..Extras::default()
        },
    );
}

/// Reads `len` bytes at `offset` through the kernel.
fn kernel_pread(path: &Path, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    let n = File::open(path).unwrap().read_at(&mut buf, offset).unwrap();
    buf.truncate(n);
    buf
}

/// Files above 4 GiB, with extents and with a triple-indirect block map.
fn check_huge_file(tag: &str, mkfs_args: &[&str]) {
    if !is_root() {
        eprintln!("skipping {tag}: loop mounts need root");
        return;
    }
    let tmp = TempDir::new(tag);
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    let f = File::create(src.join("huge")).unwrap();
    let marks: [u64; 4] = [0, (4 << 30) - 3, (4 << 30) + 4096 * 7 + 5, (5 << 30) + 100];
    for (i, &at) in marks.iter().enumerate() {
        f.write_all_at(format!("mark {i} at {at}").as_bytes(), at)
            .unwrap();
    }
    f.set_len((5 << 30) + 4096).unwrap();
    drop(f);
    let image = tmp.path().join("image");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F"])
        .args(mkfs_args)
        .arg("-d")
        .arg(&src)
        .arg(&image)
        .arg("64M"))
    .unwrap();
    let fs = Ext4::open(
        FileSource::new(File::open(&image).unwrap()).unwrap(),
        MountOptions::default(),
    )
    .unwrap();
    let inode = fs.inode(fs.lookup(b"/huge").unwrap()).unwrap();
    assert_eq!(inode.file_type(), Some(FileType::Regular));
    let mount = match Mount::new(&image, false) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("skipping kernel comparison of {tag}: {e}");
            return;
        }
    };
    let path = mount.path().join("huge");
    assert_eq!(inode.size, fs::metadata(&path).unwrap().len());
    for &at in &marks {
        for offset in [at.saturating_sub(5000), at, at + 1] {
            let mut ours = vec![0u8; 10_000];
            let n = fs.read_at(&inode, offset, &mut ours).unwrap();
            ours.truncate(n);
            assert!(
                ours == kernel_pread(&path, offset, 10_000),
                "{tag}: bytes at {offset} differ"
            );
        }
    }
}

#[test]
fn huge_extent_file_reads_like_kernel() {
    check_huge_file("huge-ext4", &["-t", "ext4"]);
}

#[test]
fn huge_block_mapped_file_reads_like_kernel() {
    check_huge_file("huge-ext2", &["-t", "ext2"]);
}
