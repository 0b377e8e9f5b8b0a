//! Block sources: where the bytes of an image come from.
//!
//! A [`BlockSource`] reads bytes at an offset straight into the caller's
//! buffer. Sources that hold the whole image in memory (a byte vector, a
//! memory-mapped file) also expose it as one slice so metadata can be parsed
//! in place without a copy.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::error::{Corruption, Error, Result};

/// A random-access, read-only view of an image.
///
/// Implementations must be safe to share between threads; reads of the same
/// range must return the same bytes for as long as the source is in use.
pub trait BlockSource: Send + Sync {
    /// Returns the size of the image in bytes.
    fn size(&self) -> u64;

    /// Fills `buf` with the image bytes starting at `offset`.
    ///
    /// A read that extends past [`size`](Self::size) fails with
    /// [`Corruption::OutOfBounds`], since only a corrupt image refers to
    /// bytes it does not have.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;

    /// Returns the whole image as one slice, when the source has it in
    /// memory.
    fn as_slice(&self) -> Option<&[u8]> {
        None
    }

    /// Returns a host file descriptor whose offsets are the image's, when
    /// the image is a host file: a memory-mapped image lends it to
    /// `mmap(2)` of files of the image so the platform maps the image's
    /// pages directly. The descriptor stays open while the source lives.
    fn host_fd(&self) -> Option<i32> {
        None
    }
}

/// Returns the bytes of `slice` at `offset..offset + len`, or an
/// out-of-bounds corruption.
pub(crate) fn slice_at(slice: &[u8], offset: u64, len: usize) -> Result<&[u8]> {
    let start = usize::try_from(offset).map_err(|_| Corruption::OutOfBounds { at: offset })?;
    let end = start
        .checked_add(len)
        .ok_or(Corruption::OutOfBounds { at: offset })?;
    slice
        .get(start..end)
        .ok_or(Error::Corrupt(Corruption::OutOfBounds { at: offset }))
}

impl BlockSource for [u8] {
    fn size(&self) -> u64 {
        // A slice never exceeds isize::MAX bytes, which fits in u64.
        u64::try_from(self.len()).unwrap_or(u64::MAX)
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        buf.copy_from_slice(slice_at(self, offset, buf.len())?);
        Ok(())
    }

    fn as_slice(&self) -> Option<&[u8]> {
        Some(self)
    }
}

macro_rules! forward_source {
    ($($ty:ty),*) => {$(
        impl BlockSource for $ty {
            fn size(&self) -> u64 {
                <[u8] as BlockSource>::size(self)
            }

            fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
                <[u8] as BlockSource>::read_exact_at(self, offset, buf)
            }

            fn as_slice(&self) -> Option<&[u8]> {
                Some(self)
            }
        }
    )*};
}

forward_source!(Vec<u8>, Box<[u8]>, &'static [u8]);

/// A shared source, such as the `Arc<dyn BlockSource>` a vfs-core mount
/// receives, is a source.
impl<T: BlockSource + ?Sized> BlockSource for Arc<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_exact_at(offset, buf)
    }

    fn as_slice(&self) -> Option<&[u8]> {
        (**self).as_slice()
    }

    fn host_fd(&self) -> Option<i32> {
        (**self).host_fd()
    }
}

#[cfg(feature = "std")]
pub use file::FileSource;

#[cfg(feature = "std")]
mod file {
    use std::fs::File;
    use std::io;
    use std::os::unix::fs::FileExt;

    use super::BlockSource;
    use crate::error::{Corruption, Error, Result};

    /// An image read from a file with `pread(2)`.
    #[derive(Debug)]
    pub struct FileSource {
        file: File,
        size: u64,
    }

    impl FileSource {
        /// Wraps an open image file; its size is taken now.
        pub fn new(file: File) -> io::Result<Self> {
            let size = file.metadata()?.len();
            Ok(FileSource { file, size })
        }
    }

    impl BlockSource for FileSource {
        fn size(&self) -> u64 {
            self.size
        }

        fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
            let len = u64::try_from(buf.len()).map_err(|_| Error::InvalidArgument)?;
            match offset.checked_add(len) {
                Some(end) if end <= self.size => {}
                _ => return Err(Error::Corrupt(Corruption::OutOfBounds { at: offset })),
            }
            self.file
                .read_exact_at(buf, offset)
                .map_err(|e| match e.kind() {
                    io::ErrorKind::UnexpectedEof => {
                        Error::Corrupt(Corruption::OutOfBounds { at: offset })
                    }
                    // EIO when the OS gave no errno this crate knows.
                    _ => Error::Io(
                        e.raw_os_error()
                            .and_then(abi_linux::Errno::from_raw)
                            .unwrap_or(abi_linux::Errno::EIO),
                    ),
                })
        }
    }
}
