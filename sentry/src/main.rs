//! The `sentry` command: runs a program inside the sentry.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sentry::kernel::{Kernel, KernelConfig, PlatformKind, RootSource};

/// The exit status for errors of the sentry itself (as runsc uses).
const SENTRY_ERROR: u8 = 125;

#[derive(Parser, Debug)]
#[command(
    name = "sentry",
    about = "A user-space kernel for Linux x86_64 programs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs PROGRAM with ARGS in a new sandbox.
    Run(RunArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PlatformArg {
    Ptrace,
    Seccomp,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The root filesystem: a host directory (copied into memory) or an
    /// ext2/3/4 image file (mounted read-only with extfs).
    #[arg(long)]
    rootfs: PathBuf,
    /// The platform that runs application code.
    #[arg(long, value_enum, default_value = "ptrace")]
    platform: PlatformArg,
    /// Print every system call to standard error.
    #[arg(long)]
    strace: bool,
    /// Adds KEY=VALUE to the environment (repeatable).
    #[arg(long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// The working directory inside the sandbox.
    #[arg(long, default_value = "/")]
    cwd: String,
    /// The most processes (live and zombie) the sandbox may have; `fork`
    /// beyond it fails with `EAGAIN`.
    #[arg(long, default_value_t = sentry::task::DEFAULT_MAX_PROCESSES)]
    max_processes: usize,
    /// The program and its arguments.
    #[arg(last = true, required = true)]
    program: Vec<String>,
}

fn run(args: RunArgs) -> Result<i32, String> {
    let config = KernelConfig {
        root: RootSource::detect(args.rootfs).map_err(|e| format!("--rootfs {e}"))?,
        platform: match args.platform {
            PlatformArg::Ptrace => PlatformKind::Ptrace,
            PlatformArg::Seccomp => PlatformKind::Seccomp,
        },
        strace: args.strace,
    };
    let kernel = Kernel::new(&config)?;
    kernel.tasks.set_max_processes(args.max_processes);
    let spec = sentry::ProgramSpec {
        argv: args.program.into_iter().map(String::into_bytes).collect(),
        envp: args.env.into_iter().map(String::into_bytes).collect(),
        cwd: args.cwd.into_bytes(),
    };
    let status = sentry::run(&kernel, spec)?;
    Ok(status.shell_code())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("sentry: {e}");
            ExitCode::from(SENTRY_ERROR)
        }
    }
}
