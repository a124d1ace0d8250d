"""Omniscient queries: every write, read, call, line or event of a recorded run.

One grammar for the CLI (`ttdbg query`), the REPL (`query ...`) and gdb
(`monitor query ...`):

    syscalls [NAME] | events [KIND]          from the log, no replay
    exec ADDRESS|SYMBOL                      every execution of an instruction
    lines FILE:LINE                          every time the line's breakpoint address runs
    writes LOCATION[:LEN] | reads LOCATION[:LEN]   every access overlapping the range
    calls FUNCTION                           entries with ABI argument registers, returns
    values EXPR at LOCATION                  EXPR each time LOCATION runs
    options: --from N --to M --json --jobs N --cluster tcp://HOST:PORT

A LOCATION is an address, a symbol, `file.c:var` or a C lvalue over globals
(`items[2].total`, through the REPL's expression subset).  The engine
(replay.scan) runs the traps between keyframes in a process pool; this
module turns the question into a ScanSpec and the hits into rows.  Each row
has `goto`: the position `goto #N` travels to (for memory accesses, just
after the access, where a watchpoint stops; otherwise just before the
instruction).
"""

from __future__ import annotations

import json
import os
import re
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from replay import (
    Arch,
    DebugInfo,
    EventKind,
    ScanHit,
    ScanSpec,
    Timeline,
    TraceDir,
    WatchRange,
    ensure_keyframes,
    scan,
)

from .render import pointer_registers, register_aliases
from .repl.expressions import INT_TYPES, LValue, Parser, tokens
from .repl.table import CommandError
from .symbols import CType, SymbolError, Symbols

KINDS = ("syscalls", "events", "exec", "lines", "writes", "reads", "calls", "values", "origin")
USAGE = ("query KIND ARGS... [--from N] [--to M] [--json] [--jobs N] [--cluster tcp://HOST:PORT]; "
         "KIND: syscalls [NAME], events [KIND], "
         "exec ADDRESS, lines FILE:LINE, writes LOC[:LEN], reads LOC[:LEN], calls FUNCTION, values EXPR at LOC, "
         "origin EXPR [--at N] [--depth D]")


class QueryError(Exception):
    """A question that cannot be asked (one line)."""


@dataclass
class Question:
    kind: str
    args: list[str]
    start: int = 0
    end: int | None = None
    json: bool = False
    jobs: int | None = None
    cluster: str | None = None       # a Dask scheduler's address: the scan's segments run there
    at: int | None = None            # origin: the position (default: the end)
    depth: int = 6                   # origin: levels of the tree


@dataclass
class Answer:
    rows: list[dict]
    summary: str
    notes: list[str] = field(default_factory=list)


def parse_question(words: list[str]) -> Question:
    """`KIND ARGS... [--from N] [--to M] [--json] [--jobs N] [--cluster ADDRESS]` as typed."""
    if not words:
        raise QueryError(f"usage: {USAGE}")
    kind = words[0]
    if kind not in KINDS:
        raise QueryError(f"unknown query kind {kind!r} (one of: {', '.join(KINDS)})")
    q = Question(kind, [])
    it = iter(words[1:])
    for w in it:
        if w in ("--from", "--to", "--jobs", "--at", "--depth"):
            value = next(it, None)
            if value is None:
                raise QueryError(f"{w} needs a number")
            try:
                n = int(value.replace(",", "").replace("_", ""), 0)
            except ValueError:
                raise QueryError(f"{w}: not a number: {value!r}") from None
            if n < 0 or (w == "--jobs" and n < 1):
                raise QueryError(f"{w}: out of range: {value}")
            if w == "--at":
                q.at = n
            elif w == "--depth":
                q.depth = max(1, min(n, 32))
            elif w == "--from":
                q.start = n
            elif w == "--to":
                q.end = n
            else:
                q.jobs = n
        elif w == "--json":
            q.json = True
        elif w == "--cluster":
            q.cluster = next(it, None)
            if q.cluster is None:
                raise QueryError("--cluster needs a scheduler's address (tcp://HOST:PORT)")
        else:
            q.args.append(w)
    return q


# -- what the program's symbols say ----------------------------------------------------------
class GlobalScope:
    """Expressions over globals and registers (the REPL's subset, without frames)."""

    def __init__(self, symbols: Symbols | None, registers: Callable[[str], int],
                 memory: Callable[[int, int], bytes], arch: Arch | None = None) -> None:
        self.symbols = symbols
        self._registers = registers
        self._memory = memory
        self._aliases = register_aliases(arch) if arch is not None else {}
        self.pointer_registers = pointer_registers(arch) if arch is not None else frozenset()

    def frame_register(self, name: str) -> int:
        return self._registers(self._aliases.get(name, name))

    def read_memory(self, address: int, length: int) -> bytes:
        return self._memory(address, length)

    def find_variable(self, name: str) -> LValue | None:
        sym = self.symbols
        if sym is None:
            return None
        g = sym.globals.get(name)
        if g is not None:
            return LValue(g.address, g.ctype)
        s = sym.by_name.get(name)
        if s is not None and not s.is_function:
            return LValue(s.address, INT_TYPES.get(s.size, CType(f"<data variable, {s.size} bytes>", s.size, "other")))
        return None


class StopScope(GlobalScope):
    """Expressions where a scan stopped: the locals and parameters of the function
    at pc (DWARF: in a register, at a register plus an offset, or at the frame
    base, the CFA, plus an offset; location lists pick the piece for pc), then globals.
    DWARF's register numbers are named by the architecture's description."""

    def __init__(self, symbols: Symbols | None, pc: int, registers: Callable[[str], int],
                 memory: Callable[[int, int], bytes], arch: Arch) -> None:
        super().__init__(symbols, registers, memory, arch)
        self.pc = pc
        self._dwarf = arch.debug.dwarf_registers if arch.debug is not None else ()

    def _dwarf_register(self, number: int) -> int | None:
        name = self._dwarf[number] if 0 <= number < len(self._dwarf) else None
        return None if name is None else self.frame_register(name)

    def find_variable(self, name: str) -> LValue | None:
        f = self.symbols.function_at(self.pc) if self.symbols is not None else None
        for v in (f.variables if f is not None else ()):
            where = v.location_at(self.pc) if v.name == name else None
            if where is None:
                continue
            kind, regno, offset = where
            if kind == "fbreg":
                cfa = self._cfa() if f.frame_base_cfa else None
                if cfa is not None:
                    return LValue(cfa + offset, v.ctype)
                continue
            value = self._dwarf_register(regno)
            if value is None:
                continue
            if kind == "reg":
                return LValue(None, v.ctype, value)
            return LValue((value + offset) & ((1 << 64) - 1), v.ctype)
        return super().find_variable(name)

    def _cfa(self) -> int | None:
        row = self.symbols.cfi_row(self.pc) if self.symbols is not None else None
        rule = row.get("cfa") if row is not None else None
        base = self._dwarf_register(rule.reg) if getattr(rule, "reg", None) is not None else None
        return None if base is None else base + rule.offset


def _lvalue(scope: GlobalScope, text: str) -> LValue:
    if ":" in text and not text.startswith("0x"):
        text = text.rpartition(":")[2]        # file.c:var: the file only disambiguates
    try:
        return Parser(scope, tokens(text), text).parse()
    except CommandError as exc:
        raise QueryError(str(exc)) from None


def _int(text: str) -> int | None:
    try:
        return int(text.replace(",", ""), 0)
    except ValueError:
        return None


class ValueProbe:
    """Evaluates EXPR where the scan stops (runs in the workers: picklable)."""

    def __init__(self, trace_path: str, program_digest: str, program: str, expr: str) -> None:
        self.trace_path = trace_path
        self.program_digest = program_digest
        self.program = program
        self.expr = expr
        self._symbols: Symbols | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_symbols": None}

    def __call__(self, tl: Timeline, hit: ScanHit) -> object:
        if self._symbols is None:
            self._symbols = Symbols(TraceDir(self.trace_path).load_file(self.program_digest), self.program)
        scope = StopScope(self._symbols, hit.pc, tl.read_register, tl.read_memory, tl.arch)
        try:
            lv = Parser(scope, tokens(self.expr), self.expr).parse()
            if lv.value is not None and lv.ctype is not None and lv.ctype.size in (1, 2, 4, 8) \
                    and lv.ctype.kind in ("int", "uint", "char", "pointer"):
                size = lv.ctype.size        # a variable in a register: its type's low bytes
                return (lv.ctype.kind, (lv.value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"), size)
            if lv.value is not None:
                return ("int", lv.value, 8)
            size = lv.ctype.size if lv.ctype is not None and lv.ctype.size else 8
            kind = lv.ctype.kind if lv.ctype is not None else "int"
            return (kind, tl.read_memory(lv.address or 0, min(size, 4096)), size)
        except (CommandError, Exception) as exc:    # a bad pointer at one hit is that hit's value
            return ("error", str(exc), 0)


class CallProbe:
    """At a function's entry: argument registers, stack pointer, return address (on the
    stack, or in the link register); at its returns: the stack pointer (as at the entry)
    and the result register."""

    def __init__(self, entry: int, debug: DebugInfo, sp: str) -> None:
        self.entry = entry
        self.sp = sp
        self.args = debug.argument_registers[:6]
        self.result = debug.return_register
        self.link = debug.link_register

    def __call__(self, tl: Timeline, hit: ScanHit) -> object:
        sp = tl.read_register(self.sp)
        if hit.pc == self.entry:
            ret = tl.read_register(self.link) if self.link else struct.unpack("<Q", tl.read_memory(sp, 8))[0]
            return ("entry", sp, ret, tuple(tl.read_register(r) for r in self.args))
        return ("ret", sp, tl.read_register(self.result))


# -- the engine-facing part ----------------------------------------------------------------------
class QueryRunner:
    """Answers questions about one trace (the timeline is used for symbols'
    memory, code and the end; it is left where it was)."""

    def __init__(self, trace: TraceDir, contents, timeline: Timeline, symbols: Symbols | None,
                 name_at: Callable[[int], str | None] | None = None,
                 note: Callable[[str], None] | None = None) -> None:
        self.trace = trace
        self.contents = contents
        self.tl = timeline
        self.symbols = symbols
        self.name_at = name_at or (symbols.name_at if symbols is not None else (lambda a: None))
        self.note = note or (lambda m: None)
        self.pid = timeline.pid                  # the debugged process: scans see it alone
        self._places: dict[int, dict] = {}       # pc -> function, file, line

    # -- log queries --------------------------------------------------------------------------
    def _log_rows(self, q: Question) -> list[dict]:
        rows = []
        want = q.args[0].lower() if q.args else None
        numbers = self.tl.arch.syscall_numbers      # the trace's architecture's, as its log's
        for i, ev in enumerate(self.contents.events):
            if ev.icount < q.start or (q.end is not None and ev.icount >= q.end):
                continue
            text = ev.describe()
            if q.kind == "events":
                if want and ev.kind.name.lower() != want:
                    continue
                rows.append(self._row(ev.icount, None, self.tl.runner(max(ev.icount - 1, 0)), event=i,
                                      kind=ev.kind.name.lower(),
                                      detail=text.partition(" ")[2], goto=ev.icount))
                continue
            name = _syscall_of(ev, text)
            if name is None or (want and name != want):
                continue
            number = ev.sysno if ev.kind == EventKind.SYSCALL else numbers.get(name)
            detail = text.partition(" ")[2]
            rows.append(self._row(ev.icount, None, self.tl.runner(max(ev.icount - 1, 0)), event=i, syscall=name,
                                  number=number, detail=detail.removeprefix(f"{name} (nr {number}) "),
                                  goto=ev.icount))
        return rows

    # -- scans -------------------------------------------------------------------------------
    def _symbols_needed(self) -> Symbols:
        if self.symbols is None:
            raise QueryError("the program has no symbols: use addresses")
        return self.symbols

    def _code_address(self, text: str) -> int:
        n = _int(text.lstrip("*"))
        if n is not None:
            return n
        sym = self._symbols_needed()
        name = text.lstrip("*")
        f = sym.function_named(name)
        if f is not None:
            return f.low
        s = sym.by_name.get(name)
        if s is not None:
            return s.address
        try:
            return sym.resolve(text)
        except SymbolError as exc:
            raise QueryError(str(exc)) from None

    def _range(self, text: str) -> tuple[int, int, CType | None]:
        m = re.fullmatch(r"(.*?):(\d+)", text)
        length = None
        if m and not re.fullmatch(r".*\.[ch]", m.group(1)):
            text, length = m.group(1), int(m.group(2))
        n = _int(text)
        if n is not None:
            return n, length or 8, None
        scope = GlobalScope(self.symbols, self.tl.read_register, self.tl.read_memory, self.tl.arch)
        lv = _lvalue(scope, text)
        if lv.address is None:
            raise QueryError(f"{text} is not in memory")
        size = lv.ctype.size if lv.ctype is not None and lv.ctype.size else 8
        return lv.address, length or size, lv.ctype

    def ask(self, q: Question, jobs: int | None = None,
            emit: Callable[[list[dict]], None] | None = None) -> Answer:
        """The answer; with `emit`, the rows of a scan go to it as they are found
        (in order, numbered) instead of into the answer, so many hits need not fit
        in memory at once (log queries and origin still return their rows)."""
        if q.kind in ("syscalls", "events"):
            if len(q.args) > 1:
                raise QueryError(f"{q.kind} takes at most one name")
            rows = self._log_rows(q)
            return self._finish(rows, f"{len(rows)} hits from the log (no replay)", [])
        store = ensure_keyframes(self.trace, self.note)
        if q.kind == "origin":
            return self._origin(q)
        spec, decode = self._plan(q)
        feed, flush = (decode.feed, decode.flush) if isinstance(decode, _CallRows) else (decode, list)
        rows: list[dict] = []
        count = 0

        def number(found: list[dict]) -> None:     # a part's rows, to `emit` in one go (one write)
            nonlocal count
            for row in found:
                count += 1
                row["index"] = count
            if emit is None:
                rows.extend(found)
            elif found:
                emit(found)

        result = scan(self.trace, spec, q.start, q.end, jobs=q.jobs or jobs, store=store, pid=self.pid,
                      cluster=q.cluster, on_part=lambda part: number(list(feed(part))))
        number(list(flush()))
        summary = (f"{count} hits, {result.scanned:,} instructions scanned in {result.seconds:.2f} s "
                   f"by {result.workers} worker{'s' if result.workers != 1 else ''} "
                   f"({result.segments} segment{'s' if result.segments != 1 else ''}"
                   f"{' on ' + q.cluster if q.cluster else ''})")
        return Answer(rows, summary, result.notes)

    def _origin(self, q: Question) -> Answer:
        if not q.args:
            raise QueryError("usage: origin EXPR [--at N] [--depth D]")
        started = time.monotonic()
        end = self.tl.end.icount
        at = end if q.at is None else min(q.at, end)
        here = self.tl.position
        self.tl.seek(at)              # for the lvalue, and for decoding code mapped later (libraries)
        try:
            address, size, ctype = self._range(" ".join(q.args))
            value = self.tl.read_memory_prefix(address, size)
            return self._explain(q, at, address, size, ctype, value, started)
        finally:
            self.tl.seek(here)

    def _explain(self, q: Question, at: int, address: int, size: int, ctype: CType | None, value: bytes,
                 started: float) -> Answer:
        from .origin import OriginTracer
        end = self.tl.end.icount

        def insn(pc: int) -> str:
            i = self.tl.instruction_at(pc)
            return i.text() if i is not None else "?"
        tracer = OriginTracer(self.trace, end, insn, self.contents.events,
                              lambda ev: _syscall_of(ev, ev.describe()) or ev.kind.name.lower(), pid=self.pid)
        root = tracer.explain(address, size, value, at, q.depth)
        rows: list[dict] = []

        def walk(node, level: int, parent: int | None) -> None:
            row = self._row(node.icount if node.icount is not None else -1, node.pc, depth=level,
                            parent=parent, step=node.what, address=node.address, size=node.size,
                            value=_show(node.value, ctype if level == 0 else None) if node.value else "",
                            text=node.text, goto=(node.icount + 1) if node.icount is not None else 0)
            rows.append(row)
            me = len(rows)
            for child in node.children:
                walk(child, level + 1, me)
        walk(root, 0, None)
        summary = (f"{len(rows)} steps, {tracer.scanned:,} instructions scanned in "
                   f"{time.monotonic() - started:.2f} s by 1 worker")
        return self._finish(rows, summary, [])

    def _finish(self, rows: list[dict], summary: str, notes: list[str]) -> Answer:
        for i, row in enumerate(rows, 1):
            row["index"] = i
        return Answer(rows, summary, notes)

    def _plan(self, q: Question) -> tuple[ScanSpec, Callable[[list[ScanHit]], list[dict]]]:
        a = q.args
        if q.kind == "exec":
            if len(a) != 1:
                raise QueryError("usage: exec ADDRESS|SYMBOL")
            addr = self._code_address(a[0])
            return ScanSpec(collect=frozenset({addr})), self._exec_rows
        if q.kind == "lines":
            if len(a) != 1 or ":" not in a[0]:
                raise QueryError("usage: lines FILE:LINE")
            file, _, line = a[0].rpartition(":")
            try:
                addr = self._symbols_needed().resolve_line(file, int(line))
            except (SymbolError, ValueError) as exc:
                raise QueryError(str(exc) or f"bad line {a[0]}") from None
            return ScanSpec(collect=frozenset({addr})), self._exec_rows
        if q.kind in ("writes", "reads"):
            if len(a) != 1:
                raise QueryError(f"usage: {q.kind} LOCATION[:LEN]")
            address, length, ctype = self._range(a[0])
            if not 0 < length <= 4096:
                raise QueryError("a watched range is 1 to 4096 bytes")
            spec = ScanSpec(watches=(WatchRange(address, length, q.kind[:-1]),))
            return spec, lambda hits: self._access_rows(hits, ctype)
        if q.kind == "calls":
            if len(a) != 1:
                raise QueryError("usage: calls FUNCTION")
            return self._calls_plan(a[0])
        if q.kind == "values":
            if "at" not in a or a.index("at") == 0 or a.index("at") == len(a) - 1:
                raise QueryError("usage: values EXPR at LOCATION")
            cut = len(a) - 1 - a[::-1].index("at")
            expr, where = " ".join(a[:cut]), " ".join(a[cut + 1:])
            sym = self._symbols_needed()
            try:
                addr = sym.resolve(where) if _int(where) is None else _int(where)
            except SymbolError as exc:
                raise QueryError(str(exc)) from None
            h = self.contents.header
            probe = ValueProbe(self.trace.path, h.program_sha256, h.program, expr)
            # the expression's syntax and names, checked before the scan
            _lvalue(StopScope(self.symbols, addr, lambda n: 0, lambda x, n: bytes(n), self.tl.arch), expr)
            return ScanSpec(stops=frozenset({addr}), probe=probe), self._value_rows
        raise QueryError(f"usage: {USAGE}")

    def _calls_plan(self, name: str) -> tuple[ScanSpec, Callable[[list[ScanHit]], list[dict]]]:
        entry = self._code_address(name)
        sym = self.symbols
        f = sym.function_at(entry) if sym is not None else None
        high = f.high if f is not None and f.low == entry else None
        if high is None and sym is not None:
            found = sym.symbolize(entry)
            if found is not None and found[1] == 0 and found[0].size:
                high = entry + found[0].size
        if high is None:
            raise QueryError(f"the extent of {name} is unknown (no symbol size): cannot find its returns")
        debug = self.tl.arch.debug
        assert debug is not None            # the CLI refuses an architecture without it
        rets = set()
        pc = entry
        while pc < high:
            insn = self.tl.instruction_at(pc)
            if insn is None:
                break
            if insn.mnemonic in debug.return_mnemonics:
                rets.add(pc)
            pc += insn.size
        spec = ScanSpec(stops=frozenset({entry, *rets}), probe=CallProbe(entry, debug, self.tl.arch.sp))
        return spec, _CallRows(self)

    # -- rows ---------------------------------------------------------------------------------
    def _where(self, pc: int | None) -> dict:
        if pc is None:
            return {"function": None, "file": None, "line": None}
        known = self._places.get(pc)
        if known is None:
            known = self._places[pc] = self._place(pc)
        return dict(known)

    def _place(self, pc: int) -> dict:
        name = self.name_at(pc)
        row = self.symbols.line_at(pc) if self.symbols is not None else None
        return {"function": name.split("+")[0] if name else None,
                "file": os.path.basename(row.file) if row else None, "line": row.line if row else None}

    def _row(self, icount: int, pc: int | None, thread: int | None = None, **fields: object) -> dict:
        """A row; `thread`: the tid that ran the instruction after `icount` (default: the log's say)."""
        if thread is None:
            thread = self.tl.runner(max(icount, 0))
        return {"icount": icount, "pc": pc, **self._where(pc), "thread": thread, **fields}

    def _exec_rows(self, hits: list[ScanHit]) -> list[dict]:
        return [self._row(h.icount, h.pc, h.thread, goto=h.icount) for h in hits if h.kind in ("exec", "stop")]

    def _access_rows(self, hits: list[ScanHit], ctype: CType | None) -> list[dict]:
        rows = []
        events = self.contents.events
        for h in hits:
            if h.kind not in ("write", "read", "syscall"):
                continue
            fields: dict = {"access": h.kind, "address": h.address, "size": h.size}
            if h.kind == "syscall" and isinstance(h.data, tuple):
                ev = events[h.data[0]]
                fields["event"] = h.data[0]
                fields["syscall"] = _syscall_of(ev, ev.describe()) or ev.kind.name.lower()
            if h.kind in ("write", "syscall"):
                fields["old"] = _show(h.old, ctype)
                fields["new"] = _show(h.new, ctype)
            else:
                fields["value"] = _show(h.old, ctype)
            rows.append(self._row(h.icount, h.pc, h.thread, **fields, goto=h.icount + 1))
        return rows

    def _value_rows(self, hits: list[ScanHit]) -> list[dict]:
        rows = []
        for h in hits:
            kind, raw, size = h.data if isinstance(h.data, tuple) else ("error", "no value", 0)
            if kind == "error":
                value = f"<{raw}>"
            elif kind == "int" and isinstance(raw, int):
                value = str(raw - (1 << 64) if raw >> 63 else raw)
            else:
                value = _show(raw, CType("", size, kind))
            rows.append(self._row(h.icount, h.pc, h.thread, value=value, goto=h.icount))
        return rows

    def _params(self, entry: int, regs: tuple[int, ...]) -> list[dict] | None:
        """The function's parameters by DWARF, named and typed, valued from the argument
        registers in order (System V: integer and pointer parameters take rdi, rsi, ...;
        a float, double or struct parameter is listed without a value, and later ones
        too, since where they went depends on it)."""
        f = self.symbols.function_at(entry) if self.symbols is not None else None
        if f is None or f.low != entry:
            return None
        out = []
        slot = 0
        for p in f.params:
            value = _param_value(p.ctype, regs[slot]) if slot is not None and slot < len(regs) else None
            if value is None:
                slot = None
            else:
                slot += 1
            out.append({"name": p.name, "type": p.ctype.name, "value": value})
        return out


class _CallRows:
    """Rows of `calls` from its entry and return hits, fed in instruction-count
    order, part by part: an entry opens a row, the return at the same stack
    pointer closes it (and abandons the calls opened inside it that never
    returned: longjmp, a tail call out).  A row is handed out once it and all
    earlier rows are closed; `flush` hands out the rest at the end."""

    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner
        self.pending: deque[list] = deque()          # [row, closed]
        self.open: list[tuple[int, list]] = []       # (rsp at entry, pending item)

    def feed(self, hits: list[ScanHit]) -> list[dict]:
        runner = self.runner
        for h in hits:
            data = h.data
            if not isinstance(data, tuple):
                continue
            if data[0] == "entry":
                _, rsp, ret, args = data
                caller = runner._where(ret - 1)
                row = runner._row(h.icount, h.pc, h.thread, args=[_signed(v) for v in args],
                                  params=runner._params(h.pc, args), caller_pc=ret,
                                  caller=f"{caller['file']}:{caller['line']}" if caller["file"] else
                                  (runner.name_at(ret) or f"{ret:#x}"),
                                  **{"return": None, "return_icount": None}, goto=h.icount)
                item = [row, False]
                self.pending.append(item)
                self.open.append((rsp, item))
            elif data[0] == "ret":
                _, rsp, rax = data
                for j in range(len(self.open) - 1, -1, -1):
                    if self.open[j][0] == rsp:
                        row = self.open[j][1][0]
                        row["return"] = _signed(rax)
                        row["return_icount"] = h.icount + 1
                        for _, item in self.open[j:]:
                            item[1] = True
                        del self.open[j:]
                        break
        ready = []
        while self.pending and self.pending[0][1]:
            ready.append(self.pending.popleft()[0])
        return ready

    def flush(self) -> list[dict]:
        rest = [item[0] for item in self.pending]
        self.pending.clear()
        self.open.clear()
        return rest

    def __call__(self, hits: list[ScanHit]) -> list[dict]:
        return self.feed(hits) + self.flush()


def _param_value(ctype: CType, raw: int) -> int | None:
    """A parameter passed in an integer register, as its type reads it (None: not an integer class)."""
    if ctype.kind not in ("int", "uint", "char", "pointer") or ctype.size not in (1, 2, 4, 8):
        return None
    value = raw & ((1 << (8 * ctype.size)) - 1)
    if ctype.kind in ("int", "char") and value >> (8 * ctype.size - 1):
        value -= 1 << (8 * ctype.size)
    return value


def _number(v: int | None) -> str:
    return "?" if v is None else f"{v:#x}" if abs(v) > 0xFFFF else str(v)


def _signed(v: int) -> int:
    return v - (1 << 64) if v >> 63 else v


def _show(raw: bytes, ctype: CType | None) -> str:
    if ctype is not None and ctype.kind in ("int", "uint", "char") and len(raw) in (1, 2, 4, 8):
        return str(int.from_bytes(raw, "little", signed=ctype.kind != "uint"))
    if ctype is None and len(raw) in (1, 2, 4, 8):
        return str(int.from_bytes(raw, "little", signed=True))
    if ctype is not None and ctype.kind == "pointer" and len(raw) == 8:
        return f"{int.from_bytes(raw, 'little'):#x}"
    return raw.hex()


_LOGGED_SYSCALL = {EventKind.CHAR_READ: "read", EventKind.CHAR_WRITE: "write", EventKind.FILE_OPEN: "openat"}


def _syscall_of(ev, text: str) -> str | None:
    """The system call a log event answers (None: not a system call's)."""
    if ev.kind == EventKind.SYSCALL:
        return text.split()[1] if len(text.split()) > 1 else None
    if ev.kind in _LOGGED_SYSCALL:
        return _LOGGED_SYSCALL[ev.kind]
    if ev.kind in (EventKind.CLOCK, EventKind.RANDOM):
        name = text.split()[1] if len(text.split()) > 1 else ""
        return name if name in ("clock_gettime", "gettimeofday", "time", "getrandom", "clock_getres") else None
    return None


# -- output ------------------------------------------------------------------------------------
_KIND_COLUMNS = {
    "syscalls": ("syscall", "number", "detail"), "events": ("kind", "detail"),
    "exec": (), "lines": (), "writes": ("syscall", "address", "size", "old", "new"),
    "reads": ("address", "size", "value"),
    "calls": ("args", "return", "return_icount", "caller"), "values": ("value",), "origin": (),
}


def render_json(rows: list[dict]) -> str:
    return "\n".join(json.dumps({k: v for k, v in r.items() if k != "goto"}) for r in rows)


def render_tree(rows: list[dict]) -> str:
    out = []
    for r in rows:
        where = r["function"] or ""
        if r["file"]:
            where += f" at {r['file']}:{r['line']}"
        at = f"{r['icount']:,}" if r["icount"] >= 0 else "-"
        head = f"#{r['index']:<3} {'  ' * r['depth']}{r['step']}"
        value = f" = {r['value']}" if r["value"] != "" else ""
        text = f"  {r['text']}" if r["text"] else ""
        pc = f" {r['pc']:#x}" if r["pc"] is not None else ""
        out.append(f"{head}{value}  [{at}{pc} {where}]{text}  ({r['address']:#x}, {r['size']} bytes)")
    return "\n".join(out)


def render_table(kind: str, rows: list[dict]) -> str:
    if kind == "origin":
        return render_tree(rows)
    if not rows:
        return "No hits."
    out = []
    for r in rows:
        where = r["function"] or (f"{r['pc']:#x}" if r["pc"] is not None else "")
        if r["file"]:
            where += f" at {r['file']}:{r['line']}"
        parts = [f"#{r['index']:<4}", f"{r['icount']:>12,}"]
        if r["pc"] is not None:
            parts.append(f"{r['pc']:#x}")
        parts.append(where)
        for col in _KIND_COLUMNS[kind]:
            v = r.get(col)
            if v is None and (col == "syscall" and kind == "writes" or col == "number"):
                continue
            if col == "address":
                v = f"{v:#x}"
            elif col == "args" and r.get("params") is not None:
                v = "(" + ", ".join(f"{p['name']}={_number(p['value'])}" for p in r["params"]) + ")"
            elif col == "args":
                v = "(" + ", ".join(_number(a) for a in v[:3]) + ", ...)"
            elif col == "return_icount" and v is not None:
                v = f"@{v:,}"
            parts.append(f"{col}={v}" if col not in ("detail", "args") else str(v))
        out.append("  ".join(p for p in parts if p))
    return "\n".join(out)


def goto_target(rows: list[dict], text: str) -> int:
    """The position of hit `#N` of the last query."""
    m = re.fullmatch(r"#(\d+)", text.strip())
    if m is None:
        raise QueryError(f"not a hit number: {text!r} (goto #N)")
    n = int(m.group(1))
    if not rows:
        raise QueryError("no query hits: run a query first")
    if not 1 <= n <= len(rows):
        raise QueryError(f"no hit #{n} (the last query had {len(rows)})")
    return rows[n - 1]["goto"]
