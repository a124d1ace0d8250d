/* File metadata and names, done for real: times, modes, owners, links,
 * renameat2 flags, FIFOs, extended attributes, fallocate, sync_file_range,
 * record locks and flock; then a table of bad arguments.  Every line is the
 * call's result and errno, and what stat then says.
 * Usage: metadata DIR (an empty directory). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif
#ifndef SYNC_FILE_RANGE_WRITE
#define SYNC_FILE_RANGE_WRITE 2
#endif

#define T(name, expr) do { errno = 0; long r_ = (long)(expr); \
    printf("%-28s %ld %d\n", name, r_, r_ < 0 ? errno : 0); } while (0)

static char dir[400];

static const char *at(const char *name)
{
    static char bufs[4][512];
    static int n;
    char *b = bufs[n++ % 4];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

static void show(const char *name)
{
    struct stat st;
    if (lstat(at(name), &st) != 0) {
        printf("  %s: missing (%d)\n", name, errno);
        return;
    }
    printf("  %s: mode %o nlink %lu size %lld", name, st.st_mode, (unsigned long)st.st_nlink, (long long)st.st_size);
    if (st.st_mtim.tv_sec < 1600000000)   /* times the program set (others are the clock's) */
        printf(" atime %lld.%09ld mtime %lld.%09ld", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
               (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    printf("\n");
}

static long lock(int fd, int cmd, short type, off_t start, off_t len, struct flock *out)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    long r = fcntl(fd, cmd, &fl);
    if (out)
        *out = fl;
    return r;
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : ".");
    umask(022);
    int fd = open(at("f1"), O_RDWR | O_CREAT | O_TRUNC, 0666);
    if (fd < 0 || write(fd, "data", 4) != 4)
        return 1;

    /* times */
    struct timespec ts[2] = {{1000000000, 5}, {1234567890, 123456789}};
    T("utimensat path", syscall(SYS_utimensat, AT_FDCWD, at("f1"), ts, 0));
    show("f1");
    struct timespec omit[2] = {{0, UTIME_OMIT}, {1500000000, 42}};
    T("utimensat fd (futimens)", syscall(SYS_utimensat, fd, NULL, omit, 0));
    show("f1");
    struct timeval tv[2] = {{1100000000, 7}, {1100000001, 999999}};
    T("utimes", utimes(at("f1"), tv));
    show("f1");
    struct utimbuf ub = {1200000000, 1200000001};
    T("utime", utime(at("f1"), &ub));
    show("f1");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    T("futimesat", syscall(SYS_futimesat, dfd, "f1", tv));
    show("f1");

    /* modes and owners */
    T("fchmod", fchmod(fd, 0600));
    show("f1");
    T("fchmodat", fchmodat(dfd, "f1", 0640, 0));
    show("f1");
    T("chmod", chmod(at("f1"), 0604));
    show("f1");
    T("fchown -1 -1", fchown(fd, -1, -1));
    T("fchownat own ids", fchownat(AT_FDCWD, at("f1"), getuid(), getgid(), 0));
    T("chown to 0:0", chown(at("f1"), 0, 0) == 0 || errno == EPERM);
    T("fchown back", fchown(fd, getuid(), getgid()));

    /* links */
    T("symlink", symlink("f1", at("l1")));
    T("symlinkat", symlinkat("nowhere", dfd, "l2"));
    char target[64] = {0};
    T("readlink", readlink(at("l1"), target, sizeof target - 1));
    printf("  l1 -> %s\n", target);
    show("l2");
    T("lchown own ids", lchown(at("l2"), getuid(), getgid()));
    T("symlink exists", symlink("f1", at("l1")));
    T("link", link(at("f1"), at("h1")));
    show("f1");
    T("linkat follow", linkat(AT_FDCWD, at("l1"), dfd, "h2", AT_SYMLINK_FOLLOW));
    show("h2");
    T("linkat nofollow", linkat(AT_FDCWD, at("l1"), dfd, "h3", 0));
    show("h3");

    /* renameat2 */
    int g = open(at("f2"), O_WRONLY | O_CREAT, 0644);
    T("write f2", write(g, "other", 5));
    close(g);
    T("renameat2 noreplace", syscall(SYS_renameat2, AT_FDCWD, at("f2"), AT_FDCWD, at("f1"), RENAME_NOREPLACE));
    T("renameat2 exchange", syscall(SYS_renameat2, AT_FDCWD, at("f2"), AT_FDCWD, at("h1"), RENAME_EXCHANGE));
    show("f2");
    show("h1");
    T("renameat2 to new", syscall(SYS_renameat2, dfd, "h1", dfd, "h4", RENAME_NOREPLACE));
    show("h4");
    T("renameat2 both flags", syscall(SYS_renameat2, dfd, "f2", dfd, "h4", RENAME_NOREPLACE | RENAME_EXCHANGE));

    /* mknod */
    T("mkfifo", mkfifo(at("fifo"), 0666));
    show("fifo");
    T("mknodat regular", mknodat(dfd, "plain", S_IFREG | 0600, 0));
    show("plain");
    T("mknod chardev", mknod(at("dev"), S_IFCHR | 0600, makedev(1, 3)) == 0 || errno == EPERM);

    /* extended attributes (or ENOTSUP, as the file system says) */
    T("setxattr", setxattr(at("f1"), "user.ttdbg", "v1", 2, 0));
    char val[32] = {0};
    T("getxattr", getxattr(at("f1"), "user.ttdbg", val, sizeof val));
    printf("  value %s\n", val);
    T("setxattr create exists", setxattr(at("f1"), "user.ttdbg", "v2", 2, XATTR_CREATE));
    T("fsetxattr replace", fsetxattr(fd, "user.ttdbg", "v3", 2, XATTR_REPLACE));
    T("fgetxattr", fgetxattr(fd, "user.ttdbg", val, sizeof val));
    char names[256];
    T("listxattr", listxattr(at("f1"), names, sizeof names));
    T("flistxattr", flistxattr(fd, names, sizeof names));
    T("removexattr", removexattr(at("f1"), "user.ttdbg"));
    T("getxattr removed", getxattr(at("f1"), "user.ttdbg", val, sizeof val));
    T("fremovexattr missing", fremovexattr(fd, "user.ttdbg"));

    /* space, syncs, locks */
    T("fallocate", fallocate(fd, 0, 0, 8192));
    T("fallocate keep size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 4096));
    show("f2");
    T("sync_file_range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
    T("syncfs", syncfs(fd));
    sync();
    T("truncate", truncate(at("f2"), 3));
    show("f2");
    struct flock seen;
    T("F_SETLK write", lock(fd, F_SETLK, F_WRLCK, 0, 10, NULL));
    T("F_GETLK own", lock(fd, F_GETLK, F_WRLCK, 0, 10, &seen));
    printf("  type %d\n", seen.l_type);
    int fd2 = open(at("f2"), O_RDWR);
    T("F_OFD_GETLK other open", lock(fd2, F_OFD_GETLK, F_WRLCK, 0, 10, &seen));
    printf("  type %d start %lld len %lld\n", seen.l_type, (long long)seen.l_start, (long long)seen.l_len);
    T("F_OFD_SETLK other open", lock(fd2, F_OFD_SETLK, F_WRLCK, 0, 10, NULL));
    T("F_OFD_SETLKW free range", lock(fd2, F_OFD_SETLKW, F_RDLCK, 20, 10, NULL));
    T("F_SETLKW", lock(fd, F_SETLKW, F_UNLCK, 0, 10, NULL));
    T("F_OFD_SETLK now", lock(fd2, F_OFD_SETLK, F_WRLCK, 0, 10, NULL));
    T("flock ex", flock(fd, LOCK_EX));
    T("flock other open nb", flock(fd2, LOCK_EX | LOCK_NB));
    T("flock un", flock(fd, LOCK_UN));
    T("flock other open", flock(fd2, LOCK_EX | LOCK_NB));

    /* bad arguments */
    int p[2];
    if (pipe(p) != 0)
        return 2;
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    T("utimensat bad nsec", syscall(SYS_utimensat, AT_FDCWD, at("f1"), bad, 0));
    T("utimensat bad pointer", syscall(SYS_utimensat, AT_FDCWD, at("f1"), (void *)8, 0));
    T("utimensat bad fd", syscall(SYS_utimensat, 99, NULL, NULL, 0));
    T("utimensat missing", syscall(SYS_utimensat, AT_FDCWD, at("none"), NULL, 0));
    T("utimensat bad flags", syscall(SYS_utimensat, AT_FDCWD, at("f1"), NULL, 0x4000000));
    T("utimensat NULL path", syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0));
    T("utimensat empty path", syscall(SYS_utimensat, AT_FDCWD, "", NULL, 0));
    T("futimesat bad usec", syscall(SYS_futimesat, AT_FDCWD, at("f1"), (struct timeval[2]){{0, 1000000}, {0, 0}}));
    T("fchmod bad fd", fchmod(99, 0600));
    T("fchmodat missing", fchmodat(AT_FDCWD, at("none"), 0600, 0));
    T("fchown bad fd", fchown(99, -1, -1));
    T("fchownat bad flags", syscall(SYS_fchownat, AT_FDCWD, at("f1"), -1, -1, 0x4000000));
    T("fchownat bad dirfd", syscall(SYS_fchownat, 99, "f1", -1, -1, 0));
    T("symlink empty target", syscall(SYS_symlink, "", at("l3")));
    T("symlink missing dir", symlink("f1", at("none/l3")));
    T("link missing", link(at("none"), at("h5")));
    T("renameat2 missing", syscall(SYS_renameat2, AT_FDCWD, at("none"), AT_FDCWD, at("h6"), 0));
    T("mknodat dir", mknodat(dfd, "d", S_IFDIR | 0700, 0));
    T("mknodat bad type", syscall(SYS_mknodat, dfd, "d", 0170000, 0));
    T("mknod exists", mkfifo(at("fifo"), 0600));
    T("setxattr empty name", setxattr(at("f1"), "", "v", 1, 0));
    T("setxattr bad flags", setxattr(at("f1"), "user.x", "v", 1, 8));
    T("setxattr bad value", syscall(SYS_setxattr, at("f1"), "user.x", (void *)8, 4, 0));
    T("fsetxattr bad fd", fsetxattr(99, "user.x", "v", 1, 0));
    T("getxattr missing file", getxattr(at("none"), "user.x", val, sizeof val));
    T("fallocate bad fd", fallocate(99, 0, 0, 10));
    T("fallocate pipe", fallocate(p[1], 0, 0, 10));
    T("fallocate zero length", fallocate(fd, 0, 0, 0));
    T("sync_file_range bad fd", sync_file_range(99, 0, 0, 0));
    T("sync_file_range pipe", sync_file_range(p[0], 0, 0, 0));
    T("sync_file_range flags", sync_file_range(fd, 0, 0, 64));
    T("syncfs bad fd", syncfs(99));
    T("truncate negative", truncate(at("f2"), -1));
    T("truncate missing", truncate(at("none"), 0));
    T("fcntl lock bad pointer", fcntl(fd, F_SETLK, (void *)8));
    T("fcntl lock bad type", lock(fd, F_SETLK, 7, 0, 1, NULL));
    T("flock bad fd", flock(99, LOCK_EX));
    T("flock bad op", flock(fd, 0));
    fflush(stdout);
    return 0;
}
