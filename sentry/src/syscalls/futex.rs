//! `futex(2)` and `futex_waitv(2)` (gVisor's `sys_futex.go`): the
//! arguments decoded once and handed to the kernel's futex queues
//! ([`crate::futex`]). Every operation of the x86_64 table is served:
//! `WAIT`, `WAKE`, `REQUEUE`, `CMP_REQUEUE`, `WAKE_OP`, `WAIT_BITSET`,
//! `WAKE_BITSET`, `LOCK_PI`, `LOCK_PI2`, `TRYLOCK_PI`, `UNLOCK_PI`,
//! `WAIT_REQUEUE_PI` and `CMP_REQUEUE_PI`, with private and shared keys,
//! relative and absolute timeouts and `FUTEX_CLOCK_REALTIME`.
//! `FUTEX_FD` (removed in Linux 2.6.26) is `ENOSYS`.

use std::time::{Duration, Instant};

use abi_linux::futex::{
    FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMD_MASK, FUTEX_CMP_REQUEUE,
    FUTEX_CMP_REQUEUE_PI, FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE,
    FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI,
    FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP,
};
use abi_linux::futex::{
    FUTEX_WAITV_MAX, FUTEX2_PRIVATE, FUTEX2_SIZE_MASK, FUTEX2_SIZE_U32, FutexWaitv,
};
use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{ClockId, Errno};

use super::time::{deadline_after, read_timespec, time_until};
use super::{SysResult, SyscallTable, UserAddr};
use crate::futex::{FutexKey, WaitContext, WaitvEntry};
use crate::task::Task;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::FUTEX, sys_futex);
    table.typed(nr::FUTEX_WAITV, sys_futex_waitv);
}

/// The instant an absolute time `at` on `clock` corresponds to.
fn absolute_deadline(at: Duration, clock: ClockId) -> Result<Instant, Errno> {
    Ok(deadline_after(time_until(at, clock)?))
}

/// The deadline of an absolute timeout at `ts` (null: none) on
/// `CLOCK_REALTIME` when `realtime`, else on `CLOCK_MONOTONIC`.
fn absolute_timeout(t: &Task, ts: UserAddr, realtime: bool) -> Result<Option<Instant>, Errno> {
    if ts.is_null() {
        return Ok(None);
    }
    let clock = if realtime {
        ClockId::REALTIME
    } else {
        ClockId::MONOTONIC
    };
    Ok(Some(absolute_deadline(read_timespec(t, ts)?, clock)?))
}

/// What a futex wait of thread `tid` until `deadline` needs: it ends
/// when the calling task is interrupted.
fn wait_context(tid: i32, deadline: Option<Instant>) -> WaitContext<'static> {
    WaitContext {
        tid,
        deadline,
        interrupted: &crate::wait::interrupted,
    }
}

/// The key of the word at `addr` for operation flags `op`.
fn key(t: &Task, addr: u64, op: i32) -> Result<FutexKey, Errno> {
    t.mm.futex_key(addr, op & FUTEX_PRIVATE_FLAG != 0)
}

/// A wake count of `FUTEX_WAKE`/`FUTEX_WAKE_OP`: Linux wakes one waiter
/// when asked for zero or a negative number.
fn wake_count(v: u64) -> usize {
    (v as u32 as i32).max(1) as usize
}

/// A count argument of the requeue operations: negative is `EINVAL`.
fn count(v: u64) -> Result<usize, Errno> {
    let v = v as u32 as i32;
    usize::try_from(v).map_err(|_| Errno::EINVAL)
}

/// `futex(uaddr, op, val, timeout_or_val2, uaddr2, val3)`.
fn sys_futex(
    t: &mut Task,
    addr: UserAddr,
    op: i32,
    val: u64,
    timeout: u64,
    addr2: UserAddr,
    val3: u32,
) -> SysResult {
    let (addr, addr2) = (addr.get(), addr2.get());
    let cmd = op & FUTEX_CMD_MASK;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    // Only the waits with absolute timeouts take a clock.
    if realtime
        && !matches!(
            cmd,
            FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2
        )
    {
        return Err(Errno::ENOSYS);
    }
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let tid = t.tid;
    let tasks = t.kernel.tasks.clone();
    let alive = move |tid: i32| tasks.thread_alive(tid);
    let futexes = &t.kernel.futexes;
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3
            };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's is an
            // absolute time on the chosen clock.
            let ts = UserAddr(timeout);
            let deadline = match cmd {
                _ if ts.is_null() => None,
                FUTEX_WAIT => Some(deadline_after(read_timespec(t, ts)?)),
                _ => absolute_timeout(t, ts, realtime)?,
            };
            let key = key(t, addr, op)?;
            let cx = wait_context(tid, deadline);
            futexes
                .wait(&t.mm, key, addr, val as u32, bitset, &cx)
                .map(|()| 0)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3
            };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            let key = key(t, addr, op)?;
            Ok(futexes.wake(key, wake_count(val), bitset) as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if !addr2.is_multiple_of(4) {
                return Err(Errno::EINVAL);
            }
            // `timeout` carries the requeue count.
            let (n_wake, n_requeue) = (count(val)?, count(timeout)?);
            let key1 = key(t, addr, op)?;
            let key2 = key(t, addr2, op)?;
            let expected = (cmd == FUTEX_CMP_REQUEUE).then_some(val3);
            futexes
                .requeue(&t.mm, key1, addr, key2, n_wake, n_requeue, expected)
                .map(|n| n as u64)
        }
        FUTEX_WAKE_OP => {
            if !addr2.is_multiple_of(4) {
                return Err(Errno::EINVAL);
            }
            let key1 = key(t, addr, op)?;
            let key2 = key(t, addr2, op)?;
            let counts = (wake_count(val), wake_count(timeout));
            futexes
                .wake_op(&t.mm, key1, key2, addr2, counts, val3)
                .map(|n| n as u64)
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 => {
            // LOCK_PI's timeout is absolute on CLOCK_REALTIME; LOCK_PI2's
            // on CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME.
            let realtime = cmd == FUTEX_LOCK_PI || realtime;
            let deadline = absolute_timeout(t, UserAddr(timeout), realtime)?;
            let key = key(t, addr, op)?;
            let cx = wait_context(tid, deadline);
            futexes.lock_pi(&t.mm, key, addr, &alive, &cx).map(|()| 0)
        }
        FUTEX_TRYLOCK_PI => futexes.trylock_pi(&t.mm, addr, tid, &alive).map(|()| 0),
        FUTEX_UNLOCK_PI => {
            let key = key(t, addr, op)?;
            futexes.unlock_pi(&t.mm, key, addr, tid).map(|()| 0)
        }
        FUTEX_WAIT_REQUEUE_PI => {
            if !addr2.is_multiple_of(4) {
                return Err(Errno::EINVAL);
            }
            let deadline = absolute_timeout(t, UserAddr(timeout), realtime)?;
            let key1 = key(t, addr, op)?;
            let key2 = key(t, addr2, op)?;
            let cx = wait_context(tid, deadline);
            futexes
                .wait_requeue_pi(&t.mm, key1, addr, val as u32, key2, &cx)
                .map(|()| 0)
        }
        FUTEX_CMP_REQUEUE_PI => {
            if !addr2.is_multiple_of(4) {
                return Err(Errno::EINVAL);
            }
            // Linux wakes at most one waiter here.
            if count(val)? != 1 {
                return Err(Errno::EINVAL);
            }
            let key1 = key(t, addr, op)?;
            let key2 = key(t, addr2, op)?;
            if key1 == key2 {
                return Err(Errno::EINVAL);
            }
            futexes
                .cmp_requeue_pi(
                    &t.mm,
                    key1,
                    addr,
                    key2,
                    addr2,
                    count(timeout)?,
                    val3,
                    &alive,
                )
                .map(|n| n as u64)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// `futex_waitv(waiters, nr_futexes, flags, timeout, clockid)`.
fn sys_futex_waitv(
    t: &mut Task,
    waiters: UserAddr,
    n: u32,
    flags: u32,
    timeout: UserAddr,
    clock: ClockId,
) -> SysResult {
    use zerocopy::IntoBytes;

    if flags != 0 || n == 0 || n > FUTEX_WAITV_MAX || waiters.is_null() {
        return Err(Errno::EINVAL);
    }
    let deadline = if timeout.is_null() {
        None
    } else {
        if clock != ClockId::REALTIME && clock != ClockId::MONOTONIC {
            return Err(Errno::EINVAL);
        }
        Some(absolute_deadline(read_timespec(t, timeout)?, clock)?)
    };
    let mut raw = vec![FutexWaitv::default(); n as usize];
    t.mm.copy_in_exact(waiters.get(), raw.as_mut_bytes())?;
    let mut entries = Vec::with_capacity(n as usize);
    for w in &raw {
        let addr = w.uaddr;
        if w.reserved != 0
            || w.flags & !(FUTEX2_SIZE_MASK | FUTEX2_PRIVATE) != 0
            || w.flags & FUTEX2_SIZE_MASK != FUTEX2_SIZE_U32
            || !addr.is_multiple_of(4)
        {
            return Err(Errno::EINVAL);
        }
        let val = u32::try_from(w.val).map_err(|_| Errno::EINVAL)?;
        let key = t.mm.futex_key(addr, w.flags & FUTEX2_PRIVATE != 0)?;
        entries.push(WaitvEntry { key, addr, val });
    }
    let cx = wait_context(t.tid, deadline);
    t.kernel
        .futexes
        .waitv(&t.mm, &entries, &cx)
        .map(|i| i as u64)
}
