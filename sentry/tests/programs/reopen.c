/* Opening /proc/self/fd/N of a pipe or a socket, as Linux opens the
 * link's inode: a new description of the same pipe with the access mode
 * asked for (even a non-blocking writer without readers, which only a
 * named FIFO refuses), ENXIO for a socket; stat through the link sees the
 * pipe or socket. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "show.h"

static char path[64];

static const char *fdpath(int fd) {
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return path;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int p[2];
    pipe(p);
    struct stat a, b;
    fstat(p[0], &a);
    stat(fdpath(p[0]), &b);
    printf("stat through the link: fifo %d, same inode %d\n", S_ISFIFO(b.st_mode),
           a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    int w = open(fdpath(p[0]), O_WRONLY);
    show("open the read end for writing", w);
    write(w, "via reopen", 10);
    char buf[32] = {0};
    ssize_t n = read(p[0], buf, sizeof buf);
    printf("read %zd \"%s\"\n", n, buf);
    int rw = open(fdpath(p[1]), O_RDWR);
    show("open O_RDWR", rw);
    write(rw, "both", 4);
    memset(buf, 0, sizeof buf);
    printf("read back through it: %zd \"%s\"\n", read(rw, buf, sizeof buf), buf);
    close(w);
    close(rw);
    close(p[1]);
    n = read(p[0], buf, sizeof buf);
    printf("after every writer closed: %zd\n", n);
    close(p[0]);

    pipe(p);
    int r = dup(p[0]);
    close(p[0]);
    close(r);
    show("non-blocking writer, no reader", open(fdpath(p[1]), O_WRONLY | O_NONBLOCK));
    close(p[1]);

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    show("open a socket's link", open(fdpath(sv[0]), O_RDWR));
    stat(fdpath(sv[0]), &b);
    printf("stat through a socket's link: socket %d\n", S_ISSOCK(b.st_mode));
    return 0;
}
