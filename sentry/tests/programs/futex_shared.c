/* Futexes between processes: a MAP_SHARED anonymous mapping and a shared
 * file mapping after fork; robust mutexes whose owner (a process, then a
 * thread) dies; a priority-inheritance mutex under contention. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long futex(unsigned *addr, int op, unsigned val) {
    return syscall(SYS_futex, addr, op, val, 0, 0, 0);
}

static void ping(unsigned *word, const char *what) {
    pid_t pid = fork();
    if (pid == 0) {
        while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == 0)
            futex(word, FUTEX_WAIT, 0);
        _exit(__atomic_load_n(word, __ATOMIC_SEQ_CST) == 5 ? 0 : 1);
    }
    usleep(50000);
    __atomic_store_n(word, 5, __ATOMIC_SEQ_CST);
    long woken = 0;
    int status;
    /* Wake until the child has gone: it may not have slept yet. */
    while (waitpid(pid, &status, WNOHANG) == 0) {
        woken += futex(word, FUTEX_WAKE, 1);
        usleep(1000);
    }
    printf("%s: child %s, woken %s\n", what, WEXITSTATUS(status) == 0 ? "ok" : "failed",
           woken <= 1 ? "<=1" : ">1");
}

static pthread_mutex_t *robust;

static void *lock_and_die(void *arg) {
    (void)arg;
    pthread_mutex_lock(robust);
    return 0;
}

static pthread_mutex_t pi = PTHREAD_MUTEX_INITIALIZER;
static long pi_total;

static void *pi_worker(void *arg) {
    (void)arg;
    for (int i = 0; i < 5000; i++) {
        pthread_mutex_lock(&pi);
        pi_total++;
        pthread_mutex_unlock(&pi);
    }
    return 0;
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    unsigned *anon = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ping(anon, "shared anonymous");

    int fd = open("/tmp/futex-file", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        return 1;
    unsigned *file = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ping(file + 4, "shared file");
    unlink("/tmp/futex-file");

    /* A process-shared robust mutex whose owner process exits. */
    robust = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(robust, &a);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(robust);
        _exit(0);
    }
    waitpid(pid, 0, 0);
    int r = pthread_mutex_lock(robust);
    printf("robust, owner process died: %s\n", r == EOWNERDEAD ? "EOWNERDEAD" : "other");
    pthread_mutex_consistent(robust);
    pthread_mutex_unlock(robust);

    /* The same with an owner thread. */
    pthread_t t;
    pthread_create(&t, 0, lock_and_die, 0);
    pthread_join(t, 0);
    r = pthread_mutex_lock(robust);
    printf("robust, owner thread died: %s\n", r == EOWNERDEAD ? "EOWNERDEAD" : "other");
    pthread_mutex_consistent(robust);
    pthread_mutex_unlock(robust);

    /* Priority inheritance under contention. */
    pthread_mutexattr_t pa;
    pthread_mutexattr_init(&pa);
    pthread_mutexattr_setprotocol(&pa, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&pi, &pa);
    pthread_t w[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&w[i], 0, pi_worker, 0);
    for (int i = 0; i < 4; i++)
        pthread_join(w[i], 0);
    printf("pi mutex total: %ld\n", pi_total);
    return 0;
}
