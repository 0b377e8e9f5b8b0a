//! The 9P2000.L messages as one typed enum, with their encoding and a strict
//! decoder.
//!
//! A frame is `size[4] type[1] tag[2] body`. [`Message::decode`] accepts a
//! frame only if its size field equals its length, it fits the negotiated
//! msize, every field lies inside it and no byte is left over; names and
//! other strings stay raw bytes (9P names need not be UTF-8) and are checked
//! by whoever interprets them (the server rejects `/`, `.`, `..` and empty
//! names). No decoder allocation is larger than the frame itself.

use crate::wire::{DecodeError, Reader, Writer};
use core::fmt;

/// The tag of a message that is not part of a tagged exchange (Tversion).
pub const NOTAG: u16 = 0xffff;
/// The fid meaning "no fid" (the afid of an unauthenticated Tattach).
pub const NOFID: u32 = 0xffff_ffff;
/// The uid meaning "no numeric uid" in Tattach/Tauth.
pub const NONUNAME: u32 = 0xffff_ffff;
/// The most names one Twalk may carry and the most qids one Rwalk may carry.
pub const MAX_WALK_ELEMENTS: usize = 16;
/// Bytes of `size[4] type[1] tag[2]`.
pub const HEADER_SIZE: usize = 7;
/// Bytes of the header of Rread and Rreaddir (`count[4]` after the header):
/// the data of one reply is at most msize minus this.
pub const IO_HEADER_SIZE: u32 = 11;
/// The largest msize the gofer grants by default: 1 MiB of payload plus
/// headers.
pub const DEFAULT_SERVER_MSIZE: u32 = (1 << 20) + 4096;
/// The standard protocol version string.
pub const VERSION_9P2000_L: &[u8] = b"9P2000.L";
/// The version string of the fd-donation extension: a server that speaks it
/// attaches a host fd (SCM_RIGHTS) to every Rlopen/Rlcreate of a regular
/// file over a Unix socket. Standard servers answer [`VERSION_9P2000_L`].
pub const VERSION_FD_DONATION: &[u8] = b"9P2000.L.sentry";

/// A server's unique identification of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Qid {
    /// `QTDIR`, `QTSYMLINK`, ... (the high bits of the file mode).
    pub ty: u8,
    /// Version number for cache coherence (often 0).
    pub version: u32,
    /// Unique file number (an inode number for most servers).
    pub path: u64,
}

impl Qid {
    /// Qid type of a directory.
    pub const TYPE_DIR: u8 = 0x80;
    /// Qid type of an append-only file.
    pub const TYPE_APPEND: u8 = 0x40;
    /// Qid type of an exclusive-use file.
    pub const TYPE_EXCL: u8 = 0x20;
    /// Qid type of an authentication file.
    pub const TYPE_AUTH: u8 = 0x08;
    /// Qid type of a symbolic link.
    pub const TYPE_SYMLINK: u8 = 0x02;
    /// Qid type of a plain file.
    pub const TYPE_FILE: u8 = 0x00;

    /// Encoded size in bytes.
    pub const SIZE: usize = 13;

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ty: r.u8()?,
            version: r.u32()?,
            path: r.u64()?,
        })
    }

    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(self.ty);
        w.u32(self.version);
        w.u64(self.path);
    }
}

/// Seconds and nanoseconds, as 9P2000.L carries timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timespec {
    /// Seconds since the epoch.
    pub sec: u64,
    /// Nanoseconds.
    pub nsec: u64,
}

impl Timespec {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            sec: r.u64()?,
            nsec: r.u64()?,
        })
    }

    fn encode(&self, w: &mut Writer<'_>) {
        w.u64(self.sec);
        w.u64(self.nsec);
    }
}

/// Bits of the Tgetattr request mask and the Rgetattr valid mask.
pub mod getattr {
    /// `mode` is valid.
    pub const MODE: u64 = 0x1;
    /// `nlink` is valid.
    pub const NLINK: u64 = 0x2;
    /// `uid` is valid.
    pub const UID: u64 = 0x4;
    /// `gid` is valid.
    pub const GID: u64 = 0x8;
    /// `rdev` is valid.
    pub const RDEV: u64 = 0x10;
    /// `atime` is valid.
    pub const ATIME: u64 = 0x20;
    /// `mtime` is valid.
    pub const MTIME: u64 = 0x40;
    /// `ctime` is valid.
    pub const CTIME: u64 = 0x80;
    /// The qid path (inode number) is valid.
    pub const INO: u64 = 0x100;
    /// `size` is valid.
    pub const SIZE: u64 = 0x200;
    /// `blocks` is valid.
    pub const BLOCKS: u64 = 0x400;
    /// `btime` is valid.
    pub const BTIME: u64 = 0x800;
    /// `gen` is valid.
    pub const GEN: u64 = 0x1000;
    /// `data_version` is valid.
    pub const DATA_VERSION: u64 = 0x2000;
    /// Everything `stat(2)` reports.
    pub const BASIC: u64 = 0x7ff;
    /// Every defined bit.
    pub const ALL: u64 = 0x3fff;
}

/// Bits of the Tsetattr valid mask.
pub mod setattr {
    /// Set the permission bits.
    pub const MODE: u32 = 0x1;
    /// Set the owner.
    pub const UID: u32 = 0x2;
    /// Set the group.
    pub const GID: u32 = 0x4;
    /// Truncate or extend to `size`.
    pub const SIZE: u32 = 0x8;
    /// Set the access time (to now unless [`ATIME_SET`]).
    pub const ATIME: u32 = 0x10;
    /// Set the modification time (to now unless [`MTIME_SET`]).
    pub const MTIME: u32 = 0x20;
    /// Update the change time.
    pub const CTIME: u32 = 0x40;
    /// The access time is the given one rather than now.
    pub const ATIME_SET: u32 = 0x80;
    /// The modification time is the given one rather than now.
    pub const MTIME_SET: u32 = 0x100;
}

/// Lock types of Tlock/Tgetlock (`F_RDLCK`-like, but 9P's own numbering).
pub mod lock_type {
    /// A shared (read) lock.
    pub const RDLCK: u8 = 0;
    /// An exclusive (write) lock.
    pub const WRLCK: u8 = 1;
    /// Unlock (Tlock) or "no conflicting lock" (Rgetlock).
    pub const UNLCK: u8 = 2;
}

/// Status values of Rlock.
pub mod lock_status {
    /// The lock was granted.
    pub const SUCCESS: u8 = 0;
    /// A conflicting lock is held.
    pub const BLOCKED: u8 = 1;
    /// The lock could not be granted for another reason.
    pub const ERROR: u8 = 2;
    /// The server is in its grace period.
    pub const GRACE: u8 = 3;
}

/// Flags of Tlock.
pub mod lock_flags {
    /// The client would block (`F_SETLKW`).
    pub const BLOCK: u32 = 1;
    /// The lock is being reclaimed after a server restart.
    pub const RECLAIM: u32 = 2;
}

/// The attributes of Rgetattr.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attr {
    /// Which fields are valid (bits of [`getattr`]).
    pub valid: u64,
    /// The file's qid.
    pub qid: Qid,
    /// File type and permission bits, as `st_mode`.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Hard link count.
    pub nlink: u64,
    /// Device number of a device node.
    pub rdev: u64,
    /// Size in bytes.
    pub size: u64,
    /// Preferred I/O block size.
    pub blksize: u64,
    /// Number of 512-byte blocks allocated.
    pub blocks: u64,
    /// Last access.
    pub atime: Timespec,
    /// Last modification.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
    /// Creation.
    pub btime: Timespec,
    /// Inode generation.
    pub gen_: u64,
    /// Data version.
    pub data_version: u64,
}

/// The changes of Tsetattr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetAttr {
    /// Which fields to apply (bits of [`setattr`]).
    pub valid: u32,
    /// New permission bits.
    pub mode: u32,
    /// New owner.
    pub uid: u32,
    /// New group.
    pub gid: u32,
    /// New size.
    pub size: u64,
    /// New access time (with [`setattr::ATIME_SET`]).
    pub atime: Timespec,
    /// New modification time (with [`setattr::MTIME_SET`]).
    pub mtime: Timespec,
}

/// The file-system statistics of Rstatfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatFs {
    /// File-system type (`f_type`).
    pub ty: u32,
    /// Block size.
    pub bsize: u32,
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Blocks available to unprivileged users.
    pub bavail: u64,
    /// Total inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
    /// File-system id.
    pub fsid: u64,
    /// Longest file name.
    pub namelen: u32,
}

/// One directory entry of Rreaddir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirent {
    /// The entry's qid.
    pub qid: Qid,
    /// The offset to pass to Treaddir to continue after this entry.
    pub offset: u64,
    /// The `d_type` (`DT_REG`, `DT_DIR`, ...).
    pub ty: u8,
    /// The entry's name.
    pub name: Vec<u8>,
}

impl Dirent {
    /// Returns the encoded size of this entry in an Rreaddir payload.
    pub fn encoded_len(&self) -> usize {
        Qid::SIZE + 8 + 1 + 2 + self.name.len()
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            qid: Qid::decode(r)?,
            offset: r.u64()?,
            ty: r.u8()?,
            name: r.string()?,
        })
    }

    fn encode(&self, w: &mut Writer<'_>) {
        self.qid.encode(w);
        w.u64(self.offset);
        w.u8(self.ty);
        w.string(&self.name);
    }
}

/// A POSIX record lock as Tlock, Tgetlock and Rgetlock describe it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockRange {
    /// One of [`lock_type`].
    pub ty: u8,
    /// First byte.
    pub start: u64,
    /// Length in bytes; 0 means "to the end of the file".
    pub length: u64,
    /// The owning process on the client.
    pub proc_id: u32,
    /// The client's identity (a host name for Linux clients).
    pub client_id: Vec<u8>,
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string field is longer than 65535 bytes.
    StringTooLong,
    /// A walk has more than [`MAX_WALK_ELEMENTS`] elements.
    TooManyElements,
    /// The frame would not fit in a 32-bit size field.
    FrameTooLarge,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StringTooLong => f.write_str("9P string longer than 65535 bytes"),
            Self::TooManyElements => f.write_str("more than 16 walk elements"),
            Self::FrameTooLarge => f.write_str("9P frame larger than 4 GiB"),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Every 9P2000.L message (requests `T*` and replies `R*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// Negotiates msize and the protocol version.
    Tversion {
        /// Largest frame the client accepts.
        msize: u32,
        /// Proposed version string.
        version: Vec<u8>,
    },
    /// Reply to Tversion.
    Rversion {
        /// Largest frame the server accepts (at most the client's).
        msize: u32,
        /// Accepted version string, or `unknown`.
        version: Vec<u8>,
    },
    /// Opens an authentication fid.
    Tauth {
        /// The new authentication fid.
        afid: u32,
        /// User name.
        uname: Vec<u8>,
        /// Tree to attach to.
        aname: Vec<u8>,
        /// Numeric uid, or [`NONUNAME`].
        n_uname: u32,
    },
    /// Reply to Tauth.
    Rauth {
        /// Qid of the authentication file.
        aqid: Qid,
    },
    /// Attaches a fid to the root of a tree.
    Tattach {
        /// The new fid.
        fid: u32,
        /// Authentication fid, or [`NOFID`].
        afid: u32,
        /// User name.
        uname: Vec<u8>,
        /// Tree to attach to.
        aname: Vec<u8>,
        /// Numeric uid, or [`NONUNAME`].
        n_uname: u32,
    },
    /// Reply to Tattach.
    Rattach {
        /// Qid of the root.
        qid: Qid,
    },
    /// An error reply carrying a Linux errno.
    Rlerror {
        /// The Linux errno number.
        ecode: u32,
    },
    /// Asks for file-system statistics.
    Tstatfs {
        /// Any fid in the file system.
        fid: u32,
    },
    /// Reply to Tstatfs.
    Rstatfs {
        /// The statistics.
        stat: StatFs,
    },
    /// Opens a fid for I/O.
    Tlopen {
        /// The fid to open.
        fid: u32,
        /// Linux `open(2)` flags.
        flags: u32,
    },
    /// Reply to Tlopen.
    Rlopen {
        /// Qid of the opened file.
        qid: Qid,
        /// Largest I/O the server promises to do atomically (0: msize-based).
        iounit: u32,
    },
    /// Creates and opens a regular file; the directory fid becomes the file.
    Tlcreate {
        /// Directory fid, then the new file's fid.
        fid: u32,
        /// Name of the new file.
        name: Vec<u8>,
        /// Linux `open(2)` flags.
        flags: u32,
        /// Permission bits.
        mode: u32,
        /// Group of the new file.
        gid: u32,
    },
    /// Reply to Tlcreate.
    Rlcreate {
        /// Qid of the new file.
        qid: Qid,
        /// As in Rlopen.
        iounit: u32,
    },
    /// Creates a symbolic link.
    Tsymlink {
        /// Directory fid.
        fid: u32,
        /// Name of the link.
        name: Vec<u8>,
        /// Target of the link.
        target: Vec<u8>,
        /// Group of the link.
        gid: u32,
    },
    /// Reply to Tsymlink.
    Rsymlink {
        /// Qid of the new link.
        qid: Qid,
    },
    /// Creates a device node, FIFO or socket.
    Tmknod {
        /// Directory fid.
        dfid: u32,
        /// Name of the node.
        name: Vec<u8>,
        /// File type and permission bits.
        mode: u32,
        /// Major device number.
        major: u32,
        /// Minor device number.
        minor: u32,
        /// Group of the node.
        gid: u32,
    },
    /// Reply to Tmknod.
    Rmknod {
        /// Qid of the new node.
        qid: Qid,
    },
    /// Renames the file of `fid` into directory `dfid`.
    Trename {
        /// The file to move.
        fid: u32,
        /// The destination directory.
        dfid: u32,
        /// The new name.
        name: Vec<u8>,
    },
    /// Reply to Trename.
    Rrename,
    /// Reads a symbolic link.
    Treadlink {
        /// The link's fid.
        fid: u32,
    },
    /// Reply to Treadlink.
    Rreadlink {
        /// The link's target.
        target: Vec<u8>,
    },
    /// Asks for attributes.
    Tgetattr {
        /// The file.
        fid: u32,
        /// Wanted fields (bits of [`getattr`]).
        request_mask: u64,
    },
    /// Reply to Tgetattr.
    Rgetattr {
        /// The attributes.
        attr: Attr,
    },
    /// Changes attributes.
    Tsetattr {
        /// The file.
        fid: u32,
        /// The changes.
        attr: SetAttr,
    },
    /// Reply to Tsetattr.
    Rsetattr,
    /// Prepares to read one extended attribute (or the list, for an empty name).
    Txattrwalk {
        /// The file.
        fid: u32,
        /// A fid that will read the attribute's value.
        newfid: u32,
        /// Attribute name; empty to list names.
        name: Vec<u8>,
    },
    /// Reply to Txattrwalk.
    Rxattrwalk {
        /// Size of the value (or of the name list).
        size: u64,
    },
    /// Turns a fid into a writer of one extended attribute.
    Txattrcreate {
        /// The file's fid, which becomes the attribute writer.
        fid: u32,
        /// Attribute name.
        name: Vec<u8>,
        /// Exact size of the value to be written.
        attr_size: u64,
        /// `XATTR_CREATE`/`XATTR_REPLACE`.
        flags: u32,
    },
    /// Reply to Txattrcreate.
    Rxattrcreate,
    /// Reads directory entries.
    Treaddir {
        /// An opened directory fid.
        fid: u32,
        /// 0 or the `offset` of the last entry received.
        offset: u64,
        /// Largest payload wanted.
        count: u32,
    },
    /// Reply to Treaddir.
    Rreaddir {
        /// The entries.
        entries: Vec<Dirent>,
    },
    /// Flushes a file to stable storage.
    Tfsync {
        /// The open fid.
        fid: u32,
        /// Non-zero for `fdatasync`.
        datasync: u32,
    },
    /// Reply to Tfsync.
    Rfsync,
    /// Acquires or releases a POSIX record lock.
    Tlock {
        /// The open fid.
        fid: u32,
        /// Bits of [`lock_flags`].
        flags: u32,
        /// The lock.
        lock: LockRange,
    },
    /// Reply to Tlock.
    Rlock {
        /// One of [`lock_status`].
        status: u8,
    },
    /// Tests for a conflicting POSIX record lock.
    Tgetlock {
        /// The open fid.
        fid: u32,
        /// The lock that would be taken.
        lock: LockRange,
    },
    /// Reply to Tgetlock.
    Rgetlock {
        /// The conflicting lock, or the request with type `UNLCK`.
        lock: LockRange,
    },
    /// Creates a hard link.
    Tlink {
        /// Directory fid.
        dfid: u32,
        /// The existing file.
        fid: u32,
        /// Name of the new link.
        name: Vec<u8>,
    },
    /// Reply to Tlink.
    Rlink,
    /// Creates a directory.
    Tmkdir {
        /// Parent directory fid.
        dfid: u32,
        /// Name of the new directory.
        name: Vec<u8>,
        /// Permission bits.
        mode: u32,
        /// Group of the new directory.
        gid: u32,
    },
    /// Reply to Tmkdir.
    Rmkdir {
        /// Qid of the new directory.
        qid: Qid,
    },
    /// Renames `oldname` in `olddirfid` to `newname` in `newdirfid`.
    Trenameat {
        /// Source directory.
        olddirfid: u32,
        /// Source name.
        oldname: Vec<u8>,
        /// Destination directory.
        newdirfid: u32,
        /// Destination name.
        newname: Vec<u8>,
    },
    /// Reply to Trenameat.
    Rrenameat,
    /// Removes a name from a directory.
    Tunlinkat {
        /// The directory.
        dirfid: u32,
        /// The name.
        name: Vec<u8>,
        /// 0 or `AT_REMOVEDIR`.
        flags: u32,
    },
    /// Reply to Tunlinkat.
    Runlinkat,
    /// Aborts the request with tag `oldtag`.
    Tflush {
        /// Tag of the request to abort.
        oldtag: u16,
    },
    /// Reply to Tflush.
    Rflush,
    /// Walks names from `fid`, giving `newfid`.
    Twalk {
        /// Starting fid.
        fid: u32,
        /// Fid for the result (may equal `fid`).
        newfid: u32,
        /// Path components, at most [`MAX_WALK_ELEMENTS`].
        names: Vec<Vec<u8>>,
    },
    /// Reply to Twalk: one qid per name walked (fewer on a partial walk).
    Rwalk {
        /// The qids.
        qids: Vec<Qid>,
    },
    /// Reads from an open fid.
    Tread {
        /// The fid.
        fid: u32,
        /// File offset.
        offset: u64,
        /// Bytes wanted.
        count: u32,
    },
    /// Reply to Tread.
    Rread {
        /// The bytes read.
        data: Vec<u8>,
    },
    /// Writes to an open fid.
    Twrite {
        /// The fid.
        fid: u32,
        /// File offset.
        offset: u64,
        /// The bytes to write.
        data: Vec<u8>,
    },
    /// Reply to Twrite.
    Rwrite {
        /// Bytes written.
        count: u32,
    },
    /// Forgets a fid.
    Tclunk {
        /// The fid.
        fid: u32,
    },
    /// Reply to Tclunk.
    Rclunk,
    /// Removes the file of a fid and clunks it.
    Tremove {
        /// The fid.
        fid: u32,
    },
    /// Reply to Tremove.
    Rremove,
}

/// Message type numbers.
mod ty {
    pub const RLERROR: u8 = 7;
    pub const TSTATFS: u8 = 8;
    pub const TLOPEN: u8 = 12;
    pub const TLCREATE: u8 = 14;
    pub const TSYMLINK: u8 = 16;
    pub const TMKNOD: u8 = 18;
    pub const TRENAME: u8 = 20;
    pub const TREADLINK: u8 = 22;
    pub const TGETATTR: u8 = 24;
    pub const TSETATTR: u8 = 26;
    pub const TXATTRWALK: u8 = 30;
    pub const TXATTRCREATE: u8 = 32;
    pub const TREADDIR: u8 = 40;
    pub const TFSYNC: u8 = 50;
    pub const TLOCK: u8 = 52;
    pub const TGETLOCK: u8 = 54;
    pub const TLINK: u8 = 70;
    pub const TMKDIR: u8 = 72;
    pub const TRENAMEAT: u8 = 74;
    pub const TUNLINKAT: u8 = 76;
    pub const TVERSION: u8 = 100;
    pub const TAUTH: u8 = 102;
    pub const TATTACH: u8 = 104;
    pub const TFLUSH: u8 = 108;
    pub const TWALK: u8 = 110;
    pub const TREAD: u8 = 116;
    pub const TWRITE: u8 = 118;
    pub const TCLUNK: u8 = 120;
    pub const TREMOVE: u8 = 122;
}

fn decode_lock(r: &mut Reader<'_>, with_flags: bool) -> Result<(u32, LockRange), DecodeError> {
    let ty = r.u8()?;
    let flags = if with_flags { r.u32()? } else { 0 };
    Ok((
        flags,
        LockRange {
            ty,
            start: r.u64()?,
            length: r.u64()?,
            proc_id: r.u32()?,
            client_id: r.string()?,
        },
    ))
}

fn encode_lock(w: &mut Writer<'_>, flags: Option<u32>, l: &LockRange) {
    w.u8(l.ty);
    if let Some(flags) = flags {
        w.u32(flags);
    }
    w.u64(l.start);
    w.u64(l.length);
    w.u32(l.proc_id);
    w.string(&l.client_id);
}

/// Checks a frame's size field (the first four bytes of a frame) against
/// `msize` and returns the whole frame length it announces.
///
/// Stream readers call this before reading the rest of a frame, so a hostile
/// size never makes them allocate more than `msize` bytes.
pub fn frame_len(size_field: [u8; 4], msize: u32) -> Result<usize, DecodeError> {
    let size = u32::from_le_bytes(size_field);
    if size > msize || (size as usize) < HEADER_SIZE {
        return Err(DecodeError::BadSize);
    }
    usize::try_from(size).map_err(|_| DecodeError::BadSize)
}

impl Message {
    /// Returns the message type number.
    pub fn type_number(&self) -> u8 {
        use Message::*;
        match self {
            Rlerror { .. } => ty::RLERROR,
            Tstatfs { .. } => ty::TSTATFS,
            Rstatfs { .. } => ty::TSTATFS + 1,
            Tlopen { .. } => ty::TLOPEN,
            Rlopen { .. } => ty::TLOPEN + 1,
            Tlcreate { .. } => ty::TLCREATE,
            Rlcreate { .. } => ty::TLCREATE + 1,
            Tsymlink { .. } => ty::TSYMLINK,
            Rsymlink { .. } => ty::TSYMLINK + 1,
            Tmknod { .. } => ty::TMKNOD,
            Rmknod { .. } => ty::TMKNOD + 1,
            Trename { .. } => ty::TRENAME,
            Rrename => ty::TRENAME + 1,
            Treadlink { .. } => ty::TREADLINK,
            Rreadlink { .. } => ty::TREADLINK + 1,
            Tgetattr { .. } => ty::TGETATTR,
            Rgetattr { .. } => ty::TGETATTR + 1,
            Tsetattr { .. } => ty::TSETATTR,
            Rsetattr => ty::TSETATTR + 1,
            Txattrwalk { .. } => ty::TXATTRWALK,
            Rxattrwalk { .. } => ty::TXATTRWALK + 1,
            Txattrcreate { .. } => ty::TXATTRCREATE,
            Rxattrcreate => ty::TXATTRCREATE + 1,
            Treaddir { .. } => ty::TREADDIR,
            Rreaddir { .. } => ty::TREADDIR + 1,
            Tfsync { .. } => ty::TFSYNC,
            Rfsync => ty::TFSYNC + 1,
            Tlock { .. } => ty::TLOCK,
            Rlock { .. } => ty::TLOCK + 1,
            Tgetlock { .. } => ty::TGETLOCK,
            Rgetlock { .. } => ty::TGETLOCK + 1,
            Tlink { .. } => ty::TLINK,
            Rlink => ty::TLINK + 1,
            Tmkdir { .. } => ty::TMKDIR,
            Rmkdir { .. } => ty::TMKDIR + 1,
            Trenameat { .. } => ty::TRENAMEAT,
            Rrenameat => ty::TRENAMEAT + 1,
            Tunlinkat { .. } => ty::TUNLINKAT,
            Runlinkat => ty::TUNLINKAT + 1,
            Tversion { .. } => ty::TVERSION,
            Rversion { .. } => ty::TVERSION + 1,
            Tauth { .. } => ty::TAUTH,
            Rauth { .. } => ty::TAUTH + 1,
            Tattach { .. } => ty::TATTACH,
            Rattach { .. } => ty::TATTACH + 1,
            Tflush { .. } => ty::TFLUSH,
            Rflush => ty::TFLUSH + 1,
            Twalk { .. } => ty::TWALK,
            Rwalk { .. } => ty::TWALK + 1,
            Tread { .. } => ty::TREAD,
            Rread { .. } => ty::TREAD + 1,
            Twrite { .. } => ty::TWRITE,
            Rwrite { .. } => ty::TWRITE + 1,
            Tclunk { .. } => ty::TCLUNK,
            Rclunk => ty::TCLUNK + 1,
            Tremove { .. } => ty::TREMOVE,
            Rremove => ty::TREMOVE + 1,
        }
    }

    /// Returns true for requests (T-messages).
    pub fn is_request(&self) -> bool {
        self.type_number().is_multiple_of(2)
    }

    /// Appends the frame of this message with `tag` to `buf` (which is not
    /// cleared, so one buffer can be reused across messages).
    pub fn encode(&self, tag: u16, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = buf.len();
        let mut w = Writer::new(buf);
        w.u32(0);
        w.u8(self.type_number());
        w.u16(tag);
        self.encode_body(&mut w)?;
        let overflowed = w.overflowed();
        if overflowed {
            buf.truncate(start);
            return Err(EncodeError::StringTooLong);
        }
        let Ok(size) = u32::try_from(buf.len() - start) else {
            buf.truncate(start);
            return Err(EncodeError::FrameTooLarge);
        };
        buf[start..start + 4].copy_from_slice(&size.to_le_bytes());
        Ok(())
    }

    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        use Message::*;
        match self {
            Tversion { msize, version } | Rversion { msize, version } => {
                w.u32(*msize);
                w.string(version);
            }
            Tauth {
                afid,
                uname,
                aname,
                n_uname,
            } => {
                w.u32(*afid);
                w.string(uname);
                w.string(aname);
                w.u32(*n_uname);
            }
            Rauth { aqid: qid }
            | Rattach { qid }
            | Rsymlink { qid }
            | Rmknod { qid }
            | Rmkdir { qid } => qid.encode(w),
            Tattach {
                fid,
                afid,
                uname,
                aname,
                n_uname,
            } => {
                w.u32(*fid);
                w.u32(*afid);
                w.string(uname);
                w.string(aname);
                w.u32(*n_uname);
            }
            Rlerror { ecode } => w.u32(*ecode),
            Tstatfs { fid } | Treadlink { fid } | Tclunk { fid } | Tremove { fid } => w.u32(*fid),
            Rstatfs { stat } => {
                w.u32(stat.ty);
                w.u32(stat.bsize);
                w.u64(stat.blocks);
                w.u64(stat.bfree);
                w.u64(stat.bavail);
                w.u64(stat.files);
                w.u64(stat.ffree);
                w.u64(stat.fsid);
                w.u32(stat.namelen);
            }
            Tlopen { fid, flags } => {
                w.u32(*fid);
                w.u32(*flags);
            }
            Rlopen { qid, iounit } | Rlcreate { qid, iounit } => {
                qid.encode(w);
                w.u32(*iounit);
            }
            Tlcreate {
                fid,
                name,
                flags,
                mode,
                gid,
            } => {
                w.u32(*fid);
                w.string(name);
                w.u32(*flags);
                w.u32(*mode);
                w.u32(*gid);
            }
            Tsymlink {
                fid,
                name,
                target,
                gid,
            } => {
                w.u32(*fid);
                w.string(name);
                w.string(target);
                w.u32(*gid);
            }
            Tmknod {
                dfid,
                name,
                mode,
                major,
                minor,
                gid,
            } => {
                w.u32(*dfid);
                w.string(name);
                w.u32(*mode);
                w.u32(*major);
                w.u32(*minor);
                w.u32(*gid);
            }
            Trename { fid, dfid, name } => {
                w.u32(*fid);
                w.u32(*dfid);
                w.string(name);
            }
            Rrename | Rsetattr | Rxattrcreate | Rfsync | Rlink | Rrenameat | Runlinkat | Rflush
            | Rclunk | Rremove => {}
            Rreadlink { target } => w.string(target),
            Tgetattr { fid, request_mask } => {
                w.u32(*fid);
                w.u64(*request_mask);
            }
            Rgetattr { attr } => {
                w.u64(attr.valid);
                attr.qid.encode(w);
                w.u32(attr.mode);
                w.u32(attr.uid);
                w.u32(attr.gid);
                w.u64(attr.nlink);
                w.u64(attr.rdev);
                w.u64(attr.size);
                w.u64(attr.blksize);
                w.u64(attr.blocks);
                attr.atime.encode(w);
                attr.mtime.encode(w);
                attr.ctime.encode(w);
                attr.btime.encode(w);
                w.u64(attr.gen_);
                w.u64(attr.data_version);
            }
            Tsetattr { fid, attr } => {
                w.u32(*fid);
                w.u32(attr.valid);
                w.u32(attr.mode);
                w.u32(attr.uid);
                w.u32(attr.gid);
                w.u64(attr.size);
                attr.atime.encode(w);
                attr.mtime.encode(w);
            }
            Txattrwalk { fid, newfid, name } => {
                w.u32(*fid);
                w.u32(*newfid);
                w.string(name);
            }
            Rxattrwalk { size } => w.u64(*size),
            Txattrcreate {
                fid,
                name,
                attr_size,
                flags,
            } => {
                w.u32(*fid);
                w.string(name);
                w.u64(*attr_size);
                w.u32(*flags);
            }
            Treaddir { fid, offset, count } | Tread { fid, offset, count } => {
                w.u32(*fid);
                w.u64(*offset);
                w.u32(*count);
            }
            Rreaddir { entries } => {
                let total = entries
                    .iter()
                    .try_fold(0u32, |acc, e| {
                        u32::try_from(e.encoded_len())
                            .ok()
                            .and_then(|n| acc.checked_add(n))
                    })
                    .ok_or(EncodeError::FrameTooLarge)?;
                w.u32(total);
                for e in entries {
                    e.encode(w);
                }
            }
            Tfsync { fid, datasync } => {
                w.u32(*fid);
                w.u32(*datasync);
            }
            Tlock { fid, flags, lock } => {
                w.u32(*fid);
                encode_lock(w, Some(*flags), lock);
            }
            Rlock { status } => w.u8(*status),
            Tgetlock { fid, lock } => {
                w.u32(*fid);
                encode_lock(w, None, lock);
            }
            Rgetlock { lock } => encode_lock(w, None, lock),
            Tlink { dfid, fid, name } => {
                w.u32(*dfid);
                w.u32(*fid);
                w.string(name);
            }
            Tmkdir {
                dfid,
                name,
                mode,
                gid,
            } => {
                w.u32(*dfid);
                w.string(name);
                w.u32(*mode);
                w.u32(*gid);
            }
            Trenameat {
                olddirfid,
                oldname,
                newdirfid,
                newname,
            } => {
                w.u32(*olddirfid);
                w.string(oldname);
                w.u32(*newdirfid);
                w.string(newname);
            }
            Tunlinkat {
                dirfid,
                name,
                flags,
            } => {
                w.u32(*dirfid);
                w.string(name);
                w.u32(*flags);
            }
            Tflush { oldtag } => w.u16(*oldtag),
            Twalk { fid, newfid, names } => {
                if names.len() > MAX_WALK_ELEMENTS {
                    return Err(EncodeError::TooManyElements);
                }
                w.u32(*fid);
                w.u32(*newfid);
                w.u16(names.len() as u16);
                for n in names {
                    w.string(n);
                }
            }
            Rwalk { qids } => {
                if qids.len() > MAX_WALK_ELEMENTS {
                    return Err(EncodeError::TooManyElements);
                }
                w.u16(qids.len() as u16);
                for q in qids {
                    q.encode(w);
                }
            }
            Rread { data } => {
                w.u32(u32::try_from(data.len()).map_err(|_| EncodeError::FrameTooLarge)?);
                w.bytes(data);
            }
            Twrite { fid, offset, data } => {
                w.u32(*fid);
                w.u64(*offset);
                w.u32(u32::try_from(data.len()).map_err(|_| EncodeError::FrameTooLarge)?);
                w.bytes(data);
            }
            Rwrite { count } => w.u32(*count),
        }
        Ok(())
    }

    /// Decodes one whole frame (size field included) received on a
    /// connection whose msize is `msize`; returns the tag and the message.
    pub fn decode(frame: &[u8], msize: u32) -> Result<(u16, Message), DecodeError> {
        let mut r = Reader::new(frame);
        let size = r.u32()?;
        if usize::try_from(size).ok() != Some(frame.len()) || size > msize {
            return Err(DecodeError::BadSize);
        }
        let t = r.u8()?;
        let tag = r.u16()?;
        let m = Self::decode_body(t, &mut r)?;
        r.finish()?;
        Ok((tag, m))
    }

    fn decode_body(t: u8, r: &mut Reader<'_>) -> Result<Message, DecodeError> {
        use Message::*;
        let m = match t {
            ty::RLERROR => Rlerror { ecode: r.u32()? },
            ty::TSTATFS => Tstatfs { fid: r.u32()? },
            9 => Rstatfs {
                stat: StatFs {
                    ty: r.u32()?,
                    bsize: r.u32()?,
                    blocks: r.u64()?,
                    bfree: r.u64()?,
                    bavail: r.u64()?,
                    files: r.u64()?,
                    ffree: r.u64()?,
                    fsid: r.u64()?,
                    namelen: r.u32()?,
                },
            },
            ty::TLOPEN => Tlopen {
                fid: r.u32()?,
                flags: r.u32()?,
            },
            13 => Rlopen {
                qid: Qid::decode(r)?,
                iounit: r.u32()?,
            },
            ty::TLCREATE => Tlcreate {
                fid: r.u32()?,
                name: r.string()?,
                flags: r.u32()?,
                mode: r.u32()?,
                gid: r.u32()?,
            },
            15 => Rlcreate {
                qid: Qid::decode(r)?,
                iounit: r.u32()?,
            },
            ty::TSYMLINK => Tsymlink {
                fid: r.u32()?,
                name: r.string()?,
                target: r.string()?,
                gid: r.u32()?,
            },
            17 => Rsymlink {
                qid: Qid::decode(r)?,
            },
            ty::TMKNOD => Tmknod {
                dfid: r.u32()?,
                name: r.string()?,
                mode: r.u32()?,
                major: r.u32()?,
                minor: r.u32()?,
                gid: r.u32()?,
            },
            19 => Rmknod {
                qid: Qid::decode(r)?,
            },
            ty::TRENAME => Trename {
                fid: r.u32()?,
                dfid: r.u32()?,
                name: r.string()?,
            },
            21 => Rrename,
            ty::TREADLINK => Treadlink { fid: r.u32()? },
            23 => Rreadlink {
                target: r.string()?,
            },
            ty::TGETATTR => Tgetattr {
                fid: r.u32()?,
                request_mask: r.u64()?,
            },
            25 => Rgetattr {
                attr: Attr {
                    valid: r.u64()?,
                    qid: Qid::decode(r)?,
                    mode: r.u32()?,
                    uid: r.u32()?,
                    gid: r.u32()?,
                    nlink: r.u64()?,
                    rdev: r.u64()?,
                    size: r.u64()?,
                    blksize: r.u64()?,
                    blocks: r.u64()?,
                    atime: Timespec::decode(r)?,
                    mtime: Timespec::decode(r)?,
                    ctime: Timespec::decode(r)?,
                    btime: Timespec::decode(r)?,
                    gen_: r.u64()?,
                    data_version: r.u64()?,
                },
            },
            ty::TSETATTR => Tsetattr {
                fid: r.u32()?,
                attr: SetAttr {
                    valid: r.u32()?,
                    mode: r.u32()?,
                    uid: r.u32()?,
                    gid: r.u32()?,
                    size: r.u64()?,
                    atime: Timespec::decode(r)?,
                    mtime: Timespec::decode(r)?,
                },
            },
            27 => Rsetattr,
            ty::TXATTRWALK => Txattrwalk {
                fid: r.u32()?,
                newfid: r.u32()?,
                name: r.string()?,
            },
            31 => Rxattrwalk { size: r.u64()? },
            ty::TXATTRCREATE => Txattrcreate {
                fid: r.u32()?,
                name: r.string()?,
                attr_size: r.u64()?,
                flags: r.u32()?,
            },
            33 => Rxattrcreate,
            ty::TREADDIR => Treaddir {
                fid: r.u32()?,
                offset: r.u64()?,
                count: r.u32()?,
            },
            41 => {
                let count = r.u32()?;
                let data = r.bytes(usize::try_from(count).map_err(|_| DecodeError::BadCount)?)?;
                let mut inner = Reader::new(data);
                let mut entries = Vec::new();
                while inner.remaining() > 0 {
                    entries.push(Dirent::decode(&mut inner)?);
                }
                Rreaddir { entries }
            }
            ty::TFSYNC => {
                let fid = r.u32()?;
                // The original 9P2000.L text has only a fid; Linux appends
                // `datasync[4]`. Accept both.
                let datasync = if r.remaining() == 0 { 0 } else { r.u32()? };
                Tfsync { fid, datasync }
            }
            51 => Rfsync,
            ty::TLOCK => {
                let fid = r.u32()?;
                let (flags, lock) = decode_lock(r, true)?;
                Tlock { fid, flags, lock }
            }
            53 => Rlock { status: r.u8()? },
            ty::TGETLOCK => {
                let fid = r.u32()?;
                let (_, lock) = decode_lock(r, false)?;
                Tgetlock { fid, lock }
            }
            55 => Rgetlock {
                lock: decode_lock(r, false)?.1,
            },
            ty::TLINK => Tlink {
                dfid: r.u32()?,
                fid: r.u32()?,
                name: r.string()?,
            },
            71 => Rlink,
            ty::TMKDIR => Tmkdir {
                dfid: r.u32()?,
                name: r.string()?,
                mode: r.u32()?,
                gid: r.u32()?,
            },
            73 => Rmkdir {
                qid: Qid::decode(r)?,
            },
            ty::TRENAMEAT => Trenameat {
                olddirfid: r.u32()?,
                oldname: r.string()?,
                newdirfid: r.u32()?,
                newname: r.string()?,
            },
            75 => Rrenameat,
            ty::TUNLINKAT => Tunlinkat {
                dirfid: r.u32()?,
                name: r.string()?,
                flags: r.u32()?,
            },
            77 => Runlinkat,
            ty::TVERSION => Tversion {
                msize: r.u32()?,
                version: r.string()?,
            },
            101 => Rversion {
                msize: r.u32()?,
                version: r.string()?,
            },
            ty::TAUTH => Tauth {
                afid: r.u32()?,
                uname: r.string()?,
                aname: r.string()?,
                n_uname: r.u32()?,
            },
            103 => Rauth {
                aqid: Qid::decode(r)?,
            },
            ty::TATTACH => Tattach {
                fid: r.u32()?,
                afid: r.u32()?,
                uname: r.string()?,
                aname: r.string()?,
                n_uname: r.u32()?,
            },
            105 => Rattach {
                qid: Qid::decode(r)?,
            },
            ty::TFLUSH => Tflush { oldtag: r.u16()? },
            109 => Rflush,
            ty::TWALK => {
                let fid = r.u32()?;
                let newfid = r.u32()?;
                let n = usize::from(r.u16()?);
                if n > MAX_WALK_ELEMENTS {
                    return Err(DecodeError::TooManyElements);
                }
                let mut names = Vec::with_capacity(n);
                for _ in 0..n {
                    names.push(r.string()?);
                }
                Twalk { fid, newfid, names }
            }
            111 => {
                let n = usize::from(r.u16()?);
                if n > MAX_WALK_ELEMENTS {
                    return Err(DecodeError::TooManyElements);
                }
                let mut qids = Vec::with_capacity(n);
                for _ in 0..n {
                    qids.push(Qid::decode(r)?);
                }
                Rwalk { qids }
            }
            ty::TREAD => Tread {
                fid: r.u32()?,
                offset: r.u64()?,
                count: r.u32()?,
            },
            117 => {
                let count = r.u32()?;
                let data = r.bytes(usize::try_from(count).map_err(|_| DecodeError::BadCount)?)?;
                Rread {
                    data: data.to_vec(),
                }
            }
            ty::TWRITE => {
                let fid = r.u32()?;
                let offset = r.u64()?;
                let count = r.u32()?;
                let data = r.bytes(usize::try_from(count).map_err(|_| DecodeError::BadCount)?)?;
                Twrite {
                    fid,
                    offset,
                    data: data.to_vec(),
                }
            }
            119 => Rwrite { count: r.u32()? },
            ty::TCLUNK => Tclunk { fid: r.u32()? },
            121 => Rclunk,
            ty::TREMOVE => Tremove { fid: r.u32()? },
            123 => Rremove,
            other => return Err(DecodeError::UnknownType(other)),
        };
        Ok(m)
    }
}
