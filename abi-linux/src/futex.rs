//! `futex(2)` operations and the bits of a robust futex word.

/// `FUTEX_WAIT`: wait while the word holds the expected value.
pub const FUTEX_WAIT: i32 = 0;
/// `FUTEX_WAKE`: wake waiters.
pub const FUTEX_WAKE: i32 = 1;
/// `FUTEX_FD`: removed from Linux.
pub const FUTEX_FD: i32 = 2;
/// `FUTEX_REQUEUE`: wake some waiters and move the rest.
pub const FUTEX_REQUEUE: i32 = 3;
/// `FUTEX_CMP_REQUEUE`: `FUTEX_REQUEUE` if the word holds a value.
pub const FUTEX_CMP_REQUEUE: i32 = 4;
/// `FUTEX_WAKE_OP`: operate on a second word and wake on both.
pub const FUTEX_WAKE_OP: i32 = 5;
/// `FUTEX_LOCK_PI`: take a priority-inheritance lock.
pub const FUTEX_LOCK_PI: i32 = 6;
/// `FUTEX_UNLOCK_PI`: release a priority-inheritance lock.
pub const FUTEX_UNLOCK_PI: i32 = 7;
/// `FUTEX_TRYLOCK_PI`: try a priority-inheritance lock.
pub const FUTEX_TRYLOCK_PI: i32 = 8;
/// `FUTEX_WAIT_BITSET`: wait with a bitset and an absolute timeout.
pub const FUTEX_WAIT_BITSET: i32 = 9;
/// `FUTEX_WAKE_BITSET`: wake waiters whose bitset intersects.
pub const FUTEX_WAKE_BITSET: i32 = 10;
/// `FUTEX_WAIT_REQUEUE_PI`: wait for a requeue onto a PI futex.
pub const FUTEX_WAIT_REQUEUE_PI: i32 = 11;
/// `FUTEX_CMP_REQUEUE_PI`: requeue onto a PI futex.
pub const FUTEX_CMP_REQUEUE_PI: i32 = 12;
/// `FUTEX_LOCK_PI2`: `FUTEX_LOCK_PI` with a selectable clock.
pub const FUTEX_LOCK_PI2: i32 = 13;
/// `FUTEX_PRIVATE_FLAG`: the futex is private to the process.
pub const FUTEX_PRIVATE_FLAG: i32 = 128;
/// `FUTEX_CLOCK_REALTIME`: the timeout is measured on `CLOCK_REALTIME`.
pub const FUTEX_CLOCK_REALTIME: i32 = 256;
/// `FUTEX_ROBUST_UNLOCK`: the unlock also clears the robust-list pending
/// pointer.
pub const FUTEX_ROBUST_UNLOCK: i32 = 512;
/// `FUTEX_ROBUST_LIST32`: the robust list uses 32-bit pointers.
pub const FUTEX_ROBUST_LIST32: i32 = 1024;
/// `FUTEX_CMD_MASK`: the bits of the operation without the flags.
pub const FUTEX_CMD_MASK: i32 =
    !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME | FUTEX_ROBUST_UNLOCK | FUTEX_ROBUST_LIST32);
/// `FUTEX_BITSET_MATCH_ANY`: the bitset that matches every waiter.
pub const FUTEX_BITSET_MATCH_ANY: u32 = 0xffff_ffff;
/// `FUTEX_WAITERS`: a PI or robust futex has waiters.
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
/// `FUTEX_OWNER_DIED`: the owner of a robust futex died.
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
/// `FUTEX_TID_MASK`: the owner's tid in a PI or robust futex word.
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// `FUTEX2_SIZE_U32`: a `futex_waitv(2)` entry names a 32-bit word.
pub const FUTEX2_SIZE_U32: u32 = 0x02;
/// `FUTEX2_SIZE_MASK`: the size bits of a `futex_waitv(2)` entry's flags.
pub const FUTEX2_SIZE_MASK: u32 = 0x03;
/// `FUTEX2_PRIVATE`: a `futex_waitv(2)` entry's word is process-private.
pub const FUTEX2_PRIVATE: u32 = 128;
/// `FUTEX_WAITV_MAX`: the most words one `futex_waitv(2)` waits on.
pub const FUTEX_WAITV_MAX: u32 = 128;

/// `struct futex_waitv`, one entry of `futex_waitv(2)`'s array.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
#[repr(C)]
pub struct FutexWaitv {
    /// The value the word must hold for the wait to start.
    pub val: u64,
    /// The word's address.
    pub uaddr: u64,
    /// `FUTEX2_*` flags.
    pub flags: u32,
    /// Must be zero.
    pub reserved: u32,
}
