"""A query's rows, made from scan hits in the scan's workers, and their text.

`RowMaker` is the scan's `finish` (replay.ScanSpec): each worker turns its
own segment's hits into finished rows, in one of three forms: `rows` (dicts,
for the REPL and gdb, which keep them for `goto #N`), `json` (a JSON line)
or `table` (a line of the human table).  A row is finished except for its
index, which only the merge in the parent knows: `Numbering` adds it to each
part as it comes (a JSON line is made without its closing `, "index": N}`, a
table line without its `#N` cell), so the parent only numbers and writes.

`calls` pairs each entry with its return, and the return may be in a later
segment: a worker hands on its calls in order as an entry (the row made
except for its return: a dict, or the text before and after the return
cells) and a return (stack pointer, result, position), and `CallPairing`
pairs them in the parent, across segments.

Places (function, file, line of a pc) come from `Places`, made once per
process from an `ImageSource` (the trace, the program, the captured
libraries and where they were mapped: all picklable) and cached per pc; the
parent registers its own, so a scan in-process uses it as it is.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring_ascii as _json_string
from typing import NamedTuple

from replay import ReplayError, ScanHit, Timeline, TraceDir

from .solibs import ImageSymbols, SharedLibraries
from .symbols import CType, SymbolError, Symbols

FORMS = ("rows", "json", "table")
_PART = "\0"                # between the lines of a part sent as one string


class Region(NamedTuple):
    """A mapping of the guest at the end of the trace (what SharedLibraries reads)."""

    start: int
    end: int
    name: str


class ImageSource:
    """What a worker needs to name places: the trace, its program, and for a dynamic
    program the captured files and the memory map at the end (read in the parent
    when first sent to a worker: `regions` is then called once)."""

    def __init__(self, trace_path: str, program: str, program_digest: str, interpreter: str = "",
                 files: dict[str, str] | None = None,
                 regions: Callable[[], Iterable] | None = None) -> None:
        self.trace_path = os.path.abspath(trace_path)
        self.program = program
        self.program_digest = program_digest
        self.interpreter = interpreter
        self.files = dict(files or {})                # guest path -> digest of the captured copy
        self._regions = regions
        self._mapped: tuple[Region, ...] | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.trace_path, self.program_digest, self.interpreter)

    def mapped(self) -> tuple[Region, ...]:
        if self._mapped is None:
            self._mapped = tuple(Region(r.start, r.end, r.name) for r in self._regions()) \
                if self._regions is not None else ()
        return self._mapped

    def __getstate__(self) -> dict:
        if self.interpreter:
            self.mapped()
        return {**self.__dict__, "_regions": None}


class Places:
    """Function, file and line of code addresses, cached per pc."""

    def __init__(self, symbols: Symbols | None, name_at: Callable[[int], str | None] | None = None) -> None:
        self.symbols = symbols
        self.name_at = name_at or (symbols.name_at if symbols is not None else (lambda a: None))
        self._known: dict[int, dict] = {}
        self._json: dict[int, str] = {}

    def at(self, pc: int | None) -> dict:
        """{function, file, line} of pc (shared: copy before changing it)."""
        known = self._known.get(pc)
        if known is None:
            if pc is None:
                known = {"function": None, "file": None, "line": None}
            else:
                name = self.name_at(pc)
                row = self.symbols.line_at(pc) if self.symbols is not None else None
                known = {"function": name.split("+")[0] if name else None,
                         "file": os.path.basename(row.file) if row else None, "line": row.line if row else None}
            self._known[pc] = known
        return known

    def json_at(self, pc: int | None) -> str:
        """`at` as JSON object members: `"function": ..., "file": ..., "line": ...`."""
        text = self._json.get(pc)
        if text is None:
            text = self._json[pc] = json.dumps(self.at(pc))[1:-1]
        return text


_PLACES: dict[tuple[str, str, str], Places] = {}
_SYMBOLS: dict[tuple[str, str], Symbols | None] = {}


def remember(source: ImageSource, places: Places) -> None:
    """This process's own places for `source` (a scan run in-process uses them)."""
    _PLACES[source.key] = places
    _SYMBOLS[(source.trace_path, source.program_digest)] = places.symbols


def program_symbols(trace_path: str, digest: str, program: str) -> Symbols | None:
    """The program's symbols, parsed once per process (None: it has none)."""
    key = (os.path.abspath(trace_path), digest)
    if key not in _SYMBOLS:
        try:
            _SYMBOLS[key] = Symbols(TraceDir(trace_path).load_file(digest), program)
        except SymbolError:
            _SYMBOLS[key] = None
    return _SYMBOLS[key]


def places_for(source: ImageSource) -> Places:
    places = _PLACES.get(source.key)
    if places is None:
        symbols = program_symbols(source.trace_path, source.program_digest, source.program)
        name_at = None
        if source.interpreter:
            trace = TraceDir(source.trace_path)

            def read(path: str) -> bytes | None:
                digest = source.files.get(path)
                return trace.load_file(digest) if digest is not None else None
            libraries = SharedLibraries(read, source.files, source.mapped, lambda: 0, source.program,
                                        source.interpreter)
            name_at = ImageSymbols(symbols, libraries).name_at
        places = _PLACES[source.key] = Places(symbols, name_at)
    return places


# -- values as rows show them ---------------------------------------------------------------------
def param_value(ctype: CType, raw: int) -> int | None:
    """A parameter passed in an integer register, as its type reads it (None: not an integer class)."""
    if ctype.kind not in ("int", "uint", "char", "pointer") or ctype.size not in (1, 2, 4, 8):
        return None
    value = raw & ((1 << (8 * ctype.size)) - 1)
    if ctype.kind in ("int", "char") and value >> (8 * ctype.size - 1):
        value -= 1 << (8 * ctype.size)
    return value


def number(v: int | None) -> str:
    return "?" if v is None else f"{v:#x}" if abs(v) > 0xFFFF else str(v)


def signed(v: int) -> int:
    return v - (1 << 64) if v >> 63 else v


def show(raw: bytes, ctype: CType | None) -> str:
    if ctype is not None and ctype.kind in ("int", "uint", "char") and len(raw) in (1, 2, 4, 8):
        return str(int.from_bytes(raw, "little", signed=ctype.kind != "uint"))
    if ctype is None and len(raw) in (1, 2, 4, 8):
        return str(int.from_bytes(raw, "little", signed=True))
    if ctype is not None and ctype.kind == "pointer" and len(raw) == 8:
        return f"{int.from_bytes(raw, 'little'):#x}"
    return raw.hex()


def shower(ctype: CType | None) -> Callable[[bytes], str]:
    """`show` for one type, its choice made once (a scan shows many values of one type)."""
    if ctype is None or ctype.kind in ("int", "uint", "char"):
        sign = ctype is None or ctype.kind != "uint"

        def number_of(raw: bytes) -> str:
            return str(int.from_bytes(raw, "little", signed=sign)) if len(raw) in (1, 2, 4, 8) else raw.hex()
        return number_of
    return lambda raw: show(raw, ctype)


def syscall_of(ev, text: str) -> str | None:
    """The system call a log event answers (None: not a system call's)."""
    from replay import EventKind
    if ev.kind == EventKind.SYSCALL:
        return text.split()[1] if len(text.split()) > 1 else None
    logged = {EventKind.CHAR_READ: "read", EventKind.CHAR_WRITE: "write", EventKind.FILE_OPEN: "openat"}
    if ev.kind in logged:
        return logged[ev.kind]
    if ev.kind in (EventKind.CLOCK, EventKind.RANDOM):
        name = text.split()[1] if len(text.split()) > 1 else ""
        return name if name in ("clock_gettime", "gettimeofday", "time", "getrandom", "clock_getres") else None
    return None


# -- text ------------------------------------------------------------------------------------------
KIND_COLUMNS = {
    "syscalls": ("syscall", "number", "detail"), "events": ("kind", "detail"),
    "exec": (), "lines": (), "writes": ("syscall", "address", "size", "old", "new"),
    "reads": ("address", "size", "value"),
    "calls": ("args", "return", "return_icount", "caller"), "values": ("value",), "origin": (),
}


def table_cells(kind: str, r: dict) -> list[str]:
    """A table row's cells after its `#N` one (empty cells left out)."""
    where = r["function"] or (f"{r['pc']:#x}" if r["pc"] is not None else "")
    if r["file"]:
        where += f" at {r['file']}:{r['line']}"
    parts = [f"{r['icount']:>12,}"]
    if r["pc"] is not None:
        parts.append(f"{r['pc']:#x}")
    parts.append(where)
    for col in KIND_COLUMNS[kind]:
        v = r.get(col)
        if v is None and (col == "syscall" and kind == "writes" or col == "number"):
            continue
        if col == "address":
            v = f"{v:#x}"
        elif col == "args" and r.get("params") is not None:
            v = "(" + ", ".join(f"{p['name']}={number(p['value'])}" for p in r["params"]) + ")"
        elif col == "args":
            v = "(" + ", ".join(number(a) for a in v[:3]) + ", ...)"
        elif col == "return_icount" and v is not None:
            v = f"@{v:,}"
        parts.append(f"{col}={v}" if col not in ("detail", "args") else str(v))
    return [p for p in parts if p]


def index_cell(index: int) -> str:
    return f"#{index:<4}"


def json_members(fields: dict) -> str:
    """`, "key": value` for each field, as json.dumps writes them (quicker for ints and strings)."""
    return "".join(f", {_json_string(k)}: {_json_value(v)}" for k, v in fields.items())


def _json_value(v: object) -> str:
    t = type(v)
    if t is int:
        return str(v)
    if t is str:
        return _json_string(v)
    if v is None:
        return "null"
    return json.dumps(v)


# -- hits into rows, in the worker -------------------------------------------------------------------
class RowMaker:
    """A query's `finish`: one segment's hits made into rows (see the module's
    docstring) in the worker that found them.  Picklable."""

    def __init__(self, kind: str, source: ImageSource, form: str = "rows", ctype: CType | None = None) -> None:
        if form not in FORMS:
            raise ValueError(f"form {form!r}")
        self.kind = kind
        self.source = source
        self.form = form
        self.ctype = ctype

    def __call__(self, tl: Timeline, hits: list[ScanHit]) -> list:
        places = places_for(self.source)
        make = getattr(self, f"_{self.kind}", self._exec)
        part = make(places, tl, hits)
        if self.form != "rows" and self.kind != "calls" and part:
            # One string for the part's lines: the parent unpickles one object, not one a row
            # (that was 1.3 s of 976,563 rows).  NUL: in no JSON line, nor in a table's.
            return [_PART.join(part)]
        return part

    def _finished(self, places: Places, h: ScanHit, fields: dict, goto: int) -> object:
        """The row of hit `h` with the kind's `fields`, in this maker's form."""
        if self.form == "json":         # as json.dumps writes the row, without goto and the closing brace
            return (f'{{"icount": {h.icount}, "pc": {h.pc}, {places.json_at(h.pc)}, "thread": {h.thread}'
                    f'{json_members(fields)}')
        row = self._row(places, h, fields, goto)
        if self.form == "table":
            return "  ".join(table_cells(self.kind, row))
        return row

    @staticmethod
    def _row(places: Places, h: ScanHit, fields: dict, goto: int) -> dict:
        return {"icount": h.icount, "pc": h.pc, **places.at(h.pc), "thread": h.thread, **fields, "goto": goto}

    def _exec(self, places: Places, tl: Timeline, hits: list[ScanHit]) -> list:
        if self.form == "json":
            return [f'{{"icount": {h.icount}, "pc": {h.pc}, {places.json_at(h.pc)}, "thread": {h.thread}'
                    for h in hits if h.kind in ("exec", "stop")]
        return [self._finished(places, h, {}, h.icount) for h in hits if h.kind in ("exec", "stop")]

    def _access(self, places: Places, tl: Timeline, hits: list[ScanHit]) -> list:
        out = []
        ctype = self.ctype
        quick = self.form == "json"
        shown = shower(ctype)
        for h in hits:
            if h.kind not in ("write", "read", "syscall"):
                continue
            if quick and h.kind != "syscall":
                # The common rows written straight (~3 us, json.dumps ~8): what `show`
                # makes is digits, a sign, x and hex digits, quoted as they are.
                head = f'{{"icount": {h.icount}, "pc": {h.pc}, {places.json_at(h.pc)}, "thread": {h.thread}, ' \
                       f'"access": "{h.kind}", "address": {h.address}, "size": {h.size}, '
                if h.kind == "write":
                    out.append(f'{head}"old": "{shown(h.old)}", "new": "{shown(h.new)}"')
                else:
                    out.append(f'{head}"value": "{shown(h.old)}"')
                continue
            fields: dict = {"access": h.kind, "address": h.address, "size": h.size}
            if h.kind == "syscall" and isinstance(h.data, tuple):
                ev = tl.replay.contents.events[h.data[0]]
                fields["event"] = h.data[0]
                fields["syscall"] = syscall_of(ev, ev.describe()) or ev.kind.name.lower()
            if h.kind in ("write", "syscall"):
                fields["old"] = show(h.old, ctype)
                fields["new"] = show(h.new, ctype)
            else:
                fields["value"] = show(h.old, ctype)
            out.append(self._finished(places, h, fields, h.icount + 1))
        return out

    _writes = _reads = _access

    def _values(self, places: Places, tl: Timeline, hits: list[ScanHit]) -> list:
        out = []
        for h in hits:
            kind, raw, size = h.data if isinstance(h.data, tuple) else ("error", "no value", 0)
            if kind == "error":
                value = f"<{raw}>"
            elif kind == "int" and isinstance(raw, int):
                value = str(raw - (1 << 64) if raw >> 63 else raw)
            else:
                value = show(raw, CType("", size, kind))
            out.append(self._finished(places, h, {"value": value}, h.icount))
        return out

    def _calls(self, places: Places, tl: Timeline, hits: list[ScanHit]) -> list:
        """("entry", sp, made) and ("ret", sp, result, position) in order; `made` is the
        row (rows), the JSON before `"return"`, or the table's cells before and after
        the return's (json, table)."""
        out: list = []
        for h in hits:
            data = h.data
            if not isinstance(data, tuple):
                continue
            if data[0] == "entry":
                _, sp, ret, args = data
                caller = places.at(ret - 1)
                fields = {"args": [signed(v) for v in args], "params": _params(places, h.pc, args),
                          "caller_pc": ret, "caller": f"{caller['file']}:{caller['line']}" if caller["file"] else
                          (places.name_at(ret) or f"{ret:#x}")}
                if self.form == "json":      # the return's members come in the parent
                    made: object = self._finished(places, h, fields, h.icount)
                else:
                    row = self._row(places, h, {**fields, "return": None, "return_icount": None}, h.icount)
                    cells = table_cells("calls", row) if self.form == "table" else []
                    made = ("  ".join(cells[:-3]), cells[-1]) if cells else row
                out.append(("entry", sp, made))
            elif data[0] == "ret":
                _, sp, result = data
                out.append(("ret", sp, signed(result), h.icount + 1))
            else:       # the probe failed: a call left out would make the answer silently wrong
                raise ReplayError(f"reading the call at {h.icount:,} failed: {data[1]}")
        return out


def _params(places: Places, entry: int, regs: tuple[int, ...]) -> list[dict] | None:
    """The function's parameters by DWARF, named and typed, valued from the argument
    registers in order (System V: integer and pointer parameters take rdi, rsi, ...;
    a float, double or struct parameter is listed without a value, and later ones
    too, since where they went depends on it)."""
    f = places.symbols.function_at(entry) if places.symbols is not None else None
    if f is None or f.low != entry:
        return None
    out = []
    slot: int | None = 0
    for p in f.params:
        value = param_value(p.ctype, regs[slot]) if slot is not None and slot < len(regs) else None
        if value is None:
            slot = None
        else:
            slot += 1
        out.append({"name": p.name, "type": p.ctype.name, "value": value})
    return out


# -- in the parent: numbering and pairing -----------------------------------------------------------
class Numbering:
    """Numbers finished rows as parts come in, in order: a row gets its `index`,
    a JSON line its closing `, "index": N}`, a table line its `#N` cell (a text
    part comes as one string of its lines)."""

    def __init__(self, form: str) -> None:
        self.form = form
        self.count = 0

    def __call__(self, part: list) -> list:
        if self.form != "rows" and part:
            part = part[0].split(_PART)
        n = self.count
        self.count += len(part)
        if self.form == "json":
            return [f'{line}, "index": {i}}}' for i, line in enumerate(part, n + 1)]
        if self.form == "table":
            return [f"#{i:<4}  {line}" for i, line in enumerate(part, n + 1)]
        for i, row in enumerate(part, n + 1):
            row["index"] = i
        return part

    def flush(self) -> list:
        return []


class CallPairing:
    """`calls` in the parent: entries and returns, fed in instruction-count order
    part by part: an entry opens a row, the return at the same stack pointer
    closes it (and abandons the calls opened inside it that never returned:
    longjmp, a tail call out).  A row is handed out, numbered, once it and all
    earlier rows are closed; `flush` hands out the rest at the end."""

    def __init__(self, form: str) -> None:
        self.form = form
        self.count = 0
        self.pending: deque[list] = deque()          # [made, closed, result, position]
        self.open: list[tuple[int, list]] = []       # (sp at entry, pending item)

    def __call__(self, part: list) -> list:
        for op in part:
            if op[0] == "entry":
                item = [op[2], False, None, None]
                self.pending.append(item)
                self.open.append((op[1], item))
                continue
            _, sp, result, position = op
            for j in range(len(self.open) - 1, -1, -1):
                if self.open[j][0] == sp:
                    item = self.open[j][1]
                    item[2], item[3] = result, position
                    for _, inner in self.open[j:]:
                        inner[1] = True
                    del self.open[j:]
                    break
        ready = []
        while self.pending and self.pending[0][1]:
            ready.append(self._done(self.pending.popleft()))
        return ready

    def flush(self) -> list:
        rest = [self._done(item) for item in self.pending]
        self.pending.clear()
        self.open.clear()
        return rest

    def _done(self, item: list) -> object:
        made, _closed, result, position = item
        self.count += 1
        n = self.count
        if self.form == "json":
            return f'{made}, "return": {json.dumps(result)}, "return_icount": {json.dumps(position)}, "index": {n}}}'
        if self.form == "table":
            head, tail = made
            at = f"@{position:,}" if position is not None else None
            return f"#{n:<4}  {head}  return={result}  return_icount={at}  {tail}"
        made["return"], made["return_icount"], made["index"] = result, position, n
        return made
