/* epoll and eventfd as Linux has them: every epoll_ctl error, level- and
 * edge-triggered and one-shot interests, pipes' hang-up and error events,
 * nested instances and loops, closing a watched descriptor, timeouts,
 * waits woken by another thread and interrupted by a signal, and eventfd's
 * counter and semaphore modes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "show.h"

static int ctl(int ep, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, op, fd, &ev);
}

/* Prints what one epoll_wait returns. */
static void wait_show(const char *what, int ep, int max, int timeout) {
    struct epoll_event evs[8];
    int n = epoll_wait(ep, evs, max, timeout);
    if (n < 0) {
        show(what, n);
        return;
    }
    printf("%s: %d", what, n);
    for (int i = 0; i < n; i++)
        printf(" [%llu %#x]", (unsigned long long)evs[i].data.u64, evs[i].events);
    printf("\n");
}

static int efd_for_thread;

static void *write_later(void *arg) {
    (void)arg;
    usleep(50 * 1000);
    uint64_t one = 1;
    if (write(efd_for_thread, &one, 8) != 8)
        abort();
    return NULL;
}

static void on_usr1(int sig) { (void)sig; }

static volatile int wait_returned;

/* Signals `arg`'s thread until its wait has returned: however late this
 * thread runs, a signal lands while the wait is in progress. */
static void *signal_until_returned(void *arg) {
    while (!wait_returned) {
        usleep(10 * 1000);
        pthread_kill(*(pthread_t *)arg, SIGUSR1);
    }
    return NULL;
}

static void *signal_later(void *arg) {
    usleep(50 * 1000);
    pthread_kill(*(pthread_t *)arg, SIGUSR1);
    return NULL;
}

int main(int argc, char **argv) {
    (void)argc;
    setvbuf(stdout, NULL, _IONBF, 0);
    show("epoll_create(0)", epoll_create(0));
    show("epoll_create1(bad flag)", epoll_create1(1));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    show("epoll_create1(EPOLL_CLOEXEC)", ep);
    printf("cloexec %d\n", (fcntl(ep, F_GETFD) & FD_CLOEXEC) != 0);
    struct stat st;
    fstat(ep, &st);
    printf("epoll fstat mode %o\n", st.st_mode);
    char link[64] = {0};
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", ep);
    readlink(path, link, sizeof link - 1);
    printf("link %s\n", link);

    /* eventfd */
    show("eventfd2(bad flag)", eventfd(0, 0x10));
    int efd = eventfd(3, EFD_NONBLOCK);
    uint64_t v = 0;
    show("read 4 bytes", read(efd, &v, 4));
    ssize_t got = read(efd, &v, 8);
    printf("read: %zd value %llu\n", got, (unsigned long long)v);
    show("read empty", read(efd, &v, 8));
    v = UINT64_MAX;
    show("write UINT64_MAX", write(efd, &v, 8));
    v = UINT64_MAX - 1;
    show("write the maximum", write(efd, &v, 8));
    v = 1;
    show("write past the maximum", write(efd, &v, 8));
    read(efd, &v, 8);
    int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (int i = 0; i < 3; i++) {
        ssize_t r = read(sem, &v, 8);
        printf("semaphore read %d: %zd %llu\n", i, r, r == 8 ? (unsigned long long)v : 0);
    }

    /* epoll_ctl errors */
    int reg = open(argv[0], O_RDONLY);
    show("add a regular file", ctl(ep, EPOLL_CTL_ADD, reg, EPOLLIN, 0));
    show("add itself", ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
    show("add to a non-epoll", ctl(efd, EPOLL_CTL_ADD, sem, EPOLLIN, 0));
    show("add a closed fd", ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0));
    show("bad op", ctl(ep, 9, efd, EPOLLIN, 0));
    show("mod missing", ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN, 0));
    show("del missing", ctl(ep, EPOLL_CTL_DEL, efd, 0, 0));
    show("add with a NULL event", epoll_ctl(ep, EPOLL_CTL_ADD, efd, NULL));
    show("exclusive with PRI", ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLPRI | EPOLLEXCLUSIVE, 0));
    show("add", ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
    show("add again", ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
    show("mod to exclusive", ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLEXCLUSIVE, 1));
    show("maxevents 0", epoll_wait(ep, NULL, 0, 0));

    /* level-triggered */
    wait_show("empty counter", ep, 8, 0);
    v = 5;
    write(efd, &v, 8);
    wait_show("level 1", ep, 8, 0);
    wait_show("level 2", ep, 8, 0);
    read(efd, &v, 8);
    wait_show("drained", ep, 8, 0);
    show("mod to OUT", ctl(ep, EPOLL_CTL_MOD, efd, EPOLLOUT, 2));
    wait_show("writable", ep, 8, 0);

    /* edge-triggered */
    show("mod to IN|ET", ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLET, 3));
    v = 1;
    write(efd, &v, 8);
    wait_show("edge 1", ep, 8, 0);
    wait_show("edge 2", ep, 8, 0);
    write(efd, &v, 8);
    wait_show("edge after a write", ep, 8, 0);

    /* one-shot */
    show("mod to IN|ONESHOT", ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLONESHOT, 4));
    wait_show("oneshot 1", ep, 8, 0);
    write(efd, &v, 8);
    wait_show("oneshot 2", ep, 8, 0);
    show("rearm", ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLONESHOT, 5));
    wait_show("rearmed", ep, 8, 0);
    show("del", ctl(ep, EPOLL_CTL_DEL, efd, 0, 0));
    wait_show("after del", ep, 8, 0);

    /* pipes: hang-up and error */
    int p[2];
    pipe(p);
    ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLRDHUP, 10);
    ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 11);
    wait_show("pipe idle", ep, 8, 0);
    write(p[1], "x", 1);
    wait_show("pipe with data", ep, 8, 0);
    close(p[1]);
    wait_show("writer closed", ep, 8, 0);
    close(p[0]);
    wait_show("both closed", ep, 8, 0);

    /* a dup keeps the interest alive after the watched fd is closed */
    int e2 = eventfd(1, 0);
    int dupfd = dup(e2);
    ctl(ep, EPOLL_CTL_ADD, e2, EPOLLIN, 20);
    close(e2);
    wait_show("closed but dup'd", ep, 8, 0);
    show("del through the dup", ctl(ep, EPOLL_CTL_DEL, dupfd, 0, 0));
    close(dupfd);
    wait_show("all closed", ep, 8, 0);

    /* nesting and loops */
    int inner = epoll_create1(0), outer = epoll_create1(0);
    int e3 = eventfd(0, 0);
    ctl(inner, EPOLL_CTL_ADD, e3, EPOLLIN, 30);
    show("outer watches inner", ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 31));
    show("inner watches outer", ctl(inner, EPOLL_CTL_ADD, outer, EPOLLIN, 32));
    show("exclusive on an epoll", ctl(ep, EPOLL_CTL_ADD, inner, EPOLLIN | EPOLLEXCLUSIVE, 33));
    wait_show("outer before", outer, 8, 0);
    write(e3, &v, 8);
    wait_show("outer after", outer, 8, 0);
    wait_show("inner", inner, 8, 0);

    /* timeouts and maxevents */
    wait_show("timeout 30ms", ep, 8, 30);
    int a = eventfd(1, 0), b = eventfd(1, 0);
    ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 40);
    ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, 41);
    wait_show("max 1 (a)", ep, 1, 0);
    wait_show("max 1 (b, round robin)", ep, 1, 0);
    close(a);
    close(b);

    /* blocking: woken by another thread */
    efd_for_thread = eventfd(0, 0);
    ctl(ep, EPOLL_CTL_ADD, efd_for_thread, EPOLLIN, 50);
    pthread_t th;
    pthread_create(&th, NULL, write_later, NULL);
    wait_show("woken by a thread", ep, 8, -1);
    pthread_join(th, NULL);
    close(efd_for_thread);

    /* interrupted by a handled signal, even with SA_RESTART */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t self = pthread_self();
    pthread_create(&th, NULL, signal_until_returned, &self);
    wait_show("interrupted", ep, 8, 5000);
    wait_returned = 1;
    pthread_join(th, NULL);

    /* epoll_pwait's mask holds the signal back until the wait ends */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    pthread_create(&th, NULL, signal_later, &self);
    struct epoll_event evs[4];
    int n = epoll_pwait(ep, evs, 4, 150, &block);
    printf("pwait with SIGUSR1 blocked: %d\n", n);
    pthread_join(th, NULL);
    return 0;
}
