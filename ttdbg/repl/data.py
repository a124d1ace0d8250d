"""Looking at data: `print`, `ptype`, `x`, `info registers`/`regs`.

gdb answers `print` and `ptype` when the bridge is up; otherwise the REPL's
own expression subset (expressions.py) in the selected frame does.
"""

from __future__ import annotations

import re
import struct

from .. import render
from .bridge import gdb_ready, in_gdb, no_gdb_note
from .expressions import INT_TYPES, format_int
from .frames import frame_pc, lvalue
from .state import ReplState
from .table import CommandError, Rows

ROWS = Rows()


def info_registers(r: ReplState, arg: str) -> str:
    regs = r.regs()
    names = [n.lstrip("$") for n in arg.split()]
    aliases = render.register_aliases(r.tl.arch)
    if names:
        picked = {}
        for n in names:
            n = aliases.get(n, n)
            if n not in regs:
                try:
                    picked[n] = r.reg(n)
                except KeyError:
                    raise CommandError(f"Invalid register `{n}'") from None
            else:
                picked[n] = regs[n]
        regs = picked
    return render.registers(regs, r.view.shown_regs, r.style, r.images, r.tl.arch)


@ROWS.command("x", (), "x/FMT ADDRESS: examine memory (FMT: count, x d u o t c a f s i, size b h w g)",
              complete="expr", repeat=True)
def examine(r: ReplState, arg: str) -> str:
    fmt_text = ""
    arg = arg.strip()
    if arg.startswith("/"):
        fmt_text, _, arg = arg[1:].partition(" ")
    try:
        xf = render.parse_xfmt(fmt_text, r.view.last_x)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if arg.strip():
        address = _address_of(r, arg.strip())
    elif r.view.next_x is not None:
        address = r.view.next_x
    else:
        raise CommandError("Argument required (starting display address).")
    r.view.last_x = xf
    text = render.examine(r.tl.read_memory, address, xf, r.images, r.decode, pc=frame_pc(r))
    if xf.fmt == "i":
        insns = r.decode(address, xf.count)
        r.view.next_x = insns[-1].address + insns[-1].size if insns else address
    elif xf.fmt != "s":
        r.view.next_x = address + xf.size * xf.count
    return text


def _address_of(r: ReplState, expr: str) -> int:
    if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", expr):
        return int(expr, 0)
    lv = lvalue(r, expr)
    if lv.value is not None:
        return lv.value
    if lv.ctype is not None and lv.ctype.kind == "pointer" and lv.address is not None:
        return struct.unpack("<Q", r.tl.read_memory(lv.address, 8))[0]
    if lv.address is None:
        raise CommandError(f"Cannot take the address of `{expr}'.")
    return lv.address


@ROWS.command("print", ("p", "inspect"), "print[/FMT] EXPR: a value ($reg, variable, *ADDR, arr[i]; gdb for more)",
              complete="expr")
def print_expr(r: ReplState, arg: str) -> str:
    fmt = ""
    arg = arg.strip()
    if arg.startswith("/"):
        fmt, _, arg = arg[1:].partition(" ")
    if not arg:
        raise CommandError("Argument required (an expression).")
    if gdb_ready(r):
        return in_gdb(r, f"print{'/' + fmt if fmt else ''} {arg}")
    text = _print_local(r, arg, fmt)
    return no_gdb_note(r) + text


def _print_local(r: ReplState, expr: str, fmt: str) -> str:
    lv = lvalue(r, expr)
    if lv.value is not None:
        v = lv.value
        text = format_int(v, fmt, lv.ctype)
        if lv.ctype is not None and lv.ctype.kind == "pointer" and not fmt:
            name = r.images.name_at(v)
            text = f"({lv.ctype.name}) {v:#x}" + (f" <{name}>" if name else "")
        if expr.lstrip("$") in ("pc", r.tl.arch.pc):
            name = r.images.name_at(v)
            text = f"(void (*)()) {v:#x}" + (f" <{name}>" if name else "")
    else:
        assert lv.address is not None
        ctype = lv.ctype
        if ctype is None:
            ctype = INT_TYPES[8]
        if ctype.size == 0 or ctype.kind == "other":
            sym = r.images.name_at(lv.address)
            text = f"{{<text variable, no debug info>}} {lv.address:#x}" + (f" <{sym}>" if sym else "")
        else:
            raw = r.tl.read_memory(lv.address, ctype.size)
            if fmt and ctype.kind not in ("array", "struct"):
                text = format_int(int.from_bytes(raw, "little", signed=True), fmt, ctype)
            else:
                text = render.value(raw, ctype, r.images)
    r.view.history += 1
    return f"${r.view.history} = {text}"


@ROWS.command("ptype", (), "ptype EXPR: the type of an expression", complete="expr")
def ptype(r: ReplState, arg: str) -> str:
    if not arg.strip():
        raise CommandError("Argument required (an expression).")
    if gdb_ready(r):
        return in_gdb(r, f"ptype {arg.strip()}")
    lv = lvalue(r, arg.strip())
    name = lv.ctype.name if lv.ctype is not None else "long"
    return no_gdb_note(r) + f"type = {name}"


ROWS.command("regs", (), "regs: same as `info registers`")(info_registers)
