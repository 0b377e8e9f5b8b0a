//! Resource limits and usage (gVisor's `sys_rlimit.go`, `sys_rusage.go`):
//! `getrlimit`, `setrlimit` and `prlimit64` on the thread group's
//! [`crate::task::Limits`], and `getrusage`/`times` from the tasks' CPU
//! accounting ([`crate::task::Usage`]).
//!
//! Enforced: `RLIMIT_NOFILE` (new descriptors), `RLIMIT_FSIZE` (writes
//! and truncation past it are `EFBIG` with `SIGXFSZ`) and `RLIMIT_AS`
//! (mappings that would grow the address space past it are `ENOMEM`).
//! The others are kept and reported.

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Capability, Errno, Rlimit, RlimitResource};

use super::{SysResult, SyscallTable, UserAddr};
use crate::task::Task;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::GETRLIMIT, sys_getrlimit);
    table.typed(nr::SETRLIMIT, sys_setrlimit);
    table.typed(nr::PRLIMIT64, sys_prlimit64);
    table.typed(nr::GETRUSAGE, sys_getrusage);
    table.typed(nr::TIMES, sys_times);
    let times = "user time is the wall time spent in application code, system time the \
                 sentry's CPU time for the task; fault and context-switch counts are 0";
    table.partial(nr::GETRUSAGE, times);
    table.partial(nr::TIMES, times);
    for n in [nr::GETRLIMIT, nr::SETRLIMIT, nr::PRLIMIT64] {
        table.partial(
            n,
            "enforced: NOFILE, FSIZE, AS, DATA, STACK (at exec), CORE, CPU, NPROC (at \
             clone, not at setuid/exec), NICE, RTPRIO, MEMLOCK, SIGPENDING, MSGQUEUE; \
             LOCKS and RSS are kept and reported, as Linux ignores them",
        );
    }
}

fn resource(raw: u32) -> Result<RlimitResource, Errno> {
    RlimitResource::from_raw(raw).ok_or(Errno::EINVAL)
}

fn sys_getrlimit(t: &mut Task, res: u32, old: UserAddr) -> SysResult {
    let limit = t.ctx.limits.get(resource(res)?);
    t.mm.write_obj(old.get(), &limit).map(|()| 0)
}

fn sys_setrlimit(t: &mut Task, res: u32, new: UserAddr) -> SysResult {
    let res = resource(res)?;
    let new: Rlimit = t.mm.read_obj(new.get())?;
    let privileged = t.ctx.credentials.has_capability(Capability::SYS_RESOURCE);
    t.ctx.limits.replace(res, new, privileged)?;
    if res == RlimitResource::CPU {
        t.kernel.timers.watch_cpu_limit(&t.group);
    }
    Ok(0)
}

fn sys_prlimit64(t: &mut Task, pid: i32, res: u32, new: UserAddr, old: UserAddr) -> SysResult {
    let res = resource(res)?;
    let new = if new.is_null() {
        None
    } else {
        Some(t.mm.read_obj::<Rlimit>(new.get())?)
    };
    let (group, limits) = if pid == 0 || pid == t.tgid {
        (t.group.clone(), t.ctx.limits.clone())
    } else {
        // Another process: credentials are kept per thread, so the
        // sentry cannot compare ids with the target as Linux's
        // `check_prlimit_permission` does; it asks for CAP_SYS_RESOURCE.
        let group = t.kernel.tasks.process(pid)?;
        if !t.ctx.credentials.has_capability(Capability::SYS_RESOURCE) {
            return Err(Errno::EPERM);
        }
        let limits = group.limits().clone();
        (group, limits)
    };
    let previous = match new {
        Some(new) => {
            let privileged = t.ctx.credentials.has_capability(Capability::SYS_RESOURCE);
            let previous = limits.replace(res, new, privileged)?;
            if res == RlimitResource::CPU {
                t.kernel.timers.watch_cpu_limit(&group);
            }
            previous
        }
        None => limits.get(res),
    };
    if !old.is_null() {
        t.mm.write_obj(old.get(), &previous)?;
    }
    Ok(0)
}

/// A usage as `struct rusage`: times and the largest resident set; the
/// counters the sentry does not keep (faults, context switches) are 0.
pub(super) fn rusage_of(u: crate::task::Usage) -> abi_linux::Rusage {
    let tv = |ns: u64| abi_linux::Timeval {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_usec: ((ns % 1_000_000_000) / 1000) as i64,
    };
    abi_linux::Rusage {
        ru_utime: tv(u.user_ns),
        ru_stime: tv(u.sys_ns),
        ru_maxrss: u.maxrss_kb as i64,
        ..Default::default()
    }
}

/// `getrusage(2)`: `RUSAGE_SELF` (the process), `RUSAGE_CHILDREN` (the
/// waited-for children) or `RUSAGE_THREAD` (the caller).
fn sys_getrusage(t: &mut Task, who: i32, usage: UserAddr) -> SysResult {
    const RUSAGE_SELF: i32 = 0;
    const RUSAGE_CHILDREN: i32 = -1;
    const RUSAGE_THREAD: i32 = 1;
    let rss = t.mm.present_pages() as u64 * 4;
    let u = match who {
        RUSAGE_SELF => {
            let mut u = t.group.self_usage();
            u.maxrss_kb = u.maxrss_kb.max(rss);
            u
        }
        RUSAGE_CHILDREN => t.group.children_usage(),
        RUSAGE_THREAD => {
            let (user_ns, sys_ns) = t.kill.cpu_times();
            crate::task::Usage {
                user_ns,
                sys_ns,
                maxrss_kb: rss,
            }
        }
        _ => return Err(Errno::EINVAL),
    };
    t.mm.write_obj(usage.get(), &rusage_of(u)).map(|()| 0)
}

/// `times(2)`: the process's and its waited-for children's CPU times in
/// clock ticks; returns the ticks since the sandbox started.
fn sys_times(t: &mut Task, buf: UserAddr) -> SysResult {
    use abi_linux::time::USER_HZ;
    let ticks = |ns: u64| (ns / (1_000_000_000 / USER_HZ as u64)) as i64;
    if !buf.is_null() {
        let own = t.group.self_usage();
        let children = t.group.children_usage();
        let tms = abi_linux::time::Tms {
            tms_utime: ticks(own.user_ns),
            tms_stime: ticks(own.sys_ns),
            tms_cutime: ticks(children.user_ns),
            tms_cstime: ticks(children.sys_ns),
        };
        t.mm.write_obj(buf.get(), &tms)?;
    }
    Ok(ticks(t.kernel.boot.elapsed().as_nanos() as u64) as u64)
}
