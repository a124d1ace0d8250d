/* timeline_smc: self-modifying code.  Maps a page, writes a function that
 * returns 1, calls it CALLS times, rewrites it to return 2, calls it again,
 * and prints both sums.  argv[1] selects how the page is made executable:
 *   rwx       one PROT_READ|WRITE|EXEC mapping, rewritten in place;
 *   mprotect  RW while writing, mprotect to R+X before calling.
 * Spinning between the steps leaves room for checkpoints between versions.
 * The result of every call is stored in `last_result`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CALLS 100

typedef int (*fn_t)(void);

static const unsigned char returns_1[] = {0xb8, 1, 0, 0, 0, 0xc3};   /* mov eax,1; ret */
static const unsigned char returns_2[] = {0xb8, 2, 0, 0, 0, 0xc3};   /* mov eax,2; ret */

volatile long spin_sink;
volatile int last_result;
unsigned char *volatile code_page;

__attribute__((noinline)) void spin(int n)
{
    for (int i = 0; i < n; i++)
        spin_sink += i;
}

__attribute__((noinline)) int call_many(fn_t f)
{
    int sum = 0;
    for (int i = 0; i < CALLS; i++) {
        last_result = f();
        sum += last_result;
    }
    return sum;
}

static void make_writable(unsigned char *page, int use_mprotect)
{
    if (use_mprotect && mprotect(page, 4096, PROT_READ | PROT_WRITE))
        abort();
}

static void make_executable(unsigned char *page, int use_mprotect)
{
    if (use_mprotect && mprotect(page, 4096, PROT_READ | PROT_EXEC))
        abort();
}

int main(int argc, char **argv)
{
    int use_mprotect = argc > 1 && !strcmp(argv[1], "mprotect");
    int prot = PROT_READ | PROT_WRITE | (use_mprotect ? 0 : PROT_EXEC);
    unsigned char *page = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        abort();
    code_page = page;
    memcpy(page, returns_1, sizeof returns_1);
    make_executable(page, use_mprotect);
    spin(100000);
    int first = call_many((fn_t)page);
    spin(100000);
    make_writable(page, use_mprotect);
    memcpy(page, returns_2, sizeof returns_2);
    make_executable(page, use_mprotect);
    spin(100000);
    int second = call_many((fn_t)page);
    spin(100000);
    printf("first %d second %d\n", first, second);
    return 0;
}
