/* gdb_clobber: a stray write.  fill() overruns `slots` by one element and
 * clobbers its neighbour `guard`; main later finds guard changed.  A
 * reverse watchpoint on guard finds the culprit line in fill(). */
#include <stdio.h>

struct layout {
    long slots[4];
    long guard;
} g = { {0, 0, 0, 0}, 1234 };

__attribute__((noinline)) void fill(int n)
{
    for (int i = 0; i <= n; i++)   /* off by one: writes slots[n] */
        g.slots[i] = 100 + i;
}

__attribute__((noinline)) int check(void)
{
    return g.guard == 1234;
}

int main(void)
{
    g.guard = 1234;
    fill(4);
    int ok = check();
    printf("guard %ld %s\n", g.guard, ok ? "ok" : "clobbered");
    return ok ? 0 : 1;
}
