/*
 * Checkpoint page comparison, in C.
 *
 * Why this file exists: a checkpoint keeps a shadow copy of guest RAM and
 * saves only the pages that changed since the previous one.  Comparing 64 MiB
 * page by page takes about 5 ms here and about 240 ms in Python
 * (../shared/UNICORN-FACTS.md).  Linked into the same module as _icount.c
 * and loaded with ctypes (replay/icount.py declares its signature).
 */
#include <stdint.h>
#include <string.h>

/* Page-compare helpers for checkpoints: copy the pages of `cur` that differ
 * from `prev` into `out` (packed), writing their indexes to `idx`; returns
 * the number of differing pages. */
uint64_t tt_diff_pages(const uint8_t *cur, const uint8_t *prev, uint64_t npages,
                       uint64_t page_size, uint8_t *out, uint64_t *idx)
{
    uint64_t n = 0;
    for (uint64_t p = 0; p < npages; p++) {
        const uint8_t *a = cur + p * page_size;
        const uint8_t *b = prev + p * page_size;
        if (memcmp(a, b, page_size) != 0) {
            if (out)
                memcpy(out + n * page_size, a, page_size);
            if (idx)
                idx[n] = p;
            n++;
        }
    }
    return n;
}
