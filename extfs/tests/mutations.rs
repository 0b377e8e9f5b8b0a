//! Deterministic pseudo-random corruption of real images: every decoder
//! (superblock, group descriptors, inodes, extent trees, block maps,
//! directory blocks, htree nodes, xattrs, inline data) must return an
//! error or data, and never panic or hang, whatever the bytes are.
//!
//! This is what the cargo-fuzz targets in `fuzz/` explore at length; here
//! a few thousand mutations run on every `cargo test`.

#[path = "support/common.rs"]
mod common;
#[path = "support/xorshift.rs"]
mod xorshift;

use std::collections::HashSet;
use std::fs;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::{TempDir, run};
use extfs::{Error, Ext4, FileType, MountOptions, ROOT_INO};
use xorshift::XorShift;

/// Mutations per image.
const MUTATIONS: usize = 4000;
/// Bytes read per file: enough to cross several blocks and extents,
/// bounded so a corrupt size of petabytes does not take forever.
const READ_LIMIT: u64 = 256 * 1024;
/// Flags a hang, not slowness.
const HANG_LIMIT: Duration = Duration::from_secs(300);

/// Builds a small image full of metadata variety with mkfs.ext4 -d.
fn build_image(tmp: &TempDir, tag: &str, args: &[&str]) -> Option<Vec<u8>> {
    let src = tmp.path().join(format!("{tag}-src"));
    fs::create_dir_all(src.join("d/e")).ok()?;
    fs::write(src.join("small"), b"small file").ok()?;
    let mut data = vec![0u8; 20_000];
    XorShift(3).fill(&mut data);
    fs::write(src.join("d/e/f"), data).ok()?;
    fs::write(src.join("d/e/tiny"), b"inline").ok()?;
    let frag = fs::File::create(src.join("frag")).ok()?;
    for i in 0..40u64 {
        std::os::unix::fs::FileExt::write_all_at(&frag, b"piece", i * 3000).ok()?;
    }
    std::os::unix::fs::symlink("small", src.join("fast")).ok()?;
    std::os::unix::fs::symlink("s".repeat(200), src.join("slow")).ok()?;
    for i in 0..120 {
        fs::write(src.join("d").join(format!("entry-{i}")), b"").ok()?;
    }
    let _ = run(Command::new("setfattr")
        .args(["-n", "user.a", "-v", "value"])
        .arg(src.join("small")));
    let image = tmp.path().join(format!("{tag}.img"));
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-b", "1024", "-N", "256"])
        .args(args)
        .arg("-d")
        .arg(&src)
        .arg(&image)
        .arg("2M"))
    .ok()?;
    // Index the 120-entry directory so htree nodes are mutated too.
    let _ = Command::new("e2fsck")
        .args(["-f", "-y", "-D"])
        .arg(&image)
        .output();
    fs::read(&image).ok()
}

/// Exercises every read path of an image; returns how many operations
/// failed (any error is fine, only panics and hangs are not).
fn exercise(fs: &Ext4) -> usize {
    let mut errors = 0;
    let mut note = |r: Result<(), Error>| errors += usize::from(r.is_err());
    let mut visited = HashSet::new();
    let mut stack = vec![ROOT_INO];
    let mut buf = vec![0u8; 64 * 1024];
    let _ = fs.statfs();
    while let Some(ino) = stack.pop() {
        if !visited.insert(ino) || visited.len() > 10_000 {
            continue;
        }
        let inode = match fs.inode(ino) {
            Ok(i) => i,
            Err(e) => {
                note(Err(e));
                continue;
            }
        };
        note(fs.list_xattrs(&inode).map(|names| {
            for n in names {
                let _ = fs.get_xattr(&inode, &n);
            }
        }));
        match inode.file_type() {
            Some(FileType::Directory) => note((|| {
                let dir_inode = inode.clone();
                for e in fs.read_dir(&dir_inode)? {
                    let e = e?;
                    stack.push(e.ino);
                    fs.lookup_in(&dir_inode, e.name())?;
                }
                fs.lookup_in(&dir_inode, b"no-such-name")?;
                Ok(())
            })()),
            Some(FileType::Regular) => note((|| {
                let mut offset = 0;
                while offset < READ_LIMIT {
                    let n = fs.read_at(&inode, offset, &mut buf)?;
                    if n == 0 {
                        break;
                    }
                    offset += n as u64;
                }
                Ok(())
            })()),
            Some(FileType::Symlink) => note(fs.read_link(&inode).map(drop)),
            _ => {}
        }
    }
    for path in [&b"/d/e/f"[..], b"/fast", b"/d/entry-7", b"/d/../d/./e/"] {
        note(fs.resolve(path).map(drop));
    }
    note(fs.lookup(b"/slow").map(drop));
    errors
}

fn mutate_and_read(image: Vec<u8>, seed: u64) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut image = image;
        let mut rng = XorShift(seed);
        // Metadata and small files sit at the start of these images.
        let span = image.len().min(600 * 1024);
        let mut opened = 0;
        for i in 0..MUTATIONS {
            let count = 1 + (rng.next() % 8) as usize;
            let mut saved = Vec::with_capacity(count);
            for _ in 0..count {
                // Half the mutations hit the superblock, descriptors and
                // first inode table blocks, where every byte matters.
                let at = if rng.next().is_multiple_of(2) {
                    1024 + (rng.next() % (16 * 1024)) as usize
                } else {
                    (rng.next() % span as u64) as usize
                } % image.len();
                saved.push((at, image[at]));
                image[at] = rng.next() as u8;
            }
            let mut opts = MountOptions::default();
            opts.verify_checksums = i.is_multiple_of(4);
            if let Ok(fs) = Ext4::open(image.clone(), opts) {
                opened += 1;
                exercise(&fs);
            }
            for (at, byte) in saved.into_iter().rev() {
                image[at] = byte;
            }
        }
        let _ = tx.send(opened);
    });
    match rx.recv_timeout(HANG_LIMIT) {
        Ok(opened) => {
            eprintln!("seed {seed}: {opened} of {MUTATIONS} mutated images opened");
            // Most mutations leave the superblock intact, so most images
            // open and their contents are read.
            assert!(
                opened > MUTATIONS / 4,
                "seed {seed}: too few mutated images opened"
            );
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("seed {seed}: reading mutated images hung"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("seed {seed}: a decoder panicked"),
    }
}

#[test]
fn mutated_ext4_images_never_panic_or_hang() {
    let tmp = TempDir::new("mut4");
    let Some(image) = build_image(
        &tmp,
        "ext4",
        &["-t", "ext4", "-O", "inline_data,^has_journal", "-I", "256"],
    ) else {
        eprintln!("skipping: mkfs.ext4 could not build the image");
        return;
    };
    let fs = Ext4::open(image.clone(), MountOptions::default()).expect("pristine image opens");
    assert_eq!(exercise(&fs), 0, "the pristine image reads without errors");
    mutate_and_read(image, 0x9E37_79B9_7F4A_7C15);
}

#[test]
fn mutated_ext2_images_never_panic_or_hang() {
    let tmp = TempDir::new("mut2");
    let Some(image) = build_image(&tmp, "ext2", &["-t", "ext2", "-I", "128"]) else {
        eprintln!("skipping: mkfs.ext4 could not build the image");
        return;
    };
    let fs = Ext4::open(image.clone(), MountOptions::default()).expect("pristine image opens");
    assert_eq!(exercise(&fs), 0, "the pristine image reads without errors");
    mutate_and_read(image, 0x2545_F491_4F6C_DD1D);
}
