/* Signals for the real-gdb tier: SIGUSR1 sent with kill() to a handler,
 * a SIGSEGV fault caught by a handler that escapes with siglongjmp, SIGUSR2
 * ignored (SIG_IGN), and SIGTERM with its default action ending the program. */
#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

static volatile int hits;
static sigjmp_buf escape;

static void on_usr1(int sig)
{
    hits += sig;                         /* usr1 handler body */
}

static void on_segv(int sig)
{
    hits += sig;                         /* segv handler body */
    siglongjmp(escape, 1);
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    hits = 1;                            /* before kill */
    kill(getpid(), SIGUSR1);             /* send usr1 */
    hits += 2;                           /* after kill */
    if (sigsetjmp(escape, 1) == 0)
        hits += *(volatile int *)8;      /* fault */
    hits += 3;                           /* after fault */
    signal(SIGUSR2, SIG_IGN);
    kill(getpid(), SIGUSR2);             /* send ignored usr2 */
    kill(getpid(), SIGTERM);             /* send term */
    return hits;                         /* never reached */
}
