//! Memory system calls (gVisor's `sys_mmap.go`).

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, MadviseAdvice, MmapFlags, MmapProt, MremapFlags};
use platform::Access;
use vfs_core::PathNameError;
use vfs_core::memmap::{AccessType, MmapOpts};

use super::{Arg, SysResult, SyscallTable};
use crate::mm::FileMapping;
use crate::task::Task;

use Arg::{Fd, Hex, Int};

pub(super) fn register(table: &mut SyscallTable) {
    table.add(nr::BRK, sys_brk, &[Hex]);
    table.add(nr::MMAP, sys_mmap, &[Hex, Int, Hex, Hex, Fd, Hex]);
    table.add(nr::MUNMAP, sys_munmap, &[Hex, Int]);
    table.add(nr::MPROTECT, sys_mprotect, &[Hex, Int, Hex]);
    table.add(nr::MREMAP, sys_mremap, &[Hex, Int, Int, Hex, Hex]);
    table.add(nr::MADVISE, sys_madvise, &[Hex, Int, Int]);
    table.add(nr::MSYNC, sys_msync, &[Hex, Int, Hex]);
    table.partial(nr::MREMAP, "MREMAP_FIXED and MREMAP_DONTUNMAP are EINVAL");
    table.partial(
        nr::MADVISE,
        "MADV_DONTNEED discards; the other hints Linux accepts are accepted and change nothing",
    );
}

/// `msync` flags.
const MS_ASYNC: u64 = 1;
const MS_INVALIDATE: u64 = 2;
const MS_SYNC: u64 = 4;

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
            offset: a[5],
            perms,
            private: !shared,
            fixed,
        };
        return map_file(t, a[4] as i32, request);
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
fn map_file(t: &mut Task, fd: i32, r: FileRequest) -> SysResult {
    let file = t.fds.get(fd)?;
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

fn sys_msync(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[2];
    if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || (flags & MS_ASYNC != 0 && flags & MS_SYNC != 0)
    {
        return Err(Errno::EINVAL);
    }
    t.mm.sync(a[0], a[1], flags & MS_SYNC != 0).map(|()| 0)
}
