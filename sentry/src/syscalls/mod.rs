//! System calls (gVisor's `pkg/sentry/syscalls/linux`): the
//! [`SyscallTable`], keyed by abi-linux's x86_64 numbers, each entry a
//! handler, the kinds of its arguments (for `--strace`) and a support
//! note (full, partial with what is missing, or unsupported with the
//! errno), which `sentry syscalls` prints. Numbers without an entry
//! return `ENOSYS`, logged once per number. Tasks reach the table through
//! the kernel ([`crate::task::SyscallDispatch`]); the task loop does not
//! import this module.

mod epoll;
mod fs;
mod futex;
mod hostinet;
mod identity;
mod inet;
mod ipc;
mod mem;
mod mempolicy;
mod misc;
pub use misc::Uts;
mod mount;
mod netlink;
mod notify;
mod poll;
mod process;
mod rlimit;
mod sched;
mod seccomp;
mod signal;
mod socket;
mod splice;
mod time;
mod timer;
mod xattr;

use std::sync::OnceLock;

use abi_linux::Errno;
use abi_linux::syscalls::x86_64 as nr;
use vfs_core::{FileRef, PathOperation, VirtualDentry};

use crate::task::Task;

/// A handler's result: the value returned to the application, or an errno.
pub type SysResult = Result<u64, Errno>;

/// A system-call handler, as the table calls it: the raw argument
/// registers, which the wrapper of a [`TypedHandler`] decodes.
pub type Handler = &'static (dyn Fn(&mut Task, [u64; 6]) -> SysResult + Send + Sync);

/// A system-call argument, decoded once from its register (the x86_64
/// ABI passes each in a 64-bit register; a C `int` is its low 32 bits),
/// and how `--strace` prints it.
pub trait SysArg: Sized {
    /// How `--strace` prints the argument.
    const KIND: Arg;
    /// Decodes the register value.
    fn decode(raw: u64) -> Self;
}

macro_rules! int_arg {
    ($($t:ty => $kind:expr),* $(,)?) => {
        $(
            impl SysArg for $t {
                const KIND: Arg = $kind;
                fn decode(raw: u64) -> Self {
                    // The ABI's truncation to the C type's width.
                    raw as $t
                }
            }
        )*
    };
}

int_arg!(i32 => Arg::Int, u32 => Arg::Hex, i64 => Arg::Int, u64 => Arg::Hex, usize => Arg::Int);

macro_rules! flags_arg {
    ($($t:ty),* $(,)?) => {
        $(
            impl SysArg for $t {
                const KIND: Arg = Arg::Hex;
                fn decode(raw: u64) -> Self {
                    // The C argument is an `int`/`unsigned`; unknown bits
                    // are kept for the handler to refuse.
                    <$t>::from_bits_retain(raw as u32 as _)
                }
            }
        )*
    };
}

flags_arg!(
    abi_linux::WaitOptions,
    abi_linux::AtFlags,
    abi_linux::OpenFlags,
    abi_linux::RenameFlags,
    abi_linux::UmountFlags,
    abi_linux::MmapProt,
    abi_linux::MmapFlags,
    abi_linux::MremapFlags,
    abi_linux::MsyncFlags,
);

impl SysArg for abi_linux::MountFlags {
    const KIND: Arg = Arg::Hex;
    fn decode(raw: u64) -> Self {
        // `unsigned long`: all 64 bits.
        abi_linux::MountFlags::from_bits_retain(raw)
    }
}

impl SysArg for abi_linux::ClockId {
    const KIND: Arg = Arg::Int;
    fn decode(raw: u64) -> Self {
        abi_linux::ClockId(raw as i32)
    }
}

impl SysArg for abi_linux::MadviseAdvice {
    const KIND: Arg = Arg::Int;
    fn decode(raw: u64) -> Self {
        abi_linux::MadviseAdvice(raw as i32)
    }
}

impl SysArg for abi_linux::FcntlCmd {
    const KIND: Arg = Arg::Int;
    fn decode(raw: u64) -> Self {
        abi_linux::FcntlCmd(raw as i32)
    }
}

/// An address in application memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserAddr(pub u64);

impl UserAddr {
    /// The address as a number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// Whether the address is NULL (an optional argument left out).
    pub fn is_null(self) -> bool {
        self.0 == 0
    }
}

impl SysArg for UserAddr {
    const KIND: Arg = Arg::Hex;
    fn decode(raw: u64) -> Self {
        UserAddr(raw)
    }
}

/// A file-descriptor argument (`AT_FDCWD` included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd(pub i32);

impl SysArg for Fd {
    const KIND: Arg = Arg::Fd;
    fn decode(raw: u64) -> Self {
        Fd(raw as i32)
    }
}

/// The address of a NUL-terminated path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathAddr(pub UserAddr);

impl SysArg for PathAddr {
    const KIND: Arg = Arg::Path;
    fn decode(raw: u64) -> Self {
        PathAddr(UserAddr(raw))
    }
}

/// A handler taking typed arguments (`fn(&mut Task, A, B, ...)` with each
/// argument a [`SysArg`]), decoded from the registers once by the table.
pub trait TypedHandler<Args>: Send + Sync + 'static {
    /// How `--strace` prints the arguments.
    const KINDS: &'static [Arg];
    /// Decodes the arguments and calls the handler.
    fn call(&self, task: &mut Task, raw: [u64; 6]) -> SysResult;
}

macro_rules! typed_handler {
    ($($name:ident $index:tt),*) => {
        impl<F, $($name: SysArg),*> TypedHandler<($($name,)*)> for F
        where
            F: Fn(&mut Task, $($name),*) -> SysResult + Send + Sync + 'static,
        {
            const KINDS: &'static [Arg] = &[$($name::KIND),*];
            fn call(&self, task: &mut Task, raw: [u64; 6]) -> SysResult {
                let _ = raw;
                self(task, $($name::decode(raw[$index])),*)
            }
        }
    };
}

typed_handler!();
typed_handler!(A 0);
typed_handler!(A 0, B 1);
typed_handler!(A 0, B 1, C 2);
typed_handler!(A 0, B 1, C 2, D 3);
typed_handler!(A 0, B 1, C 2, D 3, E 4);
typed_handler!(A 0, B 1, C 2, D 3, E 4, G 5);

/// How `--strace` prints an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A signed decimal integer.
    Int,
    /// A hexadecimal value (addresses, flags).
    Hex,
    /// A file descriptor (`AT_FDCWD` by name).
    Fd,
    /// A NUL-terminated path in application memory.
    Path,
}

/// How completely the sentry serves a system call: what `sentry
/// syscalls` prints (the way gVisor publishes its compatibility table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Served with Linux's semantics.
    Full,
    /// Served, except for what the note says.
    Partial(&'static str),
    /// Not served: every call fails with this errno, for the reason the
    /// note gives.
    Unsupported(Errno, &'static str),
}

/// One system call's entry.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The handler (`None` for an unsupported call).
    pub handler: Option<Handler>,
    /// The arguments `--strace` prints.
    pub args: &'static [Arg],
    /// How completely the call is served.
    pub support: Support,
}

pub use abi_linux::{AT_FDCWD, PATH_MAX};

/// The system-call table: an entry per x86_64 number the sentry knows.
/// Numbers without an entry fail with `ENOSYS`, logged once per number.
#[derive(Debug)]
pub struct SyscallTable {
    entries: Vec<Option<Entry>>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("args", &self.args)
            .field("support", &self.support)
            .finish_non_exhaustive()
    }
}

impl SyscallTable {
    /// Registers the typed `handler` for `n` as fully served: the table
    /// decodes its arguments.
    fn typed<Args, H: TypedHandler<Args>>(&mut self, n: u32, handler: H) {
        let call = move |task: &mut Task, raw: [u64; 6]| handler.call(task, raw);
        self.entries[n as usize] = Some(Entry {
            handler: Some(Box::leak(Box::new(call))),
            args: H::KINDS,
            support: Support::Full,
        });
    }

    /// Marks the registered call `n` as served but for `missing`.
    fn partial(&mut self, n: u32, missing: &'static str) {
        if let Some(e) = &mut self.entries[n as usize] {
            e.support = Support::Partial(missing);
        }
    }

    /// Registers `n` as unsupported: it fails with `errno` (without the
    /// once-per-number log line), for `why`.
    fn unsupported(&mut self, n: u32, errno: Errno, why: &'static str) {
        self.entries[n as usize] = Some(Entry {
            handler: None,
            args: &[],
            support: Support::Unsupported(errno, why),
        });
    }

    /// The table of the Linux x86_64 system calls the sentry serves.
    pub fn linux() -> &'static SyscallTable {
        static TABLE: OnceLock<SyscallTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            let mut t = SyscallTable {
                entries: vec![None; nr::MAX as usize + 1],
            };
            fs::register(&mut t);
            futex::register(&mut t);
            identity::register(&mut t);
            ipc::register(&mut t);
            mem::register(&mut t);
            mempolicy::register(&mut t);
            misc::register(&mut t);
            mount::register(&mut t);
            notify::register(&mut t);
            poll::register(&mut t);
            epoll::register(&mut t);
            socket::register(&mut t);
            splice::register(&mut t);
            sched::register(&mut t);
            seccomp::register(&mut t);
            process::register(&mut t);
            rlimit::register(&mut t);
            signal::register(&mut t);
            time::register(&mut t);
            timer::register(&mut t);
            xattr::register(&mut t);
            t
        })
    }

    /// The entry of call `n`, if the table has one.
    pub fn entry(&self, n: u64) -> Option<Entry> {
        usize::try_from(n)
            .ok()
            .and_then(|i| self.entries.get(i).copied().flatten())
    }

    /// Every x86_64 call by number: its name and how it is served (calls
    /// without an entry are `ENOSYS`).
    pub fn support(&self) -> Vec<(u32, &'static str, Support)> {
        (0..=nr::MAX)
            .filter_map(|n| {
                let name = nr::name(n)?;
                let support = self.entry(u64::from(n)).map_or(
                    Support::Unsupported(Errno::ENOSYS, "not implemented"),
                    |e| e.support,
                );
                Some((n, name, support))
            })
            .collect()
    }
}

/// One line per x86_64 system call: number, name and support.
pub fn listing(table: &SyscallTable) -> String {
    let mut out = String::new();
    for (n, name, support) in table.support() {
        let how = match support {
            Support::Full => "full".to_string(),
            Support::Partial(note) => format!("partial: {note}"),
            Support::Unsupported(e, note) => format!("unsupported ({}): {note}", e.name()),
        };
        out.push_str(&format!("{n:>3} {name:<24} {how}\n"));
    }
    out
}

/// The support table as Markdown: the served calls in a table (number,
/// name, full or what is missing), then the unsupported ones by errno.
pub fn markdown(table: &SyscallTable) -> String {
    let support = table.support();
    let served = support
        .iter()
        .filter(|(_, _, s)| !matches!(s, Support::Unsupported(..)))
        .count();
    let mut out = format!(
        "{served} of the {} x86_64 system calls are served.\n\n\
         | nr | call | support |\n|---:|---|---|\n",
        support.len()
    );
    for (n, name, s) in &support {
        match s {
            Support::Full => out.push_str(&format!("| {n} | `{name}` | full |\n")),
            Support::Partial(note) => {
                out.push_str(&format!("| {n} | `{name}` | partial: {note} |\n"));
            }
            Support::Unsupported(..) => {}
        }
    }
    let mut by_errno: Vec<(Errno, Vec<&str>)> = Vec::new();
    for (_, name, s) in &support {
        if let Support::Unsupported(e, _) = s {
            match by_errno.iter_mut().find(|(x, _)| x == e) {
                Some((_, names)) => names.push(name),
                None => by_errno.push((*e, vec![name])),
            }
        }
    }
    for (e, names) in by_errno {
        out.push_str(&format!(
            "\nUnsupported ({}): {}.\n",
            e.name(),
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

impl crate::task::SyscallDispatch for SyscallTable {
    fn dispatch(&self, task: &mut Task) {
        dispatch(self, task);
    }
}

/// Serves the system call `task` stopped at and stores its result.
fn dispatch(table: &SyscallTable, task: &mut Task) {
    let number = task.regs.syscall_number();
    let args = task.regs.syscall_args();
    if let Some(mode) = task.kill.seccomp()
        && let seccomp::Filtered::Done = seccomp::filter_call(task, &mode, number, args)
    {
        return;
    }
    let entry = table.entry(number);
    let result = match entry {
        Some(Entry {
            handler: Some(h), ..
        }) => h(task, args),
        Some(Entry {
            support: Support::Unsupported(errno, _),
            ..
        }) => Err(errno),
        _ => {
            task.kernel.log_enosys(number);
            Err(Errno::ENOSYS)
        }
    };
    if task.kernel.strace {
        eprintln!("{}", trace_line(task, number, &args, entry, &result));
    }
    if task.exit.is_some() {
        return;
    }
    if let Err(e) = result
        && let Some(signal) = error_signal(task, number, e)
    {
        raise_error_signal(task, signal);
    }
    let result = match result {
        Err(e @ (Errno::ERESTARTSYS | Errno::ERESTARTNOHAND | Errno::ERESTARTNOINTR)) => {
            if restarts(task, e) {
                // Run the same call again once the handler (if any) has
                // returned: back over the two-byte `syscall` instruction,
                // with the number where the call expects it.
                let ip = task.regs.instruction_pointer();
                task.regs.set_instruction_pointer(ip.wrapping_sub(2));
                task.regs.set_syscall_return(number as i64);
                return;
            }
            Err(Errno::EINTR)
        }
        r => r,
    };
    let value = match result {
        Ok(v) => v as i64,
        Err(e) => -i64::from(e.raw()),
    };
    task.regs.set_syscall_return(value);
}

/// The signal Linux raises for the calling thread along with error `e`
/// of call `number`: `SIGPIPE` for a write to a pipe or socket without
/// readers, `SIGXFSZ` for a write, truncation or allocation past
/// `RLIMIT_FSIZE` (`generic_write_checks`, `inode_newsize_ok`).
fn error_signal(task: &Task, number: u64, e: Errno) -> Option<i32> {
    match e {
        Errno::EPIPE if raises_sigpipe(number) => Some(libc::SIGPIPE),
        Errno::EFBIG
            if raises_sigxfsz(number)
                && task.ctx.limits.cur(abi_linux::RlimitResource::FSIZE)
                    != abi_linux::RLIM_INFINITY =>
        {
            Some(libc::SIGXFSZ)
        }
        _ => None,
    }
}

/// Raises `signal` at the calling thread for an error of its own call
/// (`SIGPIPE`, `SIGXFSZ`), as Linux's `send_sig` does.
pub(super) fn raise_error_signal(task: &Task, signal: i32) {
    let info = crate::wait::sender_info(
        abi_linux::signal::SI_USER,
        task.tgid,
        task.ctx.credentials.real_uid,
    );
    // A standard signal is never refused.
    let _ = task.kill.post(signal, info, u64::MAX);
}

/// Whether `EPIPE` from call `number` comes with `SIGPIPE` (the writes
/// that reach pipes and sockets).
fn raises_sigpipe(number: u64) -> bool {
    [
        nr::WRITE,
        nr::WRITEV,
        nr::PWRITE64,
        nr::PWRITEV,
        nr::PWRITEV2,
        nr::SENDFILE,
    ]
    .iter()
    .any(|&n| u64::from(n) == number)
}

/// Whether `EFBIG` from call `number` comes with `SIGXFSZ` when a file
/// size limit is set (the writes, truncation and allocation).
fn raises_sigxfsz(number: u64) -> bool {
    raises_sigpipe(number)
        || [
            nr::FTRUNCATE,
            nr::TRUNCATE,
            nr::FALLOCATE,
            nr::COPY_FILE_RANGE,
        ]
        .iter()
        .any(|&n| u64::from(n) == number)
}

/// Whether a call interrupted with `e` runs again (Linux's
/// `handle_signal` and `do_signal` rules): `ERESTARTNOINTR` always;
/// otherwise when no handler will run for the next signal, or, for
/// `ERESTARTSYS`, when that handler has `SA_RESTART`.
fn restarts(task: &Task, e: Errno) -> bool {
    if e == Errno::ERESTARTNOINTR {
        return true;
    }
    let Some(signal) = task.kill.peek_pending(task.signal_mask()) else {
        return true;
    };
    let action = task.signal_handlers.action(signal);
    if action.handler <= abi_linux::signal::SIG_IGN {
        return true;
    }
    e == Errno::ERESTARTSYS
        && abi_linux::SaFlags::from_bits_retain(action.flags).contains(abi_linux::SaFlags::RESTART)
}

fn trace_line(
    task: &Task,
    number: u64,
    args: &[u64; 6],
    entry: Option<Entry>,
    result: &SysResult,
) -> String {
    let name = u32::try_from(number)
        .ok()
        .and_then(nr::name)
        .unwrap_or("unknown");
    let kinds = entry.map_or(&[][..], |e| e.args);
    let shown: Vec<String> = kinds
        .iter()
        .zip(args)
        .map(|(kind, &v)| match kind {
            Arg::Int => (v as i64).to_string(),
            Arg::Hex => format!("{v:#x}"),
            Arg::Fd if v as i32 == AT_FDCWD => "AT_FDCWD".into(),
            Arg::Fd => (v as i32).to_string(),
            Arg::Path => match task.mm.copy_in_string(v, PATH_MAX) {
                Ok(s) => format!("{:?}", String::from_utf8_lossy(&s)),
                Err(_) => format!("{v:#x}"),
            },
        })
        .collect();
    let ret = match result {
        Ok(v) => format!("{:#x}", v),
        Err(e) => format!("-1 {} ({})", e.name(), e.raw()),
    };
    format!("[{:>5}] {name}({}) = {ret}", task.tid, shown.join(", "))
}

/// Reads a path argument; `EFAULT`, `ENAMETOOLONG`.
pub fn read_path(task: &Task, addr: PathAddr) -> Result<Vec<u8>, Errno> {
    task.mm.copy_in_string(addr.0.get(), PATH_MAX - 1)
}

/// Runs `f` with a path operation for `(dirfd, path)`; an empty path is
/// `ENOENT` unless `empty_ok` (`AT_EMPTY_PATH`), in which case it names
/// `dirfd` itself.
pub fn with_path<T>(
    task: &Task,
    dirfd: i32,
    path: &[u8],
    follow: bool,
    empty_ok: bool,
    f: impl FnOnce(&PathOperation<'_>) -> Result<T, Errno>,
) -> Result<T, Errno> {
    if path.is_empty() && !empty_ok {
        return Err(Errno::ENOENT);
    }
    let (root, cwd) = task.fs.root_and_cwd()?;
    let start: Result<VirtualDentry, Errno> = if path.first() == Some(&b'/') || dirfd == AT_FDCWD {
        Ok(cwd.clone())
    } else {
        task.fds.get(dirfd).map(|file| {
            let vd = file.virtual_dentry();
            file.release(&task.ctx);
            vd
        })
    };
    let result = start.and_then(|start| {
        let pop = PathOperation::new(&root, &start, path).follow_final(follow);
        let r = f(&pop);
        start.release(&task.ctx);
        r
    });
    root.release(&task.ctx);
    cwd.release(&task.ctx);
    result
}

/// Runs `f` with the description at `fd`.
pub fn with_file<T>(
    task: &Task,
    fd: i32,
    f: impl FnOnce(&FileRef) -> Result<T, Errno>,
) -> Result<T, Errno> {
    let file = task.fds.get(fd)?;
    let r = f(&file);
    file.release(&task.ctx);
    r
}
