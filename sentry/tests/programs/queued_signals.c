/* Queued and synchronously awaited signals: real-time signals queue in
 * order with their values, standard ones merge, rt_sigpending reports
 * blocked pending signals, sigtimedwait times out with EAGAIN, a thread
 * takes a signal queued for it, SA_SIGINFO handlers and SIGCHLD carry
 * their siginfo, and a forged si_code is refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static void take_all(void) {
    sigset_t all;
    sigfillset(&all);
    struct timespec zero = {0, 0};
    siginfo_t si;
    int sig;
    while ((sig = sigtimedwait(&all, &si, &zero)) > 0) {
        if (sig >= SIGRTMIN)
            printf("took SIGRTMIN+%d code %d value %d from self %d\n", sig - SIGRTMIN,
                   si.si_code, si.si_value.sival_int, si.si_pid == getpid());
        else
            printf("took %s code %d from self %d\n", sigabbrev_np(sig), si.si_code,
                   si.si_pid == getpid());
    }
    printf("then: %s\n", strerrorname_np(errno));
}

static void print_pending(const char *when) {
    sigset_t p;
    sigpending(&p);
    printf("%s pending:", when);
    for (int s = 1; s < 65; s++)
        if (sigismember(&p, s))
            printf(" %d", s >= SIGRTMIN ? 1000 + s - SIGRTMIN : s);
    printf("\n");
}

static volatile int handled_value = -1, handled_code = 0, handled_self = 0;

static void on_usr2(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    handled_value = si->si_value.sival_int;
    handled_code = si->si_code;
    handled_self = si->si_pid == getpid();
}

static void *waiter(void *arg) {
    sigset_t *set = arg;
    siginfo_t si;
    int sig = sigwaitinfo(set, &si);
    printf("thread took SIGRTMIN+%d value %d code %d\n", sig - SIGRTMIN, si.si_value.sival_int,
           si.si_code);
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t block;
    sigfillset(&block);
    sigprocmask(SIG_BLOCK, &block, NULL);

    /* Queueing and order. */
    for (int v = 1; v <= 3; v++)
        sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = v});
    sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 9});
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGRTMIN + 2);
    kill(getpid(), SIGRTMIN + 2);
    print_pending("queued");
    take_all();
    print_pending("after");

    /* A timeout. */
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    struct timespec short_wait = {0, 20 * 1000 * 1000};
    show("timed wait", sigtimedwait(&one, NULL, &short_wait));

    /* A signal queued for one thread. */
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 3);
    pthread_t th;
    pthread_create(&th, NULL, waiter, &rt);
    usleep(20000);
    pthread_sigqueue(th, SIGRTMIN + 3, (union sigval){.sival_int = 42});
    pthread_join(th, NULL);

    /* An SA_SIGINFO handler gets the value. */
    struct sigaction sa = {0};
    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    sigqueue(getpid(), SIGUSR2, (union sigval){.sival_int = 77});
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);
    printf("handler value %d code %d self %d\n", handled_value, handled_code, handled_self);

    /* SIGCHLD's siginfo. */
    pid_t child = fork();
    if (child == 0)
        _exit(7);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    siginfo_t si;
    sigwaitinfo(&chld, &si);
    printf("SIGCHLD code %d status %d from child %d\n", si.si_code, si.si_status,
           si.si_pid == child);
    waitpid(child, NULL, 0);

    /* Posing as kill() to another process is refused. */
    child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    siginfo_t forged = {0};
    forged.si_code = SI_USER;
    show("forged SI_USER", syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &forged));
    forged.si_code = SI_QUEUE;
    show("probe with SI_QUEUE", syscall(SYS_rt_sigqueueinfo, child, 0, &forged));
    show("wrong thread", syscall(SYS_rt_tgsigqueueinfo, child, child + 1000000, SIGUSR1, &forged));
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    printf("child killed by %d\n", WTERMSIG(status));
    return 0;
}
