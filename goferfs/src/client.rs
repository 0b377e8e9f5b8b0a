//! A 9P2000.L client that multiplexes requests from many threads over one
//! connection.
//!
//! # Reference model
//!
//! A [`Client`] and every [`Fid`] hold an `Arc` of the connection state;
//! when the last one goes away the socket is shut down. A `Fid` clunks its
//! server fid when dropped; the number returns to the free list only after
//! the server answered the Tclunk (with
//! [`ClientOptions::clunk_without_waiting`], whichever thread reads that
//! answer later frees it).
//!
//! There is no reader thread. A thread waiting for a reply becomes the
//! connection's reader if no other thread is (leader/follower): it reads
//! replies and hands each to the thread waiting for its tag until its own
//! arrives, then wakes the remaining waiters so one of them takes over. A
//! single-threaded caller thus sends and receives on its own thread, with
//! no thread wakeup per request.
//!
//! # Lock order
//!
//! `Connection::writer` is taken alone. `Connection::reader` is only ever
//! try-locked by a thread that holds its own `ReplySlot` lock, and the
//! thread holding it takes `Pending::table`, then `ReplySlot` locks, never
//! the other way round. `fids` is a leaf lock.

use crate::error::{from_ecode, from_io};
use crate::message::{
    Attr, Dirent, LockRange, Message, NOFID, NOTAG, Qid, SetAttr, StatFs, VERSION_9P2000_L,
    VERSION_FD_DONATION,
};
use crate::transport::{FrameReader, Stream};
use abi_linux::Errno;
use std::collections::HashMap;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

/// Default msize proposed by the client: 1 MiB of payload plus headers.
pub const DEFAULT_MSIZE: u32 = (1 << 20) + 4096;
/// The smallest msize the client accepts from a server.
const MIN_MSIZE: u32 = 4096;
/// Bytes reserved for headers when sizing Tread/Twrite/Treaddir counts:
/// Linux's `P9_IOHDRSZ`, which servers such as diod enforce (a Twrite frame
/// needs 23, one byte less).
const CLIENT_IO_HEADER: u32 = 24;
/// `XATTR_CREATE`: fail if the attribute exists.
pub const XATTR_CREATE: u32 = 1;
/// `XATTR_REPLACE`: fail if the attribute does not exist.
pub const XATTR_REPLACE: u32 = 2;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Connection options.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// msize to propose (the server may lower it).
    pub msize: u32,
    /// Ask for the fd-donation extension (used only on Unix sockets and
    /// only if the server agrees).
    pub fd_donation: bool,
    /// If set, a request not answered in this time is cancelled with
    /// Tflush and fails with `EINTR` (unless its reply arrives first).
    pub request_timeout: Option<Duration>,
    /// If set, a Tflush not answered in this time gives up too: the call
    /// fails with `EINTR` and both tags stay reserved until the server's
    /// late replies come. 9P says a client waits for Rflush, so the default
    /// (`None`) waits; set it for a server that may never answer (unpfs
    /// leaves a flush unanswered while the request it cancels blocks).
    pub flush_timeout: Option<Duration>,
    /// Dropping a [`Fid`] sends its Tclunk without waiting for Rclunk (the
    /// fid number is reused only once Rclunk arrived, read by whichever
    /// later request reads the connection). This saves a round trip per
    /// dropped fid. A server that answers in order (ours) has forgotten
    /// the fid before it answers any later request; one that runs requests
    /// concurrently (diod) may still hold the file open while it answers
    /// the next one, so leave this off where that matters.
    /// [`Fid::clunk`] always waits.
    pub clunk_without_waiting: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            msize: DEFAULT_MSIZE,
            fd_donation: false,
            request_timeout: None,
            flush_timeout: None,
            clunk_without_waiting: false,
        }
    }
}

/// Counters of one connection, readable at any time.
#[derive(Debug, Default)]
pub struct ClientStats {
    /// Requests sent.
    pub requests: AtomicU64,
    /// Tflush messages sent for cancelled requests.
    pub flushes: AtomicU64,
    /// Files opened with a donated host fd.
    pub donated_opens: AtomicU64,
    /// Reads and writes served by a donated host fd instead of 9P.
    pub host_fd_io: AtomicU64,
}

/// A reply and the fd that came with it.
struct Reply {
    msg: Message,
    fd: Option<OwnedFd>,
}

#[derive(Default)]
struct SlotState {
    /// The reply, once it arrived.
    reply: Option<Result<Reply, Errno>>,
    /// Set when the reader was released: the waiter should try to take
    /// it over.
    lead: bool,
    /// Set while the waiter sleeps on `ready`, so that filling a slot
    /// whose waiter is awake (the reader's own) costs no wakeup call.
    sleeping: bool,
}

#[derive(Default)]
struct ReplySlot {
    value: Mutex<SlotState>,
    ready: Condvar,
}

impl ReplySlot {
    fn fill(&self, r: Result<Reply, Errno>) {
        let mut v = lock(&self.value);
        v.reply = Some(r);
        if v.sleeping {
            self.ready.notify_one();
        }
    }

    fn take(&self) -> Option<Result<Reply, Errno>> {
        lock(&self.value).reply.take()
    }
}

/// Who is owed the reply to a tag.
enum Waiter {
    /// A thread waiting in `Connection::rpc`.
    Call(Arc<ReplySlot>),
    /// Nobody: a Tclunk sent by a dropped fid (`clunk_without_waiting`);
    /// its reply frees the fid number.
    Clunk(u32),
    /// Nobody: a timed-out request whose Tflush the server refused with
    /// Rlerror (unpfs), so its reply may still come; the reply is dropped
    /// and only then is the tag free again.
    Orphan,
}

struct PendingTable {
    slots: HashMap<u16, Waiter>,
    free_tags: Vec<u16>,
    next_tag: u16,
    /// Set once the connection failed; later requests fail with it.
    dead: Option<Errno>,
}

struct Pending {
    table: Mutex<PendingTable>,
}

impl Pending {
    fn register(&self) -> Result<(u16, Arc<ReplySlot>), Errno> {
        let slot = Arc::new(ReplySlot::default());
        let tag = self.register_waiter(Waiter::Call(slot.clone()))?;
        Ok((tag, slot))
    }

    fn register_waiter(&self, w: Waiter) -> Result<u16, Errno> {
        let mut t = lock(&self.table);
        if let Some(e) = t.dead {
            return Err(e);
        }
        let tag = match t.free_tags.pop() {
            Some(tag) => tag,
            None if t.next_tag < NOTAG => {
                t.next_tag += 1;
                t.next_tag - 1
            }
            None => return Err(Errno::EAGAIN),
        };
        t.slots.insert(tag, w);
        Ok(tag)
    }

    fn release(&self, tag: u16) {
        let mut t = lock(&self.table);
        t.slots.remove(&tag);
        t.free_tags.push(tag);
    }

    fn fail_all(&self, e: Errno) {
        let slots: Vec<_> = {
            let mut t = lock(&self.table);
            t.dead = Some(e);
            t.slots
                .values()
                .filter_map(|w| match w {
                    Waiter::Call(s) => Some(s.clone()),
                    Waiter::Clunk(_) | Waiter::Orphan => None,
                })
                .collect()
        };
        for s in slots {
            let mut v = lock(&s.value);
            if v.reply.is_none() {
                v.reply = Some(Err(e));
                if v.sleeping {
                    s.ready.notify_one();
                }
            }
        }
    }
}

struct FidAlloc {
    next: u32,
    free: Vec<u32>,
}

struct Writer {
    stream: Stream,
    buf: Vec<u8>,
}

struct Connection {
    writer: Mutex<Writer>,
    pending: Pending,
    fids: Mutex<FidAlloc>,
    msize: u32,
    donation: bool,
    timeout: Option<Duration>,
    flush_timeout: Option<Duration>,
    clunk_without_waiting: bool,
    shutdown: Stream,
    /// The receiving side, held by whichever waiting thread is reading.
    reader: Mutex<FrameReader>,
    stats: ClientStats,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shutdown.shutdown();
    }
}

impl Connection {
    fn send(&self, tag: u16, m: &Message) -> Result<(), Errno> {
        let mut w = lock(&self.writer);
        let w = &mut *w;
        w.buf.clear();
        m.encode(tag, &mut w.buf).map_err(|_| Errno::ENAMETOOLONG)?;
        if w.buf.len() > self.msize as usize {
            return Err(Errno::EMSGSIZE);
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        w.stream.write_frame(&w.buf, None).map_err(|e| from_io(&e))
    }

    /// Sends `m` and waits for its reply; Rlerror becomes `Err`.
    fn rpc(&self, m: &Message) -> Result<Reply, Errno> {
        let (tag, slot) = self.pending.register()?;
        if let Err(e) = self.send(tag, m) {
            self.pending.release(tag);
            return Err(e);
        }
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let reply = match self.wait_reply(&slot, deadline) {
            Some(r) => {
                self.pending.release(tag);
                r
            }
            None => self.flush(tag, &slot),
        };
        let reply = reply?;
        if let Message::Rlerror { ecode } = reply.msg {
            return Err(from_ecode(ecode));
        }
        Ok(reply)
    }

    /// Cancels request `tag` with Tflush and waits for the flush to be
    /// answered; returns the original reply if it arrived first, else EINTR.
    /// Releases `tag`, or, when the server refused the flush (Rlerror, as
    /// unpfs answers every Tflush) and the original reply has not come,
    /// keeps it as an orphan until that reply does.
    ///
    /// The wait for Rflush is bounded by the flush timeout, if one is set:
    /// a server that leaves the flush unanswered (unpfs does when the
    /// request it cancels blocks the thread that would answer) then does
    /// not hang the caller. Both tags stay orphaned, never reused, until
    /// their replies come, as 9P requires.
    fn flush(&self, tag: u16, slot: &ReplySlot) -> Result<Reply, Errno> {
        self.stats.flushes.fetch_add(1, Ordering::Relaxed);
        let (ftag, fslot) = match self.pending.register() {
            Ok(r) => r,
            Err(e) => {
                self.pending.release(tag);
                return Err(e);
            }
        };
        let sent = self.send(ftag, &Message::Tflush { oldtag: tag });
        // Rflush, a dead connection or the deadline ends this wait.
        let flushed = if sent.is_ok() {
            let deadline = self.flush_timeout.map(|t| Instant::now() + t);
            self.wait_reply(&fslot, deadline)
        } else {
            None
        };
        // Replies are delivered under the table lock, so the checks and the
        // orphaning below cannot miss one.
        let mut t = lock(&self.pending.table);
        let flushed = flushed.or_else(|| fslot.take());
        let unanswered = sent.is_ok() && flushed.is_none() && t.dead.is_none();
        if unanswered {
            t.slots.insert(ftag, Waiter::Orphan);
        } else {
            t.slots.remove(&ftag);
            t.free_tags.push(ftag);
        }
        let refused = unanswered
            || matches!(
                flushed,
                Some(Ok(Reply {
                    msg: Message::Rlerror { .. },
                    ..
                }))
            );
        match slot.take() {
            Some(r) => {
                t.slots.remove(&tag);
                t.free_tags.push(tag);
                r
            }
            None if refused && t.dead.is_none() => {
                t.slots.insert(tag, Waiter::Orphan);
                Err(Errno::EINTR)
            }
            None => {
                t.slots.remove(&tag);
                t.free_tags.push(tag);
                Err(Errno::EINTR)
            }
        }
    }

    /// Waits for the reply in `slot` until `deadline` (`None` on timeout),
    /// reading the connection itself whenever no other thread does.
    fn wait_reply(
        &self,
        slot: &ReplySlot,
        deadline: Option<Instant>,
    ) -> Option<Result<Reply, Errno>> {
        loop {
            let mut v = lock(&slot.value);
            if let Some(r) = v.reply.take() {
                return Some(r);
            }
            v.lead = false;
            let reader = match self.reader.try_lock() {
                Ok(r) => Some(r),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            if let Some(mut reader) = reader {
                drop(v);
                let r = self.lead(&mut reader, slot, deadline);
                drop(reader);
                self.hand_off();
                return r;
            }
            // Another thread reads; it fills our slot or, when it stops
            // reading, sets `lead` so we take over.
            let wait = |s: &mut SlotState| s.reply.is_none() && !s.lead;
            v.sleeping = true;
            match deadline {
                None => {
                    let mut v = slot
                        .ready
                        .wait_while(v, wait)
                        .unwrap_or_else(|p| p.into_inner());
                    v.sleeping = false;
                }
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    let (mut v, t) = slot
                        .ready
                        .wait_timeout_while(v, left, wait)
                        .unwrap_or_else(|p| p.into_inner());
                    v.sleeping = false;
                    if t.timed_out() && v.reply.is_none() {
                        return None;
                    }
                }
            }
        }
    }

    /// Reads replies, handing each to its waiter, until `slot` is filled
    /// (or `deadline` passes: `None`).
    ///
    /// # Preconditions
    ///
    /// `reader` is `self.reader`, locked by the caller.
    fn lead(
        &self,
        reader: &mut FrameReader,
        slot: &ReplySlot,
        deadline: Option<Instant>,
    ) -> Option<Result<Reply, Errno>> {
        loop {
            if let Some(r) = slot.take() {
                return Some(r);
            }
            if let Some(d) = deadline {
                let left = d.saturating_duration_since(Instant::now());
                match reader.wait_readable(left) {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => self.pending.fail_all(from_io(&e)),
                }
            }
            if let Err(e) = self.read_reply(reader) {
                // Fills every slot, ours included.
                self.pending.fail_all(e);
            }
        }
    }

    /// Reads one reply and gives it to the thread waiting for its tag.
    fn read_reply(&self, reader: &mut FrameReader) -> Result<(), Errno> {
        let (tag, msg) = match reader.read_frame() {
            Ok(Some(frame)) => Message::decode(frame, self.msize).map_err(|_| Errno::EIO)?,
            Ok(None) => return Err(Errno::EIO),
            Err(e) => return Err(from_io(&e)),
        };
        let fd = match &msg {
            Message::Rlopen { qid, .. } | Message::Rlcreate { qid, .. }
                if self.donation && qid.ty & (Qid::TYPE_DIR | Qid::TYPE_SYMLINK) == 0 =>
            {
                Some(reader.take_fd().ok_or(Errno::EIO)?)
            }
            _ => None,
        };
        let mut t = lock(&self.pending.table);
        match t.slots.get(&tag) {
            Some(Waiter::Call(slot)) => {
                // Filled under the table lock: `flush` decides whether to
                // orphan a tag from the slot's state under the same lock.
                slot.fill(Ok(Reply { msg, fd }));
            }
            Some(Waiter::Orphan) => {
                t.slots.remove(&tag);
                t.free_tags.push(tag);
            }
            Some(&Waiter::Clunk(fid)) => {
                // The server forgets a clunked fid even when it reports an
                // error, so the number is free either way.
                t.slots.remove(&tag);
                t.free_tags.push(tag);
                drop(t);
                self.free_fid(fid);
            }
            None => {}
        }
        Ok(())
    }

    /// Tells every thread still waiting for a reply that nobody reads the
    /// connection now, so one of them takes over.
    fn hand_off(&self) {
        let t = lock(&self.pending.table);
        for w in t.slots.values() {
            let Waiter::Call(s) = w else { continue };
            let mut v = lock(&s.value);
            if v.reply.is_none() {
                v.lead = true;
                if v.sleeping {
                    s.ready.notify_one();
                }
            }
        }
    }

    /// Sends Tclunk for `fid` without waiting; the reply, read by a later
    /// request, frees the number.
    fn clunk_detached(&self, fid: u32) {
        let Ok(tag) = self.pending.register_waiter(Waiter::Clunk(fid)) else {
            // The connection is dead or out of tags: fall back to waiting.
            let _ = self.rpc(&Message::Tclunk { fid });
            self.free_fid(fid);
            return;
        };
        if self.send(tag, &Message::Tclunk { fid }).is_err() {
            // Nothing was sent, or the connection broke: the number must
            // not be reused, since the server may still hold it.
            let mut t = lock(&self.pending.table);
            t.slots.remove(&tag);
            t.free_tags.push(tag);
        }
    }

    fn alloc_fid(&self) -> u32 {
        let mut f = lock(&self.fids);
        match f.free.pop() {
            Some(fid) => fid,
            None => {
                f.next += 1;
                f.next - 1
            }
        }
    }

    fn free_fid(&self, fid: u32) {
        lock(&self.fids).free.push(fid);
    }
}

/// A connection to a 9P2000.L server.
///
/// # Examples
///
/// ```no_run
/// use goferfs::{Client, ClientOptions};
///
/// let client = Client::connect_unix("/run/gofer.sock", &ClientOptions::default())?;
/// let root = client.attach(b"root", b"")?;
/// let mut file = root.walk(&["etc", "hostname"])?;
/// file.lopen(libc::O_RDONLY as u32)?;
/// let mut buf = [0u8; 64];
/// let n = file.read_at(&mut buf, 0)?;
/// println!("{}", String::from_utf8_lossy(&buf[..n]));
/// # Ok::<(), abi_linux::Errno>(())
/// ```
#[derive(Clone)]
pub struct Client {
    conn: Arc<Connection>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("msize", &self.conn.msize)
            .field("fd_donation", &self.conn.donation)
            .finish()
    }
}

impl Client {
    /// Connects to a server listening on a Unix socket.
    pub fn connect_unix(path: impl AsRef<Path>, opts: &ClientOptions) -> Result<Self, Errno> {
        let s = UnixStream::connect(path).map_err(|e| from_io(&e))?;
        Self::new(Stream::Unix(s), opts)
    }

    /// Connects to a server over TCP.
    pub fn connect_tcp(addr: impl ToSocketAddrs, opts: &ClientOptions) -> Result<Self, Errno> {
        let s = TcpStream::connect(addr).map_err(|e| from_io(&e))?;
        // Small requests must not wait for Nagle's algorithm.
        s.set_nodelay(true).map_err(|e| from_io(&e))?;
        Self::new(Stream::Tcp(s), opts)
    }

    /// Uses an already connected Unix stream socket (one end of a
    /// `socketpair`, for example).
    pub fn from_unix_stream(s: UnixStream, opts: &ClientOptions) -> Result<Self, Errno> {
        Self::new(Stream::Unix(s), opts)
    }

    /// Uses an already connected stream socket fd, Unix or TCP.
    pub fn from_fd(fd: OwnedFd, opts: &ClientOptions) -> Result<Self, Errno> {
        use nix::sys::socket::{AddressFamily, SockaddrLike, SockaddrStorage, getsockname};
        use std::os::fd::AsRawFd;
        let addr: SockaddrStorage = getsockname(fd.as_raw_fd()).map_err(crate::error::from_nix)?;
        match addr.family() {
            Some(AddressFamily::Unix) => Self::new(Stream::Unix(UnixStream::from(fd)), opts),
            Some(AddressFamily::Inet | AddressFamily::Inet6) => {
                Self::new(Stream::Tcp(TcpStream::from(fd)), opts)
            }
            _ => Err(Errno::ENOTSOCK),
        }
    }

    fn new(stream: Stream, opts: &ClientOptions) -> Result<Self, Errno> {
        let io = |e: std::io::Error| from_io(&e);
        let want_donation = opts.fd_donation && stream.is_unix();
        let proposed = opts.msize.max(MIN_MSIZE);
        let mut writer = Writer {
            stream: stream.try_clone().map_err(io)?,
            buf: Vec::new(),
        };
        let shutdown = stream.try_clone().map_err(io)?;
        let mut reader = FrameReader::new(stream, proposed);
        // diod answers an unknown version with Rlerror instead of
        // "unknown"; fall back to the plain version then.
        let versions: &[&[u8]] = if want_donation {
            &[VERSION_FD_DONATION, VERSION_9P2000_L]
        } else {
            &[VERSION_9P2000_L]
        };
        let mut negotiated = Err(Errno::EREMOTEIO);
        for version in versions {
            writer.buf.clear();
            Message::Tversion {
                msize: proposed,
                version: version.to_vec(),
            }
            .encode(NOTAG, &mut writer.buf)
            .map_err(|_| Errno::EINVAL)?;
            writer.stream.write_frame(&writer.buf, None).map_err(io)?;
            let frame = reader.read_frame().map_err(io)?.ok_or(Errno::ECONNRESET)?;
            negotiated = match Message::decode(frame, proposed) {
                Ok((_, Message::Rversion { msize, version: v })) => {
                    if !(MIN_MSIZE..=proposed).contains(&msize) {
                        return Err(Errno::EREMOTEIO);
                    }
                    if v == VERSION_FD_DONATION && want_donation {
                        Ok((msize, true))
                    } else if v == VERSION_9P2000_L {
                        Ok((msize, false))
                    } else {
                        Err(Errno::EREMOTEIO)
                    }
                }
                Ok((_, Message::Rlerror { ecode })) => Err(from_ecode(ecode)),
                _ => return Err(Errno::EREMOTEIO),
            };
            if negotiated.is_ok() {
                break;
            }
        }
        let (msize, donation) = negotiated?;
        reader.set_msize(msize);
        reader.set_receive_fds(donation);
        let pending = Pending {
            table: Mutex::new(PendingTable {
                slots: HashMap::new(),
                free_tags: Vec::new(),
                next_tag: 0,
                dead: None,
            }),
        };
        Ok(Self {
            conn: Arc::new(Connection {
                writer: Mutex::new(writer),
                pending,
                fids: Mutex::new(FidAlloc {
                    next: 0,
                    free: Vec::new(),
                }),
                msize,
                donation,
                timeout: opts.request_timeout,
                flush_timeout: opts.flush_timeout,
                clunk_without_waiting: opts.clunk_without_waiting,
                shutdown,
                reader: Mutex::new(reader),
                stats: ClientStats::default(),
            }),
        })
    }

    /// Returns the negotiated msize.
    pub fn msize(&self) -> u32 {
        self.conn.msize
    }

    /// Returns true if the server agreed to donate host fds.
    pub fn fd_donation(&self) -> bool {
        self.conn.donation
    }

    /// Returns the connection's counters.
    pub fn stats(&self) -> &ClientStats {
        &self.conn.stats
    }

    /// Attaches to the tree `aname` as `uname`, with the numeric uid of
    /// this process. Returns the root fid.
    pub fn attach(&self, uname: &[u8], aname: &[u8]) -> Result<Fid, Errno> {
        self.attach_as(uname, nix::unistd::geteuid().as_raw(), aname)
    }

    /// Attaches to the tree `aname` as `uname` with numeric uid `n_uname`
    /// ([`crate::NONUNAME`] to let the server look `uname` up).
    pub fn attach_as(&self, uname: &[u8], n_uname: u32, aname: &[u8]) -> Result<Fid, Errno> {
        let fid = self.conn.alloc_fid();
        let r = self.conn.rpc(&Message::Tattach {
            fid,
            afid: NOFID,
            uname: uname.to_vec(),
            aname: aname.to_vec(),
            n_uname,
        });
        match r {
            Ok(Reply {
                msg: Message::Rattach { qid },
                ..
            }) => Ok(Fid::new(self.conn.clone(), fid, qid)),
            other => {
                self.conn.free_fid(fid);
                Err(unexpected(other))
            }
        }
    }
}

/// Maps a reply of the wrong type to `EPROTO`, keeping real errors.
fn unexpected(r: Result<Reply, Errno>) -> Errno {
    match r {
        Err(e) => e,
        Ok(_) => Errno::EPROTO,
    }
}

/// A server fid: a walked-to file, possibly opened for I/O. Dropping it
/// clunks it.
pub struct Fid {
    conn: Arc<Connection>,
    fid: u32,
    qid: Qid,
    iounit: u32,
    host_fd: Option<OwnedFd>,
    clunked: bool,
}

impl std::fmt::Debug for Fid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fid")
            .field("fid", &self.fid)
            .field("qid", &self.qid)
            .field("host_fd", &self.host_fd)
            .finish()
    }
}

impl Drop for Fid {
    fn drop(&mut self) {
        if !self.clunked {
            if self.conn.clunk_without_waiting {
                self.conn.clunk_detached(self.fid);
                return;
            }
            // The server forgets a fid on Tclunk even when it reports an
            // error, and a dead connection forgets everything.
            let _ = self.conn.rpc(&Message::Tclunk { fid: self.fid });
            self.conn.free_fid(self.fid);
        }
    }
}

impl Fid {
    fn new(conn: Arc<Connection>, fid: u32, qid: Qid) -> Self {
        Self {
            conn,
            fid,
            qid,
            iounit: 0,
            host_fd: None,
            clunked: false,
        }
    }

    /// Returns the fid number on the wire.
    pub fn number(&self) -> u32 {
        self.fid
    }

    /// Returns the qid of the file (after lopen/lcreate, of the opened file).
    pub fn qid(&self) -> Qid {
        self.qid
    }

    /// Returns the iounit the server announced at open (0 if none).
    pub fn iounit(&self) -> u32 {
        self.iounit
    }

    /// Returns the host fd the server donated at open, if any.
    pub fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        self.host_fd.as_ref().map(|f| f.as_fd())
    }

    fn rpc(&self, m: Message) -> Result<Reply, Errno> {
        self.conn.rpc(&m)
    }

    /// Walks `names` (each one path component) and returns a new fid for
    /// the result; an empty list clones this fid. A walk that stops early
    /// (a missing component after the first) is `ENOENT`, as Linux reports.
    pub fn walk<N: AsRef<[u8]>>(&self, names: &[N]) -> Result<Fid, Errno> {
        let mut chunks = names.chunks(crate::MAX_WALK_ELEMENTS);
        let first = chunks.next().unwrap_or(&[]);
        let mut fid = self.walk_once(self.fid, first)?;
        for chunk in chunks {
            let qid = Self::walk_step(&fid.conn, fid.fid, fid.fid, chunk)?;
            fid.qid = qid.unwrap_or(fid.qid);
        }
        Ok(fid)
    }

    fn walk_once<N: AsRef<[u8]>>(&self, from: u32, names: &[N]) -> Result<Fid, Errno> {
        let newfid = self.conn.alloc_fid();
        match Self::walk_step(&self.conn, from, newfid, names) {
            Ok(qid) => Ok(Fid::new(self.conn.clone(), newfid, qid.unwrap_or(self.qid))),
            Err(e) => {
                self.conn.free_fid(newfid);
                Err(e)
            }
        }
    }

    fn walk_step<N: AsRef<[u8]>>(
        conn: &Connection,
        fid: u32,
        newfid: u32,
        names: &[N],
    ) -> Result<Option<Qid>, Errno> {
        let r = conn.rpc(&Message::Twalk {
            fid,
            newfid,
            names: names.iter().map(|n| n.as_ref().to_vec()).collect(),
        });
        match r {
            Ok(Reply {
                msg: Message::Rwalk { qids },
                ..
            }) => {
                if qids.len() == names.len() {
                    Ok(qids.last().copied())
                } else {
                    Err(Errno::ENOENT)
                }
            }
            other => Err(unexpected(other)),
        }
    }

    fn set_open(&mut self, qid: Qid, iounit: u32, fd: Option<OwnedFd>) {
        if fd.is_some() {
            self.conn
                .stats
                .donated_opens
                .fetch_add(1, Ordering::Relaxed);
        }
        self.qid = qid;
        self.iounit = iounit;
        self.host_fd = fd;
    }

    /// Opens this fid for I/O with Linux `open(2)` flags.
    pub fn lopen(&mut self, flags: u32) -> Result<Qid, Errno> {
        match self.rpc(Message::Tlopen {
            fid: self.fid,
            flags,
        }) {
            Ok(Reply {
                msg: Message::Rlopen { qid, iounit },
                fd,
            }) => {
                self.set_open(qid, iounit, fd);
                Ok(qid)
            }
            other => Err(unexpected(other)),
        }
    }

    /// Creates regular file `name` in this directory and opens it; this fid
    /// then refers to the new file.
    ///
    /// `O_CREAT` is always sent in the flags, as Linux's v9fs does: servers
    /// that hand the flags to `open(2)` (unpfs) need it to create.
    pub fn lcreate(&mut self, name: &[u8], flags: u32, mode: u32, gid: u32) -> Result<Qid, Errno> {
        match self.rpc(Message::Tlcreate {
            fid: self.fid,
            name: name.to_vec(),
            flags: flags | libc::O_CREAT as u32,
            mode,
            gid,
        }) {
            Ok(Reply {
                msg: Message::Rlcreate { qid, iounit },
                fd,
            }) => {
                self.set_open(qid, iounit, fd);
                Ok(qid)
            }
            other => Err(unexpected(other)),
        }
    }

    fn max_read(&self) -> usize {
        let m = self.conn.msize - CLIENT_IO_HEADER;
        (if self.iounit > 0 {
            self.iounit.min(m)
        } else {
            m
        }) as usize
    }

    fn max_write(&self) -> usize {
        let m = self.conn.msize - CLIENT_IO_HEADER;
        (if self.iounit > 0 {
            self.iounit.min(m)
        } else {
            m
        }) as usize
    }

    /// Reads at `offset` until `buf` is full or the file ends; returns the
    /// byte count. Uses the donated host fd when there is one.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() {
            let off = offset.checked_add(done as u64).ok_or(Errno::EOVERFLOW)?;
            let n = if let Some(fd) = &self.host_fd {
                self.conn.stats.host_fd_io.fetch_add(1, Ordering::Relaxed);
                let off = i64::try_from(off).map_err(|_| Errno::EOVERFLOW)?;
                nix::sys::uio::pread(fd, &mut buf[done..], off).map_err(crate::error::from_nix)?
            } else {
                let want = (buf.len() - done).min(self.max_read());
                match self.rpc(Message::Tread {
                    fid: self.fid,
                    offset: off,
                    count: want as u32,
                }) {
                    Ok(Reply {
                        msg: Message::Rread { data },
                        ..
                    }) if data.len() <= want => {
                        buf[done..done + data.len()].copy_from_slice(&data);
                        data.len()
                    }
                    Ok(_) => return Err(Errno::EPROTO),
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok(done)
    }

    /// Writes all of `data` at `offset` (in msize-sized pieces); returns the
    /// byte count, short only if the server wrote less than asked.
    pub fn write_at(&self, data: &[u8], offset: u64) -> Result<usize, Errno> {
        let mut done = 0;
        while done < data.len() {
            let off = offset.checked_add(done as u64).ok_or(Errno::EFBIG)?;
            let (n, want) = if let Some(fd) = &self.host_fd {
                self.conn.stats.host_fd_io.fetch_add(1, Ordering::Relaxed);
                let off = i64::try_from(off).map_err(|_| Errno::EFBIG)?;
                let n = nix::sys::uio::pwrite(fd, &data[done..], off)
                    .map_err(crate::error::from_nix)?;
                (n, data.len() - done)
            } else {
                let want = (data.len() - done).min(self.max_write());
                match self.rpc(Message::Twrite {
                    fid: self.fid,
                    offset: off,
                    data: data[done..done + want].to_vec(),
                }) {
                    Ok(Reply {
                        msg: Message::Rwrite { count },
                        ..
                    }) if count as usize <= want => (count as usize, want),
                    Ok(_) => return Err(Errno::EPROTO),
                    Err(e) => return Err(e),
                }
            };
            done += n;
            if n < want {
                break;
            }
        }
        Ok(done)
    }

    /// Reads directory entries starting after `offset` (0 for the start),
    /// at most `count` bytes of them.
    pub fn readdir(&self, offset: u64, count: u32) -> Result<Vec<Dirent>, Errno> {
        let count = count.min(self.conn.msize - CLIENT_IO_HEADER);
        match self.rpc(Message::Treaddir {
            fid: self.fid,
            offset,
            count,
        }) {
            Ok(Reply {
                msg: Message::Rreaddir { entries },
                ..
            }) => Ok(entries),
            other => Err(unexpected(other)),
        }
    }

    /// Reads every entry of an opened directory.
    pub fn readdir_all(&self) -> Result<Vec<Dirent>, Errno> {
        let mut all = Vec::new();
        let mut offset = 0;
        loop {
            let batch = self.readdir(offset, u32::MAX)?;
            match batch.last() {
                None => return Ok(all),
                Some(last) => offset = last.offset,
            }
            all.extend(batch);
        }
    }

    /// Returns the attributes named by `mask` (bits of [`crate::getattr`]).
    pub fn getattr(&self, mask: u64) -> Result<Attr, Errno> {
        match self.rpc(Message::Tgetattr {
            fid: self.fid,
            request_mask: mask,
        }) {
            Ok(Reply {
                msg: Message::Rgetattr { attr },
                ..
            }) => Ok(attr),
            other => Err(unexpected(other)),
        }
    }

    fn expect_empty(&self, m: Message, want: fn(&Message) -> bool) -> Result<(), Errno> {
        match self.rpc(m) {
            Ok(r) if want(&r.msg) => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    fn expect_qid(&self, m: Message) -> Result<Qid, Errno> {
        match self.rpc(m) {
            Ok(Reply {
                msg: Message::Rmkdir { qid } | Message::Rsymlink { qid } | Message::Rmknod { qid },
                ..
            }) => Ok(qid),
            other => Err(unexpected(other)),
        }
    }

    /// Changes attributes.
    pub fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        self.expect_empty(
            Message::Tsetattr {
                fid: self.fid,
                attr: *attr,
            },
            |m| matches!(m, Message::Rsetattr),
        )
    }

    /// Creates directory `name` in this directory.
    pub fn mkdir(&self, name: &[u8], mode: u32, gid: u32) -> Result<Qid, Errno> {
        self.expect_qid(Message::Tmkdir {
            dfid: self.fid,
            name: name.to_vec(),
            mode,
            gid,
        })
    }

    /// Creates symbolic link `name` to `target` in this directory.
    pub fn symlink(&self, name: &[u8], target: &[u8], gid: u32) -> Result<Qid, Errno> {
        self.expect_qid(Message::Tsymlink {
            fid: self.fid,
            name: name.to_vec(),
            target: target.to_vec(),
            gid,
        })
    }

    /// Creates node `name` (FIFO, socket or device) in this directory.
    pub fn mknod(
        &self,
        name: &[u8],
        mode: u32,
        major: u32,
        minor: u32,
        gid: u32,
    ) -> Result<Qid, Errno> {
        self.expect_qid(Message::Tmknod {
            dfid: self.fid,
            name: name.to_vec(),
            mode,
            major,
            minor,
            gid,
        })
    }

    /// Creates hard link `name` in this directory to the file of `target`.
    pub fn link(&self, target: &Fid, name: &[u8]) -> Result<(), Errno> {
        self.expect_empty(
            Message::Tlink {
                dfid: self.fid,
                fid: target.fid,
                name: name.to_vec(),
            },
            |m| matches!(m, Message::Rlink),
        )
    }

    /// Renames `oldname` in this directory to `newname` in `newdir`. A
    /// server without Trenameat (`EOPNOTSUPP`, diod for one) gets a walk and
    /// a Trename instead, as Linux's v9fs does.
    pub fn renameat(&self, oldname: &[u8], newdir: &Fid, newname: &[u8]) -> Result<(), Errno> {
        let r = self.expect_empty(
            Message::Trenameat {
                olddirfid: self.fid,
                oldname: oldname.to_vec(),
                newdirfid: newdir.fid,
                newname: newname.to_vec(),
            },
            |m| matches!(m, Message::Rrenameat),
        );
        match r {
            Err(Errno::EOPNOTSUPP) => self.walk(&[oldname])?.rename(newdir, newname),
            r => r,
        }
    }

    /// Moves this fid's file to `name` in `newdir` (Trename).
    pub fn rename(&self, newdir: &Fid, name: &[u8]) -> Result<(), Errno> {
        self.expect_empty(
            Message::Trename {
                fid: self.fid,
                dfid: newdir.fid,
                name: name.to_vec(),
            },
            |m| matches!(m, Message::Rrename),
        )
    }

    /// Removes `name` from this directory; `flags` is 0 or `AT_REMOVEDIR`.
    /// A server without Tunlinkat (`EOPNOTSUPP`, diod for one) gets a walk
    /// and a Tremove instead, as Linux's v9fs does, with the file type
    /// checked first so `AT_REMOVEDIR` still means what it means.
    pub fn unlinkat(&self, name: &[u8], flags: u32) -> Result<(), Errno> {
        let r = self.expect_empty(
            Message::Tunlinkat {
                dirfid: self.fid,
                name: name.to_vec(),
                flags,
            },
            |m| matches!(m, Message::Runlinkat),
        );
        match r {
            Err(Errno::EOPNOTSUPP) => {
                let victim = self.walk(&[name])?;
                let is_dir = victim.qid.ty & Qid::TYPE_DIR != 0;
                let want_dir = flags & libc::AT_REMOVEDIR as u32 != 0;
                match (is_dir, want_dir) {
                    (true, false) => Err(Errno::EISDIR),
                    (false, true) => Err(Errno::ENOTDIR),
                    _ => victim.remove(),
                }
            }
            r => r,
        }
    }

    /// Removes this fid's file and clunks the fid (Tremove).
    pub fn remove(mut self) -> Result<(), Errno> {
        self.clunked = true;
        let r = self.expect_empty(Message::Tremove { fid: self.fid }, |m| {
            matches!(m, Message::Rremove)
        });
        self.conn.free_fid(self.fid);
        r
    }

    /// Clunks this fid, reporting the server's answer (dropping it does the
    /// same silently).
    pub fn clunk(mut self) -> Result<(), Errno> {
        self.clunked = true;
        let r = self.expect_empty(Message::Tclunk { fid: self.fid }, |m| {
            matches!(m, Message::Rclunk)
        });
        self.conn.free_fid(self.fid);
        r
    }

    /// Reads the target of this symbolic link.
    pub fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match self.rpc(Message::Treadlink { fid: self.fid }) {
            Ok(Reply {
                msg: Message::Rreadlink { target },
                ..
            }) => Ok(target),
            other => Err(unexpected(other)),
        }
    }

    /// Returns file-system statistics.
    pub fn statfs(&self) -> Result<StatFs, Errno> {
        match self.rpc(Message::Tstatfs { fid: self.fid }) {
            Ok(Reply {
                msg: Message::Rstatfs { stat },
                ..
            }) => Ok(stat),
            other => Err(unexpected(other)),
        }
    }

    /// Flushes the open file to stable storage (`fdatasync` if `datasync`).
    pub fn fsync(&self, datasync: bool) -> Result<(), Errno> {
        self.expect_empty(
            Message::Tfsync {
                fid: self.fid,
                datasync: u32::from(datasync),
            },
            |m| matches!(m, Message::Rfsync),
        )
    }

    /// Prepares to read extended attribute `name` (an empty name lists the
    /// names); returns the reading fid and the value's size.
    pub fn xattrwalk(&self, name: &[u8]) -> Result<(Fid, u64), Errno> {
        let newfid = self.conn.alloc_fid();
        match self.rpc(Message::Txattrwalk {
            fid: self.fid,
            newfid,
            name: name.to_vec(),
        }) {
            Ok(Reply {
                msg: Message::Rxattrwalk { size },
                ..
            }) => Ok((Fid::new(self.conn.clone(), newfid, self.qid), size)),
            other => {
                self.conn.free_fid(newfid);
                Err(unexpected(other))
            }
        }
    }

    /// Turns this fid into the writer of extended attribute `name`, whose
    /// value of exactly `size` bytes is then written with
    /// [`Fid::write_at`]; clunking the fid sets the attribute.
    pub fn xattrcreate(self, name: &[u8], size: u64, flags: u32) -> Result<Fid, Errno> {
        self.expect_empty(
            Message::Txattrcreate {
                fid: self.fid,
                name: name.to_vec(),
                attr_size: size,
                flags,
            },
            |m| matches!(m, Message::Rxattrcreate),
        )?;
        Ok(self)
    }

    fn read_xattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        let (fid, size) = self.xattrwalk(name)?;
        // XATTR_SIZE_MAX and XATTR_LIST_MAX: a server claiming more is
        // refused before anything is allocated.
        if size > 65536 {
            return Err(Errno::E2BIG);
        }
        let mut buf = vec![0u8; size as usize];
        let n = fid.read_at(&mut buf, 0)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Returns the value of extended attribute `name`.
    pub fn get_xattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        if name.is_empty() {
            return Err(Errno::EINVAL);
        }
        self.read_xattr(name)
    }

    /// Returns the names of the extended attributes.
    pub fn list_xattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        let raw = self.read_xattr(b"")?;
        Ok(raw
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(<[u8]>::to_vec)
            .collect())
    }

    /// Sets extended attribute `name` to `value` (`flags`: 0,
    /// [`XATTR_CREATE`] or [`XATTR_REPLACE`]).
    pub fn set_xattr(&self, name: &[u8], value: &[u8], flags: u32) -> Result<(), Errno> {
        let w = self
            .walk::<&[u8]>(&[])?
            .xattrcreate(name, value.len() as u64, flags)?;
        if !value.is_empty() && w.write_at(value, 0)? != value.len() {
            return Err(Errno::EIO);
        }
        w.clunk()
    }

    /// Removes extended attribute `name` (as Linux's v9fs does: a
    /// zero-length Txattrcreate with `XATTR_REPLACE`).
    pub fn remove_xattr(&self, name: &[u8]) -> Result<(), Errno> {
        self.set_xattr(name, &[], XATTR_REPLACE)
    }

    /// Acquires or releases a POSIX record lock; returns a
    /// [`crate::lock_status`] value.
    pub fn lock(&self, flags: u32, lock: &LockRange) -> Result<u8, Errno> {
        match self.rpc(Message::Tlock {
            fid: self.fid,
            flags,
            lock: lock.clone(),
        }) {
            Ok(Reply {
                msg: Message::Rlock { status },
                ..
            }) => Ok(status),
            other => Err(unexpected(other)),
        }
    }

    /// Returns the lock that conflicts with `lock`, or `lock` with type
    /// `UNLCK` if none does.
    pub fn getlock(&self, lock: &LockRange) -> Result<LockRange, Errno> {
        match self.rpc(Message::Tgetlock {
            fid: self.fid,
            lock: lock.clone(),
        }) {
            Ok(Reply {
                msg: Message::Rgetlock { lock },
                ..
            }) => Ok(lock),
            other => Err(unexpected(other)),
        }
    }
}
