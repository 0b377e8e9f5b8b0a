//! Threads' own state, process information and system facts (gVisor's
//! `sys_thread.go`, `sys_tls_amd64.go`, `sys_utsname.go`,
//! `sys_sysinfo.go`, `sys_random.go`, `sys_prctl.go`, `sys_sched.go`).

use abi_linux::process::{
    ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_FS, ARCH_SET_GS, GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM,
};
use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, Sysinfo, Utsname};

use super::{SysResult, SyscallTable, UserAddr};
use crate::task::{ExitStatus, Task, TaskExit};

/// The most bytes one `getrandom` returns (Linux caps at `MAX_RW_COUNT`;
/// this keeps the bounce buffer bounded).
const MAX_GETRANDOM: usize = 1 << 25;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::EXIT, sys_exit);
    table.typed(nr::EXIT_GROUP, sys_exit_group);
    table.typed(nr::ARCH_PRCTL, sys_arch_prctl);
    table.typed(nr::SET_TID_ADDRESS, sys_set_tid_address);
    table.typed(nr::SET_ROBUST_LIST, sys_set_robust_list);
    table.typed(nr::GET_ROBUST_LIST, sys_get_robust_list);
    table.typed(nr::GETPID, sys_getpid);
    table.typed(nr::GETPPID, sys_getppid);
    table.typed(nr::GETTID, sys_gettid);
    table.typed(nr::UNAME, sys_uname);
    table.typed(nr::SETHOSTNAME, sys_sethostname);
    table.typed(nr::SETDOMAINNAME, sys_setdomainname);
    table.typed(nr::SYSINFO, sys_sysinfo);
    table.typed(nr::GETRANDOM, sys_getrandom);
    table.typed(nr::PRCTL, sys_prctl);
    table.typed(nr::GETCPU, sys_getcpu);
    table.typed(nr::PERSONALITY, sys_personality);
    table.partial(
        nr::PERSONALITY,
        "kept and reported; ADDR_NO_RANDOMIZE and the other flags change nothing",
    );
    table.unsupported(
        nr::RSEQ,
        Errno::ENOSYS,
        "restartable sequences are not offered; libcs fall back silently",
    );
    table.partial(
        nr::PRCTL,
        "names, PDEATHSIG, DUMPABLE, KEEPCAPS, CHILD_SUBREAPER, NO_NEW_PRIVS, TIMERSLACK, \
         THP_DISABLE, GET_TID_ADDRESS, CAPBSET_READ/DROP, CAP_AMBIENT, GET/SET_SECCOMP; the \
         rest are EINVAL",
    );
}

fn sys_exit(t: &mut Task, code: i32) -> SysResult {
    t.exit = Some(TaskExit::Thread(ExitStatus::Exited(code & 0xff)));
    Ok(0)
}

fn sys_exit_group(t: &mut Task, code: i32) -> SysResult {
    t.exit = Some(TaskExit::Group(ExitStatus::Exited(code & 0xff)));
    Ok(0)
}

fn sys_arch_prctl(t: &mut Task, code: i32, addr: UserAddr) -> SysResult {
    let max = t.mm.max_addr();
    match code {
        ARCH_SET_FS | ARCH_SET_GS if addr.get() >= max => Err(Errno::EPERM),
        ARCH_SET_FS => {
            t.regs.set_thread_pointer(addr.get());
            Ok(0)
        }
        ARCH_SET_GS => {
            t.regs.general.gs_base = addr.get();
            Ok(0)
        }
        ARCH_GET_FS => {
            let v = t.regs.thread_pointer();
            t.mm.write_obj(addr.get(), &v).map(|()| 0)
        }
        ARCH_GET_GS => {
            let v = t.regs.general.gs_base;
            t.mm.write_obj(addr.get(), &v).map(|()| 0)
        }
        _ => Err(Errno::EINVAL),
    }
}

fn sys_set_tid_address(t: &mut Task, addr: UserAddr) -> SysResult {
    t.clear_child_tid = addr.get();
    Ok(t.tid as u64)
}

fn sys_set_robust_list(t: &mut Task, head: UserAddr, len: usize) -> SysResult {
    // `struct robust_list_head` is three words.
    if len != 24 {
        return Err(Errno::EINVAL);
    }
    t.robust_list = (head.get(), len as u64);
    t.kill.set_robust_head(head.get());
    Ok(0)
}

/// `get_robust_list(2)`: the robust-list head of thread `tid` (0: the
/// caller) and its length; `ESRCH` for no such thread, `EPERM` without
/// ptrace-read access to its process.
fn sys_get_robust_list(t: &mut Task, tid: i32, head: UserAddr, len: UserAddr) -> SysResult {
    let value = if tid == 0 {
        t.robust_list.0
    } else {
        let group = t.kernel.tasks.group_of_thread(tid).ok_or(Errno::ESRCH)?;
        let switch = group.thread_switch(tid).ok_or(Errno::ESRCH)?;
        if !crate::task::may_ptrace(&t.group, &t.ctx.credentials, &group) {
            return Err(Errno::EPERM);
        }
        switch.robust_head()
    };
    // `struct robust_list_head` is three words.
    t.mm.write_obj(len.get(), &24u64)?;
    t.mm.write_obj(head.get(), &value)?;
    Ok(0)
}

fn sys_getpid(t: &mut Task) -> SysResult {
    Ok(t.tgid as u64)
}

fn sys_getppid(t: &mut Task) -> SysResult {
    Ok(t.kernel.tasks.ppid(t.tgid) as u64)
}

fn sys_gettid(t: &mut Task) -> SysResult {
    Ok(t.tid as u64)
}

/// The UTS names of the sandbox (its one UTS namespace): the host and
/// domain names `uname(2)` reports, which `sethostname(2)` and
/// `setdomainname(2)` change.
#[derive(Debug)]
pub struct Uts {
    names: std::sync::Mutex<(Vec<u8>, Vec<u8>)>,
}

impl Default for Uts {
    fn default() -> Self {
        Self::new(b"sentry")
    }
}

impl Uts {
    /// Names with host name `hostname` (cut to 64 bytes) and domain
    /// `(none)`, as Linux boots.
    pub fn new(hostname: &[u8]) -> Self {
        let hostname = hostname[..hostname.len().min(HOST_NAME_MAX)].to_vec();
        Self {
            names: std::sync::Mutex::new((hostname, b"(none)".to_vec())),
        }
    }

    fn names(&self) -> std::sync::MutexGuard<'_, (Vec<u8>, Vec<u8>)> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What `uname(2)` reports (and `/proc/version` repeats).
    pub fn utsname(&self) -> Utsname {
        let mut u = Utsname::default();
        let set = |field: &mut [u8], s: &[u8]| field[..s.len()].copy_from_slice(s);
        let names = self.names();
        set(&mut u.sysname, b"Linux");
        set(&mut u.nodename, &names.0);
        set(&mut u.release, b"4.4.0");
        set(&mut u.version, b"#1 SMP Sun Jan 10 15:06:54 PST 2016");
        set(&mut u.machine, b"x86_64");
        set(&mut u.domainname, &names.1);
        u
    }
}

/// `__NEW_UTS_LEN`: the longest host or domain name.
const HOST_NAME_MAX: usize = 64;

fn sys_uname(t: &mut Task, buf: UserAddr) -> SysResult {
    t.mm.write_obj(buf.get(), &t.kernel.uts.utsname())
        .map(|()| 0)
}

/// `sethostname(2)` and `setdomainname(2)`: `EPERM` without
/// `CAP_SYS_ADMIN`, then `EINVAL` for more than 64 bytes, `EFAULT`.
fn set_uts_name(t: &mut Task, name: UserAddr, len: i64, domain: bool) -> SysResult {
    if !t
        .ctx
        .credentials
        .has_capability(abi_linux::Capability::SYS_ADMIN)
    {
        return Err(Errno::EPERM);
    }
    let len = usize::try_from(len)
        .ok()
        .filter(|&len| len <= HOST_NAME_MAX)
        .ok_or(Errno::EINVAL)?;
    let mut value = vec![0u8; len];
    t.mm.copy_in_exact(name.get(), &mut value)?;
    let mut names = t.kernel.uts.names();
    if domain {
        names.1 = value;
    } else {
        names.0 = value;
    }
    Ok(0)
}

fn sys_sethostname(t: &mut Task, name: UserAddr, len: i64) -> SysResult {
    set_uts_name(t, name, len, false)
}

fn sys_setdomainname(t: &mut Task, name: UserAddr, len: i64) -> SysResult {
    set_uts_name(t, name, len, true)
}

fn sys_sysinfo(t: &mut Task, buf: UserAddr) -> SysResult {
    // The same numbers as /proc/meminfo and /proc/uptime.
    let usage = t.kernel.tasks.memory_used();
    let info = Sysinfo {
        uptime: t.kernel.boot.elapsed().as_secs() as i64,
        totalram: crate::procfs::TOTAL_RAM,
        freeram: crate::procfs::TOTAL_RAM.saturating_sub(usage),
        procs: t.kernel.tasks.pids().len() as u16,
        mem_unit: 1,
        ..Sysinfo::default()
    };
    t.mm.write_obj(buf.get(), &info).map(|()| 0)
}

fn sys_getrandom(t: &mut Task, buf: UserAddr, len: usize, flags: u32) -> SysResult {
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        return Err(Errno::EINVAL);
    }
    let mut bytes = vec![0u8; len.min(MAX_GETRANDOM)];
    crate::devices::fill_random(&mut bytes)?;
    t.mm.copy_out(buf.get(), &bytes).map(|n| n as u64)
}

/// `prctl(option, arg2, arg3, arg4, arg5)`.
fn sys_prctl(t: &mut Task, option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> SysResult {
    use abi_linux::process::{
        PR_CAP_AMBIENT, PR_CAPBSET_DROP, PR_CAPBSET_READ, PR_GET_CHILD_SUBREAPER, PR_GET_DUMPABLE,
        PR_GET_KEEPCAPS, PR_GET_NAME, PR_GET_NO_NEW_PRIVS, PR_GET_PDEATHSIG, PR_GET_SECCOMP,
        PR_GET_THP_DISABLE, PR_GET_TID_ADDRESS, PR_GET_TIMERSLACK, PR_SET_CHILD_SUBREAPER,
        PR_SET_DUMPABLE, PR_SET_KEEPCAPS, PR_SET_NAME, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG,
        PR_SET_SECCOMP, PR_SET_THP_DISABLE, PR_SET_TIMERSLACK, TASK_COMM_LEN,
    };
    // Options that take one argument want the others zero.
    let rest_zero = |from: usize| [arg2, arg3, arg4, arg5][from..].iter().all(|&a| a == 0);
    let flag = |v: u64| match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Errno::EINVAL),
    };
    match option {
        PR_SET_NAME => {
            let mut name = [0u8; TASK_COMM_LEN];
            let n = t.mm.copy_in(arg2, &mut name)?;
            let len = name[..n]
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(n)
                .min(TASK_COMM_LEN - 1);
            t.process.set_comm(&name[..len]);
            Ok(0)
        }
        PR_GET_NAME => {
            let mut name = [0u8; TASK_COMM_LEN];
            let comm = t.process.comm();
            name[..comm.len()].copy_from_slice(&comm);
            t.mm.copy_out_exact(arg2, &name).map(|()| 0)
        }
        PR_SET_PDEATHSIG => {
            let signal = i32::try_from(arg2).ok().filter(|s| (0..=64).contains(s));
            t.group.attrs().pdeathsig = signal.ok_or(Errno::EINVAL)?;
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            let signal = t.group.attrs().pdeathsig;
            t.mm.write_obj(arg2, &signal).map(|()| 0)
        }
        PR_GET_DUMPABLE => Ok(u64::from(t.group.attrs().dumpable)),
        PR_SET_DUMPABLE => {
            t.group.attrs().dumpable = flag(arg2)?;
            Ok(0)
        }
        PR_GET_KEEPCAPS => Ok(u64::from(t.group.attrs().keep_caps)),
        PR_SET_KEEPCAPS => {
            t.group.attrs().keep_caps = flag(arg2)?;
            Ok(0)
        }
        PR_SET_CHILD_SUBREAPER => {
            t.group.attrs().child_subreaper = arg2 != 0;
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            let on = i32::from(t.group.attrs().child_subreaper);
            t.mm.write_obj(arg2, &on).map(|()| 0)
        }
        PR_SET_NO_NEW_PRIVS => {
            // Only setting it, and with the other arguments zero.
            if arg2 != 1 || !rest_zero(1) {
                return Err(Errno::EINVAL);
            }
            t.group.attrs().no_new_privs = true;
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if !rest_zero(0) {
                return Err(Errno::EINVAL);
            }
            Ok(u64::from(t.group.attrs().no_new_privs))
        }
        PR_GET_TIMERSLACK => Ok(t.group.attrs().timer_slack),
        PR_SET_TIMERSLACK => {
            // Zero restores the default.
            t.group.attrs().timer_slack = if arg2 == 0 { 50_000 } else { arg2 };
            Ok(0)
        }
        PR_GET_THP_DISABLE => {
            if !rest_zero(0) {
                return Err(Errno::EINVAL);
            }
            Ok(u64::from(t.group.attrs().thp_disable))
        }
        PR_SET_THP_DISABLE => {
            if !rest_zero(1) {
                return Err(Errno::EINVAL);
            }
            t.group.attrs().thp_disable = arg2 != 0;
            Ok(0)
        }
        PR_GET_TID_ADDRESS => t.mm.write_obj(arg2, &t.clear_child_tid).map(|()| 0),
        PR_GET_SECCOMP => super::seccomp::prctl_get(t),
        PR_SET_SECCOMP => super::seccomp::prctl_set(t, arg2, arg3),
        PR_CAPBSET_READ => {
            let cap = u32::try_from(arg2)
                .ok()
                .and_then(abi_linux::Capability::from_raw)
                .ok_or(Errno::EINVAL)?;
            Ok(u64::from(t.ctx.credentials.bounding_caps.contains(cap)))
        }
        PR_CAPBSET_DROP => {
            let cap = u32::try_from(arg2)
                .ok()
                .and_then(abi_linux::Capability::from_raw)
                .ok_or(Errno::EINVAL)?;
            if !t
                .ctx
                .credentials
                .has_capability(abi_linux::Capability::SETPCAP)
            {
                return Err(Errno::EPERM);
            }
            t.ctx.credentials.bounding_caps.remove(cap);
            Ok(0)
        }
        PR_CAP_AMBIENT => prctl_ambient(t, arg2, arg3, arg4, arg5),
        // Linux built without the option's feature answers EINVAL.
        _ => Err(Errno::EINVAL),
    }
}

/// `PR_CAP_AMBIENT` (Linux's `cap_task_prctl`): `IS_SET`, `RAISE` (the
/// capability must be permitted and inheritable), `LOWER`, `CLEAR_ALL`.
fn prctl_ambient(t: &mut Task, op: u64, arg3: u64, arg4: u64, arg5: u64) -> SysResult {
    const IS_SET: u64 = 1;
    const RAISE: u64 = 2;
    const LOWER: u64 = 3;
    const CLEAR_ALL: u64 = 4;
    if arg4 != 0 || arg5 != 0 {
        return Err(Errno::EINVAL);
    }
    let c = &mut t.ctx.credentials;
    if op == CLEAR_ALL {
        if arg3 != 0 {
            return Err(Errno::EINVAL);
        }
        c.ambient_caps = abi_linux::CapabilitySet::empty();
        return Ok(0);
    }
    let cap = u32::try_from(arg3)
        .ok()
        .and_then(abi_linux::Capability::from_raw)
        .ok_or(Errno::EINVAL)?;
    match op {
        IS_SET => Ok(u64::from(c.ambient_caps.contains(cap))),
        RAISE => {
            if !c.permitted_caps.contains(cap) || !c.inheritable_caps.contains(cap) {
                return Err(Errno::EPERM);
            }
            c.ambient_caps.insert(cap);
            Ok(0)
        }
        LOWER => {
            c.ambient_caps.remove(cap);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `getcpu(2)`: the host CPU the calling thread is on, and node 0.
fn sys_getcpu(t: &mut Task, cpu: UserAddr, node: UserAddr) -> SysResult {
    // SAFETY: `sched_getcpu` takes no arguments.
    let here = unsafe { libc::sched_getcpu() }.max(0) as u32;
    if !cpu.is_null() {
        t.mm.write_obj(cpu.get(), &here)?;
    }
    if !node.is_null() {
        t.mm.write_obj(node.get(), &0u32)?;
    }
    Ok(0)
}

/// `personality(2)`: returns the process's persona and sets `persona`
/// unless it is `0xffffffff` (the query).
fn sys_personality(t: &mut Task, persona: u32) -> SysResult {
    let mut attrs = t.group.attrs();
    let old = attrs.personality;
    if persona != u32::MAX {
        attrs.personality = persona;
    }
    Ok(u64::from(old))
}
