/* TCP and UDP over loopback as Linux has them: bind rules (ephemeral
 * ports, EADDRINUSE, SO_REUSEADDR with a listener and after TIME_WAIT,
 * privileged ports, addresses lo lacks), listen/accept/connect with
 * ECONNREFUSED and non-blocking EINPROGRESS, getsockname/getpeername in
 * both families and IPv4-mapped IPv6, IPV6_V6ONLY, half-close, reset on
 * close with unread data, EPIPE after the peer closed, poll readiness at
 * each state, MSG_PEEK/WAITALL/TRUNC/DONTWAIT, FIONREAD, socket option
 * defaults and TCP_INFO states, UDP datagram boundaries and sender
 * addresses, connected UDP and ECONNREFUSED, interface ioctls, and the
 * errors of each call. No port number is printed: they are the host's
 * to choose. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static volatile int sigpipes;
static void on_pipe(int s) { (void)s; sigpipes++; }

static struct sockaddr_in v4(const char *ip, int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 v6(const char *ip, int port) {
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

static int port_of(int fd) {
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    if (a.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&a)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
}

/* Prints an address without its port (and whether it has one). */
static void print_addr(const char *what, struct sockaddr *sa, socklen_t len) {
    char buf[64] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        port = ntohs(a->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        port = ntohs(a->sin6_port);
    }
    printf("%s: family %d len %u addr %s port %s\n", what, sa->sa_family, len, buf,
           port ? "set" : "0");
}

static void names(const char *what, int fd) {
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    char label[96];
    snprintf(label, sizeof label, "%s name", what);
    if (getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        print_addr(label, (struct sockaddr *)&a, len);
    else
        show(label, -1);
    len = sizeof a;
    snprintf(label, sizeof label, "%s peer", what);
    if (getpeername(fd, (struct sockaddr *)&a, &len) == 0)
        print_addr(label, (struct sockaddr *)&a, len);
    else
        show(label, -1);
}

static void revents(const char *what, int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP};
    poll(&p, 1, 0);
    printf("%s: revents %#x\n", what, p.revents);
}

static void intopt(const char *what, int fd, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    int r = getsockopt(fd, level, name, &v, &len);
    if (r < 0)
        show(what, r);
    else
        printf("%s: %d (len %u)\n", what, v, len);
}

static int tcp_state(int fd) {
    struct tcp_info info;
    socklen_t len = sizeof info;
    memset(&info, 0, sizeof info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
        return -errno;
    return info.tcpi_state;
}

/* A listener on 127.0.0.1 and an ephemeral port, and a client connected
 * to it, and the accepted server side. */
static void connected_pair(int *lfd, int *cfd, int *sfd) {
    *lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", 0);
    bind(*lfd, (struct sockaddr *)&a, sizeof a);
    listen(*lfd, 8);
    a.sin_port = htons(port_of(*lfd));
    *cfd = socket(AF_INET, SOCK_STREAM, 0);
    connect(*cfd, (struct sockaddr *)&a, sizeof a);
    *sfd = accept(*lfd, NULL, NULL);
}

static void creation(void) {
    printf("== creation\n");
    show("tcp", socket(AF_INET, SOCK_STREAM, 0));
    show("tcp explicit", socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
    show("udp6", socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP));
    show("stream udp", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    show("seqpacket", socket(AF_INET, SOCK_SEQPACKET, 0));
    show("bad type", socket(AF_INET, 99, 0));
    show("bad flags", socket(AF_INET, SOCK_STREAM | 0x100000, 0));
    int sv[2];
    show("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));
    show("bluetooth family", socket(31, SOCK_STREAM, 0));
}

static void binding(void) {
    printf("== bind\n");
    int a = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = v4("0.0.0.0", 0);
    names("unbound", a);
    show("bind ephemeral", bind(a, (struct sockaddr *)&any, sizeof any));
    int port = port_of(a);
    printf("ephemeral in range: %d\n", port >= 32768 && port <= 60999);
    show("bind again", bind(a, (struct sockaddr *)&any, sizeof any));
    int b = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in same = v4("127.0.0.1", port);
    show("bind taken (overlapping)", bind(b, (struct sockaddr *)&same, sizeof same));
    struct sockaddr_in short_addr = v4("127.0.0.1", 0);
    show("bind short", bind(b, (struct sockaddr *)&short_addr, sizeof short_addr - 1));
    struct sockaddr_in6 wrong = v6("::1", 0);
    show("bind other family", bind(b, (struct sockaddr *)&wrong, sizeof wrong));
    struct sockaddr_in far = v4("10.1.2.3", 0);
    show("bind foreign address", bind(b, (struct sockaddr *)&far, sizeof far));
    struct sockaddr_in other = v4("127.0.0.2", 0);
    show("bind 127.0.0.2", bind(b, (struct sockaddr *)&other, sizeof other));
    names("127.0.0.2", b);
    close(b);

    /* SO_REUSEADDR lets two unlistening sockets share; a listener blocks. */
    int r1 = socket(AF_INET, SOCK_STREAM, 0), r2 = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(r1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(r2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in lo = v4("127.0.0.1", 0);
    bind(r1, (struct sockaddr *)&lo, sizeof lo);
    lo.sin_port = htons(port_of(r1));
    show("reuseaddr share", bind(r2, (struct sockaddr *)&lo, sizeof lo));
    show("listen first", listen(r1, 1));
    show("listen second", listen(r2, 1));
    int r3 = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(r3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    show("reuseaddr vs listener", bind(r3, (struct sockaddr *)&lo, sizeof lo));
    close(r1);
    close(r2);
    close(r3);

    /* SO_REUSEPORT: two listeners on one port. */
    int p1 = socket(AF_INET, SOCK_STREAM, 0), p2 = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(p1, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(p2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    lo.sin_port = 0;
    bind(p1, (struct sockaddr *)&lo, sizeof lo);
    lo.sin_port = htons(port_of(p1));
    show("reuseport bind", bind(p2, (struct sockaddr *)&lo, sizeof lo));
    show("reuseport listen 1", listen(p1, 1));
    show("reuseport listen 2", listen(p2, 1));
    close(p1);
    close(p2);
    close(a);

    /* An AF_INET6 wildcard takes IPv4 too, unless IPV6_V6ONLY. */
    int d = socket(AF_INET6, SOCK_STREAM, 0);
    intopt("v6only default", d, IPPROTO_IPV6, IPV6_V6ONLY);
    struct sockaddr_in6 any6 = v6("::", 0);
    bind(d, (struct sockaddr *)&any6, sizeof any6);
    int v4s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in mapped = v4("127.0.0.1", port_of(d));
    show("v4 on dual port", bind(v4s, (struct sockaddr *)&mapped, sizeof mapped));
    show("v6only after bind", setsockopt(d, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
    close(d);
    close(v4s);
    int o = socket(AF_INET6, SOCK_STREAM, 0);
    setsockopt(o, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 m = v6("::ffff:127.0.0.1", 0);
    show("v6only bind mapped", bind(o, (struct sockaddr *)&m, sizeof m));
    close(o);
    int lowport = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in low = v4("127.0.0.1", 7);
    int low_ok = bind(lowport, (struct sockaddr *)&low, sizeof low);
    printf("root binds port 7: %d\n", low_ok == 0);
    close(lowport);
}

static void connecting(void) {
    printf("== connect\n");
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", 0);
    bind(l, (struct sockaddr *)&a, sizeof a);
    a.sin_port = htons(port_of(l));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    show("connect unlistened", connect(c, (struct sockaddr *)&a, sizeof a));
    intopt("so_error after refusal", c, SOL_SOCKET, SO_ERROR);
    revents("refused", c);
    close(c);
    show("accept unlistened", accept(l, NULL, NULL));
    show("listen", listen(l, 4));
    intopt("acceptconn", l, SOL_SOCKET, SO_ACCEPTCONN);
    printf("listen state %d\n", tcp_state(l));
    revents("idle listener", l);
    c = socket(AF_INET, SOCK_STREAM, 0);
    revents("fresh", c);
    printf("fresh state %d\n", tcp_state(c));
    names("fresh", c);
    show("send unconnected", send(c, "x", 1, MSG_NOSIGNAL));
    char buf[16];
    show("recv unconnected", recv(c, buf, sizeof buf, 0));
    show("shutdown unconnected", shutdown(c, SHUT_WR));
    show("connect", connect(c, (struct sockaddr *)&a, sizeof a));
    show("connect again", connect(c, (struct sockaddr *)&a, sizeof a));
    show("connect listener", connect(l, (struct sockaddr *)&a, sizeof a));
    printf("client state %d\n", tcp_state(c));
    revents("pending listener", l);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int s = accept(l, (struct sockaddr *)&peer, &plen);
    print_addr("accepted from", (struct sockaddr *)&peer, plen);
    printf("accepted port matches client: %d\n", ntohs(peer.sin_port) == port_of(c));
    names("client", c);
    names("server", s);
    printf("server port is listener's: %d\n", port_of(s) == port_of(l));
    struct sockaddr_in far = v4("192.0.2.77", 80);
    int f = socket(AF_INET, SOCK_STREAM, 0);
    show("connect off lo", connect(f, (struct sockaddr *)&far, sizeof far));
    close(f);
    struct sockaddr_in zero = v4("0.0.0.0", port_of(l));
    f = socket(AF_INET, SOCK_STREAM, 0);
    show("connect 0.0.0.0", connect(f, (struct sockaddr *)&zero, sizeof zero));
    names("via 0.0.0.0", f);
    close(f);
    close(accept(l, NULL, NULL));

    /* Non-blocking: EINPROGRESS, then writable with SO_ERROR 0. */
    int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    show("nonblocking connect", connect(nb, (struct sockaddr *)&a, sizeof a));
    struct pollfd p = {.fd = nb, .events = POLLOUT};
    poll(&p, 1, 5000);
    printf("nonblocking writable %#x\n", p.revents);
    intopt("nonblocking so_error", nb, SOL_SOCKET, SO_ERROR);
    show("connect completed", connect(nb, (struct sockaddr *)&a, sizeof a));
    close(nb);
    close(accept(l, NULL, NULL));
    int lf = fcntl(l, F_GETFL);
    fcntl(l, F_SETFL, lf | O_NONBLOCK);
    show("accept nonblocking empty", accept(l, NULL, NULL));
    fcntl(l, F_SETFL, lf);
    close(s);
    close(c);
    close(l);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    show("nonblocking refused", connect(c, (struct sockaddr *)&a, sizeof a));
    p.fd = c;
    p.events = POLLOUT;
    poll(&p, 1, 5000);
    printf("refused revents %#x\n", p.revents);
    intopt("refused so_error", c, SOL_SOCKET, SO_ERROR);
    close(c);

    /* IPv6 and mapped addresses. */
    int l6 = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 any6 = v6("::", 0);
    bind(l6, (struct sockaddr *)&any6, sizeof any6);
    listen(l6, 4);
    struct sockaddr_in to4 = v4("127.0.0.1", port_of(l6));
    int c4 = socket(AF_INET, SOCK_STREAM, 0);
    show("v4 to dual listener", connect(c4, (struct sockaddr *)&to4, sizeof to4));
    int s4 = accept(l6, NULL, NULL);
    names("dual accepted", s4);
    struct sockaddr_in6 to6 = v6("::1", port_of(l6));
    int c6 = socket(AF_INET6, SOCK_STREAM, 0);
    show("v6 connect", connect(c6, (struct sockaddr *)&to6, sizeof to6));
    names("v6 client", c6);
    int s6 = accept(l6, NULL, NULL);
    names("v6 accepted", s6);
    close(c4), close(s4), close(c6), close(s6);
    int only = socket(AF_INET6, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(only, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 m = v6("::ffff:127.0.0.1", port_of(l6));
    show("v6only to mapped", connect(only, (struct sockaddr *)&m, sizeof m));
    close(only);
    close(l6);

    /* Backlog: listen(0) keeps one connection; more wait. */
    int lb = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in b = v4("127.0.0.1", 0);
    bind(lb, (struct sockaddr *)&b, sizeof b);
    listen(lb, 0);
    b.sin_port = htons(port_of(lb));
    int k1 = socket(AF_INET, SOCK_STREAM, 0);
    show("backlog 0 first", connect(k1, (struct sockaddr *)&b, sizeof b));
    close(k1);
    close(lb);
}

static void streams(void) {
    printf("== stream data\n");
    int l, c, s;
    connected_pair(&l, &c, &s);
    revents("established", c);
    show("send", send(c, "hello world", 11, 0));
    char buf[64] = {0};
    int avail = -1;
    usleep(20000);
    ioctl(s, FIONREAD, &avail);
    printf("fionread %d\n", avail);
    ssize_t n = recv(s, buf, 5, MSG_PEEK);
    printf("peek %zd %.*s\n", n, (int)n, buf);
    n = recv(s, buf, 5, 0);
    printf("recv %zd %.*s\n", n, (int)n, buf);
    n = recv(s, NULL, 3, MSG_TRUNC);
    printf("trunc discards %zd\n", n);
    n = recv(s, buf, sizeof buf, 0);
    printf("rest %zd %.*s\n", n, (int)n, buf);
    show("recv dontwait empty", recv(s, buf, sizeof buf, MSG_DONTWAIT));
    show("recv oob", recv(s, buf, sizeof buf, MSG_OOB));
    if (fork() == 0) {
        usleep(50000);
        send(c, "abc", 3, 0);
        usleep(50000);
        send(c, "defgh", 5, 0);
        _exit(0);
    }
    n = recv(s, buf, 8, MSG_WAITALL);
    printf("waitall %zd %.*s\n", n, (int)n, buf);
    wait(NULL);

    /* SO_RCVLOWAT: not readable below it; a blocking read waits for it. */
    int low = 5;
    show("rcvlowat", setsockopt(s, SOL_SOCKET, SO_RCVLOWAT, &low, sizeof low));
    send(c, "abc", 3, 0);
    usleep(20000);
    revents("below rcvlowat", s);
    n = recv(s, buf, sizeof buf, MSG_DONTWAIT);
    printf("nonblocking below rcvlowat %zd\n", n);
    send(c, "abc", 3, 0);
    if (fork() == 0) {
        usleep(50000);
        send(c, "defgh", 5, 0);
        _exit(0);
    }
    n = recv(s, buf, sizeof buf, 0);
    printf("blocking waits for rcvlowat %zd\n", n);
    wait(NULL);
    low = 1;
    setsockopt(s, SOL_SOCKET, SO_RCVLOWAT, &low, sizeof low);

    /* Half close: the peer reads EOF, and can still send. */
    show("shutdown wr", shutdown(c, SHUT_WR));
    revents("after shut wr (client)", c);
    usleep(20000);
    revents("peer of shut wr", s);
    n = recv(s, buf, sizeof buf, 0);
    printf("eof %zd\n", n);
    show("send after own shut wr", send(c, "x", 1, MSG_NOSIGNAL));
    show("send back", send(s, "back", 4, 0));
    n = recv(c, buf, sizeof buf, 0);
    printf("half-closed side reads %zd\n", n);
    printf("client state %d server state %d\n", tcp_state(c), tcp_state(s));
    close(s);
    usleep(20000);
    revents("both closed", c);
    close(c);
    close(l);

    /* Closing with unread data resets the peer. */
    connected_pair(&l, &c, &s);
    send(c, "unread", 6, 0);
    usleep(20000);
    close(s);
    usleep(20000);
    revents("reset", c);
    show("recv after reset", recv(c, buf, sizeof buf, 0));
    show("recv after reset again", recv(c, buf, sizeof buf, 0));
    names("reset", c);
    close(c);
    close(l);

    /* Writing to a closed peer: the first write goes, then EPIPE. */
    connected_pair(&l, &c, &s);
    close(s);
    usleep(20000);
    revents("peer closed", c);
    printf("close_wait state %d\n", tcp_state(c));
    n = recv(c, buf, sizeof buf, 0);
    printf("read after peer close %zd\n", n);
    names("close_wait", c);
    sigpipes = 0;
    show("first write", send(c, "a", 1, 0));
    usleep(20000);
    show("second write", send(c, "b", 1, 0));
    show("third write", send(c, "c", 1, MSG_NOSIGNAL));
    printf("sigpipes %d\n", sigpipes);
    close(c);
    close(l);

    /* Lingering with a zero timeout resets too. */
    connected_pair(&l, &c, &s);
    struct linger lg = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(s);
    usleep(20000);
    show("recv after linger reset", recv(c, buf, sizeof buf, 0));
    close(c);
    close(l);

    /* Listener closed with a queued connection: that connection resets. */
    l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", 0);
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 4);
    a.sin_port = htons(port_of(l));
    c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    close(l);
    usleep(20000);
    show("recv after listener closed", recv(c, buf, sizeof buf, 0));
    close(c);
}

static void time_wait(void) {
    printf("== time_wait\n");
    int l, c, s;
    connected_pair(&l, &c, &s);
    int port = port_of(l);
    close(l);
    close(s); /* the server closes first: its port is in TIME_WAIT */
    usleep(20000);
    close(c);
    usleep(20000);
    int n = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", port);
    show("rebind without reuseaddr", bind(n, (struct sockaddr *)&a, sizeof a));
    close(n);
    n = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(n, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    show("rebind with reuseaddr", bind(n, (struct sockaddr *)&a, sizeof a));
    show("listen again", listen(n, 1));
    close(n);

    /* A server that set SO_REUSEADDR restarts on its port at once. */
    l = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    a = v4("127.0.0.1", 0);
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    a.sin_port = htons(port_of(l));
    c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    s = accept(l, NULL, NULL);
    printf("server state %d\n", tcp_state(s));
    close(s);
    usleep(20000);
    printf("after active close: client %d\n", tcp_state(c));
    close(c);
    close(l);
    n = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(n, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    show("restart with reuseaddr", bind(n, (struct sockaddr *)&a, sizeof a));
    close(n);
}

static void options(void) {
    printf("== options\n");
    int t = socket(AF_INET, SOCK_STREAM, 0);
    intopt("type", t, SOL_SOCKET, SO_TYPE);
    intopt("domain", t, SOL_SOCKET, SO_DOMAIN);
    intopt("protocol", t, SOL_SOCKET, SO_PROTOCOL);
    intopt("error", t, SOL_SOCKET, SO_ERROR);
    intopt("reuseaddr", t, SOL_SOCKET, SO_REUSEADDR);
    intopt("keepalive", t, SOL_SOCKET, SO_KEEPALIVE);
    intopt("nodelay", t, IPPROTO_TCP, TCP_NODELAY);
    intopt("keepidle", t, IPPROTO_TCP, TCP_KEEPIDLE);
    intopt("keepintvl", t, IPPROTO_TCP, TCP_KEEPINTVL);
    intopt("keepcnt", t, IPPROTO_TCP, TCP_KEEPCNT);
    intopt("ttl", t, IPPROTO_IP, IP_TTL);
    intopt("tos", t, IPPROTO_IP, IP_TOS);
    intopt("v6only on v4", t, IPPROTO_IPV6, IPV6_V6ONLY);
    intopt("ip_mtu unconnected", t, IPPROTO_IP, IP_MTU);
    int one = 1, v = 30;
    show("set nodelay", setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    intopt("nodelay now", t, IPPROTO_TCP, TCP_NODELAY);
    show("set cork", setsockopt(t, IPPROTO_TCP, TCP_CORK, &one, sizeof one));
    show("set keepidle", setsockopt(t, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v));
    intopt("keepidle now", t, IPPROTO_TCP, TCP_KEEPIDLE);
    v = 0;
    show("keepidle 0", setsockopt(t, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v));
    v = 0x10;
    show("set tos", setsockopt(t, IPPROTO_IP, IP_TOS, &v, sizeof v));
    intopt("tos now", t, IPPROTO_IP, IP_TOS);
    v = 300;
    show("ttl 300", setsockopt(t, IPPROTO_IP, IP_TTL, &v, sizeof v));
    show("set keepalive", setsockopt(t, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
    intopt("keepalive now", t, SOL_SOCKET, SO_KEEPALIVE);
    v = 100000;
    show("set rcvbuf", setsockopt(t, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    intopt("rcvbuf now", t, SOL_SOCKET, SO_RCVBUF);
    show("unknown tcp option", setsockopt(t, IPPROTO_TCP, 9999, &one, sizeof one));
    show("short option", setsockopt(t, SOL_SOCKET, SO_KEEPALIVE, &one, 0));
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    intopt("udp type", u, SOL_SOCKET, SO_TYPE);
    intopt("udp protocol", u, SOL_SOCKET, SO_PROTOCOL);
    intopt("tcp option on udp", u, IPPROTO_TCP, TCP_NODELAY);
    intopt("udp broadcast", u, SOL_SOCKET, SO_BROADCAST);
    int s6 = socket(AF_INET6, SOCK_STREAM, 0);
    intopt("hops", s6, IPPROTO_IPV6, IPV6_UNICAST_HOPS);
    close(t);
    close(u);
    close(s6);
}

static void datagrams(void) {
    printf("== udp\n");
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", 0);
    bind(r, (struct sockaddr *)&a, sizeof a);
    a.sin_port = htons(port_of(r));
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    names("udp unbound", s);
    show("sendto", sendto(s, "one", 3, 0, (struct sockaddr *)&a, sizeof a));
    names("udp after send", s);
    sendto(s, "", 0, 0, (struct sockaddr *)&a, sizeof a);
    sendto(s, "three33", 7, 0, (struct sockaddr *)&a, sizeof a);
    usleep(20000);
    int avail = -1;
    ioctl(r, FIONREAD, &avail);
    printf("fionread %d\n", avail);
    char buf[64];
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    printf("dgram %zd %.*s\n", n, (int)n, buf);
    print_addr("from", (struct sockaddr *)&from, flen);
    printf("from sender's port: %d\n", ntohs(from.sin_port) == port_of(s));
    n = recv(r, buf, sizeof buf, 0);
    printf("empty dgram %zd\n", n);
    struct iovec iov = {buf, 3};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    n = recvmsg(r, &mh, 0);
    printf("truncated %zd flags-trunc %d\n", n, !!(mh.msg_flags & MSG_TRUNC));
    show("recv empty", recv(r, buf, sizeof buf, MSG_DONTWAIT));
    sendto(s, "peekme", 6, 0, (struct sockaddr *)&a, sizeof a);
    usleep(20000);
    n = recv(r, buf, 2, MSG_PEEK | MSG_TRUNC);
    printf("peek trunc %zd\n", n);
    n = recv(r, buf, sizeof buf, 0);
    printf("after peek %zd\n", n);
    revents("udp idle", r);
    show("send unconnected", send(s, "x", 1, 0));
    show("listen udp", listen(r, 1));
    show("accept udp", accept(r, NULL, NULL));
    show("shutdown unconnected udp", shutdown(s, SHUT_RD));

    /* Connected UDP: only the peer gets through; a closed port refuses. */
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    show("connect udp", connect(c, (struct sockaddr *)&a, sizeof a));
    names("connected udp", c);
    show("send connected", send(c, "hi", 2, 0));
    usleep(20000);
    n = recv(r, buf, sizeof buf, 0);
    printf("got %zd\n", n);
    struct sockaddr_in gone = v4("127.0.0.1", port_of(r));
    close(r);
    (void)gone;
    show("send to closed port", send(c, "x", 1, 0));
    usleep(20000);
    revents("after refusal", c);
    show("send after refusal", send(c, "x", 1, 0));
    show("send again", send(c, "x", 1, 0));
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    show("disconnect", connect(c, &unspec, sizeof unspec));
    names("disconnected", c);
    struct sockaddr_in bcast = v4("255.255.255.255", 9);
    show("broadcast", sendto(c, "x", 1, 0, (struct sockaddr *)&bcast, sizeof bcast));
    struct sockaddr_in far = v4("192.0.2.1", 9);
    show("off lo", sendto(c, "x", 1, 0, (struct sockaddr *)&far, sizeof far));
    struct sockaddr_in zero_port = v4("127.0.0.1", 0);
    show("port 0", sendto(c, "x", 1, 0, (struct sockaddr *)&zero_port, sizeof zero_port));
    static char big[70000];
    int e = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in self = v4("127.0.0.1", 0);
    bind(e, (struct sockaddr *)&self, sizeof self);
    self.sin_port = htons(port_of(e));
    show("too big", sendto(e, big, sizeof big, 0, (struct sockaddr *)&self, sizeof self));
    show("largest", sendto(e, big, 65507, 0, (struct sockaddr *)&self, sizeof self));
    usleep(20000);
    n = recv(e, big, sizeof big, 0);
    close(e);
    printf("largest arrived %zd\n", n);
    close(c);
    close(s);

    /* v4 datagrams to a dual-stack socket arrive from a mapped address. */
    int d = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 any6 = v6("::", 0);
    bind(d, (struct sockaddr *)&any6, sizeof any6);
    int q = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = v4("127.0.0.1", port_of(d));
    sendto(q, "mapped", 6, 0, (struct sockaddr *)&to, sizeof to);
    struct sockaddr_in6 f6;
    socklen_t f6len = sizeof f6;
    n = recvfrom(d, buf, sizeof buf, 0, (struct sockaddr *)&f6, &f6len);
    printf("dual got %zd\n", n);
    print_addr("dual from", (struct sockaddr *)&f6, f6len);
    close(d);
    close(q);
}

static int checksum_ok(const unsigned char *p, size_t n) {
    unsigned long sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (p[i] << 8) | p[i + 1];
    if (n & 1)
        sum += p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

static void control_messages(void) {
    printf("== control messages\n");
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", 0);
    bind(r, (struct sockaddr *)&a, sizeof a);
    a.sin_port = htons(port_of(r));
    int one = 1;
    setsockopt(r, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    setsockopt(r, IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
    setsockopt(r, IPPROTO_IP, IP_RECVTOS, &one, sizeof one);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
    char buf[16], ctl[256];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                        .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(r, &mh, 0);
    printf("recvmsg %zd controllen %zu\n", n, (size_t)mh.msg_controllen);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        printf("cmsg level %d type %d len %zu", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
        if (c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);
            char x[32], y[32];
            inet_ntop(AF_INET, &pi->ipi_spec_dst, x, sizeof x);
            inet_ntop(AF_INET, &pi->ipi_addr, y, sizeof y);
            printf(" ifindex %d spec %s addr %s", pi->ipi_ifindex, x, y);
        } else if (c->cmsg_type == IP_TTL) {
            printf(" ttl %d", *(int *)CMSG_DATA(c));
        } else if (c->cmsg_type == IP_TOS) {
            printf(" tos %d", *(unsigned char *)CMSG_DATA(c));
        }
        printf("\n");
    }
    /* Too little room: the first message is cut and MSG_CTRUNC set. */
    sendto(s, "y", 1, 0, (struct sockaddr *)&a, sizeof a);
    mh.msg_controllen = 20;
    n = recvmsg(r, &mh, 0);
    printf("small control: %zd controllen %zu ctrunc %d\n", n, (size_t)mh.msg_controllen,
           !!(mh.msg_flags & MSG_CTRUNC));
    close(r);
    close(s);

    int r6 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 b = v6("::1", 0);
    bind(r6, (struct sockaddr *)&b, sizeof b);
    b.sin6_port = htons(port_of(r6));
    setsockopt(r6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    setsockopt(r6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    sendto(s6, "z", 1, 0, (struct sockaddr *)&b, sizeof b);
    mh.msg_controllen = sizeof ctl;
    n = recvmsg(r6, &mh, 0);
    printf("recvmsg6 %zd controllen %zu\n", n, (size_t)mh.msg_controllen);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        printf("cmsg level %d type %d len %zu", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
        if (c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo *pi = (struct in6_pktinfo *)CMSG_DATA(c);
            char x[64];
            inet_ntop(AF_INET6, &pi->ipi6_addr, x, sizeof x);
            printf(" ifindex %u addr %s", pi->ipi6_ifindex, x);
        } else if (c->cmsg_type == IPV6_HOPLIMIT) {
            printf(" hoplimit %d", *(int *)CMSG_DATA(c));
        }
        printf("\n");
    }
    close(r6);
    close(s6);
}

/* ICMP echo sockets, once ping_group_range lets the caller's group in. */
static void echo_sockets(void) {
    printf("== icmp echo\n");
    show("closed range", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
    int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
    show("open ping_group_range", fd);
    show("write range", write(fd, "0 2147483647", 12));
    close(fd);
    char range[64] = {0};
    fd = open("/proc/sys/net/ipv4/ping_group_range", O_RDONLY);
    read(fd, range, sizeof range - 1);
    close(fd);
    printf("range now %s", range);
    for (int family = 0; family < 2; family++) {
        int v6f = family == 1;
        int s = v6f ? socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6)
                    : socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
        show(v6f ? "icmp6 socket" : "icmp socket", s);
        unsigned char req[16] = {v6f ? 128 : 8, 0, 0, 0, 0x12, 0x34, 0, 7, 'p', 'i', 'n', 'g'};
        struct sockaddr_in to = v4("127.0.0.1", 0);
        struct sockaddr_in6 to6 = v6("::1", 0);
        struct sockaddr *dst = v6f ? (struct sockaddr *)&to6 : (struct sockaddr *)&to;
        socklen_t dlen = v6f ? sizeof to6 : sizeof to;
        unsigned char bad[8] = {3, 0};
        show("not an echo request", sendto(s, bad, sizeof bad, 0, dst, dlen));
        show("too short", sendto(s, req, 4, 0, dst, dlen));
        show("echo request", sendto(s, req, 12, 0, dst, dlen));
        unsigned char rep[64];
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(s, rep, sizeof rep, 0, (struct sockaddr *)&from, &flen);
        print_addr("reply from", (struct sockaddr *)&from, flen);
        printf("reply %zd type %d code %d seq %d payload %.4s id is port %d", n, rep[0], rep[1],
               (rep[6] << 8) | rep[7], rep + 8, ((rep[4] << 8) | rep[5]) == port_of(s));
        if (!v6f)
            printf(" checksum ok %d", checksum_ok(rep, n));
        printf("\n");
        close(s);
    }
    fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
    show("reversed range", write(fd, "5 2", 3));
    close(fd);
    fd = open("/proc/sys/net/ipv4/ping_group_range", O_RDONLY);
    memset(range, 0, sizeof range);
    read(fd, range, sizeof range - 1);
    close(fd);
    printf("range now %s", range);
    fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
    show("garbage", write(fd, "zero", 4));
    close(fd);
}

static void interfaces(void) {
    printf("== interfaces\n");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    show("SIOCGIFINDEX", ioctl(fd, SIOCGIFINDEX, &ifr));
    printf("lo index %d\n", ifr.ifr_ifindex);
    show("SIOCGIFFLAGS", ioctl(fd, SIOCGIFFLAGS, &ifr));
    printf("lo flags up %d loopback %d running %d\n", !!(ifr.ifr_flags & IFF_UP),
           !!(ifr.ifr_flags & IFF_LOOPBACK), !!(ifr.ifr_flags & IFF_RUNNING));
    show("SIOCGIFADDR", ioctl(fd, SIOCGIFADDR, &ifr));
    print_addr("lo addr", &ifr.ifr_addr, sizeof ifr.ifr_addr);
    show("SIOCGIFNETMASK", ioctl(fd, SIOCGIFNETMASK, &ifr));
    print_addr("lo mask", &ifr.ifr_netmask, sizeof ifr.ifr_netmask);
    show("SIOCGIFMTU", ioctl(fd, SIOCGIFMTU, &ifr));
    printf("lo mtu %d\n", ifr.ifr_mtu);
    strcpy(ifr.ifr_name, "nosuch0");
    show("unknown interface", ioctl(fd, SIOCGIFFLAGS, &ifr));
    printf("if_nametoindex lo %u\n", if_nametoindex("lo"));
    char name[IF_NAMESIZE];
    printf("if_indextoname 1 %s\n", if_indextoname(1, name) ? name : "none");
    close(fd);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, on_pipe);
    creation();
    binding();
    connecting();
    streams();
    time_wait();
    options();
    datagrams();
    control_messages();
    echo_sockets();
    interfaces();
    return 0;
}
