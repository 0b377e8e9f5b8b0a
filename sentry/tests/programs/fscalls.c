/* The older and thinner file calls as Linux answers them: creat, truncate,
 * chown/lchown, utime/utimes/futimesat, mknod/mknodat, the old getdents,
 * the xattr setters, sync/syncfs/sync_file_range, readahead and chroot,
 * with their errors. Works in a directory of its own under /tmp. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "show.h"

#define DIR "/tmp/fscalls-test"

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    umask(022);
    mkdir(DIR, 0755);
    chdir(DIR);
    int fd = creat("f", 0666);
    show("creat", fd);
    write(fd, "0123456789", 10);
    struct stat st;
    fstat(fd, &st);
    printf("mode %o size %lld\n", st.st_mode & 07777, (long long)st.st_size);
    show("creat an existing file truncates it", creat("f", 0600) >= 0 ? 0 : -1);
    fstat(fd, &st);
    printf("size after creat %lld\n", (long long)st.st_size);
    write(fd, "0123456789", 10);

    show("truncate", truncate("f", 4));
    stat("f", &st);
    printf("size %lld\n", (long long)st.st_size);
    show("truncate negative", truncate("f", -1));
    show("truncate a directory", truncate(".", 0));
    show("truncate a missing file", truncate("nope", 0));
    mkfifo("fifo", 0644);
    show("truncate a fifo", truncate("fifo", 0));

    symlink("f", "l");
    show("chown", chown("f", 1234, 5678));
    show("lchown", lchown("l", 4321, 8765));
    stat("f", &st);
    printf("f owner %u:%u\n", st.st_uid, st.st_gid);
    lstat("l", &st);
    printf("l owner %u:%u\n", st.st_uid, st.st_gid);
    show("chown -1 -1", chown("f", -1, -1));

    struct utimbuf ub = {.actime = 1000, .modtime = 2000};
    show("utime", utime("f", &ub));
    stat("f", &st);
    printf("atime %lld mtime %lld\n", (long long)st.st_atime, (long long)st.st_mtime);
    struct timeval tv[2] = {{3000, 5}, {4000, 6}};
    show("utimes", utimes("f", tv));
    stat("f", &st);
    printf("atime %lld.%09ld mtime %lld.%09ld\n", (long long)st.st_atime, st.st_atim.tv_nsec,
           (long long)st.st_mtime, st.st_mtim.tv_nsec);
    tv[0].tv_usec = 2000000;
    show("utimes with a bad usec", utimes("f", tv));
    tv[0].tv_usec = 0;
    show("futimesat", syscall(SYS_futimesat, AT_FDCWD, "f", tv));
    show("utime now", utime("f", NULL));

    show("mknod a regular file", mknod("r", 0640, 0));
    stat("r", &st);
    printf("r: regular %d mode %o\n", S_ISREG(st.st_mode), st.st_mode & 07777);
    show("mknod a fifo", mknod("p", S_IFIFO | 0666, 0));
    stat("p", &st);
    printf("p: fifo %d mode %o\n", S_ISFIFO(st.st_mode), st.st_mode & 07777);
    show("mknod a character device", mknod("c", S_IFCHR | 0600, makedev(1, 3)));
    stat("c", &st);
    printf("c: chr %d %u:%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
    show("mknod a directory", mknod("d", S_IFDIR | 0755, 0));
    show("mknod a bad type", mknod("x", 0170000, 0));
    show("mknod an existing name", mknod("r", 0644, 0));
    show("mknodat", mknodat(AT_FDCWD, "s", S_IFSOCK | 0644, 0));

    int d = open(".", O_RDONLY | O_DIRECTORY);
    char buf[4096];
    long n = syscall(SYS_getdents, d, buf, sizeof buf);
    int entries = 0, sawf = 0;
    for (long at = 0; at < n;) {
        unsigned short reclen = *(unsigned short *)(buf + at + 16);
        char *name = buf + at + 18;
        char type = buf[at + reclen - 1];
        if (strcmp(name, "f") == 0 && type == DT_REG)
            sawf = 1;
        entries++;
        at += reclen;
    }
    printf("getdents: %d entries, f is a regular file %d\n", entries, sawf);
    show("getdents into 10 bytes", syscall(SYS_getdents, d, buf, 10));
    show("getdents of a file", syscall(SYS_getdents, fd, buf, sizeof buf));

    show("setxattr", setxattr("f", "user.color", "blue", 4, 0));
    show("setxattr XATTR_CREATE again", setxattr("f", "user.color", "red", 3, XATTR_CREATE));
    show("setxattr XATTR_REPLACE", setxattr("f", "user.color", "red", 3, XATTR_REPLACE));
    show("setxattr XATTR_REPLACE missing", setxattr("f", "user.size", "1", 1, XATTR_REPLACE));
    show("setxattr bad flags", setxattr("f", "user.x", "1", 1, 4));
    show("setxattr empty name", setxattr("f", "", "1", 1, 0));
    char v[16] = {0};
    printf("getxattr: %zd %s\n", getxattr("f", "user.color", v, sizeof v), v);
    show("fsetxattr", fsetxattr(fd, "user.fd", "yes", 3, 0));
    show("lsetxattr on a symlink (user.*)", lsetxattr("l", "user.link", "1", 1, 0));
    show("removexattr", removexattr("f", "user.color"));
    show("removexattr missing", removexattr("f", "user.color"));
    show("fremovexattr", fremovexattr(fd, "user.fd"));
    printf("listxattr after: %zd\n", listxattr("f", v, sizeof v));

    show("sync_file_range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
    show("sync_file_range bad flags", sync_file_range(fd, 0, 0, 8));
    show("sync_file_range negative", sync_file_range(fd, -1, 0, 0));
    int pp[2];
    pipe(pp);
    show("sync_file_range a pipe", sync_file_range(pp[0], 0, 0, 0));
    show("readahead", readahead(fd, 0, 4096) < 0 ? -1 : 0);
    int rfd = open("f", O_RDONLY);
    show("readahead", readahead(rfd, 0, 4096));
    show("readahead a pipe", readahead(pp[0], 0, 4096));
    sync();
    show("syncfs", syncfs(fd));

    /* chroot, in children so that this process keeps its root. */
    mkdir("jail", 0755);
    mkdir("jail/sub", 0755);
    close(creat("jail/inside", 0644));
    show("chroot a file", chroot("f"));
    show("chroot nothing", chroot("missing"));
    pid_t c = fork();
    if (c == 0) {
        show("chroot", chroot("jail"));
        char cwd[256];
        printf("getcwd outside the root: %s\n", getcwd(cwd, sizeof cwd) ? cwd : "error");
        show("open through the old cwd still works", access("f", F_OK));
        show("absolute paths resolve in the jail", access("/inside", F_OK));
        show("the host's files are gone", access("/tmp", F_OK));
        chdir("/sub");
        printf("getcwd in the jail: %s\n", getcwd(cwd, sizeof cwd) ? cwd : "error");
        struct stat a, b;
        stat("/", &a);
        stat("/../..", &b);
        printf("/.. stays at the root %d\n", a.st_ino == b.st_ino);
        show("chroot again, relative", chroot("."));
        printf("getcwd now: %s\n", getcwd(cwd, sizeof cwd) ? cwd : "error");
        _exit(0);
    }
    waitpid(c, NULL, 0);
    c = fork();
    if (c == 0) {
        setresuid(65534, 65534, 65534);
        show("unprivileged chroot", chroot("jail"));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    unlink("jail/inside");
    rmdir("jail/sub");
    rmdir("jail");

    const char *names[] = {"f", "l", "fifo", "r", "p", "c", "s"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(names[i]);
    chdir("/");
    show("rmdir", rmdir(DIR));
    return 0;
}
