//! Directory entries of `getdents64(2)`: [`Dirent64Header`] and
//! [`write_dirent64`].

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The fixed part of `struct linux_dirent64`.
///
/// The name starts at byte [`DIRENT64_NAME_OFFSET`] (19), inside what
/// `repr(C)` makes the padding of this structure; `_pad` makes that
/// padding explicit so the header can be read and written as bytes. Only
/// the first 19 bytes belong to an entry.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Dirent64Header {
    /// The inode number.
    pub d_ino: u64,
    /// The offset of the next entry, as `lseek(2)` on the directory takes it.
    pub d_off: i64,
    /// The length of this record, header, name, NUL and padding.
    pub d_reclen: u16,
    /// The `DT_*` type of the file.
    pub d_type: u8,
    /// Where the name starts in a record.
    pub _pad: [u8; 5],
}

/// The offset of `d_name` in a `struct linux_dirent64` record.
pub const DIRENT64_NAME_OFFSET: usize = 19;

/// Returns the length of the record of a name of `name_len` bytes: the
/// header, the name, a NUL and zero padding to a multiple of 8.
///
/// The result saturates at the largest multiple of 8 for lengths no
/// record can have.
pub const fn dirent64_reclen(name_len: usize) -> usize {
    match name_len.checked_add(DIRENT64_NAME_OFFSET + 8) {
        Some(n) => n & !7,
        None => usize::MAX & !7,
    }
}

/// Writes one `getdents64(2)` record at the start of `buf` and returns its
/// length, or `None` (writing nothing) if it does not fit in `buf` or its
/// length does not fit in `d_reclen`.
///
/// The record is byte for byte what Linux writes: the header, `name`, a
/// NUL and zero padding to a multiple of 8 bytes.
///
/// # Examples
///
/// ```
/// use abi_linux::{DT_REG, write_dirent64};
///
/// let mut buf = [0xffu8; 64];
/// let len = write_dirent64(&mut buf, 12, 1, DT_REG, b"hello").unwrap();
/// assert_eq!(len, 32);
/// assert_eq!(&buf[19..25], b"hello\0");
/// assert!(write_dirent64(&mut buf[..31], 12, 1, DT_REG, b"hello").is_none());
/// ```
pub fn write_dirent64(buf: &mut [u8], ino: u64, off: i64, ty: u8, name: &[u8]) -> Option<usize> {
    let reclen = DIRENT64_NAME_OFFSET
        .checked_add(name.len())?
        .checked_add(8)?
        & !7;
    let d_reclen = u16::try_from(reclen).ok()?;
    let record = buf.get_mut(..reclen)?;
    let header = Dirent64Header {
        d_ino: ino,
        d_off: off,
        d_reclen,
        d_type: ty,
        _pad: [0; 5],
    };
    let (fixed, rest) = record.split_at_mut(DIRENT64_NAME_OFFSET);
    fixed.copy_from_slice(&header.as_bytes()[..DIRENT64_NAME_OFFSET]);
    let (name_part, padding) = rest.split_at_mut(name.len());
    name_part.copy_from_slice(name);
    padding.fill(0);
    Some(reclen)
}

#[cfg(test)]
mod tests {
    use super::{dirent64_reclen, write_dirent64};

    #[test]
    fn reclen_agrees_with_write() {
        let mut buf = [0u8; 512];
        for n in 0..=300 {
            let name = [b'a'; 300];
            let written = write_dirent64(&mut buf, 1, 1, 0, &name[..n]);
            assert_eq!(written, Some(dirent64_reclen(n)));
        }
    }

    #[test]
    fn reclen_saturates_instead_of_overflowing() {
        assert_eq!(dirent64_reclen(usize::MAX), usize::MAX & !7);
    }

    #[test]
    fn too_long_names_are_refused_without_panicking() {
        let mut buf = [0u8; 16];
        assert_eq!(write_dirent64(&mut buf, 1, 1, 0, b""), None);
        let big = [b'x'; 70000];
        let mut large = [0u8; 128];
        assert_eq!(write_dirent64(&mut large, 1, 1, 0, &big), None);
    }
}
