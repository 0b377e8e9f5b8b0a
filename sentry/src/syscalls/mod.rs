//! System-call dispatch (gVisor's `pkg/sentry/syscalls/linux`): a table
//! keyed by abi-linux's x86_64 numbers, each entry a handler and the kinds
//! of its arguments (for `--strace`). Numbers without an entry return
//! `ENOSYS`, logged once per number.

mod fs;
mod futex;
mod mem;
mod misc;
mod mount;
mod poll;
mod process;
mod xattr;

use std::sync::OnceLock;

use abi_linux::Errno;
use abi_linux::syscalls::x86_64 as nr;
use vfs_core::{FileRef, PathOperation, VirtualDentry};

use crate::task::Task;

/// A handler's result: the value returned to the application, or an errno.
pub type SysResult = Result<u64, Errno>;

/// A system-call handler.
pub type Handler = fn(&mut Task, [u64; 6]) -> SysResult;

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

/// One system call's entry.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The handler.
    pub handler: Handler,
    /// The arguments `--strace` prints.
    pub args: &'static [Arg],
}

/// `AT_FDCWD`.
pub const AT_FDCWD: i32 = -100;

/// The largest path a system call accepts, NUL included (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

fn table() -> &'static [Option<Entry>] {
    static TABLE: OnceLock<Vec<Option<Entry>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: Vec<Option<Entry>> = vec![None; nr::MAX as usize + 1];
        let mut add = |n: u32, handler: Handler, args: &'static [Arg]| {
            t[n as usize] = Some(Entry { handler, args });
        };
        fs::register(&mut add);
        futex::register(&mut add);
        mem::register(&mut add);
        misc::register(&mut add);
        mount::register(&mut add);
        poll::register(&mut add);
        process::register(&mut add);
        xattr::register(&mut add);
        t
    })
}

/// The registration callback the submodules fill the table with.
type Add<'a> = dyn FnMut(u32, Handler, &'static [Arg]) + 'a;

/// Serves the system call `task` stopped at and stores its result.
pub fn dispatch(task: &mut Task) {
    let number = task.regs.syscall_number();
    let args = task.regs.syscall_args();
    let entry = usize::try_from(number)
        .ok()
        .and_then(|i| table().get(i).copied().flatten());
    let result = match entry {
        Some(e) => (e.handler)(task, args),
        None => {
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
pub fn read_path(task: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    task.mm.copy_in_string(addr, PATH_MAX - 1)
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
