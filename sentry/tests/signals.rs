//! Signals as Linux queues and hands them over: a C program that queues,
//! waits for and handles signals runs natively and in the sentry on both
//! platforms; output and exit status must match.

pub mod common;
use common::native::c_program;

#[test]
fn realtime_signals_queue_with_values_and_waits_take_them_in_order() {
    c_program("queued_signals");
}
