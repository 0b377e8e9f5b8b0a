//! Inode record parsing, symlinks and xattrs: the input is a whole image.
#![no_main]

use extfs::{Ext4, MountOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut opts = MountOptions::default();
    opts.verify_checksums = false;
    let Ok(fs) = Ext4::open(data.to_vec(), opts) else {
        return;
    };
    for ino in 1..64 {
        let Ok(inode) = fs.inode(ino) else { continue };
        let _ = (inode.file_type(), inode.rdev());
        let _ = fs.read_link(&inode);
        if let Ok(names) = fs.list_xattrs(&inode) {
            for name in names {
                let _ = fs.get_xattr(&inode, &name);
            }
        }
    }
});
