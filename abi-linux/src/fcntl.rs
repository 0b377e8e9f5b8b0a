//! `fcntl(2)` commands and file locks: [`FcntlCmd`], [`LockType`],
//! [`Flock`], [`FlockOp`] and [`SealFlags`].

use bitflags::bitflags;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `FD_CLOEXEC`: the close-on-exec descriptor flag of `F_GETFD`/`F_SETFD`.
pub const FD_CLOEXEC: i32 = 1;

/// A command of `fcntl(2)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct FcntlCmd(pub i32);

impl FcntlCmd {
    /// `F_DUPFD`: duplicate to the lowest free descriptor at least the
    /// argument.
    pub const DUPFD: FcntlCmd = FcntlCmd(0);
    /// `F_GETFD`: read the descriptor flags.
    pub const GETFD: FcntlCmd = FcntlCmd(1);
    /// `F_SETFD`: set the descriptor flags.
    pub const SETFD: FcntlCmd = FcntlCmd(2);
    /// `F_GETFL`: read the status flags.
    pub const GETFL: FcntlCmd = FcntlCmd(3);
    /// `F_SETFL`: set the status flags.
    pub const SETFL: FcntlCmd = FcntlCmd(4);
    /// `F_GETLK`: test for a conflicting POSIX lock.
    pub const GETLK: FcntlCmd = FcntlCmd(5);
    /// `F_SETLK`: take or release a POSIX lock without waiting.
    pub const SETLK: FcntlCmd = FcntlCmd(6);
    /// `F_SETLKW`: take a POSIX lock, waiting.
    pub const SETLKW: FcntlCmd = FcntlCmd(7);
    /// `F_SETOWN`: set the owner of `SIGIO`.
    pub const SETOWN: FcntlCmd = FcntlCmd(8);
    /// `F_GETOWN`: read the owner of `SIGIO`.
    pub const GETOWN: FcntlCmd = FcntlCmd(9);
    /// `F_SETSIG`: set the signal sent for I/O readiness.
    pub const SETSIG: FcntlCmd = FcntlCmd(10);
    /// `F_GETSIG`: read the signal sent for I/O readiness.
    pub const GETSIG: FcntlCmd = FcntlCmd(11);
    /// `F_SETOWN_EX`: set the owner as a thread, process or group.
    pub const SETOWN_EX: FcntlCmd = FcntlCmd(15);
    /// `F_GETOWN_EX`: read the owner as a thread, process or group.
    pub const GETOWN_EX: FcntlCmd = FcntlCmd(16);
    /// `F_GETOWNER_UIDS`: read the owner's user ids.
    pub const GETOWNER_UIDS: FcntlCmd = FcntlCmd(17);
    /// `F_OFD_GETLK`: test for a conflicting open-file-description lock.
    pub const OFD_GETLK: FcntlCmd = FcntlCmd(36);
    /// `F_OFD_SETLK`: take or release an OFD lock without waiting.
    pub const OFD_SETLK: FcntlCmd = FcntlCmd(37);
    /// `F_OFD_SETLKW`: take an OFD lock, waiting.
    pub const OFD_SETLKW: FcntlCmd = FcntlCmd(38);
    /// `F_SETLEASE`: take or release a lease.
    pub const SETLEASE: FcntlCmd = FcntlCmd(1024);
    /// `F_GETLEASE`: read the lease.
    pub const GETLEASE: FcntlCmd = FcntlCmd(1025);
    /// `F_NOTIFY`: directory change notification (dnotify).
    pub const NOTIFY: FcntlCmd = FcntlCmd(1026);
    /// `F_DUPFD_QUERY`: report whether two descriptors share a file.
    pub const DUPFD_QUERY: FcntlCmd = FcntlCmd(1027);
    /// `F_CREATED_QUERY`: report whether the open created the file.
    pub const CREATED_QUERY: FcntlCmd = FcntlCmd(1028);
    /// `F_DUPFD_CLOEXEC`: `F_DUPFD` with close-on-exec.
    pub const DUPFD_CLOEXEC: FcntlCmd = FcntlCmd(1030);
    /// `F_SETPIPE_SZ`: set the pipe capacity.
    pub const SETPIPE_SZ: FcntlCmd = FcntlCmd(1031);
    /// `F_GETPIPE_SZ`: read the pipe capacity.
    pub const GETPIPE_SZ: FcntlCmd = FcntlCmd(1032);
    /// `F_ADD_SEALS`: add memfd seals.
    pub const ADD_SEALS: FcntlCmd = FcntlCmd(1033);
    /// `F_GET_SEALS`: read memfd seals.
    pub const GET_SEALS: FcntlCmd = FcntlCmd(1034);
    /// `F_GET_RW_HINT`: read the inode's write-lifetime hint.
    pub const GET_RW_HINT: FcntlCmd = FcntlCmd(1035);
    /// `F_SET_RW_HINT`: set the inode's write-lifetime hint.
    pub const SET_RW_HINT: FcntlCmd = FcntlCmd(1036);
    /// `F_GET_FILE_RW_HINT`: read the file's write-lifetime hint.
    pub const GET_FILE_RW_HINT: FcntlCmd = FcntlCmd(1037);
    /// `F_SET_FILE_RW_HINT`: set the file's write-lifetime hint.
    pub const SET_FILE_RW_HINT: FcntlCmd = FcntlCmd(1038);
}

bitflags! {
    /// The `F_SEAL_*` seals of a memfd.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct SealFlags: u32 {
        /// `F_SEAL_SEAL`: no more seals may be added.
        const SEAL = 0x01;
        /// `F_SEAL_SHRINK`: the file may not shrink.
        const SHRINK = 0x02;
        /// `F_SEAL_GROW`: the file may not grow.
        const GROW = 0x04;
        /// `F_SEAL_WRITE`: the contents may not change.
        const WRITE = 0x08;
        /// `F_SEAL_FUTURE_WRITE`: no new writable mappings or writes.
        const FUTURE_WRITE = 0x10;
        /// `F_SEAL_EXEC`: the execute bits may not change.
        const EXEC = 0x20;
    }
}

/// The `l_type` of a [`Flock`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i16)]
pub enum LockType {
    /// `F_RDLCK`: a shared (read) lock.
    RDLCK = 0,
    /// `F_WRLCK`: an exclusive (write) lock.
    WRLCK = 1,
    /// `F_UNLCK`: no lock, or release.
    UNLCK = 2,
}

impl LockType {
    /// Returns the lock type with raw value `v`, or `None` (which
    /// `fcntl(2)` reports as `EINVAL`).
    pub const fn from_raw(v: i16) -> Option<LockType> {
        match v {
            0 => Some(LockType::RDLCK),
            1 => Some(LockType::WRLCK),
            2 => Some(LockType::UNLCK),
            _ => None,
        }
    }
}

/// The kernel's `struct flock` on 64-bit architectures (32 bytes), the
/// argument of the lock commands of `fcntl(2)`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Flock {
    /// The [`LockType`].
    pub l_type: i16,
    /// How `l_start` is interpreted (`SEEK_SET`, `SEEK_CUR`, `SEEK_END`).
    pub l_whence: i16,
    /// Padding, zero.
    pub _pad0: u32,
    /// The start of the range.
    pub l_start: i64,
    /// The length of the range; 0 means to the end of the file.
    pub l_len: i64,
    /// The owner of a conflicting lock (`F_GETLK`), or -1 for an OFD lock.
    pub l_pid: i32,
    /// Padding, zero.
    pub _pad1: u32,
}

bitflags! {
    /// The operation of `flock(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct FlockOp: u32 {
        /// `LOCK_SH`: take a shared lock.
        const SH = 1;
        /// `LOCK_EX`: take an exclusive lock.
        const EX = 2;
        /// `LOCK_NB`: fail with `EWOULDBLOCK` rather than wait.
        const NB = 4;
        /// `LOCK_UN`: release the lock.
        const UN = 8;
    }
}

/// `CLOSE_RANGE_UNSHARE`: `close_range(2)` first gives the caller its own
/// descriptor table.
pub const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
/// `CLOSE_RANGE_CLOEXEC`: `close_range(2)` marks close-on-exec instead of
/// closing.
pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

bitflags! {
    /// The flags of `memfd_create(2)` (the huge-page size bits above
    /// `MFD_HUGETLB` are not modelled).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MfdFlags: u32 {
        /// `MFD_CLOEXEC`: the descriptor is close-on-exec.
        const CLOEXEC = 0x1;
        /// `MFD_ALLOW_SEALING`: seals may be added.
        const ALLOW_SEALING = 0x2;
        /// `MFD_HUGETLB`: back the file with huge pages.
        const HUGETLB = 0x4;
        /// `MFD_NOEXEC_SEAL`: not executable, sealed so (implies sealing).
        const NOEXEC_SEAL = 0x8;
        /// `MFD_EXEC`: executable.
        const EXEC = 0x10;
    }
}

/// The longest `memfd_create(2)` name: `NAME_MAX` less `"memfd:"`.
pub const MFD_NAME_MAX_LEN: usize = 255 - 6;
