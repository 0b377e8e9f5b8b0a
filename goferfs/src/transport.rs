//! Byte streams that carry 9P frames: Unix sockets (optionally with donated
//! fds) and TCP, plus a framing reader shared by the client and the server.

use crate::fdpass;
use crate::message::{HEADER_SIZE, frame_len};
use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// A connected stream socket.
#[derive(Debug)]
pub enum Stream {
    /// A Unix-domain stream socket (may carry fds).
    Unix(UnixStream),
    /// A TCP connection.
    Tcp(TcpStream),
}

impl Stream {
    /// Returns a second handle to the same socket.
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(match self {
            Self::Unix(s) => Self::Unix(s.try_clone()?),
            Self::Tcp(s) => Self::Tcp(s.try_clone()?),
        })
    }

    /// Shuts both directions down, waking any reader.
    pub fn shutdown(&self) {
        // A socket whose peer is gone reports ENOTCONN; either way it is
        // closed for us, which is all this is for.
        let _ = match self {
            Self::Unix(s) => s.shutdown(Shutdown::Both),
            Self::Tcp(s) => s.shutdown(Shutdown::Both),
        };
    }

    /// Returns true if the socket can carry fds.
    pub fn is_unix(&self) -> bool {
        matches!(self, Self::Unix(_))
    }

    /// Writes a whole frame, attaching `fd` to its first byte if given.
    ///
    /// # Preconditions
    ///
    /// `fd` is `None` unless the stream is a Unix socket.
    pub fn write_frame(&mut self, frame: &[u8], fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
        match (self, fd) {
            (Self::Unix(s), Some(fd)) => fdpass::send_with_fd(s.as_fd(), frame, fd),
            (Self::Unix(s), None) => s.write_all(frame),
            (Self::Tcp(s), None) => s.write_all(frame),
            (Self::Tcp(_), Some(_)) => Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP)),
        }
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Self::Unix(s) => s.as_fd(),
            Self::Tcp(s) => s.as_fd(),
        }
    }
}

/// Reads whole frames from a stream, at most `msize` bytes each.
#[derive(Debug)]
pub struct FrameReader {
    stream: Stream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    fds: VecDeque<OwnedFd>,
    recv_fds: bool,
    msize: u32,
}

impl FrameReader {
    /// Wraps `stream`; frames larger than `msize` are refused.
    pub fn new(stream: Stream, msize: u32) -> Self {
        Self {
            stream,
            buf: vec![0; 8192],
            start: 0,
            end: 0,
            fds: VecDeque::new(),
            recv_fds: false,
            msize,
        }
    }

    /// Changes the frame-size limit (after version negotiation).
    pub fn set_msize(&mut self, msize: u32) {
        self.msize = msize;
    }

    /// Starts collecting donated fds (the extension was negotiated).
    pub fn set_receive_fds(&mut self, on: bool) {
        self.recv_fds = on && self.stream.is_unix();
    }

    /// Waits until a frame may be read without blocking for long: bytes are
    /// buffered already or the socket is readable. Returns false if
    /// `timeout` passed first.
    pub fn wait_readable(&self, timeout: std::time::Duration) -> io::Result<bool> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        if self.end > self.start {
            return Ok(true);
        }
        let ms = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.stream.as_fd(), PollFlags::POLLIN)];
        loop {
            match poll(&mut fds, ms) {
                Ok(n) => return Ok(n > 0),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Returns true if a whole, acceptable frame is buffered, so
    /// `read_frame` returns it without reading the socket.
    pub fn has_frame(&self) -> bool {
        let have = self.end - self.start;
        if have < 4 {
            return false;
        }
        let mut size = [0u8; 4];
        size.copy_from_slice(&self.buf[self.start..self.start + 4]);
        frame_len(size, self.msize).is_ok_and(|len| have >= len)
    }

    /// Takes the oldest received fd that no frame has claimed yet.
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.fds.pop_front()
    }

    /// Reads what the socket has queued, waiting for at least one byte.
    ///
    /// The wait is a `poll` for `POLLIN`, never a blocking `recv`: a thread
    /// asleep in `recv` on a Unix socket is also woken each time the peer
    /// consumes a frame this side sent (the kernel's write-space wakeup
    /// does not say what it is for), which doubled the context switches
    /// per request; a `poll` waiter is only woken for input. So a read is
    /// first tried without blocking, and only an empty socket costs the
    /// `poll` and a second attempt.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = loop {
            let dst = &mut self.buf[self.end..];
            let r = if self.recv_fds {
                fdpass::recv_with_fds(self.stream.as_fd(), dst, &mut self.fds)
            } else {
                nix::sys::socket::recv(
                    std::os::fd::AsRawFd::as_raw_fd(&self.stream.as_fd()),
                    dst,
                    nix::sys::socket::MsgFlags::MSG_DONTWAIT,
                )
                .map_err(io::Error::from)
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait_input()?;
                }
                r => break r?,
            }
        };
        self.end += n;
        Ok(n)
    }

    /// Sleeps until the socket has input, an error or a hangup.
    fn wait_input(&self) -> io::Result<()> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut fds = [PollFd::new(self.stream.as_fd(), PollFlags::POLLIN)];
        loop {
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Returns the next whole frame, or `None` at a clean end of stream.
    /// A frame whose size field is below the header size or above msize is
    /// an `InvalidData` error.
    pub fn read_frame(&mut self) -> io::Result<Option<&[u8]>> {
        while self.end - self.start < 4 {
            if self.fill()? == 0 {
                return if self.end == self.start {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
        let mut size = [0u8; 4];
        size.copy_from_slice(&self.buf[self.start..self.start + 4]);
        let len = frame_len(size, self.msize)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        debug_assert!(len >= HEADER_SIZE);
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        if self.buf.len() - self.start < len {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < len {
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        let frame = &self.buf[self.start..self.start + len];
        self.start += len;
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_size_field_is_refused_without_allocating() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(&u32::MAX.to_le_bytes()).unwrap();
        let mut r = FrameReader::new(Stream::Unix(b), 8192);
        let err = r.read_frame().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(r.buf.len() <= 8192);
    }

    #[test]
    fn frames_split_across_reads_are_reassembled() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let mut frame = 20u32.to_le_bytes().to_vec();
        frame.extend_from_slice(&[1; 16]);
        let writer = std::thread::spawn(move || {
            for chunk in frame.chunks(3) {
                a.write_all(chunk).unwrap();
                std::thread::yield_now();
            }
        });
        let mut r = FrameReader::new(Stream::Unix(b), 8192);
        assert_eq!(r.read_frame().unwrap().unwrap().len(), 20);
        writer.join().unwrap();
        assert!(r.read_frame().unwrap().is_none());
    }
}
