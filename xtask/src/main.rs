//! `cargo xtask`: the project's task runner.
//!
//! Every job a developer or CI runs goes through here so that the steps are
//! written down once: `cargo xtask ci` is exactly what `.ci/run` runs after it
//! has installed the system packages.
//!
//! Subcommands:
//! - `ci`: formatting, clippy, each crate's tests in isolation and the no_std
//!   builds of the core crates.
//! - `test [CRATE...]`: each named crate's tests (all crates by default), one
//!   `cargo test -p CRATE` at a time.
//! - `nostd`: builds the no_std crates for `x86_64-unknown-none`.
//! - `bench NAME`: runs a benchmark that prints ratios against a peer measured
//!   in the same run. Benchmarks are never part of `ci`.
//! - `fuzz CRATE [TARGET] [SECONDS]`: runs a crate's cargo-fuzz targets on
//!   the stable toolchain (no sanitizer), installing cargo-fuzz if needed.
//! - `rootfs [IMAGE] [--force]`: builds the sandbox's test root image.
//! - `demo`: the main job: exercises what the workspace can do today.

mod bench;
mod crates;
mod fuzz;
mod rootfs;
mod run;

use std::process::Command;
use std::process::ExitCode;

use crate::crates::{CRATES, Crate};
use crate::run::{Step, cargo};

/// The bare-metal target the no_std crates must build for.
const NO_STD_TARGET: &str = "x86_64-unknown-none";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        "ci" => ci(),
        "test" => test(rest),
        "nostd" => nostd(),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "rootfs" => {
            let force = rest.iter().any(|arg| arg == "--force");
            let image = rest
                .iter()
                .find(|arg| !arg.starts_with("--"))
                .map_or_else(rootfs::default_image, std::path::PathBuf::from);
            rootfs::build(&image, force).map(|contents| println!("{}", contents.describe()))
        }
        "demo" => demo(),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown subcommand `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci             fmt check, clippy, every crate's tests alone, no_std builds
  test [CRATE]   run `cargo test -p CRATE` for each crate (all by default)
  nostd          build the no_std crates for x86_64-unknown-none
  bench NAME     run a benchmark (see `cargo xtask bench help`)
  rootfs [IMAGE] [--force]
                 build the sandbox's test root image (ext4, mkfs.ext4 -d)
  fuzz CRATE [TARGET] [SECONDS]
                 run a crate's fuzz targets (default: all, 60 s each)
  demo           the main job: show what the workspace does today
";

/// Runs everything CI checks, continuing past a failing step so one run
/// reports every problem, and fails if any step failed.
fn ci() -> Result<(), String> {
    let mut steps = vec![
        Step::new("fmt", cargo(&["fmt", "--all", "--check"])),
        Step::new(
            "clippy",
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        ),
    ];
    steps.extend(test_steps(&[])?);
    steps.extend(nostd_steps()?);
    steps.extend(fuzz::check_steps());
    run::all(steps)
}

fn test(names: &[String]) -> Result<(), String> {
    run::all(test_steps(names)?)
}

fn nostd() -> Result<(), String> {
    run::all(nostd_steps()?)
}

/// One `cargo test -p CRATE` per crate: a crate whose tests only pass when
/// features are unified across the whole workspace is caught here.
fn test_steps(names: &[String]) -> Result<Vec<Step>, String> {
    let selected = crates::select(names)?;
    Ok(selected
        .into_iter()
        .map(|krate| {
            Step::new(
                format!("test {}", krate.name),
                cargo(&["test", "-p", krate.name]),
            )
        })
        .collect())
}

/// The no_std crates, built without default features for a bare-metal target.
fn nostd_steps() -> Result<Vec<Step>, String> {
    run::ensure_rust_target(NO_STD_TARGET)?;
    Ok(CRATES
        .iter()
        .filter(|krate| krate.no_std && krate.exists())
        .map(|krate: &Crate| {
            Step::new(
                format!("no_std {}", krate.name),
                cargo(&[
                    "build",
                    "-p",
                    krate.name,
                    "--no-default-features",
                    "--target",
                    NO_STD_TARGET,
                ]),
            )
        })
        .collect())
}

/// The main job, on a machine with only Rust and the base system: builds
/// the sentry (with cargo's progress), makes a demo root from what the
/// host has (busybox when installed, else the host's own shell and
/// utilities; Python when there is one), runs programs inside the sentry
/// on both platforms from the ext4 image (read by extfs) and from the
/// same tree served by a gofer process with a host directory mounted,
/// shows two library crates on their own, and ends by saying what ran
/// where.
fn demo() -> Result<(), String> {
    println!("==> building the sentry and the examples (the first build takes a minute or two)");
    let built = cargo(&["build", "--release", "-p", "sentry", "--bins"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err(format!("building the sentry failed: {built}"));
    }
    let image = rootfs::default_image();
    let contents = rootfs::build(&image, false)?;
    println!("{}", contents.describe());
    let sentry = crates::workspace_root().join("target/release/sentry");
    let tree = rootfs::tree_dir(&image);
    // The image when there is one, else the tree through a gofer.
    let root = if contents.image {
        image.clone()
    } else {
        tree.clone()
    };
    let root = root.to_string_lossy().into_owned();
    let mut sandboxed: Vec<(&str, Vec<&str>)> = vec![
        (
            "ptrace",
            vec![
                "/bin/sh",
                "-c",
                "echo \"hello from $(uname -s) inside the sentry\"; ls -la /",
            ],
        ),
        (
            "seccomp",
            vec![
                "/bin/sh",
                "-c",
                "md5sum /data/file-000 /data/file-001 /data/file-002",
            ],
        ),
        ("ptrace", vec!["/bin/ls", "-l", "/data/file-000", "/etc"]),
    ];
    if contents.python {
        sandboxed.push((
            "seccomp",
            vec![
                "/usr/bin/python3",
                "-c",
                "import json, hashlib, os; print(json.dumps({'entries': len(os.listdir('/usr/lib')), 'sha256': hashlib.sha256(b'sentry').hexdigest()[:16]}))",
            ],
        ));
    }
    let mut steps = Vec::new();
    for (platform, program) in &sandboxed {
        let mut command = Command::new(&sentry);
        command
            .args(["run", "--rootfs", &root, "--platform", platform])
            .args(["--env", "PATH=/bin:/usr/bin", "--"])
            .args(program);
        steps.push(Step::new(
            format!("sentry ({platform}): {}", program.join(" ")),
            command,
        ));
    }
    // The tree the image was made from, as a read-only root served by a
    // gofer process, with this workspace's xtask sources mounted on
    // /tmp/src (read-only) through a second gofer.
    let sources = crates::workspace_root().join("xtask/src");
    let mut command = Command::new(&sentry);
    command
        .arg("run")
        .arg("--rootfs")
        .arg(&tree)
        .arg("--mount")
        .arg(format!("{}:/tmp/src:ro", sources.display()))
        .args(["--platform", "seccomp", "--env", "PATH=/bin:/usr/bin", "--"])
        .args([
            "/bin/sh",
            "-c",
            "wc -l /tmp/src/*.rs && echo 'written in the overlay' > /etc/sentry-note && \
             cat /etc/sentry-note && grep -E ' (9p|overlay) ' /proc/mounts",
        ]);
    steps.push(Step::new(
        "sentry (seccomp, gofer root + --mount): wc -l /tmp/src/*.rs, a write to /etc",
        command,
    ));
    if contents.image {
        let mut command = cargo(&[
            "run",
            "--release",
            "-p",
            "extfs",
            "--example",
            "extfs",
            "--",
        ]);
        command.args(["ls", "-l", &root, "/"]);
        steps.push(Step::new("extfs ls -l (the same image, no mount)", command));
    }
    for krate in CRATES.iter().filter(|krate| krate.exists()) {
        for example in krate.demo {
            let mut command = cargo(&[
                "run",
                "--release",
                "-p",
                krate.name,
                "--example",
                example.name,
                "--",
            ]);
            command.args(example.args);
            steps.push(Step::new(
                format!("{} {}", krate.name, example.name),
                command,
            ));
        }
    }
    let result = run::all(steps);
    println!(
        "\nWhat ran where: each `sentry` step ran an unmodified Linux program in the \
         sandbox. The program's instructions ran natively on this CPU; every system call \
         it made was trapped (ptrace, or seccomp with SIGSYS) and served by the sentry, a \
         user-space kernel in Rust. Its files came from {}, and /proc, /dev and /tmp \
         were the sentry's own; a directory root and --mount are served by gofer \
         processes over 9P. Writes to the root went to an overlay in the sandbox's \
         memory: the image and the tree never changed. The other steps used the library crates on their own{}. \
         `bash .ci/run` installs what the tests need and runs them all.",
        if contents.image {
            "the ext4 image, read by extfs (no kernel mount)"
        } else {
            "the demo tree, served by a gofer"
        },
        if contents.image {
            ": extfs reading the image without a kernel mount, and the crates' examples"
        } else {
            " (the crates' examples)"
        }
    );
    result
}
