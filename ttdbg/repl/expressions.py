"""The REPL's small expression language, for when gdb is not installed.

`*ADDR`, `&var`, `$reg`, `var`, `arr[N]`, `s.m` and `p->m` over the types the
DWARF reader knows (symbols.CType).  Names and registers are looked up
through a `Scope` (the REPL's selected frame); anything richer is gdb's job.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Protocol

from .. import render
from ..symbols import CType
from .table import CommandError

INT_TYPES = {1: CType("char", 1, "int"), 2: CType("short", 2, "int"), 4: CType("int", 4, "int"),
             8: CType("long", 8, "int")}
_EXPR_TOKEN = re.compile(r"\s*(->|\[|\]|\.|\*|&|\$?[A-Za-z_][A-Za-z_0-9]*|0[xX][0-9a-fA-F]+|\d+)")


@dataclass(frozen=True)
class LValue:
    address: int | None
    ctype: CType | None
    value: int | None = None        # registers and constants



class Scope(Protocol):
    """What an expression can see: variables, registers, memory."""

    def find_variable(self, name: str) -> LValue | None: ...
    def frame_register(self, name: str) -> int: ...     # also $pc, $sp, $fp
    pointer_registers: frozenset[str]                    # the registers that are pointers
    def read_memory(self, address: int, length: int) -> bytes: ...


class Parser:
    def __init__(self, scope: Scope, tokens: list[str], text: str) -> None:
        self.r = scope
        self.t = tokens
        self.i = 0
        self.text = text

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise CommandError("A syntax error in expression, near `'.")
        self.i += 1
        return tok

    def parse(self) -> LValue:
        lv = self.unary()
        if self.peek() is not None:
            rest = " ".join(self.t[self.i:])
            raise CommandError(f"A syntax error in expression, near `{rest}'.")
        return lv

    def unary(self) -> LValue:
        tok = self.peek()
        if tok == "*":
            self.take()
            inner = self.unary()
            return self.deref(inner)
        if tok == "&":
            self.take()
            inner = self.unary()
            if inner.address is None:
                raise CommandError("Attempt to take address of value not located in memory.")
            t = inner.ctype
            return LValue(None, CType(f"{t.name if t else 'long'} *", 8, "pointer", t), inner.address)
        return self.postfix(self.primary())

    def deref(self, lv: LValue) -> LValue:
        if lv.value is not None:
            el = lv.ctype.element if lv.ctype is not None and lv.ctype.kind == "pointer" else None
            return LValue(lv.value, el or INT_TYPES[8])
        t = lv.ctype
        if t is not None and t.kind in ("pointer", "array") and lv.address is not None:
            if t.kind == "array":
                return LValue(lv.address, t.element)
            ptr = struct.unpack("<Q", self.r.read_memory(lv.address, 8))[0]
            return LValue(ptr, t.element if t.element and t.element.size else INT_TYPES[8])
        raise CommandError("Attempt to take contents of a non-pointer value.")

    def primary(self) -> LValue:
        tok = self.take()
        if tok.startswith("$"):
            name = tok[1:]
            try:
                v = self.r.frame_register(name)
            except KeyError:
                raise CommandError(f"Invalid register `{tok[1:]}'.") from None
            return LValue(None, INT_TYPES[8] if name not in self.r.pointer_registers else
                          CType("void *", 8, "pointer", CType("void", 0, "other")), v)
        if tok[0].isdigit():
            return LValue(None, INT_TYPES[8], int(tok, 0))
        if not (tok[0].isalpha() or tok[0] == "_"):
            raise CommandError(f"A syntax error in expression, near `{tok}'.")
        lv = self.r.find_variable(tok)
        if lv is None:
            raise CommandError(f'No symbol "{tok}" in current context.')
        return lv

    def postfix(self, lv: LValue) -> LValue:
        while self.peek() in ("[", ".", "->"):
            tok = self.take()
            if tok == "[":
                idx_tok = self.take()
                if not idx_tok[0].isdigit():
                    raise CommandError("Only constant indexes are supported without gdb.")
                idx = int(idx_tok, 0)
                if self.take() != "]":
                    raise CommandError("A syntax error in expression, near `]'.")
                t = lv.ctype
                if t is None or t.element is None or not t.element.size:
                    raise CommandError("Cannot subscript requested type.")
                if t.kind == "pointer":
                    base = lv.value if lv.value is not None else \
                        struct.unpack("<Q", self.r.read_memory(lv.address or 0, 8))[0]
                else:
                    if lv.address is None:
                        raise CommandError("Cannot subscript requested type.")
                    base = lv.address
                lv = LValue(base + idx * t.element.size, t.element)
            else:
                name = self.take()
                if tok == "->":
                    lv = self.deref(lv)
                t = lv.ctype
                if t is None or t.kind != "struct" or lv.address is None:
                    raise CommandError("Attempt to extract a component of a value that is not a structure.")
                for mname, off, mt in t.members:
                    if mname == name:
                        lv = LValue(lv.address + off, mt)
                        break
                else:
                    raise CommandError(f'There is no member named {name}.')
        return lv


def tokens(expr: str) -> list[str]:
    out = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _EXPR_TOKEN.match(expr, pos)
        if m is None:
            if expr[pos:].strip() == "":
                break
            raise CommandError(f"A syntax error in expression, near `{expr[pos:]}'.")
        out.append(m.group(1))
        pos = m.end()
    return out


def format_int(v: int, fmt: str, ctype: CType | None) -> str:
    size = ctype.size if ctype is not None and ctype.size else 8
    raw = (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    if fmt == "c":
        return render.value(raw[:1], CType("char", 1, "char"), None)
    if fmt == "a":
        return f"{int.from_bytes(raw, 'little'):#x}"
    return render.format_unit(raw, fmt if fmt in "xdouft" else "d", None)
