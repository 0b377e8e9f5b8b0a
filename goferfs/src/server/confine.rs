//! The confinement rules of the gofer: name validation, one-component
//! walking without following symlinks, and safe reopening of path fds.
//!
//! Every host path operation the server performs is relative to a directory
//! fd it holds and names a single component that [`check_name`] accepted, or
//! is `/proc/self/fd/N` for an fd it holds (which the kernel resolves to that
//! fd's inode, never through a path a client could change).

use crate::error::from_nix;
use crate::message::Qid;
use abi_linux::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// Accepts `name` only if it is one path component: not empty, not `.` or
/// `..`, and without `/` or NUL. Anything else is `EINVAL`.
pub(crate) fn check_name(name: &[u8]) -> Result<&[u8], Errno> {
    if name.is_empty() || name == b"." || name == b".." || name.iter().any(|&b| b == b'/' || b == 0)
    {
        return Err(Errno::EINVAL);
    }
    Ok(name)
}

/// Returns `name` as an `OsStr` for the `*at` calls.
pub(crate) fn os(name: &[u8]) -> &std::ffi::OsStr {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(name)
}

/// Opens child `name` of directory `dir` as an `O_PATH` fd without following
/// a final symlink (a symlink yields an fd for the link itself).
///
/// # Preconditions
///
/// `name` passed [`check_name`].
pub(crate) fn open_child(dir: BorrowedFd<'_>, name: &[u8]) -> Result<OwnedFd, Errno> {
    openat(
        dir,
        os(name),
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(from_nix)
}

/// Returns `lstat` of the file an fd refers to.
pub(crate) fn stat_fd(fd: BorrowedFd<'_>) -> Result<FileStat, Errno> {
    fstatat(
        fd,
        "",
        nix::fcntl::AtFlags::AT_EMPTY_PATH | nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(from_nix)
}

/// Returns the file type bits of a stat.
pub(crate) fn file_type(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT)
}

/// Builds the qid of a file from its stat.
pub(crate) fn qid_of(st: &FileStat) -> Qid {
    let ty = match file_type(st) {
        SFlag::S_IFDIR => Qid::TYPE_DIR,
        SFlag::S_IFLNK => Qid::TYPE_SYMLINK,
        _ => Qid::TYPE_FILE,
    };
    Qid {
        ty,
        version: 0,
        path: st.st_ino,
    }
}

/// The `/proc/self/fd/N` path of an fd this process holds.
pub(crate) fn proc_path(fd: BorrowedFd<'_>) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Opens this process's `/proc/self/fd` directory once, for [`reopen`].
/// It must be on procfs: anything else mounted there could name other
/// files by those numbers. Otherwise `ENODEV`.
pub(crate) fn open_proc_fds() -> Result<OwnedFd, Errno> {
    let dir = nix::fcntl::open(
        "/proc/self/fd",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(from_nix)?;
    let fs = nix::sys::statfs::fstatfs(&dir).map_err(from_nix)?;
    if fs.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC {
        return Err(Errno::ENODEV);
    }
    Ok(dir)
}

/// Writes `n` in decimal at the end of `buf` and returns those digits.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Opens the file of `path_fd` (an `O_PATH` fd) for I/O with `flags`.
///
/// Reopening through `/proc/self/fd/N` is safe: that magic link resolves to
/// the very inode `path_fd` refers to, not through a path, so no rename or
/// symlink swap by anyone can redirect it. The link is looked up in
/// `proc_fds` (from [`open_proc_fds`]), which saves walking `/proc/self`
/// on every open (about a quarter of the cost of the open).
///
/// Opening the fid's parent directory and name instead, and checking
/// afterwards with `fstat` that the same inode was reached, would be a
/// little cheaper still, but not safe: the open itself acts on whatever
/// the name means at that moment (someone may have renamed another file
/// over it), so `O_TRUNC` would truncate the wrong file, a FIFO swapped in
/// would block the connection's reader thread, and a device node's open
/// (which the export policy may forbid) would already have had its effect
/// when the check fails.
///
/// # Preconditions
///
/// The caller checked the file type of `path_fd`: it is not a symlink
/// (which would be opened as its target's path).
pub(crate) fn reopen(
    proc_fds: BorrowedFd<'_>,
    path_fd: BorrowedFd<'_>,
    flags: OFlag,
) -> Result<OwnedFd, Errno> {
    let n = u32::try_from(path_fd.as_raw_fd()).map_err(|_| Errno::EBADF)?;
    let mut buf = [0u8; 10];
    openat(
        proc_fds,
        os(decimal(n, &mut buf)),
        flags | OFlag::O_CLOEXEC | OFlag::O_NOCTTY,
        Mode::empty(),
    )
    .map_err(from_nix)
}

/// Reopens a directory's `O_PATH` fd for reading its entries.
pub(crate) fn open_dir(path_fd: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    openat(
        path_fd,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(from_nix)
}

/// Duplicates an fd (for sharing a path fd between fids).
pub(crate) fn dup(fd: &impl AsFd) -> Result<OwnedFd, Errno> {
    fd.as_fd()
        .try_clone_to_owned()
        .map_err(|e| crate::error::from_io(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_matches_formatting() {
        for n in [0, 7, 10, 99, 1234, u32::MAX] {
            let mut buf = [0u8; 10];
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }

    #[test]
    fn reopen_reaches_the_inode_after_its_name_changed() {
        let dir = std::env::temp_dir().join(format!("goferfs-reopen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a"), b"first").unwrap();
        let d = nix::fcntl::open(&dir, OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
        let p = open_child(d.as_fd(), b"a").unwrap();
        std::fs::rename(dir.join("a"), dir.join("b")).unwrap();
        std::fs::write(dir.join("a"), b"second").unwrap();
        let procs = open_proc_fds().unwrap();
        let f = reopen(procs.as_fd(), p.as_fd(), OFlag::O_RDONLY).unwrap();
        let mut got = String::new();
        std::io::Read::read_to_string(&mut std::fs::File::from(f), &mut got).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(got, "first");
    }

    #[test]
    fn dot_dotdot_slash_and_empty_names_are_einval() {
        for bad in [&b""[..], b".", b"..", b"a/b", b"/", b"a\0b"] {
            assert_eq!(check_name(bad), Err(Errno::EINVAL), "{bad:?}");
        }
        assert!(check_name(b"...").is_ok());
        assert!(check_name(b"\xff\xfe").is_ok());
    }
}
