//! Memory-mapping flags: [`MmapProt`], [`MmapFlags`], [`MremapFlags`] and
//! the [`MadviseAdvice`] values.

use bitflags::bitflags;

bitflags! {
    /// The `PROT_*` protection bits of `mmap(2)` and `mprotect(2)`.
    /// `PROT_NONE` is the empty set.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MmapProt: u32 {
        /// `PROT_READ`: pages may be read.
        const READ = 0x1;
        /// `PROT_WRITE`: pages may be written.
        const WRITE = 0x2;
        /// `PROT_EXEC`: pages may be executed.
        const EXEC = 0x4;
        /// `PROT_SEM`: pages may be used for atomic operations.
        const SEM = 0x8;
        /// `PROT_GROWSDOWN`: `mprotect(2)` extends to the start of a
        /// grows-down mapping.
        const GROWSDOWN = 0x0100_0000;
        /// `PROT_GROWSUP`: `mprotect(2)` extends to the end of a grows-up
        /// mapping.
        const GROWSUP = 0x0200_0000;
    }
}

bitflags! {
    /// The `MAP_*` flags of `mmap(2)` (x86_64 values).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MmapFlags: u32 {
        /// `MAP_SHARED`: share the mapping.
        const SHARED = 0x01;
        /// `MAP_PRIVATE`: copy-on-write mapping.
        const PRIVATE = 0x02;
        /// `MAP_SHARED_VALIDATE`: shared, failing on unknown flags.
        const SHARED_VALIDATE = 0x03;
        /// `MAP_TYPE`: the mask of the mapping type.
        const TYPE = 0x0f;
        /// `MAP_FIXED`: place the mapping exactly at the address.
        const FIXED = 0x10;
        /// `MAP_ANONYMOUS`: not backed by a file.
        const ANONYMOUS = 0x20;
        /// `MAP_32BIT`: place the mapping in the first 2 GiB.
        const MAP_32BIT = 0x40;
        /// `MAP_GROWSDOWN`: a stack that grows down.
        const GROWSDOWN = 0x0100;
        /// `MAP_DENYWRITE`: ignored.
        const DENYWRITE = 0x0800;
        /// `MAP_EXECUTABLE`: ignored.
        const EXECUTABLE = 0x1000;
        /// `MAP_LOCKED`: lock the pages.
        const LOCKED = 0x2000;
        /// `MAP_NORESERVE`: do not reserve swap.
        const NORESERVE = 0x4000;
        /// `MAP_POPULATE`: prefault the pages.
        const POPULATE = 0x8000;
        /// `MAP_NONBLOCK`: with `MAP_POPULATE`, do not block.
        const NONBLOCK = 0x0001_0000;
        /// `MAP_STACK`: the mapping is a stack.
        const STACK = 0x0002_0000;
        /// `MAP_HUGETLB`: use huge pages.
        const HUGETLB = 0x0004_0000;
        /// `MAP_SYNC`: synchronous page faults for DAX files.
        const SYNC = 0x0008_0000;
        /// `MAP_FIXED_NOREPLACE`: like `MAP_FIXED` but fail with `EEXIST`
        /// over an existing mapping.
        const FIXED_NOREPLACE = 0x0010_0000;
        /// `MAP_UNINITIALIZED`: do not clear anonymous pages (only honoured
        /// by some embedded kernels).
        const UNINITIALIZED = 0x0400_0000;
    }
}

/// `MAP_HUGE_SHIFT`: where the huge-page size (log2) sits in the flags.
pub const MAP_HUGE_SHIFT: u32 = 26;
/// `MAP_HUGE_MASK`: the mask of the huge-page size after shifting.
pub const MAP_HUGE_MASK: u32 = 0x3f;

bitflags! {
    /// The `MREMAP_*` flags of `mremap(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MremapFlags: u32 {
        /// `MREMAP_MAYMOVE`: the mapping may move.
        const MAYMOVE = 1;
        /// `MREMAP_FIXED`: move the mapping to the given address.
        const FIXED = 2;
        /// `MREMAP_DONTUNMAP`: leave the old range mapped (and empty).
        const DONTUNMAP = 4;
    }
}

bitflags! {
    /// The `MS_*` flags of `msync(2)`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MsyncFlags: u32 {
        /// `MS_ASYNC`: schedule the write-back and return.
        const ASYNC = 1;
        /// `MS_INVALIDATE`: drop other mappings' cached copies.
        const INVALIDATE = 2;
        /// `MS_SYNC`: write back and wait.
        const SYNC = 4;
    }
}

/// The `advice` argument of `madvise(2)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct MadviseAdvice(pub i32);

impl MadviseAdvice {
    /// `MADV_NORMAL`: no special treatment.
    pub const NORMAL: MadviseAdvice = MadviseAdvice(0);
    /// `MADV_RANDOM`: expect random access.
    pub const RANDOM: MadviseAdvice = MadviseAdvice(1);
    /// `MADV_SEQUENTIAL`: expect sequential access.
    pub const SEQUENTIAL: MadviseAdvice = MadviseAdvice(2);
    /// `MADV_WILLNEED`: expect access soon.
    pub const WILLNEED: MadviseAdvice = MadviseAdvice(3);
    /// `MADV_DONTNEED`: drop the pages; private anonymous pages read back
    /// as zeros.
    pub const DONTNEED: MadviseAdvice = MadviseAdvice(4);
    /// `MADV_FREE`: the pages may be freed lazily.
    pub const FREE: MadviseAdvice = MadviseAdvice(8);
    /// `MADV_REMOVE`: free the pages and the backing store.
    pub const REMOVE: MadviseAdvice = MadviseAdvice(9);
    /// `MADV_DONTFORK`: do not copy the range into a child.
    pub const DONTFORK: MadviseAdvice = MadviseAdvice(10);
    /// `MADV_DOFORK`: undo `MADV_DONTFORK`.
    pub const DOFORK: MadviseAdvice = MadviseAdvice(11);
    /// `MADV_MERGEABLE`: enable same-page merging.
    pub const MERGEABLE: MadviseAdvice = MadviseAdvice(12);
    /// `MADV_UNMERGEABLE`: disable same-page merging.
    pub const UNMERGEABLE: MadviseAdvice = MadviseAdvice(13);
    /// `MADV_HUGEPAGE`: enable transparent huge pages.
    pub const HUGEPAGE: MadviseAdvice = MadviseAdvice(14);
    /// `MADV_NOHUGEPAGE`: disable transparent huge pages.
    pub const NOHUGEPAGE: MadviseAdvice = MadviseAdvice(15);
    /// `MADV_DONTDUMP`: leave the range out of core dumps.
    pub const DONTDUMP: MadviseAdvice = MadviseAdvice(16);
    /// `MADV_DODUMP`: undo `MADV_DONTDUMP`.
    pub const DODUMP: MadviseAdvice = MadviseAdvice(17);
    /// `MADV_WIPEONFORK`: a child sees the range zero-filled.
    pub const WIPEONFORK: MadviseAdvice = MadviseAdvice(18);
    /// `MADV_KEEPONFORK`: undo `MADV_WIPEONFORK`.
    pub const KEEPONFORK: MadviseAdvice = MadviseAdvice(19);
    /// `MADV_COLD`: deactivate the pages.
    pub const COLD: MadviseAdvice = MadviseAdvice(20);
    /// `MADV_PAGEOUT`: reclaim the pages.
    pub const PAGEOUT: MadviseAdvice = MadviseAdvice(21);
    /// `MADV_POPULATE_READ`: prefault the pages readable.
    pub const POPULATE_READ: MadviseAdvice = MadviseAdvice(22);
    /// `MADV_POPULATE_WRITE`: prefault the pages writable.
    pub const POPULATE_WRITE: MadviseAdvice = MadviseAdvice(23);
    /// `MADV_DONTNEED_LOCKED`: like `MADV_DONTNEED`, also for locked pages.
    pub const DONTNEED_LOCKED: MadviseAdvice = MadviseAdvice(24);
    /// `MADV_COLLAPSE`: collapse the range into huge pages.
    pub const COLLAPSE: MadviseAdvice = MadviseAdvice(25);
    /// `MADV_HWPOISON`: poison the pages (testing).
    pub const HWPOISON: MadviseAdvice = MadviseAdvice(100);
    /// `MADV_SOFT_OFFLINE`: soft-offline the pages (testing).
    pub const SOFT_OFFLINE: MadviseAdvice = MadviseAdvice(101);
    /// `MADV_GUARD_INSTALL`: install guard regions that fault on access.
    pub const GUARD_INSTALL: MadviseAdvice = MadviseAdvice(102);
    /// `MADV_GUARD_REMOVE`: remove guard regions.
    pub const GUARD_REMOVE: MadviseAdvice = MadviseAdvice(103);
}

/// `MEMBARRIER_CMD_QUERY`: which commands are supported.
pub const MEMBARRIER_CMD_QUERY: i32 = 0;
/// `MEMBARRIER_CMD_GLOBAL`: a barrier on every thread of the system.
pub const MEMBARRIER_CMD_GLOBAL: i32 = 1 << 0;
/// `MEMBARRIER_CMD_GLOBAL_EXPEDITED`: an expedited barrier on the
/// threads of registered processes.
pub const MEMBARRIER_CMD_GLOBAL_EXPEDITED: i32 = 1 << 1;
/// `MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED`.
pub const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: i32 = 1 << 2;
/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED`: a barrier on the threads sharing
/// the caller's address space.
pub const MEMBARRIER_CMD_PRIVATE_EXPEDITED: i32 = 1 << 3;
/// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED`: allows the previous
/// command on the caller's address space.
pub const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: i32 = 1 << 4;

/// `MLOCK_ONFAULT` (`mlock2`): lock pages as they are faulted in.
pub const MLOCK_ONFAULT: u32 = 1;
/// `MCL_CURRENT` (`mlockall`): lock what is mapped now.
pub const MCL_CURRENT: u32 = 1;
/// `MCL_FUTURE` (`mlockall`): lock what is mapped later.
pub const MCL_FUTURE: u32 = 2;
/// `MCL_ONFAULT` (`mlockall`): lock pages as they are faulted in.
pub const MCL_ONFAULT: u32 = 4;

/// `MPOL_DEFAULT`: allocate by the enclosing policy (the task's, or local).
pub const MPOL_DEFAULT: u16 = 0;
/// `MPOL_PREFERRED`: allocate on one node first.
pub const MPOL_PREFERRED: u16 = 1;
/// `MPOL_BIND`: allocate only on the given nodes.
pub const MPOL_BIND: u16 = 2;
/// `MPOL_INTERLEAVE`: spread allocations over the nodes.
pub const MPOL_INTERLEAVE: u16 = 3;
/// `MPOL_LOCAL`: allocate on the node of the CPU that allocates.
pub const MPOL_LOCAL: u16 = 4;
/// `MPOL_PREFERRED_MANY`: allocate on any of the nodes first.
pub const MPOL_PREFERRED_MANY: u16 = 5;
/// `MPOL_WEIGHTED_INTERLEAVE`: spread allocations by node weights.
pub const MPOL_WEIGHTED_INTERLEAVE: u16 = 6;
/// One past the highest mode.
pub const MPOL_MAX: u16 = 7;
/// `MPOL_F_STATIC_NODES`: the nodes are absolute, kept as given.
pub const MPOL_F_STATIC_NODES: u16 = 1 << 15;
/// `MPOL_F_RELATIVE_NODES`: the nodes are relative to the allowed set.
pub const MPOL_F_RELATIVE_NODES: u16 = 1 << 14;
/// `MPOL_F_NUMA_BALANCING`: let NUMA balancing move pages (BIND and
/// PREFERRED_MANY only).
pub const MPOL_F_NUMA_BALANCING: u16 = 1 << 13;
/// The mode flags a policy's mode carries.
pub const MPOL_MODE_FLAGS: u16 =
    MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING;
/// `MPOL_F_NODE` (`get_mempolicy`): return a node rather than the mode.
pub const MPOL_F_NODE: u64 = 1 << 0;
/// `MPOL_F_ADDR` (`get_mempolicy`): the policy of the mapping at `addr`.
pub const MPOL_F_ADDR: u64 = 1 << 1;
/// `MPOL_F_MEMS_ALLOWED` (`get_mempolicy`): the nodes the task may use.
pub const MPOL_F_MEMS_ALLOWED: u64 = 1 << 2;
/// `MPOL_MF_STRICT` (`mbind`): fail if pages are on other nodes.
pub const MPOL_MF_STRICT: u32 = 1 << 0;
/// `MPOL_MF_MOVE` (`mbind`): move the caller's pages to the nodes.
pub const MPOL_MF_MOVE: u32 = 1 << 1;
/// `MPOL_MF_MOVE_ALL` (`mbind`): move every page (`CAP_SYS_NICE`).
pub const MPOL_MF_MOVE_ALL: u32 = 1 << 2;
