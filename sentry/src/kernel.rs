//! The kernel: what every task shares (gVisor's `kernel.Kernel`): the VFS
//! and its mount namespace, the platform, the sentry's anonymous mount for
//! descriptions with no path, and global switches such as `--strace`.
//!
//! # Reference model
//!
//! The kernel owns the VFS and holds the mount namespace (whose root mount
//! holds the root filesystem) and one reference on the anonymous mount.
//! Tasks hold the kernel (`Arc`).
//!
//! # Lock order
//!
//! `Kernel::enosys_logged` is a leaf.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use abi_linux::{Errno, OpenFlags, Statx, StatxMask, StatxTimestamp};
use platform::{MemoryFile, Platform};
use vfs_core::io::SliceSource;
use vfs_core::{
    Context, MkdirOptions, MknodOptions, MountNamespace, MountOptions, MountRef, OpenOptions,
    PathOperation, SetStatOptions, VirtualFilesystem, WriteOptions,
};

use crate::devices::{self, MemDevice};

/// Where the root filesystem comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootSource {
    /// A host directory tree, copied into an in-memory filesystem at start
    /// (until goferfs serves host directories and extfs ext4 images).
    HostTreeCopy(PathBuf),
}

/// Which platform backend runs application code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformKind {
    /// `PTRACE_SYSEMU`.
    Ptrace,
    /// seccomp `SECCOMP_RET_TRAP` with a shared-memory hand-off.
    Seccomp,
}

/// How to build a kernel.
#[derive(Clone, Debug)]
pub struct KernelConfig {
    /// The root filesystem.
    pub root: RootSource,
    /// The platform backend.
    pub platform: PlatformKind,
    /// Print every system call to standard error.
    pub strace: bool,
}

/// What every task shares.
pub struct Kernel {
    /// The virtual filesystem.
    pub vfs: Arc<VirtualFilesystem>,
    /// The mount namespace every task lives in.
    pub mounts: Arc<MountNamespace>,
    /// The platform that runs application code.
    pub platform: Box<dyn Platform>,
    /// The mount that descriptions with no path (standard I/O) live on.
    pub anon_mount: MountRef,
    /// Whether system calls are traced.
    pub strace: bool,
    /// When the kernel started (for `CLOCK_MONOTONIC`-style uptimes).
    pub boot: Instant,
    enosys_logged: Mutex<HashSet<u64>>,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("platform", &self.platform.name())
            .finish_non_exhaustive()
    }
}

/// Converts an I/O error from the host to an errno.
pub fn host_errno(e: &std::io::Error) -> Errno {
    e.raw_os_error()
        .and_then(Errno::from_raw)
        .unwrap_or(Errno::EIO)
}

impl Kernel {
    /// Builds a kernel: the platform, the VFS with `tmpfs` registered, the
    /// root filesystem, a `tmpfs` on `/tmp`, and `/dev` with the memory
    /// devices.
    pub fn new(config: &KernelConfig) -> Result<Arc<Kernel>, String> {
        let mf = Arc::new(MemoryFile::new().map_err(|e| format!("memory file: {e:?}"))?);
        let platform: Box<dyn Platform> = match config.platform {
            PlatformKind::Ptrace => Box::new(
                platform::PtracePlatform::new(mf).map_err(|e| format!("ptrace platform: {e:?}"))?,
            ),
            PlatformKind::Seccomp => Box::new(
                platform::SystrapPlatform::new(mf)
                    .map_err(|e| format!("seccomp platform: {e:?}"))?,
            ),
        };
        let vfs = VirtualFilesystem::new();
        vfs.register_filesystem_type(Arc::new(kernfs::memfs::MemfsType))
            .map_err(|e| format!("registering tmpfs: {e:?}"))?;
        let ctx = crate::task::TaskContext {
            credentials: vfs_core::Credentials::root(),
            tgid: 0,
        };
        let opts = MountOptions::default();
        let mounts = vfs
            .new_mount_namespace(&ctx, b"rootfs", "tmpfs", &opts)
            .map_err(|e| format!("root filesystem: {e:?}"))?;
        match &config.root {
            RootSource::HostTreeCopy(dir) => {
                copy_host_tree(&vfs, &mounts, &ctx, dir, b"/")
                    .and_then(|()| copy_attributes(&vfs, &mounts, &ctx, dir, b"/"))
                    .map_err(|e| format!("copying {}: {e}", dir.display()))?;
            }
        }
        let anon_mount = vfs
            .mount_detached(&ctx, b"anon", "tmpfs", &opts)
            .map_err(|e| format!("anonymous mount: {e:?}"))?;
        let kernel = Kernel {
            vfs,
            mounts,
            platform,
            anon_mount,
            strace: config.strace,
            boot: Instant::now(),
            enosys_logged: Mutex::new(HashSet::new()),
        };
        kernel
            .mount_standard(&ctx)
            .map_err(|e| format!("standard mounts: {e:?}"))?;
        Ok(Arc::new(kernel))
    }

    /// Mounts `tmpfs` on `/tmp` and `/dev` and creates the device nodes.
    fn mount_standard(&self, ctx: &dyn Context) -> Result<(), Errno> {
        let root = self.mounts.root();
        for (dir, mode) in [(&b"/tmp"[..], 0o1777), (b"/dev", 0o755)] {
            let pop = PathOperation::new(&root, &root, dir);
            match self.vfs.mkdir_at(
                ctx,
                &pop,
                MkdirOptions {
                    mode,
                    for_synthetic_mountpoint: true,
                },
            ) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(e),
            }
            let data = format!("mode={mode:o}");
            let opts = MountOptions {
                get_filesystem: vfs_core::GetFilesystemOptions {
                    data,
                    ..Default::default()
                },
                ..Default::default()
            };
            let mount = self.vfs.mount(ctx, b"tmpfs", &pop, "tmpfs", &opts)?;
            mount.release(ctx);
        }
        for (kind, name, minor) in MemDevice::ALL {
            let path = format!("/dev/{name}");
            let pop = PathOperation::new(&root, &root, path.as_bytes());
            self.vfs.mknod_at(
                ctx,
                &pop,
                MknodOptions {
                    mode: abi_linux::S_IFCHR | 0o666,
                    dev_major: MemDevice::MAJOR,
                    dev_minor: minor,
                },
            )?;
            let stat = self
                .vfs
                .stat_at(ctx, &pop, vfs_core::StatOptions::default())?;
            devices::register(&self.vfs, kind, minor, stat)?;
        }
        for (name, target) in [
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            let path = format!("/dev/{name}");
            let pop = PathOperation::new(&root, &root, path.as_bytes());
            self.vfs.symlink_at(ctx, &pop, target.as_bytes())?;
        }
        root.release(ctx);
        Ok(())
    }

    /// Logs an unimplemented system call the first time it is seen.
    pub fn log_enosys(&self, nr: u64) {
        let first = self
            .enosys_logged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(nr);
        if first {
            let name = u32::try_from(nr)
                .ok()
                .and_then(abi_linux::syscalls::x86_64::name)
                .unwrap_or("unknown");
            eprintln!("sentry: unsupported system call {name} ({nr}): ENOSYS");
        }
    }
}

fn timestamp(t: std::io::Result<std::time::SystemTime>) -> StatxTimestamp {
    let d = t
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    StatxTimestamp {
        tv_sec: d.as_secs() as i64,
        tv_nsec: d.subsec_nanos(),
        _reserved: 0,
    }
}

/// Copies the host tree at `host` into the VFS at `path` (which exists and
/// is a directory): directories, regular files and symlinks, with their
/// modes, owners and times. Other file types are skipped.
fn copy_host_tree(
    vfs: &Arc<VirtualFilesystem>,
    ns: &MountNamespace,
    ctx: &dyn Context,
    host: &Path,
    path: &[u8],
) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;

    let root = ns.root();
    let err = |what: &str, p: &Path, e: String| format!("{what} {}: {e}", p.display());
    let entries = std::fs::read_dir(host).map_err(|e| err("reading", host, e.to_string()))?;
    let mut result = Ok(());
    for entry in entries {
        let entry = entry.map_err(|e| err("reading", host, e.to_string()))?;
        let hp = entry.path();
        let meta = std::fs::symlink_metadata(&hp).map_err(|e| err("stat", &hp, e.to_string()))?;
        let mut vp = path.to_vec();
        if !vp.ends_with(b"/") {
            vp.push(b'/');
        }
        vp.extend_from_slice(entry.file_name().as_bytes());
        let pop = PathOperation::new(&root, &root, &vp);
        let ft = meta.file_type();
        let step = if ft.is_dir() {
            vfs.mkdir_at(
                ctx,
                &pop,
                MkdirOptions {
                    mode: 0o700,
                    for_synthetic_mountpoint: false,
                },
            )
            .map_err(|e| format!("{e:?}"))
            .and_then(|()| copy_host_tree(vfs, ns, ctx, &hp, &vp))
        } else if ft.is_symlink() {
            std::fs::read_link(&hp)
                .map_err(|e| e.to_string())
                .and_then(|t| {
                    vfs.symlink_at(ctx, &pop, t.as_os_str().as_bytes())
                        .map_err(|e| format!("{e:?}"))
                })
        } else if ft.is_file() {
            copy_file(vfs, ctx, &pop, &hp)
        } else {
            continue;
        };
        if let Err(e) = step {
            result = Err(err("copying", &hp, e));
            break;
        }
        if let Err(e) = copy_attributes(vfs, ns, ctx, &hp, &vp) {
            result = Err(e);
            break;
        }
    }
    root.release(ctx);
    result
}

/// Sets the owner, times and (except for symlinks) mode of the VFS file at
/// `path` from the host file at `host`.
fn copy_attributes(
    vfs: &Arc<VirtualFilesystem>,
    ns: &MountNamespace,
    ctx: &dyn Context,
    host: &Path,
    path: &[u8],
) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;

    let meta =
        std::fs::symlink_metadata(host).map_err(|e| format!("stat {}: {e}", host.display()))?;
    let mut stat = Statx {
        stx_mask: (StatxMask::UID | StatxMask::GID | StatxMask::ATIME | StatxMask::MTIME).bits(),
        stx_uid: meta.uid(),
        stx_gid: meta.gid(),
        stx_atime: timestamp(meta.accessed()),
        stx_mtime: timestamp(meta.modified()),
        ..Statx::default()
    };
    if !meta.file_type().is_symlink() {
        stat.stx_mask |= StatxMask::MODE.bits();
        stat.stx_mode = (meta.mode() & 0o7777) as u16;
    }
    let root = ns.root();
    let pop = PathOperation::new(&root, &root, path).follow_final(false);
    let set = vfs.set_stat_at(
        ctx,
        &pop,
        SetStatOptions {
            stat,
            need_write_perm: false,
        },
    );
    root.release(ctx);
    set.map_err(|e| format!("setting attributes of {}: {e:?}", host.display()))
}

fn copy_file(
    vfs: &Arc<VirtualFilesystem>,
    ctx: &dyn Context,
    pop: &PathOperation<'_>,
    host: &Path,
) -> Result<(), String> {
    use std::io::Read;

    let mut src = std::fs::File::open(host).map_err(|e| e.to_string())?;
    let file = vfs
        .open_at(
            ctx,
            pop,
            OpenOptions {
                flags: OpenFlags::WRONLY | OpenFlags::CREAT | OpenFlags::EXCL,
                mode: 0o600,
                file_exec: false,
            },
        )
        .map_err(|e| format!("{e:?}"))?;
    let mut buf = vec![0u8; 1 << 16];
    let result = loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(e.to_string()),
        };
        let mut source = SliceSource::new(&buf[..n]);
        match file.write(ctx, &mut source, WriteOptions::default()) {
            Ok(w) if w == n => {}
            Ok(_) => break Err("short write".into()),
            Err(e) => break Err(format!("{e:?}")),
        }
    };
    file.release(ctx);
    result
}
