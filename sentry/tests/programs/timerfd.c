/* timerfd as Linux has it: creation errors, one-shot and periodic timers
 * counted by read, absolute times, gettime, re-arming clearing the count,
 * disarming, non-blocking reads, and readiness through poll and epoll.
 * Times are chosen so that scheduling noise cannot change the output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static struct itimerspec spec(long value_ms, long interval_ms) {
    struct itimerspec s = {
        .it_value = {value_ms / 1000, (value_ms % 1000) * 1000000},
        .it_interval = {interval_ms / 1000, (interval_ms % 1000) * 1000000},
    };
    return s;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    show("bad clock", timerfd_create(42, 0));
    show("bad flag", timerfd_create(CLOCK_MONOTONIC, 1));
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    show("timerfd_create", fd);
    printf("cloexec %d nonblock %d\n", !!(fcntl(fd, F_GETFD) & FD_CLOEXEC),
           !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
    struct stat st;
    fstat(fd, &st);
    printf("fstat mode %o\n", st.st_mode);
    uint64_t n = 0;
    show("read disarmed", read(fd, &n, 8));
    show("read 4 bytes", read(fd, &n, 4));
    struct itimerspec s = spec(0, 0), old;
    s.it_value.tv_nsec = 1000000000;
    show("nsec out of range", timerfd_settime(fd, 0, &s, NULL));
    show("bad settime flag", timerfd_settime(fd, 4, &s, NULL));
    int pp[2];
    pipe(pp);
    show("settime on a pipe", timerfd_settime(pp[0], 0, &s, NULL));

    /* one shot */
    s = spec(30, 0);
    timerfd_settime(fd, 0, &s, NULL);
    struct itimerspec cur;
    timerfd_gettime(fd, &cur);
    printf("armed: some time left %d, no interval %d\n",
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0, cur.it_interval.tv_nsec == 0);
    show("read before expiry", read(fd, &n, 8));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, 5000);
    printf("poll: %d revents %#x\n", r, p.revents);
    ssize_t got = read(fd, &n, 8);
    printf("read: %zd count %llu\n", got, (unsigned long long)n);
    show("read again", read(fd, &n, 8));
    timerfd_gettime(fd, &cur);
    printf("expired one-shot is disarmed %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

    /* periodic, counted: at least 3 periods pass while we sleep */
    s = spec(10, 10);
    timerfd_settime(fd, 0, &s, &old);
    usleep(100 * 1000);
    read(fd, &n, 8);
    printf("periodic count >= 5: %d\n", n >= 5);
    /* re-arming clears the count */
    s = spec(5000, 0);
    timerfd_settime(fd, 0, &s, &old);
    printf("old interval 10ms %d\n", old.it_interval.tv_nsec == 10000000);
    show("read after re-arm", read(fd, &n, 8));
    /* disarm */
    s = spec(0, 0);
    timerfd_settime(fd, 0, &s, &old);
    printf("old value left > 4s %d\n", old.it_value.tv_sec >= 4);

    /* absolute, in the past: fires at once */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    s = spec(0, 0);
    s.it_value = now;
    s.it_value.tv_sec -= 1;
    timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    struct epoll_event out;
    r = epoll_wait(ep, &out, 1, 5000);
    printf("epoll: %d data %llu\n", r, (unsigned long long)out.data.u64);
    read(fd, &n, 8);
    printf("absolute past count %llu\n", (unsigned long long)n);

    /* blocking read of a realtime timer, absolute 50ms ahead */
    int b = timerfd_create(CLOCK_REALTIME, 0);
    clock_gettime(CLOCK_REALTIME, &now);
    s = spec(0, 0);
    s.it_value = now;
    s.it_value.tv_nsec += 50000000;
    if (s.it_value.tv_nsec >= 1000000000) {
        s.it_value.tv_sec++;
        s.it_value.tv_nsec -= 1000000000;
    }
    timerfd_settime(b, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &s, NULL);
    got = read(b, &n, 8);
    printf("blocking read: %zd count %llu\n", got, (unsigned long long)n);
    return 0;
}
