/* SCM_RIGHTS between tasks of the recording, one mode per argv[1]:
 *   fork      the parent opens a file and a pipe, sends both fds to its child over a
 *             socketpair; the child reads the file through its new fd and writes into
 *             the pipe, which the parent reads
 *   self      an fd sent to the other end within one process; MSG_CTRUNC when the
 *             control room is too small; a bad fd (EBADF)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int send_fds(int sock, const int *fds, int n, const char *byte)
{
    char control[CMSG_SPACE(sizeof(int) * 4)];
    memset(control, 0, sizeof control);
    struct iovec iov = {(void *)byte, 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    return (int)sendmsg(sock, &m, 0);
}

static int recv_fds(int sock, int *fds, int max, size_t room, int *flags)
{
    char control[CMSG_SPACE(sizeof(int) * 4)];
    char byte;
    struct iovec iov = {&byte, 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = room;
    int r = (int)recvmsg(sock, &m, 0);
    *flags = m.msg_flags;
    if (r < 0)
        return -1;
    int n = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) && n < max; i++)
                memcpy(&fds[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    return n;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "fork";
    setvbuf(stdout, NULL, _IONBF, 0);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 1;
    if (!strcmp(mode, "fork")) {
        pid_t pid = fork();
        if (pid == 0) {
            close(sv[0]);
            int fds[4], flags;
            int n = recv_fds(sv[1], fds, 4, CMSG_SPACE(sizeof(int) * 4), &flags);
            char buf[64] = {0};
            ssize_t got = read(fds[0], buf, sizeof buf - 1);
            char line[128];
            int len = snprintf(line, sizeof line, "child got %d fds; the file says: %.*s", n, (int)got, buf);
            if (write(fds[1], line, len) != len)
                _exit(2);
            _exit(0);
        }
        close(sv[1]);
        int file = open(argc > 2 ? argv[2] : "/etc/hostname", O_RDONLY);
        int p[2];
        if (file < 0 || pipe(p) != 0)
            return 1;
        int fds[2] = {file, p[1]};
        printf("sendmsg %d\n", send_fds(sv[0], fds, 2, "x"));
        close(file);
        close(p[1]);
        char buf[256] = {0};
        ssize_t got, total = 0;
        while ((got = read(p[0], buf + total, sizeof buf - 1 - total)) > 0)
            total += got;
        int status;
        waitpid(pid, &status, 0);
        printf("parent read: %s(child status %d)\n", buf, WEXITSTATUS(status));
    } else if (!strcmp(mode, "self")) {
        int p[2];
        if (pipe(p) != 0)
            return 1;
        int fds[4], flags;
        printf("sendmsg %d\n", send_fds(sv[0], &p[1], 1, "a"));
        int n = recv_fds(sv[1], fds, 4, CMSG_SPACE(sizeof(int) * 4), &flags);
        printf("received %d fd(s), new fd is %s\n", n, n == 1 && fds[0] > p[1] ? "a new number" : "?");
        if (write(fds[0], "via the new fd\n", 15) != 15)
            return 1;
        char buf[32] = {0};
        printf("pipe: %s", read(p[0], buf, sizeof buf - 1) > 0 ? buf : "?\n");
        printf("sendmsg %d\n", send_fds(sv[0], &p[1], 1, "b"));
        n = recv_fds(sv[1], fds, 4, 4, &flags);
        printf("too little room: %d fds, MSG_CTRUNC %d\n", n, !!(flags & MSG_CTRUNC));
        int bad = 99;
        int r = send_fds(sv[0], &bad, 1, "c");
        printf("bad fd: %d %s\n", r, strerror(errno));
    }
    return 0;
}
