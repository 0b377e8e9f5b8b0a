//! Directory helpers: the generic directory file description, a static
//! directory built from a list of children, and a dynamic directory whose
//! entries are generated on iteration and lookup (gVisor kernfs's
//! `GenericDirectoryFD`, `StaticDirectory` and the procfs-style dynamic
//! directories).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use abi_linux::{DT_DIR, Errno, FileMode, FileType, OpenFlags, Statfs, Statx};
use vfs_core::file_description_util::{DirectoryFile, DirectorySource};
use vfs_core::lock::FileLocks;
use vfs_core::{
    Context, Credentials, Dirent, DirentSink, FileDescription, FileDescriptionOptions, FileRef,
    OpenOptions, SetStatOptions, StatOptions, VirtualDentry,
};

use crate::dentry::Dentry;
use crate::filesystem::Filesystem;
use crate::inode::Inode;
use crate::inode_attrs::InodeAttrs;
use crate::ordered_children::{OrderedChildren, dirent_type};

/// The kernfs dentry of `fd`: `EBADF` for a description that is not
/// kernfs's (never the case for descriptions kernfs opened).
pub(crate) fn file_dentry(fd: &FileDescription) -> Result<&Dentry, Errno> {
    Dentry::of_file(fd).ok_or(Errno::EBADF)
}

/// The file description of an open kernfs directory: `.` and `..`, then
/// the inode's entries, with a seekable offset (vfs-core's
/// [`DirectoryFile`] over a kernfs [`DirectorySource`]).
pub struct GenericDirectoryFd {
    inode: Arc<dyn Inode>,
}

impl GenericDirectoryFd {
    /// Opens the directory at `vd`.
    ///
    /// # Preconditions
    ///
    /// `vd` is a kernfs dentry (kernfs's walk only opens its own).
    pub fn open(vd: &VirtualDentry, flags: OpenFlags) -> Result<FileRef, Errno> {
        let inode = Arc::clone(Dentry::from_vfs(&*vd.dentry).ok_or(Errno::EBADF)?.inode());
        Ok(FileDescription::new(
            flags,
            &vd.mount,
            &vd.dentry,
            FileDescriptionOptions::default(),
            Box::new(DirectoryFile::new(Self { inode })),
        ))
    }
}

impl DirectorySource for GenericDirectoryFd {
    fn iter_dirents(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        mut offset: i64,
        sink: &mut dyn DirentSink,
    ) -> Result<i64, Errno> {
        let d = file_dentry(fd)?;
        let ino = d.inode().attrs().ino();
        if offset == 0 {
            if !sink.add(&Dirent {
                name: b".",
                ino,
                dtype: DT_DIR,
                next_offset: 1,
            }) {
                return Ok(offset);
            }
            offset = 1;
        }
        if offset == 1 {
            let parent_ino = d.parent().map_or(ino, |p| p.inode().attrs().ino());
            if !sink.add(&Dirent {
                name: b"..",
                ino: parent_ino,
                dtype: DT_DIR,
                next_offset: 2,
            }) {
                return Ok(offset);
            }
            offset = 2;
        }
        let offset = d.inode().iter_dirents(ctx, sink, offset, offset - 2)?;
        d.inode().attrs().touch_atime(ctx.now());
        Ok(offset)
    }

    fn stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        let d = file_dentry(fd)?;
        d.inode().stat(ctx, d.filesystem(), opts)
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        let d = file_dentry(fd)?;
        d.inode().set_stat(ctx, d.filesystem(), opts)
    }

    fn statfs(&self, ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        let d = file_dentry(fd)?;
        d.inode().statfs(ctx, d.filesystem())
    }

    fn file_locks(&self) -> Option<&FileLocks> {
        Some(self.inode.attrs().locks())
    }
}

/// A read-only directory with a fixed list of children (more may be
/// added with [`StaticDirectory::insert`] while building a tree).
pub struct StaticDirectory {
    attrs: InodeAttrs,
    children: OrderedChildren,
}

impl StaticDirectory {
    /// A directory owned by `creds`' effective IDs with permissions
    /// `perms`, containing `children`.
    pub fn new(
        fs: &Filesystem,
        creds: &Credentials,
        perms: u32,
        children: Vec<(&[u8], Arc<dyn Inode>)>,
    ) -> Result<Arc<Self>, Errno> {
        let dir = Self {
            attrs: InodeAttrs::new(
                fs.next_ino(),
                creds.fs_uid,
                creds.fs_gid,
                FileMode::new(FileType::Directory, perms),
                Default::default(),
            ),
            children: OrderedChildren::new(),
        };
        for (name, inode) in children {
            dir.insert(name, inode)?;
        }
        Ok(Arc::new(dir))
    }

    /// Adds a child; `EEXIST` if the name is taken.
    pub fn insert(&self, name: &[u8], inode: Arc<dyn Inode>) -> Result<(), Errno> {
        let is_dir = inode.is_dir();
        self.children.insert(name, inode)?;
        if is_dir {
            self.attrs.inc_links();
        }
        Ok(())
    }
}

impl Inode for StaticDirectory {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.children.get(name).ok_or(Errno::ENOENT)
    }

    fn iter_dirents(
        &self,
        _: &dyn Context,
        sink: &mut dyn DirentSink,
        offset: i64,
        rel_offset: i64,
    ) -> Result<i64, Errno> {
        self.children.iter_dirents(sink, offset, rel_offset)
    }

    fn has_children(&self, _: &dyn Context) -> bool {
        !self.children.is_empty()
    }

    fn open(
        &self,
        _: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        GenericDirectoryFd::open(vd, opts.flags)
    }
}

/// The entries of a [`DynamicDirectory`], generated when asked for.
pub trait DirectoryGenerator: Send + Sync + 'static {
    /// The entries' names, in the order to list them.
    fn names(&self, ctx: &dyn Context) -> Result<Vec<Vec<u8>>, Errno>;

    /// The inode of entry `name`: `ENOENT` when there is none.
    fn lookup(&self, ctx: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno>;
}

/// A directory whose entries come from a [`DirectoryGenerator`] on every
/// listing and lookup (a procfs `/proc` listing processes).
pub struct DynamicDirectory<G: DirectoryGenerator> {
    attrs: InodeAttrs,
    generator: G,
}

impl<G: DirectoryGenerator> DynamicDirectory<G> {
    /// A directory owned by `creds`' effective IDs with permissions
    /// `perms` listing what `generator` produces.
    pub fn new(fs: &Filesystem, creds: &Credentials, perms: u32, generator: G) -> Arc<Self> {
        Arc::new(Self {
            attrs: InodeAttrs::new(
                fs.next_ino(),
                creds.fs_uid,
                creds.fs_gid,
                FileMode::new(FileType::Directory, perms),
                Default::default(),
            ),
            generator,
        })
    }

    /// The generator.
    pub fn generator(&self) -> &G {
        &self.generator
    }
}

impl<G: DirectoryGenerator> Inode for DynamicDirectory<G> {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn lookup(&self, ctx: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.generator.lookup(ctx, name)
    }

    fn iter_dirents(
        &self,
        ctx: &dyn Context,
        sink: &mut dyn DirentSink,
        offset: i64,
        rel_offset: i64,
    ) -> Result<i64, Errno> {
        let start = usize::try_from(rel_offset).map_err(|_| Errno::EINVAL)?;
        let base = offset - rel_offset;
        let mut next = offset;
        for (index, name) in self.generator.names(ctx)?.iter().enumerate().skip(start) {
            // An entry that vanished between listing and lookup is skipped.
            let Ok(inode) = self.generator.lookup(ctx, name) else {
                continue;
            };
            let next_offset = base + i64::try_from(index + 1).map_err(|_| Errno::EOVERFLOW)?;
            let dirent = Dirent {
                name,
                ino: inode.attrs().ino(),
                dtype: dirent_type(&*inode),
                next_offset,
            };
            if !sink.add(&dirent) {
                break;
            }
            next = next_offset;
        }
        Ok(next)
    }

    fn has_children(&self, _: &dyn Context) -> bool {
        true
    }

    fn open(
        &self,
        _: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        GenericDirectoryFd::open(vd, opts.flags)
    }
}
