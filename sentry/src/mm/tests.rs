//! Memory-manager behaviour on a real platform address space.

use std::sync::Arc;

use abi_linux::Errno;
use platform::{Access, MemoryFile, Platform, PtracePlatform};

use super::MemoryManager;
use crate::elf::PAGE_SIZE;

fn manager() -> Option<MemoryManager> {
    let mf = Arc::new(MemoryFile::new().ok()?);
    let Ok(p) = PtracePlatform::new(mf.clone()) else {
        eprintln!("skipped: the host refuses ptrace");
        return None;
    };
    let space = p.new_address_space().ok()?;
    Some(MemoryManager::new(
        mf,
        space,
        p.min_user_address(),
        p.max_user_address(),
    ))
}

#[test]
fn copies_round_trip_across_pages() {
    let Some(mm) = manager() else { return };
    let addr = mm
        .map_anonymous(0, 3 * PAGE_SIZE, Access::READ_WRITE, false, false, None)
        .unwrap();
    let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    mm.copy_out_exact(addr + 4000, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    mm.copy_in_exact(addr + 4000, &mut back).unwrap();
    assert_eq!(back, data);
}

#[test]
fn unmapped_memory_is_efault_and_a_copy_stops_short_at_it() {
    let Some(mm) = manager() else { return };
    let addr = mm
        .map_anonymous(0, 2 * PAGE_SIZE, Access::READ_WRITE, false, false, None)
        .unwrap();
    mm.unmap(addr + PAGE_SIZE, PAGE_SIZE).unwrap();
    assert_eq!(mm.copy_out(addr + PAGE_SIZE, &[1]), Err(Errno::EFAULT));
    assert_eq!(mm.copy_out(addr + PAGE_SIZE - 10, &[1; 20]), Ok(10));
}

#[test]
fn read_only_memory_refuses_writes_but_not_reads() {
    let Some(mm) = manager() else { return };
    let addr = mm
        .map_anonymous(0, PAGE_SIZE, Access::READ_WRITE, false, false, None)
        .unwrap();
    mm.copy_out_exact(addr, b"kept").unwrap();
    mm.protect(addr, PAGE_SIZE, Access::READ).unwrap();
    assert_eq!(mm.copy_out(addr, b"x"), Err(Errno::EFAULT));
    let mut buf = [0u8; 4];
    mm.copy_in_exact(addr, &mut buf).unwrap();
    assert_eq!(&buf, b"kept");
    assert_eq!(mm.handle_fault(addr, Access::WRITE), Err(Errno::EFAULT));
}

#[test]
fn mprotect_of_a_hole_is_enomem() {
    let Some(mm) = manager() else { return };
    let addr = mm
        .map_anonymous(0, 3 * PAGE_SIZE, Access::READ_WRITE, false, false, None)
        .unwrap();
    mm.unmap(addr + PAGE_SIZE, PAGE_SIZE).unwrap();
    assert_eq!(
        mm.protect(addr, 3 * PAGE_SIZE, Access::READ),
        Err(Errno::ENOMEM)
    );
}

#[test]
fn mremap_move_keeps_contents() {
    let Some(mm) = manager() else { return };
    let addr = mm
        .map_anonymous(
            0x1000_0000,
            PAGE_SIZE,
            Access::READ_WRITE,
            false,
            true,
            None,
        )
        .unwrap();
    // Block growth in place.
    mm.map_anonymous(addr + PAGE_SIZE, PAGE_SIZE, Access::READ, false, true, None)
        .unwrap();
    mm.copy_out_exact(addr + 100, b"moving").unwrap();
    assert_eq!(
        mm.remap(addr, PAGE_SIZE, 4 * PAGE_SIZE, false),
        Err(Errno::ENOMEM)
    );
    let to = mm.remap(addr, PAGE_SIZE, 4 * PAGE_SIZE, true).unwrap();
    assert_ne!(to, addr);
    let mut buf = [0u8; 6];
    mm.copy_in_exact(to + 100, &mut buf).unwrap();
    assert_eq!(&buf, b"moving");
    assert_eq!(mm.copy_in(addr + 100, &mut buf), Err(Errno::EFAULT));
}

#[test]
fn madvise_dontneed_zeroes_private_pages() {
    let Some(mm) = manager() else { return };
    let addr = mm
        .map_anonymous(0, PAGE_SIZE, Access::READ_WRITE, false, false, None)
        .unwrap();
    mm.copy_out_exact(addr, b"gone").unwrap();
    mm.discard(addr, PAGE_SIZE).unwrap();
    let mut buf = [1u8; 4];
    mm.copy_in_exact(addr, &mut buf).unwrap();
    assert_eq!(buf, [0; 4]);
}

#[test]
fn brk_grows_and_shrinks_the_heap() {
    let Some(mm) = manager() else { return };
    let start = 0x60_0000;
    mm.set_brk_start(start);
    assert_eq!(mm.brk(0), start);
    assert_eq!(mm.brk(start + 10_000), start + 10_000);
    mm.copy_out_exact(start + 9_000, b"heap").unwrap();
    assert_eq!(mm.brk(start + 10), start + 10);
    assert_eq!(mm.copy_out(start + 9_000, b"x"), Err(Errno::EFAULT));
    // Below the start the break does not move.
    assert_eq!(mm.brk(start - PAGE_SIZE), start + 10);
}

#[test]
fn shared_anonymous_pages_survive_discard() {
    let Some(mm) = manager() else { return };
    let addr = mm
        .map_anonymous(0, PAGE_SIZE, Access::READ_WRITE, true, false, None)
        .unwrap();
    mm.copy_out_exact(addr, b"shared").unwrap();
    mm.discard(addr, PAGE_SIZE).unwrap();
    let mut buf = [0u8; 6];
    mm.copy_in_exact(addr, &mut buf).unwrap();
    assert_eq!(&buf, b"shared");
}

/// A file of `PAGES` pages kept in the platform's memory file (or, with
/// `foreign`, in a heap memory file the platform cannot map), mapped
/// through vfs-core's `MappingSet` as memfs does.
mod file {
    use std::ops::Range;
    use std::sync::{Arc, Mutex};

    use abi_linux::Errno;
    use vfs_core::memmap::{
        AccessType, AllocKind, File, HeapMemoryFile, Mappable, MappableRange, MappingIdentity,
        MappingSet, MappingSpace, MemoryFile, Translation,
    };

    use crate::elf::PAGE_SIZE;

    pub struct TestFile {
        pub memory: Arc<dyn MemoryFile>,
        pub pages: Range<u64>,
        pub size: Mutex<u64>,
        pub mappings: Mutex<MappingSet>,
    }

    impl TestFile {
        pub fn new(memory: Arc<dyn MemoryFile>, pages: u64) -> Arc<Self> {
            let range = memory
                .allocate(pages * PAGE_SIZE, AllocKind::Tmpfs)
                .unwrap();
            Arc::new(Self {
                memory,
                pages: range,
                size: Mutex::new(pages * PAGE_SIZE),
                mappings: Mutex::new(MappingSet::new()),
            })
        }

        pub fn heap(pages: u64) -> Arc<Self> {
            Self::new(Arc::new(HeapMemoryFile::new(1 << 30)), pages)
        }

        pub fn write(&self, offset: u64, data: &[u8]) {
            self.memory
                .write_at(self.pages.start + offset, data)
                .unwrap();
        }

        pub fn read(&self, offset: u64, len: usize) -> Vec<u8> {
            let mut buf = vec![0; len];
            self.memory
                .read_at(self.pages.start + offset, &mut buf)
                .unwrap();
            buf
        }

        /// Shrinks the file as truncation does: mappings past the end are
        /// invalidated, private copies included.
        pub fn truncate(&self, size: u64) {
            *self.size.lock().unwrap() = size;
            let end = size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
            self.mappings
                .lock()
                .unwrap()
                .invalidate(end..u64::MAX / 2, true);
        }
    }

    impl Mappable for TestFile {
        fn add_mapping(
            &self,
            space: &Arc<dyn MappingSpace>,
            app_range: Range<u64>,
            offset: u64,
            writable: bool,
        ) -> Result<(), Errno> {
            self.mappings
                .lock()
                .unwrap()
                .add_mapping(space, app_range, offset, writable)
                .map(drop)
        }

        fn remove_mapping(
            &self,
            space: &Arc<dyn MappingSpace>,
            app_range: Range<u64>,
            offset: u64,
            writable: bool,
        ) {
            self.mappings
                .lock()
                .unwrap()
                .remove_mapping(space, app_range, offset, writable)
                .unwrap();
        }

        fn translate(
            &self,
            required: MappableRange,
            optional: MappableRange,
            _: AccessType,
        ) -> Result<Vec<Translation>, Errno> {
            let end = self.size.lock().unwrap().div_ceil(PAGE_SIZE) * PAGE_SIZE;
            if required.start >= end {
                return Err(Errno::EFAULT);
            }
            let source = optional.start..optional.end.min(end);
            Ok(vec![Translation {
                offset: self.pages.start + source.start,
                source,
                file: self.memory.clone() as Arc<dyn File>,
                perms: AccessType::ANY,
            }])
        }

        fn invalidate_unsavable(&self) -> Result<(), Errno> {
            Ok(())
        }
    }

    pub struct Identity;

    impl MappingIdentity for Identity {
        fn mapped_name(&self) -> String {
            "test".into()
        }
        fn device_id(&self) -> u64 {
            0
        }
        fn inode_id(&self) -> u64 {
            1
        }
        fn msync(&self, _: MappableRange) -> Result<(), Errno> {
            Ok(())
        }
    }
}

use file::{Identity, TestFile};

fn platform_file(mm: &MemoryManager, pages: u64) -> Arc<TestFile> {
    TestFile::new(mm.mf.clone(), pages)
}

fn mapping(f: &Arc<TestFile>, offset: u64, private: bool) -> super::FileMapping {
    super::FileMapping {
        mappable: f.clone(),
        identity: Arc::new(Identity),
        offset,
        private,
        max_perms: Access::READ_WRITE,
    }
}

fn read(mm: &MemoryManager, addr: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    mm.copy_in_exact(addr, &mut buf).unwrap();
    buf
}

#[test]
fn private_file_mapping_reads_the_file_and_copies_on_write() {
    let Some(mm) = manager() else { return };
    let f = platform_file(&mm, 2);
    f.write(PAGE_SIZE, b"second page");
    let addr = mm
        .map_file(
            0,
            2 * PAGE_SIZE,
            Access::READ_WRITE,
            false,
            mapping(&f, 0, true),
            None,
        )
        .unwrap();
    assert_eq!(read(&mm, addr + PAGE_SIZE, 11), b"second page");
    // A write goes to a private copy; the file is unchanged.
    mm.copy_out_exact(addr + PAGE_SIZE, b"private").unwrap();
    assert_eq!(read(&mm, addr + PAGE_SIZE, 11), b"privatepage");
    assert_eq!(f.read(PAGE_SIZE, 11), b"second page");
    // A later change of the file shows through pages not yet copied only.
    f.write(0, b"changed");
    f.write(PAGE_SIZE, b"CHANGED");
    assert_eq!(read(&mm, addr, 7), b"changed");
    assert_eq!(read(&mm, addr + PAGE_SIZE, 7), b"private");
}

#[test]
fn shared_file_mapping_writes_reach_the_file_at_its_offset() {
    let Some(mm) = manager() else { return };
    let f = platform_file(&mm, 3);
    let addr = mm
        .map_file(
            0,
            PAGE_SIZE,
            Access::READ_WRITE,
            false,
            mapping(&f, 2 * PAGE_SIZE, false),
            None,
        )
        .unwrap();
    mm.copy_out_exact(addr + 5, b"shared").unwrap();
    assert_eq!(f.read(2 * PAGE_SIZE + 5, 6), b"shared");
    f.write(2 * PAGE_SIZE, b"file");
    assert_eq!(read(&mm, addr, 4), b"file");
    mm.sync(addr, PAGE_SIZE, true).unwrap();
}

#[test]
fn pages_of_foreign_memory_are_copied_in() {
    let Some(mm) = manager() else { return };
    let f = TestFile::heap(1);
    f.write(10, b"heap");
    let addr = mm
        .map_file(
            0,
            PAGE_SIZE,
            Access::READ,
            false,
            mapping(&f, 0, true),
            None,
        )
        .unwrap();
    assert_eq!(read(&mm, addr + 10, 4), b"heap");
    assert_eq!(mm.handle_fault(addr, Access::WRITE), Err(Errno::EFAULT));
}

#[test]
fn truncation_invalidates_and_a_fault_past_the_end_fails() {
    let Some(mm) = manager() else { return };
    let f = platform_file(&mm, 2);
    let addr = mm
        .map_file(
            0,
            2 * PAGE_SIZE,
            Access::READ_WRITE,
            false,
            mapping(&f, 0, true),
            None,
        )
        .unwrap();
    mm.copy_out_exact(addr + PAGE_SIZE, b"copy").unwrap();
    f.truncate(PAGE_SIZE);
    assert_eq!(
        mm.copy_in(addr + PAGE_SIZE, &mut [0; 4]),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        mm.handle_fault(addr + PAGE_SIZE, Access::READ),
        Err(Errno::EFAULT)
    );
    assert_eq!(mm.handle_fault(addr, Access::READ), Ok(()));
}

#[test]
fn munmap_mremap_and_drop_keep_the_mappables_record_exact() {
    let Some(mm) = manager() else { return };
    let f = platform_file(&mm, 4);
    f.write(3 * PAGE_SIZE, b"last");
    let addr = mm
        .map_file(
            0x1000_0000,
            4 * PAGE_SIZE,
            Access::READ,
            true,
            mapping(&f, 0, false),
            None,
        )
        .unwrap();
    mm.unmap(addr, PAGE_SIZE).unwrap();
    assert!(!f.mappings.lock().unwrap().is_mapped(0..PAGE_SIZE));
    assert!(
        f.mappings
            .lock()
            .unwrap()
            .is_mapped(PAGE_SIZE..4 * PAGE_SIZE)
    );
    // Block growth in place so the mapping moves.
    mm.map_anonymous(
        addr + 4 * PAGE_SIZE,
        PAGE_SIZE,
        Access::READ,
        false,
        true,
        None,
    )
    .unwrap();
    let to = mm
        .remap(addr + PAGE_SIZE, 3 * PAGE_SIZE, 3 * PAGE_SIZE, true)
        .unwrap();
    assert_eq!(to, addr + PAGE_SIZE);
    let moved = mm
        .remap(addr + PAGE_SIZE, 3 * PAGE_SIZE, 4 * PAGE_SIZE, true)
        .unwrap();
    assert_ne!(moved, addr + PAGE_SIZE);
    assert_eq!(read(&mm, moved + 2 * PAGE_SIZE, 4), b"last");
    assert_eq!(
        mm.protect(moved, PAGE_SIZE, Access::ALL),
        Err(Errno::EACCES)
    );
    let mf = mm.mf.clone();
    drop(mm);
    assert!(!f.mappings.lock().unwrap().is_mapped(0..u64::MAX / 2));
    // Only the file's own pages remain allocated.
    assert_eq!(mf.usage().allocated, 4 * PAGE_SIZE);
}

#[test]
fn shared_mapping_of_a_read_only_file_cannot_become_writable() {
    let Some(mm) = manager() else { return };
    let f = platform_file(&mm, 1);
    let mut m = mapping(&f, 0, false);
    m.max_perms = Access::READ;
    assert_eq!(
        mm.map_file(0, PAGE_SIZE, Access::READ_WRITE, false, m.clone(), None),
        Err(Errno::EACCES)
    );
    let addr = mm
        .map_file(0, PAGE_SIZE, Access::READ, false, m, None)
        .unwrap();
    assert_eq!(
        mm.protect(addr, PAGE_SIZE, Access::READ_WRITE),
        Err(Errno::EACCES)
    );
}

/// A memory manager and its platform (for more address spaces).
fn manager_and_platform() -> Option<(MemoryManager, PtracePlatform, Arc<MemoryFile>)> {
    let mf = Arc::new(MemoryFile::new().ok()?);
    let Ok(p) = PtracePlatform::new(mf.clone()) else {
        eprintln!("skipped: the host refuses ptrace");
        return None;
    };
    let space = p.new_address_space().ok()?;
    let mm = MemoryManager::new(
        mf.clone(),
        space,
        p.min_user_address(),
        p.max_user_address(),
    );
    Some((mm, p, mf))
}

#[test]
fn fork_shares_private_pages_copy_on_write() {
    let Some((parent, p, mf)) = manager_and_platform() else {
        return;
    };
    let addr = parent
        .map_anonymous(0, 2 * PAGE_SIZE, Access::READ_WRITE, false, false, None)
        .unwrap();
    parent.copy_out_exact(addr, b"before").unwrap();
    let pages_before = mf.usage().allocated;
    let child = parent.fork(p.new_address_space().unwrap()).unwrap();
    // Nothing is copied by the fork itself.
    assert_eq!(mf.usage().allocated, pages_before);
    assert_eq!(read(&child, addr, 6), b"before");
    parent.copy_out_exact(addr, b"parent").unwrap();
    child.copy_out_exact(addr + 1, b"CHILD").unwrap();
    assert_eq!(read(&parent, addr, 6), b"parent");
    assert_eq!(read(&child, addr, 6), b"bCHILD");
    drop(parent);
    assert_eq!(read(&child, addr, 6), b"bCHILD");
    drop(child);
    assert_eq!(mf.usage().allocated, 0);
}

#[test]
fn fork_keeps_shared_anonymous_memory_shared() {
    let Some((parent, p, mf)) = manager_and_platform() else {
        return;
    };
    let addr = parent
        .map_anonymous(0, PAGE_SIZE, Access::READ_WRITE, true, false, None)
        .unwrap();
    parent.copy_out_exact(addr, b"one").unwrap();
    let child = parent.fork(p.new_address_space().unwrap()).unwrap();
    child.copy_out_exact(addr, b"two").unwrap();
    assert_eq!(read(&parent, addr, 3), b"two");
    drop(child);
    drop(parent);
    assert_eq!(mf.usage().allocated, 0);
}

#[test]
fn fork_shares_private_file_pages_until_written() {
    let Some((parent, p, _mf)) = manager_and_platform() else {
        return;
    };
    let f = platform_file(&parent, 1);
    f.write(0, b"filedata");
    let addr = parent
        .map_file(
            0,
            PAGE_SIZE,
            Access::READ_WRITE,
            false,
            mapping(&f, 0, true),
            None,
        )
        .unwrap();
    assert_eq!(read(&parent, addr, 8), b"filedata");
    let child = parent.fork(p.new_address_space().unwrap()).unwrap();
    child.copy_out_exact(addr, b"childwr!").unwrap();
    assert_eq!(read(&parent, addr, 8), b"filedata");
    assert_eq!(read(&child, addr, 8), b"childwr!");
    assert_eq!(f.read(0, 8), b"filedata");
    drop(child);
    drop(parent);
}
