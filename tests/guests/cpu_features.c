/* cpu_features: known-answer tests for every CPU feature the emulated CPU
 * advertises (replay/cpu.py).  For each feature it checks the CPUID bit this
 * CPU reports; when set it runs the feature's instructions on fixed inputs
 * and prints the results (and the flags each instruction defines) in hex,
 * otherwise it prints "absent".  Under ttdbg the output must equal the native
 * run's on the same host.  argv[1..] selects features; "list" prints the
 * names of the known-answer tests; "cpuid" prints every CPUID leaf (and
 * subleaves 0-3 of the leaves that have them) as "cpuid LEAF SUB: A B C D";
 * "differences" prints the results the README documents as differing from
 * hardware (x87 transcendentals, NaN propagation) as "name: hex".
 *
 * Built with the project's default flags: each test enables its instruction
 * set with a target attribute, so nothing else in the program uses it. */
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <x86intrin.h>

#define CF 0x1
#define PF 0x4
#define AF 0x10
#define ZF 0x40
#define SF 0x80
#define OF 0x800
#define ARITH (CF | PF | AF | ZF | SF | OF)

static void hex(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf(" ");
}
#define H(x) hex(&(x), sizeof(x))
#define V(x) printf("%llx ", (unsigned long long)(x))

/* ---- baseline ------------------------------------------------------------ */
static void t_fpu(void) {
    unsigned short cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    printf("cw=%x ", cw);   /* Linux starts processes with 0x37f: extended precision */
    volatile long double a = 1.0L / 3.0L, b = 2.0L;
    long double sq;
    __asm__("fsqrt" : "=t"(sq) : "0"(b));
    long double r[6] = {a + b, a * b, a / b, sq, a - b * b, (long double)(long long)(b * 1e10L)};
    for (int i = 0; i < 6; i++)
        hex(&r[i], 10);
    long double fs;
    __asm__("fldpi; fld1; fscale; fstp %%st(1)" : "=t"(fs));
    hex(&fs, 10);
}

static void t_tsc(void) {
    unsigned long long t1 = __rdtsc(), t2 = __rdtsc();
    printf("%d ", t2 >= t1);
}

static void t_cx8(void) {
    uint64_t mem = 0x1122334455667788ULL;
    uint32_t lo = 0x55667788, hi = 0x11223344;
    unsigned char z;
    __asm__ volatile("lock cmpxchg8b %0; setz %1" : "+m"(mem), "=q"(z), "+a"(lo), "+d"(hi)
                     : "b"(0xaaaaaaaa), "c"(0xbbbbbbbb) : "cc");
    V(mem); V(z);
    __asm__ volatile("lock cmpxchg8b %0; setz %1" : "+m"(mem), "=q"(z), "+a"(lo), "+d"(hi)
                     : "b"(1), "c"(2) : "cc");
    V(mem); V(z); V(lo); V(hi);
}

static void t_cmov(void) {
    uint64_t r = 1, s = 2, t = 3;
    __asm__("cmp %2, %1; cmovb %2, %0" : "+r"(r) : "r"(s), "r"(t) : "cc");
    V(r);
    __asm__("cmp %2, %1; cmova %2, %0" : "+r"(r) : "r"(s), "r"(t) : "cc");
    V(r);
}

static void t_clflush(void) {
    static volatile int x = 5;
    _mm_clflush((const void *)&x);
    V(x);
}

__attribute__((target("mmx"))) static void t_mmx(void) {
    __m64 a = _mm_set_pi8(1, 2, 3, 4, 120, -128, 127, 0), b = _mm_set_pi8(5, 6, 7, 8, 10, -1, 1, 0);
    __m64 r1 = _mm_adds_pi8(a, b), r2 = _mm_madd_pi16(a, b), r3 = _mm_sll_pi16(a, _mm_cvtsi32_si64(3));
    H(r1); H(r2); H(r3);
    _mm_empty();
}

static void t_fxsr(void) {
    static char area[512] __attribute__((aligned(16)));
    __m128 x = _mm_set_ps(1, 2, 3, 4);
    __asm__ volatile("movaps %0, %%xmm7; fxsave %1; xorps %%xmm7, %%xmm7; fxrstor %1; movaps %%xmm7, %0"
                     : "+x"(x), "+m"(area) : : "xmm7");
    H(x);
    hex(area + 160 + 7 * 16, 16);   /* xmm7's slot */
}

static void t_sse(void) {
    printf("mxcsr=%x ", _mm_getcsr());   /* 0x1f80 at start: exceptions masked */
    __m128 a = _mm_set_ps(1.5f, -2.25f, 3e10f, 7.0f), b = _mm_set_ps(0.5f, 4.0f, -1e-10f, 3.0f);
    __m128 r[] = {_mm_add_ps(a, b), _mm_mul_ps(a, b), _mm_div_ps(a, b), _mm_sqrt_ps(_mm_set_ps(2, 3, 4, 5)),
                  _mm_max_ps(a, b), _mm_shuffle_ps(a, b, 0x1b), _mm_cmplt_ps(a, b), _mm_unpackhi_ps(a, b)};
    for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++)
        H(r[i]);
    V(_mm_cvtss_si32(_mm_set_ss(2.5f)));
    V(_mm_cvttss_si32(_mm_set_ss(-2.7f)));
    V(_mm_movemask_ps(a));
}

static void t_sse2(void) {
    __m128i a = _mm_set_epi32(1, -2, 0x7fffffff, 9), b = _mm_set_epi32(5, 6, 1, -3);
    __m128d c = _mm_set_pd(1.0 / 3, -7.25), d = _mm_set_pd(3.0, 1e300);
    __m128i ri[] = {_mm_add_epi64(a, b), _mm_mul_epu32(a, b), _mm_adds_epi16(a, b), _mm_sad_epu8(a, b),
                    _mm_packs_epi32(a, b), _mm_srai_epi32(a, 3), _mm_cmpgt_epi32(a, b), _mm_madd_epi16(a, b)};
    __m128d rd[] = {_mm_add_pd(c, d), _mm_mul_pd(c, d), _mm_div_pd(c, d), _mm_sqrt_pd(d)};
    for (unsigned i = 0; i < sizeof ri / sizeof ri[0]; i++)
        H(ri[i]);
    for (unsigned i = 0; i < sizeof rd / sizeof rd[0]; i++)
        H(rd[i]);
    V(_mm_cvtsd_si64(_mm_set_sd(-1234.5)));
    V(_mm_movemask_epi8(a));
}

/* ---- SSE3 .. SSE4.2 --------------------------------------------------------- */
__attribute__((target("sse3"))) static void t_sse3(void) {
    __m128 a = _mm_set_ps(1, 2, 3, 4), b = _mm_set_ps(10, 20, 30, 40);
    __m128d c = _mm_set_pd(1.5, 2.5), d = _mm_set_pd(-3, 8);
    __m128 r1 = _mm_hadd_ps(a, b), r2 = _mm_addsub_ps(a, b), r3 = _mm_movehdup_ps(a), r4 = _mm_hsub_ps(a, b);
    __m128d r5 = _mm_hadd_pd(c, d), r6 = _mm_movedup_pd(c);
    static const char bytes[32] = "0123456789abcdefghijklmnopqrstu";
    __m128i r7 = _mm_lddqu_si128((const __m128i *)(bytes + 3));
    H(r1); H(r2); H(r3); H(r4); H(r5); H(r6); H(r7);
}

__attribute__((target("ssse3"))) static void t_ssse3(void) {
    __m128i a = _mm_set_epi8(-128, -1, 2, -3, 4, 127, 6, -7, 8, 9, -10, 11, 12, 13, 14, -15);
    __m128i b = _mm_set_epi8(0, 1, 2, 3, -128, 5, 6, 7, 15, 9, 10, 11, 12, 0x83, 14, 1);
    __m128i r[] = {_mm_abs_epi8(a), _mm_abs_epi16(a), _mm_abs_epi32(a), _mm_shuffle_epi8(a, b),
                   _mm_alignr_epi8(a, b, 5), _mm_maddubs_epi16(a, b), _mm_hadd_epi16(a, b),
                   _mm_hadds_epi16(a, b), _mm_hsub_epi32(a, b), _mm_mulhrs_epi16(a, b),
                   _mm_sign_epi8(a, b), _mm_sign_epi32(a, b)};
    for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++)
        H(r[i]);
}

__attribute__((target("sse4.1"))) static void t_sse41(void) {
    __m128i a = _mm_set_epi32(-5, 7, 0x80000000, 3), b = _mm_set_epi32(2, -9, 4, 0x7fffffff);
    __m128 f = _mm_set_ps(1.5f, -2.5f, 2.5f, 0.49f), g = _mm_set_ps(2, 3, 4, 5);
    __m128d d = _mm_set_pd(1.25, -3.5), e = _mm_set_pd(8, 16);
    __m128i ri[] = {_mm_mullo_epi32(a, b), _mm_min_epi32(a, b), _mm_max_epu32(a, b), _mm_mul_epi32(a, b),
                    _mm_blendv_epi8(a, b, _mm_set_epi8(-1, 0, -1, 0, 0, 0, -1, -1, 0, -1, 0, -1, -1, 0, 0, -1)),
                    _mm_blend_epi16(a, b, 0xa5), _mm_cvtepu8_epi16(a), _mm_cvtepi16_epi64(a),
                    _mm_packus_epi32(a, b), _mm_mpsadbw_epu8(a, b, 5), _mm_minpos_epu16(b),
                    _mm_insert_epi32(a, 0x12345678, 2), _mm_cmpeq_epi64(a, a)};
    __m128 rf[] = {_mm_dp_ps(f, g, 0xf1), _mm_round_ps(f, _MM_FROUND_TO_NEAREST_INT), _mm_floor_ps(f),
                   _mm_blend_ps(f, g, 5), _mm_blendv_ps(f, g, f), _mm_insert_ps(f, g, 0x9c)};
    __m128d rd[] = {_mm_blend_pd(d, e, 1), _mm_dp_pd(d, e, 0x31), _mm_ceil_pd(d), _mm_round_pd(d, _MM_FROUND_TO_ZERO)};
    for (unsigned i = 0; i < sizeof ri / sizeof ri[0]; i++)
        H(ri[i]);
    for (unsigned i = 0; i < sizeof rf / sizeof rf[0]; i++)
        H(rf[i]);
    for (unsigned i = 0; i < sizeof rd / sizeof rd[0]; i++)
        H(rd[i]);
    V(_mm_extract_epi32(a, 2)); V(_mm_extract_epi8(b, 13)); V(_mm_extract_ps(f, 1));
    V(_mm_testz_si128(a, b)); V(_mm_testc_si128(a, a)); V(_mm_testnzc_si128(a, b));
    uint64_t fl;
    __asm__("ptest %1, %2; pushfq; pop %0" : "=r"(fl) : "x"(a), "x"(b) : "cc");
    V(fl & ARITH);
}

__attribute__((target("sse4.2"))) static void t_sse42(void) {
    static const char text[32] = "Hello, world! ttdbg time travel";
    __m128i t = _mm_loadu_si128((const __m128i *)text), set = _mm_setr_epi8('a', 'z', 'A', 'Z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    __m128i needle = _mm_setr_epi8('w', 'o', 'r', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    V(_mm_crc32_u8(0xffffffff, 0x5a)); V(_mm_crc32_u16(1, 0xbeef)); V(_mm_crc32_u32(0, 0xdeadbeef));
    V(_mm_crc32_u64(0x12345678, 0x0123456789abcdefULL));
    V(_mm_cmpistri(set, t, _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY));
    V(_mm_cmpistri(needle, t, _SIDD_CMP_EQUAL_ORDERED));
    V(_mm_cmpestri(needle, 3, t, 16, _SIDD_CMP_EQUAL_ORDERED | _SIDD_MOST_SIGNIFICANT));
    __m128i m1 = _mm_cmpistrm(set, t, _SIDD_CMP_RANGES | _SIDD_UNIT_MASK);
    __m128i m2 = _mm_cmpestrm(needle, 3, t, 12, _SIDD_CMP_EQUAL_ANY);
    __m128i g = _mm_cmpgt_epi64(_mm_set_epi64x(-1, 5), _mm_set_epi64x(3, -7));
    H(m1); H(m2); H(g);
    V(_mm_cmpistrz(set, t, _SIDD_CMP_RANGES)); V(_mm_cmpistrc(needle, t, _SIDD_CMP_EQUAL_ORDERED));
    V(_mm_cmpestrs(needle, 3, t, 12, 0)); V(_mm_cmpestro(needle, 3, t, 12, _SIDD_CMP_EQUAL_ANY));
}

/* ---- bit manipulation ---------------------------------------------------------- */
static const uint64_t VALS[] = {0, 1, 0x8000000000000000ULL, 0xf0f0f0f00ff00ff0ULL, 0xffffffffffffffffULL,
                                0x123456789abcdef0ULL};
#define NV (sizeof VALS / sizeof VALS[0])

__attribute__((target("popcnt"))) static void t_popcnt(void) {
    for (unsigned i = 0; i < NV; i++) {
        uint64_t r, f;
        uint32_t r32;
        uint16_t r16;
        __asm__("popcnt %2, %0; pushfq; pop %1" : "=&r"(r), "=r"(f) : "r"(VALS[i]) : "cc");
        __asm__("popcnt %1, %0" : "=r"(r32) : "r"((uint32_t)VALS[i]) : "cc");
        __asm__("popcnt %1, %0" : "=r"(r16) : "r"((uint16_t)VALS[i]) : "cc");
        V(r); V(f & ARITH); V(r32); V(r16);
    }
}

__attribute__((target("lzcnt"))) static void t_abm(void) {
    for (unsigned i = 0; i < NV; i++) {
        uint64_t r, f;
        uint32_t r32;
        __asm__("lzcnt %2, %0; pushfq; pop %1" : "=&r"(r), "=r"(f) : "r"(VALS[i]) : "cc");
        __asm__("lzcnt %1, %0" : "=r"(r32) : "r"((uint32_t)(VALS[i] >> 4)) : "cc");
        V(r); V(f & (CF | ZF)); V(r32);
    }
}

__attribute__((target("bmi"))) static void t_bmi1(void) {
    for (unsigned i = 0; i < NV; i++) {
        uint64_t x = VALS[i], y = VALS[(i + 3) % NV], r, f;
        __asm__("andn %3, %2, %0; pushfq; pop %1" : "=&r"(r), "=r"(f) : "r"(x), "r"(y) : "cc");
        V(r); V(f & (SF | ZF | OF | CF));
        __asm__("bextr %3, %2, %0; pushfq; pop %1" : "=&r"(r), "=r"(f) : "r"(x), "r"(0x0c04ULL + i * 0x0907) : "cc");
        V(r); V(f & (ZF | OF | CF));
        __asm__("blsi %2, %0; pushfq; pop %1" : "=&r"(r), "=r"(f) : "r"(x) : "cc");
        V(r); V(f & (SF | ZF | OF | CF));
        __asm__("blsmsk %2, %0; pushfq; pop %1" : "=&r"(r), "=r"(f) : "r"(x) : "cc");
        V(r); V(f & (SF | ZF | OF | CF));
        __asm__("blsr %2, %0; pushfq; pop %1" : "=&r"(r), "=r"(f) : "r"(x) : "cc");
        V(r); V(f & (SF | ZF | OF | CF));
        __asm__("tzcnt %2, %0; pushfq; pop %1" : "=&r"(r), "=r"(f) : "r"(x) : "cc");
        V(r); V(f & (ZF | CF));
        uint32_t r32;
        __asm__("andn %2, %1, %0" : "=r"(r32) : "r"((uint32_t)x), "r"((uint32_t)(y >> 7)) : "cc");
        V(r32);
    }
}

/* Instructions that leave the flags alone: start from a known set of flags. */
#define KEEPFLAGS(insn, r, f, ...) \
    __asm__("cmp %%rsp, %%rsp; stc;" insn "; pushfq; pop %1" : "=&r"(r), "=&r"(f) : __VA_ARGS__ : "cc")

__attribute__((target("bmi2"))) static void t_bmi2(void) {
    for (unsigned i = 0; i < NV; i++) {
        uint64_t x = VALS[i], y = VALS[(i + 2) % NV], r, f, hi;
        __asm__("bzhi %3, %2, %0; pushfq; pop %1" : "=&r"(r), "=r"(f) : "r"(x), "r"((uint64_t)(i * 13)) : "cc");
        V(r); V(f & (SF | ZF | OF | CF));
        KEEPFLAGS("pdep %3, %2, %0", r, f, "r"(x), "r"(y)); V(r); V(f & ARITH);
        KEEPFLAGS("pext %3, %2, %0", r, f, "r"(x), "r"(y)); V(r); V(f & ARITH);
        KEEPFLAGS("rorx $13, %2, %0", r, f, "r"(x)); V(r); V(f & ARITH);
        KEEPFLAGS("sarx %3, %2, %0", r, f, "r"(x), "r"((uint64_t)(i * 11 + 64))); V(r); V(f & ARITH);
        KEEPFLAGS("shlx %3, %2, %0", r, f, "r"(x), "r"((uint64_t)(i * 7))); V(r); V(f & ARITH);
        KEEPFLAGS("shrx %3, %2, %0", r, f, "r"(x), "r"((uint64_t)(i * 9))); V(r); V(f & ARITH);
        __asm__("mulx %3, %0, %1" : "=&r"(r), "=&r"(hi) : "d"(x), "r"(y));
        V(r); V(hi);
        uint32_t r32;
        __asm__("pext %2, %1, %0" : "=r"(r32) : "r"((uint32_t)x), "r"((uint32_t)(y >> 3)));
        V(r32);
    }
}

__attribute__((target("adx"))) static void t_adx(void) {
    for (unsigned i = 0; i < NV; i++) {
        uint64_t a = VALS[i], b = VALS[(i + 1) % NV], f;
        /* adcx: CF in and out, OF untouched; adox: OF in and out, CF untouched */
        __asm__("stc; adcx %2, %0; pushfq; pop %1" : "+r"(a), "=r"(f) : "r"(b) : "cc");
        V(a); V(f & (CF | OF));
        __asm__("xor %%eax, %%eax; adox %2, %0; pushfq; pop %1" : "+r"(a), "=r"(f) : "r"(b) : "cc", "rax");
        V(a); V(f & (CF | OF));
    }
}

__attribute__((target("movbe"))) static void t_movbe(void) {
    uint64_t src = 0x0123456789abcdefULL, r64, m64;
    uint32_t r32;
    uint16_t r16;
    __asm__("movbe %1, %0" : "=r"(r64) : "m"(src));
    __asm__("movbe %1, %0" : "=r"(r32) : "m"(*(uint32_t *)&src));
    __asm__("movbe %1, %0" : "=r"(r16) : "m"(*(uint16_t *)&src));
    __asm__("movbe %1, %0" : "=m"(m64) : "r"(src));
    V(r64); V(r32); V(r16); V(m64);
}

static void t_cx16(void) {
    __int128 mem __attribute__((aligned(16))) = ((__int128)0x1111 << 64) | 0x2222;
    uint64_t lo = 0x2222, hi = 0x1111;
    unsigned char z;
    __asm__ volatile("lock cmpxchg16b %0; setz %1" : "+m"(mem), "=q"(z), "+a"(lo), "+d"(hi)
                     : "b"(0xaaULL), "c"(0xbbULL) : "cc");
    H(mem); V(z);
    __asm__ volatile("lock cmpxchg16b %0; setz %1" : "+m"(mem), "=q"(z), "+a"(lo), "+d"(hi)
                     : "b"(1ULL), "c"(2ULL) : "cc");
    H(mem); V(z); V(lo); V(hi);
}

static void t_lahf_lm(void) {
    uint64_t r = 0;
    __asm__("cmp %%rsp, %%rsp; stc; lahf; shr $8, %%eax; mov %%rax, %0" : "+r"(r) : : "rax", "cc");
    V(r & 0xd5);
    __asm__("mov $0xc1, %%ah; sahf; pushfq; pop %0" : "=r"(r) : : "rax", "cc");
    V(r & 0xd5);
}

/* ---- crypto -------------------------------------------------------------------- */
__attribute__((target("aes"))) static void t_aes(void) {
    __m128i s = _mm_set_epi32(0x00112233, 0x44556677, 0x8899aabb, 0xccddeeff);
    __m128i k = _mm_set_epi32(0x0f0e0d0c, 0x0b0a0908, 0x07060504, 0x03020100);
    __m128i r[] = {_mm_aesenc_si128(s, k), _mm_aesenclast_si128(s, k), _mm_aesdec_si128(s, k),
                   _mm_aesdeclast_si128(s, k), _mm_aesimc_si128(s), _mm_aeskeygenassist_si128(k, 0x1b)};
    for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++)
        H(r[i]);
}

__attribute__((target("pclmul"))) static void t_pclmulqdq(void) {
    __m128i a = _mm_set_epi64x(0x8000000000000001ULL, 0xfedcba9876543210ULL);
    __m128i b = _mm_set_epi64x(0xffffffffffffffffULL, 0x0123456789abcdefULL);
    __m128i r[] = {_mm_clmulepi64_si128(a, b, 0x00), _mm_clmulepi64_si128(a, b, 0x01),
                   _mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x11)};
    for (unsigned i = 0; i < 4; i++)
        H(r[i]);
}

/* ---- non-deterministic: only that they work (values differ run to run) --------- */
static void t_rdrand(void) {
    unsigned long long v;
    unsigned char ok = 0;
    for (int i = 0; i < 10 && !ok; i++)
        __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok) : : "cc");
    V(ok);
}

static void t_rdseed(void) {
    unsigned long long v;
    unsigned char ok = 0;
    for (int i = 0; i < 100 && !ok; i++)
        __asm__ volatile("rdseed %0; setc %1" : "=r"(v), "=qm"(ok) : : "cc");
    V(ok);
}

static void t_rdtscp(void) {
    unsigned aux;
    unsigned long long t1 = __rdtscp(&aux), t2 = __rdtscp(&aux);
    printf("%d ", t2 >= t1);
}

/* ---- the table ------------------------------------------------------------------ */
enum reg { EAX, EBX, ECX, EDX };
struct test {
    const char *name;
    unsigned leaf, subleaf;
    enum reg reg;
    unsigned bit;
    void (*run)(void);
};

static const struct test TESTS[] = {
    {"fpu", 1, 0, EDX, 0, t_fpu},
    {"tsc", 1, 0, EDX, 4, t_tsc},
    {"cx8", 1, 0, EDX, 8, t_cx8},
    {"cmov", 1, 0, EDX, 15, t_cmov},
    {"clflush", 1, 0, EDX, 19, t_clflush},
    {"mmx", 1, 0, EDX, 23, t_mmx},
    {"fxsr", 1, 0, EDX, 24, t_fxsr},
    {"sse", 1, 0, EDX, 25, t_sse},
    {"sse2", 1, 0, EDX, 26, t_sse2},
    {"sse3", 1, 0, ECX, 0, t_sse3},
    {"pclmulqdq", 1, 0, ECX, 1, t_pclmulqdq},
    {"ssse3", 1, 0, ECX, 9, t_ssse3},
    {"cx16", 1, 0, ECX, 13, t_cx16},
    {"sse4_1", 1, 0, ECX, 19, t_sse41},
    {"sse4_2", 1, 0, ECX, 20, t_sse42},
    {"movbe", 1, 0, ECX, 22, t_movbe},
    {"popcnt", 1, 0, ECX, 23, t_popcnt},
    {"aes", 1, 0, ECX, 25, t_aes},
    {"rdrand", 1, 0, ECX, 30, t_rdrand},
    {"bmi1", 7, 0, EBX, 3, t_bmi1},
    {"bmi2", 7, 0, EBX, 8, t_bmi2},
    {"rdseed", 7, 0, EBX, 18, t_rdseed},
    {"adx", 7, 0, EBX, 19, t_adx},
    {"lahf_lm", 0x80000001, 0, ECX, 0, t_lahf_lm},
    {"abm", 0x80000001, 0, ECX, 5, t_abm},
    {"rdtscp", 0x80000001, 0, EDX, 27, t_rdtscp},
};
#define NTESTS (sizeof TESTS / sizeof TESTS[0])

static int has(const struct test *t) {
    unsigned r[4];
    if (!__get_cpuid_count(t->leaf, t->subleaf, &r[0], &r[1], &r[2], &r[3]))
        return 0;
    return (r[t->reg] >> t->bit) & 1;
}

static void run(const struct test *t) {
    printf("%s: ", t->name);
    if (has(t))
        t->run();
    else
        printf("absent");
    printf("\n");
    fflush(stdout);
}

static void differences(void) {
    static const struct { const char *name; long double x; } ops[] = {
        {"fsin", 1.0L}, {"fcos", 1.0L}, {"fptan", 1.0L}, {"fpatan", 2.0L}, {"fyl2x", 3.0L}, {"f2xm1", 0.5L}};
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        volatile long double x = ops[i].x;
        long double r = x;
        switch (i) {
        case 0: __asm__("fsin" : "+t"(r)); break;
        case 1: __asm__("fcos" : "+t"(r)); break;
        case 2: __asm__("fptan; fstp %%st(0)" : "+t"(r)); break;
        case 3: __asm__("fld1; fpatan" : "+t"(r)); break;
        case 4: __asm__("fld1; fxch; fyl2x" : "+t"(r)); break;
        case 5: __asm__("f2xm1" : "+t"(r)); break;
        }
        unsigned char b[10];
        memcpy(b, &r, 10);
        printf("%s: ", ops[i].name);
        for (int k = 9; k >= 0; k--)
            printf("%02x", b[k]);
        printf("\n");
    }
    uint32_t q1 = 0x7fc00001, q2 = 0x7fc00002, s1 = 0x7f800001, out[2];
    float a, b2, c;
    memcpy(&a, &q1, 4);
    memcpy(&b2, &q2, 4);
    memcpy(&c, &s1, 4);
    /* explicit operand order: destination (first source) a or c, source b2 */
    __m128 d1 = _mm_set_ss(a), d2 = _mm_set_ss(c), src = _mm_set_ss(b2);
    __asm__("mulss %1, %0" : "+x"(d1) : "x"(src));
    __asm__("addss %1, %0" : "+x"(d2) : "x"(src));
    float r1 = _mm_cvtss_f32(d1), r2 = _mm_cvtss_f32(d2);
    memcpy(&out[0], &r1, 4);
    memcpy(&out[1], &r2, 4);
    printf("mulss_qnan_qnan: %08x\naddss_snan_qnan: %08x\n", out[0], out[1]);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "differences")) {
        differences();
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "cpuid")) {
        static const unsigned bases[] = {0, 0x80000000u};
        for (unsigned b = 0; b < 2; b++) {
            unsigned base = bases[b], max = __get_cpuid_max(base, NULL);
            for (unsigned leaf = base; leaf <= max; leaf++)
                for (unsigned sub = 0; sub < 4; sub++) {
                    unsigned r[4];
                    if (sub && leaf != 4 && leaf != 7 && leaf != 0xb && leaf != 0xd)
                        break;
                    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
                    printf("cpuid %x %x: %x %x %x %x\n", leaf, sub, r[0], r[1], r[2], r[3]);
                }
        }
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "list")) {
        for (unsigned i = 0; i < NTESTS; i++)
            printf("%s\n", TESTS[i].name);
        return 0;
    }
    for (unsigned i = 0; i < NTESTS; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= !strcmp(argv[a], TESTS[i].name);
        if (wanted)
            run(&TESTS[i]);
    }
    return 0;
}
