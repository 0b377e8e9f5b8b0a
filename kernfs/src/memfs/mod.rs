//! `memfs`: a writable in-memory filesystem with tmpfs semantics, built on
//! kernfs (gVisor's `fsimpl/tmpfs`).
//!
//! Regular files keep sparse page-granular contents ([`RegularFile`]);
//! directories ([`Directory`]) hold their entries' inodes, so hard links
//! are the same inode under several names; symlinks, FIFOs, sockets and
//! device nodes are [`Node`]s. Every inode keeps `user.` and `trusted.`
//! extended attributes. The `size=` mount option bounds the pages all
//! files together may hold (`ENOSPC` beyond it). File pages live in a
//! [`MemoryFile`] and are mapped through it.
//!
//! # Reference model
//!
//! As kernfs's: directories hold their children's inodes, dentries hold
//! their inode, open files hold their dentry. A regular file's pages are
//! returned to the filesystem's budget when its inode is dropped, which is
//! when its last name and its last open file are gone.
//!
//! # Lock order
//!
//! kernfs's filesystem lock → a directory's entries → a file's contents →
//! inode attributes → extended attributes; the page budget is atomic.
//!
//! # Mount options
//!
//! `size=N[k|m|g]` (0 means unlimited), `mode=OCTAL` (the root's
//! permissions, default `1777`), `uid=N`, `gid=N` (the root's owner).
//! Unknown options are `EINVAL`, as on Linux.

mod directory;
mod lower;
mod node;
mod regular_file;
mod xattr;

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt::Write as _;
use core::sync::atomic::{AtomicU64, Ordering};

use abi_linux::{Errno, Statfs};
use vfs_core::memmap::{HeapMemoryFile, MemoryFile};
use vfs_core::{
    Context, DentryRef, FilesystemRef, FilesystemType, GetFilesystemOptions, VirtualDentry,
    VirtualFilesystem, path::NAME_MAX,
};

pub use directory::Directory;
pub use lower::UPPER_INO_BASE;
pub use node::Node;
pub use regular_file::{RegularFile, RegularFileFd};
pub use xattr::Xattrs;

use crate::filesystem::{Filesystem, FilesystemOptions};

/// `TMPFS_MAGIC`, the `f_type` memfs reports.
pub const TMPFS_MAGIC: i64 = 0x0102_1994;

/// `OVERLAYFS_SUPER_MAGIC`, the `f_type` an overlay memfs reports.
pub const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;

/// The page size of file contents.
pub const PAGE_SIZE: u64 = 4096;

/// Options of a memfs instance (the mount's `data` string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemfsOptions {
    /// The most bytes all files may hold, rounded up to pages; `None` is
    /// unlimited.
    pub size: Option<u64>,
    /// The root directory's permissions.
    pub mode: u32,
    /// The root directory's owner, or the creator's when `None`.
    pub uid: Option<u32>,
    /// The root directory's group, or the creator's when `None`.
    pub gid: Option<u32>,
    /// How many unreferenced dentries stay cached.
    pub max_cached_dentries: usize,
}

impl Default for MemfsOptions {
    fn default() -> Self {
        Self {
            size: None,
            mode: 0o1777,
            uid: None,
            gid: None,
            max_cached_dentries: FilesystemOptions::default().max_cached_dentries,
        }
    }
}

fn parse_number(text: &str, radix: u32) -> Result<u64, Errno> {
    u64::from_str_radix(text, radix).map_err(|_| Errno::EINVAL)
}

impl MemfsOptions {
    /// Parses a mount `data` string such as `"size=1m,mode=0755"`.
    pub fn parse(data: &str) -> Result<Self, Errno> {
        let mut opts = Self::default();
        for option in data.split(',').filter(|o| !o.is_empty()) {
            let (key, value) = option.split_once('=').ok_or(Errno::EINVAL)?;
            match key {
                "size" => {
                    let (digits, shift) = match value.as_bytes().last() {
                        Some(b'k' | b'K') => (&value[..value.len() - 1], 10),
                        Some(b'm' | b'M') => (&value[..value.len() - 1], 20),
                        Some(b'g' | b'G') => (&value[..value.len() - 1], 30),
                        _ => (value, 0),
                    };
                    let bytes = parse_number(digits, 10)?
                        .checked_mul(1 << shift)
                        .ok_or(Errno::EINVAL)?;
                    opts.size = (bytes != 0).then_some(bytes);
                }
                "mode" => {
                    opts.mode =
                        u32::try_from(parse_number(value, 8)?).map_err(|_| Errno::EINVAL)? & 0o7777
                }
                "uid" => {
                    opts.uid =
                        Some(u32::try_from(parse_number(value, 10)?).map_err(|_| Errno::EINVAL)?)
                }
                "gid" => {
                    opts.gid =
                        Some(u32::try_from(parse_number(value, 10)?).map_err(|_| Errno::EINVAL)?)
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        Ok(opts)
    }

    /// The options as `/proc/self/mounts` shows them.
    fn display(&self) -> String {
        let mut text = String::new();
        if let Some(size) = self.size {
            let _ = write!(text, "size={}k,", size.div_ceil(1024));
        }
        let _ = write!(text, "mode={:o}", self.mode);
        if let Some(uid) = self.uid {
            let _ = write!(text, ",uid={uid}");
        }
        if let Some(gid) = self.gid {
            let _ = write!(text, ",gid={gid}");
        }
        text
    }
}

/// State shared by the inodes of one memfs: inode numbers and the page
/// budget.
pub struct MemfsState {
    memory: Arc<dyn MemoryFile>,
    next_ino: AtomicU64,
    max_pages: Option<u64>,
    used_pages: AtomicU64,
    dev_minor: u32,
    magic: i64,
    /// The read-only layer under an overlay.
    lower: Option<Arc<lower::Lower>>,
}

impl MemfsState {
    /// The lower layer, for inodes of an overlay.
    fn lower(&self) -> Result<&Arc<lower::Lower>, Errno> {
        self.lower.as_ref().ok_or(Errno::EIO)
    }

    fn next_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }

    /// Takes `pages` from the budget: `ENOSPC` when they do not fit.
    fn reserve_pages(&self, pages: u64) -> Result<(), Errno> {
        let mut used = self.used_pages.load(Ordering::Relaxed);
        loop {
            let new = used.checked_add(pages).ok_or(Errno::ENOSPC)?;
            if self.max_pages.is_some_and(|max| new > max) {
                return Err(Errno::ENOSPC);
            }
            match self.used_pages.compare_exchange_weak(
                used,
                new,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(observed) => used = observed,
            }
        }
    }

    /// Gives `pages` back to the budget.
    fn release_pages(&self, pages: u64) {
        self.used_pages.fetch_sub(pages, Ordering::AcqRel);
    }

    /// The pages in use.
    pub fn used_pages(&self) -> u64 {
        self.used_pages.load(Ordering::Acquire)
    }

    /// `statfs` of the filesystem.
    fn statfs(&self) -> Statfs {
        let used = self.used_pages();
        let (blocks, free) = match self.max_pages {
            Some(max) => (max, max.saturating_sub(used)),
            None => (0, 0),
        };
        Statfs {
            f_type: self.magic,
            f_bsize: PAGE_SIZE as i64,
            f_frsize: PAGE_SIZE as i64,
            f_blocks: blocks,
            f_bfree: free,
            f_bavail: free,
            f_namelen: NAME_MAX as i64,
            f_fsid: [self.dev_minor as i32, 0],
            ..Statfs::default()
        }
    }
}

/// The memory a memfs keeps file contents in, passed to [`MemfsType`]
/// through [`GetFilesystemOptions::internal_data`] (the sentry passes the
/// platform's memory file so that mappings share pages with the
/// application); without it, a [`HeapMemoryFile`] is used.
pub struct MemfsMemory(pub Arc<dyn MemoryFile>);

/// The address space of the default heap memory file.
const HEAP_MEMORY_LIMIT: u64 = 1 << 46;

/// Creates a memfs with `opts` and returns it with its root dentry. File
/// contents live in `memory` (a private [`HeapMemoryFile`] when `None`).
pub fn new_filesystem(
    ctx: &dyn Context,
    vfs: &Arc<VirtualFilesystem>,
    fs_type: &str,
    opts: &MemfsOptions,
    memory: Option<Arc<dyn MemoryFile>>,
) -> Result<(FilesystemRef, DentryRef), Errno> {
    let fs = Filesystem::new(
        vfs,
        FilesystemOptions {
            max_cached_dentries: opts.max_cached_dentries,
            magic: TMPFS_MAGIC,
            mount_options: opts.display(),
        },
    )?;
    let state = Arc::new(MemfsState {
        memory: memory.unwrap_or_else(|| Arc::new(HeapMemoryFile::new(HEAP_MEMORY_LIMIT))),
        next_ino: AtomicU64::new(1),
        max_pages: opts.size.map(|size| size.div_ceil(PAGE_SIZE)),
        used_pages: AtomicU64::new(0),
        dev_minor: abi_linux::dev_minor(fs.dev()),
        magic: TMPFS_MAGIC,
        lower: None,
    });
    let creds = ctx.credentials();
    let root = Directory::new_root(
        state,
        opts.uid.unwrap_or(creds.fs_uid),
        opts.gid.unwrap_or(creds.fs_gid),
        opts.mode,
        ctx.now(),
    );
    Ok(fs.into_vfs(vfs, fs_type, root))
}

/// Creates an overlay (filesystem type `overlay`): a memfs with `opts`
/// over the directory `lower` of another filesystem, which it never
/// changes. The lower tree appears in it as it is read; see the `lower`
/// module for how. Returns the filesystem with its root dentry.
///
/// Errors: the lower root's `stat` errors; `ENOTDIR` when it is not a
/// directory.
pub fn new_overlay(
    ctx: &dyn Context,
    vfs: &Arc<VirtualFilesystem>,
    lower: VirtualDentry,
    opts: &MemfsOptions,
    memory: Option<Arc<dyn MemoryFile>>,
) -> Result<(FilesystemRef, DentryRef), Errno> {
    let layer = Arc::new(lower::Lower::new(vfs, lower));
    let root_stat = layer.stat(ctx, b".")?;
    if u32::from(root_stat.stx_mode) & abi_linux::S_IFMT != abi_linux::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    let fs = Filesystem::new(
        vfs,
        FilesystemOptions {
            max_cached_dentries: opts.max_cached_dentries,
            magic: OVERLAYFS_SUPER_MAGIC,
            mount_options: String::new(),
        },
    )?;
    let state = Arc::new(MemfsState {
        memory: memory.unwrap_or_else(|| Arc::new(HeapMemoryFile::new(HEAP_MEMORY_LIMIT))),
        next_ino: AtomicU64::new(UPPER_INO_BASE),
        max_pages: opts.size.map(|size| size.div_ceil(PAGE_SIZE)),
        used_pages: AtomicU64::new(0),
        dev_minor: abi_linux::dev_minor(fs.dev()),
        magic: OVERLAYFS_SUPER_MAGIC,
        lower: Some(layer),
    });
    let root = Directory::new_lower(&root_stat, state, Arc::from(&b"."[..]));
    Ok(fs.into_vfs(vfs, "overlay", root))
}

/// The `tmpfs` filesystem type.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemfsType;

impl FilesystemType for MemfsType {
    fn name(&self) -> &str {
        "tmpfs"
    }

    fn flags(&self) -> vfs_core::FilesystemTypeFlags {
        vfs_core::FilesystemTypeFlags::ALLOW_USER_MOUNT
    }

    fn get_filesystem(
        &self,
        ctx: &dyn Context,
        vfs: &Arc<VirtualFilesystem>,
        _source: &[u8],
        opts: &GetFilesystemOptions,
    ) -> Result<(FilesystemRef, DentryRef), Errno> {
        let memfs_opts = MemfsOptions::parse(&opts.data)?;
        let memory = opts
            .internal_data
            .as_ref()
            .and_then(|data| data.downcast_ref::<MemfsMemory>())
            .map(|memory| Arc::clone(&memory.0));
        new_filesystem(ctx, vfs, self.name(), &memfs_opts, memory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_sizes_modes_and_owners() {
        let opts = MemfsOptions::parse("size=2m,mode=0700,uid=5,gid=6").unwrap();
        assert_eq!(opts.size, Some(2 << 20));
        assert_eq!(opts.mode, 0o700);
        assert_eq!((opts.uid, opts.gid), (Some(5), Some(6)));
        assert_eq!(MemfsOptions::parse("size=0").unwrap().size, None);
    }

    #[test]
    fn unknown_or_malformed_options_are_einval() {
        assert_eq!(MemfsOptions::parse("bogus=1"), Err(Errno::EINVAL));
        assert_eq!(MemfsOptions::parse("size"), Err(Errno::EINVAL));
        assert_eq!(MemfsOptions::parse("mode=9"), Err(Errno::EINVAL));
        assert_eq!(MemfsOptions::parse("size=99999999999g"), Err(Errno::EINVAL));
    }
}
