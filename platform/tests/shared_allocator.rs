//! The platform's `MemoryFile` as the page store of a vfs-core filesystem:
//! memfs keeps a file's pages in it, and the bytes written through the VFS
//! are the bytes in the memfd the platform maps into address spaces.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use abi_linux::OpenFlags;
use kernfs::memfs::{MemfsMemory, MemfsType};
use platform::MemoryFile;
use vfs_core::io::SliceSource;
use vfs_core::memmap::AllocKind;
use vfs_core::{
    GetFilesystemOptions, MountOptions, OpenOptions, PathOperation, SimpleContext,
    VirtualFilesystem, WriteOptions,
};

#[test]
fn memfs_pages_live_in_the_platform_memory_file() {
    let scope = refs::LeakCheckScope::new();
    let memory = Arc::new(MemoryFile::new().expect("memfd"));
    let vfs = VirtualFilesystem::new();
    let ctx = SimpleContext::root();
    vfs.register_filesystem_type(Arc::new(MemfsType)).unwrap();
    let opts = MountOptions {
        get_filesystem: GetFilesystemOptions {
            internal_data: Some(Arc::new(MemfsMemory(memory.clone()))),
            ..GetFilesystemOptions::default()
        },
        ..MountOptions::default()
    };
    let ns = vfs.new_mount_namespace(&ctx, b"", "tmpfs", &opts).unwrap();
    let root = ns.root();
    let pop = PathOperation::new(&root, &root, b"/file");
    let file = vfs
        .open_at(
            &ctx,
            &pop,
            OpenOptions {
                flags: OpenFlags::CREAT | OpenFlags::RDWR,
                mode: 0o644,
                ..OpenOptions::default()
            },
        )
        .unwrap();
    let marker = b"bytes that must land in the platform's memfd";
    file.write(&ctx, &mut SliceSource::new(marker), WriteOptions::default())
        .unwrap();
    assert!(vfs_core::memmap::MemoryFile::usage(&*memory, AllocKind::Tmpfs) >= 4096);

    // The memfd itself holds the bytes: read it through a second open of
    // the same memfd.
    let path = format!("/proc/self/fd/{}", memory.fd().as_raw_fd());
    let mut contents = Vec::new();
    std::fs::File::open(&path)
        .expect("the memfd can be reopened")
        .take(1 << 20)
        .read_to_end(&mut contents)
        .unwrap();
    assert!(contents.windows(marker.len()).any(|w| w == marker));

    file.release(&ctx);
    root.release(&ctx);
    vfs.release_mount_namespace(&ns);
    drop(ns);
    drop(vfs);
    scope.assert_clean();
    assert_eq!(
        vfs_core::memmap::MemoryFile::total_usage(&*memory),
        0,
        "the file's pages are freed with it"
    );
}
