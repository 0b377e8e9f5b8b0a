/* The application's own seccomp filters: installation rules and errors,
 * every return action, precedence among stacked filters, argument
 * checks, inheritance by fork, threads and exec, TSYNC, strict mode, and
 * how a filtered process or thread ends. Each case runs in a child,
 * since filters cannot be removed. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "show.h"

#define NR_LOAD BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define ON(nr, action)                                                                             \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, (action))
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static long install(struct sock_filter *f, unsigned short len, unsigned flags) {
    struct sock_fprog prog = {len, f};
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

#define INSTALL(flags, ...)                                                                        \
    ({                                                                                             \
        struct sock_filter f_[] = {__VA_ARGS__};                                                   \
        install(f_, sizeof f_ / sizeof *f_, (flags));                                             \
    })

static void status_lines(void) {
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Seccomp", 7) || !strncmp(line, "NoNewPrivs", 10))
            printf("  %s", line);
    if (f)
        fclose(f);
}

static void installation(void) {
    printf("PR_GET_SECCOMP: %d\n", prctl(PR_GET_SECCOMP));
    struct sock_filter allow[] = {ALLOW};
    show("empty program", install(allow, 0, 0));
    struct sock_filter bad[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 3), ALLOW};
    show("unaligned load", install(bad, 2, 0));
    struct sock_filter noret[] = {NR_LOAD};
    show("no return", install(noret, 1, 0));
    show("unknown flag", install(allow, 1, 1u << 20));
    show("bad operation", syscall(SYS_seccomp, 99, 0, NULL));
    show("strict with args", syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, allow));
    show("bad program address", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (void *)8));
    unsigned action = SECCOMP_RET_LOG;
    show("action LOG available", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action));
    action = 0x12340000;
    show("unknown action available", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action));

    pid_t pid = fork();
    if (pid == 0) {
        setresgid(65534, 65534, 65534);
        setresuid(65534, 65534, 65534);
        show("unprivileged without no_new_privs", install(allow, 1, 0));
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        show("unprivileged with no_new_privs", install(allow, 1, 0));
        printf("PR_GET_SECCOMP now: %d\n", prctl(PR_GET_SECCOMP));
        status_lines();
        _exit(0);
    }
    wait_child("installation child", pid);

    pid = fork();
    if (pid == 0) {
        /* Filters of BPF_MAXINSNS instructions until the path limit. */
        static struct sock_filter big[BPF_MAXINSNS];
        for (int i = 0; i < BPF_MAXINSNS - 1; i++)
            big[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, i);
        big[BPF_MAXINSNS - 1] = (struct sock_filter)ALLOW;
        int n = 0;
        while (n < 20 && install(big, BPF_MAXINSNS, 0) == 0)
            n++;
        printf("full-size filters before the path limit: %d (%s)\n", n, strerrorname_np(errno));
        _exit(0);
    }
    wait_child("path limit child", pid);
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    printf("SIGSYS: code %d errno %d syscall %d arch ok %d call_addr set %d rax %lld\n",
           si->si_code, si->si_errno, si->si_syscall, si->si_arch == AUDIT_ARCH_X86_64,
           si->si_call_addr != NULL, (long long)uc->uc_mcontext.gregs[REG_RAX]);
    uc->uc_mcontext.gregs[REG_RAX] = 777;
    (void)sig;
}

static void actions(void) {
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa = {0};
        sa.sa_sigaction = on_sigsys;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSYS, &sa, NULL);
        show("install",
             INSTALL(0, NR_LOAD, ON(SYS_getppid, SECCOMP_RET_ERRNO | EACCES),
                     ON(SYS_uname, SECCOMP_RET_ERRNO | 0), ON(SYS_getuid, SECCOMP_RET_TRAP | 42),
                     ON(SYS_getgid, SECCOMP_RET_TRACE), ON(SYS_getegid, SECCOMP_RET_USER_NOTIF),
                     ON(SYS_geteuid, SECCOMP_RET_LOG), ON(SYS_dup, SECCOMP_RET_ERRNO | 70000),
                     ALLOW));
        show("getppid (ERRNO EACCES)", syscall(SYS_getppid));
        printf("uname (ERRNO 0): %ld\n", syscall(SYS_uname, NULL));
        printf("getuid (TRAP, handler sets 777): %ld\n", syscall(SYS_getuid));
        show("getgid (TRACE, no tracer)", syscall(SYS_getgid));
        show("getegid (USER_NOTIF, no listener)", syscall(SYS_getegid));
        printf("geteuid (LOG): %ld\n", syscall(SYS_geteuid));
        errno = 0;
        long r = syscall(SYS_dup, 0);
        printf("dup (ERRNO above 4095): %ld errno %d\n", r, errno);
        show("getpid (allowed)", syscall(SYS_getpid));
        _exit(0);
    }
    wait_child("actions child", pid);

    pid = fork();
    if (pid == 0) {
        /* Newer ALLOW does not beat older ERRNO; newer KILL beats both. */
        INSTALL(0, NR_LOAD, ON(SYS_getpid, SECCOMP_RET_ERRNO | EPERM), ALLOW);
        INSTALL(0, NR_LOAD, ON(SYS_getpid, SECCOMP_RET_ALLOW), ON(SYS_getppid, SECCOMP_RET_ERRNO | ENOENT),
                ALLOW);
        INSTALL(0, NR_LOAD, ON(SYS_getppid, SECCOMP_RET_ERRNO | EIO), ALLOW);
        show("getpid: older ERRNO wins over newer ALLOW", syscall(SYS_getpid));
        show("getppid: two ERRNOs, the newer filter's", syscall(SYS_getppid));
        status_lines();
        /* Arguments: dup(123) only. */
        INSTALL(0, NR_LOAD, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_dup, 0, 3),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 123, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTSUP), ALLOW);
        show("dup(123)", syscall(SYS_dup, 123));
        show("dup(1)", syscall(SYS_dup, 1));
        /* Inherited by fork and kept across exec. */
        pid_t child = fork();
        if (child == 0) {
            show("forked child's getppid", syscall(SYS_getppid));
            execl("/proc/self/exe", "seccomp", "exec", (char *)NULL);
            _exit(127);
        }
        wait_child("forked child", child);
        _exit(0);
    }
    wait_child("stacking child", pid);
}

static void *yield_thread(void *arg) {
    (void)arg;
    syscall(SYS_sched_yield);
    return (void *)1;
}

static void *getppid_thread(void *arg) {
    (void)arg;
    errno = 0;
    syscall(SYS_getppid);
    return (void *)(long)errno;
}

static void endings(void) {
    pid_t pid = fork();
    if (pid == 0) {
        INSTALL(0, NR_LOAD, ON(SYS_sched_yield, SECCOMP_RET_KILL_PROCESS), ALLOW);
        syscall(SYS_sched_yield);
        _exit(0);
    }
    wait_child("KILL_PROCESS", pid);

    pid = fork();
    if (pid == 0) {
        INSTALL(0, NR_LOAD, ON(SYS_sched_yield, SECCOMP_RET_KILL_THREAD), ALLOW);
        syscall(SYS_sched_yield);
        _exit(0);
    }
    wait_child("KILL_THREAD, only thread", pid);

    pid = fork();
    if (pid == 0) {
        INSTALL(0, NR_LOAD, ON(SYS_sched_yield, SECCOMP_RET_KILL_THREAD), ALLOW);
        pthread_t th;
        pthread_create(&th, NULL, yield_thread, NULL);
        void *ret = NULL;
        pthread_join(th, &ret);
        printf("KILL_THREAD of another thread: main continues, thread returned %ld\n", (long)ret);
        _exit(3);
    }
    wait_child("KILL_THREAD, other thread", pid);

    pid = fork();
    if (pid == 0) {
        INSTALL(0, NR_LOAD, ON(SYS_getuid, 0x12340000), ALLOW);
        syscall(SYS_getuid);
        _exit(0);
    }
    wait_child("unknown action", pid);

    pid = fork();
    if (pid == 0) {
        /* A blocked SIGSYS does not stop a TRAP from ending the process. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSYS);
        sigprocmask(SIG_BLOCK, &set, NULL);
        INSTALL(0, NR_LOAD, ON(SYS_getuid, SECCOMP_RET_TRAP), ALLOW);
        syscall(SYS_getuid);
        _exit(0);
    }
    wait_child("TRAP with SIGSYS blocked", pid);

    pid = fork();
    if (pid == 0) {
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT);
        const char msg[] = "strict: write works\n";
        write(1, msg, sizeof msg - 1);
        syscall(SYS_getpid);
        write(1, "unreachable\n", 12);
        syscall(SYS_exit, 0);
    }
    wait_child("strict mode", pid);
}

static void tsync(void) {
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t th;
        /* TSYNC puts the filter on the other threads too. */
        show("TSYNC", INSTALL(SECCOMP_FILTER_FLAG_TSYNC, NR_LOAD,
                              ON(SYS_getppid, SECCOMP_RET_ERRNO | EACCES), ALLOW));
        pthread_create(&th, NULL, getppid_thread, NULL);
        void *err;
        pthread_join(th, &err);
        printf("new thread's getppid: %s\n", strerrorname_np((long)err));
        _exit(0);
    }
    wait_child("TSYNC child", pid);
}

static pthread_barrier_t ready, done;

static void *diverging(void *arg) {
    (void)arg;
    INSTALL(0, NR_LOAD, ON(SYS_getppid, SECCOMP_RET_ERRNO | EIO), ALLOW);
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&done);
    return NULL;
}

static void tsync_conflict(void) {
    pid_t pid = fork();
    if (pid == 0) {
        pthread_barrier_init(&ready, NULL, 2);
        pthread_barrier_init(&done, NULL, 2);
        pthread_t th;
        pthread_create(&th, NULL, diverging, NULL);
        pthread_barrier_wait(&ready);
        long r = INSTALL(SECCOMP_FILTER_FLAG_TSYNC, NR_LOAD, ALLOW);
        printf("TSYNC over a diverging thread returns a thread id: %s\n", r > 0 && r != getpid() ? "yes" : "no");
        show("with TSYNC_ESRCH", INSTALL(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH, NR_LOAD, ALLOW));
        show("getppid here", syscall(SYS_getppid));
        pthread_barrier_wait(&done);
        pthread_join(th, NULL);
        _exit(0);
    }
    wait_child("TSYNC conflict child", pid);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "exec")) {
        show("after exec: getppid", syscall(SYS_getppid));
        printf("after exec: PR_GET_SECCOMP %d\n", prctl(PR_GET_SECCOMP));
        return 0;
    }
    installation();
    actions();
    endings();
    tsync();
    tsync_conflict();
    return 0;
}
