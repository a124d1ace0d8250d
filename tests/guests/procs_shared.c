/* MAP_SHARED memory across fork (issue 9): a process-shared semaphore and raw
   futex words in it, used by parent and children; MAP_PRIVATE stays private. */
#include <linux/futex.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared { sem_t lock; sem_t done; long counter; int word; };

static long futex(int *uaddr, int op, int val) { return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0); }

int main(void) {
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *private_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED || private_page == MAP_FAILED) return 1;
    sem_init(&s->lock, 1, 1);
    sem_init(&s->done, 1, 0);
    *private_page = 7;
    for (int c = 0; c < 2; c++) {
        if (fork() == 0) {
            *private_page = 100 + c;
            for (int i = 0; i < 2000; i++) {
                sem_wait(&s->lock);
                long v = s->counter;
                if (i % 97 == 0) sched_yield();
                s->counter = v + 1;
                sem_post(&s->lock);
            }
            sem_post(&s->done);
            _exit(c);
        }
    }
    sem_wait(&s->done);
    sem_wait(&s->done);
    printf("counter %ld (2 children x 2000), private page still %d\n", s->counter, *private_page);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 5000; i++) __asm__ volatile("" ::: "memory");   /* let the parent wait first */
        __atomic_store_n(&s->word, 1, __ATOMIC_SEQ_CST);
        futex(&s->word, FUTEX_WAKE, 1);
        _exit(0);
    }
    while (__atomic_load_n(&s->word, __ATOMIC_SEQ_CST) == 0)
        futex(&s->word, FUTEX_WAIT, 0);
    int status, children = 0;
    while (wait(&status) > 0) children++;
    printf("parent: word %d, %d children reaped\n", s->word, children);
    return 0;
}
