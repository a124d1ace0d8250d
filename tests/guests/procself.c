/* The guest's own /proc: fd/ and fdinfo/ (listing, readlink, stat, reopen),
 * statm, environ, comm, cmdline, mountinfo and mounts, /proc/thread-self.
 * What differs from a native run by nature (pipe inode numbers) is masked. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return (size_t)-1;
    size_t n = 0;
    ssize_t r;
    while (n < size && (r = read(fd, buf + n, size - n)) > 0)
        n += r;
    close(fd);
    return n;
}

static unsigned fnv(const char *p, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static void mask_digits(char *s)      /* pipe:[1234] -> pipe:[N] */
{
    char *b = strchr(s, '[');
    if (b && b[1] >= '0' && b[1] <= '9')
        strcpy(b, "[N]");
}

static int by_number(const struct dirent **a, const struct dirent **b)
{
    return atoi((*a)->d_name) - atoi((*b)->d_name);
}

int main(int argc, char **argv)
{
    static char buf[1 << 16];
    int file = open(argv[0], O_RDONLY | O_CLOEXEC);
    char three[3];
    if (read(file, three, 3) != 3)
        return 1;
    int p[2];
    if (pipe(p) != 0)
        return 2;
    int efd = eventfd(0, 0);
    int nul = open("/dev/null", O_WRONLY | O_APPEND);

    struct dirent **names;
    int n = scandir("/proc/self/fd", &names, NULL, by_number);
    printf("fd entries: %d\n", n);
    for (int i = 0; i < n; i++) {
        char path[64], link[256] = {0};
        snprintf(path, sizeof path, "/proc/self/fd/%s", names[i]->d_name);
        ssize_t len = readlink(path, link, sizeof link - 1);
        int fd = atoi(names[i]->d_name);
        if (names[i]->d_name[0] == '.') {
            printf("  %s\n", names[i]->d_name);
        } else if (fd == file) {
            printf("  %d -> the program (%s)\n", fd, len > 0 && strcmp(link, argv[0]) != 0 ? "realpath" : "argv0");
        } else if (fd > 2) {          /* stdin/stdout/stderr are the test's own (pipes natively and recorded) */
            mask_digits(link);
            printf("  %d -> %s (type %d)\n", fd, len > 0 ? link : "?", names[i]->d_type);
        }
        free(names[i]);
    }
    free(names);

    char info[64];
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", file);
    size_t m = slurp(info, buf, sizeof buf - 1);
    buf[m == (size_t)-1 ? 0 : m] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        if (!strncmp(line, "pos:", 4) || !strncmp(line, "flags:", 6))
            printf("fdinfo %s\n", line);

    struct stat via_link, direct;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", file);
    stat(path, &via_link);
    fstat(file, &direct);
    printf("stat through fd link: %s\n", via_link.st_size == direct.st_size && via_link.st_ino == direct.st_ino
           ? "same file" : "different");
    lstat(path, &via_link);
    printf("lstat: link %d\n", S_ISLNK(via_link.st_mode));
    int again = open(path, O_RDONLY);
    char first[4] = {0};
    ssize_t got = read(again, first, 4);
    printf("reopen: %s, %zd bytes: %.3s\n", again > 0 ? "ok" : "failed", got, first + 1);
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    int w2 = open(path, O_WRONLY);
    printf("reopen pipe: write %zd\n", write(w2, "x", 1));
    char c = 0;
    got = read(p[0], &c, 1);
    printf("read back: %zd %c\n", got, c);

    m = slurp("/proc/self/statm", buf, sizeof buf - 1);
    buf[m] = 0;
    long f[7];
    int fields = sscanf(buf, "%ld %ld %ld %ld %ld %ld %ld", f, f + 1, f + 2, f + 3, f + 4, f + 5, f + 6);
    printf("statm: %d fields, size>0 %d\n", fields, f[0] > 0);
    m = slurp("/proc/self/environ", buf, sizeof buf);
    printf("environ: %zu bytes, fnv %08x\n", m, fnv(buf, m));
    m = slurp("/proc/thread-self/comm", buf, sizeof buf);
    printf("thread-self comm: %.*s", (int)m, buf);
    m = slurp("/proc/self/cmdline", buf, sizeof buf);
    printf("cmdline: %zu bytes, args after argv0: %s\n", m, buf + strlen(buf) + 1);
    m = slurp("/proc/self/mountinfo", buf, sizeof buf);
    printf("mountinfo: fnv %08x, has root %d\n", fnv(buf, m), strstr(buf, " / / ") != NULL);
    m = slurp("/proc/self/mounts", buf, sizeof buf);
    printf("mounts: fnv %08x\n", fnv(buf, m));
    printf("missing fd link: %zd\n", readlink("/proc/self/fd/99", buf, 10));
    close(efd);
    close(nul);
    return 0;
}
