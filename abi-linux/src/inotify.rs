//! `inotify(7)`: the [`InotifyMask`] event bits and the flags of
//! `inotify_init1(2)`.

use bitflags::bitflags;

/// `IN_CLOEXEC`: `inotify_init1(2)` sets close-on-exec (`O_CLOEXEC`).
pub const IN_CLOEXEC: u32 = 0o2000000;
/// `IN_NONBLOCK`: `inotify_init1(2)` makes the descriptor non-blocking
/// (`O_NONBLOCK`).
pub const IN_NONBLOCK: u32 = 0o4000;

bitflags! {
    /// The `IN_*` bits of an inotify watch mask and event mask.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct InotifyMask: u32 {
        /// `IN_ACCESS`: the file was read.
        const ACCESS = 0x0000_0001;
        /// `IN_MODIFY`: the file was written.
        const MODIFY = 0x0000_0002;
        /// `IN_ATTRIB`: metadata changed.
        const ATTRIB = 0x0000_0004;
        /// `IN_CLOSE_WRITE`: a file opened for writing was closed.
        const CLOSE_WRITE = 0x0000_0008;
        /// `IN_CLOSE_NOWRITE`: a file not opened for writing was closed.
        const CLOSE_NOWRITE = 0x0000_0010;
        /// `IN_OPEN`: the file was opened.
        const OPEN = 0x0000_0020;
        /// `IN_MOVED_FROM`: a file was moved out of the directory.
        const MOVED_FROM = 0x0000_0040;
        /// `IN_MOVED_TO`: a file was moved into the directory.
        const MOVED_TO = 0x0000_0080;
        /// `IN_CREATE`: a file was created in the directory.
        const CREATE = 0x0000_0100;
        /// `IN_DELETE`: a file was deleted from the directory.
        const DELETE = 0x0000_0200;
        /// `IN_DELETE_SELF`: the watched file was deleted.
        const DELETE_SELF = 0x0000_0400;
        /// `IN_MOVE_SELF`: the watched file was moved.
        const MOVE_SELF = 0x0000_0800;
        /// `IN_UNMOUNT`: the filesystem was unmounted.
        const UNMOUNT = 0x0000_2000;
        /// `IN_Q_OVERFLOW`: the event queue overflowed.
        const Q_OVERFLOW = 0x0000_4000;
        /// `IN_IGNORED`: the watch was removed.
        const IGNORED = 0x0000_8000;
        /// `IN_CLOSE`: either close event.
        const CLOSE = 0x0000_0018;
        /// `IN_MOVE`: either move event.
        const MOVE = 0x0000_00c0;
        /// `IN_ALL_EVENTS`: every event a watch can ask for.
        const ALL_EVENTS = 0x0000_0fff;
        /// `IN_ONLYDIR`: only watch the path if it is a directory.
        const ONLYDIR = 0x0100_0000;
        /// `IN_DONT_FOLLOW`: do not follow a trailing symlink.
        const DONT_FOLLOW = 0x0200_0000;
        /// `IN_EXCL_UNLINK`: no events for unlinked children.
        const EXCL_UNLINK = 0x0400_0000;
        /// `IN_MASK_CREATE`: fail with `EEXIST` if a watch exists.
        const MASK_CREATE = 0x1000_0000;
        /// `IN_MASK_ADD`: add to the mask of an existing watch.
        const MASK_ADD = 0x2000_0000;
        /// `IN_ISDIR`: the event's subject is a directory.
        const ISDIR = 0x4000_0000;
        /// `IN_ONESHOT`: remove the watch after one event.
        const ONESHOT = 0x8000_0000;
    }
}
