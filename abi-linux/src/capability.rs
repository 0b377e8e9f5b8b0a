//! Capabilities: [`Capability`], [`CapabilitySet`] and the `capget(2)`
//! structures [`CapUserHeader`] and [`CapUserData`].

use core::fmt;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `_LINUX_CAPABILITY_VERSION_1`: 32-bit capability sets, one
/// [`CapUserData`].
pub const LINUX_CAPABILITY_VERSION_1: u32 = 0x1998_0330;
/// `_LINUX_CAPABILITY_VERSION_2`: deprecated 64-bit sets, two
/// [`CapUserData`].
pub const LINUX_CAPABILITY_VERSION_2: u32 = 0x2007_1026;
/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets, two [`CapUserData`]; the
/// version Linux reports as preferred.
pub const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Declares [`Capability`] and its name table.
macro_rules! capabilities {
    ($($name:ident = $value:literal,)*) => {
        /// A Linux capability, named as Linux names it without `CAP_`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        #[expect(non_camel_case_types, reason = "the variants keep the Linux names, CAP_DAC_OVERRIDE is DAC_OVERRIDE")]
        pub enum Capability {
            $(
                #[doc = concat!("`CAP_", stringify!($name), "`.")]
                $name = $value,
            )*
        }

        impl Capability {
            /// Every capability, in numeric order.
            pub const ALL: &'static [Capability] = &[$(Capability::$name),*];

            /// Returns the capability numbered `v`, or `None` if Linux has
            /// no such capability.
            pub const fn from_raw(v: u32) -> Option<Capability> {
                match v {
                    $($value => Some(Capability::$name),)*
                    _ => None,
                }
            }

            /// Returns the Linux name, such as `"CAP_CHOWN"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Capability::$name => concat!("CAP_", stringify!($name)),)*
                }
            }
        }
    };
}

capabilities! {
    CHOWN = 0,
    DAC_OVERRIDE = 1,
    DAC_READ_SEARCH = 2,
    FOWNER = 3,
    FSETID = 4,
    KILL = 5,
    SETGID = 6,
    SETUID = 7,
    SETPCAP = 8,
    LINUX_IMMUTABLE = 9,
    NET_BIND_SERVICE = 10,
    NET_BROADCAST = 11,
    NET_ADMIN = 12,
    NET_RAW = 13,
    IPC_LOCK = 14,
    IPC_OWNER = 15,
    SYS_MODULE = 16,
    SYS_RAWIO = 17,
    SYS_CHROOT = 18,
    SYS_PTRACE = 19,
    SYS_PACCT = 20,
    SYS_ADMIN = 21,
    SYS_BOOT = 22,
    SYS_NICE = 23,
    SYS_RESOURCE = 24,
    SYS_TIME = 25,
    SYS_TTY_CONFIG = 26,
    MKNOD = 27,
    LEASE = 28,
    AUDIT_WRITE = 29,
    AUDIT_CONTROL = 30,
    SETFCAP = 31,
    MAC_OVERRIDE = 32,
    MAC_ADMIN = 33,
    SYSLOG = 34,
    WAKE_ALARM = 35,
    BLOCK_SUSPEND = 36,
    AUDIT_READ = 37,
    PERFMON = 38,
    BPF = 39,
    CHECKPOINT_RESTORE = 40,
}

impl Capability {
    /// `CAP_LAST_CAP`: the highest-numbered capability.
    pub const LAST: Capability = Capability::CHECKPOINT_RESTORE;

    /// Returns the capability's number.
    pub const fn raw(self) -> u32 {
        self as u32
    }

    /// Returns the capability's bit in a [`CapabilitySet`].
    pub const fn mask(self) -> u64 {
        1 << (self as u32)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of capabilities, bit `n` for capability `n`, as Linux stores the
/// effective, permitted, inheritable, bounding and ambient sets.
///
/// # Examples
///
/// ```
/// use abi_linux::{Capability, CapabilitySet};
///
/// let mut s = CapabilitySet::empty();
/// s.insert(Capability::DAC_OVERRIDE);
/// assert!(s.contains(Capability::DAC_OVERRIDE));
/// assert_eq!(s.iter().collect::<Vec<_>>(), [Capability::DAC_OVERRIDE]);
/// assert!(CapabilitySet::full().contains(Capability::CHECKPOINT_RESTORE));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct CapabilitySet(pub u64);

impl CapabilitySet {
    /// Returns the empty set.
    pub const fn empty() -> CapabilitySet {
        CapabilitySet(0)
    }

    /// Returns the set of every capability this crate knows (`CAP_CHOWN`
    /// to `CAP_LAST_CAP`).
    pub const fn full() -> CapabilitySet {
        CapabilitySet((Capability::LAST.mask() << 1) - 1)
    }

    /// Returns the set with bits `bits`, dropping bits of unknown
    /// capabilities (as `capset(2)` ignores them).
    pub const fn from_bits(bits: u64) -> CapabilitySet {
        CapabilitySet(bits & CapabilitySet::full().0)
    }

    /// Returns the raw bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Reports whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Reports whether the set contains `cap`.
    pub const fn contains(self, cap: Capability) -> bool {
        self.0 & cap.mask() != 0
    }

    /// Adds `cap` to the set.
    pub fn insert(&mut self, cap: Capability) {
        self.0 |= cap.mask();
    }

    /// Removes `cap` from the set.
    pub fn remove(&mut self, cap: Capability) {
        self.0 &= !cap.mask();
    }

    /// Returns the union of two sets.
    pub const fn union(self, other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(self.0 | other.0)
    }

    /// Returns the intersection of two sets.
    pub const fn intersection(self, other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(self.0 & other.0)
    }

    /// Reports whether every capability of `self` is in `other`.
    pub const fn is_subset(self, other: CapabilitySet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Returns an iterator over the known capabilities of the set, in
    /// numeric order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .iter()
            .copied()
            .filter(move |&c| self.contains(c))
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> CapabilitySet {
        let mut set = CapabilitySet::empty();
        for cap in iter {
            set.insert(cap);
        }
        set
    }
}

impl fmt::Debug for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// `struct __user_cap_header_struct`, the first argument of `capget(2)`
/// and `capset(2)`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct CapUserHeader {
    /// A `LINUX_CAPABILITY_VERSION_*` value.
    pub version: u32,
    /// The target thread; 0 for the caller.
    pub pid: i32,
}

/// `struct __user_cap_data_struct`: 32 bits of each set. Versions 2 and 3
/// pass two of them, the low half first.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct CapUserData {
    /// Bits of the effective set.
    pub effective: u32,
    /// Bits of the permitted set.
    pub permitted: u32,
    /// Bits of the inheritable set.
    pub inheritable: u32,
}

#[cfg(test)]
mod tests {
    use super::{Capability, CapabilitySet};

    #[test]
    fn from_raw_round_trips_and_stops_after_the_last() {
        for (i, &c) in Capability::ALL.iter().enumerate() {
            assert_eq!(Capability::from_raw(i as u32), Some(c));
            assert_eq!(c.raw(), i as u32);
        }
        assert_eq!(Capability::ALL.len(), 41);
        assert_eq!(Capability::from_raw(41), None);
    }

    #[test]
    fn from_bits_drops_unknown_capabilities() {
        let s = CapabilitySet::from_bits(u64::MAX);
        assert_eq!(s, CapabilitySet::full());
        assert_eq!(s.iter().count(), 41);
    }

    #[test]
    fn remove_clears_only_that_capability() {
        let mut s = CapabilitySet::full();
        s.remove(Capability::SYS_ADMIN);
        assert!(!s.contains(Capability::SYS_ADMIN));
        assert_eq!(s.iter().count(), 40);
        assert!(s.is_subset(CapabilitySet::full()));
    }
}
