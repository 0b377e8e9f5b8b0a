//! `mount(2)` and `umount2(2)` flags: [`MountFlags`], [`UmountFlags`].

use bitflags::bitflags;

/// `MS_MGC_VAL`: the magic number old programs put in the top 16 bits of
/// the `mount(2)` flags; Linux ignores it.
pub const MS_MGC_VAL: u64 = 0xc0ed_0000;
/// `MS_MGC_MSK`: the mask of the magic number.
pub const MS_MGC_MSK: u64 = 0xffff_0000;

bitflags! {
    /// The `MS_*` flags of `mount(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MountFlags: u64 {
        /// `MS_RDONLY`: read-only.
        const RDONLY = 1;
        /// `MS_NOSUID`: ignore set-user-ID and set-group-ID bits.
        const NOSUID = 1 << 1;
        /// `MS_NODEV`: disallow device files.
        const NODEV = 1 << 2;
        /// `MS_NOEXEC`: disallow execution.
        const NOEXEC = 1 << 3;
        /// `MS_SYNCHRONOUS`: writes are synchronous.
        const SYNCHRONOUS = 1 << 4;
        /// `MS_REMOUNT`: change the flags of an existing mount.
        const REMOUNT = 1 << 5;
        /// `MS_MANDLOCK`: allow mandatory locks (refused by current Linux).
        const MANDLOCK = 1 << 6;
        /// `MS_DIRSYNC`: directory changes are synchronous.
        const DIRSYNC = 1 << 7;
        /// `MS_NOSYMFOLLOW`: do not follow symlinks.
        const NOSYMFOLLOW = 1 << 8;
        /// `MS_NOATIME`: do not update access times.
        const NOATIME = 1 << 10;
        /// `MS_NODIRATIME`: do not update directory access times.
        const NODIRATIME = 1 << 11;
        /// `MS_BIND`: make a bind mount.
        const BIND = 1 << 12;
        /// `MS_MOVE`: move a mount.
        const MOVE = 1 << 13;
        /// `MS_REC`: apply recursively.
        const REC = 1 << 14;
        /// `MS_SILENT` (formerly `MS_VERBOSE`): suppress some messages.
        const SILENT = 1 << 15;
        /// `MS_POSIXACL`: the filesystem supports POSIX ACLs.
        const POSIXACL = 1 << 16;
        /// `MS_UNBINDABLE`: make the mount unbindable.
        const UNBINDABLE = 1 << 17;
        /// `MS_PRIVATE`: make the mount private.
        const PRIVATE = 1 << 18;
        /// `MS_SLAVE`: make the mount a slave.
        const SLAVE = 1 << 19;
        /// `MS_SHARED`: make the mount shared.
        const SHARED = 1 << 20;
        /// `MS_RELATIME`: update access times relative to modification.
        const RELATIME = 1 << 21;
        /// `MS_KERNMOUNT`: internal, a kernel mount.
        const KERNMOUNT = 1 << 22;
        /// `MS_I_VERSION`: update inode version numbers.
        const I_VERSION = 1 << 23;
        /// `MS_STRICTATIME`: always update access times.
        const STRICTATIME = 1 << 24;
        /// `MS_LAZYTIME`: update times lazily.
        const LAZYTIME = 1 << 25;
        /// `MS_SUBMOUNT`: internal, a submount.
        const SUBMOUNT = 1 << 26;
        /// `MS_NOREMOTELOCK`: internal, no remote locking.
        const NOREMOTELOCK = 1 << 27;
        /// `MS_NOSEC`: internal, skip security checks.
        const NOSEC = 1 << 28;
        /// `MS_BORN`: internal, the superblock is set up.
        const BORN = 1 << 29;
        /// `MS_ACTIVE`: internal, the superblock is active.
        const ACTIVE = 1 << 30;
        /// `MS_NOUSER`: internal, cannot be mounted from user space.
        const NOUSER = 1 << 31;
    }
}

bitflags! {
    /// The flags of `umount2(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct UmountFlags: u32 {
        /// `MNT_FORCE`: force the unmount even if busy.
        const FORCE = 1;
        /// `MNT_DETACH`: detach now, clean up when no longer busy.
        const DETACH = 2;
        /// `MNT_EXPIRE`: mark for expiry, or unmount if already marked.
        const EXPIRE = 4;
        /// `UMOUNT_NOFOLLOW`: do not follow a trailing symlink.
        const NOFOLLOW = 8;
    }
}
