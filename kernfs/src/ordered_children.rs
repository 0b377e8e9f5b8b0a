//! [`OrderedChildren`]: a directory's entries in creation order, with
//! stable directory offsets under concurrent insertion and removal
//! (gVisor kernfs's `OrderedChildren`).
//!
//! # Locking
//!
//! One spin mutex; inode attributes are read under it (lock order:
//! children → attributes).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use abi_linux::Errno;
use hashbrown::HashMap;
use vfs_core::{Dirent, DirentSink};

use crate::inode::Inode;

struct Entries {
    by_name: HashMap<Vec<u8>, (u64, Arc<dyn Inode>)>,
    by_serial: BTreeMap<u64, Vec<u8>>,
    next_serial: u64,
}

/// Named child inodes in the order they were added. An entry's directory
/// offset is fixed when it is added, so a reader resuming at an offset
/// neither repeats nor skips entries that stayed.
pub struct OrderedChildren {
    entries: spin::Mutex<Entries>,
}

impl Default for OrderedChildren {
    fn default() -> Self {
        Self::new()
    }
}

/// The `DT_*` type of an inode.
pub fn dirent_type(inode: &dyn Inode) -> u8 {
    inode.mode().file_type().map_or(0, |t| t.dirent_type())
}

impl OrderedChildren {
    /// No children.
    pub fn new() -> Self {
        Self {
            entries: spin::Mutex::new(Entries {
                by_name: HashMap::new(),
                by_serial: BTreeMap::new(),
                next_serial: 0,
            }),
        }
    }

    /// The child `name`.
    pub fn get(&self, name: &[u8]) -> Option<Arc<dyn Inode>> {
        self.entries
            .lock()
            .by_name
            .get(name)
            .map(|(_, inode)| Arc::clone(inode))
    }

    /// Adds `inode` as `name`; `EEXIST` if the name is taken.
    pub fn insert(&self, name: &[u8], inode: Arc<dyn Inode>) -> Result<(), Errno> {
        let mut entries = self.entries.lock();
        if entries.by_name.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let serial = entries.next_serial;
        entries.next_serial += 1;
        entries.by_name.insert(name.to_vec(), (serial, inode));
        entries.by_serial.insert(serial, name.to_vec());
        Ok(())
    }

    /// Puts `inode` at `name`, replacing and returning what was there. A
    /// new name goes at the end; a replaced entry keeps its offset.
    pub fn replace(&self, name: &[u8], inode: Arc<dyn Inode>) -> Option<Arc<dyn Inode>> {
        let mut entries = self.entries.lock();
        if let Some((_, old)) = entries.by_name.get_mut(name) {
            return Some(core::mem::replace(old, inode));
        }
        let serial = entries.next_serial;
        entries.next_serial += 1;
        entries.by_name.insert(name.to_vec(), (serial, inode));
        entries.by_serial.insert(serial, name.to_vec());
        None
    }

    /// Removes and returns the child `name`.
    pub fn remove(&self, name: &[u8]) -> Option<Arc<dyn Inode>> {
        let mut entries = self.entries.lock();
        let (serial, inode) = entries.by_name.remove(name)?;
        entries.by_serial.remove(&serial);
        Some(inode)
    }

    /// The number of children.
    pub fn len(&self) -> usize {
        self.entries.lock().by_name.len()
    }

    /// Whether there are no children.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names and inodes of the children, in order.
    pub fn snapshot(&self) -> Vec<(Vec<u8>, Arc<dyn Inode>)> {
        let entries = self.entries.lock();
        entries
            .by_serial
            .values()
            .filter_map(|name| {
                entries
                    .by_name
                    .get(name)
                    .map(|(_, i)| (name.clone(), Arc::clone(i)))
            })
            .collect()
    }

    /// [`Inode::iter_dirents`] over the children: the entry added `n`th
    /// (counting from 0) has relative offset `n`.
    pub fn iter_dirents(
        &self,
        sink: &mut dyn DirentSink,
        offset: i64,
        rel_offset: i64,
    ) -> Result<i64, Errno> {
        let base = offset - rel_offset;
        let from = u64::try_from(rel_offset).map_err(|_| Errno::EINVAL)?;
        let entries = self.entries.lock();
        let mut next = offset;
        for (&serial, name) in entries.by_serial.range(from..) {
            let Some((_, inode)) = entries.by_name.get(name) else {
                continue;
            };
            let next_offset = base + i64::try_from(serial + 1).map_err(|_| Errno::EOVERFLOW)?;
            let dirent = Dirent {
                name,
                ino: inode.attrs().ino(),
                dtype: dirent_type(&**inode),
                next_offset,
            };
            if !sink.add(&dirent) {
                break;
            }
            next = next_offset;
        }
        Ok(next)
    }
}
