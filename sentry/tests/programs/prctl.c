/* prctl options as Linux answers them: the parent-death signal with a
 * child subreaper that inherits the orphan, dumpable, keep-caps,
 * no_new_privs (inherited), timer slack, the bounding and ambient
 * capability sets, and EINVAL for bad values and unknown options. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_RAISE 2
#endif

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int sig = -1;
    show("PR_SET_PDEATHSIG 65", prctl(PR_SET_PDEATHSIG, 65));
    prctl(PR_SET_PDEATHSIG, SIGUSR2);
    prctl(PR_GET_PDEATHSIG, &sig);
    printf("pdeathsig %d\n", sig);
    prctl(PR_SET_PDEATHSIG, 0);

    printf("dumpable %d\n", prctl(PR_GET_DUMPABLE));
    show("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2));
    prctl(PR_SET_DUMPABLE, 0);
    printf("dumpable after 0: %d\n", prctl(PR_GET_DUMPABLE));
    prctl(PR_SET_DUMPABLE, 1);
    printf("keepcaps %d\n", prctl(PR_GET_KEEPCAPS));
    prctl(PR_SET_KEEPCAPS, 1);
    printf("keepcaps after 1: %d\n", prctl(PR_GET_KEEPCAPS));
    prctl(PR_SET_KEEPCAPS, 0);
    printf("timer slack %d\n", prctl(PR_GET_TIMERSLACK));
    prctl(PR_SET_TIMERSLACK, 1000);
    printf("timer slack after 1000: %d\n", prctl(PR_GET_TIMERSLACK));
    prctl(PR_SET_TIMERSLACK, 0);
    printf("timer slack after 0: %d\n", prctl(PR_GET_TIMERSLACK));
    printf("seccomp mode %d\n", prctl(PR_GET_SECCOMP));
    printf("CAP_CHOWN in the bounding set %d\n", prctl(PR_CAPBSET_READ, 0));
    show("PR_CAPBSET_READ 100", prctl(PR_CAPBSET_READ, 100));
    printf("ambient CAP_CHOWN %d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0, 0, 0));
    show("unknown option", prctl(9999, 0, 0, 0, 0));
    show("PR_SET_NO_NEW_PRIVS 0", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
    show("PR_SET_NO_NEW_PRIVS with junk", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));

    /* Bounding-set drops and no_new_privs in a child. */
    pid_t c = fork();
    if (c == 0) {
        show("PR_CAPBSET_DROP CAP_MKNOD", prctl(PR_CAPBSET_DROP, 27));
        printf("CAP_MKNOD after the drop %d\n", prctl(PR_CAPBSET_READ, 27));
        show("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
        pid_t g = fork();
        if (g == 0) {
            printf("no_new_privs inherited %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
            _exit(0);
        }
        waitpid(g, NULL, 0);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("no_new_privs here %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));

    /* A subreaper inherits the orphan, whose parent-death signal kills
     * it when its parent exits. */
    show("PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1));
    int on = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &on);
    printf("subreaper %d\n", on);
    int p[2], q[2];
    pipe(p);
    pipe(q);
    pid_t me = getpid();
    pid_t parent = fork();
    if (parent == 0) {
        pid_t orphan = fork();
        if (orphan == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            write(q[1], &orphan, 1);
            for (;;)
                pause();
        }
        write(p[1], &orphan, sizeof orphan);
        char x;
        read(q[0], &x, 1);
        _exit(5);
    }
    pid_t orphan;
    read(p[0], &orphan, sizeof orphan);
    int status;
    waitpid(parent, &status, 0);
    printf("the parent exited %d\n", WEXITSTATUS(status));
    pid_t got = waitpid(orphan, &status, 0);
    printf("the subreaper reaped the orphan %d, killed by %d\n", got == orphan,
           WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    (void)me;
    return 0;
}
