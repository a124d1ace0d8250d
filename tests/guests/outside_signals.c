/* Signals sent to the recording by another process (the test's kill), one
 * mode per argv[1].  Each prints "ready" (then waits to be signalled), and
 * afterwards only what does not depend on when the signal came:
 *   loop      SIGUSR1's handler interrupts a busy loop
 *   pause     pause() waits for SIGTERM's handler: EINTR
 *   suspend   sigsuspend with SIGHUP unblocked only during the wait
 *   poll      poll() on a pipe nobody writes, cut by SIGUSR2's handler (EINTR)
 *   default   no handler: SIGTERM ends the program (status 143)
 *   ignored   SIGUSR1 ignored: the loop goes on until SIGUSR2's handler
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_sig(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    (void)info;
    got = sig;
}

static void handle(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

static volatile unsigned long spin;

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "loop";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "loop")) {
        handle(SIGUSR1);
        printf("ready\n");
        while (!got)
            spin++;
        printf("got %s\n", strsignal(got));
    } else if (!strcmp(mode, "pause")) {
        handle(SIGTERM);
        printf("ready\n");
        int r = pause();
        printf("pause %d %s, got %s\n", r, strerror(errno), strsignal(got));
    } else if (!strcmp(mode, "suspend")) {
        handle(SIGHUP);
        sigset_t block, during, after;
        sigemptyset(&block);
        sigaddset(&block, SIGHUP);
        sigprocmask(SIG_BLOCK, &block, NULL);
        printf("ready\n");
        sigemptyset(&during);
        int r = sigsuspend(&during);
        sigprocmask(SIG_BLOCK, NULL, &after);
        printf("sigsuspend %d %s, got %s, blocked again %d\n", r, strerror(errno), strsignal(got),
               sigismember(&after, SIGHUP));
    } else if (!strcmp(mode, "poll")) {
        handle(SIGUSR2);
        int fds[2];
        if (pipe(fds) != 0)
            return 1;
        struct pollfd p = {fds[0], POLLIN, 0};
        printf("ready\n");
        int r = poll(&p, 1, -1);
        printf("poll %d %s, got %s\n", r, strerror(errno), strsignal(got));
    } else if (!strcmp(mode, "default")) {
        printf("ready\n");
        for (;;)
            spin++;
    } else if (!strcmp(mode, "ignored")) {
        signal(SIGUSR1, SIG_IGN);
        handle(SIGUSR2);
        printf("ready\n");
        while (!got)
            spin++;
        printf("got %s\n", strsignal(got));
    }
    return 0;
}
