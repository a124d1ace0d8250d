/* A UART echo loop with a SysTick tick counter, for QEMU's mps2-an385 (Cortex-M3).
 *
 * Characters arrive by UART0's RX interrupt (IRQ 0) into a ring buffer; the
 * main loop echoes them in upper case and sleeps in wfi when there are none.
 * SysTick, on the 25 MHz processor clock, ticks 100 times a second.  Ctrl-D
 * (0x04) ends the run through semihosting SYS_EXIT_EXTENDED (status 3), '!'
 * through SYS_EXIT (status 0); both print the tick count first.
 */
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))
#define UART0 0x40004000UL
#define UART_DATA REG(UART0 + 0x00)
#define UART_STATE REG(UART0 + 0x04)
#define UART_CTRL REG(UART0 + 0x08)
#define UART_INTSTATUS REG(UART0 + 0x0C)
#define UART_BAUDDIV REG(UART0 + 0x10)
#define STATE_TXFULL 1u
#define STATE_RXFULL 2u
#define CTRL_TX_EN 1u
#define CTRL_RX_EN 2u
#define CTRL_RX_INTEN 8u
#define INT_RX 2u

#define SYST_CSR REG(0xE000E010)
#define SYST_RVR REG(0xE000E014)
#define SYST_CVR REG(0xE000E018)
#define NVIC_ISER0 REG(0xE000E100)
#define NVIC_IPR0 REG(0xE000E400)
#define SCB_SHPR3 REG(0xE000ED20)

#define SYSCLK 25000000u

void semihosting_exit(int status);

volatile uint32_t ticks;
static volatile uint8_t ring[256];
static volatile uint32_t head, tail;

static void putc(char c) {
    while (UART_STATE & STATE_TXFULL)
        ;
    UART_DATA = (uint32_t)c;
}

static void puts(const char *s) {
    while (*s)
        putc(*s++);
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

void systick_handler(void) {
    ticks++;
}

void uart0_rx_handler(void) {
    UART_INTSTATUS = INT_RX;          /* first: a byte arriving while we drain raises it again */
    while (UART_STATE & STATE_RXFULL)
        ring[head++ & 255] = (uint8_t)UART_DATA;
}

int main(void) {
    UART_BAUDDIV = 16;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INTEN;
    NVIC_IPR0 = 0x40;                 /* UART0 RX: priority 0x40 */
    NVIC_ISER0 = 1u << 0;
    SCB_SHPR3 = 0x80u << 24;          /* SysTick: priority 0x80 */
    SYST_RVR = SYSCLK / 100 - 1;
    SYST_CVR = 0;
    SYST_CSR = 7;                     /* enable, interrupt, processor clock */
    __asm__ volatile("cpsie i");

    puts("echo firmware ready\n");
    for (;;) {
        while (tail == head)
            __asm__ volatile("wfi");
        char c = (char)ring[tail++ & 255];
        if (c == 4 || c == '!') {
            puts("\nticks=");
            putnum(ticks);
            puts("\nbye\n");
            return c == 4 ? 3 : 0;
        }
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        putc(c);
    }
}
