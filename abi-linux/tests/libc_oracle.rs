//! The `libc` crate as the oracle for this crate's ABI.
//!
//! For every structure, the size, the alignment and the offset of every
//! public field of libc's definition equal ours (libc's private padding
//! fields cannot be named; the size check covers them). Every constant
//! libc 0.2 defines equals ours, every errno name and description match
//! libc and GNU libc's `strerror`, and every system-call number matches.
//!
//! libc's constants exist only for the host architecture, so these tests
//! run on x86_64 Linux. The aarch64 system-call table is compared with a
//! list generated from the libc crate's source (version 0.2.191,
//! `src/unix/linux_like/linux/gnu/b64/aarch64/{mod,lp64}.rs`) and written
//! out below.
//!
//! Constants and calls libc lacks are listed with the kernel's values and
//! the source they were read from; `kernel_oracle.rs` checks several of
//! them against the running kernel.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use abi_linux::syscalls::{aarch64, x86_64};
use abi_linux::*;
use core::mem::{align_of, offset_of, size_of};
use std::collections::BTreeSet;
use std::ffi::CStr;

/// Asserts that two structures have the same size and alignment and that
/// each listed field of ours sits at the offset of libc's field.
macro_rules! layout {
    ($ours:ty, $theirs:ty; $($a:ident = $b:ident),* $(,)?) => {{
        assert_eq!(size_of::<$ours>(), size_of::<$theirs>(), concat!("size of ", stringify!($ours)));
        assert_eq!(align_of::<$ours>(), align_of::<$theirs>(), concat!("alignment of ", stringify!($ours)));
        $(
            assert_eq!(
                offset_of!($ours, $a),
                offset_of!($theirs, $b),
                concat!(stringify!($ours), ".", stringify!($a)),
            );
        )*
    }};
}

/// Asserts that two integer constants are equal in the width of libc's
/// type, and that ours fits that width.
macro_rules! c {
    ($ours:expr, $theirs:expr) => {{
        let bits = 8 * std::mem::size_of_val(&$theirs) as u32;
        let mask: i128 = if bits >= 128 { -1 } else { (1i128 << bits) - 1 };
        let (ours, theirs) = ($ours as i128, $theirs as i128);
        assert_eq!(
            ours & mask,
            theirs & mask,
            concat!(stringify!($ours), " != ", stringify!($theirs))
        );
        assert!(
            ours & !mask == 0 || ours & !mask == !mask,
            concat!(stringify!($ours), " is too wide")
        );
    }};
}

#[test]
fn statx_layout_matches_libc() {
    layout!(StatxTimestamp, libc::statx_timestamp; tv_sec = tv_sec, tv_nsec = tv_nsec);
    layout!(Statx, libc::statx;
        stx_mask = stx_mask,
        stx_blksize = stx_blksize,
        stx_attributes = stx_attributes,
        stx_nlink = stx_nlink,
        stx_uid = stx_uid,
        stx_gid = stx_gid,
        stx_mode = stx_mode,
        stx_ino = stx_ino,
        stx_size = stx_size,
        stx_blocks = stx_blocks,
        stx_attributes_mask = stx_attributes_mask,
        stx_atime = stx_atime,
        stx_btime = stx_btime,
        stx_ctime = stx_ctime,
        stx_mtime = stx_mtime,
        stx_rdev_major = stx_rdev_major,
        stx_rdev_minor = stx_rdev_minor,
        stx_dev_major = stx_dev_major,
        stx_dev_minor = stx_dev_minor,
        stx_mnt_id = stx_mnt_id,
        stx_dio_mem_align = stx_dio_mem_align,
        stx_dio_offset_align = stx_dio_offset_align,
        stx_subvol = stx_subvol,
        stx_atomic_write_unit_min = stx_atomic_write_unit_min,
        stx_atomic_write_unit_max = stx_atomic_write_unit_max,
        stx_atomic_write_segments_max = stx_atomic_write_segments_max,
        stx_dio_read_offset_align = stx_dio_read_offset_align,
        stx_atomic_write_unit_max_opt = stx_atomic_write_unit_max_opt,
    );
}

#[test]
fn stat_layout_matches_libc() {
    layout!(abi_linux::stat::x86_64::Stat, libc::stat;
        st_dev = st_dev,
        st_ino = st_ino,
        st_nlink = st_nlink,
        st_mode = st_mode,
        st_uid = st_uid,
        st_gid = st_gid,
        st_rdev = st_rdev,
        st_size = st_size,
        st_blksize = st_blksize,
        st_blocks = st_blocks,
        st_atime = st_atime,
        st_atime_nsec = st_atime_nsec,
        st_mtime = st_mtime,
        st_mtime_nsec = st_mtime_nsec,
        st_ctime = st_ctime,
        st_ctime_nsec = st_ctime_nsec,
    );
    assert_eq!(size_of::<Stat>(), size_of::<libc::stat>());
}

/// aarch64's `struct stat` cannot be compared with a libc type on an
/// x86_64 host; these are the offsets of libc 0.2.191's aarch64 `stat`
/// (`gnu/b64/aarch64/mod.rs`), which follows the kernel's
/// `asm-generic/stat.h`.
#[test]
fn aarch64_stat_layout_matches_the_generic_kernel_layout() {
    use abi_linux::stat::aarch64::Stat as S;
    let expected = [
        (offset_of!(S, st_dev), 0),
        (offset_of!(S, st_ino), 8),
        (offset_of!(S, st_mode), 16),
        (offset_of!(S, st_nlink), 20),
        (offset_of!(S, st_uid), 24),
        (offset_of!(S, st_gid), 28),
        (offset_of!(S, st_rdev), 32),
        (offset_of!(S, st_size), 48),
        (offset_of!(S, st_blksize), 56),
        (offset_of!(S, st_blocks), 64),
        (offset_of!(S, st_atime), 72),
        (offset_of!(S, st_atime_nsec), 80),
        (offset_of!(S, st_mtime), 88),
        (offset_of!(S, st_mtime_nsec), 96),
        (offset_of!(S, st_ctime), 104),
        (offset_of!(S, st_ctime_nsec), 112),
    ];
    for (i, (ours, theirs)) in expected.into_iter().enumerate() {
        assert_eq!(ours, theirs, "field {i}");
    }
    assert_eq!(size_of::<S>(), 128);
}

#[test]
fn statfs_layout_matches_libc() {
    layout!(Statfs, libc::statfs;
        f_type = f_type,
        f_bsize = f_bsize,
        f_blocks = f_blocks,
        f_bfree = f_bfree,
        f_bavail = f_bavail,
        f_files = f_files,
        f_ffree = f_ffree,
        f_fsid = f_fsid,
        f_namelen = f_namelen,
        f_frsize = f_frsize,
    );
    // libc folds `f_flags` into a private `f_spare`; `kernel_oracle.rs`
    // checks that the kernel sets `ST_VALID` there.
}

/// `Dirent64Header` is 24 bytes where libc's `dirent64` is 280 (it
/// includes a 256-byte name); the name offset is the shared contract.
#[test]
fn dirent64_header_matches_libc() {
    assert_eq!(
        offset_of!(Dirent64Header, d_ino),
        offset_of!(libc::dirent64, d_ino)
    );
    assert_eq!(
        offset_of!(Dirent64Header, d_off),
        offset_of!(libc::dirent64, d_off)
    );
    assert_eq!(
        offset_of!(Dirent64Header, d_reclen),
        offset_of!(libc::dirent64, d_reclen)
    );
    assert_eq!(
        offset_of!(Dirent64Header, d_type),
        offset_of!(libc::dirent64, d_type)
    );
    assert_eq!(DIRENT64_NAME_OFFSET, offset_of!(libc::dirent64, d_name));
    assert_eq!(align_of::<Dirent64Header>(), align_of::<libc::dirent64>());
}

#[test]
fn time_layouts_match_libc() {
    layout!(Timespec, libc::timespec; tv_sec = tv_sec, tv_nsec = tv_nsec);
    layout!(Timeval, libc::timeval; tv_sec = tv_sec, tv_usec = tv_usec);
    layout!(Itimerspec, libc::itimerspec; it_interval = it_interval, it_value = it_value);
    c!(Timespec::UTIME_NOW, libc::UTIME_NOW);
    c!(Timespec::UTIME_OMIT, libc::UTIME_OMIT);
}

/// libc declares `struct timezone` opaque, so only the kernel's layout
/// (two `int`s) can be stated.
#[test]
fn timezone_is_two_ints() {
    assert_eq!(size_of::<Timezone>(), 2 * size_of::<libc::c_int>());
    assert_eq!(offset_of!(Timezone, tz_dsttime), size_of::<libc::c_int>());
}

#[test]
fn io_layouts_match_libc() {
    layout!(Iovec, libc::iovec; base = iov_base, len = iov_len);
    layout!(OpenHow, libc::open_how; flags = flags, mode = mode, resolve = resolve);
    layout!(Flock, libc::flock; l_type = l_type, l_whence = l_whence, l_start = l_start, l_len = l_len, l_pid = l_pid);
    layout!(EpollEvent, libc::epoll_event; events = events, data = u64);
    layout!(Pollfd, libc::pollfd; fd = fd, events = events, revents = revents);
}

/// GNU libc's `struct termios` is not the kernel's (it has 32 control
/// characters and the speeds); the kernel's `struct termios` is the
/// prefix of `struct termios2`, which libc defines as the kernel does.
#[test]
fn termios_is_the_prefix_of_libc_termios2() {
    assert_eq!(
        offset_of!(Termios, c_iflag),
        offset_of!(libc::termios2, c_iflag)
    );
    assert_eq!(
        offset_of!(Termios, c_oflag),
        offset_of!(libc::termios2, c_oflag)
    );
    assert_eq!(
        offset_of!(Termios, c_cflag),
        offset_of!(libc::termios2, c_cflag)
    );
    assert_eq!(
        offset_of!(Termios, c_lflag),
        offset_of!(libc::termios2, c_lflag)
    );
    assert_eq!(
        offset_of!(Termios, c_line),
        offset_of!(libc::termios2, c_line)
    );
    assert_eq!(offset_of!(Termios, c_cc), offset_of!(libc::termios2, c_cc));
    assert_eq!(size_of::<Termios>(), offset_of!(libc::termios2, c_ispeed));
    assert_eq!(size_of::<Termios>(), 36);
    let t2: libc::termios2 = unsafe_zeroed_termios2();
    assert_eq!(tty::KERNEL_NCCS, t2.c_cc.len());
    assert_eq!(align_of::<Termios>(), align_of::<libc::termios2>());
    layout!(Winsize, libc::winsize; ws_row = ws_row, ws_col = ws_col, ws_xpixel = ws_xpixel, ws_ypixel = ws_ypixel);
}

/// Returns an all-zero `termios2`.
fn unsafe_zeroed_termios2() -> libc::termios2 {
    // SAFETY: `termios2` is plain integers and arrays of integers, for
    // which all-zero bytes are a valid value.
    unsafe { std::mem::zeroed() }
}

#[test]
fn process_layouts_match_libc() {
    layout!(Rlimit, libc::rlimit; cur = rlim_cur, max = rlim_max);
    layout!(Utsname, libc::utsname;
        sysname = sysname,
        nodename = nodename,
        release = release,
        version = version,
        machine = machine,
        domainname = domainname,
    );
    layout!(CloneArgs, libc::clone_args;
        flags = flags, pidfd = pidfd, child_tid = child_tid, parent_tid = parent_tid,
        exit_signal = exit_signal, stack = stack, stack_size = stack_size, tls = tls,
        set_tid = set_tid, set_tid_size = set_tid_size, cgroup = cgroup);
    assert_eq!(size_of::<CloneArgs>(), process::CLONE_ARGS_SIZE_VER2);
    layout!(Rusage, libc::rusage;
        ru_utime = ru_utime,
        ru_stime = ru_stime,
        ru_maxrss = ru_maxrss,
        ru_ixrss = ru_ixrss,
        ru_idrss = ru_idrss,
        ru_isrss = ru_isrss,
        ru_minflt = ru_minflt,
        ru_majflt = ru_majflt,
        ru_nswap = ru_nswap,
        ru_inblock = ru_inblock,
        ru_oublock = ru_oublock,
        ru_msgsnd = ru_msgsnd,
        ru_msgrcv = ru_msgrcv,
        ru_nsignals = ru_nsignals,
        ru_nvcsw = ru_nvcsw,
        ru_nivcsw = ru_nivcsw,
    );
    layout!(Sysinfo, libc::sysinfo;
        uptime = uptime,
        loads = loads,
        totalram = totalram,
        freeram = freeram,
        sharedram = sharedram,
        bufferram = bufferram,
        totalswap = totalswap,
        freeswap = freeswap,
        procs = procs,
        pad = pad,
        totalhigh = totalhigh,
        freehigh = freehigh,
        mem_unit = mem_unit,
    );
}

/// GNU libc's `struct sigaction` holds a 128-byte `sigset_t` and puts the
/// mask before the flags; the kernel's (what `rt_sigaction(2)` takes and
/// `SigAction` models) is four 8-byte words: handler, flags, restorer,
/// mask. `kernel_oracle.rs` reads one back from the kernel.
#[test]
fn signal_layouts_match_libc() {
    layout!(SignalStack, libc::stack_t; ss_sp = ss_sp, ss_flags = ss_flags, ss_size = ss_size);
    layout!(SigInfo, libc::siginfo_t; signo = si_signo, errno = si_errno, code = si_code);
    assert_eq!(size_of::<SigInfo>(), 128);
    assert_eq!(size_of::<SigAction>(), 32);
    assert_eq!(offset_of!(SigAction, mask), 24);
    assert_eq!(size_of::<SignalSet>(), 8);
    layout!(SignalfdSiginfo, libc::signalfd_siginfo; ssi_signo = ssi_signo, ssi_code = ssi_code,
        ssi_pid = ssi_pid, ssi_uid = ssi_uid, ssi_tid = ssi_tid, ssi_overrun = ssi_overrun,
        ssi_status = ssi_status, ssi_int = ssi_int, ssi_ptr = ssi_ptr, ssi_utime = ssi_utime,
        ssi_stime = ssi_stime, ssi_addr = ssi_addr, ssi_addr_lsb = ssi_addr_lsb,
        ssi_syscall = ssi_syscall, ssi_call_addr = ssi_call_addr, ssi_arch = ssi_arch);
}

/// The kernel's signal-frame `ucontext` is glibc's `ucontext_t` up to the
/// first word of the signal mask; `mcontext_t`'s `gregs` are
/// `SigContext`'s registers in `REG_*` order, followed by the FPU pointer.
#[test]
fn signal_frame_layouts_match_libc() {
    assert_eq!(
        offset_of!(UContext, link),
        offset_of!(libc::ucontext_t, uc_link)
    );
    assert_eq!(
        offset_of!(UContext, stack),
        offset_of!(libc::ucontext_t, uc_stack)
    );
    assert_eq!(
        offset_of!(UContext, mcontext),
        offset_of!(libc::ucontext_t, uc_mcontext)
    );
    assert_eq!(
        offset_of!(UContext, sigmask),
        offset_of!(libc::ucontext_t, uc_sigmask)
    );
    assert_eq!(
        size_of::<UContext>(),
        offset_of!(libc::ucontext_t, uc_sigmask) + 8
    );
    assert_eq!(size_of::<SigContext>(), size_of::<libc::mcontext_t>());
    assert_eq!(
        offset_of!(SigContext, fpstate),
        offset_of!(libc::mcontext_t, fpregs)
    );
    let greg = |offset: usize| (offset / 8) as libc::c_int;
    assert_eq!(greg(offset_of!(SigContext, r8)), libc::REG_R8);
    assert_eq!(greg(offset_of!(SigContext, r15)), libc::REG_R15);
    assert_eq!(greg(offset_of!(SigContext, rdi)), libc::REG_RDI);
    assert_eq!(greg(offset_of!(SigContext, rbx)), libc::REG_RBX);
    assert_eq!(greg(offset_of!(SigContext, rax)), libc::REG_RAX);
    assert_eq!(greg(offset_of!(SigContext, rsp)), libc::REG_RSP);
    assert_eq!(greg(offset_of!(SigContext, rip)), libc::REG_RIP);
    assert_eq!(greg(offset_of!(SigContext, eflags)), libc::REG_EFL);
    assert_eq!(greg(offset_of!(SigContext, cs)), libc::REG_CSGSFS);
    assert_eq!(greg(offset_of!(SigContext, err)), libc::REG_ERR);
    assert_eq!(greg(offset_of!(SigContext, trapno)), libc::REG_TRAPNO);
    assert_eq!(greg(offset_of!(SigContext, oldmask)), libc::REG_OLDMASK);
    assert_eq!(greg(offset_of!(SigContext, cr2)), libc::REG_CR2);
    assert_eq!(size_of::<FpxSwBytes>(), 48);
    assert_eq!(
        signal::FPX_SW_BYTES_OFFSET + size_of::<FpxSwBytes>(),
        size_of::<libc::user_fpregs_struct>(),
    );
}

#[test]
fn socket_layouts_match_libc() {
    layout!(Ucred, libc::ucred; pid = pid, uid = uid, gid = gid);
    layout!(MsgHdr, libc::msghdr; name = msg_name, namelen = msg_namelen, iov = msg_iov,
        iovlen = msg_iovlen, control = msg_control, controllen = msg_controllen,
        flags = msg_flags);
    layout!(MMsgHdr, libc::mmsghdr; hdr = msg_hdr, len = msg_len);
    layout!(CmsgHdr, libc::cmsghdr; len = cmsg_len, level = cmsg_level, kind = cmsg_type);
    layout!(Linger, libc::linger; onoff = l_onoff, linger = l_linger);
    // SAFETY: CMSG_LEN and CMSG_SPACE are pure arithmetic.
    unsafe {
        for n in [0usize, 1, 4, 12, 13, 1012] {
            assert_eq!(socket::cmsg_len(n), libc::CMSG_LEN(n as u32) as usize);
            assert_eq!(socket::cmsg_space(n), libc::CMSG_SPACE(n as u32) as usize);
        }
    }
    assert_eq!(socket::UNIX_PATH_MAX, size_of::<libc::sockaddr_un>() - 2);
}

#[test]
fn netlink_layouts_match_libc() {
    use abi_linux::netlink::{IfAddrMsg, IfInfoMsg, NlMsgHdr, RtAttr, RtMsg, SockaddrNl};
    layout!(SockaddrNl, libc::sockaddr_nl; family = nl_family, pid = nl_pid,
        groups = nl_groups);
    layout!(NlMsgHdr, libc::nlmsghdr; len = nlmsg_len, kind = nlmsg_type,
        flags = nlmsg_flags, seq = nlmsg_seq, pid = nlmsg_pid);
    layout!(IfInfoMsg, libc::ifinfomsg; family = ifi_family, kind = ifi_type,
        index = ifi_index, flags = ifi_flags, change = ifi_change);
    layout!(IfAddrMsg, libc::ifaddrmsg; family = ifa_family, prefixlen = ifa_prefixlen,
        flags = ifa_flags, scope = ifa_scope, index = ifa_index);
    // libc has no `rtmsg`; `ip route` run natively and in the sandbox
    // checks it (sentry/tests/network.rs).
    assert_eq!(size_of::<RtMsg>(), 12);
    layout!(RtAttr, libc::rtattr; len = rta_len, kind = rta_type);
}

#[test]
fn inet_layouts_match_libc() {
    use abi_linux::inet::{self, IfConf, IfReq, SockaddrIn, SockaddrIn6, TcpInfo};
    layout!(SockaddrIn, libc::sockaddr_in; family = sin_family, port = sin_port,
        addr = sin_addr, zero = sin_zero);
    layout!(SockaddrIn6, libc::sockaddr_in6; family = sin6_family, port = sin6_port,
        flowinfo = sin6_flowinfo, addr = sin6_addr, scope_id = sin6_scope_id);
    layout!(IfReq, libc::ifreq; name = ifr_name, value = ifr_ifru);
    layout!(inet::InPktinfo, libc::in_pktinfo; ifindex = ipi_ifindex, spec_dst = ipi_spec_dst,
        addr = ipi_addr);
    layout!(inet::In6Pktinfo, libc::in6_pktinfo; addr = ipi6_addr, ifindex = ipi6_ifindex);
    layout!(IfConf, libc::ifconf; len = ifc_len, buf = ifc_ifcu);
    assert_eq!(inet::IFNAMSIZ, libc::IFNAMSIZ);
    // glibc's `tcp_info` is the kernel's, with the bit-field byte after
    // `tcpi_snd_rcv_wscale` left as padding.
    assert!(size_of::<TcpInfo>() <= size_of::<libc::tcp_info>());
    macro_rules! tcpi {
        ($($a:ident = $b:ident),*) => {$(
            assert_eq!(offset_of!(TcpInfo, $a), offset_of!(libc::tcp_info, $b), stringify!($a));
        )*};
    }
    tcpi!(
        state = tcpi_state,
        ca_state = tcpi_ca_state,
        options = tcpi_options,
        wscale = tcpi_snd_rcv_wscale,
        rto = tcpi_rto,
        snd_mss = tcpi_snd_mss,
        rcv_mss = tcpi_rcv_mss,
        unacked = tcpi_unacked,
        last_data_sent = tcpi_last_data_sent,
        last_data_recv = tcpi_last_data_recv,
        pmtu = tcpi_pmtu,
        rtt = tcpi_rtt,
        snd_cwnd = tcpi_snd_cwnd,
        advmss = tcpi_advmss,
        rcv_space = tcpi_rcv_space,
        total_retrans = tcpi_total_retrans,
        pacing_rate = tcpi_pacing_rate,
        bytes_acked = tcpi_bytes_acked,
        bytes_received = tcpi_bytes_received,
        segs_out = tcpi_segs_out,
        segs_in = tcpi_segs_in,
        notsent_bytes = tcpi_notsent_bytes,
        min_rtt = tcpi_min_rtt,
        data_segs_in = tcpi_data_segs_in,
        data_segs_out = tcpi_data_segs_out
    );
}

#[test]
fn sysv_ipc_layouts_match_libc() {
    use abi_linux::ipc::*;
    // glibc's `mode` is an `unsigned short` followed by padding, the
    // kernel's an `unsigned int`: on little-endian x86_64 the same bytes.
    layout!(IpcPerm, libc::ipc_perm; key = __key, uid = uid, gid = gid, cuid = cuid,
        cgid = cgid, mode = mode, seq = __seq);
    layout!(ShmidDs, libc::shmid_ds; shm_perm = shm_perm, shm_segsz = shm_segsz,
        shm_atime = shm_atime, shm_dtime = shm_dtime, shm_ctime = shm_ctime,
        shm_cpid = shm_cpid, shm_lpid = shm_lpid, shm_nattch = shm_nattch);
    layout!(MsqidDs, libc::msqid_ds; msg_perm = msg_perm, msg_stime = msg_stime,
        msg_rtime = msg_rtime, msg_ctime = msg_ctime, msg_cbytes = __msg_cbytes,
        msg_qnum = msg_qnum, msg_qbytes = msg_qbytes, msg_lspid = msg_lspid,
        msg_lrpid = msg_lrpid);
    layout!(SemidDs, libc::semid_ds; sem_perm = sem_perm, sem_otime = sem_otime,
        sem_ctime = sem_ctime, sem_nsems = sem_nsems);
    layout!(MqAttr, libc::mq_attr; mq_flags = mq_flags, mq_maxmsg = mq_maxmsg,
        mq_msgsize = mq_msgsize, mq_curmsgs = mq_curmsgs);
    layout!(SemBuf, libc::sembuf; sem_num = sem_num, sem_op = sem_op, sem_flg = sem_flg);
    layout!(SemInfo, libc::seminfo; semmap = semmap, semmni = semmni, semmns = semmns,
        semmnu = semmnu, semmsl = semmsl, semopm = semopm, semume = semume,
        semusz = semusz, semvmx = semvmx, semaem = semaem);
    layout!(MsgInfo, libc::msginfo; msgpool = msgpool, msgmap = msgmap, msgmax = msgmax,
        msgmnb = msgmnb, msgmni = msgmni, msgssz = msgssz, msgtql = msgtql,
        msgseg = msgseg);
    // libc lacks `shminfo64` and `shm_info`: the kernel's sizes
    // (include/uapi/asm-generic/shmbuf.h, include/uapi/linux/shm.h).
    assert_eq!(size_of::<ShmParams>(), 9 * 8);
    assert_eq!(size_of::<ShmInfo>(), 48);
}

#[test]
fn every_constant_libc_defines_matches() {
    c!(signal::SI_MESGQ, libc::SI_MESGQ);
    c!(tty::TIOCPKT, libc::TIOCPKT);
    c!(tty::TIOCSIG, libc::TIOCSIG);
    c!(tty::TIOCGPKT, libc::TIOCGPKT);
    c!(tty::TIOCGPTLCK, libc::TIOCGPTLCK);
    c!(tty::TIOCGEXCL, libc::TIOCGEXCL);
    c!(tty::TCIFLUSH, libc::TCIFLUSH);
    c!(tty::TCOFLUSH, libc::TCOFLUSH);
    c!(tty::TCIOFLUSH, libc::TCIOFLUSH);
    c!(tty::ISTRIP, libc::ISTRIP);
    c!(tty::INLCR, libc::INLCR);
    c!(tty::IGNCR, libc::IGNCR);
    c!(tty::ICRNL, libc::ICRNL);
    c!(tty::IXON, libc::IXON);
    c!(tty::OPOST, libc::OPOST);
    c!(tty::ONLCR, libc::ONLCR);
    c!(tty::OCRNL, libc::OCRNL);
    c!(tty::ONOCR, libc::ONOCR);
    c!(tty::ONLRET, libc::ONLRET);
    c!(tty::B38400, libc::B38400);
    c!(tty::CS8, libc::CS8);
    c!(tty::CREAD, libc::CREAD);
    c!(tty::ISIG, libc::ISIG);
    c!(tty::ICANON, libc::ICANON);
    c!(tty::ECHO, libc::ECHO);
    c!(tty::ECHOE, libc::ECHOE);
    c!(tty::ECHOK, libc::ECHOK);
    c!(tty::ECHONL, libc::ECHONL);
    c!(tty::NOFLSH, libc::NOFLSH);
    c!(tty::TOSTOP, libc::TOSTOP);
    c!(tty::ECHOCTL, libc::ECHOCTL);
    c!(tty::ECHOKE, libc::ECHOKE);
    c!(tty::IEXTEN, libc::IEXTEN);
    c!(tty::VINTR, libc::VINTR);
    c!(tty::VQUIT, libc::VQUIT);
    c!(tty::VERASE, libc::VERASE);
    c!(tty::VKILL, libc::VKILL);
    c!(tty::VEOF, libc::VEOF);
    c!(tty::VTIME, libc::VTIME);
    c!(tty::VMIN, libc::VMIN);
    c!(tty::VSTART, libc::VSTART);
    c!(tty::VSTOP, libc::VSTOP);
    c!(tty::VSUSP, libc::VSUSP);
    c!(tty::VEOL, libc::VEOL);
    c!(tty::VREPRINT, libc::VREPRINT);
    c!(tty::VDISCARD, libc::VDISCARD);
    c!(tty::VWERASE, libc::VWERASE);
    c!(tty::VLNEXT, libc::VLNEXT);
    c!(tty::VEOL2, libc::VEOL2);
    c!(ipc::IPC_PRIVATE, libc::IPC_PRIVATE);
    c!(ipc::IPC_CREAT, libc::IPC_CREAT);
    c!(ipc::IPC_EXCL, libc::IPC_EXCL);
    c!(ipc::IPC_NOWAIT, libc::IPC_NOWAIT);
    c!(ipc::IPC_RMID, libc::IPC_RMID);
    c!(ipc::IPC_SET, libc::IPC_SET);
    c!(ipc::IPC_STAT, libc::IPC_STAT);
    c!(ipc::IPC_INFO, libc::IPC_INFO);
    c!(ipc::SHM_RDONLY, libc::SHM_RDONLY);
    c!(ipc::SHM_RND, libc::SHM_RND);
    c!(ipc::SHM_REMAP, libc::SHM_REMAP);
    c!(ipc::SHM_EXEC, libc::SHM_EXEC);
    c!(ipc::SHM_LOCK, libc::SHM_LOCK);
    c!(ipc::SHM_UNLOCK, libc::SHM_UNLOCK);
    c!(ipc::SHM_HUGETLB, libc::SHM_HUGETLB);
    c!(ipc::SHM_NORESERVE, libc::SHM_NORESERVE);
    c!(ipc::SEM_UNDO, libc::SEM_UNDO);
    c!(ipc::GETPID, libc::GETPID);
    c!(ipc::GETVAL, libc::GETVAL);
    c!(ipc::GETALL, libc::GETALL);
    c!(ipc::GETNCNT, libc::GETNCNT);
    c!(ipc::GETZCNT, libc::GETZCNT);
    c!(ipc::SETVAL, libc::SETVAL);
    c!(ipc::SETALL, libc::SETALL);
    c!(ipc::SEM_STAT, libc::SEM_STAT);
    c!(ipc::SEM_INFO, libc::SEM_INFO);
    c!(ipc::SEM_STAT_ANY, libc::SEM_STAT_ANY);
    c!(ipc::MSG_NOERROR, libc::MSG_NOERROR);
    c!(ipc::MSG_EXCEPT, libc::MSG_EXCEPT);
    c!(ipc::MSG_STAT, libc::MSG_STAT);
    c!(ipc::MSG_INFO, libc::MSG_INFO);
    c!(inet::IPPROTO_IP, libc::IPPROTO_IP);
    c!(inet::IPPROTO_ICMP, libc::IPPROTO_ICMP);
    c!(inet::IPPROTO_TCP, libc::IPPROTO_TCP);
    c!(inet::IPPROTO_UDP, libc::IPPROTO_UDP);
    c!(inet::IPPROTO_IPV6, libc::IPPROTO_IPV6);
    c!(inet::IPPROTO_ICMPV6, libc::IPPROTO_ICMPV6);
    c!(inet::IPPROTO_RAW, libc::IPPROTO_RAW);
    c!(inet::IP_TOS, libc::IP_TOS);
    c!(inet::IP_TTL, libc::IP_TTL);
    c!(inet::IP_HDRINCL, libc::IP_HDRINCL);
    c!(inet::IP_OPTIONS, libc::IP_OPTIONS);
    c!(inet::IP_RECVOPTS, libc::IP_RECVOPTS);
    c!(inet::IP_PKTINFO, libc::IP_PKTINFO);
    c!(inet::IP_MTU_DISCOVER, libc::IP_MTU_DISCOVER);
    c!(inet::IP_RECVERR, libc::IP_RECVERR);
    c!(inet::IP_RECVTTL, libc::IP_RECVTTL);
    c!(inet::IP_RECVTOS, libc::IP_RECVTOS);
    c!(inet::IP_MTU, libc::IP_MTU);
    c!(inet::IP_FREEBIND, libc::IP_FREEBIND);
    c!(inet::IP_MULTICAST_IF, libc::IP_MULTICAST_IF);
    c!(inet::IP_MULTICAST_TTL, libc::IP_MULTICAST_TTL);
    c!(inet::IP_MULTICAST_LOOP, libc::IP_MULTICAST_LOOP);
    c!(inet::IP_ADD_MEMBERSHIP, libc::IP_ADD_MEMBERSHIP);
    c!(inet::IP_BIND_ADDRESS_NO_PORT, libc::IP_BIND_ADDRESS_NO_PORT);
    c!(inet::IPV6_UNICAST_HOPS, libc::IPV6_UNICAST_HOPS);
    c!(inet::IPV6_MULTICAST_IF, libc::IPV6_MULTICAST_IF);
    c!(inet::IPV6_MULTICAST_HOPS, libc::IPV6_MULTICAST_HOPS);
    c!(inet::IPV6_MULTICAST_LOOP, libc::IPV6_MULTICAST_LOOP);
    c!(inet::IPV6_RECVERR, libc::IPV6_RECVERR);
    c!(inet::IPV6_V6ONLY, libc::IPV6_V6ONLY);
    c!(inet::IPV6_RECVPKTINFO, libc::IPV6_RECVPKTINFO);
    c!(inet::IPV6_TCLASS, libc::IPV6_TCLASS);
    c!(inet::IPV6_PKTINFO, libc::IPV6_PKTINFO);
    c!(inet::IPV6_RECVHOPLIMIT, libc::IPV6_RECVHOPLIMIT);
    c!(inet::IPV6_HOPLIMIT, libc::IPV6_HOPLIMIT);
    c!(inet::IPV6_RECVTCLASS, libc::IPV6_RECVTCLASS);
    c!(inet::TCP_NODELAY, libc::TCP_NODELAY);
    c!(inet::TCP_MAXSEG, libc::TCP_MAXSEG);
    c!(inet::TCP_CORK, libc::TCP_CORK);
    c!(inet::TCP_KEEPIDLE, libc::TCP_KEEPIDLE);
    c!(inet::TCP_KEEPINTVL, libc::TCP_KEEPINTVL);
    c!(inet::TCP_KEEPCNT, libc::TCP_KEEPCNT);
    c!(inet::TCP_SYNCNT, libc::TCP_SYNCNT);
    c!(inet::TCP_LINGER2, libc::TCP_LINGER2);
    c!(inet::TCP_DEFER_ACCEPT, libc::TCP_DEFER_ACCEPT);
    c!(inet::TCP_WINDOW_CLAMP, libc::TCP_WINDOW_CLAMP);
    c!(inet::TCP_INFO, libc::TCP_INFO);
    c!(inet::TCP_QUICKACK, libc::TCP_QUICKACK);
    c!(inet::TCP_CONGESTION, libc::TCP_CONGESTION);
    c!(inet::TCP_USER_TIMEOUT, libc::TCP_USER_TIMEOUT);
    c!(inet::TCP_FASTOPEN, libc::TCP_FASTOPEN);
    c!(inet::TCP_NOTSENT_LOWAT, libc::TCP_NOTSENT_LOWAT);
    c!(inet::SO_BINDTODEVICE, libc::SO_BINDTODEVICE);
    c!(inet::SO_PRIORITY, libc::SO_PRIORITY);
    c!(inet::SO_TIMESTAMP, libc::SO_TIMESTAMP);
    c!(inet::SO_MARK, libc::SO_MARK);
    c!(inet::SIOCGIFNAME, libc::SIOCGIFNAME);
    c!(inet::SIOCGIFCONF, libc::SIOCGIFCONF);
    c!(inet::SIOCGIFFLAGS, libc::SIOCGIFFLAGS);
    c!(inet::SIOCGIFADDR, libc::SIOCGIFADDR);
    c!(inet::SIOCGIFBRDADDR, libc::SIOCGIFBRDADDR);
    c!(inet::SIOCGIFNETMASK, libc::SIOCGIFNETMASK);
    c!(inet::SIOCGIFMETRIC, libc::SIOCGIFMETRIC);
    c!(inet::SIOCGIFMTU, libc::SIOCGIFMTU);
    c!(inet::SIOCGIFHWADDR, libc::SIOCGIFHWADDR);
    c!(inet::SIOCGIFINDEX, libc::SIOCGIFINDEX);
    c!(inet::SIOCGIFTXQLEN, libc::SIOCGIFTXQLEN);
    c!(inet::SIOCINQ, libc::FIONREAD);
    c!(inet::SIOCOUTQ, libc::TIOCOUTQ);
    c!(inet::IFF_UP, libc::IFF_UP);
    c!(inet::IFF_LOOPBACK, libc::IFF_LOOPBACK);
    c!(inet::IFF_RUNNING, libc::IFF_RUNNING);
    c!(inet::IFF_LOWER_UP, libc::IFF_LOWER_UP);
    c!(inet::ARPHRD_LOOPBACK, libc::ARPHRD_LOOPBACK);
    c!(netlink::NETLINK_ROUTE, libc::NETLINK_ROUTE);
    c!(netlink::SOL_NETLINK, libc::SOL_NETLINK);
    c!(
        netlink::NETLINK_ADD_MEMBERSHIP,
        libc::NETLINK_ADD_MEMBERSHIP
    );
    c!(
        netlink::NETLINK_DROP_MEMBERSHIP,
        libc::NETLINK_DROP_MEMBERSHIP
    );
    c!(netlink::NETLINK_PKTINFO, libc::NETLINK_PKTINFO);
    c!(netlink::NETLINK_NO_ENOBUFS, libc::NETLINK_NO_ENOBUFS);
    c!(netlink::NETLINK_CAP_ACK, libc::NETLINK_CAP_ACK);
    c!(netlink::NETLINK_EXT_ACK, libc::NETLINK_EXT_ACK);
    c!(
        netlink::NETLINK_GET_STRICT_CHK,
        libc::NETLINK_GET_STRICT_CHK
    );
    c!(netlink::NLM_F_REQUEST, libc::NLM_F_REQUEST);
    c!(netlink::NLM_F_MULTI, libc::NLM_F_MULTI);
    c!(netlink::NLM_F_ACK, libc::NLM_F_ACK);
    c!(netlink::NLM_F_DUMP, libc::NLM_F_DUMP);
    c!(netlink::NLM_F_CAPPED, libc::NLM_F_CAPPED);
    c!(netlink::NLMSG_NOOP, libc::NLMSG_NOOP);
    c!(netlink::NLMSG_ERROR, libc::NLMSG_ERROR);
    c!(netlink::NLMSG_DONE, libc::NLMSG_DONE);
    c!(netlink::RTM_NEWLINK, libc::RTM_NEWLINK);
    c!(netlink::RTM_GETLINK, libc::RTM_GETLINK);
    c!(netlink::RTM_NEWADDR, libc::RTM_NEWADDR);
    c!(netlink::RTM_GETADDR, libc::RTM_GETADDR);
    c!(netlink::RTM_NEWROUTE, libc::RTM_NEWROUTE);
    c!(netlink::RTM_GETROUTE, libc::RTM_GETROUTE);
    c!(netlink::RTM_GETNEIGH, libc::RTM_GETNEIGH);
    c!(netlink::RTM_GETRULE, libc::RTM_GETRULE);
    c!(netlink::RTM_GETNETCONF, libc::RTM_GETNETCONF);
    c!(netlink::IFLA_ADDRESS, libc::IFLA_ADDRESS);
    c!(netlink::IFLA_BROADCAST, libc::IFLA_BROADCAST);
    c!(netlink::IFLA_IFNAME, libc::IFLA_IFNAME);
    c!(netlink::IFLA_MTU, libc::IFLA_MTU);
    c!(netlink::IFLA_QDISC, libc::IFLA_QDISC);
    c!(netlink::IFLA_STATS, libc::IFLA_STATS);
    c!(netlink::IFLA_TXQLEN, libc::IFLA_TXQLEN);
    c!(netlink::IFLA_OPERSTATE, libc::IFLA_OPERSTATE);
    c!(netlink::IFLA_LINKMODE, libc::IFLA_LINKMODE);
    c!(netlink::IFLA_STATS64, libc::IFLA_STATS64);
    c!(netlink::IFLA_GROUP, libc::IFLA_GROUP);
    c!(netlink::IFLA_PROMISCUITY, libc::IFLA_PROMISCUITY);
    c!(netlink::IFLA_NUM_TX_QUEUES, libc::IFLA_NUM_TX_QUEUES);
    c!(netlink::IFLA_NUM_RX_QUEUES, libc::IFLA_NUM_RX_QUEUES);
    c!(netlink::IFLA_CARRIER, libc::IFLA_CARRIER);
    c!(netlink::IFLA_MIN_MTU, libc::IFLA_MIN_MTU);
    c!(netlink::IFLA_MAX_MTU, libc::IFLA_MAX_MTU);
    c!(netlink::IFA_ADDRESS, libc::IFA_ADDRESS);
    c!(netlink::IFA_LOCAL, libc::IFA_LOCAL);
    c!(netlink::IFA_LABEL, libc::IFA_LABEL);
    c!(netlink::IFA_CACHEINFO, libc::IFA_CACHEINFO);
    c!(netlink::IFA_FLAGS, libc::IFA_FLAGS);
    c!(netlink::IFA_F_PERMANENT, libc::IFA_F_PERMANENT);
    c!(netlink::RTA_DST, libc::RTA_DST);
    c!(netlink::RTA_OIF, libc::RTA_OIF);
    c!(netlink::RTA_PRIORITY, libc::RTA_PRIORITY);
    c!(netlink::RTA_PREFSRC, libc::RTA_PREFSRC);
    c!(netlink::RTA_TABLE, libc::RTA_TABLE);
    c!(netlink::RTA_PREF, libc::RTA_PREF);
    c!(netlink::RT_TABLE_LOCAL, libc::RT_TABLE_LOCAL);
    c!(netlink::RTPROT_KERNEL, libc::RTPROT_KERNEL);
    c!(netlink::RT_SCOPE_UNIVERSE, libc::RT_SCOPE_UNIVERSE);
    c!(netlink::RT_SCOPE_LINK, libc::RT_SCOPE_LINK);
    c!(netlink::RT_SCOPE_HOST, libc::RT_SCOPE_HOST);
    c!(netlink::RTN_LOCAL, libc::RTN_LOCAL);
    c!(netlink::RTN_BROADCAST, libc::RTN_BROADCAST);
    c!(socket::AF_UNSPEC, libc::AF_UNSPEC);
    c!(socket::AF_UNIX, libc::AF_UNIX);
    c!(socket::AF_INET, libc::AF_INET);
    c!(socket::AF_INET6, libc::AF_INET6);
    c!(socket::AF_NETLINK, libc::AF_NETLINK);
    c!(socket::AF_PACKET, libc::AF_PACKET);
    c!(socket::SOCK_STREAM, libc::SOCK_STREAM);
    c!(socket::SOCK_DGRAM, libc::SOCK_DGRAM);
    c!(socket::SOCK_RAW, libc::SOCK_RAW);
    c!(socket::SOCK_RDM, libc::SOCK_RDM);
    c!(socket::SOCK_SEQPACKET, libc::SOCK_SEQPACKET);
    c!(socket::SOCK_NONBLOCK, libc::SOCK_NONBLOCK);
    c!(socket::SOCK_CLOEXEC, libc::SOCK_CLOEXEC);
    c!(socket::SOL_SOCKET, libc::SOL_SOCKET);
    c!(socket::SO_DEBUG, libc::SO_DEBUG);
    c!(socket::SO_REUSEADDR, libc::SO_REUSEADDR);
    c!(socket::SO_TYPE, libc::SO_TYPE);
    c!(socket::SO_ERROR, libc::SO_ERROR);
    c!(socket::SO_DONTROUTE, libc::SO_DONTROUTE);
    c!(socket::SO_BROADCAST, libc::SO_BROADCAST);
    c!(socket::SO_SNDBUF, libc::SO_SNDBUF);
    c!(socket::SO_RCVBUF, libc::SO_RCVBUF);
    c!(socket::SO_KEEPALIVE, libc::SO_KEEPALIVE);
    c!(socket::SO_OOBINLINE, libc::SO_OOBINLINE);
    c!(socket::SO_LINGER, libc::SO_LINGER);
    c!(socket::SO_REUSEPORT, libc::SO_REUSEPORT);
    c!(socket::SO_PASSCRED, libc::SO_PASSCRED);
    c!(socket::SO_PEERCRED, libc::SO_PEERCRED);
    c!(socket::SO_RCVLOWAT, libc::SO_RCVLOWAT);
    c!(socket::SO_SNDLOWAT, libc::SO_SNDLOWAT);
    c!(socket::SO_RCVTIMEO, libc::SO_RCVTIMEO);
    c!(socket::SO_SNDTIMEO, libc::SO_SNDTIMEO);
    c!(socket::SO_ACCEPTCONN, libc::SO_ACCEPTCONN);
    c!(socket::SO_PEERSEC, libc::SO_PEERSEC);
    c!(socket::SO_SNDBUFFORCE, libc::SO_SNDBUFFORCE);
    c!(socket::SO_RCVBUFFORCE, libc::SO_RCVBUFFORCE);
    c!(socket::SO_PASSSEC, libc::SO_PASSSEC);
    c!(socket::SO_PROTOCOL, libc::SO_PROTOCOL);
    c!(socket::SO_DOMAIN, libc::SO_DOMAIN);
    c!(socket::SO_PEEK_OFF, libc::SO_PEEK_OFF);
    c!(socket::SO_PEERGROUPS, libc::SO_PEERGROUPS);
    c!(socket::SCM_RIGHTS, libc::SCM_RIGHTS);
    c!(socket::SCM_CREDENTIALS, libc::SCM_CREDENTIALS);
    c!(socket::SHUT_RD, libc::SHUT_RD);
    c!(socket::SHUT_WR, libc::SHUT_WR);
    c!(socket::SHUT_RDWR, libc::SHUT_RDWR);
    c!(MsgFlags::OOB.bits(), libc::MSG_OOB);
    c!(MsgFlags::PEEK.bits(), libc::MSG_PEEK);
    c!(MsgFlags::DONTROUTE.bits(), libc::MSG_DONTROUTE);
    c!(MsgFlags::CTRUNC.bits(), libc::MSG_CTRUNC);
    c!(MsgFlags::TRUNC.bits(), libc::MSG_TRUNC);
    c!(MsgFlags::DONTWAIT.bits(), libc::MSG_DONTWAIT);
    c!(MsgFlags::EOR.bits(), libc::MSG_EOR);
    c!(MsgFlags::WAITALL.bits(), libc::MSG_WAITALL);
    c!(MsgFlags::CONFIRM.bits(), libc::MSG_CONFIRM);
    c!(MsgFlags::ERRQUEUE.bits(), libc::MSG_ERRQUEUE);
    c!(MsgFlags::NOSIGNAL.bits(), libc::MSG_NOSIGNAL);
    c!(MsgFlags::MORE.bits(), libc::MSG_MORE);
    c!(MsgFlags::WAITFORONE.bits(), libc::MSG_WAITFORONE);
    c!(MsgFlags::ZEROCOPY.bits(), libc::MSG_ZEROCOPY);
    c!(MsgFlags::FASTOPEN.bits(), libc::MSG_FASTOPEN);
    c!(MsgFlags::CMSG_CLOEXEC.bits(), libc::MSG_CMSG_CLOEXEC);
    c!(fcntl::CLOSE_RANGE_UNSHARE, libc::CLOSE_RANGE_UNSHARE);
    c!(fcntl::CLOSE_RANGE_CLOEXEC, libc::CLOSE_RANGE_CLOEXEC);
    c!(time::TFD_TIMER_ABSTIME, libc::TFD_TIMER_ABSTIME);
    c!(time::TFD_TIMER_CANCEL_ON_SET, libc::TFD_TIMER_CANCEL_ON_SET);
    c!(time::TFD_NONBLOCK, libc::TFD_NONBLOCK);
    c!(time::TFD_CLOEXEC, libc::TFD_CLOEXEC);
    c!(signal::SFD_NONBLOCK, libc::SFD_NONBLOCK);
    c!(signal::SFD_CLOEXEC, libc::SFD_CLOEXEC);
    c!(MfdFlags::CLOEXEC.bits(), libc::MFD_CLOEXEC);
    c!(MfdFlags::ALLOW_SEALING.bits(), libc::MFD_ALLOW_SEALING);
    c!(MfdFlags::HUGETLB.bits(), libc::MFD_HUGETLB);
    c!(MfdFlags::NOEXEC_SEAL.bits(), libc::MFD_NOEXEC_SEAL);
    c!(MfdFlags::EXEC.bits(), libc::MFD_EXEC);
    c!(SpliceFlags::MOVE.bits(), libc::SPLICE_F_MOVE);
    c!(SpliceFlags::NONBLOCK.bits(), libc::SPLICE_F_NONBLOCK);
    c!(SpliceFlags::MORE.bits(), libc::SPLICE_F_MORE);
    c!(SpliceFlags::GIFT.bits(), libc::SPLICE_F_GIFT);
    c!(process::PRIO_PROCESS, libc::PRIO_PROCESS);
    c!(process::PRIO_PGRP, libc::PRIO_PGRP);
    c!(process::PRIO_USER, libc::PRIO_USER);
    c!(process::SCHED_OTHER, libc::SCHED_OTHER);
    c!(process::SCHED_FIFO, libc::SCHED_FIFO);
    c!(process::SCHED_RR, libc::SCHED_RR);
    c!(process::SCHED_BATCH, libc::SCHED_BATCH);
    c!(process::SCHED_IDLE, libc::SCHED_IDLE);
    c!(process::SCHED_RESET_ON_FORK, libc::SCHED_RESET_ON_FORK);
    c!(EfdFlags::SEMAPHORE.bits(), libc::EFD_SEMAPHORE);
    c!(EfdFlags::NONBLOCK.bits(), libc::EFD_NONBLOCK);
    c!(EfdFlags::CLOEXEC.bits(), libc::EFD_CLOEXEC);
    c!(abi_linux::auxv::AT_NULL, libc::AT_NULL);
    c!(abi_linux::auxv::AT_IGNORE, libc::AT_IGNORE);
    c!(abi_linux::auxv::AT_EXECFD, libc::AT_EXECFD);
    c!(abi_linux::auxv::AT_PHDR, libc::AT_PHDR);
    c!(abi_linux::auxv::AT_PHENT, libc::AT_PHENT);
    c!(abi_linux::auxv::AT_PHNUM, libc::AT_PHNUM);
    c!(abi_linux::auxv::AT_PAGESZ, libc::AT_PAGESZ);
    c!(abi_linux::auxv::AT_BASE, libc::AT_BASE);
    c!(abi_linux::auxv::AT_FLAGS, libc::AT_FLAGS);
    c!(abi_linux::auxv::AT_ENTRY, libc::AT_ENTRY);
    c!(abi_linux::auxv::AT_NOTELF, libc::AT_NOTELF);
    c!(abi_linux::auxv::AT_UID, libc::AT_UID);
    c!(abi_linux::auxv::AT_EUID, libc::AT_EUID);
    c!(abi_linux::auxv::AT_GID, libc::AT_GID);
    c!(abi_linux::auxv::AT_EGID, libc::AT_EGID);
    c!(abi_linux::auxv::AT_PLATFORM, libc::AT_PLATFORM);
    c!(abi_linux::auxv::AT_HWCAP, libc::AT_HWCAP);
    c!(abi_linux::auxv::AT_CLKTCK, libc::AT_CLKTCK);
    c!(abi_linux::auxv::AT_SECURE, libc::AT_SECURE);
    c!(abi_linux::auxv::AT_BASE_PLATFORM, libc::AT_BASE_PLATFORM);
    c!(abi_linux::auxv::AT_RANDOM, libc::AT_RANDOM);
    c!(abi_linux::auxv::AT_HWCAP2, libc::AT_HWCAP2);
    c!(abi_linux::auxv::AT_EXECFN, libc::AT_EXECFN);
    c!(abi_linux::auxv::AT_SYSINFO_EHDR, libc::AT_SYSINFO_EHDR);
    c!(abi_linux::auxv::AT_MINSIGSTKSZ, libc::AT_MINSIGSTKSZ);
    c!(EpollEvents::IN.bits(), libc::EPOLLIN);
    c!(EpollEvents::PRI.bits(), libc::EPOLLPRI);
    c!(EpollEvents::OUT.bits(), libc::EPOLLOUT);
    c!(EpollEvents::ERR.bits(), libc::EPOLLERR);
    c!(EpollEvents::HUP.bits(), libc::EPOLLHUP);
    c!(EpollEvents::RDNORM.bits(), libc::EPOLLRDNORM);
    c!(EpollEvents::RDBAND.bits(), libc::EPOLLRDBAND);
    c!(EpollEvents::WRNORM.bits(), libc::EPOLLWRNORM);
    c!(EpollEvents::WRBAND.bits(), libc::EPOLLWRBAND);
    c!(EpollEvents::MSG.bits(), libc::EPOLLMSG);
    c!(EpollEvents::RDHUP.bits(), libc::EPOLLRDHUP);
    c!(EpollEvents::EXCLUSIVE.bits(), libc::EPOLLEXCLUSIVE);
    c!(EpollEvents::WAKEUP.bits(), libc::EPOLLWAKEUP);
    c!(EpollEvents::ONESHOT.bits(), libc::EPOLLONESHOT);
    c!(EpollEvents::ET.bits(), libc::EPOLLET);
    c!(abi_linux::epoll::EPOLL_CTL_ADD, libc::EPOLL_CTL_ADD);
    c!(abi_linux::epoll::EPOLL_CTL_DEL, libc::EPOLL_CTL_DEL);
    c!(abi_linux::epoll::EPOLL_CTL_MOD, libc::EPOLL_CTL_MOD);
    c!(abi_linux::epoll::EPOLL_CLOEXEC, libc::EPOLL_CLOEXEC);
    c!(SealFlags::SEAL.bits(), libc::F_SEAL_SEAL);
    c!(SealFlags::SHRINK.bits(), libc::F_SEAL_SHRINK);
    c!(SealFlags::GROW.bits(), libc::F_SEAL_GROW);
    c!(SealFlags::WRITE.bits(), libc::F_SEAL_WRITE);
    c!(SealFlags::FUTURE_WRITE.bits(), libc::F_SEAL_FUTURE_WRITE);
    c!(SealFlags::EXEC.bits(), libc::F_SEAL_EXEC);
    c!(FlockOp::SH.bits(), libc::LOCK_SH);
    c!(FlockOp::EX.bits(), libc::LOCK_EX);
    c!(FlockOp::NB.bits(), libc::LOCK_NB);
    c!(FlockOp::UN.bits(), libc::LOCK_UN);
    c!(FcntlCmd::DUPFD.0, libc::F_DUPFD);
    c!(FcntlCmd::GETFD.0, libc::F_GETFD);
    c!(FcntlCmd::SETFD.0, libc::F_SETFD);
    c!(FcntlCmd::GETFL.0, libc::F_GETFL);
    c!(FcntlCmd::SETFL.0, libc::F_SETFL);
    c!(FcntlCmd::GETLK.0, libc::F_GETLK);
    c!(FcntlCmd::SETLK.0, libc::F_SETLK);
    c!(FcntlCmd::SETLKW.0, libc::F_SETLKW);
    c!(FcntlCmd::SETOWN.0, libc::F_SETOWN);
    c!(FcntlCmd::GETOWN.0, libc::F_GETOWN);
    c!(FcntlCmd::OFD_GETLK.0, libc::F_OFD_GETLK);
    c!(FcntlCmd::OFD_SETLK.0, libc::F_OFD_SETLK);
    c!(FcntlCmd::OFD_SETLKW.0, libc::F_OFD_SETLKW);
    c!(FcntlCmd::SETLEASE.0, libc::F_SETLEASE);
    c!(FcntlCmd::GETLEASE.0, libc::F_GETLEASE);
    c!(FcntlCmd::NOTIFY.0, libc::F_NOTIFY);
    c!(FcntlCmd::DUPFD_CLOEXEC.0, libc::F_DUPFD_CLOEXEC);
    c!(FcntlCmd::SETPIPE_SZ.0, libc::F_SETPIPE_SZ);
    c!(FcntlCmd::GETPIPE_SZ.0, libc::F_GETPIPE_SZ);
    c!(FcntlCmd::ADD_SEALS.0, libc::F_ADD_SEALS);
    c!(FcntlCmd::GET_SEALS.0, libc::F_GET_SEALS);
    c!(abi_linux::fcntl::FD_CLOEXEC, libc::FD_CLOEXEC);
    c!(abi_linux::futex::FUTEX_WAIT, libc::FUTEX_WAIT);
    c!(abi_linux::futex::FUTEX_WAKE, libc::FUTEX_WAKE);
    c!(abi_linux::futex::FUTEX_FD, libc::FUTEX_FD);
    c!(abi_linux::futex::FUTEX_REQUEUE, libc::FUTEX_REQUEUE);
    c!(abi_linux::futex::FUTEX_CMP_REQUEUE, libc::FUTEX_CMP_REQUEUE);
    c!(abi_linux::futex::FUTEX_WAKE_OP, libc::FUTEX_WAKE_OP);
    c!(abi_linux::futex::FUTEX_LOCK_PI, libc::FUTEX_LOCK_PI);
    c!(abi_linux::futex::FUTEX_UNLOCK_PI, libc::FUTEX_UNLOCK_PI);
    c!(abi_linux::futex::FUTEX_TRYLOCK_PI, libc::FUTEX_TRYLOCK_PI);
    c!(abi_linux::futex::FUTEX_WAIT_BITSET, libc::FUTEX_WAIT_BITSET);
    c!(abi_linux::futex::FUTEX_WAKE_BITSET, libc::FUTEX_WAKE_BITSET);
    c!(
        abi_linux::futex::FUTEX_WAIT_REQUEUE_PI,
        libc::FUTEX_WAIT_REQUEUE_PI
    );
    c!(
        abi_linux::futex::FUTEX_CMP_REQUEUE_PI,
        libc::FUTEX_CMP_REQUEUE_PI
    );
    c!(abi_linux::futex::FUTEX_LOCK_PI2, libc::FUTEX_LOCK_PI2);
    c!(
        abi_linux::futex::FUTEX_PRIVATE_FLAG,
        libc::FUTEX_PRIVATE_FLAG
    );
    c!(
        abi_linux::futex::FUTEX_CLOCK_REALTIME,
        libc::FUTEX_CLOCK_REALTIME
    );
    c!(
        abi_linux::futex::FUTEX_ROBUST_UNLOCK,
        libc::FUTEX_ROBUST_UNLOCK
    );
    c!(
        abi_linux::futex::FUTEX_ROBUST_LIST32,
        libc::FUTEX_ROBUST_LIST32
    );
    c!(abi_linux::futex::FUTEX_CMD_MASK, libc::FUTEX_CMD_MASK);
    c!(
        abi_linux::futex::FUTEX_BITSET_MATCH_ANY,
        libc::FUTEX_BITSET_MATCH_ANY
    );
    c!(abi_linux::futex::FUTEX_WAITERS, libc::FUTEX_WAITERS);
    c!(abi_linux::futex::FUTEX_OWNER_DIED, libc::FUTEX_OWNER_DIED);
    c!(abi_linux::futex::FUTEX_TID_MASK, libc::FUTEX_TID_MASK);
    c!(InotifyMask::ACCESS.bits(), libc::IN_ACCESS);
    c!(InotifyMask::MODIFY.bits(), libc::IN_MODIFY);
    c!(InotifyMask::ATTRIB.bits(), libc::IN_ATTRIB);
    c!(InotifyMask::CLOSE_WRITE.bits(), libc::IN_CLOSE_WRITE);
    c!(InotifyMask::CLOSE_NOWRITE.bits(), libc::IN_CLOSE_NOWRITE);
    c!(InotifyMask::OPEN.bits(), libc::IN_OPEN);
    c!(InotifyMask::MOVED_FROM.bits(), libc::IN_MOVED_FROM);
    c!(InotifyMask::MOVED_TO.bits(), libc::IN_MOVED_TO);
    c!(InotifyMask::CREATE.bits(), libc::IN_CREATE);
    c!(InotifyMask::DELETE.bits(), libc::IN_DELETE);
    c!(InotifyMask::DELETE_SELF.bits(), libc::IN_DELETE_SELF);
    c!(InotifyMask::MOVE_SELF.bits(), libc::IN_MOVE_SELF);
    c!(InotifyMask::UNMOUNT.bits(), libc::IN_UNMOUNT);
    c!(InotifyMask::Q_OVERFLOW.bits(), libc::IN_Q_OVERFLOW);
    c!(InotifyMask::IGNORED.bits(), libc::IN_IGNORED);
    c!(InotifyMask::CLOSE.bits(), libc::IN_CLOSE);
    c!(InotifyMask::MOVE.bits(), libc::IN_MOVE);
    c!(InotifyMask::ALL_EVENTS.bits(), libc::IN_ALL_EVENTS);
    c!(InotifyMask::ONLYDIR.bits(), libc::IN_ONLYDIR);
    c!(InotifyMask::DONT_FOLLOW.bits(), libc::IN_DONT_FOLLOW);
    c!(InotifyMask::EXCL_UNLINK.bits(), libc::IN_EXCL_UNLINK);
    c!(InotifyMask::MASK_CREATE.bits(), libc::IN_MASK_CREATE);
    c!(InotifyMask::MASK_ADD.bits(), libc::IN_MASK_ADD);
    c!(InotifyMask::ISDIR.bits(), libc::IN_ISDIR);
    c!(InotifyMask::ONESHOT.bits(), libc::IN_ONESHOT);
    c!(abi_linux::inotify::IN_CLOEXEC, libc::IN_CLOEXEC);
    c!(abi_linux::inotify::IN_NONBLOCK, libc::IN_NONBLOCK);
    c!(RwfFlags::HIPRI.bits(), libc::RWF_HIPRI);
    c!(RwfFlags::DSYNC.bits(), libc::RWF_DSYNC);
    c!(RwfFlags::SYNC.bits(), libc::RWF_SYNC);
    c!(RwfFlags::NOWAIT.bits(), libc::RWF_NOWAIT);
    c!(RwfFlags::APPEND.bits(), libc::RWF_APPEND);
    c!(RwfFlags::NOAPPEND.bits(), libc::RWF_NOAPPEND);
    c!(RwfFlags::ATOMIC.bits(), libc::RWF_ATOMIC);
    c!(RwfFlags::DONTCACHE.bits(), libc::RWF_DONTCACHE);
    c!(FallocFlags::KEEP_SIZE.bits(), libc::FALLOC_FL_KEEP_SIZE);
    c!(FallocFlags::PUNCH_HOLE.bits(), libc::FALLOC_FL_PUNCH_HOLE);
    c!(
        FallocFlags::COLLAPSE_RANGE.bits(),
        libc::FALLOC_FL_COLLAPSE_RANGE
    );
    c!(FallocFlags::ZERO_RANGE.bits(), libc::FALLOC_FL_ZERO_RANGE);
    c!(
        FallocFlags::INSERT_RANGE.bits(),
        libc::FALLOC_FL_INSERT_RANGE
    );
    c!(
        FallocFlags::UNSHARE_RANGE.bits(),
        libc::FALLOC_FL_UNSHARE_RANGE
    );
    c!(MmapProt::READ.bits(), libc::PROT_READ);
    c!(MmapProt::WRITE.bits(), libc::PROT_WRITE);
    c!(MmapProt::EXEC.bits(), libc::PROT_EXEC);
    c!(MmapProt::GROWSDOWN.bits(), libc::PROT_GROWSDOWN);
    c!(MmapProt::GROWSUP.bits(), libc::PROT_GROWSUP);
    c!(MmapFlags::SHARED.bits(), libc::MAP_SHARED);
    c!(MmapFlags::PRIVATE.bits(), libc::MAP_PRIVATE);
    c!(MmapFlags::SHARED_VALIDATE.bits(), libc::MAP_SHARED_VALIDATE);
    c!(MmapFlags::TYPE.bits(), libc::MAP_TYPE);
    c!(MmapFlags::FIXED.bits(), libc::MAP_FIXED);
    c!(MmapFlags::ANONYMOUS.bits(), libc::MAP_ANONYMOUS);
    c!(MmapFlags::MAP_32BIT.bits(), libc::MAP_32BIT);
    c!(MmapFlags::GROWSDOWN.bits(), libc::MAP_GROWSDOWN);
    c!(MmapFlags::DENYWRITE.bits(), libc::MAP_DENYWRITE);
    c!(MmapFlags::EXECUTABLE.bits(), libc::MAP_EXECUTABLE);
    c!(MmapFlags::LOCKED.bits(), libc::MAP_LOCKED);
    c!(MmapFlags::NORESERVE.bits(), libc::MAP_NORESERVE);
    c!(MmapFlags::POPULATE.bits(), libc::MAP_POPULATE);
    c!(MmapFlags::NONBLOCK.bits(), libc::MAP_NONBLOCK);
    c!(MmapFlags::STACK.bits(), libc::MAP_STACK);
    c!(MmapFlags::HUGETLB.bits(), libc::MAP_HUGETLB);
    c!(MmapFlags::SYNC.bits(), libc::MAP_SYNC);
    c!(MmapFlags::FIXED_NOREPLACE.bits(), libc::MAP_FIXED_NOREPLACE);
    c!(MremapFlags::MAYMOVE.bits(), libc::MREMAP_MAYMOVE);
    c!(MremapFlags::FIXED.bits(), libc::MREMAP_FIXED);
    c!(MremapFlags::DONTUNMAP.bits(), libc::MREMAP_DONTUNMAP);
    c!(MadviseAdvice::NORMAL.0, libc::MADV_NORMAL);
    c!(MadviseAdvice::RANDOM.0, libc::MADV_RANDOM);
    c!(MadviseAdvice::SEQUENTIAL.0, libc::MADV_SEQUENTIAL);
    c!(MadviseAdvice::WILLNEED.0, libc::MADV_WILLNEED);
    c!(MadviseAdvice::DONTNEED.0, libc::MADV_DONTNEED);
    c!(MadviseAdvice::FREE.0, libc::MADV_FREE);
    c!(MadviseAdvice::REMOVE.0, libc::MADV_REMOVE);
    c!(MadviseAdvice::DONTFORK.0, libc::MADV_DONTFORK);
    c!(MadviseAdvice::DOFORK.0, libc::MADV_DOFORK);
    c!(MadviseAdvice::MERGEABLE.0, libc::MADV_MERGEABLE);
    c!(MadviseAdvice::UNMERGEABLE.0, libc::MADV_UNMERGEABLE);
    c!(MadviseAdvice::HUGEPAGE.0, libc::MADV_HUGEPAGE);
    c!(MadviseAdvice::NOHUGEPAGE.0, libc::MADV_NOHUGEPAGE);
    c!(MadviseAdvice::DONTDUMP.0, libc::MADV_DONTDUMP);
    c!(MadviseAdvice::DODUMP.0, libc::MADV_DODUMP);
    c!(MadviseAdvice::WIPEONFORK.0, libc::MADV_WIPEONFORK);
    c!(MadviseAdvice::KEEPONFORK.0, libc::MADV_KEEPONFORK);
    c!(MadviseAdvice::COLD.0, libc::MADV_COLD);
    c!(MadviseAdvice::PAGEOUT.0, libc::MADV_PAGEOUT);
    c!(MadviseAdvice::POPULATE_READ.0, libc::MADV_POPULATE_READ);
    c!(MadviseAdvice::POPULATE_WRITE.0, libc::MADV_POPULATE_WRITE);
    c!(MadviseAdvice::DONTNEED_LOCKED.0, libc::MADV_DONTNEED_LOCKED);
    c!(MadviseAdvice::COLLAPSE.0, libc::MADV_COLLAPSE);
    c!(MadviseAdvice::HWPOISON.0, libc::MADV_HWPOISON);
    c!(MadviseAdvice::SOFT_OFFLINE.0, libc::MADV_SOFT_OFFLINE);
    c!(abi_linux::mm::MAP_HUGE_SHIFT, libc::MAP_HUGE_SHIFT);
    c!(abi_linux::mm::MAP_HUGE_MASK, libc::MAP_HUGE_MASK);
    c!(abi_linux::mode::S_IFMT, libc::S_IFMT);
    c!(abi_linux::mode::S_IFSOCK, libc::S_IFSOCK);
    c!(abi_linux::mode::S_IFLNK, libc::S_IFLNK);
    c!(abi_linux::mode::S_IFREG, libc::S_IFREG);
    c!(abi_linux::mode::S_IFBLK, libc::S_IFBLK);
    c!(abi_linux::mode::S_IFDIR, libc::S_IFDIR);
    c!(abi_linux::mode::S_IFCHR, libc::S_IFCHR);
    c!(abi_linux::mode::S_IFIFO, libc::S_IFIFO);
    c!(abi_linux::mode::S_ISUID, libc::S_ISUID);
    c!(abi_linux::mode::S_ISGID, libc::S_ISGID);
    c!(abi_linux::mode::S_ISVTX, libc::S_ISVTX);
    c!(abi_linux::mode::S_IRWXU, libc::S_IRWXU);
    c!(abi_linux::mode::S_IRUSR, libc::S_IRUSR);
    c!(abi_linux::mode::S_IWUSR, libc::S_IWUSR);
    c!(abi_linux::mode::S_IXUSR, libc::S_IXUSR);
    c!(abi_linux::mode::S_IRWXG, libc::S_IRWXG);
    c!(abi_linux::mode::S_IRGRP, libc::S_IRGRP);
    c!(abi_linux::mode::S_IWGRP, libc::S_IWGRP);
    c!(abi_linux::mode::S_IXGRP, libc::S_IXGRP);
    c!(abi_linux::mode::S_IRWXO, libc::S_IRWXO);
    c!(abi_linux::mode::S_IROTH, libc::S_IROTH);
    c!(abi_linux::mode::S_IWOTH, libc::S_IWOTH);
    c!(abi_linux::mode::S_IXOTH, libc::S_IXOTH);
    c!(abi_linux::mode::DT_UNKNOWN, libc::DT_UNKNOWN);
    c!(abi_linux::mode::DT_FIFO, libc::DT_FIFO);
    c!(abi_linux::mode::DT_CHR, libc::DT_CHR);
    c!(abi_linux::mode::DT_DIR, libc::DT_DIR);
    c!(abi_linux::mode::DT_BLK, libc::DT_BLK);
    c!(abi_linux::mode::DT_REG, libc::DT_REG);
    c!(abi_linux::mode::DT_LNK, libc::DT_LNK);
    c!(abi_linux::mode::DT_SOCK, libc::DT_SOCK);
    c!(MountFlags::RDONLY.bits(), libc::MS_RDONLY);
    c!(MountFlags::NOSUID.bits(), libc::MS_NOSUID);
    c!(MountFlags::NODEV.bits(), libc::MS_NODEV);
    c!(MountFlags::NOEXEC.bits(), libc::MS_NOEXEC);
    c!(MountFlags::SYNCHRONOUS.bits(), libc::MS_SYNCHRONOUS);
    c!(MountFlags::REMOUNT.bits(), libc::MS_REMOUNT);
    c!(MountFlags::MANDLOCK.bits(), libc::MS_MANDLOCK);
    c!(MountFlags::DIRSYNC.bits(), libc::MS_DIRSYNC);
    c!(MountFlags::NOSYMFOLLOW.bits(), libc::MS_NOSYMFOLLOW);
    c!(MountFlags::NOATIME.bits(), libc::MS_NOATIME);
    c!(MountFlags::NODIRATIME.bits(), libc::MS_NODIRATIME);
    c!(MountFlags::BIND.bits(), libc::MS_BIND);
    c!(MountFlags::MOVE.bits(), libc::MS_MOVE);
    c!(MountFlags::REC.bits(), libc::MS_REC);
    c!(MountFlags::SILENT.bits(), libc::MS_SILENT);
    c!(MountFlags::POSIXACL.bits(), libc::MS_POSIXACL);
    c!(MountFlags::UNBINDABLE.bits(), libc::MS_UNBINDABLE);
    c!(MountFlags::PRIVATE.bits(), libc::MS_PRIVATE);
    c!(MountFlags::SLAVE.bits(), libc::MS_SLAVE);
    c!(MountFlags::SHARED.bits(), libc::MS_SHARED);
    c!(MountFlags::RELATIME.bits(), libc::MS_RELATIME);
    c!(MountFlags::KERNMOUNT.bits(), libc::MS_KERNMOUNT);
    c!(MountFlags::I_VERSION.bits(), libc::MS_I_VERSION);
    c!(MountFlags::STRICTATIME.bits(), libc::MS_STRICTATIME);
    c!(MountFlags::LAZYTIME.bits(), libc::MS_LAZYTIME);
    c!(MountFlags::ACTIVE.bits(), libc::MS_ACTIVE);
    c!(MountFlags::NOUSER.bits(), libc::MS_NOUSER);
    c!(UmountFlags::FORCE.bits(), libc::MNT_FORCE);
    c!(UmountFlags::DETACH.bits(), libc::MNT_DETACH);
    c!(UmountFlags::EXPIRE.bits(), libc::MNT_EXPIRE);
    c!(UmountFlags::NOFOLLOW.bits(), libc::UMOUNT_NOFOLLOW);
    c!(abi_linux::mount::MS_MGC_VAL, libc::MS_MGC_VAL);
    c!(abi_linux::mount::MS_MGC_MSK, libc::MS_MGC_MSK);
    c!(OpenFlags::WRONLY.bits(), libc::O_WRONLY);
    c!(OpenFlags::RDWR.bits(), libc::O_RDWR);
    c!(OpenFlags::ACCMODE.bits(), libc::O_ACCMODE);
    c!(OpenFlags::CREAT.bits(), libc::O_CREAT);
    c!(OpenFlags::EXCL.bits(), libc::O_EXCL);
    c!(OpenFlags::NOCTTY.bits(), libc::O_NOCTTY);
    c!(OpenFlags::TRUNC.bits(), libc::O_TRUNC);
    c!(OpenFlags::APPEND.bits(), libc::O_APPEND);
    c!(OpenFlags::NONBLOCK.bits(), libc::O_NONBLOCK);
    c!(OpenFlags::DSYNC.bits(), libc::O_DSYNC);
    c!(OpenFlags::ASYNC.bits(), libc::O_ASYNC);
    c!(OpenFlags::DIRECT.bits(), libc::O_DIRECT);
    // GNU libc's O_LARGEFILE is 0 on 64-bit; the kernel's value is
    // checked in `kernel_oracle.rs`.
    c!(OpenFlags::DIRECTORY.bits(), libc::O_DIRECTORY);
    c!(OpenFlags::NOFOLLOW.bits(), libc::O_NOFOLLOW);
    c!(OpenFlags::NOATIME.bits(), libc::O_NOATIME);
    c!(OpenFlags::CLOEXEC.bits(), libc::O_CLOEXEC);
    c!(OpenFlags::SYNC.bits(), libc::O_SYNC);
    c!(OpenFlags::PATH.bits(), libc::O_PATH);
    c!(OpenFlags::TMPFILE.bits(), libc::O_TMPFILE);
    c!(AtFlags::SYMLINK_NOFOLLOW.bits(), libc::AT_SYMLINK_NOFOLLOW);
    c!(AtFlags::EACCESS.bits(), libc::AT_EACCESS);
    c!(AtFlags::REMOVEDIR.bits(), libc::AT_REMOVEDIR);
    c!(AtFlags::SYMLINK_FOLLOW.bits(), libc::AT_SYMLINK_FOLLOW);
    c!(AtFlags::NO_AUTOMOUNT.bits(), libc::AT_NO_AUTOMOUNT);
    c!(AtFlags::EMPTY_PATH.bits(), libc::AT_EMPTY_PATH);
    c!(AtFlags::STATX_SYNC_TYPE.bits(), libc::AT_STATX_SYNC_TYPE);
    c!(AtFlags::STATX_FORCE_SYNC.bits(), libc::AT_STATX_FORCE_SYNC);
    c!(AtFlags::STATX_DONT_SYNC.bits(), libc::AT_STATX_DONT_SYNC);
    c!(AtFlags::RECURSIVE.bits(), libc::AT_RECURSIVE);
    c!(ResolveFlags::NO_XDEV.bits(), libc::RESOLVE_NO_XDEV);
    c!(
        ResolveFlags::NO_MAGICLINKS.bits(),
        libc::RESOLVE_NO_MAGICLINKS
    );
    c!(ResolveFlags::NO_SYMLINKS.bits(), libc::RESOLVE_NO_SYMLINKS);
    c!(ResolveFlags::BENEATH.bits(), libc::RESOLVE_BENEATH);
    c!(ResolveFlags::IN_ROOT.bits(), libc::RESOLVE_IN_ROOT);
    c!(ResolveFlags::CACHED.bits(), libc::RESOLVE_CACHED);
    c!(RenameFlags::NOREPLACE.bits(), libc::RENAME_NOREPLACE);
    c!(RenameFlags::EXCHANGE.bits(), libc::RENAME_EXCHANGE);
    c!(RenameFlags::WHITEOUT.bits(), libc::RENAME_WHITEOUT);
    c!(XattrFlags::CREATE.bits(), libc::XATTR_CREATE);
    c!(XattrFlags::REPLACE.bits(), libc::XATTR_REPLACE);
    c!(abi_linux::open::AT_FDCWD, libc::AT_FDCWD);
    c!(PollEvents::IN.bits(), libc::POLLIN);
    c!(PollEvents::PRI.bits(), libc::POLLPRI);
    c!(PollEvents::OUT.bits(), libc::POLLOUT);
    c!(PollEvents::ERR.bits(), libc::POLLERR);
    c!(PollEvents::HUP.bits(), libc::POLLHUP);
    c!(PollEvents::NVAL.bits(), libc::POLLNVAL);
    c!(PollEvents::RDNORM.bits(), libc::POLLRDNORM);
    c!(PollEvents::RDBAND.bits(), libc::POLLRDBAND);
    c!(PollEvents::WRNORM.bits(), libc::POLLWRNORM);
    c!(PollEvents::WRBAND.bits(), libc::POLLWRBAND);
    c!(PollEvents::RDHUP.bits(), libc::POLLRDHUP);
    c!(CloneFlags::NEWTIME.bits(), libc::CLONE_NEWTIME);
    c!(CloneFlags::VM.bits(), libc::CLONE_VM);
    c!(CloneFlags::FS.bits(), libc::CLONE_FS);
    c!(CloneFlags::FILES.bits(), libc::CLONE_FILES);
    c!(CloneFlags::SIGHAND.bits(), libc::CLONE_SIGHAND);
    c!(CloneFlags::PIDFD.bits(), libc::CLONE_PIDFD);
    c!(CloneFlags::PTRACE.bits(), libc::CLONE_PTRACE);
    c!(CloneFlags::VFORK.bits(), libc::CLONE_VFORK);
    c!(CloneFlags::PARENT.bits(), libc::CLONE_PARENT);
    c!(CloneFlags::THREAD.bits(), libc::CLONE_THREAD);
    c!(CloneFlags::NEWNS.bits(), libc::CLONE_NEWNS);
    c!(CloneFlags::SYSVSEM.bits(), libc::CLONE_SYSVSEM);
    c!(CloneFlags::SETTLS.bits(), libc::CLONE_SETTLS);
    c!(CloneFlags::PARENT_SETTID.bits(), libc::CLONE_PARENT_SETTID);
    c!(
        CloneFlags::CHILD_CLEARTID.bits(),
        libc::CLONE_CHILD_CLEARTID
    );
    c!(CloneFlags::DETACHED.bits(), libc::CLONE_DETACHED);
    c!(CloneFlags::UNTRACED.bits(), libc::CLONE_UNTRACED);
    c!(CloneFlags::CHILD_SETTID.bits(), libc::CLONE_CHILD_SETTID);
    c!(CloneFlags::NEWCGROUP.bits(), libc::CLONE_NEWCGROUP);
    c!(CloneFlags::NEWUTS.bits(), libc::CLONE_NEWUTS);
    c!(CloneFlags::NEWIPC.bits(), libc::CLONE_NEWIPC);
    c!(CloneFlags::NEWUSER.bits(), libc::CLONE_NEWUSER);
    c!(CloneFlags::NEWPID.bits(), libc::CLONE_NEWPID);
    c!(CloneFlags::NEWNET.bits(), libc::CLONE_NEWNET);
    c!(CloneFlags::IO.bits(), libc::CLONE_IO);
    // libc 0.2's CLONE_CLEAR_SIGHAND and CLONE_INTO_CGROUP overflow its
    // `c_int`; ours are the kernel's 64-bit values (bits 32 and 33).
    c!(WaitOptions::NOHANG.bits(), libc::WNOHANG);
    c!(WaitOptions::UNTRACED.bits(), libc::WUNTRACED);
    c!(WaitOptions::EXITED.bits(), libc::WEXITED);
    c!(WaitOptions::CONTINUED.bits(), libc::WCONTINUED);
    c!(WaitOptions::NOWAIT.bits(), libc::WNOWAIT);
    c!(WaitOptions::NOTHREAD.bits(), libc::__WNOTHREAD);
    c!(WaitOptions::ALL.bits(), libc::__WALL);
    c!(WaitOptions::CLONE.bits(), libc::__WCLONE);
    c!(WaitOptions::STOPPED.bits(), libc::WSTOPPED);
    c!(abi_linux::process::CSIGNAL, libc::CSIGNAL);
    c!(abi_linux::process::P_ALL, libc::P_ALL);
    c!(abi_linux::process::P_PID, libc::P_PID);
    c!(abi_linux::process::P_PGID, libc::P_PGID);
    c!(abi_linux::process::P_PIDFD, libc::P_PIDFD);
    c!(abi_linux::process::RUSAGE_SELF, libc::RUSAGE_SELF);
    c!(abi_linux::process::RUSAGE_CHILDREN, libc::RUSAGE_CHILDREN);
    c!(abi_linux::process::RUSAGE_THREAD, libc::RUSAGE_THREAD);
    c!(abi_linux::process::PR_SET_PDEATHSIG, libc::PR_SET_PDEATHSIG);
    c!(abi_linux::process::PR_GET_PDEATHSIG, libc::PR_GET_PDEATHSIG);
    c!(abi_linux::process::PR_GET_DUMPABLE, libc::PR_GET_DUMPABLE);
    c!(abi_linux::process::PR_SET_DUMPABLE, libc::PR_SET_DUMPABLE);
    c!(abi_linux::process::PR_GET_KEEPCAPS, libc::PR_GET_KEEPCAPS);
    c!(abi_linux::process::PR_SET_KEEPCAPS, libc::PR_SET_KEEPCAPS);
    c!(abi_linux::process::PR_GET_TIMING, libc::PR_GET_TIMING);
    c!(abi_linux::process::PR_SET_NAME, libc::PR_SET_NAME);
    c!(abi_linux::process::PR_GET_NAME, libc::PR_GET_NAME);
    c!(abi_linux::process::PR_GET_SECCOMP, libc::PR_GET_SECCOMP);
    c!(abi_linux::process::PR_SET_SECCOMP, libc::PR_SET_SECCOMP);
    c!(abi_linux::process::PR_CAPBSET_READ, libc::PR_CAPBSET_READ);
    c!(abi_linux::process::PR_CAPBSET_DROP, libc::PR_CAPBSET_DROP);
    c!(
        abi_linux::process::PR_GET_SECUREBITS,
        libc::PR_GET_SECUREBITS
    );
    c!(
        abi_linux::process::PR_SET_SECUREBITS,
        libc::PR_SET_SECUREBITS
    );
    c!(
        abi_linux::process::PR_SET_TIMERSLACK,
        libc::PR_SET_TIMERSLACK
    );
    c!(
        abi_linux::process::PR_GET_TIMERSLACK,
        libc::PR_GET_TIMERSLACK
    );
    c!(abi_linux::process::PR_SET_MM, libc::PR_SET_MM);
    c!(
        abi_linux::process::PR_SET_CHILD_SUBREAPER,
        libc::PR_SET_CHILD_SUBREAPER
    );
    c!(
        abi_linux::process::PR_GET_CHILD_SUBREAPER,
        libc::PR_GET_CHILD_SUBREAPER
    );
    c!(
        abi_linux::process::PR_SET_NO_NEW_PRIVS,
        libc::PR_SET_NO_NEW_PRIVS
    );
    c!(
        abi_linux::process::PR_GET_NO_NEW_PRIVS,
        libc::PR_GET_NO_NEW_PRIVS
    );
    c!(
        abi_linux::process::PR_GET_TID_ADDRESS,
        libc::PR_GET_TID_ADDRESS
    );
    c!(
        abi_linux::process::PR_SET_THP_DISABLE,
        libc::PR_SET_THP_DISABLE
    );
    c!(
        abi_linux::process::PR_GET_THP_DISABLE,
        libc::PR_GET_THP_DISABLE
    );
    c!(abi_linux::process::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT);
    c!(abi_linux::process::PR_SET_VMA, libc::PR_SET_VMA);
    c!(abi_linux::process::PR_SET_PTRACER, libc::PR_SET_PTRACER);
    c!(abi_linux::rlimit::RLIM_INFINITY, libc::RLIM_INFINITY);
    c!(SaFlags::NOCLDSTOP.bits(), libc::SA_NOCLDSTOP);
    c!(SaFlags::NOCLDWAIT.bits(), libc::SA_NOCLDWAIT);
    c!(SaFlags::SIGINFO.bits(), libc::SA_SIGINFO);
    c!(SaFlags::ONSTACK.bits(), libc::SA_ONSTACK);
    c!(SaFlags::RESTART.bits(), libc::SA_RESTART);
    c!(SaFlags::NODEFER.bits(), libc::SA_NODEFER);
    c!(SaFlags::RESETHAND.bits(), libc::SA_RESETHAND);
    c!(Signal::SIGIOT.0, libc::SIGIOT);
    c!(Signal::SIGPOLL.0, libc::SIGPOLL);
    // libc's SIGRTMIN and SIGRTMAX are GNU libc's functions, checked in
    // `derived_constants_match_libc`.
    c!(abi_linux::signal::SIG_BLOCK, libc::SIG_BLOCK);
    c!(abi_linux::signal::SIG_UNBLOCK, libc::SIG_UNBLOCK);
    c!(abi_linux::signal::SIG_SETMASK, libc::SIG_SETMASK);
    c!(abi_linux::signal::SIG_DFL, libc::SIG_DFL);
    c!(abi_linux::signal::SIG_IGN, libc::SIG_IGN);
    c!(abi_linux::signal::SS_ONSTACK, libc::SS_ONSTACK);
    c!(abi_linux::signal::SS_DISABLE, libc::SS_DISABLE);
    c!(abi_linux::signal::SI_USER, libc::SI_USER);
    c!(abi_linux::signal::SI_KERNEL, libc::SI_KERNEL);
    c!(abi_linux::signal::SI_QUEUE, libc::SI_QUEUE);
    c!(abi_linux::signal::SI_TIMER, libc::SI_TIMER);
    c!(abi_linux::signal::SI_TKILL, libc::SI_TKILL);
    c!(StatxMask::TYPE.bits(), libc::STATX_TYPE);
    c!(StatxMask::MODE.bits(), libc::STATX_MODE);
    c!(StatxMask::NLINK.bits(), libc::STATX_NLINK);
    c!(StatxMask::UID.bits(), libc::STATX_UID);
    c!(StatxMask::GID.bits(), libc::STATX_GID);
    c!(StatxMask::ATIME.bits(), libc::STATX_ATIME);
    c!(StatxMask::MTIME.bits(), libc::STATX_MTIME);
    c!(StatxMask::CTIME.bits(), libc::STATX_CTIME);
    c!(StatxMask::INO.bits(), libc::STATX_INO);
    c!(StatxMask::SIZE.bits(), libc::STATX_SIZE);
    c!(StatxMask::BLOCKS.bits(), libc::STATX_BLOCKS);
    c!(StatxMask::BASIC_STATS.bits(), libc::STATX_BASIC_STATS);
    c!(StatxMask::BTIME.bits(), libc::STATX_BTIME);
    c!(StatxMask::ALL.bits(), libc::STATX_ALL);
    c!(StatxMask::MNT_ID.bits(), libc::STATX_MNT_ID);
    c!(StatxMask::DIOALIGN.bits(), libc::STATX_DIOALIGN);
    c!(StatxMask::MNT_ID_UNIQUE.bits(), libc::STATX_MNT_ID_UNIQUE);
    c!(StatxMask::SUBVOL.bits(), libc::STATX_SUBVOL);
    c!(StatxMask::WRITE_ATOMIC.bits(), libc::STATX_WRITE_ATOMIC);
    c!(StatxMask::DIO_READ_ALIGN.bits(), libc::STATX_DIO_READ_ALIGN);
    c!(StatxMask::RESERVED.bits(), libc::STATX__RESERVED);
    c!(
        StatxAttributes::COMPRESSED.bits(),
        libc::STATX_ATTR_COMPRESSED
    );
    c!(
        StatxAttributes::IMMUTABLE.bits(),
        libc::STATX_ATTR_IMMUTABLE
    );
    c!(StatxAttributes::APPEND.bits(), libc::STATX_ATTR_APPEND);
    c!(StatxAttributes::NODUMP.bits(), libc::STATX_ATTR_NODUMP);
    c!(
        StatxAttributes::ENCRYPTED.bits(),
        libc::STATX_ATTR_ENCRYPTED
    );
    c!(
        StatxAttributes::AUTOMOUNT.bits(),
        libc::STATX_ATTR_AUTOMOUNT
    );
    c!(
        StatxAttributes::MOUNT_ROOT.bits(),
        libc::STATX_ATTR_MOUNT_ROOT
    );
    c!(StatxAttributes::VERITY.bits(), libc::STATX_ATTR_VERITY);
    c!(StatxAttributes::DAX.bits(), libc::STATX_ATTR_DAX);
    c!(
        StatxAttributes::WRITE_ATOMIC.bits(),
        libc::STATX_ATTR_WRITE_ATOMIC
    );
    c!(ClockId::REALTIME.0, libc::CLOCK_REALTIME);
    c!(ClockId::MONOTONIC.0, libc::CLOCK_MONOTONIC);
    c!(
        ClockId::PROCESS_CPUTIME_ID.0,
        libc::CLOCK_PROCESS_CPUTIME_ID
    );
    c!(ClockId::THREAD_CPUTIME_ID.0, libc::CLOCK_THREAD_CPUTIME_ID);
    c!(ClockId::MONOTONIC_RAW.0, libc::CLOCK_MONOTONIC_RAW);
    c!(ClockId::REALTIME_COARSE.0, libc::CLOCK_REALTIME_COARSE);
    c!(ClockId::MONOTONIC_COARSE.0, libc::CLOCK_MONOTONIC_COARSE);
    c!(ClockId::BOOTTIME.0, libc::CLOCK_BOOTTIME);
    c!(ClockId::REALTIME_ALARM.0, libc::CLOCK_REALTIME_ALARM);
    c!(ClockId::BOOTTIME_ALARM.0, libc::CLOCK_BOOTTIME_ALARM);
    c!(ClockId::TAI.0, libc::CLOCK_TAI);
    c!(abi_linux::tty::TCGETS, libc::TCGETS);
    c!(abi_linux::tty::TCSETS, libc::TCSETS);
    c!(abi_linux::tty::TCSETSW, libc::TCSETSW);
    c!(abi_linux::tty::TCSETSF, libc::TCSETSF);
    c!(abi_linux::tty::TCSBRK, libc::TCSBRK);
    c!(abi_linux::tty::TCXONC, libc::TCXONC);
    c!(abi_linux::tty::TCFLSH, libc::TCFLSH);
    c!(abi_linux::tty::TIOCEXCL, libc::TIOCEXCL);
    c!(abi_linux::tty::TIOCNXCL, libc::TIOCNXCL);
    c!(abi_linux::tty::TIOCSCTTY, libc::TIOCSCTTY);
    c!(abi_linux::tty::TIOCGPGRP, libc::TIOCGPGRP);
    c!(abi_linux::tty::TIOCSPGRP, libc::TIOCSPGRP);
    c!(abi_linux::tty::TIOCOUTQ, libc::TIOCOUTQ);
    c!(abi_linux::tty::TIOCSTI, libc::TIOCSTI);
    c!(abi_linux::tty::TIOCGWINSZ, libc::TIOCGWINSZ);
    c!(abi_linux::tty::TIOCSWINSZ, libc::TIOCSWINSZ);
    c!(abi_linux::tty::FIONREAD, libc::FIONREAD);
    c!(abi_linux::tty::TIOCINQ, libc::TIOCINQ);
    c!(abi_linux::tty::FIONBIO, libc::FIONBIO);
    c!(abi_linux::tty::TIOCNOTTY, libc::TIOCNOTTY);
    c!(abi_linux::tty::TIOCGSID, libc::TIOCGSID);
    c!(abi_linux::tty::TIOCGPTN, libc::TIOCGPTN);
    c!(abi_linux::tty::TIOCSPTLCK, libc::TIOCSPTLCK);
    c!(abi_linux::tty::TIOCGPTPEER, libc::TIOCGPTPEER);
    c!(abi_linux::tty::FIONCLEX, libc::FIONCLEX);
    c!(abi_linux::tty::FIOCLEX, libc::FIOCLEX);
    c!(abi_linux::tty::FIOASYNC, libc::FIOASYNC);
}

#[test]
fn derived_constants_match_libc() {
    c!(
        MODE_PERMS_MASK,
        libc::S_ISUID
            | libc::S_ISGID
            | libc::S_ISVTX
            | libc::S_IRWXU
            | libc::S_IRWXG
            | libc::S_IRWXO
    );
    c!(
        abi_linux::system::UTSNAME_LENGTH,
        size_of::<[libc::c_char; 65]>()
    );
    c!(Capability::LAST.raw(), 40);
    for r in 0..RlimitResource::COUNT as u32 {
        assert!(RlimitResource::from_raw(r).is_some());
    }
    c!(RlimitResource::CPU as u32, libc::RLIMIT_CPU);
    c!(RlimitResource::FSIZE as u32, libc::RLIMIT_FSIZE);
    c!(RlimitResource::DATA as u32, libc::RLIMIT_DATA);
    c!(RlimitResource::STACK as u32, libc::RLIMIT_STACK);
    c!(RlimitResource::CORE as u32, libc::RLIMIT_CORE);
    c!(RlimitResource::RSS as u32, libc::RLIMIT_RSS);
    c!(RlimitResource::NPROC as u32, libc::RLIMIT_NPROC);
    c!(RlimitResource::NOFILE as u32, libc::RLIMIT_NOFILE);
    c!(RlimitResource::MEMLOCK as u32, libc::RLIMIT_MEMLOCK);
    c!(RlimitResource::AS as u32, libc::RLIMIT_AS);
    c!(RlimitResource::LOCKS as u32, libc::RLIMIT_LOCKS);
    c!(RlimitResource::SIGPENDING as u32, libc::RLIMIT_SIGPENDING);
    c!(RlimitResource::MSGQUEUE as u32, libc::RLIMIT_MSGQUEUE);
    c!(RlimitResource::NICE as u32, libc::RLIMIT_NICE);
    c!(RlimitResource::RTPRIO as u32, libc::RLIMIT_RTPRIO);
    c!(RlimitResource::RTTIME as u32, libc::RLIMIT_RTTIME);
    c!(LockType::RDLCK as i16, libc::F_RDLCK);
    c!(LockType::WRLCK as i16, libc::F_WRLCK);
    c!(LockType::UNLCK as i16, libc::F_UNLCK);
    c!(Whence::Set as i32, libc::SEEK_SET);
    c!(Whence::Cur as i32, libc::SEEK_CUR);
    c!(Whence::End as i32, libc::SEEK_END);
    c!(Whence::Data as i32, libc::SEEK_DATA);
    c!(Whence::Hole as i32, libc::SEEK_HOLE);
    c!(Signal::SIGRTMAX.0, libc::SIGRTMAX());
    // GNU libc reserves the kernel's first real-time signals for itself.
    assert!(Signal::SIGRTMIN.0 < libc::SIGRTMIN());
    assert!(Signal(libc::SIGRTMIN()).is_realtime());
    c!(FileType::Regular.mode_bits(), libc::S_IFREG);
    c!(FileType::Directory.mode_bits(), libc::S_IFDIR);
    c!(FileType::Symlink.mode_bits(), libc::S_IFLNK);
    c!(FileType::CharDevice.mode_bits(), libc::S_IFCHR);
    c!(FileType::BlockDevice.mode_bits(), libc::S_IFBLK);
    c!(FileType::Fifo.mode_bits(), libc::S_IFIFO);
    c!(FileType::Socket.mode_bits(), libc::S_IFSOCK);
    c!(FileType::Regular.dirent_type(), libc::DT_REG);
    c!(FileType::Directory.dirent_type(), libc::DT_DIR);
    c!(FileType::Symlink.dirent_type(), libc::DT_LNK);
    c!(FileType::CharDevice.dirent_type(), libc::DT_CHR);
    c!(FileType::BlockDevice.dirent_type(), libc::DT_BLK);
    c!(FileType::Fifo.dirent_type(), libc::DT_FIFO);
    c!(FileType::Socket.dirent_type(), libc::DT_SOCK);
}

/// The standard signal names are the names of libc's constants.
#[test]
fn signal_names_match_libc_constants() {
    let pairs = [
        ("SIGHUP", libc::SIGHUP),
        ("SIGINT", libc::SIGINT),
        ("SIGQUIT", libc::SIGQUIT),
        ("SIGILL", libc::SIGILL),
        ("SIGTRAP", libc::SIGTRAP),
        ("SIGABRT", libc::SIGABRT),
        ("SIGBUS", libc::SIGBUS),
        ("SIGFPE", libc::SIGFPE),
        ("SIGKILL", libc::SIGKILL),
        ("SIGUSR1", libc::SIGUSR1),
        ("SIGSEGV", libc::SIGSEGV),
        ("SIGUSR2", libc::SIGUSR2),
        ("SIGPIPE", libc::SIGPIPE),
        ("SIGALRM", libc::SIGALRM),
        ("SIGTERM", libc::SIGTERM),
        ("SIGSTKFLT", libc::SIGSTKFLT),
        ("SIGCHLD", libc::SIGCHLD),
        ("SIGCONT", libc::SIGCONT),
        ("SIGSTOP", libc::SIGSTOP),
        ("SIGTSTP", libc::SIGTSTP),
        ("SIGTTIN", libc::SIGTTIN),
        ("SIGTTOU", libc::SIGTTOU),
        ("SIGURG", libc::SIGURG),
        ("SIGXCPU", libc::SIGXCPU),
        ("SIGXFSZ", libc::SIGXFSZ),
        ("SIGVTALRM", libc::SIGVTALRM),
        ("SIGPROF", libc::SIGPROF),
        ("SIGWINCH", libc::SIGWINCH),
        ("SIGIO", libc::SIGIO),
        ("SIGPWR", libc::SIGPWR),
        ("SIGSYS", libc::SIGSYS),
    ];
    for (name, v) in pairs {
        assert_eq!(Signal(v).name(), Some(name));
    }
    assert_eq!(Signal(32).name(), None);
}

/// Every errno constant with libc's value, libc's name and GNU libc's
/// `strerror` text.
const ERRNOS: &[(Errno, i32, &str)] = &[
    (Errno::EPERM, libc::EPERM, "EPERM"),
    (Errno::ENOENT, libc::ENOENT, "ENOENT"),
    (Errno::ESRCH, libc::ESRCH, "ESRCH"),
    (Errno::EINTR, libc::EINTR, "EINTR"),
    (Errno::EIO, libc::EIO, "EIO"),
    (Errno::ENXIO, libc::ENXIO, "ENXIO"),
    (Errno::E2BIG, libc::E2BIG, "E2BIG"),
    (Errno::ENOEXEC, libc::ENOEXEC, "ENOEXEC"),
    (Errno::EBADF, libc::EBADF, "EBADF"),
    (Errno::ECHILD, libc::ECHILD, "ECHILD"),
    (Errno::EAGAIN, libc::EAGAIN, "EAGAIN"),
    (Errno::ENOMEM, libc::ENOMEM, "ENOMEM"),
    (Errno::EACCES, libc::EACCES, "EACCES"),
    (Errno::EFAULT, libc::EFAULT, "EFAULT"),
    (Errno::ENOTBLK, libc::ENOTBLK, "ENOTBLK"),
    (Errno::EBUSY, libc::EBUSY, "EBUSY"),
    (Errno::EEXIST, libc::EEXIST, "EEXIST"),
    (Errno::EXDEV, libc::EXDEV, "EXDEV"),
    (Errno::ENODEV, libc::ENODEV, "ENODEV"),
    (Errno::ENOTDIR, libc::ENOTDIR, "ENOTDIR"),
    (Errno::EISDIR, libc::EISDIR, "EISDIR"),
    (Errno::EINVAL, libc::EINVAL, "EINVAL"),
    (Errno::ENFILE, libc::ENFILE, "ENFILE"),
    (Errno::EMFILE, libc::EMFILE, "EMFILE"),
    (Errno::ENOTTY, libc::ENOTTY, "ENOTTY"),
    (Errno::ETXTBSY, libc::ETXTBSY, "ETXTBSY"),
    (Errno::EFBIG, libc::EFBIG, "EFBIG"),
    (Errno::ENOSPC, libc::ENOSPC, "ENOSPC"),
    (Errno::ESPIPE, libc::ESPIPE, "ESPIPE"),
    (Errno::EROFS, libc::EROFS, "EROFS"),
    (Errno::EMLINK, libc::EMLINK, "EMLINK"),
    (Errno::EPIPE, libc::EPIPE, "EPIPE"),
    (Errno::EDOM, libc::EDOM, "EDOM"),
    (Errno::ERANGE, libc::ERANGE, "ERANGE"),
    (Errno::EDEADLK, libc::EDEADLK, "EDEADLK"),
    (Errno::ENAMETOOLONG, libc::ENAMETOOLONG, "ENAMETOOLONG"),
    (Errno::ENOLCK, libc::ENOLCK, "ENOLCK"),
    (Errno::ENOSYS, libc::ENOSYS, "ENOSYS"),
    (Errno::ENOTEMPTY, libc::ENOTEMPTY, "ENOTEMPTY"),
    (Errno::ELOOP, libc::ELOOP, "ELOOP"),
    (Errno::ENOMSG, libc::ENOMSG, "ENOMSG"),
    (Errno::EIDRM, libc::EIDRM, "EIDRM"),
    (Errno::ECHRNG, libc::ECHRNG, "ECHRNG"),
    (Errno::EL2NSYNC, libc::EL2NSYNC, "EL2NSYNC"),
    (Errno::EL3HLT, libc::EL3HLT, "EL3HLT"),
    (Errno::EL3RST, libc::EL3RST, "EL3RST"),
    (Errno::ELNRNG, libc::ELNRNG, "ELNRNG"),
    (Errno::EUNATCH, libc::EUNATCH, "EUNATCH"),
    (Errno::ENOCSI, libc::ENOCSI, "ENOCSI"),
    (Errno::EL2HLT, libc::EL2HLT, "EL2HLT"),
    (Errno::EBADE, libc::EBADE, "EBADE"),
    (Errno::EBADR, libc::EBADR, "EBADR"),
    (Errno::EXFULL, libc::EXFULL, "EXFULL"),
    (Errno::ENOANO, libc::ENOANO, "ENOANO"),
    (Errno::EBADRQC, libc::EBADRQC, "EBADRQC"),
    (Errno::EBADSLT, libc::EBADSLT, "EBADSLT"),
    (Errno::EBFONT, libc::EBFONT, "EBFONT"),
    (Errno::ENOSTR, libc::ENOSTR, "ENOSTR"),
    (Errno::ENODATA, libc::ENODATA, "ENODATA"),
    (Errno::ETIME, libc::ETIME, "ETIME"),
    (Errno::ENOSR, libc::ENOSR, "ENOSR"),
    (Errno::ENONET, libc::ENONET, "ENONET"),
    (Errno::ENOPKG, libc::ENOPKG, "ENOPKG"),
    (Errno::EREMOTE, libc::EREMOTE, "EREMOTE"),
    (Errno::ENOLINK, libc::ENOLINK, "ENOLINK"),
    (Errno::EADV, libc::EADV, "EADV"),
    (Errno::ESRMNT, libc::ESRMNT, "ESRMNT"),
    (Errno::ECOMM, libc::ECOMM, "ECOMM"),
    (Errno::EPROTO, libc::EPROTO, "EPROTO"),
    (Errno::EMULTIHOP, libc::EMULTIHOP, "EMULTIHOP"),
    (Errno::EDOTDOT, libc::EDOTDOT, "EDOTDOT"),
    (Errno::EBADMSG, libc::EBADMSG, "EBADMSG"),
    (Errno::EOVERFLOW, libc::EOVERFLOW, "EOVERFLOW"),
    (Errno::ENOTUNIQ, libc::ENOTUNIQ, "ENOTUNIQ"),
    (Errno::EBADFD, libc::EBADFD, "EBADFD"),
    (Errno::EREMCHG, libc::EREMCHG, "EREMCHG"),
    (Errno::ELIBACC, libc::ELIBACC, "ELIBACC"),
    (Errno::ELIBBAD, libc::ELIBBAD, "ELIBBAD"),
    (Errno::ELIBSCN, libc::ELIBSCN, "ELIBSCN"),
    (Errno::ELIBMAX, libc::ELIBMAX, "ELIBMAX"),
    (Errno::ELIBEXEC, libc::ELIBEXEC, "ELIBEXEC"),
    (Errno::EILSEQ, libc::EILSEQ, "EILSEQ"),
    (Errno::ERESTART, libc::ERESTART, "ERESTART"),
    (Errno::ESTRPIPE, libc::ESTRPIPE, "ESTRPIPE"),
    (Errno::EUSERS, libc::EUSERS, "EUSERS"),
    (Errno::ENOTSOCK, libc::ENOTSOCK, "ENOTSOCK"),
    (Errno::EDESTADDRREQ, libc::EDESTADDRREQ, "EDESTADDRREQ"),
    (Errno::EMSGSIZE, libc::EMSGSIZE, "EMSGSIZE"),
    (Errno::EPROTOTYPE, libc::EPROTOTYPE, "EPROTOTYPE"),
    (Errno::ENOPROTOOPT, libc::ENOPROTOOPT, "ENOPROTOOPT"),
    (
        Errno::EPROTONOSUPPORT,
        libc::EPROTONOSUPPORT,
        "EPROTONOSUPPORT",
    ),
    (
        Errno::ESOCKTNOSUPPORT,
        libc::ESOCKTNOSUPPORT,
        "ESOCKTNOSUPPORT",
    ),
    (Errno::EOPNOTSUPP, libc::EOPNOTSUPP, "EOPNOTSUPP"),
    (Errno::EPFNOSUPPORT, libc::EPFNOSUPPORT, "EPFNOSUPPORT"),
    (Errno::EAFNOSUPPORT, libc::EAFNOSUPPORT, "EAFNOSUPPORT"),
    (Errno::EADDRINUSE, libc::EADDRINUSE, "EADDRINUSE"),
    (Errno::EADDRNOTAVAIL, libc::EADDRNOTAVAIL, "EADDRNOTAVAIL"),
    (Errno::ENETDOWN, libc::ENETDOWN, "ENETDOWN"),
    (Errno::ENETUNREACH, libc::ENETUNREACH, "ENETUNREACH"),
    (Errno::ENETRESET, libc::ENETRESET, "ENETRESET"),
    (Errno::ECONNABORTED, libc::ECONNABORTED, "ECONNABORTED"),
    (Errno::ECONNRESET, libc::ECONNRESET, "ECONNRESET"),
    (Errno::ENOBUFS, libc::ENOBUFS, "ENOBUFS"),
    (Errno::EISCONN, libc::EISCONN, "EISCONN"),
    (Errno::ENOTCONN, libc::ENOTCONN, "ENOTCONN"),
    (Errno::ESHUTDOWN, libc::ESHUTDOWN, "ESHUTDOWN"),
    (Errno::ETOOMANYREFS, libc::ETOOMANYREFS, "ETOOMANYREFS"),
    (Errno::ETIMEDOUT, libc::ETIMEDOUT, "ETIMEDOUT"),
    (Errno::ECONNREFUSED, libc::ECONNREFUSED, "ECONNREFUSED"),
    (Errno::EHOSTDOWN, libc::EHOSTDOWN, "EHOSTDOWN"),
    (Errno::EHOSTUNREACH, libc::EHOSTUNREACH, "EHOSTUNREACH"),
    (Errno::EALREADY, libc::EALREADY, "EALREADY"),
    (Errno::EINPROGRESS, libc::EINPROGRESS, "EINPROGRESS"),
    (Errno::ESTALE, libc::ESTALE, "ESTALE"),
    (Errno::EUCLEAN, libc::EUCLEAN, "EUCLEAN"),
    (Errno::ENOTNAM, libc::ENOTNAM, "ENOTNAM"),
    (Errno::ENAVAIL, libc::ENAVAIL, "ENAVAIL"),
    (Errno::EISNAM, libc::EISNAM, "EISNAM"),
    (Errno::EREMOTEIO, libc::EREMOTEIO, "EREMOTEIO"),
    (Errno::EDQUOT, libc::EDQUOT, "EDQUOT"),
    (Errno::ENOMEDIUM, libc::ENOMEDIUM, "ENOMEDIUM"),
    (Errno::EMEDIUMTYPE, libc::EMEDIUMTYPE, "EMEDIUMTYPE"),
    (Errno::ECANCELED, libc::ECANCELED, "ECANCELED"),
    (Errno::ENOKEY, libc::ENOKEY, "ENOKEY"),
    (Errno::EKEYEXPIRED, libc::EKEYEXPIRED, "EKEYEXPIRED"),
    (Errno::EKEYREVOKED, libc::EKEYREVOKED, "EKEYREVOKED"),
    (Errno::EKEYREJECTED, libc::EKEYREJECTED, "EKEYREJECTED"),
    (Errno::EOWNERDEAD, libc::EOWNERDEAD, "EOWNERDEAD"),
    (
        Errno::ENOTRECOVERABLE,
        libc::ENOTRECOVERABLE,
        "ENOTRECOVERABLE",
    ),
    (Errno::ERFKILL, libc::ERFKILL, "ERFKILL"),
    (Errno::EHWPOISON, libc::EHWPOISON, "EHWPOISON"),
];

#[test]
fn every_errno_matches_libc_value_name_and_strerror() {
    let mut seen = BTreeSet::new();
    for &(e, v, name) in ERRNOS {
        assert_eq!(e.raw(), v, "{name}");
        assert_eq!(e.name(), name);
        assert_eq!(Errno::from_raw(v), Some(e));
        assert_eq!(Errno::try_from(v), Ok(e));
        assert_eq!(i32::from(e), v);
        assert_eq!(e.to_syscall_return(), -i64::from(v));
        assert!(!e.is_internal());
        // SAFETY: `strerror` returns a pointer to a NUL-terminated string
        // that stays valid until the next call in this thread.
        let text = unsafe { CStr::from_ptr(libc::strerror(v)) }
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(format!("{e}"), format!("{name} ({text})"));
        assert_eq!(format!("{e:?}"), name);
        seen.insert(v);
    }
    // Every number Linux assigned up to EHWPOISON, that is all but 41 and 58.
    assert_eq!(seen.len(), 131);
    assert_eq!(Errno::EWOULDBLOCK.raw(), libc::EWOULDBLOCK);
    assert_eq!(Errno::EDEADLOCK.raw(), libc::EDEADLOCK);
    assert_eq!(Errno::ENOTSUP.raw(), libc::ENOTSUP);
}

/// x86_64 calls libc defines, with libc's numbers.
const SYSCALLS_X86_64_LIBC: &[(u32, libc::c_long, &str)] = &[
    (x86_64::READ, libc::SYS_read, "read"),
    (x86_64::WRITE, libc::SYS_write, "write"),
    (x86_64::OPEN, libc::SYS_open, "open"),
    (x86_64::CLOSE, libc::SYS_close, "close"),
    (x86_64::STAT, libc::SYS_stat, "stat"),
    (x86_64::FSTAT, libc::SYS_fstat, "fstat"),
    (x86_64::LSTAT, libc::SYS_lstat, "lstat"),
    (x86_64::POLL, libc::SYS_poll, "poll"),
    (x86_64::LSEEK, libc::SYS_lseek, "lseek"),
    (x86_64::MMAP, libc::SYS_mmap, "mmap"),
    (x86_64::MPROTECT, libc::SYS_mprotect, "mprotect"),
    (x86_64::MUNMAP, libc::SYS_munmap, "munmap"),
    (x86_64::BRK, libc::SYS_brk, "brk"),
    (x86_64::RT_SIGACTION, libc::SYS_rt_sigaction, "rt_sigaction"),
    (
        x86_64::RT_SIGPROCMASK,
        libc::SYS_rt_sigprocmask,
        "rt_sigprocmask",
    ),
    (x86_64::RT_SIGRETURN, libc::SYS_rt_sigreturn, "rt_sigreturn"),
    (x86_64::IOCTL, libc::SYS_ioctl, "ioctl"),
    (x86_64::PREAD64, libc::SYS_pread64, "pread64"),
    (x86_64::PWRITE64, libc::SYS_pwrite64, "pwrite64"),
    (x86_64::READV, libc::SYS_readv, "readv"),
    (x86_64::WRITEV, libc::SYS_writev, "writev"),
    (x86_64::ACCESS, libc::SYS_access, "access"),
    (x86_64::PIPE, libc::SYS_pipe, "pipe"),
    (x86_64::SELECT, libc::SYS_select, "select"),
    (x86_64::SCHED_YIELD, libc::SYS_sched_yield, "sched_yield"),
    (x86_64::MREMAP, libc::SYS_mremap, "mremap"),
    (x86_64::MSYNC, libc::SYS_msync, "msync"),
    (x86_64::MINCORE, libc::SYS_mincore, "mincore"),
    (x86_64::MADVISE, libc::SYS_madvise, "madvise"),
    (x86_64::SHMGET, libc::SYS_shmget, "shmget"),
    (x86_64::SHMAT, libc::SYS_shmat, "shmat"),
    (x86_64::SHMCTL, libc::SYS_shmctl, "shmctl"),
    (x86_64::DUP, libc::SYS_dup, "dup"),
    (x86_64::DUP2, libc::SYS_dup2, "dup2"),
    (x86_64::PAUSE, libc::SYS_pause, "pause"),
    (x86_64::NANOSLEEP, libc::SYS_nanosleep, "nanosleep"),
    (x86_64::GETITIMER, libc::SYS_getitimer, "getitimer"),
    (x86_64::ALARM, libc::SYS_alarm, "alarm"),
    (x86_64::SETITIMER, libc::SYS_setitimer, "setitimer"),
    (x86_64::GETPID, libc::SYS_getpid, "getpid"),
    (x86_64::SENDFILE, libc::SYS_sendfile, "sendfile"),
    (x86_64::SOCKET, libc::SYS_socket, "socket"),
    (x86_64::CONNECT, libc::SYS_connect, "connect"),
    (x86_64::ACCEPT, libc::SYS_accept, "accept"),
    (x86_64::SENDTO, libc::SYS_sendto, "sendto"),
    (x86_64::RECVFROM, libc::SYS_recvfrom, "recvfrom"),
    (x86_64::SENDMSG, libc::SYS_sendmsg, "sendmsg"),
    (x86_64::RECVMSG, libc::SYS_recvmsg, "recvmsg"),
    (x86_64::SHUTDOWN, libc::SYS_shutdown, "shutdown"),
    (x86_64::BIND, libc::SYS_bind, "bind"),
    (x86_64::LISTEN, libc::SYS_listen, "listen"),
    (x86_64::GETSOCKNAME, libc::SYS_getsockname, "getsockname"),
    (x86_64::GETPEERNAME, libc::SYS_getpeername, "getpeername"),
    (x86_64::SOCKETPAIR, libc::SYS_socketpair, "socketpair"),
    (x86_64::SETSOCKOPT, libc::SYS_setsockopt, "setsockopt"),
    (x86_64::GETSOCKOPT, libc::SYS_getsockopt, "getsockopt"),
    (x86_64::CLONE, libc::SYS_clone, "clone"),
    (x86_64::FORK, libc::SYS_fork, "fork"),
    (x86_64::VFORK, libc::SYS_vfork, "vfork"),
    (x86_64::EXECVE, libc::SYS_execve, "execve"),
    (x86_64::EXIT, libc::SYS_exit, "exit"),
    (x86_64::WAIT4, libc::SYS_wait4, "wait4"),
    (x86_64::KILL, libc::SYS_kill, "kill"),
    (x86_64::UNAME, libc::SYS_uname, "uname"),
    (x86_64::SEMGET, libc::SYS_semget, "semget"),
    (x86_64::SEMOP, libc::SYS_semop, "semop"),
    (x86_64::SEMCTL, libc::SYS_semctl, "semctl"),
    (x86_64::SHMDT, libc::SYS_shmdt, "shmdt"),
    (x86_64::MSGGET, libc::SYS_msgget, "msgget"),
    (x86_64::MSGSND, libc::SYS_msgsnd, "msgsnd"),
    (x86_64::MSGRCV, libc::SYS_msgrcv, "msgrcv"),
    (x86_64::MSGCTL, libc::SYS_msgctl, "msgctl"),
    (x86_64::FCNTL, libc::SYS_fcntl, "fcntl"),
    (x86_64::FLOCK, libc::SYS_flock, "flock"),
    (x86_64::FSYNC, libc::SYS_fsync, "fsync"),
    (x86_64::FDATASYNC, libc::SYS_fdatasync, "fdatasync"),
    (x86_64::TRUNCATE, libc::SYS_truncate, "truncate"),
    (x86_64::FTRUNCATE, libc::SYS_ftruncate, "ftruncate"),
    (x86_64::GETDENTS, libc::SYS_getdents, "getdents"),
    (x86_64::GETCWD, libc::SYS_getcwd, "getcwd"),
    (x86_64::CHDIR, libc::SYS_chdir, "chdir"),
    (x86_64::FCHDIR, libc::SYS_fchdir, "fchdir"),
    (x86_64::RENAME, libc::SYS_rename, "rename"),
    (x86_64::MKDIR, libc::SYS_mkdir, "mkdir"),
    (x86_64::RMDIR, libc::SYS_rmdir, "rmdir"),
    (x86_64::CREAT, libc::SYS_creat, "creat"),
    (x86_64::LINK, libc::SYS_link, "link"),
    (x86_64::UNLINK, libc::SYS_unlink, "unlink"),
    (x86_64::SYMLINK, libc::SYS_symlink, "symlink"),
    (x86_64::READLINK, libc::SYS_readlink, "readlink"),
    (x86_64::CHMOD, libc::SYS_chmod, "chmod"),
    (x86_64::FCHMOD, libc::SYS_fchmod, "fchmod"),
    (x86_64::CHOWN, libc::SYS_chown, "chown"),
    (x86_64::FCHOWN, libc::SYS_fchown, "fchown"),
    (x86_64::LCHOWN, libc::SYS_lchown, "lchown"),
    (x86_64::UMASK, libc::SYS_umask, "umask"),
    (x86_64::GETTIMEOFDAY, libc::SYS_gettimeofday, "gettimeofday"),
    (x86_64::GETRLIMIT, libc::SYS_getrlimit, "getrlimit"),
    (x86_64::GETRUSAGE, libc::SYS_getrusage, "getrusage"),
    (x86_64::SYSINFO, libc::SYS_sysinfo, "sysinfo"),
    (x86_64::TIMES, libc::SYS_times, "times"),
    (x86_64::PTRACE, libc::SYS_ptrace, "ptrace"),
    (x86_64::GETUID, libc::SYS_getuid, "getuid"),
    (x86_64::SYSLOG, libc::SYS_syslog, "syslog"),
    (x86_64::GETGID, libc::SYS_getgid, "getgid"),
    (x86_64::SETUID, libc::SYS_setuid, "setuid"),
    (x86_64::SETGID, libc::SYS_setgid, "setgid"),
    (x86_64::GETEUID, libc::SYS_geteuid, "geteuid"),
    (x86_64::GETEGID, libc::SYS_getegid, "getegid"),
    (x86_64::SETPGID, libc::SYS_setpgid, "setpgid"),
    (x86_64::GETPPID, libc::SYS_getppid, "getppid"),
    (x86_64::GETPGRP, libc::SYS_getpgrp, "getpgrp"),
    (x86_64::SETSID, libc::SYS_setsid, "setsid"),
    (x86_64::SETREUID, libc::SYS_setreuid, "setreuid"),
    (x86_64::SETREGID, libc::SYS_setregid, "setregid"),
    (x86_64::GETGROUPS, libc::SYS_getgroups, "getgroups"),
    (x86_64::SETGROUPS, libc::SYS_setgroups, "setgroups"),
    (x86_64::SETRESUID, libc::SYS_setresuid, "setresuid"),
    (x86_64::GETRESUID, libc::SYS_getresuid, "getresuid"),
    (x86_64::SETRESGID, libc::SYS_setresgid, "setresgid"),
    (x86_64::GETRESGID, libc::SYS_getresgid, "getresgid"),
    (x86_64::GETPGID, libc::SYS_getpgid, "getpgid"),
    (x86_64::SETFSUID, libc::SYS_setfsuid, "setfsuid"),
    (x86_64::SETFSGID, libc::SYS_setfsgid, "setfsgid"),
    (x86_64::GETSID, libc::SYS_getsid, "getsid"),
    (x86_64::CAPGET, libc::SYS_capget, "capget"),
    (x86_64::CAPSET, libc::SYS_capset, "capset"),
    (
        x86_64::RT_SIGPENDING,
        libc::SYS_rt_sigpending,
        "rt_sigpending",
    ),
    (
        x86_64::RT_SIGTIMEDWAIT,
        libc::SYS_rt_sigtimedwait,
        "rt_sigtimedwait",
    ),
    (
        x86_64::RT_SIGQUEUEINFO,
        libc::SYS_rt_sigqueueinfo,
        "rt_sigqueueinfo",
    ),
    (
        x86_64::RT_SIGSUSPEND,
        libc::SYS_rt_sigsuspend,
        "rt_sigsuspend",
    ),
    (x86_64::SIGALTSTACK, libc::SYS_sigaltstack, "sigaltstack"),
    (x86_64::UTIME, libc::SYS_utime, "utime"),
    (x86_64::MKNOD, libc::SYS_mknod, "mknod"),
    (x86_64::USELIB, libc::SYS_uselib, "uselib"),
    (x86_64::PERSONALITY, libc::SYS_personality, "personality"),
    (x86_64::USTAT, libc::SYS_ustat, "ustat"),
    (x86_64::STATFS, libc::SYS_statfs, "statfs"),
    (x86_64::FSTATFS, libc::SYS_fstatfs, "fstatfs"),
    (x86_64::SYSFS, libc::SYS_sysfs, "sysfs"),
    (x86_64::GETPRIORITY, libc::SYS_getpriority, "getpriority"),
    (x86_64::SETPRIORITY, libc::SYS_setpriority, "setpriority"),
    (
        x86_64::SCHED_SETPARAM,
        libc::SYS_sched_setparam,
        "sched_setparam",
    ),
    (
        x86_64::SCHED_GETPARAM,
        libc::SYS_sched_getparam,
        "sched_getparam",
    ),
    (
        x86_64::SCHED_SETSCHEDULER,
        libc::SYS_sched_setscheduler,
        "sched_setscheduler",
    ),
    (
        x86_64::SCHED_GETSCHEDULER,
        libc::SYS_sched_getscheduler,
        "sched_getscheduler",
    ),
    (
        x86_64::SCHED_GET_PRIORITY_MAX,
        libc::SYS_sched_get_priority_max,
        "sched_get_priority_max",
    ),
    (
        x86_64::SCHED_GET_PRIORITY_MIN,
        libc::SYS_sched_get_priority_min,
        "sched_get_priority_min",
    ),
    (
        x86_64::SCHED_RR_GET_INTERVAL,
        libc::SYS_sched_rr_get_interval,
        "sched_rr_get_interval",
    ),
    (x86_64::MLOCK, libc::SYS_mlock, "mlock"),
    (x86_64::MUNLOCK, libc::SYS_munlock, "munlock"),
    (x86_64::MLOCKALL, libc::SYS_mlockall, "mlockall"),
    (x86_64::MUNLOCKALL, libc::SYS_munlockall, "munlockall"),
    (x86_64::VHANGUP, libc::SYS_vhangup, "vhangup"),
    (x86_64::MODIFY_LDT, libc::SYS_modify_ldt, "modify_ldt"),
    (x86_64::PIVOT_ROOT, libc::SYS_pivot_root, "pivot_root"),
    (x86_64::_SYSCTL, libc::SYS__sysctl, "_sysctl"),
    (x86_64::PRCTL, libc::SYS_prctl, "prctl"),
    (x86_64::ARCH_PRCTL, libc::SYS_arch_prctl, "arch_prctl"),
    (x86_64::ADJTIMEX, libc::SYS_adjtimex, "adjtimex"),
    (x86_64::SETRLIMIT, libc::SYS_setrlimit, "setrlimit"),
    (x86_64::CHROOT, libc::SYS_chroot, "chroot"),
    (x86_64::SYNC, libc::SYS_sync, "sync"),
    (x86_64::ACCT, libc::SYS_acct, "acct"),
    (x86_64::SETTIMEOFDAY, libc::SYS_settimeofday, "settimeofday"),
    (x86_64::MOUNT, libc::SYS_mount, "mount"),
    (x86_64::UMOUNT2, libc::SYS_umount2, "umount2"),
    (x86_64::SWAPON, libc::SYS_swapon, "swapon"),
    (x86_64::SWAPOFF, libc::SYS_swapoff, "swapoff"),
    (x86_64::REBOOT, libc::SYS_reboot, "reboot"),
    (x86_64::SETHOSTNAME, libc::SYS_sethostname, "sethostname"),
    (
        x86_64::SETDOMAINNAME,
        libc::SYS_setdomainname,
        "setdomainname",
    ),
    (x86_64::IOPL, libc::SYS_iopl, "iopl"),
    (x86_64::IOPERM, libc::SYS_ioperm, "ioperm"),
    (x86_64::INIT_MODULE, libc::SYS_init_module, "init_module"),
    (
        x86_64::DELETE_MODULE,
        libc::SYS_delete_module,
        "delete_module",
    ),
    (x86_64::QUOTACTL, libc::SYS_quotactl, "quotactl"),
    (x86_64::NFSSERVCTL, libc::SYS_nfsservctl, "nfsservctl"),
    (x86_64::GETPMSG, libc::SYS_getpmsg, "getpmsg"),
    (x86_64::PUTPMSG, libc::SYS_putpmsg, "putpmsg"),
    (x86_64::AFS_SYSCALL, libc::SYS_afs_syscall, "afs_syscall"),
    (x86_64::TUXCALL, libc::SYS_tuxcall, "tuxcall"),
    (x86_64::SECURITY, libc::SYS_security, "security"),
    (x86_64::GETTID, libc::SYS_gettid, "gettid"),
    (x86_64::READAHEAD, libc::SYS_readahead, "readahead"),
    (x86_64::SETXATTR, libc::SYS_setxattr, "setxattr"),
    (x86_64::LSETXATTR, libc::SYS_lsetxattr, "lsetxattr"),
    (x86_64::FSETXATTR, libc::SYS_fsetxattr, "fsetxattr"),
    (x86_64::GETXATTR, libc::SYS_getxattr, "getxattr"),
    (x86_64::LGETXATTR, libc::SYS_lgetxattr, "lgetxattr"),
    (x86_64::FGETXATTR, libc::SYS_fgetxattr, "fgetxattr"),
    (x86_64::LISTXATTR, libc::SYS_listxattr, "listxattr"),
    (x86_64::LLISTXATTR, libc::SYS_llistxattr, "llistxattr"),
    (x86_64::FLISTXATTR, libc::SYS_flistxattr, "flistxattr"),
    (x86_64::REMOVEXATTR, libc::SYS_removexattr, "removexattr"),
    (x86_64::LREMOVEXATTR, libc::SYS_lremovexattr, "lremovexattr"),
    (x86_64::FREMOVEXATTR, libc::SYS_fremovexattr, "fremovexattr"),
    (x86_64::TKILL, libc::SYS_tkill, "tkill"),
    (x86_64::TIME, libc::SYS_time, "time"),
    (x86_64::FUTEX, libc::SYS_futex, "futex"),
    (
        x86_64::SCHED_SETAFFINITY,
        libc::SYS_sched_setaffinity,
        "sched_setaffinity",
    ),
    (
        x86_64::SCHED_GETAFFINITY,
        libc::SYS_sched_getaffinity,
        "sched_getaffinity",
    ),
    (
        x86_64::SET_THREAD_AREA,
        libc::SYS_set_thread_area,
        "set_thread_area",
    ),
    (x86_64::IO_SETUP, libc::SYS_io_setup, "io_setup"),
    (x86_64::IO_DESTROY, libc::SYS_io_destroy, "io_destroy"),
    (x86_64::IO_GETEVENTS, libc::SYS_io_getevents, "io_getevents"),
    (x86_64::IO_SUBMIT, libc::SYS_io_submit, "io_submit"),
    (x86_64::IO_CANCEL, libc::SYS_io_cancel, "io_cancel"),
    (
        x86_64::GET_THREAD_AREA,
        libc::SYS_get_thread_area,
        "get_thread_area",
    ),
    (
        x86_64::LOOKUP_DCOOKIE,
        libc::SYS_lookup_dcookie,
        "lookup_dcookie",
    ),
    (x86_64::EPOLL_CREATE, libc::SYS_epoll_create, "epoll_create"),
    (
        x86_64::EPOLL_CTL_OLD,
        libc::SYS_epoll_ctl_old,
        "epoll_ctl_old",
    ),
    (
        x86_64::EPOLL_WAIT_OLD,
        libc::SYS_epoll_wait_old,
        "epoll_wait_old",
    ),
    (
        x86_64::REMAP_FILE_PAGES,
        libc::SYS_remap_file_pages,
        "remap_file_pages",
    ),
    (x86_64::GETDENTS64, libc::SYS_getdents64, "getdents64"),
    (
        x86_64::SET_TID_ADDRESS,
        libc::SYS_set_tid_address,
        "set_tid_address",
    ),
    (
        x86_64::RESTART_SYSCALL,
        libc::SYS_restart_syscall,
        "restart_syscall",
    ),
    (x86_64::SEMTIMEDOP, libc::SYS_semtimedop, "semtimedop"),
    (x86_64::FADVISE64, libc::SYS_fadvise64, "fadvise64"),
    (x86_64::TIMER_CREATE, libc::SYS_timer_create, "timer_create"),
    (
        x86_64::TIMER_SETTIME,
        libc::SYS_timer_settime,
        "timer_settime",
    ),
    (
        x86_64::TIMER_GETTIME,
        libc::SYS_timer_gettime,
        "timer_gettime",
    ),
    (
        x86_64::TIMER_GETOVERRUN,
        libc::SYS_timer_getoverrun,
        "timer_getoverrun",
    ),
    (x86_64::TIMER_DELETE, libc::SYS_timer_delete, "timer_delete"),
    (
        x86_64::CLOCK_SETTIME,
        libc::SYS_clock_settime,
        "clock_settime",
    ),
    (
        x86_64::CLOCK_GETTIME,
        libc::SYS_clock_gettime,
        "clock_gettime",
    ),
    (x86_64::CLOCK_GETRES, libc::SYS_clock_getres, "clock_getres"),
    (
        x86_64::CLOCK_NANOSLEEP,
        libc::SYS_clock_nanosleep,
        "clock_nanosleep",
    ),
    (x86_64::EXIT_GROUP, libc::SYS_exit_group, "exit_group"),
    (x86_64::EPOLL_WAIT, libc::SYS_epoll_wait, "epoll_wait"),
    (x86_64::EPOLL_CTL, libc::SYS_epoll_ctl, "epoll_ctl"),
    (x86_64::TGKILL, libc::SYS_tgkill, "tgkill"),
    (x86_64::UTIMES, libc::SYS_utimes, "utimes"),
    (x86_64::VSERVER, libc::SYS_vserver, "vserver"),
    (x86_64::MBIND, libc::SYS_mbind, "mbind"),
    (
        x86_64::SET_MEMPOLICY,
        libc::SYS_set_mempolicy,
        "set_mempolicy",
    ),
    (
        x86_64::GET_MEMPOLICY,
        libc::SYS_get_mempolicy,
        "get_mempolicy",
    ),
    (x86_64::MQ_OPEN, libc::SYS_mq_open, "mq_open"),
    (x86_64::MQ_UNLINK, libc::SYS_mq_unlink, "mq_unlink"),
    (x86_64::MQ_TIMEDSEND, libc::SYS_mq_timedsend, "mq_timedsend"),
    (
        x86_64::MQ_TIMEDRECEIVE,
        libc::SYS_mq_timedreceive,
        "mq_timedreceive",
    ),
    (x86_64::MQ_NOTIFY, libc::SYS_mq_notify, "mq_notify"),
    (
        x86_64::MQ_GETSETATTR,
        libc::SYS_mq_getsetattr,
        "mq_getsetattr",
    ),
    (x86_64::KEXEC_LOAD, libc::SYS_kexec_load, "kexec_load"),
    (x86_64::WAITID, libc::SYS_waitid, "waitid"),
    (x86_64::ADD_KEY, libc::SYS_add_key, "add_key"),
    (x86_64::REQUEST_KEY, libc::SYS_request_key, "request_key"),
    (x86_64::KEYCTL, libc::SYS_keyctl, "keyctl"),
    (x86_64::IOPRIO_SET, libc::SYS_ioprio_set, "ioprio_set"),
    (x86_64::IOPRIO_GET, libc::SYS_ioprio_get, "ioprio_get"),
    (x86_64::INOTIFY_INIT, libc::SYS_inotify_init, "inotify_init"),
    (
        x86_64::INOTIFY_ADD_WATCH,
        libc::SYS_inotify_add_watch,
        "inotify_add_watch",
    ),
    (
        x86_64::INOTIFY_RM_WATCH,
        libc::SYS_inotify_rm_watch,
        "inotify_rm_watch",
    ),
    (
        x86_64::MIGRATE_PAGES,
        libc::SYS_migrate_pages,
        "migrate_pages",
    ),
    (x86_64::OPENAT, libc::SYS_openat, "openat"),
    (x86_64::MKDIRAT, libc::SYS_mkdirat, "mkdirat"),
    (x86_64::MKNODAT, libc::SYS_mknodat, "mknodat"),
    (x86_64::FCHOWNAT, libc::SYS_fchownat, "fchownat"),
    (x86_64::FUTIMESAT, libc::SYS_futimesat, "futimesat"),
    (x86_64::NEWFSTATAT, libc::SYS_newfstatat, "newfstatat"),
    (x86_64::UNLINKAT, libc::SYS_unlinkat, "unlinkat"),
    (x86_64::RENAMEAT, libc::SYS_renameat, "renameat"),
    (x86_64::LINKAT, libc::SYS_linkat, "linkat"),
    (x86_64::SYMLINKAT, libc::SYS_symlinkat, "symlinkat"),
    (x86_64::READLINKAT, libc::SYS_readlinkat, "readlinkat"),
    (x86_64::FCHMODAT, libc::SYS_fchmodat, "fchmodat"),
    (x86_64::FACCESSAT, libc::SYS_faccessat, "faccessat"),
    (x86_64::PSELECT6, libc::SYS_pselect6, "pselect6"),
    (x86_64::PPOLL, libc::SYS_ppoll, "ppoll"),
    (x86_64::UNSHARE, libc::SYS_unshare, "unshare"),
    (
        x86_64::SET_ROBUST_LIST,
        libc::SYS_set_robust_list,
        "set_robust_list",
    ),
    (
        x86_64::GET_ROBUST_LIST,
        libc::SYS_get_robust_list,
        "get_robust_list",
    ),
    (x86_64::SPLICE, libc::SYS_splice, "splice"),
    (x86_64::TEE, libc::SYS_tee, "tee"),
    (
        x86_64::SYNC_FILE_RANGE,
        libc::SYS_sync_file_range,
        "sync_file_range",
    ),
    (x86_64::VMSPLICE, libc::SYS_vmsplice, "vmsplice"),
    (x86_64::MOVE_PAGES, libc::SYS_move_pages, "move_pages"),
    (x86_64::UTIMENSAT, libc::SYS_utimensat, "utimensat"),
    (x86_64::EPOLL_PWAIT, libc::SYS_epoll_pwait, "epoll_pwait"),
    (x86_64::SIGNALFD, libc::SYS_signalfd, "signalfd"),
    (
        x86_64::TIMERFD_CREATE,
        libc::SYS_timerfd_create,
        "timerfd_create",
    ),
    (x86_64::EVENTFD, libc::SYS_eventfd, "eventfd"),
    (x86_64::FALLOCATE, libc::SYS_fallocate, "fallocate"),
    (
        x86_64::TIMERFD_SETTIME,
        libc::SYS_timerfd_settime,
        "timerfd_settime",
    ),
    (
        x86_64::TIMERFD_GETTIME,
        libc::SYS_timerfd_gettime,
        "timerfd_gettime",
    ),
    (x86_64::ACCEPT4, libc::SYS_accept4, "accept4"),
    (x86_64::SIGNALFD4, libc::SYS_signalfd4, "signalfd4"),
    (x86_64::EVENTFD2, libc::SYS_eventfd2, "eventfd2"),
    (
        x86_64::EPOLL_CREATE1,
        libc::SYS_epoll_create1,
        "epoll_create1",
    ),
    (x86_64::DUP3, libc::SYS_dup3, "dup3"),
    (x86_64::PIPE2, libc::SYS_pipe2, "pipe2"),
    (
        x86_64::INOTIFY_INIT1,
        libc::SYS_inotify_init1,
        "inotify_init1",
    ),
    (x86_64::PREADV, libc::SYS_preadv, "preadv"),
    (x86_64::PWRITEV, libc::SYS_pwritev, "pwritev"),
    (
        x86_64::RT_TGSIGQUEUEINFO,
        libc::SYS_rt_tgsigqueueinfo,
        "rt_tgsigqueueinfo",
    ),
    (
        x86_64::PERF_EVENT_OPEN,
        libc::SYS_perf_event_open,
        "perf_event_open",
    ),
    (x86_64::RECVMMSG, libc::SYS_recvmmsg, "recvmmsg"),
    (
        x86_64::FANOTIFY_INIT,
        libc::SYS_fanotify_init,
        "fanotify_init",
    ),
    (
        x86_64::FANOTIFY_MARK,
        libc::SYS_fanotify_mark,
        "fanotify_mark",
    ),
    (x86_64::PRLIMIT64, libc::SYS_prlimit64, "prlimit64"),
    (
        x86_64::NAME_TO_HANDLE_AT,
        libc::SYS_name_to_handle_at,
        "name_to_handle_at",
    ),
    (
        x86_64::OPEN_BY_HANDLE_AT,
        libc::SYS_open_by_handle_at,
        "open_by_handle_at",
    ),
    (
        x86_64::CLOCK_ADJTIME,
        libc::SYS_clock_adjtime,
        "clock_adjtime",
    ),
    (x86_64::SYNCFS, libc::SYS_syncfs, "syncfs"),
    (x86_64::SENDMMSG, libc::SYS_sendmmsg, "sendmmsg"),
    (x86_64::SETNS, libc::SYS_setns, "setns"),
    (x86_64::GETCPU, libc::SYS_getcpu, "getcpu"),
    (
        x86_64::PROCESS_VM_READV,
        libc::SYS_process_vm_readv,
        "process_vm_readv",
    ),
    (
        x86_64::PROCESS_VM_WRITEV,
        libc::SYS_process_vm_writev,
        "process_vm_writev",
    ),
    (x86_64::KCMP, libc::SYS_kcmp, "kcmp"),
    (x86_64::FINIT_MODULE, libc::SYS_finit_module, "finit_module"),
    (
        x86_64::SCHED_SETATTR,
        libc::SYS_sched_setattr,
        "sched_setattr",
    ),
    (
        x86_64::SCHED_GETATTR,
        libc::SYS_sched_getattr,
        "sched_getattr",
    ),
    (x86_64::RENAMEAT2, libc::SYS_renameat2, "renameat2"),
    (x86_64::SECCOMP, libc::SYS_seccomp, "seccomp"),
    (x86_64::GETRANDOM, libc::SYS_getrandom, "getrandom"),
    (x86_64::MEMFD_CREATE, libc::SYS_memfd_create, "memfd_create"),
    (
        x86_64::KEXEC_FILE_LOAD,
        libc::SYS_kexec_file_load,
        "kexec_file_load",
    ),
    (x86_64::BPF, libc::SYS_bpf, "bpf"),
    (x86_64::EXECVEAT, libc::SYS_execveat, "execveat"),
    (x86_64::USERFAULTFD, libc::SYS_userfaultfd, "userfaultfd"),
    (x86_64::MEMBARRIER, libc::SYS_membarrier, "membarrier"),
    (x86_64::MLOCK2, libc::SYS_mlock2, "mlock2"),
    (
        x86_64::COPY_FILE_RANGE,
        libc::SYS_copy_file_range,
        "copy_file_range",
    ),
    (x86_64::PREADV2, libc::SYS_preadv2, "preadv2"),
    (x86_64::PWRITEV2, libc::SYS_pwritev2, "pwritev2"),
    (
        x86_64::PKEY_MPROTECT,
        libc::SYS_pkey_mprotect,
        "pkey_mprotect",
    ),
    (x86_64::PKEY_ALLOC, libc::SYS_pkey_alloc, "pkey_alloc"),
    (x86_64::PKEY_FREE, libc::SYS_pkey_free, "pkey_free"),
    (x86_64::STATX, libc::SYS_statx, "statx"),
    (x86_64::RSEQ, libc::SYS_rseq, "rseq"),
    (
        x86_64::PIDFD_SEND_SIGNAL,
        libc::SYS_pidfd_send_signal,
        "pidfd_send_signal",
    ),
    (
        x86_64::IO_URING_SETUP,
        libc::SYS_io_uring_setup,
        "io_uring_setup",
    ),
    (
        x86_64::IO_URING_ENTER,
        libc::SYS_io_uring_enter,
        "io_uring_enter",
    ),
    (
        x86_64::IO_URING_REGISTER,
        libc::SYS_io_uring_register,
        "io_uring_register",
    ),
    (x86_64::OPEN_TREE, libc::SYS_open_tree, "open_tree"),
    (x86_64::MOVE_MOUNT, libc::SYS_move_mount, "move_mount"),
    (x86_64::FSOPEN, libc::SYS_fsopen, "fsopen"),
    (x86_64::FSCONFIG, libc::SYS_fsconfig, "fsconfig"),
    (x86_64::FSMOUNT, libc::SYS_fsmount, "fsmount"),
    (x86_64::FSPICK, libc::SYS_fspick, "fspick"),
    (x86_64::PIDFD_OPEN, libc::SYS_pidfd_open, "pidfd_open"),
    (x86_64::CLONE3, libc::SYS_clone3, "clone3"),
    (x86_64::CLOSE_RANGE, libc::SYS_close_range, "close_range"),
    (x86_64::OPENAT2, libc::SYS_openat2, "openat2"),
    (x86_64::PIDFD_GETFD, libc::SYS_pidfd_getfd, "pidfd_getfd"),
    (x86_64::FACCESSAT2, libc::SYS_faccessat2, "faccessat2"),
    (
        x86_64::PROCESS_MADVISE,
        libc::SYS_process_madvise,
        "process_madvise",
    ),
    (x86_64::EPOLL_PWAIT2, libc::SYS_epoll_pwait2, "epoll_pwait2"),
    (
        x86_64::MOUNT_SETATTR,
        libc::SYS_mount_setattr,
        "mount_setattr",
    ),
    (x86_64::QUOTACTL_FD, libc::SYS_quotactl_fd, "quotactl_fd"),
    (
        x86_64::LANDLOCK_CREATE_RULESET,
        libc::SYS_landlock_create_ruleset,
        "landlock_create_ruleset",
    ),
    (
        x86_64::LANDLOCK_ADD_RULE,
        libc::SYS_landlock_add_rule,
        "landlock_add_rule",
    ),
    (
        x86_64::LANDLOCK_RESTRICT_SELF,
        libc::SYS_landlock_restrict_self,
        "landlock_restrict_self",
    ),
    (x86_64::MEMFD_SECRET, libc::SYS_memfd_secret, "memfd_secret"),
    (
        x86_64::PROCESS_MRELEASE,
        libc::SYS_process_mrelease,
        "process_mrelease",
    ),
    (x86_64::FUTEX_WAITV, libc::SYS_futex_waitv, "futex_waitv"),
    (
        x86_64::SET_MEMPOLICY_HOME_NODE,
        libc::SYS_set_mempolicy_home_node,
        "set_mempolicy_home_node",
    ),
    (x86_64::FCHMODAT2, libc::SYS_fchmodat2, "fchmodat2"),
    (x86_64::MSEAL, libc::SYS_mseal, "mseal"),
];

/// x86_64 calls libc 0.2.191 does not define, with the numbers of the
/// kernel's `arch/x86/entry/syscalls/syscall_64.tbl`.
const SYSCALLS_X86_64_KERNEL_ONLY: &[(&str, u32)] = &[
    ("io_pgetevents", 333),
    ("uretprobe", 335),
    ("cachestat", 451),
    ("map_shadow_stack", 453),
    ("futex_wake", 454),
    ("futex_wait", 455),
    ("futex_requeue", 456),
    ("statmount", 457),
    ("listmount", 458),
    ("lsm_get_self_attr", 459),
    ("lsm_set_self_attr", 460),
    ("lsm_list_modules", 461),
];

/// aarch64 calls of libc 0.2.191 (`gnu/b64/aarch64/mod.rs` and `lp64.rs`),
/// generated from its source.
const SYSCALLS_AARCH64_LIBC: &[(&str, u32)] = &[
    ("io_setup", 0),
    ("io_destroy", 1),
    ("io_submit", 2),
    ("io_cancel", 3),
    ("io_getevents", 4),
    ("setxattr", 5),
    ("lsetxattr", 6),
    ("fsetxattr", 7),
    ("getxattr", 8),
    ("lgetxattr", 9),
    ("fgetxattr", 10),
    ("listxattr", 11),
    ("llistxattr", 12),
    ("flistxattr", 13),
    ("removexattr", 14),
    ("lremovexattr", 15),
    ("fremovexattr", 16),
    ("getcwd", 17),
    ("lookup_dcookie", 18),
    ("eventfd2", 19),
    ("epoll_create1", 20),
    ("epoll_ctl", 21),
    ("epoll_pwait", 22),
    ("dup", 23),
    ("dup3", 24),
    ("fcntl", 25),
    ("inotify_init1", 26),
    ("inotify_add_watch", 27),
    ("inotify_rm_watch", 28),
    ("ioctl", 29),
    ("ioprio_set", 30),
    ("ioprio_get", 31),
    ("flock", 32),
    ("mknodat", 33),
    ("mkdirat", 34),
    ("unlinkat", 35),
    ("symlinkat", 36),
    ("linkat", 37),
    ("renameat", 38),
    ("umount2", 39),
    ("mount", 40),
    ("pivot_root", 41),
    ("nfsservctl", 42),
    ("statfs", 43),
    ("fstatfs", 44),
    ("truncate", 45),
    ("ftruncate", 46),
    ("fallocate", 47),
    ("faccessat", 48),
    ("chdir", 49),
    ("fchdir", 50),
    ("chroot", 51),
    ("fchmod", 52),
    ("fchmodat", 53),
    ("fchownat", 54),
    ("fchown", 55),
    ("openat", 56),
    ("close", 57),
    ("vhangup", 58),
    ("pipe2", 59),
    ("quotactl", 60),
    ("getdents64", 61),
    ("lseek", 62),
    ("read", 63),
    ("write", 64),
    ("readv", 65),
    ("writev", 66),
    ("pread64", 67),
    ("pwrite64", 68),
    ("preadv", 69),
    ("pwritev", 70),
    ("sendfile", 71),
    ("pselect6", 72),
    ("ppoll", 73),
    ("signalfd4", 74),
    ("vmsplice", 75),
    ("splice", 76),
    ("tee", 77),
    ("readlinkat", 78),
    ("newfstatat", 79),
    ("fstat", 80),
    ("sync", 81),
    ("fsync", 82),
    ("fdatasync", 83),
    ("sync_file_range", 84),
    ("timerfd_create", 85),
    ("timerfd_settime", 86),
    ("timerfd_gettime", 87),
    ("utimensat", 88),
    ("acct", 89),
    ("capget", 90),
    ("capset", 91),
    ("personality", 92),
    ("exit", 93),
    ("exit_group", 94),
    ("waitid", 95),
    ("set_tid_address", 96),
    ("unshare", 97),
    ("futex", 98),
    ("set_robust_list", 99),
    ("get_robust_list", 100),
    ("nanosleep", 101),
    ("getitimer", 102),
    ("setitimer", 103),
    ("kexec_load", 104),
    ("init_module", 105),
    ("delete_module", 106),
    ("timer_create", 107),
    ("timer_gettime", 108),
    ("timer_getoverrun", 109),
    ("timer_settime", 110),
    ("timer_delete", 111),
    ("clock_settime", 112),
    ("clock_gettime", 113),
    ("clock_getres", 114),
    ("clock_nanosleep", 115),
    ("syslog", 116),
    ("ptrace", 117),
    ("sched_setparam", 118),
    ("sched_setscheduler", 119),
    ("sched_getscheduler", 120),
    ("sched_getparam", 121),
    ("sched_setaffinity", 122),
    ("sched_getaffinity", 123),
    ("sched_yield", 124),
    ("sched_get_priority_max", 125),
    ("sched_get_priority_min", 126),
    ("sched_rr_get_interval", 127),
    ("restart_syscall", 128),
    ("kill", 129),
    ("tkill", 130),
    ("tgkill", 131),
    ("sigaltstack", 132),
    ("rt_sigsuspend", 133),
    ("rt_sigaction", 134),
    ("rt_sigprocmask", 135),
    ("rt_sigpending", 136),
    ("rt_sigtimedwait", 137),
    ("rt_sigqueueinfo", 138),
    ("rt_sigreturn", 139),
    ("setpriority", 140),
    ("getpriority", 141),
    ("reboot", 142),
    ("setregid", 143),
    ("setgid", 144),
    ("setreuid", 145),
    ("setuid", 146),
    ("setresuid", 147),
    ("getresuid", 148),
    ("setresgid", 149),
    ("getresgid", 150),
    ("setfsuid", 151),
    ("setfsgid", 152),
    ("times", 153),
    ("setpgid", 154),
    ("getpgid", 155),
    ("getsid", 156),
    ("setsid", 157),
    ("getgroups", 158),
    ("setgroups", 159),
    ("uname", 160),
    ("sethostname", 161),
    ("setdomainname", 162),
    ("getrlimit", 163),
    ("setrlimit", 164),
    ("getrusage", 165),
    ("umask", 166),
    ("prctl", 167),
    ("getcpu", 168),
    ("gettimeofday", 169),
    ("settimeofday", 170),
    ("adjtimex", 171),
    ("getpid", 172),
    ("getppid", 173),
    ("getuid", 174),
    ("geteuid", 175),
    ("getgid", 176),
    ("getegid", 177),
    ("gettid", 178),
    ("sysinfo", 179),
    ("mq_open", 180),
    ("mq_unlink", 181),
    ("mq_timedsend", 182),
    ("mq_timedreceive", 183),
    ("mq_notify", 184),
    ("mq_getsetattr", 185),
    ("msgget", 186),
    ("msgctl", 187),
    ("msgrcv", 188),
    ("msgsnd", 189),
    ("semget", 190),
    ("semctl", 191),
    ("semtimedop", 192),
    ("semop", 193),
    ("shmget", 194),
    ("shmctl", 195),
    ("shmat", 196),
    ("shmdt", 197),
    ("socket", 198),
    ("socketpair", 199),
    ("bind", 200),
    ("listen", 201),
    ("accept", 202),
    ("connect", 203),
    ("getsockname", 204),
    ("getpeername", 205),
    ("sendto", 206),
    ("recvfrom", 207),
    ("setsockopt", 208),
    ("getsockopt", 209),
    ("shutdown", 210),
    ("sendmsg", 211),
    ("recvmsg", 212),
    ("readahead", 213),
    ("brk", 214),
    ("munmap", 215),
    ("mremap", 216),
    ("add_key", 217),
    ("request_key", 218),
    ("keyctl", 219),
    ("clone", 220),
    ("execve", 221),
    ("mmap", 222),
    ("fadvise64", 223),
    ("swapon", 224),
    ("swapoff", 225),
    ("mprotect", 226),
    ("msync", 227),
    ("mlock", 228),
    ("munlock", 229),
    ("mlockall", 230),
    ("munlockall", 231),
    ("mincore", 232),
    ("madvise", 233),
    ("remap_file_pages", 234),
    ("mbind", 235),
    ("get_mempolicy", 236),
    ("set_mempolicy", 237),
    ("migrate_pages", 238),
    ("move_pages", 239),
    ("rt_tgsigqueueinfo", 240),
    ("perf_event_open", 241),
    ("accept4", 242),
    ("recvmmsg", 243),
    ("wait4", 260),
    ("prlimit64", 261),
    ("fanotify_init", 262),
    ("fanotify_mark", 263),
    ("name_to_handle_at", 264),
    ("open_by_handle_at", 265),
    ("clock_adjtime", 266),
    ("syncfs", 267),
    ("setns", 268),
    ("sendmmsg", 269),
    ("process_vm_readv", 270),
    ("process_vm_writev", 271),
    ("kcmp", 272),
    ("finit_module", 273),
    ("sched_setattr", 274),
    ("sched_getattr", 275),
    ("renameat2", 276),
    ("seccomp", 277),
    ("getrandom", 278),
    ("memfd_create", 279),
    ("bpf", 280),
    ("execveat", 281),
    ("userfaultfd", 282),
    ("membarrier", 283),
    ("mlock2", 284),
    ("copy_file_range", 285),
    ("preadv2", 286),
    ("pwritev2", 287),
    ("pkey_mprotect", 288),
    ("pkey_alloc", 289),
    ("pkey_free", 290),
    ("statx", 291),
    ("rseq", 293),
    ("kexec_file_load", 294),
    ("pidfd_send_signal", 424),
    ("io_uring_setup", 425),
    ("io_uring_enter", 426),
    ("io_uring_register", 427),
    ("open_tree", 428),
    ("move_mount", 429),
    ("fsopen", 430),
    ("fsconfig", 431),
    ("fsmount", 432),
    ("fspick", 433),
    ("pidfd_open", 434),
    ("clone3", 435),
    ("close_range", 436),
    ("openat2", 437),
    ("pidfd_getfd", 438),
    ("faccessat2", 439),
    ("process_madvise", 440),
    ("epoll_pwait2", 441),
    ("mount_setattr", 442),
    ("quotactl_fd", 443),
    ("landlock_create_ruleset", 444),
    ("landlock_add_rule", 445),
    ("landlock_restrict_self", 446),
    ("memfd_secret", 447),
    ("process_mrelease", 448),
    ("futex_waitv", 449),
    ("set_mempolicy_home_node", 450),
    ("mseal", 462),
];

/// aarch64 calls libc 0.2.191 does not define, with the numbers of the
/// kernel's `include/uapi/asm-generic/unistd.h`.
const SYSCALLS_AARCH64_KERNEL_ONLY: &[(&str, u32)] = &[
    ("io_pgetevents", 292),
    ("cachestat", 451),
    ("fchmodat2", 452),
    ("map_shadow_stack", 453),
    ("futex_wake", 454),
    ("futex_wait", 455),
    ("futex_requeue", 456),
    ("statmount", 457),
    ("listmount", 458),
    ("lsm_get_self_attr", 459),
    ("lsm_set_self_attr", 460),
    ("lsm_list_modules", 461),
];

#[test]
fn every_x86_64_syscall_number_matches_libc() {
    let mut expected = BTreeSet::new();
    for &(ours, theirs, name) in SYSCALLS_X86_64_LIBC {
        assert_eq!(i64::from(ours), theirs, "{name}");
        expected.insert((ours, name));
    }
    for &(name, nr) in SYSCALLS_X86_64_KERNEL_ONLY {
        expected.insert((nr, name));
    }
    let ours: BTreeSet<(u32, &str)> = x86_64::TABLE.iter().copied().collect();
    assert_eq!(ours, expected);
    assert_eq!(x86_64::MAX, 462);
}

#[test]
fn every_aarch64_syscall_number_matches_libc_source() {
    let expected: BTreeSet<(u32, &str)> = SYSCALLS_AARCH64_LIBC
        .iter()
        .chain(SYSCALLS_AARCH64_KERNEL_ONLY)
        .map(|&(n, nr)| (nr, n))
        .collect();
    let ours: BTreeSet<(u32, &str)> = aarch64::TABLE.iter().copied().collect();
    assert_eq!(ours, expected);
    assert_eq!(aarch64::NEWFSTATAT, 79);
    assert_eq!(aarch64::OPENAT2, 437);
}

#[test]
fn syscall_names_round_trip() {
    for &(nr, name) in x86_64::TABLE {
        assert_eq!(x86_64::number(name), Some(nr));
        assert_eq!(x86_64::name(nr), Some(name));
    }
    for &(nr, name) in aarch64::TABLE {
        assert_eq!(aarch64::number(name), Some(nr));
        assert_eq!(aarch64::name(nr), Some(name));
    }
}

#[test]
fn device_numbers_match_glibc_makedev() {
    for (ma, mi) in [
        (0u32, 0u32),
        (1, 3),
        (8, 17),
        (259, 65536),
        (0xfff, 0xfffff),
        (0x1234_5678, 0x9abc_def0),
        (u32::MAX, u32::MAX),
    ] {
        let dev = libc::makedev(ma, mi);
        assert_eq!(make_dev(ma, mi), dev);
        assert_eq!(dev_major(dev), libc::major(dev));
        assert_eq!(dev_minor(dev), libc::minor(dev));
    }
}

#[test]
fn seccomp_constants_and_layouts_match_libc() {
    use abi_linux::seccomp::*;
    c!(SECCOMP_SET_MODE_STRICT, libc::SECCOMP_SET_MODE_STRICT);
    c!(SECCOMP_SET_MODE_FILTER, libc::SECCOMP_SET_MODE_FILTER);
    c!(SECCOMP_GET_ACTION_AVAIL, libc::SECCOMP_GET_ACTION_AVAIL);
    c!(SECCOMP_GET_NOTIF_SIZES, libc::SECCOMP_GET_NOTIF_SIZES);
    c!(SECCOMP_MODE_DISABLED, libc::SECCOMP_MODE_DISABLED);
    c!(SECCOMP_MODE_STRICT, libc::SECCOMP_MODE_STRICT);
    c!(SECCOMP_MODE_FILTER, libc::SECCOMP_MODE_FILTER);
    c!(SECCOMP_FILTER_FLAG_TSYNC, libc::SECCOMP_FILTER_FLAG_TSYNC);
    c!(SECCOMP_FILTER_FLAG_LOG, libc::SECCOMP_FILTER_FLAG_LOG);
    c!(
        SECCOMP_FILTER_FLAG_SPEC_ALLOW,
        libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
    );
    c!(
        SECCOMP_FILTER_FLAG_NEW_LISTENER,
        libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
    );
    c!(
        SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
        libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH
    );
    c!(SECCOMP_RET_KILL_PROCESS, libc::SECCOMP_RET_KILL_PROCESS);
    c!(SECCOMP_RET_KILL_THREAD, libc::SECCOMP_RET_KILL_THREAD);
    c!(SECCOMP_RET_TRAP, libc::SECCOMP_RET_TRAP);
    c!(SECCOMP_RET_ERRNO, libc::SECCOMP_RET_ERRNO);
    c!(SECCOMP_RET_USER_NOTIF, libc::SECCOMP_RET_USER_NOTIF);
    c!(SECCOMP_RET_TRACE, libc::SECCOMP_RET_TRACE);
    c!(SECCOMP_RET_LOG, libc::SECCOMP_RET_LOG);
    c!(SECCOMP_RET_ALLOW, libc::SECCOMP_RET_ALLOW);
    c!(SECCOMP_RET_ACTION_FULL, libc::SECCOMP_RET_ACTION_FULL);
    c!(SECCOMP_RET_DATA, libc::SECCOMP_RET_DATA);
    c!(BPF_MAXINSNS, libc::BPF_MAXINSNS);
    layout!(SeccompData, libc::seccomp_data;
        nr = nr, arch = arch, instruction_pointer = instruction_pointer, args = args);
    layout!(SockFilter, libc::sock_filter; code = code, jt = jt, jf = jf, k = k);
    layout!(SockFprog, libc::sock_fprog; len = len, filter = filter);
    layout!(SeccompNotifSizes, libc::seccomp_notif_sizes;
        seccomp_notif = seccomp_notif, seccomp_notif_resp = seccomp_notif_resp,
        seccomp_data = seccomp_data);
}
