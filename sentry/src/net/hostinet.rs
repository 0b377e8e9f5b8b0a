//! Host sockets for `--network=host` (gVisor's `socket/hostinet`): each
//! `AF_INET`/`AF_INET6` TCP or UDP socket of the sandbox is a host socket
//! the sentry creates and drives. The application never holds the host
//! descriptor (it lives in the sentry's own table, never in the address
//! space or descriptor table of the application's process); every call
//! goes through the sentry, which copies the bytes and passes only the
//! flags and socket options on an allowlist.
//!
//! This is weaker isolation than the default loopback-only network, as
//! runsc documents hostinet: the sandbox reaches whatever the host
//! reaches, and servers in it are reachable from the host.
//!
//! The host descriptor is non-blocking; a blocking call of the
//! application waits on the socket's queue, which the hostfs notifier
//! wakes on host readiness edges, so signals and timeouts work as for any
//! sentry socket.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, MutexGuard};

use abi_linux::Errno;
use hostfs::{HostFd, HostWatch};
use vfs_core::waiter::{EventMask, READABLE_EVENTS, WRITABLE_EVENTS, WaiterQueue};

use super::inet::{Family, Options};

/// The most bytes one host send or receive moves.
pub const MAX_TRANSFER: usize = 256 << 10;

/// The result of a host call returning `-1` on error.
fn check(ret: isize) -> Result<usize, Errno> {
    if ret < 0 {
        Err(crate::kernel::last_host_errno())
    } else {
        Ok(ret as usize)
    }
}

/// A host socket driven for the sandbox.
pub struct HostSocket {
    family: Family,
    stream: bool,
    ino: u64,
    host: Arc<HostFd>,
    waiters: Arc<WaiterQueue>,
    _watch: HostWatch,
    /// Options the sentry enforces itself (`SO_RCVTIMEO`, `SO_SNDTIMEO`).
    options: Mutex<Options>,
}

impl HostSocket {
    /// A new host socket (`stream`: TCP, else UDP) with `protocol` (0 or
    /// the protocol's number).
    pub fn create(
        family: Family,
        stream: bool,
        protocol: i32,
        ino: u64,
    ) -> Result<Arc<HostSocket>, Errno> {
        let ty = if stream {
            libc::SOCK_STREAM
        } else {
            libc::SOCK_DGRAM
        };
        // SAFETY: plain integer arguments; the result is a new descriptor
        // or -1.
        let fd = unsafe {
            libc::socket(
                family.domain(),
                ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if fd < 0 {
            return Err(crate::kernel::last_host_errno());
        }
        // SAFETY: `fd` was just returned by the host and nothing else owns it.
        Self::from_fd(family, stream, unsafe { OwnedFd::from_raw_fd(fd) }, ino)
    }

    fn from_fd(
        family: Family,
        stream: bool,
        fd: OwnedFd,
        ino: u64,
    ) -> Result<Arc<HostSocket>, Errno> {
        let host = HostFd::new(fd);
        let waiters = Arc::new(WaiterQueue::new());
        let all =
            READABLE_EVENTS | WRITABLE_EVENTS | EventMask::ERR | EventMask::HUP | EventMask::RDHUP;
        let watch = HostWatch::new(&host, &waiters, all)?;
        Ok(Arc::new(HostSocket {
            family,
            stream,
            ino,
            host,
            waiters,
            _watch: watch,
            options: Mutex::new(Options::default()),
        }))
    }

    fn fd(&self) -> RawFd {
        self.host.raw()
    }

    /// The socket's family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Whether it is a TCP socket.
    pub fn is_stream(&self) -> bool {
        self.stream
    }

    /// The inode number `fstat` shows.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The queue the notifier wakes.
    pub fn waiters(&self) -> &WaiterQueue {
        &self.waiters
    }

    /// The sentry-side options.
    pub fn options(&self) -> MutexGuard<'_, Options> {
        self.options.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `bind` to the `sockaddr` bytes `addr`.
    pub fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        // SAFETY: `addr` is readable for its length.
        check(unsafe { libc::bind(self.fd(), addr.as_ptr().cast(), addr.len() as u32) } as isize)
            .map(|_| ())
    }

    /// `listen`.
    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        // SAFETY: plain integer arguments.
        check(unsafe { libc::listen(self.fd(), backlog) } as isize).map(|_| ())
    }

    /// Accepts a connection: the new socket (inode `ino`) and the peer's
    /// address; `EAGAIN` when none is pending.
    pub fn accept(&self, ino: u64) -> Result<(Arc<HostSocket>, Vec<u8>), Errno> {
        let mut addr = [0u8; 128];
        let mut len = addr.len() as u32;
        // SAFETY: `addr` has room for `len` bytes; `len` is writable.
        let fd = unsafe {
            libc::accept4(
                self.fd(),
                addr.as_mut_ptr().cast(),
                &mut len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(crate::kernel::last_host_errno());
        }
        // SAFETY: `fd` was just returned by the host and nothing else owns it.
        let sock = Self::from_fd(self.family, true, unsafe { OwnedFd::from_raw_fd(fd) }, ino)?;
        Ok((sock, addr[..(len as usize).min(addr.len())].to_vec()))
    }

    /// Starts (or, again, checks) a connection to `addr`; `EINPROGRESS`
    /// while the host completes it.
    pub fn connect(&self, addr: &[u8]) -> Result<(), Errno> {
        // SAFETY: `addr` is readable for its length.
        check(unsafe { libc::connect(self.fd(), addr.as_ptr().cast(), addr.len() as u32) } as isize)
            .map(|_| ())
    }

    fn name(&self, peer: bool) -> Result<Vec<u8>, Errno> {
        let mut addr = [0u8; 128];
        let mut len = addr.len() as u32;
        // SAFETY: `addr` has room for `len` bytes; `len` is writable.
        let r = unsafe {
            if peer {
                libc::getpeername(self.fd(), addr.as_mut_ptr().cast(), &mut len)
            } else {
                libc::getsockname(self.fd(), addr.as_mut_ptr().cast(), &mut len)
            }
        };
        check(r as isize)?;
        Ok(addr[..(len as usize).min(addr.len())].to_vec())
    }

    /// `getsockname`.
    pub fn local_addr(&self) -> Result<Vec<u8>, Errno> {
        self.name(false)
    }

    /// `getpeername`.
    pub fn peer_addr(&self) -> Result<Vec<u8>, Errno> {
        self.name(true)
    }

    /// `shutdown` with `how`.
    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        // SAFETY: plain integer arguments.
        check(unsafe { libc::shutdown(self.fd(), how) } as isize).map(|_| ())
    }

    /// Sends `data` (to `to` for UDP) without blocking and without the
    /// host raising `SIGPIPE`; `flags` are already filtered.
    pub fn send(&self, data: &[u8], flags: i32, to: Option<&[u8]>) -> Result<usize, Errno> {
        let flags = flags | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        let (addr, len) = to.map_or((std::ptr::null(), 0), |a| (a.as_ptr(), a.len() as u32));
        // SAFETY: `data` is readable for its length, `addr` for `len`.
        check(unsafe {
            libc::sendto(
                self.fd(),
                data.as_ptr().cast(),
                data.len(),
                flags,
                addr.cast(),
                len,
            )
        })
    }

    /// Receives into `buf` without blocking: (bytes, the sender's address,
    /// `msg_flags`); `flags` are already filtered.
    pub fn recv(&self, buf: &mut [u8], flags: i32) -> Result<(usize, Vec<u8>, i32), Errno> {
        let mut addr = [0u8; 128];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: a zeroed `msghdr` is valid; the fields set point to live
        // buffers of the lengths given.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = addr.as_mut_ptr().cast();
        msg.msg_namelen = addr.len() as u32;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        // SAFETY: `msg` describes writable buffers owned by this frame.
        let n = check(unsafe { libc::recvmsg(self.fd(), &mut msg, flags | libc::MSG_DONTWAIT) })?;
        let from = addr[..(msg.msg_namelen as usize).min(addr.len())].to_vec();
        Ok((n, from, msg.msg_flags))
    }

    /// `setsockopt` of `value` (already checked against the allowlist).
    pub fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        // SAFETY: `value` is readable for its length.
        check(unsafe {
            libc::setsockopt(
                self.fd(),
                level,
                name,
                value.as_ptr().cast(),
                value.len() as u32,
            )
        } as isize)
        .map(|_| ())
    }

    /// `getsockopt` of at most `len` bytes.
    pub fn getsockopt(&self, level: i32, name: i32, len: usize) -> Result<Vec<u8>, Errno> {
        let mut value = vec![0u8; len];
        let mut got = len as u32;
        // SAFETY: `value` has room for `got` bytes; `got` is writable.
        check(unsafe {
            libc::getsockopt(self.fd(), level, name, value.as_mut_ptr().cast(), &mut got)
        } as isize)?;
        value.truncate(got as usize);
        Ok(value)
    }

    /// `FIONREAD` or `SIOCOUTQ` (any other command: `ENOTTY`).
    pub fn ioctl_int(&self, cmd: u32) -> Result<i32, Errno> {
        if cmd != abi_linux::inet::SIOCINQ && cmd != abi_linux::inet::SIOCOUTQ {
            return Err(Errno::ENOTTY);
        }
        let mut value: libc::c_int = 0;
        // SAFETY: `cmd` is one of the int-returning socket ioctls.
        check(unsafe { libc::ioctl(self.fd(), cmd as _, &mut value) } as isize)?;
        Ok(value)
    }

    /// The host's readiness, within `mask`.
    pub fn readiness(&self, mask: EventMask) -> EventMask {
        let mut pfd = libc::pollfd {
            fd: self.fd(),
            events: (mask.bits() & 0xffff) as i16,
            revents: 0,
        };
        // SAFETY: one `pollfd`, no timeout.
        let r = unsafe { libc::poll(&mut pfd, 1, 0) };
        if r <= 0 {
            return EventMask::empty();
        }
        EventMask::from_bits_truncate(u32::from(pfd.revents as u16)) & mask
    }
}

/// The interface ioctls (`SIOCGIF*`) answered by the host, for
/// `--network=host`: through a host `AF_INET` datagram socket of the
/// sentry's own, with the request copied in and the answer copied out
/// (`SIOCGIFCONF`'s buffer through one of the sentry's, at most 64 KiB);
/// `None` for another command.
pub fn interface_ioctl(
    cmd: u32,
    arg: u64,
    memory: &mut dyn vfs_core::file_description::IoctlMemory,
) -> Option<Result<i64, Errno>> {
    use abi_linux::inet::{IfConf, IfReq, SIOCGIFCONF};
    use zerocopy::IntoBytes;
    if !super::inet::is_interface_ioctl(cmd) {
        return None;
    }
    static QUERY: std::sync::OnceLock<Option<OwnedFd>> = std::sync::OnceLock::new();
    let query = QUERY.get_or_init(|| {
        // SAFETY: plain integer arguments; a new descriptor or -1.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        // SAFETY: `fd` was just returned by the host and nothing else owns it.
        (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
    });
    let Some(query) = query else {
        return Some(Err(Errno::ENOMEM));
    };
    let fd = std::os::fd::AsRawFd::as_raw_fd(query);
    Some((|| {
        if cmd == SIOCGIFCONF {
            let mut conf = IfConf::default();
            memory.copy_in(arg, conf.as_mut_bytes())?;
            let room = usize::try_from(conf.len).unwrap_or(0).min(64 << 10);
            let mut buf = vec![0u8; room];
            let mut host = IfConf {
                len: room as i32,
                _pad: 0,
                buf: if conf.buf == 0 {
                    0
                } else {
                    buf.as_mut_ptr() as u64
                },
            };
            // SAFETY: `host` points at `buf` (or null), which has `len`
            // writable bytes.
            check(unsafe { libc::ioctl(fd, cmd as _, &mut host) } as isize)?;
            let got = usize::try_from(host.len).unwrap_or(0).min(room);
            if conf.buf != 0 {
                memory.copy_out(conf.buf, &buf[..got])?;
            }
            conf.len = host.len;
            memory.copy_out(arg, conf.as_bytes())?;
            return Ok(0);
        }
        let mut req = IfReq::default();
        memory.copy_in(arg, req.as_mut_bytes())?;
        // SAFETY: `req` is a whole `struct ifreq` the command fills.
        check(unsafe { libc::ioctl(fd, cmd as _, &mut req) } as isize)?;
        memory.copy_out(arg, req.as_bytes())?;
        Ok(0)
    })())
}
