/* Queries over several tasks.  `threads`: 3 threads (main + 2) each store into
   `last` 5 times, under a lock, printing its tid and each value stored.
   `fork`: a child stores into `counter` 4 times (100+i) and exits; the parent
   waits, then stores 3 times (i): the same address in two address spaces. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
volatile long last;
volatile long counter;
volatile long spin_sink;

static void store(long id) {
    long tid = syscall(SYS_gettid);
    for (long i = 0; i < 5; i++) {
        pthread_mutex_lock(&lock);
        last = id * 1000 + i;                 /* QUERY-TASKS-STORE */
        printf("store %ld %ld\n", tid, id * 1000 + i);
        pthread_mutex_unlock(&lock);
        for (long k = 0; k < 20000; k++) spin_sink += k;
    }
}

static void *work(void *arg) {
    store((long)arg);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "fork") == 0) {
        pid_t c = fork();
        if (c == 0) {
            for (long i = 0; i < 4; i++) {
                counter = 100 + i;
                for (long k = 0; k < 20000; k++) spin_sink += k;
            }
            printf("child %d\n", (int)getpid());
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(c, &st, 0);
        for (long i = 0; i < 3; i++) {
            counter = i;
            for (long k = 0; k < 20000; k++) spin_sink += k;
        }
        printf("parent %d child %d\n", (int)getpid(), (int)c);
        return 0;
    }
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, work, (void *)(i + 1));
    store(0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    return 0;
}
