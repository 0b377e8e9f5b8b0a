//! 9P2000.L for the sentry, after gVisor's `pkg/p9` and `runsc/fsgofer`: a
//! strict wire codec ([`message`], [`wire`]), a client that multiplexes many
//! threads over one connection ([`client`]), and a gofer server that exports
//! one host directory without ever letting a client reach outside it
//! ([`server`]), and a vfs-core filesystem over the client with dentry and
//! page caches and gVisor's interop modes ([`fs`]).
//!
//! # Reference model
//!
//! A [`Client`] and each [`Fid`] share one connection (`Arc`); there is no
//! reader thread (a waiting caller reads the replies), so the socket
//! closes when the last `Client`/`Fid` is dropped. A `Fid` owns
//! its server fid and clunks it on drop. On the server, a connection owns
//! its fid table, and each server fid owns its host fds. The filesystem's
//! reference model and lock order are in [`fs`]'s module docs.
//!
//! # Lock order
//!
//! Client: the writer lock is taken alone; the reader lock (try-locked
//! only) → the pending-reply table → a reply slot (see `client`'s docs).
//! Server: fid table, then one fid's state (see `server`'s module docs).
//!
//! # Examples
//!
//! A server and a client on a socketpair:
//!
//! ```
//! use goferfs::{Client, ClientOptions, Server, ServerConfig, Stream};
//! use std::os::unix::net::UnixStream;
//!
//! let dir = std::env::temp_dir().join(format!("goferfs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("hello"), b"hi").unwrap();
//! let server = Server::new(ServerConfig::new(&dir))?;
//! let (a, b) = UnixStream::pair().unwrap();
//! let conn = server.spawn_connection(Stream::Unix(b));
//!
//! let client = Client::from_unix_stream(a, &ClientOptions::default())?;
//! let root = client.attach(b"root", b"")?;
//! let mut f = root.walk(&["hello"])?;
//! f.lopen(libc::O_RDONLY as u32)?;
//! let mut buf = [0u8; 8];
//! assert_eq!(f.read_at(&mut buf, 0)?, 2);
//! drop((f, root, client));
//! conn.join().unwrap()?;
//! assert_eq!(server.open_fids(), 0);
//! std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), abi_linux::Errno>(())
//! ```
#![deny(unsafe_code)]

pub mod client;
pub mod error;
mod fdpass;
pub mod fs;
pub mod message;
pub mod server;
pub mod transport;
pub mod wire;

pub use client::{Client, ClientOptions, ClientStats, Fid};
pub use fs::{
    GoferFilesystem, GoferFilesystemType, GoferMountData, GoferOptions, GoferStats, InteropMode,
};
pub use server::{Listener, Server, ServerConfig};
pub use transport::Stream;

pub use message::{
    Attr, Dirent, EncodeError, LockRange, MAX_WALK_ELEMENTS, Message, NOFID, NONUNAME, NOTAG, Qid,
    SetAttr, StatFs, Timespec, VERSION_9P2000_L, VERSION_FD_DONATION, getattr, lock_flags,
    lock_status, lock_type, setattr,
};
pub use wire::DecodeError;
