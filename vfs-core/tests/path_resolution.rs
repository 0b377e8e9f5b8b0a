//! Path resolution: `.`/`..`, chroot, trailing slashes, symlinks and the
//! symlink limit, the open flags that change resolution, search
//! permission, `O_PATH`, and path names.

pub mod common;

use abi_linux::{Errno, OpenFlags};
use common::{Env, errno, user};
use vfs_core::io::SliceDest;
use vfs_core::{MknodOptions, PathNameError, PathOperation, ReadOptions, StatOptions};

#[test]
fn dot_and_dotdot_resolve() {
    let env = Env::new();
    env.mkdir(b"/a", 0o755).unwrap();
    env.mkdir(b"/a/b", 0o755).unwrap();
    let b = env.stat(b"/a/b").unwrap();
    assert_eq!(env.stat(b"/a/./b/.").unwrap().stx_ino, b.stx_ino);
    assert_eq!(env.stat(b"/a/b/../b").unwrap().stx_ino, b.stx_ino);
    assert_eq!(env.stat(b"a/b/../../a/b").unwrap().stx_ino, b.stx_ino);
    assert_eq!(env.stat(b"//a//b//").unwrap().stx_ino, b.stx_ino);
    env.finish();
}

#[test]
fn dotdot_at_root_stays_at_root() {
    let env = Env::new();
    let root = env.stat(b"/").unwrap();
    assert_eq!(env.stat(b"/..").unwrap().stx_ino, root.stx_ino);
    assert_eq!(env.stat(b"/../../..").unwrap().stx_ino, root.stx_ino);
    assert_eq!(env.stat(b"..").unwrap().stx_ino, root.stx_ino);
    env.finish();
}

#[test]
fn dotdot_at_chroot_stays_in_chroot() {
    let env = Env::new();
    env.mkdir(b"/jail", 0o755).unwrap();
    env.mkdir(b"/jail/inner", 0o755).unwrap();
    env.write_file(b"/outside", b"x").unwrap();
    let jail = env.vd(b"/jail").unwrap();
    let jail_ino = env.stat(b"/jail").unwrap().stx_ino;
    let stat = |path: &[u8]| {
        env.vfs.stat_at(
            &env.ctx,
            &PathOperation::new(&jail, &jail, path),
            StatOptions::default(),
        )
    };
    assert_eq!(stat(b"..").unwrap().stx_ino, jail_ino);
    assert_eq!(stat(b"inner/../../..").unwrap().stx_ino, jail_ino);
    assert_eq!(stat(b"/..").unwrap().stx_ino, jail_ino);
    assert_eq!(errno(stat(b"../outside")), Errno::ENOENT);
    jail.release(&env.ctx);
    env.finish();
}

#[test]
fn trailing_slash_on_file_is_enotdir() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    assert_eq!(errno(env.stat(b"/f/")), Errno::ENOTDIR);
    assert_eq!(errno(env.stat(b"/f/.")), Errno::ENOTDIR);
    assert_eq!(errno(env.open(b"/f/", common::O_RDONLY)), Errno::ENOTDIR);
    env.finish();
}

#[test]
fn trailing_slash_follows_final_symlink_to_directory() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    env.symlink(b"d", b"/l").unwrap();
    let d = env.stat(b"/d").unwrap();
    assert_eq!(env.lstat(b"/l/").unwrap().stx_ino, d.stx_ino);
    assert_ne!(env.lstat(b"/l").unwrap().stx_ino, d.stx_ino);
    env.finish();
}

#[test]
fn symlink_relative_and_absolute_targets() {
    let env = Env::new();
    env.mkdir(b"/a", 0o755).unwrap();
    env.mkdir(b"/a/b", 0o755).unwrap();
    env.write_file(b"/a/b/f", b"data").unwrap();
    env.symlink(b"b/f", b"/a/rel").unwrap();
    env.symlink(b"/a/b", b"/a/abs").unwrap();
    env.symlink(b"../b/./f", b"/a/b/updown").unwrap();
    assert_eq!(env.read_file(b"/a/rel").unwrap(), b"data");
    assert_eq!(env.read_file(b"/a/abs/f").unwrap(), b"data");
    assert_eq!(env.read_file(b"/a/b/updown").unwrap(), b"data");
    assert_eq!(
        env.vfs.readlink_at(&env.ctx, &env.pop(b"/a/abs")).unwrap(),
        b"/a/b"
    );
    env.finish();
}

#[test]
fn symlink_loop_is_eloop_after_40() {
    let env = Env::new();
    env.symlink(b"loop2", b"/loop1").unwrap();
    env.symlink(b"loop1", b"/loop2").unwrap();
    env.symlink(b"self", b"/self").unwrap();
    assert_eq!(errno(env.stat(b"/loop1")), Errno::ELOOP);
    assert_eq!(errno(env.stat(b"/self/x")), Errno::ELOOP);
    assert_eq!(errno(env.open(b"/loop1", common::O_RDONLY)), Errno::ELOOP);
    // Not following the final link does not traverse it at all.
    assert!(env.lstat(b"/loop1").is_ok());
    env.finish();
}

#[test]
fn chain_of_40_symlinks_resolves_41_is_eloop() {
    let env = Env::new();
    env.write_file(b"/target", b"t").unwrap();
    // link0 -> target, linkN -> link(N-1): following linkN traverses N+1
    // symlinks.
    env.symlink(b"target", b"/link0").unwrap();
    for n in 1..=40 {
        let target = format!("link{}", n - 1);
        let name = format!("/link{n}");
        env.symlink(target.as_bytes(), name.as_bytes()).unwrap();
    }
    assert_eq!(env.read_file(b"/link39").unwrap(), b"t");
    assert_eq!(errno(env.stat(b"/link40")), Errno::ELOOP);
    env.finish();
}

#[test]
fn empty_path_is_enoent() {
    let env = Env::new();
    let opts = vfs_core::MknodOptions::default();
    assert_eq!(errno(env.mkdir(b"", 0o755)), Errno::ENOENT);
    assert_eq!(
        errno(env.vfs.mknod_at(&env.ctx, &env.pop(b""), opts)),
        Errno::ENOENT
    );
    assert_eq!(errno(env.symlink(b"x", b"")), Errno::ENOENT);
    assert_eq!(
        errno(env.vfs.unlink_at(&env.ctx, &env.pop(b""))),
        Errno::ENOENT
    );
    assert_eq!(
        errno(env.vfs.rmdir_at(&env.ctx, &env.pop(b""))),
        Errno::ENOENT
    );
    assert_eq!(
        errno(env.open(b"", OpenFlags::CREAT | OpenFlags::WRONLY)),
        Errno::ENOENT
    );
    let rename = vfs_core::RenameOptions::default();
    assert_eq!(
        errno(
            env.vfs
                .rename_at(&env.ctx, &env.pop(b""), &env.pop(b"/x"), rename)
        ),
        Errno::ENOENT
    );
    env.finish();
}

#[test]
fn empty_path_names_the_start_like_at_empty_path() {
    // The VFS gives an empty path `AT_EMPTY_PATH` meaning; rejecting it
    // without the flag is the system call layer's job.
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    let d = env.vd(b"/d").unwrap();
    let pop = PathOperation::new(&env.root, &d, b"");
    let stat = env
        .vfs
        .stat_at(&env.ctx, &pop, StatOptions::default())
        .unwrap();
    assert_eq!(stat.stx_ino, env.stat(b"/d").unwrap().stx_ino);
    d.release(&env.ctx);
    env.finish();
}

#[test]
fn missing_intermediate_directory_is_enoent() {
    let env = Env::new();
    assert_eq!(errno(env.stat(b"/nope/x")), Errno::ENOENT);
    assert_eq!(errno(env.mkdir(b"/nope/x", 0o755)), Errno::ENOENT);
    env.finish();
}

#[test]
fn component_longer_than_name_max_is_enametoolong() {
    let env = Env::new();
    let long = format!("/{}", "n".repeat(256));
    assert_eq!(errno(env.stat(long.as_bytes())), Errno::ENAMETOOLONG);
    assert_eq!(
        errno(env.mkdir(long.as_bytes(), 0o755)),
        Errno::ENAMETOOLONG
    );
    env.finish();
}

#[test]
fn o_nofollow_on_symlink_is_eloop() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    env.symlink(b"f", b"/l").unwrap();
    assert_eq!(
        errno(env.open(b"/l", common::O_RDONLY | OpenFlags::NOFOLLOW)),
        Errno::ELOOP
    );
    // Only the final component is affected.
    env.mkdir(b"/d", 0o755).unwrap();
    env.symlink(b"d", b"/dl").unwrap();
    env.write_file(b"/d/g", b"").unwrap();
    let file = env
        .open(b"/dl/g", common::O_RDONLY | OpenFlags::NOFOLLOW)
        .unwrap();
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn o_directory_on_file_is_enotdir() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    assert_eq!(
        errno(env.open(b"/f", common::O_RDONLY | OpenFlags::DIRECTORY)),
        Errno::ENOTDIR
    );
    let dir = env
        .open(b"/", common::O_RDONLY | OpenFlags::DIRECTORY)
        .unwrap();
    dir.release(&env.ctx);
    env.finish();
}

#[test]
fn o_directory_o_nofollow_on_symlink_to_dir_is_enotdir() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    env.symlink(b"d", b"/l").unwrap();
    let flags = common::O_RDONLY | OpenFlags::DIRECTORY | OpenFlags::NOFOLLOW;
    assert_eq!(errno(env.open(b"/l", flags)), Errno::ENOTDIR);
    env.finish();
}

#[test]
fn open_directory_for_writing_is_eisdir() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    assert_eq!(errno(env.open(b"/d", OpenFlags::WRONLY)), Errno::EISDIR);
    assert_eq!(errno(env.open(b"/d", OpenFlags::RDWR)), Errno::EISDIR);
    env.finish();
}

#[test]
fn o_creat_excl_on_existing_is_eexist() {
    let env = Env::new();
    env.write_file(b"/f", b"").unwrap();
    env.symlink(b"missing", b"/dangling").unwrap();
    let flags = OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::WRONLY;
    assert_eq!(errno(env.open(b"/f", flags)), Errno::EEXIST);
    // O_EXCL does not follow a final symlink, even a dangling one.
    assert_eq!(errno(env.open(b"/dangling", flags)), Errno::EEXIST);
    assert_eq!(errno(env.stat(b"/missing")), Errno::ENOENT);
    env.finish();
}

#[test]
fn o_creat_through_dangling_symlink_creates_target() {
    let env = Env::new();
    env.mkdir(b"/d", 0o755).unwrap();
    env.symlink(b"d/new", b"/rel").unwrap();
    env.symlink(b"/d/abs", b"/abs").unwrap();
    for path in [&b"/rel"[..], b"/abs"] {
        let file = env
            .open(path, OpenFlags::CREAT | OpenFlags::WRONLY)
            .unwrap();
        file.release(&env.ctx);
    }
    assert_eq!(
        common::file_type(&env.stat(b"/d/new").unwrap()),
        abi_linux::S_IFREG
    );
    assert_eq!(
        common::file_type(&env.stat(b"/d/abs").unwrap()),
        abi_linux::S_IFREG
    );
    assert_eq!(
        common::file_type(&env.lstat(b"/rel").unwrap()),
        abi_linux::S_IFLNK
    );
    env.finish();
}

#[test]
fn o_creat_with_trailing_slash_is_eisdir() {
    let env = Env::new();
    assert_eq!(
        errno(env.open(b"/new/", OpenFlags::CREAT | OpenFlags::WRONLY)),
        Errno::EISDIR
    );
    env.finish();
}

#[test]
fn o_trunc_empties_the_file() {
    let env = Env::new();
    env.write_file(b"/f", b"hello").unwrap();
    let file = env
        .open(b"/f", OpenFlags::WRONLY | OpenFlags::TRUNC)
        .unwrap();
    file.release(&env.ctx);
    assert_eq!(env.stat(b"/f").unwrap().stx_size, 0);
    env.finish();
}

#[test]
fn search_permission_denied_is_eacces() {
    let env = Env::new();
    env.mkdir(b"/private", 0o700).unwrap();
    env.write_file(b"/private/f", b"").unwrap();
    let alice = user(1000, 1000);
    let pop = env.pop(b"/private/f");
    assert_eq!(
        errno(env.vfs.stat_at(&alice, &pop, StatOptions::default())),
        Errno::EACCES
    );
    // Read permission alone does not allow the lookup.
    env.mkdir(b"/readonly", 0o744).unwrap();
    env.write_file(b"/readonly/f", b"").unwrap();
    let pop = env.pop(b"/readonly/f");
    assert_eq!(
        errno(env.vfs.stat_at(&alice, &pop, StatOptions::default())),
        Errno::EACCES
    );
    // Root passes with CAP_DAC_READ_SEARCH.
    assert!(env.stat(b"/private/f").is_ok());
    env.finish();
}

#[test]
fn o_path_fd_reads_are_ebadf() {
    let env = Env::new();
    env.write_file(b"/f", b"data").unwrap();
    let file = env.open(b"/f", OpenFlags::PATH).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(
        errno(file.read(
            &env.ctx,
            &mut SliceDest::new(&mut buf),
            ReadOptions::default()
        )),
        Errno::EBADF
    );
    assert_eq!(
        errno(file.pread(
            &env.ctx,
            &mut SliceDest::new(&mut buf),
            0,
            ReadOptions::default()
        )),
        Errno::EBADF
    );
    // fstat works on an O_PATH descriptor.
    assert_eq!(
        file.stat(&env.ctx, StatOptions::default())
            .unwrap()
            .stx_size,
        4
    );
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn o_path_opens_symlink_itself_with_nofollow() {
    let env = Env::new();
    env.symlink(b"missing", b"/l").unwrap();
    let file = env
        .open(b"/l", OpenFlags::PATH | OpenFlags::NOFOLLOW)
        .unwrap();
    let stat = file.stat(&env.ctx, StatOptions::default()).unwrap();
    assert_eq!(common::file_type(&stat), abi_linux::S_IFLNK);
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn device_node_without_driver_is_enxio() {
    let env = Env::new();
    let opts = MknodOptions {
        mode: abi_linux::S_IFCHR | 0o666,
        dev_major: 240,
        dev_minor: 7,
    };
    env.vfs
        .mknod_at(&env.ctx, &env.pop(b"/dev0"), opts)
        .unwrap();
    let stat = env.stat(b"/dev0").unwrap();
    assert_eq!((stat.stx_rdev_major, stat.stx_rdev_minor), (240, 7));
    assert_eq!(errno(env.open(b"/dev0", common::O_RDONLY)), Errno::ENXIO);
    env.finish();
}

#[test]
fn mknod_device_without_cap_mknod_is_eperm() {
    let env = Env::new();
    env.mkdir(b"/pub", 0o777).unwrap();
    let opts = MknodOptions {
        mode: abi_linux::S_IFBLK | 0o600,
        dev_major: 8,
        dev_minor: 0,
    };
    assert_eq!(
        errno(env.vfs.mknod_at(&user(1, 1), &env.pop(b"/pub/blk"), opts)),
        Errno::EPERM
    );
    env.finish();
}

#[test]
fn path_name_of_nested_dir() {
    let env = Env::new();
    env.mkdir(b"/a", 0o755).unwrap();
    env.mkdir(b"/a/b", 0o755).unwrap();
    env.mkdir(b"/a/b/c", 0o755).unwrap();
    let vd = env.vd(b"/a/b/c").unwrap();
    assert_eq!(env.vfs.path_name(&env.root, &vd).unwrap(), b"/a/b/c");
    let root_vd = env.vd(b"/").unwrap();
    assert_eq!(env.vfs.path_name(&env.root, &root_vd).unwrap(), b"/");
    vd.release(&env.ctx);
    root_vd.release(&env.ctx);
    env.finish();
}

#[test]
fn path_name_crosses_mounts() {
    let env = Env::new();
    env.mkdir(b"/mnt", 0o755).unwrap();
    let mount = env.mount_testfs(b"/mnt").unwrap();
    env.mkdir(b"/mnt/sub", 0o755).unwrap();
    let vd = env.vd(b"/mnt/sub").unwrap();
    assert_eq!(env.vfs.path_name(&env.root, &vd).unwrap(), b"/mnt/sub");
    vd.release(&env.ctx);
    mount.release(&env.ctx);
    env.finish();
}

#[test]
fn path_name_outside_root_is_unreachable() {
    let env = Env::new();
    env.mkdir(b"/jail", 0o755).unwrap();
    env.mkdir(b"/other", 0o755).unwrap();
    let jail = env.vd(b"/jail").unwrap();
    let other = env.vd(b"/other").unwrap();
    assert_eq!(
        env.vfs.path_name(&jail, &other),
        Err(PathNameError::Unreachable(b"/other".to_vec()))
    );
    jail.release(&env.ctx);
    other.release(&env.ctx);
    env.finish();
}
