//! Thin wrappers over the host system calls the platform makes, turning
//! their failures into [`Errno`] values.

use abi_linux::Errno;

/// Returns the calling thread's `errno` as an [`Errno`], or `EIO` if the
/// host reported a number this crate does not know.
pub(crate) fn last_errno() -> Errno {
    std::io::Error::last_os_error()
        .raw_os_error()
        .and_then(Errno::from_raw)
        .unwrap_or(Errno::EIO)
}

/// Converts a `-1 and errno` return into a `Result`.
pub(crate) fn check(ret: libc::c_long) -> abi_linux::Result<libc::c_long> {
    if ret == -1 {
        Err(last_errno())
    } else {
        Ok(ret)
    }
}

/// Converts a `-1 and errno` return of a function returning `int`.
pub(crate) fn check_int(ret: libc::c_int) -> abi_linux::Result<libc::c_int> {
    if ret == -1 {
        Err(last_errno())
    } else {
        Ok(ret)
    }
}

/// Converts an I/O error into an [`Errno`].
pub(crate) fn from_io(e: &std::io::Error) -> Errno {
    e.raw_os_error()
        .and_then(Errno::from_raw)
        .unwrap_or(Errno::EIO)
}

/// The host's page size, which the platform requires to be 4096 bytes.
pub(crate) const PAGE_SIZE: u64 = 4096;
