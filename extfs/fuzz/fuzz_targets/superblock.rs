//! Superblock and group descriptor parsing: the input is a whole image.
#![no_main]

use extfs::{Ext4, MountOptions, Superblock};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Superblock::parse(data.get(1024..).unwrap_or(&[]), true);
    if let Ok(fs) = Ext4::open(data.to_vec(), MountOptions::default()) {
        let _ = fs.statfs();
    }
});
