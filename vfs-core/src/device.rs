//! Device special files: the registry of character and block devices that
//! device nodes open (gVisor's `vfs/device.go`).

use abi_linux::Errno;

use crate::context::Context;
use crate::dentry::DentryRef;
use crate::file_description::FileRef;
use crate::mount::MountRef;
use crate::options::OpenOptions;

/// Character or block device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviceKind {
    /// A character device (`S_IFCHR`).
    Char,
    /// A block device (`S_IFBLK`).
    Block,
}

/// A device that device special files can open.
pub trait Device: Send + Sync {
    /// Opens the device through the node at `mount`/`dentry`.
    fn open(
        &self,
        ctx: &dyn Context,
        mount: &MountRef,
        dentry: &DentryRef,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno>;
}
