//! Terminals: the TTY and generic file `ioctl(2)` numbers of x86_64,
//! [`Termios`] and [`Winsize`].

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `TCGETS`: read the [`Termios`].
pub const TCGETS: u32 = 0x5401;
/// `TCSETS`: set the [`Termios`] now.
pub const TCSETS: u32 = 0x5402;
/// `TCSETSW`: set the [`Termios`] after output drains.
pub const TCSETSW: u32 = 0x5403;
/// `TCSETSF`: set the [`Termios`] after output drains, flushing input.
pub const TCSETSF: u32 = 0x5404;
/// `TCSBRK`: drain output and send a break.
pub const TCSBRK: u32 = 0x5409;
/// `TCXONC`: suspend or restart transmission.
pub const TCXONC: u32 = 0x540a;
/// `TCFLSH`: flush queued input or output.
pub const TCFLSH: u32 = 0x540b;
/// `TIOCEXCL`: put the terminal into exclusive mode.
pub const TIOCEXCL: u32 = 0x540c;
/// `TIOCNXCL`: leave exclusive mode.
pub const TIOCNXCL: u32 = 0x540d;
/// `TIOCSCTTY`: make the terminal the controlling terminal.
pub const TIOCSCTTY: u32 = 0x540e;
/// `TIOCGPGRP`: read the foreground process group.
pub const TIOCGPGRP: u32 = 0x540f;
/// `TIOCSPGRP`: set the foreground process group.
pub const TIOCSPGRP: u32 = 0x5410;
/// `TIOCOUTQ`: the number of bytes in the output queue.
pub const TIOCOUTQ: u32 = 0x5411;
/// `TIOCSTI`: fake input.
pub const TIOCSTI: u32 = 0x5412;
/// `TIOCGWINSZ`: read the [`Winsize`].
pub const TIOCGWINSZ: u32 = 0x5413;
/// `TIOCSWINSZ`: set the [`Winsize`].
pub const TIOCSWINSZ: u32 = 0x5414;
/// `FIONREAD` (`TIOCINQ`): the number of bytes readable.
pub const FIONREAD: u32 = 0x541b;
/// `TIOCINQ`: alias of [`FIONREAD`].
pub const TIOCINQ: u32 = FIONREAD;
/// `FIONBIO`: set or clear `O_NONBLOCK`.
pub const FIONBIO: u32 = 0x5421;
/// `TIOCNOTTY`: give up the controlling terminal.
pub const TIOCNOTTY: u32 = 0x5422;
/// `TIOCGSID`: read the session of the terminal.
pub const TIOCGSID: u32 = 0x5429;
/// `TIOCGPTN`: read the pseudo-terminal number of a master.
pub const TIOCGPTN: u32 = 0x8004_5430;
/// `TIOCSPTLCK`: lock or unlock a pseudo-terminal slave.
pub const TIOCSPTLCK: u32 = 0x4004_5431;
/// `TIOCGPTPEER`: open the slave of a pseudo-terminal master.
pub const TIOCGPTPEER: u32 = 0x5441;
/// `FIONCLEX`: clear close-on-exec.
pub const FIONCLEX: u32 = 0x5450;
/// `FIOCLEX`: set close-on-exec.
pub const FIOCLEX: u32 = 0x5451;
/// `FIOASYNC`: set or clear `O_ASYNC`.
pub const FIOASYNC: u32 = 0x5452;

/// The number of control characters in the kernel's [`Termios`] (`NCCS`).
pub const KERNEL_NCCS: usize = 19;

/// The kernel's `struct termios` of `TCGETS`/`TCSETS` (36 bytes).
///
/// GNU libc's `struct termios` is a different, larger structure (32 control
/// characters and the two speeds); libc converts on every call. The
/// kernel's layout is the prefix of its `struct termios2`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Termios {
    /// Input modes.
    pub c_iflag: u32,
    /// Output modes.
    pub c_oflag: u32,
    /// Control modes.
    pub c_cflag: u32,
    /// Local modes.
    pub c_lflag: u32,
    /// The line discipline.
    pub c_line: u8,
    /// The control characters (`VINTR`, `VQUIT`, ...).
    pub c_cc: [u8; KERNEL_NCCS],
}

/// `struct winsize`, the terminal size of `TIOCGWINSZ`/`TIOCSWINSZ`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Winsize {
    /// Rows of characters.
    pub ws_row: u16,
    /// Columns of characters.
    pub ws_col: u16,
    /// Width in pixels (unused by Linux).
    pub ws_xpixel: u16,
    /// Height in pixels (unused by Linux).
    pub ws_ypixel: u16,
}
