/* Nice values and scheduling policies as Linux answers them: getpriority
 * and setpriority (clamping, EACCES for an unprivileged raise, ESRCH and
 * EINVAL), the policies' priority ranges, sched_setscheduler's checks,
 * SCHED_RESET_ON_FORK, and sched_setaffinity's refusal of an empty mask. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static void nice_is(const char *what) {
    errno = 0;
    int n = getpriority(PRIO_PROCESS, 0);
    printf("%s: nice %d\n", what, n);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    nice_is("start");
    printf("raw getpriority %ld\n", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    show("setpriority 5", setpriority(PRIO_PROCESS, 0, 5));
    nice_is("after 5");
    show("setpriority 100 (clamped)", setpriority(PRIO_PROCESS, 0, 100));
    nice_is("after 100");
    show("setpriority bad which", setpriority(7, 0, 1));
    show("getpriority of no process", getpriority(PRIO_PROCESS, 999999) == -1 && errno ? -1 : 0);
    /* A process group of its own, so the native run's shell is not in it. */
    setpgid(0, 0);
    errno = 0;
    printf("process group: %d\n", getpriority(PRIO_PGRP, 0));
    show("setpriority back to 0 as root", setpriority(PRIO_PROCESS, 0, 0));

    printf("FIFO %d..%d, RR %d..%d, OTHER %d..%d, BATCH %d..%d\n",
           sched_get_priority_min(SCHED_FIFO), sched_get_priority_max(SCHED_FIFO),
           sched_get_priority_min(SCHED_RR), sched_get_priority_max(SCHED_RR),
           sched_get_priority_min(SCHED_OTHER), sched_get_priority_max(SCHED_OTHER),
           sched_get_priority_min(SCHED_BATCH), sched_get_priority_max(SCHED_BATCH));
    show("priority range of policy 42", sched_get_priority_max(42));
    printf("policy %d\n", sched_getscheduler(0));
    struct sched_param p = {.sched_priority = 5};
    show("OTHER with priority 5", sched_setscheduler(0, SCHED_OTHER, &p));
    p.sched_priority = 0;
    show("FIFO with priority 0", sched_setscheduler(0, SCHED_FIFO, &p));
    show("policy 42", sched_setscheduler(0, 42, &p));
    show("BATCH | RESET_ON_FORK", sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &p));
    printf("policy %#x\n", sched_getscheduler(0));
    sched_getparam(0, &p);
    printf("param %d\n", p.sched_priority);
    pid_t c = fork();
    if (c == 0) {
        printf("child policy %d\n", sched_getscheduler(0));
        /* An unprivileged process may lower its priority but not raise
         * it, nor pick a real-time policy. */
        setresuid(65534, 65534, 65534);
        show("child: nice 3", setpriority(PRIO_PROCESS, 0, 3));
        show("child: nice back to 1", setpriority(PRIO_PROCESS, 0, 1));
        struct sched_param rt = {.sched_priority = 10};
        show("child: FIFO", sched_setscheduler(0, SCHED_FIFO, &rt));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    p.sched_priority = 0;
    sched_setscheduler(0, SCHED_OTHER, &p);

    cpu_set_t set;
    CPU_ZERO(&set);
    show("setaffinity to nothing", sched_setaffinity(0, sizeof set, &set));
    CPU_SET(0, &set);
    show("setaffinity to cpu 0", sched_setaffinity(0, sizeof set, &set));
    show("getaffinity of no process", sched_getaffinity(999999, sizeof set, &set));
    return 0;
}
