/* A compute-bound benchmark guest for the scheduler: the same total work
 * (integer hashing into a per-thread table) split over N threads.
 *     threads N ROUNDS      (N = 1 runs it in the main thread) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static long rounds_per_thread;
static volatile long totals[64];

static void *work(void *arg) {
    long id = (long)arg;
    uint32_t table[1024] = {0};
    uint32_t h = 2166136261u + (uint32_t)id;
    long total = 0;
    for (long r = 0; r < rounds_per_thread; r++) {
        for (int i = 0; i < 1024; i++) {
            h = (h ^ (uint32_t)i) * 0x01000193u;
            h ^= h >> 13;
            table[h & 1023] += h;
            total += table[i] & 0xff;
        }
    }
    totals[id] = total;
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1;
    long rounds = argc > 2 ? atol(argv[2]) : 40000;
    if (n < 1 || n > 64) return 2;
    rounds_per_thread = rounds / n;
    pthread_t t[64];
    if (n == 1) {
        work((void *)0L);
    } else {
        for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, work, (void *)i);
        for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    }
    long sum = 0;
    for (int i = 0; i < n; i++) sum += totals[i];
    printf("%d threads: %ld\n", n, sum);
    return 0;
}
