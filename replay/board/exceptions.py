"""Taking an exception to EL1, as the architecture defines it (Unicorn does not, for a board).

Measured on Unicorn 2.1.4: a CPU starts at EL1h with DAIF masked; svc (intno
2) and smc (13) arrive with the PC past the instruction, hvc, hlt and
undefined instructions as intno 1 (UDEF) with the PC on it, brk as 7; the
ESR is not filled in for any of them; `eret` is only legal once SCR_EL3.RW
and HCR_EL2.RW say EL1 is AArch64 (`prepare_el1`: otherwise it sets
PSTATE.IL).  Writing PSTATE through Unicorn is QEMU's pstate_write, which
does not switch the banked stack pointer (read in QEMU's code, not measured:
entries from EL0 or EL1t, which switch it here, are untested).
"""

from __future__ import annotations

import enum

from ..machine import Machine

SPSR_EL1 = (3, 0, 4, 0, 0)
SCR_EL3 = (3, 6, 1, 1, 0)
HCR_EL2 = (3, 4, 1, 1, 0)
SCR_RW, HCR_RW = 1 << 10, 1 << 31

PSTATE_DAIF = 0x3C0
PSTATE_I = 0x80
PSTATE_IL, PSTATE_SS = 1 << 20, 1 << 21
MODE_EL1H = 0b0101
MODE_EL1T = 0b0100

# ESR_EL1 exception classes (EC, bits 31:26); IL (bit 25) set for 32-bit instructions
EC_UNKNOWN, EC_SVC64, EC_BRK64 = 0x00, 0x15, 0x3C
ESR_IL = 1 << 25


class Vector(enum.IntEnum):
    SYNC = 0x000
    IRQ = 0x080
    FIQ = 0x100
    SERROR = 0x180


def prepare_el1(machine: Machine) -> None:
    """EL1 is AArch64 for the exception-return checks (measured: eret sets PSTATE.IL otherwise)."""
    machine.set_sysreg(SCR_EL3, machine.sysreg(SCR_EL3) | SCR_RW)
    machine.set_sysreg(HCR_EL2, machine.sysreg(HCR_EL2) | HCR_RW)


def irq_masked(machine: Machine) -> bool:
    return bool(machine.reg("pstate") & PSTATE_I)


def vector_base(machine: Machine) -> int:
    return machine.reg("vbar_el1")


def take_exception(machine: Machine, vector: Vector, return_pc: int, esr: int | None = None,
                   far: int | None = None) -> int:
    """Enter EL1h at VBAR_EL1 + the vector's offset; returns the new PC."""
    pstate = machine.reg("pstate")
    mode = pstate & 0xF
    if mode == MODE_EL1H:
        offset = 0x200
    elif mode == MODE_EL1T:
        offset = 0x000
    else:
        offset = 0x400                      # from EL0 (AArch64)
    machine.set_sysreg(SPSR_EL1, pstate)
    machine.set_reg("elr_el1", return_pc)
    if esr is not None:
        machine.set_reg("esr_el1", esr)
    if far is not None:
        machine.set_reg("far_el1", far)
    if mode != MODE_EL1H:
        # the stack pointer is banked: SP_EL0 keeps the interrupted one
        sp_el1 = machine.reg("sp_el1")
        machine.set_reg("sp_el0", machine.reg("sp"))
    new = (pstate & ~(0xF | PSTATE_IL | PSTATE_SS)) | PSTATE_DAIF | MODE_EL1H
    machine.set_reg("pstate", new)
    if mode != MODE_EL1H:
        machine.set_reg("sp", sp_el1)
    pc = (vector_base(machine) + offset + vector) & ((1 << 64) - 1)
    machine.set_reg("pc", pc)
    return pc
