//! The same file-system suite run through our client against diod and
//! unpfs (9P2000.L servers nobody here wrote) and against our gofer server,
//! each result compared with the same operation done directly on the host.
//! Where unpfs differs (README's "Servers compared"), the test asserts what
//! it does instead.

use crate::common::{TempDir, diod_client, our_client, unpfs_client, wait_no_fids};
use abi_linux::Errno;
use goferfs::{Client, ClientOptions, Qid, getattr, lock_status, lock_type};
use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

const O_RDONLY: u32 = libc::O_RDONLY as u32;
const O_RDWR: u32 = libc::O_RDWR as u32;
const O_EXCL: u32 = libc::O_EXCL as u32;

fn host_errno(r: std::io::Result<()>) -> Errno {
    Errno::from_raw(r.unwrap_err().raw_os_error().unwrap()).unwrap()
}

/// Client options that send a dropped fid's Tclunk without waiting.
fn no_wait() -> ClientOptions {
    ClientOptions {
        clunk_without_waiting: true,
        ..ClientOptions::default()
    }
}

/// The server under test, for the documented differences between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Srv {
    Diod,
    Gofer,
    Unpfs,
}

/// Runs `body` against diod, our server and unpfs, each on a fresh
/// directory, with clunks waited for and not; for ours, also checks that
/// no fid is left open.
macro_rules! each_server {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[test]
            fn diod() {
                let dir = TempDir::new("diod");
                let (_d, client) = diod_client(dir.path(), &ClientOptions::default());
                super::$name(
                    &client,
                    dir.path().as_os_str().as_bytes(),
                    dir.path(),
                    Srv::Diod,
                );
            }

            #[test]
            fn gofer() {
                let dir = TempDir::new("gofer");
                let (server, client) = our_client(dir.path(), false, &ClientOptions::default());
                super::$name(&client, b"", dir.path(), Srv::Gofer);
                drop(client);
                assert_eq!(wait_no_fids(&server), 0);
            }

            #[test]
            fn diod_clunk_without_waiting() {
                let dir = TempDir::new("diod-nowait");
                let (_d, client) = diod_client(dir.path(), &no_wait());
                super::$name(
                    &client,
                    dir.path().as_os_str().as_bytes(),
                    dir.path(),
                    Srv::Diod,
                );
            }

            #[test]
            fn gofer_clunk_without_waiting() {
                let dir = TempDir::new("gofer-nowait");
                let (server, client) = our_client(dir.path(), false, &no_wait());
                super::$name(&client, b"", dir.path(), Srv::Gofer);
                drop(client);
                assert_eq!(wait_no_fids(&server), 0);
            }

            #[test]
            fn unpfs() {
                let dir = TempDir::new("unpfs");
                let Some((_u, client)) = unpfs_client(dir.path(), &ClientOptions::default()) else {
                    return;
                };
                super::$name(&client, b"", dir.path(), Srv::Unpfs);
            }

            #[test]
            fn unpfs_clunk_without_waiting() {
                let dir = TempDir::new("unpfs-nowait");
                let Some((_u, client)) = unpfs_client(dir.path(), &no_wait()) else {
                    return;
                };
                super::$name(&client, b"", dir.path(), Srv::Unpfs);
            }
        }
    };
}

fn walk_and_getattr(c: &Client, aname: &[u8], dir: &Path, _: Srv) {
    std::fs::create_dir_all(dir.join("a/b")).unwrap();
    std::fs::write(dir.join("a/b/f"), b"hello world").unwrap();
    let root = c.attach(b"root", aname).unwrap();
    let f = root.walk(&["a", "b", "f"]).unwrap();
    let attr = f.getattr(getattr::ALL).unwrap();
    let md = std::fs::symlink_metadata(dir.join("a/b/f")).unwrap();
    assert_eq!(attr.qid.path, md.ino());
    assert_eq!(attr.qid.ty, Qid::TYPE_FILE);
    assert_eq!(attr.mode, md.mode());
    assert_eq!(attr.size, md.size());
    assert_eq!(attr.nlink, md.nlink());
    assert_eq!((attr.uid, attr.gid), (md.uid(), md.gid()));
    assert_eq!(attr.mtime.sec as i64, md.mtime());
    assert_eq!(attr.mtime.nsec as i64, md.mtime_nsec());
    let d = root.walk(&["a"]).unwrap();
    assert_eq!(d.qid().ty, Qid::TYPE_DIR);
    assert_eq!(
        d.qid().path,
        std::fs::metadata(dir.join("a")).unwrap().ino()
    );
    assert_eq!(root.walk(&["nope"]).unwrap_err(), Errno::ENOENT);
    assert_eq!(root.walk(&["a", "nope"]).unwrap_err(), Errno::ENOENT);
    // Walking through a regular file: Linux says ENOTDIR for "f/x"; a 9P
    // walk that stops after the first element is reported as ENOENT.
    assert_eq!(f.walk(&["x"]).unwrap_err(), Errno::ENOTDIR);
}
each_server!(walk_and_getattr);

fn create_write_read(c: &Client, aname: &[u8], dir: &Path, srv: Srv) {
    let root = c.attach(b"root", aname).unwrap();
    let mut f = root.walk::<&str>(&[]).unwrap();
    let gid = std::fs::metadata(dir).unwrap().gid();
    f.lcreate(b"new", O_RDWR | O_EXCL, 0o640, gid).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(f.write_at(&data, 0).unwrap(), data.len());
    f.fsync(false).unwrap();
    assert_eq!(std::fs::read(dir.join("new")).unwrap(), data);
    let md = std::fs::metadata(dir.join("new")).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o640);
    let mut back = vec![0u8; data.len() + 10];
    assert_eq!(f.read_at(&mut back, 0).unwrap(), data.len());
    assert_eq!(&back[..data.len()], &data[..]);
    let again = root
        .walk::<&str>(&[])
        .unwrap()
        .lcreate(b"new", O_RDWR | O_EXCL, 0o600, gid);
    if srv == Srv::Unpfs {
        // unpfs keeps only the access mode, O_CREAT and O_TRUNC of
        // Tlcreate's flags: without O_EXCL it opens the existing file.
        assert!(again.is_ok());
        assert_eq!(std::fs::read(dir.join("new")).unwrap(), data);
    } else {
        assert_eq!(again, Err(Errno::EEXIST));
    }

    std::fs::write(dir.join("host"), b"from the host").unwrap();
    let mut h = root.walk(&["host"]).unwrap();
    h.lopen(O_RDONLY).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(h.read_at(&mut buf, 5).unwrap(), 8);
    assert_eq!(&buf[..8], b"the host");
    assert_eq!(h.read_at(&mut buf, 1000).unwrap(), 0);
    if srv == Srv::Unpfs {
        // unpfs writes through tokio's buffered `File`: Rwrite reports the
        // bytes as written before write(2) runs, and write(2)'s EBADF on a
        // read-only open is kept (as an `ErrorKind`, so without its errno)
        // and answered as EIO to the fid's next write.
        assert_eq!(h.write_at(b"x", 0), Ok(1));
        assert_eq!(h.write_at(b"x", 0), Err(Errno::EIO));
    } else {
        assert_eq!(h.write_at(b"x", 0), Err(Errno::EBADF));
    }
    assert_eq!(std::fs::read(dir.join("host")).unwrap(), b"from the host");
}
each_server!(create_write_read);

fn readdir_10000_entries(c: &Client, aname: &[u8], dir: &Path, srv: Srv) {
    let big = dir.join("big");
    std::fs::create_dir(&big).unwrap();
    for i in 0..10_000 {
        std::fs::File::create(big.join(format!("entry-{i:05}"))).unwrap();
    }
    let root = c.attach(b"root", aname).unwrap();
    let mut d = root.walk(&["big"]).unwrap();
    d.lopen(O_RDONLY).unwrap();
    let entries = d.readdir_all().unwrap();
    let names: Vec<Vec<u8>> = entries
        .iter()
        .map(|e| e.name.clone())
        .filter(|n| n != b"." && n != b"..")
        .collect();
    let unique: BTreeSet<_> = names.iter().cloned().collect();
    assert_eq!(unique.len(), names.len(), "duplicate entries");
    let host: BTreeSet<Vec<u8>> = std::fs::read_dir(&big)
        .unwrap()
        .map(|e| e.unwrap().file_name().as_bytes().to_vec())
        .collect();
    assert_eq!(unique, host);
    for e in entries.iter().filter(|e| e.name.starts_with(b"entry-")) {
        assert_eq!(e.qid.ty, Qid::TYPE_FILE);
        // unpfs leaves every entry's type DT_UNKNOWN (the qid has the
        // type); Linux's v9fs passes that on to getdents as it is.
        let ty = if srv == Srv::Unpfs {
            libc::DT_UNKNOWN
        } else {
            libc::DT_REG
        };
        assert_eq!(e.ty, ty);
    }
}
each_server!(readdir_10000_entries);

fn rename_and_unlink(c: &Client, aname: &[u8], dir: &Path, srv: Srv) {
    std::fs::write(dir.join("x"), b"x").unwrap();
    let root = c.attach(b"root", aname).unwrap();
    root.renameat(b"x", &root, b"y").unwrap();
    assert!(!dir.join("x").exists());
    assert_eq!(std::fs::read(dir.join("y")).unwrap(), b"x");
    root.mkdir(b"d", 0o755, 0).unwrap();
    assert!(dir.join("d").is_dir());
    let d = root.walk(&["d"]).unwrap();
    let y = root.walk(&["y"]).unwrap();
    if srv == Srv::Unpfs {
        // unpfs has no Trename (only Trenameat).
        assert_eq!(y.rename(&d, b"z"), Err(Errno::EOPNOTSUPP));
        assert!(dir.join("y").is_file());
        root.renameat(b"y", &d, b"z").unwrap();
    } else {
        y.rename(&d, b"z").unwrap();
    }
    assert!(dir.join("d/z").is_file());
    assert_eq!(root.renameat(b"missing", &root, b"q"), Err(Errno::ENOENT));
    let expect = host_errno(std::fs::remove_dir(dir.join("d")));
    assert_eq!(root.unlinkat(b"d", libc::AT_REMOVEDIR as u32), Err(expect));
    d.unlinkat(b"z", 0).unwrap();
    assert!(!dir.join("d/z").exists());
    root.unlinkat(b"d", libc::AT_REMOVEDIR as u32).unwrap();
    assert!(!dir.join("d").exists());
    assert_eq!(root.unlinkat(b"d", 0), Err(Errno::ENOENT));

    // Tunlinkat's flag against the kind of file: unpfs ignores the flag and
    // removes whatever the name is.
    std::fs::create_dir(dir.join("e")).unwrap();
    std::fs::write(dir.join("g"), b"g").unwrap();
    let host = TempDir::new("unlink-host");
    std::fs::create_dir(host.path().join("e")).unwrap();
    std::fs::write(host.path().join("g"), b"g").unwrap();
    let host_unlink_dir = host_errno(std::fs::remove_file(host.path().join("e")));
    let host_rmdir_file = host_errno(std::fs::remove_dir(host.path().join("g")));
    let unlink_dir = root.unlinkat(b"e", 0);
    let rmdir_file = root.unlinkat(b"g", libc::AT_REMOVEDIR as u32);
    if srv == Srv::Unpfs {
        assert_eq!((unlink_dir, rmdir_file), (Ok(()), Ok(())));
        assert!(!dir.join("e").exists() && !dir.join("g").exists());
    } else {
        assert_eq!(
            (unlink_dir, rmdir_file),
            (Err(host_unlink_dir), Err(host_rmdir_file))
        );
        assert!(dir.join("e").is_dir() && dir.join("g").is_file());
    }

    // Tmkdir's mode: unpfs ignores it and creates with 0777 less its umask.
    root.mkdir(b"m", 0o700, 0).unwrap();
    let mode = std::fs::metadata(dir.join("m")).unwrap().mode() & 0o7777;
    if srv == Srv::Unpfs {
        assert_eq!(mode, 0o777 & !process_umask());
    } else {
        assert_eq!(mode, 0o700);
    }
}

/// This process's umask (children such as unpfs inherit it).
fn process_umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
}
each_server!(rename_and_unlink);

fn xattrs(c: &Client, aname: &[u8], dir: &Path, srv: Srv) {
    let p = dir.join("f");
    std::fs::write(&p, b"").unwrap();
    xattr::set(&p, "user.host", b"from host").unwrap();
    let root = c.attach(b"root", aname).unwrap();
    let f = root.walk(&["f"]).unwrap();
    if srv == Srv::Unpfs {
        // unpfs has neither Txattrwalk nor Txattrcreate.
        assert_eq!(f.get_xattr(b"user.host"), Err(Errno::EOPNOTSUPP));
        assert_eq!(f.list_xattr(), Err(Errno::EOPNOTSUPP));
        assert_eq!(f.set_xattr(b"user.client", b"x", 0), Err(Errno::EOPNOTSUPP));
        assert_eq!(f.remove_xattr(b"user.host"), Err(Errno::EOPNOTSUPP));
        assert_eq!(xattr::get(&p, "user.client").unwrap(), None);
        assert_eq!(xattr::get(&p, "user.host").unwrap().unwrap(), b"from host");
        return;
    }
    assert_eq!(f.get_xattr(b"user.host").unwrap(), b"from host");
    f.set_xattr(b"user.client", b"from client", 0).unwrap();
    assert_eq!(
        xattr::get(&p, "user.client").unwrap().unwrap(),
        b"from client"
    );
    let names: BTreeSet<Vec<u8>> = f.list_xattr().unwrap().into_iter().collect();
    let host: BTreeSet<Vec<u8>> = xattr::list(&p)
        .unwrap()
        .map(|n| n.as_bytes().to_vec())
        .collect();
    assert_eq!(names, host);
    f.remove_xattr(b"user.client").unwrap();
    assert_eq!(xattr::get(&p, "user.client").unwrap(), None);
    assert_eq!(f.get_xattr(b"user.none"), Err(Errno::ENODATA));
}
each_server!(xattrs);

fn statfs(c: &Client, aname: &[u8], dir: &Path, _: Srv) {
    let root = c.attach(b"root", aname).unwrap();
    let s = root.statfs().unwrap();
    let host = nix::sys::statvfs::statvfs(dir).unwrap();
    assert_eq!(u64::from(s.bsize), host.block_size());
    assert_eq!(s.blocks, host.blocks());
    assert_eq!(s.files, host.files());
    assert_eq!(u64::from(s.namelen), host.name_max());
}
each_server!(statfs);

fn links_and_nodes(c: &Client, aname: &[u8], dir: &Path, srv: Srv) {
    std::fs::write(dir.join("t"), b"target").unwrap();
    let root = c.attach(b"root", aname).unwrap();
    let t = root.walk(&["t"]).unwrap();
    if srv == Srv::Unpfs {
        // unpfs has no Tsymlink, Tlink or Tmknod; it reads links made on
        // the host.
        assert_eq!(root.symlink(b"l", b"t", 0), Err(Errno::EOPNOTSUPP));
        assert_eq!(root.link(&t, b"t2"), Err(Errno::EOPNOTSUPP));
        assert_eq!(
            root.mknod(b"fifo", libc::S_IFIFO | 0o600, 0, 0, 0),
            Err(Errno::EOPNOTSUPP)
        );
        for n in ["l", "t2", "fifo"] {
            assert!(std::fs::symlink_metadata(dir.join(n)).is_err());
        }
        std::os::unix::fs::symlink("t", dir.join("l")).unwrap();
        let l = root.walk(&["l"]).unwrap();
        assert_eq!(l.qid().ty, Qid::TYPE_SYMLINK);
        assert_eq!(l.readlink().unwrap(), b"t");
        return;
    }
    let q = root.symlink(b"l", b"t", 0).unwrap();
    assert_eq!(q.ty, Qid::TYPE_SYMLINK);
    assert_eq!(std::fs::read_link(dir.join("l")).unwrap(), Path::new("t"));
    let l = root.walk(&["l"]).unwrap();
    assert_eq!(l.qid().ty, Qid::TYPE_SYMLINK);
    assert_eq!(l.readlink().unwrap(), b"t");
    root.link(&t, b"t2").unwrap();
    assert_eq!(std::fs::metadata(dir.join("t")).unwrap().nlink(), 2);
    assert_eq!(
        std::fs::metadata(dir.join("t2")).unwrap().ino(),
        std::fs::metadata(dir.join("t")).unwrap().ino()
    );
    root.mknod(b"fifo", libc::S_IFIFO | 0o600, 0, 0, 0).unwrap();
    assert!(
        std::fs::symlink_metadata(dir.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
}
each_server!(links_and_nodes);

fn setattr_truncate_and_times(c: &Client, aname: &[u8], dir: &Path, _: Srv) {
    std::fs::write(dir.join("f"), vec![1u8; 1000]).unwrap();
    let root = c.attach(b"root", aname).unwrap();
    let f = root.walk(&["f"]).unwrap();
    let attr = goferfs::SetAttr {
        valid: goferfs::setattr::SIZE
            | goferfs::setattr::MODE
            | goferfs::setattr::MTIME
            | goferfs::setattr::MTIME_SET,
        mode: 0o600,
        size: 10,
        mtime: goferfs::Timespec {
            sec: 1_000_000,
            nsec: 5,
        },
        ..Default::default()
    };
    f.setattr(&attr).unwrap();
    let md = std::fs::metadata(dir.join("f")).unwrap();
    assert_eq!(md.size(), 10);
    assert_eq!(md.mode() & 0o7777, 0o600);
    assert_eq!((md.mtime(), md.mtime_nsec()), (1_000_000, 5));
}
each_server!(setattr_truncate_and_times);

fn lock_and_unlock(c: &Client, aname: &[u8], dir: &Path, srv: Srv) {
    std::fs::write(dir.join("f"), b"lock me").unwrap();
    let root = c.attach(b"root", aname).unwrap();
    let mut f = root.walk(&["f"]).unwrap();
    f.lopen(O_RDWR).unwrap();
    let mut l = goferfs::LockRange {
        ty: lock_type::WRLCK,
        start: 0,
        length: 4,
        proc_id: 1,
        client_id: b"test".to_vec(),
    };
    if srv == Srv::Unpfs {
        // unpfs has neither Tlock nor Tgetlock.
        assert_eq!(f.lock(0, &l), Err(Errno::EOPNOTSUPP));
        assert_eq!(f.getlock(&l).map(|r| r.ty), Err(Errno::EOPNOTSUPP));
        return;
    }
    assert_eq!(f.lock(0, &l).unwrap(), lock_status::SUCCESS);
    l.ty = lock_type::UNLCK;
    assert_eq!(f.lock(0, &l).unwrap(), lock_status::SUCCESS);
    l.ty = lock_type::RDLCK;
    assert_eq!(f.getlock(&l).unwrap().ty, lock_type::UNLCK);
}
each_server!(lock_and_unlock);

/// unpfs answers Tflush with Rlerror while the flushed request runs on, or,
/// when the blocked request holds the runtime thread the flush was queued
/// on, not until that request ends: either way the client reports `EINTR`
/// (the flush timeout bounds the second case) and keeps the tags until the
/// late replies, so later requests get their own replies.
#[test]
fn unpfs_refuses_tflush() {
    let dir = TempDir::new("unpfs-flush");
    nix::unistd::mkfifo(&dir.path().join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    std::fs::write(dir.path().join("f"), b"12345").unwrap();
    let opts = ClientOptions {
        request_timeout: Some(std::time::Duration::from_millis(500)),
        flush_timeout: Some(std::time::Duration::from_millis(500)),
        ..ClientOptions::default()
    };
    let Some((_u, c)) = unpfs_client(dir.path(), &opts) else {
        return;
    };
    let root = c.attach(b"root", b"").unwrap();
    let mut fifo = root.walk(&["fifo"]).unwrap();
    // unpfs opens a FIFO with a blocking open(2), which waits for a writer.
    assert_eq!(fifo.lopen(O_RDONLY), Err(Errno::EINTR));
    assert_eq!(
        c.stats().flushes.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // A writer lets unpfs's open finish and its late Rlopen come. The open
    // is non-blocking (ENXIO while no reader is waiting) and retried for a
    // bounded time, so the test fails instead of hanging if unpfs never
    // opened the FIFO.
    let _w = (0..500)
        .find_map(|_| {
            use std::os::unix::fs::OpenOptionsExt;
            let opened = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(dir.path().join("fifo"));
            if opened.is_err() {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            opened.ok()
        })
        .expect("unpfs's blocked open of the FIFO never started");
    let f = root.walk(&["f"]).unwrap();
    for _ in 0..50 {
        assert_eq!(f.getattr(getattr::ALL).unwrap().size, 5);
    }
}

/// unpfs answers the fd-donation version with "unknown"; the client then
/// settles on plain 9P2000.L and does its I/O over 9P.
#[test]
fn unpfs_declines_fd_donation() {
    let dir = TempDir::new("unpfs-donation");
    std::fs::write(dir.path().join("f"), b"over 9P").unwrap();
    let opts = ClientOptions {
        fd_donation: true,
        ..ClientOptions::default()
    };
    let Some((_u, c)) = unpfs_client(dir.path(), &opts) else {
        return;
    };
    assert!(!c.fd_donation());
    let root = c.attach(b"root", b"").unwrap();
    let mut f = root.walk(&["f"]).unwrap();
    f.lopen(O_RDONLY).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(f.read_at(&mut buf, 0).unwrap(), 7);
    assert_eq!(&buf[..7], b"over 9P");
    assert_eq!(
        c.stats()
            .host_fd_io
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}
