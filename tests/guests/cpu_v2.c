/* cpu_v2: a program meant to be built with -march=x86-64-v2 -O2, as RHEL 9
 * builds everything: the compiler uses SSSE3, SSE4.1, SSE4.2 and POPCNT
 * freely (vectorized loops, popcount, crc32, blends, rounding), and glibc's
 * ifunc resolvers pick their string functions from CPUID.  Its output must
 * be the same natively and under ttdbg. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif

#define N 4099

static int32_t a[N], b[N], c[N];
static uint8_t bytes[N];
static double d[N];

static int cmp_int(const void *x, const void *y) {
    int32_t p = *(const int32_t *)x, q = *(const int32_t *)y;
    return (p > q) - (p < q);
}

int main(void) {
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        a[i] = (int32_t)x;
        b[i] = (int32_t)(x >> 32);
        bytes[i] = (uint8_t)(x >> 24);
        d[i] = (double)(int32_t)x / 1000.0;
    }
    /* loops the compiler vectorizes with SSE4.1/SSSE3 (pmulld, pminsd, pabsd, blends) */
    for (int i = 0; i < N; i++)
        c[i] = a[i] * b[i] + (a[i] < b[i] ? a[i] : b[i]) + abs(b[i]) + (a[i] > 0 ? b[i] : -b[i]);
    uint64_t sum = 0, bits = 0;
    uint32_t crc = 0;
    for (int i = 0; i < N; i++) {
        sum = sum * 31 + (uint32_t)c[i];
        bits += __builtin_popcountll((uint64_t)a[i] * (uint64_t)b[i]) + __builtin_ctz(c[i] | 1)
                + __builtin_clz(b[i] | 1);
#ifdef __SSE4_2__
        crc = _mm_crc32_u32(crc, (uint32_t)c[i]);
#endif
    }
    double fl = 0;
    for (int i = 0; i < N; i++)
        fl += floor(d[i]) + ceil(d[i] / 3) + trunc(d[i] * 7) + nearbyint(d[i] / 9);
    printf("sum %016llx bits %llu crc %08x floor %.17g\n", (unsigned long long)sum, (unsigned long long)bits,
           crc, fl);

    /* glibc's CPUID-selected string functions */
    char text[N + 1];
    for (int i = 0; i < N; i++)
        text[i] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ,.;"[bytes[i] % 40];
    text[N] = 0;
    char copy[N + 1];
    memcpy(copy, text, N + 1);
    memmove(copy + 3, copy, 2000);
    printf("strlen %zu memcmp %d strcmp %d strncmp %d\n", strlen(text), memcmp(text, copy, N) > 0,
           strcmp(text, copy) > 0, strncmp(text + 100, copy + 100, 50));
    printf("strchr %td strrchr %td memchr %td memrchr %td\n", strchr(text, ';') - text,
           strrchr(text, 'q') - text, (char *)memchr(text, 'J', N) - text, (char *)memrchr(text, 'a', N) - text);
    printf("strspn %zu strcspn %zu strpbrk %td\n", strspn(text, "abcdefghijklm"), strcspn(text, ",."),
           strpbrk(text, ";J") - text);
    const char *needle = text + 3000;
    char nd[9];
    memcpy(nd, needle, 8);
    nd[8] = 0;
    printf("strstr %td strcasestr %td strcasecmp %d strncasecmp %d\n", strstr(text, nd) - text,
           strcasestr(text, "ABC") ? strcasestr(text, "ABC") - text : -1, strcasecmp(text, copy) > 0,
           strncasecmp(text, "ABCDEFG", 3));
    memset(copy, 'z', 1000);
    printf("memset %d strchr0 %td stpcpy %td\n", copy[999] == 'z' && copy[1000] != 'z',
           strchr(text, 0) - text, stpcpy(copy, "hello") - copy);
    qsort(a, N, sizeof a[0], cmp_int);
    printf("sorted %d %d %d\n", a[0], a[N / 2], a[N - 1]);
    return 0;
}
