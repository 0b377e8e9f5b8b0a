//! The register state of an application thread.

use crate::arch;

pub use crate::arch::GeneralRegisters;

/// The state [`Context::switch`](crate::Context::switch) loads before
/// running application code and saves when it stops: the general registers
/// (with the `fs`/`gs` bases) and the floating-point/vector state as an
/// XSAVE image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registers {
    /// The general registers, as `struct user_regs_struct`.
    pub general: GeneralRegisters,
    /// The XSAVE image (standard, non-compacted format): the 512-byte
    /// FXSAVE area, the XSAVE header and the extended components.
    fp: Vec<u8>,
}

impl Default for Registers {
    fn default() -> Self {
        Self::new()
    }
}

impl Registers {
    /// Returns the registers of a new thread: general registers zero
    /// except the segment selectors and flags, floating point in its reset
    /// state.
    pub fn new() -> Self {
        Self {
            general: GeneralRegisters::new_user(),
            fp: arch::initial_fp_state(),
        }
    }

    /// Returns the XSAVE image.
    pub fn fp(&self) -> &[u8] {
        &self.fp
    }

    /// Returns the XSAVE image for modification.
    pub fn fp_mut(&mut self) -> &mut [u8] {
        &mut self.fp
    }

    /// Returns the image buffer for a backend to fill, resized to `len`.
    pub(crate) fn fp_buffer(&mut self, len: usize) -> &mut Vec<u8> {
        self.fp.resize(len, 0);
        &mut self.fp
    }

    /// Returns the system-call number at a system-call trap.
    pub fn syscall_number(&self) -> u64 {
        self.general.orig_rax
    }

    /// Returns the six system-call arguments at a system-call trap.
    pub fn syscall_args(&self) -> [u64; 6] {
        let g = &self.general;
        [g.rdi, g.rsi, g.rdx, g.r10, g.r8, g.r9]
    }

    /// Sets the value the trapped system call returns (a negated errno for
    /// an error).
    pub fn set_syscall_return(&mut self, value: i64) {
        self.general.rax = value as u64;
    }

    /// Returns the instruction pointer.
    pub fn instruction_pointer(&self) -> u64 {
        self.general.rip
    }

    /// Sets the instruction pointer.
    pub fn set_instruction_pointer(&mut self, ip: u64) {
        self.general.rip = ip;
    }

    /// Returns the stack pointer.
    pub fn stack_pointer(&self) -> u64 {
        self.general.rsp
    }

    /// Sets the stack pointer.
    pub fn set_stack_pointer(&mut self, sp: u64) {
        self.general.rsp = sp;
    }

    /// Returns the thread pointer (`fs` base on x86_64).
    pub fn thread_pointer(&self) -> u64 {
        self.general.fs_base
    }

    /// Sets the thread pointer (`fs` base on x86_64).
    pub fn set_thread_pointer(&mut self, tp: u64) {
        self.general.fs_base = tp;
    }
}
