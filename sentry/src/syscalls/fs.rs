//! File-system system calls (gVisor's `sys_read_write.go`, `sys_file.go`,
//! `sys_stat.go`, `sys_getdents.go`).

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{
    Errno, FcntlCmd, Flock, OpenFlags, OpenHow, RenameFlags, ResolveFlags, Statx, StatxMask, Whence,
};
use vfs_core::file_description::IoctlMemory;
use vfs_core::{
    AccessTypes, FileRef, Getdents64Buffer, MkdirOptions, OpenOptions, PathOperation, ReadOptions,
    RenameOptions, SetStatOptions, StatOptions, WriteOptions,
};
use zerocopy::IntoBytes;

use super::{AT_FDCWD, Arg, SysResult, SyscallTable, read_path, with_file, with_path};
use crate::mm::MemoryManager;
use crate::mm::io::{UserDest, UserSource, read_iovecs};
use crate::task::Task;
use crate::wait::retry_blocking;
use vfs_core::waiter::{READABLE_EVENTS, WRITABLE_EVENTS};

const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
const AT_REMOVEDIR: u32 = 0x200;
const AT_EACCESS: u32 = 0x200;
const AT_SYMLINK_FOLLOW: u32 = 0x400;
const AT_EMPTY_PATH: u32 = 0x1000;
const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;

const F_DUPFD: u64 = 0;
const F_GETFD: u64 = 1;
const F_SETFD: u64 = 2;
const F_GETFL: u64 = 3;
const F_SETFL: u64 = 4;
const F_DUPFD_CLOEXEC: u64 = 1030;

use Arg::{Fd, Hex, Int, Path};

pub(super) fn register(table: &mut SyscallTable) {
    table.add(nr::READ, sys_read, &[Fd, Hex, Int]);
    table.add(nr::WRITE, sys_write, &[Fd, Hex, Int]);
    table.add(nr::READV, sys_readv, &[Fd, Hex, Int]);
    table.add(nr::WRITEV, sys_writev, &[Fd, Hex, Int]);
    table.add(nr::PREAD64, sys_pread64, &[Fd, Hex, Int, Int]);
    table.add(nr::SENDFILE, sys_sendfile, &[Fd, Fd, Hex, Int]);
    table.add(nr::PWRITE64, sys_pwrite64, &[Fd, Hex, Int, Int]);
    table.add(nr::PREADV, sys_preadv, &[Fd, Hex, Int, Int, Int]);
    table.add(nr::PWRITEV, sys_pwritev, &[Fd, Hex, Int, Int, Int]);
    table.add(nr::PREADV2, sys_preadv2, &[Fd, Hex, Int, Int, Int, Hex]);
    table.add(nr::PWRITEV2, sys_pwritev2, &[Fd, Hex, Int, Int, Int, Hex]);
    table.add(nr::OPEN, sys_open, &[Path, Hex, Hex]);
    table.add(nr::OPENAT, sys_openat, &[Fd, Path, Hex, Hex]);
    table.add(nr::OPENAT2, sys_openat2, &[Fd, Path, Hex, Int]);
    table.add(nr::CLOSE, sys_close, &[Fd]);
    table.add(nr::FSTAT, sys_fstat, &[Fd, Hex]);
    table.add(nr::STAT, sys_stat, &[Path, Hex]);
    table.add(nr::LSTAT, sys_lstat, &[Path, Hex]);
    table.add(nr::NEWFSTATAT, sys_newfstatat, &[Fd, Path, Hex, Hex]);
    table.add(nr::STATX, sys_statx, &[Fd, Path, Hex, Hex, Hex]);
    table.add(nr::LSEEK, sys_lseek, &[Fd, Int, Int]);
    table.add(nr::GETDENTS64, sys_getdents64, &[Fd, Hex, Int]);
    table.add(nr::READLINK, sys_readlink, &[Path, Hex, Int]);
    table.add(nr::READLINKAT, sys_readlinkat, &[Fd, Path, Hex, Int]);
    table.add(nr::ACCESS, sys_access, &[Path, Hex]);
    table.add(nr::FACCESSAT, sys_faccessat, &[Fd, Path, Hex]);
    table.add(nr::FACCESSAT2, sys_faccessat2, &[Fd, Path, Hex, Hex]);
    table.add(nr::MKDIR, sys_mkdir, &[Path, Hex]);
    table.add(nr::MKDIRAT, sys_mkdirat, &[Fd, Path, Hex]);
    table.add(nr::UNLINK, sys_unlink, &[Path]);
    table.add(nr::RMDIR, sys_rmdir, &[Path]);
    table.add(nr::UNLINKAT, sys_unlinkat, &[Fd, Path, Hex]);
    table.add(nr::RENAME, sys_rename, &[Path, Path]);
    table.add(nr::RENAMEAT, sys_renameat, &[Fd, Path, Fd, Path]);
    table.add(nr::RENAMEAT2, sys_renameat2, &[Fd, Path, Fd, Path, Hex]);
    table.add(nr::SYMLINKAT, sys_symlinkat, &[Path, Fd, Path]);
    table.add(nr::SYMLINK, sys_symlink, &[Path, Path]);
    table.add(nr::LINKAT, sys_linkat, &[Fd, Path, Fd, Path, Hex]);
    table.add(nr::LINK, sys_link, &[Path, Path]);
    table.add(nr::GETCWD, sys_getcwd, &[Hex, Int]);
    table.add(nr::CHDIR, sys_chdir, &[Path]);
    table.add(nr::FCHDIR, sys_fchdir, &[Fd]);
    table.add(nr::FCNTL, sys_fcntl, &[Fd, Int, Hex]);
    table.add(nr::DUP, sys_dup, &[Fd]);
    table.add(nr::DUP2, sys_dup2, &[Fd, Fd]);
    table.add(nr::DUP3, sys_dup3, &[Fd, Fd, Hex]);
    table.add(nr::IOCTL, sys_ioctl, &[Fd, Hex, Hex]);
    table.add(nr::UMASK, sys_umask, &[Hex]);
    table.add(nr::FTRUNCATE, sys_ftruncate, &[Fd, Int]);
    table.add(nr::FSYNC, sys_fsync, &[Fd]);
    table.add(nr::FDATASYNC, sys_fsync, &[Fd]);
    table.add(nr::FCHMOD, sys_fchmod, &[Fd, Hex]);
    table.add(nr::FCHMODAT, sys_fchmodat, &[Fd, Path, Hex]);
    table.add(nr::CHMOD, sys_chmod, &[Path, Hex]);
    table.add(nr::FCHOWN, sys_fchown, &[Fd, Int, Int]);
    table.add(nr::FCHOWNAT, sys_fchownat, &[Fd, Path, Int, Int, Hex]);
    table.add(nr::UTIMENSAT, sys_utimensat, &[Fd, Path, Hex, Hex]);
    table.add(nr::STATFS, sys_statfs, &[Path, Hex]);
    table.add(nr::FSTATFS, sys_fstatfs, &[Fd, Hex]);
    table.add(nr::FLOCK, sys_flock, &[Fd, Hex]);
    table.add(nr::FALLOCATE, sys_fallocate, &[Fd, Hex, Int, Int]);
    table.typed(nr::FADVISE64, sys_fadvise64);
    table.partial(
        nr::FCNTL,
        "descriptor flags, status flags, duplication and record locks; F_GETOWN/F_SETOWN, \
         pipe sizes, seals, leases and F_NOTIFY are EINVAL",
    );
    table.partial(
        nr::IOCTL,
        "FIOCLEX and FIONCLEX, and what each file implements (terminal ioctls, FIONREAD)",
    );
}

fn sys_flock(t: &mut Task, a: [u64; 6]) -> SysResult {
    let op = abi_linux::FlockOp::from_bits(a[1] as u32).ok_or(Errno::EINVAL)?;
    with_file(t, fd_arg(a[0]), |f| f.lock_bsd(&t.ctx, op).map(|()| 0))
}

/// `fadvise64(fd, offset, len, advice)`: the advice is checked as Linux
/// checks it (`EBADF`, `ESPIPE` for a pipe or FIFO, `EINVAL` for an
/// unknown advice or a negative length) and then, as on Linux's tmpfs,
/// needs nothing done: the sandbox's caches are not the host's.
fn sys_fadvise64(t: &mut Task, fd: super::Fd, offset: i64, len: i64, advice: i32) -> SysResult {
    let _ = offset;
    let st = with_file(t, fd.0, |f| f.stat(&t.ctx, StatOptions::default()))?;
    if u32::from(st.stx_mode) & abi_linux::S_IFMT == abi_linux::S_IFIFO {
        return Err(Errno::ESPIPE);
    }
    // POSIX_FADV_NORMAL ..= POSIX_FADV_NOREUSE.
    if !(0..=5).contains(&advice) || len < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

fn sys_fallocate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mode = abi_linux::FallocFlags::from_bits(a[1] as u32).ok_or(Errno::EOPNOTSUPP)?;
    let (offset, len) = (a[2] as i64, a[3] as i64);
    with_file(t, fd_arg(a[0]), |f| {
        f.allocate(&t.ctx, mode, offset, len).map(|()| 0)
    })
}

/// `F_GETLK`, `F_SETLK(W)` and their OFD forms: a `struct flock` at
/// `addr`.
fn fcntl_lock(t: &Task, fd: i32, cmd: FcntlCmd, addr: u64) -> SysResult {
    use zerocopy::FromBytes;

    let mut raw = [0u8; std::mem::size_of::<Flock>()];
    t.mm.copy_in_exact(addr, &mut raw)?;
    let request = Flock::read_from_bytes(&raw).map_err(|_| Errno::EFAULT)?;
    let ofd = matches!(
        cmd,
        FcntlCmd::OFD_GETLK | FcntlCmd::OFD_SETLK | FcntlCmd::OFD_SETLKW
    );
    // OFD requests must leave `l_pid` zero.
    if ofd && request.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    with_file(t, fd, |f| match cmd {
        FcntlCmd::GETLK | FcntlCmd::OFD_GETLK => {
            let answer = f.test_posix(&t.ctx, ofd, &request)?;
            t.mm.copy_out_exact(addr, answer.as_bytes()).map(|()| 0)
        }
        _ => {
            let wait = matches!(cmd, FcntlCmd::SETLKW | FcntlCmd::OFD_SETLKW);
            f.lock_posix(&t.ctx, ofd, wait, &request).map(|()| 0)
        }
    })
}

fn fd_arg(v: u64) -> i32 {
    v as i32
}

fn read_to(task: &Task, fd: i32, iovs: Vec<(u64, usize)>, offset: Option<i64>) -> SysResult {
    with_file(task, fd, |file| {
        retry_blocking(file, READABLE_EVENTS, || {
            let mut dst = UserDest::new(&task.mm, iovs.clone());
            let n = match offset {
                None => file.read(&task.ctx, &mut dst, ReadOptions::default())?,
                Some(off) => file.pread(&task.ctx, &mut dst, off, ReadOptions::default())?,
            };
            Ok(n as u64)
        })
    })
}

fn write_from(task: &Task, fd: i32, iovs: Vec<(u64, usize)>, offset: Option<i64>) -> SysResult {
    with_file(task, fd, |file| {
        retry_blocking(file, WRITABLE_EVENTS, || {
            let mut src = UserSource::new(&task.mm, iovs.clone());
            let n = match offset {
                None => file.write(&task.ctx, &mut src, WriteOptions::default())?,
                Some(off) => file.pwrite(&task.ctx, &mut src, off, WriteOptions::default())?,
            };
            Ok(n as u64)
        })
    })
}

fn count(v: u64) -> Result<usize, Errno> {
    if v > i64::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

fn sys_read(t: &mut Task, a: [u64; 6]) -> SysResult {
    read_to(t, fd_arg(a[0]), vec![(a[1], count(a[2])?)], None)
}

fn sys_write(t: &mut Task, a: [u64; 6]) -> SysResult {
    write_from(t, fd_arg(a[0]), vec![(a[1], count(a[2])?)], None)
}

fn sys_readv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let iovs = read_iovecs(&t.mm, a[1], a[2])?;
    read_to(t, fd_arg(a[0]), iovs, None)
}

fn sys_writev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let iovs = read_iovecs(&t.mm, a[1], a[2])?;
    write_from(t, fd_arg(a[0]), iovs, None)
}

fn sys_pread64(t: &mut Task, a: [u64; 6]) -> SysResult {
    read_to(
        t,
        fd_arg(a[0]),
        vec![(a[1], count(a[2])?)],
        Some(a[3] as i64),
    )
}

fn sys_pwrite64(t: &mut Task, a: [u64; 6]) -> SysResult {
    write_from(
        t,
        fd_arg(a[0]),
        vec![(a[1], count(a[2])?)],
        Some(a[3] as i64),
    )
}

/// The most `sendfile` moves per step through its kernel buffer.
const SENDFILE_CHUNK: usize = 64 * 1024;

/// `sendfile(2)`: copies up to `count` bytes from `in_fd` (at `*offset`
/// when `offset` is given, leaving the file offset alone and updating
/// `*offset`) to `out_fd`, through a kernel buffer. Returns what was
/// written; stops early at end of input or when the output would block
/// after some bytes moved.
fn sys_sendfile(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (out_fd, in_fd, offset_addr) = (fd_arg(a[0]), fd_arg(a[1]), a[2]);
    let want = count(a[3])?;
    let mut offset = if offset_addr == 0 {
        None
    } else {
        let mut raw = [0u8; 8];
        t.mm.copy_in_exact(offset_addr, &mut raw)?;
        let off = i64::from_le_bytes(raw);
        if off < 0 {
            return Err(Errno::EINVAL);
        }
        Some(off)
    };
    let total = with_file(t, in_fd, |input| {
        with_file(t, out_fd, |output| {
            if !input.is_readable() || !output.is_writable() {
                return Err(Errno::EBADF);
            }
            if output.status_flags().contains(OpenFlags::APPEND) {
                return Err(Errno::EINVAL);
            }
            let mut buf = vec![0u8; want.min(SENDFILE_CHUNK)];
            let mut total = 0usize;
            while total < want {
                let len = buf.len().min(want - total);
                let read = retry_blocking(input, READABLE_EVENTS, || {
                    let mut dst = vfs_core::io::SliceDest::new(&mut buf[..len]);
                    match offset {
                        Some(off) => input.pread(&t.ctx, &mut dst, off, ReadOptions::default()),
                        None => input.read(&t.ctx, &mut dst, ReadOptions::default()),
                    }
                });
                let read = match read {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if total == 0 => return Err(e),
                    Err(_) => break,
                };
                let mut written = 0usize;
                while written < read {
                    let step = retry_blocking(output, WRITABLE_EVENTS, || {
                        let mut src = vfs_core::io::SliceSource::new(&buf[written..read]);
                        output.write(&t.ctx, &mut src, WriteOptions::default())
                    });
                    match step {
                        Ok(0) => break,
                        Ok(n) => written += n,
                        Err(e) if total + written == 0 => return Err(e),
                        Err(_) => break,
                    }
                }
                total += written;
                match &mut offset {
                    Some(off) => *off += written as i64,
                    // Give back what was read but not written, so the
                    // input's offset says what was sent.
                    None if written < read => {
                        let _ = input.seek(&t.ctx, -((read - written) as i64), Whence::Cur);
                    }
                    None => {}
                }
                if written < read {
                    break;
                }
            }
            Ok(total)
        })
    })?;
    if let Some(off) = offset {
        t.mm.copy_out_exact(offset_addr, &off.to_le_bytes())?;
    }
    Ok(total as u64)
}

/// The offset of `preadv`/`pwritev` from its two halves; `EINVAL` if
/// negative.
fn vector_offset(low: u64, high: u64) -> Result<i64, Errno> {
    let off = (low | (high << 32)) as i64;
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(off)
}

/// The offset of `preadv2`/`pwritev2`: `None` (the file position) for -1.
/// Flags other than `RWF_HIPRI`, `RWF_DSYNC` and `RWF_SYNC` (which change
/// nothing on these filesystems) are `EOPNOTSUPP`.
fn vector2_offset(low: u64, high: u64, flags: u64) -> Result<Option<i64>, Errno> {
    const RWF_HIPRI_DSYNC_SYNC: u64 = 1 | 2 | 4;
    if flags & !RWF_HIPRI_DSYNC_SYNC != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if (low | (high << 32)) as i64 == -1 {
        return Ok(None);
    }
    vector_offset(low, high).map(Some)
}

fn sys_preadv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let off = vector_offset(a[3], a[4])?;
    let iovs = read_iovecs(&t.mm, a[1], a[2])?;
    read_to(t, fd_arg(a[0]), iovs, Some(off))
}

fn sys_pwritev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let off = vector_offset(a[3], a[4])?;
    let iovs = read_iovecs(&t.mm, a[1], a[2])?;
    write_from(t, fd_arg(a[0]), iovs, Some(off))
}

fn sys_preadv2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let off = vector2_offset(a[3], a[4], a[5])?;
    let iovs = read_iovecs(&t.mm, a[1], a[2])?;
    read_to(t, fd_arg(a[0]), iovs, off)
}

fn sys_pwritev2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let off = vector2_offset(a[3], a[4], a[5])?;
    let iovs = read_iovecs(&t.mm, a[1], a[2])?;
    write_from(t, fd_arg(a[0]), iovs, off)
}

fn open(t: &Task, dirfd: i32, path_addr: u64, flags: u64, mode: u64) -> SysResult {
    let flags = OpenFlags::from_bits_truncate(flags as u32);
    open_resolve(t, dirfd, path_addr, flags, mode, ResolveFlags::empty())
}

fn open_resolve(
    t: &Task,
    dirfd: i32,
    path_addr: u64,
    flags: OpenFlags,
    mode: u64,
    resolve: ResolveFlags,
) -> SysResult {
    let path = read_path(t, path_addr)?;
    let mut mode = mode as u32 & 0o7777;
    if flags.contains(OpenFlags::CREAT) {
        mode &= !t.fs.umask();
    }
    let file = with_path(t, dirfd, &path, true, false, |pop| {
        let pop = PathOperation { resolve, ..*pop };
        t.kernel.vfs.open_at(
            &t.ctx,
            &pop,
            OpenOptions {
                flags,
                mode,
                file_exec: false,
            },
        )
    })?;
    let fd = t.fds.add(file, flags.contains(OpenFlags::CLOEXEC), 0)?;
    Ok(fd as u64)
}

fn sys_open(t: &mut Task, a: [u64; 6]) -> SysResult {
    open(t, AT_FDCWD, a[0], a[1], a[2])
}

fn sys_openat(t: &mut Task, a: [u64; 6]) -> SysResult {
    open(t, fd_arg(a[0]), a[1], a[2], a[3])
}

/// `openat2(2)`: `struct open_how` is checked strictly, as Linux does
/// (unknown flags or resolve bits, a mode without `O_CREAT`/`O_TMPFILE`:
/// `EINVAL`; a larger struct with non-zero tail: `E2BIG`).
fn sys_openat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    const OPEN_HOW_SIZE_VER0: u64 = 24;
    let size = a[3];
    if size < OPEN_HOW_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > crate::elf::PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    let mut raw = vec![0u8; size as usize];
    t.mm.copy_in_exact(a[2], &mut raw)?;
    if raw[OPEN_HOW_SIZE_VER0 as usize..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let word = |i: usize| u64::from_ne_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let how = OpenHow {
        flags: word(0),
        mode: word(1),
        resolve: word(2),
    };
    let flags = u32::try_from(how.flags)
        .ok()
        .and_then(OpenFlags::from_bits)
        .ok_or(Errno::EINVAL)?;
    let resolve = u32::try_from(how.resolve)
        .ok()
        .and_then(|r| ResolveFlags::from_bits(r as _))
        .ok_or(Errno::EINVAL)?;
    let creates = flags.contains(OpenFlags::CREAT) || flags.contains(OpenFlags::TMPFILE);
    if how.mode & !0o7777 != 0 || (how.mode != 0 && !creates) {
        return Err(Errno::EINVAL);
    }
    if resolve.contains(ResolveFlags::BENEATH | ResolveFlags::IN_ROOT) {
        return Err(Errno::EINVAL);
    }
    if resolve.contains(ResolveFlags::CACHED) && (creates || flags.contains(OpenFlags::TRUNC)) {
        return Err(Errno::EAGAIN);
    }
    open_resolve(t, fd_arg(a[0]), a[1], flags, how.mode, resolve)
}

fn sys_close(t: &mut Task, a: [u64; 6]) -> SysResult {
    let file = t.fds.remove(fd_arg(a[0]))?;
    let r = file.on_close(&t.ctx);
    file.release(&t.ctx);
    r.map(|()| 0)
}

/// Converts `statx` to the x86_64 `struct stat`.
fn to_stat(s: &Statx) -> abi_linux::stat::x86_64::Stat {
    abi_linux::stat::x86_64::Stat {
        st_dev: abi_linux::make_dev(s.stx_dev_major, s.stx_dev_minor),
        st_ino: s.stx_ino,
        st_nlink: u64::from(s.stx_nlink),
        st_mode: u32::from(s.stx_mode),
        st_uid: s.stx_uid,
        st_gid: s.stx_gid,
        st_rdev: abi_linux::make_dev(s.stx_rdev_major, s.stx_rdev_minor),
        st_size: s.stx_size as i64,
        st_blksize: i64::from(s.stx_blksize),
        st_blocks: s.stx_blocks as i64,
        st_atime: s.stx_atime.tv_sec,
        st_atime_nsec: i64::from(s.stx_atime.tv_nsec),
        st_mtime: s.stx_mtime.tv_sec,
        st_mtime_nsec: i64::from(s.stx_mtime.tv_nsec),
        st_ctime: s.stx_ctime.tv_sec,
        st_ctime_nsec: i64::from(s.stx_ctime.tv_nsec),
        ..Default::default()
    }
}

fn stat_path(
    t: &Task,
    dirfd: i32,
    path: &[u8],
    flags: u32,
    opts: StatOptions,
) -> Result<Statx, Errno> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 | 0x6000) != 0 {
        return Err(Errno::EINVAL);
    }
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if dirfd == AT_FDCWD {
            return with_path(t, dirfd, b".", true, false, |pop| {
                t.kernel.vfs.stat_at(&t.ctx, pop, opts)
            });
        }
        return with_file(t, dirfd, |f| f.stat(&t.ctx, opts));
    }
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    with_path(t, dirfd, path, follow, false, |pop| {
        t.kernel.vfs.stat_at(&t.ctx, pop, opts)
    })
}

fn sys_fstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let st = with_file(t, fd_arg(a[0]), |f| f.stat(&t.ctx, StatOptions::default()))?;
    t.mm.copy_out_exact(a[1], to_stat(&st).as_bytes())?;
    Ok(0)
}

fn stat_common(t: &Task, dirfd: i32, path: u64, buf: u64, flags: u32) -> SysResult {
    let path = read_path(t, path)?;
    let st = stat_path(t, dirfd, &path, flags, StatOptions::default())?;
    t.mm.copy_out_exact(buf, to_stat(&st).as_bytes())?;
    Ok(0)
}

fn sys_stat(t: &mut Task, a: [u64; 6]) -> SysResult {
    stat_common(t, AT_FDCWD, a[0], a[1], 0)
}

fn sys_lstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    stat_common(t, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW)
}

fn sys_newfstatat(t: &mut Task, a: [u64; 6]) -> SysResult {
    stat_common(t, fd_arg(a[0]), a[1], a[2], a[3] as u32)
}

fn sys_statx(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mask = StatxMask::from_bits_truncate(a[3] as u32);
    if mask.contains(StatxMask::RESERVED) {
        return Err(Errno::EINVAL);
    }
    let flags = a[2] as u32;
    if flags & 0x6000 == 0x6000 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, a[1])?;
    let opts = StatOptions {
        mask,
        sync: flags & 0x6000,
    };
    let st = stat_path(t, fd_arg(a[0]), &path, flags, opts)?;
    t.mm.copy_out_exact(a[4], st.as_bytes())?;
    Ok(0)
}

fn sys_lseek(t: &mut Task, a: [u64; 6]) -> SysResult {
    let whence = Whence::from_raw(a[2] as i32).ok_or(Errno::EINVAL)?;
    with_file(t, fd_arg(a[0]), |f| f.seek(&t.ctx, a[1] as i64, whence)).map(|o| o as u64)
}

fn sys_getdents64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let size = (a[2] as u32 as usize).min(1 << 20);
    let mut buf = vec![0u8; size];
    let n = with_file(t, fd_arg(a[0]), |f| {
        let mut sink = Getdents64Buffer::new(&mut buf);
        f.iter_dirents(&t.ctx, &mut sink)?;
        sink.finish()
    })?;
    t.mm.copy_out_exact(a[1], &buf[..n])?;
    Ok(n as u64)
}

fn readlink(t: &Task, dirfd: i32, path: u64, buf: u64, size: u64) -> SysResult {
    let size = size as i32;
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    let target = with_path(t, dirfd, &path, false, false, |pop| {
        t.kernel.vfs.readlink_at(&t.ctx, pop)
    })?;
    let n = target.len().min(size as usize);
    t.mm.copy_out_exact(buf, &target[..n])?;
    Ok(n as u64)
}

fn sys_readlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    readlink(t, AT_FDCWD, a[0], a[1], a[2])
}

fn sys_readlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    readlink(t, fd_arg(a[0]), a[1], a[2], a[3])
}

fn access(t: &Task, dirfd: i32, path: u64, mode: u64, flags: u32) -> SysResult {
    if mode & !7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    let access = AccessTypes::from_bits_truncate(mode as u16);
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    with_path(t, dirfd, &path, follow, flags & AT_EMPTY_PATH != 0, |pop| {
        t.kernel.vfs.access_at(&t.ctx, pop, access)
    })?;
    Ok(0)
}

fn sys_access(t: &mut Task, a: [u64; 6]) -> SysResult {
    access(t, AT_FDCWD, a[0], a[1], 0)
}

fn sys_faccessat(t: &mut Task, a: [u64; 6]) -> SysResult {
    access(t, fd_arg(a[0]), a[1], a[2], 0)
}

fn sys_faccessat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    access(t, fd_arg(a[0]), a[1], a[2], a[3] as u32)
}

fn mkdir(t: &Task, dirfd: i32, path: u64, mode: u64) -> SysResult {
    let path = read_path(t, path)?;
    let mode = mode as u32 & 0o1777 & !t.fs.umask();
    with_path(t, dirfd, &path, false, false, |pop| {
        t.kernel.vfs.mkdir_at(
            &t.ctx,
            pop,
            MkdirOptions {
                mode,
                for_synthetic_mountpoint: false,
            },
        )
    })?;
    Ok(0)
}

fn sys_mkdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    mkdir(t, AT_FDCWD, a[0], a[1])
}

fn sys_mkdirat(t: &mut Task, a: [u64; 6]) -> SysResult {
    mkdir(t, fd_arg(a[0]), a[1], a[2])
}

fn unlink(t: &Task, dirfd: i32, path: u64, flags: u64) -> SysResult {
    if flags & !u64::from(AT_REMOVEDIR) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    with_path(t, dirfd, &path, false, false, |pop| {
        if flags & u64::from(AT_REMOVEDIR) != 0 {
            t.kernel.vfs.rmdir_at(&t.ctx, pop)
        } else {
            t.kernel.vfs.unlink_at(&t.ctx, pop)
        }
    })?;
    Ok(0)
}

fn sys_unlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    unlink(t, AT_FDCWD, a[0], 0)
}

fn sys_rmdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    unlink(t, AT_FDCWD, a[0], u64::from(AT_REMOVEDIR))
}

fn sys_unlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    unlink(t, fd_arg(a[0]), a[1], a[2])
}

fn rename(t: &Task, olddir: i32, old: u64, newdir: i32, new: u64, flags: u64) -> SysResult {
    let flags = RenameFlags::from_bits(flags as u32).ok_or(Errno::EINVAL)?;
    let old = read_path(t, old)?;
    let new = read_path(t, new)?;
    with_path(t, olddir, &old, false, false, |old_pop| {
        with_path(t, newdir, &new, false, false, |new_pop| {
            t.kernel.vfs.rename_at(
                &t.ctx,
                old_pop,
                new_pop,
                RenameOptions {
                    flags,
                    must_be_dir: false,
                },
            )
        })
    })?;
    Ok(0)
}

fn sys_rename(t: &mut Task, a: [u64; 6]) -> SysResult {
    rename(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)
}

fn sys_renameat(t: &mut Task, a: [u64; 6]) -> SysResult {
    rename(t, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], 0)
}

fn sys_renameat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    rename(t, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], a[4])
}

fn symlink(t: &Task, target: u64, dirfd: i32, path: u64) -> SysResult {
    let target = read_path(t, target)?;
    let path = read_path(t, path)?;
    with_path(t, dirfd, &path, false, false, |pop| {
        t.kernel.vfs.symlink_at(&t.ctx, pop, &target)
    })?;
    Ok(0)
}

fn sys_symlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    symlink(t, a[0], AT_FDCWD, a[1])
}

fn sys_symlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    symlink(t, a[0], fd_arg(a[1]), a[2])
}

fn link(t: &Task, olddir: i32, old: u64, newdir: i32, new: u64, flags: u64) -> SysResult {
    let flags = flags as u32;
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = read_path(t, old)?;
    let new = read_path(t, new)?;
    let follow = flags & AT_SYMLINK_FOLLOW != 0;
    with_path(
        t,
        olddir,
        &old,
        follow,
        flags & AT_EMPTY_PATH != 0,
        |old_pop| {
            with_path(t, newdir, &new, false, false, |new_pop| {
                t.kernel.vfs.link_at(&t.ctx, old_pop, new_pop)
            })
        },
    )?;
    Ok(0)
}

fn sys_link(t: &mut Task, a: [u64; 6]) -> SysResult {
    link(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)
}

fn sys_linkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    link(t, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], a[4])
}

fn sys_getcwd(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (root, cwd) = t.fs.root_and_cwd()?;
    let name = t.kernel.vfs.path_name(&root, &cwd);
    root.release(&t.ctx);
    cwd.release(&t.ctx);
    let mut path = match name {
        Ok(p) => p,
        Err(vfs_core::PathNameError::Unreachable(p)) => {
            let mut v = b"(unreachable)".to_vec();
            v.extend(p);
            v
        }
        Err(_) => return Err(Errno::ENOENT),
    };
    path.push(0);
    if path.len() as u64 > a[1] {
        return Err(Errno::ERANGE);
    }
    t.mm.copy_out_exact(a[0], &path)?;
    Ok(path.len() as u64)
}

fn set_cwd(t: &Task, vd: vfs_core::VirtualDentry) -> SysResult {
    if let Some(old) = t.fs.set_cwd(vd) {
        old.release(&t.ctx);
    }
    Ok(0)
}

fn sys_chdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = read_path(t, a[0])?;
    let vd = with_path(t, AT_FDCWD, &path, true, false, |pop| {
        t.kernel.vfs.get_dentry_at(
            &t.ctx,
            pop,
            vfs_core::GetDentryOptions {
                check_searchable: true,
            },
        )
    })?;
    set_cwd(t, vd)
}

fn sys_fchdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let file = t.fds.get(fd_arg(a[0]))?;
    let is_dir = file
        .stat(&t.ctx, StatOptions::default())
        .map(|s| u32::from(s.stx_mode) & abi_linux::S_IFMT == abi_linux::S_IFDIR);
    let vd = file.virtual_dentry();
    file.release(&t.ctx);
    match is_dir {
        Ok(true) => set_cwd(t, vd),
        Ok(false) => {
            vd.release(&t.ctx);
            Err(Errno::ENOTDIR)
        }
        Err(e) => {
            vd.release(&t.ctx);
            Err(e)
        }
    }
}

fn dup_to(t: &Task, file: FileRef, min: u64, cloexec: bool) -> SysResult {
    let min = i32::try_from(min).map_err(|_| Errno::EINVAL)?;
    if min >= crate::fd_table::NR_OPEN {
        file.release(&t.ctx);
        return Err(Errno::EINVAL);
    }
    t.fds.add(file, cloexec, min).map(|fd| fd as u64)
}

fn sys_fcntl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(a[0]);
    match a[1] {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let file = t.fds.get(fd)?;
            dup_to(t, file, a[2], a[1] == F_DUPFD_CLOEXEC)
        }
        F_GETFD => Ok(u64::from(t.fds.entry(fd)?.cloexec)),
        F_SETFD => t.fds.set_cloexec(fd, a[2] & 1 != 0).map(|()| 0),
        F_GETFL => with_file(t, fd, |f| Ok(u64::from(f.status_flags().bits()))),
        F_SETFL => with_file(t, fd, |f| {
            f.set_status_flags(OpenFlags::from_bits_truncate(a[2] as u32))
                .map(|()| 0)
        }),
        cmd @ (5..=7 | 36..=38) => fcntl_lock(t, fd, FcntlCmd(cmd as i32), a[2]),
        _ => {
            t.fds.get(fd)?.release(&t.ctx);
            Err(Errno::EINVAL)
        }
    }
}

fn sys_dup(t: &mut Task, a: [u64; 6]) -> SysResult {
    let file = t.fds.get(fd_arg(a[0]))?;
    dup_to(t, file, 0, false)
}

fn dup3(t: &Task, old: i32, new: i32, cloexec: bool) -> SysResult {
    let file = t.fds.get(old)?;
    match t.fds.set(new, file, cloexec) {
        Ok(Some(replaced)) => {
            // Errors closing the replaced description are ignored, as
            // Linux's dup2 does.
            let _ = replaced.on_close(&t.ctx);
            replaced.release(&t.ctx);
            Ok(new as u64)
        }
        Ok(None) => Ok(new as u64),
        Err(e) => Err(e),
    }
}

fn sys_dup2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new) = (fd_arg(a[0]), fd_arg(a[1]));
    if old == new {
        t.fds.get(old)?.release(&t.ctx);
        return Ok(new as u64);
    }
    dup3(t, old, new, false)
}

fn sys_dup3(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new) = (fd_arg(a[0]), fd_arg(a[1]));
    let cloexec = OpenFlags::CLOEXEC.bits() as u64;
    if old == new || a[2] & !cloexec != 0 {
        return Err(Errno::EINVAL);
    }
    dup3(t, old, new, a[2] & cloexec != 0)
}

/// Application memory as `ioctl` handlers see it.
struct IoctlMm<'a>(&'a MemoryManager);

impl IoctlMemory for IoctlMm<'_> {
    fn copy_in(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.0.copy_in_exact(addr, buf)
    }

    fn copy_out(&mut self, addr: u64, buf: &[u8]) -> Result<(), Errno> {
        self.0.copy_out_exact(addr, buf)
    }
}

fn sys_ioctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(a[0]);
    let cmd = a[1] as u32;
    match cmd {
        FIOCLEX => t.fds.set_cloexec(fd, true).map(|()| 0),
        FIONCLEX => t.fds.set_cloexec(fd, false).map(|()| 0),
        _ => with_file(t, fd, |f| {
            f.ioctl(&t.ctx, cmd, a[2], &mut IoctlMm(&t.mm))
                .map(|r| r as u64)
        }),
    }
}

fn sys_umask(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(u64::from(t.fs.swap_umask(a[0] as u32)))
}

fn set_stat_fd(t: &Task, fd: i32, stat: Statx) -> SysResult {
    with_file(t, fd, |f| {
        f.set_stat(
            &t.ctx,
            SetStatOptions {
                stat,
                need_write_perm: false,
            },
        )
    })?;
    Ok(0)
}

fn set_stat_path(
    t: &Task,
    dirfd: i32,
    path: u64,
    follow: bool,
    empty: bool,
    stat: Statx,
) -> SysResult {
    let path = read_path(t, path)?;
    if path.is_empty() && empty {
        return set_stat_fd(t, dirfd, stat);
    }
    with_path(t, dirfd, &path, follow, false, |pop| {
        t.kernel.vfs.set_stat_at(
            &t.ctx,
            pop,
            SetStatOptions {
                stat,
                need_write_perm: false,
            },
        )
    })?;
    Ok(0)
}

fn sys_ftruncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let len = a[1] as i64;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let file = t.fds.get(fd_arg(a[0]))?;
    let writable = file.is_writable();
    file.release(&t.ctx);
    if !writable {
        return Err(Errno::EINVAL);
    }
    let stat = Statx {
        stx_mask: StatxMask::SIZE.bits(),
        stx_size: len as u64,
        ..Statx::default()
    };
    set_stat_fd(t, fd_arg(a[0]), stat)
}

fn sys_fsync(t: &mut Task, a: [u64; 6]) -> SysResult {
    with_file(t, fd_arg(a[0]), |f| f.sync(&t.ctx)).map(|()| 0)
}

fn mode_stat(mode: u64) -> Statx {
    Statx {
        stx_mask: StatxMask::MODE.bits(),
        stx_mode: (mode & 0o7777) as u16,
        ..Statx::default()
    }
}

fn sys_fchmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_stat_fd(t, fd_arg(a[0]), mode_stat(a[1]))
}

fn sys_fchmodat(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_stat_path(t, fd_arg(a[0]), a[1], true, false, mode_stat(a[2]))
}

fn sys_chmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_stat_path(t, AT_FDCWD, a[0], true, false, mode_stat(a[1]))
}

fn owner_stat(uid: u64, gid: u64) -> Statx {
    let mut s = Statx::default();
    if uid as u32 != u32::MAX {
        s.stx_mask |= StatxMask::UID.bits();
        s.stx_uid = uid as u32;
    }
    if gid as u32 != u32::MAX {
        s.stx_mask |= StatxMask::GID.bits();
        s.stx_gid = gid as u32;
    }
    s
}

fn sys_fchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_stat_fd(t, fd_arg(a[0]), owner_stat(a[1], a[2]))
}

fn sys_fchownat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[4] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    set_stat_path(
        t,
        fd_arg(a[0]),
        a[1],
        flags & AT_SYMLINK_NOFOLLOW == 0,
        flags & AT_EMPTY_PATH != 0,
        owner_stat(a[2], a[3]),
    )
}

fn sys_utimensat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[3] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let now = vfs_core::UTIME_NOW;
    let mut times = [(0i64, i64::from(now)); 2];
    if a[2] != 0 {
        let mut raw = [0u8; 32];
        t.mm.copy_in_exact(a[2], &mut raw)?;
        for (i, time) in times.iter_mut().enumerate() {
            let w = |o: usize| i64::from_le_bytes(raw[o..o + 8].try_into().unwrap_or([0; 8]));
            *time = (w(i * 16), w(i * 16 + 8));
            let nsec = time.1;
            if !(0..1_000_000_000).contains(&nsec)
                && nsec != i64::from(vfs_core::UTIME_NOW)
                && nsec != i64::from(vfs_core::UTIME_OMIT)
            {
                return Err(Errno::EINVAL);
            }
        }
    }
    let ts = |(sec, nsec): (i64, i64)| abi_linux::StatxTimestamp {
        tv_sec: sec,
        tv_nsec: nsec as u32,
        _reserved: 0,
    };
    let stat = Statx {
        stx_mask: (StatxMask::ATIME | StatxMask::MTIME).bits(),
        stx_atime: ts(times[0]),
        stx_mtime: ts(times[1]),
        ..Statx::default()
    };
    if a[1] == 0 {
        // Linux's futimens form: a null path names `dirfd` itself.
        return set_stat_fd(t, fd_arg(a[0]), stat);
    }
    set_stat_path(
        t,
        fd_arg(a[0]),
        a[1],
        flags & AT_SYMLINK_NOFOLLOW == 0,
        flags & AT_EMPTY_PATH != 0,
        stat,
    )
}

fn sys_statfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = read_path(t, a[0])?;
    let st = with_path(t, AT_FDCWD, &path, true, false, |pop| {
        t.kernel.vfs.statfs_at(&t.ctx, pop)
    })?;
    t.mm.copy_out_exact(a[1], st.as_bytes())?;
    Ok(0)
}

fn sys_fstatfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let st = with_file(t, fd_arg(a[0]), |f| f.statfs(&t.ctx))?;
    t.mm.copy_out_exact(a[1], st.as_bytes())?;
    Ok(0)
}
