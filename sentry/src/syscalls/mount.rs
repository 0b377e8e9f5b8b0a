//! `mount(2)` and `umount2(2)` for the sandbox's privileged user.
//!
//! New filesystems (`tmpfs`, `proc` and the other registered types), bind
//! mounts (recursive with `MS_REC`) and remounts that change per-mount
//! flags are supported. Every mount is private: `MS_PRIVATE` (with or
//! without `MS_REC`) is accepted as the state things already are in;
//! `MS_SHARED`, `MS_SLAVE`, `MS_UNBINDABLE` and `MS_MOVE` are `EINVAL`.

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Capability, Errno, MountFlags, UmountFlags};
use vfs_core::{Context, GetDentryOptions, GetFilesystemOptions, MountOptionFlags, MountOptions};

use super::{AT_FDCWD, PathAddr, SysResult, SyscallTable, UserAddr, read_path, with_path};
use crate::task::Task;

/// The longest filesystem-type name and data string `mount(2)` copies in
/// (Linux copies at most a page of each).
const MAX_MOUNT_STRING: usize = 4095;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::MOUNT, sys_mount);
    table.typed(nr::UMOUNT2, sys_umount2);
    table.partial(
        nr::MOUNT,
        "every mount is private: MS_SHARED, MS_SLAVE, MS_UNBINDABLE and MS_MOVE are EINVAL",
    );
}

fn read_optional_string(t: &Task, addr: UserAddr) -> Result<Vec<u8>, Errno> {
    if addr.is_null() {
        Ok(Vec::new())
    } else {
        t.mm.copy_in_string(addr.get(), MAX_MOUNT_STRING)
    }
}

fn sys_mount(
    t: &mut Task,
    source_addr: PathAddr,
    target: PathAddr,
    fs_type: UserAddr,
    flags: MountFlags,
    data: UserAddr,
) -> SysResult {
    if !t.ctx.credentials().has_capability(Capability::SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let flags = flags.intersection(MountFlags::all());
    let target = read_path(t, target)?;
    let propagation =
        MountFlags::SHARED | MountFlags::SLAVE | MountFlags::PRIVATE | MountFlags::UNBINDABLE;
    if flags.intersects(propagation) {
        // Only "make private", which every mount already is.
        if flags.intersects(propagation - MountFlags::PRIVATE) {
            return Err(Errno::EINVAL);
        }
        with_path(t, AT_FDCWD, &target, true, false, |pop| {
            let vd = t
                .kernel
                .vfs
                .get_dentry_at(&t.ctx, pop, GetDentryOptions::default())?;
            let is_root = vd.mount.is_root(&*vd.dentry);
            vd.release(&t.ctx);
            if is_root { Ok(()) } else { Err(Errno::EINVAL) }
        })?;
        return Ok(0);
    }
    if flags.contains(MountFlags::MOVE) {
        return Err(Errno::EINVAL);
    }
    if flags.contains(MountFlags::REMOUNT) {
        return remount(t, &target, flags);
    }
    if flags.contains(MountFlags::BIND) {
        let source = read_path(t, source_addr)?;
        let (root, cwd) = t.fs.root_and_cwd()?;
        let source_pop = vfs_core::PathOperation::new(&root, &cwd, &source);
        let target_pop = vfs_core::PathOperation::new(&root, &cwd, &target);
        let result = t.kernel.vfs.bind_mount(
            &t.ctx,
            &source_pop,
            &target_pop,
            flags.contains(MountFlags::REC),
        );
        root.release(&t.ctx);
        cwd.release(&t.ctx);
        result?.release(&t.ctx);
        return Ok(0);
    }
    let fs_type = read_optional_string(t, fs_type)?;
    let fs_type = core::str::from_utf8(&fs_type).map_err(|_| Errno::ENODEV)?;
    let source = read_optional_string(t, source_addr.0)?;
    let data = read_optional_string(t, data)?;
    let opts = MountOptions {
        flags: MountOptionFlags::from_mount_flags(flags),
        get_filesystem: GetFilesystemOptions {
            data: String::from_utf8_lossy(&data).into_owned(),
            read_only: flags.contains(MountFlags::RDONLY),
            internal_data: if fs_type == "tmpfs" {
                crate::kernel::memfs_data(t.kernel.platform.memory_file())
            } else {
                None
            },
        },
    };
    with_path(t, AT_FDCWD, &target, true, false, |pop| {
        let mount = t.kernel.vfs.mount(&t.ctx, &source, pop, fs_type, &opts)?;
        mount.release(&t.ctx);
        Ok(())
    })?;
    Ok(0)
}

/// `MS_REMOUNT`: changes the per-mount flags of the mount whose root is at
/// `target` (with or without `MS_BIND`; filesystem-wide options are kept).
fn remount(t: &Task, target: &[u8], flags: MountFlags) -> SysResult {
    with_path(t, AT_FDCWD, target, true, false, |pop| {
        let vd = t
            .kernel
            .vfs
            .get_dentry_at(&t.ctx, pop, GetDentryOptions::default())?;
        let result = if vd.mount.is_root(&*vd.dentry) {
            vd.mount
                .set_flags(MountOptionFlags::from_mount_flags(flags));
            Ok(())
        } else {
            Err(Errno::EINVAL)
        };
        vd.release(&t.ctx);
        result
    })?;
    Ok(0)
}

fn sys_umount2(t: &mut Task, target: PathAddr, flags: UmountFlags) -> SysResult {
    let target = read_path(t, target)?;
    if !UmountFlags::all().contains(flags) {
        return Err(Errno::EINVAL);
    }
    let follow = !flags.contains(UmountFlags::NOFOLLOW);
    with_path(t, AT_FDCWD, &target, follow, false, |pop| {
        t.kernel.vfs.umount(&t.ctx, pop, flags)
    })?;
    Ok(0)
}
