/* Small process and memory calls as Linux answers them: getcpu,
 * personality, and the mlock family's checks (ranges, flags,
 * RLIMIT_MEMLOCK for an unprivileged caller). */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unsigned cpu = 999, node = 999;
    show("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
    printf("cpu in range %d node %u\n", cpu < (unsigned)sysconf(_SC_NPROCESSORS_ONLN), node);

    printf("personality %#x\n", personality(0xffffffff));
    printf("set returns the old one: %#x\n", personality(PER_LINUX | ADDR_NO_RANDOMIZE));
    printf("now %#x\n", personality(0xffffffff));
    personality(PER_LINUX);

    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mlock", mlock(m + 10, 2 * page));
    show("munlock", munlock(m, 4 * page));
    munmap(m + page, page);
    show("mlock across a hole", mlock(m, 4 * page));
    show("munlock across a hole", munlock(m, 4 * page));
    show("mlock2 bad flags", syscall(SYS_mlock2, m, page, 2));
    show("mlock2 MLOCK_ONFAULT", syscall(SYS_mlock2, m, page, 1));
    show("mlockall 0", mlockall(0));
    show("mlockall MCL_ONFAULT alone", mlockall(MCL_ONFAULT));
    show("mlockall MCL_CURRENT", mlockall(MCL_CURRENT));
    show("munlockall", munlockall());

    pid_t c = fork();
    if (c == 0) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_MEMLOCK, &none);
        setresuid(65534, 65534, 65534);
        show("unprivileged mlock with no MEMLOCK budget", mlock(m, page));
        show("unprivileged mlockall", mlockall(MCL_CURRENT));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    return 0;
}
