/* memfd_create and file seals as Linux has them: the flags and names it
 * refuses, an unlinked writable file, F_GET_SEALS/F_ADD_SEALS with each
 * seal's effect on write, ftruncate, fallocate and mmap, EBUSY while a
 * shared writable mapping exists, and a tmpfs file's fixed F_SEAL_SEAL. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "show.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    show("bad flag", memfd_create("x", 0x100));
    show("hugetlb", memfd_create("x", MFD_HUGETLB));
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    show("name too long", memfd_create(longname, 0));

    int plain = memfd_create("plain", MFD_CLOEXEC);
    show("memfd_create", plain);
    printf("cloexec %d seals %#x\n", !!(fcntl(plain, F_GETFD) & FD_CLOEXEC),
           fcntl(plain, F_GET_SEALS));
    show("add a seal without MFD_ALLOW_SEALING", fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE));
    write(plain, "hello", 5);
    struct stat st;
    fstat(plain, &st);
    printf("regular %d size %lld mode %o\n", S_ISREG(st.st_mode), (long long)st.st_size,
           st.st_mode & 0777);

    int fd = memfd_create("sealed", MFD_ALLOW_SEALING);
    printf("seals %#x\n", fcntl(fd, F_GET_SEALS));
    ftruncate(fd, 8192);
    show("unknown seal", fcntl(fd, F_ADD_SEALS, 0x100));
    show("F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    show("shrink", ftruncate(fd, 4096));
    show("grow", ftruncate(fd, 12288));
    show("F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    show("grow again", ftruncate(fd, 16384));
    show("write inside", pwrite(fd, "abc", 3, 100));
    show("write past the end", pwrite(fd, "abc", 3, 12288));
    show("fallocate past the end", fallocate(fd, 0, 0, 20000));
    char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("shared writable mapping %d\n", shared != MAP_FAILED);
    show("F_SEAL_WRITE while mapped shared writable", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    munmap(shared, 4096);
    show("F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    show("write", pwrite(fd, "abc", 3, 0));
    show("punch a hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show("mmap shared writable", m == MAP_FAILED ? -1 : 0);
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    show("mmap private writable", m == MAP_FAILED ? -1 : 0);
    char buf[4] = {0};
    pread(fd, buf, 3, 100);
    printf("reads still work: %s\n", buf);
    show("F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    printf("seals %#x\n", fcntl(fd, F_GET_SEALS));
    show("after F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));

    int noexec = memfd_create("noexec", MFD_NOEXEC_SEAL);
    fstat(noexec, &st);
    printf("noexec: mode %o seals %#x\n", st.st_mode & 0777, fcntl(noexec, F_GET_SEALS));
    show("chmod +x", fchmod(noexec, 0755));

    int pipefd[2];
    pipe(pipefd);
    show("F_GET_SEALS on a pipe", fcntl(pipefd[0], F_GET_SEALS));
    return 0;
}
