//! Process information, time, signals (recorded only) and exit (gVisor's
//! `sys_thread.go`, `sys_identity.go`, `sys_rlimit.go`, `sys_time.go`,
//! `sys_signal.go`, `sys_random.go`).

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, Sysinfo, Utsname};
use zerocopy::IntoBytes;

use super::{Arg, SysResult, SyscallTable, UserAddr};
use abi_linux::{SigAction, SignalSet};

use crate::task::{ExitStatus, NSIG, Task, TaskExit};

use Arg::{Hex, Int};

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;
const SIGKILL: u64 = 9;
const SIGSTOP: u64 = 19;
const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const MINSIGSTKSZ: u64 = 2048;
/// The most bytes one `getrandom` returns (Linux caps at `MAX_RW_COUNT`;
/// this keeps the bounce buffer bounded).
const MAX_GETRANDOM: usize = 1 << 25;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::EXIT, sys_exit);
    table.typed(nr::EXIT_GROUP, sys_exit_group);
    table.add(nr::ARCH_PRCTL, sys_arch_prctl, &[Hex, Hex]);
    table.typed(nr::SET_TID_ADDRESS, sys_set_tid_address);
    table.typed(nr::SET_ROBUST_LIST, sys_set_robust_list);
    table.typed(nr::GETPID, sys_getpid);
    table.typed(nr::GETPPID, sys_getppid);
    table.typed(nr::GETTID, sys_gettid);
    table.add(nr::GETUID, sys_getuid, &[]);
    table.add(nr::GETEUID, sys_geteuid, &[]);
    table.add(nr::GETGID, sys_getgid, &[]);
    table.add(nr::GETEGID, sys_getegid, &[]);
    table.add(nr::GETRESUID, sys_getresuid, &[Hex, Hex, Hex]);
    table.add(nr::GETRESGID, sys_getresgid, &[Hex, Hex, Hex]);
    table.add(nr::UNAME, sys_uname, &[Hex]);
    table.add(nr::SYSINFO, sys_sysinfo, &[Hex]);
    table.add(nr::PRLIMIT64, sys_prlimit64, &[Int, Int, Hex, Hex]);
    table.add(nr::GETRLIMIT, sys_getrlimit, &[Int, Hex]);
    table.add(nr::RT_SIGACTION, sys_rt_sigaction, &[Int, Hex, Hex, Int]);
    table.add(
        nr::RT_SIGPROCMASK,
        sys_rt_sigprocmask,
        &[Int, Hex, Hex, Int],
    );
    table.add(nr::SIGALTSTACK, sys_sigaltstack, &[Hex, Hex]);
    table.add(nr::CLOCK_GETTIME, sys_clock_gettime, &[Int, Hex]);
    table.add(nr::CLOCK_GETRES, sys_clock_getres, &[Int, Hex]);
    table.add(nr::GETTIMEOFDAY, sys_gettimeofday, &[Hex, Hex]);
    table.add(nr::TIME, sys_time, &[Hex]);
    table.add(nr::NANOSLEEP, sys_nanosleep, &[Hex, Hex]);
    table.add(
        nr::CLOCK_NANOSLEEP,
        sys_clock_nanosleep,
        &[Int, Hex, Hex, Hex],
    );
    table.add(nr::GETRANDOM, sys_getrandom, &[Hex, Int, Hex]);
    table.add(
        nr::SCHED_GETAFFINITY,
        sys_sched_getaffinity,
        &[Int, Int, Hex],
    );
    table.add(nr::SCHED_YIELD, sys_sched_yield, &[]);
    table.add(nr::PRCTL, sys_prctl, &[Int, Hex, Hex, Hex, Hex]);
    table.unsupported(
        nr::RSEQ,
        abi_linux::Errno::ENOSYS,
        "restartable sequences are not offered; libcs fall back silently",
    );
    table.partial(
        nr::PRLIMIT64,
        "limits of the caller only (else ESRCH); new limits are accepted but neither kept nor enforced",
    );
    table.partial(nr::GETRLIMIT, "the limits Linux starts with, none enforced");
    table.partial(
        nr::RT_SIGACTION,
        "siginfo carries si_signo, si_code and si_pid; real-time signals are not queued; \
         stop signals do not stop",
    );
    table.partial(nr::SIGALTSTACK, "SS_AUTODISARM is EINVAL");
    table.partial(
        nr::PRCTL,
        "PR_SET_NAME and PR_GET_NAME; every other option is EINVAL",
    );
    table.partial(
        nr::CLOCK_GETTIME,
        "the CPU-time clocks read the sentry's own CPU time",
    );
    table.partial(nr::CLOCK_GETRES, "the CPU-time clocks are the sentry's");
}

fn sys_exit(t: &mut Task, code: i32) -> SysResult {
    t.exit = Some(TaskExit::Thread(ExitStatus::Exited(code & 0xff)));
    Ok(0)
}

fn sys_exit_group(t: &mut Task, code: i32) -> SysResult {
    t.exit = Some(TaskExit::Group(ExitStatus::Exited(code & 0xff)));
    Ok(0)
}

fn sys_arch_prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let max = t.mm.max_addr();
    match a[0] {
        ARCH_SET_FS | ARCH_SET_GS if a[1] >= max => Err(Errno::EPERM),
        ARCH_SET_FS => {
            t.regs.set_thread_pointer(a[1]);
            Ok(0)
        }
        ARCH_SET_GS => {
            t.regs.general.gs_base = a[1];
            Ok(0)
        }
        ARCH_GET_FS => {
            let v = t.regs.thread_pointer();
            t.mm.copy_out_exact(a[1], &v.to_le_bytes()).map(|()| 0)
        }
        ARCH_GET_GS => {
            let v = t.regs.general.gs_base;
            t.mm.copy_out_exact(a[1], &v.to_le_bytes()).map(|()| 0)
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

fn sys_getuid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(u64::from(t.ctx.credentials.real_uid))
}

fn sys_geteuid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(u64::from(t.ctx.credentials.effective_uid))
}

fn sys_getgid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(u64::from(t.ctx.credentials.real_gid))
}

fn sys_getegid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(u64::from(t.ctx.credentials.effective_gid))
}

fn put_three(t: &Task, addrs: &[u64], vals: [u32; 3]) -> SysResult {
    for (&addr, v) in addrs.iter().zip(vals) {
        t.mm.copy_out_exact(addr, &v.to_le_bytes())?;
    }
    Ok(0)
}

fn sys_getresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let c = &t.ctx.credentials;
    let vals = [c.real_uid, c.effective_uid, c.saved_uid];
    put_three(t, &a[..3], vals)
}

fn sys_getresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let c = &t.ctx.credentials;
    let vals = [c.real_gid, c.effective_gid, c.saved_gid];
    put_three(t, &a[..3], vals)
}

fn sys_uname(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut u = Utsname::default();
    let set = |field: &mut [u8], s: &[u8]| field[..s.len()].copy_from_slice(s);
    set(&mut u.sysname, b"Linux");
    set(&mut u.nodename, b"sentry");
    set(&mut u.release, b"4.4.0");
    set(&mut u.version, b"#1 SMP Sun Jan 10 15:06:54 PST 2016");
    set(&mut u.machine, b"x86_64");
    set(&mut u.domainname, b"(none)");
    t.mm.copy_out_exact(a[0], u.as_bytes()).map(|()| 0)
}

fn sys_sysinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
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
    t.mm.copy_out_exact(a[0], info.as_bytes()).map(|()| 0)
}

/// The limits a task reports: `(cur, max)`.
fn rlimit(resource: u64) -> Result<(u64, u64), Errno> {
    let inf = abi_linux::RLIM_INFINITY;
    Ok(match resource {
        // RLIMIT_STACK.
        3 => (8 << 20, inf),
        // RLIMIT_CORE.
        4 => (0, inf),
        // RLIMIT_NPROC.
        6 => (63_448, 63_448),
        // RLIMIT_NOFILE.
        7 => (
            crate::fd_table::NR_OPEN as u64,
            crate::fd_table::NR_OPEN as u64,
        ),
        // RLIMIT_MEMLOCK.
        8 => (8 << 20, 8 << 20),
        // RLIMIT_SIGPENDING.
        11 => (63_448, 63_448),
        // RLIMIT_MSGQUEUE.
        12 => (819_200, 819_200),
        // RLIMIT_NICE and RLIMIT_RTPRIO.
        13 | 14 => (0, 0),
        0..=15 => (inf, inf),
        _ => return Err(Errno::EINVAL),
    })
}

fn sys_prlimit64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != t.tgid {
        return Err(Errno::ESRCH);
    }
    let (cur, max) = rlimit(a[1])?;
    if a[2] != 0 {
        // Setting limits is accepted when it lowers nothing below what the
        // sentry enforces; the values are not recorded yet.
        let mut raw = [0u8; 16];
        t.mm.copy_in_exact(a[2], &mut raw)?;
    }
    if a[3] != 0 {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&cur.to_le_bytes());
        out[8..].copy_from_slice(&max.to_le_bytes());
        t.mm.copy_out_exact(a[3], &out)?;
    }
    Ok(0)
}

fn sys_getrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    sys_prlimit64(t, [0, a[0], 0, a[1], 0, 0])
}

fn sys_rt_sigaction(t: &mut Task, a: [u64; 6]) -> SysResult {
    let sig = a[0];
    if a[3] != 8 {
        return Err(Errno::EINVAL);
    }
    if sig == 0 || sig > NSIG as u64 {
        return Err(Errno::EINVAL);
    }
    let new = if a[1] != 0 {
        if sig == SIGKILL || sig == SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let mut raw = [0u8; 32];
        t.mm.copy_in_exact(a[1], &mut raw)?;
        let w = |i: usize| u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        Some(SigAction {
            handler: w(0),
            flags: w(1),
            restorer: w(2),
            mask: SignalSet(w(3)),
        })
    } else {
        None
    };
    let old = {
        let mut actions = t
            .signal_handlers
            .actions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let slot = &mut actions[sig as usize - 1];
        let old = *slot;
        if let Some(new) = new {
            *slot = new;
        }
        old
    };
    if a[2] != 0 {
        let words = [old.handler, old.flags, old.restorer, old.mask.0];
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        t.mm.copy_out_exact(a[2], &bytes)?;
    }
    Ok(0)
}

fn sys_rt_sigprocmask(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] != 8 {
        return Err(Errno::EINVAL);
    }
    let old = t.signal_mask();
    if a[1] != 0 {
        let mut raw = [0u8; 8];
        t.mm.copy_in_exact(a[1], &mut raw)?;
        let set = u64::from_le_bytes(raw);
        let unblockable = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));
        let mask = match a[0] {
            0 => old | set,
            1 => old & !set,
            2 => set,
            _ => return Err(Errno::EINVAL),
        } & !unblockable;
        t.set_signal_mask(mask);
    }
    if a[2] != 0 {
        t.mm.copy_out_exact(a[2], &old.to_le_bytes())?;
    }
    Ok(0)
}

fn sys_sigaltstack(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.alt_stack;
    let on_stack = t.on_alt_stack(t.regs.stack_pointer());
    if a[0] != 0 {
        // The stack in use cannot be changed.
        if on_stack {
            return Err(Errno::EPERM);
        }
        let mut raw = [0u8; 24];
        t.mm.copy_in_exact(a[0], &mut raw)?;
        let sp = u64::from_le_bytes(raw[..8].try_into().unwrap_or([0; 8]));
        let flags = i32::from_le_bytes(raw[8..12].try_into().unwrap_or([0; 4]));
        let size = u64::from_le_bytes(raw[16..].try_into().unwrap_or([0; 8]));
        if flags & !SS_DISABLE != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & SS_DISABLE == 0 && size < MINSIGSTKSZ {
            return Err(Errno::ENOMEM);
        }
        t.alt_stack = if flags & SS_DISABLE != 0 {
            (0, SS_DISABLE, 0)
        } else {
            (sp, 0, size)
        };
    }
    if a[1] != 0 {
        let (sp, flags, size) = old;
        let flags = if size == 0 {
            SS_DISABLE
        } else if on_stack {
            SS_ONSTACK
        } else {
            flags & !SS_ONSTACK
        };
        let mut raw = [0u8; 24];
        raw[..8].copy_from_slice(&sp.to_le_bytes());
        raw[8..12].copy_from_slice(&flags.to_le_bytes());
        raw[16..].copy_from_slice(&size.to_le_bytes());
        t.mm.copy_out_exact(a[1], &raw)?;
    }
    Ok(0)
}

/// Reads a host clock (the clocks of the sandbox are the host's).
pub(super) fn host_clock(id: i32, res: bool) -> Result<(i64, i64), Errno> {
    if !(0..=11).contains(&id) || id == 10 || id == 11 {
        return Err(Errno::EINVAL);
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid `timespec` to write.
    let r = unsafe {
        if res {
            libc::clock_getres(id, &mut ts)
        } else {
            libc::clock_gettime(id, &mut ts)
        }
    };
    if r != 0 {
        return Err(Errno::EINVAL);
    }
    Ok((ts.tv_sec, ts.tv_nsec))
}

fn put_timespec(t: &Task, addr: u64, (sec, nsec): (i64, i64)) -> SysResult {
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&sec.to_le_bytes());
    raw[8..].copy_from_slice(&nsec.to_le_bytes());
    t.mm.copy_out_exact(addr, &raw).map(|()| 0)
}

fn sys_clock_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ts = host_clock(a[0] as i32, false)?;
    put_timespec(t, a[1], ts)
}

fn sys_clock_getres(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ts = host_clock(a[0] as i32, true)?;
    if a[1] == 0 {
        return Ok(0);
    }
    put_timespec(t, a[1], ts)
}

fn sys_gettimeofday(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] != 0 {
        let (sec, nsec) = host_clock(0, false)?;
        put_timespec(t, a[0], (sec, nsec / 1000))?;
    }
    if a[1] != 0 {
        t.mm.copy_out_exact(a[1], &[0u8; 8])?;
    }
    Ok(0)
}

fn sys_time(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (sec, _) = host_clock(0, false)?;
    if a[0] != 0 {
        t.mm.copy_out_exact(a[0], &sec.to_le_bytes())?;
    }
    Ok(sec as u64)
}

pub(super) fn read_timespec(t: &Task, addr: u64) -> Result<std::time::Duration, Errno> {
    let mut raw = [0u8; 16];
    t.mm.copy_in_exact(addr, &mut raw)?;
    let sec = i64::from_le_bytes(raw[..8].try_into().unwrap_or([0; 8]));
    let nsec = i64::from_le_bytes(raw[8..].try_into().unwrap_or([0; 8]));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(std::time::Duration::new(sec as u64, nsec as u32))
}

/// How long from now until the absolute time `at` on the host clock
/// `clock` (zero when it has passed): what `TIMER_ABSTIME` and the
/// absolute futex timeouts wait for.
pub(super) fn time_until(
    at: std::time::Duration,
    clock: i32,
) -> Result<std::time::Duration, Errno> {
    let (sec, nsec) = host_clock(clock, false)?;
    let now = std::time::Duration::new(sec.max(0) as u64, nsec as u32);
    Ok(at.saturating_sub(now))
}

/// The instant `d` from now (far in the future when that overflows).
pub(super) fn deadline_after(d: std::time::Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + std::time::Duration::from_secs(1 << 32))
}

fn sys_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let d = read_timespec(t, a[0])?;
    sleep_reporting_rest(t, deadline_after(d), a[1])
}

/// Sleeps until `deadline`; when a signal interrupts the sleep, writes
/// the time left to `rest` (if not null), as `nanosleep` does.
fn sleep_reporting_rest(t: &Task, deadline: std::time::Instant, rest: u64) -> SysResult {
    match crate::wait::sleep_until(deadline) {
        Ok(()) => Ok(0),
        Err(e) => {
            if rest != 0 {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                put_timespec(
                    t,
                    rest,
                    (left.as_secs() as i64, i64::from(left.subsec_nanos())),
                )?;
            }
            Err(e)
        }
    }
}

fn sys_clock_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    const TIMER_ABSTIME: u64 = 1;
    let id = a[0] as i32;
    host_clock(id, true)?;
    let d = read_timespec(t, a[2])?;
    if a[1] & TIMER_ABSTIME != 0 {
        // An absolute sleep reports no remaining time.
        crate::wait::sleep_until(deadline_after(time_until(d, id)?)).map(|()| 0)
    } else {
        sleep_reporting_rest(t, deadline_after(d), a[3])
    }
}

fn sys_getrandom(t: &mut Task, a: [u64; 6]) -> SysResult {
    const GRND_NONBLOCK: u64 = 1;
    const GRND_RANDOM: u64 = 2;
    const GRND_INSECURE: u64 = 4;
    if a[2] & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || a[2] & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        return Err(Errno::EINVAL);
    }
    let len = usize::try_from(a[1])
        .unwrap_or(usize::MAX)
        .min(MAX_GETRANDOM);
    let mut buf = vec![0u8; len];
    crate::devices::fill_random(&mut buf)?;
    t.mm.copy_out(a[0], &buf).map(|n| n as u64)
}

fn sys_sched_getaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != t.tid {
        return Err(Errno::ESRCH);
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bytes = cpus.div_ceil(64) * 8;
    let size = a[1] as usize;
    if size < bytes || !size.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let mut mask = vec![0u8; bytes];
    for cpu in 0..cpus {
        mask[cpu / 8] |= 1 << (cpu % 8);
    }
    t.mm.copy_out_exact(a[2], &mask)?;
    Ok(bytes as u64)
}

fn sys_sched_yield(_: &mut Task, _: [u64; 6]) -> SysResult {
    std::thread::yield_now();
    Ok(0)
}

fn sys_prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    const PR_SET_NAME: u64 = 15;
    const PR_GET_NAME: u64 = 16;
    const TASK_COMM_LEN: usize = 16;
    match a[0] {
        PR_SET_NAME => {
            let mut name = vec![0u8; TASK_COMM_LEN];
            let n = t.mm.copy_in(a[1], &mut name)?;
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
            t.mm.copy_out_exact(a[1], &name).map(|()| 0)
        }
        // The other options are not offered yet; Linux answers an unknown
        // option with EINVAL.
        _ => Err(Errno::EINVAL),
    }
}
