/* Resource limits, capabilities, reflink clones and protection keys, each printed so
 * record == native can be checked (tests/test_limits.py).  argv[1]: a scratch directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(long rc) { return rc < 0 ? strerror(errno) : "ok"; }

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    if (argc > 2) {                      /* after exec: the limits were kept */
        struct rlimit kept;
        getrlimit(RLIMIT_STACK, &kept);
        printf("after exec stack %lu\n", (unsigned long)kept.rlim_cur);
        return 0;
    }
    long key = syscall(SYS_pkey_alloc, 0, 0);
    printf("pkey_alloc: %s\n", key >= 0 || errno == ENOSYS || errno == EINVAL || errno == ENOSPC ? "handled" : "?");
    if (key >= 0)
        syscall(SYS_pkey_free, key);
    char src[512], dst[512];
    snprintf(src, sizeof src, "%s/clone-src", dir);
    snprintf(dst, sizeof dst, "%s/clone-dst", dir);
    int in = open(src, O_RDWR | O_CREAT | O_TRUNC, 0644);
    char block[4096];
    memset(block, 'x', sizeof block);
    write(in, block, sizeof block);
    int out = open(dst, O_RDWR | O_CREAT | O_TRUNC, 0644);
    long rc = ioctl(out, FICLONE, in);
    printf("FICLONE = %ld (%s)\n", rc, err(rc));
    struct file_clone_range range = {.src_fd = in, .src_offset = 0, .src_length = 4096, .dest_offset = 0};
    rc = ioctl(out, FICLONERANGE, &range);
    printf("FICLONERANGE = %ld (%s)\n", rc, err(rc));
    rc = ioctl(out, FICLONE, 999);
    printf("FICLONE bad fd = %ld (%s)\n", rc, err(rc));
    close(in);
    close(out);
    unlink(src);
    unlink(dst);

    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct caps[2];
    rc = syscall(SYS_capget, &hdr, caps);
    printf("capget = %ld (%s) eff=%x,%x perm=%x,%x inh=%x,%x\n", rc, err(rc), caps[0].effective,
           caps[1].effective, caps[0].permitted, caps[1].permitted, caps[0].inheritable, caps[1].inheritable);
    hdr.version = 0;
    rc = syscall(SYS_capget, &hdr, NULL);
    printf("capget probe = %ld version=%x\n", rc, hdr.version);
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    rc = syscall(SYS_capset, &hdr, caps);
    printf("capset same = %ld (%s)\n", rc, err(rc));

    struct rlimit rl, again;
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("nofile soft>=16: %d\n", rl.rlim_cur >= 16);
    struct rlimit small = {12, rl.rlim_max};
    rc = setrlimit(RLIMIT_NOFILE, &small);
    getrlimit(RLIMIT_NOFILE, &again);
    printf("setrlimit nofile = %ld (%s) now %lu\n", rc, err(rc), (unsigned long)again.rlim_cur);
    int last = -1, fd;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        last = fd;
    printf("opened up to fd %d then %s\n", last, strerror(errno));
    rc = fcntl(0, F_DUPFD, 12);
    printf("F_DUPFD above = %ld (%s)\n", rc, err(rc));
    rc = dup2(0, 20);
    printf("dup2 above = %ld (%s)\n", rc, err(rc));
    struct rlimit bad = {20, 10};
    rc = setrlimit(RLIMIT_NOFILE, &bad);
    printf("soft above hard = %ld (%s)\n", rc, err(rc));
    struct rlimit stack = {1 << 24, RLIM_INFINITY}, old;
    rc = prlimit(0, RLIMIT_STACK, &stack, &old);
    getrlimit(RLIMIT_STACK, &again);
    printf("prlimit stack = %ld (%s) now %lu\n", rc, err(rc), (unsigned long)again.rlim_cur);
    struct rlimit lower = {rl.rlim_max - 1, rl.rlim_max - 1};
    rc = setrlimit(RLIMIT_NOFILE, &lower);
    struct rlimit higher = {rl.rlim_max, rl.rlim_max};
    long raised = setrlimit(RLIMIT_NOFILE, &higher);
    printf("hard lowered = %ld, raised back = %ld (%s)\n", rc, raised, err(raised));
    pid_t child = fork();
    if (child == 0) {
        getrlimit(RLIMIT_STACK, &again);
        printf("child stack %lu\n", (unsigned long)again.rlim_cur);
        fflush(stdout);
        execl("/proc/self/exe", "limits", dir, "exec", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(child, &status, 0);
    printf("child status %d\n", status);
    return 0;
}
