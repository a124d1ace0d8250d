/* What real programs touch beyond the basics, one mode per argv[1], each
 * printing what a native run prints too (so record == native can be checked):
 *   pipestat  statx/fstat/newfstatat on pipe ends the program made
 *   proc      /proc/self/{exe,cmdline,comm,environ,status}, /proc/thread-self,
 *             /proc/<pid>: the program's own, never the recorder's
 *   locks F   fcntl F_GETLK/F_SETLK/F_OFD_GETLK, flock, fsync on scratch file F
 *   sock      socket calls on fds that are not sockets: ENOTSOCK / EBADF
 *   cpus      sysconf, get_nprocs, sched_getaffinity, /sys/.../cpu/online agree
 *   tsc       rdtsc and rdtscp values (not deterministic: checked by the test)
 *   pause     prints a line, then pause() (never returns: nobody signals it)
 *   yes       writes lines forever (ends with SIGPIPE when its reader goes)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <x86intrin.h>

extern char **environ;

/* musl's headers lack statx(): the system call itself, as Rust's std calls it,
 * with the kernel's struct statx (its head; 256 bytes in all). */
struct kstatx {
    unsigned stx_mask, stx_blksize;
    unsigned long long stx_attributes;
    unsigned stx_nlink, stx_uid, stx_gid;
    unsigned short stx_mode, pad;
    unsigned long long stx_ino, stx_size, stx_blocks, rest[26];
};
#define KSTATX_BASIC_STATS 0x7ffU

static int my_statx(int dirfd, const char *path, int flags, unsigned mask, struct kstatx *out)
{
    return (int)syscall(SYS_statx, dirfd, path, flags, mask, out);
}

static const char *kind(mode_t m)
{
    return S_ISFIFO(m) ? "fifo" : S_ISREG(m) ? "file" : S_ISCHR(m) ? "char" : S_ISSOCK(m) ? "sock" : "other";
}

static int pipestat(void)
{
    int p[2];
    if (pipe(p) != 0)
        return 1;
    for (int i = 0; i < 2; i++) {
        struct kstatx sx;
        int rc = my_statx(p[i], "", AT_EMPTY_PATH, KSTATX_BASIC_STATS, &sx);
        printf("statx(pipe[%d]) = %d %s blksize=%u nlink=%u size=%llu\n", i, rc, kind(sx.stx_mode),
               sx.stx_blksize, sx.stx_nlink, (unsigned long long)sx.stx_size);
        struct stat st;
        rc = fstat(p[i], &st);
        printf("fstat(pipe[%d]) = %d %s blksize=%ld nlink=%lu mode=%o\n", i, rc, kind(st.st_mode),
               (long)st.st_blksize, (unsigned long)st.st_nlink, st.st_mode & 0777);
        rc = fstatat(p[i], "", &st, AT_EMPTY_PATH);
        printf("fstatat(pipe[%d], \"\") = %d %s\n", i, rc, kind(st.st_mode));
    }
    struct kstatx sx;
    int rc = my_statx(99, "", AT_EMPTY_PATH, KSTATX_BASIC_STATS, &sx);
    printf("statx(99) = %d %s\n", rc, rc ? strerror(errno) : "");
    return 0;
}

static long slurp(const char *path, char *buf, long size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    long n = 0, r;
    while (n < size && (r = read(fd, buf + n, size - n)) > 0)
        n += r;
    close(fd);
    return n;
}

static int same_as_list(const char *buf, long n, char **list)
{
    long at = 0;
    for (; *list; list++) {
        long len = (long)strlen(*list) + 1;
        if (at + len > n || memcmp(buf + at, *list, len) != 0)
            return 0;
        at += len;
    }
    return at == n;
}

static int proc(int argc, char **argv)
{
    (void)argc;
    static char a[1 << 20], b[1 << 20];
    char link[4096];
    ssize_t ln = readlink("/proc/self/exe", link, sizeof link - 1);
    link[ln > 0 ? ln : 0] = 0;
    long na = slurp("/proc/self/exe", a, sizeof a);
    long nb = slurp(link, b, sizeof b);
    printf("exe: readlink is absolute: %s; opens the program: %s (%ld bytes)\n", link[0] == '/' ? "yes" : "no",
           na > 0 && na == nb && memcmp(a, b, na) == 0 ? "yes" : "no", na);
    char self[64];
    const char *dirs[] = {"/proc/self", "/proc/thread-self", self};
    snprintf(self, sizeof self, "/proc/%d", (int)getpid());
    for (int i = 0; i < 3; i++) {
        char path[128];
        const char *d = i == 2 ? "/proc/<pid>" : dirs[i];
        snprintf(path, sizeof path, "%s/cmdline", dirs[i]);
        long n = slurp(path, a, sizeof a);
        printf("%s/cmdline is argv: %s\n", d, same_as_list(a, n, argv) ? "yes" : "no");
        snprintf(path, sizeof path, "%s/environ", dirs[i]);
        n = slurp(path, a, sizeof a);
        printf("%s/environ is environ: %s\n", d, same_as_list(a, n, environ) ? "yes" : "no");
        snprintf(path, sizeof path, "%s/comm", dirs[i]);
        n = slurp(path, a, sizeof a);
        printf("%s/comm: %.*s", d, (int)(n > 0 ? n : 0), a);
        snprintf(path, sizeof path, "%s/exe", dirs[i]);
        ssize_t l = readlink(path, b, sizeof b - 1);
        printf("%s/exe -> same: %s\n", d, l == ln && memcmp(b, link, l) == 0 ? "yes" : "no");
    }
    long n = slurp("/proc/self/status", a, sizeof a - 1);
    a[n > 0 ? n : 0] = 0;
    char want[64];
    snprintf(want, sizeof want, "\nPid:\t%d\n", (int)getpid());
    printf("status has Pid: %s\n", strstr(a, want) ? "yes" : "no");
    snprintf(want, sizeof want, "\nPPid:\t%d\n", (int)getppid());
    printf("status has PPid: %s\n", strstr(a, want) ? "yes" : "no");
    char *name = strstr(a, "Name:\t");
    printf("status %.*s\n", name ? (int)strcspn(name, "\n") : 0, name ? name : "");
    printf("/proc/self/no-such-file: %ld\n", slurp("/proc/self/no-such-file", a, 16));
    printf("access(/proc/self/exe, X_OK) = %d\n", access("/proc/self/exe", X_OK));
    printf("access(/proc/self/no-such-file) = %d\n", access("/proc/self/no-such-file", F_OK));
    prctl(PR_SET_NAME, "renamed-by-prctl-long");
    n = slurp("/proc/self/comm", a, sizeof a);
    printf("after PR_SET_NAME, comm: %.*s", (int)(n > 0 ? n : 0), a);
    char name16[16] = {0};
    prctl(PR_GET_NAME, name16);
    printf("PR_GET_NAME: %s\n", name16);
    return 0;
}

static int locks(const char *scratch)
{
    int fd = open(scratch, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 1;
    if (write(fd, "0123456789", 10) != 10)
        return 1;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4};
    int rc = fcntl(fd, F_GETLK, &fl);
    printf("F_GETLK = %d l_type=%s\n", rc, fl.l_type == F_UNLCK ? "F_UNLCK" : "locked");
    fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4};
    rc = fcntl(fd, F_SETLK, &fl);
    printf("F_SETLK = %d\n", rc);
    fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4};
    rc = fcntl(fd, F_OFD_GETLK, &fl);
    printf("F_OFD_GETLK = %d l_type=%s pid is mine: %s\n", rc,
           fl.l_type == F_UNLCK ? "F_UNLCK" : fl.l_type == F_WRLCK ? "F_WRLCK" : "F_RDLCK",
           fl.l_pid == getpid() ? "yes" : "no");
    fl = (struct flock){.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4};
    printf("F_SETLK unlock = %d\n", fcntl(fd, F_SETLK, &fl));
    printf("flock(LOCK_EX) = %d\n", flock(fd, LOCK_EX));
    int fd2 = open(scratch, O_RDWR);
    rc = flock(fd2, LOCK_EX | LOCK_NB);
    printf("flock(second open, LOCK_EX|LOCK_NB) = %d %s\n", rc, rc ? strerror(errno) : "");
    printf("flock(LOCK_UN) = %d\n", flock(fd, LOCK_UN));
    rc = flock(fd2, LOCK_EX | LOCK_NB);
    printf("flock(second open) after unlock = %d\n", rc);
    printf("fsync = %d\n", fsync(fd));
    printf("fdatasync = %d\n", fdatasync(fd));
    int p[2];
    if (pipe(p) != 0)
        return 1;
    rc = fsync(p[1]);
    printf("fsync(pipe) = %d %s\n", rc, rc ? strerror(errno) : "");
    rc = flock(99, LOCK_EX);
    printf("flock(99) = %d %s\n", rc, rc ? strerror(errno) : "");
    close(fd2);
    close(fd);
    return 0;
}

static void sockcall(const char *what, int fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int rc = getpeername(fd, (struct sockaddr *)&sa, &len);
    printf("getpeername(%s) = %d %s\n", what, rc, rc ? strerror(errno) : "");
    len = sizeof sa;
    rc = getsockname(fd, (struct sockaddr *)&sa, &len);
    printf("getsockname(%s) = %d %s\n", what, rc, rc ? strerror(errno) : "");
    int v;
    len = sizeof v;
    rc = getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len);
    printf("getsockopt(%s) = %d %s\n", what, rc, rc ? strerror(errno) : "");
    rc = shutdown(fd, SHUT_RDWR);
    printf("shutdown(%s) = %d %s\n", what, rc, rc ? strerror(errno) : "");
    ssize_t n = send(fd, "x", 1, 0);
    printf("send(%s) = %zd %s\n", what, n, n < 0 ? strerror(errno) : "");
}

static int sock(void)
{
    int p[2];
    if (pipe(p) != 0)
        return 1;
    sockcall("stdin", 0);
    sockcall("pipe", p[0]);
    sockcall("99", 99);
    return 0;
}

static int cpus(void)
{
    cpu_set_t set;
    int rc = sched_getaffinity(0, sizeof set, &set);
    char online[64];
    long n = slurp("/sys/devices/system/cpu/online", online, sizeof online - 1);
    online[n > 0 ? n : 0] = 0;
    int from_online = 0;
    for (char *s = online; *s && *s != '\n';) {
        long lo = strtol(s, &s, 10), hi = lo;
        if (*s == '-')
            hi = strtol(s + 1, &s, 10);
        from_online += (int)(hi - lo + 1);
        if (*s == ',')
            s++;
    }
    long conf = sysconf(_SC_NPROCESSORS_ONLN);
    int affinity = rc == 0 ? CPU_COUNT(&set) : -1;
    printf("cpus: sysconf=%ld get_nprocs=%d affinity=%d online=%d\n", conf, get_nprocs(), affinity, from_online);
    printf("consistent: %s\n",
           conf == affinity && get_nprocs() == affinity && from_online == affinity ? "yes" : "no");
    return 0;
}

static int tsc(void)
{
    unsigned long long t1 = __rdtsc();
    unsigned aux = 0;
    unsigned long long t2 = __rdtscp(&aux);
    printf("rdtsc %llu\nrdtscp %llu aux %u\n", t1, t2, aux);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "pipestat"))
        return pipestat();
    if (!strcmp(mode, "proc"))
        return proc(argc, argv);
    if (!strcmp(mode, "locks"))
        return locks(argc > 2 ? argv[2] : "/tmp/ttdbg-realworld-locks");
    if (!strcmp(mode, "sock"))
        return sock();
    if (!strcmp(mode, "cpus"))
        return cpus();
    if (!strcmp(mode, "tsc"))
        return tsc();
    if (!strcmp(mode, "pause")) {
        printf("pausing\n");
        fflush(stdout);
        pause();
        printf("pause returned\n");
        return 3;
    }
    if (!strcmp(mode, "yes")) {
        for (long i = 0;; i++)
            printf("line %ld\n", i);
    }
    fprintf(stderr, "usage: realworld pipestat|proc|locks FILE|sock|cpus|tsc|pause|yes\n");
    return 2;
}
