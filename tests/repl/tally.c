/* The REPL tests' guest: a loop, a call chain, a global written with
 * unchanged and changed values (watch must skip the unchanged write). */
#include <stdio.h>

long counter;
int values[8];

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

int main(void)
{
    for (int i = 0; i < 8; i++)
        bump(i);
    printf("counter %ld\n", counter);
    return 0;
}
