//! signalfd (gVisor's `fsimpl/signalfd`, Linux's `fs/signalfd.c`): a file
//! that reads the reading thread's pending signals of a set, as
//! `signalfd_siginfo` records, instead of having them delivered.
//!
//! As on Linux, what a read takes, and what poll reports, is the *calling*
//! thread's: its thread-directed signals, then its group's. Waiters wait on
//! the creating thread group's pending set, which learns of every signal
//! posted to the group or one of its threads.
//!
//! # Lock order
//!
//! `SignalFd::mask` is a leaf.

use std::sync::{Arc, Mutex};

use abi_linux::{Errno, OpenFlags, SigInfo, SignalfdSiginfo, Statx};
use vfs_core::file_description_util::{anon_inode_stat, new_anon_file};
use vfs_core::io::IoDest;
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WaiterQueue};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileRef, MountRef, ReadOptions, StatOptions,
};

use crate::wait::{PendingSignals, current};

/// A signalfd's file description implementation.
pub struct SignalFd {
    /// The signals it reads (never `SIGKILL` or `SIGSTOP`).
    mask: Mutex<u64>,
    /// The creating group's pending set, whose waiters learn of signals.
    pending: Arc<PendingSignals>,
}

impl SignalFd {
    fn mask(&self) -> u64 {
        *self.mask.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the set of signals read (`signalfd` on an existing one).
    pub fn set_mask(&self, mask: u64) {
        *self.mask.lock().unwrap_or_else(|e| e.into_inner()) = mask;
        self.pending.waiters().notify(READABLE_EVENTS);
    }
}

/// The record `read` returns for `info`: the fields of the `siginfo`
/// union its signal and `si_code` give meaning to (Linux's
/// `signalfd_copyinfo` by `siginfo_layout`), the others zero.
fn record(info: &SigInfo) -> SignalfdSiginfo {
    use abi_linux::signal::{SI_KERNEL, SI_TIMER, SI_TKILL, SI_USER};
    let mut r = SignalfdSiginfo {
        ssi_signo: info.signo as u32,
        ssi_errno: info.errno,
        ssi_code: info.code,
        ..SignalfdSiginfo::default()
    };
    let sender = |r: &mut SignalfdSiginfo| {
        r.ssi_pid = info.pid() as u32;
        r.ssi_uid = info.uid();
    };
    match info.code {
        SI_TIMER => {
            r.ssi_tid = info.timer_id() as u32;
            r.ssi_overrun = info.overrun() as u32;
            r.ssi_ptr = info.value();
            r.ssi_int = info.value() as i32;
        }
        SI_USER | SI_TKILL | SI_KERNEL => sender(&mut r),
        code if code < 0 => {
            sender(&mut r);
            r.ssi_ptr = info.value();
            r.ssi_int = info.value() as i32;
        }
        _ => match info.signo {
            libc::SIGCHLD => {
                sender(&mut r);
                r.ssi_status = info.status();
                r.ssi_utime = info.utime() as u64;
                r.ssi_stime = info.stime() as u64;
            }
            libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP => {
                r.ssi_addr = info.addr();
            }
            libc::SIGSYS => {
                r.ssi_call_addr = info.call_addr();
                r.ssi_syscall = info.syscall();
                r.ssi_arch = info.arch();
            }
            libc::SIGIO => {
                r.ssi_band = info.band() as u32;
                r.ssi_fd = info.fd();
            }
            _ => sender(&mut r),
        },
    }
    r
}

impl FileDescriptionImpl for SignalFd {
    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(anon_inode_stat(fd))
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        let size = size_of::<SignalfdSiginfo>();
        if dst.remaining() < size {
            return Err(Errno::EINVAL);
        }
        let thread = current().ok_or(Errno::EINVAL)?;
        let mask = self.mask();
        let mut done = 0;
        while dst.remaining() >= size {
            // `take_pending` takes what its argument does not block.
            let Some(info) = thread.take_pending(!mask) else {
                break;
            };
            let bytes = zerocopy::IntoBytes::as_bytes(&record(&info)).to_vec();
            if vfs_core::io::copy_out(dst, &bytes)? < size {
                // As Linux, a record that faults is lost.
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EFAULT)
                };
            }
            done += size;
        }
        if done == 0 {
            return Err(Errno::EAGAIN);
        }
        Ok(done)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        let pending = current().is_some_and(|t| t.has_pending(!self.mask()));
        if pending {
            mask & READABLE_EVENTS
        } else {
            EventMask::empty()
        }
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(self.pending.waiters())
    }

    fn synthetic_name(&self) -> Option<String> {
        Some("anon_inode:[signalfd]".into())
    }
}

/// Creates a signalfd reading the signals of `mask` on `mount` (the
/// kernel's anonymous mount) for the calling thread's group,
/// `O_NONBLOCK` when `nonblock`.
pub fn new_signalfd(mount: &MountRef, mask: u64, nonblock: bool) -> Result<FileRef, Errno> {
    let pending = current().ok_or(Errno::EINVAL)?.group_pending().clone();
    let flags = if nonblock {
        OpenFlags::NONBLOCK
    } else {
        OpenFlags::empty()
    };
    Ok(new_anon_file(
        flags,
        mount,
        Box::new(SignalFd {
            mask: Mutex::new(mask),
            pending,
        }),
    ))
}
