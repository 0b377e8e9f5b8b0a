/* Process groups and sessions: setsid, setpgid, getpgid, getsid,
 * getpgrp, kill and waitpid of a process group, with Linux's errors.
 * Only relations are printed: the IDs differ between runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    pid_t me = getpid();
    printf("getpgrp == getpgid(0): %d\n", getpgrp() == getpgid(0));
    printf("getsid(0) == getsid(me): %d\n", getsid(0) == getsid(me));
    show("getpgid of nobody", getpgid(999999));
    show("getsid of nobody", getsid(999999));
    show("setpgid negative pgid", setpgid(0, -1));
    show("setpgid of a stranger", setpgid(999999, 0));

    int p[2];
    pipe(p);
    pid_t child = fork();
    if (child == 0) {
        char c;
        printf("child pgrp is the parent's: %d\n", getpgrp() == getpgid(getppid()));
        pid_t sid = setsid();
        printf("setsid returns my pid: %d, sid %d pgrp %d\n", sid == getpid(),
               getsid(0) == getpid(), getpgrp() == getpid());
        show("setsid again", setsid());
        show("setpgid of a session leader", setpgid(0, 0));
        read(p[0], &c, 1);
        _exit(3);
    }
    usleep(100000);
    show("setpgid of a child in another session", setpgid(child, child));
    write(p[1], "x", 1);
    int status;
    waitpid(child, &status, 0);
    printf("child status %d\n", WEXITSTATUS(status));

    /* A child in a group of its own, signalled and waited for by group. */
    pid_t a = fork();
    if (a == 0) {
        setpgid(0, 0);
        pause();
        _exit(0);
    }
    setpgid(a, a);
    pid_t b = fork();
    if (b == 0) {
        pause();
        _exit(0);
    }
    show("setpgid joining the group", setpgid(b, a));
    printf("b's group is a: %d\n", getpgid(b) == a);
    show("kill the group", kill(-a, SIGTERM));
    int n = 0;
    while (waitpid(-a, &status, 0) > 0)
        n += WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
    printf("reaped by group, killed by SIGTERM: %d\n", n);
    show("kill an empty group", kill(-a, SIGTERM));

    /* A child that ran execve can no longer be moved. */
    pid_t e = fork();
    if (e == 0) {
        execl("/bin/sleep", "sleep", "0.3", (char *)0);
        _exit(127);
    }
    usleep(150000);
    show("setpgid after exec", setpgid(e, e));
    waitpid(e, &status, 0);
    (void)me;
    return 0;
}
