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

/// `TIOCPKT`: enable or disable packet mode on a pseudo-terminal master.
pub const TIOCPKT: u32 = 0x5420;
/// `TIOCSIG`: send a signal to the slave's foreground process group.
pub const TIOCSIG: u32 = 0x4004_5436;
/// `TIOCGPKT`: read whether packet mode is on.
pub const TIOCGPKT: u32 = 0x8004_5438;
/// `TIOCGPTLCK`: read whether the slave is locked.
pub const TIOCGPTLCK: u32 = 0x8004_5439;
/// `TIOCGEXCL`: read whether the terminal is in exclusive mode.
pub const TIOCGEXCL: u32 = 0x8004_5440;
/// `TIOCPKT_DATA`: a packet-mode read's leading byte for data.
pub const TIOCPKT_DATA: u8 = 0;
/// `TIOCPKT_FLUSHREAD`: packet-mode status: the input queue was flushed.
pub const TIOCPKT_FLUSHREAD: u8 = 1;
/// `TIOCPKT_FLUSHWRITE`: packet-mode status: the output queue was flushed.
pub const TIOCPKT_FLUSHWRITE: u8 = 2;
/// `TCIFLUSH`: `TCFLSH` discards the input queue.
pub const TCIFLUSH: u64 = 0;
/// `TCOFLUSH`: `TCFLSH` discards the output queue.
pub const TCOFLUSH: u64 = 1;
/// `TCIOFLUSH`: `TCFLSH` discards both.
pub const TCIOFLUSH: u64 = 2;

/// `c_iflag` `ISTRIP`: strip the eighth bit.
pub const ISTRIP: u32 = 0x20;
/// `c_iflag` `INLCR`: translate NL to CR on input.
pub const INLCR: u32 = 0x40;
/// `c_iflag` `IGNCR`: ignore CR on input.
pub const IGNCR: u32 = 0x80;
/// `c_iflag` `ICRNL`: translate CR to NL on input.
pub const ICRNL: u32 = 0x100;
/// `c_iflag` `IXON`: XON/XOFF flow control on output.
pub const IXON: u32 = 0x400;
/// `c_oflag` `OPOST`: process output.
pub const OPOST: u32 = 0x1;
/// `c_oflag` `ONLCR`: translate NL to CR-NL on output.
pub const ONLCR: u32 = 0x4;
/// `c_oflag` `OCRNL`: translate CR to NL on output.
pub const OCRNL: u32 = 0x8;
/// `c_oflag` `ONOCR`: output no CR in column 0.
pub const ONOCR: u32 = 0x10;
/// `c_oflag` `ONLRET`: NL performs the CR function.
pub const ONLRET: u32 = 0x20;
/// `c_cflag` `B38400`: the pseudo-terminal's nominal speed.
pub const B38400: u32 = 0xf;
/// `c_cflag` `CS8`: eight-bit characters.
pub const CS8: u32 = 0x30;
/// `c_cflag` `CREAD`: enable the receiver.
pub const CREAD: u32 = 0x80;
/// `c_lflag` `ISIG`: INTR, QUIT and SUSP generate signals.
pub const ISIG: u32 = 0x1;
/// `c_lflag` `ICANON`: canonical (line-editing) input.
pub const ICANON: u32 = 0x2;
/// `c_lflag` `ECHO`: echo input.
pub const ECHO: u32 = 0x8;
/// `c_lflag` `ECHOE`: ERASE erases the previous character on screen.
pub const ECHOE: u32 = 0x10;
/// `c_lflag` `ECHOK`: KILL echoes a newline.
pub const ECHOK: u32 = 0x20;
/// `c_lflag` `ECHONL`: echo NL even without `ECHO`.
pub const ECHONL: u32 = 0x40;
/// `c_lflag` `NOFLSH`: do not flush the queues on a signal character.
pub const NOFLSH: u32 = 0x80;
/// `c_lflag` `TOSTOP`: background process groups writing get `SIGTTOU`.
pub const TOSTOP: u32 = 0x100;
/// `c_lflag` `ECHOCTL`: echo control characters as `^X`.
pub const ECHOCTL: u32 = 0x200;
/// `c_lflag` `ECHOKE`: KILL erases the line on screen.
pub const ECHOKE: u32 = 0x800;
/// `c_lflag` `IEXTEN`: the extended characters (WERASE, LNEXT, REPRINT).
pub const IEXTEN: u32 = 0x8000;

/// `c_cc` index of the interrupt character (`^C`: `SIGINT`).
pub const VINTR: usize = 0;
/// `c_cc` index of the quit character (`^\`: `SIGQUIT`).
pub const VQUIT: usize = 1;
/// `c_cc` index of the erase character.
pub const VERASE: usize = 2;
/// `c_cc` index of the kill-line character.
pub const VKILL: usize = 3;
/// `c_cc` index of the end-of-file character.
pub const VEOF: usize = 4;
/// `c_cc` index of the non-canonical read timeout.
pub const VTIME: usize = 5;
/// `c_cc` index of the non-canonical read minimum.
pub const VMIN: usize = 6;
/// `c_cc` index of the start character.
pub const VSTART: usize = 8;
/// `c_cc` index of the stop character.
pub const VSTOP: usize = 9;
/// `c_cc` index of the suspend character (`^Z`: `SIGTSTP`).
pub const VSUSP: usize = 10;
/// `c_cc` index of the extra end-of-line character.
pub const VEOL: usize = 11;
/// `c_cc` index of the reprint character.
pub const VREPRINT: usize = 12;
/// `c_cc` index of the discard character.
pub const VDISCARD: usize = 13;
/// `c_cc` index of the word-erase character.
pub const VWERASE: usize = 14;
/// `c_cc` index of the literal-next character.
pub const VLNEXT: usize = 15;
/// `c_cc` index of the second extra end-of-line character.
pub const VEOL2: usize = 16;

impl Termios {
    /// A new pseudo-terminal's settings, as Linux's `tty_std_termios`:
    /// `ICRNL | IXON`, `OPOST | ONLCR`, `B38400 | CS8 | CREAD`, canonical
    /// mode with echo and signals, and the usual control characters.
    pub const fn default_pty() -> Self {
        Self {
            c_iflag: ICRNL | IXON,
            c_oflag: OPOST | ONLCR,
            c_cflag: B38400 | CS8 | CREAD,
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            c_line: 0,
            c_cc: [
                3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0,
            ],
        }
    }
}
