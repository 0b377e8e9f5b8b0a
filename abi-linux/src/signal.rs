//! Signals: [`Signal`], [`SignalSet`], [`SaFlags`], the `sigprocmask(2)`
//! operations and the structures [`SigAction`], [`SigInfo`] and
//! [`SignalStack`].

use bitflags::bitflags;
use core::fmt;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A signal number, 1 to [`Signal::SIGRTMAX`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Signal(pub i32);

/// Declares the standard signals as associated constants of [`Signal`] and
/// their name table.
macro_rules! signals {
    ($($name:ident = $value:literal, $text:literal;)*) => {
        impl Signal {
            $(
                #[doc = concat!("`", stringify!($name), "`: ", $text, ".")]
                pub const $name: Signal = Signal($value);
            )*

            /// Returns the name of a standard signal, such as `"SIGKILL"`,
            /// or `None` for real-time and invalid signals.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

signals! {
    SIGHUP = 1, "hang-up";
    SIGINT = 2, "interrupt from the keyboard";
    SIGQUIT = 3, "quit from the keyboard";
    SIGILL = 4, "illegal instruction";
    SIGTRAP = 5, "trace or breakpoint trap";
    SIGABRT = 6, "abort";
    SIGBUS = 7, "bus error";
    SIGFPE = 8, "arithmetic exception";
    SIGKILL = 9, "kill, cannot be caught or ignored";
    SIGUSR1 = 10, "user-defined signal 1";
    SIGSEGV = 11, "invalid memory reference";
    SIGUSR2 = 12, "user-defined signal 2";
    SIGPIPE = 13, "write to a pipe with no readers";
    SIGALRM = 14, "timer signal from alarm";
    SIGTERM = 15, "termination";
    SIGSTKFLT = 16, "stack fault on the coprocessor (unused)";
    SIGCHLD = 17, "child stopped, continued or terminated";
    SIGCONT = 18, "continue if stopped";
    SIGSTOP = 19, "stop, cannot be caught or ignored";
    SIGTSTP = 20, "stop typed at the terminal";
    SIGTTIN = 21, "terminal input for a background process";
    SIGTTOU = 22, "terminal output for a background process";
    SIGURG = 23, "urgent condition on a socket";
    SIGXCPU = 24, "CPU time limit exceeded";
    SIGXFSZ = 25, "file size limit exceeded";
    SIGVTALRM = 26, "virtual alarm clock";
    SIGPROF = 27, "profiling timer expired";
    SIGWINCH = 28, "window resize";
    SIGIO = 29, "I/O now possible";
    SIGPWR = 30, "power failure";
    SIGSYS = 31, "bad system call";
}

impl Signal {
    /// `SIGIOT`: alias of [`Signal::SIGABRT`].
    pub const SIGIOT: Signal = Signal::SIGABRT;
    /// `SIGPOLL`: alias of [`Signal::SIGIO`].
    pub const SIGPOLL: Signal = Signal::SIGIO;
    /// The kernel's first real-time signal (`SIGRTMIN` of the kernel; GNU
    /// libc reserves the first two and reports 34).
    pub const SIGRTMIN: Signal = Signal(32);
    /// The last real-time signal and the largest signal number.
    pub const SIGRTMAX: Signal = Signal(64);

    /// Reports whether this is a valid signal number (1 to 64).
    pub const fn is_valid(self) -> bool {
        self.0 >= 1 && self.0 <= Signal::SIGRTMAX.0
    }

    /// Reports whether this is a real-time signal (32 to 64).
    pub const fn is_realtime(self) -> bool {
        self.0 >= Signal::SIGRTMIN.0 && self.0 <= Signal::SIGRTMAX.0
    }

    /// Returns this signal's bit in a [`SignalSet`], or 0 if the number is
    /// not valid.
    pub const fn mask(self) -> u64 {
        if self.is_valid() {
            1 << (self.0 - 1)
        } else {
            0
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None if self.is_realtime() => write!(f, "SIGRTMIN+{}", self.0 - Signal::SIGRTMIN.0),
            None => write!(f, "Signal({})", self.0),
        }
    }
}

/// A set of signals (`sigset_t` of the kernel): bit `n - 1` for signal `n`.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(transparent)]
pub struct SignalSet(pub u64);

impl SignalSet {
    /// The signals that cannot be blocked, caught or ignored.
    pub const UNBLOCKABLE: SignalSet = SignalSet(Signal::SIGKILL.mask() | Signal::SIGSTOP.mask());

    /// Returns the empty set.
    pub const fn empty() -> SignalSet {
        SignalSet(0)
    }

    /// Returns the set of all 64 signals.
    pub const fn full() -> SignalSet {
        SignalSet(u64::MAX)
    }

    /// Reports whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Reports whether the set contains `sig`.
    pub const fn contains(self, sig: Signal) -> bool {
        self.0 & sig.mask() != 0
    }

    /// Adds `sig` to the set; invalid numbers are ignored.
    pub fn insert(&mut self, sig: Signal) {
        self.0 |= sig.mask();
    }

    /// Removes `sig` from the set.
    pub fn remove(&mut self, sig: Signal) {
        self.0 &= !sig.mask();
    }

    /// Returns the union of two sets.
    pub const fn union(self, other: SignalSet) -> SignalSet {
        SignalSet(self.0 | other.0)
    }

    /// Returns the signals of `self` that are not in `other`.
    pub const fn difference(self, other: SignalSet) -> SignalSet {
        SignalSet(self.0 & !other.0)
    }

    /// Returns an iterator over the signals of the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        (1..=Signal::SIGRTMAX.0)
            .map(Signal)
            .filter(move |&s| self.contains(s))
    }
}

impl fmt::Debug for SignalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// `SIG_BLOCK`: `sigprocmask(2)` adds the set to the mask.
pub const SIG_BLOCK: i32 = 0;
/// `SIG_UNBLOCK`: `sigprocmask(2)` removes the set from the mask.
pub const SIG_UNBLOCK: i32 = 1;
/// `SIG_SETMASK`: `sigprocmask(2)` replaces the mask.
pub const SIG_SETMASK: i32 = 2;
/// `SIG_DFL`: the default action, as a handler value.
pub const SIG_DFL: u64 = 0;
/// `SIG_IGN`: ignore the signal, as a handler value.
pub const SIG_IGN: u64 = 1;

bitflags! {
    /// The `SA_*` flags of `struct sigaction` (an `unsigned long` in the
    /// kernel).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct SaFlags: u64 {
        /// `SA_NOCLDSTOP`: no `SIGCHLD` when children stop or continue.
        const NOCLDSTOP = 0x0000_0001;
        /// `SA_NOCLDWAIT`: do not turn terminated children into zombies.
        const NOCLDWAIT = 0x0000_0002;
        /// `SA_SIGINFO`: the handler takes a `siginfo_t` and a context.
        const SIGINFO = 0x0000_0004;
        /// `SA_UNSUPPORTED`: a probe bit Linux always clears.
        const UNSUPPORTED = 0x0000_0400;
        /// `SA_EXPOSE_TAGBITS`: keep address tag bits in `si_addr`.
        const EXPOSE_TAGBITS = 0x0000_0800;
        /// `SA_RESTORER`: `restorer` holds the signal-return trampoline.
        const RESTORER = 0x0400_0000;
        /// `SA_ONSTACK`: run the handler on the alternate stack.
        const ONSTACK = 0x0800_0000;
        /// `SA_RESTART`: restart interrupted system calls.
        const RESTART = 0x1000_0000;
        /// `SA_NODEFER` (`SA_NOMASK`): do not block the signal in its
        /// handler.
        const NODEFER = 0x4000_0000;
        /// `SA_RESETHAND` (`SA_ONESHOT`): reset to the default action on
        /// entry to the handler.
        const RESETHAND = 0x8000_0000;
    }
}

/// The kernel's `struct sigaction` on x86_64, as `rt_sigaction(2)` takes
/// it (32 bytes). It differs from GNU libc's `struct sigaction`, which
/// puts the 128-byte `sigset_t` second.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SigAction {
    /// The handler address, [`SIG_DFL`] or [`SIG_IGN`] (`sa_handler`).
    pub handler: u64,
    /// The [`SaFlags`] bits (`sa_flags`).
    pub flags: u64,
    /// The signal-return trampoline (`sa_restorer`).
    pub restorer: u64,
    /// The signals blocked while the handler runs (`sa_mask`).
    pub mask: SignalSet,
}

/// `stack_t`, an alternate signal stack of `sigaltstack(2)`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SignalStack {
    /// The base address (`ss_sp`).
    pub ss_sp: u64,
    /// `SS_ONSTACK`, `SS_DISABLE`, `SS_AUTODISARM` (`ss_flags`).
    pub ss_flags: i32,
    /// Padding, zero.
    pub _pad: i32,
    /// The size in bytes (`ss_size`).
    pub ss_size: u64,
}

/// `SS_ONSTACK`: the thread is running on the alternate stack.
pub const SS_ONSTACK: i32 = 1;
/// `SS_DISABLE`: the alternate stack is disabled.
pub const SS_DISABLE: i32 = 2;
/// `SS_AUTODISARM`: disarm the stack while a handler runs on it.
pub const SS_AUTODISARM: i32 = 1 << 31;

/// `CLD_EXITED`: `SIGCHLD`'s `si_code` for a child that exited.
pub const CLD_EXITED: i32 = 1;
/// `CLD_KILLED`: a child killed by a signal.
pub const CLD_KILLED: i32 = 2;
/// `CLD_DUMPED`: a child killed by a signal that dumped core.
pub const CLD_DUMPED: i32 = 3;
/// `CLD_TRAPPED`: a traced child trapped.
pub const CLD_TRAPPED: i32 = 4;
/// `CLD_STOPPED`: a child stopped.
pub const CLD_STOPPED: i32 = 5;
/// `CLD_CONTINUED`: a stopped child continued.
pub const CLD_CONTINUED: i32 = 6;

/// `SEGV_MAPERR`: `SIGSEGV`'s `si_code` for an address nothing maps.
pub const SEGV_MAPERR: i32 = 1;
/// `SEGV_ACCERR`: `SIGSEGV`'s `si_code` for an access the mapping refuses.
pub const SEGV_ACCERR: i32 = 2;

/// `MINSIGSTKSZ`: the smallest alternate signal stack `sigaltstack(2)`
/// accepts.
pub const MINSIGSTKSZ: u64 = 2048;

/// `SI_USER`: `si_code` of a signal sent by `kill(2)`.
pub const SI_USER: i32 = 0;
/// `SI_KERNEL`: `si_code` of a signal sent by the kernel.
pub const SI_KERNEL: i32 = 0x80;
/// `SI_QUEUE`: `si_code` of a signal sent by `sigqueue(3)`.
pub const SI_QUEUE: i32 = -1;
/// `SI_TIMER`: `si_code` of a POSIX timer expiration.
pub const SI_TIMER: i32 = -2;
/// `SI_MESGQ`: `si_code` of a POSIX message queue's notification.
pub const SI_MESGQ: i32 = -3;
/// `SI_TKILL`: `si_code` of a signal sent by `tkill(2)`/`tgkill(2)`.
pub const SI_TKILL: i32 = -6;

/// `siginfo_t` (128 bytes): three integers and a union whose meaning
/// depends on the signal and `si_code`.
///
/// The union is kept as raw words; the accessors read and write its
/// members at the offsets Linux uses on 64-bit architectures.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SigInfo {
    /// The signal number (`si_signo`).
    pub signo: i32,
    /// An error number, usually zero (`si_errno`).
    pub errno: i32,
    /// Where the signal came from (`si_code`).
    pub code: i32,
    /// Padding, zero.
    pub _pad: i32,
    /// The union (`_sifields`), as raw words.
    pub fields: [u64; 14],
}

impl SigInfo {
    /// Reads the `u32` at byte `off` of the union.
    fn field_u32(&self, off: usize) -> u32 {
        let b = self.fields.as_bytes();
        u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
    }

    /// Writes the `u32` at byte `off` of the union.
    fn set_field_u32(&mut self, off: usize, v: u32) {
        self.fields.as_mut_bytes()[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }

    /// The sender's pid (`si_pid`) of `kill`, `sigqueue` and `SIGCHLD`
    /// information.
    pub fn pid(&self) -> i32 {
        self.field_u32(0) as i32
    }

    /// Sets `si_pid`.
    pub fn set_pid(&mut self, pid: i32) {
        self.set_field_u32(0, pid as u32);
    }

    /// The sender's real user id (`si_uid`) of `kill`, `sigqueue` and
    /// `SIGCHLD` information.
    pub fn uid(&self) -> u32 {
        self.field_u32(4)
    }

    /// Sets `si_uid`.
    pub fn set_uid(&mut self, uid: u32) {
        self.set_field_u32(4, uid);
    }

    /// The exit status or signal of a `SIGCHLD` (`si_status`).
    pub fn status(&self) -> i32 {
        self.field_u32(8) as i32
    }

    /// Sets `si_status`.
    pub fn set_status(&mut self, status: i32) {
        self.set_field_u32(8, status as u32);
    }

    /// The user CPU time of a `SIGCHLD`, in clock ticks (`si_utime`).
    pub fn utime(&self) -> i64 {
        self.fields[2] as i64
    }

    /// The system CPU time of a `SIGCHLD`, in clock ticks (`si_stime`).
    pub fn stime(&self) -> i64 {
        self.fields[3] as i64
    }

    /// Sets `si_utime` and `si_stime`.
    pub fn set_child_times(&mut self, utime: i64, stime: i64) {
        self.fields[2] = utime as u64;
        self.fields[3] = stime as u64;
    }

    /// The value of a `sigqueue` or timer signal (`si_value`).
    pub fn value(&self) -> u64 {
        self.fields[1]
    }

    /// Sets `si_value`.
    pub fn set_value(&mut self, value: u64) {
        self.fields[1] = value;
    }

    /// The faulting address of `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE` and
    /// `SIGTRAP` (`si_addr`).
    pub fn addr(&self) -> u64 {
        self.fields[0]
    }

    /// Sets `si_addr`.
    pub fn set_addr(&mut self, addr: u64) {
        self.fields[0] = addr;
    }

    /// The timer id of a POSIX timer signal (`si_timerid`).
    pub fn timer_id(&self) -> i32 {
        self.field_u32(0) as i32
    }

    /// The overrun count of a POSIX timer signal (`si_overrun`).
    pub fn overrun(&self) -> i32 {
        self.field_u32(4) as i32
    }

    /// Sets `si_timerid` and `si_overrun`.
    pub fn set_timer(&mut self, timer_id: i32, overrun: i32) {
        self.set_field_u32(0, timer_id as u32);
        self.set_field_u32(4, overrun as u32);
    }

    /// The address of the system call instruction of a seccomp `SIGSYS`
    /// (`si_call_addr`).
    pub fn call_addr(&self) -> u64 {
        self.fields[0]
    }

    /// The system-call number of a seccomp `SIGSYS` (`si_syscall`).
    pub fn syscall(&self) -> i32 {
        self.field_u32(8) as i32
    }

    /// The `AUDIT_ARCH_*` value of a seccomp `SIGSYS` (`si_arch`).
    pub fn arch(&self) -> u32 {
        self.field_u32(12)
    }

    /// Sets `si_call_addr`, `si_syscall` and `si_arch`.
    pub fn set_sigsys(&mut self, call_addr: u64, syscall: i32, arch: u32) {
        self.fields[0] = call_addr;
        self.set_field_u32(8, syscall as u32);
        self.set_field_u32(12, arch);
    }

    /// The band event of a `SIGPOLL` (`si_band`).
    pub fn band(&self) -> i64 {
        self.fields[0] as i64
    }

    /// The descriptor of a `SIGPOLL` (`si_fd`).
    pub fn fd(&self) -> i32 {
        self.field_u32(8) as i32
    }

    /// Sets `si_band` and `si_fd`.
    pub fn set_poll(&mut self, band: i64, fd: i32) {
        self.fields[0] = band as u64;
        self.set_field_u32(8, fd as u32);
    }
}

/// `struct sigcontext` of x86-64: the registers a signal frame saves,
/// general registers in `<sys/ucontext.h>`'s `REG_*` order (which
/// unwinders and Go's runtime index).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SigContext {
    /// `r8`.
    pub r8: u64,
    /// `r9`.
    pub r9: u64,
    /// `r10`.
    pub r10: u64,
    /// `r11`.
    pub r11: u64,
    /// `r12`.
    pub r12: u64,
    /// `r13`.
    pub r13: u64,
    /// `r14`.
    pub r14: u64,
    /// `r15`.
    pub r15: u64,
    /// `rdi`.
    pub rdi: u64,
    /// `rsi`.
    pub rsi: u64,
    /// `rbp`.
    pub rbp: u64,
    /// `rbx`.
    pub rbx: u64,
    /// `rdx`.
    pub rdx: u64,
    /// `rax`.
    pub rax: u64,
    /// `rcx`.
    pub rcx: u64,
    /// `rsp`.
    pub rsp: u64,
    /// `rip`.
    pub rip: u64,
    /// The flags register.
    pub eflags: u64,
    /// The code segment selector.
    pub cs: u16,
    /// The `gs` selector.
    pub gs: u16,
    /// The `fs` selector.
    pub fs: u16,
    /// The stack segment selector (`__pad0` before Linux 4.8).
    pub ss: u16,
    /// The page-fault error code of a fault.
    pub err: u64,
    /// The trap number of a fault.
    pub trapno: u64,
    /// The signal mask's first word, as older ABIs read it.
    pub oldmask: u64,
    /// The faulting address of a page fault.
    pub cr2: u64,
    /// Where the frame's floating-point state lies; 0 for none.
    pub fpstate: u64,
    /// Zero.
    pub reserved: [u64; 8],
}

/// `struct ucontext` as the kernel lays it out in a signal frame (the
/// signal mask is the kernel's 8-byte set, so `siginfo` follows it).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct UContext {
    /// `UC_*` flags.
    pub flags: u64,
    /// The context to resume after this one (unused by signals).
    pub link: u64,
    /// The alternate signal stack when the signal arrived.
    pub stack: SignalStack,
    /// The interrupted registers.
    pub mcontext: SigContext,
    /// The signal mask to restore.
    pub sigmask: SignalSet,
}

/// `UC_FP_XSTATE`: the frame's floating-point state is an XSAVE image.
pub const UC_FP_XSTATE: u64 = 0x1;
/// `UC_SIGCONTEXT_SS`: the frame's `ss` field is meaningful.
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
/// `UC_STRICT_RESTORE_SS`: `rt_sigreturn` restores `ss` as saved.
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;

/// `struct _fpx_sw_bytes`: the software-reserved bytes at offset 464 of
/// the FXSAVE area of a signal frame, which say whether an XSAVE image
/// (with `FP_XSTATE_MAGIC2` after it) follows the legacy area.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct FpxSwBytes {
    /// [`FP_XSTATE_MAGIC1`] when an XSAVE image is present.
    pub magic1: u32,
    /// The bytes of the image plus the trailing magic word.
    pub extended_size: u32,
    /// The XSAVE features the image holds (`XCR0`).
    pub xfeatures: u64,
    /// The bytes of the XSAVE image.
    pub xstate_size: u32,
    /// Zero.
    pub padding: [u32; 7],
}

/// The offset of [`FpxSwBytes`] in the FXSAVE area.
pub const FPX_SW_BYTES_OFFSET: usize = 464;
/// `FP_XSTATE_MAGIC1`: [`FpxSwBytes::magic1`] of an XSAVE frame.
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// `FP_XSTATE_MAGIC2`: the word after an XSAVE image in a signal frame.
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;

/// `struct signalfd_siginfo`: one signal as `read(2)` on a signalfd
/// returns it (128 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct SignalfdSiginfo {
    /// The signal number.
    pub ssi_signo: u32,
    /// An errno value (unused).
    pub ssi_errno: i32,
    /// `si_code`.
    pub ssi_code: i32,
    /// The sender's process ID.
    pub ssi_pid: u32,
    /// The sender's real user ID.
    pub ssi_uid: u32,
    /// The file descriptor (`SIGIO`).
    pub ssi_fd: i32,
    /// The kernel timer ID (POSIX timers).
    pub ssi_tid: u32,
    /// The band event (`SIGIO`).
    pub ssi_band: u32,
    /// The overrun count (POSIX timers).
    pub ssi_overrun: u32,
    /// The trap number of a fault.
    pub ssi_trapno: u32,
    /// The exit status or signal (`SIGCHLD`).
    pub ssi_status: i32,
    /// The integer sent by `sigqueue(3)`.
    pub ssi_int: i32,
    /// The pointer sent by `sigqueue(3)`.
    pub ssi_ptr: u64,
    /// User CPU time consumed (`SIGCHLD`).
    pub ssi_utime: u64,
    /// System CPU time consumed (`SIGCHLD`).
    pub ssi_stime: u64,
    /// The faulting address.
    pub ssi_addr: u64,
    /// The least significant bit of the address (`SIGBUS`).
    pub ssi_addr_lsb: u16,
    /// Padding.
    pub _pad2: u16,
    /// The system call (`SIGSYS`).
    pub ssi_syscall: i32,
    /// The calling address (`SIGSYS`).
    pub ssi_call_addr: u64,
    /// The architecture (`SIGSYS`).
    pub ssi_arch: u32,
    /// Padding to 128 bytes.
    pub _pad: [u8; 28],
}

impl Default for SignalfdSiginfo {
    fn default() -> Self {
        zerocopy::FromZeros::new_zeroed()
    }
}

/// `SFD_NONBLOCK`: `signalfd4(2)` makes an `O_NONBLOCK` description.
pub const SFD_NONBLOCK: i32 = 0o4000;
/// `SFD_CLOEXEC`: `signalfd4(2)` makes a close-on-exec descriptor.
pub const SFD_CLOEXEC: i32 = 0o2000000;

#[cfg(test)]
mod tests {
    use super::{SigInfo, Signal, SignalSet};

    #[test]
    fn signal_set_holds_signal_n_at_bit_n_minus_one() {
        let mut s = SignalSet::empty();
        s.insert(Signal::SIGHUP);
        s.insert(Signal::SIGRTMAX);
        assert_eq!(s.0, 1 | 1 << 63);
        assert!(s.iter().eq([Signal::SIGHUP, Signal::SIGRTMAX]));
        s.remove(Signal::SIGHUP);
        assert!(!s.contains(Signal::SIGHUP));
    }

    #[test]
    fn invalid_signals_are_in_no_set() {
        let mut s = SignalSet::empty();
        s.insert(Signal(0));
        s.insert(Signal(65));
        assert!(s.is_empty());
        assert!(!SignalSet::full().contains(Signal(-1)));
    }

    #[test]
    fn siginfo_setters_round_trip() {
        let mut i = SigInfo::default();
        i.set_sigsys(0x1234, 59, 0xc000_003e);
        assert_eq!(
            (i.call_addr(), i.syscall(), i.arch()),
            (0x1234, 59, 0xc000_003e)
        );
        i.set_pid(-7);
        i.set_uid(1000);
        assert_eq!((i.pid(), i.uid()), (-7, 1000));
    }
}
