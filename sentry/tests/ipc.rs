//! Inter-process communication: pipes reopened through `/proc/PID/fd/N`
//! (bash process substitution, `/dev/stdin`), memfds and their seals,
//! splice/tee/vmsplice/copy_file_range/sendfile, named FIFOs, and
//! over the sandbox's own filesystems: POSIX
//! semaphores and shared memory in `/dev/shm` (glibc makes a semaphore by
//! creating a file and hard-linking it into place, so links within the
//! memfs mounts under a host-directory root are covered too), and
//! Python's `multiprocessing` with a pool, a queue and a lock. Each runs
//! natively and in the sentry on both platforms; output and exit status
//! must match.

pub mod common;
use common::native::same_as_native;

#[test]
fn hard_links_work_in_the_sandboxes_own_mounts() {
    let script = "for d in /tmp /dev/shm; do \
        t=$(mktemp -d -p $d) && echo x > $t/a && ln $t/a $t/b && stat -c %h $t/a \
        && mv $t/b $t/c && ls $t && rm -r $t || echo failed in $d; done";
    same_as_native(&["/bin/sh", "-c", script], &[]);
}

#[test]
fn python_multiprocessing_pool_queue_and_lock() {
    let script = "import multiprocessing as mp\n\
        def sq(x): return x * x\n\
        def put(q, l):\n    with l: q.put('from the child')\n\
        if __name__ == '__main__':\n    \
        with mp.Pool(2) as p: print(p.map(sq, range(8)))\n    \
        q, l = mp.Queue(), mp.Lock()\n    \
        c = mp.Process(target=put, args=(q, l)); c.start()\n    \
        print(q.get()); c.join(); print('exit', c.exitcode)\n    \
        s = mp.Semaphore(2); s.acquire(); s.acquire(); print('try', s.acquire(False))\n";
    same_as_native(&["/usr/bin/python3", "-c", script], &[]);
}

#[test]
fn pipes_reopen_through_proc_fd_links() {
    common::native::c_program("reopen");
}

#[test]
fn bash_process_substitution_and_dev_stdin() {
    let script = "diff <(seq 3) <(seq 4); echo diff $?; echo piped | cat /dev/stdin; \
        mapfile -t a < <(seq 5); echo ${#a[@]} ${a[4]}; paste <(seq 2) <(seq 3 4); \
        comm <(printf 'a\\nb\\n') <(printf 'b\\nc\\n'); \
        while read -r x; do echo line $x; done < <(printf 'p\\nq\\n'); \
        wc -l < <(seq 10)";
    same_as_native(&["/bin/bash", "-c", script], &[]);
}

#[test]
fn memfd_create_and_seals_behave_as_linux() {
    common::native::c_program("memfd");
}

#[test]
fn splice_tee_vmsplice_and_copy_file_range_move_data_as_linux() {
    common::native::c_program("splice");
}

#[test]
fn named_fifos_connect_readers_and_writers() {
    common::native::c_program("fifo");
    let script = "d=$(mktemp -d -p /tmp) && mkfifo $d/p && { echo through > $d/p & } && \
        cat $d/p && wait && rm -r $d";
    same_as_native(&["/bin/bash", "-c", script], &[]);
}

/// System V shared memory, semaphores and message queues, with their
/// errors, blocking, SEM_UNDO at exit and removal under waiters.
#[test]
fn sysv_shm_semaphores_and_message_queues() {
    common::native::c_program("sysv_ipc");
}

/// Perl's built-in msgget/semget/shmget family, through IPC::SysV.
#[test]
fn perl_sysv_ipc_round_trip() {
    let script = "use IPC::SysV qw(IPC_PRIVATE IPC_RMID IPC_NOWAIT S_IRUSR S_IWUSR SETVAL GETVAL);\n\
        my $q = msgget(IPC_PRIVATE, S_IRUSR | S_IWUSR) // die \"msgget: $!\";\n\
        msgsnd($q, pack('l! a*', 7, 'hello'), 0) or die \"msgsnd: $!\";\n\
        my $buf; msgrcv($q, $buf, 100, 0, 0) or die \"msgrcv: $!\";\n\
        print join(' ', unpack('l! a*', $buf)), \"\\n\";\n\
        print 'empty: ', (msgrcv($q, $buf, 100, 0, IPC_NOWAIT) ? 'got' : $!), \"\\n\";\n\
        msgctl($q, IPC_RMID, 0) or die;\n\
        my $s = semget(IPC_PRIVATE, 2, S_IRUSR | S_IWUSR) // die \"semget: $!\";\n\
        semctl($s, 1, SETVAL, 4) or die; semop($s, pack('s!3', 1, -3, 0)) or die;\n\
        print 'sem ', semctl($s, 1, GETVAL, 0), \"\\n\"; semctl($s, 0, IPC_RMID, 0) or die;\n\
        my $m = shmget(IPC_PRIVATE, 4096, S_IRUSR | S_IWUSR) // die \"shmget: $!\";\n\
        shmwrite($m, 'shared bytes', 0, 12) or die;\n\
        if (my $pid = fork) { waitpid($pid, 0) } else { shmwrite($m, 'child', 0, 5); exit 0 }\n\
        my $out; shmread($m, $out, 0, 12) or die; print \"shm $out\\n\";\n\
        shmctl($m, IPC_RMID, 0) or die;\n";
    same_as_native(&["/usr/bin/perl", "-e", script], &[]);
}

/// util-linux's ipcmk, ipcs and ipcrm, and the /proc/sysvipc and
/// /proc/sys/kernel files they read; identifiers and times differ
/// between the host's namespace and the sandbox's, so only the columns
/// that must agree are compared.
#[test]
fn ipcs_ipcmk_and_proc_sysvipc() {
    let script = "ipcs -l; for f in shm sem msg; do head -1 /proc/sysvipc/$f; done; \
        cat /proc/sys/kernel/sem /proc/sys/kernel/shmmni /proc/sys/kernel/msgmnb; \
        q=$(ipcmk -Q -p 0640 | awk '{print $NF}'); \
        awk -v id=$q '$2 == id {print \"msg\", $3, $4, $5}' /proc/sysvipc/msg; \
        m=$(ipcmk -M 10000 | awk '{print $NF}'); \
        awk -v id=$m '$2 == id {print \"shm\", $3, $4, $7}' /proc/sysvipc/shm; \
        ipcs -m -i $m | grep -oE 'bytes=[0-9]+|nattch=[0-9]+|att_time=[A-Za-z ]+'; \
        s=$(ipcmk -S 5 | awk '{print $NF}'); \
        awk -v id=$s '$2 == id {print \"sem\", $3, $4}' /proc/sysvipc/sem; \
        ipcrm -q $q -m $m -s $s && echo removed; ipcrm -q $q; echo ipcrm again $?";
    same_as_native(&["/bin/sh", "-c", script], &[]);
}

/// POSIX message queues: priorities, limits, blocking with absolute
/// timeouts, a notification by signal, poll readiness and unlink while
/// open.
#[test]
fn posix_message_queues() {
    common::native::c_program("mqueue");
}

/// `mount -t mqueue` lists POSIX message queues as Linux's mqueue
/// filesystem does (Python through librt), natively in an IPC and mount
/// namespace of its own and in the sentry on each platform.
#[test]
fn mqueue_filesystem_lists_queues_as_linux() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/programs/mqueue_fs.py");
    let script = common::native::work_dir().join("mqueue_fs.py");
    std::fs::copy(src, &script).unwrap();
    common::native::same_as_native_under(
        &["-mi"],
        &["/usr/bin/python3", script.to_str().unwrap()],
        &[],
    );
}
