//! The gofer filesystem through vfs-core, in every interop mode, against
//! our gofer server, diod and unpfs (skipped with a message when it is not
//! installed). Each scripted operation is also done
//! directly on a host directory and the two results (value or errno) must
//! agree; the host's view of the exported directory is the oracle for what
//! reached the server (writeback, `O_DIRECT`, `O_APPEND`), and host-side
//! changes must show through in shared mode. Every test ends with the leak
//! checker clean and, for our server, no fid left open.

use crate::common::{
    Diod, TempDir, Unpfs, diod_client, our_client, unpfs_binary, unpfs_client, wait_no_fids,
};
use abi_linux::{Errno, OpenFlags, StatxMask, Whence};
use goferfs::{
    ClientOptions, GoferFilesystem, GoferFilesystemType, GoferMountData, GoferOptions, InteropMode,
    Server,
};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vfs_core::io::{SliceDest, SliceSource};
use vfs_core::{
    DirentVec, FileRef, GetFilesystemOptions, GetXattrOptions, MkdirOptions, MountNamespace,
    MountOptionFlags, MountOptions, OpenOptions, PathOperation, ReadOptions, RenameOptions,
    SetStatOptions, SetXattrOptions, SimpleContext, StatOptions, VirtualDentry, VirtualFilesystem,
    WriteOptions,
};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Backend {
    Ours,
    /// Our server with the fd-donation extension negotiated.
    OursDonating,
    Diod,
    /// unpfs (rs9p), started per test on a Unix socket.
    Unpfs,
}

/// Whether `backend` can run here; prints why not when it cannot.
fn available(backend: Backend) -> bool {
    if matches!(backend, Backend::Unpfs) && unpfs_binary().is_none() {
        eprintln!("skipping: unpfs is not installed (cargo install --locked unpfs)");
        return false;
    }
    true
}

/// A VFS whose namespace root is a gofer mount of a fresh directory.
pub(crate) struct Env {
    vfs: Arc<VirtualFilesystem>,
    ns: Arc<MountNamespace>,
    root: VirtualDentry,
    pub(crate) ctx: SimpleContext,
    server: Option<Server>,
    _diod: Option<Diod>,
    _unpfs: Option<Unpfs>,
    pub(crate) dir: TempDir,
    backend: Backend,
    scope: refs::LeakCheckScope,
}

impl Env {
    pub(crate) fn new(backend: Backend, interop: InteropMode) -> Self {
        Self::with(
            backend,
            GoferOptions {
                interop,
                ..GoferOptions::default()
            },
            false,
        )
    }

    fn with(backend: Backend, options: GoferOptions, read_only: bool) -> Self {
        let scope = refs::LeakCheckScope::new();
        let dir = TempDir::new("vfs");
        let mut unpfs = None;
        let (server, diod, client, aname) = match backend {
            Backend::Ours | Backend::OursDonating => {
                let opts = ClientOptions {
                    fd_donation: matches!(backend, Backend::OursDonating),
                    ..ClientOptions::default()
                };
                let (s, c) = our_client(dir.path(), false, &opts);
                (Some(s), None, c, Vec::new())
            }
            Backend::Diod => {
                let (d, c) = diod_client(dir.path(), &ClientOptions::default());
                (None, Some(d), c, dir.path().as_os_str().as_bytes().to_vec())
            }
            Backend::Unpfs => {
                let (u, c) = unpfs_client(dir.path(), &ClientOptions::default())
                    .expect("callers check `available` first");
                unpfs = Some(u);
                (None, None, c, Vec::new())
            }
        };
        let vfs = VirtualFilesystem::new();
        vfs.register_filesystem_type(Arc::new(GoferFilesystemType))
            .unwrap();
        let ctx = SimpleContext::root();
        let opts = MountOptions {
            flags: if read_only {
                MountOptionFlags::READ_ONLY
            } else {
                MountOptionFlags::empty()
            },
            get_filesystem: GetFilesystemOptions {
                internal_data: Some(Arc::new(GoferMountData {
                    client,
                    aname,
                    options,
                })),
                ..GetFilesystemOptions::default()
            },
        };
        let ns = vfs.new_mount_namespace(&ctx, b"", "9p", &opts).unwrap();
        drop(opts);
        let root = ns.root();
        Self {
            vfs,
            ns,
            root,
            ctx,
            server,
            _diod: diod,
            _unpfs: unpfs,
            dir,
            backend,
            scope,
        }
    }

    pub(crate) fn fs(&self) -> &GoferFilesystem {
        self.root
            .mount
            .filesystem()
            .downcast::<GoferFilesystem>()
            .unwrap()
    }

    pub(crate) fn finish(self) {
        let Self {
            vfs,
            ns,
            root,
            ctx,
            server,
            _diod,
            _unpfs,
            dir,
            backend: _,
            scope,
        } = self;
        root.release(&ctx);
        vfs.release_mount_namespace(&ns);
        drop(ns);
        drop(vfs);
        scope.assert_clean();
        if let Some(server) = server {
            assert_eq!(wait_no_fids(&server), 0, "fids left open on the server");
        }
        drop(dir);
    }

    fn pop<'a>(&'a self, path: &'a [u8]) -> PathOperation<'a> {
        PathOperation::new(&self.root, &self.root, path)
    }

    pub(crate) fn host(&self, path: &str) -> PathBuf {
        self.dir.path().join(path)
    }

    /// The exported file's contents as the host sees them once the server
    /// has finished writing. unpfs answers Rwrite and Rclunk before its
    /// write(2) runs (tokio's buffered `File`), so for it this waits,
    /// bounded, until two reads a little apart agree.
    pub(crate) fn host_contents(&self, path: &str) -> Vec<u8> {
        let mut last = std::fs::read(self.host(path)).unwrap();
        if matches!(self.backend, Backend::Unpfs) {
            for _ in 0..100 {
                std::thread::sleep(std::time::Duration::from_millis(10));
                let now = std::fs::read(self.host(path)).unwrap();
                if now == last {
                    break;
                }
                last = now;
            }
        }
        last
    }

    pub(crate) fn open(&self, path: &str, flags: OpenFlags, mode: u32) -> Result<FileRef, Errno> {
        self.vfs.open_at(
            &self.ctx,
            &self.pop(path.as_bytes()),
            OpenOptions {
                flags,
                mode,
                file_exec: false,
            },
        )
    }

    pub(crate) fn pread(&self, f: &FileRef, len: usize, off: i64) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0; len];
        let n = f.pread(
            &self.ctx,
            &mut SliceDest::new(&mut buf),
            off,
            ReadOptions::default(),
        )?;
        buf.truncate(n);
        Ok(buf)
    }

    pub(crate) fn pwrite(&self, f: &FileRef, data: &[u8], off: i64) -> Result<usize, Errno> {
        f.pwrite(
            &self.ctx,
            &mut SliceSource::new(data),
            off,
            WriteOptions::default(),
        )
    }

    fn write(&self, f: &FileRef, data: &[u8]) -> Result<usize, Errno> {
        f.write(
            &self.ctx,
            &mut SliceSource::new(data),
            WriteOptions::default(),
        )
    }

    pub(crate) fn close(&self, f: FileRef) -> Result<(), Errno> {
        let r = f.on_close(&self.ctx);
        f.release(&self.ctx);
        r
    }
}

/// The same operations on the VFS and on a host directory.
trait Ops {
    fn mkdir(&self, p: &str, mode: u32) -> Result<(), Errno>;
    fn write_file(&self, p: &str, data: &[u8], flags: OpenFlags) -> Result<usize, Errno>;
    fn read_file(&self, p: &str) -> Result<Vec<u8>, Errno>;
    fn rename(&self, a: &str, b: &str) -> Result<(), Errno>;
    fn symlink(&self, target: &str, p: &str) -> Result<(), Errno>;
    fn link(&self, a: &str, b: &str) -> Result<(), Errno>;
    fn unlink(&self, p: &str) -> Result<(), Errno>;
    fn rmdir(&self, p: &str) -> Result<(), Errno>;
    fn readlink(&self, p: &str) -> Result<Vec<u8>, Errno>;
    /// (mode, size, nlink) without following a final symlink.
    fn lstat(&self, p: &str) -> Result<(u32, u64, u32), Errno>;
    fn truncate(&self, p: &str, size: u64) -> Result<(), Errno>;
    /// Sorted (name, d_type), without `.` and `..`.
    fn readdir(&self, p: &str) -> Result<Vec<(Vec<u8>, u8)>, Errno>;
    fn set_xattr(&self, p: &str, name: &str, value: &[u8]) -> Result<(), Errno>;
    fn get_xattr(&self, p: &str, name: &str) -> Result<Vec<u8>, Errno>;
    fn list_xattr(&self, p: &str) -> Result<Vec<Vec<u8>>, Errno>;
}

impl Ops for Env {
    fn mkdir(&self, p: &str, mode: u32) -> Result<(), Errno> {
        self.vfs.mkdir_at(
            &self.ctx,
            &self.pop(p.as_bytes()),
            MkdirOptions {
                mode,
                ..MkdirOptions::default()
            },
        )
    }

    fn write_file(&self, p: &str, data: &[u8], flags: OpenFlags) -> Result<usize, Errno> {
        let f = self.open(p, flags | OpenFlags::WRONLY, 0o644)?;
        let r = self.write(&f, data);
        if matches!(self.backend, Backend::Unpfs) {
            // unpfs's write(2) may still be running after Rwrite and
            // Rclunk; its Tfsync waits for it, so later fids see the data.
            f.sync(&self.ctx)?;
        }
        self.close(f)?;
        r
    }

    fn read_file(&self, p: &str) -> Result<Vec<u8>, Errno> {
        let f = self.open(p, OpenFlags::empty(), 0)?;
        let mut out = Vec::new();
        let mut off = 0;
        loop {
            let chunk = self.pread(&f, 4096, off)?;
            if chunk.is_empty() {
                break;
            }
            off += chunk.len() as i64;
            out.extend(chunk);
        }
        self.close(f)?;
        Ok(out)
    }

    fn rename(&self, a: &str, b: &str) -> Result<(), Errno> {
        self.vfs.rename_at(
            &self.ctx,
            &self.pop(a.as_bytes()),
            &self.pop(b.as_bytes()),
            RenameOptions::default(),
        )
    }

    fn symlink(&self, target: &str, p: &str) -> Result<(), Errno> {
        self.vfs
            .symlink_at(&self.ctx, &self.pop(p.as_bytes()), target.as_bytes())
    }

    fn link(&self, a: &str, b: &str) -> Result<(), Errno> {
        self.vfs.link_at(
            &self.ctx,
            &self.pop(a.as_bytes()).follow_final(false),
            &self.pop(b.as_bytes()),
        )
    }

    fn unlink(&self, p: &str) -> Result<(), Errno> {
        self.vfs.unlink_at(&self.ctx, &self.pop(p.as_bytes()))
    }

    fn rmdir(&self, p: &str) -> Result<(), Errno> {
        self.vfs.rmdir_at(&self.ctx, &self.pop(p.as_bytes()))
    }

    fn readlink(&self, p: &str) -> Result<Vec<u8>, Errno> {
        self.vfs.readlink_at(&self.ctx, &self.pop(p.as_bytes()))
    }

    fn lstat(&self, p: &str) -> Result<(u32, u64, u32), Errno> {
        let st = self.vfs.stat_at(
            &self.ctx,
            &self.pop(p.as_bytes()).follow_final(false),
            StatOptions::default(),
        )?;
        Ok((u32::from(st.stx_mode), st.stx_size, st.stx_nlink))
    }

    fn truncate(&self, p: &str, size: u64) -> Result<(), Errno> {
        let mut opts = SetStatOptions {
            need_write_perm: true,
            ..SetStatOptions::default()
        };
        opts.stat.stx_mask = StatxMask::SIZE.bits();
        opts.stat.stx_size = size;
        self.vfs
            .set_stat_at(&self.ctx, &self.pop(p.as_bytes()), opts)
    }

    fn readdir(&self, p: &str) -> Result<Vec<(Vec<u8>, u8)>, Errno> {
        let f = self.open(p, OpenFlags::DIRECTORY, 0)?;
        let mut sink = DirentVec::default();
        let r = f.iter_dirents(&self.ctx, &mut sink);
        self.close(f)?;
        r?;
        let mut v: Vec<_> = sink
            .entries
            .into_iter()
            .filter(|e| e.0 != b"." && e.0 != b"..")
            .map(|e| (e.0, e.2))
            .collect();
        v.sort();
        Ok(v)
    }

    fn set_xattr(&self, p: &str, name: &str, value: &[u8]) -> Result<(), Errno> {
        let opts = SetXattrOptions {
            name: name.as_bytes().to_vec(),
            value: value.to_vec(),
            ..SetXattrOptions::default()
        };
        // As the host side's `lsetxattr`, on the link itself.
        self.vfs.set_xattr_at(
            &self.ctx,
            &self.pop(p.as_bytes()).follow_final(false),
            &opts,
        )
    }

    fn get_xattr(&self, p: &str, name: &str) -> Result<Vec<u8>, Errno> {
        let opts = GetXattrOptions {
            name: name.as_bytes().to_vec(),
            size: 0,
        };
        self.vfs
            .get_xattr_at(&self.ctx, &self.pop(p.as_bytes()), &opts)
    }

    fn list_xattr(&self, p: &str) -> Result<Vec<Vec<u8>>, Errno> {
        let mut v = self.vfs.list_xattr_at(&self.ctx, &self.pop(p.as_bytes()))?;
        v.retain(|n| n.starts_with(b"user."));
        v.sort();
        Ok(v)
    }
}

/// The host side: the same calls on a plain directory.
struct Host(PathBuf);

fn errno(e: std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap()).unwrap()
}

fn nix_errno(e: nix::errno::Errno) -> Errno {
    Errno::from_raw(e as i32).unwrap()
}

impl Host {
    fn p(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Ops for Host {
    fn mkdir(&self, p: &str, mode: u32) -> Result<(), Errno> {
        nix::unistd::mkdir(&self.p(p), nix::sys::stat::Mode::from_bits_truncate(mode))
            .map_err(nix_errno)
    }

    fn write_file(&self, p: &str, data: &[u8], flags: OpenFlags) -> Result<usize, Errno> {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(flags.bits() as i32)
            .mode(0o644)
            .open(self.p(p))
            .map_err(errno)?;
        f.write(data).map_err(errno)
    }

    fn read_file(&self, p: &str) -> Result<Vec<u8>, Errno> {
        std::fs::read(self.p(p)).map_err(errno)
    }

    fn rename(&self, a: &str, b: &str) -> Result<(), Errno> {
        std::fs::rename(self.p(a), self.p(b)).map_err(errno)
    }

    fn symlink(&self, target: &str, p: &str) -> Result<(), Errno> {
        std::os::unix::fs::symlink(target, self.p(p)).map_err(errno)
    }

    fn link(&self, a: &str, b: &str) -> Result<(), Errno> {
        std::fs::hard_link(self.p(a), self.p(b)).map_err(errno)
    }

    fn unlink(&self, p: &str) -> Result<(), Errno> {
        nix::unistd::unlink(&self.p(p)).map_err(nix_errno)
    }

    fn rmdir(&self, p: &str) -> Result<(), Errno> {
        std::fs::remove_dir(self.p(p)).map_err(errno)
    }

    fn readlink(&self, p: &str) -> Result<Vec<u8>, Errno> {
        std::fs::read_link(self.p(p))
            .map(|t| t.as_os_str().as_bytes().to_vec())
            .map_err(errno)
    }

    fn lstat(&self, p: &str) -> Result<(u32, u64, u32), Errno> {
        let m = std::fs::symlink_metadata(self.p(p)).map_err(errno)?;
        Ok((
            m.mode(),
            if m.is_dir() { 0 } else { m.size() },
            m.nlink() as u32,
        ))
    }

    fn truncate(&self, p: &str, size: u64) -> Result<(), Errno> {
        nix::unistd::truncate(&self.p(p), size as i64).map_err(nix_errno)
    }

    fn readdir(&self, p: &str) -> Result<Vec<(Vec<u8>, u8)>, Errno> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(self.p(p)).map_err(errno)? {
            let e = e.map_err(errno)?;
            let ft = e.file_type().map_err(errno)?;
            let dt = if ft.is_dir() {
                abi_linux::DT_DIR
            } else if ft.is_symlink() {
                abi_linux::DT_LNK
            } else {
                abi_linux::DT_REG
            };
            v.push((e.file_name().as_bytes().to_vec(), dt));
        }
        v.sort();
        Ok(v)
    }

    fn set_xattr(&self, p: &str, name: &str, value: &[u8]) -> Result<(), Errno> {
        xattr::set(self.p(p), name, value).map_err(errno)
    }

    fn get_xattr(&self, p: &str, name: &str) -> Result<Vec<u8>, Errno> {
        match xattr::get(self.p(p), name).map_err(errno)? {
            Some(v) => Ok(v),
            None => Err(Errno::ENODATA),
        }
    }

    fn list_xattr(&self, p: &str) -> Result<Vec<Vec<u8>>, Errno> {
        let mut v: Vec<Vec<u8>> = xattr::list(self.p(p))
            .map_err(errno)?
            .map(|n| n.as_bytes().to_vec())
            .filter(|n| n.starts_with(b"user."))
            .collect();
        v.sort();
        Ok(v)
    }
}

/// Runs the script on both and compares each step. Directory sizes differ
/// between filesystems, so `lstat` of a directory compares mode and links.
/// On unpfs, which has no Tsymlink, Tlink or xattr messages, those steps
/// must fail with `EOPNOTSUPP` and are not done on the host; the steps that
/// depend on them then agree on `ENOENT`.
fn script(env: &Env, host: &Host) {
    let full = !matches!(env.backend, Backend::Unpfs);
    macro_rules! same {
        ($($call:tt)*) => {{
            let ours = env.$($call)*;
            let theirs = host.$($call)*;
            assert_eq!(ours, theirs, "{}", stringify!($($call)*));
            ours
        }};
    }
    // A step unpfs does not support.
    macro_rules! not_on_unpfs {
        ($($call:tt)*) => {{
            if full {
                same!($($call)*).unwrap();
            } else {
                assert_eq!(
                    env.$($call)*.map(drop),
                    Err(Errno::EOPNOTSUPP),
                    "{}",
                    stringify!($($call)*)
                );
            }
        }};
    }
    // unpfs leaves every entry's type DT_UNKNOWN, which the filesystem
    // passes on as Linux's v9fs does; the names must still agree.
    macro_rules! same_listing {
        ($p:expr) => {{
            let ours = env.readdir($p).unwrap();
            let mut theirs = host.readdir($p).unwrap();
            if !full {
                for e in &mut theirs {
                    e.1 = abi_linux::DT_UNKNOWN;
                }
            }
            assert_eq!(ours, theirs, "readdir({})", $p);
        }};
    }
    // A step that succeeds only if the unsupported ones before it did.
    macro_rules! ok_if_full {
        ($($call:tt)*) => {{
            let r = same!($($call)*);
            if full {
                r.unwrap();
            }
        }};
    }
    let c = OpenFlags::CREAT;
    same!(mkdir("d", 0o755)).unwrap();
    same!(mkdir("d", 0o755)).unwrap_err();
    same!(write_file("d/f", b"hello world", c | OpenFlags::TRUNC)).unwrap();
    same!(write_file("d/f", b"x", c | OpenFlags::EXCL)).unwrap_err();
    same!(read_file("d/f")).unwrap();
    same!(lstat("d/f")).unwrap();
    same!(write_file("d/f", b"HELLO", OpenFlags::empty())).unwrap();
    same!(read_file("d/f")).unwrap();
    same!(read_file("d/missing")).unwrap_err();
    same!(read_file("d/f/x")).unwrap_err();
    same!(rename("d/f", "d/g")).unwrap();
    same!(lstat("d/f")).unwrap_err();
    not_on_unpfs!(symlink("g", "d/s"));
    ok_if_full!(readlink("d/s"));
    same!(readlink("d/g")).unwrap_err();
    ok_if_full!(read_file("d/s"));
    ok_if_full!(lstat("d/s"));
    not_on_unpfs!(link("d/g", "d/h"));
    same!(lstat("d/g")).unwrap();
    ok_if_full!(lstat("d/h"));
    ok_if_full!(truncate("d/h", 3));
    same!(read_file("d/g")).unwrap();
    same!(truncate("d", 3)).unwrap_err();
    same!(write_file("d/g", b"more", OpenFlags::APPEND)).unwrap();
    ok_if_full!(read_file("d/h"));
    same!(mkdir("d/sub", 0o700)).unwrap();
    same!(rename("d", "d/sub/x")).unwrap_err();
    same!(rmdir("d")).unwrap_err();
    same!(unlink("d/sub")).unwrap_err();
    same!(rmdir("d/g")).unwrap_err();
    same_listing!("d");
    ok_if_full!(unlink("d/h"));
    same!(lstat("d/g")).unwrap();
    same!(rename("d/g", "d/sub/g")).unwrap();
    same_listing!("d/sub");
    same!(rmdir("d/sub")).unwrap_err();
    same!(unlink("d/sub/g")).unwrap();
    same!(rmdir("d/sub")).unwrap();
    same_listing!("d");
    same!(set_xattr("d/s", "user.a", b"1")).unwrap_err();
    same!(write_file("x", b"", c)).unwrap();
    not_on_unpfs!(set_xattr("x", "user.a", b"1"));
    not_on_unpfs!(set_xattr("x", "user.b", b"22"));
    not_on_unpfs!(get_xattr("x", "user.b"));
    if full {
        same!(get_xattr("x", "user.c")).unwrap_err();
    } else {
        assert_eq!(env.get_xattr("x", "user.c"), Err(Errno::EOPNOTSUPP));
    }
    not_on_unpfs!(list_xattr("x"));
    // Many entries, so readdir spans several Treaddir replies.
    for i in 0..150 {
        same!(write_file(&format!("d/n{i:03}-{}", "x".repeat(40)), b"", c)).unwrap();
    }
    same_listing!("d");
}

fn ops_match_host(backend: Backend, mode: InteropMode) {
    let env = Env::new(backend, mode);
    let host_dir = TempDir::new("host");
    script(&env, &Host(host_dir.path().to_path_buf()));
    // What the script left on the server is what it left on the host.
    let snapshot = |p: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    assert_eq!(snapshot(env.dir.path()), snapshot(host_dir.path()));
    assert_eq!(
        snapshot(&env.host("d")),
        snapshot(&host_dir.path().join("d"))
    );
    env.finish();
}

macro_rules! per_backend_and_mode {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[test]
            fn ours_exclusive() {
                super::$name(Backend::Ours, InteropMode::Exclusive);
            }
            #[test]
            fn ours_writethrough() {
                super::$name(Backend::Ours, InteropMode::Writethrough);
            }
            #[test]
            fn ours_shared() {
                super::$name(Backend::Ours, InteropMode::Shared);
            }
            #[test]
            fn diod_exclusive() {
                super::$name(Backend::Diod, InteropMode::Exclusive);
            }
            #[test]
            fn diod_writethrough() {
                super::$name(Backend::Diod, InteropMode::Writethrough);
            }
            #[test]
            fn diod_shared() {
                super::$name(Backend::Diod, InteropMode::Shared);
            }
            #[test]
            fn unpfs_exclusive() {
                if available(Backend::Unpfs) {
                    super::$name(Backend::Unpfs, InteropMode::Exclusive);
                }
            }
            #[test]
            fn unpfs_writethrough() {
                if available(Backend::Unpfs) {
                    super::$name(Backend::Unpfs, InteropMode::Writethrough);
                }
            }
            #[test]
            fn unpfs_shared() {
                if available(Backend::Unpfs) {
                    super::$name(Backend::Unpfs, InteropMode::Shared);
                }
            }
        }
    };
}

per_backend_and_mode!(ops_match_host);

/// Cached writes reach the host after fsync and after close, in every mode.
fn writeback_visible_after_fsync_and_close(backend: Backend, mode: InteropMode) {
    let env = Env::new(backend, mode);
    std::fs::write(env.host("f"), vec![b'a'; 10000]).unwrap();
    let f = env.open("f", OpenFlags::RDWR, 0).unwrap();
    // Reading fills the page cache, so the writes below land in it.
    assert_eq!(env.pread(&f, 10000, 0).unwrap(), vec![b'a'; 10000]);
    env.pwrite(&f, b"bbbb", 100).unwrap();
    f.sync(&env.ctx).unwrap();
    assert_eq!(&std::fs::read(env.host("f")).unwrap()[100..104], b"bbbb");
    env.pwrite(&f, b"cccc", 9998).unwrap();
    env.close(f).unwrap();
    let on_host = env.host_contents("f");
    assert_eq!(on_host.len(), 10002);
    assert_eq!(&on_host[9998..], b"cccc");
    env.finish();
}

per_backend_and_mode!(writeback_visible_after_fsync_and_close);

/// An `O_DIRECT` read sees bytes still dirty in the page cache, and an
/// `O_DIRECT` write is seen by the host at once and by cached readers.
fn o_direct_is_coherent_with_the_page_cache(backend: Backend, mode: InteropMode) {
    let env = Env::new(backend, mode);
    std::fs::write(env.host("f"), vec![b'a'; 8192]).unwrap();
    let cached = env.open("f", OpenFlags::RDWR, 0).unwrap();
    env.pread(&cached, 8192, 0).unwrap();
    env.pwrite(&cached, b"bbbb", 0).unwrap();
    let direct = env
        .open("f", OpenFlags::RDWR | OpenFlags::DIRECT, 0)
        .unwrap();
    assert_eq!(env.pread(&direct, 4, 0).unwrap(), b"bbbb");
    env.pwrite(&direct, b"cccc", 4096).unwrap();
    assert_eq!(&env.host_contents("f")[4096..4100], b"cccc");
    assert_eq!(env.pread(&cached, 4, 4096).unwrap(), b"cccc");
    env.close(direct).unwrap();
    env.close(cached).unwrap();
    env.finish();
}

per_backend_and_mode!(o_direct_is_coherent_with_the_page_cache);

/// `O_APPEND` writes land at the end, as on the host.
fn o_append_appends(backend: Backend, mode: InteropMode) {
    let env = Env::new(backend, mode);
    let host_dir = TempDir::new("append");
    let host = Host(host_dir.path().to_path_buf());
    for ops in [&env as &dyn Ops, &host] {
        ops.write_file("f", b"start", OpenFlags::CREAT).unwrap();
        ops.write_file("f", b"-one", OpenFlags::APPEND).unwrap();
        ops.write_file("f", b"-two", OpenFlags::APPEND).unwrap();
    }
    let f = env
        .open("f", OpenFlags::WRONLY | OpenFlags::APPEND, 0)
        .unwrap();
    env.pwrite(&f, b"-three", 0).unwrap();
    assert_eq!(f.seek(&env.ctx, 0, Whence::Cur).unwrap(), 0);
    env.close(f).unwrap();
    {
        use std::io::Write;
        let mut h = std::fs::OpenOptions::new()
            .append(true)
            .open(host.p("f"))
            .unwrap();
        h.write_all(b"-three").unwrap();
    }
    // The host first: on unpfs that waits for the last write to land.
    assert_eq!(env.host_contents("f"), host.read_file("f").unwrap());
    assert_eq!(env.read_file("f").unwrap(), host.read_file("f").unwrap());
    env.finish();
}

per_backend_and_mode!(o_append_appends);

/// In shared mode, changes made on the host behind the client's back are
/// seen: new size and contents, deletion, creation, replacement.
fn shared_mode_sees_host_changes(backend: Backend) {
    let env = Env::new(backend, InteropMode::Shared);
    std::fs::write(env.host("f"), b"one").unwrap();
    assert_eq!(env.lstat("f").unwrap().1, 3);
    assert_eq!(env.read_file("f").unwrap(), b"one");
    std::fs::write(env.host("f"), b"three").unwrap();
    assert_eq!(env.lstat("f").unwrap().1, 5);
    assert_eq!(env.read_file("f").unwrap(), b"three");
    let f = env
        .open("f", OpenFlags::WRONLY | OpenFlags::APPEND, 0)
        .unwrap();
    std::fs::write(env.host("f"), b"longer now").unwrap();
    env.write(&f, b"!").unwrap();
    env.close(f).unwrap();
    assert_eq!(env.host_contents("f"), b"longer now!");
    assert_eq!(env.lstat("g"), Err(Errno::ENOENT));
    std::fs::write(env.host("g"), b"new").unwrap();
    assert_eq!(env.read_file("g").unwrap(), b"new");
    let ino_before = env
        .vfs
        .stat_at(&env.ctx, &env.pop(b"g"), StatOptions::default())
        .unwrap()
        .stx_ino;
    std::fs::remove_file(env.host("g")).unwrap();
    assert_eq!(env.lstat("g"), Err(Errno::ENOENT));
    std::fs::write(env.host("tmp"), b"replacement").unwrap();
    std::fs::rename(env.host("tmp"), env.host("f")).unwrap();
    let st = env
        .vfs
        .stat_at(&env.ctx, &env.pop(b"f"), StatOptions::default())
        .unwrap();
    assert_eq!(st.stx_ino, std::fs::metadata(env.host("f")).unwrap().ino());
    assert_ne!(st.stx_ino, ino_before);
    assert_eq!(env.read_file("f").unwrap(), b"replacement");
    env.finish();
}

#[test]
fn shared_mode_sees_host_changes_ours() {
    shared_mode_sees_host_changes(Backend::Ours);
}

#[test]
fn shared_mode_sees_host_changes_diod() {
    shared_mode_sees_host_changes(Backend::Diod);
}

#[test]
fn shared_mode_sees_host_changes_unpfs() {
    if available(Backend::Unpfs) {
        shared_mode_sees_host_changes(Backend::Unpfs);
    }
}

/// `stat` reports what the host reports (type, mode, size, links, owner,
/// inode number) and hard links share one inode.
#[test]
fn stat_matches_host_and_links_share_inode() {
    let env = Env::new(Backend::Ours, InteropMode::Exclusive);
    std::fs::write(env.host("a"), b"12345").unwrap();
    std::fs::hard_link(env.host("a"), env.host("b")).unwrap();
    let st = env
        .vfs
        .stat_at(&env.ctx, &env.pop(b"a"), StatOptions::default())
        .unwrap();
    let m = std::fs::metadata(env.host("a")).unwrap();
    assert_eq!(
        (
            u32::from(st.stx_mode),
            st.stx_size,
            u64::from(st.stx_nlink),
            st.stx_uid,
            st.stx_gid,
            st.stx_ino
        ),
        (m.mode(), m.size(), m.nlink(), m.uid(), m.gid(), m.ino())
    );
    let f = env.open("a", OpenFlags::RDWR, 0).unwrap();
    env.pread(&f, 5, 0).unwrap();
    env.pwrite(&f, b"X", 0).unwrap();
    // The cached write is visible through the other name before writeback.
    let g = env.open("b", OpenFlags::empty(), 0).unwrap();
    assert_eq!(env.pread(&g, 5, 0).unwrap(), b"X2345");
    env.close(g).unwrap();
    env.close(f).unwrap();
    assert_eq!(std::fs::read(env.host("b")).unwrap(), b"X2345");
    env.finish();
}

/// In the cached modes a directory's listing is read once and kept until
/// the sandbox changes the directory (gVisor's assumption for them: nobody
/// else changes the files), so a file created behind its back is not
/// listed until then; shared mode reads the listing every time. After each
/// change made through the VFS the listing is the host's.
#[test]
fn listings_are_kept_until_the_sandbox_changes_the_directory() {
    for mode in [
        InteropMode::Exclusive,
        InteropMode::Writethrough,
        InteropMode::Shared,
    ] {
        let env = Env::new(Backend::Ours, mode);
        std::fs::create_dir(env.host("d")).unwrap();
        std::fs::create_dir(env.host("e")).unwrap();
        std::fs::write(env.host("d/a"), b"").unwrap();
        let names = |p: &str| -> Vec<Vec<u8>> {
            env.readdir(p).unwrap().into_iter().map(|e| e.0).collect()
        };
        let host_names = |p: &str| -> Vec<Vec<u8>> {
            let mut v: Vec<Vec<u8>> = std::fs::read_dir(env.host(p))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_encoded_bytes())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names("d"), [b"a"]);
        std::fs::write(env.host("d/behind"), b"").unwrap();
        let seen = names("d").contains(&b"behind".to_vec());
        assert_eq!(seen, mode == InteropMode::Shared, "{mode:?}");
        let changes: [&dyn Fn() -> Result<(), Errno>; 6] = [
            &|| env.write_file("d/made", b"x", OpenFlags::CREAT).map(drop),
            &|| env.mkdir("d/sub", 0o755),
            &|| env.symlink("a", "d/sym"),
            &|| env.link("d/a", "d/hard"),
            &|| env.rename("d/made", "e/moved"),
            &|| env.unlink("d/a"),
        ];
        for (i, change) in changes.iter().enumerate() {
            change().unwrap();
            assert_eq!(names("d"), host_names("d"), "{mode:?}: after change {i}");
            assert_eq!(names("e"), host_names("e"), "{mode:?}: after change {i}");
        }
        env.finish();
    }
}

/// After writes, growth by truncation and a write-back at close, `stat`'s
/// block count is the host's, in every interop mode (the count is the
/// server's to know, so cached modes fetch it again after a change).
#[test]
fn block_count_after_writes_matches_host() {
    for mode in [
        InteropMode::Exclusive,
        InteropMode::Writethrough,
        InteropMode::Shared,
    ] {
        let env = Env::new(Backend::Ours, mode);
        let blocks = |name: &str| {
            env.vfs
                .stat_at(&env.ctx, &env.pop(name.as_bytes()), StatOptions::default())
                .unwrap()
                .stx_blocks
        };
        let f = env
            .open("grown", OpenFlags::RDWR | OpenFlags::CREAT, 0o644)
            .unwrap();
        assert_eq!(blocks("grown"), 0);
        env.pwrite(&f, &[7u8; 10_000], 0).unwrap();
        env.close(f).unwrap();
        assert_eq!(
            blocks("grown"),
            std::fs::metadata(env.host("grown")).unwrap().blocks()
        );
        let f = env.open("grown", OpenFlags::RDWR, 0).unwrap();
        env.pwrite(&f, &[1u8; 70_000], 10_000).unwrap();
        env.close(f).unwrap();
        let host = std::fs::metadata(env.host("grown")).unwrap().blocks();
        assert!(host > 16, "{mode:?}: {host}");
        assert_eq!(blocks("grown"), host, "{mode:?}");
        env.finish();
    }
}

/// `statfs` reports the host filesystem's geometry with the 9P magic.
#[test]
fn statfs_reports_host_geometry() {
    for backend in [Backend::Ours, Backend::Diod, Backend::Unpfs] {
        if !available(backend) {
            continue;
        }
        let env = Env::new(backend, InteropMode::Exclusive);
        let st = env.vfs.statfs_at(&env.ctx, &env.pop(b"")).unwrap();
        let host = nix::sys::statvfs::statvfs(env.dir.path()).unwrap();
        assert_eq!(st.f_type, goferfs::fs::V9FS_MAGIC);
        assert_eq!(st.f_blocks, host.blocks() as u64);
        assert_eq!(st.f_namelen, host.name_max() as i64);
        env.finish();
    }
}

/// On a read-only mount, an existing name is `EEXIST` before `EROFS`, as
/// Linux orders them; writes are `EROFS`.
#[test]
fn read_only_mount_errno_order() {
    let env = Env::with(Backend::Ours, GoferOptions::default(), true);
    std::fs::create_dir(env.host("d")).unwrap();
    std::fs::write(env.host("f"), b"x").unwrap();
    assert_eq!(env.mkdir("d", 0o755), Err(Errno::EEXIST));
    assert_eq!(env.mkdir("e", 0o755), Err(Errno::EROFS));
    assert_eq!(
        env.open("f", OpenFlags::WRONLY, 0).map(drop),
        Err(Errno::EROFS)
    );
    assert_eq!(env.unlink("f"), Err(Errno::EROFS));
    assert_eq!(env.read_file("f").unwrap(), b"x");
    env.finish();
}

/// `RLIMIT_FSIZE` truncates a write at the limit and refuses one past it.
#[test]
fn file_size_limit_is_enforced() {
    let mut env = Env::new(Backend::Ours, InteropMode::Exclusive);
    env.ctx.file_size_limit = 10;
    let f = env
        .open("f", OpenFlags::CREAT | OpenFlags::WRONLY, 0o644)
        .unwrap();
    assert_eq!(env.pwrite(&f, b"0123456789abc", 0), Ok(10));
    assert_eq!(env.pwrite(&f, b"x", 10), Err(Errno::EFBIG));
    env.close(f).unwrap();
    assert_eq!(std::fs::read(env.host("f")).unwrap(), b"0123456789");
    env.finish();
}

/// `SEEK_DATA`/`SEEK_HOLE` treat the file as one extent, as Linux's
/// generic implementation does.
#[test]
fn seek_data_and_hole_treat_file_as_one_extent() {
    let env = Env::new(Backend::Ours, InteropMode::Exclusive);
    std::fs::write(env.host("f"), b"0123456789").unwrap();
    let f = env.open("f", OpenFlags::empty(), 0).unwrap();
    assert_eq!(f.seek(&env.ctx, 3, Whence::Data), Ok(3));
    assert_eq!(f.seek(&env.ctx, 3, Whence::Hole), Ok(10));
    assert_eq!(f.seek(&env.ctx, 10, Whence::Data), Err(Errno::ENXIO));
    assert_eq!(f.seek(&env.ctx, -2, Whence::End), Ok(8));
    env.close(f).unwrap();
    env.finish();
}

/// The dentry cache keeps at most `max_cached_dentries` unreferenced
/// dentries, and everything evicted is clunked on the server.
#[test]
fn dentry_cache_is_bounded() {
    let opts = GoferOptions {
        max_cached_dentries: 4,
        ..GoferOptions::default()
    };
    let env = Env::with(Backend::Ours, opts, false);
    for i in 0..20 {
        std::fs::write(env.host(&format!("f{i}")), b"x").unwrap();
    }
    for i in 0..20 {
        env.lstat(&format!("f{i}")).unwrap();
    }
    assert!(
        env.fs().cached_dentries() <= 4,
        "{}",
        env.fs().cached_dentries()
    );
    assert!(
        env.fs()
            .stats()
            .evictions
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 16
    );
    // Root fid, four cached dentries' fids: nothing else is open.
    assert!(env.server.as_ref().unwrap().open_fids() <= 5);
    env.finish();
}

/// Reads count as 9P reads without donation and as host reads with it.
#[test]
fn read_counters_follow_the_transport() {
    let env = Env::new(Backend::Ours, InteropMode::Exclusive);
    std::fs::write(env.host("f"), b"abc").unwrap();
    let f = env.open("f", OpenFlags::empty(), 0).unwrap();
    assert_eq!(env.pread(&f, 3, 0).unwrap(), b"abc");
    env.close(f).unwrap();
    let stats = env.fs().stats();
    assert_eq!(stats.reads_9p.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(stats.opens_9p.load(std::sync::atomic::Ordering::Relaxed), 1);
    env.finish();
}
