//! User and group identity (gVisor's `sys_identity.go` and
//! `sys_capability.go`, Linux's `kernel/sys.c` and `commoncap.c`): the
//! `get*id` and `set*id` families, supplementary groups, `capget` and
//! `capset`. Credentials belong to the thread, as on Linux (libc makes
//! `setuid` process-wide by calling it in every thread).

use abi_linux::capability::{
    LINUX_CAPABILITY_VERSION_1, LINUX_CAPABILITY_VERSION_2, LINUX_CAPABILITY_VERSION_3,
};
use abi_linux::process::NGROUPS_MAX;
use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{CapUserData, CapUserHeader, Capability, CapabilitySet, Errno};
use vfs_core::Credentials;

use super::{SysResult, SyscallTable, UserAddr};
use crate::task::Task;

/// An id argument of -1: leave the id as it is.
const UNCHANGED: u32 = u32::MAX;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::GETUID, sys_getuid);
    table.typed(nr::GETEUID, sys_geteuid);
    table.typed(nr::GETGID, sys_getgid);
    table.typed(nr::GETEGID, sys_getegid);
    table.typed(nr::GETRESUID, sys_getresuid);
    table.typed(nr::GETRESGID, sys_getresgid);
    table.typed(nr::SETUID, sys_setuid);
    table.typed(nr::SETGID, sys_setgid);
    table.typed(nr::SETREUID, sys_setreuid);
    table.typed(nr::SETREGID, sys_setregid);
    table.typed(nr::SETRESUID, sys_setresuid);
    table.typed(nr::SETRESGID, sys_setresgid);
    table.typed(nr::SETFSUID, sys_setfsuid);
    table.typed(nr::SETFSGID, sys_setfsgid);
    table.typed(nr::GETGROUPS, sys_getgroups);
    table.typed(nr::SETGROUPS, sys_setgroups);
    table.typed(nr::CAPGET, sys_capget);
    table.typed(nr::CAPSET, sys_capset);
    table.partial(nr::CAPGET, "the calling thread only (other threads: EPERM)");
    table.partial(nr::CAPSET, "the calling thread only (other threads: EPERM)");
}

fn sys_getuid(t: &mut Task) -> SysResult {
    Ok(u64::from(t.ctx.credentials.real_uid))
}

fn sys_geteuid(t: &mut Task) -> SysResult {
    Ok(u64::from(t.ctx.credentials.effective_uid))
}

fn sys_getgid(t: &mut Task) -> SysResult {
    Ok(u64::from(t.ctx.credentials.real_gid))
}

fn sys_getegid(t: &mut Task) -> SysResult {
    Ok(u64::from(t.ctx.credentials.effective_gid))
}

fn put_three(t: &Task, addrs: [UserAddr; 3], vals: [u32; 3]) -> SysResult {
    for (addr, v) in addrs.into_iter().zip(vals) {
        t.mm.write_obj(addr.get(), &v)?;
    }
    Ok(0)
}

fn sys_getresuid(t: &mut Task, r: UserAddr, e: UserAddr, s: UserAddr) -> SysResult {
    let c = &t.ctx.credentials;
    let vals = [c.real_uid, c.effective_uid, c.saved_uid];
    put_three(t, [r, e, s], vals)
}

fn sys_getresgid(t: &mut Task, r: UserAddr, e: UserAddr, s: UserAddr) -> SysResult {
    let c = &t.ctx.credentials;
    let vals = [c.real_gid, c.effective_gid, c.saved_gid];
    put_three(t, [r, e, s], vals)
}

/// Real, effective and saved ids.
type Ids = [u32; 3];

/// Linux's `cap_emulate_setxuid`: leaving root loses capabilities (the
/// permitted ones are kept under `PR_SET_KEEPCAPS`).
fn fix_capabilities(c: &mut Credentials, old: Ids, keep_caps: bool) {
    let [r, e, s] = [c.real_uid, c.effective_uid, c.saved_uid];
    if old.contains(&0) && r != 0 && e != 0 && s != 0 {
        if !keep_caps {
            c.permitted_caps = CapabilitySet::empty();
            c.effective_caps = CapabilitySet::empty();
        }
        c.ambient_caps = CapabilitySet::empty();
    }
    if old[1] == 0 && e != 0 {
        c.effective_caps = CapabilitySet::empty();
    }
    if old[1] != 0 && e == 0 {
        c.effective_caps = c.permitted_caps;
    }
}

/// Applies `setresuid`-style new ids (`UNCHANGED` keeps one) to `old`: an
/// unprivileged caller may only pick among its current ids.
fn new_ids(old: Ids, new: Ids, privileged: bool) -> Result<Ids, Errno> {
    let mut out = old;
    for (slot, id) in out.iter_mut().zip(new) {
        if id == UNCHANGED {
            continue;
        }
        if !privileged && !old.contains(&id) {
            return Err(Errno::EPERM);
        }
        *slot = id;
    }
    Ok(out)
}

fn uids(c: &Credentials) -> Ids {
    [c.real_uid, c.effective_uid, c.saved_uid]
}

fn gids(c: &Credentials) -> Ids {
    [c.real_gid, c.effective_gid, c.saved_gid]
}

/// Sets the real, effective and saved user IDs; the filesystem ID
/// follows the effective one.
fn set_uids(t: &mut Task, ids: Ids) {
    let keep_caps = t.group.attrs().keep_caps;
    let before = t.ctx.credentials.clone();
    let c = &mut t.ctx.credentials;
    [c.real_uid, c.effective_uid, c.saved_uid] = ids;
    c.fs_uid = c.effective_uid;
    fix_capabilities(c, uids(&before), keep_caps);
    commit(t, &before);
}

fn set_gids(t: &mut Task, ids: Ids) {
    let before = t.ctx.credentials.clone();
    let c = &mut t.ctx.credentials;
    [c.real_gid, c.effective_gid, c.saved_gid] = ids;
    c.fs_gid = c.effective_gid;
    commit(t, &before);
}

/// The capabilities that follow the filesystem user ID (Linux's
/// `CAP_FS_MASK`): leaving fsuid 0 drops them from the effective set,
/// returning to it raises the permitted ones again.
const FS_CAPABILITIES: [Capability; 7] = [
    Capability::CHOWN,
    Capability::DAC_OVERRIDE,
    Capability::DAC_READ_SEARCH,
    Capability::FOWNER,
    Capability::FSETID,
    Capability::MKNOD,
    Capability::MAC_OVERRIDE,
];

/// `setfsuid(uid)`: always returns the previous filesystem user ID; the
/// change happens when `uid` is one of the real, effective, saved or
/// current filesystem IDs, or the caller has `CAP_SETUID` (an invalid
/// id, -1, changes nothing: the way to query the current one).
fn sys_setfsuid(t: &mut Task, uid: u32) -> SysResult {
    let before = t.ctx.credentials.clone();
    let old = before.fs_uid;
    let allowed = uid != UNCHANGED
        && ([before.real_uid, before.effective_uid, before.saved_uid, old].contains(&uid)
            || before.has_capability(Capability::SETUID));
    if allowed && uid != old {
        let c = &mut t.ctx.credentials;
        c.fs_uid = uid;
        for cap in FS_CAPABILITIES {
            if old == 0 {
                c.effective_caps.remove(cap);
            } else if uid == 0 && c.permitted_caps.contains(cap) {
                c.effective_caps.insert(cap);
            }
        }
        commit(t, &before);
    }
    Ok(u64::from(old))
}

/// `setfsgid(gid)`: as `setfsuid`, with `CAP_SETGID`.
fn sys_setfsgid(t: &mut Task, gid: u32) -> SysResult {
    let before = t.ctx.credentials.clone();
    let old = before.fs_gid;
    let allowed = gid != UNCHANGED
        && ([before.real_gid, before.effective_gid, before.saved_gid, old].contains(&gid)
            || before.has_capability(Capability::SETGID));
    if allowed && gid != old {
        t.ctx.credentials.fs_gid = gid;
        commit(t, &before);
    }
    Ok(u64::from(old))
}

/// Publishes the task's new credentials to its group; when an effective
/// or filesystem ID changed or capabilities were gained, the process
/// becomes non-dumpable (`fs.suid_dumpable` 0) and loses its
/// parent-death signal, as Linux's `commit_creds` does.
fn commit(t: &mut Task, before: &Credentials) {
    let c = &t.ctx.credentials;
    let changed = c.effective_uid != before.effective_uid
        || c.effective_gid != before.effective_gid
        || c.fs_uid != before.fs_uid
        || c.fs_gid != before.fs_gid
        || !c.permitted_caps.is_subset(before.permitted_caps);
    if changed {
        let mut attrs = t.group.attrs();
        attrs.dumpable = false;
        attrs.pdeathsig = 0;
    }
    t.group.set_credentials(t.ctx.credentials.clone());
}

fn sys_setresuid(t: &mut Task, r: u32, e: u32, s: u32) -> SysResult {
    let c = &t.ctx.credentials;
    let ids = new_ids(uids(c), [r, e, s], c.has_capability(Capability::SETUID))?;
    set_uids(t, ids);
    Ok(0)
}

fn sys_setresgid(t: &mut Task, r: u32, e: u32, s: u32) -> SysResult {
    let c = &t.ctx.credentials;
    let ids = new_ids(gids(c), [r, e, s], c.has_capability(Capability::SETGID))?;
    set_gids(t, ids);
    Ok(0)
}

/// `setreuid`/`setregid`: the real id may become the effective one, the
/// effective id any of the three; the saved id follows the new effective
/// id when the real id is set or the effective one changes away from
/// the real id.
fn setre(old: Ids, r: u32, e: u32, privileged: bool) -> Result<Ids, Errno> {
    let [old_r, old_e, _] = old;
    if r != UNCHANGED && !privileged && r != old_r && r != old_e {
        return Err(Errno::EPERM);
    }
    if e != UNCHANGED && !privileged && !old.contains(&e) {
        return Err(Errno::EPERM);
    }
    let mut ids = old;
    if r != UNCHANGED {
        ids[0] = r;
    }
    if e != UNCHANGED {
        ids[1] = e;
    }
    if r != UNCHANGED || (e != UNCHANGED && e != old_r) {
        ids[2] = ids[1];
    }
    Ok(ids)
}

fn sys_setreuid(t: &mut Task, r: u32, e: u32) -> SysResult {
    let c = &t.ctx.credentials;
    let ids = setre(uids(c), r, e, c.has_capability(Capability::SETUID))?;
    set_uids(t, ids);
    Ok(0)
}

fn sys_setregid(t: &mut Task, r: u32, e: u32) -> SysResult {
    let c = &t.ctx.credentials;
    let ids = setre(gids(c), r, e, c.has_capability(Capability::SETGID))?;
    set_gids(t, ids);
    Ok(0)
}

/// `setuid`/`setgid`: with the capability all three ids change; without
/// it the effective id may become the real or saved one.
fn set_one(old: Ids, id: u32, privileged: bool) -> Result<Ids, Errno> {
    if id == UNCHANGED {
        return Err(Errno::EINVAL);
    }
    if privileged {
        return Ok([id; 3]);
    }
    if id == old[0] || id == old[2] {
        return Ok([old[0], id, old[2]]);
    }
    Err(Errno::EPERM)
}

fn sys_setuid(t: &mut Task, uid: u32) -> SysResult {
    let c = &t.ctx.credentials;
    let ids = set_one(uids(c), uid, c.has_capability(Capability::SETUID))?;
    set_uids(t, ids);
    Ok(0)
}

fn sys_setgid(t: &mut Task, gid: u32) -> SysResult {
    let c = &t.ctx.credentials;
    let ids = set_one(gids(c), gid, c.has_capability(Capability::SETGID))?;
    set_gids(t, ids);
    Ok(0)
}

fn sys_getgroups(t: &mut Task, size: i32, list: UserAddr) -> SysResult {
    let groups = &t.ctx.credentials.extra_gids;
    let size = usize::try_from(size).map_err(|_| Errno::EINVAL)?;
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if size < groups.len() {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_ne_bytes()).collect();
    t.mm.copy_out_exact(list.get(), &bytes)?;
    Ok(groups.len() as u64)
}

fn sys_setgroups(t: &mut Task, size: usize, list: UserAddr) -> SysResult {
    if size > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    if !t.ctx.credentials.has_capability(Capability::SETGID) {
        return Err(Errno::EPERM);
    }
    let mut raw = vec![0u8; size * 4];
    t.mm.copy_in_exact(list.get(), &mut raw)?;
    let mut groups: Vec<u32> = raw
        .chunks_exact(4)
        .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    // Linux keeps the list sorted (for its binary search), duplicates
    // included.
    groups.sort_unstable();
    t.ctx.credentials.extra_gids = groups;
    t.group.set_credentials(t.ctx.credentials.clone());
    Ok(0)
}

/// The number of `CapUserData` words a header's version passes; `EINVAL`
/// (with the preferred version written back) for an unknown version.
fn cap_words(t: &Task, header_addr: UserAddr) -> Result<(CapUserHeader, usize), Errno> {
    let mut header: CapUserHeader = t.mm.read_obj(header_addr.get())?;
    let words = match header.version {
        LINUX_CAPABILITY_VERSION_1 => 1,
        LINUX_CAPABILITY_VERSION_2 | LINUX_CAPABILITY_VERSION_3 => 2,
        _ => {
            header.version = LINUX_CAPABILITY_VERSION_3;
            t.mm.write_obj(header_addr.get(), &header)?;
            return Err(Errno::EINVAL);
        }
    };
    if header.pid < 0 {
        return Err(Errno::EINVAL);
    }
    Ok((header, words))
}

fn sys_capget(t: &mut Task, header: UserAddr, data: UserAddr) -> SysResult {
    let (header, words) = cap_words(t, header)?;
    if header.pid != 0 && header.pid != t.tid {
        // Another thread's sets: the sentry keeps them per thread and
        // does not reach across.
        t.kernel
            .tasks
            .group_of_thread(header.pid)
            .ok_or(Errno::ESRCH)?;
        return Err(Errno::EPERM);
    }
    if data.is_null() {
        return Ok(0);
    }
    let c = &t.ctx.credentials;
    let sets = [c.effective_caps, c.permitted_caps, c.inheritable_caps].map(|s| s.bits());
    let out: Vec<CapUserData> = (0..words)
        .map(|i| CapUserData {
            effective: (sets[0] >> (32 * i)) as u32,
            permitted: (sets[1] >> (32 * i)) as u32,
            inheritable: (sets[2] >> (32 * i)) as u32,
        })
        .collect();
    use zerocopy::IntoBytes;
    t.mm.copy_out_exact(data.get(), out.as_bytes())?;
    Ok(0)
}

fn sys_capset(t: &mut Task, header: UserAddr, data: UserAddr) -> SysResult {
    let (header, words) = cap_words(t, header)?;
    if header.pid != 0 && header.pid != t.tid {
        return Err(Errno::EPERM);
    }
    let mut sets = [0u64; 3];
    for i in 0..words {
        let at = data.get().checked_add(i as u64 * 12).ok_or(Errno::EFAULT)?;
        let d: CapUserData = t.mm.read_obj(at)?;
        for (set, word) in sets
            .iter_mut()
            .zip([d.effective, d.permitted, d.inheritable])
        {
            *set |= u64::from(word) << (32 * i);
        }
    }
    let [effective, permitted, inheritable] = sets.map(CapabilitySet::from_bits);
    let c = &mut t.ctx.credentials;
    // Linux's `cap_capset`: no new permitted capabilities; inheritable
    // within permitted and the bounding set unless CAP_SETPCAP;
    // effective within the new permitted set.
    let may_setpcap = c.has_capability(Capability::SETPCAP);
    let inheritable_limit = if may_setpcap {
        c.inheritable_caps.union(c.bounding_caps)
    } else {
        c.inheritable_caps.union(c.permitted_caps)
    };
    if !permitted.is_subset(c.permitted_caps)
        || !inheritable.is_subset(inheritable_limit)
        || !inheritable.is_subset(c.inheritable_caps.union(c.bounding_caps))
        || !effective.is_subset(permitted)
    {
        return Err(Errno::EPERM);
    }
    c.effective_caps = effective;
    c.permitted_caps = permitted;
    c.inheritable_caps = inheritable;
    c.ambient_caps = c
        .ambient_caps
        .intersection(permitted.intersection(inheritable));
    t.group.set_credentials(t.ctx.credentials.clone());
    Ok(0)
}
