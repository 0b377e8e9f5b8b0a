//! Integration tests of kernfs and memfs through the vfs-core API. Every
//! test ends with a leak check of the objects it created.

mod cache;
mod common;
mod concurrent;
mod host;
mod inotify;
mod memfs;
mod mmap;
mod overlay;
