"""Breakpoints and watchpoints: `break`, `tbreak`, `watch`/`rwatch`/`awatch`,
`delete`, `disable`, `enable`, `info breakpoints`, and resolving a LOCATION.
"""

from __future__ import annotations

import os
import re
import struct

from replay import ReplayError, WatchKind, Watchpoint

from .. import render
from ..symbols import SymbolError
from .expressions import INT_TYPES, LValue
from .frames import lvalue, where
from .state import Breakpoint, ReplState
from .table import CommandError, Rows, parse_int

ROWS = Rows()

_KIND_WORD = {"write": WatchKind.WRITE, "read": WatchKind.READ, "access": WatchKind.ACCESS}
WATCH_TITLE = {WatchKind.WRITE: "Hardware watchpoint", WatchKind.READ: "Hardware read watchpoint",
               WatchKind.ACCESS: "Hardware access (read/write) watchpoint"}
_WATCH_TYPE = {WatchKind.WRITE: "hw watchpoint", WatchKind.READ: "read watchpoint",
               WatchKind.ACCESS: "acc watchpoint"}


# -- locations --------------------------------------------------------------------------------
def resolve(r: ReplState, arg: str) -> int:
    """A LOCATION in the program, else a function of a loaded shared library."""
    arg = arg.strip()
    try:
        if r.symbols is not None:
            return r.symbols.resolve(arg, r.pc)
        if arg.startswith("*"):
            return parse_int(arg[1:])
        error = SymbolError('No symbol table is loaded; use "break *ADDRESS".')
    except SymbolError as exc:
        error = exc
    name = arg[1:].strip() if arg.startswith("*") else arg
    if r.libraries is not None and re.fullmatch(r"[A-Za-z_.$][\w.$@]*", name):
        sym = r.libraries.find_function(name)
        if sym is not None and sym.is_ifunc:
            return _ifunc_target(r, name, sym.address)
        if sym is not None:
            return sym.address
        if not r.libraries.objects():
            raise SymbolError(f'Function "{name}" not defined (no shared libraries are loaded '
                              "yet at this point in time; `info sharedlibrary` shows them).")
    raise error


def _ifunc_target(r: ReplState, name: str, resolver: int) -> int:
    """The implementation an ifunc (strcpy, memcpy...) was bound to: the program's GOT slot."""
    slot = r.symbols.got_slots.get(name) if r.symbols is not None else None
    if slot is not None:
        try:
            target = struct.unpack("<Q", r.tl.read_memory(slot, 8))[0]
        except ReplayError:
            target = 0
        if r.images.object_at(target) is not None and target != resolver:
            return target
    raise SymbolError(f'"{name}" is an indirect function (ifunc) not bound yet here; '
                      f"its resolver is at {resolver:#x}: break after its first call, or use break *ADDRESS.")


def _at(r: ReplState, address: int) -> str:
    row = r.symbols.line_at(address) if r.symbols is not None else None
    if row is not None and r.images.object_at(address) is None:
        return f": file {os.path.basename(row.file)}, line {row.line}."
    name = r.images.name_at(address)
    obj = r.images.object_at(address)
    return (f" <{name}>" if name else "") + (f" (from {obj.path})" if obj is not None else "")


# -- watched values ---------------------------------------------------------------------------
def watch_value(r: ReplState, b: Breakpoint) -> str:
    assert b.watch is not None
    try:
        raw = r.tl.read_memory(b.watch.address, b.watch.length)
    except ReplayError:
        return "<unreadable>"
    return format_bytes(r, raw, b)


def format_bytes(r: ReplState, raw: bytes | None, b: Breakpoint) -> str:
    if raw is None:
        return "<unreadable>"
    ctype = b.ctype or INT_TYPES.get(len(raw))
    if ctype is None:
        return raw.hex()
    return render.value(raw, ctype, r.images)


# -- commands ---------------------------------------------------------------------------------
def add_break(r: ReplState, arg: str, temporary: bool) -> str:
    arg = arg.strip()
    if not arg:
        address = r.pc
        arg = f"*{address:#x}"
    else:
        address = resolve(r, arg)
    b = r.breakpoints.add("breakpoint", arg, address, temporary=temporary)
    title = "Temporary breakpoint" if temporary else "Breakpoint"
    return f"{title} {b.number} at {address:#x}{_at(r, address)}"


ROWS.command("break", ("b", "br"), "break LOCATION: stop at *ADDRESS, FUNCTION or FILE:LINE",
             complete="location")(lambda r, a: add_break(r, a, temporary=False))
ROWS.command("tbreak", (), "tbreak LOCATION: a breakpoint deleted when first hit",
             complete="location")(lambda r, a: add_break(r, a, temporary=True))


def add_watch(r: ReplState, arg: str, kind: str) -> str:
    words = arg.split()
    if not words:
        raise CommandError("Argument required (an expression or address to watch).")
    length = None
    if len(words) > 1 and re.fullmatch(r"\d+|0x[0-9a-fA-F]+", words[-1]):
        length = parse_int(words[-1])
        words = words[:-1]
    expr = " ".join(words)
    if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", expr):
        lv = LValue(parse_int(expr), None)
    else:
        lv = lvalue(r, expr)
    if lv.address is None:
        raise CommandError(f"Cannot watch constant value `{expr}'.")
    ctype = lv.ctype
    size = length or (ctype.size if ctype is not None and ctype.size else 4)
    if length and ctype is not None and ctype.size != length:
        ctype = None
    w = Watchpoint(lv.address, size, _KIND_WORD[kind])
    b = r.breakpoints.add("watchpoint", expr, lv.address, watch=w, ctype=ctype)
    return f"{WATCH_TITLE[w.kind]} {b.number}: {expr}"


ROWS.command("watch", (), "watch EXPR|ADDRESS [LEN]: stop when the value changes",
             complete="expr")(lambda r, a: add_watch(r, a, "write"))
ROWS.command("rwatch", (), "rwatch EXPR|ADDRESS [LEN]: stop when the memory is read",
             complete="expr")(lambda r, a: add_watch(r, a, "read"))
ROWS.command("awatch", (), "awatch EXPR|ADDRESS [LEN]: stop when the memory is read or written",
             complete="expr")(lambda r, a: add_watch(r, a, "access"))


def syscall_name(r: ReplState, number: int | None) -> str:
    """A call number's name in the trace's architecture's table (gdb's words for one it lacks)."""
    names = {n: name for name, n in r.tl.arch.syscall_numbers.items()}
    return names.get(number, f"{number}") if number is not None else "<any syscall>"


@ROWS.command("catch", (), "catch syscall [NAME|NUMBER...]: stop at system calls (their entry and return)")
def add_catch(r: ReplState, arg: str) -> str:
    what, _, rest = arg.strip().partition(" ")
    if what != "syscall":
        raise CommandError("Only `catch syscall [NAME|NUMBER...]' is supported (a trace has no live events).")
    table = r.tl.arch.syscall_numbers
    numbers = set()
    for word in rest.split():
        if re.fullmatch(r"\d+", word):
            numbers.add(int(word))
        elif word in table:
            numbers.add(table[word])
        else:
            raise CommandError(f"Unknown syscall name '{word}'.")
    chosen = frozenset(numbers) if numbers else None
    b = r.breakpoints.add("catchpoint", _catch_text(r, chosen), 0, syscalls=chosen)
    return f"Catchpoint {b.number} ({_catch_text(r, chosen)})"


def _catch_text(r: ReplState, numbers: frozenset[int] | None) -> str:
    """gdb's words: `syscall 'write' [1]`, `syscalls 'write' [1] 'read' [0]`, `any syscall`."""
    if numbers is None:
        return "any syscall"
    named = " ".join(f"'{syscall_name(r, n)}' [{n}]" for n in sorted(numbers))
    return f"syscall{'s' if len(numbers) > 1 else ''} {named}"


def _numbers(r: ReplState, arg: str) -> list[int]:
    """The breakpoint numbers `arg` names (`1 3`, `2-4`); all of them when empty."""
    if not arg.strip():
        return r.breakpoints.numbers()
    out = []
    for w in arg.replace(",", " ").split():
        if "-" in w:
            a, _, b = w.partition("-")
            out += list(range(parse_int(a), parse_int(b) + 1))
        else:
            out.append(parse_int(w))
    for n in out:
        if n not in r.breakpoints:
            raise CommandError(f"No breakpoint number {n}.")
    return out


@ROWS.command("delete", ("d",), "delete [N...]: delete breakpoints (all without N)")
def delete_breaks(r: ReplState, arg: str) -> str:
    for n in _numbers(r, arg):
        r.breakpoints.remove(n)
    return ""


def enable_breaks(r: ReplState, arg: str, enabled: bool) -> str:
    for n in _numbers(r, arg):
        r.breakpoints[n].enabled = enabled
    r.breakpoints.sync()
    return ""


ROWS.command("disable", ("dis",), "disable [N...]: disable breakpoints")(lambda r, a: enable_breaks(r, a, False))
ROWS.command("enable", ("en",), "enable [N...]: enable breakpoints")(lambda r, a: enable_breaks(r, a, True))


def info_breakpoints(r: ReplState, arg: str) -> str:
    if not r.breakpoints:
        return "No breakpoints or watchpoints."
    lines = ["Num     Type            Disp Enb Address            What"]
    for b in sorted(r.breakpoints.values(), key=lambda b: b.number):
        disp = "del " if b.temporary else "keep"
        enb = "y" if b.enabled else "n"
        if b.watch is not None:
            lines.append(f"{b.number:<8}{_WATCH_TYPE[b.watch.kind]:<16}{disp} {enb}   {'':<18} {b.location}")
        elif b.kind == "catchpoint":
            calls = ("<any syscall>" if b.syscalls is None else
                     ", ".join(syscall_name(r, n) for n in sorted(b.syscalls)))
            plural = "s" if b.syscalls is not None and len(b.syscalls) > 1 else ""
            lines.append(f"{b.number:<8}{'catchpoint':<16}{disp} {enb}   {'':<18} syscall{plural} \"{calls}\" ")
        else:
            what = where(r, b.address) if r.symbols is not None else ""
            lines.append(f"{b.number:<8}{'breakpoint':<16}{disp} {enb}   {b.address:<#18x} {what}")
        if b.hits:
            lines.append(f"\tbreakpoint already hit {b.hits} time{'s' if b.hits > 1 else ''}")
    return "\n".join(lines)
