/* wait4's rusage: each child's user time, by ttdbg's model (one instruction a
   nanosecond), with the time of the children it reaped included; printed in
   microseconds (the test compares them, not a native run: they are host times there). */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile unsigned long sink;

static void work(unsigned long n) {
    for (unsigned long i = 0; i < n; i++) sink += i;
}

static long child_usec(unsigned long n, int grandchild) {
    pid_t c = fork();
    if (c == 0) {
        if (grandchild) {
            pid_t g = fork();
            if (g == 0) { work(n); _exit(0); }
            waitpid(g, NULL, 0);
        } else {
            work(n);
        }
        _exit(0);
    }
    int st;
    struct rusage ru;
    wait4(c, &st, 0, &ru);
    return ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000L
           + ru.ru_stime.tv_usec;
}

int main(void) {
    long small = child_usec(200000, 0), large = child_usec(800000, 0), nested = child_usec(800000, 1);
    printf("usec %ld %ld %ld\n", small, large, nested);
    return 0;
}
