//! `cargo xtask fuzz`: the crates' cargo-fuzz targets.
//!
//! Fuzz crates live in `CRATE/fuzz` as workspaces of their own. They run on
//! the machine's stable toolchain with `cargo fuzz run -s none` (coverage
//! instrumentation without a sanitizer). CI only checks that they compile;
//! running them is a developer's job.

use std::process::Command;

use crate::crates::{CRATES, workspace_root};
use crate::run::{Step, cargo};

/// `cargo check` of every fuzz crate, so targets keep compiling.
pub fn check_steps() -> Vec<Step> {
    CRATES
        .iter()
        .filter(|krate| fuzz_dir_exists(krate.name))
        .map(|krate| {
            let manifest = workspace_root()
                .join(krate.name)
                .join("fuzz")
                .join("Cargo.toml");
            let mut command = cargo(&["check", "--quiet", "--manifest-path"]);
            command.arg(manifest);
            Step::new(format!("fuzz-check {}", krate.name), command)
        })
        .collect()
}

/// Runs `CRATE`'s fuzz targets (or one), each for `SECONDS` (default 60).
pub fn run(args: &[String]) -> Result<(), String> {
    let Some(krate) = args.first() else {
        return Err("usage: cargo xtask fuzz CRATE [TARGET] [SECONDS]".to_owned());
    };
    if !fuzz_dir_exists(krate) {
        return Err(format!("{krate} has no fuzz targets"));
    }
    let seconds = args
        .iter()
        .skip(1)
        .find_map(|arg| arg.parse::<u32>().ok())
        .unwrap_or(60);
    let dir = workspace_root().join(krate).join("fuzz");
    let targets = match args.get(1).filter(|arg| arg.parse::<u32>().is_err()) {
        Some(target) => vec![target.clone()],
        None => list_targets(&dir)?,
    };
    ensure_cargo_fuzz()?;
    let steps = targets
        .into_iter()
        .map(|target| {
            let corpus = dir.join("corpus").join(&target);
            let mut command = cargo(&["fuzz", "run", "-s", "none", &target]);
            command
                .current_dir(&dir)
                .arg(&corpus)
                .arg("--")
                .arg(format!("-max_total_time={seconds}"));
            // A missing corpus directory is created by libFuzzer.
            let _ = std::fs::create_dir_all(&corpus);
            Step::new(format!("fuzz {krate}/{target}"), command)
        })
        .collect();
    crate::run::all(steps)
}

fn fuzz_dir_exists(krate: &str) -> bool {
    workspace_root()
        .join(krate)
        .join("fuzz")
        .join("Cargo.toml")
        .is_file()
}

fn list_targets(dir: &std::path::Path) -> Result<Vec<String>, String> {
    let targets = dir.join("fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&targets)
        .map_err(|error| format!("cannot list {}: {error}", targets.display()))?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    Ok(names)
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if installed {
        return Ok(());
    }
    let status = Command::new("cargo")
        .args(["install", "--locked", "cargo-fuzz"])
        .status()
        .map_err(|error| format!("cannot run cargo install: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("installing cargo-fuzz failed: {status}"))
    }
}
