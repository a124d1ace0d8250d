"""The emulated x86-64 CPU, as data: what CPUID says and what Unicorn runs.

Why this module exists: a program (glibc's ifunc resolvers, -march=native
code, gcc's __builtin_cpu_supports) chooses its instructions from CPUID, so
CPUID must claim exactly what the emulator executes correctly -- no less
(an x86-64-v2 binary would die of SIGILL) and no more (AVX code would run
with wrong results).  Every CPUID answer the guest sees comes from this one
table; the README's feature table is checked against it by a test, and each
advertised instruction-set feature has a known-answer test
(tests/guests/cpu_features.c) comparing the emulator with the host.

How the table was chosen (measured with Unicorn 2.1.4, see README "The
emulated CPU"):
 - `UNICORN_MODEL` is the CPU model Unicorn's translator runs: Broadwell is
   the newest model with MOVBE, BMI2, ADX and LZCNT, and every extension it
   translates passed the known-answer tests (SSSE3 .. SSE4.2, POPCNT, AES,
   PCLMULQDQ, MOVBE, BMI2, ADX, LZCNT) except BMI1: `blsi` sets CF inverted
   (CF=1 for a zero source), so BMI1 is not advertised and its VEX-encoded
   instructions (andn, bextr, blsi, blsmsk, blsr) raise SIGILL, as on a CPU
   without BMI1.  The model's own CPUID is never shown to the guest.
 - AVX, AVX2, FMA, F16C, AVX-512 and XSAVE/OSXSAVE are not advertised: the
   translator does not implement VEX-encoded vector instructions (it runs
   some of them with wrong results), so the machine refuses every VEX/EVEX/
   XOP instruction except the BMI2 ones with SIGILL (see `VEX_ALLOWED`).
   Without OSXSAVE a program never executes XGETBV to look for AVX state.
 - RDRAND and RDSEED are advertised: the machine stops before each one and
   the OS layer answers it from the event log (they are never run natively).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

UNICORN_MODEL = "BROADWELL"       # unicorn.x86_const.UC_CPU_X86_<this> (machine.py selects it)


class Reg(enum.IntEnum):
    EAX = 0
    EBX = 1
    ECX = 2
    EDX = 3


class Check(enum.Enum):
    """How an advertised feature is known to work."""

    KAT = "known-answer test"          # tests/guests/cpu_features.c, compared with the host
    SYSTEM = "system feature"           # privileged (paging, MSRs, APIC...): no user-mode instruction
    IMPLIED = "implied by x86-64"       # executed by every x86-64 program (the whole test suite)


@dataclass(frozen=True)
class Feature:
    name: str           # the name Linux's /proc/cpuinfo uses (and the KAT section's)
    leaf: int
    subleaf: int
    reg: Reg
    bit: int
    check: Check
    what: str


_B, _S, _I = Check.KAT, Check.SYSTEM, Check.IMPLIED
_E1, _E7, _X1 = (1, 0), (7, 0), (0x80000001, 0)

FEATURES: tuple[Feature, ...] = (
    # leaf 1 edx
    Feature("fpu", *_E1, Reg.EDX, 0, _B, "x87 floating point"),
    Feature("de", *_E1, Reg.EDX, 2, _S, "debugging extensions"),
    Feature("pse", *_E1, Reg.EDX, 3, _S, "page size extensions"),
    Feature("tsc", *_E1, Reg.EDX, 4, _B, "rdtsc (answered from the event log)"),
    Feature("msr", *_E1, Reg.EDX, 5, _S, "model-specific registers"),
    Feature("pae", *_E1, Reg.EDX, 6, _S, "physical address extension"),
    Feature("mce", *_E1, Reg.EDX, 7, _S, "machine check exception"),
    Feature("cx8", *_E1, Reg.EDX, 8, _B, "cmpxchg8b"),
    Feature("apic", *_E1, Reg.EDX, 9, _S, "local APIC"),
    Feature("sep", *_E1, Reg.EDX, 11, _S, "sysenter/sysexit"),
    Feature("mtrr", *_E1, Reg.EDX, 12, _S, "memory type range registers"),
    Feature("pge", *_E1, Reg.EDX, 13, _S, "global pages"),
    Feature("mca", *_E1, Reg.EDX, 14, _S, "machine check architecture"),
    Feature("cmov", *_E1, Reg.EDX, 15, _B, "conditional moves"),
    Feature("pat", *_E1, Reg.EDX, 16, _S, "page attribute table"),
    Feature("pse36", *_E1, Reg.EDX, 17, _S, "36-bit page size extensions"),
    Feature("clflush", *_E1, Reg.EDX, 19, _B, "clflush"),
    Feature("mmx", *_E1, Reg.EDX, 23, _B, "MMX"),
    Feature("fxsr", *_E1, Reg.EDX, 24, _B, "fxsave/fxrstor"),
    Feature("sse", *_E1, Reg.EDX, 25, _B, "SSE"),
    Feature("sse2", *_E1, Reg.EDX, 26, _B, "SSE2"),
    # leaf 1 ecx
    Feature("sse3", *_E1, Reg.ECX, 0, _B, "SSE3 (pni)"),
    Feature("pclmulqdq", *_E1, Reg.ECX, 1, _B, "carry-less multiplication"),
    Feature("ssse3", *_E1, Reg.ECX, 9, _B, "SSSE3"),
    Feature("cx16", *_E1, Reg.ECX, 13, _B, "cmpxchg16b"),
    Feature("sse4_1", *_E1, Reg.ECX, 19, _B, "SSE4.1"),
    Feature("sse4_2", *_E1, Reg.ECX, 20, _B, "SSE4.2 (crc32, pcmpistri, ...)"),
    Feature("movbe", *_E1, Reg.ECX, 22, _B, "movbe"),
    Feature("popcnt", *_E1, Reg.ECX, 23, _B, "popcnt"),
    Feature("aes", *_E1, Reg.ECX, 25, _B, "AES-NI"),
    Feature("rdrand", *_E1, Reg.ECX, 30, _B, "rdrand (answered from the event log)"),
    # leaf 7 ebx
    Feature("bmi2", *_E7, Reg.EBX, 8, _B, "BMI2 (bzhi, pdep, pext, rorx, sarx, shlx, shrx, mulx)"),
    Feature("rdseed", *_E7, Reg.EBX, 18, _B, "rdseed (answered from the event log)"),
    Feature("adx", *_E7, Reg.EBX, 19, _B, "adcx/adox"),
    # leaf 0x80000001
    Feature("lahf_lm", *_X1, Reg.ECX, 0, _B, "lahf/sahf in 64-bit mode"),
    Feature("abm", *_X1, Reg.ECX, 5, _B, "lzcnt"),
    Feature("syscall", *_X1, Reg.EDX, 11, _I, "syscall/sysret"),
    Feature("nx", *_X1, Reg.EDX, 20, _S, "no-execute pages"),
    Feature("rdtscp", *_X1, Reg.EDX, 27, _B, "rdtscp (answered from the event log)"),
    Feature("lm", *_X1, Reg.EDX, 29, _I, "long mode (x86-64)"),
)

# The VEX-encoded instructions of the advertised features (BMI2's, by
# Capstone's mnemonics); every other VEX, EVEX or XOP instruction is refused
# with SIGILL.
VEX_ALLOWED: frozenset[str] = frozenset({"bzhi", "pdep", "pext", "rorx", "sarx", "shlx", "shrx", "mulx"})

# Instructions the machine never lets Unicorn run: it stops before them and
# the OS layer emulates them (their results come from the event log).
TRAPPED: frozenset[str] = frozenset({"rdrand", "rdseed"})


def _ascii(text: str) -> tuple[int, ...]:
    raw = text.encode().ljust(4 * ((len(text) + 3) // 4), b"\0")
    return tuple(int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4))


_VENDOR = _ascii("GenuineIntel")                     # ebx, edx, ecx order below
_BRAND = _ascii("ttdbg x86-64 (Unicorn Broadwell, no AVX)".ljust(48, "\0"))

# Everything CPUID answers apart from the feature bits above: leaf ->
# (eax, ebx, ecx, edx) per subleaf.  Family 6 model 61 (Broadwell) as
# Unicorn's model reports it; cache descriptors (leaves 2 and 4) from it too.
# Leaves not listed (and subleaves past the last) answer zeros; XSAVE's leaf
# 0xd is empty because XSAVE is not advertised.
_BASE: dict[tuple[int, int], tuple[int, int, int, int]] = {
    (0, 0): (0xd, _VENDOR[0], _VENDOR[2], _VENDOR[1]),
    (1, 0): (0x306d2, 0x800, 0, 0),                  # clflush line 64 bytes, one logical CPU
    (2, 0): (0x1, 0x0, 0x0, 0x2c307d),
    (4, 0): (0x121, 0x1c0003f, 0x3f, 0x1),
    (4, 1): (0x122, 0x1c0003f, 0x3f, 0x1),
    (4, 2): (0x143, 0x3c0003f, 0xfff, 0x1),
    (6, 0): (0x4, 0, 0, 0),
    (0x80000000, 0): (0x80000008, _VENDOR[0], _VENDOR[2], _VENDOR[1]),
    (0x80000001, 0): (0x306d2, 0, 0, 0),
    (0x80000002, 0): _BRAND[0:4],
    (0x80000003, 0): _BRAND[4:8],
    (0x80000004, 0): _BRAND[8:12],
    (0x80000005, 0): (0x1ff01ff, 0x1ff01ff, 0x40020140, 0x40020140),
    (0x80000006, 0): (0x0, 0x42004200, 0x2008140, 0x0),
    (0x80000008, 0): (0x3028, 0, 0, 0),             # 40-bit physical, 48-bit virtual addresses
}


def _build() -> dict[tuple[int, int], tuple[int, int, int, int]]:
    table = {key: list(regs) for key, regs in _BASE.items()}
    for f in FEATURES:
        regs = table.setdefault((f.leaf, f.subleaf), [0, 0, 0, 0])
        regs[f.reg] |= 1 << f.bit
    return {key: (regs[0], regs[1], regs[2], regs[3]) for key, regs in table.items()}


LEAVES: dict[tuple[int, int], tuple[int, int, int, int]] = _build()
_INDEXED = frozenset({4, 7, 0xB, 0xD})      # leaves whose answer depends on ecx


def cpuid(leaf: int, subleaf: int) -> tuple[int, int, int, int]:
    """(eax, ebx, ecx, edx) for CPUID with eax=leaf, ecx=subleaf."""
    leaf &= 0xFFFFFFFF
    return LEAVES.get((leaf, subleaf & 0xFFFFFFFF if leaf in _INDEXED else 0), (0, 0, 0, 0))


def hwcap() -> int:
    """AT_HWCAP: Linux puts cpuid(1).edx in the auxiliary vector."""
    return LEAVES[(1, 0)][Reg.EDX]


def advertised(name: str) -> bool:
    return any(f.name == name for f in FEATURES)


def _signature() -> str:
    digest = hashlib.sha256(repr((UNICORN_MODEL, sorted(LEAVES.items()), sorted(VEX_ALLOWED),
                                  sorted(TRAPPED))).encode()).hexdigest()
    return f"{UNICORN_MODEL.lower()}-{digest[:12]}"


# Names this CPU in a trace's header: a program that ran on one CPU takes
# other paths on another (glibc picks its functions from CPUID), so a trace
# replays only on the CPU it was recorded on.  Traces from before this table
# (no "cpu" in the header) were recorded on Unicorn's QEMU64 model.
SIGNATURE = _signature()
