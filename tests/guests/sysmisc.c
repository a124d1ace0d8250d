/* Less common system calls, each printed so record == native can be checked:
 * statfs/fstatfs, getxattr/listxattr, copy_file_range, sendfile, mincore,
 * getgroups, sysinfo (only its stable fields). argv[1]: a scratch file path. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/xattr.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *scratch = argc > 1 ? argv[1] : "/tmp/ttdbg-sysmisc";
    struct statfs sf;
    int rc = statfs("/", &sf);
    printf("statfs(/) = %d type=%lx bsize=%ld\n", rc, (long)sf.f_type, (long)sf.f_bsize);
    int fd = open("/etc/hostname", O_RDONLY);
    rc = fstatfs(fd, &sf);
    printf("fstatfs = %d type=%lx\n", rc, (long)sf.f_type);
    char value[64];
    ssize_t n = getxattr("/etc/hostname", "user.ttdbg-none", value, sizeof value);
    printf("getxattr = %zd errno=%s\n", n, n < 0 ? strerror(errno) : "-");
    n = listxattr("/etc/hostname", value, sizeof value);
    printf("listxattr = %zd\n", n);

    int out = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    off_t off = 0;
    ssize_t sent = sendfile(out, fd, &off, 4096);
    printf("sendfile = %zd offset=%ld\n", sent, (long)off);
    lseek(fd, 0, SEEK_SET);
    ssize_t copied = copy_file_range(fd, NULL, out, NULL, 4096, 0);
    printf("copy_file_range = %zd (%s)\n", copied, copied < 0 ? strerror(errno) : "ok");
    close(out);
    unlink(scratch);

    unsigned char vec[4];
    char *page = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[0] = 1;
    rc = mincore(page, 4 * 4096, vec);
    printf("mincore = %d first=%d\n", rc, vec[0] & 1);
    gid_t groups[64];
    int ng = getgroups(64, groups);
    printf("getgroups = %d\n", ng);
    struct sysinfo si;
    rc = sysinfo(&si);
    printf("sysinfo = %d mem_unit=%u ram>0: %d\n", rc, si.mem_unit, si.totalram > 0);
    return 0;
}
