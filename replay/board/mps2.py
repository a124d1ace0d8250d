"""QEMU's `mps2-an385` board (hw/arm/mps2.c) with its Cortex-M3, as data, and the board assembled.

The memory map: ZBT SSRAM1 (4 MiB) at 0, where the firmware's vector table
and code go; ZBT SSRAM2/3 (4 MiB) at 0x20000000; PSRAM (16 MiB, QEMU's
fixed "RAM size") at 0x21000000 (the mirrors and the 16 KiB block RAM are
left out).  UART0, a CMSDK APB UART, at 0x40004000: its RX interrupt is
IRQ 0, its TX IRQ 1 (mps2.c's uartirq[0] and + 1).  The System Control
Space at 0xE000E000: SysTick, the NVIC (32 external interrupts, as
mps2.c's num-irq) and the SCB.  Semihosting is `bkpt 0xab`.  SYSCLK is
25 MHz: one instruction is one cycle, 40 ns of guest time (systick.py).

`MSystem` is the board's system: the same loop as the virt board's
(system.py), with the NVIC as the interrupt controller, SysTick as the
timer, the M-profile exception entry and return (m_exceptions.py), and the
Cortex-M's CPU exceptions (svc, bkpt, exception return) as Unicorn reports
them.  The CPU starts as QEMU's does: SP and PC from the vector table at 0.

A SysTick register write makes the timer's next deadline a check point at
once (BoardSystem._device_changed moves the next check point there), at the
earliest CHASE_INTERVAL instructions after the write (a reload of fewer cycles
fires that late: still at an exact count).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..arch.base import Arch
from ..errors import ProgramError
from ..machine import Machine, RunStop
from . import m_exceptions as mx
from .cmsdk_uart import CmsdkUart
from .firmware import Firmware
from .firmware_calls import semihosting
from .nvic import FIRST_EXTERNAL, HARDFAULT, NMI, SVCALL, Nvic
from .system import BoardSystem, Ending
from .systick import SysTick

EXCP_SWI, EXCP_BKPT, EXCP_EXCEPTION_EXIT = 2, 7, 8      # Unicorn's interrupt numbers (measured)
BKPT_SEMIHOSTING = 0xBEAB                               # bkpt #0xab
WFI_T16, WFI_T32 = 0xBF30, 0x8003_F3AF                  # wfi, wfi.w (as little-endian words)
SIGTRAP = 5

_CORE = {f"r{i}": f"UC_ARM_REG_R{i}" for i in range(13)}
M_REGISTERS: dict[str, str] = {
    **_CORE, "sp": "UC_ARM_REG_SP", "lr": "UC_ARM_REG_LR", "pc": "UC_ARM_REG_PC",
    "xpsr": "UC_ARM_REG_XPSR", "ipsr": "UC_ARM_REG_IPSR", "control": "UC_ARM_REG_CONTROL",
    "primask": "UC_ARM_REG_PRIMASK", "basepri": "UC_ARM_REG_BASEPRI", "faultmask": "UC_ARM_REG_FAULTMASK",
    "msp": "UC_ARM_REG_MSP", "psp": "UC_ARM_REG_PSP",
}


def _emulate_hint(machine: Any, pc: int, word: int) -> int:
    """Capstone decodes every Thumb hint (nop, yield, wfe, wfi, sev) as one instruction id, HINT:
    the counter stops before each; wfi stops the run (the board idles), the others are nops."""
    if word in (WFI_T16, WFI_T32):
        return SIGTRAP
    machine.set_reg("pc", pc + (2 if word <= 0xFFFF else 4))
    machine.set_icount(machine.icount + 1)
    return 0


CORTEX_M3: Arch = Arch(
    name="armv7m", signature="armv7-m Cortex-M3 (Unicorn), bare metal",
    elf_machine=40, elf_machine_name="EM_ARM",
    uc_arch="ARM", uc_mode="THUMB+MCLASS", uc_consts="arm_const", uc_cpu_model="UC_CPU_ARM_CORTEX_M3",
    cs_arch="ARM", cs_mode="THUMB+MCLASS",
    registers=M_REGISTERS,
    hashed=(*_CORE, "sp", "lr", "pc", "xpsr", "control", "primask", "basepri", "faultmask", "msp", "psp"),
    pc="pc", sp="sp", syscall_number="r7", syscall_args=("r0", "r1", "r2", "r3", "r4", "r5"),
    syscall_return="r0", syscall_pc_lag=0, syscall_clobbers=(), tls_register="r9", stat_layout="generic",
    atexit_register="r0", page_size=4096, platform=b"", hwcap=0, hwcap2=None, syscall_names={},
    trapped=frozenset({"hint"}), emulate_trapped=_emulate_hint, code_address_bit=1,
)


@dataclass(frozen=True)
class MUart:
    base: int
    rx_line: int          # NVIC external interrupt numbers
    tx_line: int


@dataclass(frozen=True)
class MBoard:
    name: str
    arch: Arch
    memory: tuple[tuple[str, int, int], ...]     # (name, base, size)
    uart: MUart
    scs_base: int
    nvic_lines: int
    sysclk: int                                  # Hz: the processor clock (one instruction a cycle)
    refclk: int                                  # Hz: SysTick's reference clock
    default_ram: int
    max_ram: int
    ram_base: int = 0
    elf_class: ClassVar[int] = 32

    def memory_ranges(self, ram_size: int) -> tuple[tuple[int, int], ...]:
        if ram_size != self.default_ram:
            raise ProgramError(f"the {self.name} board's memory is fixed (as QEMU's: {self.default_ram >> 20} MiB "
                               "of PSRAM and the SSRAMs): --ram does not apply")
        return tuple((base, base + size) for _name, base, size in self.memory)

    def check(self, firmware: Firmware) -> None:
        data = b"".join(s.data[:8] for s in firmware.segments if s.address == 0)
        if len(data) < 8:
            raise ProgramError("no vector table at address 0: a Cortex-M firmware starts with its initial "
                               "stack pointer and reset handler there")
        sp, pc = struct.unpack("<II", data[:8])
        if not pc & 1 or not any(lo <= pc & ~1 < hi for lo, hi in self.memory_ranges(self.default_ram)):
            raise ProgramError(f"the reset vector {pc:#x} is not a Thumb address in memory")

    def make_system(self, ram_size: int, firmware: Firmware, console: Callable[[bytes], None],
                    warn: Callable[[str], None], clock: str = "virtual") -> MSystem:
        if clock != "virtual":
            raise ProgramError(f"--clock {clock}: the {self.name} board has the virtual clock only (SysTick "
                               "counts instructions)")
        return MSystem(self, ram_size, firmware, console, warn, clock)  # type: ignore[arg-type]


MPS2_AN385 = MBoard(
    name="mps2-an385",
    arch=CORTEX_M3,
    memory=(("ssram1", 0x0000_0000, 4 << 20), ("ssram23", 0x2000_0000, 4 << 20), ("psram", 0x2100_0000, 16 << 20)),
    uart=MUart(0x4000_4000, rx_line=0, tx_line=1),
    scs_base=0xE000_E000,
    nvic_lines=32,
    sysclk=25_000_000,
    refclk=1_000_000,
    default_ram=16 << 20,
    max_ram=16 << 20,
)


class MSystem(BoardSystem):
    """The mps2 board assembled: BoardSystem's loop with the Cortex-M's devices and exceptions."""

    board: MBoard  # type: ignore[assignment]

    def _attach_devices(self, firmware: Firmware) -> None:
        board, m = self.board, self.machine
        self.nvic = self.intc = Nvic(board.nvic_lines, lambda: m.regs(("basepri",))[0], self._reset_requested)
        self.timer = SysTick(board.sysclk, board.refclk, self.nvic.pend, self._access_icount, self._timer_written)
        self.nvic.systick = self.timer
        u = board.uart
        self.uart = CmsdkUart(u.rx_line, u.tx_line, self.nvic.set_line, self._write_console)
        m.map_device(board.scs_base, 0x1000, self.nvic.read, self._device_write(self.nvic.write))
        m.map_device(u.base, 0x1000, self.uart.read, self._device_write(self.uart.write))
        sp, pc = struct.unpack("<II", m.mem.read(self.nvic.vtor, 8))
        m.set_reg("sp", sp)
        m.set_reg("xpsr", mx.XPSR_T)
        m.set_reg("pc", pc & ~1)

    def _access_icount(self) -> int:
        """The count of the instruction accessing a device now (inside a memory callback)."""
        return self.machine.exact_icount_at(self.machine.pc)

    def _timer_written(self, icount: int) -> None:
        """SysTick was programmed at `icount`: its next deadline becomes a check point now, not at
        the next one chosen before (deterministic: the write's count fixes the deadline)."""
        self._device_changed(icount)

    def _reset_requested(self) -> None:
        if "reset" not in self._warned:
            self._warned.add("reset")
            self._warn("the firmware asked for a system reset (AIRCR.SYSRESETREQ): not emulated, ignored")

    # -- the loop's questions -----------------------------------------------------------
    def _wfi_length(self, pc: int) -> int:
        try:
            word = int.from_bytes(self.machine.mem.read(pc, 4), "little")
        except ValueError:
            return 0
        return 2 if word & 0xFFFF == WFI_T16 else 4 if word == WFI_T32 else 0

    def _irq_masked(self) -> bool:
        primask, faultmask = self.machine.regs(("primask", "faultmask"))
        return bool((primask | faultmask) & 1)

    def _take_irq(self) -> None:
        number = self.nvic.best_pending()
        assert number is not None
        self._enter(number, self.machine.pc)

    def _enter(self, number: int, return_pc: int) -> None:
        self.nvic.activate(number)
        mx.enter(self.machine, number, return_pc, self.nvic.vtor, bool(self.nvic.ccr & 0x200))

    # -- CPU exceptions ----------------------------------------------------------------
    def _on_exception(self, stop: RunStop) -> Ending | None:
        m = self.machine
        try:
            if stop.intno == EXCP_EXCEPTION_EXIT:
                number = self.nvic.current()
                if not number:
                    return Ending("error", 1, f"a branch to {stop.pc | 1:#x} (an EXC_RETURN value) in Thread "
                                  f"mode (instruction {stop.icount:,})")
                mx.leave(m, stop.pc)
                self.nvic.deactivate(number)
                if self.nvic.irq_asserted() and not self._irq_masked():
                    self._take_irq()                # tail-chaining: the next one at once, at this count
                    self.interrupts_taken += 1
                return None
            if stop.intno == EXCP_SWI:
                # SVCall, unless it cannot preempt what runs (or PRIMASK is set): then it escalates
                svc_ready = (self.nvic.prio(SVCALL) < self.nvic.execution_priority() and not self._irq_masked())
                if not svc_ready:
                    return self._hardfault(stop.pc, "svc that cannot preempt")
                self._enter(SVCALL, stop.pc)
                return None
            if stop.intno == EXCP_BKPT:
                return self._bkpt(stop)
            if stop.intno < 0:                      # a memory fault, an undefined instruction
                return self._hardfault(stop.pc, stop.detail or "a fault")
        except mx.ExceptionError as exc:
            return Ending("error", 1, f"{exc} (instruction {self.icount:,})")
        return Ending("error", 1, f"the firmware stopped at {stop.pc:#x} (instruction {stop.icount:,}) "
                      f"on CPU exception {stop.intno}, which the board does not know")

    def _hardfault(self, at: int, what: str) -> Ending | None:
        """A fault enters HardFault with the faulting instruction as its return address (UsageFault,
        BusFault, MemManage and debug events escalate to it: their own handlers are not emulated);
        one inside HardFault or NMI is a lockup, which ends the run."""
        if any(n in (NMI, HARDFAULT) for n in self.nvic.active):
            return Ending("error", 1, f"lockup: {what} at {at:#x} (instruction {self.icount:,}) in the "
                          f"{'HardFault' if HARDFAULT in self.nvic.active else 'NMI'} handler")
        self._enter(HARDFAULT, at)
        return None

    def _bkpt(self, stop: RunStop) -> Ending | None:
        m = self.machine
        half = int.from_bytes(m.mem.read(stop.pc, 2), "little")
        if half != BKPT_SEMIHOSTING:                # no debugger: a debug event, escalated
            return self._hardfault(stop.pc, f"bkpt #{half & 0xFF:#x}")
        result = semihosting(m.reg("r0"), m.reg("r1"), m.mem, wide=False)
        m.set_reg("pc", stop.pc + 2)                # bkpt did not retire: step past it
        m.set_icount(m.icount + 1)
        return self._apply_call(result, "r0", 0xFFFF_FFFF)

    # -- state -------------------------------------------------------------------------
    def _title(self) -> str:
        ranges = ", ".join(f"{name} {base:#x}-{base + size:#x}" for name, base, size in self.board.memory)
        return (f"board {self.board.name}: {ranges}, {self.interrupts_taken} interrupts taken, "
                f"ipsr={self.machine.reg('ipsr')}")


__all__ = ["CORTEX_M3", "FIRST_EXTERNAL", "MPS2_AN385", "MBoard", "MSystem", "Machine"]
