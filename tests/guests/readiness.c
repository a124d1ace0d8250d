/* poll, ppoll, select and pselect on stdin, an in-guest pipe and a file:
 * the answers are recorded and replayed without waiting. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/select.h>
#include <unistd.h>

int main(void)
{
    int fds[2];
    pipe(fds);
    int file = open("/etc/hostname", O_RDONLY);
    /* First wait for stdin alone (the writer may be slower than us), then
     * ask about everything; POLLHUP is left out: when the writer closes is
     * a race. */
    struct pollfd in = {0, POLLIN, 0};
    int n = poll(&in, 1, 5000);
    printf("poll(stdin): %d in=%d\n", n, in.revents & POLLIN);
    struct pollfd p[3] = {{0, POLLIN, 0}, {fds[0], POLLIN, 0}, {file, POLLIN, 0}};
    n = poll(p, 3, 1000);
    printf("poll: %d stdin=%x pipe=%x file=%x\n", n, p[0].revents & POLLIN, p[1].revents, p[2].revents);
    write(fds[1], "x", 1);
    struct timespec ts = {0, 0};
    n = ppoll(p + 1, 1, &ts, NULL);
    printf("ppoll: %d pipe=%x\n", n, p[1].revents);
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(0, &r);
    FD_SET(fds[0], &r);
    FD_SET(fds[1], &w);
    struct timeval tv = {1, 0};
    n = select(fds[1] + 1, &r, &w, NULL, &tv);
    printf("select: %d stdin=%d pipe_r=%d pipe_w=%d\n", n, FD_ISSET(0, &r), FD_ISSET(fds[0], &r),
           FD_ISSET(fds[1], &w));
    char buf[64];
    ssize_t got = read(0, buf, sizeof buf);
    printf("read: %zd\n", got);
    FD_ZERO(&r);
    FD_SET(fds[0], &r);
    n = pselect(fds[0] + 1, &r, NULL, NULL, &ts, NULL);
    printf("pselect: %d pipe=%d\n", n, FD_ISSET(fds[0], &r));
    return 0;
}
