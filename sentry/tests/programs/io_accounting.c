/* /proc/self/io: the read and write families count their calls and
 * bytes (rchar, wchar, syscr, syscw), a failed call counts as a call, and
 * a reaped child's counts join its parent's. The reads of /proc/self/io
 * itself are subtracted. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

struct io {
    long rchar, wchar, syscr, syscw;
};

/* Reads /proc/self/io in one read call; `*len` gets the bytes read. */
static struct io sample(long *len) {
    char buf[1024] = {0};
    int fd = open("/proc/self/io", O_RDONLY);
    *len = read(fd, buf, sizeof buf - 1);
    close(fd);
    struct io v = {0};
    sscanf(buf, "rchar: %ld\nwchar: %ld\nsyscr: %ld\nsyscw: %ld", &v.rchar, &v.wchar, &v.syscr,
           &v.syscw);
    return v;
}

static void delta(const char *what, struct io a, struct io b, long len) {
    printf("%s: rchar %ld wchar %ld syscr %ld syscw %ld\n", what, b.rchar - a.rchar - len,
           b.wchar - a.wchar, b.syscr - a.syscr - 1, b.syscw - a.syscw);
}

int main(void) {
    char buf[4096];
    long len;
    int zero = open("/dev/zero", O_RDONLY);
    int null = open("/dev/null", O_WRONLY);
    struct io a = sample(&len);
    for (int i = 0; i < 10; i++)
        read(zero, buf, 1000);
    for (int i = 0; i < 5; i++)
        write(null, buf, 700);
    struct iovec iov[2] = {{buf, 100}, {buf + 100, 200}};
    readv(zero, iov, 2);
    writev(null, iov, 2);
    pread(zero, buf, 50, 0);
    read(null, buf, 10);          /* EBADF: opened write-only, still a call */
    struct io b = sample(&len);
    delta("own calls", a, b, len);

    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            write(null, buf, 1000);
        _exit(0);
    }
    a = sample(&len);
    waitpid(pid, NULL, 0);
    b = sample(&len);
    delta("a reaped child's", a, b, len);
    return 0;
}
