/* The DAP tests' guest: a loop calling a function, a local per iteration,
 * a global array and struct, output at the end.  The tests name lines by
 * the markers in comments. */
#include <stdio.h>

int history[3];
struct { int last; long sum; } stats;

static int twice(int x)
{
    int doubled = x * 2;        /* LINE_TWICE */
    return doubled;
}

int main(void)
{
    int total = 0;
    for (int i = 1; i <= 3; i++) {
        int d = twice(i);       /* LINE_CALL */
        total += d;             /* LINE_ADD */
        history[i - 1] = d;
        stats.last = d;
        stats.sum = total;
    }
    printf("total %d\n", total);
    return total == 12 ? 0 : 3;
}
