/* Futex operations and signals between threads, each checked and printed:
   relative and absolute timeouts, EAGAIN, CMP_REQUEUE, WAKE_OP, nanosleep
   in a thread while others run, tgkill to another thread's handler
   (interrupting its futex wait), and pthread_join's CLONE_CHILD_CLEARTID wake. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_OP(op, oparg, cmp, cmparg) ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

static long futex(atomic_int *a, int op, int val, void *t, atomic_int *a2, int val3) {
    long r = syscall(SYS_futex, a, op | FUTEX_PRIVATE_FLAG, val, t, a2, val3);
    return r < 0 ? -errno : r;
}

static atomic_int word, qa, qb, wc, wd, ready, sig_word;
static volatile sig_atomic_t handled;
static pid_t victim_tid;
static long victim_result = 1;

static void *requeue_waiter(void *arg) {
    ready++;
    while (qa == 0) futex(&qa, FUTEX_WAIT, 0, NULL, NULL, 0);
    return NULL;
}

static void *wakeop_waiter(void *arg) {
    ready++;
    while (wc == 0) futex(&wc, FUTEX_WAIT, 0, NULL, NULL, 0);
    return NULL;
}

static void on_usr1(int sig) { handled = sig; }

static void *victim(void *arg) {
    victim_tid = syscall(SYS_gettid);
    ready++;
    victim_result = futex(&sig_word, FUTEX_WAIT, 0, NULL, NULL, 0);
    return NULL;
}

static atomic_int never;
static void *waits_forever(void *arg) {
    ready++;
    futex(&never, FUTEX_WAIT, 0, NULL, NULL, 0);
    return NULL;
}

static void wait_ready(int n) {
    while (ready < n) sched_yield();
    struct timespec pause = {0, 30 * 1000 * 1000};
    nanosleep(&pause, NULL);   /* let them reach their wait */
}

int main(void) {
    struct timespec rel = {0, 5 * 1000 * 1000};
    printf("relative timeout: %s\n", strerror(-futex(&word, FUTEX_WAIT, 0, &rel, NULL, 0)));
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 5 * 1000 * 1000;
    if (abs.tv_nsec >= 1000000000) { abs.tv_sec++; abs.tv_nsec -= 1000000000; }
    printf("absolute timeout: %s\n", strerror(-futex(&word, FUTEX_WAIT_BITSET, 0, &abs, NULL, -1)));
    printf("value changed: %s\n", strerror(-futex(&word, FUTEX_WAIT, 1, NULL, NULL, 0)));

    pthread_t t[3];
    pthread_create(&t[0], NULL, requeue_waiter, NULL);
    pthread_create(&t[1], NULL, requeue_waiter, NULL);
    wait_ready(2);
    printf("cmp_requeue with a stale value: %s\n", strerror(-futex(&qa, FUTEX_CMP_REQUEUE, 1, (void *)1L, &qb, 7)));
    qa = 1;
    long n = futex(&qa, FUTEX_CMP_REQUEUE, 1, (void *)1L, &qb, 1);
    long m = futex(&qb, FUTEX_WAKE, 1, NULL, NULL, 0);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    printf("cmp_requeue: %ld woken or moved, then %ld woken on the second word\n", n, m);

    ready = 0;
    pthread_create(&t[2], NULL, wakeop_waiter, NULL);
    wait_ready(1);
    n = futex(&wd, FUTEX_WAKE_OP, 1, (void *)1L, &wc, FUTEX_OP(1 /* ADD */, 5, 0 /* EQ */, 0));
    pthread_join(t[2], NULL);
    printf("wake_op: %ld woken, word now %d\n", n, (int)wc);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;    /* no SA_RESTART: the interrupted wait returns EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    ready = 0;
    pthread_t v;
    pthread_create(&v, NULL, victim, NULL);
    wait_ready(1);
    printf("tgkill: %ld\n", syscall(SYS_tgkill, getpid(), victim_tid, SIGUSR1));
    pthread_join(v, NULL);
    printf("the victim's wait: %s, its handler ran: %d\n", strerror(-victim_result), (int)handled);
    printf("tgkill to a thread that is gone: %s\n",
           syscall(SYS_tgkill, getpid(), victim_tid, SIGUSR1) < 0 ? strerror(errno) : "delivered");

    ready = 0;
    pthread_t w;
    pthread_create(&w, NULL, waits_forever, NULL);
    wait_ready(1);
    for (int i = 0; i < 100; i++) sched_yield();    /* nothing else can run: no switch */
    printf("yields while the other thread waits: done\n");
    return 0;    /* exit_group ends the waiting thread too */
}
