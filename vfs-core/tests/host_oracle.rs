//! The host kernel as the oracle: the same setup and operation run on a
//! directory of the host (through libc) and on testfs (through vfs-core),
//! and the results must agree errno for errno.

pub mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use abi_linux::{Errno, OpenFlags, RenameFlags};
use common::Env;
use vfs_core::{
    Context, Credentials, MkdirOptions, OpenOptions, RenameOptions, SetStatOptions, SimpleContext,
    StatOptions,
};

/// One step, with paths relative to the test directory.
#[derive(Clone, Copy, Debug)]
enum Op {
    Mkdir(&'static str),
    File(&'static str),
    Symlink(&'static str, &'static str),
    Link(&'static str, &'static str),
    Rename(&'static str, &'static str, u32),
    Unlink(&'static str),
    Rmdir(&'static str),
    Open(&'static str, i32),
    Stat(&'static str),
    Lstat(&'static str),
}

/// `(setup, operation)`: the setup must succeed on both sides.
const CASES: &[(&[Op], Op)] = &[
    (
        &[Op::Mkdir("a"), Op::Mkdir("a/b")],
        Op::Rename("a", "a/b/c", 0),
    ),
    (
        &[Op::Mkdir("a"), Op::Mkdir("a/b")],
        Op::Rename("a/b", "a", 0),
    ),
    (&[Op::File("f"), Op::Mkdir("d")], Op::Rename("f", "d", 0)),
    (&[Op::File("f"), Op::Mkdir("d")], Op::Rename("d", "f", 0)),
    (
        &[Op::Mkdir("a"), Op::Mkdir("b"), Op::File("b/f")],
        Op::Rename("a", "b", 0),
    ),
    (&[Op::Mkdir("a"), Op::Mkdir("b")], Op::Rename("a", "b", 0)),
    (
        &[Op::File("a"), Op::File("b")],
        Op::Rename("a", "b", libc::RENAME_NOREPLACE),
    ),
    (&[Op::Mkdir("d")], Op::Rename("d/.", "x", 0)),
    (&[Op::File("a"), Op::Mkdir("d")], Op::Rename("a", "d/..", 0)),
    (
        &[Op::File("a"), Op::Mkdir("d")],
        Op::Rename("a", "d/.", libc::RENAME_NOREPLACE),
    ),
    (&[Op::Mkdir("d")], Op::Rename("d/..", "missing/x", 0)),
    (
        &[Op::File("a")],
        Op::Rename("a", "missing", libc::RENAME_EXCHANGE),
    ),
    (
        &[Op::File("a"), Op::Mkdir("d")],
        Op::Rename("a", "d", libc::RENAME_EXCHANGE),
    ),
    (&[Op::Mkdir("d")], Op::Rename("d/.", "e", 0)),
    (&[Op::Mkdir("d"), Op::File("x")], Op::Rename("x", "d/..", 0)),
    (&[Op::File("f")], Op::Rename("f/", "g", 0)),
    (&[Op::File("f")], Op::Rename("f", "g/", 0)),
    (
        &[Op::File("f"), Op::Link("f", "h")],
        Op::Rename("f", "h", 0),
    ),
    (&[], Op::Rename("missing", "x", 0)),
    (&[Op::Mkdir("d")], Op::Mkdir("d")),
    (&[Op::Mkdir("d")], Op::Mkdir("d/.")),
    (&[Op::Mkdir("d")], Op::Mkdir("d/..")),
    (&[Op::File("f")], Op::Mkdir("f/x")),
    (&[], Op::Mkdir("missing/x")),
    (&[Op::Symlink("nowhere", "l")], Op::Mkdir("l")),
    (&[Op::Mkdir("d")], Op::Rmdir("d/.")),
    (&[Op::Mkdir("d")], Op::Rmdir("d/..")),
    (&[Op::File("f")], Op::Rmdir("f")),
    (&[Op::Mkdir("d"), Op::File("d/f")], Op::Rmdir("d")),
    (&[], Op::Rmdir("missing")),
    (&[Op::Mkdir("d")], Op::Unlink("d")),
    (&[Op::File("f")], Op::Unlink("f/")),
    (&[Op::Mkdir("d")], Op::Unlink("d/")),
    (&[Op::Mkdir("d")], Op::Unlink("d/.")),
    (&[], Op::Unlink("missing")),
    (&[Op::File("f")], Op::Open("f/", libc::O_RDONLY)),
    (
        &[Op::File("f")],
        Op::Open("f", libc::O_RDONLY | libc::O_DIRECTORY),
    ),
    (&[Op::Mkdir("d")], Op::Open("d", libc::O_WRONLY)),
    (
        &[Op::Mkdir("d")],
        Op::Open("d", libc::O_RDONLY | libc::O_TRUNC),
    ),
    (
        &[Op::File("f")],
        Op::Open("f", libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY),
    ),
    (
        &[Op::Symlink("nowhere", "l")],
        Op::Open("l", libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY),
    ),
    (
        &[Op::Symlink("created", "l")],
        Op::Open("l", libc::O_CREAT | libc::O_WRONLY),
    ),
    (
        &[Op::File("f"), Op::Symlink("f", "l")],
        Op::Open("l", libc::O_RDONLY | libc::O_NOFOLLOW),
    ),
    (
        &[Op::Mkdir("d"), Op::Symlink("d", "l")],
        Op::Open("l", libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW),
    ),
    (&[], Op::Open("new/", libc::O_CREAT | libc::O_WRONLY)),
    (
        &[Op::Mkdir("d")],
        Op::Open("d", libc::O_CREAT | libc::O_WRONLY),
    ),
    (
        &[Op::Symlink("self", "self")],
        Op::Open("self", libc::O_RDONLY),
    ),
    (&[Op::Mkdir("d")], Op::Link("d", "e")),
    (&[Op::File("f"), Op::File("g")], Op::Link("f", "g")),
    (&[Op::File("f")], Op::Link("f", "g/")),
    (&[Op::File("f")], Op::Symlink("x", "f")),
    (&[Op::File("f")], Op::Stat("f/.")),
    (&[Op::File("f")], Op::Stat("f/")),
    (&[Op::Mkdir("d"), Op::Symlink("d", "l")], Op::Lstat("l/")),
    (&[Op::Symlink("nowhere", "l")], Op::Stat("l")),
    (&[Op::Symlink("nowhere", "l")], Op::Lstat("l")),
];

fn cstr(base: &std::path::Path, path: &str) -> CString {
    let mut bytes = base.as_os_str().as_bytes().to_vec();
    bytes.push(b'/');
    bytes.extend_from_slice(path.as_bytes());
    CString::new(bytes).expect("no NUL in test paths")
}

fn host_result(ret: libc::c_int) -> Result<(), Errno> {
    if ret >= 0 {
        return Ok(());
    }
    let raw = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    Err(Errno::from_raw(raw).expect("the host returns a known errno"))
}

/// Runs `op` on the host under `base`.
fn host(base: &std::path::Path, op: Op) -> Result<(), Errno> {
    let p = |path| cstr(base, path);
    // SAFETY: every pointer is a valid NUL-terminated string that outlives
    // the call; the calls have no other memory effects.
    let ret = unsafe {
        match op {
            Op::Mkdir(path) => libc::mkdir(p(path).as_ptr(), 0o755),
            Op::File(path) => {
                let fd = libc::open(
                    p(path).as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_EXCL,
                    0o644,
                );
                if fd >= 0 { libc::close(fd) } else { fd }
            }
            Op::Symlink(target, path) => {
                let target = CString::new(target).expect("no NUL");
                libc::symlink(target.as_ptr(), p(path).as_ptr())
            }
            Op::Link(old, new) => libc::link(p(old).as_ptr(), p(new).as_ptr()),
            Op::Rename(old, new, flags) => libc::renameat2(
                libc::AT_FDCWD,
                p(old).as_ptr(),
                libc::AT_FDCWD,
                p(new).as_ptr(),
                flags,
            ),
            Op::Unlink(path) => libc::unlink(p(path).as_ptr()),
            Op::Rmdir(path) => libc::rmdir(p(path).as_ptr()),
            Op::Open(path, flags) => {
                let fd = libc::open(p(path).as_ptr(), flags, 0o644);
                if fd >= 0 { libc::close(fd) } else { fd }
            }
            Op::Stat(path) | Op::Lstat(path) => {
                let mut st: libc::stat = std::mem::zeroed();
                if matches!(op, Op::Stat(_)) {
                    libc::stat(p(path).as_ptr(), &mut st)
                } else {
                    libc::lstat(p(path).as_ptr(), &mut st)
                }
            }
        }
    };
    host_result(ret)
}

/// Runs `op` on testfs under `/base` as `ctx`.
fn ours(env: &Env, ctx: &dyn Context, op: Op) -> Result<(), Errno> {
    let full = |path: &str| format!("/base/{path}").into_bytes();
    match op {
        Op::Mkdir(path) => env.vfs.mkdir_at(
            ctx,
            &env.pop(&full(path)),
            MkdirOptions {
                mode: 0o755,
                ..Default::default()
            },
        ),
        Op::File(path) => {
            let flags = OpenFlags::CREAT | OpenFlags::WRONLY | OpenFlags::EXCL;
            env.open_as(ctx, &full(path), flags, 0o644)
                .map(|f| f.release(ctx))
        }
        Op::Symlink(target, path) => {
            env.vfs
                .symlink_at(ctx, &env.pop(&full(path)), target.as_bytes())
        }
        Op::Link(old, new) => env
            .vfs
            .link_at(ctx, &env.pop(&full(old)), &env.pop(&full(new))),
        Op::Rename(old, new, flags) => {
            let opts = RenameOptions {
                flags: RenameFlags::from_bits_retain(flags),
                ..RenameOptions::default()
            };
            env.vfs
                .rename_at(ctx, &env.pop(&full(old)), &env.pop(&full(new)), opts)
        }
        Op::Unlink(path) => env.vfs.unlink_at(ctx, &env.pop(&full(path))),
        Op::Rmdir(path) => env.vfs.rmdir_at(ctx, &env.pop(&full(path))),
        Op::Open(path, flags) => {
            let opts = OpenOptions {
                flags: OpenFlags::from_bits_retain(flags as u32),
                mode: 0o644,
                file_exec: false,
            };
            env.vfs
                .open_at(ctx, &env.pop(&full(path)), opts)
                .map(|f| f.release(ctx))
        }
        Op::Stat(path) => env
            .vfs
            .stat_at(ctx, &env.pop(&full(path)), StatOptions::default())
            .map(drop),
        Op::Lstat(path) => env
            .vfs
            .stat_at(
                ctx,
                &env.pop(&full(path)).follow_final(false),
                StatOptions::default(),
            )
            .map(drop),
    }
}

/// The caller's identity on the host, for running the testfs side with the
/// same privileges.
fn host_context() -> SimpleContext {
    // SAFETY: these calls only return the caller's IDs.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid == 0 {
        SimpleContext::root()
    } else {
        SimpleContext::new(Credentials::user(uid, gid))
    }
}

#[test]
fn errno_matches_host_kernel() {
    let env = Env::new();
    let ctx = host_context();
    let scratch = std::env::temp_dir().join(format!("vfs-core-oracle-{}", std::process::id()));
    let mut mismatches = Vec::new();
    for (index, (setup, op)) in CASES.iter().enumerate() {
        // A fresh directory on each side.
        let base = scratch.join(index.to_string());
        std::fs::create_dir_all(&base).expect("host scratch directory");
        env.mkdir(b"/base", 0o755).unwrap();
        let mut chown = SetStatOptions::default();
        chown.stat.stx_mask = (abi_linux::StatxMask::UID | abi_linux::StatxMask::GID).bits();
        chown.stat.stx_uid = ctx.credentials().fs_uid;
        chown.stat.stx_gid = ctx.credentials().fs_gid;
        env.vfs
            .set_stat_at(&env.ctx, &env.pop(b"/base"), chown)
            .unwrap();
        for step in *setup {
            host(&base, *step).unwrap_or_else(|e| panic!("host setup {step:?}: {e:?}"));
            ours(&env, &ctx, *step).unwrap_or_else(|e| panic!("testfs setup {step:?}: {e:?}"));
        }
        let expected = host(&base, *op);
        let got = ours(&env, &ctx, *op);
        if expected != got {
            mismatches.push(format!(
                "case {index} {setup:?} then {op:?}: host {expected:?}, vfs-core {got:?}"
            ));
        }
        // Move the case's tree aside; the next case starts empty.
        let aside = format!("/done{index}");
        env.vfs
            .rename_at(
                &env.ctx,
                &env.pop(b"/base"),
                &env.pop(aside.as_bytes()),
                RenameOptions::default(),
            )
            .unwrap();
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    env.finish();
}
