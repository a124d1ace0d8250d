"""How the REPL shows things: registers, memory, disassembly, source, the progress bar.

Pure formatting: every function takes values (and a `Style`) and returns
text, so the same code serves the terminal, the pipe-input tests and plain
`execute()` calls.  Colour is ANSI and is switched off by `NO_COLOR` or a
non-terminal output (see `Style.for_stream`).
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from replay import Arch, Instruction

from .symbols import CType


class Names(Protocol):
    """What the renderer asks of symbols: a name for an address (Symbols, ImageSymbols)."""

    def name_at(self, address: int) -> str | None: ...

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34",
          "magenta": "35", "cyan": "36"}


@dataclass(frozen=True)
class Style:
    color: bool = False

    @classmethod
    def for_stream(cls, stream) -> "Style":
        if os.environ.get("NO_COLOR"):
            return cls(False)
        try:
            return cls(bool(stream.isatty()))
        except (AttributeError, ValueError):
            return cls(False)

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


PLAIN = Style(False)

def register_aliases(arch: Arch) -> dict[str, str]:
    """gdb's $pc, $sp and $fp: the architecture's names of them."""
    assert arch.debug is not None
    return {"pc": arch.pc, "sp": arch.sp, "fp": arch.debug.fp}


def pointer_registers(arch: Arch) -> frozenset[str]:
    """The registers gdb shows as pointers (code, stack and frame pointers)."""
    aliases = register_aliases(arch)
    return frozenset({*aliases, *aliases.values()})


_FLAGS = ((0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"),
          (10, "DF"), (11, "OF"))


def eflags_text(v: int) -> str:
    return "[ " + " ".join(n for bit, n in _FLAGS if v >> bit & 1) + " ]"


_NZCV = ((31, "N"), (30, "Z"), (29, "C"), (28, "V"))


def cpsr_text(v: int) -> str:
    """aarch64's cpsr as gdb shows it (EL 0: user mode)."""
    return "[ " + " ".join(["EL=0", *(n for bit, n in _NZCV if v >> bit & 1)]) + " ]"


def registers(values: dict[str, int], previous: dict[str, int] | None, style: Style,
              symbols: Names | None, arch: Arch) -> str:
    """gdb's `info registers` layout; changed registers since the last stop are highlighted."""
    out = []
    pc, pointers = arch.pc, pointer_registers(arch)
    for name, v in values.items():
        if name == "eflags":
            natural = eflags_text(v)
        elif name == "cpsr":
            natural = cpsr_text(v)
        elif name == pc and symbols is not None:
            sym = symbols.name_at(v)
            natural = f"{v:#x} <{sym}>" if sym else f"{v:#x}"
        elif name in pointers or name in ("fs_base", "gs_base", "tpidr_el0"):
            natural = f"{v:#x}"
        else:
            natural = str(v - (1 << 64) if v >> 63 else v)
        line = f"{name:<15}{v:<#19x}{natural}"
        if previous is not None and name in previous and previous[name] != v:
            line = style(line, "bold", "red")
        out.append(line)
    return "\n".join(out)


# -- x/FMT ---------------------------------------------------------------------------------
_SIZES = {"b": 1, "h": 2, "w": 4, "g": 8}
_X_RE = re.compile(r"^(\d*)([xduotacfsi]?)([bhwg]?)([xduotacfsi]?)$")


@dataclass(frozen=True)
class XFormat:
    count: int = 1
    fmt: str = "x"
    size: int = 4


def parse_xfmt(text: str, last: XFormat | None = None) -> XFormat:
    m = _X_RE.match(text)
    if m is None:
        raise ValueError(f'Invalid number "{text}".')
    count = int(m.group(1)) if m.group(1) else 1
    fmt = m.group(2) or m.group(4) or (last.fmt if last else "x")
    size = _SIZES.get(m.group(3), 0) or (8 if fmt == "a" else 1 if fmt == "c" else (last.size if last else 4))
    return XFormat(count, fmt, size)


def examine(read: Callable[[int, int], bytes], address: int, xf: XFormat, symbols: Names | None,
            disassemble: Callable[[int, int], list[Instruction]] | None = None, pc: int | None = None) -> str:
    """`x/FMT ADDRESS`; with `i`, the instruction at `pc` is marked `=> ` as gdb marks it."""
    if xf.fmt == "i":
        assert disassemble is not None
        return disassembly(disassemble(address, xf.count), pc, symbols, PLAIN)
    if xf.fmt == "s":
        lines = []
        for _ in range(xf.count):
            data = bytearray()
            while len(data) < 4096:
                b = read(address + len(data), 1)
                if b == b"\0":
                    break
                data += b
            lines.append(f"{_addr_label(address, symbols)}:\t{_c_string(bytes(data))}")
            address += len(data) + 1
        return "\n".join(lines)
    per_line = {1: 8, 2: 8, 4: 4, 8: 2}[xf.size]
    data = read(address, xf.size * xf.count)
    lines = []
    for i in range(0, xf.count, per_line):
        words = []
        for j in range(i, min(i + per_line, xf.count)):
            raw = data[j * xf.size:(j + 1) * xf.size]
            words.append(_fmt_word(raw, xf.fmt, xf.size, symbols))
        lines.append(f"{_addr_label(address + i * xf.size, symbols)}:\t" + "\t".join(words))
    return "\n".join(lines)


def _addr_label(address: int, symbols: Names | None) -> str:
    name = symbols.name_at(address) if symbols is not None else None
    return f"{address:#x} <{name}>" if name else f"{address:#x}"


def _fmt_word(raw: bytes, fmt: str, size: int, symbols: Names | None) -> str:
    return format_unit(raw, fmt, symbols, pad=True)


def format_unit(raw: bytes, fmt: str, symbols: Names | None, pad: bool = False) -> str:
    """One value in a gdb output format (x d u o t c a f); `pad` as x/FMT does."""
    size = len(raw)
    u = int.from_bytes(raw, "little")
    s = int.from_bytes(raw, "little", signed=True)
    if fmt == "x":
        return f"{u:#0{size * 2 + 2}x}" if pad else f"{u:#x}"
    if fmt == "d":
        return str(s)
    if fmt == "u":
        return str(u)
    if fmt == "o":
        return f"0{u:o}"
    if fmt == "t":
        return f"{u:0{size * 8}b}" if pad else f"{u:b}"
    if fmt == "c":
        return f"{s} {_c_char(u & 0xFF)}"
    if fmt == "a":
        name = symbols.name_at(u) if symbols is not None else None
        return f"{u:#x} <{name}>" if name else f"{u:#x}"
    if fmt == "f":
        if size == 8:
            return repr(struct.unpack("<d", raw)[0])
        if size == 4:
            return repr(struct.unpack("<f", raw)[0])
        return str(s)
    return f"{u:#x}"


def _c_char(c: int) -> str:
    esc = {0: "\\000", 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
           39: "\\'", 92: "\\\\"}
    if c in esc:
        return f"'{esc[c]}'"
    if 32 <= c < 127:
        return f"'{chr(c)}'"
    return f"'\\{c:03o}'"


def _c_string(data: bytes) -> str:
    out = []
    for c in data:
        if c == 34:
            out.append('\\"')
        elif 32 <= c < 127 and c != 92:
            out.append(chr(c))
        else:
            out.append(_c_char(c)[1:-1])
    return '"' + "".join(out) + '"'


# -- values ----------------------------------------------------------------------------------
def value(raw: bytes, ctype: CType, symbols: Names | None, depth: int = 0) -> str:
    """A C value as gdb prints it (integers, chars, floats, pointers, arrays, structs)."""
    kind = ctype.kind
    if kind == "array" and ctype.element is not None and ctype.element.size:
        el = ctype.element
        if el.kind == "char":
            text = raw.split(b"\0", 1)[0]
            return _c_string(text) + ("" if len(text) < len(raw) else "...")
        items = [value(raw[i * el.size:(i + 1) * el.size], el, symbols, depth + 1) for i in range(ctype.count)]
        if len(items) > 200:
            items = items[:200] + ["..."]
        return "{" + ", ".join(items) + "}"
    if kind == "struct":
        parts = [f"{name} = {value(raw[off:off + t.size], t, symbols, depth + 1)}"
                 for name, off, t in ctype.members]
        return "{" + ", ".join(parts) + "}"
    if kind == "pointer":
        u = int.from_bytes(raw[:8], "little")
        name = symbols.name_at(u) if symbols is not None and u else None
        return f"{u:#x}" + (f" <{name}>" if name else "")
    if kind == "float":
        if ctype.size == 8:
            return repr(struct.unpack("<d", raw[:8])[0])
        if ctype.size == 4:
            return repr(struct.unpack("<f", raw[:4])[0])
        return raw.hex()
    if kind == "char":
        c = raw[0] if raw else 0
        s = c - 256 if c >= 128 else c
        return f"{s} {_c_char(c)}"
    if kind == "uint":
        return str(int.from_bytes(raw, "little"))
    return str(int.from_bytes(raw, "little", signed=True))


# -- disassembly -------------------------------------------------------------------------------
_TARGET = re.compile(r"^(call|j[a-z]+|loop[a-z]*|jmp)$")


def disassembly(insns: Iterable[Instruction], pc: int | None, symbols: Names | None, style: Style) -> str:
    lines = []
    for insn in insns:
        mark = "=> " if insn.address == pc else "   "
        name = symbols.name_at(insn.address) if symbols is not None else None
        label = f"{insn.address:#x} <{name}>" if name else f"{insn.address:#x}"
        ops = insn.op_str
        if _TARGET.match(insn.mnemonic) and ops.startswith("0x") and symbols is not None:
            try:
                target = int(ops, 16)
                tname = symbols.name_at(target)
                if tname:
                    ops = f"{ops} <{tname}>"
            except ValueError:
                pass
        text = f"{mark}{label}:\t{insn.mnemonic:<7}{(' ' + ops) if ops else ''}".rstrip()
        if insn.address == pc:
            text = style(text, "bold", "green")
        lines.append(text)
    return "\n".join(lines)


# -- source ------------------------------------------------------------------------------------
class SourceCache:
    def __init__(self) -> None:
        self._files: dict[str, list[str] | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self._files:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    self._files[path] = f.read().splitlines()
            except OSError:
                self._files[path] = None
        return self._files[path]

    def line(self, path: str, number: int) -> str | None:
        lines = self.lines(path)
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


def source_lines(cache: SourceCache, path: str, first: int, last: int, current: int | None,
                 style: Style) -> str:
    lines = cache.lines(path)
    if lines is None:
        return f"{first}\tin {path}"
    out = []
    for n in range(max(first, 1), min(last, len(lines)) + 1):
        text = f"{n}\t{lines[n - 1]}"
        if n == current:
            text = style(text, "bold")
        out.append(text)
    return "\n".join(out)


# -- the toolbar -------------------------------------------------------------------------------
def progress_bar(position: int, total: int, where: str = "", width: int = 20) -> str:
    """`[=====>      ] 41.2%  icount 238,411,003 / 580,000,000  main at loop.c:14`"""
    frac = position / total if total else 1.0
    frac = min(max(frac, 0.0), 1.0)
    filled = int(frac * width)
    bar = "=" * filled + (">" if filled < width else "") + " " * (width - filled - 1)
    text = f"[{bar[:width]}] {100 * frac:5.1f}%  icount {position:,} / {total:,}"
    if where:
        text += f"  {where}"
    return text
