/* Several threads fault, map, unmap, protect and read files at once; the
 * result is checked against what was written. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define THREADS 6
#define ROUNDS 150
static int failures;

static void *worker(void *arg) {
    long id = (long)arg;
    char path[64];
    snprintf(path, sizeof path, "/data/f%ld", id % 4);
    for (int r = 0; r < ROUNDS; r++) {
        size_t len = 64 * 1024 + (size_t)(r % 7) * 4096;
        unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED); continue; }
        for (size_t i = 0; i < len; i += 4096) p[i] = (unsigned char)(id + i);
        mprotect(p, len / 2, PROT_READ);
        for (size_t i = 0; i < len; i += 4096)
            if (p[i] != (unsigned char)(id + i)) __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
        munmap(p, len);

        int fd = open(path, O_RDONLY);
        if (fd < 0) { __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED); continue; }
        off_t size = lseek(fd, 0, SEEK_END);
        unsigned char *m = mmap(0, size, PROT_READ, MAP_PRIVATE, fd, 0);
        unsigned char *buf = malloc(size);
        if (m == MAP_FAILED || !buf || pread(fd, buf, size, 0) != size || memcmp(m, buf, size) != 0)
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
        for (off_t i = 0; i < size; i++)
            if (buf[i] != (unsigned char)(i * 7 + id % 4)) { __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED); break; }
        if (m != MAP_FAILED) munmap(m, size);
        free(buf);
        close(fd);
    }
    return 0;
}

int main(void) {
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&t[i], 0, worker, (void *)i);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], 0);
    printf("failures=%d\n", failures);
    return failures != 0;
}
