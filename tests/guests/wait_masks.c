/* The signal masks of ppoll, pselect6 and epoll_pwait, applied for the wait
 * only, one mode per argv[1]:
 *   pending   a blocked pending SIGUSR1 the mask unblocks: ppoll ends at once (EINTR)
 *   timer     SIGALRM blocked except during ppoll, pselect and epoll_pwait: the
 *             interval timer cuts each (EINTR); blocked again after
 *   child     SIGCHLD blocked except during pselect: a child's exit cuts it
 *   ready     a ready fd: ppoll returns it, the old mask is back, the blocked signal still pending
 *   bad       bad mask sizes and pointers
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_sig(int sig) { got = sig; }

static void handle(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(sig, &sa, NULL);
}

static sigset_t only(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    if (sig)
        sigaddset(&s, sig);
    return s;
}

static int blocked(int sig)
{
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, sig);
}

static void arm(void)
{
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "pending";
    setvbuf(stdout, NULL, _IONBF, 0);
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    struct pollfd p = {fds[0], POLLIN, 0};
    sigset_t none = only(0);
    if (!strcmp(mode, "pending")) {
        handle(SIGUSR1);
        sigset_t b = only(SIGUSR1);
        sigprocmask(SIG_BLOCK, &b, NULL);
        raise(SIGUSR1);
        struct timespec five = {5, 0};
        int r = ppoll(&p, 1, &five, &none);
        printf("ppoll %d %s got %d, blocked again %d\n", r, strerror(errno), got == SIGUSR1, blocked(SIGUSR1));
    } else if (!strcmp(mode, "timer")) {
        handle(SIGALRM);
        sigset_t b = only(SIGALRM);
        sigprocmask(SIG_BLOCK, &b, NULL);
        arm();
        int r = ppoll(&p, 1, NULL, &none);
        printf("ppoll %d %s got %d, blocked again %d\n", r, strerror(errno), got == SIGALRM, blocked(SIGALRM));
        got = 0;
        arm();
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(fds[0], &rd);
        r = pselect(fds[0] + 1, &rd, NULL, NULL, NULL, &none);
        printf("pselect %d %s got %d, blocked again %d\n", r, strerror(errno), got == SIGALRM, blocked(SIGALRM));
        got = 0;
        arm();
        int ep = epoll_create1(0);
        struct epoll_event ev = {EPOLLIN, {0}}, out;
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
        r = epoll_pwait(ep, &out, 1, -1, &none);
        printf("epoll_pwait %d %s got %d, blocked again %d\n", r, strerror(errno), got == SIGALRM,
               blocked(SIGALRM));
    } else if (!strcmp(mode, "child")) {
        handle(SIGCHLD);
        sigset_t b = only(SIGCHLD);
        sigprocmask(SIG_BLOCK, &b, NULL);
        pid_t pid = fork();
        if (pid == 0) {
            usleep(20000);
            _exit(3);
        }
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(fds[0], &rd);
        int r = pselect(fds[0] + 1, &rd, NULL, NULL, NULL, &none);
        int e = errno, status;
        waitpid(pid, &status, 0);
        printf("pselect %d %s got %d, blocked again %d, child %d\n", r, strerror(e), got == SIGCHLD,
               blocked(SIGCHLD), WEXITSTATUS(status));
    } else if (!strcmp(mode, "ready")) {
        handle(SIGUSR1);
        sigset_t b = only(SIGUSR1);
        sigprocmask(SIG_BLOCK, &b, NULL);
        if (write(fds[1], "x", 1) != 1)
            return 1;
        sigset_t also = only(SIGUSR2);
        int r = ppoll(&p, 1, NULL, &also);
        sigset_t pend;
        raise(SIGUSR1);
        sigpending(&pend);
        printf("ppoll %d revents %d, SIGUSR1 blocked %d, SIGUSR2 blocked %d, pending %d\n", r, p.revents,
               blocked(SIGUSR1), blocked(SIGUSR2), sigismember(&pend, SIGUSR1));
    } else if (!strcmp(mode, "bad")) {
        struct timespec zero = {0, 0};
        long r = syscall(SYS_ppoll, &p, 1, &zero, &none, 4);
        printf("ppoll size 4: %ld %s\n", r, strerror(errno));
        r = syscall(SYS_ppoll, &p, 1, &zero, (void *)8, 8);
        printf("ppoll mask at 8: %ld %s\n", r, strerror(errno));
        struct { void *ss; size_t len; } arg = {(void *)8, 8};
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(fds[0], &rd);
        r = syscall(SYS_pselect6, fds[0] + 1, &rd, NULL, NULL, &zero, &arg);
        printf("pselect mask at 8: %ld %s\n", r, strerror(errno));
        r = syscall(SYS_pselect6, fds[0] + 1, &rd, NULL, NULL, &zero, (void *)8);
        printf("pselect arg at 8: %ld %s\n", r, strerror(errno));
        int ep = epoll_create1(0);
        struct epoll_event out;
        r = syscall(SYS_epoll_pwait, ep, &out, 1, 0, &none, 4);
        printf("epoll_pwait size 4: %ld %s\n", r, strerror(errno));
    }
    return 0;
}
