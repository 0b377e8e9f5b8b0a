//! Shared helpers: a VFS with a hostfs mount, imports, temporary files,
//! ioctl memory, and the leak-checked teardown.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use abi_linux::Errno;
use hostfs::{HostFilesystem, ImportOptions, import_fd};
use vfs_core::file_description::IoctlMemory;
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::{FileRef, MountRef, ReadOptions, SimpleContext, VirtualFilesystem, WriteOptions};

pub struct Env {
    pub ctx: SimpleContext,
    pub vfs: Arc<VirtualFilesystem>,
    pub mount: Option<MountRef>,
    scope: Option<refs::LeakCheckScope>,
}

impl Env {
    pub fn new() -> Env {
        let scope = refs::LeakCheckScope::new();
        let ctx = SimpleContext::root();
        let vfs = VirtualFilesystem::new();
        let mount = HostFilesystem::new_mount(&vfs).unwrap();
        Env {
            ctx,
            vfs,
            mount: Some(mount),
            scope: Some(scope),
        }
    }

    pub fn mount(&self) -> &MountRef {
        self.mount.as_ref().unwrap()
    }

    pub fn import(&self, fd: OwnedFd, opts: &ImportOptions) -> Result<FileRef, Errno> {
        import_fd(&self.ctx, self.mount(), fd, opts)
    }

    pub fn import_default(&self, fd: OwnedFd) -> FileRef {
        self.import(fd, &ImportOptions::default()).unwrap()
    }

    pub fn read(&self, file: &FileRef, len: usize) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0u8; len];
        let n = file.read(
            &self.ctx,
            &mut SliceDest::new(&mut buf),
            ReadOptions::default(),
        )?;
        buf.truncate(n);
        Ok(buf)
    }

    pub fn pread(&self, file: &FileRef, len: usize, offset: i64) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0u8; len];
        let n = file.pread(
            &self.ctx,
            &mut SliceDest::new(&mut buf),
            offset,
            ReadOptions::default(),
        )?;
        buf.truncate(n);
        Ok(buf)
    }

    pub fn write(&self, file: &FileRef, data: &[u8]) -> Result<usize, Errno> {
        file.write(
            &self.ctx,
            &mut SliceSource::new(data),
            WriteOptions::default(),
        )
    }

    pub fn pwrite(&self, file: &FileRef, data: &[u8], offset: i64) -> Result<usize, Errno> {
        file.pwrite(
            &self.ctx,
            &mut SliceSource::new(data),
            offset,
            WriteOptions::default(),
        )
    }

    /// Releases the mount and checks that nothing leaked.
    pub fn finish(mut self) {
        self.mount.take().unwrap().release(&self.ctx);
        self.scope.take().unwrap().assert_clean();
    }
}

/// The errno of a failed host call.
pub fn errno(e: nix::errno::Errno) -> Errno {
    Errno::from_raw(e as i32).unwrap()
}

/// A fresh path in a per-process temporary directory.
pub fn temp_path(name: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!("hostfs-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}-{name}", NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// Opens `path` with `flags`, creating it.
pub fn open_file(path: &PathBuf, flags: nix::fcntl::OFlag) -> OwnedFd {
    nix::fcntl::open(
        path,
        flags | nix::fcntl::OFlag::O_CREAT | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap()
}

/// Whether host descriptor number `fd` is open in this process.
pub fn is_open(fd: i32) -> bool {
    // SAFETY: `F_GETFD` only inspects the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// The raw number of an owned descriptor.
pub fn raw(fd: &OwnedFd) -> i32 {
    fd.as_raw_fd()
}

/// ioctl argument memory: addresses are offsets into a byte buffer.
pub struct Memory(pub Vec<u8>);

impl IoctlMemory for Memory {
    fn copy_in(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let start = usize::try_from(addr).map_err(|_| Errno::EFAULT)?;
        let src = self.0.get(start..start + buf.len()).ok_or(Errno::EFAULT)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn copy_out(&mut self, addr: u64, buf: &[u8]) -> Result<(), Errno> {
        let start = usize::try_from(addr).map_err(|_| Errno::EFAULT)?;
        let dst = self
            .0
            .get_mut(start..start + buf.len())
            .ok_or(Errno::EFAULT)?;
        dst.copy_from_slice(buf);
        Ok(())
    }
}
