/*
 * A guest for `ttdbg query`: it says what it does, so each query kind can be
 * checked against the program's own account.  For N iterations (argv[1],
 * default 7) it writes the global `watched` once (printing the value), reads
 * it once (the printf), and calls add() once (printing arguments and result).
 * Lines marked QUERY-* are looked up by the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile long watched;
long calls_made;
char inbuf[16];

__attribute__((noinline)) long add(long a, long b)
{
    calls_made++;
    return a * 3 + b; /* QUERY-ADD-RETURN */
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 7;
    long acc = 1;
    for (int i = 0; i < n; i++) {
        watched = i * 10 + 1; /* QUERY-WRITE-LINE */
        printf("write %ld\n", watched);
        long before = acc;
        acc = add(acc, i); /* QUERY-CALL-LINE */
        printf("call %ld %d -> %ld\n", before, i, acc);
    }
    printf("calls %ld\n", calls_made);
    long got = read(0, inbuf, 8); /* QUERY-READ */
    printf("read %ld %s\n", got, inbuf);
    return 0;
}
