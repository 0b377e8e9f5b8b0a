//! inotify calls (gVisor's `sys_inotify.go`): instances and watches are
//! vfs-core's ([`vfs_core::inotify`]); this decodes arguments and finds
//! the watched file.

use abi_linux::inotify::{IN_CLOEXEC, IN_NONBLOCK};
use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, InotifyMask, OpenFlags};
use vfs_core::inotify::InotifyFile;
use vfs_core::{AccessTypes, GetDentryOptions};

use super::{AT_FDCWD, Fd, PathAddr, SysResult, SyscallTable, read_path, with_path};
use crate::task::Task;

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::INOTIFY_INIT, sys_inotify_init);
    table.typed(nr::INOTIFY_INIT1, sys_inotify_init1);
    table.typed(nr::INOTIFY_ADD_WATCH, sys_inotify_add_watch);
    table.typed(nr::INOTIFY_RM_WATCH, sys_inotify_rm_watch);
    table.partial(
        nr::INOTIFY_ADD_WATCH,
        "IN_EXCL_UNLINK is accepted and changes nothing; IN_DELETE_SELF comes when the \
         last link goes, even while the file is open; changes made outside the sandbox \
         (on a host directory) raise no events; no IN_UNMOUNT",
    );
}

fn sys_inotify_init(t: &mut Task) -> SysResult {
    sys_inotify_init1(t, 0)
}

fn sys_inotify_init1(t: &mut Task, flags: u32) -> SysResult {
    if flags & !(IN_CLOEXEC | IN_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let open = if flags & IN_NONBLOCK != 0 {
        OpenFlags::NONBLOCK
    } else {
        OpenFlags::empty()
    };
    let file = vfs_core::inotify::new_inotify(&t.kernel.anon_mount, open);
    t.fds
        .add(file, flags & IN_CLOEXEC != 0, 0, t.fd_limit())
        .map(|fd| fd as u64)
}

/// Runs `f` with the instance descriptor `fd` names: `EBADF` for no
/// descriptor, `EINVAL` for one that is not an instance.
fn with_inotify<T>(
    t: &Task,
    fd: Fd,
    f: impl FnOnce(&std::sync::Arc<vfs_core::inotify::Inotify>) -> Result<T, Errno>,
) -> Result<T, Errno> {
    let file = t.fds.get(fd.0)?;
    let result = match file.downcast::<InotifyFile>() {
        Some(i) => f(i.inotify()),
        None => Err(Errno::EINVAL),
    };
    file.release(&t.ctx);
    result
}

fn sys_inotify_add_watch(t: &mut Task, fd: Fd, path: PathAddr, mask: u32) -> SysResult {
    let mask = InotifyMask::from_bits_retain(mask);
    if !mask.intersects(InotifyMask::ALL_EVENTS)
        || mask.contains(InotifyMask::MASK_ADD | InotifyMask::MASK_CREATE)
    {
        return Err(Errno::EINVAL);
    }
    // The descriptor is checked before the path is looked up.
    with_inotify(t, fd, |_| Ok(()))?;
    let path = read_path(t, path)?;
    let follow = !mask.contains(InotifyMask::DONT_FOLLOW);
    let target = with_path(t, AT_FDCWD, &path, follow, false, |pop| {
        let vd = t
            .kernel
            .vfs
            .get_dentry_at(&t.ctx, pop, GetDentryOptions::default())?;
        // Linux needs read permission on the watched file.
        if let Err(e) = t.kernel.vfs.access_at(&t.ctx, pop, AccessTypes::READ) {
            vd.release(&t.ctx);
            return Err(e);
        }
        Ok(vd)
    })?;
    let result = with_inotify(t, fd, |i| i.add_watch(&target, mask));
    target.release(&t.ctx);
    result.map(|wd| wd as u64)
}

fn sys_inotify_rm_watch(t: &mut Task, fd: Fd, wd: i32) -> SysResult {
    with_inotify(t, fd, |i| i.rm_watch(&t.ctx, wd)).map(|()| 0)
}
