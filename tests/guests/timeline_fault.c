/* timeline_fault: works through a pointer for a while, prints a line, then
 * sets the pointer to NULL, spins a little and writes through it (SIGSEGV).
 * A reverse watchpoint on `target_ptr` must find the NULL assignment. */
#include <stdio.h>

int *volatile target_ptr;
int storage;
volatile long spin_sink;

__attribute__((noinline)) void spin(int n)
{
    for (int i = 0; i < n; i++)
        spin_sink += i;
}

int main(void)
{
    target_ptr = &storage;
    for (int i = 0; i < 50000; i++)
        *target_ptr += i;
    printf("storage %d\n", storage);
    fflush(stdout);
    target_ptr = NULL;
    spin(50000);
    *target_ptr = 42;
    return 0;
}
