/* faults: ends the process by a fault or a fatal signal chosen by argv[1]:
 * segv (NULL write), abort, term (raise SIGTERM), usr1 (kill(getpid(),
 * SIGUSR1)), div0 (integer division by zero), ill (__builtin_trap = ud2),
 * wild (a call to address 0xffffffffffffffff, the last byte of the address
 * space: SIGSEGV).
 * Prints one line first (flushed) so output before the fault is checked. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "segv";
    printf("about to %s\n", what);
    fflush(stdout);
    if (!strcmp(what, "segv")) {
        volatile int *p = NULL;
        *p = 42;
    } else if (!strcmp(what, "abort")) {
        abort();
    } else if (!strcmp(what, "term")) {
        raise(SIGTERM);
    } else if (!strcmp(what, "usr1")) {
        kill(getpid(), SIGUSR1);
    } else if (!strcmp(what, "div0")) {
        volatile int zero = 0;
        volatile int x = 7 / zero;
        (void)x;
    } else if (!strcmp(what, "ill")) {
        __builtin_trap();
    } else if (!strcmp(what, "wild")) {
        ((void (*)(void))-1)();
    }
    printf("still alive\n");
    return 3;
}
