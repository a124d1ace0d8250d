/* sysnums: a few system calls made by number, and the numbers printed.
 *
 * The numbers come from the architecture's own <sys/syscall.h> (the kernel's
 * unistd.h as the cross compiler sees it), so a test compares what ttdbg's
 * log and front ends show with the architecture's truth, not with ttdbg's
 * own table.  Each call is raw syscall(): the number in the register is the
 * one printed.  getuid, getppid and uname are recorded as SYSCALL events;
 * write is a CHAR_WRITE, openat a FILE_OPEN. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct utsname u;
    char line[200];
    long uid = syscall(SYS_getuid);
    long ppid = syscall(SYS_getppid);
    long un = syscall(SYS_uname, &u);
    long fd = syscall(SYS_openat, AT_FDCWD, argv[0], O_RDONLY);
    int n = snprintf(line, sizeof line, "write=%d getuid=%d getppid=%d uname=%d openat=%d\n",
                     SYS_write, SYS_getuid, SYS_getppid, SYS_uname, SYS_openat);
    syscall(SYS_write, 1, line, n);
    printf("ok %d %d %d\n", uid >= 0, ppid > 0, un == 0 && fd >= 0);
    return 0;
}
