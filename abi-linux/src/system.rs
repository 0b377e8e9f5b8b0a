//! System information: [`Utsname`] of `uname(2)` and [`Sysinfo`] of
//! `sysinfo(2)`.

use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// The length of each [`Utsname`] field, including the NUL.
pub const UTSNAME_LENGTH: usize = 65;

/// `struct new_utsname` of `uname(2)`: six NUL-terminated strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Utsname {
    /// The kernel name ("Linux").
    pub sysname: [u8; UTSNAME_LENGTH],
    /// The host name.
    pub nodename: [u8; UTSNAME_LENGTH],
    /// The kernel release.
    pub release: [u8; UTSNAME_LENGTH],
    /// The kernel version.
    pub version: [u8; UTSNAME_LENGTH],
    /// The hardware name ("x86_64").
    pub machine: [u8; UTSNAME_LENGTH],
    /// The NIS domain name.
    pub domainname: [u8; UTSNAME_LENGTH],
}

impl Default for Utsname {
    fn default() -> Utsname {
        Utsname::new_zeroed()
    }
}

/// `struct sysinfo` of the 64-bit ABIs (112 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Sysinfo {
    /// Seconds since boot.
    pub uptime: i64,
    /// Load averages over 1, 5 and 15 minutes, scaled by 65536.
    pub loads: [u64; 3],
    /// Total usable memory, in `mem_unit`s.
    pub totalram: u64,
    /// Free memory.
    pub freeram: u64,
    /// Shared memory.
    pub sharedram: u64,
    /// Memory used by buffers.
    pub bufferram: u64,
    /// Total swap.
    pub totalswap: u64,
    /// Free swap.
    pub freeswap: u64,
    /// The number of processes.
    pub procs: u16,
    /// Padding, zero.
    pub pad: u16,
    /// Padding, zero.
    pub _pad: u32,
    /// Total high memory.
    pub totalhigh: u64,
    /// Free high memory.
    pub freehigh: u64,
    /// The unit of the memory fields, in bytes.
    pub mem_unit: u32,
    /// Padding, zero.
    pub _f: u32,
}
