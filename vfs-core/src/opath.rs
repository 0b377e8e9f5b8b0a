//! `O_PATH` file descriptions: a location without access to the file's
//! contents (gVisor's `vfs/opath.go`). Every operation but `fstat`,
//! `fstatfs`, and use as a directory fd for `*at` calls is `EBADF`.

use alloc::boxed::Box;

use abi_linux::{Errno, FallocFlags, OpenFlags, Statfs, Statx, Whence};

use crate::context::Context;
use crate::file_description::{
    DirentSink, FileDescription, FileDescriptionImpl, FileDescriptionOptions, FileRef, IoctlMemory,
};
use crate::file_description_util;
use crate::io::{IoDest, IoSource};
use crate::memmap::MmapOpts;
use crate::mount::VirtualDentry;
use crate::options::{ReadOptions, SetStatOptions, StatOptions, WriteOptions};

/// The implementation of `O_PATH` descriptions.
pub struct OpathFile;

impl OpathFile {
    /// Opens `vd` with `O_PATH`; the description takes `vd`'s references.
    pub(crate) fn open(vd: VirtualDentry, flags: OpenFlags) -> FileRef {
        let file = FileDescription::new(
            flags,
            &vd.mount,
            &vd.dentry,
            FileDescriptionOptions::default(),
            Box::new(Self),
        );
        drop(vd);
        file
    }
}

impl FileDescriptionImpl for OpathFile {
    fn stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        file_description_util::stat_from_dentry(ctx, fd, opts)
    }

    fn statfs(&self, ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        file_description_util::statfs_from_dentry(ctx, fd)
    }

    fn set_stat(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: SetStatOptions,
    ) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }

    fn allocate(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: FallocFlags,
        _: u64,
        _: u64,
    ) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }

    fn pread(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: &mut dyn IoDest,
        _: u64,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }

    fn pwrite(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: &mut dyn IoSource,
        _: u64,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }

    fn write(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }

    fn iter_dirents(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: &mut dyn DirentSink,
    ) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }

    fn seek(&self, _: &dyn Context, _: &FileDescription, _: i64, _: Whence) -> Result<i64, Errno> {
        Err(Errno::EBADF)
    }

    fn sync(&self, _: &dyn Context, _: &FileDescription) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }

    fn ioctl(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: u32,
        _: u64,
        _: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        Err(Errno::EBADF)
    }

    fn configure_mmap(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: &mut MmapOpts,
    ) -> Result<(), Errno> {
        Err(Errno::EBADF)
    }
}
