//! Moving data between descriptors without passing it through the
//! application: `sendfile`, `copy_file_range`, `splice`, `tee` and
//! `vmsplice` (gVisor's `sys_splice.go`). The sentry copies through its
//! own buffer; what each call accepts, refuses and reports is Linux's.

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, OpenFlags, SpliceFlags, Whence};
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::waiter::{READABLE_EVENTS, WRITABLE_EVENTS};
use vfs_core::{FileRef, ReadOptions, WriteOptions};

use super::{Fd, SysResult, SyscallTable, UserAddr, with_file};
use crate::mm::io::{UserDest, UserSource, read_iovecs};
use crate::pipe;
use crate::task::Task;
use crate::wait::retry_blocking;

/// The most bytes moved through the sentry's buffer at a time.
const CHUNK: usize = 64 * 1024;
/// The most one call moves (Linux's `MAX_RW_COUNT`).
const MAX_RW_COUNT: usize = 0x7fff_f000;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::SENDFILE, sys_sendfile);
    table.typed(nr::COPY_FILE_RANGE, sys_copy_file_range);
    table.typed(nr::SPLICE, sys_splice);
    table.typed(nr::TEE, sys_tee);
    table.typed(nr::VMSPLICE, sys_vmsplice);
    table.partial(
        nr::VMSPLICE,
        "the pages are copied, never gifted: later changes to them do not reach the pipe",
    );
}

/// How [`transfer`] waits.
#[derive(Clone, Copy)]
struct Mode {
    /// Return after the first piece (`splice`) instead of looping.
    once: bool,
    /// Never wait on a pipe (`SPLICE_F_NONBLOCK`).
    pipe_nonblock: bool,
}

/// Runs `attempt` once when `nonblock` is set and `file` is a pipe,
/// otherwise as [`retry_blocking`] does.
fn attempt_on<T>(
    file: &FileRef,
    events: vfs_core::waiter::EventMask,
    nonblock: bool,
    attempt: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    let mut attempt = attempt;
    if nonblock && pipe::is_pipe(file) {
        attempt()
    } else {
        retry_blocking(file, events, attempt)
    }
}

/// Moves up to `want` bytes from `input` to `output` through the
/// sentry's buffer: each piece is read (at `in_off`, else the file
/// offset) and written whole (at `out_off`, else the file offset). A
/// pipe output's room is waited for before reading, so what is read is
/// never lost to a full pipe. Stops at the end of the input, after the
/// first piece in `once` mode, or at an error once something moved.
fn transfer(
    t: &Task,
    input: &FileRef,
    mut in_off: Option<&mut i64>,
    output: &FileRef,
    mut out_off: Option<&mut i64>,
    want: usize,
    mode: Mode,
) -> Result<usize, Errno> {
    let mut buf = vec![0u8; want.min(CHUNK)];
    let mut total = 0usize;
    while total < want {
        let mut len = buf.len().min(want - total);
        if pipe::room(output).is_some() {
            let room = attempt_on(
                output,
                WRITABLE_EVENTS,
                mode.pipe_nonblock,
                || match pipe::room(output) {
                    Some(Ok(0)) => Err(Errno::EAGAIN),
                    Some(r) => r,
                    None => Err(Errno::EINVAL),
                },
            );
            match room {
                Ok(room) => len = len.min(room),
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            }
        }
        let read = attempt_on(input, READABLE_EVENTS, mode.pipe_nonblock, || {
            let mut dst = SliceDest::new(&mut buf[..len]);
            match in_off.as_deref() {
                Some(&off) => input.pread(&t.ctx, &mut dst, off, ReadOptions::default()),
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
                let mut src = SliceSource::new(&buf[written..read]);
                match out_off.as_deref() {
                    Some(&off) => output.pwrite(
                        &t.ctx,
                        &mut src,
                        off + written as i64,
                        WriteOptions::default(),
                    ),
                    None => output.write(&t.ctx, &mut src, WriteOptions::default()),
                }
            });
            match step {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if total + written == 0 => return Err(e),
                Err(_) => break,
            }
        }
        total += written;
        if let Some(off) = out_off.as_deref_mut() {
            *off += written as i64;
        }
        match in_off.as_deref_mut() {
            Some(off) => *off += written as i64,
            // Give back what was read but not written, so the input's
            // offset says what moved.
            None if written < read => {
                let _ = input.seek(&t.ctx, -((read - written) as i64), Whence::Cur);
            }
            None => {}
        }
        if written < read || mode.once {
            break;
        }
    }
    Ok(total)
}

/// Reads the `loff_t` at `addr` (none when null); `EINVAL` if negative.
fn read_offset(t: &Task, addr: UserAddr) -> Result<Option<i64>, Errno> {
    if addr.is_null() {
        return Ok(None);
    }
    let off: i64 = t.mm.read_obj(addr.get())?;
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(off))
}

/// Stores an advanced offset back where it was read from.
fn write_offset(t: &Task, addr: UserAddr, off: Option<i64>) -> Result<(), Errno> {
    match off {
        Some(off) => t.mm.write_obj(addr.get(), &off),
        None => Ok(()),
    }
}

/// `sendfile(2)`: copies up to `len` bytes from `in_fd` (at `*offset`
/// when given, leaving the file offset alone and updating `*offset`) to
/// `out_fd`. Returns what was written; stops early at the end of the
/// input or when the output would block after some bytes moved.
fn sys_sendfile(
    t: &mut Task,
    out_fd: Fd,
    in_fd: Fd,
    offset_addr: UserAddr,
    len: usize,
) -> SysResult {
    let want = len.min(MAX_RW_COUNT);
    let mut offset = read_offset(t, offset_addr)?;
    let total = with_file(t, in_fd.0, |input| {
        with_file(t, out_fd.0, |output| {
            if !input.is_readable() || !output.is_writable() {
                return Err(Errno::EBADF);
            }
            if output.status_flags().contains(OpenFlags::APPEND) {
                return Err(Errno::EINVAL);
            }
            let mode = Mode {
                once: false,
                pipe_nonblock: false,
            };
            transfer(t, input, offset.as_mut(), output, None, want, mode)
        })
    })?;
    write_offset(t, offset_addr, offset)?;
    Ok(total as u64)
}

/// The inode of `file` (device and number) if it is a regular file, what
/// `copy_file_range` copies; `EISDIR` for a directory.
fn regular_inode(t: &Task, file: &FileRef) -> Result<Option<(u32, u32, u64)>, Errno> {
    let st = file.stat(&t.ctx, vfs_core::StatOptions::default())?;
    let ty = u32::from(st.stx_mode) & abi_linux::S_IFMT;
    if ty == abi_linux::S_IFDIR {
        return Err(Errno::EISDIR);
    }
    Ok((ty == abi_linux::S_IFREG).then_some((st.stx_dev_major, st.stx_dev_minor, st.stx_ino)))
}

fn sys_copy_file_range(
    t: &mut Task,
    in_fd: Fd,
    off_in: UserAddr,
    out_fd: Fd,
    off_out: UserAddr,
    len: usize,
    flags: u32,
) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let mut in_off = read_offset(t, off_in)?;
    let mut out_off = read_offset(t, off_out)?;
    let total = with_file(t, in_fd.0, |input| {
        with_file(t, out_fd.0, |output| {
            // Linux's generic_copy_file_checks, in its order.
            let (Some(in_inode), Some(out_inode)) =
                (regular_inode(t, input)?, regular_inode(t, output)?)
            else {
                return Err(Errno::EINVAL);
            };
            if !input.is_readable()
                || !output.is_writable()
                || output.status_flags().contains(OpenFlags::APPEND)
            {
                return Err(Errno::EBADF);
            }
            let start_in = match in_off {
                Some(off) => off,
                None => input.seek(&t.ctx, 0, Whence::Cur)?,
            };
            let start_out = match out_off {
                Some(off) => off,
                None => output.seek(&t.ctx, 0, Whence::Cur)?,
            };
            let len = len.min(MAX_RW_COUNT);
            let end_in = start_in.checked_add(len as i64).ok_or(Errno::EOVERFLOW)?;
            let end_out = start_out.checked_add(len as i64).ok_or(Errno::EOVERFLOW)?;
            if in_inode == out_inode && start_in < end_out && start_out < end_in {
                return Err(Errno::EINVAL);
            }
            let mode = Mode {
                once: false,
                pipe_nonblock: false,
            };
            transfer(
                t,
                input,
                in_off.as_mut(),
                output,
                out_off.as_mut(),
                len,
                mode,
            )
        })
    })?;
    write_offset(t, off_in, in_off)?;
    write_offset(t, off_out, out_off)?;
    Ok(total as u64)
}

fn sys_splice(
    t: &mut Task,
    in_fd: Fd,
    off_in: UserAddr,
    out_fd: Fd,
    off_out: UserAddr,
    len: usize,
    flags: u32,
) -> SysResult {
    let flags = SpliceFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    let total = with_file(t, in_fd.0, |input| {
        with_file(t, out_fd.0, |output| {
            if !input.is_readable() || !output.is_writable() {
                return Err(Errno::EBADF);
            }
            let (in_pipe, out_pipe) = (pipe::is_pipe(input), pipe::is_pipe(output));
            if !in_pipe && !out_pipe {
                return Err(Errno::EINVAL);
            }
            if (in_pipe && !off_in.is_null()) || (out_pipe && !off_out.is_null()) {
                return Err(Errno::ESPIPE);
            }
            if output.status_flags().contains(OpenFlags::APPEND) && !out_pipe {
                return Err(Errno::EINVAL);
            }
            let mut in_off = read_offset(t, off_in)?;
            let mut out_off = read_offset(t, off_out)?;
            if len == 0 {
                return Ok(0);
            }
            let mode = Mode {
                once: true,
                pipe_nonblock: flags.contains(SpliceFlags::NONBLOCK),
            };
            let n = transfer(
                t,
                input,
                in_off.as_mut(),
                output,
                out_off.as_mut(),
                len.min(MAX_RW_COUNT),
                mode,
            )?;
            write_offset(t, off_in, in_off)?;
            write_offset(t, off_out, out_off)?;
            Ok(n)
        })
    })?;
    Ok(total as u64)
}

fn sys_tee(t: &mut Task, in_fd: Fd, out_fd: Fd, len: usize, flags: u32) -> SysResult {
    let flags = SpliceFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    let nonblock = flags.contains(SpliceFlags::NONBLOCK);
    let n = with_file(t, in_fd.0, |input| {
        with_file(t, out_fd.0, |output| {
            if len == 0 {
                return pipe::tee(input, output, 0).map(|_| 0);
            }
            // Wait for data in the input, then for room in the output.
            attempt_on(input, READABLE_EVENTS, nonblock, || {
                match pipe::tee(input, output, len) {
                    Err(Errno::EAGAIN) if pipe::room(output).is_some_and(|r| r == Ok(0)) => {
                        // Full output: wait on it instead.
                        attempt_on(output, WRITABLE_EVENTS, nonblock, || {
                            pipe::tee(input, output, len)
                        })
                    }
                    r => r,
                }
            })
        })
    })?;
    Ok(n as u64)
}

fn sys_vmsplice(t: &mut Task, fd: Fd, iov: UserAddr, count: u64, flags: u32) -> SysResult {
    let flags = SpliceFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    let iovs = read_iovecs(&t.mm, iov.get(), count)?;
    let nonblock = flags.contains(SpliceFlags::NONBLOCK);
    with_file(t, fd.0, |file| {
        if !pipe::is_pipe(file) {
            return Err(Errno::EBADF);
        }
        // The pipe's write side takes the pages' bytes; its read side
        // gives bytes to them (Linux's vmsplice_to_user).
        let n = if file.is_writable() {
            attempt_on(file, WRITABLE_EVENTS, nonblock, || {
                let mut src = UserSource::new(&t.mm, iovs.clone());
                file.write(&t.ctx, &mut src, WriteOptions::default())
            })?
        } else {
            attempt_on(file, READABLE_EVENTS, nonblock, || {
                let mut dst = UserDest::new(&t.mm, iovs.clone());
                file.read(&t.ctx, &mut dst, ReadOptions::default())
            })?
        };
        Ok(n as u64)
    })
}
