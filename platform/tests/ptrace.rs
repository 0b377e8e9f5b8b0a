//! Runs small programs under the ptrace backend.

mod common;
mod scenarios;

use common::Backend;

scenarios::backend_tests!(Backend::Ptrace);
