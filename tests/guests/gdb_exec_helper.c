/* The program gdb_forkexec.c's children exec: helper_work() is a function only
   it has (a breakpoint there is one in the exec'd program).  Exec'd as
   "forked", it forks a child of its own (the first program's grandchild, which
   runs this program from its start) that calls helper_work too. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int helper_work(const char *how) {
    return (int)strlen(how);    /* helper_work: body */
}

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "none";
    if (strcmp(how, "forked") == 0) {
        pid_t g = fork();
        if (g == 0) _exit(helper_work("grandchild"));
        int st = 0;
        waitpid(g, &st, 0);
        printf("grandchild exited %d\n", WEXITSTATUS(st));
    }
    int n = helper_work(how);
    printf("helper %s: %d\n", how, n);
    return n;
}
