/* Faults enter HardFault: an undefined instruction (UsageFault) and a load from an address
 * nothing answers (BusFault), both escalated; the handler prints the stacked return address
 * (the faulting instruction) and steps over it.  Then a bkpt without a debugger. */
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))
#define UART0 0x40004000UL

extern void do_udf(void);
extern uint32_t do_load(const volatile uint32_t *p);
volatile uint32_t faults;

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

void hardfault_c(uint32_t *frame) {
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    faults++;
    puts("hardfault at ");
    puthex(frame[6]);
    puts(" ipsr=");
    puthex(ipsr);
    puts(" r0=");
    puthex(frame[0]);
    puts("\n");
    frame[6] += 2;              /* the faulting 16-bit instruction: step over it */
}

int main(void) {
    REG(UART0 + 0x10) = 16;
    REG(UART0 + 0x08) = 1;
    do_udf();
    puts("after udf\n");
    do_load((const volatile uint32_t *)0x60000000);
    puts("after load\n");
    __asm__ volatile("bkpt #1");
    puts("after bkpt\n");
    return (int)faults;
}
