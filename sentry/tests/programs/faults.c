/* Synchronous signals reach the program's handlers: SIGSEGV (an
 * unmapped address and a read-only page, with si_addr and si_code),
 * SIGFPE (integer division by zero), SIGILL (ud2), SIGTRAP (int3), a
 * stack overflow handled on the alternate stack, and an unhandled fault
 * that kills with SIGSEGV. Each handler leaves with siglongjmp. Then
 * SIGPIPE: a write to a pipe without readers. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile void *fault_addr;
static volatile int fault_code, fault_signo;

static void handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    fault_signo = sig;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(env, 1);
}

static int depth(int n) {
    volatile char pad[4096];
    pad[0] = (char)n;
    return n == 0 ? pad[0] : depth(n + 1) + pad[0];
}

static void catch_all(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, 0);
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    catch_all();
    volatile int *null = 0;
    if (!sigsetjmp(env, 1)) {
        *null = 1;
    } else {
        printf("SIGSEGV at NULL: signo %d code %d addr %p\n", fault_signo, fault_code,
               (void *)fault_addr);
    }
    char *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!sigsetjmp(env, 1)) {
        ro[8] = 1;
    } else {
        printf("SIGSEGV read-only: signo %d code %d at offset %ld\n", fault_signo, fault_code,
               (long)((char *)fault_addr - ro));
    }
    if (!sigsetjmp(env, 1)) {
        unsigned quotient;
        __asm__ volatile("xor %%edx, %%edx\n\tmov $1, %%eax\n\tdivl %1"
                         : "=&a"(quotient)
                         : "r"(0u)
                         : "edx");
        printf("%u\n", quotient);
    } else {
        printf("SIGFPE: signo %d code %d\n", fault_signo, fault_code);
    }
    if (!sigsetjmp(env, 1)) {
        __asm__ volatile("ud2");
    } else {
        printf("SIGILL: signo %d code %d\n", fault_signo, fault_code);
    }
    if (!sigsetjmp(env, 1)) {
        __asm__ volatile("int3");
    } else {
        printf("SIGTRAP: signo %d\n", fault_signo);
    }
    stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0};
    sigaltstack(&ss, 0);
    if (!sigsetjmp(env, 1)) {
        depth(1);
    } else {
        printf("stack overflow on the alternate stack: signo %d\n", fault_signo);
    }
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        *null = 2;
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("unhandled fault: signaled %d by %d\n", WIFSIGNALED(status), WTERMSIG(status));
    int p[2];
    pipe(p);
    close(p[0]);
    pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        write(p[1], "x", 1);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    printf("write without readers: signaled %d by %d\n", WIFSIGNALED(status), WTERMSIG(status));
    signal(SIGPIPE, SIG_IGN);
    ssize_t wrote = write(p[1], "x", 1);
    printf("ignored SIGPIPE: write returns %zd %s\n", wrote, strerrorname_np(errno));
    return 0;
}
