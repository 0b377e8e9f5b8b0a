//! Signal actions and the delivery of caught signals (gVisor's
//! `signal_handlers.go` and `task_signals.go`, the handler-entry part).
//!
//! A thread takes its pending signals (thread-directed first, then the
//! group's) when it next returns to application code. A caught signal
//! gets a frame laid out as Linux's `rt_sigframe` below the red zone of
//! the current stack, or on the alternate stack (`sigaltstack`) under
//! `SA_ONSTACK` unless the thread is on it already: the return address
//! `sa_restorer`, a `ucontext` (abi-linux's [`UContext`]: the general
//! registers, the old mask, a pointer to the FPU state), the `siginfo`,
//! and above them the XSAVE image with its software bytes and magic
//! words. `rt_sigreturn` restores all of it from the frame, as Linux does,
//! so handlers that edit the context (Go's preemption, user-level
//! threads, JITs) resume where they said. A signal whose action is the
//! default one ends the thread group when that action terminates; stop
//! signals and default-ignored ones have no effect.
//!
//! # Lock order
//!
//! `SignalHandlers::actions` is a leaf.

use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::signal::{SS_AUTODISARM, SS_DISABLE, SS_ONSTACK};
use abi_linux::{SaFlags, SigAction, SigContext, SigInfo, SignalStack, UContext};

use super::{ExitStatus, Task};

/// The number of signals.
pub const NSIG: usize = 64;

/// `SIGCHLD`.
pub(crate) const SIGCHLD: i32 = abi_linux::Signal::SIGCHLD.0;

/// `SIG_IGN` as `rt_sigaction` records it.
pub(crate) const SIG_IGN: u64 = abi_linux::signal::SIG_IGN;

/// No alternate signal stack.
pub(crate) const NO_ALT_STACK: SignalStack = SignalStack {
    ss_sp: 0,
    ss_flags: SS_DISABLE,
    _pad: 0,
    ss_size: 0,
};

/// The bytes below the stack pointer a signal frame leaves alone.
const RED_ZONE: u64 = 128;
/// Linux's `rt_sigframe` below the FPU state: the return address, the
/// `ucontext` and the `siginfo`.
const SIGNAL_FRAME_SIZE: u64 = (8 + size_of::<UContext>() + size_of::<SigInfo>()) as u64;
/// The legacy (x87 and SSE) area at the start of a frame's FPU state.
const FXSAVE_SIZE: usize = 512;

/// Whether `signal`, arriving with `handler` as its action, ends the
/// thread group: `SIGKILL` always; otherwise a signal left at its default
/// action when that action terminates.
pub(crate) fn terminates(signal: i32, handler: u64) -> bool {
    signal == libc::SIGKILL || (handler == abi_linux::signal::SIG_DFL && !default_ignored(signal))
}

/// Whether `signal`'s default action is to do nothing (`SIGCHLD`,
/// `SIGCONT`, `SIGURG`, `SIGWINCH`) or to stop the group (see
/// [`stops`]): in neither case does the group end.
fn default_ignored(signal: i32) -> bool {
    matches!(signal, 17..=23 | 28)
}

/// The stop signals: `SIGSTOP`, `SIGTSTP`, `SIGTTIN`, `SIGTTOU`.
pub(crate) const STOP_SIGNALS: u64 = (1 << (libc::SIGSTOP - 1))
    | (1 << (libc::SIGTSTP - 1))
    | (1 << (libc::SIGTTIN - 1))
    | (1 << (libc::SIGTTOU - 1));

/// Whether `signal`, arriving with `handler` as its action, stops the
/// thread group (Linux's `sig_kernel_stop` at its default action).
pub(crate) fn stops(signal: i32, handler: u64) -> bool {
    (1..=64).contains(&signal)
        && STOP_SIGNALS & (1 << (signal - 1)) != 0
        && handler == abi_linux::signal::SIG_DFL
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
    pub(crate) fn force_signal(
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

    /// Whether `sp` lies on the thread's alternate signal stack (Linux's
    /// `on_sig_stack`; never while the stack is disarmed automatically,
    /// since a handler may then leave it by `longjmp`).
    pub fn on_alt_stack(&self, sp: u64) -> bool {
        let ss = &self.alt_stack;
        ss.ss_flags & SS_AUTODISARM == 0
            && ss.ss_size > 0
            && sp > ss.ss_sp
            && sp - ss.ss_sp <= ss.ss_size
    }

    /// The alternate stack as `sigaltstack` reports it to a thread whose
    /// stack pointer is `sp` (Linux's `sas_ss_flags` plus the
    /// `SS_AUTODISARM` bit).
    pub fn alt_stack_seen_from(&self, sp: u64) -> SignalStack {
        let ss = self.alt_stack;
        let state = if ss.ss_size == 0 {
            SS_DISABLE
        } else if self.on_alt_stack(sp) {
            SS_ONSTACK
        } else {
            0
        };
        SignalStack {
            ss_flags: state | (ss.ss_flags & SS_AUTODISARM),
            ..ss
        }
    }

    /// Installs `new` as the alternate signal stack (Linux's
    /// `do_sigaltstack`), for a thread whose stack pointer is `sp`.
    ///
    /// Errors: `EPERM` while the thread runs on the current one; `EINVAL`
    /// for unknown flags; `ENOMEM` for an enabled stack smaller than
    /// `MINSIGSTKSZ`.
    pub fn set_alt_stack(&mut self, new: SignalStack, sp: u64) -> Result<(), abi_linux::Errno> {
        if self.on_alt_stack(sp) {
            return Err(abi_linux::Errno::EPERM);
        }
        let mode = new.ss_flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE {
            return Err(abi_linux::Errno::EINVAL);
        }
        self.alt_stack = if mode == SS_DISABLE {
            NO_ALT_STACK
        } else if new.ss_size < abi_linux::signal::MINSIGSTKSZ {
            return Err(abi_linux::Errno::ENOMEM);
        } else {
            SignalStack {
                ss_flags: new.ss_flags & SS_AUTODISARM,
                _pad: 0,
                ..new
            }
        };
        Ok(())
    }

    /// `rt_sigreturn` (Linux's `restore_sigcontext`): reloads the general
    /// registers, the signal mask and the floating-point state from the
    /// frame the handler returns through (its `ucontext` is at the stack
    /// pointer: `sa_restorer`'s return popped the frame's first word), so
    /// a handler that changed them (Go's asynchronous preemption rewrites
    /// the interrupted instruction pointer) resumes where it said. The
    /// segment selectors and the thread pointer stay the thread's;
    /// `eflags` changes only in the bits Linux lets a frame change; an
    /// FPU image is made one the host accepts. A frame that cannot be read
    /// ends the group with `SIGSEGV`.
    pub fn sigreturn(&mut self) -> Result<u64, abi_linux::Errno> {
        let at = self.regs.stack_pointer();
        let restored = self.read_signal_frame(at).and_then(|(uc, fp)| {
            // An FPU image the host would refuse to load is fatal.
            self.regs
                .restore_signal_fp(fp.as_deref().unwrap_or(&[]))
                .ok()?;
            Some(uc)
        });
        let Some(uc) = restored else {
            self.exit = Some(super::TaskExit::Group(ExitStatus::Signaled(libc::SIGSEGV)));
            return Err(abi_linux::Errno::EFAULT);
        };
        let m = &uc.mcontext;
        let g = &mut self.regs.general;
        (g.r8, g.r9, g.r10, g.r11) = (m.r8, m.r9, m.r10, m.r11);
        (g.r12, g.r13, g.r14, g.r15) = (m.r12, m.r13, m.r14, m.r15);
        (g.rdi, g.rsi, g.rbp, g.rbx) = (m.rdi, m.rsi, m.rbp, m.rbx);
        (g.rdx, g.rax, g.rcx, g.rsp) = (m.rdx, m.rax, m.rcx, m.rsp);
        g.rip = m.rip;
        g.eflags = (g.eflags & !FIX_EFLAGS) | (m.eflags & FIX_EFLAGS);
        let rax = g.rax;
        self.set_signal_mask(uc.sigmask.0);
        // The alternate stack as the frame says; Linux ignores every error
        // of this but a fault, which reading the frame already excluded.
        let sp = self.regs.stack_pointer();
        let _ = self.set_alt_stack(uc.stack, sp);
        Ok(rax)
    }

    /// Reads the `ucontext` at `at` and the FPU bytes it points to.
    fn read_signal_frame(&self, at: u64) -> Option<(UContext, Option<Vec<u8>>)> {
        let uc: UContext = self.mm.read_obj(at).ok()?;
        let fpstate = uc.mcontext.fpstate;
        if fpstate == 0 {
            return Some((uc, None));
        }
        let mut legacy = vec![0u8; FXSAVE_SIZE];
        self.mm.copy_in_exact(fpstate, &mut legacy).ok()?;
        let len = self.regs.signal_fp_len(&legacy);
        let mut fp = legacy;
        fp.resize(len, 0);
        self.mm
            .copy_in_exact(fpstate + FXSAVE_SIZE as u64, &mut fp[FXSAVE_SIZE..])
            .ok()?;
        Some((uc, Some(fp)))
    }

    /// Runs the handler of the lowest pending signal the mask lets through
    /// (gVisor's `Task.deliverSignal` for a caught signal): pushes a frame
    /// laid out as Linux's `rt_sigframe` (return address, `ucontext`,
    /// `siginfo`, then the 64-byte aligned FPU state above them) below the
    /// red zone of the current stack or on the alternate stack, and enters
    /// the handler. A signal whose action became the default one since it
    /// was posted takes that action; returns the status when that ends the
    /// thread group.
    pub(super) fn deliver_signal(&mut self) -> Option<ExitStatus> {
        let siginfo = self.kill.take_pending(self.signal_mask())?;
        let signal = siginfo.signo;
        let index = signal as usize - 1;
        let action = self.signal_handlers.action(signal);
        if stops(signal, action.handler) {
            // Linux discards the terminal stop signals of an orphaned
            // process group: nobody outside it could continue it.
            if signal != libc::SIGSTOP && self.kernel.tasks.pgrp_orphaned(self.tgid) {
                return None;
            }
            // The group stops (Linux's `do_signal_stop`); this thread
            // parks when the run loop next looks.
            if self.group.begin_stop(signal) {
                self.kernel
                    .tasks
                    .child_stop_changed(self.tgid, super::ChildEvent::Stopped(signal));
            }
            return None;
        }
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
        let shown_stack = self.alt_stack_seen_from(sp);
        // SA_ONSTACK moves to the top of the alternate stack unless the
        // thread already runs on it.
        let below = if flags.contains(SaFlags::ONSTACK)
            && shown_stack.ss_flags & (SS_DISABLE | SS_ONSTACK) == 0
        {
            self.alt_stack.ss_sp.wrapping_add(self.alt_stack.ss_size)
        } else {
            sp.wrapping_sub(RED_ZONE)
        };
        let fp = self.regs.signal_fp_frame();
        let fpstate = below.wrapping_sub(fp.len() as u64) & !63;
        // At a function's entry the stack is 8 bytes off 16-byte alignment.
        let frame = (fpstate.wrapping_sub(SIGNAL_FRAME_SIZE) & !15).wrapping_sub(8);
        let uc = frame + 8;
        let info = uc + size_of::<UContext>() as u64;
        let g = &self.regs.general;
        let context = UContext {
            flags: abi_linux::signal::UC_FP_XSTATE | abi_linux::signal::UC_SIGCONTEXT_SS,
            link: 0,
            // The alternate stack as sigaltstack reports it.
            stack: shown_stack,
            mcontext: SigContext {
                r8: g.r8,
                r9: g.r9,
                r10: g.r10,
                r11: g.r11,
                r12: g.r12,
                r13: g.r13,
                r14: g.r14,
                r15: g.r15,
                rdi: g.rdi,
                rsi: g.rsi,
                rbp: g.rbp,
                rbx: g.rbx,
                rdx: g.rdx,
                rax: g.rax,
                rcx: g.rcx,
                rsp: g.rsp,
                rip: g.rip,
                eflags: g.eflags,
                cs: g.cs as u16,
                gs: g.gs as u16,
                fs: g.fs as u16,
                ss: g.ss as u16,
                oldmask: old_mask,
                fpstate,
                ..SigContext::default()
            },
            sigmask: abi_linux::SignalSet(old_mask),
        };
        let mut bytes = Vec::with_capacity(SIGNAL_FRAME_SIZE as usize);
        bytes.extend_from_slice(&action.restorer.to_le_bytes());
        bytes.extend_from_slice(zerocopy::IntoBytes::as_bytes(&context));
        bytes.extend_from_slice(zerocopy::IntoBytes::as_bytes(&siginfo));
        if self.mm.copy_out_exact(fpstate, &fp).is_err()
            || self.mm.copy_out_exact(frame, &bytes).is_err()
        {
            return Some(ExitStatus::Signaled(libc::SIGSEGV));
        }
        if self.alt_stack.ss_flags & SS_AUTODISARM != 0 {
            // Disarmed while the handler runs; `rt_sigreturn` re-arms it
            // from the frame.
            self.alt_stack = NO_ALT_STACK;
        }
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
