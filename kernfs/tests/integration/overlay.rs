//! An overlay memfs over a lower memfs tree: the lower tree reads through,
//! every change stays in the overlay, and the overlay keeps Linux's
//! overlayfs rules (copy-up on write, whiteouts, stable inode numbers,
//! lower hard links, attributes and extended attributes carried over).

use std::sync::Arc;

use abi_linux::{Errno, OpenFlags, RenameFlags, StatxMask};
use kernfs::memfs::{MemfsOptions, OVERLAYFS_SUPER_MAGIC, UPPER_INO_BASE};
use vfs_core::io::SliceSource;
use vfs_core::{
    GetXattrOptions, MountNamespace, MountOptionFlags, RenameOptions, SetStatOptions,
    SetXattrOptions, VirtualDentry, WriteOptions,
};

use crate::common::{Env, read_all};

/// The lower tree (in `lower`, under `/lower`) and an overlay of it as the
/// root of a namespace of its own.
struct Overlay {
    lower: Env,
    ns: Arc<MountNamespace>,
    root: VirtualDentry,
}

impl Overlay {
    /// An overlay of `/lower` after `fill` has built it.
    fn new(fill: impl FnOnce(&Env)) -> Overlay {
        let lower = Env::memfs("");
        lower.mkdir(&lower.ctx, "/lower", 0o755).unwrap();
        fill(&lower);
        let lower_vd = lower
            .vfs
            .get_dentry_at(&lower.ctx, &lower.pop(b"/lower"), Default::default())
            .unwrap();
        let (fs, root) = kernfs::memfs::new_overlay(
            &lower.ctx,
            &lower.vfs,
            lower_vd,
            &MemfsOptions::default(),
            None,
        )
        .unwrap();
        let mount = lower
            .vfs
            .new_disconnected_mount(fs, root, MountOptionFlags::empty());
        let ns = lower.vfs.new_mount_namespace_from(mount);
        let root = ns.root();
        Overlay { lower, ns, root }
    }

    /// The overlay's view, as an environment over its namespace.
    fn env(&self) -> OverlayView<'_> {
        OverlayView { overlay: self }
    }

    fn finish(self) {
        let Overlay { lower, ns, root } = self;
        root.release(&lower.ctx);
        lower.vfs.release_mount_namespace(&ns);
        drop(ns);
        lower.finish();
    }
}

/// Path operations on the overlay, through the lower environment's
/// helpers with the overlay's root.
struct OverlayView<'a> {
    overlay: &'a Overlay,
}

impl OverlayView<'_> {
    fn with<T>(&self, f: impl FnOnce(&Env) -> T) -> T {
        // An environment that shares the VFS but resolves from the
        // overlay's root; it is taken apart again without a teardown.
        let lower = &self.overlay.lower;
        let env = Env::view(&lower.vfs, &self.overlay.ns, &lower.ctx);
        let result = f(&env);
        env.forget();
        result
    }
}

/// The entries of the directory at `path`, `.` and `..` left out.
fn names(env: &Env, path: &str) -> Vec<String> {
    let mut names = env.list(path);
    names.retain(|n| n != "." && n != "..");
    names
}

fn write(env: &Env, path: &str, flags: OpenFlags, data: &[u8]) {
    let fd = env
        .open(&env.ctx, path, flags | OpenFlags::WRONLY, 0o644)
        .unwrap();
    fd.write(
        &env.ctx,
        &mut SliceSource::new(data),
        WriteOptions::default(),
    )
    .unwrap();
    fd.release(&env.ctx);
}

fn lower_tree(env: &Env) {
    env.mkdir(&env.ctx, "/lower/dir", 0o750).unwrap();
    env.mkdir(&env.ctx, "/lower/dir/sub", 0o755).unwrap();
    env.write_file("/lower/dir/f", b"lower data");
    env.write_file("/lower/dir/sub/x", b"x");
    env.write_file("/lower/a", b"a");
    env.write_file("/lower/b", b"b");
    env.vfs
        .symlink_at(&env.ctx, &env.pop(b"/lower/link"), b"dir/f")
        .unwrap();
}

#[test]
fn lower_files_read_through_and_writes_stay_in_the_overlay() {
    let ov = Overlay::new(lower_tree);
    ov.env().with(|env| {
        assert_eq!(env.read_file("/dir/f"), b"lower data");
        assert_eq!(env.read_file("/link"), b"lower data");
        let before = env.stat("/dir/f").unwrap();
        write(env, "/dir/f", OpenFlags::APPEND, b"+more");
        assert_eq!(env.read_file("/dir/f"), b"lower data+more");
        let after = env.stat("/dir/f").unwrap();
        assert_eq!(before.stx_ino, after.stx_ino, "copy-up keeps st_ino");
        assert_eq!(after.stx_size, 15);
        write(env, "/dir/f", OpenFlags::TRUNC, b"new");
        assert_eq!(env.read_file("/dir/f"), b"new");
        env.write_file("/created", b"c");
        assert!(env.stat("/created").unwrap().stx_ino >= UPPER_INO_BASE);
    });
    let lower = &ov.lower;
    assert_eq!(lower.read_file("/lower/dir/f"), b"lower data");
    assert_eq!(lower.stat("/lower/created"), Err(Errno::ENOENT));
    let lower_ino = lower.stat("/lower/dir/f").unwrap().stx_ino;
    ov.env()
        .with(|env| assert_eq!(env.stat("/dir/f").unwrap().stx_ino, lower_ino));
    ov.finish();
}

#[test]
fn a_read_only_open_before_a_copy_up_reads_the_copy_after_it() {
    // Linux's overlayfs since 4.19 (stacked file operations).
    let ov = Overlay::new(lower_tree);
    ov.env().with(|env| {
        let old = env.open(&env.ctx, "/dir/f", OpenFlags::empty(), 0).unwrap();
        let mut first = [0u8; 6];
        let n = old
            .read(
                &env.ctx,
                &mut vfs_core::io::SliceDest::new(&mut first),
                Default::default(),
            )
            .unwrap();
        assert_eq!(&first[..n], b"lower ");
        write(env, "/dir/f", OpenFlags::APPEND, b"+upper");
        assert_eq!(read_all(&env.ctx, &old), b"data+upper");
        let st = old.stat(&env.ctx, Default::default()).unwrap();
        assert_eq!(st.stx_size, 16, "metadata is the overlay's");
        assert_eq!(old.seek(&env.ctx, 0, abi_linux::Whence::End).unwrap(), 16);
        old.release(&env.ctx);
    });
    ov.finish();
}

#[test]
fn removed_lower_entries_stay_removed_and_listings_merge() {
    let ov = Overlay::new(lower_tree);
    ov.env().with(|env| {
        env.vfs.unlink_at(&env.ctx, &env.pop(b"/a")).unwrap();
        assert_eq!(env.stat("/a"), Err(Errno::ENOENT));
        env.write_file("/c", b"c");
        assert_eq!(names(env, "/"), ["b", "c", "dir", "link"]);
        // A new file under the removed name starts empty.
        env.write_file("/a", b"");
        assert_eq!(env.read_file("/a"), b"");
        // Not empty until the lower children are gone too.
        assert_eq!(
            env.vfs.rmdir_at(&env.ctx, &env.pop(b"/dir/sub")),
            Err(Errno::ENOTEMPTY)
        );
        env.vfs
            .unlink_at(&env.ctx, &env.pop(b"/dir/sub/x"))
            .unwrap();
        env.vfs.rmdir_at(&env.ctx, &env.pop(b"/dir/sub")).unwrap();
        assert_eq!(names(env, "/dir"), ["f"]);
        // A directory made again under the same name is empty.
        env.mkdir(&env.ctx, "/dir/sub", 0o700).unwrap();
        assert!(names(env, "/dir/sub").is_empty());
    });
    let lower = &ov.lower;
    assert_eq!(names(lower, "/lower"), ["a", "b", "dir", "link"]);
    assert_eq!(names(lower, "/lower/dir/sub"), ["x"]);
    ov.finish();
}

#[test]
fn directories_rename_with_their_lower_contents() {
    let ov = Overlay::new(lower_tree);
    ov.env().with(|env| {
        env.vfs
            .rename_at(
                &env.ctx,
                &env.pop(b"/dir"),
                &env.pop(b"/moved"),
                RenameOptions {
                    flags: RenameFlags::empty(),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(env.stat("/dir"), Err(Errno::ENOENT));
        assert_eq!(env.read_file("/moved/sub/x"), b"x");
        assert_eq!(names(env, "/moved"), ["f", "sub"]);
        assert_eq!(names(env, "/"), ["a", "b", "link", "moved"]);
        // The lower symlink's target does not follow the rename.
        assert_eq!(
            env.open(&env.ctx, "/link", OpenFlags::empty(), 0).err(),
            Some(Errno::ENOENT)
        );
    });
    assert_eq!(names(&ov.lower, "/lower/dir"), ["f", "sub"]);
    ov.finish();
}

#[test]
fn metadata_and_extended_attributes_carry_over_and_change_only_above() {
    let ov = Overlay::new(|env| {
        lower_tree(env);
        env.vfs
            .set_xattr_at(
                &env.ctx,
                &env.pop(b"/lower/dir/f"),
                &SetXattrOptions {
                    name: b"user.origin".to_vec(),
                    value: b"lower".to_vec(),
                    flags: Default::default(),
                },
            )
            .unwrap();
        env.chown(&env.ctx, "/lower/dir/f", 7, 8).unwrap();
    });
    let lower_stat = ov.lower.stat("/lower/dir/f").unwrap();
    ov.env().with(|env| {
        let st = env.stat("/dir/f").unwrap();
        assert_eq!(
            (st.stx_mode, st.stx_uid, st.stx_gid, st.stx_nlink),
            (
                lower_stat.stx_mode,
                lower_stat.stx_uid,
                lower_stat.stx_gid,
                lower_stat.stx_nlink
            )
        );
        assert_eq!(st.stx_mtime.tv_sec, lower_stat.stx_mtime.tv_sec);
        assert_eq!(st.stx_mtime.tv_nsec, lower_stat.stx_mtime.tv_nsec);
        assert_eq!(env.stat("/dir").unwrap().stx_mode & 0o7777, 0o750);
        let get = |env: &Env| {
            env.vfs.get_xattr_at(
                &env.ctx,
                &env.pop(b"/dir/f"),
                &GetXattrOptions {
                    name: b"user.origin".to_vec(),
                    size: 0,
                },
            )
        };
        assert_eq!(get(env).unwrap(), b"lower");
        write(env, "/dir/f", OpenFlags::APPEND, b"!");
        assert_eq!(get(env).unwrap(), b"lower", "copy-up keeps xattrs");
        env.chmod(&env.ctx, "/dir/f", 0o600).unwrap();
        env.chown(&env.ctx, "/dir/f", 1, 1).unwrap();
        let mut opts = SetStatOptions::default();
        opts.stat.stx_mask = StatxMask::SIZE.bits();
        opts.stat.stx_size = 3;
        env.vfs
            .set_stat_at(&env.ctx, &env.pop(b"/a"), opts)
            .unwrap();
        assert_eq!(env.read_file("/a"), b"a\0\0");
        let fs = env.vfs.statfs_at(&env.ctx, &env.pop(b"/")).unwrap();
        assert_eq!(fs.f_type, OVERLAYFS_SUPER_MAGIC);
        assert_eq!(libc::OVERLAYFS_SUPER_MAGIC, OVERLAYFS_SUPER_MAGIC);
    });
    let after = ov.lower.stat("/lower/dir/f").unwrap();
    assert_eq!(
        (after.stx_mode, after.stx_uid, after.stx_size),
        (lower_stat.stx_mode, 7, 10)
    );
    ov.finish();
}

#[test]
fn lower_hard_links_stay_one_inode() {
    let ov = Overlay::new(|env| {
        lower_tree(env);
        env.vfs
            .link_at(
                &env.ctx,
                &env.pop(b"/lower/dir/f"),
                &env.pop(b"/lower/hard"),
            )
            .unwrap();
    });
    ov.env().with(|env| {
        let one = env.stat("/dir/f").unwrap();
        let two = env.stat("/hard").unwrap();
        assert_eq!((one.stx_ino, one.stx_nlink), (two.stx_ino, 2));
        write(env, "/hard", OpenFlags::TRUNC, b"through the link");
        assert_eq!(env.read_file("/dir/f"), b"through the link");
        env.vfs.unlink_at(&env.ctx, &env.pop(b"/hard")).unwrap();
        assert_eq!(env.stat("/dir/f").unwrap().stx_nlink, 1);
    });
    assert_eq!(ov.lower.read_file("/lower/hard"), b"lower data");
    ov.finish();
}
