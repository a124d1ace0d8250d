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
 *    slices, Ctrl-C, gdb's interrupt) without any exactness requirement;
 *  - a block holding an instruction the emulated CPU must not run (a VEX,
 *    EVEX or XOP vector instruction Unicorn does not implement correctly,
 *    rdrand/rdseed, whose results come from the event log, or bytes Capstone
 *    cannot decode) is found when the block is decoded, once: the block hook
 *    then stops before the block (TT_STOP_SPECIAL) and the caller counts up
 *    to that instruction exactly in precise mode.  Nothing is checked per
 *    execution.
 *
 * The layout of `struct tt_counter`'s public part is mirrored by ctypes in
 * icount.py, which checks it against tt_counter_layout() at load.
 *
 * It is built as a CPython extension module only so that setuptools builds
 * it; Python loads it with ctypes.
 */
#include <Python.h>
#include <stddef.h>
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
    TT_STOP_SPECIAL = 5,    /* the next block holds a special instruction */
};

/* Instruction classes, indexed by Capstone instruction id (set by Python). */
enum {
    TT_CLASS_PLAIN = 0,
    TT_CLASS_TRAP = 1,      /* never run by Unicorn: the OS layer emulates it */
    TT_CLASS_VEX_OK = 2,    /* VEX-encoded, and executed correctly */
};

/* What a special block holds (pending_kind). */
enum {
    TT_SPECIAL_ILLEGAL = 0,     /* refused: a VEX/EVEX/XOP instruction not allowed */
    TT_SPECIAL_TRAP = 1,        /* TT_CLASS_TRAP */
    TT_SPECIAL_UNDECODED = 2,   /* Capstone cannot decode it (or fewer bytes than the block) */
};

/* A table entry's count: the block's instruction count, or for a special
 * block TT_SPECIAL_FLAG | kind << 24 | index of the special instruction. */
#define TT_SPECIAL_FLAG 0x80000000u
#define TT_SPECIAL_INDEX(v) ((v) & 0xFFFFFFu)
#define TT_SPECIAL_KIND(v) (((v) >> 24) & 0x7Fu)

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
    uint32_t pending_index;      /* TT_STOP_SPECIAL: instructions before the special one */
    uint32_t pending_kind;       /* TT_STOP_SPECIAL: TT_SPECIAL_* */
    /* private */
    void *uc;
    uc_emu_stop_fn emu_stop;
    uc_mem_read_fn mem_read;
    cs_disasm_fn cs_disasm;
    cs_free_fn cs_free;
    size_t cs_handle;
    uint32_t insn_size, insn_id_off, insn_size_off, insn_bytes_off;  /* cs_insn layout */
    uint8_t *classes;            /* TT_CLASS_* by Capstone instruction id */
    uint32_t nclasses;
    struct tt_entry *table;
    uint64_t table_mask;
    uint64_t table_used;
    /* The last block counted: a tight loop's block is found without the
     * hash (last_size NO_BLOCK = nothing cached). */
    uint64_t last_addr;
    uint32_t last_size;
    uint32_t last_count;
};

#define NO_BLOCK UINT32_MAX   /* no translated block is this long */

/* Forget every cached count (the table and the last block). */
static void table_clear(struct tt_counter *c)
{
    memset(c->table, 0, (c->table_mask + 1) * sizeof(struct tt_entry));
    c->table_used = 0;
    c->last_size = NO_BLOCK;
}

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

/* In 64-bit mode a VEX (c4, c5), EVEX (62) or XOP (8f with map >= 8) byte
 * after the legacy and REX prefixes always starts a vector-extension
 * encoding. */
static int vex_encoded(const uint8_t *b, uint32_t n)
{
    uint32_t i = 0;
    while (i < n) {
        uint8_t x = b[i];
        if (x == 0x26 || x == 0x2e || x == 0x36 || x == 0x3e || x == 0x64 || x == 0x65 ||
            x == 0x66 || x == 0x67 || x == 0xf0 || x == 0xf2 || x == 0xf3 || (x & 0xf0) == 0x40)
            i++;
        else
            break;
    }
    if (i >= n)
        return 0;
    if (b[i] == 0xc4 || b[i] == 0xc5 || b[i] == 0x62)
        return 1;
    return b[i] == 0x8f && i + 1 < n && (b[i + 1] & 0x1f) >= 8;
}

static uint32_t special(uint32_t kind, uint32_t index)
{
    return TT_SPECIAL_FLAG | (kind << 24) | (index & 0xFFFFFFu);
}

/* The table entry for the block [addr, addr+size), decoded with Capstone:
 * its instruction count, or special(kind, index) for the first instruction
 * the CPU must not run.  Capstone decoding fewer bytes than the block holds
 * (Unicorn translated something Capstone does not know) is special too:
 * the count would be short, and exact time lost. */
static uint32_t decode_count(struct tt_counter *c, uint64_t addr, uint32_t size)
{
    uint8_t stack_buf[4096];
    uint8_t *buf;
    uint32_t result;
    if (size == 0)
        return 1;   /* Unicorn's empty exit block: nothing to decode */
    buf = size <= sizeof(stack_buf) ? stack_buf : malloc(size);
    if (!buf)
        return special(TT_SPECIAL_UNDECODED, 0);
    if (c->mem_read(c->uc, addr, buf, size) != 0) {
        result = special(TT_SPECIAL_UNDECODED, 0);
    } else {
        uint8_t *insn = NULL;
        size_t n = c->cs_disasm(c->cs_handle, buf, size, addr, 0, (void **)&insn);
        uint64_t decoded = 0;
        result = 0;
        for (size_t i = 0; i < n && !result; i++) {
            const uint8_t *in = insn + i * c->insn_size;
            uint32_t id;
            uint16_t len;
            memcpy(&id, in + c->insn_id_off, sizeof(id));
            memcpy(&len, in + c->insn_size_off, sizeof(len));
            uint8_t cls = id < c->nclasses ? c->classes[id] : TT_CLASS_PLAIN;
            if (cls == TT_CLASS_TRAP)
                result = special(TT_SPECIAL_TRAP, (uint32_t)i);
            else if (cls != TT_CLASS_VEX_OK && vex_encoded(in + c->insn_bytes_off, len))
                result = special(TT_SPECIAL_ILLEGAL, (uint32_t)i);
            decoded += len;
        }
        if (!result)
            result = decoded == size && n ? (uint32_t)n : special(TT_SPECIAL_UNDECODED, (uint32_t)n);
        if (insn)
            c->cs_free(insn, n);
    }
    if (buf != stack_buf)
        free(buf);
    return result;
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

/* Out of line and cold: inlined, its register needs made every call of
 * tt_block_hook save and restore six registers, which cost more than the
 * counting itself (4.3 against 2.0 ns a block, x86-64 host). */
__attribute__((noinline, cold)) static void block_hook_slow(struct tt_counter *c, void *uc, uint64_t addr, uint32_t size)
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
    if (n & TT_SPECIAL_FLAG) {
        c->stop_reason = TT_STOP_SPECIAL;
        c->pending_addr = addr;
        c->pending_size = size;
        c->pending_index = TT_SPECIAL_INDEX(n);
        c->pending_kind = TT_SPECIAL_KIND(n);
        c->emu_stop(uc);
        return;
    }
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
    c->last_addr = addr;
    c->last_size = size;
    c->last_count = n;
}

void tt_block_hook(void *uc, uint64_t addr, uint32_t size, void *user)
{
    struct tt_counter *c = user;
    /* Fast path: the block's count is the last block's or cached at its home
     * slot, it is an ordinary block (count > 0 as a signed value: not empty,
     * not special), and running it stays within fast_limit = min(limit,
     * soft_limit), which the caller sets to 0 to force the slow path (precise
     * mode, a stop request). */
    uint32_t n;
    if (__builtin_expect(addr == c->last_addr && size == c->last_size, 1)) {
        n = c->last_count;
    } else {
        const struct tt_entry *e = &c->table[hash_key(addr, size) & c->table_mask];
        if (__builtin_expect(!(e->addr == addr && e->size == size && (int32_t)e->count > 0), 0)) {
            block_hook_slow(c, uc, addr, size);
            return;
        }
        n = e->count;
        c->last_addr = addr;
        c->last_size = size;
        c->last_count = n;
    }
    uint64_t next = c->icount + n;
    if (__builtin_expect(next > c->fast_limit, 0)) {
        block_hook_slow(c, uc, addr, size);
        return;
    }
    c->block_start_icount = c->icount;
    c->block_addr = addr;
    c->block_size = size;
    c->block_count = n;
    c->icount = next;
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
    c->last_size = NO_BLOCK;
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

/* How Capstone lays out a cs_insn, and the class of each instruction id
 * (TT_CLASS_*; copied).  Returns 0, or -1 when out of memory. */
int tt_counter_set_decoder(struct tt_counter *c, uint32_t insn_size, uint32_t id_off, uint32_t size_off,
                           uint32_t bytes_off, const uint8_t *classes, uint32_t nclasses)
{
    uint8_t *copy = malloc(nclasses ? nclasses : 1);
    if (!copy)
        return -1;
    memcpy(copy, classes, nclasses);
    free(c->classes);
    c->classes = copy;
    c->nclasses = nclasses;
    c->insn_size = insn_size;
    c->insn_id_off = id_off;
    c->insn_size_off = size_off;
    c->insn_bytes_off = bytes_off;
    table_clear(c);
    return 0;
}

/* sizeof(struct tt_counter) and the offsets of its public fields, in the
 * order icount.py's CounterState declares them; returns how many were
 * written (at most `n`). */
#define TT_FIELD(f) offsetof(struct tt_counter, f)
uint32_t tt_counter_layout(uint64_t *out, uint32_t n)
{
    const uint64_t layout[] = {
        sizeof(struct tt_counter), offsetof(struct tt_counter, uc),
        TT_FIELD(icount), TT_FIELD(limit), TT_FIELD(soft_limit), TT_FIELD(block_start_icount),
        TT_FIELD(block_addr), TT_FIELD(block_size), TT_FIELD(block_count), TT_FIELD(pending_addr),
        TT_FIELD(pending_size), TT_FIELD(stop_reason), TT_FIELD(precise), TT_FIELD(stop_request),
        TT_FIELD(blocks_decoded), TT_FIELD(fast_limit), TT_FIELD(pending_index), TT_FIELD(pending_kind),
    };
    uint32_t count = sizeof(layout) / sizeof(layout[0]);
    if (count > n)
        count = n;
    memcpy(out, layout, count * sizeof(uint64_t));
    return (uint32_t)(sizeof(layout) / sizeof(layout[0]));
}

/* Forget decoded block sizes (after code pages were replaced or unmapped). */
void tt_counter_clear_cache(struct tt_counter *c)
{
    table_clear(c);
}

void tt_counter_free(struct tt_counter *c)
{
    if (!c)
        return;
    free(c->table);
    free(c->classes);
    free(c);
}

/* The host's time-stamp counter, for the recorder (rdtsc/rdtscp in the guest
 * are answered with the host's real values, then logged).  With `aux`, rdtscp:
 * also the host's TSC_AUX (on Linux, the CPU number and NUMA node). */
uint64_t tt_host_rdtsc(uint32_t *aux)
{
    uint32_t lo, hi, a = 0;
    if (aux) {
        __asm__ __volatile__("rdtscp" : "=a"(lo), "=d"(hi), "=c"(a));
        *aux = a;
    } else {
        __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    }
    return ((uint64_t)hi << 32) | lo;
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
