/* close_range(2): closing a range, marking it close-on-exec, the flags and
 * bounds it refuses, and CLOSE_RANGE_UNSHARE from a thread that shares
 * the descriptor table. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "show.h"

static int open_fds(int from, int to) {
    int n = 0;
    for (int fd = from; fd <= to; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

static int base;

static void *unshare_and_close(void *arg) {
    (void)arg;
    show("close_range(UNSHARE) in a thread",
         syscall(SYS_close_range, base, base + 9, CLOSE_RANGE_UNSHARE));
    printf("thread sees %d open\n", open_fds(base, base + 9));
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    base = dup(1);
    for (int i = 1; i < 10; i++)
        dup2(1, base + i);
    printf("open %d\n", open_fds(base, base + 9));
    show("bad flag", syscall(SYS_close_range, base, base + 9, 1));
    show("first > last", syscall(SYS_close_range, base + 2, base + 1, 0));
    show("cloexec the middle", syscall(SYS_close_range, base + 3, base + 5, CLOSE_RANGE_CLOEXEC));
    for (int i = 2; i <= 6; i++)
        printf("fd base+%d cloexec %d\n", i, fcntl(base + i, F_GETFD) & FD_CLOEXEC);
    pthread_t th;
    pthread_create(&th, NULL, unshare_and_close, NULL);
    pthread_join(th, NULL);
    printf("main still sees %d open\n", open_fds(base, base + 9));
    show("close the upper half", syscall(SYS_close_range, base + 5, ~0U, 0));
    printf("open %d\n", open_fds(base, base + 9));
    show("a range with nothing open", syscall(SYS_close_range, 5000, 6000, 0));
    return 0;
}
