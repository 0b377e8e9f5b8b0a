//! Extent trees and block maps: reads every regular file of a whole-image
//! input, bounded per file.
#![no_main]

use extfs::{Ext4, FileType, MountOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut opts = MountOptions::default();
    opts.verify_checksums = false;
    let Ok(fs) = Ext4::open(data.to_vec(), opts) else {
        return;
    };
    let mut buf = vec![0u8; 8192];
    for ino in 1..64 {
        let Ok(inode) = fs.inode(ino) else { continue };
        if inode.file_type() != Some(FileType::Regular) {
            continue;
        }
        let mut offset = 0u64;
        while offset < 1 << 20 {
            match fs.read_at(&inode, offset, &mut buf) {
                Ok(n) if n > 0 => offset += n as u64,
                _ => break,
            }
        }
        // Far offsets exercise deep indirection and large holes.
        let _ = fs.read_at(&inode, 1 << 40, &mut buf);
    }
});
