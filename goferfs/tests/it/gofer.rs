//! Our client against our server: fd donation, concurrency on one
//! connection with a leak check, cancellation with Tflush, version
//! negotiation, hostile frames, and the `gofer` example process.

use crate::common::{TempDir, diod_client, our_client, wait_no_fids};
use abi_linux::Errno;
use goferfs::{Client, ClientOptions, Message, NOTAG, Server, ServerConfig, Stream, getattr};
use std::io::{BufRead, Read, Write};

use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;

const O_RDONLY: u32 = libc::O_RDONLY as u32;
const O_RDWR: u32 = libc::O_RDWR as u32;

fn donating() -> ClientOptions {
    ClientOptions {
        fd_donation: true,
        ..ClientOptions::default()
    }
}

#[test]
fn donated_fd_is_the_opened_file() {
    let dir = TempDir::new("donate");
    std::fs::write(dir.path().join("f"), b"0123456789").unwrap();
    let (server, c) = our_client(dir.path(), false, &donating());
    assert!(c.fd_donation());
    let root = c.attach(b"root", b"").unwrap();
    let mut f = root.walk(&["f"]).unwrap();
    f.lopen(O_RDWR).unwrap();
    let fd = f.host_fd().expect("a regular file comes with an fd");
    let st = nix::sys::stat::fstat(fd).unwrap();
    assert_eq!(
        st.st_ino,
        std::fs::metadata(dir.path().join("f")).unwrap().ino()
    );
    assert_eq!(f.write_at(b"ab", 3).unwrap(), 2);
    assert!(c.stats().host_fd_io.load(Ordering::Relaxed) > 0);
    assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"012ab56789");
    let mut d = root.walk::<&str>(&[]).unwrap();
    d.lopen(O_RDONLY).unwrap();
    assert!(d.host_fd().is_none(), "directories are never donated");
    let mut created = root.walk::<&str>(&[]).unwrap();
    created.lcreate(b"new", O_RDWR, 0o644, 0).unwrap();
    assert!(created.host_fd().is_some());
    assert_eq!(c.stats().donated_opens.load(Ordering::Relaxed), 2);
    drop((f, d, created, root, c));
    assert_eq!(wait_no_fids(&server), 0);
}

#[test]
fn donation_is_declined_by_diod_and_the_client_still_works() {
    let dir = TempDir::new("donate-diod");
    std::fs::write(dir.path().join("f"), b"plain").unwrap();
    let (_d, c) = diod_client(dir.path(), &donating());
    assert!(!c.fd_donation());
    let root = c
        .attach(b"root", dir.path().as_os_str().as_encoded_bytes())
        .unwrap();
    let mut f = root.walk(&["f"]).unwrap();
    f.lopen(O_RDONLY).unwrap();
    assert!(f.host_fd().is_none());
    let mut buf = [0u8; 8];
    assert_eq!(f.read_at(&mut buf, 0).unwrap(), 5);
}

#[test]
fn donation_is_not_offered_over_tcp() {
    let dir = TempDir::new("donate-tcp");
    let server = Server::new(ServerConfig::new(dir.path())).unwrap();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let s = server.clone();
    let t = std::thread::spawn(move || {
        let (conn, _) = l.accept().unwrap();
        s.serve_connection(Stream::Tcp(conn))
    });
    let c = Client::connect_tcp(addr, &donating()).unwrap();
    assert!(!c.fd_donation());
    let root = c.attach(b"root", b"").unwrap();
    assert_eq!(
        root.getattr(getattr::BASIC).unwrap().mode & libc::S_IFMT,
        libc::S_IFDIR
    );
    drop((root, c));
    t.join().unwrap().unwrap();
    assert_eq!(server.open_fids(), 0);
}

#[test]
fn eight_threads_share_one_connection_and_leave_no_fid() {
    let dir = TempDir::new("concurrent");
    let (server, c) = our_client(dir.path(), false, &ClientOptions::default());
    let root = std::sync::Arc::new(c.attach(b"root", b"").unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let root = root.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    let name = format!("t{t}-{i}");
                    let body = format!("thread {t} iteration {i}").into_bytes();
                    let mut f = root.walk::<&str>(&[]).unwrap();
                    f.lcreate(name.as_bytes(), O_RDWR, 0o644, 0).unwrap();
                    assert_eq!(f.write_at(&body, 0).unwrap(), body.len());
                    let g = root.walk(&[name.as_str()]).unwrap();
                    assert_eq!(g.getattr(getattr::SIZE).unwrap().size, body.len() as u64);
                    let mut buf = vec![0u8; body.len()];
                    assert_eq!(f.read_at(&mut buf, 0).unwrap(), body.len());
                    assert_eq!(buf, body);
                    let dname = format!("d{t}-{i}");
                    root.mkdir(dname.as_bytes(), 0o755, 0).unwrap();
                    let renamed = format!("{dname}/moved");
                    root.renameat(
                        name.as_bytes(),
                        &root.walk(&[dname.as_str()]).unwrap(),
                        b"moved",
                    )
                    .unwrap();
                    let mut d = root.walk::<&str>(&[]).unwrap();
                    d.lopen(O_RDONLY).unwrap();
                    assert!(d.readdir(0, 8192).unwrap().len() >= 2);
                    let moved = root.walk(&renamed.split('/').collect::<Vec<_>>()).unwrap();
                    assert_eq!(moved.qid().path, g.qid().path);
                    root.walk(&[dname.as_str()])
                        .unwrap()
                        .unlinkat(b"moved", 0)
                        .unwrap();
                    root.unlinkat(dname.as_bytes(), libc::AT_REMOVEDIR as u32)
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    drop(root);
    drop(c);
    assert_eq!(wait_no_fids(&server), 0);
}

fn walk_and_drop_many(c: &Client, aname: &[u8]) -> u32 {
    let root = c.attach(b"root", aname).unwrap();
    let mut highest = 0;
    for _ in 0..200 {
        let f = root.walk(&["f"]).unwrap();
        f.getattr(getattr::BASIC).unwrap();
        highest = highest.max(f.number());
    }
    highest
}

#[test]
fn fids_clunked_without_waiting_are_reused_and_none_is_left() {
    let dir = TempDir::new("nowait");
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    let opts = ClientOptions {
        clunk_without_waiting: true,
        ..ClientOptions::default()
    };
    let (server, c) = our_client(dir.path(), false, &opts);
    // Each dropped fid's Rclunk is read by a later request, which frees
    // the number: 200 walks do not use 200 numbers.
    assert!(walk_and_drop_many(&c, b"") < 16);
    drop(c);
    assert_eq!(wait_no_fids(&server), 0);
    let (_d, c) = diod_client(dir.path(), &opts);
    assert!(walk_and_drop_many(&c, dir.path().as_os_str().as_encoded_bytes()) < 16);
}

#[test]
fn requests_written_at_once_are_each_answered_in_order() {
    let dir = TempDir::new("batch");
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    let (server, mut s) = raw_server(dir.path());
    send_msg(
        &mut s,
        NOTAG,
        &Message::Tversion {
            msize: 8192,
            version: b"9P2000.L".to_vec(),
        },
    );
    read_msg(&mut s);
    let mut batch = Vec::new();
    let requests = [
        Message::Tattach {
            fid: 0,
            afid: goferfs::NOFID,
            uname: b"root".to_vec(),
            aname: Vec::new(),
            n_uname: goferfs::NONUNAME,
        },
        Message::Twalk {
            fid: 0,
            newfid: 1,
            names: vec![b"f".to_vec()],
        },
        Message::Tclunk { fid: 1 },
        Message::Tgetattr {
            fid: 1,
            request_mask: getattr::BASIC,
        },
        Message::Tclunk { fid: 0 },
    ];
    for (tag, m) in (1u16..).zip(&requests) {
        m.encode(tag, &mut batch).unwrap();
    }
    s.write_all(&batch).unwrap();
    let ino = std::fs::metadata(dir.path().join("f")).unwrap().ino();
    let replies: Vec<_> = (0..requests.len()).map(|_| read_msg(&mut s)).collect();
    assert!(
        matches!(replies[0], (1, Message::Rattach { .. })),
        "{replies:?}"
    );
    assert!(
        matches!(&replies[1], (2, Message::Rwalk { qids }) if qids.len() == 1 && qids[0].path == ino),
        "{replies:?}"
    );
    assert_eq!(replies[2], (3, Message::Rclunk));
    // The fid was clunked by the request before.
    assert_eq!(
        replies[3],
        (
            4,
            Message::Rlerror {
                ecode: libc::EBADF as u32
            }
        )
    );
    assert_eq!(replies[4], (5, Message::Rclunk));
    assert_eq!(wait_no_fids(&server), 0);
}

/// A scripted server on a socketpair: answers Tversion, then hands each
/// request to `script`.
fn scripted(
    script: impl FnOnce(&mut UnixStream) + Send + 'static,
) -> (UnixStream, std::thread::JoinHandle<()>) {
    let (a, mut b) = UnixStream::pair().unwrap();
    let h = std::thread::spawn(move || {
        let (_, m) = read_msg(&mut b);
        let Message::Tversion { msize, .. } = m else {
            panic!("{m:?}")
        };
        send_msg(
            &mut b,
            NOTAG,
            &Message::Rversion {
                msize: msize.min(65536),
                version: b"9P2000.L".to_vec(),
            },
        );
        script(&mut b);
    });
    (a, h)
}

fn read_msg(s: &mut UnixStream) -> (u16, Message) {
    let mut size = [0u8; 4];
    s.read_exact(&mut size).unwrap();
    let mut frame = size.to_vec();
    frame.resize(u32::from_le_bytes(size) as usize, 0);
    s.read_exact(&mut frame[4..]).unwrap();
    Message::decode(&frame, 1 << 21).unwrap()
}

fn send_msg(s: &mut UnixStream, tag: u16, m: &Message) {
    let mut buf = Vec::new();
    m.encode(tag, &mut buf).unwrap();
    s.write_all(&buf).unwrap();
}

/// Reads the Tattach and answers it.
fn answer_attach(s: &mut UnixStream) {
    let (tag, m) = read_msg(s);
    assert!(matches!(m, Message::Tattach { .. }), "{m:?}");
    send_msg(
        s,
        tag,
        &Message::Rattach {
            qid: Default::default(),
        },
    );
}

/// Answers request `tag` with an Rgetattr of a file of `size` bytes.
fn send_size(s: &mut UnixStream, tag: u16, size: u64) {
    let attr = goferfs::Attr {
        size,
        ..Default::default()
    };
    send_msg(s, tag, &Message::Rgetattr { attr });
}

fn with_timeout() -> ClientOptions {
    ClientOptions {
        request_timeout: Some(std::time::Duration::from_millis(50)),
        ..ClientOptions::default()
    }
}

#[test]
fn unanswered_request_is_flushed_and_fails_with_eintr() {
    let (sock, server) = scripted(|s| {
        answer_attach(s);
        let (gtag, m) = read_msg(s);
        assert!(matches!(m, Message::Tgetattr { .. }), "{m:?}");
        let (ftag, m) = read_msg(s);
        assert_eq!(m, Message::Tflush { oldtag: gtag });
        send_msg(s, ftag, &Message::Rflush);
        let (ctag, m) = read_msg(s);
        assert!(matches!(m, Message::Tclunk { .. }), "{m:?}");
        send_msg(s, ctag, &Message::Rclunk);
    });
    let c = Client::from_unix_stream(sock, &with_timeout()).unwrap();
    let root = c.attach(b"root", b"").unwrap();
    assert_eq!(root.getattr(getattr::BASIC).unwrap_err(), Errno::EINTR);
    assert_eq!(c.stats().flushes.load(Ordering::Relaxed), 1);
    drop(root);
    server.join().unwrap();
}

#[test]
fn reply_arriving_before_rflush_wins_over_cancellation() {
    let (sock, server) = scripted(|s| {
        answer_attach(s);
        let (gtag, _) = read_msg(s);
        let (ftag, _) = read_msg(s);
        send_size(s, gtag, 77);
        send_msg(s, ftag, &Message::Rflush);
        let (ctag, _) = read_msg(s);
        send_msg(s, ctag, &Message::Rclunk);
    });
    let c = Client::from_unix_stream(sock, &with_timeout()).unwrap();
    let root = c.attach(b"root", b"").unwrap();
    assert_eq!(root.getattr(getattr::BASIC).unwrap().size, 77);
    drop(root);
    server.join().unwrap();
}

/// A server that refuses Tflush (Rlerror, as unpfs does) still owes the
/// original reply: its tag is not reused until that reply comes, so a
/// late reply never reaches a later request.
#[test]
fn refused_flush_keeps_the_tag_until_the_late_reply() {
    let (sock, server) = scripted(|s| {
        answer_attach(s);
        let (gtag, _) = read_msg(s);
        let (ftag, m) = read_msg(s);
        assert_eq!(m, Message::Tflush { oldtag: gtag });
        send_msg(
            s,
            ftag,
            &Message::Rlerror {
                ecode: libc::EOPNOTSUPP as u32,
            },
        );
        let (next, m) = read_msg(s);
        assert!(matches!(m, Message::Tgetattr { .. }), "{m:?}");
        assert_ne!(next, gtag, "the orphaned tag was reused");
        send_size(s, gtag, 1);
        send_size(s, next, 2);
        let (ctag, m) = read_msg(s);
        assert!(matches!(m, Message::Tclunk { .. }), "{m:?}");
        send_msg(s, ctag, &Message::Rclunk);
    });
    let c = Client::from_unix_stream(sock, &with_timeout()).unwrap();
    let root = c.attach(b"root", b"").unwrap();
    assert_eq!(root.getattr(getattr::BASIC).unwrap_err(), Errno::EINTR);
    assert_eq!(root.getattr(getattr::BASIC).unwrap().size, 2);
    drop(root);
    server.join().unwrap();
}

/// A server that never answers Tflush while the request it cancels runs
/// (unpfs, when that request blocks its only free thread) cannot hang a
/// client with a flush timeout; neither tag is reused before its late
/// reply.
#[test]
fn unanswered_flush_gives_up_and_keeps_both_tags_until_the_late_replies() {
    let (gave_up, client_gave_up) = std::sync::mpsc::channel::<()>();
    let (sock, server) = scripted(move |s| {
        answer_attach(s);
        let (gtag, _) = read_msg(s);
        let (ftag, m) = read_msg(s);
        assert_eq!(m, Message::Tflush { oldtag: gtag });
        // Answer nothing until the client has returned.
        client_gave_up.recv().unwrap();
        let (next, m) = read_msg(s);
        assert!(matches!(m, Message::Tgetattr { .. }), "{m:?}");
        assert!(![gtag, ftag].contains(&next), "an orphaned tag was reused");
        send_size(s, gtag, 1);
        send_msg(s, ftag, &Message::Rflush);
        send_size(s, next, 2);
        let (ctag, m) = read_msg(s);
        assert!(matches!(m, Message::Tclunk { .. }), "{m:?}");
        send_msg(s, ctag, &Message::Rclunk);
    });
    let opts = ClientOptions {
        flush_timeout: Some(std::time::Duration::from_millis(50)),
        ..with_timeout()
    };
    let c = Client::from_unix_stream(sock, &opts).unwrap();
    let root = c.attach(b"root", b"").unwrap();
    assert_eq!(root.getattr(getattr::BASIC).unwrap_err(), Errno::EINTR);
    gave_up.send(()).unwrap();
    assert_eq!(root.getattr(getattr::BASIC).unwrap().size, 2);
    drop(root);
    server.join().unwrap();
}

fn raw_server(dir: &std::path::Path) -> (Server, UnixStream) {
    let server = Server::new(ServerConfig::new(dir)).unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    drop(server.spawn_connection(Stream::Unix(b)));
    (server, a)
}

#[test]
fn server_answers_unknown_to_a_version_it_does_not_speak() {
    let dir = TempDir::new("version");
    let (_server, mut s) = raw_server(dir.path());
    send_msg(
        &mut s,
        NOTAG,
        &Message::Tversion {
            msize: 8192,
            version: b"9P2000".to_vec(),
        },
    );
    let (_, m) = read_msg(&mut s);
    assert_eq!(
        m,
        Message::Rversion {
            msize: 8192,
            version: b"unknown".to_vec()
        }
    );
}

#[test]
fn server_survives_malformed_bodies_and_drops_oversized_frames() {
    let dir = TempDir::new("hostile");
    let (server, mut s) = raw_server(dir.path());
    send_msg(
        &mut s,
        NOTAG,
        &Message::Tversion {
            msize: 8192,
            version: b"9P2000.L".to_vec(),
        },
    );
    read_msg(&mut s);
    // A Twalk whose name length runs past the frame.
    let mut bad = vec![0u8; 4];
    bad.extend_from_slice(&[110, 1, 0]);
    bad.extend_from_slice(&0u32.to_le_bytes());
    bad.extend_from_slice(&1u32.to_le_bytes());
    bad.extend_from_slice(&1u16.to_le_bytes());
    bad.extend_from_slice(&500u16.to_le_bytes());
    let len = bad.len() as u32;
    bad[..4].copy_from_slice(&len.to_le_bytes());
    s.write_all(&bad).unwrap();
    assert_eq!(
        read_msg(&mut s),
        (
            1,
            Message::Rlerror {
                ecode: libc::EINVAL as u32
            }
        )
    );
    // The connection still works.
    send_msg(&mut s, 2, &Message::Tclunk { fid: 9 });
    assert_eq!(
        read_msg(&mut s),
        (
            2,
            Message::Rlerror {
                ecode: libc::EBADF as u32
            }
        )
    );
    // A size field above msize ends the connection.
    s.write_all(&(1u32 << 30).to_le_bytes()).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    assert_eq!(wait_no_fids(&server), 0);
}

/// The `gofer` example, built by `cargo test` next to this test binary.
fn gofer_example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/gofer")
}

#[test]
fn gofer_example_prints_its_address_and_serves() {
    let dir = TempDir::new("example");
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    std::fs::write(export.join("hello"), b"hi there").unwrap();
    let sock = dir.path().join("sock");
    let mut child = std::process::Command::new(gofer_example())
        .arg("--root")
        .arg(&export)
        .arg("--listen")
        .arg(format!("unix:{}", sock.display()))
        .arg("--read-only")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line.trim_end(),
        format!("listening on unix:{}", sock.display())
    );
    let c = Client::connect_unix(&sock, &ClientOptions::default()).unwrap();
    let root = c.attach(b"root", b"any aname").unwrap();
    let mut f = root.walk(&["hello"]).unwrap();
    f.lopen(O_RDONLY).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(f.read_at(&mut buf, 0).unwrap(), 8);
    assert_eq!(root.mkdir(b"x", 0o755, 0).unwrap_err(), Errno::EROFS);
    drop((f, root, c));
    child.kill().unwrap();
    child.wait().unwrap();
}
