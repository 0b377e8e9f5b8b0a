//! How a thread leaves (gVisor's `task_exit.go`, Linux's `do_exit`): its
//! robust futexes are marked as abandoned, `CLONE_CHILD_CLEARTID` clears
//! and wakes, a waiting `vfork` parent resumes, the thread leaves its
//! group; the last thread to leave ends the process, which becomes a
//! zombie for its parent.

use std::sync::atomic::Ordering;

use super::{ExitStatus, Task};

/// The most entries of a robust list walked at exit (Linux's
/// `ROBUST_LIST_LIMIT`), so a cyclic list cannot hang the exit.
const ROBUST_LIST_LIMIT: usize = 2048;

impl Task {
    /// Ends this thread with `status`; when it is the group's last, ends
    /// the process with the group's status, which is returned.
    pub(super) fn exit_thread(&mut self, status: ExitStatus) -> ExitStatus {
        self.exit_robust_list();
        if self.clear_child_tid != 0 {
            let addr = self.clear_child_tid;
            if self
                .mm
                .atomic_u32(addr, true, |w| w.store(0, Ordering::SeqCst))
                .is_ok()
                && let Ok(key) = self.mm.futex_key(addr, false)
            {
                self.kernel.futexes.wake(key, 1, u32::MAX);
            }
        }
        if let Some(done) = self.vfork_done.take() {
            done.complete();
        }
        self.fds.release_user(&self.ctx);
        self.fs.release_user(&self.ctx);
        let (user, sys) = self.kill.cpu_times();
        self.group.add_exited_thread(user, sys);
        self.group.note_rss(self.mm.present_pages() as u64 * 4);
        self.kernel.tasks.thread_exited(self.tid);
        let leader = self.tid == self.tgid;
        if self.group.remove_thread(self.tid, status, leader) > 0 {
            return status;
        }
        // The process's timers stop with it.
        let timers = std::mem::take(&mut *self.group.timers());
        let itimers = [&timers.real, &timers.virt, &timers.prof];
        for t in timers.posix.values().chain(itimers.into_iter().flatten()) {
            self.kernel.timers.cancel(t);
        }
        self.kernel.ipc.process_exited(self.tgid);
        // A session leader's exit frees its controlling terminal.
        if self.kernel.tasks.sid(self.tgid) == Ok(self.tgid) {
            self.kernel.ptys.session_ended(self.tgid);
        }
        let status = self.group.final_status(status);
        self.kernel.tasks.remove(self.tgid);
        self.kernel.tasks.exited(self.tgid, status);
        status
    }

    /// Walks the robust list (`set_robust_list`) and the pending entry,
    /// marking every futex this thread owns as abandoned. A list that
    /// cannot be read ends the walk, as on Linux.
    fn exit_robust_list(&mut self) {
        let (head, _) = self.robust_list;
        if head == 0 {
            return;
        }
        let read = |addr: u64| -> Option<u64> { self.mm.read_obj(addr).ok() };
        // struct robust_list_head { list.next, futex_offset, list_op_pending }
        let (Some(mut entry), Some(offset), Some(pending)) =
            (read(head), read(head + 8), read(head + 16))
        else {
            return;
        };
        let offset = offset as i64;
        let mut walked = 0;
        while entry & !1 != head && walked < ROBUST_LIST_LIMIT {
            let Some(next) = read(entry & !1) else { break };
            if entry & !1 != pending & !1 {
                self.futex_died(entry, offset);
            }
            entry = next;
            walked += 1;
        }
        if pending != 0 {
            self.futex_died(pending, offset);
        }
    }

    /// Marks the robust futex of list entry `entry` (bit 0: a PI futex)
    /// as abandoned if this thread owns it.
    fn futex_died(&self, entry: u64, offset: i64) {
        let pi = entry & 1 != 0;
        let addr = (entry & !1).wrapping_add_signed(offset);
        if !addr.is_multiple_of(4) {
            return;
        }
        if let Ok(key) = self.mm.futex_key(addr, false) {
            let _ = self
                .kernel
                .futexes
                .owner_died(&self.mm, key, addr, self.tid, pi);
        }
    }
}
