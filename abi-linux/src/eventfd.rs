//! `eventfd(2)` flags.

use bitflags::bitflags;

bitflags! {
    /// The flags of `eventfd2(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct EfdFlags: u32 {
        /// `EFD_SEMAPHORE`: each read takes 1 from the counter.
        const SEMAPHORE = 1;
        /// `EFD_NONBLOCK`: the description is `O_NONBLOCK`.
        const NONBLOCK = 0o4000;
        /// `EFD_CLOEXEC`: the descriptor is close-on-exec.
        const CLOEXEC = 0o2000000;
    }
}

/// The largest value an eventfd counter holds (`ULLONG_MAX - 1`).
pub const EVENTFD_MAX: u64 = u64::MAX - 1;
