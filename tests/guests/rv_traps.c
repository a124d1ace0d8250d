/* rv_traps: what a riscv64 user process may not do, by argv[1]: ebreak
 * (SIGTRAP), unimp (SIGILL), read a machine CSR (SIGILL), mret (SIGILL),
 * write the time CSR (SIGILL), a misaligned lr.d (SIGBUS), a null store
 * (SIGSEGV). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "";
    static char buf[16] __attribute__((aligned(16)));
    unsigned long v = 0;
    printf("about to %s\n", what);
    fflush(stdout);
    if (!strcmp(what, "ebreak"))
        __asm__ volatile("ebreak");
    else if (!strcmp(what, "unimp"))
        __asm__ volatile("unimp");
    else if (!strcmp(what, "mstatus"))
        __asm__ volatile("csrr %0, mstatus" : "=r"(v));
    else if (!strcmp(what, "mret"))
        __asm__ volatile("mret");
    else if (!strcmp(what, "wtime"))
        __asm__ volatile("csrw time, %0" : : "r"(v));
    else if (!strcmp(what, "lr"))
        __asm__ volatile("lr.d %0, (%1)" : "=r"(v) : "r"(buf + 1));
    else if (!strcmp(what, "null"))
        *(volatile int *)0 = 1;
    printf("still here %lu\n", v);
    return 0;
}
