/* Exception entry and return, known answers (the registers are set and read in
 * kat_regs.S): prints what the SVCall handler saw and whether every register
 * came back as it was; exits 0 when all is as the architecture says. */
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))
#define UART0 0x40004000UL

extern void kat_svc(uint32_t *after);
extern uint32_t kat_sp_before, kat_sp_after, kat_handler[8];
extern char kat_after_svc[];

static void putc(char c) {
    while (REG(UART0 + 4) & 1)
        ;
    REG(UART0) = (uint32_t)c;
}

static void puts(const char *s) {
    while (*s)
        putc(*s++);
}

static void puthex(uint32_t v) {
    for (int i = 28; i >= 0; i -= 4)
        putc("0123456789abcdef"[(v >> i) & 15]);
}

static int check(const char *what, uint32_t got, uint32_t want) {
    puts(what);
    puts("=");
    puthex(got);
    if (got != want) {
        puts(" want ");
        puthex(want);
        puts(" BAD\n");
        return 1;
    }
    puts("\n");
    return 0;
}

int main(void) {
    uint32_t after[15];
    static const char *const names[14] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9",
                                          "r10", "r11", "r12", "lr"};
    REG(UART0 + 0x10) = 16;
    REG(UART0 + 0x08) = 1;
    kat_svc(after);
    int bad = 0;
    for (int i = 0; i < 13; i++)
        bad += check(names[i], after[i], 0x10101010u * (uint32_t)1 + 0x01010101u * (uint32_t)i);
    bad += check(names[13], after[13], 0x1E1E1E1F);
    bad += check("apsr", after[14] & 0xF8000000u, 0xF8000000u);
    bad += check("sp", kat_sp_after, kat_sp_before);
    bad += check("handler ipsr", kat_handler[0], 11);
    bad += check("handler lr", kat_handler[1], 0xFFFFFFF9);
    bad += check("handler sp", kat_handler[2], (kat_sp_before & ~7u) - 32);
    bad += check("stacked pc", kat_handler[3], (uint32_t)(uintptr_t)kat_after_svc & ~1u);
    bad += check("stacked xpsr", kat_handler[4] & 0xF9000200u, 0xF9000200u);
    bad += check("stacked r0", kat_handler[5], 0x10101010);
    bad += check("stacked r12", kat_handler[6], 0x1C1C1C1C);
    bad += check("stacked lr", kat_handler[7], 0x1E1E1E1F);
    puts(bad ? "kat: FAILED\n" : "kat: ok\n");
    return bad ? 1 : 0;
}
