//! Option structs passed from the VFS's syscall-level entry points to the
//! filesystem implementations (gVisor's `vfs/options.go`).

use alloc::vec::Vec;

use abi_linux::{OpenFlags, RenameFlags, RwfFlags, Statx, StatxMask, XattrFlags};

use crate::permissions::AccessTypes;

/// Options for [`crate::FilesystemImpl::get_dentry_at`].
#[derive(Clone, Copy, Debug, Default)]
pub struct GetDentryOptions {
    /// Require search (execute) permission on the final directory, as
    /// `chdir` and `chroot` do; the final file must then be a directory.
    pub check_searchable: bool,
}

/// Options for `mkdir`.
#[derive(Clone, Copy, Debug, Default)]
pub struct MkdirOptions {
    /// Permission bits (`0777 | S_ISVTX`), before the umask the caller has
    /// already applied.
    pub mode: u32,
    /// Create a directory to mount on even where applications could not
    /// (the sentry's own mount points on read-only filesystems).
    pub for_synthetic_mountpoint: bool,
}

/// Options for `mknod`.
#[derive(Clone, Copy, Debug, Default)]
pub struct MknodOptions {
    /// File type and permission bits.
    pub mode: u32,
    /// Device major number, for device nodes.
    pub dev_major: u32,
    /// Device minor number, for device nodes.
    pub dev_minor: u32,
}

/// Options for `open`.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenOptions {
    /// `O_*` flags, already masked by the VFS to those Linux honours.
    pub flags: OpenFlags,
    /// Permission bits for a file `O_CREAT` makes.
    pub mode: u32,
    /// The file is being opened for `execve`: exec permission is checked
    /// and only regular files on non-`noexec` mounts qualify.
    pub file_exec: bool,
}

/// Options for `read`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// `preadv2` flags.
    pub flags: RwfFlags,
}

/// Options for `write`.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    /// `pwritev2` flags.
    pub flags: RwfFlags,
}

/// Options for `rename`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenameOptions {
    /// `RENAME_*` flags.
    pub flags: RenameFlags,
    /// The source path had a trailing slash: the source must be a
    /// directory.
    pub must_be_dir: bool,
}

/// Options for `set_stat`: which fields to change and their new values.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetStatOptions {
    /// `mask` selects the fields (`STATX_MODE`, `STATX_UID`, `STATX_GID`,
    /// `STATX_SIZE`, `STATX_ATIME`, `STATX_MTIME`, `STATX_CTIME`);
    /// timestamps whose `tv_nsec` is [`UTIME_NOW`] mean "now" and
    /// [`UTIME_OMIT`] means "leave alone".
    pub stat: Statx,
    /// Write permission is needed as well (`truncate(2)` by path).
    pub need_write_perm: bool,
}

/// `tv_nsec` value meaning "set to the current time".
pub const UTIME_NOW: u32 = (1 << 30) - 1;
/// `tv_nsec` value meaning "do not change".
pub const UTIME_OMIT: u32 = (1 << 30) - 2;

/// Options for `stat`.
#[derive(Clone, Copy, Debug)]
pub struct StatOptions {
    /// The fields the caller wants.
    pub mask: StatxMask,
    /// `AT_STATX_*` synchronisation type.
    pub sync: u32,
}

impl Default for StatOptions {
    fn default() -> Self {
        Self {
            mask: StatxMask::BASIC_STATS | StatxMask::BTIME,
            sync: 0,
        }
    }
}

/// Options for `getxattr`.
#[derive(Clone, Debug, Default)]
pub struct GetXattrOptions {
    /// The attribute's full name, namespace prefix included.
    pub name: Vec<u8>,
    /// The caller's buffer size; 0 asks for the size only. A value larger
    /// than this is `ERANGE`, which the VFS checks (filesystems need not).
    pub size: u64,
}

/// Options for `setxattr`.
#[derive(Clone, Debug, Default)]
pub struct SetXattrOptions {
    /// The attribute's full name.
    pub name: Vec<u8>,
    /// The new value.
    pub value: Vec<u8>,
    /// `XATTR_CREATE` or `XATTR_REPLACE`.
    pub flags: XattrFlags,
}

/// Options for `access`.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessOptions {
    /// What is asked for.
    pub access: AccessTypes,
}
