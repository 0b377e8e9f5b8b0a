//! Threads' own state, process information and system facts (gVisor's
//! `sys_thread.go`, `sys_tls_amd64.go`, `sys_utsname.go`,
//! `sys_sysinfo.go`, `sys_random.go`, `sys_prctl.go`, `sys_sched.go`).

use abi_linux::process::{
    ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_FS, ARCH_SET_GS, GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM,
    PR_GET_NAME, PR_SET_NAME, TASK_COMM_LEN,
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
    table.typed(nr::GETPID, sys_getpid);
    table.typed(nr::GETPPID, sys_getppid);
    table.typed(nr::GETTID, sys_gettid);
    table.typed(nr::UNAME, sys_uname);
    table.typed(nr::SYSINFO, sys_sysinfo);
    table.typed(nr::GETRANDOM, sys_getrandom);
    table.typed(nr::SCHED_GETAFFINITY, sys_sched_getaffinity);
    table.typed(nr::SCHED_YIELD, sys_sched_yield);
    table.typed(nr::PRCTL, sys_prctl);
    table.unsupported(
        nr::RSEQ,
        Errno::ENOSYS,
        "restartable sequences are not offered; libcs fall back silently",
    );
    table.partial(
        nr::PRCTL,
        "PR_SET_NAME and PR_GET_NAME; every other option is EINVAL",
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

fn sys_uname(t: &mut Task, buf: UserAddr) -> SysResult {
    let mut u = Utsname::default();
    let set = |field: &mut [u8], s: &[u8]| field[..s.len()].copy_from_slice(s);
    set(&mut u.sysname, b"Linux");
    set(&mut u.nodename, b"sentry");
    set(&mut u.release, b"4.4.0");
    set(&mut u.version, b"#1 SMP Sun Jan 10 15:06:54 PST 2016");
    set(&mut u.machine, b"x86_64");
    set(&mut u.domainname, b"(none)");
    t.mm.write_obj(buf.get(), &u).map(|()| 0)
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

fn sys_sched_getaffinity(t: &mut Task, pid: i32, size: usize, mask: UserAddr) -> SysResult {
    if pid != 0 && t.kernel.tasks.group_of_thread(pid).is_none() {
        return Err(Errno::ESRCH);
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
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

fn sys_sched_yield(_: &mut Task) -> SysResult {
    std::thread::yield_now();
    Ok(0)
}

/// `prctl(option, arg2, ...)`: the options served read only `arg2`.
fn sys_prctl(t: &mut Task, option: i32, arg2: UserAddr) -> SysResult {
    let arg2 = arg2.get();
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
        // The other options are not offered yet; Linux answers an unknown
        // option with EINVAL.
        _ => Err(Errno::EINVAL),
    }
}
