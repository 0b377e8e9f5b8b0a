/* Pseudo-terminals: /dev/ptmx and /dev/pts, locking, TIOCGPTN and
 * TIOCGPTPEER, packet mode, controlling terminals (TIOCSCTTY, the
 * foreground group, signals from ISIG characters and TIOCSIG, SIGWINCH),
 * non-canonical reads, and hang-up when the master closes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "show.h"

static volatile sig_atomic_t got;

static void on_signal(int sig) { got = sig; }

/* Reads what the master has within a moment, as one string. */
static void drain(int master, const char *what) {
    char buf[256];
    struct pollfd p = {.fd = master, .events = POLLIN};
    size_t n = 0;
    while (n < sizeof buf - 1 && poll(&p, 1, 200) > 0 && (p.revents & POLLIN)) {
        ssize_t r = read(master, buf + n, sizeof buf - 1 - n);
        if (r <= 0)
            break;
        n += r;
    }
    buf[n] = 0;
    printf("%s: \"", what);
    for (size_t i = 0; i < n; i++)
        printf(buf[i] >= 32 && buf[i] < 127 ? "%c" : "\\x%02x", (unsigned char)buf[i]);
    printf("\"\n");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    show("open /dev/ptmx", m);
    int n = -1;
    show("TIOCGPTN", ioctl(m, TIOCGPTN, &n));
    char path[64];
    snprintf(path, sizeof path, "/dev/pts/%d", n);
    int locked = -1;
    ioctl(m, TIOCGPTLCK, &locked);
    printf("locked at first: %d\n", locked);
    show("open locked replica", open(path, O_RDWR | O_NOCTTY));
    show("unlockpt", unlockpt(m));
    int s = open(path, O_RDWR | O_NOCTTY);
    show("open replica", s);
    struct stat st;
    fstat(s, &st);
    printf("replica: chr %d major %u mode %o name matches %d\n", S_ISCHR(st.st_mode),
           major(st.st_rdev), st.st_mode & 0777, strcmp(ttyname(s), path) == 0);
    struct stat pst;
    stat(path, &pst);
    printf("stat of the path is the same inode: %d\n", pst.st_ino == st.st_ino && pst.st_dev == st.st_dev);
    fstat(m, &st);
    printf("master: chr %d rdev %u:%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
    int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    show("TIOCGPTPEER", peer);
    int extra = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CREAT);
    show("TIOCGPTPEER ignores O_CREAT", extra);
    close(extra);
    show("TIOCGPTN on replica", ioctl(s, TIOCGPTN, &n));
    /* In a child, which leads no session (the sandbox's first process
     * leads one). */
    pid_t pid = fork();
    if (pid == 0) {
        show("TIOCSCTTY not a leader", ioctl(s, TIOCSCTTY, 0));
        int pg = 1;
        show("TIOCGPGRP without ctty", ioctl(s, TIOCGPGRP, &pg));
        show("TIOCSPGRP without ctty", ioctl(s, TIOCSPGRP, &pg));
        pg = -1;
        show("TIOCSPGRP negative", ioctl(s, TIOCSPGRP, &pg));
        show("TIOCNOTTY without ctty", ioctl(s, TIOCNOTTY));
        _exit(0);
    }
    waitpid(pid, NULL, 0);

    /* Non-canonical: bytes as they come; VMIN 0 polls. */
    struct termios t;
    tcgetattr(s, &t);
    cfmakeraw(&t);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    tcsetattr(s, TCSANOW, &t);
    char buf[64];
    printf("raw empty read: %zd\n", read(s, buf, sizeof buf));
    write(m, "x\ry\x03", 4);
    ssize_t r = read(peer, buf, sizeof buf);
    printf("raw read %zd: %d %d %d %d\n", r, buf[0], buf[1], buf[2], buf[3]);
    write(s, "a\nb", 3);
    drain(m, "raw output");
    t.c_oflag |= OPOST | ONLCR;
    t.c_lflag |= ICANON | ECHO | ISIG;
    t.c_iflag |= ICRNL;
    tcsetattr(s, TCSAFLUSH, &t);
    int avail = -1;
    /* Linux moves input to the replica asynchronously: wait a moment. */
    write(m, "ab", 2);
    usleep(100000);
    ioctl(s, FIONREAD, &avail);
    printf("FIONREAD of a partial line: %d\n", avail);
    write(m, "\n", 1);
    usleep(100000);
    ioctl(s, FIONREAD, &avail);
    printf("FIONREAD of a line: %d\n", avail);
    drain(m, "echo");
    show("TCFLSH input", tcflush(s, TCIFLUSH));
    ioctl(s, FIONREAD, &avail);
    printf("FIONREAD after flush: %d\n", avail);
    show("TCFLSH bad", ioctl(s, TCFLSH, 7));

    int on = 1;
    show("TIOCPKT", ioctl(m, TIOCPKT, &on));
    write(s, "pk", 2);
    r = read(m, buf, sizeof buf);
    printf("packet read %zd: %d '%.*s'\n", r, buf[0], (int)r - 1, buf + 1);
    on = 0;
    ioctl(m, TIOCPKT, &on);

    /* A child session on the terminal: ISIG, TIOCSIG and SIGWINCH. */
    pid = fork();
    if (pid == 0) {
        setsid();
        int c = open(path, O_RDWR); /* a leader without O_NOCTTY takes it */
        signal(SIGINT, on_signal);
        signal(SIGWINCH, on_signal);
        signal(SIGQUIT, on_signal);
        int fg = -1;
        ioctl(c, TIOCGPGRP, &fg);
        int ok = fg == getpid();
        pid_t sid = -1;
        ioctl(c, TIOCGSID, &sid);
        ok &= sid == getpid();
        int tty = open("/dev/tty", O_RDWR);
        ok &= tty >= 0;
        write(c, "ready\n", 6);
        for (int i = 0; i < 3; i++) {
            while (!got)
                pause();
            char note[16];
            int len = snprintf(note, sizeof note, "got %s\n", sigabbrev_np(got));
            got = 0;
            write(tty, note, len);
        }
        _exit(ok ? 0 : 1);
    }
    drain(m, "child says");
    write(m, "\x03", 1);
    drain(m, "after ^C");
    struct winsize ws = {.ws_row = 30, .ws_col = 100};
    ioctl(m, TIOCSWINSZ, &ws);
    drain(m, "after TIOCSWINSZ");
    show("TIOCSIG", ioctl(m, TIOCSIG, SIGQUIT));
    drain(m, "after TIOCSIG");
    wait_child("session child", pid);
    show("TIOCSIG bad signal", ioctl(m, TIOCSIG, 0));

    /* Hang-up: the session's foreground group gets SIGHUP. */
    pid = fork();
    if (pid == 0) {
        /* Only the parent may hold the master, or it never closes. */
        close(m);
        close(s);
        close(peer);
        setsid();
        int c = open(path, O_RDWR);
        write(c, "x", 1);
        pause();
        _exit(0);
    }
    drain(m, "second child");
    close(peer);
    close(s);
    close(m);
    wait_child("hung-up child", pid);

    m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m);
    unlockpt(m);
    s = open(ptsname(m), O_RDWR | O_NOCTTY);
    close(m);
    r = read(s, buf, sizeof buf);
    printf("replica read after master close: %zd\n", r);
    show("replica write after master close", write(s, "x", 1));
    close(s);
    m = posix_openpt(O_RDWR | O_NOCTTY);
    unlockpt(m);
    s = open(ptsname(m), O_RDWR | O_NOCTTY);
    write(s, "bye", 3);
    close(s);
    r = read(m, buf, sizeof buf);
    printf("master read of what a closed replica wrote: %zd\n", r);
    show("master read after replica close", read(m, buf, sizeof buf));
    struct pollfd p = {.fd = m, .events = POLLIN};
    poll(&p, 1, 0);
    printf("master poll after replica close: hup %d\n", !!(p.revents & POLLHUP));
    return 0;
}
