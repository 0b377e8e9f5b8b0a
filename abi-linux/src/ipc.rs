//! System V IPC (`sysvipc(7)`): the flags and commands of `shmget(2)`,
//! `shmat(2)`, `shmctl(2)`, `semget(2)`, `semop(2)`, `semctl(2)`,
//! `msgget(2)`, `msgsnd(2)`, `msgrcv(2)` and `msgctl(2)`, the structures
//! they exchange (x86_64's `*64_ds` layouts, which glibc uses as is) and
//! the default limits of a new IPC namespace (Linux 6.x, `ipc/` and
//! `include/uapi/linux/{shm,sem,msg}.h`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `IPC_PRIVATE`: the key that always makes a new object.
pub const IPC_PRIVATE: i32 = 0;
/// `IPC_CREAT`: create the object if the key has none.
pub const IPC_CREAT: i32 = 0o1000;
/// `IPC_EXCL`: with `IPC_CREAT`, fail if the key has an object.
pub const IPC_EXCL: i32 = 0o2000;
/// `IPC_NOWAIT`: fail with `EAGAIN`/`ENOMSG` rather than block.
pub const IPC_NOWAIT: i32 = 0o4000;

/// `IPC_RMID`: remove the object.
pub const IPC_RMID: i32 = 0;
/// `IPC_SET`: set the owner and mode (and a queue's byte limit).
pub const IPC_SET: i32 = 1;
/// `IPC_STAT`: read the object's `*_ds`.
pub const IPC_STAT: i32 = 2;
/// `IPC_INFO`: read the namespace's limits.
pub const IPC_INFO: i32 = 3;

/// `SHM_RDONLY`: `shmat(2)` attaches for reading only.
pub const SHM_RDONLY: i32 = 0o10000;
/// `SHM_RND`: `shmat(2)` rounds the address down to [`SHMLBA`].
pub const SHM_RND: i32 = 0o20000;
/// `SHM_REMAP`: `shmat(2)` may replace mappings at the address.
pub const SHM_REMAP: i32 = 0o40000;
/// `SHM_EXEC`: `shmat(2)` attaches executable.
pub const SHM_EXEC: i32 = 0o100000;
/// `SHM_HUGETLB`: `shmget(2)` asks for huge pages.
pub const SHM_HUGETLB: i32 = 0o4000;
/// `SHM_NORESERVE`: `shmget(2)` reserves no swap.
pub const SHM_NORESERVE: i32 = 0o10000;
/// `SHM_LOCK`: `shmctl(2)` locks the segment in memory.
pub const SHM_LOCK: i32 = 11;
/// `SHM_UNLOCK`: `shmctl(2)` unlocks it.
pub const SHM_UNLOCK: i32 = 12;
/// `SHM_STAT`: `shmctl(2)` `IPC_STAT` by table index.
pub const SHM_STAT: i32 = 13;
/// `SHM_INFO`: `shmctl(2)` reads the namespace's usage.
pub const SHM_INFO: i32 = 14;
/// `SHM_STAT_ANY`: `SHM_STAT` without the read-permission check.
pub const SHM_STAT_ANY: i32 = 15;
/// `SHM_DEST`: in a segment's mode, removed once the last attach goes.
pub const SHM_DEST: u32 = 0o1000;
/// `SHM_LOCKED`: in a segment's mode, locked by `SHM_LOCK`.
pub const SHM_LOCKED: u32 = 0o2000;
/// `SHMLBA`: the attach-address alignment (a page on x86_64).
pub const SHMLBA: u64 = 4096;
/// `SHMMIN`: the smallest segment.
pub const SHMMIN: u64 = 1;
/// `SHMMAX`: the largest segment (`ULONG_MAX - 2^24`).
pub const SHMMAX: u64 = u64::MAX - (1 << 24);
/// `SHMALL`: the most pages of all segments together.
pub const SHMALL: u64 = u64::MAX - (1 << 24);
/// `SHMMNI`: the most segments.
pub const SHMMNI: u64 = 4096;

/// `SEM_UNDO`: `semop(2)` undoes the operation when the process exits.
pub const SEM_UNDO: i16 = 0x1000;
/// `GETPID`: `semctl(2)` reads the last operating process.
pub const GETPID: i32 = 11;
/// `GETVAL`: `semctl(2)` reads a value.
pub const GETVAL: i32 = 12;
/// `GETALL`: `semctl(2)` reads every value.
pub const GETALL: i32 = 13;
/// `GETNCNT`: `semctl(2)` counts the tasks waiting for an increase.
pub const GETNCNT: i32 = 14;
/// `GETZCNT`: `semctl(2)` counts the tasks waiting for zero.
pub const GETZCNT: i32 = 15;
/// `SETVAL`: `semctl(2)` sets a value.
pub const SETVAL: i32 = 16;
/// `SETALL`: `semctl(2)` sets every value.
pub const SETALL: i32 = 17;
/// `SEM_STAT`: `semctl(2)` `IPC_STAT` by table index.
pub const SEM_STAT: i32 = 18;
/// `SEM_INFO`: `semctl(2)` reads the namespace's usage.
pub const SEM_INFO: i32 = 19;
/// `SEM_STAT_ANY`: `SEM_STAT` without the read-permission check.
pub const SEM_STAT_ANY: i32 = 20;
/// `SEMMSL`: the most semaphores in a set.
pub const SEMMSL: i32 = 32000;
/// `SEMMNI`: the most sets.
pub const SEMMNI: i32 = 32000;
/// `SEMMNS`: the most semaphores of all sets.
pub const SEMMNS: i32 = SEMMNI * SEMMSL;
/// `SEMOPM`: the most operations in one `semop(2)`.
pub const SEMOPM: i32 = 500;
/// `SEMVMX`: the largest semaphore value.
pub const SEMVMX: i32 = 32767;
/// `SEMAEM`: the largest undo adjustment.
pub const SEMAEM: i32 = SEMVMX;
/// `SEMUSZ`: what `semctl(IPC_INFO)` reports as the undo structure size.
pub const SEMUSZ: i32 = 20;

/// `MSG_NOERROR`: `msgrcv(2)` truncates a message too long for the buffer.
pub const MSG_NOERROR: i32 = 0o10000;
/// `MSG_EXCEPT`: `msgrcv(2)` takes the first message not of the type.
pub const MSG_EXCEPT: i32 = 0o20000;
/// `MSG_COPY`: `msgrcv(2)` copies the message at an index, leaving it.
pub const MSG_COPY: i32 = 0o40000;
/// `MSG_STAT`: `msgctl(2)` `IPC_STAT` by table index.
pub const MSG_STAT: i32 = 11;
/// `MSG_INFO`: `msgctl(2)` reads the namespace's usage.
pub const MSG_INFO: i32 = 12;
/// `MSG_STAT_ANY`: `MSG_STAT` without the read-permission check.
pub const MSG_STAT_ANY: i32 = 13;
/// `MSGMAX`: the largest message.
pub const MSGMAX: i32 = 8192;
/// `MSGMNB`: a new queue's byte limit.
pub const MSGMNB: i32 = 16384;
/// `MSGMNI`: the most queues.
pub const MSGMNI: i32 = 32000;
/// `MSGSSZ`: the message segment size `msgctl(IPC_INFO)` reports.
pub const MSGSSZ: i32 = 16;
/// `MSGPOOL`: the message pool in KiB `msgctl(IPC_INFO)` reports.
pub const MSGPOOL: i32 = MSGMNI * MSGMNB / 1024;
/// `MSGSEG`: the message segments `msgctl(IPC_INFO)` reports (clipped
/// to 16 bits, as Linux's field is).
pub const MSGSEG: i32 = 0xffff;

/// `struct ipc64_perm`: an object's key, owner, creator and mode.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct IpcPerm {
    /// The key the object was made with.
    pub key: i32,
    /// The owner's user ID.
    pub uid: u32,
    /// The owner's group ID.
    pub gid: u32,
    /// The creator's user ID.
    pub cuid: u32,
    /// The creator's group ID.
    pub cgid: u32,
    /// Permission bits (and, for a segment, [`SHM_DEST`]/[`SHM_LOCKED`]).
    pub mode: u32,
    /// The slot's sequence number.
    pub seq: u16,
    /// Padding.
    pub pad2: u16,
    /// Padding.
    pub pad3: u32,
    /// Unused.
    pub unused1: u64,
    /// Unused.
    pub unused2: u64,
}

/// `struct shmid64_ds`: a shared-memory segment.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct ShmidDs {
    /// Owner, creator and mode.
    pub shm_perm: IpcPerm,
    /// The size in bytes.
    pub shm_segsz: u64,
    /// The last attach.
    pub shm_atime: i64,
    /// The last detach.
    pub shm_dtime: i64,
    /// The last change.
    pub shm_ctime: i64,
    /// The creator's process ID.
    pub shm_cpid: i32,
    /// The last attaching or detaching process's ID.
    pub shm_lpid: i32,
    /// The number of attaches.
    pub shm_nattch: u64,
    /// Unused.
    pub unused4: u64,
    /// Unused.
    pub unused5: u64,
}

/// `struct shminfo64`: `shmctl(IPC_INFO)`'s limits.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct ShmParams {
    /// `SHMMAX`.
    pub shmmax: u64,
    /// `SHMMIN`.
    pub shmmin: u64,
    /// `SHMMNI`.
    pub shmmni: u64,
    /// `SHMSEG`.
    pub shmseg: u64,
    /// `SHMALL`.
    pub shmall: u64,
    /// Unused.
    pub unused: [u64; 4],
}

/// `struct shm_info`: `shmctl(SHM_INFO)`'s usage.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct ShmInfo {
    /// Segments in use.
    pub used_ids: i32,
    /// Padding.
    pub pad: u32,
    /// Pages allocated to segments.
    pub shm_tot: u64,
    /// Pages resident.
    pub shm_rss: u64,
    /// Pages swapped.
    pub shm_swp: u64,
    /// Unused.
    pub swap_attempts: u64,
    /// Unused.
    pub swap_successes: u64,
}

/// `struct semid64_ds`: a semaphore set.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SemidDs {
    /// Owner, creator and mode.
    pub sem_perm: IpcPerm,
    /// The last `semop(2)`.
    pub sem_otime: i64,
    /// Unused.
    pub unused1: u64,
    /// The last change.
    pub sem_ctime: i64,
    /// Unused.
    pub unused2: u64,
    /// The number of semaphores.
    pub sem_nsems: u64,
    /// Unused.
    pub unused3: u64,
    /// Unused.
    pub unused4: u64,
}

/// `struct sembuf`: one operation of `semop(2)`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SemBuf {
    /// The semaphore's index.
    pub sem_num: u16,
    /// What to add (negative: take; zero: wait for zero).
    pub sem_op: i16,
    /// [`IPC_NOWAIT`] and [`SEM_UNDO`].
    pub sem_flg: i16,
}

/// `struct seminfo`: `semctl(IPC_INFO)`'s limits and `SEM_INFO`'s usage.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SemInfo {
    /// `SEMMAP`.
    pub semmap: i32,
    /// `SEMMNI`.
    pub semmni: i32,
    /// `SEMMNS`.
    pub semmns: i32,
    /// `SEMMNU`.
    pub semmnu: i32,
    /// `SEMMSL`.
    pub semmsl: i32,
    /// `SEMOPM`.
    pub semopm: i32,
    /// `SEMUME`.
    pub semume: i32,
    /// `SEMUSZ` (`SEM_INFO`: the sets in use).
    pub semusz: i32,
    /// `SEMVMX`.
    pub semvmx: i32,
    /// `SEMAEM` (`SEM_INFO`: the semaphores in use).
    pub semaem: i32,
}

/// `struct msqid64_ds`: a message queue.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct MsqidDs {
    /// Owner, creator and mode.
    pub msg_perm: IpcPerm,
    /// The last `msgsnd(2)`.
    pub msg_stime: i64,
    /// The last `msgrcv(2)`.
    pub msg_rtime: i64,
    /// The last change.
    pub msg_ctime: i64,
    /// Bytes queued.
    pub msg_cbytes: u64,
    /// Messages queued.
    pub msg_qnum: u64,
    /// The most bytes the queue holds.
    pub msg_qbytes: u64,
    /// The last sender's process ID.
    pub msg_lspid: i32,
    /// The last receiver's process ID.
    pub msg_lrpid: i32,
    /// Unused.
    pub unused4: u64,
    /// Unused.
    pub unused5: u64,
}

/// `struct msginfo`: `msgctl(IPC_INFO)`'s limits and `MSG_INFO`'s usage.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct MsgInfo {
    /// `MSGPOOL` (`MSG_INFO`: the queues in use).
    pub msgpool: i32,
    /// `MSGMAP` (`MSG_INFO`: the messages queued).
    pub msgmap: i32,
    /// `MSGMAX`.
    pub msgmax: i32,
    /// `MSGMNB`.
    pub msgmnb: i32,
    /// `MSGMNI`.
    pub msgmni: i32,
    /// `MSGSSZ`.
    pub msgssz: i32,
    /// `MSGTQL` (`MSG_INFO`: the bytes queued).
    pub msgtql: i32,
    /// `MSGSEG` (a C `unsigned short`).
    pub msgseg: u16,
    /// Padding.
    pub pad: u16,
}

/// `MQ_PRIO_MAX`: message priorities of `mq_timedsend(2)` are below this.
pub const MQ_PRIO_MAX: u32 = 32768;
/// The default `fs.mqueue.queues_max`: the most POSIX message queues.
pub const MQ_QUEUES_MAX: usize = 256;
/// The default `fs.mqueue.msg_max`: the largest `mq_maxmsg` without
/// `CAP_SYS_RESOURCE`.
pub const MQ_MSG_MAX: i64 = 10;
/// The default `fs.mqueue.msgsize_max`: the largest `mq_msgsize` without
/// `CAP_SYS_RESOURCE`.
pub const MQ_MSGSIZE_MAX: i64 = 8192;
/// The default `fs.mqueue.msg_default`: `mq_maxmsg` when `mq_open(2)`
/// gets no attributes.
pub const MQ_MSG_DEFAULT: i64 = 10;
/// The default `fs.mqueue.msgsize_default`: `mq_msgsize` when
/// `mq_open(2)` gets no attributes.
pub const MQ_MSGSIZE_DEFAULT: i64 = 8192;
/// `HARD_MSGMAX`: the largest `mq_maxmsg` even with `CAP_SYS_RESOURCE`.
pub const MQ_HARD_MSGMAX: i64 = 65536;
/// `HARD_MSGSIZEMAX`: the largest `mq_msgsize` even with
/// `CAP_SYS_RESOURCE`.
pub const MQ_HARD_MSGSIZEMAX: i64 = 16 * 1024 * 1024;

/// `struct mq_attr`: a POSIX message queue's attributes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct MqAttr {
    /// `O_NONBLOCK` or 0.
    pub mq_flags: i64,
    /// The most messages queued.
    pub mq_maxmsg: i64,
    /// The largest message.
    pub mq_msgsize: i64,
    /// The messages queued now.
    pub mq_curmsgs: i64,
    /// Unused.
    pub reserved: [i64; 4],
}
