"""x86-64: the architecture ttdbg started with (the CPU itself is cpu.py's table)."""

from __future__ import annotations

from .. import cpu
from ..linux.signals import SIGFPE, SIGILL, SIGTRAP
from ..linux.sysnames import SYSCALL_NAMES
from .base import Arch, DebugInfo, DebugRegister

GPR_NAMES = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")

REGISTERS: dict[str, str] = {
    **{n: f"UC_X86_REG_{n.upper()}" for n in GPR_NAMES},
    "rip": "UC_X86_REG_RIP", "eflags": "UC_X86_REG_EFLAGS",
    "cs": "UC_X86_REG_CS", "ss": "UC_X86_REG_SS", "ds": "UC_X86_REG_DS",
    "es": "UC_X86_REG_ES", "fs": "UC_X86_REG_FS", "gs": "UC_X86_REG_GS",
    "fs_base": "UC_X86_REG_FS_BASE", "gs_base": "UC_X86_REG_GS_BASE",
    "fctrl": "UC_X86_REG_FPCW", "fstat": "UC_X86_REG_FPSW", "ftag": "UC_X86_REG_FPTAG",
    "fiseg": "UC_X86_REG_FCS", "fioff": "UC_X86_REG_FIP", "foseg": "UC_X86_REG_FDS",
    "fooff": "UC_X86_REG_FDP", "fop": "UC_X86_REG_FOP", "mxcsr": "UC_X86_REG_MXCSR",
    **{f"st{i}": f"UC_X86_REG_ST{i}" for i in range(8)},
    **{f"xmm{i}": f"UC_X86_REG_XMM{i}" for i in range(16)},
}


# -- for debuggers: gdb's amd64 GNU/Linux register set (60 registers, `g` = 560 bytes) ----------

_CORE, _SSE = "org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse"
_LINUX, _SEGMENTS = "org.gnu.gdb.i386.linux", "org.gnu.gdb.i386.segments"


def _gdb_registers() -> tuple[DebugRegister, ...]:
    rows = [DebugRegister(n, 64, "data_ptr" if n in ("rbp", "rsp") else "int64", _CORE, "general")
            for n in GPR_NAMES]
    rows += [DebugRegister("rip", 64, "code_ptr", _CORE, "general"),
             DebugRegister("eflags", 32, "i386_eflags", _CORE, "general")]
    rows += [DebugRegister(s, 32, "int32", _CORE, "general") for s in ("cs", "ss", "ds", "es", "fs", "gs")]
    rows += [DebugRegister(f"st{i}", 80, "i387_ext", _CORE, "float") for i in range(8)]
    rows += [DebugRegister(n, 32, "int", _CORE, "float")
             for n in ("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")]
    rows += [DebugRegister(f"xmm{i}", 128, "vec128", _SSE, "vector") for i in range(16)]
    rows += [DebugRegister("mxcsr", 32, "i386_mxcsr", _SSE, "vector"),
             DebugRegister("orig_rax", 64, "int", _LINUX, "system", unavailable=True),
             DebugRegister("fs_base", 64, "int", _SEGMENTS, "system"),
             DebugRegister("gs_base", 64, "int", _SEGMENTS, "system")]
    return tuple(rows)


def _flags(type_id: str, size: int, fields: tuple[tuple[str, int], ...]) -> str:
    lines = [f'  <flags id="{type_id}" size="{size}">']
    lines += [f'    <field name="{name}" start="{bit}" end="{bit}"/>' for name, bit in fields]
    return "\n".join([*lines, "  </flags>"])


_GDB_TYPES = {
    "i386_eflags": _flags("i386_eflags", 4, (
        ("CF", 0), ("", 1), ("PF", 2), ("AF", 4), ("ZF", 6), ("SF", 7), ("TF", 8),
        ("IF", 9), ("DF", 10), ("OF", 11), ("NT", 14), ("RF", 16), ("VM", 17),
        ("AC", 18), ("VIF", 19), ("VIP", 20), ("ID", 21))),
    "i386_mxcsr": _flags("i386_mxcsr", 4, (
        ("IE", 0), ("DE", 1), ("ZE", 2), ("OE", 3), ("UE", 4), ("PE", 5), ("DAZ", 6),
        ("IM", 7), ("DM", 8), ("ZM", 9), ("OM", 10), ("UM", 11), ("PM", 12), ("FZ", 15))),
    "vec128": """\
  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v16i8" type="int8" count="16"/>
  <vector id="v8i16" type="int16" count="8"/>
  <vector id="v4i32" type="int32" count="4"/>
  <vector id="v2i64" type="int64" count="2"/>
  <union id="vec128">
    <field name="v4_float" type="v4f"/>
    <field name="v2_double" type="v2d"/>
    <field name="v16_int8" type="v16i8"/>
    <field name="v8_int16" type="v8i16"/>
    <field name="v4_int32" type="v4i32"/>
    <field name="v2_int64" type="v2i64"/>
    <field name="uint128" type="uint128"/>
  </union>""",
}

X86_64_DEBUG = DebugInfo(
    gdb_architecture="i386:x86-64", registers=_gdb_registers(), types=_GDB_TYPES,
    expedite=("rbp", "rsp", "rip"), breakpoint_kind=1, fp="rbp", link_register=None,
    # System V psABI: 0-16 the integer registers and the return address column, 17-32 xmm0-15
    dwarf_registers=("rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
                     "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
                     *(f"xmm{i}" for i in range(16))),
    argument_registers=("rdi", "rsi", "rdx", "rcx", "r8", "r9"), return_register="rax",
    call_mnemonics=frozenset({"call", "callq", "bnd call"}),
    return_mnemonics=frozenset({"ret", "retq", "repz ret", "rep ret", "bnd ret"}),
    call_sizes=(5, 6, 2, 3, 7, 4, 8, 9),
    general_registers=(*GPR_NAMES, "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base"),
    user_end=1 << 47,
)

X86_64 = Arch(
    name="x86_64", signature=cpu.SIGNATURE, elf_machine=62, elf_machine_name="EM_X86_64",
    uc_arch="X86", uc_mode="64", uc_consts="x86_const", uc_cpu_model=f"UC_CPU_X86_{cpu.UNICORN_MODEL}",
    cs_arch="X86", cs_mode="64",
    registers=REGISTERS,
    hashed=(*GPR_NAMES, "rip", "eflags", "fs_base", "mxcsr", *(f"xmm{i}" for i in range(16))),
    pc="rip", sp="rsp",
    syscall_number="rax", syscall_args=("rdi", "rsi", "rdx", "r10", "r8", "r9"), syscall_return="rax",
    syscall_pc_lag=2, syscall_clobbers=(("rcx", "rip"), ("r11", "eflags")),
    tls_register="fs_base", syscall_size=2, clone_args=("parent_tid", "child_tid", "tls"),
    stat_layout="x86_64", atexit_register="rdx",
    page_size=4096, platform=b"x86_64", hwcap=cpu.hwcap(), hwcap2=None,
    syscall_names=SYSCALL_NAMES,
    debug=X86_64_DEBUG,
    trap_signals={0: SIGFPE, 1: SIGTRAP, 3: SIGTRAP, 16: SIGFPE, 19: SIGFPE, 6: SIGILL},
)
