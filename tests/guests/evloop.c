/* Event loops, one mode per argv[1]; each prints only what a native run
 * prints too (no raw times), so record == native can be checked:
 *   eventfd   counter and semaphore modes, EAGAIN, EINVAL, poll
 *   epoll     one epoll set over a pipe, a socketpair, an eventfd and a
 *             timerfd: which wakes it, one-shot, timeouts, errors
 *   timerfd   one-shot and periodic timers read directly, gettime, poll
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long rc)
{
    printf("%s = %ld%s%s\n", what, rc, rc < 0 ? " " : "", rc < 0 ? strerror(errno) : "");
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int do_eventfd(void)
{
    uint64_t v = 5;
    int e = eventfd(3, 0);
    show("write 5", write(e, &v, 8));
    show("read", read(e, &v, 8));
    printf("value = %llu\n", (unsigned long long)v);
    show("read 4 bytes", read(e, &v, 4));
    int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (int i = 0; i < 3; i++) {
        v = 0;
        long rc = read(s, &v, 8);
        printf("semaphore read = %ld value=%llu%s\n", rc, (unsigned long long)v, rc < 0 ? " EAGAIN" : "");
    }
    v = UINT64_MAX;
    show("write UINT64_MAX", write(s, &v, 8));
    v = UINT64_MAX - 1;
    show("write max", write(s, &v, 8));
    v = 1;
    show("write 1 more (non-blocking)", write(s, &v, 8));
    struct pollfd p[2] = {{e, POLLIN | POLLOUT, 0}, {s, POLLIN | POLLOUT, 0}};
    int rc = poll(p, 2, 0);
    printf("poll = %d %#x %#x\n", rc, p[0].revents, p[1].revents);
    show("lseek", lseek(e, 0, SEEK_SET));
    return 0;
}

static void one_wait(int ep, int timeout, const char *what)
{
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, 8, timeout);
    printf("%s: %d", what, n);
    for (int i = 0; i < n; i++)
        printf(" [data=%llu events=%#x]", (unsigned long long)ev[i].data.u64, ev[i].events);
    printf("\n");
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int do_epoll(void)
{
    int p[2], sv[2];
    char buf[64];
    uint64_t v = 1;
    pipe(p);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int e = eventfd(0, EFD_NONBLOCK);
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    show("add pipe", add(ep, p[0], EPOLLIN, 1));
    show("add socket", add(ep, sv[1], EPOLLIN | EPOLLET, 2));
    show("add eventfd", add(ep, e, EPOLLIN, 3));
    show("add timerfd", add(ep, t, EPOLLIN, 4));
    one_wait(ep, 0, "nothing ready");

    write(p[1], "x", 1);
    one_wait(ep, -1, "pipe written");
    read(p[0], buf, sizeof buf);
    send(sv[0], "hello", 5, 0);
    one_wait(ep, -1, "socket sent");
    printf("socket read %zd\n", read(sv[1], buf, sizeof buf));
    write(e, &v, 8);
    one_wait(ep, -1, "eventfd written");
    read(e, &v, 8);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct itimerspec its = {{0, 0}, {0, 30 * 1000000}};
    timerfd_settime(t, 0, &its, NULL);
    one_wait(ep, -1, "timer armed (30 ms)");
    printf("waited >= 30 ms: %d\n", ms_since(&t0) >= 30);
    show("timer read", read(t, &v, 8));
    printf("expirations = %llu\n", (unsigned long long)v);
    show("timer read again", read(t, &v, 8));

    its = (struct itimerspec){{0, 10 * 1000000}, {0, 10 * 1000000}};
    timerfd_settime(t, 0, &its, NULL);
    int wakeups = 0;
    uint64_t total = 0;
    while (total < 3) {
        struct epoll_event ev;
        if (epoll_wait(ep, &ev, 1, 1000) == 1 && ev.data.u64 == 4 && read(t, &v, 8) == 8) {
            wakeups++;
            total += v;
        }
    }
    printf("periodic timer: at least 3 expirations: %d\n", total >= 3 && wakeups >= 1);
    its = (struct itimerspec){{0, 0}, {0, 0}};
    timerfd_settime(t, 0, &its, NULL);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    one_wait(ep, 50, "timeout 50 ms");
    printf("waited >= 50 ms: %d\n", ms_since(&t0) >= 50);

    show("add eventfd again", add(ep, e, EPOLLIN, 3));
    struct epoll_event mod = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 33};
    show("mod eventfd oneshot", epoll_ctl(ep, EPOLL_CTL_MOD, e, &mod));
    write(e, &v, 8);
    one_wait(ep, 0, "oneshot ready");
    one_wait(ep, 0, "oneshot again");
    show("mod rearm", epoll_ctl(ep, EPOLL_CTL_MOD, e, &mod));
    one_wait(ep, 0, "rearmed");
    show("del eventfd", epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));
    show("del eventfd again", epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));
    one_wait(ep, 0, "after del");

    close(p[1]);
    one_wait(ep, 0, "pipe writer closed");
    close(p[0]);
    close(sv[0]);
    one_wait(ep, 0, "peer closed");
    read(sv[1], buf, sizeof buf);

    int file = open("/proc/self/exe", O_RDONLY);
    int file2 = open("/etc/hostname", O_RDONLY);
    show("add regular file", add(ep, file2 >= 0 ? file2 : file, EPOLLIN, 9));
    show("add itself", add(ep, ep, EPOLLIN, 9));
    show("add on non-epoll", add(e, sv[1], EPOLLIN, 9));
    show("add bad fd", add(ep, 99, EPOLLIN, 9));
    int q[2];
    pipe(q);
    show("mod missing", epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &mod));
    struct epoll_event ev;
    show("wait maxevents 0", epoll_wait(ep, &ev, 0, 0));
    show("wait on non-epoll", epoll_wait(e, &ev, 1, 0));
    show("epoll_create(0)", epoll_create(0));
    int inner = epoll_create1(0);
    show("add inner epoll", add(ep, inner, EPOLLIN, 7));
    show("add pipe end", add(ep, q[1], EPOLLOUT, 6));
    show("loop", add(inner, ep, EPOLLIN, 8));
    void *bad = (void *)16;
    show("epoll_wait(bad events, none ready)", epoll_wait(inner, bad, 4, 0));
    show("epoll_wait(bad events, one ready)", epoll_wait(ep, bad, 4, 0));
    show("epoll_ctl(bad event)", epoll_ctl(ep, EPOLL_CTL_ADD, q[0], bad));
    show("epoll_ctl(bad op)", epoll_ctl(ep, 9, q[0], &mod));
    show("epoll_create1(bad flags)", epoll_create1(1));
    show("eventfd(bad flags)", eventfd(0, 0x40));
    show("timerfd_settime(bad new)", timerfd_settime(t, 0, bad, NULL));
    show("timerfd_settime(bad flags)", timerfd_settime(t, 0x10, &(struct itimerspec){{0, 0}, {0, 0}}, NULL));
    show("timerfd_gettime(bad cur)", timerfd_gettime(t, bad));
    show("timerfd_create(bad flags)", timerfd_create(CLOCK_MONOTONIC, 0x10));
    return 0;
}

static int do_timerfd(void)
{
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec cur;
    show("gettime (disarmed)", timerfd_gettime(t, &cur));
    printf("value %ld.%09ld interval %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec,
           (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct itimerspec its = {{0, 0}, {0, 20 * 1000000}};
    show("settime 20 ms", timerfd_settime(t, 0, &its, NULL));
    timerfd_gettime(t, &cur);
    printf("remaining <= 20 ms: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 20 * 1000000 &&
           cur.it_value.tv_nsec > 0);
    uint64_t v = 0;
    show("blocking read", read(t, &v, 8));
    printf("expirations = %llu, waited >= 20 ms: %d\n", (unsigned long long)v, ms_since(&t0) >= 20);
    struct pollfd p = {t, POLLIN, 0};
    int rc = poll(&p, 1, 0);
    printf("poll after read = %d %#x\n", rc, p.revents);

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    its = (struct itimerspec){{0, 0}, now};
    show("settime absolute (past)", timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL));
    rc = poll(&p, 1, 0);
    printf("poll = %d %#x\n", rc, p.revents);
    show("read", read(t, &v, 8));
    its = (struct itimerspec){{0, 0}, {0, 2000000000L}};
    show("settime bad nsec", timerfd_settime(t, 0, &its, NULL));
    show("timerfd_create(bad clock)", timerfd_create(42, 0));
    show("gettime on a pipe", timerfd_gettime(0, &cur));
    show("write", write(t, &v, 8));
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "eventfd"))
        return do_eventfd();
    if (!strcmp(mode, "epoll"))
        return do_epoll();
    if (!strcmp(mode, "timerfd"))
        return do_timerfd();
    fprintf(stderr, "usage: evloop eventfd|epoll|timerfd\n");
    return 2;
}
