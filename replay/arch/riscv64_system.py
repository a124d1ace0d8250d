"""riscv64 SYSTEM instructions as a Linux user process sees them.

Unicorn runs the guest in machine mode, where `mret`, `wfi` and the machine
CSRs are allowed and the counters read the host's clock (riscv64.py): the
counter stops before each of them (RISCV64.trapped) and they run here.

 - csrrw/csrrs/csrrc and their immediate forms on fflags, frm, fcsr (the
   FPU's CSRs, read and written through Unicorn) and the read-only counters:
   time (rdtime) from the OS layer, logged like rdtsc, in nanoseconds;
   instret (rdinstret) the exact instruction count, and cycle (rdcycle) the
   same (a CPU retiring one instruction a cycle): deterministic.
 - any other CSR, a write to a counter, ebreak (SIGTRAP), mret/sret/uret,
   wfi, sfence.vma and unimp: the signal Linux sends (SIGILL but for ebreak).
"""

from __future__ import annotations

from typing import Any

from ..linux.signals import SIGILL, SIGTRAP

CSR_FFLAGS, CSR_FRM, CSR_FCSR = 0x001, 0x002, 0x003
CSR_CYCLE, CSR_TIME, CSR_INSTRET = 0xC00, 0xC01, 0xC02
_FPU_CSRS = {CSR_FFLAGS: ("fflags", 0x1F), CSR_FRM: ("frm", 0x7), CSR_FCSR: ("fcsr", 0xFF)}
_COUNTERS = frozenset({CSR_CYCLE, CSR_TIME, CSR_INSTRET})
_MASK64 = (1 << 64) - 1

OPCODE_SYSTEM = 0x73
EBREAK, C_EBREAK = 0x00100073, 0x9002


def run_system_instruction(machine: Any, pc: int, word: int) -> int:
    """Run the trapped instruction `word` at `pc`: 0 when it ran (PC and
    instruction count advanced), else the signal the program gets."""
    if word & 0xFFFF == C_EBREAK or word == EBREAK:
        return SIGTRAP
    if word & 0x7F != OPCODE_SYSTEM or (word >> 12) & 7 in (0, 4):
        return SIGILL                       # mret, wfi, sfence.vma, unimp, ...
    funct3, rd, rs1, csr = (word >> 12) & 7, (word >> 7) & 31, (word >> 15) & 31, word >> 20
    source = rs1 if funct3 & 4 else (machine.reg(f"x{rs1}") if rs1 else 0)   # uimm or a register
    writes = funct3 & 3 == 1 or rs1 != 0    # csrrw(i) always; set/clear unless x0 / 0
    reads = funct3 & 3 != 1 or rd != 0      # csrrw(i) to x0 does not read
    if csr in _COUNTERS:
        if writes:
            return SIGILL                   # read-only
        old = _counter(machine, csr) if reads else 0
    elif csr in _FPU_CSRS:
        name, mask = _FPU_CSRS[csr]
        old = machine.reg(name) & mask
        if writes:
            new = {1: source, 2: old | source, 3: old & ~source}[funct3 & 3]
            machine.set_reg(name, new & mask)
    else:
        return SIGILL
    if rd and reads:
        machine.set_reg(f"x{rd}", old & _MASK64)
    machine.set_reg("pc", pc + 4)
    machine.set_icount(machine.icount + 1)
    return 0


def _counter(machine: Any, csr: int) -> int:
    if csr != CSR_TIME:
        return machine.icount               # rdinstret, rdcycle: instructions retired before this one
    if machine.os is None:
        return 0
    value, _aux = machine.os.on_rdtsc(machine, False)
    return value
