//! `epoll(7)`: [`EpollEvents`], the `epoll_ctl(2)` operations and
//! [`EpollEvent`].

use bitflags::bitflags;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `EPOLL_CTL_ADD`: register a descriptor.
pub const EPOLL_CTL_ADD: i32 = 1;
/// `EPOLL_CTL_DEL`: deregister a descriptor.
pub const EPOLL_CTL_DEL: i32 = 2;
/// `EPOLL_CTL_MOD`: change a registration.
pub const EPOLL_CTL_MOD: i32 = 3;
/// `EPOLL_CLOEXEC`: `epoll_create1(2)` sets close-on-exec (`O_CLOEXEC`).
pub const EPOLL_CLOEXEC: u32 = 0o2000000;

bitflags! {
    /// The `EPOLL*` event bits and input flags of an epoll registration.
    ///
    /// The readiness bits are the `POLL*` values of `poll(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct EpollEvents: u32 {
        /// `EPOLLIN`: readable.
        const IN = 0x0001;
        /// `EPOLLPRI`: urgent data readable.
        const PRI = 0x0002;
        /// `EPOLLOUT`: writable.
        const OUT = 0x0004;
        /// `EPOLLERR`: error condition (always reported).
        const ERR = 0x0008;
        /// `EPOLLHUP`: hang-up (always reported).
        const HUP = 0x0010;
        /// `EPOLLNVAL`: invalid descriptor.
        const NVAL = 0x0020;
        /// `EPOLLRDNORM`: normal data readable.
        const RDNORM = 0x0040;
        /// `EPOLLRDBAND`: priority data readable.
        const RDBAND = 0x0080;
        /// `EPOLLWRNORM`: normal data writable.
        const WRNORM = 0x0100;
        /// `EPOLLWRBAND`: priority data writable.
        const WRBAND = 0x0200;
        /// `EPOLLMSG`: unused by Linux.
        const MSG = 0x0400;
        /// `EPOLLRDHUP`: the peer shut down writing.
        const RDHUP = 0x2000;
        /// `EPOLLEXCLUSIVE`: wake one of the waiters sharing the target.
        const EXCLUSIVE = 1 << 28;
        /// `EPOLLWAKEUP`: hold a wakeup source while the event is pending.
        const WAKEUP = 1 << 29;
        /// `EPOLLONESHOT`: disable the registration after one event.
        const ONESHOT = 1 << 30;
        /// `EPOLLET`: edge-triggered.
        const ET = 1 << 31;
    }
}

/// `struct epoll_event` of x86_64: packed, 12 bytes, because the x86_64
/// kernel declares it `__attribute__((packed))` for 32-bit compatibility.
#[cfg(target_arch = "x86_64")]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C, packed)]
pub struct EpollEvent {
    /// The [`EpollEvents`] bits.
    pub events: u32,
    /// Data the application registered, returned with the event.
    pub data: u64,
}

/// `struct epoll_event` of architectures other than x86_64: naturally
/// aligned, 16 bytes.
#[cfg(not(target_arch = "x86_64"))]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct EpollEvent {
    /// The [`EpollEvents`] bits.
    pub events: u32,
    /// Padding, zero.
    pub _pad: u32,
    /// Data the application registered, returned with the event.
    pub data: u64,
}
