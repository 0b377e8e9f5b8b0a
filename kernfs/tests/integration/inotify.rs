//! inotify through the VFS on memfs: what each operation raises, the
//! queue's overflow, and that watches give their dentries back when the
//! instance closes or the file goes (the leak check at the end of each
//! test).

use abi_linux::{Errno, InotifyMask, OpenFlags};
use vfs_core::inotify::{InotifyFile, MAX_QUEUED_EVENTS, new_inotify};
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::{FileRef, GetDentryOptions, ReadOptions, WriteOptions};

use crate::common::Env;

/// The events queued on `fd`, as (wd, mask, name).
fn events(env: &Env, fd: &FileRef) -> Vec<(i32, InotifyMask, String)> {
    let mut buf = vec![0u8; 65536];
    let n = match fd.read(
        &env.ctx,
        &mut SliceDest::new(&mut buf),
        ReadOptions::default(),
    ) {
        Ok(n) => n,
        Err(Errno::EAGAIN) => 0,
        Err(e) => panic!("read: {e:?}"),
    };
    let mut out = Vec::new();
    let mut at = 0;
    while at < n {
        let word = |i: usize| u32::from_ne_bytes(buf[at + i..at + i + 4].try_into().unwrap());
        let (wd, mask, len) = (word(0) as i32, word(4), word(12) as usize);
        let name = &buf[at + 16..at + 16 + len];
        let name = String::from_utf8_lossy(name.split(|&b| b == 0).next().unwrap()).into_owned();
        out.push((wd, InotifyMask::from_bits_retain(mask), name));
        at += 16 + len;
    }
    out
}

fn watch(env: &Env, fd: &FileRef, path: &str, mask: InotifyMask) -> i32 {
    let vd = env
        .vfs
        .get_dentry_at(
            &env.ctx,
            &env.pop(path.as_bytes()),
            GetDentryOptions::default(),
        )
        .unwrap();
    let wd = fd
        .downcast::<InotifyFile>()
        .unwrap()
        .inotify()
        .add_watch(&vd, mask)
        .unwrap();
    vd.release(&env.ctx);
    wd
}

#[test]
fn operations_raise_linux_events_in_order() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    let fd = new_inotify(&env.root.mount, OpenFlags::NONBLOCK);
    let d = watch(&env, &fd, "/d", InotifyMask::ALL_EVENTS);
    env.write_file("/d/f", b"abc");
    use InotifyMask as M;
    let name = |s: &str| s.to_string();
    assert_eq!(
        events(&env, &fd),
        vec![
            (d, M::CREATE, name("f")),
            (d, M::OPEN, name("f")),
            (d, M::MODIFY, name("f")),
            (d, M::CLOSE_WRITE, name("f")),
        ]
    );
    let f = watch(&env, &fd, "/d/f", M::ALL_EVENTS);
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/d/f")).unwrap();
    assert_eq!(
        events(&env, &fd),
        vec![
            (f, M::ATTRIB, name("")),
            (f, M::DELETE_SELF, name("")),
            (f, M::IGNORED, name("")),
            (d, M::DELETE, name("f")),
        ]
    );
    env.mkdir(&env.ctx, "/d/sub", 0o755).unwrap();
    assert_eq!(
        events(&env, &fd),
        vec![(d, M::CREATE | M::ISDIR, name("sub"))]
    );
    fd.release(&env.ctx);
    env.finish();
}

#[test]
fn a_full_queue_ends_with_one_overflow_event() {
    let env = Env::memfs("");
    env.write_file("/f", b"");
    let fd = new_inotify(&env.root.mount, OpenFlags::NONBLOCK);
    watch(&env, &fd, "/f", InotifyMask::MODIFY | InotifyMask::ACCESS);
    let file = env.open(&env.ctx, "/f", OpenFlags::RDWR, 0).unwrap();
    // Alternate events so that none merges with the one before.
    for _ in 0..MAX_QUEUED_EVENTS {
        file.write(
            &env.ctx,
            &mut SliceSource::new(b"x"),
            WriteOptions::default(),
        )
        .unwrap();
        file.pread(
            &env.ctx,
            &mut SliceDest::new(&mut [0u8; 1]),
            0,
            ReadOptions::default(),
        )
        .unwrap();
    }
    let mut all = Vec::new();
    loop {
        let batch = events(&env, &fd);
        if batch.is_empty() {
            break;
        }
        all.extend(batch);
    }
    assert_eq!(all.len(), MAX_QUEUED_EVENTS + 1);
    let last = all.last().unwrap();
    assert_eq!((last.0, last.1), (-1, InotifyMask::Q_OVERFLOW));
    file.release(&env.ctx);
    fd.release(&env.ctx);
    env.finish();
}

#[test]
fn identical_events_merge_and_closing_the_instance_drops_its_watches() {
    let env = Env::memfs("");
    env.write_file("/f", b"");
    let fd = new_inotify(&env.root.mount, OpenFlags::NONBLOCK);
    let wd = watch(&env, &fd, "/f", InotifyMask::MODIFY);
    let file = env.open(&env.ctx, "/f", OpenFlags::WRONLY, 0).unwrap();
    for _ in 0..3 {
        file.write(
            &env.ctx,
            &mut SliceSource::new(b"x"),
            WriteOptions::default(),
        )
        .unwrap();
    }
    assert_eq!(
        events(&env, &fd),
        vec![(wd, InotifyMask::MODIFY, String::new())]
    );
    file.release(&env.ctx);
    // The watch still holds /f's dentry: closing the instance gives it
    // back, which the leak check verifies.
    fd.release(&env.ctx);
    env.finish();
}
