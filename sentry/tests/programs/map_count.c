/* vm.max_map_count: a program that fragments its address space (one page
 * at a time, alternating protections so that nothing merges) gets ENOMEM
 * from mmap and from an mprotect that would split a mapping, once it has
 * as many mappings as the sysctl says; unmapping makes room again. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int count_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

int main(void) {
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    int max = 0;
    fscanf(f, "%d", &max);
    fclose(f);
    printf("max_map_count %d\n", max);
    /* One reservation, then every other page made read-only: each
     * mprotect splits off new mappings. */
    long pages = max + 100;
    char *base = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int err = 0;
    long i;
    for (i = 1; i < pages; i += 2) {
        if (mprotect(base + i * 4096, 4096, PROT_READ) != 0) {
            err = errno;
            break;
        }
    }
    int n = count_maps();
    printf("mprotect stopped with %s\n", strerrorname_np(err));
    printf("mappings near the limit: %s\n", n >= max - 5 && n <= max + 5 ? "yes" : "no");
    void *more = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("one more mmap: %s\n", more == MAP_FAILED ? strerrorname_np(errno) : "ok");
    munmap(base, pages * 4096);
    more = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("after munmap: %s\n", more == MAP_FAILED ? strerrorname_np(errno) : "ok");
    return 0;
}
