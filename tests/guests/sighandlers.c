/* Signal handlers for signals a program causes itself: raise() and kill()
 * with handlers (SA_SIGINFO, SA_RESETHAND), a signal blocked then unblocked,
 * a SIGSEGV handler that escapes with siglongjmp (on an alternate stack),
 * a SIGFPE handler, and SSE/x87 state intact across a handler. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static volatile int last_code;
static sigjmp_buf escape;

static void counter(int sig) { hits += sig; }

static void with_info(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    hits += 100;
    last_code = info->si_code;
    double x = 1.5;                      /* uses SSE inside the handler */
    for (int i = 0; i < 10; i++)
        x = x * 1.25 + 0.5;
    if (x < 0)
        abort();
    (void)sig;
}

static void on_segv(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    printf("SIGSEGV handler: signal %d, address %p, code %d\n", sig, info->si_addr, info->si_code);
    siglongjmp(escape, 1);
}

static void on_fpe(int sig)
{
    printf("SIGFPE handler: signal %d\n", sig);
    siglongjmp(escape, 2);
}

int main(void)
{
    double before = 3.25;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = counter;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    printf("after raise+kill: hits=%d, fp=%.2f\n", (int)hits, before * 2);

    sa.sa_sigaction = with_info;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    printf("SA_SIGINFO: hits=%d code=%d\n", (int)hits, last_code);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    printf("SA_RESETHAND restored default: %d\n", now.sa_handler == SIG_DFL);

    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGUSR1);
    printf("blocked: hits=%d\n", (int)hits);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: hits=%d\n", (int)hits);

    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(escape, 1) == 0) {
        volatile int *bad = (int *)0x10;
        *bad = 1;
        puts("not reached");
    }
    printf("escaped from SIGSEGV\n");

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fpe;
    sigaction(SIGFPE, &sa, NULL);
    volatile int zero = 0;
    if (sigsetjmp(escape, 1) == 0)
        printf("%d\n", 10 / zero);
    printf("escaped from SIGFPE; fp=%.3f\n", before / 4);
    return (int)hits % 256;
}
