//! Credentials and resource limits: a C program that changes its ids,
//! groups, capabilities and limits runs natively (as root) and in the
//! sentry on both platforms; output and exit status must match.

pub mod common;
use common::native::c_program;

#[test]
fn set_id_family_groups_capabilities_and_rlimits_match_linux() {
    c_program("identity");
}
