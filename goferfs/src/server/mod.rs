//! The gofer: a 9P2000.L server that exports one host directory and is the
//! sandbox's file-system boundary.
//!
//! Security model: the export root is opened once as an `O_PATH` fd; every
//! fid holds an `O_PATH` fd reached from it by one single-component
//! `openat(dir, name, O_PATH|O_NOFOLLOW)` at a time (see `confine`), so `..`,
//! names with `/` and symlinks (including ones swapped in between walk
//! steps) never lead outside. Files are opened for I/O only through the fd
//! the walk produced; symlinks are never opened (`ELOOP`) and device nodes,
//! FIFOs and sockets only if [`ServerConfig::allow_devices`] says so.
//!
//! # Reference model
//!
//! [`Server`] is an `Arc` of shared state (root fd, configuration, open-fid
//! counter). Each connection owns its fid table and its worker threads; the
//! connection ends when the client closes it, and its fids are dropped then.
//!
//! Requests that cannot block (walks, metadata, small I/O on regular files)
//! are answered by the thread that reads the connection; the others go to
//! the connection's worker pool (see `Conn::runs_inline`).
//!
//! # Lock order
//!
//! `Conn::inflight`, then nothing. `Conn::writer` alone. Fid locks: see
//! the `fid` module.

mod confine;
mod fid;
mod ops;

use crate::error::from_io;
use crate::message::{
    DEFAULT_SERVER_MSIZE, HEADER_SIZE, Message, VERSION_9P2000_L, VERSION_FD_DONATION,
};
use crate::transport::{FrameReader, Stream};
use crate::wire::DecodeError;
use abi_linux::Errno;
use fid::{FidTable, lock};
use nix::fcntl::OFlag;
use std::collections::HashSet;
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};

/// How the gofer serves its directory.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The host directory to export.
    pub root: PathBuf,
    /// Refuse every change (`EROFS`).
    pub read_only: bool,
    /// Allow opening and creating device nodes, FIFOs and sockets.
    pub allow_devices: bool,
    /// Worker threads per connection.
    pub workers: usize,
    /// Largest msize granted.
    pub max_msize: u32,
    /// Let clients make files set-user-ID or set-group-ID. Off, the
    /// server drops those bits from every mode it applies (a directory
    /// keeps set-group-ID, which only passes its group on), so a sandbox
    /// cannot plant a privileged program on the host; turn it on only for
    /// an export whose files no host user runs.
    pub allow_setid: bool,
}

impl ServerConfig {
    /// A read-write export of `root` with default limits.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            read_only: false,
            allow_devices: false,
            workers: 4,
            max_msize: DEFAULT_SERVER_MSIZE,
            allow_setid: false,
        }
    }
}

/// The largest Tread or Twrite of a regular file answered on the reader
/// thread; larger ones go to a worker so other requests are not held up.
const INLINE_IO_MAX: usize = 64 * 1024;

struct Shared {
    root: Arc<OwnedFd>,
    /// `/proc/self/fd`, through which path fds are reopened for I/O.
    proc_fds: OwnedFd,
    config: ServerConfig,
    open_fids: Arc<AtomicUsize>,
    /// Whether created files can be given to the client's uid/gid.
    can_chown: bool,
}

/// A gofer server for one exported directory; serves any number of
/// connections.
///
/// # Examples
///
/// ```no_run
/// use goferfs::{Listener, Server, ServerConfig};
///
/// let server = Server::new(ServerConfig::new("/srv/export"))?;
/// let listener = Listener::bind("unix:/run/gofer.sock")?;
/// println!("listening on {}", listener.address());
/// server.serve(listener);
/// # Ok::<(), abi_linux::Errno>(())
/// ```
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.shared.config)
            .finish()
    }
}

impl Server {
    /// Opens the export root, which must be a directory, and
    /// `/proc/self/fd`, which must be procfs (`ENODEV` otherwise).
    pub fn new(config: ServerConfig) -> Result<Self, Errno> {
        let root = nix::fcntl::open(
            &config.root,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(crate::error::from_nix)?;
        Ok(Self {
            shared: Arc::new(Shared {
                root: Arc::new(root),
                proc_fds: confine::open_proc_fds()?,
                can_chown: nix::unistd::geteuid().is_root(),
                config,
                open_fids: Arc::new(AtomicUsize::new(0)),
            }),
        })
    }

    /// Returns how many fids are alive across all connections (0 once every
    /// client clunked everything or disconnected): a leak check.
    pub fn open_fids(&self) -> usize {
        self.shared.open_fids.load(Ordering::Relaxed)
    }

    /// Serves one connection until the client closes it.
    pub fn serve_connection(&self, stream: Stream) -> Result<(), Errno> {
        Conn::run(self.shared.clone(), stream)
    }

    /// Serves one connection on a new thread.
    pub fn spawn_connection(&self, stream: Stream) -> std::thread::JoinHandle<Result<(), Errno>> {
        let s = self.clone();
        std::thread::spawn(move || s.serve_connection(stream))
    }

    /// Accepts connections forever, one thread each.
    pub fn serve(&self, listener: Listener) {
        loop {
            let stream = match &listener {
                Listener::Unix(l, _) => l.accept().map(|(s, _)| Stream::Unix(s)),
                Listener::Tcp(l) => l.accept().map(|(s, _)| {
                    // Replies must not wait for Nagle's algorithm; a failure
                    // here only costs latency.
                    let _ = s.set_nodelay(true);
                    Stream::Tcp(s)
                }),
            };
            if let Ok(stream) = stream {
                drop(self.spawn_connection(stream));
            }
        }
    }
}

/// A listening socket for [`Server::serve`].
#[derive(Debug)]
pub enum Listener {
    /// A Unix socket and its path.
    Unix(UnixListener, PathBuf),
    /// A TCP socket.
    Tcp(TcpListener),
}

impl Listener {
    /// Binds `unix:PATH` or `tcp:HOST:PORT` (port 0 picks a free port).
    pub fn bind(spec: &str) -> Result<Self, Errno> {
        if let Some(path) = spec.strip_prefix("unix:") {
            let l = UnixListener::bind(path).map_err(|e| from_io(&e))?;
            Ok(Self::Unix(l, PathBuf::from(path)))
        } else if let Some(addr) = spec.strip_prefix("tcp:") {
            Ok(Self::Tcp(TcpListener::bind(addr).map_err(|e| from_io(&e))?))
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// Returns the bound address in the form `bind` accepts.
    pub fn address(&self) -> String {
        match self {
            Self::Unix(_, p) => format!("unix:{}", p.display()),
            Self::Tcp(l) => match l.local_addr() {
                Ok(a) => format!("tcp:{a}"),
                Err(_) => "tcp:?".into(),
            },
        }
    }
}

/// One client connection.
pub(crate) struct Conn {
    shared: Arc<Shared>,
    fids: FidTable,
    writer: Mutex<(Stream, Vec<u8>)>,
    inflight: Mutex<HashSet<u16>>,
    done: Condvar,
    msize: AtomicUsize,
    donation: std::sync::atomic::AtomicBool,
}

impl Conn {
    fn run(shared: Arc<Shared>, stream: Stream) -> Result<(), Errno> {
        let writer = stream.try_clone().map_err(|e| from_io(&e))?;
        let max = shared.config.max_msize;
        let workers = shared.config.workers.max(1);
        let conn = Arc::new(Conn {
            shared,
            fids: FidTable::default(),
            writer: Mutex::new((writer, Vec::new())),
            inflight: Mutex::new(HashSet::new()),
            done: Condvar::new(),
            msize: AtomicUsize::new(max as usize),
            donation: std::sync::atomic::AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::channel::<(u16, Message)>();
        let rx = Arc::new(Mutex::new(rx));
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (conn, rx) = (conn.clone(), rx.clone());
            handles.push(std::thread::spawn(move || {
                loop {
                    let next = lock(&rx).recv();
                    let Ok((tag, msg)) = next else { break };
                    conn.answer(tag, msg);
                }
            }));
        }
        let mut reader = FrameReader::new(stream, max);
        let result = conn.read_loop(&mut reader, &tx);
        drop(tx);
        for h in handles {
            // Workers only exit when the queue closes; a panicking handler
            // has already lost its request, and the connection is ending.
            let _ = h.join();
        }
        conn.fids.clear();
        result
    }

    fn read_loop(
        &self,
        reader: &mut FrameReader,
        tx: &mpsc::Sender<(u16, Message)>,
    ) -> Result<(), Errno> {
        loop {
            let msize = self.msize.load(Ordering::Relaxed) as u32;
            let frame = match reader.read_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(()),
                Err(e) => return Err(from_io(&e)),
            };
            let tag = u16::from_le_bytes([frame[5], frame[6]]);
            let msg = match Message::decode(frame, msize) {
                Ok((_, m)) if m.is_request() => m,
                Ok(_) | Err(DecodeError::UnknownType(_)) => {
                    self.reply(tag, Err(Errno::EOPNOTSUPP));
                    continue;
                }
                Err(_) => {
                    self.reply(tag, Err(Errno::EINVAL));
                    continue;
                }
            };
            debug_assert!(frame.len() >= HEADER_SIZE);
            match msg {
                Message::Tversion { msize: m, version } => {
                    self.wait_idle();
                    self.fids.clear();
                    let granted = m.min(self.shared.config.max_msize);
                    let stream_unix = lock(&self.writer).0.is_unix();
                    let v = if version == VERSION_FD_DONATION && stream_unix {
                        self.donation.store(true, Ordering::Relaxed);
                        VERSION_FD_DONATION
                    } else if version.starts_with(VERSION_9P2000_L) {
                        self.donation.store(false, Ordering::Relaxed);
                        VERSION_9P2000_L
                    } else {
                        b"unknown"
                    };
                    if granted < 4096 {
                        self.reply(tag, Err(Errno::EINVAL));
                        continue;
                    }
                    self.msize.store(granted as usize, Ordering::Relaxed);
                    reader.set_msize(granted);
                    self.reply(
                        tag,
                        Ok((
                            Message::Rversion {
                                msize: granted,
                                version: v.to_vec(),
                            },
                            None,
                        )),
                    );
                }
                Message::Tflush { oldtag } => {
                    // Requests cannot be interrupted once a worker runs
                    // them; Rflush goes out after the old reply, as 9P
                    // requires.
                    let mut inflight = lock(&self.inflight);
                    while inflight.contains(&oldtag) {
                        inflight = self.done.wait(inflight).unwrap_or_else(|p| p.into_inner());
                    }
                    drop(inflight);
                    self.reply(tag, Ok((Message::Rflush, None)));
                }
                msg if self.runs_inline(&msg) => {
                    let r = ops::handle(self, msg);
                    // A client that sent several requests at once (a
                    // Tclunk it does not wait for, then its next request)
                    // gets their replies in one write: the last of the
                    // batch flushes them all before the reader sleeps.
                    self.queue_reply(tag, r, !reader.has_frame());
                }
                msg => {
                    lock(&self.inflight).insert(tag);
                    if tx.send((tag, msg)).is_err() {
                        return Err(Errno::EIO);
                    }
                }
            }
        }
    }

    /// Returns true if `msg` is answered on the reader thread: requests
    /// that cannot block for long (path operations, metadata, opening and
    /// I/O of regular files and directories up to [`INLINE_IO_MAX`] bytes).
    /// Handing these to a worker would cost two thread wakeups per request,
    /// more than the request itself. Everything else (I/O on devices and
    /// FIFOs, which may block for ever, large transfers, `fsync`, directory
    /// listings) goes to the worker pool so it never holds up the reader.
    fn runs_inline(&self, msg: &Message) -> bool {
        let regular = |fid: u32| {
            self.fids
                .get(fid)
                .map(|e| matches!(e.kind, libc::S_IFREG | libc::S_IFDIR))
                // An unknown fid is answered with EBADF at once.
                .unwrap_or(true)
        };
        match msg {
            Message::Tread { fid, count, .. } => *count as usize <= INLINE_IO_MAX && regular(*fid),
            Message::Twrite { fid, data, .. } => data.len() <= INLINE_IO_MAX && regular(*fid),
            Message::Tlopen { fid, .. } => regular(*fid),
            Message::Tfsync { .. } | Message::Treaddir { .. } => false,
            _ => true,
        }
    }

    fn wait_idle(&self) {
        let mut inflight = lock(&self.inflight);
        while !inflight.is_empty() {
            inflight = self.done.wait(inflight).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn answer(&self, tag: u16, msg: Message) {
        let r = ops::handle(self, msg);
        self.reply(tag, r);
        lock(&self.inflight).remove(&tag);
        self.done.notify_all();
    }

    /// Sends the reply to `tag` at once, with any replies queued before it.
    fn reply(&self, tag: u16, r: Result<(Message, Option<OwnedFd>), Errno>) {
        self.queue_reply(tag, r, true);
    }

    /// Appends the reply to `tag` to the replies not yet written, and
    /// writes them all if `flush` or if the reply carries an fd. Replies
    /// left queued go out with the next flushing reply, so the reader
    /// thread flushes before it waits for more requests.
    fn queue_reply(&self, tag: u16, r: Result<(Message, Option<OwnedFd>), Errno>, flush: bool) {
        let (msg, fd) = match r {
            Ok(v) => v,
            Err(e) => (
                Message::Rlerror {
                    ecode: e.raw() as u32,
                },
                None,
            ),
        };
        let mut w = lock(&self.writer);
        let (stream, buf) = &mut *w;
        if fd.is_some() && !buf.is_empty() {
            // A donated fd travels with the first byte of its own frame.
            // A write error means the client is gone; the reader sees the
            // end of the stream and tears the connection down.
            let _ = stream.write_frame(buf, None);
            buf.clear();
        }
        let start = buf.len();
        if msg.encode(tag, buf).is_err() {
            buf.truncate(start);
            // An Rlerror always fits; the replies queued before still have
            // to go out below either way.
            let _ = Message::Rlerror {
                ecode: Errno::EIO.raw() as u32,
            }
            .encode(tag, buf);
        }
        if flush || fd.is_some() {
            let _ = stream.write_frame(buf, fd.as_ref().map(std::os::fd::AsFd::as_fd));
            buf.clear();
        }
    }
}
