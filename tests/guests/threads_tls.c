/* Thread-local storage: each thread has its own copy of a __thread variable;
   gettid differs per thread and equals getpid in the main thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread long mine = 7;
static long seen[3];
static int tid_is_other[3];

static void *work(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < 200; i++) { mine += id; sched_yield(); }
    seen[id] = mine;
    tid_is_other[id] = syscall(SYS_gettid) != getpid();
    return NULL;
}

int main(void) {
    pthread_t t[3];
    for (long i = 0; i < 3; i++) pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    printf("main %ld, threads %ld %ld %ld, own tids %d%d%d, main tid is pid %d\n", mine, seen[0], seen[1],
           seen[2], tid_is_other[0], tid_is_other[1], tid_is_other[2], (int)(syscall(SYS_gettid) == getpid()));
    return 0;
}
