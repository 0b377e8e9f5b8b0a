//! [`Symlink`]: a symbolic link with a fixed target (gVisor kernfs's
//! `StaticSymlink`).

use alloc::sync::Arc;
use alloc::vec::Vec;

use abi_linux::{Errno, FileMode, FileType, Statx};
use vfs_core::{Context, Credentials, FileRef, OpenOptions, StatOptions, VirtualDentry};

use crate::filesystem::Filesystem;
use crate::inode::Inode;
use crate::inode_attrs::InodeAttrs;

/// A symbolic link to a fixed target.
pub struct Symlink {
    attrs: InodeAttrs,
    target: Vec<u8>,
}

impl Symlink {
    /// A link to `target` owned by `creds`' effective IDs (mode `0777`,
    /// as every Linux symlink).
    pub fn new(fs: &Filesystem, creds: &Credentials, target: &[u8]) -> Arc<Self> {
        Arc::new(Self::with_attrs(
            InodeAttrs::new(
                fs.next_ino(),
                creds.fs_uid,
                creds.fs_gid,
                FileMode::new(FileType::Symlink, 0o777),
                Default::default(),
            ),
            target,
        ))
    }

    /// A link to `target` with the given attributes.
    pub fn with_attrs(attrs: InodeAttrs, target: &[u8]) -> Self {
        Self {
            attrs,
            target: target.to_vec(),
        }
    }

    /// The target.
    pub fn target(&self) -> &[u8] {
        &self.target
    }
}

impl Inode for Symlink {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn stat(&self, _: &dyn Context, fs: &Filesystem, _: StatOptions) -> Result<Statx, Errno> {
        Ok(self.attrs.stat(fs.dev(), self.target.len() as u64, 0))
    }

    fn readlink(&self, _: &dyn Context) -> Result<Vec<u8>, Errno> {
        Ok(self.target.clone())
    }

    fn open(&self, _: &dyn Context, _: &VirtualDentry, _: OpenOptions) -> Result<FileRef, Errno> {
        Err(Errno::ELOOP)
    }
}
