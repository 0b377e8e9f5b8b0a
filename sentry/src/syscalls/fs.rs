//! File-system system calls (gVisor's `sys_read_write.go`, `sys_file.go`,
//! `sys_stat.go`, `sys_getdents.go`).

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::tty::{FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX};
use abi_linux::{
    AtFlags, Errno, FcntlCmd, Flock, OpenFlags, OpenHow, RenameFlags, ResolveFlags, RwfFlags,
    Statx, StatxMask, Whence,
};
use vfs_core::file_description::IoctlMemory;
use vfs_core::{
    AccessTypes, FileRef, Getdents64Buffer, MkdirOptions, OpenOptions, PathOperation, ReadOptions,
    RenameOptions, SetStatOptions, StatOptions, WriteOptions,
};
use zerocopy::FromBytes;

use super::{
    AT_FDCWD, Fd, PathAddr, SysResult, SyscallTable, UserAddr, read_path, with_file, with_path,
};
use crate::mm::MemoryManager;
use crate::mm::io::{UserDest, UserSource, read_iovecs};
use crate::task::Task;
use crate::wait::retry_blocking;
use vfs_core::waiter::{READABLE_EVENTS, WRITABLE_EVENTS};

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::READ, sys_read);
    table.typed(nr::WRITE, sys_write);
    table.typed(nr::READV, sys_readv);
    table.typed(nr::WRITEV, sys_writev);
    table.typed(nr::PREAD64, sys_pread64);
    table.typed(nr::PWRITE64, sys_pwrite64);
    table.typed(nr::PREADV, sys_preadv);
    table.typed(nr::PWRITEV, sys_pwritev);
    table.typed(nr::PREADV2, sys_preadv2);
    table.typed(nr::PWRITEV2, sys_pwritev2);
    table.typed(nr::OPEN, sys_open);
    table.typed(nr::OPENAT, sys_openat);
    table.typed(nr::OPENAT2, sys_openat2);
    table.typed(nr::CLOSE, sys_close);
    table.typed(nr::FSTAT, sys_fstat);
    table.typed(nr::STAT, sys_stat);
    table.typed(nr::LSTAT, sys_lstat);
    table.typed(nr::NEWFSTATAT, sys_newfstatat);
    table.typed(nr::STATX, sys_statx);
    table.typed(nr::LSEEK, sys_lseek);
    table.typed(nr::GETDENTS64, sys_getdents64);
    table.typed(nr::READLINK, sys_readlink);
    table.typed(nr::READLINKAT, sys_readlinkat);
    table.typed(nr::ACCESS, sys_access);
    table.typed(nr::FACCESSAT, sys_faccessat);
    table.typed(nr::FACCESSAT2, sys_faccessat2);
    table.typed(nr::MKDIR, sys_mkdir);
    table.typed(nr::MKDIRAT, sys_mkdirat);
    table.typed(nr::UNLINK, sys_unlink);
    table.typed(nr::RMDIR, sys_rmdir);
    table.typed(nr::UNLINKAT, sys_unlinkat);
    table.typed(nr::RENAME, sys_rename);
    table.typed(nr::RENAMEAT, sys_renameat);
    table.typed(nr::RENAMEAT2, sys_renameat2);
    table.typed(nr::SYMLINKAT, sys_symlinkat);
    table.typed(nr::SYMLINK, sys_symlink);
    table.typed(nr::LINKAT, sys_linkat);
    table.typed(nr::LINK, sys_link);
    table.typed(nr::GETCWD, sys_getcwd);
    table.typed(nr::CHDIR, sys_chdir);
    table.typed(nr::CHROOT, sys_chroot);
    table.typed(nr::FCHDIR, sys_fchdir);
    table.typed(nr::FCNTL, sys_fcntl);
    table.typed(nr::DUP, sys_dup);
    table.typed(nr::CLOSE_RANGE, sys_close_range);
    table.typed(nr::CREAT, sys_creat);
    table.typed(nr::TRUNCATE, sys_truncate);
    table.typed(nr::CHOWN, sys_chown);
    table.typed(nr::LCHOWN, sys_lchown);
    table.typed(nr::UTIME, sys_utime);
    table.typed(nr::UTIMES, sys_utimes);
    table.typed(nr::FUTIMESAT, sys_futimesat);
    table.typed(nr::MKNOD, sys_mknod);
    table.typed(nr::MKNODAT, sys_mknodat);
    table.typed(nr::GETDENTS, sys_getdents);
    table.typed(nr::SYNC, sys_sync);
    table.typed(nr::SYNCFS, sys_syncfs);
    table.typed(nr::SYNC_FILE_RANGE, sys_sync_file_range);
    table.typed(nr::READAHEAD, sys_readahead);
    table.partial(
        nr::MKNODAT,
        "FIFOs open as pipes on memfs; on a host-directory mount a FIFO is the host's",
    );
    table.partial(nr::MKNOD, "as mknodat");
    table.typed(nr::MEMFD_CREATE, sys_memfd_create);
    table.partial(
        nr::MEMFD_CREATE,
        "MFD_HUGETLB files use ordinary pages; a slash in the name shows as an underscore",
    );
    table.typed(nr::DUP2, sys_dup2);
    table.typed(nr::DUP3, sys_dup3);
    table.typed(nr::IOCTL, sys_ioctl);
    table.typed(nr::UMASK, sys_umask);
    table.typed(nr::FTRUNCATE, sys_ftruncate);
    table.typed(nr::FSYNC, sys_fsync);
    table.typed(nr::FDATASYNC, sys_fsync);
    table.typed(nr::FCHMOD, sys_fchmod);
    table.typed(nr::FCHMODAT, sys_fchmodat);
    table.typed(nr::FCHMODAT2, sys_fchmodat2);
    table.typed(nr::CHMOD, sys_chmod);
    table.typed(nr::FCHOWN, sys_fchown);
    table.typed(nr::FCHOWNAT, sys_fchownat);
    table.typed(nr::UTIMENSAT, sys_utimensat);
    table.typed(nr::STATFS, sys_statfs);
    table.typed(nr::FSTATFS, sys_fstatfs);
    table.typed(nr::FLOCK, sys_flock);
    table.typed(nr::FALLOCATE, sys_fallocate);
    table.typed(nr::FADVISE64, sys_fadvise64);
    table.partial(
        nr::FCNTL,
        "descriptor flags, status flags, duplication, record locks and memfd seals; \
         F_GETOWN/F_SETOWN, pipe sizes, leases and F_NOTIFY are EINVAL",
    );
    table.partial(
        nr::IOCTL,
        "FIOCLEX, FIONCLEX, FIONBIO and FIOASYNC, and what each file implements (terminal \
         ioctls, FIONREAD)",
    );
}

fn sys_flock(t: &mut Task, fd: Fd, op: u32) -> SysResult {
    let op = abi_linux::FlockOp::from_bits(op).ok_or(Errno::EINVAL)?;
    with_file(t, fd.0, |f| f.lock_bsd(&t.ctx, op).map(|()| 0))
}

/// `fadvise64(fd, offset, len, advice)`: the advice is checked as Linux
/// checks it (`EBADF`, `ESPIPE` for a pipe or FIFO, `EINVAL` for an
/// unknown advice or a negative length) and then, as on Linux's tmpfs,
/// needs nothing done: the sandbox's caches are not the host's.
fn sys_fadvise64(t: &mut Task, fd: Fd, offset: i64, len: i64, advice: i32) -> SysResult {
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

fn sys_fallocate(t: &mut Task, fd: Fd, mode: u32, offset: i64, len: i64) -> SysResult {
    let mode = abi_linux::FallocFlags::from_bits(mode).ok_or(Errno::EOPNOTSUPP)?;
    with_file(t, fd.0, |f| {
        f.allocate(&t.ctx, mode, offset, len).map(|()| 0)
    })
}

/// `F_GETLK`, `F_SETLK(W)` and their OFD forms: a `struct flock` at
/// `addr`.
fn fcntl_lock(t: &Task, fd: Fd, cmd: FcntlCmd, addr: UserAddr) -> SysResult {
    let request: Flock = t.mm.read_obj(addr.get())?;
    let ofd = matches!(
        cmd,
        FcntlCmd::OFD_GETLK | FcntlCmd::OFD_SETLK | FcntlCmd::OFD_SETLKW
    );
    // OFD requests must leave `l_pid` zero.
    if ofd && request.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    with_file(t, fd.0, |f| match cmd {
        FcntlCmd::GETLK | FcntlCmd::OFD_GETLK => {
            let answer = f.test_posix(&t.ctx, ofd, &request)?;
            t.mm.write_obj(addr.get(), &answer).map(|()| 0)
        }
        _ => {
            let wait = matches!(cmd, FcntlCmd::SETLKW | FcntlCmd::OFD_SETLKW);
            f.lock_posix(&t.ctx, ofd, wait, &request).map(|()| 0)
        }
    })
}

fn read_to(task: &Task, fd: Fd, iovs: Vec<(u64, usize)>, offset: Option<i64>) -> SysResult {
    with_file(task, fd.0, |file| {
        crate::pty::job_control(task, file, abi_linux::Signal::SIGTTIN.0)?;
        let read = retry_blocking(file, READABLE_EVENTS, || {
            let mut dst = UserDest::new(&task.mm, iovs.clone());
            let n = match offset {
                None => file.read(&task.ctx, &mut dst, ReadOptions::default())?,
                Some(off) => file.pread(&task.ctx, &mut dst, off, ReadOptions::default())?,
            };
            Ok(n as u64)
        });
        // Linux's `vfs_read` counts every call that reaches the file,
        // failed or not; one on a description not open for reading does
        // not.
        if !matches!(read, Err(Errno::EBADF)) {
            task.group.io().read(*read.as_ref().unwrap_or(&0));
        }
        read
    })
}

fn write_from(task: &Task, fd: Fd, iovs: Vec<(u64, usize)>, offset: Option<i64>) -> SysResult {
    let written = write_file(task, fd, iovs, offset);
    if !matches!(written, Err(Errno::EBADF)) {
        task.group.io().write(*written.as_ref().unwrap_or(&0));
    }
    written
}

fn write_file(task: &Task, fd: Fd, iovs: Vec<(u64, usize)>, offset: Option<i64>) -> SysResult {
    with_file(task, fd.0, |file| {
        crate::pty::job_control(task, file, abi_linux::Signal::SIGTTOU.0)?;
        if offset.is_none()
            && let Some(sent) = super::socket::write_socket(task, file, iovs.clone())
        {
            return sent.map(|n| n as u64);
        }
        if offset.is_none() && !file.status_flags().contains(OpenFlags::NONBLOCK) {
            return write_all(task, file, iovs);
        }
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

/// A blocking `write`: it returns when every byte is written (Linux's
/// `pipe_write`, `n_tty_write` and the filesystems' write paths loop
/// until then; a host pipe or terminal imported through hostfs too), or
/// with the bytes written so far when a signal, a full disk, the file
/// size limit or the last reader's departure ends it (then with
/// `SIGPIPE` as well, as `pipe_write` sends it whatever it returns).
fn write_all(task: &Task, file: &FileRef, iovs: Vec<(u64, usize)>) -> SysResult {
    let total: usize = iovs.iter().map(|&(_, len)| len).sum();
    let mut src = UserSource::new(&task.mm, iovs);
    let mut done = 0usize;
    loop {
        let r = retry_blocking(file, WRITABLE_EVENTS, || {
            file.write(&task.ctx, &mut src, WriteOptions::default())
        });
        match r {
            Ok(n) => {
                done += n;
                if done >= total || n == 0 {
                    return Ok(done as u64);
                }
            }
            Err(e) if done > 0 => {
                if e == Errno::EPIPE {
                    super::raise_error_signal(task, libc::SIGPIPE);
                }
                return Ok(done as u64);
            }
            Err(e) => return Err(e),
        }
    }
}

/// The most bytes one read or write moves (Linux's `MAX_RW_COUNT`:
/// `INT_MAX` rounded down to a page).
const MAX_RW_COUNT: usize = 0x7fff_f000;

/// A byte count (`size_t`): above `SSIZE_MAX` is `EINVAL`; a larger
/// count than [`MAX_RW_COUNT`] is cut to it, as Linux's
/// `rw_verify_area` does.
fn count(v: usize) -> Result<usize, Errno> {
    if v > isize::MAX as usize {
        return Err(Errno::EINVAL);
    }
    Ok(v.min(MAX_RW_COUNT))
}

fn sys_read(t: &mut Task, fd: Fd, buf: UserAddr, len: usize) -> SysResult {
    read_to(t, fd, vec![(buf.get(), count(len)?)], None)
}

fn sys_write(t: &mut Task, fd: Fd, buf: UserAddr, len: usize) -> SysResult {
    write_from(t, fd, vec![(buf.get(), count(len)?)], None)
}

fn sys_readv(t: &mut Task, fd: Fd, iov: UserAddr, iovcnt: u64) -> SysResult {
    let iovs = read_iovecs(&t.mm, iov.get(), iovcnt)?;
    read_to(t, fd, iovs, None)
}

fn sys_writev(t: &mut Task, fd: Fd, iov: UserAddr, iovcnt: u64) -> SysResult {
    let iovs = read_iovecs(&t.mm, iov.get(), iovcnt)?;
    write_from(t, fd, iovs, None)
}

fn sys_pread64(t: &mut Task, fd: Fd, buf: UserAddr, len: usize, offset: i64) -> SysResult {
    read_to(t, fd, vec![(buf.get(), count(len)?)], Some(offset))
}

fn sys_pwrite64(t: &mut Task, fd: Fd, buf: UserAddr, len: usize, offset: i64) -> SysResult {
    write_from(t, fd, vec![(buf.get(), count(len)?)], Some(offset))
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
fn vector2_offset(low: u64, high: u64, flags: u32) -> Result<Option<i64>, Errno> {
    let flags = RwfFlags::from_bits_retain(flags as _);
    if !(RwfFlags::HIPRI | RwfFlags::DSYNC | RwfFlags::SYNC).contains(flags) {
        return Err(Errno::EOPNOTSUPP);
    }
    if (low | (high << 32)) as i64 == -1 {
        return Ok(None);
    }
    vector_offset(low, high).map(Some)
}

fn sys_preadv(t: &mut Task, fd: Fd, iov: UserAddr, iovcnt: u64, low: u64, high: u64) -> SysResult {
    let off = vector_offset(low, high)?;
    let iovs = read_iovecs(&t.mm, iov.get(), iovcnt)?;
    read_to(t, fd, iovs, Some(off))
}

fn sys_pwritev(t: &mut Task, fd: Fd, iov: UserAddr, iovcnt: u64, low: u64, high: u64) -> SysResult {
    let off = vector_offset(low, high)?;
    let iovs = read_iovecs(&t.mm, iov.get(), iovcnt)?;
    write_from(t, fd, iovs, Some(off))
}

fn sys_preadv2(
    t: &mut Task,
    fd: Fd,
    iov: UserAddr,
    iovcnt: u64,
    low: u64,
    high: u64,
    flags: u32,
) -> SysResult {
    let off = vector2_offset(low, high, flags)?;
    let iovs = read_iovecs(&t.mm, iov.get(), iovcnt)?;
    read_to(t, fd, iovs, off)
}

fn sys_pwritev2(
    t: &mut Task,
    fd: Fd,
    iov: UserAddr,
    iovcnt: u64,
    low: u64,
    high: u64,
    flags: u32,
) -> SysResult {
    let off = vector2_offset(low, high, flags)?;
    let iovs = read_iovecs(&t.mm, iov.get(), iovcnt)?;
    write_from(t, fd, iovs, off)
}

fn open(t: &Task, dirfd: Fd, path: PathAddr, flags: OpenFlags, mode: u32) -> SysResult {
    let flags = flags.intersection(OpenFlags::all());
    open_resolve(
        t,
        dirfd,
        path,
        flags,
        u64::from(mode),
        ResolveFlags::empty(),
    )
}

fn open_resolve(
    t: &Task,
    dirfd: Fd,
    path: PathAddr,
    flags: OpenFlags,
    mode: u64,
    resolve: ResolveFlags,
) -> SysResult {
    let path = read_path(t, path)?;
    let mut mode = mode as u32 & 0o7777;
    if flags.contains(OpenFlags::CREAT) {
        mode &= !t.fs.umask();
    }
    let file = with_path(t, dirfd.0, &path, true, false, |pop| {
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
    // A named FIFO waits for its other side here, with no filesystem lock
    // held.
    if let Err(e) = crate::pipe::complete_fifo_open(&file) {
        file.release(&t.ctx);
        return Err(e);
    }
    let fd = t
        .fds
        .add(file, flags.contains(OpenFlags::CLOEXEC), 0, t.fd_limit())?;
    Ok(fd as u64)
}

fn sys_open(t: &mut Task, path: PathAddr, flags: OpenFlags, mode: u32) -> SysResult {
    open(t, Fd(AT_FDCWD), path, flags, mode)
}

fn sys_openat(t: &mut Task, dirfd: Fd, path: PathAddr, flags: OpenFlags, mode: u32) -> SysResult {
    open(t, dirfd, path, flags, mode)
}

/// `openat2(2)`: `struct open_how` is checked strictly, as Linux does
/// (unknown flags or resolve bits, a mode without `O_CREAT`/`O_TMPFILE`:
/// `EINVAL`; a larger struct with non-zero tail: `E2BIG`).
fn sys_openat2(
    t: &mut Task,
    dirfd: Fd,
    path: PathAddr,
    how_addr: UserAddr,
    size: u64,
) -> SysResult {
    const OPEN_HOW_SIZE_VER0: u64 = std::mem::size_of::<OpenHow>() as u64;
    if size < OPEN_HOW_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > crate::elf::PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    let mut raw = vec![0u8; size as usize];
    t.mm.copy_in_exact(how_addr.get(), &mut raw)?;
    let (head, tail) = raw.split_at(OPEN_HOW_SIZE_VER0 as usize);
    if tail.iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let how = OpenHow::read_from_bytes(head).map_err(|_| Errno::EFAULT)?;
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
    open_resolve(t, dirfd, path, flags, how.mode, resolve)
}

fn sys_close(t: &mut Task, fd: Fd) -> SysResult {
    let file = t.fds.remove(fd.0)?;
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
    dirfd: Fd,
    path: &[u8],
    flags: AtFlags,
    opts: StatOptions,
) -> Result<Statx, Errno> {
    let known = AtFlags::SYMLINK_NOFOLLOW
        | AtFlags::EMPTY_PATH
        | AtFlags::NO_AUTOMOUNT
        | AtFlags::STATX_SYNC_TYPE;
    if !known.contains(flags) {
        return Err(Errno::EINVAL);
    }
    if path.is_empty() && flags.contains(AtFlags::EMPTY_PATH) {
        if dirfd.0 == AT_FDCWD {
            return with_path(t, dirfd.0, b".", true, false, |pop| {
                t.kernel.vfs.stat_at(&t.ctx, pop, opts)
            });
        }
        return with_file(t, dirfd.0, |f| f.stat(&t.ctx, opts));
    }
    let follow = !flags.contains(AtFlags::SYMLINK_NOFOLLOW);
    with_path(t, dirfd.0, path, follow, false, |pop| {
        t.kernel.vfs.stat_at(&t.ctx, pop, opts)
    })
}

fn sys_fstat(t: &mut Task, fd: Fd, buf: UserAddr) -> SysResult {
    let st = with_file(t, fd.0, |f| f.stat(&t.ctx, StatOptions::default()))?;
    t.mm.write_obj(buf.get(), &to_stat(&st))?;
    Ok(0)
}

fn stat_common(t: &Task, dirfd: Fd, path: PathAddr, buf: UserAddr, flags: AtFlags) -> SysResult {
    let path = read_path(t, path)?;
    let st = stat_path(t, dirfd, &path, flags, StatOptions::default())?;
    t.mm.write_obj(buf.get(), &to_stat(&st))?;
    Ok(0)
}

fn sys_stat(t: &mut Task, path: PathAddr, buf: UserAddr) -> SysResult {
    stat_common(t, Fd(AT_FDCWD), path, buf, AtFlags::empty())
}

fn sys_lstat(t: &mut Task, path: PathAddr, buf: UserAddr) -> SysResult {
    stat_common(t, Fd(AT_FDCWD), path, buf, AtFlags::SYMLINK_NOFOLLOW)
}

fn sys_newfstatat(
    t: &mut Task,
    dirfd: Fd,
    path: PathAddr,
    buf: UserAddr,
    flags: AtFlags,
) -> SysResult {
    stat_common(t, dirfd, path, buf, flags)
}

fn sys_statx(
    t: &mut Task,
    dirfd: Fd,
    path: PathAddr,
    flags: AtFlags,
    mask: u32,
    buf: UserAddr,
) -> SysResult {
    let mask = StatxMask::from_bits_truncate(mask);
    if mask.contains(StatxMask::RESERVED) {
        return Err(Errno::EINVAL);
    }
    if flags.contains(AtFlags::STATX_SYNC_TYPE) {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    let opts = StatOptions {
        mask,
        sync: flags.intersection(AtFlags::STATX_SYNC_TYPE).bits(),
    };
    let st = stat_path(t, dirfd, &path, flags, opts)?;
    t.mm.write_obj(buf.get(), &st)?;
    Ok(0)
}

fn sys_lseek(t: &mut Task, fd: Fd, offset: i64, whence: i32) -> SysResult {
    let whence = Whence::from_raw(whence).ok_or(Errno::EINVAL)?;
    with_file(t, fd.0, |f| f.seek(&t.ctx, offset, whence)).map(|o| o as u64)
}

fn sys_getdents64(t: &mut Task, fd: Fd, dirp: UserAddr, len: u32) -> SysResult {
    let size = (len as usize).min(1 << 20);
    let mut buf = vec![0u8; size];
    let n = with_file(t, fd.0, |f| {
        let mut sink = Getdents64Buffer::new(&mut buf);
        f.iter_dirents(&t.ctx, &mut sink)?;
        sink.finish()
    })?;
    t.mm.copy_out_exact(dirp.get(), &buf[..n])?;
    Ok(n as u64)
}

fn readlink(t: &Task, dirfd: Fd, path: PathAddr, buf: UserAddr, size: i32) -> SysResult {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    let target = with_path(t, dirfd.0, &path, false, false, |pop| {
        t.kernel.vfs.readlink_at(&t.ctx, pop)
    })?;
    let n = target.len().min(size as usize);
    t.mm.copy_out_exact(buf.get(), &target[..n])?;
    Ok(n as u64)
}

fn sys_readlink(t: &mut Task, path: PathAddr, buf: UserAddr, size: i32) -> SysResult {
    readlink(t, Fd(AT_FDCWD), path, buf, size)
}

fn sys_readlinkat(t: &mut Task, dirfd: Fd, path: PathAddr, buf: UserAddr, size: i32) -> SysResult {
    readlink(t, dirfd, path, buf, size)
}

fn access(t: &Task, dirfd: Fd, path: PathAddr, mode: u32, flags: AtFlags) -> SysResult {
    let known = AtFlags::EACCESS | AtFlags::SYMLINK_NOFOLLOW | AtFlags::EMPTY_PATH;
    if mode & !7 != 0 || !known.contains(flags) {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    let access = AccessTypes::from_bits_truncate(mode as u16);
    let follow = !flags.contains(AtFlags::SYMLINK_NOFOLLOW);
    let empty = flags.contains(AtFlags::EMPTY_PATH);
    with_path(t, dirfd.0, &path, follow, empty, |pop| {
        t.kernel.vfs.access_at(&t.ctx, pop, access)
    })?;
    Ok(0)
}

fn sys_access(t: &mut Task, path: PathAddr, mode: u32) -> SysResult {
    access(t, Fd(AT_FDCWD), path, mode, AtFlags::empty())
}

fn sys_faccessat(t: &mut Task, dirfd: Fd, path: PathAddr, mode: u32) -> SysResult {
    access(t, dirfd, path, mode, AtFlags::empty())
}

fn sys_faccessat2(t: &mut Task, dirfd: Fd, path: PathAddr, mode: u32, flags: AtFlags) -> SysResult {
    access(t, dirfd, path, mode, flags)
}

fn mkdir(t: &Task, dirfd: Fd, path: PathAddr, mode: u32) -> SysResult {
    let path = read_path(t, path)?;
    let mode = mode & 0o1777 & !t.fs.umask();
    with_path(t, dirfd.0, &path, false, false, |pop| {
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

fn sys_mkdir(t: &mut Task, path: PathAddr, mode: u32) -> SysResult {
    mkdir(t, Fd(AT_FDCWD), path, mode)
}

fn sys_mkdirat(t: &mut Task, dirfd: Fd, path: PathAddr, mode: u32) -> SysResult {
    mkdir(t, dirfd, path, mode)
}

fn unlink(t: &Task, dirfd: Fd, path: PathAddr, flags: AtFlags) -> SysResult {
    if !AtFlags::REMOVEDIR.contains(flags) {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    with_path(t, dirfd.0, &path, false, false, |pop| {
        if flags.contains(AtFlags::REMOVEDIR) {
            t.kernel.vfs.rmdir_at(&t.ctx, pop)
        } else {
            t.kernel.vfs.unlink_at(&t.ctx, pop)
        }
    })?;
    Ok(0)
}

fn sys_unlink(t: &mut Task, path: PathAddr) -> SysResult {
    unlink(t, Fd(AT_FDCWD), path, AtFlags::empty())
}

fn sys_rmdir(t: &mut Task, path: PathAddr) -> SysResult {
    unlink(t, Fd(AT_FDCWD), path, AtFlags::REMOVEDIR)
}

fn sys_unlinkat(t: &mut Task, dirfd: Fd, path: PathAddr, flags: AtFlags) -> SysResult {
    unlink(t, dirfd, path, flags)
}

fn rename(
    t: &Task,
    olddir: Fd,
    old: PathAddr,
    newdir: Fd,
    new: PathAddr,
    flags: RenameFlags,
) -> SysResult {
    if !RenameFlags::all().contains(flags) {
        return Err(Errno::EINVAL);
    }
    let old = read_path(t, old)?;
    let new = read_path(t, new)?;
    with_path(t, olddir.0, &old, false, false, |old_pop| {
        with_path(t, newdir.0, &new, false, false, |new_pop| {
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

fn sys_rename(t: &mut Task, old: PathAddr, new: PathAddr) -> SysResult {
    let cwd = Fd(AT_FDCWD);
    rename(t, cwd, old, cwd, new, RenameFlags::empty())
}

fn sys_renameat(t: &mut Task, olddir: Fd, old: PathAddr, newdir: Fd, new: PathAddr) -> SysResult {
    rename(t, olddir, old, newdir, new, RenameFlags::empty())
}

fn sys_renameat2(
    t: &mut Task,
    olddir: Fd,
    old: PathAddr,
    newdir: Fd,
    new: PathAddr,
    flags: RenameFlags,
) -> SysResult {
    rename(t, olddir, old, newdir, new, flags)
}

fn symlink(t: &Task, target: PathAddr, dirfd: Fd, path: PathAddr) -> SysResult {
    let target = read_path(t, target)?;
    let path = read_path(t, path)?;
    with_path(t, dirfd.0, &path, false, false, |pop| {
        t.kernel.vfs.symlink_at(&t.ctx, pop, &target)
    })?;
    Ok(0)
}

fn sys_symlink(t: &mut Task, target: PathAddr, path: PathAddr) -> SysResult {
    symlink(t, target, Fd(AT_FDCWD), path)
}

fn sys_symlinkat(t: &mut Task, target: PathAddr, dirfd: Fd, path: PathAddr) -> SysResult {
    symlink(t, target, dirfd, path)
}

fn link(
    t: &Task,
    olddir: Fd,
    old: PathAddr,
    newdir: Fd,
    new: PathAddr,
    flags: AtFlags,
) -> SysResult {
    if !(AtFlags::SYMLINK_FOLLOW | AtFlags::EMPTY_PATH).contains(flags) {
        return Err(Errno::EINVAL);
    }
    let old = read_path(t, old)?;
    let new = read_path(t, new)?;
    let follow = flags.contains(AtFlags::SYMLINK_FOLLOW);
    let empty = flags.contains(AtFlags::EMPTY_PATH);
    with_path(t, olddir.0, &old, follow, empty, |old_pop| {
        with_path(t, newdir.0, &new, false, false, |new_pop| {
            t.kernel.vfs.link_at(&t.ctx, old_pop, new_pop)
        })
    })?;
    Ok(0)
}

fn sys_link(t: &mut Task, old: PathAddr, new: PathAddr) -> SysResult {
    let cwd = Fd(AT_FDCWD);
    link(t, cwd, old, cwd, new, AtFlags::empty())
}

fn sys_linkat(
    t: &mut Task,
    olddir: Fd,
    old: PathAddr,
    newdir: Fd,
    new: PathAddr,
    flags: AtFlags,
) -> SysResult {
    link(t, olddir, old, newdir, new, flags)
}

fn sys_getcwd(t: &mut Task, buf: UserAddr, size: usize) -> SysResult {
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
    if path.len() > size {
        return Err(Errno::ERANGE);
    }
    t.mm.copy_out_exact(buf.get(), &path)?;
    Ok(path.len() as u64)
}

fn set_cwd(t: &Task, vd: vfs_core::VirtualDentry) -> SysResult {
    if let Some(old) = t.fs.set_cwd(vd) {
        old.release(&t.ctx);
    }
    Ok(0)
}

/// The directory at `path`, which the caller may search (what `chdir`
/// and `chroot` move to).
fn searchable_dir(t: &Task, path: PathAddr) -> Result<vfs_core::VirtualDentry, Errno> {
    let path = read_path(t, path)?;
    with_path(t, AT_FDCWD, &path, true, false, |pop| {
        t.kernel.vfs.get_dentry_at(
            &t.ctx,
            pop,
            vfs_core::GetDentryOptions {
                check_searchable: true,
            },
        )
    })
}

fn sys_chdir(t: &mut Task, path: PathAddr) -> SysResult {
    let vd = searchable_dir(t, path)?;
    set_cwd(t, vd)
}

/// `chroot(2)`: as `chdir` finds and checks the directory, then
/// `CAP_SYS_CHROOT` (`EPERM`); the working directory stays where it was,
/// possibly outside the new root (`getcwd` then says "(unreachable)").
fn sys_chroot(t: &mut Task, path: PathAddr) -> SysResult {
    let vd = searchable_dir(t, path)?;
    if !t
        .ctx
        .credentials
        .has_capability(abi_linux::Capability::SYS_CHROOT)
    {
        vd.release(&t.ctx);
        return Err(Errno::EPERM);
    }
    if let Some(old) = t.fs.set_root(vd) {
        old.release(&t.ctx);
    }
    Ok(0)
}

fn sys_fchdir(t: &mut Task, fd: Fd) -> SysResult {
    let file = t.fds.get(fd.0)?;
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
    let limit = t.fd_limit();
    let min = match i32::try_from(min) {
        Ok(min) if (min as u64) < limit => min,
        _ => {
            file.release(&t.ctx);
            return Err(Errno::EINVAL);
        }
    };
    t.fds.add(file, cloexec, min, limit).map(|fd| fd as u64)
}

fn sys_fcntl(t: &mut Task, fd: Fd, cmd: FcntlCmd, arg: u64) -> SysResult {
    match cmd {
        FcntlCmd::DUPFD | FcntlCmd::DUPFD_CLOEXEC => {
            let file = t.fds.get(fd.0)?;
            dup_to(t, file, arg, cmd == FcntlCmd::DUPFD_CLOEXEC)
        }
        FcntlCmd::GETFD => Ok(u64::from(t.fds.entry(fd.0)?.cloexec)),
        FcntlCmd::SETFD => {
            let cloexec = arg as i32 & abi_linux::fcntl::FD_CLOEXEC != 0;
            t.fds.set_cloexec(fd.0, cloexec).map(|()| 0)
        }
        FcntlCmd::GETFL => with_file(t, fd.0, |f| Ok(u64::from(f.status_flags().bits()))),
        FcntlCmd::SETFL => with_file(t, fd.0, |f| {
            f.set_status_flags(OpenFlags::from_bits_truncate(arg as u32))
                .map(|()| 0)
        }),
        FcntlCmd::GETLK
        | FcntlCmd::SETLK
        | FcntlCmd::SETLKW
        | FcntlCmd::OFD_GETLK
        | FcntlCmd::OFD_SETLK
        | FcntlCmd::OFD_SETLKW => fcntl_lock(t, fd, cmd, UserAddr(arg)),
        FcntlCmd::ADD_SEALS | FcntlCmd::GET_SEALS => with_file(t, fd.0, |f| {
            // Seals live on memfs files (memfds and tmpfs files); other
            // files have none to give (EINVAL).
            let file = f
                .downcast::<kernfs::memfs::RegularFileFd>()
                .ok_or(Errno::EINVAL)?
                .inode();
            if cmd == FcntlCmd::GET_SEALS {
                return Ok(u64::from(file.seals().bits()));
            }
            let seals = abi_linux::SealFlags::from_bits_retain(arg as u32);
            file.add_seals(seals, f.is_writable()).map(|()| 0)
        }),
        _ => {
            t.fds.get(fd.0)?.release(&t.ctx);
            Err(Errno::EINVAL)
        }
    }
}

/// `memfd_create(2)`: an unlinked memfs file on the kernel's anonymous
/// mount, named `memfd:NAME` for `/proc/PID/maps`, sealable with
/// `MFD_ALLOW_SEALING` (otherwise sealed with `F_SEAL_SEAL`, as Linux's).
fn sys_memfd_create(t: &mut Task, name: UserAddr, flags: u32) -> SysResult {
    use abi_linux::fcntl::MFD_NAME_MAX_LEN;
    use abi_linux::{MfdFlags, SealFlags};
    let flags = MfdFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    if flags.contains(MfdFlags::EXEC | MfdFlags::NOEXEC_SEAL) {
        return Err(Errno::EINVAL);
    }
    let name =
        t.mm.copy_in_string(name.get(), MFD_NAME_MAX_LEN)
            .map_err(|e| {
                if e == Errno::ENAMETOOLONG {
                    Errno::EINVAL
                } else {
                    e
                }
            })?;
    // Linked under its name for a moment, so that /proc/PID/fd and maps
    // show it as Linux does ("/memfd:NAME (deleted)"); a slash would
    // split the path.
    let mut path = b"memfd:".to_vec();
    path.extend(name.iter().map(|&b| if b == b'/' { b'_' } else { b }));
    let mode = if flags.contains(MfdFlags::NOEXEC_SEAL) {
        0o666
    } else {
        0o777
    };
    let file = unlinked_anon_file(t, path, mode)?;
    if let Some(memfd) = file.downcast::<kernfs::memfs::RegularFileFd>() {
        if flags.contains(MfdFlags::NOEXEC_SEAL) {
            memfd.inode().allow_sealing(SealFlags::EXEC);
        } else if flags.contains(MfdFlags::ALLOW_SEALING) {
            memfd.inode().allow_sealing(SealFlags::empty());
        }
    }
    t.fds
        .add(file, flags.contains(MfdFlags::CLOEXEC), 0, t.fd_limit())
        .map(|fd| fd as u64)
}

/// Opens a new regular file read-write on the kernel's anonymous memfs
/// mount, created as `name` and unlinked at once (a name another thread
/// holds right now gets a suffix): the memory of `memfd_create(2)` and of
/// System V shared-memory segments.
pub(super) fn unlinked_anon_file(t: &Task, mut path: Vec<u8>, mode: u32) -> Result<FileRef, Errno> {
    let mount = &t.kernel.anon_mount;
    let root = vfs_core::VirtualDentry::new(mount.clone(), mount.root_ref());
    let open = |path: &[u8]| {
        let pop = PathOperation::new(&root, &root, path);
        t.kernel.vfs.open_at(
            &t.ctx,
            &pop,
            OpenOptions {
                flags: OpenFlags::CREAT | OpenFlags::EXCL | OpenFlags::RDWR | OpenFlags::LARGEFILE,
                mode,
                ..Default::default()
            },
        )
    };
    let mut opened = open(&path);
    if opened.as_ref().err() == Some(&Errno::EEXIST) {
        let ino = t
            .kernel
            .next_anon_ino
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        path.extend_from_slice(format!("~{ino}").as_bytes());
        opened = open(&path);
    }
    let pop = PathOperation::new(&root, &root, &path);
    let unlinked = opened
        .as_ref()
        .ok()
        .map(|_| t.kernel.vfs.unlink_at(&t.ctx, &pop));
    root.release(&t.ctx);
    let file = opened?;
    if let Some(Err(e)) = unlinked {
        file.release(&t.ctx);
        return Err(e);
    }
    Ok(file)
}

/// `close_range(2)`: closes (or marks close-on-exec) the open descriptors
/// from `first` to `last`, after giving the caller its own table with
/// `CLOSE_RANGE_UNSHARE`.
fn sys_close_range(t: &mut Task, first: u32, last: u32, flags: u32) -> SysResult {
    use abi_linux::fcntl::{CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE};
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    if flags & CLOSE_RANGE_UNSHARE != 0 && t.fds.is_shared() {
        let own = std::sync::Arc::new(t.fds.fork());
        t.fds.release_user(&t.ctx);
        t.fds = own;
    }
    let in_range = |fd: &i32| u32::try_from(*fd).is_ok_and(|fd| (first..=last).contains(&fd));
    for fd in t.fds.fds().into_iter().filter(in_range) {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            t.fds.set_cloexec(fd, true)?;
        } else if let Ok(file) = t.fds.remove(fd) {
            file.release(&t.ctx);
        }
    }
    Ok(0)
}

fn sys_dup(t: &mut Task, fd: Fd) -> SysResult {
    let file = t.fds.get(fd.0)?;
    dup_to(t, file, 0, false)
}

fn dup3(t: &Task, old: i32, new: i32, cloexec: bool) -> SysResult {
    let file = t.fds.get(old)?;
    match t.fds.set(new, file, cloexec, t.fd_limit()) {
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

fn sys_dup2(t: &mut Task, old: Fd, new: Fd) -> SysResult {
    if old == new {
        t.fds.get(old.0)?.release(&t.ctx);
        return Ok(new.0 as u64);
    }
    dup3(t, old.0, new.0, false)
}

fn sys_dup3(t: &mut Task, old: Fd, new: Fd, flags: OpenFlags) -> SysResult {
    if old == new || !OpenFlags::CLOEXEC.contains(flags) {
        return Err(Errno::EINVAL);
    }
    dup3(t, old.0, new.0, flags.contains(OpenFlags::CLOEXEC))
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

fn sys_ioctl(t: &mut Task, fd: Fd, cmd: u32, arg: u64) -> SysResult {
    match cmd {
        FIOCLEX => t.fds.set_cloexec(fd.0, true).map(|()| 0),
        FIONCLEX => t.fds.set_cloexec(fd.0, false).map(|()| 0),
        // Linux's `do_vfs_ioctl` serves these for every file.
        FIONBIO | FIOASYNC => with_file(t, fd.0, |f| {
            let on: i32 = t.mm.read_obj(arg)?;
            let bit = if cmd == FIONBIO {
                OpenFlags::NONBLOCK
            } else {
                OpenFlags::ASYNC
            };
            let mut flags = f.status_flags() & vfs_core::file_description::SETTABLE_STATUS_FLAGS;
            flags.set(bit, on != 0);
            f.set_status_flags(flags).map(|()| 0)
        }),
        _ => with_file(t, fd.0, |f| {
            // Pseudo-terminals' job control needs the caller's process.
            if let Some(r) = crate::pty::task_ioctl(t, f, cmd, arg) {
                return r;
            }
            f.ioctl(&t.ctx, cmd, arg, &mut IoctlMm(&t.mm))
                .map(|r| r as u64)
        }),
    }
}

fn sys_umask(t: &mut Task, mask: u32) -> SysResult {
    Ok(u64::from(t.fs.swap_umask(mask)))
}

fn set_stat_fd(t: &Task, fd: Fd, stat: Statx) -> SysResult {
    with_file(t, fd.0, |f| {
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
    dirfd: Fd,
    path: PathAddr,
    follow: bool,
    empty: bool,
    stat: Statx,
) -> SysResult {
    let path = read_path(t, path)?;
    if path.is_empty() && empty {
        return set_stat_fd(t, dirfd, stat);
    }
    with_path(t, dirfd.0, &path, follow, false, |pop| {
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

fn sys_ftruncate(t: &mut Task, fd: Fd, len: i64) -> SysResult {
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let file = t.fds.get(fd.0)?;
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
    set_stat_fd(t, fd, stat)
}

fn sys_fsync(t: &mut Task, fd: Fd) -> SysResult {
    with_file(t, fd.0, |f| f.sync(&t.ctx)).map(|()| 0)
}

fn mode_stat(mode: u32) -> Statx {
    Statx {
        stx_mask: StatxMask::MODE.bits(),
        stx_mode: (mode & 0o7777) as u16,
        ..Statx::default()
    }
}

fn sys_fchmod(t: &mut Task, fd: Fd, mode: u32) -> SysResult {
    set_stat_fd(t, fd, mode_stat(mode))
}

fn sys_fchmodat(t: &mut Task, dirfd: Fd, path: PathAddr, mode: u32) -> SysResult {
    set_stat_path(t, dirfd, path, true, false, mode_stat(mode))
}

/// `fchmodat2(2)`: `fchmodat` with `AT_SYMLINK_NOFOLLOW` (a symlink's
/// mode cannot change: `EOPNOTSUPP`, as Linux's filesystems answer) and
/// `AT_EMPTY_PATH`.
fn sys_fchmodat2(t: &mut Task, dirfd: Fd, path: PathAddr, mode: u32, flags: AtFlags) -> SysResult {
    if !(AtFlags::SYMLINK_NOFOLLOW | AtFlags::EMPTY_PATH).contains(flags) {
        return Err(Errno::EINVAL);
    }
    let nofollow = flags.contains(AtFlags::SYMLINK_NOFOLLOW);
    let empty = flags.contains(AtFlags::EMPTY_PATH);
    if nofollow {
        let name = read_path(t, path)?;
        let st = stat_path(t, dirfd, &name, flags, StatOptions::default())?;
        if u32::from(st.stx_mode) & abi_linux::S_IFMT == abi_linux::S_IFLNK {
            return Err(Errno::EOPNOTSUPP);
        }
    }
    set_stat_path(t, dirfd, path, !nofollow, empty, mode_stat(mode))
}

fn sys_chmod(t: &mut Task, path: PathAddr, mode: u32) -> SysResult {
    set_stat_path(t, Fd(AT_FDCWD), path, true, false, mode_stat(mode))
}

/// The `Statx` change of `chown`: an id of -1 is left alone.
fn owner_stat(uid: u32, gid: u32) -> Statx {
    let mut s = Statx::default();
    if uid != u32::MAX {
        s.stx_mask |= StatxMask::UID.bits();
        s.stx_uid = uid;
    }
    if gid != u32::MAX {
        s.stx_mask |= StatxMask::GID.bits();
        s.stx_gid = gid;
    }
    s
}

fn sys_fchown(t: &mut Task, fd: Fd, uid: u32, gid: u32) -> SysResult {
    set_stat_fd(t, fd, owner_stat(uid, gid))
}

fn sys_fchownat(
    t: &mut Task,
    dirfd: Fd,
    path: PathAddr,
    uid: u32,
    gid: u32,
    flags: AtFlags,
) -> SysResult {
    if !(AtFlags::SYMLINK_NOFOLLOW | AtFlags::EMPTY_PATH).contains(flags) {
        return Err(Errno::EINVAL);
    }
    set_stat_path(
        t,
        dirfd,
        path,
        !flags.contains(AtFlags::SYMLINK_NOFOLLOW),
        flags.contains(AtFlags::EMPTY_PATH),
        owner_stat(uid, gid),
    )
}

fn sys_utimensat(
    t: &mut Task,
    dirfd: Fd,
    path: PathAddr,
    times_addr: UserAddr,
    flags: AtFlags,
) -> SysResult {
    if !(AtFlags::SYMLINK_NOFOLLOW | AtFlags::EMPTY_PATH).contains(flags) {
        return Err(Errno::EINVAL);
    }
    let now = abi_linux::Timespec {
        tv_sec: 0,
        tv_nsec: i64::from(vfs_core::UTIME_NOW),
    };
    let mut times = [now; 2];
    if !times_addr.is_null() {
        times = t.mm.read_obj(times_addr.get())?;
        for time in &times {
            let nsec = time.tv_nsec;
            if !(0..1_000_000_000).contains(&nsec)
                && nsec != i64::from(vfs_core::UTIME_NOW)
                && nsec != i64::from(vfs_core::UTIME_OMIT)
            {
                return Err(Errno::EINVAL);
            }
        }
    }
    let ts = |time: abi_linux::Timespec| abi_linux::StatxTimestamp {
        tv_sec: time.tv_sec,
        tv_nsec: time.tv_nsec as u32,
        _reserved: 0,
    };
    let stat = Statx {
        stx_mask: (StatxMask::ATIME | StatxMask::MTIME).bits(),
        stx_atime: ts(times[0]),
        stx_mtime: ts(times[1]),
        ..Statx::default()
    };
    if path.0.is_null() {
        // Linux's futimens form: a null path names `dirfd` itself.
        return set_stat_fd(t, dirfd, stat);
    }
    set_stat_path(
        t,
        dirfd,
        path,
        !flags.contains(AtFlags::SYMLINK_NOFOLLOW),
        flags.contains(AtFlags::EMPTY_PATH),
        stat,
    )
}

fn sys_statfs(t: &mut Task, path: PathAddr, buf: UserAddr) -> SysResult {
    let path = read_path(t, path)?;
    let st = with_path(t, AT_FDCWD, &path, true, false, |pop| {
        t.kernel.vfs.statfs_at(&t.ctx, pop)
    })?;
    t.mm.write_obj(buf.get(), &st)?;
    Ok(0)
}

fn sys_fstatfs(t: &mut Task, fd: Fd, buf: UserAddr) -> SysResult {
    let st = with_file(t, fd.0, |f| f.statfs(&t.ctx))?;
    t.mm.write_obj(buf.get(), &st)?;
    Ok(0)
}

fn sys_creat(t: &mut Task, path: PathAddr, mode: u32) -> SysResult {
    open(
        t,
        Fd(AT_FDCWD),
        path,
        OpenFlags::CREAT | OpenFlags::WRONLY | OpenFlags::TRUNC,
        mode,
    )
}

/// `truncate(2)` (Linux's `do_sys_truncate`): the caller needs write
/// permission; a directory is `EISDIR`, another non-regular file
/// `EINVAL`.
fn sys_truncate(t: &mut Task, path: PathAddr, len: i64) -> SysResult {
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    with_path(t, AT_FDCWD, &path, true, false, |pop| {
        let st = t.kernel.vfs.stat_at(&t.ctx, pop, StatOptions::default())?;
        match u32::from(st.stx_mode) & abi_linux::S_IFMT {
            abi_linux::S_IFDIR => return Err(Errno::EISDIR),
            abi_linux::S_IFREG => {}
            _ => return Err(Errno::EINVAL),
        }
        t.kernel.vfs.set_stat_at(
            &t.ctx,
            pop,
            SetStatOptions {
                stat: Statx {
                    stx_mask: StatxMask::SIZE.bits(),
                    stx_size: len as u64,
                    ..Statx::default()
                },
                need_write_perm: true,
            },
        )
    })?;
    Ok(0)
}

fn sys_chown(t: &mut Task, path: PathAddr, uid: u32, gid: u32) -> SysResult {
    set_stat_path(t, Fd(AT_FDCWD), path, true, false, owner_stat(uid, gid))
}

fn sys_lchown(t: &mut Task, path: PathAddr, uid: u32, gid: u32) -> SysResult {
    set_stat_path(t, Fd(AT_FDCWD), path, false, false, owner_stat(uid, gid))
}

/// The `Statx` change of `utime`/`utimes`/`futimesat`: both times from
/// `times` (seconds and nanoseconds), or now when none are given.
fn times_stat(times: Option<[(i64, i64); 2]>) -> Statx {
    let now = i64::from(vfs_core::UTIME_NOW);
    let [a, m] = times.unwrap_or([(0, now), (0, now)]);
    let ts = |(sec, nsec): (i64, i64)| abi_linux::StatxTimestamp {
        tv_sec: sec,
        tv_nsec: nsec as u32,
        _reserved: 0,
    };
    Statx {
        stx_mask: (StatxMask::ATIME | StatxMask::MTIME).bits(),
        stx_atime: ts(a),
        stx_mtime: ts(m),
        ..Statx::default()
    }
}

/// Reads two `timeval`s as `utimes` takes them; `EINVAL` for a
/// microsecond count out of range.
fn read_timevals(t: &Task, addr: UserAddr) -> Result<Option<[(i64, i64); 2]>, Errno> {
    if addr.is_null() {
        return Ok(None);
    }
    let tv: [abi_linux::Timeval; 2] = t.mm.read_obj(addr.get())?;
    let mut out = [(0, 0); 2];
    for (slot, v) in out.iter_mut().zip(tv) {
        if !(0..1_000_000).contains(&v.tv_usec) {
            return Err(Errno::EINVAL);
        }
        *slot = (v.tv_sec, v.tv_usec * 1000);
    }
    Ok(Some(out))
}

fn sys_utime(t: &mut Task, path: PathAddr, times: UserAddr) -> SysResult {
    // `struct utimbuf`: access and modification times in seconds.
    let times = if times.is_null() {
        None
    } else {
        let [a, m]: [i64; 2] = t.mm.read_obj(times.get())?;
        Some([(a, 0), (m, 0)])
    };
    set_stat_path(t, Fd(AT_FDCWD), path, true, false, times_stat(times))
}

fn sys_utimes(t: &mut Task, path: PathAddr, times: UserAddr) -> SysResult {
    let times = read_timevals(t, times)?;
    set_stat_path(t, Fd(AT_FDCWD), path, true, false, times_stat(times))
}

fn sys_futimesat(t: &mut Task, dirfd: Fd, path: PathAddr, times: UserAddr) -> SysResult {
    let times = read_timevals(t, times)?;
    if path.0.is_null() {
        return set_stat_fd(t, dirfd, times_stat(times));
    }
    set_stat_path(t, dirfd, path, true, false, times_stat(times))
}

/// `mknodat(2)` (Linux's `do_mknodat`): a regular file (type 0 too), a
/// FIFO, a socket or, with `CAP_MKNOD` (checked by the filesystem), a
/// device node; a directory is `EPERM`, another type `EINVAL`.
fn mknod(t: &Task, dirfd: Fd, path: PathAddr, mode: u32, dev: u32) -> SysResult {
    let kind = mode & abi_linux::S_IFMT;
    let mode = match kind {
        0 => abi_linux::S_IFREG | (mode & 0o7777),
        abi_linux::S_IFREG
        | abi_linux::S_IFCHR
        | abi_linux::S_IFBLK
        | abi_linux::S_IFIFO
        | abi_linux::S_IFSOCK => mode,
        abi_linux::S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let mode = mode & !(t.fs.umask() & 0o777);
    let path = read_path(t, path)?;
    let dev = u64::from(dev);
    with_path(t, dirfd.0, &path, false, false, |pop| {
        t.kernel.vfs.mknod_at(
            &t.ctx,
            pop,
            vfs_core::MknodOptions {
                mode,
                dev_major: abi_linux::dev_major(dev),
                dev_minor: abi_linux::dev_minor(dev),
            },
        )
    })?;
    Ok(0)
}

fn sys_mknod(t: &mut Task, path: PathAddr, mode: u32, dev: u32) -> SysResult {
    mknod(t, Fd(AT_FDCWD), path, mode, dev)
}

fn sys_mknodat(t: &mut Task, dirfd: Fd, path: PathAddr, mode: u32, dev: u32) -> SysResult {
    mknod(t, dirfd, path, mode, dev)
}

/// Serialises entries as the old `struct linux_dirent` that `getdents(2)`
/// returns: inode, next offset, record length, the name with its NUL, and
/// the type in the record's last byte.
struct GetdentsBuffer<'a> {
    buf: &'a mut [u8],
    len: usize,
    rejected: bool,
}

impl vfs_core::DirentSink for GetdentsBuffer<'_> {
    fn add(&mut self, dirent: &vfs_core::Dirent<'_>) -> bool {
        // d_ino, d_off, d_reclen, the name, its NUL and d_type.
        let reclen = (18 + dirent.name.len() + 2).next_multiple_of(8);
        let Some(rec) = self.buf.get_mut(self.len..self.len + reclen) else {
            self.rejected = true;
            return false;
        };
        rec.fill(0);
        rec[..8].copy_from_slice(&dirent.ino.to_ne_bytes());
        rec[8..16].copy_from_slice(&dirent.next_offset.to_ne_bytes());
        rec[16..18].copy_from_slice(&(reclen as u16).to_ne_bytes());
        rec[18..18 + dirent.name.len()].copy_from_slice(dirent.name);
        rec[reclen - 1] = dirent.dtype;
        self.len += reclen;
        true
    }
}

fn sys_getdents(t: &mut Task, fd: Fd, dirp: UserAddr, len: u32) -> SysResult {
    let size = (len as usize).min(1 << 20);
    let mut buf = vec![0u8; size];
    let n = with_file(t, fd.0, |f| {
        let mut sink = GetdentsBuffer {
            buf: &mut buf,
            len: 0,
            rejected: false,
        };
        f.iter_dirents(&t.ctx, &mut sink)?;
        if sink.len == 0 && sink.rejected {
            return Err(Errno::EINVAL);
        }
        Ok(sink.len)
    })?;
    t.mm.copy_out_exact(dirp.get(), &buf[..n])?;
    Ok(n as u64)
}

fn sys_sync(t: &mut Task) -> SysResult {
    // Linux's sync(2) reports nothing: errors stay with the files.
    let _ = t.kernel.vfs.sync_all(&t.ctx, &t.kernel.mounts);
    Ok(0)
}

fn sys_syncfs(t: &mut Task, fd: Fd) -> SysResult {
    with_file(t, fd.0, |f| f.mount().filesystem().imp().sync(&t.ctx)).map(|()| 0)
}

/// `sync_file_range(2)`: Linux's argument checks, then the file's data
/// written back as `fdatasync` does (the sentry has no finer unit).
fn sys_sync_file_range(t: &mut Task, fd: Fd, offset: i64, nbytes: i64, flags: u32) -> SysResult {
    const VALID: u32 = 1 | 2 | 4;
    if flags & !VALID != 0 || offset < 0 || nbytes < 0 || offset.checked_add(nbytes).is_none() {
        return Err(Errno::EINVAL);
    }
    with_file(t, fd.0, |f| {
        let st = f.stat(&t.ctx, StatOptions::default())?;
        let kind = u32::from(st.stx_mode) & abi_linux::S_IFMT;
        if ![
            abi_linux::S_IFREG,
            abi_linux::S_IFDIR,
            abi_linux::S_IFBLK,
            abi_linux::S_IFLNK,
        ]
        .contains(&kind)
        {
            return Err(Errno::ESPIPE);
        }
        if flags & 2 != 0 {
            f.sync(&t.ctx)?;
        }
        Ok(0)
    })
}

/// `readahead(2)`: the sentry reads on demand, so there is nothing to
/// start; Linux's checks stand (`EBADF` unless readable, `EINVAL` for
/// what has no page cache to fill).
fn sys_readahead(t: &mut Task, fd: Fd, _offset: i64, _count: usize) -> SysResult {
    with_file(t, fd.0, |f| {
        if !f.is_readable() {
            return Err(Errno::EBADF);
        }
        let st = f.stat(&t.ctx, StatOptions::default())?;
        if u32::from(st.stx_mode) & abi_linux::S_IFMT != abi_linux::S_IFREG {
            return Err(Errno::EINVAL);
        }
        Ok(0)
    })
}
