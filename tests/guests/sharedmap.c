#define _GNU_SOURCE
/* MAP_SHARED file mappings: the writes reach the file (msync, munmap,
 * mremap, exit of a forked child), read() sees them, nothing past the end
 * of the file is written; and the bad arguments of msync and mmap.
 * Usage: sharedmap DIR (files DIR/a, DIR/b, DIR/c are made). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static uint32_t fnv(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void report(const char *what, const char *path)
{
    static unsigned char buf[8 * PG];
    int fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    printf("%s: %zd bytes, fnv %08x, [0]=%d [%d]=%d\n", what, n, fnv(buf, n > 0 ? n : 0), buf[0],
           2 * PG + 5, n > 2 * PG + 5 ? buf[2 * PG + 5] : -1);
}

int main(int argc, char **argv)
{
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, "%s/a", argc > 1 ? argv[1] : ".");
    snprintf(b, sizeof b, "%s/b", argc > 1 ? argv[1] : ".");
    snprintf(c, sizeof c, "%s/c", argc > 1 ? argv[1] : ".");

    /* 1: ftruncate, map, close the fd (as linkers do), write, msync one page, read it back. */
    int fd = open(a, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (ftruncate(fd, 3 * PG + 100) != 0)
        return 1;
    unsigned char *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return 2;
    close(fd);
    for (int i = 0; i < PG; i++)
        m[i] = (unsigned char)(i * 7);
    m[2 * PG + 5] = 42;
    memset(m + 3 * PG + 100, 0x55, 200);     /* past the end of the file: never written */
    printf("msync: %d\n", msync(m, PG, MS_SYNC));
    fd = open(a, O_RDWR);
    unsigned char one[16];
    ssize_t got = pread(fd, one, sizeof one, 0);
    printf("pread after msync: %zd [1]=%d\n", got, one[1]);
    unsigned char x = 0;
    got = pread(fd, &x, 1, 2 * PG + 5);
    printf("pread of an unsynced page: %zd %d\n", got, x);
    /* A write through the descriptor to a page the mapping left alone is kept. */
    printf("pwrite: %zd\n", pwrite(fd, "zz", 2, PG + 10));
    close(fd);
    m[3 * PG] = 9;
    printf("munmap: %d\n", munmap(m, 4 * PG));
    report("a", a);

    /* 2: a forked child writes a shared mapping and exits without unmapping it. */
    fd = open(b, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (write(fd, "hello, file\n", 12) != 12)
        return 3;
    m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    pid_t pid = fork();
    if (pid == 0) {
        memcpy(m, "HELLO", 5);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child: %d, mapping sees %.5s\n", WEXITSTATUS(status), (char *)m);
    char back[16] = {0};
    got = pread(fd, back, 12, 0);
    printf("pread: %zd %.12s", got, back);
    munmap(m, PG);
    close(fd);

    /* 3: mremap moves a shared mapping; then the process exits with it still mapped. */
    fd = open(c, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (ftruncate(fd, 2 * PG) != 0)
        return 4;
    m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    m[0] = 'A';
    unsigned char *m2 = mremap(m, PG, 2 * PG, MREMAP_MAYMOVE);
    printf("mremap: %s\n", m2 == MAP_FAILED ? "failed" : "ok");
    m2[PG + 1] = 'B';
    printf("c[0]=%c\n", m2[0]);

    /* 4: bad arguments. */
    int r;
    errno = 0;
    r = msync(m2 + 1, 10, MS_SYNC);
    printf("msync unaligned: %d %d\n", r, errno);
    errno = 0;
    r = msync(m2, PG, MS_SYNC | MS_ASYNC);
    printf("msync both flags: %d %d\n", r, errno);
    errno = 0;
    r = msync(m2, PG, 64);
    printf("msync bad flag: %d %d\n", r, errno);
    void *hole = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, PG);
    errno = 0;
    r = msync(hole, PG, MS_SYNC);
    printf("msync unmapped: %d %d\n", r, errno);
    int ro = open(a, O_RDONLY);
    errno = 0;
    void *bad = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
    printf("shared writable of read-only fd: %s %d\n", bad == MAP_FAILED ? "failed" : "mapped", errno);
    errno = 0;
    bad = mmap(NULL, PG, PROT_READ, MAP_SHARED, 99, 0);
    printf("bad fd: %s %d\n", bad == MAP_FAILED ? "failed" : "mapped", errno);
    close(ro);
    fflush(stdout);
    return 0;       /* c's mapping is written back as the process exits */
}
