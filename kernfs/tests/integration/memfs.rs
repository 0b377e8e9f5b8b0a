//! memfs behaviour, each test naming the Linux rule and errno it checks.

use abi_linux::{
    Errno, FallocFlags, OpenFlags, RenameFlags, StatxMask, Timespec, Whence, XattrFlags,
};
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::{
    GetXattrOptions, MknodOptions, ReadOptions, RenameOptions, SetStatOptions, SetXattrOptions,
    WriteOptions,
};

use crate::common::{Env, user};

fn rename(env: &Env, from: &str, to: &str, flags: RenameFlags) -> Result<(), Errno> {
    env.vfs.rename_at(
        &env.ctx,
        &env.pop(from.as_bytes()),
        &env.pop(to.as_bytes()),
        RenameOptions {
            flags,
            ..Default::default()
        },
    )
}

#[test]
fn write_then_read_round_trips() {
    let env = Env::memfs("");
    env.write_file("/f", b"hello world");
    assert_eq!(env.read_file("/f"), b"hello world");
    assert_eq!(env.stat("/f").unwrap().stx_size, 11);
    env.finish();
}

#[test]
fn holes_read_as_zeros_and_are_not_allocated() {
    let env = Env::memfs("");
    let fd = env
        .open(
            &env.ctx,
            "/sparse",
            OpenFlags::CREAT | OpenFlags::RDWR,
            0o600,
        )
        .unwrap();
    fd.pwrite(
        &env.ctx,
        &mut SliceSource::new(b"x"),
        3 * 4096 + 10,
        WriteOptions::default(),
    )
    .unwrap();
    let mut buf = [0xffu8; 8192];
    let n = fd
        .pread(
            &env.ctx,
            &mut SliceDest::new(&mut buf),
            0,
            ReadOptions::default(),
        )
        .unwrap();
    assert_eq!(n, 8192);
    assert!(buf.iter().all(|&b| b == 0));
    let st = fd.stat(&env.ctx, Default::default()).unwrap();
    assert_eq!(st.stx_size, 3 * 4096 + 11);
    assert_eq!(st.stx_blocks, 8, "one 4 KiB page is 8 512-byte blocks");
    assert_eq!(fd.seek(&env.ctx, 0, Whence::Data).unwrap(), 3 * 4096);
    assert_eq!(fd.seek(&env.ctx, 0, Whence::Hole).unwrap(), 0);
    assert_eq!(
        fd.seek(&env.ctx, 3 * 4096, Whence::Hole).unwrap(),
        3 * 4096 + 11
    );
    assert_eq!(fd.seek(&env.ctx, 4 * 4096, Whence::Data), Err(Errno::ENXIO));
    fd.release(&env.ctx);
    env.finish();
}

#[test]
fn truncate_shrinks_zeroes_tail_and_grows_with_a_hole() {
    let env = Env::memfs("");
    env.write_file("/f", &[7u8; 5000]);
    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = StatxMask::SIZE.bits();
    opts.stat.stx_size = 10;
    env.vfs
        .set_stat_at(&env.ctx, &env.pop(b"/f"), opts)
        .unwrap();
    opts.stat.stx_size = 20;
    env.vfs
        .set_stat_at(&env.ctx, &env.pop(b"/f"), opts)
        .unwrap();
    let data = env.read_file("/f");
    assert_eq!(&data[..10], &[7u8; 10]);
    assert_eq!(&data[10..], &[0u8; 10]);
    env.finish();
}

#[test]
fn truncate_of_a_directory_is_eisdir() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = StatxMask::SIZE.bits();
    assert_eq!(
        env.vfs.set_stat_at(&env.ctx, &env.pop(b"/d"), opts),
        Err(Errno::EISDIR)
    );
    env.finish();
}

#[test]
fn fallocate_allocates_and_punch_hole_frees() {
    let env = Env::memfs("");
    let fd = env
        .open(&env.ctx, "/f", OpenFlags::CREAT | OpenFlags::RDWR, 0o600)
        .unwrap();
    fd.allocate(&env.ctx, FallocFlags::empty(), 0, 3 * 4096)
        .unwrap();
    assert_eq!(
        fd.stat(&env.ctx, Default::default()).unwrap().stx_size,
        3 * 4096
    );
    fd.allocate(
        &env.ctx,
        FallocFlags::KEEP_SIZE | FallocFlags::PUNCH_HOLE,
        4096,
        4096,
    )
    .unwrap();
    let st = fd.stat(&env.ctx, Default::default()).unwrap();
    assert_eq!((st.stx_size, st.stx_blocks), (3 * 4096, 16));
    assert_eq!(fd.seek(&env.ctx, 0, Whence::Hole).unwrap(), 4096);
    assert_eq!(
        fd.allocate(&env.ctx, FallocFlags::PUNCH_HOLE, 0, 1),
        Err(Errno::EOPNOTSUPP),
        "punching a hole without KEEP_SIZE"
    );
    assert_eq!(
        fd.allocate(&env.ctx, FallocFlags::COLLAPSE_RANGE, 0, 4096),
        Err(Errno::EOPNOTSUPP)
    );
    fd.release(&env.ctx);
    env.finish();
}

#[test]
fn size_limit_is_enospc_and_statfs_reports_it() {
    let env = Env::memfs("size=8k");
    let fd = env
        .open(&env.ctx, "/f", OpenFlags::CREAT | OpenFlags::RDWR, 0o600)
        .unwrap();
    let data = [1u8; 3 * 4096];
    let n = fd
        .write(
            &env.ctx,
            &mut SliceSource::new(&data),
            WriteOptions::default(),
        )
        .unwrap();
    assert_eq!(n, 2 * 4096, "a write stops short at the limit");
    assert_eq!(
        fd.write(
            &env.ctx,
            &mut SliceSource::new(&data),
            WriteOptions::default()
        ),
        Err(Errno::ENOSPC)
    );
    let statfs = fd.statfs(&env.ctx).unwrap();
    assert_eq!(
        (statfs.f_type, statfs.f_blocks, statfs.f_bfree),
        (0x0102_1994, 2, 0)
    );
    assert_eq!(
        fd.allocate(&env.ctx, FallocFlags::empty(), 0, 4 * 4096),
        Err(Errno::ENOSPC)
    );
    fd.release(&env.ctx);
    assert_eq!(env.vfs.unlink_at(&env.ctx, &env.pop(b"/f")), Ok(()));
    let statfs = env.vfs.statfs_at(&env.ctx, &env.pop(b"/")).unwrap();
    assert_eq!(
        statfs.f_bfree, 2,
        "pages of a deleted, closed file return to the budget"
    );
    env.finish();
}

#[test]
fn hard_links_share_the_inode_and_count_links() {
    let env = Env::memfs("");
    env.write_file("/a", b"data");
    env.vfs
        .link_at(&env.ctx, &env.pop(b"/a"), &env.pop(b"/b"))
        .unwrap();
    let (a, b) = (env.stat("/a").unwrap(), env.stat("/b").unwrap());
    assert_eq!(a.stx_ino, b.stx_ino);
    assert_eq!(a.stx_nlink, 2);
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/a")).unwrap();
    assert_eq!(env.stat("/b").unwrap().stx_nlink, 1);
    assert_eq!(env.read_file("/b"), b"data");
    env.finish();
}

#[test]
fn unlinked_open_file_stays_readable_with_nlink_zero() {
    let env = Env::memfs("");
    env.write_file("/a", b"still here");
    let fd = env.open(&env.ctx, "/a", OpenFlags::empty(), 0).unwrap();
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/a")).unwrap();
    assert_eq!(env.stat("/a"), Err(Errno::ENOENT));
    assert_eq!(fd.stat(&env.ctx, Default::default()).unwrap().stx_nlink, 0);
    assert_eq!(crate::common::read_all(&env.ctx, &fd), b"still here");
    fd.release(&env.ctx);
    env.finish();
}

#[test]
fn link_to_directory_is_eperm_and_to_existing_name_eexist() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    env.write_file("/f", b"");
    assert_eq!(
        env.vfs.link_at(&env.ctx, &env.pop(b"/d"), &env.pop(b"/e")),
        Err(Errno::EPERM)
    );
    assert_eq!(
        env.vfs.link_at(&env.ctx, &env.pop(b"/f"), &env.pop(b"/d")),
        Err(Errno::EEXIST)
    );
    env.finish();
}

#[test]
fn directory_nlink_counts_subdirectories() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    env.mkdir(&env.ctx, "/d/s1", 0o755).unwrap();
    env.mkdir(&env.ctx, "/d/s2", 0o755).unwrap();
    env.write_file("/d/f", b"");
    assert_eq!(env.stat("/d").unwrap().stx_nlink, 4);
    env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d/s1")).unwrap();
    assert_eq!(env.stat("/d").unwrap().stx_nlink, 3);
    rename(&env, "/d/s2", "/s2", RenameFlags::empty()).unwrap();
    assert_eq!(env.stat("/d").unwrap().stx_nlink, 2);
    env.finish();
}

#[test]
fn rmdir_of_nonempty_directory_is_enotempty() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    env.write_file("/d/f", b"");
    assert_eq!(
        env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d")),
        Err(Errno::ENOTEMPTY)
    );
    assert_eq!(
        env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d/f")),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        env.vfs.unlink_at(&env.ctx, &env.pop(b"/d")),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d/.")),
        Err(Errno::EINVAL)
    );
    env.finish();
}

#[test]
fn rename_replaces_files_and_empty_directories() {
    let env = Env::memfs("");
    env.write_file("/a", b"A");
    env.write_file("/b", b"B");
    rename(&env, "/a", "/b", RenameFlags::empty()).unwrap();
    assert_eq!(env.read_file("/b"), b"A");
    assert_eq!(env.stat("/a"), Err(Errno::ENOENT));
    env.mkdir(&env.ctx, "/d1", 0o755).unwrap();
    env.mkdir(&env.ctx, "/d2", 0o755).unwrap();
    rename(&env, "/d1", "/d2", RenameFlags::empty()).unwrap();
    assert!(env.stat("/d2").is_ok());
    assert_eq!(env.list("/"), [".", "..", "b", "d2"]);
    env.finish();
}

#[test]
fn rename_type_mismatches_and_nonempty_target() {
    let env = Env::memfs("");
    env.write_file("/f", b"");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    env.mkdir(&env.ctx, "/full", 0o755).unwrap();
    env.write_file("/full/x", b"");
    assert_eq!(
        rename(&env, "/f", "/d", RenameFlags::empty()),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        rename(&env, "/d", "/f", RenameFlags::empty()),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        rename(&env, "/d", "/full", RenameFlags::empty()),
        Err(Errno::ENOTEMPTY)
    );
    assert_eq!(
        rename(&env, "/d", "/d/sub", RenameFlags::empty()),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        rename(&env, "/missing", "/x", RenameFlags::empty()),
        Err(Errno::ENOENT)
    );
    env.finish();
}

#[test]
fn rename_noreplace_and_exchange() {
    let env = Env::memfs("");
    env.write_file("/a", b"A");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    env.write_file("/d/b", b"B");
    assert_eq!(
        rename(&env, "/a", "/d/b", RenameFlags::NOREPLACE),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        rename(&env, "/a", "/d/none", RenameFlags::EXCHANGE),
        Err(Errno::ENOENT)
    );
    rename(&env, "/a", "/d/b", RenameFlags::EXCHANGE).unwrap();
    assert_eq!(env.read_file("/a"), b"B");
    assert_eq!(env.read_file("/d/b"), b"A");
    rename(&env, "/a", "/d/c", RenameFlags::NOREPLACE).unwrap();
    assert_eq!(env.list("/d"), [".", "..", "b", "c"]);
    env.finish();
}

#[test]
fn rename_across_mounts_is_exdev() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/mnt", 0o755).unwrap();
    env.write_file("/f", b"");
    let mount = env
        .vfs
        .mount(
            &env.ctx,
            b"",
            &env.pop(b"/mnt"),
            "tmpfs",
            &Default::default(),
        )
        .unwrap();
    assert_eq!(
        rename(&env, "/f", "/mnt/f", RenameFlags::empty()),
        Err(Errno::EXDEV)
    );
    assert_eq!(
        env.vfs
            .link_at(&env.ctx, &env.pop(b"/f"), &env.pop(b"/mnt/g")),
        Err(Errno::EXDEV)
    );
    assert_eq!(
        env.vfs.rmdir_at(&env.ctx, &env.pop(b"/mnt")),
        Err(Errno::EBUSY)
    );
    drop(mount);
    env.finish();
}

#[test]
fn sticky_directory_protects_other_users_files() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/tmp", 0o1777).unwrap();
    let alice = user(1000);
    let bob = user(1001);
    env.create(&alice, "/tmp/a", 0o666).unwrap();
    assert_eq!(
        env.vfs.unlink_at(&bob, &env.pop(b"/tmp/a")),
        Err(Errno::EPERM)
    );
    assert_eq!(
        rename(&env, "/tmp/a", "/tmp/a2", RenameFlags::empty()),
        Ok(()),
        "root may"
    );
    env.vfs
        .rename_at(
            &alice,
            &env.pop(b"/tmp/a2"),
            &env.pop(b"/tmp/a"),
            RenameOptions::default(),
        )
        .unwrap();
    assert_eq!(env.vfs.unlink_at(&alice, &env.pop(b"/tmp/a")), Ok(()));
    env.finish();
}

#[test]
fn permissions_follow_owner_group_other_bits() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    env.write_file("/d/secret", b"s");
    env.chmod(&env.ctx, "/d/secret", 0o600).unwrap();
    let other = user(1000);
    assert_eq!(
        env.open(&other, "/d/secret", OpenFlags::empty(), 0).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(env.create(&other, "/d/new", 0o644), Err(Errno::EACCES));
    env.chmod(&env.ctx, "/d", 0o700).unwrap();
    assert_eq!(env.stat_as(&other, "/d/secret"), Err(Errno::EACCES));
    assert_eq!(env.chmod(&other, "/d", 0o777), Err(Errno::EPERM));
    env.finish();
}

#[test]
fn chown_by_owner_to_other_user_is_eperm_and_clears_setuid() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/pub", 0o777).unwrap();
    let alice = user(1000);
    env.create(&alice, "/pub/f", 0o755).unwrap();
    assert_eq!(env.chown(&alice, "/pub/f", 1001, 1000), Err(Errno::EPERM));
    env.chmod(&env.ctx, "/pub/f", 0o6755).unwrap();
    env.chown(&env.ctx, "/pub/f", 1001, 1001).unwrap();
    assert_eq!(
        u32::from(env.stat("/pub/f").unwrap().stx_mode) & 0o7777,
        0o755
    );
    env.finish();
}

#[test]
fn write_by_unprivileged_user_clears_setuid() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/pub", 0o777).unwrap();
    let alice = user(1000);
    env.create(&alice, "/pub/f", 0o755).unwrap();
    env.chmod(&alice, "/pub/f", 0o4755).unwrap();
    let fd = env.open(&alice, "/pub/f", OpenFlags::WRONLY, 0).unwrap();
    fd.write(&alice, &mut SliceSource::new(b"x"), WriteOptions::default())
        .unwrap();
    fd.release(&alice);
    assert_eq!(
        u32::from(env.stat("/pub/f").unwrap().stx_mode) & 0o7777,
        0o755
    );
    env.finish();
}

#[test]
fn setgid_directory_passes_group_to_children() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/g", 0o777).unwrap();
    env.chown(&env.ctx, "/g", 0, 50).unwrap();
    env.chmod(&env.ctx, "/g", 0o2777).unwrap();
    let alice = user(1000);
    env.mkdir(&alice, "/g/sub", 0o755).unwrap();
    let st = env.stat("/g/sub").unwrap();
    assert_eq!(st.stx_gid, 50);
    assert_eq!(u32::from(st.stx_mode) & 0o2000, 0o2000);
    env.finish();
}

fn ts(sec: i64) -> Timespec {
    Timespec {
        tv_sec: sec,
        tv_nsec: 0,
    }
}

#[test]
fn timestamps_follow_linux_update_rules() {
    let mut env = Env::memfs("");
    env.ctx.now = ts(100);
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    env.ctx.now = ts(200);
    env.write_file("/d/f", b"x");
    let d = env.stat("/d").unwrap();
    assert_eq!(
        (d.stx_mtime.tv_sec, d.stx_ctime.tv_sec),
        (200, 200),
        "creating changes the parent"
    );
    let f = env.stat("/d/f").unwrap();
    assert_eq!((f.stx_btime.tv_sec, f.stx_mtime.tv_sec), (200, 200));
    env.ctx.now = ts(300);
    env.chmod(&env.ctx, "/d/f", 0o600).unwrap();
    let f = env.stat("/d/f").unwrap();
    assert_eq!(
        (f.stx_mtime.tv_sec, f.stx_ctime.tv_sec),
        (200, 300),
        "chmod changes only ctime"
    );
    env.ctx.now = ts(400);
    env.read_file("/d/f");
    assert_eq!(
        env.stat("/d/f").unwrap().stx_atime.tv_sec,
        400,
        "relatime: atime older than ctime"
    );
    env.ctx.now = ts(500);
    env.read_file("/d/f");
    assert_eq!(
        env.stat("/d/f").unwrap().stx_atime.tv_sec,
        400,
        "relatime: atime newer than m/ctime"
    );
    env.ctx.now = ts(600);
    env.vfs
        .link_at(&env.ctx, &env.pop(b"/d/f"), &env.pop(b"/d/g"))
        .unwrap();
    assert_eq!(
        env.stat("/d/f").unwrap().stx_ctime.tv_sec,
        600,
        "link changes the target's ctime"
    );
    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = (StatxMask::ATIME | StatxMask::MTIME).bits();
    opts.stat.stx_atime.tv_sec = 7;
    opts.stat.stx_mtime.tv_sec = 8;
    env.vfs
        .set_stat_at(&env.ctx, &env.pop(b"/d/f"), opts)
        .unwrap();
    let f = env.stat("/d/f").unwrap();
    assert_eq!(
        (f.stx_atime.tv_sec, f.stx_mtime.tv_sec, f.stx_ctime.tv_sec),
        (7, 8, 600)
    );
    env.finish();
}

#[test]
fn utimes_with_explicit_time_by_non_owner_is_eperm() {
    let env = Env::memfs("");
    env.write_file("/f", b"");
    env.chmod(&env.ctx, "/f", 0o666).unwrap();
    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = StatxMask::MTIME.bits();
    opts.stat.stx_mtime.tv_sec = 5;
    assert_eq!(
        env.vfs.set_stat_at(&user(1000), &env.pop(b"/f"), opts),
        Err(Errno::EPERM)
    );
    opts.stat.stx_mtime.tv_nsec = vfs_core::UTIME_NOW;
    assert_eq!(
        env.vfs.set_stat_at(&user(1000), &env.pop(b"/f"), opts),
        Ok(()),
        "UTIME_NOW needs write access only"
    );
    env.finish();
}

#[test]
fn symlinks_resolve_and_readlink() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    env.write_file("/d/f", b"target");
    env.vfs
        .symlink_at(&env.ctx, &env.pop(b"/rel"), b"d/f")
        .unwrap();
    env.vfs
        .symlink_at(&env.ctx, &env.pop(b"/abs"), b"/d/f")
        .unwrap();
    env.vfs
        .symlink_at(&env.ctx, &env.pop(b"/loop"), b"loop")
        .unwrap();
    assert_eq!(env.read_file("/rel"), b"target");
    assert_eq!(env.read_file("/abs"), b"target");
    assert_eq!(
        env.vfs.readlink_at(&env.ctx, &env.pop(b"/rel")).unwrap(),
        b"d/f"
    );
    assert_eq!(env.stat("/loop"), Err(Errno::ELOOP));
    assert_eq!(
        env.open(&env.ctx, "/rel", OpenFlags::NOFOLLOW, 0).err(),
        Some(Errno::ELOOP)
    );
    assert_eq!(
        u32::from(env.lstat("/rel").unwrap().stx_mode) & 0o170000,
        0o120000
    );
    assert_eq!(env.lstat("/rel").unwrap().stx_size, 3);
    assert_eq!(
        env.vfs.readlink_at(&env.ctx, &env.pop(b"/d")),
        Err(Errno::EINVAL)
    );
    env.finish();
}

#[test]
fn open_creat_through_dangling_symlink_creates_target() {
    let env = Env::memfs("");
    env.vfs
        .symlink_at(&env.ctx, &env.pop(b"/link"), b"made")
        .unwrap();
    let fd = env
        .open(
            &env.ctx,
            "/link",
            OpenFlags::CREAT | OpenFlags::WRONLY,
            0o644,
        )
        .unwrap();
    fd.release(&env.ctx);
    assert!(env.stat("/made").is_ok());
    assert_eq!(
        env.open(
            &env.ctx,
            "/link",
            OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY,
            0o644
        )
        .err(),
        Some(Errno::EEXIST)
    );
    env.finish();
}

#[test]
fn device_fifo_and_socket_nodes_are_inode_types() {
    let env = Env::memfs("");
    let mk = |path: &[u8], mode: u32, major: u32, minor: u32| {
        env.vfs.mknod_at(
            &env.ctx,
            &env.pop(path),
            MknodOptions {
                mode,
                dev_major: major,
                dev_minor: minor,
            },
        )
    };
    mk(b"/null", 0o020666, 1, 3).unwrap();
    mk(b"/fifo", 0o010644, 0, 0).unwrap();
    mk(b"/sock", 0o140755, 0, 0).unwrap();
    let st = env.stat("/null").unwrap();
    assert_eq!(
        (u32::from(st.stx_mode), st.stx_rdev_major, st.stx_rdev_minor),
        (0o020666, 1, 3)
    );
    assert_eq!(
        u32::from(env.stat("/fifo").unwrap().stx_mode) & 0o170000,
        0o010000
    );
    assert_eq!(
        env.open(&env.ctx, "/sock", OpenFlags::empty(), 0).err(),
        Some(Errno::ENXIO)
    );
    assert_eq!(
        env.open(&env.ctx, "/null", OpenFlags::empty(), 0).err(),
        Some(Errno::ENXIO),
        "no driver registered"
    );
    assert_eq!(
        env.vfs.mknod_at(
            &user(1000),
            &env.pop(b"/dev2"),
            MknodOptions {
                mode: 0o020666,
                dev_major: 1,
                dev_minor: 3
            }
        ),
        Err(Errno::EPERM),
        "device nodes need CAP_MKNOD"
    );
    assert_eq!(mk(b"/null", 0o010644, 0, 0), Err(Errno::EEXIST));
    env.finish();
}

#[test]
fn xattrs_user_and_trusted_namespaces() {
    let env = Env::memfs("");
    env.write_file("/f", b"");
    env.chmod(&env.ctx, "/f", 0o644).unwrap();
    let set = |ctx: &dyn vfs_core::Context, name: &[u8], value: &[u8], flags| {
        env.vfs.set_xattr_at(
            ctx,
            &env.pop(b"/f"),
            &SetXattrOptions {
                name: name.to_vec(),
                value: value.to_vec(),
                flags,
            },
        )
    };
    let get = |ctx: &dyn vfs_core::Context, name: &[u8]| {
        env.vfs.get_xattr_at(
            ctx,
            &env.pop(b"/f"),
            &GetXattrOptions {
                name: name.to_vec(),
                size: 0,
            },
        )
    };
    set(&env.ctx, b"user.a", b"1", XattrFlags::empty()).unwrap();
    set(&env.ctx, b"trusted.t", b"2", XattrFlags::empty()).unwrap();
    assert_eq!(get(&env.ctx, b"user.a").unwrap(), b"1");
    assert_eq!(
        set(&env.ctx, b"user.a", b"x", XattrFlags::CREATE),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        set(&env.ctx, b"user.b", b"x", XattrFlags::REPLACE),
        Err(Errno::ENODATA)
    );
    assert_eq!(get(&env.ctx, b"user.none"), Err(Errno::ENODATA));
    let other = user(1000);
    assert_eq!(get(&other, b"user.a").unwrap(), b"1");
    assert_eq!(
        set(&other, b"user.a", b"y", XattrFlags::empty()),
        Err(Errno::EACCES)
    );
    assert_eq!(get(&other, b"trusted.t"), Err(Errno::ENODATA));
    assert_eq!(
        env.vfs.list_xattr_at(&other, &env.pop(b"/f")).unwrap(),
        [b"user.a".to_vec()]
    );
    let small = GetXattrOptions {
        name: b"user.a".to_vec(),
        size: 0,
    };
    assert!(
        env.vfs
            .get_xattr_at(&env.ctx, &env.pop(b"/f"), &small)
            .is_ok()
    );
    env.vfs
        .remove_xattr_at(&env.ctx, &env.pop(b"/f"), b"user.a")
        .unwrap();
    assert_eq!(
        env.vfs
            .remove_xattr_at(&env.ctx, &env.pop(b"/f"), b"user.a"),
        Err(Errno::ENODATA)
    );
    env.finish();
}

#[test]
fn mount_options_set_root_mode_and_owner() {
    let env = Env::memfs("mode=0750,uid=12,gid=34");
    let st = env.stat("/").unwrap();
    assert_eq!(
        (u32::from(st.stx_mode), st.stx_uid, st.stx_gid),
        (0o40750, 12, 34)
    );
    env.finish();
}

#[test]
fn getdents_resumes_at_offset_across_calls() {
    let env = Env::memfs("");
    for i in 0..50 {
        env.write_file(&format!("/f{i}"), b"");
    }
    let fd = env.open(&env.ctx, "/", OpenFlags::DIRECTORY, 0).unwrap();
    let mut names = Vec::new();
    loop {
        let mut buf = [0u8; 256];
        let mut sink = vfs_core::Getdents64Buffer::new(&mut buf);
        fd.iter_dirents(&env.ctx, &mut sink).unwrap();
        let n = sink.finish().unwrap();
        if n == 0 {
            break;
        }
        let mut off = 0;
        while off < n {
            let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
            let name = &buf[off + 19..off + reclen];
            let end = name.iter().position(|&b| b == 0).unwrap();
            names.push(String::from_utf8(name[..end].to_vec()).unwrap());
            off += reclen;
        }
    }
    fd.release(&env.ctx);
    assert_eq!(names.len(), 52);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 52, "no entry repeated");
    env.finish();
}

#[test]
fn trailing_slash_on_file_is_enotdir() {
    let env = Env::memfs("");
    env.write_file("/f", b"");
    assert_eq!(env.stat("/f/"), Err(Errno::ENOTDIR));
    assert_eq!(env.stat("/f/x"), Err(Errno::ENOTDIR));
    assert_eq!(
        env.vfs.unlink_at(&env.ctx, &env.pop(b"/f/")),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        env.open(
            &env.ctx,
            "/new/",
            OpenFlags::CREAT | OpenFlags::WRONLY,
            0o644
        )
        .err(),
        Some(Errno::EISDIR)
    );
    env.finish();
}

#[test]
fn flock_on_memfs_file_conflicts_between_descriptions() {
    let env = Env::memfs("");
    env.write_file("/f", b"x");
    let a = env.open(&env.ctx, "/f", OpenFlags::RDWR, 0).unwrap();
    let b = env.open(&env.ctx, "/f", OpenFlags::RDWR, 0).unwrap();
    a.lock_bsd(&env.ctx, abi_linux::FlockOp::EX).unwrap();
    assert_eq!(
        b.lock_bsd(&env.ctx, abi_linux::FlockOp::EX | abi_linux::FlockOp::NB),
        Err(Errno::EWOULDBLOCK)
    );
    a.release(&env.ctx);
    b.lock_bsd(&env.ctx, abi_linux::FlockOp::EX | abi_linux::FlockOp::NB)
        .unwrap();
    b.release(&env.ctx);
    env.finish();
}

#[test]
fn flock_on_memfs_directory_conflicts_between_descriptions() {
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    let a = env.open(&env.ctx, "/d", OpenFlags::DIRECTORY, 0).unwrap();
    let b = env.open(&env.ctx, "/d", OpenFlags::DIRECTORY, 0).unwrap();
    a.lock_bsd(&env.ctx, abi_linux::FlockOp::SH).unwrap();
    assert_eq!(
        b.lock_bsd(&env.ctx, abi_linux::FlockOp::EX | abi_linux::FlockOp::NB),
        Err(Errno::EWOULDBLOCK)
    );
    b.lock_bsd(&env.ctx, abi_linux::FlockOp::SH | abi_linux::FlockOp::NB)
        .unwrap();
    a.release(&env.ctx);
    b.release(&env.ctx);
    env.finish();
}

#[test]
fn rename_and_link_inside_a_submount_by_absolute_paths_succeed() {
    // The walk starts on the root mount and crosses into /mnt before it
    // reaches the parents: the EXDEV check must use where it ends.
    let env = Env::memfs("");
    env.mkdir(&env.ctx, "/mnt", 0o755).unwrap();
    let mount = env
        .vfs
        .mount(
            &env.ctx,
            b"tmpfs",
            &env.pop(b"/mnt"),
            "tmpfs",
            &vfs_core::MountOptions::default(),
        )
        .unwrap();
    env.write_file("/mnt/a", b"data");
    rename(&env, "/mnt/a", "/mnt/b", RenameFlags::empty()).unwrap();
    env.vfs
        .link_at(&env.ctx, &env.pop(b"/mnt/b"), &env.pop(b"/mnt/c"))
        .unwrap();
    assert_eq!(env.stat("/mnt/c").unwrap().stx_nlink, 2);
    mount.release(&env.ctx);
    env.vfs
        .umount(&env.ctx, &env.pop(b"/mnt"), abi_linux::UmountFlags::empty())
        .unwrap();
    env.finish();
}

/// Linux's shmem seals: a file made by `open` carries `F_SEAL_SEAL`; one
/// allowed sealing takes seals that refuse writes (`EPERM`), size changes
/// in the sealed direction (`EPERM`) and more seals after `F_SEAL_SEAL`.
#[test]
fn seals_refuse_what_they_seal() {
    use abi_linux::SealFlags;
    let env = Env::memfs("");
    env.write_file("/f", &[1u8; 100]);
    let fd = env.open(&env.ctx, "/f", OpenFlags::RDWR, 0).unwrap();
    let file = fd
        .downcast::<kernfs::memfs::RegularFileFd>()
        .unwrap()
        .inode()
        .clone();
    assert_eq!(file.seals(), SealFlags::SEAL);
    assert_eq!(file.add_seals(SealFlags::GROW, true), Err(Errno::EPERM));
    file.allow_sealing(SealFlags::empty());
    assert_eq!(file.add_seals(SealFlags::GROW, false), Err(Errno::EPERM));
    file.add_seals(SealFlags::GROW | SealFlags::SHRINK, true)
        .unwrap();
    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = StatxMask::SIZE.bits();
    for size in [50, 200] {
        opts.stat.stx_size = size;
        assert_eq!(
            env.vfs.set_stat_at(&env.ctx, &env.pop(b"/f"), opts),
            Err(Errno::EPERM)
        );
    }
    let write = |at: u64, n: usize| {
        fd.pwrite(
            &env.ctx,
            &mut SliceSource::new(&vec![2u8; n]),
            at as i64,
            WriteOptions::default(),
        )
    };
    assert_eq!(write(90, 10), Ok(10));
    assert_eq!(
        write(95, 10),
        Err(Errno::EPERM),
        "a write past the end grows"
    );
    file.add_seals(SealFlags::WRITE | SealFlags::SEAL, true)
        .unwrap();
    assert_eq!(write(0, 1), Err(Errno::EPERM));
    assert_eq!(file.add_seals(SealFlags::EXEC, true), Err(Errno::EPERM));
    assert_eq!(env.read_file("/f")[90..], [2u8; 10]);
    drop(file);
    fd.release(&env.ctx);
    env.finish();
}
