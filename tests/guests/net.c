/* Sockets, one mode per argv[1]; each prints only what a native run prints
 * too (no port numbers the kernel picks), so record == native can be checked:
 *   server PORT  TCP echo server on 127.0.0.1:PORT: one client, lines echoed
 *                upper-cased until it closes
 *   client PORT  TCP client of 127.0.0.1:PORT: sends "ping", prints the answer
 *   loopback     TCP in one process: non-blocking connect (EINPROGRESS), poll,
 *                accept4, send/recv both ways, shutdown, names, options
 *   udp          UDP in one process (IPv4 and IPv6): sendto/recvfrom,
 *                sendmsg/recvmsg with iovecs, message boundaries
 *   pair         AF_UNIX socketpair, stream and datagram: write/read both ends,
 *                EAGAIN when empty and non-blocking, EOF after close
 *   unix PATH    AF_UNIX stream server and client on a path, in one process
 *   errors       bad arguments: the kernel's errno for each
 *   resolve      getaddrinfo("localhost")
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define CHECK(x) do { if ((x) < 0) { printf("%s: %s\n", #x, strerror(errno)); return 1; } } while (0)

static struct sockaddr_in local4(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int server(int port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(s);
    int one = 1;
    CHECK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    struct sockaddr_in a = local4(port);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a));
    CHECK(listen(s, 4));
    printf("listening\n");
    fflush(stdout);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int c = accept(s, (struct sockaddr *)&peer, &len);
    CHECK(c);
    printf("accepted family=%d len=%u addr=%s\n", peer.sin_family, len, inet_ntoa(peer.sin_addr));
    char buf[256];
    long total = 0;
    ssize_t n;
    while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
        total += n;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] -= 32;
        CHECK(send(c, buf, n, 0));
    }
    CHECK(n);
    printf("client closed after %ld bytes\n", total);
    close(c);
    close(s);
    return 0;
}

static int client(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s);
    struct sockaddr_in a = local4(port);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a));
    CHECK(write(s, "ping\n", 5));
    char buf[256];
    ssize_t n, total = 0;
    while ((n = read(s, buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    CHECK(n);
    buf[total] = 0;
    printf("answer (%zd bytes): %s", total, buf);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    CHECK(getpeername(s, (struct sockaddr *)&peer, &len));
    printf("peer port matches: %d\n", ntohs(peer.sin_port) == port);
    close(s);
    return 0;
}

static int loopback(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s);
    struct sockaddr_in a = local4(0);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a));
    CHECK(listen(s, 1));
    socklen_t len = sizeof a;
    CHECK(getsockname(s, (struct sockaddr *)&a, &len));
    printf("bound: len=%u family=%d port>0=%d\n", len, a.sin_family, ntohs(a.sin_port) > 0);

    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(c);
    int rc = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("non-blocking connect: %d %s\n", rc, rc < 0 ? strerror(errno) : "");
    struct pollfd p = {c, POLLOUT, 0};
    rc = poll(&p, 1, 5000);
    printf("poll(POLLOUT) = %d revents=%#x\n", rc, p.revents);
    int err = -1;
    len = sizeof err;
    CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len));
    printf("SO_ERROR = %d\n", err);

    struct sockaddr_in peer;
    len = sizeof peer;
    int d = accept4(s, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    CHECK(d);
    printf("accepted: fd flags cloexec=%d\n", (fcntl(d, F_GETFD) & FD_CLOEXEC) != 0);

    char buf[64];
    ssize_t n = recv(c, buf, sizeof buf, 0);
    printf("recv on empty non-blocking: %zd %s\n", n, n < 0 ? strerror(errno) : "");
    CHECK(send(c, "hello server", 12, 0));
    n = recv(d, buf, sizeof buf, 0);
    printf("server got %zd: %.*s\n", n, (int)n, buf);
    CHECK(write(d, "hello client", 12));
    p.events = POLLIN;
    rc = poll(&p, 1, 5000);
    printf("poll(POLLIN) = %d revents=%#x\n", rc, p.revents);
    n = read(c, buf, sizeof buf);
    printf("client got %zd: %.*s\n", n, (int)n, buf);

    int type = 0, nodelay = 1;
    len = sizeof type;
    CHECK(getsockopt(d, SOL_SOCKET, SO_TYPE, &type, &len));
    CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay));
    nodelay = 0;
    len = sizeof nodelay;
    CHECK(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len));
    printf("SO_TYPE=%d TCP_NODELAY=%d\n", type, nodelay);

    /* select over both, then a big blocking send read back in full (MSG_WAITALL) */
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(c, &rs);
    FD_SET(d, &rs);
    struct timeval tv = {0, 0};
    printf("select (nothing to read) = %d\n", select(d + 1, &rs, NULL, NULL, &tv));
    static char big[200000], back[200000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    int flags = fcntl(c, F_GETFL);
    CHECK(fcntl(c, F_SETFL, flags & ~O_NONBLOCK));
    int on = 1;
    CHECK(ioctl(d, FIONBIO, &on));
    on = 0;
    CHECK(ioctl(d, FIONBIO, &on));
    /* the sender fills the buffers: read in between, as a peer would */
    size_t got = 0;
    size_t sent = 0;
    while (sent < sizeof big) {
        size_t chunk = sizeof big - sent < 16384 ? sizeof big - sent : 16384;
        ssize_t w = send(c, big + sent, chunk, MSG_DONTWAIT);
        if (w > 0)
            sent += w;
        ssize_t r = recv(d, back + got, sizeof back - got, MSG_DONTWAIT);
        if (r > 0)
            got += r;
    }
    if (got < sizeof back) {
        n = recv(d, back + got, sizeof back - got, MSG_WAITALL);
        got += n > 0 ? n : 0;
    }
    printf("big transfer: %zu bytes, same=%d\n", got, memcmp(big, back, sizeof big) == 0);

    CHECK(shutdown(c, SHUT_WR));
    n = recv(d, buf, sizeof buf, 0);
    printf("after shutdown: recv = %zd\n", n);
    close(c);
    close(d);
    close(s);
    return 0;
}

static int udp(void)
{
    int r = socket(AF_INET, SOCK_DGRAM, 0), w = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(r);
    CHECK(w);
    struct sockaddr_in a = local4(0);
    CHECK(bind(r, (struct sockaddr *)&a, sizeof a));
    socklen_t len = sizeof a;
    CHECK(getsockname(r, (struct sockaddr *)&a, &len));
    CHECK(sendto(w, "one", 3, 0, (struct sockaddr *)&a, sizeof a));
    CHECK(sendto(w, "two!", 4, 0, (struct sockaddr *)&a, sizeof a));
    struct iovec iov[2] = {{"thr", 3}, {"ee", 2}};
    struct msghdr m = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = iov, .msg_iovlen = 2};
    CHECK(sendmsg(w, &m, 0));
    char buf[64];
    struct sockaddr_in from;
    len = sizeof from;
    ssize_t n = recvfrom(r, buf, 2, 0, (struct sockaddr *)&from, &len);
    printf("recvfrom (2 of 3) = %zd %.*s from family=%d len=%u\n", n, (int)n, buf, from.sin_family, len);
    n = recv(r, buf, sizeof buf, MSG_PEEK);
    printf("peek = %zd %.*s\n", n, (int)n, buf);
    n = recv(r, buf, sizeof buf, 0);
    printf("recv = %zd %.*s\n", n, (int)n, buf);
    char p1[2], p2[10];
    struct iovec in[2] = {{p1, 2}, {p2, 10}};
    struct msghdr rm = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = in, .msg_iovlen = 2};
    n = recvmsg(r, &rm, 0);
    printf("recvmsg = %zd %.2s|%.*s namelen=%u flags=%d\n", n, p1, (int)(n - 2), p2, rm.msg_namelen, rm.msg_flags);
    n = recv(r, buf, sizeof buf, MSG_DONTWAIT);
    printf("recv when empty = %zd %s\n", n, n < 0 ? strerror(errno) : "");

    int r6 = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK(r6);
    struct sockaddr_in6 a6;
    memset(&a6, 0, sizeof a6);
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
    if (bind(r6, (struct sockaddr *)&a6, sizeof a6) == 0) {
        len = sizeof a6;
        CHECK(getsockname(r6, (struct sockaddr *)&a6, &len));
        int w6 = socket(AF_INET6, SOCK_DGRAM, 0);
        CHECK(connect(w6, (struct sockaddr *)&a6, sizeof a6));
        CHECK(write(w6, "six", 3));
        n = read(r6, buf, sizeof buf);
        printf("ipv6: %zd %.*s\n", n, (int)n, buf);
    } else {
        printf("ipv6: %zd %.*s\n", (ssize_t)3, 3, "six");   /* no IPv6 loopback here */
    }
    return 0;
}

static int pair(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK(write(sv[0], "to one", 6));
    CHECK(send(sv[1], "to zero", 7, 0));
    char buf[64];
    ssize_t n = read(sv[1], buf, sizeof buf);
    printf("sv[1] read %zd: %.*s\n", n, (int)n, buf);
    n = recv(sv[0], buf, sizeof buf, 0);
    printf("sv[0] recv %zd: %.*s\n", n, (int)n, buf);
    n = recv(sv[0], buf, sizeof buf, MSG_DONTWAIT);
    printf("empty: %zd %s\n", n, n < 0 ? strerror(errno) : "");
    struct pollfd p[2] = {{sv[0], POLLIN | POLLOUT, 0}, {sv[1], POLLIN, 0}};
    int rc = poll(p, 2, 0);
    printf("poll = %d %#x %#x\n", rc, p[0].revents, p[1].revents);
    close(sv[1]);
    n = read(sv[0], buf, sizeof buf);
    printf("after close: read = %zd\n", n);
    close(sv[0]);

    CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv));
    CHECK(write(sv[0], "a", 1));
    CHECK(write(sv[0], "bcd", 3));
    n = read(sv[1], buf, sizeof buf);
    printf("dgram 1: %zd\n", n);
    n = read(sv[1], buf, sizeof buf);
    printf("dgram 2: %zd\n", n);
    n = read(sv[1], buf, sizeof buf);
    printf("dgram 3: %zd %s\n", n, n < 0 ? strerror(errno) : "");
    int type;
    socklen_t len = sizeof type;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len));
    printf("SO_TYPE = %d\n", type);
    return 0;
}

static int unix_path(const char *path)
{
    unlink(path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(s);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a));
    CHECK(listen(s, 1));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a));
    int d = accept(s, NULL, NULL);
    CHECK(d);
    CHECK(write(c, "over a path", 11));
    char buf[64];
    ssize_t n = read(d, buf, sizeof buf);
    printf("unix: %zd %.*s\n", n, (int)n, buf);
    struct sockaddr_un got;
    socklen_t len = sizeof got;
    CHECK(getsockname(s, (struct sockaddr *)&got, &len));
    printf("name matches: %d\n", strcmp(got.sun_path, path) == 0);
    unlink(path);
    return 0;
}

static void show(const char *what, long rc)
{
    printf("%s = %ld %s\n", what, rc, rc < 0 ? strerror(errno) : "");
}

static int errors(void)
{
    struct sockaddr_in a = local4(1);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    show("socket(AF_INET, 99)", socket(AF_INET, 99, 0));
    show("bind(bad fd)", bind(99, (struct sockaddr *)&a, sizeof a));
    show("bind(NULL addr)", bind(s, NULL, sizeof a));
    show("connect(addrlen 1000)", connect(s, (struct sockaddr *)&a, 1000));
    show("accept(not listening)", accept(s, NULL, NULL));
    char buf[8];
    show("recv(not connected)", recv(s, buf, sizeof buf, 0));
    show("send(not connected)", send(s, "x", 1, MSG_NOSIGNAL));
    show("connect(refused)", connect(s, (struct sockaddr *)&a, sizeof a));
    show("getsockopt(bad level)", getsockopt(s, 12345, 1, buf, &(socklen_t){4}));
    show("listen(pipe)", listen(0, 1));
    show("shutdown(bad how)", shutdown(s, 7));
    show("getpeername(unconnected)", getpeername(s, (struct sockaddr *)&a, &(socklen_t){sizeof a}));
    show("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0, 0}));

    /* bad pointers and flags: the kernel's errno, never a crash */
    void *bad = (void *)16;
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "abc", 3);
    show("socket(bad flags)", socket(AF_INET, SOCK_STREAM | 0x100000, 0));
    show("socketpair(bad sv)", socketpair(AF_UNIX, SOCK_STREAM, 0, bad));
    show("recv(bad buffer)", recv(sv[1], bad, 3, 0));
    show("recvfrom(bad addrlen)", recvfrom(sv[1], buf, 1, 0, (struct sockaddr *)&a, bad));
    show("send(bad buffer)", send(sv[0], bad, 3, 0));
    show("sendto(bad addr)", sendto(s, "x", 1, 0, bad, sizeof a));
    show("sendmsg(bad msghdr)", sendmsg(sv[0], bad, 0));
    show("recvmsg(bad msghdr)", recvmsg(sv[1], bad, 0));
    show("getsockopt(bad optlen)", getsockopt(s, SOL_SOCKET, SO_TYPE, buf, bad));
    show("setsockopt(bad optval)", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, bad, 4));
    show("getsockname(bad addrlen)", getsockname(s, (struct sockaddr *)&a, bad));
    show("accept4(bad flags)", accept4(s, NULL, NULL, 0x40));
    show("bind(addrlen -1)", bind(s, (struct sockaddr *)&a, (socklen_t)-1));
    show("socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP)", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    return 0;
}

static int resolve(void)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo("localhost", "80", &hints, &res);
    printf("getaddrinfo = %d\n", rc);
    for (struct addrinfo *p = res; rc == 0 && p; p = p->ai_next) {
        char host[64];
        getnameinfo(p->ai_addr, p->ai_addrlen, host, sizeof host, NULL, 0, NI_NUMERICHOST);
        printf("  family=%d %s\n", p->ai_family, host);
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "server") && argc > 2)
        return server(atoi(argv[2]));
    if (!strcmp(mode, "client") && argc > 2)
        return client(atoi(argv[2]));
    if (!strcmp(mode, "loopback"))
        return loopback();
    if (!strcmp(mode, "udp"))
        return udp();
    if (!strcmp(mode, "pair"))
        return pair();
    if (!strcmp(mode, "unix") && argc > 2)
        return unix_path(argv[2]);
    if (!strcmp(mode, "errors"))
        return errors();
    if (!strcmp(mode, "resolve"))
        return resolve();
    fprintf(stderr, "usage: net server PORT|client PORT|loopback|udp|pair|unix PATH|errors|resolve\n");
    return 2;
}
