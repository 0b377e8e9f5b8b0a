//! Path operations: kernfs's [`FilesystemImpl`] (gVisor kernfs's
//! `filesystem.go`), shared by every filesystem built on kernfs.
//!
//! # Locking
//!
//! Operations that only read the tree (walks, `stat`, `open` without
//! `O_CREAT`, `set_stat`, xattrs) hold the filesystem lock for reading;
//! operations that change it (`O_CREAT`, `mkdir`, `mknod`, `symlink`,
//! `link`, `unlink`, `rmdir`, `rename`) hold it for writing. Inode methods
//! run under it and take only their own, inner locks. Dentries are carried
//! as `Arc`s without counted references while the lock is held (nothing
//! is destroyed without the lock held for writing); references handed out
//! are taken before it is released, and references dropped under it are
//! deferred.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use abi_linux::{Capability, Errno, FileType, OpenFlags, RenameFlags, Statfs, Statx};
use vfs_core::permissions::{self, AccessTypes};
use vfs_core::{
    Context, DeleteGuard, DentryImpl, DentryRef, FileRef, FilesystemImpl, GetDentryOptions,
    GetXattrOptions, MkdirOptions, MknodOptions, MountRef, OpenOptions, PathResult, RenameGuard,
    RenameOptions, ResolvingPath, SetStatOptions, SetXattrOptions, StatOptions, VirtualDentry,
};

use crate::dentry::Dentry;
use crate::filesystem::Filesystem;
use crate::inode::{LinkTarget, RenameTarget};

/// The kernfs dentry a walk starts at.
fn start(rp: &ResolvingPath<'_>) -> PathResult<Arc<Dentry>> {
    Dentry::from_vfs(&**rp.start())
        .map(Dentry::arc)
        .ok_or(Errno::EXDEV.into())
}

/// A counted reference to `d`.
///
/// # Preconditions
///
/// The filesystem lock is held (either way).
fn new_ref(d: &Arc<Dentry>) -> DentryRef {
    d.inc_ref_internal();
    DentryRef::adopt(Arc::clone(d) as Arc<dyn DentryImpl>)
}

/// Consumes the current component of `rp` from the directory `d`
/// (gVisor's `stepExistingLocked`). Returns the dentry to continue from:
/// the child, `d` itself for `.` and for a followed relative symlink, or
/// the parent for `..`.
///
/// # Preconditions
///
/// The filesystem lock is held (either way); `!rp.done()`.
fn step_locked(
    fs: &Arc<Filesystem>,
    ctx: &dyn Context,
    rp: &mut ResolvingPath<'_>,
    d: &Arc<Dentry>,
) -> PathResult<Arc<Dentry>> {
    if !d.inode().is_dir() {
        return Err(Errno::ENOTDIR.into());
    }
    d.inode()
        .check_permission(rp.credentials(), AccessTypes::EXEC)?;
    let name = rp.component();
    if name == b"." {
        rp.advance();
        return Ok(Arc::clone(d));
    }
    if name == b".." {
        if rp.check_root(&**d)? {
            rp.advance();
            return Ok(Arc::clone(d));
        }
        let parent = d
            .tree
            .lock()
            .parent
            .clone()
            .unwrap_or_else(|| Arc::clone(d));
        rp.check_mount(&*parent)?;
        rp.advance();
        return Ok(parent);
    }
    let next = fs.child_locked(ctx, d, name)?;
    rp.check_mount(&*next)?;
    if next.inode().mode().is_symlink() && rp.should_follow_symlink() {
        match next.inode().getlink(ctx, rp.mount())? {
            LinkTarget::Path(target) => rp.handle_symlink(&target)?,
            LinkTarget::Jump(vd) => rp.handle_jump(vd)?,
            LinkTarget::File(file) => rp.handle_jump_to_file(file)?,
        }
        return Ok(Arc::clone(d));
    }
    rp.advance();
    Ok(next)
}

/// Walks every remaining component (gVisor's `walkExistingLocked`).
///
/// # Preconditions
///
/// The filesystem lock is held (either way).
fn walk_existing_locked(
    fs: &Arc<Filesystem>,
    ctx: &dyn Context,
    rp: &mut ResolvingPath<'_>,
) -> PathResult<Arc<Dentry>> {
    let mut d = start(rp)?;
    while !rp.done() {
        d = step_locked(fs, ctx, rp, &d)?;
    }
    if rp.must_be_dir() && !d.inode().is_dir() {
        return Err(Errno::ENOTDIR.into());
    }
    Ok(d)
}

/// Walks to the directory holding the final component, leaving it
/// unconsumed (gVisor's `walkParentDirLocked`).
///
/// # Preconditions
///
/// The filesystem lock is held (either way).
fn walk_parent_from_locked(
    fs: &Arc<Filesystem>,
    ctx: &dyn Context,
    rp: &mut ResolvingPath<'_>,
    mut d: Arc<Dentry>,
) -> PathResult<Arc<Dentry>> {
    while !rp.done() && !rp.is_final() {
        d = step_locked(fs, ctx, rp, &d)?;
    }
    if !d.inode().is_dir() {
        return Err(Errno::ENOTDIR.into());
    }
    Ok(d)
}

fn walk_parent_locked(
    fs: &Arc<Filesystem>,
    ctx: &dyn Context,
    rp: &mut ResolvingPath<'_>,
) -> PathResult<Arc<Dentry>> {
    let d = start(rp)?;
    walk_parent_from_locked(fs, ctx, rp, d)
}

/// Checks that `name` may be created in `parent` (gVisor's
/// `checkCreateLocked`): search permission, a regular name, no existing
/// entry, a live parent, a writable mount, write permission.
///
/// # Preconditions
///
/// The filesystem lock is held for writing.
fn check_create_locked(
    fs: &Arc<Filesystem>,
    ctx: &dyn Context,
    rp: &ResolvingPath<'_>,
    parent: &Arc<Dentry>,
    name: &[u8],
) -> PathResult<()> {
    let creds = rp.credentials();
    parent.inode().check_permission(creds, AccessTypes::EXEC)?;
    if name == b"." || name == b".." {
        return Err(Errno::EEXIST.into());
    }
    match fs.child_locked(ctx, parent, name) {
        Ok(_) => return Err(Errno::EEXIST.into()),
        Err(Errno::ENOENT) => {}
        Err(errno) => return Err(errno.into()),
    }
    if parent.vfs().is_dead() {
        return Err(Errno::ENOENT.into());
    }
    rp.mount().check_writable()?;
    parent
        .inode()
        .check_permission(creds, AccessTypes::WRITE | AccessTypes::EXEC)?;
    Ok(())
}

/// Checks and performs the open of `d` (gVisor's `Dentry` open path and
/// Linux `may_open`). `created` skips the permission checks for a file the
/// open just made.
///
/// # Preconditions
///
/// The filesystem lock is held (either way).
fn open_locked(
    ctx: &dyn Context,
    rp: &ResolvingPath<'_>,
    d: &Arc<Dentry>,
    opts: OpenOptions,
    created: bool,
) -> PathResult<FileRef> {
    let inode = d.inode();
    if !created {
        let mode = inode.mode();
        let access = AccessTypes::for_open_flags(opts.flags, opts.file_exec);
        match mode.file_type() {
            Some(FileType::Symlink) => return Err(Errno::ELOOP.into()),
            Some(FileType::Directory)
                if access.contains(AccessTypes::WRITE) || opts.flags.contains(OpenFlags::CREAT) =>
            {
                return Err(Errno::EISDIR.into());
            }
            _ => {}
        }
        if access.contains(AccessTypes::WRITE)
            && matches!(
                mode.file_type(),
                Some(FileType::Regular | FileType::Directory)
            )
        {
            rp.mount().check_writable()?;
        }
        inode.check_permission(rp.credentials(), access)?;
    }
    let vd = VirtualDentry::new(rp.mount().clone(), new_ref(d));
    let result = inode.open(ctx, &vd, opts);
    // Dropped under the lock: the dentry's reference is deferred if it
    // is the last.
    vd.release(ctx);
    Ok(result?)
}

/// Whether `ancestor` is `d` or one of its ancestors.
///
/// # Preconditions
///
/// The filesystem lock is held for writing.
fn is_ancestor_locked(ancestor: &Arc<Dentry>, d: &Arc<Dentry>) -> bool {
    let mut cur = Some(Arc::clone(d));
    while let Some(x) = cur {
        if Arc::ptr_eq(&x, ancestor) {
            return true;
        }
        cur = x.tree.lock().parent.clone();
    }
    false
}

/// Drops `d` and picks it up again so an unreferenced dentry (now dead or
/// detached) is examined once the lock is free.
fn recheck(ctx: &dyn Context, d: &Arc<Dentry>) {
    d.inc_ref_internal();
    DentryImpl::dec_ref(&**d, ctx);
}

/// Resolves a link target from another location to a kernfs dentry of `fs`
/// seen through `mount`: `EXDEV` otherwise.
fn same_fs_dentry(
    fs: &Arc<Filesystem>,
    mount: &MountRef,
    vd: &VirtualDentry,
) -> PathResult<Arc<Dentry>> {
    if !MountRef::ptr_eq(mount, &vd.mount) {
        return Err(Errno::EXDEV.into());
    }
    let d = Dentry::from_vfs(&*vd.dentry).ok_or(Errno::EXDEV)?;
    if !Arc::ptr_eq(d.filesystem(), fs) {
        return Err(Errno::EXDEV.into());
    }
    Ok(d.arc())
}

impl FilesystemImpl for Filesystem {
    fn release(&self, ctx: &dyn Context) {
        self.evict_all_cached(ctx);
        if let Some(vfs) = self.vfs() {
            vfs.put_anonymous_block_dev_minor(abi_linux::dev_minor(self.dev()));
        }
    }

    fn mount_options(&self) -> String {
        self.options().mount_options.clone()
    }

    fn access_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        access: AccessTypes,
    ) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            let ty = d.inode().mode().file_type();
            if access.contains(AccessTypes::WRITE)
                && matches!(
                    ty,
                    Some(FileType::Regular | FileType::Directory | FileType::Symlink)
                )
            {
                rp.mount().check_writable()?;
            }
            d.inode().check_permission(rp.credentials(), access)?;
            Ok(())
        })
    }

    fn get_dentry_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: GetDentryOptions,
    ) -> PathResult<DentryRef> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            if opts.check_searchable {
                if !d.inode().is_dir() {
                    return Err(Errno::ENOTDIR.into());
                }
                d.inode()
                    .check_permission(rp.credentials(), AccessTypes::EXEC)?;
            }
            Ok(new_ref(&d))
        })
    }

    fn get_parent_dentry_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<DentryRef> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_parent_locked(&fs, ctx, rp)?;
            Ok(new_ref(&d))
        })
    }

    fn link_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        target: &VirtualDentry,
    ) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_write(ctx, |_| {
            // The mount the new name is on is known only once the walk has
            // reached its parent (it may cross into another mount first).
            let parent = walk_parent_locked(&fs, ctx, rp)?;
            let name = rp.component().to_vec();
            let target = same_fs_dentry(&fs, rp.mount(), target)?;
            check_create_locked(&fs, ctx, rp, &parent, &name)?;
            if rp.must_be_dir() {
                return Err(Errno::ENOENT.into());
            }
            let inode = target.inode();
            if inode.is_dir() {
                return Err(Errno::EPERM.into());
            }
            permissions::may_link(rp.credentials(), inode.attrs().owner())?;
            if inode.attrs().nlink() == 0 {
                return Err(Errno::ENOENT.into());
            }
            parent.inode().new_link(ctx, &name, inode)?;
            fs.insert_child_locked(ctx, &parent, &name, Arc::clone(inode));
            Ok(())
        })
    }

    fn mkdir_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: MkdirOptions,
    ) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_write(ctx, |_| {
            let parent = walk_parent_locked(&fs, ctx, rp)?;
            let name = rp.component().to_vec();
            check_create_locked(&fs, ctx, rp, &parent, &name)?;
            let inode = parent.inode().new_dir(ctx, &name, opts)?;
            fs.insert_child_locked(ctx, &parent, &name, inode);
            Ok(())
        })
    }

    fn mknod_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: MknodOptions,
    ) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_write(ctx, |_| {
            let parent = walk_parent_locked(&fs, ctx, rp)?;
            let name = rp.component().to_vec();
            check_create_locked(&fs, ctx, rp, &parent, &name)?;
            let ty = if opts.mode & abi_linux::S_IFMT == 0 {
                Some(FileType::Regular)
            } else {
                FileType::from_mode_bits(opts.mode)
            };
            match ty {
                Some(FileType::Directory) => return Err(Errno::EPERM.into()),
                Some(FileType::CharDevice | FileType::BlockDevice)
                    if !rp.credentials().has_capability(Capability::MKNOD) =>
                {
                    return Err(Errno::EPERM.into());
                }
                Some(FileType::Symlink) | None => return Err(Errno::EINVAL.into()),
                _ => {}
            }
            let inode = parent.inode().new_node(ctx, &name, opts)?;
            fs.insert_child_locked(ctx, &parent, &name, inode);
            Ok(())
        })
    }

    fn open_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: OpenOptions,
    ) -> PathResult<FileRef> {
        let fs = Arc::clone(start(rp)?.filesystem());
        if !opts.flags.contains(OpenFlags::CREAT) {
            return self.with_read(ctx, || {
                let d = walk_existing_locked(&fs, ctx, rp)?;
                open_locked(ctx, rp, &d, opts, false)
            });
        }
        self.with_write(ctx, |_| {
            let mut parent = walk_parent_locked(&fs, ctx, rp)?;
            loop {
                if rp.must_be_dir() {
                    return Err(Errno::EISDIR.into());
                }
                let name = rp.component().to_vec();
                if name == b"." || name == b".." {
                    return Err(Errno::EISDIR.into());
                }
                parent
                    .inode()
                    .check_permission(rp.credentials(), AccessTypes::EXEC)?;
                match fs.child_locked(ctx, &parent, &name) {
                    Ok(child) => {
                        if opts.flags.contains(OpenFlags::EXCL) {
                            return Err(Errno::EEXIST.into());
                        }
                        rp.check_mount(&*child)?;
                        if child.inode().mode().is_symlink() && rp.should_follow_symlink() {
                            match child.inode().getlink(ctx, rp.mount())? {
                                LinkTarget::Path(target) => rp.handle_symlink(&target)?,
                                LinkTarget::Jump(vd) => rp.handle_jump(vd)?,
                                LinkTarget::File(file) => rp.handle_jump_to_file(file)?,
                            }
                            parent = walk_parent_from_locked(&fs, ctx, rp, parent)?;
                            continue;
                        }
                        rp.advance();
                        return open_locked(ctx, rp, &child, opts, false);
                    }
                    Err(Errno::ENOENT) => {
                        if parent.vfs().is_dead() {
                            return Err(Errno::ENOENT.into());
                        }
                        rp.mount().check_writable()?;
                        parent.inode().check_permission(
                            rp.credentials(),
                            AccessTypes::WRITE | AccessTypes::EXEC,
                        )?;
                        let inode = parent.inode().new_file(ctx, &name, &opts)?;
                        let child = fs.insert_child_locked(ctx, &parent, &name, inode);
                        rp.advance();
                        return open_locked(ctx, rp, &child, opts, true);
                    }
                    Err(errno) => return Err(errno.into()),
                }
            }
        })
    }

    fn readlink_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Vec<u8>> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            if !d.inode().mode().is_symlink() {
                return Err(Errno::EINVAL.into());
            }
            Ok(d.inode().readlink(ctx)?)
        })
    }

    fn rename_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        old_parent: &VirtualDentry,
        old_name: &[u8],
        opts: RenameOptions,
    ) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_write(ctx, |_| {
            let new_parent = walk_parent_locked(&fs, ctx, rp)?;
            vfs_core::check_rename_names(rp, old_parent, old_name, opts)?;
            let old_parent = same_fs_dentry(&fs, rp.mount(), old_parent)?;
            let new_name = rp.component().to_vec();
            let creds = rp.credentials();
            old_parent
                .inode()
                .check_permission(creds, AccessTypes::EXEC)?;
            new_parent
                .inode()
                .check_permission(creds, AccessTypes::EXEC)?;
            let src = fs.child_locked(ctx, &old_parent, old_name)?;
            let src_dir = src.inode().is_dir();
            if (opts.must_be_dir || rp.must_be_dir()) && !src_dir {
                return Err(Errno::ENOTDIR.into());
            }
            let dst = match fs.child_locked(ctx, &new_parent, &new_name) {
                Ok(d) => Some(d),
                Err(Errno::ENOENT) => None,
                Err(errno) => return Err(errno.into()),
            };
            let exchange = opts.flags.contains(RenameFlags::EXCHANGE);
            if exchange && dst.is_none() {
                return Err(Errno::ENOENT.into());
            }
            if opts.flags.contains(RenameFlags::NOREPLACE) && dst.is_some() {
                return Err(Errno::EEXIST.into());
            }
            if let Some(dst) = &dst
                && (Arc::ptr_eq(&src, dst) || Arc::ptr_eq(src.inode(), dst.inode()))
            {
                return Ok(());
            }
            let both = AccessTypes::WRITE | AccessTypes::EXEC;
            old_parent.inode().check_permission(creds, both)?;
            new_parent.inode().check_permission(creds, both)?;
            let src_attrs = src.inode().attrs();
            permissions::check_delete_sticky(
                creds,
                old_parent.inode().attrs().owner(),
                src_attrs.uid(),
                src_attrs.gid(),
            )?;
            if let Some(dst) = &dst {
                let dst_attrs = dst.inode().attrs();
                permissions::check_delete_sticky(
                    creds,
                    new_parent.inode().attrs().owner(),
                    dst_attrs.uid(),
                    dst_attrs.gid(),
                )?;
            }
            let moves = !Arc::ptr_eq(&old_parent, &new_parent);
            if src_dir {
                if is_ancestor_locked(&src, &new_parent) {
                    return Err(Errno::EINVAL.into());
                }
                if moves {
                    src.inode().check_permission(creds, AccessTypes::WRITE)?;
                }
            }
            if let Some(dst) = &dst {
                let dst_dir = dst.inode().is_dir();
                if exchange {
                    if dst_dir {
                        if is_ancestor_locked(dst, &old_parent) {
                            return Err(Errno::EINVAL.into());
                        }
                        if moves {
                            dst.inode().check_permission(creds, AccessTypes::WRITE)?;
                        }
                    }
                } else {
                    if src_dir && !dst_dir {
                        return Err(Errno::ENOTDIR.into());
                    }
                    if !src_dir && dst_dir {
                        return Err(Errno::EISDIR.into());
                    }
                    if dst_dir && is_ancestor_locked(dst, &old_parent) {
                        return Err(Errno::ENOTEMPTY.into());
                    }
                }
            }
            let guard = RenameGuard::prepare(src.vfs(), dst.as_ref().map(|d| d.vfs()))?;
            if let Some(dst) = &dst
                && !exchange
                && dst.inode().is_dir()
                && dst.inode().has_children(ctx)
            {
                return Err(Errno::ENOTEMPTY.into());
            }
            old_parent.inode().rename(
                ctx,
                old_name,
                src.inode(),
                RenameTarget {
                    new_dir: new_parent.inode(),
                    new_name: &new_name,
                    replaced: dst.as_ref().map(|d| d.inode()),
                    exchange,
                },
            )?;
            Filesystem::remove_child_locked(&old_parent, old_name, &src);
            if let Some(dst) = &dst {
                Filesystem::remove_child_locked(&new_parent, &new_name, dst);
            }
            {
                let mut links = src.tree.lock();
                new_parent.inc_ref_internal();
                links.parent = Some(Arc::clone(&new_parent));
                links.name = new_name.clone();
            }
            new_parent
                .tree
                .lock()
                .children
                .insert(new_name.clone(), Arc::clone(&src));
            DentryImpl::dec_ref(&*old_parent, ctx);
            match &dst {
                Some(dst) if exchange => {
                    {
                        let mut links = dst.tree.lock();
                        old_parent.inc_ref_internal();
                        links.parent = Some(Arc::clone(&old_parent));
                        links.name = old_name.to_vec();
                    }
                    old_parent
                        .tree
                        .lock()
                        .children
                        .insert(old_name.to_vec(), Arc::clone(dst));
                    DentryImpl::dec_ref(&*new_parent, ctx);
                    guard.commit_exchange();
                }
                Some(dst) => {
                    guard.commit_replace();
                    recheck(ctx, dst);
                }
                None => guard.commit_replace(),
            }
            Ok(())
        })
    }

    fn rmdir_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_write(ctx, |_| {
            let parent = walk_parent_locked(&fs, ctx, rp)?;
            let name = rp.component().to_vec();
            let creds = rp.credentials();
            parent.inode().check_permission(creds, AccessTypes::EXEC)?;
            if name == b"." {
                return Err(Errno::EINVAL.into());
            }
            if name == b".." {
                return Err(Errno::ENOTEMPTY.into());
            }
            rp.mount().check_writable()?;
            let child = fs.child_locked(ctx, &parent, &name)?;
            parent
                .inode()
                .check_permission(creds, AccessTypes::WRITE | AccessTypes::EXEC)?;
            let attrs = child.inode().attrs();
            permissions::check_delete_sticky(
                creds,
                parent.inode().attrs().owner(),
                attrs.uid(),
                attrs.gid(),
            )?;
            if !child.inode().is_dir() {
                return Err(Errno::ENOTDIR.into());
            }
            let guard = DeleteGuard::prepare(child.vfs())?;
            if child.inode().has_children(ctx) {
                return Err(Errno::ENOTEMPTY.into());
            }
            parent.inode().rmdir(ctx, &name, child.inode())?;
            guard.commit();
            Filesystem::remove_child_locked(&parent, &name, &child);
            recheck(ctx, &child);
            Ok(())
        })
    }

    fn set_stat_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: SetStatOptions,
    ) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            rp.mount().check_writable()?;
            Ok(d.inode().set_stat(ctx, &fs, opts)?)
        })
    }

    fn stat_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: StatOptions,
    ) -> PathResult<Statx> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            Ok(d.inode().stat(ctx, &fs, opts)?)
        })
    }

    fn statfs_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<Statfs> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            Ok(d.inode().statfs(ctx, &fs)?)
        })
    }

    fn symlink_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        target: &[u8],
    ) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_write(ctx, |_| {
            let parent = walk_parent_locked(&fs, ctx, rp)?;
            let name = rp.component().to_vec();
            check_create_locked(&fs, ctx, rp, &parent, &name)?;
            if rp.must_be_dir() {
                return Err(Errno::ENOENT.into());
            }
            let inode = parent.inode().new_symlink(ctx, &name, target)?;
            fs.insert_child_locked(ctx, &parent, &name, inode);
            Ok(())
        })
    }

    fn unlink_at(&self, ctx: &dyn Context, rp: &mut ResolvingPath<'_>) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_write(ctx, |_| {
            let parent = walk_parent_locked(&fs, ctx, rp)?;
            let name = rp.component().to_vec();
            let creds = rp.credentials();
            parent.inode().check_permission(creds, AccessTypes::EXEC)?;
            if name == b"." || name == b".." {
                return Err(Errno::EISDIR.into());
            }
            rp.mount().check_writable()?;
            let child = fs.child_locked(ctx, &parent, &name)?;
            let child_dir = child.inode().is_dir();
            if rp.must_be_dir() {
                return Err(if child_dir {
                    Errno::EISDIR
                } else {
                    Errno::ENOTDIR
                }
                .into());
            }
            parent
                .inode()
                .check_permission(creds, AccessTypes::WRITE | AccessTypes::EXEC)?;
            let attrs = child.inode().attrs();
            permissions::check_delete_sticky(
                creds,
                parent.inode().attrs().owner(),
                attrs.uid(),
                attrs.gid(),
            )?;
            if child_dir {
                return Err(Errno::EISDIR.into());
            }
            let guard = DeleteGuard::prepare(child.vfs())?;
            parent.inode().unlink(ctx, &name, child.inode())?;
            guard.commit();
            Filesystem::remove_child_locked(&parent, &name, &child);
            recheck(ctx, &child);
            Ok(())
        })
    }

    fn list_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
    ) -> PathResult<Vec<Vec<u8>>> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            Ok(d.inode().list_xattr(ctx)?)
        })
    }

    fn get_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: &GetXattrOptions,
    ) -> PathResult<Vec<u8>> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            Ok(d.inode().get_xattr(ctx, opts)?)
        })
    }

    fn set_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        opts: &SetXattrOptions,
    ) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            rp.mount().check_writable()?;
            Ok(d.inode().set_xattr(ctx, opts)?)
        })
    }

    fn remove_xattr_at(
        &self,
        ctx: &dyn Context,
        rp: &mut ResolvingPath<'_>,
        name: &[u8],
    ) -> PathResult<()> {
        let fs = Arc::clone(start(rp)?.filesystem());
        self.with_read(ctx, || {
            let d = walk_existing_locked(&fs, ctx, rp)?;
            rp.mount().check_writable()?;
            Ok(d.inode().remove_xattr(ctx, name)?)
        })
    }

    fn parent_and_name(&self, dentry: &dyn DentryImpl) -> Option<(DentryRef, Vec<u8>)> {
        let d = Dentry::from_vfs(dentry)?;
        self.with_read(vfs_core::context::background(), || {
            let links = d.tree.lock();
            let parent = links.parent.as_ref()?;
            Some((new_ref(parent), links.name.clone()))
        })
    }
}
