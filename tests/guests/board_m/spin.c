/* Computes for a while with SysTick at 1 kHz (25,000 cycles: one instruction each),
 * then prints the tick count and the work's result: the tick count must match the
 * instructions run. */
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))
#define UART0 0x40004000UL

volatile uint32_t ticks;

void systick_handler(void) {
    ticks++;
}

static void putc(char c) {
    while (REG(UART0 + 4) & 1)
        ;
    REG(UART0) = (uint32_t)c;
}

static void putnum(uint32_t n) {
    char buf[12];
    int i = 0;
    do {
        buf[i++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (i)
        putc(buf[--i]);
}

int main(void) {
    REG(UART0 + 0x10) = 16;
    REG(UART0 + 0x08) = 1;
    REG(0xE000E014) = 25000 - 1;       /* SysTick reload: 1 ms at 25 MHz */
    REG(0xE000E018) = 0;
    REG(0xE000E010) = 7;
    uint32_t x = 1;
    for (uint32_t i = 0; i < 400000; i++)
        x = x * 1103515245u + 12345u;
    uint32_t t = ticks;
    putc('t');
    putc(' ');
    putnum(t);
    putc(' ');
    putnum(x);
    putc('\n');
    return 0;
}
