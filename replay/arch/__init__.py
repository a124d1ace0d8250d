"""The CPU architectures ttdbg runs, one description each (see base.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .aarch64 import AARCH64
from .base import Arch, DebugInfo, DebugRegister
from .riscv64 import RISCV64
from .x86_64 import X86_64

if TYPE_CHECKING:
    from ..eventlog import TraceHeader

ARCHES: tuple[Arch, ...] = (X86_64, AARCH64, RISCV64)
BY_ELF_MACHINE: dict[int, Arch] = {a.elf_machine: a for a in ARCHES}
BY_ELF_MACHINE_NAME: dict[str, Arch] = {a.elf_machine_name: a for a in ARCHES}


def arch_of(header: TraceHeader) -> Arch | None:
    """The description of a trace's architecture (by its header's ELF machine), None if ttdbg has none."""
    return BY_ELF_MACHINE.get(header.machine)


__all__ = ["AARCH64", "ARCHES", "Arch", "BY_ELF_MACHINE", "BY_ELF_MACHINE_NAME", "DebugInfo", "DebugRegister",
           "RISCV64", "X86_64", "arch_of"]
