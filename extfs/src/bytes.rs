//! Little-endian field access on byte slices whose length the caller has
//! already checked.
//!
//! # Preconditions
//!
//! Every function requires `offset + width <= bytes.len()`; callers check
//! the length of the whole structure once before reading its fields. An
//! out-of-range offset is a bug in this crate, not in the image, and the
//! functions return zero rather than panic in that case.

/// Reads a little-endian `u16` at `offset`.
pub(crate) fn le16(bytes: &[u8], offset: usize) -> u16 {
    match bytes.get(offset..offset.wrapping_add(2)) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]),
        _ => 0,
    }
}

/// Reads a little-endian `u32` at `offset`.
pub(crate) fn le32(bytes: &[u8], offset: usize) -> u32 {
    match bytes.get(offset..offset.wrapping_add(4)) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Reads the byte at `offset`.
pub(crate) fn byte(bytes: &[u8], offset: usize) -> u8 {
    bytes.get(offset).copied().unwrap_or(0)
}
