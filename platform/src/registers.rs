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

    /// Returns the floating-point state as a signal frame holds it (Linux's
    /// `copy_fpstate_to_sigframe`): the XSAVE image with the software
    /// bytes of its legacy area describing it, then `FP_XSTATE_MAGIC2`.
    /// The frame places it 64-byte aligned.
    pub fn signal_fp_frame(&self) -> Vec<u8> {
        use abi_linux::signal::{FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, FPX_SW_BYTES_OFFSET};
        let mut frame = self.fp.clone();
        let size = frame.len() as u32;
        let sw = abi_linux::FpxSwBytes {
            magic1: FP_XSTATE_MAGIC1,
            extended_size: size + 4,
            xfeatures: arch::xfeatures(),
            xstate_size: size,
            padding: [0; 7],
        };
        let sw = zerocopy::IntoBytes::as_bytes(&sw);
        if let Some(area) = frame.get_mut(FPX_SW_BYTES_OFFSET..FPX_SW_BYTES_OFFSET + sw.len()) {
            area.copy_from_slice(sw);
        }
        frame.extend_from_slice(&FP_XSTATE_MAGIC2.to_le_bytes());
        frame
    }

    /// Returns how many bytes of a signal frame's floating-point state to
    /// read, given its legacy area (its first 512 bytes): the XSAVE image
    /// and magic word its software bytes announce, when they announce one
    /// no larger than this thread's image; else the legacy area alone.
    pub fn signal_fp_len(&self, legacy: &[u8]) -> usize {
        match self.frame_xstate_size(legacy) {
            Some(size) => size + 4,
            None => arch::FXSAVE_SIZE,
        }
    }

    /// The XSAVE image size a frame's legacy area announces, if valid.
    fn frame_xstate_size(&self, legacy: &[u8]) -> Option<usize> {
        use abi_linux::signal::{FP_XSTATE_MAGIC1, FPX_SW_BYTES_OFFSET};
        let sw: abi_linux::FpxSwBytes = legacy
            .get(FPX_SW_BYTES_OFFSET..)
            .and_then(|b| zerocopy::FromBytes::read_from_prefix(b).ok())
            .map(|(sw, _)| sw)?;
        let size = sw.xstate_size as usize;
        (sw.magic1 == FP_XSTATE_MAGIC1
            && size >= arch::FXSAVE_SIZE + 64
            && size <= self.fp.len()
            && sw.extended_size as usize == size + 4)
            .then_some(size)
    }

    /// Restores the floating-point state from a signal frame's bytes (as
    /// many as [`Registers::signal_fp_len`] said; Linux's
    /// `restore_fpregs_from_user`). An XSAVE image whose magic words check
    /// out replaces the state; otherwise the x87 and SSE state comes from
    /// the legacy area and the other components are reset; no bytes at
    /// all reset everything.
    ///
    /// Errors: `EFAULT`, with the state unchanged, if the host could not
    /// load the result (reserved MXCSR bits, features the host has not
    /// enabled, a compacted or dirty header): Linux kills such a thread
    /// with `SIGSEGV`.
    pub fn restore_signal_fp(&mut self, frame: &[u8]) -> Result<(), abi_linux::Errno> {
        use abi_linux::signal::FP_XSTATE_MAGIC2;
        if frame.is_empty() {
            self.fp = arch::initial_fp_state();
            return Ok(());
        }
        let xsave = self
            .frame_xstate_size(frame)
            .filter(|&size| frame.get(size..size + 4) == Some(&FP_XSTATE_MAGIC2.to_le_bytes()[..]));
        let image = match xsave {
            Some(size) => {
                let mut image = frame[..size].to_vec();
                image.resize(self.fp.len(), 0);
                image
            }
            None => arch::fp_from_legacy(&self.fp, frame),
        };
        if !arch::fp_image_is_valid(&image) {
            return Err(abi_linux::Errno::EFAULT);
        }
        self.fp = image;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_frame_fp_state_round_trips() {
        let mut regs = Registers::new();
        // Something in xmm0 (offset 160 of the legacy area).
        regs.fp_mut()[160..176].copy_from_slice(&[0x5a; 16]);
        let frame = regs.signal_fp_frame();
        assert_eq!(frame.len(), regs.fp().len() + 4);
        assert_eq!(regs.signal_fp_len(&frame[..arch::FXSAVE_SIZE]), frame.len());
        let mut back = Registers::new();
        back.restore_signal_fp(&frame).unwrap();
        assert_eq!(back.fp()[160..176], [0x5a; 16]);
        assert_eq!(back.fp()[..464], regs.fp()[..464]);
    }

    #[test]
    fn fp_state_the_host_would_refuse_is_refused() {
        let regs = Registers::new();
        let good = regs.signal_fp_frame();
        let forge = |at: usize, bytes: &[u8]| {
            let mut frame = good.clone();
            frame[at..at + bytes.len()].copy_from_slice(bytes);
            let mut back = Registers::new();
            back.fp_mut()[160] = 0x99;
            let before = back.fp().to_vec();
            let result = back.restore_signal_fp(&frame);
            assert_eq!(back.fp(), &before[..], "a refused frame changes nothing");
            result
        };
        // Every MXCSR bit, reserved ones too.
        assert_eq!(
            forge(24, &u32::MAX.to_le_bytes()),
            Err(abi_linux::Errno::EFAULT)
        );
        // A feature the host did not enable.
        let bad = !arch::xfeatures() & (1 << 62);
        assert_eq!(
            forge(512, &bad.to_le_bytes()),
            Err(abi_linux::Errno::EFAULT)
        );
        // A compacted image.
        assert_eq!(
            forge(520, &(1u64 << 63 | 3).to_le_bytes()),
            Err(abi_linux::Errno::EFAULT)
        );
        // The legacy-only path checks MXCSR too.
        let mut legacy = good[..arch::FXSAVE_SIZE].to_vec();
        legacy[464..468].fill(0);
        legacy[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            Registers::new().restore_signal_fp(&legacy),
            Err(abi_linux::Errno::EFAULT)
        );
    }

    #[test]
    fn frame_without_xsave_image_restores_legacy_state_only() {
        let regs = Registers::new();
        let mut frame = regs.signal_fp_frame();
        frame[160..176].copy_from_slice(&[0x11; 16]);
        // A wrong second magic word: only the legacy area counts.
        let end = frame.len();
        frame[end - 4..].fill(0);
        let mut back = Registers::new();
        back.fp_mut()[600..608].fill(0x77);
        back.restore_signal_fp(&frame).unwrap();
        assert_eq!(back.fp()[160..176], [0x11; 16]);
        assert_eq!(back.fp().len(), regs.fp().len());
        let bv = u64::from_le_bytes(back.fp()[512..520].try_into().unwrap());
        assert_eq!(bv, 0b11, "x87 and SSE from the frame, the rest reset");
        assert!(back.fp()[576..].iter().all(|&b| b == 0));
        // A legacy area with no software bytes reads as 512 bytes.
        assert_eq!(back.signal_fp_len(&[0u8; 512]), 512);
    }
}
