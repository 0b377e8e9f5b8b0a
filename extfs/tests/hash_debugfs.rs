//! The htree name hashes agree with e2fsprogs' (`debugfs dx_hash`) for every
//! algorithm, signed and unsigned, with the default and a custom seed.

use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use extfs::hash::{HashVersion, name_hash};

/// Asks debugfs for the hash of `name`; `None` when debugfs is missing.
fn debugfs_hash(alg: &str, seed: &str, name: &[u8]) -> Option<(u32, u32)> {
    let mut request = format!("dx_hash -h {alg} -s {seed} ").into_bytes();
    request.extend_from_slice(name);
    let out = Command::new("debugfs")
        .arg("-R")
        .arg(std::ffi::OsStr::from_bytes(&request))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("Hash of"))?;
    let hex = |tag: &str| {
        let start = line.find(tag)? + tag.len();
        let digits: String = line[start..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        u32::from_str_radix(&digits, 16).ok()
    };
    Some((hex(" is 0x")?, hex("(minor 0x")?))
}

#[test]
fn name_hashes_match_debugfs() {
    let names: [&[u8]; 6] = [
        b"a",
        b"hello",
        b"entry-00001-with-a-longer-name",
        b"a-name-that-is-longer-than-thirty-two-bytes-for-md4-chunks",
        b"hi-\x80\xc1\xff7",
        b"\xe9t\xe9-caf\xe9-na\xefve-\xfc\xfc\xfc\xfc\xfc\xfc\xfc\xfc\xfc\xfc",
    ];
    let seeds = [
        ("00000000-0000-0000-0000-000000000000", [0u32; 4]),
        // A UUID's bytes are the seed words in little-endian order.
        (
            "01020304-0506-0708-090a-0b0c0d0e0f10",
            [0x0403_0201, 0x0807_0605, 0x0c0b_0a09, 0x100f_0e0d],
        ),
    ];
    let algs = [
        // debugfs takes the on-disk hash version numbers; 3 to 5 are the
        // unsigned-char variants.
        ("0", HashVersion::Legacy, true),
        ("1", HashVersion::HalfMd4, true),
        ("2", HashVersion::Tea, true),
        ("3", HashVersion::Legacy, false),
        ("4", HashVersion::HalfMd4, false),
        ("5", HashVersion::Tea, false),
    ];
    if debugfs_hash("2", seeds[0].0, b"probe").is_none() {
        eprintln!("skipping: debugfs dx_hash is not available");
        return;
    }
    for (seed_text, seed) in seeds {
        for (alg, version, signed) in algs {
            for name in names {
                let expected = debugfs_hash(alg, seed_text, name).expect("debugfs hash");
                let ours = name_hash(name, version, seed, signed);
                let shown = String::from_utf8_lossy(name);
                assert_eq!(
                    ours.major,
                    expected.0 & !1,
                    "{alg} {seed_text} {shown}: major"
                );
                if version != HashVersion::Legacy {
                    assert_eq!(ours.minor, expected.1, "{alg} {seed_text} {shown}: minor");
                }
            }
        }
    }
}
