//! The `manifest` format: one line per path, sorted bytewise by path, with
//! eight tab-separated fields `path type mode uid gid size nlink content`.
//!
//! Shared by the `extfs` example and the integration tests, which compare
//! this crate's manifest with one taken from the kernel's view of the same
//! image.

use std::collections::HashSet;

use extfs::{Ext4, FileType, Inode, ROOT_INO};
use sha2::{Digest, Sha256};

/// The manifest letter of a file type.
pub fn type_char(t: Option<FileType>) -> char {
    match t {
        Some(FileType::Regular) => 'f',
        Some(FileType::Directory) => 'd',
        Some(FileType::Symlink) => 'l',
        Some(FileType::CharDevice) => 'c',
        Some(FileType::BlockDevice) => 'b',
        Some(FileType::Fifo) => 'p',
        Some(FileType::Socket) => 's',
        None => '?',
    }
}

/// Formats one manifest line (with its newline).
#[expect(clippy::too_many_arguments, reason = "one argument per manifest field")]
pub fn line(
    path: &[u8],
    t: char,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    nlink: u64,
    content: &[u8],
) -> Vec<u8> {
    let mut out = path.to_vec();
    out.extend_from_slice(
        format!(
            "\t{t}\t{:04o}\t{uid}\t{gid}\t{size}\t{nlink}\t",
            mode & 0o7777
        )
        .as_bytes(),
    );
    out.extend_from_slice(content);
    out.push(b'\n');
    out
}

/// Lowercase hex of a SHA-256 digest.
pub fn hex(digest: &[u8]) -> Vec<u8> {
    digest
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect()
}

/// Reads a whole regular file through the library and hashes it.
pub fn file_sha256(fs: &Ext4, inode: &Inode, buf: &mut [u8]) -> extfs::Result<Vec<u8>> {
    let mut hasher = Sha256::new();
    let mut offset = 0u64;
    loop {
        let n = fs.read_at(inode, offset, buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        offset += n as u64;
    }
    Ok(hex(&hasher.finalize()))
}

/// The manifest content field of an inode.
pub fn content(fs: &Ext4, inode: &Inode, buf: &mut [u8]) -> extfs::Result<Vec<u8>> {
    Ok(match inode.file_type() {
        Some(FileType::Regular) => file_sha256(fs, inode, buf)?,
        Some(FileType::Symlink) => fs.read_link(inode)?,
        Some(FileType::CharDevice | FileType::BlockDevice) => {
            let (major, minor) = inode.rdev().unwrap_or((0, 0));
            format!("{major},{minor}").into_bytes()
        }
        _ => b"-".to_vec(),
    })
}

/// Computes the manifest of a whole image through the library.
///
/// Directories already visited (by inode number) are not descended into
/// again, so a corrupt image with a directory cycle still terminates.
pub fn library_manifest(fs: &Ext4) -> extfs::Result<Vec<u8>> {
    let mut lines = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut visited = HashSet::new();
    let mut stack = vec![(b"/".to_vec(), ROOT_INO)];
    while let Some((path, ino)) = stack.pop() {
        let inode = fs.inode(ino)?;
        let t = type_char(inode.file_type());
        let c = content(fs, &inode, &mut buf)?;
        lines.push(line(
            &path,
            t,
            u32::from(inode.mode),
            inode.uid,
            inode.gid,
            inode.size,
            u64::from(inode.nlink),
            &c,
        ));
        if inode.is_dir() && visited.insert(ino) {
            for entry in fs.read_dir(&inode)? {
                let entry = entry?;
                if entry.name() == b"." || entry.name() == b".." {
                    continue;
                }
                let mut child = path.clone();
                if child.len() > 1 {
                    child.push(b'/');
                }
                child.extend_from_slice(entry.name());
                stack.push((child, entry.ino));
            }
        }
    }
    lines.sort_by(|a, b| {
        let pa = a.split(|&c| c == b'\t').next().unwrap_or(&[]);
        let pb = b.split(|&c| c == b'\t').next().unwrap_or(&[]);
        pa.cmp(pb)
    });
    Ok(lines.concat())
}
