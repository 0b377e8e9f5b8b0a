//! Block sizes Linux cannot mount on 4 KiB-page machines (8, 16 and
//! 64 KiB): extfs's view is compared with e2fsprogs' own reader, through
//! `debugfs -R rdump`, which copies the tree out of the image.

#[path = "support/common.rs"]
mod common;
#[path = "../examples/extfs/manifest.rs"]
mod manifest;

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use common::{TempDir, run};
use extfs::{Ext4, MountOptions};
use sha2::{Digest, Sha256};

/// Keeps the `path type content` fields of manifest lines (debugfs rdump
/// keeps neither hard links, ownership nor directory sizes), without the
/// root and lost+found.
fn comparable(manifest: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = String::from_utf8_lossy(manifest)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 8 && f[0] != "/" && !f[0].starts_with("/lost+found"))
                .then(|| format!("{} {} {}", f[0], f[1], f[7]))
        })
        .collect();
    out.sort();
    out
}

/// The manifest of a tree copied out by debugfs rdump.
fn host_manifest(root: &Path) -> Vec<u8> {
    let mut lines = Vec::new();
    let mut stack = vec![(b"/".to_vec(), root.to_path_buf())];
    while let Some((rel, path)) = stack.pop() {
        let md = fs::symlink_metadata(&path).unwrap();
        let ft = md.file_type();
        let (t, content) = if ft.is_file() {
            (
                'f',
                manifest::hex(&Sha256::digest(fs::read(&path).unwrap())),
            )
        } else if ft.is_symlink() {
            (
                'l',
                fs::read_link(&path)
                    .unwrap()
                    .as_os_str()
                    .as_bytes()
                    .to_vec(),
            )
        } else {
            ('d', b"-".to_vec())
        };
        lines.push(manifest::line(
            &rel,
            t,
            md.mode(),
            md.uid(),
            md.gid(),
            md.size(),
            md.nlink(),
            &content,
        ));
        if ft.is_dir() {
            for e in fs::read_dir(&path).unwrap() {
                let e = e.unwrap();
                let mut child = rel.clone();
                if child.len() > 1 {
                    child.push(b'/');
                }
                child.extend_from_slice(e.file_name().as_bytes());
                stack.push((child, e.path()));
            }
        }
    }
    lines.concat()
}

fn check_block_size(block_size: u32) {
    let tmp = TempDir::new("bigblock");
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("dir/sub")).unwrap();
    fs::write(src.join("small"), b"small").unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect();
    fs::write(src.join("dir/big"), &data).unwrap();
    std::os::unix::fs::symlink("small", src.join("fast")).unwrap();
    std::os::unix::fs::symlink("s".repeat(300), src.join("slow")).unwrap();
    for i in 0..300 {
        fs::write(src.join("dir/sub").join(format!("file-{i}")), i.to_string()).unwrap();
    }
    let image = tmp.path().join("image");
    let made = run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-t", "ext4", "-b", &block_size.to_string()])
        .arg("-d")
        .arg(&src)
        .arg(&image)
        .arg("64M"));
    if let Err(e) = made {
        eprintln!("skipping {block_size}-byte blocks: {e}");
        return;
    }
    let fs = Ext4::open(fs::read(&image).unwrap(), MountOptions::default()).unwrap();
    assert_eq!(fs.block_size(), block_size);
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    let request = format!("rdump / {}", out.display());
    run(Command::new("debugfs").arg("-R").arg(&request).arg(&image)).unwrap();
    let ours = comparable(&manifest::library_manifest(&fs).unwrap());
    let theirs = comparable(&host_manifest(&out));
    assert!(
        ours.len() > 300,
        "{block_size}-byte blocks: the tree was read"
    );
    assert_eq!(ours, theirs, "{block_size}-byte blocks");
}

#[test]
fn blocks_of_8k_read_like_debugfs() {
    check_block_size(8192);
}

#[test]
fn blocks_of_16k_read_like_debugfs() {
    check_block_size(16384);
}

#[test]
fn blocks_of_64k_read_like_debugfs() {
    check_block_size(65536);
}
