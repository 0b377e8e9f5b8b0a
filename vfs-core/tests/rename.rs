//! `renameat2(2)`: the moves Linux allows and the errno of each it refuses.

pub mod common;

use abi_linux::{Errno, RenameFlags};
use common::{Env, errno, user};
use vfs_core::{Context, RenameOptions};

fn rename(
    env: &Env,
    ctx: &dyn Context,
    old: &[u8],
    new: &[u8],
    flags: RenameFlags,
) -> Result<(), Errno> {
    let opts = RenameOptions {
        flags,
        ..RenameOptions::default()
    };
    env.vfs.rename_at(ctx, &env.pop(old), &env.pop(new), opts)
}

fn plain(env: &Env, old: &[u8], new: &[u8]) -> Result<(), Errno> {
    rename(env, &env.ctx, old, new, RenameFlags::empty())
}

#[test]
fn rename_moves_file_between_directories() {
    let env = Env::new();
    env.mkdir(b"/a", 0o755).unwrap();
    env.mkdir(b"/b", 0o755).unwrap();
    env.write_file(b"/a/f", b"x").unwrap();
    let ino = env.stat(b"/a/f").unwrap().stx_ino;
    plain(&env, b"/a/f", b"/b/g").unwrap();
    assert_eq!(errno(env.stat(b"/a/f")), Errno::ENOENT);
    assert_eq!(env.stat(b"/b/g").unwrap().stx_ino, ino);
    env.finish();
}

#[test]
fn rename_dir_updates_dotdot_and_link_counts() {
    let env = Env::new();
    env.mkdir(b"/a", 0o755).unwrap();
    env.mkdir(b"/b", 0o755).unwrap();
    env.mkdir(b"/a/d", 0o755).unwrap();
    assert_eq!(env.stat(b"/a").unwrap().stx_nlink, 3);
    plain(&env, b"/a/d", b"/b/d").unwrap();
    assert_eq!(env.stat(b"/a").unwrap().stx_nlink, 2);
    assert_eq!(env.stat(b"/b").unwrap().stx_nlink, 3);
    assert_eq!(
        env.stat(b"/b/d/..").unwrap().stx_ino,
        env.stat(b"/b").unwrap().stx_ino
    );
    env.finish();
}

#[test]
fn rename_replaces_existing_file() {
    let env = Env::new();
    env.write_file(b"/a", b"new").unwrap();
    env.write_file(b"/b", b"old").unwrap();
    plain(&env, b"/a", b"/b").unwrap();
    assert_eq!(env.read_file(b"/b").unwrap(), b"new");
    assert_eq!(errno(env.stat(b"/a")), Errno::ENOENT);
    env.finish();
}

#[test]
fn rename_over_open_file_keeps_it_readable() {
    let env = Env::new();
    env.write_file(b"/a", b"new").unwrap();
    env.write_file(b"/b", b"old").unwrap();
    let old = env.open(b"/b", common::O_RDONLY).unwrap();
    plain(&env, b"/a", b"/b").unwrap();
    assert_eq!(common::read_all(&env.ctx, &old).unwrap(), b"old");
    assert_eq!(old.stat(&env.ctx, Default::default()).unwrap().stx_nlink, 0);
    old.release(&env.ctx);
    env.finish();
}

#[test]
fn rename_dir_into_own_subdir_is_einval() {
    let env = Env::new();
    env.mkdir(b"/a", 0o755).unwrap();
    env.mkdir(b"/a/b", 0o755).unwrap();
    assert_eq!(errno(plain(&env, b"/a", b"/a/b/c")), Errno::EINVAL);
    assert_eq!(errno(plain(&env, b"/a", b"/a/c")), Errno::EINVAL);
    env.finish();
}

#[test]
fn rename_over_own_ancestor_is_enotempty() {
    let env = Env::new();
    env.mkdir(b"/a", 0o755).unwrap();
    env.mkdir(b"/a/b", 0o755).unwrap();
    assert_eq!(errno(plain(&env, b"/a/b", b"/a")), Errno::ENOTEMPTY);
    env.finish();
}

#[test]
fn rename_noreplace_existing_is_eexist() {
    let env = Env::new();
    env.write_file(b"/a", b"").unwrap();
    env.write_file(b"/b", b"").unwrap();
    assert_eq!(
        errno(rename(&env, &env.ctx, b"/a", b"/b", RenameFlags::NOREPLACE)),
        Errno::EEXIST
    );
    rename(&env, &env.ctx, b"/a", b"/c", RenameFlags::NOREPLACE).unwrap();
    env.finish();
}

#[test]
fn rename_exchange_swaps() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    env.write_file(b"/f", b"file").unwrap();
    env.write_file(b"/d/inner", b"").unwrap();
    let f_ino = env.stat(b"/f").unwrap().stx_ino;
    let d_ino = env.stat(b"/d").unwrap().stx_ino;
    rename(&env, &env.ctx, b"/f", b"/d", RenameFlags::EXCHANGE).unwrap();
    assert_eq!(env.stat(b"/d").unwrap().stx_ino, f_ino);
    assert_eq!(env.stat(b"/f").unwrap().stx_ino, d_ino);
    assert!(env.stat(b"/f/inner").is_ok());
    env.finish();
}

#[test]
fn rename_exchange_missing_is_enoent() {
    let env = Env::new();
    env.write_file(b"/a", b"").unwrap();
    assert_eq!(
        errno(rename(
            &env,
            &env.ctx,
            b"/a",
            b"/missing",
            RenameFlags::EXCHANGE
        )),
        Errno::ENOENT
    );
    assert_eq!(
        errno(rename(
            &env,
            &env.ctx,
            b"/missing",
            b"/a",
            RenameFlags::EXCHANGE
        )),
        Errno::ENOENT
    );
    env.finish();
}

#[test]
fn rename_exchange_with_noreplace_is_einval() {
    let env = Env::new();
    env.write_file(b"/a", b"").unwrap();
    env.write_file(b"/b", b"").unwrap();
    let flags = RenameFlags::EXCHANGE | RenameFlags::NOREPLACE;
    assert_eq!(
        errno(rename(&env, &env.ctx, b"/a", b"/b", flags)),
        Errno::EINVAL
    );
    env.finish();
}

#[test]
fn rename_file_over_dir_is_eisdir() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    env.mkdir(b"/d", 0o755).unwrap();
    assert_eq!(errno(plain(&env, b"/f", b"/d")), Errno::EISDIR);
    env.finish();
}

#[test]
fn rename_dir_over_file_is_enotdir() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    env.mkdir(b"/d", 0o755).unwrap();
    assert_eq!(errno(plain(&env, b"/d", b"/f")), Errno::ENOTDIR);
    env.finish();
}

#[test]
fn rename_file_with_trailing_slash_is_enotdir() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    assert_eq!(errno(plain(&env, b"/f/", b"/g")), Errno::ENOTDIR);
    assert_eq!(errno(plain(&env, b"/f", b"/g/")), Errno::ENOTDIR);
    env.mkdir(b"/d", 0o755).unwrap();
    plain(&env, b"/d/", b"/e/").unwrap();
    env.finish();
}

#[test]
fn rename_over_nonempty_dir_is_enotempty() {
    let env = Env::new();
    env.mkdir(b"/a", 0o755).unwrap();
    env.mkdir(b"/b", 0o755).unwrap();
    env.write_file(b"/b/f", b"").unwrap();
    assert_eq!(errno(plain(&env, b"/a", b"/b")), Errno::ENOTEMPTY);
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/b/f")).unwrap();
    plain(&env, b"/a", b"/b").unwrap();
    assert_eq!(env.stat(b"/").unwrap().stx_nlink, 3);
    env.finish();
}

#[test]
fn rename_across_mounts_is_exdev() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    mount.release(&env.ctx);
    env.write_file(b"/f", b"").unwrap();
    assert_eq!(errno(plain(&env, b"/f", b"/mnt/f")), Errno::EXDEV);
    env.write_file(b"/mnt/g", b"").unwrap();
    assert_eq!(errno(plain(&env, b"/mnt/g", b"/g")), Errno::EXDEV);
    // A bind mount of the same filesystem is another mount too.
    env.mkdir(b"/src", 0o755).unwrap();
    env.mkdir(b"/bind", 0o755).unwrap();
    let bind = env
        .vfs
        .bind_mount(&env.ctx, &env.pop(b"/src"), &env.pop(b"/bind"), false)
        .unwrap();
    bind.release(&env.ctx);
    assert_eq!(errno(plain(&env, b"/f", b"/bind/f")), Errno::EXDEV);
    env.umount(b"/bind", abi_linux::UmountFlags::empty())
        .unwrap();
    env.umount(b"/mnt", abi_linux::UmountFlags::empty())
        .unwrap();
    env.finish();
}

#[test]
fn rename_dot_is_ebusy() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    assert_eq!(errno(plain(&env, b"/d/.", b"/e")), Errno::EBUSY);
    assert_eq!(errno(plain(&env, b"/d/..", b"/e")), Errno::EBUSY);
    env.mkdir(b"/x", 0o755).unwrap();
    assert_eq!(errno(plain(&env, b"/x", b"/d/.")), Errno::EBUSY);
    assert_eq!(errno(plain(&env, b"/", b"/e")), Errno::EBUSY);
    env.finish();
}

#[test]
fn rename_same_file_is_noop() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    env.vfs
        .link_at(&env.ctx, &env.pop(b"/f"), &env.pop(b"/hard"))
        .unwrap();
    plain(&env, b"/f", b"/f").unwrap();
    plain(&env, b"/f", b"/hard").unwrap();
    // Both names stay: renaming onto another link of the same inode does
    // nothing.
    assert!(env.stat(b"/f").is_ok());
    assert_eq!(env.stat(b"/hard").unwrap().stx_nlink, 2);
    env.finish();
}

#[test]
fn rename_missing_source_is_enoent() {
    let env = Env::new();
    assert_eq!(errno(plain(&env, b"/nope", b"/x")), Errno::ENOENT);
    env.finish();
}

#[test]
fn rename_sticky_dir_other_owner_is_eperm() {
    let env = Env::new();
    env.mkdir(b"/tmp", 0o1777).unwrap();
    let alice = user(1000, 1000);
    let bob = user(2000, 2000);
    let file = env
        .open_as(
            &alice,
            b"/tmp/alice",
            abi_linux::OpenFlags::CREAT | abi_linux::OpenFlags::WRONLY,
            0o666,
        )
        .unwrap();
    file.release(&alice);
    assert_eq!(
        errno(rename(
            &env,
            &bob,
            b"/tmp/alice",
            b"/tmp/bob",
            RenameFlags::empty()
        )),
        Errno::EPERM
    );
    assert_eq!(
        errno(env.vfs.unlink_at(&bob, &env.pop(b"/tmp/alice"))),
        Errno::EPERM
    );
    rename(
        &env,
        &alice,
        b"/tmp/alice",
        b"/tmp/mine",
        RenameFlags::empty(),
    )
    .unwrap();
    env.finish();
}

#[test]
fn rename_without_write_permission_is_eacces() {
    let env = Env::new();
    env.mkdir(b"/ro", 0o755).unwrap();
    env.write_file(b"/ro/f", b"").unwrap();
    env.mkdir(b"/pub", 0o777).unwrap();
    let alice = user(1000, 1000);
    assert_eq!(
        errno(rename(
            &env,
            &alice,
            b"/ro/f",
            b"/pub/f",
            RenameFlags::empty()
        )),
        Errno::EACCES
    );
    env.finish();
}

#[test]
fn rename_and_link_within_a_submount_by_absolute_paths_succeed() {
    // The walk starts on the root mount and crosses into /mnt: the EXDEV
    // check must compare the mounts the walk ends on, not where it starts.
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    mount.release(&env.ctx);
    env.write_file(b"/mnt/a", b"data").unwrap();
    plain(&env, b"/mnt/a", b"/mnt/b").unwrap();
    assert_eq!(env.read_file(b"/mnt/b").unwrap(), b"data");
    env.vfs
        .link_at(&env.ctx, &env.pop(b"/mnt/b"), &env.pop(b"/mnt/c"))
        .unwrap();
    assert_eq!(env.stat(b"/mnt/c").unwrap().stx_nlink, 2);
    env.umount(b"/mnt", abi_linux::UmountFlags::empty())
        .unwrap();
    env.finish();
}
