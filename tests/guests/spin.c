/* spin: a long-running program for killing and interrupting recordings.
 * Computes forever (or argv[1] rounds), printing a flushed progress line
 * every round and reading the clock, so the log keeps growing. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : -1;
    unsigned long x = 1;
    for (long r = 0; rounds < 0 || r < rounds; r++) {
        for (int i = 0; i < 200000; i++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        printf("round %ld %lx\n", r, x);
        fflush(stdout);
    }
    return 0;
}
