//! Memory mapping of imported regular files: translations to the host
//! descriptor, and invalidation on truncation.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use abi_linux::{Errno, StatxMask};
use hostfs::HostFile;
use nix::fcntl::OFlag;
use vfs_core::SetStatOptions;
use vfs_core::memmap::{AccessType, MappingSpace, MmapOpts};

use crate::common::{Env, open_file, temp_path};

const PAGE: u64 = 4096;

/// An address space that records invalidations.
#[derive(Default)]
struct Recorder(Mutex<Vec<(Range<u64>, bool)>>);

impl MappingSpace for Recorder {
    fn invalidate(&self, app_range: Range<u64>, invalidate_private: bool) {
        self.0.lock().unwrap().push((app_range, invalidate_private));
    }
}

#[test]
fn truncate_invalidates_mappings_past_the_new_end() {
    let env = Env::new();
    let path = temp_path("mmap");
    std::fs::write(&path, vec![b'a'; 4 * PAGE as usize]).unwrap();
    let file = env.import_default(open_file(&path, OFlag::O_RDWR));

    let mut opts = MmapOpts {
        length: 4 * PAGE,
        perms: AccessType::READ_WRITE,
        max_perms: AccessType::ANY,
        ..Default::default()
    };
    file.configure_mmap(&env.ctx, &mut opts).unwrap();
    let mappable = opts.mappable.take().unwrap();
    let recorder = Arc::new(Recorder::default());
    let space: Arc<dyn MappingSpace> = recorder.clone();
    let base = 0x10_0000;
    mappable
        .add_mapping(&space, base..base + 4 * PAGE, 0, true)
        .unwrap();

    // Translations point at the host descriptor at the same offsets.
    let t = mappable
        .translate(0..PAGE, 0..4 * PAGE, AccessType::READ)
        .unwrap();
    let host_fd = file.downcast::<HostFile>().unwrap().host_fd();
    assert_eq!(t[0].file.host_fd(), Some(host_fd));
    assert_eq!((t[0].source.clone(), t[0].offset), (0..4 * PAGE, 0));
    let mut byte = [0u8; 1];
    t[0].file.read_at(2 * PAGE, &mut byte).unwrap();
    assert_eq!(&byte, b"a");

    let mut truncate = SetStatOptions::default();
    truncate.stat.stx_mask = StatxMask::SIZE.bits();
    truncate.stat.stx_size = PAGE + 1;
    file.set_stat(&env.ctx, truncate).unwrap();

    // Pages 2 and 3 are gone: their mapping is invalidated, copies
    // included, and a fault there is SIGBUS (EFAULT), as Linux delivers
    // for a mapping past the end of a truncated file.
    assert_eq!(
        *recorder.0.lock().unwrap(),
        vec![(base + 2 * PAGE..base + 4 * PAGE, true)]
    );
    assert_eq!(
        mappable
            .translate(2 * PAGE..3 * PAGE, 2 * PAGE..3 * PAGE, AccessType::READ)
            .err(),
        Some(Errno::EFAULT)
    );
    // The partial last page still translates.
    assert!(
        mappable
            .translate(PAGE..2 * PAGE, 0..4 * PAGE, AccessType::READ)
            .is_ok()
    );

    mappable.remove_mapping(&space, base..base + 4 * PAGE, 0, true);
    drop(t);
    drop(mappable);
    drop(opts);
    file.release(&env.ctx);
    env.finish();
}

#[test]
fn shared_writable_mapping_of_read_only_file_is_eacces() {
    let env = Env::new();
    let path = temp_path("mmap-ro");
    std::fs::write(&path, vec![0u8; PAGE as usize]).unwrap();
    let host = open_file(&path, OFlag::O_RDONLY);
    // The host refuses the same mapping with EACCES.
    // SAFETY: a fresh shared mapping of a descriptor we own; unmapped at
    // once if the host grants it.
    let expected = unsafe {
        nix::sys::mman::mmap(
            None,
            std::num::NonZeroUsize::new(PAGE as usize).unwrap(),
            nix::sys::mman::ProtFlags::PROT_READ | nix::sys::mman::ProtFlags::PROT_WRITE,
            nix::sys::mman::MapFlags::MAP_SHARED,
            &host,
            0,
        )
    };
    let expected = expected.map(drop).map_err(crate::common::errno);
    let file = env.import_default(host);
    let mut opts = MmapOpts {
        length: PAGE,
        perms: AccessType::READ_WRITE,
        max_perms: AccessType::ANY,
        ..Default::default()
    };
    assert_eq!(file.configure_mmap(&env.ctx, &mut opts), expected);
    assert_eq!(expected, Err(Errno::EACCES));
    file.release(&env.ctx);
    env.finish();
}
