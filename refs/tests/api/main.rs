//! Integration tests of the public API. One binary, so the shared helpers in
//! `common` are all used and the process-wide registry is shared the way it
//! is in a real test suite (every test takes a `LeakCheckScope`).

mod common;
mod handle;
mod logging;
mod registry;
mod scope;
