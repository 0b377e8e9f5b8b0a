/* Filesystem ids and set-user-ID executables: setfsuid/setfsgid change
 * whose permissions file access uses (and which capabilities are
 * effective), /proc/self/status shows them, and a set-user-ID copy of
 * this program started by an unprivileged user runs with euid 0,
 * AT_SECURE set and not dumpable; with no_new_privs the bit is ignored.
 * Run as root. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static void status_ids(const char *when) {
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4))
            printf("%s %s", when, line);
    fclose(f);
}

static unsigned effective_caps(void) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0)
        return ~0u;
    return d[0].effective;
}

static void as_started(void) {
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    printf("started: uid %u %u %u secure %lu dumpable %d\n", r, e, s,
           getauxval(AT_SECURE), prctl(PR_GET_DUMPABLE));
    status_ids("started:");
}

static void fsuid_cases(const char *dir) {
    char secret[256], made[256];
    snprintf(secret, sizeof secret, "%s/secret", dir);
    snprintf(made, sizeof made, "%s/dir", dir);
    int fd = open(secret, O_CREAT | O_WRONLY, 0600);
    close(fd);
    mkdir(made, 0777);
    chmod(made, 0777);

    printf("query: %d\n", setfsuid(-1));
    printf("to 65534: %d\n", setfsuid(65534));
    printf("now: %d\n", setfsuid(-1));
    setfsgid(65534);
    status_ids("fs 65534:");
    printf("fs caps dropped: %s\n", (effective_caps() & (1u << CAP_DAC_OVERRIDE)) ? "no" : "yes");
    show("open secret as fsuid 65534", open(secret, O_RDONLY));
    snprintf(made, sizeof made, "%s/dir/new", dir);
    fd = open(made, O_CREAT | O_WRONLY, 0644);
    show("create as fsuid 65534", fd);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0)
        printf("new file owner %u:%u\n", st.st_uid, st.st_gid);
    close(fd);
    /* The real and effective ids are still root's: kill and getuid see them. */
    printf("getuid %u geteuid %u\n", getuid(), geteuid());
    printf("back to 0: %d\n", setfsuid(0));
    setfsgid(0);
    printf("fs caps back: %s\n", (effective_caps() & (1u << CAP_DAC_OVERRIDE)) ? "yes" : "no");
    fd = open(secret, O_RDONLY);
    show("open secret as fsuid 0", fd);
    close(fd);

    /* An unprivileged caller may only pick its own ids; setresuid resets fsuid. */
    pid_t pid = fork();
    if (pid == 0) {
        setresgid(1000, 1000, 1000);
        setresuid(1000, 1001, 1002);
        printf("user: %d\n", setfsuid(0));
        printf("user after refusal: %d\n", setfsuid(-1));
        printf("user to saved: %d\n", setfsuid(1002));
        printf("user now: %d\n", setfsuid(-1));
        printf("user fsgid to 5: %d\n", setfsgid(5));
        printf("user fsgid now: %d\n", setfsgid(-1));
        setresuid(-1, 1000, -1);
        printf("after setresuid: %d\n", setfsuid(-1));
        status_ids("user:");
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static void run_setuid_copy(const char *dir, int no_new_privs) {
    char copy[256];
    snprintf(copy, sizeof copy, "%s/prog", dir);
    pid_t pid = fork();
    if (pid == 0) {
        setgroups(0, NULL);
        setresgid(65534, 65534, 65534);
        setresuid(65534, 65534, 65534);
        if (no_new_privs)
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        execl(copy, copy, "started", (char *)NULL);
        perror("execl");
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child status %d\n", WEXITSTATUS(status));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "started")) {
        as_started();
        return 0;
    }
    char dir[] = "/tmp/fsuid.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    chmod(dir, 0755);
    fsuid_cases(dir);

    char copy[256], buf[65536];
    snprintf(copy, sizeof copy, "%s/prog", dir);
    int in = open("/proc/self/exe", O_RDONLY);
    int out = open(copy, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n)
            return 1;
    close(in);
    close(out);
    chmod(copy, 04755);
    run_setuid_copy(dir, 0);
    run_setuid_copy(dir, 1);
    chmod(copy, 0755);
    run_setuid_copy(dir, 0);

    const char *made[] = {"prog", "secret", "dir/new", "dir"};
    for (unsigned i = 0; i < sizeof made / sizeof *made; i++) {
        snprintf(copy, sizeof copy, "%s/%s", dir, made[i]);
        if (remove(copy) != 0)
            return 1;
    }
    return rmdir(dir) == 0 ? 0 : 1;
}
