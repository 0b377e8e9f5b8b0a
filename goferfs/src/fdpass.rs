//! Sending and receiving host file descriptors with `SCM_RIGHTS` over a Unix
//! stream socket: the only module of this crate allowed to use `unsafe`.
//!
//! A donated fd travels with the first byte of the frame it belongs to, so a
//! receiver that reads the frame has always received its fd already. The
//! receiver queues fds in arrival order; the frame decoder takes them in the
//! order of the frames that announce one.
#![expect(
    unsafe_code,
    reason = "received descriptors are raw integers that must become OwnedFd"
)]

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The most descriptors accepted in one `recvmsg` control message.
const MAX_FDS_PER_MESSAGE: usize = 8;

/// Sends `data` on `sock` with `fd` attached to its first byte, then the
/// rest of `data` if the kernel took only part of it.
pub(crate) fn send_with_fd(
    sock: BorrowedFd<'_>,
    data: &[u8],
    fd: BorrowedFd<'_>,
) -> io::Result<()> {
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let sent = loop {
        match sendmsg::<()>(
            sock.as_raw_fd(),
            &[IoSlice::new(data)],
            &cmsg,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(n) => break n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    };
    let mut rest = &data[sent..];
    while !rest.is_empty() {
        match nix::sys::socket::send(sock.as_raw_fd(), rest, MsgFlags::MSG_NOSIGNAL) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(io::Error::from(e)),
        }
    }
    Ok(())
}

/// Receives bytes from `sock` into `buf` without blocking and appends any
/// descriptors that came with them to `fds`. Returns the byte count (0 at
/// end of stream), or `WouldBlock` if nothing is queued.
pub(crate) fn recv_with_fds(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut VecDeque<OwnedFd>,
) -> io::Result<usize> {
    let mut space = nix::cmsg_space!([RawFd; MAX_FDS_PER_MESSAGE]);
    loop {
        let mut iov = [IoSliceMut::new(buf)];
        let msg = match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(msg) => msg,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        };
        for cmsg in msg.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmRights(raw) = cmsg {
                for r in raw {
                    // SAFETY: The kernel installed `r` in this process's fd
                    // table for this SCM_RIGHTS message; nothing else knows
                    // the number, so this OwnedFd is its sole owner.
                    fds.push_back(unsafe { OwnedFd::from_raw_fd(r) });
                }
            }
        }
        if msg.flags.contains(MsgFlags::MSG_CTRUNC) {
            return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
        }
        return Ok(msg.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn donated_fd_refers_to_the_same_open_file() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut f = File::from(nix::unistd::dup(tempfile().as_fd()).unwrap());
        f.write_all(b"hello").unwrap();
        send_with_fd(a.as_fd(), b"frame", f.as_fd()).unwrap();
        let mut buf = [0u8; 16];
        let mut fds = VecDeque::new();
        let n = recv_with_fds(b.as_fd(), &mut buf, &mut fds).unwrap();
        assert_eq!(&buf[..n], b"frame");
        let mut got = File::from(fds.pop_front().unwrap());
        got.rewind().unwrap();
        let mut s = String::new();
        got.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
    }

    fn tempfile() -> File {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("goferfs-fdpass-{}", std::process::id()));
        let f = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }
}
