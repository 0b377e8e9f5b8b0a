//! File descriptions (status flags, I/O, seek, getdents64), extended
//! attributes, statfs, and a multi-threaded stress of the tree and mount
//! table.

pub mod common;

use abi_linux::{Errno, OpenFlags, Whence, XattrFlags};
use common::{Env, O_RDONLY, errno, user};
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::{
    DirentVec, GetXattrOptions, Getdents64Buffer, MkdirOptions, ReadOptions, RenameOptions,
    SetXattrOptions, StatOptions, WriteOptions,
};

#[test]
fn f_setfl_changes_only_settable_flags() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    let file = env.open(b"/f", OpenFlags::WRONLY).unwrap();
    assert_eq!(
        file.status_flags().access_mode(),
        abi_linux::AccessMode::WriteOnly
    );
    file.set_status_flags(
        OpenFlags::APPEND | OpenFlags::NONBLOCK | OpenFlags::RDWR | OpenFlags::SYNC,
    )
    .unwrap();
    let flags = file.status_flags();
    assert!(flags.contains(OpenFlags::APPEND | OpenFlags::NONBLOCK));
    // The access mode and O_SYNC cannot be changed by F_SETFL.
    assert_eq!(flags.access_mode(), abi_linux::AccessMode::WriteOnly);
    assert!(!flags.contains(OpenFlags::SYNC));
    file.set_status_flags(OpenFlags::empty()).unwrap();
    assert!(!file.status_flags().contains(OpenFlags::APPEND));
    // O_DIRECT on a file without direct I/O support is EINVAL.
    assert_eq!(
        errno(file.set_status_flags(OpenFlags::DIRECT)),
        Errno::EINVAL
    );
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn open_does_not_keep_creation_flags() {
    let env = Env::new();
    let file = env
        .open(
            b"/f",
            OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::TRUNC | OpenFlags::RDWR,
        )
        .unwrap();
    let flags = file.status_flags();
    assert!(!flags.intersects(OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::TRUNC));
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn write_then_read_round_trips_with_offsets() {
    let env = Env::new();
    let file = env.open(b"/f", OpenFlags::CREAT | OpenFlags::RDWR).unwrap();
    assert_eq!(
        file.write(
            &env.ctx,
            &mut SliceSource::new(b"hello world"),
            WriteOptions::default()
        )
        .unwrap(),
        11
    );
    assert_eq!(file.seek(&env.ctx, 6, Whence::Set).unwrap(), 6);
    assert_eq!(common::read_all(&env.ctx, &file).unwrap(), b"world");
    assert_eq!(file.seek(&env.ctx, -5, Whence::End).unwrap(), 6);
    assert_eq!(file.seek(&env.ctx, -1, Whence::Cur).unwrap(), 5);
    let mut buf = [0u8; 5];
    assert_eq!(
        file.pread(
            &env.ctx,
            &mut SliceDest::new(&mut buf),
            0,
            ReadOptions::default()
        )
        .unwrap(),
        5
    );
    assert_eq!(&buf, b"hello");
    // pread does not move the offset.
    assert_eq!(file.seek(&env.ctx, 0, Whence::Cur).unwrap(), 5);
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn seek_to_negative_offset_is_einval() {
    let env = Env::new();
    env.write_file(b"/f", b"abc").unwrap();
    let file = env.open(b"/f", O_RDONLY).unwrap();
    assert_eq!(errno(file.seek(&env.ctx, -1, Whence::Set)), Errno::EINVAL);
    assert_eq!(errno(file.seek(&env.ctx, -4, Whence::End)), Errno::EINVAL);
    assert_eq!(errno(file.seek(&env.ctx, 3, Whence::Data)), Errno::ENXIO);
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn o_append_writes_at_end() {
    let env = Env::new();
    env.write_file(b"/f", b"abc").unwrap();
    let file = env
        .open(b"/f", OpenFlags::WRONLY | OpenFlags::APPEND)
        .unwrap();
    file.write(
        &env.ctx,
        &mut SliceSource::new(b"def"),
        WriteOptions::default(),
    )
    .unwrap();
    file.release(&env.ctx);
    assert_eq!(env.read_file(b"/f").unwrap(), b"abcdef");
    env.finish();
}

#[test]
fn pread_negative_offset_is_einval() {
    let env = Env::new();
    env.write_file(b"/f", b"abc").unwrap();
    let file = env.open(b"/f", OpenFlags::RDWR).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        errno(file.pread(
            &env.ctx,
            &mut SliceDest::new(&mut buf),
            -1,
            ReadOptions::default()
        )),
        Errno::EINVAL
    );
    assert_eq!(
        errno(file.pwrite(
            &env.ctx,
            &mut SliceSource::new(b"x"),
            -1,
            WriteOptions::default()
        )),
        Errno::EINVAL
    );
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn write_on_read_only_fd_is_ebadf() {
    let env = Env::new();
    env.write_file(b"/f", b"abc").unwrap();
    let file = env.open(b"/f", O_RDONLY).unwrap();
    assert_eq!(
        errno(file.write(
            &env.ctx,
            &mut SliceSource::new(b"x"),
            WriteOptions::default()
        )),
        Errno::EBADF
    );
    file.release(&env.ctx);
    let file = env.open(b"/f", OpenFlags::WRONLY).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        errno(file.read(
            &env.ctx,
            &mut SliceDest::new(&mut buf),
            ReadOptions::default()
        )),
        Errno::EBADF
    );
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn read_of_directory_is_eisdir() {
    let env = Env::new();
    let dir = env.open(b"/", O_RDONLY).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        errno(dir.read(
            &env.ctx,
            &mut SliceDest::new(&mut buf),
            ReadOptions::default()
        )),
        Errno::EISDIR
    );
    dir.release(&env.ctx);
    env.finish();
}

fn names(entries: &DirentVec) -> Vec<Vec<u8>> {
    entries.entries.iter().map(|e| e.0.clone()).collect()
}

#[test]
fn getdents_lists_dot_dotdot_then_children_with_stable_offsets() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    for name in ["b", "a", "c"] {
        env.write_file(format!("/d/{name}").as_bytes(), b"")
            .unwrap();
    }
    let dir = env.open(b"/d", O_RDONLY).unwrap();
    let mut all = DirentVec::default();
    dir.iter_dirents(&env.ctx, &mut all).unwrap();
    assert_eq!(names(&all), [&b"."[..], b"..", b"b", b"a", b"c"]);
    assert_eq!(all.entries[1].1, env.stat(b"/").unwrap().stx_ino);
    assert_eq!(all.entries[2].2, abi_linux::DT_REG);
    // Seeking to an entry's offset resumes after it, even after an earlier
    // entry was removed.
    let after_b = all.entries[2].3;
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/d/b")).unwrap();
    dir.seek(&env.ctx, after_b, Whence::Set).unwrap();
    let mut rest = DirentVec::default();
    dir.iter_dirents(&env.ctx, &mut rest).unwrap();
    assert_eq!(names(&rest), [&b"a"[..], b"c"]);
    // At the end, nothing more.
    let mut none = DirentVec::default();
    dir.iter_dirents(&env.ctx, &mut none).unwrap();
    assert!(none.entries.is_empty());
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn getdents64_partial_fill_and_too_small_buffer_is_einval() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    env.write_file(b"/d/file", b"").unwrap();
    let dir = env.open(b"/d", O_RDONLY).unwrap();
    // "." and ".." take 24 bytes each; "file" 24 too.
    let mut small = [0u8; 10];
    let mut sink = Getdents64Buffer::new(&mut small);
    dir.iter_dirents(&env.ctx, &mut sink).unwrap();
    assert_eq!(errno(sink.finish()), Errno::EINVAL);
    let mut two = [0u8; 50];
    let mut sink = Getdents64Buffer::new(&mut two);
    dir.iter_dirents(&env.ctx, &mut sink).unwrap();
    assert_eq!(
        sink.finish().unwrap(),
        2 * abi_linux::dirent64_reclen(1).max(abi_linux::dirent64_reclen(2))
    );
    let mut rest = [0u8; 512];
    let mut sink = Getdents64Buffer::new(&mut rest);
    dir.iter_dirents(&env.ctx, &mut sink).unwrap();
    let len = sink.finish().unwrap();
    assert_eq!(len, abi_linux::dirent64_reclen(4));
    assert_eq!(
        &rest[abi_linux::DIRENT64_NAME_OFFSET..abi_linux::DIRENT64_NAME_OFFSET + 5],
        b"file\0"
    );
    let mut sink = Getdents64Buffer::new(&mut rest);
    dir.iter_dirents(&env.ctx, &mut sink).unwrap();
    assert_eq!(sink.finish().unwrap(), 0);
    dir.release(&env.ctx);
    env.finish();
}

fn set_xattr(name: &[u8], value: &[u8], flags: XattrFlags) -> SetXattrOptions {
    SetXattrOptions {
        name: name.to_vec(),
        value: value.to_vec(),
        flags,
    }
}

fn get_xattr(name: &[u8], size: u64) -> GetXattrOptions {
    GetXattrOptions {
        name: name.to_vec(),
        size,
    }
}

#[test]
fn xattrs_set_get_list_remove() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    let pop = env.pop(b"/f");
    env.vfs
        .set_xattr_at(
            &env.ctx,
            &pop,
            &set_xattr(b"user.a", b"1", XattrFlags::empty()),
        )
        .unwrap();
    assert_eq!(
        env.vfs
            .get_xattr_at(&env.ctx, &pop, &get_xattr(b"user.a", 0))
            .unwrap(),
        b"1"
    );
    assert_eq!(
        errno(env.vfs.set_xattr_at(
            &env.ctx,
            &pop,
            &set_xattr(b"user.a", b"2", XattrFlags::CREATE)
        )),
        Errno::EEXIST
    );
    assert_eq!(
        errno(env.vfs.set_xattr_at(
            &env.ctx,
            &pop,
            &set_xattr(b"user.b", b"2", XattrFlags::REPLACE)
        )),
        Errno::ENODATA
    );
    env.vfs
        .set_xattr_at(
            &env.ctx,
            &pop,
            &set_xattr(b"user.long", b"12345", XattrFlags::empty()),
        )
        .unwrap();
    assert_eq!(
        errno(
            env.vfs
                .get_xattr_at(&env.ctx, &pop, &get_xattr(b"user.long", 4))
        ),
        Errno::ERANGE
    );
    assert_eq!(
        env.vfs.list_xattr_at(&env.ctx, &pop).unwrap(),
        [b"user.a".to_vec(), b"user.long".to_vec()]
    );
    env.vfs.remove_xattr_at(&env.ctx, &pop, b"user.a").unwrap();
    assert_eq!(
        errno(
            env.vfs
                .get_xattr_at(&env.ctx, &pop, &get_xattr(b"user.a", 0))
        ),
        Errno::ENODATA
    );
    assert_eq!(
        errno(env.vfs.remove_xattr_at(&env.ctx, &pop, b"user.a")),
        Errno::ENODATA
    );
    env.finish();
}

#[test]
fn xattr_permissions_follow_linux() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    env.symlink(b"f", b"/l").unwrap();
    let alice = user(1000, 1000);
    let pop = env.pop(b"/f");
    // Writing a user attribute needs write permission on the file.
    assert_eq!(
        errno(env.vfs.set_xattr_at(
            &alice,
            &pop,
            &set_xattr(b"user.x", b"", XattrFlags::empty())
        )),
        Errno::EACCES
    );
    // trusted.* needs CAP_SYS_ADMIN.
    assert_eq!(
        errno(env.vfs.set_xattr_at(
            &alice,
            &pop,
            &set_xattr(b"trusted.x", b"", XattrFlags::empty())
        )),
        Errno::EPERM
    );
    env.vfs
        .set_xattr_at(
            &env.ctx,
            &pop,
            &set_xattr(b"trusted.x", b"v", XattrFlags::empty()),
        )
        .unwrap();
    // user.* is not allowed on symlinks.
    let link = env.pop(b"/l").follow_final(false);
    assert_eq!(
        errno(env.vfs.set_xattr_at(
            &env.ctx,
            &link,
            &set_xattr(b"user.x", b"", XattrFlags::empty())
        )),
        Errno::EPERM
    );
    // An unknown namespace is EOPNOTSUPP; an empty name ERANGE.
    assert_eq!(
        errno(env.vfs.set_xattr_at(
            &env.ctx,
            &pop,
            &set_xattr(b"bogus.x", b"", XattrFlags::empty())
        )),
        Errno::EOPNOTSUPP
    );
    assert_eq!(
        errno(env.vfs.get_xattr_at(&env.ctx, &pop, &get_xattr(b"", 0))),
        Errno::ERANGE
    );
    env.finish();
}

#[test]
fn statfs_reports_testfs() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    let st = env.vfs.statfs_at(&env.ctx, &env.pop(b"/f")).unwrap();
    assert_eq!(st.f_type, common::testfs::TESTFS_MAGIC);
    assert_eq!(st.f_namelen, 255);
    let file = env.open(b"/f", O_RDONLY).unwrap();
    assert_eq!(
        file.statfs(&env.ctx).unwrap().f_type,
        common::testfs::TESTFS_MAGIC
    );
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn unlinked_open_file_stays_usable() {
    let env = Env::new();
    env.write_file(b"/f", b"data").unwrap();
    let file = env.open(b"/f", OpenFlags::RDWR).unwrap();
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/f")).unwrap();
    assert_eq!(
        file.stat(&env.ctx, StatOptions::default())
            .unwrap()
            .stx_nlink,
        0
    );
    assert_eq!(common::read_all(&env.ctx, &file).unwrap(), b"data");
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn concurrent_tree_and_mount_operations_do_not_deadlock() {
    let env = Env::new();
    env.mkdir(b"/work", 0o777).unwrap();
    env.mkdir(b"/mnts", 0o755).unwrap();
    for t in 0..3 {
        env.mkdir(format!("/work/t{t}").as_bytes(), 0o777).unwrap();
        env.mkdir(format!("/mnts/m{t}").as_bytes(), 0o755).unwrap();
    }
    std::thread::scope(|scope| {
        let env = &env;
        for t in 0..3 {
            scope.spawn(move || {
                for i in 0..200 {
                    let a = format!("/work/t{t}/d{i}");
                    let b = format!("/work/t{t}/e{i}");
                    let shared = format!("/work/s{}", i % 7);
                    let mkdir = MkdirOptions {
                        mode: 0o755,
                        ..Default::default()
                    };
                    env.vfs
                        .mkdir_at(&env.ctx, &env.pop(a.as_bytes()), mkdir)
                        .unwrap();
                    env.vfs
                        .rename_at(
                            &env.ctx,
                            &env.pop(a.as_bytes()),
                            &env.pop(b.as_bytes()),
                            RenameOptions::default(),
                        )
                        .unwrap();
                    env.stat(b.as_bytes()).unwrap();
                    // Contended names: any of these may race with other threads.
                    let _ = env
                        .vfs
                        .mkdir_at(&env.ctx, &env.pop(shared.as_bytes()), mkdir);
                    let _ = env.vfs.rmdir_at(&env.ctx, &env.pop(shared.as_bytes()));
                    let _ = env.stat(b"/work/s3/..");
                    env.vfs.rmdir_at(&env.ctx, &env.pop(b.as_bytes())).unwrap();
                }
            });
        }
        scope.spawn(move || {
            for i in 0..100 {
                let target = format!("/mnts/m{}", i % 3);
                let mount = env.mount_testfs(target.as_bytes()).unwrap();
                let inside = format!("{target}/x");
                env.write_file(inside.as_bytes(), b"x").unwrap();
                assert_eq!(env.read_file(inside.as_bytes()).unwrap(), b"x");
                mount.release(&env.ctx);
                env.umount(target.as_bytes(), abi_linux::UmountFlags::empty())
                    .unwrap();
            }
        });
    });
    for t in 0..3 {
        let mut entries = DirentVec::default();
        let dir = env
            .open(format!("/work/t{t}").as_bytes(), O_RDONLY)
            .unwrap();
        dir.iter_dirents(&env.ctx, &mut entries).unwrap();
        dir.release(&env.ctx);
        assert_eq!(entries.entries.len(), 2, "only . and .. remain");
    }
    env.finish();
}

/// A generated file whose contents count how often they were generated.
struct Counter(std::sync::atomic::AtomicU32);

impl vfs_core::file_description_util::DynamicBytesSource for Counter {
    fn generate(&self, _: &dyn vfs_core::Context, buf: &mut Vec<u8>) -> Result<(), Errno> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        buf.extend_from_slice(format!("generation {n}\n").as_bytes());
        Ok(())
    }
}

fn dynamic_file(env: &Env) -> vfs_core::FileRef {
    vfs_core::FileDescription::new(
        OpenFlags::empty(),
        &env.root.mount,
        &env.root.dentry,
        vfs_core::FileDescriptionOptions::default(),
        Box::new(vfs_core::file_description_util::DynamicBytesFile::new(
            Counter(std::sync::atomic::AtomicU32::new(0)),
        )),
    )
}

#[test]
fn dynamic_file_keeps_one_snapshot_for_sequential_reads() {
    let env = Env::new();
    let file = dynamic_file(&env);
    let mut first = [0u8; 5];
    let n = file
        .read(
            &env.ctx,
            &mut vfs_core::io::SliceDest::new(&mut first),
            vfs_core::ReadOptions::default(),
        )
        .unwrap();
    assert_eq!(&first[..n], b"gener");
    let rest = common::read_all(&env.ctx, &file).unwrap();
    assert_eq!(rest, b"ation 1\n");
    // Seeking back to 0 regenerates.
    file.seek(&env.ctx, 0, abi_linux::Whence::Set).unwrap();
    assert_eq!(
        common::read_all(&env.ctx, &file).unwrap(),
        b"generation 2\n"
    );
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn dynamic_file_seek_end_is_einval_and_write_is_eio() {
    let env = Env::new();
    let file = dynamic_file(&env);
    assert_eq!(
        file.seek(&env.ctx, 0, abi_linux::Whence::End),
        Err(Errno::EINVAL)
    );
    file.release(&env.ctx);
    // A writable description of a file without a write handler: EIO.
    let file = vfs_core::FileDescription::new(
        OpenFlags::RDWR,
        &env.root.mount,
        &env.root.dentry,
        vfs_core::FileDescriptionOptions::default(),
        Box::new(vfs_core::file_description_util::DynamicBytesFile::new(
            Counter(std::sync::atomic::AtomicU32::new(0)),
        )),
    );
    let result = file.write(
        &env.ctx,
        &mut vfs_core::io::SliceSource::new(b"x"),
        vfs_core::WriteOptions::default(),
    );
    assert_eq!(result, Err(Errno::EIO));
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn dynamic_file_stat_comes_from_its_dentry() {
    let env = Env::new();
    let file = dynamic_file(&env);
    let via_fd = file
        .stat(&env.ctx, vfs_core::StatOptions::default())
        .unwrap();
    let via_path = env.stat(b"/").unwrap();
    assert_eq!(via_fd.stx_ino, via_path.stx_ino);
    assert_eq!(via_fd.stx_mode, via_path.stx_mode);
    file.release(&env.ctx);
    env.finish();
}
