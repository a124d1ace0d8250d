/* mallocs: heap churn -- many small malloc/free/realloc (brk), and large
 * blocks that the allocator serves with mmap and grows with mremap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    enum { N = 2000 };
    static char *ptrs[N];
    unsigned long sum = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            size_t sz = 16 + (size_t)((i * 37 + round * 11) % 500);
            ptrs[i] = malloc(sz);
            memset(ptrs[i], i & 0xff, sz);
        }
        for (int i = 0; i < N; i += 2) {
            ptrs[i] = realloc(ptrs[i], 600 + (size_t)(i % 300));
            ptrs[i][599] = (char)round;
        }
        for (int i = 0; i < N; i++) {
            sum += (unsigned char)ptrs[i][0] + (unsigned char)ptrs[i][15];
            free(ptrs[i]);
        }
    }
    /* Large blocks: mmap'ed, then grown (mremap) and shrunk. */
    size_t big = 4 << 20;
    char *b = malloc(big);
    memset(b, 0x5a, big);
    b = realloc(b, big * 4);
    memset(b + big, 0xa5, big * 3);
    sum += (unsigned char)b[0] + (unsigned char)b[big * 4 - 1];
    b = realloc(b, big / 2);
    sum += (unsigned char)b[big / 2 - 1];
    free(b);
    char *c = calloc(1, 8 << 20);
    sum += (unsigned char)c[12345];
    free(c);
    printf("heap checksum %lu\n", sum);
    return 0;
}
