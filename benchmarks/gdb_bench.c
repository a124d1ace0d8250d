/* The gdb benchmark guest (benchmarks/bench_gdb.py): compute.c plus a tail
 * of lines with known instruction distances.  After work() (~490 million
 * instructions for 12000 rounds), `marker` is written once, then burn()
 * runs ~20 million instructions on one line and ~10 million on the next,
 * so from the printf line `reverse-next` crosses ~10M instructions and a
 * watchpoint on `marker` is ~30M instructions back. */

#ifndef BURN_STEPS
#define BURN_STEPS 1250000L   /* 8 instructions an iteration at -O1 */
#endif

/* compute.c's work() and helpers, without its main(). */
#define main compute_main
#include "compute.c"
#undef main

long marker;

__attribute__((noinline)) long burn(long n)
{
    uint32_t h = 2166136261u;
    for (long i = 0; i < n; i++)
        h = mix(h, (uint32_t)i);
    sink_total = h;
    return h;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : ROUNDS;
    long total = work(rounds);
    marker = total;                                  /* BENCH: marker */
    long twenty = burn(BURN_STEPS * 2);              /* BENCH: 20M */
    long ten = burn(BURN_STEPS);                     /* BENCH: 10M */
    printf("total %ld after %d rounds (%ld %ld)\n", total, rounds, twenty, ten);   /* BENCH: end */
    return 0;
}
