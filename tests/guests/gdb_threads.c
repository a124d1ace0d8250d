/* gdb_threads: two named pthreads for the thread tests of gdb and the REPL.
 * Main and both workers meet at a barrier (three threads alive after it);
 * worker 1 alone writes `shared` (a watchpoint set in main after the joins
 * finds it backwards); crunch() runs long enough (200,000 and 400,000
 * instructions) for time slices to interleave the workers.  Exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>

static pthread_barrier_t meet;
long shared = 0;
long results[2];

__attribute__((noinline)) long crunch(long id)
{
    long sum = 0;
    for (long i = 0; i < 20000 * (id + 1); i++)
        sum += i ^ id;
    return sum;
}

static void *worker(void *arg)
{
    long id = (long)arg;
    char name[16];
    snprintf(name, sizeof name, "worker%ld", id);
    prctl(PR_SET_NAME, name);
    pthread_barrier_wait(&meet);
    results[id] = crunch(id);                       /* after-barrier */
    if (id == 1)
        shared = 42;                                /* the-write */
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    pthread_barrier_init(&meet, NULL, 3);
    for (long i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 2;
    pthread_barrier_wait(&meet);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("shared %ld results %ld %ld\n", shared, results[0], results[1]);   /* joined */
    return 0;
}
