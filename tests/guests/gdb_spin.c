/* gdb_spin: about 450 million instructions (~3 s of replay) of pure computation, for
 * interrupting a long gdb `continue` with Ctrl-C. */
#include <stdio.h>

volatile unsigned long spin_result;

int main(void)
{
    unsigned long x = 1;
    for (long i = 0; i < 50000000L; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    spin_result = x;
    printf("%lx\n", x);
    return 0;
}
