//! Hash-indexed lookup: looks names up in every directory of a whole-image
//! input, and resolves paths through them.
#![no_main]

use extfs::{Ext4, MountOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut opts = MountOptions::default();
    opts.verify_checksums = false;
    let Ok(fs) = Ext4::open(data.to_vec(), opts) else {
        return;
    };
    let names: [&[u8]; 5] = [b".", b"..", b"lost+found", b"entry-00042", b"\xff\xfe"];
    for ino in 1..64 {
        let Ok(dir) = fs.inode(ino) else { continue };
        for name in names {
            let _ = fs.lookup_in(&dir, name);
        }
    }
    let _ = fs.resolve(b"/d/entry-00042");
    let _ = fs.lookup(b"/a/b/../c/./d/");
});
