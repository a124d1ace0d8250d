/* POSIX timers and rt_sigsuspend, one mode per argv[1]; each prints only what
 * a native run prints too (no times, no loop counts):
 *   loop      a CLOCK_MONOTONIC SIGEV_SIGNAL timer (SIGUSR1, sigev_value 77) interrupts a busy loop
 *   periodic  a 10 ms periodic CLOCK_REALTIME timer fires 4 times into a busy loop, then is deleted
 *   thread    SIGEV_THREAD_ID: the signal goes to the thread named, not the first one
 *   suspend   sigsuspend with SIGUSR2 blocked but SIGALRM let through: a timer's SIGALRM ends it;
 *             the old mask is back after it
 *   pending   sigsuspend returns at once for a pending signal its mask unblocks
 *   abstime   TIMER_ABSTIME on CLOCK_REALTIME 20 ms ahead, nanosleep cut short (EINTR)
 *   values    timer_gettime, timer_getoverrun, a SIGEV_NONE timer, bad arguments
 *   default   no handler for the timer's SIGUSR1: the program dies of it (status 138)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t fired;
static volatile int last_code, last_value, last_tid;

static void on_sig(int sig, siginfo_t *info, void *uc)
{
    (void)uc; (void)sig;
    fired++;
    last_code = info->si_code;
    last_value = info->si_value.sival_int;
    last_tid = (int)syscall(SYS_gettid);
}

static void handle(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

static timer_t make(clockid_t clock, int sig, int value)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = sig;
    sev.sigev_value.sival_int = value;
    timer_t t;
    if (timer_create(clock, &sev, &t) != 0) { perror("timer_create"); _exit(1); }
    return t;
}

static void arm(timer_t t, long value_ms, long interval_ms, int flags)
{
    struct itimerspec its = {{interval_ms / 1000, interval_ms % 1000 * 1000000},
                             {value_ms / 1000, value_ms % 1000 * 1000000}};
    if (timer_settime(t, flags, &its, NULL) != 0) { perror("timer_settime"); _exit(1); }
}

static volatile unsigned long spin;

static void busy_until(int n)
{
    while (fired < n)
        spin++;
}

static volatile int worker_ready, worker_tid;

static void *worker(void *arg)
{
    (void)arg;
    worker_tid = (int)syscall(SYS_gettid);
    worker_ready = 1;
    busy_until(1);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "loop";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "loop")) {
        handle(SIGUSR1);
        timer_t t = make(CLOCK_MONOTONIC, SIGUSR1, 77);
        arm(t, 20, 0, 0);
        busy_until(1);
        printf("fired %d code %s value %d\n", fired, last_code == SI_TIMER ? "SI_TIMER" : "?", last_value);
        printf("delete %d\n", timer_delete(t));
    } else if (!strcmp(mode, "periodic")) {
        handle(SIGRTMIN);
        timer_t t = make(CLOCK_REALTIME, SIGRTMIN, 5);
        arm(t, 10, 10, 0);
        busy_until(4);
        timer_delete(t);
        printf("fired %d times, value %d\n", fired, last_value);
    } else if (!strcmp(mode, "thread")) {
        handle(SIGUSR1);
        sigset_t set;
        pthread_t th;
        pthread_create(&th, NULL, worker, NULL);
        while (!worker_ready)
            ;
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = SIGUSR1;
#ifdef sigev_notify_thread_id
        sev.sigev_notify_thread_id = worker_tid;
#else
        sev._sigev_un._tid = worker_tid;   /* glibc before 2.35 */
#endif
        timer_t t;
        printf("create %d\n", timer_create(CLOCK_MONOTONIC, &sev, &t));
        arm(t, 20, 0, 0);
        pthread_join(th, NULL);
        sigemptyset(&set);
        printf("fired %d in the worker: %s\n", fired, last_tid == worker_tid ? "yes" : "no");
    } else if (!strcmp(mode, "suspend")) {
        handle(SIGALRM);
        sigset_t block, old, during, after;
        sigemptyset(&block);
        sigaddset(&block, SIGALRM);
        sigaddset(&block, SIGUSR2);
        sigprocmask(SIG_BLOCK, &block, &old);
        timer_t t = make(CLOCK_MONOTONIC, SIGALRM, 1);
        arm(t, 20, 0, 0);
        sigemptyset(&during);
        sigaddset(&during, SIGUSR2);
        int r = sigsuspend(&during);
        int e = errno;
        sigprocmask(SIG_BLOCK, NULL, &after);
        printf("sigsuspend %d %s fired %d; SIGALRM blocked again: %d, SIGUSR2: %d\n", r, strerror(e), fired,
               sigismember(&after, SIGALRM), sigismember(&after, SIGUSR2));
    } else if (!strcmp(mode, "pending")) {
        handle(SIGUSR1);
        sigset_t block, none, after;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigprocmask(SIG_BLOCK, &block, NULL);
        raise(SIGUSR1);
        printf("pending, fired %d\n", fired);
        sigemptyset(&none);
        int r = sigsuspend(&none);
        sigprocmask(SIG_BLOCK, NULL, &after);
        printf("sigsuspend %d %s fired %d; blocked again %d\n", r, strerror(errno), fired,
               sigismember(&after, SIGUSR1));
    } else if (!strcmp(mode, "abstime")) {
        handle(SIGUSR2);
        timer_t t = make(CLOCK_REALTIME, SIGUSR2, 3);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        now.tv_nsec += 20000000;
        if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
        struct itimerspec its = {{0, 0}, now};
        printf("settime %d\n", timer_settime(t, TIMER_ABSTIME, &its, NULL));
        struct timespec five = {5, 0}, left;
        int r = nanosleep(&five, &left);
        printf("nanosleep %d %s fired %d, left > 4 s: %d\n", r, strerror(errno), fired, left.tv_sec >= 4);
    } else if (!strcmp(mode, "values")) {
        timer_t t = make(CLOCK_MONOTONIC, SIGUSR1, 0);
        struct itimerspec cur, its = {{2, 0}, {100, 0}};
        timer_gettime(t, &cur);
        printf("disarmed: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_interval.tv_sec);
        timer_settime(t, 0, &its, NULL);
        timer_gettime(t, &cur);
        printf("armed: value in (99, 100] %d interval %ld overrun %d\n",
               cur.it_value.tv_sec >= 99 && cur.it_value.tv_sec <= 100, (long)cur.it_interval.tv_sec,
               timer_getoverrun(t));
        struct itimerspec old, zero = {{0, 0}, {0, 0}};
        timer_settime(t, 0, &zero, &old);
        printf("old interval %ld; disarm, then gettime %d\n", (long)old.it_interval.tv_sec,
               timer_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
        struct sigevent none;
        memset(&none, 0, sizeof none);
        none.sigev_notify = SIGEV_NONE;
        timer_t quiet;
        printf("SIGEV_NONE create %d\n", timer_create(CLOCK_MONOTONIC, &none, &quiet));
        struct itimerspec soon = {{0, 0}, {0, 1000000}};
        timer_settime(quiet, 0, &soon, NULL);
        struct timespec ms5 = {0, 5000000};
        nanosleep(&ms5, NULL);
        timer_gettime(quiet, &cur);
        printf("SIGEV_NONE expired: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
        /* Bad arguments, straight to the kernel (glibc checks some itself). */
        long r;
        int id;
        r = syscall(SYS_timer_create, 12345, NULL, &id);
        printf("bad clock: %ld %s\n", r, strerror(errno));
        struct sigevent bad;
        memset(&bad, 0, sizeof bad);
        bad.sigev_notify = 99;
        r = syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id);
        printf("bad notify: %ld %s\n", r, strerror(errno));
        bad.sigev_notify = SIGEV_SIGNAL;
        bad.sigev_signo = 99;
        r = syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id);
        printf("bad signal: %ld %s\n", r, strerror(errno));
        r = syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, (void *)8);
        printf("bad id pointer: %ld %s\n", r, strerror(errno));
        r = syscall(SYS_timer_settime, 4242, 0, &its, NULL);
        printf("settime of no timer: %ld %s\n", r, strerror(errno));
        struct itimerspec badns = {{0, 0}, {0, 1000000000}};
        r = syscall(SYS_timer_settime, 0, 0, &badns, NULL);
        printf("settime nsec 1e9: %ld %s\n", r, strerror(errno));
        r = syscall(SYS_timer_settime, 0, 0, (void *)8, NULL);
        printf("settime bad pointer: %ld %s\n", r, strerror(errno));
        r = syscall(SYS_timer_gettime, 4242, &cur);
        printf("gettime of no timer: %ld %s\n", r, strerror(errno));
        r = syscall(SYS_timer_getoverrun, 4242);
        printf("getoverrun of no timer: %ld %s\n", r, strerror(errno));
        r = syscall(SYS_timer_delete, 4242);
        printf("delete of no timer: %ld %s\n", r, strerror(errno));
        sigset_t s;
        r = syscall(SYS_rt_sigsuspend, &s, 4);
        printf("sigsuspend bad size: %ld %s\n", r, strerror(errno));
        r = syscall(SYS_rt_sigsuspend, (void *)8, 8);
        printf("sigsuspend bad pointer: %ld %s\n", r, strerror(errno));
        printf("delete %d %d\n", timer_delete(t), timer_delete(quiet));
    } else if (!strcmp(mode, "default")) {
        timer_t t = make(CLOCK_MONOTONIC, SIGUSR1, 0);
        arm(t, 20, 0, 0);
        for (;;)
            spin++;
    }
    return 0;
}
