//! Runs small programs under the seccomp-trap backend.

mod common;
mod scenarios;

use common::Backend;

scenarios::backend_tests!(Backend::Systrap);
