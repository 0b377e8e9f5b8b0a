//! The file calls beyond open/read/write as Linux answers them (creat,
//! truncate, chown, the utime family, mknod, the old getdents, the xattr
//! setters, the sync family, readahead) and a few small process and memory
//! calls (getcpu, personality, the mlock family): C programs run natively
//! and in the sentry on both platforms; output and exit status must match.

pub mod common;
use common::native::c_program;

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
