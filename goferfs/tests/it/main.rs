//! Integration tests: our client against diod, unpfs and our server, the
//! escape suite, concurrency, cancellation, third-party clients against our
//! server, and decoder robustness on mutated real frames.

mod codec;
mod common;
mod escape;
mod gofer;
mod mmap;
mod suite;
mod third_party;
mod vfs;
