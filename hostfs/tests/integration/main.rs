//! hostfs against real host objects: regular files, pipes, socket pairs,
//! character devices, a pseudo-terminal; each case checks the errno the
//! host kernel gives for the same operation.

mod common;
mod files;
mod mmap;
mod streams;
mod tty;
