//! Open directories (gVisor gofer's `directoryFD`): the entries are read
//! with Treaddir when listing starts (offset 0) and kept for the life of
//! the listing, so offsets are stable indexes into one snapshot; `.` and
//! `..` are produced locally.
//!
//! In the cached interop modes the snapshot is also kept on the directory's
//! dentry (gVisor's `dentry.dirents`) until the sandbox changes the
//! directory (every change goes through `touch_dir`, which invalidates it),
//! so listing an unchanged directory again costs no round trip.
//!
//! # Lock order
//!
//! `entries` → the dentry's `listing` → the dentry's `links`. The listing
//! lock is not held across the Treaddir.

use std::sync::{Arc, Mutex};

use abi_linux::{Errno, OpenFlags, Statfs, Statx};
use vfs_core::file_description_util::DirectorySource;
use vfs_core::{Context, Dirent, DirentSink, FileDescription, SetStatOptions, StatOptions};

use super::dentry::GoferDentry;
use super::fs_of;
use super::inode::lock;

struct Entry {
    name: Vec<u8>,
    ino: u64,
    dtype: u8,
}

/// A directory dentry's cached listing.
#[derive(Default)]
pub(crate) struct ListingCache {
    /// Bumped by every change of the directory, so a listing read while
    /// one happened is not kept.
    generation: u64,
    entries: Option<Arc<Vec<Entry>>>,
}

impl ListingCache {
    /// Forgets the listing: the directory changed.
    pub(crate) fn invalidate(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.entries = None;
    }
}

/// An open directory's listing: vfs-core's directory description keeps
/// the offset and the seek and `EISDIR` rules.
pub struct GoferDirectory {
    d: Arc<GoferDentry>,
    entries: Mutex<Option<Arc<Vec<Entry>>>>,
}

/// An open directory.
pub type DirectoryFile = vfs_core::file_description_util::DirectoryFile<GoferDirectory>;

/// Opens the directory `d`.
pub(crate) fn open(d: Arc<GoferDentry>) -> DirectoryFile {
    DirectoryFile::new(GoferDirectory {
        d,
        entries: Mutex::new(None),
    })
}

impl GoferDirectory {
    /// The listing: the dentry's cached one, or a fresh one (cached when
    /// the mode allows and the directory did not change meanwhile).
    fn load(&self) -> Result<Arc<Vec<Entry>>, Errno> {
        if self.d.shared.is_shared() {
            return self.read().map(Arc::new);
        }
        let generation = {
            let cache = lock(&self.d.listing);
            if let Some(entries) = &cache.entries {
                return Ok(Arc::clone(entries));
            }
            cache.generation
        };
        let entries = Arc::new(self.read()?);
        let mut cache = lock(&self.d.listing);
        if cache.generation == generation {
            cache.entries = Some(Arc::clone(&entries));
        }
        Ok(entries)
    }

    /// Reads the listing from the server.
    fn read(&self) -> Result<Vec<Entry>, Errno> {
        let mut fid = self.d.fid().walk::<&[u8]>(&[])?;
        fid.lopen(OpenFlags::DIRECTORY.bits())?;
        let raw = fid.readdir_all()?;
        drop(fid);
        let me = self.d.inode().ino();
        let parent = self.d.parent().map_or(me, |p| p.inode().ino());
        let mut entries = vec![
            Entry {
                name: b".".to_vec(),
                ino: me,
                dtype: abi_linux::DT_DIR,
            },
            Entry {
                name: b"..".to_vec(),
                ino: parent,
                dtype: abi_linux::DT_DIR,
            },
        ];
        entries.extend(
            raw.into_iter()
                .filter(|e| e.name != b"." && e.name != b"..")
                .map(|e| Entry {
                    name: e.name,
                    ino: e.qid.path,
                    dtype: e.ty,
                }),
        );
        Ok(entries)
    }
}

impl DirectorySource for GoferDirectory {
    fn iter_dirents(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        mut offset: i64,
        sink: &mut dyn DirentSink,
    ) -> Result<i64, Errno> {
        let mut entries = lock(&self.entries);
        if entries.is_none() || offset == 0 {
            *entries = Some(self.load()?);
        }
        let Some(entries) = entries.as_ref() else {
            return Ok(offset);
        };
        let first = usize::try_from(offset).unwrap_or(usize::MAX);
        for (i, e) in entries.iter().enumerate().skip(first) {
            let next = i64::try_from(i + 1).map_err(|_| Errno::EOVERFLOW)?;
            let dirent = Dirent {
                name: &e.name,
                ino: e.ino,
                dtype: e.dtype,
                next_offset: next,
            };
            if !sink.add(&dirent) {
                break;
            }
            offset = next;
        }
        Ok(offset)
    }

    fn stat(
        &self,
        _ctx: &dyn Context,
        fd: &FileDescription,
        _opts: StatOptions,
    ) -> Result<Statx, Errno> {
        fs_of(fd)?.stat_file(&self.d, fd)
    }

    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        fs_of(fd)?.set_stat_file(ctx, &self.d, fd, opts)
    }

    fn statfs(&self, _ctx: &dyn Context, fd: &FileDescription) -> Result<Statfs, Errno> {
        fs_of(fd)?.statfs_file()
    }
}
