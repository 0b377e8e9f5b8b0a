//! Pipes and Unix socket pairs: non-seekable I/O, would-block, readiness
//! through the host epoll notifier, blocking readers, and reopening.

use std::sync::mpsc;
use std::time::Duration;

use abi_linux::{Errno, OpenFlags, Whence};
use hostfs::ImportOptions;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use vfs_core::waiter::{EventMask, READABLE_EVENTS, Waiter};
use vfs_core::{PathOperation, StatOptions};

use crate::common::{Env, errno};

/// A waiter that forwards notifications to a channel.
struct ChannelWaiter(std::sync::Mutex<mpsc::Sender<EventMask>>);

impl Waiter for ChannelWaiter {
    fn notify(&self, mask: EventMask) {
        // The receiver may be gone once the test has what it waited for.
        let _ = self.0.lock().unwrap().send(mask);
    }
}

/// A deadline for a notification that must come; only there so that a
/// broken notifier fails the test instead of hanging it.
const NOTIFY_DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn empty_pipe_read_would_block_like_a_nonblocking_host_read() {
    let env = Env::new();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    let (host_reader, _host_writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_NONBLOCK).unwrap();
    let mut buf = [0u8; 4];
    let expected = nix::unistd::read(&host_reader, &mut buf).map_err(errno);

    let file = env.import_default(reader);
    assert_eq!(env.read(&file, 4).map(|v| v.len()), expected);
    assert_eq!(expected, Err(Errno::EAGAIN));

    file.release(&env.ctx);
    drop(writer);
    env.finish();
}

#[test]
fn partial_pipe_read_returns_what_was_there() {
    let env = Env::new();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    nix::unistd::write(&writer, b"abc").unwrap();
    let file = env.import_default(reader);
    assert_eq!(env.read(&file, 100).unwrap(), b"abc");
    // End of file once the writer is gone.
    drop(writer);
    assert_eq!(env.read(&file, 100).unwrap(), b"");
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn pipe_pread_and_seek_are_espipe_as_on_host() {
    let env = Env::new();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    let mut buf = [0u8; 1];
    let expected_pread = nix::sys::uio::pread(&reader, &mut buf, 0).map_err(errno);
    let expected_seek = nix::unistd::lseek(&reader, 0, nix::unistd::Whence::SeekCur).map_err(errno);
    let file = env.import_default(reader);
    assert_eq!(env.pread(&file, 1, 0).map(|v| v.len()), expected_pread);
    assert_eq!(file.seek(&env.ctx, 0, Whence::Cur), expected_seek);
    assert_eq!(expected_seek, Err(Errno::ESPIPE));
    file.release(&env.ctx);
    drop(writer);
    env.finish();
}

#[test]
fn pipe_becomes_readable_when_the_host_writer_writes() {
    let env = Env::new();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    let file = env.import_default(reader);
    assert!(!file.readiness(READABLE_EVENTS).intersects(READABLE_EVENTS));

    let (tx, rx) = mpsc::channel();
    let waiter = std::sync::Arc::new(ChannelWaiter(std::sync::Mutex::new(tx)));
    let id = file
        .imp()
        .event_register(waiter, READABLE_EVENTS)
        .unwrap()
        .expect("a pipe can be waited for");
    nix::unistd::write(&writer, b"ping").unwrap();

    let events = rx.recv_timeout(NOTIFY_DEADLINE).unwrap();
    assert!(events.contains(EventMask::IN));
    assert!(file.readiness(READABLE_EVENTS).contains(EventMask::IN));
    assert_eq!(env.read(&file, 10).unwrap(), b"ping");

    file.imp().event_unregister(id);
    file.release(&env.ctx);
    drop(writer);
    env.finish();
}

#[test]
fn blocking_reader_waits_for_the_writer() {
    let env = Env::new();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    let file = env.import_default(reader);
    assert!(!file.status_flags().contains(OpenFlags::NONBLOCK));

    let writer_thread = std::thread::spawn(move || {
        nix::unistd::write(&writer, b"late data").unwrap();
        writer
    });
    // What a blocking read(2) does with a would-block answer: register,
    // re-check, wait for the notification, retry.
    let (tx, rx) = mpsc::channel();
    let waiter = std::sync::Arc::new(ChannelWaiter(std::sync::Mutex::new(tx)));
    let id = file
        .imp()
        .event_register(waiter, READABLE_EVENTS)
        .unwrap()
        .unwrap();
    let data = loop {
        match env.read(&file, 100) {
            Err(Errno::EAGAIN) => {
                rx.recv_timeout(NOTIFY_DEADLINE).unwrap();
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(data, b"late data");
    file.imp().event_unregister(id);
    let writer = writer_thread.join().unwrap();
    file.release(&env.ctx);
    drop(writer);
    env.finish();
}

#[test]
fn full_pipe_write_would_block_like_the_host() {
    let env = Env::new();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    let file = env.import_default(writer);
    let chunk = vec![7u8; 65536];
    let mut total = 0;
    let err = loop {
        match env.write(&file, &chunk) {
            Ok(n) => total += n,
            Err(e) => break e,
        }
    };
    // A non-blocking host write to a full pipe fails the same way.
    let (host_reader, host_writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_NONBLOCK).unwrap();
    let host_err = loop {
        if let Err(e) = nix::unistd::write(&host_writer, &chunk) {
            break errno(e);
        }
    };
    assert_eq!(err, host_err);
    assert!(total > 0);
    file.release(&env.ctx);
    drop((reader, host_reader, host_writer));
    env.finish();
}

#[test]
fn socketpair_transfers_and_cannot_be_reopened() {
    let env = Env::new();
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .unwrap();
    let file = env.import_default(ours);
    assert_eq!(env.write(&file, b"to peer"), Ok(7));
    let mut buf = [0u8; 16];
    assert_eq!(nix::unistd::read(&theirs, &mut buf), Ok(7));
    nix::unistd::write(&theirs, b"back").unwrap();
    assert_eq!(env.read(&file, 16).unwrap(), b"back");
    let st = file.stat(&env.ctx, StatOptions::default()).unwrap();
    assert_eq!(
        u32::from(st.stx_mode) & abi_linux::S_IFMT,
        abi_linux::S_IFSOCK
    );

    // Opening a socket through a path is ENXIO on Linux.
    let vd = file.virtual_dentry();
    let reopened = env.vfs.open_at(
        &env.ctx,
        &PathOperation::new(&vd, &vd, b""),
        vfs_core::OpenOptions {
            flags: OpenFlags::RDWR,
            ..Default::default()
        },
    );
    assert_eq!(reopened.err(), Some(Errno::ENXIO));
    vd.release(&env.ctx);

    // A socket imported as a terminal is refused.
    let (a, _b) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .unwrap();
    let tty = ImportOptions {
        is_tty: true,
        ..ImportOptions::default()
    };
    assert_eq!(env.import(a, &tty).err(), Some(Errno::ENOTTY));

    file.release(&env.ctx);
    drop(theirs);
    env.finish();
}

#[test]
fn reopened_fifo_shares_the_host_descriptor() {
    let env = Env::new();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    let file = env.import_default(writer);
    let vd = file.virtual_dentry();
    let again = env
        .vfs
        .open_at(
            &env.ctx,
            &PathOperation::new(&vd, &vd, b""),
            vfs_core::OpenOptions {
                flags: OpenFlags::WRONLY,
                ..Default::default()
            },
        )
        .unwrap();
    vd.release(&env.ctx);
    assert_eq!(env.write(&again, b"xy"), Ok(2));
    let mut buf = [0u8; 4];
    assert_eq!(nix::unistd::read(&reader, &mut buf), Ok(2));
    again.release(&env.ctx);
    file.release(&env.ctx);
    env.finish();
}
