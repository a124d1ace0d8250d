/* The machine state a process starts with, as a program can see it:
 * the system flags of RFLAGS (IF set, DF and AC clear), x87 control word, MXCSR,
 * and the segment selectors of a Linux x86-64 user process (cs 0x33, ss 0x2b, the
 * others 0), at start, after a system call and as a signal handler's context saves them. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <ucontext.h>

static unsigned long saved_csgsfs;

static void on_usr1(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    saved_csgsfs = (unsigned long)((ucontext_t *)context)->uc_mcontext.gregs[REG_CSGSFS];
}

static void print_selectors(const char *when)
{
    unsigned short cs, ss, ds, es, fs, gs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    __asm__ volatile("mov %%ss, %0" : "=r"(ss));
    __asm__ volatile("mov %%ds, %0" : "=r"(ds));
    __asm__ volatile("mov %%es, %0" : "=r"(es));
    __asm__ volatile("mov %%fs, %0" : "=r"(fs));
    __asm__ volatile("mov %%gs, %0" : "=r"(gs));
    printf("%s: cs %#x ss %#x ds %#x es %#x fs %#x gs %#x\n", when, cs, ss, ds, es, fs, gs);
}

int main(void)
{
    unsigned long flags;
    unsigned short cw;
    unsigned int mxcsr;
    print_selectors("start");
    __asm__ volatile("pushfq; popq %0" : "=r"(flags));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    printf("rflags IF=%lu DF=%lu AC=%lu reserved1=%lu\n", (flags >> 9) & 1, (flags >> 10) & 1,
           (flags >> 18) & 1, (flags >> 1) & 1);
    printf("x87 cw %#x mxcsr %#x\n", cw, mxcsr & ~0x3fu);
    print_selectors("after write");
    struct sigaction sa = {0};
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("sigcontext cs %#lx gs %#lx fs %#lx ss %#lx\n", saved_csgsfs & 0xffff,
           (saved_csgsfs >> 16) & 0xffff, (saved_csgsfs >> 32) & 0xffff, saved_csgsfs >> 48);
    print_selectors("after handler");
    return 0;
}
