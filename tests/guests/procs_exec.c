/* execve: a fork+exec+wait chain (the program runs itself three levels deep),
   a pipeline (fork, pipe, dup2, execve of /bin/echo and /usr/bin/tr), vfork+exec,
   O_CLOEXEC honoured, and an exec that fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int run_chain(const char *self, int depth) {
    printf("level %d (pid is new: %d)\n", depth, getpid() != getppid());
    fflush(stdout);
    if (depth == 3) return 30;
    pid_t c = fork();
    if (c == 0) {
        char arg[8];
        snprintf(arg, sizeof arg, "%d", depth + 1);
        execl(self, self, "chain", arg, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(c, &st, 0);
    printf("level %d: level %d exited %d\n", depth, depth + 1, WEXITSTATUS(st));
    fflush(stdout);
    return depth * 10;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "chain") == 0) return run_chain(argv[0], atoi(argv[2]));
    if (argc == 2 && strcmp(argv[1], "fdcheck") == 0) {
        printf("after exec: fd 5 %s, fd 6 %s\n", fcntl(5, F_GETFD) < 0 ? "closed" : "open",
               fcntl(6, F_GETFD) < 0 ? "closed" : "open");
        return 0;
    }
    run_chain(argv[0], 0);

    int p[2];
    pipe(p);
    pid_t a = fork();
    if (a == 0) {
        dup2(p[1], 1); close(p[0]); close(p[1]);
        execl("/bin/echo", "echo", "hello from a pipeline", (char *)NULL);
        _exit(127);
    }
    pid_t b = fork();
    if (b == 0) {
        dup2(p[0], 0); close(p[0]); close(p[1]);
        execl("/usr/bin/tr", "tr", "a-z", "A-Z", (char *)NULL);
        _exit(127);
    }
    close(p[0]); close(p[1]);
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    printf("pipeline statuses %d %d\n", WEXITSTATUS(sa), WEXITSTATUS(sb));
    fflush(stdout);

    int keep = open("/dev/null", O_RDONLY), gone = open("/dev/null", O_RDONLY | O_CLOEXEC);
    dup2(keep, 5); dup2(gone, 6);
    fcntl(6, F_SETFD, FD_CLOEXEC);
    pid_t v = vfork();
    if (v == 0) {
        execl(argv[0], argv[0], "fdcheck", (char *)NULL);
        _exit(127);
    }
    int sv;
    waitpid(v, &sv, 0);
    printf("vfork+exec child exited %d\n", WEXITSTATUS(sv));
    fflush(stdout);

    pid_t f = fork();
    if (f == 0) {
        execl("/nonexistent/program", "x", (char *)NULL);
        printf("exec failed: %s\n", strerror(errno));
        fflush(stdout);
        _exit(9);
    }
    waitpid(f, &sv, 0);
    printf("failed exec child exited %d\n", WEXITSTATUS(sv));
    return 0;
}
