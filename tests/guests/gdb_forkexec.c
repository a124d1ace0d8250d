/* fork, exec and vfork for the gdb tier (tests/gdb/test_gdb_forkexec.py): the
   parent forks a child that execs the helper program (this program's path with
   "-helper" appended; gdb_exec_helper.c), then vforks one that execs it too,
   and waits for each.  The parent's own work goes on in after_children(). */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int after_children(int a, int b) {
    return a + b;       /* after_children: parent */
}

int main(int argc, char **argv) {
    char helper[4096];
    snprintf(helper, sizeof helper, "%s-helper", argv[0]);
    int st = 0, total = 0;
    pid_t c = fork();
    if (c == 0) {
        execl(helper, helper, "forked", (char *)NULL);
        _exit(127);
    }
    waitpid(c, &st, 0);
    total += WEXITSTATUS(st);
    printf("forked child exited %d\n", WEXITSTATUS(st));
    fflush(stdout);
    pid_t v = vfork();
    if (v == 0) {
        execl(helper, helper, "vforked", (char *)NULL);
        _exit(127);
    }
    waitpid(v, &st, 0);
    printf("vforked child exited %d\n", WEXITSTATUS(st));
    return after_children(total, WEXITSTATUS(st)) == 13 ? 0 : 1;
}
