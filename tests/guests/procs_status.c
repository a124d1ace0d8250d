/* /proc/self/status in a parent and in its forked child: Pid and PPid agree with
 * getpid() and getppid(), Tgid with Pid, and one thread each. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long field(const char *name)
{
    char line[256];
    long value = -1;
    size_t n = strlen(name);
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -2;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':')
            sscanf(line + n + 1, "%ld", &value);
    fclose(f);
    return value;
}

static void check(const char *who)
{
    printf("%s: Pid ok %d, PPid ok %d, Tgid ok %d, Threads %ld\n", who,
           field("Pid") == getpid(), field("PPid") == getppid(), field("Tgid") == getpid(),
           field("Threads"));
    fflush(stdout);
}

int main(void)
{
    check("parent");
    pid_t child = fork();
    if (child == 0) {
        check("child");
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("child exited %d\n", WEXITSTATUS(status));
    return 0;
}
