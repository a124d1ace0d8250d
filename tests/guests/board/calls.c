/* Calls a firmware makes to the machine: semihosting output, an unsupported
 * semihosting call, PSCI_VERSION through hvc, svc and brk taken by the
 * synchronous vector (ESR_EL1 read there), and the end through SYS_EXIT
 * with the number of checks that passed as the status. */
#include <stdint.h>

void semihosting_exit(int status);

static uint64_t semihosting(uint64_t op, uint64_t arg) {
    register uint64_t x0 __asm__("x0") = op;
    register uint64_t x1 __asm__("x1") = arg;
    __asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
    return x0;
}

static uint64_t psci(uint64_t fn) {
    register uint64_t x0 __asm__("x0") = fn;
    __asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
    return x0;
}

static volatile uint32_t last_esr;
static volatile int syncs;

void sync_handler(uint64_t esr) {
    last_esr = (uint32_t)esr;
    syncs++;
    if ((esr >> 26) == 0x3C) {          /* brk: ELR is the brk itself, step past it */
        uint64_t elr;
        __asm__ volatile("mrs %0, elr_el1" : "=r"(elr));
        __asm__ volatile("msr elr_el1, %0" : : "r"(elr + 4));
    }
}

static const char hello[] = "hello from semihosting\n";

int main(void) {
    int ok = 0;
    semihosting(0x04, (uint64_t)hello);                 /* SYS_WRITE0 */
    char c = '!';
    semihosting(0x03, (uint64_t)&c);                    /* SYS_WRITEC */
    c = '\n';
    semihosting(0x03, (uint64_t)&c);
    ok += semihosting(0x10, 0) == (uint64_t)-1;         /* SYS_CLOCK: not emulated, -1 */
    ok += psci(0x84000000) == 0x10000;                  /* PSCI_VERSION 1.0 */
    __asm__ volatile("svc #0x42");
    ok += syncs == 1 && last_esr == ((0x15u << 26) | (1u << 25) | 0x42);
    __asm__ volatile("brk #7");
    ok += syncs == 2 && (last_esr >> 26) == 0x3C && (last_esr & 0xFFFF) == 7;
    semihosting_exit(ok);
    return 0;
}

void shutdown(void) {}

void irq_handler(void) {}
