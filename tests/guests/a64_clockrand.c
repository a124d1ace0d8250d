/* a64_clockrand: aarch64's sources of time and randomness: clock_gettime,
 * getrandom and the generic timer's virtual counter (mrs CNTVCT_EL0) and
 * frequency (CNTFRQ_EL0).  Two recordings differ; a replay is identical. */
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

int main(void) {
    struct timespec rt, mono;
    unsigned char buf[16];
    unsigned long long v1, v2, freq;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v1));
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v2));
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
    printf("realtime  %lld.%09ld\n", (long long)rt.tv_sec, rt.tv_nsec);
    printf("monotonic %lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
    printf("cntvct    %llu %llu (increasing: %d)\n", v1, v2, v2 >= v1);
    printf("cntfrq    %s\n", freq > 0 ? "nonzero" : "zero");
    ssize_t n = getrandom(buf, sizeof buf, 0);
    printf("getrandom %zd ", n);
    for (int i = 0; i < (int)sizeof buf; i++)
        printf("%02x", buf[i]);
    printf("\n");
    return 0;
}
