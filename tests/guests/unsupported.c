/* unsupported: calls io_setup(2), which ttdbg does not emulate, twice.
 * ttdbg warns once ("unsupported system call io_setup") and returns -ENOSYS;
 * the program prints the result and errno. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    for (int i = 0; i < 2; i++) {
        unsigned long ctx = 0;  /* aio_context_t */
        errno = 0;
        long r = syscall(SYS_io_setup, 8, &ctx);
        printf("io_setup -> %ld errno %d (%s)\n", r, errno, strerror(errno));
    }
    return 0;
}
