//! The running Linux kernel as the oracle for this crate's ABI.
//!
//! Each test makes a real system call with this crate's structures and
//! constants and checks what the kernel wrote against libc's view of the
//! same state, or against what Linux documents the call to return. Some of
//! them cover constants the `libc` crate lacks (`O_LARGEFILE`, `F_SETSIG`,
//! `SA_RESTORER`, `SA_UNSUPPORTED`, `SS_AUTODISARM`, `ARCH_GET_FS`, the
//! capability versions, `ST_VALID` in `f_flags`).

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use abi_linux::syscalls::x86_64 as nr;
use abi_linux::*;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use zerocopy::{FromBytes, FromZeros, IntoBytes};

/// Makes a raw system call and returns its result or the errno.
///
/// # Safety
///
/// The arguments must be valid for system call `n`: pointers must point to
/// memory of the size and mutability the call expects.
unsafe fn syscall(n: u32, args: &[u64]) -> Result<i64> {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: the caller guarantees the arguments suit the call; unused
    // arguments are zero.
    let r = unsafe { libc::syscall(i64::from(n), a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r < 0 {
        let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        Err(Errno::from_raw(e).expect("the kernel returns known errnos"))
    } else {
        Ok(r)
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("abi-linux-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(path: &Path, flags: OpenFlags) -> OwnedFd {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    let fd = unsafe {
        syscall(
            nr::OPENAT,
            &[
                AT_FDCWD as u64,
                c.as_ptr() as u64,
                u64::from(flags.bits()),
                0o600,
            ],
        )
    }
    .unwrap();
    // SAFETY: the kernel just returned `fd` as a new descriptor we own.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// The kernel leaves the padding after the NUL untouched, so the buffer
/// starts zeroed; every record `write_dirent64` writes for the kernel's
/// (ino, off, type, name) must then be byte-identical to the kernel's.
#[test]
fn write_dirent64_matches_getdents64_byte_for_byte() {
    let dir = TempDir::new("dirents");
    for len in 1..=20 {
        std::fs::write(dir.0.join("f".repeat(len)), b"").unwrap();
    }
    std::fs::create_dir(dir.0.join("sub")).unwrap();
    std::os::unix::fs::symlink("target", dir.0.join("link")).unwrap();
    let fd = open(&dir.0, OpenFlags::DIRECTORY | OpenFlags::CLOEXEC);

    let mut kernel = vec![0u8; 65536];
    let mut records = 0;
    let mut names = Vec::new();
    loop {
        kernel.fill(0);
        // SAFETY: `kernel` is a writable buffer of the given length.
        let n = unsafe {
            syscall(
                nr::GETDENTS64,
                &[
                    fd.as_raw_fd() as u64,
                    kernel.as_mut_ptr() as u64,
                    kernel.len() as u64,
                    0,
                ],
            )
        }
        .unwrap();
        if n == 0 {
            break;
        }
        let mut at = 0;
        while at < n as usize {
            let (h, _) = Dirent64Header::read_from_prefix(&kernel[at..]).unwrap();
            let reclen = usize::from(h.d_reclen);
            let record = &kernel[at..at + reclen];
            let name_end = record[DIRENT64_NAME_OFFSET..]
                .iter()
                .position(|&b| b == 0)
                .unwrap()
                + DIRENT64_NAME_OFFSET;
            let name = &record[DIRENT64_NAME_OFFSET..name_end];

            let mut ours = vec![0xaau8; reclen + 8];
            let written = write_dirent64(&mut ours, h.d_ino, h.d_off, h.d_type, name);
            assert_eq!(written, Some(reclen), "{:?}", String::from_utf8_lossy(name));
            assert_eq!(dirent64_reclen(name.len()), reclen);
            assert_eq!(
                &ours[..reclen],
                record,
                "{:?}",
                String::from_utf8_lossy(name)
            );
            assert_eq!(
                write_dirent64(&mut ours[..reclen - 1], h.d_ino, h.d_off, h.d_type, name),
                None
            );

            names.push((name.to_vec(), h.d_type));
            records += 1;
            at += reclen;
        }
    }
    // ".", "..", 20 files, a directory and a symlink.
    assert_eq!(records, 24);
    assert!(names.contains(&(b"sub".to_vec(), DT_DIR)));
    assert!(names.contains(&(b"link".to_vec(), DT_LNK)));
    assert!(names.contains(&(b"fffff".to_vec(), DT_REG)));
}

#[test]
fn statx_and_stat_read_what_libc_reads() {
    let dir = TempDir::new("stat");
    let file = dir.0.join("file");
    std::fs::write(&file, b"hello, world").unwrap();
    let c = CString::new(file.as_os_str().as_encoded_bytes()).unwrap();

    let mut ours = Statx::new_zeroed();
    let mask = (StatxMask::BASIC_STATS | StatxMask::BTIME | StatxMask::MNT_ID).bits();
    // SAFETY: `c` is a NUL-terminated path; `ours` is a writable statx.
    unsafe {
        syscall(
            nr::STATX,
            &[
                AT_FDCWD as u64,
                c.as_ptr() as u64,
                0,
                u64::from(mask),
                ours.as_mut_bytes().as_mut_ptr() as u64,
            ],
        )
    }
    .unwrap();
    // SAFETY: all-zero bytes are a valid `libc::statx`.
    let mut theirs: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path; `theirs` is a writable statx.
    let r = unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), 0, mask, &mut theirs) };
    assert_eq!(r, 0);
    assert_eq!(ours.stx_ino, theirs.stx_ino);
    assert_eq!(ours.stx_size, 12);
    assert_eq!(ours.stx_mode, theirs.stx_mode);
    assert!(FileMode(u32::from(ours.stx_mode)).is_regular());
    assert_eq!(
        (ours.stx_uid, ours.stx_gid, ours.stx_nlink),
        (theirs.stx_uid, theirs.stx_gid, 1)
    );
    assert_eq!(ours.stx_mtime.tv_sec, theirs.stx_mtime.tv_sec);
    assert_eq!(ours.stx_mtime.tv_nsec, theirs.stx_mtime.tv_nsec);
    assert_eq!(
        (ours.stx_dev_major, ours.stx_dev_minor),
        (theirs.stx_dev_major, theirs.stx_dev_minor)
    );
    assert_eq!(ours.stx_mnt_id, theirs.stx_mnt_id);
    assert!(StatxMask::from_bits_retain(ours.stx_mask).contains(StatxMask::BASIC_STATS));

    let fd = open(&file, OpenFlags::CLOEXEC);
    let mut st = Stat::new_zeroed();
    // SAFETY: `st` is a writable `struct stat` of this architecture.
    unsafe {
        syscall(
            nr::FSTAT,
            &[
                fd.as_raw_fd() as u64,
                st.as_mut_bytes().as_mut_ptr() as u64,
                0,
                0,
            ],
        )
    }
    .unwrap();
    // SAFETY: all-zero bytes are a valid `libc::stat`.
    let mut lst: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `lst` is a writable `struct stat`.
    assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut lst) }, 0);
    assert_eq!(
        (st.st_dev, st.st_ino, st.st_mode, st.st_size),
        (lst.st_dev, lst.st_ino, lst.st_mode, lst.st_size)
    );
    assert_eq!(
        (st.st_mtime, st.st_mtime_nsec, st.st_blocks),
        (lst.st_mtime, lst.st_mtime_nsec, lst.st_blocks)
    );
    assert_eq!(make_dev(ours.stx_dev_major, ours.stx_dev_minor), st.st_dev);
}

/// `ST_VALID`: Linux sets it in `f_flags` to say the field is filled in.
const ST_VALID: i64 = 0x20;

#[test]
fn statfs_reports_flags_libc_hides() {
    let dir = TempDir::new("statfs");
    let c = CString::new(dir.0.as_os_str().as_encoded_bytes()).unwrap();
    let mut ours = Statfs::new_zeroed();
    // SAFETY: `c` is a NUL-terminated path; `ours` is a writable statfs.
    unsafe {
        syscall(
            nr::STATFS,
            &[
                c.as_ptr() as u64,
                ours.as_mut_bytes().as_mut_ptr() as u64,
                0,
                0,
            ],
        )
    }
    .unwrap();
    // SAFETY: all-zero bytes are a valid `libc::statfs`.
    let mut theirs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path; `theirs` is a writable statfs.
    assert_eq!(unsafe { libc::statfs(c.as_ptr(), &mut theirs) }, 0);
    assert_eq!(
        (ours.f_type, ours.f_bsize, ours.f_blocks),
        (theirs.f_type, theirs.f_bsize, theirs.f_blocks)
    );
    assert_eq!(
        (ours.f_namelen, ours.f_frsize),
        (theirs.f_namelen, theirs.f_frsize)
    );
    assert_ne!(ours.f_flags & ST_VALID, 0);
}

#[test]
fn open_flags_read_back_with_kernel_values() {
    let dir = TempDir::new("flags");
    let fd = open(
        &dir.0.join("f"),
        OpenFlags::CREAT | OpenFlags::RDWR | OpenFlags::APPEND | OpenFlags::NONBLOCK,
    );
    // SAFETY: F_GETFL takes no pointer.
    let fl = unsafe {
        syscall(
            nr::FCNTL,
            &[fd.as_raw_fd() as u64, FcntlCmd::GETFL.0 as u64, 0, 0],
        )
    }
    .unwrap();
    let fl = OpenFlags::from_bits_retain(fl as u32);
    // A 64-bit kernel forces O_LARGEFILE on, which GNU libc defines as 0.
    assert!(fl.contains(OpenFlags::LARGEFILE | OpenFlags::APPEND | OpenFlags::NONBLOCK));
    assert_eq!(fl.access_mode(), AccessMode::ReadWrite);

    // F_SETSIG and F_GETSIG are missing from libc.
    // SAFETY: F_SETSIG and F_GETSIG take integers.
    unsafe {
        syscall(
            nr::FCNTL,
            &[
                fd.as_raw_fd() as u64,
                FcntlCmd::SETSIG.0 as u64,
                Signal::SIGUSR1.0 as u64,
                0,
            ],
        )
    }
    .unwrap();
    // SAFETY: as above.
    let sig = unsafe {
        syscall(
            nr::FCNTL,
            &[fd.as_raw_fd() as u64, FcntlCmd::GETSIG.0 as u64, 0, 0],
        )
    }
    .unwrap();
    assert_eq!(sig, i64::from(Signal::SIGUSR1.0));
}

/// Reads the kernel's `struct sigaction` for `sig` with `rt_sigaction(2)`.
fn kernel_sigaction(sig: Signal) -> SigAction {
    let mut old = SigAction::default();
    // SAFETY: `old` is a writable kernel sigaction; the set size is 8.
    unsafe {
        syscall(
            nr::RT_SIGACTION,
            &[sig.0 as u64, 0, old.as_mut_bytes().as_mut_ptr() as u64, 8],
        )
    }
    .unwrap();
    old
}

extern "C" fn ignore_signal(_: libc::c_int) {}

#[test]
fn sigaction_layout_matches_the_kernel() {
    let sig = Signal::SIGURG;
    // SAFETY: all-zero bytes are a valid `libc::sigaction`.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = ignore_signal as *const () as usize;
    sa.sa_flags = libc::SA_RESTART | libc::SA_SIGINFO;
    // SAFETY: `sa.sa_mask` is a valid sigset_t.
    unsafe { libc::sigaddset(&mut sa.sa_mask, Signal::SIGUSR1.0) };
    // SAFETY: `sa` is a valid sigaction whose handler does nothing.
    let r = unsafe { libc::sigaction(sig.0, &sa, std::ptr::null_mut()) };
    assert_eq!(r, 0);

    let k = kernel_sigaction(sig);
    assert_eq!(k.handler, ignore_signal as *const () as u64);
    let flags = SaFlags::from_bits_retain(k.flags);
    // GNU libc always installs its own restorer.
    assert!(
        flags.contains(SaFlags::RESTART | SaFlags::SIGINFO | SaFlags::RESTORER),
        "{flags:?}"
    );
    assert_ne!(k.restorer, 0);
    assert!(k.mask.contains(Signal::SIGUSR1));

    // Linux clears SA_UNSUPPORTED so programs can probe for flag support.
    let probe = SigAction {
        flags: (flags | SaFlags::UNSUPPORTED).bits(),
        ..k
    };
    // SAFETY: `probe` is a kernel sigaction with the same harmless handler.
    unsafe {
        syscall(
            nr::RT_SIGACTION,
            &[sig.0 as u64, probe.as_bytes().as_ptr() as u64, 0, 8],
        )
    }
    .unwrap();
    assert!(!SaFlags::from_bits_retain(kernel_sigaction(sig).flags).contains(SaFlags::UNSUPPORTED));

    let default = SigAction {
        handler: signal::SIG_DFL,
        ..SigAction::default()
    };
    // SAFETY: restoring the default action.
    unsafe {
        syscall(
            nr::RT_SIGACTION,
            &[sig.0 as u64, default.as_bytes().as_ptr() as u64, 0, 8],
        )
    }
    .unwrap();
}

#[test]
fn sigaltstack_reads_back_with_autodisarm() {
    let mut stack = vec![0u8; 65536];
    let new = SignalStack {
        ss_sp: stack.as_mut_ptr() as u64,
        ss_flags: signal::SS_AUTODISARM,
        _pad: 0,
        ss_size: stack.len() as u64,
    };
    let mut old = SignalStack::default();
    // SAFETY: `new` names memory that stays alive until the stack is
    // disabled below; `old` is writable. This test's thread is not
    // handling a signal.
    unsafe {
        syscall(
            nr::SIGALTSTACK,
            &[
                new.as_bytes().as_ptr() as u64,
                old.as_mut_bytes().as_mut_ptr() as u64,
                0,
                0,
            ],
        )
    }
    .unwrap();
    let mut cur = SignalStack::default();
    // SAFETY: `cur` is writable.
    unsafe {
        syscall(
            nr::SIGALTSTACK,
            &[0, cur.as_mut_bytes().as_mut_ptr() as u64, 0, 0],
        )
    }
    .unwrap();
    assert_eq!((cur.ss_sp, cur.ss_size), (new.ss_sp, new.ss_size));
    assert_eq!(cur.ss_flags, signal::SS_AUTODISARM);
    let off = SignalStack {
        ss_flags: signal::SS_DISABLE,
        ..SignalStack::default()
    };
    // SAFETY: disabling the stack before `stack` is freed.
    unsafe { syscall(nr::SIGALTSTACK, &[off.as_bytes().as_ptr() as u64, 0, 0, 0]) }.unwrap();
}

#[test]
fn siginfo_of_tgkill_names_the_sender() {
    let sig = Signal::SIGUSR1;
    let mut set = SignalSet::empty();
    set.insert(sig);
    // SAFETY: blocking SIGUSR1 in this thread only; the set is 8 bytes.
    unsafe {
        syscall(
            nr::RT_SIGPROCMASK,
            &[SIG_BLOCK as u64, set.as_bytes().as_ptr() as u64, 0, 8],
        )
    }
    .unwrap();
    // SAFETY: plain integer system calls.
    let (pid, tid, uid) = unsafe { (libc::getpid(), libc::gettid(), libc::getuid()) };
    // SAFETY: the signal is blocked in the target thread, this one.
    unsafe { syscall(nr::TGKILL, &[pid as u64, tid as u64, sig.0 as u64, 0]) }.unwrap();
    let mut info = SigInfo::default();
    // SAFETY: `set` is a readable sigset and `info` a writable siginfo;
    // no timeout, but the signal is already pending.
    let got = unsafe {
        syscall(
            nr::RT_SIGTIMEDWAIT,
            &[
                set.as_bytes().as_ptr() as u64,
                info.as_mut_bytes().as_mut_ptr() as u64,
                0,
                8,
            ],
        )
    }
    .unwrap();
    assert_eq!(got, i64::from(sig.0));
    assert_eq!((info.signo, info.code), (sig.0, signal::SI_TKILL));
    assert_eq!((info.pid(), info.uid()), (pid, uid));
    // SAFETY: unblocking again.
    unsafe {
        syscall(
            nr::RT_SIGPROCMASK,
            &[SIG_UNBLOCK as u64, set.as_bytes().as_ptr() as u64, 0, 8],
        )
    }
    .unwrap();
}

/// `CLD_EXITED`: `si_code` of a child that exited.
const CLD_EXITED: i32 = 1;

#[test]
fn siginfo_of_waitid_carries_the_exit_status() {
    // SAFETY: the child only calls `_exit`, which is async-signal-safe.
    let child = unsafe { libc::fork() };
    if child == 0 {
        // SAFETY: terminating the child without running anything else.
        unsafe { libc::_exit(7) };
    }
    assert!(child > 0);
    let mut info = SigInfo::default();
    // SAFETY: `info` is a writable siginfo; the rusage pointer is null.
    unsafe {
        syscall(
            nr::WAITID,
            &[
                process::P_PID as u64,
                child as u64,
                info.as_mut_bytes().as_mut_ptr() as u64,
                u64::from(WaitOptions::EXITED.bits()),
            ],
        )
    }
    .unwrap();
    assert_eq!((info.signo, info.code), (Signal::SIGCHLD.0, CLD_EXITED));
    // SAFETY: plain integer system call.
    let uid = unsafe { libc::getuid() };
    assert_eq!((info.pid(), info.status(), info.uid()), (child, 7, uid));
}

#[test]
fn capget_reports_version_3_and_the_effective_set() {
    let mut hdr = CapUserHeader { version: 0, pid: 0 };
    // SAFETY: `hdr` is a writable header; with an unknown version and a
    // null data pointer Linux stores its preferred version and succeeds.
    let r = unsafe { syscall(nr::CAPGET, &[hdr.as_mut_bytes().as_mut_ptr() as u64, 0]) };
    assert_eq!(r, Ok(0));
    assert_eq!(hdr.version, capability::LINUX_CAPABILITY_VERSION_3);

    let mut data = [CapUserData::default(); 2];
    // SAFETY: version 3 writes two data structures.
    unsafe {
        syscall(
            nr::CAPGET,
            &[
                hdr.as_mut_bytes().as_mut_ptr() as u64,
                data.as_mut_bytes().as_mut_ptr() as u64,
                0,
                0,
            ],
        )
    }
    .unwrap();
    let eff = u64::from(data[0].effective) | u64::from(data[1].effective) << 32;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .unwrap();
    assert_eq!(eff, u64::from_str_radix(line.trim(), 16).unwrap());

    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(Capability::LAST.raw(), last);
    assert_eq!(CapabilitySet::full().bits(), (1u64 << (last + 1)) - 1);
}

#[test]
fn arch_get_fs_returns_the_thread_pointer() {
    let mut base = 0u64;
    // SAFETY: ARCH_GET_FS stores 8 bytes at the writable `base`.
    unsafe {
        syscall(
            nr::ARCH_PRCTL,
            &[
                process::ARCH_GET_FS as u64,
                &mut base as *mut u64 as u64,
                0,
                0,
            ],
        )
    }
    .unwrap();
    let self_ptr: u64;
    // SAFETY: on x86_64 Linux the word at fs:0 is the thread control
    // block's pointer to itself, which is the FS base.
    unsafe {
        core::arch::asm!("mov {}, qword ptr fs:0", out(reg) self_ptr, options(nostack, readonly, preserves_flags))
    };
    assert_eq!(base, self_ptr);
}

#[test]
fn auxv_ids_return_what_the_kernel_passed() {
    // SAFETY: `getauxval` and the id calls have no preconditions.
    unsafe {
        assert_eq!(
            libc::getauxval(auxv::AT_PAGESZ),
            libc::sysconf(libc::_SC_PAGESIZE) as u64
        );
        assert_eq!(
            libc::getauxval(auxv::AT_CLKTCK),
            libc::sysconf(libc::_SC_CLK_TCK) as u64
        );
        assert_eq!(libc::getauxval(auxv::AT_UID), u64::from(libc::getuid()));
        assert_eq!(libc::getauxval(auxv::AT_EUID), u64::from(libc::geteuid()));
        assert_eq!(libc::getauxval(auxv::AT_GID), u64::from(libc::getgid()));
        assert_eq!(libc::getauxval(auxv::AT_EGID), u64::from(libc::getegid()));
        assert_eq!(libc::getauxval(auxv::AT_PHENT), 56);
        assert_ne!(libc::getauxval(auxv::AT_RANDOM), 0);
        assert_ne!(libc::getauxval(auxv::AT_SYSINFO_EHDR), 0);
        // Linux 6.3 and later pass the rseq values; libc lacks the ids.
        let size = libc::getauxval(auxv::AT_RSEQ_FEATURE_SIZE);
        if size != 0 {
            assert!(size >= 20, "{size}");
            assert!(libc::getauxval(auxv::AT_RSEQ_ALIGN).is_power_of_two());
        }
    }
}

#[test]
fn prlimit_fills_rlimit_and_refuses_unknown_resources() {
    let mut ours = Rlimit::default();
    // SAFETY: `ours` is a writable rlimit64; no new limit is set.
    unsafe {
        syscall(
            nr::PRLIMIT64,
            &[
                0,
                RlimitResource::NOFILE as u64,
                0,
                ours.as_mut_bytes().as_mut_ptr() as u64,
            ],
        )
    }
    .unwrap();
    let mut theirs = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `theirs` is a writable rlimit.
    let r = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut theirs) };
    assert_eq!(r, 0);
    assert_eq!((ours.cur, ours.max), (theirs.rlim_cur, theirs.rlim_max));
    let count = RlimitResource::COUNT as u64;
    // SAFETY: as above.
    let r = unsafe {
        syscall(
            nr::PRLIMIT64,
            &[0, count, 0, ours.as_mut_bytes().as_mut_ptr() as u64],
        )
    };
    assert_eq!(r, Err(Errno::EINVAL));
    assert_eq!(RlimitResource::from_raw(RlimitResource::COUNT as u32), None);
}

#[test]
fn epoll_and_poll_report_through_our_structures() {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: the kernel just returned these descriptors; we own them.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: plain integer system call.
    let ep = unsafe {
        syscall(
            nr::EPOLL_CREATE1,
            &[u64::from(epoll::EPOLL_CLOEXEC), 0, 0, 0],
        )
    }
    .unwrap();
    // SAFETY: the kernel just returned `ep`; we own it.
    let ep = unsafe { OwnedFd::from_raw_fd(ep as i32) };
    let data = 0xdead_beef_0000_0001u64;
    #[expect(
        clippy::needless_update,
        reason = "the padding field exists only off x86_64"
    )]
    let ev = EpollEvent {
        events: EpollEvents::OUT.bits(),
        data,
        ..EpollEvent::default()
    };
    // SAFETY: `ev` is a readable epoll_event.
    unsafe {
        syscall(
            nr::EPOLL_CTL,
            &[
                ep.as_raw_fd() as u64,
                EPOLL_CTL_ADD as u64,
                w.as_raw_fd() as u64,
                ev.as_bytes().as_ptr() as u64,
            ],
        )
    }
    .unwrap();
    let mut out = [EpollEvent::default(); 4];
    // SAFETY: `out` has room for four events; timeout 0.
    let n = unsafe {
        syscall(
            nr::EPOLL_WAIT,
            &[
                ep.as_raw_fd() as u64,
                out.as_mut_bytes().as_mut_ptr() as u64,
                4,
                0,
            ],
        )
    }
    .unwrap();
    assert_eq!(n, 1);
    let (events, got) = (out[0].events, out[0].data);
    assert_eq!(
        (EpollEvents::from_bits_retain(events), got),
        (EpollEvents::OUT, data)
    );

    let mut pfds = [
        Pollfd {
            fd: r.as_raw_fd(),
            events: PollEvents::IN.bits(),
            revents: 0,
        },
        Pollfd {
            fd: w.as_raw_fd(),
            events: (PollEvents::OUT | PollEvents::WRNORM).bits(),
            revents: 0,
        },
    ];
    // SAFETY: `pfds` is a writable array of two pollfds; timeout 0.
    let n = unsafe {
        syscall(
            nr::POLL,
            &[pfds.as_mut_bytes().as_mut_ptr() as u64, 2, 0, 0],
        )
    }
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(pfds[0].revents, 0);
    assert_eq!(
        PollEvents::from_bits_retain(pfds[1].revents),
        PollEvents::OUT | PollEvents::WRNORM
    );
}

#[test]
fn uname_and_sysinfo_read_what_libc_reads() {
    let mut ours = Utsname::default();
    // SAFETY: `ours` is a writable new_utsname.
    unsafe {
        syscall(
            nr::UNAME,
            &[ours.as_mut_bytes().as_mut_ptr() as u64, 0, 0, 0],
        )
    }
    .unwrap();
    // SAFETY: all-zero bytes are a valid `libc::utsname`.
    let mut theirs: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `theirs` is writable.
    assert_eq!(unsafe { libc::uname(&mut theirs) }, 0);
    assert_eq!(
        ours.release.as_bytes(),
        theirs.release.map(|c| c as u8).as_bytes()
    );
    assert_eq!(&ours.sysname[..6], b"Linux\0");
    assert_eq!(&ours.machine[..7], b"x86_64\0");

    let mut si = Sysinfo::default();
    // SAFETY: `si` is a writable sysinfo.
    unsafe {
        syscall(
            nr::SYSINFO,
            &[si.as_mut_bytes().as_mut_ptr() as u64, 0, 0, 0],
        )
    }
    .unwrap();
    // SAFETY: all-zero bytes are a valid `libc::sysinfo`.
    let mut lsi: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: `lsi` is writable.
    assert_eq!(unsafe { libc::sysinfo(&mut lsi) }, 0);
    assert_eq!(
        (si.totalram, si.mem_unit, si.totalswap),
        (lsi.totalram, lsi.mem_unit, lsi.totalswap)
    );
    assert!(si.procs > 0);
}

#[test]
fn timerfd_round_trips_an_itimerspec() {
    // SAFETY: plain integer system call.
    let fd = unsafe {
        syscall(
            nr::TIMERFD_CREATE,
            &[
                ClockId::MONOTONIC.0 as u64,
                u64::from(OpenFlags::CLOEXEC.bits()),
                0,
                0,
            ],
        )
    }
    .unwrap();
    // SAFETY: the kernel just returned `fd`; we own it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let set = Itimerspec {
        it_interval: Timespec::from_nanos(1_500_000_000),
        it_value: Timespec {
            tv_sec: 100,
            tv_nsec: 0,
        },
    };
    // SAFETY: `set` is a readable itimerspec; no old value.
    unsafe {
        syscall(
            nr::TIMERFD_SETTIME,
            &[fd.as_raw_fd() as u64, 0, set.as_bytes().as_ptr() as u64, 0],
        )
    }
    .unwrap();
    let mut got = Itimerspec::default();
    // SAFETY: `got` is a writable itimerspec.
    unsafe {
        syscall(
            nr::TIMERFD_GETTIME,
            &[
                fd.as_raw_fd() as u64,
                got.as_mut_bytes().as_mut_ptr() as u64,
                0,
                0,
            ],
        )
    }
    .unwrap();
    assert_eq!(
        got.it_interval,
        Timespec {
            tv_sec: 1,
            tv_nsec: 500_000_000
        }
    );
    assert!(got.it_value.is_valid());
    assert!(got.it_value.to_nanos().unwrap() <= 100_000_000_000);
}

#[test]
fn pty_ioctls_fill_termios_and_winsize() {
    // SAFETY: opening a new pseudo-terminal master.
    let m = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    assert!(m >= 0);
    // SAFETY: the kernel just returned `m`; we own it.
    let m = unsafe { OwnedFd::from_raw_fd(m) };
    let mut n = 0u32;
    // SAFETY: TIOCGPTN stores an unsigned int at the writable `n`.
    unsafe {
        syscall(
            nr::IOCTL,
            &[
                m.as_raw_fd() as u64,
                u64::from(tty::TIOCGPTN),
                &mut n as *mut u32 as u64,
                0,
            ],
        )
    }
    .unwrap();
    // SAFETY: `ptsname` returns a NUL-terminated path for a master.
    let name = unsafe { std::ffi::CStr::from_ptr(libc::ptsname(m.as_raw_fd())) };
    assert_eq!(name.to_str().unwrap(), format!("/dev/pts/{n}"));

    let mut t = Termios::default();
    // SAFETY: TCGETS fills the kernel's 36-byte termios.
    unsafe {
        syscall(
            nr::IOCTL,
            &[
                m.as_raw_fd() as u64,
                u64::from(tty::TCGETS),
                t.as_mut_bytes().as_mut_ptr() as u64,
                0,
            ],
        )
    }
    .unwrap();
    // SAFETY: all-zero bytes are a valid `libc::termios`.
    let mut lt: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `lt` is writable.
    assert_eq!(unsafe { libc::tcgetattr(m.as_raw_fd(), &mut lt) }, 0);
    assert_eq!(
        (t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag),
        (lt.c_iflag, lt.c_oflag, lt.c_cflag, lt.c_lflag)
    );
    assert_eq!(t.c_cc[..], lt.c_cc[..tty::KERNEL_NCCS]);

    let ws = Winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 1,
        ws_ypixel: 2,
    };
    // SAFETY: TIOCSWINSZ reads a winsize.
    unsafe {
        syscall(
            nr::IOCTL,
            &[
                m.as_raw_fd() as u64,
                u64::from(tty::TIOCSWINSZ),
                ws.as_bytes().as_ptr() as u64,
                0,
            ],
        )
    }
    .unwrap();
    let mut lws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize.
    let r = unsafe { libc::ioctl(m.as_raw_fd(), libc::TIOCGWINSZ, &mut lws) };
    assert_eq!(r, 0);
    assert_eq!(
        (lws.ws_row, lws.ws_col, lws.ws_xpixel, lws.ws_ypixel),
        (24, 80, 1, 2)
    );
}

/// What the frame handler of `signal_frame_is_laid_out_as_the_types_say`
/// saw: `ucontext` flags, the distance from the `ucontext` to the
/// `siginfo`, the FPU pointer, the software bytes and the word after the
/// XSAVE image, and the signal mask in the frame.
static FRAME_SEEN: [std::sync::atomic::AtomicU64; 8] =
    [const { std::sync::atomic::AtomicU64::new(0) }; 8];

extern "C" fn record_frame(_: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    use std::sync::atomic::Ordering::Relaxed;
    // SAFETY: the kernel passes a valid frame: `uc` points to its
    // ucontext, whose FPU pointer (when set) points to the FPU state with
    // the software bytes in its legacy area and, for an XSAVE image, the
    // second magic word `xstate_size` bytes in.
    unsafe {
        let ucontext = (uc as *const UContext).read_unaligned();
        FRAME_SEEN[0].store(ucontext.flags, Relaxed);
        FRAME_SEEN[1].store((info as u64).wrapping_sub(uc as u64), Relaxed);
        let fp = ucontext.mcontext.fpstate;
        FRAME_SEEN[2].store(fp, Relaxed);
        FRAME_SEEN[7].store(ucontext.sigmask.0, Relaxed);
        if fp == 0 {
            return;
        }
        let sw =
            ((fp as usize + signal::FPX_SW_BYTES_OFFSET) as *const FpxSwBytes).read_unaligned();
        FRAME_SEEN[3].store(u64::from(sw.magic1), Relaxed);
        FRAME_SEEN[4].store(u64::from(sw.xstate_size), Relaxed);
        FRAME_SEEN[5].store(u64::from(sw.extended_size), Relaxed);
        let magic2 = ((fp + u64::from(sw.xstate_size)) as *const u32).read_unaligned();
        FRAME_SEEN[6].store(u64::from(magic2), Relaxed);
    }
}

#[test]
fn signal_frame_is_laid_out_as_the_types_say() {
    use std::sync::atomic::Ordering::Relaxed;
    let sig = Signal::SIGURG;
    // SAFETY: installing a handler that only reads its frame and stores
    // atomics; SIGURG is ignored by default, so a stray one is harmless.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = record_frame as *const () as usize;
        act.sa_flags = libc::SA_SIGINFO;
        assert_eq!(libc::sigaction(sig.0, &act, std::ptr::null_mut()), 0);
        assert_eq!(libc::raise(sig.0), 0);
    }
    let seen: Vec<u64> = FRAME_SEEN.iter().map(|v| v.load(Relaxed)).collect();
    assert_eq!(
        seen[1],
        size_of::<UContext>() as u64,
        "siginfo follows the ucontext"
    );
    assert_ne!(seen[2], 0, "the frame carries FPU state");
    assert_eq!(seen[2] % 64, 0, "the XSAVE image is 64-byte aligned");
    if seen[0] & signal::UC_FP_XSTATE != 0 {
        assert_eq!(seen[3], u64::from(signal::FP_XSTATE_MAGIC1));
        assert_eq!(seen[5], seen[4] + 4, "extended size counts the magic word");
        assert_eq!(seen[6], u64::from(signal::FP_XSTATE_MAGIC2));
    }
    assert!(seen[0] & signal::UC_SIGCONTEXT_SS != 0);
    // The frame's mask is the one to restore, without the handled signal.
    assert_eq!(seen[7] & sig.mask(), 0);
}
