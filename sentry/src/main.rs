//! The `sentry` command: runs a program inside the sentry.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sentry::gofer::GoferLaunch;
use sentry::kernel::{HostMount, Kernel, KernelConfig, Network, Overlay, PlatformKind, RootSource};

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
    /// Lists the x86_64 system calls and how the sentry serves each (full,
    /// partial and what is missing, or unsupported and its errno).
    Syscalls(SyscallsArgs),
    /// Serves a host directory over 9P on an inherited socket (started by
    /// `run` for each host directory; not for direct use).
    #[command(hide = true)]
    Gofer(GoferArgs),
}

#[derive(clap::Args, Debug)]
struct GoferArgs {
    /// The connected socket to serve.
    #[arg(long)]
    fd: i32,
    /// The host directory to export.
    #[arg(long)]
    root: PathBuf,
    /// Refuse every change.
    #[arg(long)]
    read_only: bool,
}

#[derive(clap::Args, Debug)]
struct SyscallsArgs {
    /// Print the Markdown table the crate's README carries.
    #[arg(long)]
    markdown: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PlatformArg {
    Ptrace,
    Seccomp,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum NetworkArg {
    None,
    Host,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The root filesystem: a host directory (served by a gofer process,
    /// read-only unless --writable-root) or an ext2/3/4 image file (mounted
    /// read-only with extfs).
    #[arg(long)]
    rootfs: PathBuf,
    /// Let the sandbox change a host-directory root (the host sees it).
    #[arg(long, conflicts_with_all = ["copy_root", "overlay"])]
    writable_root: bool,
    /// Copy a host-directory root into memory at start instead: writable,
    /// and the host directory never changes.
    #[arg(long, conflicts_with = "overlay")]
    copy_root: bool,
    /// Where the sandbox's changes to its root go: `memory` (the
    /// default), an upper layer in the sandbox's memory over the
    /// read-only root, so the root is writable and the image or host
    /// directory never changes; `file:DIR`, the same with the sandbox's
    /// memory in an unlinked file in host directory DIR instead of RAM;
    /// `none`, the root as it is (read-only).
    #[arg(long, value_name = "memory|file:DIR|none", value_parser = parse_overlay)]
    overlay: Option<Overlay>,
    /// Mounts host directory SRC on DST, read-only with `:ro`, through a
    /// gofer process (repeatable).
    #[arg(long = "mount", value_name = "SRC:DST[:ro]", value_parser = HostMount::parse)]
    mounts: Vec<HostMount>,
    /// The platform that runs application code.
    #[arg(long, value_enum, default_value = "ptrace")]
    platform: PlatformArg,
    /// Print every system call to standard error.
    #[arg(long)]
    strace: bool,
    /// The network of internet sockets: `none`, a loopback interface of
    /// the sandbox's own; or `host`, host sockets driven by the sentry
    /// (the host's interfaces and servers; weaker isolation, as runsc's
    /// hostinet).
    #[arg(long, value_enum, default_value = "none")]
    network: NetworkArg,
    /// The most memory the sandbox may use at once (anonymous memory,
    /// page cache and tmpfs together), in bytes or with a K, M or G
    /// suffix; a process that needs a page past it is killed, as by
    /// Linux's OOM killer.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    memory: Option<u64>,
    /// Append the sentry's diagnostics (unsupported system calls) to FILE
    /// instead of dropping them; the program's standard error never gets
    /// them.
    #[arg(long, value_name = "FILE")]
    debug_log: Option<std::path::PathBuf>,
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
    let root = match RootSource::detect(args.rootfs).map_err(|e| format!("--rootfs {e}"))? {
        RootSource::HostDir { path, .. } if args.copy_root => RootSource::HostTreeCopy(path),
        RootSource::HostDir { path, .. } => RootSource::HostDir {
            path,
            writable: args.writable_root,
        },
        RootSource::Image(_) if args.copy_root || args.writable_root => {
            return Err("--rootfs: an image root is read-only".into());
        }
        other => other,
    };
    let exe = std::env::current_exe().map_err(|e| format!("finding the sentry binary: {e}"))?;
    let config = KernelConfig {
        platform: match args.platform {
            PlatformArg::Ptrace => PlatformKind::Ptrace,
            PlatformArg::Seccomp => PlatformKind::Seccomp,
        },
        strace: args.strace,
        debug_log: args.debug_log,
        mounts: args.mounts,
        gofer: GoferLaunch::Process(exe),
        network: match args.network {
            NetworkArg::None => Network::Loopback,
            NetworkArg::Host => Network::Host,
        },
        memory_limit: args.memory,
        overlay: match (&root, args.overlay) {
            (_, Some(overlay)) => overlay,
            (
                RootSource::HostDir {
                    writable: false, ..
                }
                | RootSource::Image(_),
                None,
            ) => Overlay::Memory,
            _ => Overlay::None,
        },
        root,
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
    // A panic on any sentry thread is a sentry bug that leaves kernel
    // state half-updated and other threads waiting on it: end the whole
    // sandbox at once, as a gVisor sentry panic does, rather than hang.
    // The application's stub processes die with their tracer.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        std::process::abort();
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => {
            close_inherited(&[]);
            no_new_privs();
            run(args)
        }
        Command::Syscalls(args) => {
            let table = sentry::syscalls::SyscallTable::linux();
            if args.markdown {
                print!("{}", sentry::syscalls::markdown(table));
            } else {
                print!("{}", sentry::syscalls::listing(table));
            }
            Ok(0)
        }
        Command::Gofer(args) => {
            close_inherited(&[args.fd]);
            no_new_privs();
            sentry::gofer::serve_fd(args.fd, &args.root, args.read_only).map(|()| 0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("sentry: {e}");
            ExitCode::from(SENTRY_ERROR)
        }
    }
}

/// Closes every descriptor this process inherited beyond standard I/O,
/// except those in `keep`, before it opens any of its own: nothing the
/// sentry's parent left open (a directory, a socket) reaches the sentry's
/// work or its gofers.
fn close_inherited(keep: &[i32]) {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter_map(|&fd| u32::try_from(fd).ok())
        .collect();
    keep.sort_unstable();
    let mut low = 3u32;
    for fd in keep.into_iter().filter(|&fd| fd >= 3) {
        if fd > low {
            close_range(low, fd - 1);
        }
        low = fd + 1;
    }
    close_range(low, u32::MAX);
}

/// `close_range(low, high, 0)`, or closing what `/proc/self/fd` lists in
/// that range on a kernel without it.
fn close_range(low: u32, high: u32) {
    // SAFETY: close_range only closes descriptors; none is in use yet.
    let r = unsafe { libc::syscall(libc::SYS_close_range, low, high, 0) };
    if r == 0 {
        return;
    }
    let open: Vec<u32> = std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|fd| (low..=high).contains(fd))
        .collect();
    for fd in open {
        // SAFETY: as above; the directory's own descriptor may be among
        // them and is already closed, which is harmless.
        unsafe { libc::close(fd as i32) };
    }
}

/// `PR_SET_NO_NEW_PRIVS`: no exec by the sentry, its gofers or the stubs
/// they start can gain privileges (set-user-ID or file capabilities) on
/// the host. Failure leaves the process as it was; the call cannot fail
/// on the kernels the sentry runs on.
fn no_new_privs() {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
}

/// `--overlay`: `memory`, `none` or `file:DIR`.
fn parse_overlay(text: &str) -> Result<Overlay, String> {
    match text {
        "memory" => Ok(Overlay::Memory),
        "none" => Ok(Overlay::None),
        _ => match text.strip_prefix("file:") {
            Some(dir) if !dir.is_empty() => Ok(Overlay::File(PathBuf::from(dir))),
            _ => Err(format!("{text}: expected memory, none or file:DIR")),
        },
    }
}

/// A size in bytes, with an optional K, M or G (powers of 1024) suffix.
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 10),
        Some((i, 'm' | 'M')) => (&text[..i], 20),
        Some((i, 'g' | 'G')) => (&text[..i], 30),
        _ => (text, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text}: not a size (BYTES, or a number with K, M or G)"))?;
    n.checked_mul(1u64 << shift)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{text}: out of range"))
}
