//! Runs application code and stops it at its system calls and faults: the
//! platform layer of the sentry (gVisor's `pkg/sentry/platform`), with the
//! memory allocator application memory comes from (`pgalloc.MemoryFile`).
//!
//! - [`MemoryFile`]: a memfd-backed page allocator with per-page reference
//!   counts; the sentry reads and writes its pages through its own mapping.
//! - [`Platform`]: creates [`AddressSpace`]s (into which the sentry maps
//!   ranges of the memory file) and [`Context`]s (which run application
//!   threads: [`Context::switch`] returns a [`Trap`]).
//! - Backends: [`PtracePlatform`] (`PTRACE_SYSEMU`) and
//!   [`SystrapPlatform`] (seccomp `SECCOMP_RET_TRAP` with a signal handler
//!   in the stub and a shared-memory hand-off); [`detect`] picks one.
//!
//! Application code runs in *stub processes*: clones of the sentry whose
//! address space is emptied down to one page of stub code, with a seccomp
//! filter that allows only the calls the stub code itself needs, made from
//! the stub code; every application system call is trapped and handed to
//! the sentry.
//!
//! # Reference model
//!
//! A platform holds the memory file (`Arc`). An address space holds the
//! memory file and owns a service thread, which owns the stub processes of
//! the address space. A context holds weak references to the address spaces
//! it ran in. Mappings do not hold memory-file references: the sentry keeps
//! a reference on every range it maps until it unmaps it.
//!
//! # Lock order
//!
//! Address-space locks (mapping table, then stub list, then slot table)
//! before the memory file's allocator lock; see `address_space.rs`.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use platform::{Access, MemoryFile, Registers, Trap, UsageKind};
//!
//! let mf = Arc::new(MemoryFile::new()?);
//! let Ok(platform) = platform::detect(mf.clone()) else {
//!     return Ok(()); // The host allows neither ptrace nor seccomp.
//! };
//! let mm = platform.new_address_space()?;
//! let code = mf.allocate(4096, UsageKind::Anonymous)?;
//! // `mov eax, 110 (getppid); syscall; jmp .`
//! mf.map_internal(code)?.write(0, &[0xb8, 110, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe])?;
//! mm.map_file(0x40_0000, &mf, code, Access::READ_EXECUTE, false)?;
//! let mut ctx = platform.new_context()?;
//! let mut regs = Registers::new();
//! regs.set_instruction_pointer(0x40_0000);
//! assert_eq!(ctx.switch(&*mm, &mut regs)?, Trap::Syscall);
//! assert_eq!(regs.syscall_number(), 110);
//! # Ok::<(), abi_linux::Errno>(())
//! ```

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!("the platform crate supports x86_64 Linux only so far");

mod address_space;
mod arch;
mod detect;
mod memory_file;
mod platform;
mod ptrace;
mod registers;
mod stub;
mod sys;
mod systrap;
mod vfs_memory;

/// Compiles the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use detect::detect;
pub use memory_file::{CHUNK_SIZE, FileRange, InternalMapping, MemoryFile, MemoryUsage, UsageKind};
pub use platform::{Access, AddressSpace, Context, Interrupter, Platform, SignalInfo, Trap};
pub use ptrace::PtracePlatform;
pub use registers::{GeneralRegisters, Registers};
pub use systrap::SystrapPlatform;
