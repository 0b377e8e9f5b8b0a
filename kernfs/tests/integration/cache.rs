//! The dentry cache: LRU bound and eviction, `max_cached_dentries = 0`,
//! deferred dec-refs, revalidation, `keep`, hard-link lifetimes and
//! `walk_dentry_tree`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use abi_linux::{Errno, FileMode, FileType, OpenFlags, Statx};
use kernfs::memfs::{self, MemfsOptions};
use kernfs::{
    BytesSource, Dentry, DirectoryGenerator, DynamicBytesFile, DynamicDirectory, Filesystem,
    FilesystemOptions, Inode, InodeAttrs, StaticDirectory,
};
use vfs_core::{
    Context, Credentials, DentryImpl, DentryRef, FileRef, GetDentryOptions, MountOptionFlags,
    OpenOptions, SimpleContext, StatOptions, VirtualDentry, VirtualFilesystem,
};

use crate::common::Env;

fn memfs_env(max_cached_dentries: usize) -> (Env, Arc<Filesystem>) {
    let scope = refs::LeakCheckScope::new();
    let ctx = SimpleContext::root();
    let vfs = VirtualFilesystem::new();
    let opts = MemfsOptions {
        max_cached_dentries,
        ..MemfsOptions::default()
    };
    let (fs, root) = memfs::new_filesystem(&ctx, &vfs, "tmpfs", &opts, None).unwrap();
    let mount = vfs.new_disconnected_mount(fs, root, MountOptionFlags::empty());
    let kfs = Arc::clone(Dentry::from_vfs(&**mount.root()).unwrap().filesystem());
    let ns = vfs.new_mount_namespace_from(mount);
    (Env::from_parts(vfs, ns, ctx, scope), kfs)
}

fn dentry_of(env: &Env, path: &str) -> Arc<dyn DentryImpl> {
    let vd = env
        .vfs
        .get_dentry_at(
            &env.ctx,
            &env.pop(path.as_bytes()),
            GetDentryOptions::default(),
        )
        .unwrap();
    let arc = Arc::clone(vd.dentry.as_arc());
    vd.release(&env.ctx);
    arc
}

#[test]
fn lru_never_exceeds_bound_and_evicted_dentries_are_invalidated() {
    let (env, kfs) = memfs_env(4);
    env.write_file("/f0", b"zero");
    let first = dentry_of(&env, "/f0");
    assert!(Dentry::from_vfs(&*first).unwrap().is_cached());
    for i in 1..20 {
        env.write_file(&format!("/f{i}"), b"");
        assert!(
            kfs.cached_dentries() <= 4,
            "{} cached",
            kfs.cached_dentries()
        );
        env.stat(&format!("/f{}", i / 2)).unwrap();
        assert!(kfs.cached_dentries() <= 4);
    }
    let evicted = Dentry::from_vfs(&*first).unwrap();
    assert!(evicted.is_destroyed());
    assert!(
        first.vfs_dentry().is_dead(),
        "an evicted dentry is invalidated"
    );
    assert_eq!(env.read_file("/f0"), b"zero", "the file is looked up again");
    let again = dentry_of(&env, "/f0");
    assert!(!Arc::ptr_eq(&first, &again));
    drop((first, again));
    env.finish();
}

#[test]
fn without_caching_unreferenced_dentries_are_destroyed_at_once() {
    let (env, kfs) = memfs_env(0);
    env.mkdir(&env.ctx, "/d", 0o755).unwrap();
    env.write_file("/d/f", b"");
    assert_eq!(kfs.cached_dentries(), 0);
    let d = dentry_of(&env, "/d/f");
    assert!(Dentry::from_vfs(&*d).unwrap().is_destroyed());
    drop(d);
    env.finish();
}

#[test]
fn released_dentry_stays_cached_with_zero_references() {
    let (env, kfs) = memfs_env(10);
    env.write_file("/f", b"");
    let fd = env.open(&env.ctx, "/f", OpenFlags::empty(), 0).unwrap();
    let d = Dentry::of_file(&fd).unwrap();
    assert_eq!(d.ref_count(), 1, "held by the open file only");
    let arc = d.parent().unwrap();
    assert!(arc.ref_count() >= 1, "a child holds its parent");
    drop(arc);
    let d: Arc<dyn DentryImpl> = Arc::clone(fd.dentry());
    fd.release(&env.ctx);
    let kd = Dentry::from_vfs(&*d).unwrap();
    assert!(kd.is_cached());
    assert_eq!(kd.ref_count(), 0);
    assert_eq!(kfs.cached_dentries(), 1);
    assert_eq!(
        env.stat("/f").unwrap().stx_size,
        0,
        "a cached dentry is found again"
    );
    assert_eq!(kd.ref_count(), 0);
    drop(d);
    env.finish();
}

#[test]
fn inode_outlives_unlinked_name_through_hard_link_after_eviction() {
    let (env, kfs) = memfs_env(2);
    env.write_file("/a", b"payload");
    env.vfs
        .link_at(&env.ctx, &env.pop(b"/a"), &env.pop(b"/b"))
        .unwrap();
    env.vfs.unlink_at(&env.ctx, &env.pop(b"/a")).unwrap();
    kfs.evict_all_cached(&env.ctx);
    assert_eq!(kfs.cached_dentries(), 0);
    assert_eq!(env.read_file("/b"), b"payload");
    assert_eq!(env.stat("/b").unwrap().stx_nlink, 1);
    env.finish();
}

// ---- A small pseudo filesystem ---------------------------------------------

struct Text(&'static str);

impl BytesSource for Text {
    fn generate(&self, _: &dyn Context, buf: &mut Vec<u8>) -> Result<(), Errno> {
        buf.extend_from_slice(self.0.as_bytes());
        Ok(())
    }
}

/// A file whose `stat` releases a stored dentry reference: the release
/// happens under the filesystem lock, which the deferral must survive.
struct Dropper {
    attrs: InodeAttrs,
    held: spin::Mutex<Option<DentryRef>>,
}

impl Inode for Dropper {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn stat(&self, ctx: &dyn Context, fs: &Filesystem, _: StatOptions) -> Result<Statx, Errno> {
        if let Some(d) = self.held.lock().take() {
            d.release(ctx);
        }
        Ok(self.attrs.stat(fs.dev(), 0, 0))
    }

    fn open(&self, _: &dyn Context, _: &VirtualDentry, _: OpenOptions) -> Result<FileRef, Errno> {
        Err(Errno::ENXIO)
    }
}

/// Generates `item` entries whose inodes are valid while `valid` is set and
/// are kept in the cache only when `keep` is set.
struct Items {
    valid: Arc<AtomicBool>,
    keep: bool,
    next_ino: AtomicU64,
}

struct Item {
    attrs: InodeAttrs,
    valid: Arc<AtomicBool>,
    keep: bool,
}

impl Inode for Item {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn keep(&self) -> bool {
        self.keep
    }

    fn valid(&self, _: &dyn Context, _: &[u8]) -> bool {
        self.valid.load(Ordering::SeqCst)
    }

    fn open(&self, _: &dyn Context, _: &VirtualDentry, _: OpenOptions) -> Result<FileRef, Errno> {
        Err(Errno::ENXIO)
    }
}

impl DirectoryGenerator for Items {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(vec![b"item".to_vec()])
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if name != b"item" {
            return Err(Errno::ENOENT);
        }
        let ino = self.next_ino.fetch_add(1, Ordering::SeqCst);
        Ok(Arc::new(Item {
            attrs: InodeAttrs::new(
                ino,
                0,
                0,
                FileMode::new(FileType::Regular, 0o444),
                Default::default(),
            ),
            valid: Arc::clone(&self.valid),
            keep: self.keep,
        }))
    }
}

struct Pseudo {
    env: Env,
    kfs: Arc<Filesystem>,
    dropper: Arc<Dropper>,
    valid: Arc<AtomicBool>,
}

fn pseudo_env(keep: bool) -> Pseudo {
    let scope = refs::LeakCheckScope::new();
    let ctx = SimpleContext::root();
    let vfs = VirtualFilesystem::new();
    let kfs = Filesystem::new(&vfs, FilesystemOptions::default()).unwrap();
    let creds = Credentials::root();
    let dropper = Arc::new(Dropper {
        attrs: InodeAttrs::new(
            kfs.next_ino(),
            0,
            0,
            FileMode::new(FileType::Regular, 0o444),
            Default::default(),
        ),
        held: spin::Mutex::new(None),
    });
    let valid = Arc::new(AtomicBool::new(true));
    let items = DynamicDirectory::new(
        &kfs,
        &creds,
        0o555,
        Items {
            valid: Arc::clone(&valid),
            keep,
            next_ino: AtomicU64::new(1000),
        },
    );
    let root = StaticDirectory::new(
        &kfs,
        &creds,
        0o555,
        vec![
            (
                b"file".as_slice(),
                DynamicBytesFile::new(&kfs, &creds, 0o444, Text("hi\n")) as Arc<dyn Inode>,
            ),
            (
                b"dropper".as_slice(),
                Arc::clone(&dropper) as Arc<dyn Inode>,
            ),
            (b"dyn".as_slice(), items as Arc<dyn Inode>),
        ],
    )
    .unwrap();
    let (fs, root) = kfs.into_vfs(&vfs, "pseudo", root);
    let mount = vfs.new_disconnected_mount(fs, root, MountOptionFlags::empty());
    let ns = vfs.new_mount_namespace_from(mount);
    Pseudo {
        env: Env::from_parts(vfs, ns, ctx, scope),
        kfs,
        dropper,
        valid,
    }
}

#[test]
fn dec_ref_under_the_filesystem_lock_is_deferred() {
    let p = pseudo_env(true);
    let env = &p.env;
    let vd = env
        .vfs
        .get_dentry_at(&env.ctx, &env.pop(b"/file"), GetDentryOptions::default())
        .unwrap();
    let file: Arc<dyn DentryImpl> = Arc::clone(vd.dentry.as_arc());
    *p.dropper.held.lock() = Some(vd.dentry.clone());
    vd.release(&env.ctx);
    let kernfs_file = Dentry::from_vfs(&*file).unwrap();
    assert_eq!(
        kernfs_file.ref_count(),
        1,
        "only the dropper's reference is left"
    );
    assert!(!kernfs_file.is_cached());
    // The dropper releases the last reference inside `stat`, while the
    // walk holds the filesystem lock for reading.
    env.stat("/dropper").unwrap();
    assert_eq!(kernfs_file.ref_count(), 0);
    assert!(
        kernfs_file.is_cached(),
        "the deferred dec-ref was processed after the lock"
    );
    drop(file);
    drop(p.dropper);
    let kfs = p.kfs;
    drop(kfs);
    p.env.finish();
}

#[test]
fn invalid_dentries_force_a_new_lookup() {
    let p = pseudo_env(true);
    let env = &p.env;
    let first = env.stat("/dyn/item").unwrap().stx_ino;
    assert_eq!(
        env.stat("/dyn/item").unwrap().stx_ino,
        first,
        "a valid cached dentry is reused"
    );
    let old = dentry_of(env, "/dyn/item");
    p.valid.store(false, Ordering::SeqCst);
    let second = env.stat("/dyn/item").unwrap().stx_ino;
    assert_ne!(second, first);
    assert!(old.vfs_dentry().is_dead());
    assert!(Dentry::from_vfs(&*old).unwrap().is_destroyed());
    p.valid.store(true, Ordering::SeqCst);
    drop(old);
    drop((p.dropper, p.kfs));
    p.env.finish();
}

#[test]
fn dentries_of_inodes_not_kept_are_dropped_after_the_operation() {
    let p = pseudo_env(false);
    let env = &p.env;
    let before = p.kfs.cached_dentries();
    let item = dentry_of(env, "/dyn/item");
    assert!(Dentry::from_vfs(&*item).unwrap().is_destroyed());
    assert!(
        p.kfs.cached_dentries() <= before + 1,
        "only /dyn itself may be cached"
    );
    let a = env.stat("/dyn/item").unwrap().stx_ino;
    let b = env.stat("/dyn/item").unwrap().stx_ino;
    assert_ne!(a, b, "every operation looks the entry up again");
    drop(item);
    drop((p.dropper, p.kfs));
    p.env.finish();
}

#[test]
fn pseudo_files_list_and_read() {
    let p = pseudo_env(true);
    let env = &p.env;
    assert_eq!(env.list("/"), [".", "..", "dropper", "dyn", "file"]);
    assert_eq!(env.list("/dyn"), [".", "..", "item"]);
    assert_eq!(env.read_file("/file"), b"hi\n");
    assert_eq!(env.create(&env.ctx, "/new", 0o644), Err(Errno::EPERM));
    let user = SimpleContext::new(Credentials::user(1000, 1000));
    assert_eq!(
        env.open(&user, "/file", OpenFlags::WRONLY, 0).err(),
        Some(Errno::EACCES)
    );
    drop((p.dropper, p.kfs));
    p.env.finish();
}

#[test]
fn walk_dentry_tree_reaches_files_of_an_unmounted_tree() {
    let scope = refs::LeakCheckScope::new();
    let ctx = SimpleContext::root();
    let vfs = VirtualFilesystem::new();
    let kfs = Filesystem::new(&vfs, FilesystemOptions::default()).unwrap();
    let creds = Credentials::root();
    let file = DynamicBytesFile::new(&kfs, &creds, 0o444, Text("x"));
    let ino = file.attrs().ino();
    let sub = StaticDirectory::new(
        &kfs,
        &creds,
        0o555,
        vec![(b"file".as_slice(), file as Arc<dyn Inode>)],
    )
    .unwrap();
    let root = StaticDirectory::new(
        &kfs,
        &creds,
        0o555,
        vec![(b"sub".as_slice(), sub as Arc<dyn Inode>)],
    )
    .unwrap();
    let root = kfs.new_root(root);
    let found = kfs.walk_dentry_tree(&ctx, &root, b"sub/file").unwrap();
    assert_eq!(
        Dentry::from_vfs(&*found).unwrap().inode().attrs().ino(),
        ino
    );
    assert_eq!(
        kfs.walk_dentry_tree(&ctx, &root, b"sub/none").err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(
        kfs.walk_dentry_tree(&ctx, &root, b"sub/file/x").err(),
        Some(Errno::ENOTDIR)
    );
    found.release(&ctx);
    root.release(&ctx);
    kfs.evict_all_cached(&ctx);
    drop(kfs);
    scope.assert_clean();
}
