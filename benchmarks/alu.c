/* A register-bound benchmark guest: about 500 million instructions of
 * integer arithmetic (xorshift and multiply-mix) with no memory traffic in
 * the loop, to show the engine's speed when Unicorn runs at its fastest.
 * Same command line as compute.c: ./alu [ROUNDS]. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

#ifndef ROUNDS
#define ROUNDS 12000
#endif

__attribute__((noinline)) uint64_t work(int rounds)
{
    uint64_t x = 88172645463325252ull, acc = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 4096; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            acc += x * 0x9E3779B97F4A7C15ull;
        }
    }
    return acc ^ x;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : ROUNDS;
    printf("acc %llu after %d rounds\n", (unsigned long long)work(rounds), rounds);
    return 0;
}
