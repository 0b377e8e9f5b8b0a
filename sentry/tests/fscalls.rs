//! The file calls beyond open/read/write as Linux answers them (creat,
//! truncate, chown, the utime family, mknod, the old getdents, the xattr
//! setters, the sync family, readahead) and a few small process and memory
//! calls (getcpu, personality, the mlock family): C programs run natively
//! and in the sentry on both platforms; output and exit status must match.
//! And the default overlay root, next to the kernel's overlayfs.

pub mod common;
use common::native::{c_program, same_as_native_overlay, work_dir};

/// Python, sed and tar change the sandbox's default root (an overlay over
/// the host's `/`) as they change the kernel's overlayfs over `/`:
/// appends keep inode numbers, removed and moved lower entries stay gone,
/// metadata and extended attributes change above, a descriptor opened
/// before a copy-up reads the copy. The host's files never change.
#[test]
fn python_and_coreutils_change_the_overlay_root_as_the_kernels_overlayfs() {
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/programs/overlay_root.py"
    );
    let script = work_dir().join("overlay_root.py");
    std::fs::copy(src, &script).unwrap();
    let hostname = std::fs::read("/etc/hostname").unwrap();
    same_as_native_overlay(
        &["/usr/bin/python3", script.to_str().unwrap()],
        &[("PATH", "/usr/bin:/bin")],
    );
    assert_eq!(std::fs::read("/etc/hostname").unwrap(), hostname);
    assert!(std::path::Path::new("/etc/apt").is_dir());
    assert!(std::path::Path::new("/etc/shells").is_file());
}

#[test]
fn older_and_thinner_file_calls_behave_as_linux() {
    c_program("fscalls");
}

/// getcpu, personality, the mlock family, mincore, membarrier, the I/O
/// priorities and process_vm_readv/writev, natively and in the sentry.
#[test]
fn small_process_and_memory_calls_behave_as_linux() {
    c_program("misc_calls");
}

/// set_mempolicy, get_mempolicy and mbind over the sandbox's one node
/// (and the host's one node natively), with their errors.
#[test]
fn numa_memory_policies_behave_as_linux_on_one_node() {
    c_program("mempolicy");
}

/// unshare(CLONE_FILES/CLONE_FS), pidfd_getfd and fchmodat2, with their
/// errors.
#[test]
fn unshare_pidfd_getfd_and_fchmodat2_behave_as_linux() {
    c_program("unshare");
}
