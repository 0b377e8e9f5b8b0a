//! The interfaces every backend implements (gVisor's `platform.Platform`,
//! `platform.AddressSpace` and `platform.Context`).

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

use abi_linux::Result;

use crate::memory_file::{FileRange, MemoryFile};
use crate::registers::Registers;

/// A set of memory access types: the permissions of a mapping, or what a
/// faulting access tried to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Access {
    /// Reading.
    pub read: bool,
    /// Writing.
    pub write: bool,
    /// Instruction fetch.
    pub execute: bool,
}

impl Access {
    /// No access.
    pub const NONE: Access = Access {
        read: false,
        write: false,
        execute: false,
    };
    /// Read only.
    pub const READ: Access = Access {
        read: true,
        write: false,
        execute: false,
    };
    /// Write (a fault's access type).
    pub const WRITE: Access = Access {
        read: false,
        write: true,
        execute: false,
    };
    /// Instruction fetch (a fault's access type).
    pub const EXECUTE: Access = Access {
        read: false,
        write: false,
        execute: true,
    };
    /// Read and write.
    pub const READ_WRITE: Access = Access {
        read: true,
        write: true,
        execute: false,
    };
    /// Read and execute.
    pub const READ_EXECUTE: Access = Access {
        read: true,
        write: false,
        execute: true,
    };
    /// Everything.
    pub const ALL: Access = Access {
        read: true,
        write: true,
        execute: true,
    };

    /// Returns the `PROT_*` bits of these permissions.
    pub fn to_prot(self) -> i32 {
        let mut prot = libc::PROT_NONE;
        if self.read {
            prot |= libc::PROT_READ;
        }
        if self.write {
            prot |= libc::PROT_WRITE;
        }
        if self.execute {
            prot |= libc::PROT_EXEC;
        }
        prot
    }
}

/// The signal information of a trap, as `siginfo_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalInfo {
    /// `si_signo`.
    pub signo: i32,
    /// `si_code`.
    pub code: i32,
    /// `si_addr` for faults (the other union members share the bytes at
    /// the same offset).
    pub addr: u64,
    /// The whole `siginfo_t`, for the fields not decoded above.
    pub raw: [u8; 128],
}

impl SignalInfo {
    /// Decodes a raw `siginfo_t`.
    pub(crate) fn from_raw(raw: [u8; 128]) -> Self {
        let word = |o: usize| i32::from_ne_bytes([raw[o], raw[o + 1], raw[o + 2], raw[o + 3]]);
        let mut addr = [0u8; 8];
        addr.copy_from_slice(&raw[16..24]);
        Self {
            signo: word(0),
            code: word(8),
            addr: u64::from_ne_bytes(addr),
            raw,
        }
    }
}

/// Why [`Context::switch`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trap {
    /// The application made a system call. The number and arguments are in
    /// the registers ([`Registers::syscall_number`],
    /// [`Registers::syscall_args`]); the instruction pointer is past the
    /// system-call instruction. The sentry stores the result with
    /// [`Registers::set_syscall_return`] and switches again.
    Syscall,
    /// The application touched memory that is not mapped, or mapped
    /// without the access it needed.
    PageFault {
        /// The faulting address.
        addr: u64,
        /// The access type. The seccomp-trap backend reports the
        /// processor's; the ptrace backend, which cannot see the error code,
        /// infers it: an instruction fetch at the instruction pointer, a
        /// write to a mapped page that is readable but not writable, a
        /// read otherwise.
        access: Access,
        /// The signal (`SIGSEGV` or `SIGBUS`) the host raised.
        info: SignalInfo,
    },
    /// The application received a synchronous signal other than a page
    /// fault (`SIGILL`, `SIGTRAP`, `SIGFPE`, ...).
    Signal(SignalInfo),
    /// [`Interrupter::interrupt`] was called.
    Interrupted,
}

/// A platform: creates address spaces and execution contexts.
pub trait Platform: Send + Sync {
    /// The backend's name (`"ptrace"`, `"seccomp-trap"`).
    fn name(&self) -> &'static str;

    /// Returns the memory file every address space of this platform maps.
    fn memory_file(&self) -> &Arc<MemoryFile>;

    /// Creates an empty address space.
    fn new_address_space(&self) -> Result<Box<dyn AddressSpace>>;

    /// Creates an execution context, bound to the calling thread (see
    /// [`Context`]).
    fn new_context(&self) -> Result<Box<dyn Context>>;

    /// The lowest address an application may map.
    fn min_user_address(&self) -> u64;

    /// The address above the highest an application may map.
    fn max_user_address(&self) -> u64;

    /// Reports whether [`AddressSpace`] offers direct I/O on application
    /// memory; neither backend does (the sentry reads application memory
    /// through [`MemoryFile::map_internal`]).
    fn supports_address_space_io(&self) -> bool;
}

/// An application address space. Dropping it releases it (and kills the
/// stub processes that implement it).
pub trait AddressSpace: Send + Sync {
    /// Maps `file_range` of `file` at `addr` with permissions `perms`,
    /// replacing whatever was mapped there. With `precommit`, the pages are
    /// populated now rather than on first touch.
    ///
    /// # Preconditions
    ///
    /// `file` is the platform's memory file (else `EINVAL`); `addr` and the
    /// range are page-aligned and `addr..addr + len` lies within the
    /// platform's user range (else `EINVAL`); the caller holds references on
    /// `file_range` until it unmaps it.
    fn map_file(
        &self,
        addr: u64,
        file: &MemoryFile,
        file_range: FileRange,
        perms: Access,
        precommit: bool,
    ) -> Result<()>;

    /// Unmaps `addr..addr + len`.
    ///
    /// # Preconditions
    ///
    /// The range is page-aligned and within the user range (else `EINVAL`).
    fn unmap(&self, addr: u64, len: u64) -> Result<()>;

    /// Returns `self` for backends to recognise their own address spaces.
    fn as_any(&self) -> &dyn Any;
}

/// An execution context: runs application threads.
///
/// A context is bound to the OS thread that created it (ptrace is
/// per-thread: the thread that traces a stub is the only one that may
/// control it), so it is neither `Send` nor `Sync`. Other threads stop it
/// with an [`Interrupter`].
pub trait Context {
    /// Runs application code in `address_space` with `regs` until a system
    /// call, a fault, a signal or an interrupt, and returns which; `regs`
    /// then holds the application's state.
    ///
    /// # Preconditions
    ///
    /// `address_space` comes from the same platform (else `EINVAL`).
    fn switch(&mut self, address_space: &dyn AddressSpace, regs: &mut Registers) -> Result<Trap>;

    /// Returns a handle that interrupts this context from any thread.
    fn interrupter(&self) -> Interrupter;
}

/// Kicks a [`Context`] out of [`Context::switch`]; cloneable and usable from
/// any thread.
///
/// An interrupt that arrives while the context is not switching makes the
/// next `switch` return [`Trap::Interrupted`] at once.
#[derive(Clone, Debug)]
pub struct Interrupter {
    inner: Arc<InterruptState>,
}

#[derive(Debug)]
struct InterruptState {
    pending: AtomicBool,
    /// The stub process running application code for the context, or 0.
    running: AtomicI32,
    /// Counts every start and end of a run of application code, so that
    /// a watchdog can tell the run it saw from a later one.
    runs: AtomicU64,
}

/// How long application code may keep running after a fatal interrupt
/// before its stub process is killed (see [`Interrupter::interrupt_fatal`]).
const FATAL_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// The signal that kicks a stub thread out of application code.
pub(crate) const INTERRUPT_SIGNAL: i32 = libc::SIGCHLD;

impl Interrupter {
    pub(crate) fn new() -> Self {
        Self {
            inner: Arc::new(InterruptState {
                pending: AtomicBool::new(false),
                running: AtomicI32::new(0),
                runs: AtomicU64::new(0),
            }),
        }
    }

    /// Interrupts the context: its current or next `switch` returns
    /// [`Trap::Interrupted`].
    pub fn interrupt(&self) {
        self.inner.pending.store(true, Ordering::SeqCst);
        let pid = self.inner.running.load(Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: `kill` takes no pointers. The pid is a stub process of
            // this platform, alive while `running` holds it.
            unsafe { libc::kill(pid, INTERRUPT_SIGNAL) };
        }
    }

    /// Interrupts the context for good (its task is being killed): as
    /// [`Interrupter::interrupt`], and if the same run of application
    /// code is still going after [`FATAL_GRACE`], its stub process is
    /// killed, which ends the run with an error. The interrupt signal
    /// reaches a thread only while the host delivers it to the stub; code
    /// that blocked every host signal (with a forged `rt_sigreturn`
    /// through the stub's own restorer, say) and never makes a system
    /// call would otherwise keep its thread, and the sandbox, alive.
    pub fn interrupt_fatal(&self) {
        self.interrupt();
        let pid = self.inner.running.load(Ordering::SeqCst);
        if pid <= 0 {
            return;
        }
        let runs = self.inner.runs.load(Ordering::SeqCst);
        watchdog::watch(self.inner.clone(), pid, runs);
    }

    /// Records that `pid` runs application code; returns `true` if an
    /// interrupt is pending (and consumes it), in which case nothing runs.
    pub(crate) fn enter(&self, pid: i32) -> bool {
        self.inner.runs.fetch_add(1, Ordering::SeqCst);
        self.inner.running.store(pid, Ordering::SeqCst);
        if self.inner.pending.swap(false, Ordering::SeqCst) {
            self.inner.running.store(0, Ordering::SeqCst);
            return true;
        }
        false
    }

    /// Records that no application code runs.
    pub(crate) fn leave(&self) {
        self.inner.runs.fetch_add(1, Ordering::SeqCst);
        self.inner.running.store(0, Ordering::SeqCst);
    }

    /// Consumes a pending interrupt; returns whether there was one.
    pub(crate) fn take(&self) -> bool {
        self.inner.pending.swap(false, Ordering::SeqCst)
    }
}

/// One thread for every [`Interrupter::interrupt_fatal`] of the process:
/// it keeps the runs to check, sleeps until the earliest is due, and
/// kills the stubs whose run outlasted [`FATAL_GRACE`]. (A thread per
/// interrupt would make a thousand when a thousand-thread group exits.)
mod watchdog {
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Instant;

    use super::{FATAL_GRACE, InterruptState};

    struct Watch {
        due: Instant,
        state: Arc<InterruptState>,
        pid: i32,
        runs: u64,
    }

    static QUEUE: Mutex<Vec<Watch>> = Mutex::new(Vec::new());
    static CHANGED: Condvar = Condvar::new();
    static STARTED: std::sync::Once = std::sync::Once::new();

    /// Kills stub `pid` if `state`'s run `runs` still goes after the grace.
    pub(super) fn watch(state: Arc<InterruptState>, pid: i32, runs: u64) {
        QUEUE.lock().unwrap_or_else(|e| e.into_inner()).push(Watch {
            due: Instant::now() + FATAL_GRACE,
            state,
            pid,
            runs,
        });
        CHANGED.notify_one();
        STARTED.call_once(|| {
            // Without its thread no stub is ever killed this way; the
            // interrupt signal still works for every well-behaved stub.
            let _ = std::thread::Builder::new()
                .name("interrupt-watch".into())
                .spawn(serve);
        });
    }

    fn serve() {
        let mut queue = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            queue.retain(|w| {
                if w.due > now {
                    return true;
                }
                if w.state.running.load(Ordering::SeqCst) == w.pid
                    && w.state.runs.load(Ordering::SeqCst) == w.runs
                {
                    // SAFETY: `kill` takes no pointers. The run that
                    // recorded `pid` has not ended, so the stub lives.
                    unsafe { libc::kill(w.pid, libc::SIGKILL) };
                }
                false
            });
            queue = match queue.iter().map(|w| w.due).min() {
                Some(due) => {
                    let wait = due.saturating_duration_since(Instant::now());
                    CHANGED
                        .wait_timeout(queue, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => CHANGED.wait(queue).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}
