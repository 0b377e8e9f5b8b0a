//! Extended-attribute system calls (gVisor's `sys_xattr.go`): the
//! `getxattr`, `listxattr`, `setxattr` and `removexattr` families, each by
//! path, by path without following a final symlink, and by descriptor.

use abi_linux::Errno;
use abi_linux::syscalls::x86_64 as nr;
use vfs_core::GetXattrOptions;

use super::{AT_FDCWD, Fd, PathAddr, SysResult, SyscallTable, UserAddr, read_path, with_path};
use crate::task::Task;

use abi_linux::open::{XATTR_NAME_MAX, XATTR_SIZE_MAX};

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::GETXATTR, sys_getxattr);
    table.typed(nr::LGETXATTR, sys_lgetxattr);
    table.typed(nr::FGETXATTR, sys_fgetxattr);
    table.typed(nr::LISTXATTR, sys_listxattr);
    table.typed(nr::LLISTXATTR, sys_llistxattr);
    table.typed(nr::FLISTXATTR, sys_flistxattr);
    table.typed(nr::SETXATTR, sys_setxattr);
    table.typed(nr::LSETXATTR, sys_lsetxattr);
    table.typed(nr::FSETXATTR, sys_fsetxattr);
    table.typed(nr::REMOVEXATTR, sys_removexattr);
    table.typed(nr::LREMOVEXATTR, sys_lremovexattr);
    table.typed(nr::FREMOVEXATTR, sys_fremovexattr);
}

/// Where the attributes come from: a path (following a final symlink or
/// not) or a descriptor.
enum Target {
    Path { path: PathAddr, follow: bool },
    Fd(Fd),
}

fn with_target<T>(
    t: &Task,
    target: Target,
    f: impl FnOnce(&vfs_core::PathOperation<'_>) -> Result<T, Errno>,
) -> Result<T, Errno> {
    match target {
        Target::Path { path, follow } => {
            let path = read_path(t, path)?;
            with_path(t, AT_FDCWD, &path, follow, false, f)
        }
        Target::Fd(fd) => with_path(t, fd.0, b"", true, true, f),
    }
}

/// Copies `value` out as `getxattr(2)` does: the size alone for a zero
/// `size`, `ERANGE` if it does not fit.
fn copy_value(t: &Task, value: &[u8], buf: UserAddr, size: u64) -> SysResult {
    if size == 0 {
        return Ok(value.len() as u64);
    }
    if value.len() as u64 > size.min(XATTR_SIZE_MAX) {
        return Err(Errno::ERANGE);
    }
    t.mm.copy_out_exact(buf.get(), value)?;
    Ok(value.len() as u64)
}

/// Reads an attribute name: `ERANGE` past `XATTR_NAME_MAX` or empty.
fn read_name(t: &Task, name: UserAddr) -> Result<Vec<u8>, Errno> {
    match t.mm.copy_in_string(name.get(), XATTR_NAME_MAX) {
        Err(Errno::ENAMETOOLONG) => Err(Errno::ERANGE),
        Ok(n) if n.is_empty() => Err(Errno::ERANGE),
        other => other,
    }
}

/// `setxattr(2)` (Linux's `setxattr` and `path_setxattr`): `EINVAL` for
/// flags other than `XATTR_CREATE`/`XATTR_REPLACE`, `E2BIG` for a value
/// past `XATTR_SIZE_MAX`.
fn setxattr(
    t: &Task,
    target: Target,
    name: UserAddr,
    value: UserAddr,
    size: u64,
    flags: u32,
) -> SysResult {
    let flags = abi_linux::XattrFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    let name = read_name(t, name)?;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let mut bytes = vec![0u8; size as usize];
    t.mm.copy_in_exact(value.get(), &mut bytes)?;
    let opts = vfs_core::SetXattrOptions {
        name,
        value: bytes,
        flags,
    };
    with_target(t, target, |pop| {
        t.kernel.vfs.set_xattr_at(&t.ctx, pop, &opts)
    })?;
    Ok(0)
}

fn removexattr(t: &Task, target: Target, name: UserAddr) -> SysResult {
    let name = read_name(t, name)?;
    with_target(t, target, |pop| {
        t.kernel.vfs.remove_xattr_at(&t.ctx, pop, &name)
    })?;
    Ok(0)
}

fn sys_setxattr(
    t: &mut Task,
    path: PathAddr,
    name: UserAddr,
    value: UserAddr,
    size: u64,
    flags: u32,
) -> SysResult {
    setxattr(
        t,
        Target::Path { path, follow: true },
        name,
        value,
        size,
        flags,
    )
}

fn sys_lsetxattr(
    t: &mut Task,
    path: PathAddr,
    name: UserAddr,
    value: UserAddr,
    size: u64,
    flags: u32,
) -> SysResult {
    setxattr(
        t,
        Target::Path {
            path,
            follow: false,
        },
        name,
        value,
        size,
        flags,
    )
}

fn sys_fsetxattr(
    t: &mut Task,
    fd: Fd,
    name: UserAddr,
    value: UserAddr,
    size: u64,
    flags: u32,
) -> SysResult {
    setxattr(t, Target::Fd(fd), name, value, size, flags)
}

fn sys_removexattr(t: &mut Task, path: PathAddr, name: UserAddr) -> SysResult {
    removexattr(t, Target::Path { path, follow: true }, name)
}

fn sys_lremovexattr(t: &mut Task, path: PathAddr, name: UserAddr) -> SysResult {
    removexattr(
        t,
        Target::Path {
            path,
            follow: false,
        },
        name,
    )
}

fn sys_fremovexattr(t: &mut Task, fd: Fd, name: UserAddr) -> SysResult {
    removexattr(t, Target::Fd(fd), name)
}

fn getxattr(t: &Task, target: Target, name: UserAddr, buf: UserAddr, size: u64) -> SysResult {
    let name = read_name(t, name)?;
    let opts = GetXattrOptions {
        name,
        size: size.min(XATTR_SIZE_MAX),
    };
    let value = with_target(t, target, |pop| {
        t.kernel.vfs.get_xattr_at(&t.ctx, pop, &opts)
    })?;
    copy_value(t, &value, buf, size)
}

fn listxattr(t: &Task, target: Target, buf: UserAddr, size: u64) -> SysResult {
    let names = with_target(t, target, |pop| t.kernel.vfs.list_xattr_at(&t.ctx, pop))?;
    let mut list = Vec::new();
    for name in names {
        list.extend_from_slice(&name);
        list.push(0);
    }
    copy_value(t, &list, buf, size)
}

fn sys_getxattr(
    t: &mut Task,
    path: PathAddr,
    name: UserAddr,
    buf: UserAddr,
    size: u64,
) -> SysResult {
    let target = Target::Path { path, follow: true };
    getxattr(t, target, name, buf, size)
}

fn sys_lgetxattr(
    t: &mut Task,
    path: PathAddr,
    name: UserAddr,
    buf: UserAddr,
    size: u64,
) -> SysResult {
    let target = Target::Path {
        path,
        follow: false,
    };
    getxattr(t, target, name, buf, size)
}

fn sys_fgetxattr(t: &mut Task, fd: Fd, name: UserAddr, buf: UserAddr, size: u64) -> SysResult {
    getxattr(t, Target::Fd(fd), name, buf, size)
}

fn sys_listxattr(t: &mut Task, path: PathAddr, buf: UserAddr, size: u64) -> SysResult {
    let target = Target::Path { path, follow: true };
    listxattr(t, target, buf, size)
}

fn sys_llistxattr(t: &mut Task, path: PathAddr, buf: UserAddr, size: u64) -> SysResult {
    let target = Target::Path {
        path,
        follow: false,
    };
    listxattr(t, target, buf, size)
}

fn sys_flistxattr(t: &mut Task, fd: Fd, buf: UserAddr, size: u64) -> SysResult {
    listxattr(t, Target::Fd(fd), buf, size)
}
