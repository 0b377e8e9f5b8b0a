/* Named FIFOs as Linux has them: open waits for the other side (a
 * writer for a reader, a reader for a writer), O_NONBLOCK writers without
 * readers get ENXIO, O_NONBLOCK readers do not wait and read end of file,
 * O_RDWR never waits, data flows between processes, and fstat/fchmod act
 * on the FIFO's own inode. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

#define DIR "/tmp/fifo-test"

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    umask(022);
    mkdir(DIR, 0755);
    show("mkfifo", mkfifo(DIR "/p", 0666));
    show("mkfifo again", mkfifo(DIR "/p", 0666));
    show("writer without readers, O_NONBLOCK", open(DIR "/p", O_WRONLY | O_NONBLOCK));
    int r = open(DIR "/p", O_RDONLY | O_NONBLOCK);
    show("reader with O_NONBLOCK", r);
    char buf[32] = {0};
    printf("read with no writer: %zd\n", read(r, buf, sizeof buf));
    struct stat st;
    fstat(r, &st);
    printf("fstat: fifo %d mode %o\n", S_ISFIFO(st.st_mode), st.st_mode & 07777);
    show("fchmod", fchmod(r, 0600));
    stat(DIR "/p", &st);
    printf("after fchmod: mode %o\n", st.st_mode & 07777);
    close(r);

    /* A blocking reader and writer find each other across processes. */
    pid_t child = fork();
    if (child == 0) {
        int w = open(DIR "/p", O_WRONLY);
        write(w, "through the fifo", 16);
        close(w);
        _exit(0);
    }
    r = open(DIR "/p", O_RDONLY);
    show("blocking reader", r);
    memset(buf, 0, sizeof buf);
    ssize_t n, total = 0;
    while ((n = read(r, buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    printf("read: %zd \"%s\"\n", total, buf);
    close(r);
    waitpid(child, NULL, 0);

    /* O_RDWR never waits and sees its own writes. */
    int rw = open(DIR "/p", O_RDWR);
    show("O_RDWR", rw);
    write(rw, "self", 4);
    memset(buf, 0, sizeof buf);
    n = read(rw, buf, sizeof buf);
    printf("O_RDWR read back: %zd %s\n", n, buf);
    close(rw);

    unlink(DIR "/p");
    rmdir(DIR);
    return 0;
}
