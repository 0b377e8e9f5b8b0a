//! The escape suite: a hostile client tries every classic way out of the
//! export. Each attempt fails with the errno Linux gives for the same path
//! inside a chroot of the export, or `EINVAL` for a name that is not a
//! single component (`..`, `.`, empty, containing `/`), which the gofer
//! refuses outright instead of resolving.

use crate::common::{TempDir, our_client, wait_no_fids};
use abi_linux::Errno;
use goferfs::{ClientOptions, Qid, getattr};
use std::path::Path;

const O_RDONLY: u32 = libc::O_RDONLY as u32;
const O_RDWR: u32 = libc::O_RDWR as u32;

/// An export `root/export` next to `root/outside/secret`.
fn layout() -> (TempDir, std::path::PathBuf, std::path::PathBuf) {
    let t = TempDir::new("escape");
    let export = t.path().join("export");
    let outside = t.path().join("outside");
    std::fs::create_dir(&export).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"outside").unwrap();
    (t, export, outside)
}

#[test]
fn dotdot_dot_empty_and_slash_names_are_einval_everywhere() {
    let (_t, export, _) = layout();
    let (server, c) = our_client(&export, false, &ClientOptions::default());
    let root = c.attach(b"root", b"").unwrap();
    for bad in [&b".."[..], b".", b"", b"../outside", b"a/b", b"/etc"] {
        assert_eq!(
            root.walk(&[bad]).unwrap_err(),
            Errno::EINVAL,
            "walk {bad:?}"
        );
        assert_eq!(root.mkdir(bad, 0o755, 0).unwrap_err(), Errno::EINVAL);
        assert_eq!(root.symlink(bad, b"x", 0).unwrap_err(), Errno::EINVAL);
        assert_eq!(root.unlinkat(bad, 0).unwrap_err(), Errno::EINVAL);
        assert_eq!(root.renameat(bad, &root, b"x").unwrap_err(), Errno::EINVAL);
        let mut f = root.walk::<&str>(&[]).unwrap();
        assert_eq!(f.lcreate(bad, O_RDWR, 0o644, 0).unwrap_err(), Errno::EINVAL);
    }
    drop(root);
    drop(c);
    assert_eq!(wait_no_fids(&server), 0);
}

#[test]
fn symlink_pointing_out_is_never_followed() {
    let (_t, export, outside) = layout();
    std::os::unix::fs::symlink(outside.join("secret"), export.join("abs")).unwrap();
    std::os::unix::fs::symlink("../outside", export.join("rel")).unwrap();
    let (_s, c) = our_client(&export, false, &ClientOptions::default());
    let root = c.attach(b"root", b"").unwrap();
    // The link itself is reachable and reads as a link.
    let mut abs = root.walk(&["abs"]).unwrap();
    assert_eq!(abs.qid().ty, Qid::TYPE_SYMLINK);
    let attr = abs.getattr(getattr::BASIC).unwrap();
    assert_eq!(attr.mode & libc::S_IFMT, libc::S_IFLNK);
    assert_eq!(
        abs.readlink().unwrap(),
        outside.join("secret").as_os_str().as_encoded_bytes()
    );
    // Opening it would follow it: ELOOP, as open(O_NOFOLLOW) gives.
    assert_eq!(abs.lopen(O_RDONLY).unwrap_err(), Errno::ELOOP);
    // Walking through a link to a directory outside: inside a chroot
    // "../outside/secret" from the root does not exist either (ENOENT).
    assert_eq!(root.walk(&["rel", "secret"]).unwrap_err(), Errno::ENOENT);
    let rel = root.walk(&["rel"]).unwrap();
    assert_eq!(rel.walk(&["secret"]).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(rel.mkdir(b"planted", 0o755, 0).unwrap_err(), Errno::ENOTDIR);
    let mut via = rel.walk::<&str>(&[]).unwrap();
    assert_eq!(
        via.lcreate(b"planted", O_RDWR, 0o644, 0).unwrap_err(),
        Errno::ENOTDIR
    );
    assert!(!outside.join("planted").exists());
}

#[test]
fn create_over_planted_symlink_does_not_write_outside() {
    let (_t, export, outside) = layout();
    std::os::unix::fs::symlink(outside.join("created"), export.join("victim")).unwrap();
    let (_s, c) = our_client(&export, false, &ClientOptions::default());
    let root = c.attach(b"root", b"").unwrap();
    let mut f = root.walk::<&str>(&[]).unwrap();
    assert_eq!(
        f.lcreate(b"victim", O_RDWR, 0o644, 0).unwrap_err(),
        Errno::EEXIST
    );
    assert!(!outside.join("created").exists());
}

/// A directory fid keeps naming the directory it was walked to, whatever
/// happens to the name later; a fresh walk sees the symlink and stops.
#[test]
fn symlink_swapped_in_after_a_walk_step_cannot_escape() {
    let (_t, export, outside) = layout();
    std::fs::create_dir(export.join("d")).unwrap();
    let (_s, c) = our_client(&export, false, &ClientOptions::default());
    let root = c.attach(b"root", b"").unwrap();
    let d = root.walk(&["d"]).unwrap();
    std::fs::rename(export.join("d"), export.join("d.old")).unwrap();
    std::os::unix::fs::symlink(&outside, export.join("d")).unwrap();
    assert_eq!(d.walk(&["secret"]).unwrap_err(), Errno::ENOENT);
    assert_eq!(root.walk(&["d", "secret"]).unwrap_err(), Errno::ENOENT);
}

/// A host thread keeps swapping `d` between a real directory and a symlink
/// to the outside while the client walks `d/secret` and reads it: every
/// successful read returns the inside content.
#[test]
fn racing_symlink_swap_never_reaches_outside() {
    let (_t, export, outside) = layout();
    let real = export.join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("secret"), b"inside").unwrap();
    std::os::unix::fs::symlink(&outside, export.join("evil")).unwrap();
    std::os::unix::fs::symlink("real", export.join("tmp")).unwrap();
    std::fs::rename(&real, export.join("d")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (export, stop) = (export.clone(), stop.clone());
        std::thread::spawn(move || {
            let (d, evil, parked) = (export.join("d"), export.join("evil"), export.join("parked"));
            for _ in 0..20_000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                // d: real dir -> symlink to outside -> real dir.
                std::fs::rename(&d, &parked).unwrap();
                std::fs::rename(&evil, &d).unwrap();
                std::fs::rename(&d, &evil).unwrap();
                std::fs::rename(&parked, &d).unwrap();
            }
        })
    };
    let (_s, c) = our_client(&export, false, &ClientOptions::default());
    let root = c.attach(b"root", b"").unwrap();
    let read_secret = || {
        let mut f = root.walk(&["d", "secret"]).ok()?;
        f.lopen(O_RDONLY).ok()?;
        let mut buf = [0u8; 16];
        let n = f.read_at(&mut buf, 0).unwrap();
        Some(buf[..n].to_vec())
    };
    // At least 2000 racing attempts, and on until one read succeeded: that
    // is bounded, since once the swapper has done its rounds `d` stays the
    // real directory and the next read must succeed.
    let (mut attempts, mut inside_reads) = (0, 0);
    while attempts < 2000 || inside_reads == 0 {
        let racing = !swapper.is_finished();
        attempts += 1;
        match read_secret() {
            Some(content) => {
                assert_eq!(content, b"inside");
                inside_reads += 1;
            }
            None => assert!(racing, "the walk failed with the swapper stopped"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn device_nodes_are_neither_created_nor_opened() {
    let (_t, export, _) = layout();
    let (_s, c) = our_client(&export, false, &ClientOptions::default());
    let root = c.attach(b"root", b"").unwrap();
    assert_eq!(
        root.mknod(b"null", libc::S_IFCHR | 0o666, 1, 3, 0)
            .unwrap_err(),
        Errno::EPERM
    );
    if !is_root() {
        eprintln!("skipping the host device node half: needs CAP_MKNOD");
        return;
    }
    nix::sys::stat::mknod(
        &export.join("hostnull"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        libc::makedev(1, 3),
    )
    .unwrap();
    let mut n = root.walk(&["hostnull"]).unwrap();
    // As on a nodev mount.
    assert_eq!(n.lopen(O_RDONLY).unwrap_err(), Errno::EACCES);
}

#[test]
fn read_only_export_refuses_every_change_with_erofs() {
    let (_t, export, _) = layout();
    std::fs::write(export.join("f"), b"data").unwrap();
    let (_s, c) = our_client(&export, true, &ClientOptions::default());
    let root = c.attach(b"root", b"").unwrap();
    assert_eq!(root.mkdir(b"d", 0o755, 0).unwrap_err(), Errno::EROFS);
    assert_eq!(root.unlinkat(b"f", 0).unwrap_err(), Errno::EROFS);
    assert_eq!(root.symlink(b"l", b"f", 0).unwrap_err(), Errno::EROFS);
    let mut w = root.walk(&["f"]).unwrap();
    assert_eq!(w.lopen(O_RDWR).unwrap_err(), Errno::EROFS);
    assert_eq!(w.set_xattr(b"user.x", b"1", 0).unwrap_err(), Errno::EROFS);
    let attr = goferfs::SetAttr {
        valid: goferfs::setattr::SIZE,
        ..Default::default()
    };
    assert_eq!(w.setattr(&attr).unwrap_err(), Errno::EROFS);
    let mut f = root.walk::<&str>(&[]).unwrap();
    assert_eq!(
        f.lcreate(b"new", O_RDWR, 0o644, 0).unwrap_err(),
        Errno::EROFS
    );
    w.lopen(O_RDONLY).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(w.read_at(&mut buf, 0).unwrap(), 4);
    assert_eq!(std::fs::read(export.join("f")).unwrap(), b"data");
    assert!(!Path::new(&export.join("d")).exists());
}

/// The mode bits of `path` on the host.
fn host_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn no_setuid_or_setgid_file_is_planted_unless_the_export_allows_it() {
    for allow in [false, true] {
        let (_t, export, _) = layout();
        std::fs::write(export.join("prog"), b"#!/bin/sh\n").unwrap();
        let mut config = goferfs::ServerConfig::new(&export);
        config.allow_setid = allow;
        let server = goferfs::Server::new(config).unwrap();
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        drop(server.spawn_connection(goferfs::Stream::Unix(b)));
        let c = goferfs::Client::from_unix_stream(a, &ClientOptions::default()).unwrap();
        let root = c.attach(b"root", b"").unwrap();
        // chmod of an existing file, a new file, a new device-less node
        // and a new directory.
        let w = root.walk(&["prog"]).unwrap();
        let attr = goferfs::SetAttr {
            valid: goferfs::setattr::MODE,
            mode: 0o6755,
            ..Default::default()
        };
        w.setattr(&attr).unwrap();
        let mut f = root.walk::<&str>(&[]).unwrap();
        f.lcreate(b"new", O_RDWR, 0o4755, 0).unwrap();
        root.mkdir(b"dir", 0o6775, 0).unwrap();
        let (file_bits, dir_bits) = if allow { (0o6000, 0o6000) } else { (0, 0o2000) };
        assert_eq!(
            host_mode(&export.join("prog")),
            0o755 | file_bits,
            "allow={allow}"
        );
        assert_eq!(
            host_mode(&export.join("new")),
            0o755 | (file_bits & 0o4000),
            "allow={allow}"
        );
        // A directory keeps set-group-ID: it only passes the group on.
        assert_eq!(
            host_mode(&export.join("dir")),
            0o775 | dir_bits,
            "allow={allow}"
        );
    }
}
