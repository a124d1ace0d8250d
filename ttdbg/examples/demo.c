/*
 * ttdbg's bundled demo: a tiny inventory tally with a memory bug.
 *
 * It reads "name quantity" lines from stdin, keeps a running total per
 * item, and stamps the report with the time and a random ticket number.
 * One input name is longer than the 8 bytes reserved for it: strcpy
 * overruns `name` and silently clobbers `total` next to it.  Record it once,
 * then travel back to the write that broke the total:
 *
 *     ttdbg record ./demo < input.txt
 *     ttdbg replay        # in gdb: watch items[1].total, reverse-continue
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct item {
    char name[8];
    long total;
};

static struct item items[4];
static int nitems;

static struct item *find(const char *name)
{
    for (int i = 0; i < nitems; i++)
        if (strncmp(items[i].name, name, sizeof items[i].name) == 0)
            return &items[i];
    if (nitems == 4)
        return NULL;
    strcpy(items[nitems].name, name); /* BUG: no bound on the name's length */
    return &items[nitems++];
}

int main(void)
{
    char name[64];
    long qty;
    while (scanf("%63s %ld", name, &qty) == 2) {
        struct item *it = find(name);
        if (it)
            it->total += qty;
    }
    unsigned ticket;
    if (getrandom(&ticket, sizeof ticket, 0) != sizeof ticket)
        ticket = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    printf("inventory report (ticket %08x, at %ld)\n", ticket, (long)now.tv_sec);
    long grand = 0;
    for (int i = 0; i < nitems; i++) {
        printf("  %-8.8s %6ld\n", items[i].name, items[i].total);
        grand += items[i].total;
    }
    printf("  %-8s %6ld\n", "TOTAL", grand);
    return grand > 1000 ? 1 : 0;
}
