/* cpu_refused: executes one instruction the emulated CPU does not offer,
 * chosen by argv[1]: avx (vaddps, VEX), avx512 (vpaddd zmm, EVEX), blsi
 * (BMI1, VEX: not advertised because Unicorn sets its CF wrong), sha
 * (sha256msg1: SHA extensions, which Unicorn does not implement).  Under ttdbg
 * each raises SIGILL at that instruction; natively (on a host that has the
 * feature) it runs.  "rdrand" runs rdrand the same way: ttdbg stops before
 * it too, but emulates it (its value comes from the event log).  It prints the instruction's address first.  With a
 * second argument "handled" a SIGILL handler reports si_code and si_addr and
 * skips the instruction, and the program goes on. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

/* Each routine: two plain instructions, the refused one (its address is the
 * label *_insn), then ret.  eax = 3 shows that the first two ran. */
extern int refused_avx(void), refused_avx512(void), refused_blsi(void), refused_sha(void), trapped_rdrand(void);
extern char refused_avx_insn[], refused_avx512_insn[], refused_blsi_insn[], refused_sha_insn[],
    trapped_rdrand_insn[], refused_avx_end[], refused_avx512_end[], refused_blsi_end[], refused_sha_end[],
    trapped_rdrand_end[];
__asm__(".text\n"
        "refused_avx: mov $1, %eax\n add $2, %eax\n"
        "refused_avx_insn: vaddps %xmm2, %xmm1, %xmm0\n"
        "refused_avx_end: ret\n"
        "refused_avx512: mov $1, %eax\n add $2, %eax\n"
        "refused_avx512_insn: vpaddd %zmm2, %zmm1, %zmm0\n"
        "refused_avx512_end: ret\n"
        "refused_blsi: mov $1, %eax\n add $2, %eax\n"
        "refused_blsi_insn: blsi %ecx, %edx\n"
        "refused_blsi_end: ret\n"
        "refused_sha: mov $1, %eax\n add $2, %eax\n"
        "refused_sha_insn: sha256msg1 %xmm1, %xmm0\n"
        "refused_sha_end: ret\n"
        "trapped_rdrand: mov $1, %eax\n add $2, %eax\n"
        "trapped_rdrand_insn: rdrand %rcx\n"
        "trapped_rdrand_end: ret\n");

static char *skip_to;

static void on_sigill(int sig, siginfo_t *info, void *ctx) {
    ucontext_t *uc = ctx;
    printf("SIGILL code %d at %p\n", info->si_code, info->si_addr);
    fflush(stdout);
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)skip_to;
    (void)sig;
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "avx";
    int (*fn)(void) = refused_avx;
    char *insn = refused_avx_insn;
    skip_to = refused_avx_end;
    if (!strcmp(what, "avx512")) {
        fn = refused_avx512, insn = refused_avx512_insn, skip_to = refused_avx512_end;
    } else if (!strcmp(what, "blsi")) {
        fn = refused_blsi, insn = refused_blsi_insn, skip_to = refused_blsi_end;
    } else if (!strcmp(what, "sha")) {
        fn = refused_sha, insn = refused_sha_insn, skip_to = refused_sha_end;
    } else if (!strcmp(what, "rdrand")) {
        fn = trapped_rdrand, insn = trapped_rdrand_insn, skip_to = trapped_rdrand_end;
    }
    if (argc > 2 && !strcmp(argv[2], "handled")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigill;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGILL, &sa, NULL);
    }
    printf("%s at %p\n", what, (void *)insn);
    fflush(stdout);
    int r = fn();
    printf("returned %d\n", r);
    return 0;
}
