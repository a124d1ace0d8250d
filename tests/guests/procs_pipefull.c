/* Pipe capacity (issue 9): a pipe holds 64 KiB; a non-blocking write to a full one
   fails with EAGAIN, poll says it is not writable, a blocking writer waits for its reader. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int p[2];
    static char buf[4096];
    memset(buf, 'x', sizeof buf);
    if (pipe(p)) return 1;
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    long held = 0;
    for (;;) {
        ssize_t n = write(p[1], buf, sizeof buf);
        if (n < 0) { printf("full after %ld bytes: %s\n", held, errno == EAGAIN ? "EAGAIN" : strerror(errno)); break; }
        held += n;
    }
    struct pollfd pf = {p[1], POLLOUT, 0};
    printf("poll for room: %d\n", poll(&pf, 1, 0));
    fcntl(p[1], F_SETFL, 0);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        close(p[1]);
        long total = 0;
        ssize_t n;
        char in[1000];
        while ((n = read(p[0], in, sizeof in)) > 0) total += n;
        printf("child read %ld bytes\n", total);
        return 0;
    }
    close(p[0]);
    long wrote = 0;
    for (int i = 0; i < 50; i++) wrote += write(p[1], buf, sizeof buf);
    close(p[1]);
    int status;
    waitpid(child, &status, 0);
    printf("parent wrote %ld more bytes, child exited %d\n", wrote, WEXITSTATUS(status));
    return 0;
}
