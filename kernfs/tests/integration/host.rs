//! The same operations on memfs and on the host kernel's tmpfs
//! (`/dev/shm`), compared errno by errno. The host is the oracle.

use std::ffi::CString;
use std::os::fd::AsRawFd;

use abi_linux::{Errno, OpenFlags, RenameFlags, StatxMask};
use vfs_core::{MknodOptions, OpenOptions, RenameOptions, SetStatOptions, StatOptions};

use crate::common::Env;

/// One operation, with paths relative to the test directory.
#[derive(Clone, Copy, Debug)]
enum Op {
    Mkdir(&'static str),
    Rmdir(&'static str),
    Unlink(&'static str),
    Rename(&'static str, &'static str, u32),
    Link(&'static str, &'static str),
    Symlink(&'static str, &'static str),
    Open(&'static str, i32),
    Stat(&'static str),
    Lstat(&'static str),
    Readlink(&'static str),
    Truncate(&'static str),
    Mkfifo(&'static str),
    Chmod(&'static str, u32),
    Chown(&'static str, u32),
}

/// Every case starts from: `d/` (empty), `full/x`, `f`, `sl -> f`,
/// `dangling -> nowhere`, `loop -> loop`, `fifo`.
const FIXTURE: &[Op] = &[
    Op::Mkdir("d"),
    Op::Mkdir("full"),
    Op::Open("full/x", libc::O_CREAT | libc::O_WRONLY),
    Op::Open("f", libc::O_CREAT | libc::O_WRONLY),
    Op::Symlink("f", "sl"),
    Op::Symlink("nowhere", "dangling"),
    Op::Symlink("loop", "loop"),
    Op::Mkfifo("fifo"),
];

const LONG: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

const CASES: &[Op] = &[
    Op::Mkdir("f"),
    Op::Mkdir("d"),
    Op::Mkdir("sl"),
    Op::Mkdir("dangling"),
    Op::Mkdir("nope/x"),
    Op::Mkdir("f/x"),
    Op::Mkdir("new/"),
    Op::Mkdir("."),
    Op::Mkdir(LONG),
    Op::Rmdir("full"),
    Op::Rmdir("f"),
    Op::Rmdir("sl"),
    Op::Rmdir("d/."),
    Op::Rmdir("d/.."),
    Op::Rmdir("nope"),
    Op::Rmdir("d"),
    Op::Unlink("d"),
    Op::Unlink("d/"),
    Op::Unlink("f/"),
    Op::Unlink("nope"),
    Op::Unlink("sl"),
    Op::Unlink("fifo"),
    Op::Unlink("."),
    Op::Rename("f", "d", 0),
    Op::Rename("d", "f", 0),
    Op::Rename("d", "full", 0),
    Op::Rename("full", "d", 0),
    Op::Rename("d", "d/sub", 0),
    Op::Rename("nope", "x", 0),
    Op::Rename("f", "f", 0),
    Op::Rename("f", "sl", 0),
    Op::Rename("f/", "g", 0),
    Op::Rename("f", "g/", 0),
    Op::Rename("d", "e/", 0),
    Op::Rename("f", "full/x", libc::RENAME_NOREPLACE),
    Op::Rename("d/.", "x", 0),
    Op::Rename("f", "d/.", 0),
    Op::Rename("f", "d/..", libc::RENAME_NOREPLACE),
    Op::Rename("d/.", "nope/x", 0),
    Op::Rename("f", "nope", libc::RENAME_EXCHANGE),
    Op::Rename("f", "d", libc::RENAME_EXCHANGE),
    Op::Rename("full/x", "full", libc::RENAME_EXCHANGE),
    Op::Rename("f", "g", libc::RENAME_EXCHANGE | libc::RENAME_NOREPLACE),
    Op::Link("d", "d2"),
    Op::Link("f", "full/x"),
    Op::Link("nope", "x"),
    Op::Link("f", "g"),
    Op::Link("sl", "sl2"),
    Op::Symlink("x", "f"),
    Op::Symlink("x", "nope/y"),
    Op::Open("nope", libc::O_RDONLY),
    Op::Open("d", libc::O_WRONLY),
    Op::Open("d", libc::O_RDWR),
    Op::Open("d", libc::O_RDONLY),
    Op::Open("d/", libc::O_RDONLY),
    Op::Open("f", libc::O_RDONLY | libc::O_DIRECTORY),
    Op::Open("f/", libc::O_RDONLY),
    Op::Open("loop", libc::O_RDONLY),
    Op::Open("sl", libc::O_RDONLY | libc::O_NOFOLLOW),
    Op::Open("dangling", libc::O_RDONLY),
    Op::Open("dangling", libc::O_CREAT | libc::O_WRONLY),
    Op::Open("dangling", libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY),
    Op::Open("f", libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY),
    Op::Open("sl", libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY),
    Op::Open("sl", libc::O_CREAT | libc::O_NOFOLLOW | libc::O_WRONLY),
    Op::Open("d", libc::O_CREAT | libc::O_RDONLY),
    Op::Open("new/", libc::O_CREAT | libc::O_WRONLY),
    Op::Open("f", libc::O_RDONLY | libc::O_TRUNC),
    Op::Open("nope/x", libc::O_CREAT | libc::O_WRONLY),
    Op::Open(LONG, libc::O_CREAT | libc::O_WRONLY),
    Op::Stat("f/"),
    Op::Stat("loop"),
    Op::Stat("dangling"),
    Op::Stat("sl/"),
    Op::Stat("d/../f"),
    Op::Stat("f/.."),
    Op::Lstat("sl"),
    Op::Lstat("dangling/"),
    Op::Readlink("f"),
    Op::Readlink("sl"),
    Op::Readlink("nope"),
    Op::Truncate("d"),
    Op::Truncate("fifo"),
    Op::Truncate("f"),
    Op::Mkfifo("f"),
    Op::Mkfifo("new"),
];

fn errno_of(ret: libc::c_int) -> Result<(), i32> {
    if ret < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(())
    }
}

fn run_host(dir: libc::c_int, base: &str, op: Op) -> Result<(), i32> {
    let c = |p: &str| CString::new(p).unwrap();
    // SAFETY: every pointer is a NUL-terminated string that outlives the
    // call, and `dir` is an open directory descriptor.
    unsafe {
        match op {
            Op::Mkdir(p) => errno_of(libc::mkdirat(dir, c(p).as_ptr(), 0o755)),
            Op::Rmdir(p) => errno_of(libc::unlinkat(dir, c(p).as_ptr(), libc::AT_REMOVEDIR)),
            Op::Unlink(p) => errno_of(libc::unlinkat(dir, c(p).as_ptr(), 0)),
            Op::Rename(a, b, flags) => errno_of(libc::renameat2(
                dir,
                c(a).as_ptr(),
                dir,
                c(b).as_ptr(),
                flags,
            )),
            Op::Link(a, b) => errno_of(libc::linkat(dir, c(a).as_ptr(), dir, c(b).as_ptr(), 0)),
            Op::Symlink(t, p) => errno_of(libc::symlinkat(c(t).as_ptr(), dir, c(p).as_ptr())),
            Op::Open(p, flags) => {
                let fd = libc::openat(dir, c(p).as_ptr(), flags | libc::O_NONBLOCK, 0o644);
                if fd >= 0 {
                    libc::close(fd);
                }
                errno_of(fd)
            }
            Op::Stat(p) | Op::Lstat(p) => {
                let mut st: libc::stat = std::mem::zeroed();
                let flags = if matches!(op, Op::Lstat(_)) {
                    libc::AT_SYMLINK_NOFOLLOW
                } else {
                    0
                };
                errno_of(libc::fstatat(dir, c(p).as_ptr(), &mut st, flags))
            }
            Op::Readlink(p) => {
                let mut buf = [0 as libc::c_char; 256];
                errno_of(
                    libc::readlinkat(dir, c(p).as_ptr(), buf.as_mut_ptr(), buf.len())
                        as libc::c_int,
                )
            }
            Op::Truncate(p) => errno_of(libc::truncate(c(&format!("{base}/{p}")).as_ptr(), 0)),
            Op::Mkfifo(p) => errno_of(libc::mkfifoat(dir, c(p).as_ptr(), 0o644)),
            Op::Chmod(p, mode) => errno_of(libc::fchmodat(dir, c(p).as_ptr(), mode, 0)),
            Op::Chown(p, id) => errno_of(libc::fchownat(
                dir,
                c(p).as_ptr(),
                id,
                id,
                libc::AT_SYMLINK_NOFOLLOW,
            )),
        }
    }
}

fn run_memfs(env: &Env, op: Op) -> Result<(), i32> {
    run_memfs_as(env, &env.ctx, op)
}

fn run_memfs_as(env: &Env, ctx: &dyn vfs_core::Context, op: Op) -> Result<(), i32> {
    let p = |path: &'static str| env.pop(path.as_bytes());
    let result = match op {
        Op::Mkdir(path) => env.mkdir(ctx, path, 0o755),
        Op::Rmdir(path) => env.vfs.rmdir_at(ctx, &p(path)),
        Op::Unlink(path) => env.vfs.unlink_at(ctx, &p(path)),
        Op::Rename(a, b, flags) => env.vfs.rename_at(
            ctx,
            &p(a),
            &p(b),
            RenameOptions {
                flags: RenameFlags::from_bits_retain(flags),
                ..Default::default()
            },
        ),
        Op::Link(a, b) => env.vfs.link_at(ctx, &p(a).follow_final(false), &p(b)),
        Op::Symlink(t, path) => env.vfs.symlink_at(ctx, &p(path), t.as_bytes()),
        Op::Open(path, flags) => {
            let flags = OpenFlags::from_bits_retain((flags | libc::O_NONBLOCK) as u32);
            env.vfs
                .open_at(
                    ctx,
                    &p(path),
                    OpenOptions {
                        flags,
                        mode: 0o644,
                        ..Default::default()
                    },
                )
                .map(|fd| fd.release(ctx))
        }
        Op::Stat(path) => env
            .vfs
            .stat_at(ctx, &p(path), StatOptions::default())
            .map(|_| ()),
        Op::Lstat(path) => env
            .vfs
            .stat_at(ctx, &p(path).follow_final(false), StatOptions::default())
            .map(|_| ()),
        Op::Readlink(path) => env.vfs.readlink_at(ctx, &p(path)).map(|_| ()),
        Op::Truncate(path) => {
            let mut opts = SetStatOptions {
                need_write_perm: true,
                ..Default::default()
            };
            opts.stat.stx_mask = StatxMask::SIZE.bits();
            env.vfs.set_stat_at(ctx, &p(path), opts)
        }
        Op::Mkfifo(path) => env.vfs.mknod_at(
            ctx,
            &p(path),
            MknodOptions {
                mode: 0o010644,
                ..Default::default()
            },
        ),
        Op::Chmod(path, mode) => env.chmod(ctx, path, mode),
        Op::Chown(path, id) => env.chown(ctx, path, id, id),
    };
    result.map_err(Errno::raw)
}

fn name(result: Result<(), i32>) -> String {
    match result {
        Ok(()) => "ok".to_string(),
        Err(raw) => Errno::from_raw(raw).map_or_else(|| raw.to_string(), |e| e.name().to_string()),
    }
}

#[test]
fn errnos_match_the_host_tmpfs() {
    let mut mismatches = Vec::new();
    for &case in CASES {
        let base = tempdir();
        let dir = std::fs::File::open(&base).unwrap();
        for &op in FIXTURE {
            run_host(dir.as_raw_fd(), &base, op).unwrap();
        }
        let host = run_host(dir.as_raw_fd(), &base, case);
        drop(dir);
        std::fs::remove_dir_all(&base).unwrap();

        let env = Env::memfs("");
        for &op in FIXTURE {
            run_memfs(&env, op).unwrap();
        }
        let ours = run_memfs(&env, case);
        env.finish();
        if host != ours {
            mismatches.push(format!(
                "{case:?}: host {} memfs {}",
                name(host),
                name(ours)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// A fresh directory on the host's tmpfs.
fn tempdir() -> String {
    let mut template = *b"/dev/shm/kernfs-host-XXXXXX\0";
    // SAFETY: `template` is a writable NUL-terminated buffer ending in
    // six `X`s, as mkdtemp requires.
    let ret = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
    assert!(
        !ret.is_null(),
        "mkdtemp: {}",
        std::io::Error::last_os_error()
    );
    String::from_utf8(template[..template.len() - 1].to_vec()).unwrap()
}

/// Runs `op` on the host as user and group `id` (no supplementary
/// groups, no capabilities) in a child process.
fn run_host_as(id: u32, dir: libc::c_int, base: &str, op: Op) -> Result<(), i32> {
    // SAFETY: the child only makes system calls and allocates (glibc
    // keeps malloc usable after fork) before `_exit`.
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let ok = libc::setgroups(0, std::ptr::null()) == 0
                && libc::setgid(id) == 0
                && libc::setuid(id) == 0;
            if !ok {
                libc::_exit(255);
            }
            let code = match run_host(dir, base, op) {
                Ok(()) => 0,
                Err(errno) => errno,
            };
            libc::_exit(code);
        }
        let mut status = 0;
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
        assert!(libc::WIFEXITED(status));
        match libc::WEXITSTATUS(status) {
            0 => Ok(()),
            255 => panic!("could not drop privileges"),
            errno => Err(errno),
        }
    }
}

/// Owned by root: `sticky/` (1777) with `sticky/rootfile` (0666),
/// `private/` (0700) with `private/x`, `ro/` (0555), `rofile` (0444),
/// `shared` (0666), and `mine` owned by the user.
const USER_FIXTURE: &[Op] = &[
    Op::Mkdir("sticky"),
    Op::Chmod("sticky", 0o1777),
    Op::Open("sticky/rootfile", libc::O_CREAT | libc::O_WRONLY),
    Op::Chmod("sticky/rootfile", 0o666),
    Op::Mkdir("private"),
    Op::Open("private/x", libc::O_CREAT | libc::O_WRONLY),
    Op::Chmod("private", 0o700),
    Op::Mkdir("ro"),
    Op::Chmod("ro", 0o555),
    Op::Open("rofile", libc::O_CREAT | libc::O_WRONLY),
    Op::Chmod("rofile", 0o444),
    Op::Open("shared", libc::O_CREAT | libc::O_WRONLY),
    Op::Chmod("shared", 0o666),
    Op::Open("mine", libc::O_CREAT | libc::O_WRONLY),
    Op::Chown("mine", USER),
];

const USER: u32 = 4321;

const USER_CASES: &[Op] = &[
    Op::Unlink("sticky/rootfile"),
    Op::Rename("sticky/rootfile", "sticky/x", 0),
    Op::Open("sticky/new", libc::O_CREAT | libc::O_WRONLY),
    Op::Open("rofile", libc::O_WRONLY),
    Op::Open("rofile", libc::O_RDONLY),
    Op::Open("shared", libc::O_RDWR),
    Op::Open("private/x", libc::O_RDONLY),
    Op::Stat("private/x"),
    Op::Stat("private"),
    Op::Mkdir("private/y"),
    Op::Mkdir("ro/y"),
    Op::Mkdir("y"),
    Op::Unlink("rofile"),
    Op::Chmod("rofile", 0o777),
    Op::Chmod("mine", 0o777),
    Op::Chown("mine", 0),
    Op::Link("shared", "sticky/l"),
    Op::Link("rofile", "sticky/l"),
    Op::Link("mine", "sticky/l"),
    Op::Truncate("rofile"),
    Op::Truncate("shared"),
    Op::Rmdir("ro"),
    Op::Mkfifo("sticky/p"),
];

#[test]
fn unprivileged_errnos_match_the_host_tmpfs() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: building the fixture and switching users needs root");
        return;
    }
    let user = crate::common::user(USER);
    let mut mismatches = Vec::new();
    for &case in USER_CASES {
        let base = tempdir();
        let dir = std::fs::File::open(&base).unwrap();
        // The user needs to search the test directory itself.
        std::fs::set_permissions(&base, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        for &op in USER_FIXTURE {
            run_host(dir.as_raw_fd(), &base, op).unwrap();
        }
        let host = run_host_as(USER, dir.as_raw_fd(), &base, case);
        drop(dir);
        std::fs::remove_dir_all(&base).unwrap();

        let env = Env::memfs("mode=0755");
        for &op in USER_FIXTURE {
            run_memfs(&env, op).unwrap();
        }
        let ours = run_memfs_as(&env, &user, case);
        env.finish();
        if host != ours {
            mismatches.push(format!(
                "{case:?}: host {} memfs {}",
                name(host),
                name(ours)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
