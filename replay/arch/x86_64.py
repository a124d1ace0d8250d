"""x86-64: the architecture ttdbg started with (the CPU itself is cpu.py's table)."""

from __future__ import annotations

from .. import cpu
from ..linux.signals import SIGFPE, SIGILL, SIGTRAP
from ..linux.sysnames import SYSCALL_NAMES
from .base import Arch

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

X86_64 = Arch(
    name="x86_64", signature=cpu.SIGNATURE, elf_machine=62, elf_machine_name="EM_X86_64",
    uc_arch="X86", uc_mode="64", uc_consts="x86_const", uc_cpu_model=f"UC_CPU_X86_{cpu.UNICORN_MODEL}",
    cs_arch="X86", cs_mode="64",
    registers=REGISTERS,
    hashed=(*GPR_NAMES, "rip", "eflags", "fs_base", "mxcsr", *(f"xmm{i}" for i in range(16))),
    pc="rip", sp="rsp",
    syscall_number="rax", syscall_args=("rdi", "rsi", "rdx", "r10", "r8", "r9"), syscall_return="rax",
    syscall_pc_lag=2, syscall_clobbers=(("rcx", "rip"), ("r11", "eflags")),
    syscall_insn_size=2, clone_child_tid_tls=(3, 4),
    tls_register="fs_base", stat_layout="x86_64", atexit_register="rdx",
    page_size=4096, platform=b"x86_64", hwcap=cpu.hwcap(), hwcap2=None,
    syscall_names=SYSCALL_NAMES,
    trap_signals={0: SIGFPE, 1: SIGTRAP, 3: SIGTRAP, 16: SIGFPE, 19: SIGFPE, 6: SIGILL},
)
