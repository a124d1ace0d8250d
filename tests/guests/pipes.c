/* pipes: pipe(2), dup2(2), write and read within one process; also writes
 * to stdout through a dup'ed descriptor. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    int p[2];
    if (pipe(p) != 0) { perror("pipe"); return 1; }
    const char *msg = "through the pipe";
    ssize_t w = write(p[1], msg, strlen(msg));
    char buf[64] = {0};
    ssize_t r = read(p[0], buf, sizeof buf - 1);
    printf("wrote %zd, read %zd: %s\n", w, r, buf);

    if (dup2(p[1], 10) != 10) { perror("dup2"); return 1; }
    w = write(10, "via fd 10", 9);
    memset(buf, 0, sizeof buf);
    r = read(p[0], buf, sizeof buf - 1);
    printf("dup2: wrote %zd, read %zd: %s\n", w, r, buf);
    close(10);
    close(p[1]);
    r = read(p[0], buf, sizeof buf);
    printf("read after close of writers: %zd\n", r);
    close(p[0]);

    fflush(stdout);
    int out = dup(1);
    dprintf(out, "written through dup(1) = fd %d\n", out);
    close(out);
    return 0;
}
