//! Permission checks through the VFS: `chmod`/`chown`/`utimes`/`truncate`
//! rules, set-group-ID clearing, `RLIMIT_FSIZE`, deletion rules and
//! `access`.

pub mod common;

use abi_linux::{Errno, OpenFlags, StatxMask};
use common::{Env, errno, user};
use vfs_core::io::SliceSource;
use vfs_core::options::{UTIME_NOW, UTIME_OMIT};
use vfs_core::{AccessTypes, Context, SetStatOptions, SimpleContext, WriteOptions};

fn set_stat(env: &Env, ctx: &dyn Context, path: &[u8], opts: SetStatOptions) -> Result<(), Errno> {
    env.vfs.set_stat_at(ctx, &env.pop(path), opts)
}

fn chmod(mode: u16) -> SetStatOptions {
    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = StatxMask::MODE.bits();
    opts.stat.stx_mode = mode;
    opts
}

/// Creates `path` as `ctx` with `mode`.
fn create_as(env: &Env, ctx: &dyn Context, path: &[u8], mode: u32) {
    let file = env
        .open_as(ctx, path, OpenFlags::CREAT | OpenFlags::WRONLY, mode)
        .unwrap();
    file.release(ctx);
}

#[test]
fn chmod_by_owner_changes_mode() {
    let env = Env::new();
    env.mkdir(b"/pub", 0o777).unwrap();
    let alice = user(1000, 1000);
    create_as(&env, &alice, b"/pub/f", 0o600);
    set_stat(&env, &alice, b"/pub/f", chmod(0o640)).unwrap();
    assert_eq!(env.stat(b"/pub/f").unwrap().stx_mode & 0o7777, 0o640);
    env.finish();
}

#[test]
fn chmod_by_non_owner_is_eperm() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    assert_eq!(
        errno(set_stat(&env, &user(1000, 1000), b"/f", chmod(0o777))),
        Errno::EPERM
    );
    env.finish();
}

#[test]
fn chown_by_non_root_is_eperm() {
    let env = Env::new();
    env.mkdir(b"/pub", 0o777).unwrap();
    let alice = user(1000, 1000);
    create_as(&env, &alice, b"/pub/f", 0o644);
    let mut chown = SetStatOptions::default();
    chown.stat.stx_mask = StatxMask::UID.bits();
    chown.stat.stx_uid = 2000;
    assert_eq!(
        errno(set_stat(&env, &alice, b"/pub/f", chown)),
        Errno::EPERM
    );
    // Changing the group to one the owner is not in is refused too.
    let mut chgrp = SetStatOptions::default();
    chgrp.stat.stx_mask = StatxMask::GID.bits();
    chgrp.stat.stx_gid = 3000;
    assert_eq!(
        errno(set_stat(&env, &alice, b"/pub/f", chgrp)),
        Errno::EPERM
    );
    // Root may.
    set_stat(&env, &env.ctx, b"/pub/f", chown).unwrap();
    assert_eq!(env.stat(b"/pub/f").unwrap().stx_uid, 2000);
    env.finish();
}

#[test]
fn chown_clears_setuid() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    set_stat(&env, &env.ctx, b"/f", chmod(0o4755)).unwrap();
    let mut chown = SetStatOptions::default();
    chown.stat.stx_mask = StatxMask::UID.bits();
    chown.stat.stx_uid = 5;
    set_stat(&env, &env.ctx, b"/f", chown).unwrap();
    assert_eq!(env.stat(b"/f").unwrap().stx_mode & 0o7777, 0o755);
    env.finish();
}

#[test]
fn chmod_clears_sgid_for_non_member() {
    let env = Env::new();
    env.mkdir(b"/pub", 0o777).unwrap();
    let alice = user(1000, 1000);
    create_as(&env, &alice, b"/pub/f", 0o644);
    let mut chgrp = SetStatOptions::default();
    chgrp.stat.stx_mask = StatxMask::GID.bits();
    chgrp.stat.stx_gid = 50;
    set_stat(&env, &env.ctx, b"/pub/f", chgrp).unwrap();
    set_stat(&env, &alice, b"/pub/f", chmod(0o2755)).unwrap();
    assert_eq!(env.stat(b"/pub/f").unwrap().stx_mode & 0o7777, 0o755);
    // A member of the group keeps it.
    let mut member = SimpleContext::new(vfs_core::Credentials::user(1000, 1000));
    member.credentials.extra_gids.push(50);
    set_stat(&env, &member, b"/pub/f", chmod(0o2755)).unwrap();
    assert_eq!(env.stat(b"/pub/f").unwrap().stx_mode & 0o7777, 0o2755);
    env.finish();
}

#[test]
fn write_by_unprivileged_user_clears_setuid() {
    let env = Env::new();
    env.mkdir(b"/pub", 0o777).unwrap();
    let alice = user(1000, 1000);
    create_as(&env, &alice, b"/pub/f", 0o644);
    set_stat(&env, &alice, b"/pub/f", chmod(0o4766)).unwrap();
    let file = env
        .open_as(&alice, b"/pub/f", OpenFlags::WRONLY, 0)
        .unwrap();
    file.write(&alice, &mut SliceSource::new(b"x"), WriteOptions::default())
        .unwrap();
    file.release(&alice);
    assert_eq!(env.stat(b"/pub/f").unwrap().stx_mode & 0o7777, 0o766);
    env.finish();
}

fn utimes(atime_nsec: u32, mtime_nsec: u32) -> SetStatOptions {
    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = (StatxMask::ATIME | StatxMask::MTIME).bits();
    opts.stat.stx_atime.tv_nsec = atime_nsec;
    opts.stat.stx_mtime.tv_nsec = mtime_nsec;
    opts
}

#[test]
fn utimes_now_allowed_with_write_permission() {
    let env = Env::new();
    env.write_file(b"/shared", b"").unwrap();
    set_stat(&env, &env.ctx, b"/shared", chmod(0o666)).unwrap();
    env.write_file(b"/private", b"").unwrap();
    let alice = user(1000, 1000);
    let mut later = alice.clone();
    later.now = abi_linux::Timespec {
        tv_sec: 1000,
        tv_nsec: 0,
    };
    set_stat(&env, &later, b"/shared", utimes(UTIME_NOW, UTIME_NOW)).unwrap();
    let st = env.stat(b"/shared").unwrap();
    assert_eq!((st.stx_atime.tv_sec, st.stx_mtime.tv_sec), (1000, 1000));
    // Explicit times need ownership.
    assert_eq!(
        errno(set_stat(&env, &alice, b"/shared", utimes(5, 5))),
        Errno::EPERM
    );
    // "Now" without write permission is EACCES.
    assert_eq!(
        errno(set_stat(
            &env,
            &alice,
            b"/private",
            utimes(UTIME_NOW, UTIME_NOW)
        )),
        Errno::EACCES
    );
    // Omitting a time leaves it.
    set_stat(&env, &env.ctx, b"/shared", utimes(UTIME_OMIT, 7)).unwrap();
    let st = env.stat(b"/shared").unwrap();
    assert_eq!((st.stx_atime.tv_sec, st.stx_mtime.tv_nsec), (1000, 7));
    env.finish();
}

#[test]
fn truncate_beyond_rlimit_fsize_is_efbig() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    let mut limited = SimpleContext::root();
    limited.file_size_limit = 100;
    let mut truncate = SetStatOptions::default();
    truncate.stat.stx_mask = StatxMask::SIZE.bits();
    truncate.stat.stx_size = 101;
    assert_eq!(
        errno(set_stat(&env, &limited, b"/f", truncate)),
        Errno::EFBIG
    );
    truncate.stat.stx_size = 100;
    set_stat(&env, &limited, b"/f", truncate).unwrap();
    assert_eq!(env.stat(b"/f").unwrap().stx_size, 100);
    // A write past the limit is cut short, and one at the limit fails.
    let file = env.open(b"/f", OpenFlags::WRONLY).unwrap();
    let n = file
        .pwrite(
            &limited,
            &mut SliceSource::new(&[1; 10]),
            95,
            WriteOptions::default(),
        )
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(
        errno(file.pwrite(
            &limited,
            &mut SliceSource::new(b"x"),
            100,
            WriteOptions::default()
        )),
        Errno::EFBIG
    );
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn truncate_directory_is_eisdir() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    let mut truncate = SetStatOptions::default();
    truncate.stat.stx_mask = StatxMask::SIZE.bits();
    assert_eq!(
        errno(set_stat(&env, &env.ctx, b"/d", truncate)),
        Errno::EISDIR
    );
    env.finish();
}

#[test]
fn ftruncate_on_read_only_fd_is_einval() {
    let env = Env::new();
    env.write_file(b"/f", b"data").unwrap();
    let file = env.open(b"/f", common::O_RDONLY).unwrap();
    let mut truncate = SetStatOptions::default();
    truncate.stat.stx_mask = StatxMask::SIZE.bits();
    assert_eq!(errno(file.set_stat(&env.ctx, truncate)), Errno::EINVAL);
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn open_without_read_permission_is_eacces() {
    let env = Env::new();
    env.write_file(b"/secret", b"").unwrap();
    set_stat(&env, &env.ctx, b"/secret", chmod(0o600)).unwrap();
    let alice = user(1000, 1000);
    assert_eq!(
        errno(env.open_as(&alice, b"/secret", common::O_RDONLY, 0)),
        Errno::EACCES
    );
    assert_eq!(
        errno(env.open_as(&alice, b"/secret", OpenFlags::WRONLY, 0)),
        Errno::EACCES
    );
    env.finish();
}

#[test]
fn create_in_unwritable_directory_is_eacces() {
    let env = Env::new();
    env.mkdir(b"/ro", 0o755).unwrap();
    let alice = user(1000, 1000);
    let mkdir = vfs_core::MkdirOptions {
        mode: 0o755,
        ..Default::default()
    };
    assert_eq!(
        errno(env.vfs.mkdir_at(&alice, &env.pop(b"/ro/d"), mkdir)),
        Errno::EACCES
    );
    assert_eq!(
        errno(env.open_as(
            &alice,
            b"/ro/f",
            OpenFlags::CREAT | OpenFlags::WRONLY,
            0o644
        )),
        Errno::EACCES
    );
    // EEXIST wins over EACCES.
    env.mkdir(b"/ro/exists", 0o755).unwrap();
    assert_eq!(
        errno(env.vfs.mkdir_at(&alice, &env.pop(b"/ro/exists"), mkdir)),
        Errno::EEXIST
    );
    env.finish();
}

#[test]
fn new_file_takes_owner_and_setgid_directory_group() {
    let env = Env::new();
    env.mkdir(b"/shared", 0o777).unwrap();
    let mut chgrp = SetStatOptions::default();
    chgrp.stat.stx_mask = StatxMask::GID.bits();
    chgrp.stat.stx_gid = 77;
    set_stat(&env, &env.ctx, b"/shared", chgrp).unwrap();
    set_stat(&env, &env.ctx, b"/shared", chmod(0o2777)).unwrap();
    let alice = user(1000, 1000);
    create_as(&env, &alice, b"/shared/f", 0o644);
    let mkdir = vfs_core::MkdirOptions {
        mode: 0o755,
        ..Default::default()
    };
    env.vfs
        .mkdir_at(&alice, &env.pop(b"/shared/d"), mkdir)
        .unwrap();
    let f = env.stat(b"/shared/f").unwrap();
    assert_eq!((f.stx_uid, f.stx_gid), (1000, 77));
    let d = env.stat(b"/shared/d").unwrap();
    assert_eq!(d.stx_gid, 77);
    assert_eq!(
        d.stx_mode & 0o2000,
        0o2000,
        "subdirectories inherit S_ISGID"
    );
    env.finish();
}

#[test]
fn access_checks_permission_bits() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    set_stat(&env, &env.ctx, b"/f", chmod(0o604)).unwrap();
    let alice = user(1000, 1000);
    env.vfs
        .access_at(&alice, &env.pop(b"/f"), AccessTypes::READ)
        .unwrap();
    assert_eq!(
        errno(
            env.vfs
                .access_at(&alice, &env.pop(b"/f"), AccessTypes::WRITE)
        ),
        Errno::EACCES
    );
    assert_eq!(
        errno(
            env.vfs
                .access_at(&env.ctx, &env.pop(b"/f"), AccessTypes::EXEC)
        ),
        Errno::EACCES
    );
    env.finish();
}

#[test]
fn hard_link_counts_and_dir_link_is_eperm() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    env.vfs
        .link_at(&env.ctx, &env.pop(b"/f"), &env.pop(b"/g"))
        .unwrap();
    assert_eq!(env.stat(b"/f").unwrap().stx_nlink, 2);
    assert_eq!(
        env.stat(b"/g").unwrap().stx_ino,
        env.stat(b"/f").unwrap().stx_ino
    );
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/f")).unwrap();
    assert_eq!(env.stat(b"/g").unwrap().stx_nlink, 1);
    env.mkdir(b"/d", 0o755).unwrap();
    assert_eq!(
        errno(env.vfs.link_at(&env.ctx, &env.pop(b"/d"), &env.pop(b"/e"))),
        Errno::EPERM
    );
    assert_eq!(
        errno(env.vfs.link_at(&env.ctx, &env.pop(b"/g"), &env.pop(b"/d"))),
        Errno::EEXIST
    );
    env.finish();
}

#[test]
fn rmdir_rules() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    env.write_file(b"/d/f", b"").unwrap();
    assert_eq!(
        errno(env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d"))),
        Errno::ENOTEMPTY
    );
    assert_eq!(
        errno(env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d/."))),
        Errno::EINVAL
    );
    assert_eq!(
        errno(env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d/.."))),
        Errno::ENOTEMPTY
    );
    assert_eq!(
        errno(env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d/f"))),
        Errno::ENOTDIR
    );
    assert_eq!(
        errno(env.vfs.unlink_at(&env.ctx, &env.pop(b"/d"))),
        Errno::EISDIR
    );
    assert_eq!(
        errno(env.vfs.rmdir_at(&env.ctx, &env.pop(b"/"))),
        Errno::EBUSY
    );
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/d/f")).unwrap();
    env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d")).unwrap();
    env.finish();
}

#[test]
fn create_in_removed_directory_is_enoent() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    let cwd = env.vd(b"/d").unwrap();
    env.vfs.rmdir_at(&env.ctx, &env.pop(b"/d")).unwrap();
    let pop = vfs_core::PathOperation::new(&env.root, &cwd, b"new");
    let mkdir = vfs_core::MkdirOptions {
        mode: 0o755,
        ..Default::default()
    };
    assert_eq!(
        errno(env.vfs.mkdir_at(&env.ctx, &pop, mkdir)),
        Errno::ENOENT
    );
    cwd.release(&env.ctx);
    env.finish();
}
