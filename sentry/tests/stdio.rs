//! Standard I/O on host files loses no output: the sandbox's stdout and
//! stderr share their file offset with the host's open file description,
//! so a shell that writes to the same file before and after the sandbox
//! sees every byte in order, as it does with a native program.
//!
//! Each case runs one host shell script twice, with `$S` empty (the
//! programs run natively) and with `$S` the sentry (`run --rootfs /`,
//! the host's root served read-only by a gofer), with stdout and stderr
//! on a regular file, and compares the resulting files byte for byte and
//! the exit statuses. Skipped with a message where the host refuses
//! ptrace (the platform the sentry picks then cannot run either).

use std::path::PathBuf;
use std::process::Command;

pub mod common;
use common::{ptrace_available, run_limited};

/// A scratch directory for one case, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `script` with `sh` in a fresh directory, `$S` set to `prefix`;
/// returns the exit status and the contents of every file the script
/// left there, by name.
fn run_case(name: &str, prefix: &str, script: &str) -> (i32, Vec<(String, Vec<u8>)>) {
    let dir = std::env::temp_dir().join(format!(
        "sentry-stdio-{}-{name}-{}",
        std::process::id(),
        if prefix.is_empty() {
            "native"
        } else {
            "sandbox"
        }
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let scratch = Scratch(dir);
    let out = run_limited(
        Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .current_dir(&scratch.0)
            .env("S", prefix),
    );
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&scratch.0)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    (out.status.code().unwrap_or(-1), files)
}

/// Runs `script` natively and through the sentry and requires the same
/// files and exit status.
fn same_as_native(name: &str, script: &str) {
    if !ptrace_available() {
        eprintln!("skipped: the host refuses ptrace");
        return;
    }
    let sentry = format!("{} run --rootfs / --", env!("CARGO_BIN_EXE_sentry"));
    let native = run_case(name, "", script);
    let sandboxed = run_case(name, &sentry, script);
    assert!(
        !native.1.is_empty(),
        "the script left no file to compare: {script}"
    );
    let show = |r: &(i32, Vec<(String, Vec<u8>)>)| {
        r.1.iter()
            .map(|(n, b)| format!("{n}: {:?}", String::from_utf8_lossy(b)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        sandboxed,
        native,
        "script: {script}\nsandbox:\n{}\nnative:\n{}",
        show(&sandboxed),
        show(&native)
    );
}

#[test]
fn output_between_parent_writes_is_kept() {
    same_as_native(
        "between",
        "( echo before; $S /bin/echo hello-world-long-line; echo after ) > f",
    );
}

#[test]
fn a_shell_and_its_children_share_the_offset() {
    same_as_native(
        "children",
        "( echo before; $S /bin/sh -c 'echo a; /bin/echo b; echo c'; echo after ) > f",
    );
}

#[test]
fn a_program_that_closes_stdout_before_exit() {
    // GNU coreutils close stdout themselves; so does this Python line.
    same_as_native(
        "closes",
        "( echo 1; $S /usr/bin/python3 -c 'import os; os.write(1, b\"x\" * 100 + b\"\\n\"); \
         os.close(1)'; echo 2; $S /bin/cat /etc/hostname; echo 3 ) > f",
    );
}

#[test]
fn a_program_killed_after_writing() {
    same_as_native(
        "killed",
        "( echo start; $S /bin/sh -c 'echo written-then-killed; kill -9 $$'; \
         echo status $?; echo end ) > f",
    );
}

#[test]
fn stdout_and_stderr_on_one_file_interleave_in_order() {
    same_as_native(
        "both",
        "( echo 0; $S /bin/sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2'; \
         echo 9 ) > f 2>&1",
    );
}

#[test]
fn a_pipeline_inside_the_sandbox_writes_in_order() {
    same_as_native(
        "pipeline",
        "( echo head; $S /bin/sh -c '/bin/echo one; /usr/bin/seq 3 | /bin/cat | \
         /usr/bin/sort -r; /bin/echo three'; echo tail ) > f",
    );
}

#[test]
fn three_sandboxes_append_to_one_file() {
    same_as_native(
        "append",
        "printf 'existing\\n' > f; $S /bin/echo one >> f; $S /bin/echo two >> f; \
         $S /bin/sh -c 'echo three; echo four' >> f",
    );
}

#[test]
fn stdout_without_append_overwrites_from_the_start() {
    same_as_native(
        "truncate",
        "printf 'a long line that is longer than the output\\n' > f; \
         exec 3<>f; $S /bin/echo short >&3; echo more >&3; exec 3>&-",
    );
}

#[test]
fn stdout_with_append_writes_at_the_end() {
    same_as_native(
        "o-append",
        "printf 'first\\n' > f; exec 3>>f; $S /bin/sh -c 'echo second; echo third' >&3; \
         echo fourth >&3; exec 3>&-",
    );
}

#[test]
fn a_seek_inside_the_sandbox_moves_the_host_offset() {
    // The sandboxed program reads part of a file on its stdin; the parent
    // continues from where it stopped.
    same_as_native(
        "seek",
        "printf 'line1\\nline2\\nline3\\n' > in; \
         ( $S /bin/sh -c 'read x; echo got $x'; cat ) < in > f",
    );
}

#[test]
fn the_sentrys_own_messages_do_not_overwrite_the_programs_output() {
    if !ptrace_available() {
        eprintln!("skipped: the host refuses ptrace");
        return;
    }
    // System call 1000 does not exist: Linux answers ENOSYS silently; the
    // sentry under --strace reports it (and every call) on its stderr,
    // the same file as the program's output here. Without its lines the
    // file must be the native run's, byte for byte.
    let script = "( echo before; $S /usr/bin/python3 -c \"import ctypes; \
                  print('a' * 40, flush=True); ctypes.CDLL(None).syscall(1000); \
                  print('b' * 40, flush=True)\"; echo after ) > f 2>&1";
    let sentry = format!(
        "{} run --strace --rootfs / --",
        env!("CARGO_BIN_EXE_sentry")
    );
    let native = run_case("diagnostics", "", script);
    let (status, files) = run_case("diagnostics", &sentry, script);
    assert_eq!(status, native.0);
    let (_, bytes) = files
        .iter()
        .find(|(n, _)| n == "f")
        .expect("no output file");
    let text = String::from_utf8_lossy(bytes);
    let diagnostics = text.lines().filter(|l| l.starts_with("sentry:")).count();
    // The sentry's lines: its diagnostics and the traced calls.
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("sentry:") && !l.starts_with("["))
        .map(|l| format!("{l}\n"))
        .collect();
    let (_, native_bytes) = &native.1[0];
    assert_eq!(
        without.as_bytes(),
        &native_bytes[..],
        "sandbox file:\n{text}"
    );
    assert!(diagnostics > 0, "the sentry reported nothing:\n{text}");
}
