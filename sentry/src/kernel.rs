//! The kernel: what every task shares (gVisor's `kernel.Kernel`): the VFS
//! and its mount namespace (the root is a host directory served by a gofer,
//! a read-only ext4 image on extfs, or a copied host tree on memfs; host
//! directories mounted with `--mount` are served by gofers too; memfs on
//! `/tmp` and `/dev`, `proc` on `/proc`; memfs, extfs and the gofer mounts
//! keep their pages in the platform's memory file), the platform, the
//! sentry's anonymous mount for descriptions with no path, and global
//! switches such as `--strace`.
//!
//! # Reference model
//!
//! The kernel owns the VFS and holds the mount namespace (whose root mount
//! holds the root filesystem) and one reference on the anonymous mount.
//! Dropping the kernel detaches every mount of the namespace, which closes
//! the gofers' connections, and then reaps the gofers.
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
use crate::fd_table::FdTable;
use crate::gofer::{Gofer, GoferLaunch};
use crate::procfs::ProcType;
use crate::task::TaskSet;

/// Where the root filesystem comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootSource {
    /// A host directory served by a gofer: read-only unless `writable`,
    /// in which case the sandbox's changes reach the host directory. It
    /// should hold `/tmp`, `/dev` and `/proc` directories for the standard
    /// mounts when it is read-only.
    HostDir {
        /// The host directory.
        path: PathBuf,
        /// Whether the sandbox may change it.
        writable: bool,
    },
    /// A host directory tree, copied into an in-memory filesystem at start:
    /// writable, and the host tree never changes.
    HostTreeCopy(PathBuf),
    /// An ext2/3/4 image file, mounted read-only with extfs. It should
    /// hold `/tmp`, `/dev` and `/proc` directories for the standard mounts
    /// (a read-only root cannot get them later).
    Image(PathBuf),
}

impl RootSource {
    /// The root for a `--rootfs` path: a directory is served read-only by
    /// a gofer, anything else is taken for an image.
    pub fn detect(path: PathBuf) -> Result<RootSource, String> {
        let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(if meta.is_dir() {
            RootSource::HostDir {
                path,
                writable: false,
            }
        } else {
            RootSource::Image(path)
        })
    }
}

/// A host directory mounted in the sandbox (`--mount SRC:DST[:ro]`),
/// served by a gofer in gVisor's shared mode: changes made on the host
/// while the sandbox runs are seen inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostMount {
    /// The host directory.
    pub source: PathBuf,
    /// The absolute path of the mount point in the sandbox. A missing
    /// directory is created when its parent is writable.
    pub target: Vec<u8>,
    /// Whether the sandbox may only read it.
    pub read_only: bool,
}

impl HostMount {
    /// Parses `SRC:DST` or `SRC:DST:ro` (or `:rw`).
    pub fn parse(spec: &str) -> Result<HostMount, String> {
        let mut parts = spec.split(':');
        let (Some(source), Some(target)) = (parts.next(), parts.next()) else {
            return Err(format!("{spec}: expected SRC:DST[:ro]"));
        };
        let read_only = match parts.next() {
            None | Some("rw") => false,
            Some("ro") => true,
            Some(other) => return Err(format!("{spec}: unknown mount option {other:?}")),
        };
        if parts.next().is_some() || source.is_empty() || !target.starts_with('/') {
            return Err(format!(
                "{spec}: expected SRC:DST[:ro] with an absolute DST"
            ));
        }
        Ok(HostMount {
            source: PathBuf::from(source),
            target: target.as_bytes().to_vec(),
            read_only,
        })
    }
}

/// What the sandbox's changes to its root go to (runsc's `--overlay2
/// root:MEDIUM`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Overlay {
    /// No overlay: the root as its source gives it (an image or a
    /// directory read-only, a writable host directory changed in place).
    #[default]
    None,
    /// A memfs upper layer over the root, in the sandbox's memory: every
    /// change stays inside the sandbox and goes with it.
    Memory,
    /// As `Memory`, with the sandbox's memory file (which holds the upper
    /// layer's pages along with tmpfs and anonymous memory) in an unlinked
    /// file in this host directory instead of RAM, for more data than
    /// memory holds.
    File(PathBuf),
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
    /// Where the sentry's diagnostics (unsupported system calls) go; with
    /// neither this nor `strace`, they are dropped, never written to the
    /// program's standard error.
    pub debug_log: Option<std::path::PathBuf>,
    /// Host directories to mount, in order.
    pub mounts: Vec<HostMount>,
    /// Where the gofers of host directories run.
    pub gofer: GoferLaunch,
    /// The network internet sockets use.
    pub network: Network,
    /// The most memory the sandbox may use at once (its pages in the
    /// platform's memory file: anonymous memory, page cache, tmpfs);
    /// `None` for no limit.
    pub memory_limit: Option<u64>,
    /// The overlay over the root.
    pub overlay: Overlay,
    /// The host name `uname` reports (`sentry` when `None`).
    pub hostname: Option<String>,
    /// Whether `/tmp` gets the sandbox's own tmpfs (an OCI container gets
    /// one only where runsc would: its root has an empty `/tmp`).
    pub mount_tmp: bool,
}

/// The network of the sandbox's internet sockets (runsc's `--network`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// A loopback interface of the sentry's own (`--network=none`).
    #[default]
    Loopback,
    /// Host sockets driven by the sentry (`--network=host`): the host's
    /// interfaces and servers, and weaker isolation.
    Host,
}

impl KernelConfig {
    /// A configuration with `root`, on ptrace, no tracing, no extra mounts
    /// and gofers in threads of this process.
    pub fn new(root: RootSource) -> Self {
        Self {
            root,
            platform: PlatformKind::Ptrace,
            strace: false,
            debug_log: None,
            mounts: Vec::new(),
            gofer: GoferLaunch::InProcess,
            network: Network::Loopback,
            memory_limit: None,
            overlay: Overlay::None,
            hostname: None,
            mount_tmp: true,
        }
    }
}

/// What every task shares.
pub struct Kernel {
    /// The virtual filesystem.
    pub vfs: Arc<VirtualFilesystem>,
    /// The mount namespace every task lives in.
    pub mounts: Arc<MountNamespace>,
    /// The platform that runs application code.
    pub platform: Box<dyn Platform>,
    /// The mount that descriptions with no path (pipes) live on.
    pub anon_mount: MountRef,
    /// The hostfs mount that imported host descriptors live on.
    pub host_mount: MountRef,
    /// The terminal `/dev/tty` opens, when standard I/O came from one.
    pub controlling_tty: Arc<devices::ControllingTty>,
    /// The live thread groups.
    pub tasks: Arc<TaskSet>,
    /// The futex queues of every address space.
    pub futexes: crate::futex::Futexes,
    /// What serves the tasks' system calls.
    pub syscalls: &'static dyn crate::task::SyscallDispatch,
    /// The interval timers of every process.
    pub timers: crate::timers::TimerService,
    /// The next inode number of an anonymous file (a pipe).
    pub next_anon_ino: std::sync::atomic::AtomicU64,
    /// The names UNIX sockets are bound to.
    pub unix_names: Arc<crate::net::unix::UnixNames>,
    /// The loopback network: TCP and UDP ports.
    pub inet: Arc<crate::net::inet::InetStack>,
    /// The port IDs of netlink sockets.
    pub netlink_ports: Arc<crate::net::netlink::NetlinkPorts>,
    /// The network internet sockets use.
    pub network: Network,
    /// The System V IPC objects.
    pub ipc: Arc<crate::ipc::Ipc>,
    /// The host and domain names.
    pub uts: Arc<crate::syscalls::Uts>,
    /// The pseudo-terminals.
    pub ptys: Arc<crate::pty::Ptys>,
    /// Whether system calls are traced.
    pub strace: bool,
    /// When the kernel started (for `CLOCK_MONOTONIC`-style uptimes).
    pub boot: Instant,
    enosys_logged: Mutex<HashSet<u64>>,
    debug_log: Option<Mutex<std::fs::File>>,
    /// The gofers of host directories; dropped (reaped) after the mounts
    /// are released.
    gofers: Vec<Gofer>,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("platform", &self.platform.name())
            .finish_non_exhaustive()
    }
}

impl Drop for Kernel {
    /// Tears the mount namespace down, so that the filesystems (and the
    /// memory-file pages of their files) go when the last task does.
    fn drop(&mut self) {
        self.controlling_tty.clear(vfs_core::context::background());
        self.vfs.release_mount_namespace(&self.mounts);
    }
}

/// The mount data that makes a memfs keep its pages in the platform's
/// memory file (so mappings of its files share them).
pub(crate) fn memfs_data(mf: &Arc<MemoryFile>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
    // The platform's MemoryFile is a vfs-core memory file itself; the memory
    // manager recognises its pages by `host_fd()`, the memfd.
    Some(Arc::new(kernfs::memfs::MemfsMemory(mf.clone())))
}

/// A mount of an overlay (a memfs upper layer in `mf`) over the root of
/// `lower`, which only the overlay references from then on.
fn overlay_over(
    vfs: &Arc<VirtualFilesystem>,
    ctx: &dyn Context,
    lower: MountRef,
    mf: &Arc<MemoryFile>,
) -> Result<MountRef, Errno> {
    let lower_root = vfs_core::VirtualDentry::new(lower.clone(), lower.root_ref());
    lower.release(ctx);
    let memory: Arc<dyn vfs_core::memmap::MemoryFile> = mf.clone();
    let (fs, root) = kernfs::memfs::new_overlay(
        ctx,
        vfs,
        lower_root,
        &kernfs::memfs::MemfsOptions::default(),
        Some(memory),
    )?;
    Ok(vfs.new_disconnected_mount(fs, root, vfs_core::MountOptionFlags::empty()))
}

/// The mount data of an image root: the image read through the host
/// file, with the page cache in the platform's memory file.
fn image_data(
    image: &Path,
    mf: &Arc<MemoryFile>,
) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    let file = std::fs::File::open(image).map_err(|e| format!("{}: {e}", image.display()))?;
    let source = extfs::FileSource::new(file).map_err(|e| format!("{}: {e}", image.display()))?;
    let mut data = extfs::vfs::ExtMountData::new(extfs::vfs::ExtImage::Source(Arc::new(source)));
    data.memory_file = Some(mf.clone());
    Ok(Arc::new(data))
}

/// Mount options of a `9p` mount over `client`, keeping its page cache
/// in the platform's memory file.
fn gofer_mount_options(
    client: goferfs::Client,
    interop: goferfs::fs::InteropMode,
    read_only: bool,
    mf: &Arc<MemoryFile>,
) -> MountOptions {
    let data = goferfs::fs::GoferMountData {
        client,
        aname: Vec::new(),
        options: goferfs::fs::GoferOptions {
            interop,
            memory_file: Some(mf.clone()),
            ..Default::default()
        },
    };
    MountOptions {
        flags: if read_only {
            vfs_core::MountOptionFlags::READ_ONLY
        } else {
            vfs_core::MountOptionFlags::empty()
        },
        get_filesystem: vfs_core::GetFilesystemOptions {
            data: if read_only { "ro" } else { "rw" }.into(),
            internal_data: Some(Arc::new(data)),
            ..Default::default()
        },
    }
}

/// Makes sure `pop` names a directory, creating it with `mode` if it is
/// missing. An existing directory on a read-only filesystem is fine.
fn ensure_directory(
    vfs: &Arc<VirtualFilesystem>,
    ctx: &dyn Context,
    pop: &PathOperation<'_>,
    mode: u32,
) -> Result<(), Errno> {
    let made = vfs.mkdir_at(
        ctx,
        pop,
        MkdirOptions {
            mode,
            for_synthetic_mountpoint: true,
        },
    );
    match made {
        Ok(()) => Ok(()),
        Err(e) => {
            let stat = vfs.stat_at(ctx, pop, vfs_core::StatOptions::default());
            match stat {
                Ok(st) if u32::from(st.stx_mode) & abi_linux::S_IFMT == abi_linux::S_IFDIR => {
                    Ok(())
                }
                Ok(_) => Err(Errno::ENOTDIR),
                Err(_) => Err(e),
            }
        }
    }
}

/// Duplicates of the sentry's own descriptors 0, 1 and 2 (`None` for one
/// it was started without).
pub fn host_stdio() -> Result<[Option<std::os::fd::OwnedFd>; 3], String> {
    use std::os::fd::AsFd;

    let mut out = [None, None, None];
    for (fd, slot) in out.iter_mut().enumerate() {
        let duplicated = match fd {
            0 => std::io::stdin().as_fd().try_clone_to_owned(),
            1 => std::io::stdout().as_fd().try_clone_to_owned(),
            _ => std::io::stderr().as_fd().try_clone_to_owned(),
        };
        *slot = match duplicated {
            Ok(owned) => Some(owned),
            Err(e) if e.raw_os_error() == Some(libc::EBADF) => None,
            Err(e) => return Err(format!("duplicating host fd {fd}: {e}")),
        };
    }
    Ok(out)
}

/// Makes the directory `path` and any missing ones on the way
/// (`mkdir -p`), mode 0755.
fn ensure_directories(
    vfs: &Arc<VirtualFilesystem>,
    ctx: &dyn Context,
    root: &vfs_core::VirtualDentry,
    path: &[u8],
) -> Result<(), Errno> {
    path.iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'/' && i > 0)
        .map(|(i, _)| &path[..i])
        .chain([path])
        .try_for_each(|dir| ensure_directory(vfs, ctx, &PathOperation::new(root, root, dir), 0o755))
}

/// A context with root's credentials for the kernel's own work.
pub(crate) fn kernel_context() -> crate::task::TaskContext {
    crate::task::TaskContext {
        credentials: vfs_core::Credentials::root(),
        tgid: 0,
        limits: crate::task::Limits::linux_defaults(),
    }
}

/// Converts an I/O error from the host to an errno.
pub fn host_errno(e: &std::io::Error) -> Errno {
    e.raw_os_error()
        .and_then(Errno::from_raw)
        .unwrap_or(Errno::EIO)
}

/// The errno of the host call that just failed on this thread.
pub fn last_host_errno() -> Errno {
    host_errno(&std::io::Error::last_os_error())
}

impl Kernel {
    /// Builds a kernel: the platform, the VFS with `tmpfs` registered, the
    /// root filesystem, a `tmpfs` on `/tmp`, and `/dev` with the memory
    /// devices.
    pub fn new(config: &KernelConfig) -> Result<Arc<Kernel>, String> {
        let mf = match &config.overlay {
            Overlay::File(dir) => MemoryFile::new_in(dir)
                .map_err(|e| format!("--overlay file:{}: {}", dir.display(), e.name()))?,
            Overlay::None | Overlay::Memory => {
                MemoryFile::new().map_err(|e| format!("memory file: {e:?}"))?
            }
        };
        let mf = Arc::new(mf);
        if let Some(limit) = config.memory_limit {
            mf.set_limit(limit);
        }
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
        vfs.set_fifo_provider(Arc::new(crate::pipe::FifoProvider::default()));
        vfs.register_filesystem_type(Arc::new(kernfs::memfs::MemfsType))
            .map_err(|e| format!("registering tmpfs: {e:?}"))?;
        let tasks = Arc::new(TaskSet::default());
        let boot = Instant::now();
        let ipc = Arc::new(crate::ipc::Ipc::default());
        let inet: Arc<crate::net::inet::InetStack> = Arc::default();
        let uts = Arc::new(crate::syscalls::Uts::new(
            config.hostname.as_deref().unwrap_or("sentry").as_bytes(),
        ));
        vfs.register_filesystem_type(Arc::new(ProcType::new(
            tasks.clone(),
            boot,
            ipc.clone(),
            inet.clone(),
            uts.clone(),
        )))
        .map_err(|e| format!("registering proc: {e:?}"))?;
        vfs.register_filesystem_type(Arc::new(crate::ipc::mqueue::MqueueType(ipc.clone())))
            .map_err(|e| format!("registering mqueue: {e:?}"))?;
        vfs.register_filesystem_type(Arc::new(crate::sysfs::SysfsType {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }))
        .map_err(|e| format!("registering sysfs: {e:?}"))?;
        let ptys = crate::pty::Ptys::new(tasks.clone());
        vfs.register_filesystem_type(Arc::new(crate::pty::DevptsType(ptys.clone())))
            .map_err(|e| format!("registering devpts: {e:?}"))?;
        let ctx = kernel_context();
        for fs_type in extfs::vfs::ExtFilesystemType::all() {
            vfs.register_filesystem_type(fs_type)
                .map_err(|e| format!("registering ext4: {e:?}"))?;
        }
        vfs.register_filesystem_type(Arc::new(goferfs::fs::GoferFilesystemType))
            .map_err(|e| format!("registering 9p: {e:?}"))?;
        let mut gofers = Vec::new();
        let opts = MountOptions {
            get_filesystem: vfs_core::GetFilesystemOptions {
                internal_data: memfs_data(platform.memory_file()),
                ..Default::default()
            },
            ..Default::default()
        };
        let root = match &config.root {
            RootSource::HostDir { path, writable } => {
                let (gofer, client) = Gofer::start(&config.gofer, path, !writable)?;
                gofers.push(gofer);
                let opts = gofer_mount_options(
                    client,
                    goferfs::fs::InteropMode::Exclusive,
                    !writable,
                    platform.memory_file(),
                );
                let source = path.as_os_str().as_encoded_bytes();
                vfs.mount_detached(&ctx, source, "9p", &opts)
            }
            RootSource::HostTreeCopy(_) => vfs.mount_detached(&ctx, b"rootfs", "tmpfs", &opts),
            RootSource::Image(image) => {
                let data = image_data(image, platform.memory_file())?;
                let opts = MountOptions {
                    flags: vfs_core::MountOptionFlags::READ_ONLY,
                    get_filesystem: vfs_core::GetFilesystemOptions {
                        data: "ro".into(),
                        internal_data: Some(data),
                        ..Default::default()
                    },
                };
                let source = image.as_os_str().as_encoded_bytes();
                vfs.mount_detached(&ctx, source, "ext4", &opts)
            }
        }
        .map_err(|e| format!("root filesystem: {}", e.name()))?;
        let root = match config.overlay {
            Overlay::None => root,
            Overlay::Memory | Overlay::File(_) => {
                overlay_over(&vfs, &ctx, root, platform.memory_file())
                    .map_err(|e| format!("root overlay: {}", e.name()))?
            }
        };
        let mounts = vfs.new_mount_namespace_from(root);
        match &config.root {
            RootSource::Image(_) | RootSource::HostDir { .. } => {}
            RootSource::HostTreeCopy(dir) => {
                let dev = std::fs::metadata(dir)
                    .map(|m| std::os::unix::fs::MetadataExt::dev(&m))
                    .map_err(|e| format!("{}: {e}", dir.display()))?;
                copy_host_tree(&vfs, &mounts, &ctx, dir, b"/", dev)
                    .and_then(|()| copy_attributes(&vfs, &mounts, &ctx, dir, b"/"))
                    .map_err(|e| format!("copying {}: {e}", dir.display()))?;
            }
        }
        let anon_mount = vfs
            .mount_detached(&ctx, b"anon", "tmpfs", &opts)
            .map_err(|e| format!("anonymous mount: {e:?}"))?;
        let host_mount =
            hostfs::HostFilesystem::new_mount(&vfs).map_err(|e| format!("hostfs mount: {e:?}"))?;
        let debug_log = match &config.debug_log {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("--debug-log {}: {e}", path.display()))?,
            )),
            None => None,
        };
        let mut kernel = Kernel {
            vfs,
            mounts,
            platform,
            anon_mount,
            host_mount,
            controlling_tty: Arc::default(),
            tasks,
            futexes: crate::futex::Futexes::default(),
            syscalls: crate::syscalls::SyscallTable::linux(),
            timers: crate::timers::TimerService::default(),
            next_anon_ino: std::sync::atomic::AtomicU64::new(1),
            unix_names: Arc::new(crate::net::unix::UnixNames::new(
                config.network == Network::Host,
            )),
            inet,
            netlink_ports: Arc::default(),
            network: config.network,
            ipc,
            uts,
            ptys,
            strace: config.strace,
            boot,
            enosys_logged: Mutex::new(HashSet::new()),
            debug_log,
            gofers,
        };
        kernel
            .mount_standard(&ctx, config.mount_tmp)
            .map_err(|e| format!("standard mounts: {e:?}"))?;
        for mount in &config.mounts {
            kernel.mount_host_dir(&ctx, &config.gofer, mount)?;
        }
        Ok(Arc::new(kernel))
    }

    /// Mounts the host directory of `mount` through a new gofer.
    fn mount_host_dir(
        &mut self,
        ctx: &dyn Context,
        launch: &GoferLaunch,
        mount: &HostMount,
    ) -> Result<(), String> {
        let target = String::from_utf8_lossy(&mount.target).into_owned();
        let (gofer, client) = Gofer::start(launch, &mount.source, mount.read_only)?;
        self.gofers.push(gofer);
        let root = self.mounts.root();
        let pop = PathOperation::new(&root, &root, &mount.target);
        // As runsc: missing directories on the way are made too.
        let made = ensure_directories(&self.vfs, ctx, &root, &mount.target);
        let opts = gofer_mount_options(
            client,
            goferfs::fs::InteropMode::Shared,
            mount.read_only,
            self.platform.memory_file(),
        );
        let source = mount.source.as_os_str().as_encoded_bytes();
        let mounted = made.and_then(|()| self.vfs.mount(ctx, source, &pop, "9p", &opts));
        root.release(ctx);
        let mounted = mounted.map_err(|e| format!("--mount on {target}: {}", e.name()))?;
        mounted.release(ctx);
        Ok(())
    }

    /// A new pseudo-terminal of the sandbox's own (`/dev/ptmx`, unlocked):
    /// its master and its replica (`/dev/pts/N`, opened without becoming
    /// anyone's controlling terminal).
    pub fn open_terminal(&self) -> Result<(vfs_core::FileRef, vfs_core::FileRef), Errno> {
        let ctx = kernel_context();
        let root = self.mounts.root();
        let open = |path: &[u8]| {
            self.vfs.open_at(
                &ctx,
                &PathOperation::new(&root, &root, path),
                OpenOptions {
                    flags: abi_linux::OpenFlags::RDWR | abi_linux::OpenFlags::NOCTTY,
                    ..Default::default()
                },
            )
        };
        let opened = open(b"/dev/ptmx").and_then(|master| {
            let Some(index) = crate::pty::unlock(&master) else {
                master.release(&ctx);
                return Err(Errno::ENOTTY);
            };
            match open(format!("/dev/pts/{index}").as_bytes()) {
                Ok(replica) => Ok((master, replica)),
                Err(e) => {
                    master.release(&ctx);
                    Err(e)
                }
            }
        });
        root.release(&ctx);
        opened
    }

    /// Makes the directory `target` and those on the way when missing
    /// (`mkdir -p`, mode 0755).
    pub fn make_directories(&self, target: &[u8]) -> Result<(), Errno> {
        let ctx = kernel_context();
        let root = self.mounts.root();
        let made = ensure_directories(&self.vfs, &ctx, &root, target);
        root.release(&ctx);
        made
    }

    /// Mounts a new filesystem of the sentry's own type `fs_type`
    /// (`tmpfs`, mode 1777; `sysfs`; `proc`) on `target`, making the
    /// directory and those on the way when missing.
    pub fn mount_fs(&self, target: &[u8], fs_type: &str) -> Result<(), Errno> {
        let ctx = kernel_context();
        let root = self.mounts.root();
        let pop = PathOperation::new(&root, &root, target);
        let opts = MountOptions {
            get_filesystem: vfs_core::GetFilesystemOptions {
                data: if fs_type == "tmpfs" {
                    "mode=1777".into()
                } else {
                    String::new()
                },
                internal_data: memfs_data(self.platform.memory_file()),
                ..Default::default()
            },
            ..Default::default()
        };
        let mounted = ensure_directories(&self.vfs, &ctx, &root, target).and_then(|()| {
            self.vfs
                .mount(&ctx, fs_type.as_bytes(), &pop, fs_type, &opts)
        });
        root.release(&ctx);
        mounted.map(|mount| mount.release(&ctx))
    }

    /// Writes a file at `target` (mode 0644, replacing one there) with
    /// `contents`, making the directories on the way when missing.
    pub fn install_file(&self, target: &[u8], contents: &[u8]) -> Result<(), Errno> {
        let ctx = kernel_context();
        let root = self.mounts.root();
        let parent = target
            .iter()
            .rposition(|&b| b == b'/')
            .map_or(&target[..0], |i| &target[..i]);
        let written = (|| {
            if !parent.is_empty() {
                ensure_directories(&self.vfs, &ctx, &root, parent)?;
            }
            let pop = PathOperation::new(&root, &root, target);
            let file = self.vfs.open_at(
                &ctx,
                &pop,
                OpenOptions {
                    flags: abi_linux::OpenFlags::WRONLY
                        | abi_linux::OpenFlags::CREAT
                        | abi_linux::OpenFlags::TRUNC,
                    mode: 0o644,
                    ..Default::default()
                },
            )?;
            let mut src = vfs_core::io::SliceSource::new(contents);
            let result = file.write(&ctx, &mut src, WriteOptions::default());
            file.release(&ctx);
            match result {
                Ok(n) if n == contents.len() => Ok(()),
                Ok(_) => Err(Errno::EIO),
                Err(e) => Err(e),
            }
        })();
        root.release(&ctx);
        written
    }

    /// Finds a program named without a slash on the `PATH` of its
    /// environment (or the default one), as runc does before it starts a
    /// container's process; leaves `argv[0]` as it is when nothing is
    /// found (the start then fails with `ENOENT`).
    pub fn resolve_program(&self, program: &mut crate::ProgramSpec) {
        let Some(name) = program.argv.first().filter(|n| !n.contains(&b'/')).cloned() else {
            return;
        };
        let path = program
            .envp
            .iter()
            .find_map(|e| e.strip_prefix(b"PATH="))
            .unwrap_or(b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .to_vec();
        let ctx = kernel_context();
        let root = self.mounts.root();
        for dir in path.split(|&b| b == b':').filter(|d| !d.is_empty()) {
            let mut candidate = dir.to_vec();
            candidate.push(b'/');
            candidate.extend_from_slice(&name);
            let pop = PathOperation::new(&root, &root, &candidate);
            let found = self
                .vfs
                .stat_at(&ctx, &pop, vfs_core::StatOptions::default())
                .is_ok_and(|st| {
                    u32::from(st.stx_mode) & abi_linux::S_IFMT == abi_linux::S_IFREG
                        && st.stx_mode & 0o111 != 0
                });
            if found {
                program.argv[0] = candidate;
                break;
            }
        }
        root.release(&ctx);
    }

    /// Mounts `tmpfs` on `/tmp`, `/dev` and `/dev/shm` (POSIX shared
    /// memory and semaphores live there), `proc` on `/proc`, the
    /// sandbox's own `sysfs` on the root's `/sys` if it has one (so
    /// nothing of the host's shows there), and creates the device nodes.
    fn mount_standard(&self, ctx: &dyn Context, tmp: bool) -> Result<(), Errno> {
        let root = self.mounts.root();
        let all = [
            (&b"/tmp"[..], 0o1777, "tmpfs"),
            (b"/dev", 0o755, "tmpfs"),
            (b"/dev/shm", 0o1777, "tmpfs"),
            (b"/dev/pts", 0o755, "devpts"),
            (b"/proc", 0o555, "proc"),
            (b"/sys", 0o555, "sysfs"),
        ];
        for (dir, mode, fs_type) in all.into_iter().filter(|&(dir, ..)| tmp || dir != b"/tmp") {
            let pop = PathOperation::new(&root, &root, dir);
            if fs_type == "sysfs" {
                // Only over a /sys the root has (made nowhere, least of
                // all in a writable host directory).
                let is_dir = self
                    .vfs
                    .stat_at(ctx, &pop, vfs_core::StatOptions::default())
                    .is_ok_and(|st| {
                        u32::from(st.stx_mode) & abi_linux::S_IFMT == abi_linux::S_IFDIR
                    });
                if !is_dir {
                    continue;
                }
            }
            ensure_directory(&self.vfs, ctx, &pop, mode)?;
            let data = if fs_type == "tmpfs" {
                format!("mode={mode:o}")
            } else {
                String::new()
            };
            let opts = MountOptions {
                get_filesystem: vfs_core::GetFilesystemOptions {
                    data,
                    internal_data: memfs_data(self.platform.memory_file()),
                    ..Default::default()
                },
                ..Default::default()
            };
            let mount = self
                .vfs
                .mount(ctx, fs_type.as_bytes(), &pop, fs_type, &opts)?;
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
        let tty = PathOperation::new(&root, &root, b"/dev/tty");
        self.vfs.mknod_at(
            ctx,
            &tty,
            MknodOptions {
                mode: abi_linux::S_IFCHR | 0o666,
                dev_major: devices::TTY_DEVICE.0,
                dev_minor: devices::TTY_DEVICE.1,
            },
        )?;
        devices::register_tty(&self.vfs, &self.controlling_tty, &self.ptys)?;
        let ptmx = PathOperation::new(&root, &root, b"/dev/ptmx");
        self.vfs.mknod_at(
            ctx,
            &ptmx,
            MknodOptions {
                mode: abi_linux::S_IFCHR | 0o666,
                dev_major: crate::pty::PTMX_DEVICE.0,
                dev_minor: crate::pty::PTMX_DEVICE.1,
            },
        )?;
        let stat = self
            .vfs
            .stat_at(ctx, &ptmx, vfs_core::StatOptions::default())?;
        crate::pty::register(&self.vfs, &self.ptys, stat)?;
        for (name, target) in [
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
            ("fd", "/proc/self/fd"),
        ] {
            let path = format!("/dev/{name}");
            let pop = PathOperation::new(&root, &root, path.as_bytes());
            self.vfs.symlink_at(ctx, &pop, target.as_bytes())?;
        }
        root.release(ctx);
        Ok(())
    }

    /// Imports host descriptors as 0, 1 and 2 through hostfs into `fds`,
    /// as terminals when they are ones.
    pub fn import_stdio(
        &self,
        ctx: &dyn Context,
        fds: &FdTable,
        stdio: [Option<std::os::fd::OwnedFd>; 3],
    ) -> Result<(), String> {
        use std::io::IsTerminal;

        for (fd, owned) in stdio.into_iter().enumerate() {
            // A descriptor missing on the host stays closed in the sandbox
            // too.
            let Some(owned) = owned else { continue };
            let opts = hostfs::ImportOptions {
                is_tty: owned.is_terminal(),
                ..Default::default()
            };
            let file = hostfs::import_fd(ctx, &self.host_mount, owned, &opts)
                .map_err(|e| format!("importing host fd {fd}: {}", e.name()))?;
            // The description shares the host's file offset (hostfs), so
            // output lands where the parent left it and the parent's next
            // write lands after the sandbox's.
            if opts.is_tty {
                self.controlling_tty.set_if_unset(&file);
            }
            if let Ok(Some(old)) = fds.set(fd as i32, file, false, crate::task::NR_OPEN) {
                old.release(ctx);
            }
        }
        Ok(())
    }

    /// Logs an unimplemented system call the first time it is seen, to
    /// the debug log, and to standard error under `--strace`. Numbers past
    /// the table share one entry, so the record stays bounded whatever
    /// numbers a program tries.
    pub fn log_enosys(&self, nr: u64) {
        if self.debug_log.is_none() && !self.strace {
            return;
        }
        let key = if nr <= u64::from(abi_linux::syscalls::x86_64::MAX) {
            nr
        } else {
            u64::MAX
        };
        let first = self
            .enosys_logged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
        if first {
            let name = u32::try_from(nr)
                .ok()
                .and_then(abi_linux::syscalls::x86_64::name)
                .unwrap_or("unknown");
            self.diagnostic(&format!("unsupported system call {name} ({nr}): ENOSYS"));
        }
    }

    /// Writes one line of the sentry's own diagnostics.
    pub fn diagnostic(&self, line: &str) {
        use std::io::Write;
        if let Some(log) = &self.debug_log {
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(log, "sentry: {line}");
        }
        if self.strace {
            eprintln!("sentry: {line}");
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
/// modes, owners and times. Other file types are skipped, and so is the
/// content of directories on another host filesystem than `dev` (the
/// tree's).
fn copy_host_tree(
    vfs: &Arc<VirtualFilesystem>,
    ns: &MountNamespace,
    ctx: &dyn Context,
    host: &Path,
    path: &[u8],
    dev: u64,
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
        let other_mount = std::os::unix::fs::MetadataExt::dev(&meta) != dev;
        let step = if ft.is_dir() && other_mount {
            // Like `cp -x`: another filesystem mounted in the tree (a
            // native `proc`) leaves an empty directory.
            vfs.mkdir_at(
                ctx,
                &pop,
                MkdirOptions {
                    mode: 0o700,
                    for_synthetic_mountpoint: false,
                },
            )
            .map_err(|e| format!("{e:?}"))
        } else if ft.is_dir() {
            vfs.mkdir_at(
                ctx,
                &pop,
                MkdirOptions {
                    mode: 0o700,
                    for_synthetic_mountpoint: false,
                },
            )
            .map_err(|e| format!("{e:?}"))
            .and_then(|()| copy_host_tree(vfs, ns, ctx, &hp, &vp, dev))
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
