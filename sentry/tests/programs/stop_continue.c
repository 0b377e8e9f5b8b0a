/* Group stop and continue as Linux has them: SIGSTOP and SIGTSTP stop a
 * child, wait4(WUNTRACED)/waitid(WSTOPPED) report it once (WNOWAIT keeps
 * it), SIGCONT continues it and WCONTINUED reports that, the parent's
 * SIGCHLD carries CLD_STOPPED/CLD_CONTINUED unless SA_NOCLDSTOP, a sleep
 * interrupted by the stop carries on, a caught SIGTSTP does not stop, and
 * SIGKILL ends a stopped child. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static volatile sig_atomic_t chld_codes[8], nchld;

static void on_chld(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)ctx;
    if (nchld < 8)
        chld_codes[nchld++] = si->si_code;
}

static void describe(const char *what, int status) {
    if (WIFSTOPPED(status))
        printf("%s: stopped by %d\n", what, WSTOPSIG(status));
    else if (WIFCONTINUED(status))
        printf("%s: continued\n", what);
    else if (WIFSIGNALED(status))
        printf("%s: killed by %d\n", what, WTERMSIG(status));
    else if (WIFEXITED(status))
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
}

static void waitid_show(const char *what, pid_t pid, int options) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, pid, &si, options);
    printf("%s: %d pid-matches %d code %d status %d\n", what, r, si.si_pid == pid, si.si_code,
           si.si_status);
}

static volatile sig_atomic_t tstps;
static void on_tstp(int sig) { (void)sig; tstps++; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);

    int p[2];
    pipe(p);
    pid_t child = fork();
    if (child == 0) {
        /* A process group of its own whose parent is in another group of
         * the session: never orphaned, so SIGTSTP stops it however the
         * test was started (Linux discards it in an orphaned group). */
        setpgid(0, 0);
        close(p[0]);
        /* A sleep the stop interrupts and that carries on after. */
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
        write(p[1], "slept", 5);
        for (;;)
            pause();
    }
    close(p[1]);
    setpgid(child, child);
    int status;
    kill(child, SIGSTOP);
    waitpid(child, &status, WUNTRACED);
    describe("waitpid WUNTRACED", status);
    waitid_show("waitid WSTOPPED|WNOHANG after it was reported", child, WSTOPPED | WNOHANG);
    show("waitpid without WUNTRACED, WNOHANG", waitpid(child, &status, WNOHANG));
    kill(child, SIGCONT);
    waitid_show("waitid WCONTINUED|WNOWAIT", child, WCONTINUED | WNOWAIT);
    waitpid(child, &status, WCONTINUED);
    describe("waitpid WCONTINUED", status);
    char buf[8] = {0};
    read(p[0], buf, 5);
    printf("child's sleep carried on: %s\n", buf);

    kill(child, SIGTSTP);
    waitid_show("waitid WSTOPPED|WNOWAIT", child, WSTOPPED | WNOWAIT);
    waitid_show("waitid WSTOPPED", child, WSTOPPED);
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    describe("SIGKILL while stopped", status);
    printf("SIGCHLD codes:");
    for (int i = 0; i < nchld; i++)
        printf(" %d", chld_codes[i]);
    printf("\n");

    /* SA_NOCLDSTOP: no SIGCHLD for stops and continues. */
    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    nchld = 0;
    child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    kill(child, SIGSTOP);
    waitpid(child, &status, WUNTRACED);
    kill(child, SIGCONT);
    waitpid(child, &status, WCONTINUED);
    kill(child, SIGTERM);
    waitpid(child, &status, 0);
    describe("SIGTERM", status);
    printf("SIGCHLDs with SA_NOCLDSTOP: %d (code %d)\n", nchld, nchld ? chld_codes[0] : 0);

    /* A caught SIGTSTP runs its handler instead of stopping. */
    child = fork();
    if (child == 0) {
        signal(SIGTSTP, on_tstp);
        raise(SIGTSTP);
        _exit(tstps);
    }
    waitpid(child, &status, WUNTRACED);
    describe("caught SIGTSTP", status);

    /* A child that stops itself. */
    child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        _exit(3);
    }
    waitpid(child, &status, WUNTRACED);
    describe("raise(SIGSTOP)", status);
    kill(child, SIGCONT);
    waitpid(child, &status, 0);
    describe("after SIGCONT", status);
    return 0;
}
