/* A guest for bench_query.py: a hot function called N times, a variable written
 * once every 64 iterations (rarely touched: most code runs without a trap). */
#include <stdio.h>
#include <stdlib.h>

volatile long rare;
long table[1024];

__attribute__((noinline)) long hot(long x)
{
    return (x * 2654435761u) ^ (x >> 7);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long acc = 0;
    for (long i = 0; i < n; i++) {
        acc += hot(i + acc);
        table[i & 1023] = acc;
        if ((i & 63) == 0)
            rare = acc; /* BENCH-RARE */
    }
    printf("%ld %ld\n", acc, rare);
    return 0;
}
