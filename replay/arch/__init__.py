"""The CPU architectures ttdbg runs, one description each (see base.py)."""

from __future__ import annotations

from .aarch64 import AARCH64
from .base import Arch
from .riscv64 import RISCV64
from .x86_64 import X86_64

ARCHES: tuple[Arch, ...] = (X86_64, AARCH64, RISCV64)
BY_ELF_MACHINE: dict[int, Arch] = {a.elf_machine: a for a in ARCHES}
BY_ELF_MACHINE_NAME: dict[str, Arch] = {a.elf_machine_name: a for a in ARCHES}

__all__ = ["AARCH64", "ARCHES", "Arch", "BY_ELF_MACHINE", "BY_ELF_MACHINE_NAME", "RISCV64", "X86_64"]
