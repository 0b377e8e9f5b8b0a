/* unshare(2), pidfd_getfd(2), fchmodat2(2) and get_robust_list(2):
 * descriptor tables and fs contexts stop being shared, descriptors are
 * taken from another process, a symlink's mode cannot change, and
 * threads' robust lists can be read; with Linux's errno for each
 * misuse. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static int shared_fd = -1;
static char stack[65536];

/* A thread-like child sharing the descriptor table and fs context:
 * after unshare, its changes stay its own. */
static int child(void *arg) {
    (void)arg;
    show("unshare(CLONE_FILES) in the child", unshare(CLONE_FILES));
    close(shared_fd);
    show("unshare(CLONE_FS) in the child", unshare(CLONE_FS));
    umask(077);
    chdir("/");
    return 0;
}

static void robust_lists(void) {
    void *head = NULL;
    size_t len = 0;
    show("get_robust_list(0)", syscall(SYS_get_robust_list, 0, &head, &len));
    printf("glibc registered one: %d, len %zu\n", head != NULL, len);
    void *mine = NULL;
    syscall(SYS_get_robust_list, gettid(), &mine, &len);
    printf("by tid the same: %d\n", mine == head);
    show("get_robust_list no such thread", syscall(SYS_get_robust_list, 999999, &head, &len));
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    void *child = NULL;
    show("get_robust_list of a child", syscall(SYS_get_robust_list, pid, &child, &len));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    robust_lists();
    show("unshare(0)", unshare(0));
    show("unshare unknown flag", unshare(0x40));
    show("unshare CLONE_SYSVSEM", unshare(CLONE_SYSVSEM));
    show("unshare CLONE_THREAD single-threaded", unshare(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM));
    show("unshare CLONE_FILES unshared", unshare(CLONE_FILES | CLONE_FS));

    shared_fd = open("/dev/null", O_RDONLY);
    umask(022);
    char before[256];
    getcwd(before, sizeof before);
    pid_t pid = clone(child, stack + sizeof stack, CLONE_FILES | CLONE_FS | SIGCHLD, NULL);
    int status;
    waitpid(pid, &status, 0);
    show("the parent's descriptor is still open", fcntl(shared_fd, F_GETFD));
    mode_t m = umask(022);
    char after[256];
    getcwd(after, sizeof after);
    printf("umask still %03o, cwd unchanged %d\n", m, strcmp(before, after) == 0);

    /* pidfd_getfd: a duplicate of a child's descriptor. */
    int p[2];
    pipe(p);
    pid = fork();
    if (pid == 0) {
        int f = open("/etc/hostname", O_RDONLY);
        dup2(f, 42);
        write(p[1], "r", 1);
        pause();
        _exit(0);
    }
    char c;
    read(p[0], &c, 1);
    int pfd = syscall(SYS_pidfd_open, pid, 0);
    show("pidfd_getfd bad flags", syscall(SYS_pidfd_getfd, pfd, 42, 1));
    show("pidfd_getfd not a pidfd", syscall(SYS_pidfd_getfd, p[0], 42, 0));
    show("pidfd_getfd closed target fd", syscall(SYS_pidfd_getfd, pfd, 43, 0));
    int got = syscall(SYS_pidfd_getfd, pfd, 42, 0);
    show("pidfd_getfd", got);
    struct stat a, b;
    fstat(got, &a);
    stat("/etc/hostname", &b);
    printf("same file %d cloexec %d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev,
           fcntl(got, F_GETFD) & FD_CLOEXEC);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    show("pidfd_getfd after exit", syscall(SYS_pidfd_getfd, pfd, 42, 0));

    /* fchmodat2. */
    char dir[64], file[80], link[80];
    snprintf(dir, sizeof dir, "/tmp/fchmodat2-%d", getpid());
    mkdir(dir, 0755);
    snprintf(file, sizeof file, "%s/f", dir);
    snprintf(link, sizeof link, "%s/l", dir);
    close(open(file, O_CREAT | O_WRONLY, 0644));
    symlink("f", link);
    show("fchmodat2 bad flags", syscall(SYS_fchmodat2, AT_FDCWD, file, 0600, 0x1));
    show("fchmodat2 follows", syscall(SYS_fchmodat2, AT_FDCWD, link, 0600, 0));
    stat(file, &a);
    printf("mode %o\n", a.st_mode & 0777);
    show("fchmodat2 nofollow on a symlink", syscall(SYS_fchmodat2, AT_FDCWD, link, 0600, AT_SYMLINK_NOFOLLOW));
    show("fchmodat2 nofollow on a file", syscall(SYS_fchmodat2, AT_FDCWD, file, 0640, AT_SYMLINK_NOFOLLOW));
    int dfd = open(file, O_RDONLY);
    show("fchmodat2 empty path", syscall(SYS_fchmodat2, dfd, "", 0604, AT_EMPTY_PATH));
    fstat(dfd, &a);
    printf("mode %o\n", a.st_mode & 0777);
    close(dfd);
    unlink(link);
    unlink(file);
    rmdir(dir);
    return 0;
}
