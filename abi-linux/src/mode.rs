//! File modes: [`FileMode`] (`st_mode`), [`FileType`], the `S_*` mode bits
//! and the `DT_*` directory-entry types.

use core::fmt;

/// `S_IFMT`: the mask of the file-type bits of a mode.
pub const S_IFMT: u32 = 0o170000;
/// `S_IFSOCK`: socket.
pub const S_IFSOCK: u32 = 0o140000;
/// `S_IFLNK`: symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// `S_IFREG`: regular file.
pub const S_IFREG: u32 = 0o100000;
/// `S_IFBLK`: block device.
pub const S_IFBLK: u32 = 0o060000;
/// `S_IFDIR`: directory.
pub const S_IFDIR: u32 = 0o040000;
/// `S_IFCHR`: character device.
pub const S_IFCHR: u32 = 0o020000;
/// `S_IFIFO`: FIFO (named pipe).
pub const S_IFIFO: u32 = 0o010000;
/// `S_ISUID`: set-user-ID on execution.
pub const S_ISUID: u32 = 0o4000;
/// `S_ISGID`: set-group-ID on execution (on a directory: inherit the group).
pub const S_ISGID: u32 = 0o2000;
/// `S_ISVTX`: sticky bit (on a directory: restricted deletion).
pub const S_ISVTX: u32 = 0o1000;
/// `S_IRWXU`: owner read, write and execute.
pub const S_IRWXU: u32 = 0o700;
/// `S_IRUSR`: owner read.
pub const S_IRUSR: u32 = 0o400;
/// `S_IWUSR`: owner write.
pub const S_IWUSR: u32 = 0o200;
/// `S_IXUSR`: owner execute.
pub const S_IXUSR: u32 = 0o100;
/// `S_IRWXG`: group read, write and execute.
pub const S_IRWXG: u32 = 0o070;
/// `S_IRGRP`: group read.
pub const S_IRGRP: u32 = 0o040;
/// `S_IWGRP`: group write.
pub const S_IWGRP: u32 = 0o020;
/// `S_IXGRP`: group execute.
pub const S_IXGRP: u32 = 0o010;
/// `S_IRWXO`: others read, write and execute.
pub const S_IRWXO: u32 = 0o007;
/// `S_IROTH`: others read.
pub const S_IROTH: u32 = 0o004;
/// `S_IWOTH`: others write.
pub const S_IWOTH: u32 = 0o002;
/// `S_IXOTH`: others execute.
pub const S_IXOTH: u32 = 0o001;
/// The permission bits of a mode, including setuid, setgid and sticky.
pub const MODE_PERMS_MASK: u32 = 0o7777;

/// `DT_UNKNOWN`: the file type is not known.
pub const DT_UNKNOWN: u8 = 0;
/// `DT_FIFO`: FIFO.
pub const DT_FIFO: u8 = 1;
/// `DT_CHR`: character device.
pub const DT_CHR: u8 = 2;
/// `DT_DIR`: directory.
pub const DT_DIR: u8 = 4;
/// `DT_BLK`: block device.
pub const DT_BLK: u8 = 6;
/// `DT_REG`: regular file.
pub const DT_REG: u8 = 8;
/// `DT_LNK`: symbolic link.
pub const DT_LNK: u8 = 10;
/// `DT_SOCK`: socket.
pub const DT_SOCK: u8 = 12;
/// `DT_WHT`: whiteout.
pub const DT_WHT: u8 = 14;

/// The type of a file, the `S_IFMT` bits of its mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// Regular file (`S_IFREG`, `DT_REG`).
    Regular,
    /// Directory (`S_IFDIR`, `DT_DIR`).
    Directory,
    /// Symbolic link (`S_IFLNK`, `DT_LNK`).
    Symlink,
    /// Character device (`S_IFCHR`, `DT_CHR`).
    CharDevice,
    /// Block device (`S_IFBLK`, `DT_BLK`).
    BlockDevice,
    /// FIFO (`S_IFIFO`, `DT_FIFO`).
    Fifo,
    /// Socket (`S_IFSOCK`, `DT_SOCK`).
    Socket,
}

impl FileType {
    /// Returns the type named by the `S_IFMT` bits of `mode` (other bits
    /// are ignored), or `None` if they name no type.
    pub const fn from_mode_bits(mode: u32) -> Option<FileType> {
        match mode & S_IFMT {
            S_IFREG => Some(FileType::Regular),
            S_IFDIR => Some(FileType::Directory),
            S_IFLNK => Some(FileType::Symlink),
            S_IFCHR => Some(FileType::CharDevice),
            S_IFBLK => Some(FileType::BlockDevice),
            S_IFIFO => Some(FileType::Fifo),
            S_IFSOCK => Some(FileType::Socket),
            _ => None,
        }
    }

    /// Returns the `S_IF*` bits of this type.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => S_IFREG,
            FileType::Directory => S_IFDIR,
            FileType::Symlink => S_IFLNK,
            FileType::CharDevice => S_IFCHR,
            FileType::BlockDevice => S_IFBLK,
            FileType::Fifo => S_IFIFO,
            FileType::Socket => S_IFSOCK,
        }
    }

    /// Returns the `DT_*` value of this type, as `getdents64(2)` reports it.
    pub const fn dirent_type(self) -> u8 {
        match self {
            FileType::Regular => DT_REG,
            FileType::Directory => DT_DIR,
            FileType::Symlink => DT_LNK,
            FileType::CharDevice => DT_CHR,
            FileType::BlockDevice => DT_BLK,
            FileType::Fifo => DT_FIFO,
            FileType::Socket => DT_SOCK,
        }
    }

    /// Returns the type of a `DT_*` value, or `None` for `DT_UNKNOWN`,
    /// `DT_WHT` and unassigned values.
    pub const fn from_dirent_type(dt: u8) -> Option<FileType> {
        match dt {
            DT_REG => Some(FileType::Regular),
            DT_DIR => Some(FileType::Directory),
            DT_LNK => Some(FileType::Symlink),
            DT_CHR => Some(FileType::CharDevice),
            DT_BLK => Some(FileType::BlockDevice),
            DT_FIFO => Some(FileType::Fifo),
            DT_SOCK => Some(FileType::Socket),
            _ => None,
        }
    }
}

/// A file mode as `st_mode` holds it: file-type bits and permission bits.
///
/// # Examples
///
/// ```
/// use abi_linux::{FileMode, FileType};
///
/// let m = FileMode::new(FileType::Directory, 0o1777);
/// assert_eq!(m.0, 0o41777);
/// assert!(m.is_dir());
/// assert_eq!(m.permissions(), 0o1777);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct FileMode(pub u32);

impl FileMode {
    /// Returns the mode of a file of type `ty` with permission bits
    /// `perms` (bits outside [`MODE_PERMS_MASK`] are dropped).
    pub const fn new(ty: FileType, perms: u32) -> FileMode {
        FileMode(ty.mode_bits() | (perms & MODE_PERMS_MASK))
    }

    /// Returns the file type, or `None` if the type bits name no type.
    pub const fn file_type(self) -> Option<FileType> {
        FileType::from_mode_bits(self.0)
    }

    /// Returns the permission bits (`0o7777`), including setuid, setgid
    /// and sticky.
    pub const fn permissions(self) -> u32 {
        self.0 & MODE_PERMS_MASK
    }

    /// Returns this mode with its permission bits replaced by `perms`.
    pub const fn with_permissions(self, perms: u32) -> FileMode {
        FileMode((self.0 & !MODE_PERMS_MASK) | (perms & MODE_PERMS_MASK))
    }

    /// Reports whether this is a regular file (`S_ISREG`).
    pub const fn is_regular(self) -> bool {
        self.0 & S_IFMT == S_IFREG
    }

    /// Reports whether this is a directory (`S_ISDIR`).
    pub const fn is_dir(self) -> bool {
        self.0 & S_IFMT == S_IFDIR
    }

    /// Reports whether this is a symbolic link (`S_ISLNK`).
    pub const fn is_symlink(self) -> bool {
        self.0 & S_IFMT == S_IFLNK
    }

    /// Reports whether this is a character device (`S_ISCHR`).
    pub const fn is_char_device(self) -> bool {
        self.0 & S_IFMT == S_IFCHR
    }

    /// Reports whether this is a block device (`S_ISBLK`).
    pub const fn is_block_device(self) -> bool {
        self.0 & S_IFMT == S_IFBLK
    }

    /// Reports whether this is a FIFO (`S_ISFIFO`).
    pub const fn is_fifo(self) -> bool {
        self.0 & S_IFMT == S_IFIFO
    }

    /// Reports whether this is a socket (`S_ISSOCK`).
    pub const fn is_socket(self) -> bool {
        self.0 & S_IFMT == S_IFSOCK
    }
}

impl fmt::Debug for FileMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileMode({:#o})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{FileMode, FileType};

    const ALL: [FileType; 7] = [
        FileType::Regular,
        FileType::Directory,
        FileType::Symlink,
        FileType::CharDevice,
        FileType::BlockDevice,
        FileType::Fifo,
        FileType::Socket,
    ];

    #[test]
    fn file_type_round_trips_through_mode_and_dirent_type() {
        for ty in ALL {
            assert_eq!(FileType::from_mode_bits(ty.mode_bits() | 0o644), Some(ty));
            assert_eq!(FileType::from_dirent_type(ty.dirent_type()), Some(ty));
            assert_eq!(FileMode::new(ty, 0o4755).file_type(), Some(ty));
        }
    }

    #[test]
    fn unassigned_type_bits_have_no_type() {
        assert_eq!(FileMode(0o644).file_type(), None);
        assert_eq!(FileMode(0o170644).file_type(), None);
    }

    #[test]
    fn new_drops_bits_outside_the_permission_mask() {
        assert_eq!(FileMode::new(FileType::Regular, 0o177777).0, 0o107777);
        assert_eq!(FileMode(0o100644).with_permissions(0o2750).0, 0o102750);
    }
}
