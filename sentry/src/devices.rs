//! The character devices of `/dev` (Linux's `drivers/char/mem.c`, gVisor's
//! `fsimpl/dev` and `devices/memdev`): `null`, `zero`, `full`, `random`
//! and `urandom`, registered with the VFS under their Linux numbers so the
//! device nodes of any filesystem open them.

use std::sync::Arc;

use abi_linux::{Errno, Statx, Whence};
use vfs_core::io::{IoDest, IoSource};
use vfs_core::{
    Context, DentryRef, Device, DeviceKind, FileDescription, FileDescriptionImpl,
    FileDescriptionOptions, FileRef, MountRef, OpenOptions, ReadOptions, StatOptions,
    VirtualFilesystem, WriteOptions,
};

/// The memory devices, by minor number under major 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemDevice {
    /// `/dev/null` (1:3): reads end at once, writes vanish.
    Null,
    /// `/dev/zero` (1:5): reads give zeros, writes vanish.
    Zero,
    /// `/dev/full` (1:7): reads give zeros, writes fail with `ENOSPC`.
    Full,
    /// `/dev/random` (1:8): random bytes.
    Random,
    /// `/dev/urandom` (1:9): random bytes.
    Urandom,
}

impl MemDevice {
    /// Every memory device with its name and minor number.
    pub const ALL: [(MemDevice, &'static str, u32); 5] = [
        (MemDevice::Null, "null", 3),
        (MemDevice::Zero, "zero", 5),
        (MemDevice::Full, "full", 7),
        (MemDevice::Random, "random", 8),
        (MemDevice::Urandom, "urandom", 9),
    ];

    /// The major number of the memory devices.
    pub const MAJOR: u32 = 1;
}

/// Fills `buf` with random bytes from the host.
pub fn fill_random(buf: &mut [u8]) -> Result<(), Errno> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: `rest` is a valid writable buffer of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
            if e == libc::EINTR {
                continue;
            }
            return Err(Errno::from_raw(e).unwrap_or(Errno::EIO));
        }
        done += n as usize;
    }
    Ok(())
}

/// A registered memory device: opens descriptions that report `stat` as
/// the node had when the sentry created it.
struct MemDeviceDriver {
    kind: MemDevice,
    stat: Statx,
}

impl Device for MemDeviceDriver {
    fn open(
        &self,
        _ctx: &dyn Context,
        mount: &MountRef,
        dentry: &DentryRef,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        Ok(FileDescription::new(
            opts.flags,
            mount,
            dentry,
            FileDescriptionOptions::default(),
            Box::new(MemDeviceFile {
                kind: self.kind,
                stat: self.stat,
            }),
        ))
    }
}

/// An open memory device.
struct MemDeviceFile {
    kind: MemDevice,
    stat: Statx,
}

impl MemDeviceFile {
    fn read_into(&self, dst: &mut dyn IoDest) -> Result<usize, Errno> {
        match self.kind {
            MemDevice::Null => Ok(0),
            MemDevice::Zero | MemDevice::Full => dst.copy_from_reader(&mut |block| {
                block.fill(0);
                Ok(block.len())
            }),
            MemDevice::Random | MemDevice::Urandom => dst.copy_from_reader(&mut |block| {
                fill_random(block)?;
                Ok(block.len())
            }),
        }
    }

    fn write_from(&self, src: &mut dyn IoSource) -> Result<usize, Errno> {
        match self.kind {
            MemDevice::Full => Err(Errno::ENOSPC),
            _ => {
                let n = src.remaining();
                src.copy_to_writer(&mut |block| Ok(block.len()))?;
                Ok(n)
            }
        }
    }
}

impl FileDescriptionImpl for MemDeviceFile {
    fn stat(&self, _: &dyn Context, _: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(self.stat)
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

    fn pread(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        dst: &mut dyn IoDest,
        _: u64,
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

    fn pwrite(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        _: u64,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        self.write_from(src)
    }

    fn seek(&self, _: &dyn Context, _: &FileDescription, _: i64, _: Whence) -> Result<i64, Errno> {
        // Linux's memory devices accept any seek and stay at offset 0.
        Ok(0)
    }
}

/// Registers `kind` with `vfs`, reporting `stat` for its descriptions.
pub fn register(
    vfs: &VirtualFilesystem,
    kind: MemDevice,
    minor: u32,
    stat: Statx,
) -> Result<(), Errno> {
    vfs.register_device(
        DeviceKind::Char,
        MemDevice::MAJOR,
        minor,
        Arc::new(MemDeviceDriver { kind, stat }),
    )
}

/// `/dev/tty` (5:0): the sandbox's controlling terminal, which is the host
/// terminal its standard I/O was imported from. Opening it without one is
/// `ENXIO`, Linux's answer for a process with no controlling terminal.
///
/// The open returns the imported terminal's description itself rather than
/// a new one (Linux makes a new description of the same terminal): status
/// flags are shared with the standard descriptors.
#[derive(Default)]
pub struct ControllingTty(std::sync::Mutex<Option<FileRef>>);

impl ControllingTty {
    /// Records `file` as the terminal, if none is recorded yet.
    pub fn set_if_unset(&self, file: &FileRef) {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(file.clone());
        }
    }

    /// Forgets the terminal, giving back its reference with `ctx`.
    pub fn clear(&self, ctx: &dyn Context) {
        let taken = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(file) = taken {
            file.release(ctx);
        }
    }
}

/// The `/dev/tty` major and minor numbers.
pub const TTY_DEVICE: (u32, u32) = (5, 0);

struct TtyDriver(Arc<ControllingTty>, Arc<crate::pty::Ptys>);

impl Device for TtyDriver {
    fn open(
        &self,
        ctx: &dyn Context,
        mount: &MountRef,
        dentry: &DentryRef,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        // The caller's session's pseudo-terminal, else the host terminal.
        if let Some(opened) = crate::pty::open_controlling(&self.1, ctx, mount, dentry, opts.flags)
        {
            return opened;
        }
        let slot = self
            .0
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.clone().ok_or(Errno::ENXIO)
    }
}

/// Registers `/dev/tty`'s driver with `vfs`: it opens the caller's
/// session's pseudo-terminal among `ptys`, else `tty`.
pub fn register_tty(
    vfs: &VirtualFilesystem,
    tty: &Arc<ControllingTty>,
    ptys: &Arc<crate::pty::Ptys>,
) -> Result<(), Errno> {
    vfs.register_device(
        DeviceKind::Char,
        TTY_DEVICE.0,
        TTY_DEVICE.1,
        Arc::new(TtyDriver(Arc::clone(tty), Arc::clone(ptys))),
    )
}
