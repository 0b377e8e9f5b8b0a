/* Credentials and resource limits: the set*id family with Linux's
 * permission rules and capability changes, supplementary groups,
 * RLIMIT_NOFILE, RLIMIT_FSIZE (with SIGXFSZ) and RLIMIT_AS. Each case
 * runs in a child so the next starts as root again. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static void ids(const char *when) {
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    printf("%s: uid %u %u %u gid %u %u %u\n", when, r, e, s, gr, ge, gs);
}

static void caps(const char *when) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0) {
        printf("%s: capget %s\n", when, strerror(errno));
        return;
    }
    printf("%s: caps effective %s permitted %s\n", when,
           d[0].effective ? "some" : "none", d[0].permitted ? "some" : "none");
}


static void in_child(void (*f)(void)) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        f();
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        printf("child killed by signal %d\n", WTERMSIG(status));
    else
        printf("child exited %d\n", WEXITSTATUS(status));
}

static void drop_everything(void) {
    gid_t groups[] = {7, 5, 5, 6};
    show("setgroups", setgroups(4, groups));
    gid_t got[8];
    int n = getgroups(8, got);
    printf("groups:");
    for (int i = 0; i < n; i++)
        printf(" %u", got[i]);
    printf("\n");
    show("getgroups(1)", getgroups(1, got));
    show("setresgid", setresgid(100, 100, 100));
    show("setresuid", setresuid(1000, 1000, 1000));
    ids("dropped");
    caps("dropped");
    show("setuid(0)", setuid(0));
    show("setresuid(0,-1,-1)", setresuid(0, -1, -1));
    show("setgroups again", setgroups(0, NULL));
    show("setuid(-1)", setuid(-1));
    show("setuid(1000)", setuid(1000));
}

static void effective_only(void) {
    show("setreuid(-1,1000)", setreuid(-1, 1000));
    ids("euid 1000");
    caps("euid 1000");
    show("setreuid(-1,0)", setreuid(-1, 0));
    ids("euid 0 again");
    caps("euid 0 again");
    show("seteuid(2000)", seteuid(2000));
    show("setresuid(2000,2000,-1)", setresuid(2000, 2000, -1));
    ids("real and effective 2000");
    caps("real and effective 2000");
    show("setreuid(0,-1)", setreuid(0, -1));
}

static void nofile(void) {
    struct rlimit rl;
    rl.rlim_cur = 16;
    rl.rlim_max = 32;
    show("setrlimit nofile 16/32", setrlimit(RLIMIT_NOFILE, &rl));
    int opened = 0, last = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) {
            /* How many were free depends on what the parent left open. */
            printf("open stopped%s: %s\n", opened > 0 ? "" : " at once", strerror(errno));
            break;
        }
        opened++;
        last = fd;
    }
    printf("highest fd %d\n", last);
    show("dup2 to 20", dup2(0, 20));
    show("fcntl F_DUPFD 16", fcntl(0, F_DUPFD, 16));
    rl.rlim_cur = 8;
    rl.rlim_max = 8;
    show("setrlimit nofile 8/8", setrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_cur = 9;
    rl.rlim_max = 4;
    show("soft above hard", setrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_cur = 1 << 21;
    rl.rlim_max = 1 << 21;
    show("past nr_open", setrlimit(RLIMIT_NOFILE, &rl));
    show("bad resource", setrlimit(99, &rl));
    /* An unprivileged process cannot raise its hard limit. */
    setresuid(1000, 1000, 1000);
    rl.rlim_cur = 8;
    rl.rlim_max = 9;
    show("raise hard unprivileged", setrlimit(RLIMIT_NOFILE, &rl));
    struct rlimit old;
    show("prlimit read", prlimit(0, RLIMIT_NOFILE, NULL, &old));
    printf("nofile now %llu %llu\n", (unsigned long long)old.rlim_cur,
           (unsigned long long)old.rlim_max);
}

static void fsize_ignored(void) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {1000, 1000};
    setrlimit(RLIMIT_FSIZE, &rl);
    int fd = open("/tmp/identity-fsize", O_CREAT | O_TRUNC | O_WRONLY, 0600);
    char buf[1500];
    memset(buf, 'x', sizeof buf);
    /* The write stops at the limit: a short count, not an error. */
    printf("write 1500 under 1000 wrote %zd\n", write(fd, buf, sizeof buf));
    show("write past the limit", write(fd, buf, 10));
    show("ftruncate past", ftruncate(fd, 5000));
    close(fd);
    unlink("/tmp/identity-fsize");
}

static void fsize_default(void) {
    struct rlimit rl = {100, 100};
    setrlimit(RLIMIT_FSIZE, &rl);
    int fd = open("/tmp/identity-fsize2", O_CREAT | O_TRUNC | O_WRONLY, 0600);
    unlink("/tmp/identity-fsize2");
    char buf[200] = {0};
    write(fd, buf, 100);
    fflush(stdout);
    write(fd, buf, 1);
    printf("survived SIGXFSZ\n");
}

static void address_space(void) {
    struct rlimit rl = {1ull << 30, 1ull << 30};
    show("setrlimit as 1 GiB", setrlimit(RLIMIT_AS, &rl));
    void *p = mmap(NULL, 2ull << 30, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 2 GiB: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
    p = mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 1 MiB: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
}

int main(void) {
    ids("start");
    caps("start");
    in_child(drop_everything);
    in_child(effective_only);
    in_child(nofile);
    in_child(fsize_ignored);
    in_child(fsize_default);
    in_child(address_space);
    return 0;
}
