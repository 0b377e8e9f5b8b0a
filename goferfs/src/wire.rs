//! Primitive little-endian encoding and bounds-checked decoding of 9P fields.
//!
//! A [`Reader`] never reads past the slice it was given and never allocates
//! more than the bytes it has; every failure is a [`DecodeError`].

use core::fmt;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A field ran past the end of the frame.
    Truncated,
    /// The size field disagrees with the frame length or exceeds msize.
    BadSize,
    /// The message type byte names no 9P2000.L message.
    UnknownType(u8),
    /// Bytes were left over after the last field of the message.
    TrailingBytes,
    /// A walk carried more than [`MAX_WALK_ELEMENTS`](crate::MAX_WALK_ELEMENTS) names or qids.
    TooManyElements,
    /// A count field disagrees with the data that follows it.
    BadCount,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("9P frame truncated"),
            Self::BadSize => f.write_str("9P size field invalid"),
            Self::UnknownType(t) => write!(f, "unknown 9P message type {t}"),
            Self::TrailingBytes => f.write_str("trailing bytes after 9P message"),
            Self::TooManyElements => f.write_str("too many walk elements"),
            Self::BadCount => f.write_str("9P count field disagrees with data"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over untrusted bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Creates a reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Returns how many bytes are left.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let b = self.bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads a `u8`.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a little-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a 9P string (`len[2] bytes[len]`) as raw bytes.
    pub fn string(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u16()?;
        Ok(self.bytes(usize::from(n))?.to_vec())
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

/// Appends 9P fields to a caller-owned buffer, so one buffer serves many
/// messages.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut Vec<u8>,
    overflow: bool,
}

impl<'a> Writer<'a> {
    /// Creates a writer appending to `buf`.
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Self {
            buf,
            overflow: false,
        }
    }

    /// Returns true if a string longer than `u16::MAX` bytes was appended
    /// (and cut short); the encoded message is then invalid.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Appends a `u8`.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends a little-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a little-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a little-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// Appends a 9P string. A string longer than `u16::MAX` bytes cannot be
    /// represented: it is cut short and [`Writer::overflowed`] turns true.
    pub fn string(&mut self, v: &[u8]) {
        let n = match u16::try_from(v.len()) {
            Ok(n) => n,
            Err(_) => {
                self.overflow = true;
                u16::MAX
            }
        };
        self.u16(n);
        self.buf.extend_from_slice(&v[..usize::from(n)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_longer_than_frame_is_truncated_error() {
        let mut r = Reader::new(&[0xff, 0xff, b'a']);
        assert_eq!(r.string(), Err(DecodeError::Truncated));
    }

    #[test]
    fn integers_are_little_endian() {
        let mut buf = Vec::new();
        let mut w = Writer::new(&mut buf);
        w.u32(0x0102_0304);
        assert_eq!(buf, [4, 3, 2, 1]);
    }
}
