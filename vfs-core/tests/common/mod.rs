//! Shared setup for vfs-core's integration tests: a VFS with `testfs`
//! registered and mounted as the root of a mount namespace, inside a
//! `refs::LeakCheckScope`, and small helpers for the common calls.
//!
//! Every test builds an [`Env`] first and ends with [`Env::finish`], which
//! tears the namespace down and fails the test if any counted object
//! (filesystem, mount, file description, testfs dentry) is still alive.

pub mod testfs;

use std::sync::Arc;

use abi_linux::{Errno, OpenFlags, Statx};
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::{
    Context, Credentials, FileRef, MkdirOptions, MountNamespace, MountOptions, MountRef,
    OpenOptions, PathOperation, ReadOptions, SimpleContext, StatOptions, VirtualDentry,
    VirtualFilesystem, WriteOptions,
};

/// A VFS whose namespace root is a fresh testfs (root directory mode 0755,
/// owned by root), under a leak-check scope.
pub struct Env {
    /// The VFS.
    pub vfs: Arc<VirtualFilesystem>,
    /// The mount namespace.
    pub ns: Arc<MountNamespace>,
    /// The namespace root, used as root and cwd by [`Env::pop`].
    pub root: VirtualDentry,
    /// A root context with every capability.
    pub ctx: SimpleContext,
    scope: refs::LeakCheckScope,
}

impl Env {
    /// Takes the leak-check scope, then builds the VFS and namespace.
    #[expect(
        clippy::new_without_default,
        reason = "taking the process-wide leak-check lock is not a default value"
    )]
    pub fn new() -> Self {
        let scope = refs::LeakCheckScope::new();
        let vfs = VirtualFilesystem::new();
        let ctx = SimpleContext::root();
        vfs.register_filesystem_type(Arc::new(testfs::TestFsType))
            .expect("testfs registers");
        let ns = vfs
            .new_mount_namespace(&ctx, b"", "testfs", &MountOptions::default())
            .expect("root testfs mounts");
        let root = ns.root();
        Self {
            vfs,
            ns,
            root,
            ctx,
            scope,
        }
    }

    /// Releases everything the environment holds and checks that nothing
    /// counted is left alive.
    pub fn finish(self) {
        let Self {
            vfs,
            ns,
            root,
            ctx,
            scope,
        } = self;
        root.release(&ctx);
        vfs.release_mount_namespace(&ns);
        drop(ns);
        drop(vfs);
        scope.assert_clean();
    }

    /// An operation on `path` relative to the namespace root.
    pub fn pop<'a>(&'a self, path: &'a [u8]) -> PathOperation<'a> {
        PathOperation::new(&self.root, &self.root, path)
    }

    /// `mkdir(path, mode)` as root.
    pub fn mkdir(&self, path: &[u8], mode: u32) -> Result<(), Errno> {
        self.vfs.mkdir_at(
            &self.ctx,
            &self.pop(path),
            MkdirOptions {
                mode,
                ..MkdirOptions::default()
            },
        )
    }

    /// `open(path, flags, mode)` as `ctx`.
    pub fn open_as(
        &self,
        ctx: &dyn Context,
        path: &[u8],
        flags: OpenFlags,
        mode: u32,
    ) -> Result<FileRef, Errno> {
        self.vfs.open_at(
            ctx,
            &self.pop(path),
            OpenOptions {
                flags,
                mode,
                file_exec: false,
            },
        )
    }

    /// `open(path, flags)` as root.
    pub fn open(&self, path: &[u8], flags: OpenFlags) -> Result<FileRef, Errno> {
        self.open_as(&self.ctx, path, flags, 0o644)
    }

    /// Creates (or truncates) a regular file holding `data`, as root.
    pub fn write_file(&self, path: &[u8], data: &[u8]) -> Result<(), Errno> {
        let file = self.open(
            path,
            OpenFlags::CREAT | OpenFlags::WRONLY | OpenFlags::TRUNC,
        )?;
        let result = file.write(
            &self.ctx,
            &mut SliceSource::new(data),
            WriteOptions::default(),
        );
        file.release(&self.ctx);
        result.map(drop)
    }

    /// Reads a whole file (up to 64 KiB), as root.
    pub fn read_file(&self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let file = self.open(path, O_RDONLY)?;
        let data = read_all(&self.ctx, &file);
        file.release(&self.ctx);
        data
    }

    /// `symlink(target, path)` as root.
    pub fn symlink(&self, target: &[u8], path: &[u8]) -> Result<(), Errno> {
        self.vfs.symlink_at(&self.ctx, &self.pop(path), target)
    }

    /// `stat(path)` as root.
    pub fn stat(&self, path: &[u8]) -> Result<Statx, Errno> {
        self.vfs
            .stat_at(&self.ctx, &self.pop(path), StatOptions::default())
    }

    /// `lstat(path)` as root.
    pub fn lstat(&self, path: &[u8]) -> Result<Statx, Errno> {
        self.vfs.stat_at(
            &self.ctx,
            &self.pop(path).follow_final(false),
            StatOptions::default(),
        )
    }

    /// The location `path` resolves to, as root.
    pub fn vd(&self, path: &[u8]) -> Result<VirtualDentry, Errno> {
        self.vfs.get_dentry_at(
            &self.ctx,
            &self.pop(path),
            vfs_core::GetDentryOptions::default(),
        )
    }

    /// Mounts a new testfs on `path` with `opts`.
    pub fn mount_testfs_with(&self, path: &[u8], opts: &MountOptions) -> Result<MountRef, Errno> {
        self.vfs
            .mount(&self.ctx, b"testfs", &self.pop(path), "testfs", opts)
    }

    /// Mounts a new testfs on `path`.
    pub fn mount_testfs(&self, path: &[u8]) -> Result<MountRef, Errno> {
        self.mount_testfs_with(path, &MountOptions::default())
    }

    /// `umount2(path, flags)` as root.
    pub fn umount(&self, path: &[u8], flags: abi_linux::UmountFlags) -> Result<(), Errno> {
        self.vfs.umount(&self.ctx, &self.pop(path), flags)
    }
}

/// `O_RDONLY`, which is no bit of its own.
pub const O_RDONLY: OpenFlags = OpenFlags::empty();

/// A context for the unprivileged user `uid`:`gid`.
pub fn user(uid: u32, gid: u32) -> SimpleContext {
    SimpleContext::new(Credentials::user(uid, gid))
}

/// Reads from the file offset to the end (up to 64 KiB).
pub fn read_all(ctx: &dyn Context, file: &FileRef) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0; 65536];
    let mut len = 0;
    loop {
        let mut dest = SliceDest::new(&mut buf[len..]);
        let n = file.read(ctx, &mut dest, ReadOptions::default())?;
        if n == 0 {
            break;
        }
        len += n;
    }
    buf.truncate(len);
    Ok(buf)
}

/// The errno of a call that must fail.
#[track_caller]
pub fn errno<T>(result: Result<T, Errno>) -> Errno {
    match result {
        Ok(_) => panic!("expected an error, the call succeeded"),
        Err(errno) => errno,
    }
}

/// The file type bits of a statx mode.
pub fn file_type(stat: &Statx) -> u32 {
    u32::from(stat.stx_mode) & abi_linux::S_IFMT
}
