/* Sockets, poll, epoll and the interval timer with several threads and processes
 * (the merge of issues 9 and 10): a thread blocked in recv/poll/epoll_wait lets the
 * others run; SIGALRM goes to a thread not blocking it; a wait4 is cut by SIGALRM. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int sv[2], pfd[2], efd, epfd;
static volatile long sink;

static void spin(void) {
    for (long i = 0; i < 300000; i++) sink += i;
}

static void *echo(void *arg) {
    (void)arg;
    char buf[16] = {0};
    ssize_t n = recv(sv[0], buf, sizeof buf - 1, 0);
    printf("thread got %zd: %s\n", n, buf);
    fflush(stdout);
    send(sv[0], "pong", 4, 0);
    return NULL;
}

static void *poller(void *arg) {
    (void)arg;
    struct pollfd p = {pfd[0], POLLIN, 0};
    int r = poll(&p, 1, -1);
    char c = 0;
    ssize_t n = read(pfd[0], &c, 1);
    printf("poll %d revents %#x read %zd %c\n", r, p.revents, n, c);
    return NULL;
}

static void *epoller(void *arg) {
    (void)arg;
    struct epoll_event ev;
    int r = epoll_wait(epfd, &ev, 1, -1);
    unsigned long long v = 0;
    ssize_t n = read(efd, &v, 8);
    printf("epoll %d events %#x data %llu read %zd value %llu\n", r, ev.events, (unsigned long long)ev.data.u64, n, v);
    return NULL;
}

static int port;
static void *tcp_client(void *arg) {
    (void)arg;
    spin();
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c, (void *)&sa, sizeof sa)) {
        perror("connect");
        return NULL;
    }
    spin();
    send(c, "hello", 5, 0);
    char buf[16] = {0};
    recv(c, buf, sizeof buf - 1, 0);
    printf("client got %s\n", buf);
    fflush(stdout);
    close(c);
    return NULL;
}

static void *poll_timeouts(void *arg) {
    (void)arg;
    struct pollfd p = {pfd[0], POLLIN, 0};
    int quiet = poll(&p, 1, 30);          /* nobody writes yet: times out */
    int r = poll(&p, 1, 60000);           /* the main thread writes */
    char c = 0;
    ssize_t n = read(pfd[0], &c, 1);
    printf("poll timed out %d, then %d revents %#x read %zd %c\n", quiet, r, p.revents, n, c);
    return NULL;
}

static volatile sig_atomic_t fired;
static volatile pid_t handler_tid;
static void on_alarm(int s) {
    (void)s;
    handler_tid = (pid_t)syscall(SYS_gettid);
    fired = 1;
}

static void *worker(void *arg) {
    pid_t *me = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    *(volatile pid_t *)me = (pid_t)syscall(SYS_gettid);
    while (!fired) sink++;
    return NULL;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    pthread_t t;
    if (!strcmp(mode, "recv")) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 1;
        pthread_create(&t, NULL, echo, NULL);
        spin();
        send(sv[1], "ping", 4, 0);
        char buf[16] = {0};
        ssize_t n = recv(sv[1], buf, sizeof buf - 1, 0);
        pthread_join(t, NULL);
        printf("main got %zd: %s\n", n, buf);
    } else if (!strcmp(mode, "accept")) {
        /* A TCP server thread blocked in accept and recv while a client thread connects. */
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sa;
        if (bind(s, (void *)&sa, sizeof sa) || listen(s, 1) || getsockname(s, (void *)&sa, &len)) return 1;
        port = ntohs(sa.sin_port);
        pthread_create(&t, NULL, tcp_client, NULL);
        int a = accept(s, NULL, NULL);
        char buf[16] = {0};
        ssize_t n = recv(a, buf, sizeof buf - 1, 0);
        printf("server got %zd: %s\n", n, buf);
        fflush(stdout);
        send(a, "world", 5, 0);
        pthread_join(t, NULL);
        close(a);
        close(s);
    } else if (!strcmp(mode, "poll")) {
        if (pipe(pfd)) return 1;
        pthread_create(&t, NULL, poller, NULL);
        spin();
        write(pfd[1], "x", 1);
        pthread_join(t, NULL);
        printf("joined\n");
    } else if (!strcmp(mode, "polltimeout")) {
        if (pipe(pfd)) return 1;
        pthread_create(&t, NULL, poll_timeouts, NULL);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        write(pfd[1], "y", 1);
        pthread_join(t, NULL);
        printf("joined\n");
    } else if (!strcmp(mode, "epoll")) {
        efd = eventfd(0, 0);
        epfd = epoll_create1(0);
        struct epoll_event ev = {EPOLLIN, {.u64 = 42}};
        epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev);
        pthread_create(&t, NULL, epoller, NULL);
        spin();
        unsigned long long one = 7;
        write(efd, &one, 8);
        pthread_join(t, NULL);
        printf("joined\n");
    } else if (!strcmp(mode, "alarm")) {
        /* The main thread blocks SIGALRM: the worker (busy) receives it. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGALRM);
        pid_t wtid = 0;
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        pthread_create(&t, NULL, worker, &wtid);
        while (!*(volatile pid_t *)&wtid) sched_yield();
        struct itimerval it = {{0, 0}, {0, 50000}};
        setitimer(ITIMER_REAL, &it, NULL);
        pthread_join(t, NULL);
        sigset_t pending;
        sigpending(&pending);
        printf("fired %d in the worker %d pending %d\n", (int)fired, handler_tid == wtid,
               sigismember(&pending, SIGALRM));
    } else if (!strcmp(mode, "wait")) {
        /* Every task waits (the parent in wait4, the child in pause) until SIGALRM. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        pid_t child = fork();
        if (child == 0) {
            pause();
            _exit(9);
        }
        struct itimerval it = {{0, 0}, {0, 100000}};
        setitimer(ITIMER_REAL, &it, NULL);
        int status = 0;
        pid_t r = waitpid(child, &status, 0);
        int e = errno;
        printf("waitpid %d errno %s fired %d\n", (int)r, r < 0 && e == EINTR ? "EINTR" : "other", (int)fired);
        kill(child, SIGTERM);
        r = waitpid(child, &status, 0);
        printf("child %s by signal %d\n", r == child ? "reaped" : "lost", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    } else {
        fprintf(stderr, "usage: net_threads recv|accept|poll|polltimeout|epoll|alarm|wait\n");
        return 2;
    }
    return 0;
}
