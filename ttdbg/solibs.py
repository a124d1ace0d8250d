"""Shared objects in the guest at the current position, and symbols across all images.

A dynamic program's libc and ld.so are not where their ELF files say: ld.so
(and the kernel, for ld.so itself) map them at a load base chosen at run
time, and before ld.so has mapped libc there is no libc at all.  The guest
memory map knows: file mappings carry the guest path, and the trace holds a
captured copy of every file the program opened.  `SharedLibraries` turns the
map at the current position into `LoadedObject`s (path, load base, mapped
extent), each with `Symbols` parsed lazily from the captured bytes and cached
by (path, base) across time, so travelling back and forth never parses twice.
The map is re-read only when the position changed, and the objects are
recomputed only when the layout key (the tuple of (start, end, name)) did.

`ImageSymbols` puts the program and the loaded libraries behind one
address-keyed face (`name_at`, `symbolize`, `image_at`, `object_at`,
`unwind`), which is what the renderer, `bt` and the stepper use.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from replay import Arch

from .symbols import Frame, ReadMemory, Symbol, SymbolError, Symbols, unwind

log = logging.getLogger(__name__)

PAGE_MASK = ~0xFFF


@dataclass
class LoadedObject:
    """One shared object mapped in the guest."""

    path: str
    base: int                 # load bias: runtime address = link-time address + base
    low: int                  # mapped extent [low, high)
    high: int
    text: tuple[int, int]     # .text bounds (runtime), what `info sharedlibrary` shows as From/To
    data: bytes = field(repr=False, default=b"")
    _symbols: Symbols | None = field(default=None, repr=False)
    _failed: bool = False

    @property
    def symbols(self) -> Symbols | None:
        if self._symbols is None and not self._failed:
            try:
                self._symbols = Symbols(self.data, self.path, bias=self.base)
            except SymbolError as exc:
                log.info("no symbols for %s: %s", self.path, exc)
                self._failed = True
        return self._symbols

    def contains(self, address: int) -> bool:
        return self.low <= address < self.high


@dataclass(frozen=True)
class _ElfFacts:
    min_vaddr: int            # lowest PT_LOAD p_vaddr, page-aligned down
    text: tuple[int, int]     # link-time .text bounds (0, 0 if none)


class SharedLibraries:
    """The ELF objects (other than the program) mapped at the current position."""

    def __init__(self, read_captured: Callable[[str], bytes | None], captured: Collection[str],
                 regions: Callable[[], Iterable], position: Callable[[], int], program: str,
                 interpreter: str = "") -> None:
        self._read = read_captured
        self._captured = captured
        self._regions = regions
        self._position = position
        self._program = program
        self.interpreter = interpreter
        self._facts: dict[str, _ElfFacts | None] = {}
        self._cache: dict[tuple[str, int], LoadedObject] = {}
        self._at_position: int | None = None
        self._key: tuple = ()
        self._objects: list[LoadedObject] = []

    def objects(self) -> list[LoadedObject]:
        """The loaded objects, in gdb's order (the dynamic loader first, then by address)."""
        pos = self._position()
        if pos != self._at_position:
            self._at_position = pos
            regions = [(r.start, r.end, r.name) for r in self._regions()]
            key = tuple(regions)
            if key != self._key:
                self._key = key
                self._objects = self._compute(regions)
        return self._objects

    def object_at(self, address: int) -> LoadedObject | None:
        for obj in self.objects():
            if obj.contains(address):
                return obj
        return None

    def find_function(self, name: str) -> Symbol | None:
        for obj in self.objects():
            sym = obj.symbols
            if sym is None:
                continue
            s = sym.by_name.get(name)
            if s is not None and s.is_function:
                return s
        return None

    def _compute(self, regions: list[tuple[int, int, str]]) -> list[LoadedObject]:
        spans: dict[str, list[int]] = {}
        for start, end, name in regions:
            if not name or name == self._program or name not in self._captured:
                continue
            span = spans.setdefault(name, [start, end])
            span[0], span[1] = min(span[0], start), max(span[1], end)
        out = []
        for path, (low, high) in spans.items():
            facts = self._elf_facts(path)
            if facts is None:
                continue
            base = low - facts.min_vaddr
            obj = self._cache.get((path, base))
            if obj is None:
                text = (facts.text[0] + base, facts.text[1] + base) if facts.text[1] else (low, high)
                obj = LoadedObject(path, base, low, high, text, self._read(path) or b"")
                self._cache[(path, base)] = obj
            obj.low, obj.high = low, high
            out.append(obj)
        out.sort(key=lambda o: (o.path != self.interpreter, o.base))
        return out

    def _elf_facts(self, path: str) -> _ElfFacts | None:
        if path not in self._facts:
            self._facts[path] = None
            data = self._read(path)
            if data is not None and data[:4] == b"\x7fELF":
                try:
                    elf = ELFFile(io.BytesIO(data))
                    loads = [s["p_vaddr"] for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
                    if loads and elf["e_type"] == "ET_DYN":
                        text = elf.get_section_by_name(".text")
                        bounds = (text["sh_addr"], text["sh_addr"] + text["sh_size"]) if text is not None else (0, 0)
                        self._facts[path] = _ElfFacts(min(loads) & PAGE_MASK, bounds)
                except (ELFError, ValueError) as exc:
                    log.info("%s is not a loadable ELF: %s", path, exc)
        return self._facts[path]


class ImageSymbols:
    """The program's symbols and the loaded libraries' behind one address-keyed face."""

    def __init__(self, program: Symbols | None, libraries: SharedLibraries | None) -> None:
        self.program = program
        self.libraries = libraries

    def object_at(self, address: int) -> LoadedObject | None:
        return self.libraries.object_at(address) if self.libraries is not None else None

    def image_at(self, address: int) -> Symbols | None:
        obj = self.object_at(address)
        if obj is not None:
            return obj.symbols
        return self.program

    def symbolize(self, address: int) -> tuple[Symbol, int] | None:
        image = self.image_at(address)
        return image.symbolize(address) if image is not None else None

    def name_at(self, address: int) -> str | None:
        image = self.image_at(address)
        return image.name_at(address) if image is not None else None

    def unwind(self, regs: dict[str, int], read: ReadMemory, arch: Arch, limit: int = 64) -> list[Frame]:
        return unwind(regs, read, self.image_at, arch, limit)
