/* cat_raw: copies stdin to stdout with read(2)/write(2) on a 64 KiB buffer,
 * like cat: very few instructions between system calls.  With an input that
 * is always ready (`yes | cat_raw`) the guest never waits. */
#include <unistd.h>

static char buf[65536];

int main(void) {
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0)
            return n < 0;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(1, buf + done, (size_t)(n - done));
            if (w <= 0)
                return 1;
            done += w;
        }
    }
}
