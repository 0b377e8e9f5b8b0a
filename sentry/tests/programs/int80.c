/* A 32-bit system call from 64-bit code (`int 0x80`): the sandbox's
 * kernel has no 32-bit ABI, so it raises SIGSEGV (SI_KERNEL) at the
 * instruction, as a Linux built without IA32 emulation does; before, the
 * ptrace platform ran it as the 64-bit call of the same number and the
 * seccomp platform lost the whole sandbox. The handler skips the
 * instruction and the program goes on. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int code = -1;
static volatile long at_int80 = 0;

static void on_segv(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    ucontext_t *uc = ctx;
    unsigned char *ip = (unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
    code = info->si_code;
    at_int80 = ip[0] == 0xcd && ip[1] == 0x80;
    uc->uc_mcontext.gregs[REG_RIP] += 2;
    uc->uc_mcontext.gregs[REG_RAX] = -38;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    long r;
    /* i386 getpid is 20; as a 64-bit call 20 would be writev. */
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    printf("int 0x80: %ld, SIGSEGV code %#x at the instruction %ld\n", r, code, at_int80);
    return 0;
}
