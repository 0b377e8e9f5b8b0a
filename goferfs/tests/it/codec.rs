//! Decoder robustness: every message kind round-trips, and many random
//! mutations of real frames never panic and never decode into something
//! that fails to re-encode identically.

use goferfs::{Attr, Dirent, LockRange, Message, Qid, SetAttr, StatFs, Timespec};

fn qid(n: u64) -> Qid {
    Qid {
        ty: Qid::TYPE_DIR,
        version: 3,
        path: n,
    }
}

fn lock() -> LockRange {
    LockRange {
        ty: 1,
        start: 10,
        length: 20,
        proc_id: 42,
        client_id: b"host".to_vec(),
    }
}

/// One instance of every message, with non-trivial field values.
fn samples() -> Vec<Message> {
    use Message::*;
    let t = Timespec { sec: 5, nsec: 6 };
    vec![
        Tversion {
            msize: 8192,
            version: b"9P2000.L".to_vec(),
        },
        Rversion {
            msize: 8192,
            version: b"9P2000.L".to_vec(),
        },
        Tauth {
            afid: 1,
            uname: b"u".to_vec(),
            aname: b"a".to_vec(),
            n_uname: 0,
        },
        Rauth { aqid: qid(1) },
        Tattach {
            fid: 1,
            afid: u32::MAX,
            uname: b"root".to_vec(),
            aname: b"/x".to_vec(),
            n_uname: 0,
        },
        Rattach { qid: qid(2) },
        Rlerror { ecode: 2 },
        Tstatfs { fid: 1 },
        Rstatfs {
            stat: StatFs {
                ty: 1,
                bsize: 4096,
                blocks: 2,
                bfree: 3,
                bavail: 4,
                files: 5,
                ffree: 6,
                fsid: 7,
                namelen: 255,
            },
        },
        Tlopen { fid: 1, flags: 2 },
        Rlopen {
            qid: qid(3),
            iounit: 0,
        },
        Tlcreate {
            fid: 1,
            name: b"n\xff".to_vec(),
            flags: 2,
            mode: 0o644,
            gid: 9,
        },
        Rlcreate {
            qid: qid(4),
            iounit: 1,
        },
        Tsymlink {
            fid: 1,
            name: b"l".to_vec(),
            target: b"../t".to_vec(),
            gid: 0,
        },
        Rsymlink { qid: qid(5) },
        Tmknod {
            dfid: 1,
            name: b"p".to_vec(),
            mode: 0o10644,
            major: 1,
            minor: 2,
            gid: 0,
        },
        Rmknod { qid: qid(6) },
        Trename {
            fid: 1,
            dfid: 2,
            name: b"z".to_vec(),
        },
        Rrename,
        Treadlink { fid: 1 },
        Rreadlink {
            target: b"target".to_vec(),
        },
        Tgetattr {
            fid: 1,
            request_mask: 0x3fff,
        },
        Rgetattr {
            attr: Attr {
                valid: 0x7ff,
                qid: qid(7),
                mode: 0o100644,
                uid: 1,
                gid: 2,
                nlink: 3,
                rdev: 4,
                size: 5,
                blksize: 6,
                blocks: 7,
                atime: t,
                mtime: t,
                ctime: t,
                btime: t,
                gen_: 8,
                data_version: 9,
            },
        },
        Tsetattr {
            fid: 1,
            attr: SetAttr {
                valid: 0x1ff,
                mode: 0o600,
                uid: 1,
                gid: 2,
                size: 3,
                atime: t,
                mtime: t,
            },
        },
        Rsetattr,
        Txattrwalk {
            fid: 1,
            newfid: 2,
            name: b"user.a".to_vec(),
        },
        Rxattrwalk { size: 10 },
        Txattrcreate {
            fid: 1,
            name: b"user.b".to_vec(),
            attr_size: 3,
            flags: 1,
        },
        Rxattrcreate,
        Treaddir {
            fid: 1,
            offset: 0,
            count: 4096,
        },
        Rreaddir {
            entries: vec![
                Dirent {
                    qid: qid(8),
                    offset: 1,
                    ty: 4,
                    name: b".".to_vec(),
                },
                Dirent {
                    qid: qid(9),
                    offset: 2,
                    ty: 8,
                    name: b"file".to_vec(),
                },
            ],
        },
        Tfsync {
            fid: 1,
            datasync: 1,
        },
        Rfsync,
        Tlock {
            fid: 1,
            flags: 1,
            lock: lock(),
        },
        Rlock { status: 0 },
        Tgetlock {
            fid: 1,
            lock: lock(),
        },
        Rgetlock { lock: lock() },
        Tlink {
            dfid: 1,
            fid: 2,
            name: b"h".to_vec(),
        },
        Rlink,
        Tmkdir {
            dfid: 1,
            name: b"d".to_vec(),
            mode: 0o755,
            gid: 0,
        },
        Rmkdir { qid: qid(10) },
        Trenameat {
            olddirfid: 1,
            oldname: b"a".to_vec(),
            newdirfid: 2,
            newname: b"b".to_vec(),
        },
        Rrenameat,
        Tunlinkat {
            dirfid: 1,
            name: b"u".to_vec(),
            flags: 0x200,
        },
        Runlinkat,
        Tflush { oldtag: 7 },
        Rflush,
        Twalk {
            fid: 1,
            newfid: 2,
            names: vec![b"a".to_vec(), b"b".to_vec()],
        },
        Rwalk {
            qids: vec![qid(11), qid(12)],
        },
        Tread {
            fid: 1,
            offset: 100,
            count: 50,
        },
        Rread {
            data: b"some data".to_vec(),
        },
        Twrite {
            fid: 1,
            offset: 100,
            data: b"more data".to_vec(),
        },
        Rwrite { count: 9 },
        Tclunk { fid: 1 },
        Rclunk,
        Tremove { fid: 1 },
        Rremove,
    ]
}

#[test]
fn every_message_round_trips() {
    let mut buf = Vec::new();
    for (i, m) in samples().into_iter().enumerate() {
        buf.clear();
        m.encode(i as u16, &mut buf).unwrap();
        assert_eq!(Message::decode(&buf, 1 << 20).unwrap(), (i as u16, m));
    }
}

#[test]
fn frames_over_msize_or_with_wrong_size_are_refused() {
    let mut buf = Vec::new();
    Message::Rread { data: vec![0; 100] }
        .encode(1, &mut buf)
        .unwrap();
    assert!(Message::decode(&buf, 50).is_err());
    assert!(Message::decode(&buf[..buf.len() - 1], 1 << 20).is_err());
    let mut longer = buf.clone();
    longer.push(0);
    assert!(Message::decode(&longer, 1 << 20).is_err());
}

#[test]
fn walks_longer_than_sixteen_names_are_refused() {
    let names = vec![b"a".to_vec(); 17];
    let mut buf = Vec::new();
    let m = Message::Twalk {
        fid: 0,
        newfid: 1,
        names,
    };
    assert!(m.encode(0, &mut buf).is_err());
}

/// A xorshift generator: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_frames_never_panic_and_valid_ones_round_trip() {
    let frames: Vec<Vec<u8>> = samples()
        .iter()
        .map(|m| {
            let mut b = Vec::new();
            m.encode(3, &mut b).unwrap();
            b
        })
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut decoded = 0;
    let mut out = Vec::new();
    for _ in 0..200_000 {
        let mut f = frames[rng.below(frames.len())].clone();
        for _ in 0..=rng.below(4) {
            if f.is_empty() {
                f.push(rng.next() as u8);
            }
            match rng.below(5) {
                0 => {
                    let i = rng.below(f.len());
                    f[i] = rng.next() as u8;
                }
                1 => {
                    let i = rng.below(f.len());
                    f[i] ^= 1 << rng.below(8);
                }
                2 => f.truncate(rng.below(f.len() + 1)),
                3 => f.push(rng.next() as u8),
                _ => {
                    // Keep the size field consistent so the body parser
                    // is what gets exercised.
                    let len = f.len() as u32;
                    if f.len() >= 4 {
                        f[..4].copy_from_slice(&len.to_le_bytes());
                    }
                }
            }
        }
        if let Ok((tag, m)) = Message::decode(&f, 1 << 20) {
            decoded += 1;
            out.clear();
            m.encode(tag, &mut out).unwrap();
            assert_eq!(Message::decode(&out, 1 << 20).unwrap(), (tag, m));
        }
    }
    assert!(
        decoded > 1000,
        "mutations too destructive: {decoded} decoded"
    );
}
