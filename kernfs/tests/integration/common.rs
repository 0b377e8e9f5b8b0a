//! Shared test helpers: a VFS with a memfs mounted as the namespace root,
//! path helpers, and the leak-checked teardown.

use std::sync::Arc;

use abi_linux::{Errno, OpenFlags, Statx, StatxMask};
use kernfs::memfs::MemfsType;
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::{
    Context, DirentVec, FileRef, MkdirOptions, MountNamespace, MountOptions, OpenOptions,
    PathOperation, ReadOptions, SetStatOptions, SimpleContext, StatOptions, VirtualDentry,
    VirtualFilesystem, WriteOptions,
};

pub struct Env {
    pub vfs: Arc<VirtualFilesystem>,
    pub ns: Arc<MountNamespace>,
    pub root: VirtualDentry,
    pub ctx: SimpleContext,
    scope: Option<refs::LeakCheckScope>,
}

impl Env {
    /// A memfs mounted with `data` as the root of a new namespace.
    pub fn memfs(data: &str) -> Env {
        let scope = refs::LeakCheckScope::new();
        let ctx = SimpleContext::root();
        let vfs = VirtualFilesystem::new();
        vfs.register_filesystem_type(Arc::new(MemfsType)).unwrap();
        let mut opts = MountOptions::default();
        opts.get_filesystem.data = data.to_string();
        let ns = vfs.new_mount_namespace(&ctx, b"", "tmpfs", &opts).unwrap();
        let root = ns.root();
        Env {
            vfs,
            ns,
            root,
            ctx,
            scope: Some(scope),
        }
    }

    /// An environment over an existing namespace.
    pub fn from_parts(
        vfs: Arc<VirtualFilesystem>,
        ns: Arc<MountNamespace>,
        ctx: SimpleContext,
        scope: refs::LeakCheckScope,
    ) -> Env {
        let root = ns.root();
        Env {
            vfs,
            ns,
            root,
            ctx,
            scope: Some(scope),
        }
    }

    /// Another view of `ns` (a namespace this test also owns), without a
    /// leak check of its own: take it apart with [`Env::forget`].
    pub fn view(
        vfs: &Arc<VirtualFilesystem>,
        ns: &Arc<MountNamespace>,
        ctx: &SimpleContext,
    ) -> Env {
        Env {
            vfs: Arc::clone(vfs),
            ns: Arc::clone(ns),
            root: ns.root(),
            ctx: ctx.clone(),
            scope: None,
        }
    }

    /// Gives back what [`Env::view`] took.
    pub fn forget(self) {
        let Env { root, ctx, .. } = self;
        root.release(&ctx);
    }

    pub fn pop<'a>(&'a self, path: &'a [u8]) -> PathOperation<'a> {
        PathOperation::new(&self.root, &self.root, path)
    }

    pub fn mkdir(&self, ctx: &dyn Context, path: &str, mode: u32) -> Result<(), Errno> {
        self.vfs.mkdir_at(
            ctx,
            &self.pop(path.as_bytes()),
            MkdirOptions {
                mode,
                ..Default::default()
            },
        )
    }

    pub fn open(
        &self,
        ctx: &dyn Context,
        path: &str,
        flags: OpenFlags,
        mode: u32,
    ) -> Result<FileRef, Errno> {
        self.vfs.open_at(
            ctx,
            &self.pop(path.as_bytes()),
            OpenOptions {
                flags,
                mode,
                ..Default::default()
            },
        )
    }

    pub fn create(&self, ctx: &dyn Context, path: &str, mode: u32) -> Result<(), Errno> {
        self.open(
            ctx,
            path,
            OpenFlags::CREAT | OpenFlags::WRONLY | OpenFlags::EXCL,
            mode,
        )
        .map(|fd| fd.release(ctx))
    }

    pub fn write_file(&self, path: &str, data: &[u8]) {
        let fd = self
            .open(
                &self.ctx,
                path,
                OpenFlags::CREAT | OpenFlags::WRONLY | OpenFlags::TRUNC,
                0o644,
            )
            .unwrap();
        assert_eq!(
            fd.write(
                &self.ctx,
                &mut SliceSource::new(data),
                WriteOptions::default()
            )
            .unwrap(),
            data.len()
        );
        fd.release(&self.ctx);
    }

    pub fn read_file(&self, path: &str) -> Vec<u8> {
        let fd = self.open(&self.ctx, path, OpenFlags::empty(), 0).unwrap();
        let data = read_all(&self.ctx, &fd);
        fd.release(&self.ctx);
        data
    }

    pub fn stat(&self, path: &str) -> Result<Statx, Errno> {
        self.vfs.stat_at(
            &self.ctx,
            &self.pop(path.as_bytes()),
            StatOptions::default(),
        )
    }

    pub fn stat_as(&self, ctx: &dyn Context, path: &str) -> Result<Statx, Errno> {
        self.vfs
            .stat_at(ctx, &self.pop(path.as_bytes()), StatOptions::default())
    }

    pub fn lstat(&self, path: &str) -> Result<Statx, Errno> {
        self.vfs.stat_at(
            &self.ctx,
            &self.pop(path.as_bytes()).follow_final(false),
            StatOptions::default(),
        )
    }

    pub fn chmod(&self, ctx: &dyn Context, path: &str, mode: u32) -> Result<(), Errno> {
        let mut opts = SetStatOptions::default();
        opts.stat.stx_mask = StatxMask::MODE.bits();
        opts.stat.stx_mode = mode as u16;
        self.vfs.set_stat_at(ctx, &self.pop(path.as_bytes()), opts)
    }

    pub fn chown(&self, ctx: &dyn Context, path: &str, uid: u32, gid: u32) -> Result<(), Errno> {
        let mut opts = SetStatOptions::default();
        opts.stat.stx_mask = (StatxMask::UID | StatxMask::GID).bits();
        opts.stat.stx_uid = uid;
        opts.stat.stx_gid = gid;
        self.vfs.set_stat_at(ctx, &self.pop(path.as_bytes()), opts)
    }

    pub fn list(&self, path: &str) -> Vec<String> {
        let fd = self.open(&self.ctx, path, OpenFlags::DIRECTORY, 0).unwrap();
        let mut sink = DirentVec::default();
        fd.iter_dirents(&self.ctx, &mut sink).unwrap();
        fd.release(&self.ctx);
        let mut names: Vec<String> = sink
            .entries
            .into_iter()
            .map(|(n, ..)| String::from_utf8(n).unwrap())
            .collect();
        names.sort();
        names
    }

    /// Tears the namespace down and checks that nothing leaked.
    pub fn finish(mut self) {
        let scope = self.scope.take().unwrap();
        let Env {
            vfs, ns, root, ctx, ..
        } = self;
        root.release(&ctx);
        vfs.release_mount_namespace(&ns);
        drop(ns);
        drop(vfs);
        scope.assert_clean();
    }
}

pub fn read_all(ctx: &dyn Context, fd: &FileRef) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1000];
    loop {
        let mut dst = SliceDest::new(&mut buf);
        let n = fd.read(ctx, &mut dst, ReadOptions::default()).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

pub fn user(uid: u32) -> SimpleContext {
    SimpleContext::new(vfs_core::Credentials::user(uid, uid))
}
