/* sigaltstack as Linux keeps it: the flags it accepts and refuses, what a
 * handler on the stack sees, SS_AUTODISARM disarming the stack while a
 * handler runs (so a nested signal or a longjmp out leaves it usable), and
 * rt_sigreturn re-arming it from the frame. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "show.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static char stack_a[1 << 16];
static sigjmp_buf env;
static volatile int depth, jump;

static int on(const char *stack, size_t size) {
    char here;
    return &here >= stack && &here < stack + size;
}

static void describe(const char *when) {
    stack_t now;
    sigaltstack(NULL, &now);
    printf("%s: flags %#x size %zu same base %d\n", when, (unsigned)now.ss_flags, now.ss_size,
           now.ss_sp == stack_a);
}

static void handler(int sig) {
    (void)sig;
    depth++;
    printf("depth %d on the alternate stack %d\n", depth, on(stack_a, sizeof stack_a));
    describe("in the handler");
    stack_t off = {.ss_flags = SS_DISABLE};
    show("disabling from the handler", sigaltstack(&off, NULL));
    if (depth == 1)
        raise(SIGUSR2);
    depth--;
    if (jump) {
        jump = 0;
        siglongjmp(env, 1);
    }
}

static void arm(int flags) {
    stack_t ss = {.ss_sp = stack_a, .ss_size = sizeof stack_a, .ss_flags = flags};
    show(flags ? "arm with SS_AUTODISARM" : "arm", sigaltstack(&ss, NULL));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    stack_t ss = {.ss_sp = stack_a, .ss_size = sizeof stack_a};
    ss.ss_flags = 0x40;
    show("unknown flag", sigaltstack(&ss, NULL));
    ss.ss_flags = 0;
    ss.ss_size = 1024;
    show("too small", sigaltstack(&ss, NULL));
    ss.ss_size = sizeof stack_a;
    ss.ss_flags = SS_ONSTACK;
    show("SS_ONSTACK as the mode", sigaltstack(&ss, NULL));
    describe("armed");
    ss.ss_flags = SS_DISABLE;
    show("disable", sigaltstack(&ss, NULL));
    describe("disabled");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);

    /* Without SS_AUTODISARM a nested signal stays on the stack and the
     * stack in use cannot be changed (EPERM). */
    arm(0);
    raise(SIGUSR1);
    describe("after the plain handler");

    /* With it the stack is disarmed while the handler runs: disabling
     * succeeds, a nested signal runs on the normal stack, and
     * rt_sigreturn re-arms the stack from the frame. */
    arm(SS_AUTODISARM);
    describe("armed with autodisarm");
    raise(SIGUSR1);
    describe("after the autodisarm handler");

    /* Leaving the handler by siglongjmp skips rt_sigreturn: the stack
     * stays as the handler left it. */
    jump = 1;
    if (sigsetjmp(env, 1) == 0)
        raise(SIGUSR2);
    describe("after siglongjmp");
    return 0;
}
