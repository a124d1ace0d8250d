/* A parent killed by its child: the child, orphaned, goes on (its parent is now init). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    int p[2]; pipe(p);
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        char b; read(p[0], &b, 1);          /* wait until the parent is ready */
        kill(getppid(), SIGTERM);
        usleep(20000);
        printf("child: parent gone, my parent is now %s\n", getppid() == 1 ? "init" : "someone");
        return 0;
    }
    printf("parent: waiting\n"); fflush(stdout);
    write(p[1], "x", 1);
    for (;;) pause();
}
