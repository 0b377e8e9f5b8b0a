/* Return values and errno of clone, clone3, wait, futex and fadvise edge cases,
 * printed one per line so the native run is the oracle. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __WCLONE
#define __WCLONE 0x80000000
#endif

static void show(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %s\n", what, r == 0 ? "0" : "positive");
}

static long raw_clone(unsigned long flags) {
    return syscall(SYS_clone, flags, 0, 0, 0, 0);
}

/* A child made by clone3 with `size` bytes of arguments exits at once. */
static long clone3_size(size_t size, int nonzero_tail) {
    unsigned char buf[256] = {0};
    struct clone_args *ca = (struct clone_args *)buf;
    ca->exit_signal = SIGCHLD;
    if (nonzero_tail)
        buf[size - 1] = 1;
    long r = syscall(SYS_clone3, buf, size);
    if (r == 0)
        _exit(3);
    if (r > 0) {
        int status;
        waitpid(r, &status, 0);
        return WEXITSTATUS(status) == 3 ? 1 : -1;
    }
    return r;
}

static long futex(uint32_t *a, int op, uint32_t v, const struct timespec *ts, uint32_t *a2,
                  uint32_t v3) {
    return syscall(SYS_futex, a, op, v, ts, a2, v3);
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    show("clone THREAD without SIGHAND", raw_clone(CLONE_THREAD | CLONE_VM));
    show("clone SIGHAND without VM", raw_clone(CLONE_SIGHAND));
    show("clone NEWNS|FS", raw_clone(CLONE_NEWNS | CLONE_FS));
    show("clone bad exit signal", raw_clone(SIGCHLD | CLONE_PIDFD | CLONE_PARENT_SETTID));
    show("clone3 size 63", clone3_size(63, 0));
    show("clone3 size 64", clone3_size(64, 0));
    show("clone3 size 80", clone3_size(80, 0));
    show("clone3 size 88", clone3_size(88, 0));
    show("clone3 size 96 zero tail", clone3_size(96, 0));
    show("clone3 size 96 nonzero tail", clone3_size(96, 1));
    show("clone3 size 4097", syscall(SYS_clone3, (void *)0, (size_t)4097));
    {
        struct clone_args ca = {0};
        ca.exit_signal = SIGCHLD;
        ca.stack_size = 4096;
        show("clone3 stack size without stack", syscall(SYS_clone3, &ca, sizeof ca));
        struct clone_args cb = {0};
        cb.flags = CLONE_SIGHAND | CLONE_CLEAR_SIGHAND | CLONE_VM;
        show("clone3 SIGHAND|CLEAR_SIGHAND", syscall(SYS_clone3, &cb, sizeof cb));
    }

    /* A child that signals nothing at exit is seen by __WCLONE only. */
    long pid = raw_clone(0);
    if (pid == 0)
        _exit(5);
    usleep(50000);
    show("wait4 plain for a clone child", waitpid(pid, 0, WNOHANG));
    int status = 0;
    show("wait4 __WCLONE", waitpid(pid, &status, __WCLONE));
    printf("clone child status %d\n", WEXITSTATUS(status));

    static uint32_t word = 7, word2 = 0;
    struct timespec short_wait = {0, 20000000};
    show("futex WAIT wrong value", futex(&word, FUTEX_WAIT, 8, 0, 0, 0));
    show("futex WAIT timeout", futex(&word, FUTEX_WAIT_PRIVATE, 7, &short_wait, 0, 0));
    show("futex WAIT unaligned", futex((uint32_t *)((char *)&word + 1), FUTEX_WAIT, 7, 0, 0, 0));
    show("futex WAIT_BITSET zero", futex(&word, FUTEX_WAIT_BITSET, 7, 0, 0, 0));
    show("futex WAKE nobody", futex(&word, FUTEX_WAKE, 5, 0, 0, 0));
    show("futex WAKE negative", futex(&word, FUTEX_WAKE, (uint32_t)-1, 0, 0, 0));
    show("futex CMP_REQUEUE mismatch", futex(&word, FUTEX_CMP_REQUEUE, 1, 0, &word2, 6));
    show("futex CMP_REQUEUE match", futex(&word, FUTEX_CMP_REQUEUE, 1, 0, &word2, 7));
    /* FUTEX_OP_ADD 3 to word2, compare old == 0. */
    show("futex WAKE_OP", futex(&word, FUTEX_WAKE_OP, 1, 0, &word2, FUTEX_OP(1, 3, 0, 0)));
    printf("word2 after WAKE_OP: %u\n", word2);
    show("futex WAKE_OP bad op", futex(&word, FUTEX_WAKE_OP, 1, 0, &word2, FUTEX_OP(7, 3, 0, 0)));
    show("futex CLOCK_REALTIME with WAIT", futex(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0));
    show("futex unknown op", futex(&word, 99, 0, 0, 0, 0));
    static uint32_t lock = 0;
    show("futex TRYLOCK_PI free", futex(&lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
    printf("owner is me: %s\n", (lock & FUTEX_TID_MASK) == (uint32_t)gettid() ? "yes" : "no");
    show("futex TRYLOCK_PI own", futex(&lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
    show("futex LOCK_PI own", futex(&lock, FUTEX_LOCK_PI, 0, 0, 0, 0));
    show("futex UNLOCK_PI", futex(&lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    printf("lock after unlock: %u\n", lock);
    show("futex UNLOCK_PI not owner", futex(&lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0));

    struct futex_waitv wv[2] = {{.val = 7, .uaddr = (uintptr_t)&word, .flags = FUTEX_32},
                                {.val = 1, .uaddr = (uintptr_t)&word2, .flags = FUTEX_32}};
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 20000000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    show("futex_waitv value mismatch", syscall(SYS_futex_waitv, wv, 2, 0, &abs, CLOCK_MONOTONIC));
    wv[1].val = word2;
    show("futex_waitv timeout", syscall(SYS_futex_waitv, wv, 2, 0, &abs, CLOCK_MONOTONIC));
    wv[0].flags = 0;
    show("futex_waitv bad flags", syscall(SYS_futex_waitv, wv, 2, 0, 0, 0));
    show("futex_waitv zero count", syscall(SYS_futex_waitv, wv, 0, 0, 0, 0));

    /* posix_fadvise returns the error number instead of setting errno. */
    int pipe_fds[2];
    pipe(pipe_fds);
    int file = open("/etc/hostname", O_RDONLY);
    const int fadvise[][3] = {{file, 0, POSIX_FADV_SEQUENTIAL}, {file, 0, 99},
                              {file, -1, POSIX_FADV_NORMAL},   {pipe_fds[0], 0, 0},
                              {77, 0, 0}};
    for (unsigned i = 0; i < sizeof fadvise / sizeof fadvise[0]; i++) {
        int r = posix_fadvise(fadvise[i][0], 0, fadvise[i][1], fadvise[i][2]);
        printf("fadvise case %u: %s\n", i, r ? strerrorname_np(r) : "0");
    }
    return 0;
}
