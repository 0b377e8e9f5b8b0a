//! The same file-system suite run through our client against diod (a
//! 9P2000.L server nobody here wrote) and against our gofer server, each
//! result compared with the same operation done directly on the host.

use crate::common::{TempDir, diod_client, our_client, wait_no_fids};
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

/// Runs `body` against diod and against our server, each on a fresh
/// directory, with clunks waited for and not; for ours, also checks that
/// no fid is left open.
macro_rules! both_servers {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[test]
            fn diod() {
                let dir = TempDir::new("diod");
                let (_d, client) = diod_client(dir.path(), &ClientOptions::default());
                super::$name(&client, dir.path().as_os_str().as_bytes(), dir.path());
            }

            #[test]
            fn gofer() {
                let dir = TempDir::new("gofer");
                let (server, client) = our_client(dir.path(), false, &ClientOptions::default());
                super::$name(&client, b"", dir.path());
                drop(client);
                assert_eq!(wait_no_fids(&server), 0);
            }

            #[test]
            fn diod_clunk_without_waiting() {
                let dir = TempDir::new("diod-nowait");
                let (_d, client) = diod_client(dir.path(), &no_wait());
                super::$name(&client, dir.path().as_os_str().as_bytes(), dir.path());
            }

            #[test]
            fn gofer_clunk_without_waiting() {
                let dir = TempDir::new("gofer-nowait");
                let (server, client) = our_client(dir.path(), false, &no_wait());
                super::$name(&client, b"", dir.path());
                drop(client);
                assert_eq!(wait_no_fids(&server), 0);
            }
        }
    };
}

fn walk_and_getattr(c: &Client, aname: &[u8], dir: &Path) {
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
both_servers!(walk_and_getattr);

fn create_write_read(c: &Client, aname: &[u8], dir: &Path) {
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
    assert_eq!(
        root.walk::<&str>(&[])
            .unwrap()
            .lcreate(b"new", O_RDWR | O_EXCL, 0o600, gid),
        Err(Errno::EEXIST)
    );

    std::fs::write(dir.join("host"), b"from the host").unwrap();
    let mut h = root.walk(&["host"]).unwrap();
    h.lopen(O_RDONLY).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(h.read_at(&mut buf, 5).unwrap(), 8);
    assert_eq!(&buf[..8], b"the host");
    assert_eq!(h.read_at(&mut buf, 1000).unwrap(), 0);
    assert_eq!(h.write_at(b"x", 0), Err(Errno::EBADF));
}
both_servers!(create_write_read);

fn readdir_10000_entries(c: &Client, aname: &[u8], dir: &Path) {
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
        assert_eq!(e.ty, libc::DT_REG);
    }
}
both_servers!(readdir_10000_entries);

fn rename_and_unlink(c: &Client, aname: &[u8], dir: &Path) {
    std::fs::write(dir.join("x"), b"x").unwrap();
    let root = c.attach(b"root", aname).unwrap();
    root.renameat(b"x", &root, b"y").unwrap();
    assert!(!dir.join("x").exists());
    assert_eq!(std::fs::read(dir.join("y")).unwrap(), b"x");
    root.mkdir(b"d", 0o755, 0).unwrap();
    assert!(dir.join("d").is_dir());
    let d = root.walk(&["d"]).unwrap();
    let y = root.walk(&["y"]).unwrap();
    y.rename(&d, b"z").unwrap();
    assert!(dir.join("d/z").is_file());
    assert_eq!(root.renameat(b"missing", &root, b"q"), Err(Errno::ENOENT));
    let expect = host_errno(std::fs::remove_dir(dir.join("d")));
    assert_eq!(root.unlinkat(b"d", libc::AT_REMOVEDIR as u32), Err(expect));
    d.unlinkat(b"z", 0).unwrap();
    assert!(!dir.join("d/z").exists());
    root.unlinkat(b"d", libc::AT_REMOVEDIR as u32).unwrap();
    assert!(!dir.join("d").exists());
    assert_eq!(root.unlinkat(b"d", 0), Err(Errno::ENOENT));
}
both_servers!(rename_and_unlink);

fn xattrs(c: &Client, aname: &[u8], dir: &Path) {
    let p = dir.join("f");
    std::fs::write(&p, b"").unwrap();
    xattr::set(&p, "user.host", b"from host").unwrap();
    let root = c.attach(b"root", aname).unwrap();
    let f = root.walk(&["f"]).unwrap();
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
both_servers!(xattrs);

fn statfs(c: &Client, aname: &[u8], dir: &Path) {
    let root = c.attach(b"root", aname).unwrap();
    let s = root.statfs().unwrap();
    let host = nix::sys::statvfs::statvfs(dir).unwrap();
    assert_eq!(u64::from(s.bsize), host.block_size());
    assert_eq!(s.blocks, host.blocks());
    assert_eq!(s.files, host.files());
    assert_eq!(u64::from(s.namelen), host.name_max());
}
both_servers!(statfs);

fn links_and_nodes(c: &Client, aname: &[u8], dir: &Path) {
    std::fs::write(dir.join("t"), b"target").unwrap();
    let root = c.attach(b"root", aname).unwrap();
    let q = root.symlink(b"l", b"t", 0).unwrap();
    assert_eq!(q.ty, Qid::TYPE_SYMLINK);
    assert_eq!(std::fs::read_link(dir.join("l")).unwrap(), Path::new("t"));
    let l = root.walk(&["l"]).unwrap();
    assert_eq!(l.qid().ty, Qid::TYPE_SYMLINK);
    assert_eq!(l.readlink().unwrap(), b"t");
    let t = root.walk(&["t"]).unwrap();
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
both_servers!(links_and_nodes);

fn setattr_truncate_and_times(c: &Client, aname: &[u8], dir: &Path) {
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
both_servers!(setattr_truncate_and_times);

fn lock_and_unlock(c: &Client, aname: &[u8], dir: &Path) {
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
    assert_eq!(f.lock(0, &l).unwrap(), lock_status::SUCCESS);
    l.ty = lock_type::UNLCK;
    assert_eq!(f.lock(0, &l).unwrap(), lock_status::SUCCESS);
    l.ty = lock_type::RDLCK;
    assert_eq!(f.getlock(&l).unwrap().ty, lock_type::UNLCK);
}
both_servers!(lock_and_unlock);
