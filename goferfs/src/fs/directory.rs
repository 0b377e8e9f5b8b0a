//! Open directories (gVisor gofer's `directoryFD`): the entries are read
//! with Treaddir when listing starts (offset 0) and kept for the life of
//! the listing, so offsets are stable indexes into one snapshot; `.` and
//! `..` are produced locally.
//!
//! # Lock order
//!
//! `state` → the dentry's `links`.

use std::sync::{Arc, Mutex};

use abi_linux::{Errno, OpenFlags, Statfs, Statx, Whence};
use vfs_core::io::IoDest;
use vfs_core::{
    Context, Dirent, DirentSink, FileDescription, FileDescriptionImpl, ReadOptions, SetStatOptions,
    StatOptions,
};

use super::dentry::GoferDentry;
use super::fs_of;
use super::inode::lock;

struct Entry {
    name: Vec<u8>,
    ino: u64,
    dtype: u8,
}

#[derive(Default)]
struct State {
    entries: Option<Vec<Entry>>,
    offset: i64,
}

/// An open directory.
pub struct DirectoryFile {
    d: Arc<GoferDentry>,
    state: Mutex<State>,
}

impl DirectoryFile {
    pub(crate) fn new(d: Arc<GoferDentry>) -> Self {
        Self {
            d,
            state: Mutex::new(State::default()),
        }
    }

    fn load(&self) -> Result<Vec<Entry>, Errno> {
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

impl FileDescriptionImpl for DirectoryFile {
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

    fn read(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        _dst: &mut dyn IoDest,
        _opts: ReadOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn pread(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        _dst: &mut dyn IoDest,
        _offset: u64,
        _opts: ReadOptions,
    ) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn iter_dirents(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        sink: &mut dyn DirentSink,
    ) -> Result<(), Errno> {
        let mut st = lock(&self.state);
        if st.entries.is_none() || st.offset == 0 {
            st.entries = Some(self.load()?);
        }
        let State { entries, offset } = &mut *st;
        let Some(entries) = entries else {
            return Ok(());
        };
        let first = usize::try_from(*offset).unwrap_or(usize::MAX);
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
            *offset = next;
        }
        Ok(())
    }

    fn seek(
        &self,
        _ctx: &dyn Context,
        _fd: &FileDescription,
        offset: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        let mut st = lock(&self.state);
        let target = match whence {
            Whence::Set => offset,
            Whence::Cur => st.offset.checked_add(offset).ok_or(Errno::EINVAL)?,
            _ => return Err(Errno::EINVAL),
        };
        if target < 0 {
            return Err(Errno::EINVAL);
        }
        st.offset = target;
        Ok(target)
    }

    fn sync(&self, _ctx: &dyn Context, _fd: &FileDescription) -> Result<(), Errno> {
        Ok(())
    }
}
