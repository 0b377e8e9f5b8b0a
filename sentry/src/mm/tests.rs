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
