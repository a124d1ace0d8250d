/* gdb_basic: a small program for the real-gdb tier (tests/gdb).
 * Functions called from main on separate lines, so next/step/finish
 * (forward and reverse) have clear source lines to land on; a few
 * globals to print; exits with status 7. */
#include <stdio.h>

long counter = 0;
long history[8];
const char banner[] = "ttdbg-gdb-basic";

__attribute__((noinline)) long square(long x)
{
    long y = x * x;
    counter += 1;
    return y;
}

__attribute__((noinline)) long accumulate(long n)
{
    long total = 0;
    for (long i = 0; i < n; i++) {
        total += square(i);
        history[i & 7] = total;
    }
    return total;
}

__attribute__((noinline)) void report(long value)
{
    printf("%s %ld %ld\n", banner, value, counter);
}

int main(void)
{
    long a = accumulate(5);
    long b = square(a);
    long c = a + b;
    report(c);
    counter = c & 0xff;
    return 7;
}
