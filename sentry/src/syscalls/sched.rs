//! Scheduling attributes (gVisor's `sys_sched.go`, `sys_priority.go`):
//! nice values, policies and real-time priorities, CPU affinity, and
//! yielding. The sentry keeps what a process sets and answers with it, with
//! Linux's checks and privilege rules; the host schedules the sandbox's
//! threads as it sees fit.

use abi_linux::process::{
    PRIO_PGRP, PRIO_PROCESS, PRIO_USER, SCHED_BATCH, SCHED_FIFO, SCHED_IDLE, SCHED_OTHER,
    SCHED_RESET_ON_FORK, SCHED_RR,
};
use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Capability, Errno};

use super::{SysResult, SyscallTable, UserAddr};
use crate::task::{Task, ThreadGroup};

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::SCHED_YIELD, sys_sched_yield);
    table.typed(nr::SCHED_GETAFFINITY, sys_sched_getaffinity);
    table.typed(nr::SCHED_SETAFFINITY, sys_sched_setaffinity);
    table.typed(nr::GETPRIORITY, sys_getpriority);
    table.typed(nr::SETPRIORITY, sys_setpriority);
    table.typed(nr::SCHED_GETSCHEDULER, sys_sched_getscheduler);
    table.typed(nr::SCHED_SETSCHEDULER, sys_sched_setscheduler);
    table.typed(nr::SCHED_GETPARAM, sys_sched_getparam);
    table.typed(nr::SCHED_SETPARAM, sys_sched_setparam);
    table.typed(nr::SCHED_GET_PRIORITY_MAX, sys_sched_get_priority_max);
    table.typed(nr::SCHED_GET_PRIORITY_MIN, sys_sched_get_priority_min);
    let per_process = "kept per process (Linux keeps it per thread); the host schedules the \
                       sandbox's threads as it sees fit";
    table.partial(nr::SETPRIORITY, per_process);
    table.partial(nr::SCHED_SETSCHEDULER, per_process);
    table.partial(nr::SCHED_SETPARAM, per_process);
    table.partial(
        nr::SCHED_SETAFFINITY,
        "checked and accepted; every thread may still run on any CPU",
    );
    table.typed(nr::IOPRIO_GET, sys_ioprio_get);
    table.typed(nr::IOPRIO_SET, sys_ioprio_set);
    table.partial(
        nr::IOPRIO_SET,
        "kept per process (Linux keeps it per thread) and answered; no I/O is ordered by \
         it; setting another user's process is not refused",
    );
    table.partial(
        nr::GETPRIORITY,
        "PRIO_USER counts every process of the sandbox as the caller's user's",
    );
}

fn sys_sched_yield(_: &mut Task) -> SysResult {
    std::thread::yield_now();
    Ok(0)
}

/// The CPUs the sandbox sees, as a mask of `bytes` bytes.
fn online_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The thread group of `pid` (0: the caller's); `ESRCH` if none.
fn group_of(t: &Task, pid: i32) -> Result<std::sync::Arc<ThreadGroup>, Errno> {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid == 0 {
        return Ok(t.group.clone());
    }
    t.kernel.tasks.group_of_thread(pid).ok_or(Errno::ESRCH)
}

fn sys_sched_getaffinity(t: &mut Task, pid: i32, size: usize, mask: UserAddr) -> SysResult {
    group_of(t, pid)?;
    let cpus = online_cpus();
    let bytes = cpus.div_ceil(64) * 8;
    if size < bytes || !size.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let mut set = vec![0u8; bytes];
    for cpu in 0..cpus {
        set[cpu / 8] |= 1 << (cpu % 8);
    }
    t.mm.copy_out_exact(mask.get(), &set)?;
    Ok(bytes as u64)
}

/// `sched_setaffinity(2)`: `EINVAL` unless the mask names an online CPU,
/// `EPERM` for another user's process without `CAP_SYS_NICE`.
fn sys_sched_setaffinity(t: &mut Task, pid: i32, size: usize, mask: UserAddr) -> SysResult {
    group_of(t, pid)?;
    let mut set = vec![0u8; size.min(online_cpus().div_ceil(8))];
    t.mm.copy_in_exact(mask.get(), &mut set)?;
    let any =
        (0..online_cpus()).any(|cpu| set.get(cpu / 8).is_some_and(|b| b & (1 << (cpu % 8)) != 0));
    if !any {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// The processes `getpriority`/`setpriority` address.
fn targets(t: &Task, which: i32, who: i32) -> Result<Vec<std::sync::Arc<ThreadGroup>>, Errno> {
    let tasks = &t.kernel.tasks;
    let groups = match which {
        PRIO_PROCESS => vec![group_of(t, who)?],
        PRIO_PGRP => {
            let pgid = if who == 0 { tasks.pgid(t.tgid)? } else { who };
            tasks
                .pids()
                .into_iter()
                .filter(|&pid| tasks.pgid(pid) == Ok(pgid))
                .filter_map(|pid| tasks.process(pid).ok())
                .collect()
        }
        PRIO_USER => {
            let uid = if who == 0 {
                t.ctx.credentials.real_uid
            } else {
                who as u32
            };
            if uid != t.ctx.credentials.real_uid && uid != t.ctx.credentials.effective_uid {
                Vec::new()
            } else {
                tasks
                    .pids()
                    .into_iter()
                    .filter_map(|pid| tasks.process(pid).ok())
                    .collect()
            }
        }
        _ => return Err(Errno::EINVAL),
    };
    if groups.is_empty() {
        return Err(Errno::ESRCH);
    }
    Ok(groups)
}

/// `getpriority(2)` as the system call returns it: `20 - nice` of the
/// highest-priority target, so it is never negative.
fn sys_getpriority(t: &mut Task, which: i32, who: i32) -> SysResult {
    let best = targets(t, which, who)?
        .iter()
        .map(|g| g.attrs().nice)
        .min()
        .unwrap_or(0);
    Ok((20 - best) as u64)
}

/// `setpriority(2)`: nice is clamped to -20..=19; lowering it needs
/// `CAP_SYS_NICE` or a target's `RLIMIT_NICE` of at least `20 - nice`
/// (Linux's `can_nice`), else `EACCES`.
fn sys_setpriority(t: &mut Task, which: i32, who: i32, prio: i32) -> SysResult {
    let nice = prio.clamp(-20, 19);
    let may_nice = t.ctx.credentials.has_capability(Capability::SYS_NICE);
    for group in targets(t, which, who)? {
        let allowed = group.limits().cur(abi_linux::RlimitResource::NICE);
        let mut attrs = group.attrs();
        if nice < attrs.nice && !may_nice && (20 - nice) as u64 > allowed {
            return Err(Errno::EACCES);
        }
        attrs.nice = nice;
    }
    Ok(0)
}

fn sys_sched_getscheduler(t: &mut Task, pid: i32) -> SysResult {
    Ok(group_of(t, pid)?.attrs().policy as u64)
}

/// The priority range of `policy`: 1..=99 for the real-time ones, 0
/// otherwise; `EINVAL` for an unknown policy.
fn priority_range(policy: i32) -> Result<(i32, i32), Errno> {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok((1, 99)),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE => Ok((0, 0)),
        _ => Err(Errno::EINVAL),
    }
}

/// Sets `policy` (with `SCHED_RESET_ON_FORK`) and `priority` on `pid`
/// (Linux's `__sched_setscheduler`): the priority must fit the policy; a
/// real-time policy needs `CAP_SYS_NICE` or a fitting `RLIMIT_RTPRIO`.
fn set_scheduler(t: &Task, pid: i32, policy: Option<i32>, param: UserAddr) -> SysResult {
    if param.is_null() {
        return Err(Errno::EINVAL);
    }
    let priority: i32 = t.mm.read_obj(param.get())?;
    let group = group_of(t, pid)?;
    let mut attrs = group.attrs();
    let policy = policy.unwrap_or(attrs.policy);
    let base = policy & !SCHED_RESET_ON_FORK;
    let (min, max) = priority_range(base)?;
    if !(min..=max).contains(&priority) {
        return Err(Errno::EINVAL);
    }
    let realtime = base == SCHED_FIFO || base == SCHED_RR;
    if realtime && !t.ctx.credentials.has_capability(Capability::SYS_NICE) {
        // Without the capability, `RLIMIT_RTPRIO` allows a real-time
        // policy and priorities up to it (Linux's `__sched_setscheduler`).
        let allowed = group.limits().cur(abi_linux::RlimitResource::RTPRIO);
        let current = attrs.policy & !SCHED_RESET_ON_FORK;
        if (base != current && allowed == 0)
            || (priority > attrs.rt_priority && priority as u64 > allowed)
        {
            return Err(Errno::EPERM);
        }
    }
    attrs.policy = policy;
    attrs.rt_priority = priority;
    Ok(0)
}

fn sys_sched_setscheduler(t: &mut Task, pid: i32, policy: i32, param: UserAddr) -> SysResult {
    if policy < 0 {
        return Err(Errno::EINVAL);
    }
    set_scheduler(t, pid, Some(policy), param)
}

fn sys_sched_setparam(t: &mut Task, pid: i32, param: UserAddr) -> SysResult {
    set_scheduler(t, pid, None, param)
}

fn sys_sched_getparam(t: &mut Task, pid: i32, param: UserAddr) -> SysResult {
    if param.is_null() {
        return Err(Errno::EINVAL);
    }
    let priority = group_of(t, pid)?.attrs().rt_priority;
    t.mm.write_obj(param.get(), &priority).map(|()| 0)
}

fn sys_sched_get_priority_max(_: &mut Task, policy: i32) -> SysResult {
    priority_range(policy).map(|(_, max)| max as u64)
}

fn sys_sched_get_priority_min(_: &mut Task, policy: i32) -> SysResult {
    priority_range(policy).map(|(min, _)| min as u64)
}

/// The processes `ioprio_get`/`ioprio_set` address: `IOPRIO_WHO_*` are
/// `PRIO_*` plus one.
fn io_targets(t: &Task, which: i32, who: i32) -> Result<Vec<std::sync::Arc<ThreadGroup>>, Errno> {
    use abi_linux::process::{IOPRIO_WHO_PGRP, IOPRIO_WHO_PROCESS, IOPRIO_WHO_USER};
    let which = match which {
        IOPRIO_WHO_PROCESS if who < 0 => return Err(Errno::ESRCH),
        IOPRIO_WHO_PROCESS => PRIO_PROCESS,
        IOPRIO_WHO_PGRP => PRIO_PGRP,
        IOPRIO_WHO_USER => PRIO_USER,
        _ => return Err(Errno::EINVAL),
    };
    targets(t, which, who)
}

fn ioprio_class(ioprio: u16) -> u16 {
    (ioprio >> abi_linux::process::IOPRIO_CLASS_SHIFT) & 7
}

/// Linux's `ioprio_best`: of two priorities the higher (numerically
/// lower), a class-less one counting as best effort at the normal level.
fn ioprio_best(a: u16, b: u16) -> u16 {
    use abi_linux::process::{IOPRIO_BE_NORM, IOPRIO_CLASS_BE, IOPRIO_CLASS_NONE};
    let norm = |p: u16| match ioprio_class(p) {
        IOPRIO_CLASS_NONE => {
            (IOPRIO_CLASS_BE << abi_linux::process::IOPRIO_CLASS_SHIFT) | IOPRIO_BE_NORM
        }
        _ => p,
    };
    norm(a).min(norm(b))
}

/// `ioprio_get(2)`: a process's priority; for a group or a user, the
/// best of its members'.
fn sys_ioprio_get(t: &mut Task, which: i32, who: i32) -> SysResult {
    let groups = io_targets(t, which, who)?;
    let prios = groups.iter().map(|g| g.attrs().ioprio);
    let best = match which {
        abi_linux::process::IOPRIO_WHO_PROCESS => prios.take(1).next(),
        _ => prios.reduce(ioprio_best),
    };
    best.map(u64::from).ok_or(Errno::ESRCH)
}

/// `ioprio_set(2)` with Linux's `ioprio_check_cap`: the RT class needs
/// `CAP_SYS_NICE` or `CAP_SYS_ADMIN` (`EPERM`); RT and BE levels run
/// 0..8 and class NONE takes level 0 only (`EINVAL`), as does an unknown
/// class.
fn sys_ioprio_set(t: &mut Task, which: i32, who: i32, ioprio: i32) -> SysResult {
    use abi_linux::process::{
        IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE, IOPRIO_CLASS_NONE, IOPRIO_CLASS_RT, IOPRIO_NR_LEVELS,
    };
    // The kernel keeps the low 16 bits; the class is bits 13..16 and the
    // level bits 0..3 (the bits between are hints, kept as given).
    let value = ioprio as u16;
    let level = value & (IOPRIO_NR_LEVELS - 1);
    match ioprio_class(value) {
        IOPRIO_CLASS_RT
            if !t.ctx.credentials.has_capability(Capability::SYS_NICE)
                && !t.ctx.credentials.has_capability(Capability::SYS_ADMIN) =>
        {
            return Err(Errno::EPERM);
        }
        IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE => {}
        IOPRIO_CLASS_NONE if level == 0 => {}
        _ => return Err(Errno::EINVAL),
    }
    for group in io_targets(t, which, who)? {
        group.attrs().ioprio = value;
    }
    Ok(0)
}
