/* recvmmsg on datagram sockets, one mode per argv[1]:
 *   unix      three datagrams on an AF_UNIX socketpair, read with one recvmmsg
 *             (MSG_WAITFORONE), then none left (MSG_DONTWAIT: EAGAIN)
 *   udp       two datagrams to itself on UDP loopback, blocking recvmmsg of exactly two
 *   bad       bad arguments: a non-socket, a bad fd, a bad array, a bad timeout
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define N 5

static struct mmsghdr msgs[N];
static char bufs[N][64];
static struct iovec iovs[N];
static struct sockaddr_in from[N];

static void setup(int named)
{
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < N; i++) {
        iovs[i].iov_base = bufs[i];
        iovs[i].iov_len = sizeof bufs[i] - 1;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (named) {
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        }
    }
}

static void show(int n)
{
    for (int i = 0; i < n; i++) {
        bufs[i][msgs[i].msg_len] = 0;
        printf("  msg %d: len %u \"%s\"\n", i, msgs[i].msg_len, bufs[i]);
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "unix";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "unix")) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
        send(sv[0], "one", 3, 0);
        send(sv[0], "two!", 4, 0);
        send(sv[0], "three", 5, 0);
        setup(0);
        int n = recvmmsg(sv[1], msgs, N, MSG_WAITFORONE, NULL);
        printf("recvmmsg %d\n", n);
        show(n);
        n = recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, NULL);
        printf("again: %d %s\n", n, strerror(errno));
    } else if (!strcmp(mode, "udp")) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(s, (struct sockaddr *)&a, sizeof a);
        socklen_t len = sizeof a;
        getsockname(s, (struct sockaddr *)&a, &len);
        sendto(s, "alpha", 5, 0, (struct sockaddr *)&a, sizeof a);
        sendto(s, "beta", 4, 0, (struct sockaddr *)&a, sizeof a);
        setup(1);
        int n = recvmmsg(s, msgs, 2, 0, NULL);
        printf("recvmmsg %d\n", n);
        show(n);
        for (int i = 0; i < n; i++)
            printf("  from loopback, own port: %d\n", from[i].sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
                   from[i].sin_port == a.sin_port);
    } else if (!strcmp(mode, "bad")) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
        setup(0);
        int n = recvmmsg(0, msgs, N, MSG_DONTWAIT, NULL);
        printf("on stdin: %d %s\n", n, strerror(errno));
        n = recvmmsg(99, msgs, N, MSG_DONTWAIT, NULL);
        printf("bad fd: %d %s\n", n, strerror(errno));
        send(sv[0], "x", 1, 0);
        n = recvmmsg(sv[1], (struct mmsghdr *)8, N, MSG_DONTWAIT, NULL);
        printf("array at 8: %d %s\n", n, strerror(errno));
        struct timespec bad = {0, 2000000000};
        n = recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, &bad);
        printf("timeout nsec 2e9: %d %s\n", n, strerror(errno));
        n = recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, (struct timespec *)8);
        printf("timeout at 8: %d %s\n", n, strerror(errno));
        struct timespec ok = {1, 0};
        n = recvmmsg(sv[1], msgs, N, MSG_DONTWAIT, &ok);
        printf("with a timeout: %d\n", n);
    }
    return 0;
}
