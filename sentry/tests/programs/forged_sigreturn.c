/* Escape test: a process finds the seccomp platform's stub code mapped
 * in its address space (probing the candidate pages with a fault
 * handler), jumps to the stub's rt_sigreturn with a forged frame that
 * blocks every host signal, and spins without system calls. Killed, it
 * must still die, and the sandbox must end. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <ucontext.h>

static sigjmp_buf probe;
static void on_fault(int sig) {
    (void)sig;
    siglongjmp(probe, 1);
}

/* Whether `page` can be read, probing with a fault handler. */
static int readable(volatile unsigned char *page) {
    if (sigsetjmp(probe, 1))
        return 0;
    (void)page[0];
    return 1;
}
#include <unistd.h>

static void spin(void) {
    for (;;)
        __asm__ volatile("" ::: "memory");
}

static unsigned char stack[65536] __attribute__((aligned(16)));

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
    /* The restorer: mov eax, 15; syscall, in an executable page near the top. */
    const unsigned char pattern[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
    unsigned char *restorer = NULL;
    for (int i = 0; i < 16 && !restorer; i++) {
        unsigned char *page = (unsigned char *)(0x7ff000000000ULL - (uint64_t)i * 0x1000000000ULL);
        if (!readable(page))
            continue;
        unsigned char *hit = memmem(page, 4096, pattern, sizeof pattern);
        if (hit)
            restorer = hit;
    }
    if (!restorer) {
        printf("no stub code found: nothing to forge\n");
        return 0;
    }
    pid_t child = fork();
    if (child == 0) {
        /* struct rt_sigframe: pretcode, ucontext, siginfo. */
        static unsigned char frame[4096] __attribute__((aligned(16)));
        ucontext_t *uc = (ucontext_t *)(frame + 8);
        memset(frame, 0, sizeof frame);
        getcontext(uc);
        memset(&uc->uc_sigmask, 0xff, sizeof uc->uc_sigmask);
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)spin;
        uc->uc_mcontext.gregs[REG_RSP] = (greg_t)(stack + sizeof stack - 8);
        /* cs 0x33 and ss 0x2b, as a 64-bit user frame has them. */
        uc->uc_mcontext.gregs[REG_CSGSFS] = 0x33 | (0x2bULL << 48);
        uc->uc_mcontext.gregs[REG_EFL] = 0x202;
        uc->uc_mcontext.fpregs = NULL;
        __asm__ volatile("mov %0, %%rsp\n\tjmp *%1" ::"r"(frame + 8), "r"(restorer) : "memory");
        return 1;
    }
    sleep(1);
    int status;
    if (waitpid(child, &status, WNOHANG) == child) {
        printf("child ended before the kill: %s %d\n", WIFSIGNALED(status) ? "signal" : "exit",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        return 0;
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    printf("child killed by %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return 0;
}
