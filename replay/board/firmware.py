"""A firmware image for a board: an ELF executable (its entry point) or a raw binary (--load ADDR).

Everything is checked against the board before a trace is made: an ELF of
the board's machine, every loaded byte inside RAM.  A problem is one
ProgramError line.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from ..errors import ProgramError

if TYPE_CHECKING:
    from .virt import Board  # (or any board with memory_ranges and elf_class: mps2.py's)

PF_X = 1


@dataclass(frozen=True)
class Segment:
    address: int
    data: bytes
    size: int            # in memory (the rest of data zeroed)
    executable: bool


@dataclass(frozen=True)
class Firmware:
    entry: int
    segments: tuple[Segment, ...]


def load_firmware(name: str, data: bytes, board: Board, ram_size: int, load: int | None) -> Firmware:
    ram = board.memory_ranges(ram_size)
    if load is not None:
        if not data:
            raise ProgramError(f"{name}: empty firmware image")
        _inside(name, load, len(data), ram, "the image")
        return Firmware(load, (Segment(load, data, len(data), True),))
    if data[:4] != b"\x7fELF":
        raise ProgramError(f"{name}: not an ELF file (a raw binary needs --load ADDR)")
    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
        if machine != board.arch.elf_machine_name or elf.elfclass != board.elf_class:
            raise ProgramError(f"{name}: an ELF for {machine} ({elf.elfclass}-bit), not for the "
                               f"{board.name} board's {board.arch.name}")
        if elf["e_type"] != "ET_EXEC":
            raise ProgramError(f"{name}: not a bare-metal executable (ELF type {elf['e_type']}; "
                               "link it with -static and a linker script)")
        segments = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            addr = seg["p_paddr"] or seg["p_vaddr"]
            _inside(name, addr, seg["p_memsz"], ram, "a loaded segment")
            segments.append(Segment(addr, seg.data()[:seg["p_filesz"]], seg["p_memsz"],
                                    bool(seg["p_flags"] & PF_X)))
        entry = elf["e_entry"]
    except ELFError as exc:
        raise ProgramError(f"{name}: damaged ELF file ({exc})") from None
    if not segments:
        raise ProgramError(f"{name}: no loadable segments")
    if not any(s.address <= entry < s.address + s.size for s in segments):
        raise ProgramError(f"{name}: entry point {entry:#x} is outside its loaded segments")
    return Firmware(entry, tuple(segments))


def _inside(name: str, addr: int, size: int, ram: tuple[tuple[int, int], ...], what: str) -> None:
    if not any(lo <= addr and addr + size <= hi for lo, hi in ram):
        where = ", ".join(f"{lo:#x}-{hi:#x}" for lo, hi in ram)
        raise ProgramError(f"{name}: {what} at {addr:#x}-{addr + size:#x} is outside RAM "
                           f"({where}{'; see --ram' if len(ram) == 1 else ''})")
