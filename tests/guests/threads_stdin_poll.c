/* A thread computes while the main thread waits in poll (then select) for input on
   stdin: the wait must not stop the other thread (it prints first). */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

static void *worker(void *arg) {
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 300000; i++) x += i;
    printf("worker %s done: %lu\n", (const char *)arg, (unsigned long)x);
    fflush(stdout);
    return NULL;
}

int main(void) {
    pthread_t t;
    char line[64];
    pthread_create(&t, NULL, worker, "1");
    struct pollfd pf = {0, POLLIN, 0};
    int r = poll(&pf, 1, -1);
    ssize_t n = read(0, line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    pthread_join(t, NULL);
    printf("poll %d %#x, got: %s", r, pf.revents, line);
    fflush(stdout);
    pthread_create(&t, NULL, worker, "2");
    fd_set in;
    FD_ZERO(&in);
    FD_SET(0, &in);
    r = select(1, &in, NULL, NULL, NULL);
    n = read(0, line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    pthread_join(t, NULL);
    printf("select %d %d, got: %s", r, FD_ISSET(0, &in), line);
    return 0;
}
