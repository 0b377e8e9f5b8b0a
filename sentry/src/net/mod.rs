//! Sockets: UNIX domain sockets ([`unix`]), internet sockets over the
//! sandbox's loopback interface ([`inet`]) and the route family of
//! netlink ([`netlink`]); other families are refused with Linux's
//! `EAFNOSUPPORT`.

pub mod hostinet;
pub mod inet;
pub mod netlink;
pub mod unix;

use std::sync::Arc;

use abi_linux::{Errno, Statx};
use vfs_core::file_description::IoctlMemory;
use vfs_core::io::{IoDest, IoSource};
use vfs_core::waiter::{EventMask, WaiterQueue};
use vfs_core::{
    Context, FileDescription, FileDescriptionImpl, FileRef, ReadOptions, StatOptions, WriteOptions,
};

use hostinet::HostSocket;
use inet::InetSocket;
use netlink::NetlinkSocket;

/// Writes `src` to a stream through `send` in pieces of at most `chunk`
/// bytes, stopping at the first piece that does not go whole: the bytes
/// sent, or the first error when none went. The buffer never exceeds
/// `chunk`, whatever count the caller passed (`write(fd, buf, 1 << 40)`
/// must not make the sentry allocate a terabyte).
pub(crate) fn write_stream(
    src: &mut dyn IoSource,
    chunk: usize,
    mut send: impl FnMut(&[u8]) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let mut piece = vec![0u8; src.remaining().min(chunk.max(1))];
    let mut sent = 0usize;
    while src.remaining() > 0 {
        let want = src.remaining().min(piece.len());
        let n = match vfs_core::io::copy_in(src, &mut piece[..want]) {
            Ok(0) if sent == 0 => return Err(Errno::EFAULT),
            Ok(0) => break,
            Ok(n) => n,
            Err(_) if sent > 0 => break,
            Err(e) => return Err(e),
        };
        match send(&piece[..n]) {
            Ok(k) => {
                sent += k;
                if k < n || n < want {
                    break;
                }
            }
            Err(_) if sent > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// The bytes of one datagram from `src`: `EMSGSIZE`, before anything is
/// copied, when it is longer than `max`.
pub(crate) fn read_datagram(src: &mut dyn IoSource, max: usize) -> Result<Vec<u8>, Errno> {
    if src.remaining() > max {
        return Err(Errno::EMSGSIZE);
    }
    let mut data = vec![0u8; src.remaining()];
    let n = vfs_core::io::copy_in(src, &mut data)?;
    data.truncate(n);
    Ok(data)
}

/// A socket of a family other than `AF_UNIX`.
#[derive(Clone)]
pub enum NetSocket {
    /// `AF_INET` or `AF_INET6`.
    Inet(InetSocket),
    /// `AF_NETLINK`.
    Netlink(Arc<NetlinkSocket>),
    /// `AF_INET` or `AF_INET6` on the host's network (`--network=host`).
    Host(Arc<HostSocket>),
}

impl NetSocket {
    /// The socket's waiter queue.
    pub fn waiters(&self) -> &WaiterQueue {
        match self {
            NetSocket::Inet(s) => s.waiters(),
            NetSocket::Netlink(s) => s.waiters(),
            NetSocket::Host(s) => s.waiters(),
        }
    }

    fn ino(&self) -> u64 {
        match self {
            NetSocket::Inet(s) => s.ino(),
            NetSocket::Netlink(s) => s.ino(),
            NetSocket::Host(s) => s.ino(),
        }
    }
}

/// The file description of a [`NetSocket`].
pub struct NetFile {
    sock: NetSocket,
}

impl NetFile {
    /// Wraps `sock`.
    pub fn new(sock: NetSocket) -> NetFile {
        NetFile { sock }
    }

    /// The socket.
    pub fn socket(&self) -> &NetSocket {
        &self.sock
    }
}

impl FileDescriptionImpl for NetFile {
    fn stat(&self, _: &dyn Context, fd: &FileDescription, _: StatOptions) -> Result<Statx, Errno> {
        Ok(Statx {
            stx_blksize: 4096,
            stx_mode: (abi_linux::S_IFSOCK | 0o777) as u16,
            stx_ino: self.sock.ino(),
            ..vfs_core::file_description_util::anon_inode_stat(fd)
        })
    }

    fn read(
        &self,
        _: &dyn Context,
        fd: &FileDescription,
        dst: &mut dyn IoDest,
        _: ReadOptions,
    ) -> Result<usize, Errno> {
        match &self.sock {
            NetSocket::Inet(InetSocket::Tcp(s)) => {
                if dst.remaining() == 0 {
                    return Ok(0);
                }
                // A blocking read waits for SO_RCVLOWAT bytes.
                let min = if fd.status_flags().contains(abi_linux::OpenFlags::NONBLOCK) {
                    1
                } else {
                    s.receive_target(dst.remaining())
                };
                s.recv(dst, false, false, min)
            }
            NetSocket::Inet(InetSocket::Udp(s)) => s.recv(dst, false).map(|r| r.len),
            NetSocket::Netlink(s) => s.recv(dst, false).map(|(n, _)| n),
            NetSocket::Host(s) => {
                let mut buf = vec![0u8; dst.remaining().min(hostinet::MAX_TRANSFER)];
                let (n, _, _) = s.recv(&mut buf, 0)?;
                vfs_core::io::copy_out(dst, &buf[..n])
            }
        }
    }

    fn write(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        src: &mut dyn IoSource,
        _: WriteOptions,
    ) -> Result<usize, Errno> {
        match &self.sock {
            NetSocket::Inet(InetSocket::Tcp(s)) => write_stream(src, 1 << 20, |p| s.send(p)),
            NetSocket::Inet(InetSocket::Udp(s)) => {
                let data = read_datagram(src, inet::udp::MAX_PAYLOAD_V6)?;
                s.send(&data, None)
            }
            NetSocket::Netlink(s) => s.send(0, &read_datagram(src, netlink::MAX_REQUEST)?),
            NetSocket::Host(s) if s.is_stream() => {
                write_stream(src, hostinet::MAX_TRANSFER, |p| s.send(p, 0, None))
            }
            NetSocket::Host(s) => s.send(&read_datagram(src, hostinet::MAX_TRANSFER)?, 0, None),
        }
    }

    fn readiness(&self, mask: EventMask) -> EventMask {
        match &self.sock {
            NetSocket::Inet(InetSocket::Tcp(s)) => s.readiness(mask),
            NetSocket::Inet(InetSocket::Udp(s)) => s.readiness(mask),
            NetSocket::Netlink(s) => s.readiness(mask),
            NetSocket::Host(s) => s.readiness(mask),
        }
    }

    fn ioctl(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        cmd: u32,
        arg: u64,
        memory: &mut dyn IoctlMemory,
    ) -> Result<i64, Errno> {
        if let NetSocket::Host(s) = &self.sock
            && let Ok(value) = s.ioctl_int(cmd)
        {
            memory.copy_out(arg, &value.to_ne_bytes())?;
            return Ok(0);
        }
        let value = match cmd {
            abi_linux::inet::SIOCINQ => match &self.sock {
                NetSocket::Inet(InetSocket::Tcp(s)) => s.readable_bytes()?,
                NetSocket::Inet(InetSocket::Udp(s)) => s.next_datagram_len(),
                NetSocket::Netlink(s) => s.next_len(),
                NetSocket::Host(_) => return Err(Errno::EINVAL),
            },
            abi_linux::inet::SIOCOUTQ => match &self.sock {
                NetSocket::Inet(InetSocket::Tcp(s)) => s.unsent_bytes()?,
                _ => 0,
            },
            _ => {
                let answer = if let NetSocket::Host(_) = &self.sock {
                    hostinet::interface_ioctl(cmd, arg, memory)
                } else {
                    inet::interface_ioctl(cmd, arg, memory)
                };
                return answer.unwrap_or(Err(Errno::ENOTTY));
            }
        };
        let value = i32::try_from(value).unwrap_or(i32::MAX);
        memory.copy_out(arg, &value.to_ne_bytes())?;
        Ok(0)
    }

    fn waiter_queue(&self) -> Option<&WaiterQueue> {
        Some(self.sock.waiters())
    }

    fn release(&self, _: &dyn Context) {
        match &self.sock {
            NetSocket::Inet(InetSocket::Tcp(s)) => s.close(),
            NetSocket::Inet(InetSocket::Udp(s)) => s.close(),
            NetSocket::Netlink(s) => s.close(),
            // The host descriptor closes with its last reference.
            NetSocket::Host(_) => {}
        }
    }

    /// A socket cannot be opened through `/proc/PID/fd/N` (Linux: `ENXIO`).
    fn reopen(
        &self,
        _: &dyn Context,
        _: &FileDescription,
        _: abi_linux::OpenFlags,
    ) -> Option<Result<FileRef, Errno>> {
        Some(Err(Errno::ENXIO))
    }

    fn synthetic_name(&self) -> Option<String> {
        Some(format!("socket:[{}]", self.sock.ino()))
    }
}
