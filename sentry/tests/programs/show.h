/* The one way the test programs print a call's outcome: "what: ok", or
 * "what: -1 ERRNO" with the errno's name, so that the native run is the
 * oracle for both. */
#ifndef SHOW_H
#define SHOW_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static void show(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: ok\n", what);
}

/* Waits for child `pid` and prints how it ended: "what: exit N" or
 * "what: killed by SIG". */
static inline void wait_child(const char *what, pid_t pid) {
    int status;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(status)));
    else
        printf("%s: exit %d\n", what, WEXITSTATUS(status));
}

#endif
