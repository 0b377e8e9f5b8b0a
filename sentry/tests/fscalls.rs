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

#[test]
fn getcpu_personality_and_the_mlock_family_behave_as_linux() {
    c_program("misc_calls");
}
