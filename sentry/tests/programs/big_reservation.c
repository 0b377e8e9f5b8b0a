/* A process that reserves 64 GiB of address space, touches two pages
 * and faults: its core dump holds the two pages and leaves the rest as
 * holes, so it is written at once whatever the reservation's size. */
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
    char *p = mmap(NULL, 1UL << 36, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    p[12345] = 1;
    p[1UL << 35] = 2;
    *(volatile int *)0 = 0;
    return 0;
}
