/* A UART echo loop with a timer-driven tick counter, for QEMU's virt board.
 *
 * Characters arrive by the PL011's RX interrupt (SPI 1) into a ring buffer
 * (when it is full the handler masks the interrupt and the bytes wait in the
 * UART, which holds off its input: flow control); the main loop echoes them
 * in upper case and sleeps in wfi when there are none.  The virtual timer (PPI 27) ticks 100 times a second of guest time.
 * Ctrl-D (0x04) ends the run through semihosting SYS_EXIT (status 3), '!'
 * through PSCI SYSTEM_OFF; both print the tick count first.
 */
#include <stdint.h>

#define UART0 0x09000000UL
#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))

#define UART_DR REG(UART0, 0x00)
#define UART_FR REG(UART0, 0x18)
#define UART_IMSC REG(UART0, 0x38)
#define UART_ICR REG(UART0, 0x44)
#define UART_LCR_H REG(UART0, 0x2C)
#define LCR_H_FEN (1u << 4)
#define LCR_H_WLEN8 (3u << 5)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define INT_RX (1u << 4)
#define INT_RT (1u << 6)

#define TIMER_INTID 27
#define UART_INTID 33

volatile uint64_t ticks;
static uint64_t interval;
static volatile uint8_t ring[256];
static volatile uint32_t head, tail;

void semihosting_exit(int status);
void psci_system_off(void);

static void putc(char c) {
    while (UART_FR & FR_TXFF)
        ;
    UART_DR = (uint32_t)c;
}

static void puts(const char *s) {
    while (*s)
        putc(*s++);
}

static void putnum(uint64_t n) {
    char buf[24];
    int i = 0;
    do {
        buf[i++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (i)
        putc(buf[--i]);
}

void irq_handler(void) {
    uint32_t iar = REG(GICC, 0x0C);
    uint32_t id = iar & 0x3FF;
    if (id == TIMER_INTID) {
        ticks++;
        __asm__ volatile("msr cntv_tval_el0, %0" : : "r"(interval));
    } else if (id == UART_INTID) {
        while (!(UART_FR & FR_RXFE)) {
            if (head - tail >= sizeof ring) {
                UART_IMSC = 0;          /* full: the rest waits in the UART's FIFO (flow control) */
                break;
            }
            ring[head++ & 255] = (uint8_t)UART_DR;
        }
        if (UART_FR & FR_RXFE)
            UART_ICR = INT_RX | INT_RT;
    }
    if (id < 1020)
        REG(GICC, 0x10) = iar;
}

static void gic_enable(uint32_t id) {
    REG(GICD, 0x100 + 4 * (id / 32)) = 1u << (id % 32);
    *(volatile uint8_t *)(GICD + 0x400 + id) = 0xA0;
    *(volatile uint8_t *)(GICD + 0x800 + id) = 1;
}

void shutdown(void) {
    semihosting_exit(0);
}

int main(void) {
    uint64_t freq;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
    interval = freq / 100;

    REG(GICD, 0x000) = 1;
    gic_enable(TIMER_INTID);
    gic_enable(UART_INTID);
    REG(GICC, 0x004) = 0xFF;
    REG(GICC, 0x000) = 1;
    UART_LCR_H = LCR_H_FEN | LCR_H_WLEN8;   /* QEMU's PL011 holds one byte without its FIFO on */
    UART_IMSC = INT_RX | INT_RT;

    __asm__ volatile("msr cntv_tval_el0, %0" : : "r"(interval));
    __asm__ volatile("msr cntv_ctl_el0, %0" : : "r"((uint64_t)1));
    __asm__ volatile("msr daifclr, #2");

    puts("echo firmware ready\n");
    for (;;) {
        while (tail == head)
            __asm__ volatile("wfi");
        char c = (char)ring[tail++ & 255];
        if (!UART_IMSC && head - tail < sizeof ring / 2)
            UART_IMSC = INT_RX | INT_RT;        /* room again */
        if (c == 4 || c == '!') {
            puts("\nticks=");
            putnum(ticks);
            puts("\nbye\n");
            if (c == 4)
                semihosting_exit(3);
            psci_system_off();
        }
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        putc(c);
    }
}
