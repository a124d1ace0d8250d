/* The interval timer and SIGALRM, one mode per argv[1]; each prints only
 * what a native run prints too (no times, no loop counts):
 *   loop      SIGALRM's handler interrupts a busy loop
 *   periodic  a 10 ms periodic timer fires 5 times in a busy loop, then stops
 *   pause     pause() returns EINTR after the handler
 *   sleep     nanosleep(5 s) cut short at 30 ms: EINTR, with the time left
 *   blocked   SIGALRM blocked during a sleep: pending, handled once unblocked
 *   values    alarm()'s and getitimer's answers; bad arguments
 *   default   no handler: the program dies of SIGALRM (status 142)
 *   waits     SIGALRM cuts blocking recv, poll and epoll_wait on a socket (EINTR);
 *             with SA_RESTART the recv is made again (the handler sends data)
 *   signalfd  blocked SIGUSR1 and SIGALRM read from a signalfd, alone and in epoll
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t fired;
static volatile int last_code;

static void on_alarm(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    fired++;
    last_code = info->si_code;
    (void)sig;
}

static int feed = -1;

static void on_alarm_feed(int sig)
{
    (void)sig;
    fired++;
    if (feed >= 0)
        write(feed, "fed", 3);
}

static void handle(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alarm;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGALRM, &sa, NULL);
}

static void arm(long first_ms, long every_ms)
{
    struct itimerval it = {{every_ms / 1000, every_ms % 1000 * 1000}, {first_ms / 1000, first_ms % 1000 * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    volatile unsigned long spins = 0;
    if (!strcmp(mode, "loop")) {
        handle();
        arm(50, 0);
        while (!fired)
            spins++;
        printf("handler ran in the loop: fired=%d si_code=%s\n", fired, last_code == SI_KERNEL ? "SI_KERNEL" : "?");
        return 0;
    }
    if (!strcmp(mode, "periodic")) {
        handle();
        arm(10, 10);
        while (fired < 5)
            spins++;
        arm(0, 0);
        struct itimerval cur;
        getitimer(ITIMER_REAL, &cur);
        printf("fired >= 5: %d; disarmed: %d\n", fired >= 5, cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
        return 0;
    }
    if (!strcmp(mode, "pause")) {
        handle();
        arm(30, 0);
        int rc = pause();
        printf("pause = %d %s, fired=%d\n", rc, strerror(errno), fired);
        return 0;
    }
    if (!strcmp(mode, "sleep")) {
        handle();
        arm(30, 0);
        struct timespec req = {5, 0}, rem = {0, 0};
        int rc = nanosleep(&req, &rem);
        printf("nanosleep = %d %s, fired=%d, left > 4 s: %d\n", rc, rc ? strerror(errno) : "", fired,
               rem.tv_sec >= 4);
        return 0;
    }
    if (!strcmp(mode, "blocked")) {
        handle();
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGALRM);
        sigprocmask(SIG_BLOCK, &set, NULL);
        arm(20, 0);
        struct timespec req = {0, 60 * 1000000};
        int rc = nanosleep(&req, NULL);
        printf("nanosleep while blocked = %d, fired=%d\n", rc, fired);
        sigpending(&set);
        printf("pending: %d\n", sigismember(&set, SIGALRM));
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        printf("after unblocking: fired=%d\n", fired);
        return 0;
    }
    if (!strcmp(mode, "values")) {
        printf("alarm(10) = %u\n", alarm(10));
        printf("alarm(0) = %u\n", alarm(0));
        struct itimerval cur;
        getitimer(ITIMER_REAL, &cur);
        printf("getitimer (disarmed) = %ld.%06ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
        arm(3000, 0);
        getitimer(ITIMER_REAL, &cur);
        printf("getitimer (3 s) in (2, 3]: %d\n", cur.it_value.tv_sec == 2 || (cur.it_value.tv_sec == 3 && cur.it_value.tv_usec == 0));
        printf("alarm(0) after 3 s timer = %u\n", alarm(0));
        struct itimerval bad = {{0, 0}, {0, 2000000}};
        int rc = setitimer(ITIMER_REAL, &bad, NULL);
        printf("setitimer(usec 2000000) = %d %s\n", rc, rc ? strerror(errno) : "");
        rc = setitimer(7, &bad, NULL);
        printf("setitimer(which 7) = %d %s\n", rc, rc ? strerror(errno) : "");
        return 0;
    }
    if (!strcmp(mode, "waits")) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        char buf[16];
        handle();
        arm(30, 0);
        ssize_t n = recv(sv[1], buf, sizeof buf, 0);
        printf("recv = %zd %s, fired=%d\n", n, n < 0 ? strerror(errno) : "", fired);
        arm(30, 0);
        struct pollfd p = {sv[1], POLLIN, 0};
        int rc = poll(&p, 1, -1);
        printf("poll = %d %s, fired=%d\n", rc, rc < 0 ? strerror(errno) : "", fired);
        int ep = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[1]};
        epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev);
        arm(30, 0);
        rc = epoll_wait(ep, &ev, 1, -1);
        printf("epoll_wait = %d %s, fired=%d\n", rc, rc < 0 ? strerror(errno) : "", fired);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm_feed;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGALRM, &sa, NULL);
        feed = sv[0];
        arm(30, 0);
        n = recv(sv[1], buf, sizeof buf, 0);
        printf("recv with SA_RESTART = %zd %.*s, fired=%d\n", n, (int)(n > 0 ? n : 0), buf, fired);
        return 0;
    }
    if (!strcmp(mode, "signalfd")) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGALRM);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        struct signalfd_siginfo si;
        ssize_t n = read(sfd, &si, sizeof si);
        printf("read (nothing pending) = %zd %s\n", n, n < 0 ? strerror(errno) : "");
        raise(SIGUSR1);
        n = read(sfd, &si, sizeof si);
        printf("read = %zd signo=%u code=%d\n", n, si.ssi_signo, si.ssi_code);
        int ep = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = sfd};
        epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
        arm(30, 0);
        int rc = epoll_wait(ep, &ev, 1, -1);
        printf("epoll_wait = %d data=%d\n", rc, ev.data.fd);
        n = read(sfd, &si, sizeof si);
        printf("read = %zd signo=%u code=%s\n", n, si.ssi_signo, si.ssi_code == SI_KERNEL ? "SI_KERNEL" : "?");
        int blocking = signalfd(-1, &set, 0);
        arm(20, 0);
        n = read(blocking, &si, sizeof si);
        printf("blocking read = %zd signo=%u\n", n, si.ssi_signo);
        struct pollfd p = {sfd, POLLIN, 0};
        rc = poll(&p, 1, 0);
        printf("poll = %d, fired=%d\n", rc, fired);
        sigemptyset(&set);
        printf("signalfd(update) = %d\n", signalfd(sfd, &set, 0) == sfd);
        rc = signalfd(0, &set, 0);
        printf("signalfd(on a pipe) = %d %s\n", rc, strerror(errno));
        return 0;
    }
    if (!strcmp(mode, "default")) {
        printf("waiting for SIGALRM\n");
        arm(20, 0);
        for (;;)
            spins++;
    }
    fprintf(stderr, "usage: alarms loop|periodic|pause|sleep|blocked|values|default|waits|signalfd\n");
    return 2;
}
