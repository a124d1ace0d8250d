/* The REPL tests' guest: a loop, a call chain, a global written with
 * unchanged and changed values (watch must skip the unchanged write). */
#include <stdio.h>

long counter;
int values[8];
#include <stdlib.h>
static int square(int x)
{
    int r = x * x;
    return r;
}

static void bump(int i)
{
    values[i] = square(i);
    counter += values[i];
}
static int by_value(const void *a, const void *b) { return *(const int *)b - *(const int *)a; }
int main(void)
{
    for (int i = 0; i < 8; i++)
        bump(i);
    qsort(values, 8, sizeof values[0], by_value); printf("counter %ld\n", counter);
    return 0;
}
