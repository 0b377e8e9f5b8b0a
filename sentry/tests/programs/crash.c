/* A program that dies of a fault (or of abort with "a") with markers in
 * its data, heap and call stack, for a debugger to find in its core
 * file. */
#include <stdlib.h>
#include <string.h>

long global_marker = 0x1234567;
char *heap_marker;

__attribute__((noinline)) void crash_here(int depth) {
    if (depth == 0) {
        volatile int *p = 0;
        *p = 1;
    }
    crash_here(depth - 1);
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv) {
    heap_marker = malloc(64);
    strcpy(heap_marker, "heap says hello");
    global_marker = 42424242;
    if (argc > 1 && argv[1][0] == 'a')
        abort();
    crash_here(3);
    return 0;
}
