/* A guest that runs long enough (some 45M instructions) for `pause` to land mid-continue. */
#include <stdio.h>

int main(void)
{
    unsigned long x = 1;
    for (long i = 0; i < 5000000; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    printf("%lu\n", x);
    return 0;
}
