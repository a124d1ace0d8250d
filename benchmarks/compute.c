/* A compute-bound benchmark guest: about 500 million instructions of
 * integer hashing and array work, with a few system calls at the ends. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

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

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : ROUNDS;
    long total = work(rounds);
    printf("total %ld after %d rounds\n", total, rounds);
    return 0;
}
