/* A thread computes while the main thread waits for a line on stdin: the
   wait for input must not stop the other thread (it prints first). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *worker(void *arg) {
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 300000; i++) x += i;
    printf("worker done: %lu\n", (unsigned long)x);
    fflush(stdout);
    return NULL;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    char line[64];
    ssize_t n = read(0, line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    pthread_join(t, NULL);
    printf("got: %s", line);
    return 0;
}
