/* Small process and memory calls as Linux answers them: getcpu,
 * personality, the mlock family's checks (ranges, flags, RLIMIT_MEMLOCK
 * for an unprivileged caller), mincore, membarrier and the I/O
 * priorities. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/ioprio.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <string.h>
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

    /* The sandbox populates a few neighbours of a faulting page, as
     * resident as the page itself; a page far from any touched one is not
     * resident in either. */
    unsigned char vec[64];
    memset(vec, 9, sizeof vec);
    char *a = mmap(NULL, 64 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a[0] = 1;
    a[2 * page] = 1;
    show("mincore", mincore(a, 63 * page, vec));
    printf("touched pages resident %d %d, a far page %d, past the end untouched %d\n", vec[0],
           vec[2], vec[62], vec[63]);
    show("mincore of a partial page counts it", mincore(a, 2 * page + 1, vec));
    show("mincore unaligned", mincore(a + 1, page, vec));
    show("mincore length 0", mincore(a, 0, vec));
    show("mincore across a hole", mincore(m, 4 * page, vec));
    show("mincore to a bad vector", mincore(a, page, (unsigned char *)8));
    int exe = open("/proc/self/exe", O_RDONLY);
    char *f = mmap(NULL, page, PROT_READ, MAP_PRIVATE, exe, 0);
    show("mincore of a running executable", mincore(f, page, vec));
    printf("its first page resident %d\n", vec[0]);
    close(exe);

    long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    long want = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_PRIVATE_EXPEDITED |
                MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
    printf("membarrier query has global and private expedited %d\n", (q & want) == want);
    show("membarrier private before registering",
         syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
    show("membarrier register",
         syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
    show("membarrier private", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
    show("membarrier global", syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0));
    show("membarrier flags", syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 1, 0));
    show("membarrier two commands", syscall(SYS_membarrier, 3, 0, 0));
    show("membarrier unknown", syscall(SYS_membarrier, 1 << 12, 0, 0));

    printf("ioprio %#lx\n", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0));
    show("ioprio BE 7", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
                                IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7)));
    printf("ioprio %#lx by pid %#lx\n", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0),
           syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, getpid()));
    show("ioprio BE level 8 wraps", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
                                            IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 8)));
    printf("ioprio %#lx\n", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0));
    show("ioprio class 4", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, 4 << 13));
    show("ioprio class NONE level 3", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, 3));
    show("ioprio IDLE", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
                                IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 5)));
    show("ioprio RT", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
                              IOPRIO_PRIO_VALUE(IOPRIO_CLASS_RT, 1)));
    printf("ioprio %#lx\n", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0));
    show("ioprio bad which", syscall(SYS_ioprio_get, 9, 0));
    show("ioprio no such process", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 999999));
    show("ioprio negative process", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, -5, 0));
    setpgid(0, 0);
    show("ioprio set own group", syscall(SYS_ioprio_set, IOPRIO_WHO_PGRP, 0,
                                         IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 3)));
    printf("group's best %#lx\n", syscall(SYS_ioprio_get, IOPRIO_WHO_PGRP, 0));
    pid_t k = fork();
    if (k == 0) {
        printf("child inherits %#lx\n", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0));
        syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, 0);
        printf("group's best with a class-less member %#lx\n",
               syscall(SYS_ioprio_get, IOPRIO_WHO_PGRP, 0));
        _exit(0);
    }
    waitpid(k, NULL, 0);

    /* process_vm_readv/writev on a child's copy of `shared_buf`. */
    static char shared_buf[3 * 4096] = "the child's own bytes";
    int go[2];
    pipe(go);
    pid_t v = fork();
    if (v == 0) {
        char b;
        read(go[0], &b, 1);
        printf("child sees: %s\n", shared_buf);
        _exit(0);
    }
    strcpy(shared_buf, "overwritten in the parent only");
    char got[64] = {0}, part[8] = {0};
    struct iovec l[2] = {{got, 10}, {part, 8}};
    struct iovec r[1] = {{shared_buf, 18}};
    printf("readv of the child %ld: [%s] [%.8s]\n", (long)process_vm_readv(v, l, 2, r, 1, 0), got,
           part);
    char msg[] = "written by the parent";
    struct iovec wl[1] = {{msg, sizeof msg}};
    printf("writev into the child %ld\n", (long)process_vm_writev(v, wl, 1, r, 1, 0));
    struct iovec bad[2] = {{shared_buf, 5}, {(void *)8, 5}};
    printf("readv with a bad second remote %ld\n", (long)process_vm_readv(v, l, 1, bad, 2, 0));
    show("readv all bad", process_vm_readv(v, l, 1, bad + 1, 1, 0));
    struct iovec top[1] = {{(void *)(~0UL - 10), 100}};
    show("readv at the top of the address space", process_vm_readv(v, l, 1, top, 1, 0));
    show("writev to the top of the address space", process_vm_writev(v, wl, 1, top, 1, 0));
    show("readv flags", process_vm_readv(v, l, 1, r, 1, 1));
    show("readv no such process", process_vm_readv(999999, l, 1, r, 1, 0));
    show("readv too many iovecs", process_vm_readv(v, l, 1025, r, 1, 0));
    struct iovec small[1] = {{got, 4}};
    printf("readv into a shorter local %ld\n", (long)process_vm_readv(v, small, 1, r, 1, 0));
    printf("readv of self %ld\n", (long)process_vm_readv(getpid(), l, 1, r, 1, 0));
    write(go[1], "x", 1);
    waitpid(v, NULL, 0);

    prctl(PR_SET_DUMPABLE, 0);
    pid_t c = fork();
    if (c == 0) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_MEMLOCK, &none);
        setresuid(65534, 65534, 65534);
        show("unprivileged mlock with no MEMLOCK budget", mlock(m, page));
        show("unprivileged mlockall", mlockall(MCL_CURRENT));
        show("unprivileged readv of a parent that is not dumpable",
             process_vm_readv(getppid(), l, 1, r, 1, 0));
        show("unprivileged ioprio RT", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
                                               IOPRIO_PRIO_VALUE(IOPRIO_CLASS_RT, 0)));
        show("unprivileged ioprio IDLE", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
                                                 IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    return 0;
}
