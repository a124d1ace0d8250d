/* The gdb benchmark guest (benchmarks/bench_gdb.py): compute.c plus a tail
 * of lines with known instruction distances.  After work() (~490 million
 * instructions for 12000 rounds), `marker` is written once, then burn()
 * runs ~20 million instructions on one line and ~10 million on the next,
 * so from the printf line `reverse-next` crosses ~10M instructions and a
 * watchpoint on `marker` is ~30M instructions back. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

#ifndef BURN_STEPS
#define BURN_STEPS 1250000L   /* 8 instructions an iteration at -O1 */
#endif

#ifndef ROUNDS
#define ROUNDS 2400
#endif

static uint32_t table[4096];
volatile long sink_total;
/* Written once every MARKER_EVERY rounds (about 33 million instructions
 * apart): a watchpoint target whose last write is far back in time. */
#ifndef MARKER_EVERY
#define MARKER_EVERY 800
#endif
static volatile long checkpoint_marker;

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u;
    return h ^ (h >> 13);
}

__attribute__((noinline)) long work(int rounds)
{
    uint32_t h = 2166136261u;
    long total = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 4096; i++) {
            h = mix(h, (uint32_t)(i * r));
            table[i] += h;
        }
        total += table[r & 4095];
        sink_total = total;
        if (r % MARKER_EVERY == 0)
            checkpoint_marker = total;
    }
    return total;
}

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
