//! Mounts, mount namespaces and [`VirtualDentry`].
//!
//! # Reference model
//!
//! A [`Mount`] holds a reference on its filesystem and on its root dentry.
//! While it is attached, it holds a reference on its parent mount and on the
//! dentry it is mounted on (both inside [`Mount::mount_point`]), and its
//! parent's tree holds one reference on it (the "tree reference"), which
//! unmounting drops. A [`VirtualDentry`] (mount + dentry) holds one
//! reference on each. A mount namespace holds its root mount.
//!
//! When a mount's count reaches zero it releases its root dentry and its
//! filesystem.
//!
//! # Locking
//!
//! Topology changes (mount, unmount, bind) take the VFS's mount lock, then
//! the dentry lock of the mount point, then the mount table's write lock.
//! Path resolution reads the mount table under its read lock only, after
//! an atomic check that anything is mounted on the dentry at all.

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use abi_linux::MountFlags;

use crate::context::Context;
use crate::dentry::{DentryImpl, DentryRef, same_dentry};
use crate::filesystem::{Filesystem, FilesystemRef};
use crate::handle::{Handle, RefCounted};
use crate::vfs::VirtualFilesystem;

bitflags::bitflags! {
    /// Per-mount flags that the VFS enforces (a subset of `MS_*`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct MountOptionFlags: u32 {
        /// Writes are refused with `EROFS`.
        const READ_ONLY = 1;
        /// Set-user-ID and set-group-ID bits are ignored at exec.
        const NO_SUID = 2;
        /// Device files cannot be opened (`EACCES`).
        const NO_DEV = 4;
        /// Files cannot be executed (`EACCES`).
        const NO_EXEC = 8;
        /// Access times are not updated.
        const NO_ATIME = 16;
        /// Directory access times are not updated.
        const NO_DIR_ATIME = 32;
        /// Access times are updated relative to mtime/ctime.
        const REL_ATIME = 64;
    }
}

impl MountOptionFlags {
    /// The per-mount flags in a `mount(2)` flag word.
    pub fn from_mount_flags(flags: MountFlags) -> Self {
        let mut out = Self::empty();
        for (ms, ours) in [
            (MountFlags::RDONLY, Self::READ_ONLY),
            (MountFlags::NOSUID, Self::NO_SUID),
            (MountFlags::NODEV, Self::NO_DEV),
            (MountFlags::NOEXEC, Self::NO_EXEC),
            (MountFlags::NOATIME, Self::NO_ATIME),
            (MountFlags::NODIRATIME, Self::NO_DIR_ATIME),
            (MountFlags::RELATIME, Self::REL_ATIME),
        ] {
            if flags.contains(ms) {
                out |= ours;
            }
        }
        out
    }
}

/// A mount: a filesystem's subtree attached somewhere in a namespace (or
/// nowhere, for internal and detached mounts).
pub struct Mount {
    id: u64,
    pub(crate) vfs: Weak<VirtualFilesystem>,
    // The mount's own counted references, given back when it is destroyed.
    fs: Arc<Filesystem>,
    root: Arc<dyn DentryImpl>,
    flags: AtomicU64,
    refs: refs::RefCount,
    registration: spin::Mutex<Option<refs::Registration>>,
    pub(crate) state: spin::Mutex<MountState>,
}

/// The parts of a mount that change with the topology.
#[derive(Default)]
pub(crate) struct MountState {
    /// Where the mount is attached: the parent mount and the dentry it
    /// covers, one reference each. `None` for namespace roots and detached
    /// mounts.
    pub(crate) point: Option<VirtualDentry>,
    /// Attached child mounts (each holds a tree reference taken for it).
    pub(crate) children: Vec<Arc<Mount>>,
    /// The namespace the mount belongs to.
    pub(crate) namespace: Option<Weak<MountNamespace>>,
    /// Set once the mount has been unmounted.
    pub(crate) umounted: bool,
    /// The device name shown in `/proc/self/mounts`.
    pub(crate) source: String,
    /// The mount's root within its filesystem, as mountinfo's fourth field.
    pub(crate) root_path: String,
}

/// One counted reference to a mount.
pub type MountRef = Handle<Mount>;

impl Mount {
    pub(crate) fn new(
        vfs: &Arc<VirtualFilesystem>,
        fs: FilesystemRef,
        root: DentryRef,
        flags: MountOptionFlags,
        source: String,
    ) -> MountRef {
        let mount = Arc::new_cyclic(|weak| Self {
            id: vfs.next_id(),
            vfs: Arc::downgrade(vfs),
            fs: fs.into_counted_arc(),
            root: root.into_counted_arc(),
            flags: AtomicU64::new(u64::from(flags.bits())),
            refs: refs::RefCount::new(),
            registration: spin::Mutex::new(Some(refs::Registration::new_cyclic(
                weak,
                "vfs::Mount",
            ))),
            state: spin::Mutex::new(MountState {
                source,
                root_path: String::from("/"),
                ..MountState::default()
            }),
        });
        Handle::adopt(mount)
    }

    /// A unique identifier (mountinfo's first field).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The mounted filesystem.
    pub fn filesystem(&self) -> &Arc<Filesystem> {
        &self.fs
    }

    /// The root dentry of the mount.
    pub fn root(&self) -> &Arc<dyn DentryImpl> {
        &self.root
    }

    /// A new reference to the root dentry.
    pub fn root_ref(&self) -> DentryRef {
        DentryRef::new_ref(&self.root)
    }

    /// Whether `dentry` is this mount's root.
    pub fn is_root(&self, dentry: &dyn DentryImpl) -> bool {
        same_dentry(&*self.root, dentry)
    }

    /// The mount's flags.
    pub fn flags(&self) -> MountOptionFlags {
        MountOptionFlags::from_bits_truncate(self.flags.load(Ordering::Acquire) as u32)
    }

    /// Replaces the mount's flags (`MS_REMOUNT|MS_BIND`).
    pub fn set_flags(&self, flags: MountOptionFlags) {
        self.flags.store(u64::from(flags.bits()), Ordering::Release);
    }

    /// Whether writes through this mount are refused with `EROFS`.
    pub fn is_read_only(&self) -> bool {
        self.flags().contains(MountOptionFlags::READ_ONLY)
    }

    /// `EROFS` if the mount is read-only (the check write paths make
    /// before touching the filesystem).
    pub fn check_writable(&self) -> Result<(), abi_linux::Errno> {
        if self.is_read_only() {
            Err(abi_linux::Errno::EROFS)
        } else {
            Ok(())
        }
    }

    /// The parent mount and the dentry this mount covers, with a reference
    /// on each, or `None` for a namespace root or a detached mount.
    pub fn mount_point(&self) -> Option<VirtualDentry> {
        self.state.lock().point.clone()
    }

    /// Whether the mount has been unmounted.
    pub fn is_umounted(&self) -> bool {
        self.state.lock().umounted
    }

    /// The current reference count, for tests and debugging.
    pub fn ref_count(&self) -> i64 {
        self.refs.count()
    }
}

impl RefCounted for Mount {
    fn inc_ref(&self) {
        self.refs.inc_ref(self);
    }

    fn try_inc_ref(&self) -> bool {
        self.refs.try_inc_ref()
    }

    fn dec_ref(&self, ctx: &dyn Context) {
        self.refs.dec_ref(self, || {
            // The root dentry and filesystem references are the mount's
            // own; they go with it. A detached mount has no mount point.
            let point = self.state.lock().point.take();
            if let Some(point) = point {
                point.release(ctx);
            }
            self.root.dec_ref(ctx);
            self.fs.dec_ref(ctx);
            self.registration.lock().take();
        });
    }
}

impl refs::CheckedObject for Mount {
    fn ref_type(&self) -> &'static str {
        "vfs::Mount"
    }

    fn leak_message(&self) -> String {
        alloc::format!(
            "[vfs::Mount {}] fs={} refs={}",
            self.id,
            self.fs.fs_type(),
            self.refs.count()
        )
    }
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount")
            .field("id", &self.id)
            .field("fs", &self.fs.fs_type())
            .finish()
    }
}

/// A location in the VFS: a dentry as seen through a mount, with one
/// reference on each.
#[derive(Clone)]
pub struct VirtualDentry {
    /// The mount.
    pub mount: MountRef,
    /// The dentry, which belongs to the mount's filesystem.
    pub dentry: DentryRef,
}

impl VirtualDentry {
    /// Pairs `mount` and `dentry`.
    pub fn new(mount: MountRef, dentry: DentryRef) -> Self {
        Self { mount, dentry }
    }

    /// Whether both name the same mount and dentry.
    pub fn same(&self, other: &VirtualDentry) -> bool {
        MountRef::ptr_eq(&self.mount, &other.mount) && self.dentry.same(&other.dentry)
    }

    /// Gives both references back with `ctx`.
    pub fn release(self, ctx: &dyn Context) {
        self.dentry.release(ctx);
        self.mount.release(ctx);
    }
}

impl fmt::Debug for VirtualDentry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualDentry")
            .field("mount", &self.mount.id())
            .field("dentry", &self.dentry)
            .finish()
    }
}

/// A mount namespace: a tree of mounts with a root.
pub struct MountNamespace {
    id: u64,
    // Changes only through `pivot_root`, under the VFS's mount lock.
    root: spin::Mutex<MountRef>,
}

impl MountNamespace {
    pub(crate) fn new(id: u64, root: MountRef) -> Arc<Self> {
        root.state.lock().namespace = None;
        let ns = Arc::new(Self {
            id,
            root: spin::Mutex::new(root),
        });
        ns.root.lock().state.lock().namespace = Some(Arc::downgrade(&ns));
        ns
    }

    /// Replaces the root mount, returning the old one.
    ///
    /// # Preconditions
    ///
    /// The VFS's mount lock is held.
    pub(crate) fn replace_root(&self, root: MountRef) -> MountRef {
        core::mem::replace(&mut *self.root.lock(), root)
    }

    /// A unique identifier.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The namespace's root mount.
    pub fn root_mount(&self) -> MountRef {
        self.root.lock().clone()
    }

    /// The root of the namespace: its root mount's root dentry.
    pub fn root(&self) -> VirtualDentry {
        let mount = self.root_mount();
        let dentry = mount.root_ref();
        VirtualDentry::new(mount, dentry)
    }
}

impl fmt::Debug for MountNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MountNamespace")
            .field("id", &self.id)
            .finish()
    }
}
