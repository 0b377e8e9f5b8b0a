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
