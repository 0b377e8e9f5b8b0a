//! A host terminal relayed to a pseudo-terminal of the sandbox's own: the
//! program gets `/dev/pts/N` with the sentry's line discipline and job
//! control (its `ttyname`, `^C` to its foreground group, `TIOCSPGRP`),
//! while the host terminal is put in raw mode and only carries bytes both
//! ways, as a terminal emulator would. The window size is copied at the
//! start and whenever the host terminal reports a new one.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use abi_linux::Errno;
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::waiter::{EventMask, Waiter};
use vfs_core::{FileRef, ReadOptions, WriteOptions};

use crate::kernel::Kernel;

/// Wakes a relay thread when the sandbox's master becomes ready.
#[derive(Default)]
struct Wakeup {
    ready: Mutex<bool>,
    cond: Condvar,
}

impl Waiter for Wakeup {
    fn notify(&self, _: EventMask) {
        *self.ready.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cond.notify_all();
    }
}

impl Wakeup {
    /// Waits for a notification (or a short while: a lost one costs a
    /// poll, not a hang).
    fn wait(&self) {
        let ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        let (mut ready, _) = self
            .cond
            .wait_timeout_while(ready, Duration::from_millis(100), |r| !*r)
            .unwrap_or_else(|e| e.into_inner());
        *ready = false;
    }
}

/// A running relay; [`Relay::finish`] waits for the program's last output
/// and gives the host terminal its settings back.
pub struct Relay {
    output: Option<std::thread::JoinHandle<()>>,
    host: OwnedFd,
    saved: Option<nix::sys::termios::Termios>,
}

impl Relay {
    /// Relays between the host terminal `host` (read and written) and the
    /// sandbox terminal whose master is `master`.
    pub fn start(kernel: &Arc<Kernel>, master: FileRef, host: OwnedFd) -> Result<Relay, String> {
        use nix::sys::termios;
        let saved = termios::tcgetattr(host.as_fd()).ok();
        if let Some(saved) = &saved {
            let mut raw = saved.clone();
            termios::cfmakeraw(&mut raw);
            termios::tcsetattr(host.as_fd(), termios::SetArg::TCSANOW, &raw)
                .map_err(|e| format!("raw mode on the host terminal: {e}"))?;
        }
        copy_window_size(&host, &master);
        let wakeup = Arc::new(Wakeup::default());
        let registration = master
            .imp()
            .event_register(
                wakeup.clone(),
                EventMask::IN | EventMask::OUT | EventMask::HUP,
            )
            .map_err(|e| format!("watching the terminal: {}", e.name()))?;
        let input = {
            let master = master.clone();
            let wakeup = wakeup.clone();
            let host = host.try_clone().map_err(|e| e.to_string())?;
            let kernel = kernel.clone();
            std::thread::Builder::new()
                .name("tty-input".into())
                .spawn(move || input(&kernel, &host, &master, &wakeup))
                .map_err(|e| e.to_string())?
        };
        // The input thread blocks in a host read for as long as the host
        // terminal is open; it ends with the process.
        drop(input);
        let output = {
            let host = host.try_clone().map_err(|e| e.to_string())?;
            let kernel = kernel.clone();
            std::thread::Builder::new()
                .name("tty-output".into())
                .spawn(move || {
                    output(&kernel, &host, &master, &wakeup);
                    if let Some(id) = registration {
                        master.imp().event_unregister(id);
                    }
                })
                .map_err(|e| e.to_string())?
        };
        Ok(Relay {
            output: Some(output),
            host,
            saved,
        })
    }

    /// Waits for the output still on its way (the program's terminal has
    /// closed, so the master reads to its end) and restores the host
    /// terminal's settings.
    pub fn finish(mut self) {
        if let Some(output) = self.output.take() {
            let _ = output.join();
        }
        if let Some(saved) = &self.saved {
            let _ = nix::sys::termios::tcsetattr(
                self.host.as_fd(),
                nix::sys::termios::SetArg::TCSADRAIN,
                saved,
            );
        }
    }
}

/// The host terminal's window size, given to the sandbox's.
fn copy_window_size(host: &OwnedFd, master: &FileRef) {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into `ws`.
    if unsafe { libc::ioctl(host.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) } == 0 {
        super::set_window_size(master, ws.ws_row, ws.ws_col);
    }
}

/// Host keystrokes to the sandbox's terminal, until the host terminal
/// ends.
fn input(kernel: &Arc<Kernel>, host: &OwnedFd, master: &FileRef, wakeup: &Wakeup) {
    let ctx = crate::kernel::kernel_context();
    let mut buf = [0u8; 4096];
    loop {
        let n = match nix::unistd::read(host, &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // A resize reaches the host terminal as SIGWINCH to a foreground
        // group the sentry is not in; look again with every keystroke.
        copy_window_size(host, master);
        let mut sent = 0;
        while sent < n {
            let mut src = SliceSource::new(&buf[sent..n]);
            match master
                .imp()
                .write(&ctx, master, &mut src, WriteOptions::default())
            {
                Ok(m) => sent += m,
                Err(Errno::EAGAIN) => wakeup.wait(),
                Err(_) => return,
            }
            if kernel.tasks.init_exit().is_some() {
                return;
            }
        }
    }
}

/// The sandbox terminal's output to the host terminal, until every
/// replica has closed.
fn output(kernel: &Arc<Kernel>, host: &OwnedFd, master: &FileRef, wakeup: &Wakeup) {
    let ctx = crate::kernel::kernel_context();
    let mut out = std::fs::File::from(match host.try_clone() {
        Ok(fd) => fd,
        Err(_) => return,
    });
    let mut buf = [0u8; 4096];
    loop {
        let mut dst = SliceDest::new(&mut buf);
        match master
            .imp()
            .read(&ctx, master, &mut dst, ReadOptions::default())
        {
            Ok(n) => {
                if out.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            // Every replica closed: the program and its children are gone.
            Err(Errno::EIO) => return,
            Err(Errno::EAGAIN) => {
                // The init process's end closes the last replica soon
                // after; waits for it a little, not for ever.
                if kernel.tasks.init_exit().is_some() && kernel.tasks.pids().is_empty() {
                    wakeup.wait();
                    let mut dst = SliceDest::new(&mut buf);
                    if let Ok(n) = master
                        .imp()
                        .read(&ctx, master, &mut dst, ReadOptions::default())
                    {
                        let _ = out.write_all(&buf[..n]);
                    }
                    return;
                }
                wakeup.wait();
            }
            Err(_) => return,
        }
    }
}
