//! Running external commands as named steps and reporting the outcome.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::crates::workspace_root;

/// A named command. Steps run one after another, each to completion.
pub struct Step {
    name: String,
    command: Command,
}

impl Step {
    /// A step called `name` that runs `command`.
    pub fn new(name: impl Into<String>, command: Command) -> Self {
        Self {
            name: name.into(),
            command,
        }
    }
}

/// A `cargo` command run from the workspace root with the given arguments.
pub fn cargo(args: &[&str]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(args).current_dir(workspace_root());
    command
}

/// Runs every step even when an earlier one fails, then prints a summary
/// whose last line has the form `xtask: N passed, N failed`.
pub fn all(steps: Vec<Step>) -> Result<(), String> {
    let mut failed = Vec::new();
    let total = steps.len();
    for mut step in steps {
        println!("==> {}", step.name);
        let started = Instant::now();
        let outcome = run_with_deadline(&mut step.command, STEP_TIMEOUT);
        let seconds = started.elapsed().as_secs_f64();
        match outcome {
            Ok(status) if status.success() => {
                println!("<== {} ok, exit status 0 ({seconds:.1}s)", step.name);
            }
            Ok(status) => {
                println!("<== {} FAILED: {status} ({seconds:.1}s)", step.name);
                failed.push(step.name);
            }
            Err(error) => {
                println!("<== {} FAILED to start: {error}", step.name);
                failed.push(step.name);
            }
        }
    }
    println!();
    for name in &failed {
        println!("failed step: {name}");
    }
    println!(
        "xtask: {} passed, {} failed",
        total - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} of {total} steps failed", failed.len()))
    }
}

/// Installs a rustup target when it is missing, so a fresh machine can run
/// the no_std builds.
pub fn ensure_rust_target(target: &str) -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|error| format!("cannot run rustup: {error}"))?;
    let listed = String::from_utf8_lossy(&installed.stdout);
    if listed.lines().any(|line| line.trim() == target) {
        return Ok(());
    }
    let status = Command::new("rustup")
        .args(["target", "add", target])
        .status()
        .map_err(|error| format!("cannot run rustup: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`rustup target add {target}` failed: {status}"))
    }
}

/// How long one step may run before it is killed: a hung test must fail
/// CI quickly instead of using up its time budget.
const STEP_TIMEOUT: Duration = Duration::from_secs(25 * 60);

/// Runs `command` and kills it if it is still running after `limit`. Under
/// CI (`CI` set) the command gets its own process group and the whole group
/// is killed, cargo's test binaries included; interactively it stays in the
/// terminal's group so Ctrl-C reaches it.
fn run_with_deadline(command: &mut Command, limit: Duration) -> std::io::Result<ExitStatus> {
    let in_ci = std::env::var_os("CI").is_some();
    if in_ci {
        command.process_group(0);
    }
    let mut child = command.spawn()?;
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            println!("xtask: step exceeded {} s; killing it", limit.as_secs());
            if in_ci {
                let group = format!("-{}", child.id());
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            } else {
                let _ = child.kill();
            }
            return child.wait();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
