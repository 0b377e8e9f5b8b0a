//! Terminal ioctls on the replica side of a real pseudo-terminal pair.

use std::sync::{Arc, Mutex};

use abi_linux::tty::{FIONREAD, TCGETS, TCSETS, TIOCGPGRP, TIOCGWINSZ, TIOCSPGRP, TIOCSWINSZ};
use abi_linux::{Errno, Signal, Termios, Winsize};
use hostfs::{ImportOptions, JobControl};
use vfs_core::Context;
use zerocopy::{FromBytes, IntoBytes};

use crate::common::{Env, Memory, errno};

/// Calls a host ioctl whose argument points to a `T`.
fn host_ioctl<T>(fd: &std::os::fd::OwnedFd, request: u32, arg: &mut T) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: every request used here reads or writes exactly one `T`.
    let rc = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::Ioctl::from(request),
            std::ptr::from_mut(arg),
        )
    };
    if rc < 0 {
        Err(errno(nix::errno::Errno::last()))
    } else {
        Ok(())
    }
}

struct Pty {
    master: std::os::fd::OwnedFd,
    /// A second descriptor of the replica, to ask the host.
    replica: std::os::fd::OwnedFd,
}

fn open_pty(env: &Env, opts: ImportOptions) -> (Pty, vfs_core::FileRef) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let replica = nix::unistd::dup(&pty.slave).unwrap();
    let file = env
        .import(
            pty.slave,
            &ImportOptions {
                is_tty: true,
                ..opts
            },
        )
        .unwrap();
    (
        Pty {
            master: pty.master,
            replica,
        },
        file,
    )
}

fn ioctl(env: &Env, file: &vfs_core::FileRef, cmd: u32, mem: &mut Memory) -> Result<i64, Errno> {
    file.ioctl(&env.ctx, cmd, 0, mem)
}

#[test]
fn tcgets_and_tcsets_reach_the_host_terminal() {
    let env = Env::new();
    let (pty, file) = open_pty(&env, ImportOptions::default());
    let mut mem = Memory(vec![0; 64]);
    ioctl(&env, &file, TCGETS, &mut mem).unwrap();
    let ours = Termios::read_from_prefix(&mem.0).unwrap().0;
    let mut host = Termios::default();
    host_ioctl(&pty.replica, TCGETS, &mut host).unwrap();
    assert_eq!(ours, host);

    let mut changed = ours;
    changed.c_lflag ^= libc::ECHO;
    mem.0[..size_of::<Termios>()].copy_from_slice(changed.as_bytes());
    ioctl(&env, &file, TCSETS, &mut mem).unwrap();
    host_ioctl(&pty.replica, TCGETS, &mut host).unwrap();
    assert_eq!(host.c_lflag & libc::ECHO, changed.c_lflag & libc::ECHO);

    file.release(&env.ctx);
    env.finish();
}

#[test]
fn window_size_round_trips_through_the_host() {
    let env = Env::new();
    let (pty, file) = open_pty(&env, ImportOptions::default());
    let size = Winsize {
        ws_row: 33,
        ws_col: 111,
        ..Winsize::default()
    };
    let mut mem = Memory(size.as_bytes().to_vec());
    ioctl(&env, &file, TIOCSWINSZ, &mut mem).unwrap();
    let mut host = Winsize::default();
    host_ioctl(&pty.master, TIOCGWINSZ, &mut host).unwrap();
    assert_eq!(host, size);

    let mut mem = Memory(vec![0; 8]);
    ioctl(&env, &file, TIOCGWINSZ, &mut mem).unwrap();
    assert_eq!(Winsize::read_from_bytes(&mem.0).unwrap(), size);
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn fionread_matches_the_host() {
    let env = Env::new();
    let (pty, file) = open_pty(&env, ImportOptions::default());
    nix::unistd::write(&pty.master, b"line\n").unwrap();
    // Wait until the line discipline has the line.
    let mut fds = [nix::poll::PollFd::new(
        std::os::fd::AsFd::as_fd(&pty.replica),
        nix::poll::PollFlags::POLLIN,
    )];
    assert_eq!(
        nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(30_000u16)),
        Ok(1)
    );
    let mut host = 0i32;
    host_ioctl(&pty.replica, FIONREAD, &mut host).unwrap();
    let mut mem = Memory(vec![0; 4]);
    ioctl(&env, &file, FIONREAD, &mut mem).unwrap();
    assert_eq!(i32::read_from_bytes(&mem.0).unwrap(), host);
    assert_eq!(env.read(&file, 100).unwrap(), b"line\n");
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn job_control_without_a_hook_is_enotty_like_a_foreign_terminal() {
    let env = Env::new();
    let (pty, file) = open_pty(&env, ImportOptions::default());
    // This process has no controlling terminal on the new pty, so Linux
    // answers ENOTTY to TIOCGPGRP.
    let mut pgid = 0i32;
    let host = host_ioctl(&pty.replica, TIOCGPGRP, &mut pgid);
    let mut mem = Memory(vec![0; 4]);
    assert_eq!(ioctl(&env, &file, TIOCGPGRP, &mut mem).map(drop), host);
    assert_eq!(host, Err(Errno::ENOTTY));
    // An ioctl terminals do not know is ENOTTY on the host too.
    let mut arg = 0i32;
    let host = host_ioctl(&pty.replica, 0x5499, &mut arg);
    assert_eq!(ioctl(&env, &file, 0x5499, &mut mem).map(drop), host);
    file.release(&env.ctx);
    env.finish();
}

/// A process model with one foreground group and a switch for background
/// access.
#[derive(Default)]
struct FakeJobs {
    pgid: Mutex<i32>,
    background: Mutex<bool>,
    winches: Mutex<u32>,
}

impl JobControl for FakeJobs {
    fn check_change(&self, _: &dyn Context, _: Signal) -> Result<(), Errno> {
        if *self.background.lock().unwrap() {
            Err(Errno::EIO)
        } else {
            Ok(())
        }
    }

    fn foreground_process_group(&self, _: &dyn Context) -> Result<i32, Errno> {
        Ok(*self.pgid.lock().unwrap())
    }

    fn set_foreground_process_group(&self, _: &dyn Context, pgid: i32) -> Result<(), Errno> {
        *self.pgid.lock().unwrap() = pgid;
        Ok(())
    }

    fn set_controlling_terminal(&self, _: &dyn Context, _: bool, _: bool) -> Result<(), Errno> {
        Ok(())
    }

    fn release_controlling_terminal(&self, _: &dyn Context) -> Result<(), Errno> {
        Ok(())
    }

    fn window_size_changed(&self, _: &dyn Context) {
        *self.winches.lock().unwrap() += 1;
    }
}

#[test]
fn job_control_goes_to_the_hook() {
    let env = Env::new();
    let jobs = Arc::new(FakeJobs::default());
    let opts = ImportOptions {
        job_control: Some(jobs.clone()),
        ..ImportOptions::default()
    };
    let (pty, file) = open_pty(&env, opts);

    let mut mem = Memory(42i32.as_bytes().to_vec());
    ioctl(&env, &file, TIOCSPGRP, &mut mem).unwrap();
    let mut out = Memory(vec![0; 4]);
    ioctl(&env, &file, TIOCGPGRP, &mut out).unwrap();
    assert_eq!(i32::read_from_bytes(&out.0).unwrap(), 42);

    let size = Winsize {
        ws_row: 5,
        ws_col: 6,
        ..Winsize::default()
    };
    ioctl(
        &env,
        &file,
        TIOCSWINSZ,
        &mut Memory(size.as_bytes().to_vec()),
    )
    .unwrap();
    assert_eq!(*jobs.winches.lock().unwrap(), 1);

    // A background reader is refused by the hook before the host is asked.
    nix::unistd::write(&pty.master, b"x\n").unwrap();
    *jobs.background.lock().unwrap() = true;
    assert_eq!(env.read(&file, 10).err(), Some(Errno::EIO));
    assert_eq!(
        ioctl(&env, &file, TCSETS, &mut Memory(vec![0; 64])).err(),
        Some(Errno::EIO)
    );

    file.release(&env.ctx);
    env.finish();
}
