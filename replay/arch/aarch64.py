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
from .base import Arch, DebugInfo, DebugRegister

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

# -- for debuggers: gdb's aarch64 GNU/Linux registers (gdb/features/aarch64-{core,fpu}.xml) -------
# x0-x30 0-30, sp 31, pc 32, cpsr 33, v0-v31 34-65, fpsr 66, fpcr 67; tpidr 68 (the TLS feature)
_CORE, _FPU, _TLS = "org.gnu.gdb.aarch64.core", "org.gnu.gdb.aarch64.fpu", "org.gnu.gdb.aarch64.tls"

GDB_REGISTERS = (
    *(DebugRegister(n, 64, "int", _CORE, "general") for n in GPR_NAMES),
    DebugRegister("sp", 64, "data_ptr", _CORE, "general"),
    DebugRegister("pc", 64, "code_ptr", _CORE, "general"),
    DebugRegister("cpsr", 32, "cpsr_flags", _CORE, "general"),
    *(DebugRegister(f"v{i}", 128, "aarch64v", _FPU, "vector") for i in range(32)),
    DebugRegister("fpsr", 32, "int", _FPU, "float"),
    DebugRegister("fpcr", 32, "int", _FPU, "float"),
    DebugRegister("tpidr", 64, "data_ptr", _TLS, "system", engine="tpidr_el0"),
)

_CPSR_FLAGS = """\
  <flags id="cpsr_flags" size="4">
    <field name="SP" start="0" end="0"/>
    <field name="EL" start="2" end="3"/>
    <field name="nRW" start="4" end="4"/>
    <field name="F" start="6" end="6"/>
    <field name="I" start="7" end="7"/>
    <field name="A" start="8" end="8"/>
    <field name="D" start="9" end="9"/>
    <field name="IL" start="20" end="20"/>
    <field name="SS" start="21" end="21"/>
    <field name="V" start="28" end="28"/>
    <field name="C" start="29" end="29"/>
    <field name="Z" start="30" end="30"/>
    <field name="N" start="31" end="31"/>
  </flags>"""
_VECTOR = """\
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v2u" type="uint64" count="2"/>
  <vector id="v2i" type="int64" count="2"/>
  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v4u" type="uint32" count="4"/>
  <vector id="v4i" type="int32" count="4"/>
  <vector id="v8f" type="ieee_half" count="8"/>
  <vector id="v8u" type="uint16" count="8"/>
  <vector id="v8i" type="int16" count="8"/>
  <vector id="v16u" type="uint8" count="16"/>
  <vector id="v16i" type="int8" count="16"/>
  <vector id="v1u" type="uint128" count="1"/>
  <vector id="v1i" type="int128" count="1"/>
  <union id="vnd"><field name="f" type="v2d"/><field name="u" type="v2u"/><field name="s" type="v2i"/></union>
  <union id="vns"><field name="f" type="v4f"/><field name="u" type="v4u"/><field name="s" type="v4i"/></union>
  <union id="vnh"><field name="f" type="v8f"/><field name="u" type="v8u"/><field name="s" type="v8i"/></union>
  <union id="vnb"><field name="u" type="v16u"/><field name="s" type="v16i"/></union>
  <union id="vnq"><field name="u" type="v1u"/><field name="s" type="v1i"/></union>
  <union id="aarch64v">
    <field name="d" type="vnd"/>
    <field name="s" type="vns"/>
    <field name="h" type="vnh"/>
    <field name="b" type="vnb"/>
    <field name="q" type="vnq"/>
  </union>"""

AARCH64_DEBUG = DebugInfo(
    gdb_architecture="aarch64", registers=GDB_REGISTERS,
    types={"cpsr_flags": _CPSR_FLAGS, "aarch64v": _VECTOR},
    expedite=("x29", "sp", "pc"), breakpoint_kind=4, fp="x29", link_register="x30",
    # DWARF for the Arm 64-bit Architecture: 0-30 x0-x30, 31 sp, 64-95 v0-v31
    dwarf_registers=(*GPR_NAMES, "sp", *(None for _ in range(32, 64)), *(f"v{i}" for i in range(32))),
    argument_registers=("x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"), return_register="x0",
    call_mnemonics=frozenset({"bl", "blr", "blraa", "blraaz", "blrab", "blrabz"}),
    return_mnemonics=frozenset({"ret", "retaa", "retab"}),
    call_sizes=(4,),
    general_registers=(*GPR_NAMES, "sp", "pc", "cpsr", "fpsr", "fpcr", "tpidr_el0"),
    user_end=1 << 48, gdb_steps_over_watchpoints=True,
)

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
    trap_signals={EXCP_UDEF: SIGILL, EXCP_BKPT: SIGTRAP},
    syscall_interrupt=EXCP_SWI,
    default_sysroot="/usr/aarch64-linux-gnu", sysroot_package="libc6-dev-arm64-cross",
    # O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE (arch/arm64/include/uapi/asm/fcntl.h)
    debug=AARCH64_DEBUG,
    open_flag_bits=((0o40000, 0o200000), (0o100000, 0o400000), (0o200000, 0o40000), (0o400000, 0o100000)),
)
