//! Path resolution from the root directory.
//!
//! Paths are byte strings; relative paths are taken from the root. `.` and
//! `..` are looked up as the directory entries they are (the root's `..`
//! is the root). Symbolic links in intermediate components are always
//! followed, up to 40 of them in total as Linux allows; the final component
//! is followed by [`Ext4::resolve`] and not by [`Ext4::lookup`]. A trailing
//! slash requires the result to be a directory and follows a final link.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::fs::Ext4;
use crate::inode::{FileType, InodeNumber, ROOT_INO};

/// Linux's `PATH_MAX`.
const PATH_MAX: usize = 4096;
/// Linux's limit on symlinks followed in one resolution.
const MAX_LINKS: u32 = 40;

/// A component still to be resolved.
struct Pending {
    name: Vec<u8>,
    /// Whether this is the last component of the whole path.
    last: bool,
}

/// Pushes the components of `path` onto `stack` so the first is on top.
fn push_components(stack: &mut Vec<Pending>, path: &[u8], last: bool) {
    let parts: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    for (i, c) in parts.iter().enumerate().rev() {
        stack.push(Pending {
            name: c.to_vec(),
            last: last && i + 1 == parts.len(),
        });
    }
}

impl Ext4 {
    /// Resolves `path` without following a final symlink (like `lstat`).
    pub fn lookup(&self, path: &[u8]) -> Result<InodeNumber> {
        self.walk(path, false)
    }

    /// Resolves `path`, following a final symlink (like `stat`).
    pub fn resolve(&self, path: &[u8]) -> Result<InodeNumber> {
        self.walk(path, true)
    }

    fn walk(&self, path: &[u8], follow_final: bool) -> Result<InodeNumber> {
        if path.is_empty() {
            return Err(Error::NotFound);
        }
        if path.len() >= PATH_MAX {
            return Err(Error::NameTooLong);
        }
        let must_be_dir = path.ends_with(b"/");
        let follow_final = follow_final || must_be_dir;
        let mut stack = Vec::new();
        push_components(&mut stack, path, true);
        let mut cur = ROOT_INO;
        let mut links = 0u32;
        while let Some(Pending { name, last }) = stack.pop() {
            if name.len() > 255 {
                return Err(Error::NameTooLong);
            }
            let dir = self.inode(cur)?;
            if !dir.is_dir() {
                return Err(Error::NotADirectory);
            }
            if name == b"." {
                continue;
            }
            let next = self.lookup_in(&dir, &name)?.ok_or(Error::NotFound)?;
            let inode = self.inode(next)?;
            if inode.file_type() == Some(FileType::Symlink) && (!last || follow_final) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(Error::SymlinkLoop);
                }
                let target = self.read_link(&inode)?;
                if target.is_empty() {
                    return Err(Error::NotFound);
                }
                if target.starts_with(b"/") {
                    cur = ROOT_INO;
                }
                push_components(&mut stack, &target, last);
                continue;
            }
            cur = next;
        }
        if must_be_dir && !self.inode(cur)?.is_dir() {
            return Err(Error::NotADirectory);
        }
        Ok(cur)
    }
}
