/* Self-modifying code whose blocks keep their size but change their
 * instruction count: `xor eax,eax; nop; ret` (3 instructions in 4 bytes) is
 * rewritten in place, in RWX memory, to `nop; nop; nop; ret` (4 in 4 bytes).
 * The engine must count the new code's instructions, so that a position
 * means the same state whether reached straight or through a checkpoint. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn)(void);

int main(void)
{
    unsigned char *page = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static const unsigned char three[] = {0x31, 0xc0, 0x90, 0xc3};
    static const unsigned char four[] = {0x90, 0x90, 0x90, 0xc3};
    long calls = 0;
    memcpy(page, three, sizeof three);
    for (int i = 0; i < 1000; i++)
        calls += ((fn)page)() == 0;
    memcpy(page, four, sizeof four);
    for (int i = 0; i < 1000; i++) {
        ((fn)page)();
        calls++;
    }
    printf("calls %ld\n", calls);
    return 0;
}
