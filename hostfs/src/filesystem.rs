//! [`HostFilesystem`]: the filesystem every imported descriptor lives on,
//! mounted nowhere (a disconnected mount), and [`import_fd`], which turns
//! a host descriptor into a file description on it (gVisor's
//! `host.NewFilesystem` and `host.NewFD`).
//!
//! # Reference model
//!
//! The disconnected mount holds the VFS filesystem, whose implementation
//! is a [`HostFilesystem`] wrapping a kernfs filesystem; every imported
//! description holds the mount and its own parentless kernfs dentry, which
//! holds the [`HostInode`]. The anonymous device minor allocated by
//! [`HostFilesystem::new_mount`] goes back to the VFS when the last reference to
//! the filesystem goes (kernfs's release).

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use abi_linux::{Errno, FileType, OpenFlags, Statfs, Statx};
use kernfs::{FilesystemOptions, StaticDirectory};
use vfs_core::permissions::AccessTypes;
use vfs_core::{
    Context, Credentials, DentryImpl, DentryRef, FileRef, FilesystemImpl, GetDentryOptions, Gid,
    MountOptionFlags, MountRef, OpenOptions, PathResult, ResolvingPath, SetStatOptions,
    StatOptions, Uid, VirtualFilesystem,
};

use crate::host_fd::{HostFd, host_errno};
use crate::inode::{HostInode, HostInodeOptions};
use crate::tty::{JobControl, TtyState};

/// The name of the filesystem type in `/proc/self/mounts`.
pub const FS_TYPE: &str = "hostfs";

/// The filesystem of imported host descriptors.
pub struct HostFilesystem {
    kernfs: Arc<kernfs::Filesystem>,
}

impl HostFilesystem {
    /// Creates the filesystem, with an anonymous device number from `vfs`,
    /// and returns its disconnected mount: what [`import_fd`] imports into.
    pub fn new_mount(vfs: &Arc<VirtualFilesystem>) -> Result<MountRef, Errno> {
        let kernfs = kernfs::Filesystem::new(
            vfs,
            FilesystemOptions {
                max_cached_dentries: 0,
                magic: 0,
                mount_options: String::new(),
            },
        )?;
        let root_inode =
            match StaticDirectory::new(&kernfs, &Credentials::root(), 0o555, Vec::new()) {
                Ok(root) => root,
                Err(e) => {
                    vfs.put_anonymous_block_dev_minor(abi_linux::dev_minor(kernfs.dev()));
                    return Err(e);
                }
            };
        let host = Arc::new(HostFilesystem {
            kernfs: Arc::clone(&kernfs),
        });
        let vfs_fs = vfs_core::Filesystem::new(vfs, FS_TYPE, kernfs.dev(), host);
        let root = kernfs.new_root(root_inode);
        Ok(vfs.new_disconnected_mount(vfs_fs, root, MountOptionFlags::empty()))
    }

    /// The kernfs filesystem underneath.
    pub fn kernfs(&self) -> &Arc<kernfs::Filesystem> {
        &self.kernfs
    }
}

impl FilesystemImpl for HostFilesystem {
    fn release(&self, ctx: &dyn Context) {
        self.kernfs.release(ctx);
    }

    fn access_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        access: AccessTypes,
    ) -> PathResult<()> {
        self.kernfs.access_at(ctx, rp, access)
    }

    fn get_dentry_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: GetDentryOptions,
    ) -> PathResult<DentryRef> {
        self.kernfs.get_dentry_at(ctx, rp, opts)
    }

    fn get_parent_dentry_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<DentryRef> {
        self.kernfs.get_parent_dentry_at(ctx, rp)
    }

    fn open_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        self.kernfs.open_at(ctx, rp, opts)
    }

    fn set_stat_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: SetStatOptions,
    ) -> PathResult<()> {
        self.kernfs.set_stat_at(ctx, rp, opts)
    }

    fn stat_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: StatOptions,
    ) -> PathResult<Statx> {
        self.kernfs.stat_at(ctx, rp, opts)
    }

    fn statfs_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Statfs> {
        self.kernfs.statfs_at(ctx, rp)
    }

    fn parent_and_name(&self, dentry: &dyn DentryImpl) -> Option<(DentryRef, Vec<u8>)> {
        self.kernfs.parent_and_name(dentry)
    }
}

/// How [`import_fd`] imports a descriptor.
#[derive(Clone, Default)]
pub struct ImportOptions {
    /// The descriptor is a terminal: the description answers the terminal
    /// `ioctl`s.
    pub is_tty: bool,
    /// The description's status flags; `None` takes the host descriptor's
    /// (`F_GETFL`). Either way only the access mode, `O_NONBLOCK`,
    /// `O_DSYNC`, `O_SYNC`, `O_APPEND` and `O_DIRECT` are kept.
    pub flags: Option<OpenFlags>,
    /// Refuse everything that could change the host file (writes,
    /// `set_stat`, `fsync`, `fallocate`: `EPERM`). The host descriptor must
    /// be open read-only, and a terminal cannot be imported read-only.
    pub readonly: bool,
    /// The owner the sandbox sees (and may change with `chown`) instead of
    /// the host's; the mode is then kept in the sandbox too.
    pub virtual_owner: Option<(Uid, Gid)>,
    /// Job control for a terminal (see [`JobControl`]).
    pub job_control: Option<Arc<dyn JobControl>>,
}

impl std::fmt::Debug for ImportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("is_tty", &self.is_tty)
            .field("flags", &self.flags)
            .field("readonly", &self.readonly)
            .field("virtual_owner", &self.virtual_owner)
            .field("job_control", &self.job_control.is_some())
            .finish()
    }
}

/// Whether a socket is a Unix domain socket.
fn is_unix_socket(fd: &OwnedFd) -> bool {
    use nix::sys::socket::{AddressFamily, SockaddrLike, SockaddrStorage, getsockname};
    getsockname::<SockaddrStorage>(fd.as_raw_fd())
        .is_ok_and(|addr| addr.family() == Some(AddressFamily::Unix))
}

/// Imports `host_fd` into `mount` (a mount from [`HostFilesystem::new_mount`])
/// as a new file description, taking ownership of the descriptor: it is
/// closed when the last reference to the description (and to mappings of
/// it) goes, or at once if the import fails.
///
/// Regular files, FIFOs, character devices and Unix domain sockets may be
/// imported; anything else (directories, symbolic links, block devices,
/// other sockets, anonymous files such as epoll or event descriptors) is
/// `EPERM`. A regular file that cannot seek is `ESPIPE`; a socket imported
/// as a terminal is `ENOTTY`, as is a terminal import of a descriptor that
/// is not one. `EINVAL` for a mount of another filesystem, a read-only
/// terminal, or a read-only import of a descriptor open for writing.
///
/// # Examples
///
/// ```
/// use std::os::fd::OwnedFd;
/// use hostfs::{HostFilesystem, ImportOptions, import_fd};
/// use vfs_core::io::SliceSource;
/// use vfs_core::{SimpleContext, VirtualFilesystem, WriteOptions};
///
/// let ctx = SimpleContext::root();
/// let vfs = VirtualFilesystem::new();
/// let mount = HostFilesystem::new_mount(&vfs).unwrap();
/// let (reader, writer) = nix::unistd::pipe().unwrap();
/// let file = import_fd(&ctx, &mount, writer, &ImportOptions::default()).unwrap();
/// let n = file.write(&ctx, &mut SliceSource::new(b"hello"), WriteOptions::default()).unwrap();
/// assert_eq!(n, 5);
/// let mut buf = [0u8; 5];
/// assert_eq!(nix::unistd::read(&reader, &mut buf), Ok(5));
/// assert_eq!(&buf, b"hello");
/// file.release(&ctx);
/// mount.release(&ctx);
/// ```
pub fn import_fd(
    ctx: &dyn Context,
    mount: &MountRef,
    host_fd: OwnedFd,
    opts: &ImportOptions,
) -> Result<FileRef, Errno> {
    let fs = mount
        .filesystem()
        .downcast::<HostFilesystem>()
        .ok_or(Errno::EINVAL)?;
    let host_flags = || -> Result<OpenFlags, Errno> {
        let raw = nix::fcntl::fcntl(&host_fd, nix::fcntl::FcntlArg::F_GETFL).map_err(host_errno)?;
        Ok(OpenFlags::from_bits_retain(raw as u32))
    };
    if opts.readonly {
        if opts.is_tty {
            return Err(Errno::EINVAL);
        }
        if host_flags()?.access_mode() != abi_linux::AccessMode::ReadOnly {
            return Err(Errno::EINVAL);
        }
    }
    let st = nix::sys::stat::fstat(&host_fd).map_err(host_errno)?;
    let flags = match opts.flags {
        Some(flags) => flags,
        None => host_flags()?,
    };
    let file_type = abi_linux::FileMode(st.st_mode).file_type();
    let file_type = match file_type {
        Some(FileType::Regular | FileType::Fifo | FileType::CharDevice) => file_type,
        Some(FileType::Socket) if is_unix_socket(&host_fd) => file_type,
        _ => None,
    };
    let Some(file_type) = file_type else {
        eprintln!(
            "hostfs: refusing to import host fd {} of mode {:o}: only regular files, FIFOs, character devices and Unix sockets can be imported",
            host_fd.as_raw_fd(),
            st.st_mode
        );
        return Err(Errno::EPERM);
    };
    if opts.is_tty && file_type == FileType::Socket {
        eprintln!(
            "hostfs: host socket fd {} cannot be a TTY",
            host_fd.as_raw_fd()
        );
        return Err(Errno::ENOTTY);
    }
    let seekable = !matches!(
        nix::unistd::lseek(&host_fd, 0, nix::unistd::Whence::SeekCur),
        Err(nix::errno::Errno::ESPIPE)
    );
    if !seekable && file_type == FileType::Regular {
        eprintln!(
            "hostfs: host fd {} is a regular file that cannot seek",
            host_fd.as_raw_fd()
        );
        return Err(Errno::ESPIPE);
    }
    let host = HostFd::new(host_fd);
    let tty = if opts.is_tty {
        Some(TtyState::new(&host, opts.job_control.clone())?)
    } else {
        None
    };
    let kernfs = fs.kernfs();
    let inode = HostInode::new(
        kernfs.next_ino(),
        host,
        st.st_mode,
        HostInodeOptions {
            file_type,
            seekable,
            readonly: opts.readonly,
            dev_minor: abi_linux::dev_minor(kernfs.dev()),
            virtual_owner: opts.virtual_owner.map(|(uid, gid)| (uid, gid, st.st_mode)),
            tty,
        },
    )?;
    let dentry = kernfs.new_root(Arc::clone(&inode) as Arc<dyn kernfs::Inode>);
    let file = inode.new_file(mount, &dentry, flags);
    dentry.release(ctx);
    Ok(file)
}
