//! `cargo xtask bench NAME`: benchmarks that print ratios against a peer
//! measured in the same run. They are not tests: nothing here gates CI.

use crate::run::{Step, cargo};

/// A benchmark: the crate whose example measures it, and the example's
/// arguments.
struct Bench {
    name: &'static str,
    krate: &'static str,
    example: &'static str,
    about: &'static str,
}

/// Benchmarks are added here as their crates gain them.
static BENCHES: &[Bench] = &[
    Bench {
        name: "vfs",
        krate: "vfs-core",
        example: "bench_stat",
        about: "stat at depths 1..100 through vfs-core vs the kernel's stat on tmpfs",
    },
    Bench {
        name: "kernfs",
        krate: "kernfs",
        example: "bench",
        about: "create, cached/uncached lookup and stat at depth 8 on memfs vs host tmpfs",
    },
    Bench {
        name: "extfs",
        krate: "extfs",
        example: "bench",
        about: "walk/stat/read a ~1 GiB corpus image: extfs vs kernel loop mount vs ext4-view; stat at depth",
    },
    Bench {
        name: "hostfs",
        krate: "hostfs",
        example: "bench",
        about: "read/write through an imported fd (pipe, file; 4 KiB, 64 KiB) vs direct host syscalls",
    },
    Bench {
        name: "goferfs",
        krate: "goferfs",
        example: "bench",
        about: "9P small-file ops vs diod, 256 MiB read/write with and without fd donation vs host",
    },
    Bench {
        name: "sentry",
        krate: "sentry",
        example: "bench",
        about: "syscall microbenchmarks natively, in the sentry (ptrace, seccomp) and under runsc if installed",
    },
    Bench {
        name: "platform",
        krate: "platform",
        example: "bench",
        about: "trapped getppid round trip per backend vs native and each mechanism's floor",
    },
];

/// Runs the named benchmark in release mode.
pub fn run(args: &[String]) -> Result<(), String> {
    let Some(name) = args.first() else {
        return Err(list());
    };
    if name == "help" {
        println!("{}", list());
        return Ok(());
    }
    let bench = BENCHES
        .iter()
        .find(|bench| bench.name == name)
        .ok_or_else(|| format!("no benchmark named `{name}`\n{}", list()))?;
    let mut steps = Vec::new();
    if bench.krate == "sentry" {
        // The container row runs the `sentry` binary as podman's runtime.
        steps.push(Step::new(
            "build the sentry binary",
            cargo(&["build", "--quiet", "--release", "-p", "sentry", "--bins"]),
        ));
    }
    let mut command = cargo(&[
        "run",
        "--quiet",
        "--release",
        "-p",
        bench.krate,
        "--example",
        bench.example,
        "--",
    ]);
    command.args(&args[1..]);
    steps.push(Step::new(format!("bench {}", bench.name), command));
    crate::run::all(steps)
}

fn list() -> String {
    let mut text = String::from("benchmarks:\n");
    if BENCHES.is_empty() {
        text.push_str("  (none yet)\n");
    }
    for bench in BENCHES {
        text.push_str(&format!("  {:<10} {}\n", bench.name, bench.about));
    }
    text
}
