//! Conversions from host and protocol errors to [`Errno`].

use abi_linux::Errno;
use std::io;

/// Converts a host error number to an [`Errno`]; a number this crate's
/// `abi-linux` does not know becomes `EIO`.
pub fn from_raw(raw: i32) -> Errno {
    Errno::from_raw(raw).unwrap_or(Errno::EIO)
}

/// Converts a `nix` error.
pub fn from_nix(e: nix::errno::Errno) -> Errno {
    from_raw(e as i32)
}

/// Converts an I/O error; errors without an OS number become `EIO`.
pub fn from_io(e: &io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, from_raw)
}

/// Converts the `ecode` of an Rlerror.
pub fn from_ecode(ecode: u32) -> Errno {
    i32::try_from(ecode).map_or(Errno::EIO, from_raw)
}
