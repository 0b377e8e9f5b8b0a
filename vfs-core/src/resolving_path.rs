//! [`ResolvingPath`]: the state of one path resolution, driven by the
//! filesystems it passes through (gVisor's `vfs.ResolvingPath`).
//!
//! The VFS hands a resolving path to the filesystem of the starting mount.
//! The filesystem walks components with [`ResolvingPath::component`] and
//! [`ResolvingPath::advance`] and asks the resolving path at each step
//! whether the walk leaves the filesystem:
//!
//! - before `..`: [`ResolvingPath::check_root`] (the resolution root, or a
//!   mount root, whose parent lies in another mount);
//! - after stepping to a child: [`ResolvingPath::check_mount`] (something
//!   is mounted on the child);
//! - on a symlink: [`ResolvingPath::should_follow_symlink`], then
//!   [`ResolvingPath::handle_symlink`] with its target, or
//!   [`ResolvingPath::handle_jump`] for a magic link.
//!
//! Each of these returns [`PathError::Restart`] when the walk must continue
//! elsewhere; the filesystem returns that error unchanged and the VFS
//! restarts the operation in the right filesystem. The openat2 `RESOLVE_*`
//! rules are enforced here, so every filesystem gets them.

use alloc::borrow::Cow;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use abi_linux::{Errno, ResolveFlags};
use arrayvec::ArrayVec;

use crate::credentials::Credentials;
use crate::dentry::{DentryImpl, DentryRef, same_dentry};
use crate::mount::{MountRef, VirtualDentry};
use crate::path::{MAX_SYMLINK_TRAVERSALS, Path, next_component};
use crate::vfs::VirtualFilesystem;

/// The error type of filesystem path operations.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// The operation failed with this errno.
    Errno(Errno),
    /// The walk left the filesystem; the VFS continues it elsewhere.
    /// Only [`ResolvingPath`] creates this.
    Restart(RestartToken),
}

/// Proof that a [`ResolvingPath`] asked for a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartToken(());

impl From<Errno> for PathError {
    fn from(errno: Errno) -> Self {
        Self::Errno(errno)
    }
}

impl fmt::Debug for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Errno(errno) => write!(f, "{errno:?}"),
            Self::Restart(_) => f.write_str("Restart"),
        }
    }
}

/// The result of a filesystem path operation.
pub type PathResult<T> = Result<T, PathError>;

/// Where and how a path operation resolves its path.
#[derive(Clone, Copy, Debug)]
pub struct PathOperation<'a> {
    /// The caller's root (chroot): `..` stops here and absolute paths and
    /// symlinks start here.
    pub root: &'a VirtualDentry,
    /// Where a relative path starts (the cwd or a directory fd).
    pub start: &'a VirtualDentry,
    /// The path.
    pub path: Path<'a>,
    /// Whether a symlink in the final component is followed.
    pub follow_final_symlink: bool,
    /// openat2 `RESOLVE_*` restrictions.
    pub resolve: ResolveFlags,
}

impl<'a> PathOperation<'a> {
    /// A path operation that follows the final symlink and has no
    /// `RESOLVE_*` restrictions.
    pub fn new(root: &'a VirtualDentry, start: &'a VirtualDentry, path: &'a [u8]) -> Self {
        Self {
            root,
            start,
            path: Path::parse(path),
            follow_final_symlink: true,
            resolve: ResolveFlags::empty(),
        }
    }

    /// The same operation with `follow_final_symlink` set to `follow`.
    pub fn follow_final(mut self, follow: bool) -> Self {
        self.follow_final_symlink = follow;
        self
    }
}

/// One segment of the remaining path: the original path or a symlink
/// target, with the position of its current component.
struct Part<'a> {
    text: Cow<'a, [u8]>,
    start: usize,
    end: usize,
}

impl<'a> Part<'a> {
    fn new(text: Cow<'a, [u8]>) -> Self {
        let mut part = Self {
            text,
            start: 0,
            end: 0,
        };
        part.seek(0);
        part
    }

    fn seek(&mut self, pos: usize) {
        match next_component(&self.text, pos) {
            Some((start, end)) => {
                self.start = start;
                self.end = end;
            }
            None => {
                self.start = self.text.len();
                self.end = self.text.len();
            }
        }
    }

    fn exhausted(&self) -> bool {
        self.start >= self.text.len()
    }

    fn has_next(&self) -> bool {
        next_component(&self.text, self.end).is_some()
    }
}

/// What to do when the filesystem returns [`PathError::Restart`].
enum Pending {
    /// Continue at a dentry in another mount, without consuming the
    /// current component (`..` out of a mount root; a magic link, whose
    /// component was consumed when it was recorded).
    Jump(VirtualDentry),
    /// Continue at the root of the mount covering the current component,
    /// and consume it.
    MountPoint(MountRef),
    /// Continue at the resolution root with the symlink's target in place
    /// of the current component.
    AbsoluteSymlink(Vec<u8>),
}

/// The state of one path resolution.
pub struct ResolvingPath<'a> {
    vfs: &'a Arc<VirtualFilesystem>,
    creds: &'a Credentials,
    root: &'a VirtualDentry,
    mount: MountRef,
    start: DentryRef,
    parts: ArrayVec<Part<'a>, { 1 + MAX_SYMLINK_TRAVERSALS as usize }>,
    must_be_dir: bool,
    /// The path (or a symlink target replacing its end) ends with a slash,
    /// which follows a final symlink even without `follow_final_symlink`;
    /// `O_DIRECTORY` sets only `must_be_dir`.
    trailing_slash: bool,
    follow_final_symlink: bool,
    symlinks: u8,
    resolve: ResolveFlags,
    pending: Option<Pending>,
    /// A description the path's final component named through a magic
    /// link, for `open` to reopen ([`ResolvingPath::handle_jump_to_file`]).
    reopen: Option<crate::FileRef>,
}

impl<'a> ResolvingPath<'a> {
    /// Starts resolving `pop`.
    ///
    /// # Preconditions
    ///
    /// The VFS has applied the scoped-lookup rules: for `RESOLVE_BENEATH`
    /// and `RESOLVE_IN_ROOT`, `pop.root` is the starting directory, and an
    /// absolute path starts at `pop.root`.
    pub(crate) fn new(
        vfs: &'a Arc<VirtualFilesystem>,
        creds: &'a Credentials,
        pop: &PathOperation<'a>,
    ) -> Self {
        let begin = if pop.path.is_absolute() {
            pop.root
        } else {
            pop.start
        };
        let mut parts = ArrayVec::new();
        parts.push(Part::new(Cow::Borrowed(pop.path.as_bytes())));
        Self {
            vfs,
            creds,
            root: pop.root,
            mount: begin.mount.clone(),
            start: begin.dentry.clone(),
            parts,
            must_be_dir: pop.path.must_be_dir(),
            trailing_slash: pop.path.must_be_dir(),
            follow_final_symlink: pop.follow_final_symlink,
            symlinks: 0,
            resolve: pop.resolve,
            pending: None,
            reopen: None,
        }
    }

    /// The VFS.
    pub fn vfs(&self) -> &'a Arc<VirtualFilesystem> {
        self.vfs
    }

    /// The credentials of the resolving task.
    pub fn credentials(&self) -> &'a Credentials {
        self.creds
    }

    /// The mount the filesystem is being walked through.
    pub fn mount(&self) -> &MountRef {
        &self.mount
    }

    /// The dentry at which the filesystem's walk starts.
    pub fn start(&self) -> &DentryRef {
        &self.start
    }

    /// The openat2 restrictions in force.
    pub fn resolve_flags(&self) -> ResolveFlags {
        self.resolve
    }

    /// Whether every component has been consumed.
    pub fn done(&self) -> bool {
        self.top().exhausted()
    }

    /// Whether the current component is the last one.
    pub fn is_final(&self) -> bool {
        self.parts.len() == 1 && !self.top().exhausted() && !self.top().has_next()
    }

    /// The current component.
    ///
    /// # Preconditions
    ///
    /// `!self.done()`.
    pub fn component(&self) -> &[u8] {
        let top = self.top();
        &top.text[top.start..top.end]
    }

    /// Consumes the current component.
    ///
    /// # Preconditions
    ///
    /// `!self.done()`.
    pub fn advance(&mut self) {
        let top = self.top_mut();
        let end = top.end;
        top.seek(end);
        if top.exhausted() && self.parts.len() > 1 {
            self.parts.pop();
        }
    }

    /// Whether the final file must be a directory (a trailing slash, or
    /// `O_DIRECTORY`).
    pub fn must_be_dir(&self) -> bool {
        self.must_be_dir
    }

    /// Requires the final file to be a directory.
    pub(crate) fn set_must_be_dir(&mut self) {
        self.must_be_dir = true;
    }

    /// Whether a symlink at the current component is followed: always
    /// before the final component, and at the final one when the operation
    /// follows final symlinks or the path ends with a slash (`O_DIRECTORY`
    /// alone does not follow: `O_DIRECTORY|O_NOFOLLOW` on a symlink is
    /// `ENOTDIR`, as in Linux).
    pub fn should_follow_symlink(&self) -> bool {
        self.follow_final_symlink || !self.is_final() || self.trailing_slash
    }

    /// Called before walking `..` from `dentry`. Returns `Ok(true)` when
    /// `dentry` is the resolution root (`..` stays put), `Ok(false)` when
    /// `..` can be walked within the filesystem, and a restart when
    /// `dentry` is the root of a mount whose parent lies in another mount.
    ///
    /// Under `RESOLVE_BENEATH`, `..` at the root is `EXDEV`; under
    /// `RESOLVE_NO_XDEV`, leaving the mount is `EXDEV`.
    pub fn check_root(&mut self, dentry: &dyn DentryImpl) -> PathResult<bool> {
        if same_dentry(dentry, &*self.root.dentry)
            && MountRef::ptr_eq(&self.mount, &self.root.mount)
        {
            if self.resolve.contains(ResolveFlags::BENEATH) {
                return Err(Errno::EXDEV.into());
            }
            return Ok(true);
        }
        if !self.mount.is_root(dentry) {
            return Ok(false);
        }
        match self.vfs.mount_point_at(&self.mount, self.root) {
            Some(point) => {
                if self.resolve.contains(ResolveFlags::NO_XDEV) {
                    return Err(Errno::EXDEV.into());
                }
                if self.resolve.contains(ResolveFlags::BENEATH) && point.same(self.root) {
                    return Err(Errno::EXDEV.into());
                }
                self.pending = Some(Pending::Jump(point));
                Err(self.restart())
            }
            // A detached mount or the namespace root: `..` stays put.
            None => Ok(true),
        }
    }

    /// Called after walking to `dentry`, before consuming its component:
    /// restarts at the root of whatever is mounted there.
    pub fn check_mount(&mut self, dentry: &dyn DentryImpl) -> PathResult<()> {
        if !dentry.vfs_dentry().is_mounted() {
            return Ok(());
        }
        let Some(mount) = self.vfs.mount_covering(&self.mount, dentry) else {
            return Ok(());
        };
        if self.resolve.contains(ResolveFlags::NO_XDEV) {
            return Err(Errno::EXDEV.into());
        }
        self.pending = Some(Pending::MountPoint(mount));
        Err(self.restart())
    }

    /// Follows a symlink at the current component whose target is
    /// `target`. For a relative target the walk continues in the same
    /// filesystem from the symlink's directory (`Ok`); an absolute target
    /// restarts at the resolution root.
    ///
    /// # Preconditions
    ///
    /// `self.should_follow_symlink()`.
    pub fn handle_symlink(&mut self, target: &[u8]) -> PathResult<()> {
        if self.resolve.contains(ResolveFlags::NO_SYMLINKS) {
            return Err(Errno::ELOOP.into());
        }
        if self.symlinks >= MAX_SYMLINK_TRAVERSALS {
            return Err(Errno::ELOOP.into());
        }
        if target.is_empty() {
            return Err(Errno::ENOENT.into());
        }
        self.symlinks += 1;
        let target_path = Path::parse(target);
        if target_path.is_absolute() {
            if self.resolve.contains(ResolveFlags::BENEATH) {
                return Err(Errno::EXDEV.into());
            }
            if self.resolve.contains(ResolveFlags::NO_XDEV)
                && !MountRef::ptr_eq(&self.mount, &self.root.mount)
            {
                return Err(Errno::EXDEV.into());
            }
            self.pending = Some(Pending::AbsoluteSymlink(target.to_vec()));
            return Err(self.restart());
        }
        self.advance();
        self.prepend(Cow::Owned(target.to_vec()));
        Ok(())
    }

    /// Follows a magic link (a `/proc/self/fd/N` link) at the current
    /// component to `target`.
    ///
    /// # Preconditions
    ///
    /// `self.should_follow_symlink()`.
    pub fn handle_jump(&mut self, target: VirtualDentry) -> PathResult<()> {
        if self
            .resolve
            .intersects(ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_SYMLINKS)
        {
            return Err(Errno::ELOOP.into());
        }
        if self.resolve.contains(ResolveFlags::NO_XDEV)
            && !MountRef::ptr_eq(&self.mount, &target.mount)
        {
            return Err(Errno::EXDEV.into());
        }
        if self
            .resolve
            .intersects(ResolveFlags::BENEATH | ResolveFlags::IN_ROOT)
        {
            return Err(Errno::EXDEV.into());
        }
        if self.symlinks >= MAX_SYMLINK_TRAVERSALS {
            return Err(Errno::ELOOP.into());
        }
        self.symlinks += 1;
        self.advance();
        self.pending = Some(Pending::Jump(target));
        Err(self.restart())
    }

    /// Follows a magic link to an open description (`/proc/PID/fd/N`): a
    /// jump to the description's location, as [`Self::handle_jump`], and
    /// when the link is the path's final component, the description is
    /// kept for `open` to reopen ([`crate::FileDescriptionImpl::reopen`])
    /// and `stat` to stat: a pipe or socket has no location that opening
    /// or statting could reach.
    pub fn handle_jump_to_file(&mut self, file: crate::FileRef) -> PathResult<()> {
        let result = self.handle_jump(file.virtual_dentry());
        if matches!(result, Err(PathError::Restart(_))) && self.done() {
            self.reopen = Some(file);
        }
        result
    }

    /// Takes the description [`Self::handle_jump_to_file`] kept, once the
    /// walk has reached it.
    pub(crate) fn take_reopen(&mut self) -> Option<crate::FileRef> {
        if self.done() {
            self.reopen.take()
        } else {
            None
        }
    }

    fn restart(&self) -> PathError {
        PathError::Restart(RestartToken(()))
    }

    /// Applies a pending restart. Returns false when there is none, which
    /// means a filesystem returned a restart it did not get from this
    /// resolving path.
    pub(crate) fn handle_restart(&mut self) -> bool {
        match self.pending.take() {
            Some(Pending::Jump(target)) => {
                self.mount = target.mount;
                self.start = target.dentry;
                true
            }
            Some(Pending::MountPoint(mount)) => {
                self.start = mount.root_ref();
                self.mount = mount;
                self.advance();
                true
            }
            Some(Pending::AbsoluteSymlink(target)) => {
                self.mount = self.root.mount.clone();
                self.start = self.root.dentry.clone();
                self.advance();
                if Path::parse(&target).has_components() {
                    self.prepend(Cow::Owned(target));
                } else if self.done() && target.ends_with(b"/") {
                    self.must_be_dir = true;
                    self.trailing_slash = true;
                }
                true
            }
            None => false,
        }
    }

    /// Continues with `text` before the rest of the path.
    fn prepend(&mut self, text: Cow<'a, [u8]>) {
        let target_dir = text.ends_with(b"/");
        let part = Part::new(text);
        if self.done() {
            // The symlink was the final component: its target replaces it.
            if target_dir {
                self.must_be_dir = true;
                self.trailing_slash = true;
            }
            self.parts.clear();
            self.parts.push(part);
        } else if !part.exhausted() {
            // At most one part per followed symlink plus the path itself,
            // and the symlink count is bounded above, so this fits.
            self.parts.push(part);
        }
    }

    fn top(&self) -> &Part<'a> {
        match self.parts.last() {
            Some(part) => part,
            None => unreachable!("a resolving path always has a part"),
        }
    }

    fn top_mut(&mut self) -> &mut Part<'a> {
        match self.parts.last_mut() {
            Some(part) => part,
            None => unreachable!("a resolving path always has a part"),
        }
    }
}
