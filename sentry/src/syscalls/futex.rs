//! `futex(2)` for one thread (gVisor's `sys_futex.go` and `kernel/futex`).
//!
//! With a single task nobody else can wake a waiter, so the operations
//! reduce to their checks: a wait whose value differs is `EAGAIN`, one
//! with a timeout sleeps and is `ETIMEDOUT`, one without a timeout blocks
//! for good (as it would on Linux); wakes and requeues find no waiters and
//! return 0; `FUTEX_WAKE_OP` still updates its second word. Priority
//! inheritance operations are `ENOSYS`.

use std::time::Duration;

use abi_linux::Errno;
use abi_linux::syscalls::x86_64 as nr;

use super::misc::{host_clock, read_timespec};
use super::{Add, Arg, SysResult};
use crate::task::Task;

use Arg::{Hex, Int};

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_REQUEUE: u64 = 3;
const FUTEX_CMP_REQUEUE: u64 = 4;
const FUTEX_WAKE_OP: u64 = 5;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_PRIVATE_FLAG: u64 = 128;
const FUTEX_CLOCK_REALTIME: u64 = 256;

pub(super) fn register(add: &mut Add<'_>) {
    add(nr::FUTEX, sys_futex, &[Hex, Hex, Int, Hex, Hex, Hex]);
}

fn load(t: &Task, addr: u64) -> Result<u32, Errno> {
    let mut raw = [0u8; 4];
    t.mm.copy_in_exact(addr, &mut raw)?;
    Ok(u32::from_le_bytes(raw))
}

/// Waits for a wake that cannot come: until `deadline` (then
/// `ETIMEDOUT`), or for good.
fn wait(deadline: Option<Duration>) -> SysResult {
    match deadline {
        Some(d) => {
            crate::wait::sleep_until(super::misc::deadline_after(d))?;
            Err(Errno::ETIMEDOUT)
        }
        None => {
            // Only a kill ends this wait.
            let waker = crate::wait::TaskWaker::new();
            while !crate::wait::killed() {
                waker.wait(None);
            }
            Err(Errno::EINTR)
        }
    }
}

fn sys_futex(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, op, val, val3) = (a[0], a[1], a[2] as u32, a[5] as u32);
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if cmd == FUTEX_WAIT_BITSET && val3 == 0 {
                return Err(Errno::EINVAL);
            }
            let timeout = match a[3] {
                0 => None,
                ts => Some(read_timespec(t, ts)?),
            };
            if load(t, addr)? != val {
                return Err(Errno::EAGAIN);
            }
            let deadline = match (cmd, timeout) {
                // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's is
                // an absolute time on the chosen clock.
                (FUTEX_WAIT, d) => d,
                (_, Some(at)) => {
                    let clock = if op & FUTEX_CLOCK_REALTIME != 0 { 0 } else { 1 };
                    let (sec, nsec) = host_clock(clock, false)?;
                    let now = Duration::new(sec.max(0) as u64, nsec as u32);
                    Some(at.saturating_sub(now))
                }
                (_, None) => None,
            };
            wait(deadline)
        }
        FUTEX_WAKE | FUTEX_REQUEUE => Ok(0),
        FUTEX_WAKE_BITSET => match val3 {
            0 => Err(Errno::EINVAL),
            _ => Ok(0),
        },
        FUTEX_CMP_REQUEUE => {
            if load(t, addr)? != val3 {
                return Err(Errno::EAGAIN);
            }
            Ok(0)
        }
        FUTEX_WAKE_OP => {
            wake_op(t, a[4], val3)?;
            Ok(0)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// Applies `FUTEX_WAKE_OP`'s operation to the word at `addr2` (the
/// comparison only decides whom to wake, and there is nobody).
fn wake_op(t: &Task, addr2: u64, encoded: u32) -> Result<(), Errno> {
    const FUTEX_OP_OPARG_SHIFT: u32 = 8;
    if !addr2.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let op = (encoded >> 28) & 0xf;
    let cmp = (encoded >> 24) & 0xf;
    let mut oparg = (encoded >> 12) & 0xfff;
    if op & FUTEX_OP_OPARG_SHIFT != 0 {
        oparg = 1u32.checked_shl(oparg).unwrap_or(0);
    }
    if cmp > 5 {
        return Err(Errno::ENOSYS);
    }
    let old = load(t, addr2)?;
    let new = match op & !FUTEX_OP_OPARG_SHIFT {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        4 => old ^ oparg,
        _ => return Err(Errno::ENOSYS),
    };
    t.mm.copy_out_exact(addr2, &new.to_le_bytes())
}
