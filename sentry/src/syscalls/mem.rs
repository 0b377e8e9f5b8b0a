//! Memory system calls (gVisor's `sys_mmap.go`).

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, MadviseAdvice, MmapFlags, MmapProt, MremapFlags, MsyncFlags};
use platform::Access;
use vfs_core::PathNameError;
use vfs_core::memmap::{AccessType, MmapOpts};

use super::{Fd, SysResult, SyscallTable, UserAddr};
use crate::mm::FileMapping;
use crate::task::Task;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::BRK, sys_brk);
    table.typed(nr::MMAP, sys_mmap);
    table.typed(nr::MUNMAP, sys_munmap);
    table.typed(nr::MPROTECT, sys_mprotect);
    table.typed(nr::MREMAP, sys_mremap);
    table.typed(nr::MADVISE, sys_madvise);
    table.typed(nr::MSYNC, sys_msync);
    table.typed(nr::MLOCK, sys_mlock);
    table.typed(nr::MLOCK2, sys_mlock2);
    table.typed(nr::MUNLOCK, sys_munlock);
    table.typed(nr::MLOCKALL, sys_mlockall);
    table.typed(nr::MUNLOCKALL, sys_munlockall);
    table.typed(nr::MINCORE, sys_mincore);
    table.typed(nr::MEMBARRIER, sys_membarrier);
    table.typed(nr::PROCESS_VM_READV, sys_process_vm_readv);
    table.typed(nr::PROCESS_VM_WRITEV, sys_process_vm_writev);
    table.partial(
        nr::MEMBARRIER,
        "GLOBAL and PRIVATE_EXPEDITED (with its registration); both are served by the \
         host's MEMBARRIER_CMD_GLOBAL, so an expedited barrier costs a global one",
    );
    table.partial(
        nr::MINCORE,
        "file pages always count as resident (the sentry never swaps); an anonymous page \
         is resident once touched, or populated with a touched neighbour",
    );
    for n in [nr::MLOCK, nr::MLOCK2, nr::MLOCKALL] {
        table.partial(
            n,
            "checked as Linux checks it (range, RLIMIT_MEMLOCK, CAP_IPC_LOCK); the sentry \
             never pages application memory out, and locked bytes are not totalled",
        );
    }
    table.partial(nr::MREMAP, "MREMAP_FIXED and MREMAP_DONTUNMAP are EINVAL");
    table.partial(
        nr::MADVISE,
        "MADV_DONTNEED discards; the other hints Linux accepts are accepted and change nothing",
    );
}

/// `ENOMEM` if `grow` more bytes of mappings would pass `RLIMIT_AS`.
fn check_address_space(t: &Task, grow: u64) -> Result<(), Errno> {
    let limit = t.ctx.limits.cur(abi_linux::RlimitResource::AS);
    // Summing the mappings walks every VMA: only when there is a limit.
    if limit != abi_linux::RLIM_INFINITY && t.mm.mapped_bytes().saturating_add(grow) > limit {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

/// `ENOMEM` if `grow` more bytes of private writable mappings would pass
/// `RLIMIT_DATA` (Linux's `may_expand_vm` for data mappings).
fn check_data(t: &Task, grow: u64) -> Result<(), Errno> {
    let limit = t.ctx.limits.cur(abi_linux::RlimitResource::DATA);
    if limit != abi_linux::RLIM_INFINITY && t.mm.data_bytes().saturating_add(grow) > limit {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

fn perms(prot: MmapProt) -> Result<Access, Errno> {
    if !MmapProt::all().contains(prot) {
        return Err(Errno::EINVAL);
    }
    Ok(Access {
        read: prot.contains(MmapProt::READ),
        write: prot.contains(MmapProt::WRITE),
        execute: prot.contains(MmapProt::EXEC),
    })
}

/// `brk(addr)`: a growth past `RLIMIT_AS` or `RLIMIT_DATA` leaves the
/// break where it is, as any failure does.
fn sys_brk(t: &mut Task, addr: UserAddr) -> SysResult {
    use abi_linux::RlimitResource::{AS, DATA};
    // malloc calls brk often; the limits are looked at only when set.
    if [AS, DATA]
        .into_iter()
        .any(|r| t.ctx.limits.cur(r) != abi_linux::RLIM_INFINITY)
    {
        let current = t.mm.brk(0);
        let grow = addr.get().saturating_sub(current);
        if grow > 0 && (check_address_space(t, grow).is_err() || check_data(t, grow).is_err()) {
            return Ok(current);
        }
    }
    Ok(t.mm.brk(addr.get()))
}

fn sys_mmap(
    t: &mut Task,
    addr: UserAddr,
    len: u64,
    prot: MmapProt,
    flags: MmapFlags,
    fd: Fd,
    offset: u64,
) -> SysResult {
    let addr = addr.get();
    let flags = flags.intersection(MmapFlags::all());
    let kind = flags & MmapFlags::TYPE;
    let shared = match kind {
        k if k == MmapFlags::SHARED || k == MmapFlags::SHARED_VALIDATE => true,
        k if k == MmapFlags::PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let fixed = flags.intersects(MmapFlags::FIXED | MmapFlags::FIXED_NOREPLACE);
    if fixed && !addr.is_multiple_of(crate::elf::PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let perms = perms(prot)?;
    check_address_space(t, len)?;
    if perms.write && !shared && !flags.contains(MmapFlags::GROWSDOWN) {
        check_data(t, len)?;
    }
    if flags.contains(MmapFlags::FIXED_NOREPLACE) && !flags.contains(MmapFlags::FIXED) {
        let overlaps =
            t.mm.vmas()
                .iter()
                .any(|(start, v)| *start < addr.saturating_add(len) && v.end > addr);
        if overlaps {
            return Err(Errno::EEXIST);
        }
    }
    if !flags.contains(MmapFlags::ANONYMOUS) {
        let request = FileRequest {
            addr,
            len,
            offset,
            perms,
            private: !shared,
            fixed,
        };
        return map_file(t, fd, request);
    }
    t.mm.map_anonymous(addr, len, perms, shared, fixed, None)
}

/// A file `mmap` request.
struct FileRequest {
    addr: u64,
    len: u64,
    offset: u64,
    perms: Access,
    private: bool,
    fixed: bool,
}

/// Maps the file at `fd`: its description checks the request and names the
/// Mappable (`ENODEV` for files that cannot be mapped).
fn map_file(t: &mut Task, fd: Fd, r: FileRequest) -> SysResult {
    let file = t.fds.get(fd.0)?;
    let mut opts = MmapOpts {
        length: r.len,
        offset: r.offset,
        addr: r.addr,
        fixed: r.fixed,
        perms: AccessType::new(r.perms.read, r.perms.write, r.perms.execute),
        max_perms: AccessType::ANY,
        private: r.private,
        ..MmapOpts::default()
    };
    let configured = file.configure_mmap(&t.ctx, &mut opts);
    let name = mapped_path(t, &file);
    file.release(&t.ctx);
    configured?;
    let (Some(mappable), Some(identity)) = (opts.mappable, opts.mapping_identity) else {
        return Err(Errno::ENODEV);
    };
    let max = opts.max_perms;
    let mapping = FileMapping {
        mappable,
        identity,
        offset: r.offset,
        private: r.private,
        max_perms: Access {
            read: max.read,
            write: max.write,
            execute: max.execute,
        },
    };
    t.mm.map_file(r.addr, r.len, r.perms, r.fixed, mapping, name)
}

/// The path `/proc/PID/maps` shows for a mapping of `file`.
fn mapped_path(t: &Task, file: &vfs_core::FileRef) -> Option<String> {
    let (root, cwd) = t.fs.root_and_cwd().ok()?;
    let vd = file.virtual_dentry();
    let name = match t.kernel.vfs.path_name(&root, &vd) {
        Ok(path) | Err(PathNameError::Unreachable(path)) => Some(path),
        Err(PathNameError::Synthetic) => None,
    };
    vd.release(&t.ctx);
    root.release(&t.ctx);
    cwd.release(&t.ctx);
    name.map(|n| String::from_utf8_lossy(&n).into_owned())
}

fn sys_munmap(t: &mut Task, addr: UserAddr, len: u64) -> SysResult {
    t.mm.unmap(addr.get(), len).map(|()| 0)
}

fn sys_mprotect(t: &mut Task, addr: UserAddr, len: u64, prot: MmapProt) -> SysResult {
    t.mm.protect(addr.get(), len, perms(prot)?).map(|()| 0)
}

fn sys_mremap(
    t: &mut Task,
    addr: UserAddr,
    old_len: u64,
    new_len: u64,
    flags: MremapFlags,
    new_addr: UserAddr,
) -> SysResult {
    let _ = new_addr;
    if !MremapFlags::all().contains(flags) {
        return Err(Errno::EINVAL);
    }
    if flags.intersects(MremapFlags::FIXED | MremapFlags::DONTUNMAP) {
        // Moving to a chosen address is not implemented yet.
        return Err(Errno::EINVAL);
    }
    let grow = new_len.saturating_sub(old_len);
    check_address_space(t, grow)?;
    let data =
        t.mm.vmas()
            .into_iter()
            .any(|(start, v)| start <= addr.get() && addr.get() < v.end && v.is_data());
    if data {
        check_data(t, grow)?;
    }
    let may_move = flags.contains(MremapFlags::MAYMOVE);
    t.mm.remap(addr.get(), old_len, new_len, may_move)
}

fn sys_madvise(t: &mut Task, addr: UserAddr, len: u64, advice: MadviseAdvice) -> SysResult {
    match advice {
        MadviseAdvice::DONTNEED => t.mm.discard(addr.get(), len).map(|()| 0),
        MadviseAdvice::NORMAL
        | MadviseAdvice::RANDOM
        | MadviseAdvice::SEQUENTIAL
        | MadviseAdvice::WILLNEED
        | MadviseAdvice::FREE
        | MadviseAdvice::DONTFORK
        | MadviseAdvice::DOFORK
        | MadviseAdvice::MERGEABLE => {
            if !addr.get().is_multiple_of(crate::elf::PAGE_SIZE) {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

fn sys_msync(t: &mut Task, addr: UserAddr, len: u64, flags: MsyncFlags) -> SysResult {
    if !MsyncFlags::all().contains(flags) || flags.contains(MsyncFlags::ASYNC | MsyncFlags::SYNC) {
        return Err(Errno::EINVAL);
    }
    t.mm.sync(addr.get(), len, flags.contains(MsyncFlags::SYNC))
        .map(|()| 0)
}

/// The page-aligned range `mlock`/`munlock` cover: from `addr`'s page to
/// the end of `addr + len`'s; `ENOMEM` when it wraps.
fn lock_range(addr: u64, len: u64) -> Result<(u64, u64), Errno> {
    let start = addr & !(crate::elf::PAGE_SIZE - 1);
    let end = addr
        .checked_add(len)
        .and_then(|e| e.checked_next_multiple_of(crate::elf::PAGE_SIZE))
        .ok_or(Errno::ENOMEM)?;
    Ok((start, end))
}

/// Linux's `can_do_mlock` and the `RLIMIT_MEMLOCK` check for `bytes`:
/// `EPERM` with a zero limit and no `CAP_IPC_LOCK`, `ENOMEM` past it.
fn check_memlock(t: &Task, bytes: u64) -> Result<(), Errno> {
    if t.ctx
        .credentials
        .has_capability(abi_linux::Capability::IPC_LOCK)
    {
        return Ok(());
    }
    let limit = t.ctx.limits.cur(abi_linux::RlimitResource::MEMLOCK);
    if limit == 0 {
        return Err(Errno::EPERM);
    }
    if limit != abi_linux::RLIM_INFINITY && bytes > limit {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

fn mlock(t: &Task, addr: UserAddr, len: u64) -> SysResult {
    let (start, end) = lock_range(addr.get(), len)?;
    check_memlock(t, end - start)?;
    if !t.mm.is_range_mapped(start, end) {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

fn sys_mlock(t: &mut Task, addr: UserAddr, len: u64) -> SysResult {
    mlock(t, addr, len)
}

fn sys_mlock2(t: &mut Task, addr: UserAddr, len: u64, flags: u32) -> SysResult {
    use abi_linux::mm::MLOCK_ONFAULT;
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    mlock(t, addr, len)
}

fn sys_munlock(t: &mut Task, addr: UserAddr, len: u64) -> SysResult {
    let (start, end) = lock_range(addr.get(), len)?;
    if !t.mm.is_range_mapped(start, end) {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

fn sys_mlockall(t: &mut Task, flags: u32) -> SysResult {
    use abi_linux::mm::{MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT};
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT
    {
        return Err(Errno::EINVAL);
    }
    check_memlock(
        t,
        if flags & MCL_CURRENT != 0 {
            t.mm.mapped_bytes()
        } else {
            0
        },
    )?;
    Ok(0)
}

fn sys_munlockall(_: &mut Task) -> SysResult {
    Ok(0)
}

/// `mincore(2)`: one byte per page of `addr..addr + len` into `vec`, 1
/// for a resident page. Written a bounded chunk at a time, so a huge
/// mapped range costs no large buffer.
fn sys_mincore(t: &mut Task, addr: UserAddr, len: u64, vec: UserAddr) -> SysResult {
    const CHUNK_PAGES: u64 = 4096;
    let page = crate::elf::PAGE_SIZE;
    let start = addr.get();
    if !start.is_multiple_of(page) {
        return Err(Errno::EINVAL);
    }
    let end = start
        .checked_add(len)
        .and_then(|e| e.checked_next_multiple_of(page))
        .filter(|&e| e <= t.mm.max_addr())
        .ok_or(Errno::ENOMEM)?;
    let mut at = start;
    let mut out = vec.get();
    while at < end {
        let chunk_end = end.min(at + CHUNK_PAGES * page);
        let resident = t.mm.residency(at, chunk_end)?;
        t.mm.copy_out_exact(out, &resident)?;
        out += resident.len() as u64;
        at = chunk_end;
    }
    Ok(0)
}

/// Whether the host offers `MEMBARRIER_CMD_GLOBAL`, which serves every
/// barrier the sentry offers: the application's threads run in host
/// threads of other processes, which only a system-wide barrier reaches.
fn host_global_membarrier() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        // SAFETY: `membarrier(MEMBARRIER_CMD_QUERY, 0, 0)` takes no pointers.
        let mask = unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                abi_linux::mm::MEMBARRIER_CMD_QUERY,
                0,
                0,
            )
        };
        mask > 0 && mask & i64::from(abi_linux::mm::MEMBARRIER_CMD_GLOBAL) != 0
    })
}

/// `membarrier(2)`: `QUERY`, `GLOBAL`, and `PRIVATE_EXPEDITED` after its
/// registration (`EPERM` before, as Linux answers). The others, and every
/// command when the host has no global barrier, are `EINVAL`.
fn sys_membarrier(t: &mut Task, cmd: i32, flags: u32, _cpu_id: i32) -> SysResult {
    use abi_linux::mm::*;
    let supported = if host_global_membarrier() {
        MEMBARRIER_CMD_GLOBAL
            | MEMBARRIER_CMD_PRIVATE_EXPEDITED
            | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    } else {
        0
    };
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let barrier = || {
        // SAFETY: `membarrier(MEMBARRIER_CMD_GLOBAL, 0, 0)` takes no
        // pointers.
        match unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) } {
            0 => Ok(0),
            _ => Err(crate::kernel::last_host_errno()),
        }
    };
    match cmd {
        MEMBARRIER_CMD_QUERY => Ok(supported as u64),
        c if c & supported == 0 || c.count_ones() != 1 => Err(Errno::EINVAL),
        MEMBARRIER_CMD_GLOBAL => barrier(),
        MEMBARRIER_CMD_PRIVATE_EXPEDITED if !t.mm.private_membarrier_registered() => {
            Err(Errno::EPERM)
        }
        MEMBARRIER_CMD_PRIVATE_EXPEDITED => barrier(),
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED => {
            t.mm.register_private_membarrier();
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `process_vm_readv(2)`: copies from `pid`'s memory at the `remote`
/// iovecs into the caller's at the `local` ones.
fn sys_process_vm_readv(
    t: &mut Task,
    pid: i32,
    local: UserAddr,
    local_count: u64,
    remote: UserAddr,
    remote_count: u64,
    flags: u64,
) -> SysResult {
    process_vm(
        t,
        pid,
        (local, local_count),
        (remote, remote_count),
        flags,
        false,
    )
}

/// `process_vm_writev(2)`: copies from the caller's memory at the
/// `local` iovecs into `pid`'s at the `remote` ones.
fn sys_process_vm_writev(
    t: &mut Task,
    pid: i32,
    local: UserAddr,
    local_count: u64,
    remote: UserAddr,
    remote_count: u64,
    flags: u64,
) -> SysResult {
    process_vm(
        t,
        pid,
        (local, local_count),
        (remote, remote_count),
        flags,
        true,
    )
}

/// The two `process_vm_*` calls, in Linux's order of checks: flags
/// (`EINVAL`), both iovec arrays (`EINVAL`, `EFAULT`), the target
/// (`ESRCH`), then access (`EPERM`: [`crate::task::may_ptrace`]
/// refuses). Bytes move a page at a time, remote iovec by remote iovec,
/// until either side ends or faults; a fault after some bytes ends the
/// call with their count.
fn process_vm(
    t: &Task,
    pid: i32,
    local: (UserAddr, u64),
    remote: (UserAddr, u64),
    flags: u64,
    write: bool,
) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let local = crate::mm::io::read_iovecs(&t.mm, local.0.get(), local.1)?;
    let remote = crate::mm::io::read_iovecs(&t.mm, remote.0.get(), remote.1)?;
    let group = match pid {
        1.. => t.kernel.tasks.group_of_thread(pid).ok_or(Errno::ESRCH)?,
        _ => return Err(Errno::ESRCH),
    };
    let target = t.kernel.tasks.get(group.tgid()).ok_or(Errno::ESRCH)?;
    if !crate::task::may_ptrace(&t.group, &t.ctx.credentials, &group) {
        return Err(Errno::EPERM);
    }
    let (from, to) = match write {
        true => (&*t.mm, &*target.mm),
        false => (&*target.mm, &*t.mm),
    };
    let mut buf = vec![0u8; crate::elf::PAGE_SIZE as usize];
    let mut locals = local.into_iter().filter(|&(_, len)| len > 0);
    let mut here = locals.next();
    let mut done = 0u64;
    let partial = |done: u64, e: Errno| if done > 0 { Ok(done) } else { Err(e) };
    for (raddr, rlen) in remote {
        let mut off = 0usize;
        while off < rlen {
            let Some((laddr, llen)) = here else {
                return Ok(done);
            };
            let n = buf.len().min(rlen - off).min(llen);
            let (src, dst) = match write {
                true => (laddr, raddr.wrapping_add(off as u64)),
                false => (raddr.wrapping_add(off as u64), laddr),
            };
            let got = match from.copy_in(src, &mut buf[..n]) {
                Ok(got) => got,
                Err(e) => return partial(done, e),
            };
            let put = match to.copy_out(dst, &buf[..got]) {
                Ok(put) => put,
                Err(e) => return partial(done, e),
            };
            done += put as u64;
            off += put;
            here = match llen - put {
                0 => locals.next(),
                rest => Some((laddr.wrapping_add(put as u64), rest)),
            };
            if put < n {
                return Ok(done);
            }
        }
    }
    Ok(done)
}
