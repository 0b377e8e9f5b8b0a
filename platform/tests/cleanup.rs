//! No stub process outlives the platform objects that created it. This is
//! its own test binary so that no other test creates stubs meanwhile.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{Asm, Backend, CODE, Harness};
use platform::{Registers, Trap};

/// Returns the pids whose parent is this process, from `/proc`.
/// Serialises the tests of this binary, which count this process's
/// children.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn children() -> BTreeSet<i32> {
    let me = std::process::id().to_string();
    let mut set = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        if status
            .lines()
            .any(|l| l.strip_prefix("PPid:").map(str::trim) == Some(me.as_str()))
        {
            set.insert(pid);
        }
    }
    set
}

fn run_and_drop(backend: Backend) {
    let before = children();
    let prog = Asm::default().sys(libc::SYS_getppid).spin();
    let Some(h) = Harness::new(backend, &prog) else {
        return;
    };
    let h = Arc::new(h);
    let second_space = h.platform.new_address_space().unwrap();
    let mut ctx = h.platform.new_context().unwrap();
    let mut regs = Registers::new();
    regs.set_instruction_pointer(CODE);
    assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
    // A context on another thread, still alive when the address space goes.
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let (ran_tx, ran_rx) = std::sync::mpsc::channel::<()>();
    let other = {
        let h = h.clone();
        std::thread::spawn(move || {
            let mut ctx = h.platform.new_context().unwrap();
            let mut regs = Registers::new();
            regs.set_instruction_pointer(CODE);
            assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
            ran_tx.send(()).unwrap();
            stop_rx.recv().unwrap();
            drop(ctx);
        })
    };
    ran_rx.recv().unwrap();
    let during: BTreeSet<i32> = children().difference(&before).copied().collect();
    // Two masters and two context stubs at least.
    assert!(during.len() >= 4, "stubs while running: {during:?}");

    // The stubs keep only the memory file of the sentry's descriptors and
    // none of its memory.
    let exe = std::env::current_exe().unwrap();
    for pid in &during {
        let fds: Vec<_> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(fds.len(), 1, "stub {pid} descriptors");
        let target = std::fs::read_link(fds[0].path()).unwrap();
        assert!(
            target
                .to_string_lossy()
                .contains("memfd:platform-memory-file"),
            "{target:?}"
        );
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
        assert!(
            !maps.contains(&*exe.to_string_lossy()),
            "stub {pid} maps the sentry:\n{maps}"
        );
        assert!(
            !maps.contains("[stack]") && !maps.contains("[heap]"),
            "stub {pid}:\n{maps}"
        );
    }

    drop(ctx);
    drop(second_space);
    stop_tx.send(()).unwrap();
    other.join().unwrap();
    drop(Arc::into_inner(h).expect("the harness has one owner"));

    assert_eq!(children(), before);
    for pid in during {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "stub {pid} remains"
        );
    }
}

#[test]
fn no_stub_remains_after_the_platform_is_dropped() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    run_and_drop(Backend::Ptrace);
    run_and_drop(Backend::Systrap);
}

/// In the child mode of [`stubs_die_with_the_sentry`]: runs a context in
/// each backend, prints the stub pids and exits without dropping anything.
#[test]
fn sentry_child_mode() {
    if std::env::var_os("PLATFORM_SENTRY_CHILD").is_none() {
        return;
    }
    let before = children();
    let prog = Asm::default().sys(libc::SYS_getppid).spin();
    let mut keep = Vec::new();
    for backend in [Backend::Ptrace, Backend::Systrap] {
        let Some(h) = Harness::new(backend, &prog) else {
            continue;
        };
        let mut ctx = h.platform.new_context().unwrap();
        let mut regs = Registers::new();
        regs.set_instruction_pointer(CODE);
        assert_eq!(ctx.switch(&*h.mm, &mut regs).unwrap(), Trap::Syscall);
        keep.push((h, ctx));
    }
    let stubs: Vec<String> = children().difference(&before).map(i32::to_string).collect();
    println!("STUBS {}", stubs.join(" "));
    // Die without running any destructor.
    std::process::exit(0);
}

/// Reports whether `pid` is gone or a zombie (dead, waiting for its new
/// parent to reap it).
fn dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z')),
        Err(_) => true,
    }
}

/// When the sentry process dies without cleaning up, its stubs die too
/// (`PTRACE_O_EXITKILL`, `PR_SET_PDEATHSIG`).
#[test]
fn stubs_die_with_the_sentry() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sentry_child_mode",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PLATFORM_SENTRY_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout
        .lines()
        .find_map(|l| l.split_once("STUBS").map(|(_, pids)| pids))
    else {
        panic!("the child sentry printed no stubs: {stdout}");
    };
    let pids: Vec<i32> = line
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    if pids.is_empty() {
        println!("skipped: the host refuses both backends");
        return;
    }
    // The kernel kills the stubs as part of the sentry's exit; wait for the
    // (asynchronous) SIGKILL to take effect, without a deadline of our own.
    let mut remaining = pids.clone();
    for _ in 0..1000 {
        remaining.retain(|&p| !dead(p));
        if remaining.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        remaining.is_empty(),
        "stubs {remaining:?} of {pids:?} outlived the sentry"
    );
}
