/* alarm, setitimer/getitimer and POSIX timers: signals with si_code and
 * si_value, a periodic timer, SIGEV_NONE, absolute times in the past,
 * deletion, and the errors for bad arguments. Times are checked by
 * ranges, not printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int fired, last_code, last_value;

static void handler(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    fired++;
    last_code = si->si_code;
    last_value = si->si_value.sival_int;
}

#include "show.h"

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGALRM, &sa, 0);
    sigaction(SIGUSR1, &sa, 0);

    printf("alarm with none pending: %u\n", alarm(10));
    unsigned left = alarm(0);
    printf("alarm(0) reports the old one: %d\n", left >= 9 && left <= 10);
    struct itimerval it = {.it_value = {0, 100000}};
    setitimer(ITIMER_REAL, &it, 0);
    struct itimerval cur;
    getitimer(ITIMER_REAL, &cur);
    printf("getitimer while armed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0);
    while (!fired)
        pause();
    printf("ITIMER_REAL fired with code SI_KERNEL: %d\n", last_code == SI_KERNEL);
    show("setitimer ITIMER_REAL bad usec", setitimer(ITIMER_REAL, &(struct itimerval){.it_value = {0, 1000000}}, 0));

    timer_t t;
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 42;
    show("timer_create", timer_create(CLOCK_MONOTONIC, &ev, &t));
    fired = 0;
    struct itimerspec spec = {.it_value = {0, 20000000}, .it_interval = {0, 20000000}};
    timer_settime(t, 0, &spec, 0);
    while (fired < 3)
        pause();
    printf("periodic timer: code SI_TIMER %d value %d\n", last_code == SI_TIMER, last_value);
    struct itimerspec got;
    timer_gettime(t, &got);
    printf("interval kept: %d\n", got.it_interval.tv_nsec == 20000000);
    timer_settime(t, 0, &(struct itimerspec){0}, 0);
    timer_gettime(t, &got);
    printf("disarmed: %d\n", got.it_value.tv_sec == 0 && got.it_value.tv_nsec == 0);
    printf("overrun is not negative: %d\n", timer_getoverrun(t) >= 0);

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    timer_t abs_t;
    show("timer_create realtime", timer_create(CLOCK_REALTIME, &ev, &abs_t));
    fired = 0;
    struct itimerspec past = {.it_value = {now.tv_sec - 5, 0}};
    timer_settime(abs_t, TIMER_ABSTIME, &past, 0);
    while (!fired)
        pause();
    printf("absolute time in the past fires at once: %d\n", fired);

    timer_t quiet;
    struct sigevent none = {.sigev_notify = SIGEV_NONE};
    show("timer_create SIGEV_NONE", timer_create(CLOCK_MONOTONIC, &none, &quiet));
    timer_settime(quiet, 0, &(struct itimerspec){.it_value = {5, 0}}, 0);
    timer_gettime(quiet, &got);
    printf("SIGEV_NONE counts down: %d\n", got.it_value.tv_sec >= 4 && got.it_value.tv_sec <= 5);

    show("timer_delete", timer_delete(quiet));
    show("timer_gettime after delete", timer_gettime(quiet, &got));
    show("timer_delete twice", timer_delete(quiet));
    show("timer_create bad clock", timer_create(99, &ev, &quiet));
    struct sigevent bad = {.sigev_notify = 77};
    show("timer_create bad notify", timer_create(CLOCK_MONOTONIC, &bad, &quiet));
    struct sigevent badsig = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 99};
    show("timer_create bad signal", timer_create(CLOCK_MONOTONIC, &badsig, &quiet));
    show("timer_settime unknown flag", timer_settime(t, 2, &(struct itimerspec){0}, 0));
    struct itimerspec badns = {.it_value = {0, 2000000000}};
    show("timer_settime bad nsec", timer_settime(t, 0, &badns, 0));
    return 0;
}
