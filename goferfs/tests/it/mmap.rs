//! Memory mappings and donated fds through vfs-core: `configure_mmap`,
//! then `translate` and I/O through the translated `File`, checked against
//! the host file (the oracle for what reached the server); truncation and
//! `O_DIRECT` writes invalidating mappings, seen by a recording
//! `MappingSpace`; and reads and writes through a donated fd being coherent
//! with the host file and counted in `GoferStats`.

use crate::vfs::{Backend, Env};
use abi_linux::{Errno, OpenFlags, StatxMask};
use goferfs::InteropMode;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use vfs_core::memmap::{AccessType, Mappable, MappingSpace, MmapOpts, Translation};
use vfs_core::{FileRef, SetStatOptions};

const P: u64 = 4096;
/// Where the tests pretend to map files.
const APP: u64 = 0x7000_0000;

/// A mapping space that records its invalidations.
#[derive(Default)]
struct Recorder(Mutex<Vec<(Range<u64>, bool)>>);

impl MappingSpace for Recorder {
    fn invalidate(&self, app_range: Range<u64>, invalidate_private: bool) {
        self.0.lock().unwrap().push((app_range, invalidate_private));
    }
}

fn shared_opts(len: u64, write: bool) -> MmapOpts {
    MmapOpts {
        length: len,
        perms: if write {
            AccessType::READ_WRITE
        } else {
            AccessType::READ
        },
        max_perms: AccessType::ANY,
        private: false,
        ..MmapOpts::default()
    }
}

/// A mapped file, the recorder of its space, and the space.
type Mapped = (Arc<dyn Mappable>, Arc<Recorder>, Arc<dyn MappingSpace>);

/// Configures a shared mapping of the first `pages` pages of `f` and
/// records it at [`APP`] in a fresh recording space.
fn map(env: &Env, f: &FileRef, pages: u64, write: bool) -> Result<Mapped, Errno> {
    let mut opts = shared_opts(pages * P, write);
    f.configure_mmap(&env.ctx, &mut opts)?;
    let mappable = opts.mappable.expect("configure_mmap sets the mappable");
    assert!(opts.mapping_identity.is_some());
    let rec = Arc::new(Recorder::default());
    let space: Arc<dyn MappingSpace> = rec.clone();
    mappable.add_mapping(&space, APP..APP + pages * P, 0, write)?;
    Ok((mappable, rec, space))
}

/// The translation covering file offset `off`.
fn piece(ts: &[Translation], off: u64) -> &Translation {
    ts.iter()
        .find(|t| t.source.start <= off && off < t.source.end)
        .expect("a translation covers the offset")
}

fn read_mapped(ts: &[Translation], off: u64, len: usize) -> Vec<u8> {
    let t = piece(ts, off);
    let mut buf = vec![0; len];
    let n = t
        .file
        .read_at(t.offset + (off - t.source.start), &mut buf)
        .unwrap();
    buf.truncate(n);
    buf
}

fn write_mapped(ts: &[Translation], off: u64, data: &[u8]) {
    let t = piece(ts, off);
    assert!(t.perms.write, "a write translation allows writes");
    let n = t
        .file
        .write_at(t.offset + (off - t.source.start), data)
        .unwrap();
    assert_eq!(n, data.len());
}

fn truncate(env: &Env, f: &FileRef, size: u64) {
    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = StatxMask::SIZE.bits();
    opts.stat.stx_size = size;
    f.set_stat(&env.ctx, opts).unwrap();
}

/// Without a donated fd, a shared writable mapping is backed by the page
/// cache: translation fills it from the server, stores through it reach
/// the host on fsync, and stores made after that fsync (with no new
/// translation) still reach it on close.
fn page_cache_mapping_writes_back(mode: InteropMode) {
    let env = Env::new(Backend::Ours, mode);
    std::fs::write(env.host("f"), vec![b'a'; 3 * P as usize]).unwrap();
    let f = env.open("f", OpenFlags::RDWR, 0).unwrap();
    let (m, _rec, space) = map(&env, &f, 3, true).unwrap();
    let ts = m
        .translate(P..2 * P, 0..3 * P, AccessType::READ_WRITE)
        .unwrap();
    assert!(ts.iter().all(|t| t.file.host_fd().is_none()));
    assert_eq!(read_mapped(&ts, P + 10, 4), b"aaaa");
    write_mapped(&ts, P + 10, b"mmap");
    f.sync(&env.ctx).unwrap();
    let host = std::fs::read(env.host("f")).unwrap();
    assert_eq!(&host[P as usize + 10..P as usize + 14], b"mmap");
    write_mapped(&ts, P + 100, b"later");
    m.remove_mapping(&space, APP..APP + 3 * P, 0, true);
    drop(m);
    env.close(f).unwrap();
    let host = std::fs::read(env.host("f")).unwrap();
    assert_eq!(&host[P as usize + 100..P as usize + 105], b"later");
    assert_eq!(host.len(), 3 * P as usize);
    env.finish();
}

#[test]
fn page_cache_mapping_writes_back_exclusive() {
    page_cache_mapping_writes_back(InteropMode::Exclusive);
}

#[test]
fn page_cache_mapping_writes_back_writethrough() {
    page_cache_mapping_writes_back(InteropMode::Writethrough);
}

/// Shared mode caches no pages, so without a donated fd there is nothing
/// coherent to map: `ENODEV`, as gVisor.
#[test]
fn shared_mode_without_donated_fd_is_enodev() {
    let env = Env::new(Backend::Ours, InteropMode::Shared);
    std::fs::write(env.host("f"), b"abc").unwrap();
    let f = env.open("f", OpenFlags::RDWR, 0).unwrap();
    let mut opts = shared_opts(P, false);
    assert_eq!(
        f.configure_mmap(&env.ctx, &mut opts).err(),
        Some(Errno::ENODEV)
    );
    assert!(opts.mappable.is_none());
    env.close(f).unwrap();
    env.finish();
}

/// With a donated fd, in every mode, translations are the host file's own
/// pages: a store through the mapping is in the host file at once, and a
/// host write is seen through the mapping.
fn donated_fd_mapping_is_the_host_file(mode: InteropMode) {
    let env = Env::new(Backend::OursDonating, mode);
    std::fs::write(env.host("f"), vec![b'a'; 2 * P as usize]).unwrap();
    let f = env.open("f", OpenFlags::RDWR, 0).unwrap();
    let (m, _rec, space) = map(&env, &f, 2, true).unwrap();
    let ts = m.translate(0..P, 0..2 * P, AccessType::READ_WRITE).unwrap();
    assert!(ts.iter().all(|t| t.file.host_fd().is_some()));
    write_mapped(&ts, 5, b"host");
    assert_eq!(&std::fs::read(env.host("f")).unwrap()[5..9], b"host");
    {
        use std::os::unix::fs::FileExt;
        let h = std::fs::OpenOptions::new()
            .write(true)
            .open(env.host("f"))
            .unwrap();
        h.write_all_at(b"side", P + 7).unwrap();
    }
    assert_eq!(read_mapped(&ts, P + 7, 4), b"side");
    m.remove_mapping(&space, APP..APP + 2 * P, 0, true);
    drop(m);
    env.close(f).unwrap();
    env.finish();
}

#[test]
fn donated_fd_mapping_is_the_host_file_exclusive() {
    donated_fd_mapping_is_the_host_file(InteropMode::Exclusive);
}

#[test]
fn donated_fd_mapping_is_the_host_file_writethrough() {
    donated_fd_mapping_is_the_host_file(InteropMode::Writethrough);
}

#[test]
fn donated_fd_mapping_is_the_host_file_shared() {
    donated_fd_mapping_is_the_host_file(InteropMode::Shared);
}

/// Truncation invalidates the mapped pages past the new end, private
/// copies included (Linux's `truncate_pagecache`), and a fault there is
/// then `EFAULT` (`SIGBUS`).
#[test]
fn truncate_invalidates_mappings_past_the_new_end() {
    let env = Env::new(Backend::Ours, InteropMode::Exclusive);
    std::fs::write(env.host("f"), vec![b'a'; 4 * P as usize]).unwrap();
    let f = env.open("f", OpenFlags::RDWR, 0).unwrap();
    let (m, rec, space) = map(&env, &f, 4, false).unwrap();
    m.translate(0..4 * P, 0..4 * P, AccessType::READ).unwrap();
    truncate(&env, &f, P + 1);
    assert_eq!(
        *rec.0.lock().unwrap(),
        vec![(APP + 2 * P..APP + 4 * P, true)]
    );
    assert_eq!(
        m.translate(3 * P..4 * P, 3 * P..4 * P, AccessType::READ)
            .err(),
        Some(Errno::EFAULT)
    );
    let ts = m.translate(P..2 * P, P..2 * P, AccessType::READ).unwrap();
    assert_eq!(read_mapped(&ts, P, 2), vec![b'a', 0]);
    m.remove_mapping(&space, APP..APP + 4 * P, 0, false);
    drop(m);
    env.close(f).unwrap();
    assert_eq!(std::fs::metadata(env.host("f")).unwrap().len(), P + 1);
    env.finish();
}

/// An `O_DIRECT` write drops the cached pages it covers and invalidates
/// their mappings (keeping private copies); the next translation sees the
/// server's new bytes.
#[test]
fn o_direct_write_invalidates_mappings_of_its_pages() {
    let env = Env::new(Backend::Ours, InteropMode::Exclusive);
    std::fs::write(env.host("f"), vec![b'a'; 3 * P as usize]).unwrap();
    let f = env.open("f", OpenFlags::RDWR, 0).unwrap();
    let (m, rec, space) = map(&env, &f, 3, false).unwrap();
    m.translate(0..3 * P, 0..3 * P, AccessType::READ).unwrap();
    let direct = env
        .open("f", OpenFlags::RDWR | OpenFlags::DIRECT, 0)
        .unwrap();
    env.pwrite(&direct, b"direct", (P + 3) as i64).unwrap();
    assert_eq!(*rec.0.lock().unwrap(), vec![(APP + P..APP + 2 * P, false)]);
    let ts = m.translate(P..2 * P, P..2 * P, AccessType::READ).unwrap();
    assert_eq!(read_mapped(&ts, P + 3, 6), b"direct");
    m.remove_mapping(&space, APP..APP + 3 * P, 0, false);
    drop(m);
    env.close(direct).unwrap();
    env.close(f).unwrap();
    env.finish();
}

/// A file opened read-only cannot be mapped shared and writable: `EACCES`,
/// as Linux.
#[test]
fn shared_writable_mapping_of_read_only_file_is_eacces() {
    let env = Env::new(Backend::Ours, InteropMode::Exclusive);
    std::fs::write(env.host("f"), b"abc").unwrap();
    let f = env.open("f", OpenFlags::empty(), 0).unwrap();
    let mut opts = shared_opts(P, true);
    assert_eq!(
        f.configure_mmap(&env.ctx, &mut opts).err(),
        Some(Errno::EACCES)
    );
    env.close(f).unwrap();
    env.finish();
}

/// Reads and writes through a donated fd, in every mode, are coherent with
/// the host file at once (no writeback needed) and are counted as host-fd
/// opens and reads in `GoferStats`.
fn donated_fd_io_is_coherent_and_counted(mode: InteropMode) {
    let env = Env::new(Backend::OursDonating, mode);
    std::fs::write(env.host("f"), b"0123456789").unwrap();
    let f = env.open("f", OpenFlags::RDWR, 0).unwrap();
    assert_eq!(env.pread(&f, 10, 0).unwrap(), b"0123456789");
    env.pwrite(&f, b"abc", 2).unwrap();
    assert_eq!(std::fs::read(env.host("f")).unwrap(), b"01abc56789");
    {
        use std::os::unix::fs::FileExt;
        let h = std::fs::OpenOptions::new()
            .write(true)
            .open(env.host("f"))
            .unwrap();
        h.write_all_at(b"XY", 8).unwrap();
    }
    assert_eq!(env.pread(&f, 2, 8).unwrap(), b"XY");
    env.close(f).unwrap();
    let stats = env.fs().stats();
    assert_eq!(stats.opens_host.load(Ordering::Relaxed), 1);
    assert_eq!(stats.opens_9p.load(Ordering::Relaxed), 0);
    assert_eq!(stats.reads_host.load(Ordering::Relaxed), 2);
    assert_eq!(stats.reads_9p.load(Ordering::Relaxed), 0);
    env.finish();
}

#[test]
fn donated_fd_io_is_coherent_and_counted_exclusive() {
    donated_fd_io_is_coherent_and_counted(InteropMode::Exclusive);
}

#[test]
fn donated_fd_io_is_coherent_and_counted_writethrough() {
    donated_fd_io_is_coherent_and_counted(InteropMode::Writethrough);
}

#[test]
fn donated_fd_io_is_coherent_and_counted_shared() {
    donated_fd_io_is_coherent_and_counted(InteropMode::Shared);
}
