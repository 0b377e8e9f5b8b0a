#![no_std]
//! The Linux system-call ABI, as gVisor's `pkg/abi/linux` provides it.
//!
//! This crate has no state, no locks and no reference-counted objects: it
//! is the vocabulary every other crate of the sentry speaks. It holds
//!
//! - [`Errno`] and the [`Result`] alias used across crate boundaries;
//! - system-call numbers for x86_64 and aarch64 ([`syscalls`]);
//! - flag sets of the file, memory, process and signal calls as
//!   [`bitflags`] types named after Linux without the prefix
//!   (`O_CREAT` is [`OpenFlags::CREAT`]);
//! - the structures the calls exchange with applications, `#[repr(C)]` and
//!   [`zerocopy`] types with explicit padding, whose layout the tests check
//!   against the `libc` crate and the running kernel.
//!
//! Values are those of x86_64 where the architectures differ, except where
//! a module says otherwise (`stat`, `syscalls`, [`EpollEvent`]).
//!
//! # Examples
//!
//! ```
//! use abi_linux::{Errno, OpenFlags, Statx, StatxMask};
//! use zerocopy::IntoBytes;
//!
//! let flags = OpenFlags::from_bits_truncate(0o2101); // O_CLOEXEC | O_CREAT | O_WRONLY
//! assert!(flags.contains(OpenFlags::CREAT));
//! let st = Statx { stx_mask: StatxMask::BASIC_STATS.bits(), ..Statx::default() };
//! assert_eq!(st.as_bytes().len(), 256);
//! assert_eq!(Errno::ENOENT.to_syscall_return(), -2);
//! ```

extern crate alloc;

pub mod auxv;
pub mod capability;
pub mod dev;
pub mod dirent;
pub mod epoll;
pub mod errno;
pub mod eventfd;
pub mod fcntl;
pub mod futex;
pub mod inet;
pub mod inotify;
pub mod io;
pub mod ipc;
pub mod mm;
pub mod mode;
pub mod mount;
pub mod netlink;
pub mod open;
pub mod poll;
pub mod process;
pub mod rlimit;
pub mod seccomp;
pub mod signal;
pub mod socket;
pub mod stat;
pub mod syscalls;
pub mod system;
pub mod time;
pub mod tty;

pub use capability::{CapUserData, CapUserHeader, Capability, CapabilitySet};
pub use dev::{dev_major, dev_minor, make_dev};
pub use dirent::{DIRENT64_NAME_OFFSET, Dirent64Header, dirent64_reclen, write_dirent64};
pub use epoll::{EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EpollEvent, EpollEvents};
pub use errno::{Errno, Result};
pub use eventfd::EfdFlags;
pub use fcntl::{FcntlCmd, Flock, FlockOp, LockType, MfdFlags, SealFlags};
pub use inotify::InotifyMask;
pub use io::{FallocFlags, Iovec, RwfFlags, SpliceFlags, Whence};
pub use mm::{MadviseAdvice, MmapFlags, MmapProt, MremapFlags, MsyncFlags};
pub use mode::*;
pub use mount::{MountFlags, UmountFlags};
pub use open::{
    AT_FDCWD, AccessMode, AtFlags, OpenFlags, OpenHow, PATH_MAX, RenameFlags, ResolveFlags,
    XattrFlags,
};
pub use poll::{PollEvents, Pollfd};
pub use process::{CloneArgs, CloneFlags, Rusage, WaitOptions};
pub use rlimit::{RLIM_INFINITY, Rlimit, RlimitResource};
pub use signal::{
    FpxSwBytes, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SaFlags, SigAction, SigContext, SigInfo,
    Signal, SignalSet, SignalStack, SignalfdSiginfo, UContext,
};
pub use socket::{CmsgHdr, Linger, MMsgHdr, MsgFlags, MsgHdr, Ucred};
pub use stat::{Stat, Statfs, Statx, StatxAttributes, StatxMask, StatxTimestamp};
pub use system::{Sysinfo, Utsname};
pub use time::{ClockId, Itimerspec, Timespec, Timeval, Timezone};
pub use tty::{Termios, Winsize};
