/* Moving data between descriptors as Linux does: copy_file_range with and
 * without offsets and its refusals, splice from a file into a pipe and
 * from a pipe into a file or socket, tee leaving the data in place,
 * vmsplice both ways, sendfile, and SPLICE_F_NONBLOCK on empty and full
 * pipes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "show.h"

static char dir[] = "/tmp/splice-test";

static int file_with(const char *name, const char *data) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, data, strlen(data));
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static void contents(const char *what, int fd) {
    char buf[128] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    printf("%s: %zd \"%s\"\n", what, n, buf);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    mkdir(dir, 0700);
    int a = file_with("a", "0123456789abcdef");
    int b = file_with("b", "");

    /* copy_file_range */
    loff_t in = 4, out = 0;
    ssize_t n = copy_file_range(a, &in, b, &out, 6, 0);
    printf("copy_file_range with offsets: %zd in %lld out %lld pos %lld\n", n, (long long)in,
           (long long)out, (long long)lseek(a, 0, SEEK_CUR));
    contents("b", b);
    n = copy_file_range(a, NULL, b, NULL, 100, 0);
    printf("copy_file_range from the file offsets: %zd a-pos %lld b-pos %lld\n", n,
           (long long)lseek(a, 0, SEEK_CUR), (long long)lseek(b, 0, SEEK_CUR));
    contents("b", b);
    show("flags", copy_file_range(a, NULL, b, NULL, 1, 1));
    in = 0;
    out = 2;
    show("overlap within one file", copy_file_range(a, &in, a, &out, 4, 0));
    int p[2];
    pipe(p);
    show("a pipe", copy_file_range(p[0], NULL, b, NULL, 4, 0));
    int d = open(dir, O_RDONLY);
    show("a directory", copy_file_range(d, NULL, b, NULL, 4, 0));
    int ro = open("/proc/self/exe", O_RDONLY);
    show("a read-only output", copy_file_range(a, NULL, ro, NULL, 4, 0));
    in = 100;
    printf("past the end: %zd\n", copy_file_range(a, &in, b, NULL, 4, 0));

    /* splice file -> pipe -> file */
    loff_t off = 10;
    n = splice(a, &off, p[1], NULL, 4, 0);
    printf("splice file->pipe: %zd off %lld\n", n, (long long)off);
    show("splice with an offset on the pipe", splice(a, NULL, p[1], &off, 4, 0));
    show("splice between two files", splice(a, NULL, b, NULL, 4, 0));
    int c = file_with("c", "");
    n = splice(p[0], NULL, c, NULL, 100, 0);
    printf("splice pipe->file: %zd\n", n);
    contents("c", c);
    show("splice from an empty pipe, nonblocking", splice(p[0], NULL, c, NULL, 4, SPLICE_F_NONBLOCK));

    /* tee */
    int q[2];
    pipe(q);
    write(p[1], "teedata", 7);
    n = tee(p[0], q[1], 100, 0);
    printf("tee: %zd\n", n);
    char buf[32] = {0};
    n = read(q[0], buf, sizeof buf);
    printf("the copy: %zd %s\n", n, buf);
    memset(buf, 0, sizeof buf);
    n = read(p[0], buf, sizeof buf);
    printf("the original is still there: %zd %s\n", n, buf);
    show("tee from an empty pipe, nonblocking", tee(p[0], q[1], 4, SPLICE_F_NONBLOCK));
    show("tee of a pipe to itself", tee(p[0], p[1], 4, 0));
    show("tee from a file", tee(a, q[1], 4, 0));

    /* vmsplice both ways */
    struct iovec iov[2] = {{"vm", 2}, {"splice", 6}};
    n = vmsplice(p[1], iov, 2, 0);
    printf("vmsplice into the pipe: %zd\n", n);
    char r1[3] = {0}, r2[6] = {0};
    struct iovec riov[2] = {{r1, 2}, {r2, 5}};
    n = vmsplice(p[0], riov, 2, 0);
    printf("vmsplice out of it: %zd %s %s\n", n, r1, r2);
    read(p[0], buf, 1);
    show("vmsplice on a file", vmsplice(a, iov, 1, 0));

    /* a full pipe with SPLICE_F_NONBLOCK */
    fcntl(q[1], F_SETFL, O_NONBLOCK);
    static char big[65536];
    while (write(q[1], big, sizeof big) > 0) {
    }
    show("splice into a full pipe, nonblocking", splice(a, NULL, q[1], NULL, 4, SPLICE_F_NONBLOCK));

    /* splice pipe -> socket, sendfile file -> socket */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(p[1], "to-socket", 9);
    n = splice(p[0], NULL, sv[0], NULL, 100, 0);
    memset(buf, 0, sizeof buf);
    read(sv[1], buf, sizeof buf);
    printf("splice pipe->socket: %zd %s\n", n, buf);
    off = 0;
    n = sendfile(sv[0], a, &off, 5);
    memset(buf, 0, sizeof buf);
    read(sv[1], buf, sizeof buf);
    printf("sendfile: %zd off %lld %s\n", n, (long long)off, buf);

    char path[128];
    for (const char *f = "abc"; *f; f++) {
        snprintf(path, sizeof path, "%s/%c", dir, *f);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
