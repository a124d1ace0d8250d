"""ELF loading: parse an x86-64, aarch64 or riscv64 executable and map it into guest memory.

Handles the three kinds of programs gcc builds here: static (ET_EXEC),
static-pie and dynamically linked PIE (ET_DYN).  For a dynamic program the
interpreter named by PT_INTERP (the system's ld.so) is mapped too and gets
control first, exactly as the kernel does; it then loads libc itself through
the emulated openat/mmap system calls.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .arch import BY_ELF_MACHINE_NAME, X86_64, Arch
from .errors import ProgramError
from .memory import PROT_EXEC, PROT_READ, PROT_WRITE, AddressSpace, page_down, page_up

PIE_BASE = 0x555555554000


@dataclass(frozen=True)
class Segment:
    vaddr: int
    memsz: int
    filesz: int
    offset: int
    prot: int


@dataclass(frozen=True)
class ElfImage:
    path: str
    is_dyn: bool
    entry: int
    phoff: int
    phentsize: int
    phnum: int
    segments: tuple[Segment, ...]
    interp: str
    arch: Arch = X86_64

    @property
    def span(self) -> tuple[int, int]:
        lo = min(page_down(s.vaddr) for s in self.segments)
        hi = max(page_up(s.vaddr + s.memsz) for s in self.segments)
        return lo, hi


@dataclass(frozen=True)
class LoadedImage:
    image: ElfImage
    base: int            # load bias (0 for ET_EXEC)
    end: int             # first page after the highest segment

    @property
    def entry(self) -> int:
        return self.base + self.image.entry

    @property
    def phdr(self) -> int:
        """Guest address of the program headers (AT_PHDR)."""
        for s in self.image.segments:
            if s.offset <= self.image.phoff < s.offset + s.filesz:
                return self.base + s.vaddr + (self.image.phoff - s.offset)
        return self.base + self.image.span[0] + self.image.phoff


def _prot(flags: int) -> int:
    prot = 0
    if flags & 4:
        prot |= PROT_READ
    if flags & 2:
        prot |= PROT_WRITE
    if flags & 1:
        prot |= PROT_EXEC
    return prot


MAX_SHEBANG = 3                  # interpreters a script may chain to (then ELOOP)


def shebang(data: bytes) -> tuple[str, bytes | None] | None:
    """A script's interpreter and optional argument (#!), or None."""
    if not data.startswith(b"#!"):
        return None
    line = data[2:].split(b"\n", 1)[0][:254].strip()
    if not line:
        return None
    parts = line.split(None, 1)
    return parts[0].decode("utf-8", "surrogateescape"), (parts[1].strip() if len(parts) > 1 else None)


def script_argv(interp: str, arg: bytes | None, script: bytes, argv: list[bytes]) -> list[bytes]:
    """The interpreter's argv, as Linux builds it: interp [arg] script argv[1:]."""
    return [interp.encode("utf-8", "surrogateescape"), *([arg] if arg else []), script, *argv[1:]]


def parse_elf(path: str, data: bytes) -> ElfImage:
    """Parse an executable; raises ProgramError with a one-line reason."""
    if not data.startswith(b"\x7fELF"):
        raise ProgramError(f"{path}: not an ELF executable")
    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
        arch = BY_ELF_MACHINE_NAME.get(machine) if isinstance(machine, str) else None
        if elf.elfclass != 64 or arch is None:
            name = machine.replace("EM_", "") if isinstance(machine, str) else str(machine)
            raise ProgramError(f"{path}: unsupported architecture {name} "
                               f"({elf.elfclass}-bit); ttdbg runs x86-64, aarch64 and riscv64 Linux programs")
        etype = elf["e_type"]
        if etype not in ("ET_EXEC", "ET_DYN"):
            raise ProgramError(f"{path}: not an executable (ELF type {etype})")
        segments = []
        interp = ""
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_memsz"] > 0:
                segments.append(Segment(seg["p_vaddr"], seg["p_memsz"], seg["p_filesz"],
                                        seg["p_offset"], _prot(seg["p_flags"])))
            elif seg["p_type"] == "PT_INTERP":
                interp = seg.get_interp_name()
        if not segments:
            raise ProgramError(f"{path}: no loadable segments")
        return ElfImage(path, etype == "ET_DYN", elf["e_entry"], elf["e_phoff"],
                        elf["e_phentsize"], elf["e_phnum"], tuple(segments), interp, arch)
    except ELFError as exc:
        raise ProgramError(f"{path}: corrupt ELF file ({exc})") from None
    except (ValueError, KeyError, IndexError) as exc:
        raise ProgramError(f"{path}: corrupt ELF file ({exc})") from None


def load_image(mem: AddressSpace, image: ElfImage, data: bytes, base: int, name: str) -> LoadedImage:
    """Map every PT_LOAD segment at `base` (0 for ET_EXEC) and copy its bytes."""
    if not image.is_dyn:
        base = 0
    for seg in image.segments:
        start = page_down(base + seg.vaddr)
        end = page_up(base + seg.vaddr + seg.memsz)
        # Segments may share a page at their boundary: map only the new pages
        # and widen the protection of the shared ones.
        addr = start
        while addr < end:
            region = mem.find(addr)
            if region is not None:
                stop = min(region.end, end)
                mem.protect(addr, stop - addr, region.prot | seg.prot)
                addr = stop
                continue
            nxt = end
            for r in mem.overlapping(addr, end):
                nxt = min(nxt, r.start)
            mem.map(addr, nxt - addr, seg.prot, name, file_offset=page_down(seg.offset) + (addr - start))
            addr = nxt
        if seg.filesz:
            chunk = data[seg.offset:seg.offset + seg.filesz]
            if len(chunk) < seg.filesz:
                raise ProgramError(f"{image.path}: truncated ELF file")
            mem.write(base + seg.vaddr, chunk)
    lo, hi = image.span
    return LoadedImage(image, base, base + hi)
