/* readdata: reads the data file named by argv[1] and prints its size, a
 * checksum and its first line.  The trace captures the file, so replay still
 * works after the file is deleted. */
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: readdata FILE\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    unsigned long sum = 0, size = 0;
    char first[128] = {0};
    int c, i = 0, in_first = 1;
    while ((c = fgetc(f)) != EOF) {
        sum = sum * 31 + (unsigned char)c;
        size++;
        if (in_first && c != '\n' && i < 127) first[i++] = (char)c;
        else in_first = 0;
    }
    fclose(f);
    printf("size %lu sum %lx first '%s'\n", size, sum, first);
    return 0;
}
