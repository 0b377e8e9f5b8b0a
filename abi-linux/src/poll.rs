//! `poll(2)`: [`PollEvents`] and [`Pollfd`].

use bitflags::bitflags;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

bitflags! {
    /// The `POLL*` bits of `struct pollfd`'s `events` and `revents`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct PollEvents: i16 {
        /// `POLLIN`: readable.
        const IN = 0x0001;
        /// `POLLPRI`: urgent data readable.
        const PRI = 0x0002;
        /// `POLLOUT`: writable.
        const OUT = 0x0004;
        /// `POLLERR`: error condition.
        const ERR = 0x0008;
        /// `POLLHUP`: hang-up.
        const HUP = 0x0010;
        /// `POLLNVAL`: the descriptor is not open.
        const NVAL = 0x0020;
        /// `POLLRDNORM`: normal data readable.
        const RDNORM = 0x0040;
        /// `POLLRDBAND`: priority data readable.
        const RDBAND = 0x0080;
        /// `POLLWRNORM`: normal data writable.
        const WRNORM = 0x0100;
        /// `POLLWRBAND`: priority data writable.
        const WRBAND = 0x0200;
        /// `POLLMSG`: unused by Linux.
        const MSG = 0x0400;
        /// `POLLREMOVE`: unused by Linux.
        const REMOVE = 0x1000;
        /// `POLLRDHUP`: the peer shut down writing.
        const RDHUP = 0x2000;
    }
}

/// `struct pollfd`, one entry of the `poll(2)` array.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Pollfd {
    /// The descriptor; negative entries are ignored.
    pub fd: i32,
    /// The requested [`PollEvents`].
    pub events: i16,
    /// The returned [`PollEvents`].
    pub revents: i16,
}
