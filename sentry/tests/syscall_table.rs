//! The published support table: `sentry syscalls --markdown` is what the
//! README carries, and every x86_64 call is listed exactly once with a
//! note for each partial or unsupported one.

use std::process::Command;

#[test]
fn readme_carries_the_generated_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_sentry"))
        .args(["syscalls", "--markdown"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let (_, rest) = readme
        .split_once("<!-- syscalls:begin -->\n")
        .expect("README.md has no syscalls:begin marker");
    let (published, _) = rest
        .split_once("<!-- syscalls:end -->")
        .expect("README.md has no syscalls:end marker");
    assert_eq!(
        published, generated,
        "README.md's system-call table is stale: paste `sentry syscalls --markdown`"
    );
}

#[test]
fn every_call_is_listed_once_with_a_note_where_not_full() {
    use sentry::syscalls::{Support, SyscallTable};
    let support = SyscallTable::linux().support();
    let mut numbers: Vec<u32> = support.iter().map(|(n, _, _)| *n).collect();
    numbers.dedup();
    assert_eq!(numbers.len(), support.len());
    for (n, name, s) in &support {
        match s {
            Support::Full => {}
            Support::Partial(note) | Support::Unsupported(_, note) => {
                assert!(!note.is_empty(), "{n} {name} has an empty note");
            }
        }
    }
    // What the threads issue promises is served.
    for call in [
        "clone",
        "clone3",
        "futex",
        "futex_waitv",
        "exit",
        "exit_group",
        "tgkill",
    ] {
        let (_, _, s) = support.iter().find(|(_, n, _)| *n == call).unwrap();
        assert!(
            !matches!(s, Support::Unsupported(..)),
            "{call} is unsupported"
        );
    }
}

/// An unsupported call is reported in the debug log, once, and never on
/// the program's standard error (where it would mix with the program's
/// own output).
#[test]
fn unsupported_calls_go_to_the_debug_log_not_the_programs_stderr() {
    let python = "/usr/bin/python3";
    if !std::path::Path::new(python).exists() {
        eprintln!("skipped: python3 is missing");
        return;
    }
    let log = std::env::temp_dir().join(format!("sentry-debug-log-{}", std::process::id()));
    let _ = std::fs::remove_file(&log);
    // `lsm_list_modules` (461) is a call the sentry does not serve; a
    // number past the table is tried too.
    let script = "import ctypes, os\n\
        libc = ctypes.CDLL(None, use_errno=True)\n\
        for n in (461, 461, 100000):\n    \
        print(libc.syscall(n, 0, 0, 0), os.strerror(ctypes.get_errno()))\n";
    let out = Command::new(env!("CARGO_BIN_EXE_sentry"))
        .arg("run")
        .arg("--debug-log")
        .arg(&log)
        .args(["--rootfs", "/", "--", python, "-c", script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "-1 Function not implemented\n".repeat(3)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let logged = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert_eq!(
        logged.matches("lsm_list_modules (461): ENOSYS").count(),
        1,
        "{logged}"
    );
}
