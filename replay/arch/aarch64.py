"""aarch64 (ARMv8-A, Linux user mode).

Measured with Unicorn 2.1.4 (see tests/test_aarch64.py and the README):
 - `svc #0` raises interrupt 2 (EXCP_SWI) with the PC already past it;
   an undefined instruction raises interrupt 1 (EXCP_UDEF) with the PC on it,
   `brk` interrupt 7 (EXCP_BKPT);
 - every `mrs` of a system register can be hooked (UC_HOOK_INSN with
   UC_ARM64_INS_MRS, the callback returning 1 skips the instruction), so the
   generic-timer reads CNTVCT_EL0/CNTPCT_EL0 come from the event log;
 - the Cortex-A72 model (ARMv8.0: no RNDR, no LSE atomics) is what is
   emulated, and AT_HWCAP advertises only what it runs: FP, ASIMD, AES,
   PMULL, SHA1, SHA2, CRC32.  Not HWCAP_CPUID (no user-mode ID register
   reads), not HWCAP2_RNG: `mrs x0, rndr` is undefined (SIGILL), as on an A72.
"""

from __future__ import annotations

from ..linux.signals import SIGILL, SIGTRAP
from ..linux.sysnames_generic import SYSCALL_NAMES_GENERIC
from .base import Arch

GPR_NAMES = tuple(f"x{i}" for i in range(31))

REGISTERS: dict[str, str] = {
    **{f"x{i}": f"UC_ARM64_REG_X{i}" for i in range(31)},
    "sp": "UC_ARM64_REG_SP", "pc": "UC_ARM64_REG_PC", "cpsr": "UC_ARM64_REG_NZCV",
    "tpidr_el0": "UC_ARM64_REG_TPIDR_EL0",
    **{f"v{i}": f"UC_ARM64_REG_Q{i}" for i in range(32)},
    "fpsr": "UC_ARM64_REG_FPSR", "fpcr": "UC_ARM64_REG_FPCR",
}

HWCAP_FP, HWCAP_ASIMD, HWCAP_AES, HWCAP_PMULL = 1 << 0, 1 << 1, 1 << 3, 1 << 4
HWCAP_SHA1, HWCAP_SHA2, HWCAP_CRC32 = 1 << 5, 1 << 6, 1 << 7

# System registers by (op0, op1, crn, crm, op2), as the mrs hook reports them.
CNTFRQ_EL0 = (3, 3, 14, 0, 0)
CNTPCT_EL0 = (3, 3, 14, 0, 1)
CNTVCT_EL0 = (3, 3, 14, 0, 2)
COUNTER_FREQUENCY = 1_000_000_000     # CNTFRQ_EL0: the counters tick in nanoseconds

EXCP_UDEF, EXCP_SWI, EXCP_BKPT = 1, 2, 7

AARCH64 = Arch(
    name="aarch64", signature="aarch64 Cortex-A72 (Unicorn), hwcap 0xfb",
    elf_machine=183, elf_machine_name="EM_AARCH64",
    uc_arch="ARM64", uc_mode="ARM", uc_consts="arm64_const", uc_cpu_model="UC_CPU_ARM64_A72",
    cs_arch="ARM64", cs_mode="ARM",
    registers=REGISTERS,
    hashed=(*GPR_NAMES, "sp", "pc", "cpsr", "tpidr_el0", "fpsr", "fpcr", *(f"v{i}" for i in range(32))),
    pc="pc", sp="sp",
    syscall_number="x8", syscall_args=("x0", "x1", "x2", "x3", "x4", "x5"), syscall_return="x0",
    syscall_pc_lag=0, syscall_clobbers=(),
    tls_register="tpidr_el0", stat_layout="generic", atexit_register="x0", page_size=4096, platform=b"aarch64",
    hwcap=HWCAP_FP | HWCAP_ASIMD | HWCAP_AES | HWCAP_PMULL | HWCAP_SHA1 | HWCAP_SHA2 | HWCAP_CRC32,
    hwcap2=0,
    syscall_names=SYSCALL_NAMES_GENERIC,
    # Their handlers still speak x86-64: the signal frame, the alternate stack.
    unported_syscalls=frozenset({"rt_sigaction", "rt_sigreturn", "sigaltstack"}),
    trap_signals={EXCP_UDEF: SIGILL, EXCP_BKPT: SIGTRAP},
    syscall_interrupt=EXCP_SWI,
    default_sysroot="/usr/aarch64-linux-gnu", sysroot_package="libc6-dev-arm64-cross",
    # O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE (arch/arm64/include/uapi/asm/fcntl.h)
    open_flag_bits=((0o40000, 0o200000), (0o100000, 0o400000), (0o200000, 0o40000), (0o400000, 0o100000)),
)
