/* Edge-triggered epoll (EPOLLET): an entry is reported once per new
 * readiness edge, not while it stays ready.  Over a pipe, a socketpair and
 * an eventfd: write, wait (reported), wait again (nothing), write again
 * (reported again, the old byte still unread), read all (nothing), the
 * writer side after room is freed, the peer's hangup; a level-triggered
 * entry beside them keeps being reported.  A thread blocked in
 * epoll_wait on a ready ET pipe wakes for the next write only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

static int ep;

static void wait_show(const char *what, int timeout)
{
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, 8, timeout);
    printf("%-34s %d", what, n);
    for (int i = 0; i < n; i++)
        printf(" [data=%llu ev=%#x]", (unsigned long long)ev[i].data.u64, ev[i].events);
    printf("\n");
}

static void add(int fd, uint32_t events, int data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
        perror("epoll_ctl");
}

static void drain(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static int late_fd;

static void *late_writer(void *arg)
{
    (void)arg;
    usleep(20000);
    write(late_fd, "z", 1);
    return NULL;
}

int main(void)
{
    int p[2], sv[2];
    setvbuf(stdout, NULL, _IONBF, 0);
    ep = epoll_create1(EPOLL_CLOEXEC);

    /* a pipe's read end */
    pipe2(p, O_NONBLOCK);
    add(p[0], EPOLLIN | EPOLLET, 1);
    wait_show("pipe empty:", 0);
    write(p[1], "a", 1);
    wait_show("pipe 1 byte:", 0);
    wait_show("pipe again (no edge):", 0);
    write(p[1], "b", 1);
    wait_show("pipe written again:", 0);
    wait_show("pipe again (no edge):", 0);
    drain(p[0]);
    wait_show("pipe drained:", 0);
    write(p[1], "c", 1);
    wait_show("pipe after drain, written:", 0);
    epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);

    /* the write end: room freed by a read */
    add(p[1], EPOLLOUT | EPOLLET, 2);
    wait_show("pipe writer:", 0);
    wait_show("pipe writer again:", 0);
    drain(p[0]);
    wait_show("pipe writer, room freed:", 0);
    epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);

    /* a level-triggered pipe entry beside: reported each time */
    add(p[0], EPOLLIN, 3);
    write(p[1], "d", 1);
    wait_show("level-triggered:", 0);
    wait_show("level-triggered again:", 0);
    drain(p[0]);
    epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);

    /* a socketpair (host sockets) */
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    add(sv[0], EPOLLIN | EPOLLRDHUP | EPOLLET, 4);
    wait_show("socket empty:", 0);
    write(sv[1], "x", 1);
    wait_show("socket 1 byte:", 0);
    wait_show("socket again (no edge):", 0);
    send(sv[1], "y", 1, 0);
    wait_show("socket sent again:", 0);
    wait_show("socket again (no edge):", 0);
    drain(sv[0]);
    wait_show("socket drained:", 0);
    close(sv[1]);
    wait_show("socket peer closed:", 0);
    wait_show("socket closed again (no edge):", 0);
    close(sv[0]);

    /* an eventfd */
    int efd = eventfd(0, EFD_NONBLOCK);
    add(efd, EPOLLIN | EPOLLET, 5);
    uint64_t one = 1;
    write(efd, &one, 8);
    wait_show("eventfd 1:", 0);
    wait_show("eventfd again (no edge):", 0);
    write(efd, &one, 8);
    wait_show("eventfd written again:", 0);
    close(efd);

    /* one-shot and edge-triggered: MOD re-arms */
    add(p[0], EPOLLIN | EPOLLET | EPOLLONESHOT, 6);
    write(p[1], "e", 1);
    wait_show("oneshot:", 0);
    write(p[1], "f", 1);
    wait_show("oneshot disarmed:", 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 7};
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    wait_show("after MOD (ready):", 0);
    wait_show("after MOD again (no edge):", 0);

    /* blocked with data still unread: woken by the next write only */
    pthread_t t;
    late_fd = p[1];
    pthread_create(&t, NULL, late_writer, NULL);
    wait_show("blocked until a later write:", 2000);
    pthread_join(t, NULL);
    wait_show("then (no edge):", 0);
    return 0;
}
