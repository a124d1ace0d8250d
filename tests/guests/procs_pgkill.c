/* kill of the caller's own process group (issue 9): kill(0, sig) and kill(-getpgrp(), sig)
   reach the caller (its handler runs) and its children (they die of the signal).
   Run it in a session of its own: natively, the group is the whole session. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_usr1(int s) { (void)s; got++; }

static void round_of(const char *how, pid_t target) {
    int hold[2], ready[2];
    char b = 0;
    if (pipe(hold) || pipe(ready)) return;
    pid_t child = fork();
    if (child == 0) {
        signal(SIGUSR1, SIG_DFL);
        close(hold[1]);
        write(ready[1], &b, 1);
        read(hold[0], &b, 1);            /* until killed */
        _exit(0);
    }
    close(hold[0]);
    read(ready[0], &b, 1);
    int r = kill(target, SIGUSR1);
    int status = 0;
    waitpid(child, &status, 0);
    printf("%s: kill %d, handler ran %d times, child %s %d\n", how, r, (int)got,
           WIFSIGNALED(status) ? "killed by" : "exited", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    close(hold[1]);
    close(ready[0]);
    close(ready[1]);
}

int main(void) {
    signal(SIGUSR1, on_usr1);
    round_of("kill(0)", 0);
    round_of("kill(-pgrp)", -getpgrp());
    return 0;
}
