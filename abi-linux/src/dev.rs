//! Device numbers: the 64-bit encoding of `dev_t` (glibc's `makedev`), and
//! the kernel's 32-bit and old 16-bit encodings.

/// Returns the `dev_t` for `major:minor` in the encoding of glibc's
/// `makedev`, which Linux's `stat(2)` and `statx(2)` agree with.
pub const fn make_dev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}

/// Returns the major number of a `dev_t` made by [`make_dev`].
pub const fn dev_major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

/// Returns the minor number of a `dev_t` made by [`make_dev`].
pub const fn dev_minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

/// Returns the kernel's 32-bit encoding of `major:minor` (`new_encode_dev`):
/// a 12-bit major and a 20-bit minor. Larger numbers are truncated.
pub const fn new_encode_dev(major: u32, minor: u32) -> u32 {
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12)
}

/// Decodes the kernel's 32-bit encoding into `(major, minor)`
/// (`new_decode_dev`).
pub const fn new_decode_dev(dev: u32) -> (u32, u32) {
    ((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00))
}

/// Returns the old 16-bit encoding of `major:minor` (`old_encode_dev`): an
/// 8-bit major and an 8-bit minor. Larger numbers are truncated.
pub const fn old_encode_dev(major: u32, minor: u32) -> u16 {
    (((major & 0xff) << 8) | (minor & 0xff)) as u16
}

/// Decodes the old 16-bit encoding into `(major, minor)` (`old_decode_dev`).
pub const fn old_decode_dev(dev: u16) -> (u32, u32) {
    ((dev >> 8) as u32, (dev & 0xff) as u32)
}

#[cfg(test)]
mod tests {
    use super::{
        dev_major, dev_minor, make_dev, new_decode_dev, new_encode_dev, old_decode_dev,
        old_encode_dev,
    };

    #[test]
    fn small_numbers_encode_alike_in_the_64_and_32_bit_forms() {
        // Linux's 32-bit form is the low half of glibc's for 12-bit majors
        // and 20-bit minors.
        for (ma, mi) in [(0, 0), (8, 1), (259, 0xfffff), (0xfff, 0x12345)] {
            assert_eq!(make_dev(ma, mi), u64::from(new_encode_dev(ma, mi)));
            assert_eq!(new_decode_dev(new_encode_dev(ma, mi)), (ma, mi));
        }
    }

    #[test]
    fn large_numbers_round_trip_through_the_64_bit_form() {
        let d = make_dev(0xffff_ffff, 0xffff_ffff);
        assert_eq!((dev_major(d), dev_minor(d)), (0xffff_ffff, 0xffff_ffff));
    }

    #[test]
    fn old_form_keeps_eight_bits_each() {
        assert_eq!(old_encode_dev(4, 64), 0x0440);
        assert_eq!(old_decode_dev(0x0440), (4, 64));
    }
}
