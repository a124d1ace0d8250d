/* Two threads each wait on a futex word nobody will ever change: a deadlock. */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static int never;

static void *stuck(void *arg) {
    syscall(SYS_futex, &never, 0 /* FUTEX_WAIT */, 0, NULL, NULL, 0);
    return NULL;
}

int main(void) {
    pthread_t t;
    printf("before the deadlock\n");
    fflush(stdout);
    pthread_create(&t, NULL, stuck, NULL);
    pthread_join(t, NULL);
    printf("never printed\n");
    return 0;
}
