/* One blocking write() of several MiB to a stream whose buffers are
 * much smaller: a pipe, a UNIX stream socket and a loopback TCP
 * connection. Linux returns only when every byte is queued; a reader
 * thread drains the other end slowly and counts what arrives. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOTAL (4 << 20)

static void *drain(void *arg) {
    int fd = *(int *)arg;
    static char buf[65536];
    long got = 0, n;
    struct timespec nap = {0, 1000000};
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        got += n;
        nanosleep(&nap, NULL);
    }
    return (void *)got;
}

static void one(const char *what, int wfd, int rfd) {
    pthread_t th;
    pthread_create(&th, NULL, drain, &rfd);
    char *data = malloc(TOTAL);
    memset(data, 'x', TOTAL);
    long n = write(wfd, data, TOTAL);
    close(wfd);
    void *got;
    pthread_join(th, &got);
    close(rfd);
    free(data);
    printf("%s: write returned %ld, reader got %ld\n", what, n, (long)got);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int p[2];
    pipe(p);
    one("pipe", p[1], p[0]);

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int small = 16384;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    one("unix stream", sv[0], sv[1]);

    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(l, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &len);
    listen(l, 1);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    int s = accept(l, NULL, NULL);
    one("tcp", c, s);
    close(l);
    return 0;
}
