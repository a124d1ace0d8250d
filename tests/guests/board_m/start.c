/* Vector table, reset and semihosting for the Cortex-M3 firmware (mps2-an385).
 *
 * The CPU takes its initial stack pointer from word 0 and its entry point from
 * word 1; exceptions 2..15 are the system ones (11 SVCall, 14 PendSV, 15
 * SysTick), 16 + n is external interrupt n: on the an385, UART0's RX is IRQ 0
 * and its TX IRQ 1 (QEMU's hw/arm/mps2.c).
 */
#include <stdint.h>

extern uint32_t __stack_top, __bss_start, __bss_end;
int main(void);

static void hang(void) {
    for (;;)
        __asm__ volatile("bkpt #0");
}

void __attribute__((weak, alias("hang"))) nmi_handler(void);
void __attribute__((weak, alias("hang"))) hardfault_handler(void);
void __attribute__((weak, alias("hang"))) svc_handler(void);
void __attribute__((weak, alias("hang"))) pendsv_handler(void);
void __attribute__((weak, alias("hang"))) systick_handler(void);
void __attribute__((weak, alias("hang"))) uart0_rx_handler(void);
void __attribute__((weak, alias("hang"))) uart0_tx_handler(void);
void reset_handler(void);

__attribute__((section(".vectors"), used)) void *const vectors[16 + 32] = {
    [0] = &__stack_top,
    [1] = reset_handler,
    [2] = nmi_handler,
    [3] = hardfault_handler,
    [4] = hang, [5] = hang, [6] = hang,
    [11] = svc_handler,
    [14] = pendsv_handler,
    [15] = systick_handler,
    [16 + 0] = uart0_rx_handler,
    [16 + 1] = uart0_tx_handler,
};

/* Arm semihosting on M-profile: bkpt 0xab, the operation in r0, its argument in r1. */
static uint32_t semihosting(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt #0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihosting_exit(int status) {
    uint32_t block[2] = {0x20026, (uint32_t)status};     /* ADP_Stopped_ApplicationExit */
    if (status == 0)
        semihosting(0x18, (const void *)0x20026);         /* SYS_EXIT */
    semihosting(0x20, block);                             /* SYS_EXIT_EXTENDED */
    hang();
}

void semihosting_write0(const char *s) {
    semihosting(0x04, s);
}

void reset_handler(void) {
    for (uint32_t *p = &__bss_start; p < &__bss_end; p++)
        *p = 0;
    semihosting_exit(main());
}
