//! NUMA memory policies (gVisor's `sys_mempolicy.go`, Linux's
//! `mm/mempolicy.c`): `set_mempolicy`, `get_mempolicy` and `mbind`. The
//! sandbox has one memory node, node 0; policies are checked as Linux
//! checks them against that node, kept, and reported back. Every page is
//! on node 0 whatever the policy says.

use abi_linux::Errno;
use abi_linux::mm::*;
use abi_linux::syscalls::x86_64 as nr;

use super::{SysResult, SyscallTable, UserAddr};
use crate::elf::PAGE_SIZE;
use crate::mm::MemPolicy;
use crate::task::Task;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::SET_MEMPOLICY, sys_set_mempolicy);
    table.typed(nr::GET_MEMPOLICY, sys_get_mempolicy);
    table.typed(nr::MBIND, sys_mbind);
    table.partial(
        nr::SET_MEMPOLICY,
        "one memory node (node 0); the policy is kept per process (Linux keeps it per \
         thread)",
    );
    table.partial(
        nr::MBIND,
        "one memory node (node 0): every page is already there",
    );
}

/// The nodes the sandbox has: node 0.
const ALLOWED_NODES: u64 = 1;
/// `nr_node_ids`: how many node IDs there are.
const NODE_IDS: u64 = 1;
/// The most nodes a mask may name (Linux's `MAX_NUMNODES` on common
/// configurations); bits beyond it must be clear.
const MAX_NUMNODES: u64 = 1024;

/// Splits a mode argument into mode and flags and checks them (Linux's
/// `sanitize_mpol_flags`): `EINVAL` for an unknown mode, both node-flag
/// kinds together, or NUMA balancing with a mode other than BIND and
/// PREFERRED_MANY.
fn split_mode(raw: i32) -> Result<(u16, u16), Errno> {
    let raw = u16::try_from(raw).map_err(|_| Errno::EINVAL)?;
    let (mode, flags) = (raw & !MPOL_MODE_FLAGS, raw & MPOL_MODE_FLAGS);
    let both = MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES;
    if mode >= MPOL_MAX
        || flags & both == both
        || (flags & MPOL_F_NUMA_BALANCING != 0 && mode != MPOL_BIND && mode != MPOL_PREFERRED_MANY)
    {
        return Err(Errno::EINVAL);
    }
    Ok((mode, flags))
}

/// Reads a node mask of `maxnode - 1` bits (Linux's `get_nodes`); returns
/// its first 64 bits. Empty for a null mask or `maxnode` of 0 or 1;
/// `EINVAL` past a page of bits or with a node past [`MAX_NUMNODES`].
fn read_nodes(t: &Task, mask: UserAddr, maxnode: u64) -> Result<u64, Errno> {
    let bits = maxnode.wrapping_sub(1);
    if bits == 0 || mask.is_null() {
        return Ok(0);
    }
    if bits > PAGE_SIZE * 8 {
        return Err(Errno::EINVAL);
    }
    let mut words = vec![0u64; bits.div_ceil(64) as usize];
    for (i, word) in words.iter_mut().enumerate() {
        *word = t.mm.read_obj(mask.get() + i as u64 * 8)?;
    }
    if !bits.is_multiple_of(64)
        && let Some(last) = words.last_mut()
    {
        *last &= (1 << (bits % 64)) - 1;
    }
    if words
        .iter()
        .skip((MAX_NUMNODES / 64) as usize)
        .any(|&w| w != 0)
    {
        return Err(Errno::EINVAL);
    }
    Ok(words[0])
}

/// Makes a policy (Linux's `mpol_new` and `mpol_set_nodemask`): none for
/// `MPOL_DEFAULT` (`EINVAL` with nodes); PREFERRED with no nodes is
/// LOCAL; LOCAL takes none; the other modes need at least one node the
/// sandbox has (`EINVAL`).
fn new_policy(mode: u16, flags: u16, nodes: u64) -> Result<Option<MemPolicy>, Errno> {
    let given = nodes;
    let node_flags = flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES);
    let mode = match mode {
        MPOL_DEFAULT if nodes != 0 => return Err(Errno::EINVAL),
        MPOL_DEFAULT => return Ok(None),
        MPOL_PREFERRED if nodes == 0 && node_flags != 0 => return Err(Errno::EINVAL),
        MPOL_PREFERRED if nodes == 0 => MPOL_LOCAL,
        MPOL_LOCAL if nodes != 0 || node_flags != 0 => return Err(Errno::EINVAL),
        MPOL_LOCAL => MPOL_LOCAL,
        _ if nodes == 0 => return Err(Errno::EINVAL),
        m => m,
    };
    let usable = match flags & MPOL_F_RELATIVE_NODES {
        // Relative node numbers fold onto the allowed nodes: with one
        // node every one of them lands on it.
        0 => nodes & ALLOWED_NODES,
        _ => ALLOWED_NODES,
    };
    let nodes = match mode {
        MPOL_LOCAL => 0,
        _ if usable == 0 => return Err(Errno::EINVAL),
        // PREFERRED keeps the first usable node only.
        MPOL_PREFERRED => usable & usable.wrapping_neg(),
        _ => usable,
    };
    Ok(Some(MemPolicy {
        mode: mode | flags,
        nodes,
        user_nodes: given,
    }))
}

fn sys_set_mempolicy(t: &mut Task, mode: i32, mask: UserAddr, maxnode: u64) -> SysResult {
    let (mode, flags) = split_mode(mode)?;
    let nodes = read_nodes(t, mask, maxnode)?;
    let policy = new_policy(mode, flags, nodes)?;
    t.group.attrs().mempolicy = policy;
    Ok(0)
}

/// The mask `get_mempolicy` reports for `policy`: the caller's nodes for
/// static or relative ones, the nodes in use otherwise (none for
/// DEFAULT and LOCAL).
fn reported_nodes(policy: Option<MemPolicy>) -> u64 {
    match policy {
        None => 0,
        Some(p) if p.mode & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES) != 0 => p.user_nodes,
        Some(p) => p.nodes,
    }
}

/// Writes a node mask of `maxnode - 1` bits (Linux's
/// `copy_nodes_to_user`): the sandbox's one word, the rest zeroed.
fn write_nodes(t: &Task, mask: UserAddr, maxnode: u64, nodes: u64) -> Result<(), Errno> {
    // Linux's ALIGN(maxnode - 1, 64) wraps to 0 for the largest counts.
    let mut copy = (maxnode.wrapping_sub(1).wrapping_add(63) & !63) / 8;
    let word = NODE_IDS.div_ceil(64) * 8;
    if copy > word {
        if copy > PAGE_SIZE {
            return Err(Errno::EINVAL);
        }
        let zeros = vec![0u8; (copy - word) as usize];
        t.mm.copy_out_exact(mask.get() + word, &zeros)?;
        copy = word;
    }
    t.mm.copy_out_exact(mask.get(), &nodes.to_le_bytes()[..copy as usize])
}

/// `get_mempolicy(2)` (Linux's `do_get_mempolicy`): the task's policy, or
/// with `MPOL_F_ADDR` the mapping's at `addr` (DEFAULT when `mbind` set
/// none); `MPOL_F_NODE` gives a node instead of the mode (the page's
/// with an address, the next interleave node of an interleaving task);
/// `MPOL_F_MEMS_ALLOWED` gives the allowed nodes.
fn sys_get_mempolicy(
    t: &mut Task,
    mode_out: UserAddr,
    mask: UserAddr,
    maxnode: u64,
    addr: UserAddr,
    flags: u64,
) -> SysResult {
    if !mask.is_null() && maxnode < NODE_IDS {
        return Err(Errno::EINVAL);
    }
    if flags & !(MPOL_F_NODE | MPOL_F_ADDR | MPOL_F_MEMS_ALLOWED) != 0 {
        return Err(Errno::EINVAL);
    }
    let (value, nodes) = if flags & MPOL_F_MEMS_ALLOWED != 0 {
        if flags & (MPOL_F_NODE | MPOL_F_ADDR) != 0 {
            return Err(Errno::EINVAL);
        }
        (0, ALLOWED_NODES)
    } else {
        let policy = match flags & MPOL_F_ADDR {
            0 if !addr.is_null() => return Err(Errno::EINVAL),
            0 => t.group.attrs().mempolicy,
            _ => t.mm.policy_at(addr.get())?,
        };
        let value = if flags & MPOL_F_NODE == 0 {
            policy.map_or(u32::from(MPOL_DEFAULT), |p| u32::from(p.mode))
        } else if flags & MPOL_F_ADDR != 0 {
            // The node of the page, made present as a read makes it.
            let mut byte = [0u8];
            t.mm.copy_in_exact(addr.get() & !(PAGE_SIZE - 1), &mut byte)?;
            0
        } else {
            match policy.map(|p| p.mode & !MPOL_MODE_FLAGS) {
                Some(MPOL_INTERLEAVE | MPOL_WEIGHTED_INTERLEAVE) => 0,
                _ => return Err(Errno::EINVAL),
            }
        };
        (value, reported_nodes(policy))
    };
    if !mode_out.is_null() {
        t.mm.write_obj(mode_out.get(), &value)?;
    }
    if !mask.is_null() {
        write_nodes(t, mask, maxnode, nodes)?;
    }
    Ok(0)
}

/// `mbind(2)` (Linux's `do_mbind`): flags beyond STRICT/MOVE/MOVE_ALL are
/// `EINVAL`, MOVE_ALL needs `CAP_SYS_NICE` (`EPERM`); an unaligned start
/// is `EINVAL`; an empty range does nothing; a range with a hole is
/// `EFAULT`. Pages never need moving: all are on node 0.
fn sys_mbind(
    t: &mut Task,
    addr: UserAddr,
    len: u64,
    mode: i32,
    mask: UserAddr,
    maxnode: u64,
    flags: u32,
) -> SysResult {
    let (mode, mode_flags) = split_mode(mode)?;
    let nodes = read_nodes(t, mask, maxnode)?;
    if flags & !(MPOL_MF_STRICT | MPOL_MF_MOVE | MPOL_MF_MOVE_ALL) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MPOL_MF_MOVE_ALL != 0
        && !t
            .ctx
            .credentials
            .has_capability(abi_linux::Capability::SYS_NICE)
    {
        return Err(Errno::EPERM);
    }
    let start = addr.get();
    if !start.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let end = len
        .checked_next_multiple_of(PAGE_SIZE)
        .and_then(|l| start.checked_add(l))
        .ok_or(Errno::EINVAL)?;
    if end == start {
        return Ok(0);
    }
    let policy = new_policy(mode, mode_flags, nodes)?;
    t.mm.set_policy(start, end, policy)?;
    Ok(0)
}
