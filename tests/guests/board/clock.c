/* Firmware whose work depends on time: with the virtual timer ticking at
 * 1 kHz, it counts loop iterations until N ticks have passed (N read from
 * the UART as decimal digits ended by a newline), then prints the
 * iterations, the ticks and the counter's advance, and ends through
 * semihosting SYS_EXIT 0.  Under --clock host the loop lasts N ms of real
 * time, so its iteration count depends on the host's speed. */
#include <stdint.h>

#define UART0 0x09000000UL
#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))

void semihosting_exit(int status);
volatile uint64_t ticks;
static uint64_t interval;

static void putc(char c) { REG(UART0, 0x00) = (uint32_t)c; }
static void putnum(uint64_t n) {
    char buf[24];
    int i = 0;
    do { buf[i++] = (char)('0' + n % 10); n /= 10; } while (n);
    while (i) putc(buf[--i]);
}
static int getc(void) {
    while (REG(UART0, 0x18) & (1u << 4))
        __asm__ volatile("wfi");
    return (int)(REG(UART0, 0x00) & 0xFF);
}
static uint64_t counter(void) {
    uint64_t c;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(c));
    return c;
}

void irq_handler(void) {
    uint32_t iar = REG(GICC, 0x0C);
    if ((iar & 0x3FF) == 27) {
        ticks++;
        __asm__ volatile("msr cntv_tval_el0, %0" : : "r"(interval));
    }
    if ((iar & 0x3FF) < 1020)
        REG(GICC, 0x10) = iar;
}

void shutdown(void) {}

int main(void) {
    uint64_t freq, n = 0, iterations = 0;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
    interval = freq / 1000;
    for (int c = getc(); c >= '0' && c <= '9'; c = getc())
        n = n * 10 + (uint64_t)(c - '0');
    REG(GICD, 0x000) = 1;
    REG(GICD, 0x100) = 1u << 27;
    REG(GICC, 0x004) = 0xFF;
    REG(GICC, 0x000) = 1;
    uint64_t start = counter();
    __asm__ volatile("msr cntv_tval_el0, %0" : : "r"(interval));
    __asm__ volatile("msr cntv_ctl_el0, %0" : : "r"((uint64_t)1));
    __asm__ volatile("msr daifclr, #2");
    while (ticks < n)
        iterations++;
    uint64_t elapsed = counter() - start;
    putnum(iterations);
    putc(' ');
    putnum(ticks);
    putc(' ');
    putnum(elapsed);
    putc('\n');
    semihosting_exit(0);
    return 0;
}
