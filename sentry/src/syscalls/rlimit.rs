//! Resource limits (gVisor's `sys_rlimit.go`): `getrlimit`, `setrlimit`
//! and `prlimit64`, on the thread group's [`crate::task::Limits`].
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
    for n in [nr::GETRLIMIT, nr::SETRLIMIT, nr::PRLIMIT64] {
        table.partial(
            n,
            "RLIMIT_NOFILE, RLIMIT_FSIZE and RLIMIT_AS are enforced; the others are kept \
             and reported",
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
    t.ctx.limits.replace(res, new, privileged).map(|_| 0)
}

fn sys_prlimit64(t: &mut Task, pid: i32, res: u32, new: UserAddr, old: UserAddr) -> SysResult {
    let res = resource(res)?;
    let new = if new.is_null() {
        None
    } else {
        Some(t.mm.read_obj::<Rlimit>(new.get())?)
    };
    let limits = if pid == 0 || pid == t.tgid {
        t.ctx.limits.clone()
    } else {
        // Another process: credentials are kept per thread, so the
        // sentry cannot compare ids with the target as Linux's
        // `check_prlimit_permission` does; it asks for CAP_SYS_RESOURCE.
        let group = t.kernel.tasks.process(pid)?;
        if !t.ctx.credentials.has_capability(Capability::SYS_RESOURCE) {
            return Err(Errno::EPERM);
        }
        group.limits().clone()
    };
    let previous = match new {
        Some(new) => {
            let privileged = t.ctx.credentials.has_capability(Capability::SYS_RESOURCE);
            limits.replace(res, new, privileged)?
        }
        None => limits.get(res),
    };
    if !old.is_null() {
        t.mm.write_obj(old.get(), &previous)?;
    }
    Ok(0)
}
