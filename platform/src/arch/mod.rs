//! Architecture-specific code. Only x86_64 exists so far; an aarch64 module
//! provides the same items.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::GeneralRegisters;
#[cfg(target_arch = "x86_64")]
pub(crate) use self::x86_64::*;
