"""Frames: naming a place (`func at file:line`), selecting a frame, and what it sees.

`where`/`frame_text` word a pc as gdb's frame lines do; `frame`, `up`,
`down`, `bt`, `info frame` and `info locals` select and show frames; the
selected frame is the scope of expressions (`lvalue`).
"""

from __future__ import annotations

import os
import re

from replay import ReplayError

from .. import render
from ..symbols import CType, Frame
from .bridge import gdb_ready, in_gdb
from .expressions import INT_TYPES, LValue, Parser, tokens
from .state import ReplState
from .table import CommandError, Rows

ROWS = Rows()


# -- naming places ----------------------------------------------------------------------------
def where(r: ReplState, pc: int | None = None, caller: bool = False) -> str:
    """`func at file:line` (or `func from LIBRARY`); `caller` looks up the line of a return address's call."""
    pc = r.pc if pc is None else pc
    name, tail = frame_words(r, pc, caller)
    if name == "??" and not tail:
        return f"{pc:#x}"
    return f"{name} {tail}".rstrip()


def frame_words(r: ReplState, pc: int, caller: bool = False) -> tuple[str, str]:
    """(function name or `??`, `at FILE:LINE` / `from LIBRARY` / ``) as gdb's frame lines show them."""
    obj = r.images.object_at(pc)
    if obj is not None:
        name = obj.symbols.name_at(pc) if obj.symbols is not None else None
        return (name.split("+")[0] if name else "??"), f"from {obj.path}"
    if r.symbols is None:
        return "??", ""
    f = r.symbols.function_at(pc)
    name = f.name if f is not None else (r.symbols.name_at(pc) or "??").split("+")[0]
    row = r.symbols.line_at(pc - 1 if caller else pc)
    if row is not None:
        return name, f"at {os.path.basename(row.file)}:{row.line}"
    return name, ""


def frame_text(r: ReplState, pc: int, level: int) -> str:
    """`0x... in bump () at tally.c:16`: the address only for callers and places without lines."""
    name, tail = frame_words(r, pc, caller=level > 0)
    addr = f"{pc:#018x} in " if level > 0 or not tail.startswith("at ") else ""
    return f"{addr}{name} ()" + (f" {tail}" if tail else "")


# -- the selected frame -----------------------------------------------------------------------
def selected_frame(r: ReplState) -> Frame:
    """The frame `frame`/`up`/`down` selected (frame 0 after any motion)."""
    frames = r.stepper.frames(r.view.frame + 1, r.view.thread)
    if len(frames) <= r.view.frame:
        r.view.frame = 0
    return frames[r.view.frame]


def frame_pc(r: ReplState) -> int:
    return selected_frame(r).pc if r.view.frame else r.pc


class FrameScope:
    """What an expression sees: the selected frame's variables and registers, and memory."""

    def __init__(self, r: ReplState) -> None:
        self.r = r
        self.aliases = render.register_aliases(r.tl.arch)
        self.pointer_registers = render.pointer_registers(r.tl.arch)

    def frame_register(self, name: str) -> int:
        """A register as the selected frame sees it (unwound pc, sp, fp and saved registers)."""
        name = self.aliases.get(name, name)
        if self.r.view.frame:
            regs = selected_frame(self.r).regs
            if name in regs:
                return regs[name]
        return self.r.reg(name)

    def read_memory(self, address: int, length: int) -> bytes:
        return self.r.tl.read_memory(address, length)

    def find_variable(self, name: str) -> LValue | None:
        r = self.r
        sym = r.symbols
        if sym is None:
            return None
        f = sym.function_at(frame_pc(r))
        if f is not None:
            for v in f.variables:
                if v.name == name and v.frame_offset is not None:
                    cfa = selected_frame(r).cfa
                    if cfa:
                        return LValue(cfa + v.frame_offset, v.ctype)
        g = sym.globals.get(name)
        if g is not None:
            return LValue(g.address, g.ctype)
        s = sym.by_name.get(name)
        if s is not None:
            if s.is_function:
                return LValue(s.address, CType("function", 0, "other"))
            return LValue(s.address, INT_TYPES.get(s.size, CType(f"<data variable, {s.size} bytes>", 0, "other")))
        return None


def lvalue(r: ReplState, expr: str) -> LValue:
    """The small C subset understood without gdb, in the selected frame."""
    return Parser(FrameScope(r), tokens(expr), expr).parse()


# -- commands ---------------------------------------------------------------------------------
@ROWS.command("bt", ("backtrace", "where"), "bt [full]: the call stack")
def backtrace(r: ReplState, arg: str) -> str:
    if arg.strip() and gdb_ready(r):
        assert r.bridge is not None
        return in_gdb(r, f"bt {arg.strip()}")
    frames = r.stepper.frames(64, r.view.thread)
    return "\n".join(f"#{fr.level:<2} {frame_text(r, fr.pc, fr.level)}" for fr in frames)


def select_frame(r: ReplState, arg: str, relative: int = 0) -> str:
    """`frame [N]` (relative 0), `up [N]` (+1) and `down [N]` (-1)."""
    arg = arg.strip()
    if arg and not re.fullmatch(r"\d+", arg):
        raise CommandError(f'Invalid number "{arg}".')
    current = r.view.frame
    if relative == 0:
        level = int(arg) if arg else current
        frames = r.stepper.frames(level + 1, r.view.thread)
        if len(frames) <= level:
            raise CommandError(f"No frame at level {arg}.")
    else:
        count = int(arg) if arg else 1
        want = current + relative * count
        frames = r.stepper.frames(max(want, current) + 1, r.view.thread)
        if relative > 0 and want >= len(frames):
            if not arg or current == len(frames) - 1:
                raise CommandError("Initial frame selected; you cannot go up.")
            want = len(frames) - 1
        if relative < 0 and want < 0:
            if not arg or current == 0:
                raise CommandError("Bottom (innermost) frame selected; you cannot go down.")
            want = 0
        level = want
    r.view.frame = level
    fr = frames[level]
    out = [f"#{level:<2} {frame_text(r, fr.pc, level)}"]
    row = r.symbols.line_at(fr.pc - 1 if level else fr.pc) \
        if r.symbols is not None and r.images.object_at(fr.pc) is None else None
    if row is not None:
        text = r.view.sources.line(row.file, row.line)
        out.append(f"{row.line}\t{text}" if text is not None else f"{row.line}\tin {row.file}")
    r.view.list_next = None
    return "\n".join(out)


ROWS.command("frame", ("f",), "frame [N]: select frame N of `bt` (print, info locals and info frame use it)")(
    select_frame)
ROWS.command("up", (), "up [N]: select the frame N levels out (towards main)")(
    lambda r, a: select_frame(r, a, +1))
ROWS.command("down", ("do",), "down [N]: select the frame N levels in (towards the stop)")(
    lambda r, a: select_frame(r, a, -1))


def info_frame(r: ReplState, arg: str) -> str:
    level = r.view.frame
    frames = r.stepper.frames(level + 2, r.view.thread)
    if len(frames) <= level:
        level = r.view.frame = 0
    f0 = frames[level]
    caller = frames[level + 1] if len(frames) > level + 1 else None
    name, tail = frame_words(r, f0.pc, caller=level > 0)
    place = f"{name} ({tail[3:]})" if tail.startswith("at ") else f"{name}" + (f" ({tail})" if tail else "")
    arch = r.tl.arch
    pc, sp, fp = render.register_aliases(arch).values()
    lines = [f"Stack level {level}, frame at {f0.cfa:#x}:",
             f" {pc} = {f0.pc:#x} in {place}" + (f"; saved {pc} = {caller.pc:#x}" if caller else "")]
    links = []
    if caller is not None:
        links.append(f"called by frame at {caller.cfa:#x}")
    if level > 0:
        links.append(f"caller of frame at {frames[level - 1].cfa:#x}")
    if links:
        lines.append(" " + ", ".join(links))
    lines.append(f" {sp} = {f0.regs[sp]:#x}, {fp} = {f0.regs[fp]:#x}")
    if f0.cfa and arch.debug is not None and arch.debug.call_push:
        lines.append(f" Saved registers:\n  {pc} at {f0.cfa - arch.debug.call_push:#x}")
    return "\n".join(lines)


def info_locals(r: ReplState, arg: str) -> str:
    if gdb_ready(r):
        return in_gdb(r, "info locals") or "No locals."
    sym = r.symbols
    f = sym.function_at(frame_pc(r)) if sym is not None else None
    if f is None:
        return "No symbol table info available."
    cfa = selected_frame(r).cfa
    lines = []
    for v in f.variables:
        if v.frame_offset is None or not cfa:
            continue
        try:
            raw = r.tl.read_memory(cfa + v.frame_offset, max(v.ctype.size, 1))
            lines.append(f"{v.name} = {render.value(raw, v.ctype, r.images)}")
        except ReplayError:
            lines.append(f"{v.name} = <unreadable>")
    return "\n".join(lines) or "No locals."
