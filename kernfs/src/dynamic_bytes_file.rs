//! [`DynamicBytesFile`]: a read-mostly file whose content is generated
//! when it is read, like a Linux `seq_file` (gVisor kernfs's
//! `DynamicBytesFile`); its open descriptions are vfs-core's
//! [`vfs_core::file_description_util::DynamicBytesFile`].

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use abi_linux::{Errno, FileMode, FileType};
use vfs_core::io::IoSource;
use vfs_core::{
    Context, Credentials, FileDescription, FileDescriptionOptions, FileRef, OpenOptions,
    VirtualDentry,
};

use crate::dentry::Dentry;
use crate::filesystem::Filesystem;
use crate::inode::{Inode, downcast_inode};
use crate::inode_attrs::InodeAttrs;

/// The content of a [`DynamicBytesFile`]: vfs-core's dynamic-file source
/// (generate on demand; writes refused with `EIO` unless handled).
pub use vfs_core::file_description_util::DynamicBytesSource as BytesSource;

/// A file whose content a [`BytesSource`] generates at open; reads and
/// seeks see that snapshot. `stat` reports size 0, as procfs does.
pub struct DynamicBytesFile<S: BytesSource> {
    attrs: InodeAttrs,
    source: S,
}

impl<S: BytesSource> DynamicBytesFile<S> {
    /// A regular file owned by `creds`' effective IDs with permissions
    /// `perms`.
    pub fn new(fs: &Filesystem, creds: &Credentials, perms: u32, source: S) -> Arc<Self> {
        Self::with_ino(fs.next_ino(), creds, perms, source)
    }

    /// As [`Self::new`] with a chosen inode number (for generated files
    /// whose number must stay the same across lookups).
    pub fn with_ino(ino: u64, creds: &Credentials, perms: u32, source: S) -> Arc<Self> {
        Arc::new(Self {
            attrs: InodeAttrs::new(
                ino,
                creds.fs_uid,
                creds.fs_gid,
                FileMode::new(FileType::Regular, perms),
                Default::default(),
            ),
            source,
        })
    }

    /// The content source.
    pub fn source(&self) -> &S {
        &self.source
    }
}

impl<S: BytesSource> Inode for DynamicBytesFile<S> {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn open(
        &self,
        ctx: &dyn Context,
        vd: &VirtualDentry,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        let dentry = Dentry::from_vfs(&*vd.dentry).ok_or(Errno::EBADF)?;
        let inode = downcast_inode::<Self>(dentry.inode()).ok_or(Errno::EBADF)?;
        let _ = ctx;
        Ok(FileDescription::new(
            opts.flags,
            &vd.mount,
            &vd.dentry,
            FileDescriptionOptions::default(),
            Box::new(vfs_core::file_description_util::DynamicBytesFile::new(
                InodeSource(inode),
            )),
        ))
    }
}

/// Generates an open file's contents from its inode's source, so the
/// description keeps the inode (and its source) alive.
struct InodeSource<S: BytesSource>(Arc<DynamicBytesFile<S>>);

impl<S: BytesSource> BytesSource for InodeSource<S> {
    fn generate(&self, ctx: &dyn Context, buf: &mut Vec<u8>) -> Result<(), Errno> {
        self.0.source.generate(ctx, buf)
    }

    fn write(
        &self,
        ctx: &dyn Context,
        src: &mut dyn IoSource,
        offset: u64,
    ) -> Result<usize, Errno> {
        self.0.source.write(ctx, src, offset)
    }
}
