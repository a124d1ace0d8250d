/* An interrupt made ready from outside a handler: with IRQs unmasked, the main
 * loop arms the virtual timer with a compare value already passed (and later,
 * GIC enable of a software-pended interrupt), then counts; the handler prints
 * how far the count got and ends through semihosting SYS_EXIT 0.  The board
 * takes it within 1,024 instructions of the write that made it ready. */
#include <stdint.h>

#define UART0 0x09000000UL
#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))

void semihosting_exit(int status);
volatile uint64_t n;
static volatile int round_;

static void putc(char c) { REG(UART0, 0x00) = (uint32_t)c; }
static void putnum(uint64_t v) {
    char buf[24];
    int i = 0;
    do { buf[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i) putc(buf[--i]);
}

void irq_handler(void) {
    uint32_t iar = REG(GICC, 0x0C);
    __asm__ volatile("msr cntv_ctl_el0, %0" : : "r"((uint64_t)0));
    REG(GICD, 0x180) = 1u << 5;                 /* disable SGI 5 again */
    REG(GICC, 0x10) = iar;
    putnum(n);
    putc('\n');
    n = 0;
    if (++round_ == 2)
        semihosting_exit(0);
}

void shutdown(void) {}

int main(void) {
    REG(GICD, 0x000) = 1;
    REG(GICD, 0x100) = 1u << 27;
    REG(GICC, 0x004) = 0xFF;
    REG(GICC, 0x000) = 1;
    __asm__ volatile("msr daifclr, #2");
    for (int i = 0; i < 1000; i++)
        n++;
    __asm__ volatile("msr cntv_cval_el0, %0" : : "r"((uint64_t)0));
    __asm__ volatile("msr cntv_ctl_el0, %0" : : "r"((uint64_t)1));
    for (int i = 0; i < 100000; i++)
        n++;
    n = 0;
    REG(GICD, 0x200) = 1u << 5;                 /* pend SGI 5 while disabled: not ready */
    for (int i = 0; i < 1000; i++)
        n++;
    REG(GICD, 0x100) = 1u << 5;                 /* enable it: ready now */
    for (;;)
        n++;
}
