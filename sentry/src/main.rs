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
    /// Where OCI container states live (runc's and runsc's `--root`).
    #[arg(long, global = true, default_value = sentry::oci::DEFAULT_ROOT)]
    root: PathBuf,
    /// Also log OCI runtime errors to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    log: Option<PathBuf>,
    /// The log's format: `text` or `json` (one object per line, as conmon
    /// reads).
    #[arg(long, global = true, value_name = "text|json", default_value = "text")]
    log_format: String,
    /// Accepted for runc compatibility; `--log` has the runtime's errors.
    #[arg(long, global = true)]
    debug: bool,
    /// Accepted for runc compatibility: the sandbox's cgroup is its
    /// caller's.
    #[arg(long, global = true)]
    systemd_cgroup: bool,
    /// Accepted for runc compatibility.
    #[arg(long, global = true, value_name = "true|false|auto")]
    rootless: Option<String>,
    /// The platform of new OCI sandboxes (seccomp-trap where the host
    /// allows it, else ptrace, by default).
    #[arg(long = "oci-platform", global = true, value_enum)]
    oci_platform: Option<PlatformArg>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs PROGRAM with ARGS in a new sandbox (`--rootfs ... -- PROGRAM`),
    /// or an OCI bundle's container (`[--bundle DIR] ID`: create, start,
    /// wait, delete).
    Run(RunArgs),
    /// OCI: creates container ID from a bundle, ready to start.
    Create(CreateArgs),
    /// OCI: starts a created container's process.
    Start(IdArgs),
    /// OCI: prints a container's state as JSON.
    State(IdArgs),
    /// OCI: sends a signal (default SIGTERM) to a container's process.
    Kill(KillArgs),
    /// OCI: deletes a stopped container (or any, with --force).
    Delete(DeleteArgs),
    /// OCI: lists the containers.
    List(ListArgs),
    /// OCI: lists a container's processes.
    Ps(PsArgs),
    /// OCI: runs a new process in a running container.
    Exec(ExecArgs),
    /// OCI: writes an example config.json.
    Spec(SpecArgs),
    /// The sandbox process of an OCI container (started by `create`; not
    /// for direct use).
    #[command(hide = true)]
    Boot(BootArgs),
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
struct CreateArgs {
    /// The bundle directory (holding config.json).
    #[arg(long, short = 'b', default_value = ".")]
    bundle: PathBuf,
    /// Writes the sandbox's host PID here.
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// Sends the terminal's master here (for `process.terminal`).
    #[arg(long, value_name = "SOCKET")]
    console_socket: Option<PathBuf>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    no_pivot: bool,
    /// Accepted for runc compatibility.
    #[arg(long)]
    no_new_keyring: bool,
    /// Accepted for runc compatibility (no descriptors beyond standard
    /// I/O reach the container).
    #[arg(long, value_name = "N")]
    preserve_fds: Option<u32>,
    /// The container ID.
    id: String,
}

#[derive(clap::Args, Debug)]
struct IdArgs {
    /// The container ID.
    id: String,
}

#[derive(clap::Args, Debug)]
struct KillArgs {
    /// Signals every process of the container.
    #[arg(long, short = 'a')]
    all: bool,
    /// The container ID.
    id: String,
    /// The signal, by name or number.
    #[arg(default_value = "SIGTERM")]
    signal: String,
}

#[derive(clap::Args, Debug)]
struct DeleteArgs {
    /// Kills a running container first; a missing one is no error.
    #[arg(long, short = 'f')]
    force: bool,
    /// The container ID.
    id: String,
}

#[derive(clap::Args, Debug)]
struct ListArgs {
    /// IDs only.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// `table` or `json`.
    #[arg(long, short = 'f', default_value = "table")]
    format: String,
}

#[derive(clap::Args, Debug)]
struct PsArgs {
    /// `table` or `json`.
    #[arg(long, short = 'f', default_value = "table")]
    format: String,
    /// The container ID.
    id: String,
}

#[derive(clap::Args, Debug)]
struct ExecArgs {
    /// The process as OCI JSON (`process` of config.json).
    #[arg(long, short = 'p', value_name = "FILE")]
    process: Option<PathBuf>,
    /// Runs in the background: the waiting process's PID goes to
    /// --pid-file and its exit status is the process's.
    #[arg(long, short = 'd')]
    detach: bool,
    /// Writes the PID of the process that waits for it here.
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// Sends the terminal's master here (with --tty).
    #[arg(long, value_name = "SOCKET")]
    console_socket: Option<PathBuf>,
    /// Gives the process a terminal.
    #[arg(long, short = 't')]
    tty: bool,
    /// The working directory (without --process).
    #[arg(long)]
    cwd: Option<String>,
    /// Adds KEY=VALUE to the environment (without --process).
    #[arg(long = "env", short = 'e')]
    env: Vec<String>,
    /// UID[:GID] (without --process).
    #[arg(long, short = 'u')]
    user: Option<String>,
    /// Removes the --process file once read (the waiter of a detached
    /// exec owns the copy it was given).
    #[arg(long, hide = true, requires = "process")]
    remove_process: bool,
    /// The container ID.
    id: String,
    /// The program and its arguments (without --process).
    #[arg(trailing_var_arg = true)]
    command: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct SpecArgs {
    /// Where config.json goes.
    #[arg(long, short = 'b', default_value = ".")]
    bundle: PathBuf,
}

#[derive(clap::Args, Debug)]
struct BootArgs {
    /// The bundle directory (absolute).
    #[arg(long)]
    bundle: PathBuf,
    /// The descriptor `create` waits on.
    #[arg(long)]
    sync_fd: i32,
    /// The platform.
    #[arg(long, value_enum)]
    platform: Option<PlatformArg>,
    /// The container ID.
    id: String,
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
    /// read-only with extfs). Without it, `run` runs an OCI bundle.
    #[arg(long)]
    rootfs: Option<PathBuf>,
    /// OCI: the bundle directory (without --rootfs).
    #[arg(long, short = 'b', conflicts_with = "rootfs")]
    bundle: Option<PathBuf>,
    /// OCI: writes the sandbox's host PID here.
    #[arg(long, value_name = "FILE", requires = "id")]
    pid_file: Option<PathBuf>,
    /// OCI: sends the terminal's master here.
    #[arg(long, value_name = "SOCKET", requires = "id")]
    console_socket: Option<PathBuf>,
    /// OCI: returns once the container runs.
    #[arg(long, short = 'd', requires = "id")]
    detach: bool,
    /// OCI: the container ID (without --rootfs).
    #[arg(conflicts_with = "rootfs")]
    id: Option<String>,
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
    #[arg(last = true)]
    program: Vec<String>,
}

fn run(args: RunArgs) -> Result<i32, String> {
    let Some(rootfs) = args.rootfs else {
        return Err("--rootfs is missing (or give an OCI container ID)".into());
    };
    if args.program.is_empty() {
        return Err("no program given (after --)".into());
    }
    let root = match RootSource::detect(rootfs).map_err(|e| format!("--rootfs {e}"))? {
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
        platform: platform_kind(args.platform),
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
        hostname: None,
        mount_tmp: true,
    };
    let kernel = Kernel::new(&config)?;
    kernel.tasks.set_max_processes(args.max_processes);
    let spec = sentry::ProgramSpec {
        argv: args.program.into_iter().map(String::into_bytes).collect(),
        envp: args.env.into_iter().map(String::into_bytes).collect(),
        cwd: args.cwd.into_bytes(),
        ..Default::default()
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
    let global = sentry::oci::Global {
        root: cli.root.clone(),
        log: cli.log.clone(),
        log_json: cli.log_format == "json",
        platform: cli.oci_platform.map(platform_kind),
    };
    let result = match cli.command {
        Command::Run(args) if args.rootfs.is_none() && args.id.is_some() => {
            close_inherited(&[]);
            return oci_exit(&global, oci_run(&global, args));
        }
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
        Command::Boot(args) => {
            close_inherited(&[args.sync_fd]);
            no_new_privs();
            let global = sentry::oci::Global {
                platform: args.platform.map(platform_kind).or(global.platform),
                ..global
            };
            let opts = sentry::oci::BootOptions {
                id: args.id,
                bundle: args.bundle,
                sync_fd: args.sync_fd,
            };
            sentry::oci::boot(&global, &opts)
        }
        command => {
            close_inherited(&[]);
            return oci_exit(&global, oci_command(&global, command));
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

fn platform_kind(arg: PlatformArg) -> PlatformKind {
    match arg {
        PlatformArg::Ptrace => PlatformKind::Ptrace,
        PlatformArg::Seccomp => PlatformKind::Seccomp,
    }
}

/// The exit status of an OCI command: its own on success, 1 (as runc)
/// after logging the error.
fn oci_exit(global: &sentry::oci::Global, result: Result<i32, String>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            global.log_error(&e);
            eprintln!("sentry: {e}");
            ExitCode::from(1)
        }
    }
}

/// The OCI verbs other than `run`.
fn oci_command(global: &sentry::oci::Global, command: Command) -> Result<i32, String> {
    use sentry::oci;
    match command {
        Command::Create(args) => {
            let opts = oci::CreateOptions {
                bundle: args.bundle,
                pid_file: args.pid_file,
                console_socket: args.console_socket,
            };
            oci::create(global, &args.id, &opts).map(|_| 0)
        }
        Command::Start(args) => oci::start(global, &args.id).map(|()| 0),
        Command::State(args) => {
            println!("{}", oci::state(global, &args.id)?);
            Ok(0)
        }
        Command::Kill(args) => {
            let signal = oci::parse_signal(&args.signal)?;
            oci::kill(global, &args.id, signal, args.all).map(|()| 0)
        }
        Command::Delete(args) => oci::delete(global, &args.id, args.force).map(|()| 0),
        Command::List(args) => {
            print!("{}", oci::list(global, args.quiet, args.format == "json")?);
            Ok(0)
        }
        Command::Ps(args) => {
            print!("{}", oci::ps(global, &args.id, args.format == "json")?);
            if args.format != "json" {
                return Ok(0);
            }
            println!();
            Ok(0)
        }
        Command::Exec(args) => oci_exec(global, args),
        Command::Spec(args) => oci::write_spec(&args.bundle).map(|()| 0),
        _ => Err("not an OCI command".into()),
    }
}

/// `run` of an OCI bundle: create, start, then (unless detached) wait
/// for the sandbox and delete the container.
fn oci_run(global: &sentry::oci::Global, args: RunArgs) -> Result<i32, String> {
    use sentry::oci;
    let id = args.id.unwrap_or_default();
    let opts = oci::CreateOptions {
        bundle: args.bundle.unwrap_or_else(|| PathBuf::from(".")),
        pid_file: args.pid_file,
        console_socket: args.console_socket,
    };
    let pid = oci::create(global, &id, &opts)?;
    if let Err(e) = oci::start(global, &id) {
        let _ = oci::delete(global, &id, true);
        return Err(e);
    }
    if args.detach {
        return Ok(0);
    }
    let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    let code = match status {
        Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => code,
        Ok(nix::sys::wait::WaitStatus::Signaled(_, signal, _)) => 128 + signal as i32,
        other => return Err(format!("waiting for the sandbox: {other:?}")),
    };
    oci::delete(global, &id, true)?;
    Ok(code)
}

/// `exec`: from `--process` or the command line; `--detach` leaves a
/// process behind that waits for it (its PID in `--pid-file`).
fn oci_exec(global: &sentry::oci::Global, args: ExecArgs) -> Result<i32, String> {
    use sentry::oci;
    let mut process: oci::spec::Process = match &args.process {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            if args.remove_process {
                let _ = std::fs::remove_file(path);
            }
            serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => oci::spec::Process {
            args: args.command.clone(),
            env: args.env.clone(),
            cwd: args.cwd.clone().unwrap_or_else(|| "/".into()),
            terminal: args.tty,
            ..Default::default()
        },
    };
    if args.process.is_none()
        && let Some(user) = &args.user
    {
        let (uid, gid) = user.split_once(':').unwrap_or((user, "0"));
        process.user.uid = uid.parse().map_err(|_| format!("--user {user}"))?;
        process.user.gid = gid.parse().map_err(|_| format!("--user {user}"))?;
    }
    if args.detach {
        // The waiting process runs this command again, in the foreground.
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let spec = std::env::temp_dir().join(format!(
            "sentry-exec-{}-{}.json",
            std::process::id(),
            args.id
        ));
        std::fs::write(
            &spec,
            serde_json::to_vec(&process).map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("{}: {e}", spec.display()))?;
        let mut command = std::process::Command::new(exe);
        command.arg("--root").arg(&global.root);
        if let Some(log) = &global.log {
            command.arg("--log").arg(log);
        }
        command
            .arg("exec")
            .arg("--remove-process")
            .arg("--process")
            .arg(&spec);
        if let Some(socket) = &args.console_socket {
            command.arg("--console-socket").arg(socket);
        }
        command.arg(&args.id);
        let child = command
            .spawn()
            .map_err(|e| format!("starting the exec waiter: {e}"))?;
        if let Some(pid_file) = &args.pid_file {
            std::fs::write(pid_file, child.id().to_string())
                .map_err(|e| format!("--pid-file {}: {e}", pid_file.display()))?;
        }
        std::mem::forget(child);
        return Ok(0);
    }
    if let Some(pid_file) = &args.pid_file {
        std::fs::write(pid_file, std::process::id().to_string())
            .map_err(|e| format!("--pid-file {}: {e}", pid_file.display()))?;
    }
    oci::exec(global, &args.id, &process, args.console_socket.as_deref())
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
