//! Signals as Linux queues and hands them over: a C program that queues,
//! waits for and handles signals runs natively and in the sentry on both
//! platforms; output and exit status must match.

pub mod common;
use common::native::{c_program, same_as_native};

#[test]
fn realtime_signals_queue_with_values_and_waits_take_them_in_order() {
    c_program("queued_signals");
}

#[test]
fn handlers_read_and_edit_the_fpu_state_and_mask_in_their_frame() {
    c_program("signal_frames");
}

#[test]
fn alternate_stacks_arm_disarm_and_rearm_as_linux_does() {
    c_program("altstack");
}

#[test]
fn signalfd_reads_pending_signals_as_records() {
    c_program("signalfd");
}

#[test]
fn stop_and_continue_are_reported_to_the_parent() {
    c_program("stop_continue");
}

#[test]
fn python_waits_for_queued_signals() {
    let script = "import os, signal\n\
        rt = signal.SIGRTMIN\n\
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, rt])\n\
        for s in (rt, rt, signal.SIGUSR1, signal.SIGUSR1): os.kill(os.getpid(), s)\n\
        print(sorted(int(s) for s in signal.sigpending()))\n\
        while True:\n    i = signal.sigtimedwait([signal.SIGUSR1, rt], 0)\n    \
        if i is None: break\n    \
        print(i.si_signo, i.si_code, i.si_pid == os.getpid())\n\
        print(signal.sigtimedwait([signal.SIGUSR1], 0.02))\n";
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

#[test]
fn cpu_time_is_accounted_to_threads_processes_and_children() {
    c_program("rusage");
}

/// The terminal stop signals are discarded in an orphaned process group
/// (a new session's) and stop a process group that is not orphaned;
/// SIGSTOP stops either.
#[test]
fn terminal_stop_signals_spare_orphaned_process_groups() {
    let script = r#"import os, signal
def run(setup, *signals):
    pid = os.fork()
    if pid == 0:
        setup()
        for s in signals:
            os.kill(os.getpid(), s)
        os._exit(7)
    _, st = os.waitpid(pid, os.WUNTRACED)
    if os.WIFSTOPPED(st):
        print('stopped by', signal.Signals(os.WSTOPSIG(st)).name)
        os.kill(pid, signal.SIGCONT)
        _, st = os.waitpid(pid, 0)
    print('exit', os.waitstatus_to_exitcode(st))
run(os.setsid, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
run(lambda: os.setpgid(0, 0), signal.SIGTSTP)
run(os.setsid, signal.SIGSTOP)
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// A process group orphaned by its last link's exit while a member is
/// stopped gets SIGHUP and SIGCONT (the stopped child dies of SIGHUP);
/// one still linked to its session stays stopped.
#[test]
fn an_orphaned_stopped_process_group_is_hung_up() {
    let script = r#"import os, signal, ctypes
libc = ctypes.CDLL(None)
libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come here
def run(new_session):
    r, w = os.pipe()
    p = os.fork()
    if p == 0:
        if new_session:
            os.setsid()
        c = os.fork()
        if c == 0:
            os.setpgid(0, 0)
            os.kill(os.getpid(), signal.SIGSTOP)
            os._exit(5)
        _, st = os.waitpid(c, os.WUNTRACED)
        os.write(w, b'%d %d' % (c, os.WIFSTOPPED(st)))
        os._exit(0)
    c, stopped = map(int, os.read(r, 100).split())
    os.waitpid(p, 0)
    # Its stop was reported to the parent that just exited: look at its
    # state instead. A hung-up child is a zombie (Z) or gone soon.
    import time
    for _ in range(200):
        try:
            state = open('/proc/%d/stat' % c).read().rsplit(')', 1)[1].split()[0]
        except FileNotFoundError:
            state = 'gone'
        if state != 'T':
            break
        time.sleep(0.01)
    if state == 'T':
        print('still stopped; killing it')
        os.kill(c, signal.SIGKILL)
    _, st = os.waitpid(c, 0)
    how = signal.Signals(os.WTERMSIG(st)).name if os.WIFSIGNALED(st) else os.WEXITSTATUS(st)
    print('new session' if new_session else 'same session', 'stopped', stopped, 'ended by', how)
run(True)
run(False)
"#;
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// Runs `exe` in the sandbox on `platform`, with the host's root.
fn in_sandbox(platform: &str, exe: &std::path::Path) -> std::process::Output {
    common::run_limited(
        std::process::Command::new(env!("CARGO_BIN_EXE_sentry"))
            .args(["run", "--platform", platform, "--rootfs", "/", "--"])
            .arg(exe),
    )
}

/// `int 0x80` (a 32-bit system call) raises SIGSEGV in the sandbox on
/// both platforms, as on a Linux without IA32 emulation; natively this
/// host runs it, so the expected output is the sandbox's own contract.
#[test]
fn int_0x80_raises_sigsegv_on_both_platforms() {
    let Some(exe) = common::native::build("int80") else {
        return;
    };
    for platform in common::native::platforms() {
        let out = in_sandbox(platform, &exe);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "int 0x80: -38, SIGSEGV code 0x80 at the instruction 1\n",
            "{platform}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{platform}");
    }
}

/// Escape test for the seccomp platform's stub: a process that jumps to
/// the stub's own `rt_sigreturn` with a forged frame blocking every host
/// signal, then spins without system calls, still dies when killed (its
/// stub is killed after a grace period), and the sandbox ends. On
/// ptrace the forged call reaches the sentry like any other.
#[test]
fn a_forged_stub_sigreturn_cannot_make_a_process_unkillable() {
    let Some(exe) = common::native::build("forged_sigreturn") else {
        return;
    };
    for platform in common::native::platforms() {
        let out = in_sandbox(platform, &exe);
        let text = String::from_utf8_lossy(&out.stdout);
        let expected = if platform == "seccomp" {
            &["child killed by 9\n"][..]
        } else {
            &[
                "child killed by 9\n",
                "no stub code found: nothing to forge\n",
            ][..]
        };
        assert!(
            expected.contains(&text.as_ref()),
            "{platform}: {text:?} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{platform}");
    }
}

/// Core dumps: under `ulimit -c unlimited` a fault and `abort` write a
/// core file in the working directory and the wait status has the core
/// bit; gdb reads the markers in data, heap and the call stack from it;
/// under `ulimit -c 0`, or a limit below a page, nothing is written; a
/// limit that cuts the dump short leaves a partial core and the bit. A
/// signal sent by another process (`kill -QUIT`) dumps too, and so does
/// a process with 64 GiB of untouched reservation, at once. gdb runs inside the sandbox on its
/// core and natively on the native one.
#[test]
fn core_dumps_are_written_and_read_by_gdb() {
    if std::process::Command::new("gdb")
        .arg("--version")
        .output()
        .is_err()
    {
        common::native::missing("gdb (Debian's gdb)", true);
        return;
    }
    let Some(crash) = common::native::build("crash") else {
        return;
    };
    let crash = crash.to_str().unwrap();
    let Some(big) = common::native::build("big_reservation") else {
        return;
    };
    let big = big.to_str().unwrap();
    let script = format!(
        "d=$(mktemp -d /tmp/core.XXXXXX); cd $d; ulimit -c unlimited\n\
         status() {{ perl -e 'system(@ARGV); printf \"signal %d core %d\\n\", $? & 127, ($? & 128) >> 7' \"$@\"; }}\n\
         status {crash}; ls core\n\
         gdb -batch -nx -ex 'print (long)global_marker' -ex 'print (char *)heap_marker' -ex bt {crash} core 2>/dev/null \
           | grep -o '= 42424242\\|heap says hello\\|crash_here\\|in main' | uniq\n\
         rm core; status {crash} a; ls core; gdb -batch -nx -ex bt {crash} core 2>/dev/null | grep -o 'abort\\|in main' | sort -u\n\
         rm core; status sh -c 'kill -QUIT $$'; ls core; rm core\n\
         status {big}; ls core; rm core\n\
         (ulimit -c 0; status {crash}); ls core 2>/dev/null || echo no core\n\
         (ulimit -c 2; status {crash}); ls core 2>/dev/null || echo no core below a page\n\
         (ulimit -c 100; status {crash}); ls -s --block-size=K core; rm core\n\
         cd /; rm -rf $d\n"
    );
    same_as_native(
        &["/bin/bash", "-c", &script],
        &[("PATH", "/usr/bin:/bin"), ("HOME", "/tmp")],
    );
}
