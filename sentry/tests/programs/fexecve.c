/* Running programs by descriptor: fexecve of a file, of an O_PATH
 * descriptor and of a memfd holding a copy of a program (how container
 * runtimes re-execute themselves); execveat relative to a directory
 * descriptor, with AT_SYMLINK_NOFOLLOW on a link; a script run by
 * descriptor gets /dev/fd/N as its name, and fails with ENOENT when the
 * descriptor is close-on-exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void run(const char *what, int dirfd, const char *path, char *const argv[], int flags) {
    pid_t pid = fork();
    if (pid == 0) {
        syscall(SYS_execveat, dirfd, path, argv, environ, flags);
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("%s: exit %d\n", what, WEXITSTATUS(status));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char *echo_argv[] = {"echo", "by", "descriptor", NULL};
    int fd = open("/bin/echo", O_RDONLY | O_CLOEXEC);
    run("fexecve echo", fd, "", echo_argv, AT_EMPTY_PATH);
    close(fd);
    fd = open("/bin/echo", O_PATH | O_CLOEXEC);
    run("O_PATH echo", fd, "", echo_argv, AT_EMPTY_PATH);
    run("empty path without AT_EMPTY_PATH", fd, "", echo_argv, 0);
    close(fd);

    /* A memfd with a copy of a program. */
    int mem = memfd_create("copy", MFD_CLOEXEC);
    int src = open("/bin/echo", O_RDONLY);
    char buf[65536];
    ssize_t n;
    while ((n = read(src, buf, sizeof buf)) > 0)
        write(mem, buf, n);
    close(src);
    char *mem_argv[] = {"echo", "from", "a", "memfd", NULL};
    run("memfd echo", mem, "", mem_argv, AT_EMPTY_PATH);
    char *comm_argv[] = {"cat", "/proc/self/comm", NULL};
    int cat = open("/bin/cat", O_RDONLY);
    run("comm after fexecve", cat, "", comm_argv, AT_EMPTY_PATH);
    close(cat);

    /* Relative to a directory descriptor; a link refused with NOFOLLOW. */
    char dir[] = "/tmp/fexecve.XXXXXX";
    mkdtemp(dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    symlinkat("/bin/echo", dfd, "link");
    char *link_argv[] = {"link", "through", "a", "link", NULL};
    run("execveat dir/link", dfd, "link", link_argv, 0);
    run("execveat dir/link NOFOLLOW", dfd, "link", link_argv, AT_SYMLINK_NOFOLLOW);

    /* A script by descriptor. */
    int script = openat(dfd, "script", O_CREAT | O_RDWR, 0755);
    const char text[] = "#!/bin/sh\necho script named $0 with $1\n";
    write(script, text, sizeof text - 1);
    close(script);
    script = openat(dfd, "script", O_RDONLY);
    char *script_argv[] = {"script", "arg", NULL};
    char name[32];
    snprintf(name, sizeof name, "fd %d script", script);
    run(name, script, "", script_argv, AT_EMPTY_PATH);
    fcntl(script, F_SETFD, FD_CLOEXEC);
    run("close-on-exec script", script, "", script_argv, AT_EMPTY_PATH);
    run("script relative to a directory", dfd, "script", script_argv, 0);
    close(script);

    unlinkat(dfd, "script", 0);
    unlinkat(dfd, "link", 0);
    close(dfd);
    rmdir(dir);
    return 0;
}
