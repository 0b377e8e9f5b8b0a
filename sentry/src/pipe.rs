//! Anonymous pipes (gVisor's `kernel/pipe`): a bounded byte buffer shared
//! by a read end and a write end, with readiness on a waiter queue.
//!
//! Reads of an empty pipe return `EAGAIN` while a writer exists (the task
//! waits through [`crate::wait::retry_blocking`]) and 0 after the last
//! writer is gone; writes with no reader left are `EPIPE`; writes of at
//! most `PIPE_BUF` bytes are atomic, larger ones may be partial.
//!
//! # Reference model
//!
//! Each end's description holds the shared [`Pipe`] (`Arc`); releasing
//! the last reference to an end decrements its count and wakes waiters.
//!
//! # Lock order
//!
//! `Pipe::state` is a leaf: waiters are notified after it is dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::{Errno, OpenFlags, Statx};
use vfs_core::io::{IoDest, IoSource};
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileRef, MountRef, ReadOptions, StatOptions,
    WriteOptions,
};

/// The capacity of a pipe (Linux's default, 16 pages).
pub const PIPE_CAPACITY: usize = 65536;

/// Writes up to this size are atomic (`PIPE_BUF`).
pub const PIPE_BUF: usize = 4096;

#[derive(Debug, Default)]
struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    /// Ends ever opened for reading and for writing: a named FIFO's open
    /// waits for the other side's count to move (Linux's `r_counter` and
    /// `w_counter`).
    reader_opens: u64,
    writer_opens: u64,
}

/// The buffer both ends share.
#[derive(Default)]
pub struct Pipe {
    state: Mutex<State>,
    queue: WaiterQueue,
    ino: u64,
}

impl Pipe {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        let st = self.state();
        let mut ready = EventMask::empty();
        if !st.buf.is_empty() {
            ready |= READABLE_EVENTS;
        }
        if st.writers == 0 {
            ready |= EventMask::HUP;
        }
        if st.readers == 0 {
            ready |= EventMask::ERR;
        }
        if st.buf.len() < PIPE_CAPACITY {
            ready |= WRITABLE_EVENTS;
        }
        ready & mask
    }
}

/// One end of a pipe, or both (a pipe reopened `O_RDWR` through
/// `/proc/PID/fd/N`, a named FIFO opened `O_RDWR`).
struct PipeEnd {
    pipe: Arc<Pipe>,
    read: bool,
    write: bool,
    /// Opened through a FIFO node: its metadata is the node's.
    named: bool,
    /// The other side a named FIFO's open still waits for.
    awaits: Option<Awaited>,
}

/// What [`complete_fifo_open`] waits for: the other side's open count to
/// move past the value it had.
#[derive(Clone, Copy, Debug)]
enum Awaited {
    Writer(u64),
    Reader(u64),
}

impl PipeEnd {
    /// An end of `pipe` counted among its readers and writers.
    fn new(pipe: Arc<Pipe>, read: bool, write: bool) -> PipeEnd {
        {
            let mut st = pipe.state();
            st.readers += usize::from(read);
            st.writers += usize::from(write);
            st.reader_opens += u64::from(read);
            st.writer_opens += u64::from(write);
        }
        pipe.queue
            .notify(READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP | EventMask::ERR);
        PipeEnd {
            pipe,
            read,
            write,
            named: false,
            awaits: None,
        }
    }
}

impl FileDescriptionImpl for PipeEnd {
    fn set_stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: vfs_core::SetStatOptions,
    ) -> Result<(), Errno> {
        if self.named {
            return vfs_core::file_description_util::set_stat_from_dentry(ctx, fd, opts);
        }
        let _ = (ctx, opts);
        Err(Errno::EPERM)
    }

    fn stat(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        if self.named {
            return vfs_core::file_description_util::stat_from_dentry(ctx, fd, opts);
        }
        Ok(Statx {
            stx_blksize: PIPE_BUF as u32,
            stx_mode: (abi_linux::S_IFIFO | 0o600) as u16,
            stx_ino: self.pipe.ino,
            ..vfs_core::file_description_util::anon_inode_stat(fd)
        })
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        if dst.remaining() == 0 {
            return Ok(0);
        }
        let n = {
            let mut st = self.pipe.state();
            if st.buf.is_empty() {
                return if st.writers == 0 {
                    Ok(0)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            let (a, b) = st.buf.as_slices();
            let mut chunk = Vec::with_capacity(dst.remaining().min(a.len() + b.len()));
            chunk.extend_from_slice(a);
            chunk.extend_from_slice(b);
            chunk.truncate(dst.remaining());
            let mut done = 0;
            dst.copy_from_reader(&mut |block| {
                let k = block.len().min(chunk.len() - done);
                block[..k].copy_from_slice(&chunk[done..done + k]);
                done += k;
                Ok(k)
            })?;
            st.buf.drain(..done);
            done
        };
        self.pipe.queue.notify(WRITABLE_EVENTS);
        Ok(n)
    }

    fn write(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        let want = src.remaining();
        if want == 0 {
            return Ok(0);
        }
        let n = {
            let mut st = self.pipe.state();
            if st.readers == 0 {
                return Err(Errno::EPIPE);
            }
            let room = PIPE_CAPACITY - st.buf.len();
            if room == 0 || (want <= PIPE_BUF && room < want) {
                return Err(Errno::EAGAIN);
            }
            let mut data = Vec::with_capacity(want.min(room));
            src.copy_to_writer(&mut |block| {
                let k = block.len().min(room - data.len());
                data.extend_from_slice(&block[..k]);
                Ok(k)
            })?;
            st.buf.extend(data.iter());
            data.len()
        };
        self.pipe.queue.notify(READABLE_EVENTS);
        Ok(n)
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        let mut ends = EventMask::empty();
        if self.write {
            ends |= WRITABLE_EVENTS | EventMask::ERR;
        }
        if self.read {
            ends |= READABLE_EVENTS | EventMask::HUP;
        }
        self.pipe.readiness(mask & ends)
    }

    fn reopen(
        &self,
        ctx: &dyn Context,
        fd: &FileDescription,
        flags: OpenFlags,
    ) -> Option<Result<FileRef, Errno>> {
        let (read, write) = match flags.access_mode() {
            abi_linux::AccessMode::ReadOnly => (true, false),
            abi_linux::AccessMode::WriteOnly => (false, true),
            _ => (true, true),
        };
        // Linux's `fifo_open` for an anonymous pipe: no waiting for the
        // other end and no `ENXIO` for a writer without readers (those
        // are for named FIFOs).
        let vd = fd.virtual_dentry();
        let file = FileDescription::new(
            flags & (OpenFlags::ACCMODE | OpenFlags::NONBLOCK),
            &vd.mount,
            &vd.dentry,
            fd.options(),
            Box::new(PipeEnd::new(self.pipe.clone(), read, write)),
        );
        vd.release(ctx);
        Some(Ok(file))
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(&self.pipe.queue)
    }

    fn release(&self, _: &dyn Context) {
        {
            let mut st = self.pipe.state();
            st.writers -= usize::from(self.write);
            st.readers -= usize::from(self.read);
        }
        self.pipe
            .queue
            .notify(READABLE_EVENTS | WRITABLE_EVENTS | EventMask::HUP | EventMask::ERR);
    }

    fn synthetic_name(&self) -> Option<String> {
        Some(format!("pipe:[{}]", self.pipe.ino))
    }
}

/// Opens named FIFOs of kernfs filesystems for the VFS
/// ([`VirtualFilesystem::set_fifo_provider`]): one pipe per FIFO inode
/// while any end of it is open, with Linux's `fifo_open` rules: a reader
/// waits for a writer and a writer for a reader unless `O_NONBLOCK` (then
/// a writer without readers is `ENXIO`); `O_RDWR` never waits. The wait
/// itself is [`complete_fifo_open`]'s.
///
/// [`VirtualFilesystem::set_fifo_provider`]: vfs_core::VirtualFilesystem::set_fifo_provider
#[derive(Default)]
pub struct FifoProvider {
    /// By the FIFO's filesystem and inode.
    pipes: Mutex<std::collections::HashMap<(u64, u64), std::sync::Weak<Pipe>>>,
}

impl FifoProvider {
    /// The pipe of the FIFO `key`, made when no end of it is open.
    fn pipe(&self, key: (u64, u64)) -> Arc<Pipe> {
        let mut pipes = self.pipes.lock().unwrap_or_else(|e| e.into_inner());
        pipes.retain(|_, p| p.strong_count() > 0);
        if let Some(pipe) = pipes.get(&key).and_then(std::sync::Weak::upgrade) {
            return pipe;
        }
        let pipe = Arc::new(Pipe {
            state: Mutex::new(State::default()),
            queue: WaiterQueue::new(),
            ino: key.1,
        });
        pipes.insert(key, Arc::downgrade(&pipe));
        pipe
    }
}

impl vfs_core::device::Device for FifoProvider {
    /// Opens an end of the FIFO's pipe. Runs under the filesystem's locks,
    /// so it never waits: a reader or writer that must wait for the other
    /// side does so in [`complete_fifo_open`], which the open system call
    /// runs once the locks are gone.
    fn open(
        &self,
        _ctx: &dyn Context,
        mount: &MountRef,
        dentry: &vfs_core::DentryRef,
        opts: vfs_core::OpenOptions,
    ) -> Result<FileRef, Errno> {
        // One pipe per FIFO inode, whichever name reaches it.
        let inode = kernfs::Dentry::from_vfs(&**dentry)
            .ok_or(Errno::ENXIO)?
            .inode();
        let key = (
            mount.filesystem().dev(),
            Arc::as_ptr(inode).cast::<()>() as usize as u64,
        );
        let flags = opts.flags;
        let (read, write) = match flags.access_mode() {
            abi_linux::AccessMode::ReadOnly => (true, false),
            abi_linux::AccessMode::WriteOnly => (false, true),
            _ => (true, true),
        };
        let nonblock = flags.contains(OpenFlags::NONBLOCK);
        let pipe = self.pipe(key);
        if write && !read && nonblock && pipe.state().readers == 0 {
            return Err(Errno::ENXIO);
        }
        let before = {
            let st = pipe.state();
            (st.reader_opens, st.writer_opens)
        };
        let mut end = PipeEnd::new(pipe.clone(), read, write);
        end.named = true;
        // O_RDWR never waits; a reader waits for a writer unless
        // O_NONBLOCK; a writer (blocking, or it failed above) for a reader.
        end.awaits = if read && write {
            None
        } else if read && !nonblock && pipe.state().writers == 0 {
            Some(Awaited::Writer(before.1))
        } else if write && pipe.state().readers == 0 {
            Some(Awaited::Reader(before.0))
        } else {
            None
        };
        Ok(FileDescription::new(
            flags & (OpenFlags::ACCMODE | OpenFlags::NONBLOCK),
            mount,
            dentry,
            vfs_core::FileDescriptionOptions {
                allow_direct_io: false,
                deny_pread: true,
                deny_pwrite: true,
            },
            Box::new(end),
        ))
    }
}

/// Finishes opening a named FIFO (Linux's `fifo_open` wait): a reader
/// waits until a writer has opened the FIFO since, a writer until a reader
/// has. `ERESTARTSYS` when a signal interrupts; the caller then releases
/// the file. Other files need nothing.
pub fn complete_fifo_open(file: &FileDescription) -> Result<(), Errno> {
    let Some(end) = file.downcast::<PipeEnd>() else {
        return Ok(());
    };
    let Some(awaited) = end.awaits else {
        return Ok(());
    };
    let pipe = &end.pipe;
    let arrived = || {
        let st = pipe.state();
        match awaited {
            Awaited::Writer(before) => st.writer_opens != before,
            Awaited::Reader(before) => st.reader_opens != before,
        }
    };
    let waker = crate::wait::TaskWaker::new();
    let id = pipe
        .queue
        .register(waker.clone(), READABLE_EVENTS | WRITABLE_EVENTS);
    let result = loop {
        if arrived() {
            break Ok(());
        }
        if crate::wait::interrupted() {
            break Err(Errno::ERESTARTSYS);
        }
        waker.wait(None);
    };
    pipe.queue.unregister(id);
    result
}

/// Whether `file` is an end of a pipe.
pub fn is_pipe(file: &FileDescription) -> bool {
    file.downcast::<PipeEnd>().is_some()
}

/// The bytes a write to pipe end `file` can take now without blocking
/// (`None` for another file; `EPIPE` when the pipe has no readers).
pub fn room(file: &FileDescription) -> Option<Result<usize, Errno>> {
    let end = file.downcast::<PipeEnd>()?;
    let st = end.pipe.state();
    Some(if st.readers == 0 {
        Err(Errno::EPIPE)
    } else {
        Ok(PIPE_CAPACITY - st.buf.len())
    })
}

/// `tee(2)`: copies up to `len` bytes from the front of the pipe `from`
/// reads into the pipe `to` writes, leaving them in `from`.
///
/// Errors: `EINVAL` unless `from` is a pipe's read side and `to` another
/// pipe's write side; `EPIPE` when `to` has no readers; `EAGAIN` when
/// `from` is empty while it has writers, or `to` is full (the caller
/// waits). Returns 0 when `from` is empty and has no writers.
pub fn tee(from: &FileDescription, to: &FileDescription, len: usize) -> Result<usize, Errno> {
    let (Some(src), Some(dst)) = (from.downcast::<PipeEnd>(), to.downcast::<PipeEnd>()) else {
        return Err(Errno::EINVAL);
    };
    if !src.read || !dst.write || Arc::ptr_eq(&src.pipe, &dst.pipe) {
        return Err(Errno::EINVAL);
    }
    let data: Vec<u8> = {
        let st = src.pipe.state();
        if st.buf.is_empty() {
            return if st.writers == 0 {
                Ok(0)
            } else {
                Err(Errno::EAGAIN)
            };
        }
        st.buf
            .iter()
            .take(len.min(PIPE_CAPACITY))
            .copied()
            .collect()
    };
    let n = {
        let mut st = dst.pipe.state();
        if st.readers == 0 {
            return Err(Errno::EPIPE);
        }
        let n = data.len().min(PIPE_CAPACITY - st.buf.len());
        if n == 0 {
            return Err(Errno::EAGAIN);
        }
        st.buf.extend(&data[..n]);
        n
    };
    dst.pipe.queue.notify(READABLE_EVENTS);
    Ok(n)
}

/// Creates a pipe on `mount` (the kernel's anonymous mount) and returns
/// its read and write ends; `flags` may hold `O_NONBLOCK` (and
/// `O_CLOEXEC`, which is the caller's business).
pub fn new_pipe(mount: &MountRef, ino: u64, flags: OpenFlags) -> (FileRef, FileRef) {
    let pipe = Arc::new(Pipe {
        state: Mutex::new(State::default()),
        queue: WaiterQueue::new(),
        ino,
    });
    let nonblock = flags & OpenFlags::NONBLOCK;
    let end = |write: bool, access: OpenFlags| {
        vfs_core::file_description_util::new_anon_file(
            access | nonblock,
            mount,
            Box::new(PipeEnd::new(pipe.clone(), !write, write)),
        )
    };
    let read = end(false, OpenFlags::empty());
    let write = end(true, OpenFlags::WRONLY);
    (read, write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs_core::io::{SliceDest, SliceSource};
    use vfs_core::{MountOptions, SimpleContext, VirtualFilesystem};

    fn anon() -> (Arc<VirtualFilesystem>, MountRef, SimpleContext) {
        let ctx = SimpleContext::root();
        let vfs = VirtualFilesystem::new();
        vfs.register_filesystem_type(Arc::new(kernfs::memfs::MemfsType))
            .unwrap();
        let mount = vfs
            .mount_detached(&ctx, b"anon", "tmpfs", &MountOptions::default())
            .unwrap();
        (vfs, mount, ctx)
    }

    #[test]
    fn bytes_written_are_read_back_then_eof_after_the_writer_closes() {
        let (_vfs, mount, ctx) = anon();
        let (r, w) = new_pipe(&mount, 1, OpenFlags::empty());
        let n = w
            .write(
                &ctx,
                &mut SliceSource::new(b"hello"),
                WriteOptions::default(),
            )
            .unwrap();
        assert_eq!(n, 5);
        let mut buf = [0u8; 16];
        let got = r
            .read(&ctx, &mut SliceDest::new(&mut buf), ReadOptions::default())
            .unwrap();
        assert_eq!(&buf[..got], b"hello");
        let empty = r.read(&ctx, &mut SliceDest::new(&mut buf), ReadOptions::default());
        assert_eq!(empty, Err(Errno::EAGAIN));
        w.release(&ctx);
        let eof = r.read(&ctx, &mut SliceDest::new(&mut buf), ReadOptions::default());
        assert_eq!(eof, Ok(0));
        assert!(r.readiness(EventMask::HUP).contains(EventMask::HUP));
        r.release(&ctx);
        mount.release(&ctx);
    }

    #[test]
    fn write_without_reader_is_epipe_and_full_pipe_is_eagain() {
        let (_vfs, mount, ctx) = anon();
        let (r, w) = new_pipe(&mount, 2, OpenFlags::NONBLOCK);
        let big = vec![7u8; PIPE_CAPACITY + 10];
        let n = w
            .write(&ctx, &mut SliceSource::new(&big), WriteOptions::default())
            .unwrap();
        assert_eq!(n, PIPE_CAPACITY);
        assert!(!w.readiness(WRITABLE_EVENTS).intersects(WRITABLE_EVENTS));
        let more = w.write(&ctx, &mut SliceSource::new(b"x"), WriteOptions::default());
        assert_eq!(more, Err(Errno::EAGAIN));
        r.release(&ctx);
        let broken = w.write(&ctx, &mut SliceSource::new(b"x"), WriteOptions::default());
        assert_eq!(broken, Err(Errno::EPIPE));
        w.release(&ctx);
        mount.release(&ctx);
    }
}
