//! Signal actions and the delivery of caught signals (gVisor's
//! `signal_handlers.go` and `task_signals.go`, the handler-entry part).
//!
//! A thread takes its pending signals (thread-directed first, then the
//! group's) when it next returns to application code. A caught signal
//! gets a frame (return address `sa_restorer`, a `ucontext` with the old
//! mask, a `siginfo` with the signal number) below the red zone of the
//! current stack; the registers and mask are saved in the sentry for
//! `rt_sigreturn`. A signal whose action is the default one ends the
//! thread group when that action terminates; stop signals and
//! default-ignored ones have no effect; `SA_ONSTACK` runs the handler on
//! the alternate stack (`sigaltstack`) unless the thread is on it already. The frame's `siginfo` carries the
//! signal number, `si_code` and `si_pid`; its `ucontext` the general
//! registers (what unwinders read) and the old mask, which `rt_sigreturn`
//! restores from the frame as Linux does (the FPU state is not in the
//! frame yet: the sentry restores its own copy).
//!
//! # Lock order
//!
//! `SignalHandlers::actions` is a leaf.

use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{SaFlags, SigAction};

use super::{ExitStatus, Task};

/// The number of signals.
pub const NSIG: usize = 64;

/// `SIGCHLD`.
pub(crate) const SIGCHLD: i32 = abi_linux::Signal::SIGCHLD.0;

/// `SIG_IGN` as `rt_sigaction` records it.
pub(crate) const SIG_IGN: u64 = abi_linux::signal::SIG_IGN;

/// The bytes below the stack pointer a signal frame leaves alone.
const RED_ZONE: u64 = 128;
/// `sizeof(struct ucontext)` on x86_64.
const UCONTEXT_SIZE: u64 = 936;
/// The offset of `uc_mcontext` in `struct ucontext`.
const UC_MCONTEXT_OFFSET: u64 = 40;
/// The offset of `uc_sigmask` in `struct ucontext`.
const UC_SIGMASK_OFFSET: u64 = 296;
/// The return address, the `ucontext` and a 128-byte `siginfo`.
const SIGNAL_FRAME_SIZE: u64 = 8 + UCONTEXT_SIZE + 128;
/// How many handler frames are remembered at most.
const MAX_SIGNAL_FRAMES: usize = 64;

/// Whether `signal`, arriving with `handler` as its action, ends the
/// thread group: `SIGKILL` always; otherwise a signal left at its default
/// action when that action terminates.
pub(crate) fn terminates(signal: i32, handler: u64) -> bool {
    signal == libc::SIGKILL || (handler == abi_linux::signal::SIG_DFL && !default_ignored(signal))
}

/// Whether `signal`'s default action is to do nothing (`SIGCHLD`,
/// `SIGCONT`, `SIGURG`, `SIGWINCH`) or to stop, which is not modelled
/// (`SIGSTOP`, `SIGTSTP`, `SIGTTIN`, `SIGTTOU`).
fn default_ignored(signal: i32) -> bool {
    matches!(signal, 17..=23 | 28)
}

/// The signal-action table (`struct sighand_struct`), shared by
/// `CLONE_SIGHAND`.
#[derive(Debug)]
pub struct SignalHandlers {
    /// Actions indexed by signal number minus one.
    pub actions: Mutex<[SigAction; NSIG]>,
}

impl SignalHandlers {
    /// The table, locked.
    pub(crate) fn actions(&self) -> MutexGuard<'_, [SigAction; NSIG]> {
        self.actions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The action of `signal`.
    ///
    /// # Preconditions
    ///
    /// `1 <= signal <= 64`.
    pub fn action(&self, signal: i32) -> SigAction {
        self.actions()[signal as usize - 1]
    }

    /// A copy of the table for a new process (`fork`).
    pub fn copy(&self) -> Arc<Self> {
        Arc::new(Self {
            actions: Mutex::new(*self.actions()),
        })
    }

    /// Resets caught signals to their default action, keeping ignored
    /// ones ignored (`execve`, `CLONE_CLEAR_SIGHAND`).
    pub fn reset_for_exec(&self) {
        for action in self.actions().iter_mut() {
            let handler = if action.handler == SIG_IGN {
                SIG_IGN
            } else {
                0
            };
            *action = SigAction {
                handler,
                ..SigAction::default()
            };
        }
    }
}

impl Default for SignalHandlers {
    fn default() -> Self {
        Self {
            actions: Mutex::new([SigAction::default(); NSIG]),
        }
    }
}

/// The `eflags` bits a signal frame may change (Linux's `FIX_EFLAGS`):
/// AC, OF, DF, TF, SF, ZF, AF, PF, CF and RF.
const FIX_EFLAGS: u64 =
    0x0004_0000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x1_0000;

impl Task {
    /// Raises the synchronous signal `signal` of a fault or trap at the
    /// thread (Linux's `force_sig_fault`): its handler runs when the thread
    /// next returns to application code; when the signal is blocked or
    /// ignored, or has its default action, it ends the group instead
    /// (Linux unblocks it and resets it to the default action, which
    /// terminates). Returns the status when it ends the group.
    pub(super) fn force_signal(
        &mut self,
        signal: i32,
        info: abi_linux::SigInfo,
    ) -> Option<ExitStatus> {
        let action = self.signal_handlers.action(signal);
        let blocked = self.signal_mask() & (1 << (signal - 1)) != 0;
        if action.handler <= SIG_IGN || blocked {
            return Some(ExitStatus::Signaled(signal));
        }
        // A standard signal is never refused.
        let _ = self.kill.post(signal, info, u64::MAX);
        None
    }

    /// Whether `sp` lies on the thread's alternate signal stack.
    pub fn on_alt_stack(&self, sp: u64) -> bool {
        let (ss_sp, ss_flags, ss_size) = self.alt_stack;
        ss_flags & abi_linux::signal::SS_DISABLE == 0
            && ss_size > 0
            && sp > ss_sp
            && sp - ss_sp <= ss_size
    }

    /// `rt_sigreturn` (Linux's `restore_sigcontext`): reloads the general
    /// registers and the signal mask from the `ucontext` of the frame the
    /// handler returns through (at the stack pointer: `sa_restorer`'s
    /// return popped the frame's first word), so a handler that changed
    /// them (Go's asynchronous preemption rewrites the interrupted
    /// instruction pointer) resumes where it said. The segment selectors,
    /// the thread pointer and the FPU state stay the sentry's; `eflags`
    /// changes only in the bits Linux lets a frame change. A frame that
    /// cannot be read ends the group with `SIGSEGV`.
    pub fn sigreturn(&mut self) -> Result<u64, abi_linux::Errno> {
        let uc = self.regs.stack_pointer();
        let mut raw = vec![0u8; UCONTEXT_SIZE as usize];
        let saved = self.signal_frames.pop();
        if self.mm.copy_in_exact(uc, &mut raw).is_err() {
            self.exit = Some(super::TaskExit::Group(ExitStatus::Signaled(libc::SIGSEGV)));
            return Err(abi_linux::Errno::EFAULT);
        }
        let word = |off: usize| u64::from_le_bytes(raw[off..off + 8].try_into().unwrap_or([0; 8]));
        let greg = |i: usize| word(UC_MCONTEXT_OFFSET as usize + i * 8);
        if let Some((regs, _)) = saved {
            // The FPU state is not in the frame yet: the saved copy.
            self.regs = regs;
        }
        let g = &mut self.regs.general;
        g.r8 = greg(0);
        g.r9 = greg(1);
        g.r10 = greg(2);
        g.r11 = greg(3);
        g.r12 = greg(4);
        g.r13 = greg(5);
        g.r14 = greg(6);
        g.r15 = greg(7);
        g.rdi = greg(8);
        g.rsi = greg(9);
        g.rbp = greg(10);
        g.rbx = greg(11);
        g.rdx = greg(12);
        g.rax = greg(13);
        g.rcx = greg(14);
        g.rsp = greg(15);
        g.rip = greg(16);
        g.eflags = (g.eflags & !FIX_EFLAGS) | (greg(17) & FIX_EFLAGS);
        let rax = g.rax;
        self.set_signal_mask(word(UC_SIGMASK_OFFSET as usize));
        Ok(rax)
    }

    /// Runs the handler of the lowest pending signal the mask lets through
    /// (gVisor's `Task.deliverSignal` for a caught signal): pushes a frame
    /// below the red zone of the current stack, saves the registers and
    /// mask for `rt_sigreturn` and enters the handler. A signal whose
    /// action became the default one since it was posted takes that
    /// action; returns the status when that ends the thread group.
    pub(super) fn deliver_signal(&mut self) -> Option<ExitStatus> {
        let siginfo = self.kill.take_pending(self.signal_mask())?;
        let signal = siginfo.signo;
        let index = signal as usize - 1;
        let action = self.signal_handlers.action(signal);
        if action.handler <= SIG_IGN {
            return terminates(signal, action.handler).then_some(ExitStatus::Signaled(signal));
        }
        let flags = SaFlags::from_bits_retain(action.flags);
        if !flags.contains(SaFlags::RESTORER) {
            // Without a restorer the handler would return to nowhere.
            return Some(ExitStatus::Signaled(libc::SIGSEGV));
        }
        let old_mask = self.saved_mask.take().unwrap_or(self.signal_mask());
        let sp = self.regs.stack_pointer();
        let (ss_sp, ss_flags, ss_size) = self.alt_stack;
        let alt_enabled = ss_flags & abi_linux::signal::SS_DISABLE == 0 && ss_size > 0;
        let on_alt = self.on_alt_stack(sp);
        // SA_ONSTACK moves to the top of the alternate stack unless the
        // thread already runs on it.
        let below = if flags.contains(SaFlags::ONSTACK) && alt_enabled && !on_alt {
            ss_sp.wrapping_add(ss_size)
        } else {
            sp.wrapping_sub(RED_ZONE)
        };
        // At a function's entry the stack is 8 bytes off 16-byte alignment.
        let frame = (below.wrapping_sub(SIGNAL_FRAME_SIZE) & !15).wrapping_sub(8);
        let uc = frame + 8;
        let info = uc + UCONTEXT_SIZE;
        let mut bytes = vec![0u8; SIGNAL_FRAME_SIZE as usize];
        bytes[..8].copy_from_slice(&action.restorer.to_le_bytes());
        // uc_stack: the alternate stack as sigaltstack reports it.
        let shown_flags = if !alt_enabled {
            abi_linux::signal::SS_DISABLE
        } else if on_alt {
            abi_linux::signal::SS_ONSTACK
        } else {
            0
        };
        bytes[8 + 16..8 + 24].copy_from_slice(&ss_sp.to_le_bytes());
        bytes[8 + 24..8 + 28].copy_from_slice(&shown_flags.to_le_bytes());
        bytes[8 + 32..8 + 40].copy_from_slice(&ss_size.to_le_bytes());
        let mask_at = 8 + UC_SIGMASK_OFFSET as usize;
        bytes[mask_at..mask_at + 8].copy_from_slice(&old_mask.to_le_bytes());
        let g = &self.regs.general;
        // uc_mcontext.gregs in <sys/ucontext.h> order (REG_R8 ...
        // REG_CR2), which unwinders read to step out of the handler.
        let gregs = [
            g.r8,
            g.r9,
            g.r10,
            g.r11,
            g.r12,
            g.r13,
            g.r14,
            g.r15,
            g.rdi,
            g.rsi,
            g.rbp,
            g.rbx,
            g.rdx,
            g.rax,
            g.rcx,
            g.rsp,
            g.rip,
            g.eflags,
            g.cs | (g.gs << 16) | (g.fs << 32),
            0,
            0,
            old_mask,
            0,
        ];
        for (i, v) in gregs.iter().enumerate() {
            let at = 8 + UC_MCONTEXT_OFFSET as usize + i * 8;
            bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
        let info_at = (info - frame) as usize;
        let raw = zerocopy::IntoBytes::as_bytes(&siginfo);
        bytes[info_at..info_at + raw.len()].copy_from_slice(raw);
        if self.mm.copy_out_exact(frame, &bytes).is_err() {
            return Some(ExitStatus::Signaled(libc::SIGSEGV));
        }
        if self.signal_frames.len() >= MAX_SIGNAL_FRAMES {
            // A handler that left by `longjmp` never returns through its
            // frame; forget the oldest.
            self.signal_frames.remove(0);
        }
        self.signal_frames.push((self.regs.clone(), old_mask));
        let g = &mut self.regs.general;
        g.rip = action.handler;
        g.rsp = frame;
        g.rdi = signal as u64;
        g.rsi = info;
        g.rdx = uc;
        g.rax = 0;
        let mut mask = old_mask | action.mask.0;
        if !flags.contains(SaFlags::NODEFER) {
            mask |= 1 << index;
        }
        self.set_signal_mask(mask);
        if flags.contains(SaFlags::RESETHAND) {
            self.signal_handlers.actions()[index] = SigAction::default();
        }
        None
    }
}
