//! System V IPC calls (gVisor's `sys_shm.go`, `sys_sem.go`,
//! `sys_msgqueue.go`): argument decoding, copies and waits; the objects
//! are [`crate::ipc`]'s.

use std::sync::Arc;
use std::time::Instant;

use abi_linux::ipc::*;
use abi_linux::syscalls::x86_64 as nr;
use abi_linux::{Errno, OpenFlags};
use vfs_core::FileRef;
use vfs_core::waiter::Waiter;
use vfs_core::waiter::{READABLE_EVENTS, WRITABLE_EVENTS};
use zerocopy::{FromBytes, IntoBytes};

use super::time::{deadline_after, read_timespec, time_until};
use super::{Fd, SysResult, SyscallTable, UserAddr};
use crate::ipc::Caller;
use crate::ipc::mqueue;
use crate::ipc::msg::Selector;
use crate::ipc::sem::{Attempt, MAX_OPS};
use crate::ipc::shm::{self, Memory};
use crate::mm::FileMapping;
use crate::task::Task;
use crate::wait::{TaskWaker, interrupted};

pub(super) fn register(table: &mut SyscallTable) {
    table.typed(nr::SHMGET, sys_shmget);
    table.typed(nr::SHMAT, sys_shmat);
    table.typed(nr::SHMDT, sys_shmdt);
    table.typed(nr::SHMCTL, sys_shmctl);
    table.typed(nr::SEMGET, sys_semget);
    table.typed(nr::SEMOP, sys_semop);
    table.typed(nr::SEMTIMEDOP, sys_semtimedop);
    table.typed(nr::SEMCTL, sys_semctl);
    table.typed(nr::MSGGET, sys_msgget);
    table.typed(nr::MSGSND, sys_msgsnd);
    table.typed(nr::MSGRCV, sys_msgrcv);
    table.typed(nr::MSGCTL, sys_msgctl);
    table.typed(nr::MQ_OPEN, sys_mq_open);
    table.typed(nr::MQ_UNLINK, sys_mq_unlink);
    table.typed(nr::MQ_TIMEDSEND, sys_mq_timedsend);
    table.typed(nr::MQ_TIMEDRECEIVE, sys_mq_timedreceive);
    table.typed(nr::MQ_NOTIFY, sys_mq_notify);
    table.typed(nr::MQ_GETSETATTR, sys_mq_getsetattr);
    table.partial(
        nr::MQ_NOTIFY,
        "SIGEV_THREAD needs a netlink socket, which the sandbox lacks (EBADF, ENOTSOCK or \
         EINVAL for the descriptor given); closing the descriptor does not drop the \
         caller's registration",
    );
    table.partial(
        nr::MQ_OPEN,
        "queues live in the sandbox's one IPC namespace; no mqueue filesystem can be \
         mounted to list them",
    );
    table.partial(
        nr::SHMGET,
        "SHM_HUGETLB and SHM_NORESERVE are accepted and change nothing (segments are \
         memfs files of small pages)",
    );
    table.partial(
        nr::SHMCTL,
        "shm_lpid is updated by shmat and shmdt, not by the detaches of exit and exec; \
         SHM_LOCK only sets SHM_LOCKED (the sentry never swaps)",
    );
    table.partial(
        nr::SEMOP,
        "SEM_UNDO adjustments belong to the process: threads share them whether or not \
         they were made with CLONE_SYSVSEM",
    );
}

/// The calling task as a blocking IPC call's caller.
fn caller<'a>(t: &'a Task, waiter: &'a Arc<dyn Waiter>, retry: bool) -> Caller<'a> {
    Caller {
        creds: &t.ctx.credentials,
        tgid: t.tgid,
        waiter,
        retry,
    }
}

/// Waits on `waker` for a change to an IPC object: `EINTR` when a signal
/// interrupts (these calls are never restarted, as on Linux), `EAGAIN`
/// when `deadline` passes.
fn wait_change(waker: &TaskWaker, deadline: Option<Instant>) -> Result<(), Errno> {
    if interrupted() {
        return Err(Errno::EINTR);
    }
    if !waker.wait(deadline) {
        if interrupted() {
            return Err(Errno::EINTR);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Errno::EAGAIN);
        }
    }
    Ok(())
}

fn copy_out<T: IntoBytes + zerocopy::Immutable>(
    t: &Task,
    addr: UserAddr,
    v: &T,
) -> Result<(), Errno> {
    t.mm.write_obj(addr.get(), v).map_err(|_| Errno::EFAULT)
}

fn copy_in<T: FromBytes + IntoBytes>(t: &Task, addr: UserAddr) -> Result<T, Errno> {
    t.mm.read_obj(addr.get()).map_err(|_| Errno::EFAULT)
}

// ---- shared memory ----------------------------------------------------

/// Makes the memory of a new segment of `size` bytes: an unlinked memfs
/// file on the anonymous mount, `SYSV<key>` as Linux names it.
fn segment_memory(t: &Task, key: i32, size: u64) -> Result<Memory, Errno> {
    let name = format!("SYSV{key:08x}").into_bytes();
    let file = super::fs::unlinked_anon_file(t, name, 0o600)?;
    let result = (|| {
        let fd = file
            .downcast::<kernfs::memfs::RegularFileFd>()
            .ok_or(Errno::ENOMEM)?;
        let memory = fd.inode().clone();
        memory.truncate(&t.ctx, size)?;
        let stat = file.stat(&t.ctx, vfs_core::StatOptions::default())?;
        Ok(Memory {
            file: memory,
            dev: abi_linux::make_dev(stat.stx_dev_major, stat.stx_dev_minor),
            ino: stat.stx_ino,
        })
    })();
    file.release(&t.ctx);
    result
}

fn sys_shmget(t: &mut Task, key: i32, size: u64, flags: i32) -> SysResult {
    let memory = (shm::Segments::may_create(key, flags) && shm::valid_size(size))
        .then(|| segment_memory(t, key, size));
    let creds = &t.ctx.credentials;
    let id = t
        .kernel
        .ipc
        .shm
        .get(key, size, flags, creds, t.tgid, memory)?;
    Ok(id as u64)
}

fn sys_shmat(t: &mut Task, id: i32, addr: UserAddr, flags: i32) -> SysResult {
    let mut addr = addr.get();
    if !addr.is_multiple_of(SHMLBA) {
        if flags & SHM_RND == 0 {
            return Err(Errno::EINVAL);
        }
        addr &= !(SHMLBA - 1);
        if addr == 0 && flags & SHM_REMAP != 0 {
            return Err(Errno::EINVAL);
        }
    }
    let read_only = flags & SHM_RDONLY != 0;
    let exec = flags & SHM_EXEC != 0;
    let want = if read_only { 0o444 } else { 0o666 } | if exec { 0o111 } else { 0 };
    let attach = t
        .kernel
        .ipc
        .shm
        .attach(id, &t.ctx.credentials, want, t.tgid)?;
    let len = attach.size.next_multiple_of(crate::elf::PAGE_SIZE);
    if addr != 0 && flags & SHM_REMAP == 0 {
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if t.mm.vmas().iter().any(|(s, v)| *s < end && v.end > addr) {
            return Err(Errno::EINVAL);
        }
    }
    let perms = platform::Access {
        read: true,
        write: !read_only,
        execute: exec,
    };
    let mapping = FileMapping {
        mappable: attach.mappable,
        identity: attach.identity,
        offset: 0,
        private: false,
        max_perms: platform::Access {
            read: true,
            write: !read_only,
            execute: true,
        },
    };
    let name = format!("/SYSV{:08x} (deleted)", attach.key);
    t.mm.map_file(addr, len, perms, addr != 0, mapping, Some(name))
}

fn sys_shmdt(t: &mut Task, addr: UserAddr) -> SysResult {
    let addr = addr.get();
    if !addr.is_multiple_of(crate::elf::PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let vmas = t.mm.vmas();
    let segment = vmas.iter().find_map(|(start, v)| match &v.backing {
        crate::mm::Backing::File(f) if *start == addr && f.offset == 0 => t
            .kernel
            .ipc
            .shm
            .attached_by(&f.mappable)
            .map(|seg| (seg, f.mappable.clone())),
        _ => None,
    });
    let Some(((id, size), mappable)) = segment else {
        return Err(Errno::EINVAL);
    };
    // Every piece of this attach: the segment's mappings from `addr` on
    // whose offset is their distance from `addr`.
    let end = addr.saturating_add(size.next_multiple_of(crate::elf::PAGE_SIZE));
    for (start, v) in &vmas {
        if let crate::mm::Backing::File(f) = &v.backing
            && *start >= addr
            && *start < end
            && Arc::ptr_eq(&f.mappable, &mappable)
            && f.offset == start - addr
        {
            t.mm.unmap(*start, v.end.min(end) - start)?;
        }
    }
    t.kernel.ipc.shm.detached(id, t.tgid);
    Ok(0)
}

fn sys_shmctl(t: &mut Task, id: i32, cmd: i32, buf: UserAddr) -> SysResult {
    if id < 0 || cmd < 0 {
        return Err(Errno::EINVAL);
    }
    let shm = &t.kernel.ipc.shm;
    let creds = &t.ctx.credentials;
    match cmd {
        IPC_INFO => {
            let (params, max) = shm.params();
            copy_out(t, buf, &params)?;
            Ok(max)
        }
        SHM_INFO => {
            let (info, max) = shm.usage();
            copy_out(t, buf, &info)?;
            Ok(max)
        }
        IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
            let (full_id, ds) = shm.stat(id, cmd != IPC_STAT, cmd != SHM_STAT_ANY, creds)?;
            copy_out(t, buf, &ds)?;
            Ok(if cmd == IPC_STAT { 0 } else { full_id as u64 })
        }
        IPC_SET => {
            let ds: ShmidDs = copy_in(t, buf)?;
            shm.set(id, &ds, creds).map(|()| 0)
        }
        IPC_RMID => shm.remove(id, creds).map(|()| 0),
        SHM_LOCK | SHM_UNLOCK => {
            let limit = t.ctx.limits.cur(abi_linux::RlimitResource::MEMLOCK);
            shm.set_locked(id, cmd == SHM_LOCK, creds, limit)
                .map(|()| 0)
        }
        _ => Err(Errno::EINVAL),
    }
}

// ---- semaphores -------------------------------------------------------

fn sys_semget(t: &mut Task, key: i32, nsems: i32, flags: i32) -> SysResult {
    let id = t
        .kernel
        .ipc
        .sem
        .get(key, nsems, flags, &t.ctx.credentials)?;
    Ok(id as u64)
}

fn sys_semop(t: &mut Task, id: i32, ops: UserAddr, nops: u32) -> SysResult {
    semtimedop(t, id, ops, nops, None)
}

fn sys_semtimedop(t: &mut Task, id: i32, ops: UserAddr, nops: u32, timeout: UserAddr) -> SysResult {
    semtimedop(t, id, ops, nops, Some(timeout).filter(|a| !a.is_null()))
}

fn semtimedop(
    t: &mut Task,
    id: i32,
    ops_addr: UserAddr,
    nops: u32,
    timeout: Option<UserAddr>,
) -> SysResult {
    if nops < 1 || id < 0 {
        return Err(Errno::EINVAL);
    }
    let nops = nops as usize;
    if nops > MAX_OPS {
        return Err(Errno::E2BIG);
    }
    let mut bytes = vec![0u8; nops * size_of::<SemBuf>()];
    t.mm.copy_in_exact(ops_addr.get(), &mut bytes)
        .map_err(|_| Errno::EFAULT)?;
    let ops: Vec<SemBuf> = bytes
        .chunks_exact(size_of::<SemBuf>())
        .filter_map(|c| SemBuf::read_from_bytes(c).ok())
        .collect();
    let deadline = match timeout {
        Some(addr) => Some(deadline_after(read_timespec(t, addr)?)),
        None => None,
    };
    let sem = &t.kernel.ipc.sem;
    let waker = TaskWaker::new();
    let waiter: Arc<dyn Waiter> = waker.clone();
    let mut retry = false;
    loop {
        let caller = caller(t, &waiter, retry);
        match sem.attempt(id, &ops, &caller)? {
            Attempt::Done => return Ok(0),
            Attempt::Blocked(blocked) => {
                let waited = wait_change(&waker, deadline);
                sem.stop_waiting(id, blocked);
                waited?;
                retry = true;
            }
        }
    }
}

fn sys_semctl(t: &mut Task, id: i32, num: i32, cmd: i32, arg: u64) -> SysResult {
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    let sem = &t.kernel.ipc.sem;
    let creds = &t.ctx.credentials;
    let buf = UserAddr(arg);
    match cmd {
        IPC_INFO | SEM_INFO => {
            let (info, max) = sem.info(cmd == SEM_INFO);
            copy_out(t, buf, &info)?;
            Ok(max)
        }
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            let (full_id, ds) = sem.stat(id, cmd != IPC_STAT, cmd != SEM_STAT_ANY, creds)?;
            copy_out(t, buf, &ds)?;
            Ok(if cmd == IPC_STAT { 0 } else { full_id as u64 })
        }
        GETVAL | GETPID | GETNCNT | GETZCNT => sem.get_one(id, num, cmd, creds),
        GETALL => {
            let values = sem.get_all(id, creds)?;
            t.mm.copy_out_exact(buf.get(), values.as_bytes())
                .map_err(|_| Errno::EFAULT)?;
            Ok(0)
        }
        SETVAL => {
            // The union's `int val`: the register's low 32 bits.
            let value = arg as u32 as i32;
            sem.set_values(id, Some(num), &[value], creds, t.tgid)
                .map(|()| 0)
        }
        SETALL => {
            let len = sem.len(id, creds)?;
            let mut values = vec![0u16; len];
            t.mm.copy_in_exact(buf.get(), values.as_mut_bytes())
                .map_err(|_| Errno::EFAULT)?;
            let values: Vec<i32> = values.into_iter().map(i32::from).collect();
            sem.set_values(id, None, &values, creds, t.tgid).map(|()| 0)
        }
        IPC_SET => {
            let ds: SemidDs = copy_in(t, buf)?;
            sem.set(id, &ds, creds).map(|()| 0)
        }
        IPC_RMID => sem.remove(id, creds).map(|()| 0),
        _ => Err(Errno::EINVAL),
    }
}

// ---- message queues ---------------------------------------------------

fn sys_msgget(t: &mut Task, key: i32, flags: i32) -> SysResult {
    let id = t.kernel.ipc.msg.get(key, flags, &t.ctx.credentials)?;
    Ok(id as u64)
}

fn sys_msgsnd(t: &mut Task, id: i32, msgp: UserAddr, size: u64, flags: i32) -> SysResult {
    let mtype: i64 = copy_in(t, msgp)?;
    if size > MSGMAX as u64 || id < 0 || mtype < 1 {
        return Err(Errno::EINVAL);
    }
    let mut text = vec![0u8; size as usize];
    t.mm.copy_in_exact(msgp.get().wrapping_add(8), &mut text)
        .map_err(|_| Errno::EFAULT)?;
    let msg = &t.kernel.ipc.msg;
    let waker = TaskWaker::new();
    let waiter: Arc<dyn Waiter> = waker.clone();
    let nowait = flags & IPC_NOWAIT != 0;
    let mut retry = false;
    loop {
        let caller = caller(t, &waiter, retry);
        match msg.send(id, mtype, &text, nowait, &caller)? {
            None => return Ok(0),
            Some(blocked) => {
                let waited = wait_change(&waker, None);
                blocked.stop();
                waited?;
                retry = true;
            }
        }
    }
}

fn sys_msgrcv(
    t: &mut Task,
    id: i32,
    msgp: UserAddr,
    size: u64,
    msgtyp: i64,
    flags: i32,
) -> SysResult {
    if id < 0 || (size as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let which = if flags & MSG_COPY != 0 {
        if flags & MSG_EXCEPT != 0 || flags & IPC_NOWAIT == 0 {
            return Err(Errno::EINVAL);
        }
        Selector::Copy(msgtyp)
    } else if msgtyp == 0 {
        Selector::First
    } else if msgtyp < 0 {
        Selector::AtMost(msgtyp.checked_neg().unwrap_or(i64::MAX))
    } else if flags & MSG_EXCEPT != 0 {
        Selector::Except(msgtyp)
    } else {
        Selector::Type(msgtyp)
    };
    // Every message is at most MSGMAX bytes long.
    let max = size.min(MSGMAX as u64) as usize;
    let msg = &t.kernel.ipc.msg;
    let waker = TaskWaker::new();
    let waiter: Arc<dyn Waiter> = waker.clone();
    let truncate = flags & MSG_NOERROR != 0;
    let nowait = flags & IPC_NOWAIT != 0;
    let mut retry = false;
    let (mtype, text) = loop {
        let caller = caller(t, &waiter, retry);
        match msg.receive(id, which, (max, truncate), nowait, &caller)? {
            Ok(received) => break received,
            Err(blocked) => {
                let waited = wait_change(&waker, None);
                blocked.stop();
                waited?;
                retry = true;
            }
        }
    };
    // Linux has taken the message by now: a fault loses it.
    t.mm.write_obj(msgp.get(), &mtype)
        .map_err(|_| Errno::EFAULT)?;
    t.mm.copy_out_exact(msgp.get().wrapping_add(8), &text)
        .map_err(|_| Errno::EFAULT)?;
    Ok(text.len() as u64)
}

fn sys_msgctl(t: &mut Task, id: i32, cmd: i32, buf: UserAddr) -> SysResult {
    if id < 0 || cmd < 0 {
        return Err(Errno::EINVAL);
    }
    let msg = &t.kernel.ipc.msg;
    let creds = &t.ctx.credentials;
    match cmd {
        IPC_INFO | MSG_INFO => {
            let (info, max) = msg.info(cmd == MSG_INFO);
            copy_out(t, buf, &info)?;
            Ok(max)
        }
        IPC_STAT | MSG_STAT | MSG_STAT_ANY => {
            let (full_id, ds) = msg.stat(id, cmd != IPC_STAT, cmd != MSG_STAT_ANY, creds)?;
            copy_out(t, buf, &ds)?;
            Ok(if cmd == IPC_STAT { 0 } else { full_id as u64 })
        }
        IPC_SET => {
            let ds: MsqidDs = copy_in(t, buf)?;
            msg.set(id, &ds, creds).map(|()| 0)
        }
        IPC_RMID => msg.remove(id, creds).map(|()| 0),
        _ => Err(Errno::EINVAL),
    }
}

// ---- POSIX message queues ----------------------------------------------

fn mq_name(t: &Task, name: UserAddr) -> Result<Vec<u8>, Errno> {
    let name = t.mm.copy_in_string(name.get(), abi_linux::PATH_MAX)?;
    mqueue::check_name(&name)?;
    Ok(name)
}

fn sys_mq_open(
    t: &mut Task,
    name: UserAddr,
    flags: OpenFlags,
    mode: u32,
    attr: UserAddr,
) -> SysResult {
    let attr: Option<MqAttr> = if attr.is_null() {
        None
    } else {
        Some(copy_in(t, attr)?)
    };
    let name = mq_name(t, name)?;
    let request = mqueue::OpenRequest {
        name: &name,
        flags,
        mode: mode & !t.fs.umask(),
        attr: attr.filter(|_| flags.contains(OpenFlags::CREAT)),
        creds: &t.ctx.credentials,
        limit: t.ctx.limits.cur(abi_linux::RlimitResource::MSGQUEUE),
    };
    let queue = t.kernel.ipc.mq.open(&request)?;
    let access = OpenFlags::from_bits_retain(flags.bits() & 0o3);
    let mount = &t.kernel.anon_mount;
    let root = mount.root_ref();
    let file = vfs_core::FileDescription::new(
        access | (flags & OpenFlags::NONBLOCK),
        mount,
        &root,
        vfs_core::FileDescriptionOptions {
            allow_direct_io: false,
            deny_pread: false,
            deny_pwrite: false,
        },
        Box::new(mqueue::MqFile::new(queue)),
    );
    drop(root);
    let cloexec = flags.contains(OpenFlags::CLOEXEC);
    t.fds
        .add(file, cloexec, 0, t.fd_limit())
        .map(|fd| fd as u64)
}

fn sys_mq_unlink(t: &mut Task, name: UserAddr) -> SysResult {
    let name = mq_name(t, name)?;
    t.kernel
        .ipc
        .mq
        .unlink(&name, &t.ctx.credentials)
        .map(|()| 0)
}

/// Reads an absolute `CLOCK_REALTIME` timeout (`EINVAL` if malformed)
/// as the instant it falls at.
fn abs_timeout(t: &Task, addr: UserAddr) -> Result<Option<Instant>, Errno> {
    if addr.is_null() {
        return Ok(None);
    }
    let ts: abi_linux::Timespec = copy_in(t, addr)?;
    if ts.tv_sec < 0 || !ts.is_valid() {
        return Err(Errno::EINVAL);
    }
    let at = std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    let left = time_until(at, abi_linux::ClockId::REALTIME)?;
    Ok(Some(deadline_after(left)))
}

/// The queue of descriptor `fd`, with its description; `EBADF` if it is
/// not a queue or not open for `write` (else reading).
fn mq_file(t: &Task, fd: i32, write: bool) -> Result<(FileRef, Arc<mqueue::MQueue>), Errno> {
    let file = t.fds.get(fd)?;
    let queue = file.downcast::<mqueue::MqFile>().map(|m| m.queue().clone());
    let allowed = if write {
        file.is_writable()
    } else {
        file.is_readable()
    };
    match queue {
        Some(q) if allowed => Ok((file, q)),
        _ => {
            file.release(&t.ctx);
            Err(Errno::EBADF)
        }
    }
}

/// Runs `attempt` until it does not fail with `EAGAIN`, waiting for
/// `mask` on `queue` between attempts unless `file` is non-blocking:
/// `ETIMEDOUT` at `deadline`, a restartable interruption on a signal (the
/// timeouts are absolute, so a restart waits no longer).
fn mq_retry<T>(
    file: &FileRef,
    queue: &mqueue::MQueue,
    mask: vfs_core::waiter::EventMask,
    deadline: Option<Instant>,
    mut attempt: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    let first = attempt();
    if !matches!(first, Err(Errno::EAGAIN)) || file.status_flags().contains(OpenFlags::NONBLOCK) {
        return first;
    }
    let waker = TaskWaker::new();
    let entry = queue.waiters().register(waker.clone(), mask);
    let result = loop {
        match attempt() {
            Err(Errno::EAGAIN) => {
                if interrupted() {
                    break Err(Errno::ERESTARTSYS);
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break Err(Errno::ETIMEDOUT);
                }
                waker.wait(deadline);
            }
            r => break r,
        }
    };
    queue.waiters().unregister(entry);
    result
}

fn sys_mq_timedsend(
    t: &mut Task,
    fd: Fd,
    msg: UserAddr,
    len: u64,
    priority: u32,
    timeout: UserAddr,
) -> SysResult {
    if priority >= MQ_PRIO_MAX {
        return Err(Errno::EINVAL);
    }
    let deadline = abs_timeout(t, timeout)?;
    let (file, queue) = mq_file(t, fd.0, true)?;
    let result = (|| {
        if len > queue.message_size() as u64 {
            return Err(Errno::EMSGSIZE);
        }
        let mut data = vec![0u8; len as usize];
        t.mm.copy_in_exact(msg.get(), &mut data)?;
        let uid = t.ctx.credentials.real_uid;
        mq_retry(&file, &queue, WRITABLE_EVENTS, deadline, || {
            queue.send(&data, priority, t.tgid, uid)
        })
    })();
    file.release(&t.ctx);
    result.map(|()| 0)
}

fn sys_mq_timedreceive(
    t: &mut Task,
    fd: Fd,
    msg: UserAddr,
    len: u64,
    priority: UserAddr,
    timeout: UserAddr,
) -> SysResult {
    let deadline = abs_timeout(t, timeout)?;
    let (file, queue) = mq_file(t, fd.0, false)?;
    let result = (|| {
        if len < queue.message_size() as u64 {
            return Err(Errno::EMSGSIZE);
        }
        queue.set_receiving(true);
        let taken = mq_retry(&file, &queue, READABLE_EVENTS, deadline, || queue.receive());
        queue.set_receiving(false);
        let (data, prio) = taken?;
        // The message is taken by now: a fault loses it, as on Linux.
        t.mm.copy_out_exact(msg.get(), &data)?;
        if !priority.is_null() {
            t.mm.write_obj(priority.get(), &prio)?;
        }
        Ok(data.len() as u64)
    })();
    file.release(&t.ctx);
    result
}

fn sys_mq_notify(t: &mut Task, fd: Fd, sevp: UserAddr) -> SysResult {
    use abi_linux::time::{SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD};
    let notification = if sevp.is_null() {
        None
    } else {
        // struct sigevent: sigev_value, sigev_signo, sigev_notify.
        let mut raw = [0u8; 16];
        t.mm.copy_in_exact(sevp.get(), &mut raw)
            .map_err(|_| Errno::EFAULT)?;
        let value = u64::from_le_bytes(raw[..8].try_into().unwrap_or([0; 8]));
        let int = |i: usize| i32::from_le_bytes(raw[i..i + 4].try_into().unwrap_or([0; 4]));
        let (signo, how) = (int(8), int(12));
        match how {
            SIGEV_NONE => {}
            SIGEV_SIGNAL if (0..=64).contains(&signo) => {}
            SIGEV_THREAD => {
                // The notification goes to a netlink socket, and the
                // sandbox has none: Linux's errors for what it names.
                let file = t.fds.get(signo)?;
                let stat = file.stat(&t.ctx, vfs_core::StatOptions::default());
                file.release(&t.ctx);
                let socket = stat.is_ok_and(|s| {
                    u32::from(s.stx_mode) & abi_linux::S_IFMT == abi_linux::S_IFSOCK
                });
                return Err(if socket {
                    Errno::EINVAL
                } else {
                    Errno::ENOTSOCK
                });
            }
            _ => return Err(Errno::EINVAL),
        }
        Some(mqueue::Notification {
            tgid: t.tgid,
            group: Arc::downgrade(&t.group),
            how,
            signo,
            value,
        })
    };
    let file = t.fds.get(fd.0)?;
    let queue = file.downcast::<mqueue::MqFile>().map(|m| m.queue().clone());
    file.release(&t.ctx);
    let queue = queue.ok_or(Errno::EBADF)?;
    queue.set_notification(t.tgid, notification).map(|()| 0)
}

fn sys_mq_getsetattr(t: &mut Task, fd: Fd, new: UserAddr, old: UserAddr) -> SysResult {
    let new: Option<MqAttr> = if new.is_null() {
        None
    } else {
        Some(copy_in(t, new)?)
    };
    if new.is_some_and(|a| a.mq_flags & !i64::from(OpenFlags::NONBLOCK.bits()) != 0) {
        return Err(Errno::EINVAL);
    }
    let file = t.fds.get(fd.0)?;
    let Some(queue) = file.downcast::<mqueue::MqFile>().map(|m| m.queue().clone()) else {
        file.release(&t.ctx);
        return Err(Errno::EBADF);
    };
    let flags = file.status_flags();
    let mut attr = queue.attr();
    attr.mq_flags = i64::from((flags & OpenFlags::NONBLOCK).bits());
    let set = new.map(|n| {
        let nonblock = n.mq_flags != 0;
        let mut f = flags;
        f.set(OpenFlags::NONBLOCK, nonblock);
        file.set_status_flags(f)
    });
    file.release(&t.ctx);
    if let Some(r) = set {
        r?;
    }
    if !old.is_null() {
        copy_out(t, old, &attr)?;
    }
    Ok(0)
}
