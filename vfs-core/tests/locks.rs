//! File locks through file descriptions: `flock`, POSIX record locks owned
//! by a process and OFD locks owned by a description, with the errno Linux
//! returns for each refusal.

pub mod common;

use abi_linux::{Errno, Flock, FlockOp, LockType, OpenFlags, Whence};
use common::Env;
use vfs_core::{ProcessLockOwner, SimpleContext};

fn process(id: u64, pid: i32) -> SimpleContext {
    let mut ctx = SimpleContext::root();
    ctx.lock_owner = Some(ProcessLockOwner { id, pid });
    ctx
}

fn request(ty: LockType, start: i64, len: i64) -> Flock {
    Flock {
        l_type: ty as i16,
        l_whence: Whence::Set as i16,
        l_start: start,
        l_len: len,
        ..Flock::default()
    }
}

#[test]
fn flock_exclusive_conflicts_between_descriptions_is_ewouldblock() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    let a = env.open(b"/f", OpenFlags::RDWR).unwrap();
    let b = env.open(b"/f", OpenFlags::RDWR).unwrap();
    a.lock_bsd(&env.ctx, FlockOp::EX).unwrap();
    assert_eq!(
        b.lock_bsd(&env.ctx, FlockOp::EX | FlockOp::NB),
        Err(Errno::EWOULDBLOCK)
    );
    assert_eq!(
        b.lock_bsd(&env.ctx, FlockOp::SH | FlockOp::NB),
        Err(Errno::EWOULDBLOCK)
    );
    a.lock_bsd(&env.ctx, FlockOp::UN).unwrap();
    b.lock_bsd(&env.ctx, FlockOp::SH | FlockOp::NB).unwrap();
    a.release(&env.ctx);
    b.release(&env.ctx);
    env.finish();
}

#[test]
fn flock_released_when_last_reference_to_description_goes() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    let a = env.open(b"/f", OpenFlags::empty()).unwrap();
    let b = env.open(b"/f", OpenFlags::empty()).unwrap();
    a.lock_bsd(&env.ctx, FlockOp::EX).unwrap();
    a.release(&env.ctx);
    b.lock_bsd(&env.ctx, FlockOp::EX | FlockOp::NB).unwrap();
    b.release(&env.ctx);
    env.finish();
}

#[test]
fn flock_with_invalid_operation_is_einval() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    let a = env.open(b"/f", OpenFlags::empty()).unwrap();
    assert_eq!(
        a.lock_bsd(&env.ctx, FlockOp::SH | FlockOp::EX),
        Err(Errno::EINVAL)
    );
    a.release(&env.ctx);
    env.finish();
}

#[test]
fn posix_lock_conflict_between_processes_is_eagain() {
    let env = Env::new();
    env.write_file(b"/f", b"0123456789").unwrap();
    let (p1, p2) = (process(1, 100), process(2, 200));
    let a = env.open(b"/f", OpenFlags::RDWR).unwrap();
    let b = env.open(b"/f", OpenFlags::RDWR).unwrap();
    a.lock_posix(&p1, false, false, &request(LockType::WRLCK, 0, 5))
        .unwrap();
    assert_eq!(
        b.lock_posix(&p2, false, false, &request(LockType::RDLCK, 4, 2)),
        Err(Errno::EAGAIN)
    );
    // Outside the locked range there is no conflict.
    b.lock_posix(&p2, false, false, &request(LockType::WRLCK, 5, 5))
        .unwrap();
    a.release(&env.ctx);
    b.release(&env.ctx);
    env.finish();
}

#[test]
fn getlk_reports_conflicting_lock_with_holder_pid() {
    let env = Env::new();
    env.write_file(b"/f", b"0123456789").unwrap();
    let (p1, p2) = (process(1, 100), process(2, 200));
    let a = env.open(b"/f", OpenFlags::RDWR).unwrap();
    a.lock_posix(&p1, false, false, &request(LockType::WRLCK, 2, 3))
        .unwrap();
    let found = a
        .test_posix(&p2, false, &request(LockType::RDLCK, 0, 0))
        .unwrap();
    assert_eq!(found.l_type, LockType::WRLCK as i16);
    assert_eq!((found.l_start, found.l_len, found.l_pid), (2, 3, 100));
    // The holder itself sees no conflict.
    let own = a
        .test_posix(&p1, false, &request(LockType::WRLCK, 0, 0))
        .unwrap();
    assert_eq!(own.l_type, LockType::UNLCK as i16);
    a.release(&env.ctx);
    env.finish();
}

#[test]
fn closing_any_fd_releases_the_process_posix_locks() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    let (p1, p2) = (process(1, 100), process(2, 200));
    let a = env.open(b"/f", OpenFlags::RDWR).unwrap();
    let other = env.open(b"/f", OpenFlags::empty()).unwrap();
    a.lock_posix(&p1, false, false, &request(LockType::WRLCK, 0, 0))
        .unwrap();
    // Linux drops all of the process's locks on the inode at any close.
    other.on_close(&p1).unwrap();
    other.release(&p1);
    a.lock_posix(&p2, false, false, &request(LockType::WRLCK, 0, 0))
        .unwrap();
    a.release(&env.ctx);
    env.finish();
}

#[test]
fn ofd_lock_belongs_to_the_description_and_goes_with_it() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    let ctx = process(1, 100);
    let a = env.open(b"/f", OpenFlags::RDWR).unwrap();
    let b = env.open(b"/f", OpenFlags::RDWR).unwrap();
    a.lock_posix(&ctx, true, false, &request(LockType::WRLCK, 0, 0))
        .unwrap();
    // Same process, different description: OFD locks conflict.
    assert_eq!(
        b.lock_posix(&ctx, true, false, &request(LockType::WRLCK, 0, 0)),
        Err(Errno::EAGAIN)
    );
    let found = b
        .test_posix(&ctx, true, &request(LockType::WRLCK, 0, 0))
        .unwrap();
    assert_eq!(found.l_pid, -1);
    a.release(&env.ctx);
    b.lock_posix(&ctx, true, false, &request(LockType::WRLCK, 0, 0))
        .unwrap();
    b.release(&env.ctx);
    env.finish();
}

#[test]
fn ofd_request_with_nonzero_pid_is_einval() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    let a = env.open(b"/f", OpenFlags::RDWR).unwrap();
    let mut req = request(LockType::WRLCK, 0, 0);
    req.l_pid = 5;
    assert_eq!(
        a.lock_posix(&env.ctx, true, false, &req),
        Err(Errno::EINVAL)
    );
    a.release(&env.ctx);
    env.finish();
}

#[test]
fn read_lock_on_write_only_fd_is_ebadf() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    let ctx = process(1, 100);
    let w = env.open(b"/f", OpenFlags::WRONLY).unwrap();
    let r = env.open(b"/f", OpenFlags::empty()).unwrap();
    assert_eq!(
        w.lock_posix(&ctx, false, false, &request(LockType::RDLCK, 0, 0)),
        Err(Errno::EBADF)
    );
    assert_eq!(
        r.lock_posix(&ctx, false, false, &request(LockType::WRLCK, 0, 0)),
        Err(Errno::EBADF)
    );
    w.release(&env.ctx);
    r.release(&env.ctx);
    env.finish();
}

#[test]
fn posix_lock_without_process_identity_is_enolck() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    let a = env.open(b"/f", OpenFlags::RDWR).unwrap();
    assert_eq!(
        a.lock_posix(&env.ctx, false, false, &request(LockType::WRLCK, 0, 0)),
        Err(Errno::ENOLCK)
    );
    a.release(&env.ctx);
    env.finish();
}

#[test]
fn seek_end_range_is_relative_to_file_size() {
    let env = Env::new();
    env.write_file(b"/f", b"0123456789").unwrap();
    let (p1, p2) = (process(1, 100), process(2, 200));
    let a = env.open(b"/f", OpenFlags::RDWR).unwrap();
    let mut req = request(LockType::WRLCK, -2, 2);
    req.l_whence = Whence::End as i16;
    a.lock_posix(&p1, false, false, &req).unwrap();
    let found = a
        .test_posix(&p2, false, &request(LockType::WRLCK, 0, 0))
        .unwrap();
    assert_eq!((found.l_start, found.l_len), (8, 2));
    a.release(&env.ctx);
    env.finish();
}

#[test]
fn blocking_request_without_a_blocker_fails_like_nonblocking() {
    let env = Env::new();
    env.write_file(b"/f", b"x").unwrap();
    let (p1, p2) = (process(1, 100), process(2, 200));
    let a = env.open(b"/f", OpenFlags::RDWR).unwrap();
    a.lock_posix(&p1, false, false, &request(LockType::WRLCK, 0, 0))
        .unwrap();
    assert_eq!(
        a.lock_posix(&p2, false, true, &request(LockType::WRLCK, 0, 0)),
        Err(Errno::EAGAIN)
    );
    a.release(&env.ctx);
    env.finish();
}
