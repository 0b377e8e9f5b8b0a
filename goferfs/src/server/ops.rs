//! The handlers of each 9P2000.L request on the host.

use super::Conn;
use super::confine::{
    check_name, dup, open_child, open_dir, os, proc_path, qid_of, reopen, stat_fd,
};
use super::fid::{FidEntry, FidState, Parent, lock};
use crate::error::{from_io, from_nix};
use crate::message::{
    Attr, Dirent, IO_HEADER_SIZE, LockRange, Message, NOFID, NONUNAME, Qid, SetAttr, StatFs,
    Timespec, getattr, lock_status, lock_type, setattr,
};
use abi_linux::Errno;
use nix::fcntl::{AtFlags, FcntlArg, OFlag, fcntl, openat};
use nix::sys::stat::{FileStat, Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

type Reply = Result<(Message, Option<OwnedFd>), Errno>;

fn ok(m: Message) -> Reply {
    Ok((m, None))
}

/// The largest extended attribute value or name list (Linux's limits).
const XATTR_MAX: u64 = 65536;

/// Runs one request.
pub(super) fn handle(c: &Conn, msg: Message) -> Reply {
    use Message::*;
    match msg {
        // No authentication: answer as diod does, which its own clients
        // (diodcat, diodls) and others read as "not required".
        Tauth { .. } => Err(Errno::ENOENT),
        Tattach {
            fid, afid, n_uname, ..
        } => attach(c, fid, afid, n_uname),
        Twalk { fid, newfid, names } => walk(c, fid, newfid, &names),
        Tlopen { fid, flags } => lopen(c, fid, flags),
        Tlcreate {
            fid,
            name,
            flags,
            mode,
            gid,
        } => lcreate(c, fid, &name, flags, mode, gid),
        Tread { fid, offset, count } => read(c, fid, offset, count),
        Twrite { fid, offset, data } => write(c, fid, offset, &data),
        Tclunk { fid } => clunk(c, fid).map(|()| (Rclunk, None)),
        Tremove { fid } => remove(c, fid),
        Tgetattr { fid, .. } => {
            let e = c.fids.get(fid)?;
            let st = stat_fd(e.path.as_fd())?;
            ok(Rgetattr { attr: attr_of(&st) })
        }
        Tsetattr { fid, attr } => set_attr(c, fid, &attr),
        Tstatfs { fid } => statfs(c, fid),
        Treaddir { fid, offset, count } => readdir(c, fid, offset, count),
        Tfsync { fid, datasync } => {
            let e = c.fids.get(fid)?;
            let st = lock(&e.state);
            let FidState::Open { file, .. } = &*st else {
                return Err(Errno::EBADF);
            };
            if datasync != 0 {
                nix::unistd::fdatasync(file).map_err(from_nix)?;
            } else {
                nix::unistd::fsync(file).map_err(from_nix)?;
            }
            ok(Rfsync)
        }
        Tmkdir {
            dfid,
            name,
            mode,
            gid,
        } => mkdir(c, dfid, &name, mode, gid),
        Tsymlink {
            fid,
            name,
            target,
            gid,
        } => symlink(c, fid, &name, &target, gid),
        Tmknod {
            dfid,
            name,
            mode,
            major,
            minor,
            gid,
        } => mknod(c, dfid, &name, mode, major, minor, gid),
        Tlink { dfid, fid, name } => link(c, dfid, fid, &name),
        Trename { fid, dfid, name } => rename(c, fid, dfid, &name),
        Trenameat {
            olddirfid,
            oldname,
            newdirfid,
            newname,
        } => {
            writable(c)?;
            let (od, nd) = (c.fids.get(olddirfid)?, c.fids.get(newdirfid)?);
            let (on, nn) = (check_name(&oldname)?, check_name(&newname)?);
            nix::fcntl::renameat(od.path.as_fd(), os(on), nd.path.as_fd(), os(nn))
                .map_err(from_nix)?;
            ok(Rrenameat)
        }
        Tunlinkat {
            dirfid,
            name,
            flags,
        } => {
            writable(c)?;
            let d = c.fids.get(dirfid)?;
            let name = check_name(&name)?;
            let how = match flags {
                0 => nix::unistd::UnlinkatFlags::NoRemoveDir,
                f if f == libc::AT_REMOVEDIR as u32 => nix::unistd::UnlinkatFlags::RemoveDir,
                _ => return Err(Errno::EINVAL),
            };
            nix::unistd::unlinkat(d.path.as_fd(), os(name), how).map_err(from_nix)?;
            ok(Runlinkat)
        }
        Treadlink { fid } => {
            let e = c.fids.get(fid)?;
            if e.qid.ty != Qid::TYPE_SYMLINK {
                return Err(Errno::EINVAL);
            }
            let t = nix::fcntl::readlinkat(e.path.as_fd(), "").map_err(from_nix)?;
            use std::os::unix::ffi::OsStringExt;
            ok(Rreadlink {
                target: t.into_vec(),
            })
        }
        Txattrwalk { fid, newfid, name } => xattrwalk(c, fid, newfid, &name),
        Txattrcreate {
            fid,
            name,
            attr_size,
            flags,
        } => {
            writable(c)?;
            if attr_size > XATTR_MAX {
                return Err(Errno::E2BIG);
            }
            if name.is_empty() || flags & !3 != 0 {
                return Err(Errno::EINVAL);
            }
            let e = c.fids.get(fid)?;
            let mut st = lock(&e.state);
            if !matches!(*st, FidState::Path) {
                return Err(Errno::EBADF);
            }
            *st = FidState::XattrWrite {
                name,
                size: attr_size,
                flags,
                data: Vec::new(),
            };
            ok(Rxattrcreate)
        }
        Tlock {
            fid,
            flags: _,
            lock,
        } => {
            let e = c.fids.get(fid)?;
            let st = lock_state(&e);
            let FidState::Open { file, .. } = &*st else {
                return Err(Errno::EBADF);
            };
            let fl = flock_of(&lock)?;
            let status = match fcntl(file, FcntlArg::F_OFD_SETLK(&fl)) {
                Ok(_) => lock_status::SUCCESS,
                Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EACCES) => lock_status::BLOCKED,
                Err(_) => lock_status::ERROR,
            };
            ok(Rlock { status })
        }
        Tgetlock { fid, lock } => {
            let e = c.fids.get(fid)?;
            let st = lock_state(&e);
            let FidState::Open { file, .. } = &*st else {
                return Err(Errno::EBADF);
            };
            let mut fl = flock_of(&lock)?;
            fcntl(file, FcntlArg::F_OFD_GETLK(&mut fl)).map_err(from_nix)?;
            let ty = match i32::from(fl.l_type) {
                libc::F_RDLCK => lock_type::RDLCK,
                libc::F_WRLCK => lock_type::WRLCK,
                _ => lock_type::UNLCK,
            };
            ok(Rgetlock {
                lock: LockRange {
                    ty,
                    start: fl.l_start as u64,
                    length: fl.l_len as u64,
                    proc_id: if fl.l_pid > 0 {
                        fl.l_pid as u32
                    } else {
                        lock.proc_id
                    },
                    client_id: lock.client_id,
                },
            })
        }
        _ => Err(Errno::EOPNOTSUPP),
    }
}

fn lock_state(e: &FidEntry) -> std::sync::MutexGuard<'_, FidState> {
    lock(&e.state)
}

fn flock_of(l: &LockRange) -> Result<libc::flock, Errno> {
    let ty = match l.ty {
        lock_type::RDLCK => libc::F_RDLCK,
        lock_type::WRLCK => libc::F_WRLCK,
        lock_type::UNLCK => libc::F_UNLCK,
        _ => return Err(Errno::EINVAL),
    };
    Ok(libc::flock {
        l_type: ty as i16,
        l_whence: libc::SEEK_SET as i16,
        l_start: i64::try_from(l.start).map_err(|_| Errno::EINVAL)?,
        l_len: i64::try_from(l.length).map_err(|_| Errno::EINVAL)?,
        l_pid: 0,
    })
}

fn writable(c: &Conn) -> Result<(), Errno> {
    if c.shared.config.read_only {
        Err(Errno::EROFS)
    } else {
        Ok(())
    }
}

fn ts(sec: i64, nsec: i64) -> Timespec {
    Timespec {
        sec: sec as u64,
        nsec: nsec as u64,
    }
}

fn attr_of(st: &FileStat) -> Attr {
    Attr {
        valid: getattr::BASIC,
        qid: qid_of(st),
        mode: st.st_mode,
        uid: st.st_uid,
        gid: st.st_gid,
        nlink: st.st_nlink,
        rdev: st.st_rdev,
        size: st.st_size as u64,
        blksize: st.st_blksize as u64,
        blocks: st.st_blocks as u64,
        atime: ts(st.st_atime, st.st_atime_nsec),
        mtime: ts(st.st_mtime, st.st_mtime_nsec),
        ctime: ts(st.st_ctime, st.st_ctime_nsec),
        btime: Timespec::default(),
        gen_: 0,
        data_version: 0,
    }
}

fn attach(c: &Conn, fid: u32, afid: u32, n_uname: u32) -> Reply {
    if afid != NOFID {
        return Err(Errno::EBADF);
    }
    let root = c.shared.root.clone();
    let st = stat_fd(root.as_fd())?;
    let qid = qid_of(&st);
    let uid = if n_uname == NONUNAME {
        nix::unistd::geteuid().as_raw()
    } else {
        n_uname
    };
    c.fids.insert(
        fid,
        FidEntry::new(
            &c.shared.open_fids,
            root,
            (qid, libc::S_IFDIR),
            None,
            uid,
            FidState::Path,
        ),
        false,
    )?;
    ok(Message::Rattach { qid })
}

fn walk(c: &Conn, fid: u32, newfid: u32, names: &[Vec<u8>]) -> Reply {
    let start = c.fids.get(fid)?;
    if newfid != fid && c.fids.contains(newfid) {
        return Err(Errno::EBADF);
    }
    let mut qids = Vec::with_capacity(names.len());
    let mut cur = start.path.clone();
    let mut parent = lock(&start.parent).clone();
    let mut qid = start.qid;
    let mut kind = start.kind;
    for (i, name) in names.iter().enumerate() {
        let step = check_name(name).and_then(|n| {
            let fd = open_child(cur.as_fd(), n)?;
            let st = stat_fd(fd.as_fd())?;
            Ok((fd, st))
        });
        match step {
            Ok((fd, st)) => {
                parent = Some(Parent {
                    dir: cur,
                    name: name.clone(),
                });
                cur = Arc::new(fd);
                qid = qid_of(&st);
                kind = st.st_mode & libc::S_IFMT;
                qids.push(qid);
            }
            Err(e) if i == 0 => return Err(e),
            Err(_) => return ok(Message::Rwalk { qids }),
        }
    }
    c.fids.insert(
        newfid,
        FidEntry::new(
            &c.shared.open_fids,
            cur,
            (qid, kind),
            parent,
            start.uid,
            FidState::Path,
        ),
        newfid == fid,
    )?;
    ok(Message::Rwalk { qids })
}

/// Turns client `open(2)` flags into the host flags used to open a file of
/// type `ty`, enforcing the export's policy.
fn open_flags(c: &Conn, ty: SFlag, flags: u32) -> Result<OFlag, Errno> {
    let raw = flags as i32;
    let access = raw & libc::O_ACCMODE;
    let writes = access != libc::O_RDONLY || raw & libc::O_TRUNC != 0;
    if writes && c.shared.config.read_only {
        return Err(Errno::EROFS);
    }
    match ty {
        SFlag::S_IFLNK => return Err(Errno::ELOOP),
        SFlag::S_IFDIR if writes => return Err(Errno::EISDIR),
        SFlag::S_IFDIR | SFlag::S_IFREG => {}
        SFlag::S_IFSOCK => return Err(Errno::ENXIO),
        _ if !c.shared.config.allow_devices => return Err(Errno::EACCES),
        _ => {}
    }
    let kept = libc::O_ACCMODE
        | libc::O_TRUNC
        | libc::O_APPEND
        | libc::O_SYNC
        | libc::O_DSYNC
        | libc::O_DIRECT
        | libc::O_NONBLOCK
        | libc::O_NOATIME;
    Ok(OFlag::from_bits_truncate(raw & kept))
}

/// Dups `file` for donation if the connection negotiated it and `qid` is a
/// regular file (directories are never donated: their fd would let the
/// holder `openat` its way out).
fn donation(c: &Conn, qid: Qid, file: &OwnedFd) -> Result<Option<OwnedFd>, Errno> {
    if c.donation.load(std::sync::atomic::Ordering::Relaxed) && qid.ty == Qid::TYPE_FILE {
        Ok(Some(dup(file)?))
    } else {
        Ok(None)
    }
}

fn lopen(c: &Conn, fid: u32, flags: u32) -> Reply {
    let e = c.fids.get(fid)?;
    let mut state = lock(&e.state);
    if !matches!(*state, FidState::Path) {
        return Err(Errno::EINVAL);
    }
    // The walk recorded the file's type and qid; neither can change for
    // the inode the fid's fd names, so no stat is needed here.
    let ty = SFlag::from_bits_truncate(e.kind);
    let oflags = open_flags(c, ty, flags)?;
    let file = if ty == SFlag::S_IFDIR {
        open_dir(e.path.as_fd())?
    } else {
        reopen(c.shared.proc_fds.as_fd(), e.path.as_fd(), oflags)?
    };
    let qid = e.qid;
    let fd = donation(c, qid, &file)?;
    *state = FidState::Open {
        file,
        access: oflags.bits() & libc::O_ACCMODE,
        listing: None,
    };
    Ok((Message::Rlopen { qid, iounit: 0 }, fd))
}

/// The permission bits of `mode` the server applies to a host file (a
/// directory when `dir`): set-user-ID and set-group-ID are dropped unless
/// the export allows them (see [`ServerConfig::allow_setid`]).
///
/// [`ServerConfig::allow_setid`]: super::ServerConfig::allow_setid
fn host_mode(c: &Conn, mode: u32, dir: bool) -> u32 {
    let mut bits = mode & 0o7777;
    if !c.shared.config.allow_setid {
        bits &= !libc::S_ISUID;
        if !dir {
            bits &= !libc::S_ISGID;
        }
    }
    bits
}

/// Gives a new file the client's ownership if the server may, and the
/// exact permission bits asked for (the server's umask does not apply).
fn set_owner_and_mode(
    c: &Conn,
    fd: &OwnedFd,
    uid: u32,
    gid: u32,
    mode: Option<u32>,
) -> Result<FileStat, Errno> {
    if c.shared.can_chown {
        nix::unistd::fchownat(
            fd,
            "",
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::AT_EMPTY_PATH | AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(from_nix)?;
    }
    let st = stat_fd(fd.as_fd())?;
    let dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    if let Some(mode) = mode.map(|m| host_mode(c, m, dir))
        && st.st_mode & 0o7777 != mode
    {
        nix::sys::stat::fchmodat(
            nix::fcntl::AT_FDCWD,
            proc_path(fd.as_fd()).as_str(),
            Mode::from_bits_truncate(mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .map_err(from_nix)?;
        return stat_fd(fd.as_fd());
    }
    Ok(st)
}

fn lcreate(c: &Conn, fid: u32, name: &[u8], flags: u32, mode: u32, gid: u32) -> Reply {
    writable(c)?;
    let name = check_name(name)?;
    let e = c.fids.get(fid)?;
    let state = lock(&e.state);
    if !matches!(*state, FidState::Path) {
        return Err(Errno::EINVAL);
    }
    let oflags = open_flags(c, SFlag::S_IFREG, flags)?;
    let file = openat(
        e.path.as_fd(),
        os(name),
        oflags | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(host_mode(c, mode, false)),
    )
    .map_err(from_nix)?;
    let st = set_owner_and_mode(c, &file, e.uid, gid, Some(mode))?;
    let qid = qid_of(&st);
    let fd = donation(c, qid, &file)?;
    let new = FidEntry::new(
        &c.shared.open_fids,
        Arc::new(dup(&file)?),
        (qid, libc::S_IFREG),
        Some(Parent {
            dir: e.path.clone(),
            name: name.to_vec(),
        }),
        e.uid,
        FidState::Open {
            file,
            access: oflags.bits() & libc::O_ACCMODE,
            listing: None,
        },
    );
    drop(state);
    c.fids.insert(fid, new, true)?;
    Ok((Message::Rlcreate { qid, iounit: 0 }, fd))
}

fn read(c: &Conn, fid: u32, offset: u64, count: u32) -> Reply {
    let e = c.fids.get(fid)?;
    let msize = c.msize.load(std::sync::atomic::Ordering::Relaxed) as u32;
    let count = count.min(msize - IO_HEADER_SIZE) as usize;
    let st = lock(&e.state);
    match &*st {
        FidState::Open { file, access, .. } => {
            if *access == libc::O_WRONLY {
                return Err(Errno::EBADF);
            }
            let off = i64::try_from(offset).map_err(|_| Errno::EINVAL)?;
            let mut buf = vec![0u8; count];
            let n = nix::sys::uio::pread(file, &mut buf, off).map_err(from_nix)?;
            buf.truncate(n);
            ok(Message::Rread { data: buf })
        }
        FidState::XattrRead(data) => {
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let end = start.saturating_add(count).min(data.len());
            ok(Message::Rread {
                data: data[start..end].to_vec(),
            })
        }
        _ => Err(Errno::EBADF),
    }
}

fn write(c: &Conn, fid: u32, offset: u64, data: &[u8]) -> Reply {
    let e = c.fids.get(fid)?;
    let mut st = lock(&e.state);
    match &mut *st {
        FidState::Open { file, access, .. } => {
            if *access == libc::O_RDONLY {
                return Err(Errno::EBADF);
            }
            let off = i64::try_from(offset).map_err(|_| Errno::EINVAL)?;
            let n = nix::sys::uio::pwrite(&*file, data, off).map_err(from_nix)?;
            ok(Message::Rwrite { count: n as u32 })
        }
        FidState::XattrWrite {
            size, data: buf, ..
        } => {
            if offset != buf.len() as u64 {
                return Err(Errno::EINVAL);
            }
            if (buf.len() + data.len()) as u64 > *size {
                return Err(Errno::ENOSPC);
            }
            buf.extend_from_slice(data);
            ok(Message::Rwrite {
                count: data.len() as u32,
            })
        }
        _ => Err(Errno::EBADF),
    }
}

fn clunk(c: &Conn, fid: u32) -> Result<(), Errno> {
    let e = c.fids.remove(fid)?;
    let mut st = lock(&e.state);
    if let FidState::XattrWrite {
        name,
        size,
        flags,
        data,
    } = std::mem::replace(&mut *st, FidState::Path)
    {
        if data.len() as u64 != size {
            return Err(Errno::EINVAL);
        }
        if e.qid.ty == Qid::TYPE_SYMLINK {
            return Err(Errno::EPERM);
        }
        let path = proc_path(e.path.as_fd());
        if size == 0 {
            xattr::remove_deref(&path, os(&name)).map_err(|err| from_io(&err))?;
        } else {
            set_xattr(&path, &name, &data, flags)?;
        }
    }
    Ok(())
}

fn set_xattr(path: &str, name: &[u8], value: &[u8], flags: u32) -> Result<(), Errno> {
    let exists = match xattr::get_deref(path, os(name)) {
        Ok(v) => v.is_some(),
        Err(e) => return Err(from_io(&e)),
    };
    if flags & crate::client::XATTR_CREATE != 0 && exists {
        return Err(Errno::EEXIST);
    }
    if flags & crate::client::XATTR_REPLACE != 0 && !exists {
        return Err(Errno::ENODATA);
    }
    xattr::set_deref(path, os(name), value).map_err(|e| from_io(&e))
}

fn remove(c: &Conn, fid: u32) -> Reply {
    let e = c.fids.remove(fid)?;
    writable(c)?;
    let p = e.parent()?;
    let how = if e.qid.ty == Qid::TYPE_DIR {
        nix::unistd::UnlinkatFlags::RemoveDir
    } else {
        nix::unistd::UnlinkatFlags::NoRemoveDir
    };
    nix::unistd::unlinkat(p.dir.as_fd(), os(&p.name), how).map_err(from_nix)?;
    ok(Message::Rremove)
}

fn time_arg(valid: u32, now_bit: u32, set_bit: u32, t: Timespec) -> Result<TimeSpec, Errno> {
    if valid & now_bit == 0 {
        Ok(TimeSpec::UTIME_OMIT)
    } else if valid & set_bit == 0 {
        Ok(TimeSpec::UTIME_NOW)
    } else {
        let sec = i64::try_from(t.sec).map_err(|_| Errno::EINVAL)?;
        let nsec = i64::try_from(t.nsec).map_err(|_| Errno::EINVAL)?;
        Ok(TimeSpec::new(sec, nsec))
    }
}

fn set_attr(c: &Conn, fid: u32, a: &SetAttr) -> Reply {
    writable(c)?;
    let e = c.fids.get(fid)?;
    let is_link = e.qid.ty == Qid::TYPE_SYMLINK;
    let path = proc_path(e.path.as_fd());
    if a.valid & setattr::MODE != 0 {
        if is_link {
            return Err(Errno::EOPNOTSUPP);
        }
        let dir = e.qid.ty == Qid::TYPE_DIR;
        nix::sys::stat::fchmodat(
            nix::fcntl::AT_FDCWD,
            path.as_str(),
            Mode::from_bits_truncate(host_mode(c, a.mode, dir)),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .map_err(from_nix)?;
    }
    if a.valid & (setattr::UID | setattr::GID) != 0 {
        let uid = (a.valid & setattr::UID != 0).then(|| Uid::from_raw(a.uid));
        let gid = (a.valid & setattr::GID != 0).then(|| Gid::from_raw(a.gid));
        nix::unistd::fchownat(
            e.path.as_fd(),
            "",
            uid,
            gid,
            AtFlags::AT_EMPTY_PATH | AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(from_nix)?;
    }
    if a.valid & setattr::SIZE != 0 {
        let len = i64::try_from(a.size).map_err(|_| Errno::EFBIG)?;
        if e.qid.ty == Qid::TYPE_DIR {
            return Err(Errno::EISDIR);
        }
        if is_link {
            return Err(Errno::EINVAL);
        }
        nix::unistd::truncate(path.as_str(), len).map_err(from_nix)?;
    }
    if a.valid & (setattr::ATIME | setattr::MTIME) != 0 {
        let at = time_arg(a.valid, setattr::ATIME, setattr::ATIME_SET, a.atime)?;
        let mt = time_arg(a.valid, setattr::MTIME, setattr::MTIME_SET, a.mtime)?;
        if is_link {
            // A symlink's own times are set through its parent and name with
            // AT_SYMLINK_NOFOLLOW: one component, never followed.
            let p = e.parent()?;
            nix::sys::stat::utimensat(
                p.dir.as_fd(),
                os(&p.name),
                &at,
                &mt,
                nix::sys::stat::UtimensatFlags::NoFollowSymlink,
            )
            .map_err(from_nix)?;
        } else {
            nix::sys::stat::utimensat(
                nix::fcntl::AT_FDCWD,
                path.as_str(),
                &at,
                &mt,
                nix::sys::stat::UtimensatFlags::FollowSymlink,
            )
            .map_err(from_nix)?;
        }
    }
    ok(Message::Rsetattr)
}

fn statfs(c: &Conn, fid: u32) -> Reply {
    let e = c.fids.get(fid)?;
    let sfs = nix::sys::statfs::fstatfs(e.path.as_fd()).map_err(from_nix)?;
    let vfs = nix::sys::statvfs::fstatvfs(e.path.as_fd()).map_err(from_nix)?;
    ok(Message::Rstatfs {
        stat: StatFs {
            ty: sfs.filesystem_type().0 as u32,
            bsize: vfs.block_size() as u32,
            blocks: vfs.blocks(),
            bfree: vfs.blocks_free(),
            bavail: vfs.blocks_available(),
            files: vfs.files(),
            ffree: vfs.files_free(),
            fsid: vfs.filesystem_id(),
            namelen: vfs.name_max() as u32,
        },
    })
}

fn list_dir(dir: OwnedFd) -> Result<Vec<Dirent>, Errno> {
    let mut d = nix::dir::Dir::from_fd(dir).map_err(from_nix)?;
    let mut out = Vec::new();
    for ent in d.iter() {
        let ent = ent.map_err(from_nix)?;
        let (dt, qt) = match ent.file_type() {
            Some(nix::dir::Type::Directory) => (libc::DT_DIR, Qid::TYPE_DIR),
            Some(nix::dir::Type::Symlink) => (libc::DT_LNK, Qid::TYPE_SYMLINK),
            Some(nix::dir::Type::File) => (libc::DT_REG, Qid::TYPE_FILE),
            Some(nix::dir::Type::Fifo) => (libc::DT_FIFO, Qid::TYPE_FILE),
            Some(nix::dir::Type::CharacterDevice) => (libc::DT_CHR, Qid::TYPE_FILE),
            Some(nix::dir::Type::BlockDevice) => (libc::DT_BLK, Qid::TYPE_FILE),
            Some(nix::dir::Type::Socket) => (libc::DT_SOCK, Qid::TYPE_FILE),
            None => (libc::DT_UNKNOWN, Qid::TYPE_FILE),
        };
        out.push(Dirent {
            qid: Qid {
                ty: qt,
                version: 0,
                path: ent.ino(),
            },
            offset: out.len() as u64 + 1,
            ty: dt,
            name: ent.file_name().to_bytes().to_vec(),
        });
    }
    Ok(out)
}

fn readdir(c: &Conn, fid: u32, offset: u64, count: u32) -> Reply {
    let e = c.fids.get(fid)?;
    let msize = c.msize.load(std::sync::atomic::Ordering::Relaxed) as u32;
    let budget = count.min(msize - IO_HEADER_SIZE) as usize;
    let mut st = lock(&e.state);
    let FidState::Open { listing, .. } = &mut *st else {
        return Err(Errno::EBADF);
    };
    if e.qid.ty != Qid::TYPE_DIR {
        return Err(Errno::ENOTDIR);
    }
    if offset == 0 || listing.is_none() {
        *listing = Some(list_dir(open_dir(e.path.as_fd())?)?);
    }
    let all = listing.as_deref().unwrap_or(&[]);
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
    let mut used = 0;
    let mut entries = Vec::new();
    for d in &all[start..] {
        let n = d.encoded_len();
        if used + n > budget {
            break;
        }
        used += n;
        entries.push(d.clone());
    }
    if entries.is_empty() && start < all.len() {
        return Err(Errno::EINVAL);
    }
    ok(Message::Rreaddir { entries })
}

/// Creates `name` in directory fid `dfid` with `make`, then opens it as an
/// `O_PATH` fd and gives it the client's owner and mode.
fn create_node(
    c: &Conn,
    dfid: u32,
    name: &[u8],
    gid: u32,
    mode: Option<u32>,
    make: impl FnOnce(&OwnedFd, &std::ffi::OsStr) -> nix::Result<()>,
) -> Result<Qid, Errno> {
    writable(c)?;
    let name = check_name(name)?;
    let d = c.fids.get(dfid)?;
    make(&d.path, os(name)).map_err(from_nix)?;
    let fd = open_child(d.path.as_fd(), name)?;
    let st = set_owner_and_mode(c, &fd, d.uid, gid, mode)?;
    Ok(qid_of(&st))
}

fn mkdir(c: &Conn, dfid: u32, name: &[u8], mode: u32, gid: u32) -> Reply {
    let qid = create_node(c, dfid, name, gid, Some(mode), |d, n| {
        nix::sys::stat::mkdirat(d, n, Mode::from_bits_truncate(host_mode(c, mode, true)))
    })?;
    ok(Message::Rmkdir { qid })
}

fn symlink(c: &Conn, dfid: u32, name: &[u8], target: &[u8], gid: u32) -> Reply {
    let qid = create_node(c, dfid, name, gid, None, |d, n| {
        nix::unistd::symlinkat(os(target), d, n)
    })?;
    ok(Message::Rsymlink { qid })
}

fn mknod(c: &Conn, dfid: u32, name: &[u8], mode: u32, major: u32, minor: u32, gid: u32) -> Reply {
    let kind = SFlag::from_bits_truncate(mode & libc::S_IFMT);
    match kind {
        SFlag::S_IFREG | SFlag::S_IFIFO | SFlag::S_IFSOCK => {}
        SFlag::S_IFCHR | SFlag::S_IFBLK if c.shared.config.allow_devices => {}
        SFlag::S_IFCHR | SFlag::S_IFBLK => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    }
    let dev = libc::makedev(major, minor);
    let qid = create_node(c, dfid, name, gid, Some(mode), |d, n| {
        nix::sys::stat::mknodat(
            d,
            n,
            kind,
            Mode::from_bits_truncate(host_mode(c, mode, false)),
            dev,
        )
    })?;
    ok(Message::Rmknod { qid })
}

fn link(c: &Conn, dfid: u32, fid: u32, name: &[u8]) -> Reply {
    writable(c)?;
    let name = check_name(name)?;
    let (d, e) = (c.fids.get(dfid)?, c.fids.get(fid)?);
    let r = nix::unistd::linkat(
        e.path.as_fd(),
        "",
        d.path.as_fd(),
        os(name),
        AtFlags::AT_EMPTY_PATH,
    );
    match r {
        // Without CAP_DAC_READ_SEARCH AT_EMPTY_PATH is refused with ENOENT;
        // the /proc magic link names the same inode.
        Err(nix::errno::Errno::ENOENT) if e.qid.ty != Qid::TYPE_SYMLINK => nix::unistd::linkat(
            nix::fcntl::AT_FDCWD,
            proc_path(e.path.as_fd()).as_str(),
            d.path.as_fd(),
            os(name),
            AtFlags::AT_SYMLINK_FOLLOW,
        )
        .map_err(from_nix)?,
        r => r.map_err(from_nix)?,
    }
    ok(Message::Rlink)
}

fn rename(c: &Conn, fid: u32, dfid: u32, name: &[u8]) -> Reply {
    writable(c)?;
    let name = check_name(name)?;
    let (e, d) = (c.fids.get(fid)?, c.fids.get(dfid)?);
    let p = e.parent()?;
    nix::fcntl::renameat(p.dir.as_fd(), os(&p.name), d.path.as_fd(), os(name)).map_err(from_nix)?;
    *lock(&e.parent) = Some(Parent {
        dir: d.path.clone(),
        name: name.to_vec(),
    });
    ok(Message::Rrename)
}

fn xattrwalk(c: &Conn, fid: u32, newfid: u32, name: &[u8]) -> Reply {
    let e = c.fids.get(fid)?;
    if newfid != fid && c.fids.contains(newfid) {
        return Err(Errno::EBADF);
    }
    let data = if e.qid.ty == Qid::TYPE_SYMLINK {
        // Symlink xattrs would need the link itself, which /proc/self/fd
        // does not name safely; user xattrs on symlinks are EPERM on Linux
        // anyway, so report none.
        if name.is_empty() {
            Vec::new()
        } else {
            return Err(Errno::ENODATA);
        }
    } else {
        let path = proc_path(e.path.as_fd());
        if name.is_empty() {
            let mut out = Vec::new();
            for n in xattr::list_deref(&path).map_err(|err| from_io(&err))? {
                use std::os::unix::ffi::OsStrExt;
                out.extend_from_slice(n.as_bytes());
                out.push(0);
            }
            out
        } else {
            xattr::get_deref(&path, os(name))
                .map_err(|err| from_io(&err))?
                .ok_or(Errno::ENODATA)?
        }
    };
    if data.len() as u64 > XATTR_MAX {
        return Err(Errno::E2BIG);
    }
    let size = data.len() as u64;
    let new = FidEntry::new(
        &c.shared.open_fids,
        e.path.clone(),
        (e.qid, e.kind),
        lock(&e.parent).clone(),
        e.uid,
        FidState::XattrRead(data),
    );
    c.fids.insert(newfid, new, newfid == fid)?;
    ok(Message::Rxattrwalk { size })
}
