//! Imported terminals (gVisor `fsimpl/host/tty.go`): the terminal
//! `ioctl`s, the termios the sandbox last set (cached, for the `TOSTOP`
//! check on writes), and the [`JobControl`] hook through which the
//! embedder's process model answers job-control questions.
//!
//! Termios and window size are read from and written to the host
//! terminal; the foreground process group and the controlling terminal
//! are the sandbox's business and go to the hook. Without a hook the
//! terminal is nobody's controlling terminal: job-control `ioctl`s fail
//! with `ENOTTY`, as Linux answers for a terminal that is not the caller's
//! controlling terminal, and reads and writes are never stopped.
//!
//! # Lock order
//!
//! The cached termios mutex is a leaf, except that a write with `TOSTOP`
//! set holds it across the hook's `check_change` (as gVisor does), so the
//! hook must not call back into the file.

use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::tty::FIONREAD;
use abi_linux::{Errno, Signal, Termios, Winsize};
use vfs_core::Context;
use vfs_core::file_description::IoctlMemory;
use zerocopy::{FromBytes, IntoBytes};

use crate::host_fd::HostFd;

/// The `TOSTOP` local-mode bit: background writers get `SIGTTOU`.
pub const TOSTOP: u32 = 0o400;

/// Job control for imported terminals, supplied by whoever owns the
/// process model (the sentry's thread groups and sessions). Every method
/// receives the context of the calling task.
pub trait JobControl: Send + Sync {
    /// Linux `tty_check_change`: may the caller's process group use the
    /// terminal? A background group gets `signal` (`SIGTTIN` for reads,
    /// `SIGTTOU` for writes and termios changes) and an error (`EIO` for an
    /// orphaned group, `ERESTARTSYS`-like `EINTR` after the signal).
    fn check_change(&self, ctx: &dyn Context, signal: Signal) -> Result<(), Errno>;

    /// `TIOCGPGRP`: the foreground process group id, in the caller's PID
    /// namespace.
    fn foreground_process_group(&self, ctx: &dyn Context) -> Result<i32, Errno>;

    /// `TIOCSPGRP`: makes `pgid` the foreground process group.
    fn set_foreground_process_group(&self, ctx: &dyn Context, pgid: i32) -> Result<(), Errno>;

    /// `TIOCSCTTY`: makes the terminal the caller's controlling terminal,
    /// taking it from another session if `steal` (and the caller may).
    /// `readable` says whether the description was opened for reading.
    fn set_controlling_terminal(
        &self,
        ctx: &dyn Context,
        steal: bool,
        readable: bool,
    ) -> Result<(), Errno>;

    /// `TIOCNOTTY`: gives up the caller's controlling terminal.
    fn release_controlling_terminal(&self, ctx: &dyn Context) -> Result<(), Errno>;

    /// The window size changed (`TIOCSWINSZ`): send `SIGWINCH` to the
    /// foreground process group.
    fn window_size_changed(&self, ctx: &dyn Context);
}

/// The sandbox's state of one imported terminal.
pub(crate) struct TtyState {
    termios: Mutex<Termios>,
    job_control: Option<Arc<dyn JobControl>>,
}

impl TtyState {
    /// The state of the terminal `host`, with its current termios cached;
    /// `ENOTTY` if `host` is not a terminal.
    pub(crate) fn new(
        host: &HostFd,
        job_control: Option<Arc<dyn JobControl>>,
    ) -> Result<TtyState, Errno> {
        let termios = get_termios(host)?;
        Ok(TtyState {
            termios: Mutex::new(termios),
            job_control,
        })
    }

    fn termios(&self) -> MutexGuard<'_, Termios> {
        self.termios.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check_change(&self, ctx: &dyn Context, signal: Signal) -> Result<(), Errno> {
        match &self.job_control {
            Some(jc) => jc.check_change(ctx, signal),
            None => Ok(()),
        }
    }

    /// The check before a read (`n_tty_read` → `job_control`).
    pub(crate) fn check_read(&self, ctx: &dyn Context) -> Result<(), Errno> {
        self.check_change(ctx, Signal::SIGTTIN)
    }

    /// Runs `write` after the check `n_tty_write` makes when `TOSTOP` is
    /// set, holding the cached termios so that it cannot change meanwhile.
    pub(crate) fn checked_write<R>(
        &self,
        ctx: &dyn Context,
        write: impl FnOnce() -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let termios = self.termios();
        if termios.c_lflag & TOSTOP != 0 {
            self.check_change(ctx, Signal::SIGTTOU)?;
        }
        let result = write();
        drop(termios);
        result
    }

    /// The terminal `ioctl`s. `readable` is whether the description was
    /// opened for reading.
    pub(crate) fn ioctl(
        &self,
        host: &HostFd,
        ctx: &dyn Context,
        readable: bool,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        match cmd {
            FIONREAD => {
                let mut n: libc::c_int = 0;
                // SAFETY: `FIONREAD` writes one `int` through its argument.
                unsafe { host.ioctl_ptr(FIONREAD, &mut n)? };
                memory.copy_out(arg, n.as_bytes())?;
                Ok(0)
            }
            abi_linux::tty::TCGETS => {
                let termios = get_termios(host)?;
                memory.copy_out(arg, termios.as_bytes())?;
                Ok(0)
            }
            abi_linux::tty::TCSETS | abi_linux::tty::TCSETSW | abi_linux::tty::TCSETSF => {
                let mut cached = self.termios();
                self.check_change(ctx, Signal::SIGTTOU)?;
                let mut termios = copy_in::<Termios>(memory, arg)?;
                // SAFETY: the `TCSETS*` requests read one kernel `struct
                // termios`, which `Termios` is.
                unsafe { host.ioctl_ptr(cmd, &mut termios)? };
                *cached = termios;
                Ok(0)
            }
            abi_linux::tty::TIOCGWINSZ => {
                let winsize = get_winsize(host)?;
                memory.copy_out(arg, winsize.as_bytes())?;
                Ok(0)
            }
            abi_linux::tty::TIOCSWINSZ => {
                // Any process group may resize the terminal.
                let mut winsize = copy_in::<Winsize>(memory, arg)?;
                let old = get_winsize(host)?;
                // SAFETY: `TIOCSWINSZ` reads one `struct winsize`.
                unsafe { host.ioctl_ptr(abi_linux::tty::TIOCSWINSZ, &mut winsize)? };
                if old != winsize
                    && let Some(jc) = &self.job_control
                {
                    jc.window_size_changed(ctx);
                }
                Ok(0)
            }
            abi_linux::tty::TIOCGPGRP => {
                let pgid = self.hook()?.foreground_process_group(ctx)?;
                memory.copy_out(arg, pgid.as_bytes())?;
                Ok(0)
            }
            abi_linux::tty::TIOCSPGRP => {
                let pgid = copy_in::<i32>(memory, arg)?;
                self.hook()?.set_foreground_process_group(ctx, pgid)?;
                Ok(0)
            }
            abi_linux::tty::TIOCSCTTY => {
                self.hook()?
                    .set_controlling_terminal(ctx, arg as i32 == 1, readable)?;
                Ok(0)
            }
            abi_linux::tty::TIOCNOTTY => {
                self.hook()?.release_controlling_terminal(ctx)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    /// The job-control hook, or `ENOTTY` (the terminal is nobody's
    /// controlling terminal).
    fn hook(&self) -> Result<&Arc<dyn JobControl>, Errno> {
        self.job_control.as_ref().ok_or(Errno::ENOTTY)
    }
}

fn copy_in<T: FromBytes + IntoBytes + Default>(
    memory: &mut dyn IoctlMemory,
    addr: u64,
) -> Result<T, Errno> {
    let mut value = T::default();
    memory.copy_in(addr, value.as_mut_bytes())?;
    Ok(value)
}

fn get_termios(host: &HostFd) -> Result<Termios, Errno> {
    let mut termios = Termios::default();
    // SAFETY: `TCGETS` writes one kernel `struct termios`, which `Termios`
    // is.
    unsafe { host.ioctl_ptr(abi_linux::tty::TCGETS, &mut termios)? };
    Ok(termios)
}

fn get_winsize(host: &HostFd) -> Result<Winsize, Errno> {
    let mut winsize = Winsize::default();
    // SAFETY: `TIOCGWINSZ` writes one `struct winsize`.
    unsafe { host.ioctl_ptr(abi_linux::tty::TIOCGWINSZ, &mut winsize)? };
    Ok(winsize)
}
