/* POSIX message queues: open/create/exclusive, attributes and their
 * limits, priority order, blocking and non-blocking send and receive,
 * absolute timeouts, a notification by signal, poll readiness, a queue
 * shared with a child, unlink while open, and Linux's errno for each
 * misuse. Names derive from the pid, so a native run does not meet
 * another's queues in the host's namespace. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static volatile sig_atomic_t notified_code, notified_value, notified_pid_is_me;

static void on_notify(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)ctx;
    notified_code = si->si_code;
    notified_value = si->si_value.sival_int;
    notified_pid_is_me = si->si_pid == getpid();
}

static struct timespec in_ms(long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000;
    ts.tv_sec += ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char name[64], other[64];
    snprintf(name, sizeof name, "/sentry-test-%d", getpid());
    snprintf(other, sizeof other, "/sentry-test-%d-b", getpid());

    show("open missing", mq_open(name, O_RDWR));
    show("open no slash (glibc)", mq_open("noslash", O_RDWR | O_CREAT, 0600, NULL));
    show("open inner slash", syscall(SYS_mq_open, "a/b", O_RDWR | O_CREAT, 0600, NULL));
    show("open empty", syscall(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, NULL));
    struct mq_attr bad = {.mq_maxmsg = 0, .mq_msgsize = 16};
    show("create maxmsg 0", mq_open(name, O_RDWR | O_CREAT, 0600, &bad));
    bad.mq_maxmsg = 4;
    bad.mq_msgsize = -1;
    show("create msgsize -1", mq_open(name, O_RDWR | O_CREAT, 0600, &bad));

    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0640, &attr);
    show("create", q);
    show("create excl again", mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr));
    mqd_t q2 = mq_open(name, O_WRONLY);
    show("open existing write-only", q2);
    struct stat st;
    fstat(q, &st);
    printf("fstat: regular %d mode %o\n", S_ISREG(st.st_mode), st.st_mode & 07777);

    struct mq_attr got;
    mq_getattr(q, &got);
    printf("attr: flags %ld maxmsg %ld msgsize %ld curmsgs %ld\n", got.mq_flags, got.mq_maxmsg,
           got.mq_msgsize, got.mq_curmsgs);
    mqd_t d = mq_open(other, O_RDWR | O_CREAT, 0600, NULL);
    mq_getattr(d, &got);
    printf("default attr: maxmsg %ld msgsize %ld\n", got.mq_maxmsg, got.mq_msgsize);
    show("unlink other", mq_unlink(other));
    show("unlink other again", mq_unlink(other));
    mq_close(d);

    char buf[128];
    show("send too long", mq_send(q, buf, 65, 0));
    show("send priority too high", mq_send(q, "x", 1, 32768));
    show("receive small buffer", mq_receive(q, buf, 63, NULL));
    show("receive from write-only", mq_receive(q2, buf, sizeof buf, NULL));
    show("send on a non-queue", mq_send(1, "x", 1, 0));

    struct pollfd pfd = {.fd = q, .events = POLLIN | POLLOUT};
    poll(&pfd, 1, 0);
    printf("poll empty: in %d out %d\n", !!(pfd.revents & POLLIN), !!(pfd.revents & POLLOUT));

    struct sigaction sa = {.sa_sigaction = on_notify, .sa_flags = SA_SIGINFO};
    sigaction(SIGUSR1, &sa, NULL);
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    sev.sigev_value.sival_int = 77;
    show("notify", mq_notify(q, &sev));
    show("notify again", mq_notify(q, &sev));
    char status[128] = "";
    ssize_t n = read(q, status, sizeof status - 1);
    status[n > 0 ? n : 0] = 0;
    printf("status has NOTIFY:0 SIGNO:10 %d\n", strstr(status, "NOTIFY:0     SIGNO:10") != NULL);

    const char *texts[] = {"low", "high", "mid", "high2", "extra"};
    unsigned prios[] = {1, 9, 5, 9, 0};
    for (int i = 0; i < 4; i++)
        show("send", mq_send(q, texts[i], strlen(texts[i]) + 1, prios[i]));
    printf("notified: code-is-mesgq %d value %d pid-is-me %d\n", notified_code == SI_MESGQ,
           (int)notified_value, (int)notified_pid_is_me);
    show("notify after it fired", mq_notify(q, &sev));
    show("notify remove", mq_notify(q, NULL));
    lseek(q, 0, SEEK_SET);
    n = pread(q, status, sizeof status - 1, 0);
    show("pread of a queue", n);
    poll(&pfd, 1, 0);
    printf("poll full: in %d out %d\n", !!(pfd.revents & POLLIN), !!(pfd.revents & POLLOUT));

    struct timespec ts = in_ms(30);
    show("timedsend full", mq_timedsend(q, "x", 1, 0, &ts));
    ts.tv_nsec = 1000000000;
    show("timedsend bad timeout", mq_timedsend(q, "x", 1, 0, &ts));
    struct mq_attr nb = {.mq_flags = O_NONBLOCK}, old;
    show("setattr nonblock", mq_setattr(q, &nb, &old));
    printf("old flags %ld\n", old.mq_flags);
    show("send full nonblock", mq_send(q, "x", 1, 0));
    nb.mq_flags = O_NONBLOCK | O_APPEND;
    show("setattr bad flags", mq_setattr(q, &nb, NULL));
    nb.mq_flags = 0;
    mq_setattr(q, &nb, NULL);

    unsigned prio;
    for (int i = 0; i < 4; i++) {
        n = mq_receive(q, buf, sizeof buf, &prio);
        printf("received %zd '%s' prio %u\n", n, buf, prio);
    }
    ts = in_ms(30);
    show("timedreceive empty", mq_timedreceive(q, buf, sizeof buf, NULL, &ts));

    pid_t pid = fork();
    if (pid == 0) {
        unsigned p;
        ssize_t r = mq_receive(q, buf, sizeof buf, &p);
        _exit(r == 6 && strcmp(buf, "extra") == 0 && p == 3 ? 0 : 1);
    }
    usleep(20000);
    show("send to a waiting child", mq_send(q, "extra", 6, 3));
    int wst;
    waitpid(pid, &wst, 0);
    printf("child received it: %d\n", WIFEXITED(wst) && WEXITSTATUS(wst) == 0);

    show("unlink while open", mq_unlink(name));
    show("open after unlink", mq_open(name, O_RDWR));
    show("send after unlink", mq_send(q, "still", 6, 0));
    n = mq_receive(q, buf, sizeof buf, NULL);
    printf("receive after unlink: %zd '%s'\n", n, buf);
    show("close", mq_close(q));
    show("close write-only", mq_close(q2));
    show("getattr closed", mq_getattr(q, &got));
    return 0;
}
