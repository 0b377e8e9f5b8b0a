//! Directory blocks, inline directories and resumable iteration: lists
//! every directory of a whole-image input.
#![no_main]

use extfs::{Ext4, MountOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut opts = MountOptions::default();
    opts.verify_checksums = data.first().is_some_and(|b| b & 1 == 1);
    let Ok(fs) = Ext4::open(data.to_vec(), opts) else {
        return;
    };
    for ino in 1..64 {
        let Ok(dir) = fs.inode(ino) else { continue };
        let Ok(entries) = fs.read_dir(&dir) else {
            continue;
        };
        let mut cookies = Vec::new();
        for entry in entries.take(10_000) {
            let Ok(entry) = entry else { break };
            cookies.push(entry.next_cookie);
        }
        // Resuming at any cookie, or at arbitrary offsets, must work too.
        for cookie in cookies.iter().copied().chain([3, 17, 1 << 40]).take(64) {
            if let Ok(rest) = fs.read_dir_at(&dir, cookie) {
                rest.take(10_000).for_each(drop);
            }
        }
    }
});
