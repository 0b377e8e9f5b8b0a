//! Directory-index (htree) name hashes: legacy, half-MD4 and TEA, each in
//! a signed-char and an unsigned-char variant.
//!
//! Which variant an image uses depends on the htree root's hash version and
//! on the superblock's signed/unsigned hash flags.

/// The hash algorithms of htree directories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashVersion {
    /// The original "dx_hack_hash".
    Legacy,
    /// Half of MD4's rounds over 32-byte chunks.
    HalfMd4,
    /// The Tiny Encryption Algorithm over 16-byte chunks.
    Tea,
}

/// A name's hash pair: the major hash orders the index, the minor hash
/// breaks ties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameHash {
    /// The major hash, with its low bit clear.
    pub major: u32,
    /// The minor hash.
    pub minor: u32,
}

const DEFAULT_SEED: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Widens a name byte as C's `char` would: sign-extended or not.
fn widen(b: u8, signed: bool) -> u32 {
    if signed {
        // Reinterpret as a signed char, then sign-extend to 32 bits.
        i32::from(i8::from_ne_bytes([b])).cast_unsigned()
    } else {
        u32::from(b)
    }
}

fn legacy(name: &[u8], signed: bool) -> u32 {
    let (mut h0, mut h1) = (0x12a3_fe2d_u32, 0x37ab_e8f9_u32);
    for &b in name {
        let mut h = h1.wrapping_add(h0 ^ widen(b, signed).wrapping_mul(7_152_373));
        if h & 0x8000_0000 != 0 {
            h = h.wrapping_sub(0x7fff_ffff);
        }
        h1 = h0;
        h0 = h;
    }
    h0 << 1
}

/// Packs up to `out.len() * 4` bytes of `msg` into words the way ext4 does,
/// padding with a pattern derived from the message length.
fn pack(msg: &[u8], out: &mut [u32], signed: bool) {
    // The length is the remaining length of the whole name, truncated to
    // 32 bits as the C code's int is.
    let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
    let mut pad = len | (len << 8);
    pad |= pad << 16;
    let take = msg.len().min(out.len() * 4);
    let mut val = pad;
    let mut idx = 0;
    for (i, &b) in msg[..take].iter().enumerate() {
        val = widen(b, signed).wrapping_add(val << 8);
        if i % 4 == 3 {
            out[idx] = val;
            idx += 1;
            val = pad;
        }
    }
    if idx < out.len() {
        out[idx] = val;
        idx += 1;
    }
    for w in &mut out[idx..] {
        *w = pad;
    }
}

fn half_md4(buf: &mut [u32; 4], input: &[u32; 8]) {
    const K2: u32 = 0x5A82_7999;
    const K3: u32 = 0x6ED9_EBA1;
    let f = |x: u32, y: u32, z: u32| z ^ (x & (y ^ z));
    let g = |x: u32, y: u32, z: u32| (x & y).wrapping_add((x ^ y) & z);
    let h = |x: u32, y: u32, z: u32| x ^ y ^ z;
    let [mut a, mut b, mut c, mut d] = *buf;
    macro_rules! round {
        ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $x:expr, $s:expr) => {
            $a = $a
                .wrapping_add($f($b, $c, $d))
                .wrapping_add($x)
                .rotate_left($s);
        };
    }
    let i = input;
    round!(f, a, b, c, d, i[0], 3);
    round!(f, d, a, b, c, i[1], 7);
    round!(f, c, d, a, b, i[2], 11);
    round!(f, b, c, d, a, i[3], 19);
    round!(f, a, b, c, d, i[4], 3);
    round!(f, d, a, b, c, i[5], 7);
    round!(f, c, d, a, b, i[6], 11);
    round!(f, b, c, d, a, i[7], 19);
    round!(g, a, b, c, d, i[1].wrapping_add(K2), 3);
    round!(g, d, a, b, c, i[3].wrapping_add(K2), 5);
    round!(g, c, d, a, b, i[5].wrapping_add(K2), 9);
    round!(g, b, c, d, a, i[7].wrapping_add(K2), 13);
    round!(g, a, b, c, d, i[0].wrapping_add(K2), 3);
    round!(g, d, a, b, c, i[2].wrapping_add(K2), 5);
    round!(g, c, d, a, b, i[4].wrapping_add(K2), 9);
    round!(g, b, c, d, a, i[6].wrapping_add(K2), 13);
    round!(h, a, b, c, d, i[3].wrapping_add(K3), 3);
    round!(h, d, a, b, c, i[7].wrapping_add(K3), 9);
    round!(h, c, d, a, b, i[2].wrapping_add(K3), 11);
    round!(h, b, c, d, a, i[6].wrapping_add(K3), 15);
    round!(h, a, b, c, d, i[1].wrapping_add(K3), 3);
    round!(h, d, a, b, c, i[5].wrapping_add(K3), 9);
    round!(h, c, d, a, b, i[0].wrapping_add(K3), 11);
    round!(h, b, c, d, a, i[4].wrapping_add(K3), 15);
    buf[0] = buf[0].wrapping_add(a);
    buf[1] = buf[1].wrapping_add(b);
    buf[2] = buf[2].wrapping_add(c);
    buf[3] = buf[3].wrapping_add(d);
}

fn tea(buf: &mut [u32; 4], input: &[u32; 4]) {
    const DELTA: u32 = 0x9E37_79B9;
    let (mut b0, mut b1) = (buf[0], buf[1]);
    let [a, b, c, d] = *input;
    let mut sum = 0u32;
    for _ in 0..16 {
        sum = sum.wrapping_add(DELTA);
        b0 = b0.wrapping_add(
            ((b1 << 4).wrapping_add(a)) ^ b1.wrapping_add(sum) ^ ((b1 >> 5).wrapping_add(b)),
        );
        b1 = b1.wrapping_add(
            ((b0 << 4).wrapping_add(c)) ^ b0.wrapping_add(sum) ^ ((b0 >> 5).wrapping_add(d)),
        );
    }
    buf[0] = buf[0].wrapping_add(b0);
    buf[1] = buf[1].wrapping_add(b1);
}

/// Hashes a directory entry name as ext4's htree does.
///
/// `seed` is the superblock's hash seed (all zero means the default seed);
/// `signed` selects the signed-char variant.
pub fn name_hash(name: &[u8], version: HashVersion, seed: [u32; 4], signed: bool) -> NameHash {
    let mut buf = if seed.iter().any(|&w| w != 0) {
        seed
    } else {
        DEFAULT_SEED
    };
    let (major, minor) = match version {
        HashVersion::Legacy => (legacy(name, signed), 0),
        HashVersion::HalfMd4 => {
            let mut input = [0u32; 8];
            for chunk_start in (0..name.len()).step_by(32) {
                pack(&name[chunk_start..], &mut input, signed);
                half_md4(&mut buf, &input);
            }
            (buf[1], buf[2])
        }
        HashVersion::Tea => {
            let mut input = [0u32; 4];
            for chunk_start in (0..name.len()).step_by(16) {
                pack(&name[chunk_start..], &mut input, signed);
                tea(&mut buf, &input);
            }
            (buf[0], buf[1])
        }
    };
    let mut major = major & !1;
    // The end-of-directory marker for 32-bit cookies is reserved.
    if major == 0x7fff_ffff << 1 {
        major = (0x7fff_ffff - 1) << 1;
    }
    NameHash { major, minor }
}
