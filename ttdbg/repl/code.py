"""Looking at code: `disassemble` and `list`."""

from __future__ import annotations

import re

from .. import render
from .breakpoints import resolve
from .frames import frame_pc
from .state import ReplState
from .table import CommandError, Rows

ROWS = Rows()


@ROWS.command("disassemble", ("disas",), "disassemble [LOCATION]: the function around pc (or LOCATION)",
              complete="location")
def disassemble(r: ReplState, arg: str) -> str:
    pc = frame_pc(r)
    arg = arg.strip()
    at = pc
    if arg:
        at = resolve(r, arg if not arg[0].isdigit() else "*" + arg)
    lo, hi = at, at + 64
    title = f"{at:#x}"
    image = r.images.image_at(at)
    if image is not None:
        f = image.function_at(at)
        found = image.symbolize(at)
        if f is not None:
            lo, hi, title = f.low, f.high, f.name
        elif found is not None and found[0].size:
            lo, hi, title = found[0].address, found[0].address + found[0].size, found[0].name
    insns = []
    addr = lo
    while addr < hi and len(insns) < 400:
        insn = r.tl.instruction_at(addr)
        if insn is None:
            break
        insns.append(insn)
        addr += insn.size
    body = render.disassembly(insns, pc, r.images, r.style)
    return f"Dump of assembler code for function {title}:\n{body}\nEnd of assembler dump."


@ROWS.command("list", ("l",), "list [LINE|FILE:LINE|FUNCTION]: source lines", complete="location", repeat=True)
def list_source(r: ReplState, arg: str) -> str:
    arg = arg.strip()
    sym = r.symbols
    if sym is None:
        raise CommandError("No symbol table is loaded.")
    if arg:
        if re.fullmatch(r"\d+", arg):
            base = r.view.list_next[0] if r.view.list_next else _current_file(r)
            file, center = base, int(arg)
        else:
            row = sym.line_at(sym.resolve(arg))
            if row is None:
                raise CommandError(f'No line number information available for "{arg}".')
            file, center = row.file, row.line
        first = max(center - 5, 1)
    elif r.view.list_next is not None:
        file, first = r.view.list_next
    else:
        row = sym.line_at(frame_pc(r) - (1 if r.view.frame else 0))
        if row is None:
            raise CommandError("No line number information available for the current address.")
        file, first = row.file, max(row.line - 5, 1)
    if not file:
        raise CommandError("No default source file.")
    lines = r.view.sources.lines(file)
    if lines is None:
        raise CommandError(f"{first}\tin {file} (the source file is not readable here)")
    if first > len(lines):
        raise CommandError(f"Line number {first} out of range; \"{file}\" has {len(lines)} lines.")
    last = first + 9
    row = sym.line_at(r.pc)
    current = row.line if row is not None and row.file == file else None
    r.view.list_next = (file, last + 1)
    return render.source_lines(r.view.sources, file, first, last, current, r.style)


def _current_file(r: ReplState) -> str:
    row = r.symbols.line_at(r.pc) if r.symbols is not None else None
    if row is not None:
        return row.file
    files = r.symbols.files() if r.symbols is not None else []
    return files[0] if files else ""
