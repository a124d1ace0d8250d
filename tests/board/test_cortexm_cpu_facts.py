"""What the mps2-an385 board relies on from Unicorn 2.1.4's Cortex-M3 (UC_MODE_THUMB |
UC_MODE_MCLASS, UC_CPU_ARM_CORTEX_M3), measured through the engine's Machine, and the
engine's own M-profile exception entry and return (m_exceptions.py) as known answers."""

from __future__ import annotations

import struct

import pytest
from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc, UcError
from unicorn import arm_const as A

from replay.board import m_exceptions as mx
from replay.board.mps2 import CORTEX_M3
from replay.machine import Machine, StopKind
from replay.memory import PROT_EXEC, PROT_READ, PROT_WRITE

CODE, RAM = 0x0, 0x2000_0000
MOVS_R0_5, ADDS_R0_1, NOP, WFI, SVC3, BKPT_AB, BX_LR = 0x2005, 0x3001, 0xBF00, 0xBF30, 0xDF03, 0xBEAB, 0x4770
LDR_R0_R1, STR_R2_R1 = 0x6808, 0x600A


def machine_with(*halves: int) -> Machine:
    m = Machine(CORTEX_M3)
    m.mem.map(CODE, 0x10000, PROT_READ | PROT_WRITE | PROT_EXEC)
    m.mem.map(RAM, 0x10000, PROT_READ | PROT_WRITE)
    m.mem.write(CODE + 0x100, struct.pack(f"<{len(halves)}H", *halves))
    m.set_reg("pc", CODE + 0x100)
    m.set_reg("sp", RAM + 0x8000)
    return m


def test_thumb_start_needs_bit_0() -> None:
    """Unicorn refuses an even start address on an M-profile CPU (INVSTATE: an invalid
    instruction); the engine sets bit 0 (Arch.code_address_bit), and the PC reads without it."""
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M3)
    uc.mem_map(0, 0x1000)
    uc.mem_write(0x100, struct.pack("<2H", MOVS_R0_5, ADDS_R0_1))
    with pytest.raises(UcError):
        uc.emu_start(0x100, 0x104)
    uc.emu_start(0x101, 0x104)
    assert (uc.reg_read(A.UC_ARM_REG_R0), uc.reg_read(A.UC_ARM_REG_PC)) == (6, 0x104)
    m = machine_with(MOVS_R0_5, ADDS_R0_1, NOP)
    assert m.run(2).kind == StopKind.LIMIT
    assert (m.reg("r0"), m.pc, m.icount) == (6, 0x104, 2)


def test_exception_instructions() -> None:
    """svc: interrupt 2 with the PC past it; bkpt: 7 with the PC on it."""
    m = machine_with(NOP, SVC3, NOP)
    stop = m.run(10)
    assert (stop.kind, stop.intno, stop.pc, stop.icount) == (StopKind.FAULT, 2, 0x104, 2)
    m = machine_with(MOVS_R0_5, BKPT_AB, NOP)
    stop = m.run(10)
    assert (stop.kind, stop.intno, stop.pc, stop.icount) == (StopKind.FAULT, 7, 0x102, 1)


def test_wfi_is_a_hint_the_counter_stops_before() -> None:
    """Capstone names every Thumb hint HINT: the counter stops before each (Arch.trapped);
    nop runs as one instruction, wfi stops the run on it (the board idles there)."""
    m = machine_with(NOP, MOVS_R0_5, NOP, WFI, NOP)
    stop = m.run(10)
    assert (stop.kind, stop.intno, stop.pc, stop.icount, m.reg("r0")) == (StopKind.FAULT, -1, 0x106, 3, 5)


@pytest.mark.parametrize("ipsr", [0, 15])
def test_branch_to_exc_return_is_exception_exit(ipsr: int) -> None:
    """bx lr with lr = 0xFFFFFFF9: interrupt 8 (EXCP_EXCEPTION_EXIT), the PC at the value
    without bit 0, in Handler mode and (unlike the hardware) in Thread mode too."""
    m = machine_with(NOP, BX_LR)
    m.set_reg("lr", mx.EXC_RETURN_THREAD_MSP)
    m.set_reg("ipsr", ipsr)
    stop = m.run(10)
    assert (stop.kind, stop.intno, stop.pc, stop.icount) == (StopKind.FAULT, 8, 0xFFFF_FFF8, 2)


def test_xpsr_and_control_writes() -> None:
    """An XPSR write sets IPSR and the flags but drops bit 9; a CONTROL.SPSEL write in Thread
    mode switches SP between MSP and PSP."""
    m = machine_with(NOP)
    m.set_reg("xpsr", 0xF900_020F)
    assert (m.reg("xpsr"), m.reg("ipsr")) == (0xF900_000F, 15)
    m.set_reg("xpsr", mx.XPSR_T)
    m.set_reg("psp", RAM + 0x4000)
    m.set_reg("control", 2)
    assert (m.reg("sp"), m.reg("msp")) == (RAM + 0x4000, RAM + 0x8000)
    m.set_reg("control", 0)
    assert m.reg("sp") == RAM + 0x8000


def test_device_reads_know_their_instruction() -> None:
    """Inside an MMIO callback the PC is the accessing instruction's: its exact count is known."""
    m = machine_with(NOP, MOVS_R0_5, LDR_R0_R1, ADDS_R0_1, ADDS_R0_1, LDR_R0_R1, NOP)
    seen: list[int] = []
    m.map_device(0x4000_0000, 0x1000, lambda off, size: seen.append(m.exact_icount_at(m.pc)) or 7,
                 lambda off, size, value: None)
    m.set_reg("r1", 0x4000_0000)
    assert m.run(7).kind == StopKind.LIMIT
    assert seen == [2, 5]


def regs(m: Machine) -> dict[str, int]:
    return {r: m.reg(r) for r in (*(f"r{i}" for i in range(13)), "sp", "lr", "pc", "xpsr", "control", "msp", "psp")}


@pytest.mark.parametrize("on_psp, misaligned", [(False, False), (False, True), (True, False), (True, True)])
def test_entry_then_return_restores_every_register(on_psp: bool, misaligned: bool) -> None:
    """Known answers: the frame, lr = EXC_RETURN, IPSR, MSP in the handler; after the return
    every register (and SP, MSP, PSP, CONTROL) is as before the entry."""
    m = machine_with(NOP)
    m.mem.write(CODE + 4 * 15, struct.pack("<I", 0x201))        # SysTick's vector
    for i in range(13):
        m.set_reg(f"r{i}", 0x1010_1010 * 1 + 0x0101_0101 * i)
    m.set_reg("lr", 0x1E1E_1E1F)
    m.set_reg("xpsr", 0xF800_0000 | mx.XPSR_T)
    if on_psp:
        m.set_reg("psp", RAM + 0x4000 - (4 if misaligned else 0))
        m.set_reg("control", 2)
    elif misaligned:
        m.set_reg("sp", RAM + 0x8000 - 4)
    before = regs(m)
    sp = before["sp"]
    assert mx.enter(m, 15, 0x123, 0) == 0x200
    frame_at = (sp - 0x20) & ~7
    frame = struct.unpack("<8I", m.mem.read(frame_at, 32))
    assert frame == (before["r0"], before["r1"], before["r2"], before["r3"], before["r12"], 0x1E1E_1E1F, 0x122,
                     0xF800_0000 | mx.XPSR_T | (mx.XPSR_ALIGNED if misaligned else 0))
    assert m.reg("lr") == (mx.EXC_RETURN_THREAD_PSP if on_psp else mx.EXC_RETURN_THREAD_MSP)
    assert (m.reg("ipsr"), m.pc, m.reg("control") & 2) == (15, 0x200, 0)
    assert m.reg("sp") == (RAM + 0x8000 if on_psp else frame_at)
    assert (m.reg("psp") if on_psp else m.reg("msp")) == frame_at
    for r in ("r0", "r1", "r2", "r3", "r12"):
        m.set_reg(r, 0)
    m.set_reg("xpsr", mx.XPSR_T | 15)
    assert mx.leave(m, m.reg("lr") & ~1) == 0x122
    after = regs(m)
    assert after == {**before, "pc": 0x122}


def test_nested_entry_returns_to_handler_mode() -> None:
    m = machine_with(NOP)
    m.mem.write(CODE + 4 * 15, struct.pack("<I", 0x201))
    m.mem.write(CODE + 4 * 16, struct.pack("<I", 0x301))
    mx.enter(m, 15, 0x150, 0)
    outer = regs(m)
    mx.enter(m, 16, 0x204, 0)
    assert (m.reg("lr"), m.reg("ipsr")) == (mx.EXC_RETURN_HANDLER, 16)
    assert mx.leave(m, mx.EXC_RETURN_HANDLER) == 0x204
    assert regs(m) == {**outer, "pc": 0x204}
    with pytest.raises(mx.ExceptionError):
        mx.leave(m, 0xFFFF_FFE0)
