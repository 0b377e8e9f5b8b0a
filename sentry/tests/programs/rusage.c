/* CPU-time accounting as programs read it: getrusage for the process, a
 * thread and the waited-for children, wait4's rusage, times, and the CPU
 * clocks. Each burns CPU until its own clock says so, then checks that
 * the other views agree; nothing depends on how fast the machine is. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static long long us(struct timeval tv) { return tv.tv_sec * 1000000LL + tv.tv_usec; }

/* Spins until `who`'s user time reaches `target` microseconds. */
static void burn(int who, long long target) {
    volatile unsigned long x = 0;
    for (;;) {
        for (int i = 0; i < 1000000; i++)
            x += i;
        struct rusage ru;
        getrusage(who, &ru);
        if (us(ru.ru_utime) >= target)
            return;
    }
}

static void *thread_burn(void *arg) {
    (void)arg;
    burn(RUSAGE_THREAD, 30000);
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    printf("thread: its own user time reached 30 ms: %d\n", us(ru.ru_utime) >= 30000);
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    show("getrusage bad who", getrusage(7, NULL));
    burn(RUSAGE_SELF, 30000);
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    printf("self: user >= 30 ms %d, maxrss > 0 %d\n", us(self.ru_utime) >= 30000,
           self.ru_maxrss > 0);
    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    printf("process CPU clock covers the user time: %d\n",
           cpu.tv_sec * 1000000LL + cpu.tv_nsec / 1000 >= us(self.ru_utime));

    pthread_t th;
    pthread_create(&th, NULL, thread_burn, NULL);
    pthread_join(th, NULL);
    struct rusage after;
    getrusage(RUSAGE_SELF, &after);
    printf("the thread's time counts for the process: %d\n",
           us(after.ru_utime) >= us(self.ru_utime) + 30000);

    struct rusage none;
    getrusage(RUSAGE_CHILDREN, &none);
    printf("children before any: %lld\n", us(none.ru_utime));
    pid_t child = fork();
    if (child == 0) {
        burn(RUSAGE_SELF, 50000);
        _exit(0);
    }
    struct rusage cru;
    int status;
    wait4(child, &status, 0, &cru);
    printf("wait4 rusage: user >= 50 ms %d\n", us(cru.ru_utime) >= 50000);
    struct rusage children;
    getrusage(RUSAGE_CHILDREN, &children);
    printf("children: user >= 50 ms %d\n", us(children.ru_utime) >= 50000);
    struct tms t;
    clock_t now = times(&t);
    printf("times: cutime >= 5 ticks %d, utime >= 6 ticks %d, returns > 0 %d\n",
           t.tms_cutime >= 5, t.tms_utime >= 6, now > 0);
    return 0;
}
