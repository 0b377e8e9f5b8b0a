//! memfs symlinks, FIFOs, sockets and device nodes.

use alloc::sync::Arc;
use alloc::vec::Vec;

use abi_linux::{Errno, FileType, Statfs, Statx};
use vfs_core::{
    Context, DeviceKind, FileRef, GetXattrOptions, OpenOptions, SetXattrOptions, StatOptions,
    VirtualDentry,
};

use super::lower::LowerPath;
use super::{MemfsState, Xattrs};
use crate::dentry::Dentry;
use crate::filesystem::Filesystem;
use crate::inode::Inode;
use crate::inode_attrs::InodeAttrs;

/// A memfs file without contents of its own: a symbolic link (with its
/// target), a FIFO, a socket or a device node.
pub struct Node {
    attrs: InodeAttrs,
    target: Vec<u8>,
    xattrs: Xattrs,
    state: Arc<MemfsState>,
    /// The `st_blocks` of the lower file an overlay node stands for.
    blocks: u64,
}

impl Node {
    pub(super) fn new(attrs: InodeAttrs, target: &[u8], state: Arc<MemfsState>) -> Arc<Self> {
        Arc::new(Self {
            attrs,
            target: target.to_vec(),
            xattrs: Xattrs::default(),
            state,
            blocks: 0,
        })
    }
}

impl Node {
    /// The overlay inode for the lower file at `path` (a symlink to
    /// `target`, or a FIFO, socket or device node), whose `stat` is
    /// `stat`.
    pub(super) fn new_lower(
        stat: &Statx,
        target: &[u8],
        state: Arc<MemfsState>,
        path: LowerPath,
    ) -> Arc<Self> {
        Arc::new(Self {
            attrs: InodeAttrs::from_stat(stat),
            target: target.to_vec(),
            xattrs: Xattrs::from_lower(path),
            state,
            blocks: stat.stx_blocks,
        })
    }
}

impl Inode for Node {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn stat(&self, _: &dyn Context, fs: &Filesystem, _: StatOptions) -> Result<Statx, Errno> {
        Ok(self
            .attrs
            .stat(fs.dev(), self.target.len() as u64, self.blocks))
    }

    fn statfs(&self, _: &dyn Context, _: &Filesystem) -> Result<Statfs, Errno> {
        Ok(self.state.statfs())
    }

    fn readlink(&self, _: &dyn Context) -> Result<Vec<u8>, Errno> {
        if self.attrs.file_type() == Some(FileType::Symlink) {
            Ok(self.target.clone())
        } else {
            Err(Errno::EINVAL)
        }
    }

    fn open(
        &self,
        ctx: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        let vfs = Dentry::from_vfs(&*vd.dentry)
            .and_then(|d| d.filesystem().vfs())
            .ok_or(Errno::ENXIO)?;
        let kind = match self.attrs.file_type() {
            Some(FileType::CharDevice) => DeviceKind::Char,
            Some(FileType::BlockDevice) => DeviceKind::Block,
            Some(FileType::Symlink) => return Err(Errno::ELOOP),
            // The embedder's pipes, when it plugged them in.
            Some(FileType::Fifo) => return vfs.open_fifo(ctx, &vd.mount, &vd.dentry, opts),
            // Sockets cannot be opened (Linux: ENXIO).
            _ => return Err(Errno::ENXIO),
        };
        let (major, minor) = self.attrs.rdev();
        vfs.open_device_special_file(ctx, &vd.mount, &vd.dentry, kind, major, minor, opts)
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
