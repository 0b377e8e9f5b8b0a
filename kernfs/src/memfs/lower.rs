//! The read-only lower layer of an overlay memfs ([`super::new_overlay`]),
//! gVisor's overlay with a tmpfs upper layer (runsc's `--overlay2
//! root:memory`).
//!
//! An overlay memfs starts as the lower tree's root directory and brings
//! the lower tree in lazily: a directory looks a name up in the lower
//! layer the first time it is asked for it and keeps the inode it makes,
//! and lists the whole lower directory the first time it is read. From
//! then on the memfs inode is the file: its metadata changes in memory
//! only, and a regular file's contents are copied up (read whole into the
//! memfs's pages) the first time it is opened for writing or truncated.
//! Until then, a read-only open reads the lower file itself, and an
//! open file or a mapping made before a copy-up keeps seeing the lower
//! file, as on Linux's overlayfs. A name removed from a directory that has
//! not listed its lower entries yet is remembered (overlayfs's whiteout) so
//! the lower entry does not come back.
//!
//! Lower files are reached by path from the lower root, with root's
//! credentials (overlayfs acts on the lower layer with its mounter's), so
//! no lower dentry stays referenced by an overlay inode: a tree walked once
//! does not pin a 9P fid per file in a gofer.
//!
//! Files keep their lower inode numbers (hard links in the lower tree stay
//! one inode); files made in the overlay are numbered from
//! [`UPPER_INO_BASE`], above any ext4 inode number.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use abi_linux::{Errno, OpenFlags, Rlimit, RlimitResource, Statx, StatxMask, Timespec};
use hashbrown::HashMap;
use vfs_core::io::SliceDest;
use vfs_core::lock::Blocker;
use vfs_core::{
    Context, Credentials, DirentVec, FileRef, GetXattrOptions, OpenOptions, PathOperation,
    ReadOptions, StatOptions, VirtualDentry, VirtualFilesystem,
};

use super::regular_file::RegularFile;

/// The first inode number of files made in the overlay.
pub const UPPER_INO_BASE: u64 = 1 << 40;

/// A file's path below the lower root (`.` for the root itself).
pub(super) type LowerPath = Arc<[u8]>;

/// Extended attributes: names and values.
pub(super) type XattrList = Vec<(Vec<u8>, Vec<u8>)>;

/// The path of `name` in the lower directory `parent`.
pub(super) fn child_path(parent: &[u8], name: &[u8]) -> LowerPath {
    if parent == b"." {
        return Arc::from(name);
    }
    let mut path = Vec::with_capacity(parent.len() + 1 + name.len());
    path.extend_from_slice(parent);
    path.push(b'/');
    path.extend_from_slice(name);
    Arc::from(path)
}

/// The lower layer: a directory of another filesystem, reached read-only.
pub(super) struct Lower {
    vfs: Weak<VirtualFilesystem>,
    root: VirtualDentry,
    creds: Credentials,
    /// Regular files with more than one link, by lower inode number, so
    /// every name of a lower hard link finds the same overlay inode.
    links: spin::Mutex<HashMap<u64, Weak<RegularFile>>>,
}

/// The caller's context with the layer's credentials.
struct LayerContext<'a> {
    outer: &'a dyn Context,
    creds: &'a Credentials,
}

impl Context for LayerContext<'_> {
    fn credentials(&self) -> &Credentials {
        self.creds
    }

    fn now(&self) -> Timespec {
        self.outer.now()
    }

    fn rlimit(&self, resource: RlimitResource) -> Rlimit {
        let _ = resource;
        Rlimit {
            cur: abi_linux::RLIM_INFINITY,
            max: abi_linux::RLIM_INFINITY,
        }
    }

    fn blocker(&self) -> Option<&dyn Blocker> {
        self.outer.blocker()
    }
}

/// The most bytes read from the lower layer at once.
pub(super) const COPY_CHUNK: usize = 64 * 1024;

impl Lower {
    pub(super) fn new(vfs: &Arc<VirtualFilesystem>, root: VirtualDentry) -> Self {
        Self {
            vfs: Arc::downgrade(vfs),
            root,
            creds: Credentials::root(),
            links: spin::Mutex::new(HashMap::new()),
        }
    }

    /// Runs `op` on the lower file at `path` with the layer's
    /// credentials.
    fn with<T>(
        &self,
        ctx: &dyn Context,
        path: &[u8],
        op: impl FnOnce(&Arc<VirtualFilesystem>, &dyn Context, &PathOperation<'_>) -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        let vfs = self.vfs.upgrade().ok_or(Errno::EIO)?;
        let ctx = LayerContext {
            outer: ctx,
            creds: &self.creds,
        };
        let pop = PathOperation::new(&self.root, &self.root, path).follow_final(false);
        op(&vfs, &ctx, &pop)
    }

    /// `lstat` of the lower file.
    pub(super) fn stat(&self, ctx: &dyn Context, path: &[u8]) -> Result<Statx, Errno> {
        let opts = StatOptions {
            mask: StatxMask::BASIC_STATS | StatxMask::BTIME,
            sync: 0,
        };
        self.with(ctx, path, |vfs, ctx, pop| vfs.stat_at(ctx, pop, opts))
    }

    /// The target of the lower symlink.
    pub(super) fn readlink(&self, ctx: &dyn Context, path: &[u8]) -> Result<Vec<u8>, Errno> {
        self.with(ctx, path, |vfs, ctx, pop| vfs.readlink_at(ctx, pop))
    }

    /// Opens the lower file read-only.
    pub(super) fn open(&self, ctx: &dyn Context, path: &[u8]) -> Result<FileRef, Errno> {
        let opts = OpenOptions {
            flags: OpenFlags::NOFOLLOW | OpenFlags::LARGEFILE,
            ..OpenOptions::default()
        };
        self.with(ctx, path, |vfs, ctx, pop| vfs.open_at(ctx, pop, opts))
    }

    /// Reads the lower file `file` at `offset` into `buf`.
    pub(super) fn read(
        &self,
        ctx: &dyn Context,
        file: &FileRef,
        buf: &mut [u8],
        offset: u64,
    ) -> Result<usize, Errno> {
        let ctx = LayerContext {
            outer: ctx,
            creds: &self.creds,
        };
        let offset = i64::try_from(offset).map_err(|_| Errno::EFBIG)?;
        file.pread(
            &ctx,
            &mut SliceDest::new(buf),
            offset,
            ReadOptions::default(),
        )
    }

    /// The names in the lower directory, `.` and `..` left out.
    pub(super) fn names(&self, ctx: &dyn Context, path: &[u8]) -> Result<Vec<Vec<u8>>, Errno> {
        let opts = OpenOptions {
            flags: OpenFlags::DIRECTORY | OpenFlags::NOFOLLOW,
            ..OpenOptions::default()
        };
        self.with(ctx, path, |vfs, ctx, pop| {
            let dir = vfs.open_at(ctx, pop, opts)?;
            let mut names = Vec::new();
            let result = loop {
                let mut batch = DirentVec::default();
                if let Err(errno) = dir.iter_dirents(ctx, &mut batch) {
                    break Err(errno);
                }
                if batch.entries.is_empty() {
                    break Ok(());
                }
                names.extend(
                    batch
                        .entries
                        .into_iter()
                        .map(|(name, ..)| name)
                        .filter(|name| !vfs_core::path::is_dot_or_dotdot(name)),
                );
            };
            dir.release(ctx);
            result.map(|()| names)
        })
    }

    /// The lower file's extended attributes that a memfs keeps (`user.`
    /// and `trusted.`); none when the lower filesystem has none.
    pub(super) fn xattrs(&self, ctx: &dyn Context, path: &[u8]) -> Result<XattrList, Errno> {
        self.with(ctx, path, |vfs, ctx, pop| {
            let names = match vfs.list_xattr_at(ctx, pop) {
                Ok(names) => names,
                Err(Errno::EOPNOTSUPP) => return Ok(Vec::new()),
                Err(errno) => return Err(errno),
            };
            let mut values = Vec::new();
            for name in names.into_iter().filter(|n| super::xattr::supported(n)) {
                let opts = GetXattrOptions {
                    name: name.clone(),
                    size: 0,
                };
                match vfs.get_xattr_at(ctx, pop, &opts) {
                    Ok(value) => values.push((name, value)),
                    Err(Errno::ENODATA) => {}
                    Err(errno) => return Err(errno),
                }
            }
            Ok(values)
        })
    }

    /// The overlay inode already made for the lower hard link `ino`.
    pub(super) fn linked(&self, ino: u64) -> Option<Arc<RegularFile>> {
        self.links.lock().get(&ino).and_then(Weak::upgrade)
    }

    /// Records `file` as the overlay inode of the lower hard link `ino`.
    pub(super) fn add_link(&self, ino: u64, file: &Arc<RegularFile>) {
        let mut links = self.links.lock();
        // Forget files gone since, now and then, so the table stays as
        // small as the set of live hard-linked files.
        if links.len() >= 1024 && links.len().is_power_of_two() {
            links.retain(|_, file| file.strong_count() > 0);
        }
        links.insert(ino, Arc::downgrade(file));
    }
}
