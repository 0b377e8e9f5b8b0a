/* UNIX domain sockets as Linux has them: socketpair of each kind, stream
 * and message boundaries, MSG_PEEK/DONTWAIT/TRUNC/WAITALL, shutdown and
 * EOF, EPIPE with and without SIGPIPE, ECONNRESET, bind/listen/connect/
 * accept by path and in the abstract namespace, datagrams with sender
 * addresses, SCM_RIGHTS between processes, SCM_CREDENTIALS and
 * SO_PEERCRED, socket options, poll readiness and the errors of each
 * call. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static volatile int sigpipes;
static void on_pipe(int s) { (void)s; sigpipes++; }

static socklen_t path_addr(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static void revents(const char *what, int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP};
    poll(&p, 1, 0);
    printf("%s: revents %#x\n", what, p.revents);
}

static void pair_basics(int type, const char *name) {
    int sv[2];
    printf("== %s\n", name);
    show("socketpair", socketpair(AF_UNIX, type, 0, sv));
    revents("fresh", sv[0]);
    write(sv[0], "hello", 5);
    write(sv[0], "world", 5);
    char buf[64] = {0};
    ssize_t n = recv(sv[1], buf, sizeof buf, MSG_PEEK);
    printf("peek %zd\n", n);
    n = recv(sv[1], buf, 3, 0);
    printf("recv 3: %zd %.*s flags-trunc-visible\n", n, (int)n, buf);
    n = recv(sv[1], buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT);
    printf("recv rest (MSG_TRUNC): %zd\n", n);
    n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    printf("recv empty: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
    int avail = -1;
    write(sv[0], "abc", 3);
    ioctl(sv[1], FIONREAD, &avail);
    printf("FIONREAD %d\n", avail);
    recv(sv[1], buf, sizeof buf, 0);
    show("shutdown(SHUT_WR)", shutdown(sv[0], SHUT_WR));
    revents("peer after SHUT_WR", sv[1]);
    errno = 0;
    n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    printf("recv after SHUT_WR: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
    errno = 0;
    n = send(sv[0], "x", 1, MSG_NOSIGNAL);
    printf("send after own SHUT_WR: %zd %s\n", n, strerrorname_np(errno));
    show("shutdown(bad how)", shutdown(sv[0], 7));
    close(sv[0]);
    revents("peer after close", sv[1]);
    errno = 0;
    n = send(sv[1], "x", 1, MSG_NOSIGNAL);
    printf("send to a closed peer: %zd %s\n", n, strerrorname_np(errno));
    close(sv[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, on_pipe);

    show("socket(AF_INET6 is absent here, AF_UNIX bad type)", socket(AF_UNIX, 9, 0));
    show("socket(AF_UNIX, bad flag)", socket(AF_UNIX, SOCK_STREAM | 0x100, 0));
    show("socket(AF_UNIX, protocol 7)", socket(AF_UNIX, SOCK_STREAM, 7));
    show("socket(9999)", socket(9999, SOCK_STREAM, 0));
    show("getsockname on a pipe", getsockname(0, NULL, NULL));

    pair_basics(SOCK_STREAM, "stream");
    pair_basics(SOCK_SEQPACKET, "seqpacket");
    pair_basics(SOCK_DGRAM, "dgram");

    /* EPIPE raises SIGPIPE unless MSG_NOSIGNAL; unread data gives the
     * peer ECONNRESET. */
    int sv[2];
    char buf[256];
    ssize_t n;
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[1], "unread", 6);
    close(sv[1]);
    errno = 0;
    n = write(sv[0], "x", 1);
    printf("write to a closed peer: %zd %s, SIGPIPEs %d\n", n, strerrorname_np(errno), sigpipes);
    close(sv[0]);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "unread", 6);
    close(sv[0]);
    errno = 0;
    n = read(sv[1], buf, sizeof buf);
    printf("read with data queued before the close: %zd\n", n);
    n = read(sv[1], buf, sizeof buf);
    printf("then: %zd\n", n);
    close(sv[1]);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    read(sv[0], buf, 0);
    write(sv[1], "abc", 3);
    recv(sv[1], buf, 0, MSG_DONTWAIT);
    close(sv[0]);
    errno = 0;
    n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    printf("peer closed holding my data: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
    n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    printf("then: %zd\n", n);
    close(sv[1]);

    /* datagram truncation */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    send(sv[0], "0123456789", 10, 0);
    struct iovec iov = {buf, 4};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    n = recvmsg(sv[1], &mh, 0);
    printf("dgram into 4 bytes: %zd, MSG_TRUNC %d\n", n, !!(mh.msg_flags & MSG_TRUNC));
    send(sv[0], "0123456789", 10, 0);
    n = recv(sv[1], buf, 4, MSG_TRUNC);
    printf("with MSG_TRUNC: %zd\n", n);
    close(sv[0]);
    close(sv[1]);

    /* bind, listen, connect, accept by path */
    char dir[] = "/tmp/unix-sockets-test";
    mkdir(dir, 0700);
    char path[128];
    snprintf(path, sizeof path, "%s/sock", dir);
    struct sockaddr_un sa, got;
    socklen_t len = path_addr(&sa, path);
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    show("listen unbound", listen(srv, 5));
    show("bind", bind(srv, (struct sockaddr *)&sa, len));
    show("bind again", bind(srv, (struct sockaddr *)&sa, len));
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    show("bind a taken path", bind(other, (struct sockaddr *)&sa, len));
    struct stat st;
    stat(path, &st);
    printf("socket inode: S_ISSOCK %d\n", S_ISSOCK(st.st_mode));
    show("connect before listen", connect(other, (struct sockaddr *)&sa, len));
    show("listen", listen(srv, 5));
    revents("listener idle", srv);
    show("connect", connect(other, (struct sockaddr *)&sa, len));
    show("connect again", connect(other, (struct sockaddr *)&sa, len));
    revents("listener with a pending connection", srv);
    socklen_t glen = sizeof got;
    int acc = accept4(srv, (struct sockaddr *)&got, &glen, SOCK_CLOEXEC);
    show("accept4", acc);
    printf("accepted peer address length %u, cloexec %d\n", glen,
           !!(fcntl(acc, F_GETFD) & FD_CLOEXEC));
    glen = sizeof got;
    getsockname(acc, (struct sockaddr *)&got, &glen);
    printf("accepted socket's name: %s (len %u)\n", got.sun_path, glen);
    glen = sizeof got;
    getpeername(other, (struct sockaddr *)&got, &glen);
    printf("client's peer: %s\n", got.sun_path);
    glen = sizeof got;
    show("getpeername of a listener", getpeername(srv, (struct sockaddr *)&got, &glen));
    struct ucred cred;
    socklen_t clen = sizeof cred;
    getsockopt(acc, SOL_SOCKET, SO_PEERCRED, &cred, &clen);
    printf("SO_PEERCRED pid is mine %d uid %u gid %u\n", cred.pid == getpid(), cred.uid, cred.gid);
    int v;
    socklen_t vl = sizeof v;
    getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
    printf("SO_ACCEPTCONN %d\n", v);
    getsockopt(acc, SOL_SOCKET, SO_TYPE, &v, &vl);
    printf("SO_TYPE %d\n", v);
    v = 1000;
    setsockopt(acc, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    getsockopt(acc, SOL_SOCKET, SO_SNDBUF, &v, &vl);
    printf("SO_SNDBUF after 1000: %d\n", v);
    v = 100000;
    setsockopt(acc, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    getsockopt(acc, SOL_SOCKET, SO_RCVBUF, &v, &vl);
    printf("SO_RCVBUF after 100000: %d\n", v);
    show("unknown option", setsockopt(acc, SOL_SOCKET, 12345, &v, sizeof v));
    show("short option", setsockopt(acc, SOL_SOCKET, SO_PASSCRED, &v, 2));
    show("IPPROTO_TCP option", setsockopt(acc, 6, 1, &v, sizeof v));
    struct timeval tv = {0, 20000};
    setsockopt(acc, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    errno = 0;
    n = recv(acc, buf, 1, 0);
    printf("recv with SO_RCVTIMEO: %zd %s\n", n, strerrorname_np(errno));
    write(other, "ping", 4);
    n = read(acc, buf, sizeof buf);
    printf("accepted read %zd %.*s\n", n, (int)n, buf);
    close(acc);
    close(other);
    close(srv);
    other = socket(AF_UNIX, SOCK_STREAM, 0);
    show("connect after the listener closed", connect(other, (struct sockaddr *)&sa, len));
    close(other);
    unlink(path);
    other = socket(AF_UNIX, SOCK_STREAM, 0);
    show("connect to a missing path", connect(other, (struct sockaddr *)&sa, len));
    close(other);

    /* nonblocking connect with a full backlog */
    srv = socket(AF_UNIX, SOCK_STREAM, 0);
    len = abstract_addr(&sa, "sentry-test-backlog");
    bind(srv, (struct sockaddr *)&sa, len);
    listen(srv, 1);
    int c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        printf("nonblocking connect %d: ", i);
        show("", connect(c[i], (struct sockaddr *)&sa, len));
    }
    for (int i = 0; i < 4; i++)
        close(c[i]);
    close(srv);

    /* abstract datagrams with sender addresses and autobind */
    int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a1, a2;
    socklen_t l1 = abstract_addr(&a1, "sentry-test-d1");
    show("bind abstract", bind(d1, (struct sockaddr *)&a1, l1));
    show("sendto without an address", send(d2, "x", 1, 0));
    show("sendto d1", sendto(d2, "from-unnamed", 12, 0, (struct sockaddr *)&a1, l1));
    glen = sizeof got;
    n = recvfrom(d1, buf, sizeof buf, 0, (struct sockaddr *)&got, &glen);
    printf("recvfrom: %zd, address length %u\n", n, glen);
    socklen_t l2 = offsetof(struct sockaddr_un, sun_path);
    memset(&a2, 0, sizeof a2);
    a2.sun_family = AF_UNIX;
    show("autobind", bind(d2, (struct sockaddr *)&a2, l2));
    glen = sizeof got;
    getsockname(d2, (struct sockaddr *)&got, &glen);
    printf("autobound name length %u, abstract %d\n", glen, got.sun_path[0] == 0);
    sendto(d2, "named", 5, 0, (struct sockaddr *)&a1, l1);
    glen = sizeof got;
    n = recvfrom(d1, buf, sizeof buf, 0, (struct sockaddr *)&got, &glen);
    printf("recvfrom a named sender: %zd, address length %u\n", n, glen);
    for (int i = 0; i < 12; i++) {
        n = sendto(d2, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&a1, l1);
        if (n < 0) {
            printf("queue full after %d: %s\n", i, strerrorname_np(errno));
            break;
        }
    }
    close(d1);
    errno = 0;
    n = sendto(d2, "x", 1, 0, (struct sockaddr *)&a1, l1);
    printf("sendto a closed name: %zd %s\n", n, strerrorname_np(errno));
    close(d2);

    /* SCM_RIGHTS and SCM_CREDENTIALS between processes */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int on = 1;
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    pid_t child = fork();
    if (child == 0) {
        close(sv[1]);
        int p[2];
        pipe(p);
        write(p[1], "through the pipe", 16);
        close(p[1]);
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct iovec ciov = {"F", 1};
        struct msghdr m = {.msg_iov = &ciov, .msg_iovlen = 1, .msg_control = cbuf,
                           .msg_controllen = sizeof cbuf};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
        if (sendmsg(sv[0], &m, 0) != 1)
            _exit(1);
        /* A forged pid is refused. */
        struct ucred forged = {.pid = 1, .uid = getuid(), .gid = getgid()};
        char cbuf2[CMSG_SPACE(sizeof forged)];
        struct msghdr m2 = {.msg_iov = &ciov, .msg_iovlen = 1, .msg_control = cbuf2,
                            .msg_controllen = sizeof cbuf2};
        cm = CMSG_FIRSTHDR(&m2);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_CREDENTIALS;
        cm->cmsg_len = CMSG_LEN(sizeof forged);
        memcpy(CMSG_DATA(cm), &forged, sizeof forged);
        int r = sendmsg(sv[0], &m2, 0);
        printf("child: forged credentials: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        int bad = 12345;
        cm = CMSG_FIRSTHDR(&m);
        memcpy(CMSG_DATA(cm), &bad, sizeof bad);
        r = sendmsg(sv[0], &m, 0);
        printf("child: a closed descriptor: %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        _exit(0);
    }
    close(sv[0]);
    char cbuf[256];
    struct iovec riov = {buf, 1};
    struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf};
    n = recvmsg(sv[1], &rm, MSG_CMSG_CLOEXEC);
    /* The child's own lines come first. */
    int status;
    waitpid(child, &status, 0);
    printf("recvmsg: %zd flags %#x\n", n, rm.msg_flags);
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&rm); cm; cm = CMSG_NXTHDR(&rm, cm)) {
        if (cm->cmsg_type == SCM_CREDENTIALS) {
            struct ucred uc;
            memcpy(&uc, CMSG_DATA(cm), sizeof uc);
            printf("SCM_CREDENTIALS: pid is the child %d uid %u gid %u\n", uc.pid == child,
                   uc.uid, uc.gid);
        } else if (cm->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm), sizeof fd);
            char pbuf[32] = {0};
            ssize_t k = read(fd, pbuf, sizeof pbuf - 1);
            printf("SCM_RIGHTS: read %zd \"%s\" cloexec %d\n", k, pbuf,
                   !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
            close(fd);
        }
    }
    printf("child exit %d\n", WEXITSTATUS(status));
    close(sv[1]);

    /* rights that do not fit are dropped with MSG_CTRUNC */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    {
        int fds[3] = {0, 1, 2};
        char cb[CMSG_SPACE(sizeof fds)];
        struct iovec siov = {"R", 1};
        struct msghdr m = {.msg_iov = &siov, .msg_iovlen = 1, .msg_control = cb,
                           .msg_controllen = sizeof cb};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(cm), fds, sizeof fds);
        sendmsg(sv[0], &m, 0);
        char small[CMSG_SPACE(sizeof(int))];
        struct msghdr r = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = small,
                           .msg_controllen = sizeof small};
        n = recvmsg(sv[1], &r, 0);
        printf("3 fds into room for 1: %zd, MSG_CTRUNC %d, controllen %zu\n", n,
               !!(r.msg_flags & MSG_CTRUNC), (size_t)r.msg_controllen);
    }
    close(sv[0]);
    close(sv[1]);
    rmdir(dir);
    return 0;
}
