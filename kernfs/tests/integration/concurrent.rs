//! Several threads creating, renaming, unlinking, listing and stat-ing in
//! one tree, with a small dentry cache so eviction runs all the time. The
//! test ends with a clean leak check; a deadlock aborts it.

use std::sync::mpsc;
use std::time::Duration;

use abi_linux::{Errno, OpenFlags, RenameFlags};
use kernfs::memfs::{self, MemfsOptions};
use vfs_core::{MountOptionFlags, RenameOptions, SimpleContext, VirtualFilesystem};

use crate::common::Env;

const THREADS: usize = 4;
const STEPS: usize = 3000;

/// A xorshift generator: reproducible per thread, no dependencies.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn expected(result: Result<(), Errno>, allowed: &[Errno]) {
    if let Err(errno) = result {
        assert!(allowed.contains(&errno), "unexpected {errno:?}");
    }
}

fn worker(env: &Env, seed: u64) {
    let ctx = SimpleContext::root();
    let mut rng = Rng(seed);
    let race = [
        Errno::ENOENT,
        Errno::EEXIST,
        Errno::ENOTEMPTY,
        Errno::ENOTDIR,
        Errno::EISDIR,
    ];
    for _ in 0..STEPS {
        let a = format!("/d{}/e{}", rng.below(3), rng.below(6));
        let b = format!("/d{}/e{}", rng.below(3), rng.below(6));
        match rng.below(9) {
            8 => expected(
                env.vfs
                    .link_at(&ctx, &env.pop(a.as_bytes()), &env.pop(b.as_bytes())),
                &[race.as_slice(), &[Errno::EPERM]].concat(),
            ),
            0 | 1 => expected(env.create(&ctx, &a, 0o644), &race),
            2 => expected(env.mkdir(&ctx, &a, 0o755), &race),
            3 => expected(
                env.vfs.rename_at(
                    &ctx,
                    &env.pop(a.as_bytes()),
                    &env.pop(b.as_bytes()),
                    RenameOptions {
                        flags: if rng.below(2) == 0 {
                            RenameFlags::empty()
                        } else {
                            RenameFlags::NOREPLACE
                        },
                        ..Default::default()
                    },
                ),
                &[race.as_slice(), &[Errno::EINVAL]].concat(),
            ),
            4 => expected(env.vfs.unlink_at(&ctx, &env.pop(a.as_bytes())), &race),
            5 => expected(env.vfs.rmdir_at(&ctx, &env.pop(a.as_bytes())), &race),
            6 => expected(env.stat(&a).map(|_| ()), &race),
            _ => match env.open(
                &ctx,
                &format!("/d{}", rng.below(3)),
                OpenFlags::DIRECTORY,
                0,
            ) {
                Ok(fd) => {
                    let mut sink = vfs_core::DirentVec::default();
                    fd.iter_dirents(&ctx, &mut sink).unwrap();
                    fd.release(&ctx);
                }
                Err(errno) => panic!("listing failed: {errno:?}"),
            },
        }
    }
}

#[test]
fn concurrent_tree_operations_finish_without_leaks_or_deadlock() {
    let scope = refs::LeakCheckScope::new();
    let ctx = SimpleContext::root();
    let vfs = VirtualFilesystem::new();
    let opts = MemfsOptions {
        max_cached_dentries: 8,
        ..MemfsOptions::default()
    };
    let (fs, root) = memfs::new_filesystem(&ctx, &vfs, "tmpfs", &opts, None).unwrap();
    let mount = vfs.new_disconnected_mount(fs, root, MountOptionFlags::empty());
    let ns = vfs.new_mount_namespace_from(mount);
    let env = Env::from_parts(vfs, ns, ctx, scope);
    for d in 0..3 {
        env.mkdir(&env.ctx, &format!("/d{d}"), 0o755).unwrap();
    }

    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(Duration::from_secs(120)).is_err() {
            eprintln!("concurrent test did not finish in 120 s: deadlock");
            std::process::abort();
        }
    });
    std::thread::scope(|s| {
        for i in 0..THREADS {
            let env = &env;
            s.spawn(move || worker(env, 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1)));
        }
    });
    done_tx.send(()).unwrap();
    watchdog.join().unwrap();
    env.finish();
}
