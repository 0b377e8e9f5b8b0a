/* signalfd as Linux has it: the errors of signalfd4, several records in
 * one read in signal order with their siginfo (kill, sigqueue values,
 * SIGCHLD's status), EAGAIN when empty, readiness through poll and epoll,
 * a blocking read woken by another thread's signal, and a new mask. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static pid_t main_tid;

static void *send_later(void *arg) {
    (void)arg;
    usleep(50 * 1000);
    syscall(SYS_tgkill, getpid(), main_tid, SIGUSR2);
    return NULL;
}

static void drain(int fd, const char *what) {
    struct signalfd_siginfo si[4];
    ssize_t n = read(fd, si, sizeof si);
    if (n < 0) {
        show(what, n);
        return;
    }
    printf("%s: %zd records\n", what, n / (ssize_t)sizeof si[0]);
    for (int i = 0; i < n / (ssize_t)sizeof si[0]; i++)
        printf("  signo %u code %d pid-is-me %d int %d status %d\n", si[i].ssi_signo,
               si[i].ssi_code, si[i].ssi_pid == (unsigned)getpid(), si[i].ssi_int,
               si[i].ssi_status);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    main_tid = syscall(SYS_gettid);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);

    show("bad size", syscall(SYS_signalfd4, -1, &set, 4, 0));
    show("bad flag", syscall(SYS_signalfd4, -1, &set, 8, 1));
    show("update a pipe", signalfd(0, &set, 0) < 0 && errno == EINVAL ? -1 : 0);
    show("update a closed fd", signalfd(999, &set, 0));
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    show("signalfd", fd);
    printf("cloexec %d nonblock %d\n", !!(fcntl(fd, F_GETFD) & FD_CLOEXEC),
           !!(fcntl(fd, F_GETFL) & O_NONBLOCK));

    drain(fd, "empty");
    char small[64];
    show("read into 64 bytes", read(fd, small, sizeof small));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    printf("poll empty: %d\n", poll(&p, 1, 0));

    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), SIGRTMIN, v);
    v.sival_int = 43;
    sigqueue(getpid(), SIGRTMIN, v);
    kill(getpid(), SIGUSR1);
    int r = poll(&p, 1, 0);
    printf("poll with three pending: %d revents %#x\n", r, p.revents);
    drain(fd, "three pending");

    pid_t child = fork();
    if (child == 0)
        _exit(7);
    waitpid(child, NULL, __WNOTHREAD);
    /* waitpid reaped it; the SIGCHLD stays pending */
    drain(fd, "SIGCHLD");

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 5};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    struct epoll_event out;
    printf("epoll empty: %d\n", epoll_wait(ep, &out, 1, 0));
    kill(getpid(), SIGUSR2);
    r = epoll_wait(ep, &out, 1, 1000);
    printf("epoll after kill: %d data %llu\n", r, (unsigned long long)out.data.u64);
    drain(fd, "after epoll");

    /* blocking read woken by a thread's signal */
    int bfd = signalfd(-1, &set, 0);
    pthread_t th;
    pthread_create(&th, NULL, send_later, NULL);
    drain(bfd, "blocking");
    pthread_join(th, NULL);

    /* a new mask: SIGUSR1 is no longer read */
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    printf("update returns the fd: %d\n", signalfd(fd, &only2, 0) == fd);
    kill(getpid(), SIGUSR1);
    drain(fd, "SIGUSR1 outside the new mask");
    kill(getpid(), SIGUSR2);
    drain(fd, "SIGUSR2 inside it");
    sigset_t pending;
    sigpending(&pending);
    printf("SIGUSR1 still pending %d\n", sigismember(&pending, SIGUSR1));
    return 0;
}
