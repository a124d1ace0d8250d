/* spin_quiet: prints "spinning" (flushed), then computes forever without a
 * single system call, for interrupting a recording whose guest never gives
 * the recorder a chance to look at its input. */
#include <stdio.h>

volatile unsigned long spin_result;

int main(void) {
    unsigned long x = 1;
    printf("spinning\n");
    fflush(stdout);
    for (;;) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        spin_result = x;
    }
}
