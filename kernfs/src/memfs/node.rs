//! memfs symlinks, FIFOs, sockets and device nodes.

use alloc::sync::Arc;
use alloc::vec::Vec;

use abi_linux::{Errno, FileType, Statfs, Statx};
use vfs_core::{
    Context, DeviceKind, FileRef, GetXattrOptions, OpenOptions, SetXattrOptions, StatOptions,
    VirtualDentry,
};

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
}

impl Node {
    pub(super) fn new(attrs: InodeAttrs, target: &[u8], state: Arc<MemfsState>) -> Arc<Self> {
        Arc::new(Self {
            attrs,
            target: target.to_vec(),
            xattrs: Xattrs::default(),
            state,
        })
    }
}

impl Inode for Node {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn stat(&self, _: &dyn Context, fs: &Filesystem, _: StatOptions) -> Result<Statx, Errno> {
        Ok(self.attrs.stat(fs.dev(), self.target.len() as u64, 0))
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
        Ok(self.xattrs.list(ctx.credentials()))
    }

    fn get_xattr(&self, ctx: &dyn Context, opts: &GetXattrOptions) -> Result<Vec<u8>, Errno> {
        self.xattrs.get(ctx.credentials(), self.attrs.owner(), opts)
    }

    fn set_xattr(&self, ctx: &dyn Context, opts: &SetXattrOptions) -> Result<(), Errno> {
        self.xattrs
            .set(ctx.credentials(), self.attrs.owner(), opts)?;
        self.attrs.touch_ctime(ctx.now());
        Ok(())
    }

    fn remove_xattr(&self, ctx: &dyn Context, name: &[u8]) -> Result<(), Errno> {
        self.xattrs
            .remove(ctx.credentials(), self.attrs.owner(), name)?;
        self.attrs.touch_ctime(ctx.now());
        Ok(())
    }
}
