/* CPU-time timers and limits: ITIMER_PROF and ITIMER_VIRTUAL fire while
 * the process computes and not while it sleeps; POSIX timers on the
 * process and thread CPU clocks (SIGEV_SIGNAL, SIGEV_THREAD_ID); the CPU
 * clocks of other threads and processes; clock_nanosleep on CPU clocks;
 * RLIMIT_CPU sends SIGXCPU at the soft limit (raising it by a second)
 * and SIGKILL at the hard one. Outputs avoid exact times: the oracle is
 * the same program run natively. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static volatile sig_atomic_t fired[65];
static volatile pid_t handler_tid;

static void count(int sig) {
    fired[sig]++;
    handler_tid = syscall(SYS_gettid);
}

static void on(int sig) {
    struct sigaction sa = {0};
    sa.sa_handler = count;
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

static double cpu_now(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Computes until `sig` has fired `n` times (or 20 s of wall time). */
static void spin_until(int sig, int n) {
    time_t start = time(NULL);
    while (fired[sig] < n && time(NULL) - start < 20)
        ;
}

static void itimers(void) {
    on(SIGPROF);
    struct itimerval prof = {{0, 20000}, {0, 20000}};
    setitimer(ITIMER_PROF, &prof, NULL);
    spin_until(SIGPROF, 3);
    struct itimerval cur;
    getitimer(ITIMER_PROF, &cur);
    printf("prof fired 3: %s, periodic %ld us, running %s\n", fired[SIGPROF] >= 3 ? "yes" : "no",
           cur.it_interval.tv_usec, cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 20000 ? "yes" : "no");
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);

    on(SIGVTALRM);
    struct itimerval virt = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_VIRTUAL, &virt, NULL);
    struct timespec nap = {0, 300000000};
    nanosleep(&nap, NULL);
    getitimer(ITIMER_VIRTUAL, &cur);
    printf("virtual after sleeping: fired %d, left more than half: %s\n", fired[SIGVTALRM],
           cur.it_value.tv_usec > 50000 ? "yes" : "no");
    spin_until(SIGVTALRM, 1);
    getitimer(ITIMER_VIRTUAL, &cur);
    printf("virtual after computing: fired %d, disarmed %s\n", fired[SIGVTALRM],
           cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 ? "yes" : "no");
    printf("bad which: %d\n", setitimer(3, &virt, NULL));
}

static void *spinner(void *arg) {
    timer_t *timer = arg;
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGUSR2;
    ev._sigev_un._tid = syscall(SYS_gettid);
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, timer) != 0) {
        show("thread timer_create", -1);
        return NULL;
    }
    struct itimerspec its = {{0, 0}, {0, 50000000}};
    timer_settime(*timer, 0, &its, NULL);
    spin_until(SIGUSR2, 1);
    printf("thread timer fired in its thread: %s\n",
           handler_tid == syscall(SYS_gettid) ? "yes" : "no");
    return NULL;
}

static void posix_timers(void) {
    on(SIGUSR1);
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    timer_t timer;
    show("process timer_create", timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &timer));
    struct itimerspec its = {{0, 0}, {0, 80000000}}, cur;
    timer_settime(timer, 0, &its, NULL);
    timer_gettime(timer, &cur);
    printf("armed: %s\n", cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 80000000 ? "yes" : "no");
    spin_until(SIGUSR1, 1);
    timer_gettime(timer, &cur);
    printf("process timer fired %d, disarmed %s\n", fired[SIGUSR1], cur.it_value.tv_nsec == 0 ? "yes" : "no");
    /* An absolute time already passed expires at once. */
    struct itimerspec abs = {{0, 0}, {0, 1}};
    timer_settime(timer, TIMER_ABSTIME, &abs, NULL);
    spin_until(SIGUSR1, 2);
    printf("absolute time in the past fired: %s\n", fired[SIGUSR1] >= 2 ? "yes" : "no");
    timer_delete(timer);

    on(SIGUSR2);
    pthread_t th;
    timer_t thread_timer;
    pthread_create(&th, NULL, spinner, &thread_timer);
    pthread_join(th, NULL);

    clockid_t bogus = (clockid_t)((~(pid_t)999999 << 3) | 2);
    show("timer on a missing process's clock", timer_create(bogus, &ev, &timer));
    show("timer on a malformed clock", timer_create((clockid_t)(~0 << 3 | 3), &ev, &timer));
}

static volatile int by_timer, by_itimer;

static void classify(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    if (si->si_code == SI_TIMER)
        by_timer++;
    else if (si->si_code == SI_KERNEL)
        by_itimer++;
}

/* A profiler's pair (Go's runtime/pprof): a periodic thread CPU-clock
 * timer and ITIMER_PROF, both sending SIGPROF; neither starves the other. */
static void profiler_pair(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = classify;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    struct itimerval it = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_PROF, &it, NULL);
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGPROF;
    ev._sigev_un._tid = syscall(SYS_gettid);
    timer_t timer;
    timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &timer);
    struct itimerspec its = {{0, 10000000}, {0, 5000000}};
    timer_settime(timer, 0, &its, NULL);
    time_t start = time(NULL);
    while ((by_timer < 10 || by_itimer < 10) && time(NULL) - start < 20)
        ;
    printf("thread timer and ITIMER_PROF both fire: %s\n", by_timer >= 10 && by_itimer >= 10 ? "yes" : "no");
    timer_delete(timer);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
}

static void *busy(void *arg) {
    volatile int *stop = arg;
    while (!*stop)
        ;
    return NULL;
}

static void clocks(void) {
    volatile int stop = 0;
    pthread_t th;
    pthread_create(&th, NULL, busy, (void *)&stop);
    clockid_t c;
    show("pthread_getcpuclockid", -pthread_getcpuclockid(th, &c));
    double a = cpu_now(c);
    struct timespec nap = {0, 100000000};
    nanosleep(&nap, NULL);
    double b = cpu_now(c);
    printf("other thread's clock advances: %s\n", b > a ? "yes" : "no");
    stop = 1;
    pthread_join(th, NULL);

    pid_t child = fork();
    if (child == 0) {
        for (;;)
            ;
    }
    nanosleep(&nap, NULL);
    clockid_t pc;
    show("clock_getcpuclockid(child)", -clock_getcpuclockid(child, &pc));
    printf("child's clock counts: %s\n", cpu_now(pc) > 0.01 ? "yes" : "no");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);

    struct timespec tiny = {0, 1000000};
    errno = clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &tiny, NULL);
    show("clock_nanosleep on the thread clock", errno ? -1 : 0);
    double before = cpu_now(CLOCK_PROCESS_CPUTIME_ID);
    volatile int spin = 0;
    pthread_create(&th, NULL, busy, (void *)&spin);
    struct timespec want = {0, 50000000};
    errno = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &want, NULL);
    show("clock_nanosleep on the process clock", errno ? -1 : 0);
    printf("slept until the process used the time: %s\n",
           cpu_now(CLOCK_PROCESS_CPUTIME_ID) - before >= 0.05 ? "yes" : "no");
    spin = 1;
    pthread_join(th, NULL);
}

static void cpu_limit(void) {
    pid_t child = fork();
    if (child == 0) {
        on(SIGXCPU);
        struct rlimit rl = {1, 2};
        setrlimit(RLIMIT_CPU, &rl);
        spin_until(SIGXCPU, 1);
        getrlimit(RLIMIT_CPU, &rl);
        printf("SIGXCPU at the soft limit, soft now %lu hard %lu\n", (unsigned long)rl.rlim_cur,
               (unsigned long)rl.rlim_max);
        for (;;)
            ;
    }
    int status;
    waitpid(child, &status, 0);
    printf("at the hard limit: %s %d\n", WIFSIGNALED(status) ? "killed by" : "exited",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));

    child = fork();
    if (child == 0) {
        struct rlimit rl = {1, RLIM_INFINITY};
        setrlimit(RLIMIT_CPU, &rl);
        for (;;)
            ;
    }
    waitpid(child, &status, 0);
    printf("soft limit, default action: %s %d\n", WIFSIGNALED(status) ? "killed by" : "exited",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    itimers();
    posix_timers();
    profiler_pair();
    clocks();
    cpu_limit();
    return 0;
}
