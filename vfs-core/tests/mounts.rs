//! Mounts: covering, crossing in both directions, stacking, bind mounts,
//! umount and its EBUSY rules, per-mount flags, deletion of mount points,
//! and the `/proc/self/mounts` and `mountinfo` texts.

pub mod common;

use abi_linux::{Errno, OpenFlags, RenameFlags, UmountFlags};
use common::{Env, errno};
use vfs_core::io::SliceSource;
use vfs_core::{
    MountOptionFlags, MountOptions, OpenOptions, RenameOptions, SetStatOptions, WriteOptions,
};

fn no_flags() -> UmountFlags {
    UmountFlags::empty()
}

#[test]
fn mount_covers_directory() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    env.write_file(b"/mnt/under", b"").unwrap();
    let below = env.stat(b"/mnt").unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    let above = env.stat(b"/mnt").unwrap();
    assert_ne!(
        (above.stx_dev_major, above.stx_dev_minor),
        (below.stx_dev_major, below.stx_dev_minor)
    );
    assert_eq!(errno(env.stat(b"/mnt/under")), Errno::ENOENT);
    env.write_file(b"/mnt/over", b"").unwrap();
    mount.release(&env.ctx);
    env.umount(b"/mnt", no_flags()).unwrap();
    assert!(env.stat(b"/mnt/under").is_ok());
    assert_eq!(errno(env.stat(b"/mnt/over")), Errno::ENOENT);
    env.finish();
}

#[test]
fn dotdot_from_mount_root_crosses_to_parent_mount() {
    let env = Env::new();
    env.mkdir(b"/a", 0o755).unwrap();
    env.mkdir(b"/a/mnt", 0o755).unwrap();
    env.write_file(b"/a/sibling", b"").unwrap();
    let mount = env.mount_testfs(b"/a/mnt").unwrap();
    let a = env.stat(b"/a").unwrap();
    assert_eq!(env.stat(b"/a/mnt/..").unwrap().stx_ino, a.stx_ino);
    assert!(env.stat(b"/a/mnt/../sibling").is_ok());
    // Relative to a directory inside the mount.
    env.mkdir(b"/a/mnt/d", 0o755).unwrap();
    let d = env.vd(b"/a/mnt/d").unwrap();
    let pop = vfs_core::PathOperation::new(&env.root, &d, b"../../sibling");
    assert!(env.vfs.stat_at(&env.ctx, &pop, Default::default()).is_ok());
    d.release(&env.ctx);
    mount.release(&env.ctx);
    env.finish();
}

#[test]
fn stacked_mounts_show_topmost() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let first = env.mount_testfs(b"/mnt").unwrap();
    env.write_file(b"/mnt/first", b"").unwrap();
    let second = env.mount_testfs(b"/mnt").unwrap();
    assert_eq!(errno(env.stat(b"/mnt/first")), Errno::ENOENT);
    env.write_file(b"/mnt/second", b"").unwrap();
    // `..` from the top of the stack leaves all of it.
    assert_eq!(
        env.stat(b"/mnt/..").unwrap().stx_ino,
        env.stat(b"/").unwrap().stx_ino
    );
    first.release(&env.ctx);
    second.release(&env.ctx);
    env.umount(b"/mnt", no_flags()).unwrap();
    assert!(env.stat(b"/mnt/first").is_ok());
    env.umount(b"/mnt", no_flags()).unwrap();
    assert_eq!(errno(env.stat(b"/mnt/first")), Errno::ENOENT);
    env.finish();
}

#[test]
fn umount_busy_is_ebusy() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    mount.release(&env.ctx);
    env.write_file(b"/mnt/f", b"").unwrap();
    let file = env.open(b"/mnt/f", common::O_RDONLY).unwrap();
    assert_eq!(errno(env.umount(b"/mnt", no_flags())), Errno::EBUSY);
    file.release(&env.ctx);
    env.umount(b"/mnt", no_flags()).unwrap();
    env.finish();
}

#[test]
fn umount_with_child_mount_is_ebusy() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let outer = env.mount_testfs(b"/mnt").unwrap();
    outer.release(&env.ctx);
    env.mkdir(b"/mnt/inner", 0o755).unwrap();
    let inner = env.mount_testfs(b"/mnt/inner").unwrap();
    inner.release(&env.ctx);
    assert_eq!(errno(env.umount(b"/mnt", no_flags())), Errno::EBUSY);
    env.umount(b"/mnt/inner", no_flags()).unwrap();
    env.umount(b"/mnt", no_flags()).unwrap();
    env.finish();
}

#[test]
fn umount_detach_keeps_open_files_working() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    mount.release(&env.ctx);
    env.mkdir(b"/mnt/sub", 0o755).unwrap();
    let nested = env.mount_testfs(b"/mnt/sub").unwrap();
    nested.release(&env.ctx);
    env.write_file(b"/mnt/f", b"before").unwrap();
    let file = env.open(b"/mnt/f", OpenFlags::RDWR).unwrap();
    env.umount(b"/mnt", UmountFlags::DETACH).unwrap();
    assert_eq!(errno(env.stat(b"/mnt/f")), Errno::ENOENT);
    assert_eq!(errno(env.stat(b"/mnt/sub")), Errno::ENOENT);
    let n = file
        .pwrite(
            &env.ctx,
            &mut SliceSource::new(b"after!"),
            0,
            WriteOptions::default(),
        )
        .unwrap();
    assert_eq!(n, 6);
    assert_eq!(common::read_all(&env.ctx, &file).unwrap(), b"after!");
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn umount_non_root_is_einval() {
    let env = Env::new();
    env.mkdir(b"/dir", 0o755).unwrap();
    assert_eq!(errno(env.umount(b"/dir", no_flags())), Errno::EINVAL);
    assert_eq!(errno(env.umount(b"/", no_flags())), Errno::EINVAL);
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    mount.release(&env.ctx);
    env.mkdir(b"/mnt/inside", 0o755).unwrap();
    assert_eq!(errno(env.umount(b"/mnt/inside", no_flags())), Errno::EINVAL);
    env.umount(b"/mnt", no_flags()).unwrap();
    env.finish();
}

#[test]
fn umount_by_unprivileged_user_is_eperm() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    mount.release(&env.ctx);
    let alice = common::user(1000, 1000);
    assert_eq!(
        errno(env.vfs.umount(&alice, &env.pop(b"/mnt"), no_flags())),
        Errno::EPERM
    );
    env.umount(b"/mnt", no_flags()).unwrap();
    env.finish();
}

#[test]
fn bind_mount_shows_same_files() {
    let env = Env::new();
    env.mkdir(b"/src", 0o755).unwrap();
    env.mkdir(b"/src/d", 0o755).unwrap();
    env.write_file(b"/src/d/f", b"shared").unwrap();
    env.mkdir(b"/dst", 0o755).unwrap();
    let bind = env
        .vfs
        .bind_mount(&env.ctx, &env.pop(b"/src/d"), &env.pop(b"/dst"), false)
        .unwrap();
    bind.release(&env.ctx);
    assert_eq!(env.read_file(b"/dst/f").unwrap(), b"shared");
    assert_eq!(
        env.stat(b"/dst/f").unwrap().stx_ino,
        env.stat(b"/src/d/f").unwrap().stx_ino
    );
    env.write_file(b"/dst/g", b"").unwrap();
    assert!(env.stat(b"/src/d/g").is_ok());
    // `..` from the bind mount's root goes to the mount point's parent.
    assert_eq!(
        env.stat(b"/dst/..").unwrap().stx_ino,
        env.stat(b"/").unwrap().stx_ino
    );
    env.umount(b"/dst", no_flags()).unwrap();
    env.finish();
}

#[test]
fn recursive_bind_replicates_submounts() {
    let env = Env::new();
    env.mkdir(b"/src", 0o755).unwrap();
    env.mkdir(b"/src/sub", 0o755).unwrap();
    let sub = env.mount_testfs(b"/src/sub").unwrap();
    sub.release(&env.ctx);
    env.write_file(b"/src/sub/inside", b"").unwrap();
    env.mkdir(b"/plain", 0o755).unwrap();
    env.mkdir(b"/rec", 0o755).unwrap();
    let plain = env
        .vfs
        .bind_mount(&env.ctx, &env.pop(b"/src"), &env.pop(b"/plain"), false)
        .unwrap();
    let rec = env
        .vfs
        .bind_mount(&env.ctx, &env.pop(b"/src"), &env.pop(b"/rec"), true)
        .unwrap();
    plain.release(&env.ctx);
    rec.release(&env.ctx);
    assert_eq!(errno(env.stat(b"/plain/sub/inside")), Errno::ENOENT);
    assert!(env.stat(b"/rec/sub/inside").is_ok());
    assert_eq!(errno(env.umount(b"/rec", no_flags())), Errno::EBUSY);
    env.umount(b"/rec/sub", no_flags()).unwrap();
    env.umount(b"/rec", no_flags()).unwrap();
    env.umount(b"/plain", no_flags()).unwrap();
    env.umount(b"/src/sub", no_flags()).unwrap();
    env.finish();
}

fn mount_flags(flags: MountOptionFlags) -> MountOptions {
    MountOptions {
        flags,
        ..MountOptions::default()
    }
}

#[test]
fn read_only_mount_is_erofs() {
    let env = Env::new();
    env.mkdir(b"/ro", 0o755).unwrap();
    let mount = env
        .mount_testfs_with(b"/ro", &mount_flags(MountOptionFlags::READ_ONLY))
        .unwrap();
    mount.release(&env.ctx);
    assert_eq!(errno(env.mkdir(b"/ro/d", 0o755)), Errno::EROFS);
    assert_eq!(
        errno(env.open(b"/ro/f", OpenFlags::CREAT | OpenFlags::WRONLY)),
        Errno::EROFS
    );
    assert_eq!(errno(env.symlink(b"x", b"/ro/l")), Errno::EROFS);
    assert_eq!(
        errno(env.open(b"/ro", common::O_RDONLY | OpenFlags::TRUNC)),
        Errno::EISDIR
    );
    let mut chmod = SetStatOptions::default();
    chmod.stat.stx_mask = abi_linux::StatxMask::MODE.bits();
    chmod.stat.stx_mode = 0o700;
    assert_eq!(
        errno(env.vfs.set_stat_at(&env.ctx, &env.pop(b"/ro"), chmod)),
        Errno::EROFS
    );
    // Existence errors come first, as in Linux.
    assert_eq!(errno(env.mkdir(b"/ro", 0o755)), Errno::EEXIST);
    // Reading still works.
    let dir = env.open(b"/ro", common::O_RDONLY).unwrap();
    dir.release(&env.ctx);
    env.umount(b"/ro", no_flags()).unwrap();
    env.finish();
}

#[test]
fn read_only_bind_of_writable_dir_is_erofs() {
    let env = Env::new();
    env.mkdir(b"/rw", 0o755).unwrap();
    env.write_file(b"/rw/f", b"x").unwrap();
    env.mkdir(b"/view", 0o755).unwrap();
    let bind = env
        .vfs
        .bind_mount(&env.ctx, &env.pop(b"/rw"), &env.pop(b"/view"), false)
        .unwrap();
    bind.set_flags(MountOptionFlags::READ_ONLY);
    bind.release(&env.ctx);
    assert_eq!(errno(env.open(b"/view/f", OpenFlags::WRONLY)), Errno::EROFS);
    assert_eq!(
        errno(env.vfs.unlink_at(&env.ctx, &env.pop(b"/view/f"))),
        Errno::EROFS
    );
    env.write_file(b"/rw/f", b"still writable").unwrap();
    env.umount(b"/view", no_flags()).unwrap();
    env.finish();
}

#[test]
fn noexec_mount_refuses_exec_open_with_eacces() {
    let env = Env::new();
    env.mkdir(b"/nx", 0o755).unwrap();
    let mount = env
        .mount_testfs_with(b"/nx", &mount_flags(MountOptionFlags::NO_EXEC))
        .unwrap();
    mount.release(&env.ctx);
    env.write_file(b"/nx/prog", b"#!").unwrap();
    env.write_file(b"/prog", b"#!").unwrap();
    let mut chmod = SetStatOptions::default();
    chmod.stat.stx_mask = abi_linux::StatxMask::MODE.bits();
    chmod.stat.stx_mode = 0o755;
    env.vfs
        .set_stat_at(&env.ctx, &env.pop(b"/nx/prog"), chmod)
        .unwrap();
    env.vfs
        .set_stat_at(&env.ctx, &env.pop(b"/prog"), chmod)
        .unwrap();
    let exec = OpenOptions {
        flags: common::O_RDONLY,
        mode: 0,
        file_exec: true,
    };
    assert_eq!(
        errno(env.vfs.open_at(&env.ctx, &env.pop(b"/nx/prog"), exec)),
        Errno::EACCES
    );
    let file = env.vfs.open_at(&env.ctx, &env.pop(b"/prog"), exec).unwrap();
    file.release(&env.ctx);
    // A directory is never executable.
    assert_eq!(
        errno(env.vfs.open_at(&env.ctx, &env.pop(b"/nx"), exec)),
        Errno::EACCES
    );
    env.umount(b"/nx", no_flags()).unwrap();
    env.finish();
}

#[test]
fn unlink_mount_point_is_ebusy() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    env.write_file(b"/d/f", b"").unwrap();
    env.write_file(b"/target", b"").unwrap();
    // Bind a file on a file: the mount point is a non-directory.
    let bind = env
        .vfs
        .bind_mount(&env.ctx, &env.pop(b"/target"), &env.pop(b"/d/f"), false)
        .unwrap();
    bind.release(&env.ctx);
    assert_eq!(
        errno(env.vfs.unlink_at(&env.ctx, &env.pop(b"/d/f"))),
        Errno::EBUSY
    );
    env.umount(b"/d/f", no_flags()).unwrap();
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/d/f")).unwrap();
    env.finish();
}

#[test]
fn rmdir_mount_point_is_ebusy() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    mount.release(&env.ctx);
    assert_eq!(
        errno(env.vfs.rmdir_at(&env.ctx, &env.pop(b"/mnt"))),
        Errno::EBUSY
    );
    env.umount(b"/mnt", no_flags()).unwrap();
    env.vfs.rmdir_at(&env.ctx, &env.pop(b"/mnt")).unwrap();
    env.finish();
}

#[test]
fn rename_over_mount_point_is_ebusy() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    env.mkdir(b"/other", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    mount.release(&env.ctx);
    let opts = RenameOptions::default();
    assert_eq!(
        errno(
            env.vfs
                .rename_at(&env.ctx, &env.pop(b"/other"), &env.pop(b"/mnt"), opts)
        ),
        Errno::EBUSY
    );
    assert_eq!(
        errno(
            env.vfs
                .rename_at(&env.ctx, &env.pop(b"/mnt"), &env.pop(b"/moved"), opts)
        ),
        Errno::EBUSY
    );
    let exchange = RenameOptions {
        flags: RenameFlags::EXCHANGE,
        ..RenameOptions::default()
    };
    assert_eq!(
        errno(
            env.vfs
                .rename_at(&env.ctx, &env.pop(b"/other"), &env.pop(b"/mnt"), exchange)
        ),
        Errno::EBUSY
    );
    assert!(env.stat(b"/other").is_ok());
    env.umount(b"/mnt", no_flags()).unwrap();
    env.finish();
}

#[test]
fn mount_on_deleted_directory_is_enoent() {
    let env = Env::new();
    env.mkdir(b"/gone", 0o755).unwrap();
    let vd = env.vd(b"/gone").unwrap();
    env.vfs.rmdir_at(&env.ctx, &env.pop(b"/gone")).unwrap();
    let pop = vfs_core::PathOperation::new(&env.root, &vd, b".");
    let result = env
        .vfs
        .mount(&env.ctx, b"x", &pop, "testfs", &MountOptions::default());
    assert_eq!(errno(result), Errno::ENOENT);
    vd.release(&env.ctx);
    env.finish();
}

#[test]
fn mount_unknown_type_is_enodev() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let result = env.vfs.mount(
        &env.ctx,
        b"x",
        &env.pop(b"/mnt"),
        "nosuchfs",
        &MountOptions::default(),
    );
    assert_eq!(errno(result), Errno::ENODEV);
    env.finish();
}

#[test]
fn proc_mounts_lists_mounts() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    env.mkdir(b"/ro", 0o755).unwrap();
    let a = env.mount_testfs(b"/mnt").unwrap();
    let b = env
        .mount_testfs_with(
            b"/ro",
            &mount_flags(MountOptionFlags::READ_ONLY | MountOptionFlags::NO_EXEC),
        )
        .unwrap();
    a.release(&env.ctx);
    b.release(&env.ctx);
    let text = env.vfs.proc_mounts(&env.ctx, &env.root);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "testfs / testfs rw 0 0");
    assert!(lines.contains(&"testfs /mnt testfs rw 0 0"), "{text}");
    assert!(lines.contains(&"testfs /ro testfs ro,noexec 0 0"), "{text}");
    env.umount(b"/mnt", no_flags()).unwrap();
    env.umount(b"/ro", no_flags()).unwrap();
    env.finish();
}

/// Linux lists a namespace's mounts in the order they were made, not in
/// tree order (checked with `unshare -m`: tmpfs on m, on r, then on m/sub
/// lists m, r, m/sub).
#[test]
fn proc_mounts_lists_mounts_in_mount_order() {
    let env = Env::new();
    env.mkdir(b"/m", 0o755).unwrap();
    env.mkdir(b"/r", 0o755).unwrap();
    let m = env.mount_testfs(b"/m").unwrap();
    let r = env.mount_testfs(b"/r").unwrap();
    env.mkdir(b"/m/sub", 0o755).unwrap();
    let sub = env.mount_testfs(b"/m/sub").unwrap();
    for mount in [m, r, sub] {
        mount.release(&env.ctx);
    }
    let text = env.vfs.proc_mounts(&env.ctx, &env.root);
    let points: Vec<&str> = text
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(points, ["/", "/m", "/r", "/m/sub"], "{text}");
    env.umount(b"/m/sub", no_flags()).unwrap();
    env.umount(b"/m", no_flags()).unwrap();
    env.umount(b"/r", no_flags()).unwrap();
    env.finish();
}

#[test]
fn mountinfo_has_parent_ids() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    env.mkdir(b"/mnt/sub", 0o755).unwrap();
    let sub = env.mount_testfs(b"/mnt/sub").unwrap();
    let text = env.vfs.proc_mountinfo(&env.ctx, &env.root);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(rows.len(), 3, "{text}");
    let row_for = |mount_point: &str| {
        rows.iter()
            .find(|r| r[4] == mount_point)
            .expect("row present")
            .clone()
    };
    let root_row = row_for("/");
    let mnt_row = row_for("/mnt");
    let sub_row = row_for("/mnt/sub");
    assert_eq!(mnt_row[0], mount.id().to_string());
    assert_eq!(mnt_row[1], root_row[0]);
    assert_eq!(sub_row[0], sub.id().to_string());
    assert_eq!(sub_row[1], mnt_row[0]);
    // major:minor is the filesystem's anonymous device, as stat reports.
    let st = env.stat(b"/mnt/sub").unwrap();
    assert_eq!(
        sub_row[2],
        format!("{}:{}", st.stx_dev_major, st.stx_dev_minor)
    );
    assert_eq!(sub_row[3], "/");
    // The optional fields end with a "-" separator, then type and source.
    let dash = sub_row.iter().position(|f| *f == "-").expect("separator");
    assert_eq!(sub_row[dash + 1], "testfs");
    mount.release(&env.ctx);
    sub.release(&env.ctx);
    env.umount(b"/mnt/sub", no_flags()).unwrap();
    env.umount(b"/mnt", no_flags()).unwrap();
    env.finish();
}

#[test]
fn mount_by_unprivileged_user_is_eperm() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o777).unwrap();
    let alice = common::user(1000, 1000);
    let result = env.vfs.mount(
        &alice,
        b"x",
        &env.pop(b"/mnt"),
        "testfs",
        &MountOptions::default(),
    );
    assert_eq!(errno(result), Errno::EPERM);
    env.finish();
}

#[test]
fn anonymous_minors_allocate_and_release() {
    let env = Env::new();
    let a = env.vfs.get_anonymous_block_dev_minor().unwrap();
    let b = env.vfs.get_anonymous_block_dev_minor().unwrap();
    assert_ne!(a, b);
    assert_ne!(a, 0);
    assert_ne!(b, 0);
    env.vfs.put_anonymous_block_dev_minor(a);
    let c = env.vfs.get_anonymous_block_dev_minor().unwrap();
    assert_eq!(c, a, "a released minor is handed out again");
    env.vfs.put_anonymous_block_dev_minor(b);
    env.vfs.put_anonymous_block_dev_minor(c);
    // Each mounted filesystem gets its own anonymous device.
    env.mkdir(b"/m1", 0o755).unwrap();
    env.mkdir(b"/m2", 0o755).unwrap();
    let m1 = env.mount_testfs(b"/m1").unwrap();
    let m2 = env.mount_testfs(b"/m2").unwrap();
    assert_ne!(m1.filesystem().dev(), m2.filesystem().dev());
    assert_eq!(abi_linux::dev_major(m1.filesystem().dev()), 0);
    m1.release(&env.ctx);
    m2.release(&env.ctx);
    env.umount(b"/m1", no_flags()).unwrap();
    env.umount(b"/m2", no_flags()).unwrap();
    env.finish();
}

#[test]
fn mountinfo_shows_bind_mount_root_within_filesystem() {
    let env = Env::new();
    env.mkdir(b"/src", 0o755).unwrap();
    env.mkdir(b"/src/d", 0o755).unwrap();
    env.mkdir(b"/dst", 0o755).unwrap();
    let bind = env
        .vfs
        .bind_mount(&env.ctx, &env.pop(b"/src/d"), &env.pop(b"/dst"), false)
        .unwrap();
    bind.release(&env.ctx);
    let text = env.vfs.proc_mountinfo(&env.ctx, &env.root);
    let row: Vec<&str> = text
        .lines()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .find(|r| r[4] == "/dst")
        .expect("bind mount listed");
    assert_eq!(row[3], "/src/d", "{text}");
    env.umount(b"/dst", no_flags()).unwrap();
    env.finish();
}

#[test]
fn pivot_root_swaps_root_and_attaches_old_root_at_put_old() {
    let env = Env::new();
    env.write_file(b"/old-marker", b"").unwrap();
    env.mkdir(b"/new", 0o755).unwrap();
    let mount = env.mount_testfs(b"/new").unwrap();
    env.mkdir(b"/new/put_old", 0o755).unwrap();
    env.write_file(b"/new/new-marker", b"").unwrap();
    env.vfs
        .pivot_root(
            &env.ctx,
            &env.ns,
            &env.pop(b"/new"),
            &env.pop(b"/new/put_old"),
        )
        .unwrap();
    // The namespace's root is now the new filesystem; the old root is
    // reachable under put_old.
    let new_root = env.ns.root();
    let pop = vfs_core::PathOperation::new(&new_root, &new_root, b"/new-marker");
    assert!(
        env.vfs
            .stat_at(&env.ctx, &pop, vfs_core::StatOptions::default())
            .is_ok()
    );
    let pop = vfs_core::PathOperation::new(&new_root, &new_root, b"/put_old/old-marker");
    assert!(
        env.vfs
            .stat_at(&env.ctx, &pop, vfs_core::StatOptions::default())
            .is_ok()
    );
    new_root.release(&env.ctx);
    mount.release(&env.ctx);
    env.finish();
}

#[test]
fn pivot_root_put_old_outside_new_root_is_einval() {
    let env = Env::new();
    env.mkdir(b"/new", 0o755).unwrap();
    env.mkdir(b"/elsewhere", 0o755).unwrap();
    let mount = env.mount_testfs(b"/new").unwrap();
    let other = env.mount_testfs(b"/elsewhere").unwrap();
    assert_eq!(
        errno(env.vfs.pivot_root(
            &env.ctx,
            &env.ns,
            &env.pop(b"/new"),
            &env.pop(b"/elsewhere")
        )),
        Errno::EINVAL
    );
    mount.release(&env.ctx);
    other.release(&env.ctx);
    env.finish();
}

#[test]
fn pivot_root_to_non_mount_point_is_einval() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    env.mkdir(b"/mnt/dir", 0o755).unwrap();
    env.mkdir(b"/mnt/dir/old", 0o755).unwrap();
    assert_eq!(
        errno(env.vfs.pivot_root(
            &env.ctx,
            &env.ns,
            &env.pop(b"/mnt/dir"),
            &env.pop(b"/mnt/dir/old")
        )),
        Errno::EINVAL
    );
    mount.release(&env.ctx);
    env.finish();
}

#[test]
fn pivot_root_put_old_on_current_root_mount_is_ebusy() {
    let env = Env::new();
    env.mkdir(b"/new", 0o755).unwrap();
    env.mkdir(b"/put_old", 0o755).unwrap();
    let mount = env.mount_testfs(b"/new").unwrap();
    assert_eq!(
        errno(
            env.vfs
                .pivot_root(&env.ctx, &env.ns, &env.pop(b"/new"), &env.pop(b"/put_old"))
        ),
        Errno::EBUSY
    );
    mount.release(&env.ctx);
    env.finish();
}

#[test]
fn pivot_root_without_cap_sys_admin_is_eperm() {
    let env = Env::new();
    env.mkdir(b"/new", 0o755).unwrap();
    let mount = env.mount_testfs(b"/new").unwrap();
    env.mkdir(b"/new/old", 0o777).unwrap();
    let user = common::user(1000, 1000);
    assert_eq!(
        errno(
            env.vfs
                .pivot_root(&user, &env.ns, &env.pop(b"/new"), &env.pop(b"/new/old"))
        ),
        Errno::EPERM
    );
    mount.release(&env.ctx);
    env.finish();
}
