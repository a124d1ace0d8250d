/* A data race that only some interleavings show: two threads withdraw 80
   from a balance of 100.  Each reads the balance, works a while (the window),
   then writes it back.  Run one after the other, the second sees 20 and is
   refused; if a thread switch falls inside the window, both see 100 and the
   account is overdrawn.

   ttdbg's default schedule runs each thread for 50,000 instructions, so the
   window is never split; `ttdbg record --chaos` varies the slices and the
   order, and finds the overdraft within a few tries:

       gcc -O1 -o race race.c
       for i in 1 2 3 4 5; do ttdbg record --chaos ./race && continue; break; done
*/
#include <pthread.h>
#include <stdio.h>

static volatile long balance = 100;
static volatile long withdrawn;

static void *withdraw(void *arg) {
    long seen = balance;                       /* read ... */
    for (volatile int i = 0; i < 2000; i++)    /* ... the window ... */
        ;
    if (seen >= 80) {
        balance = seen - 80;                   /* ... write back */
        withdrawn += 80;
    }
    return NULL;
}

int main(void) {
    pthread_t a, b;
    pthread_create(&a, NULL, withdraw, NULL);
    pthread_create(&b, NULL, withdraw, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("withdrawn %ld, balance %ld: %s\n", withdrawn, balance,
           withdrawn + balance == 100 ? "consistent" : "RACE: money was created");
    return withdrawn + balance == 100 ? 0 : 1;
}
