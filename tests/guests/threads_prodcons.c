/* A futex-heavy producer/consumer: a bounded ring of 4 slots, two producers
   and two consumers built on raw futex waits and wakes. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SLOTS 4
#define ITEMS 500

static _Atomic int lock_word;          /* 0 free, 1 locked, 2 locked with waiters */
static _Atomic int changes;            /* bumped on every put or take: the wait word */
static int ring[SLOTS], head, tail, count;
static long consumed_sum[2];

static void fwait(_Atomic int *addr, int val) { syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0); }
static void fwake(_Atomic int *addr, int n) { syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0); }

static void lock(void) {
    int c = 0;
    if (atomic_compare_exchange_strong(&lock_word, &c, 1)) return;
    if (c != 2) c = atomic_exchange(&lock_word, 2);
    while (c != 0) { fwait(&lock_word, 2); c = atomic_exchange(&lock_word, 2); }
}
static void unlock(void) { if (atomic_exchange(&lock_word, 0) == 2) fwake(&lock_word, 1); }

static void *producer(void *arg) {
    long base = (long)arg;
    for (int i = 1; i <= ITEMS; i++) {
        for (;;) {
            lock();
            if (count < SLOTS) break;
            int seen = changes;
            unlock();
            fwait(&changes, seen);
        }
        ring[tail] = (int)(base + i); tail = (tail + 1) % SLOTS; count++;
        changes++;
        unlock();
        fwake(&changes, 4);
    }
    return NULL;
}

static void *consumer(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < ITEMS; i++) {
        for (;;) {
            lock();
            if (count > 0) break;
            int seen = changes;
            unlock();
            fwait(&changes, seen);
        }
        consumed_sum[id] += ring[head]; head = (head + 1) % SLOTS; count--;
        changes++;
        unlock();
        fwake(&changes, 4);
    }
    return NULL;
}

int main(void) {
    pthread_t p[2], c[2];
    pthread_create(&p[0], NULL, producer, (void *)0L);
    pthread_create(&p[1], NULL, producer, (void *)100000L);
    pthread_create(&c[0], NULL, consumer, (void *)0L);
    pthread_create(&c[1], NULL, consumer, (void *)1L);
    for (int i = 0; i < 2; i++) { pthread_join(p[i], NULL); pthread_join(c[i], NULL); }
    long total = consumed_sum[0] + consumed_sum[1];
    long expected = 2L * ITEMS * (ITEMS + 1) / 2 + 100000L * ITEMS;
    printf("total %ld expected %ld\n", total, expected);
    return total == expected ? 0 : 1;
}
