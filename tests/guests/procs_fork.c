/* Processes without exec: fork and wait4 (exit statuses, a child killed by a
   signal, a zombie reaped late), a pipe between parent and child, vfork,
   getppid, SIGCHLD to a handler, kill of a child, waitid, setsid, setpgid
   and kill of a process group. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld;
static void on_chld(int sig) { chld++; }

static void describe(const char *what, int status) {
    if (WIFEXITED(status)) printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) printf("%s: killed by signal %d\n", what, WTERMSIG(status));
    else printf("%s: status %#x\n", what, status);
}

int main(void) {
    pid_t me = getpid();
    pid_t c = fork();
    if (c == 0) _exit(getppid() == me ? 7 : 99);
    int st;
    pid_t w = waitpid(c, &st, 0);
    describe(w == c ? "child 1" : "wrong pid", st);

    int fds[2];
    pipe(fds);
    c = fork();
    if (c == 0) {
        close(fds[0]);
        for (int i = 0; i < 3; i++) {
            char line[32];
            int n = snprintf(line, sizeof line, "line %d from the child\n", i);
            write(fds[1], line, n);
        }
        _exit(0);
    }
    close(fds[1]);
    char buf[256];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0) got += n;
    buf[got] = 0;
    printf("through the pipe:\n%s", buf);
    waitpid(c, &st, 0);
    describe("child 2", st);

    c = fork();
    if (c == 0) { raise(SIGSEGV); _exit(1); }
    waitpid(c, &st, 0);
    describe("child 3", st);

    signal(SIGCHLD, on_chld);
    c = fork();
    if (c == 0) { for (;;) pause(); }
    struct timespec nap = {0, 10 * 1000 * 1000};
    nanosleep(&nap, NULL);      /* the child is in pause() by now */
    kill(c, SIGTERM);
    waitpid(c, &st, 0);
    describe("child 4 (killed by its parent)", st);

    pid_t late = fork();
    if (late == 0) _exit(3);
    pid_t other = fork();
    if (other == 0) _exit(4);
    waitpid(other, &st, 0);
    describe("child 6", st);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    waitid(P_PID, late, &info, WEXITED);
    printf("child 5 reaped late: code %d status %d same pid %d\n", info.si_code, info.si_status,
           info.si_pid == late);

    c = vfork();
    if (c == 0) _exit(5);
    waitpid(c, &st, 0);
    describe("vfork child", st);
    printf("SIGCHLD handled: %s\n", chld > 0 ? "yes" : "no");
    c = fork();
    if (c == 0) {
        pid_t me2 = getpid();
        int leader = setsid() == me2 && getsid(0) == me2 && getpgid(0) == me2;
        _exit(leader ? 11 : 12);
    }
    waitpid(c, &st, 0);
    describe("setsid child", st);
    c = fork();
    if (c == 0) { for (;;) pause(); }
    int set = setpgid(c, c);
    printf("setpgid: %d, its group is its pid: %d\n", set, getpgid(c) == c);
    printf("kill of the group: %d\n", kill(-c, SIGTERM));
    waitpid(c, &st, 0);
    describe("group child", st);
    printf("no more children: %d\n", waitpid(-1, &st, WNOHANG));
    return 0;
}
