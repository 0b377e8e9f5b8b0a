//! Event files and readiness as Linux has them: epoll and eventfd run
//! natively and in the sentry on both platforms; output and exit status
//! must match.

pub mod common;
use common::native::c_program;

#[test]
fn epoll_and_eventfd_behave_as_linux() {
    c_program("epoll");
}
