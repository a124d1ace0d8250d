/* File offsets in /proc/self/maps: a file mapped at offset 4096, its middle page made
 * read-only (the mapping splits), then grown in place by mremap; each row of the
 * row of the file printed relative to the mapping's start: (start, end, perms, offset). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void show(const char *when, unsigned long base, unsigned long size)
{
    char line[512];
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps)
        exit(2);
    printf("%s\n", when);
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end, offset;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s %lx", &start, &end, perms, &offset) == 4
            && start >= base && end <= base + size && strchr(line, '/'))
            printf("  +%#lx-+%#lx %s %#lx\n", start - base, end - base, perms, offset);
    }
    fclose(maps);
}

int main(void)
{
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0)
        return 1;
    /* room to grow: reserve 6 pages, map 3 of the file at its start */
    char *base = mmap(NULL, 6 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(base + 3 * 4096, 3 * 4096);
    char *p = mmap(base, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 4096);
    if (p == MAP_FAILED)
        return 3;
    show("mapped", (unsigned long)p, 6 * 4096);
    mprotect(p + 4096, 4096, PROT_READ);
    show("middle page read-only", (unsigned long)p, 6 * 4096);
    char *q = mremap(p + 2 * 4096, 4096, 2 * 4096, 0);
    if (q == MAP_FAILED)
        return 4;
    show("last page grown in place", (unsigned long)p, 6 * 4096);
    return 0;
}
