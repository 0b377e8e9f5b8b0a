//! The line discipline (Linux's `n_tty`, gVisor's
//! `fsimpl/devpts/line_discipline.go`): what happens to bytes between a
//! pseudo-terminal's master and its replica.
//!
//! Input (written to the master) is translated (`ICRNL`, `INLCR`,
//! `IGNCR`, `ISTRIP`), turned into signals (`ISIG`: INTR, QUIT, SUSP),
//! edited into lines (`ICANON`: ERASE, WERASE, KILL, EOF, LNEXT, EOL)
//! and echoed (`ECHO`, `ECHOE`, `ECHOK`, `ECHOKE`, `ECHONL`, `ECHOCTL`).
//! Output (written to the replica) is translated under `OPOST` (`ONLCR`,
//! `OCRNL`, `ONOCR`, `ONLRET`). This type holds no locks and does no I/O:
//! the terminal feeds it and moves what it returns.

use std::collections::VecDeque;

use abi_linux::tty::*;

/// The longest canonical line (Linux's `N_TTY_BUF_SIZE` less the
/// terminator); characters past it are dropped.
pub const MAX_LINE: usize = 4095;

/// The most input bytes waiting to be read before master writes wait.
pub const MAX_INPUT: usize = 65536;

/// What processing input produced besides readable bytes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Bytes to show on the master side (echo).
    pub echo: Vec<u8>,
    /// A signal for the foreground process group (`ISIG`).
    pub signals: Vec<i32>,
}

/// The line discipline's state.
#[derive(Debug)]
pub struct LineDiscipline {
    termios: Termios,
    /// Complete input, readable now.
    ready: VecDeque<u8>,
    /// The lengths of the complete canonical lines in `ready`, in order;
    /// a zero length is an end-of-file mark.
    lines: VecDeque<usize>,
    /// The canonical line being edited.
    line: Vec<u8>,
    /// The next character is taken literally (after LNEXT).
    literal: bool,
}

impl Default for LineDiscipline {
    fn default() -> Self {
        Self {
            termios: Termios::default_pty(),
            ready: VecDeque::new(),
            lines: VecDeque::new(),
            line: Vec::new(),
            literal: false,
        }
    }
}

fn is_ctl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

impl LineDiscipline {
    /// The settings.
    pub fn termios(&self) -> Termios {
        self.termios
    }

    fn lflag(&self, f: u32) -> bool {
        self.termios.c_lflag & f != 0
    }

    fn iflag(&self, f: u32) -> bool {
        self.termios.c_iflag & f != 0
    }

    fn canonical(&self) -> bool {
        self.lflag(ICANON)
    }

    /// Changes the settings. Leaving canonical mode makes the line being
    /// edited readable; entering it treats what is readable as one line.
    pub fn set_termios(&mut self, t: Termios) {
        let was = self.canonical();
        self.termios = t;
        match (was, self.canonical()) {
            (true, false) => {
                self.ready.extend(self.line.drain(..));
                self.lines.clear();
            }
            (false, true) => {
                self.lines.clear();
                if !self.ready.is_empty() {
                    self.lines.push_back(self.ready.len());
                }
            }
            _ => {}
        }
    }

    /// Discards unread input (`TCFLSH`, a signal character).
    pub fn flush_input(&mut self) {
        self.ready.clear();
        self.lines.clear();
        self.line.clear();
    }

    /// The bytes a read could take now (`FIONREAD`).
    pub fn readable_len(&self) -> usize {
        if self.canonical() {
            self.lines.iter().sum()
        } else {
            self.ready.len()
        }
    }

    /// Whether a read would return now (data, or an end-of-file mark).
    pub fn readable(&self) -> bool {
        if self.canonical() {
            !self.lines.is_empty()
        } else {
            !self.ready.is_empty()
                || (self.termios.c_cc[VMIN] == 0 && self.termios.c_cc[VTIME] == 0)
        }
    }

    /// Whether more input fits.
    pub fn has_room(&self) -> bool {
        self.ready.len() + self.line.len() < MAX_INPUT
    }

    /// Takes up to `max` bytes for a read of the replica: one line (or
    /// its first `max` bytes) in canonical mode, where an end-of-file
    /// mark reads as zero bytes; what there is otherwise. `None` when the
    /// read must wait.
    pub fn read(&mut self, max: usize) -> Option<Vec<u8>> {
        if self.canonical() {
            let len = *self.lines.front()?;
            let n = len.min(max);
            if n == len {
                self.lines.pop_front();
            } else if let Some(first) = self.lines.front_mut() {
                *first -= n;
            }
            return Some(self.ready.drain(..n).collect());
        }
        if self.ready.is_empty() {
            // VMIN 0 and VTIME 0: a read returns at once, empty.
            let polling = self.termios.c_cc[VMIN] == 0 && self.termios.c_cc[VTIME] == 0;
            return polling.then(Vec::new);
        }
        let n = self.ready.len().min(max);
        Some(self.ready.drain(..n).collect())
    }

    /// Processes bytes written to the master, until input is full;
    /// returns how many were taken.
    pub fn input(&mut self, data: &[u8], fx: &mut Effects) -> usize {
        let mut taken = 0;
        for &byte in data {
            if !self.has_room() {
                break;
            }
            self.input_byte(byte, fx);
            taken += 1;
        }
        taken
    }

    fn input_byte(&mut self, mut c: u8, fx: &mut Effects) {
        if self.iflag(ISTRIP) {
            c &= 0x7f;
        }
        if self.literal {
            self.literal = false;
            self.store(c, fx);
            return;
        }
        if c == b'\r' {
            if self.iflag(IGNCR) {
                return;
            }
            if self.iflag(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && self.iflag(INLCR) {
            c = b'\r';
        }
        let cc = self.termios.c_cc;
        let matches = |i: usize| cc[i] != 0 && cc[i] == c;
        if self.lflag(ISIG) {
            let signal = if matches(VINTR) {
                Some(abi_linux::Signal::SIGINT.0)
            } else if matches(VQUIT) {
                Some(abi_linux::Signal::SIGQUIT.0)
            } else if matches(VSUSP) {
                Some(abi_linux::Signal::SIGTSTP.0)
            } else {
                None
            };
            if let Some(signal) = signal {
                if !self.lflag(NOFLSH) {
                    self.flush_input();
                }
                if self.lflag(ECHO) {
                    self.echo_char(c, fx);
                }
                fx.signals.push(signal);
                return;
            }
        }
        if self.lflag(IEXTEN) && matches(VLNEXT) {
            self.literal = true;
            if self.lflag(ECHO) && self.lflag(ECHOCTL) {
                fx.echo.extend_from_slice(b"^\x08");
            }
            return;
        }
        if !self.canonical() {
            self.store(c, fx);
            return;
        }
        if matches(VERASE) || (self.lflag(IEXTEN) && matches(VWERASE)) {
            let word = !matches(VERASE);
            self.erase(word, fx);
            return;
        }
        if matches(VKILL) {
            self.kill_line(fx);
            return;
        }
        if matches(VEOF) {
            self.finish_line();
            return;
        }
        if self.lflag(IEXTEN) && matches(VREPRINT) {
            if self.lflag(ECHO) {
                self.echo_char(c, fx);
                fx.echo.push(b'\n');
                let line = self.line.clone();
                for b in line {
                    self.echo_char(b, fx);
                }
            }
            return;
        }
        if c == b'\n' || matches(VEOL) || (self.lflag(IEXTEN) && matches(VEOL2)) {
            if self.lflag(ECHO) || (c == b'\n' && self.lflag(ECHONL)) {
                self.echo_char(c, fx);
            }
            self.line.push(c);
            self.finish_line();
            return;
        }
        self.store(c, fx);
    }

    /// Adds an ordinary character to the line (or to the readable input
    /// outside canonical mode), echoing it.
    fn store(&mut self, c: u8, fx: &mut Effects) {
        if self.canonical() {
            if self.line.len() >= MAX_LINE {
                return;
            }
            self.line.push(c);
        } else {
            self.ready.push_back(c);
        }
        if self.lflag(ECHO) {
            self.echo_char(c, fx);
        }
    }

    fn finish_line(&mut self) {
        let len = self.line.len();
        self.ready.extend(self.line.drain(..));
        self.lines.push_back(len);
    }

    /// Echoes `c`, control characters as `^X` under `ECHOCTL`.
    fn echo_char(&self, c: u8, fx: &mut Effects) {
        if is_ctl(c) && c != b'\n' && c != b'\t' && self.lflag(ECHOCTL) {
            fx.echo.push(b'^');
            fx.echo.push(c ^ 0x40);
        } else {
            fx.echo.push(c);
        }
    }

    /// The columns `c` took when echoed.
    fn width(&self, c: u8) -> usize {
        if is_ctl(c) && c != b'\t' && self.lflag(ECHOCTL) {
            2
        } else {
            1
        }
    }

    fn rub_out(&self, c: u8, fx: &mut Effects) {
        for _ in 0..self.width(c) {
            fx.echo.extend_from_slice(b"\x08 \x08");
        }
    }

    /// ERASE (or WERASE with `word`): removes the last character (or
    /// word) of the line, rubbing it out on screen under `ECHOE`.
    fn erase(&mut self, word: bool, fx: &mut Effects) {
        let echo = self.lflag(ECHO) && self.lflag(ECHOE);
        let mut seen_word = false;
        while let Some(&c) = self.line.last() {
            if word {
                let space = c == b' ' || c == b'\t';
                if space && seen_word {
                    break;
                }
                seen_word |= !space;
            }
            self.line.pop();
            if echo {
                self.rub_out(c, fx);
            }
            if !word {
                break;
            }
        }
    }

    /// KILL: discards the line; `ECHOKE` rubs it out, `ECHOK` echoes a
    /// newline.
    fn kill_line(&mut self, fx: &mut Effects) {
        if !self.lflag(ECHO) {
            self.line.clear();
            return;
        }
        if self.lflag(ECHOKE) && self.lflag(ECHOE) {
            let line = std::mem::take(&mut self.line);
            for &c in line.iter().rev() {
                self.rub_out(c, fx);
            }
        } else {
            let c = self.termios.c_cc[VKILL];
            self.echo_char(c, fx);
            if self.lflag(ECHOK) {
                fx.echo.push(b'\n');
            }
            self.line.clear();
        }
    }

    /// Translates bytes written to the replica (or echoed) for the
    /// master under `OPOST`, appending to `out`. `column` tracks the
    /// cursor for `ONOCR`.
    pub fn output(&self, data: &[u8], column: &mut usize, out: &mut VecDeque<u8>) {
        let oflag = self.termios.c_oflag;
        if oflag & OPOST == 0 {
            out.extend(data);
            return;
        }
        for &c in data {
            match c {
                b'\n' => {
                    if oflag & ONLCR != 0 {
                        out.push_back(b'\r');
                        *column = 0;
                    }
                    if oflag & ONLRET != 0 {
                        *column = 0;
                    }
                    out.push_back(b'\n');
                }
                b'\r' => {
                    if oflag & ONOCR != 0 && *column == 0 {
                        continue;
                    }
                    if oflag & OCRNL != 0 {
                        out.push_back(b'\n');
                        if oflag & ONLRET != 0 {
                            *column = 0;
                        }
                    } else {
                        out.push_back(b'\r');
                        *column = 0;
                    }
                }
                b'\x08' => {
                    *column = column.saturating_sub(1);
                    out.push_back(c);
                }
                _ => {
                    if !is_ctl(c) {
                        *column += 1;
                    }
                    out.push_back(c);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(ld: &mut LineDiscipline, data: &[u8]) -> Effects {
        let mut fx = Effects::default();
        assert_eq!(ld.input(data, &mut fx), data.len());
        fx
    }

    fn echoed(ld: &LineDiscipline, fx: &Effects) -> Vec<u8> {
        let mut out = VecDeque::new();
        ld.output(&fx.echo, &mut 0, &mut out);
        out.into_iter().collect()
    }

    #[test]
    fn canonical_lines_are_edited_and_echoed() {
        let mut ld = LineDiscipline::default();
        let fx = feed(&mut ld, b"helo\x7f\x7fllo wor\x17world\r");
        assert_eq!(ld.read(100).as_deref(), Some(&b"hello world\n"[..]));
        assert_eq!(
            echoed(&ld, &fx),
            b"helo\x08 \x08\x08 \x08llo wor\x08 \x08\x08 \x08\x08 \x08world\r\n"
        );
        assert_eq!(ld.read(100), None);
    }

    #[test]
    fn a_partial_line_waits_and_eof_reads_empty() {
        let mut ld = LineDiscipline::default();
        feed(&mut ld, b"abc");
        assert!(!ld.readable());
        feed(&mut ld, b"\x04\x04");
        assert_eq!(ld.read(2).as_deref(), Some(&b"ab"[..]));
        assert_eq!(ld.read(10).as_deref(), Some(&b"c"[..]));
        assert_eq!(ld.read(10).as_deref(), Some(&b""[..]));
        assert_eq!(ld.read(10), None);
    }

    #[test]
    fn signal_characters_flush_and_signal() {
        let mut ld = LineDiscipline::default();
        let fx = feed(&mut ld, b"partial\x03");
        assert_eq!(fx.signals, vec![abi_linux::Signal::SIGINT.0]);
        assert!(fx.echo.ends_with(b"^C"));
        assert_eq!(ld.readable_len(), 0);
        let fx = feed(&mut ld, b"\x1a\x1c");
        assert_eq!(
            fx.signals,
            vec![abi_linux::Signal::SIGTSTP.0, abi_linux::Signal::SIGQUIT.0]
        );
    }

    #[test]
    fn raw_mode_passes_bytes_through() {
        let mut ld = LineDiscipline::default();
        let mut t = ld.termios();
        t.c_lflag &= !(ICANON | ECHO | ISIG);
        t.c_iflag &= !ICRNL;
        ld.set_termios(t);
        let fx = feed(&mut ld, b"a\x03\r\x7f");
        assert!(fx.echo.is_empty() && fx.signals.is_empty());
        assert_eq!(ld.read(2).as_deref(), Some(&b"a\x03"[..]));
        assert_eq!(ld.read(9).as_deref(), Some(&b"\r\x7f"[..]));
        assert_eq!(ld.read(9), None);
        t.c_cc[VMIN] = 0;
        ld.set_termios(t);
        assert_eq!(ld.read(9).as_deref(), Some(&b""[..]));
    }

    #[test]
    fn kill_literal_next_and_line_limit() {
        let mut ld = LineDiscipline::default();
        feed(&mut ld, b"junk\x15ok\x16\x03\n");
        assert_eq!(ld.read(100).as_deref(), Some(&b"ok\x03\n"[..]));
        feed(&mut ld, &vec![b'x'; MAX_LINE + 10]);
        feed(&mut ld, b"\n");
        assert_eq!(ld.read(usize::MAX).map(|l| l.len()), Some(MAX_LINE + 1));
    }

    #[test]
    fn output_translation() {
        let ld = LineDiscipline::default();
        let mut out = VecDeque::new();
        ld.output(b"a\nb\r", &mut 0, &mut out);
        assert_eq!(out.iter().copied().collect::<Vec<u8>>(), b"a\r\nb\r");
    }
}
