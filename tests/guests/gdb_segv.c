/* gdb_segv: a crash whose cause is earlier.  setup() stores a bad pointer
 * into `target`; use() dereferences it and the program dies of SIGSEGV.
 * A watchpoint on `target` traced backwards finds the store in setup(). */
#include <stdio.h>

struct node { long value; struct node *next; };

struct node nodes[3];
struct node *target;

__attribute__((noinline)) void setup(void)
{
    nodes[0].next = &nodes[1];
    nodes[1].next = &nodes[2];
    target = nodes[2].next;            /* NULL: the real bug */
    nodes[2].value = 42;
}

__attribute__((noinline)) long use(void)
{
    long v = target->value;            /* faults */
    return v;
}

int main(void)
{
    target = &nodes[0];
    setup();
    printf("using\n");
    fflush(stdout);
    long v = use();
    printf("value %ld\n", v);
    return 0;
}
