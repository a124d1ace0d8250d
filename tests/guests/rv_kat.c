/* rv_kat: known answers for the riscv64 extensions the emulated CPU offers
 * (RV64IMAFDC): integer multiply/divide edge cases (M), atomics and lr/sc (A),
 * single and double precision arithmetic, conversions, rounding modes and
 * exception flags (F, D; fenv reads and writes the fcsr CSRs), compressed
 * code (C: the whole program).  The output is compared with qemu-riscv64's. */
#include <fenv.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/auxv.h>

static volatile double dz = 0.0, d3 = 3.0, dm = -2.5, big = 1e308;
static volatile float f1 = 1.0f, f3 = 3.0f;
static volatile int64_t imin = INT64_MIN, ineg1 = -1, izero = 0, i7 = 7;

int main(void) {
    /* M */
    printf("div %lld %lld %lld\n", (long long)(imin / ineg1), (long long)(i7 / izero), (long long)(i7 % izero));
    printf("divu %llu remu %llu\n", (unsigned long long)((uint64_t)i7 / (uint64_t)izero),
           (unsigned long long)((uint64_t)i7 % (uint64_t)izero));
    printf("mulh %lld\n", (long long)(((__int128)imin * (__int128)i7) >> 64));
    /* A */
    _Atomic long counter = 40;
    long old = atomic_fetch_add(&counter, 2);
    long expected = 42;
    int swapped = atomic_compare_exchange_strong(&counter, &expected, 7);
    _Atomic int small = 5;
    int was = atomic_exchange(&small, 9);
    printf("amo %ld %ld %d %d %d\n", old, (long)counter, swapped, was, (int)small);
    /* F, D */
    printf("d %.17g %.17g %.17g %.17g\n", 1.0 / d3, sqrt(d3), fma(d3, d3, dm), dm * big);
    printf("f %.9g %.9g %.9g\n", (double)(f1 / f3), (double)sqrtf(f3), (double)fmaf(f3, f3, f1));
    printf("cvt %ld %ld %ld %u\n", (long)dm, lrint(dm), lround(dm), (unsigned)(float)d3);
    feclearexcept(FE_ALL_EXCEPT);
    volatile double q = d3 / dz;
    int inexact_div = fetestexcept(FE_ALL_EXCEPT);
    feclearexcept(FE_ALL_EXCEPT);
    volatile double r = 1.0 / d3;
    printf("flags %d %d (%g %g)\n", inexact_div, fetestexcept(FE_ALL_EXCEPT), q, r);
    int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    for (int i = 0; i < 4; i++) {
        fesetround(modes[i]);
        printf("round %d %d %.17g %ld\n", modes[i], fegetround(), 1.0 / d3, lrint(dm));
    }
    fesetround(FE_TONEAREST);
    printf("nan %d %d\n", isnan(dz / dz), (int)(0.0 * big));
    /* NaN boxing of singles in the 64-bit registers, the canonical NaN, saturating conversions, fclass */
    unsigned long boxed, canon, cls;
    long sat;
    float fone = f1;
    __asm__ volatile("fmv.x.d %0, %1" : "=r"(boxed) : "f"(fone));
    __asm__ volatile("fdiv.d ft0, %1, %1\n\tfmv.x.d %0, ft0" : "=r"(canon) : "f"(dz) : "ft0");
    __asm__ volatile("fcvt.l.d %0, %1, rtz" : "=r"(sat) : "f"(dz / dz));
    __asm__ volatile("fclass.d %0, %1" : "=r"(cls) : "f"(dm));
    printf("boxed %#lx canonical %#lx saturated %ld fclass %#lx\n", boxed, canon, sat, cls);
    printf("minmax %g %g\n", fmin(dz / dz, d3), fmax(-0.0, 0.0));
    printf("hwcap %#lx\n", getauxval(AT_HWCAP));
    return 0;
}
