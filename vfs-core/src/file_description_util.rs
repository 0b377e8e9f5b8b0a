//! Mix-ins for common file descriptions (gVisor's
//! `file_description_impl_util.go`): helpers that take the file's metadata
//! from its dentry, a generic directory description, and a dynamic bytes
//! file whose contents are generated on open, like Linux's `seq_file`.
//!
//! A filesystem wraps its own small trait implementation in
//! [`DirectoryFile`] or [`DynamicBytesFile`] instead of writing a whole
//! [`FileDescriptionImpl`].

use alloc::sync::Arc;
use alloc::vec::Vec;

use abi_linux::{Errno, ResolveFlags, Statfs, Statx, Whence};

use crate::context::Context;
use crate::file_description::{DirentSink, FileDescription, FileDescriptionImpl};
use crate::io::{IoDest, IoSource};
use crate::lock::FileLocks;
use crate::mount::VirtualDentry;
use crate::options::{
    GetXattrOptions, ReadOptions, SetStatOptions, SetXattrOptions, StatOptions, WriteOptions,
};
use crate::path::Path;
use crate::resolving_path::PathOperation;
use crate::vfs::VirtualFilesystem;

/// What `fstat` reports of an anonymous-inode file (an epoll instance, an
/// eventfd, a timerfd, a signalfd, a pidfd): mode 0600 with no file type,
/// on the device of the mount the description lives on. All of them share
/// one inode, as Linux's `anon_inode` files do.
pub fn anon_inode_stat(fd: &FileDescription) -> Statx {
    let dev = fd.mount().filesystem().dev();
    Statx {
        stx_mask: abi_linux::StatxMask::BASIC_STATS.bits(),
        stx_blksize: 4096,
        stx_nlink: 1,
        stx_mode: 0o600,
        stx_ino: ANON_INODE_INO,
        stx_dev_major: abi_linux::dev_major(dev),
        stx_dev_minor: abi_linux::dev_minor(dev),
        ..Statx::default()
    }
}

/// Creates a description with no path of its own (an epoll instance, an
/// eventfd, a pipe end, a socket) on `mount`'s root, opened with `flags`:
/// `pread`/`pwrite` are refused (`ESPIPE`) and `O_DIRECT` is not offered,
/// as for Linux's anonymous-inode files.
pub fn new_anon_file(
    flags: abi_linux::OpenFlags,
    mount: &crate::MountRef,
    imp: alloc::boxed::Box<dyn FileDescriptionImpl>,
) -> crate::FileRef {
    let root = mount.root_ref();
    let file = FileDescription::new(
        flags,
        mount,
        &root,
        crate::FileDescriptionOptions {
            allow_direct_io: false,
            deny_pread: true,
            deny_pwrite: true,
        },
        imp,
    );
    drop(root);
    file
}

/// The inode number every anonymous-inode file shares.
pub const ANON_INODE_INO: u64 = 1;

/// Runs `op` on the description's own location, as `AT_EMPTY_PATH` does:
/// the path operation starts and ends at the file, so the filesystem's path
/// methods answer for the description.
fn at_file<T>(
    fd: &FileDescription,
    op: impl FnOnce(&Arc<VirtualFilesystem>, &PathOperation<'_>) -> Result<T, Errno>,
) -> Result<T, Errno> {
    // A mount whose VFS is gone belongs to a torn-down VFS: nothing can be
    // resolved through it any more.
    let vfs = fd.mount().vfs.upgrade().ok_or(Errno::EBADF)?;
    let vd: VirtualDentry = fd.virtual_dentry();
    let pop = PathOperation {
        root: &vd,
        start: &vd,
        path: Path::parse(b""),
        follow_final_symlink: false,
        resolve: ResolveFlags::empty(),
    };
    op(&vfs, &pop)
}

/// `fstat` answered by the filesystem's `stat_at` for the file's dentry.
pub fn stat_from_dentry(
    ctx: &dyn Context,
    fd: &FileDescription,
    opts: StatOptions,
) -> Result<Statx, Errno> {
    at_file(fd, |vfs, pop| vfs.stat_at(ctx, pop, opts))
}

/// `fchmod`/`fchown`/`futimens`/`ftruncate` answered by the filesystem's
/// `set_stat_at`.
pub fn set_stat_from_dentry(
    ctx: &dyn Context,
    fd: &FileDescription,
    opts: SetStatOptions,
) -> Result<(), Errno> {
    at_file(fd, |vfs, pop| vfs.set_stat_at(ctx, pop, opts))
}

/// `fstatfs` answered by the filesystem's `statfs_at`.
pub fn statfs_from_dentry(ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
    at_file(fd, |vfs, pop| vfs.statfs_at(ctx, pop))
}

/// `flistxattr` answered by the filesystem's `list_xattr_at`.
pub fn list_xattr_from_dentry(
    ctx: &dyn Context,
    fd: &FileDescription,
) -> Result<Vec<Vec<u8>>, Errno> {
    at_file(fd, |vfs, pop| vfs.list_xattr_at(ctx, pop))
}

/// `fgetxattr` answered by the filesystem's `get_xattr_at`.
pub fn get_xattr_from_dentry(
    ctx: &dyn Context,
    fd: &FileDescription,
    opts: &GetXattrOptions,
) -> Result<Vec<u8>, Errno> {
    at_file(fd, |vfs, pop| vfs.get_xattr_at(ctx, pop, opts))
}

/// `fsetxattr` answered by the filesystem's `set_xattr_at`.
pub fn set_xattr_from_dentry(
    ctx: &dyn Context,
    fd: &FileDescription,
    opts: &SetXattrOptions,
) -> Result<(), Errno> {
    at_file(fd, |vfs, pop| vfs.set_xattr_at(ctx, pop, opts))
}

/// `fremovexattr` answered by the filesystem's `remove_xattr_at`.
pub fn remove_xattr_from_dentry(
    ctx: &dyn Context,
    fd: &FileDescription,
    name: &[u8],
) -> Result<(), Errno> {
    at_file(fd, |vfs, pop| vfs.remove_xattr_at(ctx, pop, name))
}

/// Computes a new offset for `lseek` on a file of `size` bytes (`None`
/// for files whose size is unknown, where `SEEK_END` is `EINVAL`):
/// negative results are `EINVAL`, overflow is `EOVERFLOW`, and
/// `SEEK_DATA`/`SEEK_HOLE` treat the file as one data extent (`ENXIO` at or
/// past the end).
pub fn generic_seek(
    current: i64,
    size: Option<u64>,
    offset: i64,
    whence: Whence,
) -> Result<i64, Errno> {
    let size_i64 = |size: Option<u64>| -> Result<i64, Errno> {
        let size = size.ok_or(Errno::EINVAL)?;
        i64::try_from(size).map_err(|_| Errno::EOVERFLOW)
    };
    let new = match whence {
        Whence::Set => offset,
        Whence::Cur => current.checked_add(offset).ok_or(Errno::EOVERFLOW)?,
        Whence::End => size_i64(size)?
            .checked_add(offset)
            .ok_or(Errno::EOVERFLOW)?,
        Whence::Data => {
            if offset < 0 || offset >= size_i64(size)? {
                return Err(Errno::ENXIO);
            }
            offset
        }
        Whence::Hole => {
            let size = size_i64(size)?;
            if offset < 0 || offset >= size {
                return Err(Errno::ENXIO);
            }
            size
        }
    };
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(new)
}

/// What a directory provides to [`DirectoryFile`].
pub trait DirectorySource: Send + Sync + 'static {
    /// Emits the entries from directory offset `offset` on, and returns the
    /// offset after the last accepted entry.
    fn iter_dirents(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        offset: i64,
        sink: &mut dyn DirentSink,
    ) -> Result<i64, Errno>;

    /// `fstat`; by default the filesystem's `stat_at` on the dentry.
    fn stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        stat_from_dentry(ctx, fd, opts)
    }

    /// `fchmod` and friends; by default the filesystem's `set_stat_at`.
    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        set_stat_from_dentry(ctx, fd, opts)
    }

    /// `fstatfs`; by default the filesystem's `statfs_at`.
    fn statfs(&self, ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        statfs_from_dentry(ctx, fd)
    }

    /// The directory inode's lock state, for `flock` on directories;
    /// `None` refuses locks with `ENOLCK`.
    fn file_locks(&self) -> Option<&FileLocks> {
        None
    }
}

/// A directory description: `getdents` from a [`DirectorySource`] with a
/// directory offset, `read` is `EISDIR`, metadata from the dentry.
pub struct DirectoryFile<S: DirectorySource> {
    source: S,
    offset: spin::Mutex<i64>,
}

impl<S: DirectorySource> DirectoryFile<S> {
    /// A description listing `source`, starting at offset 0.
    pub fn new(source: S) -> Self {
        Self {
            source,
            offset: spin::Mutex::new(0),
        }
    }

    /// The wrapped source.
    pub fn source(&self) -> &S {
        &self.source
    }
}

impl<S: DirectorySource> FileDescriptionImpl for DirectoryFile<S> {
    fn stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        self.source.stat(ctx, fd, opts)
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        self.source.set_stat(ctx, fd, opts)
    }

    fn statfs(&self, ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        self.source.statfs(ctx, fd)
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn pread(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: &mut dyn IoDest,
        _: u64,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn iter_dirents(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        sink: &mut dyn DirentSink,
    ) -> Result<(), Errno> {
        let mut offset = self.offset.lock();
        *offset = self.source.iter_dirents(ctx, fd, *offset, sink)?;
        Ok(())
    }

    /// Directory offsets are cookies: `SEEK_SET` and `SEEK_CUR` move to a
    /// non-negative offset; `SEEK_END` is `EINVAL`, as on tmpfs.
    fn seek(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let mut current = self.offset.lock();
        let new = match whence {
            Whence::Set => offset,
            Whence::Cur => current.checked_add(offset).ok_or(Errno::EOVERFLOW)?,
            _ => return Err(Errno::EINVAL),
        };
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        *current = new;
        Ok(new)
    }

    fn sync(&self, _: &dyn Context, _: &FileDescription) -> Result<(), Errno> {
        Ok(())
    }

    fn file_locks(&self) -> Option<&FileLocks> {
        self.source.file_locks()
    }
}

/// What a generated file provides to [`DynamicBytesFile`].
pub trait DynamicBytesSource: Send + Sync + 'static {
    /// Appends the file's current contents to `buf`.
    fn generate(&self, ctx: &dyn Context, buf: &mut Vec<u8>) -> Result<(), Errno>;

    /// Handles a write at `offset`. Files without a write handler return
    /// `EIO`, as gVisor's dynamic files do (their permissions normally
    /// refuse the open first).
    fn write(
        &self,
        ctx: &dyn Context,
        src: &mut dyn IoSource,
        offset: u64,
    ) -> Result<usize, Errno> {
        let _ = (ctx, src, offset);
        Err(Errno::EIO)
    }
}

/// A file whose contents are generated by a [`DynamicBytesSource`]: once
/// per open for sequential reads (regenerated when a read starts again at
/// offset 0), and afresh for every `pread`, so readers see a consistent
/// snapshot.
pub struct DynamicBytesFile<S: DynamicBytesSource> {
    source: S,
    state: spin::Mutex<DynamicState>,
}

#[derive(Default)]
struct DynamicState {
    data: Vec<u8>,
    generated: bool,
    offset: i64,
}

impl<S: DynamicBytesSource> DynamicBytesFile<S> {
    /// A description generating its contents with `source`.
    pub fn new(source: S) -> Self {
        Self {
            source,
            state: spin::Mutex::new(DynamicState::default()),
        }
    }

    /// The wrapped source.
    pub fn source(&self) -> &S {
        &self.source
    }
}

fn copy_at(data: &[u8], offset: u64, dst: &mut dyn IoDest) -> Result<usize, Errno> {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    if start == data.len() {
        return Ok(0);
    }
    dst.write_bytes(&data[start..])
}

impl<S: DynamicBytesSource> FileDescriptionImpl for DynamicBytesFile<S> {
    fn stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        stat_from_dentry(ctx, fd, opts)
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        set_stat_from_dentry(ctx, fd, opts)
    }

    fn statfs(&self, ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        statfs_from_dentry(ctx, fd)
    }

    fn read(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        let mut state = self.state.lock();
        if !state.generated || state.offset == 0 {
            let mut data = Vec::new();
            self.source.generate(ctx, &mut data)?;
            state.data = data;
            state.generated = true;
        }
        let offset = state.offset as u64;
        let n = copy_at(&state.data, offset, dst)?;
        state.offset += n as i64;
        Ok(n)
    }

    fn pread(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        let mut data = Vec::new();
        self.source.generate(ctx, &mut data)?;
        copy_at(&data, offset, dst)
    }

    fn write(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        let mut state = self.state.lock();
        let n = self.source.write(ctx, src, state.offset as u64)?;
        state.offset += n as i64;
        Ok(n)
    }

    fn pwrite(
        &self,
        ctx: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        offset: u64,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        self.source.write(ctx, src, offset)
    }

    /// `SEEK_SET` and `SEEK_CUR` only: the size of generated contents is
    /// unknown until read (`SEEK_END` is `EINVAL`, as for `seq_file`).
    fn seek(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let mut state = self.state.lock();
        let new = match whence {
            Whence::Set | Whence::Cur => generic_seek(state.offset, None, offset, whence)?,
            _ => return Err(Errno::EINVAL),
        };
        state.offset = new;
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seek_end_past_i64_is_eoverflow() {
        assert_eq!(
            generic_seek(0, Some(10), i64::MAX, Whence::End),
            Err(Errno::EOVERFLOW)
        );
    }

    #[test]
    fn seek_to_negative_is_einval() {
        assert_eq!(
            generic_seek(5, Some(10), -6, Whence::Cur),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn seek_data_past_end_is_enxio() {
        assert_eq!(
            generic_seek(0, Some(10), 10, Whence::Data),
            Err(Errno::ENXIO)
        );
        assert_eq!(generic_seek(0, Some(10), 3, Whence::Data), Ok(3));
        assert_eq!(generic_seek(0, Some(10), 3, Whence::Hole), Ok(10));
    }

    #[test]
    fn seek_end_without_size_is_einval() {
        assert_eq!(generic_seek(0, None, 0, Whence::End), Err(Errno::EINVAL));
    }
}
