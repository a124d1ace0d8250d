/* ids: the user and group id system calls, printed one per line.
 *
 * With no argument, only calls that leave the credentials as they are (so a
 * native run and a recording print the same, whoever runs them), plus the
 * EPERM/EINVAL/EFAULT answers; an unprivileged process also tries changes it
 * may not make.  With "change" (a root process), it asks for a real change,
 * which ttdbg refuses with ENOSYS.  Raw syscall() throughout: no wrapper
 * logic between the program and the kernel. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r) {
    if (r < 0)
        printf("%-40s -> %ld errno %d (%s)\n", what, r, errno, strerror(errno));
    else
        printf("%-40s -> %ld\n", what, r);
    errno = 0;
}

#define CALL(...) show(#__VA_ARGS__, syscall(__VA_ARGS__))

int main(int argc, char **argv) {
    unsigned r = 1, e = 1, s = 1;
    long uid = syscall(SYS_getuid), euid = syscall(SYS_geteuid);
    long gid = syscall(SYS_getgid), egid = syscall(SYS_getegid);
    printf("uid %ld euid %ld gid %ld egid %ld\n", uid, euid, gid, egid);

    if (argc > 1 && strcmp(argv[1], "change") == 0) {
        CALL(SYS_setuid, uid + 4242);
        CALL(SYS_setresgid, -1, egid + 4242, -1);
        CALL(SYS_setfsuid, uid + 4242);
        gid_t none[1] = {0};
        CALL(SYS_setgroups, 0, none);
        CALL(SYS_getresuid, &r, &e, &s);
        printf("resuid %u %u %u\n", r, e, s);
        return 0;
    }

    CALL(SYS_getresuid, &r, &e, &s);
    printf("resuid %u %u %u\n", r, e, s);
    CALL(SYS_getresgid, &r, &e, &s);
    printf("resgid %u %u %u\n", r, e, s);
    CALL(SYS_getresuid, NULL, &e, &s);
    CALL(SYS_getresgid, &r, &e, (void *)8);

    CALL(SYS_setuid, uid);
    CALL(SYS_setgid, gid);
    CALL(SYS_setuid, -1);
    CALL(SYS_setgid, -1);
    CALL(SYS_setreuid, -1, -1);
    CALL(SYS_setregid, -1, -1);
    CALL(SYS_setreuid, uid, euid);
    CALL(SYS_setregid, gid, egid);
    CALL(SYS_setresuid, -1, -1, -1);
    CALL(SYS_setresgid, -1, -1, -1);
    CALL(SYS_setresuid, uid, euid, euid);
    CALL(SYS_setresgid, gid, egid, egid);
    CALL(SYS_setfsuid, -1);
    CALL(SYS_setfsgid, -1);
    CALL(SYS_setfsuid, euid);
    CALL(SYS_setfsgid, egid);
    CALL(SYS_setgroups, 70000, NULL);

    if (euid != 0) {   /* what an unprivileged process may not do */
        CALL(SYS_setuid, uid + 4242);
        CALL(SYS_setgid, gid + 4242);
        CALL(SYS_setreuid, uid + 4242, -1);
        CALL(SYS_setreuid, -1, euid + 4242);
        CALL(SYS_setregid, gid + 4242, -1);
        CALL(SYS_setresuid, -1, -1, uid + 4242);
        CALL(SYS_setresgid, egid + 4242, -1, -1);
        CALL(SYS_setfsuid, uid + 4242);      /* returns the old fsuid, changes nothing */
        CALL(SYS_setfsgid, gid + 4242);
        CALL(SYS_setfsuid, -1);
        CALL(SYS_setgroups, 0, NULL);
    }
    CALL(SYS_getresuid, &r, &e, &s);
    printf("resuid %u %u %u\n", r, e, s);
    return 0;
}
