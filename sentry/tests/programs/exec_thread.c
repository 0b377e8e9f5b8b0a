/* execve from a thread that is not the leader: the other threads end and
 * the new program keeps the process ID. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static char pid_arg[64];

static void *spin(void *arg) {
    (void)arg;
    for (;;)
        pause();
    return 0;
}

static void *execer(void *arg) {
    (void)arg;
    char *argv[] = {"/bin/sh", "-c", pid_arg, 0};
    execv("/bin/sh", argv);
    perror("execv");
    return 0;
}

int main(void) {
    snprintf(pid_arg, sizeof pid_arg, "test $$ = %d && echo same pid; echo exec from thread",
             (int)getpid());
    pthread_t a, b, c;
    pthread_create(&a, 0, spin, 0);
    pthread_create(&b, 0, spin, 0);
    pthread_create(&c, 0, execer, 0);
    for (;;)
        pause();
}
