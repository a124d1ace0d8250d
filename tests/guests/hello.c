/* hello: argv, the environment and the exit status.
 * Prints a greeting to stdout, each argument, the value of $TTDBG_GREETING
 * and a line to stderr; exits with the status given as argv[1] (default 0). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("hello from %s\n", argc > 0 ? "the guest" : "nowhere");
    for (int i = 0; i < argc; i++)
        printf("argv[%d] = %s\n", i, i == 0 ? "(program)" : argv[i]);
    const char *greeting = getenv("TTDBG_GREETING");
    printf("TTDBG_GREETING = %s\n", greeting ? greeting : "(unset)");
    fprintf(stderr, "a line on stderr\n");
    return argc > 1 ? atoi(argv[1]) : 0;
}
