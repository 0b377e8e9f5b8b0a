/* Cancellation, a thread exiting while others run, the main thread
 * leaving first, fork from a thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int cleaned;

static void cleanup(void *arg) {
    (void)arg;
    cleaned = 1;
    pthread_mutex_unlock(&mu);
}

static void *blocked(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    pthread_cleanup_push(cleanup, 0);
    for (;;)
        pthread_cond_wait(&never, &mu);
    pthread_cleanup_pop(1);
    return 0;
}

static void *sleeper(void *arg) {
    (void)arg;
    for (;;)
        sleep(100);
    return 0;
}

static void *early(void *arg) {
    (void)arg;
    pthread_exit((void *)42);
}

static void *forker(void *arg) {
    (void)arg;
    pid_t pid = fork();
    if (pid == 0) {
        printf("child of a thread\n");
        fflush(stdout);
        _exit(7);
    }
    int status;
    waitpid(pid, &status, 0);
    return (void *)(long)WEXITSTATUS(status);
}

static void *last(void *arg) {
    (void)arg;
    usleep(200000);
    printf("last thread out\n");
    fflush(stdout);
    exit(0);
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    pthread_t t;
    void *r;
    pthread_create(&t, 0, blocked, 0);
    usleep(50000);
    pthread_cancel(t);
    pthread_join(t, &r);
    printf("cancel in cond_wait: %s cleaned=%d\n", r == PTHREAD_CANCELED ? "canceled" : "?", cleaned);
    pthread_create(&t, 0, sleeper, 0);
    usleep(50000);
    pthread_cancel(t);
    pthread_join(t, &r);
    printf("cancel in sleep: %s\n", r == PTHREAD_CANCELED ? "canceled" : "?");
    pthread_create(&t, 0, early, 0);
    pthread_join(t, &r);
    printf("early exit: %ld\n", (long)r);
    pthread_create(&t, 0, forker, 0);
    pthread_join(t, &r);
    printf("fork from thread: child status %ld\n", (long)r);
    pthread_create(&t, 0, last, 0);
    /* The main thread leaves first; the process lives on. */
    pthread_exit(0);
}
