//! Linux error numbers.
//!
//! [`Errno`] carries the positive error number a Linux system call returns
//! negated. Every application-visible number from 1 to 133 has a constant;
//! the kernel-internal restart numbers (512 to 516) are separate constants
//! that the sentry uses to drive system-call restart and that must never
//! reach an application.

use core::fmt;

/// A Linux error number, stored as the raw positive value (`ENOENT` is 2).
///
/// Only values known to this crate can be constructed, through the
/// associated constants, [`Errno::from_raw`] or [`TryFrom<i32>`].
///
/// # Examples
///
/// ```
/// use abi_linux::Errno;
///
/// let e = Errno::ENOENT;
/// assert_eq!(e.raw(), 2);
/// assert_eq!(e.name(), "ENOENT");
/// assert_eq!(e.to_syscall_return(), -2);
/// assert_eq!(Errno::from_raw(2), Some(Errno::ENOENT));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Errno(i32);

/// The result type of fallible operations across this project's crates.
pub type Result<T> = core::result::Result<T, Errno>;

/// Declares the application-visible error numbers: an associated constant
/// each, and the tables behind [`Errno::name`], [`Errno::description`] and
/// [`Errno::from_raw`].
macro_rules! errnos {
    ($($name:ident = $value:literal, $text:literal;)*) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($value), "): ", $text, ".")]
                pub const $name: Errno = Errno($value);
            )*

            /// Returns the error number whose raw value is `v`, or `None` if
            /// `v` is not a Linux error number known to this crate.
            ///
            /// The kernel-internal restart numbers are known and accepted.
            pub const fn from_raw(v: i32) -> Option<Errno> {
                match v {
                    $($value)|* | 512..=516 => Some(Errno(v)),
                    _ => None,
                }
            }

            /// Returns the symbolic name of the error number, such as
            /// `"ENOENT"`.
            ///
            /// Aliases report the primary name: [`Errno::EWOULDBLOCK`] is
            /// `"EAGAIN"`.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($value => stringify!($name),)*
                    512 => "ERESTARTSYS",
                    513 => "ERESTARTNOINTR",
                    514 => "ERESTARTNOHAND",
                    515 => "ENOIOCTLCMD",
                    516 => "ERESTART_RESTARTBLOCK",
                    _ => unreachable!("an Errno is only built from a known value"),
                }
            }

            /// Returns the human-readable description of the error number,
            /// the text GNU libc's `strerror` gives, such as
            /// `"No such file or directory"`.
            pub fn description(self) -> &'static str {
                match self.0 {
                    $($value => $text,)*
                    512 => "Kernel-internal: restart the system call if no handler runs or SA_RESTART is set",
                    513 => "Kernel-internal: always restart the system call",
                    514 => "Kernel-internal: restart the system call if no handler runs",
                    515 => "Kernel-internal: ioctl command not handled by this driver",
                    516 => "Kernel-internal: restart the system call through restart_syscall",
                    _ => unreachable!("an Errno is only built from a known value"),
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    ENOTBLK = 15, "Block device required";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Invalid cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Numerical argument out of domain";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOLCK = 37, "No locks available";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many levels of symbolic links";
    ENOMSG = 42, "No message of desired type";
    EIDRM = 43, "Identifier removed";
    ECHRNG = 44, "Channel number out of range";
    EL2NSYNC = 45, "Level 2 not synchronized";
    EL3HLT = 46, "Level 3 halted";
    EL3RST = 47, "Level 3 reset";
    ELNRNG = 48, "Link number out of range";
    EUNATCH = 49, "Protocol driver not attached";
    ENOCSI = 50, "No CSI structure available";
    EL2HLT = 51, "Level 2 halted";
    EBADE = 52, "Invalid exchange";
    EBADR = 53, "Invalid request descriptor";
    EXFULL = 54, "Exchange full";
    ENOANO = 55, "No anode";
    EBADRQC = 56, "Invalid request code";
    EBADSLT = 57, "Invalid slot";
    EBFONT = 59, "Bad font file format";
    ENOSTR = 60, "Device not a stream";
    ENODATA = 61, "No data available";
    ETIME = 62, "Timer expired";
    ENOSR = 63, "Out of streams resources";
    ENONET = 64, "Machine is not on the network";
    ENOPKG = 65, "Package not installed";
    EREMOTE = 66, "Object is remote";
    ENOLINK = 67, "Link has been severed";
    EADV = 68, "Advertise error";
    ESRMNT = 69, "Srmount error";
    ECOMM = 70, "Communication error on send";
    EPROTO = 71, "Protocol error";
    EMULTIHOP = 72, "Multihop attempted";
    EDOTDOT = 73, "RFS specific error";
    EBADMSG = 74, "Bad message";
    EOVERFLOW = 75, "Value too large for defined data type";
    ENOTUNIQ = 76, "Name not unique on network";
    EBADFD = 77, "File descriptor in bad state";
    EREMCHG = 78, "Remote address changed";
    ELIBACC = 79, "Can not access a needed shared library";
    ELIBBAD = 80, "Accessing a corrupted shared library";
    ELIBSCN = 81, ".lib section in a.out corrupted";
    ELIBMAX = 82, "Attempting to link in too many shared libraries";
    ELIBEXEC = 83, "Cannot exec a shared library directly";
    EILSEQ = 84, "Invalid or incomplete multibyte or wide character";
    ERESTART = 85, "Interrupted system call should be restarted";
    ESTRPIPE = 86, "Streams pipe error";
    EUSERS = 87, "Too many users";
    ENOTSOCK = 88, "Socket operation on non-socket";
    EDESTADDRREQ = 89, "Destination address required";
    EMSGSIZE = 90, "Message too long";
    EPROTOTYPE = 91, "Protocol wrong type for socket";
    ENOPROTOOPT = 92, "Protocol not available";
    EPROTONOSUPPORT = 93, "Protocol not supported";
    ESOCKTNOSUPPORT = 94, "Socket type not supported";
    EOPNOTSUPP = 95, "Operation not supported";
    EPFNOSUPPORT = 96, "Protocol family not supported";
    EAFNOSUPPORT = 97, "Address family not supported by protocol";
    EADDRINUSE = 98, "Address already in use";
    EADDRNOTAVAIL = 99, "Cannot assign requested address";
    ENETDOWN = 100, "Network is down";
    ENETUNREACH = 101, "Network is unreachable";
    ENETRESET = 102, "Network dropped connection on reset";
    ECONNABORTED = 103, "Software caused connection abort";
    ECONNRESET = 104, "Connection reset by peer";
    ENOBUFS = 105, "No buffer space available";
    EISCONN = 106, "Transport endpoint is already connected";
    ENOTCONN = 107, "Transport endpoint is not connected";
    ESHUTDOWN = 108, "Cannot send after transport endpoint shutdown";
    ETOOMANYREFS = 109, "Too many references: cannot splice";
    ETIMEDOUT = 110, "Connection timed out";
    ECONNREFUSED = 111, "Connection refused";
    EHOSTDOWN = 112, "Host is down";
    EHOSTUNREACH = 113, "No route to host";
    EALREADY = 114, "Operation already in progress";
    EINPROGRESS = 115, "Operation now in progress";
    ESTALE = 116, "Stale file handle";
    EUCLEAN = 117, "Structure needs cleaning";
    ENOTNAM = 118, "Not a XENIX named type file";
    ENAVAIL = 119, "No XENIX semaphores available";
    EISNAM = 120, "Is a named type file";
    EREMOTEIO = 121, "Remote I/O error";
    EDQUOT = 122, "Disk quota exceeded";
    ENOMEDIUM = 123, "No medium found";
    EMEDIUMTYPE = 124, "Wrong medium type";
    ECANCELED = 125, "Operation canceled";
    ENOKEY = 126, "Required key not available";
    EKEYEXPIRED = 127, "Key has expired";
    EKEYREVOKED = 128, "Key has been revoked";
    EKEYREJECTED = 129, "Key was rejected by service";
    EOWNERDEAD = 130, "Owner died";
    ENOTRECOVERABLE = 131, "State not recoverable";
    ERFKILL = 132, "Operation not possible due to RF-kill";
    EHWPOISON = 133, "Memory page has hardware error";
}

impl Errno {
    /// Alias of [`Errno::EAGAIN`].
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// Alias of [`Errno::EDEADLK`].
    pub const EDEADLOCK: Errno = Errno::EDEADLK;
    /// Alias of [`Errno::EOPNOTSUPP`].
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;

    /// Kernel-internal, never visible to applications: restart the
    /// interrupted system call unless a signal handler runs without
    /// `SA_RESTART`, in which case the application sees [`Errno::EINTR`].
    pub const ERESTARTSYS: Errno = Errno(512);
    /// Kernel-internal, never visible to applications: restart the
    /// interrupted system call whatever the signal disposition.
    pub const ERESTARTNOINTR: Errno = Errno(513);
    /// Kernel-internal, never visible to applications: restart the
    /// interrupted system call only if no signal handler runs; otherwise
    /// the application sees [`Errno::EINTR`].
    pub const ERESTARTNOHAND: Errno = Errno(514);
    /// Kernel-internal, never visible to applications: an ioctl handler
    /// does not know the command, so a generic handler may try it; an
    /// application sees [`Errno::ENOTTY`].
    pub const ENOIOCTLCMD: Errno = Errno(515);
    /// Kernel-internal, never visible to applications: restart the
    /// interrupted system call through `restart_syscall(2)` with the
    /// saved restart block, unless a handler runs (then [`Errno::EINTR`]).
    pub const ERESTART_RESTARTBLOCK: Errno = Errno(516);

    /// Returns the raw positive error number.
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// Returns the value a system call returns to report this error: the
    /// negated error number.
    pub const fn to_syscall_return(self) -> i64 {
        -(self.0 as i64)
    }

    /// Reports whether this is one of the kernel-internal restart numbers
    /// (512 to 516), which must be translated before a system call returns
    /// to an application.
    pub const fn is_internal(self) -> bool {
        self.0 >= 512
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.description())
    }
}

impl core::error::Error for Errno {}

impl From<Errno> for i32 {
    fn from(e: Errno) -> i32 {
        e.0
    }
}

/// The error of converting an unknown raw value into an [`Errno`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownErrno(pub i32);

impl fmt::Display for UnknownErrno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown Linux error number {}", self.0)
    }
}

impl core::error::Error for UnknownErrno {}

impl TryFrom<i32> for Errno {
    type Error = UnknownErrno;

    fn try_from(v: i32) -> core::result::Result<Errno, UnknownErrno> {
        Errno::from_raw(v).ok_or(UnknownErrno(v))
    }
}

#[cfg(test)]
mod tests {
    use super::Errno;

    #[test]
    fn unused_numbers_are_rejected() {
        // Linux never assigned 41 and 58, and nothing lies between 133 and 512.
        for v in [0, -1, 41, 58, 134, 511, 517, i32::MAX, i32::MIN] {
            assert_eq!(Errno::from_raw(v), None, "{v}");
        }
    }

    #[test]
    fn aliases_share_the_primary_value() {
        assert_eq!(Errno::EWOULDBLOCK.name(), "EAGAIN");
        assert_eq!(Errno::ENOTSUP.name(), "EOPNOTSUPP");
        assert_eq!(Errno::EDEADLOCK.name(), "EDEADLK");
    }

    #[test]
    fn restart_numbers_are_internal_and_others_are_not() {
        assert!(Errno::ERESTARTSYS.is_internal());
        assert!(Errno::ERESTART_RESTARTBLOCK.is_internal());
        assert!(!Errno::EHWPOISON.is_internal());
        assert_eq!(Errno::from_raw(516), Some(Errno::ERESTART_RESTARTBLOCK));
    }
}
