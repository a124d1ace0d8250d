/* stdin_echo: reads lines from stdin (read(2) through stdio) and echoes each
 * one upper-cased with its number; prints the count at EOF.  Replay must
 * reproduce the output with no input at all. */
#include <ctype.h>
#include <stdio.h>

int main(void) {
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, stdin)) {
        for (char *p = line; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        printf("%d: %s", ++n, line);
    }
    printf("read %d lines\n", n);
    return 0;
}
