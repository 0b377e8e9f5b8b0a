//! [`HostFd`]: one donated host file descriptor, closed exactly once when
//! its last holder goes, and the host system calls made on it.
//!
//! # Reference model
//!
//! A `HostFd` lives in an `Arc`, held by its inode and by the memory-map
//! file of that inode (translations handed to address spaces keep the
//! descriptor open while pages may still be mapped). Dropping the last
//! `Arc` closes the descriptor; the object registers with the `refs` leak
//! checker for its whole life, so a test that forgets a description sees
//! the open host descriptor in its leak report.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::{Arc, Weak};

use abi_linux::{Errno, Statx, StatxMask, StatxTimestamp};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use vfs_core::io::{IoDest, IoSource};
use vfs_core::waiter::EventMask;

/// Converts an error of a host system call to the errno the sandbox sees.
pub(crate) fn host_errno(e: nix::errno::Errno) -> Errno {
    Errno::from_raw(e as i32).unwrap_or(Errno::EIO)
}

/// An owned host file descriptor.
pub struct HostFd {
    fd: OwnedFd,
    _registration: refs::Registration,
}

impl HostFd {
    /// Takes ownership of `fd`.
    pub fn new(fd: OwnedFd) -> Arc<HostFd> {
        Arc::new_cyclic(|weak: &Weak<HostFd>| HostFd {
            fd,
            _registration: refs::Registration::new_cyclic(weak, "hostfs::HostFd"),
        })
    }

    /// The descriptor number in this process.
    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Borrows the descriptor.
    pub fn borrow(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Reads into `dst` with `read(2)` (`offset` `None`) or `pread(2)`,
    /// block by block; a short host read ends the transfer. Returns the
    /// bytes read; an error only if nothing was read.
    pub(crate) fn read_into(
        &self,
        dst: &mut dyn IoDest,
        offset: Option<u64>,
    ) -> Result<usize, Errno> {
        let mut pos = offset;
        dst.copy_from_reader(&mut |block| {
            let n = match pos {
                Some(off) => {
                    let off = i64::try_from(off).map_err(|_| Errno::EINVAL)?;
                    nix::sys::uio::pread(self.borrow(), block, off)
                }
                None => nix::unistd::read(self.borrow(), block),
            }
            .map_err(host_errno)?;
            if let Some(p) = pos.as_mut() {
                *p = p.saturating_add(n as u64);
            }
            Ok(n)
        })
    }

    /// Writes from `src` with `write(2)` (`offset` `None`) or `pwrite(2)`,
    /// block by block; a short host write ends the transfer. Returns the
    /// bytes written; an error only if nothing was written.
    pub(crate) fn write_from(
        &self,
        src: &mut dyn IoSource,
        offset: Option<u64>,
    ) -> Result<usize, Errno> {
        let mut pos = offset;
        src.copy_to_writer(&mut |block| {
            let n = match pos {
                Some(off) => {
                    let off = i64::try_from(off).map_err(|_| Errno::EINVAL)?;
                    nix::sys::uio::pwrite(self.borrow(), block, off)
                }
                None => nix::unistd::write(self.borrow(), block),
            }
            .map_err(host_errno)?;
            if let Some(p) = pos.as_mut() {
                *p = p.saturating_add(n as u64);
            }
            Ok(n)
        })
    }

    /// `fstat(2)`.
    pub(crate) fn fstat(&self) -> Result<libc::stat, Errno> {
        nix::sys::stat::fstat(self.borrow()).map_err(host_errno)
    }

    /// `statx(2)` of the descriptor itself (`AT_EMPTY_PATH`) for `mask`
    /// with the `AT_STATX_*` synchronisation `sync`; `ENOSYS` on hosts
    /// without `statx`.
    pub(crate) fn statx(&self, mask: StatxMask, sync: u32) -> Result<Statx, Errno> {
        // SAFETY: an all-zero `libc::statx` is a valid value of a plain C
        // structure of integers.
        let mut raw: libc::statx = unsafe { std::mem::zeroed() };
        let flags = libc::AT_EMPTY_PATH | sync as libc::c_int;
        // SAFETY: the path is a valid NUL-terminated empty string, `raw` is
        // a writable `struct statx` that outlives the call, and the
        // descriptor is owned by `self`, so it is open.
        let rc = unsafe { libc::statx(self.raw(), c"".as_ptr(), flags, mask.bits(), &raw mut raw) };
        if rc != 0 {
            return Err(host_errno(nix::errno::Errno::last()));
        }
        let ts = |t: libc::statx_timestamp| StatxTimestamp {
            tv_sec: t.tv_sec,
            tv_nsec: t.tv_nsec,
            _reserved: 0,
        };
        Ok(Statx {
            stx_mask: raw.stx_mask,
            stx_blksize: raw.stx_blksize,
            stx_attributes: raw.stx_attributes,
            stx_nlink: raw.stx_nlink,
            stx_uid: raw.stx_uid,
            stx_gid: raw.stx_gid,
            stx_mode: raw.stx_mode,
            stx_size: raw.stx_size,
            stx_blocks: raw.stx_blocks,
            stx_attributes_mask: raw.stx_attributes_mask,
            stx_atime: ts(raw.stx_atime),
            stx_btime: ts(raw.stx_btime),
            stx_ctime: ts(raw.stx_ctime),
            stx_mtime: ts(raw.stx_mtime),
            ..Statx::default()
        })
    }

    /// The events of `mask` that `poll(2)` reports ready now.
    pub(crate) fn poll_now(&self, mask: EventMask) -> EventMask {
        // The poll bits Linux reports are the epoll bits of the same name,
        // all within the low 16 bits.
        let wanted = PollFlags::from_bits_truncate((mask.bits() & 0xffff) as i16);
        let mut fds = [PollFd::new(self.borrow(), wanted)];
        match nix::poll::poll(&mut fds, PollTimeout::ZERO) {
            Ok(n) if n > 0 => {
                let got = fds[0].revents().unwrap_or(PollFlags::empty());
                EventMask::from_bits_truncate(u32::from(got.bits() as u16))
                    & vfs_core::waiter::with_always_reported(mask)
            }
            _ => EventMask::empty(),
        }
    }

    /// `ioctl(2)` with an argument that points to a `T` the host reads or
    /// fills.
    ///
    /// # Safety
    ///
    /// `request` must be an ioctl whose argument is a pointer to a `T`
    /// (read, written or both), so the host accesses nothing beyond it.
    pub(crate) unsafe fn ioctl_ptr<T>(
        &self,
        request: u32,
        arg: &mut T,
    ) -> Result<libc::c_int, Errno> {
        // SAFETY: the descriptor is open; the caller guarantees that the
        // host accesses only the `T` that `arg` points to, which is valid
        // and writable for the duration of the call.
        let rc = unsafe {
            libc::ioctl(
                self.raw(),
                libc::Ioctl::from(request),
                std::ptr::from_mut(arg),
            )
        };
        if rc < 0 {
            Err(host_errno(nix::errno::Errno::last()))
        } else {
            Ok(rc)
        }
    }
}

impl refs::CheckedObject for HostFd {
    fn ref_type(&self) -> &'static str {
        "hostfs::HostFd"
    }

    fn leak_message(&self) -> String {
        format!("[hostfs::HostFd] host fd {} still open", self.raw())
    }
}

impl std::fmt::Debug for HostFd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostFd").field("fd", &self.raw()).finish()
    }
}
