//! Feature checks and checksum verification at open, against what Linux
//! does with the same images.

#[path = "support/common.rs"]
mod common;

use std::process::Command;

use abi_linux::Errno;
use common::{TempDir, run};
use extfs::checksum::crc32c;
use extfs::{Corruption, Error, Ext4, MountOptions, Structure};

const SB: usize = 1024;

/// Builds a small ext4 image with metadata checksums.
fn image(tmp: &TempDir) -> Option<Vec<u8>> {
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).ok()?;
    std::fs::write(src.join("file"), b"contents").ok()?;
    let img = tmp.path().join("img");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-t", "ext4", "-O", "metadata_csum,^has_journal"])
        .arg("-d")
        .arg(&src)
        .arg(&img)
        .arg("4M"))
    .ok()?;
    std::fs::read(img).ok()
}

/// Recomputes the superblock checksum after a patch.
fn reseal(image: &mut [u8]) {
    let sum = crc32c(!0, &image[SB..SB + 0x3FC]);
    image[SB + 0x3FC..SB + 0x400].copy_from_slice(&sum.to_le_bytes());
}

#[test]
fn unknown_incompat_feature_is_refused_with_einval() {
    let tmp = TempDir::new("feat");
    let Some(mut image) = image(&tmp) else {
        eprintln!("skipping: mkfs.ext4 unavailable");
        return;
    };
    // Set INCOMPAT bit 31, which no ext4 implementation defines.
    image[SB + 0x63] |= 0x80;
    reseal(&mut image);
    let err = Ext4::open(image, MountOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Incompatible(_)), "{err:?}");
    assert_eq!(Errno::from(err), Errno::EINVAL);
}

#[test]
fn compression_feature_is_refused_with_einval() {
    let tmp = TempDir::new("feat");
    let Some(mut image) = image(&tmp) else {
        eprintln!("skipping: mkfs.ext4 unavailable");
        return;
    };
    image[SB + 0x60] |= 0x01;
    reseal(&mut image);
    let err = Ext4::open(image, MountOptions::default()).unwrap_err();
    assert_eq!(err, Error::Incompatible("compression"));
}

#[test]
fn bad_superblock_checksum_is_eio_unless_verification_is_off() {
    let tmp = TempDir::new("feat");
    let Some(mut image) = image(&tmp) else {
        eprintln!("skipping: mkfs.ext4 unavailable");
        return;
    };
    // Change the volume label without resealing.
    image[SB + 0x78] ^= 0x55;
    let err = Ext4::open(image.clone(), MountOptions::default()).unwrap_err();
    assert_eq!(
        err,
        Error::Corrupt(Corruption::Checksum {
            structure: Structure::Superblock,
            ino: 0,
            location: 0
        })
    );
    assert_eq!(Errno::from(err), Errno::EIO);
    let mut lenient = MountOptions::default();
    lenient.verify_checksums = false;
    let fs = Ext4::open(image, lenient).expect("opens without verification");
    assert!(fs.resolve(b"/file").is_ok());
}

#[test]
fn bad_inode_checksum_is_reported_for_that_inode_only() {
    let tmp = TempDir::new("feat");
    let Some(mut image) = image(&tmp) else {
        eprintln!("skipping: mkfs.ext4 unavailable");
        return;
    };
    let fs = Ext4::open(image.clone(), MountOptions::default()).unwrap();
    let ino = fs.lookup(b"/file").unwrap();
    let generation = fs.inode(ino).unwrap().generation;
    // Find the inode record by its generation field and flip its mode bits.
    let inode_size = usize::from(fs.superblock().inode_size);
    let offset = (0..image.len() - inode_size)
        .step_by(inode_size)
        .find(|&o| {
            image[o + 0x64..o + 0x68] == generation.to_le_bytes()
                && image[o + 0x4..o + 0x8] == 8u32.to_le_bytes()
        })
        .expect("inode record");
    image[offset] ^= 0x04;
    let fs = Ext4::open(image, MountOptions::default()).unwrap();
    let err = fs.inode(ino).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Corrupt(Corruption::Checksum {
                structure: Structure::Inode,
                ..
            })
        ),
        "{err:?}"
    );
    assert!(fs.inode(extfs::ROOT_INO).is_ok());
}

#[test]
fn error_kinds_map_to_linux_errnos() {
    let tmp = TempDir::new("feat");
    let Some(image) = image(&tmp) else {
        eprintln!("skipping: mkfs.ext4 unavailable");
        return;
    };
    let fs = Ext4::open(image, MountOptions::default()).unwrap();
    let errno = |r: extfs::Result<u32>| Errno::from(r.unwrap_err());
    assert_eq!(errno(fs.lookup(b"/missing")), Errno::ENOENT);
    assert_eq!(errno(fs.lookup(b"/file/below")), Errno::ENOTDIR);
    assert_eq!(errno(fs.lookup(b"/file/")), Errno::ENOTDIR);
    let long = [b'x'; 256];
    let mut path = b"/".to_vec();
    path.extend_from_slice(&long);
    assert_eq!(errno(fs.lookup(&path)), Errno::ENAMETOOLONG);
    let root = fs.inode(extfs::ROOT_INO).unwrap();
    assert_eq!(
        Errno::from(fs.read_at(&root, 0, &mut [0; 4]).unwrap_err()),
        Errno::EISDIR
    );
    assert_eq!(Errno::from(fs.read_link(&root).unwrap_err()), Errno::EINVAL);
    assert_eq!(
        Errno::from(fs.get_xattr(&root, b"user.none").unwrap_err()),
        Errno::ENODATA
    );
}
