//! Temporary standard I/O: file descriptions that forward to the sentry's
//! own descriptors 0, 1 and 2.
//!
//! This stands in for `hostfs`'s import of host descriptors (being written
//! in parallel) and will be replaced by it. It blocks the task's thread in
//! the host `read`/`write`, offers `TCGETS`/`TIOCGWINSZ` when the host
//! descriptor is a terminal, and reports a `stat` built from the host's
//! (file type, mode, size, times) with the device number of the sentry's
//! anonymous mount instead of the host's.

use abi_linux::{Errno, Statx, StatxMask, StatxTimestamp, Whence};
use vfs_core::file_description::IoctlMemory;
use vfs_core::io::{IoDest, IoSource};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileDescriptionOptions, FileRef, MountRef,
    ReadOptions, StatOptions, WriteOptions,
};

/// `TCGETS`.
const TCGETS: u32 = 0x5401;
/// `TIOCGWINSZ`.
const TIOCGWINSZ: u32 = 0x5413;
/// The size of the kernel's `struct termios` that `TCGETS` copies.
const TERMIOS_SIZE: usize = 36;
/// The size of `struct winsize`.
const WINSIZE_SIZE: usize = 8;

fn last_errno() -> Errno {
    let raw = std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO);
    Errno::from_raw(raw).unwrap_or(Errno::EIO)
}

/// A description forwarding to host descriptor `fd`.
#[derive(Debug)]
struct HostStdio {
    fd: i32,
}

impl HostStdio {
    fn read_into(&self, dst: &mut dyn IoDest) -> Result<usize, Errno> {
        dst.copy_from_reader(&mut |block| loop {
            // SAFETY: `block` is a writable buffer of `block.len()` bytes;
            // the descriptor is one of the sentry's standard descriptors,
            // open for the life of the process.
            let n = unsafe { libc::read(self.fd, block.as_mut_ptr().cast(), block.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = last_errno();
            if e != Errno::EINTR {
                return Err(e);
            }
        })
    }

    fn write_from(&self, src: &mut dyn IoSource) -> Result<usize, Errno> {
        src.copy_to_writer(&mut |block| {
            let mut done = 0;
            while done < block.len() {
                let rest = &block[done..];
                // SAFETY: `rest` is a readable buffer of `rest.len()` bytes;
                // the descriptor is open for the life of the process.
                let n = unsafe { libc::write(self.fd, rest.as_ptr().cast(), rest.len()) };
                if n < 0 {
                    let e = last_errno();
                    if e == Errno::EINTR {
                        continue;
                    }
                    return if done > 0 { Ok(done) } else { Err(e) };
                }
                done += n as usize;
            }
            Ok(done)
        })
    }
}

impl FileDescriptionImpl for HostStdio {
    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `st` is writable memory of the size `fstat` fills.
        if unsafe { libc::fstat(self.fd, st.as_mut_ptr()) } != 0 {
            return Err(last_errno());
        }
        // SAFETY: `fstat` succeeded and initialised `st`.
        let st = unsafe { st.assume_init() };
        let ts = |sec: i64, nsec: i64| StatxTimestamp {
            tv_sec: sec,
            tv_nsec: nsec as u32,
            _reserved: 0,
        };
        let dev = fd.mount().filesystem().dev();
        Ok(Statx {
            stx_mask: (StatxMask::BASIC_STATS).bits(),
            stx_blksize: 4096,
            stx_nlink: st.st_nlink as u32,
            stx_uid: st.st_uid,
            stx_gid: st.st_gid,
            stx_mode: st.st_mode as u16,
            stx_ino: st.st_ino,
            stx_size: st.st_size as u64,
            stx_blocks: st.st_blocks as u64,
            stx_atime: ts(st.st_atime, st.st_atime_nsec),
            stx_mtime: ts(st.st_mtime, st.st_mtime_nsec),
            stx_ctime: ts(st.st_ctime, st.st_ctime_nsec),
            stx_rdev_major: libc::major(st.st_rdev),
            stx_rdev_minor: libc::minor(st.st_rdev),
            stx_dev_major: abi_linux::dev_major(dev),
            stx_dev_minor: abi_linux::dev_minor(dev),
            ..Statx::default()
        })
    }

    fn read(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        self.read_into(dst)
    }

    fn write(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        self.write_from(src)
    }

    fn seek(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        off: i64,
        whence: Whence,
    ) -> Result<i64, Errno> {
        // SAFETY: `lseek` takes no pointers.
        let r = unsafe { libc::lseek(self.fd, off, whence as i32) };
        if r < 0 { Err(last_errno()) } else { Ok(r) }
    }

    fn ioctl(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        let size = match cmd {
            TCGETS => TERMIOS_SIZE,
            TIOCGWINSZ => WINSIZE_SIZE,
            _ => return Err(Errno::ENOTTY),
        };
        let mut buf = [0u8; 64];
        // SAFETY: both requests write at most `size` bytes (at most 60 for
        // the largest termios variant), and `buf` holds 64.
        if unsafe { libc::ioctl(self.fd, cmd as libc::Ioctl, buf.as_mut_ptr()) } != 0 {
            return Err(last_errno());
        }
        memory.copy_out(arg, &buf[..size])?;
        Ok(0)
    }
}

/// Creates the description for host descriptor `fd` (0, 1 or 2) on the
/// sentry's anonymous mount `mount`.
pub fn host_stdio(fd: i32, mount: &MountRef) -> FileRef {
    let flags = match fd {
        0 => abi_linux::OpenFlags::empty(),
        _ => abi_linux::OpenFlags::WRONLY,
    };
    let root = mount.root_ref();
    let file = FileDescription::new(
        flags,
        mount,
        &root,
        FileDescriptionOptions {
            allow_direct_io: false,
            deny_pread: true,
            deny_pwrite: true,
        },
        Box::new(HostStdio { fd }),
    );
    drop(root);
    file
}
