/* clockrand: every source of time and randomness a program can use:
 * clock_gettime (realtime, monotonic), gettimeofday, time(), getrandom,
 * rdtsc (__rdtsc) and rdrand (inline asm with the usual retry loop).
 * Under ttdbg rdrand traps on the emulated CPU and is emulated, so the
 * program is meant to run under ttdbg (natively, the host may lack rdrand;
 * pass "nordrand" to skip it). Two recordings differ; a replay is identical. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <x86intrin.h>

static unsigned long long rdrand64(void) {
    unsigned long long v;
    unsigned char ok;
    for (int tries = 0; tries < 10; tries++) {
        __asm__ volatile("rdrand %%rax; setc %1; mov %%rax, %0" : "=r"(v), "=qm"(ok) : : "rax", "cc");
        if (ok)
            return v;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct timespec rt, mono;
    struct timeval tv;
    unsigned char buf[16];
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    gettimeofday(&tv, NULL);
    printf("realtime  %lld.%09ld\n", (long long)rt.tv_sec, rt.tv_nsec);
    printf("monotonic %lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
    printf("timeofday %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
    printf("time      %lld\n", (long long)time(NULL));
    ssize_t n = getrandom(buf, sizeof buf, 0);
    printf("getrandom %zd ", n);
    for (int i = 0; i < (int)sizeof buf; i++)
        printf("%02x", buf[i]);
    printf("\n");
    printf("rdtsc     %llu\n", (unsigned long long)__rdtsc());
    if (!(argc > 1 && strcmp(argv[1], "nordrand") == 0))
        printf("rdrand    %016llx\n", rdrand64());
    return 0;
}
