/* The one way the test programs print a call's outcome: "what: ok", or
 * "what: -1 ERRNO" with the errno's name, so that the native run is the
 * oracle for both. */
#ifndef SHOW_H
#define SHOW_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void show(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: ok\n", what);
}

#endif
