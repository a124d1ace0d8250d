/* a64_crash: prints, then writes through a null pointer: SIGSEGV's default
 * action (status 139 from a shell), after the output reached stdout. */
#include <stdio.h>

int main(void) {
    volatile int *p = 0;
    printf("about to crash\n");
    fflush(stdout);
    *p = 1;
    return 0;
}
