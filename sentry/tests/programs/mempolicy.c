/* NUMA memory policies as Linux answers them on a machine with one node:
 * set_mempolicy, get_mempolicy (the task's, an address's, MPOL_F_NODE,
 * MPOL_F_MEMS_ALLOWED) and mbind on part of a mapping, with their
 * errors. */
#define _GNU_SOURCE
#include <linux/mempolicy.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static long set_policy(int mode, unsigned long *mask, unsigned long maxnode) {
    return syscall(SYS_set_mempolicy, mode, mask, maxnode);
}

static long get_policy(int *mode, unsigned long *mask, unsigned long maxnode, void *addr,
                       unsigned long flags) {
    return syscall(SYS_get_mempolicy, mode, mask, maxnode, addr, flags);
}

static long bind_range(void *addr, unsigned long len, int mode, unsigned long *mask,
                       unsigned long maxnode, unsigned flags) {
    return syscall(SYS_mbind, addr, len, mode, mask, maxnode, flags);
}

static void report(const char *what, void *addr, unsigned long flags) {
    int mode = -1;
    unsigned long mask = 99;
    long r = get_policy(&mode, &mask, 64, addr, flags);
    if (r < 0)
        show(what, r);
    else
        printf("%s: mode %#x mask %#lx\n", what, mode, mask);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unsigned long node0 = 1, node1 = 2, none = 0;
    report("initial", NULL, 0);
    report("mems allowed", NULL, MPOL_F_MEMS_ALLOWED);
    show("mems allowed with MPOL_F_NODE", get_policy(NULL, NULL, 0, NULL, MPOL_F_MEMS_ALLOWED | MPOL_F_NODE));
    show("get with unknown flags", get_policy(NULL, NULL, 0, NULL, 1 << 5));
    show("get with a too small maxnode", get_policy(NULL, &none, 0, NULL, 0));
    show("get with no outputs", get_policy(NULL, NULL, 0, NULL, 0));
    show("MPOL_F_NODE of a non-interleave policy", get_policy(NULL, NULL, 0, NULL, MPOL_F_NODE));

    show("bind node 0", set_policy(MPOL_BIND, &node0, 64));
    report("after bind", NULL, 0);
    show("bind node 1", set_policy(MPOL_BIND, &node1, 64));
    show("bind no nodes", set_policy(MPOL_BIND, &none, 64));
    show("default with nodes", set_policy(MPOL_DEFAULT, &node0, 64));
    show("local with nodes", set_policy(MPOL_LOCAL, &node0, 64));
    show("unknown mode", set_policy(9, &node0, 64));
    show("static and relative", set_policy(MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES, &node0, 64));
    show("static nodes", set_policy(MPOL_INTERLEAVE | MPOL_F_STATIC_NODES, &node0, 64));
    report("after static interleave", NULL, 0);
    int mode = -1;
    show("next interleave node", get_policy(&mode, NULL, 0, NULL, MPOL_F_NODE));
    printf("is node %d\n", mode);
    unsigned long both = 3;
    show("static nodes 0 and 1", set_policy(MPOL_BIND | MPOL_F_STATIC_NODES, &both, 64));
    report("reports the nodes as given", NULL, 0);
    show("relative node 1", set_policy(MPOL_INTERLEAVE | MPOL_F_RELATIVE_NODES, &node1, 64));
    report("reports it as given", NULL, 0);
    show("bind nodes 0 and 1", set_policy(MPOL_BIND, &both, 64));
    report("reports the usable one", NULL, 0);
    show("numa balancing with interleave", set_policy(MPOL_INTERLEAVE | MPOL_F_NUMA_BALANCING, &node0, 64));
    show("numa balancing with bind", set_policy(MPOL_BIND | MPOL_F_NUMA_BALANCING, &node0, 64));
    report("after numa balancing", NULL, 0);
    show("preferred many", set_policy(MPOL_PREFERRED_MANY, &both, 64));
    report("after preferred many", NULL, 0);
    show("maxnode 1 means no nodes", set_policy(MPOL_BIND, &node0, 1));
    show("maxnode 2 reads node 0", set_policy(MPOL_BIND, &node0, 2));
    unsigned long wide[32] = {1};
    wide[20] = 1;
    show("a node past MAX_NUMNODES", set_policy(MPOL_BIND, wide, 32 * 64));
    wide[20] = 0;
    wide[3] = 1;
    show("an absent node within MAX_NUMNODES", set_policy(MPOL_BIND, wide, 32 * 64));
    unsigned long out[4] = {7, 7, 7, 7};
    show("get into a wide mask", get_policy(NULL, out, 4 * 64, NULL, 0));
    printf("wide mask %#lx %#lx %#lx %#lx\n", out[0], out[1], out[2], out[3]);
    show("get into a mask past a page", get_policy(NULL, out, 4097 * 8 + 1, NULL, 0));
    show("get with an address but no MPOL_F_ADDR", get_policy(NULL, NULL, 0, out, 0));
    out[0] = 7;
    show("get with the largest maxnode", get_policy(NULL, out, ~0UL, NULL, 0));
    printf("which writes no bytes: %#lx\n", out[0]);
    show("set with the largest maxnode", set_policy(MPOL_BIND, &node0, ~0UL));
    show("preferred with no nodes", set_policy(MPOL_PREFERRED, &none, 64));
    report("after preferred with no nodes", NULL, 0);
    show("preferred node 0", set_policy(MPOL_PREFERRED, &node0, 64));
    report("after preferred", NULL, 0);
    show("local", set_policy(MPOL_LOCAL, NULL, 0));
    report("after local", NULL, 0);
    show("bad mask address", set_policy(MPOL_BIND, (unsigned long *)8, 64));
    show("huge maxnode", set_policy(MPOL_BIND, &node0, 1 << 20));

    pid_t c = fork();
    if (c == 0) {
        report("child inherits", NULL, 0);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    show("default", set_policy(MPOL_DEFAULT, NULL, 0));

    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mbind the middle", bind_range(m + page, 2 * page, MPOL_BIND, &node0, 64, 0));
    report("address before", m, MPOL_F_ADDR);
    report("address inside", m + page + 10, MPOL_F_ADDR);
    report("address after", m + 3 * page, MPOL_F_ADDR);
    mode = -1;
    show("node of a page", get_policy(&mode, NULL, 0, m + page, MPOL_F_ADDR | MPOL_F_NODE));
    printf("is node %d\n", mode);
    mprotect(m + 2 * page, page, PROT_READ);
    report("policy survives an mprotect split", m + 2 * page, MPOL_F_ADDR);
    show("mbind MPOL_MF_MOVE_ALL", bind_range(m, page, MPOL_BIND, &node0, 64, MPOL_MF_MOVE_ALL));
    show("mbind preferred with no nodes", bind_range(m, page, MPOL_PREFERRED, NULL, 0, 0));
    report("is local", m, MPOL_F_ADDR);
    show("mbind unaligned", bind_range(m + 1, page, MPOL_BIND, &node0, 64, 0));
    show("mbind bad flags", bind_range(m, page, MPOL_BIND, &node0, 64, 1 << 7));
    show("mbind MPOL_MF_STRICT", bind_range(m, page, MPOL_BIND, &node0, 64, MPOL_MF_STRICT));
    show("mbind MPOL_MF_MOVE", bind_range(m, page, MPOL_BIND, &node0, 64, MPOL_MF_MOVE));
    show("mbind default", bind_range(m + page, page, MPOL_DEFAULT, NULL, 0, 0));
    report("address reset", m + page, MPOL_F_ADDR);
    report("address still bound", m + 2 * page, MPOL_F_ADDR);
    munmap(m + 3 * page, page);
    show("mbind across a hole", bind_range(m, 4 * page, MPOL_BIND, &node0, 64, 0));
    report("an unmapped address", m + 3 * page, MPOL_F_ADDR);
    show("mbind length 0", bind_range(m, 0, MPOL_BIND, &node0, 64, 0));
    show("get MPOL_F_ADDR without an output", get_policy(NULL, NULL, 0, m, MPOL_F_ADDR));
    c = fork();
    if (c == 0) {
        setresuid(65534, 65534, 65534);
        show("unprivileged mbind MPOL_MF_MOVE_ALL", bind_range(m, page, MPOL_BIND, &node0, 64, MPOL_MF_MOVE_ALL));
        show("unprivileged set_mempolicy", set_policy(MPOL_BIND, &node0, 64));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    return 0;
}
