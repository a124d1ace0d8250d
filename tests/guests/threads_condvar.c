/* 4 pthreads share a counter under a mutex; the main thread waits on a
   condition variable until all have finished, then joins them. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 4000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int done;

static void *work(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter += id + 1;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    done++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&lock);
    return (void *)(id * 10);
}

int main(void) {
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, work, (void *)i) != 0)
            return 2;
    pthread_mutex_lock(&lock);
    while (done < THREADS)
        pthread_cond_wait(&done_cond, &lock);
    pthread_mutex_unlock(&lock);
    long sum = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        sum += (long)ret;
    }
    printf("counter %ld (expected %ld), joined %ld\n", counter, (long)ROUNDS * (1 + 2 + 3 + 4), sum);
    return counter == (long)ROUNDS * 10 ? 0 : 1;
}
