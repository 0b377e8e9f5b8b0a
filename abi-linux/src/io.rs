//! Flags and types of the read/write/seek family: [`Whence`], [`RwfFlags`],
//! [`FallocFlags`] and [`Iovec`].

use bitflags::bitflags;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The `whence` argument of `lseek(2)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Whence {
    /// `SEEK_SET`: the offset is absolute.
    Set = 0,
    /// `SEEK_CUR`: the offset is relative to the current offset.
    Cur = 1,
    /// `SEEK_END`: the offset is relative to the end of the file.
    End = 2,
    /// `SEEK_DATA`: seek to the next data at or after the offset.
    Data = 3,
    /// `SEEK_HOLE`: seek to the next hole at or after the offset.
    Hole = 4,
}

impl Whence {
    /// Returns the `whence` with raw value `v`, or `None` (which `lseek(2)`
    /// reports as `EINVAL`).
    pub const fn from_raw(v: i32) -> Option<Whence> {
        match v {
            0 => Some(Whence::Set),
            1 => Some(Whence::Cur),
            2 => Some(Whence::End),
            3 => Some(Whence::Data),
            4 => Some(Whence::Hole),
            _ => None,
        }
    }
}

bitflags! {
    /// The `RWF_*` flags of `preadv2(2)` and `pwritev2(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct RwfFlags: u32 {
        /// `RWF_HIPRI`: high-priority (polled) I/O.
        const HIPRI = 0x01;
        /// `RWF_DSYNC`: per-call `O_DSYNC`.
        const DSYNC = 0x02;
        /// `RWF_SYNC`: per-call `O_SYNC`.
        const SYNC = 0x04;
        /// `RWF_NOWAIT`: fail with `EAGAIN` rather than block.
        const NOWAIT = 0x08;
        /// `RWF_APPEND`: per-call `O_APPEND`.
        const APPEND = 0x10;
        /// `RWF_NOAPPEND`: ignore `O_APPEND` for this call.
        const NOAPPEND = 0x20;
        /// `RWF_ATOMIC`: write without tearing.
        const ATOMIC = 0x40;
        /// `RWF_DONTCACHE`: drop the pages from the cache after the I/O.
        const DONTCACHE = 0x80;
    }
}

bitflags! {
    /// The `FALLOC_FL_*` mode flags of `fallocate(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct FallocFlags: u32 {
        /// `FALLOC_FL_KEEP_SIZE`: do not change the file size.
        const KEEP_SIZE = 0x01;
        /// `FALLOC_FL_PUNCH_HOLE`: deallocate the range (with `KEEP_SIZE`).
        const PUNCH_HOLE = 0x02;
        /// `FALLOC_FL_NO_HIDE_STALE`: reserved, refused by Linux.
        const NO_HIDE_STALE = 0x04;
        /// `FALLOC_FL_COLLAPSE_RANGE`: remove the range, shifting the rest.
        const COLLAPSE_RANGE = 0x08;
        /// `FALLOC_FL_ZERO_RANGE`: zero the range.
        const ZERO_RANGE = 0x10;
        /// `FALLOC_FL_INSERT_RANGE`: insert a hole, shifting the rest.
        const INSERT_RANGE = 0x20;
        /// `FALLOC_FL_UNSHARE_RANGE`: unshare shared (reflinked) blocks.
        const UNSHARE_RANGE = 0x40;
    }
}

/// `struct iovec` of the 64-bit ABI: one buffer of a scatter/gather list.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Iovec {
    /// The start address of the buffer in the application's memory.
    pub base: u64,
    /// The length of the buffer in bytes.
    pub len: u64,
}

bitflags! {
    /// The flags of `splice(2)`, `tee(2)` and `vmsplice(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct SpliceFlags: u32 {
        /// `SPLICE_F_MOVE`: move pages if possible (a hint).
        const MOVE = 1;
        /// `SPLICE_F_NONBLOCK`: do not block on the pipe.
        const NONBLOCK = 2;
        /// `SPLICE_F_MORE`: more data will follow (a hint).
        const MORE = 4;
        /// `SPLICE_F_GIFT`: the pages are a gift (`vmsplice`, a hint).
        const GIFT = 8;
    }
}
