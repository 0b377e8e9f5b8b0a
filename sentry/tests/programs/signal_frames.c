/* What a signal handler finds in its frame and what rt_sigreturn takes
 * back from it: the FPU state (xmm registers, MXCSR) the handler reads and
 * edits through uc_mcontext.fpregs, the signal mask it edits in
 * uc_sigmask, the alternate stack it is told about, and a forged MXCSR
 * that the CPU cannot load, which kills the thread with SIGSEGV. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static volatile uint64_t seen_xmm0, fpregs_aligned, seen_ss_flags, seen_on_alt;
static volatile int mode;
static char altstack[1 << 16];

static void handler(int sig, siginfo_t *info, void *ctx) {
    ucontext_t *uc = ctx;
    (void)sig;
    (void)info;
    struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    if (!fp)
        return;
    fpregs_aligned = ((uintptr_t)fp % 64) == 0;
    memcpy((void *)&seen_xmm0, &fp->_xmm[0], 8);
    seen_ss_flags = uc->uc_stack.ss_flags;
    char here;
    seen_on_alt = &here >= altstack && &here < altstack + sizeof altstack;
    /* The handler's own floating point must not leak into the
     * interrupted code. */
    volatile double x = 1.5;
    x = x * 3.25 + 0.125;
    if (mode == 1) {
        uint64_t v = 0x1122334455667788ull;
        memcpy(&fp->_xmm[1], &v, 8);
        fp->mxcsr = (fp->mxcsr & ~0x6000u) | 0x6000u; /* round toward zero */
        sigaddset(&uc->uc_sigmask, SIGUSR2);
    } else if (mode == 2) {
        fp->mxcsr = 0xffffffffu; /* every bit, reserved ones too */
    }
}

/* Loads xmm0 and xmm1, sends SIGUSR1 to this thread with the system call
 * itself (a libc call could clobber them), and returns them and MXCSR as
 * the handler left them. */
static void round_trip(uint64_t in0, uint64_t in1, uint64_t out[2], uint32_t *mxcsr) {
    long tid = syscall(SYS_gettid);
    long pid = getpid();
    uint64_t o0, o1;
    uint32_t csr;
    __asm__ volatile(
        "movq %[i0], %%xmm0\n\t"
        "movq %[i1], %%xmm1\n\t"
        "mov %[nr], %%eax\n\t"
        "mov %[pid], %%rdi\n\t"
        "mov %[tid], %%rsi\n\t"
        "mov %[sig], %%edx\n\t"
        "syscall\n\t"
        "movq %%xmm0, %[o0]\n\t"
        "movq %%xmm1, %[o1]\n\t"
        "stmxcsr %[csr]\n\t"
        : [o0] "=r"(o0), [o1] "=r"(o1), [csr] "=m"(csr)
        : [i0] "r"(in0), [i1] "r"(in1), [nr] "i"(SYS_tgkill), [pid] "r"(pid), [tid] "r"(tid),
          [sig] "i"(SIGUSR1)
        : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "xmm0", "xmm1", "memory");
    out[0] = o0;
    out[1] = o1;
    *mxcsr = csr;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    uint64_t out[2];
    uint32_t csr, csr0;
    __asm__ volatile("stmxcsr %0" : "=m"(csr0));

    mode = 0;
    round_trip(0xdeadbeefcafef00dull, 42, out, &csr);
    printf("handler saw xmm0 %#llx, fpregs 64-byte aligned %llu\n",
           (unsigned long long)seen_xmm0, (unsigned long long)fpregs_aligned);
    printf("after return: xmm0 %#llx xmm1 %#llx mxcsr unchanged %d\n",
           (unsigned long long)out[0], (unsigned long long)out[1], csr == csr0);

    mode = 1;
    round_trip(7, 8, out, &csr);
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("edited: xmm0 %#llx xmm1 %#llx rounding %#x SIGUSR2 blocked %d\n",
           (unsigned long long)out[0], (unsigned long long)out[1], csr & 0x6000,
           sigismember(&now, SIGUSR2));
    __asm__ volatile("ldmxcsr %0" : : "m"(csr0));

    mode = 2;
    pid_t child = fork();
    if (child == 0) {
        round_trip(1, 2, out, &csr);
        printf("forged mxcsr: the child resumed\n");
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("forged mxcsr: child killed by signal %d\n",
           WIFSIGNALED(status) ? WTERMSIG(status) : 0);

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    mode = 0;
    round_trip(3, 4, out, &csr);
    printf("on the alternate stack %llu, uc_stack flags %llu, xmm0 %#llx\n",
           (unsigned long long)seen_on_alt, (unsigned long long)seen_ss_flags,
           (unsigned long long)out[0]);
    return 0;
}
