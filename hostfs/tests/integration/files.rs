//! Regular files, character devices, refused types, stat and set_stat,
//! locks, and closing of the host descriptor.

use abi_linux::{Errno, FlockOp, OpenFlags, StatxMask, Whence};
use hostfs::{HostFile, ImportOptions};
use nix::fcntl::OFlag;
use nix::unistd::Whence as HostWhence;
use vfs_core::{PathOperation, SetStatOptions, StatOptions};

use crate::common::{Env, errno, is_open, open_file, raw, temp_path};

#[test]
fn regular_file_read_write_keeps_sandbox_offset() {
    let env = Env::new();
    let path = temp_path("rw");
    let file = env.import_default(open_file(&path, OFlag::O_RDWR));

    assert_eq!(env.write(&file, b"hello world"), Ok(11));
    assert_eq!(file.seek(&env.ctx, 6, Whence::Set), Ok(6));
    assert_eq!(env.read(&file, 100).unwrap(), b"world");
    assert_eq!(env.pread(&file, 5, 0).unwrap(), b"hello");
    assert_eq!(env.pwrite(&file, b"HELLO", 0), Ok(5));
    // The host file has what the sandbox wrote.
    assert_eq!(std::fs::read(&path).unwrap(), b"HELLO world");
    // pread did not move the offset, which is at the end after the read.
    assert_eq!(file.seek(&env.ctx, 0, Whence::Cur), Ok(11));

    file.release(&env.ctx);
    env.finish();
}

#[test]
fn offset_is_shared_with_the_host_description() {
    let env = Env::new();
    let path = temp_path("shared-offset");
    std::fs::write(&path, b"0123456789").unwrap();
    let host = open_file(&path, OFlag::O_RDWR);
    // A duplicate shares the open file description, as a shell's
    // descriptor shares it with the sandbox's imported stdout.
    let file = env.import_default(nix::unistd::dup(&host).unwrap());

    assert_eq!(nix::unistd::lseek(&host, 4, HostWhence::SeekSet), Ok(4));
    assert_eq!(env.read(&file, 2).unwrap(), b"45");
    assert_eq!(nix::unistd::lseek(&host, 0, HostWhence::SeekCur), Ok(6));
    assert_eq!(env.write(&file, b"ab"), Ok(2));
    assert_eq!(nix::unistd::write(&host, b"c"), Ok(1));
    assert_eq!(std::fs::read(&path).unwrap(), b"012345abc9");
    assert_eq!(file.seek(&env.ctx, 0, Whence::Cur), Ok(9));
    assert_eq!(file.seek(&env.ctx, 1, Whence::Set), Ok(1));
    assert_eq!(nix::unistd::lseek(&host, 0, HostWhence::SeekCur), Ok(1));

    file.release(&env.ctx);
    env.finish();
}

#[test]
fn append_set_only_in_the_sandbox_writes_at_the_end() {
    let env = Env::new();
    let path = temp_path("sandbox-append");
    std::fs::write(&path, b"abc").unwrap();
    let host = open_file(&path, OFlag::O_RDWR);
    let file = env.import_default(nix::unistd::dup(&host).unwrap());
    file.set_status_flags(OpenFlags::APPEND).unwrap();

    assert_eq!(env.write(&file, b"def"), Ok(3));
    assert_eq!(std::fs::read(&path).unwrap(), b"abcdef");
    assert_eq!(nix::unistd::lseek(&host, 0, HostWhence::SeekCur), Ok(6));

    file.release(&env.ctx);
    env.finish();
}

#[test]
fn append_writes_at_end_of_file() {
    let env = Env::new();
    let path = temp_path("append");
    std::fs::write(&path, b"abc").unwrap();
    let file = env.import_default(open_file(&path, OFlag::O_WRONLY | OFlag::O_APPEND));

    assert!(file.status_flags().contains(OpenFlags::APPEND));
    assert_eq!(env.write(&file, b"def"), Ok(3));
    assert_eq!(std::fs::read(&path).unwrap(), b"abcdef");

    file.release(&env.ctx);
    env.finish();
}

#[test]
fn seek_errors_match_host_lseek() {
    let env = Env::new();
    let path = temp_path("seek");
    std::fs::write(&path, b"0123456789").unwrap();
    let host = open_file(&path, OFlag::O_RDONLY);
    let file = env.import_default(open_file(&path, OFlag::O_RDONLY));

    let cases = [
        (-1, Whence::Set, HostWhence::SeekSet),
        (-11, Whence::End, HostWhence::SeekEnd),
        (i64::MAX, Whence::End, HostWhence::SeekEnd),
        (10, Whence::Data, HostWhence::SeekData),
        (20, Whence::Hole, HostWhence::SeekHole),
    ];
    for (offset, whence, host_whence) in cases {
        let expected = nix::unistd::lseek(&host, offset, host_whence).map_err(errno);
        assert_eq!(
            file.seek(&env.ctx, offset, whence),
            expected,
            "lseek({offset}, {whence:?})"
        );
    }
    // SEEK_DATA and SEEK_HOLE inside the file agree with the host.
    assert_eq!(
        file.seek(&env.ctx, 3, Whence::Data),
        nix::unistd::lseek(&host, 3, HostWhence::SeekData).map_err(errno)
    );
    assert_eq!(
        file.seek(&env.ctx, 3, Whence::Hole),
        nix::unistd::lseek(&host, 3, HostWhence::SeekHole).map_err(errno)
    );
    // Overflow of SEEK_CUR: Linux answers EOVERFLOW from a positive offset.
    assert_eq!(file.seek(&env.ctx, 5, Whence::Set), Ok(5));
    nix::unistd::lseek(&host, 5, HostWhence::SeekSet).unwrap();
    assert_eq!(
        file.seek(&env.ctx, i64::MAX, Whence::Cur),
        nix::unistd::lseek(&host, i64::MAX, HostWhence::SeekCur).map_err(errno)
    );

    file.release(&env.ctx);
    env.finish();
}

#[test]
fn unsupported_rwf_flags_are_eopnotsupp() {
    let env = Env::new();
    let file = env.import_default(open_file(&temp_path("rwf"), OFlag::O_RDWR));
    let mut buf = [0u8; 4];
    let opts = vfs_core::ReadOptions {
        flags: abi_linux::RwfFlags::NOWAIT,
    };
    assert_eq!(
        file.pread(
            &env.ctx,
            &mut vfs_core::io::SliceDest::new(&mut buf),
            0,
            opts
        ),
        Err(Errno::EOPNOTSUPP)
    );
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn directory_and_epoll_descriptors_are_eperm() {
    let env = Env::new();
    let dir = nix::fcntl::open(
        &std::env::temp_dir(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .unwrap();
    let dir_raw = raw(&dir);
    assert_eq!(
        env.import(dir, &ImportOptions::default()).err(),
        Some(Errno::EPERM)
    );
    // A failed import still owns the descriptor: it is closed.
    assert!(!is_open(dir_raw));

    let epoll =
        nix::sys::epoll::Epoll::new(nix::sys::epoll::EpollCreateFlags::EPOLL_CLOEXEC).unwrap();
    assert_eq!(
        env.import(epoll.0, &ImportOptions::default()).err(),
        Some(Errno::EPERM)
    );

    let udp = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Inet,
        nix::sys::socket::SockType::Datagram,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    assert_eq!(
        env.import(udp, &ImportOptions::default()).err(),
        Some(Errno::EPERM)
    );
    env.finish();
}

#[test]
fn flags_are_masked_to_supported_ones() {
    let env = Env::new();
    let fd = open_file(&temp_path("flags"), OFlag::O_RDWR);
    let opts = ImportOptions {
        flags: Some(OpenFlags::RDWR | OpenFlags::NOATIME | OpenFlags::ASYNC | OpenFlags::DSYNC),
        ..ImportOptions::default()
    };
    let file = env.import(fd, &opts).unwrap();
    assert_eq!(file.status_flags(), OpenFlags::RDWR | OpenFlags::DSYNC);
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn host_flags_are_read_with_f_getfl() {
    let env = Env::new();
    let file = env.import_default(open_file(&temp_path("getfl"), OFlag::O_WRONLY));
    assert_eq!(file.status_flags(), OpenFlags::WRONLY);
    // Reading a write-only description is EBADF, as on the host.
    assert_eq!(env.read(&file, 1).err(), Some(Errno::EBADF));
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn stat_uses_sandbox_inode_and_device_numbers() {
    let env = Env::new();
    let null = open_file(&"/dev/null".into(), OFlag::O_RDWR);
    let host = nix::sys::stat::fstat(&null).unwrap();
    let file = env.import_default(null);

    let st = file.stat(&env.ctx, StatOptions::default()).unwrap();
    let fs_dev = env.mount().filesystem().dev();
    assert_eq!(st.stx_dev_major, 0);
    assert_eq!(st.stx_dev_minor, abi_linux::dev_minor(fs_dev));
    // The host's device number of /dev/null (1:3) is never shown.
    assert_ne!(host.st_rdev, 0);
    assert_eq!((st.stx_rdev_major, st.stx_rdev_minor), (0, 0));
    assert_eq!(u32::from(st.stx_mode), host.st_mode);
    assert_eq!(st.stx_uid, host.st_uid);
    assert!(StatxMask::from_bits_truncate(st.stx_mask).contains(StatxMask::INO));
    assert_ne!(st.stx_ino, host.st_ino);

    let reserved = StatOptions {
        mask: StatxMask::RESERVED,
        sync: 0,
    };
    assert_eq!(file.stat(&env.ctx, reserved).err(), Some(Errno::EINVAL));
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn set_stat_changes_size_mode_and_times_only() {
    let env = Env::new();
    let path = temp_path("setstat");
    std::fs::write(&path, b"0123456789").unwrap();
    let file = env.import_default(open_file(&path, OFlag::O_RDWR));

    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = (StatxMask::SIZE | StatxMask::MODE | StatxMask::MTIME).bits();
    opts.stat.stx_size = 4;
    opts.stat.stx_mode = 0o600;
    opts.stat.stx_mtime.tv_sec = 1_000_000;
    file.set_stat(&env.ctx, opts).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.len(), 4);
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777,
        0o600
    );
    assert_eq!(std::os::unix::fs::MetadataExt::mtime(&meta), 1_000_000);

    let mut chown = SetStatOptions::default();
    chown.stat.stx_mask = StatxMask::UID.bits();
    chown.stat.stx_uid = 1234;
    assert_eq!(file.set_stat(&env.ctx, chown).err(), Some(Errno::EPERM));

    file.release(&env.ctx);
    env.finish();
}

#[test]
fn truncate_of_a_character_device_is_einval() {
    let env = Env::new();
    let host = open_file(&"/dev/null".into(), OFlag::O_RDWR);
    let expected = nix::unistd::ftruncate(&host, 0).map_err(errno);
    let file = env.import_default(host);
    let mut opts = SetStatOptions::default();
    opts.stat.stx_mask = StatxMask::SIZE.bits();
    assert_eq!(file.set_stat(&env.ctx, opts), expected);
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn virtual_owner_is_shown_and_changed_in_the_sandbox() {
    let env = Env::new();
    let path = temp_path("owner");
    let opts = ImportOptions {
        virtual_owner: Some((1000, 1000)),
        ..ImportOptions::default()
    };
    let file = env.import(open_file(&path, OFlag::O_RDWR), &opts).unwrap();
    let st = file.stat(&env.ctx, StatOptions::default()).unwrap();
    assert_eq!((st.stx_uid, st.stx_gid), (1000, 1000));

    let mut chown = SetStatOptions::default();
    chown.stat.stx_mask = (StatxMask::UID | StatxMask::MODE).bits();
    chown.stat.stx_uid = 2000;
    chown.stat.stx_mode = 0o640;
    file.set_stat(&env.ctx, chown).unwrap();
    let st = file.stat(&env.ctx, StatOptions::default()).unwrap();
    assert_eq!(st.stx_uid, 2000);
    assert_eq!(u32::from(st.stx_mode) & 0o7777, 0o640);
    // The host file is untouched.
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777,
        0o644
    );

    file.release(&env.ctx);
    env.finish();
}

#[test]
fn readonly_import_refuses_changes() {
    let env = Env::new();
    let path = temp_path("ro");
    std::fs::write(&path, b"data").unwrap();
    let opts = ImportOptions {
        readonly: true,
        ..ImportOptions::default()
    };
    assert_eq!(
        env.import(open_file(&path, OFlag::O_RDWR), &opts).err(),
        Some(Errno::EINVAL)
    );
    let file = env
        .import(open_file(&path, OFlag::O_RDONLY), &opts)
        .unwrap();
    assert_eq!(env.read(&file, 10).unwrap(), b"data");
    let mut truncate = SetStatOptions::default();
    truncate.stat.stx_mask = StatxMask::SIZE.bits();
    assert_eq!(file.set_stat(&env.ctx, truncate).err(), Some(Errno::EPERM));
    assert_eq!(file.sync(&env.ctx).err(), Some(Errno::EPERM));
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn dev_zero_and_dev_null_read_and_write_as_on_host() {
    let env = Env::new();
    let zero = env.import_default(open_file(&"/dev/zero".into(), OFlag::O_RDWR));
    assert_eq!(env.read(&zero, 8).unwrap(), vec![0u8; 8]);
    assert_eq!(env.write(&zero, b"ignored"), Ok(7));
    let null = env.import_default(open_file(&"/dev/null".into(), OFlag::O_RDWR));
    assert_eq!(env.read(&null, 8).unwrap(), b"");
    assert_eq!(env.write(&null, b"gone"), Ok(4));
    // mmap of a character device: the seed allows regular files only.
    let mut mmap = vfs_core::memmap::MmapOpts {
        length: 4096,
        ..Default::default()
    };
    assert_eq!(
        zero.configure_mmap(&env.ctx, &mut mmap).err(),
        Some(Errno::ENODEV)
    );
    zero.release(&env.ctx);
    null.release(&env.ctx);
    env.finish();
}

#[test]
fn host_fd_is_closed_once_when_last_reference_goes() {
    let env = Env::new();
    let file = env.import_default(open_file(&temp_path("close"), OFlag::O_RDWR));
    let host = file.downcast::<HostFile>().unwrap().host_fd();
    let second = file.clone();
    file.release(&env.ctx);
    assert!(is_open(host));
    second.release(&env.ctx);
    assert!(!is_open(host));
    env.finish();
}

#[test]
fn flock_is_kept_in_the_sandbox() {
    let env = Env::new();
    let path = temp_path("flock");
    let file = env.import_default(open_file(&path, OFlag::O_RDWR));
    // A second description of the same inode, reopened through its path.
    let vd = file.virtual_dentry();
    let again = env
        .vfs
        .open_at(
            &env.ctx,
            &PathOperation::new(&vd, &vd, b""),
            vfs_core::OpenOptions {
                flags: OpenFlags::RDWR,
                ..Default::default()
            },
        )
        .unwrap();
    vd.release(&env.ctx);

    file.lock_bsd(&env.ctx, FlockOp::EX).unwrap();
    // Linux refuses a conflicting flock from another open file description
    // with EWOULDBLOCK.
    let host_a = open_file(&path, OFlag::O_RDWR);
    let host_b = open_file(&path, OFlag::O_RDWR);
    let _held =
        nix::fcntl::Flock::lock(host_a, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
    let host_err =
        match nix::fcntl::Flock::lock(host_b, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Err((_, e)) => errno(e),
            Ok(_) => panic!("the host granted a conflicting flock"),
        };
    assert_eq!(
        again.lock_bsd(&env.ctx, FlockOp::EX | FlockOp::NB).err(),
        Some(host_err)
    );
    // The sandbox's lock was not forwarded: the host lock above succeeded.
    again.release(&env.ctx);
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn device_minor_is_released_with_the_filesystem() {
    let env = Env::new();
    let minor = abi_linux::dev_minor(env.mount().filesystem().dev());
    let vfs = env.vfs.clone();
    env.finish();
    // The released minor is the lowest free one again.
    let again = vfs.get_anonymous_block_dev_minor().unwrap();
    assert_eq!(again, minor);
    vfs.put_anonymous_block_dev_minor(again);
}
