//! memfs mappings through vfs-core's memmap contracts.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use abi_linux::{Errno, OpenFlags, StatxMask};
use vfs_core::io::SliceDest;
use vfs_core::memmap::{AccessType, MappingSpace, MmapOpts};
use vfs_core::{ReadOptions, SetStatOptions};

use crate::common::Env;

/// An address space that records invalidations.
#[derive(Default)]
struct Space(Mutex<Vec<(Range<u64>, bool)>>);

impl MappingSpace for Space {
    fn invalidate(&self, app_range: Range<u64>, invalidate_private: bool) {
        self.0.lock().unwrap().push((app_range, invalidate_private));
    }
}

fn shared_rw(length: u64) -> MmapOpts {
    MmapOpts {
        length,
        perms: AccessType::READ_WRITE,
        max_perms: AccessType::ANY,
        ..Default::default()
    }
}

#[test]
fn shared_mapping_sees_file_pages_and_truncation_invalidates_it() {
    let env = Env::memfs("");
    env.write_file("/f", &[b'a'; 8192]);
    let fd = env.open(&env.ctx, "/f", OpenFlags::RDWR, 0).unwrap();
    let mut opts = shared_rw(8192);
    fd.configure_mmap(&env.ctx, &mut opts).unwrap();
    let mappable = opts.mappable.clone().unwrap();
    assert_eq!(opts.mapping_identity.as_ref().unwrap().mapped_name(), "f");
    let space = Arc::new(Space::default());
    let space_dyn: Arc<dyn MappingSpace> = space.clone();
    mappable
        .add_mapping(&space_dyn, 0x10000..0x12000, 0, true)
        .unwrap();

    let translations = mappable
        .translate(0..4096, 0..8192, AccessType::READ_WRITE)
        .unwrap();
    assert_eq!(
        translations
            .iter()
            .map(|t| t.source.end - t.source.start)
            .sum::<u64>(),
        8192
    );
    let first = &translations[0];
    first.file.write_at(first.offset, b"MMAP").unwrap();
    let mut buf = [0u8; 5];
    fd.pread(
        &env.ctx,
        &mut SliceDest::new(&mut buf),
        0,
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        &buf, b"MMAPa",
        "a store through the mapping is a store to the file"
    );

    let mut truncate = SetStatOptions::default();
    truncate.stat.stx_mask = StatxMask::SIZE.bits();
    truncate.stat.stx_size = 100;
    fd.set_stat(&env.ctx, truncate).unwrap();
    assert_eq!(*space.0.lock().unwrap(), [(0x11000..0x12000, true)]);
    assert_eq!(
        mappable
            .translate(4096..8192, 4096..8192, AccessType::READ)
            .err(),
        Some(Errno::EFAULT),
        "past the end of file is SIGBUS"
    );
    mappable.remove_mapping(&space_dyn, 0x10000..0x12000, 0, true);
    drop((translations, mappable, opts));
    fd.release(&env.ctx);
    env.finish();
}

#[test]
fn shared_writable_mapping_needs_a_writable_description() {
    let env = Env::memfs("");
    env.write_file("/f", b"x");
    let fd = env.open(&env.ctx, "/f", OpenFlags::empty(), 0).unwrap();
    let mut opts = shared_rw(4096);
    assert_eq!(fd.configure_mmap(&env.ctx, &mut opts), Err(Errno::EACCES));
    let mut private = MmapOpts {
        private: true,
        ..shared_rw(4096)
    };
    assert_eq!(fd.configure_mmap(&env.ctx, &mut private), Ok(()));
    drop(private);
    fd.release(&env.ctx);
    let dir = env.open(&env.ctx, "/", OpenFlags::DIRECTORY, 0).unwrap();
    assert_eq!(
        dir.configure_mmap(&env.ctx, &mut shared_rw(4096)),
        Err(Errno::ENODEV)
    );
    dir.release(&env.ctx);
    env.finish();
}
