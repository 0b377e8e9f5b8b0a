//! The checksums ext4 uses: CRC32C (Castagnoli) for `metadata_csum` and
//! CRC16 (ANSI, as in `gdt_csum`) for group descriptors.
//!
//! ext4 chains CRC32C without the customary final inversion: the state is
//! passed from one piece of a structure to the next and stored as is. The
//! functions here therefore take and return the raw state.

/// The reflected Castagnoli polynomial.
const CRC32C_POLY: u32 = 0x82F6_3B78;

/// Slice-by-8 tables for CRC32C.
static CRC32C_TABLES: [[u32; 256]; 8] = crc32c_tables();

const fn crc32c_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ CRC32C_POLY
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

/// Continues a raw CRC32C computation from `state` over `data`.
///
/// ext4's checksums start from `!0` (or a seed derived that way) and store
/// the state without inverting it.
pub fn crc32c(state: u32, data: &[u8]) -> u32 {
    let t = &CRC32C_TABLES;
    let mut crc = state;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ crc;
        let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        crc = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xFF) as usize]
            ^ t[2][((hi >> 8) & 0xFF) as usize]
            ^ t[1][((hi >> 16) & 0xFF) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ u32::from(b)) & 0xFF) as usize];
    }
    crc
}

/// The reflected CRC16 (ANSI, polynomial 0x8005) table.
static CRC16_TABLE: [u16; 256] = crc16_table();

const fn crc16_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xA001
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// Continues a CRC16 computation from `state` over `data`, as Linux's
/// `crc16()` does.
pub fn crc16(state: u16, data: &[u8]) -> u16 {
    data.iter().fold(state, |crc, &b| {
        (crc >> 8) ^ CRC16_TABLE[usize::from((crc ^ u16::from(b)) & 0xFF)]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // The CRC-32C check value of "123456789" is 0xE3069283 (RFC 3720).
        assert_eq!(!crc32c(!0, b"123456789"), 0xE306_9283);
    }

    #[test]
    fn crc32c_slices_agree_with_bytewise() {
        let data: alloc::vec::Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let whole = crc32c(!0, &data);
        let split = crc32c(crc32c(!0, &data[..13]), &data[13..]);
        assert_eq!(whole, split);
    }

    #[test]
    fn crc16_matches_the_arc_check_value() {
        // CRC-16/ARC of "123456789" is 0xBB3D.
        assert_eq!(crc16(0, b"123456789"), 0xBB3D);
    }
}
