/* The recording's scheduler lets a thread run on without time slices while
   every other thread waits on it (the worker waits in FUTEX_WAIT); main then
   wakes the worker and spins, with no system call, until the worker answers:
   the wake must end main's slice, or main would spin until the run loop's
   next poll (2^26 instructions; tests/test_tasks.py checks the count). */
#include <linux/futex.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <unistd.h>

static volatile int ready, word, answered;

static void *worker(void *arg) {
    ready = 1;
    syscall(SYS_futex, &ready, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    while (!word)
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    answered = 1;
    return NULL;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    while (!ready)
        syscall(SYS_futex, &ready, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    volatile unsigned long sum = 0;
    for (unsigned long i = 0; i < 2000000; i++) sum += i;     /* the worker waits by now */
    word = 1;
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    while (!answered)
        ;
    pthread_join(t, NULL);
    printf("answered after %lu\n", sum);
    return 0;
}
