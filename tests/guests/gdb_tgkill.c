/* gdb_tgkill: a thread-directed signal.  main sends SIGUSR1 with tgkill to a named
 * worker thread, which waits for it (yielding); the worker's handler records the
 * thread it ran in.  gdb reports the signal in the worker.  Exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile pid_t worker_tid, handled_in;

static void on_usr1(int sig)
{
    handled_in = gettid();                          /* in-handler */
}

static void *worker(void *arg)
{
    prctl(PR_SET_NAME, "worker");
    worker_tid = gettid();
    while (!handled_in)
        sched_yield();
    return NULL;
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_usr1};
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 2;
    while (!worker_tid)
        sched_yield();
    syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR1);    /* send */
    pthread_join(t, NULL);
    printf("handled in the worker: %d\n", handled_in == worker_tid);   /* joined */
    return handled_in == worker_tid ? 0 : 1;
}
