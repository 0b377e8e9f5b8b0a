//! Extended attributes: in the inode body after `i_extra_isize`, and in one
//! external block named by `i_file_acl`; values may also live in their own
//! inode (`ea_inode`).
//!
//! Names are stored as a namespace index plus a suffix; this module maps
//! them back to full names (`user.`, `trusted.`, `security.`, `system.`,
//! `system.posix_acl_access`, `system.posix_acl_default`). POSIX ACLs are
//! converted from ext4's compact on-disk form to the `posix_acl_xattr`
//! form `getxattr(2)` returns.

use alloc::vec::Vec;

use crate::bytes::{byte, le16, le32};
use crate::checksum::crc32c;
use crate::error::{Corruption, Error, Result, Structure};
use crate::fs::{BlockBuf, Ext4};
use crate::inode::{FLAG_EA_INODE, Inode};

const MAGIC: u32 = 0xEA02_0000;
const ENTRY_HEADER: usize = 16;
/// Linux's `XATTR_SIZE_MAX`.
const VALUE_MAX: u32 = 65536;

const INDEX_USER: u8 = 1;
const INDEX_ACL_ACCESS: u8 = 2;
const INDEX_ACL_DEFAULT: u8 = 3;
const INDEX_TRUSTED: u8 = 4;
const INDEX_SECURITY: u8 = 6;
const INDEX_SYSTEM: u8 = 7;

/// Maps a namespace index to the prefix of the full name.
fn prefix(index: u8) -> Option<&'static [u8]> {
    Some(match index {
        INDEX_USER => b"user.",
        INDEX_ACL_ACCESS => b"system.posix_acl_access",
        INDEX_ACL_DEFAULT => b"system.posix_acl_default",
        INDEX_TRUSTED => b"trusted.",
        INDEX_SECURITY => b"security.",
        INDEX_SYSTEM => b"system.",
        _ => return None,
    })
}

/// One raw entry of an attribute area.
struct Entry<'a> {
    index: u8,
    name: &'a [u8],
    value_offs: usize,
    value_inum: u32,
    value_size: u32,
}

/// Walks the entries of an attribute area starting at `first`.
///
/// Calls `f` for each entry; stops at the end marker or on the first error.
fn for_each_entry<'a>(
    area: &'a [u8],
    first: usize,
    ino: u32,
    mut f: impl FnMut(Entry<'a>) -> Result<bool>,
) -> Result<()> {
    let bad = |what| Error::Corrupt(Corruption::Xattr { ino, what });
    let mut pos = first;
    loop {
        let head = area
            .get(pos..pos + 4)
            .ok_or(bad("entries run past the area"))?;
        if le32(head, 0) == 0 {
            return Ok(());
        }
        let e = area
            .get(pos..pos + ENTRY_HEADER)
            .ok_or(bad("entry runs past the area"))?;
        let name_len = usize::from(byte(e, 0));
        let name = area
            .get(pos + ENTRY_HEADER..pos + ENTRY_HEADER + name_len)
            .ok_or(bad("name runs past the area"))?;
        let entry = Entry {
            index: byte(e, 1),
            name,
            value_offs: usize::from(le16(e, 2)),
            value_inum: le32(e, 4),
            value_size: le32(e, 8),
        };
        if !f(entry)? {
            return Ok(());
        }
        pos += (ENTRY_HEADER + name_len + 3) & !3;
    }
}

/// The in-inode attribute area after its magic, if it has one.
fn inode_area(inode: &Inode) -> Option<&[u8]> {
    let a = &inode.xattr_area;
    (a.len() >= 4 && le32(a, 0) == MAGIC).then(|| &a[4..])
}

/// Returns the tail of an inline-data inode: the value of `system.data`.
pub(crate) fn inline_data_tail(inode: &Inode) -> Result<&[u8]> {
    let Some(area) = inode_area(inode) else {
        return Ok(&[]);
    };
    let mut found: Option<&[u8]> = None;
    let ino = inode.ino;
    for_each_entry(area, 0, ino, |e| {
        if e.index == INDEX_SYSTEM && e.name == b"data" {
            let size = usize::try_from(e.value_size).map_err(|_| Error::InvalidArgument)?;
            found = Some(
                area.get(e.value_offs..e.value_offs.saturating_add(size))
                    .ok_or(Error::Corrupt(Corruption::Xattr {
                        ino,
                        what: "inline data value out of range",
                    }))?,
            );
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(found.unwrap_or(&[]))
}

/// Converts ext4's on-disk POSIX ACL to the `posix_acl_xattr` form.
fn acl_to_xattr(raw: &[u8], ino: u32) -> Result<Vec<u8>> {
    let bad = || {
        Error::Corrupt(Corruption::Xattr {
            ino,
            what: "bad POSIX ACL",
        })
    };
    if raw.len() < 4 || le32(raw, 0) != 1 {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(4 + raw.len() * 2);
    out.extend_from_slice(&2u32.to_le_bytes());
    let mut pos = 4;
    while pos < raw.len() {
        let e = raw.get(pos..pos + 4).ok_or_else(bad)?;
        let tag = le16(e, 0);
        let perm = le16(e, 2);
        let (id, len) = match tag {
            // ACL_USER and ACL_GROUP carry an id.
            0x02 | 0x08 => (le32(raw.get(pos..pos + 8).ok_or_else(bad)?, 4), 8),
            0x01 | 0x04 | 0x10 | 0x20 => (u32::MAX, 4),
            _ => return Err(bad()),
        };
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&perm.to_le_bytes());
        out.extend_from_slice(&id.to_le_bytes());
        pos += len;
    }
    Ok(out)
}

/// Where an attribute area came from, for value lookups.
enum Area<'a> {
    /// The in-inode area (values relative to the first entry).
    Inode(&'a [u8]),
    /// The external block (values relative to the block start).
    Block(&'a [u8]),
}

impl Ext4 {
    /// Loads and validates the inode's external attribute block.
    fn xattr_block(&self, inode: &Inode, buf: &mut BlockBuf) -> Result<bool> {
        if inode.file_acl == 0 {
            return Ok(false);
        }
        let bad = |what| {
            Error::Corrupt(Corruption::Xattr {
                ino: inode.ino,
                what,
            })
        };
        buf.load(self, inode.file_acl)?;
        let b = buf.bytes(self);
        if le32(b, 0) != MAGIC || le32(b, 8) != 1 {
            return Err(bad("bad attribute block header"));
        }
        if self.verify_csum() {
            let mut c = crc32c(self.sb.csum_seed, &inode.file_acl.to_le_bytes());
            c = crc32c(c, &b[..0x10]);
            c = crc32c(c, &[0; 4]);
            c = crc32c(c, &b[0x14..]);
            if c != le32(b, 0x10) {
                return Err(Error::Corrupt(Corruption::Checksum {
                    structure: Structure::XattrBlock,
                    ino: inode.ino,
                    location: inode.file_acl,
                }));
            }
        }
        Ok(true)
    }

    /// Visits every attribute of `inode` (in-inode first, then the block),
    /// skipping `system.data`.
    fn visit_xattrs(
        &self,
        inode: &Inode,
        mut f: impl FnMut(&Ext4, &Area<'_>, Entry<'_>) -> Result<bool>,
    ) -> Result<()> {
        let mut more = true;
        if let Some(area) = inode_area(inode) {
            for_each_entry(area, 0, inode.ino, |e| {
                if e.index == INDEX_SYSTEM && e.name == b"data" {
                    return Ok(true);
                }
                more = f(self, &Area::Inode(area), e)?;
                Ok(more)
            })?;
        }
        let mut buf = BlockBuf::default();
        if more && self.xattr_block(inode, &mut buf)? {
            let block = buf.bytes(self);
            for_each_entry(block, 32, inode.ino, |e| {
                if e.index == INDEX_SYSTEM && e.name == b"data" {
                    return Ok(true);
                }
                f(self, &Area::Block(block), e)
            })?;
        }
        Ok(())
    }

    /// Lists the full names of the inode's extended attributes.
    pub fn list_xattrs(&self, inode: &Inode) -> Result<Vec<Vec<u8>>> {
        let mut names = Vec::new();
        self.visit_xattrs(inode, |_, _, e| {
            if let Some(p) = prefix(e.index) {
                let mut name = Vec::with_capacity(p.len() + e.name.len());
                name.extend_from_slice(p);
                name.extend_from_slice(e.name);
                names.push(name);
            }
            Ok(true)
        })?;
        Ok(names)
    }

    /// Returns the value of the extended attribute `name` (a full name
    /// such as `user.comment`).
    ///
    /// A missing attribute is [`Error::NoData`]; a name in no known
    /// namespace is [`Error::NotSupported`].
    pub fn get_xattr(&self, inode: &Inode, name: &[u8]) -> Result<Vec<u8>> {
        let (index, suffix) = split_name(name).ok_or(Error::NotSupported)?;
        let mut value = None;
        self.visit_xattrs(inode, |fs, area, e| {
            if e.index != index || e.name != suffix {
                return Ok(true);
            }
            let raw = fs.xattr_value(inode, area, &e)?;
            value = Some(match index {
                INDEX_ACL_ACCESS | INDEX_ACL_DEFAULT => acl_to_xattr(&raw, inode.ino)?,
                _ => raw,
            });
            Ok(false)
        })?;
        value.ok_or(Error::NoData)
    }

    /// Copies an entry's value out of its area or its value inode.
    fn xattr_value(&self, inode: &Inode, area: &Area<'_>, e: &Entry<'_>) -> Result<Vec<u8>> {
        let bad = |what| {
            Error::Corrupt(Corruption::Xattr {
                ino: inode.ino,
                what,
            })
        };
        if e.value_size > VALUE_MAX {
            return Err(bad("value too large"));
        }
        let size = usize::try_from(e.value_size).map_err(|_| Error::InvalidArgument)?;
        if e.value_inum != 0 {
            let vino = self.inode(e.value_inum)?;
            if vino.flags & FLAG_EA_INODE == 0 || vino.size != u64::from(e.value_size) {
                return Err(bad("bad value inode"));
            }
            let mut out = alloc::vec![0u8; size];
            let n = self.read_data(&vino, 0, &mut out)?;
            out.truncate(n);
            return Ok(out);
        }
        let bytes = match area {
            Area::Inode(a) | Area::Block(a) => a,
        };
        bytes
            .get(e.value_offs..e.value_offs.saturating_add(size))
            .map(<[u8]>::to_vec)
            .ok_or(bad("value out of range"))
    }
}

/// Splits a full attribute name into its namespace index and suffix.
fn split_name(name: &[u8]) -> Option<(u8, &[u8])> {
    if name == b"system.posix_acl_access" {
        return Some((INDEX_ACL_ACCESS, b""));
    }
    if name == b"system.posix_acl_default" {
        return Some((INDEX_ACL_DEFAULT, b""));
    }
    if name == b"system.data" {
        return None;
    }
    [INDEX_USER, INDEX_TRUSTED, INDEX_SECURITY, INDEX_SYSTEM]
        .into_iter()
        .find_map(|i| {
            let p = prefix(i)?;
            name.strip_prefix(p).map(|s| (i, s))
        })
}
