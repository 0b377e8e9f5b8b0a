//! Pathnames as the VFS parses them (gVisor's `fspath`).
//!
//! A pathname is bytes. Empty components (from `//`) are skipped; `.` and
//! `..` are components like any other and are interpreted by the
//! filesystem that resolves them. A trailing slash means the final file
//! must be a directory.

/// The longest pathname Linux accepts, including the terminating NUL.
pub const PATH_MAX: usize = 4096;
/// The longest single component Linux filesystems accept.
pub const NAME_MAX: usize = 255;
/// How many symbolic links one resolution may traverse (Linux `MAXSYMLINKS`).
pub const MAX_SYMLINK_TRAVERSALS: u8 = 40;

/// A parsed pathname borrowing its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path<'a> {
    bytes: &'a [u8],
    absolute: bool,
    dir: bool,
}

impl<'a> Path<'a> {
    /// Parses `bytes`. Never fails: validation (length, embedded NUL) is the
    /// caller's, which copied the path in.
    pub fn parse(bytes: &'a [u8]) -> Self {
        let absolute = bytes.first() == Some(&b'/');
        let dir = bytes.last() == Some(&b'/');
        Self {
            bytes,
            absolute,
            dir,
        }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether the path starts with `/`.
    pub fn is_absolute(&self) -> bool {
        self.absolute
    }

    /// Whether the path ends with `/` (the final file must be a directory).
    pub fn must_be_dir(&self) -> bool {
        self.dir
    }

    /// Whether the path is the empty string.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether the path has at least one component (`/` and `` do not).
    pub fn has_components(&self) -> bool {
        self.components().next().is_some()
    }

    /// The components, skipping empty ones.
    pub fn components(&self) -> Components<'a> {
        Components { rest: self.bytes }
    }
}

/// An iterator over the non-empty components of a path.
#[derive(Clone, Debug)]
pub struct Components<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Components<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let end = self
                .rest
                .iter()
                .position(|&byte| byte == b'/')
                .unwrap_or(self.rest.len());
            let (component, rest) = self.rest.split_at(end);
            self.rest = rest.get(1..).unwrap_or(&[]);
            if !component.is_empty() {
                return Some(component);
            }
        }
    }
}

/// Position of the next component at or after `pos` in `bytes`, as
/// `(start, end)`, skipping empty components.
pub(crate) fn next_component(bytes: &[u8], mut pos: usize) -> Option<(usize, usize)> {
    while pos < bytes.len() && bytes[pos] == b'/' {
        pos += 1;
    }
    if pos >= bytes.len() {
        return None;
    }
    let end = bytes[pos..]
        .iter()
        .position(|&byte| byte == b'/')
        .map_or(bytes.len(), |offset| pos + offset);
    Some((pos, end))
}

/// Whether `name` is `.` or `..`.
pub fn is_dot_or_dotdot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

/// Checks a name for a new directory entry: not empty, not `.` or `..`,
/// no `/`, at most [`NAME_MAX`] bytes.
pub fn check_new_name(name: &[u8]) -> Result<(), abi_linux::Errno> {
    use abi_linux::Errno;
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name.contains(&b'/') {
        return Err(Errno::EINVAL);
    }
    if is_dot_or_dotdot(name) {
        return Err(Errno::EEXIST);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn components_skip_empty_and_keep_dots() {
        let path = Path::parse(b"//a/./b//../c/");
        let parts: Vec<&[u8]> = path.components().collect();
        assert_eq!(parts, [&b"a"[..], b".", b"b", b"..", b"c"]);
        assert!(path.is_absolute());
        assert!(path.must_be_dir());
    }

    #[test]
    fn root_has_no_components() {
        assert!(!Path::parse(b"/").has_components());
        assert!(!Path::parse(b"").has_components());
        assert!(Path::parse(b"x").has_components());
    }

    #[test]
    fn next_component_positions() {
        assert_eq!(next_component(b"/ab//c", 0), Some((1, 3)));
        assert_eq!(next_component(b"/ab//c", 3), Some((5, 6)));
        assert_eq!(next_component(b"/ab//c", 6), None);
    }
}
