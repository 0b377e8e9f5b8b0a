//! Memory system calls (gVisor's `sys_mmap.go`).

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, MadviseAdvice, MmapFlags, MmapProt, MremapFlags};
use platform::Access;

use super::{Add, Arg, SysResult};
use crate::task::Task;

use Arg::{Fd, Hex, Int};

pub(super) fn register(add: &mut Add<'_>) {
    add(nr::BRK, sys_brk, &[Hex]);
    add(nr::MMAP, sys_mmap, &[Hex, Int, Hex, Hex, Fd, Hex]);
    add(nr::MUNMAP, sys_munmap, &[Hex, Int]);
    add(nr::MPROTECT, sys_mprotect, &[Hex, Int, Hex]);
    add(nr::MREMAP, sys_mremap, &[Hex, Int, Int, Hex, Hex]);
    add(nr::MADVISE, sys_madvise, &[Hex, Int, Int]);
}

fn perms(prot: u64) -> Result<Access, Errno> {
    let prot = MmapProt::from_bits(prot as u32).ok_or(Errno::EINVAL)?;
    Ok(Access {
        read: prot.contains(MmapProt::READ),
        write: prot.contains(MmapProt::WRITE),
        execute: prot.contains(MmapProt::EXEC),
    })
}

fn sys_brk(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(t.mm.brk(a[0]))
}

fn sys_mmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, len, prot, flags) = (a[0], a[1], a[2], a[3] as u32);
    let flags = MmapFlags::from_bits_truncate(flags);
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
    if fixed && addr % crate::elf::PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let perms = perms(prot)?;
    if !flags.contains(MmapFlags::ANONYMOUS) {
        // File-backed mappings need vfs-core's `configure_mmap`/`Mappable`
        // path, which comes next; Linux's answer for a file that cannot be
        // mapped is ENODEV.
        t.fds.get(a[4] as i32)?.release(&t.ctx);
        return Err(Errno::ENODEV);
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
    t.mm.map_anonymous(addr, len, perms, shared, fixed, None)
}

fn sys_munmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.unmap(a[0], a[1]).map(|()| 0)
}

fn sys_mprotect(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.protect(a[0], a[1], perms(a[2])?).map(|()| 0)
}

fn sys_mremap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = MremapFlags::from_bits(a[3] as u32).ok_or(Errno::EINVAL)?;
    if flags.intersects(MremapFlags::FIXED | MremapFlags::DONTUNMAP) {
        // Moving to a chosen address is not implemented yet.
        return Err(Errno::EINVAL);
    }
    t.mm.remap(a[0], a[1], a[2], flags.contains(MremapFlags::MAYMOVE))
}

fn sys_madvise(t: &mut Task, a: [u64; 6]) -> SysResult {
    match MadviseAdvice(a[2] as i32) {
        MadviseAdvice::DONTNEED => t.mm.discard(a[0], a[1]).map(|()| 0),
        MadviseAdvice::NORMAL
        | MadviseAdvice::RANDOM
        | MadviseAdvice::SEQUENTIAL
        | MadviseAdvice::WILLNEED
        | MadviseAdvice::FREE
        | MadviseAdvice::DONTFORK
        | MadviseAdvice::DOFORK
        | MadviseAdvice::MERGEABLE => {
            if !a[0].is_multiple_of(crate::elf::PAGE_SIZE) {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
