/*
 * Exact guest instruction counting for Unicorn, in C.
 *
 * Why this file exists: a Python per-instruction hook runs at about 2 MIPS,
 * far too slow to count every instruction of a real program.  This tiny
 * library is registered as Unicorn callbacks through Unicorn's C API (the
 * function pointers are handed over from Python with ctypes, so nothing here
 * links against Unicorn or Capstone at build time):
 *
 *  - a UC_HOOK_BLOCK callback adds each translated block's instruction count
 *    (cached per (address, size), decoded once with Capstone) to `icount`;
 *  - before a block that would cross `limit` it stops the emulator, so the
 *    block does not run; the caller then counts the tail exactly with
 *  - a UC_HOOK_CODE callback bounded to that one block (precise mode), which
 *    counts instruction by instruction and stops exactly at `limit`;
 *  - `soft_limit` and `stop_request` stop at the next block boundary (time
 *    slices, Ctrl-C, gdb's interrupt) without any exactness requirement.
 *
 * It is built as a CPython extension module only so that setuptools builds
 * it; Python loads it with ctypes.
 */
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int (*uc_emu_stop_fn)(void *uc);
typedef int (*uc_mem_read_fn)(void *uc, uint64_t address, void *bytes, uint64_t size);
typedef size_t (*cs_disasm_fn)(size_t handle, const uint8_t *code, size_t code_size,
                               uint64_t address, size_t count, void **insn);
typedef void (*cs_free_fn)(void *insn, size_t count);

enum {
    TT_STOP_NONE = 0,
    TT_STOP_LIMIT = 1,      /* the next block would cross `limit` */
    TT_STOP_SOFT = 2,       /* icount reached soft_limit (block boundary) */
    TT_STOP_REQUEST = 3,    /* stop_request was set (interrupt) */
    TT_STOP_EXACT = 4,      /* precise mode reached `limit` exactly */
};

struct tt_entry {
    uint64_t addr;
    uint32_t size;
    uint32_t count;   /* 0 = empty slot */
};

struct tt_counter {
    uint64_t icount;             /* instructions retired so far */
    uint64_t limit;              /* exact stop position */
    uint64_t soft_limit;         /* stop at a block boundary at or after this */
    uint64_t block_start_icount; /* icount before the current block ran */
    uint64_t block_addr;         /* the current (last entered) block */
    uint32_t block_size;
    uint32_t block_count;
    uint64_t pending_addr;       /* block that would have crossed `limit` */
    uint32_t pending_size;
    uint32_t stop_reason;
    uint32_t precise;            /* code hook counts; block hook only tracks */
    volatile uint32_t stop_request;
    uint64_t blocks_decoded;     /* cache misses (statistics) */
    volatile uint64_t fast_limit; /* min(limit, soft_limit), or 0: see tt_block_hook */
    /* private */
    void *uc;
    uc_emu_stop_fn emu_stop;
    uc_mem_read_fn mem_read;
    cs_disasm_fn cs_disasm;
    cs_free_fn cs_free;
    size_t cs_handle;
    struct tt_entry *table;
    uint64_t table_mask;
    uint64_t table_used;
};

/* Cheap on purpose: it runs for every block executed.  Block addresses
 * are byte-granular, so their low bits spread well; collisions probe. */
static inline uint64_t hash_key(uint64_t addr, uint32_t size)
{
    return addr ^ (addr >> 12) ^ ((uint64_t)size << 5);
}

static int table_alloc(struct tt_counter *c, uint64_t slots)
{
    c->table = calloc(slots, sizeof(struct tt_entry));
    if (!c->table)
        return -1;
    c->table_mask = slots - 1;
    c->table_used = 0;
    return 0;
}

static void table_insert(struct tt_counter *c, uint64_t addr, uint32_t size, uint32_t count)
{
    uint64_t i = hash_key(addr, size) & c->table_mask;
    while (c->table[i].count && !(c->table[i].addr == addr && c->table[i].size == size))
        i = (i + 1) & c->table_mask;
    if (!c->table[i].count)
        c->table_used++;
    c->table[i].addr = addr;
    c->table[i].size = size;
    c->table[i].count = count;
}

static void table_grow(struct tt_counter *c)
{
    struct tt_entry *old = c->table;
    uint64_t old_slots = c->table_mask + 1;
    if (table_alloc(c, old_slots * 2) != 0) {
        c->table = old; /* keep the old table; lookups still work */
        return;
    }
    for (uint64_t i = 0; i < old_slots; i++)
        if (old[i].count)
            table_insert(c, old[i].addr, old[i].size, old[i].count);
    free(old);
}

/* Number of instructions in [addr, addr+size), decoded with Capstone. */
static uint32_t decode_count(struct tt_counter *c, uint64_t addr, uint32_t size)
{
    uint8_t stack_buf[4096];
    uint8_t *buf = size <= sizeof(stack_buf) ? stack_buf : malloc(size);
    uint32_t count = 0;
    if (!buf)
        return 1;
    if (c->mem_read(c->uc, addr, buf, size) == 0) {
        void *insn = NULL;
        size_t n = c->cs_disasm(c->cs_handle, buf, size, addr, 0, &insn);
        if (insn)
            c->cs_free(insn, n);
        count = (uint32_t)n;
    }
    if (buf != stack_buf)
        free(buf);
    /* A block always holds at least one instruction; Capstone may reject one
     * that Unicorn translates (it then faults, and the caller recomputes). */
    return count ? count : 1;
}

static uint32_t block_count(struct tt_counter *c, uint64_t addr, uint32_t size)
{
    uint64_t i = hash_key(addr, size) & c->table_mask;
    for (;;) {
        struct tt_entry *e = &c->table[i];
        if (!e->count)
            break;
        if (e->addr == addr && e->size == size)
            return e->count;
        i = (i + 1) & c->table_mask;
    }
    uint32_t n = decode_count(c, addr, size);
    c->blocks_decoded++;
    if ((c->table_used + 1) * 2 > c->table_mask + 1)
        table_grow(c);
    table_insert(c, addr, size, n);
    return n;
}

static void block_hook_slow(struct tt_counter *c, void *uc, uint64_t addr, uint32_t size)
{
    if (c->precise) {
        c->block_addr = addr;
        c->block_size = size;
        c->block_start_icount = c->icount;
        return;
    }
    if (c->stop_request) {
        c->stop_reason = TT_STOP_REQUEST;
        c->emu_stop(uc);
        return;
    }
    if (c->icount >= c->soft_limit) {
        c->stop_reason = TT_STOP_SOFT;
        c->emu_stop(uc);
        return;
    }
    uint32_t n = block_count(c, addr, size);
    if (c->icount + n > c->limit) {
        c->stop_reason = TT_STOP_LIMIT;
        c->pending_addr = addr;
        c->pending_size = size;
        c->emu_stop(uc);
        return;
    }
    c->block_start_icount = c->icount;
    c->block_addr = addr;
    c->block_size = size;
    c->block_count = n;
    c->icount += n;
}

void tt_block_hook(void *uc, uint64_t addr, uint32_t size, void *user)
{
    struct tt_counter *c = user;
    /* Fast path: the block's count is cached at its home slot and running it
     * stays within fast_limit = min(limit, soft_limit), which the caller sets
     * to 0 to force the slow path (precise mode, a stop request). */
    const struct tt_entry *e = &c->table[hash_key(addr, size) & c->table_mask];
    if (__builtin_expect(e->addr == addr && e->size == size, 1)) {
        uint64_t next = c->icount + e->count;
        if (__builtin_expect(next <= c->fast_limit && e->count, 1)) {
            c->block_start_icount = c->icount;
            c->block_addr = addr;
            c->block_size = size;
            c->block_count = e->count;
            c->icount = next;
            return;
        }
    }
    block_hook_slow(c, uc, addr, size);
}

void tt_code_hook(void *uc, uint64_t addr, uint32_t size, void *user)
{
    struct tt_counter *c = user;
    (void)addr;
    (void)size;
    if (!c->precise)
        return;
    if (c->icount >= c->limit) {
        c->stop_reason = TT_STOP_EXACT;
        c->emu_stop(uc);
        return;
    }
    c->icount++;
}

struct tt_counter *tt_counter_new(void *uc, void *emu_stop, void *mem_read,
                                  void *cs_disasm, void *cs_free, size_t cs_handle)
{
    struct tt_counter *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (table_alloc(c, 1 << 14) != 0) {
        free(c);
        return NULL;
    }
    c->limit = UINT64_MAX;
    c->soft_limit = UINT64_MAX;
    c->fast_limit = UINT64_MAX;
    c->uc = uc;
    c->emu_stop = (uc_emu_stop_fn)emu_stop;
    c->mem_read = (uc_mem_read_fn)mem_read;
    c->cs_disasm = (cs_disasm_fn)cs_disasm;
    c->cs_free = (cs_free_fn)cs_free;
    c->cs_handle = cs_handle;
    return c;
}

/* Forget decoded block sizes (after code pages were replaced or unmapped). */
void tt_counter_clear_cache(struct tt_counter *c)
{
    memset(c->table, 0, (c->table_mask + 1) * sizeof(struct tt_entry));
    c->table_used = 0;
}

void tt_counter_free(struct tt_counter *c)
{
    if (!c)
        return;
    free(c->table);
    free(c);
}

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

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_icount",
    "Exact instruction counting callbacks for Unicorn (loaded with ctypes).",
    -1, NULL,
};

PyMODINIT_FUNC PyInit__icount(void)
{
    return PyModule_Create(&module);
}
