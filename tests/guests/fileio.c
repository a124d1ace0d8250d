/* fileio: file system calls on real host files.
 * argv[1]: a temporary file to create, write, read back, stat, lseek and
 * unlink; argv[2]: a directory to list with opendir/readdir (sorted). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: fileio TMPFILE DIR\n");
        return 2;
    }
    const char *msg = "The quick brown fox jumps over the lazy dog.\n";
    int fd = open(argv[1], O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0) { perror("open"); return 1; }
    ssize_t w = write(fd, msg, strlen(msg));
    printf("wrote %zd bytes\n", w);
    off_t pos = lseek(fd, 4, SEEK_SET);
    char buf[64] = {0};
    ssize_t r = read(fd, buf, 5);
    printf("lseek -> %lld, read %zd: '%s'\n", (long long)pos, r, buf);
    printf("end at %lld\n", (long long)lseek(fd, 0, SEEK_END));
    close(fd);

    struct stat st;
    if (stat(argv[1], &st) != 0) { perror("stat"); return 1; }
    printf("size %lld, regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));

    FILE *f = fopen(argv[1], "r");
    if (!f) { perror("fopen"); return 1; }
    memset(buf, 0, sizeof buf);
    if (!fgets(buf, sizeof buf, f)) { perror("fgets"); return 1; }
    fclose(f);
    printf("read back: %s", buf);

    DIR *d = opendir(argv[2]);
    if (!d) { perror("opendir"); return 1; }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("%d entries:", n);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");

    printf("unlink %d\n", unlink(argv[1]));
    printf("exists after unlink: %d\n", access(argv[1], F_OK) == 0);
    return 0;
}
