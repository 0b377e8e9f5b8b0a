//! Open files of a mounted image: regular files ([`RegularFile`]) and
//! directories ([`DirectorySource`] inside vfs-core's
//! [`DirectoryFile`](vfs_core::file_description_util::DirectoryFile)).
//!
//! # Reference model
//!
//! A description holds an `Arc` on its [`ExtDentry`]; the counted
//! reference that keeps the dentry cached is the one the
//! [`FileDescription`] holds.
//!
//! # Lock order
//!
//! A description's offset mutex is a leaf.

use alloc::string::String;
use alloc::sync::Arc;

use abi_linux::{Errno, OpenFlags, Statfs, Statx, StatxMask, Whence};
use vfs_core::file_description::DirentSink;
use vfs_core::file_description_util::{DirectorySource, generic_seek};
use vfs_core::io::IoDest;
use vfs_core::lock::FileLocks;
use vfs_core::memmap::{Mappable, MmapFileAccess, MmapOpts, generic_configure_mmap};
use vfs_core::{
    Context, Dirent, FileDescription, FileDescriptionImpl, ReadOptions, SetStatOptions, StatOptions,
};

use super::dentry::ExtDentry;
use super::mmap::MappedFile;
use super::{ExtFs, statx_of};

/// The filesystem of a description.
fn ext_fs(fd: &FileDescription) -> Result<&ExtFs, Errno> {
    fd.mount()
        .filesystem()
        .downcast::<ExtFs>()
        .ok_or(Errno::EXDEV)
}

fn stat_of(fd: &FileDescription, dentry: &ExtDentry) -> Statx {
    let fs = fd.mount().filesystem();
    statx_of(&dentry.inode.raw, fs.dev(), fd.mount().id())
}

/// An open regular file.
pub(super) struct RegularFile {
    pub(super) dentry: Arc<ExtDentry>,
    pub(super) offset: spin::Mutex<i64>,
}

impl RegularFile {
    /// Reads at `offset` straight from the image into `dst`.
    fn read_at(
        &self,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
    ) -> Result<usize, Errno> {
        let ext4 = ext_fs(fd)?.shared.ext4();
        let raw = &self.dentry.inode.raw;
        let mut pos = offset;
        dst.copy_from_reader(&mut |block| {
            let n = ext4.read_at(raw, pos, block).map_err(|e| e.errno())?;
            pos += n as u64;
            Ok(n)
        })
    }
}

impl FileDescriptionImpl for RegularFile {
    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(stat_of(fd, &self.dentry))
    }

    /// `ftruncate` of a description not open for writing is `EINVAL`, as
    /// in Linux; every other change is `EROFS`.
    fn set_stat(
        &self,
        _: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        let truncates = StatxMask::from_bits_retain(opts.stat.stx_mask).contains(StatxMask::SIZE);
        if truncates && !fd.is_writable() {
            return Err(Errno::EINVAL);
        }
        Err(Errno::EROFS)
    }

    fn statfs(&self, _: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        Ok(ext_fs(fd)?.statfs())
    }

    fn pread(
        &self,
        _: &dyn Context,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        offset: u64,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        self.read_at(fd, dst, offset)
    }

    fn read(
        &self,
        _: &dyn Context,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        let mut offset = self.offset.lock();
        let start = u64::try_from(*offset).map_err(|_| Errno::EINVAL)?;
        let n = self.read_at(fd, dst, start)?;
        *offset = offset.saturating_add(i64::try_from(n).map_err(|_| Errno::EOVERFLOW)?);
        Ok(n)
    }

    /// `SEEK_DATA` and `SEEK_HOLE` follow the extent tree or block map;
    /// the other whences are the generic ones.
    fn seek(
        &self,
        _: &dyn Context,
        fd: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let raw = &self.dentry.inode.raw;
        let mut current = self.offset.lock();
        let new = match whence {
            Whence::Data | Whence::Hole => {
                let start = u64::try_from(offset).map_err(|_| Errno::ENXIO)?;
                let ext4 = ext_fs(fd)?.shared.ext4();
                let found = if whence == Whence::Data {
                    ext4.seek_data(raw, start)
                } else {
                    ext4.seek_hole(raw, start)
                };
                let found = found.map_err(|e| e.errno())?.ok_or(Errno::ENXIO)?;
                i64::try_from(found).map_err(|_| Errno::EOVERFLOW)?
            }
            _ => generic_seek(*current, Some(raw.size), offset, whence)?,
        };
        *current = new;
        Ok(new)
    }

    fn sync(&self, _: &dyn Context, _: &FileDescription) -> Result<(), Errno> {
        Ok(())
    }

    fn configure_mmap(
        &self,
        _: &dyn Context,
        fd: &FileDescription,
        opts: &mut MmapOpts,
    ) -> Result<(), Errno> {
        let access = MmapFileAccess {
            readable: fd.is_readable(),
            writable: fd.is_writable(),
            append: fd.status_flags().contains(OpenFlags::APPEND),
        };
        let identity = Arc::new(MappedFile {
            name: String::from_utf8_lossy(self.dentry.name()).into_owned(),
            dev: fd.mount().filesystem().dev(),
            ino: u64::from(self.dentry.inode.ino()),
        });
        let mappable: Arc<dyn Mappable> = Arc::clone(&self.dentry.inode) as Arc<dyn Mappable>;
        generic_configure_mmap(opts, access, mappable, identity)
    }

    fn file_locks(&self) -> Option<&FileLocks> {
        Some(&self.dentry.inode.locks)
    }
}

/// The entries of a directory for vfs-core's `DirectoryFile`.
///
/// Directory offsets are extfs's cookies (byte positions in the
/// directory), so an offset returned by `lseek` resumes exactly after the
/// entry it follows.
pub(super) struct DirectoryEntries {
    pub(super) dentry: Arc<ExtDentry>,
}

impl DirectorySource for DirectoryEntries {
    fn iter_dirents(
        &self,
        _: &dyn Context,
        fd: &FileDescription,
        offset: i64,
        sink: &mut dyn DirentSink,
    ) -> Result<i64, Errno> {
        let ext4 = ext_fs(fd)?.shared.ext4();
        let cookie = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
        let entries = ext4
            .read_dir_at(&self.dentry.inode.raw, cookie)
            .map_err(|e| e.errno())?;
        let mut pos = offset;
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                // Entries already emitted are returned first, as Linux does.
                Err(_) if pos != offset => break,
                Err(e) => return Err(e.errno()),
            };
            let Ok(next) = i64::try_from(entry.next_cookie) else {
                break;
            };
            let dirent = Dirent {
                name: entry.name(),
                ino: u64::from(entry.ino),
                dtype: entry.file_type.map_or(abi_linux::DT_UNKNOWN, |t| t.dt()),
                next_offset: next,
            };
            if !sink.add(&dirent) {
                break;
            }
            pos = next;
        }
        Ok(pos)
    }

    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(stat_of(fd, &self.dentry))
    }

    fn statfs(&self, _: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        Ok(ext_fs(fd)?.statfs())
    }

    fn file_locks(&self) -> Option<&FileLocks> {
        Some(&self.dentry.inode.locks)
    }
}
