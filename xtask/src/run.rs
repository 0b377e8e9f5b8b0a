//! Running external commands as named steps and reporting the outcome.
//!
//! A step's output is passed through as it comes and its last lines are
//! kept: the summary repeats them for every failed step, so a CI log that
//! keeps only its tail still shows why a step failed.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
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
        let tail = Tail::default();
        let outcome = run_with_deadline(&mut step.command, STEP_TIMEOUT, &tail);
        let seconds = started.elapsed().as_secs_f64();
        match outcome {
            Ok(status) if status.success() => {
                println!("<== {} ok, exit status 0 ({seconds:.1}s)", step.name);
            }
            Ok(status) => {
                println!("<== {} FAILED: {status} ({seconds:.1}s)", step.name);
                failed.push((step.name, tail));
            }
            Err(error) => {
                println!("<== {} FAILED to start: {error}", step.name);
                failed.push((step.name, tail));
            }
        }
    }
    println!();
    for (name, tail) in &failed {
        tail.print(name);
    }
    for (name, _) in &failed {
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
/// CI quickly instead of using up its time budget. The slowest step (the
/// first build, under clippy) takes about two minutes here.
const STEP_TIMEOUT: Duration = Duration::from_secs(12 * 60);

/// The last lines a step printed, and the lines that say why it failed.
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<TailLines>>);

#[derive(Default)]
struct TailLines {
    last: VecDeque<String>,
    telling: VecDeque<String>,
}

impl Tail {
    /// How many of the last lines are kept.
    const LAST: usize = 40;
    /// How many telling lines (panics, failures, hangs) are kept.
    const TELLING: usize = 40;

    fn push(&self, line: &str) {
        let line = line.trim_end().to_owned();
        let telling = [
            "panicked at",
            "FAILED",
            "failures:",
            "error",
            "has been running for over",
            "exceeded",
            "Diff in",
        ]
        .iter()
        .any(|word| line.contains(word))
            && !line.ends_with(" ok");
        let mut lines = self.0.lock().unwrap_or_else(|poison| poison.into_inner());
        if telling {
            if lines.telling.len() == Self::TELLING {
                lines.telling.pop_front();
            }
            lines.telling.push_back(line.clone());
        }
        if lines.last.len() == Self::LAST {
            lines.last.pop_front();
        }
        lines.last.push_back(line);
    }

    fn print(&self, name: &str) {
        let lines = self.0.lock().unwrap_or_else(|poison| poison.into_inner());
        println!("--- {name}: lines that tell why ---");
        for line in &lines.telling {
            println!("    {line}");
        }
        println!("--- {name}: last {} lines ---", lines.last.len());
        for line in &lines.last {
            println!("    {line}");
        }
    }

    /// Copies `from` to `to` line by line, keeping each line, until EOF.
    fn copy(&self, from: impl Read, mut to: impl Write) {
        let mut from = BufReader::new(from);
        let mut line = Vec::new();
        while let Ok(n) = from.read_until(b'\n', &mut line) {
            if n == 0 {
                break;
            }
            let _ = to.write_all(&line);
            let _ = to.flush();
            self.push(&String::from_utf8_lossy(&line));
            line.clear();
        }
    }
}

/// Runs `command`, copying its output through `tail`, and kills it if it
/// is still running after `limit`. Under CI (`CI` set) the command gets
/// its own process group and the whole group is killed, cargo's test
/// binaries included; interactively it stays in the terminal's group so
/// Ctrl-C reaches it.
fn run_with_deadline(
    command: &mut Command,
    limit: Duration,
    tail: &Tail,
) -> std::io::Result<ExitStatus> {
    let in_ci = std::env::var_os("CI").is_some();
    if in_ci {
        command.process_group(0);
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let mut copiers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tail = tail.clone();
        copiers.push(std::thread::spawn(move || {
            tail.copy(out, std::io::stdout());
        }));
    }
    if let Some(err) = child.stderr.take() {
        let tail = tail.clone();
        copiers.push(std::thread::spawn(move || {
            tail.copy(err, std::io::stderr());
        }));
    }
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let message = format!("xtask: step exceeded {} s; killing it", limit.as_secs());
            println!("{message}");
            tail.push(&message);
            if in_ci {
                let group = format!("-{}", child.id());
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            } else {
                let _ = child.kill();
            }
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // A daemon the step left behind may hold the pipes open: wait for the
    // copies a bounded time only.
    let copied_by = Instant::now() + Duration::from_secs(5);
    while copiers.iter().any(|c| !c.is_finished()) && Instant::now() < copied_by {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_commands_output_is_kept_with_the_telling_lines_apart() {
        let tail = Tail::default();
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "echo 'test errors_are_named ... ok'; \
             echo \"thread 'x' panicked at a.rs:1:2\" >&2; \
             seq 1 50; echo 'test y ... FAILED'; exit 3",
        ]);
        let status = run_with_deadline(&mut command, Duration::from_secs(60), &tail).unwrap();
        assert_eq!(status.code(), Some(3));
        let lines = tail.0.lock().unwrap();
        // The two streams are copied by two threads: their order may vary.
        let mut telling = Vec::from(lines.telling.clone());
        telling.sort();
        assert_eq!(
            telling,
            ["test y ... FAILED", "thread 'x' panicked at a.rs:1:2"]
        );
        assert_eq!(lines.last.len(), Tail::LAST);
        assert_eq!(
            lines.last.back().map(String::as_str),
            Some("test y ... FAILED")
        );
    }

    #[test]
    fn a_step_over_its_limit_is_killed_and_says_so() {
        let tail = Tail::default();
        let mut command = Command::new("sleep");
        command.arg("600");
        let status = run_with_deadline(&mut command, Duration::ZERO, &tail).unwrap();
        assert!(!status.success());
        let lines = tail.0.lock().unwrap();
        assert!(lines.telling[0].contains("exceeded"), "{:?}", lines.telling);
    }
}
