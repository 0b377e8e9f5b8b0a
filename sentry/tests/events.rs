//! Event files, readiness and descriptor tables as Linux has them: epoll,
//! eventfd, timerfd and close_range run natively and in the sentry on both
//! platforms; output and exit status must match.

pub mod common;
use common::native::c_program;

#[test]
fn epoll_and_eventfd_behave_as_linux() {
    c_program("epoll");
}

#[test]
fn close_range_closes_marks_and_unshares() {
    c_program("close_range");
}

#[test]
fn timerfd_counts_expirations_as_linux() {
    c_program("timerfd");
}
