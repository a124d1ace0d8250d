/* rv_clockrand: riscv64's sources of time and randomness: clock_gettime,
 * getrandom and the counter CSRs (rdtime, rdcycle, rdinstret).  Two
 * recordings differ; a replay is identical. */
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

int main(void) {
    struct timespec rt, mono;
    unsigned char buf[16];
    unsigned long t1, t2, c1, c2, i1, i2;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    __asm__ volatile("rdtime %0" : "=r"(t1));
    __asm__ volatile("rdcycle %0" : "=r"(c1));
    __asm__ volatile("rdinstret %0" : "=r"(i1));
    __asm__ volatile("rdinstret %0" : "=r"(i2));
    __asm__ volatile("rdcycle %0" : "=r"(c2));
    __asm__ volatile("rdtime %0" : "=r"(t2));
    printf("realtime  %lld.%09ld\n", (long long)rt.tv_sec, rt.tv_nsec);
    printf("monotonic %lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
    printf("rdtime    %lu %lu (increasing: %d)\n", t1, t2, t2 >= t1);
    printf("rdcycle   increasing: %d\n", c2 > c1);
    printf("rdinstret increasing: %d\n", i2 > i1);
    ssize_t n = getrandom(buf, sizeof buf, 0);
    printf("getrandom %zd ", n);
    for (int i = 0; i < (int)sizeof buf; i++)
        printf("%02x", buf[i]);
    printf("\n");
    return 0;
}
