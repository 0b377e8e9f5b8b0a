//! `/proc` on kernfs (gVisor's `fsimpl/proc`): `self`, one directory per
//! live process (`cmdline`, `comm`, `cwd`, `environ`, `exe`, `fd/`, `maps`,
//! `mountinfo`, `mounts`, `root`, `stat`, `statm`, `status`, `task/`) and
//! the system files `cpuinfo` (the host's), `meminfo`, `stat`, `uptime`,
//! `loadavg`, `version`, `filesystems` and `mounts`, and a few read-only
//! `sys/` values (the sandbox's names and limits).
//!
//! Every file is generated when it is opened, from the kernel's
//! [`TaskSet`]; the caller's process ID (for `self`) comes from its
//! context's POSIX lock owner, which the sentry sets to the thread-group
//! ID.
//!
//! # Reference model
//!
//! The mount holds the kernfs filesystem, which holds the root inode; each
//! inode holds the filesystem's [`Proc`] state (`Arc`), which holds the
//! task set and weak references to the kernfs filesystem and the VFS (so
//! no cycle runs through the VFS). Inodes are created on lookup and not
//! cached (`max_cached_dentries` 0).
//!
//! # Lock order
//!
//! Generation takes `TaskSet::processes` (released before anything
//! else), then per-process locks (`FdTable`, `FsContext`,
//! `MemoryManager`), one at a time.

use std::sync::{Arc, Weak};
use std::time::Instant;

use abi_linux::{Errno, FileMode, FileType, Statx};
use kernfs::{
    BytesSource, DirectoryGenerator, DynamicBytesFile, DynamicDirectory, FilesystemOptions, Inode,
    InodeAttrs, LinkTarget, Symlink,
};
use vfs_core::{
    Context, Credentials, DentryRef, FileRef, FilesystemRef, FilesystemType, GetFilesystemOptions,
    MountRef, OpenOptions, PathNameError, StatOptions, VirtualDentry, VirtualFilesystem,
};

use crate::elf::PAGE_SIZE;
use crate::ipc::Ipc;
use crate::net::inet::{InetStack, procnet};
use crate::task::{ProcessInfo, TaskSet};
use abi_linux::ipc;

/// `PROC_SUPER_MAGIC`.
pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// Clock ticks per second (`USER_HZ`, `AT_CLKTCK`).
const USER_HZ: u128 = 100;

/// The memory the sandbox reports as installed (`sysinfo`, `meminfo`).
pub const TOTAL_RAM: u64 = 1 << 32;

/// The `proc` filesystem type.
#[derive(Debug)]
pub struct ProcType {
    tasks: Arc<TaskSet>,
    ipc: Arc<Ipc>,
    inet: Arc<InetStack>,
    uts: Arc<crate::syscalls::Uts>,
    boot: Instant,
    /// `kernel/random/boot_id`: random, fixed for the sandbox's life.
    boot_id: String,
}

impl ProcType {
    /// A type whose filesystems show `tasks`, the System V IPC objects
    /// of `ipc` and the network settings of `inet`; uptimes count from
    /// `boot`.
    pub fn new(
        tasks: Arc<TaskSet>,
        boot: Instant,
        ipc: Arc<Ipc>,
        inet: Arc<InetStack>,
        uts: Arc<crate::syscalls::Uts>,
    ) -> Self {
        Self {
            tasks,
            ipc,
            inet,
            uts,
            boot,
            boot_id: random_uuid(),
        }
    }
}

/// A random (version 4) UUID in its text form.
fn random_uuid() -> String {
    let mut b = [0u8; 16];
    // Without host randomness the UUID is all zeros, which is still a
    // well-formed (if not unique) identifier.
    let _ = crate::devices::fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl FilesystemType for ProcType {
    fn name(&self) -> &str {
        "proc"
    }

    fn get_filesystem(
        &self,
        _ctx: &dyn Context,
        vfs: &Arc<VirtualFilesystem>,
        _source: &[u8],
        _opts: &GetFilesystemOptions,
    ) -> Result<(FilesystemRef, DentryRef), Errno> {
        let fs = kernfs::Filesystem::new(
            vfs,
            FilesystemOptions {
                max_cached_dentries: 0,
                magic: PROC_SUPER_MAGIC,
                mount_options: String::new(),
            },
        )?;
        let proc = Arc::new(Proc {
            tasks: self.tasks.clone(),
            ipc: self.ipc.clone(),
            inet: self.inet.clone(),
            uts: self.uts.clone(),
            boot: self.boot,
            boot_id: self.boot_id.clone(),
            fs: Arc::downgrade(&fs),
            vfs: Arc::downgrade(vfs),
        });
        let root = DynamicDirectory::new(&fs, &Credentials::root(), 0o555, RootDir(proc));
        Ok(fs.into_vfs(vfs, "proc", root))
    }
}

/// What every inode of one proc filesystem shares.
#[derive(Debug)]
struct Proc {
    tasks: Arc<TaskSet>,
    ipc: Arc<Ipc>,
    inet: Arc<InetStack>,
    uts: Arc<crate::syscalls::Uts>,
    boot: Instant,
    boot_id: String,
    fs: Weak<kernfs::Filesystem>,
    vfs: Weak<VirtualFilesystem>,
}

impl Proc {
    fn fs(&self) -> Result<Arc<kernfs::Filesystem>, Errno> {
        self.fs.upgrade().ok_or(Errno::ENOENT)
    }

    fn vfs(&self) -> Result<Arc<VirtualFilesystem>, Errno> {
        self.vfs.upgrade().ok_or(Errno::ENOENT)
    }

    fn process(&self, tgid: i32) -> Result<Arc<ProcessInfo>, Errno> {
        self.tasks.get(tgid).ok_or(Errno::ESRCH)
    }

    fn file(self: &Arc<Self>, kind: Kind, tgid: i32) -> Result<Arc<dyn Inode>, Errno> {
        self.file_with_perms(kind, tgid, 0o444)
    }

    fn file_with_perms(
        self: &Arc<Self>,
        kind: Kind,
        tgid: i32,
        perms: u32,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let fs = self.fs()?;
        Ok(DynamicBytesFile::new(
            &fs,
            &Credentials::root(),
            perms,
            ProcFile {
                proc: self.clone(),
                kind,
                tgid,
            },
        ))
    }

    /// A directory of `/proc` owned by root with `perms`, listing what
    /// `generator` gives.
    fn dir(
        &self,
        perms: u32,
        generator: impl DirectoryGenerator + 'static,
    ) -> Result<Arc<dyn Inode>, Errno> {
        Ok(DynamicDirectory::new(
            &*self.fs()?,
            &Credentials::root(),
            perms,
            generator,
        ))
    }

    fn link(self: &Arc<Self>, kind: LinkKind, tgid: i32) -> Result<Arc<dyn Inode>, Errno> {
        self.link_with_perms(kind, tgid, 0o777)
    }

    fn link_with_perms(
        self: &Arc<Self>,
        kind: LinkKind,
        tgid: i32,
        perms: u32,
    ) -> Result<Arc<dyn Inode>, Errno> {
        let fs = self.fs()?;
        Ok(Arc::new(ProcLink {
            attrs: InodeAttrs::new(
                fs.next_ino(),
                0,
                0,
                FileMode::new(FileType::Symlink, perms),
                Default::default(),
            ),
            proc: self.clone(),
            kind,
            tgid,
        }))
    }
}

/// The process ID of the caller, from its POSIX lock owner.
fn caller_pid(ctx: &dyn Context) -> Result<i32, Errno> {
    ctx.lock_owner().map(|o| o.pid).ok_or(Errno::ENOENT)
}

const ROOT_FILES: [(&str, Kind); 9] = [
    ("cpuinfo", Kind::Cpuinfo),
    ("filesystems", Kind::Filesystems),
    ("loadavg", Kind::Loadavg),
    ("meminfo", Kind::Meminfo),
    ("stat", Kind::SystemStat),
    ("swaps", Kind::Swaps),
    ("uptime", Kind::Uptime),
    ("version", Kind::Version),
    ("vmstat", Kind::Vmstat),
];

/// `/proc`: the system files, `self`, `mounts` and one entry per process.
struct RootDir(Arc<Proc>);

impl DirectoryGenerator for RootDir {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        let mut names: Vec<Vec<u8>> = ROOT_FILES
            .iter()
            .map(|(n, _)| n.as_bytes().to_vec())
            .collect();
        names.push(b"mounts".to_vec());
        names.push(b"net".to_vec());
        names.push(b"self".to_vec());
        names.push(b"sys".to_vec());
        names.push(b"sysvipc".to_vec());
        names.extend(
            self.0
                .tasks
                .pids()
                .into_iter()
                .map(|p| p.to_string().into_bytes()),
        );
        Ok(names)
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if let Some((_, kind)) = ROOT_FILES.iter().find(|(n, _)| n.as_bytes() == name) {
            return self.0.file(*kind, 0);
        }
        match name {
            b"self" => self.0.link(LinkKind::SelfPid, 0),
            b"sys" => self.0.dir(
                0o555,
                SysDir {
                    proc: self.0.clone(),
                    prefix: String::new(),
                },
            ),
            b"sysvipc" => self.0.dir(0o555, SysvIpcDir(self.0.clone())),
            b"net" => self.0.dir(0o555, NetDir(self.0.clone())),
            b"mounts" => Ok(Symlink::new(
                &*self.0.fs()?,
                &Credentials::root(),
                b"self/mounts",
            )),
            _ => {
                let tgid = parse_number(name).ok_or(Errno::ENOENT)?;
                let process = self.0.tasks.get(tgid).ok_or(Errno::ENOENT)?;
                let fs = self.0.fs()?;
                // Owned by the process's effective IDs (Linux's
                // task_dump_owner for the directory, dumpable or not).
                let owner = process.group.credentials();
                Ok(DynamicDirectory::new(
                    &fs,
                    &owner,
                    0o555,
                    PidDir {
                        proc: self.0.clone(),
                        tgid,
                    },
                ))
            }
        }
    }
}

/// The files of `/proc/sys` the sentry serves, read-only, each with what
/// it reads as: the limits and names the sandbox's kernel really has.
const SYSCTLS: [&str; 36] = [
    "fs/file-max",
    "fs/mqueue/msg_default",
    "fs/mqueue/msg_max",
    "fs/mqueue/msgsize_default",
    "fs/mqueue/msgsize_max",
    "fs/mqueue/queues_max",
    "fs/nr_open",
    "kernel/cap_last_cap",
    "kernel/domainname",
    "kernel/hostname",
    "kernel/msgmax",
    "kernel/msgmnb",
    "kernel/msgmni",
    "kernel/ngroups_max",
    "kernel/osrelease",
    "kernel/ostype",
    "kernel/overflowgid",
    "kernel/overflowuid",
    "kernel/pid_max",
    "kernel/random/boot_id",
    "kernel/random/entropy_avail",
    "kernel/random/poolsize",
    "kernel/random/uuid",
    "kernel/sem",
    "kernel/shmall",
    "kernel/shmmax",
    "kernel/shmmni",
    "kernel/threads-max",
    "kernel/version",
    "net/core/somaxconn",
    "net/ipv4/ip_local_port_range",
    "net/ipv4/ip_unprivileged_port_start",
    "net/ipv4/ping_group_range",
    "net/ipv6/bindv6only",
    "vm/max_map_count",
    "vm/overcommit_memory",
];

/// The one sysctl a program may change: `net/ipv4/ping_group_range`
/// (root only, through the file's mode).
const WRITABLE_SYSCTL: &str = "net/ipv4/ping_group_range";

/// The value of the sysctl at `path` (one of [`SYSCTLS`]).
fn sysctl_value(proc: &Proc, path: &str) -> String {
    let u = proc.uts.utsname();
    let field = |f: &[u8]| {
        let end = f.iter().position(|&c| c == 0).unwrap_or(f.len());
        String::from_utf8_lossy(&f[..end]).into_owned()
    };
    match path {
        // Linux's `files_maxfiles_init` over the sandbox's memory: a
        // tenth of it in KiB.
        "fs/file-max" => (TOTAL_RAM / 1024 / 10).max(8192).to_string(),
        "fs/nr_open" => crate::task::NR_OPEN.to_string(),
        "fs/mqueue/msg_default" => ipc::MQ_MSG_DEFAULT.to_string(),
        "fs/mqueue/msg_max" => ipc::MQ_MSG_MAX.to_string(),
        "fs/mqueue/msgsize_default" => ipc::MQ_MSGSIZE_DEFAULT.to_string(),
        "fs/mqueue/msgsize_max" => ipc::MQ_MSGSIZE_MAX.to_string(),
        "fs/mqueue/queues_max" => ipc::MQ_QUEUES_MAX.to_string(),
        "kernel/cap_last_cap" => (abi_linux::Capability::LAST as u32).to_string(),
        "kernel/domainname" => field(&u.domainname),
        "kernel/hostname" => field(&u.nodename),
        "kernel/ngroups_max" => abi_linux::process::NGROUPS_MAX.to_string(),
        "kernel/osrelease" => field(&u.release),
        "kernel/ostype" => field(&u.sysname),
        "kernel/overflowgid" | "kernel/overflowuid" => "65534".into(),
        "kernel/pid_max" => crate::task::PID_MAX.to_string(),
        "kernel/random/boot_id" => proc.boot_id.clone(),
        "kernel/random/uuid" => random_uuid(),
        // Linux 5.18 and later: a full pool, always.
        "kernel/random/entropy_avail" | "kernel/random/poolsize" => "256".into(),
        "kernel/threads-max" => proc.tasks.max_processes().to_string(),
        "kernel/msgmax" => ipc::MSGMAX.to_string(),
        "kernel/msgmnb" => ipc::MSGMNB.to_string(),
        "kernel/msgmni" => ipc::MSGMNI.to_string(),
        "kernel/sem" => format!(
            "{}\t{}\t{}\t{}",
            ipc::SEMMSL,
            ipc::SEMMNS,
            ipc::SEMOPM,
            ipc::SEMMNI
        ),
        "kernel/shmall" => ipc::SHMALL.to_string(),
        "kernel/shmmax" => ipc::SHMMAX.to_string(),
        "kernel/shmmni" => ipc::SHMMNI.to_string(),
        "kernel/version" => field(&u.version),
        "net/core/somaxconn" => abi_linux::socket::SOMAXCONN.to_string(),
        "net/ipv4/ip_local_port_range" => {
            let (low, high) = abi_linux::inet::IP_LOCAL_PORT_RANGE;
            format!("{low}\t{high}")
        }
        "net/ipv4/ip_unprivileged_port_start" => {
            abi_linux::inet::IP_UNPRIVILEGED_PORT_START.to_string()
        }
        "net/ipv4/ping_group_range" => {
            let (low, high) = proc.inet.ping_group_range();
            format!("{low}\t{high}")
        }
        "net/ipv6/bindv6only" => "0".into(),
        // Heuristic overcommit: the sandbox refuses only what its memory
        // limit cannot back.
        "vm/overcommit_memory" => "0".into(),
        "vm/max_map_count" => crate::mm::MAX_MAP_COUNT.to_string(),
        _ => String::new(),
    }
}

/// `/proc/net`: the sandbox's network (`net::inet::procnet`). Linux
/// makes it a link to the caller's `/proc/self/net`; with one network
/// namespace it is the same directory.
struct NetDir(Arc<Proc>);

impl DirectoryGenerator for NetDir {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(procnet::FILES
            .iter()
            .map(|n| n.as_bytes().to_vec())
            .collect())
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let i = procnet::FILES
            .iter()
            .position(|n| n.as_bytes() == name)
            .ok_or(Errno::ENOENT)?;
        self.0.file(Kind::Net(i), 0)
    }
}

/// `/proc/sysvipc`: the System V IPC objects, one file per kind.
struct SysvIpcDir(Arc<Proc>);

const SYSVIPC_FILES: [(&str, Kind); 3] = [
    ("msg", Kind::SysvMsg),
    ("sem", Kind::SysvSem),
    ("shm", Kind::SysvShm),
];

impl DirectoryGenerator for SysvIpcDir {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(SYSVIPC_FILES
            .iter()
            .map(|(n, _)| n.as_bytes().to_vec())
            .collect())
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let (_, kind) = SYSVIPC_FILES
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .ok_or(Errno::ENOENT)?;
        self.0.file(*kind, 0)
    }
}

/// The lines of `/proc/sysvipc/{shm,sem,msg}`, in Linux's formats
/// (`ipc/shm.c`, `sem.c`, `msg.c`: `sysvipc_*_proc_show`).
fn sysvipc(ipc: &Ipc, kind: Kind, buf: &mut Vec<u8>) {
    let mut out = String::new();
    match kind {
        Kind::SysvShm => {
            out.push_str(
                "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  \
                 cuid  cgid      atime      dtime      ctime                   rss                  swap\n",
            );
            for (id, d, rss) in ipc.shm.list() {
                let p = d.shm_perm;
                out.push_str(&format!(
                    "{:>10} {id:>10}  {:>4o} {:>21} {:>5} {:>5}  {:>5} {:>5} {:>5} {:>5} {:>5} \
                     {:>10} {:>10} {:>10} {rss:>21} {:>21}\n",
                    p.key,
                    p.mode,
                    d.shm_segsz,
                    d.shm_cpid,
                    d.shm_lpid,
                    d.shm_nattch,
                    p.uid,
                    p.gid,
                    p.cuid,
                    p.cgid,
                    d.shm_atime,
                    d.shm_dtime,
                    d.shm_ctime,
                    0,
                ));
            }
        }
        Kind::SysvSem => {
            out.push_str(
                "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      \
                 ctime\n",
            );
            for (id, d) in ipc.sem.list() {
                let p = d.sem_perm;
                out.push_str(&format!(
                    "{:>10} {id:>10}  {:>4o} {:>10} {:>5} {:>5} {:>5} {:>5} {:>10} {:>10}\n",
                    p.key,
                    p.mode,
                    d.sem_nsems,
                    p.uid,
                    p.gid,
                    p.cuid,
                    p.cgid,
                    d.sem_otime,
                    d.sem_ctime,
                ));
            }
        }
        _ => {
            out.push_str(
                "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  \
                 cuid  cgid      stime      rtime      ctime\n",
            );
            for (id, d) in ipc.msg.list() {
                let p = d.msg_perm;
                out.push_str(&format!(
                    "{:>10} {id:>10}  {:>4o}  {:>10} {:>10} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} \
                     {:>10} {:>10} {:>10}\n",
                    p.key,
                    p.mode,
                    d.msg_cbytes,
                    d.msg_qnum,
                    d.msg_lspid,
                    d.msg_lrpid,
                    p.uid,
                    p.gid,
                    p.cuid,
                    p.cgid,
                    d.msg_stime,
                    d.msg_rtime,
                    d.msg_ctime,
                ));
            }
        }
    }
    buf.extend_from_slice(out.as_bytes());
}

/// A directory of `/proc/sys`: `prefix` is its path below `/proc/sys`
/// with a trailing slash (empty for `/proc/sys` itself).
struct SysDir {
    proc: Arc<Proc>,
    prefix: String,
}

impl DirectoryGenerator for SysDir {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        let mut names: Vec<Vec<u8>> = SYSCTLS
            .iter()
            .filter_map(|p| p.strip_prefix(self.prefix.as_str()))
            .map(|rest| rest.split('/').next().unwrap_or(rest).as_bytes().to_vec())
            .collect();
        names.dedup();
        Ok(names)
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let name = std::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
        let path = format!("{}{name}", self.prefix);
        if let Some(i) = SYSCTLS.iter().position(|p| *p == path) {
            let perms = if path == WRITABLE_SYSCTL {
                0o644
            } else {
                0o444
            };
            return self.proc.file_with_perms(Kind::Sysctl(i), 0, perms);
        }
        let dir = format!("{path}/");
        if !SYSCTLS.iter().any(|p| p.starts_with(&dir)) {
            return Err(Errno::ENOENT);
        }
        self.proc.dir(
            0o555,
            SysDir {
                proc: self.proc.clone(),
                prefix: dir,
            },
        )
    }
}

/// A decimal number without sign or leading zeros, as `/proc` names are.
fn parse_number(name: &[u8]) -> Option<i32> {
    if name.is_empty() || (name[0] == b'0' && name.len() > 1) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

const PID_FILES: [(&str, Kind); 25] = [
    ("auxv", Kind::Auxv),
    ("cgroup", Kind::Cgroup),
    ("cmdline", Kind::Cmdline),
    ("comm", Kind::Comm),
    ("environ", Kind::Environ),
    ("gid_map", Kind::IdMap),
    ("io", Kind::Io),
    ("limits", Kind::Limits),
    ("loginuid", Kind::AuditId),
    ("maps", Kind::Maps),
    ("mountinfo", Kind::MountInfo),
    ("mounts", Kind::Mounts),
    ("oom_score", Kind::OomScore),
    ("oom_score_adj", Kind::OomScoreAdj),
    ("personality", Kind::Personality),
    ("sessionid", Kind::AuditId),
    ("setgroups", Kind::Setgroups),
    ("smaps", Kind::Smaps),
    ("smaps_rollup", Kind::SmapsRollup),
    ("stat", Kind::Stat),
    ("statm", Kind::Statm),
    ("status", Kind::Status),
    ("timerslack_ns", Kind::TimerSlack),
    ("uid_map", Kind::IdMap),
    ("wchan", Kind::Wchan),
];

/// `/proc/PID`.
struct PidDir {
    proc: Arc<Proc>,
    tgid: i32,
}

impl DirectoryGenerator for PidDir {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        self.proc.process(self.tgid)?;
        let mut names: Vec<Vec<u8>> = PID_FILES
            .iter()
            .map(|(n, _)| n.as_bytes().to_vec())
            .collect();
        names.push(b"cwd".to_vec());
        names.push(b"exe".to_vec());
        names.push(b"fd".to_vec());
        names.push(b"fdinfo".to_vec());
        names.push(b"root".to_vec());
        names.push(b"task".to_vec());
        names.sort();
        Ok(names)
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.proc.process(self.tgid).map_err(|_| Errno::ENOENT)?;
        if let Some((_, kind)) = PID_FILES.iter().find(|(n, _)| n.as_bytes() == name) {
            let perms = if *kind == Kind::OomScoreAdj {
                0o644
            } else {
                0o444
            };
            return self.proc.file_with_perms(*kind, self.tgid, perms);
        }
        match name {
            b"cwd" => self.proc.link(LinkKind::Cwd, self.tgid),
            b"exe" => self.proc.link(LinkKind::Exe, self.tgid),
            b"root" => self.proc.link(LinkKind::Root, self.tgid),
            b"fd" => self.proc.dir(
                0o500,
                FdDir {
                    proc: self.proc.clone(),
                    tgid: self.tgid,
                    info: false,
                },
            ),
            b"fdinfo" => self.proc.dir(
                0o500,
                FdDir {
                    proc: self.proc.clone(),
                    tgid: self.tgid,
                    info: true,
                },
            ),
            b"task" => self.proc.dir(
                0o555,
                TaskDir {
                    proc: self.proc.clone(),
                    tgid: self.tgid,
                },
            ),
            _ => Err(Errno::ENOENT),
        }
    }
}

/// `/proc/PID/task`: a directory per live thread of the group. A thread's
/// directory shows what its group shares (the per-thread files are the
/// group's: comm, stat and status are per process here).
struct TaskDir {
    proc: Arc<Proc>,
    tgid: i32,
}

impl DirectoryGenerator for TaskDir {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        let process = self.proc.process(self.tgid)?;
        let mut tids = process.group.thread_ids();
        tids.sort_unstable();
        Ok(tids
            .into_iter()
            .map(|tid| tid.to_string().into_bytes())
            .collect())
    }

    fn lookup(&self, _: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let process = self.proc.process(self.tgid).map_err(|_| Errno::ENOENT)?;
        let tid = parse_number(name).ok_or(Errno::ENOENT)?;
        if !process.group.thread_ids().contains(&tid) {
            return Err(Errno::ENOENT);
        }
        self.proc.dir(
            0o555,
            PidDir {
                proc: self.proc.clone(),
                tgid: self.tgid,
            },
        )
    }
}

/// `/proc/PID/fd` (magic links) or, with `info`, `/proc/PID/fdinfo`
/// (files): an entry per open descriptor.
struct FdDir {
    proc: Arc<Proc>,
    tgid: i32,
    info: bool,
}

impl DirectoryGenerator for FdDir {
    fn names(&self, _: &dyn Context) -> Result<Vec<Vec<u8>>, Errno> {
        let process = self.proc.process(self.tgid)?;
        Ok(process
            .fds
            .fds()
            .into_iter()
            .map(|fd| fd.to_string().into_bytes())
            .collect())
    }

    fn lookup(&self, ctx: &dyn Context, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let process = self.proc.process(self.tgid).map_err(|_| Errno::ENOENT)?;
        let fd = parse_number(name).ok_or(Errno::ENOENT)?;
        let file = process.fds.get(fd).map_err(|_| Errno::ENOENT)?;
        // Linux shows the access mode in the link's permissions.
        let mut perms = 0;
        if file.is_readable() {
            perms |= 0o500;
        }
        if file.is_writable() {
            perms |= 0o300;
        }
        file.release(ctx);
        if self.info {
            return self.proc.file(Kind::FdInfo(fd), self.tgid);
        }
        self.proc
            .link_with_perms(LinkKind::Fd(fd), self.tgid, perms)
    }
}

/// What a [`ProcLink`] points at.
#[derive(Clone, Copy, Debug)]
enum LinkKind {
    /// `/proc/self`: the caller's `/proc/PID`.
    SelfPid,
    /// `/proc/PID/exe`: the executable.
    Exe,
    /// `/proc/PID/fd/N`: the open file (a magic link).
    Fd(i32),
    /// `/proc/PID/cwd`: the working directory (a magic link).
    Cwd,
    /// `/proc/PID/root`: the root directory (a magic link).
    Root,
}

/// A link whose target is computed when it is read or followed.
struct ProcLink {
    attrs: InodeAttrs,
    proc: Arc<Proc>,
    kind: LinkKind,
    tgid: i32,
}

impl ProcLink {
    /// The directory behind a `cwd` or `root` link, with the process's
    /// root, both referenced.
    fn fs_dir(&self, ctx: &dyn Context) -> Result<(VirtualDentry, VirtualDentry), Errno> {
        let process = self.proc.process(self.tgid).map_err(|_| Errno::ENOENT)?;
        let (root, cwd) = process.fs.root_and_cwd().map_err(|_| Errno::ENOENT)?;
        Ok(match self.kind {
            LinkKind::Cwd => (root, cwd),
            _ => {
                cwd.release(ctx);
                (root.clone(), root)
            }
        })
    }

    /// The open file behind an `fd` link.
    fn fd_file(&self, fd: i32) -> Result<FileRef, Errno> {
        let process = self.proc.process(self.tgid).map_err(|_| Errno::ENOENT)?;
        process.fds.get(fd).map_err(|_| Errno::ENOENT)
    }
}

impl Inode for ProcLink {
    fn attrs(&self) -> &InodeAttrs {
        &self.attrs
    }

    fn stat(
        &self,
        _: &dyn Context,
        fs: &kernfs::Filesystem,
        _: StatOptions,
    ) -> Result<Statx, Errno> {
        Ok(self.attrs.stat(fs.dev(), 64, 0))
    }

    fn valid(&self, _: &dyn Context, _: &[u8]) -> bool {
        // The target may change with every call (another caller, a
        // descriptor reused): look the link up again each time.
        false
    }

    fn readlink(&self, ctx: &dyn Context) -> Result<Vec<u8>, Errno> {
        match self.kind {
            LinkKind::SelfPid => Ok(caller_pid(ctx)?.to_string().into_bytes()),
            LinkKind::Exe => Ok(self
                .proc
                .process(self.tgid)
                .map_err(|_| Errno::ENOENT)?
                .exe
                .clone()),
            LinkKind::Fd(fd) => {
                let file = self.fd_file(fd)?;
                let name = file_path(&self.proc, self.tgid, ctx, &file);
                file.release(ctx);
                name
            }
            LinkKind::Cwd | LinkKind::Root => {
                let (root, dir) = self.fs_dir(ctx)?;
                let name = self.proc.vfs().map(|vfs| vfs.path_name(&root, &dir));
                root.release(ctx);
                dir.release(ctx);
                match name? {
                    Ok(path) | Err(PathNameError::Unreachable(path)) => Ok(path),
                    Err(PathNameError::Synthetic) => Err(Errno::ENOENT),
                }
            }
        }
    }

    fn getlink(&self, ctx: &dyn Context, _mount: &MountRef) -> Result<LinkTarget, Errno> {
        match self.kind {
            LinkKind::Fd(fd) => {
                let file = self.fd_file(fd)?;
                // A description with no path of its own (a pipe, a
                // socket) is reopened rather than its location opened.
                if file.imp().synthetic_name().is_some() {
                    return Ok(LinkTarget::File(file));
                }
                let vd = file.virtual_dentry();
                file.release(ctx);
                Ok(LinkTarget::Jump(vd))
            }
            LinkKind::Cwd | LinkKind::Root => {
                let (root, dir) = self.fs_dir(ctx)?;
                root.release(ctx);
                Ok(LinkTarget::Jump(dir))
            }
            _ => self.readlink(ctx).map(LinkTarget::Path),
        }
    }

    fn open(&self, _: &dyn Context, _: &VirtualDentry, _: OpenOptions) -> Result<FileRef, Errno> {
        Err(Errno::ELOOP)
    }
}

/// The path `/proc/PID/fd/N` reads as: the file's path from the process's
/// root, or its synthetic name (`pipe:[5]`).
fn file_path(proc: &Proc, tgid: i32, ctx: &dyn Context, file: &FileRef) -> Result<Vec<u8>, Errno> {
    if let Some(name) = file.imp().synthetic_name() {
        return Ok(name.into_bytes());
    }
    let process = proc.process(tgid).map_err(|_| Errno::ENOENT)?;
    let (root, cwd) = process.fs.root_and_cwd().map_err(|_| Errno::ENOENT)?;
    let vd = file.virtual_dentry();
    let mut name = match proc.vfs()?.path_name(&root, &vd) {
        Ok(path) => path,
        Err(PathNameError::Unreachable(path)) => path,
        Err(PathNameError::Synthetic) => format!("anon_inode:[{}]", file.id()).into_bytes(),
    };
    // Linux's d_path marks a file whose name is gone.
    if vd.dentry.vfs_dentry().is_dead() {
        name.extend_from_slice(b" (deleted)");
    }
    vd.release(ctx);
    root.release(ctx);
    cwd.release(ctx);
    Ok(name)
}

/// The state letter of `/proc/PID/stat`: `T` for a stopped group, `R`
/// otherwise (the sentry does not tell a sleeping task from a running
/// one).
fn state_letter(group: &crate::task::ThreadGroup) -> &'static str {
    if group.is_stopped() { "T" } else { "R" }
}

/// The `State:` line of `/proc/PID/status`.
fn state_name(group: &crate::task::ThreadGroup) -> &'static str {
    if group.is_stopped() {
        "T (stopped)"
    } else {
        "R (running)"
    }
}

/// Which generated file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Cpuinfo,
    Filesystems,
    Loadavg,
    Meminfo,
    Uptime,
    Cmdline,
    Comm,
    Environ,
    Auxv,
    Maps,
    MountInfo,
    Mounts,
    Stat,
    Statm,
    Status,
    SystemStat,
    /// The entry of [`SYSCTLS`] at this index.
    Sysctl(usize),
    /// `/proc/PID/cgroup`.
    Cgroup,
    /// `/proc/PID/fdinfo/N`.
    FdInfo(i32),
    /// `/proc/PID/uid_map` and `gid_map`.
    IdMap,
    /// `/proc/PID/limits`.
    Limits,
    /// `/proc/PID/oom_score`.
    OomScore,
    /// `/proc/PID/oom_score_adj`.
    OomScoreAdj,
    /// `/proc/PID/setgroups`.
    Setgroups,
    /// `/proc/sysvipc/shm`.
    SysvShm,
    /// `/proc/sysvipc/sem`.
    SysvSem,
    /// `/proc/sysvipc/msg`.
    SysvMsg,
    /// The file of `/proc/net` at this index of `procnet::FILES`.
    Net(usize),
    Version,
    /// `/proc/vmstat`.
    Vmstat,
    /// `/proc/swaps`.
    Swaps,
    /// `/proc/PID/loginuid` and `sessionid`: no audit login.
    AuditId,
    /// `/proc/PID/personality`.
    Personality,
    /// `/proc/PID/timerslack_ns`.
    TimerSlack,
    /// `/proc/PID/wchan`.
    Wchan,
    /// `/proc/PID/io`.
    Io,
    /// `/proc/PID/smaps`.
    Smaps,
    /// `/proc/PID/smaps_rollup`.
    SmapsRollup,
}

/// A generated file of `/proc` or `/proc/PID`.
struct ProcFile {
    proc: Arc<Proc>,
    kind: Kind,
    tgid: i32,
}

fn nul_joined(items: &[Vec<u8>], buf: &mut Vec<u8>) {
    for item in items {
        buf.extend_from_slice(item);
        buf.push(0);
    }
}

/// `/proc/meminfo`'s `"%-16s%8lu kB"` lines.
/// A line of `/proc/PID/maps` (and of the mapping headers of `smaps`).
fn maps_line(start: u64, vma: &crate::mm::Vma) -> String {
    let (dev, ino) = match &vma.backing {
        crate::mm::Backing::File(f) => (f.identity.device_id(), f.identity.inode_id()),
        _ => (0, 0),
    };
    let mut line = format!(
        "{start:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {ino}",
        vma.end,
        if vma.perms.read { 'r' } else { '-' },
        if vma.perms.write { 'w' } else { '-' },
        if vma.perms.execute { 'x' } else { '-' },
        if vma.is_shared() { 's' } else { 'p' },
        vma.file_offset(),
        abi_linux::dev_major(dev),
        abi_linux::dev_minor(dev),
    );
    if let Some(name) = &vma.name {
        // Linux pads the fixed fields to 72 columns and adds one blank
        // before the name.
        while line.len() < 72 {
            line.push(' ');
        }
        line.push(' ');
        line.push_str(name);
    } else {
        line.push(' ');
    }
    line.push('\n');
    line
}

/// The counters of one `smaps` entry for `size` bytes with present pages
/// `kinds` (see `MemoryManager::present_kinds`). Anonymous pages are
/// dirty, file pages clean; pages shared since a fork are "shared" and
/// counted whole in the PSS (the sentry does not count their sharers).
/// The `rollup` form (`smaps_rollup`) has no size lines and breaks the
/// PSS down.
fn smaps_counts(buf: &mut Vec<u8>, size: u64, kinds: [u64; 4], shared_mapping: bool, rollup: bool) {
    let kb = |pages: u64| pages * (PAGE_SIZE / 1024);
    let [anon, anon_cow, file, file_cow] = kinds;
    let rss = kb(anon + anon_cow + file + file_cow);
    let (shared_dirty, private_dirty) = if shared_mapping {
        (kb(anon + anon_cow), 0)
    } else {
        (kb(anon_cow), kb(anon))
    };
    let sizes = [
        ("Size", size / 1024),
        ("KernelPageSize", PAGE_SIZE / 1024),
        ("MMUPageSize", PAGE_SIZE / 1024),
    ];
    let pss = [
        ("Rss", rss),
        ("Pss", rss),
        ("Pss_Dirty", shared_dirty + private_dirty),
    ];
    let breakdown = [
        ("Pss_Anon", kb(anon + anon_cow)),
        ("Pss_File", kb(file + file_cow)),
        ("Pss_Shmem", 0),
    ];
    let rest = [
        ("Shared_Clean", kb(file_cow)),
        ("Shared_Dirty", shared_dirty),
        ("Private_Clean", kb(file)),
        ("Private_Dirty", private_dirty),
        ("Referenced", rss),
        (
            "Anonymous",
            if shared_mapping {
                0
            } else {
                kb(anon + anon_cow)
            },
        ),
        ("KSM", 0),
        ("LazyFree", 0),
        ("AnonHugePages", 0),
        ("ShmemPmdMapped", 0),
        ("FilePmdMapped", 0),
        ("Shared_Hugetlb", 0),
        ("Private_Hugetlb", 0),
        ("Swap", 0),
        ("SwapPss", 0),
        ("Locked", 0),
    ];
    let lines: Vec<(&str, u64)> = if rollup {
        pss.into_iter().chain(breakdown).chain(rest).collect()
    } else {
        sizes.into_iter().chain(pss).chain(rest).collect()
    };
    for (name, value) in lines {
        kb_line_wide(buf, name, value);
    }
}

/// A `smaps` line: the name padded to 16 columns, the value to 8.
fn kb_line_wide(buf: &mut Vec<u8>, name: &str, kb: u64) {
    buf.extend_from_slice(format!("{:<16}{kb:>8} kB\n", format!("{name}:")).as_bytes());
}

/// The `VmFlags` of a mapping: read, write, execute, shared, what it may
/// become (`mr mw me`, `ms` when shared), grows down for the stack, and
/// accountable for private writable memory.
fn vm_flags(vma: &crate::mm::Vma) -> String {
    let mut flags = Vec::new();
    for (on, name) in [
        (vma.perms.read, "rd"),
        (vma.perms.write, "wr"),
        (vma.perms.execute, "ex"),
        (vma.is_shared(), "sh"),
        (true, "mr"),
        (true, "mw"),
        (true, "me"),
        (vma.is_shared(), "ms"),
        (vma.name.as_deref() == Some("[stack]"), "gd"),
        (
            vma.is_data() || vma.name.as_deref() == Some("[stack]"),
            "ac",
        ),
    ] {
        if on {
            flags.push(name);
        }
    }
    format!("{} ", flags.join(" "))
}

fn kb_line(buf: &mut Vec<u8>, name: &str, kb: u64) {
    buf.extend_from_slice(format!("{:<16}{kb:>8} kB\n", format!("{name}:")).as_bytes());
}

/// The names and units of `/proc/PID/limits`, by resource number
/// (Linux's `lnames`).
const LIMIT_NAMES: [(&str, &str); abi_linux::RlimitResource::COUNT] = [
    ("Max cpu time", "seconds"),
    ("Max file size", "bytes"),
    ("Max data size", "bytes"),
    ("Max stack size", "bytes"),
    ("Max core file size", "bytes"),
    ("Max resident set", "bytes"),
    ("Max processes", "processes"),
    ("Max open files", "files"),
    ("Max locked memory", "bytes"),
    ("Max address space", "bytes"),
    ("Max file locks", "locks"),
    ("Max pending signals", "signals"),
    ("Max msgqueue size", "bytes"),
    ("Max nice priority", ""),
    ("Max realtime priority", ""),
    ("Max realtime timeout", "us"),
];

/// `/proc/PID/limits` in Linux's layout (`proc_pid_limits`).
fn limits(all: &[abi_linux::Rlimit], buf: &mut Vec<u8>) {
    let mut out = format!(
        "{:<25} {:<20} {:<20} {:<10}\n",
        "Limit", "Soft Limit", "Hard Limit", "Units"
    );
    let show = |v: u64| {
        if v == abi_linux::RLIM_INFINITY {
            "unlimited".to_string()
        } else {
            v.to_string()
        }
    };
    for ((name, unit), l) in LIMIT_NAMES.iter().zip(all) {
        out.push_str(&format!(
            "{name:<25} {:<20} {:<20} ",
            show(l.cur),
            show(l.max)
        ));
        if !unit.is_empty() {
            out.push_str(&format!("{unit:<10}"));
        }
        out.push('\n');
    }
    buf.extend_from_slice(out.as_bytes());
}

/// A write of `net/ipv4/ping_group_range`: two group IDs (Linux's
/// `ipv4_ping_group_range`: `EINVAL` for anything else or an invalid ID).
fn write_ping_group_range(
    inet: &InetStack,
    src: &mut dyn vfs_core::io::IoSource,
) -> Result<usize, Errno> {
    let len = src.remaining();
    let mut raw = vec![0u8; len.min(64)];
    let n = vfs_core::io::copy_in(src, &mut raw)?;
    let text = std::str::from_utf8(&raw[..n]).map_err(|_| Errno::EINVAL)?;
    let ids: Vec<u32> = text
        .split_whitespace()
        .map(|w| w.parse::<u32>().map_err(|_| Errno::EINVAL))
        .collect::<Result<_, _>>()?;
    let [low, high] = ids[..] else {
        return Err(Errno::EINVAL);
    };
    if low == u32::MAX || high == u32::MAX {
        return Err(Errno::EINVAL);
    }
    inet.set_ping_group_range(low, high);
    Ok(len)
}

/// A write of `/proc/PID/oom_score_adj` (Linux's
/// `oom_score_adj_write`): a number from -1000 to 1000 (`EINVAL`
/// otherwise), below the process's floor only with `CAP_SYS_RESOURCE`
/// (`EACCES`), which also moves the floor.
fn write_oom_score_adj(
    process: &ProcessInfo,
    ctx: &dyn Context,
    src: &mut dyn vfs_core::io::IoSource,
) -> Result<usize, Errno> {
    let len = src.remaining();
    // Linux reads at most 12 bytes (PROC_NUMBUF less one).
    let mut raw = vec![0u8; len.min(12)];
    let n = vfs_core::io::copy_in(src, &mut raw)?;
    let text = std::str::from_utf8(&raw[..n]).map_err(|_| Errno::EINVAL)?;
    let value: i32 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
    if !(-1000..=1000).contains(&value) {
        return Err(Errno::EINVAL);
    }
    let privileged = ctx
        .credentials()
        .has_capability(abi_linux::Capability::SYS_RESOURCE);
    let mut attrs = process.group.attrs();
    if value < attrs.oom_score_adj_min && !privileged {
        return Err(Errno::EACCES);
    }
    attrs.oom_score_adj = value;
    if privileged {
        attrs.oom_score_adj_min = value;
    }
    Ok(len)
}

impl BytesSource for ProcFile {
    fn generate(&self, ctx: &dyn Context, buf: &mut Vec<u8>) -> Result<(), Errno> {
        let proc = &self.proc;
        match self.kind {
            Kind::Cpuinfo => {
                let host =
                    std::fs::read("/proc/cpuinfo").map_err(|e| crate::kernel::host_errno(&e))?;
                buf.extend_from_slice(&host);
            }
            Kind::Filesystems => buf.extend_from_slice(proc.vfs()?.proc_filesystems().as_bytes()),
            Kind::SysvShm | Kind::SysvSem | Kind::SysvMsg => sysvipc(&proc.ipc, self.kind, buf),
            Kind::Net(i) => {
                let name = procnet::FILES.get(i).ok_or(Errno::ENOENT)?;
                let text = procnet::generate(&proc.inet, name).ok_or(Errno::ENOENT)?;
                buf.extend_from_slice(text.as_bytes());
            }
            Kind::Loadavg => {
                let pids = proc.tasks.pids();
                let last = pids.last().copied().unwrap_or(0);
                buf.extend_from_slice(
                    format!("0.00 0.00 0.00 1/{} {last}\n", pids.len()).as_bytes(),
                );
            }
            Kind::Meminfo => {
                let total = TOTAL_RAM / 1024;
                let free = TOTAL_RAM.saturating_sub(proc.tasks.memory_used()) / 1024;
                kb_line(buf, "MemTotal", total);
                kb_line(buf, "MemFree", free);
                kb_line(buf, "MemAvailable", free);
                for name in ["Buffers", "Cached", "SwapCached", "SwapTotal", "SwapFree"] {
                    kb_line(buf, name, 0);
                }
            }
            Kind::Vmstat => {
                // The counters the sandbox keeps: free and used memory in
                // pages; it never pages, swaps or reads ahead.
                let used = proc.tasks.memory_used() / PAGE_SIZE;
                let free = TOTAL_RAM / PAGE_SIZE - used.min(TOTAL_RAM / PAGE_SIZE);
                let mut text = format!("nr_free_pages {free}\nnr_anon_pages {used}\n");
                for name in [
                    "nr_file_pages",
                    "nr_dirty",
                    "nr_writeback",
                    "pgpgin",
                    "pgpgout",
                    "pswpin",
                    "pswpout",
                    "pgmajfault",
                ] {
                    text += &format!("{name} 0\n");
                }
                buf.extend_from_slice(text.as_bytes());
            }
            Kind::Swaps => {
                buf.extend_from_slice(b"Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
            }
            Kind::Uptime => {
                let up = proc.boot.elapsed().as_secs_f64();
                buf.extend_from_slice(format!("{up:.2} 0.00\n").as_bytes());
            }
            Kind::SystemStat => {
                // The sandbox's CPU time in ticks, over its CPUs: the
                // processes' user and system time, the rest idle.
                let ticks = |ns: u64| ns * USER_HZ as u64 / 1_000_000_000;
                let (mut user, mut system) = (0u64, 0u64);
                for pid in proc.tasks.pids() {
                    if let Ok(p) = proc.process(pid) {
                        let u = p.group.self_usage();
                        user += ticks(u.user_ns);
                        system += ticks(u.sys_ns);
                    }
                }
                let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
                let up = proc.boot.elapsed();
                let idle = ticks(up.as_nanos() as u64 * cpus).saturating_sub(user + system);
                let mut text = format!("cpu  {user} 0 {system} {idle} 0 0 0 0 0 0\n");
                for cpu in 0..cpus {
                    text += &format!(
                        "cpu{cpu} {} 0 {} {} 0 0 0 0 0 0\n",
                        user / cpus,
                        system / cpus,
                        idle / cpus
                    );
                }
                let boot = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |now| now.saturating_sub(up).as_secs());
                let pids = proc.tasks.pids();
                text += &format!(
                    "intr 0\nctxt 0\nbtime {boot}\nprocesses {}\nprocs_running 1\n\
                     procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
                    pids.last().copied().unwrap_or(0)
                );
                buf.extend_from_slice(text.as_bytes());
            }
            Kind::Sysctl(i) => {
                let value = sysctl_value(proc, SYSCTLS.get(i).ok_or(Errno::ENOENT)?);
                buf.extend_from_slice(value.as_bytes());
                buf.push(b'\n');
            }
            Kind::Version => {
                // What uname(2) reports, in Linux's /proc/version form.
                let u = proc.uts.utsname();
                let field = |f: &[u8]| {
                    let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
                    String::from_utf8_lossy(&f[..end]).into_owned()
                };
                buf.extend_from_slice(
                    format!(
                        "{} version {} (sentry@gvisor) {}\n",
                        field(&u.sysname),
                        field(&u.release),
                        field(&u.version)
                    )
                    .as_bytes(),
                );
            }
            _ => {
                let process = proc.process(self.tgid)?;
                self.generate_process(ctx, &process, buf)?;
            }
        }
        Ok(())
    }

    fn write(
        &self,
        ctx: &dyn Context,
        src: &mut dyn vfs_core::io::IoSource,
        _offset: u64,
    ) -> Result<usize, Errno> {
        match self.kind {
            Kind::OomScoreAdj => {
                let process = self.proc.process(self.tgid)?;
                write_oom_score_adj(&process, ctx, src)
            }
            Kind::Sysctl(i) if SYSCTLS.get(i) == Some(&WRITABLE_SYSCTL) => {
                write_ping_group_range(&self.proc.inet, src)
            }
            _ => Err(Errno::EIO),
        }
    }
}

impl ProcFile {
    fn generate_process(
        &self,
        ctx: &dyn Context,
        process: &ProcessInfo,
        buf: &mut Vec<u8>,
    ) -> Result<(), Errno> {
        match self.kind {
            Kind::Cmdline => nul_joined(&process.argv, buf),
            Kind::Environ => nul_joined(&process.envp, buf),
            Kind::Auxv => {
                for &(k, v) in &process.auxv {
                    buf.extend_from_slice(&k.to_ne_bytes());
                    buf.extend_from_slice(&v.to_ne_bytes());
                }
            }
            Kind::Comm => {
                buf.extend_from_slice(&process.comm());
                buf.push(b'\n');
            }
            Kind::Maps => {
                for (start, vma) in process.mm.vmas() {
                    buf.extend_from_slice(maps_line(start, &vma).as_bytes());
                }
            }
            Kind::Smaps => {
                for (start, vma) in process.mm.vmas() {
                    buf.extend_from_slice(maps_line(start, &vma).as_bytes());
                    let kinds = process.mm.present_kinds(start, vma.end);
                    smaps_counts(buf, vma.end - start, kinds, vma.is_shared(), false);
                    let flags = vm_flags(&vma);
                    buf.extend_from_slice(
                        format!("THPeligible:    {:>8}\nVmFlags: {flags}\n", 0).as_bytes(),
                    );
                }
            }
            Kind::SmapsRollup => {
                let vmas = process.mm.vmas();
                let (first, last) = (
                    vmas.first().map_or(0, |(s, _)| *s),
                    vmas.last().map_or(0, |(_, v)| v.end),
                );
                let mut kinds = [0u64; 4];
                let mut size = 0;
                for (start, vma) in &vmas {
                    size += vma.end - start;
                    for (k, n) in kinds
                        .iter_mut()
                        .zip(process.mm.present_kinds(*start, vma.end))
                    {
                        *k += n;
                    }
                }
                let head = format!("{first:08x}-{last:08x} ---p 00000000 00:00 0");
                buf.extend_from_slice(format!("{head:<72} [rollup]\n").as_bytes());
                smaps_counts(buf, size, kinds, false, true);
            }
            Kind::Mounts | Kind::MountInfo => {
                let (root, cwd) = process.fs.root_and_cwd().map_err(|_| Errno::ESRCH)?;
                let text = self.proc.vfs().map(|vfs| match self.kind {
                    Kind::Mounts => vfs.proc_mounts(ctx, &root),
                    _ => vfs.proc_mountinfo(ctx, &root),
                });
                root.release(ctx);
                cwd.release(ctx);
                buf.extend_from_slice(text?.as_bytes());
            }
            Kind::Stat => {
                let vsize: u64 = process.mm.vmas().iter().map(|(s, v)| v.end - s).sum();
                let rss = process.mm.present_pages();
                let start = process.start.saturating_duration_since(self.proc.boot);
                let start_ticks = start.as_millis() * USER_HZ / 1000;
                let tgid = process.tgid;
                let comm = String::from_utf8_lossy(&process.comm()).into_owned();
                // Fields 1-7, then 8-52 (Linux's `do_task_stat`).
                let tasks = &self.proc.tasks;
                let mut fields: Vec<String> = vec![
                    tgid.to_string(),
                    format!("({comm})"),
                    state_letter(&process.group).into(),
                    tasks.ppid(process.tgid).to_string(),
                    tasks.pgid(tgid).unwrap_or(tgid).to_string(),
                    tasks.sid(tgid).unwrap_or(tgid).to_string(),
                    "0".into(),
                ];
                // Fields 8-52, by number (Linux's `do_task_stat`).
                let ticks = |ns: u64| u128::from(ns) * USER_HZ / 1_000_000_000;
                let own = process.group.self_usage();
                let children = process.group.children_usage();
                let nice = process.group.attrs().nice;
                let mut rest = [0u128; 45];
                let mut set = |field: usize, value: u128| rest[field - 8] = value;
                set(14, ticks(own.user_ns));
                set(15, ticks(own.sys_ns));
                set(16, ticks(children.user_ns));
                set(17, ticks(children.sys_ns));
                // The priority as Linux shows a normal task's: 20 + nice.
                set(18, (20 + nice).max(0) as u128);
                set(20, process.group.thread_count() as u128);
                set(22, start_ticks);
                set(23, u128::from(vsize));
                set(24, rss as u128);
                set(25, u128::from(u64::MAX));
                set(38, 17);
                fields.extend(rest.iter().map(u128::to_string));
                // Field 19, nice, is signed.
                fields[18] = nice.to_string();
                buf.extend_from_slice(fields.join(" ").as_bytes());
                buf.push(b'\n');
            }
            // The initial user namespace maps every ID to itself.
            Kind::IdMap => {
                buf.extend_from_slice(format!("{:>10} {:>10} {:>10}\n", 0, 0, u32::MAX).as_bytes())
            }
            Kind::Setgroups => buf.extend_from_slice(b"allow\n"),
            // One cgroup v2 hierarchy, with the sandbox at its root.
            Kind::Cgroup => buf.extend_from_slice(b"0::/\n"),
            Kind::Limits => limits(&process.group.limits().all(), buf),
            Kind::FdInfo(fd) => {
                let entry = process.fds.entry(fd).map_err(|_| Errno::ENOENT)?;
                let file = &entry.file;
                // Files that cannot seek (pipes, sockets) show offset 0.
                let pos = file.seek(ctx, 0, abi_linux::Whence::Cur).unwrap_or(0);
                let mut flags = file.status_flags().bits();
                if entry.cloexec {
                    flags |= abi_linux::OpenFlags::CLOEXEC.bits();
                }
                let ino = file
                    .stat(ctx, vfs_core::StatOptions::default())
                    .map_or(0, |st| st.stx_ino);
                let text = format!(
                    "pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{}\nino:\t{ino}\n",
                    file.mount().id()
                );
                entry.file.release(ctx);
                buf.extend_from_slice(text.as_bytes());
            }
            Kind::OomScoreAdj => {
                let adj = process.group.attrs().oom_score_adj;
                buf.extend_from_slice(format!("{adj}\n").as_bytes());
            }
            // The sandbox never kills for memory: every process scores
            // its adjustment's floor.
            Kind::AuditId => buf.extend_from_slice(b"4294967295"),
            Kind::Io => {
                let [rchar, wchar, syscr, syscw] = process.group.io().counts();
                // Storage traffic is not tracked: the sandbox's files are
                // in memory or behind a gofer, whose disk I/O is the host's.
                let text = format!(
                    "rchar: {rchar}\nwchar: {wchar}\nsyscr: {syscr}\nsyscw: {syscw}\n\
                     read_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n"
                );
                buf.extend_from_slice(text.as_bytes());
            }
            Kind::Personality => {
                let p = process.group.attrs().personality;
                buf.extend_from_slice(format!("{p:08x}\n").as_bytes());
            }
            Kind::TimerSlack => {
                let slack = process.group.attrs().timer_slack;
                buf.extend_from_slice(format!("{slack}\n").as_bytes());
            }
            // Where a sleeping task waits is a kernel symbol the sandbox
            // does not expose; Linux shows 0 without kallsyms access too.
            Kind::Wchan => buf.push(b'0'),
            Kind::OomScore => {
                let adj = process.group.attrs().oom_score_adj;
                buf.extend_from_slice(format!("{}\n", adj.max(0)).as_bytes());
            }
            Kind::Statm => {
                // Pages: size, resident, shared, text, lib, data, dirty.
                let size: u64 = process.mm.vmas().iter().map(|(s, v)| v.end - s).sum();
                let rss = process.mm.present_pages();
                buf.extend_from_slice(format!("{} {rss} 0 0 0 0 0\n", size / PAGE_SIZE).as_bytes());
            }
            Kind::Status => {
                let vsize: u64 = process.mm.vmas().iter().map(|(s, v)| v.end - s).sum();
                let rss = process.mm.present_pages() as u64 * PAGE_SIZE;
                let comm = String::from_utf8_lossy(&process.comm()).into_owned();
                let c = process.group.credentials();
                let ids = |r: u32, e: u32, s: u32, f: u32| format!("{r}\t{e}\t{s}\t{f}");
                // Linux's trailing space, even with no groups.
                let groups: Vec<String> = c.extra_gids.iter().map(u32::to_string).collect();
                let groups = format!("{} ", groups.join(" "));
                let seccomp = process
                    .group
                    .thread_switch(process.tgid)
                    .and_then(|k| k.seccomp())
                    .unwrap_or_default();
                let caps = format!(
                    "CapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\n\
                     CapAmb:\t{:016x}\nNoNewPrivs:\t{}\nSeccomp:\t{}\nSeccomp_filters:\t{}\n",
                    c.inheritable_caps.bits(),
                    c.permitted_caps.bits(),
                    c.effective_caps.bits(),
                    c.bounding_caps.bits(),
                    c.ambient_caps.bits(),
                    u8::from(process.group.attrs().no_new_privs),
                    seccomp.number(),
                    seccomp.filters(),
                );
                let text = format!(
                    "Name:\t{comm}\nUmask:\t{:04o}\nState:\t{}\nTgid:\t{tgid}\n\
                     Ngid:\t0\nPid:\t{tgid}\nPPid:\t{}\nTracerPid:\t0\nUid:\t{}\n\
                     Gid:\t{}\nFDSize:\t{}\nGroups:\t{groups}\nVmSize:\t{:>8} kB\n\
                     VmRSS:\t{:>8} kB\nThreads:\t{}\n{caps}",
                    process.fs.umask(),
                    state_name(&process.group),
                    self.proc.tasks.ppid(process.tgid),
                    ids(c.real_uid, c.effective_uid, c.saved_uid, c.fs_uid),
                    ids(c.real_gid, c.effective_gid, c.saved_gid, c.fs_gid),
                    // Linux's table grows in steps of 64 slots.
                    (process.fds.fds().last().map_or(0, |&fd| fd + 1) as usize)
                        .div_ceil(64)
                        .max(1)
                        * 64,
                    vsize / 1024,
                    rss / 1024,
                    process.group.thread_count(),
                    tgid = process.tgid,
                );
                buf.extend_from_slice(text.as_bytes());
            }
            _ => return Err(Errno::EIO),
        }
        Ok(())
    }
}
