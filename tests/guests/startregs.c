/* The machine state a process starts with, as a program can see it:
 * the system flags of RFLAGS (IF set, DF and AC clear), x87 control word, MXCSR. */
#include <stdio.h>

int main(void)
{
    unsigned long flags;
    unsigned short cw;
    unsigned int mxcsr;
    __asm__ volatile("pushfq; popq %0" : "=r"(flags));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    printf("rflags IF=%lu DF=%lu AC=%lu reserved1=%lu\n", (flags >> 9) & 1, (flags >> 10) & 1,
           (flags >> 18) & 1, (flags >> 1) & 1);
    printf("x87 cw %#x mxcsr %#x\n", cw, mxcsr & ~0x3fu);
    return 0;
}
