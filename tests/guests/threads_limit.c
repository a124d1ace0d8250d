/* Threads are created until pthread_create fails; each waits until told to end. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int done;

static void *wait_for_end(void *arg) {
    pthread_mutex_lock(&lock);
    while (!done) pthread_cond_wait(&go, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void) {
    pthread_t t[64];
    int n = 0, err = 0;
    while (n < 64 && (err = pthread_create(&t[n], NULL, wait_for_end, NULL)) == 0) n++;
    printf("created %d threads, then: %s\n", n, n < 64 ? strerror(err) : "no failure");
    pthread_mutex_lock(&lock);
    done = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    return 0;
}
