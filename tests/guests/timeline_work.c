/* timeline_work: a small mixed workload for the time-travel tests.
 * Reads a few bytes of stdin (they seed the computation), then runs ROUNDS
 * rounds of stack work (a local array, calls to a leaf function) and heap
 * work (malloc/free of varying sizes), writing the global `counter_global`
 * once per round.  `round_done` is a call target hit once per round.
 * About 4-5 million instructions. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef ROUNDS
#define ROUNDS 400
#endif

volatile long counter_global;
long results[64];

__attribute__((noinline)) long leaf(long x)
{
    return x * 3 + 1;
}

__attribute__((noinline)) long stack_work(int n)
{
    volatile long buf[128];
    for (int i = 0; i < 128; i++)
        buf[i] = leaf(i + n);
    long s = 0;
    for (int i = 0; i < 128; i++)
        s += buf[i] ^ (s >> 3);
    return s;
}

__attribute__((noinline)) long heap_work(int n)
{
    size_t count = 64 + (size_t)(n % 50) * 32;
    long *p = malloc(count * sizeof *p);
    if (!p)
        abort();
    for (size_t i = 0; i < count; i++)
        p[i] = (long)i * n;
    long s = 0;
    for (size_t i = 0; i < count; i++)
        s += p[i] >> 1;
    free(p);
    return s;
}

__attribute__((noinline)) void round_done(int r, long v)
{
    results[r & 63] = v;
    counter_global = v;
}

int main(void)
{
    char input[256];
    ssize_t got = read(0, input, sizeof input - 1);
    if (got < 0)
        got = 0;
    input[got] = 0;
    long seed = 0;
    for (ssize_t i = 0; i < got; i++)
        seed = seed * 31 + input[i];
    long total = 0;
    for (int r = 0; r < ROUNDS; r++) {
        long v = stack_work(r) + heap_work(r) + seed;
        total += v;
        round_done(r, v);
    }
    printf("read %zd bytes, total %ld\n", got, total);
    return 0;
}
