/* Resource limits on memory and processes: RLIMIT_DATA bounds private
 * writable mappings, brk and mremap growth (not read-only or shared
 * mappings); RLIMIT_STACK sizes the stack of the next program (a
 * recursion deeper than the limit faults, one within it does not);
 * RLIMIT_NPROC bounds a user's tasks, threads included, except root's.
 * Each case runs in a child. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "show.h"

#define MB (1L << 20)

static void data_limit(void) {
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {64 * MB, 64 * MB};
        setrlimit(RLIMIT_DATA, &rl);
        void *p = mmap(NULL, 100 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        show("private writable 100 MiB", p == MAP_FAILED ? -1 : 0);
        p = mmap(NULL, 100 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        show("private read-only 100 MiB", p == MAP_FAILED ? -1 : 0);
        p = mmap(NULL, 100 * MB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        show("shared writable 100 MiB", p == MAP_FAILED ? -1 : 0);
        void *small = mmap(NULL, 16 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        show("private writable 16 MiB", small == MAP_FAILED ? -1 : 0);
        void *grown = mremap(small, 16 * MB, 100 * MB, MREMAP_MAYMOVE);
        show("mremap to 100 MiB", grown == MAP_FAILED ? -1 : 0);
        errno = 0;
        void *brk = sbrk(100 * MB);
        show("sbrk 100 MiB", brk == (void *)-1 ? -1 : 0);
        show("sbrk 1 MiB", sbrk(MB) == (void *)-1 ? -1 : 0);
        printf("malloc 100 MiB: %s\n", malloc(100 * MB) ? "ok" : "NULL");
        _exit(0);
    }
    wait_child("data child", pid);
}

static int recurse(int depth) {
    volatile char frame[4096];
    frame[0] = (char)depth;
    if (depth == 0)
        return frame[0];
    return recurse(depth - 1) + frame[0];
}

static void stack_limit(const char *self) {
    long sizes[][2] = {{1024, 512}, {16384, 2000}, {8192, 64}};
    for (int i = 0; i < 3; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct rlimit rl = {sizes[i][0] * 1024, RLIM_INFINITY};
            setrlimit(RLIMIT_STACK, &rl);
            char depth[16];
            snprintf(depth, sizeof depth, "%ld", sizes[i][1]);
            execl(self, self, "recurse", depth, (char *)NULL);
            _exit(127);
        }
        char what[64];
        snprintf(what, sizeof what, "stack %ld KiB, %ld frames of 4 KiB", sizes[i][0], sizes[i][1]);
        wait_child(what, pid);
    }
}

static void *idle(void *arg) {
    (void)arg;
    pause();
    return NULL;
}

static void nproc_limit(void) {
    pid_t pid = fork();
    if (pid == 0) {
        /* A user id no host process uses. */
        setgroups(0, NULL);
        setresgid(54321, 54321, 54321);
        setresuid(54321, 54321, 54321);
        struct rlimit rl = {3, 3};
        setrlimit(RLIMIT_NPROC, &rl);
        pid_t kids[5];
        int made = 0;
        for (int i = 0; i < 5; i++) {
            kids[i] = fork();
            if (kids[i] == 0) {
                pause();
                _exit(0);
            }
            if (kids[i] < 0) {
                printf("fork %d: %s\n", i, strerrorname_np(errno));
                break;
            }
            made++;
        }
        printf("forks made: %d\n", made);
        for (int i = 0; i < made; i++) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
        }
        pthread_t th[4];
        int threads = 0;
        for (int i = 0; i < 4; i++) {
            int r = pthread_create(&th[i], NULL, idle, NULL);
            if (r != 0) {
                printf("thread %d: %s\n", i, strerrorname_np(r));
                break;
            }
            threads++;
        }
        printf("threads made: %d\n", threads);
        _exit(0);
    }
    wait_child("nproc child", pid);

    pid = fork();
    if (pid == 0) {
        struct rlimit rl = {1, 1};
        setrlimit(RLIMIT_NPROC, &rl);
        pid_t kid = fork();
        if (kid == 0)
            _exit(0);
        show("root over RLIMIT_NPROC forks", kid);
        waitpid(kid, NULL, 0);
        _exit(0);
    }
    wait_child("root child", pid);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 2 && !strcmp(argv[1], "recurse"))
        return recurse(atoi(argv[2])) == 12345;
    data_limit();
    stack_limit("/proc/self/exe");
    nproc_limit();
    return 0;
}
