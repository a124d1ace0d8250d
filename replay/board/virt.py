"""The boards ttdbg emulates, one description each, as data.

`VIRT` is QEMU's `virt` machine (hw/arm/virt.c's memory map) with an aarch64
Cortex-A57, so that the same firmware runs on `qemu-system-aarch64 -M virt`
and on ttdbg.  A board is its RAM, its devices (where each is mapped and the
interrupt it raises) and its CPU; the device models are gic.py, pl011.py,
gentimer.py, and the firmware's calls to the machine are psci.py and
semihosting.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ..arch.aarch64 import AARCH64, AARCH64_DEBUG, GDB_REGISTERS, GPR_NAMES, REGISTERS
from ..arch.base import Arch, DebugRegister

if TYPE_CHECKING:
    from .firmware import Firmware
    from .system import BoardSystem

# The EL1 system registers a firmware developer looks at, by Unicorn's names
# (SPSR_EL1 has none: it is reached as a system register, see exceptions.py).
BOARD_REGISTERS: dict[str, str] = {
    **REGISTERS,
    "pstate": "UC_ARM64_REG_PSTATE",
    "elr_el1": "UC_ARM64_REG_ELR_EL1", "esr_el1": "UC_ARM64_REG_ESR_EL1",
    "far_el1": "UC_ARM64_REG_FAR_EL1", "vbar_el1": "UC_ARM64_REG_VBAR_EL1",
    "sp_el0": "UC_ARM64_REG_SP_EL0", "sp_el1": "UC_ARM64_REG_SP_EL1",
}

# gdb's registers on a board: aarch64's core (cpsr is the whole PSTATE: EL, SP, DAIF, NZCV)
# and fpu features, then the EL1 system registers in a feature of ttdbg's own, which gdb
# shows by name (`p $esr_el1`, `info registers system`).  All read-only: a replay refuses writes.
EL1_FEATURE = "org.ttdbg.aarch64.el1"
EL1_REGISTERS = ("elr_el1", "spsr_el1", "esr_el1", "far_el1", "vbar_el1", "sp_el0", "sp_el1")
_EL1_TYPES = {"elr_el1": "code_ptr", "vbar_el1": "code_ptr", "sp_el0": "data_ptr", "sp_el1": "data_ptr"}
BOARD_DEBUG = dataclasses.replace(
    AARCH64_DEBUG, osabi="none",
    registers=(*(dataclasses.replace(r, engine="pstate") if r.name == "cpsr" else r
                 for r in GDB_REGISTERS if r.feature != "org.gnu.gdb.aarch64.tls"),
               *(DebugRegister(n, 64, _EL1_TYPES.get(n, "int"), EL1_FEATURE, "system") for n in EL1_REGISTERS)),
    general_registers=(*GPR_NAMES, "sp", "pc", "pstate", *EL1_REGISTERS),
)

# The CPU QEMU's virt board is run with in the README and the tests (-cpu cortex-a57).
BARE_METAL_A57: Arch = dataclasses.replace(
    AARCH64, signature="aarch64 Cortex-A57 (Unicorn), bare metal at EL1",
    uc_cpu_model="UC_CPU_ARM64_A57", registers=BOARD_REGISTERS,
    hashed=(*AARCH64.hashed, "pstate", "elr_el1", "esr_el1", "vbar_el1"),
    # Every CPU exception comes back to the board (boards.py): svc is not a system call.
    syscall_interrupt=None, trap_signals={},
    # wfi stops the counter before it (a FAULT the board turns into an idle check point):
    # Unicorn itself returns quietly after it (measured), which an exact stop could split.
    trapped=frozenset({"wfi"}),
    debug=BOARD_DEBUG,
)


@dataclass(frozen=True)
class Device:
    name: str          # as `info board` shows it
    model: str         # the device model: "pl011", "gicv2-dist", "gicv2-cpu"
    base: int
    size: int
    intid: int = -1    # the GIC interrupt it raises (-1: none)


@dataclass(frozen=True)
class Board:
    name: str
    arch: Arch
    ram_base: int
    default_ram: int
    max_ram: int
    devices: tuple[Device, ...]
    timer_intids: dict[str, int]        # generic timer -> its PPI's INTID
    counter_frequency: int              # CNTFRQ_EL0 (Hz)
    icount_shift: int                   # one instruction = 2**shift counter ticks... see gentimer.py
    gic_lines: int                      # interrupt IDs the distributor implements

    elf_class: ClassVar[int] = 64       # the firmware's ELF class

    def device(self, model: str) -> Device:
        return next(d for d in self.devices if d.model == model)

    def memory_ranges(self, ram_size: int) -> tuple[tuple[int, int], ...]:
        """The board's RAM, [start, end) each: firmware is loaded inside them."""
        return ((self.ram_base, self.ram_base + ram_size),)

    def check(self, firmware: Firmware) -> None:
        """Raise ProgramError if the loaded firmware cannot start on the board (here: it always can)."""

    def make_system(self, ram_size: int, firmware: Firmware, console: Callable[[bytes], None],
                    warn: Callable[[str], None], clock: str = "virtual") -> BoardSystem:
        """The board assembled, ready to run `firmware` (every board has its own: mps2.py)."""
        from .system import BoardSystem
        return BoardSystem(self, ram_size, firmware, console, warn, clock)


SPI_BASE = 32           # INTID of SPI 0
PPI_BASE = 16           # INTID of PPI 0

VIRT = Board(
    name="virt",
    arch=BARE_METAL_A57,
    ram_base=0x4000_0000,
    default_ram=128 << 20,
    max_ram=3 << 30,                    # below 4 GiB, as QEMU's low RAM region ends at 0xffffffff... (3 GiB)
    devices=(
        Device("gic distributor", "gicv2-dist", 0x0800_0000, 0x1_0000),
        Device("gic cpu interface", "gicv2-cpu", 0x0801_0000, 0x1_0000),
        Device("uart0", "pl011", 0x0900_0000, 0x1000, intid=SPI_BASE + 1),
    ),
    # hw/arm/virt.c: ARCH_TIMER_NS_EL1_IRQ 14 (PPI 14 = INTID 30), ARCH_TIMER_VIRT_IRQ 11 (INTID 27)
    timer_intids={"phys": PPI_BASE + 14, "virt": PPI_BASE + 11},
    counter_frequency=62_500_000,       # QEMU's: one tick every 16 ns
    icount_shift=4,                     # as QEMU's -icount shift=4: one instruction every 16 ns
    gic_lines=96,
)
