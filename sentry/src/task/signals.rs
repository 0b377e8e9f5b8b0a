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
//! default-ignored ones have no effect; there is no `SA_ONSTACK` (the
//! alternate stack is recorded only) and no `siginfo` beyond the signal
//! number.
//!
//! # Lock order
//!
//! `SignalHandlers::actions` is a leaf.

use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{SaFlags, SigAction, SignalSet};

use super::{ExitStatus, Task};

/// The number of signals.
pub const NSIG: usize = 64;

/// `SIGKILL` and `SIGSTOP`, which no mask blocks.
pub const UNBLOCKABLE: u64 = SignalSet::UNBLOCKABLE.0;

/// `SIGCHLD`.
pub(crate) const SIGCHLD: i32 = 17;

/// `SIG_IGN` as `rt_sigaction` records it.
pub(crate) const SIG_IGN: u64 = abi_linux::signal::SIG_IGN;

/// The bytes below the stack pointer a signal frame leaves alone.
const RED_ZONE: u64 = 128;
/// `sizeof(struct ucontext)` on x86_64.
const UCONTEXT_SIZE: u64 = 936;
/// The offset of `uc_sigmask` in `struct ucontext`.
const UC_SIGMASK_OFFSET: u64 = 296;
/// The return address, the `ucontext` and a 128-byte `siginfo`.
const SIGNAL_FRAME_SIZE: u64 = 8 + UCONTEXT_SIZE + 128;
/// How many handler frames are remembered at most.
const MAX_SIGNAL_FRAMES: usize = 64;

/// Whether `signal`'s default action is to do nothing (`SIGCHLD`,
/// `SIGCONT`, `SIGURG`, `SIGWINCH`) or to stop, which is not modelled
/// (`SIGSTOP`, `SIGTSTP`, `SIGTTIN`, `SIGTTOU`).
pub(crate) fn default_ignored(signal: i32) -> bool {
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

impl Task {
    /// Runs the handler of the lowest pending signal the mask lets through
    /// (gVisor's `Task.deliverSignal` for a caught signal): pushes a frame
    /// below the red zone of the current stack, saves the registers and
    /// mask for `rt_sigreturn` and enters the handler. A signal whose
    /// action became the default one since it was posted takes that
    /// action; returns the status when that ends the thread group.
    pub(super) fn deliver_signal(&mut self) -> Option<ExitStatus> {
        let signal = self.kill.take_pending(self.signal_mask())?;
        let index = signal as usize - 1;
        let action = self.signal_handlers.action(signal);
        if action.handler <= SIG_IGN {
            return (action.handler == 0 && !default_ignored(signal))
                .then_some(ExitStatus::Signaled(signal));
        }
        let flags = SaFlags::from_bits_retain(action.flags);
        if !flags.contains(SaFlags::RESTORER) {
            // Without a restorer the handler would return to nowhere.
            return Some(ExitStatus::Signaled(libc::SIGSEGV));
        }
        let old_mask = self.saved_mask.take().unwrap_or(self.signal_mask());
        let below = self.regs.stack_pointer().wrapping_sub(RED_ZONE);
        // At a function's entry the stack is 8 bytes off 16-byte alignment.
        let frame = (below.wrapping_sub(SIGNAL_FRAME_SIZE) & !15).wrapping_sub(8);
        let uc = frame + 8;
        let info = uc + UCONTEXT_SIZE;
        let mut bytes = vec![0u8; SIGNAL_FRAME_SIZE as usize];
        bytes[..8].copy_from_slice(&action.restorer.to_le_bytes());
        let mask_at = 8 + UC_SIGMASK_OFFSET as usize;
        bytes[mask_at..mask_at + 8].copy_from_slice(&old_mask.to_le_bytes());
        let info_at = (info - frame) as usize;
        bytes[info_at..info_at + 4].copy_from_slice(&signal.to_le_bytes());
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
