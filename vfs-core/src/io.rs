//! Where `read(2)` puts bytes and where `write(2)` takes them from (gVisor
//! `usermem.IOSequence` and `safemem`).
//!
//! A file system never sees application addresses: its read methods write
//! into an [`IoDest`] and its write methods read from an [`IoSource`]. Both
//! are sequences of bytes consumed front to back, possibly scattered over
//! several buffers (`readv(2)`/`writev(2)`), possibly shorter than asked
//! (a fault part-way through).
//!
//! Library users pass byte slices ([`SliceDest`], [`SliceSource`],
//! [`IoVecDest`], [`IoVecSource`], [`VecDest`]). The sentry implements the
//! traits over application memory: it translates each iovec through the
//! task's address space into ranges of the memory file that backs it and
//! copies through the sentry's own mapping of that file. An address that is not mapped, or not mapped with the needed
//! permission, ends the transfer there: the bytes before it count (a short
//! read or write), and `EFAULT` is reported only if nothing was transferred,
//! as Linux does.
//!
//! The block methods ([`IoDest::copy_from_reader`],
//! [`IoSource::copy_to_writer`]) let a file system copy straight between its
//! pages and the destination without a bounce buffer.
//!
//! # Locking
//!
//! The types here do no locking. Closures passed to the block methods run
//! with whatever locks their caller holds; the sentry's implementations may
//! take the address-space lock for reading, so a file system must not hold
//! locks that come after it (`memmap` documents the order) while copying.

use alloc::vec::Vec;

use abi_linux::Errno;

/// Returns `Ok(done)` if some bytes were transferred, else `Err(e)`: the
/// Linux rule for a transfer that stops on an error.
fn partial(done: usize, e: Errno) -> Result<usize, Errno> {
    if done > 0 { Ok(done) } else { Err(e) }
}

/// A destination of bytes: what a read fills.
pub trait IoDest {
    /// Returns how many more bytes the destination accepts at most.
    fn remaining(&self) -> usize;

    /// Calls `f` on consecutive writable blocks of the destination, in
    /// order. `f` writes the first bytes of a block and returns how many; a
    /// short count (including zero) or an error stops the walk. The
    /// destination advances past the bytes written.
    ///
    /// Returns the total written; an error (from `f`, or `EFAULT` if the
    /// destination faults) only if nothing was written. With nothing
    /// remaining, returns `Ok(0)` without calling `f`.
    fn copy_from_reader(
        &mut self,
        f: &mut dyn FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno>;

    /// Copies as much of `src` as fits; returns the count (short if the
    /// destination is smaller or faults).
    fn write_bytes(&mut self, src: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        self.copy_from_reader(&mut |block| {
            let n = block.len().min(src.len() - done);
            block[..n].copy_from_slice(&src[done..done + n]);
            done += n;
            Ok(n)
        })
    }
}

/// A source of bytes: what a write drains.
pub trait IoSource {
    /// Returns how many more bytes the source holds at most.
    fn remaining(&self) -> usize;

    /// Calls `f` on consecutive blocks of the source, in order. `f` consumes
    /// the first bytes of a block and returns how many; a short count
    /// (including zero) or an error stops the walk. The source advances past
    /// the bytes consumed.
    ///
    /// Returns the total consumed; an error (from `f`, or `EFAULT` if the
    /// source faults) only if nothing was consumed. With nothing remaining,
    /// returns `Ok(0)` without calling `f`.
    fn copy_to_writer(
        &mut self,
        f: &mut dyn FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno>;

    /// Fills as much of `dst` as the source holds; returns the count.
    fn read_bytes(&mut self, dst: &mut [u8]) -> Result<usize, Errno> {
        let mut done = 0;
        self.copy_to_writer(&mut |block| {
            let n = block.len().min(dst.len() - done);
            dst[done..done + n].copy_from_slice(&block[..n]);
            done += n;
            Ok(n)
        })
    }
}

/// Copies `src` to `dest` (what a read of an in-memory buffer does); returns
/// the count.
pub fn copy_out(dest: &mut dyn IoDest, src: &[u8]) -> Result<usize, Errno> {
    dest.write_bytes(src)
}

/// Copies from `src` into `dst` (what a write into an in-memory buffer
/// does); returns the count.
pub fn copy_in(src: &mut dyn IoSource, dst: &mut [u8]) -> Result<usize, Errno> {
    src.read_bytes(dst)
}

/// Moves bytes from `src` to `dest` until either ends or faults, block by
/// block without an intermediate buffer (what `splice(2)`-like paths do);
/// returns the count.
pub fn transfer(dest: &mut dyn IoDest, src: &mut dyn IoSource) -> Result<usize, Errno> {
    dest.copy_from_reader(&mut |block| src.read_bytes(block))
}

/// A destination over one byte slice.
///
/// # Examples
///
/// ```
/// use vfs_core::io::{IoDest, SliceDest};
///
/// let mut buf = [0u8; 4];
/// let mut dest = SliceDest::new(&mut buf);
/// assert_eq!(dest.write_bytes(b"hello"), Ok(4));
/// assert_eq!(dest.written(), 4);
/// assert_eq!(&buf, b"hell");
/// ```
#[derive(Debug)]
pub struct SliceDest<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> SliceDest<'a> {
    /// Creates a destination that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> SliceDest<'a> {
        SliceDest { buf, pos: 0 }
    }

    /// Returns how many bytes were written.
    pub fn written(&self) -> usize {
        self.pos
    }
}

impl IoDest for SliceDest<'_> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn copy_from_reader(
        &mut self,
        f: &mut dyn FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if self.pos == self.buf.len() {
            return Ok(0);
        }
        let block = &mut self.buf[self.pos..];
        let n = f(block)?.min(block.len());
        self.pos += n;
        Ok(n)
    }
}

/// A source over one byte slice.
#[derive(Debug, Clone)]
pub struct SliceSource<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> SliceSource<'a> {
    /// Creates a source that yields `buf` from its start.
    pub fn new(buf: &'a [u8]) -> SliceSource<'a> {
        SliceSource { buf, pos: 0 }
    }

    /// Returns how many bytes were consumed.
    pub fn consumed(&self) -> usize {
        self.pos
    }
}

impl IoSource for SliceSource<'_> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn copy_to_writer(
        &mut self,
        f: &mut dyn FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if self.pos == self.buf.len() {
            return Ok(0);
        }
        let block = &self.buf[self.pos..];
        let n = f(block)?.min(block.len());
        self.pos += n;
        Ok(n)
    }
}

/// A destination scattered over several slices, filled in order
/// (`readv(2)`).
#[derive(Debug)]
pub struct IoVecDest<'a> {
    bufs: Vec<&'a mut [u8]>,
    /// The buffer being filled.
    index: usize,
    /// The position in `bufs[index]`.
    offset: usize,
}

impl<'a> IoVecDest<'a> {
    /// Creates a destination over `bufs`; empty buffers are skipped.
    pub fn new(bufs: Vec<&'a mut [u8]>) -> IoVecDest<'a> {
        IoVecDest {
            bufs,
            index: 0,
            offset: 0,
        }
    }
}

impl IoDest for IoVecDest<'_> {
    fn remaining(&self) -> usize {
        self.bufs
            .iter()
            .skip(self.index)
            .map(|b| b.len())
            .sum::<usize>()
            - self.offset
    }

    fn copy_from_reader(
        &mut self,
        f: &mut dyn FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut done = 0;
        while let Some(buf) = self.bufs.get_mut(self.index) {
            let block = &mut buf[self.offset..];
            let len = block.len();
            if len == 0 {
                self.index += 1;
                self.offset = 0;
                continue;
            }
            let n = match f(block) {
                Ok(n) => n.min(len),
                Err(e) => return partial(done, e),
            };
            done += n;
            self.offset += n;
            if n < len {
                break;
            }
            self.index += 1;
            self.offset = 0;
        }
        Ok(done)
    }
}

/// A source gathered from several slices, drained in order (`writev(2)`).
#[derive(Debug, Clone)]
pub struct IoVecSource<'a> {
    bufs: Vec<&'a [u8]>,
    /// The buffer being drained.
    index: usize,
    /// The position in `bufs[index]`.
    offset: usize,
}

impl<'a> IoVecSource<'a> {
    /// Creates a source over `bufs`; empty buffers are skipped.
    pub fn new(bufs: Vec<&'a [u8]>) -> IoVecSource<'a> {
        IoVecSource {
            bufs,
            index: 0,
            offset: 0,
        }
    }
}

impl IoSource for IoVecSource<'_> {
    fn remaining(&self) -> usize {
        self.bufs
            .iter()
            .skip(self.index)
            .map(|b| b.len())
            .sum::<usize>()
            - self.offset
    }

    fn copy_to_writer(
        &mut self,
        f: &mut dyn FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut done = 0;
        while let Some(buf) = self.bufs.get(self.index) {
            let block = &buf[self.offset..];
            let len = block.len();
            if len == 0 {
                self.index += 1;
                self.offset = 0;
                continue;
            }
            let n = match f(block) {
                Ok(n) => n.min(len),
                Err(e) => return partial(done, e),
            };
            done += n;
            self.offset += n;
            if n < len {
                break;
            }
            self.index += 1;
            self.offset = 0;
        }
        Ok(done)
    }
}

/// A growable destination that collects bytes into a `Vec`, up to a limit.
#[derive(Debug, Clone, Default)]
pub struct VecDest {
    buf: Vec<u8>,
    limit: usize,
}

impl VecDest {
    /// The most the destination grows by per block handed to a reader.
    const BLOCK: usize = 64 * 1024;

    /// Creates an empty destination that accepts at most `limit` bytes.
    pub fn new(limit: usize) -> VecDest {
        VecDest {
            buf: Vec::new(),
            limit,
        }
    }

    /// Returns the bytes collected so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// Returns the collected bytes.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

impl IoDest for VecDest {
    fn remaining(&self) -> usize {
        self.limit - self.buf.len()
    }

    fn copy_from_reader(
        &mut self,
        f: &mut dyn FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut done = 0;
        while self.buf.len() < self.limit {
            let start = self.buf.len();
            let len = (self.limit - start).min(VecDest::BLOCK);
            self.buf.resize(start + len, 0);
            let result = f(&mut self.buf[start..]);
            let n = *result.as_ref().unwrap_or(&0);
            let n = n.min(len);
            self.buf.truncate(start + n);
            done += n;
            if let Err(e) = result {
                return partial(done, e);
            }
            if n < len {
                break;
            }
        }
        Ok(done)
    }
}

/// A view of a destination or source limited to its first bytes (gVisor
/// `IOSequence.TakeFirst`): a read of a file stops at its end of file this
/// way.
#[derive(Debug)]
pub struct Limited<'a, T: ?Sized> {
    inner: &'a mut T,
    limit: usize,
}

impl<'a, T: ?Sized> Limited<'a, T> {
    /// Limits `inner` to its first `limit` bytes.
    pub fn new(inner: &'a mut T, limit: usize) -> Limited<'a, T> {
        Limited { inner, limit }
    }
}

impl<T: IoDest + ?Sized> IoDest for Limited<'_, T> {
    fn remaining(&self) -> usize {
        self.inner.remaining().min(self.limit)
    }

    fn copy_from_reader(
        &mut self,
        f: &mut dyn FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut left = self.limit;
        let done = self.inner.copy_from_reader(&mut |block| {
            let len = block.len().min(left);
            if len == 0 {
                return Ok(0);
            }
            let n = f(&mut block[..len])?.min(len);
            left -= n;
            Ok(n)
        })?;
        self.limit -= done;
        Ok(done)
    }
}

impl<T: IoSource + ?Sized> IoSource for Limited<'_, T> {
    fn remaining(&self) -> usize {
        self.inner.remaining().min(self.limit)
    }

    fn copy_to_writer(
        &mut self,
        f: &mut dyn FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut left = self.limit;
        let done = self.inner.copy_to_writer(&mut |block| {
            let len = block.len().min(left);
            if len == 0 {
                return Ok(0);
            }
            let n = f(&block[..len])?.min(len);
            left -= n;
            Ok(n)
        })?;
        self.limit -= done;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// A destination that accepts `good` bytes and then faults, as
    /// application memory does at an unmapped page; it hands out blocks of
    /// at most 3 bytes to exercise block boundaries.
    struct FaultingDest {
        got: Vec<u8>,
        good: usize,
    }

    impl IoDest for FaultingDest {
        fn remaining(&self) -> usize {
            usize::MAX
        }

        fn copy_from_reader(
            &mut self,
            f: &mut dyn FnMut(&mut [u8]) -> Result<usize, Errno>,
        ) -> Result<usize, Errno> {
            let mut done = 0;
            loop {
                let room = self.good - self.got.len();
                if room == 0 {
                    return partial(done, Errno::EFAULT);
                }
                let mut block = [0u8; 3];
                let len = room.min(3);
                let n = match f(&mut block[..len]) {
                    Ok(n) => n.min(len),
                    Err(e) => return partial(done, e),
                };
                self.got.extend_from_slice(&block[..n]);
                done += n;
                if n < len {
                    return Ok(done);
                }
            }
        }
    }

    #[test]
    fn readv_scatters_across_three_buffers_with_partial_last() {
        let (mut a, mut b, mut c) = ([0u8; 2], [0u8; 3], [0u8; 4]);
        {
            let mut dest = IoVecDest::new(vec![&mut a[..], &mut b[..], &mut c[..]]);
            assert_eq!(dest.write_bytes(b"abcdefg"), Ok(7));
            assert_eq!(dest.remaining(), 2);
        }
        assert_eq!((&a, &b, &c[..2]), (b"ab", b"cde", &b"fg"[..]));
        assert_eq!(c[2..], [0, 0]);
    }

    #[test]
    fn readv_stops_when_all_buffers_are_full() {
        let (mut a, mut b) = ([0u8; 1], [0u8; 2]);
        let mut dest = IoVecDest::new(vec![&mut a[..], &mut b[..]]);
        assert_eq!(dest.write_bytes(b"hijk"), Ok(3));
        assert_eq!(dest.write_bytes(b"x"), Ok(0));
        drop(dest);
        assert_eq!((&a, &b), (b"h", b"ij"));
    }

    #[test]
    fn writev_gathers_from_buffers_skipping_empty_ones() {
        let mut src = IoVecSource::new(vec![&b"ab"[..], &b""[..], &b"cde"[..]]);
        assert_eq!(src.remaining(), 5);
        let mut out = [0u8; 4];
        assert_eq!(copy_in(&mut src, &mut out), Ok(4));
        assert_eq!(&out, b"abcd");
        assert_eq!(src.remaining(), 1);
    }

    #[test]
    fn fault_after_some_bytes_is_short_count() {
        let mut dest = FaultingDest {
            got: Vec::new(),
            good: 5,
        };
        assert_eq!(copy_out(&mut dest, b"0123456789"), Ok(5));
        assert_eq!(dest.got, b"01234");
    }

    #[test]
    fn fault_before_any_byte_is_efault() {
        let mut dest = FaultingDest {
            got: Vec::new(),
            good: 0,
        };
        assert_eq!(copy_out(&mut dest, b"0123"), Err(Errno::EFAULT));
    }

    #[test]
    fn reader_error_after_some_bytes_is_short_count() {
        let (mut a, mut b) = ([0u8; 2], [0u8; 2]);
        let mut dest = IoVecDest::new(vec![&mut a[..], &mut b[..]]);
        let mut calls = 0;
        let n = dest.copy_from_reader(&mut |block| {
            calls += 1;
            if calls == 1 {
                block.fill(7);
                Ok(block.len())
            } else {
                Err(Errno::EIO)
            }
        });
        assert_eq!(n, Ok(2));
        assert_eq!(dest.remaining(), 2);
    }

    #[test]
    fn zero_length_transfers_do_not_call_the_reader() {
        let mut empty: [u8; 0] = [];
        let mut dest = SliceDest::new(&mut empty);
        let mut called = false;
        let n = dest.copy_from_reader(&mut |_| {
            called = true;
            Err(Errno::EIO)
        });
        assert_eq!(n, Ok(0));
        assert!(!called);
        assert_eq!(IoVecDest::new(Vec::new()).write_bytes(b"abc"), Ok(0));
        assert_eq!(SliceSource::new(b"").read_bytes(&mut [0u8; 4]), Ok(0));
        assert_eq!(VecDest::new(0).write_bytes(b"abc"), Ok(0));
    }

    #[test]
    fn vec_dest_grows_up_to_its_limit() {
        let mut dest = VecDest::new(100_000);
        let data: Vec<u8> = (0..150_000u32).map(|i| i as u8).collect();
        assert_eq!(dest.write_bytes(&data), Ok(100_000));
        assert_eq!(dest.as_slice(), &data[..100_000]);
        assert_eq!(dest.remaining(), 0);
    }

    #[test]
    fn vec_dest_keeps_only_bytes_the_reader_wrote() {
        let mut dest = VecDest::new(1000);
        let n = dest.copy_from_reader(&mut |block| {
            block[..3].copy_from_slice(b"xyz");
            Ok(3)
        });
        assert_eq!(n, Ok(3));
        assert_eq!(dest.into_vec(), b"xyz");
    }

    #[test]
    fn transfer_moves_between_scattered_source_and_dest() {
        let mut src = IoVecSource::new(vec![&b"hel"[..], &b"lo wor"[..], &b"ld"[..]]);
        let (mut a, mut b) = ([0u8; 4], [0u8; 5]);
        let mut dest = IoVecDest::new(vec![&mut a[..], &mut b[..]]);
        assert_eq!(transfer(&mut dest, &mut src), Ok(9));
        drop(dest);
        assert_eq!((&a, &b), (b"hell", b"o wor"));
        assert_eq!(src.remaining(), 2);
    }

    #[test]
    fn limited_dest_stops_at_limit_and_remembers_it() {
        let mut buf = [0u8; 10];
        let mut inner = SliceDest::new(&mut buf);
        let mut limited = Limited::new(&mut inner, 4);
        assert_eq!(limited.remaining(), 4);
        assert_eq!(limited.write_bytes(b"abc"), Ok(3));
        assert_eq!(limited.write_bytes(b"def"), Ok(1));
        assert_eq!(limited.write_bytes(b"g"), Ok(0));
        assert_eq!(inner.written(), 4);
        assert_eq!(&buf[..4], b"abcd");
    }

    #[test]
    fn limited_source_stops_at_limit() {
        let mut inner = SliceSource::new(b"abcdef");
        let mut limited = Limited::new(&mut inner, 2);
        let mut out = [0u8; 6];
        assert_eq!(limited.read_bytes(&mut out), Ok(2));
        assert_eq!(limited.read_bytes(&mut out), Ok(0));
        assert_eq!(inner.consumed(), 2);
    }
}
