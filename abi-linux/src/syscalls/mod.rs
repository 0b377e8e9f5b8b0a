//! System-call numbers.
//!
//! One module per architecture, each with a constant per system call named
//! after the Linux call in upper case ([`x86_64::NEWFSTATAT`]), a [`TABLE`]
//! sorted by number, [`name`]/[`number`] look-ups and the largest number,
//! `MAX`. The module of the architecture this crate is built for is also
//! available as [`host`].
//!
//! [`TABLE`]: x86_64::TABLE
//! [`name`]: x86_64::name
//! [`number`]: x86_64::number
//!
//! # Examples
//!
//! ```
//! use abi_linux::syscalls::{aarch64, x86_64};
//!
//! assert_eq!(x86_64::name(x86_64::OPENAT2), Some("openat2"));
//! assert_eq!(aarch64::number("newfstatat"), Some(79));
//! assert_eq!(x86_64::number("no_such_call"), None);
//! ```

pub mod aarch64;
pub mod x86_64;

#[cfg(target_arch = "aarch64")]
pub use self::aarch64 as host;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64 as host;

/// Finds the name of `nr` in `table`, which is sorted by number.
fn lookup_name(table: &'static [(u32, &'static str)], nr: u32) -> Option<&'static str> {
    table
        .binary_search_by_key(&nr, |&(n, _)| n)
        .ok()
        .map(|i| table[i].1)
}

/// Finds the number of the call called `name` in `table` by a linear scan
/// (a few hundred entries; this is for tracing and configuration, not for
/// the system-call fast path).
fn lookup_number(table: &[(u32, &str)], name: &str) -> Option<u32> {
    table.iter().find(|&&(_, n)| n == name).map(|&(nr, _)| nr)
}

#[cfg(test)]
mod tests {
    use super::{aarch64, x86_64};

    fn check_table(
        table: &[(u32, &str)],
        max: u32,
        name: fn(u32) -> Option<&'static str>,
        number: fn(&str) -> Option<u32>,
    ) {
        assert!(
            table.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no duplicate numbers"
        );
        assert_eq!(table.last().map(|e| e.0), Some(max));
        for &(nr, n) in table {
            assert_eq!(name(nr), Some(n));
            assert_eq!(number(n), Some(nr), "{n} appears once");
        }
        assert_eq!(name(max + 1), None);
    }

    #[test]
    fn x86_64_table_round_trips() {
        check_table(x86_64::TABLE, x86_64::MAX, x86_64::name, x86_64::number);
    }

    #[test]
    fn aarch64_table_round_trips() {
        check_table(aarch64::TABLE, aarch64::MAX, aarch64::name, aarch64::number);
    }
}
