//! `seccomp(2)` and `prctl(PR_SET_SECCOMP)`: the application's own
//! filters ([`crate::seccomp`]), checked on each call by
//! [`filter_call`].

use std::sync::Arc;

use abi_linux::Errno;
use abi_linux::seccomp::*;
use abi_linux::syscalls::x86_64 as nr;

use super::{SysResult, SyscallTable, UserAddr};
use crate::seccomp::{Chain, Mode, Verdict};
use crate::task::{ExitStatus, Task, TaskExit};

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::SECCOMP, sys_seccomp);
    table.partial(
        nr::SECCOMP,
        "strict mode and BPF filters with every action; SECCOMP_RET_TRACE and USER_NOTIF \
         answer ENOSYS (no tracer or listener), SECCOMP_FILTER_FLAG_NEW_LISTENER is EINVAL",
    );
}

/// `seccomp(operation, flags, args)`.
fn sys_seccomp(t: &mut Task, op: u32, flags: u32, args: UserAddr) -> SysResult {
    match op {
        SECCOMP_SET_MODE_STRICT => {
            if flags != 0 || !args.is_null() {
                return Err(Errno::EINVAL);
            }
            set_strict(t)
        }
        SECCOMP_SET_MODE_FILTER => set_filter(t, flags, args),
        SECCOMP_GET_ACTION_AVAIL => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            let action: u32 = t.mm.read_obj(args.get())?;
            if action_known(action) {
                Ok(0)
            } else {
                Err(Errno::EOPNOTSUPP)
            }
        }
        SECCOMP_GET_NOTIF_SIZES => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            let sizes = SeccompNotifSizes {
                seccomp_notif: 80,
                seccomp_notif_resp: 24,
                seccomp_data: std::mem::size_of::<SeccompData>() as u16,
            };
            t.mm.write_obj(args.get(), &sizes).map(|()| 0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `prctl(PR_SET_SECCOMP, mode, filter)`.
pub(super) fn prctl_set(t: &mut Task, mode: u64, filter: u64) -> SysResult {
    match u32::try_from(mode) {
        Ok(SECCOMP_MODE_STRICT) => set_strict(t),
        Ok(SECCOMP_MODE_FILTER) => set_filter(t, 0, UserAddr(filter)),
        _ => Err(Errno::EINVAL),
    }
}

/// `prctl(PR_GET_SECCOMP)`.
pub(super) fn prctl_get(t: &Task) -> SysResult {
    Ok(u64::from(t.kill.seccomp().unwrap_or_default().number()))
}

fn set_strict(t: &mut Task) -> SysResult {
    match t.kill.seccomp().unwrap_or_default() {
        Mode::Disabled | Mode::Strict => {
            t.kill.set_seccomp(Mode::Strict);
            Ok(0)
        }
        Mode::Filter(_) => Err(Errno::EINVAL),
    }
}

/// Installs the filter at `args` (a `struct sock_fprog`) on the calling
/// thread, or on every thread of its process with `TSYNC`, as Linux's
/// `seccomp_set_mode_filter`: `EACCES` without `no_new_privs` or
/// `CAP_SYS_ADMIN`, `EINVAL` for unknown flags, a bad program or a thread
/// in strict mode, `ENOMEM` past the path limit, and for `TSYNC` the ID
/// of a thread whose filters are not an ancestor of the caller's
/// (`ESRCH` with `TSYNC_ESRCH`).
fn set_filter(t: &mut Task, flags: u32, args: UserAddr) -> SysResult {
    let known = SECCOMP_FILTER_FLAG_TSYNC
        | SECCOMP_FILTER_FLAG_LOG
        | SECCOMP_FILTER_FLAG_SPEC_ALLOW
        | SECCOMP_FILTER_FLAG_NEW_LISTENER
        | SECCOMP_FILTER_FLAG_TSYNC_ESRCH
        | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    if flags & !known != 0 || flags & SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
        // User notification needs a listener the sentry does not offer.
        return Err(Errno::EINVAL);
    }
    if flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 {
        // Only meaningful with a listener.
        return Err(Errno::EINVAL);
    }
    if !t.group.attrs().no_new_privs
        && !t
            .ctx
            .credentials
            .has_capability(abi_linux::Capability::SYS_ADMIN)
    {
        return Err(Errno::EACCES);
    }
    let prog: SockFprog = t.mm.read_obj(args.get())?;
    let len = usize::from(prog.len);
    if len == 0 || len > BPF_MAXINSNS {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; len * std::mem::size_of::<SockFilter>()];
    t.mm.copy_in_exact(prog.filter, &mut raw)?;
    let filter = SeccompFilter::new(&SockFilter::parse_all(&raw))?;
    let current = match t.kill.seccomp().unwrap_or_default() {
        Mode::Strict => return Err(Errno::EINVAL),
        Mode::Disabled => None,
        Mode::Filter(chain) => Some(chain),
    };
    let chain = Chain::push(current.clone(), filter)?;
    if flags & SECCOMP_FILTER_FLAG_TSYNC != 0 {
        let others: Vec<_> = t
            .group
            .thread_switches()
            .into_iter()
            .filter(|k| !Arc::ptr_eq(k, &t.kill))
            .collect();
        // Every other thread must be unfiltered or on an ancestor of the
        // caller's chain.
        for other in &others {
            let ok = match other.seccomp().unwrap_or_default() {
                Mode::Disabled => true,
                Mode::Strict => false,
                Mode::Filter(theirs) => current.as_ref().is_some_and(|c| c.descends_from(&theirs)),
            };
            if !ok {
                return if flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0 {
                    Err(Errno::ESRCH)
                } else {
                    Ok(other.tid() as u64)
                };
            }
        }
        for other in &others {
            other.set_seccomp(Mode::Filter(chain.clone()));
        }
    }
    t.kill.set_seccomp(Mode::Filter(chain));
    Ok(0)
}

/// What the dispatcher does with a call after the filters ran.
pub(super) enum Filtered {
    /// Serve the call.
    Serve,
    /// The call is done: its result (or the thread's end) is set.
    Done,
}

/// Runs the calling thread's seccomp filters over call `number` with
/// `args`, and carries out a verdict other than allow: an errno result,
/// a `SIGSYS` trap (with the call number left in `rax`, as Linux rolls
/// the call back), or the end of the thread or process.
pub(super) fn filter_call(t: &mut Task, mode: &Mode, number: u64, args: [u64; 6]) -> Filtered {
    let ip = t.regs.instruction_pointer();
    let data = SeccompData {
        nr: number as i32,
        arch: AUDIT_ARCH_X86_64,
        instruction_pointer: ip,
        args,
    };
    let sigsys = abi_linux::Signal::SIGSYS.0;
    match crate::seccomp::decide(mode, &data) {
        Verdict::Allow => return Filtered::Serve,
        Verdict::Fail(errno) => t.regs.set_syscall_return(-i64::from(errno)),
        Verdict::Trap(errno) => {
            t.regs.set_syscall_return(number as i64);
            let mut info = abi_linux::SigInfo {
                signo: sigsys,
                errno: i32::from(errno),
                code: SYS_SECCOMP,
                ..abi_linux::SigInfo::default()
            };
            info.set_sigsys(ip, number as i32, AUDIT_ARCH_X86_64);
            if let Some(status) = t.force_signal(sigsys, info) {
                t.exit = Some(TaskExit::Group(status));
            }
        }
        Verdict::KillThread if t.group.thread_count() > 1 => {
            t.exit = Some(TaskExit::Thread(ExitStatus::Signaled(sigsys)));
        }
        Verdict::KillThread | Verdict::KillProcess => {
            t.exit = Some(TaskExit::Group(ExitStatus::Signaled(sigsys)));
        }
        Verdict::StrictKill => {
            let sigkill = abi_linux::Signal::SIGKILL.0;
            t.exit = Some(if t.group.thread_count() > 1 {
                TaskExit::Thread(ExitStatus::Signaled(sigkill))
            } else {
                TaskExit::Group(ExitStatus::Signaled(sigkill))
            });
        }
    }
    Filtered::Done
}
