//! Threads, thread groups and futexes: real multithreaded programs run
//! natively and in the sentry on both platforms, with their standard
//! output and exit status compared.
//!
//! The C programs in `tests/programs/` are built here with the host's gcc;
//! Python, zstd, xz, sort, git and Go are the host's. The sandbox runs
//! them with `--rootfs /` (the host's root served read-only by a gofer),
//! so the programs are built under `/var/tmp`, which the sandbox sees at
//! the same path (its `/tmp` is its own). A
//! test that needs a missing tool says so and returns; with `CI=true` a
//! missing tool that `.ci/run` installs fails it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub mod common;
use common::native::{c_program, missing, platforms, same_as_native, work_dir};

#[test]
fn sixty_four_threads_are_created_and_joined() {
    c_program("create_join");
}

#[test]
fn mutex_condvar_barrier_rwlock_tls_and_a_detached_thread() {
    c_program("sync");
}

#[test]
fn cancel_early_exit_fork_from_a_thread_and_the_leader_leaving_first() {
    c_program("lifecycle");
}

#[test]
fn execve_from_a_thread_that_is_not_the_leader() {
    c_program("exec_thread");
}

#[test]
fn futexes_between_processes_robust_and_pi_mutexes() {
    c_program("futex_shared");
}

#[test]
fn faults_reach_handlers_and_sigpipe_kills_a_writer() {
    c_program("faults");
}

#[test]
fn alarm_itimers_and_posix_timers() {
    c_program("timers");
}

#[test]
fn timeout_ends_a_sleep_with_124_or_137() {
    same_as_native(
        &[
            "/bin/sh",
            "-c",
            "timeout 1 sleep 5; echo $?; timeout -s KILL 1 sleep 5; echo $?; \
             timeout 5 true; echo $?",
        ],
        &[],
    );
}

#[test]
fn perl_alarm_runs_its_handler() {
    same_as_native(
        &[
            "/usr/bin/perl",
            "-e",
            "$SIG{ALRM} = sub { print \"alarm\\n\"; exit 3 }; alarm 1; sleep 10; print \"late\\n\";",
        ],
        &[],
    );
}

#[test]
fn cpu_time_itimers_clocks_timers_and_rlimit_cpu() {
    c_program("cputimers");
}

/// `ulimit -t` as shells use it (soft and hard: SIGKILL at the limit;
/// soft only: SIGXCPU, 152; inherited by a child), and Python's
/// `setitimer` profiling timer.
#[test]
fn shell_cpu_limit_and_python_profiling_timer() {
    same_as_native(
        &[
            "/bin/bash",
            "-c",
            "(ulimit -t 1; while :; do :; done); echo $?; \
             (ulimit -St 1; while :; do :; done) 2>/dev/null; echo $?; \
             (ulimit -t 1; sh -c 'while :; do :; done'; echo inherited $?)",
        ],
        &[],
    );
    let script = "import signal\n\
        ticks = []\n\
        signal.signal(signal.SIGPROF, lambda s, f: ticks.append(s))\n\
        signal.setitimer(signal.ITIMER_PROF, 0.01, 0.01)\n\
        n = 0\n\
        while len(ticks) < 5: n += 1\n\
        print('profiling ticks', len(ticks), signal.getitimer(signal.ITIMER_PROF)[1])\n\
        signal.setitimer(signal.ITIMER_PROF, 0)\n";
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

#[test]
fn python_pidfds() {
    let script = "import os, select, signal, time\n\
        pid = os.fork()\n\
        if pid == 0:\n    os._exit(7)\n\
        fd = os.pidfd_open(pid)\n\
        p = select.poll(); p.register(fd, select.POLLIN)\n\
        print('ready', len(p.poll(5000)))\n\
        r = os.waitid(os.P_PIDFD, fd, os.WEXITED)\n\
        print('status', r.si_status, r.si_code == os.CLD_EXITED)\n\
        os.close(fd)\n\
        pid = os.fork()\n\
        if pid == 0:\n    time.sleep(30)\n    os._exit(0)\n\
        fd = os.pidfd_open(pid)\n\
        signal.pidfd_send_signal(fd, signal.SIGTERM)\n\
        print('killed by', os.WTERMSIG(os.waitpid(pid, 0)[1]))\n";
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

#[test]
fn python_setsid_in_a_child() {
    let script = "import os\n\
        pid = os.fork()\n\
        if pid == 0:\n    \
        sid = os.setsid()  # None: Python reports only errors\n    \
        print(sid, os.getsid(0) == os.getpid(), os.getpgrp() == os.getpid(), flush=True)\n    \
        try:\n        os.setsid()\n    except PermissionError:\n        print('EPERM', flush=True)\n    \
        os._exit(0)\n\
        os.waitpid(pid, 0)\n\
        print('parent keeps its session', os.getsid(0) != pid)\n";
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

#[test]
fn python_faulthandler_reports_a_segfault_and_dies_by_it() {
    // faulthandler catches SIGSEGV on an alternate stack, prints, and
    // raises the signal again with the default action.
    let err = format!("/tmp/sentry-faulthandler-{}", std::process::id());
    let script = format!(
        "/usr/bin/python3 -X faulthandler -c 'import ctypes; ctypes.string_at(0)' 2>{err}; \
         echo status $?; head -1 {err}; rm -f {err}"
    );
    same_as_native(&["/bin/sh", "-c", &script], &[]);
}

#[test]
fn process_groups_and_sessions() {
    c_program("sessions");
}

#[test]
fn pidfds_from_clone3_and_pidfd_open() {
    c_program("pidfd");
}

#[test]
fn clone_clone3_wait_futex_and_fadvise_errors_match_linux() {
    c_program("errnos");
}

#[test]
fn python_threading_and_a_thread_pool() {
    let script = "import threading, concurrent.futures\n\
        lock = threading.Lock(); seen = []\n\
        def f(i):\n    with lock: seen.append(i * i)\n\
        ts = [threading.Thread(target=f, args=(i,)) for i in range(16)]\n\
        [t.start() for t in ts]; [t.join() for t in ts]\n\
        print(sorted(seen))\n\
        with concurrent.futures.ThreadPoolExecutor(4) as ex:\n    \
        print(sum(ex.map(lambda x: x + 1, range(1000))))\n\
        ev = threading.Event(); threading.Timer(0.05, ev.set).start(); print(ev.wait(5))\n";
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

/// A few megabytes of text to compress and sort, made once.
fn corpus() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = work_dir().join(format!("corpus-{}", std::process::id()));
        let mut text = String::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..120_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text.push_str(&format!("{:016x} line {i} {}\n", x, x % 977));
        }
        std::fs::write(&path, text).unwrap();
        path
    })
}

/// Runs a shell pipeline over the corpus natively and in the sentry,
/// when `tool` is installed.
fn pipeline(tool: &str, script: &str) {
    if Command::new(tool).arg("--version").output().is_err() {
        missing(tool, true);
        return;
    }
    let corpus = corpus().to_str().unwrap().to_string();
    let script = script.replace("CORPUS", &corpus);
    same_as_native(&["/bin/sh", "-c", &script], &[]);
}

#[test]
fn zstd_with_two_threads_round_trips() {
    pipeline(
        "zstd",
        "zstd -T2 -q -c CORPUS | zstd -d -q -c | md5sum; zstd -T2 -q -c CORPUS | wc -c",
    );
}

#[test]
fn xz_with_two_threads_round_trips() {
    pipeline("xz", "xz -T2 -c CORPUS | xz -d -c | md5sum");
}

#[test]
fn sort_with_four_threads() {
    pipeline("sort", "sort --parallel=4 -S 1M CORPUS | md5sum");
}

#[test]
fn git_gc_and_grep_in_a_new_repository() {
    let git = ["/usr/bin/git", "/usr/local/bin/git"]
        .into_iter()
        .find(|g| Path::new(g).exists());
    let Some(git) = git else {
        missing("git", true);
        return;
    };
    // The repository lives in the run's own /tmp (the host's natively,
    // the sandbox's memfs inside).
    let dir = format!("/tmp/sentry-threads-git-{}", std::process::id());
    let script = format!(
        "set -e; g={git}; export HOME=/tmp GIT_CONFIG_NOSYSTEM=1 \
         GIT_AUTHOR_DATE=2020-01-01T00:00:00Z GIT_COMMITTER_DATE=2020-01-01T00:00:00Z; \
         rm -rf {dir}; mkdir {dir}; cd {dir}; $g init -q -b main .; \
         $g config user.email t@example.com; $g config user.name t; $g config gc.autoDetach false; \
         for i in $(seq 1 40); do seq $i 300 > f$i.txt; done; $g add .; $g commit -qm one; \
         for i in $(seq 1 40); do echo changed-$i >> f$i.txt; done; $g commit -qam two; \
         $g -c pack.threads=2 gc -q; $g count-objects -v | grep -E '^(count|packs)'; \
         $g -c grep.threads=2 grep -c changed-1 | sort | head -5; $g log --oneline | wc -l; \
         $g fsck --no-progress; cd /; rm -rf {dir}"
    );
    same_as_native(&["/bin/sh", "-c", &script], &[]);
}

#[test]
fn go_goroutines_with_gomaxprocs_four() {
    let Some(exe) = common::native::go_build("goroutines") else {
        return;
    };
    same_as_native(&[exe.to_str().unwrap()], &[("GOMAXPROCS", "4")]);
}

/// Go's CPU profiler samples a busy loop: its per-thread CPU-clock
/// timers and ITIMER_PROF fire and the samples carry the loop's frames.
#[test]
fn go_cpu_profile_samples_a_busy_loop() {
    let Some(exe) = common::native::go_build("go_pprof") else {
        return;
    };
    same_as_native(&[exe.to_str().unwrap()], &[]);
}

/// Removes a directory on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Several threads fault, map, unmap, protect and read files at once, on
/// each platform, through the library: the program succeeds, and
/// dropping the kernel leaves no live VFS object and no memory-file page.
#[test]
fn threads_mapping_and_reading_at_once_leak_nothing() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/stress.c");
    let tree = Scratch(work_dir().join(format!("stress-tree-{}", std::process::id())));
    std::fs::create_dir_all(tree.0.join("bin")).unwrap();
    std::fs::create_dir_all(tree.0.join("data")).unwrap();
    let built = Command::new("gcc")
        .args(["-O2", "-static", "-pthread", "-o"])
        .arg(tree.0.join("bin/stress"))
        .arg(&src)
        .status();
    match built {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("gcc -static failed: {s}"),
        Err(_) => return missing("gcc", true),
    }
    for i in 0..4u32 {
        let body: Vec<u8> = (0..100_000u32).map(|n| (n * 7 + i) as u8).collect();
        std::fs::write(tree.0.join(format!("data/f{i}")), body).unwrap();
    }
    for platform in platforms() {
        let scope = refs::LeakCheckScope::new();
        let mut config = sentry::kernel::KernelConfig::new(
            sentry::kernel::RootSource::HostTreeCopy(tree.0.clone()),
        );
        config.platform = match platform {
            "seccomp" => sentry::kernel::PlatformKind::Seccomp,
            _ => sentry::kernel::PlatformKind::Ptrace,
        };
        let kernel = sentry::kernel::Kernel::new(&config).unwrap();
        let mf = kernel.platform.memory_file().clone();
        let spec = sentry::ProgramSpec {
            argv: vec![b"/bin/stress".to_vec()],
            cwd: b"/".to_vec(),
            ..Default::default()
        };
        let status = sentry::run(&kernel, spec).unwrap();
        assert_eq!(status.shell_code(), 0, "on {platform}");
        drop(kernel);
        scope.assert_clean();
        assert_eq!(
            mf.usage().allocated,
            0,
            "memory-file pages left on {platform}"
        );
    }
}
