//! The vfs-core filesystem of an image (gVisor's `fsimpl/ext`): filesystem
//! types `ext4`, `ext3` and `ext2`, read-only.
//!
//! Mount it by registering [`ExtFilesystemType`]s and passing the image in
//! [`GetFilesystemOptions::internal_data`] as one of:
//!
//! - an [`ExtMountData`] (an image source or an opened [`Ext4`], plus
//!   options: the page-cache memory, the dentry cache size);
//! - an [`Ext4`] already opened (the `Arc<Ext4>` itself, coerced to
//!   `Arc<dyn Any + Send + Sync>`);
//! - an `Arc<dyn BlockSource>` (wrapped once more in an `Arc`), opened with
//!   checksum verification.
//!
//! An image this crate cannot read is refused with `EINVAL` (a corrupt one
//! with `EIO`), as Linux refuses to mount it. The mount data string accepts
//! what a read-only ext4 mount accepts without effect here (`ro`,
//! `noload`, `norecovery`) and `nocsum` (skip metadata checksums); anything
//! else is `EINVAL`.
//!
//! Every mutation is `EROFS`, after the errors Linux reports first for
//! the same path (`ENOENT`, `ENOTDIR`, `EEXIST`, `EISDIR`, ...). Reads,
//! directory listings, `readlink`, extended attributes, `statfs`, locks and
//! `mmap` work; device nodes open the VFS's registered devices.
//!
//! # Reference model
//!
//! See [`dentry`] for dentries and the LRU. A [`Filesystem`] holds its
//! [`ExtFs`] (`Arc`), which holds the root dentry until release; dentries
//! and inodes hold the [`Ext4`] through the shared state.
//!
//! # Lock order
//!
//! The tree lock (read for every path operation, write for eviction,
//! moving pending dentries into the tree and release) → the pending
//! dentries → the LRU → the inode table; a page cache's mutex and a
//! description's offset mutex are leaves. A walk takes the tree lock once
//! and no lock or reference per cached component.

mod dentry;
mod file;
mod mmap;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;

use abi_linux::{
    Capability, Errno, FileType as AbiFileType, OpenFlags, Statfs, Statx, StatxMask, StatxTimestamp,
};
use vfs_core::file_description_util::DirectoryFile;
use vfs_core::memmap::{HeapMemoryFile, MemoryFile};
use vfs_core::path::NAME_MAX;
use vfs_core::permissions::{check_xattr_permissions, generic_permission};
use vfs_core::{
    AccessTypes, Context, DentryImpl, DentryRef, DeviceKind, FileDescription, FileDescriptionImpl,
    FileDescriptionOptions, FileRef, Filesystem, FilesystemImpl, FilesystemRef, FilesystemType,
    FilesystemTypeFlags, GetDentryOptions, GetFilesystemOptions, GetXattrOptions, MkdirOptions,
    MknodOptions, OpenOptions, PathResult, RenameOptions, ResolvingPath, SetStatOptions,
    SetXattrOptions, StatOptions, VirtualDentry, VirtualFilesystem,
};

pub use dentry::{ExtDentry, ExtInode};
pub use mmap::ImageFile;

use crate::fs::{Ext4, MountOptions};
use crate::inode::{FileType, Inode, Timestamp};
use crate::source::BlockSource;
use dentry::{Shared, Tree};
use file::{DirectoryEntries, RegularFile};

/// `statfs(2)`'s `f_type` for ext2, ext3 and ext4.
pub const EXT4_SUPER_MAGIC: i64 = 0xEF53;

/// Unreferenced dentries a mount keeps cached by default.
pub const DEFAULT_MAX_CACHED_DENTRIES: usize = 100_000;

/// The largest page cache ([`HeapMemoryFile`]) a mount creates for itself.
const HEAP_PAGE_CACHE_LIMIT: u64 = 1 << 40;

/// The image a mount reads.
#[derive(Clone)]
pub enum ExtImage {
    /// A source to open (with checksum verification unless the mount data
    /// says `nocsum`).
    Source(Arc<dyn BlockSource>),
    /// An image already opened.
    Opened(Arc<Ext4>),
}

impl core::fmt::Debug for ExtImage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ExtImage::Source(source) => write!(f, "Source({} bytes)", source.size()),
            ExtImage::Opened(ext4) => write!(f, "Opened({ext4:?})"),
        }
    }
}

/// What a mount of an ext filesystem type receives in
/// [`GetFilesystemOptions::internal_data`].
#[derive(Clone)]
pub struct ExtMountData {
    /// The image.
    pub image: ExtImage,
    /// Where pages that cannot be mapped straight from the image are
    /// cached for `mmap` (the sentry passes its memory file); `None` for a
    /// private [`HeapMemoryFile`].
    pub memory_file: Option<Arc<dyn MemoryFile>>,
    /// Unreferenced dentries kept cached.
    pub max_cached_dentries: usize,
}

impl core::fmt::Debug for ExtMountData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExtMountData")
            .field("image", &self.image)
            .field("memory_file", &self.memory_file.is_some())
            .field("max_cached_dentries", &self.max_cached_dentries)
            .finish()
    }
}

impl ExtMountData {
    /// Mount data for `image` with the default options.
    pub fn new(image: ExtImage) -> Self {
        ExtMountData {
            image,
            memory_file: None,
            max_cached_dentries: DEFAULT_MAX_CACHED_DENTRIES,
        }
    }
}

/// A filesystem type that mounts ext images read-only: `ext4`, `ext3` or
/// `ext2` (they differ only in name; each reads every image this crate
/// supports, as Linux's ext4 driver does).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use extfs::vfs::ExtFilesystemType;
///
/// let vfs = vfs_core::VirtualFilesystem::new();
/// for fs_type in ExtFilesystemType::all() {
///     vfs.register_filesystem_type(fs_type).unwrap();
/// }
/// assert!(vfs.filesystem_type("ext3").is_some());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ExtFilesystemType {
    name: &'static str,
}

impl ExtFilesystemType {
    /// The `ext4` type.
    pub const EXT4: ExtFilesystemType = ExtFilesystemType { name: "ext4" };
    /// The `ext3` type.
    pub const EXT3: ExtFilesystemType = ExtFilesystemType { name: "ext3" };
    /// The `ext2` type.
    pub const EXT2: ExtFilesystemType = ExtFilesystemType { name: "ext2" };

    /// The three types, ready to register.
    pub fn all() -> [Arc<dyn FilesystemType>; 3] {
        [
            Arc::new(Self::EXT4),
            Arc::new(Self::EXT3),
            Arc::new(Self::EXT2),
        ]
    }
}

/// The mount options a read-only ext mount accepts.
struct ParsedData {
    verify_checksums: bool,
}

fn parse_data(data: &str) -> Result<ParsedData, Errno> {
    let mut parsed = ParsedData {
        verify_checksums: true,
    };
    for option in data.split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" | "noload" | "norecovery" => {}
            "nocsum" => parsed.verify_checksums = false,
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(parsed)
}

/// Finds the image in `internal_data`.
fn mount_data_of(data: &Arc<dyn Any + Send + Sync>) -> Option<ExtMountData> {
    if let Some(mount) = data.downcast_ref::<ExtMountData>() {
        return Some(mount.clone());
    }
    if let Some(source) = data.downcast_ref::<Arc<dyn BlockSource>>() {
        return Some(ExtMountData::new(ExtImage::Source(Arc::clone(source))));
    }
    let ext4 = Arc::clone(data).downcast::<Ext4>().ok()?;
    Some(ExtMountData::new(ExtImage::Opened(ext4)))
}

impl FilesystemType for ExtFilesystemType {
    fn name(&self) -> &str {
        self.name
    }

    fn flags(&self) -> FilesystemTypeFlags {
        FilesystemTypeFlags::REQUIRES_DEVICE
    }

    fn get_filesystem(
        &self,
        _ctx: &dyn Context,
        vfs: &Arc<VirtualFilesystem>,
        _source: &[u8],
        opts: &GetFilesystemOptions,
    ) -> Result<(FilesystemRef, DentryRef), Errno> {
        let parsed = parse_data(&opts.data)?;
        let data = opts
            .internal_data
            .as_ref()
            .and_then(mount_data_of)
            .ok_or(Errno::EINVAL)?;
        let ext4 = match data.image {
            ExtImage::Opened(ext4) => ext4,
            ExtImage::Source(source) => {
                let options = MountOptions {
                    verify_checksums: parsed.verify_checksums,
                };
                Arc::new(Ext4::open(source, options).map_err(|e| e.errno())?)
            }
        };
        let max_cached = data.max_cached_dentries;
        let memory = data
            .memory_file
            .unwrap_or_else(|| Arc::new(HeapMemoryFile::new(HEAP_PAGE_CACHE_LIMIT)));
        let minor = vfs.get_anonymous_block_dev_minor()?;
        let shared = Arc::new(Shared::new(
            Arc::new(mmap::Backing::new(ext4, memory)),
            max_cached,
        ));
        let root_inode = match shared.inode(crate::ROOT_INO) {
            Ok(inode) if inode.raw.is_dir() => inode,
            Ok(_) => {
                vfs.put_anonymous_block_dev_minor(minor);
                return Err(Errno::EIO);
            }
            Err(e) => {
                vfs.put_anonymous_block_dev_minor(minor);
                return Err(e);
            }
        };
        let root = ExtDentry::new(&shared, None, b"", root_inode, 1);
        let root_ref: Arc<dyn DentryImpl> = Arc::clone(&root) as Arc<dyn DentryImpl>;
        let fs = Arc::new(ExtFs {
            shared,
            root: spin::Mutex::new(Some(root)),
            vfs: Arc::downgrade(vfs),
            minor,
        });
        let fs_ref = Filesystem::new(vfs, self.name, abi_linux::make_dev(0, minor), fs);
        Ok((fs_ref, DentryRef::adopt(root_ref)))
    }
}

/// Converts an image timestamp.
fn statx_time(t: Timestamp) -> StatxTimestamp {
    StatxTimestamp {
        tv_sec: t.sec,
        tv_nsec: t.nsec,
        _reserved: 0,
    }
}

/// The `statx` of an inode as Linux's ext4 reports it.
pub(super) fn statx_of(raw: &Inode, dev: u64, mnt_id: u64) -> Statx {
    let mut mask = StatxMask::BASIC_STATS | StatxMask::MNT_ID;
    let btime = match raw.crtime {
        Some(t) => {
            mask |= StatxMask::BTIME;
            statx_time(t)
        }
        None => StatxTimestamp::default(),
    };
    let (rdev_major, rdev_minor) = raw.rdev().unwrap_or((0, 0));
    Statx {
        stx_mask: mask.bits(),
        stx_blksize: 4096,
        stx_nlink: u32::from(raw.nlink),
        stx_uid: raw.uid,
        stx_gid: raw.gid,
        stx_mode: raw.mode,
        stx_ino: u64::from(raw.ino),
        stx_size: raw.size,
        stx_blocks: raw.blocks,
        stx_atime: statx_time(raw.atime),
        stx_btime: btime,
        stx_ctime: statx_time(raw.ctime),
        stx_mtime: statx_time(raw.mtime),
        stx_rdev_major: rdev_major,
        stx_rdev_minor: rdev_minor,
        stx_dev_major: abi_linux::dev_major(dev),
        stx_dev_minor: abi_linux::dev_minor(dev),
        stx_mnt_id: mnt_id,
        ..Statx::default()
    }
}

/// A mounted image.
pub struct ExtFs {
    shared: Arc<Shared>,
    /// The root dentry; taken on release.
    root: spin::Mutex<Option<Arc<ExtDentry>>>,
    vfs: Weak<VirtualFilesystem>,
    minor: u32,
}

/// A dentry a walk has reached: borrowed from the tree (a cached step
/// takes no reference) or held by an `Arc` (the start, and dentries just
/// looked up, which are not in the tree yet).
enum Node<'t> {
    /// A dentry of the tree, alive while the tree lock is held.
    Cached(&'t Arc<ExtDentry>),
    /// A dentry held by the walk.
    Fresh(Arc<ExtDentry>),
}

impl Node<'_> {
    /// The parent directory, or the dentry itself for the root.
    fn parent_node(&self) -> Self {
        match self {
            Node::Cached(dentry) => Node::Cached(dentry.parent().unwrap_or(dentry)),
            Node::Fresh(dentry) => Node::Fresh(Arc::clone(dentry.parent().unwrap_or(dentry))),
        }
    }
}

impl core::ops::Deref for Node<'_> {
    type Target = ExtDentry;

    fn deref(&self) -> &ExtDentry {
        match self {
            Node::Cached(dentry) => dentry,
            Node::Fresh(dentry) => dentry,
        }
    }
}

/// Downcasts a dentry of this filesystem.
fn ours(dentry: &dyn DentryImpl) -> Result<&ExtDentry, Errno> {
    let any: &dyn Any = dentry;
    any.downcast_ref::<ExtDentry>().ok_or(Errno::EXDEV)
}

use vfs_core::path::is_dot_or_dotdot;

/// Linux's `sb_rdonly` rule in `inode_permission`: writing to a regular
/// file, directory or symlink of a read-only filesystem is `EROFS`.
fn refuses_writes(file_type: Option<FileType>) -> bool {
    matches!(
        file_type,
        Some(FileType::Regular | FileType::Directory | FileType::Symlink)
    )
}

impl ExtFs {
    /// The opened image.
    pub fn ext4(&self) -> &Arc<Ext4> {
        &self.shared.backing.ext4
    }

    /// Runs `op` with the tree lock held for reading, then moves the
    /// dentries the walk added into the tree and evicts what is beyond the
    /// cache's limit.
    fn read_locked<T>(&self, op: impl FnOnce(&Tree) -> T) -> T {
        let result = {
            let tree = self.shared.tree.read();
            op(&tree)
        };
        self.shared.trim();
        result
    }

    /// `statfs(2)` figures from the superblock and group descriptors.
    pub(super) fn statfs(&self) -> Statfs {
        let s = self.ext4().statfs();
        let as_i64 = |v: u32| i64::from(v);
        Statfs {
            f_type: EXT4_SUPER_MAGIC,
            f_bsize: as_i64(s.block_size),
            f_blocks: s.blocks,
            f_bfree: s.free_blocks,
            f_bavail: s.available_blocks,
            f_files: s.inodes,
            f_ffree: s.free_inodes,
            f_fsid: [s.fsid[0] as i32, s.fsid[1] as i32],
            f_namelen: as_i64(s.name_max),
            f_frsize: as_i64(s.block_size),
            ..Statfs::default()
        }
    }

    /// The child `name` of directory `dir`, from the cache or the image.
    ///
    /// # Preconditions
    ///
    /// `tree` is the content of the tree lock, held for reading; `name` is
    /// not `.` or `..`.
    fn child<'t>(
        &self,
        tree: &'t Tree,
        dir: &ExtDentry,
        name: &[u8],
    ) -> Result<Option<Node<'t>>, Errno> {
        let hash = tree.key_hash(dir, name);
        if let Some(child) = tree.child(hash, dir, name) {
            return Ok(Some(Node::Cached(child)));
        }
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let ino = match self.ext4().lookup_in(&dir.inode.raw, name) {
            Ok(Some(ino)) => ino,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e.errno()),
        };
        let child = self
            .shared
            .pending_child(hash, dir, name, || self.shared.inode(ino))?;
        Ok(Some(Node::Fresh(child)))
    }

    /// Takes one step of the walk from directory `dir` at `rp`'s current
    /// component: to `dir` itself after `.` or a followed relative
    /// symlink, to the parent after `..`, else to the child.
    ///
    /// # Preconditions
    ///
    /// `tree` is the content of the tree lock, held for reading;
    /// `!rp.done()`.
    fn step<'t>(
        &self,
        tree: &'t Tree,
        rp: &mut ResolvingPath<'_>,
        dir: Node<'t>,
    ) -> PathResult<Node<'t>> {
        if dir.file_type() != Some(FileType::Directory) {
            return Err(Errno::ENOTDIR.into());
        }
        if !dir.searchable_by_all() {
            generic_permission(rp.credentials(), AccessTypes::EXEC, dir.inode.owner())?;
        }
        let name = rp.component();
        if name == b"." {
            rp.advance();
            return Ok(dir);
        }
        if name == b".." {
            if rp.check_root(&*dir)? {
                rp.advance();
                return Ok(dir);
            }
            let parent = dir.parent_node();
            rp.check_mount(&*parent)?;
            rp.advance();
            return Ok(parent);
        }
        let child = self.child(tree, &dir, name)?.ok_or(Errno::ENOENT)?;
        rp.check_mount(&*child)?;
        if child.file_type() == Some(FileType::Symlink) && rp.should_follow_symlink() {
            let target = child.inode.target(self.ext4())?;
            rp.handle_symlink(target)?;
            return Ok(dir);
        }
        rp.advance();
        Ok(child)
    }

    /// Walks every component of `rp`.
    ///
    /// # Preconditions
    ///
    /// `tree` is the content of the tree lock, held for reading.
    fn walk<'t>(&self, tree: &'t Tree, rp: &mut ResolvingPath<'_>) -> PathResult<Node<'t>> {
        let mut dentry = Node::Fresh(ours(&**rp.start())?.arc());
        while !rp.done() {
            dentry = self.step(tree, rp, dentry)?;
        }
        if rp.must_be_dir() && !dentry.inode.raw.is_dir() {
            return Err(Errno::ENOTDIR.into());
        }
        Ok(dentry)
    }

    /// Walks all but the final component from `from` and returns the
    /// directory that should hold it, with the final component unconsumed.
    ///
    /// # Preconditions
    ///
    /// `tree` is the content of the tree lock, held for reading.
    fn walk_parent_from<'t>(
        &self,
        tree: &'t Tree,
        rp: &mut ResolvingPath<'_>,
        from: Node<'t>,
    ) -> PathResult<Node<'t>> {
        let mut dentry = from;
        while !rp.done() && !rp.is_final() {
            dentry = self.step(tree, rp, dentry)?;
        }
        if !dentry.inode.raw.is_dir() {
            return Err(Errno::ENOTDIR.into());
        }
        Ok(dentry)
    }

    /// [`Self::walk_parent_from`] the start, then search permission on the
    /// parent, as every operation on a final name needs.
    ///
    /// # Preconditions
    ///
    /// `tree` is the content of the tree lock, held for reading.
    fn walk_parent<'t>(&self, tree: &'t Tree, rp: &mut ResolvingPath<'_>) -> PathResult<Node<'t>> {
        let start = Node::Fresh(ours(&**rp.start())?.arc());
        let parent = self.walk_parent_from(tree, rp, start)?;
        generic_permission(rp.credentials(), AccessTypes::EXEC, parent.inode.owner())?;
        Ok(parent)
    }

    /// A creation at `rp`'s final name, with Linux's errno order
    /// (`filename_create`): the parent's walk, then `EEXIST` for `.`, `..`
    /// and an existing name, `ENOENT` for a trailing slash on a
    /// non-directory, and finally `EROFS`.
    fn create_at(&self, rp: &mut ResolvingPath<'_>, is_dir: bool) -> PathResult<()> {
        self.read_locked(|tree| {
            let parent = self.walk_parent(tree, rp)?;
            if rp.done() {
                return Err(Errno::EEXIST.into());
            }
            let name = rp.component();
            if is_dot_or_dotdot(name) {
                return Err(Errno::EEXIST.into());
            }
            if self.child(tree, &parent, name)?.is_some() {
                return Err(Errno::EEXIST.into());
            }
            if rp.must_be_dir() && !is_dir {
                return Err(Errno::ENOENT.into());
            }
            Err(Errno::EROFS.into())
        })
    }

    /// A removal of `rp`'s final name: the parent's walk, then the errors
    /// Linux gives for `.`, `..` and `/` (`dot`, `dotdot`, `root`), then
    /// `EROFS` (Linux asks for write access before looking the name up).
    fn remove_at(
        &self,
        rp: &mut ResolvingPath<'_>,
        dot: Errno,
        dotdot: Errno,
        root: Errno,
    ) -> PathResult<()> {
        self.read_locked(|tree| {
            self.walk_parent(tree, rp)?;
            if rp.done() {
                return Err(root.into());
            }
            match rp.component() {
                b"." => Err(dot.into()),
                b".." => Err(dotdot.into()),
                _ => Err(Errno::EROFS.into()),
            }
        })
    }

    /// Opens `dentry` (already walked) with Linux's `may_open` rules.
    ///
    /// # Preconditions
    ///
    /// The tree lock is held for reading.
    fn open_existing(
        &self,
        ctx: &dyn Context,
        rp: &ResolvingPath<'_>,
        dentry: &ExtDentry,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        let flags = opts.flags;
        let writes = flags.access_mode() != abi_linux::AccessMode::ReadOnly
            || flags.contains(OpenFlags::TRUNC);
        let file_type = dentry.inode.file_type();
        if flags.contains(OpenFlags::DIRECTORY) && file_type != Some(FileType::Directory) {
            return Err(Errno::ENOTDIR.into());
        }
        match file_type {
            Some(FileType::Symlink) => return Err(Errno::ELOOP.into()),
            Some(FileType::Directory) if writes => return Err(Errno::EISDIR.into()),
            _ => {}
        }
        if writes && refuses_writes(file_type) {
            return Err(Errno::EROFS.into());
        }
        generic_permission(
            rp.credentials(),
            AccessTypes::for_open_flags(flags, opts.file_exec),
            dentry.inode.owner(),
        )?;
        let dentry_ref = dentry.new_ref();
        let imp: Box<dyn FileDescriptionImpl> = match file_type {
            Some(FileType::Regular) => Box::new(RegularFile {
                dentry: dentry.arc(),
                offset: spin::Mutex::new(0),
            }),
            Some(FileType::Directory) => Box::new(DirectoryFile::new(DirectoryEntries {
                dentry: dentry.arc(),
            })),
            Some(kind @ (FileType::CharDevice | FileType::BlockDevice)) => {
                let (major, minor) = dentry.inode.raw.rdev().unwrap_or((0, 0));
                let kind = if kind == FileType::CharDevice {
                    DeviceKind::Char
                } else {
                    DeviceKind::Block
                };
                let result = rp.vfs().open_device_special_file(
                    ctx,
                    rp.mount(),
                    &dentry_ref,
                    kind,
                    major,
                    minor,
                    opts,
                );
                dentry_ref.release(ctx);
                return result.map_err(Into::into);
            }
            // FIFOs and sockets have no implementation in vfs-core.
            _ => {
                dentry_ref.release(ctx);
                return Err(Errno::ENXIO.into());
            }
        };
        let file = FileDescription::new(
            flags,
            rp.mount(),
            &dentry_ref,
            FileDescriptionOptions {
                allow_direct_io: true,
                ..FileDescriptionOptions::default()
            },
            imp,
        );
        dentry_ref.release(ctx);
        Ok(file)
    }

    /// The `O_CREAT` path of `open`: an existing file opens as usual
    /// (`EEXIST` with `O_EXCL`), a missing one is `EROFS`.
    ///
    /// # Preconditions
    ///
    /// `tree` is the content of the tree lock, held for reading.
    fn open_create(
        &self,
        tree: &Tree,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        let mut dir = Node::Fresh(ours(&**rp.start())?.arc());
        loop {
            dir = self.walk_parent_from(tree, rp, dir)?;
            if rp.done() {
                return Err(Errno::EISDIR.into());
            }
            generic_permission(rp.credentials(), AccessTypes::EXEC, dir.inode.owner())?;
            let name = rp.component();
            if is_dot_or_dotdot(name) || rp.must_be_dir() {
                return Err(Errno::EISDIR.into());
            }
            let Some(child) = self.child(tree, &dir, name)? else {
                return Err(Errno::EROFS.into());
            };
            if opts.flags.contains(OpenFlags::EXCL) {
                return Err(Errno::EEXIST.into());
            }
            rp.check_mount(&*child)?;
            if child.file_type() == Some(FileType::Symlink) && rp.should_follow_symlink() {
                let target = child.inode.target(self.ext4())?;
                rp.handle_symlink(target)?;
                continue;
            }
            rp.advance();
            return self.open_existing(ctx, rp, &child, opts);
        }
    }
}

impl FilesystemImpl for ExtFs {
    fn release(&self, _ctx: &dyn Context) {
        if let Some(root) = self.root.lock().take() {
            let mut tree = self.shared.tree.write();
            self.shared.teardown(&mut tree, &root);
        }
        if let Some(vfs) = self.vfs.upgrade() {
            vfs.put_anonymous_block_dev_minor(self.minor);
        }
    }

    fn access_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        access: AccessTypes,
    ) -> PathResult<()> {
        self.read_locked(|tree| {
            let dentry = self.walk(tree, rp)?;
            if access.contains(AccessTypes::WRITE) && refuses_writes(dentry.inode.file_type()) {
                return Err(Errno::EROFS.into());
            }
            generic_permission(rp.credentials(), access, dentry.inode.owner())?;
            Ok(())
        })
    }

    fn get_dentry_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: GetDentryOptions,
    ) -> PathResult<DentryRef> {
        self.read_locked(|tree| {
            let dentry = self.walk(tree, rp)?;
            if opts.check_searchable {
                if !dentry.inode.raw.is_dir() {
                    return Err(Errno::ENOTDIR.into());
                }
                generic_permission(rp.credentials(), AccessTypes::EXEC, dentry.inode.owner())?;
            }
            Ok(dentry.new_ref())
        })
    }

    fn get_parent_dentry_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<DentryRef> {
        self.read_locked(|tree| Ok(self.walk_parent(tree, rp)?.new_ref()))
    }

    fn link_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        _target: &VirtualDentry,
    ) -> PathResult<()> {
        self.create_at(rp, false)
    }

    fn mkdir_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        _opts: MkdirOptions,
    ) -> PathResult<()> {
        self.create_at(rp, true)
    }

    /// Linux checks the mode (`may_mknod`) before the path.
    fn mknod_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: MknodOptions,
    ) -> PathResult<()> {
        match opts.mode & abi_linux::S_IFMT {
            0 => {}
            abi_linux::S_IFDIR => return Err(Errno::EPERM.into()),
            bits if AbiFileType::from_mode_bits(bits).is_none() => {
                return Err(Errno::EINVAL.into());
            }
            _ => {}
        }
        self.create_at(rp, false)
    }

    fn open_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        self.read_locked(|tree| {
            if opts.flags.contains(OpenFlags::CREAT) {
                return self.open_create(tree, ctx, rp, opts);
            }
            let dentry = self.walk(tree, rp)?;
            self.open_existing(ctx, rp, &dentry, opts)
        })
    }

    fn readlink_at(&self, _ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Vec<u8>> {
        self.read_locked(|tree| {
            let dentry = self.walk(tree, rp)?;
            if dentry.inode.file_type() != Some(FileType::Symlink) {
                return Err(Errno::EINVAL.into());
            }
            Ok(dentry.inode.target(self.ext4())?.to_vec())
        })
    }

    /// Linux's `do_renameat2` checks (`EXDEV`, `.` and `..`, name length),
    /// then `EROFS` before looking either name up.
    fn rename_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        old_parent: &VirtualDentry,
        old_name: &[u8],
        opts: RenameOptions,
    ) -> PathResult<()> {
        self.read_locked(|tree| {
            self.walk_parent(tree, rp)?;
            vfs_core::check_rename_names(rp, old_parent, old_name, opts)?;
            Err(Errno::EROFS.into())
        })
    }

    fn rmdir_at(&self, _ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        self.remove_at(rp, Errno::EINVAL, Errno::ENOTEMPTY, Errno::EBUSY)
    }

    /// Truncating a directory is `EISDIR` and anything but a regular file
    /// `EINVAL`, as Linux checks before asking for write access.
    fn set_stat_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: SetStatOptions,
    ) -> PathResult<()> {
        self.read_locked(|tree| {
            let dentry = self.walk(tree, rp)?;
            if StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::SIZE) {
                match dentry.inode.file_type() {
                    Some(FileType::Directory) => return Err(Errno::EISDIR.into()),
                    Some(FileType::Regular) => {}
                    _ => return Err(Errno::EINVAL.into()),
                }
            }
            Err(Errno::EROFS.into())
        })
    }

    fn stat_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        _opts: StatOptions,
    ) -> PathResult<Statx> {
        let dev = rp.mount().filesystem().dev();
        let mnt_id = rp.mount().id();
        self.read_locked(|tree| {
            let dentry = self.walk(tree, rp)?;
            Ok(statx_of(&dentry.inode.raw, dev, mnt_id))
        })
    }

    fn statfs_at(&self, _ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Statfs> {
        self.read_locked(|tree| {
            self.walk(tree, rp)?;
            Ok(self.statfs())
        })
    }

    fn symlink_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        _target: &[u8],
    ) -> PathResult<()> {
        self.create_at(rp, false)
    }

    fn unlink_at(&self, _ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        self.remove_at(rp, Errno::EISDIR, Errno::EISDIR, Errno::EISDIR)
    }

    /// Lists the names Linux's ext4 lists: `trusted.` ones only to
    /// `CAP_SYS_ADMIN`.
    fn list_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<Vec<Vec<u8>>> {
        self.read_locked(|tree| {
            let dentry = self.walk(tree, rp)?;
            let mut names = self
                .ext4()
                .list_xattrs(&dentry.inode.raw)
                .map_err(|e| e.errno())?;
            if !rp.credentials().has_capability(Capability::SYS_ADMIN) {
                names.retain(|name| !name.starts_with(b"trusted."));
            }
            Ok(names)
        })
    }

    fn get_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: &GetXattrOptions,
    ) -> PathResult<Vec<u8>> {
        self.read_locked(|tree| {
            let dentry = self.walk(tree, rp)?;
            check_xattr_permissions(
                rp.credentials(),
                AccessTypes::READ,
                dentry.inode.owner(),
                &opts.name,
            )?;
            Ok(self
                .ext4()
                .get_xattr(&dentry.inode.raw, &opts.name)
                .map_err(|e| e.errno())?)
        })
    }

    fn set_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        _opts: &SetXattrOptions,
    ) -> PathResult<()> {
        self.read_locked(|tree| {
            self.walk(tree, rp)?;
            Err(Errno::EROFS.into())
        })
    }

    fn remove_xattr_at(
        &self,
        _ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        _name: &[u8],
    ) -> PathResult<()> {
        self.read_locked(|tree| {
            self.walk(tree, rp)?;
            Err(Errno::EROFS.into())
        })
    }

    fn parent_and_name(&self, dentry: &dyn DentryImpl) -> Option<(DentryRef, Vec<u8>)> {
        self.read_locked(|_| {
            let dentry = ours(dentry).ok()?;
            let parent = dentry.parent()?;
            Some((parent.new_ref(), dentry.name().to_vec()))
        })
    }

    fn mount_options(&self) -> String {
        String::new()
    }
}
