//! Permission checks with Linux's rules (`generic_permission`,
//! `inode_owner_or_capable`, `setattr_prepare`, `may_delete`,
//! `may_linkat`), shared by every filesystem.

use abi_linux::{Capability, Errno, FileMode, FileType, RlimitResource, StatxMask};

use crate::context::Context;
use crate::credentials::{Credentials, Gid, Uid};
use crate::options::{SetStatOptions, UTIME_NOW};

bitflags::bitflags! {
    /// What an access asks for (`MAY_EXEC`, `MAY_WRITE`, `MAY_READ`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct AccessTypes: u16 {
        /// Execute a file or search a directory.
        const EXEC = 1;
        /// Write a file or modify a directory.
        const WRITE = 2;
        /// Read a file or list a directory.
        const READ = 4;
    }
}

impl AccessTypes {
    /// The accesses an `open` with `flags` needs (`O_TRUNC` needs write
    /// even for a read-only open).
    pub fn for_open_flags(flags: abi_linux::OpenFlags, exec: bool) -> Self {
        let mut access = if exec { Self::EXEC } else { Self::empty() };
        match flags.access_mode() {
            abi_linux::AccessMode::ReadOnly => {
                access |= Self::READ;
                if flags.contains(abi_linux::OpenFlags::TRUNC) {
                    access |= Self::WRITE;
                }
            }
            abi_linux::AccessMode::WriteOnly => access |= Self::WRITE,
            abi_linux::AccessMode::ReadWrite => access |= Self::READ | Self::WRITE,
        }
        access
    }
}

/// The owner and mode of a file, as the checks need them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileOwner {
    /// The file's mode, type bits included.
    pub mode: FileMode,
    /// Owning user.
    pub uid: Uid,
    /// Owning group.
    pub gid: Gid,
}

/// Linux `generic_permission`: the owner, group or other bits, then
/// `CAP_DAC_READ_SEARCH` for reads and directory searches, then
/// `CAP_DAC_OVERRIDE` (which does not grant executing a file without any
/// execute bit).
pub fn generic_permission(
    creds: &Credentials,
    access: AccessTypes,
    file: FileOwner,
) -> Result<(), Errno> {
    let perms = file.mode.permissions();
    let class_bits = if creds.fs_uid == file.uid {
        (perms >> 6) & 0o7
    } else if creds.in_group(file.gid) {
        (perms >> 3) & 0o7
    } else {
        perms & 0o7
    };
    let wanted = u32::from(access.bits());
    if class_bits & wanted == wanted {
        return Ok(());
    }
    let is_dir = file.mode.file_type() == Some(FileType::Directory);
    let read_or_search_only =
        access == AccessTypes::READ || (is_dir && !access.contains(AccessTypes::WRITE));
    if read_or_search_only
        && creds.has_capability_on_file(Capability::DAC_READ_SEARCH, file.uid, file.gid)
    {
        return Ok(());
    }
    if (is_dir || !access.contains(AccessTypes::EXEC) || perms & 0o111 != 0)
        && creds.has_capability_on_file(Capability::DAC_OVERRIDE, file.uid, file.gid)
    {
        return Ok(());
    }
    Err(Errno::EACCES)
}

/// Linux `may_linkat` with `protected_hardlinks`: the owner may link; others
/// only to a regular, non-setuid file they can read and write.
pub fn may_link(creds: &Credentials, file: FileOwner) -> Result<(), Errno> {
    if creds.can_act_as_owner(file.uid) {
        return Ok(());
    }
    if file.mode.file_type() != Some(FileType::Regular) || file.mode.0 & 0o4000 != 0 {
        return Err(Errno::EPERM);
    }
    generic_permission(creds, AccessTypes::READ | AccessTypes::WRITE, file)
        .map_err(|_| Errno::EPERM)
}

/// Whether changing the mode to `mode` must clear `S_ISGID`: the caller is
/// neither in the file's group nor holds `CAP_FSETID`.
pub fn should_clear_sgid(creds: &Credentials, mode: u32, file: FileOwner) -> bool {
    mode & 0o2000 != 0
        && !creds.in_group(file.gid)
        && !creds.has_capability_on_file(Capability::FSETID, file.uid, file.gid)
}

/// Linux `setattr_prepare`: who may change which attributes. May clear
/// `S_ISGID` from a requested mode, as Linux does.
pub fn check_set_stat(
    ctx: &dyn Context,
    opts: &mut SetStatOptions,
    file: FileOwner,
) -> Result<(), Errno> {
    let creds = ctx.credentials();
    let stat = &mut opts.stat;
    let mask = StatxMask::from_bits_retain(stat.stx_mask);
    if mask.contains(StatxMask::SIZE) {
        let limit = check_limit(ctx, 0, stat.stx_size)?;
        if limit < stat.stx_size {
            ctx.file_size_limit_exceeded();
            return Err(Errno::EFBIG);
        }
    }
    if mask.contains(StatxMask::MODE) {
        if !creds.can_act_as_owner(file.uid) {
            return Err(Errno::EPERM);
        }
        if should_clear_sgid(creds, u32::from(stat.stx_mode), file) {
            stat.stx_mode &= !0o2000;
        }
    }
    if mask.contains(StatxMask::UID)
        && !((creds.fs_uid == file.uid && stat.stx_uid == file.uid)
            || creds.has_capability_on_file(Capability::CHOWN, file.uid, file.gid))
    {
        return Err(Errno::EPERM);
    }
    if mask.contains(StatxMask::GID)
        && !((creds.fs_uid == file.uid && creds.in_group(stat.stx_gid))
            || creds.has_capability_on_file(Capability::CHOWN, file.uid, file.gid))
    {
        return Err(Errno::EPERM);
    }
    if opts.need_write_perm {
        generic_permission(creds, AccessTypes::WRITE, file)?;
    }
    let times = StatxMask::ATIME | StatxMask::MTIME | StatxMask::CTIME;
    if mask.intersects(times) && !creds.can_act_as_owner(file.uid) {
        let explicit = |field: StatxMask, nsec: u32| mask.contains(field) && nsec != UTIME_NOW;
        if explicit(StatxMask::ATIME, stat.stx_atime.tv_nsec)
            || explicit(StatxMask::MTIME, stat.stx_mtime.tv_nsec)
            || explicit(StatxMask::CTIME, stat.stx_ctime.tv_nsec)
        {
            return Err(Errno::EPERM);
        }
        generic_permission(creds, AccessTypes::WRITE, file)?;
    }
    Ok(())
}

/// The sticky-directory rule for deleting or renaming away `child` from
/// `parent`: in a sticky directory only the child's owner, the directory's
/// owner or a `CAP_FOWNER` holder may.
pub fn check_delete_sticky(
    creds: &Credentials,
    parent: FileOwner,
    child_uid: Uid,
    child_gid: Gid,
) -> Result<(), Errno> {
    if parent.mode.0 & 0o1000 == 0
        || creds.fs_uid == child_uid
        || creds.fs_uid == parent.uid
        || creds.has_capability_on_file(Capability::FOWNER, child_uid, child_gid)
    {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// `RLIMIT_FSIZE`: how many of `size` bytes at `offset` may be written.
/// Writing at or past the limit is `EFBIG` (the caller also raises
/// `SIGXFSZ` through [`Context::file_size_limit_exceeded`]).
pub fn check_limit(ctx: &dyn Context, offset: u64, size: u64) -> Result<u64, Errno> {
    let limit = ctx.rlimit(RlimitResource::FSIZE).cur;
    if limit > i64::MAX as u64 {
        return Ok(size);
    }
    if offset >= limit {
        ctx.file_size_limit_exceeded();
        return Err(Errno::EFBIG);
    }
    Ok(size.min(limit - offset))
}

/// Mode after a write by an unprivileged writer or a `chown`: Linux clears
/// `S_ISUID`, and `S_ISGID` when group-execute is set (otherwise it marks
/// mandatory locking), except on directories.
pub fn clear_suid_and_sgid(mode: u32) -> u32 {
    if mode & 0o170000 == 0o040000 {
        return mode;
    }
    let mut mode = mode & !0o4000;
    if mode & 0o2010 == 0o2010 {
        mode &= !0o2000;
    }
    mode
}

/// The namespace rules for extended attributes (Linux `xattr_permission`).
/// `trusted.` needs `CAP_SYS_ADMIN`; `user.` only exists on regular files
/// and directories and, in a sticky directory, only the owner may write;
/// `security.` is open to reads; other namespaces are the filesystem's.
pub fn check_xattr_permissions(
    creds: &Credentials,
    access: AccessTypes,
    file: FileOwner,
    name: &[u8],
) -> Result<(), Errno> {
    if name.starts_with(b"trusted.") {
        if creds.has_capability(Capability::SYS_ADMIN) {
            return Ok(());
        }
        return Err(if access.contains(AccessTypes::WRITE) {
            Errno::EPERM
        } else {
            Errno::ENODATA
        });
    }
    if name.starts_with(b"user.") {
        let ty = file.mode.file_type();
        if ty != Some(FileType::Regular) && ty != Some(FileType::Directory) {
            return Err(if access.contains(AccessTypes::WRITE) {
                Errno::EPERM
            } else {
                Errno::ENODATA
            });
        }
        if ty == Some(FileType::Directory)
            && file.mode.0 & 0o1000 != 0
            && access.contains(AccessTypes::WRITE)
            && !creds.can_act_as_owner(file.uid)
        {
            return Err(Errno::EPERM);
        }
        return generic_permission(creds, access, file);
    }
    if name.starts_with(b"security.") {
        return Ok(());
    }
    if name.starts_with(b"system.") {
        return Ok(());
    }
    Err(Errno::EOPNOTSUPP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi_linux::FileType;

    fn file(perms: u32, uid: Uid, gid: Gid) -> FileOwner {
        FileOwner {
            mode: FileMode::new(FileType::Regular, perms),
            uid,
            gid,
        }
    }

    #[test]
    fn owner_bits_apply_to_owner_even_if_group_allows() {
        let creds = Credentials::user(1000, 1000);
        let f = file(0o070, 1000, 1000);
        assert_eq!(
            generic_permission(&creds, AccessTypes::READ, f),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn supplementary_group_grants_group_bits() {
        let mut creds = Credentials::user(1000, 1000);
        creds.extra_gids.push(50);
        assert!(generic_permission(&creds, AccessTypes::WRITE, file(0o020, 0, 50)).is_ok());
    }

    #[test]
    fn root_cannot_exec_file_without_any_exec_bit() {
        let creds = Credentials::root();
        assert_eq!(
            generic_permission(&creds, AccessTypes::EXEC, file(0o644, 1, 1)),
            Err(Errno::EACCES)
        );
        assert!(generic_permission(&creds, AccessTypes::EXEC, file(0o744, 1, 1)).is_ok());
    }

    #[test]
    fn dac_read_search_grants_read_only() {
        let mut creds = Credentials::user(5, 5);
        creds.effective_caps.insert(Capability::DAC_READ_SEARCH);
        assert!(generic_permission(&creds, AccessTypes::READ, file(0, 1, 1)).is_ok());
        assert_eq!(
            generic_permission(&creds, AccessTypes::WRITE, file(0, 1, 1)),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn sticky_dir_delete_needs_ownership() {
        let creds = Credentials::user(7, 7);
        let dir = FileOwner {
            mode: FileMode::new(FileType::Directory, 0o1777),
            uid: 0,
            gid: 0,
        };
        assert_eq!(check_delete_sticky(&creds, dir, 8, 8), Err(Errno::EPERM));
        assert!(check_delete_sticky(&creds, dir, 7, 7).is_ok());
    }

    #[test]
    fn write_clears_setuid_and_setgid_with_group_exec() {
        assert_eq!(clear_suid_and_sgid(0o106755), 0o100755);
        assert_eq!(clear_suid_and_sgid(0o102755), 0o100755);
        // Set-group-ID without group execute marks mandatory locking: kept.
        assert_eq!(clear_suid_and_sgid(0o102745), 0o102745);
        assert_eq!(clear_suid_and_sgid(0o046755), 0o046755);
    }
}
