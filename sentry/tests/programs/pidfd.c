/* Process file descriptors: clone3 with CLONE_PIDFD, poll for the exit,
 * waitid(P_PIDFD), pidfd_open and pidfd_send_signal, and their errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#include "show.h"

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    int pidfd = -1;
    struct clone_args ca = {0};
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (unsigned long)&pidfd;
    ca.exit_signal = SIGCHLD;
    /* The child exits once the parent has polled: a pipe, not a sleep,
     * so a loaded machine cannot reorder them. */
    int go[2];
    pipe(go);
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0) {
        char c;
        read(go[0], &c, 1);
        _exit(9);
    }
    printf("pidfd valid: %s, cloexec: %s\n", pidfd >= 0 ? "yes" : "no",
           (fcntl(pidfd, F_GETFD) & FD_CLOEXEC) ? "yes" : "no");
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    printf("poll before exit: %d\n", poll(&p, 1, 0));
    write(go[1], "x", 1);
    int ready = poll(&p, 1, 5000);
    printf("poll until exit: %d revents POLLIN=%d\n", ready, !!(p.revents & POLLIN));
    siginfo_t si = {0};
    show("waitid P_PIDFD", waitid(P_PIDFD, pidfd, &si, WEXITED));
    printf("status %d code %d pid matches %d\n", si.si_status, si.si_code, si.si_pid == pid);
    close(pidfd);

    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    int fd = syscall(SYS_pidfd_open, pid, 0);
    show("pidfd_open child", fd);
    show("pidfd_send_signal 0", syscall(SYS_pidfd_send_signal, fd, 0, 0, 0));
    show("pidfd_send_signal bad flags", syscall(SYS_pidfd_send_signal, fd, SIGTERM, 0, 3));
    show("pidfd_send_signal unknown flag", syscall(SYS_pidfd_send_signal, fd, SIGTERM, 0, 8));
    show("pidfd_send_signal SIGTERM", syscall(SYS_pidfd_send_signal, fd, SIGTERM, 0, 0));
    int status;
    waitpid(pid, &status, 0);
    printf("child killed by %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    show("pidfd_send_signal after reap", syscall(SYS_pidfd_send_signal, fd, SIGTERM, 0, 0));
    show("pidfd_send_signal on stdin", syscall(SYS_pidfd_send_signal, 0, SIGTERM, 0, 0));
    show("pidfd_open reaped", syscall(SYS_pidfd_open, pid, 0));
    show("pidfd_open bad flags", syscall(SYS_pidfd_open, getpid(), 1));
    show("pidfd_open zero", syscall(SYS_pidfd_open, 0, 0));
    show("waitid P_PIDFD on stdin", waitid(P_PIDFD, 0, &si, WEXITED));
    show("clone PIDFD|PARENT_SETTID", syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, 0, 0));
    return 0;
}
