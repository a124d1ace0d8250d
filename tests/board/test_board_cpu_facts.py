"""What the board layer relies on from Unicorn 2.1.4 (measured, see replay/board/exceptions.py),
through the engine's Machine: how hvc, smc, hlt and wfi arrive, the system-register and
MMIO hooks with exact instruction counts, and the eret legality fix."""

from __future__ import annotations

import struct

import pytest

from replay.arch import AARCH64
from replay.board.exceptions import SPSR_EL1, prepare_el1
from replay.board.virt import BARE_METAL_A57
from replay.machine import Machine, StopKind
from replay.memory import PROT_EXEC, PROT_READ, PROT_WRITE

BASE = 0x4000_0000
NOP, WFI, ERET = 0xD503201F, 0xD503207F, 0xD69F03E0
HVC0, SMC0, HLT_F000, SVC0 = 0xD4000002, 0xD4000003, 0xD45E0000, 0xD4000001
MRS_X0_CNTVCT = 0xD53BE040          # mrs x0, cntvct_el0
MSR_CNTV_CTL_X1 = 0xD51BE321        # msr cntv_ctl_el0, x1
LDR_W2_X3 = 0xB9400062              # ldr w2, [x3]
STR_W4_X3 = 0xB9000064              # str w4, [x3]


def machine_with(*words: int) -> Machine:
    m = Machine(BARE_METAL_A57)
    m.mem.map(BASE, 0x10000, PROT_READ | PROT_WRITE | PROT_EXEC)
    m.mem.write(BASE, struct.pack(f"<{len(words)}I", *words))
    m.set_reg("pc", BASE)
    return m


@pytest.mark.parametrize("word, intno, past", [(HVC0, 1, False), (HLT_F000, 1, False), (SMC0, 13, True),
                                                (SVC0, 2, True)])
def test_exception_instructions(word: int, intno: int, past: bool) -> None:
    m = machine_with(NOP, word, NOP)
    stop = m.run(10)
    assert (stop.kind, stop.intno) == (StopKind.FAULT, intno)
    assert stop.pc == BASE + (8 if past else 4)
    assert m.icount == (2 if past else 1)          # counted only when the PC is past it


def test_wfi_stops_the_counter_before_it() -> None:
    """Unicorn returns quietly *after* a wfi (AARCH64 below); the board's CPU traps before it
    (Arch.trapped) so that retiring it and the idle check point are one step."""
    m = machine_with(NOP, WFI, NOP, NOP)
    stop = m.run(10)
    assert (stop.kind, stop.icount, stop.pc, stop.intno) == (StopKind.FAULT, 1, BASE + 4, -1)
    plain = Machine(AARCH64)
    plain.mem.map(BASE, 0x10000, PROT_READ | PROT_WRITE | PROT_EXEC)
    plain.mem.write(BASE, struct.pack("<4I", NOP, WFI, NOP, NOP))
    plain.set_reg("pc", BASE)
    stop = plain.run(4)
    assert (stop.kind, stop.icount) == (StopKind.LIMIT, 4)      # ran through it, as a nop


class Registers:
    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[int, ...], int, int]] = []

    def read_sysreg(self, key, icount):
        self.seen.append(("r", key, icount, 0))
        return 1000 + icount if key == (3, 3, 14, 0, 2) else None

    def write_sysreg(self, key, value, icount):
        self.seen.append(("w", key, icount, value))
        return True


def test_system_register_hooks_see_exact_counts() -> None:
    m = machine_with(NOP, NOP, NOP, MRS_X0_CNTVCT, MSR_CNTV_CTL_X1, NOP)
    regs = Registers()
    m.attach_system_registers(regs)
    m.set_reg("x1", 5)
    m.run(6)
    assert regs.seen == [("r", (3, 3, 14, 0, 2), 3, 0), ("w", (3, 3, 14, 3, 1), 4, 5)]
    assert m.reg("x0") == 1003


def test_mmio_device() -> None:
    m = machine_with(LDR_W2_X3, STR_W4_X3, NOP)
    log: list[tuple] = []
    m.map_device(0x0900_0000, 0x1000, lambda off, size: log.append(("r", off, size)) or 0x1234,
                 lambda off, size, value: log.append(("w", off, size, value)))
    m.set_reg("x3", 0x0900_0018)
    m.set_reg("x4", 0x41)
    m.run(3)
    assert log == [("r", 0x18, 4), ("w", 0x18, 4, 0x41)]
    assert m.reg("x2") == 0x1234


@pytest.mark.parametrize("prepared", [False, True])
def test_eret_to_el1_is_legal_only_once_el1_is_aarch64(prepared: bool) -> None:
    m = machine_with(ERET, NOP, NOP, NOP)
    if prepared:
        prepare_el1(m)
    m.set_sysreg(SPSR_EL1, 0x3C5)
    m.set_reg("elr_el1", BASE + 8)
    m.run(2)
    assert m.reg("pc") == BASE + 12
    illegal = bool(m.reg("pstate") & (1 << 20))     # PSTATE.IL
    assert illegal is not prepared


def test_mmio_callbacks_see_the_accessing_instruction() -> None:
    """Inside an MMIO callback the PC is the accessing instruction's address, so its exact
    count is known there (the board moves its next check point from it: system.py)."""
    m = machine_with(NOP, NOP, STR_W4_X3, NOP, LDR_W2_X3, NOP, NOP, STR_W4_X3, NOP)
    seen: list[tuple[str, int, int]] = []
    m.map_device(0x0900_0000, 0x1000,
                 lambda off, size: seen.append(("r", m.pc - BASE, m.exact_icount_at(m.pc))) or 0,
                 lambda off, size, value: seen.append(("w", m.pc - BASE, m.exact_icount_at(m.pc))))
    m.set_reg("x3", 0x0900_0018)
    m.run(9)
    assert seen == [("w", 8, 2), ("r", 16, 4), ("w", 28, 7)]
