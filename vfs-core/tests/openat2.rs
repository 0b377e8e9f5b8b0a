//! openat2(2)'s `RESOLVE_*` restrictions, with the errno Linux returns.

pub mod common;

use abi_linux::{Errno, ResolveFlags};
use common::{Env, errno};
use vfs_core::path::Path;
use vfs_core::{OpenOptions, PathOperation, StatOptions, VirtualDentry};

/// `openat2(dirfd = dir, path, O_RDONLY, resolve)`; returns the inode
/// number of what was opened.
fn openat2(
    env: &Env,
    dir: &VirtualDentry,
    path: &[u8],
    resolve: ResolveFlags,
) -> Result<u64, Errno> {
    let pop = PathOperation {
        root: &env.root,
        start: dir,
        path: Path::parse(path),
        follow_final_symlink: true,
        resolve,
    };
    let file = env.vfs.open_at(&env.ctx, &pop, OpenOptions::default())?;
    let ino = file
        .stat(&env.ctx, StatOptions::default())
        .map(|st| st.stx_ino);
    file.release(&env.ctx);
    ino
}

/// `/top/dir/{f, sub/g}`, `/outside`.
fn tree(env: &Env) -> VirtualDentry {
    env.mkdir(b"/top", 0o755).unwrap();
    env.mkdir(b"/top/dir", 0o755).unwrap();
    env.mkdir(b"/top/dir/sub", 0o755).unwrap();
    env.write_file(b"/top/dir/f", b"").unwrap();
    env.write_file(b"/top/dir/sub/g", b"").unwrap();
    env.write_file(b"/outside", b"").unwrap();
    env.vd(b"/top/dir").unwrap()
}

#[test]
fn resolve_beneath_rejects_dotdot_escape() {
    let env = Env::new();
    let dir = tree(&env);
    assert_eq!(
        errno(openat2(&env, &dir, b"..", ResolveFlags::BENEATH)),
        Errno::EXDEV
    );
    assert_eq!(
        errno(openat2(&env, &dir, b"sub/../../f", ResolveFlags::BENEATH)),
        Errno::EXDEV
    );
    env.symlink(b"../../outside", b"/top/dir/escape").unwrap();
    assert_eq!(
        errno(openat2(&env, &dir, b"escape", ResolveFlags::BENEATH)),
        Errno::EXDEV
    );
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn resolve_beneath_rejects_absolute_path() {
    let env = Env::new();
    let dir = tree(&env);
    assert_eq!(
        errno(openat2(&env, &dir, b"/top/dir/f", ResolveFlags::BENEATH)),
        Errno::EXDEV
    );
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn resolve_beneath_rejects_absolute_symlink() {
    let env = Env::new();
    let dir = tree(&env);
    env.symlink(b"/top/dir/f", b"/top/dir/abs").unwrap();
    assert_eq!(
        errno(openat2(&env, &dir, b"abs", ResolveFlags::BENEATH)),
        Errno::EXDEV
    );
    // Without the flag the same link resolves.
    assert!(openat2(&env, &dir, b"abs", ResolveFlags::empty()).is_ok());
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn resolve_beneath_allows_dotdot_inside() {
    let env = Env::new();
    let dir = tree(&env);
    let f = env.stat(b"/top/dir/f").unwrap().stx_ino;
    assert_eq!(
        openat2(&env, &dir, b"sub/../f", ResolveFlags::BENEATH).unwrap(),
        f
    );
    env.symlink(b"../f", b"/top/dir/sub/up").unwrap();
    assert_eq!(
        openat2(&env, &dir, b"sub/up", ResolveFlags::BENEATH).unwrap(),
        f
    );
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn resolve_in_root_treats_dotdot_at_root_as_root() {
    let env = Env::new();
    let dir = tree(&env);
    let f = env.stat(b"/top/dir/f").unwrap().stx_ino;
    assert_eq!(
        openat2(&env, &dir, b"../../f", ResolveFlags::IN_ROOT).unwrap(),
        f
    );
    assert_eq!(
        openat2(&env, &dir, b"/f", ResolveFlags::IN_ROOT).unwrap(),
        f
    );
    assert_eq!(
        errno(openat2(&env, &dir, b"../outside", ResolveFlags::IN_ROOT)),
        Errno::ENOENT
    );
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn resolve_in_root_absolute_symlink_stays_inside() {
    let env = Env::new();
    let dir = tree(&env);
    env.symlink(b"/sub/g", b"/top/dir/abs").unwrap();
    env.symlink(b"/outside", b"/top/dir/out").unwrap();
    let g = env.stat(b"/top/dir/sub/g").unwrap().stx_ino;
    assert_eq!(
        openat2(&env, &dir, b"abs", ResolveFlags::IN_ROOT).unwrap(),
        g
    );
    assert_eq!(
        errno(openat2(&env, &dir, b"out", ResolveFlags::IN_ROOT)),
        Errno::ENOENT
    );
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn resolve_no_symlinks_is_eloop() {
    let env = Env::new();
    let dir = tree(&env);
    env.symlink(b"f", b"/top/dir/rel").unwrap();
    env.symlink(b"sub", b"/top/dir/subl").unwrap();
    assert_eq!(
        errno(openat2(&env, &dir, b"rel", ResolveFlags::NO_SYMLINKS)),
        Errno::ELOOP
    );
    assert_eq!(
        errno(openat2(&env, &dir, b"subl/g", ResolveFlags::NO_SYMLINKS)),
        Errno::ELOOP
    );
    assert!(openat2(&env, &dir, b"sub/g", ResolveFlags::NO_SYMLINKS).is_ok());
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn resolve_no_xdev_crossing_mount_is_exdev() {
    let env = Env::new();
    let dir = tree(&env);
    let mount = env.mount_testfs(b"/top/dir/sub").unwrap();
    env.write_file(b"/top/dir/sub/m", b"").unwrap();
    assert_eq!(
        errno(openat2(&env, &dir, b"sub/m", ResolveFlags::NO_XDEV)),
        Errno::EXDEV
    );
    assert!(openat2(&env, &dir, b"f", ResolveFlags::NO_XDEV).is_ok());
    // `..` out of a mount root is a crossing too.
    let inside = env.vd(b"/top/dir/sub").unwrap();
    assert_eq!(
        errno(openat2(&env, &inside, b"../f", ResolveFlags::NO_XDEV)),
        Errno::EXDEV
    );
    assert!(openat2(&env, &inside, b"m", ResolveFlags::NO_XDEV).is_ok());
    inside.release(&env.ctx);
    mount.release(&env.ctx);
    env.umount(b"/top/dir/sub", abi_linux::UmountFlags::empty())
        .unwrap();
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn resolve_no_magiclinks_is_eloop() {
    let env = Env::new();
    let dir = tree(&env);
    let fs = env
        .root
        .mount
        .filesystem()
        .downcast::<common::testfs::TestFs>()
        .expect("testfs");
    let target = env.vd(b"/top/dir/sub").unwrap();
    fs.add_magic_link(&env.ctx, &dir.dentry, b"fd", target)
        .unwrap();
    let g = env.stat(b"/top/dir/sub/g").unwrap().stx_ino;
    // Followed without restrictions, the magic link jumps to its target.
    assert_eq!(
        openat2(&env, &dir, b"fd/g", ResolveFlags::empty()).unwrap(),
        g
    );
    assert_eq!(
        errno(openat2(&env, &dir, b"fd/g", ResolveFlags::NO_MAGICLINKS)),
        Errno::ELOOP
    );
    assert_eq!(
        errno(openat2(&env, &dir, b"fd", ResolveFlags::NO_MAGICLINKS)),
        Errno::ELOOP
    );
    assert_eq!(
        errno(openat2(&env, &dir, b"fd/g", ResolveFlags::NO_SYMLINKS)),
        Errno::ELOOP
    );
    // Scoped lookups refuse magic links with EXDEV.
    assert_eq!(
        errno(openat2(&env, &dir, b"fd/g", ResolveFlags::BENEATH)),
        Errno::EXDEV
    );
    fs.clear_magic_links(&env.ctx);
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn resolve_beneath_at_mount_root_stays_beneath() {
    let env = Env::new();
    let dir = tree(&env);
    let mount = env.mount_testfs(b"/top/dir/sub").unwrap();
    env.write_file(b"/top/dir/sub/m", b"").unwrap();
    let f = env.stat(b"/top/dir/f").unwrap().stx_ino;
    // Crossing into a mount and back out stays beneath the start.
    assert_eq!(
        openat2(&env, &dir, b"sub/../f", ResolveFlags::BENEATH).unwrap(),
        f
    );
    let inside = env.vd(b"/top/dir/sub").unwrap();
    assert_eq!(
        errno(openat2(&env, &inside, b"..", ResolveFlags::BENEATH)),
        Errno::EXDEV
    );
    inside.release(&env.ctx);
    mount.release(&env.ctx);
    env.umount(b"/top/dir/sub", abi_linux::UmountFlags::empty())
        .unwrap();
    dir.release(&env.ctx);
    env.finish();
}
