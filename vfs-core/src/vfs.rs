//! [`VirtualFilesystem`]: the registry of filesystem types and devices,
//! the mount table, and the syscall-level entry points.
//!
//! # Locking
//!
//! Lock order: `mount_lock` (topology changes) → a mount's `state` →
//! `mount_table` (written only under `mount_lock`; read without it on the
//! path-resolution hot path) → the dentry state word (atomic, see
//! [`crate::dentry`]). Filesystem locks are taken by filesystems inside
//! their operations, never while the VFS holds one of these.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write as _;

use abi_linux::{
    Errno, InotifyMask, OpenFlags, RenameFlags, ResolveFlags, Statfs, Statx, UmountFlags,
};
use hashbrown::HashMap;

use crate::context::Context;
use crate::dentry::{DentryImpl, DentryRef};
use crate::device::{Device, DeviceKind};
use crate::file_description::FileRef;
use crate::filesystem::{FilesystemRef, FilesystemType, GetFilesystemOptions, IdAllocator};
use crate::mount::{Mount, MountNamespace, MountOptionFlags, MountRef, VirtualDentry};
use crate::opath::OpathFile;
use crate::options::{
    GetDentryOptions, GetXattrOptions, MkdirOptions, MknodOptions, OpenOptions, RenameOptions,
    SetStatOptions, SetXattrOptions, StatOptions,
};
use crate::permissions::AccessTypes;
use crate::resolving_path::{PathError, PathOperation, PathResult, ResolvingPath};

/// Key of the mount table: the parent mount's ID and the address of the
/// covered dentry.
type MountKey = (u64, usize);

fn dentry_key(dentry: &dyn DentryImpl) -> usize {
    (dentry as *const dyn DentryImpl).cast::<()>() as usize
}

/// Registered devices by kind, major and minor number.
type DeviceTable = BTreeMap<(DeviceKind, u32, u32), Arc<dyn Device>>;

/// Options for [`VirtualFilesystem::mount`].
#[derive(Clone, Debug, Default)]
pub struct MountOptions {
    /// Per-mount flags.
    pub flags: MountOptionFlags,
    /// Options for the filesystem type.
    pub get_filesystem: GetFilesystemOptions,
}

/// The virtual filesystem.
pub struct VirtualFilesystem {
    ids: IdAllocator,
    mount_lock: spin::Mutex<()>,
    mount_table: spin::RwLock<HashMap<MountKey, Vec<Arc<Mount>>>>,
    fs_types: spin::RwLock<BTreeMap<String, Arc<dyn FilesystemType>>>,
    devices: spin::RwLock<DeviceTable>,
    /// What opens named FIFOs, when the embedder has pipes.
    fifos: spin::RwLock<Option<Arc<dyn Device>>>,
    anon_minors: spin::Mutex<BTreeSet<u32>>,
}

/// Anonymous block devices use major 0, like Linux's `get_anon_bdev`;
/// minor 0 is never handed out.
const MAX_ANON_MINOR: u32 = (1 << 20) - 1;

impl VirtualFilesystem {
    /// An empty VFS: no filesystem types, no devices, no mounts.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            ids: IdAllocator::new(),
            mount_lock: spin::Mutex::new(()),
            mount_table: spin::RwLock::new(HashMap::new()),
            fs_types: spin::RwLock::new(BTreeMap::new()),
            devices: spin::RwLock::new(BTreeMap::new()),
            fifos: spin::RwLock::new(None),
            anon_minors: spin::Mutex::new(BTreeSet::new()),
        })
    }

    /// A fresh identifier for a mount, filesystem or description.
    pub(crate) fn next_id(&self) -> u64 {
        self.ids.next()
    }

    // ---- Filesystem types -------------------------------------------------

    /// Registers a filesystem type; `EEXIST` if the name is taken.
    pub fn register_filesystem_type(&self, fs_type: Arc<dyn FilesystemType>) -> Result<(), Errno> {
        let mut types = self.fs_types.write();
        let name = String::from(fs_type.name());
        if types.contains_key(&name) {
            return Err(Errno::EEXIST);
        }
        types.insert(name, fs_type);
        Ok(())
    }

    /// The filesystem type called `name`.
    pub fn filesystem_type(&self, name: &str) -> Option<Arc<dyn FilesystemType>> {
        self.fs_types.read().get(name).cloned()
    }

    /// The text of `/proc/filesystems`.
    pub fn proc_filesystems(&self) -> String {
        let mut text = String::new();
        for fs_type in self.fs_types.read().values() {
            let flags = fs_type.flags();
            if flags.contains(crate::filesystem::FilesystemTypeFlags::INTERNAL) {
                continue;
            }
            let nodev = if flags.contains(crate::filesystem::FilesystemTypeFlags::REQUIRES_DEVICE) {
                ""
            } else {
                "nodev"
            };
            let _ = writeln!(text, "{nodev}\t{}", fs_type.name());
        }
        text
    }

    // ---- Devices ------------------------------------------------------------

    /// Allocates a minor number for an anonymous block device (major 0):
    /// the device number of a filesystem without a backing device.
    pub fn get_anonymous_block_dev_minor(&self) -> Result<u32, Errno> {
        let mut used = self.anon_minors.lock();
        let mut candidate = 1;
        for &minor in used.iter() {
            if minor != candidate {
                break;
            }
            candidate += 1;
        }
        if candidate > MAX_ANON_MINOR {
            return Err(Errno::EMFILE);
        }
        used.insert(candidate);
        Ok(candidate)
    }

    /// Releases a minor number from [`Self::get_anonymous_block_dev_minor`].
    pub fn put_anonymous_block_dev_minor(&self, minor: u32) {
        self.anon_minors.lock().remove(&minor);
    }

    /// Registers a device; `EEXIST` when the number is taken.
    pub fn register_device(
        &self,
        kind: DeviceKind,
        major: u32,
        minor: u32,
        device: Arc<dyn Device>,
    ) -> Result<(), Errno> {
        let mut devices = self.devices.write();
        if devices.contains_key(&(kind, major, minor)) {
            return Err(Errno::EEXIST);
        }
        devices.insert((kind, major, minor), device);
        Ok(())
    }

    /// Opens the device a device special file names: `ENXIO` when no device
    /// is registered with that number (Linux's answer for a node without a
    /// driver).
    #[expect(
        clippy::too_many_arguments,
        reason = "the device number is three values and the open needs its location and options"
    )]
    pub fn open_device_special_file(
        &self,
        ctx: &dyn Context,
        mount: &MountRef,
        dentry: &DentryRef,
        kind: DeviceKind,
        major: u32,
        minor: u32,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        if mount.flags().contains(MountOptionFlags::NO_DEV) {
            return Err(Errno::EACCES);
        }
        let device = self
            .devices
            .read()
            .get(&(kind, major, minor))
            .cloned()
            .ok_or(Errno::ENXIO)?;
        device.open(ctx, mount, dentry, opts)
    }

    /// Plugs in what opens named FIFOs (the embedder's pipes): filesystems
    /// call [`Self::open_fifo`] when a FIFO node is opened.
    pub fn set_fifo_provider(&self, provider: Arc<dyn Device>) {
        *self.fifos.write() = Some(provider);
    }

    /// Opens the named FIFO at `mount`/`dentry` through the provider;
    /// `ENXIO` without one.
    pub fn open_fifo(
        &self,
        ctx: &dyn Context,
        mount: &MountRef,
        dentry: &DentryRef,
        opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        let provider = self.fifos.read().clone().ok_or(Errno::ENXIO)?;
        provider.open(ctx, mount, dentry, opts)
    }

    // ---- Mounts -------------------------------------------------------------

    /// Creates a mount of `fs` that is attached nowhere (for filesystems
    /// the sentry uses internally: pipes, sockets, hostfs).
    pub fn new_disconnected_mount(
        self: &Arc<Self>,
        fs: FilesystemRef,
        root: DentryRef,
        flags: MountOptionFlags,
    ) -> MountRef {
        let source = String::from(fs.fs_type());
        Mount::new(self, fs, root, flags, source)
    }

    /// Creates a filesystem of type `fs_type` from `source` and mounts it,
    /// detached.
    pub fn mount_detached(
        self: &Arc<Self>,
        ctx: &dyn Context,
        source: &[u8],
        fs_type: &str,
        opts: &MountOptions,
    ) -> Result<MountRef, Errno> {
        let fs_type_obj = self.filesystem_type(fs_type).ok_or(Errno::ENODEV)?;
        let (fs, root) = fs_type_obj.get_filesystem(ctx, self, source, &opts.get_filesystem)?;
        let source = String::from_utf8_lossy(if source.is_empty() {
            fs_type.as_bytes()
        } else {
            source
        })
        .into_owned();
        Ok(Mount::new(self, fs, root, opts.flags, source))
    }

    /// Creates a mount namespace whose root is a new filesystem of type
    /// `fs_type`.
    pub fn new_mount_namespace(
        self: &Arc<Self>,
        ctx: &dyn Context,
        source: &[u8],
        fs_type: &str,
        opts: &MountOptions,
    ) -> Result<Arc<MountNamespace>, Errno> {
        let mount = self.mount_detached(ctx, source, fs_type, opts)?;
        Ok(MountNamespace::new(self.next_id(), mount))
    }

    /// Creates a mount namespace rooted at an existing mount.
    pub fn new_mount_namespace_from(self: &Arc<Self>, root: MountRef) -> Arc<MountNamespace> {
        MountNamespace::new(self.next_id(), root)
    }

    /// `mount(2)` of a new filesystem on the directory `target`.
    pub fn mount(
        self: &Arc<Self>,
        ctx: &dyn Context,
        source: &[u8],
        target: &PathOperation<'_>,
        fs_type: &str,
        opts: &MountOptions,
    ) -> Result<MountRef, Errno> {
        if !ctx
            .credentials()
            .has_capability(abi_linux::Capability::SYS_ADMIN)
        {
            return Err(Errno::EPERM);
        }
        let point = self.get_dentry_at(ctx, target, GetDentryOptions::default())?;
        let mount = match self.mount_detached(ctx, source, fs_type, opts) {
            Ok(mount) => mount,
            Err(errno) => {
                point.release(ctx);
                return Err(errno);
            }
        };
        let result = self.connect(&mount, point);
        result.map(|()| mount)
    }

    /// Bind-mounts `source` on `target`; with `recursive`, the mounts
    /// below `source` are replicated too (`MS_BIND|MS_REC`).
    pub fn bind_mount(
        self: &Arc<Self>,
        ctx: &dyn Context,
        source: &PathOperation<'_>,
        target: &PathOperation<'_>,
        recursive: bool,
    ) -> Result<MountRef, Errno> {
        if !ctx
            .credentials()
            .has_capability(abi_linux::Capability::SYS_ADMIN)
        {
            return Err(Errno::EPERM);
        }
        let source_vd = self.get_dentry_at(ctx, source, GetDentryOptions::default())?;
        let point = self.get_dentry_at(ctx, target, GetDentryOptions::default())?;
        let clone = self.clone_mount(&source_vd.mount, source_vd.dentry.as_arc());
        let mut submounts = Vec::new();
        if recursive {
            self.collect_submounts_below(&source_vd, &mut submounts);
        }
        self.connect(&clone, point)?;
        // Replicate each submount, attaching it at the same dentry in the
        // clone of its parent.
        let mut clones: Vec<(Arc<Mount>, MountRef)> = Vec::new();
        clones.push((Arc::clone(source_vd.mount.as_arc()), clone.clone()));
        for sub in submounts {
            let Some(sub_point) = sub.mount_point() else {
                continue;
            };
            let Some(parent_clone) = clones
                .iter()
                .find(|(original, _)| Arc::ptr_eq(original, sub_point.mount.as_arc()))
                .map(|(_, copy)| copy.clone())
            else {
                continue;
            };
            let copy = self.clone_mount(&sub, sub.root());
            let at = VirtualDentry::new(parent_clone, sub_point.dentry.clone());
            self.connect(&copy, at)?;
            clones.push((Arc::clone(sub.as_arc()), copy));
        }
        source_vd.release(ctx);
        Ok(clone)
    }

    fn clone_mount(self: &Arc<Self>, mount: &Mount, root: &Arc<dyn DentryImpl>) -> MountRef {
        let fs = FilesystemRef::new_ref(mount.filesystem());
        let source = mount.state.lock().source.clone();
        let root_ref = DentryRef::new_ref(root);
        let root_path = filesystem_path(mount, &root_ref);
        let clone = Mount::new(self, fs, root_ref, mount.flags(), source);
        clone.state.lock().root_path = root_path;
        clone
    }

    /// Mounts below `vd` (attached to `vd.mount` at or under `vd.dentry`,
    /// transitively), parents before children.
    fn collect_submounts_below(&self, vd: &VirtualDentry, out: &mut Vec<MountRef>) {
        let children: Vec<Arc<Mount>> = vd.mount.state.lock().children.clone();
        for child in children {
            let below = child
                .mount_point()
                .is_some_and(|point| is_at_or_below(&vd.mount, &point.dentry, &vd.dentry));
            if !below {
                continue;
            }
            out.push(MountRef::new_ref(&child));
            let child_vd = VirtualDentry::new(MountRef::new_ref(&child), child.root_ref());
            self.collect_submounts_below(&child_vd, out);
        }
    }

    /// Attaches the detached `mount` on `point`, consuming the references
    /// in `point` (they become the mount's). The mount gets a tree
    /// reference from its parent.
    fn connect(&self, mount: &MountRef, point: VirtualDentry) -> Result<(), Errno> {
        let _topology = self.mount_lock.lock();
        if point.dentry.is_dir() != mount.root().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if point.mount.is_umounted() {
            return Err(Errno::ENOENT);
        }
        point.dentry.vfs_dentry().add_mount()?;
        let key = (point.mount.id(), dentry_key(&*point.dentry));
        {
            let mut state = mount.state.lock();
            if state.point.is_some() || state.umounted {
                point.dentry.vfs_dentry().remove_mount();
                return Err(Errno::EBUSY);
            }
            state.namespace = point.mount.state.lock().namespace.clone();
            state.point = Some(point.clone());
        }
        // The parent's tree reference on the child.
        point
            .mount
            .state
            .lock()
            .children
            .push(mount.clone().into_counted_arc());
        self.mount_table
            .write()
            .entry(key)
            .or_default()
            .push(Arc::clone(mount.as_arc()));
        Ok(())
    }

    /// The topmost mount covering `dentry` in `parent`, following stacked
    /// mounts, or `None`.
    pub fn mount_covering(&self, parent: &MountRef, dentry: &dyn DentryImpl) -> Option<MountRef> {
        let table = self.mount_table.read();
        let mut mount: Option<Arc<Mount>> = None;
        let mut parent_id = parent.id();
        let mut key = dentry_key(dentry);
        while let Some(stack) = table.get(&(parent_id, key)) {
            let top = stack.last()?;
            parent_id = top.id();
            key = dentry_key(&**top.root());
            mount = Some(Arc::clone(top));
        }
        mount.and_then(|mount| MountRef::try_new_ref(&mount))
    }

    /// The mount point above `mount`, climbing through mounts whose mount
    /// point is itself a mount root, and stopping at `root`. `None` when
    /// `mount` is attached nowhere.
    pub fn mount_point_at(&self, mount: &MountRef, root: &VirtualDentry) -> Option<VirtualDentry> {
        let mut point = mount.mount_point()?;
        while point.mount.is_root(&*point.dentry) && !point.same(root) {
            match point.mount.mount_point() {
                Some(above) => point = above,
                None => break,
            }
        }
        Some(point)
    }

    /// `umount2(2)` of the mount whose root is at `target`.
    pub fn umount(
        self: &Arc<Self>,
        ctx: &dyn Context,
        target: &PathOperation<'_>,
        flags: UmountFlags,
    ) -> Result<(), Errno> {
        if !(flags - (UmountFlags::FORCE | UmountFlags::DETACH | UmountFlags::NOFOLLOW)).is_empty()
        {
            return Err(Errno::EINVAL);
        }
        if !ctx
            .credentials()
            .has_capability(abi_linux::Capability::SYS_ADMIN)
        {
            return Err(Errno::EPERM);
        }
        let pop = target
            .follow_final(!flags.contains(UmountFlags::NOFOLLOW) && target.follow_final_symlink);
        let vd = self.get_dentry_at(ctx, &pop, GetDentryOptions::default())?;
        let result = self.umount_vd(&vd, flags.contains(UmountFlags::DETACH));
        vd.release(ctx);
        result
    }

    fn umount_vd(&self, vd: &VirtualDentry, detach: bool) -> Result<(), Errno> {
        let _topology = self.mount_lock.lock();
        if !vd.mount.is_root(&*vd.dentry) {
            return Err(Errno::EINVAL);
        }
        if vd.mount.state.lock().point.is_none() {
            // A namespace root or a detached mount.
            return Err(Errno::EINVAL);
        }
        if !detach {
            let state = vd.mount.state.lock();
            // The parent's tree reference and the one `vd` holds.
            if !state.children.is_empty() || vd.mount.ref_count() > 2 {
                return Err(Errno::EBUSY);
            }
        }
        self.umount_tree_locked(vd.mount.as_arc());
        Ok(())
    }

    /// Detaches `mount` and every mount below it.
    ///
    /// # Preconditions
    ///
    /// `mount_lock` is held.
    fn umount_tree_locked(&self, mount: &Arc<Mount>) {
        let children: Vec<Arc<Mount>> = mount.state.lock().children.clone();
        for child in &children {
            self.umount_tree_locked(child);
        }
        {
            let mut state = mount.state.lock();
            state.umounted = true;
            state.namespace = None;
        }
        // Dropping the parent's tree reference may destroy the mount.
        drop(self.detach_locked(mount));
    }

    /// Detaches `mount` from its mount point and returns the tree reference
    /// its parent held on it, or `None` if it was attached nowhere.
    ///
    /// # Preconditions
    ///
    /// `mount_lock` is held.
    fn detach_locked(&self, mount: &Arc<Mount>) -> Option<MountRef> {
        let point = mount.state.lock().point.take()?;
        let key = (point.mount.id(), dentry_key(&*point.dentry));
        {
            let mut table = self.mount_table.write();
            if let Some(stack) = table.get_mut(&key) {
                stack.retain(|m| !Arc::ptr_eq(m, mount));
                if stack.is_empty() {
                    table.remove(&key);
                }
            }
        }
        point.dentry.vfs_dentry().remove_mount();
        let tree_ref = {
            let mut parent_state = point.mount.state.lock();
            let index = parent_state
                .children
                .iter()
                .position(|m| Arc::ptr_eq(m, mount));
            index.map(|index| parent_state.children.swap_remove(index))
        };
        drop(point);
        tree_ref.map(MountRef::adopt)
    }

    /// `pivot_root(2)`: makes the mount at `new_root` the root of `ns` and
    /// attaches the old root mount at `put_old`, which must be at or below
    /// `new_root`. The caller (the sentry) then moves the roots and working
    /// directories of tasks that were at the old root, as Linux does.
    pub fn pivot_root(
        self: &Arc<Self>,
        ctx: &dyn Context,
        ns: &MountNamespace,
        new_root: &PathOperation<'_>,
        put_old: &PathOperation<'_>,
    ) -> Result<(), Errno> {
        if !ctx
            .credentials()
            .has_capability(abi_linux::Capability::SYS_ADMIN)
        {
            return Err(Errno::EPERM);
        }
        let opts = GetDentryOptions {
            check_searchable: true,
        };
        let new_vd = self.get_dentry_at(ctx, new_root, opts)?;
        let old_vd = match self.get_dentry_at(ctx, put_old, opts) {
            Ok(vd) => vd,
            Err(errno) => {
                new_vd.release(ctx);
                return Err(errno);
            }
        };
        let result = self.pivot_root_locked(ns, &new_vd, &old_vd);
        old_vd.release(ctx);
        new_vd.release(ctx);
        result
    }

    fn pivot_root_locked(
        &self,
        ns: &MountNamespace,
        new_vd: &VirtualDentry,
        put_old: &VirtualDentry,
    ) -> Result<(), Errno> {
        let topology = self.mount_lock.lock();
        let old_root = ns.root_mount();
        if !new_vd.dentry.is_dir() || !put_old.dentry.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        // new_root must be the root of a mount other than the current root,
        // attached in this namespace; put_old must not be on the root mount.
        if !new_vd.mount.is_root(&*new_vd.dentry) {
            return Err(Errno::EINVAL);
        }
        if MountRef::ptr_eq(&new_vd.mount, &old_root) || MountRef::ptr_eq(&put_old.mount, &old_root)
        {
            return Err(Errno::EBUSY);
        }
        if new_vd.mount.state.lock().point.is_none() {
            return Err(Errno::EINVAL);
        }
        // put_old must be at or below new_root.
        if !self.is_at_or_below(put_old, new_vd) {
            return Err(Errno::EINVAL);
        }
        if put_old.mount.is_umounted() || put_old.dentry.vfs_dentry().is_dead() {
            return Err(Errno::ENOENT);
        }
        // Detach the new root from where it is mounted; its tree reference
        // becomes the namespace's.
        let new_root_mount = self
            .detach_locked(new_vd.mount.as_arc())
            .ok_or(Errno::EINVAL)?;
        new_root_mount.state.lock().namespace = old_root.state.lock().namespace.clone();
        let previous = ns.replace_root(new_root_mount);
        drop(topology);
        // The namespace's reference on the old root becomes the tree
        // reference its new parent holds.
        let point = VirtualDentry::new(put_old.mount.clone(), put_old.dentry.clone());
        let result = self.connect(&previous, point);
        drop(previous);
        drop(old_root);
        result
    }

    /// Whether `vd` is `ancestor` or below it, crossing mounts.
    fn is_at_or_below(&self, vd: &VirtualDentry, ancestor: &VirtualDentry) -> bool {
        let mut mount = vd.mount.clone();
        let mut dentry = vd.dentry.clone();
        for _ in 0..MAX_PATH_DEPTH {
            if MountRef::ptr_eq(&mount, &ancestor.mount) && dentry.same(&ancestor.dentry) {
                return true;
            }
            if mount.is_root(&*dentry) {
                match mount.mount_point() {
                    Some(point) => {
                        mount = point.mount;
                        dentry = point.dentry;
                    }
                    None => return false,
                }
                continue;
            }
            match mount.filesystem().imp().parent_and_name(&*dentry) {
                Some((parent, _)) => dentry = parent,
                None => return false,
            }
        }
        false
    }

    /// Detaches every mount of `ns` and gives back its root: the teardown
    /// of a mount namespace.
    pub fn release_mount_namespace(&self, ns: &MountNamespace) {
        let _topology = self.mount_lock.lock();
        let children: Vec<Arc<Mount>> = ns.root_mount().state.lock().children.clone();
        for child in &children {
            self.umount_tree_locked(child);
        }
    }

    /// The text of `/proc/[pid]/mounts` for a task whose root is `root`:
    /// the mounts reachable below it, parents first.
    pub fn proc_mounts(&self, ctx: &dyn Context, root: &VirtualDentry) -> String {
        let mut text = String::new();
        self.for_each_mount_below(root, &mut |mount, path| {
            let state = mount.state.lock();
            let opts = mount.filesystem().imp().mount_options();
            let _ = writeln!(
                text,
                "{} {} {} {}{} 0 0",
                state.source,
                String::from_utf8_lossy(path),
                mount.filesystem().fs_type(),
                mount_flags_text(mount.flags()),
                if opts.is_empty() {
                    String::new()
                } else {
                    alloc::format!(",{opts}")
                },
            );
        });
        let _ = ctx;
        text
    }

    /// The text of `/proc/[pid]/mountinfo`.
    pub fn proc_mountinfo(&self, ctx: &dyn Context, root: &VirtualDentry) -> String {
        let mut text = String::new();
        self.for_each_mount_below(root, &mut |mount, path| {
            let state = mount.state.lock();
            let parent_id = state.point.as_ref().map_or(mount.id(), |p| p.mount.id());
            let dev = mount.filesystem().dev();
            let opts = mount.filesystem().imp().mount_options();
            let _ = writeln!(
                text,
                "{} {} {}:{} {} {} {} - {} {} {}{}",
                mount.id(),
                parent_id,
                abi_linux::dev_major(dev),
                abi_linux::dev_minor(dev),
                state.root_path,
                String::from_utf8_lossy(path),
                mount_flags_text(mount.flags()),
                mount.filesystem().fs_type(),
                state.source,
                if mount.is_read_only() { "ro" } else { "rw" },
                if opts.is_empty() {
                    String::new()
                } else {
                    alloc::format!(",{opts}")
                },
            );
        });
        let _ = ctx;
        text
    }

    fn for_each_mount_below(&self, root: &VirtualDentry, f: &mut dyn FnMut(&Mount, &[u8])) {
        let mut below: Vec<Arc<Mount>> = Vec::new();
        let mut stack: Vec<Arc<Mount>> = Vec::new();
        stack.push(Arc::clone(root.mount.as_arc()));
        while let Some(mount) = stack.pop() {
            stack.extend(mount.state.lock().children.iter().cloned());
            below.push(mount);
        }
        // In mount order, as Linux lists its namespace and gVisor sorts by
        // mount id.
        below.sort_by_key(|m| m.id());
        for mount in below {
            let vd = VirtualDentry::new(MountRef::new_ref(&mount), mount.root_ref());
            if let Ok(path) = self.path_name(root, &vd) {
                f(&mount, &path);
            }
        }
    }

    // ---- Path names ---------------------------------------------------------

    /// The absolute path of `vd` as seen from `root` (`getcwd`,
    /// `/proc/self/fd`): `ENOENT`-free; a location not below `root` gets the
    /// path from its namespace root, and Linux's `(unreachable)` handling is
    /// left to the caller through [`PathNameError`].
    pub fn path_name(
        &self,
        root: &VirtualDentry,
        vd: &VirtualDentry,
    ) -> Result<Vec<u8>, PathNameError> {
        let mut components: Vec<Vec<u8>> = Vec::new();
        let mut mount = vd.mount.clone();
        let mut dentry = vd.dentry.clone();
        let mut reached_root = false;
        for _ in 0..MAX_PATH_DEPTH {
            if MountRef::ptr_eq(&mount, &root.mount) && dentry.same(&root.dentry) {
                reached_root = true;
                break;
            }
            if mount.is_root(&*dentry) {
                match mount.mount_point() {
                    Some(point) => {
                        mount = point.mount;
                        dentry = point.dentry;
                        continue;
                    }
                    None => break,
                }
            }
            match mount.filesystem().imp().parent_and_name(&*dentry) {
                Some((parent, name)) => {
                    components.push(name);
                    dentry = parent;
                }
                None => return Err(PathNameError::Synthetic),
            }
        }
        let mut path = Vec::new();
        for name in components.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        if reached_root {
            Ok(path)
        } else {
            Err(PathNameError::Unreachable(path))
        }
    }

    // ---- Path operations ----------------------------------------------------

    /// Runs `op` on the filesystems `pop`'s path passes through, restarting
    /// in the next filesystem each time the walk leaves one.
    fn resolve<T>(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        must_be_dir: bool,
        mut op: impl FnMut(&Arc<dyn crate::FilesystemImpl>, &mut ResolvingPath<'_>) -> PathResult<T>,
    ) -> Result<T, Errno> {
        let scoped = pop
            .resolve
            .intersects(ResolveFlags::BENEATH | ResolveFlags::IN_ROOT);
        if pop.path.is_absolute() && pop.resolve.contains(ResolveFlags::BENEATH) {
            return Err(Errno::EXDEV);
        }
        let scoped_pop;
        let pop = if scoped {
            scoped_pop = PathOperation {
                root: pop.start,
                ..*pop
            };
            &scoped_pop
        } else {
            pop
        };
        let mut rp = ResolvingPath::new(self, ctx.credentials(), pop);
        if must_be_dir {
            rp.set_must_be_dir();
        }
        loop {
            let fs = Arc::clone(rp.mount().filesystem().imp());
            match op(&fs, &mut rp) {
                Ok(value) => return Ok(value),
                Err(PathError::Errno(errno)) => return Err(errno),
                Err(PathError::Restart(_)) => {
                    if !rp.handle_restart() {
                        return Err(Errno::EIO);
                    }
                }
            }
        }
    }

    /// The parent directory of `pop`'s final component and that component.
    fn parent_and_name(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
    ) -> Result<(VirtualDentry, Vec<u8>), Errno> {
        self.resolve(ctx, pop, false, |fs, rp| {
            let parent = fs.get_parent_dentry_at(ctx, rp)?;
            let name = rp.component().to_vec();
            Ok((VirtualDentry::new(rp.mount().clone(), parent), name))
        })
    }

    /// Resolves `pop` to a location (`chdir`, `chroot`, mount targets).
    pub fn get_dentry_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        opts: GetDentryOptions,
    ) -> Result<VirtualDentry, Errno> {
        self.resolve(ctx, pop, opts.check_searchable, |fs, rp| {
            let dentry = fs.get_dentry_at(ctx, rp, opts)?;
            Ok(VirtualDentry::new(rp.mount().clone(), dentry))
        })
    }

    /// `openat(2)`/`openat2(2)`.
    pub fn open_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        mut opts: OpenOptions,
    ) -> Result<FileRef, Errno> {
        let honoured = OpenFlags::ACCMODE
            | OpenFlags::CREAT
            | OpenFlags::EXCL
            | OpenFlags::NOCTTY
            | OpenFlags::TRUNC
            | OpenFlags::APPEND
            | OpenFlags::NONBLOCK
            | OpenFlags::DSYNC
            | OpenFlags::ASYNC
            | OpenFlags::DIRECT
            | OpenFlags::LARGEFILE
            | OpenFlags::DIRECTORY
            | OpenFlags::NOFOLLOW
            | OpenFlags::NOATIME
            | OpenFlags::SYNC
            | OpenFlags::PATH
            | OpenFlags::TMPFILE;
        opts.flags &= honoured;
        if opts.flags.contains(OpenFlags::TMPFILE)
            && (opts.flags.contains(OpenFlags::CREAT)
                || opts.flags.access_mode() == abi_linux::AccessMode::ReadOnly)
        {
            return Err(Errno::EINVAL);
        }
        if opts.flags.contains(OpenFlags::PATH) {
            opts.flags &= OpenFlags::DIRECTORY | OpenFlags::NOFOLLOW | OpenFlags::PATH;
        }
        opts.mode &= 0o7777;
        let mut pop = *pop;
        if opts.flags.contains(OpenFlags::NOFOLLOW) {
            pop.follow_final_symlink = false;
        }
        if opts.flags.contains(OpenFlags::CREAT) {
            // `O_CREAT` never follows a final symlink that dangles into a
            // create; filesystems handle that. An empty path cannot create.
            if pop.path.is_empty() {
                return Err(Errno::ENOENT);
            }
        }
        let must_be_dir = opts.flags.contains(OpenFlags::DIRECTORY);
        if opts.flags.contains(OpenFlags::PATH) {
            let vd = self.resolve(ctx, &pop, must_be_dir, |fs, rp| {
                let dentry = fs.get_dentry_at(ctx, rp, GetDentryOptions::default())?;
                Ok(VirtualDentry::new(rp.mount().clone(), dentry))
            })?;
            return Ok(OpathFile::open(vd, opts.flags));
        }
        // Whether the file existed, for inotify's IN_CREATE.
        let existed = (crate::inotify::any_watches() && opts.flags.contains(OpenFlags::CREAT))
            .then(
                || match self.get_dentry_at(ctx, &pop, GetDentryOptions::default()) {
                    Ok(vd) => {
                        vd.release(ctx);
                        true
                    }
                    Err(_) => false,
                },
            );
        let file = self.resolve(ctx, &pop, must_be_dir, |fs, rp| {
            // A magic link to a description without a location of its own
            // (a pipe) opens the description again, as Linux opens the
            // link's inode; one that has no reopen opens its location.
            if let Some(target) = rp.take_reopen() {
                let reopened = target.imp().reopen(ctx, &target, opts.flags);
                target.release(ctx);
                if let Some(result) = reopened {
                    return result.map_err(Into::into);
                }
            }
            fs.open_at(ctx, rp, opts)
        })?;
        if opts.file_exec {
            let exec_ok = !file.mount().flags().contains(MountOptionFlags::NO_EXEC)
                && file
                    .stat(ctx, StatOptions::default())
                    .is_ok_and(|st| u32::from(st.stx_mode) & 0o170000 == 0o100000);
            if !exec_ok {
                file.release(ctx);
                return Err(Errno::EACCES);
            }
        }
        if crate::inotify::any_watches() {
            let fs = file.mount().filesystem();
            let dentry = &**file.dentry();
            if existed == Some(false)
                && let Some((parent, name)) = fs.imp().parent_and_name(dentry)
            {
                fs.notify_entry(ctx, &*parent, &name, InotifyMask::CREATE, 0, false);
                parent.release(ctx);
            }
            fs.notify(ctx, dentry, InotifyMask::OPEN, 0);
            if opts.flags.contains(OpenFlags::TRUNC) && existed != Some(false) && file.is_writable()
            {
                fs.notify(ctx, dentry, InotifyMask::MODIFY, 0);
            }
        }
        Ok(file)
    }

    /// `mkdirat(2)`.
    pub fn mkdir_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        mut opts: MkdirOptions,
    ) -> Result<(), Errno> {
        check_creation_path(pop, Errno::EEXIST)?;
        opts.mode &= 0o1777;
        self.resolve(ctx, pop, false, |fs, rp| fs.mkdir_at(ctx, rp, opts))?;
        self.created(ctx, pop, true);
        Ok(())
    }

    /// `mknodat(2)`.
    pub fn mknod_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        opts: MknodOptions,
    ) -> Result<(), Errno> {
        check_creation_path(pop, Errno::EEXIST)?;
        if pop.path.must_be_dir() {
            return Err(Errno::ENOENT);
        }
        self.resolve(ctx, pop, false, |fs, rp| fs.mknod_at(ctx, rp, opts))?;
        self.created(ctx, pop, false);
        Ok(())
    }

    /// `symlinkat(2)`.
    pub fn symlink_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        target: &[u8],
    ) -> Result<(), Errno> {
        check_creation_path(pop, Errno::EEXIST)?;
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        self.resolve(ctx, pop, false, |fs, rp| fs.symlink_at(ctx, rp, target))?;
        self.created(ctx, pop, false);
        Ok(())
    }

    /// `linkat(2)`: `old` names the existing file.
    pub fn link_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        old: &PathOperation<'_>,
        new: &PathOperation<'_>,
    ) -> Result<(), Errno> {
        check_creation_path(new, Errno::EEXIST)?;
        let old_vd = self.get_dentry_at(ctx, old, GetDentryOptions::default())?;
        let result = self.resolve(ctx, new, false, |fs, rp| fs.link_at(ctx, rp, &old_vd));
        if result.is_ok() && crate::inotify::any_watches() {
            old_vd
                .mount
                .filesystem()
                .notify_self(ctx, &*old_vd.dentry, InotifyMask::ATTRIB);
            self.created(ctx, new, false);
        }
        old_vd.release(ctx);
        result
    }

    /// `unlinkat(2)` without `AT_REMOVEDIR`.
    pub fn unlink_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
    ) -> Result<(), Errno> {
        check_creation_path(pop, Errno::EISDIR)?;
        if pop.path.must_be_dir() {
            // unlink("file/") is ENOTDIR, unlink("dir/") EISDIR: the
            // filesystem decides once it sees the file.
        }
        let subject = self.watch_subject(ctx, pop);
        let result = self.resolve(ctx, pop, false, |fs, rp| fs.unlink_at(ctx, rp));
        if let Some(subject) = subject {
            if result.is_ok() {
                subject.removed(ctx, false);
            }
            subject.release(ctx);
        }
        result
    }

    /// `unlinkat(2)` with `AT_REMOVEDIR`.
    pub fn rmdir_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
    ) -> Result<(), Errno> {
        check_creation_path(pop, Errno::EBUSY)?;
        let subject = self.watch_subject(ctx, pop);
        let result = self.resolve(ctx, pop, false, |fs, rp| fs.rmdir_at(ctx, rp));
        if let Some(subject) = subject {
            if result.is_ok() {
                subject.removed(ctx, true);
            }
            subject.release(ctx);
        }
        result
    }

    /// `renameat2(2)`.
    pub fn rename_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        old: &PathOperation<'_>,
        new: &PathOperation<'_>,
        opts: RenameOptions,
    ) -> Result<(), Errno> {
        let known = RenameFlags::NOREPLACE | RenameFlags::EXCHANGE | RenameFlags::WHITEOUT;
        if !(opts.flags - known).is_empty() {
            return Err(Errno::EINVAL);
        }
        if opts.flags.contains(RenameFlags::EXCHANGE)
            && opts
                .flags
                .intersects(RenameFlags::NOREPLACE | RenameFlags::WHITEOUT)
        {
            return Err(Errno::EINVAL);
        }
        if opts.flags.contains(RenameFlags::WHITEOUT) {
            // Whiteouts are an overlayfs feature none of these filesystems
            // have.
            return Err(Errno::EINVAL);
        }
        check_creation_path(old, Errno::EBUSY)?;
        let old_pop = old.follow_final(false);
        // `.` and `..` as the old name are refused by the filesystem's
        // `check_rename_names`, after the new parent's walk and `EXDEV`.
        let (old_parent, old_name) = self.parent_and_name(ctx, &old_pop)?;
        if let Err(errno) = check_creation_path(new, Errno::EBUSY) {
            old_parent.release(ctx);
            return Err(errno);
        }
        let mut opts = opts;
        if old.path.must_be_dir() {
            opts.must_be_dir = true;
        }
        let new_pop = new.follow_final(false);
        let watched = self
            .watch_subject(ctx, &old_pop)
            .map(|old| (old, self.watch_subject(ctx, &new_pop)));
        let result = self.resolve(ctx, &new_pop, false, |fs, rp| {
            fs.rename_at(ctx, rp, &old_parent, &old_name, opts)
        });
        old_parent.release(ctx);
        if let Some((old, new)) = watched {
            if result.is_ok() {
                old.moved(ctx, new.as_ref());
            }
            old.release(ctx);
            if let Some(new) = new {
                new.release(ctx);
            }
        }
        result
    }

    /// `readlinkat(2)`.
    pub fn readlink_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
    ) -> Result<Vec<u8>, Errno> {
        let pop = pop.follow_final(false);
        self.resolve(ctx, &pop, false, |fs, rp| fs.readlink_at(ctx, rp))
    }

    /// `statx(2)` and the `stat` family.
    pub fn stat_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        opts: StatOptions,
    ) -> Result<Statx, Errno> {
        self.resolve(ctx, pop, false, |fs, rp| {
            // A magic link to a description without a location (a pipe)
            // stats the description, as Linux stats the link's inode.
            if let Some(target) = rp.take_reopen() {
                let stat = target.stat(ctx, opts);
                target.release(ctx);
                return stat.map_err(Into::into);
            }
            fs.stat_at(ctx, rp, opts)
        })
    }

    /// `chmod`, `chown`, `utimensat`, `truncate` by path.
    pub fn set_stat_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        opts: SetStatOptions,
    ) -> Result<(), Errno> {
        let mask = crate::inotify::set_stat_events(opts.stat.stx_mask);
        self.resolve(ctx, pop, false, |fs, rp| fs.set_stat_at(ctx, rp, opts))?;
        self.changed(ctx, pop, mask);
        Ok(())
    }

    /// `statfs(2)`.
    pub fn statfs_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
    ) -> Result<Statfs, Errno> {
        self.resolve(ctx, pop, false, |fs, rp| fs.statfs_at(ctx, rp))
    }

    /// `faccessat2(2)`.
    pub fn access_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        access: AccessTypes,
    ) -> Result<(), Errno> {
        self.resolve(ctx, pop, false, |fs, rp| fs.access_at(ctx, rp, access))
    }

    /// `listxattr(2)`.
    pub fn list_xattr_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
    ) -> Result<Vec<Vec<u8>>, Errno> {
        self.resolve(ctx, pop, false, |fs, rp| fs.list_xattr_at(ctx, rp))
    }

    /// `getxattr(2)`.
    pub fn get_xattr_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        opts: &GetXattrOptions,
    ) -> Result<Vec<u8>, Errno> {
        check_xattr_name(&opts.name)?;
        let value = self.resolve(ctx, pop, false, |fs, rp| fs.get_xattr_at(ctx, rp, opts))?;
        // Checked here once for every filesystem, as Linux's getxattr does
        // after the filesystem answered.
        if opts.size != 0 && value.len() as u64 > opts.size {
            return Err(Errno::ERANGE);
        }
        Ok(value)
    }

    /// `setxattr(2)`.
    pub fn set_xattr_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        opts: &SetXattrOptions,
    ) -> Result<(), Errno> {
        check_xattr_name(&opts.name)?;
        if opts.value.len() > XATTR_SIZE_MAX {
            return Err(Errno::E2BIG);
        }
        self.resolve(ctx, pop, false, |fs, rp| fs.set_xattr_at(ctx, rp, opts))?;
        self.changed(ctx, pop, InotifyMask::ATTRIB);
        Ok(())
    }

    /// `removexattr(2)`.
    pub fn remove_xattr_at(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
        name: &[u8],
    ) -> Result<(), Errno> {
        check_xattr_name(name)?;
        self.resolve(ctx, pop, false, |fs, rp| fs.remove_xattr_at(ctx, rp, name))?;
        self.changed(ctx, pop, InotifyMask::ATTRIB);
        Ok(())
    }

    /// `syncfs(2)` for every filesystem mounted in `ns`.
    pub fn sync_all(&self, ctx: &dyn Context, ns: &MountNamespace) -> Result<(), Errno> {
        let mut stack = alloc::vec![Arc::clone(ns.root_mount().as_arc())];
        let mut result = Ok(());
        while let Some(mount) = stack.pop() {
            if let Err(errno) = mount.filesystem().imp().sync(ctx) {
                result = Err(errno);
            }
            stack.extend(mount.state.lock().children.iter().cloned());
        }
        result
    }
}

/// Whether `dentry` is `ancestor` or below it in `mount`'s filesystem.
fn is_at_or_below(mount: &Mount, dentry: &DentryRef, ancestor: &DentryRef) -> bool {
    let fs = mount.filesystem().imp();
    let mut cursor = dentry.clone();
    // Bounded like `path_name`, against a filesystem whose parent links
    // loop.
    for _ in 0..MAX_PATH_DEPTH {
        if cursor.same(ancestor) {
            return true;
        }
        match fs.parent_and_name(&*cursor) {
            Some((parent, _)) => cursor = parent,
            None => return false,
        }
    }
    false
}

/// The path of `dentry` from the root of `mount`'s filesystem, as
/// mountinfo's fourth field shows a bind mount's root.
fn filesystem_path(mount: &Mount, dentry: &DentryRef) -> String {
    let fs = mount.filesystem().imp();
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut cursor = dentry.clone();
    for _ in 0..MAX_PATH_DEPTH {
        match fs.parent_and_name(&*cursor) {
            Some((parent, name)) => {
                names.push(name);
                cursor = parent;
            }
            None => break,
        }
    }
    let mut path = String::new();
    for name in names.iter().rev() {
        path.push('/');
        path.push_str(&String::from_utf8_lossy(name));
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// How many parents a path-name walk climbs at most: deeper trees (or a
/// corrupt filesystem's parent cycle) end the walk.
const MAX_PATH_DEPTH: usize = 4096;

/// The longest extended attribute name Linux accepts.
pub const XATTR_NAME_MAX: usize = 255;
/// The largest extended attribute value Linux accepts.
pub const XATTR_SIZE_MAX: usize = 65536;

fn check_xattr_name(name: &[u8]) -> Result<(), Errno> {
    if name.is_empty() || name.len() > XATTR_NAME_MAX {
        return Err(Errno::ERANGE);
    }
    Ok(())
}

/// An operation that names a new or removed directory entry needs at least
/// one component: `""` is `ENOENT`, `"/"` is `root_errno`.
fn check_creation_path(pop: &PathOperation<'_>, root_errno: Errno) -> Result<(), Errno> {
    if pop.path.has_components() {
        Ok(())
    } else if pop.path.is_absolute() {
        Err(root_errno)
    } else {
        Err(Errno::ENOENT)
    }
}

fn mount_flags_text(flags: MountOptionFlags) -> String {
    let mut text = String::from(if flags.contains(MountOptionFlags::READ_ONLY) {
        "ro"
    } else {
        "rw"
    });
    for (flag, name) in [
        (MountOptionFlags::NO_SUID, "nosuid"),
        (MountOptionFlags::NO_DEV, "nodev"),
        (MountOptionFlags::NO_EXEC, "noexec"),
        (MountOptionFlags::NO_ATIME, "noatime"),
        (MountOptionFlags::NO_DIR_ATIME, "nodiratime"),
        (MountOptionFlags::REL_ATIME, "relatime"),
    ] {
        if flags.contains(flag) {
            text.push(',');
            text.push_str(name);
        }
    }
    text
}

/// Why [`VirtualFilesystem::path_name`] could not give a path below the
/// root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathNameError {
    /// The location is not below the caller's root; the path from its
    /// namespace root is attached (Linux prefixes it with `(unreachable)`
    /// in `getcwd`).
    Unreachable(Vec<u8>),
    /// The file has no path (an anonymous file); the description's
    /// synthetic name stands in.
    Synthetic,
}

impl Default for VirtualFilesystem {
    fn default() -> Self {
        Self {
            ids: IdAllocator::new(),
            mount_lock: spin::Mutex::new(()),
            mount_table: spin::RwLock::new(HashMap::new()),
            fs_types: spin::RwLock::new(BTreeMap::new()),
            devices: spin::RwLock::new(BTreeMap::new()),
            fifos: spin::RwLock::new(None),
            anon_minors: spin::Mutex::new(BTreeSet::new()),
        }
    }
}

/// What the inotify events of a path operation need, found before it
/// runs: the parent directory and name of its last component, and the
/// file that name leads to (a final symlink not followed).
struct WatchSubject {
    parent: Option<(VirtualDentry, Vec<u8>)>,
    target: Option<VirtualDentry>,
}

impl WatchSubject {
    fn entry_event(&self, ctx: &dyn Context, mask: InotifyMask, cookie: u32, is_dir: bool) {
        if let Some((parent, name)) = &self.parent {
            parent.mount.filesystem().notify_entry(
                ctx,
                &*parent.dentry,
                name,
                mask,
                cookie,
                is_dir,
            );
        }
    }

    fn target_is_dir(&self) -> bool {
        self.target.as_ref().is_some_and(|t| t.dentry.is_dir())
    }

    /// After `unlink` (or `rmdir` with `dir`): `IN_ATTRIB` to a file
    /// whose link count fell, `IN_DELETE_SELF` with the watches' end once
    /// the file is gone, then `IN_DELETE` to the directory (Linux's
    /// order).
    fn removed(&self, ctx: &dyn Context, dir: bool) {
        let is_dir = dir || self.target_is_dir();
        if let Some(t) = &self.target
            && !is_dir
        {
            t.mount
                .filesystem()
                .notify_self(ctx, &*t.dentry, InotifyMask::ATTRIB);
        }
        if let Some(t) = &self.target
            && t.dentry.vfs_dentry().is_dead()
        {
            t.mount.filesystem().notify_deleted(ctx, &*t.dentry);
        }
        self.entry_event(ctx, InotifyMask::DELETE, 0, is_dir);
    }

    /// After a rename from this subject to `new`: `IN_MOVED_FROM` and
    /// `IN_MOVED_TO` with one cookie, `IN_MOVE_SELF` to the file, and the
    /// end of a replaced file's watches.
    fn moved(&self, ctx: &dyn Context, new: Option<&WatchSubject>) {
        let cookie = crate::inotify::new_cookie();
        let is_dir = self.target_is_dir();
        self.entry_event(ctx, InotifyMask::MOVED_FROM, cookie, is_dir);
        if let Some(new) = new {
            new.entry_event(ctx, InotifyMask::MOVED_TO, cookie, is_dir);
        }
        if let Some(t) = &self.target {
            t.mount
                .filesystem()
                .notify_self(ctx, &*t.dentry, InotifyMask::MOVE_SELF);
        }
        if let Some(replaced) = new.and_then(|n| n.target.as_ref())
            && replaced.dentry.vfs_dentry().is_dead()
        {
            replaced
                .mount
                .filesystem()
                .notify_deleted(ctx, &*replaced.dentry);
        }
    }

    fn release(self, ctx: &dyn Context) {
        if let Some((parent, _)) = self.parent {
            parent.release(ctx);
        }
        if let Some(target) = self.target {
            target.release(ctx);
        }
    }
}

impl VirtualFilesystem {
    /// The subject of a path operation's events, when anything is
    /// watched.
    fn watch_subject(
        self: &Arc<Self>,
        ctx: &dyn Context,
        pop: &PathOperation<'_>,
    ) -> Option<WatchSubject> {
        if !crate::inotify::any_watches() {
            return None;
        }
        let parent = self.parent_and_name(ctx, pop).ok();
        let target = self
            .get_dentry_at(ctx, &pop.follow_final(false), GetDentryOptions::default())
            .ok();
        Some(WatchSubject { parent, target })
    }

    /// After `pop` was created (a directory if `dir`): `IN_CREATE` to
    /// its directory.
    fn created(self: &Arc<Self>, ctx: &dyn Context, pop: &PathOperation<'_>, dir: bool) {
        if !crate::inotify::any_watches() {
            return;
        }
        if let Ok((parent, name)) = self.parent_and_name(ctx, pop) {
            parent.mount.filesystem().notify_entry(
                ctx,
                &*parent.dentry,
                &name,
                InotifyMask::CREATE,
                0,
                dir,
            );
            parent.release(ctx);
        }
    }

    /// After the file at `pop` changed: `mask` to it and its directory.
    fn changed(self: &Arc<Self>, ctx: &dyn Context, pop: &PathOperation<'_>, mask: InotifyMask) {
        if mask.is_empty() || !crate::inotify::any_watches() {
            return;
        }
        if let Ok(vd) = self.get_dentry_at(ctx, pop, GetDentryOptions::default()) {
            vd.mount.filesystem().notify(ctx, &*vd.dentry, mask, 0);
            vd.release(ctx);
        }
    }
}
