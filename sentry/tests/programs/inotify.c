/* inotify: the events of creating, opening, reading, writing, closing,
 * changing attributes of, renaming and deleting files in a watched
 * directory and on watched files, with IN_ONESHOT, IN_MASK_ADD,
 * IN_MASK_CREATE, IN_ONLYDIR, IN_IGNORED, short reads, FIONREAD, poll,
 * and Linux's errno for misuse. Runs in a fresh directory under the
 * given path (memfs in the sandbox, the host's filesystem natively). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "show.h"

static int wd_dir, wd_file;

static const char *names[] = {"ACCESS", "MODIFY", "ATTRIB", "CLOSE_WRITE", "CLOSE_NOWRITE",
                              "OPEN", "MOVED_FROM", "MOVED_TO", "CREATE", "DELETE",
                              "DELETE_SELF", "MOVE_SELF"};

/* Prints every queued event: which watch, its bits, its name, and
 * whether a cookie links it to the previous event. */
static void drain(int fd, const char *what) {
    char buf[4096] __attribute__((aligned(8)));
    static unsigned last_cookie;
    printf("-- %s\n", what);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            break;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *at = buf; at < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)at;
            printf("  %s", e->wd == wd_dir ? "dir" : e->wd == wd_file ? "file" : "other");
            for (int i = 0; i < 12; i++)
                if (e->mask & (1u << i))
                    printf(" %s", names[i]);
            if (e->mask & IN_ISDIR)
                printf(" ISDIR");
            if (e->mask & IN_IGNORED)
                printf(" IGNORED");
            if (e->mask & IN_Q_OVERFLOW)
                printf(" Q_OVERFLOW");
            if (e->len)
                printf(" '%s' (len %u)", e->name, e->len);
            if (e->cookie)
                printf(" cookie%s", e->cookie == last_cookie ? " same as before" : "");
            last_cookie = e->cookie;
            printf("\n");
            at += sizeof *e + e->len;
        }
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[256], path[300], other[300], sub[300];
    snprintf(dir, sizeof dir, "%s/inotify-%d", argc > 1 ? argv[1] : "/tmp", getpid());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/file", dir);
    snprintf(other, sizeof other, "%s/renamed", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);

    show("init1 bad flags", inotify_init1(0x10));
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    show("init1", fd);
    show("add_watch no events", inotify_add_watch(fd, dir, 0));
    show("add_watch missing", inotify_add_watch(fd, "/nonexistent/x", IN_ALL_EVENTS));
    show("add_watch on a non-inotify fd", inotify_add_watch(1, dir, IN_ALL_EVENTS));
    show("add_watch bad fd", inotify_add_watch(999, dir, IN_ALL_EVENTS));
    show("add+create", inotify_add_watch(fd, dir, IN_ALL_EVENTS | IN_MASK_ADD | IN_MASK_CREATE));
    wd_dir = inotify_add_watch(fd, dir, IN_ALL_EVENTS);
    show("watch dir", wd_dir);
    show("same watch again", inotify_add_watch(fd, dir, IN_ALL_EVENTS) == wd_dir ? 0 : -1);
    show("IN_MASK_CREATE on a watched dir", inotify_add_watch(fd, dir, IN_CREATE | IN_MASK_CREATE));
    char buf[64];
    show("read empty", read(fd, buf, sizeof buf));

    int f = open(path, O_CREAT | O_WRONLY, 0644);
    write(f, "hello", 5);
    close(f);
    drain(fd, "create, write, close");

    wd_file = inotify_add_watch(fd, path, IN_ALL_EVENTS);
    show("watch file", wd_file);
    show("IN_ONLYDIR on a file", inotify_add_watch(fd, path, IN_ALL_EVENTS | IN_ONLYDIR));
    f = open(path, O_RDONLY);
    read(f, buf, sizeof buf);
    close(f);
    drain(fd, "open, read, close");

    chmod(path, 0600);
    truncate(path, 2);
    drain(fd, "chmod, truncate");

    int avail = -1;
    f = open(path, O_WRONLY | O_APPEND);
    write(f, "x", 1);
    ioctl(fd, FIONREAD, &avail);
    printf("FIONREAD: %d\n", avail);
    show("read too small for one event", read(fd, buf, 8));
    close(f);
    drain(fd, "append");

    show("watch file with MASK_ADD", inotify_add_watch(fd, path, IN_DELETE_SELF | IN_MASK_ADD) == wd_file ? 0 : -1);
    rename(path, other);
    drain(fd, "rename");

    mkdir(sub, 0755);
    rmdir(sub);
    drain(fd, "mkdir, rmdir");

    unlink(other);
    drain(fd, "unlink of the watched file");
    show("rm_watch of the removed watch", inotify_rm_watch(fd, wd_file));

    int one = inotify_add_watch(fd, dir, IN_CREATE | IN_ONESHOT);
    show("oneshot replaces the dir watch", one == wd_dir ? 0 : -1);
    close(open(path, O_CREAT | O_WRONLY, 0644));
    close(open(other, O_CREAT | O_WRONLY, 0644));
    drain(fd, "oneshot");
    show("rm_watch after oneshot", inotify_rm_watch(fd, wd_dir));

    wd_dir = inotify_add_watch(fd, dir, IN_DELETE);
    show("rm_watch", inotify_rm_watch(fd, wd_dir));
    drain(fd, "rm_watch");
    show("rm_watch again", inotify_rm_watch(fd, wd_dir));
    unlink(path);
    unlink(other);
    drain(fd, "no watch left");

    wd_dir = inotify_add_watch(fd, dir, IN_DELETE_SELF);
    rmdir(dir);
    drain(fd, "rmdir of the watched dir");
    close(fd);
    return 0;
}
