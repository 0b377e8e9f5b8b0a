//! Pseudo-terminals: `/dev/ptmx` and devpts, the line discipline,
//! controlling terminals and job control, with real programs (Python's
//! `pty` and `termios`, util-linux's `script`, an interactive bash) and a
//! C program for the ioctls and hang-ups. Each runs natively and in the
//! sentry on both platforms; output and exit status must match. Terminal
//! numbers are not compared: natively they depend on what else holds a
//! terminal on the host.

pub mod common;
use common::native::{c_program, missing, same_as_native, work_dir};

#[test]
fn pty_ioctls_sessions_and_hangups() {
    c_program("pty");
}

/// A pty pair from Python: default settings, names, window size, line
/// editing with echo, output translation, and EIO once the replica goes.
#[test]
fn python_openpty_and_the_line_discipline() {
    let script = "import os, termios, struct, fcntl\n\
        m, s = os.openpty()\n\
        a = termios.tcgetattr(s)\n\
        print([hex(x) for x in a[:4]], a[4], a[5], [c if isinstance(c, int) else ord(c) for c in a[6]][:17])\n\
        name = os.ttyname(s)\n\
        print(name.rstrip('0123456789'), oct(os.stat(name).st_mode), os.isatty(s), os.isatty(m))\n\
        fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))\n\
        print(struct.unpack('HHHH', fcntl.ioctl(s, termios.TIOCGWINSZ, b'\\0' * 8)))\n\
        os.write(m, b'hello\\rwor\\x7fld\\n')\n\
        print(os.read(s, 100), os.read(m, 100))\n\
        os.write(s, b'out\\n')\n\
        print(os.read(m, 100))\n\
        os.close(s)\n\
        try:\n    os.read(m, 100)\nexcept OSError as e:\n    print('master read after the replica closed:', e.errno)\n";
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// `pty.spawn` runs a shell whose standard I/O is the terminal.
#[test]
fn python_pty_spawn() {
    let script = "import os, pty\n\
        os.dup2(os.open('/dev/null', os.O_RDONLY), 0)\n\
        print(pty.spawn(['/bin/sh', '-c', 'tty | tr -d 0-9; stty size; stty -a | head -3; echo done']))\n";
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// util-linux's `script` records a command run on a new terminal.
#[test]
fn script_runs_a_command_on_a_terminal() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        missing("script", true);
        return;
    }
    same_as_native(
        &[
            "/bin/sh",
            "-c",
            "script -qc 'tty | tr -d 0-9; stty -a; echo $?' /dev/null < /dev/null",
        ],
        &[("PATH", "/usr/bin:/bin")],
    );
}

/// The start of a Python driver that runs an interactive bash behind a
/// pty (`expect` waits for text, `send` types); each test appends its
/// steps.
const BASH_UNDER_PTY: &str = r#"import os, pty, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execve('/bin/bash', ['bash', '--norc', '--noprofile', '-i'],
              {'PS1': 'PROMPT$ ', 'TERM': 'dumb', 'PATH': '/usr/bin:/bin'})
buf = b''
def expect(s, timeout=30):
    global buf
    end = time.time() + timeout
    while s.encode() not in buf:
        left = end - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return False
            if not data:
                return False
            buf += data
    buf = buf[buf.index(s.encode()) + len(s):]
    return True
def send(s):
    os.write(fd, s.encode())
print('prompt', expect('PROMPT$ '))
"#;

/// Runs [`BASH_UNDER_PTY`] followed by `steps` natively and in the
/// sentry; the printed outcomes must match.
fn bash_under_pty(name: &str, steps: &str) {
    let path = work_dir().join(format!("bash-pty-{name}-{}.py", std::process::id()));
    std::fs::write(&path, format!("{BASH_UNDER_PTY}{steps}")).unwrap();
    same_as_native(&["/usr/bin/python3", path.to_str().unwrap()], &[]);
    let _ = std::fs::remove_file(&path);
}

/// An interactive bash behind a pty: line editing, EOF to `cat`, ^C to
/// the foreground job, ^Z stopping it, `jobs` and `kill %1`.
#[test]
fn interactive_bash_with_job_control() {
    bash_under_pty(
        "fg",
        r#"send('echo $((6*7))\r'); print('arith', expect('42\r\n'), expect('PROMPT$ '))
send('cat\r'); time.sleep(0.5); send('abc\r'); print('cat line', expect('abc\r\nabc\r\n'))
send('\x04'); print('cat eof', expect('PROMPT$ '))
send('sleep 30\r'); time.sleep(0.5); send('\x03'); print('ctrl-c', expect('PROMPT$ '))
send('echo rc=$?\r'); print('status after ^C', expect('rc=130'), expect('PROMPT$ '))
send('sleep 30\r'); time.sleep(0.5); send('\x1a'); print('ctrl-z', expect('Stopped'), expect('PROMPT$ '))
send('jobs\r'); print('jobs', expect('sleep 30'), expect('PROMPT$ '))
send('kill -9 %1\r'); print('kill job', expect('PROMPT$ '))
send('tty; [ -t 0 ] && echo interactive\r'); print('tty', expect('/dev/pts/'), expect('interactive'))
send('exit\r')
print('exit status', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"#,
    );
}

/// Background jobs and the terminal (Linux's `tty_check_change`): a
/// background reader stops on SIGTTIN until `fg`; a writer stops on
/// SIGTTOU only under `stty tostop`; a background `stty` change stops;
/// with SIGTTIN ignored the read fails with EIO, with SIGTTOU ignored
/// the change goes through.
#[test]
fn background_jobs_stop_on_terminal_reads_writes_and_changes() {
    bash_under_pty(
        "bg",
        r#"send('cat &\r'); print('started', expect('PROMPT$ '))
time.sleep(0.5); send('\r'); print('reader stopped', expect('Stopped'), expect('cat'), expect('PROMPT$ '))
send('fg\r'); time.sleep(0.5); send('xyz\r'); print('fg reads', expect('xyz\r\nxyz\r\n'))
send('\x04'); print('fg eof', expect('PROMPT$ '))
send('stty tostop; echo tostop-out &\r'); time.sleep(0.5); send('\r'); print('writer stopped', expect('Stopped'), expect('PROMPT$ '))
send('stty -tostop; fg\r'); print('writer continues', expect('tostop-out'), expect('PROMPT$ '))
send('echo plain-out &\r'); print('writes without tostop', expect('plain-out'), expect('PROMPT$ '))
send('stty sane &\r'); time.sleep(0.5); send('\r'); print('stty stopped', expect('Stopped'), expect('PROMPT$ '))
send('kill -9 %stty\r'); print('killed', expect('PROMPT$ '))
send("(trap '' TTIN; cat; echo rc=$?) &\r"); time.sleep(0.5); send('\r'); print('ignored TTIN', expect('Input/output error'), expect('rc=1'))
send('wait; echo waited\r'); print('wait', expect('waited'), expect('PROMPT$ '))
send("(trap '' TTOU; stty tostop; echo ignored-ttou; stty -tostop) &\r"); time.sleep(0.5); send('\r'); print('ignored TTOU', expect('ignored-ttou'))
send('wait; echo waited\r'); print('wait', expect('waited'), expect('PROMPT$ '))
send('echo jobs=$(jobs | wc -l)\r'); print('jobs left', expect('jobs=0'), expect('PROMPT$ '))
send('exit\r')
print('exit status', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"#,
    );
}

/// Escape test for the devpts mount and `/dev/tty`: with a host
/// terminal open, the sandbox lists only its own terminals in
/// `/dev/pts`, cannot open the host's by number, and a new sandbox
/// terminal does not take over the host's.
#[test]
fn the_sandbox_sees_none_of_the_hosts_terminals() {
    use std::os::fd::AsRawFd;
    let host = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/ptmx")
        .expect("host /dev/ptmx");
    let mut index: u32 = 0;
    // SAFETY: TIOCGPTN writes one unsigned int to `index`.
    let r = unsafe { libc::ioctl(host.as_raw_fd(), libc::TIOCGPTN, &mut index) };
    assert_eq!(r, 0, "TIOCGPTN on the host");
    let script = format!(
        "ls /dev/pts; cat /dev/pts/{index} 2>/dev/null || echo host terminal {index} not reachable; \
         python3 -c \"import os; m, s = os.openpty(); print(os.ttyname(s))\"; ls /dev/pts"
    );
    for platform in common::native::platforms() {
        let out = common::run_limited(
            std::process::Command::new(env!("CARGO_BIN_EXE_sentry"))
                .args(["run", "--platform", platform, "--rootfs", "/", "--"])
                .args(["/bin/sh", "-c", &script]),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text,
            format!("ptmx\nhost terminal {index} not reachable\n/dev/pts/0\nptmx\n"),
            "on {platform}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    drop(host);
}
