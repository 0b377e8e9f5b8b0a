//! memfs directories.

use alloc::collections::BTreeSet;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use abi_linux::{Errno, FileMode, FileType, Statfs, Statx, Timespec};
use vfs_core::{
    Context, DirentSink, FileRef, GetXattrOptions, MkdirOptions, MknodOptions, OpenOptions,
    SetXattrOptions, StatOptions, VirtualDentry,
};

use super::lower::{LowerPath, child_path};
use super::node::Node;
use super::regular_file::RegularFile;
use super::{MemfsState, Xattrs};
use crate::directory::GenericDirectoryFd;
use crate::filesystem::Filesystem;
use crate::inode::{Inode, RenameTarget, downcast_inode};
use crate::inode_attrs::InodeAttrs;
use crate::ordered_children::OrderedChildren;

/// Linux tmpfs's directory size unit (`BOGO_DIRENT_SIZE`): a directory's
/// size is this times its entries, `.` and `..` included.
const BOGO_DIRENT_SIZE: u64 = 20;

/// A memfs directory.
pub struct Directory {
    attrs: InodeAttrs,
    children: OrderedChildren,
    state: Arc<MemfsState>,
    xattrs: Xattrs,
    /// The lower directory under a directory of an overlay.
    lower: Option<LowerDir>,
}

/// The lower side of an overlay directory (see the `lower` module).
struct LowerDir {
    path: LowerPath,
    /// The lower directory's size and blocks, which `stat` reports.
    size: u64,
    blocks: u64,
    /// Set once every lower entry has an inode among the children: lookups
    /// stop asking the lower layer.
    complete: AtomicBool,
    /// Names removed from the directory (unlinked or renamed away), which
    /// the lower layer must not bring back: overlayfs's whiteouts.
    whiteouts: spin::Mutex<BTreeSet<Vec<u8>>>,
}

/// A new overlay inode for the lower file at `path`.
fn lower_inode(
    ctx: &dyn Context,
    state: &Arc<MemfsState>,
    path: LowerPath,
) -> Result<Arc<dyn Inode>, Errno> {
    let lower = state.lower()?;
    let stat = lower.stat(ctx, &path)?;
    let mode = u32::from(stat.stx_mode);
    Ok(match FileType::from_mode_bits(mode) {
        Some(FileType::Directory) => Directory::new_lower(&stat, Arc::clone(state), path),
        Some(FileType::Regular) if stat.stx_nlink > 1 => match lower.linked(stat.stx_ino) {
            Some(file) => file,
            None => {
                let file = RegularFile::new_lower(&stat, Arc::clone(state), path);
                lower.add_link(stat.stx_ino, &file);
                file
            }
        },
        Some(FileType::Regular) => RegularFile::new_lower(&stat, Arc::clone(state), path),
        Some(FileType::Symlink) => {
            let target = lower.readlink(ctx, &path)?;
            Node::new_lower(&stat, &target, Arc::clone(state), path)
        }
        Some(_) => Node::new_lower(&stat, b"", Arc::clone(state), path),
        None => return Err(Errno::EIO),
    })
}

impl Directory {
    pub(super) fn new_root(
        state: Arc<MemfsState>,
        uid: u32,
        gid: u32,
        perms: u32,
        now: Timespec,
    ) -> Arc<Self> {
        let attrs = InodeAttrs::new(
            state.next_ino(),
            uid,
            gid,
            FileMode::new(FileType::Directory, perms),
            now,
        );
        Arc::new(Self {
            attrs,
            children: OrderedChildren::new(),
            state,
            xattrs: Xattrs::default(),
            lower: None,
        })
    }

    /// The overlay directory for the lower directory at `path`, whose
    /// `stat` is `stat`.
    pub(super) fn new_lower(stat: &Statx, state: Arc<MemfsState>, path: LowerPath) -> Arc<Self> {
        Arc::new(Self {
            attrs: InodeAttrs::from_stat(stat),
            children: OrderedChildren::new(),
            state,
            xattrs: Xattrs::from_lower(Arc::clone(&path)),
            lower: Some(LowerDir {
                path,
                size: stat.stx_size,
                blocks: stat.stx_blocks,
                complete: AtomicBool::new(false),
                whiteouts: spin::Mutex::new(BTreeSet::new()),
            }),
        })
    }

    /// Adds `inode`, made for the lower entry `name`, to the children
    /// unless the name was removed meanwhile; returns the child now named
    /// `name`. A lower entry's inode changes neither the link count nor
    /// the times: the lower directory's already count it.
    fn adopt(
        &self,
        lower: &LowerDir,
        name: &[u8],
        inode: Arc<dyn Inode>,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let whiteouts = lower.whiteouts.lock();
        if whiteouts.contains(name) {
            return Err(Errno::ENOENT);
        }
        match self.children.insert(name, Arc::clone(&inode)) {
            Ok(()) => Ok(inode),
            Err(_) => self.children.get(name).ok_or(Errno::ENOENT),
        }
    }

    /// Makes an inode for every lower entry not yet among the children, so
    /// the children are the whole directory.
    fn fill(&self, ctx: &dyn Context) -> Result<(), Errno> {
        let Some(lower) = &self.lower else {
            return Ok(());
        };
        if lower.complete.load(Ordering::Acquire) {
            return Ok(());
        }
        for name in self.state.lower()?.names(ctx, &lower.path)? {
            if self.children.get(&name).is_some() || lower.whiteouts.lock().contains(&name) {
                continue;
            }
            match lower_inode(ctx, &self.state, child_path(&lower.path, &name)) {
                Ok(inode) => {
                    let _ = self.adopt(lower, &name, inode);
                }
                // Gone from the lower directory since it was listed.
                Err(Errno::ENOENT) => {}
                Err(errno) => return Err(errno),
            }
        }
        lower.complete.store(true, Ordering::Release);
        Ok(())
    }

    /// Records that `name` left the directory, so that the lower layer
    /// does not bring it back.
    fn whiteout(&self, name: &[u8]) {
        if let Some(lower) = &self.lower {
            lower.whiteouts.lock().insert(name.to_vec());
        }
    }

    /// Attributes for a child created by `ctx` with mode `mode`.
    fn child_attrs(&self, ctx: &dyn Context, mode: FileMode) -> InodeAttrs {
        InodeAttrs::new_child(
            self.state.next_ino(),
            ctx.credentials(),
            self.attrs.owner(),
            mode,
            ctx.now(),
        )
    }

    /// Adds a new child and updates the directory's times.
    fn add(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        inode: Arc<dyn Inode>,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let is_dir = inode.is_dir();
        self.children.insert(name, Arc::clone(&inode))?;
        if is_dir {
            self.attrs.inc_links();
        }
        self.attrs.touch_mtime_ctime(ctx.now());
        Ok(inode)
    }
}

impl Inode for Directory {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn stat(&self, _: &dyn Context, fs: &Filesystem, _: StatOptions) -> Result<Statx, Errno> {
        let (size, blocks) = match &self.lower {
            Some(lower) => (lower.size, lower.blocks),
            None => ((self.children.len() as u64 + 2) * BOGO_DIRENT_SIZE, 0),
        };
        Ok(self.attrs.stat(fs.dev(), size, blocks))
    }

    fn statfs(&self, _: &dyn Context, _: &Filesystem) -> Result<Statfs, Errno> {
        Ok(self.state.statfs())
    }

    fn lookup(&self, ctx: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if let Some(child) = self.children.get(name) {
            return Ok(child);
        }
        let Some(lower) = self
            .lower
            .as_ref()
            .filter(|lower| !lower.complete.load(Ordering::Acquire))
        else {
            return Err(Errno::ENOENT);
        };
        if lower.whiteouts.lock().contains(name) {
            return Err(Errno::ENOENT);
        }
        let inode = lower_inode(ctx, &self.state, child_path(&lower.path, name))?;
        self.adopt(lower, name, inode)
    }

    fn iter_dirents(
        &self,
        ctx: &dyn Context,
        sink: &mut dyn DirentSink,
        offset: i64,
        rel_offset: i64,
    ) -> Result<i64, Errno> {
        self.fill(ctx)?;
        self.children.iter_dirents(sink, offset, rel_offset)
    }

    fn has_children(&self, ctx: &dyn Context) -> bool {
        // A lower directory that cannot be read counts as not empty: it
        // is not removed.
        self.fill(ctx).is_err() || !self.children.is_empty()
    }

    fn new_file(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        opts: &OpenOptions,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let attrs = self.child_attrs(ctx, FileMode::new(FileType::Regular, opts.mode));
        self.add(ctx, name, RegularFile::new(attrs, Arc::clone(&self.state)))
    }

    fn new_dir(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        opts: MkdirOptions,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let attrs = self.child_attrs(ctx, FileMode::new(FileType::Directory, opts.mode));
        let dir = Arc::new(Self {
            attrs,
            children: OrderedChildren::new(),
            state: Arc::clone(&self.state),
            xattrs: Xattrs::default(),
            lower: None,
        });
        self.add(ctx, name, dir)
    }

    fn new_link(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        target: &Arc<dyn Inode>,
    ) -> Result<(), Errno> {
        if downcast_inode::<RegularFile>(target).is_none()
            && downcast_inode::<Node>(target).is_none()
        {
            return Err(Errno::EXDEV);
        }
        self.children.insert(name, Arc::clone(target))?;
        target.attrs().inc_links();
        target.attrs().touch_ctime(ctx.now());
        self.attrs.touch_mtime_ctime(ctx.now());
        Ok(())
    }

    fn new_symlink(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        target: &[u8],
    ) -> Result<Arc<dyn Inode>, Errno> {
        let attrs = self.child_attrs(ctx, FileMode::new(FileType::Symlink, 0o777));
        self.add(ctx, name, Node::new(attrs, target, Arc::clone(&self.state)))
    }

    fn new_node(
        &self,
        ctx: &dyn Context,
        name: &[u8],
        opts: MknodOptions,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let ty = if opts.mode & abi_linux::S_IFMT == 0 {
            FileType::Regular
        } else {
            FileType::from_mode_bits(opts.mode).ok_or(Errno::EINVAL)?
        };
        let attrs = self.child_attrs(ctx, FileMode::new(ty, opts.mode));
        let inode: Arc<dyn Inode> = match ty {
            FileType::Regular => RegularFile::new(attrs, Arc::clone(&self.state)),
            FileType::CharDevice | FileType::BlockDevice | FileType::Fifo | FileType::Socket => {
                if matches!(ty, FileType::CharDevice | FileType::BlockDevice) {
                    attrs.set_rdev(opts.dev_major, opts.dev_minor);
                }
                Node::new(attrs, b"", Arc::clone(&self.state))
            }
            FileType::Directory | FileType::Symlink => return Err(Errno::EINVAL),
        };
        self.add(ctx, name, inode)
    }

    fn unlink(&self, ctx: &dyn Context, name: &[u8], child: &Arc<dyn Inode>) -> Result<(), Errno> {
        self.children.remove(name).ok_or(Errno::ENOENT)?;
        self.whiteout(name);
        let now = ctx.now();
        child.attrs().dec_links();
        child.attrs().touch_ctime(now);
        self.attrs.touch_mtime_ctime(now);
        Ok(())
    }

    fn rmdir(&self, ctx: &dyn Context, name: &[u8], child: &Arc<dyn Inode>) -> Result<(), Errno> {
        if child.has_children(ctx) {
            return Err(Errno::ENOTEMPTY);
        }
        self.children.remove(name).ok_or(Errno::ENOENT)?;
        self.whiteout(name);
        let now = ctx.now();
        child.attrs().set_links(0);
        child.attrs().touch_ctime(now);
        self.attrs.dec_links();
        self.attrs.touch_mtime_ctime(now);
        Ok(())
    }

    fn rename(
        &self,
        ctx: &dyn Context,
        old_name: &[u8],
        child: &Arc<dyn Inode>,
        to: RenameTarget<'_>,
    ) -> Result<(), Errno> {
        let new_dir = downcast_inode::<Directory>(to.new_dir).ok_or(Errno::EXDEV)?;
        let same_dir = core::ptr::addr_eq(self as *const Self, Arc::as_ptr(&new_dir));
        let now = ctx.now();
        let child_dir = child.is_dir();
        if to.exchange {
            let other = to.replaced.ok_or(Errno::ENOENT)?;
            self.children.replace(old_name, Arc::clone(other));
            new_dir.children.replace(to.new_name, Arc::clone(child));
            if !same_dir && child_dir != other.is_dir() {
                if child_dir {
                    self.attrs.dec_links();
                    new_dir.attrs.inc_links();
                } else {
                    new_dir.attrs.dec_links();
                    self.attrs.inc_links();
                }
            }
            other.attrs().touch_ctime(now);
        } else {
            if let Some(replaced) = to.replaced {
                new_dir.children.replace(to.new_name, Arc::clone(child));
                if replaced.is_dir() {
                    replaced.attrs().set_links(0);
                    new_dir.attrs.dec_links();
                } else {
                    replaced.attrs().dec_links();
                }
                replaced.attrs().touch_ctime(now);
            } else {
                new_dir.children.insert(to.new_name, Arc::clone(child))?;
            }
            self.children.remove(old_name);
            self.whiteout(old_name);
            if child_dir && !same_dir {
                self.attrs.dec_links();
                new_dir.attrs.inc_links();
            }
        }
        child.attrs().touch_ctime(now);
        self.attrs.touch_mtime_ctime(now);
        if !same_dir {
            new_dir.attrs.touch_mtime_ctime(now);
        }
        Ok(())
    }

    fn open(
        &self,
        _: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        GenericDirectoryFd::open(vd, opts.flags)
    }

    fn list_xattr(&self, ctx: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        self.xattrs.load(ctx, &self.state)?;
        Ok(self.xattrs.list(ctx.credentials()))
    }

    fn get_xattr(&self, ctx: &dyn Context, opts: &GetXattrOptions) -> Result<Vec<u8>, Errno> {
        self.xattrs.load(ctx, &self.state)?;
        self.xattrs.get(ctx.credentials(), self.attrs.owner(), opts)
    }

    fn set_xattr(&self, ctx: &dyn Context, opts: &SetXattrOptions) -> Result<(), Errno> {
        self.xattrs.load(ctx, &self.state)?;
        self.xattrs
            .set(ctx.credentials(), self.attrs.owner(), opts)?;
        self.attrs.touch_ctime(ctx.now());
        Ok(())
    }

    fn remove_xattr(&self, ctx: &dyn Context, name: &[u8]) -> Result<(), Errno> {
        self.xattrs.load(ctx, &self.state)?;
        self.xattrs
            .remove(ctx.credentials(), self.attrs.owner(), name)?;
        self.attrs.touch_ctime(ctx.now());
        Ok(())
    }
}
